//! `explain --json`: the causes and the stories, with each step's time and
//! trace line, for tools.

use serde_json::{json, Value};

use crate::oracle::checkers::Summary;
use crate::oracle::explain::{Explanation, Link};

/// The explanation as one JSON document; at most `limit` stories (every cause is counted).
pub fn json(summary: &Summary, e: &Explanation, limit: usize) -> String {
    let causes: Vec<Value> =
        e.causes.iter().map(|(a, _, k, text)| json!({ "anomaly": a.name(), "count": k, "cause": text })).collect();
    let stories: Vec<Value> = e
        .sample(limit)
        .into_iter()
        .map(|s| {
            json!({
                "anomaly": s.anomaly.name(),
                "also": s.also.map(|a| a.name()),
                "record": s.record,
                "headline": s.headline,
                "cause": s.cause_text,
                "chain": s.chain.iter().map(link).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "scenario": summary.scenario,
        "seed": summary.seed,
        "trace_hash": summary.trace_hash,
        "lost": summary.lost,
        "duplicates": summary.duplicates,
        "reordered": summary.reordered,
        "late_events": summary.late_events,
        "redelivered": summary.redelivered,
        "causes": causes,
        "stories": stories,
    });
    serde_json::to_string_pretty(&doc).expect("JSON of strings and numbers")
}

/// One step of a story: its time (`t_us`, and `at_ms` with the microseconds
/// as a fraction), trace line and words, and for tools what it is about:
/// the entity as the trace header names it, the partition and the offset
/// (each null where the step has none).
fn link(l: &Link) -> Value {
    let partition = l.place.partition.as_ref().map(|p| json!({ "topic": p.topic, "partition": p.partition }));
    json!({
        "t_us": l.t,
        "at_ms": l.t as f64 / 1000.0,
        "line": l.line(),
        "text": l.text,
        "entity": l.place.entity,
        "partition": partition,
        "offset": l.place.offset,
    })
}
