//! Which copies of records in the final logs a group can read: not control
//! markers and, for a read_committed group, not records of aborted
//! transactions. Judged over the oracle's own logs (rebuilt from facts) and
//! the marker facts.
//!
//! The broker decides the same thing for read_committed fetches
//! (`model::broker::TxnFates`, from the batch headers in its log). This is a
//! second implementation by design: it shares no code or state with the
//! model, so a bug there shows up as a difference in the counts instead of
//! moving the model and its verdict together.

use crate::oracle::ledger::{Ledger, NEVER};
use crate::oracle::observed::Observed;
use crate::oracle::shadow::CONTROL;

/// A copy's transactional fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not written in a transaction, or its transaction committed.
    Readable,
    Aborted,
    /// Its transaction has no marker after it yet.
    Open,
}

/// The fate of every entry of one log: the first marker of the record's
/// transactional id after it decides (a walk from the end, remembering the
/// latest marker seen per transactional id).
pub fn fates(log: &[u32], markers: &[(u32, bool)], txn_of: impl Fn(u32) -> Option<u32>) -> Vec<Fate> {
    let mut out = vec![Fate::Readable; log.len()];
    let mut next: Vec<(u32, bool)> = Vec::new();
    for (o, &e) in log.iter().enumerate().rev() {
        if e & CONTROL != 0 {
            let (txn, commit) = markers[(e & !CONTROL) as usize];
            match next.iter_mut().find(|m| m.0 == txn) {
                Some(m) => m.1 = commit,
                None => next.push((txn, commit)),
            }
            continue;
        }
        if let Some(t) = txn_of(e) {
            out[o] = match next.iter().find(|m| m.0 == t) {
                Some(&(_, true)) => Fate::Readable,
                Some(&(_, false)) => Fate::Aborted,
                None => Fate::Open,
            };
        }
    }
    out
}

/// For one group: where each record can still be read in its partition's
/// final leader log.
pub struct Fates {
    /// Per record id: the highest offset of a copy the group can read, or NEVER.
    best: Vec<u64>,
}

impl Fates {
    pub fn of(l: &Ledger, o: &Observed, g: usize) -> Fates {
        let gs = &o.shape.groups[g];
        let mut best = vec![NEVER; l.len()];
        let txn_of = |r: u32| o.shape.producers[l.producer_of(r) as usize].txn;
        for p in gs.first_partition..gs.first_partition + gs.partitions {
            let Some(log) = o.partitions[p as usize].leader_log() else { continue };
            let fate = if gs.read_committed { fates(log, &o.markers, txn_of) } else { vec![Fate::Readable; log.len()] };
            for (off, &e) in log.iter().enumerate() {
                // An open transaction's records stay readable later, once it ends.
                if e & CONTROL == 0 && fate[off] != Fate::Aborted {
                    best[e as usize] = off as u64;
                }
            }
        }
        Fates { best }
    }

    /// The highest offset of a readable copy of `record`, if any.
    pub fn readable_offset(&self, record: usize) -> Option<u64> {
        (self.best[record] != NEVER).then_some(self.best[record])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_marker_of_the_same_transactional_id_decides() {
        // Records 0 and 1 by txn 5, record 2 by txn 7; then 7 commits, 5 aborts.
        let log = vec![0, 1, 2, CONTROL, CONTROL | 1, 3];
        let markers = [(7, true), (5, false)];
        let txn = |r: u32| match r {
            0 | 1 => Some(5),
            2 => Some(7),
            3 => Some(5),
            _ => None,
        };
        let f = fates(&log, &markers, txn);
        assert_eq!(&f[..3], &[Fate::Aborted, Fate::Aborted, Fate::Readable]);
        assert_eq!(f[5], Fate::Open, "nothing after the last record: its transaction is open");
    }

    #[test]
    fn records_outside_transactions_are_readable() {
        let f = fates(&[0, 1], &[], |_| None);
        assert_eq!(f, vec![Fate::Readable, Fate::Readable]);
    }
}
