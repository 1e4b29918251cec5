//! `streamsim explain`: each anomaly's story, grouped by cause.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load_seeded;
use crate::cli::output::outln;
use crate::oracle::explain::{cause_lines, mechanism_lines, Anomaly, Explanation};

/// What `explain` was asked to show.
pub struct ExplainArgs<'a> {
    pub file: &'a Path,
    pub seed: Option<u64>,
    pub kind: Option<&'a str>,
    pub record: Option<&'a str>,
    pub limit: Option<usize>,
    pub json: bool,
}

fn parse_kind(kind: Option<&str>) -> Result<Option<Anomaly>, CliError> {
    match kind.map(|k| (k, Anomaly::from_name(k))) {
        None => Ok(None),
        Some((_, Some(a))) => Ok(Some(a)),
        Some((other, None)) => Err(CliError::usage(format!("unknown kind `{other}`")).hint(kind_hint())),
    }
}

/// "choose lost, duplicate, ... or aborted_read": every kind, from `Anomaly::ALL`.
fn kind_hint() -> String {
    let names: Vec<&str> = Anomaly::ALL.iter().map(|a| a.name()).collect();
    let (last, rest) = names.split_last().expect("kinds exist");
    format!("choose {} or {last}", rest.join(", "))
}

pub fn explain(a: ExplainArgs) -> Result<(), CliError> {
    let kind = parse_kind(a.kind)?;
    let sc = load_seeded(a.file, a.seed)?;
    let crate::Explained { summary, explanation: mut e, world } =
        crate::simulate_explained(sc).map_err(|err| CliError::input_because(a.file.display().to_string(), err))?;
    let names = crate::oracle::explain::index::Names { w: &world };
    let record = match a.record.map(|r| (r, names.find(r))) {
        None => None,
        Some((_, Ok(id))) => Some(id),
        Some((r, Err(hint))) => return Err(CliError::input(format!("no record `{r}` in this run")).hint(hint)),
    };
    if kind == Some(Anomaly::Failed) {
        e = crate::oracle::explain::explain_failed(&world);
    }
    e.retain(|s| kind.is_none_or(|k| s.is(k)) && record.is_none_or(|r| s.record == r));
    let limit = a.limit.unwrap_or(if a.json { usize::MAX } else { 10 });
    if a.json {
        outln!("{}", crate::report::explain::json(&summary, &e, limit));
        return Ok(());
    }
    outln!(
        "streamsim explain: {} (seed {}): {} lost, {} duplicates, {} reordered, {} late, {} redelivered\n",
        summary.scenario,
        summary.seed,
        summary.lost,
        summary.duplicates,
        summary.reordered,
        summary.late_events,
        summary.redelivered
    );
    if e.causes.is_empty() {
        let which = match (kind, record) {
            (_, Some(_)) => " for that record",
            (Some(_), None) => " of that kind",
            (None, None) => "",
        };
        outln!("  nothing to explain: no lost, duplicated, reordered, late, redelivered, unsent or unavailable record, lost write, poll skip, aborted read or failed send{which}");
        return Ok(());
    }
    print_stories(&e, limit);
    outln!(
        "Trace lines are those of `streamsim run {} --seed {} --trace trace.jsonl`.",
        a.file.display(),
        summary.seed
    );
    Ok(())
}

/// The mechanisms, the causes, then up to `limit` stories.
fn print_stories(e: &Explanation, limit: usize) {
    let mechanisms = mechanism_lines(e);
    for line in &mechanisms {
        outln!("  In all: {line}");
    }
    if !mechanisms.is_empty() {
        outln!();
    }
    for line in cause_lines(e) {
        outln!("  {line}");
    }
    outln!();
    let shown = e.sample(limit);
    for s in &shown {
        outln!("{}", s.text());
    }
    if e.stories.len() > shown.len() {
        outln!("... and {} more (--limit K, --kind KIND, --record NAME)", e.stories.len() - shown.len());
    }
}
