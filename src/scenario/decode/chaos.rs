//! `chaos:` — random crashes (of processes or hosts), pauses and partitions
//! at given rates within a window.

use super::super::model::{ArrivalKind, ChaosKind, ChaosSpec, ChaosTargets};
use super::super::yaml::Node;
use super::problem::{index, join, problem, R};
use super::timing::{dist, rate};
use super::tree::{list, mapping, Map};
use super::values::{choice, duration};
use crate::kernel::time::{Duration, Instant};

/// `chaos:` — rates and lengths of random crashes, pauses and partitions.
pub(super) fn chaos(node: &Node, run_duration: Duration, end: Instant) -> R<ChaosSpec> {
    let m = mapping(node, "chaos", "a mapping like `{ crash: { rate: 2/min, down: 5s } }`")?;
    m.known(&["from", "until", "crash", "host_crash", "pause", "partition"])?;
    let from = match m.value("from") {
        Some(n) => Instant(duration(n, "chaos.from")?.us()),
        None => Instant::ZERO,
    };
    let until = match m.value("until") {
        Some(n) => Instant(duration(n, "chaos.until")?.us()),
        None => Instant(run_duration.us()),
    };
    if until <= from || until > end {
        let pos = m.value("until").or(m.value("from")).map_or(m.pos, |n| n.pos);
        return Err(problem(
            pos,
            "chaos.until",
            format!("chaos runs from {from} until {until}: that must be a non-empty window ending by {end}"),
        )
        .hint("set `from` before `until`, both within duration + drain"));
    }
    let all = ChaosTargets { brokers: true, producers: true, consumers: true };
    let clients = ChaosTargets { brokers: false, producers: true, consumers: true };
    let brokers = ChaosTargets { brokers: true, producers: false, consumers: false };
    Ok(ChaosSpec {
        from,
        until,
        crash: kind(&m, "crash", "down", all)?,
        pause: kind(&m, "pause", "for", clients)?,
        partition: kind(&m, "partition", "for", brokers)?,
        host_crash: kind(&m, "host_crash", "down", brokers)?,
    })
}

/// One kind of chaos: `{ rate: 1/min, for: 5s, targets: [brokers] }`; always Poisson.
fn kind(m: &Map<'_>, key: &str, length_key: &str, default: ChaosTargets) -> R<Option<ChaosKind>> {
    let Some(n) = m.value(key) else { return Ok(None) };
    let field = join("chaos", key);
    let k = mapping(n, &field, "a mapping like `{ rate: 1/min, for: 5s }`")?;
    k.known(&["rate", length_key, "targets"])?;
    let mut rate = rate(k.require("rate", "rate: 1/min")?, &join(&field, "rate"))?;
    rate.kind = ArrivalKind::Poisson;
    let length = dist(k.require(length_key, &format!("{length_key}: 5s"))?, &join(&field, length_key))?;
    let targets = match k.value("targets") {
        None => default,
        Some(t) => targets(t, &join(&field, "targets"))?,
    };
    Ok(Some(ChaosKind { rate, length, targets }))
}

/// `targets: [brokers, producers, consumers]`.
fn targets(t: &Node, tf: &str) -> R<ChaosTargets> {
    let mut out = ChaosTargets::default();
    for (i, item) in list(t, tf, "a list like `[brokers, consumers]`")?.iter().enumerate() {
        let f = index(tf, i);
        match choice(item, &f, &[("brokers", 0), ("producers", 1), ("consumers", 2)])? {
            0 => out.brokers = true,
            1 => out.producers = true,
            _ => out.consumers = true,
        }
    }
    Ok(out)
}
