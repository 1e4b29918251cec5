//! The leader's producer state: the idempotence window per producer id, the
//! transactions not yet stable, and (for read_committed fetches) which
//! transactional records belong to aborted transactions.

use crate::model::broker::entries::Entries;
use crate::model::broker::log::{BatchHeader, NO_HEADER};
use crate::model::ids::{IdVec, MarkerId, PartitionId, ProducerEpoch};
use crate::model::txn::Marker;
use crate::world::World;

/// How many of a producer's latest batches a partition remembers to detect
/// retried duplicates (Kafka's ProducerStateEntry keeps 5).
pub const DEDUP_BATCHES: usize = 5;

/// The leader's idempotence state for one producer id (Kafka's ProducerStateEntry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerState {
    pub pid: u64,
    pub epoch: ProducerEpoch,
    /// (first sequence, last sequence, first offset) of the latest batches, oldest first.
    pub batches: [(u32, u32, u64); DEDUP_BATCHES],
    pub len: u8,
}

/// The idempotence state of `pid` among a partition's, created at `epoch` if new.
pub(crate) fn state_of(states: &mut Vec<ProducerState>, pid: u64, epoch: ProducerEpoch) -> &mut ProducerState {
    let i = match states.iter().position(|s| s.pid == pid) {
        Some(i) => i,
        None => {
            states.push(ProducerState::new(pid, epoch));
            states.len() - 1
        }
    };
    &mut states[i]
}

impl ProducerState {
    pub fn new(pid: u64, epoch: ProducerEpoch) -> ProducerState {
        ProducerState { pid, epoch, batches: [(0, 0, 0); DEDUP_BATCHES], len: 0 }
    }
    /// The last sequence appended in this epoch, if any.
    pub fn last_seq(&self) -> Option<u32> {
        (self.len > 0).then(|| self.batches[self.len as usize - 1].1)
    }
    /// A batch identical to one of the remembered ones: its first offset.
    pub fn duplicate_of(&self, first: u32, last: u32) -> Option<u64> {
        self.batches[..self.len as usize].iter().find(|b| b.0 == first && b.1 == last).map(|b| b.2)
    }
    pub fn push(&mut self, first: u32, last: u32, offset: u64) {
        if self.len as usize == DEDUP_BATCHES {
            self.batches.copy_within(1.., 0);
            self.len -= 1;
        }
        self.batches[self.len as usize] = (first, last, offset);
        self.len += 1;
    }
    /// A newer epoch starts again from sequence 0.
    pub fn bump(&mut self, epoch: ProducerEpoch) {
        if epoch > self.epoch {
            self.epoch = epoch;
            self.len = 0;
        }
    }
}

/// A transaction with records in this partition that is not yet stable: no
/// marker, or a marker not yet below the high watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenTxn {
    pub pid: u64,
    pub first: u64,
    pub marker: Option<u64>,
}

/// Decides, for a fetch, whether transactional records belong to aborted
/// transactions: the first marker of the record's producer after it in the
/// log says. Remembers the last few markers found, so a fetch scans ahead
/// about once per transaction rather than once per record.
#[derive(Default)]
pub struct TxnFates {
    /// (producer id, marker offset, aborted) of recently found markers.
    seen: [(u64, u64, bool); 4],
    len: usize,
    next: usize,
}

impl TxnFates {
    /// Whether `record`, at `offset` of `log`, was written by a transaction
    /// that aborted. A record whose marker is not in the log yet counts as
    /// not aborted (read_committed never reads that far: the LSO stops it).
    pub fn aborted(
        &mut self,
        log: &Entries,
        offset: u64,
        headers: &[BatchHeader],
        markers: &IdVec<MarkerId, Marker>,
    ) -> bool {
        let e = log.at(offset);
        if e.is_control() || e.header == NO_HEADER {
            return false;
        }
        let BatchHeader { pid, txn: true, .. } = headers[e.header as usize] else {
            return false;
        };
        if let Some(&(_, _, aborted)) = self.seen[..self.len].iter().find(|s| s.0 == pid && s.1 > offset) {
            return aborted;
        }
        for (o, e) in (offset + 1..log.len()).zip(log.range(offset + 1, log.len())) {
            if e.is_control() && markers[e.marker()].pid == pid {
                let aborted = !markers[e.marker()].commit;
                self.seen[self.next] = (pid, o, aborted);
                self.next = (self.next + 1) % self.seen.len();
                self.len = (self.len + 1).min(self.seen.len());
                return aborted;
            }
        }
        false
    }
}

impl World {
    /// A new leader rebuilds its producer state (the idempotence window and
    /// the open transactions) from its log, as Kafka does from the batch
    /// headers and control records it stores.
    pub(super) fn rebuild_producer_state(&mut self, partition: PartitionId) {
        let part = &mut self.partitions[partition];
        part.producer_states.clear();
        part.open_txns.clear();
        let Some(l) = part.leader else { return };
        for (o, e) in part.replicas[l].log.iter().enumerate() {
            let o = o as u64;
            let (pid, epoch, txn) = if e.is_control() {
                let m = self.markers[e.marker()];
                (m.pid, m.epoch, true)
            } else if e.header == NO_HEADER {
                continue;
            } else {
                let h = part.headers[e.header as usize];
                (h.pid, h.epoch, h.txn)
            };
            let state = state_of(&mut part.producer_states, pid, epoch);
            state.bump(epoch);
            if e.is_control() {
                if let Some(t) = part.open_txns.iter_mut().find(|t| t.pid == pid && t.marker.is_none()) {
                    t.marker = Some(o);
                }
                continue;
            }
            if e.batch_start || state.len == 0 {
                state.push(e.seq, e.seq, o);
            } else {
                state.batches[state.len as usize - 1].1 = e.seq;
            }
            if txn && !part.open_txns.iter().any(|t| t.pid == pid && t.marker.is_none()) {
                part.open_txns.push(OpenTxn { pid, first: o, marker: None });
            }
        }
        let hw = part.replicas[l].hw;
        part.open_txns.retain(|t| t.marker.is_none_or(|m| m >= hw));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotence_window_holds_the_last_five_batches() {
        let e = ProducerEpoch::new;
        let mut s = ProducerState::new(7, e(0));
        assert_eq!(s.last_seq(), None);
        for i in 0..7u32 {
            s.push(i * 10, i * 10 + 9, i as u64 * 100);
        }
        assert_eq!(s.len as usize, DEDUP_BATCHES);
        assert_eq!(s.last_seq(), Some(69));
        // The last five batches (20..69) are recognised as duplicates, with their offsets.
        assert_eq!(s.duplicate_of(20, 29), Some(200));
        assert_eq!(s.duplicate_of(60, 69), Some(600));
        // Older ones are not remembered; a batch must match exactly.
        assert_eq!(s.duplicate_of(10, 19), None);
        assert_eq!(s.duplicate_of(20, 25), None);
        // A newer epoch starts afresh; an older one changes nothing.
        s.bump(e(0));
        assert_eq!(s.len as usize, DEDUP_BATCHES);
        s.bump(e(1));
        assert_eq!((s.epoch, s.len, s.last_seq()), (e(1), 0, None));
    }
}
