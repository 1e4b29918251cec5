//! `streamsim consumer-groups`: what `kafka-consumer-groups --describe`
//! would print at a moment of the run, rebuilt from the facts up to it.
//!
//! As Kafka's `ConsumerGroupCommand` (tools/.../consumer/group/ConsumerGroupCommand.java)
//! prints it: groups by name; the rows of members holding partitions first
//! (members with more partitions first, each member's partitions by topic and
//! partition), then the partitions the group has a committed offset for and
//! nobody holds, with `-` as consumer; `-` for a missing committed offset, a
//! partition without a leader's log end, and the lag of either. LOG-END-OFFSET
//! is what ListOffsets(latest) answers a read_uncommitted client: the high
//! watermark. A member stays listed after its process dies, until the
//! coordinator drops it (its session expires or it leaves); while the group
//! rebalances, the coordinator describes no assignment (as Kafka's classic
//! groups answer DescribeGroups outside the Stable state).

use crate::oracle::fact::{ConsumerId, Fact, LocalPartition};
use crate::oracle::shape::Shape;
use crate::report::names::Names;

/// A group's state as `--describe` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members (not joined yet, or all left).
    Empty,
    /// Between a rebalance's start and its completion.
    Rebalancing,
    Stable,
}

/// One row: a partition of the group's topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub topic: String,
    pub partition: u32,
    pub current_offset: Option<u64>,
    pub log_end_offset: Option<u64>,
    pub consumer: Option<String>,
}

impl Row {
    pub fn lag(&self) -> Option<u64> {
        Some(self.log_end_offset?.saturating_sub(self.current_offset?))
    }
}

/// One group at the moment asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    pub name: String,
    pub state: GroupState,
    pub rows: Vec<Row>,
}

/// What the facts up to a moment say of one group.
#[derive(Clone, Default)]
struct Group {
    committed: Vec<Option<u64>>,
    members: Vec<(ConsumerId, Vec<LocalPartition>)>,
    rebalancing: bool,
}

/// Every group as `--describe` would show it at `at_us` (facts at that very
/// microsecond included).
pub fn describe(shape: &Shape, facts: &[(u64, Fact)], at_us: u64) -> Vec<GroupView> {
    let mut groups: Vec<Group> = shape
        .groups
        .iter()
        .map(|g| Group { committed: vec![None; g.partitions as usize], ..Group::default() })
        .collect();
    let mut high_watermark = vec![0u64; shape.partitions.len()];
    let mut led = vec![true; shape.partitions.len()];
    for (_, f) in facts.iter().take_while(|(t, _)| *t <= at_us) {
        match *f {
            Fact::HighWatermark { partition, high_watermark: hw } | Fact::Isr { partition, high_watermark: hw, .. } => {
                high_watermark[partition.index()] = hw
            }
            Fact::Elect { partition, leader, .. } => led[partition.index()] = leader.is_some(),
            Fact::Commit { consumer, partition, offset, .. } => {
                let g = shape.consumers[consumer.index()].group as usize;
                let local = (partition.raw() - shape.groups[g].first_partition) as usize;
                groups[g].committed[local] = Some(offset);
            }
            Fact::RebalanceStart { group, .. } => groups[group.index()].rebalancing = true,
            Fact::Rebalance { group, ref members, .. } => {
                let g = &mut groups[group.index()];
                g.members = members.to_vec();
                g.rebalancing = false;
            }
            Fact::Leave { group, consumer, .. } => groups[group.index()].members.retain(|(c, _)| *c != consumer),
            _ => {}
        }
    }
    let names = Names::new(shape);
    let mut views: Vec<GroupView> =
        groups.iter().enumerate().map(|(i, g)| view(names, i, g, &high_watermark, &led)).collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    views
}

fn view(names: Names, i: usize, g: &Group, high_watermark: &[u64], led: &[bool]) -> GroupView {
    let shape = names.shape;
    let gs = &shape.groups[i];
    let state = match (g.rebalancing, g.members.is_empty()) {
        (true, _) => GroupState::Rebalancing,
        (false, true) => GroupState::Empty,
        (false, false) => GroupState::Stable,
    };
    let row = |local: u32, consumer: Option<String>| {
        let global = (gs.first_partition + local) as usize;
        let name = &shape.partitions[global].name;
        let (topic, index) = name.rsplit_once('/').unwrap_or((name.as_str(), "0"));
        Row {
            topic: topic.to_string(),
            partition: index.parse().unwrap_or(local),
            current_offset: g.committed[local as usize],
            log_end_offset: led[global].then_some(high_watermark[global]),
            consumer,
        }
    };
    let mut rows = Vec::new();
    let mut held = vec![false; gs.partitions as usize];
    if state == GroupState::Stable {
        let mut members: Vec<&(ConsumerId, Vec<LocalPartition>)> =
            g.members.iter().filter(|m| !m.1.is_empty()).collect();
        members.sort_by_key(|m| std::cmp::Reverse(m.1.len()));
        for (c, parts) in members {
            let mut parts: Vec<u32> = parts.iter().map(|p| p.raw()).collect();
            parts.sort_unstable();
            for p in parts {
                held[p as usize] = true;
                rows.push(row(p, Some(names.consumer(*c))));
            }
        }
    }
    for p in 0..gs.partitions {
        if !held[p as usize] && g.committed[p as usize].is_some() {
            rows.push(row(p, None));
        }
    }
    GroupView { name: gs.name.clone(), state, rows }
}

/// The table as Kafka prints it (stdout), and its notes on group states
/// (Kafka prints those on stderr).
pub fn text(views: &[GroupView]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut notes = Vec::new();
    for v in views {
        match v.state {
            GroupState::Empty => notes.push(format!("Consumer group '{}' has no active members.", v.name)),
            GroupState::Rebalancing => notes.push(format!("Warning: Consumer group '{}' is rebalancing.", v.name)),
            GroupState::Stable => {}
        }
        if v.rows.is_empty() {
            continue;
        }
        let dash = |o: Option<u64>| o.map_or("-".to_string(), |v| v.to_string());
        let group_w = v.name.len().max(15);
        let topic_w = v.rows.iter().map(|r| r.topic.len()).max().unwrap_or(0).max(15);
        let consumer_w = v.rows.iter().map(|r| r.consumer.as_deref().unwrap_or("-").len()).max().unwrap_or(0).max(15);
        let line = |cols: [&str; 7]| {
            let [g, t, p, c, l, lag, id] = cols;
            let s = format!("{g:<group_w$} {t:<topic_w$} {p:<10} {c:<15} {l:<15} {lag:<15} {id:<consumer_w$}");
            s.trim_end().to_string() + "\n"
        };
        out += "\n";
        out += &line(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"]);
        for r in &v.rows {
            let (p, c, l, lag) =
                (r.partition.to_string(), dash(r.current_offset), dash(r.log_end_offset), dash(r.lag()));
            out += &line([&v.name, &r.topic, &p, &c, &l, &lag, r.consumer.as_deref().unwrap_or("-")]);
        }
    }
    (out, notes)
}
