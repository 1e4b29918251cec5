//! `streamsim timeline`: a run's incidents in time order, with names; with
//! `--perfetto`, the run as a Chrome trace-event file; with `--record`, one
//! record's path merged in (and drawn as flow arrows in the Perfetto file).

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load_seeded;
use crate::cli::output::out;
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::report::names::Names;
use crate::report::{perfetto, record_path, timeline};

pub struct TimelineArgs<'a> {
    pub file: &'a Path,
    pub seed: Option<u64>,
    pub perfetto: Option<&'a Path>,
    pub record: Option<&'a str>,
}

pub fn timeline(a: TimelineArgs) -> Result<(), CliError> {
    if let Some(p) = a.perfetto {
        refuse_overwriting(&[a.file], &[Output { flag: "--perfetto", path: p, folder: false }])?;
    }
    let sc = load_seeded(a.file, a.seed)?;
    let run = crate::simulate_taped(sc).map_err(|e| CliError::input_because(a.file.display().to_string(), e))?;
    let names = Names::new(&run.shape);
    let steps = match a.record {
        None => None,
        Some(r) => {
            let id = names
                .find_record(&run.facts, r)
                .map_err(|hint| CliError::input(format!("no record `{r}` in this run")).hint(hint))?;
            Some((r, record_path::path(names, &run.facts, id)))
        }
    };
    let record = steps.as_ref().map(|(r, s)| (*r, s.as_slice()));
    if let Some(p) = a.perfetto {
        let json = perfetto::trace(&run.shape, &run.facts, run.end_us, record);
        crate::report::publish::publish_file(p, json.as_bytes())
            .map_err(|e| publish_error("the Perfetto trace", p, e))?;
    }
    let entries = timeline::entries(&run.shape, &run.facts);
    let title = format!(
        "streamsim timeline: {} (seed {}), {} incidents, the run ended at {}",
        run.summary.scenario,
        run.summary.seed,
        entries.len(),
        timeline::clock(run.end_us)
    );
    out!("{}", timeline::text(&title, &entries, record, names));
    if let Some(p) = a.perfetto {
        crate::cli::output::errln!("wrote {} (open it in https://ui.perfetto.dev or chrome://tracing)", p.display());
    }
    Ok(())
}
