//! `streamsim sweep`: one scenario over many seeds in parallel, a shard of
//! such a sweep, or the merge of shards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::error::{CliError, EXIT_FAILED};
use crate::cli::load::load;
use crate::cli::output::{out, outln};
use crate::report::sweep::{shard_seeds, SeedResult, SweepResult};

/// What `sweep` was asked to run.
pub struct SweepArgs<'a> {
    pub file: &'a Path,
    pub seeds: &'a str,
    pub jobs: Option<usize>,
    pub shard: Option<&'a str>,
    pub json: bool,
}

/// `A..B` (B excluded) or `A..=B`, as a half-open range.
fn parse_seeds(text: &str) -> Result<(u64, u64), CliError> {
    let bad = || CliError::usage(format!("--seeds `{text}`: expected a range like `0..1000` or `0..=999`"));
    let (a, b, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => text.split_once("..").map(|(a, b)| (a, b, false)).ok_or_else(bad)?,
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive { b.checked_add(1).ok_or_else(bad)? } else { b };
    if end <= a {
        return Err(CliError::usage(format!("--seeds `{text}` is empty")));
    }
    Ok((a, end))
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(text: &str) -> Result<(u64, u64), CliError> {
    let bad = || CliError::usage(format!("--shard `{text}`: expected K/N with 1 <= K <= N, like `2/4`"));
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

pub fn sweep(a: SweepArgs) -> Result<ExitCode, CliError> {
    use indicatif::{ProgressBar, ProgressStyle};
    use rayon::prelude::*;

    let (from, to) = parse_seeds(a.seeds)?;
    let range = match a.shard.map(parse_shard).transpose()? {
        Some((k, n)) => shard_seeds(from, to, k, n),
        None => from..to,
    };
    let base = load(a.file)?.scenario;
    let threads = a.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::input_because(format!("cannot start {threads} threads"), e))?;
    let bar = ProgressBar::new(range.end - range.start);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} seeds, {per_sec}, ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(base.name.clone());
    let results: Result<Vec<SeedResult>, String> = pool.install(|| {
        range
            .clone()
            .into_par_iter()
            .map(|seed| {
                let mut sc = base.clone();
                sc.seed = seed;
                let r = crate::simulate(sc).map(|o| SeedResult::of(seed, &o)).map_err(|e| format!("seed {seed}: {e}"));
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let runs = results.map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))?;
    let result = SweepResult { scenario: base.name.clone(), file: a.file.display().to_string(), runs };
    print_sweep(&result, a.json)
}

fn print_sweep(result: &SweepResult, json: bool) -> Result<ExitCode, CliError> {
    if json {
        let j = serde_json::to_string_pretty(result).map_err(|e| CliError::input(e.to_string()))?;
        outln!("{j}");
    } else {
        out!("{}", crate::report::sweep::report(result));
    }
    Ok(if result.runs.iter().any(|r| !r.pass) { ExitCode::from(EXIT_FAILED) } else { ExitCode::SUCCESS })
}

pub fn merge(files: &[PathBuf], json: bool) -> Result<ExitCode, CliError> {
    let mut parts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| CliError::io(format!("cannot read `{}`", f.display()), e))?;
        let part = serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!("`{}` is not the JSON of `streamsim sweep --json`: {e}", f.display()))
        })?;
        parts.push(part);
    }
    let all = crate::report::sweep::merge(parts).map_err(CliError::input)?;
    print_sweep(&all, json)
}
