//! Hostile input, one test per defect the reliability audit found in the
//! loader: each failed (or ran out of memory, or hung) before the fix.

mod hostile_corpus;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration as Wall, Instant as WallClock};

use hostile_corpus::fixtures_dir;
use streamsim::kernel::time::Duration;
use streamsim::scenario::{load_bytes, load_file, load_str, LoadError, Loaded};

fn fixture_path(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

fn refused(result: Result<Loaded, LoadError>) -> LoadError {
    match result {
        Ok(l) => panic!("expected an error, got {:#?}", l.scenario),
        Err(e) => e,
    }
}

/// Runs `f`, failing if it takes longer than `limit` of wall time.
fn within<T>(limit: Wall, f: impl FnOnce() -> T) -> T {
    let start = WallClock::now();
    let out = f();
    assert!(start.elapsed() < limit, "took {:?}, limit {limit:?}", start.elapsed());
    out
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

const SECOND: Wall = Wall::from_secs(1);

// 1. Alias expansion is bounded in bytes, not only in values.

#[test]
fn alias_text_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
    // Before: 1.1 GB of memory, then "unknown top-level field `a`".
    let e = within(SECOND, || refused(load_file(&fixture_path("alias-text-bomb.yaml"))));
    assert_eq!((e.line, e.column), (6, 30), "{e}");
    assert!(e.message.contains("expanding the alias `*l2` here"), "{e}");
    assert!(e.message.contains("more than 32 MiB of text"), "{e}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("`&l2` at line 5")), "{e}");
}

#[test]
fn a_52k_alias_text_bomb_is_refused_as_cheaply() {
    // Before: the process aborted on a failed allocation.
    let text = hostile_corpus::alias_text_bomb(50_000);
    let e = within(SECOND, || refused(load_str(&text, "bomb.yaml")));
    assert!(e.message.contains("expanding the alias `*l1` here"), "{e}");
}

#[test]
fn nested_anchors_count_their_copies() {
    let text = hostile_corpus::anchor_nesting(40, 1 << 20);
    let e = within(5 * SECOND, || refused(load_str(&text, "anchors.yaml")));
    assert!(e.message.contains("more than 32 MiB of text"), "{e}");
}

// 2. Warnings are placed in linear time.

#[test]
fn thousands_of_warnings_in_a_10_mb_file_load_in_linear_time() {
    // Before: 2,800 warnings in 10 MB took 60-80 s (each one rescanned the file).
    let text = hostile_corpus::many_warnings(2_800, 10_000_000);
    let loaded = within(10 * SECOND, || load_str(&text, "big.yaml").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(loaded.warnings.len(), 2_800);
    let last = &loaded.warnings[2_799];
    assert_eq!((last.line, &*last.field), (2_804, "producers[2799].config.bootstrap.servers"));
}

// 3. Sliding windows are bounded per event.

#[test]
fn a_window_of_hours_sliding_by_microseconds_is_refused() {
    // Before: accepted, then the run spun inside single events.
    let e = refused(load_file(&fixture_path("sliding-window-spin.yaml")));
    assert_eq!((e.line, e.column, &*e.field), (8, 48, "consumers[0].aggregate.window.sliding.every"));
    assert!(e.message.contains("puts each event in 3600000000000 windows; at most 1000 are allowed"), "{e}");
    assert_eq!(
        e.hint.as_deref(),
        Some("slide by at least 3600s (size / 1000, dividing the size evenly), or use a shorter window")
    );
}

#[test]
fn a_thousand_windows_per_event_is_the_limit() {
    let scenario = |size: &str| {
        format!(
            "name: w\nduration: 10s\ntopics: [{{ name: t, partitions: 1 }}]\nconsumers:\n  - group: g\n    aggregate: {{ window: {{ sliding: {{ size: {size}, every: 1s }} }} }}\n"
        )
    };
    assert!(load_str(&scenario("1000s"), "w.yaml").is_ok());
    let e = refused(load_str(&scenario("1001s"), "w.yaml"));
    assert!(e.message.contains("1001 windows"), "{e}");
}

// 4. Input size and kind.

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_without_reading_it() {
    // Before: read until memory ran out.
    let e = within(SECOND, || refused(load_file(Path::new("/dev/zero"))));
    assert_eq!(e.line, 0);
    assert_eq!(e.message, "cannot read the scenario file: it is a character device, not a regular file");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("`-`")), "{e}");
}

#[cfg(unix)]
#[test]
fn a_fifo_without_a_writer_is_refused_without_blocking() {
    // Before: blocked forever in open().
    let path = tmp("no-writer.fifo");
    let _ = std::fs::remove_file(&path);
    let made = Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.clone();
    std::thread::spawn(move || tx.send(load_file(&p).map(|_| ()).map_err(|e| e.message)));
    let result = rx.recv_timeout(10 * SECOND).expect("load_file returned");
    assert_eq!(result, Err("cannot read the scenario file: it is a named pipe (FIFO), not a regular file".into()));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_directory_is_refused_with_a_hint() {
    let e = refused(load_file(&fixtures_dir()));
    assert_eq!(e.message, "cannot read the scenario file: it is a directory, not a regular file");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("streamsim check DIR")), "{e}");
}

#[test]
fn input_over_16_mib_is_refused_from_a_file_a_string_or_bytes() {
    let big = hostile_corpus::oversized(16 << 20);
    let path = tmp("oversized.yaml");
    std::fs::write(&path, &big).expect("writable target dir");
    let from_file = within(5 * SECOND, || refused(load_file(&path)));
    assert_eq!(from_file.message, "the scenario is larger than 16 MiB");
    assert_eq!(from_file.line, 0);
    assert_eq!(refused(load_bytes(&big, "b.yaml")).message, from_file.message);
    let text = String::from_utf8(big).expect("ASCII");
    assert_eq!(refused(load_str(&text, "s.yaml")).message, from_file.message);
    let _ = std::fs::remove_file(&path);
}

fn validate_stdin(input: Vec<u8>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("piped");
    // The child may stop reading early (at the size limit): a broken pipe is expected then.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("the binary finishes");
    writer.join().expect("the writer thread ends");
    out
}

#[test]
fn dash_reads_the_scenario_from_stdin_and_names_it_stdin() {
    // Before: `-` was a file name ("No such file or directory").
    let homework = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/homework.yaml")).unwrap();
    let out = validate_stdin(homework);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = validate_stdin(b"name: X\nduration: 1s\n".to_vec());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: <stdin>:1:7: name: `X` is not a valid name"));
}

#[test]
fn compare_reads_stdin_once_for_every_preset() {
    let homework = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/homework.yaml")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["compare", "-", "--semantics", "at-most-once,at-least-once"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("piped").write_all(&homework).expect("written");
    let out = child.wait_with_output().expect("the binary finishes");
    let (table, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("cannot apply"), "{err}");
    assert!(table.contains("at-most-once") && table.contains("at-least-once"), "{table}");
}

#[test]
fn stdin_is_bounded_too() {
    let out = within(10 * SECOND, || validate_stdin(hostile_corpus::oversized(16 << 20)));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: <stdin>: the scenario is larger than 16 MiB"), "{err}");
}

// 5. Misleading positions and inconsistent rules.

#[test]
fn errors_inside_aliased_content_point_at_the_alias_and_name_the_anchor() {
    // Before: 8:13, the anchor, which is a valid producer config there.
    let e = refused(load_file(&fixture_path("alias-error-position.yaml")));
    assert_eq!((e.line, e.column, &*e.field), (12, 13, "consumers[0].config.acks"));
    assert!(e.message.ends_with("(in the alias `*cfg` used here; its anchor `&cfg` is at line 8, column 13)"), "{e}");
}

#[test]
fn a_utf8_bom_does_not_move_line_1() {
    // Before: "invalid YAML: did not find expected <document start>" at 2:1.
    let path = fixture_path("bom.yaml");
    let with_bom = refused(load_file(&path));
    let without = refused(load_str("name: Hostile\nduration: 10s\n", &path.display().to_string()));
    assert_eq!(with_bom, without);
    assert_eq!((with_bom.line, with_bom.column), (1, 7));
}

#[test]
fn buffer_memory_must_hold_one_record_as_well_as_one_batch() {
    // Before: accepted, and every send() then failed after max.block.ms.
    let e = refused(load_file(&fixture_path("buffer-below-record.yaml")));
    assert_eq!((e.line, &*e.field), (8, "producers[0].config.buffer.memory"));
    assert!(e.message.contains("buffer.memory (500000) is smaller than one record (record_bytes: 1000000)"), "{e}");
    assert_eq!(
        e.hint.as_deref(),
        Some("set `buffer.memory` to at least 1000000 (a batch takes max(batch.size, record_bytes) of it)")
    );
    let head = "name: b\nduration: 1s\ntopics: [{ name: t, partitions: 1 }]\nproducers:\n  - name: p\n    rate: 1/s\n";
    // With the default buffer.memory (32 MiB), what was written larger is named.
    let e = refused(load_str(&format!("{head}    record_bytes: 40000000\n"), "b.yaml"));
    assert_eq!((e.line, &*e.field), (7, "producers[0].record_bytes"));
    assert!(e.hint.as_deref().is_some_and(|h| h.starts_with("lower `record_bytes`")), "{e}");
    let e = refused(load_str(&format!("{head}    config: {{ batch.size: 40000000 }}\n"), "b.yaml"));
    assert_eq!(e.field, "producers[0].config.batch.size");
    assert!(
        load_str(&format!("{head}    record_bytes: 1000000\n    config: {{ buffer.memory: 1000000 }}\n"), "b").is_ok()
    );
}

#[test]
fn a_crash_beyond_the_instances_says_how_many_there_are() {
    // Before: "did you mean `analytics-0`?".
    let e = refused(load_file(&fixture_path("crash-beyond-instances.yaml")));
    assert_eq!(e.hint.as_deref(), Some("there are 3 instances, analytics-0..analytics-2"));
}

// 6. Values.

fn head_with(duration: &str, producer: &str) -> String {
    format!("name: v\nduration: {duration}\ntopics: [{{ name: t, partitions: 1 }}]\nproducers: [{{ name: p, {producer} }}]\n")
}

#[test]
fn durations_take_min_as_rates_do() {
    let loaded = load_str(&head_with("1min", "rate: 6000/min"), "v.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.scenario.duration, Duration::from_secs(60));
}

#[test]
fn a_rate_per_sec_is_refused_with_the_unit_to_write() {
    // Before: accepted silently.
    let e = refused(load_file(&fixture_path("rate-per-sec.yaml")));
    assert_eq!(e.message, "producers[0].rate: unknown unit `sec` in the rate `100/sec`");
    assert_eq!(e.hint.as_deref(), Some("write `100/s`"));
}

#[test]
fn a_bare_number_hints_seconds_for_run_spans_and_milliseconds_elsewhere() {
    // Before: `duration: 60` hinted `60ms`.
    let e = refused(load_file(&fixture_path("duration-bare-number.yaml")));
    assert_eq!(e.hint.as_deref(), Some("add a unit, e.g. `60s`"));
    let fault = format!("{}faults: [{{ at: 30, crash: broker-0 }}]\n", head_with("60s", "rate: 1/s"));
    assert_eq!(refused(load_str(&fault, "v.yaml")).hint.as_deref(), Some("add a unit, e.g. `30s`"));
    let latency = format!("{}network: {{ latency: 2 }}\n", head_with("60s", "rate: 1/s"));
    assert_eq!(refused(load_str(&latency, "v.yaml")).hint.as_deref(), Some("add a unit, e.g. `2ms`"));
}

#[test]
fn messages_a_poisson_rate_may_not_reach_within_duration_warn() {
    let loaded = load_file(&fixture_path("messages-unreachable.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let w: Vec<String> = loaded.warnings.iter().map(|w| format!("{}:{} {}", w.line, w.column, w.field)).collect();
    assert_eq!(w, ["4:37 producers[0].messages"]);
    assert!(loaded.warnings[0].message.contains("a longer duration (11s or more)"), "{}", loaded.warnings[0]);
    let warns = |producer: &str| load_str(&head_with("10s", producer), "v").map(|l| l.warnings.len()).unwrap();
    // 1,000 expected against 100 + 3·10 needed: reached in nearly every run.
    assert_eq!(warns("rate: 100/s, messages: 100"), 0);
    assert_eq!(warns("rate: 100/s, messages: 1000"), 1);
    // A constant rate sends exactly rate × duration.
    assert_eq!(warns("rate: { constant: 100/s }, messages: 1000"), 0);
    assert_eq!(warns("rate: { constant: 100/s }, messages: 1001"), 1);
}

// The whole corpus: no panic, a bounded time, and errors placed on the text.

#[test]
fn every_corpus_input_returns_quickly_without_panicking() {
    for (name, bytes) in hostile_corpus::all() {
        let start = WallClock::now();
        let result = catch_unwind(AssertUnwindSafe(|| load_bytes(&bytes, &name)));
        let took = start.elapsed();
        assert!(took < 10 * SECOND, "{name} took {took:?}");
        match result {
            Err(_) => panic!("{name}: the loader panicked"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                // Line 0 is for the whole input; otherwise the line exists (libyaml may count `\r` too).
                let lines = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
                assert!(!e.message.is_empty() && e.line <= lines, "{name}: {e}");
                assert!(e.line > 0 || e.field.is_empty(), "{name}: {e}");
            }
        }
    }
}
