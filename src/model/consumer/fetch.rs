//! The consumer's fetcher: one fetch in flight per assigned partition with
//! nothing buffered, backoffs after errors, and the records that come back.

use crate::kernel::time::{Duration, Instant};
use crate::model::broker::TxnFates;
use crate::model::consumer::{ConsumerState, SKIP};
use crate::model::ids::{BrokerId, ConsumerId, LocalPartition, PartitionId};
use crate::oracle::fact::{Fact, PositionSource};
use crate::world::event::{Event, Fetch, FetchError, FetchResponse, Node};
use crate::world::World;

/// Kinesis readers (KCL) wait this long after a GetRecords call that
/// returned nothing or was throttled, before the next call to that shard.
pub const KINESIS_IDLE_BETWEEN_READS: Duration = Duration::from_ms(1_000);

impl World {
    /// Sends a fetch for every assigned partition with nothing buffered or in flight.
    pub(super) fn send_fetches(&mut self, c: ConsumerId) {
        let now = self.now;
        let group = self.consumers[c].group;
        let first = self.groups[group].first_partition;
        for i in 0..self.consumers[c].assigned.len() {
            let cs = &self.consumers[c];
            let local = cs.assigned[i];
            let Some(offset) = cs.position[local] else { continue };
            if cs.fetching[local].is_some() || cs.buffered[local] > 0 || cs.fetch_backoff_until[local] > now {
                continue;
            }
            let partition = first.at(local);
            let Some(leader) = self.partitions[partition].leader_broker() else {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, local, at);
                continue;
            };
            self.send_fetch(c, partition, local, offset, leader);
        }
    }

    /// A fetch of `partition` from `offset` to its leader, carrying the
    /// consumer's read settings.
    fn send_fetch(
        &mut self,
        c: ConsumerId,
        partition: PartitionId,
        local: LocalPartition,
        offset: u64,
        leader: BrokerId,
    ) {
        let epoch = self.partitions[partition].leader_epoch;
        let cs = &mut self.consumers[c];
        cs.next_token = cs.next_token.wrapping_add(1);
        let token = cs.next_token;
        cs.fetching[local] = Some(token);
        cs.sent_epoch[local] = epoch;
        // KIP-320: a new leader epoch since the last fetch: validate the position.
        let validate_epoch = cs.fetched_epoch[local].and_then(|(seen, last)| (seen != epoch).then_some(last));
        let (inc, timeout) = (cs.inc, cs.request_timeout);
        let msg = Fetch {
            consumer: c,
            inc,
            partition,
            offset,
            token,
            read_committed: cs.read_committed,
            max_records: cs.max_fetch_records,
            record_bytes: cs.record_bytes,
            max_wait: cs.fetch_max_wait,
            validate_epoch,
        };
        self.send(Node::Consumer(c), Node::Broker(leader), msg.into());
        if self.lossy {
            self.after(timeout, Event::ConsumerFetchTimeout { consumer: c, inc, partition, token });
        }
    }

    fn backoff_fetch(&mut self, c: ConsumerId, local: LocalPartition, until: Instant) {
        let cs = &mut self.consumers[c];
        cs.fetch_backoff_until[local] = until;
        let inc = cs.inc;
        self.at(until, Event::ConsumerWake { consumer: c, inc });
    }

    /// Records (or an error) from broker `src` for one partition.
    pub(crate) fn on_fetch_response(&mut self, src: BrokerId, m: FetchResponse) {
        let c = m.consumer;
        let group = self.consumers[c].group;
        let local = m.partition.local_in(self.groups[group].first_partition);
        let now = self.now;
        let cs = &mut self.consumers[c];
        if cs.fetching[local] != Some(m.token) {
            return;
        }
        cs.fetching[local] = None;
        match m.error {
            FetchError::None => self.take_fetched(src, local, m),
            FetchError::NotLeader | FetchError::Disconnected => {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, local, at);
            }
            FetchError::Throttled => {
                let at = now.add(KINESIS_IDLE_BETWEEN_READS);
                self.backoff_fetch(c, local, at);
            }
            FetchError::Diverged => self.seek_to_divergence(local, m),
            FetchError::OffsetOutOfRange => {
                let pos = self.reset_offset(c, local);
                let (partition, source) = (m.partition, PositionSource::OutOfRange);
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
        if self.consumers[c].state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// Buffers the records of a successful fetch, if the leader's log still
    /// holds them and the position did not move meanwhile; under
    /// read_committed, records of aborted transactions are passed over.
    fn take_fetched(&mut self, src: BrokerId, local: LocalPartition, m: FetchResponse) {
        let (c, from, to) = (m.consumer, m.from, m.to);
        // Valid only if the leader's log still holds these entries (see broker).
        let part = &self.partitions[m.partition];
        let replica = part.replicas.iter().find(|r| r.broker == src);
        let intact = replica.is_some_and(|r| r.holds(from, to, m.last_entry_epoch));
        let cs = &mut self.consumers[c];
        if to == from && part.limits.is_some() {
            // Kinesis: GetRecords found nothing; the reader idles before the next call.
            let at = self.now.add(KINESIS_IDLE_BETWEEN_READS);
            self.backoff_fetch(c, local, at);
        } else if intact && cs.position[local] == Some(from) && to > from {
            let log = &replica.expect("checked intact").log;
            let mut fates = TxnFates::default();
            for o in from..to {
                let e = log[o as usize];
                let skip = e.is_control() || (cs.read_committed && fates.aborted(log, o, &part.headers, &self.markers));
                cs.buffer.push_back((local, o, if skip { SKIP } else { e.record_id() }));
            }
            cs.buffered[local] += (to - from) as u32;
            cs.position[local] = Some(to);
            cs.fetched_epoch[local] = Some((cs.sent_epoch[local], m.last_entry_epoch));
            self.oracle.emit(self.now, Fact::Fetch { consumer: c, partition: m.partition, from, to });
        }
    }

    /// KIP-320 (SubscriptionState.maybeCompleteValidation): the new leader's
    /// log ends the epoch of the last fetched record below the position, so
    /// the log was truncated there: seek to that divergence point. Records
    /// fetched past it are dropped from the buffer and a consumed position
    /// past it moves back, so nothing below it is skipped and nothing the
    /// consumer read from the old leader is read again (the new log's
    /// records there are other records).
    fn seek_to_divergence(&mut self, local: LocalPartition, m: FetchResponse) {
        let (c, end) = (m.consumer, m.to);
        let cs = &mut self.consumers[c];
        if cs.position[local] != Some(m.from) || end >= m.from {
            return;
        }
        cs.buffer.retain(|&(l, o, _)| l != local || o < end);
        cs.buffered[local] = cs.buffer.iter().filter(|&&(l, _, _)| l == local).count() as u32;
        cs.position[local] = Some(end);
        cs.consumed[local] = cs.consumed[local].min(end);
        cs.stored[local] = cs.stored[local].min(end);
        cs.fetched_epoch[local] = Some((cs.sent_epoch[local], m.last_entry_epoch));
        let (partition, source) = (m.partition, PositionSource::Diverged);
        self.oracle.emit(self.now, Fact::Position { consumer: c, partition, offset: end, source });
    }

    /// No answer to a fetch within `request.timeout.ms`: forget it and fetch again.
    pub(crate) fn on_consumer_fetch_timeout(&mut self, c: ConsumerId, partition: PartitionId, token: u32) {
        let group = self.consumers[c].group;
        let local = partition.local_in(self.groups[group].first_partition);
        let cs = &mut self.consumers[c];
        if cs.fetching[local] == Some(token) {
            cs.fetching[local] = None;
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
        }
    }
}
