//! Lost records: produced, never reported failed, and never taking effect
//! on a group's sink, with nothing left for the group to read. A record is
//! lost in one of three places:
//! - before any log: its producer died with it unsent;
//! - in the log: its leader went away and a replica without it took over,
//!   so it was truncated (acks=1, an ISR of one, an unclean election, power
//!   loss);
//! - behind the group: the committed offset moved past it before any member
//!   processed it (commit before processing, or an auto-commit of records
//!   queued for a worker, then a crash), or a reset to the log end skipped it,
//!   or read_committed skipped it as part of an aborted transaction.

use super::index::{Found, Index, Names};
use super::ownership::{link, lost_hold, resumed_at};
use super::sending::{self, broker_fault, fault_text};
use super::{Anomaly, Cause, Failover, LeaderLoss, Link, Story};
use crate::oracle::ledger::NEVER;
use crate::oracle::trace::{entity, source, Step};
use crate::scenario::{Acks, CommitMode};
use crate::world::World;

pub fn story(w: &World, ix: &Index<'_>, n: &Names<'_>, group: u32, r: u32) -> Story {
    let rec = &w.oracle.ledger.records[r as usize];
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(rec.producer))));
    }
    let last_append = ix.record(r).rev().find(|f| f.s.kind == Step::Append);
    let (cause, place) = match last_append {
        None => (never_written(w, ix, n, r, &mut chain), n.partition(rec.partition as u64)),
        Some(a) => {
            let (g, o) = (a.v(1), a.v(2));
            let place = format!("{}@{o}", n.partition(g));
            let part = &w.partitions[g as usize];
            let in_log =
                part.leader.is_some_and(|l| part.replicas[l].log.get(o as usize).is_some_and(|e| e.record == r));
            let cause = if part.leader.is_none() {
                chain.push(link(a, format!("appended to {place} by {}", n.broker(a.v(3)))));
                Cause::Offline { partition: g as u32 }
            } else if in_log {
                behind_the_group(w, ix, n, group, r, a, &mut chain)
            } else {
                truncated(w, ix, n, r, a, &mut chain)
            };
            (cause, place)
        }
    };
    let headline = format!("record {} for {place}, group {}: lost", n.record(r), n.group(group));
    Story::new(Anomaly::Lost, r, group, cause, headline, chain)
}

/// No log ever had it: the producer died with it in its buffer or on the wire.
pub(super) fn never_written(w: &World, ix: &Index<'_>, n: &Names<'_>, r: u32, chain: &mut Vec<Link>) -> Cause {
    let rec = &w.oracle.ledger.records[r as usize];
    let p = rec.producer;
    for f in ix.record(r).filter(|f| f.s.kind == Step::Retry) {
        chain.push(retry_link(n, p, f));
    }
    let Some(crash) = ix.fault_of(Step::Crash, entity::PRODUCER, p as u64, rec.sent_us.saturating_sub(1)) else {
        return Cause::Unexplained { what: "a record never written, with no crash of its producer" };
    };
    chain.push(link(crash, format!("{} crashed with it unsent: its buffer died with the process", n.producer(p))));
    Cause::ProducerCrash { producer: p, at: crash.t() }
}

fn retry_link(n: &Names<'_>, p: u32, f: Found<'_>) -> Link {
    let error = crate::oracle::trace::SendError::from_code(f.v(2)).map_or("an error", |e| e.describe());
    link(f, format!("{} saw {error} and will send it again", n.producer(p)))
}

/// It was appended (`a`) but the leader's log no longer holds it.
pub(super) fn truncated(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    r: u32,
    a: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let rec = &w.oracle.ledger.records[r as usize];
    let (g, o, leader) = (a.v(1) as u32, a.v(2), a.v(3));
    let part = n.partition(g as u64);
    let leader_epoch = ix.partition(g, Step::Elect).before(a.id).next_back().map_or(0, |e| e.v(2));
    chain.push(link(a, format!("appended to {part}@{o} by {} (leader, epoch {leader_epoch})", n.broker(leader))));
    let acks = w.producers[rec.producer as usize].config.acks;
    // The ISR when it was acknowledged.
    let acked = ix.record(r).find(|f| f.s.kind == Step::Ack);
    let isr_then = |t: u64| ix.partition(g, Step::Isr).until(t).next_back();
    let lone_isr = acked.and_then(|ack| isr_then(ack.t())).filter(|isr| isr.v(1).count_ones() == 1);
    if let Some(isr) = lone_isr {
        isr_change(w, ix, n, g, isr, ": acks=all now waits for no follower", chain);
    }
    if let Some(ack) = acked {
        let how = match acks {
            Acks::Zero => "acks=0: counted as acknowledged when sent".to_string(),
            Acks::One => "acknowledged to the producer after the leader's own append (acks=1)".to_string(),
            Acks::All => format!(
                "acknowledged to the producer: every ISR member had it (acks=all, ISR {})",
                isr_then(ack.t()).map_or("full".to_string(), |i| n.brokers(i.v(1)))
            ),
        };
        chain.push(link(ack, how));
    }
    // Who copied it, and what took the leader away.
    let elect = ix.partition(g, Step::Elect).after(a.id).next();
    let Some(elect) = elect else {
        return Cause::Unexplained { what: "a record truncated without a leader change" };
    };
    let mut copied = 0u64;
    for f in ix.partition(g, Step::Replicate).after(a.id).before(elect.id).filter(|f| f.v(2) > o) {
        if copied >> f.v(0) & 1 == 0 {
            copied |= 1 << f.v(0);
            chain.push(link(f, format!("{} copied it (its log now ends at {})", n.broker(f.v(0)), f.v(2))));
            // Why that copy could not lead: its own fault before the election.
            if let Some(down) = broker_fault(ix, n, f.v(0), f.id, elect.id) {
                chain.push(link(down, fault_text(n, down)));
            }
        }
    }
    let before = elect.t();
    let faults = || {
        ix.faults().since(a.t().saturating_sub(1)).until(before).filter(|f| match f.s.kind {
            Step::Crash | Step::Pause => f.v(0) == entity::BROKER && f.v(1) == leader,
            Step::Partition => sending::cuts_broker(n, *f, leader),
            _ => false,
        })
    };
    // A power loss that cut the leader's own log outweighs an earlier,
    // harmless fault of the same leader (KIP-966: a partition, then power loss).
    let cut_own_log = |c: &Found<'_>| {
        c.s.kind == Step::Crash
            && ix.partition(g, Step::Truncate).since(c.t().saturating_sub(1)).until(c.t()).any(|f| f.v(0) == leader)
    };
    let loss = faults().find(|c| cut_own_log(c)).or_else(|| faults().next());
    let power_loss = loss.is_some_and(|c| cut_own_log(&c));
    let fault = match loss.map(|f| f.s.kind) {
        Some(Step::Crash) if power_loss => LeaderLoss::PowerLoss,
        Some(Step::Crash) => LeaderLoss::Crash,
        Some(Step::Pause) => LeaderLoss::Pause,
        Some(_) => LeaderLoss::NetworkPartition,
        None => LeaderLoss::Fencing,
    };
    let lost_at = loss.map_or(before, |f| f.t());
    if let Some(l) = loss {
        let text = match fault {
            LeaderLoss::PowerLoss => format!("{} lost power: its unflushed log tail is gone", n.broker(leader)),
            _ => fault_text(n, l),
        };
        chain.push(link(l, text));
    }
    let fenced = ix.partition(g, Step::Isr).after(a.id).before(elect.id + 1).find(|f| f.v(1) >> leader & 1 == 0);
    if let Some(isr) = fenced {
        chain.push(link(isr, format!("{} left the ISR of {part}: now {}", n.broker(leader), n.brokers(isr.v(1)))));
    }
    let unclean = elect.v(3) == 1;
    if unclean {
        // What made the new leader stale: its own fault before the record, and its return.
        let new = elect.v(1);
        if let Some(down) = broker_fault(ix, n, new, 0, a.id) {
            chain.push(link(down, fault_text(n, down)));
            if let Some(back) = ix.fault_of(Step::Restart, entity::BROKER, new, down.t()).filter(|b| b.id < elect.id) {
                chain.push(link(back, format!("{} restarted, behind the others", n.broker(new))));
            }
        }
    }
    if elect.v(1) == u64::MAX {
        chain.push(link(elect, format!("{part} went offline: no replica could lead")));
    } else {
        let new = elect.v(1);
        let leo = log_end_at(ix, g, new, elect.id);
        chain.push(link(
            elect,
            format!(
                "{} became leader of {part} (epoch {}){}, its log ending at offset {leo}: without the record",
                n.broker(new),
                elect.v(2),
                if unclean { " in an unclean election: it was not in the ISR" } else { "" }
            ),
        ));
    }
    truncation_links(ix, n, g, a, o, (power_loss, lost_at), chain);
    if rec.acked_us == NEVER && acks != Acks::Zero {
        return unacknowledged(ix, n, rec.producer, a, chain);
    }
    match failover_kind(unclean, lone_isr.is_some(), power_loss, acks) {
        Some(how) => Cause::Failover { broker: leader as u32, lost_at, fault, how },
        None => Cause::Unexplained { what: "acks=all lost a record the full ISR had" },
    }
}

/// Never acknowledged: the producer would have sent it again, but it died first.
fn unacknowledged(ix: &Index<'_>, n: &Names<'_>, p: u32, a: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    match ix.fault_of(Step::Crash, entity::PRODUCER, p as u64, a.t()) {
        Some(c) => {
            let text = format!("{} crashed before the write was acknowledged: nothing sends it again", n.producer(p));
            chain.push(link(c, text));
            Cause::UnacknowledgedLost { producer: p, at: c.t() }
        }
        None => Cause::Unexplained { what: "a truncated record never acknowledged, and its producer alive" },
    }
}

/// Which failover lost an acknowledged record; None when none of them can
/// (acks=all with a full ISR loses nothing to a failover).
fn failover_kind(unclean: bool, lone_isr: bool, power_loss: bool, acks: Acks) -> Option<Failover> {
    Some(match (unclean, lone_isr, power_loss) {
        (true, true, _) => Failover::IsrOfOneThenUnclean,
        (true, false, _) => Failover::Unclean,
        (false, _, true) => Failover::PowerLoss,
        (false, true, false) => Failover::IsrOfOne,
        (false, false, false) => match acks {
            Acks::Zero => Failover::Acks0,
            Acks::One => Failover::Acks1,
            Acks::All => return None,
        },
    })
}

/// The truncations that removed the record at offset `o` (appended by `a`);
/// a power loss at `lost_at` keeps only what was flushed.
fn truncation_links(
    ix: &Index<'_>,
    n: &Names<'_>,
    g: u32,
    a: Found<'_>,
    o: u64,
    loss: (bool, u64),
    chain: &mut Vec<Link>,
) {
    let part = n.partition(g as u64);
    for t in ix.partition(g, Step::Truncate).after(a.id).filter(|f| f.v(2) <= o) {
        let text = if loss.0 && t.t() == loss.1 {
            format!("{} kept {part} only up to offset {}", n.broker(t.v(0)), t.v(2))
        } else {
            format!("{} truncated {part} to offset {}, removing it", n.broker(t.v(0)), t.v(2))
        };
        chain.push(link(t, text));
    }
}

/// An ISR change of partition `g` (step `isr`): who left it, and the fault
/// that took each away (a crash, a pause, a network partition).
fn isr_change(w: &World, ix: &Index<'_>, n: &Names<'_>, g: u32, isr: Found<'_>, tail: &str, chain: &mut Vec<Link>) {
    let all = w.partitions[g as usize].replicas.iter().fold(0u64, |m, r| m | 1 << r.broker.raw());
    let before = ix.partition(g, Step::Isr).before(isr.id).next_back().map_or(all, |f| f.v(1));
    let left = before & !isr.v(1);
    for b in (0..64).filter(|b| left >> b & 1 == 1) {
        if let Some(down) = broker_fault(ix, n, b, 0, isr.id) {
            chain.push(link(down, fault_text(n, down)));
        }
    }
    let part = n.partition(g as u64);
    let now = n.brokers(isr.v(1));
    let text = match left {
        0 => format!("the ISR of {part} is now {now}{tail}"),
        _ => {
            let names: Vec<String> = (0..64).filter(|b| left >> b & 1 == 1).map(|b| n.broker(b)).collect();
            format!("{} left the ISR of {part}, now {now}{tail}", names.join(" and "))
        }
    };
    chain.push(link(isr, text));
}

/// The log end of `broker`'s replica of `g` just before step `before`: the
/// last replicate or truncate of it, or its own appends as leader.
fn log_end_at(ix: &Index<'_>, g: u32, broker: u64, before: u32) -> u64 {
    let last = |kind: Step, who: usize| ix.partition(g, kind).before(before).rev().find(|f| f.v(who) == broker);
    let candidates = [
        last(Step::Replicate, 0).map(|f| (f.id, f.v(2))),
        last(Step::Truncate, 0).map(|f| (f.id, f.v(2))),
        last(Step::Append, 3).map(|f| (f.id, f.v(2) + 1)),
    ];
    candidates.into_iter().flatten().max().map_or(0, |(_, end)| end)
}

/// Still in the log, but the group's committed offset is past it and no member processed it.
fn behind_the_group(
    w: &World,
    ix: &Index<'_>,
    n: &Names<'_>,
    group: u32,
    r: u32,
    a: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let (g, o) = (a.v(1) as u32, a.v(2));
    let part = n.partition(g as u64);
    chain.push(link(a, format!("appended to {part}@{o} by {}", n.broker(a.v(3)))));
    let rec = &w.oracle.ledger.records[r as usize];
    let read_committed = w.consumers[w.groups[group as usize].first_consumer].read_committed;
    if let (Some(txn), true) = (w.producers[rec.producer as usize].txn.map(|t| t.raw()), read_committed) {
        let abort = ix.partition(g, Step::Marker).after(a.id).find(|f| f.v(3) == txn as u64 && f.v(1) > o);
        if let Some(m) = abort.filter(|m| m.v(2) == 0) {
            if let Some(end) = ix.txn(txn).after(m.id).find(|f| f.s.kind == Step::TxnEnd) {
                if let Some(c) = ix.fault_of(Step::Crash, entity::PRODUCER, rec.producer as u64, a.t()) {
                    if c.t() <= m.t() {
                        chain.push(link(c, format!("{} crashed mid-transaction", n.producer(rec.producer))));
                    }
                }
                chain.push(link(
                    m,
                    format!("abort marker at {part}@{}: read_committed readers skip the record", m.v(1)),
                ));
                chain.push(link(
                    end,
                    format!("{}'s transaction ends aborted; nothing sends it again", n.txn(txn as u64)),
                ));
                return Cause::AbortedNeverResent { txn, at: end.t() };
            }
        }
    }
    let in_group = |f: &Found<'_>| w.consumers[f.v(0) as usize].group.raw() == group;
    let Some(past) = ix.partition(g, Step::Commit).after(a.id).find(|f| f.v(2) > o && in_group(f)) else {
        return Cause::Unexplained { what: "a record in the log, not reachable, with no commit past it" };
    };
    let c = past.v(0) as u32;
    let name = n.consumer(c as u64);
    let position = ix.consumer(c, Step::Position).before(past.id).rev().find(|f| f.v(1) == g as u64);
    let Some(pos) = position else {
        return Cause::Unexplained { what: "a commit by a member with no position" };
    };
    if pos.v(2) > o {
        // The member started past it.
        let gname = n.group(group);
        let text = match pos.v(3) {
            source::RESET => format!(
                "{name} was assigned {part}; group {gname} had no committed offset, so auto.offset.reset={} put it at offset {} (the log end), past the record",
                w.consumers[c as usize].auto_offset_reset.name(),
                pos.v(2)
            ),
            source::OUT_OF_RANGE => {
                format!("{name}'s offset was out of range; auto.offset.reset moved it to {}", pos.v(2))
            }
            _ => return Cause::Unexplained { what: "a member resumed past a record nobody committed past" },
        };
        chain.push(link(pos, text));
        chain.push(link(past, format!("{name} committed {part} offset {}", past.v(2))));
        return match pos.v(3) {
            source::RESET => Cause::ResetToLatest { group },
            _ => Cause::ResetOutOfRange { group },
        };
    }
    // The member read it and committed past it before processing it.
    let fetch = ix.consumer(c, Step::Fetch).after(pos.id).find(|f| f.v(1) == g as u64 && f.v(2) <= o && o < f.v(3));
    let fetched_at = fetch.map_or(past.t(), |f| f.t());
    if let Some(f) = fetch {
        chain.push(link(f, format!("{name} fetched {part} offsets {}..{}", f.v(2), f.v(3))));
    }
    let cs = &w.consumers[c as usize];
    let why = match (cs.commit, cs.async_processing) {
        (CommitMode::BeforeProcessing, _) => "commit before processing",
        (CommitMode::Auto, true) => "auto-commit of records still queued for the worker",
        (CommitMode::Auto, false) => "auto-commit",
        _ => "commit",
    };
    chain.push(link(
        past,
        format!("{name} committed {part} offset {} ({why}), past a record it had not processed", past.v(2)),
    ));
    // What ended its hold after the commit; or, for a member that kept the
    // partition, a refused commitSync between the fetch and the commit: the
    // application skipped that batch (CommitFailedException) and the next
    // commit passed it.
    let hold =
        lost_hold(w, ix, n, c, g, past.t(), u64::MAX).or_else(|| lost_hold(w, ix, n, c, g, fetched_at, past.t()));
    let Some((how, links)) = hold else {
        return Cause::Unexplained { what: "committed past and never processed, with no disruption" };
    };
    chain.extend(links);
    let next = ix
        .partition(g, Step::Position)
        .since(how.at().saturating_sub(1))
        .find(|f| w.consumers[f.v(0) as usize].group.raw() == group);
    if let Some(p) = next {
        resumed_at(w, ix, n, group, g, p, chain);
        if let Some(l) = chain.last_mut() {
            l.text.push_str(&format!(", after @{o}: nobody processes it"));
        }
    }
    Cause::CommittedUnprocessed { consumer: c, how }
}
