//! The log side's own stories, independent of any group: acknowledged
//! records the final log no longer holds (`lost_write`), acknowledged
//! records stranded on an offline partition (`unavailable`), and records a
//! live producer still held when the run ended (`unsent`).

use super::index::ts;
use super::ownership::link;
use super::{Anomaly, Cause, Ctx, Story};
use crate::model::ids::{PartitionId, ProducerId};
use crate::oracle::trace::Step;

/// Stories carry no group on the log side.
pub const NO_GROUP: u32 = u32::MAX;

/// An acknowledged record absent from the final log: the failover (or the
/// acks=0 send) behind it, told as a lost record's is.
pub fn lost_write(cx: Ctx<'_>, r: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(ProducerId::new(rec.producer)))));
    }
    let cause = match ix.record(r).rev().find(|f| f.s.kind == Step::Append) {
        Some(a) => super::lost::truncated(cx, r, a, &mut chain),
        None => super::lost::never_written(cx, r, &mut chain),
    };
    let headline = format!(
        "record {} for {}: acknowledged, not in the final log",
        n.record(r),
        n.partition(PartitionId::new(rec.partition))
    );
    Story::new(Anomaly::LostWrite, r, NO_GROUP, cause, headline, chain)
}

/// An acknowledged record whose partition has no leader at the end: the
/// step that took the last leader away.
pub fn unavailable(cx: Ctx<'_>, r: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let g = PartitionId::new(rec.partition);
    let mut chain = Vec::new();
    if let Some(f) = ix.record(r).rev().find(|f| f.s.kind == Step::Append) {
        let a = f.append();
        chain.push(link(f, format!("appended to {}@{} by {}", n.partition(g), a.offset, n.broker(a.broker))));
    }
    let offline = ix.partition(g, Step::Elect).rev().find(|e| e.elect().leader.is_none());
    let cause = match offline {
        Some(e) => {
            chain.push(link(
                e,
                format!("{} lost its last leader: no in-sync replica was left to elect", n.partition(g)),
            ));
            Cause::Offline { partition: g.raw() }
        }
        None => Cause::Unexplained { what: "a record on an offline partition with no election step" },
    };
    let headline = format!("record {} for {}: acknowledged, only on an offline partition", n.record(r), n.partition(g));
    Story::new(Anomaly::Unavailable, r, NO_GROUP, cause, headline, chain)
}

/// A record its live producer still held at the end: its last retry, if
/// any, says why it had not been acknowledged yet.
pub fn unsent(cx: Ctx<'_>, r: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let p = ProducerId::new(rec.producer);
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(p))));
    }
    let retry = ix.record(r).rev().find(|f| f.s.kind == Step::Retry);
    let error = retry.map(|f| f.retry().error);
    if let (Some(f), Some(error)) = (retry, error) {
        chain.push(link(f, format!("{} saw {} and will send it again", n.producer(p), error.describe())));
    }
    let end = w.end_time().us();
    let cause = Cause::StillHeld { producer: p.raw(), error, end };
    let headline = format!(
        "record {} for {}: still held by {} at {}",
        n.record(r),
        n.partition(PartitionId::new(rec.partition)),
        n.producer(p),
        ts(end)
    );
    Story::new(Anomaly::Unsent, r, NO_GROUP, cause, headline, chain)
}
