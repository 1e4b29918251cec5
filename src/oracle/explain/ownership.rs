//! How a consumer stops holding a partition: the first of its crash, a
//! pause the group did not wait for, a poll timeout, a missed rebalance, a
//! revocation, a refused commit or a stop, with the steps that show it.

use super::index::{span, ts, Found, Index, Names};
use super::{Disruption, Link};
use crate::oracle::trace::{leave, source, trigger, Step};
use crate::world::World;

pub fn link(f: Found<'_>, text: String) -> Link {
    Link { t: f.t(), step: f.s.line, text }
}

/// What ended consumer `c`'s hold on global partition `g` in `(from, to]`, if anything did.
pub fn lost_hold(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    c: u32,
    g: u32,
    from: u64,
    to: u64,
) -> Option<(Disruption, Vec<Link>)> {
    let name = n.consumer(c as u64);
    let cs = &w.consumers[c as usize];
    // A pause still going on at `from` counts.
    let mut pause = ix.consumer(c, Step::Pause).until(from).next_back().filter(|p| p.t() + p.v(2) > from);
    let pause_link =
        |p: Found<'_>| link(p, format!("{name} froze for {} (a pause: no heartbeats, no progress)", span(p.v(2))));
    let with_pause = |pause: Option<Found<'_>>, f: Found<'_>, text: String, otherwise: Disruption| {
        let mut links = vec![link(f, text)];
        match pause {
            Some(p) => {
                links.push(pause_link(p));
                (Disruption::Paused { at: p.t(), us: p.v(2) }, links)
            }
            None => (otherwise, links),
        }
    };
    for f in ix.consumer_life(c).since(from).until(to) {
        let at = f.t();
        match f.s.kind {
            Step::Crash => return Some((Disruption::Crash { at }, vec![link(f, format!("{name} crashed"))])),
            Step::Pause => pause = Some(f),
            Step::PollTimeout => {
                let text = format!(
                    "{name} had not called poll() for max.poll.interval.ms ({}): its heartbeat thread left the group",
                    span(cs.max_poll_interval.us())
                );
                return Some((Disruption::PollTimeout { at }, vec![link(f, text)]));
            }
            Step::Leave if f.v(3) == leave::SESSION_TIMEOUT => {
                let session = w.groups[cs.group].session_timeout.us();
                let text =
                    format!("the coordinator removed {name}: no heartbeat for session.timeout.ms ({})", span(session));
                return Some(with_pause(pause, f, text, Disruption::Expired { at }));
            }
            Step::Leave if f.v(3) == leave::MISSED_REBALANCE => {
                let text = format!(
                    "the rebalance completed without {name}: it had not rejoined within the rebalance timeout ({})",
                    span(cs.max_poll_interval.us())
                );
                return Some(with_pause(pause, f, text, Disruption::MissedRebalance { at }));
            }
            Step::Stop => return Some((Disruption::Stopped { at }, vec![link(f, format!("{name} was stopped"))])),
            Step::CommitFailed => {
                let text =
                    format!("{name}'s commit was refused: generation {} had ended (CommitFailedException)", f.v(1));
                return Some(with_pause(pause, f, text, Disruption::CommitRefused { at }));
            }
            Step::Revoke if f.v(1) == g as u64 => {
                let text = format!(
                    "{name} gave up {} to rejoin the group (generation {} ends)",
                    n.partition(g as u64),
                    f.v(2)
                );
                let group = cs.group.raw();
                let how = Disruption::Revoked { at, group, generation: f.v(2) as u32 };
                let (how, mut links) = with_pause(pause, f, text, how);
                if matches!(how, Disruption::Revoked { .. }) {
                    let start = ix.group(group).until(at).rev().find(|s| s.s.kind == Step::RebalanceStart);
                    links.extend(start.map(|s| rebalance_start(n, s)));
                }
                return Some((how, links));
            }
            _ => {}
        }
    }
    None
}

/// "analytics-3 joined group analytics: a rebalance starts".
pub fn rebalance_start(n: &Names<'_>, f: Found<'_>) -> Link {
    let who = n.consumer(f.v(3));
    let group = n.group(f.v(0) as u32);
    let what = match f.v(2) {
        trigger::JOIN => format!("{who} joined group {group}"),
        trigger::REJOIN => format!("{who} rejoined group {group}"),
        trigger::LEAVE => format!("{who} left group {group}"),
        _ => format!("{who}'s session in group {group} expired"),
    };
    link(f, format!("{what}: a rebalance starts (generation {} will end)", f.v(1)))
}

/// Links for where consumer `pos.consumer` resumed partition `g` (the
/// `position` step `pos`): its restart, the rebalance and what started it,
/// its assignment, and the committed offset it resumed from, whose commit is
/// returned (or the reset, when there was none).
pub fn resumed_at<'s>(
    w: &World,
    ix: &'s Index<'_>,
    n: &Names<'_>,
    group: u32,
    g: u32,
    pos: Found<'s>,
    chain: &mut Vec<Link>,
) -> Option<Found<'s>> {
    let c = pos.v(0) as u32;
    let name = n.consumer(c as u64);
    let part = n.partition(g as u64);
    let assign = ix.consumer(c, Step::Assign).before(pos.id).rev().find(|f| f.v(1) == g as u64);
    if let Some(a) = assign {
        let rebalance = ix.group(group).before(a.id).rev().find(|f| f.s.kind == Step::Rebalance);
        if let Some(rb) = rebalance {
            let start = ix.group(group).before(rb.id).rev().find(|f| f.s.kind == Step::RebalanceStart);
            if let Some(st) = start {
                chain.push(rebalance_start(n, st));
            }
            chain.push(link(rb, format!("group {} rebalanced: generation {}", n.group(group), rb.v(1))));
        }
        chain.push(link(a, format!("{name} was assigned {part} (generation {})", a.v(2))));
        // Its first assignment since it came back: the restart (or start) belongs to the story.
        let back = ix.consumer_life(c).before(a.id).rev().find(|f| matches!(f.s.kind, Step::Restart | Step::Start));
        // (every partition of one rebalance is assigned at once: compare generations)
        if let Some(b) = back {
            let first = !ix.consumer(c, Step::Assign).after(b.id).before(a.id).any(|f| f.v(2) < a.v(2));
            if first {
                let verb = if b.s.kind == Step::Restart { "restarted" } else { "started" };
                chain.push(link(b, format!("{name} {verb}")));
            }
        }
    }
    if pos.v(3) != source::COMMITTED {
        let reset = w.consumers[c as usize].auto_offset_reset.name();
        chain.push(link(
            pos,
            format!(
                "{name} had no committed offset for {part}: auto.offset.reset={reset} put it at offset {}",
                pos.v(2)
            ),
        ));
        return None;
    }
    // The commit the member read back: the group's last one of that offset.
    let cm = ix
        .partition(g, Step::Commit)
        .before(pos.id)
        .rev()
        .find(|f| w.consumers[f.v(0) as usize].group.raw() == group && f.v(2) == pos.v(2));
    let by = cm.map_or(String::new(), |cm| format!(", committed by {} at {}", n.consumer(cm.v(0)), ts(cm.t())));
    chain.push(link(pos, format!("{name} resumed {part} at the committed offset {}{by}", pos.v(2))));
    cm
}

/// "billing-0 committed orders/1 at offset 1529 (generation 1)".
pub fn commit_link(n: &Names<'_>, cm: Found<'_>, what: &str) -> Link {
    link(
        cm,
        format!(
            "{} committed {} at offset {} (generation {}){what}",
            n.consumer(cm.v(0)),
            n.partition(cm.v(1)),
            cm.v(2),
            cm.v(3)
        ),
    )
}
