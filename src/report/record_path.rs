//! One record's path through the run, from the facts alone: sent, retried,
//! appended, copied to followers, acknowledged, fetched, processed, committed
//! past, cut by a truncation. `timeline --record` prints it and the Perfetto
//! trace draws it as flow arrows.

use std::collections::BTreeSet;

use crate::oracle::fact::{BrokerId, ConsumerId, Entity, Fact, PartitionId, RecordId};
use crate::report::names::Names;

/// Most steps kept for one record (a record fetched again and again by a
/// rebalance storm would otherwise fill the view).
pub const MAX_STEPS: usize = 200;

/// One step of the record: when, in which process, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordStep {
    pub at_us: u64,
    pub entity: Entity,
    pub what: String,
}

/// What is known of the record so far while reading the facts.
#[derive(Default)]
struct Seen {
    /// (partition, offset) of each append.
    appends: Vec<(PartitionId, u64)>,
    /// (broker, partition, offset) copies already noted.
    copied: BTreeSet<(u32, u32, u64)>,
    /// (consumer, offset) fetches already noted.
    fetched: BTreeSet<(u32, u64)>,
    /// (group, offset) commits past it already noted.
    committed: BTreeSet<(u32, u64)>,
}

/// The record's steps in time order (at most [`MAX_STEPS`]).
pub fn path(names: Names, facts: &[(u64, Fact)], record: RecordId) -> Vec<RecordStep> {
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for &(at_us, ref f) in facts {
        if out.len() >= MAX_STEPS {
            break;
        }
        if let Some((entity, what)) = own_step(names, f, record, &mut seen).or_else(|| log_step(names, f, &mut seen)) {
            out.push(RecordStep { at_us, entity, what });
        }
    }
    out
}

/// Facts that name the record itself.
fn own_step(names: Names, f: &Fact, record: RecordId, seen: &mut Seen) -> Option<(Entity, String)> {
    Some(match *f {
        Fact::Send { record: r, producer, partition, .. } if r == record => {
            (Entity::Producer(producer), format!("sent to {}", names.partition(partition)))
        }
        Fact::Retry { record: r, producer, error, attempt } if r == record => {
            (Entity::Producer(producer), format!("retried (attempt {attempt}) after {}", error.describe()))
        }
        Fact::Fail { record: r, producer, error } if r == record => {
            (Entity::Producer(producer), format!("failed: {}", error.describe()))
        }
        Fact::Append { record: r, partition, offset, broker } if r == record => {
            seen.appends.push((partition, offset));
            (Entity::Broker(broker), format!("appended to {} at offset {offset}", names.partition(partition)))
        }
        Fact::Ack { record: r, producer } if r == record => (Entity::Producer(producer), "acknowledged".into()),
        Fact::Process { record: r, consumer, offset, effect, .. } if r == record => {
            let effect = if effect { "its effect reached the sink" } else { "the sink already held its effect" };
            (Entity::Consumer(consumer), format!("processed at offset {offset}: {effect}"))
        }
        Fact::Effect { record: r, consumer, txn, .. } if r == record => {
            (Entity::Consumer(consumer), format!("its effect committed with the transaction of {}", names.txn(txn)))
        }
        _ => return None,
    })
}

/// Facts about the log positions the record holds: copies, fetches,
/// commits past it, truncations.
fn log_step(names: Names, f: &Fact, seen: &mut Seen) -> Option<(Entity, String)> {
    let holds = |p: PartitionId, pred: &dyn Fn(u64) -> bool| {
        seen.appends.iter().find(|(q, o)| *q == p && pred(*o)).map(|x| x.1)
    };
    match *f {
        Fact::Replicate { broker, partition, log_end, .. } => {
            let off = holds(partition, &|o| o < log_end)?;
            seen.copied.insert((broker.raw(), partition.raw(), off)).then(|| {
                (Entity::Broker(broker), format!("copied to {}'s replica (offset {off})", names.broker(broker)))
            })
        }
        Fact::Truncate { broker, partition, offset } => {
            let off = holds(partition, &|o| o >= offset)?;
            seen.copied.remove(&(broker.raw(), partition.raw(), off));
            Some((
                Entity::Broker(broker),
                format!("cut from {}'s log: truncated to offset {offset}", broker_name(broker)),
            ))
        }
        Fact::Fetch { consumer, partition, from, to } => {
            let off = holds(partition, &|o| from <= o && o < to)?;
            seen.fetched
                .insert((consumer.raw(), off))
                .then(|| (Entity::Consumer(consumer), format!("fetched (offset {off})")))
        }
        Fact::Commit { consumer, partition, offset, .. } => commit_step(names, seen, consumer, partition, offset),
        Fact::Position { consumer, partition, offset, .. } => {
            holds(partition, &|o| o >= offset)?;
            seen.fetched.retain(|(c, _)| *c != consumer.raw());
            None
        }
        _ => None,
    }
}

fn broker_name(b: BrokerId) -> String {
    format!("broker-{}", b.raw())
}

/// The first commit of each group past the record's offset.
fn commit_step(
    names: Names,
    seen: &mut Seen,
    consumer: ConsumerId,
    partition: PartitionId,
    offset: u64,
) -> Option<(Entity, String)> {
    let &(_, off) = seen.appends.iter().find(|(q, o)| *q == partition && *o < offset)?;
    let group = names.shape.consumers.get(consumer.index())?.group;
    seen.committed.insert((group, off)).then(|| {
        let g = names.shape.groups.get(group as usize).map_or("?", |g| g.name.as_str());
        (Entity::Consumer(consumer), format!("{g} committed offset {offset}, past it"))
    })
}
