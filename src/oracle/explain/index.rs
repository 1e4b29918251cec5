//! The kept trace, indexed by what each step is about (record, partition,
//! consumer, group, transaction), so that every join `explain` makes is a
//! walk over one short, time-ordered list instead of the whole trace.

use crate::oracle::ledger::NULL_KEY;
use crate::oracle::trace::{entity, Recorded, Step};
use crate::world::World;

/// Step ids grouped by key, each group in trace order (compressed rows).
struct Rows {
    start: Vec<u32>,
    ids: Vec<u32>,
}

impl Rows {
    /// `key(step)` names the row a step belongs to, if any.
    fn build(n: usize, steps: &[Recorded], key: impl Fn(&Recorded) -> Option<usize>) -> Rows {
        let mut start = vec![0u32; n + 1];
        for s in steps {
            if let Some(k) = key(s) {
                debug_assert!(k < n, "{s:?}: key {k} of {n}");
                start[k + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut ids = vec![0u32; start[n] as usize];
        for (i, s) in steps.iter().enumerate() {
            if let Some(k) = key(s) {
                ids[fill[k] as usize] = i as u32;
                fill[k] += 1;
            }
        }
        Rows { start, ids }
    }

    fn row(&self, k: usize) -> &[u32] {
        match (self.start.get(k), self.start.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.ids[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// One step found by a query: its id (its place in the trace; the JSONL line
/// is `id + 2`) and the step.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    pub id: u32,
    pub s: &'a Recorded,
}

impl Found<'_> {
    pub fn t(&self) -> u64 {
        self.s.t
    }
    pub fn v(&self, i: usize) -> u64 {
        self.s.v[i]
    }
}

/// Some steps of the trace, in trace (time) order: a row of the index, cut
/// to a window by binary search. It iterates from either end.
#[derive(Clone, Copy, Debug)]
pub struct Steps<'a> {
    all: &'a [Recorded],
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
        let k = self.ids.partition_point(|&x| self.all[x as usize].t <= t);
        Steps { ids: &self.ids[..k], ..self }
    }
    /// Only the steps after virtual time `t` (µs).
    pub fn since(self, t: u64) -> Steps<'a> {
        let k = self.ids.partition_point(|&x| self.all[x as usize].t <= t);
        Steps { ids: &self.ids[k..], ..self }
    }
}

impl<'a> Iterator for Steps<'a> {
    type Item = Found<'a>;
    fn next(&mut self) -> Option<Found<'a>> {
        let (&id, rest) = self.ids.split_first()?;
        self.ids = rest;
        Some(Found { id, s: &self.all[id as usize] })
    }
}

impl DoubleEndedIterator for Steps<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (&id, rest) = self.ids.split_last()?;
        self.ids = rest;
        Some(Found { id, s: &self.all[id as usize] })
    }
}

/// Rows per (entity, kind) take this many kind slots (codes start at 1):
/// the kinds `explain` keeps (`Step::explained`), the last being `no_offset`.
const KINDS: usize = Step::NoOffset as usize + 1;

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

pub struct Index<'a> {
    pub steps: &'a [Recorded],
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
    pub fn new(w: &World, steps: &'a [Recorded]) -> Index<'a> {
        let records = w.oracle.ledger.records.len();
        let by_record = Rows::build(records, steps, |s| match s.kind {
            Step::Send
            | Step::Append
            | Step::Ack
            | Step::Fail
            | Step::Retry
            | Step::Process
            | Step::Effect
            | Step::Late => Some(s.v[0] as usize),
            _ => None,
        });
        let partition_of = |s: &Recorded| match s.kind {
            Step::Append | Step::Replicate | Step::Truncate | Step::Fetch | Step::Commit => Some(s.v[1]),
            Step::Assign | Step::Revoke | Step::Position => Some(s.v[1]),
            Step::Elect | Step::Isr | Step::Marker | Step::HighWatermark => Some(s.v[0]),
            _ => None,
        };
        let by_partition = Rows::build(w.partitions.len() * KINDS, steps, |s| {
            partition_of(s).map(|g| g as usize * KINDS + s.kind as usize)
        });
        let consumer_of = |s: &Recorded| match s.kind {
            Step::Fetch
            | Step::Commit
            | Step::CommitFailed
            | Step::PollTimeout
            | Step::Assign
            | Step::Revoke
            | Step::Position => Some(s.v[0]),
            Step::Process | Step::Effect => Some(s.v[1]),
            Step::Leave => Some(s.v[2]),
            Step::Crash | Step::Restart | Step::Pause | Step::Start | Step::Stop if s.v[0] == entity::CONSUMER => {
                Some(s.v[1])
            }
            _ => None,
        };
        let by_consumer = Rows::build(w.consumers.len() * KINDS, steps, |s| {
            consumer_of(s).map(|c| c as usize * KINDS + s.kind as usize)
        });
        let consumer_life =
            Rows::build(w.consumers.len(), steps, |s| consumer_of(s).filter(|_| is_life(s.kind)).map(|c| c as usize));
        let by_group = Rows::build(w.groups.len(), steps, |s| match s.kind {
            Step::Rebalance | Step::RebalanceStart | Step::Leave => Some(s.v[0] as usize),
            Step::Late => Some(s.v[1] as usize),
            _ => None,
        });
        let by_txn = Rows::build(w.txns.len(), steps, |s| match s.kind {
            Step::Fenced | Step::InitTxn | Step::TxnEnd => Some(s.v[0] as usize),
            Step::Marker => Some(s.v[3] as usize),
            _ => None,
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
    pub fn partition<'s>(&'s self, g: u32, kind: Step) -> Steps<'s> {
        self.steps_of(self.by_partition.row(g as usize * KINDS + kind as usize))
    }

    /// Steps of `kind` about consumer instance `c`.
    pub fn consumer<'s>(&'s self, c: u32, kind: Step) -> Steps<'s> {
        self.steps_of(self.by_consumer.row(c as usize * KINDS + kind as usize))
    }

    /// What changed consumer `c`'s hold on partitions: its faults, poll
    /// timeouts, leaving, refused commits, assignments, revocations, positions.
    pub fn consumer_life<'s>(&'s self, c: u32) -> Steps<'s> {
        self.steps_of(self.consumer_life.row(c as usize))
    }

    /// Rebalances, their starts, members leaving, late events of group `g`.
    pub fn group<'s>(&'s self, g: u32) -> Steps<'s> {
        self.steps_of(self.by_group.row(g as usize))
    }

    /// Epoch bumps, inits, ends and markers of transactional id `t`.
    pub fn txn<'s>(&'s self, t: u32) -> Steps<'s> {
        self.steps_of(self.by_txn.row(t as usize))
    }

    pub fn faults<'s>(&'s self) -> Steps<'s> {
        self.steps_of(&self.faults)
    }

    /// The fault step of `kind` on an entity, the first after time `after`.
    pub fn fault_of<'s>(&'s self, kind: Step, entity_kind: u64, idx: u64, after: u64) -> Option<Found<'s>> {
        self.faults().since(after).find(|f| f.s.kind == kind && f.v(0) == entity_kind && f.v(1) == idx)
    }
}

/// Names for ids, as people read them.
pub struct Names<'w> {
    pub w: &'w World,
}

impl Names<'_> {
    /// `web-0#4711 (key-17)`: the producer instance, the record's place in its send order, its key.
    pub fn record(&self, r: u32) -> String {
        let rec = &self.w.oracle.ledger.records[r as usize];
        let key = if rec.key == NULL_KEY { "null key".to_string() } else { format!("key-{}", rec.key) };
        format!("{} ({key})", self.record_short(r))
    }

    /// `web-0#4711`.
    pub fn record_short(&self, r: u32) -> String {
        let rec = &self.w.oracle.ledger.records[r as usize];
        format!("{}#{}", self.producer(rec.producer), rec.send_seq)
    }
    /// The record named `web-0#4711` (or by its trace id, `4711`); an error
    /// says what names exist.
    pub fn find(&self, name: &str) -> Result<u32, String> {
        let records = &self.w.oracle.ledger.records;
        if let Ok(id) = name.parse::<u32>() {
            return match records.get(id as usize) {
                Some(_) => Ok(id),
                None => Err(format!("record ids run from 0 to {}", records.len().saturating_sub(1))),
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
        records.iter().position(|r| r.producer == pi as u32 && r.send_seq == seq).map(|i| i as u32).ok_or_else(|| {
            format!("{p} sent {} records in this run", records.iter().filter(|r| r.producer == pi as u32).count())
        })
    }

    pub fn producer(&self, p: u32) -> &str {
        &self.w.producers[p as usize].name
    }
    pub fn partition(&self, g: u64) -> String {
        let p = &self.w.partitions[g as usize];
        format!("{}/{}", self.w.topics[p.topic].name, p.index)
    }
    pub fn consumer(&self, c: u64) -> &str {
        &self.w.consumers[c as usize].name
    }
    pub fn group(&self, g: u32) -> &str {
        &self.w.groups[g as usize].name
    }
    pub fn txn(&self, t: u64) -> &str {
        &self.w.txns[t as usize].name
    }
    pub fn broker(&self, b: u64) -> String {
        format!("broker-{b}")
    }
    /// Brokers of an `isr_brokers` mask: `{broker-0, broker-2}`.
    pub fn brokers(&self, mask: u64) -> String {
        let names: Vec<String> = (0..64).filter(|b| mask >> b & 1 == 1).map(|b| self.broker(b)).collect();
        format!("{{{}}}", names.join(", "))
    }
    pub fn entity(&self, kind: u64, i: u64) -> String {
        match kind {
            entity::BROKER => self.broker(i),
            entity::PRODUCER => self.w.producers[i as usize].name.clone(),
            _ => self.w.consumers[i as usize].name.clone(),
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
        let steps = [step(1, Step::Send, 2), step(2, Step::Crash, 0), step(3, Step::Send, 0), step(4, Step::Ack, 2)];
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
