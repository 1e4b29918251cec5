//! Which records of a final log belong to aborted transactions, judged from
//! the `marker` facts alone.
//!
//! The broker decides the same thing for read_committed fetches
//! (`model::broker::TxnFates`, from the batch headers in its log). This is a
//! second implementation by design: it shares no code or state with the
//! model, so a bug there shows up as a difference in the counts instead of
//! moving the model and its verdict together.

use std::collections::BTreeMap;

use crate::model::broker::LogEntry;

/// The markers written to one partition, from facts: offset → (transactional
/// id, committed). A later fact at the same offset (written after a
/// truncation) replaces the earlier one.
#[derive(Debug, Default)]
pub struct PartitionMarkers {
    at: BTreeMap<u64, (u32, bool)>,
}

impl PartitionMarkers {
    pub fn note(&mut self, offset: u64, txn: u32, commit: bool) {
        self.at.insert(offset, (txn, commit));
    }

    /// Whether the record at `offset` of `log`, written under transactional
    /// id `txn`, was aborted: the first marker of `txn` after it that the log
    /// still holds says so. No marker yet: not aborted (still open).
    pub fn aborted(&self, log: &[LogEntry], offset: u64, txn: u32) -> bool {
        use std::ops::Bound::{Excluded, Unbounded};
        for (&o, &(t, commit)) in self.at.range((Excluded(offset), Unbounded)) {
            let still_there = log.get(o as usize).is_some_and(|e| e.is_control());
            if t == txn && still_there {
                return !commit;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::broker::{CONTROL, NO_HEADER};
    use crate::model::producer::NO_SEQ;

    fn entry(record: u32) -> LogEntry {
        LogEntry { record, epoch: Default::default(), header: NO_HEADER, seq: NO_SEQ, batch_start: true }
    }

    #[test]
    fn the_first_marker_of_the_same_transactional_id_decides() {
        let log = vec![entry(0), entry(1), entry(CONTROL), entry(CONTROL | 1)];
        let mut m = PartitionMarkers::default();
        m.note(2, 7, true); // another transactional id's commit
        m.note(3, 5, false); // ours aborts
        assert!(m.aborted(&log, 0, 5));
        assert!(!m.aborted(&log, 0, 7));
        assert!(!m.aborted(&log, 3, 5), "nothing after the last marker: still open");
    }

    #[test]
    fn a_truncated_marker_does_not_count() {
        let log = vec![entry(0), entry(1)];
        let mut m = PartitionMarkers::default();
        m.note(1, 5, false); // written, then truncated away and replaced by a record
        assert!(!m.aborted(&log, 0, 5));
    }
}
