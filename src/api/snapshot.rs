//! The stable view of an outcome that snapshot tests pin (docs/snapshot-testing.md).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Outcome;

/// What a run did, without what moves whenever the model changes: no event count, trace
/// hash, timing or latency. Its keys serialise in alphabetical order (fields are declared in
/// that order, maps are sorted), so a snapshot diff shows only what changed.
///
/// docs/snapshot-testing.md says what each field means. New fields may appear in a minor
/// release (a snapshot then shows them as added lines); none is renamed or removed before
/// 1.0 without a CHANGELOG.md entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// Every group's assignment, one entry per generation, in the order they happened.
    pub assignments: Vec<SnapshotAssignment>,
    /// The anomalies' causes, one line each, as [`Outcome::explain`] gives them; empty unless
    /// the run kept its steps.
    pub causes: Vec<String>,
    /// Every outcome count, by its `--json` key (docs/model.md): produced, acked, lost,
    /// duplicates, ... and `windows.*` for aggregations.
    pub counts: BTreeMap<String, u64>,
    /// Each `expect:` of the scenario, in the file's order.
    pub expectations: Vec<SnapshotExpectation>,
    /// The scenario's `name:`.
    pub scenario: String,
    /// The seed the run used.
    pub seed: u64,
    /// The `semantics:` preset, if the scenario names one.
    pub semantics: Option<String>,
}

/// One generation of a consumer group: who held which partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SnapshotAssignment {
    /// The generation the coordinator gave the assignment.
    pub generation: u32,
    /// The consumer group.
    pub group: String,
    /// Each member (consumer instance) and the partitions it held, sorted.
    pub members: BTreeMap<String, Vec<u32>>,
}

/// One expectation of the scenario's `expect:` block, and whether the run met it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SnapshotExpectation {
    /// The value the run had.
    pub actual: f64,
    /// What the file expects, as written (`0`, `"<= 10"`, `"> 0"`).
    pub expected: String,
    /// The metric, a `--json` key.
    pub name: String,
    /// Whether the run met it.
    pub pass: bool,
}

impl Snapshot {
    pub(crate) fn of(o: &Outcome) -> Snapshot {
        let s = &o.summary;
        let assignments = s
            .assignments
            .iter()
            .map(|a| SnapshotAssignment {
                generation: a.generation,
                group: a.group.clone(),
                members: a.members.clone(),
            })
            .collect();
        let expectations = s
            .expectations
            .iter()
            .map(|e| SnapshotExpectation {
                actual: e.actual,
                expected: e.expected.clone(),
                name: e.name.clone(),
                pass: e.pass,
            })
            .collect();
        Snapshot {
            assignments,
            causes: o.causes.clone(),
            counts: counts(s),
            expectations,
            scenario: s.scenario.clone(),
            seed: s.seed,
            semantics: s.semantics.clone(),
        }
    }
}

/// Every integer outcome count of the summary; what it leaves out moves with the model's
/// timing or event count (`events`, `trace_hash`, `virtual_end_ms`, latencies, blocked and
/// stop-the-world times, the lag's slope).
fn counts(s: &crate::Summary) -> BTreeMap<String, u64> {
    let w = &s.windows;
    let all = [
        ("produced", s.produced),
        ("acked", s.acked),
        ("failed", s.failed),
        ("unsent", s.unsent),
        ("abandoned", s.abandoned),
        ("written", s.written),
        ("lost_writes", s.lost_writes),
        ("unavailable", s.unavailable),
        ("delivered", s.delivered),
        ("pending", s.pending),
        ("skipped", s.skipped),
        ("lost", s.lost),
        ("lost_acked", s.lost_acked),
        ("redelivered", s.redelivered),
        ("duplicates", s.duplicates),
        ("reordered", s.reordered),
        ("poll_skips", s.poll_skips),
        ("nonmonotonic_polls", s.nonmonotonic_polls),
        ("aborted_reads", s.aborted_reads),
        ("late_events", s.late_events),
        ("max_lag", s.max_lag),
        ("final_lag", s.final_lag),
        ("rebalances", s.rebalances),
        ("commits_failed", s.commits_failed),
        ("max_source_backlog", s.max_source_backlog),
        ("throttled", s.throttled),
        ("transactions_committed", s.transactions_committed),
        ("transactions_aborted", s.transactions_aborted),
        ("final_members", s.final_members),
        ("final_assigned_partitions", s.final_assigned_partitions),
        ("windows.fired", w.fired),
        ("windows.corrected", w.corrected),
        ("windows.dropped_events", w.dropped_events),
        ("windows.wrong_results", w.wrong_results),
    ];
    all.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
