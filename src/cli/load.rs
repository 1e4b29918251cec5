//! What every command does first: load a scenario (its warnings on stderr),
//! and run it with progress, a trace and explanations when asked.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::error::CliError;
use crate::cli::output::{self, errln};
use crate::cli::outputs::{publish_error, TraceTo};
use crate::cli::progress::Progress;
use crate::report::publish::FileOutput;
use crate::scenario::{load_file_overridden, Loaded, Scenario};
use crate::{Outcome, SimError};

/// Loads a scenario file with the command line's overrides, printing its warnings.
pub fn load(file: &Path) -> Result<Loaded, CliError> {
    let overrides = crate::cli::overrides::current();
    let loaded = load_file_overridden(file, None, overrides)?;
    if !overrides.is_empty() {
        let flags: Vec<String> = overrides.0.iter().map(|o| o.flag_text()).collect();
        errln!("overrides: {}", flags.join(" "));
    }
    for w in &loaded.warnings {
        errln!("{}", crate::cli::style::error_report(&w.to_string()));
    }
    Ok(loaded)
}

/// Loads a scenario file and applies `--seed`.
pub fn load_seeded(file: &Path, seed: Option<u64>) -> Result<Scenario, CliError> {
    let mut sc = load(file)?.scenario;
    if let Some(seed) = seed {
        sc.seed = seed;
    }
    Ok(sc)
}

/// How a run is shown and what it writes besides its outcome.
pub struct RunOptions {
    /// The progress line's label.
    pub label: String,
    /// No progress on stderr.
    pub quiet: bool,
    pub trace: Option<TraceTo>,
    /// Find the causes of the anomalies, for a report that shows them.
    pub explain: bool,
}

/// Runs the scenario of `file`; the trace, if asked, is put in place only
/// when the run and the trace are complete.
pub fn traced(file: &Path, scenario: Scenario, opts: RunOptions) -> Result<Outcome, CliError> {
    let mut staged: Option<(PathBuf, FileOutput)> = None;
    let writer: Option<Box<dyn Write + Send>> = match opts.trace {
        None => None,
        Some(TraceTo::Stdout) => Some(Box::new(output::Stdout)),
        Some(TraceTo::File { path, out }) => {
            let handle =
                out.handle().map_err(|e| CliError::io(format!("cannot write the trace to `{}`", path.display()), e))?;
            staged = Some((path, out));
            Some(Box::new(handle))
        }
    };
    let quiet = opts.quiet || crate::cli::style::quiet();
    let mut p = Progress::new(&opts.label);
    let result = crate::simulate_with(
        scenario,
        &mut |d| {
            if !quiet {
                p.update(d)
            }
        },
        writer,
        opts.explain,
    );
    if !quiet {
        p.finish();
    }
    let trace_path = || staged.as_ref().map_or("-".into(), |(p, _)| p.display().to_string());
    let mut outcome = result.map_err(|e| match e {
        SimError::Run(e) => CliError::input_because(file.display().to_string(), e),
        SimError::Trace(e) => CliError::io(format!("cannot write the trace to `{}`", trace_path()), e),
    })?;
    if let Some((path, out)) = staged {
        out.commit().map_err(|e| publish_error("the trace", &path, e))?;
    }
    // The report shows the file and the command that replays it.
    outcome.source =
        std::fs::read_to_string(file).ok().map(|text| crate::Source { path: file.display().to_string(), text });
    Ok(outcome)
}

/// Runs a scenario with progress on stderr unless `quiet`.
pub fn simulate_shown(scenario: Scenario, label: &str, quiet: bool) -> Result<Outcome, crate::world::RunError> {
    if quiet || crate::cli::style::quiet() {
        return crate::simulate(scenario);
    }
    let mut p = Progress::new(label);
    let out = crate::simulate_with_progress(scenario, &mut |d| p.update(d));
    p.finish();
    out
}
