//! The consumer's fetcher, as Kafka's `AbstractFetch.prepareFetchRequests`:
//! one fetch per broker, carrying every fetchable partition (assigned, with
//! a position, nothing buffered, no fetch in flight, no backoff) that
//! broker leads; no fetch to a broker with one pending
//! (`nodesWithPendingFetchRequests`) or throttled (KIP-219:
//! `NetworkClient.maybeThrottle` holds requests to a broker until the
//! `throttle_time_ms` it answered has passed). Kinesis readers call
//! GetRecords per shard instead (KCL's `ShardConsumer`): one partition per
//! request. Then the records that come back, and backoffs after errors.

use crate::kernel::time::{Duration, Instant};
use crate::model::broker::TxnFates;
use crate::model::consumer::fetch_request::{FetchPart, PartAnswer};
use crate::model::consumer::{ConsumerState, SKIP};
use crate::model::ids::{BrokerId, ConsumerFetchSlot, ConsumerId, LocalPartition};
use crate::oracle::fact::{Fact, PositionSource};
use crate::world::event::{Event, Fetch, FetchError, FetchResponse, Node};
use crate::world::World;

/// Kinesis readers (KCL) wait this long after a GetRecords call that
/// returned nothing or was throttled, before the next call to that shard.
pub const KINESIS_IDLE_BETWEEN_READS: Duration = Duration::from_ms(1_000);

/// One broker as the consumer's fetcher sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchNode {
    /// Token of the fetch in flight to it (`nodesWithPendingFetchRequests`).
    pending: Option<u32>,
    /// Its last answer's `throttle_time_ms` ends here: nothing goes to it before.
    throttled_until: Instant,
}

/// A fetch a unit test sees: where it went and what it carried.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tapped {
    Sent { broker: BrokerId, token: u32, partitions: Vec<crate::model::ids::PartitionId> },
    Answered { broker: BrokerId, token: u32, records: u64, throttle_ms: u32 },
}

impl World {
    /// Sends a fetch to every broker that leads a fetchable partition and
    /// has no fetch pending, in the fetch order (`prepareFetchRequests`).
    pub(super) fn send_fetches(&mut self, c: ConsumerId) {
        let brokers = self.brokers.len();
        let cs = &mut self.consumers[c];
        if cs.nodes.len() < brokers {
            cs.nodes.resize(brokers, FetchNode::default());
        }
        let now = self.now;
        let Some(&first) = cs.fetch_order.first() else { return };
        let kinesis = self.partitions[self.consumer_partition(c, first)].limits.is_some();
        let cs = &mut self.consumers[c];
        if !kinesis && cs.nodes.iter().all(|n| n.pending.is_some() || n.throttled_until > now) {
            // Every broker has a fetch pending (or is throttled): nothing to build.
            return;
        }
        // Per broker, the request being built: its slot and token.
        let mut open = std::mem::take(&mut cs.open_fetches);
        open.clear();
        open.resize(brokers, None);
        for i in 0..self.consumers[c].fetch_order.len() {
            let local = self.consumers[c].fetch_order[i];
            let Some(leader) = self.fetchable_leader(c, local) else { continue };
            let (slot, token) = match open[leader.index()] {
                Some(st) => st,
                None => {
                    let slot = self.take_consumer_fetch(leader);
                    let cs = &mut self.consumers[c];
                    cs.next_token = cs.next_token.wrapping_add(1);
                    open[leader.index()] = Some((slot, cs.next_token));
                    (slot, cs.next_token)
                }
            };
            self.add_part(c, local, slot, token);
            if kinesis {
                // Kinesis: GetRecords per shard, one call at a time each.
                open[leader.index()] = None;
                self.send_fetch(c, leader, slot, token, false);
            }
        }
        for (b, cell) in open.iter().enumerate() {
            if let Some((slot, token)) = *cell {
                self.send_fetch(c, BrokerId::new(b as u32), slot, token, true);
            }
        }
        self.consumers[c].open_fetches = open;
    }

    /// The leader to fetch assigned partition `local` from now, if it is
    /// fetchable: a position, nothing buffered or in flight, no backoff, a
    /// leader known (else a backoff), and that broker free and not throttled.
    fn fetchable_leader(&mut self, c: ConsumerId, local: LocalPartition) -> Option<BrokerId> {
        let now = self.now;
        let partition = self.consumer_partition(c, local);
        let cs = &self.consumers[c];
        cs.position[local]?;
        if cs.fetching[local].is_some() || cs.buffered[local] > 0 || cs.fetch_backoff_until[local] > now {
            return None;
        }
        let part = &self.partitions[partition];
        let Some(leader) = part.leader_broker() else {
            let at = now.add(cs.retry_backoff);
            self.backoff_fetch(c, local, at);
            return None;
        };
        let node = cs.nodes[leader.index()];
        let kinesis = part.limits.is_some();
        if !kinesis && (node.pending.is_some() || node.throttled_until > now) {
            return None;
        }
        Some(leader)
    }

    /// The global partition of consumer `c`'s group partition `local`.
    fn consumer_partition(&self, c: ConsumerId, local: LocalPartition) -> crate::model::ids::PartitionId {
        self.groups[self.consumers[c].group].first_partition.at(local)
    }

    /// Partition `local` goes into fetch `token` (slot `slot`) from its
    /// position; after a leader epoch change it carries the epoch to
    /// validate the position with (KIP-320).
    fn add_part(&mut self, c: ConsumerId, local: LocalPartition, slot: ConsumerFetchSlot, token: u32) {
        let partition = self.consumer_partition(c, local);
        let epoch = self.partitions[partition].leader_epoch;
        let cs = &mut self.consumers[c];
        let offset = cs.position[local].expect("fetchable partitions have a position");
        cs.fetching[local] = Some(token);
        cs.sent_epoch[local] = epoch;
        let validate_epoch = cs.fetched_epoch[local].and_then(|(seen, last)| (seen != epoch).then_some(last));
        self.consumer_fetches[slot].parts.push(FetchPart { partition, offset, validate_epoch });
    }

    /// Fetch `token` in `slot` goes to `broker`, carrying the consumer's
    /// read settings; `per_node`: the broker has it pending until answered.
    fn send_fetch(&mut self, c: ConsumerId, broker: BrokerId, slot: ConsumerFetchSlot, token: u32, per_node: bool) {
        let cs = &mut self.consumers[c];
        if per_node {
            cs.nodes[broker.index()].pending = Some(token);
        }
        let (inc, timeout) = (cs.inc, cs.request_timeout);
        let msg = Fetch {
            consumer: c,
            inc,
            token,
            slot,
            read_committed: cs.read_committed,
            max_wait: cs.fetch_max_wait,
            min_bytes: cs.fetch_min_bytes,
            max_bytes: cs.fetch_max_bytes,
            partition_max_bytes: cs.partition_max_bytes,
            record_bytes: cs.record_bytes,
        };
        #[cfg(test)]
        {
            let partitions = self.consumer_fetches[slot].parts.iter().map(|p| p.partition).collect();
            self.consumers[c].fetch_tap.push(Tapped::Sent { broker, token, partitions });
        }
        self.send(Node::Consumer(c), Node::Broker(broker), msg.into());
        if self.lossy {
            self.after(timeout, Event::ConsumerFetchTimeout { consumer: c, inc, broker, token });
        }
    }

    fn backoff_fetch(&mut self, c: ConsumerId, local: LocalPartition, until: Instant) {
        let cs = &mut self.consumers[c];
        cs.fetch_backoff_until[local] = until;
        let inc = cs.inc;
        self.at(until, Event::ConsumerWake { consumer: c, inc });
    }

    /// The answer to a fetch, from broker `src`: the broker is free again
    /// (or throttled for `throttle_ms`), and each partition's part is taken.
    pub(crate) fn on_fetch_response(&mut self, src: BrokerId, m: FetchResponse) {
        let c = m.consumer;
        let now = self.now;
        let cs = &mut self.consumers[c];
        let node = &mut cs.nodes[src.index()];
        if node.pending == Some(m.token) {
            node.pending = None;
        }
        if m.throttle_ms > 0 {
            // KIP-219: nothing more to this broker until the throttle ends.
            let until = now.add(Duration::from_ms(u64::from(m.throttle_ms)));
            node.throttled_until = node.throttled_until.max(until);
            let inc = cs.inc;
            self.at(until, Event::ConsumerWake { consumer: c, inc });
        }
        #[cfg(test)]
        {
            let d = &self.consumer_fetches[m.slot];
            let records = d.answers.iter().map(|a| a.to.saturating_sub(a.from)).sum();
            let tap = Tapped::Answered { broker: src, token: m.token, records, throttle_ms: m.throttle_ms };
            self.consumers[c].fetch_tap.push(tap);
        }
        let answered =
            !m.disconnected && self.consumer_fetches[m.slot].answers.len() == self.consumer_fetches[m.slot].parts.len();
        let first = self.groups[self.consumers[c].group].first_partition;
        for i in 0..self.consumer_fetches[m.slot].parts.len() {
            let part = self.consumer_fetches[m.slot].parts[i];
            let local = part.partition.local_in(first);
            let cs = &mut self.consumers[c];
            if cs.fetching[local] != Some(m.token) {
                continue;
            }
            cs.fetching[local] = None;
            if m.disconnected {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, local, at);
            } else if answered {
                let a = self.consumer_fetches[m.slot].answers[i];
                self.take_part(src, c, local, part, a);
            }
            // A throttled answer carries no partition: each is fetchable again.
        }
        self.move_to_end(c);
        self.free_consumer_fetch(m.slot);
        if self.consumers[c].state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// One partition's part of an answer: records, or what its error means.
    fn take_part(&mut self, src: BrokerId, c: ConsumerId, local: LocalPartition, part: FetchPart, a: PartAnswer) {
        let now = self.now;
        let cs = &mut self.consumers[c];
        if (a.to > a.from || a.error != FetchError::None) && !cs.to_end[local] {
            cs.to_end[local] = true;
            cs.moved.push(local);
        }
        match a.error {
            FetchError::None => self.take_fetched(src, c, local, part, a),
            FetchError::NotLeader | FetchError::Disconnected => {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, local, at);
            }
            FetchError::Throttled => {
                let at = now.add(KINESIS_IDLE_BETWEEN_READS);
                self.backoff_fetch(c, local, at);
            }
            FetchError::Diverged => self.seek_to_divergence(c, local, part, a),
            FetchError::OffsetOutOfRange => {
                let pos = self.reset_offset(c, local);
                let (partition, source) = (part.partition, PositionSource::OutOfRange);
                match pos {
                    Some(o) => self.oracle.emit(self.now, Fact::Position { consumer: c, partition, offset: o, source }),
                    None => self.oracle.emit(self.now, Fact::NoOffset { consumer: c, partition }),
                }
                let cs = &mut self.consumers[c];
                cs.position[local] = pos;
                cs.consumed[local] = pos.unwrap_or(0);
                cs.stored[local] = pos.unwrap_or(0);
                cs.fetched_epoch[local] = None;
            }
        }
    }

    /// `SubscriptionState.movePartitionToEnd`: the partitions of an answer
    /// that returned data (or an error) go last in the next fetches, in
    /// answer order, so that under `fetch.max.bytes` the others get their
    /// turn. One pass over the order per answer.
    fn move_to_end(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        if cs.moved.is_empty() {
            return;
        }
        // Each was in this fetch with its token still current, so it is
        // assigned and in the order (an assignment change forgets tokens).
        let (to_end, before) = (&cs.to_end, cs.fetch_order.len());
        cs.fetch_order.retain(|&l| !to_end[l]);
        debug_assert_eq!(before - cs.fetch_order.len(), cs.moved.len());
        for &l in &cs.moved {
            cs.fetch_order.push(l);
            cs.to_end[l] = false;
        }
        cs.moved.clear();
    }

    /// Buffers the records of a successful part, if the leader's log still
    /// holds them and the position did not move meanwhile; under
    /// read_committed, records of aborted transactions are passed over.
    fn take_fetched(&mut self, src: BrokerId, c: ConsumerId, local: LocalPartition, part: FetchPart, a: PartAnswer) {
        let (from, to) = (a.from, a.to);
        // Valid only if the leader's log still holds these entries (see broker).
        let p = &self.partitions[part.partition];
        let replica = p.replicas.iter().find(|r| r.broker == src);
        let intact = replica.is_some_and(|r| r.holds(from, to, a.last_entry_epoch));
        let cs = &mut self.consumers[c];
        if to == from && p.limits.is_some() {
            // Kinesis: GetRecords found nothing; the reader idles before the next call.
            let at = self.now.add(KINESIS_IDLE_BETWEEN_READS);
            self.backoff_fetch(c, local, at);
        } else if intact && cs.position[local] == Some(from) && to > from {
            let log = &replica.expect("checked intact").log;
            let mut fates = TxnFates::default();
            for (o, e) in (from..to).zip(log.range(from, to)) {
                let skip = e.is_control() || (cs.read_committed && fates.aborted(log, o, &p.headers, &self.markers));
                cs.buffer.push_back((local, o, if skip { SKIP } else { e.record_id() }));
            }
            cs.buffered[local] += (to - from) as u32;
            cs.position[local] = Some(to);
            cs.fetched_epoch[local] = Some((cs.sent_epoch[local], a.last_entry_epoch));
            self.oracle.emit(self.now, Fact::Fetch { consumer: c, partition: part.partition, from, to });
        }
    }

    /// KIP-320 (SubscriptionState.maybeCompleteValidation): the new leader's
    /// log ends the epoch of the last fetched record below the position, so
    /// the log was truncated there: seek to that divergence point. Records
    /// fetched past it are dropped from the buffer and a consumed position
    /// past it moves back, so nothing below it is skipped and nothing the
    /// consumer read from the old leader is read again (the new log's
    /// records there are other records).
    fn seek_to_divergence(&mut self, c: ConsumerId, local: LocalPartition, part: FetchPart, a: PartAnswer) {
        let end = a.to;
        let cs = &mut self.consumers[c];
        if cs.position[local] != Some(part.offset) || end >= part.offset {
            return;
        }
        cs.buffer.retain(|&(l, o, _)| l != local || o < end);
        cs.buffered[local] = cs.buffer.iter().filter(|&&(l, _, _)| l == local).count() as u32;
        cs.position[local] = Some(end);
        cs.consumed[local] = cs.consumed[local].min(end);
        cs.stored[local] = cs.stored[local].min(end);
        cs.fetched_epoch[local] = Some((cs.sent_epoch[local], a.last_entry_epoch));
        let (partition, source) = (part.partition, PositionSource::Diverged);
        self.oracle.emit(self.now, Fact::Position { consumer: c, partition, offset: end, source });
    }

    /// No answer to fetch `token` to `broker` within `request.timeout.ms`:
    /// forget it (the broker is free again) and fetch again.
    pub(crate) fn on_consumer_fetch_timeout(&mut self, c: ConsumerId, broker: BrokerId, token: u32) {
        let cs = &mut self.consumers[c];
        let mut forgot = false;
        if let Some(node) = cs.nodes.get_mut(broker.index()) {
            if node.pending == Some(token) {
                node.pending = None;
                forgot = true;
            }
        }
        for f in cs.fetching.iter_mut().filter(|f| **f == Some(token)) {
            *f = None;
            forgot = true;
        }
        if forgot && cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }
}
