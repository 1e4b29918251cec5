//! The group coordinator: membership, rebalances (eager or cooperative, with
//! Kafka's range, round-robin, sticky and cooperative-sticky assignors),
//! session timeouts and committed offsets.

use crate::kernel::time::{Duration, Instant};
use crate::model::aggregate::Aggregator;
use crate::model::assignor;
use crate::model::sink::Sink;
use crate::model::txn::TxnPhase;
use crate::oracle::fact::{Fact, LeaveReason, Trigger};
use crate::scenario::{Assignor, ConsumerSpec};
use crate::world::event::{Event, HeartbeatResult, Msg, Node};
use crate::world::World;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to (re)join, until `deadline`.
    PreparingRebalance {
        deadline: Instant,
        round: u32,
        initial: bool,
    },
    Stable,
}

#[derive(Clone, Debug)]
pub struct Member {
    pub id: u32,
    pub consumer: u32,
    pub inc: u32,
    pub joined: bool,
    pub last_heartbeat: Instant,
    /// Partitions (within the topic) of the current generation.
    pub assigned: Vec<u32>,
    /// The generation `assigned` was given in (the sticky assignors' "owned
    /// partitions" and their generation); 0 = a new member, owns nothing.
    pub owned_generation: u32,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub spec: u32,
    pub name: String,
    pub first_partition: u32,
    pub partitions: u32,
    pub first_consumer: u32,
    pub instances: u32,
    pub session_timeout: Duration,
    /// The rebalance timeout: members' `max.poll.interval.ms`.
    pub rebalance_timeout: Duration,
    pub initial_delay: Duration,
    pub assignor: Assignor,
    /// Cooperative protocol: members keep their partitions through a rebalance.
    pub cooperative: bool,
    pub state: GroupState,
    pub generation: u32,
    pub members: Vec<Member>,
    /// Committed offset per partition of the topic.
    pub committed: Vec<Option<u64>>,
    next_member: u32,
    round: u32,
    scratch: Vec<Vec<u32>>,
    /// Where the members' results go.
    pub sink: Sink,
    /// The group's windowed aggregation over its sink (`aggregate:`).
    pub aggregate: Option<Aggregator>,
}

impl Group {
    pub fn new(
        spec_index: u32,
        spec: &ConsumerSpec,
        first_partition: u32,
        partitions: u32,
        first_consumer: u32,
        initial_delay: Duration,
    ) -> Group {
        Group {
            spec: spec_index,
            name: spec.group.clone(),
            first_partition,
            partitions,
            first_consumer,
            instances: spec.slots.max(spec.instances),
            session_timeout: spec.config.session_timeout,
            rebalance_timeout: spec.config.max_poll_interval,
            initial_delay,
            assignor: spec.config.assignor(),
            cooperative: spec.config.cooperative(),
            state: GroupState::Empty,
            generation: 0,
            members: Vec::new(),
            committed: vec![None; partitions as usize],
            next_member: 1,
            round: 0,
            scratch: Vec::new(),
            sink: Sink::new(spec.sink),
            aggregate: spec.aggregate.map(Aggregator::new),
        }
    }

    fn member(&self, id: u32) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// The partitions assigned to member `id` in the current generation.
    pub fn assignment_of(&self, id: u32) -> &[u32] {
        self.member(id).map_or(&[], |i| &self.members[i].assigned)
    }
}

impl World {
    fn group_of(&self, c: u32) -> u32 {
        self.consumers[c as usize].group
    }

    /// Lag of a group: high watermark minus committed offset, over its partitions.
    pub fn group_lag(&self, g: &Group) -> u64 {
        (0..g.partitions)
            .map(|p| {
                let hw = self.partitions[(g.first_partition + p) as usize].high_watermark();
                hw.saturating_sub(g.committed[p as usize].unwrap_or(0))
            })
            .sum()
    }

    /// JoinGroup: a new member (id 0) or a member rejoining for the next generation.
    pub(crate) fn on_join_group(&mut self, c: u32, inc: u32, member: u32) {
        let now = self.now;
        let gi = self.group_of(c);
        let g = &mut self.groups[gi as usize];
        let (id, reason) = match g.member(member) {
            Some(i) => {
                g.members[i].joined = true;
                g.members[i].last_heartbeat = now;
                g.members[i].inc = inc;
                (member, Trigger::Rejoin)
            }
            None => {
                let id = g.next_member;
                g.next_member += 1;
                g.members.push(Member {
                    id,
                    consumer: c,
                    inc,
                    joined: true,
                    last_heartbeat: now,
                    assigned: Vec::new(),
                    owned_generation: 0,
                });
                let at = now.add(g.session_timeout);
                self.at(at, Event::SessionCheck { g: gi, member: id });
                (id, Trigger::Join)
            }
        };
        self.consumers[c as usize].member = id;
        let g = &self.groups[gi as usize];
        match g.state {
            GroupState::Empty => {
                let delay = g.initial_delay;
                self.prepare_rebalance(gi, delay, reason, c);
            }
            GroupState::Stable => {
                let timeout = g.rebalance_timeout;
                self.prepare_rebalance(gi, timeout, reason, c);
            }
            GroupState::PreparingRebalance { .. } => {}
        }
        let g = &mut self.groups[gi as usize];
        if let Some(i) = g.member(id) {
            g.members[i].joined = true;
        }
        self.maybe_complete_rebalance(gi, false);
    }

    /// Starts a rebalance, because consumer `c` did what `reason` says (see
    /// `trace::trigger`): every member must rejoin before `deadline`.
    fn prepare_rebalance(&mut self, gi: u32, timeout: Duration, reason: Trigger, c: u32) {
        let now = self.now;
        let generation = self.groups[gi as usize].generation;
        self.oracle.emit(self.now, Fact::RebalanceStart { group: gi, generation, reason, consumer: c });
        let g = &mut self.groups[gi as usize];
        let initial = g.state == GroupState::Empty;
        g.round += 1;
        let round = g.round;
        g.state = GroupState::PreparingRebalance { deadline: now.add(timeout), round, initial };
        if !initial {
            for m in g.members.iter_mut() {
                m.joined = false;
            }
        }
        self.after(timeout, Event::RebalanceDeadline { g: gi, round });
    }

    pub(crate) fn on_rebalance_deadline(&mut self, gi: u32, round: u32) {
        if let GroupState::PreparingRebalance { round: r, .. } = self.groups[gi as usize].state {
            if r == round {
                self.maybe_complete_rebalance(gi, true);
            }
        }
    }

    /// Completes the rebalance once every member rejoined (or at the deadline,
    /// dropping those that did not). The first rebalance of an empty group waits
    /// the full `group.initial.rebalance.delay.ms`.
    fn maybe_complete_rebalance(&mut self, gi: u32, deadline_reached: bool) {
        let g = &mut self.groups[gi as usize];
        let GroupState::PreparingRebalance { initial, .. } = g.state else { return };
        let all_joined = g.members.iter().all(|m| m.joined);
        if !deadline_reached && (!all_joined || initial) {
            return;
        }
        if !all_joined {
            // Members that missed the rebalance timeout are out.
            for m in g.members.iter().filter(|m| !m.joined) {
                let (member, consumer, reason) = (m.id, m.consumer, LeaveReason::MissedRebalance);
                self.oracle.emit(self.now, Fact::Leave { group: gi, member, consumer, reason });
            }
        }
        g.members.retain(|m| m.joined);
        if g.members.is_empty() {
            g.state = GroupState::Empty;
            return;
        }
        g.generation += 1;
        g.state = GroupState::Stable;
        // A completed join counts as a heartbeat for every member (Kafka's
        // completeAndScheduleNextHeartbeatExpiration).
        let now = self.now;
        for m in g.members.iter_mut() {
            m.last_heartbeat = now;
        }
        // Members sorted by id, as the leader's RangeAssignor sees them.
        let consumers = &self.consumers;
        g.members.sort_by_key(|m| (consumers[m.consumer as usize].rank, m.id));
        let mut scratch = std::mem::take(&mut g.scratch);
        let mut follow_up = false;
        match g.assignor {
            Assignor::Range => assignor::range(g.members.len(), g.partitions, &mut scratch),
            Assignor::RoundRobin => assignor::round_robin(g.members.len(), g.partitions, &mut scratch),
            Assignor::Sticky | Assignor::CooperativeSticky => {
                // Each member's owned partitions and their generation, as its subscription carries them.
                let subs: Vec<assignor::Subscription<'_>> = g
                    .members
                    .iter()
                    .map(|m| assignor::Subscription {
                        owned: &m.assigned,
                        generation: (m.owned_generation > 0).then_some(m.owned_generation),
                    })
                    .collect();
                if g.assignor == Assignor::CooperativeSticky && g.cooperative {
                    follow_up = assignor::cooperative_sticky(&subs, g.partitions, &mut scratch);
                } else {
                    assignor::sticky(&subs, g.partitions, &mut scratch);
                }
            }
        }
        let generation = g.generation;
        for (m, parts) in g.members.iter_mut().zip(scratch.iter()) {
            m.assigned.clear();
            m.assigned.extend_from_slice(parts);
            m.owned_generation = generation;
        }
        g.scratch = scratch;
        let _ = follow_up; // members that lose partitions rejoin by themselves (see consumer)
        let members = g.members.iter().map(|m| (m.consumer, m.assigned.clone())).collect();
        let generation = g.generation;
        let replies: Vec<(u32, u32, u32)> = g.members.iter().map(|m| (m.consumer, m.inc, m.id)).collect();
        self.oracle.emit(self.now, Fact::Rebalance { group: gi, generation, members });
        for (c, inc, member) in replies {
            self.send(Node::Coordinator(gi), Node::Consumer(c), Msg::JoinResponse { c, inc, member, generation });
        }
    }

    /// LeaveGroup: the member is removed at once and the group rebalances
    /// without it (no wait for the session timeout).
    pub(crate) fn on_leave_group(&mut self, c: u32, member: u32) {
        let gi = self.group_of(c);
        let g = &mut self.groups[gi as usize];
        let Some(i) = g.member(member) else { return };
        g.members.remove(i);
        self.oracle.emit(self.now, Fact::Leave { group: gi, member, consumer: c, reason: LeaveReason::LeaveGroup });
        self.member_gone(gi, Trigger::Leave, c);
    }

    /// Consumer `c`'s member left or expired (`reason`): rebalance the rest (or go empty).
    fn member_gone(&mut self, gi: u32, reason: Trigger, c: u32) {
        let g = &mut self.groups[gi as usize];
        match g.state {
            GroupState::Stable => {
                let timeout = g.rebalance_timeout;
                if g.members.is_empty() {
                    g.state = GroupState::Empty;
                } else {
                    self.prepare_rebalance(gi, timeout, reason, c);
                }
            }
            GroupState::PreparingRebalance { .. } => self.maybe_complete_rebalance(gi, false),
            GroupState::Empty => {}
        }
    }

    pub(crate) fn on_heartbeat(&mut self, c: u32, inc: u32, member: u32, generation: u32) {
        let now = self.now;
        let gi = self.group_of(c);
        let g = &mut self.groups[gi as usize];
        let result = match g.member(member) {
            None => HeartbeatResult::UnknownMember,
            Some(i) => {
                g.members[i].last_heartbeat = now;
                match g.state {
                    GroupState::PreparingRebalance { .. } => HeartbeatResult::RebalanceInProgress,
                    _ if generation != g.generation => HeartbeatResult::IllegalGeneration,
                    _ => HeartbeatResult::Ok,
                }
            }
        };
        self.send(Node::Coordinator(gi), Node::Consumer(c), Msg::HeartbeatResponse { c, inc, result });
    }

    /// Session timeout: a member silent for `session.timeout.ms` is removed and
    /// the group rebalances without it.
    pub(crate) fn on_session_check(&mut self, gi: u32, member: u32) {
        let now = self.now;
        let g = &mut self.groups[gi as usize];
        let Some(i) = g.member(member) else { return };
        let mut expires = g.members[i].last_heartbeat.add(g.session_timeout);
        if g.members[i].joined && matches!(g.state, GroupState::PreparingRebalance { .. }) {
            // A member waiting in JoinGroup is alive: its request is the heartbeat.
            expires = expires.max(now.add(g.session_timeout));
        }
        if expires > now {
            self.at(expires, Event::SessionCheck { g: gi, member });
            return;
        }
        let gone = g.members.remove(i);
        let reason = LeaveReason::SessionTimeout;
        self.oracle.emit(self.now, Fact::Leave { group: gi, member, consumer: gone.consumer, reason });
        self.member_gone(gi, Trigger::Expired, gone.consumer);
    }

    /// OffsetFetch. Offsets of a partition that an unfinished transaction
    /// carries are unstable (KIP-447 `require_stable`): the answer says so
    /// and the consumer asks again, so a new owner never starts from offsets
    /// a committing transaction is about to move.
    pub(crate) fn on_offset_fetch(&mut self, c: u32, inc: u32, generation: u32) {
        let gi = self.group_of(c);
        let assigned = &self.consumers[c as usize].assigned;
        let unstable = self.txns.iter().any(|t| {
            t.group == Some(gi) && t.phase != TxnPhase::Empty && t.offsets.iter().any(|(p, _)| assigned.contains(p))
        });
        let msg = Msg::OffsetFetchResponse { c, inc, generation, unstable };
        self.send(Node::Coordinator(gi), Node::Consumer(c), msg);
    }

    /// TxnOffsetCommit (sendOffsetsToTransaction): held in the transaction
    /// until it ends, if the member, its generation and its epoch are current.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_txn_offset_commit(
        &mut self,
        c: u32,
        inc: u32,
        member: u32,
        generation: u32,
        t: u32,
        epoch: u32,
        slot: u32,
    ) {
        let gi = self.group_of(c);
        let g = &self.groups[gi as usize];
        let txn = &self.txns[t as usize];
        let open = matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing);
        let ok = g.member(member).is_some() && generation == g.generation && txn.epoch == epoch && open;
        if ok {
            if txn.phase == TxnPhase::Empty {
                self.open_txn(t);
            }
            let offsets = std::mem::take(&mut self.commit_slots[slot as usize]);
            let txn = &mut self.txns[t as usize];
            txn.offsets_generation = generation;
            for &(p, offset) in &offsets {
                match txn.offsets.iter_mut().find(|(q, _)| *q == p) {
                    Some(entry) => entry.1 = offset,
                    None => txn.offsets.push((p, offset)),
                }
            }
            self.commit_slots[slot as usize] = offsets;
        } else {
            self.oracle.emit(self.now, Fact::CommitFailed { consumer: c, group: gi, generation, in_transaction: true });
        }
        self.free_commit_slots.push(slot);
        self.send(Node::Coordinator(gi), Node::Consumer(c), Msg::TxnOffsetCommitResponse { c, inc, ok });
    }

    /// OffsetCommit: accepted only from a current member of the current generation;
    /// otherwise Kafka answers ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID (CommitFailedException).
    pub(crate) fn on_offset_commit(&mut self, c: u32, inc: u32, member: u32, generation: u32, slot: u32, sync: bool) {
        let gi = self.group_of(c);
        let g = &self.groups[gi as usize];
        let ok = g.member(member).is_some() && generation == g.generation;
        if ok {
            let offsets = std::mem::take(&mut self.commit_slots[slot as usize]);
            for &(p, offset) in &offsets {
                self.groups[gi as usize].committed[p as usize] = Some(offset);
                let global = self.groups[gi as usize].first_partition + p;
                self.oracle.emit(self.now, Fact::Commit { consumer: c, partition: global, offset, generation });
            }
            self.commit_slots[slot as usize] = offsets;
        }
        self.free_commit_slots.push(slot);
        if !ok {
            self.oracle
                .emit(self.now, Fact::CommitFailed { consumer: c, group: gi, generation, in_transaction: false });
        }
        self.send(Node::Coordinator(gi), Node::Consumer(c), Msg::OffsetCommitResponse { c, inc, slot, ok, sync });
    }
}
