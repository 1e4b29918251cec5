//! Everything that can happen in a run: kernel events and the messages they carry.
//!
//! Events are small `Copy` values dispatched by one `match` in `World::step`.
//! Ids are small integers: producer/consumer/group indices into the world's
//! vectors, global partition indices, broker numbers. `inc` is the incarnation of
//! the process an event belongs to: a crash bumps it, so the timers and replies of a
//! dead incarnation are recognised and dropped.

use crate::scenario::Acks;

/// A process on the network. Links between two nodes are FIFO, like TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Broker(u32),
    Producer(u32),
    Consumer(u32),
    /// The group coordinator of group N (see docs/model.md: always available).
    Coordinator(u32),
    /// The transaction coordinator (one for the cluster, always available).
    TxnCoordinator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message reaches `to` (or bounces if `to` is down).
    Deliver { from: Node, to: Node, msg: Msg },
    /// The application of producer `p` calls send() for its next record.
    ProducerArrival { p: u32, inc: u32 },
    /// `max.block.ms` of a send() blocked on a full buffer (holding `record`) has passed.
    SendBlocked { p: u32, inc: u32, record: u32 },
    /// An offline producer (`event_time.offline`) is back and sends what it held.
    OfflineFlush { p: u32, inc: u32 },
    /// `linger.ms` of an open batch has passed.
    LingerExpired { p: u32, inc: u32, batch: u32 },
    /// A retry backoff has passed or metadata may have changed: try to send.
    ProducerWake { p: u32, inc: u32 },
    /// `request.timeout.ms` of request `req` (carrying `batch`) has passed.
    RequestTimeout { p: u32, inc: u32, batch: u32, req: u64 },
    /// A follower's fetch waited `replica.fetch.wait.max.ms` at the leader.
    ReplicaFetchExpired { partition: u32, replica: u32, token: u32 },
    /// A follower retries fetching after an error (`replica.fetch.backoff.ms`).
    ReplicaFetchRetry { partition: u32, replica: u32, token: u32 },
    /// A follower's fetch number `sent` got no answer within
    /// `replica.socket.timeout.ms` (scheduled only when the network can drop messages).
    ReplicaFetchTimeout { partition: u32, replica: u32, token: u32, sent: u32 },
    /// A consumer fetch got no answer within `request.timeout.ms` (likewise).
    ConsumerFetchTimeout { c: u32, inc: u32, partition: u32, token: u32 },
    /// A consumer fetch waited `fetch.max.wait.ms` at the leader.
    ConsumerFetchExpired { partition: u32, c: u32, inc: u32, token: u32 },
    /// The leader checks every follower's lag (`replica.lag.time.max.ms / 2`).
    IsrCheck,
    /// The controller fences broker `b` after `broker.session.timeout.ms` without heartbeats.
    ControllerFence { broker: u32, inc: u32 },
    /// A paused broker runs again (and re-registers if the controller fenced it).
    BrokerResume { broker: u32, inc: u32 },
    /// Consumer `c` sends its background heartbeat.
    HeartbeatTick { c: u32, inc: u32 },
    /// Consumer `c` wakes up to poll (after a backoff or when data arrived while idle).
    ConsumerWake { c: u32, inc: u32 },
    /// The worker of consumer `c` (`processing: async`) finished its current record.
    WorkerDone { c: u32, inc: u32 },
    /// Consumer `c` finished processing the record at `index` of its current batch.
    ProcessDone { c: u32, inc: u32, index: u32 },
    /// The coordinator checks whether member `member` of group `g` missed its session timeout.
    SessionCheck { g: u32, member: u32 },
    /// The rebalance of group `g` numbered `round` reaches its deadline.
    RebalanceDeadline { g: u32, round: u32 },
    /// A transactional producer's application commits its open transaction
    /// (every `transaction_interval`); `serial` names the transaction.
    TxnCommitDue { p: u32, inc: u32, serial: u32 },
    /// `transaction.timeout.ms` of transaction `serial` of transactional id `txn` has passed.
    TxnTimeout { txn: u32, serial: u32 },
    /// The coordinator retries writing a marker of `txn` to `partition`.
    TxnMarkerRetry { txn: u32, serial: u32, partition: u32 },
    /// Fault number N of the scenario happens.
    Fault(u32),
    /// Periodic sample of lag and counts; also where the run notices it is quiet.
    Sample,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProduceError {
    /// The broker is not the partition's leader (any more).
    NotLeader,
    /// acks=all and the ISR is smaller than min.insync.replicas.
    NotEnoughReplicas,
    /// The connection broke (the broker process died) before a response.
    Disconnected,
    /// Idempotent producer: a sequence gap; an earlier batch must land first.
    OutOfOrderSequence,
    /// The producer's epoch is older than the partition's: a newer
    /// incarnation of its transactional id (or a timeout abort) fenced it.
    ProducerFenced,
    /// Kinesis: the shard's write limit is used up (ProvisionedThroughputExceeded).
    Throttled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchError {
    None,
    NotLeader,
    OffsetOutOfRange,
    Disconnected,
    /// Kinesis: the shard's read limit is used up.
    Throttled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatResult {
    Ok,
    RebalanceInProgress,
    UnknownMember,
    IllegalGeneration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Producer → leader: append batch `batch`; `req` is unique per send attempt.
    Produce {
        p: u32,
        inc: u32,
        batch: u32,
        req: u64,
        partition: u32,
        acks: Acks,
    },
    /// Leader → producer: the base offset, or why not.
    ProduceResponse {
        p: u32,
        inc: u32,
        batch: u32,
        req: u64,
        result: Result<u64, ProduceError>,
    },
    /// Follower → leader: fetch from `offset`; `last_epoch` is the epoch of the follower's last entry.
    ReplicaFetch {
        partition: u32,
        replica: u32,
        token: u32,
        offset: u64,
        last_epoch: u32,
    },
    /// Leader → follower: entries `[from, to)` of the leader's log, whose last entry has
    /// epoch `last_entry_epoch`; or `truncate_to` when the follower's log diverged.
    ReplicaFetchResponse {
        partition: u32,
        replica: u32,
        token: u32,
        from: u64,
        to: u64,
        last_entry_epoch: u32,
        leader_hw: u64,
        truncate_to: Option<u64>,
        ok: bool,
    },
    /// Consumer → leader.
    Fetch {
        c: u32,
        inc: u32,
        partition: u32,
        offset: u64,
        token: u32,
    },
    /// Leader → consumer: records `[from, to)` of the leader's log (see `ReplicaFetchResponse`).
    FetchResponse {
        c: u32,
        inc: u32,
        partition: u32,
        token: u32,
        from: u64,
        to: u64,
        last_entry_epoch: u32,
        error: FetchError,
    },
    /// Consumer → coordinator; `member` 0 asks for a new member id.
    JoinGroup {
        c: u32,
        inc: u32,
        member: u32,
    },
    /// Coordinator → consumer: the rebalance completed; the assignment is the group's for `generation`.
    JoinResponse {
        c: u32,
        inc: u32,
        member: u32,
        generation: u32,
    },
    Heartbeat {
        c: u32,
        inc: u32,
        member: u32,
        generation: u32,
    },
    HeartbeatResponse {
        c: u32,
        inc: u32,
        result: HeartbeatResult,
    },
    /// Consumer → coordinator: leave the group now (poll timeout, or close()).
    LeaveGroup {
        c: u32,
        member: u32,
    },
    /// Consumer → coordinator: the committed offsets of its partitions.
    OffsetFetch {
        c: u32,
        inc: u32,
        generation: u32,
    },
    /// `unstable`: a transaction holding offsets of these partitions is still
    /// open (KIP-447 `require_stable`); the consumer asks again after a backoff.
    OffsetFetchResponse {
        c: u32,
        inc: u32,
        generation: u32,
        unstable: bool,
    },
    /// Consumer → coordinator: commit the offsets held in commit slot `slot`.
    OffsetCommit {
        c: u32,
        inc: u32,
        member: u32,
        generation: u32,
        slot: u32,
        sync: bool,
    },
    OffsetCommitResponse {
        c: u32,
        inc: u32,
        slot: u32,
        ok: bool,
        sync: bool,
    },
    /// Client → transaction coordinator: initTransactions for transactional id `txn`.
    InitProducerId {
        txn: u32,
        inc: u32,
    },
    /// The id's new epoch; older epochs are fenced from now on.
    InitProducerIdResponse {
        txn: u32,
        inc: u32,
        epoch: u32,
    },
    /// Producer → transaction coordinator: AddPartitionsToTxn before the first
    /// send to `partition` in a transaction.
    AddPartitionsToTxn {
        txn: u32,
        inc: u32,
        epoch: u32,
        partition: u32,
    },
    AddPartitionsToTxnResponse {
        txn: u32,
        inc: u32,
        partition: u32,
        ok: bool,
    },
    /// Client → transaction coordinator: commitTransaction / abortTransaction.
    EndTxn {
        txn: u32,
        inc: u32,
        epoch: u32,
        commit: bool,
    },
    /// `ok` false: the client's epoch was fenced; the transaction was aborted.
    EndTxnResponse {
        txn: u32,
        inc: u32,
        commit: bool,
        ok: bool,
    },
    /// Transaction coordinator → partition leader: append control marker `marker`.
    WriteTxnMarker {
        txn: u32,
        serial: u32,
        partition: u32,
        marker: u32,
    },
    WriteTxnMarkerResponse {
        txn: u32,
        serial: u32,
        partition: u32,
        ok: bool,
    },
    /// Consumer → group coordinator: sendOffsetsToTransaction, the offsets held
    /// in commit slot `slot`, checked against the group generation (KIP-447).
    TxnOffsetCommit {
        c: u32,
        inc: u32,
        member: u32,
        generation: u32,
        txn: u32,
        epoch: u32,
        slot: u32,
    },
    TxnOffsetCommitResponse {
        c: u32,
        inc: u32,
        ok: bool,
    },
}

impl Msg {
    /// A consumer fetch answered with `error` and no records.
    pub fn fetch_failed(c: u32, inc: u32, partition: u32, token: u32, offset: u64, error: FetchError) -> Msg {
        Msg::FetchResponse { c, inc, partition, token, from: offset, to: offset, last_entry_epoch: 0, error }
    }

    /// A follower fetch that failed; the follower backs off and fetches again.
    pub fn replica_fetch_failed(partition: u32, replica: u32, token: u32, offset: u64) -> Msg {
        Msg::ReplicaFetchResponse {
            partition,
            replica,
            token,
            from: offset,
            to: offset,
            last_entry_epoch: 0,
            leader_hw: 0,
            truncate_to: None,
            ok: false,
        }
    }

    /// Requests get an error reply when their destination is down; responses are dropped.
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Msg::Produce { .. }
                | Msg::ReplicaFetch { .. }
                | Msg::Fetch { .. }
                | Msg::JoinGroup { .. }
                | Msg::Heartbeat { .. }
                | Msg::OffsetFetch { .. }
                | Msg::OffsetCommit { .. }
                | Msg::WriteTxnMarker { .. }
        )
    }
}

// Events sit in the queue's slab by value: keep them small. A message that
// grows past this belongs in a slab of its own (as batches and commit offsets do).
const _: () = assert!(std::mem::size_of::<Msg>() <= 64, "Msg grew past 64 bytes");
const _: () = assert!(std::mem::size_of::<Event>() <= 80, "Event grew past 80 bytes");
