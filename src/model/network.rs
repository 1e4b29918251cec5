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
    nodes: usize,
    /// Arrival time of the last message per directed link, `from * nodes + to`.
    last_arrival: Vec<u64>,
}

impl Network {
    pub fn new(latency: Dist, seed: u64, nodes: usize) -> Network {
        Network { latency, rng: EntityRng::new(seed, "network"), nodes, last_arrival: vec![0; nodes * nodes] }
    }

    /// Whether the next data message is lost (`ppm` parts per million). Draws
    /// nothing when loss is off, so loss-free runs keep their latency draws.
    pub fn lose(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.rng.below(1_000_000) < ppm as u64
    }

    /// When a message sent now from `from` to `to` arrives.
    pub fn arrival(&mut self, from: usize, to: usize, now: Instant) -> Instant {
        debug_assert!(from < self.nodes && to < self.nodes);
        let link = from * self.nodes + to;
        let at = now.add(self.latency.sample(&mut self.rng)).us().max(self.last_arrival[link]);
        self.last_arrival[link] = at;
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
    fn constant_latency_adds_exactly() {
        let mut n = Network::new(Dist::Constant(Duration::from_ms(1)), 1, 3);
        assert_eq!(n.arrival(2, 0, Instant(5)), Instant(1005));
    }
}
