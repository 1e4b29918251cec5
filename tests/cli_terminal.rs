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

#[test]
fn compare_runs_files_side_by_side() {
    let (code, out, err) = streamsim(&["compare", "scenarios/at-most-once.yaml", "scenarios/at-least-once.yaml", "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("streamsim compare: at-most-once (seed 2), at-least-once (seed 2)\n"), "{out}");
    let header = out.lines().nth(2).expect("a header row");
    assert_eq!(header.split_whitespace().collect::<Vec<_>>(), ["at-most-once", "at-least-once"], "{out}");
    let (code, out, _) =
        streamsim(&["compare", "scenarios/at-most-once.yaml", "scenarios/at-least-once.yaml", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON only on stdout");
    let cols = j["compare"].as_array().expect("a list");
    assert_eq!(cols.len(), 2);
    assert_eq!(cols[1]["label"], "at-least-once");
    assert_eq!(cols[1]["file"], "scenarios/at-least-once.yaml");
    assert_eq!(cols[1]["summary"]["lost"], 0);
    assert!(cols[0]["summary"]["lost"].as_u64().unwrap() > 0, "at-most-once loses: {out}");
}

/// Two files with the same `name:` get their file stems as labels.
#[test]
fn compare_labels_files_of_one_name_by_their_stems() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/at-most-once.yaml")).unwrap();
    let twin = scratch("twin.yaml", &text);
    let (code, out, err) = streamsim(&["compare", "scenarios/at-most-once.yaml", twin.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["compare"][0]["label"], "at-most-once");
    assert_eq!(j["compare"][1]["label"], "twin");
}

/// acks-1-leader-failover writes `acks: 1`: its at-least-once column is not at-least-once.
#[test]
fn compare_warns_when_the_file_overrides_a_preset_naming_the_fields() {
    let (code, _, err) =
        streamsim(&["compare", "scenarios/acks-1-leader-failover.yaml", "--semantics", "at-least-once"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: scenarios/acks-1-leader-failover.yaml overrides the at-least-once preset: app acks=1 (the preset sets all)"),
        "{err}"
    );
    let (_, _, err) = streamsim(&["compare", "scenarios/homework.yaml", "--semantics", "at-least-once", "-q"]);
    assert!(!err.contains("overrides"), "homework writes no delivery config: {err}");
}

/// Exactly-once sets a transactional.id, which Kafka refuses with acks=1: the column cannot
/// run, and compare says so and exits 2 after showing the columns that ran.
#[test]
fn compare_exits_2_when_a_preset_cannot_apply_with_the_reason() {
    let (code, out, err) = streamsim(&[
        "compare",
        "scenarios/acks-1-leader-failover.yaml",
        "--semantics",
        "at-least-once,exactly-once",
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("at-least-once") && !out.contains("exactly-once"), "{out}");
    assert!(err.contains("the exactly-once preset cannot apply") && err.contains("acks is 1"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}
