//! The command line's outputs under adversity: kills and I/O errors while a
//! report is written, planted links, special files, a reader that leaves
//! early, clashing names and outputs aimed at inputs, capped threads, and
//! sweep shards that do not belong together.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use streamsim::report::{compare, folder};

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn streamsim(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).current_dir(ROOT).output().expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("streamsim-reliability-").tempdir().expect("a scratch folder")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Every entry under `dir`, by relative path: a file's bytes, or None for a folder.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut all = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).expect("a readable folder") {
            let p = e.expect("an entry").path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                all.insert(rel, None);
                todo.push(p);
            } else {
                all.insert(rel, Some(fs::read(&p).unwrap_or_else(|_| b"<unreadable>".to_vec())));
            }
        }
    }
    all
}

/// Names in `dir` that look like staging debris.
fn staging_left(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".streamsim-") || n.ends_with(".tmp") || n.ends_with(".tmp.png"))
        .collect()
}

/// Whether a run finished its work (0, or 1 for a failed expectation: the
/// report is written either way).
fn finished(code: Option<i32>) -> bool {
    matches!(code, Some(0) | Some(1))
}

/// The report of `scenario` at `seed`, written into a fresh folder and read back.
fn reference(scenario: &str, seed: &str) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let dir = scratch();
    let out = dir.path().join("r");
    let (code, _, err) = streamsim(&["run", scenario, "--seed", seed, "--out", s(&out)]);
    assert!(finished(code), "{err}");
    snapshot(&out)
}

#[test]
fn the_report_folders_hold_exactly_their_layouts() {
    let dir = scratch();
    let run = dir.path().join("run");
    let (code, _, err) = streamsim(&["run", "scenarios/homework.yaml", "--out", s(&run)]);
    assert_eq!(code, Some(0), "{err}");
    let names = |d: &Path| {
        let mut v: Vec<String> =
            fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&run), folder::LAYOUT.files, "a report must be recognised as one when it is replaced");
    let cmp = dir.path().join("cmp");
    let (code, _, err) = streamsim(&["compare", "scenarios/homework.yaml", "--out", s(&cmp)]);
    assert_eq!(code, Some(0), "{err}");
    let mut expected: Vec<&str> = compare::LAYOUT.files.iter().chain(compare::LAYOUT.folders).copied().collect();
    expected.sort_unstable();
    assert_eq!(names(&cmp), expected);
    for preset in compare::LAYOUT.folders {
        assert_eq!(names(&cmp.join(preset)), folder::LAYOUT.files, "{preset}");
    }
    // Both can be written again over themselves, and nothing is left beside them.
    let (code, _, err) = streamsim(&["compare", "scenarios/homework.yaml", "--out", s(&cmp)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(staging_left(dir.path()).is_empty(), "{:?}", staging_left(dir.path()));
}

/// A run killed at any moment leaves the folder as the previous report or
/// the complete new one; the next run clears what the killed one staged.
#[test]
fn a_killed_run_leaves_the_old_report_or_the_new_one() {
    let scenario = "scenarios/kinesis-vs-kafka.yaml";
    let old = reference(scenario, "1");
    let new = reference(scenario, "2");
    assert_ne!(old, new);
    let dir = scratch();
    let target = dir.path().join("report");
    let args = ["run", scenario, "--seed", "2", "--out", s(&target)];
    let started = Instant::now();
    assert!(finished(streamsim(&args).0));
    let whole = started.elapsed();
    let (mut saw_old, mut saw_new) = (0, 0);
    for i in 0..=18u32 {
        // From before the run starts to past its end, through the write.
        let at = whole.mul_f64(f64::from(i) / 12.0);
        assert!(finished(streamsim(&["run", scenario, "--seed", "1", "--out", s(&target)]).0));
        let mut child =
            Command::new(BIN).args(args).current_dir(ROOT).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL: no cleanup runs
        child.wait().unwrap();
        let now = snapshot(&target);
        assert!(now == old || now == new, "killed after {at:?}: a mix of reports, {} entries", now.len());
        if now == old {
            saw_old += 1
        } else {
            saw_new += 1
        }
    }
    assert!(saw_old > 0, "no kill landed before the swap ({saw_new} after)");
    eprintln!("{saw_old} kills left the old report, {saw_new} the new one");
    assert!(finished(streamsim(&args).0));
    assert!(staging_left(dir.path()).is_empty(), "debris stays: {:?}", staging_left(dir.path()));
    assert_eq!(snapshot(&target), new);
}

/// A write that fails midway (the file size limit, as a full disk would)
/// leaves the previous report exactly as it was and nothing staged.
#[cfg(target_os = "linux")]
#[test]
fn an_io_error_midway_keeps_the_previous_report() {
    let scenario = "scenarios/homework.yaml";
    let new = reference(scenario, "2");
    let largest = new.values().flatten().map(Vec::len).max().unwrap();
    let smallest = new.values().flatten().map(Vec::len).min().unwrap();
    let limit_kib = (largest - 1) / 1024;
    assert!(smallest < limit_kib * 1024, "some files fit under the limit, the largest does not");
    let dir = scratch();
    let target = dir.path().join("report");
    assert!(finished(streamsim(&["run", scenario, "--seed", "1", "--out", s(&target)]).0));
    let old = snapshot(&target);
    // SIGXFSZ ignored: a write past the limit fails with EFBIG instead of killing.
    let script = format!("trap '' XFSZ; ulimit -f {limit_kib}; exec \"$0\" \"$@\"");
    let out = Command::new("bash")
        .args(["-c", &script, BIN, "run", scenario, "--seed", "2", "--out", s(&target)])
        .current_dir(ROOT)
        .output()
        .expect("bash runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write the report to") && err.contains("too large"), "{err}");
    assert!(snapshot(&target) == old, "the previous report changed");
    assert!(staging_left(dir.path()).is_empty(), "{:?}", staging_left(dir.path()));
}

/// A stray folder where `index.html` goes, and a planted link at an old
/// staging name, do not break or redirect the report: it replaces the
/// folder whole and the link's target is untouched.
#[cfg(unix)]
#[test]
fn a_report_replaces_the_folder_whole_and_follows_no_planted_link() {
    let scenario = "scenarios/homework.yaml";
    let new = reference(scenario, "2");
    let dir = scratch();
    let target = dir.path().join("report");
    assert!(finished(streamsim(&["run", scenario, "--seed", "1", "--out", s(&target)]).0));
    fs::remove_file(target.join("index.html")).unwrap();
    fs::create_dir(target.join("index.html")).unwrap();
    fs::write(target.join("index.html/stray"), "x").unwrap();
    let outside = dir.path().join("outside.txt");
    fs::write(&outside, "keep me").unwrap();
    std::os::unix::fs::symlink(&outside, target.join(".summary.json.tmp")).unwrap();
    let (code, _, err) = streamsim(&["run", scenario, "--seed", "2", "--out", s(&target)]);
    assert!(finished(code), "{err}");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "keep me");
    assert!(snapshot(&target) == new, "the folder is exactly the new report");
}

#[test]
fn a_folder_holding_other_files_is_refused_before_the_run() {
    let dir = scratch();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    // The event cap would stop the run: the refusal must come first.
    let (code, _, err) = streamsim(&["run", "scenarios/homework.yaml", "--max-events", "1000", "--out", s(dir.path())]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`notes.txt`") && err.contains("hint:") && !err.contains("1000 events"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
    let (code, _, err) = streamsim(&["compare", "scenarios/homework.yaml", "--out", s(dir.path())]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`notes.txt`"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_trace_is_never_written_through_a_link_but_streams_into_a_device() {
    let dir = scratch();
    let target = dir.path().join("real.jsonl");
    fs::write(&target, "keep me").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, _, err) = streamsim(&["run", "scenarios/at-most-once.yaml", "--trace", s(&link)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("symbolic link") && err.contains("hint:") && err.contains("--trace -"), "{err}");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    // A link to a character device (as /dev/stdout is) is written through, not replaced.
    let null = dir.path().join("null.jsonl");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    let (code, _, err) = streamsim(&["run", "scenarios/at-most-once.yaml", "--trace", s(&null)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(fs::symlink_metadata(&null).unwrap().file_type().is_symlink());
    assert!(staging_left(dir.path()).is_empty());
}

/// The trace of a run, written to a file.
fn trace_file(scenario: &str) -> Vec<u8> {
    let dir = scratch();
    let path = dir.path().join("t.jsonl");
    let (code, _, err) = streamsim(&["run", scenario, "--json", "--trace", s(&path)]);
    assert_eq!(code, Some(0), "{err}");
    fs::read(path).unwrap()
}

#[test]
fn trace_dash_streams_to_stdout_and_the_table_to_stderr() {
    let out = Command::new(BIN)
        .args(["run", "scenarios/at-most-once.yaml", "--trace", "-"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout == trace_file("scenarios/at-most-once.yaml"), "stdout is exactly the trace");
    assert!(err.contains("streamsim: at-most-once") && err.contains("lost"), "the table is on stderr: {err}");
    let (code, out, err) = streamsim(&["run", "scenarios/at-most-once.yaml", "--trace", "-", "--json"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty() && err.contains("both write to stdout") && err.contains("hint:"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_trace_streams_into_a_fifo() {
    let dir = scratch();
    let fifo = dir.path().join("trace.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(fs::read(&reader_path));
    });
    let (code, _, err) = streamsim(&["run", "scenarios/at-most-once.yaml", "--json", "--trace", s(&fifo)]);
    assert_eq!(code, Some(0), "{err}");
    let read = rx.recv_timeout(Duration::from_secs(30)).expect("the reader got the whole trace").unwrap();
    assert!(read == trace_file("scenarios/at-most-once.yaml"));
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still one");
}

/// Spawns the binary with its stdout closed before it prints anything.
fn with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `check --out X | head` must write every report and exit by the result.
#[test]
fn a_closed_stdout_stops_the_printing_not_the_work() {
    let dir = scratch();
    let inputs = dir.path().join("in");
    fs::create_dir(&inputs).unwrap();
    for name in ["at-most-once", "homework", "exactly-once"] {
        fs::copy(Path::new(ROOT).join(format!("scenarios/{name}.yaml")), inputs.join(format!("{name}.yaml"))).unwrap();
    }
    let reports = dir.path().join("reports");
    let (code, err) = with_stdout_closed(&["check", s(&inputs), "--out", s(&reports)]);
    assert_eq!(code, Some(0), "an exit code, not a signal: {err}");
    for name in ["at-most-once", "homework", "exactly-once"] {
        let mut files: Vec<String> =
            fs::read_dir(reports.join(name)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files, folder::LAYOUT.files, "{name}");
    }
    let run = dir.path().join("run");
    let (code, err) = with_stdout_closed(&["run", "scenarios/homework.yaml", "--json", "--out", s(&run)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(run.join("index.html").exists());
    let strict = dir.path().join("strict.yaml");
    let text = fs::read_to_string(Path::new(ROOT).join("scenarios/at-least-once.yaml")).unwrap();
    fs::write(&strict, text.replace("  lost: 0\n", "  lost: 0\n  rebalances: 99\n")).unwrap();
    let (code, err) = with_stdout_closed(&["run", s(&strict)]);
    assert_eq!(code, Some(1), "a failed expectation still exits 1: {err}");
    let (code, err) = with_stdout_closed(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..2", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A scenario that fails an expectation and cannot write its report counts
/// once, as one that could not run.
#[test]
fn check_counts_each_scenario_once() {
    let dir = scratch();
    let text = fs::read_to_string(Path::new(ROOT).join("scenarios/at-most-once.yaml")).unwrap();
    let failing = text.replace("lost: \"> 0\"", "lost: 0").replace("name: at-most-once", "name: b");
    let file = dir.path().join("b.yaml");
    fs::write(&file, failing).unwrap();
    let out = dir.path().join("reports");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("b"), "a file where the report folder goes").unwrap();
    let (code, stdout, err) = streamsim(&["check", s(&file), "--out", s(&out)]);
    assert_eq!(code, Some(2), "{stdout}{err}");
    assert!(stdout.contains("1 scenario: 0 passed, 0 failed, 1 could not run"), "{stdout}");
    assert!(err.contains("cannot write the report to") && err.contains("hint:"), "{err}");
}

#[test]
fn check_out_refuses_two_files_with_one_name() {
    let dir = scratch();
    for f in ["a.yaml", "b.yaml"] {
        fs::copy(Path::new(ROOT).join("scenarios/at-most-once.yaml"), dir.path().join(f)).unwrap();
    }
    let out = dir.path().join("reports");
    let (code, stdout, err) = streamsim(&["check", s(dir.path()), "--out", s(&out)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("a.yaml`") && err.contains("b.yaml`") && err.contains("`at-most-once`"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!stdout.contains("pass"), "refused before anything ran: {stdout}");
    assert!(!out.exists());
}

#[test]
fn outputs_aimed_at_an_input_are_refused() {
    let dir = scratch();
    let file = dir.path().join("x.yaml");
    fs::copy(Path::new(ROOT).join("scenarios/at-most-once.yaml"), &file).unwrap();
    let original = fs::read(&file).unwrap();
    // The same file by another spelling.
    let again = dir.path().join("sub/../x.yaml");
    fs::create_dir(dir.path().join("sub")).unwrap();
    for args in
        [vec!["run", s(&file), "--trace", s(&again)], vec!["explain", s(&file), "--minimize", "--out", s(&again)]]
    {
        let (code, _, err) = streamsim(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("is the input") && err.contains("hint:"), "{err}");
    }
    let out = dir.path().join("r");
    let (code, _, err) = streamsim(&["run", s(&file), "--out", s(&out), "--trace", s(&out.join("t.jsonl"))]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("inside --out"), "{err}");
    assert_eq!(fs::read(&file).unwrap(), original);
}

#[test]
fn a_trace_to_a_folder_fails_before_the_run() {
    let dir = scratch();
    let (code, _, err) =
        streamsim(&["run", "scenarios/homework.yaml", "--max-events", "1000", "--trace", s(dir.path())]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot write the trace") && err.contains("it is a folder"), "{err}");
    assert!(!err.contains("1000 events"), "the run did not start: {err}");
}

/// Runs the binary, failing the test (not hanging it) past `limit`.
fn within(limit: Duration, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child =
        Command::new(BIN).args(args).current_dir(ROOT).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{args:?} took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sweep_jobs_are_capped_with_a_note() {
    let sweep = ["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..2", "--json", "--jobs"];
    let (code, one, _) = within(Duration::from_secs(60), &[&sweep[..], &["1"]].concat());
    assert_eq!(code, Some(0));
    let (code, many, err) = within(Duration::from_secs(60), &[&sweep[..], &["10000"]].concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("--jobs 10000 capped at 2 threads (one per seed)"), "{err}");
    assert_eq!(many, one);
    // --jobs 0 reads as "no threads": refused, with the default named.
    let (code, all, err) = within(Duration::from_secs(60), &[&sweep[..], &["0"]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--jobs 0") && err.contains("hint: leave --jobs out to use every core"), "{err}");
    assert!(all.is_empty(), "{all}");
}

#[test]
fn merge_takes_a_folder_and_refuses_shards_that_do_not_belong_together() {
    let dir = scratch();
    let shards = dir.path().join("shards");
    fs::create_dir(&shards).unwrap();
    let sweep = |file: &str, shard: &str| {
        let (code, out, err) = streamsim(&["sweep", file, "--seeds", "0..6", "--shard", shard, "--json"]);
        assert_eq!(code, Some(0), "{err}");
        out
    };
    for k in 1..=3 {
        fs::write(shards.join(format!("s{k}.json")), sweep("scenarios/at-most-once.yaml", &format!("{k}/3"))).unwrap();
    }
    let (_, whole, _) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..6", "--json"]);
    let (code, merged, err) = streamsim(&["sweep", "--json", "--merge", s(&shards)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(merged, whole, "a folder of shards merges into the whole sweep");

    // The same name, an edited scenario.
    let text = fs::read_to_string(Path::new(ROOT).join("scenarios/at-most-once.yaml")).unwrap();
    let edited = dir.path().join("edited.yaml");
    fs::write(&edited, text.replace("keys: 50", "keys: 51")).unwrap();
    let other = dir.path().join("other.json");
    fs::write(&other, sweep(s(&edited), "2/3")).unwrap();
    let (s1, s3) = (shards.join("s1.json"), shards.join("s3.json"));
    let (code, _, err) = streamsim(&["sweep", "--merge", s(&s1), s(&other), s(&s3)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("s1.json` and `") && err.contains("other.json` are not shards of one sweep"), "{err}");

    // A missing shard: the gap exactly, or a partial merge that says so.
    let (code, _, err) = streamsim(&["sweep", "--merge", s(&s1), s(&s3)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("seeds missing from the merge: 2..=3 (2 of 0..=5)"), "{err}");
    let (code, report, err) = streamsim(&["sweep", "--merge", s(&s1), s(&s3), "--partial"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(report.contains("over 4 seeds (0..=1, 4..=5)") && report.contains("seeds 2..=3 are missing"), "{report}");

    // An empty shard.
    let mut empty: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(shards.join("s2.json")).unwrap()).unwrap();
    empty["runs"] = serde_json::json!([]);
    empty["seeds"] = serde_json::json!([]);
    let empty_path = dir.path().join("empty.json");
    fs::write(&empty_path, empty.to_string()).unwrap();
    let (code, _, err) = streamsim(&["sweep", "--merge", s(&s1), s(&empty_path), s(&s3)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("empty.json` holds no runs"), "{err}");
    let (code, _, err) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..3", "--shard", "4/4"]);
    assert_eq!(code, Some(2), "an empty shard is not run either: {err}");
}

/// A stdout that fails for another reason than a closed pipe (a full disk)
/// does not stop the work either, but the exit code says the output is lost.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_error_once_the_work_is_done() {
    let dir = scratch();
    let out = Command::new(BIN)
        .args(["run", "scenarios/homework.yaml", "--json", "--out", s(&dir.path().join("r"))])
        .current_dir(ROOT)
        .stdout(fs::File::create("/dev/full").expect("/dev/full opens"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error: cannot write to stdout: No space left on device"), "{err}");
    assert!(dir.path().join("r/index.html").exists(), "the report is written");
}
