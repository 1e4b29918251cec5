//! One line of a v3 trace, read: its time, kind and values by name, a
//! rebalance's assignment, the `end` line's hashes, or the `cut` line of a
//! run that stopped early. Keys the kind does not have are refused: a line
//! is exactly what `Trace::note` writes.

use serde_json::{Map, Value};

use crate::oracle::fact::{ConsumerId, LocalPartition};
use crate::oracle::trace::{Step, MAX_VALUES};

/// A step line.
#[derive(Debug)]
pub struct StepLine {
    pub t: u64,
    pub step: Step,
    /// The kind's values, in `Step::fields` order (the first `step.fields().len()`).
    pub values: [u64; MAX_VALUES],
    pub members: Vec<(ConsumerId, Vec<LocalPartition>)>,
    /// The `end` line's `trace_hash` and `header_hash`.
    pub hashes: Option<(String, String)>,
}

/// What a line holds.
#[derive(Debug)]
pub enum Line {
    Step(StepLine),
    /// The run stopped before its end, for this reason.
    Cut(String),
}

fn number(obj: &Map<String, Value>, key: &str) -> Result<u64, String> {
    match obj.get(key) {
        Some(v) => v.as_u64().ok_or_else(|| format!("`{key}` is {v}, not an unsigned integer")),
        None => Err(format!("no `{key}`")),
    }
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    obj.get(key).and_then(Value::as_str).ok_or_else(|| format!("no `{key}` string"))
}

/// Reads one line (without its newline).
pub fn parse(line: &str) -> Result<Line, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let kind = text(obj, "kind")?;
    if kind == "cut" {
        return Ok(Line::Cut(text(obj, "reason").unwrap_or("unknown").to_string()));
    }
    let step = Step::from_name(kind).ok_or_else(|| format!("unknown kind `{kind}`"))?;
    let t = number(obj, "t")?;
    let mut values = [0; MAX_VALUES];
    for (i, name) in step.fields().iter().enumerate() {
        values[i] = number(obj, name).map_err(|e| format!("{kind}: {e}"))?;
    }
    let members = if step == Step::Rebalance { assignment(obj)? } else { Vec::new() };
    let hashes = if step == Step::End {
        Some((text(obj, "trace_hash")?.to_string(), text(obj, "header_hash")?.to_string()))
    } else {
        None
    };
    let extra = match step {
        Step::Rebalance => 1,
        Step::End => 2,
        _ => 0,
    };
    if obj.len() != 2 + step.fields().len() + extra {
        let known = |k: &str| {
            ["t", "kind", "assignment", "trace_hash", "header_hash"].contains(&k) || step.fields().contains(&k)
        };
        let unknown = obj.keys().find(|k| !known(k)).map_or("?", |k| k.as_str());
        return Err(format!("{kind}: unknown key `{unknown}`"));
    }
    Ok(Line::Step(StepLine { t, step, values, members, hashes }))
}

/// A rebalance's `assignment`: `[[consumer, [partition, ...]], ...]`.
fn assignment(obj: &Map<String, Value>) -> Result<Vec<(ConsumerId, Vec<LocalPartition>)>, String> {
    let bad = || "rebalance: `assignment` must be [[consumer, [partition, ...]], ...]".to_string();
    let list = obj.get("assignment").and_then(Value::as_array).ok_or_else(bad)?;
    let small = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    list.iter()
        .map(|m| {
            let pair = m.as_array().filter(|p| p.len() == 2).ok_or_else(bad)?;
            let c = small(&pair[0]).ok_or_else(bad)?;
            let parts = pair[1].as_array().ok_or_else(bad)?;
            let parts: Result<Vec<_>, _> =
                parts.iter().map(|p| small(p).map(LocalPartition::new).ok_or_else(bad)).collect();
            Ok((ConsumerId::new(c), parts?))
        })
        .collect()
}
