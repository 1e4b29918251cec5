//! `streamsim pin FILE... [--seeds A..B] [--check]`: runs each scenario over
//! the seeds and writes its outcome counts into its `expect:` block, in
//! place (comments and style kept, the file replaced whole or not at all).
//! `--check` writes nothing and exits 1 when a file would change.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::error::{CliError, EXIT_FAILED};
use crate::cli::output::{errln, out, outln};
use crate::cli::outputs::publish_error;
use crate::cli::pin_diff::unified;
use crate::cli::sweep::parse_seeds;
use crate::scenario::expect_edit::{pinned_seeds, with_pins, Pin, HEADER, SEEN};
use crate::scenario::{Cmp, Expectation};

/// The counts `pin` writes: every outcome state of a record, and the
/// group's rebalances. Other keys in `expect:` are left as written.
pub const PINNED: &[&str] = &[
    "produced",
    "acked",
    "failed",
    "written",
    "delivered",
    "lost",
    "lost_acked",
    "unsent",
    "lost_writes",
    "unavailable",
    "abandoned",
    "skipped",
    "pending",
    "redelivered",
    "duplicates",
    "reordered",
    "rebalances",
];

/// Counts where more is better: a varying one is pinned as a lower bound.
const MORE_IS_BETTER: &[&str] = &["produced", "acked", "written", "delivered"];

/// What `pin` was asked to do.
pub struct PinArgs<'a> {
    pub files: &'a [std::path::PathBuf],
    pub seeds: Option<&'a str>,
    pub check: bool,
}

/// One file's text as it is and as it would be pinned.
struct Plan<'a> {
    path: &'a Path,
    old: String,
    new: String,
    pins: usize,
    seeds: String,
}

pub fn pin(a: PinArgs) -> Result<ExitCode, CliError> {
    // Every file is planned before any is written: an error in one changes none.
    let plans = a.files.iter().map(|f| plan(f, a.seeds)).collect::<Result<Vec<_>, _>>()?;
    if a.check {
        return check(&plans);
    }
    for p in &plans {
        if p.old == p.new {
            outln!("{}: unchanged ({} expectations, {})", p.path.display(), p.pins, p.seeds);
            continue;
        }
        crate::report::publish::publish_file(p.path, p.new.as_bytes())
            .map_err(|e| publish_error("the pinned scenario", p.path, e))?;
        outln!("{}: pinned {} expectations ({})", p.path.display(), p.pins, p.seeds);
    }
    Ok(ExitCode::SUCCESS)
}

fn check(plans: &[Plan]) -> Result<ExitCode, CliError> {
    let changed: Vec<&Plan> = plans.iter().filter(|p| p.old != p.new).collect();
    for p in &changed {
        let name = p.path.display().to_string();
        out!("{}", unified(&p.old, &p.new, &format!("{name} (pinned)"), &format!("{name} (now)")));
    }
    if changed.is_empty() {
        outln!("{} file(s): the pinned expectations are current", plans.len());
        return Ok(ExitCode::SUCCESS);
    }
    let files: Vec<String> = changed.iter().map(|p| p.path.display().to_string()).collect();
    errln!(
        "{} of {} file(s) would change: {}\n  hint: review the diff, then `streamsim pin {}` writes it",
        changed.len(),
        plans.len(),
        files.join(", "),
        files.join(" ")
    );
    Ok(ExitCode::from(EXIT_FAILED))
}

/// Loads `file`, runs its seeds and computes its pinned text.
fn plan<'a>(file: &'a Path, seeds: Option<&str>) -> Result<Plan<'a>, CliError> {
    let bytes = std::fs::read(file).map_err(|e| CliError::io(format!("cannot read `{}`", file.display()), e))?;
    let loaded = crate::scenario::load_bytes(&bytes, &file.display().to_string())?;
    for w in &loaded.warnings {
        errln!("{}", crate::cli::style::error_report(&w.to_string()));
    }
    let old = String::from_utf8(bytes).unwrap_or_default();
    let (range, header) = match seeds.map(str::to_string).or_else(|| pinned_seeds(&old)) {
        Some(text) => {
            let (from, to) = parse_seeds(&text)?;
            (from..to, format!("{HEADER} --seeds {from}..{to}"))
        }
        None => (loaded.scenario.seed..loaded.scenario.seed + 1, HEADER.to_string()),
    };
    let label = if range.end - range.start == 1 {
        format!("seed {}", range.start)
    } else {
        format!("seeds {}..{}", range.start, range.end)
    };
    let runs = run_seeds(file, &loaded.scenario, range)?;
    let pins: Vec<Pin> = PINNED.iter().map(|m| pinned(m, &runs, &label, &loaded.scenario.expect)).collect();
    let new = with_pins(&old, &header, &pins)
        .map_err(|why| CliError::input(format!("{}: cannot pin `expect:` in place: {why}", file.display())))?;
    if let Err(e) = crate::scenario::load_str(&new, &file.display().to_string()) {
        return Err(CliError::input(format!("{}: the pinned file would not load: {e}", file.display())));
    }
    Ok(Plan { path: file, old, new, pins: pins.len(), seeds: label })
}

/// Each seed's metrics, by `PINNED` index, in seed order.
fn run_seeds(
    file: &Path,
    base: &crate::scenario::Scenario,
    seeds: std::ops::Range<u64>,
) -> Result<Vec<Vec<f64>>, CliError> {
    use rayon::prelude::*;
    let runs: Result<Vec<Vec<f64>>, String> = seeds
        .into_par_iter()
        .map(|seed| {
            let mut sc = base.clone();
            sc.seed = seed;
            let o = crate::simulate(sc).map_err(|e| format!("seed {seed}: {e}"))?;
            Ok(PINNED.iter().map(|m| o.summary.metric(m).unwrap_or(0.0)).collect())
        })
        .collect();
    runs.map_err(|e| CliError::input(format!("{}: {e}", file.display())))
}

/// The expectation for one metric: its value when every seed agrees, else
/// the bound that every seed meets, with the range seen. A bound the file
/// already has that every seed meets (`"> 0"`: the anomaly shows) is kept
/// unless `pin` wrote it.
fn pinned(metric: &str, runs: &[Vec<f64>], label: &str, written: &[Expectation]) -> Pin {
    let i = PINNED.iter().position(|m| *m == metric).expect("a pinned metric");
    let values = runs.iter().map(|r| r[i]);
    let min = values.clone().fold(f64::INFINITY, f64::min);
    let max = values.fold(f64::NEG_INFINITY, f64::max);
    if min == max {
        return Pin { metric: metric.to_string(), value: format!("{min}"), comment: None, keep_authored: false };
    }
    let keep_authored = written
        .iter()
        .find(|e| e.name == metric)
        .is_some_and(|e| e.cmp != Cmp::Eq && runs.iter().all(|r| e.cmp.holds(r[i], e.value)));
    let value = if MORE_IS_BETTER.contains(&metric) { format!("\">= {min}\"") } else { format!("\"<= {max}\"") };
    Pin {
        metric: metric.to_string(),
        value,
        comment: Some(format!("{SEEN}{min} to {max} over {label}")),
        keep_authored,
    }
}
