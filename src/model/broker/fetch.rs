//! Consumer fetches at a broker, as `KafkaApis.handleFetchRequest` and
//! `ReplicaManager.fetchMessages` serve them. One request carries several
//! partitions; each is read below its high watermark (the last stable
//! offset under read_committed) in request order, each part up to
//! `max.partition.fetch.bytes` and the whole answer up to `fetch.max.bytes`,
//! the first part with data carrying at least one record whatever the
//! limits (`readFromLog`'s `minOneMessage`). The answer goes at once when
//! `fetch.min.bytes` are readable, a partition has an error or diverged, or
//! the fetch will not wait; otherwise the whole request parks
//! (`DelayedFetch`) until enough is readable over its partitions, one of
//! them changes leader, or `fetch.max.wait.ms` passes. Kinesis shards
//! answer GetRecords at once, within their read limits.

use crate::model::consumer::fetch_request::{FetchPart, PartAnswer};
use crate::model::ids::{BrokerId, ConsumerFetchSlot, LeaderEpoch, PartitionId, ReplicaId};
use crate::oracle::fact::Fact;
use crate::world::event::{Event, Fetch, FetchError, FetchResponse, Msg, Node};
use crate::world::World;

/// A consumer fetch parked at a partition's leader: its slot, its park
/// number (the slot's `parked` must still say so) and the partition's
/// index among the fetch's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkedFetch {
    pub slot: ConsumerFetchSlot,
    pub serial: u64,
    pub part: u32,
}

impl World {
    /// A consumer fetch reaches broker `b`. A muted channel (the client's
    /// fetch quota) reads it only when it opens; otherwise it is answered
    /// now or parked.
    pub(crate) fn on_fetch(&mut self, from: Node, b: BrokerId, f: Fetch) {
        if let Some(until) = self.fetch_channel_muted(b, f.consumer) {
            return self.at(until, Event::Deliver { from, to: Node::Broker(b), msg: Msg::Fetch(f) });
        }
        if self.fetch_can_answer(b, f) {
            self.answer_fetch(b, f, None);
        } else {
            self.park_fetch(b, f);
        }
    }

    /// `fetchMessages`' test for answering at once: the fetch will not
    /// wait, a partition has an error or diverged, a Kinesis shard (never
    /// parked), or `fetch.min.bytes` readable over all partitions.
    fn fetch_can_answer(&self, b: BrokerId, f: Fetch) -> bool {
        if f.max_wait.us() == 0 {
            return true;
        }
        let mut bytes = 0u64;
        for p in &self.consumer_fetches[f.slot].parts {
            let part = &self.partitions[p.partition];
            let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else { return true };
            if part.limits.is_some() || self.diverged(p, l).is_some() || p.offset > part.replicas[l].leo() {
                return true;
            }
            bytes += self.readable_bytes(f, p);
        }
        bytes >= u64::from(f.min_bytes.max(1))
    }

    /// What part `p` of fetch `f` could read now, in bytes, up to its
    /// partition limit (`DelayedFetch.tryComplete`'s `bytesAvailable`).
    fn readable_bytes(&self, f: Fetch, p: &FetchPart) -> u64 {
        let records = self.readable_end(f, p.partition).saturating_sub(p.offset);
        (records * u64::from(f.record_bytes.max(1))).min(u64::from(f.partition_max_bytes))
    }

    /// KIP-320 (OffsetsForLeaderEpoch at leader replica `l`): the end offset
    /// of the consumer's epoch in the leader's log, and the largest epoch
    /// <= it the log holds, when that end is below the fetch offset.
    fn diverged(&self, p: &FetchPart, l: ReplicaId) -> Option<(u64, LeaderEpoch)> {
        let r = &self.partitions[p.partition].replicas[l];
        let epoch = p.validate_epoch?;
        let end = r.end_offset_for_epoch(epoch);
        let found = r.epochs.iter().rev().map(|&(e, _)| e).find(|&e| e <= epoch).unwrap_or(epoch);
        (end < p.offset).then_some((end, found))
    }

    /// Where fetch `f` may read `partition` to: the last stable offset
    /// under read_committed, the high watermark otherwise.
    fn readable_end(&self, f: Fetch, partition: PartitionId) -> u64 {
        let part = &self.partitions[partition];
        if f.read_committed {
            part.last_stable_offset()
        } else {
            part.high_watermark()
        }
    }

    /// Broker `b` answers fetch `f` (`readFromLog`, then the fetch quota);
    /// `gone`: a partition whose leadership just moved, answered NotLeader.
    pub(super) fn answer_fetch(&mut self, b: BrokerId, f: Fetch, gone: Option<PartitionId>) {
        let mut answers = std::mem::take(&mut self.consumer_fetches[f.slot].answers);
        answers.clear();
        let mut limit = u64::from(f.max_bytes).min(self.fetch_quota_window_bytes(f.consumer));
        let mut min_one = true;
        let mut bytes = 0u64;
        for i in 0..self.consumer_fetches[f.slot].parts.len() {
            let p = self.consumer_fetches[f.slot].parts[i];
            let a = if gone == Some(p.partition) {
                PartAnswer::empty(p.offset, FetchError::NotLeader)
            } else {
                self.read_part(b, f, &p, limit, min_one)
            };
            // Only a record answer reads bytes: a divergence answer's `to` is the
            // epoch's end, which lies below the position.
            let read = if a.error == FetchError::None { (a.to - a.from) * u64::from(f.record_bytes.max(1)) } else { 0 };
            if read > 0 {
                // Past the first part with data, the limits hold.
                min_one = false;
            }
            limit = limit.saturating_sub(read);
            bytes += read;
            answers.push(a);
        }
        let throttle_ms = self.fetch_quota_gate(b, f.consumer, bytes);
        if throttle_ms > 0 {
            // `getThrottledResponse`: an empty answer; the bytes were unrecorded.
            answers.clear();
        }
        self.consumer_fetches[f.slot].answers = answers;
        let (consumer, inc, token, slot) = (f.consumer, f.inc, f.token, f.slot);
        let msg = FetchResponse { consumer, inc, token, slot, throttle_ms, disconnected: false };
        self.send(Node::Broker(b), Node::Consumer(f.consumer), msg.into());
    }

    /// One partition's part of broker `b`'s answer, reading at most `limit`
    /// bytes of the answer's remaining budget (at least one record while
    /// `min_one`).
    fn read_part(&mut self, b: BrokerId, f: Fetch, p: &FetchPart, limit: u64, min_one: bool) -> PartAnswer {
        let part = &self.partitions[p.partition];
        let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else {
            return PartAnswer::empty(p.offset, FetchError::NotLeader);
        };
        if let Some((end, epoch)) = self.diverged(p, l) {
            return PartAnswer {
                to: end,
                last_entry_epoch: epoch,
                ..PartAnswer::empty(p.offset, FetchError::Diverged)
            };
        }
        if p.offset > part.replicas[l].leo() {
            return PartAnswer::empty(p.offset, FetchError::OffsetOutOfRange);
        }
        let record_bytes = u64::from(f.record_bytes.max(1));
        let mut max = u64::from(f.partition_max_bytes).min(limit) / record_bytes;
        if max == 0 && min_one {
            max = 1;
        }
        let now = self.now;
        if let Some(lim) = self.partitions[p.partition].limits.as_mut() {
            // GetRecords: at most 5 calls a second per shard; the shard's
            // 2 MiB/s of reads bounds what one call returns.
            if !lim.read_calls.take(now, 1) {
                self.oracle.emit(now, Fact::Throttled);
                return PartAnswer::empty(p.offset, FetchError::Throttled);
            }
            max = max.min(lim.read_bytes.available(now) / record_bytes);
        }
        let to = self.readable_end(f, p.partition).min(p.offset + max).max(p.offset);
        if let Some(lim) = self.partitions[p.partition].limits.as_mut() {
            lim.read_bytes.take(now, (to - p.offset) * record_bytes);
        }
        let leader = &self.partitions[p.partition].replicas[l];
        let last_entry_epoch = if to > p.offset { leader.epoch_before(to) } else { PartAnswer::NO_EPOCH };
        PartAnswer { to, last_entry_epoch, ..PartAnswer::empty(p.offset, FetchError::None) }
    }

    /// `DelayedFetch` into the purgatory: watched at each of its partitions
    /// until it can complete, or `fetch.max.wait.ms`.
    fn park_fetch(&mut self, b: BrokerId, f: Fetch) {
        self.next_park += 1;
        let serial = self.next_park;
        self.consumer_fetches[f.slot].parked = Some((f, serial));
        for i in 0..self.consumer_fetches[f.slot].parts.len() {
            let partition = self.consumer_fetches[f.slot].parts[i].partition;
            // Entries of fetches no longer parked go as new ones come
            // (a few at a time: one live entry per consumer reading it).
            let slots = &self.consumer_fetches;
            let list = &mut self.partitions[partition].parked_fetches;
            if list.len() >= 4 {
                list.retain(|e| slots[e.slot].parked.is_some_and(|(_, s)| s == e.serial));
            }
            list.push(ParkedFetch { slot: f.slot, serial, part: i as u32 });
        }
        self.after(f.max_wait, Event::ConsumerFetchExpired { broker: b, slot: f.slot, serial });
    }

    /// The fetch parked as `e`, if it still is: it leaves the purgatory.
    fn unpark(&mut self, e: ParkedFetch) -> Option<Fetch> {
        let d = &mut self.consumer_fetches[e.slot];
        match d.parked {
            Some((f, serial)) if serial == e.serial => {
                d.parked = None;
                Some(f)
            }
            _ => None,
        }
    }

    /// The high watermark of `partition` moved at leader `b` (and with it
    /// perhaps the last stable offset): parked fetches watching it that can
    /// complete now are answered (`DelayedFetch.tryComplete`).
    pub(super) fn answer_parked_fetches(&mut self, partition: PartitionId, b: BrokerId, _hw: u64) {
        let mut i = 0;
        while i < self.partitions[partition].parked_fetches.len() {
            let e = self.partitions[partition].parked_fetches[i];
            let Some((f, serial)) = self.consumer_fetches[e.slot].parked else {
                self.partitions[partition].parked_fetches.swap_remove(i);
                continue;
            };
            if serial != e.serial {
                self.partitions[partition].parked_fetches.swap_remove(i);
                continue;
            }
            if self.parked_can_complete(f, e) {
                self.partitions[partition].parked_fetches.swap_remove(i);
                self.unpark(e);
                self.answer_fetch(b, f, None);
            } else {
                i += 1;
            }
        }
    }

    /// Case G of `DelayedFetch.tryComplete`: `fetch.min.bytes` readable over
    /// the fetch's partitions (this one alone is enough, most of the time).
    fn parked_can_complete(&self, f: Fetch, e: ParkedFetch) -> bool {
        let parts = &self.consumer_fetches[f.slot].parts;
        let need = u64::from(f.min_bytes.max(1));
        if self.readable_bytes(f, &parts[e.part as usize]) >= need {
            return true;
        }
        parts.iter().map(|p| self.readable_bytes(f, p)).sum::<u64>() >= need
    }

    /// `fetch.max.wait.ms` of the fetch parked at `broker` in `slot` passed:
    /// it answers with whatever is readable.
    pub(crate) fn on_consumer_fetch_expired(&mut self, broker: BrokerId, slot: ConsumerFetchSlot, serial: u64) {
        if let Some(f) = self.unpark(ParkedFetch { slot, serial, part: 0 }) {
            self.answer_fetch(broker, f, None);
        }
    }

    /// The leader `old` of `partition` lets go of the fetches parked there:
    /// NotLeader when leadership moves (Case A: the fetch completes now, the
    /// other partitions with what they have), Disconnected when its process
    /// dies (the connection breaks: no answer).
    pub(super) fn release_parked_fetches(&mut self, partition: PartitionId, old: BrokerId, error: FetchError) {
        let parked = std::mem::take(&mut self.partitions[partition].parked_fetches);
        for &e in &parked {
            let Some(f) = self.unpark(e) else { continue };
            if error == FetchError::NotLeader {
                self.answer_fetch(old, f, Some(partition));
            } else {
                self.send(Node::Broker(old), Node::Consumer(f.consumer), FetchResponse::failed(f).into());
            }
        }
        let mut parked = parked;
        parked.clear();
        self.partitions[partition].parked_fetches = parked;
    }

    /// A host crash: the fetches parked at `partition`'s leader die unanswered.
    pub(super) fn drop_parked_fetches(&mut self, partition: PartitionId) {
        let parked = std::mem::take(&mut self.partitions[partition].parked_fetches);
        for &e in &parked {
            if self.unpark(e).is_some() {
                self.free_consumer_fetch(e.slot);
            }
        }
        let mut parked = parked;
        parked.clear();
        self.partitions[partition].parked_fetches = parked;
    }
}
