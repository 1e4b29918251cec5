//! The leader's write path: produce requests, one partition at a time (with Kafka's idempotence
//! checks), transaction markers, and the answers to writes that waited for
//! the high watermark.

use crate::model::broker::idempotence::{state_of, OpenTxn};
use crate::model::broker::log::{BatchHeader, LogEntry, CONTROL, NO_HEADER};
use crate::model::broker::partition::{PendingAck, Waiter};
use crate::model::ids::{BatchId, BrokerId, PartitionId, ReplicaId, RequestId};
use crate::model::producer::request::PartitionResult;
use crate::model::producer::NO_SEQ;
use crate::oracle::fact::Fact;
use crate::scenario::Acks;
use crate::world::event::{Msg, Node, Produce, ProduceError, ProduceResponse, WriteTxnMarker, WriteTxnMarkerResponse};
use crate::world::World;

impl World {
    /// A produce request reaches broker `b` (`KafkaApis.handleProduceRequest`,
    /// `ReplicaManager.appendRecords`): each partition's batch is appended or
    /// refused on its own; the response goes once every partition has its
    /// result (acks=all: a `DelayedProduce` waits for each one's high
    /// watermark). `waiting` counts the partitions without a result, plus one
    /// while the request is being handled, so an answer that comes at once
    /// cannot send the response early.
    pub(crate) fn on_produce(&mut self, b: BrokerId, m: Produce) {
        let id = m.request;
        let n = self.requests[id].batches.len();
        let r = &mut self.requests[id];
        r.results.clear();
        r.results.resize(n, Err(ProduceError::NotLeader));
        r.waiting = n as u32 + 1;
        for i in 0..n {
            let batch = self.requests[id].batches[i];
            if let Some(result) = self.produce_partition(b, id, i as u32, batch) {
                self.partition_answered(id, i as u32, result);
            }
            self.release_batch_ref(batch);
        }
        self.request_waits_less(id);
    }

    /// Appends (or refuses) partition `index` of request `id`, batch
    /// `batch`: its result now, or None when it waits for the high watermark.
    fn produce_partition(&mut self, b: BrokerId, id: RequestId, index: u32, batch: BatchId) -> Option<PartitionResult> {
        let (partition, acks) = (self.batches[batch].partition, self.requests[id].acks);
        if let Err(e) = self.admit_produce(b, partition, batch, acks) {
            return Some(Err(e));
        }
        let l = self.partitions[partition].leader.expect("checked above");
        match self.sequence_verdict(partition, batch) {
            Ok(None) => {}
            // A retry of a batch already in the log: not appended again. UnifiedLog.append gives
            // it the first batch's offsets, and ReplicaManager.buildProducePartitionStatus makes
            // acks=all wait (DelayedProduce) for lastOffset + 1 like any append: a duplicate is
            // acknowledged only once the high watermark covers it.
            Ok(Some(base)) => return self.duplicate_result(partition, l, id, index, batch, base),
            Err(e) => return Some(Err(e)),
        }
        let base = self.append_batch(b, partition, l, batch);
        let end = self.partitions[partition].replicas[l].leo();
        let result = match acks {
            Acks::Zero | Acks::One => Some(Ok(base)),
            Acks::All => {
                let waiter = Waiter::Produce { request: id, index, base };
                self.partitions[partition].pending_acks.push_back(PendingAck { need: end, waiter });
                None
            }
        };
        self.wake_parked_followers(partition);
        self.advance_hw(partition);
        result
    }

    /// The result of a duplicate of the batch at `base` (leader replica `l`): at once, or for
    /// acks=all, once the high watermark passes its last record.
    fn duplicate_result(
        &mut self,
        partition: PartitionId,
        l: ReplicaId,
        id: RequestId,
        index: u32,
        batch: BatchId,
        base: u64,
    ) -> Option<PartitionResult> {
        let need = base + self.batches[batch].records.len() as u64;
        let part = &mut self.partitions[partition];
        if self.requests[id].acks != Acks::All || part.replicas[l].hw >= need {
            return Some(Ok(base));
        }
        // The queue is answered in order of `need`: the duplicate goes where its offsets are.
        let waiter = Waiter::Produce { request: id, index, base };
        let at = part.pending_acks.partition_point(|a| a.need <= need);
        part.pending_acks.insert(at, PendingAck { need, waiter });
        None
    }

    /// Partition `index` of request `id` has its result.
    fn partition_answered(&mut self, id: RequestId, index: u32, result: PartitionResult) {
        self.requests[id].results[index as usize] = result;
        self.request_waits_less(id);
    }

    /// One less thing request `id` waits for; at none, the response goes
    /// (acks=0: none is sent, and the broker is done with the request).
    fn request_waits_less(&mut self, id: RequestId) {
        let r = &mut self.requests[id];
        r.waiting -= 1;
        if r.waiting > 0 {
            return;
        }
        if r.acks == Acks::Zero {
            return self.release_request_server(id);
        }
        let (b, producer, inc) = (r.broker, r.producer, r.inc);
        let throttle_ms = self.produce_throttle_ms(b, producer);
        let msg = ProduceResponse { producer, inc, request: id, disconnected: false, throttle_ms };
        self.send(Node::Broker(b), Node::Producer(producer), msg.into());
    }

    /// Whether broker `b` may append the request's batch now: it leads the
    /// partition, the ISR is large enough for acks=all, and (Kinesis) the
    /// shard's write limits take it (they are charged here).
    fn admit_produce(
        &mut self,
        b: BrokerId,
        partition: PartitionId,
        batch: BatchId,
        acks: Acks,
    ) -> Result<(), ProduceError> {
        let part = &self.partitions[partition];
        if part.leader_broker() != Some(b) {
            return Err(ProduceError::NotLeader);
        }
        if acks == Acks::All && part.isr_size() < part.min_insync_replicas {
            return Err(ProduceError::NotEnoughReplicas);
        }
        if part.limits.is_some() {
            let (n, bytes) = {
                let bt = &self.batches[batch];
                (bt.records.len() as u64, bt.bytes)
            };
            let now = self.now;
            let lim = self.partitions[partition].limits.as_mut().expect("checked");
            let fits = lim.write_records.available(now) >= n && lim.write_bytes.available(now) >= bytes;
            if !fits {
                // ProvisionedThroughputExceededException: the client backs off and retries.
                self.oracle.emit(self.now, Fact::Throttled);
                return Err(ProduceError::Throttled);
            }
            lim.write_records.take(now, n);
            lim.write_bytes.take(now, bytes);
        }
        Ok(())
    }

    /// Kafka's ProducerAppendInfo: fence older epochs, start a newer epoch at
    /// sequence 0, acknowledge a retry of one of the last five batches
    /// without appending it (its first offset), and refuse any gap.
    fn sequence_verdict(&self, partition: PartitionId, batch: BatchId) -> Result<Option<u64>, ProduceError> {
        let bt = &self.batches[batch];
        if bt.base_seq == NO_SEQ {
            return Ok(None);
        }
        let (base_seq, epoch) = (bt.base_seq, bt.epoch);
        let last_seq = base_seq + bt.records.len() as u32 - 1;
        let state = self.partitions[partition].producer_states.iter().find(|s| s.pid == bt.pid);
        match state {
            Some(s) if epoch < s.epoch => Err(ProduceError::ProducerFenced),
            Some(s) if epoch == s.epoch => match (s.duplicate_of(base_seq, last_seq), s.last_seq()) {
                (Some(offset), _) => Ok(Some(offset)),
                (None, Some(last)) if base_seq == last.wrapping_add(1) => Ok(None),
                (None, None) if base_seq == 0 => Ok(None),
                _ => Err(ProduceError::OutOfOrderSequence),
            },
            _ if base_seq == 0 => Ok(None),
            _ => Err(ProduceError::OutOfOrderSequence),
        }
    }

    /// Appends the batch to the leader's log `l`, each entry under the
    /// batch's header, and notes it in the producer state; its base offset.
    fn append_batch(&mut self, b: BrokerId, partition: PartitionId, l: ReplicaId, batch: BatchId) -> u64 {
        let (pid, epoch, base_seq, count, txn) = {
            let bt = &self.batches[batch];
            (bt.pid, bt.epoch, bt.base_seq, bt.records.len() as u32, bt.txn)
        };
        let leader_epoch = self.partitions[partition].leader_epoch;
        let base = self.partitions[partition].replicas[l].leo();
        let header = match base_seq {
            NO_SEQ => NO_HEADER,
            _ => self.partitions[partition].header_index(BatchHeader { pid, epoch, txn }),
        };
        let flush_every = self.scenario.broker_config.page_cache.flush_interval_messages;
        for i in 0..count as usize {
            let record = self.batches[batch].records[i];
            let part = &mut self.partitions[partition];
            let offset = part.replicas[l].leo();
            let seq = if base_seq == NO_SEQ { NO_SEQ } else { base_seq + i as u32 };
            let entry = LogEntry { record: record.raw(), epoch: leader_epoch, header, seq, batch_start: i == 0 };
            part.replicas[l].append(entry, self.now, flush_every);
            self.oracle.emit(self.now, Fact::Append { record, partition, offset, broker: b });
        }
        let part = &mut self.partitions[partition];
        if base_seq != NO_SEQ {
            let last = base_seq + count - 1;
            let state = state_of(&mut part.producer_states, pid, epoch);
            state.bump(epoch);
            state.push(base_seq, last, base);
        }
        if txn && !part.open_txns.iter().any(|t| t.pid == pid && t.marker.is_none()) {
            part.open_txns.push(OpenTxn { pid, first: base, marker: None });
        }
        base
    }

    /// The transaction coordinator's WriteTxnMarkers at the leader of `partition`: a
    /// commit or abort marker takes the next offset, closes the producer's
    /// open transaction here and fences its older epochs. Answered once the
    /// marker is replicated (the coordinator writes with acks=all).
    pub(crate) fn on_write_marker(&mut self, b: BrokerId, w: WriteTxnMarker) {
        let WriteTxnMarker { txn, serial, partition, marker } = w;
        let part = &self.partitions[partition];
        let refuse = part.leader_broker() != Some(b) || part.isr_size() < part.min_insync_replicas;
        if refuse {
            let msg = WriteTxnMarkerResponse { txn, serial, partition, ok: false };
            return self.send(Node::Broker(b), Node::TxnCoordinator, msg.into());
        }
        let l = part.leader.expect("checked above");
        let m = self.markers[marker];
        let epoch = part.leader_epoch;
        let part = &mut self.partitions[partition];
        let offset = part.replicas[l].leo();
        let record = CONTROL | marker.raw();
        let entry = LogEntry { record, epoch, header: NO_HEADER, seq: NO_SEQ, batch_start: true };
        let flush_every = self.scenario.broker_config.page_cache.flush_interval_messages;
        part.replicas[l].append(entry, self.now, flush_every);
        state_of(&mut part.producer_states, m.pid, m.epoch).bump(m.epoch);
        if let Some(t) = part.open_txns.iter_mut().find(|t| t.pid == m.pid && t.marker.is_none()) {
            t.marker = Some(offset);
        }
        part.pending_acks.push_back(PendingAck { need: offset + 1, waiter: Waiter::Marker { txn, serial } });
        self.oracle.emit(self.now, Fact::Marker { partition, offset, commit: m.commit, txn });
        self.wake_parked_followers(partition);
        self.advance_hw(partition);
    }

    /// Answers a write that waited for the high watermark: success, or `error`.
    pub(super) fn answer_waiter(
        &mut self,
        b: BrokerId,
        partition: PartitionId,
        w: Waiter,
        error: Option<ProduceError>,
    ) {
        let msg: Msg = match w {
            Waiter::Produce { request, index, base } => {
                let result = match error {
                    None => Ok(base),
                    Some(e) => Err(e),
                };
                return self.partition_answered(request, index, result);
            }
            Waiter::Marker { txn, serial } => {
                WriteTxnMarkerResponse { txn, serial, partition, ok: error.is_none() }.into()
            }
        };
        self.send(Node::Broker(b), Node::TxnCoordinator, msg);
    }
}
