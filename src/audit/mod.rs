//! `streamsim audit`: pasted client configs → the workload → every fault of the catalogue over
//! seeds and timings → per fault, the distribution of each anomaly, its cause from explain, and
//! the smallest config change that removes it, proven by re-running the same fault and seeds.
//!
//! `workload` builds the scenario text and the config overrides; `catalogue` lists the faults;
//! `fixes` proposes and proves changes; `partitioners` compares the clients' key hashing;
//! `report` prints the table, the JSON and the HTML page.

pub mod catalogue;
pub mod fixes;
pub mod incidents;
pub mod partitioners;
pub mod report;
pub mod workload;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::oracle::checkers::Summary;
use crate::scenario::{load_str_overridden, LoadError, Override, Overrides};
use catalogue::{Fault, CATALOGUE};

/// The counts a fault row shows, in order (names from the summary).
pub const METRICS: &[&str] = &[
    "lost_writes",
    "lost_acked",
    "lost",
    "skipped",
    "duplicates",
    "reordered",
    "failed",
    "rebalances",
    "commits_failed",
    "latency_p99_ms",
];

/// The counts that are anomalies a fix must bring to zero. Duplicates are at-least-once's
/// documented redeliveries, and `failed` (writes refused, e.g. NotEnoughReplicas under
/// min.insync.replicas) is the unavailability a durability fix trades loss for: both show in
/// the row and in a fix's cost.
/// `lost` counts records never acknowledged too (a producer crash's unsent buffer: the
/// application got no callback for them), so the acknowledged ones, `lost_acked`, are the anomaly.
pub const ANOMALIES: &[&str] = &["lost_writes", "lost_acked", "skipped", "reordered"];

/// Median and worst over the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stat {
    pub median: f64,
    pub max: f64,
}

pub type Metrics = BTreeMap<&'static str, Stat>;

/// What one run of one fault gave.
#[derive(Clone, Debug)]
pub struct SeedRun {
    pub seed: u64,
    pub values: BTreeMap<&'static str, f64>,
    /// The fault's own anomalies beyond `ANOMALIES` (`Fault::anomalies`).
    pub extra: &'static [&'static str],
}

impl SeedRun {
    fn of(seed: u64, s: &Summary, extra: &'static [&'static str]) -> SeedRun {
        let values = METRICS
            .iter()
            .chain(extra)
            .map(|&m| (m, if m == "latency_p99_ms" { s.latency_ms.p99 } else { s.metric(m).unwrap_or(0.0) }))
            .collect();
        SeedRun { seed, values, extra }
    }

    pub fn anomalous(&self) -> bool {
        ANOMALIES.iter().chain(self.extra).any(|m| self.values.get(m).copied().unwrap_or(0.0) > 0.0)
    }
}

/// The scenario an audit runs, before any fault.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The scenario text, without `faults:`.
    pub text: String,
    /// The configs (and command-line overrides) written over it.
    pub overrides: Overrides,
    /// session.timeout.ms of the group, for the pause fault.
    pub session_ms: u64,
}

/// One fault's row: its runs, their distribution, a cause and a fix.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRow {
    pub fault: &'static str,
    pub what: &'static str,
    pub seeds: u64,
    /// Seeds with at least one anomaly, over `seeds`.
    pub probability: f64,
    pub metrics: Metrics,
    pub cause: Option<String>,
    pub fix: Option<fixes::Fix>,
}

/// Distribution of each metric over the runs.
pub fn metrics(runs: &[SeedRun]) -> Metrics {
    METRICS
        .iter()
        .map(|&m| {
            let mut v: Vec<f64> = runs.iter().map(|r| r.values.get(m).copied().unwrap_or(0.0)).collect();
            v.sort_by(f64::total_cmp);
            let median = if v.is_empty() { 0.0 } else { v[(v.len() - 1) / 2] };
            (m, Stat { median, max: v.last().copied().unwrap_or(0.0) })
        })
        .collect()
}

/// The scenario of `fault` for `seed`, with `extra` overrides after the workload's.
pub fn scenario_for(
    w: &Workload,
    fault: &Fault,
    seed: u64,
    extra: &[Override],
) -> Result<crate::scenario::Scenario, LoadError> {
    let (t, times) = (catalogue::start_ms(seed), catalogue::times(w)?);
    let text = format!("{}seed: {seed}\nfaults: {}\n", w.text, (fault.faults)(t, &times));
    let mut o = w.overrides.clone();
    o.0.extend(catalogue::drain_override(t, (fault.settle_ms)(&times), &times));
    o.0.extend(extra.iter().cloned());
    Ok(load_str_overridden(&text, "audit workload", None, &o)?.scenario)
}

/// Runs `fault` over `seeds` (in parallel; results in seed order).
pub fn run_fault(w: &Workload, fault: &Fault, seeds: &[u64], extra: &[Override]) -> Result<Vec<SeedRun>, String> {
    seeds
        .par_iter()
        .map(|&seed| {
            let sc = scenario_for(w, fault, seed, extra).map_err(|e| e.to_string())?;
            let out = crate::simulate(sc).map_err(|e| format!("{} seed {seed}: {e}", fault.id))?;
            Ok(SeedRun::of(seed, &out.summary, fault.anomalies))
        })
        .collect()
}

/// explain's first cause line for the worst seed of a fault.
fn cause(w: &Workload, fault: &Fault, runs: &[SeedRun]) -> Option<String> {
    let score =
        |r: &SeedRun| ANOMALIES.iter().chain(r.extra).map(|m| r.values.get(m).copied().unwrap_or(0.0)).sum::<f64>();
    let worst =
        runs.iter().filter(|r| r.anomalous()).max_by(|a, b| score(a).total_cmp(&score(b)).then(b.seed.cmp(&a.seed)))?;
    let sc = scenario_for(w, fault, worst.seed, &[]).ok()?;
    let out = crate::simulate_with(sc, &mut |_| {}, None::<std::fs::File>, true).ok()?;
    // The first cause about an anomaly (a duplicate's cause comes first when they are more).
    let about = |c: &&String| ["lost", "skipped", "reordered"].iter().any(|w| c.contains(w));
    let line = out.causes.iter().find(about).or(out.causes.first())?;
    Some(format!("{line} (seed {})", worst.seed))
}

/// The row of a fault that does not apply to these configs (`Fault::skip`): no run.
fn skipped(w: &Workload, fault: &Fault) -> Result<Option<FaultRow>, String> {
    let times = catalogue::times(w).map_err(|e| e.to_string())?;
    Ok((fault.skip)(&times).map(|why| FaultRow {
        fault: fault.id,
        what: fault.what,
        seeds: 0,
        probability: 0.0,
        metrics: metrics(&[]),
        cause: Some(format!("does not apply: {why}")),
        fix: None,
    }))
}

/// The whole audit: every fault of the catalogue, each with its cause and proven fix.
pub fn audit(w: &Workload, seeds: &[u64], progress: &(dyn Fn(&str) + Sync)) -> Result<Vec<FaultRow>, String> {
    CATALOGUE
        .iter()
        .map(|fault| {
            progress(fault.id);
            if let Some(row) = skipped(w, fault)? {
                return Ok(row);
            }
            let runs = run_fault(w, fault, seeds, &[])?;
            let anomalous = runs.iter().filter(|r| r.anomalous()).count();
            let m = metrics(&runs);
            let (cause, fix) = if anomalous > 0 {
                (cause(w, fault, &runs), fixes::find(w, fault, seeds, &runs)?)
            } else {
                (None, None)
            };
            Ok(FaultRow {
                fault: fault.id,
                what: fault.what,
                seeds: seeds.len() as u64,
                probability: anomalous as f64 / seeds.len().max(1) as f64,
                metrics: m,
                cause,
                fix,
            })
        })
        .collect()
}
