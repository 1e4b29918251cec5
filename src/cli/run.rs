//! `streamsim run`: one scenario, its summary on stdout, the report folder
//! and the trace when asked.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::{load_seeded, traced};
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

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let mut scenario = load_seeded(a.file, a.seed)?;
    if let Some(m) = a.max_events {
        scenario.max_events = m;
    }
    let label = scenario.name.clone();
    let outcome = traced(scenario, &label, a.json, a.trace, a.out.is_some())
        .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))?;
    let s = &outcome.summary;
    if let Some(dir) = a.out {
        folder::write(dir, &outcome)
            .map_err(|e| CliError::io(format!("cannot write the report to `{}`", dir.display()), e))?;
    }
    if a.json {
        print!("{}", folder::summary_json(s));
    } else {
        print!("{}", table::render(s));
        if let Some(dir) = a.out {
            println!("\n  report written to {}", dir.display());
        }
    }
    match table::render_failures(s) {
        Some(diff) => Err(CliError::ExpectationFailed {
            report: format!("{diff}  replay: streamsim run {} --seed {}", a.file.display(), s.seed),
        }),
        None => Ok(()),
    }
}
