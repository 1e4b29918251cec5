//! A consumer in its group: JoinGroup (eager, or cooperative while it keeps
//! consuming), the heartbeat thread and its poll timer, and the committed
//! offsets each assigned partition starts from.

use crate::kernel::time::Duration;
use crate::model::consumer::ConsumerState;
use crate::model::ids::{ConsumerId, Generation, Incarnation, LocalPartition, MemberId};
use crate::oracle::fact::{Fact, PositionSource};
use crate::scenario::OffsetReset;
use crate::world::event::{
    Event, Heartbeat, HeartbeatResponse, HeartbeatResult, JoinGroup, JoinResponse, LeaveGroup, Node, OffsetFetch,
    OffsetFetchResponse,
};
use crate::world::World;

impl World {
    pub(super) fn send_join(&mut self, c: ConsumerId) {
        let now = self.now;
        let cs = &mut self.consumers[c];
        if !cs.assigned.is_empty() && cs.paused_since.is_none() {
            // Eager: everything is revoked until the rebalance completes.
            cs.paused_since = Some(now);
        }
        let first = self.groups[cs.group].first_partition;
        for &local in &cs.assigned {
            let partition = first.at(local);
            self.oracle.emit(self.now, Fact::Revoke { consumer: c, partition, generation: cs.generation });
        }
        cs.join_inflight = false;
        cs.join_result = None;
        cs.clear_assignment();
        cs.state = ConsumerState::Joining;
        cs.rejoin_needed = false;
        let (inc, member, group, instance) = (cs.inc, cs.member, cs.group, cs.static_member);
        self.send(Node::Consumer(c), Node::Coordinator(group), JoinGroup { consumer: c, inc, member, instance }.into());
    }

    pub(crate) fn on_join_response(&mut self, m: JoinResponse) {
        let JoinResponse { consumer: c, member, generation, .. } = m;
        let assigned = self.take_assignment(m.assignment);
        let cs = &mut self.consumers[c];
        if cs.join_inflight && cs.state != ConsumerState::Joining {
            // Cooperative: the member kept consuming; poll() applies the result.
            cs.join_inflight = false;
            cs.join_result = Some((member, generation, assigned));
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
            return;
        }
        if cs.state != ConsumerState::Joining {
            return;
        }
        let group = self.consumers[c].group;
        let first = self.groups[group].first_partition;
        for &local in &assigned {
            self.oracle.emit(self.now, Fact::Assign { consumer: c, partition: first.at(local), generation });
        }
        let cs = &mut self.consumers[c];
        cs.member = member;
        cs.generation = generation;
        cs.assigned = assigned;
        cs.reset_fetch_order();
        cs.state = ConsumerState::AwaitingOffsets;
        self.send_offset_fetch(c);
    }

    /// OffsetFetch: the committed offsets of every assigned partition, for
    /// the current generation.
    pub(super) fn send_offset_fetch(&mut self, c: ConsumerId) {
        let slot = match self.free_offset_slots.pop() {
            Some(s) => s,
            None => self.offset_slots.push(Vec::new()),
        };
        let cs = &self.consumers[c];
        let partitions = &mut self.offset_slots[slot];
        partitions.clear();
        partitions.extend(cs.assigned.iter().map(|&local| (local, None)));
        let (inc, generation, group) = (cs.inc, cs.generation, cs.group);
        let msg = OffsetFetch { consumer: c, inc, generation, partitions: slot };
        self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
    }

    /// Committed offsets arrive: each partition resumes there, or where
    /// `auto.offset.reset` says when the group never committed it. While a
    /// transaction holds offsets of these partitions they are unstable: ask
    /// again after `retry.backoff.ms`.
    pub(crate) fn on_offset_fetch_response(&mut self, m: OffsetFetchResponse) {
        let OffsetFetchResponse { consumer: c, inc, generation, unstable, offsets } = m;
        let committed = std::mem::take(&mut self.offset_slots[offsets]);
        self.free_offset_slots.push(offsets);
        let cs = &self.consumers[c];
        if cs.generation != generation {
            return;
        }
        let cooperative_fill = cs.state != ConsumerState::AwaitingOffsets;
        if cooperative_fill && !cs.cooperative {
            return;
        }
        if unstable {
            let cs = &mut self.consumers[c];
            cs.offsets_retry = true;
            let at = self.now.add(cs.retry_backoff);
            self.at(at, Event::ConsumerWake { consumer: c, inc });
            return;
        }
        self.take_committed_positions(c, cooperative_fill, &committed);
        let now = self.now;
        let cs = &mut self.consumers[c];
        if cooperative_fill {
            if cs.state == ConsumerState::Idle {
                self.poll(c);
            }
            return;
        }
        if let Some(since) = cs.paused_since.take() {
            self.oracle.emit(self.now, Fact::StoppedTheWorld { group: cs.group, us: now.since(since).us() });
        }
        cs.state = ConsumerState::Idle;
        cs.next_auto_commit = now.add(cs.auto_commit_interval);
        self.poll(c);
    }

    /// Every assigned partition takes its position from the group's committed
    /// offset (or `auto.offset.reset`); with `cooperative_fill`, only those
    /// without a position (a partition kept through the rebalance goes on
    /// where it was).
    fn take_committed_positions(
        &mut self,
        c: ConsumerId,
        cooperative_fill: bool,
        offsets: &[(LocalPartition, Option<u64>)],
    ) {
        let group = self.consumers[c].group;
        for i in 0..self.consumers[c].assigned.len() {
            let local = self.consumers[c].assigned[i];
            if cooperative_fill && self.consumers[c].position[local].is_some() {
                continue; // kept through the rebalance: it goes on where it was
            }
            let committed = offsets
                .iter()
                .find(|&&(p, _)| p == local)
                .expect("the offset fetch asked about every partition of this generation")
                .1;
            let (pos, from) = match committed {
                Some(o) => (Some(o), PositionSource::Committed),
                None => (self.reset_offset(c, local), PositionSource::Reset),
            };
            let partition = self.groups[group].first_partition.at(local);
            match pos {
                Some(o) => {
                    self.oracle.emit(self.now, Fact::Position { consumer: c, partition, offset: o, source: from })
                }
                None => self.oracle.emit(self.now, Fact::NoOffset { consumer: c, partition }),
            }
            let cs = &mut self.consumers[c];
            cs.position[local] = pos;
            cs.consumed[local] = pos.unwrap_or(0);
            cs.stored[local] = pos.unwrap_or(0);
            cs.fetched_epoch[local] = None;
            cs.last_committed[local] = committed;
        }
    }

    /// Cooperative: a rebalance completed while the member kept consuming.
    /// Partitions no longer assigned are revoked (and the member rejoins so
    /// they can go to their new owner); new ones start from their committed
    /// offsets; the rest go on untouched.
    pub(super) fn apply_cooperative_assignment(
        &mut self,
        c: ConsumerId,
        member: MemberId,
        generation: Generation,
        new: Vec<LocalPartition>,
    ) {
        let group = self.consumers[c].group;
        let first = self.groups[group].first_partition;
        let cs = &mut self.consumers[c];
        let mut revoked = false;
        for i in 0..cs.assigned.len() {
            let local = cs.assigned[i];
            if !new.contains(&local) {
                let partition = first.at(local);
                self.oracle.emit(self.now, Fact::Revoke { consumer: c, partition, generation: cs.generation });
                cs.position[local] = None;
                cs.fetching[local] = None;
                cs.fetched_epoch[local] = None;
                cs.last_committed[local] = None;
                revoked = true;
            }
        }
        for &local in new.iter().filter(|p| !cs.assigned.contains(p)) {
            self.oracle.emit(self.now, Fact::Assign { consumer: c, partition: first.at(local), generation });
        }
        cs.member = member;
        cs.generation = generation;
        let added = new.iter().any(|p| !cs.assigned.contains(p));
        cs.assigned = new;
        cs.reset_fetch_order();
        if revoked {
            cs.rejoin_needed = true;
        }
        if added {
            self.send_offset_fetch(c);
        }
    }

    /// `auto.offset.reset`: earliest = the log start, latest = the high watermark now.
    pub(super) fn reset_offset(&self, c: ConsumerId, local: LocalPartition) -> Option<u64> {
        let cs = &self.consumers[c];
        let g = &self.groups[cs.group];
        match cs.auto_offset_reset {
            OffsetReset::Earliest => Some(0),
            OffsetReset::Latest => Some(self.partitions[g.first_partition.at(local)].high_watermark()),
            OffsetReset::None => None,
        }
    }

    pub(crate) fn on_heartbeat_tick(&mut self, c: ConsumerId, inc: Incarnation) {
        if self.poll_timer_expired(c) {
            self.poll_timeout(c);
        }
        let cs = &mut self.consumers[c];
        let ((member, generation), group, hb) = (cs.group_identity(), cs.group, cs.heartbeat_interval);
        cs.next_heartbeat = self.now.add(hb);
        if !member.is_none() && cs.state != ConsumerState::Joining {
            let msg = Heartbeat { consumer: c, inc, member, generation };
            self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
        }
        self.after(hb, Event::HeartbeatTick { consumer: c, inc });
        self.schedule_poll_timer_check(c, inc);
    }

    /// The heartbeat thread wakes every `retry.backoff.ms` between
    /// heartbeats and checks `pollTimeoutExpired` (AbstractCoordinator's
    /// HeartbeatThread.run): when the poll timer of a busy member expires
    /// before the next heartbeat, one wake-up is scheduled at the first
    /// multiple of the backoff from now at or after the expiry (Timer.isExpired: now >= deadline).
    fn schedule_poll_timer_check(&mut self, c: ConsumerId, inc: Incarnation) {
        let now = self.now;
        let cs = &self.consumers[c];
        if cs.member.is_none() || !cs.is_busy() {
            return;
        }
        let deadline = cs.last_poll.add(cs.max_poll_interval);
        if deadline >= cs.next_heartbeat {
            return; // the heartbeat tick itself will see it
        }
        let backoff = cs.retry_backoff.us().max(1);
        let wakes = deadline.us().saturating_sub(now.us()).div_ceil(backoff).max(1);
        self.after(Duration::from_us(wakes * backoff), Event::PollTimerCheck { consumer: c, inc });
    }

    pub(crate) fn on_poll_timer_check(&mut self, c: ConsumerId, inc: Incarnation) {
        if self.poll_timer_expired(c) {
            self.poll_timeout(c);
        } else {
            // poll() was called meanwhile: a later batch may expire before the next heartbeat.
            self.schedule_poll_timer_check(c, inc);
        }
    }

    /// A member busy outside poll() for `max.poll.interval.ms` or longer.
    fn poll_timer_expired(&self, c: ConsumerId) -> bool {
        let cs = &self.consumers[c];
        !cs.member.is_none() && cs.is_busy() && self.now.since(cs.last_poll) >= cs.max_poll_interval
    }

    /// The poll timer expired (handlePollTimeoutExpiry): the heartbeat
    /// thread leaves the group and forgets the membership; the next poll()
    /// joins as a new member. A static member sends no LeaveGroup
    /// (maybeLeaveGroup): the coordinator keeps it until its session
    /// expires, or until it rejoins under its instance id.
    fn poll_timeout(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        let ((member, _), group, dynamic) = (cs.group_identity(), cs.group, !cs.static_member);
        cs.member = MemberId::NONE;
        cs.generation = Generation::NONE;
        cs.join_result = None; // resetGeneration: a rebalance it completed meanwhile is forgotten too
        cs.rejoin_needed = true;
        self.oracle.emit(self.now, Fact::PollTimeout { consumer: c, member });
        if dynamic {
            self.send(Node::Consumer(c), Node::Coordinator(group), LeaveGroup { consumer: c, member }.into());
        }
    }

    pub(crate) fn on_heartbeat_response(&mut self, m: HeartbeatResponse) {
        let HeartbeatResponse { consumer: c, result, .. } = m;
        let cs = &mut self.consumers[c];
        if cs.state == ConsumerState::Joining {
            return;
        }
        // Cooperative, a JoinGroup under way or completed: the member is not STABLE
        // and its generation is changing, so AbstractCoordinator's
        // HeartbeatResponseHandler ignores REBALANCE_IN_PROGRESS (it rejoins
        // only from STABLE) and ILLEGAL_GENERATION (only if generationUnchanged).
        let rebalancing = cs.join_inflight || cs.join_result.is_some();
        match result {
            HeartbeatResult::Ok => return,
            HeartbeatResult::RebalanceInProgress | HeartbeatResult::IllegalGeneration if rebalancing => return,
            HeartbeatResult::RebalanceInProgress | HeartbeatResult::IllegalGeneration => cs.rejoin_needed = true,
            HeartbeatResult::UnknownMember => {
                cs.member = MemberId::NONE;
                cs.join_result = None;
                cs.rejoin_needed = true;
            }
        }
        if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }
}
