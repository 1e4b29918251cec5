//! Checkers: derive every summary count from the oracle alone: the ledger,
//! what it rebuilt from facts (`observed`) and what the run reported in facts
//! (`reported`: lag samples, end-of-run state). Nothing here reads the world,
//! so `verify` computes the same summary from a trace file. Nothing looks at
//! a semantics label; a count is what the records' recorded lives say.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::oracle::ledger::Ledger;
use crate::oracle::ledger::NEVER;
use crate::oracle::metrics::METRICS;
use crate::oracle::outcome::{GroupState, LogState, LostCause};
use crate::oracle::shape::{ExpectShape, Shape};
pub use crate::oracle::windows::WindowsOut;
use crate::oracle::Oracle;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssignmentOut {
    pub at_ms: u64,
    pub generation: u32,
    pub group: String,
    /// Member name → partitions, for every member of that generation.
    pub members: BTreeMap<String, Vec<u32>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionOut {
    pub topic: String,
    pub partition: u32,
    /// Broker id of the leader; null while offline.
    pub leader: Option<u32>,
    pub log_end_offset: u64,
    pub high_watermark: u64,
    pub isr: Vec<u32>,
    /// Group → committed offset (groups that committed one).
    pub committed: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpectationOut {
    pub name: String,
    pub expected: String,
    pub actual: f64,
    pub pass: bool,
}

/// The JSON summary. Outside tools read these keys: they never change name (docs/model.md lists them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub semantics: Option<String>,
    pub virtual_end_ms: u64,
    pub events: u64,
    pub trace_hash: String,
    pub produced: u64,
    pub acked: u64,
    pub failed: u64,
    pub written: u64,
    pub delivered: u64,
    pub lost: u64,
    pub lost_acked: u64,
    /// Log side: still held by a live producer at the end (not loss).
    pub unsent: u64,
    /// Log side: acknowledged, absent from the final log (durability loss).
    pub lost_writes: u64,
    /// Log side: acknowledged, only on replicas of an offline partition.
    pub unavailable: u64,
    /// Log side: never acknowledged, gone with a crashed producer.
    pub abandoned: u64,
    /// Per group: in the final log below the committed offset, never processed
    /// (consumer-side loss; part of `lost`).
    pub skipped: u64,
    /// Per group: in the leader's log at or past the committed offset (a
    /// longer drain would deliver them).
    pub pending: u64,
    pub redelivered: u64,
    pub duplicates: u64,
    pub reordered: u64,
    /// Jepsen's poll-skip: a consumer's next fetch of a partition started
    /// past where its last one ended, with no seek, assignment or reset between.
    pub poll_skips: u64,
    /// Jepsen's nonmonotonic-poll: a fetch started before where the last one ended.
    pub nonmonotonic_polls: u64,
    /// A read_committed group processed a record of an aborted transaction.
    pub aborted_reads: u64,
    /// Events that reached an aggregation behind its watermark.
    pub late_events: u64,
    pub windows: WindowsOut,
    pub max_lag: u64,
    pub final_lag: u64,
    /// Slope of the lag (records/s): a least-squares line through the lag
    /// samples from the first completed rebalance to the end of `duration`.
    pub lag_growth_per_s: f64,
    pub rebalances: u64,
    /// Summed over members: time spent with every partition revoked, waiting
    /// for a rebalance to complete (eager rebalances stop the world).
    pub stop_the_world_ms: u64,
    pub commits_failed: u64,
    /// Summed over producers: time send() was blocked waiting for
    /// `buffer.memory` (up to `max.block.ms` per call).
    pub producer_blocked_ms: u64,
    /// The most records a producer's application held back while send() was blocked.
    pub max_source_backlog: u64,
    /// Kinesis: writes and reads a shard refused for its limits.
    pub throttled: u64,
    /// Transactions (producers' and consumers') that committed / aborted.
    pub transactions_committed: u64,
    pub transactions_aborted: u64,
    pub final_members: u64,
    pub final_assigned_partitions: u64,
    pub latency_ms: Latency,
    pub assignments: Vec<AssignmentOut>,
    pub partitions: Vec<PartitionOut>,
    pub expectations: Vec<ExpectationOut>,
}

impl Summary {
    /// The value of a metric named in `METRICS`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let v = match name {
            "produced" => self.produced as f64,
            "acked" => self.acked as f64,
            "failed" => self.failed as f64,
            "written" => self.written as f64,
            "delivered" => self.delivered as f64,
            "lost" => self.lost as f64,
            "lost_acked" => self.lost_acked as f64,
            "unsent" => self.unsent as f64,
            "lost_writes" => self.lost_writes as f64,
            "unavailable" => self.unavailable as f64,
            "abandoned" => self.abandoned as f64,
            "skipped" => self.skipped as f64,
            "poll_skips" => self.poll_skips as f64,
            "nonmonotonic_polls" => self.nonmonotonic_polls as f64,
            "aborted_reads" => self.aborted_reads as f64,
            "pending" => self.pending as f64,
            "redelivered" => self.redelivered as f64,
            "duplicates" => self.duplicates as f64,
            "reordered" => self.reordered as f64,
            "late_events" => self.late_events as f64,
            "windows.fired" => self.windows.fired as f64,
            "windows.corrected" => self.windows.corrected as f64,
            "windows.dropped_events" => self.windows.dropped_events as f64,
            "windows.wrong_results" => self.windows.wrong_results as f64,
            "windows.result_latency_ms" => self.windows.result_latency_ms,
            "max_lag" => self.max_lag as f64,
            "lag_growth_per_s" => self.lag_growth_per_s,
            "final_lag" => self.final_lag as f64,
            "rebalances" => self.rebalances as f64,
            "stop_the_world_ms" => self.stop_the_world_ms as f64,
            "commits_failed" => self.commits_failed as f64,
            "producer_blocked_ms" => self.producer_blocked_ms as f64,
            "max_source_backlog" => self.max_source_backlog as f64,
            "throttled" => self.throttled as f64,
            "transactions_committed" => self.transactions_committed as f64,
            "transactions_aborted" => self.transactions_aborted as f64,
            "latency_ms.p50" => self.latency_ms.p50,
            "latency_ms.p99" => self.latency_ms.p99,
            "latency_ms.max" => self.latency_ms.max,
            "events" => self.events as f64,
            "virtual_end_ms" => self.virtual_end_ms as f64,
            "final_members" => self.final_members as f64,
            "final_assigned_partitions" => self.final_assigned_partitions as f64,
            _ => return None,
        };
        debug_assert!(METRICS.contains(&name), "metric `{name}` missing from METRICS");
        Some(v)
    }

    /// The headline counts in display order: the producer and log side
    /// (what happened to each record's write) first, then the consumer
    /// groups (what they did with what the log held).
    /// Then lag and rebalances.
    pub fn counts(&self) -> [(&'static str, u64); 17] {
        [
            ("produced", self.produced),
            ("acked", self.acked),
            ("failed", self.failed),
            ("unsent", self.unsent),
            ("written", self.written),
            ("lost_writes", self.lost_writes),
            ("unavailable", self.unavailable),
            ("delivered", self.delivered),
            ("pending", self.pending),
            ("skipped", self.skipped),
            ("lost", self.lost),
            ("redelivered", self.redelivered),
            ("duplicates", self.duplicates),
            ("reordered", self.reordered),
            ("max_lag", self.max_lag),
            ("final_lag", self.final_lag),
            ("rebalances", self.rebalances),
        ]
    }

    pub fn all_expectations_pass(&self) -> bool {
        self.expectations.iter().all(|e| e.pass)
    }
}

/// Nearest-rank percentile of microseconds, in milliseconds. The value at that
/// rank is found by selection, not a sort (a million latencies sort in tens of
/// milliseconds; only two ranks are read); `us` is left reordered.
pub fn percentile_ms(us: &mut [u64], q_per_mille: u64) -> f64 {
    if us.is_empty() {
        return 0.0;
    }
    let n = us.len() as u64;
    let rank = (q_per_mille * n).div_ceil(1000).clamp(1, n);
    *us.select_nth_unstable((rank - 1) as usize).1 as f64 / 1000.0
}

/// The least-squares slope of lag over time while producers run, from the
/// first completed rebalance (before it nobody consumes) to the end of
/// `duration`; rounded to 0.001 records/s so the JSON stays short and stable.
fn lag_growth_per_s(o: &Oracle) -> f64 {
    let Some(first) = o.ledger.assignments.first() else { return 0.0 };
    let (from, to) = (first.at.us(), o.observed.shape.run.duration_us);
    let points: Vec<(f64, f64)> = o
        .reported
        .lag
        .iter()
        .filter(|&&(t, _)| t >= from && t <= to)
        .map(|&(t, lag)| (t as f64 / 1e6, lag as f64))
        .collect();
    if points.len() < 2 {
        return 0.0;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 {
        return 0.0;
    }
    (sxy / sxx * 1000.0).round() / 1000.0
}

/// Records by their log-side state.
#[derive(Default)]
struct LogCounts {
    unsent: u64,
    lost_writes: u64,
    unavailable: u64,
    abandoned: u64,
}

impl LogCounts {
    fn of(states: &[LogState]) -> LogCounts {
        let mut c = LogCounts::default();
        for s in states {
            match s {
                LogState::Unsent => c.unsent += 1,
                LogState::LostWrite => c.lost_writes += 1,
                LogState::Unavailable => c.unavailable += 1,
                LogState::Abandoned => c.abandoned += 1,
                LogState::Stored | LogState::Failed => {}
            }
        }
        c
    }
}

/// Records by their state in each group, summed over groups.
#[derive(Default)]
struct GroupCounts {
    delivered: u64,
    pending: u64,
    lost: u64,
    lost_acked: u64,
    skipped: u64,
    redelivered: u64,
    duplicates: u64,
    reordered: u64,
    commits_failed: u64,
}

impl GroupCounts {
    /// Counts every group's states; also the lost (group, record) pairs and
    /// the send → first effect latencies (µs) of delivered records.
    fn of(ledger: &Ledger, groups: &[Vec<Option<GroupState>>]) -> (GroupCounts, Vec<(u32, u32)>, Vec<u64>) {
        let mut c = GroupCounts::default();
        let mut lost_sent = Vec::new();
        let mut latencies = Vec::new();
        for (gi, states) in groups.iter().enumerate() {
            let gl = &ledger.groups[gi];
            for (r, state) in states.iter().enumerate() {
                let Some(state) = state else { continue };
                let r = r as u32;
                match state {
                    GroupState::Delivered => {
                        c.delivered += 1;
                        latencies.push(ledger.seen(gi as u32, r).first_effect_us - ledger.sent_us(r));
                    }
                    GroupState::Pending => c.pending += 1,
                    GroupState::Failed | GroupState::Unsent | GroupState::Unavailable => {}
                    GroupState::Lost(cause) => {
                        c.lost += 1;
                        lost_sent.push((gi as u32, r));
                        if ledger.life(r).acked_us != NEVER {
                            c.lost_acked += 1;
                        }
                        if matches!(cause, LostCause::Skipped | LostCause::NoOffset) {
                            c.skipped += 1;
                        }
                    }
                }
            }
            c.redelivered += gl.redelivered;
            c.duplicates += gl.duplicates;
            c.reordered += gl.reordered;
            c.commits_failed += gl.commits_failed;
        }
        (c, lost_sent, latencies)
    }
}

/// Builds the summary of a finished run.
pub fn summarize(w: &crate::world::World) -> Summary {
    summarize_with_losses(w).0
}

/// The summary, and the records counted as lost: (group, record), per group in send order.
pub fn summarize_with_losses(w: &crate::world::World) -> (Summary, Vec<(u32, u32)>) {
    if cfg!(debug_assertions) {
        if let Some(m) = crate::oracle::shadow::mismatch(w) {
            panic!("the model changed a log without a fact: {m}");
        }
    }
    w.oracle.summarize_with_losses()
}

impl Oracle {
    /// The summary from the oracle alone (a run's, or one `verify` replayed
    /// from its trace), and the lost (group, record) pairs.
    pub fn summarize_with_losses(&self) -> (Summary, Vec<(u32, u32)>) {
        let (ledger, observed, reported) = (&self.ledger, &self.observed, &self.reported);
        let shape = &observed.shape;
        let outcomes = crate::oracle::outcome::outcomes(ledger, observed);
        let log = LogCounts::of(&outcomes.log);
        let (c, lost_sent, mut latencies) = GroupCounts::of(ledger, &outcomes.group);
        let latency_ms = Latency {
            p50: percentile_ms(&mut latencies, 500),
            p99: percentile_ms(&mut latencies, 990),
            max: latencies.iter().max().map_or(0.0, |&m| m as f64 / 1000.0),
        };
        let (end_us, events) = reported.end.unwrap_or((0, 0));
        let mut summary = Summary {
            scenario: shape.run.scenario.clone(),
            seed: shape.run.seed,
            semantics: shape.run.semantics.clone(),
            virtual_end_ms: end_us / 1000,
            events,
            trace_hash: self.trace.hex(),
            produced: ledger.len() as u64,
            acked: ledger.acked,
            failed: ledger.failed,
            written: ledger.written,
            delivered: c.delivered,
            lost: c.lost,
            lost_acked: c.lost_acked,
            unsent: log.unsent,
            lost_writes: log.lost_writes,
            unavailable: log.unavailable,
            abandoned: log.abandoned,
            skipped: c.skipped,
            pending: c.pending,
            redelivered: c.redelivered,
            duplicates: c.duplicates,
            reordered: c.reordered,
            poll_skips: observed.poll_skips,
            nonmonotonic_polls: observed.nonmonotonic_polls,
            aborted_reads: crate::oracle::outcome::aborted_reads(ledger, observed),
            late_events: ledger.late_events,
            windows: crate::oracle::windows::windows(ledger, &shape.groups, &reported.aggregates),
            max_lag: reported.max_lag,
            lag_growth_per_s: lag_growth_per_s(self),
            final_lag: final_lag(self),
            rebalances: ledger.rebalances,
            stop_the_world_ms: ledger.groups.iter().map(|g| g.stop_the_world_us).sum::<u64>() / 1000,
            commits_failed: c.commits_failed,
            producer_blocked_ms: reported.producers.values().map(|p| p.blocked_us).sum::<u64>() / 1000,
            max_source_backlog: reported.producers.values().map(|p| p.max_backlog).max().unwrap_or(0),
            throttled: ledger.throttled,
            transactions_committed: ledger.transactions_committed,
            transactions_aborted: ledger.transactions_aborted,
            final_members: reported.groups.values().map(|g| g.members).sum(),
            final_assigned_partitions: reported.groups.values().map(|g| g.assigned_partitions).sum(),
            latency_ms,
            assignments: assignments_out(ledger, shape),
            partitions: partitions_out(self),
            expectations: Vec::new(),
        };
        summary.expectations = check_expectations(&summary, &shape.run.expect);
        (summary, lost_sent)
    }
}

/// Every group's lag at the end: the final high watermark minus the
/// committed offset, over the group's partitions.
fn final_lag(o: &Oracle) -> u64 {
    let shape = &o.observed.shape;
    let mut lag = 0;
    for (g, gs) in shape.groups.iter().enumerate() {
        for (local, committed) in o.observed.committed[g].iter().enumerate() {
            let p = gs.first_partition + local as u32;
            let hw = o.reported.partitions.get(&p).map_or(0, |e| e.high_watermark);
            lag += hw.saturating_sub(committed.unwrap_or(0));
        }
    }
    lag
}

/// Every completed rebalance's assignment, with names.
fn assignments_out(ledger: &Ledger, shape: &Shape) -> Vec<AssignmentOut> {
    ledger
        .assignments
        .iter()
        .map(|a| AssignmentOut {
            at_ms: a.at.ms(),
            generation: a.generation,
            group: shape.groups[a.group as usize].name.clone(),
            members: a
                .members
                .iter()
                .map(|(c, parts)| (shape.consumers[*c as usize].name.clone(), parts.clone()))
                .collect(),
        })
        .collect()
}

/// Every partition at the end of the run.
fn partitions_out(o: &Oracle) -> Vec<PartitionOut> {
    let shape = &o.observed.shape;
    let none = crate::oracle::reported::PartitionEnd::default();
    (0..shape.partitions.len() as u32)
        .map(|global| {
            let ps = &shape.partitions[global as usize];
            let (topic, index) = ps.name.rsplit_once('/').unwrap_or((&ps.name, "0"));
            let committed = shape
                .groups_reading(global)
                .filter_map(|g| {
                    let gs = &shape.groups[g as usize];
                    let offset = o.observed.committed[g as usize][(global - gs.first_partition) as usize];
                    offset.map(|off| (gs.name.clone(), off))
                })
                .collect();
            let end = o.reported.partitions.get(&global).unwrap_or(&none);
            PartitionOut {
                topic: topic.to_string(),
                partition: index.parse().unwrap_or(0),
                leader: end.leader,
                log_end_offset: end.log_end,
                high_watermark: end.high_watermark,
                isr: end.isr.clone(),
                committed,
            }
        })
        .collect()
}

/// Evaluates each `expect:` line against the summary.
pub fn check_expectations(summary: &Summary, expect: &[ExpectShape]) -> Vec<ExpectationOut> {
    expect
        .iter()
        .map(|e| {
            let actual = summary.metric(&e.name).unwrap_or(f64::NAN);
            ExpectationOut {
                name: e.name.clone(),
                expected: e.text.clone(),
                actual,
                pass: e.holds(actual).unwrap_or(false),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // Shuffled on purpose: selection needs no sorted input.
        let mut v: Vec<u64> = (1..=100).map(|x| (x * 37 % 100 + 1) * 1000).collect();
        assert_eq!(percentile_ms(&mut v, 500), 50.0);
        assert_eq!(percentile_ms(&mut v, 990), 99.0);
        assert_eq!(percentile_ms(&mut [7000], 990), 7.0);
        assert_eq!(percentile_ms(&mut [], 500), 0.0);
    }

    #[test]
    fn every_metric_name_resolves() {
        let s = Summary {
            scenario: String::new(),
            seed: 0,
            semantics: None,
            virtual_end_ms: 0,
            events: 0,
            trace_hash: String::new(),
            produced: 0,
            acked: 0,
            failed: 0,
            written: 0,
            delivered: 0,
            lost: 0,
            lost_acked: 0,
            unsent: 0,
            lost_writes: 0,
            unavailable: 0,
            abandoned: 0,
            skipped: 0,
            poll_skips: 0,
            nonmonotonic_polls: 0,
            aborted_reads: 0,
            pending: 0,
            redelivered: 0,
            duplicates: 0,
            reordered: 0,
            late_events: 0,
            windows: WindowsOut::default(),
            max_lag: 0,
            lag_growth_per_s: 0.0,
            final_lag: 0,
            rebalances: 0,
            stop_the_world_ms: 0,
            commits_failed: 0,
            producer_blocked_ms: 0,
            max_source_backlog: 0,
            throttled: 0,
            transactions_committed: 0,
            transactions_aborted: 0,
            final_members: 0,
            final_assigned_partitions: 0,
            latency_ms: Latency { p50: 0.0, p99: 0.0, max: 0.0 },
            assignments: vec![],
            partitions: vec![],
            expectations: vec![],
        };
        for m in METRICS {
            assert!(s.metric(m).is_some(), "{m}");
        }
    }
}
