//! The built binary's `validate` on every hostile input, under a 2 GiB
//! address-space limit (util-linux `prlimit`): each ends with exit code 0, 1
//! or 2 within 30 seconds — no abort on a failed allocation, no signal, no hang.

mod hostile_corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADDRESS_SPACE: &str = "--as=2147483648";
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// Runs `validate FILE` under the limit; the exit code, or why there is none.
fn validate_limited(file: &Path) -> Result<i32, String> {
    let mut child = Command::new("prlimit")
        .arg(ADDRESS_SPACE)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_streamsim"))
        .arg("validate")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run prlimit (util-linux): {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return status.code().ok_or_else(|| format!("ended by a signal: {status}"));
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {TIME_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The corpus written out as files, plus the special files the loader must refuse.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("a writable target dir");
    let mut files: Vec<PathBuf> = hostile_corpus::all()
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("writable");
            path
        })
        .collect();
    let fifo = dir.join("no-writer.fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    files.extend([PathBuf::from("/dev/zero"), PathBuf::from("/dev/urandom"), fifo, dir.to_path_buf()]);
    files
}

#[cfg(target_os = "linux")]
#[test]
fn validate_survives_every_hostile_input_in_2_gib() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-prlimit");
    let mut failures = Vec::new();
    for file in inputs(&dir) {
        match validate_limited(&file) {
            Ok(0..=2) => {}
            Ok(code) => failures.push(format!("{}: exit code {code}", file.display())),
            Err(why) => failures.push(format!("{}: {why}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
