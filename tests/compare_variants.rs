//! `compare FILE --variant 'NAME: FLAGS'`: named columns that run the file with more overrides
//! (after the global ones), beside a `baseline` column; files x presets x variants; a variant
//! that cannot apply exits 2 naming it; the JSON names each column's variant and flags; and the
//! incident twins run side by side as `compare NAME.yaml NAME-fix.yaml`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ACKS1: &str = "scenarios/acks-1-leader-failover.yaml";
const FIX: &str = "fix: --producer-property acks=all --topic-config min.insync.replicas=2";

fn streamsim(args: &[&str]) -> (i32, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_streamsim")).args(args).current_dir(ROOT).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `compare ARGS --json -q`: exit 0, and its columns.
fn columns(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    all.extend(["--json", "-q"]);
    let (code, out, err) = streamsim(&all);
    assert_eq!(code, 0, "{all:?}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}): {out}"));
    v["compare"].as_array().expect("a compare array").clone()
}

fn labels(cols: &[Value]) -> Vec<&str> {
    cols.iter().map(|c| c["label"].as_str().expect("a label")).collect()
}

fn metric(col: &Value, name: &str) -> u64 {
    col["summary"][name].as_u64().unwrap_or_else(|| panic!("{name} in {}", col["label"]))
}

#[test]
fn acks_all_with_min_insync_2_loses_no_acknowledged_write() {
    let cols = columns(&[ACKS1, "--variant", FIX]);
    assert_eq!(labels(&cols), ["baseline", "fix"]);
    let got: Vec<(u64, u64, u64)> =
        cols.iter().map(|c| (metric(c, "lost_writes"), metric(c, "lost_acked"), metric(c, "reordered"))).collect();
    // acks=1: a leader crash loses what only the leader had (seed 2: 9 records, one reordered
    // retry); acks=all with min.insync.replicas=2 acknowledges only what a follower holds.
    assert_eq!(got, [(9, 9, 1), (0, 0, 0)]);
    assert_eq!(metric(&cols[0], "produced"), metric(&cols[1], "produced"));
}

#[test]
fn the_json_names_each_columns_variant_and_flags() {
    let cols = columns(&[ACKS1, "--set", "drain=20s", "--variant", FIX, "--variant", "s3: --set seed=3"]);
    assert_eq!(labels(&cols), ["baseline", "fix", "s3"]);
    assert_eq!(cols[0]["variant"], Value::Null);
    assert_eq!(cols[1]["variant"], "fix");
    let flags = |c: &Value| -> Vec<String> {
        c["overrides"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect()
    };
    // The global flags first, then the variant's (each kind in the order the loader applies).
    assert_eq!(flags(&cols[0]), ["--set drain=20s"]);
    assert_eq!(
        flags(&cols[1]),
        ["--set drain=20s", "--topic-config min.insync.replicas=2", "--producer-property acks=all"]
    );
    assert_eq!(flags(&cols[2]), ["--set drain=20s", "--set seed=3"]);
    assert_eq!(cols.iter().map(|c| c["file"].as_str().unwrap()).collect::<Vec<_>>(), [ACKS1; 3]);
    assert_eq!(cols.iter().map(|c| metric(c, "seed")).collect::<Vec<_>>(), [2, 2, 3]);
    // Without variants the keys are there too: no variant, the global flags.
    let plain = columns(&[ACKS1, "--semantics", "at-least-once", "--topic-config", "min.insync.replicas=2"]);
    assert_eq!(
        (plain[0]["variant"].clone(), flags(&plain[0])),
        (Value::Null, vec!["--topic-config min.insync.replicas=2".into()])
    );
}

#[test]
fn a_variants_seed_wins_over_the_seed_flag() {
    let cols = columns(&[ACKS1, "--seed", "5", "--variant", "s3: --set seed=3"]);
    assert_eq!(cols.iter().map(|c| metric(c, "seed")).collect::<Vec<_>>(), [5, 3]);
}

#[test]
fn no_baseline_keeps_only_the_variants() {
    let cols = columns(&[ACKS1, "--no-baseline", "--variant", FIX, "--variant", "one: --producer-property acks=1"]);
    assert_eq!(labels(&cols), ["fix", "one"]);
    let (code, _, err) = streamsim(&["compare", ACKS1, "--no-baseline", "-q"]);
    assert_eq!(code, 2, "--no-baseline needs a --variant: {err}");
}

#[test]
fn files_presets_and_variants_make_a_product_in_order() {
    let cols = columns(&[
        "scenarios/at-most-once.yaml",
        "scenarios/at-least-once.yaml",
        "--semantics",
        "at-least-once,exactly-once",
        "--variant",
        "linger0: --producer-property linger.ms=0",
    ]);
    let want: Vec<String> = ["at-most-once", "at-least-once"]
        .iter()
        .flat_map(|f| {
            ["at-least-once", "exactly-once"]
                .iter()
                .flat_map(move |p| ["baseline", "linger0"].map(|v| format!("{f} / {p} / {v}")))
        })
        .collect();
    assert_eq!(labels(&cols), want);
    // One file with a preset: `PRESET / VARIANT`.
    let one = columns(&[ACKS1, "--semantics", "at-least-once", "--variant", FIX, "--no-baseline"]);
    assert_eq!(labels(&one), ["at-least-once / fix"]);
}

/// Runs `compare ACKS1 --variant V` and returns its exit code and stderr.
fn refused(variant: &str) -> (i32, String) {
    let (code, out, err) = streamsim(&["compare", ACKS1, "--variant", variant, "-q"]);
    assert!(out.is_empty(), "{variant}: nothing runs: {out}");
    (code, err)
}

#[test]
fn a_variant_that_cannot_apply_exits_2_naming_it_with_a_hint() {
    let cases = [
        (
            "fix: --producer-propery acks=all",
            "variant `fix`: unexpected argument `--producer-propery`",
            "--producer-property",
        ),
        ("fix: --producer-property ackz=all", "variant `fix` cannot apply to", "did you mean `acks`?"),
        ("fix: --producer-property acks=maybe", "found `maybe`", "hint: acks is `0`"),
        (
            "fix: --topic-config min.insync.replicas",
            "expected KEY=VALUE, e.g. `--topic-config min.insync.replicas=2`",
            "--topic-config K=V",
        ),
        ("fix --producer-property acks=all", "has no `:` after its name", "--variant 'NAME: FLAGS'"),
        (": --producer-property acks=all", "has an empty name", "--variant 'NAME: FLAGS'"),
        ("baseline: --set seed=1", "variant name `baseline` is taken", "choose another NAME"),
        ("fix: --seed 3", "unexpected argument `--seed`", "--set seed=N"),
        ("fix: --set 'seed=3", "a `'` is not closed", "close every quote"),
    ];
    for (variant, message, hint) in cases {
        let (code, err) = refused(variant);
        assert_eq!(code, 2, "{variant}: {err}");
        assert!(err.contains(message), "{variant}: {err}");
        let hint_line = err.lines().find(|l| l.trim_start().starts_with("hint:")).unwrap_or("");
        assert!(hint_line.contains(hint), "{variant}: the hint names `{hint}`: {err}");
    }
    let (code, _, err) = streamsim(&["compare", ACKS1, "--variant", "a: --set seed=1", "--variant", "a: --set seed=2"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("variant `a` is given twice") && err.contains("hint: give each --variant its own NAME"),
        "{err}"
    );
}

#[test]
fn a_variant_that_changes_nothing_warns() {
    let (code, _, err) = streamsim(&["compare", ACKS1, "--variant", "same: --producer-property acks=1", "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: variant `same` changes nothing"), "{err}");
    let (_, _, err) = streamsim(&["compare", ACKS1, "--variant", FIX, "-q"]);
    assert!(!err.contains("changes nothing"), "{err}");
}

#[test]
fn a_variant_run_is_the_same_bytes_twice() {
    let args = [
        "compare",
        ACKS1,
        "--variant",
        FIX,
        "--variant",
        "mis2: --topic-config min.insync.replicas=2 --set seed=3",
        "-q",
    ];
    let table = streamsim(&args);
    assert_eq!(table.0, 0, "{}", table.2);
    assert_eq!(table, streamsim(&args));
    let mut json = args.to_vec();
    json.push("--json");
    let first = streamsim(&json);
    assert_eq!(first.0, 0, "{}", first.2);
    assert_eq!(first.1, streamsim(&json).1);
    // Seeds differ, so the header names each column's.
    assert!(table.1.starts_with("streamsim compare: baseline (seed 2), fix (seed 2), mis2 (seed 3)"), "{}", table.1);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-variants-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_report_shows_every_variant_column() {
    let dir = scratch("out");
    let out = dir.to_str().unwrap();
    let (code, _, err) =
        streamsim(&["compare", ACKS1, "scenarios/homework.yaml", "--variant", FIX, "--out", out, "-q"]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(dir.join("compare.md")).unwrap();
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for (label, folder) in [
        ("acks-1-leader-failover / baseline", "acks-1-leader-failover.baseline"),
        ("acks-1-leader-failover / fix", "acks-1-leader-failover.fix"),
        ("homework / baseline", "homework.baseline"),
        ("homework / fix", "homework.fix"),
    ] {
        assert!(Path::new(out).join(folder).join("summary.md").is_file(), "{folder}/summary.md");
        assert!(md.contains(&format!("[{label}]({folder}/summary.md)")), "{label} in compare.md:\n{md}");
        assert!(index.contains(&format!("<a href=\"{folder}/index.html\">{label}</a>")), "{label} in index.html");
    }
    assert!(md.contains("(`--topic-config min.insync.replicas=2 --producer-property acks=all`)"), "{md}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every incident with a fix twin runs as `compare NAME.yaml NAME-fix.yaml`, both columns in
/// the JSON.
#[test]
fn every_incident_twin_compares_side_by_side() {
    let dir = Path::new(ROOT).join("scenarios/incidents");
    let mut fixes: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with("-fix.yaml")))
        .collect();
    fixes.sort();
    assert!(fixes.len() >= 10, "the twins are found: {fixes:?}");
    for fix in fixes {
        let incident = fix.to_str().unwrap().replace("-fix.yaml", ".yaml");
        let fix = fix.to_str().unwrap();
        let (code, out, err) = streamsim(&["compare", &incident, fix, "--json", "-q"]);
        assert!(code == 0 || code == 1, "{incident}: exit {code}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{incident}: {e}"));
        let cols = v["compare"].as_array().unwrap();
        let files: Vec<&str> = cols.iter().map(|c| c["file"].as_str().unwrap()).collect();
        assert_eq!(files, [incident.as_str(), fix], "{incident}");
        let labels = labels(cols);
        assert!(labels[0] != labels[1], "{incident}: distinct labels {labels:?}");
        assert!(cols.iter().all(|c| c["variant"].is_null() && c["summary"]["produced"].is_u64()), "{incident}");
    }
}
