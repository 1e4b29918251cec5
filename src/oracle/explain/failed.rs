//! Failed sends: records whose send() the producer reported failed (the callback got the
//! error). They are not anomalies, the application knows of them, so `explain` tells them only
//! when asked (`--kind failed`): the send, each failed attempt that was retried, and the error
//! the producer gave up with (Sender.failBatch: retries or delivery.timeout.ms spent, or an error
//! that is not retriable).

use super::ownership::link;
use super::{Anomaly, Cause, Ctx, Story};
use crate::model::ids::ProducerId;
use crate::oracle::trace::Step;

/// The story of failed record `r`.
pub fn story(cx: Ctx<'_>, r: u32) -> Story {
    let Ctx { w, ix, n } = cx;
    let rec = w.oracle.ledger.life(r);
    let p = ProducerId::new(rec.producer);
    let name = n.producer(p);
    let mut chain = Vec::new();
    for f in ix.record(r) {
        match f.s.kind {
            Step::Send => chain.push(link(f, format!("{name} handed it to send()"))),
            Step::Append => {
                let a = f.append();
                chain.push(link(
                    f,
                    format!("appended to {}@{} by {}", n.partition(a.partition), a.offset, n.broker(a.broker)),
                ));
            }
            Step::Retry => {
                let retry = f.retry();
                let text = format!(
                    "attempt {} failed with {}: {name} will send it again",
                    retry.attempt,
                    retry.error.describe()
                );
                chain.push(link(f, text));
            }
            _ => {}
        }
    }
    let fail = ix.record(r).find(|f| f.s.kind == Step::Fail);
    let cause = match fail {
        Some(f) => {
            let error = f.fail().error;
            chain.push(link(
                f,
                format!("{name} gave up: send() failed with {}, and the callback got the error", error.describe()),
            ));
            Cause::SendFailed { producer: p.raw(), error }
        }
        None => Cause::Unexplained { what: "a failed record with no failure step" },
    };
    let headline = format!(
        "record {} for {}: send() failed",
        n.record(r),
        n.partition(crate::model::ids::PartitionId::new(rec.partition))
    );
    Story::new(Anomaly::Failed, r, 0, cause, headline, chain)
}
