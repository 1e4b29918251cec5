//! The poll loop: poll() (rejoining when a rebalance is on, auto-commit,
//! handing out buffered records), processing each record in the loop or on
//! a worker, and what processing does to the group's sink.

use crate::model::consumer::{AfterCommit, ConsumerState, OffsetStore, SKIP};
use crate::model::ids::{ConsumerId, Generation, GroupId, Incarnation, RecordId};
use crate::model::record::NULL_KEY;
use crate::oracle::fact::Fact;
use crate::scenario::CommitMode;
use crate::world::event::{Event, JoinGroup, Node};
use crate::world::World;

impl World {
    /// One call of `poll()`: rejoin if a rebalance is on, auto-commit when due,
    /// hand out buffered records, keep fetches going.
    pub(super) fn poll(&mut self, c: ConsumerId) {
        let now = self.now;
        let cs = &mut self.consumers[c];
        debug_assert_eq!(cs.state, ConsumerState::Idle);
        cs.last_poll = now;
        if cs.closing {
            return self.close_consumer(c);
        }
        if self.poll_rejoins(c) {
            return;
        }
        let cs = &self.consumers[c];
        // librdkafka auto-commits from its own timer (`on_auto_commit_tick`), not in poll().
        if cs.commit == CommitMode::Auto && cs.offset_store == OffsetStore::Position && now >= cs.next_auto_commit {
            let interval = cs.auto_commit_interval;
            self.consumers[c].next_auto_commit = now.add(interval);
            self.commit(c, None);
        }
        let skipped = self.take_records(c);
        self.send_fetches(c);
        let cs = &self.consumers[c];
        if cs.batch.is_empty() {
            // Only markers or aborted records: commit the position past them,
            // or the group would show them as lag for ever.
            if skipped && matches!(cs.commit, CommitMode::AfterProcessing | CommitMode::Transactional) {
                self.commit(c, None);
            }
            return;
        }
        match cs.commit {
            CommitMode::BeforeProcessing => self.commit(c, Some(AfterCommit::Process)),
            _ => self.start_processing(c),
        }
    }

    /// poll()'s part in a rebalance: a completed cooperative join is applied;
    /// a cooperative member rejoins keeping its partitions and goes on; an
    /// eager one commits (as its mode says) and rejoins. Whether this poll
    /// ends here.
    fn poll_rejoins(&mut self, c: ConsumerId) -> bool {
        if let Some((member, generation, assigned)) = self.consumers[c].join_result.take() {
            self.apply_cooperative_assignment(c, member, generation, assigned);
        }
        let cs = &mut self.consumers[c];
        if cs.rejoin_needed && cs.cooperative && !cs.member.is_none() && cs.generation != Generation::NONE {
            // Cooperative: rejoin keeping every partition; consumption goes on.
            cs.rejoin_needed = false;
            if !cs.join_inflight {
                cs.join_inflight = true;
                let (inc, member, group, instance) = (cs.inc, cs.member, cs.group, cs.static_member);
                if cs.commit == CommitMode::Auto {
                    self.commit(c, None);
                }
                let msg = JoinGroup { consumer: c, inc, member, instance };
                self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
            }
        }
        let cs = &self.consumers[c];
        if !cs.rejoin_needed {
            return false;
        }
        // onJoinPrepare: with auto-commit, commit synchronously before
        // revoking; with commitAsync, the usual onPartitionsRevoked
        // callback does the same (commitSync of what was processed).
        if cs.commit == CommitMode::Auto || cs.commit_async {
            self.commit(c, Some(AfterCommit::Rejoin));
        } else {
            self.send_join(c);
        }
        true
    }

    /// Takes up to max.poll.records into the batch, in fetch order; whether
    /// it passed over markers or aborted records. A transactional consumer
    /// waits for initTransactions first.
    fn take_records(&mut self, c: ConsumerId) -> bool {
        let cs = &mut self.consumers[c];
        cs.batch.clear();
        let mut skipped = false;
        let ready = cs.txn.is_none() || cs.txn_epoch.is_some();
        while ready && cs.batch.len() < cs.max_poll_records as usize {
            let Some((local, offset, record)) = cs.buffer.pop_front() else { break };
            cs.buffered[local] -= 1;
            if cs.position[local].is_none() || offset != cs.consumed[local] {
                continue; // fetched for an assignment or position that is gone
            }
            cs.consumed[local] = offset + 1;
            if cs.offset_store == OffsetStore::OnReturn {
                // rd_kafka_fetch_op_app_prepare: stored as it is handed to the application.
                cs.stored[local] = offset + 1;
            }
            if record == SKIP {
                skipped = true;
                continue;
            }
            cs.batch.push((local, offset, record));
        }
        skipped
    }

    /// `processing: async`: the batch goes to the worker queue and the poll
    /// loop goes on at once (auto-commit then commits records the worker may
    /// not have processed yet).
    fn hand_to_worker(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        let batch = std::mem::take(&mut cs.batch);
        cs.worker.extend(batch.iter().copied());
        cs.batch = batch;
        cs.batch.clear();
        cs.state = ConsumerState::Idle;
        let inc = cs.inc;
        if !cs.worker_busy {
            cs.worker_busy = true;
            let d = self.processing_time(c);
            self.after(d, Event::WorkerDone { consumer: c, inc });
        }
        // The next poll() returns at once with whatever is buffered.
        let now = self.now;
        self.at(now, Event::ConsumerWake { consumer: c, inc });
    }

    /// The worker finished the record at the head of its queue.
    pub(crate) fn on_worker_done(&mut self, c: ConsumerId, inc: Incarnation) {
        let cs = &mut self.consumers[c];
        let Some((local, offset, record)) = cs.worker.pop_front() else {
            cs.worker_busy = false;
            return;
        };
        let group = cs.group;
        let effect = self.groups[group].sink.apply(record);
        self.note_processed(c, record, offset, effect);
        self.store_after_processing(c, local, offset);
        let cs = &mut self.consumers[c];
        if cs.worker.is_empty() {
            cs.worker_busy = false;
        } else {
            let d = self.processing_time(c);
            self.after(d, Event::WorkerDone { consumer: c, inc });
        }
    }

    /// Consumer `c` finished processing `record` (at `offset` of its
    /// partition); `effect` says whether the sink took it as a new effect.
    fn note_processed(&mut self, c: ConsumerId, record: RecordId, offset: u64, effect: bool) {
        let group = self.consumers[c].group;
        let late_before = self.late_seen(group);
        if effect {
            self.aggregate_effect(group, record);
        }
        self.oracle.emit(self.now, Fact::Process { record, consumer: c, group, offset, effect });
        self.note_late(group, late_before);
    }

    /// librdkafka with `enable.auto.offset.store=false`: the application stores the offset of
    /// what it has processed (`store_offsets(msg)`), and only that is committed.
    fn store_after_processing(&mut self, c: ConsumerId, local: crate::model::ids::LocalPartition, offset: u64) {
        let cs = &mut self.consumers[c];
        if cs.offset_store == OffsetStore::AfterProcessing && cs.position[local].is_some() {
            cs.stored[local] = cs.stored[local].max(offset + 1);
        }
    }

    /// A result of `record` reached the sink of `group` at its transaction's
    /// commit (`sink: transactional`).
    pub(crate) fn sink_effect(&mut self, group: GroupId, record: RecordId) {
        self.groups[group].sink.mark(record);
        self.aggregate_effect(group, record);
    }

    /// The group's aggregation sees every effect, a duplicate as much as the first.
    fn aggregate_effect(&mut self, group: GroupId, record: RecordId) {
        let Some(agg) = self.groups[group].aggregate.as_mut() else { return };
        let rec = self.payloads.get(record);
        let key = if rec.key == NULL_KEY { u32::MAX } else { self.key_base[rec.producer] + rec.key };
        // The aggregation numbers records as the trace does.
        agg.observe(record.raw(), rec.event_us(), key, self.now.us());
    }

    /// Late arrivals the aggregation of `group` has seen so far.
    pub(crate) fn late_seen(&self, group: GroupId) -> usize {
        self.groups[group].aggregate.as_ref().map_or(0, |a| a.late.len())
    }

    /// Reports the late arrivals the aggregation of `group` saw after the first `before`.
    pub(crate) fn note_late(&mut self, group: GroupId, before: usize) {
        let Some(agg) = self.groups[group].aggregate.as_ref() else { return };
        for l in &agg.late[before..] {
            let (record, watermark_us, dropped) = (RecordId::new(l.record), l.watermark, l.dropped);
            self.oracle.emit(self.now, Fact::Late { record, group, watermark_us, dropped });
        }
    }

    pub(crate) fn on_consumer_wake(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        if cs.state == ConsumerState::AwaitingOffsets && cs.offsets_retry {
            cs.offsets_retry = false;
            self.send_offset_fetch(c);
        } else if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }

    /// How long the record whose processing starts now takes: a draw of the group's
    /// distribution (always drawn, so a `slow:` fault does not move the rest of the run's draws),
    /// or the `slow:` fault's time while one lasts for this consumer.
    pub(super) fn processing_time(&mut self, c: ConsumerId) -> crate::kernel::time::Duration {
        let cs = &mut self.consumers[c];
        let d = cs.processing_time.sample(&mut cs.rng);
        let now = self.now;
        match self.slow.iter().find(|(s, until, _)| *s == c && now < *until) {
            Some(&(_, _, slow)) => slow,
            None => d,
        }
    }

    pub(super) fn start_processing(&mut self, c: ConsumerId) {
        if self.consumers[c].async_processing {
            return self.hand_to_worker(c);
        }
        let cs = &mut self.consumers[c];
        debug_assert!(!cs.batch.is_empty());
        cs.state = ConsumerState::Processing;
        let inc = cs.inc;
        let d = self.processing_time(c);
        self.after(d, Event::ProcessDone { consumer: c, inc, index: 0 });
    }

    /// One record is processed: its effect reaches the sink (inside the
    /// transaction, for `sink: transactional`).
    pub(crate) fn on_process_done(&mut self, c: ConsumerId, inc: Incarnation, index: u32) {
        let cs = &self.consumers[c];
        debug_assert_eq!(cs.state, ConsumerState::Processing);
        let (_, offset, record) = cs.batch[index as usize];
        let group = cs.group;
        let effect = match (cs.txn, cs.txn_epoch) {
            (Some(t), Some(epoch)) => {
                // The result waits in the transaction until it commits.
                if !self.stage_output(t, epoch, record) {
                    self.consumers[c].txn_failed = true;
                }
                false
            }
            _ => self.groups[group].sink.apply(record),
        };
        self.note_processed(c, record, offset, effect);
        let local = self.consumers[c].batch[index as usize].0;
        self.store_after_processing(c, local, offset);
        let cs = &mut self.consumers[c];
        if cs.commit == CommitMode::AfterProcessing && cs.commit_every_record {
            // commitSync of this record's offset alone, then the next record.
            let (local, offset, _) = cs.batch[index as usize];
            let next = if (index as usize) + 1 < cs.batch.len() {
                AfterCommit::Next { index: index + 1 }
            } else {
                AfterCommit::Poll
            };
            return self.commit_offset(c, local, offset + 1, next);
        }
        if (index as usize) + 1 < cs.batch.len() {
            let d = self.processing_time(c);
            self.after(d, Event::ProcessDone { consumer: c, inc, index: index + 1 });
            return;
        }
        cs.state = ConsumerState::Idle;
        match cs.commit {
            // commitAsync: no wait; a failed commit is not retried (the next one covers it).
            CommitMode::AfterProcessing if cs.commit_async => {
                self.commit(c, None);
                self.poll(c)
            }
            CommitMode::AfterProcessing => self.commit(c, Some(AfterCommit::Poll)),
            CommitMode::Transactional => self.send_offsets_to_transaction(c),
            _ => self.poll(c),
        }
    }
}
