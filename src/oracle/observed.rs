//! What the oracle rebuilds from facts beyond each record's life: every
//! replica's log (see `shadow`), each group's committed offsets, which
//! producers are alive, and each consumer's successive fetches (for
//! Jepsen's poll-skip and nonmonotonic-poll checks).

use std::collections::BTreeMap;

use crate::oracle::fact::{Entity, Fact};
use crate::oracle::shadow::{ShadowPartition, CONTROL};
use crate::oracle::shape::Shape;

/// A consumer's last fetch of a partition, and whether a seek came since.
#[derive(Clone, Copy, Debug, Default)]
struct FetchTrack {
    /// End of the last fetched range.
    to: u64,
    /// A position was set (assign, reset, committed offset) since that fetch.
    moved: bool,
}

#[derive(Debug, Default)]
pub struct Observed {
    pub shape: Shape,
    pub partitions: Vec<ShadowPartition>,
    /// Every marker written: (transactional id, committed); shadow log
    /// entries `CONTROL | i` point here.
    pub markers: Vec<(u32, bool)>,
    /// Per group, per partition of its topic: the committed offset.
    pub committed: Vec<Vec<Option<u64>>>,
    /// Per group, per partition: a member found no committed offset and
    /// `auto.offset.reset=none` (NoOffsetForPartitionException).
    pub no_offset: Vec<Vec<bool>>,
    /// Per producer: alive now, and when it last crashed (µs).
    pub producer_up: Vec<bool>,
    pub producer_crashed_us: Vec<Option<u64>>,
    fetches: BTreeMap<(u32, u32), FetchTrack>,
    pub poll_skips: u64,
    pub nonmonotonic_polls: u64,
    /// (consumer, partition, offset, fetch end) of each poll skip / nonmonotonic poll, for `explain`.
    pub poll_anomalies: Vec<(u32, u32, u64, u64, bool)>,
    /// Per group: (record, offset) of every record a read_committed group processed.
    pub rc_processed: Vec<Vec<(u32, u64)>>,
}

impl Observed {
    pub fn new(shape: Shape) -> Observed {
        let committed = shape.groups.iter().map(|g| vec![None; g.partitions as usize]).collect();
        let no_offset = shape.groups.iter().map(|g| vec![false; g.partitions as usize]).collect();
        Observed {
            partitions: shape.partitions.iter().map(|p| ShadowPartition::new(&p.replicas)).collect(),
            committed,
            no_offset,
            producer_up: vec![true; shape.producers.len()],
            producer_crashed_us: vec![None; shape.producers.len()],
            rc_processed: vec![Vec::new(); shape.groups.len()],
            shape,
            ..Default::default()
        }
    }

    /// The group of consumer `c` and partition `partition`'s index in its topic.
    fn local(&self, c: u32, partition: u32) -> (usize, usize) {
        let g = self.shape.consumers[c as usize].group as usize;
        (g, (partition - self.shape.groups[g].first_partition) as usize)
    }

    #[inline]
    pub fn observe(&mut self, at_us: u64, fact: &Fact) {
        match *fact {
            Fact::Append { record, partition, offset, broker } => {
                self.partitions[partition.index()].append(broker.raw(), offset, record.raw())
            }
            Fact::Marker { partition, offset, commit, txn } => {
                let entry = CONTROL | self.markers.len() as u32;
                self.markers.push((txn.raw(), commit));
                self.partitions[partition.index()].append_at_leader(offset, entry);
            }
            Fact::Replicate { broker, partition, log_end, source } => {
                self.partitions[partition.index()].replicate(broker.raw(), source.raw(), log_end)
            }
            Fact::Truncate { broker, partition, offset } => {
                self.partitions[partition.index()].truncate(broker.raw(), offset)
            }
            Fact::Elect { partition, leader, .. } => {
                self.partitions[partition.index()].leader = leader.map(|b| b.raw())
            }
            Fact::Commit { consumer, partition, offset, .. } => {
                let (g, p) = self.local(consumer.raw(), partition.raw());
                self.committed[g][p] = Some(offset);
            }
            Fact::NoOffset { consumer, partition } => {
                let (g, p) = self.local(consumer.raw(), partition.raw());
                self.no_offset[g][p] = true;
            }
            Fact::Crash(Entity::Producer(p)) => {
                self.producer_up[p.index()] = false;
                self.producer_crashed_us[p.index()] = Some(at_us);
            }
            Fact::Restart(Entity::Producer(p)) => self.producer_up[p.index()] = true,
            Fact::Fetch { consumer, partition, from, to } => self.fetched(consumer.raw(), partition.raw(), from, to),
            Fact::Process { record, group, offset, .. } if self.shape.groups[group.index()].read_committed => {
                self.rc_processed[group.index()].push((record.raw(), offset));
            }
            Fact::Position { consumer, partition, .. }
            | Fact::Assign { consumer, partition, .. }
            | Fact::Revoke { consumer, partition, .. } => {
                self.fetches.entry((consumer.raw(), partition.raw())).or_default().moved = true;
            }
            Fact::Crash(Entity::Consumer(c)) | Fact::Restart(Entity::Consumer(c)) => {
                for (_, t) in self.fetches.range_mut((c.raw(), 0)..(c.raw(), u32::MAX)) {
                    t.moved = true;
                }
            }
            _ => {}
        }
    }

    /// Every group's partitions' leader log end minus the committed offset,
    /// summed: what the group has left to read, also what the high watermark
    /// does not show yet (an offline partition counts nothing).
    pub fn log_end_lag(&self) -> u64 {
        let mut lag = 0u64;
        for (g, committed) in self.shape.groups.iter().zip(&self.committed) {
            for (local, c) in committed.iter().enumerate() {
                let p = &self.partitions[g.first_partition as usize + local];
                let end = p.leader_log().map_or(0, |l| l.len() as u64);
                lag += end.saturating_sub(c.unwrap_or(0));
            }
        }
        lag
    }

    /// Jepsen's poll-skip and nonmonotonic-poll: successive fetches of one
    /// partition by one consumer must continue where the last one ended,
    /// unless its position was set in between.
    fn fetched(&mut self, consumer: u32, partition: u32, from: u64, to: u64) {
        let t = self.fetches.entry((consumer, partition)).or_insert(FetchTrack { to: from, moved: true });
        if !t.moved && from != t.to {
            let skip = from > t.to;
            if skip {
                self.poll_skips += 1;
            } else {
                self.nonmonotonic_polls += 1;
            }
            self.poll_anomalies.push((consumer, partition, t.to, from, skip));
        }
        *t = FetchTrack { to, moved: false };
    }
}
