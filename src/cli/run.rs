//! `streamsim run`: one scenario, its summary on stdout, the report folder
//! and the trace when asked.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::{load_seeded, traced, RunOptions};
use crate::cli::output::{err, out};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output, TraceTo};
use crate::report::{folder, table};

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

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let mut scenario = load_seeded(a.file, a.seed)?;
    if let Some(m) = a.max_events {
        scenario.max_events = m;
    }
    let trace = prepare_outputs(&a)?;
    // With the trace on stdout, the table goes to stderr.
    let table_to_stderr = trace.as_ref().is_some_and(TraceTo::is_stdout);
    let opts = RunOptions { label: scenario.name.clone(), quiet: a.json, trace, explain: a.out.is_some() };
    let outcome = traced(a.file, scenario, opts)?;
    let s = &outcome.summary;
    if let Some(dir) = a.out {
        folder::write(dir, &outcome).map_err(|e| publish_error("the report", dir, e))?;
    }
    if a.json {
        out!("{}", folder::summary_json(s));
    } else {
        let mut text = table::render(s);
        if let Some(dir) = a.out {
            text.push_str(&format!("\n  report written to {}\n", dir.display()));
        }
        if table_to_stderr {
            err!("{text}");
        } else {
            out!("{text}");
        }
    }
    match table::render_failures(s) {
        Some(diff) => Err(CliError::ExpectationFailed {
            report: format!("{diff}  replay: streamsim run {} --seed {}", a.file.display(), s.seed),
        }),
        None => Ok(()),
    }
}
