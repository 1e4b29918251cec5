//! Reading a scenario's bytes: from a regular file, or from standard input
//! for `-`, never more than [`MAX_INPUT_BYTES`].
//!
//! Anything else is refused before it is opened: reading `/dev/zero` would
//! never end, and opening a named pipe with no writer blocks forever.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use super::limits::MAX_INPUT_BYTES;
use super::LoadError;

/// What standard input is called in messages.
pub(crate) const STDIN_NAME: &str = "<stdin>";

fn whole_file(file: &str, message: String, hint: Option<&str>) -> LoadError {
    LoadError {
        file: file.to_string(),
        line: 0,
        column: 0,
        field: String::new(),
        message,
        hint: hint.map(str::to_string),
    }
}

/// The name the input goes by in messages, and its bytes.
pub(crate) fn read(path: &Path) -> Result<(String, Vec<u8>), LoadError> {
    if path.as_os_str() == "-" {
        return Ok((STDIN_NAME.to_string(), stdin()?));
    }
    let file = path.display().to_string();
    let cannot = |e: std::io::Error| whole_file(&file, format!("cannot read the scenario file: {e}"), None);
    // Checked before opening: opening a FIFO blocks until someone writes to it.
    let meta = std::fs::metadata(path).map_err(cannot)?;
    check_kind(&meta, &file)?;
    let handle = File::open(path).map_err(cannot)?;
    // Checked again on what was opened, in case the path changed in between.
    check_kind(&handle.metadata().map_err(cannot)?, &file)?;
    Ok((file.clone(), read_bounded(handle, &file)?))
}

/// Standard input, read once per process: `compare -` loads the scenario once
/// per preset, and a second read of the stream would find it empty.
fn stdin() -> Result<Vec<u8>, LoadError> {
    static STDIN: OnceLock<Result<Vec<u8>, LoadError>> = OnceLock::new();
    STDIN.get_or_init(|| read_bounded(std::io::stdin().lock(), STDIN_NAME)).clone()
}

/// Refuses what is not a regular file, saying what it is.
fn check_kind(meta: &Metadata, file: &str) -> Result<(), LoadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() { "a directory" } else { special_kind(meta) };
    let hint = if kind.is_dir() {
        "give one scenario file; `streamsim check DIR` runs every scenario in a directory"
    } else {
        "give a scenario file, or `-` to read the scenario from standard input"
    };
    Err(whole_file(file, format!("cannot read the scenario file: it is {what}, not a regular file"), Some(hint)))
}

#[cfg(unix)]
fn special_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_meta: &Metadata) -> &'static str {
    "a special file"
}

/// Reads at most one byte more than the limit, so that an endless or huge
/// input costs no more memory than the limit.
fn read_bounded(reader: impl Read, file: &str) -> Result<Vec<u8>, LoadError> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| whole_file(file, format!("cannot read the scenario file: {e}"), None))?;
    check_size(bytes.len(), file)?;
    Ok(bytes)
}

/// Refuses input over [`MAX_INPUT_BYTES`].
pub(crate) fn check_size(len: usize, file: &str) -> Result<(), LoadError> {
    if len <= MAX_INPUT_BYTES {
        return Ok(());
    }
    Err(whole_file(
        file,
        format!("the scenario is larger than {} MiB", MAX_INPUT_BYTES >> 20),
        Some("a scenario file is a few kilobytes; is this the right file?"),
    ))
}
