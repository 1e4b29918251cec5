//! Records lost to librdkafka's offset store. With `enable.auto.offset.store=true` (the
//! default), librdkafka stores a message's offset + 1 when it hands the message to the
//! application, before the application processes it (rdkafka_op.c
//! `rd_kafka_fetch_op_app_prepare` → rdkafka_offset.c `rd_kafka_update_app_pos`, which calls
//! `rd_kafka_offset_store0` when `enable_auto_offset_store` is set). Its auto-commit is a timer
//! (rdkafka_cgrp.c `rd_kafka_cgrp_offset_commit_tmr_cb`, every auto.commit.interval.ms, skipped
//! only while the group is not steady) that commits the stored offsets whatever the
//! application is doing, and a revocation commits them too (rdkafka_assignment.c
//! `rd_kafka_assignment_serve_removals` commits `rktp_stored_pos` with enable.auto.commit). So a
//! commit in the middle of a batch covers the records handed over and not yet processed; a crash
//! (or the end of the run) before they are processed leaves the committed offset past them.
//!
//! The story is built from steps alone: the fetch that brought the record, the last record the
//! member processed from that partition before the commit, the commit past them, and what ended
//! the member's hold (or the run's end), then where the group resumed.

use super::index::{span, ts, Found};
use super::ownership::{link, lost_hold, resumed_at};
use super::{Cause, Ctx, Link};
use crate::model::consumer::{Consumer, OffsetStore};
use crate::model::ids::{ConsumerId, GroupId, PartitionId};
use crate::oracle::trace::Step;
use crate::scenario::CommitMode;

/// Whether consumer `cs`'s commits take librdkafka's offset store filled on return:
/// auto-commit with `enable.auto.offset.store=true`.
pub(super) fn applies(cs: &Consumer) -> bool {
    cs.commit == CommitMode::Auto && cs.offset_store == OffsetStore::OnReturn
}

/// Record at offset `o` of the partition the commit `past` is about, never processed: the
/// member's auto-commit took its offset store past it. `pos` is the member's position on the
/// partition before the commit.
pub(super) fn committed_unprocessed(
    cx: Ctx<'_>,
    group: GroupId,
    o: u64,
    pos: Found<'_>,
    past: Found<'_>,
    chain: &mut Vec<Link>,
) -> Cause {
    let Ctx { w, ix, n } = cx;
    let commit = past.commit();
    let (c, g) = (commit.consumer, commit.partition);
    let (name, part) = (n.consumer(c), n.partition(g));
    let first_unprocessed = stored_commit(cx, o, pos, past, chain);
    let hold = lost_hold(cx, c, g, past.t(), u64::MAX);
    let ended_at = hold.as_ref().map_or(u64::MAX, |(how, _)| how.at());
    // What it still processed of the batch before its hold (or the run) ended: the rest is skipped.
    let done = cx.ix.consumer(c, Step::Process).after(past.id).until(ended_at).rev().find(|f| on(cx, *f, g));
    if done.is_some_and(|f| f.process().offset > o) {
        return Cause::Unexplained { what: "an offset-store commit past a record its member then passed" };
    }
    let from = done.map_or(first_unprocessed, |f| f.process().offset + 1);
    let skipped = commit.offset.saturating_sub(from);
    let skipped = format!(
        "@{from}..@{} ({skipped} record{}) committed and never processed",
        commit.offset.saturating_sub(1),
        if skipped == 1 { "" } else { "s" }
    );
    let Some((how, links)) = hold else {
        // Nothing ended its hold: it was still working through the batch when the run ended.
        if let Some(f) = done {
            let text = format!(
                "{name} processed {part}@{}, its last before the run ended at {}: {skipped}",
                f.process().offset,
                ts(w.now.us())
            );
            chain.push(link(f, text));
        }
        return Cause::OffsetStore { consumer: c.raw(), how: None };
    };
    if let Some(f) = done {
        chain.push(link(f, format!("{name} processed {part}@{}, its last before it lost {part}", f.process().offset)));
    }
    chain.extend(links);
    if let Some(l) = chain.last_mut() {
        l.text.push_str(&format!(": {skipped}"));
    }
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
    Cause::OffsetStore { consumer: c.raw(), how: Some(how) }
}

/// The offset-store commit `past`: the last record the member finished
/// before it (after its position `pos`), and the commit itself with what it
/// covers. Returns the first offset committed unprocessed.
fn stored_commit(cx: Ctx<'_>, o: u64, pos: Found<'_>, past: Found<'_>, chain: &mut Vec<Link>) -> u64 {
    let Ctx { w, n, .. } = cx;
    let commit = past.commit();
    let (c, g) = (commit.consumer, commit.partition);
    let (name, part) = (n.consumer(c), n.partition(g));
    let cs = &w.consumers[c];
    let last = last_processed(cx, c, g, pos.id, past.id);
    let first_unprocessed = last.map_or(pos.position().offset, |p| p.process().offset + 1);
    if let Some(p) = last {
        let text =
            format!("{name} processed {part}@{}: the last record it finished before the commit", p.process().offset);
        chain.push(link(p, text));
    }
    let unprocessed = commit.offset.saturating_sub(first_unprocessed);
    let when = if cs.async_processing {
        "auto-committed its offset store while its worker queue still held records".to_string()
    } else {
        format!(
            "'s auto-commit timer (every auto.commit.interval.ms, {}) fired mid-batch and committed its offset store",
            span(cs.auto_commit_interval.us())
        )
    };
    let sep = if cs.async_processing { " " } else { "" };
    chain.push(link(
        past,
        format!(
            "{name}{sep}{when}: {part} offset {}. librdkafka stored each offset as poll() handed its record to the application (enable.auto.offset.store=true), so the commit covers {unprocessed} record{} handed over and not processed yet (@{first_unprocessed}..@{}), @{o} among them",
            commit.offset,
            if unprocessed == 1 { "" } else { "s" },
            commit.offset.saturating_sub(1),
        ),
    ));
    first_unprocessed
}

/// Whether processing step `f` is of a record of partition `g`.
fn on(cx: Ctx<'_>, f: Found<'_>, g: PartitionId) -> bool {
    cx.w.oracle.ledger.partition_of(f.process().record.raw()) == g.raw()
}

/// Consumer `c`'s last processing of a record of `g` between steps `from` and `to`.
fn last_processed<'a>(cx: Ctx<'a>, c: ConsumerId, g: PartitionId, from: u32, to: u32) -> Option<Found<'a>> {
    cx.ix.consumer(c, Step::Process).after(from).before(to).rev().find(|f| on(cx, *f, g))
}
