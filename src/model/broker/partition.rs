//! A partition: its replicas (one log each), the leader and the ISR, and
//! what waits at the leader (acks=all writes and parked consumer fetches).

use std::collections::VecDeque;

use crate::kernel::time::Duration;
use crate::model::broker::idempotence::{OpenTxn, ProducerState};
use crate::model::broker::limits::ShardLimits;
use crate::model::broker::log::{BatchHeader, Replica};
use crate::model::ids::{BrokerId, IdVec, LeaderEpoch, LocalPartition, ReplicaId, RequestId, TopicId, TxnId};
use crate::scenario::TopicSpec;

/// Who waits for the high watermark: an acks=all produce request, or the
/// transaction coordinator's marker write (markers are written with acks=all).
#[derive(Clone, Copy, Debug)]
pub enum Waiter {
    /// Partition `index` of produce request `request`, appended at `base`.
    Produce {
        request: RequestId,
        index: u32,
        base: u64,
    },
    Marker {
        txn: TxnId,
        serial: u32,
    },
}

/// A write waiting for the high watermark to reach `need`.
#[derive(Clone, Copy, Debug)]
pub struct PendingAck {
    pub need: u64,
    pub waiter: Waiter,
}

#[derive(Clone, Debug)]
pub struct Partition {
    pub topic: TopicId,
    pub index: LocalPartition,
    /// In preference order; the first live in-sync one leads.
    pub replicas: IdVec<ReplicaId, Replica>,
    /// Index into `replicas`; `None` while the partition is offline.
    pub leader: Option<ReplicaId>,
    pub leader_epoch: LeaderEpoch,
    /// Bit `i` set = `replicas[i]` is in the ISR.
    pub isr: u64,
    /// KIP-966 Eligible Leader Replicas, same bits: replicas that left the
    /// ISR while it was below `min.insync.replicas`, so they hold every
    /// committed record (the high watermark stood still meanwhile).
    pub elr: u64,
    /// `eligible.leader.replicas.version` = 1: the ISR may be empty and the ELR is kept.
    pub elr_enabled: bool,
    pub min_insync_replicas: u32,
    pub unclean_leader_election: bool,
    pub replica_lag_time_max: Duration,
    pub pending_acks: VecDeque<PendingAck>,
    /// Consumer fetches parked at the leader until data is readable.
    pub parked_fetches: Vec<crate::model::broker::fetch::ParkedFetch>,
    /// The leader's idempotence state, per producer id.
    pub producer_states: Vec<ProducerState>,
    /// Transactions not yet stable here; the first bounds the last stable offset.
    pub open_txns: Vec<OpenTxn>,
    /// Producer identities of the batch headers in this partition's logs
    /// (entries point here; every replica's copy of a batch keeps its header).
    pub headers: Vec<BatchHeader>,
    /// `platform: kinesis`: the shard's throughput limits.
    pub limits: Option<ShardLimits>,
}

impl Partition {
    /// The index of `h` among the partition's batch headers, added if new
    /// (a handful per producer: one per producer id and epoch).
    pub fn header_index(&mut self, h: BatchHeader) -> u32 {
        match self.headers.iter().rposition(|x| *x == h) {
            Some(i) => i as u32,
            None => {
                self.headers.push(h);
                (self.headers.len() - 1) as u32
            }
        }
    }

    /// Replicas of partition `p` sit on brokers `p, p+1, ...` (mod brokers), as
    /// Kafka's round-robin placement does for a cluster without racks.
    pub fn new(topic: TopicId, index: LocalPartition, spec: &TopicSpec, brokers: u32) -> Partition {
        let replicas: IdVec<ReplicaId, Replica> =
            (0..spec.replication_factor).map(|i| Replica::new(BrokerId::new((index.raw() + i) % brokers))).collect();
        debug_assert!(replicas.len() <= 64, "the ISR is a 64-bit mask");
        let isr = if replicas.len() == 64 { u64::MAX } else { (1u64 << replicas.len()) - 1 };
        Partition {
            topic,
            index,
            replicas,
            leader: Some(ReplicaId::new(0)),
            leader_epoch: LeaderEpoch::new(0),
            isr,
            elr: 0,
            elr_enabled: false,
            min_insync_replicas: spec.config.min_insync_replicas,
            unclean_leader_election: spec.config.unclean_leader_election_enable,
            replica_lag_time_max: spec.config.replica_lag_time_max,
            pending_acks: VecDeque::new(),
            parked_fetches: Vec::new(),
            producer_states: Vec::new(),
            headers: Vec::new(),
            open_txns: Vec::new(),
            limits: None,
        }
    }

    pub fn in_isr(&self, r: ReplicaId) -> bool {
        self.isr & (1 << r.index()) != 0
    }
    pub fn in_elr(&self, r: ReplicaId) -> bool {
        self.elr & (1 << r.index()) != 0
    }
    /// Adds replica `r` to the ISR.
    pub(crate) fn isr_add(&mut self, r: ReplicaId) {
        let old = self.isr;
        self.isr |= 1 << r.index();
        self.update_elr(old);
    }
    /// Drops replica `r` from the ISR.
    pub(crate) fn isr_remove(&mut self, r: ReplicaId) {
        let old = self.isr;
        self.isr &= !(1 << r.index());
        self.update_elr(old);
    }
    /// Replaces the ISR (an election that found no in-sync replica).
    pub(crate) fn isr_set(&mut self, isr: u64) {
        let old = self.isr;
        self.isr = isr;
        self.update_elr(old);
    }
    /// KIP-966, `PartitionChangeBuilder.maybePopulateTargetElr`: an ISR at or
    /// above min ISR clears the ELR; a smaller one keeps the old ELR and the
    /// old ISR members that left it. Without ELR nothing is kept.
    fn update_elr(&mut self, old_isr: u64) {
        if !self.elr_enabled || self.isr_size() >= self.min_insync_replicas {
            self.elr = 0;
        } else {
            self.elr = (self.elr | old_isr) & !self.isr;
        }
    }
    /// A broker back from an unclean shutdown may have lost its unflushed
    /// tail: it leaves the ISR and the ELR (`handleBrokerUncleanShutdown`).
    pub(crate) fn drop_unclean(&mut self, r: ReplicaId) {
        self.isr_remove(r);
        self.elr &= !(1 << r.index());
    }
    pub fn isr_size(&self) -> u32 {
        self.isr.count_ones()
    }
    pub fn leader_broker(&self) -> Option<BrokerId> {
        self.leader.map(|r| self.replicas[r].broker)
    }
    /// The high watermark consumers see: the leader's, or the best any replica knows.
    pub fn high_watermark(&self) -> u64 {
        match self.leader {
            Some(r) => self.replicas[r].hw,
            None => self.replicas.iter().map(|r| r.hw).max().unwrap_or(0),
        }
    }
    /// The last stable offset: read_committed consumers read below it. The
    /// high watermark, or the first offset of the earliest transaction that is
    /// open or whose marker is not yet replicated.
    pub fn last_stable_offset(&self) -> u64 {
        let hw = self.high_watermark();
        self.open_txns.iter().filter(|t| t.marker.is_none_or(|m| m >= hw)).map(|t| t.first).fold(hw, u64::min)
    }
    pub fn log_end_offset(&self) -> u64 {
        match self.leader {
            Some(r) => self.replicas[r].leo(),
            None => self.replicas.iter().map(|r| r.leo()).max().unwrap_or(0),
        }
    }
    /// Nothing left to replicate: every in-sync replica holds the leader's whole log.
    pub fn is_settled(&self) -> bool {
        match self.leader {
            Some(l) => self.replicas[l].hw == self.replicas[l].leo() && self.pending_acks.is_empty(),
            None => true,
        }
    }
    pub(crate) fn replica_on(&self, broker: BrokerId) -> Option<ReplicaId> {
        self.replicas.position(|r| r.broker == broker)
    }
    /// The ISR as a bit per broker (as the `isr` fact carries it).
    pub(crate) fn isr_mask_of_brokers(&self) -> u64 {
        let mut m = 0;
        for (i, r) in self.replicas.iter_enumerated() {
            if self.in_isr(i) {
                m |= 1 << r.broker.raw().min(63);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_stable_offset_waits_for_open_and_unreplicated_transactions() {
        let spec = crate::scenario::TopicSpec {
            name: "t".into(),
            partitions: 1,
            replication_factor: 1,
            config: Default::default(),
        };
        let mut p = Partition::new(TopicId::new(0), LocalPartition::new(0), &spec, 1);
        let r0 = ReplicaId::new(0);
        p.replicas[r0].hw = 50;
        assert_eq!(p.last_stable_offset(), 50);
        p.open_txns.push(OpenTxn { pid: 1, first: 30, marker: None });
        p.open_txns.push(OpenTxn { pid: 2, first: 20, marker: Some(60) });
        assert_eq!(p.last_stable_offset(), 20, "pid 2's marker is past the high watermark");
        p.replicas[r0].hw = 61;
        assert_eq!(p.last_stable_offset(), 30, "pid 2 is stable once its marker is replicated");
        p.open_txns.clear();
        assert_eq!(p.last_stable_offset(), 61);
    }
}
