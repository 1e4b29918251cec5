//! `streamsim sweep`: one scenario over many seeds in parallel, a shard of
//! such a sweep, or the merge of shards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::error::{CliError, EXIT_FAILED};
use crate::cli::load::load;
use crate::cli::output::{errln, out, outln};
use crate::report::sweep::{fingerprint, ranges, shard_seeds, SeedResult, SweepResult};

mod scheduler;

/// What `sweep` was asked to run.
pub struct SweepArgs<'a> {
    pub file: &'a Path,
    pub seeds: &'a str,
    pub jobs: Option<usize>,
    pub shard: Option<&'a str>,
    /// `--shards N`: the count for `--shard auto` (Kubernetes does not tell it).
    pub shards: Option<u64>,
    /// `--out DIR`: also write the JSON there, under a name fixed by the sweep and shard.
    pub out: Option<&'a Path>,
    pub json: bool,
}

/// `A..B` (B excluded) or `A..=B`, as a half-open range.
pub(super) fn parse_seeds(text: &str) -> Result<(u64, u64), CliError> {
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

/// The thread count: `--jobs`, none meaning every core, and never more
/// than one per seed or 4 per core (more only cost memory and start-up).
/// `--jobs 0` is refused: it reads as "no threads", and every core is the default.
fn threads(jobs: Option<usize>, seeds: u64) -> Result<usize, CliError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seeds = usize::try_from(seeds).unwrap_or(usize::MAX);
    Ok(match jobs {
        None => cores.min(seeds),
        Some(0) => {
            return Err(CliError::usage("--jobs 0: a sweep needs at least one thread")
                .hint(format!("leave --jobs out to use every core ({cores} here), or give a count like --jobs 2")))
        }
        Some(n) => {
            let cap = seeds.min(cores.saturating_mul(4));
            if n > cap && !crate::cli::style::quiet() {
                let why = if cap == seeds { "one per seed".to_string() } else { format!("4 per core, {cores} cores") };
                errln!("note: --jobs {n} capped at {cap} threads ({why})");
            }
            n.min(cap)
        }
    })
}

/// The shard asked for: `K/N`, `auto` (from the scheduler's environment), or none.
fn which_shard(shard: Option<&str>, shards: Option<u64>) -> Result<Option<(u64, u64)>, CliError> {
    match shard.map(str::trim) {
        Some("auto") => {
            let s = scheduler::slot(|name| std::env::var(name).ok(), shards)?;
            Ok(Some((s.k, s.n)))
        }
        _ if shards.is_some() => Err(CliError::usage("--shards N goes with --shard auto")
            .hint("give --shard auto --shards N, or --shard K/N alone")),
        Some(text) => parse_shard(text).map(Some),
        None => Ok(None),
    }
}

pub fn sweep(a: SweepArgs) -> Result<ExitCode, CliError> {
    let (from, to) = parse_seeds(a.seeds)?;
    let shard = which_shard(a.shard, a.shards)?;
    let range = match shard {
        Some((k, n)) => shard_seeds(from, to, k, n),
        None => from..to,
    };
    if range.is_empty() {
        let (k, n) = shard.unwrap_or((1, 1));
        return Err(CliError::usage(format!("--shard {k}/{n} of --seeds {} holds no seeds", a.seeds)).hint(format!(
            "use at most {} shards for {} seeds",
            to - from,
            to - from
        )));
    }
    let threads = threads(a.jobs, range.end - range.start)?;
    let base = load(a.file)?.scenario;
    let runs = run_seeds(a.file, &base, range.clone(), threads)?;
    let result = SweepResult {
        scenario: base.name.clone(),
        file: a.file.display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        fingerprint: fingerprint(&base),
        all_seeds: [from, to - 1],
        shard: shard.map(|(k, n)| format!("{k}/{n}")),
        seeds: ranges(range),
        runs,
    };
    if let Some(dir) = a.out {
        write_shard_file(dir, &result, shard)?;
    }
    print_sweep(&result, a.json)
}

/// `NAME-A-B.json` for a whole sweep of seeds A..=B, `NAME-A-B-shard-03-of-16.json`
/// for a shard: the same for every rerun of a task, distinct between tasks,
/// and sorted by shard.
fn shard_file_name(result: &SweepResult, shard: Option<(u64, u64)>) -> String {
    let [a, b] = result.all_seeds;
    let base = format!("{}-{a}-{b}", result.scenario);
    match shard {
        Some((k, n)) => {
            let width = n.to_string().len();
            format!("{base}-shard-{k:0width$}-of-{n}.json")
        }
        None => format!("{base}.json"),
    }
}

/// Writes the result's JSON into `dir` through a temporary file (created
/// exclusively, not ending in `.json`) and a rename, so a merge on a shared
/// volume never reads half a file.
fn write_shard_file(dir: &Path, result: &SweepResult, shard: Option<(u64, u64)>) -> Result<(), CliError> {
    use std::io::Write;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::io(format!("cannot create directory `{}`", dir.display()), e))?;
    let path = dir.join(shard_file_name(result, shard));
    let cannot = |e| CliError::io(format!("cannot write `{}`", path.display()), e);
    let mut text = serde_json::to_string_pretty(result).map_err(|e| CliError::input(e.to_string()))?;
    text.push('\n');
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
    tmp.write_all(text.as_bytes()).map_err(cannot)?;
    tmp.persist(&path).map_err(|e| cannot(e.error))?;
    if !crate::cli::style::quiet() {
        errln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs every seed of `range` on `threads` threads, with a progress bar;
/// the results in seed order whatever the thread count.
fn run_seeds(
    file: &Path,
    base: &crate::scenario::Scenario,
    range: std::ops::Range<u64>,
    threads: usize,
) -> Result<Vec<SeedResult>, CliError> {
    use indicatif::{ProgressBar, ProgressStyle};
    use rayon::prelude::*;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::input_because(format!("cannot start {threads} threads"), e))?;
    let bar =
        if crate::cli::style::quiet() { ProgressBar::hidden() } else { ProgressBar::new(range.end - range.start) };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} seeds, {per_sec}, ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(base.name.clone());
    let results: Result<Vec<SeedResult>, String> = pool.install(|| {
        range
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
    results.map_err(|e| CliError::input(format!("{}: {e}", file.display())))
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

/// The shard files: files as given, folders' `.json` files sorted.
fn shard_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| CliError::io(format!("cannot read directory `{}`", p.display()), e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
            .collect();
        if found.is_empty() {
            return Err(CliError::input(format!("no .json shard files in `{}`", p.display()))
                .hint("write each shard with `streamsim sweep ... --shard K/N --out DIR`"));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

pub fn merge(paths: &[PathBuf], json: bool, partial: bool) -> Result<ExitCode, CliError> {
    let mut parts = Vec::new();
    for f in shard_files(paths)? {
        let text =
            std::fs::read_to_string(&f).map_err(|e| CliError::io(format!("cannot read `{}`", f.display()), e))?;
        let part: SweepResult = serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!("`{}` is not the JSON of `streamsim sweep --json`: {e}", f.display()))
                .hint("write it with `streamsim sweep FILE --seeds A..B --shard K/N --json` (an older streamsim's file needs a re-run)")
        })?;
        parts.push((f.display().to_string(), part));
    }
    let all = crate::report::sweep::merge(parts, partial).map_err(|e| CliError::input(e.message).hint(e.hint))?;
    print_sweep(&all, json)
}
