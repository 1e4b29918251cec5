//! The producer against Kafka's client (apache/kafka `clients/.../producer/internals`):
//! each test names the class whose behaviour it pins and Kafka's answer.

use streamsim::scenario::load_str;
use streamsim::{simulate, simulate_with};

fn run(yaml: &str) -> streamsim::oracle::checkers::Summary {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    simulate(sc).expect("run completes").summary
}

/// One producer at a constant `rate`/s into one partition (3 replicas), 1 ms away.
fn steady(rate: u32, linger_ms: u32) -> String {
    format!(
        "name: t
duration: 10s
drain: 5s
brokers: 3
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: 1, replication.factor: 3 }}]
producers:
  - {{ name: p, rate: {{ constant: {rate}/s }}, keys: 100, config: {{ acks: 1, linger.ms: {linger_ms} }} }}
"
    )
}

/// Kafka's answer (`RecordAccumulator.append` / `RecordAccumulator.ready`):
/// with `linger.ms: 0` a batch is ready at once, but it keeps taking records
/// until `Sender.sendProducerData` drains it, so while five requests are in
/// flight the next batch fills. One partition, a 2 ms round trip and
/// `max.in.flight.requests.per.connection: 5` allow at most 2,500 requests a
/// second: keeping up with 8,000 records/s means batches of 3.2 records or
/// more on average, so the producer cannot be sending one-record batches.
/// It keeps up as at `linger.ms: 5`, and send() never blocks on `buffer.memory`.
#[test]
fn record_accumulator_linger_0_keeps_up_with_8000_per_s_without_one_record_batches() {
    for linger in [0, 5] {
        let s = run(&steady(8_000, linger));
        assert_eq!(s.produced, 80_000, "linger.ms {linger}");
        assert_eq!((s.acked, s.failed, s.unsent), (80_000, 0, 0), "linger.ms {linger}");
        assert_eq!(s.producer_blocked_ms, 0, "linger.ms {linger}: send() never blocks on buffer.memory");
    }
}

/// A producer at `rate`/s into 3 partitions (one led by each broker), 1 ms
/// away; the leader of partition 0 (broker-0) crashes at 5 s and stays down.
fn leader_crash(rate: u32, config: &str) -> String {
    leader_crash_at(rate, "1ms", config)
}

fn leader_crash_at(rate: u32, latency: &str, config: &str) -> String {
    format!(
        "name: t
duration: 20s
drain: 20s
brokers: 3
network: {{ latency: {latency} }}
topics: [{{ name: t, partitions: 3, replication.factor: 3 }}]
producers:
  - {{ name: p, rate: {{ constant: {rate}/s }}, keys: 300, config: {{ {config} }} }}
faults:
  - {{ at: 5s, crash: broker-0 }}
"
    )
}

/// Kafka's answer: `Sender.sendProducerData` drains batches only to nodes
/// `NetworkClient.ready()` reports connected; broker-0's port refuses the
/// reconnect (`ClusterConnectionStates` backs off, 50 ms doubling to 1 s),
/// so partition 0's batches wait in the accumulator until the controller
/// fences broker-0 (9 s) and metadata names the new leader. With acks=0 a
/// send completes once the request is written to the socket
/// (`NetworkClient.handleCompletedSends`): only what was on the wire when
/// the broker died is lost — at most one batch of partition 0 (2,000/s over
/// 3 partitions, a 5 ms linger: a handful of records), not the ~2,700
/// records of sending every new batch into the dead broker for 9 s.
#[test]
fn sender_acks_0_leader_crash_loses_at_most_the_batch_on_the_wire() {
    let s = run(&leader_crash(2_000, "acks: 0, linger.ms: 5"));
    eprintln!("acks=0: lost_writes {} failed {} acked {}", s.lost_writes, s.failed, s.acked);
    assert_eq!(s.acked, s.produced, "acks=0: every send completes");
    assert!(s.lost_writes <= 12, "lost {} records: more than one batch on the wire", s.lost_writes);
    assert_eq!(s.partitions[0].leader, Some(1), "partition 0 failed over to broker-1");
}

/// Kafka's answer (`Sender.completeBatch` / `NetworkClient.processDisconnection`):
/// with retries=0 a crash fails only the requests in flight on the broken
/// connection (at most `max.in.flight.requests.per.connection` = 5 batches;
/// a 10 ms round trip keeps two in flight), not the ~2,700 records a
/// producer that kept sending into the dead broker failed; the batches that
/// wait for the new leader are not errors.
#[test]
fn sender_retries_0_fails_only_the_batches_in_flight_at_the_crash() {
    let s = run(&leader_crash_at(2_000, "5ms", "acks: 1, retries: 0, enable.idempotence: false"));
    eprintln!("retries=0: failed {} acked {} produced {}", s.failed, s.acked, s.produced);
    assert!(s.failed > 0, "a request was in flight on broker-0's connection");
    assert!(s.failed <= 5 * 12, "failed {}: more than the 5 batches a connection carries", s.failed);
    assert_eq!(s.acked + s.failed, s.produced);
}

/// Kafka's answer (`RecordAccumulator.append`, `BufferPool`): the waiting
/// batches of the dead leader's partition fill up to `batch.size` (163
/// records of 100 bytes in 16 KiB) instead of multiplying, so at 20,000/s
/// (6,667/s into partition 0) the 32 MiB `buffer.memory` (2,048 batches,
/// 333,000 records) outlasts the 9 s until fencing and send() never blocks.
/// With 4 MiB (256 batches, 41,700 records) it fills after about 6.3 s and
/// send() blocks for the last ~2.7 s before the new leader drains it.
/// (acks=1: with acks=all every partition would wait, as broker-0 stays in
/// their ISRs until it is fenced and holds their high watermarks back.)
#[test]
fn record_accumulator_buffer_memory_fills_only_as_full_batches_wait_for_the_new_leader() {
    let roomy = run(&leader_crash(20_000, "acks: 1"));
    eprintln!("32 MiB: blocked {} ms failed {}", roomy.producer_blocked_ms, roomy.failed);
    assert_eq!((roomy.producer_blocked_ms, roomy.failed, roomy.lost_acked), (0, 0, 0));
    let tight = run(&leader_crash(20_000, "acks: 1, buffer.memory: 4194304"));
    eprintln!("4 MiB: blocked {} ms failed {}", tight.producer_blocked_ms, tight.failed);
    assert!((1_500..=4_000).contains(&tight.producer_blocked_ms), "blocked {} ms", tight.producer_blocked_ms);
    assert_eq!(tight.failed, 0, "max.block.ms (60 s) is never reached");
}

/// The trace's steps of `kind`, in order, as JSON.
fn steps(yaml: &str, kind: &str) -> Vec<serde_json::Value> {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let name = format!("streamsim-producer-{}-{kind}-{}.jsonl", std::process::id(), yaml.len());
    let path = std::env::temp_dir().join(name);
    let file = std::fs::File::create(&path).expect("temp file");
    simulate_with(sc, &mut |_| {}, Some(std::io::BufWriter::new(file)), false).expect("run completes");
    let text = std::fs::read_to_string(&path).expect("trace written");
    std::fs::remove_file(&path).ok();
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|v| v["kind"] == kind)
        .collect()
}

/// Kafka's answer (KIP-580, `RecordAccumulator.batchReady` with
/// `ExponentialBackoff`): a batch's n-th retry waits retry.backoff.ms ·
/// 2^(n−1) with ±20% jitter, up to retry.backoff.max.ms (100 ms to 1 s by
/// default). Here the leader is frozen for 8 s (less than its 9 s session):
/// every attempt times out after request.timeout.ms (200 ms), the client
/// closes the connection (`NetworkClient` on a request timeout), reconnects
/// (the frozen broker's kernel still accepts) and retries after the backoff.
/// Of its 12 records (one each 100 ms) only the last goes into the freeze: the gaps
/// between that record's retries are 200 ms plus about 100, 200,
/// 400, 800 ms (and a 2 ms handshake), then plus 1 s.
#[test]
fn record_accumulator_retry_backoff_grows_exponentially_to_retry_backoff_max_ms() {
    let yaml = "name: t
duration: 12s
drain: 5s
brokers: 1
network: { latency: 1ms }
topics: [{ name: t, partitions: 1, replication.factor: 1 }]
producers: [{ name: p, rate: { constant: 10/s }, messages: 12, keys: 1, config: { acks: 1, request.timeout.ms: 200 } }]
faults:
  - { at: 1050ms, pause: broker-0, for: 8s }
";
    let retries = steps(yaml, "retry");
    let first = retries.first().expect("a retried record")["record"].clone();
    assert!(retries.iter().all(|v| v["record"] == first), "one record in the freeze");
    let times: Vec<f64> =
        retries.iter().filter(|v| v["record"] == first).map(|v| v["t"].as_u64().unwrap() as f64 / 1000.0).collect();
    assert!(times.len() >= 7, "{times:?}");
    for (i, gap) in times.windows(2).map(|w| w[1] - w[0]).enumerate() {
        let base = (100.0 * 2f64.powi(i as i32)).min(1000.0);
        let (low, high) = (200.0 + base * 0.8, 205.0 + (base * 1.2).min(1000.0));
        assert!((low..=high).contains(&gap), "gap {i}: {gap} ms, expected {low}..{high} ({times:?})");
    }
}

/// Kafka's answer (KIP-794, `BuiltInPartitioner.updatePartitionInfo`, Kafka
/// 3.3+): null keys stay on one partition until batch.size bytes went to it
/// with its last batch full, or twice batch.size in any case. At 100
/// records/s each lingered batch holds one record and is never full, so the
/// producer switches after 2 × 16,384 bytes: runs of 328 records of 100
/// bytes (KIP-480 switched at every new batch: runs of one or two).
#[test]
fn built_in_partitioner_switches_null_keys_after_batch_size_bytes() {
    let yaml = "name: t
duration: 10s
drain: 5s
brokers: 3
network: { latency: 1ms }
topics: [{ name: t, partitions: 6, replication.factor: 3 }]
producers: [{ name: p, rate: { constant: 100/s }, keys: 0 }]
";
    let partitions: Vec<u64> = steps(yaml, "send").iter().map(|v| v["partition"].as_u64().unwrap()).collect();
    assert_eq!(partitions.len(), 1000);
    // Where the partition was drawn again: the same partition may come back,
    // so runs are multiples of 328.
    let mut runs = vec![1u64];
    for w in partitions.windows(2) {
        if w[0] == w[1] {
            *runs.last_mut().unwrap() += 1;
        } else {
            runs.push(1);
        }
    }
    let (last, whole) = runs.split_last().unwrap();
    assert!(!whole.is_empty() && whole.iter().all(|r| r % 328 == 0), "{runs:?}");
    assert!(*last <= 1000, "{runs:?}");
}

fn versioned(version: &str) -> String {
    format!(
        "name: t
kafka_version: {version}
duration: 10s
brokers: 3
topics: [{{ name: t, partitions: 6, replication.factor: 3 }}]
producers: [{{ name: p, rate: {{ constant: 100/s }}, keys: 0 }}]
consumers: [{{ group: g }}]
"
    )
}

/// Kafka's answer (ProducerConfig / ConsumerConfig defaults by release):
/// linger.ms 0 before 4.0 (KIP-1030 made it 5), acks=all and idempotence
/// since 3.0 (KIP-679; acks=1 before), the built-in partitioner since 3.3
/// (KIP-794), retry.backoff.max.ms since 3.7 (KIP-580), session.timeout.ms
/// 45 s since 3.0 (KIP-735; 10 s before). `kafka_version` defaults to the
/// newest modelled, 4.1.
#[test]
fn kafka_version_selects_the_defaults_that_changed() {
    use streamsim::kernel::time::Duration;
    use streamsim::scenario::{Acks, KafkaVersion, Partitioner};
    let load = |v: &str| load_str(&versioned(v), "v.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let newest = load_str(&versioned("\"4.1\"").replace("kafka_version: \"4.1\"\n", ""), "v.yaml").unwrap().scenario;
    assert_eq!(newest.kafka_version, KafkaVersion::NEWEST);
    let cases = [
        ("\"4.1\"", Duration::from_ms(5), Acks::All, true, Partitioner::BuiltIn, 1000, 45_000),
        ("\"3.9\"", Duration::ZERO, Acks::All, true, Partitioner::BuiltIn, 1000, 45_000),
        ("\"3.5\"", Duration::ZERO, Acks::All, true, Partitioner::BuiltIn, 100, 45_000),
        ("3.2", Duration::ZERO, Acks::All, true, Partitioner::Sticky, 100, 45_000),
        ("\"2.8.1\"", Duration::ZERO, Acks::One, false, Partitioner::Sticky, 100, 10_000),
    ];
    for (v, linger, acks, idempotence, partitioner, retry_max_ms, session_ms) in cases {
        let sc = load(v);
        let p = &sc.producers[0].config;
        assert_eq!(
            (p.linger, p.acks, p.enable_idempotence, p.partitioner),
            (linger, acks, idempotence, partitioner),
            "{v}"
        );
        assert_eq!(p.retry_backoff_max, Duration::from_ms(retry_max_ms), "{v}");
        assert_eq!(sc.consumers[0].config.session_timeout, Duration::from_ms(session_ms), "{v}");
    }
    assert_eq!(newest.producers[0].config, load("\"4.1\"").producers[0].config);
    // What the file writes wins over the version's defaults.
    let explicit = versioned("\"2.8\"").replace("keys: 0 }", "keys: 0, config: { linger.ms: 7, acks: all } }");
    let sc = load_str(&explicit, "v.yaml").unwrap().scenario;
    assert_eq!((sc.producers[0].config.linger, sc.producers[0].config.acks), (Duration::from_ms(7), Acks::All));
    for bad in ["banana", "\"5.0\"", "\"2.3\"", "\"3\""] {
        let e = load_str(&versioned(bad), "v.yaml").err().unwrap_or_else(|| panic!("{bad} loads")).to_string();
        assert!(e.contains("v.yaml:2:") && e.contains("kafka_version"), "{bad}: {e}");
    }
}

/// Kafka's answer before 3.3 (KIP-480, `StickyPartitionCache`): null keys
/// switch to another partition at every new batch; at 100 records/s each
/// lingered batch holds one record, so no partition gets two in a row for
/// long, where 3.3+ (`BuiltInPartitioner`) stays for 328 records.
#[test]
fn kafka_3_2_switches_null_keys_at_every_new_batch() {
    let partitions: Vec<u64> =
        steps(&versioned("\"3.2\""), "send").iter().map(|v| v["partition"].as_u64().unwrap()).collect();
    assert_eq!(partitions.len(), 1000);
    let switches = partitions.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches > 900, "{switches} switches in 1000 records");
}

/// p99 of send() → acknowledgement over a run's trace (µs): the `send` and
/// `ack` facts of every record.
fn p99_send_to_ack_us(yaml: &str) -> u64 {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let path = std::env::temp_dir().join(format!("streamsim-ack-latency-{}.jsonl", std::process::id()));
    simulate_with(sc, &mut |_| {}, Some(std::fs::File::create(&path).unwrap()), false).expect("runs");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let mut sent = Vec::new();
    let mut latencies = Vec::new();
    for line in text.lines().skip(1) {
        if !line.contains(r#""kind":"send""#) && !line.contains(r#""kind":"ack""#) {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (t, record) = (v["t"].as_u64().unwrap(), v["record"].as_u64().unwrap() as usize);
        if v["kind"] == "send" {
            sent.resize(sent.len().max(record + 1), 0);
            sent[record] = t;
        } else {
            latencies.push(t - sent[record]);
        }
    }
    assert_eq!(latencies.len(), sent.len(), "every record acknowledged");
    latencies.sort_unstable();
    latencies[latencies.len() * 99 / 100]
}

/// Kafka's answer (`Sender.sendProducerData`, `RecordAccumulator.drain`):
/// one request per broker carries a batch for every partition the broker
/// leads, so 60 partitions on 3 brokers need 3 requests per drain, not 60,
/// and five requests in flight per connection keep up with 10,000 records/s:
/// p99 send → ack stays within a few round trips and `linger.ms` (5 ms),
/// under 50 ms on a 1 ms network. (One batch per request capped each broker
/// at 5 batches in flight: p99 grew to tens of seconds.) 200,000 records
/// here; the 1M-record run is in docs/performance.md.
#[test]
fn sender_sixty_partitions_on_three_brokers_keep_p99_send_to_ack_under_50ms() {
    let yaml = "name: t
duration: 20s
drain: 10s
brokers: 3
network: { latency: 1ms }
topics: [{ name: t, partitions: 60, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: { constant: 10000/s }, messages: 200000, keys: 1000 }]
";
    let p99 = p99_send_to_ack_us(yaml);
    assert!(p99 < 50_000, "p99 send -> ack {p99} us");
}

/// Kafka's answer (UnifiedLog.append with a duplicate from ProducerStateEntry.findDuplicateBatch,
/// then ReplicaManager.buildProducePartitionStatus and DelayedProduce): a retry of a batch already
/// in the log is not appended again, but takes the first batch's offsets, and acks=all still waits
/// until the high watermark passes lastOffset + 1. Here the leader is cut off from both followers
/// for 40 s and the idempotent producer retries every request.timeout.ms (5 s): each retry is a
/// duplicate, and none may be acknowledged before the high watermark covers it (that comes only
/// once the ISR has shrunk to the leader, after replica.lag.time.max.ms).
#[test]
fn replica_manager_acks_all_duplicate_waits_for_the_high_watermark() {
    let yaml = "name: t
duration: 20s
drain: 60s
brokers: 3
network: { latency: 1ms }
topics: [{ name: t, partitions: 1, replication.factor: 3 }]
producers:
  - { name: p, rate: { constant: 50/s }, keys: 10, messages: 200, config: { acks: all, enable.idempotence: true, request.timeout.ms: 5000, delivery.timeout.ms: 120000 } }
faults:
  - { at: 2s, partition: [broker-0, broker-1], for: 40s }
  - { at: 2s, partition: [broker-0, broker-2], for: 40s }
";
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let path = std::env::temp_dir().join(format!("streamsim-producer-dup-{}.jsonl", std::process::id()));
    let file = std::fs::File::create(&path).expect("temp file");
    let out = simulate_with(sc, &mut |_| {}, Some(std::io::BufWriter::new(file)), false).expect("run completes");
    let text = std::fs::read_to_string(&path).expect("trace written");
    std::fs::remove_file(&path).ok();
    let (mut offset, mut hw, mut acks, mut retries) = (std::collections::BTreeMap::new(), 0u64, 0, 0);
    for line in text.lines().skip(1) {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        match v["kind"].as_str().unwrap_or("") {
            "append" => {
                offset.insert(v["record"].as_u64().unwrap(), v["offset"].as_u64().unwrap());
            }
            "high_watermark" | "isr" => hw = hw.max(v["high_watermark"].as_u64().unwrap()),
            "retry" => retries += 1,
            "ack" => {
                let o = offset[&v["record"].as_u64().unwrap()];
                assert!(o < hw, "acknowledged at {} with offset {o} above the high watermark {hw}", v["t"]);
                acks += 1;
            }
            _ => {}
        }
    }
    assert!(retries > 0, "the producer retried duplicates");
    assert_eq!((acks, out.summary.lost_writes), (200, 0));
}
