//! Where a command's outputs go, checked before any work starts: never onto
//! one of its inputs, never into a report folder that will be replaced
//! whole, and the trace target opened up front (`-` is stdout).

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::error::CliError;
use crate::report::publish::{FileOutput, PublishError};

/// A flag's output path, as `refuse_overwriting` compares it.
pub struct Output<'a> {
    pub flag: &'static str,
    pub path: &'a Path,
    /// A report folder, replaced whole: what lies inside it is lost too.
    pub folder: bool,
}

/// The absolute, link-free form of `p`, also when it does not exist yet
/// (its deepest existing ancestor is resolved and the rest appended).
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = fs::canonicalize(p) {
        return Some(c);
    }
    let name = p.file_name()?;
    let parent = match p.parent() {
        Some(q) if !q.as_os_str().is_empty() => q,
        _ => Path::new("."),
    };
    Some(resolved(parent)?.join(name))
}

/// Refuses outputs that would destroy an input or each other: a file that
/// is an input, a report folder holding an input or another output.
pub fn refuse_overwriting(inputs: &[&Path], outputs: &[Output]) -> Result<(), CliError> {
    let ins: Vec<(&Path, PathBuf)> = inputs.iter().filter_map(|i| Some((*i, resolved(i)?))).collect();
    let outs: Vec<(&Output, PathBuf)> = outputs.iter().filter_map(|o| Some((o, resolved(o.path)?))).collect();
    for (o, ro) in &outs {
        for (i, ri) in &ins {
            if ri == ro {
                return Err(CliError::usage(format!(
                    "{} `{}` is the input `{}`: writing there would destroy it",
                    o.flag,
                    o.path.display(),
                    i.display()
                ))
                .hint(format!("give {} another path", o.flag)));
            }
            if o.folder && ri.starts_with(ro) {
                return Err(CliError::usage(format!(
                    "{} `{}` holds the input `{}`, and the report replaces that folder whole",
                    o.flag,
                    o.path.display(),
                    i.display()
                ))
                .hint(format!("give {} a folder of its own", o.flag)));
            }
        }
        for (f, rf) in &outs {
            if f.folder && !std::ptr::eq(*o, *f) && ro.starts_with(rf) {
                return Err(CliError::usage(format!(
                    "{} `{}` is inside {} `{}`, which the report replaces whole",
                    o.flag,
                    o.path.display(),
                    f.flag,
                    f.path.display()
                ))
                .hint(format!("give {} a path outside {}", o.flag, f.path.display())));
            }
        }
    }
    Ok(())
}

/// An output that could not be written: `what` (e.g. "the report") to `path`.
pub fn publish_error(what: &str, path: &Path, e: PublishError) -> CliError {
    let message = format!("cannot write {what} to `{}`", path.display());
    match e {
        PublishError::Refused { why, hint } => CliError::usage(format!("{message}: {why}")).hint(hint),
        PublishError::Io(e) => CliError::io(message, e),
    }
}

/// Where the JSONL trace goes.
pub enum TraceTo {
    /// `--trace -`: streamed to stdout, which then holds nothing else.
    Stdout,
    /// A file (staged, and put in place when the run is complete), or a FIFO
    /// or device written straight.
    File { path: PathBuf, out: FileOutput },
}

impl TraceTo {
    /// Opens the trace target before the run, so a bad one fails at once.
    pub fn open(path: &Path) -> Result<TraceTo, CliError> {
        if path == Path::new("-") {
            return Ok(TraceTo::Stdout);
        }
        let out = FileOutput::create(path).map_err(|e| match e {
            PublishError::Refused { why, hint } => publish_error(
                "the trace",
                path,
                PublishError::Refused { why, hint: format!("{hint}, or `--trace -` for stdout") },
            ),
            e => publish_error("the trace", path, e),
        })?;
        Ok(TraceTo::File { path: path.to_path_buf(), out })
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self, TraceTo::Stdout)
    }
}
