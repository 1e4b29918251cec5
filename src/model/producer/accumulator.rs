//! The application's send() calls and Kafka's record accumulator: batching
//! by `linger.ms` and `batch.size` within `buffer.memory`, send() blocking
//! on a full buffer for `max.block.ms`, and offline clients that hold their
//! events until they are back.

use crate::kernel::time::{Duration, Instant};
use crate::model::ids::{BatchId, Incarnation, LocalPartition, ProducerId, RecordId};
use crate::model::producer::{producer_id, Batch, BatchState, TxnClient, NO_SEQ};
use crate::model::record::{Payload, NULL_KEY};
use crate::oracle::fact::{Fact, SendError};
use crate::scenario::Partitioner;
use crate::world::event::Event;
use crate::world::World;

impl World {
    /// The application calls send() for one record.
    pub(crate) fn on_arrival(&mut self, p: ProducerId, inc: Incarnation) {
        let now = self.now;
        let duration_end = Instant::ZERO.add(self.scenario.duration);
        let pr = &mut self.producers[p];
        if now >= duration_end || pr.messages.is_some_and(|m| pr.sent >= m) {
            pr.arrivals_done = true;
            return;
        }
        let (key, local) = if pr.keys > 0 {
            let k = pr.rng.below(pr.keys as u64) as u32;
            (k, pr.key_partition[k as usize])
        } else {
            (NULL_KEY, pr.sticky)
        };
        // The event happened now; a client that is offline holds it until it is back.
        if let Some(until) = pr.offline_until(now) {
            pr.held.push((key, local, now.us()));
            if !pr.flush_scheduled {
                pr.flush_scheduled = true;
                self.at(until, Event::OfflineFlush { producer: p, inc });
            }
        } else {
            self.hand_to_send(p, key, local, None);
        }
        let pr = &mut self.producers[p];
        let next = pr.next_arrival(now);
        self.at(next, Event::ProducerArrival { producer: p, inc });
    }

    /// The client is back online: everything it held is sent, in order.
    pub(crate) fn on_offline_flush(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        pr.flush_scheduled = false;
        let held = std::mem::take(&mut pr.held);
        for &(key, local, event_us) in &held {
            self.hand_to_send(p, key, local, Some(event_us));
        }
        let mut held = held;
        held.clear();
        self.producers[p].held = held;
    }

    /// The application calls send() for a record of `key` bound for
    /// partition `local`; `event_us` is its event time if already known.
    fn hand_to_send(&mut self, p: ProducerId, key: u32, local: LocalPartition, event_us: Option<u64>) {
        let now = self.now;
        let pr = &mut self.producers[p];
        let inc = pr.inc;
        let partition = pr.first_partition.at(local);
        let send_seq = pr.sent;
        pr.sent += 1;
        let event_us = match event_us {
            Some(t) => t,
            None => pr.event_time(now),
        };
        let record = self.payloads.push(Payload::new(p, partition, key, event_us));
        let producer_inc = inc;
        self.oracle
            .emit(self.now, Fact::Send { record, producer: p, partition, key, send_seq, event_us, producer_inc });
        let pr = &mut self.producers[p];
        match (pr.txn, pr.txn_state) {
            (None, _) if !pr.blocked.is_empty() => {
                // The application is inside a blocked send(): this record waits behind it.
                pr.blocked.push_back(record);
                pr.max_backlog = pr.max_backlog.max(pr.blocked.len() as u64);
            }
            (None, _) => {
                if self.has_room(p, local) {
                    if self.accumulate(p, local, record) {
                        self.try_send(p);
                    }
                } else {
                    let pr = &mut self.producers[p];
                    pr.blocked.push_back(record);
                    pr.max_backlog = pr.max_backlog.max(1);
                    pr.blocked_since = Some(now);
                    self.oracle.emit(now, Fact::SendBlocked { producer: p });
                    self.wait_for_memory(p);
                }
            }
            (Some(_), TxnClient::InTxn) => {
                pr.txn_records.push(record);
                if self.accumulate(p, local, record) {
                    self.try_send(p);
                }
            }
            (Some(_), state) => {
                // No transaction can take it now: it waits for the next one.
                pr.backlog.push_back(record);
                if state == TxnClient::Ready {
                    self.begin_txn(p);
                }
            }
        }
    }

    /// `on_failure: resend`: the application's callback got `error` for
    /// every record of `batch` and calls send() again with each, in order:
    /// new sends, in a new batch with new sequence numbers, so the broker
    /// cannot tell them from new records if the first write landed.
    pub(super) fn resend_batch(&mut self, p: ProducerId, batch: BatchId, error: SendError) {
        // A copy: a request still on its way to a broker holds the batch.
        let records = self.batches[batch].records.clone();
        self.retire_batch(p, batch);
        let mut wake = false;
        for &record in &records {
            self.oracle.emit(self.now, Fact::Resend { record, producer: p, error });
            let local = self.payloads.get(record).partition.local_in(self.producers[p].first_partition);
            if !self.producers[p].blocked.is_empty() || !self.has_room(p, local) {
                // Behind a blocked send(), or the buffer is full: it waits for memory.
                let pr = &mut self.producers[p];
                pr.blocked.push_back(record);
                pr.max_backlog = pr.max_backlog.max(pr.blocked.len() as u64);
                self.wait_for_memory(p);
                continue;
            }
            wake |= self.accumulate(p, local, record);
        }
        if wake {
            self.try_send(p);
        }
    }

    /// Whether a record for partition `local` fits: it joins the open batch,
    /// or a new batch can take `batch.size` bytes of `buffer.memory`.
    fn has_room(&self, p: ProducerId, local: LocalPartition) -> bool {
        let pr = &self.producers[p];
        pr.parts[local].open.is_some() || pr.reserved + pr.batch_alloc() <= pr.config.buffer_memory
    }

    /// The head of the blocked queue waits for memory; `max.block.ms` from now it fails.
    fn wait_for_memory(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        let Some(&record) = pr.blocked.front() else { return };
        if pr.head_waiting != Some(record) {
            pr.head_waiting = Some(record);
            let (inc, max_block) = (pr.inc, pr.config.max_block);
            self.after(max_block, Event::SendBlocked { producer: p, inc, record });
        }
    }

    /// Memory came back: blocked send() calls go on in order, until one does
    /// not fit again.
    pub(super) fn drain_blocked(&mut self, p: ProducerId) {
        let now = self.now;
        while let Some(&record) = self.producers[p].blocked.front() {
            let local = self.payloads.get(record).partition.local_in(self.producers[p].first_partition);
            if !self.has_room(p, local) {
                return self.wait_for_memory(p);
            }
            let pr = &mut self.producers[p];
            pr.blocked.pop_front();
            pr.head_waiting = None;
            let _ = self.accumulate(p, local, record);
        }
        let pr = &mut self.producers[p];
        if let Some(since) = pr.blocked_since.take() {
            pr.blocked_us += now.since(since).us();
            self.oracle.emit(now, Fact::SendUnblocked { producer: p });
        }
    }

    /// `max.block.ms` passed with send() still blocked: it throws
    /// (TimeoutException), the record fails, and the application moves on.
    pub(crate) fn on_send_blocked(&mut self, p: ProducerId, record: RecordId) {
        let pr = &mut self.producers[p];
        if pr.head_waiting != Some(record) || pr.blocked.front() != Some(&record) {
            return;
        }
        pr.blocked.pop_front();
        pr.head_waiting = None;
        self.oracle.emit(self.now, Fact::Fail { record, producer: p, error: SendError::BufferFull });
        self.drain_blocked(p);
        self.try_send(p);
    }

    /// Adds a record to the open batch of partition `local`, closing it when
    /// full. Whether the sender should wake: a batch was created or filled
    /// (`KafkaProducer.doSend` wakes it only then; `RecordAccumulator.ready`
    /// decides what goes).
    #[must_use]
    pub(super) fn accumulate(&mut self, p: ProducerId, local: LocalPartition, record: RecordId) -> bool {
        let mut wake = false;
        let batch = match self.producers[p].parts[local].open {
            Some(batch) => batch,
            None => {
                wake = true;
                let batch = self.new_batch(p, local);
                self.producers[p].parts[local].open = Some(batch);
                self.producers[p].holding.mark(local);
                let (inc, linger) = (self.producers[p].inc, self.producers[p].config.linger);
                if linger > Duration::ZERO {
                    self.after(linger, Event::LingerExpired { producer: p, inc, batch });
                }
                batch
            }
        };
        let pr = &self.producers[p];
        let (record_bytes, batch_size) = (pr.record_bytes as u64, pr.config.batch_size as u64);
        let bt = &mut self.batches[batch];
        bt.records.push(record);
        bt.bytes += record_bytes;
        debug_assert_eq!(bt.state, BatchState::Open);
        // Only a full batch closes here. With `linger.ms: 0` the batch is
        // ready at once but keeps taking records until the sender drains it
        // (RecordAccumulator.append appends to the last batch of the deque
        // while it has room; `ready` only decides when it may be drained).
        if bt.bytes + record_bytes > batch_size {
            self.close_batch(p, local);
            wake = true;
        }
        let pr = &self.producers[p];
        if pr.keys == 0 && pr.sticky == local && pr.config.partitioner == Partitioner::BuiltIn {
            self.built_in_partitioner_update(p, local, record_bytes);
        }
        wake
    }

    /// KIP-794 (`BuiltInPartitioner.updatePartitionInfo`): null keys stay on
    /// one partition until `batch.size` bytes went to it and its last batch
    /// is full (`RecordAccumulator.allBatchesFull`), or twice that in any
    /// case; then a partition with a leader is drawn uniformly (the same one
    /// may come again).
    fn built_in_partitioner_update(&mut self, p: ProducerId, local: LocalPartition, record_bytes: u64) {
        let pr = &mut self.producers[p];
        pr.sticky_bytes += record_bytes;
        let batch_size = pr.config.batch_size as u64;
        let full = pr.parts[local].open.is_none();
        if !(pr.sticky_bytes >= batch_size && full || pr.sticky_bytes >= 2 * batch_size) {
            return;
        }
        pr.sticky_bytes = 0;
        let (first, n) = (pr.first_partition, pr.partitions);
        let available = (0..n).filter(|&i| self.partitions[first.at(LocalPartition::new(i))].leader.is_some()).count();
        let pr = &mut self.producers[p];
        pr.sticky = if available == 0 || available == n as usize {
            LocalPartition::new(pr.rng.below(n as u64) as u32)
        } else {
            let k = pr.rng.below(available as u64) as usize;
            let partitions = &self.partitions;
            let mut with_leader = (0..n).filter(|&i| partitions[first.at(LocalPartition::new(i))].leader.is_some());
            LocalPartition::new(with_leader.nth(k).unwrap_or(0))
        };
    }

    fn new_batch(&mut self, p: ProducerId, local: LocalPartition) -> BatchId {
        let pr = &mut self.producers[p];
        pr.outstanding += 1;
        let alloc = pr.batch_alloc();
        pr.reserved += alloc;
        let fresh = Batch {
            producer: p,
            inc: pr.inc,
            partition: pr.first_partition.at(local),
            records: Vec::new(),
            bytes: 0,
            created: self.now,
            ready_at: self.now,
            attempts: 0,
            req: 0,
            sent_to: Default::default(),
            conn: 0,
            state: BatchState::Open,
            pid: producer_id(p, pr.pid_gen),
            epoch: Default::default(),
            txn: false,
            base_seq: NO_SEQ,
            refs: 0,
            alloc,
        };
        match self.free_batches.pop() {
            Some(batch) => {
                let slot = &mut self.batches[batch];
                let mut records = std::mem::take(&mut slot.records);
                records.clear();
                *slot = Batch { records, ..fresh };
                batch
            }
            None => self.batches.push(fresh),
        }
    }

    /// Closes the open batch of `local`: it queues for sending. With null keys
    /// the sticky partitioner of Kafka before 3.3 moves on to another
    /// partition (KIP-480, `StickyPartitionCache`).
    pub(super) fn close_batch(&mut self, p: ProducerId, local: LocalPartition) {
        let now = self.now;
        let pr = &mut self.producers[p];
        let Some(batch) = pr.parts[local].open.take() else { return };
        pr.parts[local].queue.push_back(batch);
        if pr.keys == 0 && pr.sticky == local && pr.partitions > 1 && pr.config.partitioner == Partitioner::Sticky {
            let step = 1 + pr.rng.below(pr.partitions as u64 - 1) as u32;
            pr.sticky = LocalPartition::new((local.raw() + step) % pr.partitions);
        }
        let bt = &mut self.batches[batch];
        bt.state = BatchState::Queued;
        bt.ready_at = now;
    }

    pub(crate) fn on_linger_expired(&mut self, p: ProducerId, batch: BatchId) {
        let pr = &self.producers[p];
        let local = self.batches[batch].partition.local_in(pr.first_partition);
        if pr.parts[local].open == Some(batch) {
            // Ready to send; it keeps taking records until the sender drains it.
            self.try_send(p);
        }
    }
}
