//! `streamsim explain --minimize`: shrink a failing scenario to a smaller
//! one that still fails the same expectation, written as YAML.

use std::io::Write;
use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load_seeded;
use crate::cli::output::{errln, out};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::oracle::minimize::{failing, minimize as shrink, rewrite, Minimized};
use crate::report::publish::FileOutput;

pub fn minimize(file: &Path, seed: Option<u64>, out: Option<&Path>) -> Result<(), CliError> {
    let sc = load_seeded(file, seed)?;
    let staged = match out {
        Some(path) => {
            // The original is what the smaller scenario is compared with: keep it.
            refuse_overwriting(&[file], &[Output { flag: "--out", path, folder: false }])?;
            // A bad target fails now, not after the many runs of the search.
            Some(FileOutput::create(path).map_err(|e| publish_error("the smaller scenario", path, e))?)
        }
        None => None,
    };
    let m = shrink(sc).map_err(|e| {
        let err = CliError::input(format!("{}: {}", file.display(), e.message));
        match e.hint {
            Some(h) => err.hint(h.replace("FILE", &file.display().to_string())),
            None => err,
        }
    })?;
    let original = std::fs::read_to_string(file).unwrap_or_default();
    let yaml = rewrite(&original, &m)
        .map_err(|why| CliError::input(format!("{}: cannot write the smaller scenario: {why}", file.display())))?;
    still_fails(&yaml, &m)?;
    errln!(
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
    match (out, staged) {
        (Some(path), Some(f)) => {
            let written = f.handle().and_then(|mut h| h.write_all(yaml.as_bytes()));
            written
                .map_err(|e| CliError::io(format!("cannot write the smaller scenario to `{}`", path.display()), e))?;
            f.commit().map_err(|e| publish_error("the smaller scenario", path, e))?;
            errln!("written to {}", path.display());
        }
        _ => out!("{yaml}"),
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
