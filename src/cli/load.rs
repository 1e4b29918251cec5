//! What every command does first: load a scenario (its warnings on stderr),
//! and run it with progress, a trace and explanations when asked.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::progress::Progress;
use crate::scenario::{load_file, Loaded, Scenario};
use crate::Outcome;

/// Loads a scenario file, printing its warnings.
pub fn load(file: &Path) -> Result<Loaded, CliError> {
    let loaded = load_file(file)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
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

/// Runs a scenario, writing its JSONL trace (if asked) to a temporary file
/// renamed to `path` only when the run and the trace are complete, and
/// explaining its anomalies when a report will show them. The error names
/// what failed, without the scenario file.
pub fn traced(
    scenario: Scenario,
    label: &str,
    quiet: bool,
    path: Option<&Path>,
    explain: bool,
) -> Result<Outcome, String> {
    let tmp = path.map(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("trace.jsonl");
        p.with_file_name(format!(".{name}.tmp"))
    });
    let file = match (&tmp, path) {
        (Some(t), Some(p)) => {
            Some(std::fs::File::create(t).map_err(|e| format!("cannot write the trace to `{}`: {e}", p.display()))?)
        }
        _ => None,
    };
    let mut p = Progress::new(label);
    let result = crate::simulate_with(
        scenario,
        &mut |d| {
            if !quiet {
                p.update(d)
            }
        },
        file,
        explain,
    );
    if !quiet {
        p.finish();
    }
    match (result, tmp, path) {
        (Ok(o), Some(t), Some(p)) => {
            std::fs::rename(&t, p).map_err(|e| format!("cannot write the trace to `{}`: {e}", p.display()))?;
            Ok(o)
        }
        (Ok(o), _, _) => Ok(o),
        (Err(e), t, _) => {
            if let Some(t) = t {
                let _ = std::fs::remove_file(&t);
            }
            Err(e.to_string())
        }
    }
}

/// Runs a scenario with progress on stderr unless `quiet`.
pub fn simulate_shown(scenario: Scenario, label: &str, quiet: bool) -> Result<Outcome, crate::world::RunError> {
    if quiet {
        return crate::simulate(scenario);
    }
    let mut p = Progress::new(label);
    let out = crate::simulate_with_progress(scenario, &mut |d| p.update(d));
    p.finish();
    out
}
