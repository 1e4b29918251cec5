//! How a replica's log is stored: each entry's record id, and runs of
//! entries that share everything else.
//!
//! A produce batch is written at one instant, under one leader epoch and one
//! producer identity, with consecutive sequence numbers, and a follower copies
//! it whole. Kept per entry, those fields cost 28 bytes an entry, 84 a record
//! at replication factor 3; kept once per run they cost 4 bytes an entry and
//! 24 a batch. Every entry reads back exactly as it was appended: a run ends
//! wherever the next entry is not its predecessor's continuation.

use crate::kernel::time::Instant;
use crate::model::broker::log::LogEntry;
use crate::model::ids::LeaderEpoch;
use crate::model::producer::NO_SEQ;

/// Entries `start..` up to the next run's start: what they share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// Offset of the run's first entry.
    start: u32,
    epoch: LeaderEpoch,
    header: u32,
    /// The first entry's sequence number (each next one is one more), or
    /// `NO_SEQ` for every entry of the run.
    seq: u32,
    /// The first entry begins a produce batch (no later entry of the run does).
    batch_start: bool,
    /// When the run reached the broker's page cache.
    appended_at: Instant,
}

impl Run {
    /// The entry at `offset` inside this run.
    fn entry(&self, record: u32, offset: u64) -> LogEntry {
        let d = (offset - self.start as u64) as u32;
        let seq = if self.seq == NO_SEQ { NO_SEQ } else { self.seq.wrapping_add(d) };
        LogEntry { record, epoch: self.epoch, header: self.header, seq, batch_start: self.batch_start && d == 0 }
    }

    /// Whether `e`, appended at `at` right after the run's `len` entries, reads back exactly from it.
    fn continues(&self, len: u64, e: &LogEntry, at: Instant) -> bool {
        let d = (len - self.start as u64) as u32;
        let seq = if self.seq == NO_SEQ { NO_SEQ } else { self.seq.wrapping_add(d) };
        !e.batch_start && e.epoch == self.epoch && e.header == self.header && e.seq == seq && at == self.appended_at
    }
}

/// A replica's log entries, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    records: Vec<u32>,
    /// Ascending by `start`; the first starts at 0 when the log is not empty.
    runs: Vec<Run>,
}

impl Entries {
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each entry's `record` field (a record id or `CONTROL | marker`), in offset order.
    pub fn records(&self) -> &[u32] {
        &self.records
    }

    /// The index of the run holding `offset`. Reads cluster at the log end
    /// (the high watermark, the last fetched entry), so the last runs are
    /// tried before a binary search.
    #[inline]
    fn run_of(&self, offset: u64) -> usize {
        let n = self.runs.len();
        if self.runs[n - 1].start as u64 <= offset {
            return n - 1;
        }
        for i in (n.saturating_sub(4)..n - 1).rev() {
            if self.runs[i].start as u64 <= offset {
                return i;
            }
        }
        self.runs.partition_point(|r| r.start as u64 <= offset) - 1
    }

    /// The leader epoch of the entry at `offset` (a follower's log matching
    /// reads only this, so the entry is not rebuilt).
    pub fn epoch_at(&self, offset: u64) -> LeaderEpoch {
        assert!(offset < self.len(), "offset {offset} past the log end {}", self.len());
        self.runs[self.run_of(offset)].epoch
    }

    /// Each epoch among the entries `from..to`, with the first offset it has there.
    pub fn epochs_in(&self, from: u64, to: u64) -> impl Iterator<Item = (LeaderEpoch, u64)> + '_ {
        assert!(to <= self.len(), "epochs of {from}..{to} past the log end {}", self.len());
        let first = if from < to { self.run_of(from) } else { self.runs.len() };
        self.runs[first..]
            .iter()
            .take_while(move |r| (r.start as u64) < to)
            .map(move |r| (r.epoch, (r.start as u64).max(from)))
    }

    /// Appends `src`'s entries `from..to`, which reach the page cache at `at`,
    /// exactly as pushing each would: inside one of `src`'s runs every entry
    /// continues the one before, so only a run's first entry needs `push`'s
    /// check and the rest are record ids copied whole (a follower's fetch).
    pub fn extend_from(&mut self, src: &Entries, from: u64, to: u64, at: Instant) {
        assert!(to <= src.len(), "copy {from}..{to} past the source's end {}", src.len());
        let mut o = from;
        while o < to {
            let i = src.run_of(o);
            let end = src.runs.get(i + 1).map_or(src.len(), |r| r.start as u64).min(to);
            self.push(src.runs[i].entry(src.records[o as usize], o), at);
            self.records.extend_from_slice(&src.records[o as usize + 1..end as usize]);
            o = end;
        }
        assert!(self.len() < u32::MAX as u64, "a log holds fewer than 2^32 entries");
    }

    /// The entry at `offset`; panics past the end, as indexing does.
    pub fn at(&self, offset: u64) -> LogEntry {
        let record = self.records[offset as usize];
        self.runs[self.run_of(offset)].entry(record, offset)
    }

    pub fn get(&self, offset: u64) -> Option<LogEntry> {
        (offset < self.len()).then(|| self.at(offset))
    }

    pub fn last(&self) -> Option<LogEntry> {
        let len = self.len();
        (len > 0).then(|| {
            self.runs.last().expect("a non-empty log has a run").entry(self.records[len as usize - 1], len - 1)
        })
    }

    /// The entries `from..to`, in order, one run lookup for the lot.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = LogEntry> + '_ {
        assert!(to <= self.len(), "range {from}..{to} past the log end {}", self.len());
        let mut run = if from < to { self.run_of(from) } else { 0 };
        (from..to).map(move |o| {
            while self.runs.get(run + 1).is_some_and(|r| r.start as u64 <= o) {
                run += 1;
            }
            self.runs[run].entry(self.records[o as usize], o)
        })
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = LogEntry> + '_ {
        self.range(0, self.len())
    }

    /// Appends `e`, which reached the page cache at `at`.
    pub fn push(&mut self, e: LogEntry, at: Instant) {
        let len = self.len();
        assert!(len < u32::MAX as u64, "a log holds fewer than 2^32 entries");
        if self.runs.last().is_none_or(|r| !r.continues(len, &e, at)) {
            debug_assert!(self.runs.last().is_none_or(|r| r.appended_at <= at), "page-cache times never go back");
            let LogEntry { epoch, header, seq, batch_start, .. } = e;
            self.runs.push(Run { start: len as u32, epoch, header, seq, batch_start, appended_at: at });
        }
        self.records.push(e.record);
    }

    /// Drops every entry from `to` on.
    pub fn truncate(&mut self, to: u64) {
        if to >= self.len() {
            return;
        }
        self.records.truncate(to as usize);
        while self.runs.last().is_some_and(|r| r.start as u64 >= to) {
            self.runs.pop();
        }
    }

    /// How many leading entries reached the page cache at or before `cutoff`
    /// (append times never decrease along the log).
    pub fn appended_by(&self, cutoff: Instant) -> u64 {
        let i = self.runs.partition_point(|r| r.appended_at <= cutoff);
        self.runs.get(i).map_or(self.len(), |r| r.start as u64)
    }

    /// Runs kept (the tests check where runs split).
    #[cfg(test)]
    fn run_count(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::time::Duration;
    use crate::model::broker::log::{CONTROL, NO_HEADER};

    fn e(record: u32, epoch: u32, header: u32, seq: u32, batch_start: bool) -> LogEntry {
        LogEntry { record, epoch: LeaderEpoch::new(epoch), header, seq, batch_start }
    }

    fn ms(n: u64) -> Instant {
        Instant::ZERO.add(Duration::from_ms(n))
    }

    /// Batches, a follower's partial copy, a marker, no-idempotence entries,
    /// an epoch change and a time change: each reads back as appended.
    fn sample() -> Vec<(LogEntry, Instant)> {
        vec![
            (e(0, 0, 0, 0, true), ms(1)),
            (e(2, 0, 0, 1, false), ms(1)),
            (e(5, 0, 0, 2, false), ms(1)),
            (e(6, 0, 0, 3, false), ms(2)),
            (e(7, 0, 0, 9, false), ms(2)),
            (e(CONTROL | 3, 0, NO_HEADER, NO_SEQ, true), ms(2)),
            (e(8, 0, NO_HEADER, NO_SEQ, true), ms(3)),
            (e(9, 0, NO_HEADER, NO_SEQ, false), ms(3)),
            (e(10, 1, NO_HEADER, NO_SEQ, false), ms(3)),
            (e(11, 1, 1, u32::MAX - 1, true), ms(3)),
            (e(12, 1, 1, u32::MAX, false), ms(3)),
        ]
    }

    /// A follower's bulk copy of any slice of a leader's log equals pushing each
    /// entry: the same entries and the same runs, whatever the follower held before.
    #[test]
    fn extend_from_equals_pushing_each_entry() {
        let mut leader = Entries::default();
        for &(x, at) in &sample() {
            leader.push(x, at);
        }
        let n = leader.len();
        for held in 0..n {
            for to in held..=n {
                let (mut one, mut bulk) = (Entries::default(), Entries::default());
                for o in 0..held {
                    one.push(leader.at(o), ms(1));
                    bulk.push(leader.at(o), ms(1));
                }
                for e in leader.range(held, to) {
                    one.push(e, ms(4));
                }
                bulk.extend_from(&leader, held, to, ms(4));
                assert_eq!(bulk.iter().collect::<Vec<_>>(), one.iter().collect::<Vec<_>>(), "{held}..{to}");
                assert_eq!(bulk.runs, one.runs, "{held}..{to}");
                // What a follower notes (`Replica::note_epoch`: an epoch past its last) from each
                // run's epoch equals what it notes from each entry's.
                let note = |seen: &mut Vec<(LeaderEpoch, u64)>, (e, o): (LeaderEpoch, u64)| {
                    if seen.last().is_none_or(|&(last, _)| last < e) {
                        seen.push((e, o));
                    }
                };
                let (mut per_run, mut per_entry) = (Vec::new(), Vec::new());
                leader.epochs_in(held, to).for_each(|x| note(&mut per_run, x));
                (held..to).zip(leader.range(held, to)).for_each(|(o, e)| note(&mut per_entry, (e.epoch, o)));
                assert_eq!(per_run, per_entry, "epochs in {held}..{to}");
                for o in held..to {
                    assert_eq!(leader.epoch_at(o), leader.at(o).epoch);
                }
            }
        }
    }

    #[test]
    fn every_entry_reads_back_exactly_as_appended() {
        let mut log = Entries::default();
        for &(x, at) in &sample() {
            log.push(x, at);
        }
        let want: Vec<LogEntry> = sample().iter().map(|s| s.0).collect();
        assert_eq!((0..log.len()).map(|o| log.at(o)).collect::<Vec<_>>(), want);
        assert_eq!(log.iter().collect::<Vec<_>>(), want);
        assert_eq!(log.range(3, 9).collect::<Vec<_>>(), want[3..9]);
        assert_eq!(log.last(), Some(want[10]));
        assert_eq!(log.get(11), None);
        // Runs: [0..3), [3] time, [4] seq gap, [5] marker, [6..8), [8] epoch, [9..11) (its next
        // sequence number is u32::MAX, which reads back as it was written).
        assert_eq!(log.run_count(), 7, "runs split exactly where a field stops continuing");
    }

    #[test]
    fn truncation_and_page_cache_times_follow_the_entries() {
        let mut log = Entries::default();
        for &(x, at) in &sample() {
            log.push(x, at);
        }
        assert_eq!(log.appended_by(ms(0)), 0);
        assert_eq!(log.appended_by(ms(1)), 3);
        assert_eq!(log.appended_by(ms(2)), 6);
        assert_eq!(log.appended_by(ms(9)), 11);
        log.truncate(4);
        assert_eq!(log.len(), 4);
        assert_eq!(log.iter().collect::<Vec<_>>(), sample()[..4].iter().map(|s| s.0).collect::<Vec<_>>());
        assert_eq!(log.appended_by(ms(9)), 4);
        // The run cut in the middle continues where it was cut.
        log.push(e(7, 0, 0, 4, false), ms(2));
        assert_eq!(log.at(4), e(7, 0, 0, 4, false));
        assert_eq!(log.run_count(), 2);
        log.truncate(0);
        assert!(log.is_empty());
        assert_eq!(log.run_count(), 0);
    }
}
