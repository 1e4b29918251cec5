//! End-to-end throughput: a 1,000,000-record scenario (6 partitions,
//! replication factor 3, 3 consumers) without faults and with chaos faults.
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
    let sc = load_str(MILLION, "million.yaml").expect("valid").scenario;
    let s = streamsim::simulate(sc).expect("runs").summary;
    assert_eq!(s.delivered, 1_000_000);
    s.events
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_records_with_chaos() -> u64 {
    let sc = load_str(&format!("{MILLION}{CHAOS}"), "million.yaml").expect("valid").scenario;
    let s = streamsim::simulate(sc).expect("runs").summary;
    assert_eq!(s.lost, 0);
    s.events
}
