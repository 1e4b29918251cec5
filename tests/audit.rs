//! `streamsim audit` on the fixture configs finds what a Kafka expert would, and proves each fix
//! by re-running it; bad config input exits 2 with a position and a hint.

use std::process::Command;

fn streamsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/configs"))
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn audit(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["audit", "--seeds", "0..3", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = streamsim(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON")
}

fn row<'a>(doc: &'a serde_json::Value, fault: &str) -> &'a serde_json::Value {
    doc["faults"].as_array().unwrap().iter().find(|r| r["fault"] == fault).unwrap()
}

fn worst(doc: &serde_json::Value, fault: &str, metric: &str) -> f64 {
    row(doc, fault)["metrics"][metric]["max"].as_f64().unwrap()
}

/// confluent-kafka with librdkafka's defaults (enable.auto.offset.store=true, auto-commit from
/// a timer: rdkafka_offset.c `rd_kafka_update_app_pos`, rdkafka_cgrp.c
/// `rd_kafka_cgrp_offset_commit_tmr_cb`) loses records on a consumer crash; the fix
/// `enable.auto.offset.store=false` (CONFIGURATION.md) is proven on the same seeds. The Java
/// client with the same settings (auto-commit inside poll) loses none.
#[test]
fn librdkafka_defaults_lose_on_consumer_crash_where_java_does_not() {
    let rdk = audit(&["confluent-consumer.py"]);
    assert_eq!(rdk["client"], "librdkafka");
    assert!(worst(&rdk, "consumer-crash", "lost_acked") > 0.0);
    let fix = &row(&rdk, "consumer-crash")["fix"];
    assert_eq!(fix["change"], "--consumer-property enable.auto.offset.store=false");
    assert_eq!(fix["metrics"]["lost_acked"]["max"], 0.0);
    let java = audit(&["confluent-consumer.py", "--client", "java"]);
    assert_eq!(worst(&java, "consumer-crash", "lost_acked"), 0.0);
    assert!(worst(&java, "consumer-crash", "duplicates") > 0.0, "at-least-once redelivers");
}

/// A Java producer (murmur2) and a librdkafka one (consistent_random: CRC32) of one topic.
#[test]
fn mixed_client_partitioners_are_a_warning() {
    let doc = audit(&["safe-producer.properties", "kcat-producer.conf", "safe-consumer.properties"]);
    let w = doc["warnings"].as_array().unwrap();
    assert!(w.iter().any(|w| w.as_str().unwrap().starts_with("mixed partitioners")), "{w:?}");
}

/// The safe pair: no anomaly but at-least-once's duplicates, except the one a topic config
/// decides: acks=all with min.insync.replicas=1 (the default) lets the leader acknowledge alone
/// once the ISR has shrunk to it (Partition.maybeShrinkIsr after replica.lag.time.max.ms), and a
/// power loss of that leader then takes records no other replica has (KIP-966; Jepsen 2013). The
/// fix `acks=all` + `min.insync.replicas=2` is proven by its re-run: the leader refuses writes
/// with NotEnoughReplicas instead (Partition.appendRecordsToLeader). And one record slower than
/// max.poll.interval.ms makes any group's commit fail (consumer-pause-poll, pinned in
/// `default_poll_interval_absorbs_slow_processing_but_not_a_stalled_record`).
#[test]
fn the_safe_pair_has_no_anomaly_but_duplicates_and_the_min_isr_one() {
    let doc = audit(&["safe-producer.properties", "safe-consumer.properties"]);
    for r in doc["faults"].as_array().unwrap() {
        if r["fault"] != "isr-shrink-leader-loss" && r["fault"] != "consumer-pause-poll" {
            assert_eq!(r["probability"], 0.0, "{r}");
        }
    }
    let isr = row(&doc, "isr-shrink-leader-loss");
    assert!(isr["metrics"]["lost_writes"]["max"].as_f64().unwrap() > 0.0, "{isr}");
    assert_eq!(isr["fix"]["change"], "--producer-property acks=all --topic-config min.insync.replicas=2", "{isr}");
    assert_eq!(isr["fix"]["metrics"]["lost_writes"]["max"], 0.0);
    assert_eq!(isr["fix"]["metrics"]["lost_acked"]["max"], 0.0);
}

/// The loose pair: acks=1 loses acknowledged writes when the leader goes, and
/// auto.offset.reset=latest skips what was written before the group joined, fixed by
/// `earliest` (proven).
#[test]
fn the_loose_pair_loses_acknowledged_writes_and_skips() {
    let doc = audit(&["loose-producer.properties", "loose-consumer.properties"]);
    assert!(worst(&doc, "isr-shrink-leader-loss", "lost_writes") > 0.0);
    assert!(worst(&doc, "consumer-crash", "skipped") > 0.0);
    let fix = &row(&doc, "partition-client-leader")["fix"];
    assert!(fix["change"].as_str().unwrap().contains("--consumer-property auto.offset.reset=earliest"), "{fix}");
    assert_eq!(fix["metrics"]["skipped"]["max"], 0.0);
}

#[test]
fn results_do_not_depend_on_jobs() {
    let a = audit(&["safe-producer.properties", "loose-consumer.properties", "--jobs", "1"]);
    let b = audit(&["safe-producer.properties", "loose-consumer.properties", "--jobs", "2"]);
    assert_eq!(a, b);
}

#[test]
fn an_unknown_name_gives_position_and_nearest_in_both_dialects() {
    let dir = std::env::temp_dir().join(format!("streamsim-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("p.properties");
    std::fs::write(&f, "acks=all\nlingr.ms=5\n").unwrap();
    let (code, _, err) = streamsim(&["audit", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("p.properties:2:1: unknown config `lingr.ms` for the Java client"), "{err}");
    assert!(err.contains("nearest names: Java `linger.ms`, librdkafka `linger.ms`"), "{err}");
    std::fs::write(&f, "queue.buffering.max.ms=5\nlinger.ms=5\n").unwrap();
    let (code, _, err) = streamsim(&["audit", f.to_str().unwrap(), "--client", "java"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`queue.buffering.max.ms` is librdkafka's name; the Java client calls it `linger.ms`"),
        "{err}"
    );
    std::fs::write(&f, "linger.ms=soon\n").unwrap();
    let (code, _, err) = streamsim(&["audit", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("expected a number of milliseconds, found `soon`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every cause the audit prints for librdkafka's defaults is a mechanism: the offset-store
/// losses (rdkafka_offset.c `rd_kafka_update_app_pos`) are named, none reads `unexplained`.
#[test]
fn librdkafka_defaults_audit_has_no_unexplained_cause() {
    let (code, out, err) = streamsim(&["audit", "confluent-consumer.py", "--seeds", "0..5"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("unexplained"), "{out}");
    assert!(out.contains("offset store (enable.auto.offset.store=true"), "{out}");
}

/// A topic that allows unclean elections (unclean.leader.election.enable=true): the stale
/// broker-1 is made leader once broker-0 is fenced, and what only broker-0 had is gone (KRaft's
/// PartitionChangeBuilder elects outside the ISR only then). The fix, proven by its re-run, is
/// Kafka's default: the partitions stay offline until broker-0 returns with its log, at a cost in
/// latency. Without the override the row has no anomaly.
#[test]
fn unclean_election_loses_writes_where_the_topic_allows_it_and_the_default_fixes_it() {
    let doc = audit(&[
        "safe-producer.properties",
        "safe-consumer.properties",
        "--topic-config",
        "unclean.leader.election.enable=true",
    ]);
    let r = row(&doc, "unclean-election");
    assert!(r["metrics"]["lost_writes"]["max"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["cause"].as_str().unwrap().contains("an unclean election made a stale replica leader"), "{r}");
    assert_eq!(r["fix"]["change"], "--topic-config unclean.leader.election.enable=false", "{r}");
    assert_eq!(r["fix"]["metrics"]["lost_writes"]["max"], 0.0);
    let fixed = &r["fix"]["cost"];
    assert!(fixed["latency_p99_ms_after"].as_f64() > fixed["latency_p99_ms_before"].as_f64(), "offline instead: {r}");
    let default = audit(&["safe-producer.properties", "safe-consumer.properties"]);
    assert_eq!(row(&default, "unclean-election")["probability"], 0.0);
    let not_yet = default["not_in_catalogue"].as_array().unwrap();
    assert!(not_yet.iter().all(|f| f["fault"] != "unclean-election"), "{not_yet:?}");
}

/// The two poll-loop faults on a group that allows 10 s between polls (the loose pair, with
/// `earliest` so its skip is out of the way). consumer-pause-poll: one record takes
/// max.poll.interval.ms + 5 s while AbstractCoordinator's HeartbeatThread keeps the session alive;
/// the poll timer expires (pollTimeoutExpired → handlePollTimeoutExpiry → maybeLeaveGroup,
/// KIP-62), the member's commit fails (ConsumerCoordinator: CommitFailedException) and its batch
/// is redelivered. Kafka's advice in that message, a longer max.poll.interval.ms, is the proven
/// fix (fewer records per poll cannot help one slow record). slow-processing: 5 × 9 ms a record
/// for 30 s on every member makes a batch of 500 take 22.5 s: a rebalance storm
/// (scenarios/rebalance-storm.yaml); the proven fix is max.poll.records=100 (4.5 s a batch).
#[test]
fn poll_loop_faults_leave_the_group_and_their_fixes_are_proven() {
    let doc = audit(&[
        "loose-producer.properties",
        "loose-consumer.properties",
        "--consumer-property",
        "max.poll.interval.ms=10000",
        "--consumer-property",
        "auto.offset.reset=earliest",
    ]);
    let stat = |fault: &str, m: &str| {
        let s = &row(&doc, fault)["metrics"][m];
        (s["median"].as_f64().unwrap(), s["max"].as_f64().unwrap())
    };
    let poll = row(&doc, "consumer-pause-poll");
    assert_eq!(poll["probability"], 1.0, "{poll}");
    assert_eq!(stat("consumer-pause-poll", "commits_failed"), (1.0, 1.0));
    assert_eq!(stat("consumer-pause-poll", "duplicates"), (596.0, 798.0));
    assert_eq!(stat("consumer-pause-poll", "rebalances"), (3.0, 3.0));
    assert!(poll["cause"].as_str().unwrap().contains("exceeded max.poll.interval.ms"), "{poll}");
    assert_eq!(poll["fix"]["change"], "--consumer-property max.poll.interval.ms=30000", "{poll}");
    assert_eq!(poll["fix"]["metrics"]["commits_failed"]["max"], 0.0);
    assert_eq!(poll["fix"]["metrics"]["duplicates"]["max"], 0.0);
    let slow = row(&doc, "slow-processing");
    assert_eq!(slow["probability"], 1.0, "{slow}");
    assert_eq!(stat("slow-processing", "commits_failed"), (4.0, 5.0));
    assert_eq!(stat("slow-processing", "duplicates"), (1939.0, 2183.0));
    assert_eq!(stat("slow-processing", "rebalances"), (4.0, 4.0));
    assert_eq!(slow["fix"]["change"], "--consumer-property max.poll.records=100", "{slow}");
    for m in ["commits_failed", "duplicates"] {
        assert_eq!(slow["fix"]["metrics"][m]["max"], 0.0, "{slow}");
    }
    assert_eq!(slow["fix"]["cost"]["rebalances_after"], 1.0, "{slow}");
}

/// With Kafka's default max.poll.interval.ms (300 s) a 30 s slowdown only builds lag, and the
/// safe pair's commitSync after processing never fails; the stalled record still outlasts the
/// poll timer (the run is lengthened to see it), and the proven fix is an interval above it.
#[test]
fn default_poll_interval_absorbs_slow_processing_but_not_a_stalled_record() {
    let doc = audit(&["txn-producer.properties", "safe-consumer.properties"]);
    assert_eq!(row(&doc, "slow-processing")["probability"], 0.0);
    let poll = row(&doc, "consumer-pause-poll");
    assert_eq!(poll["metrics"]["commits_failed"]["max"], 1.0, "{poll}");
    assert_eq!(poll["fix"]["change"], "--consumer-property max.poll.interval.ms=610000", "{poll}");
    // txn-timeout: the producer pauses past transaction.timeout.ms (60 s); TransactionCoordinator
    // aborts with an epoch bump, the producer is fenced and sends the records again. A
    // read_uncommitted consumer (Java's default) reads the aborted copies too: duplicates; the
    // proven fix is isolation.level=read_committed.
    let txn = row(&doc, "txn-timeout");
    assert_eq!(txn["probability"], 1.0, "{txn}");
    assert_eq!(txn["metrics"]["duplicates"]["median"], 25.0, "{txn}");
    assert_eq!(txn["metrics"]["duplicates"]["max"], 33.0, "{txn}");
    assert!(txn["cause"].as_str().unwrap().contains("by transaction.timeout.ms"), "{txn}");
    assert!(txn["cause"].as_str().unwrap().contains("read_uncommitted read both"), "{txn}");
    assert_eq!(txn["fix"]["change"], "--consumer-property isolation.level=read_committed", "{txn}");
    assert_eq!(txn["fix"]["metrics"]["duplicates"]["max"], 0.0, "{txn}");
    assert!(doc["not_in_catalogue"].as_array().unwrap().is_empty());
}

/// txn-timeout applies to transactional configs only: without a `transactional.id` the row
/// says so and runs nothing. A librdkafka transactional producer config is accepted
/// (`transactional.id` turns idempotence on there, rdkafka_conf.c `rd_kafka_conf_finalize`).
#[test]
fn txn_timeout_needs_a_transactional_producer_of_either_client() {
    let plain = audit(&["safe-producer.properties", "safe-consumer.properties"]);
    let r = row(&plain, "txn-timeout");
    assert_eq!(r["seeds"], 0, "{r}");
    assert!(r["cause"].as_str().unwrap().starts_with("does not apply: no `transactional.id`"), "{r}");
    assert!(r["fix"].is_null());
    let rdk = audit(&["txn-producer.conf", "safe-consumer.properties"]);
    let r = row(&rdk, "txn-timeout");
    assert_eq!(r["probability"], 1.0, "{r}");
    assert_eq!(r["fix"]["change"], "--consumer-property isolation.level=read_committed", "{r}");
}

/// A bad `slow:` fault in a `--workload` file exits 2 with its position and a hint.
#[test]
fn a_bad_slow_fault_exits_2_with_position_and_hint() {
    let dir = std::env::temp_dir().join(format!("streamsim-audit-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("w.yaml");
    std::fs::write(
        &f,
        "name: w\nduration: 10s\nbrokers: 1\ntopics:\n  - { name: t, partitions: 2, replication.factor: 1 }\nproducers:\n  - { name: app, rate: 10/s }\nconsumers:\n  - { group: orders, instances: 1 }\nfaults:\n  - { at: 1s, slow: orders-0, for: 2s }\n",
    )
    .unwrap();
    let (code, _, err) = streamsim(&["run", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("w.yaml:11:5: missing field `processing_time` in faults[0]"), "{err}");
    assert!(err.contains("hint: a `slow` fault says how long each record takes meanwhile"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
