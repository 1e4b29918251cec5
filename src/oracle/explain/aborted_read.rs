//! Aborted reads (Jepsen's aborted-read): a read_committed group processed
//! a record that its transaction's abort marker, in the final log, says
//! never happened. Judged against the oracle's own transaction logic over
//! the final logs (`outcome::aborted_read_list`); the story names the
//! append, the abort marker and the processing.

use super::ownership::link;
use super::{Anomaly, Cause, Ctx, Story};
use crate::model::ids::{GroupId, PartitionId, TxnId};
use crate::oracle::trace::Step;

/// The story of record `r` at `offset`, processed by read_committed group `group`.
pub fn story(cx: Ctx<'_>, group: GroupId, r: u32, offset: u64) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let g = PartitionId::new(rec.partition);
    let txn = w.oracle.observed.shape.producers[rec.producer as usize].txn.map(TxnId::new);
    let mut chain = Vec::new();
    if let Some(a) = ix.record(r).rev().find(|f| f.s.kind == Step::Append && f.append().offset == offset) {
        chain.push(link(a, format!("{} appended at {}@{offset}", n.record(r), n.partition(g))));
    }
    // The abort marker of its transaction after it: what read_committed must honour.
    let marker = txn.and_then(|t| {
        ix.partition(g, Step::Marker).find(|m| {
            let m = m.marker();
            m.txn == t && !m.commit && m.offset > offset
        })
    });
    if let Some(m) = marker {
        chain.push(link(
            m,
            format!(
                "abort marker of {}'s transaction at {}@{}",
                n.txn(m.marker().txn),
                n.partition(g),
                m.marker().offset
            ),
        ));
    }
    let mut processed = ix.record(r).filter(|f| f.s.kind == Step::Process && f.process().offset == offset);
    let by_group = processed.rfind(|f| w.consumers[f.process().consumer].group == group);
    if let Some(p) = by_group {
        chain.push(link(
            p,
            format!("{} (isolation.level=read_committed) processed it", n.consumer(p.process().consumer)),
        ));
    }
    let cause = match (marker, by_group) {
        (Some(m), Some(_)) => Cause::AbortedRead { group: group.raw(), txn: m.marker().txn.raw(), at: m.t() },
        _ => Cause::Unexplained { what: "an aborted read with no abort marker or no processing step" },
    };
    let headline = format!(
        "record {} at {}@{offset} in group {}: processed, but its transaction aborted",
        n.record(r),
        n.partition(g),
        n.group(group)
    );
    Story::new(Anomaly::AbortedRead, r, group.raw(), cause, headline, chain)
}
