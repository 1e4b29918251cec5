//! `streamsim pin`: expectations written from the runs, in place, and
//! `pin --check` for CI. Each test works on its own copy of a scenario.

mod common;
use common::streamsim;
use std::path::{Path, PathBuf};

/// A consumer crash mid-batch with commit after processing: duplicates that
/// vary with the seed, a producer whose count varies (Poisson arrivals), and
/// comments, flow and block styles for the edit to keep.
const SCENARIO: &str = "# A crash between processing and commit.
name: pin-me   # the name
seed: 2
duration: 14s
drain: 20s
semantics: at-least-once
brokers: 3
topics:
  - { name: orders, partitions: 4, replication.factor: 3 }
producers:
  - name: shop
    rate: 200/s        # Poisson: the count varies by seed
    keys: 20
consumers:
  - group: billing
    instances: 2
    processing_time: { exp: 6ms }
    config: { session.timeout.ms: 6000, max.poll.records: 100 }
faults:
  - { at: 10s, crash: billing-0 }
  - { at: 11s, restart: billing-0 }
expect:
  lost: 0              # the reason we run at-least-once
  duplicates: \"> 0\"
  max_lag: \"< 100000\"
# the end
";

fn scratch(name: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("streamsim-pin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pin-me.yaml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Pinned, the file passes `check` and `run` on every seed of the range,
/// and `pin --check` (reading the range from the file) finds nothing to change.
#[test]
fn pin_then_check_and_run_pass() {
    let (dir, file) = scratch("roundtrip", SCENARIO);
    let (code, out, err) = streamsim(&["pin", s(&file), "--seeds", "0..4"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pinned 17 expectations (seeds 0..4)"), "{out}");
    let pinned = std::fs::read_to_string(&file).unwrap();
    assert!(pinned.contains("expect:  # pinned by streamsim pin --seeds 0..4\n"), "{pinned}");
    let (code, out, err) = streamsim(&["check", s(&file)]);
    assert_eq!(code, 0, "{out}{err}");
    for seed in ["0", "1", "2", "3"] {
        let (code, out, _) = streamsim(&["run", s(&file), "--seed", seed]);
        assert_eq!(code, 0, "seed {seed}: {out}");
    }
    let (code, out, err) = streamsim(&["pin", "--check", s(&file)]);
    assert_eq!((code, out.as_str()), (0, "1 file(s): the pinned expectations are current\n"), "{err}");
    // Pinning again writes the same bytes.
    let (code, out, _) = streamsim(&["pin", s(&file)]);
    assert_eq!(code, 0);
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pinned);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A slower producer changes the counts: `pin --check` prints a unified diff
/// of the expectations that would move, exits 1 and leaves the file alone.
#[test]
fn a_changed_scenario_fails_pin_check_with_a_diff() {
    let (dir, file) = scratch("changed", SCENARIO);
    assert_eq!(streamsim(&["pin", s(&file), "--seeds", "0..3"]).0, 0);
    let changed = std::fs::read_to_string(&file).unwrap().replace("rate: 200/s", "rate: 150/s");
    std::fs::write(&file, &changed).unwrap();
    let (code, out, err) = streamsim(&["pin", "--check", s(&file)]);
    assert_eq!(code, 1, "{out}{err}");
    let name = s(&file);
    assert!(out.starts_with(&format!("--- {name} (pinned)\n+++ {name} (now)\n@@ -")), "{out}");
    let removed = out.lines().find(|l| l.starts_with("-  produced: ")).expect("the old produced line");
    let added = out.lines().find(|l| l.starts_with("+  produced: ")).expect("the new produced line");
    assert_ne!(removed[1..], added[1..]);
    assert!(added.contains("# seen "), "{added}");
    assert!(!out.lines().any(|l| l.starts_with(['-', '+']) && l.contains("rate:")), "only expectations move: {out}");
    assert!(err.contains("1 of 1 file(s) would change") && err.contains("streamsim pin "), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), changed);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Everything outside the pinned values is kept byte for byte: the header,
/// the comments (the author's on `lost:` too), the flow mappings, the key
/// the author bounded (`max_lag`), `duplicates: "> 0"` (every seed meets
/// it, so it stays), and the comment after the block.
#[test]
fn comments_and_formatting_are_kept() {
    let (dir, file) = scratch("style", SCENARIO);
    let (code, _, err) = streamsim(&["pin", s(&file), "--seeds", "0..3"]);
    assert_eq!(code, 0, "{err}");
    let pinned = std::fs::read_to_string(&file).unwrap();
    let expect_at = SCENARIO.find("expect:\n").unwrap();
    assert_eq!(pinned[..expect_at], SCENARIO[..expect_at]);
    assert!(pinned.ends_with("\n# the end\n"));
    insta::assert_snapshot!("pinned_scenario", pinned);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A file that does not load exits 2 and nothing is written, not even the
/// other, good files named with it.
#[test]
fn a_syntax_error_exits_2_and_changes_nothing() {
    let (dir, good) = scratch("syntax", SCENARIO);
    let bad = dir.join("bad.yaml");
    let broken = SCENARIO.replace("  - { at: 10s, crash: billing-0 }", "  - { at: 10s, crash: billing-0 ");
    std::fs::write(&bad, &broken).unwrap();
    let (code, out, err) = streamsim(&["pin", s(&good), s(&bad)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("{}:", s(&bad))) && err.contains("invalid YAML"), "{err}");
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), broken);
    assert_eq!(std::fs::read_to_string(&good).unwrap(), SCENARIO);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A path streamsim will not write exits 2 and leaves the file as it was:
/// a symbolic link (never replaced), and a file in a read-only folder
/// (unless the tests run as root, who may write there).
#[test]
fn an_unwritable_path_exits_2_and_changes_nothing() {
    let (dir, file) = scratch("unwritable", SCENARIO);
    let link = dir.join("link.yaml");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let (code, out, err) = streamsim(&["pin", s(&link)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("cannot write the pinned scenario") && err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), SCENARIO);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());

    use std::os::unix::fs::PermissionsExt;
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    let inner = locked.join("pin-me.yaml");
    std::fs::write(&inner, SCENARIO).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root_writes = std::fs::write(locked.join("probe"), "").is_ok();
    if !root_writes {
        let (code, out, err) = streamsim(&["pin", s(&inner)]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("cannot write the pinned scenario"), "{err}");
        assert_eq!(std::fs::read_to_string(&inner).unwrap(), SCENARIO);
        assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 1, "no staging file left");
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
