//! Late events: records that reached a group's aggregation behind its
//! watermark (the largest event time seen, minus the bound). Either the
//! record left its producer long after it happened (held while offline, a
//! clock behind, a slow upstream), or it was sent on time and its partition
//! was read behind others whose newer events moved the watermark.

use super::index::{span, ts, Found, Index};
use super::ownership::link;
use super::{is_effect, sending, Anomaly, Cause, Ctx, Link, Story};
use crate::model::aggregate::LateArrival;
use crate::model::ids::{GroupId, PartitionId, ProducerId};
use crate::oracle::trace::Step;

pub fn story(cx: Ctx<'_>, group: GroupId, late: &LateArrival, bound_us: u64) -> Story {
    let Ctx { w, ix, n } = cx;
    let r = late.record;
    let rec = w.oracle.ledger.life(r);
    let pr = &w.producers[ProducerId::new(rec.producer)];
    let (e, s) = (rec.event_us, rec.sent_us);
    let behind = late.watermark.saturating_sub(e);
    let fate = if late.dropped { "dropped: its window had closed for good" } else { "counted, as a correction" };
    let headline = format!(
        "record {} in group {}: event time {} reached the aggregation {} behind the watermark; {fate}",
        n.record(r),
        n.group(group),
        ts(e),
        span(behind)
    );
    let held = s.saturating_sub(e);
    let (cause, why) = cause_of(cx, late, bound_us);
    let mut chain = Vec::new();
    if let Some(send) = ix.record(r).find(|f| f.s.kind == Step::Send) {
        let text = if e > s {
            format!("{} sent it stamped {} (event time): its clock runs {} ahead", pr.name, ts(e), span(e - s))
        } else {
            format!("{} sent it {} after it happened (event time {}){why}", pr.name, span(held), ts(e))
        };
        chain.push(link(send, text));
    }
    let appended = ix.record(r).find(|f| f.s.kind == Step::Append);
    if let Some(f) = appended {
        let a = f.append();
        chain.push(link(
            f,
            format!("appended to {}@{}, {} after it was sent", n.partition(a.partition), a.offset, span(f.t() - s)),
        ));
        if let (Cause::WrittenLate { .. }, Some(send)) = (&cause, ix.record(r).find(|f| f.s.kind == Step::Send)) {
            // Retries, and the leader's fault that held the write.
            sending::resent(cx, r, send.id, f.id, &mut chain);
            if let Some(down) = sending::down_between(cx, a.broker, send, f) {
                chain.push(link(down, sending::fault_text(n, down)));
            }
        }
    }
    arrival_links(cx, group, late, bound_us, appended, &mut chain);
    let late_step = |f: &Found<'_>| f.s.kind == Step::Late && f.late().group == group && f.t() == late.at_us;
    if let Some(f) = ix.record(r).find(late_step) {
        chain.push(link(f, format!("it is {} behind the watermark {}: {fate}", span(behind), ts(late.watermark))));
    }
    Story::new(Anomaly::Late, r, group.raw(), cause, headline, chain)
}

/// Why the late event `late` was late, and for its send link, what held it
/// at its producer ("" when nothing did).
fn cause_of(cx: Ctx<'_>, late: &LateArrival, bound_us: u64) -> (Cause, String) {
    let Ctx { w, ix, .. } = cx;
    let r = late.record;
    let rec = w.oracle.ledger.life(r);
    let pr = &w.producers[ProducerId::new(rec.producer)];
    let (e, s) = (rec.event_us, rec.sent_us);
    let held = s.saturating_sub(e);
    let p = rec.producer;
    let offline = pr.event_time.offline.filter(|o| {
        let (every, dur) = (o.every.us(), o.duration.us());
        let phase = e % every;
        phase >= every - dur && s == e - phase + every
    });
    let skew = pr.event_time.skew_us;
    match offline {
        Some(o) => (
            Cause::HeldOffline { producer: p },
            format!(": it was offline from {} and held the event until it was back", ts(s - o.duration.us())),
        ),
        None if skew > 0 && held > bound_us => {
            (Cause::ClockBehind { producer: p }, format!(": its clock runs {} behind", span(skew as u64)))
        }
        None if skew < 0 && written_after(ix, r).is_some_and(|d| d > bound_us) => {
            (Cause::WrittenLate { partition: rec.partition }, String::new())
        }
        None if held > bound_us => (Cause::SentLate { producer: p }, String::new()),
        None if written_after(ix, r).is_some_and(|d| d > bound_us) => {
            (Cause::WrittenLate { partition: rec.partition }, String::new())
        }
        None => {
            // Sent on time: the watermark came from an event ahead of it.
            let setter = w.oracle.ledger.life(late.setter);
            let ahead = w.producers[ProducerId::new(setter.producer)].event_time.skew_us < 0;
            match (setter.partition == rec.partition, ahead) {
                (_, true) => (Cause::ClockAhead { producer: setter.producer }, String::new()),
                (false, false) => (Cause::PartitionBehind { partition: rec.partition }, String::new()),
                (true, false) => {
                    (Cause::Unexplained { what: "a late event behind its own partition's newer one" }, String::new())
                }
            }
        }
    }
}

/// The late event's arrival at `group`'s aggregation (after its append,
/// `appended`), and the record whose event time had set the watermark.
fn arrival_links(
    cx: Ctx<'_>,
    group: GroupId,
    late: &LateArrival,
    bound_us: u64,
    appended: Option<Found<'_>>,
    chain: &mut Vec<Link>,
) {
    let Ctx { w, ix, n } = cx;
    let arrival = ix.record(late.record).find(|f| is_effect(w, f, group) && f.t() == late.at_us);
    if let Some(f) = arrival {
        let waited = appended.map_or(String::new(), |a| format!(", {} after it was appended", span(f.t() - a.t())));
        let by = n.consumer(f.processed().consumer);
        chain.push(link(f, format!("{by} processed it{waited}: it reaches the aggregation")));
    }
    let setter = ix.record(late.setter).find(|f| is_effect(w, f, group) && f.t() <= late.at_us);
    if let Some(f) = setter {
        let srec = w.oracle.ledger.life(late.setter);
        chain.push(link(
            f,
            format!(
                "record {} from {} (event time {}) reached it first: the watermark became {} - {} = {}",
                n.record(late.setter),
                n.partition(PartitionId::new(srec.partition)),
                ts(late.setter_event_us),
                ts(late.setter_event_us),
                span(bound_us),
                ts(late.watermark)
            ),
        ));
    }
}

/// How long after its send record `r` was first appended (µs), if it was.
fn written_after(ix: &Index<'_>, r: u32) -> Option<u64> {
    let send = ix.record(r).find(|f| f.s.kind == Step::Send)?;
    let append = ix.record(r).find(|f| f.s.kind == Step::Append)?;
    Some(append.t() - send.t())
}
