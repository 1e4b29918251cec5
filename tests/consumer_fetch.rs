//! Consumer fetch quotas (`consumer_byte_rate`), as Kafka's broker enforces
//! them (`ClientQuotaManager` for FETCH, `KafkaApis.handleFetchRequest`,
//! KIP-219): a consumer faster than its quota is held at the quota per
//! broker, and the lag grows by the rest, from the throttles alone.

use streamsim::scenario::load_str;
use streamsim::{simulate, Outcome};

fn run(yaml: &str) -> Outcome {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    simulate(sc).expect("run completes")
}

/// 1000 records/s of 100 bytes (100 KB/s) into 3 partitions on `brokers`
/// brokers, one consumer that could keep up, with `quota` as written.
fn capped(brokers: u32, quota: &str) -> String {
    format!(
        "name: t
duration: 60s
drain: 1s
brokers: {brokers}
{quota}
topics: [{{ name: t, partitions: 3, replication.factor: 1 }}]
producers: [{{ name: p, rate: {{ constant: 1000/s }}, keys: 1000, record_bytes: 100 }}]
consumers:
  - {{ group: g, instances: 1, commit: after-processing, config: {{ auto.offset.reset: earliest }} }}
"
    )
}

/// Records one consumer got in the 57 s after its group formed (about 3 s in).
const READING_S: u64 = 57;

/// Kafka's answer: the broker holds the consumer at `consumer_byte_rate`
/// (10,000 bytes/s = 100 records/s of 100 bytes). A fetch asks for at most
/// the quota's window (`getMaxValueInQuotaWindow`, 10 s of it); an answer
/// past the quota is unrecorded and goes out empty with `throttle_time_ms`,
/// the channel muted that long, and the consumer sends nothing to that
/// broker meanwhile (KIP-219). So over the run it reads no more than the
/// quota allows (plus the first window, which `Rate.windowSize` never
/// takes as shorter than 10 s), and the lag grows by the rest. In this
/// regime (answers of up to 10 s of quota, each then throttled about as
/// long) it reads about 70 records/s: the waits after unrecorded answers
/// leave part of the quota unused. Without the quota nothing lags.
#[test]
fn client_quota_manager_holds_a_consumer_at_its_byte_rate_and_the_lag_grows() {
    let free = run(&capped(1, "")).summary;
    assert_eq!(free.throttled, 0);
    assert!(free.lag_growth_per_s.abs() < 5.0, "no quota: the consumer keeps up ({})", free.lag_growth_per_s);
    let s = run(&capped(1, "broker_config: { consumer_byte_rate: 10000 }")).summary;
    assert!(s.throttled >= 5, "throttled fetches: {}", s.throttled);
    let quota_records = 100;
    assert!(s.delivered <= quota_records * (READING_S + 10), "over the quota: {}", s.delivered);
    assert!(s.delivered >= quota_records * READING_S / 2, "held far below the quota: {}", s.delivered);
    assert!(s.lag_growth_per_s > 850.0, "lag grows by what the quota holds back: {}", s.lag_growth_per_s);
    assert_eq!(s.lost, 0, "held back, not lost");
}

/// The quota is per broker, as Kafka enforces it: with the 3 partitions on
/// 3 brokers the consumer reads 3 times as much. A consumer's own
/// `consumer_byte_rate` overrides the broker default.
#[test]
fn each_broker_enforces_the_fetch_quota_on_its_own() {
    let one = run(&capped(1, "broker_config: { consumer_byte_rate: 10000 }")).summary.delivered;
    let three = run(&capped(3, "broker_config: { consumer_byte_rate: 10000 }")).summary.delivered;
    assert!(three.abs_diff(3 * one) <= 3 * one / 10, "3 brokers: {three}, 1 broker: {one}");
    let own = capped(1, "broker_config: { consumer_byte_rate: 1000000 }")
        .replace("auto.offset.reset: earliest", "auto.offset.reset: earliest, consumer_byte_rate: 10000");
    assert_eq!(run(&own).summary.delivered, one, "the consumer's own quota wins over the default");
}
