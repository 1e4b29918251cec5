//! Follower fetching as Kafka's `ReplicaFetcherThread` (`AbstractFetcherThread`)
//! does it with the default `num.replica.fetchers` = 1: one fetch session per
//! (follower broker, leader broker) pair. Each of its requests carries every
//! partition the follower replicates from that leader; the leader answers
//! at once when any partition has data (or an error, or a divergence) and
//! otherwise parks the whole request for `replica.fetch.wait.max.ms`
//! (`DelayedFetch`), answering it as soon as one of its partitions gets new
//! data. The follower applies each partition's part, then fetches again.

use crate::kernel::time::Duration;
use crate::model::ids::{BrokerId, FetchSlot, LeaderEpoch, PartitionId, ReplicaId};
use crate::world::event::{Event, Node, ReplicaFetch, ReplicaFetchResponse};
use crate::world::{CrashKind, World};

/// `replica.fetch.backoff.ms`: a session whose fetch failed waits this long.
pub const REPLICA_FETCH_BACKOFF: Duration = Duration::from_ms(1_000);
/// The broker's `request.timeout.ms` (30 s), the default request timeout of
/// the follower's `NetworkClient` (`BrokerBlockingSender`): a follower fetch
/// unanswered this long fails (`NetworkClientUtils.sendAndReceive` sees the
/// disconnection) and the session backs off.
const REPLICA_FETCH_REQUEST_TIMEOUT: Duration = Duration::from_ms(30_000);
/// Most entries one partition of a follower fetch copies (about
/// `replica.fetch.max.bytes` of small records).
const REPLICA_FETCH_MAX: u64 = 10_000;

/// One fetch session, (follower, leader). The follower's side: whether a
/// fetch is out or backing off; the leader's side: the fetch it parked.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fetcher {
    /// Bumped when either broker dies: answers and timers of an older
    /// session are stale.
    pub gen: u32,
    /// A fetch of this session is on the wire, parked, or being answered.
    pub in_flight: bool,
    /// The last fetch failed: the session waits `replica.fetch.backoff.ms`.
    pub backing_off: bool,
    /// Fetches sent (names the one a timeout or an expiry is about).
    pub sent: u32,
    /// At the leader: the parked fetch's slot and number.
    pub parked: Option<(FetchSlot, u32)>,
}

/// One partition of a follower's fetch: the replica's log end and the epoch
/// of its last entry; `token` names the replica's fetch loop it was sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchEntry {
    pub partition: PartitionId,
    pub replica: ReplicaId,
    pub token: u32,
    pub offset: u64,
    pub last_epoch: LeaderEpoch,
}

/// One partition of the leader's answer: entries `[from, to)` of its log,
/// whose last entry has epoch `last_entry_epoch`; or `truncate_to` where the
/// follower's log diverged; `ok` false: this broker does not lead it (any more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionData {
    pub entry: FetchEntry,
    pub from: u64,
    pub to: u64,
    pub last_entry_epoch: LeaderEpoch,
    pub leader_hw: u64,
    pub truncate_to: Option<u64>,
    pub ok: bool,
}

/// What one fetch (and then its answer) carries, in the world's slot pool.
#[derive(Clone, Debug, Default)]
pub struct FetchSlotData {
    pub entries: Vec<FetchEntry>,
    pub data: Vec<PartitionData>,
}

impl World {
    fn fetcher_index(&self, follower: BrokerId, leader: BrokerId) -> usize {
        follower.index() * self.brokers.len() + leader.index()
    }

    pub(crate) fn fetcher(&mut self, follower: BrokerId, leader: BrokerId) -> &mut Fetcher {
        let i = self.fetcher_index(follower, leader);
        &mut self.fetchers[i]
    }

    fn take_fetch_slot(&mut self) -> FetchSlot {
        match self.free_fetch_slots.pop() {
            Some(s) => {
                let d = &mut self.fetch_slots[s];
                d.entries.clear();
                d.data.clear();
                s
            }
            None => self.fetch_slots.push(FetchSlotData::default()),
        }
    }

    pub(crate) fn free_fetch_slot(&mut self, s: FetchSlot) {
        self.free_fetch_slots.push(s);
    }

    /// Broker `b` died. Its own sessions as a follower die with its process;
    /// a fetch parked at it is gone either way. Its followers' sessions end
    /// at once after a process crash: the kernel resets their connections
    /// and the fetch fails one hop later. After a host crash nothing tells
    /// them: each follower's fetcher thread waits in
    /// `NetworkClientUtils.sendAndReceive` until its fetch times out
    /// (`REPLICA_FETCH_REQUEST_TIMEOUT`, `on_replica_fetch_timeout`), even if
    /// the machine is back and leads again meanwhile.
    pub(crate) fn end_fetch_sessions(&mut self, b: BrokerId, kind: CrashKind) {
        for other in self.brokers.ids() {
            for (f, l) in [(b, other), (other, b)] {
                let s = self.fetcher(f, l);
                if let Some((slot, _)) = s.parked.take() {
                    self.free_fetch_slot(slot);
                }
                let s = self.fetcher(f, l);
                if l == b && f != b && kind == CrashKind::Host {
                    continue;
                }
                s.gen = s.gen.wrapping_add(1);
                s.in_flight = false;
                s.backing_off = false;
            }
        }
    }

    /// The session (follower, leader) fetches unless a fetch is out or it backs off.
    pub(crate) fn ensure_fetching(&mut self, follower: BrokerId, leader: BrokerId) {
        let s = *self.fetcher(follower, leader);
        if !s.in_flight && !s.backing_off && self.brokers[follower].up {
            self.send_session_fetch(follower, leader);
        }
    }

    /// A fetch from `follower` to `leader` for every partition it follows there.
    fn send_session_fetch(&mut self, follower: BrokerId, leader: BrokerId) {
        let slot = self.take_fetch_slot();
        let mut entries = std::mem::take(&mut self.fetch_slots[slot].entries);
        // Only the partitions `leader` leads (in partition order, as a scan would).
        for &partition in self.leadership.led_by(leader) {
            let part = &self.partitions[partition];
            let (Some(l), Some(r)) = (part.leader, part.replica_on(follower)) else { continue };
            debug_assert_eq!(part.replicas[l].broker, leader);
            if l == r {
                continue;
            }
            let rep = &part.replicas[r];
            let (token, offset, last_epoch) = (rep.fetch_token, rep.leo(), rep.last_epoch());
            entries.push(FetchEntry { partition, replica: r, token, offset, last_epoch });
        }
        let empty = entries.is_empty();
        self.fetch_slots[slot].entries = entries;
        if empty {
            return self.free_fetch_slot(slot);
        }
        let s = self.fetcher(follower, leader);
        s.in_flight = true;
        s.sent = s.sent.wrapping_add(1);
        let (gen, sent) = (s.gen, s.sent);
        #[cfg(test)]
        self.tap.push(crate::model::producer::request::Tapped::ReplicaFetch {
            follower,
            leader,
            partitions: self.fetch_slots[slot].entries.iter().map(|e| e.partition).collect(),
        });
        self.send(Node::Broker(follower), Node::Broker(leader), ReplicaFetch { follower, gen, sent, slot }.into());
        if self.lossy {
            self.after(REPLICA_FETCH_REQUEST_TIMEOUT, Event::ReplicaFetchTimeout { follower, leader, gen, sent });
        }
    }

    /// A follower's fetch reaches leader `b`: each partition tells the leader
    /// how far the follower got (`on_follower_position`); if any has something
    /// to say, the answer goes now, else the fetch parks.
    pub(crate) fn on_replica_fetch(&mut self, b: BrokerId, m: ReplicaFetch) {
        let mut answer_now = false;
        for i in 0..self.fetch_slots[m.slot].entries.len() {
            let e = self.fetch_slots[m.slot].entries[i];
            answer_now |= self.on_follower_position(b, e);
        }
        if answer_now {
            return self.answer_session(b, m.follower, (m.gen, m.sent), m.slot);
        }
        let s = self.fetcher(m.follower, b);
        if let Some((old, _)) = s.parked.replace((m.slot, m.sent)) {
            self.free_fetch_slot(old);
        }
        let wait = self.scenario.broker_config.replica_fetch_wait_max;
        let (follower, gen, sent) = (m.follower, m.gen, m.sent);
        self.after(wait, Event::ReplicaFetchExpired { follower, leader: b, gen, sent });
    }

    /// The leader `b` answers the session's fetch in `slot`: per partition,
    /// what it has past the follower's offset (or where to truncate).
    fn answer_session(&mut self, b: BrokerId, follower: BrokerId, (gen, sent): (u32, u32), slot: FetchSlot) {
        let mut data = std::mem::take(&mut self.fetch_slots[slot].data);
        data.clear();
        for i in 0..self.fetch_slots[slot].entries.len() {
            let e = self.fetch_slots[slot].entries[i];
            data.push(self.partition_data(b, e));
        }
        self.fetch_slots[slot].data = data;
        let msg = ReplicaFetchResponse { follower, gen, sent, slot, ok: true };
        self.send(Node::Broker(b), Node::Broker(follower), msg.into());
    }

    /// Leader `b`'s answer for one partition of a fetch.
    fn partition_data(&self, b: BrokerId, e: FetchEntry) -> PartitionData {
        let failed = PartitionData {
            entry: e,
            from: e.offset,
            to: e.offset,
            last_entry_epoch: LeaderEpoch::new(0),
            leader_hw: 0,
            truncate_to: None,
            ok: false,
        };
        let part = &self.partitions[e.partition];
        let Some(l) = part.leader.filter(|&l| part.replicas[l].broker == b) else { return failed };
        let leader = &part.replicas[l];
        // Divergence (KIP-101/279): the follower's last epoch ends earlier on the leader.
        let diverged_at = leader.end_offset_for_epoch(e.last_epoch).min(leader.leo());
        if e.offset > diverged_at {
            return PartitionData { leader_hw: leader.hw, truncate_to: Some(diverged_at), ok: true, ..failed };
        }
        let to = leader.leo().min(e.offset + REPLICA_FETCH_MAX);
        let last_entry_epoch = leader.epoch_before(to);
        PartitionData { to, last_entry_epoch, leader_hw: leader.hw, ok: true, ..failed }
    }

    /// New data on `partition`: its leader answers every parked fetch of a
    /// follower of it (`DelayedFetch.tryComplete`).
    pub(crate) fn wake_parked_followers(&mut self, partition: PartitionId) {
        let Some(lb) = self.partitions[partition].leader_broker() else { return };
        for r in self.partitions[partition].replicas.ids() {
            let f = self.partitions[partition].replicas[r].broker;
            if f == lb {
                continue;
            }
            if let Some((slot, sent)) = self.fetcher(f, lb).parked.take() {
                let gen = self.fetcher(f, lb).gen;
                self.answer_session(lb, f, (gen, sent), slot);
            }
        }
    }

    pub(crate) fn on_replica_fetch_expired(&mut self, follower: BrokerId, leader: BrokerId, gen: u32, sent: u32) {
        let s = *self.fetcher(follower, leader);
        match s.parked {
            Some((slot, n)) if s.gen == gen && n == sent => {
                self.fetcher(follower, leader).parked = None;
                self.answer_session(leader, follower, (gen, sent), slot);
            }
            _ => {}
        }
    }

    /// The answer reaches the follower: each partition's part is applied
    /// (`processFetchRequest`), then the session fetches again. A failed
    /// fetch (the leader is gone, or the connection broke) backs the whole
    /// session off (`replica.fetch.backoff.ms`).
    pub(crate) fn on_replica_fetch_response(&mut self, leader: BrokerId, m: ReplicaFetchResponse) {
        let follower = m.follower;
        let s = *self.fetcher(follower, leader);
        if s.gen != m.gen || s.sent != m.sent || !self.brokers[follower].up {
            return self.free_fetch_slot(m.slot);
        }
        self.fetcher(follower, leader).in_flight = false;
        #[cfg(test)]
        self.tap.push(crate::model::producer::request::Tapped::ReplicaFetchAnswered { follower, leader });
        if !m.ok {
            self.free_fetch_slot(m.slot);
            self.fetcher(follower, leader).backing_off = true;
            let gen = m.gen;
            return self.after(REPLICA_FETCH_BACKOFF, Event::ReplicaFetchRetry { follower, leader, gen });
        }
        for i in 0..self.fetch_slots[m.slot].data.len() {
            let d = self.fetch_slots[m.slot].data[i];
            self.follower_applies(leader, d);
        }
        self.free_fetch_slot(m.slot);
        self.ensure_fetching(follower, leader);
    }

    pub(crate) fn on_replica_fetch_retry(&mut self, follower: BrokerId, leader: BrokerId, gen: u32) {
        let s = self.fetcher(follower, leader);
        if s.gen == gen && s.backing_off {
            s.backing_off = false;
            self.ensure_fetching(follower, leader);
        }
    }

    /// No answer within the request timeout (a network partition held it,
    /// or the leader's machine is gone): the fetch fails, `BrokerBlockingSender`
    /// closes the connection, and `AbstractFetcherThread.processFetchRequest`
    /// delays every partition of the session by `replica.fetch.backoff.ms`
    /// (`handlePartitionsWithErrors`) before the next fetch.
    pub(crate) fn on_replica_fetch_timeout(&mut self, follower: BrokerId, leader: BrokerId, gen: u32, sent: u32) {
        let s = self.fetcher(follower, leader);
        if s.gen == gen && s.sent == sent && s.in_flight {
            s.in_flight = false;
            s.backing_off = true;
            self.after(REPLICA_FETCH_BACKOFF, Event::ReplicaFetchRetry { follower, leader, gen });
        }
    }
}
