//! Virtual time: integer microseconds, never floats, never the wall clock.

use std::fmt;

/// A point in virtual time, in microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

/// A span of virtual time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);
    pub const fn us(self) -> u64 {
        self.0
    }
    /// Whole milliseconds (floor).
    pub const fn ms(self) -> u64 {
        self.0 / 1_000
    }
    /// `self + d`, saturating (a named method, not `Add`, so the saturation is visible).
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
    pub fn since(self, earlier: Instant) -> Duration {
        debug_assert!(earlier <= self, "time went backwards");
        Duration(self.0 - earlier.0)
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const fn from_us(us: u64) -> Duration {
        Duration(us)
    }
    pub const fn from_ms(ms: u64) -> Duration {
        Duration(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s * 1_000_000)
    }
    pub const fn us(self) -> u64 {
        self.0
    }
    pub const fn ms(self) -> u64 {
        self.0 / 1_000
    }
}

/// Seconds with millisecond precision, e.g. `30.004s`: the format every message uses.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1_000_000, (self.0 / 1_000) % 1_000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us.is_multiple_of(1_000_000) {
            write!(f, "{}s", us / 1_000_000)
        } else if us.is_multiple_of(1_000) {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{}us", us)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_seconds_with_millis() {
        assert_eq!(Instant(30_004_123).to_string(), "30.004s");
        assert_eq!(Instant(0).to_string(), "0.000s");
        assert_eq!(Duration::from_ms(1500).to_string(), "1500ms");
        assert_eq!(Duration::from_secs(45).to_string(), "45s");
        assert_eq!(Duration(7).to_string(), "7us");
    }

    #[test]
    fn add_saturates_and_since_subtracts() {
        assert_eq!(Instant(u64::MAX).add(Duration(5)), Instant(u64::MAX));
        assert_eq!(Instant(10).since(Instant(4)), Duration(6));
    }
}
