//! The oracle: the facts the model emits, the ledger built from them, the
//! trace, and the checkers that turn them into counts.
//!
//! The model holds an [`Oracle`] only to hand it facts. Nothing in it is
//! readable from the model: the ledger's fields are private to this module,
//! so the compiler keeps the rule "the model never reads the oracle".

pub mod aborted;
pub mod checkers;
#[cfg(test)]
mod circular_check;
pub mod explain;
pub mod fact;
pub mod header;
pub mod kept;
pub mod ledger;
pub mod metrics;
pub mod minimize;
pub mod observed;
pub mod outcome;
pub mod reported;
pub mod sampler;
pub mod series;
pub mod shadow;
pub mod shape;
pub mod trace;
pub mod verify;
pub mod windows;

use crate::kernel::time::Instant;
use fact::Fact;
use ledger::Ledger;
use observed::Observed;
use reported::Reported;
use shape::Shape;
use trace::Trace;

/// What the run tells the outside: the trace (for `trace_hash`, `--trace`
/// and `explain`) and the ledger (for the checkers).
#[derive(Debug, Default)]
pub struct Oracle {
    pub ledger: Ledger,
    pub trace: Trace,
    /// Logs, committed offsets and lives rebuilt from facts.
    pub observed: Observed,
    /// Lag samples and the end-of-run facts.
    pub reported: Reported,
    /// Every fact with its time (µs), kept whole when asked, for the views
    /// that read a run back (`timeline`, `consumer-groups`, Perfetto).
    pub tape: Option<Vec<(u64, Fact)>>,
    /// The incidents (faults, elections, ISR changes, rebalances, members
    /// leaving, commit failures, fencing, aborts, truncations, offset resets)
    /// with their time (µs): few, kept always, for the charts' marks and the
    /// report's timeline.
    pub incidents: Vec<(u64, Fact)>,
}

impl Oracle {
    pub fn new(shape: Shape) -> Oracle {
        let ledger = Ledger::new(&shape.keys_per_producer(), shape.groups.len());
        Oracle {
            ledger,
            trace: Trace::default(),
            observed: Observed::new(shape),
            reported: Reported::default(),
            tape: None,
            incidents: Vec::new(),
        }
    }

    /// Steps kept in memory for `explain`: the run's memory budget counts
    /// them (it stops a run, it never steers one).
    pub fn kept_steps(&self) -> u64 {
        self.trace.kept.as_ref().map_or(0, kept::Kept::len) as u64
    }

    /// Takes in one fact: the only way anything reaches the trace or the ledger.
    #[inline]
    pub fn emit(&mut self, at: Instant, fact: Fact) {
        let (step, values) = fact.encode();
        self.trace.note(at, step, &values[..step.fields().len()], fact.members());
        self.ledger.observe(at, &fact);
        self.observed.observe(at.us(), &fact);
        self.reported.observe(at.us(), &fact);
        if is_incident(&fact) {
            self.incidents.push((at.us(), fact.clone()));
        }
        if let Some(tape) = self.tape.as_mut() {
            tape.push((at.us(), fact));
        }
    }
}

/// The facts the timeline names (`report::timeline`): rare, unlike the per-record ones.
fn is_incident(f: &Fact) -> bool {
    use fact::PositionSource;
    match f {
        Fact::Crash(_) | Fact::Restart(_) | Fact::Start(_) | Fact::Stop(_) | Fact::Pause { .. } => true,
        Fact::NetworkPartition { .. } | Fact::Elect { .. } | Fact::Isr { .. } | Fact::Truncate { .. } => true,
        Fact::RebalanceStart { .. } | Fact::Rebalance { .. } | Fact::Leave { .. } | Fact::PollTimeout { .. } => true,
        Fact::CommitFailed { .. } | Fact::NoOffset { .. } | Fact::Fenced { .. } => true,
        Fact::TxnEnd { commit, .. } => !commit,
        Fact::Position { source, .. } => matches!(source, PositionSource::OutOfRange | PositionSource::Diverged),
        _ => false,
    }
}
