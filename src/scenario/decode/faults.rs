//! `faults:` — each fault entry (`{ at: 30s, crash: analytics-1 }`) read on
//! its own: the time, the one action, its target and its options. Whether
//! the faults make sense together is the timeline's job (`timeline`).

use std::collections::BTreeMap;

use super::super::limits::MAX_INSTANCES;
use super::super::model::{ConsumerSpec, FaultAction, FaultSpec, Target};
use super::super::suggest::one_of;
use super::super::yaml::{clip, Node, Value};
use super::problem::{did_you_mean, index, join, problem, type_error, R};
use super::timeline::{check_timeline, FaultAt};
use super::tree::{list, mapping, Entry, Map};
use super::values::{choice, duration, positive_duration, string, u32_in};
use crate::kernel::time::{Duration, Instant};

const ACTIONS: [&str; 9] = ["crash", "host_crash", "restart", "pause", "slow", "partition", "start", "stop", "scale"];
const FAULT_FIELDS: &[&str] = &[
    "at",
    "crash",
    "host_crash",
    "restart",
    "pause",
    "slow",
    "partition",
    "start",
    "stop",
    "scale",
    "to",
    "for",
    "lose",
    "processing_time",
];

/// What every fault is checked against.
pub(super) struct Run<'a> {
    pub entities: &'a BTreeMap<String, Target>,
    pub consumers: &'a [ConsumerSpec],
    pub duration: Duration,
    pub drain: Duration,
    pub end: Instant,
}

/// The faults in time order, `scale:` expanded into starts and stops.
pub(super) fn faults(node: &Node, run: &Run<'_>) -> R<Vec<FaultSpec>> {
    let items = list(node, "faults", "a list of faults like `{ at: 30s, crash: analytics-1 }`")?;
    let mut parsed: Vec<(FaultSpec, FaultAt)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        parsed.push(fault(item, &index("faults", i), run)?);
    }
    check_timeline(parsed, run.consumers)
}

fn fault(item: &Node, field: &str, run: &Run<'_>) -> R<(FaultSpec, FaultAt)> {
    let m = mapping(item, field, "a fault like `{ at: 30s, crash: analytics-1 }`")?;
    m.known(FAULT_FIELDS)?;
    let at = fault_time(&m, field, run)?;
    let action = one_action(&m, field)?;
    let for_entry = m.get("for");
    if let Some(e) = m.get("to").filter(|_| action.key != "scale") {
        return Err(problem(e.key_pos, &e.field, format!("{field}: `to` goes with `scale`"))
            .hint("e.g. `{ at: 20s, scale: analytics, to: 6 }`"));
    }
    if let Some(e) = m.get("processing_time").filter(|_| action.key != "slow") {
        return Err(problem(e.key_pos, &e.field, format!("{field}: `processing_time` goes with `slow`"))
            .hint("e.g. `{ at: 20s, slow: orders-0, for: 30s, processing_time: 45ms }`"));
    }
    if let Some(e) = for_entry.filter(|_| matches!(action.key, "start" | "stop" | "scale")) {
        return Err(problem(
            e.key_pos,
            &e.field,
            format!("{field}: `for` applies to `pause`, `slow` and `partition` faults, not `{}`", action.key),
        )
        .hint("a started instance runs until a `stop` (or a `crash`)"));
    }
    let (spec_action, target_name) = match action.key {
        "start" | "stop" => start_stop(action, run)?,
        "scale" => scale(&m, action, run)?,
        "crash" | "host_crash" | "restart" => crash_restart(&m, field, action, run)?,
        "slow" => slow(&m, action, run)?,
        _ => timed(&m, action, run)?,
    };
    let at_info = FaultAt { action_pos: action.key_pos, field: action.field.clone(), target_name };
    Ok((FaultSpec { at, action: spec_action }, at_info))
}

/// `at:`, by the end of the run.
fn fault_time(m: &Map<'_>, field: &str, run: &Run<'_>) -> R<Instant> {
    let at_node = m.require("at", "at: 30s")?;
    let at_field = join(field, "at");
    let at = Instant(duration(at_node, &at_field)?.us());
    if at > run.end {
        let (duration, drain) = (run.duration, run.drain);
        return Err(problem(
            at_node.pos,
            &at_field,
            format!("{at_field}: {at} is after the end of the run (duration {duration} + drain {drain})"),
        )
        .hint("faults must happen by `duration + drain`"));
    }
    Ok(at)
}

/// The fault's one action key.
fn one_action<'m, 'n>(m: &'m Map<'n>, field: &str) -> R<&'m Entry<'n>> {
    let actions: Vec<&Entry<'_>> = m.entries.iter().filter(|e| ACTIONS.contains(&e.key)).collect();
    match actions.as_slice() {
        [] => Err(problem(m.pos, field, format!("{field}: a fault needs an action: {}", one_of(&ACTIONS)))
            .hint("e.g. `{ at: 30s, crash: analytics-1 }`")),
        [one] => Ok(*one),
        [first, second, ..] => Err(problem(
            second.key_pos,
            &second.field,
            format!("{field}: a fault has one action, found both `{}` and `{}`", first.key, second.key),
        )
        .hint("write each action as its own fault")),
    }
}

/// `start:` / `stop:` a consumer instance.
fn start_stop(action: &Entry<'_>, run: &Run<'_>) -> R<(FaultAction, String)> {
    let af = &action.field;
    let t = target(action.value, af, run)?;
    let n = string(action.value, af, "an instance name")?;
    if !matches!(t, Target::Consumer(..)) {
        return Err(problem(
            action.value.pos,
            af,
            format!("{af}: `{}` starts and stops consumer instances only", action.key),
        )
        .hint("use `crash` and `restart` for brokers and producers"));
    }
    let a = if action.key == "start" { FaultAction::Start(t) } else { FaultAction::Stop(t) };
    Ok((a, n.trim().to_string()))
}

/// `scale: group, to: N`.
fn scale(m: &Map<'_>, action: &Entry<'_>, run: &Run<'_>) -> R<(FaultAction, String)> {
    let af = &action.field;
    let group = string(action.value, af, "a consumer group name")?;
    let Some(gi) = run.consumers.iter().position(|c| c.group == group.trim()) else {
        let hint = did_you_mean(group.trim(), run.consumers.iter().map(|c| c.group.as_str()))
            .unwrap_or_else(|| "`scale` names a consumer group".to_string());
        return Err(problem(action.value.pos, af, format!("{af}: no consumer group `{}`", clip(&group))).hint(hint));
    };
    let Some(to) = m.get("to") else {
        return Err(m.missing("to", "to: 6").hint("`scale` sets how many instances run: `to: 6`"));
    };
    let n = u32_in(to.value, &to.field, 0, MAX_INSTANCES)?;
    Ok((FaultAction::Scale(gi, n), group.trim().to_string()))
}

/// `crash:` (maybe `lose: unflushed`), `host_crash:` or `restart:`; none lasts `for` a time.
fn crash_restart(m: &Map<'_>, field: &str, action: &Entry<'_>, run: &Run<'_>) -> R<(FaultAction, String)> {
    let af = &action.field;
    if let Some(e) = m.get("for") {
        return Err(problem(
            e.key_pos,
            &e.field,
            format!("{field}: `for` applies to `pause`, `slow` and `partition` faults, not `{}`", action.key),
        )
        .hint("a crashed entity stays down until a `restart` fault"));
    }
    if let Some(e) = m.get("lose").filter(|_| action.key == "host_crash") {
        return Err(problem(e.key_pos, &e.field, format!("{field}: a host crash always loses the page cache"))
            .hint("drop `lose`: `host_crash` takes the unflushed log tail with the machine's memory"));
    }
    let t = target(action.value, af, run)?;
    let n = string(action.value, af, "an entity name")?;
    let lose = match m.get("lose") {
        None => false,
        Some(e) if action.key == "crash" => {
            choice(e.value, &e.field, &[("unflushed", true)])?;
            if !matches!(t, Target::Broker(_)) {
                return Err(problem(e.key_pos, &e.field, format!("{}: only a broker has a log to lose", e.field))
                    .hint("drop `lose`, or crash a broker"));
            }
            true
        }
        Some(e) => {
            return Err(problem(e.key_pos, &e.field, format!("{field}: `lose` goes with `crash`"))
                .hint("e.g. `{ at: 20s, crash: broker-0, lose: unflushed }`"))
        }
    };
    let a = match (action.key, lose) {
        ("crash", true) => FaultAction::PowerLoss(t),
        ("crash", false) => FaultAction::Crash(t),
        ("host_crash", _) => FaultAction::HostCrash(t),
        _ => FaultAction::Restart(t),
    };
    Ok((a, n.trim().to_string()))
}

/// `slow: CONSUMER, for: D, processing_time: T`: the application takes `T` per record started
/// during `D`; the process, and so its heartbeat thread, runs on.
fn slow(m: &Map<'_>, action: &Entry<'_>, run: &Run<'_>) -> R<(FaultAction, String)> {
    let af = &action.field;
    let example = "e.g. `{ at: 20s, slow: orders-0, for: 30s, processing_time: 45ms }`";
    let Some(for_e) = m.get("for").filter(|e| !e.value.is_null()) else {
        return Err(m.missing("for", "for: 30s").hint(format!("a `slow` fault lasts `for` a duration: {example}")));
    };
    let span = positive_duration(for_e.value, &for_e.field)?;
    let Some(pt) = m.get("processing_time").filter(|e| !e.value.is_null()) else {
        return Err(m
            .missing("processing_time", "processing_time: 45ms")
            .hint(format!("a `slow` fault says how long each record takes meanwhile: {example}")));
    };
    let processing = positive_duration(pt.value, &pt.field)?;
    let target = target(action.value, af, run)?;
    let n = string(action.value, af, "a consumer instance name")?;
    if !matches!(target, Target::Consumer(..)) {
        return Err(problem(action.value.pos, af, format!("{af}: `slow` slows a consumer instance's processing"))
            .hint("name a consumer instance like `orders-0`; `pause` freezes a broker or a producer"));
    }
    Ok((FaultAction::Slow { target, span, processing }, n.trim().to_string()))
}

/// `pause:` an entity or `partition:` entities from each other, `for` a time.
fn timed(m: &Map<'_>, action: &Entry<'_>, run: &Run<'_>) -> R<(FaultAction, String)> {
    let (kind, af) = (action.key, &action.field);
    let Some(for_e) = m.get("for").filter(|e| !e.value.is_null()) else {
        return Err(m.missing("for", "for: 5s").hint(format!("a `{kind}` fault lasts `for` a duration")));
    };
    let span = positive_duration(for_e.value, &for_e.field)?;
    if kind == "pause" {
        let t = target(action.value, af, run)?;
        let n = string(action.value, af, "an entity name")?;
        return Ok((FaultAction::Pause(t, span), n.trim().to_string()));
    }
    let Value::Seq(names) = &action.value.value else {
        return Err(type_error(action.value, af, "a list of at least two entities like `[broker-1, broker-2]`"));
    };
    if names.len() < 2 {
        return Err(problem(action.value.pos, af, format!("{af}: a partition needs at least two entities"))
            .hint("e.g. `partition: [broker-1, broker-2]`"));
    }
    let mut targets: Vec<Target> = Vec::with_capacity(names.len());
    for (j, n) in names.iter().enumerate() {
        let f = index(af, j);
        let t = target(n, &f, run)?;
        if targets.contains(&t) {
            return Err(problem(n.pos, &f, format!("{f}: `{}` is listed twice", clip(&string(n, &f, "a name")?))));
        }
        targets.push(t);
    }
    Ok((FaultAction::Partition(targets, span), String::new()))
}

fn target(node: &Node, field: &str, run: &Run<'_>) -> R<Target> {
    super::entities::target(node, field, run.entities)
}
