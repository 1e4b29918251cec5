//! What a link of a story is about, as fields for tools (`explain --json`):
//! the entity whose step it is, the partition and the offset. Read from the
//! step's typed view when the link is made, named once the story is done.

use super::index::Names;
use super::view::{self, View};
use crate::model::ids::{PartitionId, RecordId};
use crate::oracle::fact::Entity;
use crate::oracle::trace::Recorded;

/// A step's entity, partition and offset by id, as its view carries them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct About {
    pub entity: Option<Entity>,
    pub partition: Option<PartitionId>,
    /// For a step about a record whose view carries no partition (an ack, a
    /// processing): the record, whose partition it is.
    pub record: Option<RecordId>,
    pub offset: Option<u64>,
}

/// A topic and a partition index within it, as the trace header names partitions (`orders/3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

/// [`About`] named: `broker-1`, `shop-0`, `billing-2` as the trace header names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub entity: Option<String>,
    pub partition: Option<TopicPartition>,
    pub offset: Option<u64>,
}

fn about(entity: Option<Entity>, partition: Option<PartitionId>, offset: Option<u64>) -> About {
    About { entity, partition, record: None, offset }
}

fn of_record(entity: Option<Entity>, record: RecordId, offset: Option<u64>) -> About {
    About { entity, partition: None, record: Some(record), offset }
}

impl About {
    /// What step `s` is about. Steps of a group or a transactional id (a
    /// rebalance, a marker, a transaction's end) have no entity of their own.
    pub fn of(s: &Recorded) -> About {
        let (b, p, c) = (Entity::Broker, Entity::Producer, Entity::Consumer);
        match View::of(s) {
            View::Send(v) => About { entity: Some(p(v.producer)), partition: Some(v.partition), ..About::default() },
            View::Ack(view::Ack { record, producer })
            | View::Fail(view::Fail { record, producer, .. })
            | View::Retry(view::Retry { record, producer, .. })
            | View::Resend(view::Resend { record, producer, .. }) => of_record(Some(p(producer)), record, None),
            View::Append(v) => about(Some(b(v.broker)), Some(v.partition), Some(v.offset)),
            View::Replicate(v) => about(Some(b(v.broker)), Some(v.partition), Some(v.log_end)),
            View::Truncate(v) => about(Some(b(v.broker)), Some(v.partition), Some(v.offset)),
            View::Elect(v) => about(v.leader.map(b), Some(v.partition), None),
            View::Isr(v) => about(None, Some(v.partition), None),
            View::HighWatermark(v) => about(None, Some(v.partition), Some(v.high_watermark)),
            View::Marker(v) => about(None, Some(v.partition), Some(v.offset)),
            View::Fetch(v) => about(Some(c(v.consumer)), Some(v.partition), Some(v.from)),
            View::Process(v) => of_record(Some(c(v.consumer)), v.record, Some(v.offset)),
            View::Effect(v) => of_record(Some(c(v.consumer)), v.record, None),
            View::Late(v) => of_record(None, v.record, None),
            View::Commit(v) => about(Some(c(v.consumer)), Some(v.partition), Some(v.offset)),
            View::Position(v) => about(Some(c(v.consumer)), Some(v.partition), Some(v.offset)),
            View::Assign(v) | View::Revoke(v) => about(Some(c(v.consumer)), Some(v.partition), None),
            View::NoOffset(v) => about(Some(c(v.consumer)), Some(v.partition), None),
            View::CommitFailed(view::CommitFailed { consumer, .. })
            | View::RebalanceStart(view::RebalanceStart { consumer, .. })
            | View::Leave(view::Leave { consumer, .. })
            | View::PollTimeout(view::PollTimeout { consumer, .. })
            | View::NoRewind(view::NoRewind { consumer, .. }) => about(Some(c(consumer)), None, None),
            View::Crash(e) | View::Restart(e) | View::Start(e) | View::Stop(e) => about(Some(e), None, None),
            View::Pause(v) => about(Some(v.entity), None, None),
            View::Rebalance(_) | View::Fenced(_) | View::InitTxn(_) | View::TxnEnd(_) | View::NetworkPartition(_) => {
                About::default()
            }
        }
    }

    /// The names of what it is about.
    pub fn place(&self, n: &Names<'_>) -> Place {
        let ledger = &n.w.oracle.ledger;
        let partition =
            self.partition.or_else(|| self.record.map(|r| PartitionId::new(ledger.partition_of(r.raw())))).map(|g| {
                let p = &n.w.partitions[g];
                TopicPartition { topic: n.w.topics[p.topic].name.clone(), partition: p.index.raw() }
            });
        Place { entity: self.entity.map(|e| n.entity(e)), partition, offset: self.offset }
    }
}
