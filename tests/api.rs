//! The stable library surface: `Scenario`, `Simulation`, `Outcome` and its `Snapshot`, used as
//! a library user's crate uses them (only the crate root's items).

use streamsim::{Error, Scenario, Simulation};

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/");

fn shipped(name: &str) -> Scenario {
    Scenario::from_file(format!("{SHIPPED}{name}.yaml")).expect("a shipped scenario loads")
}

/// No faults, three consumers: heartbeats (AbstractCoordinator's HeartbeatThread sends one
/// every heartbeat.interval.ms) go to the coordinator and back, and nothing else reads them
/// while every member is alive.
const CALM: &str = "name: calm
seed: 5
duration: 10s
drain: 10s
brokers: 3
topics: [{ name: orders, partitions: 3, replication.factor: 3 }]
producers: [{ name: app, topic: orders, rate: 300/s }]
consumers:
  - group: billing
    topic: orders
    instances: 3
    config: { session.timeout.ms: 10000, auto.offset.reset: earliest }
";

/// A model change that moves the event count only: heartbeats three times as often add
/// kernel events (each heartbeat's request and response) and change the trace, but no
/// record's fate. The full summary moves; the snapshot must not.
#[test]
fn snapshot_does_not_move_when_only_the_event_count_does() {
    let calm = Scenario::from_str(CALM, "calm.yaml").unwrap();
    let slow = Simulation::new(&calm).consumer_property("heartbeat.interval.ms", "3000").run().unwrap();
    let fast = Simulation::new(&calm).consumer_property("heartbeat.interval.ms", "1000").run().unwrap();
    assert!(
        fast.summary().events > slow.summary().events,
        "more heartbeats, more events: {} vs {}",
        fast.summary().events,
        slow.summary().events
    );
    assert_ne!(fast.summary().trace_hash, slow.summary().trace_hash);
    assert_ne!(fast.summary(), slow.summary(), "the full summary pins `events`");
    // The event count and the trace are all that moved: with them blanked the summaries match.
    let blank = |s: &streamsim::Summary| streamsim::Summary { events: 0, trace_hash: String::new(), ..s.clone() };
    assert_eq!(blank(fast.summary()), blank(slow.summary()));
    assert_eq!(
        serde_json::to_string_pretty(&fast.snapshot()).unwrap(),
        serde_json::to_string_pretty(&slow.snapshot()).unwrap()
    );
    // Not an empty view: it holds the run's counts and its assignment.
    let snap = fast.snapshot();
    assert_eq!(snap.counts["delivered"], snap.counts["produced"]);
    assert!(snap.counts["produced"] > 2500, "{:?}", snap.counts);
    assert!(!snap.assignments.is_empty());
}

/// A shipped scenario's snapshot, pinned: every key in alphabetical order, no `events`,
/// `trace_hash` or timing.
#[test]
fn snapshot_of_at_least_once_is_pinned() {
    let outcome = Simulation::new(&shipped("at-least-once")).keep_steps(true).run().unwrap();
    let snap = outcome.snapshot();
    insta::assert_yaml_snapshot!("at-least-once", snap);
    let json = serde_json::to_value(&snap).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for volatile in ["events", "trace_hash", "virtual_end_ms", "latency_ms", "stop_the_world_ms"] {
        assert!(json.get(volatile).is_none() && !snap.counts.contains_key(volatile), "{volatile}");
    }
}

/// `Simulation`'s overrides are the command line's: the same as loading the file with
/// `--producer-property acks=1 --set seed=9` (the loader's own override path).
#[test]
fn overrides_are_the_command_lines() {
    let path = format!("{SHIPPED}acks-1-leader-failover.yaml");
    let scenario = Scenario::from_file(&path).unwrap();
    let lib = Simulation::new(&scenario).producer_property("acks", "all").set("seed", "9").run().unwrap();
    let overrides = streamsim::scenario::Overrides(vec![
        streamsim::scenario::Override::parse(streamsim::scenario::OverrideKind::Producer, "acks=all").unwrap(),
        streamsim::scenario::Override::parse(streamsim::scenario::OverrideKind::Set, "seed=9").unwrap(),
    ]);
    let loaded = streamsim::scenario::load_file_overridden(path.as_ref(), None, &overrides).unwrap();
    let cli = streamsim::simulate(loaded.scenario).unwrap();
    assert_eq!(lib.summary(), cli.summary());
    assert_eq!(lib.summary().seed, 9);
    // acks=1 loses acknowledged records at the failover; acks=all does not.
    let file = Simulation::new(&scenario).run().unwrap();
    assert!(file.summary().lost_acked > 0 && lib.summary().lost_acked == 0);
}

/// `seed` replaces the file's seed, and the same seed gives the same outcome.
#[test]
fn seed_override_replays() {
    let s = shipped("homework");
    let a = Simulation::new(&s).seed(42).run().unwrap();
    let b = Simulation::new(&s).seed(42).run().unwrap();
    let file = Simulation::new(&s).run().unwrap();
    assert_eq!(a.snapshot().seed, 42);
    assert_eq!(file.snapshot().seed, s.seed());
    assert_eq!(a.summary(), b.summary());
    assert_ne!(a.summary().trace_hash, file.summary().trace_hash);
}

/// An override Kafka would refuse names its flag, as the command line's error does.
#[test]
fn a_bad_override_is_a_located_error_naming_the_flag() {
    let s = shipped("homework");
    let err = Simulation::new(&s).producer_property("acks", "2").run().unwrap_err();
    let Error::Load { file, field, .. } = &err else { panic!("{err}") };
    assert_eq!(file, "--producer-property acks=2");
    assert!(field.ends_with("acks"), "{field}");
    assert!(err.to_string().starts_with("error: --producer-property acks=2: "), "{err}");
    let err = Simulation::new(&s).set("", "1").run().unwrap_err();
    assert!(matches!(err, Error::Override(_)), "{err}");
}

/// A scenario with a mistake: file, line, column and field, as the command line prints it.
#[test]
fn load_errors_are_located() {
    let err =
        Scenario::from_str("name: x\nduration: 10s\ntopics: [{ name: t, partitions: 0 }]\n", "x.yaml").unwrap_err();
    let Error::Load { file, line, column, field, .. } = &err else { panic!("{err}") };
    assert_eq!((file.as_str(), *line), ("x.yaml", 3));
    assert!(*column > 0 && field.contains("partitions"), "{field}");
    let missing = Scenario::from_file("/nonexistent/streamsim.yaml").unwrap_err();
    assert!(matches!(missing, Error::Load { line: 0, .. }), "{missing}");
    assert!(missing.to_string().starts_with("error: /nonexistent/streamsim.yaml: "), "{missing}");
}

/// Explanations need the steps: `None` without `keep_steps`, the causes with it, and the
/// snapshot lists the same causes.
#[test]
fn explain_needs_kept_steps() {
    let s = shipped("at-least-once");
    let plain = Simulation::new(&s).run().unwrap();
    assert!(plain.explain().is_none());
    assert!(plain.snapshot().causes.is_empty());
    let kept = Simulation::new(&s).keep_steps(true).run().unwrap();
    let e = kept.explain().expect("the steps were kept");
    assert!(e.causes.iter().any(|c| c.contains("duplicates")), "{:?}", e.causes);
    assert!(!e.stories.is_empty());
    assert_eq!(kept.snapshot().causes, e.causes);
    assert_eq!(kept.summary(), plain.summary(), "keeping steps changes no count");
}

/// Progress goes from 0 to 1, never back; the trace is the JSONL trace, header first.
#[test]
fn progress_and_trace() {
    let s = shipped("homework");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let mut seen = Vec::new();
    let outcome = Simulation::new(&s)
        .on_progress(|d| seen.push(d))
        .trace_to(std::fs::File::create(&path).unwrap())
        .run()
        .unwrap();
    assert!(seen.len() > 1 && seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&1.0));
    assert!(seen.iter().all(|d| (0.0..=1.0).contains(d)));
    let trace = std::fs::read_to_string(&path).unwrap();
    let lines = trace.lines().count() as u64;
    assert!(trace.starts_with('{') && lines > outcome.summary().produced, "{lines} lines");
}
