//! The memory budget: what a scenario will need, estimated before it starts,
//! and what a run holds while it goes, checked against `max_memory`.
//!
//! The event cap (`max_events`) bounds work, not memory: a run keeps every
//! record's payload, its ledger entry, one log entry per replica and one
//! delivery per group, and a time series row per sample. The estimate counts
//! those from rates × duration × replicas, with the bytes each costs as
//! measured on release runs (docs/limits.md); a run whose estimate exceeds
//! the budget is refused before it starts, and a run that grows past it
//! anyway (retries, redeliveries) stops at the next progress tick.

use crate::kernel::time::Duration;
use crate::scenario::Scenario;

pub use crate::scenario::DEFAULT_MAX_MEMORY;
/// Most samples one run may take (`(duration + drain) / sample_interval`).
pub const MAX_SAMPLES: u64 = 10_000_000;
/// Most chaos faults one run may draw (their expected count is checked first).
pub const MAX_CHAOS_FAULTS: usize = 2_000_000;

/// Bytes per record, measured (`/usr/bin/time -v` on runs of 1e5 and 1e6
/// records, the difference divided by 9e5): payload, ledger, the leader's
/// log entry, batches and buffers, and one group's delivery.
pub const BYTES_PER_RECORD: u64 = 160;
/// Each further replica's log entry.
pub const BYTES_PER_REPLICA: u64 = 28;
/// Each further group's delivery of a record.
pub const BYTES_PER_DELIVERY: u64 = 40;
/// One sample (totals) and one lag row (per group partition, reports only).
pub const BYTES_PER_SAMPLE: u64 = 40;
pub const BYTES_PER_LAG_ROW: u64 = 32 + 48;
/// One chaos fault: its spec, its queue entry and its series entry.
pub const BYTES_PER_FAULT: u64 = 128;
/// One kept step when the run is explained (48 bytes, and the index built from it).
pub const BYTES_PER_STEP: u64 = 48;
/// Steps per record when explained (send, append, replicate, fetch, apply, commit).
pub const STEPS_PER_RECORD: u64 = 6;
/// A fixed floor: the binary, the queue and the entities.
pub const BASE_BYTES: u64 = 32 << 20;

/// `--max-memory`, when given (0: not given); it replaces every scenario's `max_memory`.
static MAX_MEMORY_FLAG: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the budget every run of this process uses (`--max-memory`).
pub fn set_max_memory(bytes: u64) {
    MAX_MEMORY_FLAG.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The budget of a run of `sc`: `--max-memory` if given, else its `max_memory`.
pub fn limit(sc: &Scenario) -> u64 {
    match MAX_MEMORY_FLAG.load(std::sync::atomic::Ordering::Relaxed) {
        0 => sc.max_memory,
        flag => flag,
    }
}

/// What a run is estimated to hold at its peak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub records: u64,
    pub samples: u64,
    pub lag_rows: u64,
    pub chaos_faults: u64,
    pub bytes: u64,
}

/// What the run will keep besides its records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keep {
    /// Per-partition lag rows, for a report folder (`--out`).
    pub lag_rows: bool,
    /// Every step, for `explain` or a report's causes.
    pub steps: bool,
}

fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    u64::try_from(u128::from(a) * u128::from(b) / u128::from(c.max(1))).unwrap_or(u64::MAX)
}

/// Records the producers send: `messages` when set, else rate × duration, per instance.
pub fn records(sc: &Scenario) -> u64 {
    sc.producers
        .iter()
        .map(|p| {
            let by_rate = mul_div(p.rate.count, sc.duration.us(), p.rate.per.us());
            let each = p.messages.map_or(by_rate, |m| m.min(by_rate));
            each.saturating_mul(u64::from(p.instances))
        })
        .fold(0u64, u64::saturating_add)
}

/// Samples the run takes: one per `sample_interval` over `duration + drain`.
pub fn samples(sc: &Scenario) -> u64 {
    let span = sc.duration.us().saturating_add(sc.drain.us());
    span / sc.sample_interval.us().max(1) + 2
}

/// Chaos faults expected: each kind's rate over `chaos.from .. chaos.until`.
pub fn chaos_faults(sc: &Scenario) -> u64 {
    let Some(c) = &sc.chaos else { return 0 };
    let span = c.until.us().saturating_sub(c.from.us());
    [&c.crash, &c.pause, &c.partition]
        .into_iter()
        .flatten()
        .map(|k| mul_div(k.rate.count, span, k.rate.per.us()).saturating_mul(2))
        .fold(0u64, u64::saturating_add)
}

/// Bytes each record costs in a run of `sc` keeping what `keep` says.
pub fn per_record(sc: &Scenario, keep: Keep) -> u64 {
    let replicas = sc
        .producers
        .iter()
        .filter_map(|p| sc.topics.get(p.topic))
        .map(|t| u64::from(t.replication_factor))
        .max()
        .unwrap_or(1)
        .max(1);
    let groups = (sc.consumers.len() as u64).max(1);
    (BYTES_PER_RECORD + (replicas - 1) * BYTES_PER_REPLICA + (groups - 1) * BYTES_PER_DELIVERY)
        .saturating_add(if keep.steps { STEPS_PER_RECORD * BYTES_PER_STEP } else { 0 })
}

/// The memory `sc` will need, keeping what `keep` says.
pub fn estimate(sc: &Scenario, keep: Keep) -> Estimate {
    let records = records(sc);
    let samples = samples(sc);
    let group_partitions: u64 = sc
        .consumers
        .iter()
        .map(|c| u64::from(sc.topics.get(c.topic).map_or(1, |t| t.partitions)))
        .fold(0u64, u64::saturating_add);
    let lag_rows = if keep.lag_rows { samples.saturating_mul(group_partitions) } else { 0 };
    let chaos_faults = chaos_faults(sc);
    let per_record = per_record(sc, keep);
    let bytes = [
        BASE_BYTES,
        records.saturating_mul(per_record),
        samples.saturating_mul(BYTES_PER_SAMPLE),
        lag_rows.saturating_mul(BYTES_PER_LAG_ROW),
        chaos_faults.saturating_mul(BYTES_PER_FAULT),
    ]
    .into_iter()
    .fold(0u64, u64::saturating_add);
    Estimate { records, samples, lag_rows, chaos_faults, bytes }
}

/// Why a run was refused before it started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error(
        "refused before the start: the run would take {samples} samples (duration + drain over sample_interval {interval}), more than \
         {MAX_SAMPLES}; raise `sample_interval` or shorten `duration`"
    )]
    Samples { samples: u64, interval: Duration },
    #[error(
        "refused before the start: chaos would draw about {faults} faults, more than {MAX_CHAOS_FAULTS}; lower the `chaos` rates or \
         narrow `chaos.from`/`chaos.until`"
    )]
    Chaos { faults: u64 },
    #[error(
        "refused before the start: the run needs an estimated {} ({} records, {} samples, {} lag rows, {} chaos faults), more than \
         max_memory ({}); reduce `duration`, `rate` or `instances` (or raise `sample_interval`), or raise \
         `max_memory` (--max-memory)",
        size(estimate.bytes), estimate.records, estimate.samples, estimate.lag_rows, estimate.chaos_faults, size(*limit)
    )]
    Memory { estimate: Estimate, limit: u64 },
}

/// Refuses, before it starts, a run that would exceed its bounds.
pub fn check(sc: &Scenario, keep: Keep, limit: u64) -> Result<Estimate, BudgetError> {
    let samples = samples(sc);
    if samples > MAX_SAMPLES {
        return Err(BudgetError::Samples { samples, interval: sc.sample_interval });
    }
    let faults = chaos_faults(sc);
    if faults > MAX_CHAOS_FAULTS as u64 {
        return Err(BudgetError::Chaos { faults });
    }
    let e = estimate(sc, keep);
    if e.bytes > limit {
        return Err(BudgetError::Memory { estimate: e, limit });
    }
    Ok(e)
}

/// `1.5 GiB`, `512 MiB`, `12 KiB`, `100 B`.
pub fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, n) in UNITS {
        if bytes >= n {
            let tenths = u128::from(bytes) * 10 / u128::from(n);
            return if tenths % 10 == 0 {
                format!("{} {unit}", tenths / 10)
            } else {
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes} B")
}

/// Parses `4GiB`, `512MiB`, `100MB`, `1000000` (bytes); binary and decimal units.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(end);
    let unit = unit.trim();
    let hint = "write a size like `512MiB`, `4GiB` or `1000000` (bytes)";
    if digits.is_empty() {
        return Err(format!("`{t}` is not a size; {hint}"));
    }
    let n: u64 = digits.parse().map_err(|_| format!("`{t}` is too large; {hint}"))?;
    let mult: u64 = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return Err(format!("`{unit}` is not a size unit; {hint}")),
    };
    let bytes = n.checked_mul(mult).ok_or_else(|| format!("`{t}` is too large; {hint}"))?;
    if bytes == 0 {
        return Err(format!("max_memory must be more than 0; {hint}"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("100 MB"), Ok(100_000_000));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("4XB").unwrap_err().contains("512MiB"));
        assert!(parse_size("").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
        assert_eq!(size(4 << 30), "4 GiB");
        assert_eq!(size(1536 << 20), "1.5 GiB");
        assert_eq!(size(10), "10 B");
    }
}
