//! `streamsim compare`: one workload and seed under several semantics presets.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::simulate_shown;
use crate::cli::output::{errln, out, outln};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::report::compare;
use crate::scenario::{load_file_overridden, Semantics};
use crate::Outcome;

/// The presets named by `--semantics`, or all four in the table's order.
fn presets(names: &[String]) -> Result<Vec<Semantics>, CliError> {
    let mut presets = Vec::new();
    for n in names {
        match Semantics::ALL.iter().find(|s| s.name() == n.trim()) {
            Some(s) => presets.push(*s),
            None => {
                let all: Vec<&str> = Semantics::ALL.iter().map(|s| s.name()).collect();
                return Err(CliError::usage(format!("unknown semantics `{}`", n.trim()))
                    .hint(format!("choose from {}", all.join(", "))));
            }
        }
    }
    if presets.is_empty() {
        presets =
            vec![Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::EffectivelyOnce, Semantics::ExactlyOnce];
    }
    Ok(presets)
}

pub fn compare(file: &Path, names: &[String], seed: Option<u64>, out: Option<&Path>) -> Result<(), CliError> {
    let presets = presets(names)?;
    if let Some(dir) = out {
        refuse_overwriting(&[file], &[Output { flag: "--out", path: dir, folder: true }])?;
        compare::check_target(dir).map_err(|e| publish_error("the report", dir, e))?;
    }
    let mut runs: Vec<(String, Outcome)> = Vec::new();
    for sem in presets {
        let loaded = match load_file_overridden(file, Some(sem), crate::cli::overrides::current()) {
            Ok(l) => l,
            Err(e) => {
                // A preset the scenario cannot take (e.g. transactions on Kinesis) is left out.
                errln!("{}: left out: {e}", sem.name());
                continue;
            }
        };
        let mut sc = loaded.scenario;
        if let Some(seed) = seed {
            sc.seed = seed;
        }
        let o = simulate_shown(sc, sem.name(), false)
            .map_err(|e| CliError::input_because(format!("{} under {}", file.display(), sem.name()), e))?;
        runs.push((sem.name().to_string(), o));
    }
    if runs.is_empty() {
        return Err(CliError::input(format!("{}: no semantics could run", file.display())));
    }
    out!("{}", compare::table(&runs));
    if let Some(dir) = out {
        compare::write(dir, &runs).map_err(|e| publish_error("the report", dir, e))?;
        outln!("\n  report written to {} (open index.html)", dir.display());
    }
    Ok(())
}
