//! The smallest config change that removes a fault's anomalies, proven: each candidate is run
//! on the same fault and seeds, and the first (fewest configs changed) whose runs have no
//! anomaly on any seed is the fix. Its cost is measured on the same runs.

use serde::Serialize;

use super::catalogue::Fault;
use super::{metrics, run_fault, Metrics, SeedRun, Workload};
use crate::scenario::{Override, OverrideKind};

/// A proven change.
#[derive(Clone, Debug, Serialize)]
pub struct Fix {
    /// The change as flags: `--producer-property acks=all --topic-config min.insync.replicas=2`.
    pub change: String,
    /// The same fault and seeds with the change.
    pub metrics: Metrics,
    pub cost: Cost,
}

/// What the change costs, measured against the runs without it (medians).
#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    pub latency_p99_ms_before: f64,
    pub latency_p99_ms_after: f64,
    pub duplicates_before: f64,
    pub duplicates_after: f64,
    pub rebalances_before: f64,
    pub rebalances_after: f64,
    /// Writes that failed (unavailability the change may bring).
    pub failed_before: f64,
    pub failed_after: f64,
}

fn o(kind: OverrideKind, key: &str, value: &str) -> Override {
    Override { kind, key: key.to_string(), value: value.to_string() }
}

/// Candidates, fewest changes first: for each kind of anomaly the runs show, one of its
/// remedies (producer durability, producer ordering, consumer commits), combined.
fn candidates(runs: &[SeedRun], own: Vec<Vec<Override>>) -> Vec<Vec<Override>> {
    use OverrideKind::{Consumer as C, Producer as P, Topic as T};
    let any = |m: &str| runs.iter().any(|r| r.values.get(m).copied().unwrap_or(0.0) > 0.0);
    let durable = vec![
        vec![o(T, "unclean.leader.election.enable", "false")],
        vec![o(P, "acks", "all"), o(T, "min.insync.replicas", "2")],
        vec![o(P, "acks", "all"), o(T, "min.insync.replicas", "2"), o(P, "enable.idempotence", "true")],
    ];
    let ordered = vec![vec![
        o(P, "enable.idempotence", "true"),
        o(P, "acks", "all"),
        o(P, "max.in.flight.requests.per.connection", "5"),
    ]];
    let consumer = vec![
        vec![o(C, "enable.auto.offset.store", "false")],
        vec![o(C, "enable.auto.commit", "false")],
        vec![o(C, "auto.offset.reset", "earliest")],
        vec![o(C, "enable.auto.offset.store", "false"), o(C, "auto.offset.reset", "earliest")],
        vec![o(C, "enable.auto.commit", "false"), o(C, "auto.offset.reset", "earliest")],
    ];
    let mut kinds: Vec<&Vec<Vec<Override>>> = Vec::new();
    // Acknowledged records lost beyond what the group skipped were lost on the log side.
    let v = |r: &SeedRun, m: &str| r.values.get(m).copied().unwrap_or(0.0);
    if any("lost_writes") || runs.iter().any(|r| v(r, "lost_acked") > v(r, "skipped")) {
        kinds.push(&durable);
    }
    if any("reordered") {
        kinds.push(&ordered);
    }
    if any("lost_acked") || any("skipped") {
        kinds.push(&consumer);
    }
    if runs.iter().any(|r| r.extra.iter().any(|m| v(r, m) > 0.0)) {
        kinds.push(&own);
    }
    // Every combination of one remedy per kind.
    let mut combos: Vec<Vec<Override>> = vec![Vec::new()];
    for options in kinds {
        combos = combos.iter().flat_map(|c| options.iter().map(move |opt| [c.clone(), opt.clone()].concat())).collect();
    }
    // A lost acknowledged write is also a lost record downstream: a durability change alone may do.
    let mut out: Vec<Vec<Override>> = durable.iter().chain(ordered.iter()).cloned().collect();
    // A durability change makes the producer retry what it was refused; without idempotence a
    // retry may reorder: each combination once more with the ordering remedy.
    let with_order: Vec<Vec<Override>> = combos.iter().map(|c| [c.clone(), ordered[0].clone()].concat()).collect();
    out.extend(combos);
    out.extend(with_order);
    out.retain(|c| !c.is_empty());
    // A remedy may repeat another's change (both durability and ordering set acks=all): once each.
    for c in &mut out {
        let mut seen = Vec::new();
        c.retain(|x| {
            let fresh = !seen.contains(x);
            seen.push(x.clone());
            fresh
        });
    }
    out.sort_by_key(Vec::len);
    out.dedup();
    out
}

/// Tries each candidate on the fault's seeds; the first with no anomaly on any seed wins.
pub fn find(w: &Workload, fault: &Fault, seeds: &[u64], before: &[SeedRun]) -> Result<Option<Fix>, String> {
    let times = super::catalogue::times(w).map_err(|e| e.to_string())?;
    for change in candidates(before, (fault.remedies)(&times)) {
        // A candidate the loader refuses for these configs (e.g. librdkafka's store on a Java group) is skipped.
        let Ok(after) = run_fault(w, fault, seeds, &change) else { continue };
        if after.iter().any(SeedRun::anomalous) {
            continue;
        }
        let (b, a) = (metrics(before), metrics(&after));
        let med = |m: &Metrics, k: &str| m.get(k).map_or(0.0, |s| s.median);
        let cost = Cost {
            latency_p99_ms_before: med(&b, "latency_p99_ms"),
            latency_p99_ms_after: med(&a, "latency_p99_ms"),
            duplicates_before: med(&b, "duplicates"),
            duplicates_after: med(&a, "duplicates"),
            rebalances_before: med(&b, "rebalances"),
            rebalances_after: med(&a, "rebalances"),
            failed_before: med(&b, "failed"),
            failed_after: med(&a, "failed"),
        };
        let change = change.iter().map(Override::flag_text).collect::<Vec<_>>().join(" ");
        return Ok(Some(Fix { change, metrics: a, cost }));
    }
    Ok(None)
}
