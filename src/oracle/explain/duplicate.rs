//! Records processed more than once by a group: redeliveries, and the
//! duplicate effects some of them leave on a plain sink. Each processing
//! (or effect) after the first gets a story. Either the log holds two
//! copies (the producer wrote the record twice), or the same offset was
//! processed again: the consumer that processed it first lost the partition
//! before committing past it (or processed it after losing the partition),
//! and the next holder resumed from an offset before it.

use super::index::Found;
use super::ownership::{commit_link, link, lost_hold, resumed_at};
use super::sending;
use super::view::{Position, View};
use super::{effect_offset, is_effect, Anomaly, Cause, Ctx, Link, Story};
use crate::model::ids::{ConsumerId, GroupId, PartitionId, ProducerId};
use crate::oracle::fact::Entity;
use crate::oracle::ledger::NO_SEQ;
use crate::oracle::trace::{SendError, Step};
use crate::scenario::SinkKind;

/// The stories of every duplicate effect on `group`'s sink
/// (`Anomaly::Duplicate`), or of every redelivery to it (`Anomaly::Redelivered`).
pub fn stories(cx: Ctx<'_>, group: GroupId, kind: Anomaly, out: &mut Vec<Story>) {
    debug_assert!(matches!(kind, Anomaly::Duplicate | Anomaly::Redelivered));
    let Ctx { w, ix, .. } = cx;
    for (r, d) in w.oracle.ledger.seen_all(group.raw()) {
        let times = if kind == Anomaly::Duplicate { d.effects } else { d.processed };
        if times < 2 {
            continue;
        }
        let steps: Vec<Found<'_>> = ix
            .record(r)
            .filter(|f| match kind {
                Anomaly::Duplicate => is_effect(w, f, group),
                _ => f.s.kind == Step::Process && w.consumers[f.process().consumer].group == group,
            })
            .collect();
        debug_assert_eq!(steps.len(), times as usize, "every processing and effect is in the trace");
        for (k, pair) in steps.windows(2).enumerate() {
            let mut s = story(cx, group, r, kind, (pair[0], pair[1]), k + 2);
            s.step = Some(pair[1].id);
            out.push(s);
        }
    }
}

/// The story of `e2`, the `k`th effect (or processing) of record `r` on
/// `group`'s sink, after `e1`, the one before it.
fn story(cx: Ctx<'_>, group: GroupId, r: u32, kind: Anomaly, (e1, e2): (Found<'_>, Found<'_>), k: usize) -> Story {
    let Ctx { w, ix, n } = cx;
    let g = PartitionId::new(w.oracle.ledger.partition_of(r));
    let (o1, o2) = (effect_offset(ix, r, e1), effect_offset(ix, r, e2));
    let at = |o: Option<u64>| o.map_or(n.partition(g), |o| format!("{}@{o}", n.partition(g)));
    let c1 = n.consumer(e1.processed().consumer);
    let c2 = n.consumer(e2.processed().consumer);
    let (headline, chain) = match kind {
        Anomaly::Duplicate => (
            format!("record {} at {} in group {}: effect {k} is a duplicate", n.record(r), at(o2), n.group(group)),
            vec![
                link(e1, format!("{c1} processed it from {}: the sink took it (effect {})", at(o1), k - 1)),
                link(e2, format!("{c2} processed it from {}: the sink took it again (effect {k})", at(o2))),
            ],
        ),
        _ => {
            let sink = w.consumers[e2.process().consumer].sink;
            let outcome = match (e2.process().effect, sink) {
                (true, _) if e1.process().effect => "the sink applied it again: a duplicate effect",
                (true, _) => "the sink took it",
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
        (Some(o1), Some(o2)) if o1 != o2 => two_copies(cx, r, (o1, e1.id), (o2, e2.id), &mut chain),
        (Some(o), Some(_)) => processed_again(cx, group, r, o, (e1, e2), &mut chain),
        _ => Cause::Unexplained { what: "an effect whose offset is not in the trace" },
    };
    if kind == Anomaly::Redelivered {
        sink_transactions(cx, r, (e1, e2), &mut chain);
    }
    Story::new(kind, r, group.raw(), cause, headline, chain)
}

/// The log holds the record at `o1` and at `o2` (read by steps `e1` and
/// `e2`): why the producer sent it again.
fn two_copies(cx: Ctx<'_>, r: u32, (o1, e1): (u64, u32), (o2, e2): (u64, u32), chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let g = PartitionId::new(rec.partition);
    // The copy read: the last append at that offset before the read (a
    // failover can put the same record at the same offset twice).
    let append = |o: u64, read: u32| {
        ix.record(r).before(read).rev().find(|f| f.s.kind == Step::Append && f.append().offset == o)
    };
    let (Some(a1), Some(a2)) = (append(o1, e1), append(o2, e2)) else {
        return Cause::Unexplained { what: "a copy whose append is not in the trace" };
    };
    let (a1, a2) = if a1.t() <= a2.t() { (a1, a2) } else { (a2, a1) };
    if let Some(cause) = resent_by_app(cx, r, (a1, a2), chain) {
        return cause;
    }
    let Some(retry) = ix.record(r).before(a2.id).rev().find(|f| f.s.kind == Step::Retry) else {
        return Cause::Unexplained { what: "two copies in the log without a retry" };
    };
    let first = if a1.id > retry.id { "an earlier attempt arrived after all: appended" } else { "appended" };
    let (c1, c2) = (a1.append(), a2.append());
    chain.push(link(a1, format!("{first} to {}@{} by {}", n.partition(g), c1.offset, n.broker(c1.broker))));
    chain.push(link(a2, format!("appended again, to {}@{} by {}", n.partition(g), c2.offset, n.broker(c2.broker))));
    let producer = ProducerId::new(rec.producer);
    let error = retry.retry().error;
    if error == SendError::TxnAborted {
        return aborted_and_resent(cx, r, (o1, a1.t()), retry, chain);
    }
    let idempotent = rec.seq != NO_SEQ;
    // Every attempt since the send: requests that timed out can all land
    // later, so a copy need not follow the retry that sent it.
    let from = ix.record(r).find(|f| f.s.kind == Step::Send).map_or(0, |f| f.id);
    let Some(error) = sending::resent(cx, r, from, a2.id, chain) else {
        return Cause::Unexplained { what: "two copies in the log without a retry" };
    };
    if !idempotent {
        if let Some(l) = chain.iter_mut().rev().find(|l| l.text.contains("goes again")) {
            l.text.push_str("; without idempotence the broker cannot tell a retry from a new record");
        }
    }
    Cause::WrittenTwice { producer: producer.raw(), error, idempotent }
}

/// The application sent record `r` again (a `resend` step between the two
/// appends `a1` and `a2`) after send() reported a failure for a write that
/// had landed: the chain and the cause, or None without one.
pub(super) fn resent_by_app(
    cx: Ctx<'_>,
    r: u32,
    (a1, a2): (Found<'_>, Found<'_>),
    chain: &mut Vec<Link>,
) -> Option<Cause> {
    let Ctx { w, ix, n } = cx;
    let resend = ix.record(r).after(a1.id).before(a2.id).rev().find(|f| f.s.kind == Step::Resend)?;
    let rec = w.oracle.ledger.life(r);
    let g = PartitionId::new(rec.partition);
    let (c1, c2, v) = (a1.append(), a2.append(), resend.resend());
    let producer = ProducerId::new(rec.producer);
    chain.push(link(a1, format!("appended to {}@{} by {}", n.partition(g), c1.offset, n.broker(c1.broker))));
    if let Some(b) = sending::leader_at(cx, g, a1.id) {
        if let Some(f) = sending::broker_fault(cx, b, a1.id, resend.id) {
            chain.push(link(f, sending::fault_text(n, f)));
        }
    }
    let text = format!(
        "{}'s send() failed with {}, though the write had landed; the application sends it again (on_failure: resend)",
        n.producer(producer),
        v.error.describe()
    );
    chain.push(link(resend, text));
    let text = format!(
        "appended again, to {}@{} by {}: a new send, a new sequence number",
        n.partition(g),
        c2.offset,
        n.broker(c2.broker)
    );
    chain.push(link(a2, text));
    Some(Cause::ResentByApp { producer: producer.raw(), error: v.error, landed: true })
}

/// Record `r`'s first copy (at `o1`) was written in a transaction that
/// aborted, and `retry` sent it again in the next one: what held the
/// transaction open, how it was aborted, and its abort marker.
fn aborted_and_resent(cx: Ctx<'_>, r: u32, (o1, o1_at): (u64, u64), retry: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let (g, producer) = (PartitionId::new(rec.partition), ProducerId::new(rec.producer));
    let Some(txn) = w.producers[producer].txn else {
        return Cause::Unexplained { what: "a transaction abort of a producer without transactions" };
    };
    let aborted = |f: &Found<'_>| f.s.kind == Step::TxnEnd && !f.txn_end().commit;
    let Some(end) = ix.txn(txn).until(retry.t()).rev().find(aborted) else {
        return Cause::Unexplained { what: "a resend after an abort that is not in the trace" };
    };
    if o1_at > end.t() {
        return late_write_joined_next(cx, (txn, producer, g, o1), end, retry, chain);
    }
    let fenced = ix.txn(txn).until(end.t()).rev().find(|f| f.s.kind == Step::Fenced);
    let by_timeout = fenced.is_some_and(|f| f.fenced().by_timeout);
    // What held the transaction open: its producer frozen or dead.
    let me = Entity::Producer(producer);
    let stalled = fenced.and_then(|fe| {
        ix.faults().before(fe.id).rev().find(|f| match f.view() {
            View::Crash(e) => e == me,
            View::Pause(p) => p.entity == me && f.t() + p.us > fe.t(),
            _ => false,
        })
    });
    if let Some(f) = stalled {
        chain.push(link(f, format!("{} while its transaction was open", sending::fault_text(n, f))));
    }
    if let Some(f) = fenced {
        let epoch = f.fenced().epoch;
        let why = if by_timeout {
            format!(
                "transaction.timeout.ms ({}) passed with {}'s transaction open: the coordinator aborts it (epoch {epoch})",
                super::index::span(w.txns[txn].timeout.us()),
                n.txn(txn),
            )
        } else {
            format!("a new incarnation of {} fences the open transaction (epoch {epoch})", n.txn(txn))
        };
        chain.push(link(f, why));
    }
    let abort_marker = |f: &Found<'_>| {
        let m = f.marker();
        !m.commit && m.txn == txn && m.offset > o1
    };
    if let Some(f) = ix.partition(g, Step::Marker).until(end.t()).find(abort_marker) {
        chain.push(link(
            f,
            format!(
                "abort marker at {}@{}: read_committed readers skip the first copy, read_uncommitted ones do not",
                n.partition(g),
                f.marker().offset
            ),
        ));
    }
    chain.push(link(end, format!("{}'s transaction ends aborted", n.txn(txn))));
    chain.push(link(retry, format!("{} sends it again in its next transaction", n.producer(producer))));
    Cause::AbortedAndResent { txn: txn.raw(), at: end.t(), by_timeout }
}

/// The first copy of a record of the transaction that ended (aborted) at
/// `end` reached the log only after that end: a request of the aborted
/// transaction held by the network (a timed-out request is not
/// cancelled). Its epoch was still the partition's, so the log took it
/// into the transaction that `retry` started, whose commit marker made both
/// copies visible (KIP-890's motivation; `ProducerAppendInfo` completes
/// the producer's open transaction at the next marker).
fn late_write_joined_next(
    cx: Ctx<'_>,
    (txn, producer, g, o1): (crate::model::ids::TxnId, ProducerId, PartitionId, u64),
    end: Found<'_>,
    retry: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { ix, n, .. } = cx;
    chain.insert(
        0,
        link(end, format!("{}'s transaction ends aborted; a request of it is still on the wire", n.txn(txn))),
    );
    chain.insert(1, link(retry, format!("{} sends it again in its next transaction", n.producer(producer))));
    let commit = |f: &Found<'_>| f.marker().commit && f.marker().txn == txn && f.marker().offset > o1;
    if let Some(f) = ix.partition(g, Step::Marker).after(end.id).find(commit) {
        let text = format!(
            "commit marker at {}@{}: the late copy is committed with the next transaction",
            n.partition(g),
            f.marker().offset
        );
        chain.push(link(f, text));
    }
    Cause::LateWriteJoinedNext { txn: txn.raw(), at: end.t() }
}

/// The same offset `o` took effect twice: who lost the partition, and where
/// the next holder resumed.
fn processed_again(
    cx: Ctx<'_>,
    group: GroupId,
    r: u32,
    o: u64,
    (e1, e2): (Found<'_>, Found<'_>),
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { w, ix, .. } = cx;
    let g = PartitionId::new(w.oracle.ledger.partition_of(r));
    let (c1, c2) = (e1.processed().consumer, e2.processed().consumer);
    let position = |c: ConsumerId, before: u32| {
        ix.consumer(c, Step::Position).before(before).rev().find(|f| f.position().partition == g)
    };
    let (Some(p1), Some(p2)) = (position(c1, e1.id), position(c2, e2.id)) else {
        return Cause::Unexplained { what: "a processing without a position in the trace" };
    };
    if p2.id > e1.id {
        // The second holder started after the first processing: the first
        // holder had not committed past it.
        return not_committed(cx, group, o, (e1, p1), p2, chain);
    }
    // Both held the partition at once: one of them had lost it already.
    resumed_at(cx, group, g, p2, chain);
    if let Some((how, links)) = lost_hold(cx, c1, g, p1.t(), e1.t()) {
        chain.extend(links);
        zombie(cx, c1, g, e1, u32::MAX, &mut chain[0]);
        return Cause::Reprocessed { consumer: c1.raw(), how };
    }
    if let Some((how, links)) = lost_hold(cx, c2, g, p2.t(), e2.t()) {
        chain.extend(links);
        zombie(cx, c2, g, e2, u32::MAX, &mut chain[1]);
        return Cause::Reprocessed { consumer: c2.raw(), how };
    }
    Cause::Unexplained { what: "two members held the partition at once" }
}

/// The first holder processed offset `o` (step `e1`, from its position
/// `p1`) and did not commit past it before the second holder resumed (its
/// position `p2`): a commit moved back, or the first holder lost the partition.
fn not_committed(
    cx: Ctx<'_>,
    group: GroupId,
    o: u64,
    (e1, p1): (Found<'_>, Found<'_>),
    p2: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { w, ix, n } = cx;
    let Position { consumer: c1, partition: g, .. } = p1.position();
    let resumed = resumed_at(cx, group, g, p2, chain);
    if let Some(cm) = resumed {
        let past_it = |f: &Found<'_>| {
            let c = f.commit();
            w.consumers[c.consumer].group == group && c.offset > o
        };
        let forward = ix.partition(g, Step::Commit).after(e1.id).before(cm.id).find(past_it);
        if let Some(fw) = forward {
            chain.push(commit_link(n, fw, &format!(", past @{o}")));
            chain.push(commit_link(n, cm, &format!(": back before @{o}, so it is read again")));
            return Cause::CommitMovedBack { consumer: cm.commit().consumer.raw(), at: cm.t() };
        }
    }
    let Some((how, links)) = lost_hold(cx, c1, g, p1.t(), p2.t()) else {
        if let Some(cause) = rewound_after_abort(cx, c1, e1, p2, chain) {
            return cause;
        }
        return Cause::Unexplained { what: "the partition's holder kept it but did not commit" };
    };
    chain.extend(links);
    if how.at() < e1.t() {
        // It had lost the partition already when it processed the record.
        zombie(cx, c1, g, e1, p2.id, &mut chain[0]);
        if let Some(f) = ix.consumer(c1, Step::CommitFailed).after(e1.id).before(p2.id).next() {
            let refused = f.commit_failed();
            let what = if refused.in_transaction { "offsets in its transaction were" } else { "commit was" };
            let text = format!("{}'s {what} refused: generation {} is over", n.consumer(c1), refused.generation);
            chain.push(link(f, text));
        }
    }
    let last = ix.consumer(c1, Step::Commit).until(how.at()).rev().find(|f| f.commit().partition == g);
    match last {
        Some(cm) if cm.t() > p1.t() => {
            chain.push(commit_link(n, cm, &format!(": its last commit, which does not cover @{o}")))
        }
        _ => chain.push(Link {
            t: p1.t(),
            step: p1.s.line,
            about: super::About::of(&p1.s),
            place: super::Place::default(),
            text: format!(
                "{} started reading {} at offset {} and never committed past @{o}",
                n.consumer(c1),
                n.partition(g),
                p1.position().offset
            ),
        }),
    }
    Cause::Reprocessed { consumer: c1.raw(), how }
}

/// Marks processing `p` (its link `l`) as done by a member that no longer
/// held the partition. A transactional sink's result from it never lands:
/// when no effect of the record by that consumer follows before step
/// `before`, the link says so.
fn zombie(cx: Ctx<'_>, c: ConsumerId, g: PartitionId, p: Found<'_>, before: u32, l: &mut Link) {
    let Ctx { w, ix, n } = cx;
    l.text.push_str(&format!(", though it no longer held {} (a zombie)", n.partition(g)));
    let sink = w.consumers[c].sink;
    let record = p.processed().record.raw();
    let landed =
        ix.record(record).after(p.id).before(before).any(|f| f.s.kind == Step::Effect && f.effect().consumer == c);
    if sink == SinkKind::Transactional && !landed {
        l.text.push_str("; its transaction cannot commit, so the result never reaches the sink");
    }
}

/// With a transactional sink a processing's result lands only when its
/// transaction commits: for each of the two processings, the commit that
/// brought its result to the sink, or that none did.
fn sink_transactions(cx: Ctx<'_>, r: u32, (e1, e2): (Found<'_>, Found<'_>), chain: &mut Vec<Link>) {
    let Ctx { w, ix, n } = cx;
    for (i, (p, until)) in [(e1, e2.id), (e2, u32::MAX)].into_iter().enumerate() {
        let c = p.processed().consumer;
        if w.consumers[c].sink != SinkKind::Transactional || chain[i].text.contains("(a zombie)") {
            continue;
        }
        let its_effect = |f: &Found<'_>| f.s.kind == Step::Effect && f.effect().consumer == c;
        let landed = ix.record(r).after(p.id).before(until).find(its_effect);
        match landed {
            Some(f) => {
                chain.push(link(f, format!("{}'s transaction committed: the result reached the sink", n.consumer(c))))
            }
            None => chain[i].text.push_str("; its transaction never committed, so the result never reached the sink"),
        }
    }
}

/// A read-process-write consumer's transaction aborted after it processed the
/// record (step `e1`), and it sought back to its committed offsets
/// (`on_abort: rewind`, as `ExactlyOnceMessageProcessor.resetToLastCommittedPositions`
/// does): the second processing is the redo the abort asks for.
fn rewound_after_abort(
    cx: Ctx<'_>,
    c: ConsumerId,
    e1: Found<'_>,
    p2: Found<'_>,
    chain: &mut Vec<Link>,
) -> Option<Cause> {
    let Ctx { w, ix, n } = cx;
    let txn = w.consumers[c].txn?;
    // The transaction's last end before the seek back is an abort, and no commit came
    // after the processing: the processing's result was in the aborted transaction, or in
    // the fenced one it kept writing to after the coordinator aborted it.
    let end = ix.txn(txn).before(p2.id).rev().find(|f| f.s.kind == Step::TxnEnd)?;
    let committed_since = |f: &Found<'_>| f.s.kind == Step::TxnEnd && f.txn_end().commit;
    if end.txn_end().commit || ix.txn(txn).after(e1.id).before(p2.id).any(|f| committed_since(&f)) {
        return None;
    }
    let text = format!("{}'s transaction ({}) aborted: its results are dropped", n.consumer(c), n.txn(txn));
    chain.push(link(end, text));
    Some(Cause::RewoundAfterAbort { consumer: c.raw(), txn: txn.raw(), at: end.t() })
}
