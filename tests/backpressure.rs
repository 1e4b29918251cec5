//! Backpressure: lag grows at the rate producers outrun consumers, scaling
//! consumers up to the partition count relieves it, and a Poisson workload
//! on one partition behaves like the M/M/1 queue it is.

use streamsim::scenario::load_str;
use streamsim::{simulate, Outcome};

fn run(yaml: &str) -> Outcome {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    simulate(sc).expect("run completes")
}

/// A constant producer and constant processing time: one consumer handles
/// 1 / processing_time records a second, and the lag grows by the rest.
fn steady(partitions: u32, consumers: u32, rate: u32, processing: &str) -> String {
    format!(
        "name: t
duration: 60s
drain: 1s
brokers: 1
topics: [{{ name: t, partitions: {partitions} }}]
producers: [{{ name: p, rate: {{ constant: {rate}/s }}, keys: 1000 }}]
consumers:
  - {{ group: g, instances: {consumers}, processing_time: {processing}, commit: after-processing, config: {{ auto.offset.reset: earliest }} }}
"
    )
}

#[test]
fn lag_grows_at_rate_minus_capacity() {
    // 1000/s against one consumer at 2 ms a record (500/s): +500/s.
    let s = run(&steady(1, 1, 1000, "2ms")).summary;
    let growth = s.lag_growth_per_s;
    assert!((growth - 500.0).abs() < 500.0 * 0.03, "lag grows {growth}/s, expected 500/s");
    // 1000/s against one consumer at 1.25 ms (800/s): +200/s.
    let s = run(&steady(1, 1, 1000, "1250us")).summary;
    assert!((s.lag_growth_per_s - 200.0).abs() < 200.0 * 0.05, "{}", s.lag_growth_per_s);
}

#[test]
fn scaling_consumers_relieves_lag_up_to_the_partition_count() {
    // 4 partitions, 1000/s, 1.5 ms a record: one consumer keeps up with 667/s.
    let one = run(&steady(4, 1, 1000, "1500us")).summary;
    assert!((one.lag_growth_per_s - 333.3).abs() < 333.3 * 0.05, "{}", one.lag_growth_per_s);
    let two = run(&steady(4, 2, 1000, "1500us")).summary;
    // Two have 333/s to spare: they work off the start-up backlog, then keep up.
    assert!(two.lag_growth_per_s <= 0.0, "two keep up: {}", two.lag_growth_per_s);
    // Both start behind (nobody reads during the initial rebalance delay: 3 s
    // for one member, about 6 s for two, GroupMetadataManager re-arms it);
    // only two catch up.
    assert!(two.final_lag < 100 && one.final_lag > 15_000, "{} vs {}", two.final_lag, one.final_lag);
    // Six consumers for four partitions: two own nothing and sit idle.
    let six = run(&steady(4, 6, 1000, "1500us")).summary;
    let members = &six.assignments[0].members;
    assert_eq!(members.len(), 6);
    assert_eq!(members.values().filter(|p| p.is_empty()).count(), 2, "{members:?}");
}

/// Poisson arrivals (λ = 100/s), exponential processing (μ = 125/s), one
/// partition, one consumer committing after each record, no network delay:
/// the lag is the number of records in the system, whose time average in
/// an M/M/1 queue is ρ / (1 − ρ) = 4.
#[test]
fn one_partition_behaves_like_an_m_m_1_queue() {
    let yaml = "name: mm1
seed: 11
duration: 2000s
drain: 1s
brokers: 1
network: { latency: 0ms }
topics: [{ name: t, partitions: 1 }]
producers: [{ name: p, rate: 100/s, keys: 10, config: { acks: 1, linger.ms: 0 } }]
consumers:
  - { group: g, processing_time: { exp: 8ms }, commit: after-processing, commit_every: record, config: { auto.offset.reset: earliest } }
";
    let o = run(yaml);
    let start = o.summary.assignments[0].at_ms + 10_000; // past the start-up backlog
    let lags: Vec<f64> =
        o.samples.iter().filter(|s| s.at.ms() >= start && s.at.ms() <= 2_000_000).map(|s| s.lag as f64).collect();
    let mean = lags.iter().sum::<f64>() / lags.len() as f64;
    assert!(lags.len() > 10_000, "{} samples", lags.len());
    assert!((mean - 4.0).abs() < 4.0 * 0.05, "mean backlog {mean:.3}, M/M/1 predicts 4");
    assert_eq!(o.summary.delivered, o.summary.produced);
}

/// The producer's buffer fills while its only broker is down: send() blocks,
/// each blocked call fails after max.block.ms (TimeoutException), and the
/// records the source produces meanwhile queue in the application. When the
/// broker returns, the buffer drains and the backlog goes out.
#[test]
fn a_full_buffer_blocks_send_then_fails_it_after_max_block_ms() {
    let yaml = "name: t
duration: 30s
drain: 120s
brokers: 1
topics: [{ name: t, partitions: 2 }]
producers: [{ name: p, rate: { constant: 500/s }, keys: 10, config: { buffer.memory: 65536, max.block.ms: 3000 } }]
consumers: [{ group: g, commit: after-processing, config: { auto.offset.reset: earliest } }]
faults:
  - { at: 5s, crash: broker-0 }
  - { at: 20s, restart: broker-0 }
";
    let s = run(yaml).summary;
    // Blocked from when 4 batches of 16 KB fill the buffer (just after 5 s)
    // until the broker is back (20 s), a send() failing every 3 s.
    assert!((13_000..=15_500).contains(&s.producer_blocked_ms), "{}", s.producer_blocked_ms);
    assert!((4..=5).contains(&s.failed), "{s:?}");
    // The backlog holds what the source produced while the application waited.
    assert!(s.max_source_backlog > 6_000, "{}", s.max_source_backlog);
    assert_eq!((s.lost, s.lost_acked, s.pending, s.duplicates), (0, 0, 0, 0), "{s:?}");
    assert_eq!(s.delivered + s.failed, s.produced);
    // The same outage with Kafka's 32 MB buffer never blocks.
    let roomy = run(&yaml.replace("buffer.memory: 65536, ", "")).summary;
    assert_eq!((roomy.producer_blocked_ms, roomy.failed, roomy.max_source_backlog), (0, 0, 0), "{roomy:?}");
}

/// A Kinesis shard serves 5 GetRecords calls a second, shared by every
/// application reading it: eight groups polling one shard get throttled;
/// two do not. A transactional producer has no Kinesis equivalent.
#[test]
fn kinesis_shards_throttle_reads_past_five_calls_a_second() {
    let groups = |n: u32| {
        let consumers: String = (0..n)
            .map(|i| {
                format!(
                    "  - {{ group: app{i}, commit: after-processing, config: {{ auto.offset.reset: earliest }} }}\n"
                )
            })
            .collect();
        format!(
            "name: t
duration: 20s
platform: kinesis
topics: [{{ name: t, partitions: 1 }}]
producers: [{{ name: p, rate: 50/s }}]
consumers:
{consumers}"
        )
    };
    let two = run(&groups(2)).summary;
    let eight = run(&groups(8)).summary;
    assert_eq!((two.throttled, two.lost), (0, 0), "{two:?}");
    assert!(eight.throttled > 50, "{}", eight.throttled);
    assert_eq!(eight.lost, 0, "throttled reads are retried, nothing is lost");
    assert!(eight.latency_ms.p50 > two.latency_ms.p50);

    let tx = "name: t\nduration: 5s\nplatform: kinesis\ntopics: [{ name: t, partitions: 1 }]\nproducers: [{ name: p, rate: 1/s, config: { transactional.id: x } }]\n";
    let e = load_str(tx, "t.yaml").expect_err("refused").to_string();
    assert!(e.contains("platform: kinesis has no transactions"), "{e}");
}
