//! `explain --json`: the causes and the stories, with each step's time and
//! trace line, for tools.

use serde_json::{json, Value};

use crate::oracle::checkers::Summary;
use crate::oracle::explain::Explanation;

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
                "chain": s.chain.iter().map(|l| json!({ "t_us": l.t, "line": l.line(), "text": l.text })).collect::<Vec<_>>(),
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
