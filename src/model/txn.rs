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

use crate::kernel::time::Duration;
use crate::oracle::fact::{Fact, RecordId};
use crate::world::event::{Event, Msg, Node};
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
    pub epoch: u32,
    pub commit: bool,
}

/// One transactional id's state at the coordinator.
#[derive(Clone, Debug)]
pub struct Txn {
    /// The transactional id (`transactional.id`, or `{consumer}-tx`).
    pub name: String,
    pub owner: Node,
    pub pid: u64,
    pub epoch: u32,
    pub timeout: Duration,
    pub phase: TxnPhase,
    /// Numbers this id's transactions; timers and marker replies name one.
    pub serial: u32,
    /// Global partitions with records in the open transaction.
    pub partitions: Vec<u32>,
    /// Markers of the ending transaction not yet replicated.
    pub markers_left: u32,
    /// The ending transaction's marker (index into `World::markers`).
    pub marker: u32,
    /// Consumer side: the group whose offsets it carries.
    pub group: Option<u32>,
    /// Consumer side: records whose results wait in the sink for the commit.
    pub staged: Vec<RecordId>,
    /// Consumer side: offsets sent with sendOffsetsToTransaction (partition within the topic, offset).
    pub offsets: Vec<(u32, u64)>,
    /// Consumer side: the group generation the coordinator checked those offsets against.
    pub offsets_generation: u32,
    /// The owner's EndTxn waiting for the end: (incarnation, commit asked).
    pub end_reply: Option<(u32, bool)>,
    /// An initTransactions waiting for the end: (incarnation, bump the epoch then).
    pub init_reply: Option<(u32, bool)>,
}

impl Txn {
    pub fn new(name: String, owner: Node, pid: u64, timeout: Duration, group: Option<u32>) -> Txn {
        Txn {
            name,
            owner,
            pid,
            epoch: 0,
            timeout,
            phase: TxnPhase::Empty,
            serial: 0,
            partitions: Vec::new(),
            markers_left: 0,
            marker: 0,
            group,
            staged: Vec::new(),
            offsets: Vec::new(),
            offsets_generation: 0,
            end_reply: None,
            init_reply: None,
        }
    }
}

impl World {
    /// initTransactions: a new epoch. An open transaction of the previous
    /// incarnation is aborted first (its markers carry the new epoch, so its
    /// late writes are fenced); an ending one completes first.
    pub(crate) fn on_init_producer_id(&mut self, t: u32, inc: u32) {
        let txn = &mut self.txns[t as usize];
        match txn.phase {
            TxnPhase::Empty => {
                txn.epoch += 1;
                self.reply_init(t, inc);
            }
            TxnPhase::Ongoing => {
                txn.epoch += 1;
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

    fn reply_init(&mut self, t: u32, inc: u32) {
        let txn = &self.txns[t as usize];
        let (owner, epoch) = (txn.owner, txn.epoch);
        self.oracle.emit(self.now, Fact::InitTxn { txn: t, epoch });
        self.send(Node::TxnCoordinator, owner, Msg::InitProducerIdResponse { txn: t, inc, epoch });
    }

    /// The first write of a transaction opens it and starts its timeout.
    pub(crate) fn open_txn(&mut self, t: u32) {
        let txn = &mut self.txns[t as usize];
        debug_assert_eq!(txn.phase, TxnPhase::Empty);
        txn.phase = TxnPhase::Ongoing;
        txn.serial += 1;
        let (serial, timeout) = (txn.serial, txn.timeout);
        self.after(timeout, Event::TxnTimeout { txn: t, serial });
    }

    pub(crate) fn on_add_partitions(&mut self, t: u32, inc: u32, epoch: u32, g: u32) {
        let txn = &self.txns[t as usize];
        let ok = epoch == txn.epoch && matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing);
        if ok {
            if txn.phase == TxnPhase::Empty {
                self.open_txn(t);
            }
            let txn = &mut self.txns[t as usize];
            if !txn.partitions.contains(&g) {
                txn.partitions.push(g);
            }
        }
        let owner = self.txns[t as usize].owner;
        self.send(Node::TxnCoordinator, owner, Msg::AddPartitionsToTxnResponse { txn: t, inc, partition: g, ok });
    }

    /// A consumer writes one result to its sink inside its transaction.
    /// Returns false when `epoch` is fenced (the write fails).
    pub(crate) fn stage_output(&mut self, t: u32, epoch: u32, record: RecordId) -> bool {
        let txn = &self.txns[t as usize];
        if epoch != txn.epoch || !matches!(txn.phase, TxnPhase::Empty | TxnPhase::Ongoing) {
            return false;
        }
        if txn.phase == TxnPhase::Empty {
            self.open_txn(t);
        }
        self.txns[t as usize].staged.push(record);
        true
    }

    /// EndTxn from the owner: a fenced epoch is refused; otherwise the
    /// transaction ends as asked (an empty one at once).
    pub(crate) fn on_end_txn(&mut self, t: u32, inc: u32, epoch: u32, commit: bool) {
        let txn = &mut self.txns[t as usize];
        let owner = txn.owner;
        if epoch != txn.epoch {
            let msg = Msg::EndTxnResponse { txn: t, inc, commit, ok: false };
            return self.send(Node::TxnCoordinator, owner, msg);
        }
        match txn.phase {
            TxnPhase::Empty => {
                let msg = Msg::EndTxnResponse { txn: t, inc, commit, ok: true };
                self.send(Node::TxnCoordinator, owner, msg);
            }
            TxnPhase::Ongoing => {
                txn.end_reply = Some((inc, commit));
                self.end_txn(t, commit);
            }
            // Already ending (a timeout abort raced the request): answered when done.
            TxnPhase::PrepareCommit | TxnPhase::PrepareAbort => txn.end_reply = Some((inc, commit)),
        }
    }

    /// `transaction.timeout.ms` passed with the transaction still open: abort
    /// it and bump the epoch, so the owner's next request is fenced.
    pub(crate) fn on_txn_timeout(&mut self, t: u32, serial: u32) {
        let txn = &mut self.txns[t as usize];
        if txn.serial != serial || txn.phase != TxnPhase::Ongoing {
            return;
        }
        txn.epoch += 1;
        let epoch = txn.epoch;
        self.oracle.emit(self.now, Fact::Fenced { txn: t, epoch, by_timeout: true });
        self.end_txn(t, false);
    }

    /// Phase one: the decision. Phase two: a marker to every partition.
    fn end_txn(&mut self, t: u32, commit: bool) {
        let txn = &mut self.txns[t as usize];
        txn.phase = if commit { TxnPhase::PrepareCommit } else { TxnPhase::PrepareAbort };
        let marker = self.markers.len() as u32;
        self.markers.push(Marker { pid: txn.pid, epoch: txn.epoch, commit });
        txn.marker = marker;
        txn.markers_left = txn.partitions.len() as u32;
        if txn.partitions.is_empty() {
            return self.complete_txn(t);
        }
        for i in 0..self.txns[t as usize].partitions.len() {
            let g = self.txns[t as usize].partitions[i];
            self.send_marker(t, g);
        }
    }

    fn send_marker(&mut self, t: u32, g: u32) {
        let txn = &self.txns[t as usize];
        let (serial, marker) = (txn.serial, txn.marker);
        match self.partitions[g as usize].leader_broker() {
            Some(b) => {
                let msg = Msg::WriteTxnMarker { txn: t, serial, partition: g, marker };
                self.send(Node::TxnCoordinator, Node::Broker(b), msg);
            }
            None => self.after(MARKER_RETRY, Event::TxnMarkerRetry { txn: t, serial, partition: g }),
        }
    }

    pub(crate) fn on_txn_marker_retry(&mut self, t: u32, serial: u32, g: u32) {
        let txn = &self.txns[t as usize];
        if txn.serial == serial && matches!(txn.phase, TxnPhase::PrepareCommit | TxnPhase::PrepareAbort) {
            self.send_marker(t, g);
        }
    }

    pub(crate) fn on_write_marker_response(&mut self, t: u32, serial: u32, g: u32, ok: bool) {
        let txn = &mut self.txns[t as usize];
        if txn.serial != serial || !matches!(txn.phase, TxnPhase::PrepareCommit | TxnPhase::PrepareAbort) {
            return;
        }
        if !ok {
            return self.after(MARKER_RETRY, Event::TxnMarkerRetry { txn: t, serial, partition: g });
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
    fn complete_txn(&mut self, t: u32) {
        let commit = self.txns[t as usize].phase == TxnPhase::PrepareCommit;
        let txn = &mut self.txns[t as usize];
        let staged = std::mem::take(&mut txn.staged);
        let offsets = std::mem::take(&mut txn.offsets);
        let group = txn.group;
        let parts = txn.partitions.len() as u64;
        txn.partitions.clear();
        txn.phase = TxnPhase::Empty;
        if let (Some(gi), true) = (group, commit) {
            let Node::Consumer(c) = self.txns[t as usize].owner else { unreachable!("offsets come from consumers") };
            let late_before = self.late_seen(gi);
            for &r in &staged {
                self.sink_effect(gi, r);
                self.oracle.emit(self.now, Fact::Effect { record: r, consumer: c, group: gi, txn: t });
            }
            self.note_late(gi, late_before);
            let generation = self.txns[t as usize].offsets_generation;
            for &(p, offset) in &offsets {
                self.groups[gi as usize].committed[p as usize] = Some(offset);
                let global = self.groups[gi as usize].first_partition + p;
                self.oracle.emit(self.now, Fact::Commit { consumer: c, partition: global, offset, generation });
            }
        }
        self.oracle.emit(self.now, Fact::TxnEnd { txn: t, commit, partitions: parts });
        // Hand the buffers back for the next transaction.
        let txn = &mut self.txns[t as usize];
        let (mut staged, mut offsets) = (staged, offsets);
        staged.clear();
        offsets.clear();
        txn.staged = staged;
        txn.offsets = offsets;
        let owner = txn.owner;
        if let Some((inc, asked)) = txn.end_reply.take() {
            // A commit asked for but turned into an abort (a timeout) is fenced.
            let ok = asked == commit;
            self.send(Node::TxnCoordinator, owner, Msg::EndTxnResponse { txn: t, inc, commit: asked, ok });
        }
        if let Some((inc, bump)) = self.txns[t as usize].init_reply.take() {
            if bump {
                self.txns[t as usize].epoch += 1;
            }
            self.reply_init(t, inc);
        }
    }

    /// Whether every transaction is complete (nothing open or ending).
    pub(crate) fn txns_idle(&self) -> bool {
        self.txns.iter().all(|t| t.phase == TxnPhase::Empty)
    }
}
