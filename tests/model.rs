//! Model-level tests: small scenarios that each exercise one mechanism and
//! check that the outcome comes from it.

use streamsim::scenario::load_str;
use streamsim::simulate;

fn run(yaml: &str) -> streamsim::oracle::checkers::Summary {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    simulate(sc).expect("run completes").summary
}

fn cluster(acks: &str, min_isr: u32, fault: &str) -> String {
    format!(
        "name: t
seed: 3
duration: 20s
drain: 30s
brokers: 3
network: {{ latency: {{ uniform: [2ms, 8ms] }} }}
topics:
  - {{ name: t, partitions: 3, replication.factor: 3, config: {{ min.insync.replicas: {min_isr} }} }}
producers:
  - {{ name: p, rate: 2000/s, keys: 30, config: {{ acks: {acks}, enable.idempotence: false }} }}
consumers:
  - {{ group: g, instances: 1, commit: after-processing, config: {{ auto.offset.reset: earliest }} }}
faults:
{fault}
"
    )
}

/// acks=1 acknowledges on the leader's append; records the followers had not
/// fetched when the leader died are gone although the producer saw them acked.
#[test]
fn acks_1_leader_crash_loses_acknowledged_records() {
    // Only records appended while no follower fetch was on its way are lost,
    // so whether any are depends on where the crash falls among the
    // requests: with one produce request per broker carrying every
    // partition's batch, seed 3 crashes between two of them; seed 4 does not.
    let s = run(&cluster("1", 1, "  - { at: 5s, crash: broker-0 }").replace("seed: 3", "seed: 4"));
    assert!(s.lost_acked > 0, "lost_acked {}", s.lost_acked);
    assert_eq!(s.partitions[0].leader, Some(1), "the next in-sync replica leads partition 0");
}

/// acks=all with min.insync.replicas=2 of 3: the same crash loses nothing.
#[test]
fn acks_all_min_isr_2_survives_a_leader_crash() {
    let s = run(&cluster("all", 2, "  - { at: 5s, crash: broker-0 }"));
    assert_eq!((s.lost, s.lost_acked), (0, 0));
    assert_eq!(s.delivered + s.failed, s.produced);
    assert!(s.partitions.iter().all(|p| p.leader != Some(0)));
}

/// A restarted old leader truncates its divergent tail and rejoins the ISR.
#[test]
fn restarted_broker_catches_up_and_rejoins_the_isr() {
    let s = run(&cluster("all", 2, "  - { at: 5s, crash: broker-0 }\n  - { at: 15s, restart: broker-0 }"));
    assert_eq!(s.lost, 0);
    for p in &s.partitions {
        assert_eq!(p.isr.len(), 3, "partition {} ISR {:?}", p.partition, p.isr);
        assert_eq!(p.high_watermark, p.log_end_offset);
    }
}

/// The producer is told nothing went wrong while the controller has not yet
/// fenced the dead leader: its batches wait (broker.session.timeout.ms), which
/// shows up as latency, not loss.
#[test]
fn failover_waits_for_the_broker_session_timeout() {
    let s = run(&cluster("all", 2, "  - { at: 5s, crash: broker-0 }"));
    assert!(s.latency_ms.max >= 8_000.0, "max latency {} ms", s.latency_ms.max);
}

/// Auto-commit commits inside poll every 5 s: a consumer crash repeats what was
/// processed since the last auto-commit (at-least-once), and loses nothing.
#[test]
fn auto_commit_crash_redelivers() {
    let yaml = "name: t
seed: 5
duration: 20s
topics: [{ name: t, partitions: 2 }]
producers: [{ name: p, rate: 200/s }]
consumers:
  - { group: g, instances: 2, processing_time: 1ms, config: { auto.offset.reset: earliest, session.timeout.ms: 6000 } }
faults:
  - { at: 9s, crash: g-0 }
";
    let s = run(yaml);
    assert!(s.redelivered > 0);
    assert_eq!(s.duplicates, s.redelivered);
    assert_eq!(s.lost, 0);
}

/// auto.offset.reset=latest: a new group skips what was produced before its
/// first assignment (3 s of initial rebalance delay here): silent loss.
#[test]
fn offset_reset_latest_skips_early_records() {
    let yaml = "name: t
duration: 10s
topics: [{ name: t, partitions: 2 }]
producers: [{ name: p, rate: { constant: 100/s } }]
consumers: [{ group: g, commit: after-processing }]
";
    let s = run(yaml);
    assert!(s.lost >= 250 && s.lost <= 320, "lost {}", s.lost);
    assert_eq!(s.lost_acked, s.lost);
}

/// Keyed records keep their per-key order end to end when nothing fails.
#[test]
fn no_faults_no_anomalies() {
    let yaml = "name: t
duration: 10s
brokers: 3
topics: [{ name: t, partitions: 6, replication.factor: 3 }]
producers: [{ name: p, instances: 2, rate: 500/s, keys: 20 }]
consumers: [{ group: g, instances: 3, processing_time: { uniform: [0us, 1ms] }, config: { auto.offset.reset: earliest } }]
";
    let s = run(yaml);
    assert_eq!((s.lost, s.duplicates, s.redelivered, s.reordered, s.failed), (0, 0, 0, 0, 0));
    assert_eq!(s.delivered, s.produced);
    assert_eq!(s.written, s.produced);
    assert_eq!(s.final_lag, 0);
}

/// Regression: when the controller fences crashed followers, the smaller ISR
/// lets the high watermark advance at once, completing acks=all requests
/// (before the fix they waited for the leader's own lag check, 30 s later).
#[test]
fn fencing_followers_lets_acks_all_complete() {
    let yaml = "name: t
duration: 20s
drain: 10s
brokers: 3
topics: [{ name: t, partitions: 1, replication.factor: 3 }]
producers: [{ name: p, rate: 100/s, config: { acks: all } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest } }]
faults:
  - { at: 5s, crash: broker-1 }
  - { at: 5s, crash: broker-2 }
";
    let s = run(yaml);
    assert_eq!(s.partitions[0].isr, vec![0]);
    assert_eq!((s.lost, s.pending, s.failed), (0, 0, 0));
    assert_eq!(s.delivered, s.produced);
    // Records sent between the crash and the fence (9 s later) waited for it.
    assert!(s.latency_ms.max >= 8_500.0 && s.latency_ms.max < 10_500.0, "{}", s.latency_ms.max);
}

/// A stop-the-world pause longer than session.timeout.ms turns a consumer into
/// a zombie: the group rebalances without it, the new owner reprocesses its
/// uncommitted records, and when it wakes its commit fails (CommitFailed).
#[test]
fn a_long_pause_makes_a_zombie_whose_commit_fails() {
    let yaml = "name: t
seed: 2
duration: 30s
topics: [{ name: t, partitions: 2 }]
producers: [{ name: p, rate: 200/s }]
consumers:
  - group: g
    instances: 2
    processing_time: 4ms
    commit: after-processing
    config: { auto.offset.reset: earliest, session.timeout.ms: 6000, max.poll.records: 50 }
faults:
  - { at: 10s, pause: g-0, for: 15s }
";
    let s = run(yaml);
    assert!(s.commits_failed >= 1, "commits_failed {}", s.commits_failed);
    assert!(s.redelivered > 0 && s.duplicates == s.redelivered, "{s:?}");
    assert_eq!(s.lost, 0);
    assert!(s.rebalances >= 3, "out at the session timeout, back in after the pause: {}", s.rebalances);
    // The same pause under the session timeout is harmless.
    let s = run(&yaml.replace("for: 15s", "for: 3s"));
    assert_eq!((s.commits_failed, s.redelivered, s.rebalances), (0, 0, 1));
}

/// A leader cut off from its followers (but not from clients) keeps the ISR
/// until replica.lag.time.max.ms, then shrinks it to itself: acks=all with
/// min.insync.replicas=1 resumes on the leader alone. After the partition
/// heals the followers catch up and rejoin the ISR; nothing is lost.
#[test]
fn leader_isolated_from_followers_shrinks_the_isr_then_heals() {
    let yaml = "name: t
duration: 60s
brokers: 3
topics: [{ name: t, partitions: 1, replication.factor: 3, config: { replica.lag.time.max.ms: 10000 } }]
producers: [{ name: p, rate: 100/s, config: { acks: all } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest } }]
faults:
  - { at: 5s, partition: [broker-0, broker-1], for: 40s }
  - { at: 5s, partition: [broker-0, broker-2], for: 40s }
";
    let s = run(yaml);
    assert_eq!((s.lost, s.failed, s.pending), (0, 0, 0));
    assert_eq!(s.delivered, s.produced);
    assert_eq!(s.partitions[0].isr, vec![0, 1, 2], "the followers rejoined");
    // Writes waited for the ISR to shrink: replica.lag.time.max.ms (10 s), checked every 5 s.
    assert!(s.latency_ms.max >= 9_000.0 && s.latency_ms.max <= 16_000.0, "{}", s.latency_ms.max);

    // With min.insync.replicas=2 the shrunk ISR refuses acks=all instead
    // (NotEnoughReplicas, retried): the writes wait for the heal.
    let s = run(&yaml.replace(
        "config: { replica.lag.time.max.ms: 10000 }",
        "config: { replica.lag.time.max.ms: 10000, min.insync.replicas: 2 }",
    ));
    assert_eq!((s.lost, s.failed), (0, 0));
    assert!(s.latency_ms.max >= 39_000.0, "{}", s.latency_ms.max);
}

/// A consumer cut off from the partition leader gets no fetch answers; it
/// times out (request.timeout.ms) and fetches again once the partition heals.
#[test]
fn consumer_partitioned_from_the_leader_resumes_after_the_heal() {
    let yaml = "name: t
duration: 20s
topics: [{ name: t, partitions: 1 }]
producers: [{ name: p, rate: 100/s }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest, request.timeout.ms: 5000 } }]
faults:
  - { at: 5s, partition: [g-0, broker-0], for: 8s }
";
    let s = run(yaml);
    assert_eq!((s.lost, s.pending, s.duplicates), (0, 0, 0));
    assert_eq!(s.delivered, s.produced);
    assert!(s.max_lag >= 700, "lag built up during the partition: {}", s.max_lag);
}

/// Random message loss on produce, fetch and replication traffic: requests time
/// out and are retried. Without idempotence a lost acknowledgement becomes a
/// duplicate in the log; with it the leader drops the repeat. Nothing is lost.
#[test]
fn message_loss_is_recovered_by_retries_and_idempotence_removes_the_repeats() {
    let yaml = "name: t
seed: 9
duration: 20s
drain: 60s
brokers: 3
network: { latency: 1ms, loss: \"1%\" }
topics: [{ name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: 300/s, keys: 10, config: { acks: all, enable.idempotence: false, request.timeout.ms: 2000 } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest, request.timeout.ms: 2000 } }]
";
    let s = run(yaml);
    assert_eq!((s.lost, s.failed, s.pending), (0, 0, 0), "{s:?}");
    assert!(s.written > s.produced, "lost acks made duplicates in the log: {} > {}", s.written, s.produced);
    assert!(s.duplicates > 0);
    let s = run(&yaml.replace("enable.idempotence: false", "enable.idempotence: true"));
    assert_eq!((s.lost, s.failed, s.pending, s.duplicates), (0, 0, 0, 0), "{s:?}");
}

/// Power loss (`lose: unflushed`): a broker keeps only what the kernel wrote
/// back (pages dirty for 30 s). Kafka does not fsync each write, so durability
/// rests on replication: one broker losing power while the others are in the
/// ISR loses nothing acknowledged with acks=all (the new leader has it), but
/// every replica losing power at once can (the first replica back leads
/// with what it kept).
#[test]
fn power_loss_loses_acknowledged_records_only_when_every_replica_loses_power() {
    let one = "name: t
seed: 4
duration: 20s
drain: 30s
brokers: 3
network: { latency: { uniform: [2ms, 8ms] } }
topics: [{ name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: 2000/s, keys: 30, config: { acks: all, enable.idempotence: false } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest } }]
faults:
  - { at: 8s, crash: broker-0, lose: unflushed }
  - { at: 12s, restart: broker-0 }
";
    let s = run(one);
    assert_eq!((s.lost, s.lost_acked, s.failed), (0, 0, 0), "{s:?}");
    let all = format!(
        "{one}  - {{ at: 8s, crash: broker-1, lose: unflushed }}\n  - {{ at: 8s, crash: broker-2, lose: unflushed }}\n  - {{ at: 10s, restart: broker-1 }}\n  - {{ at: 10s, restart: broker-2 }}\n  - {{ at: 7s, crash: g-0 }}\n  - {{ at: 14s, restart: g-0 }}\n"
    );
    // The consumer is down meanwhile, so the lost records were never read.
    let s = run(&all);
    assert!(s.lost_acked > 0, "{s:?}");
}

/// KIP-360: after an unclean election the new leader has lost the idempotent
/// producer's sequence state; the producer bumps its epoch and resequences
/// instead of stalling until delivery.timeout.ms.
#[test]
fn idempotent_producer_recovers_its_sequences_after_truncation() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/unclean-election.yaml");
    let sc = streamsim::scenario::load_file(std::path::Path::new(path)).unwrap().scenario;
    assert!(sc.producers[0].config.enable_idempotence);
    let s = simulate(sc).unwrap().summary;
    assert_eq!((s.acked, s.failed, s.pending), (s.produced, 0, 0), "{s:?}");
    assert!(s.lost_acked > 1000, "the unclean election still loses what only broker-0 had");
}

/// A leader frozen longer than broker.session.timeout.ms is fenced: a follower
/// takes over, and when the zombie wakes its stale work is refused (NotLeader)
/// and it rejoins as a follower. With acks=all nothing acknowledged is lost.
#[test]
fn a_paused_leader_is_fenced_and_rejoins_as_a_follower() {
    let yaml = "name: t
duration: 40s
brokers: 3
topics: [{ name: t, partitions: 1, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: 200/s, config: { acks: all } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest } }]
faults:
  - { at: 5s, pause: broker-0, for: 20s }
";
    let s = run(yaml);
    assert_eq!((s.lost, s.failed, s.pending, s.duplicates), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.partitions[0].leader, Some(1), "broker-1 took over");
    assert_eq!(s.partitions[0].isr.len(), 3, "broker-0 caught up again");
    // Requests already in the frozen broker's socket wait for it to wake (20 s)
    // and get NotLeader; later ones went to broker-1 after the fence (9 s).
    assert!(s.latency_ms.max >= 19_000.0 && s.latency_ms.max < 22_000.0, "{}", s.latency_ms.max);
    // A short pause is only a hiccup: no fence, no new leader.
    let s = run(&yaml.replace("for: 20s", "for: 2s"));
    assert_eq!(s.partitions[0].leader, Some(0));
    assert_eq!((s.lost, s.failed), (0, 0));
}

/// Scaling a group: `scale` starts the lowest-numbered stopped instances or
/// stops the highest-numbered running ones; `start` brings up a named new
/// instance. Each change is a rebalance, and a clean stop (finish the batch,
/// commit, LeaveGroup) loses and repeats nothing.
#[test]
fn scaling_a_group_rebalances_it_and_a_clean_stop_repeats_nothing() {
    let yaml = "name: t
seed: 2
duration: 40s
drain: 30s
brokers: 3
topics: [{ name: t, partitions: 6, replication.factor: 3 }]
producers: [{ name: p, rate: 200/s, keys: 50 }]
consumers:
  - { group: g, instances: 2, processing_time: 2ms, commit: after-processing, config: { auto.offset.reset: earliest } }
faults:
  - { at: 10s, scale: g, to: 4 }
  - { at: 20s, start: g-5 }
  - { at: 30s, scale: g, to: 1 }
";
    let s = run(yaml);
    assert_eq!((s.lost, s.pending, s.duplicates, s.redelivered, s.commits_failed), (0, 0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
    let members: Vec<Vec<&str>> =
        s.assignments.iter().map(|a| a.members.keys().map(String::as_str).collect()).collect();
    assert_eq!(
        members,
        vec![
            vec!["g-0", "g-1"],
            vec!["g-0", "g-1", "g-2", "g-3"],
            vec!["g-0", "g-1", "g-2", "g-3", "g-5"],
            vec!["g-0"],
        ],
        "{:?}",
        s.assignments
    );
    // A stop leaves at once: the last rebalance follows the stop by well under a session timeout.
    let last = s.assignments.last().unwrap();
    assert!(last.at_ms >= 30_000 && last.at_ms < 31_000, "{}", last.at_ms);
    assert_eq!((s.final_members, s.final_assigned_partitions), (1, 6));
}

/// Start and stop are checked against what is running at that moment.
#[test]
fn start_and_stop_must_match_what_runs() {
    let base = "name: t
duration: 10s
topics: [{ name: t, partitions: 2 }]
producers: [{ name: p, rate: 10/s }]
consumers: [{ group: g, instances: 2 }]
faults:
";
    let err = |f: &str| load_str(&format!("{base}{f}"), "t.yaml").expect_err("refused").to_string();
    assert!(err("  - { at: 1s, start: g-0 }\n").contains("`g-0` is already running at 1.000s"));
    assert!(err("  - { at: 1s, crash: g-2 }\n  - { at: 2s, start: g-2 }\n").contains("`g-2` has not started at 1.000s"));
    assert!(err("  - { at: 1s, stop: g-1 }\n  - { at: 2s, stop: g-1 }\n").contains("`g-1` is stopped at 2.000s"));
    assert!(err("  - { at: 1s, stop: broker-0 }\n").contains("consumer instances only"));
    assert!(err("  - { at: 1s, scale: h, to: 3 }\n").contains("no consumer group `h`"));
    assert!(err("  - { at: 1s, scale: g }\n").contains("`to`"));
    assert!(err("  - { at: 1s, stop: g-1, for: 2s }\n").contains("`for` applies to `pause`, `slow` and `partition`"));
    let ok = load_str(&format!("{base}  - {{ at: 1s, scale: g, to: 3 }}\n  - {{ at: 2s, crash: g-2 }}\n"), "t.yaml");
    assert!(ok.is_ok(), "{:?}", ok.err());
}

fn shipped(name: &str) -> streamsim::scenario::Scenario {
    let path = format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
    streamsim::scenario::load_file(std::path::Path::new(&path)).unwrap().scenario
}

/// KIP-966 "last replica standing": the ISR shrinks to the leader alone, which
/// loses power. Without ELR the controller never empties the ISR
/// (PartitionChangeBuilder.build), so the leader comes back as the only
/// in-sync replica with its log cut to what the kernel had written back
/// (LogLoader.recoverLog), and the followers truncate to it: acknowledged
/// records lost. With eligible.leader.replicas.version=1 the follower dropped
/// below min ISR is an eligible leader replica and is elected
/// (PartitionChangeBuilder.electAnyLeader); the restarted broker is stripped
/// from ISR and ELR (handleBrokerUncleanShutdown): nothing lost.
#[test]
fn kip966_power_loss_of_the_last_isr_member_loses_acknowledged_records_without_elr_and_none_with_it() {
    let lost = simulate(shipped("last-replica-standing")).unwrap().summary;
    assert!(lost.lost_writes > 500, "{lost:?}");
    assert_eq!(lost.failed, 0, "{lost:?}");
    let elr = simulate(shipped("last-replica-standing-elr")).unwrap().summary;
    assert_eq!((elr.lost_writes, elr.lost_acked, elr.failed), (0, 0, 0), "{elr:?}");
    assert_eq!(elr.partitions[0].leader, Some(1), "broker-1, the eligible leader replica, leads");
}

/// `log.flush.interval.messages: 1` fsyncs every append (UnifiedLog.append):
/// the same power loss then keeps the whole log and loses nothing.
#[test]
fn fsync_per_message_makes_the_last_replica_standing_power_loss_harmless() {
    let mut sc = shipped("last-replica-standing");
    sc.broker_config.page_cache.flush_interval_messages = 1;
    let s = simulate(sc).unwrap().summary;
    assert_eq!((s.lost_writes, s.lost_acked), (0, 0), "{s:?}");
}

/// ConsumerCoordinator.commitOffsetsSync throws CommitFailedException when
/// the member was kicked out, so `poll(); commitSync(); process()` never
/// processes that batch: the partition's next owner reads it from the
/// committed offset. A paused member (a zombie past session.timeout.ms) in an
/// at-most-once group therefore causes no duplicate.
#[test]
fn at_most_once_with_a_refused_commit_gives_0_duplicates() {
    let s = run("name: t
seed: 5
duration: 40s
drain: 30s
semantics: at-most-once
brokers: 1
topics: [{ name: t, partitions: 4 }]
producers: [{ name: p, rate: 300/s, keys: 40 }]
consumers:
  - group: g
    instances: 2
    commit: before-processing
    processing_time: { exp: 3ms }
    config: { session.timeout.ms: 6000, max.poll.records: 100, auto.offset.reset: earliest }
faults:
  - { at: 10s, pause: g-0, for: 10s }
");
    assert!(s.rebalances >= 2, "the zombie was removed and rejoined: {s:?}");
    assert_eq!(s.duplicates, 0, "{s:?}");
}

/// group.initial.rebalance.delay.ms is re-armed while new members keep
/// joining an empty group: Kafka 4.x's GroupMetadataManager
/// (prepareRebalance, then tryCompleteInitialRebalanceElseSchedule, which
/// re-arms min(delay, remaining) when newMemberAdded, up to the rebalance
/// timeout; 3.x's GroupCoordinator/InitialDelayedJoin does the same for a
/// generation-0 group). Three members starting together: the first JoinGroup
/// arms 3 s, the other two set newMemberAdded, so at 3 s the delay is armed
/// again and generation 1 forms at about 6 s. One member alone: 3 s.
#[test]
fn initial_rebalance_delay_is_rearmed_while_members_join_generation_1_at_about_6s() {
    let yaml = |instances: u32| {
        format!(
            "name: t
duration: 10s
topics: [{{ name: t, partitions: 3 }}]
producers: [{{ name: p, rate: 100/s }}]
consumers: [{{ group: g, instances: {instances}, commit: after-processing }}]
"
        )
    };
    let three = run(&yaml(3));
    let first = &three.assignments[0];
    assert_eq!((first.generation, first.members.len()), (1, 3), "{first:?}");
    assert!((6_000..6_100).contains(&first.at_ms), "generation 1 at {} ms", first.at_ms);
    let one = run(&yaml(1));
    assert!((3_000..3_100).contains(&one.assignments[0].at_ms), "one member: {:?}", one.assignments[0]);
}

/// Runs `yaml` writing its JSONL trace, and returns the trace's steps.
fn trace_steps(yaml: &str, tag: &str) -> Vec<serde_json::Value> {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let path = std::env::temp_dir().join(format!("streamsim-model-{tag}-{}.jsonl", std::process::id()));
    streamsim::simulate_with(sc, &mut |_| {}, Some(std::fs::File::create(&path).unwrap()), false).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The heartbeat thread checks the poll timer every retry.backoff.ms
/// (100 ms) between heartbeats (AbstractCoordinator.HeartbeatThread.run:
/// `heartbeat.pollTimeoutExpired(now)` then handlePollTimeoutExpiry, which
/// sends LeaveGroup), not only at the next heartbeat (every 3 s). A batch of
/// 100 records at 200 ms each outlasts max.poll.interval.ms = 10 s: the
/// member leaves within about 100 ms of the poll timer's expiry.
#[test]
fn a_poll_timeout_gives_leave_group_within_about_100ms_of_max_poll_interval() {
    let steps = trace_steps(
        "name: t
duration: 30s
topics: [{ name: t, partitions: 1 }]
producers: [{ name: p, rate: { constant: 50/s } }]
consumers:
  - group: g
    processing_time: 200ms
    commit: after-processing
    config: { max.poll.interval.ms: 10000, max.poll.records: 100, auto.offset.reset: earliest }
",
        "poll-timeout",
    );
    let t = |kind: &str| steps.iter().find(|s| s["kind"] == kind).map(|s| s["t"].as_u64().unwrap());
    // The first batch's poll returned 200 ms before its first record was processed.
    let polled = t("process").expect("processed") - 200_000;
    let timeout = t("poll_timeout").expect("the poll timer expired");
    let leave = steps.iter().find(|s| s["kind"] == "leave" && s["reason"] == 0).expect("LeaveGroup");
    let late_us = leave["t"].as_u64().unwrap() - (polled + 10_000_000);
    assert!(timeout >= polled + 10_000_000, "not before the poll timer expires");
    assert!(late_us <= 100_000 + 1_000, "LeaveGroup {late_us} us after max.poll.interval.ms");
}

/// KIP-345 static membership: a member with group.instance.id that comes
/// back inside session.timeout.ms under its instance id replaces its old
/// member id, and in a stable group it gets the current generation and its
/// old assignment back with no rebalance
/// (GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin).
/// A static member's close() sends no LeaveGroup (AbstractCoordinator
/// .maybeLeaveGroup only leaves for dynamic members). The same restarts of a
/// dynamic member rebalance the group each time.
#[test]
fn a_static_member_restarted_inside_session_timeout_keeps_its_partitions_with_0_rebalances() {
    let yaml = |instance: &str| {
        format!(
            "name: t
duration: 40s
topics: [{{ name: t, partitions: 6 }}]
producers: [{{ name: p, rate: 200/s, keys: 50 }}]
consumers:
  - {{ group: g, instances: 3, commit: after-processing, processing_time: 1ms, config: {{ auto.offset.reset: earliest{instance} }} }}
faults:
  - {{ at: 15s, crash: g-1 }}
  - {{ at: 20s, restart: g-1 }}
  - {{ at: 25s, stop: g-2 }}
  - {{ at: 30s, start: g-2 }}
"
        )
    };
    let steps = trace_steps(&yaml(", group.instance.id: app"), "static");
    let first: Vec<u64> = steps
        .iter()
        .filter(|s| s["kind"] == "assign" && s["consumer"] == 1 && s["t"].as_u64().unwrap() < 15_000_000)
        .map(|s| s["partition"].as_u64().unwrap())
        .collect();
    let again: Vec<(u64, u64)> = steps
        .iter()
        .filter(|s| s["kind"] == "assign" && s["consumer"] == 1 && s["t"].as_u64().unwrap() > 20_000_000)
        .map(|s| (s["partition"].as_u64().unwrap(), s["generation"].as_u64().unwrap()))
        .collect();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(again, first.iter().map(|&p| (p, 1)).collect::<Vec<_>>(), "same partitions, generation 1");
    assert_eq!(steps.iter().filter(|s| s["kind"] == "rebalance").count(), 1, "only the first join");
    assert!(!steps.iter().any(|s| s["kind"] == "leave"), "no LeaveGroup, no expiry");
    let s = run(&yaml(", group.instance.id: app"));
    assert_eq!((s.rebalances, s.lost, s.duplicates, s.final_members), (1, 0, 0, 3), "{s:?}");
    // Dynamic: the restarted g-1 joins as a new member, and the eager
    // rebalance it starts waits for the dead old member until its session
    // expires (45 s after the crash), every member stopped meanwhile.
    let dynamic = run(&yaml(""));
    assert!(dynamic.rebalances >= 2, "{dynamic:?}");
    assert!(dynamic.stop_the_world_ms > 30_000, "the group stalled: {} ms", dynamic.stop_the_world_ms);
}

/// KIP-320: after a leader epoch change the consumer validates its position
/// against the new leader's log (OffsetsForLeaderEpoch for the epoch of its
/// last fetched record, SubscriptionState.maybeCompleteValidation) and, the
/// log having been truncated below it by an unclean election, seeks to the
/// divergence point: no re-read (auto.offset.reset=earliest used to re-read
/// the whole partition after OffsetOutOfRange) and no skip (latest used to
/// skip what was written between the election and the reset).
#[test]
fn an_unclean_election_followed_by_a_live_consumer_gives_no_re_read_and_no_skip() {
    for reset in ["earliest", "latest"] {
        let mut sc = shipped("unclean-election");
        sc.faults.retain(|f| !format!("{f:?}").contains("Consumer"));
        sc.consumers[0].config.auto_offset_reset = match reset {
            "earliest" => streamsim::scenario::OffsetReset::Earliest,
            _ => streamsim::scenario::OffsetReset::Latest,
        };
        sc.expect.clear();
        let e = streamsim::simulate_explained(sc).unwrap();
        let s = &e.summary;
        assert!(s.lost_writes > 1000, "the election truncated the log: {s:?}");
        assert_eq!(
            (s.redelivered, s.duplicates, s.poll_skips, s.nonmonotonic_polls, s.pending),
            (0, 0, 0, 0, 0),
            "{reset}: {s:?}"
        );
        // The only records the group skips are those `latest` placed the new
        // group past at its first assignment, none after the election.
        use streamsim::oracle::explain::Cause;
        let resets = e.explanation.stories.iter().filter(|x| matches!(x.cause, Cause::ResetToLatest { .. })).count();
        assert_eq!(s.skipped as usize, resets, "{reset}: {s:?}");
        assert!(e.explanation.stories.iter().all(|x| !matches!(x.cause, Cause::ResetOutOfRange { .. })), "{reset}");
    }
}
