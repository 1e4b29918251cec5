//! Causal stories: for each lost or duplicated record, the chain of steps
//! that made it so, in plain language with virtual timestamps, and the
//! anomalies grouped by the fault or event they share as a cause.
//!
//! Everything is read back from the kept trace (`Trace::kept`) and the
//! ledger: the model records what happened, and this file only connects it.

use std::collections::BTreeMap;

use crate::oracle::trace::{Recorded, Step};
use crate::world::World;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Anomaly {
    Lost,
    Duplicate,
    Reordered,
    Late,
}

impl Anomaly {
    pub fn name(self) -> &'static str {
        match self {
            Anomaly::Lost => "lost",
            Anomaly::Duplicate => "duplicate",
            Anomaly::Reordered => "reordered",
            Anomaly::Late => "late",
        }
    }
}

/// One record's story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    pub record: u32,
    pub anomaly: Anomaly,
    /// The shared cause, e.g. "crash of analytics-1 at 30.010s".
    pub cause: String,
    /// The chain of events, in order.
    pub text: String,
}

/// Stories, and how many anomalies each cause explains (most first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    pub stories: Vec<Story>,
    pub causes: Vec<(Anomaly, String, usize)>,
}

fn ts(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us / 1000 % 1000)
}

/// Indexes of the kept steps by what they are about.
struct Index<'a> {
    steps: &'a [Recorded],
    /// Per record: its appends (partition, offset, t) and processings (consumer, t, effect).
    appends: BTreeMap<u64, Vec<(u64, u64, u64)>>,
    processed: BTreeMap<u64, Vec<(u64, u64, u64)>>,
}

impl<'a> Index<'a> {
    fn new(steps: &'a [Recorded]) -> Index<'a> {
        let mut appends: BTreeMap<u64, Vec<(u64, u64, u64)>> = BTreeMap::new();
        let mut processed: BTreeMap<u64, Vec<(u64, u64, u64)>> = BTreeMap::new();
        for s in steps {
            match s.kind {
                Step::Append => appends.entry(s.a).or_default().push((s.b, s.c, s.t)),
                Step::Process => processed.entry(s.a).or_default().push((s.b, s.t, s.c)),
                _ => {}
            }
        }
        Index { steps, appends, processed }
    }

    /// Steps in `(from, to)` of `kind` matching `pred`.
    fn find(&self, from: u64, to: u64, kind: Step, pred: impl Fn(&Recorded) -> bool) -> Option<&'a Recorded> {
        self.steps.iter().find(|s| s.t > from && s.t < to && s.kind == kind && pred(s))
    }

    fn last_before(&self, to: u64, kind: Step, pred: impl Fn(&Recorded) -> bool) -> Option<&'a Recorded> {
        self.steps.iter().rev().find(|s| s.t < to && s.kind == kind && pred(s))
    }
}

struct Names<'w> {
    w: &'w World,
}

impl Names<'_> {
    fn record(&self, r: u64) -> String {
        let rec = &self.w.ledger.records[r as usize];
        let key = if rec.key == crate::oracle::ledger::NULL_KEY {
            "null key".to_string()
        } else {
            format!("key-{}", rec.key)
        };
        format!("{}#{} ({key})", self.w.producers[rec.producer as usize].name, rec.send_seq)
    }
    fn partition(&self, g: u64) -> String {
        let p = &self.w.partitions[g as usize];
        format!("{}/{}", self.w.topics[p.topic as usize].name, p.index)
    }
    fn consumer(&self, c: u64) -> &str {
        &self.w.consumers[c as usize].name
    }
    fn broker(&self, b: u64) -> String {
        if b == u64::MAX {
            "no leader".to_string()
        } else {
            format!("broker-{b}")
        }
    }
    fn entity(&self, kind: u64, i: u64) -> String {
        match kind {
            0 => format!("broker-{i}"),
            1 => self.w.producers[i as usize].name.clone(),
            _ => self.w.consumers[i as usize].name.clone(),
        }
    }
}

/// What took a consumer off a partition between `from` and `to`: a crash, a
/// poll timeout, a clean stop, or a rebalance.
fn disruption(ix: &Index<'_>, n: &Names<'_>, c: u64, from: u64, to: u64) -> (String, u64) {
    let crash = ix.find(from, to, Step::Crash, |s| s.a == 2 && s.b == c);
    let timeout = ix.find(from, to, Step::PollTimeout, |s| s.a == c);
    let stop = ix.find(from, to, Step::Stop, |s| s.a == 2 && s.b == c);
    let pause = ix.last_before(to, Step::Pause, |s| s.a == 2 && s.b == c && s.t + s.c > from);
    let first =
        [crash.map(|s| (s.t, 0)), timeout.map(|s| (s.t, 1)), stop.map(|s| (s.t, 2))].into_iter().flatten().min();
    match first {
        Some((t, 0)) => (format!("crash of {} at {}", n.consumer(c), ts(t)), t),
        Some((t, 1)) => (format!("{} exceeded max.poll.interval.ms and left at {}", n.consumer(c), ts(t)), t),
        Some((t, _)) => (format!("stop of {} at {}", n.consumer(c), ts(t)), t),
        None => match pause {
            Some(p) => (format!("pause of {} at {} for {}", n.consumer(c), ts(p.t), ts(p.c)), p.t),
            None => match ix.find(from, to, Step::Rebalance, |_| true) {
                Some(r) => (format!("rebalance at {}", ts(r.t)), r.t),
                None => ("an aborted transaction".to_string(), from),
            },
        },
    }
}

fn duplicate_story(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u64) -> Option<Story> {
    let appends = ix.appends.get(&r)?;
    if appends.len() > 1 {
        let (p, o1, t1) = appends[0];
        let (_, o2, t2) = appends[1];
        let producer = w.ledger.records[r as usize].producer as usize;
        let abort =
            w.producers[producer].txn.and_then(|t| ix.find(t1, t2, Step::TxnEnd, |s| s.a == u64::from(t) && s.b == 0));
        let text = format!(
            "record {} was appended to {}@{o1} at {} and again to @{o2} at {}: the producer sent it again (a retry after a lost acknowledgement or a request timeout, or an aborted transaction's retry), so the log holds two copies and each was processed",
            n.record(r),
            n.partition(p),
            ts(t1),
            ts(t2)
        );
        let cause = match abort {
            Some(a) => format!(
                "transaction of {} aborted at {}: its records were sent again, and read_uncommitted read both copies",
                w.txns[a.a as usize].name,
                ts(a.t)
            ),
            None if w.ledger.records[r as usize].seq == crate::oracle::ledger::NO_SEQ => {
                "retries without idempotence wrote records twice".to_string()
            }
            None => format!("{} written twice", n.partition(p)),
        };
        return Some(Story { record: r as u32, anomaly: Anomaly::Duplicate, cause, text });
    }
    let processed = ix.processed.get(&r)?;
    let (c1, t1, _) = *processed.first()?;
    let &(c2, t2, _) = processed.get(1)?;
    let (p, o, _) = appends[0];
    let (why, tw) = disruption(ix, n, c1, t1, t2);
    let last_commit = ix.last_before(t2, Step::Commit, |s| s.b == p);
    let committed = match last_commit {
        Some(cm) if cm.c <= o => format!(
            "the last commit of {} before that was offset {} (at {}), not past {o}",
            n.partition(p),
            cm.c,
            ts(cm.t)
        ),
        Some(cm) => format!("its last commit of {} was offset {} at {}", n.partition(p), cm.c, ts(cm.t)),
        None => format!("{} had no committed offset", n.partition(p)),
    };
    let rebalance = ix
        .find(tw, t2, Step::Rebalance, |_| true)
        .map_or(String::new(), |rb| format!("; after the rebalance at {} (generation {})", ts(rb.t), rb.b));
    let text = format!(
        "record {} ({}@{o}) was processed by {} at {}; {why} came before its commit: {committed}{rebalance} {} processed it again at {}",
        n.record(r),
        n.partition(p),
        n.consumer(c1),
        ts(t1),
        n.consumer(c2),
        ts(t2)
    );
    Some(Story { record: r as u32, anomaly: Anomaly::Duplicate, cause: why, text })
}

fn lost_story(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u64) -> Story {
    let rec = &w.ledger.records[r as usize];
    let story = |cause: String, text: String| Story { record: r as u32, anomaly: Anomaly::Lost, cause, text };
    let Some(&(p, o, ta)) = ix.appends.get(&r).and_then(|v| v.first()) else {
        let crash = ix.find(rec.sent_us, u64::MAX, Step::Crash, |s| s.a == 1 && s.b == u64::from(rec.producer));
        return match crash {
            Some(c) => story(
                format!("crash of {} at {}", n.entity(1, c.b), ts(c.t)),
                format!(
                    "record {} was handed to send() at {} and was still in {}'s buffer when it crashed at {}: it was never written",
                    n.record(r),
                    ts(rec.sent_us),
                    n.entity(1, c.b),
                    ts(c.t)
                ),
            ),
            None => story(
                "never written".to_string(),
                format!("record {} was handed to send() at {} but never reached a partition log", n.record(r), ts(rec.sent_us)),
            ),
        };
    };
    let part = &w.partitions[p as usize];
    let in_log =
        part.leader.is_some_and(|l| part.replicas[l].log.get(o as usize).is_some_and(|e| u64::from(e.record) == r));
    if !in_log {
        let leader_then =
            ix.last_before(ta + 1, Step::Elect, |s| s.a == p).map_or(u64::from(part.replicas[0].broker), |e| e.b);
        let elect = ix.find(ta, u64::MAX, Step::Elect, |s| s.a == p);
        let trunc = ix.find(ta, u64::MAX, Step::Truncate, |s| s.b == p && s.c <= o);
        let acked = if rec.acked_us != crate::oracle::ledger::NEVER {
            format!(", acknowledged at {}", ts(rec.acked_us))
        } else {
            String::new()
        };
        let crash = ix.find(ta, u64::MAX, Step::Crash, |s| s.a == 0 && s.b == leader_then);
        let cause = match crash {
            Some(c) => format!("crash of broker-{} at {}", c.b, ts(c.t)),
            None => format!("leader change of {}", n.partition(p)),
        };
        let mut text = format!(
            "record {} was appended to {}@{o} by {} at {}{acked}",
            n.record(r),
            n.partition(p),
            n.broker(leader_then),
            ts(ta)
        );
        // acks=all with an ISR of the leader alone: the Jepsen 2013 window.
        let ack_t = if rec.acked_us != crate::oracle::ledger::NEVER { rec.acked_us } else { ta };
        if let Some(isr) = ix.last_before(ack_t + 1, Step::Isr, |s| s.a == p) {
            if isr.b.count_ones() == 1 {
                text += &format!(
                    " while the ISR had shrunk to {} alone (since {}), so acks=all waited for no follower",
                    n.broker(u64::from(isr.b.trailing_zeros())),
                    ts(isr.t)
                );
            }
        }
        if let Some(c) = crash {
            text += &format!("; {} crashed at {} before the followers had it", n.broker(c.b), ts(c.t));
        }
        if let Some(e) = elect {
            text += &format!("; {} became leader at {} (epoch {}) without it", n.broker(e.b), ts(e.t), e.c);
        }
        if let Some(t) = trunc {
            text +=
                &format!("; broker-{} truncated {} to offset {} at {}, removing it", t.a, n.partition(p), t.c, ts(t.t));
        }
        return story(cause, text);
    }
    // In the log but never processed: a commit moved past it first.
    let gi = w
        .groups
        .iter()
        .position(|g| p >= u64::from(g.first_partition) && p < u64::from(g.first_partition + g.partitions));
    let commit = ix.find(ta, u64::MAX, Step::Commit, |s| s.b == p && s.c > o);
    match (commit, gi) {
        (Some(cm), Some(gi))
            if w.consumers[cm.a as usize].auto_offset_reset == crate::scenario::OffsetReset::Latest
                && ix.last_before(cm.t, Step::Commit, |s| s.b == p).is_none() =>
        {
            // The group's first commit of the partition: where auto.offset.reset put it.
            story(
                format!("auto.offset.reset=latest: group {} started at the end of the log", w.groups[gi].name),
                format!(
                    "record {} ({}@{o}) was appended at {}, before group {} first read {}: with no committed offset, auto.offset.reset=latest started it at the log end (its first commit, offset {} at {}, is past the record), so it was never fetched",
                    n.record(r),
                    n.partition(p),
                    ts(ta),
                    w.groups[gi].name,
                    n.partition(p),
                    cm.c,
                    ts(cm.t)
                ),
            )
        }
        (Some(cm), _) => {
            let crash = ix.find(cm.t - 1, u64::MAX, Step::Crash, |s| s.a == 2 && s.b == cm.a);
            let (cause, tail) = match crash {
                Some(c) => (
                    format!("crash of {} at {}", n.consumer(c.b), ts(c.t)),
                    format!("; {} crashed at {} before processing it, and the next owner resumed after it", n.consumer(c.b), ts(c.t)),
                ),
                None => (format!("commit ahead of processing by {}", n.consumer(cm.a)), String::new()),
            };
            story(
                cause,
                format!(
                    "record {} ({}@{o}, appended at {}) was committed past by {} at {} (offset {}) before it was processed{tail}",
                    n.record(r),
                    n.partition(p),
                    ts(ta),
                    n.consumer(cm.a),
                    ts(cm.t),
                    cm.c
                ),
            )
        }
        _ => story(
            "skipped by the group's starting offset".to_string(),
            format!(
                "record {} ({}@{o}, appended at {}) was never fetched: the group started reading {} past it (auto.offset.reset=latest), or read_committed skipped it as part of an aborted transaction",
                n.record(r),
                n.partition(p),
                ts(ta),
                n.partition(p)
            ),
        ),
    }
}

fn reordered_story(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u64, later: u64) -> Option<Story> {
    let (rec, lrec) = (&w.ledger.records[r as usize], &w.ledger.records[later as usize]);
    let &(p, o, ta) = ix.appends.get(&r)?.first()?;
    let &(p2, o2, ta2) = ix.appends.get(&later)?.first()?;
    let story = |cause: String, text: String| Story { record: r as u32, anomaly: Anomaly::Reordered, cause, text };
    let head = format!(
        "record {} was sent at {}, before {} (sent at {}), but reached the sink after it",
        n.record(r),
        ts(rec.sent_us),
        n.record(later),
        ts(lrec.sent_us)
    );
    if p == p2 && o > o2 {
        let in_flight = w.producers[rec.producer as usize].config.max_in_flight_requests_per_connection;
        return Some(story(
            format!("retries without idempotence reordered batches ({in_flight} requests in flight)"),
            format!(
                "{head}: the later record was appended first ({}@{o2} at {}) and this one only after a retry ({}@{o} at {}); consumers read the log in order",
                n.partition(p),
                ts(ta2),
                n.partition(p),
                ts(ta)
            ),
        ));
    }
    let first = |x: u64| ix.processed.get(&x).and_then(|v| v.first()).copied();
    let (c1, t1, _) = first(r)?;
    let (c2, t2, _) = first(later)?;
    Some(story(
        "processing order across consumers or a redelivery".to_string(),
        format!(
            "{head}: both sit in {} in send order (@{o} and @{o2}), but {} processed the later one at {} while {} processed this one only at {}",
            n.partition(p),
            n.consumer(c2),
            ts(t2),
            n.consumer(c1),
            ts(t1)
        ),
    ))
}

fn late_story(w: &World, n: &Names<'_>, r: u64, watermark: u64, at: u64, dropped: bool) -> Story {
    let rec = &w.ledger.records[r as usize];
    let pr = &w.producers[rec.producer as usize];
    let behind = watermark - rec.event_us;
    let held = rec.sent_us.saturating_sub(rec.event_us);
    let wm_delay = w.ledger.groups.iter().find_map(|g| g.aggregate.as_ref()).map_or(0, |a| a.spec.watermark_delay.us());
    let cause = match (&pr.event_time.offline, pr.event_time.skew_us) {
        (Some(_), _) if held > wm_delay => format!("{} was offline and sent held events late", pr.name),
        (_, skew) if skew > 0 => format!("{}'s clock runs behind", pr.name),
        _ if held > wm_delay => format!("{}'s events are sent long after they happen", pr.name),
        _ => "newer events from other partitions were processed first and moved the watermark past it".to_string(),
    };
    let fate = if dropped {
        "its window had closed for good, so it was dropped"
    } else {
        "it was counted, with a correction or before its window fired"
    };
    Story {
        record: r as u32,
        anomaly: Anomaly::Late,
        cause,
        text: format!(
            "record {} happened at {} (event time) but was sent only at {} ({} later); when it reached the aggregation at {} the watermark was already {} ({} past its event time): {fate}",
            n.record(r),
            ts(rec.event_us),
            ts(rec.sent_us),
            ts(held),
            ts(at),
            ts(watermark),
            ts(behind)
        ),
    }
}

/// Explains every lost, duplicated, reordered and late record of a finished run that kept its steps.
pub fn explain(w: &World, lost: &[u32]) -> Explanation {
    let steps = w.trace.kept.as_deref().unwrap_or(&[]);
    let ix = Index::new(steps);
    let n = Names { w };
    let mut stories = Vec::new();
    for &r in lost {
        stories.push(lost_story(w, &ix, &n, u64::from(r)));
    }
    for gl in &w.ledger.groups {
        for (r, d) in gl.deliveries.iter().enumerate() {
            if d.effects > 1 {
                if let Some(s) = duplicate_story(w, &ix, &n, r as u64) {
                    stories.push(s);
                }
            }
        }
    }
    for gl in &w.ledger.groups {
        for &(r, later) in &gl.inversions {
            if let Some(s) = reordered_story(w, &ix, &n, u64::from(r), u64::from(later)) {
                stories.push(s);
            }
        }
    }
    for gl in &w.ledger.groups {
        if let Some(agg) = gl.aggregate.as_ref() {
            for &(r, wm, at, dropped) in &agg.late {
                stories.push(late_story(w, &n, u64::from(r), wm, at, dropped));
            }
        }
    }
    let mut counts: BTreeMap<(Anomaly, String), usize> = BTreeMap::new();
    for s in &stories {
        *counts.entry((s.anomaly, s.cause.clone())).or_default() += 1;
    }
    let mut causes: Vec<(Anomaly, String, usize)> = counts.into_iter().map(|((a, c), k)| (a, c, k)).collect();
    causes.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (x.0, &x.1).cmp(&(y.0, &y.1))));
    Explanation { stories, causes }
}

/// The causes as lines: "23 duplicates, one cause: crash of analytics-1 at 30.010s".
pub fn cause_lines(e: &Explanation) -> Vec<String> {
    e.causes
        .iter()
        .map(|(a, cause, k)| {
            let what = match (a, k) {
                (Anomaly::Lost, 1) => "1 lost record".to_string(),
                (Anomaly::Lost, k) => format!("{k} lost records"),
                (Anomaly::Duplicate, 1) => "1 duplicate".to_string(),
                (Anomaly::Duplicate, k) => format!("{k} duplicates"),
                (Anomaly::Reordered, 1) => "1 reordered record".to_string(),
                (Anomaly::Reordered, k) => format!("{k} reordered records"),
                (Anomaly::Late, 1) => "1 late event".to_string(),
                (Anomaly::Late, k) => format!("{k} late events"),
            };
            format!("{what}, one cause: {cause}")
        })
        .collect()
}
