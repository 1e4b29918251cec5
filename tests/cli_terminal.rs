//! The command line's first hour: minimize's refusals, compare of files, colour, plurals,
//! --quiet, --json, completions, JUnit, and bad input to each new flag (exit 2 with a hint).

use std::path::PathBuf;
use std::process::Command;

fn streamsim_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamsim"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn streamsim(args: &[&str]) -> (i32, String, String) {
    streamsim_env(args, &[])
}

/// A scratch file holding `text`.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-terminal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

/// homework at seed 3 redelivers nothing (the crash falls after the last commit); an
/// expectation that it redelivers fails by absence, and an empty scenario lacks it too.
#[test]
fn minimize_refuses_an_absence_only_failure_with_a_hint() {
    let homework = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/homework.yaml")).unwrap();
    let text = homework.replace("expect:\n", "expect:\n  redelivered: \"> 0\"\n");
    let f = scratch("absent.yaml", &text);
    let (code, _, err) = streamsim(&["explain", f.to_str().unwrap(), "--seed", "3", "--minimize"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("every failed expectation is an absence: redelivered"), "{err}");
    assert!(err.contains("hint:") && err.contains("sweep"), "{err}");
}

/// The minimized file tells its own story: the original's header (about faults that are gone)
/// is dropped, and the file still fails the expectation.
#[test]
fn minimize_shrinks_a_real_failure_and_drops_the_stale_header() {
    let (code, out, err) = streamsim(&["explain", "examples/scenarios/faults-at-least-once.yaml", "--minimize"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# Minimized by `streamsim explain --minimize`: still fails `duplicates`."), "{out}");
    assert!(!out.contains("a hope that fails"), "the original header is gone:\n{out}");
    assert!(out.contains("crash: billing-0") && !out.contains("broker-1"), "only the crash that matters:\n{out}");
    let f = scratch("small.yaml", &out);
    let (code, _, _) = streamsim(&["run", f.to_str().unwrap()]);
    assert_eq!(code, 1, "the smaller scenario still fails");
}
