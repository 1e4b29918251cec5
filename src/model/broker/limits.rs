//! Amazon Kinesis shard limits: token buckets refilled in virtual time.

use crate::kernel::time::Instant;

/// A token bucket refilled continuously in virtual time, holding at most one
/// second of its rate (integer micro-units, so no float touches the clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Units per second.
    pub rate: u64,
    /// Available units × 1,000,000.
    micro: u64,
    last: Instant,
}

impl Bucket {
    pub fn new(rate: u64) -> Bucket {
        Bucket { rate, micro: rate * 1_000_000, last: Instant::ZERO }
    }
    fn refill(&mut self, now: Instant) {
        let elapsed = now.since(self.last.min(now)).us();
        self.micro = self.micro.saturating_add(elapsed.saturating_mul(self.rate)).min(self.rate * 1_000_000);
        self.last = now;
    }
    /// Whole units available now.
    pub fn available(&mut self, now: Instant) -> u64 {
        self.refill(now);
        self.micro / 1_000_000
    }
    pub fn take(&mut self, now: Instant, n: u64) -> bool {
        self.refill(now);
        if self.micro < n * 1_000_000 {
            return false;
        }
        self.micro -= n * 1_000_000;
        true
    }
}

/// Amazon Kinesis Data Streams' per-shard limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardLimits {
    pub write_records: Bucket,
    pub write_bytes: Bucket,
    pub read_calls: Bucket,
    pub read_bytes: Bucket,
}

impl ShardLimits {
    /// 1000 records/s or 1 MiB/s of writes; 5 GetRecords calls/s and 2 MiB/s of reads.
    pub fn kinesis() -> ShardLimits {
        ShardLimits {
            write_records: Bucket::new(1_000),
            write_bytes: Bucket::new(1 << 20),
            read_calls: Bucket::new(5),
            read_bytes: Bucket::new(2 << 20),
        }
    }
}
