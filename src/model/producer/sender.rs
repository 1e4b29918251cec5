//! The sender: sends each partition's ready batches within the in-flight
//! limit, gives an idempotent producer's batches their sequence numbers,
//! and handles what comes back — acknowledgements, errors, timeouts and
//! broken connections — with retries, `delivery.timeout.ms` and the epoch
//! bump of KIP-360.

use crate::kernel::time::Instant;
use crate::model::ids::{BatchId, BrokerId, LocalPartition, ProducerId, RequestId};
use crate::model::producer::connection::ConnState;
use crate::model::producer::request::PartitionResult;
use crate::model::producer::{producer_id, Added, BatchState, TxnClient, NO_SEQ, TXN_PID_GEN};
use crate::oracle::fact::{Fact, SendError};
use crate::scenario::Acks;
use crate::world::event::{AddPartitionsToTxn, Event, Node, Produce, ProduceError, ProduceResponse};

/// The sender's reusable scratch vectors (see `World::drain_scratch`).
#[derive(Debug, Default)]
pub struct DrainScratch {
    ready_nodes: Vec<bool>,
    parts: Vec<LocalPartition>,
    batches: Vec<BatchId>,
}
use crate::world::World;

impl World {
    pub(crate) fn on_producer_wake(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        if pr.wake_at.is_some_and(|t| t <= self.now) {
            pr.wake_at = None;
        }
        if pr.wake_blocked {
            pr.wake_blocked = false;
            self.drain_blocked(p);
        }
        self.try_send(p);
    }

    pub(super) fn wake_producer_at(&mut self, p: ProducerId, at: Instant) {
        let pr = &mut self.producers[p];
        if pr.wake_at.is_some_and(|t| t <= at && t >= self.now) {
            return;
        }
        pr.wake_at = Some(at);
        let inc = pr.inc;
        self.at(at, Event::ProducerWake { producer: p, inc });
    }

    /// The sender (`Sender.runOnce`): rounds of `sendProducerData` while a
    /// round put a request on the wire (Kafka polls with no timeout while
    /// nodes are ready).
    pub(super) fn try_send(&mut self, p: ProducerId) {
        while self.send_round(p) {}
    }

    /// `Sender.sendProducerData`: the nodes with a ready partition
    /// (`RecordAccumulator.ready`) whose connection can take a request
    /// (`NetworkClient.ready`) each get one request; whether any went.
    fn send_round(&mut self, p: ProducerId) -> bool {
        let mut ready = std::mem::take(&mut self.drain_scratch.ready_nodes);
        ready.clear();
        ready.resize(self.brokers.len(), false);
        self.ready_nodes(p, &mut ready);
        let mut sent = false;
        let mut unconnected = false;
        for b in self.brokers.ids() {
            if ready[b.index()] && self.leader_can_take(p, b) {
                sent |= self.send_produce_request(p, b);
            } else if ready[b.index()] {
                unconnected |= self.producers[p].conns[b].state != ConnState::Ready;
            }
        }
        self.drain_scratch.ready_nodes = ready;
        if unconnected {
            self.wake_at_next_expiry(p);
        }
        sent
    }

    /// A node with data has no connection: the sender sleeps until the
    /// connection's answer or timeout, but no later than the first batch's
    /// `delivery.timeout.ms` (`Sender.sendProducerData` bounds its poll by
    /// `RecordAccumulator.nextExpiryTimeMs`), so a batch stuck behind an
    /// unanswered connect fails on time.
    fn wake_at_next_expiry(&mut self, p: ProducerId) {
        let pr = &self.producers[p];
        let mut first: Option<Instant> = None;
        let mut from = 0;
        while let Some(local) = pr.holding.next_from(from) {
            from = local.raw() + 1;
            let q = &pr.parts[local];
            if let Some(batch) = q.queue.front().copied().or(q.open) {
                let expiry = self.batches[batch].created.add(pr.config.delivery_timeout);
                // A batch put back in this round past its expiry fails at the
                // sender's next run; the wake is for the ones still to come.
                if expiry > self.now {
                    first = Some(first.map_or(expiry, |f| f.min(expiry)));
                }
            }
        }
        if let Some(at) = first {
            self.wake_producer_at(p, at);
        }
    }

    /// `RecordAccumulator.ready`: marks each broker leading a partition whose
    /// first batch may go now — closed (full) and out of its retry backoff,
    /// or open past `linger.ms` — and arranges a wake-up for the rest. Fails
    /// batches past `delivery.timeout.ms` first (`expiredBatches`).
    fn ready_nodes(&mut self, p: ProducerId, ready: &mut [bool]) {
        let now = self.now;
        // Only partitions holding a batch, in partition order (`holding.rs`).
        let mut from = 0;
        while let Some(local) = self.producers[p].holding.next_from(from) {
            from = local.raw() + 1;
            self.expire_batches(p, local);
            let pr = &mut self.producers[p];
            let q = &pr.parts[local];
            if q.queue.is_empty() && q.open.is_none() {
                pr.holding.unmark(local);
                continue;
            }
            let pr = &self.producers[p];
            let q = &pr.parts[local];
            let head_ready = match (q.queue.front(), q.open) {
                (Some(&batch), _) => {
                    let at = self.batches[batch].ready_at;
                    if at > now {
                        self.wake_producer_at(p, at);
                    }
                    at <= now
                }
                // An open batch's linger timer wakes the sender.
                (None, Some(batch)) => now >= self.batches[batch].created.add(pr.config.linger),
                (None, None) => false,
            };
            if !head_ready || !self.may_send_to_partition(p, local) {
                continue;
            }
            let pr = &self.producers[p];
            match self.partitions[pr.first_partition.at(local)].leader_broker() {
                Some(leader) => ready[leader.index()] = true,
                None => {
                    // No leader: wait for the metadata to change.
                    let at = now.add(pr.config.retry_backoff);
                    self.wake_producer_at(p, at);
                }
            }
        }
    }

    /// Fails the batches of partition `local` past `delivery.timeout.ms`
    /// that are not on the wire (`RecordAccumulator.expiredBatches`).
    fn expire_batches(&mut self, p: ProducerId, local: LocalPartition) {
        let now = self.now;
        loop {
            let pr = &self.producers[p];
            let timeout = pr.config.delivery_timeout;
            let q = &pr.parts[local];
            match (q.queue.front(), q.open) {
                (Some(&batch), _) if now >= self.batches[batch].created.add(timeout) => {
                    self.producers[p].parts[local].queue.pop_front();
                    self.fail_batch(p, batch, SendError::DeliveryTimeout);
                }
                (None, Some(batch)) if now >= self.batches[batch].created.add(timeout) => {
                    self.close_batch(p, local);
                }
                _ => return,
            }
        }
    }

    /// A transactional producer sends to a partition only once
    /// AddPartitionsToTxn for it succeeded (`TransactionManager.isSendToPartitionAllowed`);
    /// the first time, it asks.
    fn may_send_to_partition(&mut self, p: ProducerId, local: LocalPartition) -> bool {
        let pr = &self.producers[p];
        let Some(txn) = pr.txn else { return true };
        match pr.parts[local].added {
            Added::Yes => true,
            Added::Pending => false,
            Added::No => {
                let (inc, epoch, partition) = (pr.inc, pr.epoch, pr.first_partition.at(local));
                self.producers[p].parts[local].added = Added::Pending;
                let msg = AddPartitionsToTxn { txn, inc, epoch, partition };
                self.send(Node::Producer(p), Node::TxnCoordinator, msg.into());
                false
            }
        }
    }

    /// `RecordAccumulator.drainBatchesForOneNode` and `Sender.sendProduceRequest`:
    /// one request to `leader` carrying the first batch of every partition it
    /// leads (open ones too: they close as they are drained), starting where
    /// the last drain stopped, skipping batches in retry backoff, until
    /// `max.request.size` (the first batch goes even if larger). Whether a
    /// request went.
    fn send_produce_request(&mut self, p: ProducerId, leader: BrokerId) -> bool {
        let mut parts = std::mem::take(&mut self.drain_scratch.parts);
        parts.clear();
        let pr = &self.producers[p];
        let first = pr.first_partition;
        // The partitions `leader` leads, ascending (`broker/leadership.rs`).
        let led = self.leadership.led_within(leader, first, pr.partitions);
        parts.extend(led.iter().map(|&q| q.local_in(first)));
        let mut drained = std::mem::take(&mut self.drain_scratch.batches);
        drained.clear();
        if !parts.is_empty() {
            self.drain_node(p, leader, &parts, &mut drained);
        }
        let sent = !drained.is_empty();
        if sent {
            self.send_request(p, leader, &drained);
        }
        self.drain_scratch.parts = parts;
        self.drain_scratch.batches = drained;
        sent
    }

    /// The drain loop itself, over `parts` (the partitions `leader` leads).
    fn drain_node(&mut self, p: ProducerId, leader: BrokerId, parts: &[LocalPartition], out: &mut Vec<BatchId>) {
        let now = self.now;
        let max_size = self.producers[p].config.max_request_size as u64;
        let n = parts.len() as u32;
        let start = self.producers[p].drain_index[leader] % n;
        let (mut i, mut size) = (start, 0u64);
        loop {
            let local = parts[i as usize];
            self.producers[p].drain_index[leader] = i;
            i = (i + 1) % n;
            let q = &self.producers[p].parts[local];
            let head = q.queue.front().copied().or(q.open);
            let take = match head {
                Some(batch)
                    if self.batches[batch].ready_at <= now
                        && self.may_send_to_partition(p, local)
                        && !self.waits_for_first_in_flight(p, local, batch) =>
                {
                    let bytes = self.batches[batch].bytes;
                    if size + bytes > max_size && !out.is_empty() {
                        break;
                    }
                    size += bytes;
                    true
                }
                _ => false,
            };
            if take {
                let q = &self.producers[p].parts[local];
                if q.queue.is_empty() {
                    self.close_batch(p, local);
                }
                let batch = self.producers[p].parts[local].queue.pop_front().expect("a head batch");
                out.push(batch);
            }
            if i == start {
                break;
            }
        }
    }

    /// `RecordAccumulator.shouldStopDrainBatchesForPartition`: a batch that
    /// already has a sequence is being retried, and it goes only when it is
    /// the partition's first in flight (`TransactionManager.firstInFlightSequence`);
    /// until the earlier batches complete or come back for retry, the
    /// partition drains nothing ("this effectively reduces our in flight
    /// request count to 1"). A batch without a sequence (a new one) is not held.
    fn waits_for_first_in_flight(&self, p: ProducerId, local: LocalPartition, batch: BatchId) -> bool {
        let base = self.batches[batch].base_seq;
        base != NO_SEQ && self.producers[p].parts[local].unresolved.first().is_some_and(|&first| first < base)
    }

    /// Whether the connection to `leader` is ready (`NetworkClient.ready`,
    /// which starts connecting if it is not) and has fewer than
    /// `max.in.flight.requests.per.connection` requests outstanding
    /// (`NetworkClient.canSendRequest`).
    fn leader_can_take(&mut self, p: ProducerId, leader: BrokerId) -> bool {
        if !self.conn_ready(p, leader) {
            return false;
        }
        let pr = &self.producers[p];
        pr.conns[leader].in_flight < pr.config.max_in_flight_requests_per_connection
    }

    /// An idempotent producer numbers a batch the first time it sends it:
    /// the partition's next sequence, under its producer id and epoch.
    fn sequence_batch(&mut self, p: ProducerId, batch: BatchId) {
        let pr = &mut self.producers[p];
        let local = self.batches[batch].partition.local_in(pr.first_partition);
        let n = self.batches[batch].records.len() as u32;
        let q = &mut pr.parts[local];
        let bt = &mut self.batches[batch];
        bt.base_seq = q.next_seq;
        // A transactional producer keeps its id and moves its epoch; an
        // idempotent one gets a new id instead.
        let (pid, epoch, gen) = match pr.txn {
            Some(_) => (producer_id(p, TXN_PID_GEN), pr.epoch, pr.epoch.raw()),
            None => (producer_id(p, pr.pid_gen), Default::default(), pr.pid_gen),
        };
        bt.pid = pid;
        bt.epoch = epoch;
        bt.txn = pr.txn.is_some();
        let base = q.next_seq;
        debug_assert!(q.unresolved.last().is_none_or(|&last| last < base));
        q.unresolved.push(base);
        q.next_seq += n;
        for i in 0..n as usize {
            let record = self.batches[batch].records[i];
            self.oracle.emit(self.now, Fact::Sequenced { record, seq: base + i as u32, producer_gen: gen });
        }
    }

    /// Puts a request carrying `batches` on the wire to `leader`: each batch
    /// gets its attempt (and, idempotent, its sequence numbers). With acks=0
    /// the records count as acknowledged once written to the socket
    /// (`NetworkClient.handleCompletedSends`) and nothing is in flight;
    /// otherwise the request counts against the connection's in-flight limit.
    fn send_request(&mut self, p: ProducerId, leader: BrokerId, batches: &[BatchId]) {
        let pr = &self.producers[p];
        let (acks, idempotent, timeout, inc) =
            (pr.config.acks, pr.config.enable_idempotence, pr.config.request_timeout, pr.inc);
        let request = self.new_request(p, leader, batches);
        let (req, conn) = (self.requests[request].req, self.requests[request].conn);
        for &batch in batches {
            if idempotent && self.batches[batch].base_seq == NO_SEQ {
                self.sequence_batch(p, batch);
            }
            let bt = &mut self.batches[batch];
            bt.attempts += 1;
            bt.req = req;
            bt.sent_to = leader;
            bt.conn = conn;
            bt.refs += 1;
            if acks == Acks::Zero {
                for i in 0..self.batches[batch].records.len() {
                    let r = self.batches[batch].records[i];
                    self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
                }
                self.retire_batch(p, batch);
            } else {
                bt.state = BatchState::InFlight;
            }
        }
        if acks == Acks::Zero {
            self.release_request_client(request);
        } else {
            self.producers[p].conns[leader].in_flight += 1;
            self.after(timeout, Event::RequestTimeout { producer: p, inc, request, req });
        }
        #[cfg(test)]
        self.tap_produce(p, leader, request);
        self.send(Node::Producer(p), Node::Broker(leader), Produce { producer: p, inc, request }.into());
    }

    /// A request carrying batch `batch` reached a broker (or bounced): one less holder.
    pub(crate) fn release_batch_ref(&mut self, batch: BatchId) {
        let bt = &mut self.batches[batch];
        debug_assert!(bt.refs > 0);
        bt.refs -= 1;
        self.maybe_free_batch(batch);
    }

    /// Batch `batch` is done (acknowledged, failed or abandoned): it no longer
    /// counts as outstanding and its memory goes back to the producer's
    /// buffer, which may unblock a send() waiting for it.
    pub(super) fn retire_batch(&mut self, p: ProducerId, batch: BatchId) {
        let bt = &mut self.batches[batch];
        debug_assert_ne!(bt.state, BatchState::Done);
        bt.state = BatchState::Done;
        let (alloc, base, partition) = (bt.alloc, bt.base_seq, bt.partition);
        let pr = &mut self.producers[p];
        if base != NO_SEQ {
            let unresolved = &mut pr.parts[partition.local_in(pr.first_partition)].unresolved;
            if let Ok(i) = unresolved.binary_search(&base) {
                unresolved.remove(i);
            }
        }
        pr.outstanding -= 1;
        pr.reserved -= alloc;
        if !pr.blocked.is_empty() && !pr.wake_blocked {
            // A send() waits for memory: it goes on at the next step.
            pr.wake_blocked = true;
            let inc = pr.inc;
            let now = self.now;
            self.at(now, Event::ProducerWake { producer: p, inc });
        }
        self.maybe_free_batch(batch);
    }

    pub(super) fn maybe_free_batch(&mut self, batch: BatchId) {
        let bt = &self.batches[batch];
        if bt.refs == 0 && bt.state == BatchState::Done {
            self.free_batches.push(batch);
        }
    }

    /// The broker's answer to a request (`Sender.handleProduceResponse`):
    /// each partition's result completes, retries or fails its batch
    /// (`completeBatch`), in the request's order.
    pub(crate) fn on_produce_response(&mut self, m: ProduceResponse) {
        let ProduceResponse { producer: p, request, disconnected, throttle_ms, .. } = m;
        let r = &self.requests[request];
        if !r.client_held || r.producer != p {
            return self.release_request_server(request);
        }
        let (leader, conn, req) = (r.broker, r.conn, r.req);
        if disconnected {
            self.release_request_server(request);
            self.disconnect(p, leader, conn, None);
            return self.try_send(p);
        }
        self.producers[p].conns[leader].in_flight -= 1;
        self.conn_throttle(p, leader, throttle_ms);
        for i in 0..self.requests[request].batches.len() {
            let (batch, result) = (self.requests[request].batches[i], self.requests[request].results[i]);
            let bt = &self.batches[batch];
            if bt.state == BatchState::InFlight && bt.req == req && bt.producer == p {
                self.complete_partition(p, batch, result);
            }
        }
        self.release_request_client(request);
        self.release_request_server(request);
        self.try_send(p);
    }

    /// One partition's result of a response.
    fn complete_partition(&mut self, p: ProducerId, batch: BatchId, result: PartitionResult) {
        let transactional = self.producers[p].txn.is_some();
        match result {
            Ok(_) => self.complete_batch(p, batch),
            // A newer epoch owns the transactional id, or the leader lost this
            // producer's sequence state: the transaction aborts and the
            // producer initializes again (a bumped epoch, sequences from 0).
            Err(ProduceError::ProducerFenced) => self.fence_txn_batch(p, batch),
            Err(ProduceError::OutOfOrderSequence) if transactional && self.lost_sequence_state(p, batch) => {
                self.fence_txn_batch(p, batch)
            }
            Err(ProduceError::OutOfOrderSequence) if self.lost_sequence_state(p, batch) => {
                self.bump_epoch(p);
                self.retry_or_fail(p, batch, SendError::OutOfOrderSequence);
            }
            Err(e) => self.retry_or_fail(p, batch, e.into()),
        }
    }

    /// A transactional batch that can never land in this epoch: abandon it
    /// (its records go again in the next transaction) and abort.
    fn fence_txn_batch(&mut self, p: ProducerId, batch: BatchId) {
        self.retire_batch(p, batch);
        let pr = &mut self.producers[p];
        pr.fenced = true;
        pr.txn_failed = true;
        self.abort_txn(p);
        self.maybe_end_txn(p);
    }

    /// OutOfOrderSequence for the earliest unacknowledged batch of its
    /// partition: no earlier batch can fill the gap, so the leader lost this
    /// producer's state (truncation, unclean election, power loss).
    fn lost_sequence_state(&self, p: ProducerId, batch: BatchId) -> bool {
        let bt = &self.batches[batch];
        let pr = &self.producers[p];
        let unresolved = &pr.parts[bt.partition.local_in(pr.first_partition)].unresolved;
        let earliest = unresolved.first().is_none_or(|&first| first >= bt.base_seq);
        debug_assert_eq!(
            earliest,
            !self.batches.iter().any(|o| {
                o.producer == p
                    && o.partition == bt.partition
                    && o.inc == bt.inc
                    && matches!(o.state, BatchState::Queued | BatchState::InFlight)
                    && o.base_seq < bt.base_seq
            }),
            "the partition's unresolved sequences are out of date"
        );
        earliest
    }

    /// KIP-360: the producer bumps its epoch (a new producer id here) and
    /// resequences every unacknowledged batch from 0, in send order.
    fn bump_epoch(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        pr.pid_gen += 1;
        pr.parts.iter_mut().for_each(|q| {
            q.next_seq = 0;
            q.unresolved.clear();
        });
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

    pub(crate) fn on_request_timeout(&mut self, p: ProducerId, request: RequestId, req: u64) {
        let r = &self.requests[request];
        if r.req != req || !r.client_held || r.producer != p {
            return;
        }
        // Kafka's client closes the connection of a timed-out request. The
        // requests may still be appended later: retrying them can duplicate
        // records unless the producer is idempotent.
        let (leader, conn) = (r.broker, r.conn);
        self.disconnect(p, leader, conn, Some(request));
        self.try_send(p);
    }

    /// Connection `conn` to `leader` is gone (it broke, or request
    /// `timed_out` timed out): every request in flight on it fails, in send
    /// order, and each of its batches is retried or failed. Later answers
    /// on it are stale.
    pub(super) fn disconnect(&mut self, p: ProducerId, leader: BrokerId, conn: u32, timed_out: Option<RequestId>) {
        let pr = &self.producers[p];
        if pr.conns[leader].gen != conn || pr.conns[leader].state != ConnState::Ready {
            return;
        }
        let inc = pr.inc;
        self.conn_failed(p, leader);
        let mut failed: Vec<(u64, RequestId)> = self
            .requests
            .iter_enumerated()
            .filter(|(_, r)| r.client_held && r.producer == p && r.inc == inc && r.broker == leader && r.conn == conn)
            .map(|(id, r)| (r.req, id))
            .collect();
        failed.sort_unstable();
        for (req, request) in failed {
            self.producers[p].conns[leader].in_flight -= 1;
            let error = if timed_out == Some(request) { SendError::RequestTimeout } else { SendError::Disconnected };
            for i in 0..self.requests[request].batches.len() {
                let batch = self.requests[request].batches[i];
                let bt = &self.batches[batch];
                if bt.state == BatchState::InFlight && bt.req == req && bt.producer == p {
                    self.retry_or_fail(p, batch, error);
                }
            }
            self.release_request_client(request);
        }
    }

    fn complete_batch(&mut self, p: ProducerId, batch: BatchId) {
        // A transactional producer's records count as acknowledged when their
        // transaction commits.
        let records = if self.producers[p].txn.is_some() { 0 } else { self.batches[batch].records.len() };
        for i in 0..records {
            let r = self.batches[batch].records[i];
            self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
        }
        self.retire_batch(p, batch);
        self.maybe_end_txn(p);
    }

    /// A retriable `error`: back into the queue after `retry.backoff.ms`,
    /// unless retries or `delivery.timeout.ms` are used up.
    fn retry_or_fail(&mut self, p: ProducerId, batch: BatchId, error: SendError) {
        let now = self.now;
        let pr = &self.producers[p];
        if pr.txn_state == TxnClient::Aborting && pr.txn.is_some() {
            // The transaction is aborting: no retry, the records go in the next one.
            self.retire_batch(p, batch);
            return self.maybe_end_txn(p);
        }
        let bt = &self.batches[batch];
        if bt.attempts > pr.config.retries {
            return self.fail_batch(p, batch, error);
        }
        // KIP-580: the batch's n-th retry waits retry.backoff.ms · 2^(n−1),
        // ±20%, up to retry.backoff.max.ms (`RecordAccumulator.batchReady`).
        let attempts = bt.attempts;
        let pr = &mut self.producers[p];
        let ready = now.add(pr.conn_backoffs.retry.backoff(attempts.saturating_sub(1), &mut pr.net_rng));
        let bt = &self.batches[batch];
        if ready >= bt.created.add(pr.config.delivery_timeout) {
            return self.fail_batch(p, batch, SendError::DeliveryTimeout);
        }
        let attempt = bt.attempts;
        for i in 0..self.batches[batch].records.len() {
            let record = self.batches[batch].records[i];
            self.oracle.emit(self.now, Fact::Retry { record, producer: p, error, attempt });
        }
        self.requeue_batch(p, batch, ready);
    }

    /// A batch to retry goes back into its partition's queue, ready at `ready`.
    fn requeue_batch(&mut self, p: ProducerId, batch: BatchId, ready: Instant) {
        let pr = &self.producers[p];
        let bt = &self.batches[batch];
        let local = bt.partition.local_in(pr.first_partition);
        let idempotent = pr.config.enable_idempotence;
        let first = bt.records.first().copied();
        let bt = &mut self.batches[batch];
        bt.state = BatchState::Queued;
        bt.ready_at = ready;
        // Kafka re-enqueues a failed batch first; an idempotent producer keeps
        // the queue in sequence order (= send order) so batches land in order.
        self.producers[p].holding.mark(local);
        let queue = &mut self.producers[p].parts[local].queue;
        if idempotent {
            let batches = &self.batches;
            let pos = queue.iter().position(|&q| batches[q].records.first().copied() > first).unwrap_or(queue.len());
            queue.insert(pos, batch);
        } else {
            queue.push_front(batch);
        }
        self.wake_producer_at(p, ready);
    }

    /// send() reports failure (`error`) to the application for every record
    /// of the batch. In a transaction the application aborts instead, and
    /// sends the records again in the next transaction.
    pub(super) fn fail_batch(&mut self, p: ProducerId, batch: BatchId, error: SendError) {
        if self.producers[p].txn.is_some() {
            self.retire_batch(p, batch);
            self.producers[p].txn_failed = true;
            self.abort_txn(p);
            return self.maybe_end_txn(p);
        }
        if self.producers[p].resend_failed {
            return self.resend_batch(p, batch, error);
        }
        for i in 0..self.batches[batch].records.len() {
            let record = self.batches[batch].records[i];
            self.oracle.emit(self.now, Fact::Fail { record, producer: p, error });
        }
        self.retire_batch(p, batch);
    }
}
