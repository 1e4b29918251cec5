//! Consumer fetches at the leader: records below the high watermark (the
//! last stable offset under read_committed), or parked until some arrive.

use crate::model::ids::{BrokerId, ConsumerId, Incarnation, LeaderEpoch, PartitionId, ReplicaId};
use crate::oracle::fact::Fact;
use crate::world::event::{Event, Fetch, FetchError, FetchResponse, Node};
use crate::world::World;

impl World {
    /// A consumer fetch at the leader: records below the high watermark, or park.
    pub(crate) fn on_fetch(&mut self, b: BrokerId, f: Fetch) {
        let part = &self.partitions[f.partition];
        let leader = part.leader.filter(|&l| part.replicas[l].broker == b);
        if let Some((end, epoch)) = leader.and_then(|l| self.diverged(f, l)) {
            let answer =
                FetchResponse { to: end, last_entry_epoch: epoch, ..FetchResponse::failed(f, FetchError::Diverged) };
            return self.send(Node::Broker(b), Node::Consumer(f.consumer), answer.into());
        }
        let part = &self.partitions[f.partition];
        let error = match leader {
            None => Some(FetchError::NotLeader),
            Some(l) if f.offset > part.replicas[l].leo() => Some(FetchError::OffsetOutOfRange),
            Some(_) => None,
        };
        if let Some(error) = error {
            return self.send(Node::Broker(b), Node::Consumer(f.consumer), FetchResponse::failed(f, error).into());
        }
        if part.limits.is_some() {
            // GetRecords: at most 5 calls a second per shard, never parked.
            let now = self.now;
            let lim = self.partitions[f.partition].limits.as_mut().expect("checked");
            if !lim.read_calls.take(now, 1) {
                self.oracle.emit(self.now, Fact::Throttled);
                let msg = FetchResponse::failed(f, FetchError::Throttled);
                return self.send(Node::Broker(b), Node::Consumer(f.consumer), msg.into());
            }
            return self.answer_fetch(b, f);
        }
        if f.offset < self.readable_end(f) {
            self.answer_fetch(b, f);
        } else {
            self.partitions[f.partition].parked_fetches.push(f);
            let Fetch { partition, consumer, inc, token, .. } = f;
            self.after(f.max_wait, Event::ConsumerFetchExpired { partition, consumer, inc, token });
        }
    }

    /// KIP-320 (OffsetsForLeaderEpoch at leader replica `l`): the end offset
    /// of the consumer's epoch in the leader's log, and the largest epoch
    /// <= it the log holds, when that end is below the fetch offset.
    fn diverged(&self, f: Fetch, l: ReplicaId) -> Option<(u64, LeaderEpoch)> {
        let r = &self.partitions[f.partition].replicas[l];
        let epoch = f.validate_epoch?;
        let end = r.end_offset_for_epoch(epoch);
        let found = r.epochs.iter().rev().map(|&(e, _)| e).find(|&e| e <= epoch).unwrap_or(epoch);
        (end < f.offset).then_some((end, found))
    }

    /// Where fetch `f` may read to: the last stable offset under
    /// read_committed, the high watermark otherwise.
    fn readable_end(&self, f: Fetch) -> u64 {
        let part = &self.partitions[f.partition];
        if f.read_committed {
            part.last_stable_offset()
        } else {
            part.high_watermark()
        }
    }

    /// Broker `b`, the leader, answers fetch `f` with what it may read.
    fn answer_fetch(&mut self, b: BrokerId, f: Fetch) {
        let (partition, offset) = (f.partition, f.offset);
        let l = self.partitions[partition].leader.expect("only a leader answers fetches");
        let mut max = f.max_records;
        let now = self.now;
        let record_bytes = f.record_bytes.max(1) as u64;
        if let Some(lim) = self.partitions[partition].limits.as_mut() {
            // Kinesis: the shard's 2 MiB/s of reads bounds what one call returns.
            max = max.min(lim.read_bytes.available(now) / record_bytes);
        }
        let to = self.readable_end(f).min(offset + max).max(offset);
        if let Some(lim) = self.partitions[partition].limits.as_mut() {
            lim.read_bytes.take(now, (to - offset) * record_bytes);
        }
        let leader = &self.partitions[partition].replicas[l];
        let answer = FetchResponse::failed(f, FetchError::None);
        let last_entry_epoch = if to > offset { leader.epoch_before(to) } else { answer.last_entry_epoch };
        let msg = FetchResponse { to, last_entry_epoch, ..answer };
        self.send(Node::Broker(b), Node::Consumer(f.consumer), msg.into());
    }

    /// The high watermark moved to `hw` at leader `b` (and with it perhaps
    /// the last stable offset): parked fetches that can read now are answered.
    pub(super) fn answer_parked_fetches(&mut self, partition: PartitionId, b: BrokerId, hw: u64) {
        let lso = self.partitions[partition].last_stable_offset();
        let mut i = 0;
        while i < self.partitions[partition].parked_fetches.len() {
            let f = self.partitions[partition].parked_fetches[i];
            let end = if f.read_committed { lso } else { hw };
            if f.offset < end {
                self.partitions[partition].parked_fetches.swap_remove(i);
                self.answer_fetch(b, f);
            } else {
                i += 1;
            }
        }
    }

    pub(crate) fn on_consumer_fetch_expired(
        &mut self,
        partition: PartitionId,
        consumer: ConsumerId,
        inc: Incarnation,
        token: u32,
    ) {
        let part = &mut self.partitions[partition];
        let parked = |p: &Fetch| p.consumer == consumer && p.inc == inc && p.token == token;
        let Some(i) = part.parked_fetches.iter().position(parked) else {
            return;
        };
        let f = part.parked_fetches.swap_remove(i);
        let Some(b) = part.leader_broker() else { return };
        self.answer_fetch(b, f);
    }
}
