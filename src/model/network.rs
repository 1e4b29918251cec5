//! The network: one-way latency between any two processes, FIFO per link.
//!
//! Kafka's clients and brokers talk over TCP, so two messages on the same link
//! never overtake each other even when latency is random: a message leaves no
//! earlier than the one before it on that link arrived.

use crate::kernel::rng::{Dist, EntityRng};
use crate::kernel::time::Instant;

pub struct Network {
    latency: Dist,
    rng: EntityRng,
    /// Per sending node, the arrival time of the last message on each link it
    /// has used, sorted by receiver: only links that carried a message cost
    /// memory (a dense `nodes × nodes` matrix is 80 GB at 100,000 instances).
    last_arrival: Vec<Vec<(u32, u64)>>,
}

impl Network {
    pub fn new(latency: Dist, seed: u64, nodes: usize) -> Network {
        Network { latency, rng: EntityRng::new(seed, "network"), last_arrival: vec![Vec::new(); nodes] }
    }

    /// Whether the next data message is lost (`ppm` parts per million). Draws
    /// nothing when loss is off, so loss-free runs keep their latency draws.
    pub fn lose(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.rng.below(1_000_000) < ppm as u64
    }

    /// When a message sent now from `from` to `to` arrives.
    pub fn arrival(&mut self, from: usize, to: usize, now: Instant) -> Instant {
        debug_assert!(from < self.last_arrival.len() && to < self.last_arrival.len());
        let sampled = now.add(self.latency.sample(&mut self.rng)).us();
        let links = &mut self.last_arrival[from];
        let at = match links.binary_search_by_key(&(to as u32), |&(t, _)| t) {
            Ok(i) => {
                let at = sampled.max(links[i].1);
                links[i].1 = at;
                at
            }
            Err(i) => {
                links.insert(i, (to as u32, sampled));
                sampled
            }
        };
        Instant(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::time::Duration;

    #[test]
    fn links_are_fifo_under_random_latency() {
        let mut n = Network::new(Dist::Uniform { low: Duration(1), high: Duration(1000) }, 1, 2);
        let mut last = 0;
        for t in 0..1000 {
            let at = n.arrival(0, 1, Instant(t)).us();
            assert!(at >= last);
            assert!(at > t);
            last = at;
        }
    }

    #[test]
    fn links_are_independent_and_only_used_ones_are_kept() {
        let mut n = Network::new(Dist::Constant(Duration(10)), 1, 100_000);
        assert_eq!(n.arrival(7, 99_999, Instant(100)), Instant(110));
        // Another link is not held back by the first one's last arrival.
        assert_eq!(n.arrival(99_999, 7, Instant(0)), Instant(10));
        assert_eq!(n.arrival(7, 3, Instant(0)), Instant(10));
        // The same link is: FIFO.
        assert_eq!(n.arrival(7, 99_999, Instant(0)), Instant(110));
        assert_eq!(n.last_arrival.iter().map(Vec::len).sum::<usize>(), 3);
    }

    #[test]
    fn constant_latency_adds_exactly() {
        let mut n = Network::new(Dist::Constant(Duration::from_ms(1)), 1, 3);
        assert_eq!(n.arrival(2, 0, Instant(5)), Instant(1005));
    }
}
