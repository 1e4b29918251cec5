//! Facts: the one stream through which the model tells the oracle what happened.
//!
//! Every fact is emitted once, by `Oracle::emit`, and goes to two places: the
//! trace (JSONL and `trace_hash`, format v3 in docs/trace-format.md) and the
//! ledger, from which the checkers derive every count. The model never reads
//! either back. Fields are named and typed; [`Fact::encode`] is the only place
//! that knows how a fact is laid out as a trace step and [`Fact::decode`] its
//! exact inverse, so `verify` rebuilds the same oracle from a trace file.
//!
//! Every fact is a line: the bookkeeping facts the summary needs (sequence
//! numbers, throttling, stop-the-world time, lag samples) and the end-of-run
//! facts (what each producer, group, partition and aggregation reports when
//! the run ends, then `End`) included.

/// The typed ids a fact names (the vocabulary facts share with the model).
pub use crate::model::ids::{
    BrokerId, ConsumerId, Generation, GroupId, Incarnation, LeaderEpoch, LocalPartition, MemberId, PartitionId,
    ProducerEpoch, ProducerId, RecordId, TxnId,
};
use crate::oracle::trace::{Members, Step, MAX_VALUES};

/// Why a produce attempt failed (`retry` and `fail` steps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SendError {
    NotLeader = 1,
    NotEnoughReplicas = 2,
    /// The connection broke: the broker died, or the network lost a message.
    Disconnected = 3,
    OutOfOrderSequence = 4,
    ProducerFenced = 5,
    Throttled = 6,
    /// No answer within `request.timeout.ms`.
    RequestTimeout = 7,
    /// send() blocked on a full `buffer.memory` for `max.block.ms`.
    BufferFull = 8,
    /// `delivery.timeout.ms` passed before an acknowledgement.
    DeliveryTimeout = 9,
    /// Its transaction aborted: the record goes again in the next one.
    TxnAborted = 10,
    /// KIP-890 verification: the partition is not in an ongoing transaction.
    InvalidTxnState = 11,
}

impl SendError {
    pub const ALL: [SendError; 11] = [
        SendError::NotLeader,
        SendError::NotEnoughReplicas,
        SendError::Disconnected,
        SendError::OutOfOrderSequence,
        SendError::ProducerFenced,
        SendError::Throttled,
        SendError::RequestTimeout,
        SendError::BufferFull,
        SendError::DeliveryTimeout,
        SendError::TxnAborted,
        SendError::InvalidTxnState,
    ];

    pub fn from_code(code: u64) -> Option<SendError> {
        SendError::ALL.iter().copied().find(|e| *e as u64 == code)
    }

    /// How a person would say it.
    pub fn describe(self) -> &'static str {
        match self {
            SendError::NotLeader => "NotLeader (leadership moved)",
            SendError::NotEnoughReplicas => "NotEnoughReplicas (ISR below min.insync.replicas)",
            SendError::Disconnected => "a broken connection",
            SendError::OutOfOrderSequence => "OutOfOrderSequence",
            SendError::ProducerFenced => "ProducerFenced",
            SendError::Throttled => "throttling (the shard's write limit)",
            SendError::RequestTimeout => "a request timeout (request.timeout.ms)",
            SendError::BufferFull => "a full buffer (max.block.ms)",
            SendError::DeliveryTimeout => "delivery.timeout.ms running out",
            SendError::TxnAborted => "its transaction aborting",
            SendError::InvalidTxnState => "InvalidTxnState (no ongoing transaction has the partition: KIP-890)",
        }
    }
}

impl From<crate::world::event::ProduceError> for SendError {
    fn from(e: crate::world::event::ProduceError) -> SendError {
        use crate::world::event::ProduceError as P;
        match e {
            P::NotLeader => SendError::NotLeader,
            P::NotEnoughReplicas => SendError::NotEnoughReplicas,
            P::Disconnected => SendError::Disconnected,
            P::OutOfOrderSequence => SendError::OutOfOrderSequence,
            P::ProducerFenced => SendError::ProducerFenced,
            P::Throttled => SendError::Throttled,
            P::InvalidTxnState => SendError::InvalidTxnState,
        }
    }
}

/// A process a fault or a lifecycle fact names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Broker(BrokerId),
    Producer(ProducerId),
    Consumer(ConsumerId),
}

impl Entity {
    /// (entity_kind, entity) as the trace writes them (`trace::entity`).
    pub fn code(self) -> (u64, u64) {
        use crate::oracle::trace::entity;
        match self {
            Entity::Broker(b) => (entity::BROKER, b.into()),
            Entity::Producer(p) => (entity::PRODUCER, p.into()),
            Entity::Consumer(c) => (entity::CONSUMER, c.into()),
        }
    }

    /// The inverse of [`Entity::code`]; None for an unknown kind or an index past u32.
    pub fn from_code(kind: u64, index: u64) -> Option<Entity> {
        use crate::oracle::trace::entity;
        let i = u32::try_from(index).ok()?;
        Some(match kind {
            entity::BROKER => Entity::Broker(BrokerId::new(i)),
            entity::PRODUCER => Entity::Producer(ProducerId::new(i)),
            entity::CONSUMER => Entity::Consumer(ConsumerId::new(i)),
            _ => return None,
        })
    }
}

/// An enum a line writes as a number (`trace::source`, `trace::leave`, `trace::trigger`).
macro_rules! coded {
    ($t:ident { $($v:ident = $c:expr),* $(,)? }) => {
        impl $t {
            pub fn code(self) -> u64 {
                match self { $($t::$v => $c),* }
            }
            pub fn from_code(code: u64) -> Option<$t> {
                $(if code == $c { return Some($t::$v); })*
                None
            }
        }
    };
}

/// Where a consumer's position came from (a `position` step's `source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionSource {
    Committed,
    Reset,
    OutOfRange,
    /// KIP-320: the leader's log diverged below the position; seek to the divergence point.
    Diverged,
}

/// Why a member left its group (a `leave` step's `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveReason {
    LeaveGroup,
    SessionTimeout,
    MissedRebalance,
}

/// What started a rebalance (a `rebalance_start` step's `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Join,
    Rejoin,
    Leave,
    Expired,
}

coded!(PositionSource {
    Committed = crate::oracle::trace::source::COMMITTED,
    Reset = crate::oracle::trace::source::RESET,
    OutOfRange = crate::oracle::trace::source::OUT_OF_RANGE,
    Diverged = crate::oracle::trace::source::DIVERGED,
});
coded!(LeaveReason {
    LeaveGroup = crate::oracle::trace::leave::LEAVE_GROUP,
    SessionTimeout = crate::oracle::trace::leave::SESSION_TIMEOUT,
    MissedRebalance = crate::oracle::trace::leave::MISSED_REBALANCE,
});
coded!(Trigger {
    Join = crate::oracle::trace::trigger::JOIN,
    Rejoin = crate::oracle::trace::trigger::REJOIN,
    Leave = crate::oracle::trace::trigger::LEAVE,
    Expired = crate::oracle::trace::trigger::EXPIRED,
});

/// One thing that happened. Partitions are global partition indices;
/// producers, consumers and groups are indices into the world's vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// The application called send(): a new record.
    Send {
        record: RecordId,
        producer: ProducerId,
        partition: PartitionId,
        /// `NULL_KEY` for a null key.
        key: u32,
        /// Position in its producer's send order.
        send_seq: u64,
        /// When what it records happened (µs); by default the send time.
        event_us: u64,
        /// The producer's incarnation (a restart bumps it).
        producer_inc: Incarnation,
    },
    /// An idempotent producer gave the record its sequence number under
    /// producer id generation (or epoch) `producer_gen`.
    Sequenced {
        record: RecordId,
        seq: u32,
        producer_gen: u32,
    },
    Append {
        record: RecordId,
        partition: PartitionId,
        offset: u64,
        broker: BrokerId,
    },
    Ack {
        record: RecordId,
        producer: ProducerId,
    },
    Fail {
        record: RecordId,
        producer: ProducerId,
        error: SendError,
    },
    Retry {
        record: RecordId,
        producer: ProducerId,
        error: SendError,
        attempt: u32,
    },
    /// send() failed with `error` and the application (`on_failure: resend`)
    /// called send() again with the same record: a new send, a new sequence.
    Resend {
        record: RecordId,
        producer: ProducerId,
        error: SendError,
    },
    /// `consumer`'s transaction `txn` aborted and the application
    /// (`on_abort: continue`) polls on without seeking to the committed
    /// offsets: the aborted batch is not processed again.
    NoRewind {
        consumer: ConsumerId,
        txn: TxnId,
    },
    /// `broker`'s replica copied `source`'s log up to `log_end`.
    Replicate {
        broker: BrokerId,
        partition: PartitionId,
        log_end: u64,
        source: BrokerId,
    },
    Truncate {
        broker: BrokerId,
        partition: PartitionId,
        offset: u64,
    },
    /// `leader` None: the partition went offline.
    Elect {
        partition: PartitionId,
        leader: Option<BrokerId>,
        epoch: LeaderEpoch,
        unclean: bool,
    },
    /// `isr_brokers`: a bit per broker.
    Isr {
        partition: PartitionId,
        isr_brokers: u64,
        high_watermark: u64,
    },
    HighWatermark {
        partition: PartitionId,
        high_watermark: u64,
    },
    /// A Kinesis shard refused a read or a write for its limits.
    Throttled,
    /// The producer's send() blocked: `buffer.memory` is full.
    SendBlocked {
        producer: ProducerId,
    },
    /// The blocked send() returned: memory came free, it timed out
    /// (`max.block.ms`), or the producer died.
    SendUnblocked {
        producer: ProducerId,
    },
    /// A broker found `client` over its byte-rate quota: it answers with
    /// `throttle_time_ms` = `throttle_us` / 1000 and mutes the channel that long.
    QuotaThrottle {
        client: Entity,
        broker: BrokerId,
        throttle_us: u64,
    },
    Fetch {
        consumer: ConsumerId,
        partition: PartitionId,
        from: u64,
        to: u64,
    },
    Process {
        record: RecordId,
        consumer: ConsumerId,
        group: GroupId,
        offset: u64,
        effect: bool,
    },
    /// A transactional sink's staged result took effect at its commit.
    Effect {
        record: RecordId,
        consumer: ConsumerId,
        group: GroupId,
        txn: TxnId,
    },
    Late {
        record: RecordId,
        group: GroupId,
        watermark_us: u64,
        dropped: bool,
    },
    Commit {
        consumer: ConsumerId,
        partition: PartitionId,
        offset: u64,
        generation: Generation,
    },
    CommitFailed {
        consumer: ConsumerId,
        group: GroupId,
        generation: Generation,
        in_transaction: bool,
    },
    RebalanceStart {
        group: GroupId,
        generation: Generation,
        reason: Trigger,
        consumer: ConsumerId,
    },
    /// A completed rebalance: every member and its partitions (within the
    /// topic), in assignment order.
    Rebalance {
        group: GroupId,
        generation: Generation,
        members: Vec<(ConsumerId, Vec<LocalPartition>)>,
    },
    Assign {
        consumer: ConsumerId,
        partition: PartitionId,
        generation: Generation,
    },
    Revoke {
        consumer: ConsumerId,
        partition: PartitionId,
        generation: Generation,
    },
    Position {
        consumer: ConsumerId,
        partition: PartitionId,
        offset: u64,
        source: PositionSource,
    },
    /// `auto.offset.reset=none` and no committed offset: poll() throws
    /// NoOffsetForPartitionException; the partition is not read.
    NoOffset {
        consumer: ConsumerId,
        partition: PartitionId,
    },
    Leave {
        group: GroupId,
        member: MemberId,
        consumer: ConsumerId,
        reason: LeaveReason,
    },
    PollTimeout {
        consumer: ConsumerId,
        member: MemberId,
    },
    /// A member waited `us` with every partition revoked for an eager rebalance.
    StoppedTheWorld {
        group: GroupId,
        us: u64,
    },
    Marker {
        partition: PartitionId,
        offset: u64,
        commit: bool,
        txn: TxnId,
    },
    Fenced {
        txn: TxnId,
        epoch: ProducerEpoch,
        by_timeout: bool,
    },
    InitTxn {
        txn: TxnId,
        epoch: ProducerEpoch,
    },
    TxnEnd {
        txn: TxnId,
        commit: bool,
        partitions: u64,
    },
    Crash(Entity),
    Restart(Entity),
    Start(Entity),
    Stop(Entity),
    Pause {
        entity: Entity,
        us: u64,
    },
    NetworkPartition {
        entities: u64,
        us: u64,
    },
    /// A sample of the lag of every group's partitions, summed (high
    /// watermark minus committed offset).
    Lag {
        lag: u64,
    },
    /// End of run: time the producer's send() spent blocked on a full
    /// buffer (µs, up to the end), and the most records its application held back.
    ProducerEnd {
        producer: ProducerId,
        blocked_us: u64,
        max_backlog: u64,
    },
    /// End of run: a group's members and the partitions they hold.
    GroupEnd {
        group: GroupId,
        members: u64,
        assigned_partitions: u64,
    },
    /// End of run: a partition's leader (None: offline), log end offset and
    /// high watermark.
    PartitionEnd {
        partition: PartitionId,
        leader: Option<BrokerId>,
        log_end: u64,
        high_watermark: u64,
    },
    /// End of run: `broker`'s replica of `partition` (one per replica, in
    /// preference order), and whether it is in the ISR.
    ReplicaEnd {
        partition: PartitionId,
        broker: BrokerId,
        in_isr: bool,
    },
    /// End of run: a group aggregation's counters.
    AggregateEnd {
        group: GroupId,
        fired: u64,
        corrected: u64,
        dropped_events: u64,
    },
    /// End of run: a window result a group aggregation emitted last, keyed as
    /// `oracle::windows::truth` keys them, and when it first fired.
    Window {
        group: GroupId,
        key: u32,
        start_us: u64,
        end_us: u64,
        count: u64,
        fired_us: u64,
    },
    /// The run ended after `events` events: the last line.
    End {
        events: u64,
    },
}

/// A step and its values, padded with zeros to [`MAX_VALUES`].
#[inline]
fn step<const N: usize>(step: Step, values: [u64; N]) -> (Step, [u64; MAX_VALUES]) {
    let mut v = [0; MAX_VALUES];
    v[..N].copy_from_slice(&values);
    (step, v)
}

/// A leader as a line writes it: `u64::MAX` for none.
pub const NO_LEADER: u64 = u64::MAX;

fn leader_code(leader: Option<BrokerId>) -> u64 {
    leader.map_or(NO_LEADER, u64::from)
}

impl Fact {
    /// The trace step this fact is, with its values in the order
    /// `Step::fields` names them (zeros after the last). A rebalance's
    /// assignment rides beside them (`Trace::note` writes it). No allocation:
    /// this runs for every fact of every run.
    #[inline]
    pub fn encode(&self) -> (Step, [u64; MAX_VALUES]) {
        match *self {
            Fact::Send { record, producer, partition, key, send_seq, event_us, producer_inc } => step(
                Step::Send,
                [
                    u64::from(record),
                    u64::from(producer),
                    u64::from(partition),
                    key as u64,
                    send_seq,
                    event_us,
                    u64::from(producer_inc),
                ],
            ),
            Fact::Sequenced { record, seq, producer_gen } => {
                step(Step::Sequenced, [u64::from(record), seq as u64, producer_gen as u64])
            }
            Fact::Append { record, partition, offset, broker } => {
                step(Step::Append, [u64::from(record), u64::from(partition), offset, u64::from(broker)])
            }
            Fact::Ack { record, producer } => step(Step::Ack, [u64::from(record), u64::from(producer)]),
            Fact::Fail { record, producer, error } => {
                step(Step::Fail, [u64::from(record), u64::from(producer), error as u64])
            }
            Fact::Retry { record, producer, error, attempt } => {
                step(Step::Retry, [u64::from(record), u64::from(producer), error as u64, attempt as u64])
            }
            Fact::Resend { record, producer, error } => {
                step(Step::Resend, [u64::from(record), u64::from(producer), error as u64])
            }
            Fact::NoRewind { consumer, txn } => step(Step::NoRewind, [u64::from(consumer), u64::from(txn)]),
            Fact::Replicate { broker, partition, log_end, source } => {
                step(Step::Replicate, [u64::from(broker), u64::from(partition), log_end, u64::from(source)])
            }
            Fact::Truncate { broker, partition, offset } => {
                step(Step::Truncate, [u64::from(broker), u64::from(partition), offset])
            }
            Fact::Elect { partition, leader, epoch, unclean } => {
                step(Step::Elect, [u64::from(partition), leader_code(leader), u64::from(epoch), unclean as u64])
            }
            Fact::Isr { partition, isr_brokers, high_watermark } => {
                step(Step::Isr, [u64::from(partition), isr_brokers, high_watermark])
            }
            Fact::HighWatermark { partition, high_watermark } => {
                step(Step::HighWatermark, [u64::from(partition), high_watermark])
            }
            Fact::Throttled => step(Step::Throttled, []),
            Fact::SendBlocked { producer } => step(Step::SendBlocked, [u64::from(producer)]),
            Fact::SendUnblocked { producer } => step(Step::SendUnblocked, [u64::from(producer)]),
            Fact::QuotaThrottle { client, broker, throttle_us } => {
                let (kind, idx) = client.code();
                step(Step::QuotaThrottle, [kind, idx, u64::from(broker), throttle_us])
            }
            Fact::Fetch { consumer, partition, from, to } => {
                step(Step::Fetch, [u64::from(consumer), u64::from(partition), from, to])
            }
            Fact::Process { record, consumer, group, offset, effect } => {
                step(Step::Process, [u64::from(record), u64::from(consumer), offset, effect as u64, u64::from(group)])
            }
            Fact::Effect { record, consumer, group, txn } => {
                step(Step::Effect, [u64::from(record), u64::from(consumer), u64::from(txn), u64::from(group)])
            }
            Fact::Late { record, group, watermark_us, dropped } => {
                step(Step::Late, [u64::from(record), u64::from(group), watermark_us, dropped as u64])
            }
            Fact::Commit { consumer, partition, offset, generation } => {
                step(Step::Commit, [u64::from(consumer), u64::from(partition), offset, u64::from(generation)])
            }
            Fact::CommitFailed { consumer, group, generation, in_transaction } => step(
                Step::CommitFailed,
                [u64::from(consumer), u64::from(generation), in_transaction as u64, u64::from(group)],
            ),
            _ => self.encode_group_and_lifecycle(),
        }
    }

    /// `encode` for groups, transactions and the processes' lives.
    fn encode_group_and_lifecycle(&self) -> (Step, [u64; MAX_VALUES]) {
        match *self {
            Fact::RebalanceStart { group, generation, reason, consumer } => step(
                Step::RebalanceStart,
                [u64::from(group), u64::from(generation), reason.code(), u64::from(consumer)],
            ),
            Fact::Rebalance { group, generation, ref members } => {
                step(Step::Rebalance, [u64::from(group), u64::from(generation), members.len() as u64])
            }
            Fact::Assign { consumer, partition, generation } => {
                step(Step::Assign, [u64::from(consumer), u64::from(partition), u64::from(generation)])
            }
            Fact::Revoke { consumer, partition, generation } => {
                step(Step::Revoke, [u64::from(consumer), u64::from(partition), u64::from(generation)])
            }
            Fact::Position { consumer, partition, offset, source } => {
                step(Step::Position, [u64::from(consumer), u64::from(partition), offset, source.code()])
            }
            Fact::Leave { group, member, consumer, reason } => {
                step(Step::Leave, [u64::from(group), u64::from(member), u64::from(consumer), reason.code()])
            }
            Fact::PollTimeout { consumer, member } => step(Step::PollTimeout, [u64::from(consumer), u64::from(member)]),
            Fact::NoOffset { consumer, partition } => step(Step::NoOffset, [u64::from(consumer), u64::from(partition)]),
            Fact::StoppedTheWorld { group, us } => step(Step::StoppedTheWorld, [u64::from(group), us]),
            Fact::Marker { partition, offset, commit, txn } => {
                step(Step::Marker, [u64::from(partition), offset, commit as u64, u64::from(txn)])
            }
            Fact::Fenced { txn, epoch, by_timeout } => {
                step(Step::Fenced, [u64::from(txn), u64::from(epoch), by_timeout as u64])
            }
            Fact::InitTxn { txn, epoch } => step(Step::InitTxn, [u64::from(txn), u64::from(epoch)]),
            Fact::TxnEnd { txn, commit, partitions } => step(Step::TxnEnd, [u64::from(txn), commit as u64, partitions]),
            Fact::Crash(e) => lifecycle(Step::Crash, e),
            Fact::Restart(e) => lifecycle(Step::Restart, e),
            Fact::Start(e) => lifecycle(Step::Start, e),
            Fact::Stop(e) => lifecycle(Step::Stop, e),
            Fact::Pause { entity, us } => {
                let (kind, idx) = entity.code();
                step(Step::Pause, [kind, idx, us])
            }
            Fact::NetworkPartition { entities, us } => step(Step::Partition, [entities, us]),
            _ => self.encode_end(),
        }
    }

    /// `encode` for the lag samples and the end-of-run facts.
    fn encode_end(&self) -> (Step, [u64; MAX_VALUES]) {
        match *self {
            Fact::Lag { lag } => step(Step::Lag, [lag]),
            Fact::ProducerEnd { producer, blocked_us, max_backlog } => {
                step(Step::ProducerEnd, [u64::from(producer), blocked_us, max_backlog])
            }
            Fact::GroupEnd { group, members, assigned_partitions } => {
                step(Step::GroupEnd, [u64::from(group), members, assigned_partitions])
            }
            Fact::PartitionEnd { partition, leader, log_end, high_watermark } => {
                step(Step::PartitionEnd, [u64::from(partition), leader_code(leader), log_end, high_watermark])
            }
            Fact::ReplicaEnd { partition, broker, in_isr } => {
                step(Step::ReplicaEnd, [u64::from(partition), u64::from(broker), in_isr as u64])
            }
            Fact::AggregateEnd { group, fired, corrected, dropped_events } => {
                step(Step::AggregateEnd, [u64::from(group), fired, corrected, dropped_events])
            }
            Fact::Window { group, key, start_us, end_us, count, fired_us } => {
                step(Step::Window, [u64::from(group), key as u64, start_us, end_us, count, fired_us])
            }
            Fact::End { events } => step(Step::End, [events]),
            _ => unreachable!("encode handles every other fact"),
        }
    }

    /// A rebalance's assignment (empty for every other fact).
    #[inline]
    pub fn members(&self) -> &Members {
        match self {
            Fact::Rebalance { members, .. } => members,
            _ => &[],
        }
    }
}

fn lifecycle(s: Step, e: Entity) -> (Step, [u64; MAX_VALUES]) {
    let (kind, idx) = e.code();
    step(s, [kind, idx])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offline_election_names_no_leader() {
        let f =
            Fact::Elect { partition: PartitionId::new(3), leader: None, epoch: LeaderEpoch::new(4), unclean: false };
        assert_eq!(f.encode(), (Step::Elect, [3, u64::MAX, 4, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn lifecycle_facts_carry_the_entity_code() {
        let f = Fact::Pause { entity: Entity::Consumer(ConsumerId::new(2)), us: 7 };
        assert_eq!(f.encode(), (Step::Pause, [crate::oracle::trace::entity::CONSUMER, 2, 7, 0, 0, 0, 0, 0]));
    }
}
