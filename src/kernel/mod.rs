//! The kernel: virtual time, the event queue and seeded randomness.

pub mod queue;
pub mod rng;
pub mod time;
