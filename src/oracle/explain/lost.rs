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
use super::view::{Append, Elect, Position, View};
use super::{Anomaly, Cause, Ctx, Disruption, Failover, LeaderLoss, Link, Story};
use crate::model::ids::{BrokerId, ConsumerId, GroupId, PartitionId, ProducerId};
use crate::oracle::fact::{Entity, PositionSource};
use crate::oracle::ledger::NEVER;
use crate::oracle::trace::Step;
use crate::scenario::{Acks, CommitMode};

pub fn story(cx: Ctx<'_>, group: GroupId, r: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        chain.push(link(send, format!("{} handed it to send()", n.producer(ProducerId::new(rec.producer)))));
    }
    let last_append = ix.record(r).rev().find(|f| f.s.kind == Step::Append);
    let (cause, place) = match last_append {
        None => (never_written(cx, r, &mut chain), n.partition(PartitionId::new(rec.partition))),
        Some(f) => {
            let a = f.append();
            let place = format!("{}@{}", n.partition(a.partition), a.offset);
            // The oracle's own copy of the logs (`oracle::shadow`), not the model's.
            let part = &w.oracle.observed.partitions[a.partition.raw() as usize];
            let leader_log = part.leader_log();
            let in_log = leader_log.is_some_and(|log| log.get(a.offset as usize) == Some(&r));
            let cause = if leader_log.is_none() {
                chain.push(link(f, format!("appended to {place} by {}", n.broker(a.broker))));
                Cause::Offline { partition: a.partition.raw() }
            } else if in_log {
                behind_the_group(cx, group, r, f, &mut chain)
            } else {
                truncated(cx, r, f, &mut chain)
            };
            (cause, place)
        }
    };
    let headline = format!("record {} for {place}, group {}: lost", n.record(r), n.group(group));
    Story::new(Anomaly::Lost, r, group.raw(), cause, headline, chain)
}

/// No log ever had it: the producer died with it in its buffer or on the wire.
pub(super) fn never_written(cx: Ctx<'_>, r: u32, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let p = ProducerId::new(rec.producer);
    for f in ix.record(r).filter(|f| f.s.kind == Step::Retry) {
        chain.push(retry_link(n, p, f));
    }
    let Some(crash) = ix.fault_of(Step::Crash, Entity::Producer(p), rec.sent_us.saturating_sub(1)) else {
        return Cause::Unexplained { what: "a record never written, with no crash of its producer" };
    };
    chain.push(link(crash, format!("{} crashed with it unsent: its buffer died with the process", n.producer(p))));
    Cause::ProducerCrash { producer: p.raw(), at: crash.t() }
}

fn retry_link(n: &Names<'_>, p: ProducerId, f: Found<'_>) -> Link {
    let error = f.retry().error.describe();
    link(f, format!("{} saw {error} and will send it again", n.producer(p)))
}

/// It was appended (`a`) but the leader's log no longer holds it.
pub(super) fn truncated(cx: Ctx<'_>, r: u32, a: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let append = a.append();
    let (g, o, leader) = (append.partition, append.offset, append.broker);
    let part = n.partition(g);
    let leader_epoch = ix.partition(g, Step::Elect).before(a.id).next_back().map_or(0, |e| e.elect().epoch.raw());
    chain.push(link(a, format!("appended to {part}@{o} by {} (leader, epoch {leader_epoch})", n.broker(leader))));
    let acks = w.producers[ProducerId::new(rec.producer)].config.acks;
    let lone_isr = acknowledged(cx, r, g, acks, chain);
    // Who copied it, and what took the leader away.
    let Some(elect) = ix.partition(g, Step::Elect).after(a.id).next() else {
        return Cause::Unexplained { what: "a record truncated without a leader change" };
    };
    copies(cx, a, elect, chain);
    let loss = leader_loss(cx, a, elect, chain);
    let unclean = election_links(cx, a, elect, chain);
    truncation_links(cx, g, a, o, (loss.power_loss, loss.at), chain);
    if rec.acked_us == NEVER && acks != Acks::Zero {
        return unacknowledged(cx, ProducerId::new(rec.producer), a, chain);
    }
    match failover_kind(unclean, lone_isr, loss.power_loss, acks) {
        Some(how) => Cause::Failover { broker: leader.raw(), lost_at: loss.at, fault: loss.fault, how },
        None => Cause::Unexplained { what: "acks=all lost a record the full ISR had" },
    }
}

/// The acknowledgement of record `r` (on partition `g`) and the ISR then;
/// whether that ISR was the leader alone (and the change that made it so).
fn acknowledged(cx: Ctx<'_>, r: u32, g: PartitionId, acks: Acks, chain: &mut Vec<Link>) -> bool {
    let Ctx { ix, n, .. } = cx;
    let acked = ix.record(r).find(|f| f.s.kind == Step::Ack);
    let isr_then = |t: u64| ix.partition(g, Step::Isr).until(t).next_back();
    let lone_isr = acked.and_then(|ack| isr_then(ack.t())).filter(|isr| isr.isr().isr_brokers.count_ones() == 1);
    if let Some(isr) = lone_isr {
        isr_change(cx, g, isr, ": acks=all now waits for no follower", chain);
    }
    if let Some(ack) = acked {
        let how = match acks {
            Acks::Zero => "acks=0: counted as acknowledged when sent".to_string(),
            Acks::One => "acknowledged to the producer after the leader's own append (acks=1)".to_string(),
            Acks::All => format!(
                "acknowledged to the producer: every ISR member had it (acks=all, ISR {})",
                isr_then(ack.t()).map_or("full".to_string(), |i| n.brokers(i.isr().isr_brokers))
            ),
        };
        chain.push(link(ack, how));
    }
    lone_isr.is_some()
}

/// The followers that copied the record appended by `a` before the
/// election `elect`, each once, and the fault that kept each from leading.
fn copies(cx: Ctx<'_>, a: Found<'_>, elect: Found<'_>, chain: &mut Vec<Link>) {
    let Ctx { ix, n, .. } = cx;
    let append = a.append();
    let mut copied = 0u64;
    for f in ix.partition(append.partition, Step::Replicate).after(a.id).before(elect.id) {
        let copy = f.replicate();
        if copy.log_end > append.offset && copied >> copy.broker.raw() & 1 == 0 {
            copied |= 1 << copy.broker.raw();
            let text = format!("{} copied it (its log now ends at {})", n.broker(copy.broker), copy.log_end);
            chain.push(link(f, text));
            // Why that copy could not lead: its own fault before the election.
            if let Some(down) = broker_fault(cx, copy.broker, f.id, elect.id) {
                chain.push(link(down, fault_text(n, down)));
            }
        }
    }
}

/// What took the leader away from the record's partition.
struct LeaderLost {
    fault: LeaderLoss,
    /// The leader's own log lost its unflushed tail.
    power_loss: bool,
    /// When (µs): the fault's time, or the election's when no fault shows.
    at: u64,
}

/// The fault of the leader that appended `a` between the append and the
/// election `elect`, with its link.
fn leader_loss(cx: Ctx<'_>, a: Found<'_>, elect: Found<'_>, chain: &mut Vec<Link>) -> LeaderLost {
    let Ctx { ix, n, .. } = cx;
    let Append { partition: g, broker: leader, .. } = a.append();
    let before = elect.t();
    let faults = || {
        ix.faults().since(a.t().saturating_sub(1)).until(before).filter(|f| match f.view() {
            View::Crash(e) => e == Entity::Broker(leader),
            View::Pause(p) => p.entity == Entity::Broker(leader),
            View::NetworkPartition(_) => sending::cuts_broker(n, *f, leader),
            _ => false,
        })
    };
    // A power loss that cut the leader's own log outweighs an earlier,
    // harmless fault of the same leader (KIP-966: a partition, then power loss).
    let cut_own_log = |c: &Found<'_>| {
        let own = |f: Found<'_>| f.truncate().broker == leader;
        c.s.kind == Step::Crash && ix.partition(g, Step::Truncate).since(c.t().saturating_sub(1)).until(c.t()).any(own)
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
    if let Some(l) = loss {
        let text = match fault {
            LeaderLoss::PowerLoss => format!("{} lost power: its unflushed log tail is gone", n.broker(leader)),
            _ => fault_text(n, l),
        };
        chain.push(link(l, text));
    }
    LeaderLost { fault, power_loss, at: loss.map_or(before, |f| f.t()) }
}

/// The old leader (that appended `a`) leaving the ISR, the new leader's
/// staleness for an unclean election, and the election `elect` itself;
/// whether it was unclean.
fn election_links(cx: Ctx<'_>, a: Found<'_>, elect: Found<'_>, chain: &mut Vec<Link>) -> bool {
    let Ctx { ix, n, .. } = cx;
    let Append { partition: g, broker: leader, .. } = a.append();
    let part = n.partition(g);
    let out_of_isr = |f: &Found<'_>| f.isr().isr_brokers >> leader.raw() & 1 == 0;
    let fenced = ix.partition(g, Step::Isr).after(a.id).before(elect.id + 1).find(out_of_isr);
    if let Some(isr) = fenced {
        let now = n.brokers(isr.isr().isr_brokers);
        chain.push(link(isr, format!("{} left the ISR of {part}: now {now}", n.broker(leader))));
    }
    let Elect { leader: new, epoch, unclean, .. } = elect.elect();
    if let (true, Some(new)) = (unclean, new) {
        // What made the new leader stale: its own fault before the record, and its return.
        if let Some(down) = broker_fault(cx, new, 0, a.id) {
            chain.push(link(down, fault_text(n, down)));
            let back = ix.fault_of(Step::Restart, Entity::Broker(new), down.t()).filter(|b| b.id < elect.id);
            if let Some(back) = back {
                chain.push(link(back, format!("{} restarted, behind the others", n.broker(new))));
            }
        }
    }
    let text = match new {
        None => format!("{part} went offline: no replica could lead"),
        Some(new) => format!(
            "{} became leader of {part} (epoch {epoch}){}, its log ending at offset {}: without the record",
            n.broker(new),
            if unclean { " in an unclean election: it was not in the ISR" } else { "" },
            log_end_at(ix, g, new, elect.id)
        ),
    };
    chain.push(link(elect, text));
    unclean
}

/// Never acknowledged: the producer would have sent it again, but it died first.
fn unacknowledged(cx: Ctx<'_>, p: ProducerId, a: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { ix, n, .. } = cx;
    match ix.fault_of(Step::Crash, Entity::Producer(p), a.t()) {
        Some(c) => {
            let text = format!("{} crashed before the write was acknowledged: nothing sends it again", n.producer(p));
            chain.push(link(c, text));
            Cause::UnacknowledgedLost { producer: p.raw(), at: c.t() }
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
fn truncation_links(cx: Ctx<'_>, g: PartitionId, a: Found<'_>, o: u64, loss: (bool, u64), chain: &mut Vec<Link>) {
    let Ctx { ix, n, .. } = cx;
    let part = n.partition(g);
    for f in ix.partition(g, Step::Truncate).after(a.id) {
        let cut = f.truncate();
        if cut.offset > o {
            continue;
        }
        let text = if loss.0 && f.t() == loss.1 {
            format!("{} kept {part} only up to offset {}", n.broker(cut.broker), cut.offset)
        } else {
            format!("{} truncated {part} to offset {}, removing it", n.broker(cut.broker), cut.offset)
        };
        chain.push(link(f, text));
    }
}

/// An ISR change of partition `g` (step `isr`): who left it, and the fault
/// that took each away (a crash, a pause, a network partition).
fn isr_change(cx: Ctx<'_>, g: PartitionId, isr: Found<'_>, tail: &str, chain: &mut Vec<Link>) {
    let Ctx { w, ix, n } = cx;
    let all = w.partitions[g].replicas.iter().fold(0u64, |m, r| m | 1 << r.broker.raw());
    let before = ix.partition(g, Step::Isr).before(isr.id).next_back().map_or(all, |f| f.isr().isr_brokers);
    let now = isr.isr().isr_brokers;
    let left = before & !now;
    let gone = || (0..64).filter(move |b| left >> b & 1 == 1).map(BrokerId::new);
    for b in gone() {
        if let Some(down) = broker_fault(cx, b, 0, isr.id) {
            chain.push(link(down, fault_text(n, down)));
        }
    }
    let part = n.partition(g);
    let now = n.brokers(now);
    let text = match left {
        0 => format!("the ISR of {part} is now {now}{tail}"),
        _ => {
            let names: Vec<String> = gone().map(|b| n.broker(b)).collect();
            format!("{} left the ISR of {part}, now {now}{tail}", names.join(" and "))
        }
    };
    chain.push(link(isr, text));
}

/// The log end of `broker`'s replica of `g` just before step `before`: the
/// last replicate or truncate of it, or its own appends as leader.
fn log_end_at(ix: &Index<'_>, g: PartitionId, broker: BrokerId, before: u32) -> u64 {
    let steps = |kind: Step| ix.partition(g, kind).before(before).rev();
    let candidates = [
        steps(Step::Replicate)
            .map(|f| (f.id, f.replicate()))
            .find(|(_, c)| c.broker == broker)
            .map(|(id, c)| (id, c.log_end)),
        steps(Step::Truncate)
            .map(|f| (f.id, f.truncate()))
            .find(|(_, t)| t.broker == broker)
            .map(|(id, t)| (id, t.offset)),
        steps(Step::Append)
            .map(|f| (f.id, f.append()))
            .find(|(_, a)| a.broker == broker)
            .map(|(id, a)| (id, a.offset + 1)),
    ];
    candidates.into_iter().flatten().max().map_or(0, |(_, end)| end)
}

/// Read_committed skipped record `r` (appended by `a`): its transaction
/// aborted and nothing sent it again. None when that is not what happened.
fn aborted_never_resent(cx: Ctx<'_>, group: GroupId, r: u32, a: Found<'_>, chain: &mut Vec<Link>) -> Option<Cause> {
    let Ctx { w, ix, n } = cx;
    let Append { partition: g, offset: o, .. } = a.append();
    let producer = ProducerId::new(w.oracle.ledger.producer_of(r));
    let read_committed = w.consumers[w.groups[group].first_consumer].read_committed;
    let txn = w.producers[producer].txn.filter(|_| read_committed)?;
    let its_marker = |f: &Found<'_>| {
        let m = f.marker();
        m.txn == txn && m.offset > o
    };
    let abort = ix.partition(g, Step::Marker).after(a.id).find(its_marker).filter(|m| !m.marker().commit)?;
    let end = ix.txn(txn).after(abort.id).find(|f| f.s.kind == Step::TxnEnd)?;
    if let Some(c) = ix.fault_of(Step::Crash, Entity::Producer(producer), a.t()) {
        if c.t() <= abort.t() {
            chain.push(link(c, format!("{} crashed mid-transaction", n.producer(producer))));
        }
    }
    let part = n.partition(g);
    let text = format!("abort marker at {part}@{}: read_committed readers skip the record", abort.marker().offset);
    chain.push(link(abort, text));
    chain.push(link(end, format!("{}'s transaction ends aborted; nothing sends it again", n.txn(txn))));
    Some(Cause::AbortedNeverResent { txn: txn.raw(), at: end.t() })
}

/// The member that committed `past` the record had started past it (its
/// position `pos`): an offset reset skipped the record.
fn started_past(cx: Ctx<'_>, group: GroupId, pos: Found<'_>, past: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, n, .. } = cx;
    let Position { consumer: c, partition: g, offset, source } = pos.position();
    let (name, part, gname) = (n.consumer(c), n.partition(g), n.group(group));
    let text = match source {
        PositionSource::Reset => format!(
            "{name} was assigned {part}; group {gname} had no committed offset, so auto.offset.reset={} put it at offset {offset} (the log end), past the record",
            w.consumers[c].auto_offset_reset.name(),
        ),
        PositionSource::OutOfRange => {
            format!("{name}'s offset was out of range; auto.offset.reset moved it to {offset}")
        }
        // A divergence seek (KIP-320) lands at the new leader's epoch end, never past a record
        // its log holds.
        PositionSource::Committed | PositionSource::Diverged => {
            return Cause::Unexplained { what: "a member resumed past a record nobody committed past" }
        }
    };
    chain.push(link(pos, text));
    chain.push(link(past, format!("{name} committed {part} offset {}", past.commit().offset)));
    match source {
        PositionSource::Reset => Cause::ResetToLatest { group: group.raw() },
        _ => Cause::ResetOutOfRange { group: group.raw() },
    }
}

/// KAFKA-17582: consumer `c` processed record `r` in a transaction that
/// aborted, then polled on without seeking back (a `no_rewind` step between
/// the fetch at `fetched_at` and the commit `past`): the next transaction
/// committed offsets past a record whose result the abort had dropped.
fn aborted_without_rewind(
    cx: Ctx<'_>,
    c: ConsumerId,
    r: u32,
    fetched_at: u64,
    past: Found<'_>,
    chain: &mut Vec<Link>,
) -> Option<Cause> {
    let Ctx { ix, n, .. } = cx;
    let no_rewind = ix.consumer(c, Step::NoRewind).until(past.t()).rev().find(|f| f.t() >= fetched_at)?;
    let txn = no_rewind.no_rewind().txn;
    let name = n.consumer(c);
    let aborted = |f: &Found<'_>| f.s.kind == Step::TxnEnd && !f.txn_end().commit && f.t() >= fetched_at;
    let end = ix.txn(txn).before(no_rewind.id).rev().find(aborted)?;
    // Links in trace order: the processing may come before the abort (its
    // result dropped) or after it (its write refused in the fenced transaction).
    let mut links: Vec<Link> = Vec::new();
    if let Some(p) = ix.record(r).before(no_rewind.id).rev().find(|f| f.s.kind == Step::Process) {
        let text = if p.id < end.id {
            format!("{name} processed it: its result waits in the transaction of {}", n.txn(txn))
        } else {
            format!("{name} processed it after the abort: its write in the aborted transaction is refused")
        };
        links.push(link(p, text));
    }
    let fault = ix.faults().after(fetched_at_id(ix, c, fetched_at)).before(end.id).rev().find(|f| match f.view() {
        View::Pause(p) => p.entity == Entity::Consumer(c),
        _ => false,
    });
    if let Some(f) = fault {
        links.push(link(f, fault_text(n, f)));
    }
    let fenced = ix.txn(txn).before(end.id).rev().find(|f| f.s.kind == Step::Fenced && f.t() >= fetched_at);
    if let Some(f) = fenced.filter(|f| f.fenced().by_timeout) {
        links.push(link(
            f,
            "transaction.timeout.ms passed with the transaction open: the coordinator aborts it".to_string(),
        ));
    }
    links.push(link(end, format!("the transaction of {} aborted: its results are dropped", n.txn(txn))));
    links.sort_by_key(|l| l.step);
    chain.extend(links);
    chain.push(link(
        no_rewind,
        format!("{name} polls on from its position without seeking back to the committed offsets (on_abort: continue)"),
    ));
    let commit = past.commit();
    let part = n.partition(commit.partition);
    chain.push(link(past, format!("{name}'s next transaction commits {part} offset {}, past it", commit.offset)));
    Some(Cause::NoRewindOnAbort { consumer: c.raw(), txn: txn.raw(), at: end.t() })
}

/// Consumer `c`'s last fetch at or before time `t` (step 0 when none): where
/// a search for its faults since that fetch begins.
fn fetched_at_id(ix: &Index<'_>, c: ConsumerId, t: u64) -> u32 {
    ix.consumer(c, Step::Fetch).until(t).next_back().map_or(0, |f| f.id)
}

/// How a member's commit went past records it had not processed.
fn commit_kind(commit: CommitMode, async_processing: bool) -> &'static str {
    match (commit, async_processing) {
        (CommitMode::BeforeProcessing, _) => "commit before processing",
        (CommitMode::Auto, true) => "auto-commit of records still queued for the worker",
        (CommitMode::Auto, false) => "auto-commit",
        _ => "commit",
    }
}

/// Still in the log, but the group's committed offset is past it and no member processed it.
fn behind_the_group(cx: Ctx<'_>, group: GroupId, r: u32, a: Found<'_>, chain: &mut Vec<Link>) -> Cause {
    let Ctx { w, ix, n } = cx;
    let append = a.append();
    let (g, o) = (append.partition, append.offset);
    let part = n.partition(g);
    chain.push(link(a, format!("appended to {part}@{o} by {}", n.broker(append.broker))));
    if let Some(cause) = aborted_never_resent(cx, group, r, a, chain) {
        return cause;
    }
    let past_it = |f: &Found<'_>| {
        let cm = f.commit();
        cm.offset > o && w.consumers[cm.consumer].group == group
    };
    let Some(past) = ix.partition(g, Step::Commit).after(a.id).find(past_it) else {
        return Cause::Unexplained { what: "a record in the log, not reachable, with no commit past it" };
    };
    let commit = past.commit();
    let c = commit.consumer;
    let name = n.consumer(c);
    let position = ix.consumer(c, Step::Position).before(past.id).rev().find(|f| f.position().partition == g);
    let Some(pos) = position else {
        return Cause::Unexplained { what: "a commit by a member with no position" };
    };
    if pos.position().offset > o {
        return started_past(cx, group, pos, past, chain);
    }
    // The member read it and committed past it before processing it.
    let holds_it = |f: &Found<'_>| {
        let fetch = f.fetch();
        fetch.partition == g && fetch.from <= o && o < fetch.to
    };
    let fetch = ix.consumer(c, Step::Fetch).after(pos.id).find(holds_it);
    let fetched_at = fetch.map_or(past.t(), |f| f.t());
    if let Some(f) = fetch {
        let read = f.fetch();
        chain.push(link(f, format!("{name} fetched {part} offsets {}..{}", read.from, read.to)));
    }
    let cs = &w.consumers[c];
    if super::offset_store::applies(cs) {
        return super::offset_store::committed_unprocessed(cx, group, o, pos, past, chain);
    }
    if cs.commit == CommitMode::Transactional {
        if let Some(cause) = aborted_without_rewind(cx, c, r, fetched_at, past, chain) {
            return cause;
        }
    }
    if cs.commit == CommitMode::BeforeProcessing {
        if let Some(how) = refused_before_processing(cx, c, fetch, past, chain) {
            return Cause::CommittedUnprocessed { consumer: c.raw(), how };
        }
    }
    let why = commit_kind(cs.commit, cs.async_processing);
    chain.push(link(
        past,
        format!("{name} committed {part} offset {} ({why}), past a record it had not processed", commit.offset),
    ));
    ended_hold(cx, group, (c, g, o), (fetched_at, past.t()), chain)
}

/// After member `c` committed past offset `o` of `g` unprocessed: what
/// ended its hold after the commit (at `committed_at`), or, for a member that
/// kept the partition, a refused commitSync between the fetch (at
/// `fetched_at`) and the commit (the application skipped that batch on
/// CommitFailedException and the next commit passed it); then where the
/// group resumed.
fn ended_hold(
    cx: Ctx<'_>,
    group: GroupId,
    (c, g, o): (ConsumerId, PartitionId, u64),
    (fetched_at, committed_at): (u64, u64),
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { w, ix, .. } = cx;
    let hold = lost_hold(cx, c, g, committed_at, u64::MAX).or_else(|| lost_hold(cx, c, g, fetched_at, committed_at));
    let Some((how, links)) = hold else {
        return Cause::Unexplained { what: "committed past and never processed, with no disruption" };
    };
    chain.extend(links);
    let next = ix
        .partition(g, Step::Position)
        .since(how.at().saturating_sub(1))
        .find(|f| w.consumers[f.position().consumer].group == group);
    if let Some(p) = next {
        resumed_at(cx, group, g, p, chain);
        if let Some(l) = chain.last_mut() {
            l.text.push_str(&format!(", after @{o}: nobody processes it"));
        }
    }
    Cause::CommittedUnprocessed { consumer: c.raw(), how }
}

/// Commit before processing: the commitSync of the batch holding the record
/// was refused (CommitFailedException or RebalanceInProgressException,
/// ConsumerCoordinator), so the batch was dropped unprocessed; a member that
/// kept the partition (cooperative) kept its position past the batch, and its
/// next commit went past the record.
fn refused_before_processing(
    cx: Ctx<'_>,
    c: ConsumerId,
    fetch: Option<Found<'_>>,
    past: Found<'_>,
    chain: &mut Vec<Link>,
) -> Option<Disruption> {
    let Ctx { ix, n, .. } = cx;
    let refused = ix.consumer(c, Step::CommitFailed).after(fetch?.id).before(past.id).next()?;
    let name = n.consumer(c);
    let text = format!(
        "{name}'s commitSync before processing was refused (generation {} had ended): the batch holding the record was dropped unprocessed, and {name} kept its position past it",
        refused.commit_failed().generation
    );
    chain.push(link(refused, text));
    let commit = past.commit();
    chain.push(link(
        past,
        format!("{name} committed {} offset {}, past it", n.partition(commit.partition), commit.offset),
    ));
    Some(Disruption::CommitRefused { at: refused.t() })
}
