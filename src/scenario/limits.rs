//! Every size the scenario loader accepts, in one place: what the YAML
//! parser takes and what the decoder lets a scenario ask for. They keep the
//! loader, and the world a scenario builds, cheap whatever the file says;
//! docs/limits.md lists each one with the error it gives.

/// Most brokers a scenario may have.
pub const MAX_BROKERS: i128 = 1_000;
/// Most partitions one topic may have, and all topics together.
pub const MAX_PARTITIONS: i128 = 100_000;
pub const MAX_TOTAL_PARTITIONS: u64 = 1_000_000;
/// Most instances one producer or consumer entry may have, and all together.
pub const MAX_INSTANCES: i128 = 1_000;
pub const MAX_TOTAL_INSTANCES: u64 = 100_000;
/// Most distinct keys (the producer model keeps a key → partition table).
pub const MAX_KEYS: i128 = 10_000_000;
/// Largest record, and most records one poll may return.
pub const MAX_RECORD_BYTES: i128 = 100_000_000;
pub const MAX_POLL_RECORDS: i128 = 1_000_000;

/// Deepest nesting of sequences and mappings accepted (a scenario needs about 5).
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars, lists, mappings) the parsed document may hold,
/// counting every copy an alias or an anchor makes ("billion laughs" guard).
pub const MAX_NODES: usize = 200_000;
/// Most bytes of scalar text the parsed document may hold, counted the same
/// way: a few kilobytes of nested aliases of a long string could otherwise
/// expand to gigabytes with few values.
pub const MAX_TEXT_BYTES: usize = 32 << 20;

/// Largest scenario input, from a file, standard input or a string.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

/// Most windows one event may fall in: a sliding window's size / slide.
/// The aggregator counts each event into each of them in turn, so a window
/// of hours sliding by microseconds would spin inside a single event.
pub const MAX_WINDOWS_PER_EVENT: u64 = 1_000;
