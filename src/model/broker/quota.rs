//! Client byte-rate quotas, as Kafka's broker enforces them
//! (`ClientQuotaManager`, KIP-13 and KIP-219).
//!
//! Each broker measures each producer's produce bytes with a `Rate` over a
//! `SampledStat` (`quota.window.num` samples of `quota.window.size.seconds`,
//! 11 × 1 s). A request is recorded first and judged after
//! (`Sensor.record(value, timeMs, true)` throws `QuotaViolationException`
//! past the bound), so a request over the quota still goes through; what is
//! over is paid as a delay: `QuotaUtils.throttleTime`, the time that brings
//! the observed rate back to the quota if nothing more came,
//! `(observed - quota) / quota × window`. The broker answers at once with
//! `throttle_time_ms` and mutes the client's channel for that long
//! (`ClientQuotaManager.throttle`, the `ThrottledChannelReaper` unmutes it):
//! requests that reach a muted channel are not read until it opens.
//! The client, told the throttle time, sends nothing more to that broker
//! until it ends (KIP-219: `NetworkClient.maybeThrottle`; see
//! `producer/connection.rs` and `consumer/fetch.rs`).
//!
//! Consumers' fetches have a quota of their own (`consumer_byte_rate`, the
//! FETCH `ClientQuotaManager`), measured the same way on the bytes of each
//! answer, as `KafkaApis.handleFetchRequest` does: the answer's size is
//! recorded when it is ready; past the quota it is unrecorded again
//! (`unrecordQuotaSensor`), the answer goes out empty with
//! `throttle_time_ms`, and the channel is muted that long. A fetch asks for
//! no more than the quota lets through in one window
//! (`getMaxValueInQuotaWindow`: quota × (`quota.window.num` − 1) ×
//! `quota.window.size.seconds`), so one answer cannot be throttled for ever.

use crate::kernel::time::{Duration, Instant};
use crate::model::ids::{BrokerId, ConsumerId, Incarnation, ProducerId};
use crate::oracle::fact::{Entity, Fact};
use crate::scenario::QuotaConfig;
use crate::world::event::{Event, Msg, Node, Produce};
use crate::world::World;

/// One sample of a `SampledStat`: what was recorded since `start`.
#[derive(Clone, Copy, Debug)]
struct Sample {
    start: Instant,
    bytes: u64,
}

/// Kafka's `Rate` over a `SampledStat`: up to `samples` samples of `window`
/// each, the oldest reused when a new one is needed.
#[derive(Clone, Debug, Default)]
pub struct ByteRate {
    samples: Vec<Sample>,
    current: usize,
}

impl ByteRate {
    /// `SampledStat.record`: into the current sample, or a new one when it
    /// is a window old (`Sample.isComplete`, `advance`).
    pub fn record(&mut self, q: &QuotaConfig, bytes: u64, now: Instant) {
        if self.samples.is_empty() {
            self.samples.push(Sample { start: now, bytes: 0 });
        }
        if now.since(self.samples[self.current].start) >= q.window {
            self.current = (self.current + 1) % q.samples as usize;
            let fresh = Sample { start: now, bytes: 0 };
            match self.samples.get_mut(self.current) {
                Some(s) => *s = fresh,
                None => self.samples.push(fresh),
            }
        }
        self.samples[self.current].bytes += bytes;
    }

    /// `record(-value)` right after `record(value)` at the same time
    /// (`ClientQuotaManager.unrecordQuotaSensor`): the current sample gives
    /// the bytes back.
    pub fn unrecord(&mut self, bytes: u64) {
        if let Some(s) = self.samples.get_mut(self.current) {
            s.bytes = s.bytes.saturating_sub(bytes);
        }
    }

    /// `Rate.measure` as its two parts: the bytes of the live samples
    /// (`purgeObsoleteSamples` resets those `samples × window` old) and the
    /// window they cover (`Rate.windowSize`: from the oldest sample's start,
    /// never less than `samples − 1` full windows).
    pub fn measure(&mut self, q: &QuotaConfig, now: Instant) -> (u64, Duration) {
        let expire = Duration::from_us(q.window.us() * u64::from(q.samples));
        for s in &mut self.samples {
            if now.since(s.start) >= expire {
                *s = Sample { start: now, bytes: 0 };
            }
        }
        let bytes = self.samples.iter().map(|s| s.bytes).sum();
        let oldest = self.samples.iter().map(|s| s.start).min().unwrap_or(now);
        let elapsed = now.since(oldest).us();
        let full = elapsed / q.window.us();
        let min_full = u64::from(q.samples - 1);
        let span = if full < min_full { elapsed + (min_full - full) * q.window.us() } else { elapsed };
        (bytes, Duration::from_us(span))
    }
}

/// `QuotaUtils.throttleTime`: `(O − T) / T × W` in ms, rounded as
/// `Math.round` does, for `bytes` observed over `window` against a quota
/// of `quota` bytes/s; 0 when the rate is within it
/// (`Quota.acceptable`: observed ≤ bound). Integer arithmetic: with O =
/// bytes / W, (O − T) / T × W = (bytes − T × W) / T.
pub fn throttle_time_ms(bytes: u64, window: Duration, quota: u64) -> u64 {
    let (bytes_us, allowed_us) = (u128::from(bytes) * 1_000_000, u128::from(quota) * u128::from(window.us()));
    if quota == 0 || bytes_us <= allowed_us {
        return 0;
    }
    // (bytes·10⁶ − T·W_µs) / T is the delay in µs; in ms, rounded half up.
    let per_ms = u128::from(quota) * 1000;
    ((bytes_us - allowed_us + per_ms / 2) / per_ms) as u64
}

/// `ClientQuotaManager.getMaxValueInQuotaWindow`: quota ×
/// (`quota.window.num` − 1) × `quota.window.size.seconds`, the bytes a
/// client gets through in the rate's shortest window.
pub fn max_value_in_quota_window(quota: u64, q: &QuotaConfig) -> u64 {
    let window_us = q.window.us() * u64::from(q.samples.saturating_sub(1));
    u64::try_from(u128::from(quota) * u128::from(window_us) / 1_000_000).unwrap_or(u64::MAX).max(1)
}

/// One client's channel to one broker: its byte rate and how long the
/// channel stays muted.
#[derive(Clone, Debug, Default)]
pub struct Channel {
    pub rate: ByteRate,
    pub muted_until: Instant,
}

/// What a broker does with a request that reaches a client's channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// The channel is muted: the request is read when it opens.
    Wait { until: Instant },
    /// Read now; `throttle_ms` > 0: over the quota, the channel is now muted that long.
    Go { throttle_ms: u64 },
}

impl Channel {
    /// `ClientQuotaManager.recordAndGetThrottleTimeMs` then `throttle`:
    /// record the request's bytes, and past `quota` bytes/s mute the
    /// channel for the throttle time. A muted channel reads nothing.
    pub fn admit(&mut self, q: &QuotaConfig, quota: u64, bytes: u64, now: Instant) -> Admit {
        if self.muted_until > now {
            return Admit::Wait { until: self.muted_until };
        }
        self.rate.record(q, bytes, now);
        let (observed, window) = self.rate.measure(q, now);
        let throttle_ms = throttle_time_ms(observed, window, quota);
        if throttle_ms > 0 {
            self.muted_until = now.add(Duration::from_ms(throttle_ms));
        }
        Admit::Go { throttle_ms }
    }

    /// The fetch path (`KafkaApis.handleFetchRequest`): record an answer of
    /// `bytes`; past `quota` bytes/s unrecord it again and mute the channel
    /// for the throttle time, which is returned (0: within the quota).
    pub fn record_fetch(&mut self, q: &QuotaConfig, quota: u64, bytes: u64, now: Instant) -> u64 {
        self.rate.record(q, bytes, now);
        let (observed, window) = self.rate.measure(q, now);
        let throttle_ms = throttle_time_ms(observed, window, quota);
        if throttle_ms > 0 {
            self.rate.unrecord(bytes);
            self.muted_until = now.add(Duration::from_ms(throttle_ms));
        }
        throttle_ms
    }

    /// Until when the channel is muted, if it is now.
    pub fn muted(&self, now: Instant) -> Option<Instant> {
        (self.muted_until > now).then_some(self.muted_until)
    }

    /// The `throttle_time_ms` a response sent now carries: what is left of the mute.
    pub fn throttle_left_ms(&self, now: Instant) -> u32 {
        if self.muted_until <= now {
            return 0;
        }
        self.muted_until.since(now).us().div_ceil(1000).min(u64::from(u32::MAX)) as u32
    }
}

/// A broker's quota state: one channel per producer and per consumer (its
/// client id), lost with the process (the sensors are in memory).
#[derive(Clone, Debug, Default)]
pub struct Quotas {
    inc: Incarnation,
    producers: Vec<Channel>,
    consumers: Vec<Channel>,
}

impl Quotas {
    /// A new broker process starts with no sensors.
    fn renew(&mut self, inc: Incarnation) {
        if self.inc != inc {
            *self = Quotas { inc, ..Quotas::default() };
        }
    }

    /// Producer `p`'s channel, for a broker process of incarnation `inc`.
    pub fn producer(&mut self, inc: Incarnation, p: ProducerId) -> &mut Channel {
        self.renew(inc);
        channel(&mut self.producers, p.index())
    }

    /// Consumer `c`'s channel (its fetch quota), likewise.
    pub fn consumer(&mut self, inc: Incarnation, c: ConsumerId) -> &mut Channel {
        self.renew(inc);
        channel(&mut self.consumers, c.index())
    }
}

fn channel(v: &mut Vec<Channel>, i: usize) -> &mut Channel {
    if v.len() <= i {
        v.resize_with(i + 1, Channel::default);
    }
    &mut v[i]
}

impl World {
    /// The producer's quota: its own `producer_byte_rate`, else the broker default.
    fn producer_quota(&self, p: ProducerId) -> Option<u64> {
        self.producers[p].config.producer_byte_rate.or(self.scenario.broker_config.quotas.producer_byte_rate)
    }

    /// A produce request reaches broker `b`. A muted channel is not read:
    /// the request waits until it opens (None: it comes back then).
    /// Otherwise its bytes are recorded and, past the quota, the channel is
    /// muted for the throttle time; the request goes on either way.
    pub(crate) fn produce_quota_gate(&mut self, from: Node, b: BrokerId, m: Produce) -> Option<Produce> {
        let Some(quota) = self.producer_quota(m.producer) else { return Some(m) };
        let (now, inc, q) = (self.now, self.brokers[b].inc, self.scenario.broker_config.quotas);
        let bytes: u64 = self.requests[m.request].batches.iter().map(|&bt| self.batches[bt].bytes).sum();
        match self.brokers[b].quotas.producer(inc, m.producer).admit(&q, quota, bytes, now) {
            Admit::Wait { until } => {
                self.at(until, Event::Deliver { from, to: Node::Broker(b), msg: Msg::Produce(m) });
                None
            }
            Admit::Go { throttle_ms } => {
                if throttle_ms > 0 {
                    let client = Entity::Producer(m.producer);
                    let fact = Fact::QuotaThrottle { client, broker: b, throttle_us: throttle_ms * 1000 };
                    self.oracle.emit(now, fact);
                }
                Some(m)
            }
        }
    }

    /// `throttle_time_ms` of a produce response broker `b` sends `p` now:
    /// what is left of its channel's mute.
    pub(crate) fn produce_throttle_ms(&mut self, b: BrokerId, p: ProducerId) -> u32 {
        if self.producer_quota(p).is_none() {
            return 0;
        }
        let (now, inc) = (self.now, self.brokers[b].inc);
        self.brokers[b].quotas.producer(inc, p).throttle_left_ms(now)
    }
}

impl World {
    /// The consumer's fetch quota: its own `consumer_byte_rate`, else the broker default.
    fn consumer_quota(&self, c: ConsumerId) -> Option<u64> {
        self.consumers[c].consumer_byte_rate.or(self.scenario.broker_config.quotas.consumer_byte_rate)
    }

    /// Until when consumer `c`'s channel at broker `b` is muted, if it is now.
    pub(crate) fn fetch_channel_muted(&mut self, b: BrokerId, c: ConsumerId) -> Option<Instant> {
        self.consumer_quota(c)?;
        let (now, inc) = (self.now, self.brokers[b].inc);
        self.brokers[b].quotas.consumer(inc, c).muted(now)
    }

    /// `getMaxValueInQuotaWindow`: the most one fetch of consumer `c` asks
    /// for under its quota (no limit without one).
    pub(crate) fn fetch_quota_window_bytes(&self, c: ConsumerId) -> u64 {
        let Some(quota) = self.consumer_quota(c) else { return u64::MAX };
        max_value_in_quota_window(quota, &self.scenario.broker_config.quotas)
    }

    /// An answer of `bytes` broker `b` is about to send consumer `c`:
    /// recorded against its fetch quota; the throttle time, 0 within it
    /// (then a `quota_throttle` fact, and the channel is muted).
    pub(crate) fn fetch_quota_gate(&mut self, b: BrokerId, c: ConsumerId, bytes: u64) -> u32 {
        let Some(quota) = self.consumer_quota(c) else { return 0 };
        let (now, inc, q) = (self.now, self.brokers[b].inc, self.scenario.broker_config.quotas);
        let throttle_ms = self.brokers[b].quotas.consumer(inc, c).record_fetch(&q, quota, bytes, now);
        if throttle_ms > 0 {
            let fact = Fact::QuotaThrottle { client: Entity::Consumer(c), broker: b, throttle_us: throttle_ms * 1000 };
            self.oracle.emit(now, fact);
        }
        throttle_ms.min(u64::from(u32::MAX)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_ms(ms: u64) -> Instant {
        Instant::ZERO.add(Duration::from_ms(ms))
    }

    /// Kafka's answer, ClientQuotaManagerTest.testQuotaViolation (quota 500
    /// bytes/s, 11 samples of 1 s): ten requests of 400 bytes a second apart
    /// are within the quota; 500 ms later a 2300-byte spike makes 6300 bytes
    /// over 10.5 s (the last sample half full), 600 bytes/s, and the
    /// throttle time is (600 − 500) / 500 × 10.5 s = 2100 ms.
    #[test]
    fn client_quota_manager_test_quota_violation_throttles_the_spike_2100_ms() {
        let q = QuotaConfig::default();
        let mut ch = Channel::default();
        let start = 1_000; // any start: the first sample begins at the first record
        for i in 0..10 {
            assert_eq!(ch.admit(&q, 500, 400, at_ms(start + i * 1000)), Admit::Go { throttle_ms: 0 }, "request {i}");
        }
        assert_eq!(ch.admit(&q, 500, 2300, at_ms(start + 10_500)), Admit::Go { throttle_ms: 2100 });
        assert_eq!(ch.muted_until, at_ms(start + 12_600), "ClientQuotaManager.throttle mutes the channel that long");
    }

    /// Kafka's answer for a fetch (`KafkaApis.handleFetchRequest` with the
    /// FETCH ClientQuotaManager, ClientQuotaManagerTest.testQuotaViolation's
    /// numbers): ten answers of 400 bytes a second apart are within 500
    /// bytes/s; a 2300-byte answer 500 ms later is throttled 2100 ms, and
    /// since a throttled fetch answers empty its bytes are unrecorded
    /// (`unrecordQuotaSensor`): the rate holds 4000 bytes, not 6300, and the
    /// channel is muted for the 2100 ms.
    #[test]
    fn client_quota_manager_fetch_throttles_2100_ms_and_unrecords_the_answer() {
        let q = QuotaConfig::default();
        let mut ch = Channel::default();
        for i in 0..10 {
            assert_eq!(ch.record_fetch(&q, 500, 400, at_ms(i * 1000)), 0, "answer {i}");
        }
        assert_eq!(ch.record_fetch(&q, 500, 2300, at_ms(9_500 + 1000)), 2100);
        assert_eq!(ch.muted(at_ms(10_501)), Some(at_ms(12_600)), "muted until the throttle ends");
        assert_eq!(ch.rate.measure(&q, at_ms(10_500)).0, 4000, "the throttled answer's bytes are given back");
        assert_eq!(ch.muted(at_ms(12_600)), None);
        // Asked again once the throttle ends, the same answer is throttled
        // far less (the oldest sample rolled over meanwhile): it converges.
        let again = ch.record_fetch(&q, 500, 2300, at_ms(12_600));
        assert!(again > 0 && again < 2100 / 4, "{again} ms");
    }

    /// Kafka's answer (ClientQuotaManagerTest.testGetMaxValueInQuotaWindowWithNonDefaultQuotaWindow):
    /// a quota of 10 bytes/s with `quota.window.num` 4 (3 full windows of
    /// 1 s) lets a fetch ask for 30 bytes; with the defaults, 10 windows.
    #[test]
    fn get_max_value_in_quota_window_is_quota_times_full_windows() {
        let q = QuotaConfig { samples: 4, ..QuotaConfig::default() };
        assert_eq!(max_value_in_quota_window(10, &q), 30);
        assert_eq!(max_value_in_quota_window(50_000, &QuotaConfig::default()), 500_000);
    }

    /// QuotaUtils.throttleTime's own example: O = 150, T = 100 over W = 30 s:
    /// X = (O − T) / T × W = 15 s; within the quota, no delay.
    #[test]
    fn quota_utils_throttle_time_is_the_over_quota_share_of_the_window() {
        let w = Duration::from_secs(30);
        assert_eq!(throttle_time_ms(150 * 30, w, 100), 15_000);
        assert_eq!(throttle_time_ms(100 * 30, w, 100), 0, "Quota.acceptable: observed <= bound");
        // Math.round: 0.5 ms rounds up.
        assert_eq!(throttle_time_ms(1001, Duration::from_secs(1), 1000), 1);
    }

    /// Rate.windowSize: never less than quota.window.num − 1 full windows
    /// (a new client's first bytes are spread over 10 s), then the time since
    /// the oldest sample began; SampledStat.purgeObsoleteSamples drops
    /// samples a whole `samples × window` old.
    #[test]
    fn rate_window_size_and_obsolete_samples_follow_kafkas_rate() {
        let q = QuotaConfig::default();
        let mut r = ByteRate::default();
        r.record(&q, 1000, at_ms(0));
        assert_eq!(r.measure(&q, at_ms(500)), (1000, Duration::from_ms(10_500)), "0.5 s elapsed, 10 windows added");
        for s in 1..=11 {
            r.record(&q, 1000, at_ms(s * 1000));
        }
        // 12 records, 11 samples: the first sample was reused at 11 s.
        assert_eq!(r.measure(&q, at_ms(11_500)), (11_000, Duration::from_ms(10_500)));
        // Nothing for 11 s more: every sample is obsolete.
        assert_eq!(r.measure(&q, at_ms(23_000)).0, 0);
    }

    /// The byte rate is held at the quota: a client that sends again as
    /// soon as its throttle ends (KIP-219) gets quota × time through, to
    /// within a request or two, over any stretch of two windows or more
    /// past the first (the windowed rate's guarantee).
    #[test]
    fn a_client_sending_as_fast_as_allowed_is_held_at_the_quota() {
        let q = QuotaConfig::default();
        let mut ch = Channel::default();
        let (quota, request) = (10_000u64, 16_384u64);
        let mut now = at_ms(0);
        let mut sent: Vec<(Instant, u64)> = Vec::new();
        while now < at_ms(60_000) {
            match ch.admit(&q, quota, request, now) {
                Admit::Wait { until } => now = until,
                Admit::Go { throttle_ms } => {
                    sent.push((now, request));
                    now = now.add(Duration::from_ms(throttle_ms.max(1)));
                }
            }
        }
        let between = |a: u64, b: u64| -> u64 {
            sent.iter().filter(|(t, _)| *t >= at_ms(a) && *t < at_ms(b)).map(|(_, n)| n).sum()
        };
        // The first window goes at any speed: the rate is never taken over less than 10 s.
        assert!(between(0, 1000) > quota * 5, "a new client's first burst: {}", between(0, 1000));
        // Over two windows or more the rate is the quota. (Within one it
        // is not: when a burst's samples expire, 11 s later, the rate
        // drops and the next requests go through together, as in Kafka.)
        for (a, b) in [(15_000, 60_000), (20_000, 60_000), (30_000, 60_000)] {
            let (got, want) = (between(a, b), quota * (b - a) / 1000);
            assert!(got.abs_diff(want) <= 2 * request, "{a}..{b} ms: {got} bytes, quota {want}");
        }
    }

    /// A request reaching a muted channel waits until it opens; then it is
    /// read and recorded (ThrottledChannelReaper unmutes at the deadline).
    #[test]
    fn a_muted_channel_reads_nothing_until_throttle_time_ms_has_passed() {
        let q = QuotaConfig::default();
        let mut ch = Channel::default();
        let Admit::Go { throttle_ms } = ch.admit(&q, 100, 5000, at_ms(0)) else { panic!("the first request is read") };
        assert!(throttle_ms > 0, "5000 bytes at 100 bytes/s is over the quota");
        let until = at_ms(throttle_ms);
        assert_eq!(ch.admit(&q, 100, 10, at_ms(1)), Admit::Wait { until });
        assert_eq!(ch.throttle_left_ms(at_ms(1)), throttle_ms as u32 - 1, "a response sent later carries what is left");
        assert!(matches!(ch.admit(&q, 100, 10, until), Admit::Go { .. }), "read once the mute ends");
    }
}
