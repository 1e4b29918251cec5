//! Producers: the application's send() calls, Kafka's record accumulator
//! (batching by `linger.ms` and `batch.size`), the sender (in-flight limits,
//! request timeouts, retries with backoff, `delivery.timeout.ms`), the
//! idempotent producer's sequence numbers, and the transactional producer's
//! begin / send / commit loop (the coordinator side is in `txn.rs`).
//!
//! - `accumulator`: send() and the record accumulator (batches, `buffer.memory`);
//! - `sender`: draining batches into produce requests, their responses, retries and failures;
//! - `holding`: which partitions hold a batch (what the ready check visits);
//! - `request`: a produce request and its per-partition answer, in the world's pool;
//! - `transactional`: the transactional producer's loop;
//! - this file: the producer's state and its process's life.

mod accumulator;
pub mod connection;
mod holding;
pub mod request;
pub mod sender;
mod transactional;

use std::collections::VecDeque;

use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::model::ids::{
    BatchId, BrokerId, IdVec, Incarnation, LocalPartition, PartitionId, ProducerEpoch, ProducerId, RecordId, TxnId,
};
use crate::model::partitioner::key_partition_table;
use crate::model::producer::connection::{Conn, ConnBackoffs};
use crate::model::producer::holding::Holding;
use crate::oracle::fact::Fact;
use crate::scenario::{ArrivalKind, EventTimeSpec, OnFailure, ProducerConfig, ProducerSpec, Rate};
use crate::world::event::{Event, InitProducerId, Node};
use crate::world::World;

/// Kafka's producer id (with epoch) for producer instance `p`, generation
/// `pid_gen`: a restart or an epoch bump gives a new one, whose sequences
/// start again at 0.
pub fn producer_id(p: ProducerId, pid_gen: u32) -> u64 {
    (u64::from(p) << 32) | pid_gen as u64
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
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub partition: PartitionId,
    pub records: Vec<RecordId>,
    pub bytes: u64,
    pub created: Instant,
    pub ready_at: Instant,
    pub attempts: u32,
    pub req: u64,
    pub sent_to: BrokerId,
    /// The connection to `sent_to` it was sent on (see `Conn::gen`).
    pub conn: u32,
    pub state: BatchState,
    pub pid: u64,
    /// Producer epoch (transactional producers; 0 otherwise).
    pub epoch: ProducerEpoch,
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
    pub open: Option<BatchId>,
    /// Closed batches in send order; a retried batch goes back in front.
    pub queue: VecDeque<BatchId>,
    pub next_seq: u32,
    /// Base sequences of this partition's sequenced batches not yet done
    /// (acknowledged or failed), ascending: `TxnPartitionEntry`'s in-flight
    /// batches by sequence. A retried batch stays here while it waits in the
    /// queue; the first is `TransactionManager.firstInFlightSequence`.
    pub unresolved: Vec<u32>,
    /// Added to the open transaction (transactional producers).
    pub added: Added,
}

#[derive(Clone, Debug)]
pub struct Producer {
    /// Index of its entry in `Scenario::producers`.
    pub spec: u32,
    pub name: String,
    pub up: bool,
    pub inc: Incarnation,
    pub rng: EntityRng,
    pub first_partition: PartitionId,
    pub partitions: u32,
    pub config: ProducerConfig,
    pub rate: Rate,
    pub messages: Option<u64>,
    pub keys: u32,
    pub record_bytes: u32,
    key_partition: Vec<LocalPartition>,
    /// Records handed to send(), over all incarnations.
    pub sent: u64,
    pub arrivals_done: bool,
    arrival_base: Instant,
    arrival_n: u64,
    sticky: LocalPartition,
    /// Bytes of null-key records appended to `sticky` since it was chosen (KIP-794).
    sticky_bytes: u64,
    pub parts: IdVec<LocalPartition, PartitionQueue>,
    /// The partitions of `parts` holding a batch (a superset: `holding.rs`).
    holding: Holding,
    /// Per broker, the connection (`connection.rs`): its state, its number
    /// (a disconnect fails every request in flight on it) and its requests
    /// awaiting a response.
    pub conns: IdVec<BrokerId, Conn>,
    /// Per broker, where the next drain starts among the partitions it leads
    /// (`RecordAccumulator.nodesDrainIndex`, so that no partition starves).
    pub drain_index: IdVec<BrokerId, u32>,
    conn_backoffs: ConnBackoffs,
    /// Draws the jitter of retry and reconnect backoffs and connection setup timeouts
    /// (its own stream: the arrivals' draws do not depend on the network's).
    net_rng: EntityRng,
    /// Batches of this incarnation not yet Done.
    pub outstanding: u32,
    /// Producer id generation: bumped by a restart and by an epoch bump after
    /// the leader lost this producer's sequence state (KIP-360).
    pub pid_gen: u32,
    wake_at: Option<Instant>,
    /// Index of its transactional id in `World::txns` (transactional producers).
    pub txn: Option<TxnId>,
    pub txn_state: TxnClient,
    /// Epoch from the last initTransactions.
    pub epoch: ProducerEpoch,
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
    /// `on_failure: resend`: the application sends a failed record again.
    pub resend_failed: bool,
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
    held: Vec<(u32, LocalPartition, u64)>,
    flush_scheduled: bool,
}

impl Producer {
    pub fn new(
        spec_index: u32,
        name: String,
        first_partition: PartitionId,
        partitions: u32,
        spec: &ProducerSpec,
        // The producer's own stream, and its connections' (see `net_rng`).
        (rng, net_rng): (EntityRng, EntityRng),
        brokers: u32,
    ) -> Producer {
        Producer {
            spec: spec_index,
            name,
            up: true,
            inc: Incarnation::new(0),
            rng,
            first_partition,
            partitions,
            config: spec.config.clone(),
            rate: spec.rate,
            messages: spec.messages,
            keys: spec.keys,
            record_bytes: spec.record_bytes,
            key_partition: key_partition_table(spec.keys, partitions).into_iter().map(LocalPartition::new).collect(),
            sent: 0,
            arrivals_done: false,
            arrival_base: Instant::ZERO,
            arrival_n: 0,
            sticky: LocalPartition::new(0),
            sticky_bytes: 0,
            parts: IdVec::filled(PartitionQueue::default(), partitions as usize),
            holding: Holding::new(partitions),
            conns: IdVec::filled(Conn::default(), brokers as usize),
            drain_index: IdVec::filled(0, brokers as usize),
            conn_backoffs: ConnBackoffs::new(&spec.config),
            net_rng,
            outstanding: 0,
            pid_gen: 0,
            wake_at: None,
            txn: None,
            txn_state: TxnClient::Ready,
            epoch: ProducerEpoch::new(0),
            txn_serial: 0,
            txn_records: Vec::new(),
            backlog: VecDeque::new(),
            txn_failed: false,
            fenced: false,
            transaction_interval: spec.transaction_interval,
            resend_failed: spec.on_failure == OnFailure::Resend,
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
    pub(crate) fn start_producer(&mut self, p: ProducerId) {
        let now = self.now;
        let pr = &mut self.producers[p];
        pr.arrival_base = now;
        pr.arrival_n = 0;
        pr.sticky_bytes = 0;
        pr.sticky = if pr.partitions > 1 {
            LocalPartition::new(pr.rng.below(pr.partitions as u64) as u32)
        } else {
            LocalPartition::new(0)
        };
        let first = match pr.rate.kind {
            ArrivalKind::Constant => now,
            ArrivalKind::Poisson => pr.next_arrival(now),
        };
        let inc = pr.inc;
        self.at(first, Event::ProducerArrival { producer: p, inc });
        if let Some(txn) = self.producers[p].txn {
            // initTransactions: fences any older incarnation of this transactional id.
            let pr = &mut self.producers[p];
            pr.txn_state = TxnClient::Initializing;
            pr.txn_failed = false;
            pr.fenced = false;
            self.send(Node::Producer(p), Node::TxnCoordinator, InitProducerId { txn, inc }.into());
        }
    }

    /// The producer process dies: buffered records are gone with it; requests
    /// already on the wire still arrive.
    pub(crate) fn crash_producer(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        if !pr.up {
            return;
        }
        pr.up = false;
        pr.inc = pr.inc.next();
        pr.outstanding = 0;
        pr.wake_at = None;
        // The process's sockets die with it; the next incarnation connects anew.
        for conn in pr.conns.iter_mut() {
            *conn = conn.fresh();
        }
        let parts = std::mem::take(&mut pr.parts);
        for q in parts.iter() {
            for &batch in q.open.iter().chain(q.queue.iter()) {
                self.batches[batch].state = BatchState::Done;
                self.maybe_free_batch(batch);
            }
        }
        // Its requests' answers have nobody to read them now.
        for id in self.requests.ids() {
            let r = &self.requests[id];
            if r.producer == p && r.client_held {
                self.release_request_client(id);
            }
        }
        // In-flight batches die with the process; their requests still land.
        for batch in self.batches.ids() {
            let bt = &mut self.batches[batch];
            if bt.producer == p && bt.state == BatchState::InFlight {
                bt.state = BatchState::Done;
                self.maybe_free_batch(batch);
            }
        }
        let n = parts.len();
        let pr = &mut self.producers[p];
        pr.parts = IdVec::filled(PartitionQueue::default(), n);
        pr.holding.clear();
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
            self.oracle.emit(self.now, Fact::SendUnblocked { producer: p });
        }
    }

    pub(crate) fn restart_producer(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        if pr.up {
            return;
        }
        pr.up = true;
        pr.arrivals_done = false;
        pr.pid_gen += 1;
        self.start_producer(p);
    }
}
