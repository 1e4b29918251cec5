//! Offset commits (commitSync, commitAsync, per record) and the consumer's
//! transactions: sendOffsetsToTransaction, then commitTransaction or
//! abortTransaction, and the rewind to the committed offsets after an abort.

use crate::model::consumer::{AfterCommit, ConsumerState};
use crate::model::ids::{CommitSlot, ConsumerId, LocalPartition};
use crate::oracle::fact::Fact;
use crate::world::event::{
    EndTxn, EndTxnResponse, Event, InitProducerId, InitProducerIdResponse, Node, OffsetCommit, OffsetCommitResponse,
    TxnOffsetCommit, TxnOffsetCommitResponse,
};
use crate::world::World;

impl World {
    /// commitSync of one partition's offset (`commit_every: record`).
    pub(super) fn commit_offset(&mut self, c: ConsumerId, local: LocalPartition, offset: u64, then: AfterCommit) {
        let slot = self.alloc_commit_slot();
        self.commit_slots[slot].push((local, offset));
        let cs = &mut self.consumers[c];
        cs.last_committed[local] = Some(offset);
        cs.state = ConsumerState::Committing(then);
        let ((member, generation), inc, group) = (cs.group_identity(), cs.inc, cs.group);
        let msg = OffsetCommit { consumer: c, inc, member, generation, slot, sync: true };
        self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
    }

    /// Commits the consumed position of every assigned partition: commitSync
    /// (blocks, then `then`) or commitAsync (`then` = None, no wait).
    pub(super) fn commit(&mut self, c: ConsumerId, then: Option<AfterCommit>) {
        let slot = self.fill_commit_slot(c);
        let cs = &mut self.consumers[c];
        for &(local, offset) in &self.commit_slots[slot] {
            cs.last_committed[local] = Some(offset);
        }
        let offsets = &self.commit_slots[slot];
        if offsets.is_empty() && then != Some(AfterCommit::Process) && then != Some(AfterCommit::Poll) {
            // Nothing new to commit: no request (as the Java client skips empty auto-commits).
            self.free_commit_slots.push(slot);
            match then {
                Some(AfterCommit::Rejoin) => return self.send_join(c),
                _ => return,
            }
        }
        let ((member, generation), inc, group) = (cs.group_identity(), cs.inc, cs.group);
        let sync = then.is_some();
        if let Some(next) = then {
            cs.state = ConsumerState::Committing(next);
        }
        let msg = OffsetCommit { consumer: c, inc, member, generation, slot, sync };
        self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
    }

    /// An empty commit slot (reused; slots travel with commit requests).
    fn alloc_commit_slot(&mut self) -> CommitSlot {
        let slot = match self.free_commit_slots.pop() {
            Some(s) => s,
            None => self.commit_slots.push(Vec::new()),
        };
        self.commit_slots[slot].clear();
        slot
    }

    /// A commit slot holding the consumed position of every assigned
    /// partition that moved since its last commit.
    fn fill_commit_slot(&mut self, c: ConsumerId) -> CommitSlot {
        let slot = self.alloc_commit_slot();
        let cs = &self.consumers[c];
        let offsets = &mut self.commit_slots[slot];
        let java = cs.offset_store == crate::model::consumer::OffsetStore::Position;
        for &local in &cs.assigned {
            let offset = if java { cs.consumed[local] } else { cs.stored[local] };
            if cs.position[local].is_some() && cs.last_committed[local] != Some(offset) {
                offsets.push((local, offset));
            }
        }
        slot
    }

    pub(crate) fn on_offset_commit_response(&mut self, m: OffsetCommitResponse) {
        let OffsetCommitResponse { consumer: c, inc, ok, sync, .. } = m;
        let cs = &mut self.consumers[c];
        if !ok {
            // CommitFailedException: this member is no longer in the generation;
            // rejoin. (Cooperative, mid-rebalance: RebalanceInProgressException;
            // the join under way settles it, and the next commit covers these offsets.)
            if !(cs.join_inflight || cs.join_result.is_some()) {
                cs.rejoin_needed = true;
            }
            cs.last_committed.iter_mut().for_each(|x| *x = None);
        }
        let ConsumerState::Committing(next) = cs.state else { return };
        if !sync {
            return;
        }
        match next {
            // ConsumerCoordinator.commitOffsetsSync throws CommitFailedException
            // (RebalanceInProgressException mid-rebalance): `poll(); commitSync();
            // process()` never processes this batch; the loop polls again.
            AfterCommit::Process if !ok => {
                let cs = &mut self.consumers[c];
                cs.batch.clear();
                cs.state = ConsumerState::Idle;
                self.poll(c);
            }
            AfterCommit::Process => self.start_processing(c),
            AfterCommit::Poll => {
                self.consumers[c].state = ConsumerState::Idle;
                self.poll(c);
            }
            AfterCommit::Rejoin => self.send_join(c),
            AfterCommit::Next { index } => {
                let cs = &mut self.consumers[c];
                cs.state = ConsumerState::Processing;
                let d = self.processing_time(c);
                self.after(d, Event::ProcessDone { consumer: c, inc, index });
            }
        }
    }

    /// sendOffsetsToTransaction: the offsets after the batch go to the group
    /// coordinator inside the transaction, checked against the generation
    /// (KIP-447: a zombie that lost its partitions is refused here).
    pub(super) fn send_offsets_to_transaction(&mut self, c: ConsumerId) {
        let cs = &self.consumers[c];
        let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) else {
            unreachable!("processing waits for initTransactions")
        };
        if cs.txn_failed {
            return self.end_consumer_txn(c, false);
        }
        let slot = self.fill_commit_slot(c);
        let cs = &mut self.consumers[c];
        cs.state = ConsumerState::EndingTxn;
        let (inc, member, generation, group) = (cs.inc, cs.member, cs.generation, cs.group);
        let msg = TxnOffsetCommit { consumer: c, inc, member, generation, txn, epoch, slot };
        self.send(Node::Consumer(c), Node::Coordinator(group), msg.into());
    }

    pub(crate) fn on_txn_offset_commit_response(&mut self, m: TxnOffsetCommitResponse) {
        let TxnOffsetCommitResponse { consumer: c, ok, .. } = m;
        if self.consumers[c].state != ConsumerState::EndingTxn {
            return;
        }
        if !ok {
            // Not a member of this generation any more: abort, then rejoin.
            self.consumers[c].rejoin_needed = true;
        }
        self.end_consumer_txn(c, ok);
    }

    fn end_consumer_txn(&mut self, c: ConsumerId, commit: bool) {
        let cs = &mut self.consumers[c];
        cs.state = ConsumerState::EndingTxn;
        let (Some(txn), Some(epoch)) = (cs.txn, cs.txn_epoch) else { unreachable!("a transaction needs an epoch") };
        let inc = cs.inc;
        self.send(Node::Consumer(c), Node::TxnCoordinator, EndTxn { txn, inc, epoch, commit }.into());
    }

    /// The transaction ended. After a commit the consumer polls on; after an
    /// abort it rewinds to the committed offsets (the batch is processed
    /// again); a fenced consumer also initializes again first.
    pub(crate) fn on_consumer_end_txn_response(&mut self, c: ConsumerId, m: EndTxnResponse) {
        let EndTxnResponse { inc, commit, ok, epoch, .. } = m;
        if self.consumers[c].state != ConsumerState::EndingTxn {
            return;
        }
        let cs = &mut self.consumers[c];
        cs.state = ConsumerState::Idle;
        if ok {
            // transaction.version 2 bumps the epoch at every end.
            cs.txn_epoch = Some(epoch);
        }
        if commit && ok {
            for i in 0..cs.assigned.len() {
                let local = cs.assigned[i];
                if cs.position[local].is_some() {
                    cs.last_committed[local] = Some(cs.consumed[local]);
                }
            }
            return self.poll(c);
        }
        if !ok {
            let txn = cs.txn.expect("transactional consumer");
            cs.txn_epoch = None;
            self.send(Node::Consumer(c), Node::TxnCoordinator, InitProducerId { txn, inc }.into());
        }
        self.consumers[c].txn_failed = false;
        let cs = &self.consumers[c];
        if cs.no_rewind_on_abort && !cs.rejoin_needed {
            // KafkaConsumer keeps its position through the producer's abort:
            // without a seek, poll() goes on past the aborted batch.
            let txn = cs.txn.expect("transactional consumer");
            self.oracle.emit(self.now, Fact::NoRewind { consumer: c, txn });
            let cs = &self.consumers[c];
            if cs.txn_epoch.is_some() {
                self.poll(c);
            }
            return;
        }
        self.rewind(c);
    }

    /// Back to the committed offsets: everything fetched is dropped.
    fn rewind(&mut self, c: ConsumerId) {
        let cs = &mut self.consumers[c];
        if cs.rejoin_needed {
            return self.send_join(c);
        }
        cs.forget_fetched();
        cs.state = ConsumerState::AwaitingOffsets;
        self.send_offset_fetch(c);
    }

    pub(crate) fn on_consumer_init_response(&mut self, c: ConsumerId, m: InitProducerIdResponse) {
        let cs = &mut self.consumers[c];
        cs.txn_epoch = Some(m.epoch);
        cs.txn_failed = false;
        if cs.state == ConsumerState::Idle {
            self.poll(c);
        }
    }
}
