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
