//! A replica's log: entries stamped with their leader epoch, the epoch cache
//! that finds where two logs diverge, and the batch headers that say who
//! wrote what.

use crate::kernel::time::Instant;
use crate::model::broker::entries::Entries;
use crate::model::ids::{BrokerId, LeaderEpoch, MarkerId, ProducerEpoch, RecordId};

/// A log entry whose `record` has this bit set is a transaction's control
/// marker (commit or abort); the rest is an index into `World::markers`.
/// Markers take offsets like records but no consumer ever returns them.
pub const CONTROL: u32 = 1 << 31;

/// One entry in a replica's log, stamped with the leader epoch it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// A record id, or `CONTROL | marker`.
    pub record: u32,
    pub epoch: LeaderEpoch,
    /// The batch header's producer identity: an index into the partition's
    /// `headers`, or `NO_HEADER` for a record sent without idempotence.
    pub header: u32,
    /// The record's sequence number (the batch's base sequence plus its
    /// place in the batch), or `NO_SEQ`.
    pub seq: u32,
    /// First entry of a produce batch (the batch header Kafka keeps in the
    /// log): a new leader rebuilds the idempotence window from these.
    pub batch_start: bool,
}

/// A log entry without a producer identity (no idempotence, or a marker).
pub const NO_HEADER: u32 = u32::MAX;

/// The producer identity a batch header carries, as Kafka's RecordBatch
/// does: the log, not anybody's memory, tells a new leader who wrote what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub pid: u64,
    /// Producer epoch.
    pub epoch: ProducerEpoch,
    /// Written inside a transaction.
    pub txn: bool,
}

impl LogEntry {
    pub fn is_control(&self) -> bool {
        self.record & CONTROL != 0
    }
    /// The marker index of a control entry.
    pub fn marker(&self) -> MarkerId {
        debug_assert!(self.is_control());
        MarkerId::new(self.record & !CONTROL)
    }
    /// The record of a data entry.
    pub fn record_id(&self) -> RecordId {
        debug_assert!(!self.is_control());
        RecordId::new(self.record)
    }
}

/// One replica of a partition, on one broker.
#[derive(Clone, Debug)]
pub struct Replica {
    pub broker: BrokerId,
    /// The entries, with when each reached this broker's page cache
    /// (nondecreasing: a truncation drops the tail before anything newer is
    /// appended; the page cache model reads it on power loss).
    pub log: Entries,
    /// This replica's high watermark (the leader's is authoritative).
    pub hw: u64,
    /// Leader epoch cache: (epoch, start offset), ascending.
    pub epochs: Vec<(LeaderEpoch, u64)>,
    /// Current follower fetch loop; a new loop bumps it so stale replies are ignored.
    pub fetch_token: u32,
    /// The leader's view of this follower: its log end offset as of its last fetch.
    pub leo_seen: u64,
    pub last_caught_up: Instant,
    pub last_fetch_leader_leo: u64,
    pub last_fetch_at: Instant,
    /// Offset below which an explicit fsync (`log.flush.interval.messages`)
    /// made the log durable: Kafka's recovery point.
    pub fsynced: u64,
}

impl Replica {
    /// An empty replica on `broker`.
    pub fn new(broker: BrokerId) -> Replica {
        Replica {
            broker,
            log: Entries::default(),
            hw: 0,
            epochs: vec![(LeaderEpoch::new(0), 0)],
            fetch_token: 0,
            leo_seen: 0,
            last_caught_up: Instant::ZERO,
            last_fetch_leader_leo: 0,
            last_fetch_at: Instant::ZERO,
            fsynced: 0,
        }
    }
    pub fn leo(&self) -> u64 {
        self.log.len()
    }
    pub fn last_epoch(&self) -> LeaderEpoch {
        self.log.last().map_or(LeaderEpoch::new(0), |e| e.epoch)
    }
    /// The epoch of the entry just below `end` (0 for an empty range).
    pub fn epoch_before(&self, end: u64) -> LeaderEpoch {
        if end > 0 {
            self.log.epoch_at(end - 1)
        } else {
            LeaderEpoch::new(0)
        }
    }
    /// Log matching: whether this log still holds `[from, to)` as a reply
    /// whose last entry had `last_entry_epoch` saw it (same offset and epoch
    /// at the end means the same entries before it).
    pub fn holds(&self, from: u64, to: u64, last_entry_epoch: LeaderEpoch) -> bool {
        self.leo() >= to && (to == from || self.log.epoch_at(to - 1) == last_entry_epoch)
    }
    /// Kafka's `endOffsetForEpoch`: the end of the largest epoch <= `epoch` in this log.
    pub fn end_offset_for_epoch(&self, epoch: LeaderEpoch) -> u64 {
        // The follower's last epoch is nearly always the leader's latest: its end is the log's.
        if self.epochs.last().is_some_and(|&(e, _)| e <= epoch) {
            return self.leo();
        }
        let mut end = None;
        for (i, &(e, _)) in self.epochs.iter().enumerate() {
            if e <= epoch {
                end = Some(self.epochs.get(i + 1).map_or(self.leo(), |&(_, start)| start));
            }
        }
        end.unwrap_or(0)
    }
    /// Appends `e` to the page cache at `now`; with `log.flush.interval.messages`
    /// = `flush_every`, fsyncs once that many are unflushed (`UnifiedLog.append`).
    pub(crate) fn append(&mut self, e: LogEntry, now: Instant, flush_every: u64) {
        self.log.push(e, now);
        if self.leo() - self.fsynced >= flush_every {
            self.fsynced = self.leo();
        }
    }
    /// Copies the leader's entries `from..to` as `append` of each would, with
    /// the same fsyncs: `leo - fsynced` stays below `flush_every` after every
    /// append, so the last fsync of the copy lands a whole number of
    /// `flush_every` past the one before it.
    pub(crate) fn append_from(&mut self, src: &Entries, from: u64, to: u64, now: Instant, flush_every: u64) {
        // 0 fsyncs at every append, as 1 does.
        let every = flush_every.max(1);
        debug_assert!(self.leo() - self.fsynced < every, "fsync is never overdue between appends");
        self.log.extend_from(src, from, to, now);
        let unflushed = self.leo() - self.fsynced;
        self.fsynced += unflushed - unflushed % every;
    }
    pub(crate) fn truncate(&mut self, to: u64) {
        self.log.truncate(to);
        self.fsynced = self.fsynced.min(to);
        self.hw = self.hw.min(to);
        while self.epochs.last().is_some_and(|&(_, start)| start >= to && start > 0) {
            self.epochs.pop();
        }
    }
    pub(crate) fn note_epoch(&mut self, epoch: LeaderEpoch, offset: u64) {
        if self.epochs.last().is_none_or(|&(e, _)| e < epoch) {
            self.epochs.push((epoch, offset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::producer::NO_SEQ;

    fn replica(entries: &[(u32, u32)], epochs: &[(u32, u64)]) -> Replica {
        let mut r = Replica::new(BrokerId::new(0));
        for &(record, epoch) in entries {
            let e =
                LogEntry { record, epoch: LeaderEpoch::new(epoch), header: NO_HEADER, seq: NO_SEQ, batch_start: true };
            r.log.push(e, Instant::ZERO);
        }
        r.epochs = epochs.iter().map(|&(e, o)| (LeaderEpoch::new(e), o)).collect();
        r
    }

    /// `UnifiedLog.append` checks `log.flush.interval.messages` after each append; a
    /// follower's bulk copy must fsync at the same offsets as appending entry by entry.
    #[test]
    fn append_from_fsyncs_as_appending_each_entry_does() {
        let leader = replica(&(0..40).map(|i| (i, 0)).collect::<Vec<_>>(), &[(0, 0)]);
        for flush_every in [0, 1, 3, 7, 40, u64::MAX] {
            for held in [0, 2, 5, 13] {
                for n in [0, 1, 6, 20, 27] {
                    let (mut one, mut bulk) = (Replica::new(BrokerId::new(1)), Replica::new(BrokerId::new(1)));
                    for r in [&mut one, &mut bulk] {
                        for e in leader.log.range(0, held) {
                            r.append(e, Instant::ZERO, flush_every);
                        }
                    }
                    for e in leader.log.range(held, held + n) {
                        one.append(e, Instant::ZERO, flush_every);
                    }
                    bulk.append_from(&leader.log, held, held + n, Instant::ZERO, flush_every);
                    assert_eq!((bulk.leo(), bulk.fsynced), (one.leo(), one.fsynced), "every {flush_every}, {held}+{n}");
                    assert_eq!(bulk.log.iter().collect::<Vec<_>>(), one.log.iter().collect::<Vec<_>>());
                }
            }
        }
    }

    #[test]
    fn end_offset_for_epoch_follows_the_epoch_cache() {
        // epoch 0 wrote offsets 0..3, epoch 2 wrote 3..5
        let r = replica(&[(1, 0), (2, 0), (3, 0), (4, 2), (5, 2)], &[(0, 0), (2, 3)]);
        let e = LeaderEpoch::new;
        assert_eq!(r.end_offset_for_epoch(e(0)), 3);
        assert_eq!(r.end_offset_for_epoch(e(1)), 3, "epoch 1 never wrote: end of the largest epoch below");
        assert_eq!(r.end_offset_for_epoch(e(2)), 5);
        assert_eq!(r.end_offset_for_epoch(e(9)), 5);
    }

    #[test]
    fn truncation_drops_the_tail_and_its_epochs() {
        let mut r = replica(&[(1, 0), (2, 0), (3, 1), (4, 1)], &[(0, 0), (1, 2)]);
        r.hw = 4;
        r.truncate(2);
        assert_eq!(r.leo(), 2);
        assert_eq!(r.hw, 2);
        assert_eq!(r.epochs, vec![(LeaderEpoch::new(0), 0)]);
        assert_eq!(r.last_epoch(), LeaderEpoch::new(0));
    }
}
