//! [`Fact::decode`]: the exact inverse of [`Fact::encode`], from a step's
//! kind, its values (in the order `Step::fields` names them) and, for a
//! rebalance, its assignment. Every number is checked to fit its type; what
//! the numbers must mean together is `check`'s job.

use crate::oracle::fact::{
    BrokerId, ConsumerId, Entity, Fact, Generation, GroupId, Incarnation, LeaderEpoch, LeaveReason, LocalPartition,
    MemberId, PartitionId, PositionSource, ProducerEpoch, ProducerId, RecordId, SendError, Trigger, TxnId, NO_LEADER,
};
use crate::oracle::trace::Step;

/// The values of one step, read by position with their names for errors.
struct Values<'a> {
    step: Step,
    v: &'a [u64],
}

impl Values<'_> {
    fn u64(&self, i: usize) -> u64 {
        self.v[i]
    }

    fn u32(&self, i: usize) -> Result<u32, String> {
        u32::try_from(self.v[i]).map_err(|_| format!("`{}` = {} is past 4294967295", self.name(i), self.v[i]))
    }

    fn bool(&self, i: usize) -> Result<bool, String> {
        match self.v[i] {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(format!("`{}` = {n}: expected 0 or 1", self.name(i))),
        }
    }

    fn name(&self, i: usize) -> &'static str {
        self.step.fields()[i]
    }

    fn coded<T>(&self, i: usize, f: impl Fn(u64) -> Option<T>) -> Result<T, String> {
        f(self.v[i]).ok_or_else(|| format!("`{}` = {}: not a known code", self.name(i), self.v[i]))
    }

    fn entity(&self) -> Result<Entity, String> {
        Entity::from_code(self.v[0], self.v[1])
            .ok_or_else(|| format!("`entity_kind` = {}, `entity` = {}: not a process", self.v[0], self.v[1]))
    }

    fn leader(&self, i: usize) -> Result<Option<BrokerId>, String> {
        if self.v[i] == NO_LEADER {
            return Ok(None);
        }
        self.u32(i).map(|b| Some(BrokerId::new(b)))
    }
}

macro_rules! ids {
    ($v:ident, $($name:ident: $t:ident = $i:expr),*) => {
        $(let $name = $t::new($v.u32($i)?);)*
    };
}

impl Fact {
    /// The fact a line of kind `step` with these values (and, for a
    /// rebalance, this assignment) encodes. `values` has `step.fields().len()` entries.
    pub fn decode(step: Step, values: &[u64], members: Vec<(ConsumerId, Vec<LocalPartition>)>) -> Result<Fact, String> {
        assert_eq!(values.len(), step.fields().len(), "the reader hands every field");
        let v = Values { step, v: values };
        Ok(match step {
            Step::Send => {
                ids!(v, record: RecordId = 0, producer: ProducerId = 1, partition: PartitionId = 2);
                let (key, send_seq, event_us) = (v.u32(3)?, v.u64(4), v.u64(5));
                let producer_inc = Incarnation::new(v.u32(6)?);
                Fact::Send { record, producer, partition, key, send_seq, event_us, producer_inc }
            }
            Step::Sequenced => {
                ids!(v, record: RecordId = 0);
                Fact::Sequenced { record, seq: v.u32(1)?, producer_gen: v.u32(2)? }
            }
            Step::Append => {
                ids!(v, record: RecordId = 0, partition: PartitionId = 1, broker: BrokerId = 3);
                Fact::Append { record, partition, offset: v.u64(2), broker }
            }
            Step::Ack => {
                ids!(v, record: RecordId = 0, producer: ProducerId = 1);
                Fact::Ack { record, producer }
            }
            Step::Fail => {
                ids!(v, record: RecordId = 0, producer: ProducerId = 1);
                Fact::Fail { record, producer, error: v.coded(2, SendError::from_code)? }
            }
            Step::Retry => {
                ids!(v, record: RecordId = 0, producer: ProducerId = 1);
                Fact::Retry { record, producer, error: v.coded(2, SendError::from_code)?, attempt: v.u32(3)? }
            }
            Step::Resend => {
                ids!(v, record: RecordId = 0, producer: ProducerId = 1);
                Fact::Resend { record, producer, error: v.coded(2, SendError::from_code)? }
            }
            Step::Replicate => {
                ids!(v, broker: BrokerId = 0, partition: PartitionId = 1, source: BrokerId = 3);
                Fact::Replicate { broker, partition, log_end: v.u64(2), source }
            }
            Step::Truncate => {
                ids!(v, broker: BrokerId = 0, partition: PartitionId = 1);
                Fact::Truncate { broker, partition, offset: v.u64(2) }
            }
            Step::Elect => {
                ids!(v, partition: PartitionId = 0, epoch: LeaderEpoch = 2);
                Fact::Elect { partition, leader: v.leader(1)?, epoch, unclean: v.bool(3)? }
            }
            Step::Isr => {
                ids!(v, partition: PartitionId = 0);
                Fact::Isr { partition, isr_brokers: v.u64(1), high_watermark: v.u64(2) }
            }
            Step::HighWatermark => {
                ids!(v, partition: PartitionId = 0);
                Fact::HighWatermark { partition, high_watermark: v.u64(1) }
            }
            Step::Throttled => Fact::Throttled,
            Step::SendBlocked => {
                ids!(v, producer: ProducerId = 0);
                Fact::SendBlocked { producer }
            }
            Step::SendUnblocked => {
                ids!(v, producer: ProducerId = 0);
                Fact::SendUnblocked { producer }
            }
            Step::QuotaThrottle => {
                ids!(v, broker: BrokerId = 2);
                Fact::QuotaThrottle { client: v.entity()?, broker, throttle_us: v.u64(3) }
            }
            _ => return Fact::decode_consumer(v, members),
        })
    }

    /// `decode` for the consumers' and groups' steps.
    fn decode_consumer(v: Values, members: Vec<(ConsumerId, Vec<LocalPartition>)>) -> Result<Fact, String> {
        Ok(match v.step {
            Step::Fetch => {
                ids!(v, consumer: ConsumerId = 0, partition: PartitionId = 1);
                Fact::Fetch { consumer, partition, from: v.u64(2), to: v.u64(3) }
            }
            Step::Process => {
                ids!(v, record: RecordId = 0, consumer: ConsumerId = 1, group: GroupId = 4);
                Fact::Process { record, consumer, group, offset: v.u64(2), effect: v.bool(3)? }
            }
            Step::Effect => {
                ids!(v, record: RecordId = 0, consumer: ConsumerId = 1, txn: TxnId = 2, group: GroupId = 3);
                Fact::Effect { record, consumer, group, txn }
            }
            Step::Late => {
                ids!(v, record: RecordId = 0, group: GroupId = 1);
                Fact::Late { record, group, watermark_us: v.u64(2), dropped: v.bool(3)? }
            }
            Step::Commit => {
                ids!(v, consumer: ConsumerId = 0, partition: PartitionId = 1, generation: Generation = 3);
                Fact::Commit { consumer, partition, offset: v.u64(2), generation }
            }
            Step::CommitFailed => {
                ids!(v, consumer: ConsumerId = 0, generation: Generation = 1, group: GroupId = 3);
                Fact::CommitFailed { consumer, group, generation, in_transaction: v.bool(2)? }
            }
            Step::RebalanceStart => {
                ids!(v, group: GroupId = 0, generation: Generation = 1, consumer: ConsumerId = 3);
                Fact::RebalanceStart { group, generation, reason: v.coded(2, Trigger::from_code)?, consumer }
            }
            Step::Rebalance => {
                ids!(v, group: GroupId = 0, generation: Generation = 1);
                if v.u64(2) != members.len() as u64 {
                    return Err(format!("`members` = {} but the assignment lists {}", v.u64(2), members.len()));
                }
                Fact::Rebalance { group, generation, members }
            }
            Step::Assign | Step::Revoke => {
                ids!(v, consumer: ConsumerId = 0, partition: PartitionId = 1, generation: Generation = 2);
                match v.step {
                    Step::Assign => Fact::Assign { consumer, partition, generation },
                    _ => Fact::Revoke { consumer, partition, generation },
                }
            }
            Step::Position => {
                ids!(v, consumer: ConsumerId = 0, partition: PartitionId = 1);
                Fact::Position { consumer, partition, offset: v.u64(2), source: v.coded(3, PositionSource::from_code)? }
            }
            Step::NoOffset => {
                ids!(v, consumer: ConsumerId = 0, partition: PartitionId = 1);
                Fact::NoOffset { consumer, partition }
            }
            Step::Leave => {
                ids!(v, group: GroupId = 0, member: MemberId = 1, consumer: ConsumerId = 2);
                Fact::Leave { group, member, consumer, reason: v.coded(3, LeaveReason::from_code)? }
            }
            Step::PollTimeout => {
                ids!(v, consumer: ConsumerId = 0, member: MemberId = 1);
                Fact::PollTimeout { consumer, member }
            }
            Step::StoppedTheWorld => {
                ids!(v, group: GroupId = 0);
                Fact::StoppedTheWorld { group, us: v.u64(1) }
            }
            _ => return Fact::decode_txn_and_lifecycle(v),
        })
    }

    /// `decode` for transactions, the processes' lives and the end of the run.
    fn decode_txn_and_lifecycle(v: Values) -> Result<Fact, String> {
        Ok(match v.step {
            Step::Marker => {
                ids!(v, partition: PartitionId = 0, txn: TxnId = 3);
                Fact::Marker { partition, offset: v.u64(1), commit: v.bool(2)?, txn }
            }
            Step::Fenced => {
                ids!(v, txn: TxnId = 0, epoch: ProducerEpoch = 1);
                Fact::Fenced { txn, epoch, by_timeout: v.bool(2)? }
            }
            Step::InitTxn => {
                ids!(v, txn: TxnId = 0, epoch: ProducerEpoch = 1);
                Fact::InitTxn { txn, epoch }
            }
            Step::NoRewind => {
                ids!(v, consumer: ConsumerId = 0, txn: TxnId = 1);
                Fact::NoRewind { consumer, txn }
            }
            Step::TxnEnd => {
                ids!(v, txn: TxnId = 0);
                Fact::TxnEnd { txn, commit: v.bool(1)?, partitions: v.u64(2) }
            }
            Step::Crash => Fact::Crash(v.entity()?),
            Step::Restart => Fact::Restart(v.entity()?),
            Step::Start => Fact::Start(v.entity()?),
            Step::Stop => Fact::Stop(v.entity()?),
            Step::Pause => Fact::Pause { entity: v.entity()?, us: v.u64(2) },
            Step::Partition => Fact::NetworkPartition { entities: v.u64(0), us: v.u64(1) },
            _ => return Fact::decode_end(v),
        })
    }

    /// `decode` for the lag samples and the end-of-run facts.
    fn decode_end(v: Values) -> Result<Fact, String> {
        Ok(match v.step {
            Step::Lag => Fact::Lag { lag: v.u64(0) },
            Step::ProducerEnd => {
                ids!(v, producer: ProducerId = 0);
                Fact::ProducerEnd { producer, blocked_us: v.u64(1), max_backlog: v.u64(2) }
            }
            Step::GroupEnd => {
                ids!(v, group: GroupId = 0);
                Fact::GroupEnd { group, members: v.u64(1), assigned_partitions: v.u64(2) }
            }
            Step::PartitionEnd => {
                ids!(v, partition: PartitionId = 0);
                let leader = v.leader(1)?;
                Fact::PartitionEnd { partition, leader, log_end: v.u64(2), high_watermark: v.u64(3) }
            }
            Step::ReplicaEnd => {
                ids!(v, partition: PartitionId = 0, broker: BrokerId = 1);
                Fact::ReplicaEnd { partition, broker, in_isr: v.bool(2)? }
            }
            Step::AggregateEnd => {
                ids!(v, group: GroupId = 0);
                Fact::AggregateEnd { group, fired: v.u64(1), corrected: v.u64(2), dropped_events: v.u64(3) }
            }
            Step::Window => {
                ids!(v, group: GroupId = 0);
                let key = v.u32(1)?;
                Fact::Window { group, key, start_us: v.u64(2), end_us: v.u64(3), count: v.u64(4), fired_us: v.u64(5) }
            }
            Step::End => Fact::End { events: v.u64(0) },
            _ => unreachable!("decode handles every step"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::trace::STEPS;

    /// One fact of every kind, with values that differ field to field (so
    /// a swapped pair of fields would not round-trip).
    fn one_of_each() -> Vec<Fact> {
        let (r, p, g, c) = (RecordId::new(7), ProducerId::new(1), GroupId::new(2), ConsumerId::new(3));
        let (part, b, txn, gen) = (PartitionId::new(4), BrokerId::new(5), TxnId::new(6), Generation::new(8));
        let members = vec![(c, vec![LocalPartition::new(0), LocalPartition::new(2)]), (ConsumerId::new(9), vec![])];
        vec![
            Fact::Send {
                record: r,
                producer: p,
                partition: part,
                key: 11,
                send_seq: 12,
                event_us: 13,
                producer_inc: Incarnation::new(14),
            },
            Fact::Send {
                record: r,
                producer: p,
                partition: part,
                key: crate::oracle::ledger::NULL_KEY,
                send_seq: 0,
                event_us: 1,
                producer_inc: Incarnation::new(0),
            },
            Fact::Sequenced { record: r, seq: 15, producer_gen: 16 },
            Fact::Append { record: r, partition: part, offset: 17, broker: b },
            Fact::Ack { record: r, producer: p },
            Fact::Fail { record: r, producer: p, error: SendError::DeliveryTimeout },
            Fact::Retry { record: r, producer: p, error: SendError::NotLeader, attempt: 18 },
            Fact::Resend { record: r, producer: p, error: SendError::InvalidTxnState },
            Fact::NoRewind { consumer: c, txn },
            Fact::Replicate { broker: b, partition: part, log_end: 19, source: BrokerId::new(20) },
            Fact::Truncate { broker: b, partition: part, offset: 21 },
            Fact::Elect { partition: part, leader: Some(b), epoch: LeaderEpoch::new(22), unclean: true },
            Fact::Elect { partition: part, leader: None, epoch: LeaderEpoch::new(23), unclean: false },
            Fact::Isr { partition: part, isr_brokers: 0b1011, high_watermark: 24 },
            Fact::HighWatermark { partition: part, high_watermark: 25 },
            Fact::Throttled,
            Fact::QuotaThrottle { client: Entity::Producer(p), broker: b, throttle_us: 2_100_000 },
            Fact::SendBlocked { producer: p },
            Fact::SendUnblocked { producer: p },
            Fact::Fetch { consumer: c, partition: part, from: 26, to: 27 },
            Fact::Process { record: r, consumer: c, group: g, offset: 28, effect: true },
            Fact::Effect { record: r, consumer: c, group: g, txn },
            Fact::Late { record: r, group: g, watermark_us: 29, dropped: true },
            Fact::Commit { consumer: c, partition: part, offset: 30, generation: gen },
            Fact::CommitFailed { consumer: c, group: g, generation: gen, in_transaction: true },
            Fact::RebalanceStart { group: g, generation: gen, reason: Trigger::Expired, consumer: c },
            Fact::Rebalance { group: g, generation: gen, members },
            Fact::Assign { consumer: c, partition: part, generation: gen },
            Fact::Revoke { consumer: c, partition: part, generation: gen },
            Fact::Position { consumer: c, partition: part, offset: 31, source: PositionSource::OutOfRange },
            Fact::NoOffset { consumer: c, partition: part },
            Fact::Leave { group: g, member: MemberId::new(32), consumer: c, reason: LeaveReason::MissedRebalance },
            Fact::PollTimeout { consumer: c, member: MemberId::new(33) },
            Fact::StoppedTheWorld { group: g, us: 34 },
            Fact::Marker { partition: part, offset: 35, commit: false, txn },
            Fact::Fenced { txn, epoch: ProducerEpoch::new(36), by_timeout: true },
            Fact::InitTxn { txn, epoch: ProducerEpoch::new(37) },
            Fact::TxnEnd { txn, commit: true, partitions: 38 },
            Fact::Crash(Entity::Broker(b)),
            Fact::Restart(Entity::Producer(p)),
            Fact::Start(Entity::Consumer(c)),
            Fact::Stop(Entity::Consumer(c)),
            Fact::Pause { entity: Entity::Broker(b), us: 39 },
            Fact::NetworkPartition { entities: 0b110, us: 40 },
            Fact::Lag { lag: 41 },
            Fact::ProducerEnd { producer: p, blocked_us: 42, max_backlog: 43 },
            Fact::GroupEnd { group: g, members: 44, assigned_partitions: 45 },
            Fact::PartitionEnd { partition: part, leader: None, log_end: 46, high_watermark: 47 },
            Fact::ReplicaEnd { partition: part, broker: b, in_isr: true },
            Fact::AggregateEnd { group: g, fired: 48, corrected: 49, dropped_events: 50 },
            Fact::Window { group: g, key: 51, start_us: 52, end_us: 53, count: 54, fired_us: 55 },
            Fact::End { events: 56 },
        ]
    }

    #[test]
    fn decode_is_the_inverse_of_encode_for_every_kind() {
        let facts = one_of_each();
        let mut kinds = std::collections::BTreeSet::new();
        for f in facts {
            let (step, values) = f.encode();
            let n = step.fields().len();
            assert!(values[n..].iter().all(|&v| v == 0), "{f:?}: nothing past the named values");
            let back = Fact::decode(step, &values[..n], f.members().to_vec()).expect("decodes");
            assert_eq!(back, f);
            kinds.insert(step);
        }
        assert_eq!(kinds.len(), STEPS.len(), "one fact of every kind");
    }

    #[test]
    fn out_of_range_numbers_are_refused_not_truncated() {
        let e = Fact::decode(Step::Ack, &[1 << 40, 0], vec![]).unwrap_err();
        assert!(e.contains("`record`") && e.contains("past 4294967295"), "{e}");
        let e = Fact::decode(Step::Fail, &[0, 0, 99], vec![]).unwrap_err();
        assert!(e.contains("`error` = 99"), "{e}");
        let e = Fact::decode(Step::Elect, &[0, 1, 0, 2], vec![]).unwrap_err();
        assert!(e.contains("`unclean` = 2"), "{e}");
        let e = Fact::decode(Step::Crash, &[7, 0], vec![]).unwrap_err();
        assert!(e.contains("not a process"), "{e}");
        let e = Fact::decode(Step::Rebalance, &[0, 1, 3], vec![]).unwrap_err();
        assert!(e.contains("the assignment lists 0"), "{e}");
    }
}
