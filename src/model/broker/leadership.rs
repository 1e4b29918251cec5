//! Which partitions each broker leads, kept as the elections change it, so
//! that the sender's drain for one broker and a follower's fetch to one
//! leader touch only that broker's partitions (Kafka's clients and brokers
//! read the same from their metadata cache: `Cluster.partitionsForNode`,
//! `ReplicaManager`'s leader partitions) instead of scanning every partition.

use crate::model::broker::Partition;
use crate::model::ids::{BrokerId, IdVec, PartitionId, ReplicaId};
use crate::world::World;

/// Per broker, the partitions it leads, in ascending partition order (the
/// order a scan over every partition would visit them in).
#[derive(Clone, Debug, Default)]
pub struct Leadership {
    led: IdVec<BrokerId, Vec<PartitionId>>,
}

impl Leadership {
    /// The lists for the partitions' leaders at the start of the run.
    pub fn new(brokers: usize, partitions: &IdVec<PartitionId, Partition>) -> Leadership {
        let mut led = IdVec::filled(Vec::new(), brokers);
        for (partition, part) in partitions.iter_enumerated() {
            if let Some(b) = part.leader_broker() {
                led[b].push(partition);
            }
        }
        Leadership { led }
    }

    /// The partitions broker `b` leads, ascending.
    pub fn led_by(&self, b: BrokerId) -> &[PartitionId] {
        &self.led[b]
    }

    /// The partitions broker `b` leads within `[first, first + n)`, ascending.
    pub fn led_within(&self, b: BrokerId, first: PartitionId, n: u32) -> &[PartitionId] {
        let list = &self.led[b];
        let end = PartitionId::new(first.raw() + n);
        let lo = list.partition_point(|&q| q < first);
        let hi = list.partition_point(|&q| q < end);
        &list[lo..hi]
    }

    fn remove(&mut self, b: BrokerId, partition: PartitionId) {
        let list = &mut self.led[b];
        if let Ok(i) = list.binary_search(&partition) {
            list.remove(i);
        }
    }

    fn insert(&mut self, b: BrokerId, partition: PartitionId) {
        let list = &mut self.led[b];
        if let Err(i) = list.binary_search(&partition) {
            list.insert(i, partition);
        }
    }
}

impl World {
    /// The one place a partition's leader changes: the lists follow.
    pub(crate) fn set_leader(&mut self, partition: PartitionId, leader: Option<ReplicaId>) {
        let part = &mut self.partitions[partition];
        if let Some(old) = part.leader_broker() {
            self.leadership.remove(old, partition);
        }
        part.leader = leader;
        if let Some(new) = part.leader_broker() {
            self.leadership.insert(new, partition);
        }
    }

    /// Invariant: the lists are exactly the partitions' leaders.
    pub(crate) fn check_leadership(&self) {
        let fresh = Leadership::new(self.brokers.len(), &self.partitions);
        for b in self.brokers.ids() {
            assert_eq!(
                self.leadership.led_by(b),
                fresh.led_by(b),
                "t={}: broker {b}: the partitions it leads are out of date",
                self.now
            );
        }
    }
}
