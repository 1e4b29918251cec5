//! Poll skips (Jepsen's poll-skip): a consumer's fetch of a partition began
//! past where its previous fetch of that partition ended, with no seek,
//! assignment, revocation or restart between them. The oracle finds them
//! from fetch facts alone (`Observed::fetched`); the story names the two
//! fetches and the records in the gap.

use super::index::Found;
use super::ownership::link;
use super::{Anomaly, Cause, Ctx, Story};
use crate::model::ids::{ConsumerId, PartitionId};
use crate::oracle::trace::Step;

/// A poll skip with no record in its gap (the gap held only control
/// markers, or nothing the trace kept) names no record.
pub const NO_RECORD: u32 = u32::MAX;

/// The story of one poll skip: consumer `c`'s fetches of `g` ended at
/// `ended` and then began at `began`.
pub fn story(cx: Ctx<'_>, c: ConsumerId, g: PartitionId, ended: u64, began: u64) -> Story {
    let Ctx { w, ix, n } = cx;
    let fetches: Vec<Found<'_>> = ix.consumer(c, Step::Fetch).filter(|f| f.fetch().partition == g).collect();
    // The fetch that began past the gap, right after the one that ended at its start.
    let pair = fetches.windows(2).find(|p| p[0].fetch().to == ended && p[1].fetch().from == began);
    let skipping = pair.map(|p| p[1]);
    let mut chain = Vec::new();
    if let Some(&[prev, f]) = pair {
        let p = prev.fetch();
        chain.push(link(prev, format!("{} fetched {}@{}..{}", n.consumer(c), n.partition(g), p.from, p.to)));
        chain.push(link(
            f,
            format!(
                "{} fetched {}@{}..{}: it began at {began}, not at {ended}, with no seek, rebalance or restart since",
                n.consumer(c),
                n.partition(g),
                began,
                f.fetch().to
            ),
        ));
    }
    // The records the gap held: the first is the story's record.
    let gap = gap_records(cx, g, ended, began, skipping);
    let record = gap.first().map_or(NO_RECORD, |a| a.append().record.raw());
    if let Some(a) = gap.first() {
        chain.push(link(*a, format!("{} was appended at {}@{}", n.record(record), n.partition(g), a.append().offset)));
    }
    let group = w.consumers[c].group;
    let cause = match skipping {
        Some(_) => Cause::PollSkip { consumer: c.raw(), partition: g.raw() },
        None => Cause::Unexplained { what: "a poll skip with no pair of fetch steps" },
    };
    let headline = format!(
        "{} skipped offsets {ended}..{began} of {} in group {} ({} record{} never fetched by it)",
        n.consumer(c),
        n.partition(g),
        n.group(group),
        gap.len(),
        if gap.len() == 1 { "" } else { "s" }
    );
    Story::new(Anomaly::PollSkip, record, group.raw(), cause, headline, chain)
}

/// The last append at each offset of `ended..began` of `g` before the
/// skipping fetch (the log as the consumer would have read it).
fn gap_records<'a>(cx: Ctx<'a>, g: PartitionId, ended: u64, began: u64, at: Option<Found<'a>>) -> Vec<Found<'a>> {
    let appends = cx.ix.partition(g, Step::Append);
    let appends = match at {
        Some(f) => appends.before(f.id),
        None => appends,
    };
    (ended..began).filter_map(|off| appends.rev().find(|a| a.append().offset == off)).collect()
}
