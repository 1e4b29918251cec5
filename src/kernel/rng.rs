//! Seeded randomness: one ChaCha8 stream per entity, and distributions sampled
//! with `libm` so every platform draws the same numbers.
//!
//! A stream is chosen by hashing the entity's *name* (`web-0`, `broker-2`,
//! `network`), so adding an entity never shifts the draws of the others.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::time::Duration;

/// The random stream of one entity.
#[derive(Clone, Debug)]
pub struct EntityRng {
    inner: ChaCha8Rng,
}

impl EntityRng {
    /// The stream for `entity` under the scenario `seed`.
    pub fn new(seed: u64, entity: &str) -> EntityRng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stable_hash(entity.as_bytes()));
        EntityRng { inner }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `[0, n)`, without modulo bias (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no values");
        loop {
            let x = self.next_u64();
            let m = (x as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }
}

/// FNV-1a, 64 bit: a fixed, documented hash for stream ids (never `std`'s
/// randomly keyed hasher).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A distribution of durations, as written in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant(Duration),
    /// Exponential with the given mean.
    Exp { mean: Duration },
    /// Uniform between two bounds, inclusive.
    Uniform { low: Duration, high: Duration },
    /// Log-normal given by its median and 99th percentile.
    LogNormal { median: Duration, p99: Duration },
}

/// z such that P(Z <= z) = 0.99 for a standard normal Z.
const Z_99: f64 = 2.326_347_874_040_840_8;

impl Dist {
    /// Draws one duration. Constant draws consume no randomness.
    pub fn sample(&self, rng: &mut EntityRng) -> Duration {
        match *self {
            Dist::Constant(d) => d,
            Dist::Exp { mean } => {
                let u = rng.unit();
                let x = -libm::log(1.0 - u) * mean.us() as f64;
                Duration(to_us(x))
            }
            Dist::Uniform { low, high } => {
                debug_assert!(low <= high);
                Duration(low.us() + rng.below(high.us() - low.us() + 1))
            }
            Dist::LogNormal { median, p99 } => {
                let mu = libm::log(median.us().max(1) as f64);
                let sigma = (libm::log(p99.us().max(1) as f64) - mu) / Z_99;
                let z = standard_normal(rng);
                Duration(to_us(libm::exp(mu + sigma * z)))
            }
        }
    }

    /// The mean, used only for documentation and sanity checks, never for outcomes.
    pub fn mean_us(&self) -> f64 {
        match *self {
            Dist::Constant(d) => d.us() as f64,
            Dist::Exp { mean } => mean.us() as f64,
            Dist::Uniform { low, high } => (low.us() + high.us()) as f64 / 2.0,
            Dist::LogNormal { median, p99 } => {
                let mu = libm::log(median.us().max(1) as f64);
                let sigma = (libm::log(p99.us().max(1) as f64) - mu) / Z_99;
                libm::exp(mu + sigma * sigma / 2.0)
            }
        }
    }
}

/// Box-Muller with `libm`, so the result is the same on every platform.
fn standard_normal(rng: &mut EntityRng) -> f64 {
    let u1 = 1.0 - rng.unit(); // (0, 1]
    let u2 = rng.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Rounds a non-negative float of microseconds, saturating at a day of virtual time
/// so one wild draw cannot push an event past the end of every run.
fn to_us(x: f64) -> u64 {
    const CAP_US: f64 = 86_400_000_000.0;
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= CAP_US {
        CAP_US as u64
    } else {
        // Half away from zero, as `round` does, without its call: below 2^53
        // the whole part and the fraction (x minus it) are both exact.
        let whole = x as i64 as u64;
        let fraction = x - whole as f64;
        whole + u64::from(fraction >= 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: [u64; 2] = [9_462_737_663_749_723_750, 4_581_835_252_491_422_482];
    const PINNED_HASH: u64 = 2_201_793_692_272_634_501;

    #[test]
    fn same_seed_and_name_give_same_stream() {
        let mut a = EntityRng::new(7, "web-0");
        let mut b = EntityRng::new(7, "web-0");
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ_by_name_and_seed() {
        let a = EntityRng::new(7, "web-0").next_u64();
        assert_ne!(a, EntityRng::new(7, "web-1").next_u64());
        assert_ne!(a, EntityRng::new(8, "web-0").next_u64());
    }

    #[test]
    fn stream_values_are_pinned() {
        // Pins the algorithm and the derivation: if this changes, every replay does.
        let mut r = EntityRng::new(0, "network");
        let got = [r.next_u64(), r.next_u64()];
        assert_eq!(got, PINNED);
        assert_eq!(stable_hash(b"network"), PINNED_HASH);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = EntityRng::new(1, "x");
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut r = EntityRng::new(3, "exp");
        let d = Dist::Exp { mean: Duration::from_ms(2) };
        let n = 100_000;
        let sum: u64 = (0..n).map(|_| d.sample(&mut r).us()).sum();
        let mean = sum as f64 / n as f64;
        assert!((mean - 2000.0).abs() < 30.0, "mean {mean}");
    }

    #[test]
    fn lognormal_hits_median_and_p99() {
        let mut r = EntityRng::new(4, "ln");
        let d = Dist::LogNormal { median: Duration::from_ms(2), p99: Duration::from_ms(20) };
        let mut v: Vec<u64> = (0..100_000).map(|_| d.sample(&mut r).us()).collect();
        v.sort_unstable();
        let median = v[50_000] as f64;
        let p99 = v[99_000] as f64;
        assert!((median - 2000.0).abs() < 60.0, "median {median}");
        assert!((p99 - 20000.0).abs() < 1500.0, "p99 {p99}");
    }

    #[test]
    fn uniform_is_inclusive() {
        let mut r = EntityRng::new(5, "u");
        let d = Dist::Uniform { low: Duration(1), high: Duration(3) };
        let mut seen = [false; 4];
        for _ in 0..1000 {
            seen[d.sample(&mut r).us() as usize] = true;
        }
        assert_eq!(seen, [false, true, true, true]);
    }

    #[test]
    fn to_us_rounds_exactly_as_libm_round() {
        let edges = [
            f64::MIN_POSITIVE,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            2.4999999999999996,
            1e6 + 0.5,
            (1u64 << 36) as f64 + 0.5,
            86_399_999_999.5,
            86_399_999_999.999_98,
        ];
        let mut rng = EntityRng::new(3, "round");
        let draws = (0..200_000).map(|i| rng.unit() * 10f64.powi(i % 11));
        for x in edges.into_iter().chain(draws) {
            assert_eq!(to_us(x), libm::round(x) as u64, "{x:?}");
        }
    }
}
