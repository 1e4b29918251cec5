//! `streamsim audit CONFIG... --incidents [DIR]`: the incident catalogue run against pasted
//! configs. Each incident runs with the configs written over its producers and groups (the
//! `--producer-property` mechanism; what the configs do not mention stays the incident's),
//! over the audit's seeds, and the verdict comes from those runs alone:
//!
//! - the anomaly is what the incident pins and its fix twin does not (`lost_writes: "> 0"`
//!   against the twin's `lost_writes: 0`): a seed is hit when a pinned metric is worse than the
//!   twin's pinned value (or, with no twin value, meets the incident's own condition);
//! - its mechanism is what both pin to a non-zero value (`transactions_aborted: ">= 1"`): an
//!   incident whose mechanism happens on no seed with the configs does not apply;
//! - an incident whose scenario refuses the configs (the loader's checks) does not apply, and
//!   the line that cannot apply is named.
//!
//! The config lines that decide a verdict are found by running it again without each line
//! that changes what the incident runs.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use super::Stat;
use crate::clientconf::Client;
use crate::scenario::edit::{with_entry_fields, FieldEdit};
use crate::scenario::{load_str_overridden, Cmp, CommitMode, Expectation, Override, OverrideKind, Overrides, Scenario};

/// One incident file and its fix twin, as read.
#[derive(Clone, Debug)]
pub struct IncidentFile {
    pub name: String,
    pub file: String,
    pub text: String,
    /// The twin's text (`NAME-fix.yaml`), if there is one.
    pub twin: Option<String>,
}

/// One pasted config line, or a fact of the pasted configs, as it is applied to an incident.
#[derive(Clone, Debug)]
pub struct Line {
    /// How the verdict names it: `acks=1`.
    pub label: String,
    pub overrides: Vec<Override>,
    /// The groups run this client (the pasted consumer config's).
    pub client: Option<Client>,
    /// The pasted producer config has no `transactional.id`: the application is not
    /// transactional, so the incident's producers get none and its transactional groups commit
    /// after processing to a plain sink.
    pub untransactional: bool,
}

impl Line {
    pub fn of(o: Override, note: &str) -> Line {
        Line { label: format!("{}={}{note}", o.key, o.value), overrides: vec![o], client: None, untransactional: false }
    }
}

/// A pinned expectation of the incident that the verdict reads.
#[derive(Clone, Debug, Serialize)]
pub struct Pin {
    pub metric: String,
    /// As the incident writes it: `> 0`.
    pub incident: String,
    /// The twin's pinned value: a seed above it is hit.
    pub fixed: Option<f64>,
    #[serde(skip)]
    cmp: Cmp,
    #[serde(skip)]
    value: f64,
}

impl Pin {
    fn of(e: &Expectation, fixed: Option<f64>) -> Pin {
        Pin { metric: e.name.clone(), incident: e.text.clone(), fixed, cmp: e.cmp, value: e.value }
    }

    /// Whether `v` shows the anomaly (or, for a mechanism pin, the mechanism).
    fn shows(&self, v: f64) -> bool {
        match self.fixed {
            Some(f) => v > f,
            None => self.cmp.holds(v, self.value),
        }
    }
}

/// An incident's anomaly pins and mechanism pins.
pub type Pins = (Vec<Pin>, Vec<Pin>);

/// The anomaly pins and the mechanism pins of an incident, from its and its twin's `expect:`.
pub fn pins(incident: &[Expectation], twin: &[Expectation]) -> Pins {
    let (mut anomalies, mut mechanism) = (Vec::new(), Vec::new());
    for e in incident {
        let nonzero = !e.cmp.holds(0.0, e.value);
        match twin.iter().find(|t| t.name == e.name) {
            Some(t) if t.cmp == Cmp::Eq && !e.cmp.holds(t.value, e.value) => anomalies.push(Pin::of(e, Some(t.value))),
            Some(t) if t.cmp == e.cmp && t.value == e.value && nonzero => mechanism.push(Pin::of(e, None)),
            None if nonzero && matches!(e.cmp, Cmp::Gt | Cmp::Ge) => anomalies.push(Pin::of(e, None)),
            None if nonzero && e.cmp == Cmp::Eq && e.value > 0.0 => anomalies.push(Pin::of(e, Some(0.0))),
            _ => {}
        }
    }
    (anomalies, mechanism)
}

/// One incident's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentRow {
    pub incident: String,
    pub file: String,
    /// `would hit you`, `does not hit you` or `does not apply`.
    pub verdict: &'static str,
    pub applies: bool,
    pub hits: bool,
    /// Seeds on which the anomaly happened, of `seeds`.
    pub seeds_hit: u64,
    pub seeds: u64,
    /// The anomaly metrics over the seeds.
    pub metrics: BTreeMap<String, Stat>,
    /// The mechanism metrics over the seeds.
    pub mechanism: BTreeMap<String, Stat>,
    pub pins: Vec<Pin>,
    /// The anomaly metrics that showed it on some seed (above the fix twin's value).
    pub worse: Vec<String>,
    /// The pasted lines that decide the verdict: without one of them it flips.
    pub decided_by: Vec<String>,
    /// The pasted lines that change what the incident runs.
    pub changes: Vec<String>,
    /// The pasted lines that set what the incident already runs.
    pub same: Vec<String>,
    pub note: String,
}

/// What one set of lines gave over the seeds.
#[derive(Clone, Debug, PartialEq)]
struct Verdict {
    applies: bool,
    hits: bool,
    seeds_hit: u64,
    runs: Vec<BTreeMap<String, f64>>,
}

/// The incident's text and overrides with `lines` applied, for `seed`.
fn prepared(inc: &IncidentFile, base: &Scenario, lines: &[&Line], seed: u64) -> Result<(String, Overrides), String> {
    let mut edits: Vec<Vec<FieldEdit>> = vec![Vec::new(); base.consumers.len()];
    for l in lines {
        for (i, c) in base.consumers.iter().enumerate() {
            if let Some(client) = l.client {
                edits[i].push(("client", Some(client.name().to_string())));
            }
            if l.untransactional && c.commit == CommitMode::Transactional {
                edits[i].push(("commit", Some("after-processing".to_string())));
                edits[i].push(("sink", Some("plain".to_string())));
                edits[i].push(("on_abort", None));
            }
        }
    }
    // enable.auto.commit says how the application commits (after the other edits, so it wins):
    // true is auto-commit; false keeps the incident's own commits, or commits after processing
    // where the incident auto-commits.
    let commits = lines.iter().flat_map(|l| &l.overrides).filter(|o| o.kind == OverrideKind::Consumer);
    for o in commits.filter(|o| o.key == "enable.auto.commit") {
        for (i, c) in base.consumers.iter().enumerate() {
            match o.value.as_str() {
                "true" => edits[i].push(("commit", Some("auto".to_string()))),
                "false" if c.commit == CommitMode::Auto => {
                    edits[i].push(("commit", Some("after-processing".to_string())))
                }
                _ => {}
            }
        }
    }
    // One edit per field of an entry, the later line's.
    for e in &mut edits {
        let mut seen = Vec::new();
        e.reverse();
        e.retain(|(k, _)| {
            let fresh = !seen.contains(k);
            seen.push(*k);
            fresh
        });
        e.reverse();
    }
    let text = if edits.iter().all(Vec::is_empty) {
        inc.text.clone()
    } else {
        with_entry_fields(&inc.text, "consumers", &edits).map_err(|e| format!("{}: {e}", inc.file))?
    };
    let mut o: Vec<Override> = lines.iter().flat_map(|l| l.overrides.iter().cloned()).collect();
    o.push(Override { kind: OverrideKind::Set, key: "seed".to_string(), value: seed.to_string() });
    Ok((text, Overrides(o)))
}

fn load(inc: &IncidentFile, base: &Scenario, lines: &[&Line], seed: u64) -> Result<Scenario, String> {
    let (text, o) = prepared(inc, base, lines, seed)?;
    load_str_overridden(&text, &inc.file, None, &o).map(|l| l.scenario).map_err(|e| e.to_string())
}

/// Runs the incident with `lines` over `seeds` (in parallel; results in seed order).
fn verdict(
    inc: &IncidentFile,
    base: &Scenario,
    lines: &[&Line],
    seeds: &[u64],
    pins: &Pins,
) -> Result<Verdict, String> {
    let runs: Vec<BTreeMap<String, f64>> = seeds
        .par_iter()
        .map(|&seed| {
            let sc = load(inc, base, lines, seed)?;
            let out = crate::simulate(sc).map_err(|e| format!("{} seed {seed}: {e}", inc.file))?;
            Ok(pins
                .0
                .iter()
                .chain(&pins.1)
                .map(|p| (p.metric.clone(), out.summary.metric(&p.metric).unwrap_or(0.0)))
                .collect())
        })
        .collect::<Result<_, String>>()?;
    let v = |r: &BTreeMap<String, f64>, p: &Pin| r.get(&p.metric).copied().unwrap_or(0.0);
    let mechanism = |r: &BTreeMap<String, f64>| pins.1.iter().all(|p| p.shows(v(r, p)));
    let hit = |r: &&BTreeMap<String, f64>| mechanism(r) && pins.0.iter().any(|p| p.shows(v(r, p)));
    let seeds_hit = runs.iter().filter(hit).count() as u64;
    Ok(Verdict { applies: runs.iter().any(mechanism), hits: seeds_hit > 0, seeds_hit, runs })
}

fn stats(runs: &[BTreeMap<String, f64>], pins: &[Pin]) -> BTreeMap<String, Stat> {
    pins.iter()
        .map(|p| {
            let mut v: Vec<f64> = runs.iter().map(|r| r.get(&p.metric).copied().unwrap_or(0.0)).collect();
            v.sort_by(f64::total_cmp);
            let median = if v.is_empty() { 0.0 } else { v[(v.len() - 1) / 2] };
            (p.metric.clone(), Stat { median, max: v.last().copied().unwrap_or(0.0) })
        })
        .collect()
}

/// The incident as written, and its twin's pins.
fn base_of(inc: &IncidentFile) -> Result<(Scenario, Pins), String> {
    let base = crate::scenario::load_str(&inc.text, &inc.file).map_err(|e| e.to_string())?.scenario;
    let twin = match &inc.twin {
        Some(t) => {
            crate::scenario::load_str(t, &format!("{} (fix twin)", inc.file))
                .map_err(|e| e.to_string())?
                .scenario
                .expect
        }
        None => Vec::new(),
    };
    let p = pins(&base.expect, &twin);
    Ok((base, p))
}

/// The verdict of one incident for the pasted `lines` over `seeds`.
pub fn audit_incident(inc: &IncidentFile, lines: &[Line], seeds: &[u64]) -> Result<IncidentRow, String> {
    let (base, pins) = base_of(inc)?;
    let all: Vec<&Line> = lines.iter().collect();
    let mut row = IncidentRow {
        incident: inc.name.clone(),
        file: inc.file.clone(),
        verdict: "does not apply",
        applies: false,
        hits: false,
        seeds_hit: 0,
        seeds: seeds.len() as u64,
        metrics: BTreeMap::new(),
        mechanism: BTreeMap::new(),
        pins: pins.0.iter().chain(&pins.1).cloned().collect(),
        worse: Vec::new(),
        decided_by: Vec::new(),
        changes: Vec::new(),
        same: Vec::new(),
        note: String::new(),
    };
    if pins.0.is_empty() {
        row.note = "the incident pins no anomaly its fix twin does not (nothing to look for)".to_string();
        return Ok(row);
    }
    let seed0 = seeds.first().copied().unwrap_or(0);
    let full = match load(inc, &base, &all, seed0) {
        Ok(sc) => sc,
        Err(e) => {
            row.note = refusal(inc, &base, lines, seed0, &e);
            return Ok(row);
        }
    };
    let v = verdict(inc, &base, &all, seeds, &pins)?;
    (row.applies, row.hits, row.seeds_hit) = (v.applies, v.hits, v.seeds_hit);
    row.metrics = stats(&v.runs, &pins.0);
    row.mechanism = stats(&v.runs, &pins.1);
    let shown = |p: &Pin| v.runs.iter().any(|r| p.shows(r.get(&p.metric).copied().unwrap_or(0.0)));
    row.worse =
        if v.hits { pins.0.iter().filter(|p| shown(p)).map(|p| p.metric.clone()).collect() } else { Vec::new() };
    deciders(inc, &base, lines, seeds, &pins, (&full, &v), &mut row)?;
    row.note = note(&row, &pins.1);
    row.verdict = verdict_word(&row);
    Ok(row)
}

/// Why the incident refuses the lines: the lines without which it loads, with the loader's words.
fn refusal(inc: &IncidentFile, base: &Scenario, lines: &[Line], seed: u64, all: &str) -> String {
    let culprits: Vec<String> = (0..lines.len())
        .filter(|&i| {
            let without: Vec<&Line> = lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| l).collect();
            load(inc, base, &without, seed).is_ok()
        })
        .map(|i| format!("`{}`", lines[i].label))
        .collect();
    let why = flat(all);
    if culprits.is_empty() {
        format!("your configs cannot apply here: {why}")
    } else {
        format!("your {} cannot apply here: {why}", culprits.join(", "))
    }
}

/// A loader message on one line, without its `error: ` label.
fn flat(e: &str) -> String {
    let e = e.strip_prefix("error: ").unwrap_or(e);
    e.lines().map(str::trim).collect::<Vec<_>>().join("; ")
}

/// Sorts the lines into those the incident already runs and those that change it, and finds,
/// by running without each change, the ones that decide the verdict.
fn deciders(
    inc: &IncidentFile,
    base: &Scenario,
    lines: &[Line],
    seeds: &[u64],
    pins: &Pins,
    (full, v): (&Scenario, &Verdict),
    row: &mut IncidentRow,
) -> Result<(), String> {
    let seed0 = seeds.first().copied().unwrap_or(0);
    for (i, l) in lines.iter().enumerate() {
        let without: Vec<&Line> = lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| l).collect();
        // A line another line repeats later (a later override wins) changes nothing alone either.
        let Ok(sc) = load(inc, base, &without, seed0) else { continue };
        if sc == *full {
            row.same.push(l.label.clone());
            continue;
        }
        row.changes.push(l.label.clone());
        let Ok(w) = verdict(inc, base, &without, seeds, pins) else { continue };
        if (w.applies, w.hits) != (v.applies, v.hits) {
            row.decided_by.push(l.label.clone());
        }
    }
    Ok(())
}

fn note(row: &IncidentRow, mechanism: &[Pin]) -> String {
    let fmt = |m: &BTreeMap<String, Stat>| {
        m.iter().map(|(k, s)| format!("{k} {}/{}", num(s.median), num(s.max))).collect::<Vec<_>>().join(", ")
    };
    let mut parts = Vec::new();
    if !row.applies {
        let need = mechanism.iter().map(|p| format!("{} {}", p.metric, p.incident)).collect::<Vec<_>>().join(", ");
        parts.push(format!(
            "its mechanism does not happen with your configs: {} (median/max; the incident and its fix need {need})",
            fmt(&row.mechanism)
        ));
    }
    // A count its fix does not bring to 0 (rebalances: 1): the verdict compares with the fix's.
    let nonzero: Vec<String> = row
        .pins
        .iter()
        .filter(|p| row.worse.contains(&p.metric))
        .filter_map(|p| p.fixed.filter(|f| *f != 0.0).map(|f| format!("{} {}", p.metric, num(f))))
        .collect();
    if row.hits && !nonzero.is_empty() {
        parts.push(format!("above its fix's {}", nonzero.join(", ")));
    }
    if !row.decided_by.is_empty() {
        let verb = match (row.applies, row.hits) {
            (false, _) => "it applies",
            (true, true) => "the anomaly goes",
            (true, false) => "the anomaly returns",
        };
        parts.push(format!("decided by your {}: run without it, {verb}", row.decided_by.join(", ")));
    } else if row.hits && row.changes.is_empty() {
        parts.push(format!("none of your lines changes what it runs (it already runs your {})", row.same.join(", ")));
    } else if row.hits {
        parts.push(format!("your changes do not remove it ({})", row.changes.join(", ")));
    }
    parts.join("; ")
}

pub fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// Every incident, in the order given (file-name order).
pub fn audit_incidents(
    incidents: &[IncidentFile],
    lines: &[Line],
    seeds: &[u64],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<IncidentRow>, String> {
    incidents
        .iter()
        .map(|inc| {
            progress(&inc.name);
            audit_incident(inc, lines, seeds)
        })
        .collect()
}

/// The pasted configs as lines: librdkafka's producer defaults (when the producer is
/// librdkafka's), each modelled entry, the command line's overrides, the consumer's client,
/// and, when a producer config is pasted without a `transactional.id`, that fact.
pub fn lines(
    configs: &[crate::clientconf::ClientConfig],
    clients: super::workload::Clients,
    flags: &Overrides,
    kafka_version: Option<&str>,
) -> Vec<Line> {
    use crate::clientconf::names::Role;
    // librdkafka's producer defaults are a pasted librdkafka producer's; with no producer
    // config pasted the incident's producers stay as written.
    let rdk_producer = configs.iter().any(|c| c.client == Client::Librdkafka && c.role != Role::Consumer);
    let clients = if rdk_producer { clients } else { super::workload::Clients { producer: Client::Java, ..clients } };
    let defaults = super::workload::config_overrides(&[], clients).0;
    let all = super::workload::config_overrides(configs, clients).0;
    let n = defaults.len();
    let mut out: Vec<Line> = all
        .into_iter()
        .enumerate()
        .map(|(i, o)| Line::of(o, if i < n { " (librdkafka default)" } else { "" }))
        .collect();
    if let Some(v) = kafka_version {
        let o = Override { kind: OverrideKind::Set, key: "kafka_version".to_string(), value: format!("\"{v}\"") };
        out.push(Line { label: format!("Kafka {v} (--kafka-version)"), ..Line::of(o, "") });
    }
    out.extend(flags.0.iter().map(|o| Line { label: o.flag_text(), ..Line::of(o.clone(), "") }));
    if let Some(c) = configs.iter().find(|c| c.role != Role::Producer) {
        out.push(Line {
            label: format!("client {} (your consumer config)", c.client.name()),
            overrides: Vec::new(),
            client: Some(c.client),
            untransactional: false,
        });
    }
    let producers: Vec<_> = configs.iter().filter(|c| c.role != Role::Consumer).collect();
    let transactional = producers
        .iter()
        .any(|c| c.entries.iter().any(|e| e.key == "transactional.id" && !e.value.is_empty() && e.value != "null"));
    if !producers.is_empty() && !transactional {
        out.push(Line {
            label: "no transactional.id (your producer config)".to_string(),
            overrides: vec![Override {
                kind: OverrideKind::Producer,
                key: "transactional.id".to_string(),
                value: "null".to_string(),
            }],
            client: None,
            untransactional: true,
        });
    }
    out
}

fn verdict_word(r: &IncidentRow) -> &'static str {
    match (r.applies, r.hits) {
        (false, _) => "does not apply",
        (true, true) => "would hit you",
        (true, false) => "does not hit you",
    }
}

/// The terminal table: one row per incident, its verdict, the anomaly metrics (median/max over
/// the seeds) and the note.
pub fn table(h: &super::report::Header, dir: &str, rows: &[IncidentRow]) -> String {
    let mut t = format!(
        "streamsim audit --incidents {dir}: {} client, seeds {}\n  configs: {}\n",
        h.client,
        h.seeds,
        h.configs.join(", ")
    );
    for w in &h.warnings {
        t.push_str(&format!("  warning: {w}\n"));
    }
    let width = rows.iter().map(|r| r.incident.len()).max().unwrap_or(8).max(8);
    t.push_str(&format!(
        "\n  {:<width$}  {:<16}  {:>5}  anomaly (median/max over the seeds)\n",
        "incident", "verdict", "seeds"
    ));
    for r in rows {
        let m = r
            .metrics
            .iter()
            .map(|(k, s)| format!("{k} {}/{}", num(s.median), num(s.max)))
            .collect::<Vec<_>>()
            .join(", ");
        let seeds = if r.applies { format!("{}/{}", r.seeds_hit, r.seeds) } else { "-".to_string() };
        t.push_str(&format!("  {:<width$}  {:<16}  {seeds:>5}  {m}\n", r.incident, verdict_word(r)));
        if !r.note.is_empty() {
            t.push_str(&format!("  {:<width$}    {}\n", "", r.note));
        }
    }
    let hit = rows.iter().filter(|r| r.hits).count();
    t.push_str(&format!("\n  {hit} of {} incidents would hit you\n", rows.len()));
    t
}

/// The JSON: `{ client, kafka_version, incidents: [ { incident, file, applies, hits, metrics, note } ] }`
/// and, beside them, what the verdicts were computed from.
pub fn json(h: &super::report::Header, dir: &str, rows: &[IncidentRow]) -> serde_json::Value {
    serde_json::json!({
        "client": h.client,
        "kafka_version": h.kafka_version,
        "configs": h.configs,
        "dir": dir,
        "seeds": h.seeds,
        "warnings": h.warnings,
        "incidents": rows,
    })
}
