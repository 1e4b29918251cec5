//! The command line as a user meets it: exit codes, the JSON contract, the
//! report folder, errors on stderr.

mod common;
use common::streamsim;
use std::process::Command;

#[test]
fn run_prints_a_table_and_exits_0() {
    let (code, out, err) = streamsim(&["run", "scenarios/homework.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("produced") && out.contains("6000"), "{out}");
    assert!(out.contains("pass  final_assigned_partitions"), "{out}");
}

/// `run` says why without `--out`: explain's biggest cause sits under the counts, with the
/// command that tells every story; a run with no anomaly has no `why:` line.
#[test]
fn run_says_why_its_biggest_anomaly_happened() {
    let (code, out, _) = streamsim(&["run", "scenarios/at-least-once.yaml"]);
    assert_eq!(code, 0, "{out}");
    let why = out.lines().position(|l| l.starts_with("  why: ")).expect("a why line");
    assert_eq!(
        out.lines().nth(why).unwrap(),
        "  why: 70 duplicates, one cause: crash of billing-0 at 20.000s between processing and commit"
    );
    assert!(out.lines().nth(why + 1).unwrap().contains("`streamsim explain scenarios/at-least-once.yaml` tells"));
    let clean = std::env::temp_dir().join(format!("streamsim-why-{}.yaml", std::process::id()));
    std::fs::write(
        &clean,
        "name: calm\nduration: 2s\nbrokers: 1\ntopics: [{ name: t, partitions: 1, replication.factor: 1 }]\n\
         producers: [{ name: p, rate: 100/s }]\nconsumers: [{ group: g, config: { auto.offset.reset: earliest } }]\n",
    )
    .unwrap();
    let (code, out, err) = streamsim(&["run", clean.to_str().unwrap()]);
    std::fs::remove_file(&clean).unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("duplicates             0") && !out.contains("why: "), "{out}");
}

#[test]
fn json_is_the_only_stdout_and_has_every_fixed_key() {
    let (code, out, _) = streamsim(&["run", "scenarios/at-least-once.yaml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is JSON");
    for key in [
        "scenario",
        "seed",
        "semantics",
        "virtual_end_ms",
        "events",
        "trace_hash",
        "produced",
        "acked",
        "failed",
        "written",
        "delivered",
        "lost",
        "lost_acked",
        "redelivered",
        "duplicates",
        "reordered",
        "max_lag",
        "final_lag",
        "rebalances",
        "latency_ms",
        "assignments",
        "partitions",
        "expectations",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}`");
    }
    for key in ["p50", "p99", "max"] {
        assert!(v["latency_ms"].get(key).is_some());
    }
}

#[test]
fn seed_flag_replaces_the_seed() {
    let (_, a, _) = streamsim(&["run", "scenarios/homework.yaml", "--json", "--seed", "42"]);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["seed"], 42);
}

#[test]
fn a_failed_expectation_exits_1_with_a_diff_and_a_replay_command() {
    let dir = std::env::temp_dir().join(format!("streamsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("strict.yaml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/at-least-once.yaml")).unwrap();
    std::fs::write(&file, text.replace("  lost: 0\n", "  lost: 0\n  rebalances: 99\n")).unwrap();
    let (code, _, err) = streamsim(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("rebalances:\n    - expected 99\n    + actual   2"), "{err}");
    assert!(err.contains("replay: streamsim run"), "{err}");
}

#[test]
fn bad_input_exits_2_with_a_located_error() {
    let (code, _, err) = streamsim(&["validate", "tests/no-such-file.yaml"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: tests/no-such-file.yaml: cannot read"), "{err}");
    let (code, _, _) = streamsim(&["run"]);
    assert_eq!(code, 2, "usage errors exit 2");
    let (code, out, _) = streamsim(&["validate", "scenarios/homework.yaml"]);
    assert_eq!(code, 0);
    assert!(out.contains("ok: scenario `homework`"), "{out}");
}

#[test]
fn out_writes_the_report_folder() {
    let dir = std::env::temp_dir().join(format!("streamsim-report-{}", std::process::id()));
    let (code, _, err) = streamsim(&["run", "scenarios/homework.yaml", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let json = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(json.contains("\"scenario\": \"homework\""));
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    // Tidy: one column per variable; the lag per partition is lag.csv's, one row each.
    assert_eq!(csv.lines().next(), Some("time_ms,lag,delivered,duplicates,redelivered,lost"));
    assert!(csv.lines().count() > 100);
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("Faults: crash analytics-1 at 30 s.") && md.contains("![lag](lag.svg)"), "{md}");
    for chart in ["lag", "duplicates", "latency"] {
        let svg = std::fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{chart}.svg");
        assert!(svg.contains("crash analytics-1"), "{chart}.svg marks the fault");
        let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{chart}.png");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.matches("<svg").count() == 3, "three charts inline");
    // Lag per partition, with its owner: analytics-1 crashes at 30 s and its
    // partitions pass to the survivors.
    let lag = std::fs::read_to_string(dir.join("lag.csv")).unwrap();
    assert!(lag.starts_with("time_ms,group,partition,member,lag\n"));
    let owners_at = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = lag
            .lines()
            .filter(|l| l.starts_with(&format!("{t},")))
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        owners_at("20000"),
        ["analytics-0", "analytics-0", "analytics-1", "analytics-1", "analytics-2", "analytics-2"]
    );
    assert!(!owners_at("50000").contains(&"analytics-1".to_string()), "{:?}", owners_at("50000"));
    assert_eq!(owners_at("50000").len(), 6);
    // The same run again writes the same bytes, charts included.
    let again = std::env::temp_dir().join(format!("streamsim-report-again-{}", std::process::id()));
    let (code, _, _) = streamsim(&["run", "scenarios/homework.yaml", "--out", again.to_str().unwrap()]);
    assert_eq!(code, 0);
    for f in [
        "summary.json",
        "summary.md",
        "index.html",
        "timeseries.csv",
        "lag.csv",
        "lag.svg",
        "lag.png",
        "duplicates.png",
        "latency.svg",
    ] {
        assert_eq!(std::fs::read(dir.join(f)).unwrap(), std::fs::read(again.join(f)).unwrap(), "{f} differs");
    }
    let _ = std::fs::remove_dir_all(&again);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_teaches_the_commands() {
    let (code, out, _) = streamsim(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("run") && out.contains("validate") && out.contains("Exit codes"), "{out}");
}

#[test]
fn the_event_cap_stops_a_run_with_a_clear_error() {
    let (code, out, err) = streamsim(&["run", "scenarios/homework.yaml", "--max-events", "1000"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("stopped after 1000 events") && err.contains("max_events"), "{err}");
}

/// `compare` runs the same workload under every preset: the table is pinned,
/// and the report (overlaid charts, one folder per preset) is written and
/// identical on a second run.
#[test]
fn compare_shows_the_presets_side_by_side() {
    let dir = std::env::temp_dir().join(format!("streamsim-compare-{}", std::process::id()));
    let (code, out, err) = streamsim(&["compare", "scenarios/homework.yaml", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let table: String = out.lines().take_while(|l| !l.contains("report written")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("compare-homework", table);
    for f in [
        "index.html",
        "compare.md",
        "lag.svg",
        "lag.png",
        "duplicates.svg",
        "lost.svg",
        "at-most-once/index.html",
        "exactly-once/lag.svg",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let lag = std::fs::read_to_string(dir.join("lag.svg")).unwrap();
    for sem in ["at-most-once", "at-least-once", "effectively-once", "exactly-once", "crash analytics-1"] {
        assert!(lag.contains(sem), "the overlaid chart names {sem}");
    }
    let again = std::env::temp_dir().join(format!("streamsim-compare-again-{}", std::process::id()));
    let (code, _, _) = streamsim(&["compare", "scenarios/homework.yaml", "--out", again.to_str().unwrap()]);
    assert_eq!(code, 0);
    for f in ["index.html", "compare.md", "lag.svg", "lost.png", "at-least-once/summary.json"] {
        assert_eq!(std::fs::read(dir.join(f)).unwrap(), std::fs::read(again.join(f)).unwrap(), "{f} differs");
    }
    let (code, _, err) =
        streamsim(&["compare", "scenarios/homework.yaml", "--semantics", "at-most-once,exactly-twice"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown semantics `exactly-twice`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again);
}

/// `check` runs every scenario of a directory and fails when an expectation does.
#[test]
fn check_runs_a_directory_and_exits_1_on_a_failed_expectation() {
    let dir = std::env::temp_dir().join(format!("streamsim-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("scenarios/at-most-once.yaml", dir.join("a.yaml")).unwrap();
    let (code, out, err) = streamsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pass  at-most-once") && out.contains("1 scenario: 1 passed, 0 failed"), "{out}");
    let broken = std::fs::read_to_string("scenarios/at-most-once.yaml").unwrap().replace("lost: \"> 0\"", "lost: 0");
    std::fs::write(dir.join("b.yaml"), broken.replace("name: at-most-once", "name: b")).unwrap();
    let reports = dir.join("reports");
    let (code, out, _) = streamsim(&["check", dir.to_str().unwrap(), "--out", reports.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  b") && out.contains("replay: streamsim run"), "{out}");
    assert!(reports.join("at-most-once/index.html").exists() && reports.join("b/summary.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep gives the same results whatever the thread count, and its shards
/// merge into exactly the whole sweep.
#[test]
fn sweep_is_the_same_on_any_thread_count_and_shards_merge() {
    let run = |args: &[&str]| {
        let (code, out, err) = streamsim(args);
        assert!(code == 0 || code == 1, "{err}");
        out
    };
    let one = run(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..6", "--jobs", "1", "--json"]);
    let two = run(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..=5", "--jobs", "2", "--json"]);
    assert_eq!(one, two);
    let dir = std::env::temp_dir().join(format!("streamsim-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut shards = Vec::new();
    for k in 1..=3 {
        let out =
            run(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..6", "--shard", &format!("{k}/3"), "--json"]);
        let path = dir.join(format!("s{k}.json"));
        std::fs::write(&path, out).unwrap();
        shards.push(path.to_str().unwrap().to_string());
    }
    let mut args = vec!["sweep", "--json", "--merge"];
    args.extend(shards.iter().map(String::as_str));
    assert_eq!(run(&args), one, "merged shards equal the whole sweep");
    let report = run(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "0..6"]);
    assert!(report.contains("over 6 seeds") && report.contains("lost") && report.contains("median"), "{report}");
    let (code, _, err) = streamsim(&["sweep", "scenarios/at-most-once.yaml", "--seeds", "5..2"]);
    assert_eq!(code, 2);
    assert!(err.contains("is empty"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `run --trace` writes one JSON object per fact after a header (format
/// v3), and the summary's trace_hash is the digest of exactly those lines'
/// contents, which the last line, `end`, repeats.
#[test]
fn the_trace_file_is_what_the_trace_hash_digests() {
    use streamsim::oracle::trace::{Step, Trace};
    let path = std::env::temp_dir().join(format!("streamsim-trace-{}.jsonl", std::process::id()));
    let (code, out, err) =
        streamsim(&["run", "scenarios/at-most-once.yaml", "--json", "--trace", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!((header["trace"].as_str(), header["scenario"].as_str()), (Some("streamsim"), Some("at-most-once")));
    assert_eq!((header["version"].as_u64(), header["consumers"][0].as_str()), (Some(3), Some("billing-0")));
    assert_eq!(header["shape"]["consumers"][0]["name"].as_str(), Some("billing-0"));
    let mut digest = Trace::default();
    let mut kinds = std::collections::BTreeSet::new();
    let mut end = None;
    for line in lines {
        assert!(end.is_none(), "`end` is the last line");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let kind = Step::from_name(v["kind"].as_str().unwrap()).expect("a documented kind");
        kinds.insert(kind.name());
        let values: Vec<u64> = kind.fields().iter().map(|f| v[f].as_u64().expect(f)).collect();
        let extra = match kind {
            Step::Rebalance => 1,
            Step::End => 2,
            _ => 0,
        };
        assert_eq!(v.as_object().unwrap().len(), 2 + values.len() + extra, "{line}: t, kind and the values only");
        digest.fold(v["t"].as_u64().unwrap(), kind as u64, &values);
        if kind == Step::Rebalance {
            let members = v["assignment"].as_array().unwrap().iter().map(|m| {
                let parts: Vec<u64> = m[1].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect();
                (m[0].as_u64().unwrap(), parts.into_iter())
            });
            digest.fold_members(members);
        }
        if kind == Step::End {
            end = Some(v["trace_hash"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(digest.hex(), summary["trace_hash"].as_str().unwrap());
    assert_eq!(end.as_deref(), summary["trace_hash"].as_str(), "the `end` line repeats it");
    for k in ["send", "append", "ack", "fetch", "process", "commit", "crash", "rebalance", "assign", "position"] {
        assert!(kinds.contains(k), "{k} in the trace");
    }
    for k in ["lag", "producer_end", "group_end", "partition_end", "replica_end", "end"] {
        assert!(kinds.contains(k), "{k} in the trace");
    }
    let _ = std::fs::remove_file(&path);
}

/// `explain`: the causes, then one story per cause whose steps name their
/// trace lines; `--record` by name, `--kind`, `--json`; bad input exits 2.
#[test]
fn explain_tells_stories_and_refuses_bad_input() {
    let (code, out, err) = streamsim(&["explain", "scenarios/at-most-once.yaml", "--limit", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("31 lost records, one cause: crash of billing-0 at 20.000s between commit and processing"),
        "{out}"
    );
    assert!(out.contains("[trace line ") && out.contains("... and 30 more"), "{out}");

    let (code, out, _) = streamsim(&["explain", "scenarios/at-most-once.yaml", "--record", "shop-0#4721"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("lost: record").count(), 1, "{out}");
    assert!(out.contains("record shop-0#4721 (key-12)"), "{out}");

    let (code, _, err) = streamsim(&["explain", "scenarios/at-most-once.yaml", "--record", "nobody#1"]);
    assert_eq!(code, 2);
    assert!(err.contains("no record `nobody#1`") && err.contains("hint:") && err.contains("shop-0"), "{err}");
    let (code, _, err) = streamsim(&["explain", "scenarios/at-most-once.yaml", "--kind", "lostt"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown kind `lostt`"), "{err}");
    assert!(err.contains("poll_skip") && err.contains("aborted_read"), "the hint lists every kind: {err}");
    let (code, out, _) = streamsim(&["explain", "scenarios/homework.yaml", "--kind", "poll_skips"]);
    assert_eq!(code, 0, "the summary key names the kind too");
    assert!(out.contains("nothing to explain") && out.contains("of that kind"), "{out}");

    let (code, out, _) = streamsim(&["explain", "scenarios/homework.yaml", "--kind", "lost"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to explain") && out.contains("of that kind"), "{out}");

    let (code, out, _) = streamsim(&["explain", "scenarios/retries-reorder.yaml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is JSON");
    assert_eq!(v["duplicates"].as_u64(), Some(3));
    let stories = v["stories"].as_array().unwrap();
    // 3 duplicates, each also a redelivery (a plain sink: one story each,
    // `also: redelivered`), and 2 reorderings (6 while followers fetched
    // each partition on their own: replication, so acknowledgements and the
    // broken connection's place among the requests, moved by milliseconds,
    // and fewer later batches of the partition got through ahead of the retry).
    assert_eq!(stories.len(), 3 + 2, "--json gives every story");
    assert_eq!(stories.iter().filter(|s| s["also"] == "redelivered").count(), 3, "{stories:?}");
    for s in stories {
        let chain = s["chain"].as_array().unwrap();
        assert!(chain.iter().all(|l| l["line"].as_u64().is_some_and(|n| n >= 2)), "{s}");
    }
}

/// A reader that stops early (`explain ... | head`) ends the process
/// quietly, never with a panic.
#[test]
fn a_closed_pipe_ends_explain_without_a_panic() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["explain", "scenarios/rebalance-storm.yaml", "--limit", "200"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's reading end is dropped here.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}
