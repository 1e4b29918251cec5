//! Follower replication by fetch (one partition's part of a session's fetch,
//! `fetcher.rs` sends them), the ISR (expansion on fetch, shrinking by
//! lag) and the high watermark that follows it.

use crate::model::broker::fetcher::{FetchEntry, PartitionData};
use crate::model::ids::{BrokerId, PartitionId, ReplicaId};
use crate::oracle::fact::Fact;
use crate::world::World;

impl World {
    /// At start every partition is led by its first replica; followers begin fetching.
    pub(crate) fn start_partition(&mut self, partition: PartitionId) {
        for r in self.partitions[partition].replicas.ids().skip(1) {
            self.start_follower(partition, r);
        }
    }

    /// (Re)starts replica `r`'s fetch loop against the current leader: its
    /// broker's fetch session with the leader's takes the partition in from
    /// its next fetch (`AbstractFetcherThread.addPartitions`).
    pub(crate) fn start_follower(&mut self, partition: PartitionId, r: ReplicaId) {
        let part = &mut self.partitions[partition];
        let rep = &mut part.replicas[r];
        rep.fetch_token = rep.fetch_token.wrapping_add(1);
        let Some(l) = part.leader else { return };
        let (follower, leader) = (rep.broker, part.replicas[l].broker);
        if l == r || !self.brokers[follower].up {
            return;
        }
        self.ensure_fetching(follower, leader);
    }

    /// One partition of a follower's fetch reaches leader `b`: it tells the
    /// leader how far the follower got, which may move the ISR and the high
    /// watermark. Whether the fetch must be answered now: this broker does
    /// not lead the partition, the follower's log diverged, or there is data
    /// past its offset.
    pub(super) fn on_follower_position(&mut self, b: BrokerId, e: FetchEntry) -> bool {
        let FetchEntry { partition, replica: r, offset, last_epoch, .. } = e;
        let now = self.now;
        let part = &mut self.partitions[partition];
        let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else { return true };
        let leader_leo = part.replicas[l].leo();
        if offset > part.replicas[l].end_offset_for_epoch(last_epoch).min(leader_leo) {
            return true;
        }
        // Follower progress, as Kafka's `Replica.updateFetchState` tracks it.
        let rep = &mut part.replicas[r];
        rep.leo_seen = offset;
        if offset >= leader_leo {
            rep.last_caught_up = now;
        } else if offset >= rep.last_fetch_leader_leo {
            rep.last_caught_up = rep.last_caught_up.max(rep.last_fetch_at);
        }
        rep.last_fetch_leader_leo = leader_leo;
        rep.last_fetch_at = now;
        // ISR expansion: a follower that reached the high watermark in this epoch rejoins.
        let epoch_start = part.replicas[l].epochs.last().map_or(0, |&(_, s)| s);
        if !part.in_isr(r) && offset >= part.replicas[l].hw && offset >= epoch_start {
            part.isr_add(r);
            let (mask, hw) = (part.isr_mask_of_brokers(), part.replicas[l].hw);
            self.oracle.emit(self.now, Fact::Isr { partition, isr_brokers: mask, high_watermark: hw });
        }
        self.advance_hw(partition);
        offset < self.partitions[partition].replicas[l].leo()
    }

    /// The follower copies one partition's part of the leader `src`'s
    /// answer, or truncates where its log diverged.
    pub(super) fn follower_applies(&mut self, src: BrokerId, d: PartitionData) {
        let FetchEntry { partition, replica: r, token, .. } = d.entry;
        let (from, to) = (d.from, d.to);
        let part = &mut self.partitions[partition];
        if part.replicas[r].fetch_token != token || !d.ok {
            // A newer fetch loop (a new leader) or the leadership moved: the
            // election restarts the loop.
            return;
        }
        if let Some(t) = d.truncate_to {
            let rep = &mut part.replicas[r];
            let to = t.min(rep.leo());
            rep.truncate(to);
            let broker = rep.broker;
            return self.oracle.emit(self.now, Fact::Truncate { broker, partition, offset: to });
        }
        // The data is valid if the sender's log still holds it.
        let Some(l) = part.replica_on(src) else { return };
        if !part.replicas[l].holds(from, to, d.last_entry_epoch) || part.replicas[r].leo() != from {
            return;
        }
        let flush_every = self.scenario.broker_config.page_cache.flush_interval_messages;
        if to > from {
            // Most partitions of a busy follower's fetch bring nothing new.
            let (leader, rep) = part.replicas.read_and_change(l, r);
            for (epoch, o) in leader.log.epochs_in(from, to) {
                rep.note_epoch(epoch, o);
            }
            rep.append_from(&leader.log, from, to, self.now, flush_every);
        }
        let rep = &mut part.replicas[r];
        rep.hw = rep.hw.max(d.leader_hw.min(rep.leo()));
        if to > from {
            let broker = rep.broker;
            self.oracle.emit(self.now, Fact::Replicate { broker, partition, log_end: to, source: src });
        }
    }

    /// The leader moves the high watermark to the smallest log end offset in the
    /// ISR, then completes acks=all requests and parked consumer fetches below it.
    pub(crate) fn advance_hw(&mut self, partition: PartitionId) {
        let part = &mut self.partitions[partition];
        let Some(l) = part.leader else { return };
        // Since Kafka 3.7 the high watermark stays put while the ISR is too small.
        // And it never passes the leader's log end: at the end already, it cannot move
        // (most partitions of a follower's fetch, which asks after every one).
        if part.isr_size() < part.min_insync_replicas || part.replicas[l].hw >= part.replicas[l].leo() {
            return;
        }
        let mut hw = part.replicas[l].leo();
        for (i, rep) in part.replicas.iter_enumerated() {
            if i != l && part.in_isr(i) {
                hw = hw.min(rep.leo_seen);
            }
        }
        if hw <= part.replicas[l].hw {
            return;
        }
        part.replicas[l].hw = hw;
        let b = part.replicas[l].broker;
        self.oracle.emit(self.now, Fact::HighWatermark { partition, high_watermark: hw });
        while let Some(&a) = self.partitions[partition].pending_acks.front() {
            if a.need > hw {
                break;
            }
            self.partitions[partition].pending_acks.pop_front();
            self.answer_waiter(b, partition, a.waiter, None);
        }
        // Transactions whose marker is now replicated are stable.
        self.partitions[partition].open_txns.retain(|t| t.marker.is_none_or(|m| m >= hw));
        self.answer_parked_fetches(partition, b, hw);
    }

    /// Every `replica.lag.time.max.ms / 2`, leaders drop followers that have not
    /// caught up for `replica.lag.time.max.ms` from the ISR.
    pub(crate) fn check_isr(&mut self) {
        let now = self.now;
        for partition in self.partitions.ids() {
            let part = &mut self.partitions[partition];
            let Some(l) = part.leader else { continue };
            let lb = part.replicas[l].broker;
            if !self.brokers[lb].up || self.broker_paused(lb) {
                continue;
            }
            let part = &mut self.partitions[partition];
            let leader_leo = part.replicas[l].leo();
            let mut shrunk = false;
            for r in part.replicas.ids() {
                let rep = &part.replicas[r];
                let lagging =
                    rep.leo_seen < leader_leo && now.since(rep.last_caught_up.min(now)) > part.replica_lag_time_max;
                if r != l && part.in_isr(r) && lagging {
                    part.isr_remove(r);
                    shrunk = true;
                }
            }
            if shrunk {
                let (mask, hw) = (part.isr_mask_of_brokers(), part.replicas[l].hw);
                self.oracle.emit(self.now, Fact::Isr { partition, isr_brokers: mask, high_watermark: hw });
                self.advance_hw(partition);
            }
        }
    }
}
