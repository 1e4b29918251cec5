//! What the run reports beyond the records' lives: the lag samples and the
//! end-of-run facts (each producer's blocked time, each group's members,
//! each partition's final leader, log end, high watermark and ISR, each
//! aggregation's results), then the run's end. The summary reads these from
//! facts, so `verify` finds them in the trace.

use std::collections::BTreeMap;

use crate::oracle::fact::Fact;

/// A producer at the end of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProducerEnd {
    pub blocked_us: u64,
    pub max_backlog: u64,
}

/// A group at the end of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupEnd {
    pub members: u64,
    pub assigned_partitions: u64,
}

/// A partition at the end of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionEnd {
    pub leader: Option<u32>,
    pub log_end: u64,
    pub high_watermark: u64,
    /// Brokers of the replicas in the ISR, in preference order.
    pub isr: Vec<u32>,
}

/// A group aggregation at the end of the run: its counters and, per window
/// (key, start µs, end µs), the count it emitted last and when it first fired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggregateEnd {
    pub fired: u64,
    pub corrected: u64,
    pub dropped_events: u64,
    pub results: BTreeMap<(u32, u64, u64), (u64, u64)>,
}

/// A producer's blocked send() as its `send_blocked` / `send_unblocked`
/// facts tell it: blocked since (µs), and the time blocked before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockedSend {
    pub since_us: Option<u64>,
    pub total_us: u64,
}

impl BlockedSend {
    /// Time blocked up to `at_us`, an open block included.
    pub fn until(&self, at_us: u64) -> u64 {
        self.total_us + self.since_us.map_or(0, |s| at_us.saturating_sub(s))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Reported {
    /// (µs, lag) per sample; a second sample at the same time replaces the first.
    pub lag: Vec<(u64, u64)>,
    /// The most lag any sample saw (replaced samples included).
    pub max_lag: u64,
    pub producers: BTreeMap<u32, ProducerEnd>,
    /// Per producer: its blocked send(), from the block facts.
    pub blocked: BTreeMap<u32, BlockedSend>,
    pub groups: BTreeMap<u32, GroupEnd>,
    pub partitions: BTreeMap<u32, PartitionEnd>,
    pub aggregates: BTreeMap<u32, AggregateEnd>,
    /// (end µs, events) once the run ended.
    pub end: Option<(u64, u64)>,
}

impl Reported {
    pub fn observe(&mut self, at_us: u64, fact: &Fact) {
        match *fact {
            Fact::Lag { lag } => {
                self.max_lag = self.max_lag.max(lag);
                if self.lag.last().is_some_and(|&(t, _)| t == at_us) {
                    self.lag.pop();
                }
                self.lag.push((at_us, lag));
            }
            Fact::SendBlocked { producer } => {
                let b = self.blocked.entry(producer.raw()).or_default();
                b.since_us = b.since_us.or(Some(at_us));
            }
            Fact::SendUnblocked { producer } => {
                let b = self.blocked.entry(producer.raw()).or_default();
                if let Some(since) = b.since_us.take() {
                    b.total_us += at_us.saturating_sub(since);
                }
            }
            // The blocked time is the oracle's own sum of the block facts;
            // `verify` refuses a trace whose `blocked_us` disagrees.
            Fact::ProducerEnd { producer, max_backlog, .. } => {
                let blocked_us = self.blocked.get(&producer.raw()).map_or(0, |b| b.until(at_us));
                self.producers.insert(producer.raw(), ProducerEnd { blocked_us, max_backlog });
            }
            Fact::GroupEnd { group, members, assigned_partitions } => {
                self.groups.insert(group.raw(), GroupEnd { members, assigned_partitions });
            }
            Fact::PartitionEnd { partition, leader, log_end, high_watermark } => {
                let p = self.partitions.entry(partition.raw()).or_default();
                (p.leader, p.log_end, p.high_watermark) = (leader.map(|b| b.raw()), log_end, high_watermark);
            }
            Fact::ReplicaEnd { partition, broker, in_isr: true } => {
                self.partitions.entry(partition.raw()).or_default().isr.push(broker.raw());
            }
            Fact::AggregateEnd { group, fired, corrected, dropped_events } => {
                let a = self.aggregates.entry(group.raw()).or_default();
                (a.fired, a.corrected, a.dropped_events) = (fired, corrected, dropped_events);
            }
            Fact::Window { group, key, start_us, end_us, count, fired_us } => {
                let a = self.aggregates.entry(group.raw()).or_default();
                a.results.insert((key, start_us, end_us), (count, fired_us));
            }
            Fact::End { events } => self.end = Some((at_us, events)),
            _ => {}
        }
    }
}
