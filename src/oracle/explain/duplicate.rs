//! Records processed more than once by a group: redeliveries, and the
//! duplicate effects some of them leave on a plain sink. Each processing
//! (or effect) after the first gets a story. Either the log holds two
//! copies (the producer wrote the record twice), or the same offset was
//! processed again: the consumer that processed it first lost the partition
//! before committing past it (or processed it after losing the partition),
//! and the next holder resumed from an offset before it.

use super::index::{Found, Index, Names};
use super::ownership::{commit_link, link, lost_hold, resumed_at};
use super::sending;
use super::{effect_offset, is_effect, Anomaly, Cause, Link, Story};
use crate::oracle::ledger::NO_SEQ;
use crate::oracle::trace::{entity, SendError, Step};
use crate::scenario::SinkKind;
use crate::world::World;

/// The stories of every duplicate effect on `group`'s sink
/// (`Anomaly::Duplicate`), or of every redelivery to it (`Anomaly::Redelivered`).
pub fn stories(w: &World, ix: &Index<'_>, n: &Names<'_>, group: u32, kind: Anomaly, out: &mut Vec<Story>) {
    debug_assert!(matches!(kind, Anomaly::Duplicate | Anomaly::Redelivered));
    let gl = &w.oracle.ledger.groups[group as usize];
    for (r, d) in gl.deliveries.iter().enumerate() {
        let times = if kind == Anomaly::Duplicate { d.effects } else { d.processed };
        if times < 2 {
            continue;
        }
        let r = r as u32;
        let steps: Vec<Found<'_>> = ix
            .record(r)
            .filter(|f| match kind {
                Anomaly::Duplicate => is_effect(w, f, group),
                _ => f.s.kind == Step::Process && w.consumers[f.v(1) as usize].group.raw() == group,
            })
            .collect();
        debug_assert_eq!(steps.len(), times as usize, "every processing and effect is in the trace");
        for (k, pair) in steps.windows(2).enumerate() {
            out.push(story(w, ix, n, group, r, kind, pair[0], pair[1], k + 2));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn story(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    group: u32,
    r: u32,
    kind: Anomaly,
    e1: Found<'_>,
    e2: Found<'_>,
    k: usize,
) -> Story {
    let g = w.oracle.ledger.records[r as usize].partition as u64;
    let (o1, o2) = (effect_offset(ix, r, e1), effect_offset(ix, r, e2));
    let at = |o: Option<u64>| o.map_or(n.partition(g), |o| format!("{}@{o}", n.partition(g)));
    let c1 = n.consumer(e1.v(1));
    let c2 = n.consumer(e2.v(1));
    let (headline, chain) = match kind {
        Anomaly::Duplicate => (
            format!("record {} at {} in group {}: effect {k} is a duplicate", n.record(r), at(o2), n.group(group)),
            vec![
                link(e1, format!("{c1} processed it from {}: the sink took it (effect {})", at(o1), k - 1)),
                link(e2, format!("{c2} processed it from {}: the sink took it again (effect {k})", at(o2))),
            ],
        ),
        _ => {
            let sink = w.consumers[e2.v(1) as usize].sink;
            let outcome = match (e2.v(3), sink) {
                (1, _) if e1.v(3) == 1 => "the sink applied it again: a duplicate effect",
                (1, _) => "the sink took it",
                (_, SinkKind::Idempotent) => "the idempotent sink had it already: no new effect",
                (_, SinkKind::Transactional) => "the result goes into its transaction",
                _ => "no new effect",
            };
            (
                format!(
                    "record {} at {} in group {}: processing {k} is a redelivery",
                    n.record(r),
                    at(o2),
                    n.group(group)
                ),
                vec![
                    link(e1, format!("{c1} processed it from {} (processing {})", at(o1), k - 1)),
                    link(e2, format!("{c2} processed it again from {}: {outcome}", at(o2))),
                ],
            )
        }
    };
    let mut chain = chain;
    let cause = match (o1, o2) {
        (Some(o1), Some(o2)) if o1 != o2 => two_copies(w, ix, n, r, (o1, e1.id), (o2, e2.id), &mut chain),
        (Some(o), Some(_)) => processed_again(w, ix, n, group, r, o, e1, e2, &mut chain),
        _ => Cause::Unexplained { what: "an effect whose offset is not in the trace" },
    };
    if kind == Anomaly::Redelivered {
        sink_transactions(w, ix, n, r, e1, e2, &mut chain);
    }
    Story::new(kind, r, group, cause, headline, chain)
}

/// The log holds the record at `o1` and at `o2` (read by steps `e1` and
/// `e2`): why the producer sent it again.
#[allow(clippy::too_many_arguments)]
fn two_copies(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    r: u32,
    (o1, e1): (u64, u32),
    (o2, e2): (u64, u32),
    chain: &mut Vec<Link>,
) -> Cause {
    let rec = &w.oracle.ledger.records[r as usize];
    let g = rec.partition as u64;
    // The copy read: the last append at that offset before the read (a
    // failover can put the same record at the same offset twice).
    let append = |o: u64, read: u32| ix.record(r).before(read).rev().find(|f| f.s.kind == Step::Append && f.v(2) == o);
    let (Some(a1), Some(a2)) = (append(o1, e1), append(o2, e2)) else {
        return Cause::Unexplained { what: "a copy whose append is not in the trace" };
    };
    let (a1, a2) = if a1.t() <= a2.t() { (a1, a2) } else { (a2, a1) };
    let Some(retry) = ix.record(r).before(a2.id).rev().find(|f| f.s.kind == Step::Retry) else {
        return Cause::Unexplained { what: "two copies in the log without a retry" };
    };
    let first = if a1.id > retry.id { "an earlier attempt arrived after all: appended" } else { "appended" };
    chain.push(link(a1, format!("{first} to {}@{} by {}", n.partition(g), a1.v(2), n.broker(a1.v(3)))));
    chain.push(link(a2, format!("appended again, to {}@{} by {}", n.partition(g), a2.v(2), n.broker(a2.v(3)))));
    let producer = rec.producer;
    let error = SendError::from_code(retry.v(2)).unwrap_or(SendError::Disconnected);
    if error == SendError::TxnAborted {
        let Some(txn) = w.producers[producer as usize].txn.map(|t| t.raw()) else {
            return Cause::Unexplained { what: "a transaction abort of a producer without transactions" };
        };
        let end = ix.txn(txn).until(retry.t()).rev().find(|f| f.s.kind == Step::TxnEnd && f.v(1) == 0);
        let Some(end) = end else {
            return Cause::Unexplained { what: "a resend after an abort that is not in the trace" };
        };
        let fenced = ix.txn(txn).until(end.t()).rev().find(|f| f.s.kind == Step::Fenced);
        let by_timeout = fenced.is_some_and(|f| f.v(2) == 1);
        // What held the transaction open: its producer frozen or dead.
        let stalled = fenced.and_then(|fe| {
            ix.faults().before(fe.id).rev().find(|f| {
                matches!(f.s.kind, Step::Pause | Step::Crash)
                    && f.v(0) == entity::PRODUCER
                    && f.v(1) == producer as u64
                    && (f.s.kind == Step::Crash || f.t() + f.v(2) > fe.t())
            })
        });
        if let Some(f) = stalled {
            chain.push(link(f, format!("{} while its transaction was open", sending::fault_text(n, f))));
        }
        if let Some(f) = fenced {
            let why = if by_timeout {
                format!(
                    "transaction.timeout.ms ({}) passed with {}'s transaction open: the coordinator aborts it (epoch {})",
                    super::index::span(w.txns[txn as usize].timeout.us()),
                    n.txn(txn as u64),
                    f.v(1)
                )
            } else {
                format!("a new incarnation of {} fences the open transaction (epoch {})", n.txn(txn as u64), f.v(1))
            };
            chain.push(link(f, why));
        }
        let marker = ix
            .partition(g as u32, Step::Marker)
            .until(end.t())
            .find(|f| f.v(2) == 0 && f.v(3) == txn as u64 && f.v(1) > o1);
        if let Some(m) = marker {
            chain.push(link(
                m,
                format!(
                    "abort marker at {}@{}: read_committed readers skip the first copy, read_uncommitted ones do not",
                    n.partition(g),
                    m.v(1)
                ),
            ));
        }
        chain.push(link(end, format!("{}'s transaction ends aborted", n.txn(txn as u64))));
        chain.push(link(retry, format!("{} sends it again in its next transaction", n.producer(producer))));
        return Cause::AbortedAndResent { txn, at: end.t(), by_timeout };
    }
    let idempotent = rec.seq != NO_SEQ;
    // Every attempt since the send: requests that timed out can all land
    // later, so a copy need not follow the retry that sent it.
    let from = ix.record(r).find(|f| f.s.kind == Step::Send).map_or(0, |f| f.id);
    let Some(error) = sending::resent(ix, n, r, from, a2.id, chain) else {
        return Cause::Unexplained { what: "two copies in the log without a retry" };
    };
    if !idempotent {
        if let Some(l) = chain.iter_mut().rev().find(|l| l.text.contains("goes again")) {
            l.text.push_str("; without idempotence the broker cannot tell a retry from a new record");
        }
    }
    Cause::WrittenTwice { producer, error, idempotent }
}

/// The same offset `o` took effect twice: who lost the partition, and where
/// the next holder resumed.
#[allow(clippy::too_many_arguments)]
fn processed_again(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    group: u32,
    r: u32,
    o: u64,
    e1: Found<'_>,
    e2: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let g = w.oracle.ledger.records[r as usize].partition;
    let (c1, c2) = (e1.v(1) as u32, e2.v(1) as u32);
    let position =
        |c: u32, before: u32| ix.consumer(c, Step::Position).before(before).rev().find(|f| f.v(1) == g as u64);
    let (Some(p1), Some(p2)) = (position(c1, e1.id), position(c2, e2.id)) else {
        return Cause::Unexplained { what: "a processing without a position in the trace" };
    };
    if p2.id > e1.id {
        // The second holder started after the first processing: the first
        // holder had not committed past it.
        let resumed = resumed_at(w, ix, n, group, g, p2, chain);
        if let Some(cm) = resumed {
            let forward = ix
                .partition(g, Step::Commit)
                .after(e1.id)
                .before(cm.id)
                .find(|f| w.consumers[f.v(0) as usize].group.raw() == group && f.v(2) > o);
            if let Some(fw) = forward {
                chain.push(commit_link(n, fw, &format!(", past @{o}")));
                chain.push(commit_link(n, cm, &format!(": back before @{o}, so it is read again")));
                return Cause::CommitMovedBack { consumer: cm.v(0) as u32, at: cm.t() };
            }
        }
        let Some((how, links)) = lost_hold(w, ix, n, c1, g, p1.t(), p2.t()) else {
            return Cause::Unexplained { what: "the partition's holder kept it but did not commit" };
        };
        chain.extend(links);
        if how.at() < e1.t() {
            // It had lost the partition already when it processed the record.
            zombie(ix, n, c1, g, e1, p2.id, &mut chain[0]);
            if let Some(refused) = ix.consumer(c1, Step::CommitFailed).after(e1.id).before(p2.id).next() {
                let what = if refused.v(2) == 1 { "offsets in its transaction were" } else { "commit was" };
                let text = format!("{}'s {what} refused: generation {} is over", n.consumer(c1 as u64), refused.v(1));
                chain.push(link(refused, text));
            }
        }
        let last = ix.consumer(c1, Step::Commit).until(how.at()).rev().find(|f| f.v(1) == g as u64);
        match last {
            Some(cm) if cm.t() > p1.t() => {
                chain.push(commit_link(n, cm, &format!(": its last commit, which does not cover @{o}")))
            }
            _ => chain.push(Link {
                t: p1.t(),
                step: p1.s.line,
                text: format!(
                    "{} started reading {} at offset {} and never committed past @{o}",
                    n.consumer(c1 as u64),
                    n.partition(g as u64),
                    p1.v(2)
                ),
            }),
        }
        return Cause::Reprocessed { consumer: c1, how };
    }
    // Both held the partition at once: one of them had lost it already.
    resumed_at(w, ix, n, group, g, p2, chain);
    if let Some((how, links)) = lost_hold(w, ix, n, c1, g, p1.t(), e1.t()) {
        chain.extend(links);
        zombie(ix, n, c1, g, e1, u32::MAX, &mut chain[0]);
        return Cause::Reprocessed { consumer: c1, how };
    }
    if let Some((how, links)) = lost_hold(w, ix, n, c2, g, p2.t(), e2.t()) {
        chain.extend(links);
        zombie(ix, n, c2, g, e2, u32::MAX, &mut chain[1]);
        return Cause::Reprocessed { consumer: c2, how };
    }
    Cause::Unexplained { what: "two members held the partition at once" }
}

/// Marks processing `p` (its link `l`) as done by a member that no longer
/// held the partition. A transactional sink's result from it never lands:
/// when no effect of the record by that consumer follows before step
/// `before`, the link says so.
fn zombie(ix: &Index<'_>, n: &Names<'_>, c: u32, g: u32, p: Found<'_>, before: u32, l: &mut Link) {
    l.text.push_str(&format!(", though it no longer held {} (a zombie)", n.partition(g as u64)));
    let sink = n.w.consumers[c as usize].sink;
    let landed =
        ix.record(p.v(0) as u32).after(p.id).before(before).any(|f| f.s.kind == Step::Effect && f.v(1) == c as u64);
    if sink == SinkKind::Transactional && !landed {
        l.text.push_str("; its transaction cannot commit, so the result never reaches the sink");
    }
}

/// With a transactional sink a processing's result lands only when its
/// transaction commits: for each of the two processings, the commit that
/// brought its result to the sink, or that none did.
fn sink_transactions(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    r: u32,
    e1: Found<'_>,
    e2: Found<'_>,
    chain: &mut Vec<Link>,
) {
    for (i, (p, until)) in [(e1, e2.id), (e2, u32::MAX)].into_iter().enumerate() {
        let c = p.v(1) as u32;
        if w.consumers[c as usize].sink != SinkKind::Transactional || chain[i].text.contains("(a zombie)") {
            continue;
        }
        let landed = ix.record(r).after(p.id).before(until).find(|f| f.s.kind == Step::Effect && f.v(1) == c as u64);
        match landed {
            Some(f) => chain.push(link(
                f,
                format!("{}'s transaction committed: the result reached the sink", n.consumer(c as u64)),
            )),
            None => chain[i].text.push_str("; its transaction never committed, so the result never reached the sink"),
        }
    }
}
