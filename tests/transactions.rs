//! Transactions: each test drives one mechanism (epoch fencing, the last
//! stable offset, markers, offsets in transactions) and checks that the
//! outcome comes from it.

use streamsim::oracle::checkers::Summary;
use streamsim::scenario::load_str;
use streamsim::simulate;

fn run(yaml: &str) -> Summary {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    simulate(sc).expect("run completes").summary
}

/// A transactional producer writing to a 3-broker cluster, one consumer
/// group reading with `isolation`, and `faults`.
fn pipeline(isolation: &str, producers: &str, faults: &str) -> String {
    format!(
        "name: t
seed: 5
duration: 20s
drain: 60s
brokers: 3
topics: [{{ name: t, partitions: 3, replication.factor: 3, config: {{ min.insync.replicas: 2 }} }}]
producers:
{producers}
consumers:
  - {{ group: g, commit: after-processing, processing_time: 1ms, config: {{ auto.offset.reset: earliest, isolation.level: {isolation} }} }}
faults:
{faults}
"
    )
}

const TX: &str = "  - { name: tx, rate: 200/s, keys: 20, transaction_interval: 400ms, config: { transactional.id: tx, transaction.timeout.ms: 8000 } }";

/// Markers take offsets: the logs end past the records written, and the
/// committed offsets still reach the log end (the consumer commits past the
/// markers it skipped).
#[test]
fn markers_take_offsets_and_consumers_commit_past_them() {
    let s = run(&pipeline("read_committed", TX, "  []"));
    assert_eq!((s.lost, s.duplicates, s.pending, s.final_lag), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
    let ends: u64 = s.partitions.iter().map(|p| p.log_end_offset).sum();
    let markers = ends - s.written;
    // One marker per partition per transaction (a transaction of 80 records touches all 3).
    assert!(markers >= 3 * s.transactions_committed * 9 / 10, "{markers} markers, {} txns", s.transactions_committed);
    assert!(s.transactions_committed >= 45 && s.transactions_aborted == 0, "{s:?}");
    for p in &s.partitions {
        assert_eq!(p.committed["g"], p.log_end_offset, "{p:?}");
    }
}

/// The producer crashes mid-transaction and restarts: initTransactions bumps
/// the epoch and aborts the open transaction. Its records were never
/// acknowledged (a transaction's records are acknowledged by its commit), so
/// they are lost without breaking a promise, and read_committed never sees them.
#[test]
fn a_restarted_producer_aborts_its_predecessors_transaction() {
    let faults = "  - { at: 8100ms, crash: tx-0 }\n  - { at: 9s, restart: tx-0 }";
    let s = run(&pipeline("read_committed", TX, faults));
    assert!(s.transactions_aborted >= 1, "{s:?}");
    assert!(s.lost > 0 && s.lost_acked == 0, "unacknowledged records died with the producer: {s:?}");
    assert_eq!((s.duplicates, s.redelivered), (0, 0));
    assert!(s.written > s.delivered, "the aborted records are in the log: {s:?}");
    assert_eq!(s.acked, s.delivered, "every acknowledged record is delivered, once");

    // read_uncommitted processes the aborted records: they count as delivered
    // though no commit ever acknowledged them.
    let u = run(&pipeline("read_uncommitted", TX, faults));
    assert!(u.delivered > s.delivered, "{} > {}", u.delivered, s.delivered);
    assert_eq!(u.acked, s.acked);
}

/// A producer that dies with a transaction open and never comes back leaves
/// a hanging transaction: read_committed consumers cannot pass its first
/// offset (the last stable offset) until transaction.timeout.ms aborts it,
/// so another producer's records wait behind it.
#[test]
fn a_hanging_transaction_blocks_read_committed_until_it_times_out() {
    let producers = format!("{TX}\n  - {{ name: plain, rate: 100/s, keys: 10 }}");
    let faults = "  - { at: 6100ms, crash: tx-0 }";
    let committed = run(&pipeline("read_committed", &producers, faults));
    let uncommitted = run(&pipeline("read_uncommitted", &producers, faults));
    assert_eq!(committed.transactions_aborted, 1, "{committed:?}");
    assert_eq!((committed.lost_acked, committed.duplicates, committed.pending), (0, 0, 0));
    // transaction.timeout.ms is 8 s, and the abort waits for the coordinator's
    // 10 s scheduler (at 20 s): records sent just after the crash wait that long.
    assert!(committed.latency_ms.max > 7_500.0, "blocked behind the open transaction: {}", committed.latency_ms.max);
    // (Both wait about 3 s at the start, for the group's first rebalance.)
    assert!(uncommitted.latency_ms.max < 4_000.0, "read_uncommitted is not held back: {}", uncommitted.latency_ms.max);
    // Lag while the transaction hangs (after the first rebalance's backlog is gone).
    let lag_after = |isolation: &str| {
        let sc = load_str(&pipeline(isolation, &producers, faults), "t.yaml").expect("valid").scenario;
        let o = simulate(sc).expect("run completes");
        o.samples.iter().filter(|x| x.at.ms() >= 7_000 && x.at.ms() <= 14_000).map(|x| x.lag).max().unwrap_or(0)
    };
    let (c, u) = (lag_after("read_committed"), lag_after("read_uncommitted"));
    assert!(c >= 500 && c > 10 * u, "lag during the hang: read_committed {c}, read_uncommitted {u}");
}

/// The partition leader crashes with transactions open: the producer's
/// batches move to the new leader (the idempotence window is rebuilt from
/// the log) and the coordinator writes the markers there. Nothing is lost or
/// doubled under read_committed.
#[test]
fn transactions_survive_a_leader_crash() {
    let faults = "  - { at: 7050ms, crash: broker-0 }\n  - { at: 15s, restart: broker-0 }";
    let s = run(&pipeline("read_committed", TX, faults));
    assert_eq!((s.lost, s.duplicates, s.failed, s.pending), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
}

/// Consume-transform-produce under exactly-once: a consumer crashes
/// mid-transaction and another freezes past its session timeout. The crash
/// aborts the open transaction (staged results and offsets dropped together)
/// and the records are processed again; the zombie's sendOffsetsToTransaction
/// is refused by generation (KIP-447), so its transaction aborts too.
#[test]
fn consumer_transactions_abort_on_crash_and_fence_zombies() {
    let yaml = "name: t
seed: 8
duration: 30s
drain: 60s
semantics: exactly-once
brokers: 3
topics: [{ name: t, partitions: 4, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: 150/s, keys: 30 }]
consumers:
  - { group: g, instances: 2, processing_time: { exp: 5ms }, config: { session.timeout.ms: 6000, max.poll.records: 40 } }
faults:
  - { at: 8s, crash: g-0 }
  - { at: 10s, restart: g-0 }
  - { at: 18s, pause: g-1, for: 9s }
";
    let s = run(yaml);
    assert_eq!((s.lost, s.duplicates, s.failed, s.pending), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered, s.produced);
    assert!(s.redelivered > 0, "the aborted batches were processed again");
    assert!(s.commits_failed >= 1, "the zombie's offsets were refused: {s:?}");
    assert!(s.transactions_aborted >= 2, "{s:?}");

    // Without transactions the same faults apply records twice.
    let alo = run(&yaml.replace("semantics: exactly-once", "semantics: at-least-once"));
    assert!(alo.duplicates > 0, "{alo:?}");
}

/// The time of the first `fenced` step with `by_timeout` set, in µs.
fn timeout_abort_at_us(yaml: &str) -> u64 {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let path = std::env::temp_dir().join(format!("streamsim-txn-{}-{}.jsonl", std::process::id(), yaml.len()));
    streamsim::simulate_with(sc, &mut |_| {}, Some(std::fs::File::create(&path).unwrap()), false).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|s| s["kind"] == "fenced" && s["by_timeout"] == 1)
        .and_then(|s| s["t"].as_u64())
        .expect("the coordinator aborted the timed-out transaction")
}

/// TransactionCoordinator.startup schedules abortTimedOutTransactions every
/// transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s), and a
/// transaction counts as expired once txnStartTimestamp + txnTimeoutMs < now
/// (TransactionStateManager.timedOutTransactions). The producer dies at
/// 6.1 s inside a transaction opened at most 400 ms earlier, with
/// transaction.timeout.ms 8 s: it expires at about 14 s, and the abort comes
/// at the scheduler's run at 20 s: within timeout + 10 s, not at expiry.
#[test]
fn a_timed_out_transaction_is_aborted_by_the_10s_scheduler_within_timeout_plus_10s() {
    let yaml = pipeline("read_committed", TX, "  - { at: 6100ms, crash: tx-0 }");
    let at = timeout_abort_at_us(&yaml);
    let latest_expiry = 6_100_000 + 8_000_000;
    assert_eq!(at, 20_000_000, "the scheduler's second run");
    assert!(at > latest_expiry + 1_000_000 && at <= latest_expiry + 10_000_000, "aborted at {at} us");
    // A shorter interval (a broker config) aborts closer to the expiry.
    let fast = yaml.replace(
        "brokers: 3\n",
        "brokers: 3\nbroker_config: { transaction.abort.timed.out.transaction.cleanup.interval.ms: 1000 }\n",
    );
    let at = timeout_abort_at_us(&fast);
    assert!(at > 13_700_000 && at <= latest_expiry + 1_000_000 && at.is_multiple_of(1_000_000), "aborted at {at} us");
}

/// Kafka's answer (`Sender.sendProducerData` bounds its poll by
/// `RecordAccumulator.nextExpiryTimeMs`; `RecordAccumulator.expiredBatches`):
/// a batch waiting for a connection that nothing answers fails at
/// `delivery.timeout.ms`, not at the next connection timeout. broker-0 (the
/// only one) loses its host at 1 s: SYNs go unanswered and a connect waits
/// socket.connection.setup.timeout.ms (10 s, ±20%); with delivery.timeout.ms
/// 3 s the first failures come about 3 s after the first batch that could
/// not go, well before 10 s.
#[test]
fn record_accumulator_expires_batches_behind_an_unanswered_connect_at_delivery_timeout() {
    let yaml = "name: t
duration: 8s
drain: 1s
brokers: 1
network: { latency: 1ms }
topics: [{ name: t, partitions: 1, replication.factor: 1 }]
producers: [{ name: p, rate: { constant: 100/s }, keys: 10, config: { request.timeout.ms: 2000, delivery.timeout.ms: 3000, linger.ms: 5 } }]
faults:
  - { at: 1s, host_crash: broker-0 }
";
    let dir = std::env::temp_dir().join(format!("streamsim-expiry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, trace) = (dir.join("t.yaml"), dir.join("t.jsonl"));
    std::fs::write(&file, yaml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["run", file.to_str().unwrap(), "--trace", trace.to_str().unwrap()])
        .output()
        .expect("run");
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&trace).unwrap();
    let first_fail_us = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["kind"] == "fail")
        .and_then(|v| v["t"].as_u64())
        .expect("a send fails");
    let _ = std::fs::remove_dir_all(&dir);
    // The batches made just after the crash expire about 3 s later.
    assert!((3_900_000..4_500_000).contains(&first_fail_us), "first failure at {first_fail_us} us");
}

/// KIP-890 part 2: a Kafka 4.0 cluster bootstraps `transaction.version` 2
/// (`TransactionVersion.TV_2`, bootstrap metadata version IBP_4_0_IV2);
/// 3.9 has no such feature. `validate --effective` shows the default for
/// each version, and the file can set it.
#[test]
fn transaction_version_defaults_to_2_from_kafka_4_0_transaction_version_tv_2() {
    let show = |version: &str, extra: &str| {
        let dir = std::env::temp_dir().join(format!("streamsim-tv-{}-{version}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.yaml");
        let yaml = format!(
            "name: t\nduration: 1s\nkafka_version: \"{version}\"\n{extra}topics: [{{ name: t, partitions: 1 }}]\nproducers: [{{ name: p, rate: 10/s }}]\n"
        );
        std::fs::write(&file, yaml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
            .args(["validate", file.to_str().unwrap(), "--effective", "--json"])
            .output()
            .expect("validate");
        let _ = std::fs::remove_dir_all(&dir);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let rows = v["configs"].as_array().expect("rows").clone();
        let row = rows.into_iter().find(|r| r["name"] == "transaction.version").expect("a transaction.version row");
        row["value"].as_str().unwrap().to_string()
    };
    assert_eq!(show("3.9", ""), "0");
    assert_eq!(show("4.0", ""), "2");
    assert_eq!(show("4.1", "broker_config: { transaction.version: 0 }\n"), "0");
}
