//! The producer against Kafka's client (apache/kafka `clients/.../producer/internals`):
//! each test names the class whose behaviour it pins and Kafka's answer.

mod common;

use streamsim::scenario::load_str;
use streamsim::simulate;

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
