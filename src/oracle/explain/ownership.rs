//! How a consumer stops holding a partition: the first of its crash, a
//! pause the group did not wait for, a poll timeout, a missed rebalance, a
//! revocation, a refused commit or a stop, with the steps that show it.

use super::index::{span, ts, Found, Names};
use super::view::View;
use super::{Ctx, Disruption, Link};
use crate::model::ids::{ConsumerId, GroupId, PartitionId};
use crate::oracle::fact::{LeaveReason, PositionSource, Trigger};
use crate::oracle::trace::Step;

pub fn link(f: Found<'_>, text: String) -> Link {
    Link { t: f.t(), step: f.s.line, text, about: super::About::of(&f.s), place: super::Place::default() }
}

/// What ended consumer `c`'s hold on global partition `g` in `(from, to]`, if anything did.
pub fn lost_hold(cx: Ctx<'_>, c: ConsumerId, g: PartitionId, from: u64, to: u64) -> Option<(Disruption, Vec<Link>)> {
    let Ctx { w, ix, n } = cx;
    let name = n.consumer(c);
    let cs = &w.consumers[c];
    // A pause still going on at `from` counts.
    let mut pause = ix.consumer(c, Step::Pause).until(from).next_back().filter(|p| p.t() + p.pause().us > from);
    let with_pause = |pause, f, text, otherwise| or_paused(name, pause, f, text, otherwise);
    for f in ix.consumer_life(c).since(from).until(to) {
        let at = f.t();
        match f.view() {
            View::Crash(_) => return Some((Disruption::Crash { at }, vec![link(f, format!("{name} crashed"))])),
            View::Pause(_) => pause = Some(f),
            View::PollTimeout(_) => {
                let text = format!(
                    "{name} had not called poll() for max.poll.interval.ms ({}): its heartbeat thread left the group",
                    span(cs.max_poll_interval.us())
                );
                return Some((Disruption::PollTimeout { at }, vec![link(f, text)]));
            }
            View::Leave(l) if l.reason == LeaveReason::SessionTimeout => {
                let session = w.groups[cs.group].session_timeout.us();
                let text =
                    format!("the coordinator removed {name}: no heartbeat for session.timeout.ms ({})", span(session));
                return Some(with_pause(pause, f, text, Disruption::Expired { at }));
            }
            View::Leave(l) if l.reason == LeaveReason::MissedRebalance => {
                let text = format!(
                    "the rebalance completed without {name}: it had not rejoined within the rebalance timeout ({})",
                    span(cs.max_poll_interval.us())
                );
                return Some(with_pause(pause, f, text, Disruption::MissedRebalance { at }));
            }
            View::Stop(_) => return Some((Disruption::Stopped { at }, vec![link(f, format!("{name} was stopped"))])),
            View::CommitFailed(refused) => {
                let text = format!(
                    "{name}'s commit was refused: generation {} had ended (CommitFailedException)",
                    refused.generation
                );
                return Some(with_pause(pause, f, text, Disruption::CommitRefused { at }));
            }
            View::Revoke(revoke) if revoke.partition == g => {
                let text = format!(
                    "{name} gave up {} to rejoin the group (generation {} ends)",
                    n.partition(g),
                    revoke.generation
                );
                let group = cs.group;
                let how = Disruption::Revoked { at, group: group.raw(), generation: revoke.generation.raw() };
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

/// The disruption `otherwise` that step `f` (its link says `text`) shows,
/// unless consumer `name` was frozen by `pause` then: the pause is what
/// cost it its partitions.
fn or_paused(
    name: &str,
    pause: Option<Found<'_>>,
    f: Found<'_>,
    text: String,
    otherwise: Disruption,
) -> (Disruption, Vec<Link>) {
    let mut links = vec![link(f, text)];
    match pause {
        Some(p) => {
            let us = p.pause().us;
            links.push(link(p, format!("{name} froze for {} (a pause: no heartbeats, no progress)", span(us))));
            (Disruption::Paused { at: p.t(), us }, links)
        }
        None => (otherwise, links),
    }
}

/// "analytics-3 joined group analytics: a rebalance starts".
pub fn rebalance_start(n: &Names<'_>, f: Found<'_>) -> Link {
    let start = f.rebalance_start();
    let who = n.consumer(start.consumer);
    let group = n.group(start.group);
    let what = match start.reason {
        Trigger::Join => format!("{who} joined group {group}"),
        Trigger::Rejoin => format!("{who} rejoined group {group}"),
        Trigger::Leave => format!("{who} left group {group}"),
        Trigger::Expired => format!("{who}'s session in group {group} expired"),
    };
    link(f, format!("{what}: a rebalance starts (generation {} will end)", start.generation))
}

/// Links for where consumer `pos.consumer` resumed partition `g` (the
/// `position` step `pos`): its restart, the rebalance and what started it,
/// its assignment, and the committed offset it resumed from, whose commit is
/// returned (or the reset, when there was none).
pub fn resumed_at<'a>(
    cx: Ctx<'a>,
    group: GroupId,
    g: PartitionId,
    pos: Found<'a>,
    chain: &mut Vec<Link>,
) -> Option<Found<'a>> {
    let Ctx { w, ix, n } = cx;
    let position = pos.position();
    let c = position.consumer;
    let name = n.consumer(c);
    let part = n.partition(g);
    let assign = ix.consumer(c, Step::Assign).before(pos.id).rev().find(|f| f.assignment().partition == g);
    if let Some(a) = assign {
        let generation = a.assignment().generation;
        let rebalance = ix.group(group).before(a.id).rev().find(|f| f.s.kind == Step::Rebalance);
        if let Some(rb) = rebalance {
            let start = ix.group(group).before(rb.id).rev().find(|f| f.s.kind == Step::RebalanceStart);
            if let Some(st) = start {
                chain.push(rebalance_start(n, st));
            }
            let text = format!("group {} rebalanced: generation {}", n.group(group), rb.rebalance().generation);
            chain.push(link(rb, text));
        }
        chain.push(link(a, format!("{name} was assigned {part} (generation {generation})")));
        // Its first assignment since it came back: the restart (or start) belongs to the story.
        let back = ix.consumer_life(c).before(a.id).rev().find(|f| matches!(f.s.kind, Step::Restart | Step::Start));
        // (every partition of one rebalance is assigned at once: compare generations)
        if let Some(b) = back {
            let earlier = |f: Found<'_>| f.assignment().generation < generation;
            let first = !ix.consumer(c, Step::Assign).after(b.id).before(a.id).any(earlier);
            if first {
                let verb = if b.s.kind == Step::Restart { "restarted" } else { "started" };
                chain.push(link(b, format!("{name} {verb}")));
            }
        }
    }
    if position.source != PositionSource::Committed {
        let reset = w.consumers[c].auto_offset_reset.name();
        chain.push(link(
            pos,
            format!(
                "{name} had no committed offset for {part}: auto.offset.reset={reset} put it at offset {}",
                position.offset
            ),
        ));
        return None;
    }
    // The commit the member read back: the group's last one of that offset.
    let read_back = |f: &Found<'_>| {
        let cm = f.commit();
        w.consumers[cm.consumer].group == group && cm.offset == position.offset
    };
    let cm = ix.partition(g, Step::Commit).before(pos.id).rev().find(read_back);
    let by =
        cm.map_or(String::new(), |cm| format!(", committed by {} at {}", n.consumer(cm.commit().consumer), ts(cm.t())));
    chain.push(link(pos, format!("{name} resumed {part} at the committed offset {}{by}", position.offset)));
    cm
}

/// "billing-0 committed orders/1 at offset 1529 (generation 1)".
pub fn commit_link(n: &Names<'_>, f: Found<'_>, what: &str) -> Link {
    let cm = f.commit();
    link(
        f,
        format!(
            "{} committed {} at offset {} (generation {}){what}",
            n.consumer(cm.consumer),
            n.partition(cm.partition),
            cm.offset,
            cm.generation
        ),
    )
}
