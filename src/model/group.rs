//! The group coordinator: membership, rebalances (eager or cooperative, with
//! Kafka's range, round-robin, sticky and cooperative-sticky assignors),
//! session timeouts and committed offsets.

use crate::kernel::time::{Duration, Instant};
use crate::model::aggregate::Aggregator;
use crate::model::assignor;
use crate::model::ids::{
    AssignmentSlot, ConsumerId, Generation, GroupId, IdVec, Incarnation, LocalPartition, MemberId, PartitionId,
};
use crate::model::sink::Sink;
use crate::model::txn::TxnPhase;
use crate::oracle::fact::{Fact, LeaveReason, Trigger};
use crate::scenario::{Assignor, ConsumerSpec};
use crate::world::event::{
    Event, Heartbeat, HeartbeatResponse, HeartbeatResult, JoinGroup, JoinResponse, LeaveGroup, Node, OffsetCommit,
    OffsetCommitResponse, OffsetFetch, OffsetFetchResponse, TxnOffsetCommit, TxnOffsetCommitResponse,
};
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
    pub id: MemberId,
    pub consumer: ConsumerId,
    pub inc: Incarnation,
    /// A static member (`group.instance.id`): its instance id is its consumer.
    pub instance: bool,
    pub joined: bool,
    pub last_heartbeat: Instant,
    /// Partitions (within the topic) of the current generation.
    pub assigned: Vec<LocalPartition>,
    /// The generation `assigned` was given in (the sticky assignors' "owned
    /// partitions" and their generation); 0 = a new member, owns nothing.
    pub owned_generation: Generation,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub spec: u32,
    pub name: String,
    pub first_partition: PartitionId,
    pub partitions: u32,
    pub first_consumer: ConsumerId,
    pub instances: u32,
    pub session_timeout: Duration,
    /// The rebalance timeout: members' `max.poll.interval.ms`.
    pub rebalance_timeout: Duration,
    pub initial_delay: Duration,
    pub assignor: Assignor,
    /// Cooperative protocol: members keep their partitions through a rebalance.
    pub cooperative: bool,
    pub state: GroupState,
    /// Initial rebalance: a new member joined since the delay was last
    /// (re-)armed (ClassicGroup.newMemberAdded).
    new_member_added: bool,
    /// Initial rebalance: the delay now armed and how much longer it may
    /// still be extended (`delayMs`, `remainingMs` of
    /// tryCompleteInitialRebalanceElseSchedule).
    initial_armed: Duration,
    initial_remaining: Duration,
    pub generation: Generation,
    pub members: Vec<Member>,
    /// Committed offset per partition of the topic.
    pub committed: IdVec<LocalPartition, Option<u64>>,
    next_member: MemberId,
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
        first_partition: PartitionId,
        partitions: u32,
        first_consumer: ConsumerId,
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
            new_member_added: false,
            initial_armed: Duration::ZERO,
            initial_remaining: Duration::ZERO,
            generation: Generation::NONE,
            members: Vec::new(),
            committed: IdVec::filled(None, partitions as usize),
            next_member: MemberId::new(1),
            round: 0,
            scratch: Vec::new(),
            sink: Sink::new(spec.sink),
            aggregate: spec.aggregate.map(Aggregator::new),
        }
    }

    fn member(&self, id: MemberId) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// The static member whose instance id is consumer `c`'s (ClassicGroup.staticMemberId).
    fn static_member(&self, c: ConsumerId) -> Option<usize> {
        self.members.iter().position(|m| m.instance && m.consumer == c)
    }

    /// The partitions assigned to member `id` in the current generation.
    pub fn assignment_of(&self, id: MemberId) -> &[LocalPartition] {
        self.member(id).map_or(&[], |i| &self.members[i].assigned)
    }
}

impl World {
    /// Lag of a group: high watermark minus committed offset, over its partitions.
    pub fn group_lag(&self, g: &Group) -> u64 {
        g.committed
            .iter_enumerated()
            .map(|(local, committed)| {
                let hw = self.partitions[g.first_partition.at(local)].high_watermark();
                hw.saturating_sub(committed.unwrap_or(0))
            })
            .sum()
    }

    /// JoinGroup: a new member (id 0) or a member rejoining for the next generation.
    pub(crate) fn on_join_group(&mut self, group: GroupId, m: JoinGroup) {
        let JoinGroup { consumer: c, inc, member, instance } = m;
        let now = self.now;
        let g = &mut self.groups[group];
        if g.member(member).is_none() && instance {
            if let Some(i) = g.static_member(c) {
                return self.replace_static_member(group, i, inc);
            }
        }
        let g = &mut self.groups[group];
        let (id, reason) = match g.member(member) {
            Some(i) => {
                g.members[i].joined = true;
                g.members[i].last_heartbeat = now;
                g.members[i].inc = inc;
                (member, Trigger::Rejoin)
            }
            None => {
                if matches!(g.state, GroupState::PreparingRebalance { initial: true, .. }) {
                    // The initial delay can be extended (GroupMetadataManager
                    // addMemberThenRebalanceOrCompleteJoin: previousState EMPTY).
                    g.new_member_added = true;
                }
                let id = g.next_member;
                g.next_member = id.next();
                g.members.push(Member {
                    id,
                    consumer: c,
                    inc,
                    instance,
                    joined: true,
                    last_heartbeat: now,
                    assigned: Vec::new(),
                    owned_generation: Generation::NONE,
                });
                let at = now.add(g.session_timeout);
                self.at(at, Event::SessionCheck { group, member: id });
                (id, Trigger::Join)
            }
        };
        self.consumers[c].member = id;
        let g = &self.groups[group];
        match g.state {
            GroupState::Empty => {
                let delay = g.initial_delay;
                self.prepare_rebalance(group, delay, reason, c);
            }
            GroupState::Stable => {
                let timeout = g.rebalance_timeout;
                self.prepare_rebalance(group, timeout, reason, c);
            }
            GroupState::PreparingRebalance { .. } => {}
        }
        let g = &mut self.groups[group];
        if let Some(i) = g.member(id) {
            g.members[i].joined = true;
        }
        self.maybe_complete_rebalance(group, false);
    }

    /// A static member rejoins with an unknown member id while the group
    /// still holds its instance id (KIP-345,
    /// GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin):
    /// the old member id is replaced by a new one (fencing the old
    /// incarnation's requests) and the session restarts. In a stable group
    /// (the protocol cannot change here) there is no rebalance: the member
    /// gets the current generation and its old assignment back. During a
    /// rebalance it counts as having rejoined.
    fn replace_static_member(&mut self, group: GroupId, i: usize, inc: Incarnation) {
        let now = self.now;
        let g = &mut self.groups[group];
        let id = g.next_member;
        g.next_member = id.next();
        let m = &mut g.members[i];
        (m.id, m.inc, m.joined, m.last_heartbeat) = (id, inc, true, now);
        let c = m.consumer;
        let at = now.add(g.session_timeout);
        self.at(at, Event::SessionCheck { group, member: id });
        self.consumers[c].member = id;
        if self.groups[group].state != GroupState::Stable {
            return self.maybe_complete_rebalance(group, false);
        }
        let generation = self.groups[group].generation;
        let assignment = self.alloc_assignment();
        let (slots, groups) = (&mut self.assignment_slots, &self.groups);
        slots[assignment].extend_from_slice(&groups[group].members[i].assigned);
        let msg = JoinResponse { consumer: c, inc, member: id, generation, assignment };
        self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
    }

    /// Starts a rebalance, because consumer `c` did what `reason` says (see
    /// `trace::trigger`): every member must rejoin before `deadline`.
    fn prepare_rebalance(&mut self, group: GroupId, timeout: Duration, reason: Trigger, c: ConsumerId) {
        let now = self.now;
        let generation = self.groups[group].generation;
        self.oracle.emit(self.now, Fact::RebalanceStart { group, generation, reason, consumer: c });
        let g = &mut self.groups[group];
        let initial = g.state == GroupState::Empty;
        g.round += 1;
        let round = g.round;
        g.state = GroupState::PreparingRebalance { deadline: now.add(timeout), round, initial };
        if initial {
            // GroupMetadataManager.prepareRebalance: the delay may be re-armed
            // for up to the rest of the rebalance timeout.
            g.new_member_added = false;
            g.initial_armed = timeout;
            g.initial_remaining = Duration::from_us(g.rebalance_timeout.us().saturating_sub(timeout.us()));
        } else {
            for m in g.members.iter_mut() {
                m.joined = false;
            }
        }
        self.after(timeout, Event::RebalanceDeadline { group, round });
    }

    pub(crate) fn on_rebalance_deadline(&mut self, group: GroupId, round: u32) {
        if let GroupState::PreparingRebalance { round: r, initial, .. } = self.groups[group].state {
            if r == round && !(initial && self.rearm_initial_delay(group)) {
                self.maybe_complete_rebalance(group, true);
            }
        }
    }

    /// The initial delay ran out. If a member joined since it was armed and
    /// the rebalance timeout leaves room, it is armed again: min(delay,
    /// remaining), with `remaining` reduced by the delay that just ran out
    /// (GroupMetadataManager.tryCompleteInitialRebalanceElseSchedule, Kafka
    /// 4.x; InitialDelayedJoin.onComplete in 3.x's GroupCoordinator). So
    /// members that keep arriving within the delay of each other push the
    /// first generation back. Returns whether it re-armed.
    fn rearm_initial_delay(&mut self, group: GroupId) -> bool {
        let g = &mut self.groups[group];
        if !g.new_member_added || g.initial_remaining == Duration::ZERO {
            return false;
        }
        g.new_member_added = false;
        let delay = g.initial_delay.min(g.initial_remaining);
        g.initial_remaining = Duration::from_us(g.initial_remaining.us().saturating_sub(g.initial_armed.us()));
        g.initial_armed = delay;
        g.round += 1;
        let round = g.round;
        g.state = GroupState::PreparingRebalance { deadline: self.now.add(delay), round, initial: true };
        self.after(delay, Event::RebalanceDeadline { group, round });
        true
    }

    /// Completes the rebalance once every member rejoined (or at the deadline,
    /// dropping those that did not). The first rebalance of an empty group waits
    /// the full `group.initial.rebalance.delay.ms`.
    fn maybe_complete_rebalance(&mut self, group: GroupId, deadline_reached: bool) {
        let g = &mut self.groups[group];
        let GroupState::PreparingRebalance { initial, .. } = g.state else { return };
        let all_joined = g.members.iter().all(|m| m.joined);
        if !deadline_reached && (!all_joined || initial) {
            return;
        }
        if !all_joined {
            // Members that missed the rebalance timeout are out.
            for m in g.members.iter().filter(|m| !m.joined) {
                let (member, consumer, reason) = (m.id, m.consumer, LeaveReason::MissedRebalance);
                self.oracle.emit(self.now, Fact::Leave { group, member, consumer, reason });
            }
        }
        g.members.retain(|m| m.joined);
        if g.members.is_empty() {
            g.state = GroupState::Empty;
            return;
        }
        g.generation = g.generation.next();
        g.state = GroupState::Stable;
        // A completed join counts as a heartbeat for every member (Kafka's
        // completeAndScheduleNextHeartbeatExpiration).
        let now = self.now;
        for m in g.members.iter_mut() {
            m.last_heartbeat = now;
        }
        self.assign_partitions(group);
        let g = &self.groups[group];
        let members = g.members.iter().map(|m| (m.consumer, m.assigned.clone())).collect();
        let generation = g.generation;
        let replies: Vec<(ConsumerId, Incarnation, MemberId)> =
            g.members.iter().map(|m| (m.consumer, m.inc, m.id)).collect();
        self.oracle.emit(self.now, Fact::Rebalance { group, generation, members });
        for (i, (c, inc, member)) in replies.into_iter().enumerate() {
            let assignment = self.alloc_assignment();
            let (slots, groups) = (&mut self.assignment_slots, &self.groups);
            slots[assignment].extend_from_slice(&groups[group].members[i].assigned);
            let msg = JoinResponse { consumer: c, inc, member, generation, assignment };
            self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
        }
    }

    /// An empty assignment slot (reused; slots travel with JoinResponses).
    fn alloc_assignment(&mut self) -> AssignmentSlot {
        let slot = match self.free_assignment_slots.pop() {
            Some(s) => s,
            None => self.assignment_slots.push(Vec::new()),
        };
        self.assignment_slots[slot].clear();
        slot
    }

    /// The assignment a JoinResponse carried; its slot goes back.
    pub(crate) fn take_assignment(&mut self, slot: AssignmentSlot) -> Vec<LocalPartition> {
        self.free_assignment_slots.push(slot);
        std::mem::take(&mut self.assignment_slots[slot])
    }

    /// The group leader's assignment for the new generation, with the
    /// group's assignor; members that lose partitions under the cooperative
    /// protocol rejoin by themselves (see consumer).
    fn assign_partitions(&mut self, group: GroupId) {
        let g = &mut self.groups[group];
        // Members sorted by id, as the leader's RangeAssignor sees them.
        let consumers = &self.consumers;
        g.members.sort_by_key(|m| (consumers[m.consumer].rank, m.id));
        let mut scratch = std::mem::take(&mut g.scratch);
        match g.assignor {
            Assignor::Range => assignor::range(g.members.len(), g.partitions, &mut scratch),
            Assignor::RoundRobin => assignor::round_robin(g.members.len(), g.partitions, &mut scratch),
            Assignor::Sticky | Assignor::CooperativeSticky => {
                // Each member's owned partitions and their generation, as its subscription carries them.
                let owned: Vec<Vec<u32>> =
                    g.members.iter().map(|m| m.assigned.iter().map(|p| p.raw()).collect()).collect();
                let subs: Vec<assignor::Subscription<'_>> = g
                    .members
                    .iter()
                    .zip(&owned)
                    .map(|(m, owned)| assignor::Subscription {
                        owned,
                        generation: (m.owned_generation != Generation::NONE).then_some(m.owned_generation.raw()),
                    })
                    .collect();
                if g.assignor == Assignor::CooperativeSticky && g.cooperative {
                    assignor::cooperative_sticky(&subs, g.partitions, &mut scratch);
                } else {
                    assignor::sticky(&subs, g.partitions, &mut scratch);
                }
            }
        }
        let generation = g.generation;
        for (m, parts) in g.members.iter_mut().zip(scratch.iter()) {
            m.assigned.clear();
            m.assigned.extend(parts.iter().map(|&p| LocalPartition::new(p)));
            m.owned_generation = generation;
        }
        g.scratch = scratch;
    }

    /// LeaveGroup: the member is removed at once and the group rebalances
    /// without it (no wait for the session timeout).
    pub(crate) fn on_leave_group(&mut self, group: GroupId, m: LeaveGroup) {
        let LeaveGroup { consumer: c, member } = m;
        let g = &mut self.groups[group];
        let Some(i) = g.member(member) else { return };
        g.members.remove(i);
        self.oracle.emit(self.now, Fact::Leave { group, member, consumer: c, reason: LeaveReason::LeaveGroup });
        self.member_gone(group, Trigger::Leave, c);
    }

    /// Consumer `c`'s member left or expired (`reason`): rebalance the rest (or go empty).
    fn member_gone(&mut self, group: GroupId, reason: Trigger, c: ConsumerId) {
        let g = &mut self.groups[group];
        match g.state {
            GroupState::Stable => {
                let timeout = g.rebalance_timeout;
                if g.members.is_empty() {
                    g.state = GroupState::Empty;
                } else {
                    self.prepare_rebalance(group, timeout, reason, c);
                }
            }
            GroupState::PreparingRebalance { .. } => self.maybe_complete_rebalance(group, false),
            GroupState::Empty => {}
        }
    }

    pub(crate) fn on_heartbeat(&mut self, group: GroupId, m: Heartbeat) {
        let Heartbeat { consumer: c, inc, member, generation } = m;
        let now = self.now;
        let g = &mut self.groups[group];
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
        let msg = HeartbeatResponse { consumer: c, inc, result };
        self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
    }

    /// Session timeout: a member silent for `session.timeout.ms` is removed and
    /// the group rebalances without it.
    pub(crate) fn on_session_check(&mut self, group: GroupId, member: MemberId) {
        let now = self.now;
        let g = &mut self.groups[group];
        let Some(i) = g.member(member) else { return };
        let mut expires = g.members[i].last_heartbeat.add(g.session_timeout);
        if g.members[i].joined && matches!(g.state, GroupState::PreparingRebalance { .. }) {
            // A member waiting in JoinGroup is alive: its request is the heartbeat.
            expires = expires.max(now.add(g.session_timeout));
        }
        if expires > now {
            self.at(expires, Event::SessionCheck { group, member });
            return;
        }
        let gone = g.members.remove(i);
        let reason = LeaveReason::SessionTimeout;
        self.oracle.emit(self.now, Fact::Leave { group, member, consumer: gone.consumer, reason });
        self.member_gone(group, Trigger::Expired, gone.consumer);
    }

    /// OffsetFetch. Offsets of a partition that an unfinished transaction
    /// carries are unstable (KIP-447 `require_stable`): the answer says so
    /// and the consumer asks again, so a new owner never starts from offsets
    /// a committing transaction is about to move.
    pub(crate) fn on_offset_fetch(&mut self, group: GroupId, m: OffsetFetch) {
        let OffsetFetch { consumer: c, inc, generation, partitions: slot } = m;
        let partitions = &mut self.offset_slots[slot];
        let unstable = self.txns.iter().any(|t| {
            t.group == Some(group)
                && t.phase != TxnPhase::Empty
                && t.offsets.iter().any(|(p, _)| partitions.iter().any(|(q, _)| q == p))
        });
        for (local, offset) in partitions.iter_mut() {
            *offset = self.groups[group].committed[*local];
        }
        let msg = OffsetFetchResponse { consumer: c, inc, generation, unstable, offsets: slot };
        self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
    }

    /// TxnOffsetCommit (sendOffsetsToTransaction): held in the transaction
    /// until it ends, if the member, its generation and its epoch are current.
    pub(crate) fn on_txn_offset_commit(&mut self, group: GroupId, m: TxnOffsetCommit) {
        let TxnOffsetCommit { consumer: c, inc, member, generation, txn: t, epoch, slot } = m;
        let g = &self.groups[group];
        let txn = &self.txns[t];
        let open = matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing);
        let ok = g.member(member).is_some() && generation == g.generation && txn.epoch == epoch && open;
        if ok {
            if txn.phase == TxnPhase::Empty {
                self.open_txn(t);
            }
            let offsets = std::mem::take(&mut self.commit_slots[slot]);
            let txn = &mut self.txns[t];
            txn.offsets_generation = generation;
            for &(p, offset) in &offsets {
                match txn.offsets.iter_mut().find(|(q, _)| *q == p) {
                    Some(entry) => entry.1 = offset,
                    None => txn.offsets.push((p, offset)),
                }
            }
            self.commit_slots[slot] = offsets;
        } else {
            self.oracle.emit(self.now, Fact::CommitFailed { consumer: c, group, generation, in_transaction: true });
        }
        self.free_commit_slots.push(slot);
        let msg = TxnOffsetCommitResponse { consumer: c, inc, ok };
        self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
    }

    /// OffsetCommit: accepted only from a current member of the current generation;
    /// otherwise Kafka answers ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID (CommitFailedException).
    pub(crate) fn on_offset_commit(&mut self, group: GroupId, m: OffsetCommit) {
        let OffsetCommit { consumer: c, inc, member, generation, slot, sync } = m;
        let g = &self.groups[group];
        let ok = g.member(member).is_some() && generation == g.generation;
        if ok {
            let offsets = std::mem::take(&mut self.commit_slots[slot]);
            for &(local, offset) in &offsets {
                self.groups[group].committed[local] = Some(offset);
                let partition = self.groups[group].first_partition.at(local);
                self.oracle.emit(self.now, Fact::Commit { consumer: c, partition, offset, generation });
            }
            self.commit_slots[slot] = offsets;
        }
        self.free_commit_slots.push(slot);
        if !ok {
            self.oracle.emit(self.now, Fact::CommitFailed { consumer: c, group, generation, in_transaction: false });
        }
        let msg = OffsetCommitResponse { consumer: c, inc, slot, ok, sync };
        self.send(Node::Coordinator(group), Node::Consumer(c), msg.into());
    }
}
