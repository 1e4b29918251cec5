//! Producers: the application's send() calls, Kafka's record accumulator
//! (batching by `linger.ms` and `batch.size`), the sender (in-flight limits,
//! request timeouts, retries with backoff, `delivery.timeout.ms`), the
//! idempotent producer's sequence numbers, and the transactional producer's
//! begin / send / commit loop (the coordinator side is in `txn.rs`).

use std::collections::VecDeque;

use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::model::partitioner::key_partition_table;
use crate::model::record::{Payload, NULL_KEY};
use crate::oracle::fact::{Fact, RecordId, SendError};
use crate::scenario::{Acks, ArrivalKind, EventTimeSpec, ProducerConfig, ProducerSpec, Rate};
use crate::world::event::{Event, Msg, Node, ProduceError};
use crate::world::World;

/// Kafka's producer id (with epoch) for producer instance `p`, generation
/// `pid_gen`: a restart or an epoch bump gives a new one, whose sequences
/// start again at 0.
pub fn producer_id(p: u32, pid_gen: u32) -> u64 {
    ((p as u64) << 32) | pid_gen as u64
}

/// The producer id generation of a transactional producer: its id stays the
/// same for life (its transactional id's), only the epoch moves.
pub const TXN_PID_GEN: u32 = u32::MAX;

/// A record not sent by an idempotent producer (or not yet sequenced).
pub const NO_SEQ: u32 = u32::MAX;

/// Where a transactional producer's application is in its loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnClient {
    /// initTransactions sent; records wait in the backlog.
    Initializing,
    /// No transaction open.
    Ready,
    /// Between beginTransaction and commitTransaction: send() adds to it.
    InTxn,
    /// commitTransaction: flushing, then EndTxn(commit).
    Committing,
    /// abortTransaction: waiting for in-flight requests, then EndTxn(abort).
    Aborting,
    /// EndTxn sent, waiting for the coordinator.
    Ending,
}

/// Whether partition `p` was added to the open transaction (AddPartitionsToTxn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Added {
    #[default]
    No,
    Pending,
    Yes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchState {
    /// Still accepting records.
    Open,
    /// Closed, waiting in the partition's queue (ready at `ready_at`).
    Queued,
    /// Sent; waiting for the response of request `req`.
    InFlight,
    /// Acknowledged, failed or abandoned.
    Done,
}

/// A batch of records for one partition. Lives in the world's batch pool while
/// its producer holds it or a request carrying it is on the wire.
#[derive(Clone, Debug)]
pub struct Batch {
    pub producer: u32,
    pub inc: u32,
    /// Global partition index.
    pub partition: u32,
    pub records: Vec<RecordId>,
    pub bytes: u64,
    pub created: Instant,
    pub ready_at: Instant,
    pub attempts: u32,
    pub req: u64,
    pub sent_to: u32,
    /// The connection to `sent_to` it was sent on (see `Producer::conn_gen`).
    pub conn: u32,
    pub state: BatchState,
    pub pid: u64,
    /// Producer epoch (transactional producers; 0 otherwise).
    pub epoch: u32,
    /// Part of a transaction.
    pub txn: bool,
    /// First sequence number (idempotent producer), or NO_SEQ.
    pub base_seq: u32,
    /// Produce messages carrying this batch that have not yet arrived.
    pub refs: u32,
    /// Bytes it holds of the producer's `buffer.memory` (Kafka allocates
    /// `batch.size` per batch, or the record if larger).
    pub alloc: u64,
}

/// The producer's per-partition accumulator.
#[derive(Clone, Debug, Default)]
pub struct PartitionQueue {
    pub open: Option<u32>,
    /// Closed batches in send order; a retried batch goes back in front.
    pub queue: VecDeque<u32>,
    pub next_seq: u32,
    /// Added to the open transaction (transactional producers).
    pub added: Added,
}

#[derive(Clone, Debug)]
pub struct Producer {
    /// Index of its entry in `Scenario::producers`.
    pub spec: u32,
    pub name: String,
    pub up: bool,
    pub inc: u32,
    pub rng: EntityRng,
    pub first_partition: u32,
    pub partitions: u32,
    pub config: ProducerConfig,
    pub rate: Rate,
    pub messages: Option<u64>,
    pub keys: u32,
    pub record_bytes: u32,
    key_partition: Vec<u32>,
    /// Records handed to send(), over all incarnations.
    pub sent: u64,
    pub arrivals_done: bool,
    arrival_base: Instant,
    arrival_n: u64,
    sticky: u32,
    pub parts: Vec<PartitionQueue>,
    /// Requests awaiting a response, per broker connection.
    in_flight_to: Vec<u32>,
    /// Per broker, the current connection's number: a disconnect fails every
    /// request in flight on it and the next send opens a new one.
    conn_gen: Vec<u32>,
    /// Batches of this incarnation not yet Done.
    pub outstanding: u32,
    /// Producer id generation: bumped by a restart and by an epoch bump after
    /// the leader lost this producer's sequence state (KIP-360).
    pub pid_gen: u32,
    wake_at: Option<Instant>,
    /// Index of its transactional id in `World::txns` (transactional producers).
    pub txn: Option<u32>,
    pub txn_state: TxnClient,
    /// Epoch from the last initTransactions.
    pub epoch: u32,
    /// Numbers the transactions of this producer (names commit timers).
    pub txn_serial: u32,
    /// Records sent in the open transaction, in send order: acknowledged when
    /// it commits, sent again in the next one when it aborts.
    pub txn_records: Vec<RecordId>,
    /// Records the application produced while no transaction could take them.
    pub backlog: VecDeque<RecordId>,
    /// A send in the open transaction failed (or was fenced): it must abort.
    pub txn_failed: bool,
    /// The epoch was fenced: initTransactions again after the abort.
    pub fenced: bool,
    pub transaction_interval: Duration,
    /// Bytes of `buffer.memory` held by batches not yet done.
    pub reserved: u64,
    /// send() is blocked on a full buffer: the record in send() first, then
    /// the records the source produced meanwhile (the application's backlog).
    pub blocked: VecDeque<RecordId>,
    /// The head of `blocked` whose `max.block.ms` timer runs.
    head_waiting: Option<RecordId>,
    /// A wake-up to retry the blocked send() is scheduled.
    wake_blocked: bool,
    /// Since when send() has been blocked, and the total so far (µs).
    blocked_since: Option<Instant>,
    pub blocked_us: u64,
    /// Most records ever waiting in `blocked`.
    pub max_backlog: u64,
    pub event_time: EventTimeSpec,
    /// Events that happened while offline: (key, partition within the topic, event time µs).
    held: Vec<(u32, u32, u64)>,
    flush_scheduled: bool,
}

impl Producer {
    pub fn new(
        spec_index: u32,
        name: String,
        first_partition: u32,
        partitions: u32,
        spec: &ProducerSpec,
        rng: EntityRng,
        brokers: u32,
    ) -> Producer {
        Producer {
            spec: spec_index,
            name,
            up: true,
            inc: 0,
            rng,
            first_partition,
            partitions,
            config: spec.config.clone(),
            rate: spec.rate,
            messages: spec.messages,
            keys: spec.keys,
            record_bytes: spec.record_bytes,
            key_partition: key_partition_table(spec.keys, partitions),
            sent: 0,
            arrivals_done: false,
            arrival_base: Instant::ZERO,
            arrival_n: 0,
            sticky: 0,
            parts: vec![PartitionQueue::default(); partitions as usize],
            in_flight_to: vec![0; brokers as usize],
            conn_gen: vec![0; brokers as usize],
            outstanding: 0,
            pid_gen: 0,
            wake_at: None,
            txn: None,
            txn_state: TxnClient::Ready,
            epoch: 0,
            txn_serial: 0,
            txn_records: Vec::new(),
            backlog: VecDeque::new(),
            txn_failed: false,
            fenced: false,
            transaction_interval: spec.transaction_interval,
            reserved: 0,
            blocked: VecDeque::new(),
            head_waiting: None,
            wake_blocked: false,
            blocked_since: None,
            blocked_us: 0,
            max_backlog: 0,
            event_time: spec.event_time.clone(),
            held: Vec::new(),
            flush_scheduled: false,
        }
    }

    /// When offline now (`event_time.offline`), the moment the client is back.
    /// Offline periods end each period: `[k·every + every − for, (k+1)·every)`.
    fn offline_until(&self, now: Instant) -> Option<Instant> {
        let o = self.event_time.offline?;
        let (every, span) = (o.every.us(), o.duration.us());
        let phase = now.us() % every;
        (phase >= every - span).then(|| Instant(now.us() - phase + every))
    }

    /// The event time of a record sent now: earlier by the event's delay and
    /// the clock's skew (later, for a clock that runs ahead).
    fn event_time(&mut self, now: Instant) -> u64 {
        let delay = match &self.event_time.delay {
            Some(d) => d.sample(&mut self.rng).us(),
            None => 0,
        };
        let t = now.us().saturating_sub(delay) as i128 - self.event_time.skew_us as i128;
        t.clamp(0, u64::MAX as i128) as u64
    }

    /// No more records will come from this producer.
    pub fn is_done(&self) -> bool {
        let txn_idle = self.txn.is_none() || (self.txn_state == TxnClient::Ready && self.backlog.is_empty());
        !self.up
            || (self.arrivals_done
                && self.outstanding == 0
                && txn_idle
                && self.blocked.is_empty()
                && self.held.is_empty())
    }

    /// Time send() spent blocked on a full buffer, until `now` (µs).
    pub fn blocked_until(&self, now: Instant) -> u64 {
        self.blocked_us + self.blocked_since.map_or(0, |since| now.since(since).us())
    }

    /// Bytes of `buffer.memory` one new batch takes.
    fn batch_alloc(&self) -> u64 {
        (self.config.batch_size as u64).max(self.record_bytes as u64)
    }

    /// Gap to the next arrival: exponential for Poisson, exact for constant rates.
    fn next_arrival(&mut self, now: Instant) -> Instant {
        let Rate { count, per, kind } = self.rate;
        match kind {
            ArrivalKind::Poisson => {
                let u = self.rng.unit();
                let mean = per.us() as f64 / count as f64;
                let gap = -libm::log(1.0 - u) * mean;
                now.add(Duration(libm::round(gap).max(0.0) as u64))
            }
            ArrivalKind::Constant => {
                self.arrival_n += 1;
                let offset = (self.arrival_n as u128 * per.us() as u128 / count as u128) as u64;
                self.arrival_base.add(Duration(offset))
            }
        }
    }
}

impl World {
    pub(crate) fn start_producer(&mut self, p: u32) {
        let now = self.now;
        let pr = &mut self.producers[p as usize];
        pr.arrival_base = now;
        pr.arrival_n = 0;
        pr.sticky = if pr.partitions > 1 { pr.rng.below(pr.partitions as u64) as u32 } else { 0 };
        let first = match pr.rate.kind {
            ArrivalKind::Constant => now,
            ArrivalKind::Poisson => pr.next_arrival(now),
        };
        let inc = pr.inc;
        self.at(first, Event::ProducerArrival { p, inc });
        if let Some(txn) = self.producers[p as usize].txn {
            // initTransactions: fences any older incarnation of this transactional id.
            let pr = &mut self.producers[p as usize];
            pr.txn_state = TxnClient::Initializing;
            pr.txn_failed = false;
            pr.fenced = false;
            self.send(Node::Producer(p), Node::TxnCoordinator, Msg::InitProducerId { txn, inc });
        }
    }

    /// The application calls send() for one record.
    pub(crate) fn on_arrival(&mut self, p: u32, inc: u32) {
        let now = self.now;
        let duration_end = Instant::ZERO.add(self.scenario.duration);
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc {
            return;
        }
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
                self.at(until, Event::OfflineFlush { p, inc });
            }
        } else {
            self.hand_to_send(p, key, local, None);
        }
        let pr = &mut self.producers[p as usize];
        let next = pr.next_arrival(now);
        self.at(next, Event::ProducerArrival { p, inc });
    }

    /// The client is back online: everything it held is sent, in order.
    pub(crate) fn on_offline_flush(&mut self, p: u32, inc: u32) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc {
            return;
        }
        pr.flush_scheduled = false;
        let held = std::mem::take(&mut pr.held);
        for &(key, local, event_us) in &held {
            self.hand_to_send(p, key, local, Some(event_us));
        }
        let mut held = held;
        held.clear();
        self.producers[p as usize].held = held;
    }

    /// The application calls send() for a record of `key` bound for
    /// partition `local`; `event_us` is its event time if already known.
    fn hand_to_send(&mut self, p: u32, key: u32, local: u32, event_us: Option<u64>) {
        let now = self.now;
        let pr = &mut self.producers[p as usize];
        let inc = pr.inc;
        let g = pr.first_partition + local;
        let send_seq = pr.sent;
        pr.sent += 1;
        let event_us = match event_us {
            Some(t) => t,
            None => pr.event_time(now),
        };
        let record = self.payloads.push(Payload { producer: p, partition: g, key, event_us });
        let producer_inc = inc;
        self.oracle
            .emit(self.now, Fact::Send { record, producer: p, partition: g, key, send_seq, event_us, producer_inc });
        let pr = &mut self.producers[p as usize];
        match (pr.txn, pr.txn_state) {
            (None, _) if !pr.blocked.is_empty() => {
                // The application is inside a blocked send(): this record waits behind it.
                pr.blocked.push_back(record);
                pr.max_backlog = pr.max_backlog.max(pr.blocked.len() as u64);
            }
            (None, _) => {
                if self.has_room(p, local) {
                    self.accumulate(p, local, record);
                    self.try_send(p);
                } else {
                    let pr = &mut self.producers[p as usize];
                    pr.blocked.push_back(record);
                    pr.max_backlog = pr.max_backlog.max(1);
                    pr.blocked_since = Some(now);
                    self.wait_for_memory(p);
                }
            }
            (Some(_), TxnClient::InTxn) => {
                pr.txn_records.push(record);
                self.accumulate(p, local, record);
                self.try_send(p);
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

    /// Whether a record for partition `local` fits: it joins the open batch,
    /// or a new batch can take `batch.size` bytes of `buffer.memory`.
    fn has_room(&self, p: u32, local: u32) -> bool {
        let pr = &self.producers[p as usize];
        pr.parts[local as usize].open.is_some() || pr.reserved + pr.batch_alloc() <= pr.config.buffer_memory
    }

    /// The head of the blocked queue waits for memory; `max.block.ms` from now it fails.
    fn wait_for_memory(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        let Some(&record) = pr.blocked.front() else { return };
        if pr.head_waiting != Some(record) {
            pr.head_waiting = Some(record);
            let (inc, max_block) = (pr.inc, pr.config.max_block);
            self.after(max_block, Event::SendBlocked { p, inc, record });
        }
    }

    /// Memory came back: blocked send() calls go on in order, until one does
    /// not fit again.
    fn drain_blocked(&mut self, p: u32) {
        let now = self.now;
        while let Some(&record) = self.producers[p as usize].blocked.front() {
            let local = self.payloads.get(record).partition - self.producers[p as usize].first_partition;
            if !self.has_room(p, local) {
                return self.wait_for_memory(p);
            }
            let pr = &mut self.producers[p as usize];
            pr.blocked.pop_front();
            pr.head_waiting = None;
            self.accumulate(p, local, record);
        }
        let pr = &mut self.producers[p as usize];
        if let Some(since) = pr.blocked_since.take() {
            pr.blocked_us += now.since(since).us();
        }
    }

    /// `max.block.ms` passed with send() still blocked: it throws
    /// (TimeoutException), the record fails, and the application moves on.
    pub(crate) fn on_send_blocked(&mut self, p: u32, inc: u32, record: RecordId) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc || pr.head_waiting != Some(record) || pr.blocked.front() != Some(&record) {
            return;
        }
        pr.blocked.pop_front();
        pr.head_waiting = None;
        self.oracle.emit(self.now, Fact::Fail { record, producer: p, error: SendError::BufferFull });
        self.drain_blocked(p);
        self.try_send(p);
    }

    /// Adds a record to the open batch of partition `local`, closing it when full.
    fn accumulate(&mut self, p: u32, local: u32, record: RecordId) {
        let now = self.now;
        let batch = match self.producers[p as usize].parts[local as usize].open {
            Some(b) => b,
            None => {
                let b = self.new_batch(p, local);
                self.producers[p as usize].parts[local as usize].open = Some(b);
                let (inc, linger) = (self.producers[p as usize].inc, self.producers[p as usize].config.linger);
                if linger > Duration::ZERO {
                    self.after(linger, Event::LingerExpired { p, inc, batch: b });
                }
                b
            }
        };
        let pr = &self.producers[p as usize];
        let (record_bytes, batch_size, linger) =
            (pr.record_bytes as u64, pr.config.batch_size as u64, pr.config.linger);
        let bt = &mut self.batches[batch as usize];
        bt.records.push(record);
        bt.bytes += record_bytes;
        debug_assert_eq!(bt.state, BatchState::Open);
        if bt.bytes + record_bytes > batch_size || linger == Duration::ZERO {
            self.close_batch(p, local);
        }
        let _ = now;
    }

    fn new_batch(&mut self, p: u32, local: u32) -> u32 {
        let pr = &mut self.producers[p as usize];
        pr.outstanding += 1;
        let alloc = pr.batch_alloc();
        pr.reserved += alloc;
        let fresh = Batch {
            producer: p,
            inc: pr.inc,
            partition: pr.first_partition + local,
            records: Vec::new(),
            bytes: 0,
            created: self.now,
            ready_at: self.now,
            attempts: 0,
            req: 0,
            sent_to: 0,
            conn: 0,
            state: BatchState::Open,
            pid: producer_id(p, pr.pid_gen),
            epoch: 0,
            txn: false,
            base_seq: NO_SEQ,
            refs: 0,
            alloc,
        };
        match self.free_batches.pop() {
            Some(b) => {
                let slot = &mut self.batches[b as usize];
                let mut records = std::mem::take(&mut slot.records);
                records.clear();
                *slot = Batch { records, ..fresh };
                b
            }
            None => {
                self.batches.push(fresh);
                (self.batches.len() - 1) as u32
            }
        }
    }

    /// Closes the open batch of `local`: it queues for sending. With null keys the
    /// sticky partitioner moves on to another partition (KIP-480).
    fn close_batch(&mut self, p: u32, local: u32) {
        let now = self.now;
        let pr = &mut self.producers[p as usize];
        let Some(b) = pr.parts[local as usize].open.take() else { return };
        pr.parts[local as usize].queue.push_back(b);
        if pr.keys == 0 && pr.sticky == local && pr.partitions > 1 {
            let step = 1 + pr.rng.below(pr.partitions as u64 - 1) as u32;
            pr.sticky = (local + step) % pr.partitions;
        }
        let bt = &mut self.batches[b as usize];
        bt.state = BatchState::Queued;
        bt.ready_at = now;
    }

    pub(crate) fn on_linger_expired(&mut self, p: u32, inc: u32, batch: u32) {
        let pr = &self.producers[p as usize];
        if !pr.up || pr.inc != inc {
            return;
        }
        let local = self.batches[batch as usize].partition - pr.first_partition;
        if pr.parts[local as usize].open == Some(batch) {
            // Ready to send; it keeps taking records until the sender drains it.
            self.try_send(p);
        }
    }

    pub(crate) fn on_producer_wake(&mut self, p: u32, inc: u32) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc {
            return;
        }
        if pr.wake_at.is_some_and(|t| t <= self.now) {
            pr.wake_at = None;
        }
        if pr.wake_blocked {
            pr.wake_blocked = false;
            self.drain_blocked(p);
        }
        self.try_send(p);
    }

    fn wake_producer_at(&mut self, p: u32, at: Instant) {
        let pr = &mut self.producers[p as usize];
        if pr.wake_at.is_some_and(|t| t <= at && t >= self.now) {
            return;
        }
        pr.wake_at = Some(at);
        let inc = pr.inc;
        self.at(at, Event::ProducerWake { p, inc });
    }

    /// The sender: sends each partition's ready batches while the leader's
    /// connection has fewer than `max.in.flight.requests.per.connection` requests.
    fn try_send(&mut self, p: u32) {
        let now = self.now;
        let n = self.producers[p as usize].partitions;
        for local in 0..n {
            loop {
                let pr = &self.producers[p as usize];
                if pr.parts[local as usize].queue.is_empty() && !self.drain_open_batch(p, local) {
                    break;
                }
                let pr = &self.producers[p as usize];
                let Some(&b) = pr.parts[local as usize].queue.front() else { break };
                let bt = &self.batches[b as usize];
                if now >= bt.created.add(pr.config.delivery_timeout) {
                    self.producers[p as usize].parts[local as usize].queue.pop_front();
                    self.fail_batch(p, b, SendError::DeliveryTimeout);
                    continue;
                }
                if bt.ready_at > now {
                    let at = bt.ready_at;
                    self.wake_producer_at(p, at);
                    break;
                }
                if let Some(txn) = pr.txn {
                    // AddPartitionsToTxn must succeed before the first send to a partition.
                    match pr.parts[local as usize].added {
                        Added::Yes => {}
                        Added::Pending => break,
                        Added::No => {
                            let (inc, epoch, partition) = (pr.inc, pr.epoch, pr.first_partition + local);
                            self.producers[p as usize].parts[local as usize].added = Added::Pending;
                            let msg = Msg::AddPartitionsToTxn { txn, inc, epoch, partition };
                            self.send(Node::Producer(p), Node::TxnCoordinator, msg);
                            break;
                        }
                    }
                }
                let g = pr.first_partition + local;
                let Some(leader) = self.partitions[g as usize].leader_broker() else {
                    // No leader: wait for the metadata to change.
                    let at = now.add(pr.config.retry_backoff);
                    self.wake_producer_at(p, at);
                    break;
                };
                if pr.in_flight_to[leader as usize] >= pr.config.max_in_flight_requests_per_connection {
                    break;
                }
                self.producers[p as usize].parts[local as usize].queue.pop_front();
                self.send_batch(p, b, leader);
            }
        }
    }

    /// Kafka's sender drains an open batch once `linger.ms` has passed and
    /// the partition's leader can take a request; until then the batch keeps
    /// taking records (so an outage fills batches instead of making many
    /// small ones). An open batch past `delivery.timeout.ms` is drained to fail.
    /// Returns whether a batch was moved to the send queue.
    fn drain_open_batch(&mut self, p: u32, local: u32) -> bool {
        let now = self.now;
        let pr = &self.producers[p as usize];
        let Some(b) = pr.parts[local as usize].open else { return false };
        let bt = &self.batches[b as usize];
        let expired = now >= bt.created.add(pr.config.delivery_timeout);
        if !expired {
            if now < bt.created.add(pr.config.linger) {
                return false;
            }
            let g = pr.first_partition + local;
            let Some(leader) = self.partitions[g as usize].leader_broker() else {
                let at = now.add(pr.config.retry_backoff);
                self.wake_producer_at(p, at);
                return false;
            };
            if pr.in_flight_to[leader as usize] >= pr.config.max_in_flight_requests_per_connection {
                return false;
            }
        }
        self.close_batch(p, local);
        true
    }

    fn send_batch(&mut self, p: u32, b: u32, leader: u32) {
        let req = self.next_req;
        self.next_req += 1;
        let pr = &mut self.producers[p as usize];
        let (acks, idempotent, timeout, inc) =
            (pr.config.acks, pr.config.enable_idempotence, pr.config.request_timeout, pr.inc);
        let local = self.batches[b as usize].partition - pr.first_partition;
        if idempotent && self.batches[b as usize].base_seq == NO_SEQ {
            let n = self.batches[b as usize].records.len() as u32;
            let q = &mut pr.parts[local as usize];
            let bt = &mut self.batches[b as usize];
            bt.base_seq = q.next_seq;
            // A transactional producer keeps its id and moves its epoch; an
            // idempotent one gets a new id instead.
            let (pid, epoch, gen) = match pr.txn {
                Some(_) => (producer_id(p, TXN_PID_GEN), pr.epoch, pr.epoch),
                None => (producer_id(p, pr.pid_gen), 0, pr.pid_gen),
            };
            bt.pid = pid;
            bt.epoch = epoch;
            bt.txn = pr.txn.is_some();
            let base = q.next_seq;
            q.next_seq += n;
            for i in 0..n as usize {
                let record = self.batches[b as usize].records[i];
                self.oracle.emit(self.now, Fact::Sequenced { record, seq: base + i as u32, producer_gen: gen });
            }
        }
        let pr = &mut self.producers[p as usize];
        let bt = &mut self.batches[b as usize];
        bt.attempts += 1;
        bt.req = req;
        bt.sent_to = leader;
        bt.conn = pr.conn_gen[leader as usize];
        bt.refs += 1;
        let g = bt.partition;
        let msg = Msg::Produce { p, inc, batch: b, req, partition: g, acks };
        if acks == Acks::Zero {
            // Fire and forget: acknowledged the moment it is written to the socket.
            for i in 0..self.batches[b as usize].records.len() {
                let r = self.batches[b as usize].records[i];
                self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
            }
            self.retire_batch(p, b);
        } else {
            bt.state = BatchState::InFlight;
            pr.in_flight_to[leader as usize] += 1;
            self.after(timeout, Event::RequestTimeout { p, inc, batch: b, req });
        }
        self.send(Node::Producer(p), Node::Broker(leader), msg);
    }

    /// A request carrying batch `b` reached a broker (or bounced): one less holder.
    pub(crate) fn release_batch_ref(&mut self, b: u32) {
        let bt = &mut self.batches[b as usize];
        debug_assert!(bt.refs > 0);
        bt.refs -= 1;
        self.maybe_free_batch(b);
    }

    /// Batch `b` is done (acknowledged, failed or abandoned): it no longer
    /// counts as outstanding and its memory goes back to the producer's
    /// buffer, which may unblock a send() waiting for it.
    fn retire_batch(&mut self, p: u32, b: u32) {
        let bt = &mut self.batches[b as usize];
        debug_assert_ne!(bt.state, BatchState::Done);
        bt.state = BatchState::Done;
        let alloc = bt.alloc;
        let pr = &mut self.producers[p as usize];
        pr.outstanding -= 1;
        pr.reserved -= alloc;
        if !pr.blocked.is_empty() && !pr.wake_blocked {
            // A send() waits for memory: it goes on at the next step.
            pr.wake_blocked = true;
            let inc = pr.inc;
            let now = self.now;
            self.at(now, Event::ProducerWake { p, inc });
        }
        self.maybe_free_batch(b);
    }

    fn maybe_free_batch(&mut self, b: u32) {
        let bt = &self.batches[b as usize];
        if bt.refs == 0 && bt.state == BatchState::Done {
            self.free_batches.push(b);
        }
    }

    pub(crate) fn on_produce_response(
        &mut self,
        p: u32,
        inc: u32,
        b: u32,
        req: u64,
        result: Result<u64, ProduceError>,
    ) {
        let pr = &self.producers[p as usize];
        let bt = &self.batches[b as usize];
        if !pr.up || pr.inc != inc || bt.state != BatchState::InFlight || bt.req != req || bt.producer != p {
            return;
        }
        let (leader, conn) = (bt.sent_to, bt.conn);
        if result == Err(ProduceError::Disconnected) {
            self.disconnect(p, leader, conn, None);
            return self.try_send(p);
        }
        self.producers[p as usize].in_flight_to[leader as usize] -= 1;
        let transactional = self.producers[p as usize].txn.is_some();
        match result {
            Ok(_) => self.complete_batch(p, b),
            // A newer epoch owns the transactional id, or the leader lost this
            // producer's sequence state: the transaction aborts and the
            // producer initializes again (a bumped epoch, sequences from 0).
            Err(ProduceError::ProducerFenced) => self.fence_txn_batch(p, b),
            Err(ProduceError::OutOfOrderSequence) if transactional && self.lost_sequence_state(p, b) => {
                self.fence_txn_batch(p, b)
            }
            Err(ProduceError::OutOfOrderSequence) if self.lost_sequence_state(p, b) => {
                self.bump_epoch(p);
                self.retry_or_fail(p, b, SendError::OutOfOrderSequence);
            }
            Err(e) => self.retry_or_fail(p, b, e.into()),
        }
        self.try_send(p);
    }

    /// A transactional batch that can never land in this epoch: abandon it
    /// (its records go again in the next transaction) and abort.
    fn fence_txn_batch(&mut self, p: u32, b: u32) {
        self.retire_batch(p, b);
        let pr = &mut self.producers[p as usize];
        pr.fenced = true;
        pr.txn_failed = true;
        self.abort_txn(p);
        self.maybe_end_txn(p);
    }

    /// OutOfOrderSequence for the earliest unacknowledged batch of its
    /// partition: no earlier batch can fill the gap, so the leader lost this
    /// producer's state (truncation, unclean election, power loss).
    fn lost_sequence_state(&self, p: u32, b: u32) -> bool {
        let bt = &self.batches[b as usize];
        !self.batches.iter().any(|o| {
            o.producer == p
                && o.partition == bt.partition
                && o.inc == bt.inc
                && matches!(o.state, BatchState::Queued | BatchState::InFlight)
                && o.base_seq < bt.base_seq
        })
    }

    /// KIP-360: the producer bumps its epoch (a new producer id here) and
    /// resequences every unacknowledged batch from 0, in send order.
    fn bump_epoch(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        pr.pid_gen += 1;
        pr.parts.iter_mut().for_each(|q| q.next_seq = 0);
        let inc = pr.inc;
        for bt in self.batches.iter_mut() {
            if bt.producer == p
                && bt.inc == inc
                && matches!(bt.state, BatchState::Queued | BatchState::InFlight | BatchState::Open)
            {
                bt.base_seq = NO_SEQ;
            }
        }
    }

    pub(crate) fn on_request_timeout(&mut self, p: u32, inc: u32, b: u32, req: u64) {
        let pr = &self.producers[p as usize];
        let bt = &self.batches[b as usize];
        if !pr.up || pr.inc != inc || bt.state != BatchState::InFlight || bt.req != req || bt.producer != p {
            return;
        }
        // Kafka's client closes the connection of a timed-out request. The
        // requests may still be appended later: retrying them can duplicate
        // records unless the producer is idempotent.
        let (leader, conn) = (bt.sent_to, bt.conn);
        self.disconnect(p, leader, conn, Some(b));
        self.try_send(p);
    }

    /// Connection `conn` to `leader` is gone (it broke, or the request of
    /// batch `timed_out` timed out): every request in flight on it fails, in
    /// send order, and each batch is retried or failed. Later errors from it
    /// are stale.
    fn disconnect(&mut self, p: u32, leader: u32, conn: u32, timed_out: Option<u32>) {
        let pr = &mut self.producers[p as usize];
        if pr.conn_gen[leader as usize] != conn {
            return;
        }
        pr.conn_gen[leader as usize] = conn.wrapping_add(1);
        let inc = pr.inc;
        let mut failed: Vec<(u64, u32)> = (0..self.batches.len() as u32)
            .filter(|&b| {
                let bt = &self.batches[b as usize];
                bt.producer == p
                    && bt.inc == inc
                    && bt.state == BatchState::InFlight
                    && bt.sent_to == leader
                    && bt.conn == conn
            })
            .map(|b| (self.batches[b as usize].req, b))
            .collect();
        failed.sort_unstable();
        for (_, b) in failed {
            self.producers[p as usize].in_flight_to[leader as usize] -= 1;
            let error = if timed_out == Some(b) { SendError::RequestTimeout } else { SendError::Disconnected };
            self.retry_or_fail(p, b, error);
        }
    }

    fn complete_batch(&mut self, p: u32, b: u32) {
        // A transactional producer's records count as acknowledged when their
        // transaction commits.
        let records = if self.producers[p as usize].txn.is_some() { 0 } else { self.batches[b as usize].records.len() };
        for i in 0..records {
            let r = self.batches[b as usize].records[i];
            self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
        }
        self.retire_batch(p, b);
        self.maybe_end_txn(p);
    }

    /// A retriable `error`: back into the queue after `retry.backoff.ms`,
    /// unless retries or `delivery.timeout.ms` are used up.
    fn retry_or_fail(&mut self, p: u32, b: u32, error: SendError) {
        let now = self.now;
        let pr = &self.producers[p as usize];
        if pr.txn_state == TxnClient::Aborting && pr.txn.is_some() {
            // The transaction is aborting: no retry, the records go in the next one.
            self.retire_batch(p, b);
            return self.maybe_end_txn(p);
        }
        let cfg = &pr.config;
        let bt = &self.batches[b as usize];
        let ready = now.add(cfg.retry_backoff);
        if bt.attempts > cfg.retries {
            return self.fail_batch(p, b, error);
        }
        if ready >= bt.created.add(cfg.delivery_timeout) {
            return self.fail_batch(p, b, SendError::DeliveryTimeout);
        }
        let attempt = bt.attempts;
        for i in 0..self.batches[b as usize].records.len() {
            let record = self.batches[b as usize].records[i];
            self.oracle.emit(self.now, Fact::Retry { record, producer: p, error, attempt });
        }
        let pr = &self.producers[p as usize];
        let bt = &self.batches[b as usize];
        let local = (bt.partition - pr.first_partition) as usize;
        let idempotent = cfg.enable_idempotence;
        let first = bt.records.first().copied();
        let bt = &mut self.batches[b as usize];
        bt.state = BatchState::Queued;
        bt.ready_at = ready;
        // Kafka re-enqueues a failed batch first; an idempotent producer keeps
        // the queue in sequence order (= send order) so batches land in order.
        let queue = &mut self.producers[p as usize].parts[local].queue;
        if idempotent {
            let batches = &self.batches;
            let pos =
                queue.iter().position(|&q| batches[q as usize].records.first().copied() > first).unwrap_or(queue.len());
            queue.insert(pos, b);
        } else {
            queue.push_front(b);
        }
        self.wake_producer_at(p, ready);
    }

    /// send() reports failure (`error`) to the application for every record
    /// of the batch. In a transaction the application aborts instead, and
    /// sends the records again in the next transaction.
    fn fail_batch(&mut self, p: u32, b: u32, error: SendError) {
        if self.producers[p as usize].txn.is_some() {
            self.retire_batch(p, b);
            self.producers[p as usize].txn_failed = true;
            self.abort_txn(p);
            return self.maybe_end_txn(p);
        }
        for i in 0..self.batches[b as usize].records.len() {
            let record = self.batches[b as usize].records[i];
            self.oracle.emit(self.now, Fact::Fail { record, producer: p, error });
        }
        self.retire_batch(p, b);
    }

    /// The producer process dies: buffered records are gone with it; requests
    /// already on the wire still arrive.
    pub(crate) fn crash_producer(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        if !pr.up {
            return;
        }
        pr.up = false;
        pr.inc += 1;
        pr.outstanding = 0;
        pr.wake_at = None;
        pr.in_flight_to.iter_mut().for_each(|n| *n = 0);
        let parts = std::mem::take(&mut pr.parts);
        for q in &parts {
            for b in q.open.iter().chain(q.queue.iter()) {
                self.batches[*b as usize].state = BatchState::Done;
                self.maybe_free_batch(*b);
            }
        }
        // In-flight batches die with the process; their requests still land.
        for b in 0..self.batches.len() as u32 {
            let bt = &mut self.batches[b as usize];
            if bt.producer == p && bt.state == BatchState::InFlight {
                bt.state = BatchState::Done;
                self.maybe_free_batch(b);
            }
        }
        let n = parts.len();
        let pr = &mut self.producers[p as usize];
        pr.parts = vec![PartitionQueue::default(); n];
        // The open transaction's records and the backlog die with the process,
        // never acknowledged; the coordinator aborts the transaction when the
        // next incarnation initializes, or when it times out.
        pr.txn_records.clear();
        pr.backlog.clear();
        pr.txn_state = TxnClient::Ready;
        // Memory, a blocked send() and held offline events die with the process too.
        pr.held.clear();
        pr.flush_scheduled = false;
        pr.reserved = 0;
        pr.blocked.clear();
        pr.head_waiting = None;
        pr.wake_blocked = false;
        if let Some(since) = pr.blocked_since.take() {
            pr.blocked_us += self.now.since(since).us();
        }
    }

    pub(crate) fn restart_producer(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        if pr.up {
            return;
        }
        pr.up = true;
        pr.arrivals_done = false;
        pr.pid_gen += 1;
        self.start_producer(p);
    }

    /// beginTransaction: the backlog goes into the new transaction, which the
    /// application commits after `transaction_interval`.
    fn begin_txn(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        debug_assert_eq!(pr.txn_state, TxnClient::Ready);
        debug_assert!(pr.txn_records.is_empty() && pr.outstanding == 0);
        pr.txn_state = TxnClient::InTxn;
        pr.txn_serial += 1;
        pr.txn_failed = false;
        pr.parts.iter_mut().for_each(|q| q.added = Added::No);
        let (inc, serial, interval) = (pr.inc, pr.txn_serial, pr.transaction_interval);
        self.after(interval, Event::TxnCommitDue { p, inc, serial });
        while let Some(r) = self.producers[p as usize].backlog.pop_front() {
            let pr = &mut self.producers[p as usize];
            let local = self.payloads.get(r).partition - pr.first_partition;
            pr.txn_records.push(r);
            self.accumulate(p, local, r);
        }
        self.try_send(p);
    }

    /// commitTransaction: flush every open batch, then EndTxn(commit) once all are acknowledged.
    pub(crate) fn on_txn_commit_due(&mut self, p: u32, inc: u32, serial: u32) {
        let pr = &self.producers[p as usize];
        if !pr.up || pr.inc != inc || pr.txn_serial != serial || pr.txn_state != TxnClient::InTxn {
            return;
        }
        self.producers[p as usize].txn_state = TxnClient::Committing;
        for local in 0..self.producers[p as usize].partitions {
            self.close_batch(p, local);
        }
        self.try_send(p);
        self.maybe_end_txn(p);
    }

    /// abortTransaction: unsent batches are dropped; in-flight ones are
    /// awaited (a request landing after the abort marker would open a
    /// transaction nobody ends), then EndTxn(abort).
    fn abort_txn(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        if !matches!(pr.txn_state, TxnClient::InTxn | TxnClient::Committing) {
            return;
        }
        pr.txn_state = TxnClient::Aborting;
        let mut dropped = Vec::new();
        for q in pr.parts.iter_mut() {
            dropped.extend(q.open.take());
            dropped.extend(q.queue.drain(..));
        }
        for b in dropped {
            self.retire_batch(p, b);
        }
        self.maybe_end_txn(p);
    }

    /// Sends EndTxn once nothing of the transaction is in flight. A fenced
    /// producer cannot end it (the coordinator already aborted it): it
    /// initializes again.
    fn maybe_end_txn(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        let Some(txn) = pr.txn else { return };
        if !matches!(pr.txn_state, TxnClient::Committing | TxnClient::Aborting) || pr.outstanding > 0 {
            return;
        }
        if pr.fenced {
            return self.reinit_txn(p);
        }
        let commit = pr.txn_state == TxnClient::Committing && !pr.txn_failed;
        pr.txn_state = TxnClient::Ending;
        let (inc, epoch) = (pr.inc, pr.epoch);
        self.send(Node::Producer(p), Node::TxnCoordinator, Msg::EndTxn { txn, inc, epoch, commit });
    }

    /// The aborted transaction's records go back in front of the backlog, in
    /// send order, for the next transaction.
    fn requeue_txn_records(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        for &r in pr.txn_records.iter().rev() {
            pr.backlog.push_front(r);
        }
        for i in 0..self.producers[p as usize].txn_records.len() {
            let record = self.producers[p as usize].txn_records[i];
            self.oracle.emit(self.now, Fact::Retry { record, producer: p, error: SendError::TxnAborted, attempt: 0 });
        }
        self.producers[p as usize].txn_records.clear();
    }

    /// The open transaction's records go back in front of the backlog and the
    /// producer calls initTransactions again (KIP-588: a fenced or timed-out
    /// producer recovers with a bumped epoch).
    fn reinit_txn(&mut self, p: u32) {
        let Some(txn) = self.producers[p as usize].txn else { return };
        self.requeue_txn_records(p);
        let pr = &mut self.producers[p as usize];
        pr.txn_state = TxnClient::Initializing;
        let inc = pr.inc;
        self.send(Node::Producer(p), Node::TxnCoordinator, Msg::InitProducerId { txn, inc });
    }

    pub(crate) fn on_producer_init_response(&mut self, p: u32, inc: u32, epoch: u32) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc || pr.txn_state != TxnClient::Initializing {
            return;
        }
        pr.epoch = epoch;
        pr.fenced = false;
        pr.txn_failed = false;
        pr.parts.iter_mut().for_each(|q| q.next_seq = 0);
        pr.txn_state = TxnClient::Ready;
        if !pr.backlog.is_empty() {
            self.begin_txn(p);
        }
    }

    pub(crate) fn on_add_partitions_response(&mut self, p: u32, inc: u32, g: u32, ok: bool) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc || !matches!(pr.txn_state, TxnClient::InTxn | TxnClient::Committing) {
            return;
        }
        let local = (g - pr.first_partition) as usize;
        if pr.parts[local].added != Added::Pending {
            return;
        }
        if ok {
            pr.parts[local].added = Added::Yes;
            self.try_send(p);
        } else {
            pr.parts[local].added = Added::No;
            pr.fenced = true;
            pr.txn_failed = true;
            self.abort_txn(p);
        }
    }

    /// The coordinator ended the transaction: a commit acknowledges its
    /// records; an abort sends them again in the next transaction; a fenced
    /// producer initializes again first.
    pub(crate) fn on_producer_end_txn_response(&mut self, p: u32, inc: u32, commit: bool, ok: bool) {
        let pr = &mut self.producers[p as usize];
        if !pr.up || pr.inc != inc || pr.txn_state != TxnClient::Ending {
            return;
        }
        if !ok {
            pr.fenced = true;
            return self.reinit_txn(p);
        }
        if commit {
            let records = std::mem::take(&mut pr.txn_records);
            for &r in &records {
                self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
            }
            let mut records = records;
            records.clear();
            self.producers[p as usize].txn_records = records;
        } else {
            self.requeue_txn_records(p);
        }
        let pr = &mut self.producers[p as usize];
        pr.txn_state = TxnClient::Ready;
        if !pr.backlog.is_empty() {
            self.begin_txn(p);
        }
    }
}
