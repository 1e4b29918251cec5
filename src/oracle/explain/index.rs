//! The kept trace, indexed by what each step is about (record, partition,
//! consumer, group, transaction), so that every join `explain` makes is a
//! walk over one short, time-ordered list instead of the whole trace.

use super::view::{self, View};
use crate::model::ids::{BrokerId, ConsumerId, GroupId, PartitionId, ProducerId, RecordId, TxnId};
use crate::oracle::fact::Entity;
use crate::oracle::kept::Kept;
use crate::oracle::ledger::NULL_KEY;
use crate::oracle::trace::{Recorded, Step};
use crate::world::World;

/// Step ids grouped by key, each group in trace order (compressed rows).
struct Rows {
    start: Vec<u32>,
    ids: Vec<u32>,
}

impl Rows {
    /// `key(step)` names the row a step belongs to, if any.
    #[cfg(test)]
    fn build(n: usize, steps: &Kept, key: impl Fn(&Recorded) -> Option<usize>) -> Rows {
        let [rows] = Rows::build_all([n], steps, |s| [key(s)]);
        rows
    }

    /// `N` sets of rows in two passes over the steps: `keys(step)[j]` names the row of
    /// set `j` (of `ns[j]` rows) the step belongs to. Decoding a step is the cost here,
    /// so each is decoded once a pass, not once per set.
    fn build_all<const N: usize>(
        ns: [usize; N],
        steps: &Kept,
        keys: impl Fn(&Recorded) -> [Option<usize>; N],
    ) -> [Rows; N] {
        let mut start: [Vec<u32>; N] = ns.map(|n| vec![0u32; n + 1]);
        for s in steps.iter() {
            for (j, k) in keys(&s).into_iter().enumerate() {
                if let Some(k) = k {
                    debug_assert!(k < ns[j], "{s:?}: key {k} of {}", ns[j]);
                    start[j][k + 1] += 1;
                }
            }
        }
        for (j, start) in start.iter_mut().enumerate() {
            for i in 0..ns[j] {
                start[i + 1] += start[i];
            }
        }
        let mut fill = start.clone();
        let mut ids: [Vec<u32>; N] = std::array::from_fn(|j| vec![0u32; start[j][ns[j]] as usize]);
        for (i, s) in steps.iter().enumerate() {
            for (j, k) in keys(&s).into_iter().enumerate() {
                if let Some(k) = k {
                    ids[j][fill[j][k] as usize] = i as u32;
                    fill[j][k] += 1;
                }
            }
        }
        let mut ids = ids.into_iter();
        start.map(|start| Rows { start, ids: ids.next().expect("one ids per set") })
    }

    fn row(&self, k: usize) -> &[u32] {
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.ids[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// One step found by a query: its id (its place in the trace; the JSONL line
/// is `id + 2`) and the step. Its fields are read through the typed views of
/// `view.rs` (`f.append().offset`), never by position.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    pub id: u32,
    /// The step, unpacked from the kept list it was found in.
    pub s: Recorded,
    kept: std::marker::PhantomData<&'a Kept>,
}

impl Found<'_> {
    pub fn new(id: u32, s: Recorded) -> Self {
        Found { id, s, kept: std::marker::PhantomData }
    }

    pub fn t(&self) -> u64 {
        self.s.t
    }
}

/// Some steps of the trace, in trace (time) order: a row of the index, cut
/// to a window by binary search. It iterates from either end.
#[derive(Clone, Copy, Debug)]
pub struct Steps<'a> {
    all: &'a Kept,
    ids: &'a [u32],
}

impl<'a> Steps<'a> {
    /// Only the steps before step `id`.
    pub fn before(self, id: u32) -> Steps<'a> {
        let k = self.ids.partition_point(|&x| x < id);
        Steps { ids: &self.ids[..k], ..self }
    }
    /// Only the steps after step `id`.
    pub fn after(self, id: u32) -> Steps<'a> {
        let k = self.ids.partition_point(|&x| x <= id);
        Steps { ids: &self.ids[k..], ..self }
    }
    /// Only the steps at or before virtual time `t` (µs).
    pub fn until(self, t: u64) -> Steps<'a> {
        let k = self.ids.partition_point(|&x| self.all.t(x as usize) <= t);
        Steps { ids: &self.ids[..k], ..self }
    }
    /// Only the steps after virtual time `t` (µs).
    pub fn since(self, t: u64) -> Steps<'a> {
        let k = self.ids.partition_point(|&x| self.all.t(x as usize) <= t);
        Steps { ids: &self.ids[k..], ..self }
    }
}

impl<'a> Iterator for Steps<'a> {
    type Item = Found<'a>;
    fn next(&mut self) -> Option<Found<'a>> {
        let (&id, rest) = self.ids.split_first()?;
        self.ids = rest;
        Some(Found::new(id, self.all.get(id as usize)))
    }
}

impl DoubleEndedIterator for Steps<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (&id, rest) = self.ids.split_last()?;
        self.ids = rest;
        Some(Found::new(id, self.all.get(id as usize)))
    }
}

/// Rows per (entity, kind) take this many kind slots (codes start at 1):
/// the kinds `explain` keeps (`Step::explained`), the last being `no_offset`.
const KINDS: usize = Step::NoRewind as usize + 1;

/// The kinds that change a consumer's hold on its partitions, in one row per consumer.
fn is_life(kind: Step) -> bool {
    matches!(
        kind,
        Step::Crash
            | Step::Restart
            | Step::Pause
            | Step::Start
            | Step::Stop
            | Step::PollTimeout
            | Step::Leave
            | Step::CommitFailed
            | Step::Revoke
            | Step::Assign
            | Step::Position
    )
}

/// The record a step is about: send, append, ack, fail, retry, process, effect, late.
fn record_of(v: View) -> Option<RecordId> {
    match v {
        View::Send(view::Send { record, .. })
        | View::Append(view::Append { record, .. })
        | View::Ack(view::Ack { record, .. })
        | View::Fail(view::Fail { record, .. })
        | View::Retry(view::Retry { record, .. })
        | View::Resend(view::Resend { record, .. })
        | View::Process(view::Process { record, .. })
        | View::Effect(view::Effect { record, .. })
        | View::Late(view::Late { record, .. }) => Some(record),
        _ => None,
    }
}

/// The partition a step of the log, its leadership or its readers is about
/// (a send is the record's, not the partition's).
fn partition_of(v: View) -> Option<PartitionId> {
    match v {
        View::Append(view::Append { partition, .. })
        | View::Replicate(view::Replicate { partition, .. })
        | View::Truncate(view::Truncate { partition, .. })
        | View::Fetch(view::Fetch { partition, .. })
        | View::Commit(view::Commit { partition, .. })
        | View::Assign(view::Assignment { partition, .. })
        | View::Revoke(view::Assignment { partition, .. })
        | View::Position(view::Position { partition, .. })
        | View::Elect(view::Elect { partition, .. })
        | View::Isr(view::Isr { partition, .. })
        | View::Marker(view::Marker { partition, .. })
        | View::HighWatermark(view::HighWatermark { partition, .. }) => Some(partition),
        _ => None,
    }
}

/// The consumer instance a step is about, its own faults included.
fn consumer_of(v: View) -> Option<ConsumerId> {
    match v {
        View::Fetch(view::Fetch { consumer, .. })
        | View::Commit(view::Commit { consumer, .. })
        | View::CommitFailed(view::CommitFailed { consumer, .. })
        | View::PollTimeout(view::PollTimeout { consumer, .. })
        | View::Assign(view::Assignment { consumer, .. })
        | View::Revoke(view::Assignment { consumer, .. })
        | View::Position(view::Position { consumer, .. })
        | View::Process(view::Process { consumer, .. })
        | View::Effect(view::Effect { consumer, .. })
        | View::Leave(view::Leave { consumer, .. })
        | View::Crash(Entity::Consumer(consumer))
        | View::Restart(Entity::Consumer(consumer))
        | View::Start(Entity::Consumer(consumer))
        | View::Stop(Entity::Consumer(consumer))
        | View::NoRewind(view::NoRewind { consumer, .. })
        | View::Pause(view::Pause { entity: Entity::Consumer(consumer), .. }) => Some(consumer),
        _ => None,
    }
}

/// The group a step is about: rebalances, their starts, members leaving, late events.
fn group_of(v: View) -> Option<GroupId> {
    match v {
        View::Rebalance(view::Rebalance { group, .. })
        | View::RebalanceStart(view::RebalanceStart { group, .. })
        | View::Leave(view::Leave { group, .. })
        | View::Late(view::Late { group, .. }) => Some(group),
        _ => None,
    }
}

/// The transactional id a step is about: epoch bumps, inits, ends, markers.
fn txn_of(v: View) -> Option<TxnId> {
    match v {
        View::Fenced(view::Fenced { txn, .. })
        | View::InitTxn(view::InitTxn { txn, .. })
        | View::TxnEnd(view::TxnEnd { txn, .. })
        | View::Marker(view::Marker { txn, .. }) => Some(txn),
        _ => None,
    }
}

pub struct Index<'a> {
    pub steps: &'a Kept,
    by_record: Rows,
    /// Per (global partition, kind).
    by_partition: Rows,
    /// Per (consumer, kind).
    by_consumer: Rows,
    /// Per consumer: the kinds of [`is_life`].
    consumer_life: Rows,
    by_group: Rows,
    by_txn: Rows,
    /// Crash, restart, pause, start, stop and network partition steps.
    faults: Vec<u32>,
}

impl<'a> Index<'a> {
    pub fn new(w: &World, steps: &'a Kept) -> Index<'a> {
        let (c, k) = (w.consumers.len(), KINDS);
        let ns = [w.oracle.ledger.len(), w.partitions.len() * k, c * k, c, w.groups.len(), w.txns.len()];
        let [by_record, by_partition, by_consumer, consumer_life, by_group, by_txn] = Rows::build_all(ns, steps, |s| {
            let v = View::of(s);
            let consumer = consumer_of(v);
            [
                record_of(v).map(RecordId::index),
                partition_of(v).map(|g| g.index() * KINDS + s.kind as usize),
                consumer.map(|c| c.index() * KINDS + s.kind as usize),
                consumer.filter(|_| is_life(s.kind)).map(ConsumerId::index),
                group_of(v).map(GroupId::index),
                txn_of(v).map(TxnId::index),
            ]
        });
        let faults = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                matches!(s.kind, Step::Crash | Step::Restart | Step::Pause | Step::Start | Step::Stop | Step::Partition)
            })
            .map(|(i, _)| i as u32)
            .collect();
        Index { steps, by_record, by_partition, by_consumer, consumer_life, by_group, by_txn, faults }
    }

    fn steps_of<'s>(&'s self, ids: &'s [u32]) -> Steps<'s> {
        Steps { all: self.steps, ids }
    }

    /// Steps about record `r`: send, append, ack, fail, retry, process, effect, late.
    pub fn record<'s>(&'s self, r: u32) -> Steps<'s> {
        self.steps_of(self.by_record.row(r as usize))
    }

    /// Steps of `kind` about global partition `g`.
    pub fn partition<'s>(&'s self, g: PartitionId, kind: Step) -> Steps<'s> {
        self.steps_of(self.by_partition.row(g.index() * KINDS + kind as usize))
    }

    /// Steps of `kind` about consumer instance `c`.
    pub fn consumer<'s>(&'s self, c: ConsumerId, kind: Step) -> Steps<'s> {
        self.steps_of(self.by_consumer.row(c.index() * KINDS + kind as usize))
    }

    /// What changed consumer `c`'s hold on partitions: its faults, poll
    /// timeouts, leaving, refused commits, assignments, revocations, positions.
    pub fn consumer_life<'s>(&'s self, c: ConsumerId) -> Steps<'s> {
        self.steps_of(self.consumer_life.row(c.index()))
    }

    /// Rebalances, their starts, members leaving, late events of group `g`.
    pub fn group<'s>(&'s self, g: GroupId) -> Steps<'s> {
        self.steps_of(self.by_group.row(g.index()))
    }

    /// Epoch bumps, inits, ends and markers of transactional id `t`.
    pub fn txn<'s>(&'s self, t: TxnId) -> Steps<'s> {
        self.steps_of(self.by_txn.row(t.index()))
    }

    pub fn faults<'s>(&'s self) -> Steps<'s> {
        self.steps_of(&self.faults)
    }

    /// The `kind` step (a crash, restart, pause, start or stop) of `e`, the
    /// first after time `after`.
    pub fn fault_of<'s>(&'s self, kind: Step, e: Entity, after: u64) -> Option<Found<'s>> {
        self.faults().since(after).find(|f| f.s.kind == kind && f.life().entity == e)
    }
}

/// Names for ids, as people read them.
pub struct Names<'w> {
    pub w: &'w World,
}

impl Names<'_> {
    /// `web-0#4711 (key-17)`: the producer instance, the record's place in its send order, its key.
    pub fn record(&self, r: u32) -> String {
        let rec = self.w.oracle.ledger.life(r);
        let key = if rec.key == NULL_KEY { "null key".to_string() } else { format!("key-{}", rec.key) };
        format!("{} ({key})", self.record_short(r))
    }

    /// `web-0#4711`.
    pub fn record_short(&self, r: u32) -> String {
        let ledger = &self.w.oracle.ledger;
        format!("{}#{}", self.producer(ProducerId::new(ledger.producer_of(r))), ledger.send_seq(r))
    }
    /// The record named `web-0#4711` (or by its trace id, `4711`); an error
    /// says what names exist.
    pub fn find(&self, name: &str) -> Result<u32, String> {
        let ledger = &self.w.oracle.ledger;
        if let Ok(id) = name.parse::<u32>() {
            return if (id as usize) < ledger.len() {
                Ok(id)
            } else {
                Err(format!("record ids run from 0 to {}", ledger.len().saturating_sub(1)))
            };
        }
        let producers: Vec<&str> = self.w.producers.iter().map(|p| p.name.as_str()).collect();
        let hint = || {
            let first = producers.first().copied().unwrap_or("web-0");
            format!("name a record as PRODUCER#N, e.g. `{first}#0`; producers: {}", producers.join(", "))
        };
        let Some((p, seq)) = name.split_once('#') else { return Err(hint()) };
        let Some(pi) = producers.iter().position(|x| *x == p) else { return Err(hint()) };
        let Ok(seq) = seq.parse::<u64>() else { return Err(hint()) };
        ledger
            .record_at(pi as u32, seq)
            .ok_or_else(|| format!("{p} sent {} records in this run", ledger.sent_by(pi as u32)))
    }

    pub fn producer(&self, p: ProducerId) -> &str {
        &self.w.producers[p].name
    }
    pub fn partition(&self, g: PartitionId) -> String {
        let p = &self.w.partitions[g];
        format!("{}/{}", self.w.topics[p.topic].name, p.index)
    }
    pub fn consumer(&self, c: ConsumerId) -> &str {
        &self.w.consumers[c].name
    }
    pub fn group(&self, g: GroupId) -> &str {
        &self.w.groups[g].name
    }
    pub fn txn(&self, t: TxnId) -> &str {
        &self.w.txns[t].name
    }
    pub fn broker(&self, b: BrokerId) -> String {
        format!("broker-{b}")
    }
    /// Brokers of an `isr_brokers` mask: `{broker-0, broker-2}`.
    pub fn brokers(&self, mask: u64) -> String {
        let names: Vec<String> =
            (0..64).filter(|b| mask >> b & 1 == 1).map(|b| self.broker(BrokerId::new(b))).collect();
        format!("{{{}}}", names.join(", "))
    }
    pub fn entity(&self, e: Entity) -> String {
        match e {
            Entity::Broker(b) => self.broker(b),
            Entity::Producer(p) => self.producer(p).to_string(),
            Entity::Consumer(c) => self.consumer(c).to_string(),
        }
    }
}

/// A virtual time as seconds with milliseconds: `30.004s`.
pub fn ts(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us / 1000 % 1000)
}

/// A span of virtual time as people say it: `15s`, `6.35s`, `12.8s`, `250ms`.
pub fn span(us: u64) -> String {
    if us < 1000 {
        return format!("{us}µs");
    }
    if us < 1_000_000 {
        return format!("{}ms", us / 1000);
    }
    // Seconds: three decimals below 10 s, one above, trailing zeros dropped.
    let text = if us < 10_000_000 {
        format!("{}.{:03}", us / 1_000_000, us / 1000 % 1000)
    } else {
        let tenths = (us + 50_000) / 100_000;
        format!("{}.{}", tenths / 10, tenths % 10)
    };
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_trace_order_and_skip_unkeyed_steps() {
        let step = |t, kind, v0| Recorded { t, kind, v: [v0, 0, 0, 0], line: 0 };
        let steps: Kept =
            [step(1, Step::Send, 2), step(2, Step::Crash, 0), step(3, Step::Send, 0), step(4, Step::Ack, 2)]
                .into_iter()
                .collect();
        let rows = Rows::build(3, &steps, |s| match s.kind {
            Step::Send | Step::Ack => Some(s.v[0] as usize),
            _ => None,
        });
        assert_eq!(rows.row(0), &[2]);
        assert!(rows.row(1).is_empty());
        assert_eq!(rows.row(2), &[0, 3]);
        assert!(rows.row(7).is_empty(), "a key past the end has no steps");
    }

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(ts(30_004_999), "30.004s");
        assert_eq!(span(15_000_000), "15s");
        assert_eq!(span(2_500_000), "2.5s");
        assert_eq!(span(6_350_000), "6.35s");
        assert_eq!(span(12_754_285), "12.8s");
        assert_eq!(span(250_000), "250ms");
        assert_eq!(span(900), "900µs");
    }
}
