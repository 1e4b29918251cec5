//! Follower replication by fetch, the ISR (expansion on fetch, shrinking by
//! lag) and the high watermark that follows it.

use crate::kernel::time::Duration;
use crate::model::ids::{BrokerId, PartitionId, ReplicaId};
use crate::oracle::fact::Fact;
use crate::world::event::{Event, Node, ReplicaFetch, ReplicaFetchResponse};
use crate::world::World;

/// `replica.fetch.backoff.ms`: a follower whose fetch failed waits this long.
const REPLICA_FETCH_BACKOFF: Duration = Duration::from_ms(1_000);
/// `replica.socket.timeout.ms`: a follower fetch unanswered this long is sent again.
const REPLICA_SOCKET_TIMEOUT: Duration = Duration::from_ms(30_000);
/// Most entries one follower fetch copies (about `replica.fetch.max.bytes` of small records).
const REPLICA_FETCH_MAX: u64 = 10_000;

impl World {
    /// At start every partition is led by its first replica; followers begin fetching.
    pub(crate) fn start_partition(&mut self, partition: PartitionId) {
        for r in self.partitions[partition].replicas.ids().skip(1) {
            self.start_follower(partition, r);
        }
    }

    /// (Re)starts replica `r`'s fetch loop against the current leader.
    pub(crate) fn start_follower(&mut self, partition: PartitionId, r: ReplicaId) {
        let part = &mut self.partitions[partition];
        let rep = &mut part.replicas[r];
        rep.fetch_token = rep.fetch_token.wrapping_add(1);
        let Some(l) = part.leader else { return };
        if l == r || !self.brokers[rep.broker].up {
            return;
        }
        self.send_replica_fetch(partition, r);
    }

    fn send_replica_fetch(&mut self, partition: PartitionId, r: ReplicaId) {
        let part = &self.partitions[partition];
        let Some(leader) = part.leader_broker() else { return };
        let rep = &part.replicas[r];
        let msg = ReplicaFetch {
            partition,
            replica: r,
            token: rep.fetch_token,
            offset: rep.leo(),
            last_epoch: rep.last_epoch(),
        };
        let (broker, token) = (rep.broker, rep.fetch_token);
        self.send(Node::Broker(broker), Node::Broker(leader), msg.into());
        let rep = &mut self.partitions[partition].replicas[r];
        rep.fetches_sent = rep.fetches_sent.wrapping_add(1);
        if self.lossy {
            let sent = rep.fetches_sent;
            self.after(REPLICA_SOCKET_TIMEOUT, Event::ReplicaFetchTimeout { partition, replica: r, token, sent });
        }
    }

    /// No answer to a follower's fetch (a network partition ate it): start over.
    pub(crate) fn on_replica_fetch_timeout(&mut self, partition: PartitionId, r: ReplicaId, token: u32, sent: u32) {
        let rep = &self.partitions[partition].replicas[r];
        if rep.fetch_token == token && rep.fetches_sent == sent && self.brokers[rep.broker].up {
            self.start_follower(partition, r);
        }
    }

    /// Answers every follower fetch parked at the leader of `partition` (new data arrived).
    pub(super) fn wake_parked_followers(&mut self, partition: PartitionId) {
        for r in self.partitions[partition].replicas.ids() {
            if let Some(token) = self.partitions[partition].replicas[r].parked.take() {
                self.answer_replica_fetch(partition, r, token);
            }
        }
    }

    /// The leader sends follower `r` what it has past the follower's log end.
    fn answer_replica_fetch(&mut self, partition: PartitionId, r: ReplicaId, token: u32) {
        let part = &self.partitions[partition];
        let Some(l) = part.leader else { return };
        let leader = &part.replicas[l];
        let from = part.replicas[r].leo_seen;
        let to = leader.leo().min(from + REPLICA_FETCH_MAX);
        let msg = ReplicaFetchResponse {
            partition,
            replica: r,
            token,
            from,
            to,
            last_entry_epoch: leader.epoch_before(to),
            leader_hw: leader.hw,
            truncate_to: None,
            ok: true,
        };
        let (lb, fb) = (leader.broker, part.replicas[r].broker);
        self.send(Node::Broker(lb), Node::Broker(fb), msg.into());
    }

    /// A follower's fetch reaches the leader: it tells the leader how far the
    /// follower got, which may move the ISR and the high watermark.
    pub(crate) fn on_replica_fetch(&mut self, b: BrokerId, f: ReplicaFetch) {
        let ReplicaFetch { partition, replica: r, token, offset, last_epoch } = f;
        let now = self.now;
        let part = &mut self.partitions[partition];
        let follower_broker = part.replicas[r].broker;
        let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else {
            let msg = ReplicaFetchResponse::failed(partition, r, token, offset);
            return self.send(Node::Broker(b), Node::Broker(follower_broker), msg.into());
        };
        // Divergence (KIP-101/279): the follower's last epoch ends earlier on the leader.
        let leader_leo = part.replicas[l].leo();
        let diverged_at = part.replicas[l].end_offset_for_epoch(last_epoch).min(leader_leo);
        if offset > diverged_at {
            let msg = ReplicaFetchResponse {
                leader_hw: part.replicas[l].hw,
                truncate_to: Some(diverged_at),
                ok: true,
                ..ReplicaFetchResponse::failed(partition, r, token, offset)
            };
            return self.send(Node::Broker(b), Node::Broker(follower_broker), msg.into());
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
        let part = &mut self.partitions[partition];
        if offset < part.replicas[l].leo() {
            self.answer_replica_fetch(partition, r, token);
        } else {
            part.replicas[r].parked = Some(token);
            let wait = self.scenario.broker_config.replica_fetch_wait_max;
            self.after(wait, Event::ReplicaFetchExpired { partition, replica: r, token });
        }
    }

    pub(crate) fn on_replica_fetch_expired(&mut self, partition: PartitionId, r: ReplicaId, token: u32) {
        let rep = &mut self.partitions[partition].replicas[r];
        if rep.parked == Some(token) {
            rep.parked = None;
            self.answer_replica_fetch(partition, r, token);
        }
    }

    pub(crate) fn on_replica_fetch_retry(&mut self, partition: PartitionId, r: ReplicaId, token: u32) {
        let rep = &self.partitions[partition].replicas[r];
        if rep.fetch_token == token && self.brokers[rep.broker].up {
            self.start_follower(partition, r);
        }
    }

    /// The follower copies what the leader `src` sent, or truncates where its log diverged.
    pub(crate) fn on_replica_fetch_response(&mut self, src: BrokerId, m: ReplicaFetchResponse) {
        let ReplicaFetchResponse { partition, replica: r, token, from, to, .. } = m;
        let part = &mut self.partitions[partition];
        let rep = &part.replicas[r];
        if rep.fetch_token != token || !self.brokers[rep.broker].up {
            return;
        }
        if !m.ok {
            let token = rep.fetch_token;
            return self.after(REPLICA_FETCH_BACKOFF, Event::ReplicaFetchRetry { partition, replica: r, token });
        }
        if let Some(t) = m.truncate_to {
            let rep = &mut part.replicas[r];
            let to = t.min(rep.leo());
            rep.truncate(to);
            let broker = rep.broker;
            self.oracle.emit(self.now, Fact::Truncate { broker, partition, offset: to });
            return self.send_replica_fetch(partition, r);
        }
        // The data is valid if the sender's log still holds it.
        let Some(l) = part.replica_on(src) else { return };
        if !part.replicas[l].holds(from, to, m.last_entry_epoch) || part.replicas[r].leo() != from {
            return self.send_replica_fetch(partition, r);
        }
        let flush_every = self.scenario.broker_config.page_cache.flush_interval_messages;
        for o in from..to {
            let e = part.replicas[l].log[o as usize];
            let rep = &mut part.replicas[r];
            rep.note_epoch(e.epoch, o);
            rep.append(e, self.now, flush_every);
        }
        let rep = &mut part.replicas[r];
        rep.hw = rep.hw.max(m.leader_hw.min(rep.leo()));
        if to > from {
            let broker = rep.broker;
            self.oracle.emit(self.now, Fact::Replicate { broker, partition, log_end: to, source: src });
        }
        self.send_replica_fetch(partition, r);
    }

    /// The leader moves the high watermark to the smallest log end offset in the
    /// ISR, then completes acks=all requests and parked consumer fetches below it.
    pub(crate) fn advance_hw(&mut self, partition: PartitionId) {
        let part = &mut self.partitions[partition];
        let Some(l) = part.leader else { return };
        // Since Kafka 3.7 the high watermark stays put while the ISR is too small.
        if part.isr_size() < part.min_insync_replicas {
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
