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

#[test]
fn colour_follows_color_and_no_color() {
    let args = ["check", "scenarios/at-most-once.yaml"];
    let (_, plain, _) = streamsim(&args);
    assert!(plain.starts_with("pass  at-most-once") && !plain.contains('\x1b'), "a pipe gets plain text: {plain}");
    let (_, always, _) = streamsim(&[&args[..], &["--color", "always"]].concat());
    assert!(always.starts_with("\x1b[32mpass\x1b[0m  at-most-once"), "{always:?}");
    let (_, never, _) = streamsim_env(&[&args[..], &["--color", "never"]].concat(), &[("NO_COLOR", "1")]);
    assert_eq!(never, plain);
    let (code, _, err) = streamsim(&["check", "scenarios/at-most-once.yaml", "--color", "sometimes"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: auto, always, never"), "{err}");
}

#[test]
fn a_failed_run_is_red_when_colour_is_forced() {
    let (code, out, _) = streamsim(&["run", "examples/scenarios/faults-at-least-once.yaml", "--color", "always", "-q"]);
    assert_eq!(code, 1);
    assert!(out.contains("\x1b[1;31mFAIL\x1b[0m  duplicates"), "{out}");
}

/// Every `actual` of the expectations table starts in one column.
#[test]
fn the_expectations_table_is_aligned() {
    let (_, out, _) = streamsim(&["run", "scenarios/homework.yaml"]);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("    pass  ")).collect();
    assert!(rows.len() >= 8, "{out}");
    let columns: Vec<usize> = rows.iter().map(|r| r.find("actual").expect("an actual")).collect();
    assert!(columns.iter().all(|&c| c == columns[0]), "{rows:#?}");
}

#[test]
fn counts_of_one_are_singular() {
    let (code, out, _) = streamsim(&["validate", "scenarios/homework.yaml"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("3 brokers, 1 topic (6 partitions), 1 producer, 3 consumers, 1 fault, 8 expectations"),
        "{out}"
    );
    let (_, out, _) = streamsim(&["check", "scenarios/homework.yaml"]);
    assert!(out.contains("\n1 scenario: 1 passed"), "{out}");
}

/// Off a terminal no progress line is printed (a log would keep a stale "19%"); -q keeps
/// stderr free of notes too.
#[test]
fn piped_stderr_gets_no_progress_and_quiet_no_notes() {
    let (code, _, err) = streamsim(&["run", "scenarios/backpressure.yaml"]);
    assert_eq!(code, 0);
    assert!(!err.contains("of virtual time"), "{err}");
    let (code, _, err) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..2", "-j", "64", "-q"]);
    assert_eq!(code, 0);
    assert!(err.is_empty(), "{err}");
    let (_, _, err) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..2", "-j", "64"]);
    assert!(err.contains("note: --jobs 64 capped"), "without -q the note is there: {err}");
}

#[test]
fn short_flags_stand_for_the_common_options() {
    let (_, long, _) = streamsim(&["run", "scenarios/at-most-once.yaml", "--seed", "3", "--json"]);
    let (code, short, _) = streamsim(&["run", "scenarios/at-most-once.yaml", "-s", "3", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(short, long);
    let (code, out, _) = streamsim(&["explain", "scenarios/at-most-once.yaml", "-k", "lost", "-n", "1"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn completions_are_printed_for_each_shell_and_an_unknown_shell_is_refused() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = streamsim(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("streamsim") && out.contains("sweep") && out.contains("seeds"), "{shell}: {out}");
    }
    let (code, _, err) = streamsim(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values") && err.contains("bash"), "{err}");
}

#[test]
fn validate_prints_json() {
    let (code, out, _) = streamsim(&["validate", "scenarios/homework.yaml", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON only");
    assert_eq!(
        (j["scenario"].as_str(), j["ok"].as_bool(), j["topics"].as_u64()),
        (Some("homework"), Some(true), Some(1))
    );
    assert_eq!(j["expectations"], 8);
}

#[test]
fn jobs_0_is_refused_with_a_hint() {
    let (code, out, err) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..2", "--jobs", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty() && err.contains("hint: leave --jobs out"), "{err}");
}

/// A report, a failure, a file without `expect:` under --require-expect, and a file that
/// does not load: one JUnit testcase each.
#[test]
fn check_writes_junit_and_json_and_require_expect_fails_a_file_without_expect() {
    let at_most_once =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/at-most-once.yaml")).unwrap();
    let start = at_most_once.find("expect:").unwrap();
    let no_expect = scratch("no-expect.yaml", &at_most_once[..start].replace("name: at-most-once", "name: no-expect"));
    let broken = scratch("broken.yaml", "name: broken\nbrokers: [\n");
    let junit = scratch("junit.xml", "");
    let files = [
        "scenarios/at-most-once.yaml",
        "examples/scenarios/faults-at-least-once.yaml",
        no_expect.to_str().unwrap(),
        broken.to_str().unwrap(),
    ];
    let (code, out, err) =
        streamsim(&[&["check"], &files[..], &["--require-expect", "--junit", junit.to_str().unwrap()]].concat());
    assert_eq!(code, 2, "one could not run: {err}");
    assert!(out.contains("FAIL  no-expect") && out.contains("--require-expect"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let dir = no_expect.parent().unwrap().display().to_string();
    insta::with_settings!({ filters => vec![(regex_escape(&dir).as_str(), "[TMP]")] }, {
        insta::assert_snapshot!("check_junit", xml);
    });
    let (code, out, _) = streamsim(&[&["check"], &files[..2], &["--json"]].concat());
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON only on stdout");
    assert_eq!((j["passed"].as_u64(), j["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(j["scenarios"][1]["verdict"], "fail");
    assert_eq!(j["scenarios"][1]["name"], "faults-at-least-once");
    let (code, _, _) = streamsim(&["check", no_expect.to_str().unwrap()]);
    assert_eq!(code, 0, "without --require-expect a file without expect passes");
}

#[test]
fn check_junit_into_a_missing_folder_exits_2() {
    let (code, _, err) = streamsim(&["check", "scenarios/at-most-once.yaml", "--junit", "/nonexistent/dir/junit.xml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("JUnit"), "{err}");
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_ascii_alphanumeric() || c == '/' { vec![c] } else { vec!['\\', c] }).collect()
}

/// sweep shows every metric, zeros included, lists the failing seeds per expectation, and its
/// hints lead to the stories of the failing count and to a shrink.
#[test]
fn sweep_report_lists_every_metric_and_every_failing_seed() {
    let (code, out, err) =
        streamsim(&["sweep", "examples/scenarios/faults-at-least-once.yaml", "--seeds", "0..3", "-q"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("  lost                                    0            0            0"), "{out}");
    insta::with_settings!({ filters => vec![(r"\d+\.\d+s", "[T]")] }, {
        insta::assert_snapshot!("sweep_report", out);
    });
}

/// A failure by absence (redelivered > 0 on a seed with none) points beside a passing seed,
/// not at explain or minimize, which have nothing to work on.
#[test]
fn sweep_hints_for_an_absence_lead_to_a_passing_seed() {
    let homework = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/homework.yaml")).unwrap();
    let f = scratch("absent-sweep.yaml", &homework.replace("expect:\n", "expect:\n  redelivered: \"> 0\"\n"));
    let (code, out, _) = streamsim(&["sweep", f.to_str().unwrap(), "--seeds", "0..6", "-q"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("absent on this seed") && out.contains("(a seed where it holds)"), "{out}");
    assert!(!out.contains("--minimize"), "{out}");
}
