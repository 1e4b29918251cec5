//! Sizes the decoder accepts. They keep the simulated world (and the memory
//! it takes) bounded whatever the file says; docs/limits.md lists them.

/// Most brokers a scenario may have.
pub(crate) const MAX_BROKERS: i128 = 1_000;
/// Most partitions one topic may have, and all topics together.
pub(crate) const MAX_PARTITIONS: i128 = 100_000;
pub(crate) const MAX_TOTAL_PARTITIONS: u64 = 1_000_000;
/// Most instances one producer or consumer entry may have, and all together.
pub(crate) const MAX_INSTANCES: i128 = 1_000;
pub(crate) const MAX_TOTAL_INSTANCES: u64 = 100_000;
/// Most distinct keys (the producer model keeps a key → partition table).
pub(crate) const MAX_KEYS: i128 = 10_000_000;
/// Largest record, and most records one poll may return.
pub(crate) const MAX_RECORD_BYTES: i128 = 100_000_000;
pub(crate) const MAX_POLL_RECORDS: i128 = 1_000_000;
