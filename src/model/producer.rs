//! Producers: the application's send() calls, Kafka's record accumulator
//! (batching by `linger.ms` and `batch.size`), the sender (in-flight limits,
//! request timeouts, retries with backoff, `delivery.timeout.ms`) and the
//! idempotent producer's sequence numbers.

use std::collections::VecDeque;

use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::model::partitioner::key_partition_table;
use crate::oracle::ledger::{RecordId, NO_SEQ, NULL_KEY};
use crate::oracle::trace::Step;
use crate::scenario::{Acks, ArrivalKind, ProducerConfig, ProducerSpec, Rate};
use crate::world::event::{Event, Msg, Node, ProduceError};
use crate::world::World;

/// Kafka's producer id (with epoch) for producer instance `p`, generation
/// `pid_gen`: a restart or an epoch bump gives a new one, whose sequences
/// start again at 0.
pub fn producer_id(p: u32, pid_gen: u32) -> u64 {
    ((p as u64) << 32) | pid_gen as u64
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
    pub state: BatchState,
    pub pid: u64,
    /// First sequence number (idempotent producer), or NO_SEQ.
    pub base_seq: u32,
    /// Produce messages carrying this batch that have not yet arrived.
    pub refs: u32,
}

/// The producer's per-partition accumulator.
#[derive(Clone, Debug, Default)]
pub struct PartitionQueue {
    pub open: Option<u32>,
    /// Closed batches in send order; a retried batch goes back in front.
    pub queue: VecDeque<u32>,
    pub next_seq: u32,
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
    /// Batches of this incarnation not yet Done.
    pub outstanding: u32,
    /// Producer id generation: bumped by a restart and by an epoch bump after
    /// the leader lost this producer's sequence state (KIP-360).
    pub pid_gen: u32,
    wake_at: Option<Instant>,
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
            outstanding: 0,
            pid_gen: 0,
            wake_at: None,
        }
    }

    /// No more records will come from this producer.
    pub fn is_done(&self) -> bool {
        !self.up || (self.arrivals_done && self.outstanding == 0)
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
        let g = pr.first_partition + local;
        let send_seq = pr.sent;
        pr.sent += 1;
        let record = self.ledger.send_from(p, inc, key, g, send_seq, now);
        self.trace.note(now, Step::Send, record as u64, p as u64, g as u64);
        self.accumulate(p, local, record);
        self.try_send(p);
        let pr = &mut self.producers[p as usize];
        let next = pr.next_arrival(now);
        self.at(next, Event::ProducerArrival { p, inc });
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
            state: BatchState::Open,
            pid: producer_id(p, pr.pid_gen),
            base_seq: NO_SEQ,
            refs: 0,
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
            self.close_batch(p, local);
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
                let Some(&b) = pr.parts[local as usize].queue.front() else { break };
                let bt = &self.batches[b as usize];
                if now >= bt.created.add(pr.config.delivery_timeout) {
                    self.producers[p as usize].parts[local as usize].queue.pop_front();
                    self.fail_batch(p, b);
                    continue;
                }
                if bt.ready_at > now {
                    let at = bt.ready_at;
                    self.wake_producer_at(p, at);
                    break;
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

    fn send_batch(&mut self, p: u32, b: u32, leader: u32) {
        let now = self.now;
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
            bt.pid = producer_id(p, pr.pid_gen);
            for (i, &r) in bt.records.iter().enumerate() {
                let rec = &mut self.ledger.records[r as usize];
                rec.seq = q.next_seq + i as u32;
                rec.producer_inc = pr.pid_gen;
            }
            q.next_seq += n;
        }
        let bt = &mut self.batches[b as usize];
        bt.attempts += 1;
        bt.req = req;
        bt.sent_to = leader;
        bt.refs += 1;
        let g = bt.partition;
        let msg = Msg::Produce { p, inc, batch: b, req, partition: g, acks };
        if acks == Acks::Zero {
            // Fire and forget: acknowledged the moment it is written to the socket.
            bt.state = BatchState::Done;
            for i in 0..self.batches[b as usize].records.len() {
                let r = self.batches[b as usize].records[i];
                self.ledger.ack(r, now);
                self.trace.note(now, Step::Ack, r as u64, p as u64, 0);
            }
            self.producers[p as usize].outstanding -= 1;
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
        let leader = bt.sent_to;
        self.producers[p as usize].in_flight_to[leader as usize] -= 1;
        match result {
            Ok(_) => self.complete_batch(p, b),
            Err(ProduceError::OutOfOrderSequence) if self.lost_sequence_state(p, b) => {
                self.bump_epoch(p);
                self.retry_or_fail(p, b);
            }
            Err(_) => self.retry_or_fail(p, b),
        }
        self.try_send(p);
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
        // The request may still be appended later: retrying it can duplicate
        // records unless the producer is idempotent.
        let leader = bt.sent_to;
        self.producers[p as usize].in_flight_to[leader as usize] -= 1;
        self.retry_or_fail(p, b);
        self.try_send(p);
    }

    fn complete_batch(&mut self, p: u32, b: u32) {
        let now = self.now;
        for i in 0..self.batches[b as usize].records.len() {
            let r = self.batches[b as usize].records[i];
            self.ledger.ack(r, now);
            self.trace.note(now, Step::Ack, r as u64, p as u64, 0);
        }
        self.batches[b as usize].state = BatchState::Done;
        self.producers[p as usize].outstanding -= 1;
        self.maybe_free_batch(b);
    }

    /// A retriable error: back into the queue after `retry.backoff.ms`, unless
    /// retries or `delivery.timeout.ms` are used up.
    fn retry_or_fail(&mut self, p: u32, b: u32) {
        let now = self.now;
        let pr = &self.producers[p as usize];
        let cfg = &pr.config;
        let bt = &self.batches[b as usize];
        let ready = now.add(cfg.retry_backoff);
        if bt.attempts > cfg.retries || ready >= bt.created.add(cfg.delivery_timeout) {
            return self.fail_batch(p, b);
        }
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

    /// send() reports failure to the application for every record of the batch.
    fn fail_batch(&mut self, p: u32, b: u32) {
        let now = self.now;
        for i in 0..self.batches[b as usize].records.len() {
            let r = self.batches[b as usize].records[i];
            self.ledger.fail(r, now);
            self.trace.note(now, Step::Fail, r as u64, p as u64, 0);
        }
        self.batches[b as usize].state = BatchState::Done;
        self.producers[p as usize].outstanding -= 1;
        self.maybe_free_batch(b);
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
        self.producers[p as usize].parts = vec![PartitionQueue::default(); n];
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
}
