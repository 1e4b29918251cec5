//! The entities faults can name — `broker-N` and every producer and
//! consumer instance (`web-0`, `analytics-2`) — and how a name resolves.

use std::collections::BTreeMap;

use super::super::limits::{MAX_INSTANCES, MAX_TOTAL_INSTANCES};
use super::super::model::{ConsumerSpec, ProducerSpec, Target};
use super::super::yaml::{clip, Node, Pos, Value};
use super::problem::{did_you_mean, problem, R};
use super::values::string;

/// The name of instance `index` of a producer or consumer group: `web-0`.
pub fn instance_name(base: &str, index: u32) -> String {
    format!("{base}-{index}")
}

/// Every entity a fault can name, by name.
pub(super) fn entity_names(
    brokers: u32,
    producers: &[ProducerSpec],
    producer_pos: &[(Pos, String)],
    consumers: &[ConsumerSpec],
    consumer_pos: &[(Pos, String)],
) -> R<BTreeMap<String, Target>> {
    let mut names: BTreeMap<String, (Target, String)> = BTreeMap::new();
    for b in 0..brokers {
        names.insert(format!("broker-{b}"), (Target::Broker(b), "a broker".to_string()));
    }
    let mut total: u64 = 0;
    let members = producers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), p.instances, "producer", producer_pos.get(i), i, true))
        .chain(
            consumers
                .iter()
                .enumerate()
                .map(|(i, c)| (c.group.as_str(), c.slots, "consumer group", consumer_pos.get(i), i, false)),
        );
    for (base, instances, kind, at, idx, is_producer) in members {
        let (pos, field) = at.cloned().unwrap_or((Pos::START, String::new()));
        total = total.saturating_add(u64::from(instances));
        if total > MAX_TOTAL_INSTANCES {
            return Err(problem(
                pos,
                &field,
                format!("more than {MAX_TOTAL_INSTANCES} producer and consumer instances in all"),
            ));
        }
        for i in 0..instances {
            let name = instance_name(base, i);
            let target = if is_producer { Target::Producer(idx, i) } else { Target::Consumer(idx, i) };
            if let Some((_, owner)) = names.get(&name) {
                return Err(problem(
                    pos,
                    &field,
                    format!("instance `{name}` of {kind} `{base}` has the same name as {owner}"),
                )
                .hint(format!("instances are named `{base}-0`, `{base}-1`, … and brokers `broker-0`, …; rename one")));
            }
            names.insert(name, (target, format!("an instance of {kind} `{base}`")));
        }
    }
    Ok(names.into_iter().map(|(k, (t, _))| (k, t)).collect())
}

/// The entity a fault names.
pub(super) fn target(node: &Node, field: &str, entities: &BTreeMap<String, Target>) -> R<Target> {
    let name = string(node, field, "an entity name like `analytics-1` or `broker-0`")?;
    let name = name.trim();
    if let Some(t) = entities.get(name) {
        return Ok(*t);
    }
    let hint = numbered_hint(name, entities)
        .or_else(|| did_you_mean(name, entities.keys().map(String::as_str)))
        .unwrap_or_else(|| "targets are instance names (`web-0`, `analytics-1`) or brokers (`broker-0`)".to_string());
    Err(problem(node.pos, field, format!("{field}: no entity `{}`", clip(name))).hint(hint))
}

/// For `analytics-3` when a group has instances 0..2: how many there are,
/// rather than the nearest name (which would be `analytics-0`).
fn numbered_hint(name: &str, entities: &BTreeMap<String, Target>) -> Option<String> {
    let (base, number) = name.rsplit_once('-')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix = format!("{base}-");
    let count = entities
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| k[prefix.len()..].bytes().all(|b| b.is_ascii_digit()))
        .count();
    let kind = if base == "broker" { "broker" } else { "instance" };
    match count {
        0 => None,
        1 => Some(format!("there is 1 {kind}, {base}-0")),
        n => Some(format!("there are {n} {kind}s, {base}-0..{base}-{}", n - 1)),
    }
}

fn text_of(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Scalar { text, .. } => Some(text.trim()),
        _ => None,
    }
}

/// A first look at the faults: the consumer instances that `start:` names
/// and the sizes `scale:` asks for set how many instances each group has.
/// Anything malformed is left for `faults` to report.
pub(super) fn later_instances(node: &Node, consumers: &mut [ConsumerSpec]) {
    let Value::Seq(items) = &node.value else { return };
    for item in items {
        let Value::Map(entries) = &item.value else { continue };
        let text = |key: &str| entries.iter().find(|(k, _)| text_of(k) == Some(key)).and_then(|(_, v)| text_of(v));
        if let Some(name) = text("start") {
            for c in consumers.iter_mut() {
                let n = name.strip_prefix(c.group.as_str()).and_then(|r| r.strip_prefix('-'));
                if let Some(n) = n.and_then(|n| n.parse::<u32>().ok()).filter(|&n| i128::from(n) < MAX_INSTANCES) {
                    c.slots = c.slots.max(n + 1);
                }
            }
        }
        if let (Some(group), Some(to)) = (text("scale"), text("to").and_then(|t| t.parse::<u32>().ok())) {
            if let Some(c) = consumers.iter_mut().find(|c| c.group == group) {
                c.slots = c.slots.max(to.min(MAX_INSTANCES as u32));
            }
        }
    }
}
