//! Everything that can happen in a run: kernel events and the messages they carry.
//!
//! Events are small `Copy` values dispatched by one `match` in `World::step`.
//! Ids are typed (`crate::model::ids`): producer/consumer/group indices into
//! the world's vectors, global partition indices, broker numbers. `inc` is the
//! incarnation of the process an event belongs to: a crash bumps it, so the
//! timers and replies of a dead incarnation are recognised and dropped — once,
//! in `World::step`, by the event's [`Event::owner`].
//!
//! Every message is a struct of its own, named as its Kafka request or
//! response; its handler takes it whole.

use crate::kernel::time::Duration;
use crate::model::ids::{
    AssignmentSlot, BatchId, BrokerId, CommitSlot, ConsumerFetchSlot, ConsumerId, FetchSlot, Generation, GroupId,
    Incarnation, MarkerId, MemberId, OffsetsSlot, PartitionId, ProducerEpoch, ProducerId, RecordId, RequestId, TxnId,
};

/// A process on the network. Links between two nodes are FIFO, like TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Broker(BrokerId),
    Producer(ProducerId),
    Consumer(ConsumerId),
    /// The group coordinator of group N (see docs/model.md: always available).
    Coordinator(GroupId),
    /// The transaction coordinator (one for the cluster, always available).
    TxnCoordinator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message reaches `to` (or bounces if `to` is down).
    Deliver { from: Node, to: Node, msg: Msg },
    /// The application of producer `producer` calls send() for its next record.
    ProducerArrival { producer: ProducerId, inc: Incarnation },
    /// `max.block.ms` of a send() blocked on a full buffer (holding `record`) has passed.
    SendBlocked { producer: ProducerId, inc: Incarnation, record: RecordId },
    /// An offline producer (`event_time.offline`) is back and sends what it held.
    OfflineFlush { producer: ProducerId, inc: Incarnation },
    /// `linger.ms` of an open batch has passed.
    LingerExpired { producer: ProducerId, inc: Incarnation, batch: BatchId },
    /// A retry backoff has passed or metadata may have changed: try to send.
    ProducerWake { producer: ProducerId, inc: Incarnation },
    /// `request.timeout.ms` of produce request `req` (in pool slot `request`) has passed.
    RequestTimeout { producer: ProducerId, inc: Incarnation, request: RequestId, req: u64 },
    /// `socket.connection.setup.timeout.ms` of connection `conn` to `broker`
    /// has passed (scheduled only when the network can drop messages).
    ConnectTimeout { producer: ProducerId, inc: Incarnation, broker: BrokerId, conn: u32 },
    /// Fetch number `sent` of session (`follower`, `leader`) waited
    /// `replica.fetch.wait.max.ms` at the leader.
    ReplicaFetchExpired { follower: BrokerId, leader: BrokerId, gen: u32, sent: u32 },
    /// A fetch session fetches again after a failed fetch (`replica.fetch.backoff.ms`).
    ReplicaFetchRetry { follower: BrokerId, leader: BrokerId, gen: u32 },
    /// Fetch number `sent` of a session got no answer within the broker's
    /// `request.timeout.ms` (scheduled only when the network can drop messages).
    ReplicaFetchTimeout { follower: BrokerId, leader: BrokerId, gen: u32, sent: u32 },
    /// Consumer fetch `token` to `broker` got no answer within `request.timeout.ms` (likewise).
    ConsumerFetchTimeout { consumer: ConsumerId, inc: Incarnation, broker: BrokerId, token: u32 },
    /// The consumer fetch parked at `broker` in `slot` (park number `serial`)
    /// waited `fetch.max.wait.ms` (`DelayedFetch` expiring).
    ConsumerFetchExpired { broker: BrokerId, slot: ConsumerFetchSlot, serial: u64 },
    /// The leader checks every follower's lag (`replica.lag.time.max.ms / 2`).
    IsrCheck,
    /// The controller fences broker `b` after `broker.session.timeout.ms` without heartbeats.
    ControllerFence { broker: BrokerId, inc: Incarnation },
    /// A paused broker runs again (and re-registers if the controller fenced it).
    BrokerResume { broker: BrokerId, inc: Incarnation },
    /// Consumer `consumer` sends its background heartbeat.
    HeartbeatTick { consumer: ConsumerId, inc: Incarnation },
    /// librdkafka's auto-commit timer of consumer `consumer` fires (every auto.commit.interval.ms).
    AutoCommitTick { consumer: ConsumerId, inc: Incarnation },
    /// Consumer `consumer`'s heartbeat thread wakes between heartbeats (every
    /// `retry.backoff.ms`) to check its poll timer, scheduled only when the
    /// timer expires before the next heartbeat.
    PollTimerCheck { consumer: ConsumerId, inc: Incarnation },
    /// Consumer `consumer` wakes up to poll (after a backoff or when data arrived while idle).
    ConsumerWake { consumer: ConsumerId, inc: Incarnation },
    /// The worker of consumer `consumer` (`processing: async`) finished its current record.
    WorkerDone { consumer: ConsumerId, inc: Incarnation },
    /// Consumer `consumer` finished processing the record at `index` of its current batch.
    ProcessDone { consumer: ConsumerId, inc: Incarnation, index: u32 },
    /// The coordinator checks whether member `member` of group `group` missed its session timeout.
    SessionCheck { group: GroupId, member: MemberId },
    /// The rebalance of group `group` numbered `round` reaches its deadline.
    RebalanceDeadline { group: GroupId, round: u32 },
    /// A transactional producer's application commits its open transaction
    /// (every `transaction_interval`); `serial` names the transaction.
    TxnCommitDue { producer: ProducerId, inc: Incarnation, serial: u32 },
    /// `transaction.timeout.ms` of transaction `serial` of transactional id `txn` has passed.
    TxnTimeout { txn: TxnId, serial: u32 },
    /// The coordinator retries writing a marker of `txn` to `partition`.
    TxnMarkerRetry { txn: TxnId, serial: u32, partition: PartitionId },
    /// Fault number N of the scenario happens.
    Fault(u32),
    /// A pause of the process at node index `node` may have ended: the
    /// events it deferred run, in order.
    PauseEnd { node: u32 },
    /// The TCP retransmission timer of the link from node index `from` to
    /// `to` fires (data held by a network partition, `world::stall`).
    Retransmit { from: u32, to: u32 },
    /// Periodic sample of lag and counts; also where the run notices it is quiet.
    Sample,
}

impl Event {
    /// The process incarnation this event is for, when it is for one: a
    /// client's own timers, a broker's pause ending, and messages to a client
    /// (each carries the incarnation it answers). `World::step` drops the
    /// event once that incarnation is gone (a crash bumped it, or the process
    /// is down). Requests to brokers and coordinators have no owner here: a
    /// server answers whoever asked (a dead client's old incarnation
    /// included), and the controller's fencing timer runs whatever the
    /// broker's state.
    pub fn owner(&self) -> Option<(Node, Incarnation)> {
        Some(match *self {
            Event::Deliver { to: to @ (Node::Producer(_) | Node::Consumer(_)), msg, .. } => (to, msg.client_inc()?),
            Event::ProducerArrival { producer, inc }
            | Event::SendBlocked { producer, inc, .. }
            | Event::OfflineFlush { producer, inc }
            | Event::LingerExpired { producer, inc, .. }
            | Event::ProducerWake { producer, inc }
            | Event::RequestTimeout { producer, inc, .. }
            | Event::ConnectTimeout { producer, inc, .. }
            | Event::TxnCommitDue { producer, inc, .. } => (Node::Producer(producer), inc),
            Event::ConsumerFetchTimeout { consumer, inc, .. }
            | Event::HeartbeatTick { consumer, inc }
            | Event::AutoCommitTick { consumer, inc }
            | Event::PollTimerCheck { consumer, inc }
            | Event::ConsumerWake { consumer, inc }
            | Event::WorkerDone { consumer, inc }
            | Event::ProcessDone { consumer, inc, .. } => (Node::Consumer(consumer), inc),
            Event::BrokerResume { broker, inc } => (Node::Broker(broker), inc),
            _ => return None,
        })
    }
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
    /// KIP-890 part 1 (Kafka 3.6+): the transaction coordinator does not
    /// have this partition in an ongoing transaction of the batch's epoch,
    /// so the leader refuses the transactional write (INVALID_TXN_STATE).
    InvalidTxnState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchError {
    None,
    NotLeader,
    OffsetOutOfRange,
    Disconnected,
    /// Kinesis: the shard's read limit is used up.
    Throttled,
    /// KIP-320: the leader's log diverges below the fetch offset; the
    /// answer's `to` is the end offset of the validated epoch, and its
    /// `last_entry_epoch` that epoch.
    Diverged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatResult {
    Ok,
    RebalanceInProgress,
    UnknownMember,
    IllegalGeneration,
}

/// Producer → broker: a ProduceRequest, one batch for each of several
/// partitions the broker leads; the batches, the acks and the answer live in
/// the request pool (`World::requests`, `model::producer::request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Produce {
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub request: RequestId,
}

/// Producer → broker: open connection number `conn` (the TCP handshake and
/// ApiVersions, one round trip). A dead broker's port refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect {
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub conn: u32,
}

/// Broker → producer: the connection is ready (`ok`), or was refused.
/// `broker_inc`: the broker incarnation whose kernel accepted it (a
/// connection dies with its machine's socket table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub broker: BrokerId,
    pub broker_inc: Incarnation,
    pub conn: u32,
    pub ok: bool,
}

/// A dead broker's kernel resets connection `conn` (RST): the producer sees a disconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionClosed {
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub broker: BrokerId,
    pub conn: u32,
}

/// Broker → producer: the answer to request `request`, one result per
/// partition (in the pool slot); `disconnected`: no answer, the connection
/// broke before one came (the per-partition results mean nothing then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProduceResponse {
    pub producer: ProducerId,
    pub inc: Incarnation,
    pub request: RequestId,
    pub disconnected: bool,
    /// `throttle_time_ms`: the client quota's delay (KIP-219), 0 when none.
    pub throttle_ms: u32,
}

/// Follower → leader: fetch number `sent` of session (`follower`, the
/// leader) generation `gen`; slot `slot` lists every partition it follows
/// there, each with its log end and last epoch (`model::broker::fetcher`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaFetch {
    pub follower: BrokerId,
    pub gen: u32,
    pub sent: u32,
    pub slot: FetchSlot,
}

/// Leader → follower: the answer to that fetch, per partition in the slot
/// (entries of the leader's log, or where to truncate); `ok` false: the
/// fetch failed whole (the leader is gone or the connection broke).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaFetchResponse {
    pub follower: BrokerId,
    pub gen: u32,
    pub sent: u32,
    pub slot: FetchSlot,
    pub ok: bool,
}

/// Consumer → broker: a FetchRequest for the partitions listed in slot
/// `slot` (each with its offset; `model::consumer::fetch_request`), read as
/// the consumer's settings say (the request carries them, as Kafka's
/// FetchRequest does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetch {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub token: u32,
    pub slot: ConsumerFetchSlot,
    /// `isolation.level=read_committed`: read below the last stable offset.
    pub read_committed: bool,
    /// `fetch.max.wait.ms`: how long the broker parks the fetch without enough data.
    pub max_wait: Duration,
    /// `fetch.min.bytes`: the data that answers a fetch at once.
    pub min_bytes: u32,
    /// `fetch.max.bytes`: the most the whole answer carries (past the first record).
    pub max_bytes: u32,
    /// `max.partition.fetch.bytes`: the most one partition's part carries.
    pub partition_max_bytes: u32,
    /// Size of one record, for the byte limits.
    pub record_bytes: u32,
}

/// Broker → consumer: the answer to fetch `token`, per partition in the
/// slot; `disconnected`: no answer, the connection broke (the slot's
/// answers mean nothing then). `throttle_ms` > 0: the client's fetch quota
/// was exceeded; the answer is empty (`KafkaApis.handleFetchRequest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub token: u32,
    pub slot: ConsumerFetchSlot,
    /// `throttle_time_ms` (KIP-219), 0 when none.
    pub throttle_ms: u32,
    pub disconnected: bool,
}

impl FetchResponse {
    /// Fetch `f` failed whole: the connection broke.
    pub fn failed(f: Fetch) -> FetchResponse {
        FetchResponse {
            consumer: f.consumer,
            inc: f.inc,
            token: f.token,
            slot: f.slot,
            throttle_ms: 0,
            disconnected: true,
        }
    }
}

/// Consumer → coordinator; `member` 0 asks for a new member id. A static
/// member (`group.instance.id`) carries its instance id, which is its
/// consumer instance (`{group.instance.id}-{i}`): `instance` says it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinGroup {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub member: MemberId,
    pub instance: bool,
}

/// Coordinator → consumer: the rebalance completed; the member's partitions
/// for `generation` are in assignment slot `assignment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub member: MemberId,
    pub generation: Generation,
    pub assignment: AssignmentSlot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub member: MemberId,
    pub generation: Generation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub result: HeartbeatResult,
}

/// Consumer → coordinator: leave the group now (poll timeout, or close()).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaveGroup {
    pub consumer: ConsumerId,
    pub member: MemberId,
}

/// Consumer → coordinator: the committed offsets of its partitions, listed
/// in offsets slot `partitions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetFetch {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub generation: Generation,
    pub partitions: OffsetsSlot,
}

/// The committed offset of each partition asked about, in offsets slot
/// `offsets`. `unstable`: a transaction holding offsets of these partitions
/// is still open (KIP-447 `require_stable`); the consumer asks again after a backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub generation: Generation,
    pub unstable: bool,
    pub offsets: OffsetsSlot,
}

/// Consumer → coordinator: commit the offsets held in commit slot `slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCommit {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub member: MemberId,
    pub generation: Generation,
    pub slot: CommitSlot,
    pub sync: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub slot: CommitSlot,
    pub ok: bool,
    pub sync: bool,
}

/// Client → transaction coordinator: initTransactions for transactional id `txn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitProducerId {
    pub txn: TxnId,
    pub inc: Incarnation,
}

/// The id's new epoch; older epochs are fenced from now on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    pub txn: TxnId,
    pub inc: Incarnation,
    pub epoch: ProducerEpoch,
}

/// Producer → transaction coordinator: AddPartitionsToTxn before the first
/// send to `partition` in a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddPartitionsToTxn {
    pub txn: TxnId,
    pub inc: Incarnation,
    pub epoch: ProducerEpoch,
    pub partition: PartitionId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse {
    pub txn: TxnId,
    pub inc: Incarnation,
    pub partition: PartitionId,
    pub ok: bool,
}

/// Client → transaction coordinator: commitTransaction / abortTransaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndTxn {
    pub txn: TxnId,
    pub inc: Incarnation,
    pub epoch: ProducerEpoch,
    pub commit: bool,
}

/// `ok` false: the client's epoch was fenced; the transaction was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndTxnResponse {
    pub txn: TxnId,
    pub inc: Incarnation,
    pub commit: bool,
    pub ok: bool,
    /// The epoch the client goes on with: one higher after a commit or
    /// abort under `transaction.version` 2 (EndTxn v5, KIP-890 part 2).
    pub epoch: ProducerEpoch,
}

/// Transaction coordinator → partition leader: append control marker `marker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteTxnMarker {
    pub txn: TxnId,
    pub serial: u32,
    pub partition: PartitionId,
    pub marker: MarkerId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteTxnMarkerResponse {
    pub txn: TxnId,
    pub serial: u32,
    pub partition: PartitionId,
    pub ok: bool,
}

/// Consumer → group coordinator: sendOffsetsToTransaction, the offsets held
/// in commit slot `slot`, checked against the group generation (KIP-447).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnOffsetCommit {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub member: MemberId,
    pub generation: Generation,
    pub txn: TxnId,
    pub epoch: ProducerEpoch,
    pub slot: CommitSlot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnOffsetCommitResponse {
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    pub ok: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    Connect(Connect),
    ConnectResponse(ConnectResponse),
    ConnectionClosed(ConnectionClosed),
    Produce(Produce),
    ProduceResponse(ProduceResponse),
    ReplicaFetch(ReplicaFetch),
    ReplicaFetchResponse(ReplicaFetchResponse),
    Fetch(Fetch),
    FetchResponse(FetchResponse),
    JoinGroup(JoinGroup),
    JoinResponse(JoinResponse),
    Heartbeat(Heartbeat),
    HeartbeatResponse(HeartbeatResponse),
    LeaveGroup(LeaveGroup),
    OffsetFetch(OffsetFetch),
    OffsetFetchResponse(OffsetFetchResponse),
    OffsetCommit(OffsetCommit),
    OffsetCommitResponse(OffsetCommitResponse),
    InitProducerId(InitProducerId),
    InitProducerIdResponse(InitProducerIdResponse),
    AddPartitionsToTxn(AddPartitionsToTxn),
    AddPartitionsToTxnResponse(AddPartitionsToTxnResponse),
    EndTxn(EndTxn),
    EndTxnResponse(EndTxnResponse),
    WriteTxnMarker(WriteTxnMarker),
    WriteTxnMarkerResponse(WriteTxnMarkerResponse),
    TxnOffsetCommit(TxnOffsetCommit),
    TxnOffsetCommitResponse(TxnOffsetCommitResponse),
}

macro_rules! msg_from {
    ($($name:ident),*) => {$(
        impl From<$name> for Msg {
            #[inline]
            fn from(m: $name) -> Msg {
                Msg::$name(m)
            }
        }
    )*};
}

msg_from!(
    Connect,
    ConnectResponse,
    ConnectionClosed,
    Produce,
    ProduceResponse,
    ReplicaFetch,
    ReplicaFetchResponse,
    Fetch,
    FetchResponse,
    JoinGroup,
    JoinResponse,
    Heartbeat,
    HeartbeatResponse,
    LeaveGroup,
    OffsetFetch,
    OffsetFetchResponse,
    OffsetCommit,
    OffsetCommitResponse,
    InitProducerId,
    InitProducerIdResponse,
    AddPartitionsToTxn,
    AddPartitionsToTxnResponse,
    EndTxn,
    EndTxnResponse,
    WriteTxnMarker,
    WriteTxnMarkerResponse,
    TxnOffsetCommit,
    TxnOffsetCommitResponse
);

impl Msg {
    /// Requests get an error reply when their destination is down; responses are dropped.
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Msg::Connect(_)
                | Msg::Produce(_)
                | Msg::ReplicaFetch(_)
                | Msg::Fetch(_)
                | Msg::JoinGroup(_)
                | Msg::Heartbeat(_)
                | Msg::OffsetFetch(_)
                | Msg::OffsetCommit(_)
                | Msg::WriteTxnMarker(_)
        )
    }

    /// The incarnation of the client a message to a client was sent to: the
    /// message is for that incarnation only.
    pub fn client_inc(&self) -> Option<Incarnation> {
        Some(match self {
            Msg::ConnectResponse(m) => m.inc,
            Msg::ConnectionClosed(m) => m.inc,
            Msg::ProduceResponse(m) => m.inc,
            Msg::FetchResponse(m) => m.inc,
            Msg::JoinResponse(m) => m.inc,
            Msg::HeartbeatResponse(m) => m.inc,
            Msg::OffsetFetchResponse(m) => m.inc,
            Msg::OffsetCommitResponse(m) => m.inc,
            Msg::InitProducerIdResponse(m) => m.inc,
            Msg::AddPartitionsToTxnResponse(m) => m.inc,
            Msg::EndTxnResponse(m) => m.inc,
            Msg::TxnOffsetCommitResponse(m) => m.inc,
            _ => return None,
        })
    }
}

// Events sit in the queue's slab by value: keep them small. A message that
// grows past this belongs in a slab of its own (as batches and commit offsets do).
const _: () = assert!(std::mem::size_of::<Msg>() <= 64, "Msg grew past 64 bytes");
const _: () = assert!(std::mem::size_of::<Event>() <= 80, "Event grew past 80 bytes");
