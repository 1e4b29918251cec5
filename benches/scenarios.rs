//! End-to-end throughput: a 1,000,000-record scenario (6 partitions,
//! replication factor 3, 3 consumers) without faults and with chaos faults,
//! and the same run at 6, 60 and 600 partitions on a 1 ms network (the
//! shape of produce and fetch requests decides how events grow with
//! partitions), with 30 consumers at 600 partitions, and 10,000,000 records.
//! Records per wall second = 1,000,000 / the time shown. Run:
//! `cargo bench --bench scenarios`.

use streamsim::scenario::load_str;

fn main() {
    divan::main();
}

const MILLION: &str = "name: million
duration: 100s
drain: 120s
brokers: 3
topics: [{ name: t, partitions: 6, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: { constant: 10000/s }, messages: 1000000, keys: 1000 }]
consumers: [{ group: g, instances: 3, commit: after-processing, config: { auto.offset.reset: earliest } }]
";

const CHAOS: &str = "chaos:
  from: 5s
  until: 90s
  crash: { rate: 4/min, down: { uniform: [1s, 10s] }, targets: [brokers, consumers] }
  pause: { rate: 2/min, for: { uniform: [100ms, 5s] }, targets: [consumers] }
";

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_records_no_faults() -> u64 {
    delivering(MILLION, 1_000_000)
}

/// Runs `file`, checks that all its `records` were delivered; the events it took.
fn delivering(file: &str, records: u64) -> u64 {
    let sc = load_str(file, "million.yaml").expect("valid").scenario;
    let s = streamsim::simulate(sc).expect("runs").summary;
    assert_eq!(s.delivered, records);
    s.events
}

/// The MILLION run into `partitions` partitions, 1 ms one way.
fn million_into(partitions: u32) -> String {
    MILLION
        .replace("partitions: 6,", &format!("partitions: {partitions},"))
        .replace("brokers: 3\n", "brokers: 3\nnetwork: { latency: 1ms }\n")
}

#[divan::bench(sample_count = 3, sample_size = 1, args = [6, 60, 600])]
fn million_records_by_partitions(partitions: u32) -> u64 {
    delivering(&million_into(partitions), 1_000_000)
}

/// 600 partitions read by 30 consumers (20 partitions each), 1 ms one way.
#[divan::bench(sample_count = 2, sample_size = 1)]
fn million_records_600_partitions_30_consumers() -> u64 {
    delivering(&million_into(600).replace("instances: 3,", "instances: 30,"), 1_000_000)
}

/// The MILLION run ten times longer: 10,000,000 records in 1,000 s.
#[divan::bench(sample_count = 2, sample_size = 1)]
fn ten_million_records() -> u64 {
    let file = MILLION.replace("duration: 100s", "duration: 1000s").replace("messages: 1000000", "messages: 10000000");
    delivering(&file, 10_000_000)
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_records_with_chaos() -> u64 {
    let sc = load_str(&format!("{MILLION}{CHAOS}"), "million.yaml").expect("valid").scenario;
    let s = streamsim::simulate(sc).expect("runs").summary;
    assert_eq!(s.lost, 0);
    s.events
}

/// A million records at-least-once under consumer and broker chaos: about
/// 9,300 anomalies (duplicates, their redeliveries, reorderings), each explained.
const MILLION_ANOMALIES: &str = "name: million-anomalies
seed: 2
duration: 200s
drain: 60s
semantics: at-least-once
brokers: 3
topics: [{ name: orders, partitions: 12, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: shop, rate: { constant: 5000/s }, keys: 500 }]
consumers: [{ group: billing, instances: 6, processing_time: { exp: 1ms }, config: { session.timeout.ms: 10000, max.poll.records: 2000 } }]
chaos:
  from: 5s
  until: 190s
  crash: { rate: 6/min, down: { uniform: [1s, 10s] }, targets: [consumers, brokers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 12s] }, targets: [consumers] }
";

#[divan::bench(sample_count = 3, sample_size = 1)]
fn million_records_explained() -> usize {
    let sc = load_str(MILLION_ANOMALIES, "million-anomalies.yaml").expect("valid").scenario;
    let x = streamsim::simulate_explained(sc).expect("runs");
    // A story for every duplicate and every reordering (a redelivery that is a
    // duplicate's effect is told by that duplicate's story): 9,280 + 25 here.
    let s = &x.summary;
    assert!(s.duplicates > 9_000, "the chaos still makes its duplicates: {}", s.duplicates);
    assert!(x.explanation.stories.len() as u64 >= s.duplicates + s.reordered);
    x.explanation.stories.len()
}
