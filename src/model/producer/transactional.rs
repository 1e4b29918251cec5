//! The transactional producer's loop: initTransactions, beginTransaction,
//! AddPartitionsToTxn before the first send to a partition, then
//! commitTransaction (or abortTransaction) and the coordinator's answer.

use crate::model::ids::ProducerId;
use crate::model::producer::{Added, TxnClient};
use crate::oracle::fact::{Fact, SendError};
use crate::world::event::{
    AddPartitionsToTxnResponse, EndTxn, EndTxnResponse, Event, InitProducerId, InitProducerIdResponse, Node,
};
use crate::world::World;

impl World {
    /// beginTransaction: the backlog goes into the new transaction, which the
    /// application commits after `transaction_interval`.
    pub(super) fn begin_txn(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        debug_assert_eq!(pr.txn_state, TxnClient::Ready);
        debug_assert!(pr.txn_records.is_empty() && pr.outstanding == 0);
        pr.txn_state = TxnClient::InTxn;
        pr.txn_serial += 1;
        pr.txn_failed = false;
        pr.parts.iter_mut().for_each(|q| q.added = Added::No);
        let (inc, serial, interval) = (pr.inc, pr.txn_serial, pr.transaction_interval);
        self.after(interval, Event::TxnCommitDue { producer: p, inc, serial });
        while let Some(r) = self.producers[p].backlog.pop_front() {
            let pr = &mut self.producers[p];
            let local = self.payloads.get(r).partition.local_in(pr.first_partition);
            pr.txn_records.push(r);
            let _ = self.accumulate(p, local, r);
        }
        self.try_send(p);
    }

    /// commitTransaction: flush every open batch, then EndTxn(commit) once all are acknowledged.
    pub(crate) fn on_txn_commit_due(&mut self, p: ProducerId, serial: u32) {
        let pr = &self.producers[p];
        if pr.txn_serial != serial || pr.txn_state != TxnClient::InTxn {
            return;
        }
        self.producers[p].txn_state = TxnClient::Committing;
        for local in self.producers[p].parts.ids() {
            self.close_batch(p, local);
        }
        self.try_send(p);
        self.maybe_end_txn(p);
    }

    /// abortTransaction: unsent batches are dropped; in-flight ones are
    /// awaited (a request landing after the abort marker would open a
    /// transaction nobody ends), then EndTxn(abort).
    pub(super) fn abort_txn(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        if !matches!(pr.txn_state, TxnClient::InTxn | TxnClient::Committing) {
            return;
        }
        pr.txn_state = TxnClient::Aborting;
        let mut dropped = Vec::new();
        for q in pr.parts.iter_mut() {
            dropped.extend(q.open.take());
            dropped.extend(q.queue.drain(..));
        }
        for batch in dropped {
            self.retire_batch(p, batch);
        }
        self.maybe_end_txn(p);
    }

    /// Sends EndTxn once nothing of the transaction is in flight. A fenced
    /// producer cannot end it (the coordinator already aborted it): it
    /// initializes again.
    pub(super) fn maybe_end_txn(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        let Some(txn) = pr.txn else { return };
        if !matches!(pr.txn_state, TxnClient::Committing | TxnClient::Aborting) || pr.outstanding > 0 {
            return;
        }
        if pr.fenced {
            return self.reinit_txn(p);
        }
        let commit = pr.txn_state == TxnClient::Committing && !pr.txn_failed;
        pr.txn_state = TxnClient::Ending;
        let (inc, epoch) = (pr.inc, pr.epoch);
        self.send(Node::Producer(p), Node::TxnCoordinator, EndTxn { txn, inc, epoch, commit }.into());
    }

    /// The aborted transaction's records go back in front of the backlog, in
    /// send order, for the next transaction.
    fn requeue_txn_records(&mut self, p: ProducerId) {
        let pr = &mut self.producers[p];
        for &r in pr.txn_records.iter().rev() {
            pr.backlog.push_front(r);
        }
        for i in 0..self.producers[p].txn_records.len() {
            let record = self.producers[p].txn_records[i];
            self.oracle.emit(self.now, Fact::Retry { record, producer: p, error: SendError::TxnAborted, attempt: 0 });
        }
        self.producers[p].txn_records.clear();
    }

    /// The open transaction's records go back in front of the backlog and the
    /// producer calls initTransactions again (KIP-588: a fenced or timed-out
    /// producer recovers with a bumped epoch).
    fn reinit_txn(&mut self, p: ProducerId) {
        let Some(txn) = self.producers[p].txn else { return };
        self.requeue_txn_records(p);
        let pr = &mut self.producers[p];
        pr.txn_state = TxnClient::Initializing;
        let inc = pr.inc;
        self.send(Node::Producer(p), Node::TxnCoordinator, InitProducerId { txn, inc }.into());
    }

    pub(crate) fn on_producer_init_response(&mut self, p: ProducerId, m: InitProducerIdResponse) {
        let pr = &mut self.producers[p];
        if pr.txn_state != TxnClient::Initializing {
            return;
        }
        pr.epoch = m.epoch;
        pr.fenced = false;
        pr.txn_failed = false;
        debug_assert!(pr.parts.iter().all(|q| q.unresolved.is_empty()), "nothing is outstanding");
        pr.parts.iter_mut().for_each(|q| {
            q.next_seq = 0;
            q.unresolved.clear();
        });
        pr.txn_state = TxnClient::Ready;
        if !pr.backlog.is_empty() {
            self.begin_txn(p);
        }
    }

    pub(crate) fn on_add_partitions_response(&mut self, p: ProducerId, m: AddPartitionsToTxnResponse) {
        let pr = &mut self.producers[p];
        if !matches!(pr.txn_state, TxnClient::InTxn | TxnClient::Committing) {
            return;
        }
        let local = m.partition.local_in(pr.first_partition);
        if pr.parts[local].added != Added::Pending {
            return;
        }
        if m.ok {
            pr.parts[local].added = Added::Yes;
            self.try_send(p);
        } else {
            pr.parts[local].added = Added::No;
            pr.fenced = true;
            pr.txn_failed = true;
            self.abort_txn(p);
        }
    }

    /// The coordinator ended the transaction: a commit acknowledges its
    /// records; an abort sends them again in the next transaction; a fenced
    /// producer initializes again first.
    pub(crate) fn on_producer_end_txn_response(&mut self, p: ProducerId, m: EndTxnResponse) {
        let pr = &mut self.producers[p];
        if pr.txn_state != TxnClient::Ending {
            return;
        }
        if !m.ok {
            pr.fenced = true;
            return self.reinit_txn(p);
        }
        if m.epoch != pr.epoch {
            // transaction.version 2: the next transaction has a new epoch,
            // and a new epoch starts every partition's sequence at 0.
            pr.epoch = m.epoch;
            pr.parts.iter_mut().for_each(|q| q.next_seq = 0);
        } else if !m.commit && pr.txn_failed && self.scenario.kafka_version.at_least(2, 5) {
            // KIP-360: an abort after a failed batch bumps the epoch with
            // InitProducerId before the next transaction
            // (TransactionManager.maybeTransitionToErrorState sets
            // epochBumpRequired when the broker can bump, 2.5+): the failed
            // batch's sequence numbers may have reached the log.
            return self.reinit_txn(p);
        }
        if m.commit {
            let records = std::mem::take(&mut pr.txn_records);
            for &r in &records {
                self.oracle.emit(self.now, Fact::Ack { record: r, producer: p });
            }
            let mut records = records;
            records.clear();
            self.producers[p].txn_records = records;
        } else {
            self.requeue_txn_records(p);
        }
        let pr = &mut self.producers[p];
        pr.txn_state = TxnClient::Ready;
        if !pr.backlog.is_empty() {
            self.begin_txn(p);
        }
    }
}
