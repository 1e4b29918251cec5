//! Consumers: the poll loop of Kafka's Java consumer. Fetch from partition
//! leaders, return up to `max.poll.records` per poll, process each record for
//! `processing_time`, and commit offsets before processing, after processing,
//! automatically inside poll, or in a transaction with the results
//! (consume-transform-produce: sendOffsetsToTransaction, commitTransaction).

use std::collections::VecDeque;

use crate::kernel::rng::{Dist, EntityRng};
use crate::kernel::time::{Duration, Instant};
use crate::model::record::NULL_KEY;
use crate::oracle::fact::{Fact, PositionSource, RecordId};
use crate::scenario::{CommitEvery, CommitMode, ConsumerSpec, IsolationLevel, OffsetReset, Processing, SinkKind};
use crate::world::event::{Event, FetchError, HeartbeatResult, Msg, Node};
use crate::world::World;

/// What a consumer waits for after a synchronous commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterCommit {
    /// commit before processing: then process the batch.
    Process,
    /// commit after processing: then poll again.
    Poll,
    /// auto-commit before rejoining a rebalance: then JoinGroup.
    Rejoin,
    /// `commit_every: record`: then process record `index` of the batch.
    Next { index: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerState {
    Down,
    /// JoinGroup sent, waiting for the rebalance to complete.
    Joining,
    /// Assigned; waiting for the committed offsets.
    AwaitingOffsets,
    /// In poll(), waiting for records.
    Idle,
    /// Processing record `batch[index]`.
    Processing,
    /// Blocked in commitSync().
    Committing(AfterCommit),
    /// `commit: transactional`: sendOffsetsToTransaction, then commitTransaction or abortTransaction.
    EndingTxn,
}

/// Kinesis readers (KCL) wait this long after a GetRecords call that
/// returned nothing or was throttled, before the next call to that shard.
pub const KINESIS_IDLE_BETWEEN_READS: Duration = Duration::from_ms(1_000);

/// A fetched entry poll() passes over: a control marker, or (read_committed)
/// a record of an aborted transaction. It still moves the position.
pub const SKIP: RecordId = u32::MAX;

#[derive(Clone, Debug)]
pub struct Consumer {
    pub group: u32,
    pub name: String,
    /// Position of its name among its group's members, sorted.
    pub rank: u32,
    pub up: bool,
    pub inc: u32,
    pub rng: EntityRng,
    pub processing_time: Dist,
    pub commit: CommitMode,
    pub sink: SinkKind,
    pub auto_commit_interval: Duration,
    pub auto_offset_reset: OffsetReset,
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms`: the heartbeat thread leaves the group when
    /// poll() has not been called for this long.
    pub max_poll_interval: Duration,
    /// When the application last called poll().
    pub last_poll: Instant,
    pub max_poll_records: u32,
    pub fetch_max_wait: Duration,
    pub retry_backoff: Duration,
    pub request_timeout: Duration,
    /// Records one fetch may return (`max.partition.fetch.bytes` / record size).
    pub max_fetch_records: u64,
    /// Size of one record (the largest of the topic's producers'), for byte limits.
    pub record_bytes: u32,
    pub state: ConsumerState,
    pub member: u32,
    pub generation: u32,
    /// Partitions (within the topic) assigned in the current generation.
    pub assigned: Vec<u32>,
    /// Next offset to fetch, per partition; None = not assigned or no position.
    pub position: Vec<Option<u64>>,
    /// Offset after the last record poll returned, per partition: what a commit commits.
    pub consumed: Vec<u64>,
    /// Token of the fetch in flight per partition.
    fetching: Vec<Option<u32>>,
    fetch_backoff_until: Vec<Instant>,
    buffered: Vec<u32>,
    next_token: u32,
    buffer: VecDeque<(u32, u64, RecordId)>,
    pub batch: Vec<(u32, u64, RecordId)>,
    pub rejoin_needed: bool,
    next_auto_commit: Instant,
    /// Last offsets committed per partition, to skip empty auto-commits.
    last_committed: Vec<Option<u64>>,
    /// `isolation.level=read_committed`: read below the last stable offset, skip aborted records.
    pub read_committed: bool,
    /// `commit: transactional`: its transactional id in `World::txns`.
    pub txn: Option<u32>,
    /// Epoch from the last initTransactions; `None` until it answers.
    pub txn_epoch: Option<u32>,
    /// A write of the open transaction was fenced: it must abort.
    pub txn_failed: bool,
    /// Waiting to ask for the committed offsets again (a transaction held them).
    offsets_retry: bool,
    /// `processing: async`: records poll() handed to the worker, in order.
    pub worker: VecDeque<(u32, u64, RecordId)>,
    pub async_processing: bool,
    worker_busy: bool,
    /// Shut down by `stop` (or not started yet): only `start` brings it back.
    pub stopped: bool,
    /// `stop` arrived mid-batch: close() at the next poll, after the batch and its commit.
    closing: bool,
    /// Cooperative rebalancing: keep the partitions through a rebalance.
    pub cooperative: bool,
    /// `commit_every: record`: commitSync after each record, not each batch.
    pub commit_every_record: bool,
    /// `commit_async: true`: commitAsync after the batch instead of commitSync.
    pub commit_async: bool,
    /// Cooperative: a JoinGroup is in flight while the member keeps consuming.
    join_inflight: bool,
    /// Cooperative: a completed rebalance (member, generation), applied at the next poll.
    join_result: Option<(u32, u32)>,
    /// Eager: when the member revoked everything for a rebalance.
    paused_since: Option<Instant>,
}

impl Consumer {
    pub fn new(
        group: u32,
        name: String,
        partitions: u32,
        spec: &ConsumerSpec,
        rng: EntityRng,
        record_bytes: u32,
    ) -> Consumer {
        let n = partitions as usize;
        let cfg = &spec.config;
        Consumer {
            group,
            name,
            rank: 0,
            up: true,
            inc: 0,
            rng,
            processing_time: spec.processing_time.clone(),
            commit: spec.commit,
            sink: spec.sink,
            auto_commit_interval: cfg.auto_commit_interval,
            auto_offset_reset: cfg.auto_offset_reset,
            heartbeat_interval: cfg.heartbeat_interval,
            max_poll_interval: cfg.max_poll_interval,
            last_poll: Instant::ZERO,
            max_poll_records: cfg.max_poll_records,
            fetch_max_wait: cfg.fetch_max_wait,
            retry_backoff: cfg.retry_backoff,
            request_timeout: cfg.request_timeout,
            max_fetch_records: (cfg.max_partition_fetch_bytes as u64 / record_bytes.max(1) as u64).max(1),
            record_bytes,
            state: ConsumerState::Down,
            member: 0,
            generation: 0,
            assigned: Vec::new(),
            position: vec![None; n],
            consumed: vec![0; n],
            fetching: vec![None; n],
            fetch_backoff_until: vec![Instant::ZERO; n],
            buffered: vec![0; n],
            next_token: 0,
            buffer: VecDeque::new(),
            batch: Vec::new(),
            rejoin_needed: false,
            next_auto_commit: Instant::ZERO,
            last_committed: vec![None; n],
            read_committed: cfg.isolation_level == IsolationLevel::ReadCommitted,
            txn: None,
            txn_epoch: None,
            txn_failed: false,
            offsets_retry: false,
            worker: VecDeque::new(),
            async_processing: spec.processing == Processing::Async,
            worker_busy: false,
            stopped: false,
            closing: false,
            cooperative: cfg.cooperative(),
            commit_every_record: spec.commit_every == CommitEvery::Record,
            commit_async: spec.commit_async,
            join_inflight: false,
            join_result: None,
            paused_since: None,
        }
    }

    /// Not in the middle of processing or a blocking commit.
    pub fn is_idle(&self) -> bool {
        let busy =
            matches!(self.state, ConsumerState::Processing | ConsumerState::Committing(_) | ConsumerState::EndingTxn);
        !busy && self.worker.is_empty() && !self.worker_busy
    }

    /// Forgets the assignment and everything fetched for it.
    fn clear_assignment(&mut self) {
        self.assigned.clear();
        self.forget_fetched();
    }

    /// Forgets positions and everything fetched; the assignment stays.
    fn forget_fetched(&mut self) {
        self.position.iter_mut().for_each(|p| *p = None);
        self.fetching.iter_mut().for_each(|f| *f = None);
        self.buffered.iter_mut().for_each(|b| *b = 0);
        self.last_committed.iter_mut().for_each(|c| *c = None);
        self.buffer.clear();
        self.batch.clear();
    }
}

impl World {
    /// The consumer process starts and asks to join its group as a new member.
    pub(crate) fn start_consumer(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        cs.up = true;
        cs.member = 0;
        cs.generation = 0;
        cs.rejoin_needed = false;
        cs.clear_assignment();
        cs.offsets_retry = false;
        let (inc, hb) = (cs.inc, cs.heartbeat_interval);
        if let Some(txn) = cs.txn {
            // initTransactions: aborts what an earlier incarnation left open.
            cs.txn_epoch = None;
            cs.txn_failed = false;
            self.send(Node::Consumer(c), Node::TxnCoordinator, Msg::InitProducerId { txn, inc });
        }
        self.send_join(c);
        self.after(hb, Event::HeartbeatTick { c, inc });
    }

    fn send_join(&mut self, c: u32) {
        let now = self.now;
        let cs = &mut self.consumers[c as usize];
        if !cs.assigned.is_empty() && cs.paused_since.is_none() {
            // Eager: everything is revoked until the rebalance completes.
            cs.paused_since = Some(now);
        }
        let first = self.groups[cs.group as usize].first_partition;
        for &p in &cs.assigned {
            self.oracle.emit(self.now, Fact::Revoke { consumer: c, partition: first + p, generation: cs.generation });
        }
        cs.join_inflight = false;
        cs.join_result = None;
        cs.clear_assignment();
        cs.state = ConsumerState::Joining;
        cs.rejoin_needed = false;
        let (inc, member, g) = (cs.inc, cs.member, cs.group);
        self.send(Node::Consumer(c), Node::Coordinator(g), Msg::JoinGroup { c, inc, member });
    }

    fn live(&self, c: u32, inc: u32) -> bool {
        let cs = &self.consumers[c as usize];
        cs.up && cs.inc == inc
    }

    pub(crate) fn on_join_response(&mut self, c: u32, inc: u32, member: u32, generation: u32) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        if cs.join_inflight && cs.state != ConsumerState::Joining {
            // Cooperative: the member kept consuming; poll() applies the result.
            cs.join_inflight = false;
            cs.join_result = Some((member, generation));
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
            return;
        }
        if cs.state != ConsumerState::Joining {
            return;
        }
        let g = self.consumers[c as usize].group;
        let assigned = self.groups[g as usize].assignment_of(member).to_vec();
        let first = self.groups[g as usize].first_partition;
        for &p in &assigned {
            self.oracle.emit(self.now, Fact::Assign { consumer: c, partition: first + p, generation });
        }
        let cs = &mut self.consumers[c as usize];
        cs.member = member;
        cs.generation = generation;
        cs.assigned = assigned;
        cs.state = ConsumerState::AwaitingOffsets;
        self.send(Node::Consumer(c), Node::Coordinator(g), Msg::OffsetFetch { c, inc, generation });
    }

    /// Committed offsets arrive: each partition resumes there, or where
    /// `auto.offset.reset` says when the group never committed it. While a
    /// transaction holds offsets of these partitions they are unstable: ask
    /// again after `retry.backoff.ms`.
    pub(crate) fn on_offset_fetch_response(&mut self, c: u32, inc: u32, generation: u32, unstable: bool) {
        let cs = &self.consumers[c as usize];
        if !self.live(c, inc) || cs.generation != generation {
            return;
        }
        let cooperative_fill = cs.state != ConsumerState::AwaitingOffsets;
        if cooperative_fill && !cs.cooperative {
            return;
        }
        if unstable {
            let cs = &mut self.consumers[c as usize];
            cs.offsets_retry = true;
            let at = self.now.add(cs.retry_backoff);
            self.at(at, Event::ConsumerWake { c, inc });
            return;
        }
        let g = cs.group as usize;
        let now = self.now;
        for i in 0..self.consumers[c as usize].assigned.len() {
            let p = self.consumers[c as usize].assigned[i] as usize;
            if cooperative_fill && self.consumers[c as usize].position[p].is_some() {
                continue; // kept through the rebalance: it goes on where it was
            }
            let committed = self.groups[g].committed[p];
            let (pos, from) = match committed {
                Some(o) => (Some(o), PositionSource::Committed),
                None => (self.reset_offset(c, p as u32), PositionSource::Reset),
            };
            let partition = self.groups[g].first_partition + p as u32;
            match pos {
                Some(o) => {
                    self.oracle.emit(self.now, Fact::Position { consumer: c, partition, offset: o, source: from })
                }
                None => self.oracle.emit(self.now, Fact::NoOffset { consumer: c, partition }),
            }
            let cs = &mut self.consumers[c as usize];
            cs.position[p] = pos;
            cs.consumed[p] = pos.unwrap_or(0);
            cs.last_committed[p] = committed;
        }
        let cs = &mut self.consumers[c as usize];
        if cooperative_fill {
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
            return;
        }
        if let Some(since) = cs.paused_since.take() {
            self.oracle.emit(self.now, Fact::StoppedTheWorld { group: g as u32, us: now.since(since).us() });
        }
        cs.state = ConsumerState::Idle;
        cs.next_auto_commit = now.add(cs.auto_commit_interval);
        self.poll(c);
    }

    /// Cooperative: a rebalance completed while the member kept consuming.
    /// Partitions no longer assigned are revoked (and the member rejoins so
    /// they can go to their new owner); new ones start from their committed
    /// offsets; the rest go on untouched.
    fn apply_cooperative_assignment(&mut self, c: u32, member: u32, generation: u32) {
        let g = self.consumers[c as usize].group as usize;
        let new = self.groups[g].assignment_of(member).to_vec();
        let first = self.groups[g].first_partition;
        let cs = &mut self.consumers[c as usize];
        let mut revoked = false;
        for i in 0..cs.assigned.len() {
            let p = cs.assigned[i];
            if !new.contains(&p) {
                self.oracle
                    .emit(self.now, Fact::Revoke { consumer: c, partition: first + p, generation: cs.generation });
                let p = p as usize;
                cs.position[p] = None;
                cs.fetching[p] = None;
                cs.last_committed[p] = None;
                revoked = true;
            }
        }
        for &p in new.iter().filter(|p| !cs.assigned.contains(p)) {
            self.oracle.emit(self.now, Fact::Assign { consumer: c, partition: first + p, generation });
        }
        cs.member = member;
        cs.generation = generation;
        let added = new.iter().any(|p| !cs.assigned.contains(p));
        cs.assigned = new;
        if revoked {
            cs.rejoin_needed = true;
        }
        if added {
            let inc = cs.inc;
            let gi = cs.group;
            self.send(Node::Consumer(c), Node::Coordinator(gi), Msg::OffsetFetch { c, inc, generation });
        }
    }

    /// `auto.offset.reset`: earliest = the log start, latest = the high watermark now.
    fn reset_offset(&self, c: u32, p: u32) -> Option<u64> {
        let cs = &self.consumers[c as usize];
        let g = &self.groups[cs.group as usize];
        match cs.auto_offset_reset {
            OffsetReset::Earliest => Some(0),
            OffsetReset::Latest => Some(self.partitions[(g.first_partition + p) as usize].high_watermark()),
            OffsetReset::None => None,
        }
    }

    /// One call of `poll()`: rejoin if a rebalance is on, auto-commit when due,
    /// hand out buffered records, keep fetches going.
    fn poll(&mut self, c: u32) {
        let now = self.now;
        let cs = &mut self.consumers[c as usize];
        debug_assert_eq!(cs.state, ConsumerState::Idle);
        cs.last_poll = now;
        if cs.closing {
            return self.close_consumer(c);
        }
        if let Some((member, generation)) = cs.join_result.take() {
            self.apply_cooperative_assignment(c, member, generation);
        }
        let cs = &mut self.consumers[c as usize];
        if cs.rejoin_needed && cs.cooperative && cs.member != 0 && cs.generation != 0 {
            // Cooperative: rejoin keeping every partition; consumption goes on.
            cs.rejoin_needed = false;
            if !cs.join_inflight {
                cs.join_inflight = true;
                let (inc, member, g) = (cs.inc, cs.member, cs.group);
                if cs.commit == CommitMode::Auto {
                    self.commit(c, None);
                }
                self.send(Node::Consumer(c), Node::Coordinator(g), Msg::JoinGroup { c, inc, member });
            }
        }
        let cs = &self.consumers[c as usize];
        if cs.rejoin_needed {
            // onJoinPrepare: with auto-commit, commit synchronously before
            // revoking; with commitAsync, the usual onPartitionsRevoked
            // callback does the same (commitSync of what was processed).
            if cs.commit == CommitMode::Auto || cs.commit_async {
                return self.commit(c, Some(AfterCommit::Rejoin));
            }
            return self.send_join(c);
        }
        if cs.commit == CommitMode::Auto && now >= cs.next_auto_commit {
            let interval = cs.auto_commit_interval;
            self.consumers[c as usize].next_auto_commit = now.add(interval);
            self.commit(c, None);
        }
        // Take up to max.poll.records, in fetch order. A transactional
        // consumer waits for initTransactions first.
        let cs = &mut self.consumers[c as usize];
        cs.batch.clear();
        let mut skipped = false;
        let ready = cs.txn.is_none() || cs.txn_epoch.is_some();
        while ready && cs.batch.len() < cs.max_poll_records as usize {
            let Some((p, offset, record)) = cs.buffer.pop_front() else { break };
            cs.buffered[p as usize] -= 1;
            if cs.position[p as usize].is_none() || offset != cs.consumed[p as usize] {
                continue; // fetched for an assignment or position that is gone
            }
            cs.consumed[p as usize] = offset + 1;
            if record == SKIP {
                skipped = true;
                continue;
            }
            cs.batch.push((p, offset, record));
        }
        self.send_fetches(c);
        let cs = &self.consumers[c as usize];
        if cs.batch.is_empty() {
            // Only markers or aborted records: commit the position past them,
            // or the group would show them as lag for ever.
            if skipped && matches!(cs.commit, CommitMode::AfterProcessing | CommitMode::Transactional) {
                self.commit(c, None);
            }
            return;
        }
        match cs.commit {
            CommitMode::BeforeProcessing => self.commit(c, Some(AfterCommit::Process)),
            _ => self.start_processing(c),
        }
    }

    /// `processing: async`: the batch goes to the worker queue and the poll
    /// loop goes on at once (auto-commit then commits records the worker may
    /// not have processed yet).
    fn hand_to_worker(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        let batch = std::mem::take(&mut cs.batch);
        cs.worker.extend(batch.iter().copied());
        cs.batch = batch;
        cs.batch.clear();
        cs.state = ConsumerState::Idle;
        let inc = cs.inc;
        if !cs.worker_busy {
            cs.worker_busy = true;
            let d = cs.processing_time.sample(&mut cs.rng);
            self.after(d, Event::WorkerDone { c, inc });
        }
        // The next poll() returns at once with whatever is buffered.
        let now = self.now;
        self.at(now, Event::ConsumerWake { c, inc });
    }

    /// The worker finished the record at the head of its queue.
    pub(crate) fn on_worker_done(&mut self, c: u32, inc: u32) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        let Some((_, offset, record)) = cs.worker.pop_front() else {
            cs.worker_busy = false;
            return;
        };
        let group = cs.group;
        let effect = self.groups[group as usize].sink.apply(record);
        self.note_processed(c, record, offset, effect);
        let cs = &mut self.consumers[c as usize];
        if cs.worker.is_empty() {
            cs.worker_busy = false;
        } else {
            let d = cs.processing_time.sample(&mut cs.rng);
            self.after(d, Event::WorkerDone { c, inc });
        }
    }

    /// Consumer `c` finished processing `record` (at `offset` of its
    /// partition); `effect` says whether the sink took it as a new effect.
    fn note_processed(&mut self, c: u32, record: RecordId, offset: u64, effect: bool) {
        let group = self.consumers[c as usize].group;
        let late_before = self.late_seen(group);
        if effect {
            self.aggregate_effect(group, record);
        }
        self.oracle.emit(self.now, Fact::Process { record, consumer: c, group, offset, effect });
        self.note_late(group, late_before);
    }

    /// A result of `record` reached the sink of `group` at its transaction's
    /// commit (`sink: transactional`).
    pub(crate) fn sink_effect(&mut self, group: u32, record: RecordId) {
        self.groups[group as usize].sink.mark(record);
        self.aggregate_effect(group, record);
    }

    /// The group's aggregation sees every effect, a duplicate as much as the first.
    fn aggregate_effect(&mut self, group: u32, record: RecordId) {
        let Some(agg) = self.groups[group as usize].aggregate.as_mut() else { return };
        let rec = self.payloads.get(record);
        let key = if rec.key == NULL_KEY { u32::MAX } else { self.key_base[rec.producer as usize] + rec.key };
        agg.observe(record, rec.event_us, key, self.now.us());
    }

    /// Late arrivals the aggregation of `group` has seen so far.
    pub(crate) fn late_seen(&self, group: u32) -> usize {
        self.groups[group as usize].aggregate.as_ref().map_or(0, |a| a.late.len())
    }

    /// Reports the late arrivals the aggregation of `group` saw after the first `before`.
    pub(crate) fn note_late(&mut self, group: u32, before: usize) {
        let Some(agg) = self.groups[group as usize].aggregate.as_ref() else { return };
        for l in &agg.late[before..] {
            let (record, watermark_us, dropped) = (l.record, l.watermark, l.dropped);
            self.oracle.emit(self.now, Fact::Late { record, group, watermark_us, dropped });
        }
    }

    /// Sends a fetch for every assigned partition with nothing buffered or in flight.
    fn send_fetches(&mut self, c: u32) {
        let now = self.now;
        let g = self.consumers[c as usize].group as usize;
        let first = self.groups[g].first_partition;
        for i in 0..self.consumers[c as usize].assigned.len() {
            let cs = &self.consumers[c as usize];
            let p = cs.assigned[i] as usize;
            let Some(offset) = cs.position[p] else { continue };
            if cs.fetching[p].is_some() || cs.buffered[p] > 0 || cs.fetch_backoff_until[p] > now {
                continue;
            }
            let global = first + p as u32;
            let Some(leader) = self.partitions[global as usize].leader_broker() else {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, p, at);
                continue;
            };
            let cs = &mut self.consumers[c as usize];
            cs.next_token = cs.next_token.wrapping_add(1);
            let token = cs.next_token;
            cs.fetching[p] = Some(token);
            let (inc, timeout) = (cs.inc, cs.request_timeout);
            self.send(Node::Consumer(c), Node::Broker(leader), Msg::Fetch { c, inc, partition: global, offset, token });
            if self.lossy {
                self.after(timeout, Event::ConsumerFetchTimeout { c, inc, partition: global, token });
            }
        }
    }

    fn backoff_fetch(&mut self, c: u32, p: usize, until: Instant) {
        let cs = &mut self.consumers[c as usize];
        cs.fetch_backoff_until[p] = until;
        let inc = cs.inc;
        self.at(until, Event::ConsumerWake { c, inc });
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_fetch_response(
        &mut self,
        src: u32,
        c: u32,
        inc: u32,
        global: u32,
        token: u32,
        from: u64,
        to: u64,
        last_entry_epoch: u32,
        error: FetchError,
    ) {
        if !self.live(c, inc) {
            return;
        }
        let g = self.consumers[c as usize].group as usize;
        let p = (global - self.groups[g].first_partition) as usize;
        let now = self.now;
        let cs = &mut self.consumers[c as usize];
        if cs.fetching[p] != Some(token) {
            return;
        }
        cs.fetching[p] = None;
        match error {
            FetchError::None => {
                // Valid only if the leader's log still holds these entries (see broker).
                let part = &self.partitions[global as usize];
                let log = part.replicas.iter().find(|r| r.broker == src).map(|r| &r.log);
                let intact = log.is_some_and(|log| {
                    log.len() as u64 >= to && (to == from || log[to as usize - 1].epoch == last_entry_epoch)
                });
                let cs = &mut self.consumers[c as usize];
                if to == from && part.limits.is_some() {
                    // Kinesis: GetRecords found nothing; the reader idles before the next call.
                    let at = now.add(KINESIS_IDLE_BETWEEN_READS);
                    self.backoff_fetch(c, p, at);
                } else if intact && cs.position[p] == Some(from) && to > from {
                    let log = log.expect("checked intact");
                    let mut fates = crate::model::broker::TxnFates::default();
                    for o in from..to {
                        let e = log[o as usize];
                        let skip = e.is_control()
                            || (cs.read_committed && fates.aborted(log, o, &part.headers, &self.markers));
                        cs.buffer.push_back((p as u32, o, if skip { SKIP } else { e.record }));
                    }
                    cs.buffered[p] += (to - from) as u32;
                    cs.position[p] = Some(to);
                    self.oracle.emit(self.now, Fact::Fetch { consumer: c, partition: global, from, to });
                }
            }
            FetchError::NotLeader | FetchError::Disconnected => {
                let at = now.add(cs.retry_backoff);
                self.backoff_fetch(c, p, at);
            }
            FetchError::Throttled => {
                let at = now.add(KINESIS_IDLE_BETWEEN_READS);
                self.backoff_fetch(c, p, at);
            }
            FetchError::OffsetOutOfRange => {
                let pos = self.reset_offset(c, p as u32);
                match pos {
                    Some(o) => {
                        let source = PositionSource::OutOfRange;
                        self.oracle
                            .emit(self.now, Fact::Position { consumer: c, partition: global, offset: o, source });
                    }
                    None => self.oracle.emit(self.now, Fact::NoOffset { consumer: c, partition: global }),
                }
                let cs = &mut self.consumers[c as usize];
                cs.position[p] = pos;
                cs.consumed[p] = pos.unwrap_or(0);
            }
        }
        if self.consumers[c as usize].state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// No answer to a fetch within `request.timeout.ms`: forget it and fetch again.
    pub(crate) fn on_consumer_fetch_timeout(&mut self, c: u32, inc: u32, global: u32, token: u32) {
        if !self.live(c, inc) {
            return;
        }
        let g = self.consumers[c as usize].group as usize;
        let p = (global - self.groups[g].first_partition) as usize;
        let cs = &mut self.consumers[c as usize];
        if cs.fetching[p] == Some(token) {
            cs.fetching[p] = None;
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
        }
    }

    pub(crate) fn on_consumer_wake(&mut self, c: u32, inc: u32) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        if cs.state == ConsumerState::AwaitingOffsets && cs.offsets_retry {
            cs.offsets_retry = false;
            let (generation, g) = (cs.generation, cs.group);
            self.send(Node::Consumer(c), Node::Coordinator(g), Msg::OffsetFetch { c, inc, generation });
        } else if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    fn start_processing(&mut self, c: u32) {
        if self.consumers[c as usize].async_processing {
            return self.hand_to_worker(c);
        }
        let cs = &mut self.consumers[c as usize];
        debug_assert!(!cs.batch.is_empty());
        cs.state = ConsumerState::Processing;
        let d = cs.processing_time.sample(&mut cs.rng);
        let inc = cs.inc;
        self.after(d, Event::ProcessDone { c, inc, index: 0 });
    }

    /// One record is processed: its effect reaches the sink (inside the
    /// transaction, for `sink: transactional`).
    pub(crate) fn on_process_done(&mut self, c: u32, inc: u32, index: u32) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &self.consumers[c as usize];
        debug_assert_eq!(cs.state, ConsumerState::Processing);
        let (_, offset, record) = cs.batch[index as usize];
        let group = cs.group;
        let effect = match (cs.txn, cs.txn_epoch) {
            (Some(t), Some(epoch)) => {
                // The result waits in the transaction until it commits.
                if !self.stage_output(t, epoch, record) {
                    self.consumers[c as usize].txn_failed = true;
                }
                false
            }
            _ => self.groups[group as usize].sink.apply(record),
        };
        self.note_processed(c, record, offset, effect);
        let cs = &mut self.consumers[c as usize];
        if cs.commit == CommitMode::AfterProcessing && cs.commit_every_record {
            // commitSync of this record's offset alone, then the next record.
            let (p, offset, _) = cs.batch[index as usize];
            let next = if (index as usize) + 1 < cs.batch.len() {
                AfterCommit::Next { index: index + 1 }
            } else {
                AfterCommit::Poll
            };
            return self.commit_offset(c, p, offset + 1, next);
        }
        if (index as usize) + 1 < cs.batch.len() {
            let d = cs.processing_time.sample(&mut cs.rng);
            self.after(d, Event::ProcessDone { c, inc, index: index + 1 });
            return;
        }
        cs.state = ConsumerState::Idle;
        match cs.commit {
            // commitAsync: no wait; a failed commit is not retried (the next one covers it).
            CommitMode::AfterProcessing if cs.commit_async => {
                self.commit(c, None);
                self.poll(c)
            }
            CommitMode::AfterProcessing => self.commit(c, Some(AfterCommit::Poll)),
            CommitMode::Transactional => self.send_offsets_to_transaction(c),
            _ => self.poll(c),
        }
    }

    /// commitSync of one partition's offset (`commit_every: record`).
    fn commit_offset(&mut self, c: u32, p: u32, offset: u64, then: AfterCommit) {
        let slot = self.alloc_commit_slot();
        self.commit_slots[slot as usize].push((p, offset));
        let cs = &mut self.consumers[c as usize];
        cs.last_committed[p as usize] = Some(offset);
        cs.state = ConsumerState::Committing(then);
        let (inc, member, generation, g) = (cs.inc, cs.member, cs.generation, cs.group);
        let msg = Msg::OffsetCommit { c, inc, member, generation, slot, sync: true };
        self.send(Node::Consumer(c), Node::Coordinator(g), msg);
    }

    /// sendOffsetsToTransaction: the offsets after the batch go to the group
    /// coordinator inside the transaction, checked against the generation
    /// (KIP-447: a zombie that lost its partitions is refused here).
    fn send_offsets_to_transaction(&mut self, c: u32) {
        let cs = &self.consumers[c as usize];
        let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) else {
            unreachable!("processing waits for initTransactions")
        };
        if cs.txn_failed {
            return self.end_consumer_txn(c, false);
        }
        let slot = self.fill_commit_slot(c);
        let cs = &mut self.consumers[c as usize];
        cs.state = ConsumerState::EndingTxn;
        let (inc, member, generation, g) = (cs.inc, cs.member, cs.generation, cs.group);
        let msg = Msg::TxnOffsetCommit { c, inc, member, generation, txn, epoch, slot };
        self.send(Node::Consumer(c), Node::Coordinator(g), msg);
    }

    pub(crate) fn on_txn_offset_commit_response(&mut self, c: u32, inc: u32, ok: bool) {
        if !self.live(c, inc) || self.consumers[c as usize].state != ConsumerState::EndingTxn {
            return;
        }
        if !ok {
            // Not a member of this generation any more: abort, then rejoin.
            self.consumers[c as usize].rejoin_needed = true;
        }
        self.end_consumer_txn(c, ok);
    }

    fn end_consumer_txn(&mut self, c: u32, commit: bool) {
        let cs = &mut self.consumers[c as usize];
        cs.state = ConsumerState::EndingTxn;
        let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) else { unreachable!("a transaction needs an epoch") };
        let inc = cs.inc;
        self.send(Node::Consumer(c), Node::TxnCoordinator, Msg::EndTxn { txn, inc, epoch, commit });
    }

    /// The transaction ended. After a commit the consumer polls on; after an
    /// abort it rewinds to the committed offsets (the batch is processed
    /// again); a fenced consumer also initializes again first.
    pub(crate) fn on_consumer_end_txn_response(&mut self, c: u32, inc: u32, commit: bool, ok: bool) {
        if !self.live(c, inc) || self.consumers[c as usize].state != ConsumerState::EndingTxn {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        cs.state = ConsumerState::Idle;
        if commit && ok {
            for i in 0..cs.assigned.len() {
                let p = cs.assigned[i] as usize;
                if cs.position[p].is_some() {
                    cs.last_committed[p] = Some(cs.consumed[p]);
                }
            }
            return self.poll(c);
        }
        if !ok {
            let txn = cs.txn.expect("transactional consumer");
            cs.txn_epoch = None;
            self.send(Node::Consumer(c), Node::TxnCoordinator, Msg::InitProducerId { txn, inc });
        }
        self.consumers[c as usize].txn_failed = false;
        self.rewind(c);
    }

    /// Back to the committed offsets: everything fetched is dropped.
    fn rewind(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        if cs.rejoin_needed {
            return self.send_join(c);
        }
        cs.forget_fetched();
        cs.state = ConsumerState::AwaitingOffsets;
        let (inc, generation, g) = (cs.inc, cs.generation, cs.group);
        self.send(Node::Consumer(c), Node::Coordinator(g), Msg::OffsetFetch { c, inc, generation });
    }

    pub(crate) fn on_consumer_init_response(&mut self, c: u32, inc: u32, epoch: u32) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        cs.txn_epoch = Some(epoch);
        cs.txn_failed = false;
        if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// Commits the consumed position of every assigned partition: commitSync
    /// (blocks, then `then`) or commitAsync (`then` = None, no wait).
    fn commit(&mut self, c: u32, then: Option<AfterCommit>) {
        let slot = self.fill_commit_slot(c);
        let cs = &mut self.consumers[c as usize];
        for &(p, offset) in &self.commit_slots[slot as usize] {
            cs.last_committed[p as usize] = Some(offset);
        }
        let offsets = &self.commit_slots[slot as usize];
        if offsets.is_empty() && then != Some(AfterCommit::Process) && then != Some(AfterCommit::Poll) {
            // Nothing new to commit: no request (as the Java client skips empty auto-commits).
            self.free_commit_slots.push(slot);
            match then {
                Some(AfterCommit::Rejoin) => return self.send_join(c),
                _ => return,
            }
        }
        let (inc, member, generation, g) = (cs.inc, cs.member, cs.generation, cs.group);
        let sync = then.is_some();
        if let Some(next) = then {
            cs.state = ConsumerState::Committing(next);
        }
        self.send(
            Node::Consumer(c),
            Node::Coordinator(g),
            Msg::OffsetCommit { c, inc, member, generation, slot, sync },
        );
    }

    /// An empty commit slot (reused; slots travel with commit requests).
    fn alloc_commit_slot(&mut self) -> u32 {
        let slot = match self.free_commit_slots.pop() {
            Some(s) => s,
            None => {
                self.commit_slots.push(Vec::new());
                (self.commit_slots.len() - 1) as u32
            }
        };
        self.commit_slots[slot as usize].clear();
        slot
    }

    /// A commit slot holding the consumed position of every assigned
    /// partition that moved since its last commit.
    fn fill_commit_slot(&mut self, c: u32) -> u32 {
        let slot = self.alloc_commit_slot();
        let cs = &self.consumers[c as usize];
        let offsets = &mut self.commit_slots[slot as usize];
        for &p in &cs.assigned {
            let p = p as usize;
            if cs.position[p].is_some() && cs.last_committed[p] != Some(cs.consumed[p]) {
                offsets.push((p as u32, cs.consumed[p]));
            }
        }
        slot
    }

    pub(crate) fn on_offset_commit_response(&mut self, c: u32, inc: u32, _slot: u32, ok: bool, sync: bool) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        if !ok {
            // CommitFailedException: this member is no longer in the generation;
            // rejoin. (Cooperative, mid-rebalance: RebalanceInProgressException;
            // the join under way settles it, and the next commit covers these offsets.)
            if !(cs.join_inflight || cs.join_result.is_some()) {
                cs.rejoin_needed = true;
            }
            cs.last_committed.iter_mut().for_each(|x| *x = None);
        }
        let ConsumerState::Committing(next) = cs.state else { return };
        if !sync {
            return;
        }
        match next {
            AfterCommit::Process => self.start_processing(c),
            AfterCommit::Poll => {
                self.consumers[c as usize].state = ConsumerState::Idle;
                self.poll(c);
            }
            AfterCommit::Rejoin => self.send_join(c),
            AfterCommit::Next { index } => {
                let cs = &mut self.consumers[c as usize];
                cs.state = ConsumerState::Processing;
                let d = cs.processing_time.sample(&mut cs.rng);
                self.after(d, Event::ProcessDone { c, inc, index });
            }
        }
    }

    pub(crate) fn on_heartbeat_tick(&mut self, c: u32, inc: u32) {
        if !self.live(c, inc) {
            return;
        }
        let now = self.now;
        let cs = &mut self.consumers[c as usize];
        let busy =
            matches!(cs.state, ConsumerState::Processing | ConsumerState::Committing(_) | ConsumerState::EndingTxn);
        if cs.member != 0 && busy && now.since(cs.last_poll) > cs.max_poll_interval {
            // The poll timer expired: the heartbeat thread leaves the group
            // and forgets the membership; the next poll() joins as a new member.
            let (member, g) = (cs.member, cs.group);
            cs.member = 0;
            cs.generation = 0;
            cs.rejoin_needed = true;
            self.oracle.emit(self.now, Fact::PollTimeout { consumer: c, member });
            self.send(Node::Consumer(c), Node::Coordinator(g), Msg::LeaveGroup { c, member });
        }
        let cs = &self.consumers[c as usize];
        let (member, generation, g, hb) = (cs.member, cs.generation, cs.group, cs.heartbeat_interval);
        if member != 0 && cs.state != ConsumerState::Joining {
            self.send(Node::Consumer(c), Node::Coordinator(g), Msg::Heartbeat { c, inc, member, generation });
        }
        self.after(hb, Event::HeartbeatTick { c, inc });
    }

    pub(crate) fn on_heartbeat_response(&mut self, c: u32, inc: u32, result: HeartbeatResult) {
        if !self.live(c, inc) {
            return;
        }
        let cs = &mut self.consumers[c as usize];
        if cs.state == ConsumerState::Joining {
            return;
        }
        match result {
            HeartbeatResult::Ok => return,
            HeartbeatResult::RebalanceInProgress | HeartbeatResult::IllegalGeneration => cs.rejoin_needed = true,
            HeartbeatResult::UnknownMember => {
                cs.member = 0;
                cs.rejoin_needed = true;
            }
        }
        if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// The consumer process dies: what it fetched, processed but did not commit,
    /// and its membership are gone; the coordinator notices after the session timeout.
    pub(crate) fn crash_consumer(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        if !cs.up {
            return;
        }
        cs.up = false;
        cs.inc += 1;
        cs.closing = false;
        cs.join_inflight = false;
        cs.join_result = None;
        cs.paused_since = None;
        cs.state = ConsumerState::Down;
        cs.clear_assignment();
        // Records waiting for the worker die with the process.
        cs.worker.clear();
        cs.worker_busy = false;
    }

    pub(crate) fn restart_consumer(&mut self, c: u32) {
        let cs = &self.consumers[c as usize];
        if cs.up || cs.stopped {
            return;
        }
        self.start_consumer(c);
    }

    /// `start`: an instance that never ran, or was stopped, starts and joins.
    pub(crate) fn start_stopped_consumer(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        if cs.up {
            return;
        }
        cs.stopped = false;
        cs.inc += 1;
        self.start_consumer(c);
    }

    /// `stop`: the application shuts down cleanly. A batch being processed
    /// is finished (and committed, as its commit mode says) first; then close().
    pub(crate) fn stop_consumer(&mut self, c: u32) {
        let cs = &mut self.consumers[c as usize];
        if !cs.up {
            return;
        }
        if cs.is_idle() || cs.async_processing {
            self.close_consumer(c);
        } else {
            cs.closing = true;
        }
    }

    /// close(): with auto-commit the consumed positions are committed; an
    /// open transaction is aborted; then LeaveGroup, so the group rebalances
    /// at once instead of after the session timeout. Records fetched, or
    /// queued for a worker, but not processed are dropped.
    fn close_consumer(&mut self, c: u32) {
        let cs = &self.consumers[c as usize];
        let (g, inc, member) = (cs.group, cs.inc, cs.member);
        if (cs.commit == CommitMode::Auto || cs.commit_async) && member != 0 && cs.state != ConsumerState::Joining {
            self.commit(c, None);
        }
        let cs = &self.consumers[c as usize];
        if let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) {
            self.send(Node::Consumer(c), Node::TxnCoordinator, Msg::EndTxn { txn, inc, epoch, commit: false });
        }
        if member != 0 {
            self.send(Node::Consumer(c), Node::Coordinator(g), Msg::LeaveGroup { c, member });
        }
        self.crash_consumer(c);
        self.consumers[c as usize].stopped = true;
    }
}
