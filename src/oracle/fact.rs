//! Facts: the one stream through which the model tells the oracle what happened.
//!
//! Every fact is emitted once, by `World::emit`, and goes to two places: the
//! trace (JSONL and `trace_hash`, format v2 in docs/trace-format.md) and the
//! ledger, from which the checkers derive every count. The model never reads
//! either back. Fields are named and typed; [`Fact::encode`] is the only place
//! that knows how a fact is laid out as a trace step, so `explain`, the
//! checkers and `verify` read named fields, never positions.
//!
//! A few facts are bookkeeping the trace format v2 does not carry (marked
//! "not in the trace"): the ledger needs them, the trace hash must not move.

pub use crate::model::ids::RecordId;
use crate::model::ids::{
    BrokerId, ConsumerId, Generation, GroupId, Incarnation, LeaderEpoch, LocalPartition, MemberId, PartitionId,
    ProducerEpoch, ProducerId, TxnId,
};
use crate::oracle::trace::Step;

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
}

impl SendError {
    pub const ALL: [SendError; 10] = [
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
    /// Not in the trace: an idempotent producer gave the record its sequence
    /// number under producer id generation (or epoch) `producer_gen`.
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
    /// Not in the trace: a Kinesis shard refused a read or a write for its limits.
    Throttled,
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
    /// Not in the trace: a member waited `us` with every partition revoked
    /// for an eager rebalance.
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
}

impl Fact {
    /// The trace step this fact is, with its four values in the order
    /// `Step::fields` names them; None for facts the trace does not carry.
    #[inline]
    pub fn encode(&self) -> Option<(Step, [u64; 4])> {
        Some(match *self {
            Fact::Send { record, producer, partition, key, .. } => {
                (Step::Send, [u64::from(record), u64::from(producer), u64::from(partition), key as u64])
            }
            Fact::Sequenced { .. } | Fact::Throttled | Fact::StoppedTheWorld { .. } => return None,
            Fact::Append { record, partition, offset, broker } => {
                (Step::Append, [u64::from(record), u64::from(partition), offset, u64::from(broker)])
            }
            Fact::Ack { record, producer } => (Step::Ack, [u64::from(record), u64::from(producer), 0, 0]),
            Fact::Fail { record, producer, error } => {
                (Step::Fail, [u64::from(record), u64::from(producer), error as u64, 0])
            }
            Fact::Retry { record, producer, error, attempt } => {
                (Step::Retry, [u64::from(record), u64::from(producer), error as u64, attempt as u64])
            }
            Fact::Replicate { broker, partition, log_end, .. } => {
                (Step::Replicate, [u64::from(broker), u64::from(partition), log_end, 0])
            }
            Fact::Truncate { broker, partition, offset } => {
                (Step::Truncate, [u64::from(broker), u64::from(partition), offset, 0])
            }
            Fact::Elect { partition, leader, epoch, unclean } => {
                let leader = leader.map_or(u64::MAX, u64::from);
                (Step::Elect, [u64::from(partition), leader, u64::from(epoch), unclean as u64])
            }
            Fact::Isr { partition, isr_brokers, high_watermark } => {
                (Step::Isr, [u64::from(partition), isr_brokers, high_watermark, 0])
            }
            Fact::HighWatermark { partition, high_watermark } => {
                (Step::HighWatermark, [u64::from(partition), high_watermark, 0, 0])
            }
            Fact::Fetch { consumer, partition, from, to } => {
                (Step::Fetch, [u64::from(consumer), u64::from(partition), from, to])
            }
            Fact::Process { record, consumer, offset, effect, .. } => {
                (Step::Process, [u64::from(record), u64::from(consumer), offset, effect as u64])
            }
            Fact::Effect { record, consumer, txn, .. } => {
                (Step::Effect, [u64::from(record), u64::from(consumer), u64::from(txn), 0])
            }
            Fact::Late { record, group, watermark_us, dropped } => {
                (Step::Late, [u64::from(record), u64::from(group), watermark_us, dropped as u64])
            }
            Fact::Commit { consumer, partition, offset, generation } => {
                (Step::Commit, [u64::from(consumer), u64::from(partition), offset, u64::from(generation)])
            }
            Fact::CommitFailed { consumer, generation, in_transaction, .. } => {
                (Step::CommitFailed, [u64::from(consumer), u64::from(generation), in_transaction as u64, 0])
            }
            _ => return self.encode_group_and_lifecycle(),
        })
    }

    /// `encode` for groups, transactions and the processes' lives.
    fn encode_group_and_lifecycle(&self) -> Option<(Step, [u64; 4])> {
        use crate::oracle::trace::{leave, source, trigger};
        Some(match *self {
            Fact::RebalanceStart { group, generation, reason, consumer } => {
                let reason = match reason {
                    Trigger::Join => trigger::JOIN,
                    Trigger::Rejoin => trigger::REJOIN,
                    Trigger::Leave => trigger::LEAVE,
                    Trigger::Expired => trigger::EXPIRED,
                };
                (Step::RebalanceStart, [u64::from(group), u64::from(generation), reason, u64::from(consumer)])
            }
            Fact::Rebalance { group, generation, ref members } => {
                (Step::Rebalance, [u64::from(group), u64::from(generation), members.len() as u64, 0])
            }
            Fact::Assign { consumer, partition, generation } => {
                (Step::Assign, [u64::from(consumer), u64::from(partition), u64::from(generation), 0])
            }
            Fact::Revoke { consumer, partition, generation } => {
                (Step::Revoke, [u64::from(consumer), u64::from(partition), u64::from(generation), 0])
            }
            Fact::Position { consumer, partition, offset, source: from } => {
                let from = match from {
                    PositionSource::Committed => source::COMMITTED,
                    PositionSource::Reset => source::RESET,
                    PositionSource::OutOfRange => source::OUT_OF_RANGE,
                    PositionSource::Diverged => source::DIVERGED,
                };
                (Step::Position, [u64::from(consumer), u64::from(partition), offset, from])
            }
            Fact::Leave { group, member, consumer, reason } => {
                let reason = match reason {
                    LeaveReason::LeaveGroup => leave::LEAVE_GROUP,
                    LeaveReason::SessionTimeout => leave::SESSION_TIMEOUT,
                    LeaveReason::MissedRebalance => leave::MISSED_REBALANCE,
                };
                (Step::Leave, [u64::from(group), u64::from(member), u64::from(consumer), reason])
            }
            Fact::PollTimeout { consumer, member } => {
                (Step::PollTimeout, [u64::from(consumer), u64::from(member), 0, 0])
            }
            Fact::NoOffset { consumer, partition } => {
                (Step::NoOffset, [u64::from(consumer), u64::from(partition), 0, 0])
            }
            Fact::Marker { partition, offset, commit, txn } => {
                (Step::Marker, [u64::from(partition), offset, commit as u64, u64::from(txn)])
            }
            Fact::Fenced { txn, epoch, by_timeout } => {
                (Step::Fenced, [u64::from(txn), u64::from(epoch), by_timeout as u64, 0])
            }
            Fact::InitTxn { txn, epoch } => (Step::InitTxn, [u64::from(txn), u64::from(epoch), 0, 0]),
            Fact::TxnEnd { txn, commit, partitions } => (Step::TxnEnd, [u64::from(txn), commit as u64, partitions, 0]),
            Fact::Crash(e) => lifecycle(Step::Crash, e, 0),
            Fact::Restart(e) => lifecycle(Step::Restart, e, 0),
            Fact::Start(e) => lifecycle(Step::Start, e, 0),
            Fact::Stop(e) => lifecycle(Step::Stop, e, 0),
            Fact::Pause { entity, us } => lifecycle(Step::Pause, entity, us),
            Fact::NetworkPartition { entities, us } => (Step::Partition, [entities, us, 0, 0]),
            _ => unreachable!("encode handles the record and partition facts"),
        })
    }
}

fn lifecycle(step: Step, e: Entity, third: u64) -> (Step, [u64; 4]) {
    let (kind, idx) = e.code();
    (step, [kind, idx, third, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_facts_are_not_trace_steps() {
        assert_eq!(Fact::Throttled.encode(), None);
        assert_eq!(Fact::StoppedTheWorld { group: GroupId::new(0), us: 5 }.encode(), None);
        assert_eq!(Fact::Sequenced { record: RecordId::new(1), seq: 2, producer_gen: 3 }.encode(), None);
    }

    #[test]
    fn an_offline_election_names_no_leader() {
        let f =
            Fact::Elect { partition: PartitionId::new(3), leader: None, epoch: LeaderEpoch::new(4), unclean: false };
        assert_eq!(f.encode(), Some((Step::Elect, [3, u64::MAX, 4, 0])));
    }

    #[test]
    fn lifecycle_facts_carry_the_entity_code() {
        let f = Fact::Pause { entity: Entity::Consumer(ConsumerId::new(2)), us: 7 };
        assert_eq!(f.encode(), Some((Step::Pause, [crate::oracle::trace::entity::CONSUMER, 2, 7, 0])));
    }
}
