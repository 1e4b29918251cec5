//! Memory limits: scenarios that pass the loader but would need more memory
//! than the machine has are refused before they start (exit 2, naming the
//! field to change), or stop cleanly during the run; none aborts. Each
//! hostile case runs the built binary under a 2 GiB address-space limit
//! (`prlimit --as`, util-linux) when prlimit is there.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs the binary with `args` under a 2 GiB address-space cap; (exit code, stdout, stderr).
fn capped(args: &[&str]) -> (i32, String, String) {
    let bin = env!("CARGO_BIN_EXE_streamsim");
    let prlimit = Path::new("/usr/bin/prlimit").exists();
    let mut cmd = if prlimit {
        let mut c = Command::new("/usr/bin/prlimit");
        c.arg("--as=2147483648").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let start = Instant::now();
    let out = cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("the binary runs");
    assert!(start.elapsed() < Duration::from_secs(60), "{args:?} took {:?}", start.elapsed());
    let code = out.status.code().unwrap_or(-1);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(matches!(code, 0..=2), "{args:?} exited {code} (killed or aborted?)\n{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("memory allocation"), "{stderr}");
    (code, stdout, stderr)
}

const HOSTILE: &str = "tests/fixtures/hostile";

#[test]
fn hundred_thousand_instances_build_no_link_matrix() {
    let mut yaml = String::from(
        "name: memory-instances\nduration: 1s\ndrain: 1s\nbrokers: 1\ntopics:\n  - { name: t, partitions: 1 }\nproducers:\n",
    );
    for i in 0..100 {
        yaml.push_str(&format!("  - {{ name: p{i}, topic: t, instances: 1000, rate: 1/h }}\n"));
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("memory-instances.yaml");
    std::fs::write(&file, yaml).expect("written");
    let f = file.to_str().expect("utf-8 path");
    let (code, out, err) = capped(&["validate", f]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("100000 producers"), "{out}");
    let (code, out, err) = capped(&["run", f, "--json"]);
    assert!(code == 0 || code == 1, "{out}{err}");
}

#[test]
fn chaos_at_a_thousand_a_second_for_1000h_is_refused() {
    let f = format!("{HOSTILE}/memory-chaos.yaml");
    let (code, _, err) = capped(&["run", &f, "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("chaos") && err.contains("chaos.until"), "{err}");
    let (code, _, err) = capped(&["validate", &f]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_one_microsecond_sample_interval_is_refused_with_a_hint() {
    let f = format!("{HOSTILE}/memory-sample-interval.yaml");
    for cmd in [&["run", &f, "--json"][..], &["validate", &f][..], &["sweep", &f, "--seeds", "0..2"][..]] {
        let (code, _, err) = capped(cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("`sample_interval`"), "{err}");
    }
}

#[test]
fn a_producer_at_a_million_a_second_is_refused_before_it_starts() {
    let f = format!("{HOSTILE}/memory-producer.yaml");
    let (code, out, err) = capped(&["validate", &f]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("60000000 records"), "{out}");
    assert!(err.contains("`max_memory`") && err.contains("`rate`"), "{err}");
    let (code, _, err) = capped(&["run", &f]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_memory (4 GiB)"), "{err}");
    // Raising the budget past what the cap allows is the user's call; a
    // smaller one is honoured.
    let (code, _, err) = capped(&["run", &f, "--max-memory", "1GiB"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_memory (1 GiB)"), "{err}");
}

#[test]
fn a_thousand_producers_at_a_million_a_second_are_refused() {
    let f = format!("{HOSTILE}/memory-producers.yaml");
    for cmd in [&["run", &f][..], &["explain", &f][..], &["check", &f][..]] {
        let (code, _, err) = capped(cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        assert!(err.contains("`max_memory`"), "{err}");
    }
}

#[test]
fn max_memory_flag_and_field_parse_sizes() {
    let (code, _, err) = capped(&["run", "scenarios/homework.yaml", "--max-memory", "1MiB"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_memory (1 MiB)"), "{err}");
    let (code, _, err) = capped(&["run", "scenarios/homework.yaml", "--max-memory", "lots"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("512MiB"), "{err}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("small.yaml");
    let src = std::fs::read_to_string("scenarios/homework.yaml").expect("shipped");
    std::fs::write(&file, format!("{src}\nmax_memory: 2MiB\n")).expect("written");
    let (code, _, err) = capped(&["run", file.to_str().expect("utf-8"), "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_memory (2 MiB)"), "{err}");
    std::fs::write(&file, format!("{src}\nmax_memory: 2 parsecs\n")).expect("written");
    let (code, _, err) = capped(&["validate", file.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_memory"), "{err}");
}

/// A run that grows past its budget anyway stops with `RunError::Memory`
/// (the world built directly skips the check before the start).
#[test]
fn a_run_past_its_budget_stops_cleanly() {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/homework.yaml"))
        .expect("shipped");
    let mut sc = streamsim::scenario::load_str(&src, "homework.yaml").expect("loads").scenario;
    sc.max_memory = streamsim::world::budget::BASE_BYTES + 1000;
    let mut w = streamsim::world::World::new(sc);
    match w.run() {
        Err(e @ streamsim::world::RunError::Memory { .. }) => {
            assert!(e.to_string().contains("raise `max_memory`"), "{e}")
        }
        other => panic!("expected a memory stop, got {other:?}"),
    }
}
