//! The views that read a run back from its facts: `timeline` (text and the
//! Perfetto trace-event file) and `consumer-groups`.

mod common;
use common::streamsim;
use std::collections::BTreeMap;

use serde_json::Value;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("streamsim-views-{}-{name}", std::process::id()))
}

/// The leader crash of acks-1-leader-failover, in order and with names: the
/// crash, the ISR shrinking, the election, the truncations, the return.
#[test]
fn timeline_of_a_leader_failover() {
    let (code, out, err) = streamsim(&["timeline", "scenarios/acks-1-leader-failover.yaml"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("timeline-acks-1-leader-failover", out);
}

/// Fencing and the aborted transaction of a producer paused past transaction.timeout.ms.
#[test]
fn timeline_names_fencing_and_aborts() {
    let (code, out, err) = streamsim(&["timeline", "scenarios/aborted-transactions.yaml"]);
    assert_eq!(code, 0, "{err}");
    // Epoch 22: transaction.version 2 (Kafka 4.x) bumps it at each of the 20 commits
    // before the pause, and initTransactions took epoch 1.
    assert!(out.contains("gateway    fenced at epoch 22: transaction.timeout.ms ran out"), "{out}");
    assert!(out.contains("gateway    transaction aborted (3 partitions)"), "{out}");
    let paused = out.find("gateway-0  paused for 12s").expect("the pause");
    assert!(paused < out.find("fenced").unwrap(), "time order: {out}");
}

#[test]
fn timeline_follows_a_record() {
    let (code, out, err) = streamsim(&["timeline", "scenarios/homework.yaml", "--record", "web-0#2900"]);
    assert_eq!(code, 0, "{err}");
    for step in [
        "sent to clicks/2",
        "appended to clicks/2 at offset",
        "copied to broker-",
        "acknowledged",
        "fetched",
        "processed at offset",
        "analytics committed offset",
    ] {
        assert!(out.contains(&format!("web-0#2900: {step}")), "{step}: {out}");
    }
}

#[test]
fn timeline_bad_input_exits_2_with_a_hint() {
    let (code, _, err) = streamsim(&["timeline", "scenarios/homework.yaml", "--record", "nobody#3"]);
    assert_eq!(code, 2);
    assert!(err.contains("no record `nobody#3`") && err.contains("web-0#0"), "{err}");
    let (code, _, err) = streamsim(&["timeline", "scenarios/homework.yaml", "--record", "web-0#999999"]);
    assert_eq!(code, 2);
    assert!(err.contains("web-0 sent 6000 records"), "{err}");
    let (code, _, err) = streamsim(&["timeline", "scenarios/homework.yaml", "--perfetto", "scenarios/homework.yaml"]);
    assert_eq!(code, 2, "an output onto the input is refused");
    assert!(err.contains("--perfetto"), "{err}");
    let (code, _, err) = streamsim(&["timeline", "no-such-file.yaml"]);
    assert_eq!(code, 2, "{err}");
}

fn u(e: &Value, k: &str) -> u64 {
    e[k].as_u64().unwrap_or_else(|| panic!("`{k}` is an unsigned integer in {e}"))
}

/// The Perfetto file follows the trace-event format (the JSON Object Format
/// of Google's "Trace Event Format" document): every event has `ph`, `pid`,
/// `tid` and an integer `ts` (µs); `M` events name processes and threads; `X`
/// events have a `dur`; async `b`/`e` events pair by category and id, the end
/// not before the begin; one flow `s` … `f` per chosen record, each step bound
/// to a slice on its thread at the same time.
#[test]
fn perfetto_file_follows_the_trace_event_format() {
    let path = temp("homework.json");
    let p = path.to_str().unwrap();
    let (code, _, err) = streamsim(&["timeline", "scenarios/homework.yaml", "--perfetto", p, "--record", "web-0#2900"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("valid JSON");
    std::fs::remove_file(&path).unwrap();
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    let mut process_names = BTreeMap::new();
    let mut open: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let mut slices = Vec::new();
    let mut by_cat: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        let (pid, tid, ts) = (u(e, "pid"), u(e, "tid"), u(e, "ts"));
        assert!(e["name"].is_string(), "{e}");
        *by_cat.entry((ph.to_string(), e["cat"].as_str().unwrap_or("").to_string())).or_default() += 1;
        match ph {
            "M" => {
                let name = e["args"]["name"].as_str().map(str::to_string);
                match e["name"].as_str().unwrap() {
                    "process_name" => {
                        process_names.insert(pid, name.expect("a process name"));
                    }
                    "thread_name" => assert!(name.is_some(), "{e}"),
                    "process_sort_index" => assert!(e["args"]["sort_index"].is_u64()),
                    other => panic!("unknown metadata {other}"),
                }
            }
            "X" => slices.push((pid, tid, ts, u(e, "dur"))),
            "b" => assert!(open.insert((e["cat"].as_str().unwrap().into(), u(e, "id")), ts).is_none(), "{e}"),
            "e" => {
                let begin =
                    open.remove(&(e["cat"].as_str().unwrap().into(), u(e, "id"))).expect("an end after its begin");
                assert!(ts >= begin, "{e}");
            }
            "i" => assert!(matches!(e["s"].as_str(), Some("t" | "g" | "p")), "{e}"),
            "s" | "t" | "f" => {
                assert_eq!(e["bp"], "e");
                assert!(
                    slices.iter().any(|&(p, t, s, _)| (p, t, s) == (pid, tid, ts)),
                    "a flow step binds to a slice: {e}"
                );
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    assert!(open.is_empty(), "every async begin has its end");
    let names: Vec<&str> = process_names.values().map(String::as_str).collect();
    assert_eq!(names, ["broker-0", "broker-1", "broker-2", "web-0", "analytics-0", "analytics-1", "analytics-2"]);
    let count = |ph: &str, cat: &str| by_cat.get(&(ph.to_string(), cat.to_string())).copied().unwrap_or(0);
    assert_eq!(count("b", "batch"), count("e", "batch"));
    assert!(count("b", "batch") > 0 && count("X", "processing") > 0, "{by_cat:?}");
    assert_eq!(count("b", "outage"), 1, "analytics-1's crash, never restarted");
    assert_eq!(count("b", "rebalance"), 6, "3 members of generation 1, 2 of generation 2 and the one that expired");
    assert_eq!((count("s", "record"), count("f", "record")), (1, 1));
    assert!(count("t", "record") >= 4, "{by_cat:?}");
    assert!(count("i", "incident") >= 4, "{by_cat:?}");
}

/// `kafka-consumer-groups --describe` as ConsumerGroupCommand prints it: at
/// 35 s analytics-1 crashed 5 s ago but its session (10 s) has not expired,
/// so Kafka still lists it holding clicks/2 and clicks/3, whose lag grows; at
/// 38 s the group rebalances, the coordinator describes no assignment, and
/// the rows are the committed offsets with `-` as consumer; at the end the
/// two survivors hold three partitions each, lag 0.
#[test]
fn consumer_groups_describe_as_kafka_prints_it() {
    let mut shown = String::new();
    for at in ["35s", "38s"] {
        let (code, out, err) = streamsim(&["consumer-groups", "scenarios/homework.yaml", "--at", at]);
        assert_eq!(code, 0, "{err}");
        shown += &format!("--at {at}\n{err}{out}\n");
    }
    let (code, out, err) = streamsim(&["consumer-groups", "scenarios/homework.yaml"]);
    assert_eq!(code, 0, "{err}");
    shown += &format!("(the end)\n{err}{out}");
    insta::assert_snapshot!("consumer-groups-homework", shown);
}

#[test]
fn consumer_groups_bad_input_exits_2_with_a_hint() {
    let (code, _, err) = streamsim(&["consumer-groups", "scenarios/homework.yaml", "--at", "ten"]);
    assert_eq!(code, 2);
    assert!(err.contains("--at `ten`") && err.contains("hint"), "{err}");
    // A bare number is a moment of the run: the hint suggests seconds.
    let (code, _, err) = streamsim(&["consumer-groups", "scenarios/homework.yaml", "--at", "30"]);
    assert_eq!(code, 2);
    assert!(err.contains("--at `30`: `30` has no unit") && err.contains("add a unit, e.g. `30s`"), "{err}");
    let (code, _, err) = streamsim(&["consumer-groups", "scenarios/homework.yaml", "--at", "10m"]);
    assert_eq!(code, 2);
    assert!(err.contains("the run ended at 73.500s") && err.contains("from 0s to 73.500s"), "{err}");
    let (code, _, err) = streamsim(&["consumer-groups", "no-such-file.yaml"]);
    assert_eq!(code, 2, "{err}");
}

/// The stall of acks-1-leader-failover (broker-0 dead but still in the ISR
/// from 10 s until the election at 19 s: the high watermark freezes) shows on
/// the lag chart: high watermark − committed stays 0 while log end −
/// committed climbs, and the delivered-per-second panel is flat at 0. The
/// crash is a shaded band to the restart; the election and ISR changes are marked.
#[test]
fn the_lag_chart_shows_a_frozen_high_watermark() {
    use streamsim::report::charts::Mark;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/acks-1-leader-failover.yaml");
    let sc = streamsim::scenario::load_file(&path).unwrap().scenario;
    let o = streamsim::simulate_with(sc, &mut |_| {}, None::<std::fs::File>, true).unwrap();
    let chart = streamsim::report::figures::lag(&o);
    let line = |label: &str| chart.lines.iter().find(|l| l.label == label).unwrap_or_else(|| panic!("{label}"));
    let at = |l: &streamsim::report::charts::Line, t: f64| l.points.iter().find(|p| p.0 >= t).unwrap().1;
    let (hw, end) = (line("high watermark − committed"), line("log end − committed"));
    assert!(at(hw, 15.0) < 50.0, "the high watermark is frozen: {}", at(hw, 15.0));
    assert!(at(end, 15.0) > 5000.0, "the log end is not: {}", at(end, 15.0));
    let delivered = &chart.panel.as_ref().expect("a throughput panel").lines[0];
    assert!(at(delivered, 15.0) < 100.0, "next to nothing is delivered during the stall: {}", at(delivered, 15.0));
    assert!(chart.bands.iter().any(|(a, b, l)| (*a, *b) == (10.0, 25.0) && l == "crash broker-0"), "{:?}", chart.bands);
    for m in [Mark::Election, Mark::IsrShrink, Mark::IsrExpand, Mark::Rebalance] {
        assert!(chart.marks.iter().any(|(_, k)| *k == m), "{m:?} marked");
    }
    assert!(chart.lines.iter().filter(|l| l.label.starts_with("partition ")).count() == 3, "labelled partitions");
}

/// The report page holds the command that replays the run, its timeline,
/// explain's stories and the scenario file itself.
#[test]
fn the_report_page_has_replay_timeline_stories_and_scenario() {
    let dir = temp("report");
    let (code, _, err) = streamsim(&["run", "scenarios/acks-1-leader-failover.yaml", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(html.contains("streamsim run scenarios/acks-1-leader-failover.yaml --seed 2 --out report"), "replay");
    assert!(html.contains("<td>10.000s</td><td>broker-0</td><td>crashed</td>"), "timeline row");
    assert!(html.contains("<td>events/0</td><td>broker-1 elected leader (epoch 1)</td>"), "election row");
    assert!(html.contains("<pre class=\"story\">lost: record app-0#"), "a story");
    let yaml = std::fs::read_to_string("scenarios/acks-1-leader-failover.yaml").unwrap();
    let first = yaml.lines().find(|l| l.starts_with("name:")).unwrap();
    assert!(html.contains(first), "the scenario text");
}
