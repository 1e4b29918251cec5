//! Sinks: where a processed record has its effect.
//!
//! A sink keeps its own memory of what it applied, as a real one does (a
//! primary-key table, an upsert log). It never asks the oracle: if its
//! deduplication were wrong, the checker, which counts effects from facts,
//! would see the duplicates.

use crate::model::ids::RecordId;
use crate::scenario::SinkKind;

/// One group's sink.
#[derive(Clone, Debug)]
pub struct Sink {
    kind: SinkKind,
    /// A bit per record id: the idempotent sink holds a row for it.
    applied: Vec<u64>,
    /// Test-only sabotage: the idempotent sink forgets its rows (applies
    /// every redelivery), to show the checker does not move with the model.
    #[cfg(test)]
    pub(crate) forgetful: bool,
}

impl Sink {
    pub fn new(kind: SinkKind) -> Sink {
        Sink {
            kind,
            applied: Vec::new(),
            #[cfg(test)]
            forgetful: false,
        }
    }

    /// Processing `record` now: whether it changes the sink. A plain sink (an
    /// HTTP call, an email, an append) acts every time; an idempotent sink
    /// upserts by record id, so only the first processing changes anything.
    pub fn apply(&mut self, record: RecordId) -> bool {
        match self.kind {
            SinkKind::Plain | SinkKind::Transactional => true,
            SinkKind::Idempotent => {
                let fresh = !self.holds(record);
                self.mark(record);
                #[cfg(test)]
                if self.forgetful {
                    return true;
                }
                fresh
            }
        }
    }

    /// A result reached the sink by another path (a transaction's commit).
    pub fn mark(&mut self, record: RecordId) {
        let (word, bit) = (record.index() / 64, record.raw() % 64);
        if self.applied.len() <= word {
            self.applied.resize(word + 1, 0);
        }
        self.applied[word] |= 1 << bit;
    }

    fn holds(&self, record: RecordId) -> bool {
        self.applied.get(record.index() / 64).is_some_and(|w| w & (1 << (record.raw() % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_sink_takes_each_record_once() {
        let mut s = Sink::new(SinkKind::Idempotent);
        assert!(s.apply(RecordId::new(70)));
        assert!(!s.apply(RecordId::new(70)));
        assert!(s.apply(RecordId::new(3)));
        let mut plain = Sink::new(SinkKind::Plain);
        assert!(plain.apply(RecordId::new(70)));
        assert!(plain.apply(RecordId::new(70)));
    }

    #[test]
    fn a_committed_result_counts_as_held() {
        let mut s = Sink::new(SinkKind::Idempotent);
        s.mark(RecordId::new(5));
        assert!(!s.apply(RecordId::new(5)));
    }
}
