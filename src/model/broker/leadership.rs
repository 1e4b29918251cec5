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

#[cfg(test)]
mod tests {
    use crate::model::ids::{BrokerId, PartitionId, ReplicaId};
    use crate::world::World;

    fn world() -> World {
        let yaml = "name: t
duration: 1s
brokers: 3
topics:
  - { name: a, partitions: 4, replication.factor: 3 }
  - { name: b, partitions: 5, replication.factor: 2 }
";
        World::new(crate::scenario::load_str(yaml, "t.yaml").expect("loads").scenario)
    }

    /// What a scan over every partition finds broker `b` leading.
    fn scan(w: &World, b: BrokerId) -> Vec<PartitionId> {
        w.partitions.ids().filter(|&q| w.partitions[q].leader_broker() == Some(b)).collect()
    }

    #[test]
    fn the_lists_follow_every_leader_change_in_partition_order() {
        let mut w = world();
        for b in w.brokers.ids() {
            assert_eq!(w.leadership.led_by(b), scan(&w, b));
        }
        let moves = [(0, Some(1)), (7, Some(1)), (2, None), (0, Some(2)), (2, Some(0))];
        for (q, leader) in moves {
            w.set_leader(PartitionId::new(q), leader.map(ReplicaId::new));
            w.check_leadership();
        }
        let b = w.partitions[PartitionId::new(7)].leader_broker().expect("a leader");
        let within = w.leadership.led_within(b, PartitionId::new(4), 5);
        assert!(within.contains(&PartitionId::new(7)));
        let topic_b: Vec<PartitionId> = scan(&w, b).into_iter().filter(|q| (4..9).contains(&q.raw())).collect();
        assert_eq!(within, topic_b);
    }
}
