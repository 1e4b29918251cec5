//! Why a producer sent a record again: its failed attempts (`retry` steps),
//! and the broker fault behind the first of them.

use super::index::{span, Found, Names};
use super::ownership::link;
use super::view::View;
use super::{Ctx, Link};
use crate::model::ids::{BrokerId, PartitionId, ProducerId};
use crate::oracle::fact::Entity;
use crate::oracle::trace::{SendError, Step};

/// Links for record `r`'s retries between steps `after` and `before`: the
/// first (with the crash, pause or network partition of the partition's
/// leader then, if one came first and broke the request) and the last, if
/// there were several. Returns the first retry's error, or `None` when there
/// was no retry.
pub fn resent(cx: Ctx<'_>, r: u32, after: u32, before: u32, chain: &mut Vec<Link>) -> Option<SendError> {
    let Ctx { ix, n, .. } = cx;
    let rec = n.w.oracle.ledger.life(r);
    let producer = n.producer(ProducerId::new(rec.producer));
    let mut retries = ix.record(r).after(after).before(before).filter(|f| f.s.kind == Step::Retry);
    let first = retries.next()?;
    let last = retries.next_back();
    let retry = first.retry();
    if let Some(b) = leader_at(cx, PartitionId::new(rec.partition), first.id) {
        if let Some(f) = down_at(cx, b, first) {
            chain.push(link(f, fault_text(n, f)));
        }
    }
    chain.push(link(
        first,
        format!(
            "{producer} saw {} for it: it goes again after retry.backoff.ms (attempt {})",
            retry.error.describe(),
            retry.attempt as u64 + 1
        ),
    ));
    if let Some(l) = last {
        let again = l.retry();
        let text = format!(
            "{producer} is still retrying it: {} (attempt {})",
            again.error.describe(),
            again.attempt as u64 + 1
        );
        chain.push(link(l, text));
    }
    Some(retry.error)
}

/// The crash, pause or network partition of broker `b` between steps `from` and `to`, the last one.
pub fn broker_fault<'a>(cx: Ctx<'a>, b: BrokerId, from: u32, to: u32) -> Option<Found<'a>> {
    cx.ix.faults().after(from).before(to).rev().find(|f| match f.view() {
        View::Crash(e) | View::Pause(super::view::Pause { entity: e, .. }) => e == Entity::Broker(b),
        View::NetworkPartition(_) => cuts_broker(cx.n, *f, b),
        _ => false,
    })
}

/// Whether the network partition step `f` cut broker `b` off from anything.
pub fn cuts_broker(n: &Names<'_>, f: Found<'_>, b: BrokerId) -> bool {
    let at = crate::kernel::time::Instant(f.t());
    n.w.scenario.faults.iter().any(|fs| {
        fs.at == at
            && matches!(&fs.action, crate::scenario::FaultAction::Partition(targets, _)
                if targets.contains(&crate::scenario::Target::Broker(b.raw())))
    })
}

/// A fault step in words; a network partition names every cut made at that moment.
pub fn fault_text(n: &Names<'_>, f: Found<'_>) -> String {
    let w = n.w;
    match f.view() {
        View::Crash(e) => format!("{} crashed", n.entity(e)),
        View::Pause(p) => format!("{} froze for {}", n.entity(p.entity), span(p.us)),
        View::Stop(e) => format!("{} was stopped", n.entity(e)),
        View::Start(e) => format!("{} started", n.entity(e)),
        View::Restart(e) => format!("{} restarted", n.entity(e)),
        View::NetworkPartition(cut) => {
            let at = crate::kernel::time::Instant(f.t());
            let cuts: Vec<String> = w
                .scenario
                .faults
                .iter()
                .filter(|fs| fs.at == at)
                .filter_map(|fs| match &fs.action {
                    crate::scenario::FaultAction::Partition(targets, _) => Some(
                        targets
                            .iter()
                            .map(|t| crate::scenario::target_name(&w.scenario, *t))
                            .collect::<Vec<_>>()
                            .join(" | "),
                    ),
                    _ => None,
                })
                .collect();
            format!("a network partition for {}: {}", span(cut.us), cuts.join(", "))
        }
        other => {
            debug_assert!(false, "not a fault step: {other:?}");
            format!("{} step", f.s.kind.name())
        }
    }
}

/// The fault that had broker `b` down (crashed and not restarted, paused,
/// or cut off by a network partition) at step `at`, if any.
fn down_at<'a>(cx: Ctx<'a>, b: BrokerId, at: Found<'_>) -> Option<Found<'a>> {
    down_between(cx, b, at, at)
}

/// The last fault that had broker `b` down at some moment from step `from`
/// to step `to`: one that began before `to` and had not ended by `from`.
pub fn down_between<'a>(cx: Ctx<'a>, b: BrokerId, from: Found<'_>, to: Found<'_>) -> Option<Found<'a>> {
    let broker = Entity::Broker(b);
    let last = cx.ix.faults().before(to.id).rev().find(|f| match f.view() {
        View::Crash(e) | View::Restart(e) => e == broker,
        View::Pause(p) => p.entity == broker,
        View::NetworkPartition(_) => cuts_broker(cx.n, *f, b),
        _ => false,
    })?;
    let down = match last.view() {
        View::Crash(_) => true,
        View::Pause(p) => last.t() + p.us > from.t(),
        View::NetworkPartition(cut) => last.t() + cut.us > from.t(),
        _ => false,
    };
    down.then_some(last)
}

/// The leader of global partition `g` just before step `before`: the last
/// election's, or the first replica's before any election.
pub fn leader_at(cx: Ctx<'_>, g: PartitionId, before: u32) -> Option<BrokerId> {
    match cx.ix.partition(g, Step::Elect).before(before).next_back() {
        Some(e) => e.elect().leader,
        None => cx.w.partitions[g].replicas.first().map(|r| r.broker),
    }
}
