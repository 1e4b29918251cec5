//! Explanations: every anomaly of every shipped scenario has a story whose
//! every step is a real step of the trace, the stories add up to the
//! summary's counts, no cause is left unexplained, and the causes are the
//! mechanisms the scenarios describe. Minimizing a chaos failure gives a
//! smaller scenario that fails the same way.

mod common;

use std::path::Path;

use streamsim::kernel::time::{Duration, Instant};
use streamsim::model::ids::{
    BrokerId, ConsumerId, Generation, GroupId, Incarnation, LeaderEpoch, PartitionId, ProducerId, RecordId, TxnId,
};
use streamsim::oracle::explain::{cause_lines, mechanism_lines, Anomaly, Cause, Disruption, Failover, LeaderLoss};
use streamsim::oracle::fact::{Fact, PositionSource};
use streamsim::oracle::trace::SendError;
use streamsim::scenario::load_file;
use streamsim::Explained;

fn explain(name: &str) -> Explained {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.yaml"));
    let sc = load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario;
    streamsim::simulate_explained(sc).expect("runs")
}

/// Every lost record, duplicate effect, reordering and late event of every
/// shipped scenario has exactly one story; each link of a story is a step
/// of the trace at the time it says; nothing is unexplained. The causes and
/// one story per scenario are pinned.
#[test]
fn every_anomaly_of_every_shipped_scenario_has_a_traced_cause() {
    let mut pinned = String::new();
    for name in common::shipped() {
        let Explained { summary: s, explanation: e, world } = explain(&name);
        assert_eq!(e.count(Anomaly::Lost) as u64, s.lost, "{name}: a story per lost record");
        assert_eq!(e.count(Anomaly::Duplicate) as u64, s.duplicates, "{name}: a story per duplicate effect");
        assert_eq!(e.count(Anomaly::Reordered) as u64, s.reordered, "{name}: a story per reordering");
        assert_eq!(e.count(Anomaly::Late) as u64, s.late_events, "{name}: a story per late event");
        assert_eq!(e.count(Anomaly::Redelivered) as u64, s.redelivered, "{name}: a story per redelivery");
        assert_eq!(e.count(Anomaly::LostWrite) as u64, s.lost_writes, "{name}: a story per lost write");
        assert_eq!(e.count(Anomaly::Unavailable) as u64, s.unavailable, "{name}: a story per unavailable record");
        assert_eq!(e.count(Anomaly::Unsent) as u64, s.unsent, "{name}: a story per unsent record");
        // A story told for two kinds (a plain sink's duplicate that is also a redelivery) counts under each.
        let kinds: usize = e.stories.iter().map(|s| 1 + usize::from(s.also.is_some())).sum();
        assert_eq!(e.causes.iter().map(|c| c.2).sum::<usize>(), kinds, "{name}: causes count every story's kinds");
        let steps: Vec<_> = world.oracle.trace.kept.as_ref().expect("kept").iter().collect();
        for story in &e.stories {
            assert!(
                !matches!(story.cause, Cause::Unexplained { .. }),
                "{name}: {}\n{}",
                story.cause_text,
                story.text()
            );
            assert!(story.chain.len() >= 3, "{name}: a chain, not a label:\n{}", story.text());
            for pair in story.chain.windows(2) {
                assert!(pair[0].t <= pair[1].t, "{name}: chains run forward in time:\n{}", story.text());
            }
            for link in &story.chain {
                // `link.step` is the step's place among the trace's lines (its line is + 2).
                let at = steps.binary_search_by_key(&link.step, |s| s.line).expect("a link names a step of the trace");
                let step = &steps[at];
                assert_eq!(step.t, link.t, "{name}: link time is its step's time:\n{}", story.text());
            }
        }
        pinned.push_str(&format!("{name}:\n"));
        for line in mechanism_lines(&e) {
            pinned.push_str(&format!("  in all: {line}\n"));
        }
        let lines = cause_lines(&e);
        for line in lines.iter().take(6) {
            pinned.push_str(&format!("  {line}\n"));
        }
        if lines.len() > 6 {
            pinned.push_str(&format!("  ... {} causes in all\n", lines.len()));
        }
        if let Some(story) = e.sample(1).first() {
            for line in story.text().lines() {
                pinned.push_str(&format!("    {line}\n"));
            }
        }
    }
    insta::assert_snapshot!("explain-causes", pinned);
}

fn causes(name: &str) -> Vec<(Anomaly, Cause, usize)> {
    explain(name).explanation.causes.into_iter().map(|(a, c, k, _)| (a, c, k)).collect()
}

/// The typed causes are the mechanisms each scenario's comment describes.
#[test]
fn the_causes_are_the_mechanisms_the_scenarios_describe() {
    use Anomaly::*;
    let crash_20s = Disruption::Crash { at: 20_000_000 };
    assert_eq!(
        causes("at-most-once"),
        [(Lost, Cause::CommittedUnprocessed { consumer: 0, how: crash_20s }, 31)],
        "commit before processing, then the crash"
    );
    assert_eq!(
        causes("at-least-once"),
        [
            (Duplicate, Cause::Reprocessed { consumer: 0, how: crash_20s }, 70),
            (Redelivered, Cause::Reprocessed { consumer: 0, how: crash_20s }, 70)
        ],
        "processing before commit, then the crash: each redelivery is a duplicate on the plain sink"
    );
    // The idempotent sink absorbs the redeliveries of the same mechanism.
    assert!(matches!(
        causes("homework")[..],
        [(Redelivered, Cause::Reprocessed { how: Disruption::Crash { at: 30_000_000 }, .. }, 6)]
    ));
    // The consumer crash and the zombie (paused past its session) are
    // reprocessed without a duplicate effect.
    let eos = causes("exactly-once");
    assert!(eos.iter().all(|c| c.0 == Redelivered), "{eos:?}");
    assert!(eos.iter().any(|c| matches!(c.1, Cause::Reprocessed { how: Disruption::Paused { .. }, .. })));
    assert!(eos.iter().any(|c| matches!(c.1, Cause::Reprocessed { how: Disruption::Crash { .. }, .. })));
    let acks1 = causes("acks-1-leader-failover");
    assert!(acks1.iter().any(|c| matches!(
        c,
        (Lost, Cause::Failover { broker: 0, lost_at: 10_000_000, fault: LeaderLoss::Crash, how: Failover::Acks1 }, 9)
    )));
    assert!(acks1.iter().any(|c| matches!(c.1, Cause::RetriedBehind { .. })));
    // Both followers crash; the ISR shrinks to the leader; the stale follower
    // is elected. The same records are lost to the group and lost writes of the log.
    assert!(matches!(
        causes("unclean-election")[..],
        [
            (Lost, Cause::Failover { broker: 0, how: Failover::IsrOfOneThenUnclean, .. }, 3037),
            (LostWrite, Cause::Failover { broker: 0, how: Failover::IsrOfOneThenUnclean, .. }, 3037),
            (Lost, Cause::Failover { broker: 0, how: Failover::Unclean, .. }, 8),
            (LostWrite, Cause::Failover { broker: 0, how: Failover::Unclean, .. }, 8)
        ]
    ));
    assert!(matches!(
        causes("isr-shrink-jepsen-2013")[0].1,
        Cause::Failover { how: Failover::IsrOfOneThenUnclean, .. }
    ));
    assert!(matches!(causes("offset-reset-latest")[..], [(Lost, Cause::ResetToLatest { .. }, 533)]));
    assert!(matches!(
        causes("auto-commit-async")[..],
        [(Lost, Cause::CommittedUnprocessed { how: Disruption::Crash { .. }, .. }, 366)]
    ));
    // The 60 records the producer sent in the transaction between its start
    // (10.198 s) and the pause (10.5 s), at 200/s.
    assert!(matches!(
        causes("aborted-transactions")[..],
        [(Duplicate, Cause::AbortedAndResent { by_timeout: true, .. }, 60), (Redelivered, _, 60)]
    ));
    for (a, c, _) in causes("rebalance-storm") {
        assert!(matches!(a, Duplicate | Redelivered));
        assert!(
            matches!(
                c,
                Cause::Reprocessed { how: Disruption::PollTimeout { .. } | Disruption::MissedRebalance { .. }, .. }
            ),
            "{c:?}"
        );
    }
    let retries = causes("retries-reorder");
    assert!(retries.iter().all(|c| c.0 != Lost));
    assert!(retries.iter().any(|c| matches!(c.1, Cause::WrittenTwice { idempotent: false, .. })));
    assert!(retries.iter().any(|c| matches!(c.1, Cause::RetriedBehind { .. })));
    assert!(matches!(
        causes("kinesis-vs-kafka")[..],
        [(Reordered, Cause::RetriedBehind { error: SendError::Throttled, .. }, _)]
    ));
    let late = causes("out-of-order");
    assert!(matches!(late[0], (Late, Cause::HeldOffline { .. }, _)), "{late:?}");
    for quiet in ["backpressure", "cooperative-vs-eager"] {
        assert!(causes(quiet).is_empty(), "{quiet} has no anomaly to explain");
    }
}

/// The trace line a story names is that step in the file `run --trace` writes.
#[test]
fn story_links_point_at_lines_of_the_written_trace() {
    let path = std::env::temp_dir().join(format!("streamsim-explain-{}.jsonl", std::process::id()));
    let sc = load_file(Path::new("scenarios/acks-1-leader-failover.yaml")).unwrap().scenario;
    let file = std::fs::File::create(&path).unwrap();
    streamsim::simulate_with(sc, &mut |_| {}, Some(file), false).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let Explained { explanation: e, .. } = explain("acks-1-leader-failover");
    let kinds = |story: &streamsim::oracle::explain::Story| -> Vec<String> {
        story
            .chain
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(lines[l.line() as usize - 1]).unwrap();
                assert_eq!(v["t"].as_u64(), Some(l.t), "line {} is the step at {}", l.line(), l.t);
                v["kind"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let lost = e.stories.iter().find(|s| s.anomaly == Anomaly::Lost).expect("a lost record");
    let k = kinds(lost);
    for kind in ["send", "append", "ack", "crash", "elect", "truncate"] {
        assert!(k.iter().any(|x| x == kind), "{kind} in {k:?}\n{}", lost.text());
    }
    let reordered = e.stories.iter().find(|s| s.anomaly == Anomaly::Reordered).expect("a reordering");
    let k = kinds(reordered);
    assert!(k.iter().any(|x| x == "retry") && k.iter().filter(|x| *x == "append").count() == 2, "{k:?}");
    let _ = std::fs::remove_file(&path);
}

/// A chaos failure minimizes to a strictly smaller scenario that loads, and
/// fails the same expectation.
#[test]
fn minimizing_a_chaos_failure_gives_a_smaller_failing_scenario() {
    use streamsim::oracle::minimize::{failing, minimize, rewrite};
    let yaml = CHAOS;
    let sc = streamsim::scenario::load_str(yaml, "chaos.yaml").expect("valid").scenario;
    assert_eq!(failing(&sc), Some(vec!["duplicates".to_string()]));
    let m = minimize(sc).expect("it fails, so it minimizes");
    let smaller = m.scenario.faults.len() < m.faults_before || m.scenario.duration < m.duration_before;
    assert!(m.produced_after < m.produced_before, "fewer records: {} of {}", m.produced_after, m.produced_before);
    assert!(
        smaller,
        "{} faults of {}, {} of {}",
        m.scenario.faults.len(),
        m.faults_before,
        m.scenario.duration,
        m.duration_before
    );
    assert!(m.scenario.faults.len() <= 3, "{:?}", m.scenario.faults);
    let text = rewrite(yaml, &m).expect("the producers can be edited");
    assert!(!text.contains("chaos:") && text.contains("Minimized by"), "{text}");
    let again = streamsim::scenario::load_str(&text, "min.yaml").unwrap_or_else(|e| panic!("{e}\n{text}")).scenario;
    assert_eq!(again.faults.len(), m.scenario.faults.len());
    assert!(failing(&again).is_some_and(|f| f.contains(&"duplicates".to_string())), "{text}");
    // Deterministic.
    let m2 = minimize(streamsim::scenario::load_str(yaml, "chaos.yaml").unwrap().scenario).unwrap();
    assert_eq!(rewrite(yaml, &m2).unwrap(), text);
}

/// The loop a user runs: `sweep` finds failing seeds of a chaos scenario;
/// `explain --minimize` shrinks the first to a small file (a few explicit
/// faults, fewer records, a shorter run) that still fails the same way, and
/// `explain` of that file has a few causes, none unexplained.
#[test]
fn a_failure_found_by_sweep_minimizes_to_a_small_readable_scenario() {
    let bin = env!("CARGO_BIN_EXE_streamsim");
    let dir = std::env::temp_dir().join(format!("streamsim-minimize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chaos.yaml");
    std::fs::write(&file, CHAOS).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let f = file.to_str().unwrap();
    let (code, out, _) = run(&["sweep", f, "--seeds", "0..10", "--jobs", "2", "--json"]);
    assert_eq!(code, Some(1), "some seeds fail");
    let sweep: serde_json::Value = serde_json::from_str(&out).unwrap();
    let seed = sweep["runs"].as_array().unwrap().iter().find(|r| r["pass"] == false).unwrap()["seed"].as_u64().unwrap();
    let small = dir.join("small.yaml");
    let (code, _, err) =
        run(&["explain", f, "--seed", &seed.to_string(), "--minimize", "--out", small.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&small).unwrap();
    let sc = streamsim::scenario::load_str(&text, "small.yaml").unwrap_or_else(|e| panic!("{e}\n{text}")).scenario;
    assert!(sc.chaos.is_none() && sc.faults.len() <= 4, "a few explicit faults:\n{text}");
    assert!(text.lines().count() < 40, "short enough to read:\n{text}");
    assert!(streamsim::oracle::minimize::failing(&sc).is_some_and(|f| f.contains(&"duplicates".to_string())), "{text}");
    let (code, out, _) = run(&["explain", small.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0));
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    let causes = e["causes"].as_array().unwrap();
    assert!(!causes.is_empty() && causes.len() <= 6, "{causes:?}");
    assert!(causes.iter().all(|c| !c["cause"].as_str().unwrap().starts_with("unexplained")), "{causes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

const CHAOS: &str = "name: chaos-alo
seed: 3
duration: 40s
drain: 60s
semantics: at-least-once
brokers: 3
topics:
  - { name: t, partitions: 4, replication.factor: 3, config: { min.insync.replicas: 2 } }
producers:
  - { name: p, rate: 200/s, keys: 40 }
consumers:
  - { group: g, instances: 2, processing_time: { exp: 4ms }, config: { session.timeout.ms: 8000, max.poll.records: 50 } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 6/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers] }
expect:
  duplicates: 0
";

/// Random faults over configurations that fail in every way explain knows
/// (acks=1 and unclean elections, transactions with producer crashes,
/// network loss with timeouts and async auto-commit, clocks ahead and behind
/// with frozen brokers, at-most-once with zombies): every anomaly still has a chain of trace steps to a cause,
/// never `unexplained`, and the stories add up to the counts. The seeds
/// include the ones that taught explain each of its later cases.
#[test]
fn chaos_runs_leave_nothing_unexplained() {
    let cases: [(&str, &[u64]); 4] = [
        (ACKS_1_UNCLEAN, &[0, 1, 2, 3]),
        (TRANSACTIONS, &[2, 47]),
        (LOSSY_ASYNC, &[3, 5, 42, 45]),
        (EVENT_TIME, &[1, 3]),
    ];
    let at_most_once = CHAOS.replace("semantics: at-least-once", "semantics: at-most-once");
    let cases = cases.into_iter().chain([(at_most_once.as_str(), &[0u64, 7][..])]);
    let mut seen = std::collections::BTreeSet::new();
    for (yaml, seeds) in cases {
        for &seed in seeds {
            let mut sc = streamsim::scenario::load_str(yaml, "chaos.yaml").expect("valid").scenario;
            sc.seed = seed;
            let Explained { summary: s, explanation: e, .. } = streamsim::simulate_explained(sc).expect("runs");
            let name = format!("{} seed {seed}", s.scenario);
            for story in &e.stories {
                assert!(!matches!(story.cause, Cause::Unexplained { .. }), "{name}:\n{}", story.text());
            }
            assert_eq!(e.count(Anomaly::Lost) as u64, s.lost, "{name}");
            assert_eq!(e.count(Anomaly::Duplicate) as u64, s.duplicates, "{name}");
            assert_eq!(e.count(Anomaly::Reordered) as u64, s.reordered, "{name}");
            assert_eq!(e.count(Anomaly::Redelivered) as u64, s.redelivered, "{name}");
            assert_eq!(e.count(Anomaly::Late) as u64, s.late_events, "{name}");
            assert_eq!(e.count(Anomaly::LostWrite) as u64, s.lost_writes, "{name}");
            assert_eq!(e.count(Anomaly::Unavailable) as u64, s.unavailable, "{name}");
            assert_eq!(e.count(Anomaly::Unsent) as u64, s.unsent, "{name}");
            seen.extend(e.causes.iter().map(|c| c.1.mechanism()));
        }
    }
    for m in [
        "a leader failover",
        "a producer crash",
        "an aborted transaction never sent again",
        "a retry that wrote a record twice",
        "a retry landing behind later records",
        "a consumer pause the group did not wait for",
        "auto.offset.reset=latest",
        "a clock ahead",
        "a clock behind",
        "a write delayed past newer events",
    ] {
        assert!(seen.contains(m), "the cases still reach `{m}`: {seen:?}");
    }
}

const ACKS_1_UNCLEAN: &str = r#"name: v1
duration: 40s
drain: 60s
brokers: 3
topics:
  - { name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 1, unclean.leader.election.enable: true, replica.lag.time.max.ms: 5000 } }
producers:
  - { name: p, rate: 200/s, keys: 20, config: { acks: 1, enable.idempotence: false } }
consumers:
  - { group: g, instances: 2, commit: after-processing, processing_time: { exp: 3ms }, config: { session.timeout.ms: 8000, enable.auto.commit: false } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 8/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers, producers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers, producers] }
  partition: { rate: 2/min, for: { uniform: [1s, 10s] } }
expect:
  lost: 0
"#;

const TRANSACTIONS: &str = r#"name: v2
duration: 40s
drain: 60s
semantics: exactly-once
brokers: 3
topics:
  - { name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 2 } }
producers:
  - { name: p, rate: 200/s, keys: 20, config: { transaction.timeout.ms: 4000 } }
consumers:
  - { group: g, instances: 2, processing_time: { exp: 3ms }, config: { session.timeout.ms: 8000 } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 8/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers, producers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers, producers] }
expect:
  lost: 0
"#;

const LOSSY_ASYNC: &str = r#"name: v3
duration: 40s
drain: 60s
brokers: 3
network: { latency: 1ms, loss: 0.001 }
topics:
  - { name: t, partitions: 3, replication.factor: 3 }
producers:
  - { name: p, rate: 200/s, keys: 20, config: { enable.idempotence: false, request.timeout.ms: 2000 } }
consumers:
  - { group: g, instances: 2, commit: auto, processing: async, processing_time: { exp: 3ms }, config: { session.timeout.ms: 8000, auto.offset.reset: latest } }
  - { group: h, instances: 2, commit: before-processing, processing_time: { exp: 2ms }, config: { session.timeout.ms: 6000, partition.assignment.strategy: cooperative-sticky } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 8/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers, producers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers, producers] }
expect:
  lost: 0
"#;

const EVENT_TIME: &str = r#"name: late
seed: 1
duration: 60s
brokers: 3
topics:
  - { name: v, partitions: 3, replication.factor: 3 }
producers:
  - { name: a, rate: 30/s, keys: 10, event_time: { skew: { ahead: 3s } } }
  - { name: b, rate: 30/s, keys: 10, event_time: { skew: { behind: 2s }, delay: { exp: 300ms } } }
  - { name: c, rate: 10/s, keys: 5, event_time: { offline: { every: 20s, for: 5s } } }
consumers:
  - group: s
    instances: 2
    processing_time: { exp: 5ms }
    commit: after-processing
    config: { auto.offset.reset: earliest, session.timeout.ms: 6000 }
    aggregate: { window: { sliding: { size: 10s, every: 5s } }, watermark: 1s, late: drop }
chaos:
  from: 5s
  until: 50s
  pause: { rate: 4/min, for: { uniform: [100ms, 8s] }, targets: [consumers, brokers] }
expect:
  late_events: 0
"#;

/// A world of the aborted-transactions scenario (one transactional producer
/// `gateway-0`, one consumer `ledger-0`) that never runs: the test hands its
/// oracle a fact stream of its own, as a model bug would emit it. Shipped
/// scenarios have no poll skip and no aborted read (tests/outcomes.rs), so
/// their stories can only be shown this way.
fn hand_built(read_committed: bool, facts: impl FnOnce(&mut dyn FnMut(u64, Fact))) -> streamsim::world::World {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/aborted-transactions.yaml");
    let mut sc = load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario;
    if read_committed {
        sc.consumers[0].config.isolation_level = streamsim::scenario::IsolationLevel::ReadCommitted;
    }
    let mut w = streamsim::world::World::new(sc);
    w.oracle.trace.kept = Some(streamsim::oracle::kept::Kept::default());
    let leader = BrokerId::new(w.oracle.observed.shape.partitions[0].replicas[0]);
    let oracle = &mut w.oracle;
    let mut emit = |ms: u64, f: Fact| oracle.emit(Instant::ZERO.add(Duration::from_ms(ms)), f);
    emit(0, Fact::Elect { partition: P0, leader: Some(leader), epoch: LeaderEpoch::new(1), unclean: false });
    for r in 0..4u32 {
        emit(10 + u64::from(r), send(r));
        emit(
            20 + u64::from(r),
            Fact::Append { record: RecordId::new(r), partition: P0, offset: r.into(), broker: leader },
        );
    }
    emit(30, Fact::Assign { consumer: C0, partition: P0, generation: Generation::new(1) });
    emit(31, Fact::Position { consumer: C0, partition: P0, offset: 0, source: PositionSource::Reset });
    facts(&mut emit);
    w
}

const P0: PartitionId = PartitionId::new(0);
const C0: ConsumerId = ConsumerId::new(0);

fn send(r: u32) -> Fact {
    Fact::Send {
        record: RecordId::new(r),
        producer: ProducerId::new(0),
        partition: P0,
        key: r,
        send_seq: r.into(),
        event_us: 0,
        producer_inc: Incarnation::new(0),
    }
}

fn process(r: u32, ms_offset: u64) -> Fact {
    Fact::Process { record: RecordId::new(r), consumer: C0, group: GroupId::new(0), offset: ms_offset, effect: true }
}

/// Jepsen's poll-skip, as the oracle defines it (`Observed::fetched`): a
/// consumer's fetch of a partition begins past where its last fetch of it
/// ended, with no seek, assignment, revocation or restart between. Here
/// ledger-0 fetches 0..2, then 3..4: offset 2 (gateway-0#2) is never read.
#[test]
fn a_poll_skip_has_a_story_naming_both_fetches_and_the_skipped_record() {
    let w = hand_built(false, |emit| {
        emit(40, Fact::Fetch { consumer: C0, partition: P0, from: 0, to: 2 });
        emit(41, process(0, 0));
        emit(42, process(1, 1));
        emit(50, Fact::Fetch { consumer: C0, partition: P0, from: 3, to: 4 });
        emit(51, process(3, 3));
    });
    assert_eq!((w.oracle.observed.poll_skips, w.oracle.observed.nonmonotonic_polls), (1, 0));
    let e = streamsim::oracle::explain::explain(&w, &[]);
    let skips: Vec<_> = e.stories.iter().filter(|s| s.anomaly == Anomaly::PollSkip).collect();
    assert_eq!(skips.len(), 1, "one story per poll skip");
    let s = skips[0];
    assert_eq!(s.cause, Cause::PollSkip { consumer: 0, partition: 0 });
    assert_eq!(s.record, 2, "the story's record is the first one in the gap");
    assert_eq!(s.chain.len(), 3, "both fetches and the skipped append: {}", s.text());
    assert!(e.stories.iter().all(|s| s.anomaly != Anomaly::AbortedRead), "read_uncommitted has no aborted read");
    insta::assert_snapshot!("explain-poll-skip", s.text());
    // A position set between the fetches (a seek) explains the jump: no poll skip.
    let seeked = hand_built(false, |emit| {
        emit(40, Fact::Fetch { consumer: C0, partition: P0, from: 0, to: 2 });
        emit(45, Fact::Position { consumer: C0, partition: P0, offset: 3, source: PositionSource::Committed });
        emit(50, Fact::Fetch { consumer: C0, partition: P0, from: 3, to: 4 });
    });
    assert_eq!(seeked.oracle.observed.poll_skips, 0);
    assert_eq!(streamsim::oracle::explain::explain(&seeked, &[]).count(Anomaly::PollSkip), 0);
}

/// Jepsen's aborted-read: a read_committed group processes a record whose
/// transaction's abort marker is in the final log. Kafka's read_committed
/// consumer drops such records (Fetcher / CompletedFetch with the
/// AbortedTransaction list), so the model never does it; the fact stream of
/// a consumer that ignored the marker shows each one with the append, the
/// marker and the processing.
#[test]
fn an_aborted_read_has_a_story_naming_the_abort_marker_and_the_processing() {
    let facts = |emit: &mut dyn FnMut(u64, Fact)| {
        emit(35, Fact::Marker { partition: P0, offset: 4, commit: false, txn: TxnId::new(0) });
        emit(40, Fact::Fetch { consumer: C0, partition: P0, from: 0, to: 5 });
        emit(41, process(0, 0));
        emit(42, process(1, 1));
    };
    let w = hand_built(true, facts);
    let e = streamsim::oracle::explain::explain(&w, &[]);
    let reads: Vec<_> = e.stories.iter().filter(|s| s.anomaly == Anomaly::AbortedRead).collect();
    assert_eq!(reads.len(), 2, "one story per aborted record processed");
    assert!(reads.iter().all(|s| s.cause == Cause::AbortedRead { group: 0, txn: 0, at: 35_000 }), "{reads:?}");
    assert_eq!(reads.iter().map(|s| s.record).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(reads[0].chain.len(), 3, "append, marker, processing: {}", reads[0].text());
    insta::assert_snapshot!("explain-aborted-read", reads[0].text());
    // The same stream read with read_uncommitted is no aborted read (that level reads aborted records by design).
    let ru = hand_built(false, facts);
    assert_eq!(streamsim::oracle::explain::explain(&ru, &[]).count(Anomaly::AbortedRead), 0);
}

fn explain_fixture(file: &str, seed: u64) -> Explained {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(file);
    let mut sc = load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario;
    sc.seed = seed;
    streamsim::simulate_explained(sc).expect("runs")
}

/// librdkafka stores a message's offset + 1 when it hands it to the application
/// (rdkafka_op.c `rd_kafka_fetch_op_app_prepare` → rdkafka_offset.c `rd_kafka_update_app_pos`
/// → `rd_kafka_offset_store0` with `enable.auto.offset.store=true`), and its auto-commit timer
/// (rdkafka_cgrp.c `rd_kafka_cgrp_offset_commit_tmr_cb`) commits the store mid-batch. The story
/// of a record lost that way names the store, the commit past the unprocessed records, the
/// crash and how many records it skipped; every lost record has it.
#[test]
fn librdkafka_offset_store_loss_has_a_story_naming_the_store_the_commit_and_the_crash() {
    let Explained { summary: s, explanation: e, .. } = explain_fixture("librdkafka-auto-commit.yaml", 1);
    assert!(s.lost > 0);
    let crash = Cause::OffsetStore { consumer: 0, how: Some(Disruption::Crash { at: 30_500_000 }) };
    let lost: Vec<_> = e.stories.iter().filter(|st| st.anomaly == Anomaly::Lost).collect();
    assert_eq!(lost.len() as u64, s.lost);
    assert!(lost.iter().all(|st| st.cause == crash), "{}", lost[0].text());
    assert_eq!(crash.mechanism(), "librdkafka's offset store committed before processing");
    let text = lost[0].text();
    for words in ["enable.auto.offset.store=true", "auto-commit timer", "g-0 crashed", "committed and never processed"]
    {
        assert!(text.contains(words), "`{words}` in:\n{text}");
    }
    insta::assert_snapshot!("explain-offset-store", text);
}

/// The same store with nothing ending the member's hold: the run ends while it is still working
/// through a batch its timer already committed (the audit's default workload, whose group still
/// lags when the run ends). The story says the run ended, not that something crashed.
#[test]
fn librdkafka_offset_store_commit_at_the_run_end_is_named_as_such() {
    let yaml = "name: audit\nduration: 50s\ndrain: 40s\nbrokers: 3\ntopics:\n  - { name: orders, partitions: 12, replication.factor: 3 }\nproducers:\n  - { name: app, rate: 300/s, keys: 1000 }\nconsumers:\n  - group: orders\n    instances: 3\n    processing_time: { exp: 9ms }\n    client: librdkafka\n    config: { auto.offset.reset: earliest, max.poll.records: 100 }\nseed: 2\nfaults: [{ at: 19.600s, crash: orders-0 }, { at: 24.600s, restart: orders-0 }]\n";
    let sc = streamsim::scenario::load_str(yaml, "audit.yaml").expect("valid").scenario;
    let Explained { summary: s, explanation: e, .. } = streamsim::simulate_explained(sc).expect("runs");
    assert!(s.lost > 0);
    let lost: Vec<_> = e.stories.iter().filter(|st| st.anomaly == Anomaly::Lost).collect();
    assert_eq!(lost.len() as u64, s.lost);
    assert!(lost.iter().all(|st| st.cause == Cause::OffsetStore { consumer: 0, how: None }), "{}", lost[0].text());
    assert!(lost[0].cause_text.contains("the run ended at 90.000s"), "{}", lost[0].cause_text);
}

/// `explain --kind failed`: a send the producer gave up on (Sender.failBatch once
/// delivery.timeout.ms has passed) has a story of its send, each retried attempt and the error
/// the callback got. Both followers crash, so with min.insync.replicas=2 nothing is acknowledged
/// (the first writes were appended before the ISR shrank: failed does not mean absent from the
/// log). Failed sends are not anomalies: `explain` alone leaves them out.
#[test]
fn a_failed_send_has_a_story_of_its_attempts_and_error() {
    let yaml = "name: failed\nseed: 1\nduration: 10s\ndrain: 20s\nbrokers: 3\ntopics:\n  - { name: t, partitions: 1, replication.factor: 3, config: { min.insync.replicas: 2 } }\nproducers:\n  - { name: p, rate: 50/s, keys: 10, config: { acks: all, delivery.timeout.ms: 3000, request.timeout.ms: 1000, linger.ms: 0 } }\nfaults:\n  - { at: 2s, crash: broker-1 }\n  - { at: 2s, crash: broker-2 }\n  - { at: 9s, restart: broker-1 }\n";
    let sc = streamsim::scenario::load_str(yaml, "failed.yaml").expect("valid").scenario;
    let Explained { summary: s, explanation: e, world } = streamsim::simulate_explained(sc).expect("runs");
    assert!(s.failed > 0);
    assert_eq!(e.count(Anomaly::Failed), 0, "not an anomaly");
    let f = streamsim::oracle::explain::explain_failed(&world);
    assert_eq!(f.count(Anomaly::Failed) as u64, s.failed, "a story per failed send");
    let timeout = Cause::SendFailed { producer: 0, error: SendError::DeliveryTimeout };
    assert!(f.stories.iter().all(|st| st.cause == timeout));
    let first = &f.stories[0];
    assert!(first.chain.len() >= 3, "{}", first.text());
    insta::assert_snapshot!("explain-failed", first.text());
}

/// On a plain sink every redelivery that left a duplicate effect is both
/// anomalies: its story is told once, headed with both kinds, and each
/// kind's count (the summary's, and the cause lines') is unchanged.
#[test]
fn a_plain_sink_duplicate_is_told_once_headed_with_both_kinds() {
    let Explained { summary: s, explanation: e, .. } = explain("at-least-once");
    assert!(s.duplicates > 0 && s.duplicates == s.redelivered, "a plain sink: every redelivery is a duplicate");
    assert!(e.stories.iter().all(|st| st.anomaly == Anomaly::Duplicate && st.also == Some(Anomaly::Redelivered)));
    assert_eq!(e.stories.len() as u64, s.duplicates, "one story per duplicate, none again as a redelivery");
    assert_eq!(cause_lines(&e).len(), 2, "{:?}", cause_lines(&e));
    assert!(cause_lines(&e)[1].starts_with(&format!("{} redeliveries, one cause", s.redelivered)));
    let text = e.stories[0].text();
    assert!(text.starts_with("duplicate (redelivered): record "), "{text}");

    let run = |extra: &[&str]| {
        let mut args = vec!["explain", "scenarios/at-least-once.yaml"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let record = e.stories[0].headline.split(' ').nth(1).expect("record name").to_string();
    let out = run(&["--record", &record]);
    assert_eq!(out.matches(&format!("duplicate (redelivered): record {record}")).count(), 1, "{out}");
    assert!(!out.contains("\nredelivered: record"), "told once:\n{out}");
    let header = format!("{} duplicates, 0 reordered, 0 late, {} redelivered", s.duplicates, s.redelivered);
    assert!(out.starts_with("streamsim explain: at-least-once") && out.contains(&header), "{out}");
    // Asked for by either kind, the story is there.
    let out = run(&["--kind", "redelivered", "--limit", "1"]);
    assert!(out.contains("duplicate (redelivered): record "), "{out}");
    assert!(out.contains(&format!("{} redeliveries, one cause", s.redelivered)), "{out}");
}
