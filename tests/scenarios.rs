//! Scenario-level tests: every shipped scenario passes its expectations, its
//! JSON summary is pinned by a snapshot, runs are deterministic, and the
//! headline anomalies come from the mechanics the scenarios describe.

mod common;

use std::path::Path;

use streamsim::scenario::{load_file, Scenario};
use streamsim::{simulate, Outcome};

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.yaml"));
    load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario
}

fn run(sc: Scenario) -> Outcome {
    simulate(sc).expect("the run completes")
}

fn json(o: &Outcome) -> String {
    streamsim::report::folder::summary_json(&o.summary)
}

#[test]
fn every_shipped_scenario_passes_its_expectations() {
    let names = common::shipped();
    assert!(names.len() >= 9, "{names:?}");
    for name in &names {
        let o = run(load(name));
        let failed: Vec<_> = o.summary.expectations.iter().filter(|e| !e.pass).collect();
        assert!(!o.summary.expectations.is_empty(), "{name} has no expectations");
        assert!(failed.is_empty(), "{name}: {failed:?}");
    }
}

/// Each shipped scenario has a snapshot test (below) and each snapshot a scenario.
#[test]
fn every_shipped_scenario_has_a_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("snapshots");
    let mut snaps: Vec<String> = std::fs::read_dir(dir)
        .expect("tests/snapshots exists")
        .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_prefix("scenarios__").and_then(|n| n.strip_suffix(".snap")).map(str::to_string))
        .collect();
    snaps.sort();
    assert_eq!(snaps, common::shipped());
}

#[test]
fn snapshot_homework() {
    insta::assert_snapshot!("homework", json(&run(load("homework"))));
}

#[test]
fn snapshot_at_most_once() {
    insta::assert_snapshot!("at-most-once", json(&run(load("at-most-once"))));
}

#[test]
fn snapshot_at_least_once() {
    insta::assert_snapshot!("at-least-once", json(&run(load("at-least-once"))));
}

#[test]
fn snapshot_acks_1_leader_failover() {
    insta::assert_snapshot!("acks-1-leader-failover", json(&run(load("acks-1-leader-failover"))));
}

#[test]
fn snapshot_unclean_election() {
    insta::assert_snapshot!("unclean-election", json(&run(load("unclean-election"))));
}

#[test]
fn snapshot_last_replica_standing() {
    insta::assert_snapshot!("last-replica-standing", json(&run(load("last-replica-standing"))));
}

#[test]
fn snapshot_last_replica_standing_elr() {
    insta::assert_snapshot!("last-replica-standing-elr", json(&run(load("last-replica-standing-elr"))));
}

#[test]
fn snapshot_static_membership_rolling_restart() {
    insta::assert_snapshot!("static-membership-rolling-restart", json(&run(load("static-membership-rolling-restart"))));
}

#[test]
fn snapshot_dynamic_membership_rolling_restart() {
    insta::assert_snapshot!(
        "dynamic-membership-rolling-restart",
        json(&run(load("dynamic-membership-rolling-restart")))
    );
}

#[test]
fn snapshot_isr_shrink_jepsen_2013() {
    insta::assert_snapshot!("isr-shrink-jepsen-2013", json(&run(load("isr-shrink-jepsen-2013"))));
}

#[test]
fn snapshot_retries_reorder() {
    insta::assert_snapshot!("retries-reorder", json(&run(load("retries-reorder"))));
}

#[test]
fn snapshot_aborted_transactions() {
    insta::assert_snapshot!("aborted-transactions", json(&run(load("aborted-transactions"))));
}

#[test]
fn snapshot_rebalance_storm() {
    insta::assert_snapshot!("rebalance-storm", json(&run(load("rebalance-storm"))));
}

#[test]
fn snapshot_offset_reset_latest() {
    insta::assert_snapshot!("offset-reset-latest", json(&run(load("offset-reset-latest"))));
}

#[test]
fn snapshot_auto_commit_async() {
    insta::assert_snapshot!("auto-commit-async", json(&run(load("auto-commit-async"))));
}

#[test]
fn snapshot_cooperative_vs_eager() {
    insta::assert_snapshot!("cooperative-vs-eager", json(&run(load("cooperative-vs-eager"))));
}

#[test]
fn snapshot_backpressure() {
    insta::assert_snapshot!("backpressure", json(&run(load("backpressure"))));
}

#[test]
fn snapshot_backpressure_quota() {
    insta::assert_snapshot!("backpressure-quota", json(&run(load("backpressure-quota"))));
}

#[test]
fn snapshot_out_of_order() {
    insta::assert_snapshot!("out-of-order", json(&run(load("out-of-order"))));
}

#[test]
fn snapshot_kinesis_vs_kafka() {
    insta::assert_snapshot!("kinesis-vs-kafka", json(&run(load("kinesis-vs-kafka"))));
}

#[test]
fn snapshot_exactly_once() {
    insta::assert_snapshot!("exactly-once", json(&run(load("exactly-once"))));
}

#[test]
fn same_seed_gives_identical_summary_and_trace() {
    for name in &common::shipped() {
        let a = run(load(name));
        let b = run(load(name));
        assert_eq!(json(&a), json(&b), "{name}");
        assert_eq!(a.samples, b.samples, "{name}");
        assert_eq!(a.lag, b.lag, "{name}");
    }
}

#[test]
fn different_seed_gives_a_different_trace() {
    for name in &common::shipped() {
        let a = run(load(name));
        let mut sc = load(name);
        sc.seed += 1;
        let b = run(sc);
        assert_ne!(a.summary.trace_hash, b.summary.trace_hash, "{name}");
    }
}

#[test]
fn homework_survivors_take_all_six_partitions() {
    let s = run(load("homework")).summary;
    assert_eq!((s.produced, s.delivered, s.lost, s.duplicates), (6000, 6000, 0, 0));
    assert!(s.redelivered > 0, "the crash caught a batch: the idempotent sink absorbed the redeliveries");
    assert!(s.max_lag < 2000, "max_lag {}", s.max_lag);
    let last = s.assignments.last().expect("a rebalance happened");
    assert_eq!(last.generation, 2);
    assert_eq!(last.members.len(), 2);
    assert!(!last.members.contains_key("analytics-1"));
    let mut parts: Vec<u32> = last.members.values().flatten().copied().collect();
    parts.sort_unstable();
    assert_eq!(parts, vec![0, 1, 2, 3, 4, 5]);
    // The crash happened at 30 s; the member is dropped after its 10 s session timeout.
    assert!(last.at_ms >= 39_000 && last.at_ms <= 41_000, "rebalance at {} ms", last.at_ms);
}

#[test]
fn at_most_once_loses_silently_and_never_duplicates() {
    let s = run(load("at-most-once")).summary;
    assert!(s.lost > 0);
    assert_eq!(s.failed, 0, "no send failed: the loss is silent");
    assert_eq!((s.duplicates, s.redelivered), (0, 0));
    assert_eq!(s.written, s.produced, "the log holds every record once");
}

#[test]
fn at_least_once_duplicates_and_never_loses() {
    let s = run(load("at-least-once")).summary;
    assert_eq!(s.lost, 0);
    assert!(s.redelivered > 0);
    assert_eq!(s.duplicates, s.redelivered, "a plain sink turns every redelivery into a duplicate");
    assert_eq!(s.delivered, s.produced);
}

/// Removing the crash removes the anomaly: it comes from the crash, not the label.
#[test]
fn without_the_crash_neither_preset_has_anomalies() {
    for name in ["at-most-once", "at-least-once"] {
        let mut sc = load(name);
        sc.faults.clear();
        sc.expect.clear();
        let s = run(sc).summary;
        assert_eq!((s.lost, s.duplicates, s.redelivered), (0, 0, 0), "{name}");
        assert_eq!(s.delivered, s.produced, "{name}");
    }
}

/// The at-most-once loss is exactly the records the crashed consumer had
/// committed but not yet processed: offsets and effects disagree there.
#[test]
fn at_most_once_loss_sits_between_processed_and_committed() {
    let sc = load("at-most-once");
    let mut w = streamsim::world::World::new(sc);
    w.run().unwrap();
    let s = streamsim::oracle::checkers::summarize(&w);
    let group = &w.groups[0];
    let ledger = &w.oracle.ledger;
    // Every lost record sits below its partition's committed offset.
    let mut lost_seen = 0;
    for p in 0..group.partitions {
        let part = &w.partitions[(group.first_partition.raw() + p) as usize];
        let committed = group.committed[p as usize].unwrap_or(0);
        let log = &part.replicas[part.leader.unwrap()].log;
        for (offset, e) in log.iter().enumerate() {
            let d = ledger.effects_of(0, e.record);
            if d == 0 {
                assert!(
                    (offset as u64) < committed,
                    "an unprocessed record past the commit would be pending, not lost"
                );
                lost_seen += 1;
            }
        }
    }
    assert_eq!(lost_seen, s.lost);
}

/// One config switches each durability failure off: acks=all for the failover,
/// a clean election for the stale replica.
#[test]
fn durability_failures_vanish_with_the_safe_config() {
    let mut sc = load("acks-1-leader-failover");
    sc.producers[0].config.acks = streamsim::scenario::Acks::All;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.lost_acked), (0, 0));

    let mut sc = load("unclean-election");
    sc.topics[0].config.unclean_leader_election_enable = false;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.lost_acked), (0, 0));
    assert_eq!(s.delivered, s.produced);
}

/// KAFKA-1555's fix: min.insync.replicas=2 refuses writes the shrunken ISR
/// cannot protect, so the Jepsen 2013 scenario loses nothing acknowledged.
#[test]
fn jepsen_2013_is_fixed_by_min_insync_replicas_2() {
    let mut sc = load("isr-shrink-jepsen-2013");
    sc.topics[0].config.min_insync_replicas = 2;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.lost_acked), (0, 0));
    assert_eq!(s.delivered, s.produced);
}

/// The idempotent producer removes both effects of retries: no reordering, no
/// duplicates, over several seeds of the same crash.
#[test]
fn idempotence_removes_reordering_and_duplicates() {
    for seed in 1..=6 {
        let mut sc = load("retries-reorder");
        sc.seed = seed;
        sc.producers[0].config.enable_idempotence = true;
        sc.expect.clear();
        let s = run(sc).summary;
        assert_eq!((s.reordered, s.duplicates, s.lost, s.failed), (0, 0, 0, 0), "seed {seed}");
    }
}

/// The same faults under at-least-once apply the reprocessed records twice:
/// the transactional sink is what makes exactly-once.
#[test]
fn exactly_once_scenario_duplicates_under_at_least_once() {
    let mut sc = load("exactly-once");
    let c = &mut sc.consumers[0];
    c.commit = streamsim::scenario::CommitMode::AfterProcessing;
    c.sink = streamsim::scenario::SinkKind::Plain;
    sc.expect.clear();
    let s = run(sc).summary;
    assert!(s.duplicates > 0 && s.duplicates == s.redelivered, "{s:?}");
    assert_eq!(s.lost, 0);
}

/// The same aborted transaction under read_committed: the consumer skips the
/// aborted copies, so nothing is applied twice, and records wait behind the
/// open transaction (the last stable offset holds them back).
#[test]
fn read_committed_skips_the_aborted_records() {
    let mut sc = load("aborted-transactions");
    sc.consumers[0].config.isolation_level = streamsim::scenario::IsolationLevel::ReadCommitted;
    sc.expect.clear();
    let uncommitted = run(load("aborted-transactions")).summary;
    let s = run(sc).summary;
    assert_eq!((s.lost, s.failed, s.duplicates, s.redelivered), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
    assert_eq!(s.written, uncommitted.written, "the same records were appended, aborted copies included");
    assert!(s.written > s.produced, "the aborted copies are in the log: {}", s.written);
    assert!(
        s.latency_ms.max > 2_500.0 && uncommitted.latency_ms.max < s.latency_ms.max,
        "read_committed waits for the aborted transaction: {} vs {}",
        s.latency_ms.max,
        uncommitted.latency_ms.max
    );
}

/// The rebalance storm vanishes when a batch fits in max.poll.interval.ms:
/// one rebalance, every commit accepted, nothing processed twice.
#[test]
fn smaller_batches_stop_the_rebalance_storm() {
    let storm = run(load("rebalance-storm")).summary;
    let mut sc = load("rebalance-storm");
    sc.consumers[0].config.max_poll_records = 50;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.rebalances, s.commits_failed, s.duplicates, s.redelivered), (1, 0, 0, 0), "{s:?}");
    assert_eq!((s.lost, s.pending), (0, 0));
    assert!(storm.rebalances > 5 * s.rebalances && storm.duplicates > 0, "{storm:?}");
}

/// auto.offset.reset=earliest reads what the new group would have skipped;
/// the skipped records were exactly those produced before its first fetch.
#[test]
fn offset_reset_earliest_reads_from_the_start() {
    let latest = run(load("offset-reset-latest")).summary;
    let mut sc = load("offset-reset-latest");
    sc.consumers[0].config.auto_offset_reset = streamsim::scenario::OffsetReset::Earliest;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.duplicates, s.pending), (0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
    assert_eq!(latest.delivered + latest.lost, latest.produced);
    // The records skipped are about the first 6 s of a 100/s producer: the
    // second member re-arms the 3 s initial delay once
    // (GroupMetadataManager.tryCompleteInitialRebalanceElseSchedule).
    assert!((500..=700).contains(&latest.lost), "{}", latest.lost);
}

/// Processing inside the poll loop makes auto-commit at-least-once: the same
/// crash redelivers instead of losing.
#[test]
fn auto_commit_with_processing_in_the_poll_loop_loses_nothing() {
    let lossy = run(load("auto-commit-async")).summary;
    let mut sc = load("auto-commit-async");
    sc.consumers[0].processing = streamsim::scenario::Processing::Sync;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.pending, s.failed), (0, 0, 0), "{s:?}");
    assert!(s.duplicates > 0 && s.duplicates == s.redelivered, "{s:?}");
    assert!(lossy.lost > 100 && lossy.lost == lossy.lost_acked && lossy.duplicates == 0, "{lossy:?}");
}

/// The same scaling under the cooperative protocol: nobody stops, only the
/// moving partitions pause (a follow-up rebalance hands them over), and the
/// lag spike is smaller.
#[test]
fn cooperative_rebalances_do_not_stop_the_world() {
    let eager = run(load("cooperative-vs-eager"));
    let mut sc = load("cooperative-vs-eager");
    sc.consumers[0].config.partition_assignment_strategy = vec![streamsim::scenario::Assignor::CooperativeSticky];
    sc.expect.clear();
    let coop = run(sc);
    let (e, c) = (&eager.summary, &coop.summary);
    assert_eq!((c.lost, c.duplicates, c.pending), (0, 0, 0), "{c:?}");
    assert_eq!(c.stop_the_world_ms, 0);
    assert!(e.stop_the_world_ms > 500, "{}", e.stop_the_world_ms);
    // One extra rebalance: the partitions moving to the new member are revoked first, then assigned.
    assert_eq!(c.rebalances, e.rebalances + 1);
    let moved = &c.assignments[1];
    assert!(moved.members["checkout-4"].is_empty(), "withheld while their owner revokes them: {moved:?}");
    assert_eq!(c.assignments[2].members["checkout-4"], e.assignments[1].members["checkout-4"]);
    let spike = |o: &streamsim::Outcome, from: u64| {
        o.samples.iter().filter(|x| (from..from + 6_000).contains(&x.at.ms())).map(|x| x.lag).max().unwrap_or(0)
    };
    // A member leaves at 40 s: its partitions go straight to the others, who never stopped.
    assert!(spike(&coop, 40_000) < spike(&eager, 40_000), "{} < {}", spike(&coop, 40_000), spike(&eager, 40_000));
    // A member joins at 20 s: the partitions it takes wait for the second rebalance.
    assert!(spike(&coop, 20_000) > spike(&eager, 20_000), "{} > {}", spike(&coop, 20_000), spike(&eager, 20_000));
}

/// Each assignor is used as partition.assignment.strategy names it.
#[test]
fn the_group_uses_the_first_listed_assignor() {
    use streamsim::scenario::Assignor;
    let layout = |a: Assignor| {
        let mut sc = load("cooperative-vs-eager");
        sc.consumers[0].config.partition_assignment_strategy = vec![a];
        sc.faults.clear();
        sc.expect.clear();
        sc.duration = streamsim::kernel::time::Duration::from_secs(5);
        run(sc).summary.assignments[0].members.clone()
    };
    let range = layout(Assignor::Range);
    assert_eq!(range["checkout-0"], [0, 1, 2]);
    assert_eq!(range["checkout-3"], [9, 10, 11]);
    let rr = layout(Assignor::RoundRobin);
    assert_eq!(rr["checkout-0"], [0, 4, 8]);
    assert_eq!(rr["checkout-3"], [3, 7, 11]);
    // With nothing owned yet, sticky starts from round robin's layout.
    assert_eq!(layout(Assignor::Sticky), rr);
}

/// Committing after every record instead of every batch: the crash in
/// at-least-once repeats at most the record whose commit was in flight.
/// commitAsync after each batch does not wait, and repeats about as much as
/// commitSync.
#[test]
fn commit_after_each_record_shrinks_the_redelivery() {
    let batch = run(load("at-least-once")).summary;
    let mut sc = load("at-least-once");
    sc.consumers[0].commit_every = streamsim::scenario::CommitEvery::Record;
    sc.expect.clear();
    let s = run(sc).summary;
    assert_eq!((s.lost, s.pending), (0, 0), "{s:?}");
    assert!(s.duplicates <= 1, "one record at most: {s:?}");
    assert!(batch.duplicates > 10, "{}", batch.duplicates);

    let mut sc = load("at-least-once");
    sc.consumers[0].commit_async = true;
    sc.expect.clear();
    let a = run(sc).summary;
    assert_eq!((a.lost, a.pending), (0, 0), "{a:?}");
    assert!(a.duplicates > 0 && a.duplicates == a.redelivered, "{a:?}");
}

/// backpressure: the lag grows at rate − capacity (600 − 400 records/s)
/// while two consumers run, and drains at about capacity − rate after the
/// group is scaled to six.
#[test]
fn backpressure_grows_at_rate_minus_capacity_then_drains() {
    let o = run(load("backpressure"));
    let lag_at = |ms: u64| o.samples.iter().find(|s| s.at.ms() == ms).expect("a sample").lag as f64;
    let growth = (lag_at(30_000) - lag_at(10_000)) / 20.0;
    assert!((growth - 200.0).abs() < 200.0 * 0.03, "grows {growth}/s");
    let drain = (lag_at(35_000) - lag_at(45_000)) / 10.0;
    assert!((drain - 600.0).abs() < 600.0 * 0.15, "drains {drain}/s");
    assert_eq!(o.summary.final_lag, 0);
}

/// backpressure-quota, the twin of backpressure: the same producer under a
/// client quota (producer_byte_rate 10000 bytes/s per broker). Kafka's
/// answer (ClientQuotaManager with KIP-219's channel muting, the producer's
/// NetworkClient honouring throttle_time_ms, RecordAccumulator blocking
/// send() on a full buffer.memory): the group is no longer outrun, so the
/// lag stays bounded, and the producer is blocked instead. Nothing is lost.
#[test]
fn a_producer_quota_bounds_the_lag_and_blocks_the_producer_instead() {
    let base = run(load("backpressure")).summary;
    let quota = run(load("backpressure-quota")).summary;
    assert_eq!((base.throttled, base.producer_blocked_ms), (0, 0), "{base:?}");
    assert!(quota.throttled > 100 && quota.producer_blocked_ms > 60_000, "{quota:?}");
    assert!(quota.max_lag * 2 < base.max_lag, "lag bounded: {} vs {}", quota.max_lag, base.max_lag);
    assert_eq!((quota.lost, quota.failed, quota.duplicates, quota.produced), (0, 0, 0, base.produced), "{quota:?}");
    assert!(quota.max_source_backlog > 1000, "the application held records back: {quota:?}");
}

/// The trace of backpressure-quota: after each `quota_throttle` a broker
/// appends nothing of that producer until throttle_time_ms has passed (the
/// channel is muted, ClientQuotaManager.throttle, and the client waits,
/// KIP-219), and each broker's produce bytes are held at the quota
/// (10000 bytes/s) once the first window has passed.
#[test]
fn a_throttled_producer_writes_nothing_to_that_broker_until_the_throttle_ends() {
    let path = std::env::temp_dir().join(format!("streamsim-quota-{}.jsonl", std::process::id()));
    let file = std::fs::File::create(&path).expect("temp file");
    streamsim::simulate_with(load("backpressure-quota"), &mut |_| {}, Some(file), false).expect("runs");
    let text = std::fs::read_to_string(&path).expect("the trace");
    std::fs::remove_file(&path).ok();
    let lines: Vec<serde_json::Value> = text.lines().skip(1).map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let field = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    let kind = |v: &serde_json::Value| v["kind"].as_str().unwrap_or("").to_string();
    let appends: Vec<(u64, u64)> =
        lines.iter().filter(|v| kind(v) == "append").map(|v| (field(v, "t"), field(v, "broker"))).collect();
    let throttles: Vec<(u64, u64, u64)> = lines
        .iter()
        .filter(|v| kind(v) == "quota_throttle")
        .map(|v| (field(v, "t"), field(v, "broker"), field(v, "throttle_us")))
        .collect();
    assert!(throttles.len() > 100, "{} throttles", throttles.len());
    for &(t, b, us) in &throttles {
        let during = appends.iter().filter(|&&(ta, ba)| ba == b && ta > t && ta < t + us).count();
        assert_eq!(during, 0, "broker {b} appended {during} records within the throttle at {t} µs ({us} µs)");
    }
    // 100-byte records: 10000 bytes/s is 100 records/s per broker. A request
    // is judged after it is recorded (ClientQuotaManager.recordAndGetThrottleTimeMs),
    // and one request carries a batch for every partition the broker leads
    // (Sender.sendProducerData), so each admitted request can overshoot by a
    // few batches: within 1/8 of the quota over 40 s.
    for b in 0..3 {
        let n = appends.iter().filter(|&&(t, ba)| ba == b && (20_000_000..60_000_000).contains(&t)).count() as u64;
        assert!(n.abs_diff(40 * 100) <= 40 * 100 / 8, "broker {b}: {n} records in 40 s");
    }
}

/// out-of-order: a longer watermark delay makes every window right at the
/// cost of latency; allowed lateness makes them right with corrections.
#[test]
fn watermark_delay_trades_correctness_for_latency() {
    use streamsim::kernel::time::Duration;
    let fast = run(load("out-of-order")).summary;
    let with = |f: &dyn Fn(&mut streamsim::scenario::AggregateSpec)| {
        let mut sc = load("out-of-order");
        f(sc.consumers[0].aggregate.as_mut().expect("the scenario aggregates"));
        sc.expect.clear();
        run(sc).summary
    };
    let slow = with(&|a| a.watermark_delay = Duration::from_secs(30));
    assert_eq!((slow.windows.dropped_events, slow.windows.wrong_results), (0, 0), "{:?}", slow.windows);
    assert!(fast.windows.wrong_results > 0 && fast.windows.dropped_events > 0, "{:?}", fast.windows);
    assert!(
        slow.windows.result_latency_ms > 20.0 * fast.windows.result_latency_ms,
        "{:?} {:?}",
        slow.windows,
        fast.windows
    );
    let corrected = with(&|a| a.allowed_lateness = Duration::from_secs(30));
    assert_eq!((corrected.windows.dropped_events, corrected.windows.wrong_results), (0, 0));
    assert_eq!(corrected.windows.corrected, fast.windows.dropped_events, "each dropped view becomes a correction");
    assert_eq!(corrected.windows.result_latency_ms, fast.windows.result_latency_ms, "first results as fast");
    // Most late events are the phone's: without its offline periods only the web's slow tail is late.
    let mut sc = load("out-of-order");
    sc.producers[1].event_time.offline = None;
    sc.expect.clear();
    let online = run(sc).summary;
    assert!(online.late_events * 2 < fast.late_events, "{} vs {}", online.late_events, fast.late_events);
    assert!(online.windows.dropped_events * 2 < fast.windows.dropped_events, "{:?}", online.windows);
}

/// The same workload on Kafka: no per-partition quota, nothing throttled,
/// latency in milliseconds once the group has joined. On Kinesis, three
/// shards (3000 records/s of write capacity) stop the throttling too.
#[test]
fn kafka_takes_what_two_kinesis_shards_throttle() {
    let kinesis = run(load("kinesis-vs-kafka")).summary;
    let mut sc = load("kinesis-vs-kafka");
    sc.platform = streamsim::scenario::Platform::Kafka;
    sc.expect.clear();
    let kafka = run(sc).summary;
    assert_eq!((kafka.throttled, kafka.lost, kafka.reordered), (0, 0, 0), "{kafka:?}");
    assert!(
        kafka.latency_ms.p50 < 50.0 && kinesis.latency_ms.p50 > 1_000.0,
        "{} vs {}",
        kafka.latency_ms.p50,
        kinesis.latency_ms.p50
    );
    assert_eq!(kafka.delivered, kinesis.delivered, "both deliver everything in the end");
    // Write throughput: about 2000 records/s get through two shards while the producer runs.
    let mut sc = load("kinesis-vs-kafka");
    sc.topics[0].partitions = 4;
    sc.expect.clear();
    let four = run(sc).summary;
    assert!(four.throttled * 20 < kinesis.throttled, "{} vs {}", four.throttled, kinesis.throttled);
}
