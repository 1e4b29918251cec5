//! Kafka's `ExponentialBackoff` (org.apache.kafka.common.utils): the
//! reconnect backoff (`ClusterConnectionStates`), the connection setup
//! timeout, and the retry backoff of KIP-580 all grow this way.

use crate::kernel::rng::EntityRng;
use crate::kernel::time::Duration;

/// `initial · 2^min(attempts, log2(max / initial))`, times a random factor
/// in `[1 − jitter, 1 + jitter)`, never above `max` (a `max` below `initial`
/// gives a constant `max`, as Kafka does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialBackoff {
    initial_us: u64,
    max_us: u64,
    exp_max: f64,
    /// Kafka's jitter in per mille (200 = ±20%); 0 draws nothing.
    jitter_per_mille: u32,
}

impl ExponentialBackoff {
    pub fn new(initial: Duration, max: Duration, jitter_per_mille: u32) -> ExponentialBackoff {
        let initial_us = initial.us().min(max.us());
        let exp_max = if max.us() > initial_us { libm::log2(max.us() as f64 / initial_us.max(1) as f64) } else { 0.0 };
        ExponentialBackoff { initial_us, max_us: max.us(), exp_max, jitter_per_mille }
    }

    /// The backoff after `attempts` failures (0: the first).
    pub fn backoff(&self, attempts: u32, rng: &mut EntityRng) -> Duration {
        if self.exp_max == 0.0 {
            return Duration(self.initial_us);
        }
        let exp = (attempts as f64).min(self.exp_max);
        let term = self.initial_us as f64 * libm::pow(2.0, exp);
        let factor = if self.jitter_per_mille == 0 {
            1.0
        } else {
            let j = self.jitter_per_mille as f64 / 1000.0;
            1.0 - j + 2.0 * j * rng.unit()
        };
        Duration(((factor * term) as u64).min(self.max_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ExponentialBackoffTest.testExponentialBackoff`: 100 ms doubling to
    /// 10 s within ±20% jitter, then capped at the maximum.
    #[test]
    fn grows_by_doubling_within_the_jitter_and_stops_at_the_maximum() {
        let b = ExponentialBackoff::new(Duration::from_ms(100), Duration::from_ms(10_000), 200);
        let mut rng = EntityRng::new(1, "t");
        for attempts in 0..=100u32 {
            let got = b.backoff(attempts, &mut rng).us() as f64;
            if attempts < 7 {
                let expected = 100_000.0 * 2f64.powi(attempts as i32);
                assert!(got >= expected * 0.8 && got <= expected * 1.2, "{attempts}: {got}");
            } else {
                assert!((10_000_000.0 * 0.8..=10_000_000.0).contains(&got), "{attempts}: {got}");
            }
        }
    }

    #[test]
    fn without_jitter_it_is_exact_and_a_small_maximum_is_constant() {
        let mut rng = EntityRng::new(1, "t");
        let b = ExponentialBackoff::new(Duration::from_ms(50), Duration::from_ms(1000), 0);
        let got: Vec<u64> = (0..7).map(|a| b.backoff(a, &mut rng).ms()).collect();
        assert_eq!(got, [50, 100, 200, 400, 800, 1000, 1000]);
        let flat = ExponentialBackoff::new(Duration::from_ms(100), Duration::from_ms(10), 200);
        assert_eq!(flat.backoff(5, &mut rng), Duration::from_ms(10));
    }
}
