//! The log side's own stories, independent of any group: acknowledged
//! records the final log no longer holds (`lost_write`), acknowledged
//! records stranded on an offline partition (`unavailable`), and records a
//! live producer still held when the run ended (`unsent`).

use super::index::{ts, Index, Names};
use super::ownership::link;
use super::{Anomaly, Cause, Story};
use crate::oracle::trace::{SendError, Step};
use crate::world::World;

/// Stories carry no group on the log side.
pub const NO_GROUP: u32 = u32::MAX;

/// An acknowledged record absent from the final log: the failover (or the
/// acks=0 send) behind it, told as a lost record's is.
pub fn lost_write(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u32) -> Story {
    let rec = &w.oracle.ledger.records[r as usize];
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(rec.producer))));
    }
    let cause = match ix.record(r).rev().find(|f| f.s.kind == Step::Append) {
        Some(a) => super::lost::truncated(w, ix, n, r, a, &mut chain),
        None => super::lost::never_written(w, ix, n, r, &mut chain),
    };
    let headline =
        format!("record {} for {}: acknowledged, not in the final log", n.record(r), n.partition(rec.partition as u64));
    Story::new(Anomaly::LostWrite, r, NO_GROUP, cause, headline, chain)
}

/// An acknowledged record whose partition has no leader at the end: the
/// step that took the last leader away.
pub fn unavailable(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u32) -> Story {
    let rec = &w.oracle.ledger.records[r as usize];
    let g = rec.partition;
    let mut chain = Vec::new();
    if let Some(a) = ix.record(r).rev().find(|f| f.s.kind == Step::Append) {
        chain.push(link(a, format!("appended to {}@{} by {}", n.partition(g as u64), a.v(2), n.broker(a.v(3)))));
    }
    let offline = ix.partition(g, Step::Elect).rev().find(|e| e.v(1) == u64::MAX);
    let cause = match offline {
        Some(e) => {
            chain.push(link(
                e,
                format!("{} lost its last leader: no in-sync replica was left to elect", n.partition(g as u64)),
            ));
            Cause::Offline { partition: g }
        }
        None => Cause::Unexplained { what: "a record on an offline partition with no election step" },
    };
    let headline =
        format!("record {} for {}: acknowledged, only on an offline partition", n.record(r), n.partition(g as u64));
    Story::new(Anomaly::Unavailable, r, NO_GROUP, cause, headline, chain)
}

/// A record its live producer still held at the end: its last retry, if
/// any, says why it had not been acknowledged yet.
pub fn unsent(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u32) -> Story {
    let rec = &w.oracle.ledger.records[r as usize];
    let p = rec.producer;
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(p))));
    }
    let retry = ix.record(r).rev().find(|f| f.s.kind == Step::Retry);
    let error = retry.and_then(|f| SendError::from_code(f.v(2)));
    if let Some(f) = retry {
        let what = error.map_or("an error", |e| e.describe());
        chain.push(link(f, format!("{} saw {what} and will send it again", n.producer(p))));
    }
    let end = w.end_time().us();
    let cause = Cause::StillHeld { producer: p, error, end };
    let headline = format!(
        "record {} for {}: still held by {} at {}",
        n.record(r),
        n.partition(rec.partition as u64),
        n.producer(p),
        ts(end)
    );
    Story::new(Anomaly::Unsent, r, NO_GROUP, cause, headline, chain)
}
