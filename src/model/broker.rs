//! Brokers and partitions: replica logs, leaders, the ISR, the high watermark,
//! follower replication by fetch, and the controller's elections.
//!
//! Each partition keeps one log per replica. The leader appends produce
//! requests; followers copy its log by fetching; the high watermark is the
//! smallest log end offset in the ISR; consumers read only below it.

use std::collections::VecDeque;

use crate::kernel::time::{Duration, Instant};
use crate::model::producer::NO_SEQ;
use crate::oracle::fact::{Fact, RecordId};
use crate::scenario::{Acks, TopicSpec};
use crate::world::event::{Event, FetchError, Msg, Node, ProduceError};
use crate::world::World;

/// `replica.fetch.backoff.ms`: a follower whose fetch failed waits this long.
const REPLICA_FETCH_BACKOFF: Duration = Duration::from_ms(1_000);
/// `replica.socket.timeout.ms`: a follower fetch unanswered this long is sent again.
const REPLICA_SOCKET_TIMEOUT: Duration = Duration::from_ms(30_000);
/// Most entries one follower fetch copies (about `replica.fetch.max.bytes` of small records).
const REPLICA_FETCH_MAX: u64 = 10_000;

#[derive(Clone, Debug)]
pub struct Broker {
    pub up: bool,
    pub inc: u32,
    /// The controller's view: fenced brokers lead nothing and are in no ISR.
    pub fenced: bool,
}

impl Broker {
    pub fn new() -> Broker {
        Broker { up: true, inc: 0, fenced: false }
    }
}

impl Default for Broker {
    fn default() -> Self {
        Self::new()
    }
}

/// A log entry whose `record` has this bit set is a transaction's control
/// marker (commit or abort); the rest is an index into `World::markers`.
/// Markers take offsets like records but no consumer ever returns them.
pub const CONTROL: u32 = 1 << 31;

/// One entry in a replica's log, stamped with the leader epoch it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// A record id, or `CONTROL | marker`.
    pub record: RecordId,
    pub epoch: u32,
    /// The batch header's producer identity: an index into the partition's
    /// `headers`, or `NO_HEADER` for a record sent without idempotence.
    pub header: u32,
    /// The record's sequence number (the batch's base sequence plus its
    /// place in the batch), or `NO_SEQ`.
    pub seq: u32,
    /// First entry of a produce batch (the batch header Kafka keeps in the
    /// log): a new leader rebuilds the idempotence window from these.
    pub batch_start: bool,
}

/// A log entry without a producer identity (no idempotence, or a marker).
pub const NO_HEADER: u32 = u32::MAX;

/// The producer identity a batch header carries, as Kafka's RecordBatch
/// does: the log, not anybody's memory, tells a new leader who wrote what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub pid: u64,
    /// Producer epoch.
    pub epoch: u32,
    /// Written inside a transaction.
    pub txn: bool,
}

impl LogEntry {
    pub fn is_control(&self) -> bool {
        self.record & CONTROL != 0
    }
    /// The marker index of a control entry.
    pub fn marker(&self) -> u32 {
        debug_assert!(self.is_control());
        self.record & !CONTROL
    }
}

/// How many of a producer's latest batches a partition remembers to detect
/// retried duplicates (Kafka's ProducerStateEntry keeps 5).
pub const DEDUP_BATCHES: usize = 5;

/// The leader's idempotence state for one producer id (Kafka's ProducerStateEntry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerState {
    pub pid: u64,
    pub epoch: u32,
    /// (first sequence, last sequence, first offset) of the latest batches, oldest first.
    pub batches: [(u32, u32, u64); DEDUP_BATCHES],
    pub len: u8,
}

/// The idempotence state of `pid` among a partition's, created at `epoch` if new.
fn state_of(states: &mut Vec<ProducerState>, pid: u64, epoch: u32) -> &mut ProducerState {
    let i = match states.iter().position(|s| s.pid == pid) {
        Some(i) => i,
        None => {
            states.push(ProducerState::new(pid, epoch));
            states.len() - 1
        }
    };
    &mut states[i]
}

impl ProducerState {
    pub fn new(pid: u64, epoch: u32) -> ProducerState {
        ProducerState { pid, epoch, batches: [(0, 0, 0); DEDUP_BATCHES], len: 0 }
    }
    /// The last sequence appended in this epoch, if any.
    pub fn last_seq(&self) -> Option<u32> {
        (self.len > 0).then(|| self.batches[self.len as usize - 1].1)
    }
    /// A batch identical to one of the remembered ones: its first offset.
    pub fn duplicate_of(&self, first: u32, last: u32) -> Option<u64> {
        self.batches[..self.len as usize].iter().find(|b| b.0 == first && b.1 == last).map(|b| b.2)
    }
    pub fn push(&mut self, first: u32, last: u32, offset: u64) {
        if self.len as usize == DEDUP_BATCHES {
            self.batches.copy_within(1.., 0);
            self.len -= 1;
        }
        self.batches[self.len as usize] = (first, last, offset);
        self.len += 1;
    }
    /// A newer epoch starts again from sequence 0.
    pub fn bump(&mut self, epoch: u32) {
        if epoch > self.epoch {
            self.epoch = epoch;
            self.len = 0;
        }
    }
}

/// Decides, for a fetch, whether transactional records belong to aborted
/// transactions: the first marker of the record's producer after it in the
/// log says. Remembers the last few markers found, so a fetch scans ahead
/// about once per transaction rather than once per record.
#[derive(Default)]
pub struct TxnFates {
    /// (producer id, marker offset, aborted) of recently found markers.
    seen: [(u64, u64, bool); 4],
    len: usize,
    next: usize,
}

impl TxnFates {
    /// Whether `record`, at `offset` of `log`, was written by a transaction
    /// that aborted. A record whose marker is not in the log yet counts as
    /// not aborted (read_committed never reads that far: the LSO stops it).
    pub fn aborted(
        &mut self,
        log: &[LogEntry],
        offset: u64,
        headers: &[BatchHeader],
        markers: &[crate::model::txn::Marker],
    ) -> bool {
        let e = log[offset as usize];
        if e.is_control() || e.header == NO_HEADER {
            return false;
        }
        let BatchHeader { pid, txn: true, .. } = headers[e.header as usize] else {
            return false;
        };
        if let Some(&(_, _, aborted)) = self.seen[..self.len].iter().find(|s| s.0 == pid && s.1 > offset) {
            return aborted;
        }
        for o in offset + 1..log.len() as u64 {
            let e = log[o as usize];
            if e.is_control() && markers[e.marker() as usize].pid == pid {
                let aborted = !markers[e.marker() as usize].commit;
                self.seen[self.next] = (pid, o, aborted);
                self.next = (self.next + 1) % self.seen.len();
                self.len = (self.len + 1).min(self.seen.len());
                return aborted;
            }
        }
        false
    }
}

/// A token bucket refilled continuously in virtual time, holding at most one
/// second of its rate (integer micro-units, so no float touches the clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Units per second.
    pub rate: u64,
    /// Available units × 1,000,000.
    micro: u64,
    last: Instant,
}

impl Bucket {
    pub fn new(rate: u64) -> Bucket {
        Bucket { rate, micro: rate * 1_000_000, last: Instant::ZERO }
    }
    fn refill(&mut self, now: Instant) {
        let elapsed = now.since(self.last.min(now)).us();
        self.micro = self.micro.saturating_add(elapsed.saturating_mul(self.rate)).min(self.rate * 1_000_000);
        self.last = now;
    }
    /// Whole units available now.
    pub fn available(&mut self, now: Instant) -> u64 {
        self.refill(now);
        self.micro / 1_000_000
    }
    pub fn take(&mut self, now: Instant, n: u64) -> bool {
        self.refill(now);
        if self.micro < n * 1_000_000 {
            return false;
        }
        self.micro -= n * 1_000_000;
        true
    }
}

/// Amazon Kinesis Data Streams' per-shard limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardLimits {
    pub write_records: Bucket,
    pub write_bytes: Bucket,
    pub read_calls: Bucket,
    pub read_bytes: Bucket,
}

impl ShardLimits {
    /// 1000 records/s or 1 MiB/s of writes; 5 GetRecords calls/s and 2 MiB/s of reads.
    pub fn kinesis() -> ShardLimits {
        ShardLimits {
            write_records: Bucket::new(1_000),
            write_bytes: Bucket::new(1 << 20),
            read_calls: Bucket::new(5),
            read_bytes: Bucket::new(2 << 20),
        }
    }
}

/// A transaction with records in this partition that is not yet stable: no
/// marker, or a marker not yet below the high watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenTxn {
    pub pid: u64,
    pub first: u64,
    pub marker: Option<u64>,
}

/// One replica of a partition, on one broker.
#[derive(Clone, Debug)]
pub struct Replica {
    pub broker: u32,
    pub log: Vec<LogEntry>,
    /// This replica's high watermark (the leader's is authoritative).
    pub hw: u64,
    /// Leader epoch cache: (epoch, start offset), ascending.
    pub epochs: Vec<(u32, u64)>,
    /// Current follower fetch loop; a new loop bumps it so stale replies are ignored.
    pub fetch_token: u32,
    /// The leader's view of this follower: its log end offset as of its last fetch.
    pub leo_seen: u64,
    pub last_caught_up: Instant,
    pub last_fetch_leader_leo: u64,
    pub last_fetch_at: Instant,
    /// A fetch of this follower parked at the leader, waiting for data.
    pub parked: Option<u32>,
    /// Fetches this follower has sent (names the one a timeout is about).
    pub fetches_sent: u32,
}

impl Replica {
    pub fn leo(&self) -> u64 {
        self.log.len() as u64
    }
    pub fn last_epoch(&self) -> u32 {
        self.log.last().map_or(0, |e| e.epoch)
    }
    /// Kafka's `endOffsetForEpoch`: the end of the largest epoch <= `epoch` in this log.
    pub fn end_offset_for_epoch(&self, epoch: u32) -> u64 {
        let mut end = None;
        for (i, &(e, _)) in self.epochs.iter().enumerate() {
            if e <= epoch {
                end = Some(self.epochs.get(i + 1).map_or(self.leo(), |&(_, start)| start));
            }
        }
        end.unwrap_or(0)
    }
    fn truncate(&mut self, to: u64) {
        self.log.truncate(to as usize);
        self.hw = self.hw.min(to);
        while self.epochs.last().is_some_and(|&(_, start)| start >= to && start > 0) {
            self.epochs.pop();
        }
    }
    fn note_epoch(&mut self, epoch: u32, offset: u64) {
        if self.epochs.last().is_none_or(|&(e, _)| e < epoch) {
            self.epochs.push((epoch, offset));
        }
    }
}

/// Who waits for the high watermark: an acks=all produce request, or the
/// transaction coordinator's marker write (markers are written with acks=all).
#[derive(Clone, Copy, Debug)]
pub enum Waiter {
    Produce { p: u32, inc: u32, batch: u32, req: u64, base: u64 },
    Marker { txn: u32, serial: u32 },
}

/// A write waiting for the high watermark to reach `need`.
#[derive(Clone, Copy, Debug)]
pub struct PendingAck {
    pub need: u64,
    pub waiter: Waiter,
}

/// A consumer fetch parked at the leader until data is readable.
#[derive(Clone, Copy, Debug)]
pub struct ParkedFetch {
    pub c: u32,
    pub inc: u32,
    pub offset: u64,
    pub token: u32,
}

#[derive(Clone, Debug)]
pub struct Partition {
    pub topic: u32,
    pub index: u32,
    /// In preference order; the first live in-sync one leads.
    pub replicas: Vec<Replica>,
    /// Index into `replicas`; `None` while the partition is offline.
    pub leader: Option<usize>,
    pub leader_epoch: u32,
    /// Bit `i` set = `replicas[i]` is in the ISR.
    pub isr: u64,
    pub min_insync_replicas: u32,
    pub unclean_leader_election: bool,
    pub replica_lag_time_max: Duration,
    pub pending_acks: VecDeque<PendingAck>,
    pub parked_fetches: Vec<ParkedFetch>,
    /// The leader's idempotence state, per producer id.
    pub producer_states: Vec<ProducerState>,
    /// Transactions not yet stable here; the first bounds the last stable offset.
    pub open_txns: Vec<OpenTxn>,
    /// Producer identities of the batch headers in this partition's logs
    /// (entries point here; every replica's copy of a batch keeps its header).
    pub headers: Vec<BatchHeader>,
    /// `platform: kinesis`: the shard's throughput limits.
    pub limits: Option<ShardLimits>,
}

impl Partition {
    /// The index of `h` among the partition's batch headers, added if new
    /// (a handful per producer: one per producer id and epoch).
    pub fn header_index(&mut self, h: BatchHeader) -> u32 {
        match self.headers.iter().rposition(|x| *x == h) {
            Some(i) => i as u32,
            None => {
                self.headers.push(h);
                (self.headers.len() - 1) as u32
            }
        }
    }

    /// Replicas of partition `p` sit on brokers `p, p+1, ...` (mod brokers), as
    /// Kafka's round-robin placement does for a cluster without racks.
    pub fn new(topic: u32, index: u32, spec: &TopicSpec, brokers: u32) -> Partition {
        let replicas: Vec<Replica> = (0..spec.replication_factor)
            .map(|i| Replica {
                broker: (index + i) % brokers,
                log: Vec::new(),
                hw: 0,
                epochs: vec![(0, 0)],
                fetch_token: 0,
                leo_seen: 0,
                last_caught_up: Instant::ZERO,
                last_fetch_leader_leo: 0,
                last_fetch_at: Instant::ZERO,
                parked: None,
                fetches_sent: 0,
            })
            .collect();
        debug_assert!(replicas.len() <= 64, "the ISR is a 64-bit mask");
        let isr = if replicas.len() == 64 { u64::MAX } else { (1u64 << replicas.len()) - 1 };
        Partition {
            topic,
            index,
            replicas,
            leader: Some(0),
            leader_epoch: 0,
            isr,
            min_insync_replicas: spec.config.min_insync_replicas,
            unclean_leader_election: spec.config.unclean_leader_election_enable,
            replica_lag_time_max: spec.config.replica_lag_time_max,
            pending_acks: VecDeque::new(),
            parked_fetches: Vec::new(),
            producer_states: Vec::new(),
            headers: Vec::new(),
            open_txns: Vec::new(),
            limits: None,
        }
    }

    pub fn in_isr(&self, r: usize) -> bool {
        self.isr & (1 << r) != 0
    }
    pub fn isr_size(&self) -> u32 {
        self.isr.count_ones()
    }
    pub fn leader_broker(&self) -> Option<u32> {
        self.leader.map(|r| self.replicas[r].broker)
    }
    /// The high watermark consumers see: the leader's, or the best any replica knows.
    pub fn high_watermark(&self) -> u64 {
        match self.leader {
            Some(r) => self.replicas[r].hw,
            None => self.replicas.iter().map(|r| r.hw).max().unwrap_or(0),
        }
    }
    /// The last stable offset: read_committed consumers read below it. The
    /// high watermark, or the first offset of the earliest transaction that is
    /// open or whose marker is not yet replicated.
    pub fn last_stable_offset(&self) -> u64 {
        let hw = self.high_watermark();
        self.open_txns.iter().filter(|t| t.marker.is_none_or(|m| m >= hw)).map(|t| t.first).fold(hw, u64::min)
    }
    pub fn log_end_offset(&self) -> u64 {
        match self.leader {
            Some(r) => self.replicas[r].leo(),
            None => self.replicas.iter().map(|r| r.leo()).max().unwrap_or(0),
        }
    }
    /// Nothing left to replicate: every in-sync replica holds the leader's whole log.
    pub fn is_settled(&self) -> bool {
        match self.leader {
            Some(l) => self.replicas[l].hw == self.replicas[l].leo() && self.pending_acks.is_empty(),
            None => true,
        }
    }
    fn replica_on(&self, broker: u32) -> Option<usize> {
        self.replicas.iter().position(|r| r.broker == broker)
    }
    fn isr_mask_of_brokers(&self) -> u64 {
        let mut m = 0;
        for (i, r) in self.replicas.iter().enumerate() {
            if self.in_isr(i) {
                m |= 1 << r.broker.min(63);
            }
        }
        m
    }
}

impl World {
    /// At start every partition is led by its first replica; followers begin fetching.
    pub(crate) fn start_partition(&mut self, g: u32) {
        let n = self.partitions[g as usize].replicas.len();
        for r in 1..n {
            self.start_follower(g, r);
        }
    }

    /// (Re)starts replica `r`'s fetch loop against the current leader.
    pub(crate) fn start_follower(&mut self, g: u32, r: usize) {
        let part = &mut self.partitions[g as usize];
        let rep = &mut part.replicas[r];
        rep.fetch_token = rep.fetch_token.wrapping_add(1);
        let Some(l) = part.leader else { return };
        if l == r || !self.brokers[rep.broker as usize].up {
            return;
        }
        self.send_replica_fetch(g, r);
    }

    fn send_replica_fetch(&mut self, g: u32, r: usize) {
        let part = &self.partitions[g as usize];
        let Some(leader) = part.leader_broker() else { return };
        let rep = &part.replicas[r];
        let msg = Msg::ReplicaFetch {
            partition: g,
            replica: r as u32,
            token: rep.fetch_token,
            offset: rep.leo(),
            last_epoch: rep.last_epoch(),
        };
        let (broker, token) = (rep.broker, rep.fetch_token);
        self.send(Node::Broker(broker), Node::Broker(leader), msg);
        let rep = &mut self.partitions[g as usize].replicas[r];
        rep.fetches_sent = rep.fetches_sent.wrapping_add(1);
        if self.lossy {
            let sent = rep.fetches_sent;
            self.after(
                REPLICA_SOCKET_TIMEOUT,
                Event::ReplicaFetchTimeout { partition: g, replica: r as u32, token, sent },
            );
        }
    }

    /// No answer to a follower's fetch (a network partition ate it): start over.
    pub(crate) fn on_replica_fetch_timeout(&mut self, g: u32, r: u32, token: u32, sent: u32) {
        let rep = &self.partitions[g as usize].replicas[r as usize];
        if rep.fetch_token == token && rep.fetches_sent == sent && self.brokers[rep.broker as usize].up {
            self.start_follower(g, r as usize);
        }
    }

    /// The leader appends a producer's batch (or refuses it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_produce(&mut self, b: u32, p: u32, inc: u32, batch: u32, req: u64, g: u32, acks: Acks) {
        let reply = |w: &mut World, result| {
            if acks != Acks::Zero {
                let msg = Msg::ProduceResponse { p, inc, batch, req, result };
                w.send(Node::Broker(b), Node::Producer(p), msg);
            }
        };
        let part = &self.partitions[g as usize];
        if part.leader_broker() != Some(b) {
            self.release_batch_ref(batch);
            return reply(self, Err(ProduceError::NotLeader));
        }
        if acks == Acks::All && part.isr_size() < part.min_insync_replicas {
            self.release_batch_ref(batch);
            return reply(self, Err(ProduceError::NotEnoughReplicas));
        }
        if part.limits.is_some() {
            let (n, bytes) = {
                let bt = &self.batches[batch as usize];
                (bt.records.len() as u64, bt.bytes)
            };
            let now = self.now;
            let lim = self.partitions[g as usize].limits.as_mut().expect("checked");
            let fits = lim.write_records.available(now) >= n && lim.write_bytes.available(now) >= bytes;
            if !fits {
                // ProvisionedThroughputExceededException: the client backs off and retries.
                self.oracle.emit(self.now, Fact::Throttled);
                self.release_batch_ref(batch);
                return reply(self, Err(ProduceError::Throttled));
            }
            lim.write_records.take(now, n);
            lim.write_bytes.take(now, bytes);
        }
        let part = &self.partitions[g as usize];
        let l = part.leader.expect("checked above");
        let (pid, epoch, base_seq, count, txn) = {
            let bt = &self.batches[batch as usize];
            (bt.pid, bt.epoch, bt.base_seq, bt.records.len() as u32, bt.txn)
        };
        if base_seq != NO_SEQ {
            // Kafka's ProducerAppendInfo: fence older epochs, start a newer
            // epoch at sequence 0, acknowledge a retry of one of the last five
            // batches without appending it, and refuse any gap.
            let last_seq = base_seq + count - 1;
            let state = part.producer_states.iter().find(|s| s.pid == pid);
            let verdict = match state {
                Some(s) if epoch < s.epoch => Err(ProduceError::ProducerFenced),
                Some(s) if epoch == s.epoch => match (s.duplicate_of(base_seq, last_seq), s.last_seq()) {
                    (Some(offset), _) => Ok(Some(offset)),
                    (None, Some(last)) if base_seq == last.wrapping_add(1) => Ok(None),
                    (None, None) if base_seq == 0 => Ok(None),
                    _ => Err(ProduceError::OutOfOrderSequence),
                },
                _ if base_seq == 0 => Ok(None),
                _ => Err(ProduceError::OutOfOrderSequence),
            };
            match verdict {
                Ok(None) => {}
                Ok(Some(offset)) => {
                    // A retry of a batch already in the log: acknowledged, not appended again.
                    self.release_batch_ref(batch);
                    return reply(self, Ok(offset));
                }
                Err(e) => {
                    self.release_batch_ref(batch);
                    return reply(self, Err(e));
                }
            }
        }
        // Append, each entry under the batch's header.
        let leader_epoch = self.partitions[g as usize].leader_epoch;
        let base = self.partitions[g as usize].replicas[l].leo();
        let header = match base_seq {
            NO_SEQ => NO_HEADER,
            _ => self.partitions[g as usize].header_index(BatchHeader { pid, epoch, txn }),
        };
        for i in 0..count as usize {
            let record = self.batches[batch as usize].records[i];
            let part = &mut self.partitions[g as usize];
            let offset = part.replicas[l].leo();
            let seq = if base_seq == NO_SEQ { NO_SEQ } else { base_seq + i as u32 };
            part.replicas[l].log.push(LogEntry { record, epoch: leader_epoch, header, seq, batch_start: i == 0 });
            self.oracle.emit(self.now, Fact::Append { record, partition: g, offset, broker: b });
        }
        self.release_batch_ref(batch);
        let part = &mut self.partitions[g as usize];
        if base_seq != NO_SEQ {
            let last = base_seq + count - 1;
            let state = state_of(&mut part.producer_states, pid, epoch);
            state.bump(epoch);
            state.push(base_seq, last, base);
        }
        if txn && !part.open_txns.iter().any(|t| t.pid == pid && t.marker.is_none()) {
            part.open_txns.push(OpenTxn { pid, first: base, marker: None });
        }
        let end = part.replicas[l].leo();
        match acks {
            Acks::Zero => {}
            Acks::One => reply(self, Ok(base)),
            Acks::All => {
                let part = &mut self.partitions[g as usize];
                let waiter = Waiter::Produce { p, inc, batch, req, base };
                part.pending_acks.push_back(PendingAck { need: end, waiter });
            }
        }
        self.wake_parked_followers(g);
        self.advance_hw(g);
    }

    /// The transaction coordinator's WriteTxnMarkers at the leader of `g`: a
    /// commit or abort marker takes the next offset, closes the producer's
    /// open transaction here and fences its older epochs. Answered once the
    /// marker is replicated (the coordinator writes with acks=all).
    pub(crate) fn on_write_marker(&mut self, b: u32, txn: u32, serial: u32, g: u32, marker: u32) {
        let part = &self.partitions[g as usize];
        let refuse = part.leader_broker() != Some(b) || part.isr_size() < part.min_insync_replicas;
        if refuse {
            let msg = Msg::WriteTxnMarkerResponse { txn, serial, partition: g, ok: false };
            return self.send(Node::Broker(b), Node::TxnCoordinator, msg);
        }
        let l = part.leader.expect("checked above");
        let m = self.markers[marker as usize];
        let epoch = part.leader_epoch;
        let part = &mut self.partitions[g as usize];
        let offset = part.replicas[l].leo();
        let entry = LogEntry { record: CONTROL | marker, epoch, header: NO_HEADER, seq: NO_SEQ, batch_start: true };
        part.replicas[l].log.push(entry);
        state_of(&mut part.producer_states, m.pid, m.epoch).bump(m.epoch);
        if let Some(t) = part.open_txns.iter_mut().find(|t| t.pid == m.pid && t.marker.is_none()) {
            t.marker = Some(offset);
        }
        part.pending_acks.push_back(PendingAck { need: offset + 1, waiter: Waiter::Marker { txn, serial } });
        self.oracle.emit(self.now, Fact::Marker { partition: g, offset, commit: m.commit, txn });
        self.wake_parked_followers(g);
        self.advance_hw(g);
    }

    /// Answers every follower fetch parked at the leader of `g` (new data arrived).
    fn wake_parked_followers(&mut self, g: u32) {
        let n = self.partitions[g as usize].replicas.len();
        for r in 0..n {
            if let Some(token) = self.partitions[g as usize].replicas[r].parked.take() {
                self.answer_replica_fetch(g, r, token);
            }
        }
    }

    /// The leader sends follower `r` what it has past the follower's log end.
    fn answer_replica_fetch(&mut self, g: u32, r: usize, token: u32) {
        let part = &self.partitions[g as usize];
        let Some(l) = part.leader else { return };
        let leader = &part.replicas[l];
        let from = part.replicas[r].leo_seen;
        let to = leader.leo().min(from + REPLICA_FETCH_MAX);
        let last_entry_epoch = if to > 0 { leader.log[to as usize - 1].epoch } else { 0 };
        let msg = Msg::ReplicaFetchResponse {
            partition: g,
            replica: r as u32,
            token,
            from,
            to,
            last_entry_epoch,
            leader_hw: leader.hw,
            truncate_to: None,
            ok: true,
        };
        let (lb, fb) = (leader.broker, part.replicas[r].broker);
        self.send(Node::Broker(lb), Node::Broker(fb), msg);
    }

    /// A follower's fetch reaches the leader: it tells the leader how far the
    /// follower got, which may move the ISR and the high watermark.
    pub(crate) fn on_replica_fetch(&mut self, b: u32, g: u32, r: u32, token: u32, offset: u64, last_epoch: u32) {
        let r = r as usize;
        let now = self.now;
        let part = &mut self.partitions[g as usize];
        let follower_broker = part.replicas[r].broker;
        let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else {
            let msg = Msg::replica_fetch_failed(g, r as u32, token, offset);
            return self.send(Node::Broker(b), Node::Broker(follower_broker), msg);
        };
        // Divergence (KIP-101/279): the follower's last epoch ends earlier on the leader.
        let leader_leo = part.replicas[l].leo();
        let diverged_at = part.replicas[l].end_offset_for_epoch(last_epoch).min(leader_leo);
        if offset > diverged_at {
            let msg = Msg::ReplicaFetchResponse {
                partition: g,
                replica: r as u32,
                token,
                from: offset,
                to: offset,
                last_entry_epoch: 0,
                leader_hw: part.replicas[l].hw,
                truncate_to: Some(diverged_at),
                ok: true,
            };
            return self.send(Node::Broker(b), Node::Broker(follower_broker), msg);
        }
        // Follower progress, as Kafka's `Replica.updateFetchState` tracks it.
        let rep = &mut part.replicas[r];
        rep.leo_seen = offset;
        if offset >= leader_leo {
            rep.last_caught_up = now;
        } else if offset >= rep.last_fetch_leader_leo {
            rep.last_caught_up = rep.last_caught_up.max(rep.last_fetch_at);
        }
        rep.last_fetch_leader_leo = leader_leo;
        rep.last_fetch_at = now;
        // ISR expansion: a follower that reached the high watermark in this epoch rejoins.
        let epoch_start = part.replicas[l].epochs.last().map_or(0, |&(_, s)| s);
        if !part.in_isr(r) && offset >= part.replicas[l].hw && offset >= epoch_start {
            part.isr |= 1 << r;
            let (mask, hw) = (part.isr_mask_of_brokers(), part.replicas[l].hw);
            self.oracle.emit(self.now, Fact::Isr { partition: g, isr_brokers: mask, high_watermark: hw });
        }
        self.advance_hw(g);
        let part = &mut self.partitions[g as usize];
        if offset < part.replicas[l].leo() {
            self.answer_replica_fetch(g, r, token);
        } else {
            part.replicas[r].parked = Some(token);
            let wait = self.scenario.broker_config.replica_fetch_wait_max;
            self.after(wait, Event::ReplicaFetchExpired { partition: g, replica: r as u32, token });
        }
    }

    pub(crate) fn on_replica_fetch_expired(&mut self, g: u32, r: u32, token: u32) {
        let rep = &mut self.partitions[g as usize].replicas[r as usize];
        if rep.parked == Some(token) {
            rep.parked = None;
            self.answer_replica_fetch(g, r as usize, token);
        }
    }

    pub(crate) fn on_replica_fetch_retry(&mut self, g: u32, r: u32, token: u32) {
        let rep = &self.partitions[g as usize].replicas[r as usize];
        if rep.fetch_token == token && self.brokers[rep.broker as usize].up {
            self.start_follower(g, r as usize);
        }
    }

    /// The follower copies what the leader sent, or truncates where its log diverged.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_replica_fetch_response(
        &mut self,
        src: u32,
        g: u32,
        r: u32,
        token: u32,
        from: u64,
        to: u64,
        last_entry_epoch: u32,
        leader_hw: u64,
        truncate_to: Option<u64>,
        ok: bool,
    ) {
        let r = r as usize;
        let part = &mut self.partitions[g as usize];
        let rep = &part.replicas[r];
        if rep.fetch_token != token || !self.brokers[rep.broker as usize].up {
            return;
        }
        if !ok {
            let token = rep.fetch_token;
            return self
                .after(REPLICA_FETCH_BACKOFF, Event::ReplicaFetchRetry { partition: g, replica: r as u32, token });
        }
        if let Some(t) = truncate_to {
            let rep = &mut part.replicas[r];
            let to = t.min(rep.leo());
            rep.truncate(to);
            let broker = rep.broker;
            self.oracle.emit(self.now, Fact::Truncate { broker, partition: g, offset: to });
            return self.send_replica_fetch(g, r);
        }
        // The data is valid if the sender's log still holds it (log matching: same
        // offset and epoch at the end means the same entries before it).
        let Some(l) = part.replica_on(src) else { return };
        let src_log = &part.replicas[l].log;
        let intact = src_log.len() as u64 >= to && (to == from || src_log[to as usize - 1].epoch == last_entry_epoch);
        if !intact || part.replicas[r].leo() != from {
            return self.send_replica_fetch(g, r);
        }
        for o in from..to {
            let e = part.replicas[l].log[o as usize];
            let rep = &mut part.replicas[r];
            rep.note_epoch(e.epoch, o);
            rep.log.push(e);
        }
        let rep = &mut part.replicas[r];
        rep.hw = rep.hw.max(leader_hw.min(rep.leo()));
        if to > from {
            let broker = rep.broker;
            self.oracle.emit(self.now, Fact::Replicate { broker, partition: g, log_end: to, source: src });
        }
        self.send_replica_fetch(g, r);
    }

    /// The leader moves the high watermark to the smallest log end offset in the
    /// ISR, then completes acks=all requests and parked consumer fetches below it.
    pub(crate) fn advance_hw(&mut self, g: u32) {
        let part = &mut self.partitions[g as usize];
        let Some(l) = part.leader else { return };
        // Since Kafka 3.7 the high watermark stays put while the ISR is too small.
        if part.isr_size() < part.min_insync_replicas {
            return;
        }
        let mut hw = part.replicas[l].leo();
        for (i, rep) in part.replicas.iter().enumerate() {
            if i != l && part.isr & (1 << i) != 0 {
                hw = hw.min(rep.leo_seen);
            }
        }
        if hw <= part.replicas[l].hw {
            return;
        }
        part.replicas[l].hw = hw;
        let b = part.replicas[l].broker;
        self.oracle.emit(self.now, Fact::HighWatermark { partition: g, high_watermark: hw });
        while let Some(&a) = self.partitions[g as usize].pending_acks.front() {
            if a.need > hw {
                break;
            }
            self.partitions[g as usize].pending_acks.pop_front();
            self.answer_waiter(b, g, a.waiter, None);
        }
        // Transactions whose marker is now replicated are stable.
        self.partitions[g as usize].open_txns.retain(|t| t.marker.is_none_or(|m| m >= hw));
        let lso = self.partitions[g as usize].last_stable_offset();
        let mut i = 0;
        while i < self.partitions[g as usize].parked_fetches.len() {
            let f = self.partitions[g as usize].parked_fetches[i];
            let end = if self.consumers[f.c as usize].read_committed { lso } else { hw };
            if f.offset < end {
                self.partitions[g as usize].parked_fetches.swap_remove(i);
                self.answer_fetch(g, b, f.c, f.inc, f.offset, f.token);
            } else {
                i += 1;
            }
        }
    }

    /// Answers a write that waited for the high watermark: success, or `error`.
    fn answer_waiter(&mut self, b: u32, g: u32, w: Waiter, error: Option<ProduceError>) {
        match w {
            Waiter::Produce { p, inc, batch, req, base } => {
                let result = match error {
                    None => Ok(base),
                    Some(e) => Err(e),
                };
                self.send(Node::Broker(b), Node::Producer(p), Msg::ProduceResponse { p, inc, batch, req, result });
            }
            Waiter::Marker { txn, serial } => {
                let msg = Msg::WriteTxnMarkerResponse { txn, serial, partition: g, ok: error.is_none() };
                self.send(Node::Broker(b), Node::TxnCoordinator, msg);
            }
        }
    }

    /// Where a consumer fetch may read to: the last stable offset under
    /// read_committed, the high watermark otherwise.
    fn readable_end(&self, g: u32, c: u32) -> u64 {
        let part = &self.partitions[g as usize];
        if self.consumers[c as usize].read_committed {
            part.last_stable_offset()
        } else {
            part.high_watermark()
        }
    }

    /// Every `replica.lag.time.max.ms / 2`, leaders drop followers that have not
    /// caught up for `replica.lag.time.max.ms` from the ISR.
    pub(crate) fn check_isr(&mut self) {
        let now = self.now;
        for g in 0..self.partitions.len() {
            let part = &mut self.partitions[g];
            let Some(l) = part.leader else { continue };
            let lb = part.replicas[l].broker;
            if !self.brokers[lb as usize].up || self.paused_until[lb as usize] > now {
                continue;
            }
            let part = &mut self.partitions[g];
            let leader_leo = part.replicas[l].leo();
            let mut shrunk = false;
            for r in 0..part.replicas.len() {
                let rep = &part.replicas[r];
                let lagging =
                    rep.leo_seen < leader_leo && now.since(rep.last_caught_up.min(now)) > part.replica_lag_time_max;
                if r != l && part.in_isr(r) && lagging {
                    part.isr &= !(1 << r);
                    shrunk = true;
                }
            }
            if shrunk {
                let (mask, hw) = (part.isr_mask_of_brokers(), part.replicas[l].hw);
                self.oracle.emit(self.now, Fact::Isr { partition: g as u32, isr_brokers: mask, high_watermark: hw });
                self.advance_hw(g as u32);
            }
        }
    }

    /// A consumer fetch at the leader: records below the high watermark, or park.
    pub(crate) fn on_fetch(&mut self, b: u32, c: u32, inc: u32, g: u32, offset: u64, token: u32) {
        let part = &self.partitions[g as usize];
        let error = match part.leader.filter(|&l| part.replicas[l].broker == b) {
            None => Some(FetchError::NotLeader),
            Some(l) if offset > part.replicas[l].leo() => Some(FetchError::OffsetOutOfRange),
            Some(_) => None,
        };
        if let Some(error) = error {
            return self.send(Node::Broker(b), Node::Consumer(c), Msg::fetch_failed(c, inc, g, token, offset, error));
        }
        if part.limits.is_some() {
            // GetRecords: at most 5 calls a second per shard, never parked.
            let now = self.now;
            let lim = self.partitions[g as usize].limits.as_mut().expect("checked");
            if !lim.read_calls.take(now, 1) {
                self.oracle.emit(self.now, Fact::Throttled);
                let msg = Msg::fetch_failed(c, inc, g, token, offset, FetchError::Throttled);
                return self.send(Node::Broker(b), Node::Consumer(c), msg);
            }
            return self.answer_fetch(g, b, c, inc, offset, token);
        }
        if offset < self.readable_end(g, c) {
            self.answer_fetch(g, b, c, inc, offset, token);
        } else {
            self.partitions[g as usize].parked_fetches.push(ParkedFetch { c, inc, offset, token });
            let wait = self.consumers[c as usize].fetch_max_wait;
            self.after(wait, Event::ConsumerFetchExpired { partition: g, c, inc, token });
        }
    }

    fn answer_fetch(&mut self, g: u32, b: u32, c: u32, inc: u32, offset: u64, token: u32) {
        let l = self.partitions[g as usize].leader.expect("only a leader answers fetches");
        let mut max = self.consumers[c as usize].max_fetch_records;
        let now = self.now;
        let record_bytes = self.consumers[c as usize].record_bytes.max(1) as u64;
        if let Some(lim) = self.partitions[g as usize].limits.as_mut() {
            // Kinesis: the shard's 2 MiB/s of reads bounds what one call returns.
            max = max.min(lim.read_bytes.available(now) / record_bytes);
        }
        let to = self.readable_end(g, c).min(offset + max).max(offset);
        if let Some(lim) = self.partitions[g as usize].limits.as_mut() {
            lim.read_bytes.take(now, (to - offset) * record_bytes);
        }
        let leader = &self.partitions[g as usize].replicas[l];
        let last_entry_epoch = if to > offset { leader.log[to as usize - 1].epoch } else { 0 };
        let msg = Msg::FetchResponse {
            c,
            inc,
            partition: g,
            token,
            from: offset,
            to,
            last_entry_epoch,
            error: FetchError::None,
        };
        self.send(Node::Broker(b), Node::Consumer(c), msg);
    }

    pub(crate) fn on_consumer_fetch_expired(&mut self, g: u32, c: u32, inc: u32, token: u32) {
        let part = &mut self.partitions[g as usize];
        let Some(i) = part.parked_fetches.iter().position(|f| f.c == c && f.inc == inc && f.token == token) else {
            return;
        };
        let f = part.parked_fetches.swap_remove(i);
        let Some(b) = part.leader_broker() else { return };
        self.answer_fetch(g, b, f.c, f.inc, f.offset, f.token);
    }

    /// A broker process dies. Its log stays on disk; its connections break, so
    /// clients waiting on it get errors now; the controller notices later.
    pub(crate) fn crash_broker(&mut self, b: u32) {
        if !self.brokers[b as usize].up {
            return;
        }
        self.brokers[b as usize].up = false;
        self.brokers[b as usize].inc += 1;
        for g in 0..self.partitions.len() as u32 {
            let part = &mut self.partitions[g as usize];
            let Some(r) = part.replica_on(b) else { continue };
            part.replicas[r].fetch_token = part.replicas[r].fetch_token.wrapping_add(1);
            if part.leader != Some(r) {
                continue;
            }
            self.release_waiters(g, ProduceError::Disconnected, FetchError::Disconnected);
            let n = self.partitions[g as usize].replicas.len();
            for fr in 0..n {
                if let Some(token) = self.partitions[g as usize].replicas[fr].parked.take() {
                    let fb = self.partitions[g as usize].replicas[fr].broker;
                    self.send(Node::Broker(b), Node::Broker(fb), Msg::replica_fetch_failed(g, fr as u32, token, 0));
                }
            }
        }
        let inc = self.brokers[b as usize].inc;
        let timeout = self.scenario.broker_config.broker_session_timeout;
        self.after(timeout, Event::ControllerFence { broker: b, inc });
    }

    /// Power loss: every replica on broker `b` loses the tail of its log past
    /// the high watermark it knew (written to the page cache, never flushed,
    /// not known to be replicated). The crash itself follows.
    pub(crate) fn lose_unflushed(&mut self, b: u32) {
        for g in 0..self.partitions.len() as u32 {
            let part = &mut self.partitions[g as usize];
            let Some(r) = part.replica_on(b) else { continue };
            let rep = &mut part.replicas[r];
            let hw = rep.hw;
            if rep.leo() > hw {
                rep.truncate(hw);
                self.oracle.emit(self.now, Fact::Truncate { broker: b, partition: g, offset: hw });
            }
        }
    }

    pub(crate) fn on_controller_fence(&mut self, b: u32, inc: u32) {
        let broker = &self.brokers[b as usize];
        let silent = !broker.up || self.broker_paused(b);
        if broker.inc == inc && silent && !broker.fenced {
            self.fence(b);
        }
    }

    /// A broker freezes (a long GC or VM pause): it stops heartbeating, so the
    /// controller fences it after `broker.session.timeout.ms` if the pause lasts.
    pub(crate) fn pause_broker(&mut self, b: u32, d: Duration) {
        let inc = self.brokers[b as usize].inc;
        let timeout = self.scenario.broker_config.broker_session_timeout;
        if d >= timeout {
            self.after(timeout, Event::ControllerFence { broker: b, inc });
        }
        self.after(d, Event::BrokerResume { broker: b, inc });
    }

    /// The pause ends. A broker fenced meanwhile registers again and follows
    /// the leaders elected without it (its stale requests get NotLeader).
    pub(crate) fn on_broker_resume(&mut self, b: u32, inc: u32) {
        let broker = &self.brokers[b as usize];
        if broker.inc != inc || !broker.up || !broker.fenced || self.broker_paused(b) {
            return;
        }
        self.brokers[b as usize].fenced = false;
        self.rejoin(b);
    }

    /// The controller fences broker `b`: out of every ISR (never emptying one),
    /// and its partitions get new leaders.
    fn fence(&mut self, b: u32) {
        self.brokers[b as usize].fenced = true;
        for g in 0..self.partitions.len() as u32 {
            let part = &mut self.partitions[g as usize];
            let Some(r) = part.replica_on(b) else { continue };
            if part.in_isr(r) && part.isr_size() > 1 {
                part.isr &= !(1 << r);
                let (mask, hw) = (part.isr_mask_of_brokers(), part.high_watermark());
                self.oracle.emit(self.now, Fact::Isr { partition: g, isr_brokers: mask, high_watermark: hw });
            }
            if self.partitions[g as usize].leader == Some(r) {
                self.elect(g);
            } else {
                // A smaller ISR may let the high watermark move (and complete acks=all).
                self.advance_hw(g);
            }
        }
    }

    /// Leader election: the first live in-sync replica in preference order; with
    /// `unclean.leader.election.enable`, any live replica; otherwise offline.
    fn elect(&mut self, g: u32) {
        self.release_waiters(g, ProduceError::NotLeader, FetchError::NotLeader);
        let part = &self.partitions[g as usize];
        let live = |r: usize| {
            let b = &self.brokers[part.replicas[r].broker as usize];
            b.up && !b.fenced
        };
        let n = part.replicas.len();
        let clean = (0..n).find(|&r| part.in_isr(r) && live(r));
        let choice = clean.or_else(|| if part.unclean_leader_election { (0..n).find(|&r| live(r)) } else { None });
        let part = &mut self.partitions[g as usize];
        match choice {
            Some(r) => {
                if clean.is_none() {
                    part.isr = 1 << r; // unclean: the new leader's log is the truth now
                }
                part.leader = Some(r);
                part.leader_epoch += 1;
                let epoch = part.leader_epoch;
                let leo = part.replicas[r].leo();
                part.replicas[r].note_epoch(epoch, leo);
                let now = self.now;
                for rep in part.replicas.iter_mut() {
                    rep.leo_seen = 0;
                    rep.last_caught_up = now;
                    rep.last_fetch_leader_leo = 0;
                    rep.last_fetch_at = now;
                    rep.parked = None;
                }
                self.rebuild_producer_state(g);
                let b = self.partitions[g as usize].replicas[r].broker;
                self.oracle
                    .emit(self.now, Fact::Elect { partition: g, leader: Some(b), epoch, unclean: clean.is_none() });
                for f in 0..n {
                    self.start_follower(g, f);
                }
            }
            None => {
                part.leader = None;
                part.leader_epoch += 1;
                let epoch = part.leader_epoch;
                self.oracle.emit(self.now, Fact::Elect { partition: g, leader: None, epoch, unclean: false });
            }
        }
    }

    /// The leader of `g` answers what waits on it — acks=all requests and
    /// parked consumer fetches — with an error: NotLeader when leadership
    /// moves (Kafka completes delayed operations this way), Disconnected when
    /// its process dies. Clients then retry at the new leader.
    fn release_waiters(&mut self, g: u32, produce: ProduceError, fetch: FetchError) {
        let part = &mut self.partitions[g as usize];
        let Some(old) = part.leader_broker() else { return };
        let pending: Vec<PendingAck> = part.pending_acks.drain(..).collect();
        let parked: Vec<ParkedFetch> = part.parked_fetches.drain(..).collect();
        for a in pending {
            self.answer_waiter(old, g, a.waiter, Some(produce));
        }
        for f in parked {
            let msg = Msg::fetch_failed(f.c, f.inc, g, f.token, f.offset, fetch);
            self.send(Node::Broker(old), Node::Consumer(f.c), msg);
        }
    }

    /// A new leader rebuilds its producer state (the idempotence window and
    /// the open transactions) from its log, as Kafka does from the batch
    /// headers and control records it stores.
    fn rebuild_producer_state(&mut self, g: u32) {
        let part = &mut self.partitions[g as usize];
        part.producer_states.clear();
        part.open_txns.clear();
        let Some(l) = part.leader else { return };
        for (o, e) in part.replicas[l].log.iter().enumerate() {
            let o = o as u64;
            let (pid, epoch, txn) = if e.is_control() {
                let m = self.markers[e.marker() as usize];
                (m.pid, m.epoch, true)
            } else if e.header == NO_HEADER {
                continue;
            } else {
                let h = part.headers[e.header as usize];
                (h.pid, h.epoch, h.txn)
            };
            let state = state_of(&mut part.producer_states, pid, epoch);
            state.bump(epoch);
            if e.is_control() {
                if let Some(t) = part.open_txns.iter_mut().find(|t| t.pid == pid && t.marker.is_none()) {
                    t.marker = Some(o);
                }
                continue;
            }
            if e.batch_start || state.len == 0 {
                state.push(e.seq, e.seq, o);
            } else {
                state.batches[state.len as usize - 1].1 = e.seq;
            }
            if txn && !part.open_txns.iter().any(|t| t.pid == pid && t.marker.is_none()) {
                part.open_txns.push(OpenTxn { pid, first: o, marker: None });
            }
        }
        let hw = part.replicas[l].hw;
        part.open_txns.retain(|t| t.marker.is_none_or(|m| m >= hw));
    }

    /// A broker comes back with its log. It registers anew (fencing its old
    /// incarnation if the controller had not yet), then follows, or leads a
    /// partition that had no live in-sync replica.
    pub(crate) fn restart_broker(&mut self, b: u32) {
        if self.brokers[b as usize].up {
            return;
        }
        if !self.brokers[b as usize].fenced {
            self.fence(b);
        }
        let broker = &mut self.brokers[b as usize];
        broker.up = true;
        broker.fenced = false;
        self.rejoin(b);
    }

    /// An unfenced broker takes its place again: it follows each partition's
    /// leader, or leads one that had no live in-sync replica.
    fn rejoin(&mut self, b: u32) {
        for g in 0..self.partitions.len() as u32 {
            let part = &self.partitions[g as usize];
            let Some(r) = part.replica_on(b) else { continue };
            if part.leader.is_none() && (part.in_isr(r) || part.unclean_leader_election) {
                self.elect(g);
            } else {
                self.start_follower(g, r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(entries: &[(u32, u32)], epochs: &[(u32, u64)]) -> Replica {
        Replica {
            broker: 0,
            log: entries
                .iter()
                .map(|&(record, epoch)| LogEntry { record, epoch, header: NO_HEADER, seq: NO_SEQ, batch_start: true })
                .collect(),
            hw: 0,
            epochs: epochs.to_vec(),
            fetch_token: 0,
            leo_seen: 0,
            last_caught_up: Instant::ZERO,
            last_fetch_leader_leo: 0,
            last_fetch_at: Instant::ZERO,
            parked: None,
            fetches_sent: 0,
        }
    }

    #[test]
    fn end_offset_for_epoch_follows_the_epoch_cache() {
        // epoch 0 wrote offsets 0..3, epoch 2 wrote 3..5
        let r = replica(&[(1, 0), (2, 0), (3, 0), (4, 2), (5, 2)], &[(0, 0), (2, 3)]);
        assert_eq!(r.end_offset_for_epoch(0), 3);
        assert_eq!(r.end_offset_for_epoch(1), 3, "epoch 1 never wrote: end of the largest epoch below");
        assert_eq!(r.end_offset_for_epoch(2), 5);
        assert_eq!(r.end_offset_for_epoch(9), 5);
    }

    #[test]
    fn truncation_drops_the_tail_and_its_epochs() {
        let mut r = replica(&[(1, 0), (2, 0), (3, 1), (4, 1)], &[(0, 0), (1, 2)]);
        r.hw = 4;
        r.truncate(2);
        assert_eq!(r.leo(), 2);
        assert_eq!(r.hw, 2);
        assert_eq!(r.epochs, vec![(0, 0)]);
        assert_eq!(r.last_epoch(), 0);
    }

    #[test]
    fn the_idempotence_window_holds_the_last_five_batches() {
        let mut s = ProducerState::new(7, 0);
        assert_eq!(s.last_seq(), None);
        for i in 0..7u32 {
            s.push(i * 10, i * 10 + 9, i as u64 * 100);
        }
        assert_eq!(s.len as usize, DEDUP_BATCHES);
        assert_eq!(s.last_seq(), Some(69));
        // The last five batches (20..69) are recognised as duplicates, with their offsets.
        assert_eq!(s.duplicate_of(20, 29), Some(200));
        assert_eq!(s.duplicate_of(60, 69), Some(600));
        // Older ones are not remembered; a batch must match exactly.
        assert_eq!(s.duplicate_of(10, 19), None);
        assert_eq!(s.duplicate_of(20, 25), None);
        // A newer epoch starts afresh; an older one changes nothing.
        s.bump(0);
        assert_eq!(s.len as usize, DEDUP_BATCHES);
        s.bump(1);
        assert_eq!((s.epoch, s.len, s.last_seq()), (1, 0, None));
    }

    #[test]
    fn the_last_stable_offset_waits_for_open_and_unreplicated_transactions() {
        let spec = crate::scenario::TopicSpec {
            name: "t".into(),
            partitions: 1,
            replication_factor: 1,
            config: Default::default(),
        };
        let mut p = Partition::new(0, 0, &spec, 1);
        p.replicas[0].hw = 50;
        assert_eq!(p.last_stable_offset(), 50);
        p.open_txns.push(OpenTxn { pid: 1, first: 30, marker: None });
        p.open_txns.push(OpenTxn { pid: 2, first: 20, marker: Some(60) });
        assert_eq!(p.last_stable_offset(), 20, "pid 2's marker is past the high watermark");
        p.replicas[0].hw = 61;
        assert_eq!(p.last_stable_offset(), 30, "pid 2 is stable once its marker is replicated");
        p.open_txns.clear();
        assert_eq!(p.last_stable_offset(), 61);
    }
}
