//! What a trace must hold together before a line reaches the oracle: ids
//! within the header's shape, records in send order, appends at the log
//! end, replicas that exist. The oracle's own code asserts these (a fact of
//! a real run always meets them); an edited or foreign trace gets a line
//! number and a reason instead of a panic.

use crate::oracle::fact::{Entity, Fact, PartitionId};
use crate::oracle::ledger::NULL_KEY;
use crate::oracle::shadow::CONTROL;
use crate::oracle::shape::{Shape, WindowShape};
use crate::oracle::Oracle;

/// Most key slots (keys over every producer, times groups) a header may ask
/// the oracle to hold: 4 bytes each (the ledger's order table), so at most 256 MB.
const MAX_KEY_SLOTS: u64 = 1 << 26;

/// Whether a header's shape is one a run could have: in range, and small
/// enough for the oracle's tables.
pub fn shape(s: &Shape) -> Result<(), String> {
    let slots: u64 = s.producers.iter().map(|p| u64::from(p.keys.max(1))).sum();
    if slots.saturating_mul(s.groups.len().max(1) as u64) > MAX_KEY_SLOTS {
        return Err(format!("the shape asks for {slots} key slots per group, more than a run can have"));
    }
    let (partitions, consumers, txns) = (s.partitions.len() as u64, s.consumers.len(), s.transactional_ids.len());
    for (i, g) in s.groups.iter().enumerate() {
        if u64::from(g.first_partition) + u64::from(g.partitions) > partitions {
            return Err(format!("group {i} (`{}`) reads partitions past the last", g.name));
        }
        let bad_window = match g.window {
            Some(WindowShape::Tumbling { size_us }) => size_us == 0,
            Some(WindowShape::Sliding { size_us, slide_us }) => size_us == 0 || slide_us == 0,
            Some(WindowShape::Session { .. }) | None => false,
        };
        if bad_window {
            return Err(format!("group {i} (`{}`): a window of zero length", g.name));
        }
    }
    if let Some((i, _)) = s.consumers.iter().enumerate().find(|(_, c)| c.group as usize >= s.groups.len()) {
        return Err(format!("consumer {i} belongs to no group of the shape ({consumers} consumers)"));
    }
    if let Some((i, _)) = s.producers.iter().enumerate().find(|(_, p)| p.txn.is_some_and(|t| t as usize >= txns)) {
        return Err(format!("producer {i} names a transactional id past the last"));
    }
    for (i, p) in s.partitions.iter().enumerate() {
        if p.replicas.iter().any(|&b| b >= s.brokers) || p.replicas.is_empty() {
            return Err(format!("partition {i} (`{}`): a replica on no broker of the shape", p.name));
        }
    }
    if let Some(e) = s.run.expect.iter().find(|e| e.holds(0.0).is_none()) {
        return Err(format!("expectation `{}`: unknown comparison `{}`", e.name, e.cmp));
    }
    Ok(())
}

/// Whether `fact`, at `t_us`, fits the oracle as the lines before left it.
pub fn fact(o: &Oracle, t_us: u64, fact: &Fact) -> Result<(), String> {
    let s = &o.observed.shape;
    let records = o.ledger.len() as u64;
    let record = |r: u64| {
        if r < records {
            Ok(())
        } else {
            Err(format!("record {r} was never sent ({records} sends so far)"))
        }
    };
    match *fact {
        Fact::Send { record: r, producer, partition, key, send_seq, .. } => {
            if u64::from(r) != records || records >= u64::from(CONTROL) {
                return Err(format!("record {r}: records are numbered in send order, {records} comes next"));
            }
            below("producer", producer.into(), s.producers.len())?;
            // The ledger derives send_seq from record ids, so one out of step would go unseen.
            let sent = o.ledger.sent_by(producer.raw());
            if send_seq != sent {
                return Err(format!(
                    "record {r}: send_seq {send_seq}, but producer {producer} sent {sent} records before it"
                ));
            }
            below("partition", partition.into(), s.partitions.len())?;
            let keys = s.producers[producer.index()].keys;
            if key != NULL_KEY && key >= keys {
                return Err(format!("key {key}: producer {producer} has {keys} keys"));
            }
        }
        Fact::Sequenced { record: r, .. } | Fact::Ack { record: r, .. } => record(r.into())?,
        Fact::Fail { record: r, .. } => {
            record(r.into())?;
            if o.ledger.life(r.raw()).failed_us != crate::oracle::ledger::NEVER {
                return Err(format!("record {r} fails a second time"));
            }
        }
        Fact::Process { record: r, group, .. }
        | Fact::Effect { record: r, group, .. }
        | Fact::Late { record: r, group, .. } => {
            record(r.into())?;
            below("group", group.into(), s.groups.len())?;
        }
        _ => return groups(o, t_us, fact),
    }
    Ok(())
}

fn below(what: &str, i: u64, n: usize) -> Result<(), String> {
    if i < n as u64 {
        Ok(())
    } else {
        Err(format!("{what} {i} is not in the header ({n} of them)"))
    }
}

/// The group, producer and aggregation facts.
fn groups(o: &Oracle, t_us: u64, fact: &Fact) -> Result<(), String> {
    let s = &o.observed.shape;
    match *fact {
        Fact::CommitFailed { group, .. } | Fact::GroupEnd { group, .. } | Fact::AggregateEnd { group, .. } => {
            below("group", group.into(), s.groups.len())?
        }
        Fact::Window { group, .. } => {
            below("group", group.into(), s.groups.len())?;
            if s.groups[group.index()].window.is_none() {
                return Err(format!("group {group} runs no aggregation"));
            }
        }
        Fact::StoppedTheWorld { group, us } => {
            below("group", group.into(), s.groups.len())?;
            if us > t_us {
                return Err(format!("a member waited {us} µs by {t_us} µs"));
            }
        }
        Fact::Rebalance { group, ref members, .. } => {
            below("group", group.into(), s.groups.len())?;
            let parts = s.groups[group.index()].partitions;
            for (c, ps) in members {
                below("consumer", (*c).into(), s.consumers.len())?;
                if let Some(p) = ps.iter().find(|p| p.raw() >= parts) {
                    return Err(format!("partition {p} of a topic with {parts}"));
                }
            }
        }
        Fact::ProducerEnd { producer, blocked_us, .. } => {
            below("producer", producer.into(), s.producers.len())?;
            if blocked_us > t_us {
                return Err(format!("a producer blocked {blocked_us} µs by {t_us} µs"));
            }
            let told = o.reported.blocked.get(&producer.raw()).map_or(0, |b| b.until(t_us));
            if told != blocked_us {
                return Err(format!(
                    "producer {producer} reports {blocked_us} µs blocked; its send_blocked and send_unblocked lines add up to {told} µs"
                ));
            }
        }
        Fact::SendBlocked { producer } | Fact::SendUnblocked { producer } => {
            below("producer", producer.into(), s.producers.len())?
        }
        Fact::Crash(Entity::Producer(p)) | Fact::Restart(Entity::Producer(p)) => {
            below("producer", p.into(), s.producers.len())?
        }
        _ => return logs(o, fact),
    }
    Ok(())
}

/// The log, offset and consumer facts.
fn logs(o: &Oracle, fact: &Fact) -> Result<(), String> {
    let s = &o.observed.shape;
    let partition = |p: PartitionId| {
        if p.index() < s.partitions.len() {
            Ok(&o.observed.partitions[p.index()])
        } else {
            Err(format!("partition {p} is not in the header ({} of them)", s.partitions.len()))
        }
    };
    let log_len = |p: PartitionId, b: u32| -> Result<u64, String> {
        let part = partition(p)?;
        part.log_of(b).map(|l| l.len() as u64).ok_or_else(|| format!("broker {b} holds no replica of partition {p}"))
    };
    match *fact {
        Fact::Append { record, partition: p, offset, broker } => {
            let end = log_len(p, broker.raw())?;
            if offset != end || u64::from(record) >= o.ledger.len() as u64 {
                return Err(format!("append at offset {offset} of a log that ends at {end}"));
            }
        }
        Fact::Marker { partition: p, offset, .. } => {
            let leader =
                partition(p)?.leader.ok_or_else(|| format!("a marker on partition {p}, which has no leader"))?;
            let end = log_len(p, leader)?;
            if offset != end {
                return Err(format!("marker at offset {offset} of a log that ends at {end}"));
            }
        }
        Fact::Replicate { broker, partition: p, log_end, source } => {
            let (dst, src) = (log_len(p, broker.raw())?, log_len(p, source.raw())?);
            if broker == source || src < log_end || dst > log_end {
                return Err(format!("broker {broker} copies {source}'s log (length {src}) to {log_end} from {dst}"));
            }
        }
        Fact::Truncate { broker, partition: p, .. } | Fact::ReplicaEnd { partition: p, broker, .. } => {
            log_len(p, broker.raw())?;
        }
        Fact::Elect { partition: p, leader, .. } | Fact::PartitionEnd { partition: p, leader, .. } => {
            if let Some(b) = leader {
                log_len(p, b.raw())?;
            }
            partition(p)?;
        }
        Fact::Isr { partition: p, .. } | Fact::HighWatermark { partition: p, .. } => {
            partition(p)?;
        }
        Fact::Commit { consumer, partition: p, .. } | Fact::NoOffset { consumer, partition: p } => {
            let c =
                s.consumers.get(consumer.index()).ok_or_else(|| format!("consumer {consumer} is not in the header"))?;
            let g = &s.groups[c.group as usize];
            if p.raw() < g.first_partition || p.raw() >= g.first_partition + g.partitions {
                return Err(format!("partition {p} is not read by consumer {consumer}'s group"));
            }
        }
        _ => {}
    }
    Ok(())
}
