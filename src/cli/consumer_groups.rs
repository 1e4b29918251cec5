//! `streamsim consumer-groups`: `kafka-consumer-groups --describe` at a
//! moment of the run (default: its end), from the facts up to it.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load_seeded;
use crate::cli::output::{errln, out};
use crate::report::{consumer_groups, timeline};

pub fn consumer_groups(file: &Path, at: Option<&str>, seed: Option<u64>) -> Result<(), CliError> {
    let at_us = match at {
        None => None,
        Some(text) => Some(
            crate::scenario::units::parse_duration(text)
                .map_err(|e| {
                    // A bare number at `--at` is a moment of the run, so most likely seconds.
                    let bare = crate::scenario::units::parse_decimal(text.trim()).is_ok();
                    let hint =
                        if bare { Some(crate::scenario::units::bare_number_hint(text.trim(), "s")) } else { e.hint };
                    CliError::usage(format!("--at `{text}`: {}", e.message))
                        .hint(hint.unwrap_or_else(|| "a virtual time such as `30s` or `1500ms`".into()))
                })?
                .us(),
        ),
    };
    let sc = load_seeded(file, seed)?;
    let run = crate::simulate_taped(sc).map_err(|e| CliError::input_because(file.display().to_string(), e))?;
    let at_us = at_us.unwrap_or(run.end_us);
    if at_us > run.end_us {
        return Err(CliError::usage(format!(
            "--at {}: the run ended at {}",
            timeline::clock(at_us),
            timeline::clock(run.end_us)
        ))
        .hint(format!("give a time from 0s to {}, or leave --at out for the end", timeline::clock(run.end_us))));
    }
    let views = consumer_groups::describe(&run.shape, &run.facts, at_us);
    if views.is_empty() {
        errln!("{}: no consumer groups in this scenario", file.display());
        return Ok(());
    }
    let (table, notes) = consumer_groups::text(&views);
    errln!("{} (seed {}) at {} of virtual time:", run.summary.scenario, run.summary.seed, timeline::clock(at_us));
    for n in notes {
        errln!("\n{n}");
    }
    out!("{table}");
    Ok(())
}
