//! `streamsim explain --minimize`: shrink a failing scenario to a smaller
//! one that still fails the same expectation, written as YAML.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load_seeded;
use crate::oracle::minimize::{failing, minimize as shrink, rewrite, Minimized};
use crate::report::folder;

pub fn minimize(file: &Path, seed: Option<u64>, out: Option<&Path>) -> Result<(), CliError> {
    let sc = load_seeded(file, seed)?;
    let m = shrink(sc).map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    let original = std::fs::read_to_string(file).unwrap_or_default();
    let yaml = rewrite(&original, &m)
        .map_err(|why| CliError::input(format!("{}: cannot write the smaller scenario: {why}", file.display())))?;
    still_fails(&yaml, &m)?;
    eprintln!(
        "minimized in {} runs: still fails `{}`; faults {} -> {}, records {} -> {}, duration {} -> {}",
        m.runs,
        m.expectation,
        m.faults_before,
        m.scenario.faults.len(),
        m.produced_before,
        m.produced_after,
        m.duration_before,
        m.scenario.duration
    );
    match out {
        Some(path) => {
            folder::write_atomic(path, yaml.as_bytes())
                .map_err(|e| CliError::io(format!("cannot write `{}`", path.display()), e))?;
            eprintln!("written to {}", path.display());
        }
        None => print!("{yaml}"),
    }
    Ok(())
}

/// The written YAML must load and fail as promised.
fn still_fails(yaml: &str, m: &Minimized) -> Result<(), CliError> {
    match crate::scenario::load_str(yaml, "minimized.yaml") {
        Ok(l) if failing(&l.scenario).is_some_and(|f| f.contains(&m.expectation)) => Ok(()),
        Ok(_) => Err(CliError::input(format!(
            "the minimized scenario no longer fails `{}` once written; keeping the original",
            m.expectation
        ))),
        Err(e) => Err(CliError::input(format!("the minimized scenario does not load: {e}"))),
    }
}
