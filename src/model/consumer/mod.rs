//! Consumers: the poll loop of Kafka's Java consumer. Fetch from partition
//! leaders, return up to `max.poll.records` per poll, process each record for
//! `processing_time`, and commit offsets before processing, after processing,
//! automatically inside poll, or in a transaction with the results
//! (consume-transform-produce: sendOffsetsToTransaction, commitTransaction).
//!
//! - `membership`: joining the group, heartbeats, the committed offsets to start from;
//! - `poll`: poll(), processing (in the poll loop or on a worker), the sink;
//! - `fetch`: fetches from the partition leaders;
//! - `commit`: offset commits and the consumer's transactions;
//! - this file: the consumer's state and its process's life (start, crash, stop).

mod commit;
mod fetch;
pub mod fetch_request;
#[cfg(test)]
mod fetch_tests;
mod membership;
mod poll;

use std::collections::VecDeque;

use crate::kernel::rng::{Dist, EntityRng};
use crate::kernel::time::{Duration, Instant};
use crate::model::ids::{
    ConsumerId, Generation, GroupId, IdVec, Incarnation, LeaderEpoch, LocalPartition, MemberId, ProducerEpoch,
    RecordId, TxnId,
};
use crate::scenario::{
    CommitEvery, CommitMode, ConsumerSpec, IsolationLevel, OffsetReset, OnAbort, Processing, SinkKind,
};
use crate::world::event::{EndTxn, Event, InitProducerId, LeaveGroup, Node};
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

pub use fetch::KINESIS_IDLE_BETWEEN_READS;

/// A fetched entry poll() passes over: a control marker, or (read_committed)
/// a record of an aborted transaction. It still moves the position.
pub const SKIP: RecordId = RecordId::new(u32::MAX);

/// Which offset a commit takes. The Java client commits the consumed position (the records
/// poll() returned; its auto-commit runs inside the next poll(), once the application is done
/// with them: ConsumerCoordinator.maybeAutoCommitOffsetsAsync). librdkafka commits its offset
/// store from a background timer (rdkafka_cgrp.c `rd_kafka_cgrp_offset_commit_tmr_cb`,
/// every auto.commit.interval.ms), whatever the application is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetStore {
    /// Java: a commit takes the consumed position.
    Position,
    /// librdkafka, `enable.auto.offset.store=true`: a message's offset + 1 is stored when it
    /// is handed to the application (rdkafka_op.c `rd_kafka_fetch_op_app_prepare` →
    /// rdkafka_offset.c `rd_kafka_update_app_pos`), before it is processed.
    OnReturn,
    /// librdkafka, `enable.auto.offset.store=false`: the application calls
    /// `store_offsets(msg)` after processing each message.
    AfterProcessing,
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub group: GroupId,
    pub name: String,
    /// Position of its name among its group's members, sorted.
    pub rank: u32,
    pub up: bool,
    pub inc: Incarnation,
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
    /// When the heartbeat thread sends its next heartbeat.
    next_heartbeat: Instant,
    pub max_poll_records: u32,
    pub fetch_max_wait: Duration,
    pub retry_backoff: Duration,
    pub request_timeout: Duration,
    /// `max.partition.fetch.bytes`: the most one partition's part of a fetch carries.
    pub partition_max_bytes: u32,
    /// `fetch.max.bytes`: the most one fetch's answer carries.
    pub fetch_max_bytes: u32,
    /// `fetch.min.bytes`: the data a broker waits for before answering.
    pub fetch_min_bytes: u32,
    /// `consumer_byte_rate`: this consumer's client quota (over the broker default).
    pub consumer_byte_rate: Option<u64>,
    /// Size of one record (the largest of the topic's producers'), for byte limits.
    pub record_bytes: u32,
    pub state: ConsumerState,
    pub member: MemberId,
    pub generation: Generation,
    /// Partitions (within the topic) assigned in the current generation.
    pub assigned: Vec<LocalPartition>,
    /// Next offset to fetch, per partition; None = not assigned or no position.
    pub position: IdVec<LocalPartition, Option<u64>>,
    /// Offset after the last record poll returned, per partition: what a Java commit commits.
    pub consumed: IdVec<LocalPartition, u64>,
    /// librdkafka's offset store, per partition: what its commits commit (see [`OffsetStore`]).
    pub stored: IdVec<LocalPartition, u64>,
    /// Whose offsets a commit takes, and when librdkafka stores them.
    pub offset_store: OffsetStore,
    /// Token of the fetch in flight per partition.
    fetching: IdVec<LocalPartition, Option<u32>>,
    /// Per broker (by index): the fetch in flight there and its throttle (`fetch::FetchNode`).
    nodes: Vec<fetch::FetchNode>,
    /// The order partitions go into fetches: the assignment's, each moved
    /// to the end once a fetch returned it data or an error
    /// (`SubscriptionState.movePartitionToEnd`).
    fetch_order: Vec<LocalPartition>,
    /// `send_fetches`' scratch: per broker, the request being built (slot, token).
    open_fetches: Vec<Option<(crate::model::ids::ConsumerFetchSlot, u32)>>,
    /// The partitions of the answer being read that go to the end of `fetch_order`, in order.
    moved: Vec<LocalPartition>,
    to_end: IdVec<LocalPartition, bool>,
    /// Unit tests read the fetches sent here.
    #[cfg(test)]
    pub(crate) fetch_tap: Vec<fetch::Tapped>,
    /// KIP-320, per partition: the leader epoch the last fetch was sent
    /// under and the epoch of the last record fetched (the position's
    /// epoch); None = a position nobody fetched from yet.
    fetched_epoch: IdVec<LocalPartition, Option<(LeaderEpoch, LeaderEpoch)>>,
    /// The leader epoch the fetch in flight was sent under.
    sent_epoch: IdVec<LocalPartition, LeaderEpoch>,
    fetch_backoff_until: IdVec<LocalPartition, Instant>,
    buffered: IdVec<LocalPartition, u32>,
    next_token: u32,
    buffer: VecDeque<(LocalPartition, u64, RecordId)>,
    pub batch: Vec<(LocalPartition, u64, RecordId)>,
    pub rejoin_needed: bool,
    next_auto_commit: Instant,
    /// Last offsets committed per partition, to skip empty auto-commits.
    last_committed: IdVec<LocalPartition, Option<u64>>,
    /// `isolation.level=read_committed`: read below the last stable offset, skip aborted records.
    pub read_committed: bool,
    /// `commit: transactional`: its transactional id in `World::txns`.
    pub txn: Option<TxnId>,
    /// Epoch from the last initTransactions; `None` until it answers.
    pub txn_epoch: Option<ProducerEpoch>,
    /// A write of the open transaction was fenced: it must abort.
    pub txn_failed: bool,
    /// Waiting to ask for the committed offsets again (a transaction held them).
    offsets_retry: bool,
    /// `processing: async`: records poll() handed to the worker, in order.
    pub worker: VecDeque<(LocalPartition, u64, RecordId)>,
    pub async_processing: bool,
    worker_busy: bool,
    /// Shut down by `stop` (or not started yet): only `start` brings it back.
    pub stopped: bool,
    /// `stop` arrived mid-batch: close() at the next poll, after the batch and its commit.
    closing: bool,
    /// Cooperative rebalancing: keep the partitions through a rebalance.
    pub cooperative: bool,
    /// `group.instance.id` is set (KIP-345): a static member, which never
    /// sends LeaveGroup and is replaced, not added, when it rejoins.
    pub static_member: bool,
    /// `commit_every: record`: commitSync after each record, not each batch.
    pub commit_every_record: bool,
    /// `commit_async: true`: commitAsync after the batch instead of commitSync.
    pub commit_async: bool,
    /// `on_abort: continue`: after an abort the application polls on
    /// without seeking back to the committed offsets (KAFKA-17582).
    pub no_rewind_on_abort: bool,
    /// Cooperative: a JoinGroup is in flight while the member keeps consuming.
    join_inflight: bool,
    /// Cooperative: a completed rebalance (member, generation), applied at the next poll.
    join_result: Option<(MemberId, Generation, Vec<LocalPartition>)>,
    /// Eager: when the member revoked everything for a rebalance.
    paused_since: Option<Instant>,
}

impl Consumer {
    /// The member id and generation the member's requests carry. A cooperative
    /// rebalance that completed while the application was busy outside poll()
    /// has already set them: the heartbeat thread handles the JoinGroup and
    /// SyncGroup responses (AbstractCoordinator's JoinGroupResponseHandler sets
    /// the generation, SyncGroupResponseHandler the state STABLE), so commits
    /// and heartbeats use the new generation; only the assignment waits for the
    /// next poll() (ConsumerCoordinator.onJoinComplete).
    pub(crate) fn group_identity(&self) -> (MemberId, Generation) {
        match &self.join_result {
            Some((member, generation, _)) => (*member, *generation),
            None => (self.member, self.generation),
        }
    }

    pub fn new(
        group: GroupId,
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
            inc: Incarnation::new(0),
            rng,
            processing_time: spec.processing_time.clone(),
            commit: spec.commit,
            sink: spec.sink,
            auto_commit_interval: cfg.auto_commit_interval,
            auto_offset_reset: cfg.auto_offset_reset,
            heartbeat_interval: cfg.heartbeat_interval,
            max_poll_interval: cfg.max_poll_interval,
            last_poll: Instant::ZERO,
            next_heartbeat: Instant::ZERO,
            max_poll_records: cfg.max_poll_records,
            fetch_max_wait: cfg.fetch_max_wait,
            retry_backoff: cfg.retry_backoff,
            request_timeout: cfg.request_timeout,
            partition_max_bytes: cfg.max_partition_fetch_bytes,
            fetch_max_bytes: cfg.fetch_max_bytes,
            fetch_min_bytes: cfg.fetch_min_bytes,
            consumer_byte_rate: cfg.consumer_byte_rate,
            record_bytes,
            state: ConsumerState::Down,
            member: MemberId::NONE,
            generation: Generation::NONE,
            assigned: Vec::new(),
            position: IdVec::filled(None, n),
            consumed: IdVec::filled(0, n),
            stored: IdVec::filled(0, n),
            offset_store: match (cfg.client, cfg.enable_auto_offset_store) {
                (crate::scenario::Client::Java, _) => OffsetStore::Position,
                (crate::scenario::Client::Librdkafka, true) => OffsetStore::OnReturn,
                (crate::scenario::Client::Librdkafka, false) => OffsetStore::AfterProcessing,
            },
            fetching: IdVec::filled(None, n),
            nodes: Vec::new(),
            fetch_order: Vec::new(),
            open_fetches: Vec::new(),
            moved: Vec::new(),
            to_end: IdVec::filled(false, n),
            #[cfg(test)]
            fetch_tap: Vec::new(),
            fetched_epoch: IdVec::filled(None, n),
            sent_epoch: IdVec::filled(LeaderEpoch::new(0), n),
            fetch_backoff_until: IdVec::filled(Instant::ZERO, n),
            buffered: IdVec::filled(0, n),
            next_token: 0,
            buffer: VecDeque::new(),
            batch: Vec::new(),
            rejoin_needed: false,
            next_auto_commit: Instant::ZERO,
            last_committed: IdVec::filled(None, n),
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
            static_member: cfg.group_instance_id.is_some(),
            commit_every_record: spec.commit_every == CommitEvery::Record,
            commit_async: spec.commit_async,
            no_rewind_on_abort: spec.on_abort == OnAbort::Continue,
            join_inflight: false,
            join_result: None,
            paused_since: None,
        }
    }

    /// Not in the middle of processing or a blocking commit.
    pub fn is_idle(&self) -> bool {
        !self.is_busy() && self.worker.is_empty() && !self.worker_busy
    }

    /// The application is outside poll(): processing a batch or blocked in
    /// commitSync / commitTransaction.
    pub fn is_busy(&self) -> bool {
        matches!(self.state, ConsumerState::Processing | ConsumerState::Committing(_) | ConsumerState::EndingTxn)
    }

    /// Forgets the assignment and everything fetched for it.
    fn clear_assignment(&mut self) {
        self.assigned.clear();
        self.fetch_order.clear();
        self.forget_fetched();
    }

    /// A new assignment: fetches take its partitions in its order.
    fn reset_fetch_order(&mut self) {
        self.fetch_order.clear();
        self.fetch_order.extend_from_slice(&self.assigned);
    }

    /// Forgets positions and everything fetched; the assignment stays.
    fn forget_fetched(&mut self) {
        self.position.iter_mut().for_each(|p| *p = None);
        self.fetching.iter_mut().for_each(|f| *f = None);
        self.fetched_epoch.iter_mut().for_each(|f| *f = None);
        self.buffered.iter_mut().for_each(|b| *b = 0);
        self.last_committed.iter_mut().for_each(|c| *c = None);
        self.buffer.clear();
        self.batch.clear();
    }
}

impl World {
    /// The consumer process starts and asks to join its group as a new member.
    pub(crate) fn start_consumer(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        cs.up = true;
        cs.member = MemberId::NONE;
        cs.generation = Generation::NONE;
        cs.rejoin_needed = false;
        cs.clear_assignment();
        cs.offsets_retry = false;
        let (inc, hb) = (cs.inc, cs.heartbeat_interval);
        cs.next_heartbeat = self.now.add(hb);
        if let Some(txn) = cs.txn {
            // initTransactions: aborts what an earlier incarnation left open.
            cs.txn_epoch = None;
            cs.txn_failed = false;
            self.send(Node::Consumer(c), Node::TxnCoordinator, InitProducerId { txn, inc }.into());
        }
        self.send_join(c);
        self.after(hb, Event::HeartbeatTick { consumer: c, inc });
        if cs_timer_commits(&self.consumers[c]) {
            let every = self.consumers[c].auto_commit_interval;
            self.after(every, Event::AutoCommitTick { consumer: c, inc });
        }
    }

    /// librdkafka's auto-commit timer (`rd_kafka_cgrp_offset_commit_tmr_cb`): commits the
    /// offset store unless the group is rebalancing (the generation is in flux), then re-arms.
    pub(crate) fn on_auto_commit_tick(&mut self, c: ConsumerId, inc: Incarnation) {
        let cs = &self.consumers[c];
        let every = cs.auto_commit_interval;
        let steady = !cs.member.is_none()
            && cs.generation != Generation::NONE
            && !cs.rejoin_needed
            && !cs.join_inflight
            && !matches!(cs.state, ConsumerState::Joining | ConsumerState::AwaitingOffsets | ConsumerState::Down);
        if steady {
            self.commit(c, None);
        }
        self.after(every, Event::AutoCommitTick { consumer: c, inc });
    }

    /// The consumer process dies: what it fetched, processed but did not commit,
    /// and its membership are gone; the coordinator notices after the session timeout.
    pub(crate) fn crash_consumer(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        if !cs.up {
            return;
        }
        cs.up = false;
        cs.inc = cs.inc.next();
        cs.closing = false;
        cs.join_inflight = false;
        cs.join_result = None;
        cs.paused_since = None;
        cs.state = ConsumerState::Down;
        cs.clear_assignment();
        // Fetches in flight die with the process (their answers are for the old incarnation).
        cs.nodes.clear();
        // Records waiting for the worker die with the process.
        cs.worker.clear();
        cs.worker_busy = false;
    }

    pub(crate) fn restart_consumer(&mut self, c: ConsumerId) {
        let cs = &self.consumers[c];
        if cs.up || cs.stopped {
            return;
        }
        self.start_consumer(c);
    }

    /// `start`: an instance that never ran, or was stopped, starts and joins.
    pub(crate) fn start_stopped_consumer(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        if cs.up {
            return;
        }
        cs.stopped = false;
        cs.inc = cs.inc.next();
        self.start_consumer(c);
    }

    /// `stop`: the application shuts down cleanly. A batch being processed
    /// is finished (and committed, as its commit mode says) first; then close().
    pub(crate) fn stop_consumer(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
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
    /// at once instead of after the session timeout, except for a static
    /// member (AbstractCoordinator.maybeLeaveGroup sends it only for a
    /// dynamic member): the group keeps its partitions for it until
    /// session.timeout.ms. Records fetched, or queued for a worker, but not
    /// processed are dropped.
    fn close_consumer(&mut self, c: ConsumerId) {
        let cs = &self.consumers[c];
        let (group, inc, member) = (cs.group, cs.inc, cs.member);
        if (cs.commit == CommitMode::Auto || cs.commit_async) && !member.is_none() && cs.state != ConsumerState::Joining
        {
            self.commit(c, None);
        }
        let cs = &self.consumers[c];
        if let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) {
            let msg = EndTxn { txn, inc, epoch, commit: false };
            self.send(Node::Consumer(c), Node::TxnCoordinator, msg.into());
        }
        if !member.is_none() && !self.consumers[c].static_member {
            self.send(Node::Consumer(c), Node::Coordinator(group), LeaveGroup { consumer: c, member }.into());
        }
        self.crash_consumer(c);
        self.consumers[c].stopped = true;
    }
}

/// Whether the consumer auto-commits from a background timer (librdkafka) rather than in poll().
pub(crate) fn cs_timer_commits(cs: &Consumer) -> bool {
    cs.commit == CommitMode::Auto && cs.offset_store != OffsetStore::Position
}
