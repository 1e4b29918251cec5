//! The stable view of a run's [`Outcome`].

use crate::{Outcome, Series, Snapshot, Summary};

/// What a run's kept steps explain (a run built with
/// [`Simulation::keep_steps`](crate::Simulation::keep_steps)), as `streamsim explain` groups it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Explanation<'a> {
    /// One line per cause, the mechanisms that recur first, then every cause, most frequent
    /// first: `70 duplicates, one cause: crash of billing-0 at 20.000s between processing and
    /// commit`. Empty when nothing was lost, duplicated, reordered or late.
    pub causes: &'a [String],
    /// Up to ten records' stories, as text: each step of the record's life, with its trace line.
    pub stories: &'a [String],
}

impl Outcome {
    /// Every count of the run, as `streamsim run --json` prints it (the keys are listed in
    /// docs/model.md). It holds volatile fields too (`events`, `trace_hash`): pin a
    /// [`snapshot`](Outcome::snapshot) instead.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Faults, losses and latency over time: what the report's charts draw.
    pub fn series(&self) -> &Series {
        &self.series
    }

    /// The causes of the run's anomalies; `None` unless the run kept its steps
    /// ([`Simulation::keep_steps`](crate::Simulation::keep_steps)).
    pub fn explain(&self) -> Option<Explanation<'_>> {
        self.explained.then_some(Explanation { causes: &self.causes, stories: &self.stories })
    }

    /// The stable, serialisable view of the outcome for snapshot tests: the outcome counts,
    /// the assignments, the expectations and the causes, without what moves whenever the
    /// model changes (docs/snapshot-testing.md lists each field).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(self)
    }
}
