//! The transaction coordinator (KIP-98, KIP-447): transactional ids, their
//! epochs, and the two-phase end of a transaction.
//!
//! A client's initTransactions bumps its id's epoch, which fences every older
//! incarnation, and aborts whatever that incarnation left open. A transaction
//! ends in two phases: the coordinator records PrepareCommit (or
//! PrepareAbort), then writes a marker to every partition in it; once all are
//! replicated it is complete. Transactions open longer than
//! `transaction.timeout.ms` are aborted with a bumped epoch.
//!
//! Two kinds of client use it. A transactional producer adds partitions and
//! writes records to them. A consumer with `commit: transactional` writes its
//! results to its sink inside the transaction and its offsets with
//! sendOffsetsToTransaction; the sink and the group's offsets change only
//! when the transaction commits.

use crate::kernel::time::{Duration, Instant};
use crate::model::ids::{
    Generation, GroupId, Incarnation, LocalPartition, MarkerId, PartitionId, ProducerEpoch, RecordId, TxnId,
};
use crate::oracle::fact::Fact;
use crate::world::event::{
    AddPartitionsToTxn, AddPartitionsToTxnResponse, EndTxn, EndTxnResponse, Event, InitProducerId,
    InitProducerIdResponse, Node, WriteTxnMarker, WriteTxnMarkerResponse,
};
use crate::world::World;

/// How long the coordinator waits before writing a marker again to a
/// partition without a leader, or whose leader refused it.
const MARKER_RETRY: Duration = Duration::from_ms(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnPhase {
    /// No transaction open.
    Empty,
    Ongoing,
    /// Decided; writing markers.
    PrepareCommit,
    PrepareAbort,
}

/// A transaction's commit or abort, as written to each of its partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    pub pid: u64,
    pub epoch: ProducerEpoch,
    pub commit: bool,
}

/// One transactional id's state at the coordinator.
#[derive(Clone, Debug)]
pub struct Txn {
    /// The transactional id (`transactional.id`, or `{consumer}-tx`).
    pub name: String,
    pub owner: Node,
    pub pid: u64,
    pub epoch: ProducerEpoch,
    pub timeout: Duration,
    pub phase: TxnPhase,
    /// Numbers this id's transactions; timers and marker replies name one.
    pub serial: u32,
    /// Global partitions with records in the open transaction.
    pub partitions: Vec<PartitionId>,
    /// Markers of the ending transaction not yet replicated.
    pub markers_left: u32,
    /// The ending transaction's marker (index into `World::markers`).
    pub marker: MarkerId,
    /// Consumer side: the group whose offsets it carries.
    pub group: Option<GroupId>,
    /// Consumer side: records whose results wait in the sink for the commit.
    pub staged: Vec<RecordId>,
    /// Consumer side: offsets sent with sendOffsetsToTransaction (partition within the topic, offset).
    pub offsets: Vec<(LocalPartition, u64)>,
    /// Consumer side: the group generation the coordinator checked those offsets against.
    pub offsets_generation: Generation,
    /// The owner's EndTxn waiting for the end: (incarnation, commit asked).
    pub end_reply: Option<(Incarnation, bool)>,
    /// An initTransactions waiting for the end: (incarnation, bump the epoch then).
    pub init_reply: Option<(Incarnation, bool)>,
}

impl Txn {
    pub fn new(name: String, owner: Node, pid: u64, timeout: Duration, group: Option<GroupId>) -> Txn {
        Txn {
            name,
            owner,
            pid,
            epoch: ProducerEpoch::new(0),
            timeout,
            phase: TxnPhase::Empty,
            serial: 0,
            partitions: Vec::new(),
            markers_left: 0,
            marker: MarkerId::new(0),
            group,
            staged: Vec::new(),
            offsets: Vec::new(),
            offsets_generation: Generation::NONE,
            end_reply: None,
            init_reply: None,
        }
    }
}

impl World {
    /// initTransactions: a new epoch. An open transaction of the previous
    /// incarnation is aborted first (its markers carry the new epoch, so its
    /// late writes are fenced); an ending one completes first.
    pub(crate) fn on_init_producer_id(&mut self, m: InitProducerId) {
        let InitProducerId { txn: t, inc } = m;
        let txn = &mut self.txns[t];
        match txn.phase {
            TxnPhase::Empty => {
                txn.epoch = txn.epoch.next();
                self.reply_init(t, inc);
            }
            TxnPhase::Ongoing => {
                txn.epoch = txn.epoch.next();
                txn.init_reply = Some((inc, false));
                txn.end_reply = None;
                let epoch = txn.epoch;
                self.oracle.emit(self.now, Fact::Fenced { txn: t, epoch, by_timeout: false });
                self.end_txn(t, false);
            }
            TxnPhase::PrepareCommit | TxnPhase::PrepareAbort => {
                txn.init_reply = Some((inc, true));
                txn.end_reply = None;
            }
        }
    }

    fn reply_init(&mut self, t: TxnId, inc: Incarnation) {
        let txn = &self.txns[t];
        let (owner, epoch) = (txn.owner, txn.epoch);
        self.oracle.emit(self.now, Fact::InitTxn { txn: t, epoch });
        self.send(Node::TxnCoordinator, owner, InitProducerIdResponse { txn: t, inc, epoch }.into());
    }

    /// The first write of a transaction opens it and starts its timeout.
    /// The coordinator aborts expired transactions from a periodic task,
    /// every `transaction.abort.timed.out.transaction.cleanup.interval.ms`
    /// from its startup (TransactionCoordinator.startup schedules
    /// abortTimedOutTransactions), and a transaction has expired once
    /// `txnStartTimestamp + txnTimeoutMs < now`
    /// (TransactionStateManager.timedOutTransactions): its abort comes at
    /// the first run strictly after the expiry, up to one interval late.
    pub(crate) fn open_txn(&mut self, t: TxnId) {
        let txn = &mut self.txns[t];
        debug_assert_eq!(txn.phase, TxnPhase::Empty);
        txn.phase = TxnPhase::Ongoing;
        txn.serial += 1;
        let (serial, timeout) = (txn.serial, txn.timeout);
        let interval = self.scenario.broker_config.txn_abort_cleanup_interval.us().max(1);
        let expiry = self.now.add(timeout).us();
        let run = Instant((expiry / interval + 1).saturating_mul(interval));
        self.at(run, Event::TxnTimeout { txn: t, serial });
    }

    pub(crate) fn on_add_partitions(&mut self, m: AddPartitionsToTxn) {
        let AddPartitionsToTxn { txn: t, inc, epoch, partition } = m;
        let txn = &self.txns[t];
        let ok = epoch == txn.epoch && matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing);
        if ok {
            if txn.phase == TxnPhase::Empty {
                self.open_txn(t);
            }
            let txn = &mut self.txns[t];
            if !txn.partitions.contains(&partition) {
                txn.partitions.push(partition);
            }
        }
        let owner = self.txns[t].owner;
        let msg = AddPartitionsToTxnResponse { txn: t, inc, partition, ok };
        self.send(Node::TxnCoordinator, owner, msg.into());
    }

    /// A consumer writes one result to its sink inside its transaction.
    /// Returns false when `epoch` is fenced (the write fails).
    pub(crate) fn stage_output(&mut self, t: TxnId, epoch: ProducerEpoch, record: RecordId) -> bool {
        let txn = &self.txns[t];
        if epoch != txn.epoch || !matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing) {
            return false;
        }
        if txn.phase == TxnPhase::Empty {
            self.open_txn(t);
        }
        self.txns[t].staged.push(record);
        true
    }

    /// EndTxn from the owner: a fenced epoch is refused; otherwise the
    /// transaction ends as asked (an empty one at once).
    pub(crate) fn on_end_txn(&mut self, m: EndTxn) {
        let EndTxn { txn: t, inc, epoch, commit } = m;
        let txn = &mut self.txns[t];
        let owner = txn.owner;
        if epoch != txn.epoch {
            let msg = EndTxnResponse { txn: t, inc, commit, ok: false, epoch: txn.epoch };
            return self.send(Node::TxnCoordinator, owner, msg.into());
        }
        match txn.phase {
            TxnPhase::Empty => {
                let msg = EndTxnResponse { txn: t, inc, commit, ok: true, epoch };
                self.send(Node::TxnCoordinator, owner, msg.into());
            }
            TxnPhase::Ongoing => {
                txn.end_reply = Some((inc, commit));
                // KIP-890 part 2: every commit and abort bumps the epoch, and
                // the markers carry the new one, so a write of this
                // transaction that arrives after its marker is fenced
                // (ProducerAppendInfo.checkProducerEpoch) instead of joining
                // the next transaction (TransactionVersion.supportsEpochBump).
                if self.scenario.broker_config.transaction_version >= 2 {
                    txn.epoch = txn.epoch.next();
                }
                self.end_txn(t, commit);
            }
            // Already ending (a timeout abort raced the request): answered when done.
            TxnPhase::PrepareCommit | TxnPhase::PrepareAbort => txn.end_reply = Some((inc, commit)),
        }
    }

    /// `transaction.timeout.ms` passed with the transaction still open: abort
    /// it and bump the epoch, so the owner's next request is fenced.
    pub(crate) fn on_txn_timeout(&mut self, t: TxnId, serial: u32) {
        let txn = &mut self.txns[t];
        if txn.serial != serial || txn.phase != TxnPhase::Ongoing {
            return;
        }
        txn.epoch = txn.epoch.next();
        let epoch = txn.epoch;
        self.oracle.emit(self.now, Fact::Fenced { txn: t, epoch, by_timeout: true });
        self.end_txn(t, false);
    }

    /// Phase one: the decision. Phase two: a marker to every partition.
    fn end_txn(&mut self, t: TxnId, commit: bool) {
        let txn = &mut self.txns[t];
        txn.phase = if commit { TxnPhase::PrepareCommit } else { TxnPhase::PrepareAbort };
        txn.marker = self.markers.push(Marker { pid: txn.pid, epoch: txn.epoch, commit });
        txn.markers_left = txn.partitions.len() as u32;
        if txn.partitions.is_empty() {
            return self.complete_txn(t);
        }
        for i in 0..self.txns[t].partitions.len() {
            let partition = self.txns[t].partitions[i];
            self.send_marker(t, partition);
        }
    }

    fn send_marker(&mut self, t: TxnId, partition: PartitionId) {
        let txn = &self.txns[t];
        let (serial, marker) = (txn.serial, txn.marker);
        match self.partitions[partition].leader_broker() {
            Some(b) => {
                let msg = WriteTxnMarker { txn: t, serial, partition, marker };
                self.send(Node::TxnCoordinator, Node::Broker(b), msg.into());
            }
            None => self.after(MARKER_RETRY, Event::TxnMarkerRetry { txn: t, serial, partition }),
        }
    }

    pub(crate) fn on_txn_marker_retry(&mut self, t: TxnId, serial: u32, partition: PartitionId) {
        let txn = &self.txns[t];
        if txn.serial == serial && matches!(txn.phase, TxnPhase::PrepareCommit | TxnPhase::PrepareAbort) {
            self.send_marker(t, partition);
        }
    }

    pub(crate) fn on_write_marker_response(&mut self, m: WriteTxnMarkerResponse) {
        let WriteTxnMarkerResponse { txn: t, serial, partition, ok } = m;
        let txn = &mut self.txns[t];
        if txn.serial != serial || !matches!(txn.phase, TxnPhase::PrepareCommit | TxnPhase::PrepareAbort) {
            return;
        }
        if !ok {
            return self.after(MARKER_RETRY, Event::TxnMarkerRetry { txn: t, serial, partition });
        }
        debug_assert!(txn.markers_left > 0);
        txn.markers_left -= 1;
        if txn.markers_left == 0 {
            self.complete_txn(t);
        }
    }

    /// Every marker is written: the transaction is complete. A consumer's
    /// staged results reach its sink and its offsets are committed, together;
    /// on abort both are dropped.
    fn complete_txn(&mut self, t: TxnId) {
        let commit = self.txns[t].phase == TxnPhase::PrepareCommit;
        let txn = &mut self.txns[t];
        let staged = std::mem::take(&mut txn.staged);
        let offsets = std::mem::take(&mut txn.offsets);
        let group = txn.group;
        let parts = txn.partitions.len() as u64;
        txn.partitions.clear();
        txn.phase = TxnPhase::Empty;
        if let (Some(group), true) = (group, commit) {
            self.apply_committed_txn(t, group, &staged, &offsets);
        }
        self.oracle.emit(self.now, Fact::TxnEnd { txn: t, commit, partitions: parts });
        // Hand the buffers back for the next transaction.
        let txn = &mut self.txns[t];
        let (mut staged, mut offsets) = (staged, offsets);
        staged.clear();
        offsets.clear();
        txn.staged = staged;
        txn.offsets = offsets;
        let owner = txn.owner;
        if let Some((inc, asked)) = txn.end_reply.take() {
            // A commit asked for but turned into an abort (a timeout) is fenced.
            let ok = asked == commit;
            let msg = EndTxnResponse { txn: t, inc, commit: asked, ok, epoch: txn.epoch };
            self.send(Node::TxnCoordinator, owner, msg.into());
        }
        if let Some((inc, bump)) = self.txns[t].init_reply.take() {
            if bump {
                self.txns[t].epoch = self.txns[t].epoch.next();
            }
            self.reply_init(t, inc);
        }
    }

    /// A consumer's transaction committed: its staged results reach the
    /// sink of `group` and its offsets become the group's committed ones.
    fn apply_committed_txn(
        &mut self,
        t: TxnId,
        group: GroupId,
        staged: &[RecordId],
        offsets: &[(LocalPartition, u64)],
    ) {
        let Node::Consumer(c) = self.txns[t].owner else { unreachable!("offsets come from consumers") };
        let late_before = self.late_seen(group);
        for &r in staged {
            self.sink_effect(group, r);
            self.oracle.emit(self.now, Fact::Effect { record: r, consumer: c, group, txn: t });
        }
        self.note_late(group, late_before);
        let generation = self.txns[t].offsets_generation;
        for &(local, offset) in offsets {
            self.groups[group].committed[local] = Some(offset);
            let partition = self.groups[group].first_partition.at(local);
            self.oracle.emit(self.now, Fact::Commit { consumer: c, partition, offset, generation });
        }
    }

    /// Whether every transaction is complete (nothing open or ending).
    pub(crate) fn txns_idle(&self) -> bool {
        self.txns.iter().all(|t| t.phase == TxnPhase::Empty)
    }
}
