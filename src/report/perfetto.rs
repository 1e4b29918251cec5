//! `timeline --perfetto`: the run as Chrome trace-event JSON
//! (`{"traceEvents": [...]}`), which ui.perfetto.dev and chrome://tracing open.
//!
//! One process track per broker, producer and consumer (`process_name` and
//! `thread_name` metadata), with: async slices (`b`/`e`) for batches in
//! flight (first send to acknowledgement), outages (crash to restart,
//! pauses) and rebalances; complete slices (`X`) for processing; instant
//! events (`i`) for elections, ISR changes, commit failures, members leaving,
//! fencing and aborts; and, for a chosen record, its steps on a thread of
//! their own joined by flow arrows (`s`/`t`/`f`). Times are virtual µs,
//! the format's own unit. Built from the facts and the shape alone.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::oracle::fact::{ConsumerId, Entity, Fact, PartitionId, ProducerId};
use crate::oracle::shape::Shape;
use crate::report::names::Names;
use crate::report::record_path::RecordStep;
use crate::report::timeline;

/// Most batch and processing slices written each; past it the file says how many were left out.
pub const MAX_SLICES: usize = 100_000;
/// The record thread's tid is its process's pid plus this.
const RECORD_TID: u64 = 1_000_000;

/// The events being written, and the async ids handed out.
struct Out<'a> {
    names: Names<'a>,
    events: Vec<Value>,
    next_id: u64,
    /// Slices left out past [`MAX_SLICES`] (batches, processing).
    left_out: (u64, u64),
}

impl Out<'_> {
    /// The process (and main thread) id of an entity: brokers, then producers, then consumers.
    fn pid(&self, e: Entity) -> u64 {
        let s = self.names.shape;
        1 + match e {
            Entity::Broker(b) => u64::from(b.raw()),
            Entity::Producer(p) => u64::from(s.brokers) + u64::from(p.raw()),
            Entity::Consumer(c) => u64::from(s.brokers) + s.producers.len() as u64 + u64::from(c.raw()),
        }
    }

    /// An async slice from `from` to `to` (µs) on `e`'s process track.
    fn span(&mut self, e: Entity, cat: &str, name: String, (from, to): (u64, u64), args: Value) {
        let (pid, id) = (self.pid(e), self.next_id);
        self.next_id += 1;
        let begin =
            json!({"ph": "b", "cat": cat, "name": name, "id": id, "pid": pid, "tid": pid, "ts": from, "args": args});
        self.events.push(begin);
        self.events
            .push(json!({"ph": "e", "cat": cat, "name": name, "id": id, "pid": pid, "tid": pid, "ts": to.max(from)}));
    }

    /// An instant event on `e`'s track, or on every track (`None`).
    fn instant(&mut self, e: Option<Entity>, cat: &str, name: String, ts: u64) {
        match e {
            Some(e) => {
                let pid = self.pid(e);
                self.events
                    .push(json!({"ph": "i", "s": "t", "cat": cat, "name": name, "pid": pid, "tid": pid, "ts": ts}));
            }
            None => {
                self.events.push(json!({"ph": "i", "s": "g", "cat": cat, "name": name, "pid": 0, "tid": 0, "ts": ts}))
            }
        }
    }
}

/// Every entity of the shape, in track order.
fn entities(shape: &Shape) -> Vec<Entity> {
    let brokers = (0..shape.brokers).map(|b| Entity::Broker(crate::oracle::fact::BrokerId::new(b)));
    let producers = (0..shape.producers.len() as u32).map(|p| Entity::Producer(ProducerId::new(p)));
    let consumers = (0..shape.consumers.len() as u32).map(|c| Entity::Consumer(ConsumerId::new(c)));
    brokers.chain(producers).chain(consumers).collect()
}

/// The trace-event JSON of a run: its facts, when it ended (µs), and the
/// chosen record's name and steps, if any.
pub fn trace(shape: &Shape, facts: &[(u64, Fact)], end_us: u64, record: Option<(&str, &[RecordStep])>) -> String {
    let mut out = Out { names: Names::new(shape), events: Vec::new(), next_id: 1, left_out: (0, 0) };
    tracks(&mut out);
    outages(&mut out, facts, end_us);
    rebalances(&mut out, facts);
    batches(&mut out, facts);
    processing(&mut out, facts);
    incidents(&mut out, facts);
    if let Some((name, steps)) = record {
        flow(&mut out, name, steps);
    }
    let (batches_out, processing_out) = out.left_out;
    let mut events = out.events;
    // Metadata first, then time order; equal times keep the order written (a `b` before its `e`).
    events.sort_by_key(|e| (e["ph"] != "M", e["ts"].as_u64().unwrap_or(0)));
    let doc = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": shape.run.scenario,
            "seed": shape.run.seed,
            "batch_slices_left_out": batches_out,
            "processing_slices_left_out": processing_out,
        },
    });
    doc.to_string()
}

/// The metadata naming each track, sorted brokers, producers, consumers.
fn tracks(out: &mut Out) {
    for e in entities(out.names.shape) {
        let (pid, name) = (out.pid(e), out.names.entity(e));
        out.events
            .push(json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid, "ts": 0, "args": {"name": name}}));
        out.events.push(json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid, "ts": 0, "args": {"sort_index": pid}}));
        out.events
            .push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": pid, "ts": 0, "args": {"name": name}}));
    }
}

/// Crash to restart (or the end), and pauses, as `outage` slices.
fn outages(out: &mut Out, facts: &[(u64, Fact)], end_us: u64) {
    let mut down: BTreeMap<u64, (Entity, u64)> = BTreeMap::new();
    for &(t, ref f) in facts {
        match *f {
            Fact::Crash(e) | Fact::Stop(e) => {
                down.entry(out.pid(e)).or_insert((e, t));
            }
            Fact::Restart(e) | Fact::Start(e) => {
                if let Some((_, from)) = down.remove(&out.pid(e)) {
                    let what = if matches!(f, Fact::Restart(_)) { "down" } else { "stopped" };
                    out.span(e, "outage", what.into(), (from, t), json!({}));
                }
            }
            Fact::Pause { entity, us } => {
                let name = format!("paused {}", timeline::duration(us));
                out.span(entity, "outage", name, (t, t.saturating_add(us)), json!({}));
            }
            _ => {}
        }
    }
    for (_, (e, from)) in down {
        out.span(e, "outage", "down".into(), (from, end_us), json!({"until": "the end of the run"}));
    }
}

/// From a rebalance's start to its completion, on the members of the new
/// generation and the member that started it.
fn rebalances(out: &mut Out, facts: &[(u64, Fact)]) {
    let mut pending: BTreeMap<u32, (u64, ConsumerId)> = BTreeMap::new();
    for &(t, ref f) in facts {
        match *f {
            Fact::RebalanceStart { group, consumer, .. } => {
                pending.entry(group.raw()).or_insert((t, consumer));
            }
            Fact::Rebalance { group, generation, ref members } => {
                let Some((from, by)) = pending.remove(&group.raw()) else { continue };
                let mut who: Vec<ConsumerId> = members.iter().map(|(c, _)| *c).collect();
                if !who.contains(&by) {
                    who.push(by);
                }
                for c in who {
                    let parts = members.iter().find(|(m, _)| *m == c).map_or(Vec::new(), |(_, ps)| {
                        ps.iter().map(|p| out.names.group_partition(group, p.raw())).collect()
                    });
                    let name = format!("rebalance → generation {}", generation.raw());
                    let args = json!({"group": out.names.group(group), "assigned": parts});
                    out.span(Entity::Consumer(c), "rebalance", name, (from, t), args);
                }
            }
            _ => {}
        }
    }
}

/// A batch: the records of one producer to one partition acknowledged at
/// the same instant (one produce response), from the first one's send to the ack.
fn batches(out: &mut Out, facts: &[(u64, Fact)]) {
    let mut sent: Vec<(u64, PartitionId)> = Vec::new();
    let mut acked: BTreeMap<(u32, u64, u32), (u64, u64)> = BTreeMap::new();
    for &(t, ref f) in facts {
        match *f {
            Fact::Send { record, partition, .. } => {
                if sent.len() <= record.index() {
                    sent.resize(record.index() + 1, (0, partition));
                }
                sent[record.index()] = (t, partition);
            }
            Fact::Ack { record, producer } => {
                let Some(&(from, p)) = sent.get(record.index()) else { continue };
                let b = acked.entry((producer.raw(), t, p.raw())).or_insert((from, 0));
                b.0 = b.0.min(from);
                b.1 += 1;
            }
            _ => {}
        }
    }
    for (i, ((producer, ack, partition), (from, records))) in acked.into_iter().enumerate() {
        if i >= MAX_SLICES {
            out.left_out.0 += 1;
            continue;
        }
        let name = format!("batch → {}", out.names.partition(PartitionId::new(partition)));
        out.span(Entity::Producer(ProducerId::new(producer)), "batch", name, (from, ack), json!({"records": records}));
    }
}

/// Processing as complete slices on each consumer's thread: a record's
/// processing starts when the one before it ended or its fetch came back,
/// whichever is later; back-to-back records make one slice.
fn processing(out: &mut Out, facts: &[(u64, Fact)]) {
    // Per consumer: the time it became free, and the slice open (start, end, records).
    let mut free: BTreeMap<u32, u64> = BTreeMap::new();
    let mut open: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
    let mut written = 0usize;
    let mut close = |out: &mut Out, c: u32, (from, to, n): (u64, u64, u64)| {
        if written >= MAX_SLICES {
            out.left_out.1 += 1;
            return;
        }
        written += 1;
        let pid = out.pid(Entity::Consumer(ConsumerId::new(c)));
        let name = if n == 1 { "process 1 record".to_string() } else { format!("process {n} records") };
        out.events.push(json!({"ph": "X", "cat": "processing", "name": name, "pid": pid, "tid": pid, "ts": from, "dur": to - from, "args": {"records": n}}));
    };
    for &(t, ref f) in facts {
        match *f {
            Fact::Fetch { consumer, .. } => {
                let e = free.entry(consumer.raw()).or_insert(t);
                *e = (*e).max(t);
            }
            Fact::Process { consumer, .. } => {
                let c = consumer.raw();
                let from = free.get(&c).copied().unwrap_or(t).min(t);
                free.insert(c, t);
                match open.get_mut(&c) {
                    Some(s) if s.1 == from => (s.1, s.2) = (t, s.2 + 1),
                    _ => {
                        if let Some(s) = open.insert(c, (from, t, 1)) {
                            close(out, c, s);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (c, s) in open {
        close(out, c, s);
    }
}

/// Elections, ISR changes, truncations, members leaving, commit failures,
/// fencing and aborts, as instants on the track they concern.
fn incidents(out: &mut Out, facts: &[(u64, Fact)]) {
    let mut reader = timeline::Reader::new(out.names.shape);
    for &(t, ref f) in facts {
        let Some((who, what)) = reader.read(f) else { continue };
        let track = match *f {
            Fact::Elect { leader, .. } => leader.map(Entity::Broker),
            Fact::Truncate { broker, .. } => Some(Entity::Broker(broker)),
            Fact::Leave { consumer, .. } | Fact::PollTimeout { consumer, .. } | Fact::CommitFailed { consumer, .. } => {
                Some(Entity::Consumer(consumer))
            }
            Fact::NoOffset { consumer, .. } | Fact::Position { consumer, .. } => Some(Entity::Consumer(consumer)),
            Fact::Fenced { txn, .. } | Fact::TxnEnd { txn, .. } => out.names.txn_producer(txn).map(Entity::Producer),
            Fact::Crash(x) | Fact::Restart(x) | Fact::Start(x) | Fact::Stop(x) => Some(x),
            Fact::Pause { entity, .. } => Some(entity),
            Fact::Isr { .. } | Fact::NetworkPartition { .. } | Fact::RebalanceStart { .. } | Fact::Rebalance { .. } => {
                None
            }
            _ => continue,
        };
        out.instant(track, "incident", format!("{who}: {what}"), t);
    }
}

/// The chosen record's steps, one short slice each on a thread of their own
/// in the process where it happened, joined by flow arrows. Steps at the
/// same microsecond on one thread are spread 1 µs apart so each slice stands alone.
fn flow(out: &mut Out, name: &str, steps: &[RecordStep]) {
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut named: Vec<u64> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let pid = out.pid(s.entity);
        let tid = RECORD_TID + pid;
        if !named.contains(&tid) {
            named.push(tid);
            out.events.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "ts": 0, "args": {"name": format!("record {name}")}}));
        }
        let ts = last.get(&tid).map_or(s.at_us, |&l| s.at_us.max(l + 1));
        last.insert(tid, ts);
        out.events.push(json!({"ph": "X", "cat": "record", "name": s.what, "pid": pid, "tid": tid, "ts": ts, "dur": 1, "args": {"record": name}}));
        let ph = match i {
            0 => "s",
            i if i + 1 == steps.len() => "f",
            _ => "t",
        };
        out.events.push(
            json!({"ph": ph, "bp": "e", "cat": "record", "name": name, "id": 1, "pid": pid, "tid": tid, "ts": ts}),
        );
    }
}
