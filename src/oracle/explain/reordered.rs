//! Reorderings: a record that took effect after a later record of the same
//! producer and key. Consumers read a partition in log order, so either the
//! record whose effect counts sits after the later one in the log (its
//! write failed, was retried, and landed behind records sent after it), or
//! two members read the partition at once: the one that processed the
//! earlier record had lost the partition (a zombie) while the new holder
//! went ahead.

use super::index::{Index, Names};
use super::ownership::{link, lost_hold, resumed_at};
use super::{effect_offset, is_effect, sending, Anomaly, Cause, Story};
use crate::oracle::trace::Step;
use crate::world::World;

pub fn story(w: &World, ix: &Index<'_>, n: &Names<'_>, group: u32, r: u32, later: u32) -> Story {
    let rec = &w.oracle.ledger.records[r as usize];
    let g = rec.partition as u64;
    let part = n.partition(g);
    let p = rec.producer;
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
            group,
            Cause::Unexplained { what: "an effect not in the trace" },
            headline,
            chain,
        );
    };
    let (or, ol) = (effect_offset(ix, r, er), effect_offset(ix, later, el));
    chain.push(link(el, format!("{} processed the later record from {part}@{}", n.consumer(el.v(1)), ol.unwrap_or(0))));
    chain.push(link(er, format!("{} processed it from {part}@{}", n.consumer(er.v(1)), or.unwrap_or(0))));
    let cause = match (or, ol) {
        (Some(or), Some(ol)) if or > ol => {
            // The copy read: the last append at that offset before the read.
            let append = |x: u32, o: u64, read: u32| {
                ix.record(x).before(read).rev().find(|f| f.s.kind == Step::Append && f.v(2) == o)
            };
            if let Some(al) = append(later, ol, el.id) {
                chain.push(link(
                    al,
                    format!("the later record was appended first, to {part}@{ol} by {}", n.broker(al.v(3))),
                ));
            }
            match append(r, or, er.id) {
                Some(ar) => {
                    for a in ix.record(r).before(ar.id).filter(|f| f.s.kind == Step::Append) {
                        let text = format!(
                            "an earlier copy of it was appended at {part}@{} by {}; that copy never took effect",
                            a.v(2),
                            n.broker(a.v(3))
                        );
                        chain.push(link(a, text));
                    }
                    chain.push(link(
                        ar,
                        format!("it was appended to {part}@{or} by {}, behind the later record", n.broker(ar.v(3))),
                    ));
                    let send = ix.record(r).find(|f| f.s.kind == Step::Send).map_or(0, |f| f.id);
                    match sending::resent(ix, n, r, send, ar.id, &mut chain) {
                        Some(error) => {
                            requeued_ahead(w, ix, r, later, ar.id, &mut chain);
                            Cause::RetriedBehind { producer: p, error }
                        }
                        None => Cause::Unexplained { what: "appended after a later record without a retry" },
                    }
                }
                None => Cause::Unexplained { what: "an effect from a copy whose append is not in the trace" },
            }
        }
        (Some(_), Some(_)) => {
            // In log order, so two members read the partition: the one that
            // processed this record had lost it already (a zombie).
            let c = er.v(1) as u32;
            let pos = ix.consumer(c, Step::Position).before(er.id).rev().find(|f| f.v(1) == g);
            match pos.and_then(|pos| lost_hold(w, ix, n, c, g as u32, pos.t(), er.t())) {
                Some((how, links)) => {
                    chain.extend(links);
                    if let Some(l) = chain.iter_mut().find(|l| l.step == er.s.line) {
                        l.text.push_str(&format!(", though it no longer held {part} (a zombie)"));
                    }
                    let other = ix.consumer(el.v(1) as u32, Step::Position).before(el.id).rev().find(|f| f.v(1) == g);
                    if let Some(other) = other {
                        resumed_at(w, ix, n, group, g as u32, other, &mut chain);
                    }
                    Cause::ZombieProcessed { consumer: c, how }
                }
                None => Cause::Unexplained { what: "log order kept, but processed out of order" },
            }
        }
        _ => Cause::Unexplained { what: "an effect whose offset is not in the trace" },
    };
    Story::new(Anomaly::Reordered, r, group, cause, headline, chain)
}

/// Both failed: without idempotence Kafka puts a retried batch back at the
/// head of its partition's queue, so the one re-queued last goes first.
/// When the later record's batch was re-queued after this one's, say so.
fn requeued_ahead(w: &World, ix: &Index<'_>, r: u32, later: u32, before: u32, chain: &mut Vec<super::Link>) {
    let last_retry = |x: u32| ix.record(x).rev().find(|f| f.s.kind == Step::Retry && f.id < before);
    let idempotent = w.producers[w.oracle.ledger.records[r as usize].producer as usize].config.enable_idempotence;
    if let (Some(mine), Some(theirs), false) = (last_retry(r), last_retry(later), idempotent) {
        if theirs.id > mine.id {
            chain.push(link(
                theirs,
                format!(
                    "the later record's batch failed too and went back to the head of the queue, ahead of this one (attempt {})",
                    theirs.v(3) + 1
                ),
            ));
        }
    }
}
