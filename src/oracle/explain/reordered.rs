//! Reorderings: a record that took effect after a later record of the same
//! producer and key. Consumers read a partition in log order, so either the
//! record whose effect counts sits after the later one in the log (its
//! write failed, was retried, and landed behind records sent after it), or
//! two members read the partition at once: the one that processed the
//! earlier record had lost the partition (a zombie) while the new holder
//! went ahead.

use super::index::Found;
use super::ownership::{link, lost_hold, resumed_at};
use super::{effect_offset, is_effect, sending, Anomaly, Cause, Ctx, Link, Story};
use crate::model::ids::{GroupId, PartitionId, ProducerId};
use crate::oracle::trace::Step;

pub fn story(cx: Ctx<'_>, group: GroupId, r: u32, later: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let g = PartitionId::new(rec.partition);
    let part = n.partition(g);
    let p = ProducerId::new(rec.producer);
    let headline = format!(
        "record {} in group {}: took effect after {}, which was sent after it",
        n.record(r),
        n.group(group),
        n.record_short(later)
    );
    let mut chain = Vec::new();
    for (x, what) in [(r, "it"), (later, "the later record")] {
        if let Some(send) = ix.record(x).find(|f| f.s.kind == Step::Send) {
            chain.push(link(send, format!("{} handed {what}, {}, to send()", n.producer(p), n.record_short(x))));
        }
    }
    let first = |x: u32| ix.record(x).find(|f| is_effect(w, f, group));
    let (Some(er), Some(el)) = (first(r), first(later)) else {
        return Story::new(
            Anomaly::Reordered,
            r,
            group.raw(),
            Cause::Unexplained { what: "an effect not in the trace" },
            headline,
            chain,
        );
    };
    let (or, ol) = (effect_offset(ix, r, er), effect_offset(ix, later, el));
    let (cr, cl) = (n.consumer(er.processed().consumer), n.consumer(el.processed().consumer));
    chain.push(link(el, format!("{cl} processed the later record from {part}@{}", ol.unwrap_or(0))));
    chain.push(link(er, format!("{cr} processed it from {part}@{}", or.unwrap_or(0))));
    let cause = match (or, ol) {
        (Some(or), Some(ol)) if or > ol => retried_behind(cx, (r, or, er), (later, ol, el), &mut chain),
        (Some(_), Some(_)) => zombie_processed(cx, group, er, el, &mut chain),
        _ => Cause::Unexplained { what: "an effect whose offset is not in the trace" },
    };
    Story::new(Anomaly::Reordered, r, group.raw(), cause, headline, chain)
}

/// Record `r` took effect from offset `or` (step `er`), behind the later
/// record's `ol` (step `el`): its write failed, was retried, and landed
/// behind the later record.
fn retried_behind(
    cx: Ctx<'_>,
    (r, or, er): (u32, u64, Found<'_>),
    (later, ol, el): (u32, u64, Found<'_>),
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let part = n.partition(PartitionId::new(rec.partition));
    // The copy read: the last append at that offset before the read.
    let append = |x: u32, o: u64, read: u32| {
        ix.record(x).before(read).rev().find(|f| f.s.kind == Step::Append && f.append().offset == o)
    };
    if let Some(al) = append(later, ol, el.id) {
        let by = n.broker(al.append().broker);
        chain.push(link(al, format!("the later record was appended first, to {part}@{ol} by {by}")));
    }
    let Some(ar) = append(r, or, er.id) else {
        return Cause::Unexplained { what: "an effect from a copy whose append is not in the trace" };
    };
    for f in ix.record(r).before(ar.id).filter(|f| f.s.kind == Step::Append) {
        let a = f.append();
        let text = format!(
            "an earlier copy of it was appended at {part}@{} by {}; that copy never took effect",
            a.offset,
            n.broker(a.broker)
        );
        chain.push(link(f, text));
    }
    let by = n.broker(ar.append().broker);
    chain.push(link(ar, format!("it was appended to {part}@{or} by {by}, behind the later record")));
    let send = ix.record(r).find(|f| f.s.kind == Step::Send).map_or(0, |f| f.id);
    if let Some(v) = ix.record(r).after(send).before(ar.id).rev().find(|f| f.s.kind == Step::Resend) {
        let resend = v.resend();
        let text = format!(
            "{}'s send() had failed with {}: the application sent it again, behind records sent since (on_failure: resend)",
            n.producer(ProducerId::new(rec.producer)),
            resend.error.describe()
        );
        chain.push(link(v, text));
        return Cause::ResentByApp { producer: rec.producer, error: resend.error, landed: false };
    }
    match sending::resent(cx, r, send, ar.id, chain) {
        Some(error) => {
            requeued_ahead(cx, r, later, ar.id, chain);
            Cause::RetriedBehind { producer: rec.producer, error }
        }
        None => Cause::Unexplained { what: "appended after a later record without a retry" },
    }
}

/// The effects `er` (of the record) and `el` (of the later one) are in log
/// order, so two members read the partition: the one that processed this
/// record had lost it already (a zombie).
fn zombie_processed(cx: Ctx<'_>, group: GroupId, er: Found<'_>, el: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let g = PartitionId::new(w.oracle.ledger.partition_of(er.processed().record.raw()));
    let (cr, cl) = (er.processed().consumer, el.processed().consumer);
    let position =
        |c, before| ix.consumer(c, Step::Position).before(before).rev().find(|f| f.position().partition == g);
    let Some((how, links)) = position(cr, er.id).and_then(|pos| lost_hold(cx, cr, g, pos.t(), er.t())) else {
        return Cause::Unexplained { what: "log order kept, but processed out of order" };
    };
    chain.extend(links);
    if let Some(l) = chain.iter_mut().find(|l| l.step == er.s.line) {
        l.text.push_str(&format!(", though it no longer held {} (a zombie)", n.partition(g)));
    }
    if let Some(other) = position(cl, el.id) {
        resumed_at(cx, group, g, other, chain);
    }
    Cause::ZombieProcessed { consumer: cr.raw(), how }
}

/// Both failed: without idempotence Kafka puts a retried batch back at the
/// head of its partition's queue, so the one re-queued last goes first.
/// When the later record's batch was re-queued after this one's, say so.
fn requeued_ahead(cx: Ctx<'_>, r: u32, later: u32, before: u32, chain: &mut Vec<Link>) {
    let Ctx { w, ix, .. } = cx;
    let last_retry = |x: u32| ix.record(x).rev().find(|f| f.s.kind == Step::Retry && f.id < before);
    let producer = ProducerId::new(w.oracle.ledger.producer_of(r));
    let idempotent = w.producers[producer].config.enable_idempotence;
    if let (Some(mine), Some(theirs), false) = (last_retry(r), last_retry(later), idempotent) {
        if theirs.id > mine.id {
            chain.push(link(
                theirs,
                format!(
                    "the later record's batch failed too and went back to the head of the queue, ahead of this one (attempt {})",
                    theirs.retry().attempt as u64 + 1
                ),
            ));
        }
    }
}
