//! The windowed aggregations judged against the truth: the same windows
//! counted over the event time of every record produced to the group's
//! topic (from `send` facts), compared with the results the aggregation
//! reported at the end of the run (`window` facts).

use std::collections::BTreeMap;

use crate::oracle::ledger::{Ledger, NULL_KEY};
use crate::oracle::reported::AggregateEnd;
use crate::oracle::shape::{GroupShape, WindowShape};

/// The windows' summary (`windows` in the JSON summary).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct WindowsOut {
    /// Window results emitted, corrections included.
    pub fired: u64,
    /// Firings of a window that had fired before (late events within the lateness).
    pub corrected: u64,
    /// Late events dropped: their window had closed for good.
    pub dropped_events: u64,
    /// Windows whose final result differs from the count of every produced
    /// record's event time (missing windows and windows that should not exist included).
    pub wrong_results: u64,
    /// Mean time from a window's end (event time) to its first result.
    pub result_latency_ms: f64,
}

/// The correct result: every event time, counted into the windows of
/// `kind`. Per window (key, start µs, end µs; key 0 but for sessions), the true count.
pub fn truth(kind: WindowShape, events: &mut [(u32, u64)]) -> BTreeMap<(u32, u64, u64), u64> {
    let mut out = BTreeMap::new();
    match kind {
        WindowShape::Tumbling { size_us: size } => {
            for &(_, t) in events.iter() {
                let start = t - t % size;
                *out.entry((0, start, start + size)).or_insert(0) += 1;
            }
        }
        WindowShape::Sliding { size_us: size, slide_us: slide } => {
            for &(_, t) in events.iter() {
                let last = t - t % slide;
                let mut start = (last + slide).saturating_sub(size);
                start -= start % slide;
                while start <= last {
                    if start + size > t {
                        *out.entry((0, start, start + size)).or_insert(0) += 1;
                    }
                    start += slide;
                }
            }
        }
        WindowShape::Session { gap_us: gap } => {
            events.sort_unstable();
            let mut i = 0;
            while i < events.len() {
                let key = events[i].0;
                let (start, mut end, mut n) = (events[i].1, events[i].1, 0u64);
                while i < events.len() && events[i].0 == key && events[i].1 <= end.saturating_add(gap) {
                    end = end.max(events[i].1);
                    n += 1;
                    i += 1;
                }
                out.insert((key, start, end), n);
            }
        }
    }
    out
}

/// Every group aggregation's results against the truth.
pub fn windows(ledger: &Ledger, groups: &[GroupShape], reported: &BTreeMap<u32, AggregateEnd>) -> WindowsOut {
    let mut out = WindowsOut::default();
    let (mut latency_sum, mut latency_n) = (0u128, 0u64);
    let empty = AggregateEnd::default();
    for (gi, g) in groups.iter().enumerate() {
        let Some(kind) = g.window else { continue };
        let agg = reported.get(&(gi as u32)).unwrap_or(&empty);
        out.fired += agg.fired;
        out.corrected += agg.corrected;
        out.dropped_events += agg.dropped_events;
        let (first, end) = (g.first_partition, g.first_partition + g.partitions);
        let mut events: Vec<(u32, u64)> = ledger
            .lives()
            .filter(|r| r.partition >= first && r.partition < end)
            .map(|r| {
                let key = if r.key == NULL_KEY { u32::MAX } else { ledger.key_slot(r.producer, r.key) };
                (key, r.event_us)
            })
            .collect();
        let truth = truth(kind, &mut events);
        let results = &agg.results;
        out.wrong_results += truth.iter().filter(|(k, &n)| results.get(k).map(|r| r.0) != Some(n)).count() as u64;
        out.wrong_results += results.keys().filter(|k| !truth.contains_key(k)).count() as u64;
        for (&(_, _, end_us), &(_, fired_us)) in results {
            latency_sum += u128::from(fired_us.saturating_sub(end_us));
            latency_n += 1;
        }
    }
    if latency_n > 0 {
        out.result_latency_ms = ((latency_sum / u128::from(latency_n)) as f64 / 1000.0 * 1000.0).round() / 1000.0;
    }
    out
}
