//! `streamsim run`: one scenario, its summary on stdout, the report folder
//! and the trace when asked.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::{load_seeded, traced, RunOptions};
use crate::cli::output::{err, out};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output, TraceTo};
use crate::report::{folder, table};
use crate::world::budget;

/// What `run` was asked to do.
pub struct RunArgs<'a> {
    pub file: &'a Path,
    pub seed: Option<u64>,
    pub out: Option<&'a Path>,
    pub json: bool,
    pub max_events: Option<u64>,
    pub trace: Option<&'a Path>,
}

/// Refuses, before any work, outputs that cannot be written or would
/// destroy the scenario, and opens the trace.
fn prepare_outputs(a: &RunArgs) -> Result<Option<TraceTo>, CliError> {
    let to_stdout = a.trace == Some(Path::new("-"));
    if to_stdout && a.json {
        return Err(CliError::usage("--json and --trace - both write to stdout")
            .hint("write the trace to a file (--trace run.jsonl), or leave out --json"));
    }
    let mut outputs = Vec::new();
    if let Some(path) = a.trace.filter(|_| !to_stdout) {
        outputs.push(Output { flag: "--trace", path, folder: false });
    }
    if let Some(dir) = a.out {
        outputs.push(Output { flag: "--out", path: dir, folder: true });
        folder::check_target(dir).map_err(|e| publish_error("the report", dir, e))?;
    }
    refuse_overwriting(&[a.file], &outputs)?;
    a.trace.map(TraceTo::open).transpose()
}

/// Keeping every step costs about `STEPS_PER_RECORD × BYTES_PER_STEP` per record: explain a
/// plain `run` only when that leaves half of `max_memory` free.
fn affordable_explain(sc: &crate::scenario::Scenario) -> bool {
    let keep = budget::Keep { lag_rows: false, steps: true };
    budget::estimate(sc, keep).bytes <= sc.max_memory / 2
}

/// The biggest cause (explain's first line), and how to read every story.
fn why_lines(causes: &[String], file: &Path, seed: Option<u64>) -> Option<Vec<String>> {
    let first = causes.first()?;
    let seed = seed.map(|s| format!(" --seed {s}")).unwrap_or_default();
    let more = if causes.len() > 1 { format!(" ({} causes in all)", causes.len()) } else { String::new() };
    Some(vec![first.clone(), format!("`streamsim explain {}{seed}` tells each record's story{more}", file.display())])
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let mut scenario = load_seeded(a.file, a.seed)?;
    if let Some(m) = a.max_events {
        scenario.max_events = m;
    }
    let trace = prepare_outputs(&a)?;
    // With the trace on stdout, the table goes to stderr.
    let table_to_stderr = trace.as_ref().is_some_and(TraceTo::is_stdout);
    // The table says why its biggest anomaly happened when keeping the trace for explain
    // fits well within the run's memory budget.
    let why = !a.json && affordable_explain(&scenario);
    let opts = RunOptions { label: scenario.name.clone(), quiet: a.json, trace, explain: a.out.is_some() || why };
    let outcome = traced(a.file, scenario, opts)?;
    let s = &outcome.summary;
    if let Some(dir) = a.out {
        folder::write(dir, &outcome).map_err(|e| publish_error("the report", dir, e))?;
    }
    if a.json {
        out!("{}", folder::summary_json(s));
    } else {
        let why = why.then(|| why_lines(&outcome.causes, a.file, a.seed)).flatten();
        let mut text = table::render_with_why(s, why.as_deref());
        if let Some(dir) = a.out {
            text.push_str(&format!("\n  report written to {}\n", dir.display()));
        }
        if table_to_stderr {
            err!("{text}");
        } else {
            out!("{}", crate::cli::style::verdicts(&text));
        }
    }
    match table::render_failures(s) {
        Some(diff) => Err(CliError::ExpectationFailed {
            report: format!("{diff}  replay: streamsim run {} --seed {}", a.file.display(), s.seed),
        }),
        None => Ok(()),
    }
}
