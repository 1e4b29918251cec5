//! `network:` — one-way latency between entities and the message-loss probability.

use super::super::model::NetworkSpec;
use super::super::yaml::Node;
use super::problem::{type_error, R};
use super::timing::dist;
use super::tree::mapping;
use super::values::{parse_number, scalar};

/// `network: { latency: 1ms, loss: 0.01 }`; missing fields keep the defaults.
pub(super) fn network(node: Option<&Node>) -> R<NetworkSpec> {
    let Some(n) = node else { return Ok(NetworkSpec::default()) };
    let m = mapping(n, "network", "a mapping like `{ latency: 1ms }`")?;
    m.known(&["latency", "loss"])?;
    let mut spec = NetworkSpec::default();
    if let Some(l) = m.value("latency") {
        spec.latency = dist(l, "network.latency")?;
    }
    if let Some(l) = m.value("loss") {
        spec.loss_ppm = loss_ppm(l, "network.loss")?;
    }
    Ok(spec)
}

/// A message-loss probability, `0.01` or `"1%"`, as parts per million (the one
/// float conversion happens here, at the edge).
fn loss_ppm(node: &Node, field: &str) -> R<u32> {
    let (text, _) = scalar(node, field, "a probability like `0.01` or `\"1%\"`")?;
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => parse_number(p.trim()).map(|v| v / 100.0),
        None => parse_number(t),
    };
    match value {
        Some(v) if (0.0..1.0).contains(&v) => Ok((v * 1_000_000.0).round() as u32),
        _ => Err(type_error(node, field, "a probability from 0 up to (not including) 1, like `0.01` or `\"1%\"`")),
    }
}
