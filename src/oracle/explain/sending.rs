//! Why a producer sent a record again: its failed attempts (`retry` steps),
//! and the broker fault behind the first of them.

use super::index::{span, Found, Index, Names};
use super::ownership::link;
use super::Link;
use crate::oracle::trace::{entity, SendError, Step};

/// Links for record `r`'s retries between steps `after` and `before`: the
/// first (with the crash, pause or network partition of the partition's
/// leader then, if one came first and broke the request) and the last, if
/// there were several. Returns the first retry's error, or `None` when there
/// was no retry.
pub fn resent(
    ix: &Index<'_>,
    n: &Names<'_>,
    r: u32,
    after: u32,
    before: u32,
    chain: &mut Vec<Link>,
) -> Option<SendError> {
    let rec = &n.w.oracle.ledger.records[r as usize];
    let producer = n.producer(rec.producer);
    let mut retries = ix.record(r).after(after).before(before).filter(|f| f.s.kind == Step::Retry);
    let first = retries.next()?;
    let last = retries.next_back();
    let error = SendError::from_code(first.v(2)).unwrap_or(SendError::Disconnected);
    if let Some(b) = leader_at(ix, n, rec.partition, first.id) {
        if let Some(f) = down_at(ix, n, b, first) {
            chain.push(link(f, fault_text(n, f)));
        }
    }
    chain.push(link(
        first,
        format!(
            "{producer} saw {} for it: it goes again after retry.backoff.ms (attempt {})",
            error.describe(),
            first.v(3) + 1
        ),
    ));
    if let Some(l) = last {
        let e = SendError::from_code(l.v(2)).map_or("an error", |e| e.describe());
        chain.push(link(l, format!("{producer} is still retrying it: {e} (attempt {})", l.v(3) + 1)));
    }
    Some(error)
}

/// The crash, pause or network partition of broker `b` between steps `from` and `to`, the last one.
pub fn broker_fault<'s>(ix: &'s Index<'_>, n: &Names<'_>, b: u64, from: u32, to: u32) -> Option<Found<'s>> {
    ix.faults().after(from).before(to).rev().find(|f| match f.s.kind {
        Step::Crash | Step::Pause => f.v(0) == entity::BROKER && f.v(1) == b,
        Step::Partition => cuts_broker(n, *f, b),
        _ => false,
    })
}

/// Whether the network partition step `f` cut broker `b` off from anything.
pub fn cuts_broker(n: &Names<'_>, f: Found<'_>, b: u64) -> bool {
    let at = crate::kernel::time::Instant(f.t());
    n.w.scenario.faults.iter().any(|fs| {
        fs.at == at
            && matches!(&fs.action, crate::scenario::FaultAction::Partition(targets, _)
                if targets.contains(&crate::scenario::Target::Broker(b as u32)))
    })
}

/// A fault step in words; a network partition names every cut made at that moment.
pub fn fault_text(n: &Names<'_>, f: Found<'_>) -> String {
    let w = n.w;
    match f.s.kind {
        Step::Crash => format!("{} crashed", n.entity(f.v(0), f.v(1))),
        Step::Pause => format!("{} froze for {}", n.entity(f.v(0), f.v(1)), span(f.v(2))),
        Step::Stop => format!("{} was stopped", n.entity(f.v(0), f.v(1))),
        Step::Start => format!("{} started", n.entity(f.v(0), f.v(1))),
        Step::Restart => format!("{} restarted", n.entity(f.v(0), f.v(1))),
        Step::Partition => {
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
            format!("a network partition for {}: {}", span(f.v(1)), cuts.join(", "))
        }
        kind => format!("{} of {}", kind.name(), n.entity(f.v(0), f.v(1))),
    }
}

/// The fault that had broker `b` down (crashed and not restarted, paused,
/// or cut off by a network partition) at step `at`, if any.
fn down_at<'s>(ix: &'s Index<'_>, n: &Names<'_>, b: u64, at: Found<'_>) -> Option<Found<'s>> {
    down_between(ix, n, b, at, at)
}

/// The last fault that had broker `b` down at some moment from step `from`
/// to step `to`: one that began before `to` and had not ended by `from`.
pub fn down_between<'s>(ix: &'s Index<'_>, n: &Names<'_>, b: u64, from: Found<'_>, to: Found<'_>) -> Option<Found<'s>> {
    let broker = |f: &Found<'_>| f.v(0) == entity::BROKER && f.v(1) == b;
    let last = ix.faults().before(to.id).rev().find(|f| match f.s.kind {
        Step::Crash | Step::Pause | Step::Restart => broker(f),
        Step::Partition => cuts_broker(n, *f, b),
        _ => false,
    })?;
    let down = match last.s.kind {
        Step::Crash => true,
        Step::Pause => last.t() + last.v(2) > from.t(),
        Step::Partition => last.t() + last.v(1) > from.t(),
        _ => false,
    };
    down.then_some(last)
}

/// The leader of global partition `g` just before step `before`: the last
/// election's, or the first replica's before any election.
pub fn leader_at(ix: &Index<'_>, n: &Names<'_>, g: u32, before: u32) -> Option<u64> {
    match ix.partition(g, Step::Elect).before(before).next_back() {
        Some(e) if e.v(1) == u64::MAX => None,
        Some(e) => Some(e.v(1)),
        None => n.w.partitions[g as usize].replicas.first().map(|r| u64::from(r.broker)),
    }
}
