//! The controller: fencing silent brokers, leader elections (clean, or
//! unclean when allowed), and brokers taking their place again.

use crate::model::broker::partition::PendingAck;
use crate::model::ids::{BrokerId, PartitionId, ReplicaId};
use crate::oracle::fact::Fact;
use crate::world::event::{FetchError, ProduceError};
use crate::world::World;

impl World {
    /// The controller fences broker `b`: out of every ISR (never emptying one
    /// unless ELR is on: `PartitionChangeBuilder.build` writes an empty ISR only
    /// then), and its partitions get new leaders.
    pub(super) fn fence(&mut self, b: BrokerId) {
        self.brokers[b].fenced = true;
        for partition in self.partitions.ids() {
            let part = &mut self.partitions[partition];
            let Some(r) = part.replica_on(b) else { continue };
            if part.in_isr(r) && (part.isr_size() > 1 || part.elr_enabled) {
                part.isr_remove(r);
                let (mask, hw) = (part.isr_mask_of_brokers(), part.high_watermark());
                self.oracle.emit(self.now, Fact::Isr { partition, isr_brokers: mask, high_watermark: hw });
            }
            if self.partitions[partition].leader == Some(r) {
                self.elect(partition);
            } else {
                // A smaller ISR may let the high watermark move (and complete acks=all).
                self.advance_hw(partition);
            }
        }
    }

    /// Leader election (`PartitionChangeBuilder.electAnyLeader`): the first live
    /// in-sync replica in preference order; with the ISR empty, the first live
    /// eligible leader replica (KIP-966), which then forms the ISR alone; with
    /// `unclean.leader.election.enable`, any live replica; otherwise offline.
    pub(super) fn elect(&mut self, partition: PartitionId) {
        self.release_waiters(partition, ProduceError::NotLeader, FetchError::NotLeader);
        let part = &self.partitions[partition];
        let live = |r: ReplicaId| {
            let b = &self.brokers[part.replicas[r].broker];
            b.up && !b.fenced
        };
        let in_sync = part.replicas.ids().find(|&r| part.in_isr(r) && live(r));
        let eligible = || part.replicas.ids().find(|&r| part.isr == 0 && part.in_elr(r) && live(r));
        let clean = in_sync.or_else(eligible);
        let choice =
            clean.or_else(|| if part.unclean_leader_election { part.replicas.ids().find(|&r| live(r)) } else { None });
        let part = &mut self.partitions[partition];
        part.leader_epoch = part.leader_epoch.next();
        let epoch = part.leader_epoch;
        let Some(r) = choice else {
            self.set_leader(partition, None);
            return self.oracle.emit(self.now, Fact::Elect { partition, leader: None, epoch, unclean: false });
        };
        if in_sync.is_none() {
            // From the ELR (clean) or unclean: the new leader's log is the truth now.
            part.isr_set(1 << r.index());
            if clean.is_some() {
                let (mask, hw) = (part.isr_mask_of_brokers(), part.high_watermark());
                self.oracle.emit(self.now, Fact::Isr { partition, isr_brokers: mask, high_watermark: hw });
            }
        }
        self.set_leader(partition, Some(r));
        let part = &mut self.partitions[partition];
        let leo = part.replicas[r].leo();
        part.replicas[r].note_epoch(epoch, leo);
        let now = self.now;
        for rep in part.replicas.iter_mut() {
            rep.leo_seen = 0;
            rep.last_caught_up = now;
            rep.last_fetch_leader_leo = 0;
            rep.last_fetch_at = now;
        }
        self.rebuild_producer_state(partition);
        let b = self.partitions[partition].replicas[r].broker;
        self.oracle.emit(self.now, Fact::Elect { partition, leader: Some(b), epoch, unclean: clean.is_none() });
        for f in self.partitions[partition].replicas.ids() {
            self.start_follower(partition, f);
        }
    }

    /// The leader of `partition` answers what waits on it — acks=all requests and
    /// parked consumer fetches — with an error: NotLeader when leadership
    /// moves (Kafka completes delayed operations this way), Disconnected when
    /// its process dies. Clients then retry at the new leader.
    pub(super) fn release_waiters(&mut self, partition: PartitionId, produce: ProduceError, fetch: FetchError) {
        let part = &mut self.partitions[partition];
        let Some(old) = part.leader_broker() else { return };
        let pending: Vec<PendingAck> = part.pending_acks.drain(..).collect();
        for a in pending {
            self.answer_waiter(old, partition, a.waiter, Some(produce));
        }
        self.release_parked_fetches(partition, old, fetch);
    }

    /// A broker registers with a new incarnation after a crash, without the
    /// clean-shutdown file: with ELR on the controller takes it out of every
    /// ISR and ELR (`ReplicationControlManager.handleBrokerUncleanShutdown`),
    /// since it may have lost its unflushed tail; only unclean election can
    /// make it leader before it catches up again.
    pub(super) fn unclean_shutdown(&mut self, b: BrokerId) {
        for partition in self.partitions.ids() {
            let part = &mut self.partitions[partition];
            let Some(r) = part.replica_on(b) else { continue };
            if !part.elr_enabled || !(part.in_isr(r) || part.in_elr(r)) {
                continue;
            }
            part.drop_unclean(r);
            let (mask, hw) = (part.isr_mask_of_brokers(), part.high_watermark());
            self.oracle.emit(self.now, Fact::Isr { partition, isr_brokers: mask, high_watermark: hw });
        }
    }

    /// An unfenced broker takes its place again: it follows each partition's
    /// leader, or leads one that had no live in-sync replica.
    pub(super) fn rejoin(&mut self, b: BrokerId) {
        for partition in self.partitions.ids() {
            let part = &self.partitions[partition];
            let Some(r) = part.replica_on(b) else { continue };
            let eligible = part.in_isr(r) || (part.isr == 0 && part.in_elr(r));
            if part.leader.is_none() && (eligible || part.unclean_leader_election) {
                self.elect(partition);
            } else {
                self.start_follower(partition, r);
            }
        }
    }
}
