//! Kept trace steps read back as typed views, so `explain` names a step's
//! fields (`append.offset`, `commit.generation`) instead of its positions.
//!
//! A step keeps only what trace format v2 writes: the four values
//! `Fact::encode` laid out. Each view here is that much of its [`Fact`],
//! with the same field names and typed ids; fields the trace does not carry
//! (a processing's group, a send's event time) are not in the view. This
//! file is the only place in `explain` that knows the positions: each view
//! has one `decode`, the inverse of its arm of `Fact::encode`, and the test
//! below round-trips every step kind through both.
//!
//! A view is asked for through the step it came from: `f.append()` on a
//! step the index or a kind filter says is an append. Asking for another
//! kind is a bug in `explain`; a debug assertion catches it.
//!
//! [`Fact`]: crate::oracle::fact::Fact

use super::index::Found;
use crate::model::ids::{
    BrokerId, ConsumerId, Generation, GroupId, Id, LeaderEpoch, MemberId, PartitionId, ProducerEpoch, ProducerId,
    RecordId, TxnId,
};
use crate::oracle::fact::{Entity, LeaveReason, PositionSource, SendError, Trigger};
use crate::oracle::trace::{entity, leave, source, trigger, Recorded, Step};

/// A trace value as the id it is.
#[inline]
fn id<I: Id>(v: u64) -> I {
    debug_assert!(v <= u64::from(u32::MAX), "an id beyond u32: {v}");
    I::from_index(v as usize)
}

/// A trace value as the flag it is (1 or 0).
#[inline]
fn flag(v: u64) -> bool {
    debug_assert!(v <= 1, "a flag that is neither 0 nor 1: {v}");
    v == 1
}

/// Declares the view structs and, for each, how it decodes from the four
/// values (the inverse of `Fact::encode`'s layout).
macro_rules! views {
    ($($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty = |$v:ident| $decode:expr),* $(,)? })*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            #[inline]
            fn decode(v: [u64; 4]) -> $name {
                $name { $($field: { let $v = v; $decode },)* }
            }
        }
    )*};
}

views! {
    /// The application called send().
    Send {
        record: RecordId = |v| id(v[0]),
        producer: ProducerId = |v| id(v[1]),
        partition: PartitionId = |v| id(v[2]),
        /// `NULL_KEY` for a null key.
        key: u32 = |v| v[3] as u32,
    }
    Append {
        record: RecordId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        offset: u64 = |v| v[2],
        broker: BrokerId = |v| id(v[3]),
    }
    Ack {
        record: RecordId = |v| id(v[0]),
        producer: ProducerId = |v| id(v[1]),
    }
    Fail {
        record: RecordId = |v| id(v[0]),
        producer: ProducerId = |v| id(v[1]),
        error: SendError = |v| send_error(v[2]),
    }
    /// A failed attempt; the record goes again (attempt `attempt + 1`).
    Retry {
        record: RecordId = |v| id(v[0]),
        producer: ProducerId = |v| id(v[1]),
        error: SendError = |v| send_error(v[2]),
        attempt: u32 = |v| v[3] as u32,
    }
    /// send() failed with `error`; the application sent the record again.
    Resend {
        record: RecordId = |v| id(v[0]),
        producer: ProducerId = |v| id(v[1]),
        error: SendError = |v| send_error(v[2]),
    }
    /// A transactional consumer aborted `txn` and polls on without a seek.
    NoRewind {
        consumer: ConsumerId = |v| id(v[0]),
        txn: TxnId = |v| id(v[1]),
    }
    /// `broker`'s replica copied the leader's log up to `log_end`.
    Replicate {
        broker: BrokerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        log_end: u64 = |v| v[2],
    }
    Truncate {
        broker: BrokerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        offset: u64 = |v| v[2],
    }
    /// `leader` None: the partition went offline.
    Elect {
        partition: PartitionId = |v| id(v[0]),
        leader: Option<BrokerId> = |v| (v[1] != u64::MAX).then(|| id(v[1])),
        epoch: LeaderEpoch = |v| id(v[2]),
        unclean: bool = |v| flag(v[3]),
    }
    /// `isr_brokers`: a bit per broker.
    Isr {
        partition: PartitionId = |v| id(v[0]),
        isr_brokers: u64 = |v| v[1],
        high_watermark: u64 = |v| v[2],
    }
    HighWatermark {
        partition: PartitionId = |v| id(v[0]),
        high_watermark: u64 = |v| v[1],
    }
    /// Offsets `from..to` of `partition`.
    Fetch {
        consumer: ConsumerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        from: u64 = |v| v[2],
        to: u64 = |v| v[3],
    }
    /// `effect`: the sink took it.
    Process {
        record: RecordId = |v| id(v[0]),
        consumer: ConsumerId = |v| id(v[1]),
        offset: u64 = |v| v[2],
        effect: bool = |v| flag(v[3]),
    }
    /// What a processing and an effect at a transaction's commit both say:
    /// which consumer's sink the record reached (or went into a transaction of).
    Processed {
        record: RecordId = |v| id(v[0]),
        consumer: ConsumerId = |v| id(v[1]),
    }
    /// A transactional sink's staged result took effect at its commit.
    Effect {
        record: RecordId = |v| id(v[0]),
        consumer: ConsumerId = |v| id(v[1]),
        txn: TxnId = |v| id(v[2]),
    }
    Late {
        record: RecordId = |v| id(v[0]),
        group: GroupId = |v| id(v[1]),
        watermark_us: u64 = |v| v[2],
        dropped: bool = |v| flag(v[3]),
    }
    Commit {
        consumer: ConsumerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        offset: u64 = |v| v[2],
        generation: Generation = |v| id(v[3]),
    }
    CommitFailed {
        consumer: ConsumerId = |v| id(v[0]),
        generation: Generation = |v| id(v[1]),
        in_transaction: bool = |v| flag(v[2]),
    }
    RebalanceStart {
        group: GroupId = |v| id(v[0]),
        generation: Generation = |v| id(v[1]),
        reason: Trigger = |v| trigger_of(v[2]),
        consumer: ConsumerId = |v| id(v[3]),
    }
    /// A completed rebalance; the trace keeps only how many members it has.
    Rebalance {
        group: GroupId = |v| id(v[0]),
        generation: Generation = |v| id(v[1]),
        members: u64 = |v| v[2],
    }
    /// An `assign` or a `revoke` step: a member takes or gives up a partition.
    Assignment {
        consumer: ConsumerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        generation: Generation = |v| id(v[2]),
    }
    Position {
        consumer: ConsumerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
        offset: u64 = |v| v[2],
        source: PositionSource = |v| source_of(v[3]),
    }
    NoOffset {
        consumer: ConsumerId = |v| id(v[0]),
        partition: PartitionId = |v| id(v[1]),
    }
    Leave {
        group: GroupId = |v| id(v[0]),
        member: MemberId = |v| id(v[1]),
        consumer: ConsumerId = |v| id(v[2]),
        reason: LeaveReason = |v| leave_of(v[3]),
    }
    PollTimeout {
        consumer: ConsumerId = |v| id(v[0]),
        member: MemberId = |v| id(v[1]),
    }
    Marker {
        partition: PartitionId = |v| id(v[0]),
        offset: u64 = |v| v[1],
        commit: bool = |v| flag(v[2]),
        txn: TxnId = |v| id(v[3]),
    }
    Fenced {
        txn: TxnId = |v| id(v[0]),
        epoch: ProducerEpoch = |v| id(v[1]),
        by_timeout: bool = |v| flag(v[2]),
    }
    InitTxn {
        txn: TxnId = |v| id(v[0]),
        epoch: ProducerEpoch = |v| id(v[1]),
    }
    TxnEnd {
        txn: TxnId = |v| id(v[0]),
        commit: bool = |v| flag(v[1]),
        partitions: u64 = |v| v[2],
    }
    /// A crash, restart, start or stop of `entity`.
    Life {
        entity: Entity = |v| entity_of(v[0], v[1]),
    }
    Pause {
        entity: Entity = |v| entity_of(v[0], v[1]),
        us: u64 = |v| v[2],
    }
    /// `entities`: the cut, as the trace writes it.
    NetworkPartition {
        entities: u64 = |v| v[0],
        us: u64 = |v| v[1],
    }
}

fn send_error(code: u64) -> SendError {
    let error = SendError::from_code(code);
    debug_assert!(error.is_some(), "no SendError has code {code}");
    error.unwrap_or(SendError::Disconnected)
}

fn trigger_of(code: u64) -> Trigger {
    match code {
        trigger::JOIN => Trigger::Join,
        trigger::REJOIN => Trigger::Rejoin,
        trigger::LEAVE => Trigger::Leave,
        _ => {
            debug_assert_eq!(code, trigger::EXPIRED, "a rebalance trigger code");
            Trigger::Expired
        }
    }
}

fn source_of(code: u64) -> PositionSource {
    match code {
        source::COMMITTED => PositionSource::Committed,
        source::RESET => PositionSource::Reset,
        source::DIVERGED => PositionSource::Diverged,
        _ => {
            debug_assert_eq!(code, source::OUT_OF_RANGE, "a position source code");
            PositionSource::OutOfRange
        }
    }
}

fn leave_of(code: u64) -> LeaveReason {
    match code {
        leave::LEAVE_GROUP => LeaveReason::LeaveGroup,
        leave::SESSION_TIMEOUT => LeaveReason::SessionTimeout,
        _ => {
            debug_assert_eq!(code, leave::MISSED_REBALANCE, "a leave reason code");
            LeaveReason::MissedRebalance
        }
    }
}

fn entity_of(kind: u64, i: u64) -> Entity {
    match kind {
        entity::BROKER => Entity::Broker(id(i)),
        entity::PRODUCER => Entity::Producer(id(i)),
        _ => {
            debug_assert_eq!(kind, entity::CONSUMER, "an entity kind code");
            Entity::Consumer(id(i))
        }
    }
}

/// Any step, as the view of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Send(Send),
    Append(Append),
    Ack(Ack),
    Fail(Fail),
    Retry(Retry),
    Resend(Resend),
    NoRewind(NoRewind),
    Replicate(Replicate),
    Truncate(Truncate),
    Elect(Elect),
    Isr(Isr),
    HighWatermark(HighWatermark),
    Fetch(Fetch),
    Process(Process),
    Effect(Effect),
    Late(Late),
    Commit(Commit),
    CommitFailed(CommitFailed),
    RebalanceStart(RebalanceStart),
    Rebalance(Rebalance),
    Assign(Assignment),
    Revoke(Assignment),
    Position(Position),
    NoOffset(NoOffset),
    Leave(Leave),
    PollTimeout(PollTimeout),
    Marker(Marker),
    Fenced(Fenced),
    InitTxn(InitTxn),
    TxnEnd(TxnEnd),
    Crash(Entity),
    Restart(Entity),
    Start(Entity),
    Stop(Entity),
    Pause(Pause),
    NetworkPartition(NetworkPartition),
}

impl View {
    /// Step `s` read back by the names of its fields.
    pub fn of(s: &Recorded) -> View {
        let v = s.v;
        match s.kind {
            Step::Send => View::Send(Send::decode(v)),
            Step::Append => View::Append(Append::decode(v)),
            Step::Ack => View::Ack(Ack::decode(v)),
            Step::Fail => View::Fail(Fail::decode(v)),
            Step::Retry => View::Retry(Retry::decode(v)),
            Step::Resend => View::Resend(Resend::decode(v)),
            Step::NoRewind => View::NoRewind(NoRewind::decode(v)),
            Step::Replicate => View::Replicate(Replicate::decode(v)),
            Step::Truncate => View::Truncate(Truncate::decode(v)),
            Step::Elect => View::Elect(Elect::decode(v)),
            Step::Isr => View::Isr(Isr::decode(v)),
            Step::HighWatermark => View::HighWatermark(HighWatermark::decode(v)),
            Step::Fetch => View::Fetch(Fetch::decode(v)),
            Step::Process => View::Process(Process::decode(v)),
            Step::Effect => View::Effect(Effect::decode(v)),
            Step::Late => View::Late(Late::decode(v)),
            Step::Commit => View::Commit(Commit::decode(v)),
            Step::CommitFailed => View::CommitFailed(CommitFailed::decode(v)),
            Step::RebalanceStart => View::RebalanceStart(RebalanceStart::decode(v)),
            Step::Rebalance => View::Rebalance(Rebalance::decode(v)),
            Step::Assign => View::Assign(Assignment::decode(v)),
            Step::Revoke => View::Revoke(Assignment::decode(v)),
            Step::Position => View::Position(Position::decode(v)),
            Step::NoOffset => View::NoOffset(NoOffset::decode(v)),
            Step::Leave => View::Leave(Leave::decode(v)),
            Step::PollTimeout => View::PollTimeout(PollTimeout::decode(v)),
            Step::Marker => View::Marker(Marker::decode(v)),
            Step::Fenced => View::Fenced(Fenced::decode(v)),
            Step::InitTxn => View::InitTxn(InitTxn::decode(v)),
            Step::TxnEnd => View::TxnEnd(TxnEnd::decode(v)),
            Step::Crash => View::Crash(Life::decode(v).entity),
            Step::Restart => View::Restart(Life::decode(v).entity),
            Step::Start => View::Start(Life::decode(v).entity),
            Step::Stop => View::Stop(Life::decode(v).entity),
            Step::Pause => View::Pause(Pause::decode(v)),
            Step::Partition => View::NetworkPartition(NetworkPartition::decode(v)),
            // The trace keeps for explain only the kinds up to `no_offset` (`Step::explained`).
            k @ (Step::Sequenced
            | Step::Throttled
            | Step::QuotaThrottle
            | Step::SendBlocked
            | Step::SendUnblocked
            | Step::StoppedTheWorld
            | Step::Lag
            | Step::ProducerEnd
            | Step::GroupEnd
            | Step::PartitionEnd
            | Step::ReplicaEnd
            | Step::AggregateEnd
            | Step::Window
            | Step::End) => unreachable!("{k:?} steps are not kept for explain"),
        }
    }
}

/// `Found::$name()`: the step as a `$view`, for a step of one of `$kinds`.
macro_rules! accessors {
    ($($name:ident -> $view:ident: $($kind:ident)|+;)*) => {
        impl Found<'_> {
            $(
                #[inline]
                pub fn $name(&self) -> $view {
                    debug_assert!(
                        matches!(self.s.kind, $(Step::$kind)|+),
                        concat!("step {} is {:?}, not ", stringify!($($kind)|+)),
                        self.id,
                        self.s.kind
                    );
                    $view::decode(self.s.v)
                }
            )*
        }
    };
}

accessors! {
    send -> Send: Send;
    append -> Append: Append;
    retry -> Retry: Retry;
    fail -> Fail: Fail;
    resend -> Resend: Resend;
    no_rewind -> NoRewind: NoRewind;
    replicate -> Replicate: Replicate;
    truncate -> Truncate: Truncate;
    elect -> Elect: Elect;
    isr -> Isr: Isr;
    fetch -> Fetch: Fetch;
    process -> Process: Process;
    processed -> Processed: Process | Effect;
    effect -> Effect: Effect;
    late -> Late: Late;
    commit -> Commit: Commit;
    commit_failed -> CommitFailed: CommitFailed;
    rebalance_start -> RebalanceStart: RebalanceStart;
    rebalance -> Rebalance: Rebalance;
    assignment -> Assignment: Assign | Revoke;
    position -> Position: Position;
    leave -> Leave: Leave;
    marker -> Marker: Marker;
    fenced -> Fenced: Fenced;
    txn_end -> TxnEnd: TxnEnd;
    pause -> Pause: Pause;
    network_partition -> NetworkPartition: Partition;
    life -> Life: Crash | Restart | Start | Stop | Pause;
}

impl Found<'_> {
    /// The step by the names of its fields, whatever its kind.
    #[inline]
    pub fn view(&self) -> View {
        View::of(&self.s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{Incarnation, LocalPartition};
    use crate::oracle::fact::Fact;
    use crate::oracle::trace::STEPS;

    /// A fact as the kept trace holds it: its kind and first four values.
    fn kept(f: &Fact) -> (Step, [u64; 4]) {
        let (kind, values) = f.encode();
        assert!(kind.explained(), "{kind:?} is not kept for explain");
        (kind, [values[0], values[1], values[2], values[3]])
    }

    /// One fact of every kind the trace carries, every field set apart from
    /// the others (and from 0) so a swapped position shows.
    fn one_of_each() -> Vec<Fact> {
        let (r, p, g, b) = (RecordId::new(11), ProducerId::new(2), PartitionId::new(7), BrokerId::new(3));
        let (c, grp, txn, gen) = (ConsumerId::new(5), GroupId::new(1), TxnId::new(4), Generation::new(9));
        let send = Fact::Send {
            record: r,
            producer: p,
            partition: g,
            key: 17,
            send_seq: 40,
            event_us: 50,
            producer_inc: Incarnation::new(2),
        };
        vec![
            send,
            Fact::Append { record: r, partition: g, offset: 812, broker: b },
            Fact::Ack { record: r, producer: p },
            Fact::Fail { record: r, producer: p, error: SendError::DeliveryTimeout },
            Fact::Retry { record: r, producer: p, error: SendError::NotLeader, attempt: 6 },
            Fact::Replicate { broker: b, partition: g, log_end: 900, source: BrokerId::new(0) },
            Fact::Truncate { broker: b, partition: g, offset: 800 },
            Fact::Elect { partition: g, leader: Some(b), epoch: LeaderEpoch::new(8), unclean: true },
            Fact::Elect { partition: g, leader: None, epoch: LeaderEpoch::new(9), unclean: false },
            Fact::Isr { partition: g, isr_brokers: 0b1010, high_watermark: 777 },
            Fact::HighWatermark { partition: g, high_watermark: 778 },
            Fact::Fetch { consumer: c, partition: g, from: 100, to: 150 },
            Fact::Process { record: r, consumer: c, group: grp, offset: 812, effect: true },
            Fact::Effect { record: r, consumer: c, group: grp, txn },
            Fact::Late { record: r, group: grp, watermark_us: 123_456, dropped: true },
            Fact::Commit { consumer: c, partition: g, offset: 813, generation: gen },
            Fact::CommitFailed { consumer: c, group: grp, generation: gen, in_transaction: true },
            Fact::RebalanceStart { group: grp, generation: gen, reason: Trigger::Leave, consumer: c },
            Fact::Rebalance {
                group: grp,
                generation: gen,
                members: vec![(c, vec![LocalPartition::new(0)]), (ConsumerId::new(6), vec![])],
            },
            Fact::Assign { consumer: c, partition: g, generation: gen },
            Fact::Revoke { consumer: c, partition: g, generation: gen },
            Fact::Position { consumer: c, partition: g, offset: 640, source: PositionSource::OutOfRange },
            Fact::NoOffset { consumer: c, partition: g },
            Fact::Leave { group: grp, member: MemberId::new(3), consumer: c, reason: LeaveReason::MissedRebalance },
            Fact::PollTimeout { consumer: c, member: MemberId::new(3) },
            Fact::Marker { partition: g, offset: 814, commit: false, txn },
            Fact::Fenced { txn, epoch: ProducerEpoch::new(2), by_timeout: true },
            Fact::InitTxn { txn, epoch: ProducerEpoch::new(3) },
            Fact::TxnEnd { txn, commit: true, partitions: 2 },
            Fact::Resend { record: r, producer: p, error: SendError::NotLeader },
            Fact::NoRewind { consumer: c, txn },
            Fact::Crash(Entity::Broker(b)),
            Fact::Restart(Entity::Producer(p)),
            Fact::Start(Entity::Consumer(c)),
            Fact::Stop(Entity::Consumer(c)),
            Fact::Pause { entity: Entity::Producer(p), us: 2_000_000 },
            Fact::NetworkPartition { entities: 0b110, us: 3_000_000 },
        ]
    }

    /// The view a fact should read back as, written by field name (what the
    /// trace does not carry left out).
    fn expected(f: &Fact) -> View {
        match *f {
            Fact::Send { record, producer, partition, key, .. } => {
                View::Send(Send { record, producer, partition, key })
            }
            Fact::Append { record, partition, offset, broker } => {
                View::Append(Append { record, partition, offset, broker })
            }
            Fact::Ack { record, producer } => View::Ack(Ack { record, producer }),
            Fact::Fail { record, producer, error } => View::Fail(Fail { record, producer, error }),
            Fact::Retry { record, producer, error, attempt } => View::Retry(Retry { record, producer, error, attempt }),
            Fact::Resend { record, producer, error } => View::Resend(Resend { record, producer, error }),
            Fact::NoRewind { consumer, txn } => View::NoRewind(NoRewind { consumer, txn }),
            Fact::Replicate { broker, partition, log_end, .. } => {
                View::Replicate(Replicate { broker, partition, log_end })
            }
            Fact::Truncate { broker, partition, offset } => View::Truncate(Truncate { broker, partition, offset }),
            Fact::Elect { partition, leader, epoch, unclean } => {
                View::Elect(Elect { partition, leader, epoch, unclean })
            }
            Fact::Isr { partition, isr_brokers, high_watermark } => {
                View::Isr(Isr { partition, isr_brokers, high_watermark })
            }
            Fact::HighWatermark { partition, high_watermark } => {
                View::HighWatermark(HighWatermark { partition, high_watermark })
            }
            Fact::Fetch { consumer, partition, from, to } => View::Fetch(Fetch { consumer, partition, from, to }),
            Fact::Process { record, consumer, offset, effect, .. } => {
                View::Process(Process { record, consumer, offset, effect })
            }
            Fact::Effect { record, consumer, txn, .. } => View::Effect(Effect { record, consumer, txn }),
            Fact::Late { record, group, watermark_us, dropped } => {
                View::Late(Late { record, group, watermark_us, dropped })
            }
            Fact::Commit { consumer, partition, offset, generation } => {
                View::Commit(Commit { consumer, partition, offset, generation })
            }
            Fact::CommitFailed { consumer, generation, in_transaction, .. } => {
                View::CommitFailed(CommitFailed { consumer, generation, in_transaction })
            }
            _ => expected_group_and_lifecycle(f),
        }
    }

    /// `expected` for groups, transactions and the processes' lives.
    fn expected_group_and_lifecycle(f: &Fact) -> View {
        match *f {
            Fact::RebalanceStart { group, generation, reason, consumer } => {
                View::RebalanceStart(RebalanceStart { group, generation, reason, consumer })
            }
            Fact::Rebalance { group, generation, ref members } => {
                View::Rebalance(Rebalance { group, generation, members: members.len() as u64 })
            }
            Fact::Assign { consumer, partition, generation } => {
                View::Assign(Assignment { consumer, partition, generation })
            }
            Fact::Revoke { consumer, partition, generation } => {
                View::Revoke(Assignment { consumer, partition, generation })
            }
            Fact::Position { consumer, partition, offset, source } => {
                View::Position(Position { consumer, partition, offset, source })
            }
            Fact::NoOffset { consumer, partition } => View::NoOffset(NoOffset { consumer, partition }),
            Fact::Leave { group, member, consumer, reason } => View::Leave(Leave { group, member, consumer, reason }),
            Fact::PollTimeout { consumer, member } => View::PollTimeout(PollTimeout { consumer, member }),
            Fact::Marker { partition, offset, commit, txn } => View::Marker(Marker { partition, offset, commit, txn }),
            Fact::Fenced { txn, epoch, by_timeout } => View::Fenced(Fenced { txn, epoch, by_timeout }),
            Fact::InitTxn { txn, epoch } => View::InitTxn(InitTxn { txn, epoch }),
            Fact::TxnEnd { txn, commit, partitions } => View::TxnEnd(TxnEnd { txn, commit, partitions }),
            Fact::Crash(e) => View::Crash(e),
            Fact::Restart(e) => View::Restart(e),
            Fact::Start(e) => View::Start(e),
            Fact::Stop(e) => View::Stop(e),
            Fact::Pause { entity, us } => View::Pause(Pause { entity, us }),
            Fact::NetworkPartition { entities, us } => View::NetworkPartition(NetworkPartition { entities, us }),
            _ => unreachable!("not a trace step, or one `expected` handles: {f:?}"),
        }
    }

    #[test]
    fn every_step_kind_reads_back_as_the_fact_that_wrote_it() {
        let mut kinds = Vec::new();
        for f in one_of_each() {
            let (kind, v) = kept(&f);
            let s = Recorded { t: 42, kind, v, line: 0 };
            assert_eq!(View::of(&s), expected(&f), "{kind:?} {v:?} decodes to {f:?}'s fields");
            kinds.push(kind);
        }
        kinds.sort();
        kinds.dedup();
        let mut all: Vec<Step> = STEPS.iter().copied().filter(|s| s.explained()).collect();
        all.sort();
        assert_eq!(kinds, all, "the sample covers every step kind");
    }

    #[test]
    fn an_accessor_reads_the_step_it_is_asked_about() {
        let f = Fact::Commit {
            consumer: ConsumerId::new(5),
            partition: PartitionId::new(7),
            offset: 813,
            generation: Generation::new(9),
        };
        let (kind, v) = kept(&f);
        let s = Recorded { t: 42, kind, v, line: 0 };
        let c = Found::new(0, s).commit();
        assert_eq!(
            (c.consumer, c.partition, c.offset, c.generation.raw()),
            (ConsumerId::new(5), PartitionId::new(7), 813, 9)
        );
    }

    #[test]
    fn a_processing_and_an_effect_name_their_record_and_consumer_alike() {
        let (record, consumer, group) = (RecordId::new(11), ConsumerId::new(5), GroupId::new(1));
        let facts = [
            Fact::Process { record, consumer, group, offset: 812, effect: false },
            Fact::Effect { record, consumer, group, txn: TxnId::new(4) },
        ];
        for f in facts {
            let (kind, v) = kept(&f);
            let s = Recorded { t: 42, kind, v, line: 0 };
            assert_eq!(Found::new(0, s).processed(), Processed { record, consumer }, "{kind:?}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not Append")]
    fn asking_a_step_for_another_kind_is_caught() {
        let s = Recorded { t: 1, kind: Step::Ack, v: [1, 2, 0, 0], line: 0 };
        let _ = Found::new(0, s).append();
    }
}
