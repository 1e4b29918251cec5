//! The command line: `run`, `compare`, `check` and `validate`. Exit codes:
//! 0 ok, 1 an expectation failed, 2 bad input or usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::report::{compare, folder, table};
use crate::scenario::{load_file, load_file_with, Loaded, Semantics};
use crate::Outcome;

#[derive(Parser, Debug)]
#[command(
    name = "streamsim",
    version,
    about = "Deterministic simulator of Kafka-style streaming failure modes",
    long_about = "streamsim replays a scenario (producers, brokers, consumer groups, sinks, \
faults) in virtual time from a seed, and reports what was produced, acknowledged, lost, \
duplicated and reordered. Same scenario + seed = the same run, byte for byte.",
    after_help = "Examples:\n  streamsim run scenarios/at-least-once.yaml\n  streamsim run scenarios/homework.yaml --seed 42 --json\n  streamsim run scenarios/at-most-once.yaml --out /tmp/at-most-once\n  streamsim compare scenarios/homework.yaml --out /tmp/compare\n  streamsim check scenarios --out reports\n  streamsim validate my-scenario.yaml\n\nExit codes: 0 ok, 1 an `expect` failed, 2 bad input or usage."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one scenario and print its summary.
    #[command(
        after_help = "The run ends when producers are done and everything is delivered, or at duration + drain.\nA failed `expect` exits 1 and prints expected vs actual."
    )]
    Run {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the report folder here (summary, charts, index.html, CSVs).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print only the JSON summary on stdout.
        #[arg(long)]
        json: bool,
        /// Replace the scenario's cap on processed events.
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
        /// Write the full event trace here, one JSON object per line (docs/trace-format.md).
        #[arg(long, value_name = "FILE.jsonl")]
        trace: Option<PathBuf>,
    },
    /// Run the same workload and seed under each semantics preset, side by side.
    #[command(
        after_help = "Each preset only sets configs (see docs/model.md); what differs in the table comes from the runs.\nWith --out: one report folder per preset, overlaid charts and an index.html."
    )]
    Compare {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Presets to compare, comma-separated (default: all four).
        #[arg(long, value_delimiter = ',', value_name = "LIST")]
        semantics: Vec<String>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the comparison report here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run every scenario (files, or the .yaml files of directories) and check its expectations.
    #[command(after_help = "Exits 1 if any expectation fails, 2 if a file cannot be loaded or run.")]
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write one report folder per scenario under this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run one scenario over many seeds in parallel: each count's distribution and the failing seeds.
    #[command(
        after_help = "Examples:\n  streamsim sweep scenarios/at-least-once.yaml --seeds 0..1000\n  streamsim sweep scenarios/at-least-once.yaml --seeds 0..1000 --shard 2/4 --json > shard2.json\n  streamsim sweep --merge shard1.json shard2.json shard3.json shard4.json\n\nResults are the same whatever --jobs is. Exits 1 if any seed failed an expectation."
    )]
    Sweep {
        /// The scenario file (not with --merge).
        #[arg(required_unless_present = "merge")]
        file: Option<PathBuf>,
        /// Seeds to run: A..B (B excluded) or A..=B.
        #[arg(long, value_name = "A..B", required_unless_present = "merge")]
        seeds: Option<String>,
        /// Threads (default: every core).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Run only slice K of N of the seeds (for spreading a sweep over machines).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Print the per-seed results as JSON (what --merge reads).
        #[arg(long)]
        json: bool,
        /// Combine the JSON of sweep shards instead of running.
        #[arg(long, num_args = 1.., value_name = "FILES", conflicts_with_all = ["file", "seeds", "shard"])]
        merge: Vec<PathBuf>,
    },
    /// Explain each anomaly: the chain of steps that caused it, grouped by cause.
    #[command(
        after_help = "Examples:\n  streamsim explain scenarios/at-least-once.yaml --limit 3\n  streamsim explain scenarios/acks-1-leader-failover.yaml --kind lost\n  streamsim explain scenarios/at-most-once.yaml --record shop-0#5497\n  streamsim explain scenarios/retries-reorder.yaml --json\n  streamsim explain chaos.yaml --seed 17 --minimize --out small.yaml\n\nEach step of a story names its line in the trace that `run --trace` writes for the same scenario and seed."
    )]
    Explain {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Only this kind of anomaly: lost, duplicate, reordered, late or redelivered.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Only this record: its name (`web-0#4711`, the producer instance and its
        /// place in that producer's send order) or its id in the trace.
        #[arg(long, value_name = "RECORD")]
        record: Option<String>,
        /// How many stories to show (default 10, or all with --json); the
        /// causes always count every anomaly.
        #[arg(long, value_name = "K")]
        limit: Option<usize>,
        /// Print the causes and stories as JSON.
        #[arg(long, conflicts_with = "minimize")]
        json: bool,
        /// Instead: shrink the failing scenario (fewer faults, fewer records, a
        /// shorter run) to one that still fails the same expectation, and write it as YAML.
        #[arg(long)]
        minimize: bool,
        /// With --minimize: where to write the smaller scenario (default: stdout).
        #[arg(long, value_name = "FILE.yaml", requires = "minimize")]
        out: Option<PathBuf>,
    },
    /// Check a scenario file without running it; prints what it resolved to.
    Validate {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
    },
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Run { file, seed, out, json, max_events, trace } => {
            run(&file, seed, out.as_deref(), json, max_events, trace.as_deref())
        }
        Command::Compare { file, semantics, seed, out } => compare_cmd(&file, &semantics, seed, out.as_deref()),
        Command::Check { paths, out } => check(&paths, out.as_deref()),
        Command::Sweep { file, seeds, jobs, shard, json, merge } => {
            if merge.is_empty() {
                sweep(
                    file.as_deref().expect("required by clap"),
                    seeds.as_deref().unwrap_or(""),
                    jobs,
                    shard.as_deref(),
                    json,
                )
            } else {
                sweep_merge(&merge, json)
            }
        }
        Command::Explain { file, seed, minimize: true, out, .. } => minimize_cmd(&file, seed, out.as_deref()),
        Command::Explain { file, seed, kind, record, limit, json, .. } => {
            explain_cmd(&file, seed, kind.as_deref(), record.as_deref(), limit, json)
        }
        Command::Validate { file } => validate(&file),
    }
}

fn minimize_cmd(file: &Path, seed: Option<u64>, out: Option<&Path>) -> ExitCode {
    let mut sc = match load(file) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    if let Some(seed) = seed {
        sc.seed = seed;
    }
    let m = match crate::oracle::minimize::minimize(sc) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let original = std::fs::read_to_string(file).unwrap_or_default();
    let yaml = match crate::oracle::minimize::rewrite(&original, &m) {
        Ok(y) => y,
        Err(why) => {
            eprintln!("error: {}: cannot write the smaller scenario: {why}", file.display());
            return ExitCode::from(2);
        }
    };
    // The result must load and fail as promised.
    match crate::scenario::load_str(&yaml, "minimized.yaml") {
        Ok(l) if crate::oracle::minimize::failing(&l.scenario).is_some_and(|f| f.contains(&m.expectation)) => {}
        Ok(_) => {
            eprintln!(
                "error: the minimized scenario no longer fails `{}` once written; keeping the original",
                m.expectation
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: the minimized scenario does not load: {e}");
            return ExitCode::from(2);
        }
    }
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
            if let Err(e) = folder::write_atomic(path, yaml.as_bytes()) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
            eprintln!("written to {}", path.display());
        }
        None => print!("{yaml}"),
    }
    ExitCode::SUCCESS
}

fn explain_cmd(
    file: &Path,
    seed: Option<u64>,
    kind: Option<&str>,
    record: Option<&str>,
    limit: Option<usize>,
    json: bool,
) -> ExitCode {
    use crate::oracle::explain::{cause_lines, mechanism_lines, Anomaly};
    let kind = match kind.map(|k| (k, Anomaly::from_name(k))) {
        None => None,
        Some((_, Some(a))) => Some(a),
        Some((other, None)) => {
            eprintln!("error: unknown kind `{other}`\n  hint: choose lost, duplicate, reordered, late or redelivered");
            return ExitCode::from(2);
        }
    };
    let mut sc = match load(file) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    if let Some(seed) = seed {
        sc.seed = seed;
    }
    let crate::Explained { summary, explanation: mut e, world } = match crate::simulate_explained(sc) {
        Ok(x) => x,
        Err(err) => {
            eprintln!("error: {}: {err}", file.display());
            return ExitCode::from(2);
        }
    };
    let names = crate::oracle::explain::index::Names { w: &world };
    let record = match record.map(|r| (r, names.find(r))) {
        None => None,
        Some((_, Ok(id))) => Some(id),
        Some((r, Err(hint))) => {
            eprintln!("error: no record `{r}` in this run\n  hint: {hint}");
            return ExitCode::from(2);
        }
    };
    e.retain(|s| kind.is_none_or(|k| s.anomaly == k) && record.is_none_or(|r| s.record == r));
    let limit = limit.unwrap_or(if json { usize::MAX } else { 10 });
    if json {
        println!("{}", crate::report::explain::json(&summary, &e, limit));
        return ExitCode::SUCCESS;
    }
    println!(
        "streamsim explain: {} (seed {}): {} lost, {} duplicates, {} reordered, {} late, {} redelivered\n",
        summary.scenario,
        summary.seed,
        summary.lost,
        summary.duplicates,
        summary.reordered,
        summary.late_events,
        summary.redelivered
    );
    if e.causes.is_empty() {
        let which = match (kind, record) {
            (_, Some(_)) => " for that record",
            (Some(_), None) => " of that kind",
            (None, None) => "",
        };
        println!("  nothing to explain: no lost, duplicated, reordered, late or redelivered record{which}");
        return ExitCode::SUCCESS;
    }
    let mechanisms = mechanism_lines(&e);
    for line in &mechanisms {
        println!("  In all: {line}");
    }
    if !mechanisms.is_empty() {
        println!();
    }
    for line in cause_lines(&e) {
        println!("  {line}");
    }
    println!();
    let shown = e.sample(limit);
    for s in &shown {
        println!("{}", s.text());
    }
    if e.stories.len() > shown.len() {
        println!("... and {} more (--limit K, --kind KIND, --record NAME)", e.stories.len() - shown.len());
    }
    println!(
        "Trace lines are those of `streamsim run {} --seed {} --trace trace.jsonl`.",
        file.display(),
        summary.seed
    );
    ExitCode::SUCCESS
}

/// Shows progress on stderr for runs that take more than a second of wall
/// time: a line that updates in place on a terminal, a line every few
/// seconds otherwise. It only observes the run.
struct Progress {
    label: String,
    started: std::time::Instant,
    last: Option<std::time::Instant>,
    shown: bool,
    tty: bool,
}

impl Progress {
    fn new(label: &str) -> Progress {
        use std::io::IsTerminal;
        Progress {
            label: label.to_string(),
            started: std::time::Instant::now(),
            last: None,
            shown: false,
            tty: std::io::stderr().is_terminal(),
        }
    }
    fn update(&mut self, done: f64) {
        let now = std::time::Instant::now();
        if now.duration_since(self.started).as_secs_f64() < 1.0 {
            return;
        }
        let every = if self.tty { 0.2 } else { 5.0 };
        if self.last.is_some_and(|t| now.duration_since(t).as_secs_f64() < every) {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let pct = (done * 100.0).clamp(0.0, 100.0);
        if self.tty {
            eprint!("\r  {}: {pct:.0}% of virtual time", self.label);
        } else {
            eprintln!("  {}: {pct:.0}% of virtual time", self.label);
        }
    }
    fn finish(&self) {
        if self.shown && self.tty {
            eprintln!("\r  {}: done{:20}", self.label, "");
        }
    }
}

/// Runs a scenario, writing its JSONL trace (if asked) to a temporary file
/// renamed to `path` only when the run and the trace are complete, and
/// explaining its anomalies when a report will show them.
fn traced(
    scenario: crate::scenario::Scenario,
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
fn simulate_shown(
    scenario: crate::scenario::Scenario,
    label: &str,
    quiet: bool,
) -> Result<Outcome, crate::world::RunError> {
    if quiet {
        return crate::simulate(scenario);
    }
    let mut p = Progress::new(label);
    let out = crate::simulate_with_progress(scenario, &mut |d| p.update(d));
    p.finish();
    out
}

fn load(file: &Path) -> Result<Loaded, ExitCode> {
    match load_file(file) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            Ok(loaded)
        }
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(2))
        }
    }
}

fn run(
    file: &Path,
    seed: Option<u64>,
    out: Option<&Path>,
    json: bool,
    max_events: Option<u64>,
    trace: Option<&Path>,
) -> ExitCode {
    let mut scenario = match load(file) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    if let Some(m) = max_events {
        scenario.max_events = m;
    }
    let label = scenario.name.clone();
    let outcome = traced(scenario, &label, json, trace, out.is_some());
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let s = &outcome.summary;
    if let Some(dir) = out {
        if let Err(e) = folder::write(dir, &outcome) {
            eprintln!("error: cannot write the report to `{}`: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    if json {
        print!("{}", folder::summary_json(s));
    } else {
        print!("{}", table::render(s));
        if let Some(dir) = out {
            println!("\n  report written to {}", dir.display());
        }
    }
    if let Some(diff) = table::render_failures(s) {
        eprint!("{diff}");
        eprintln!("  replay: streamsim run {} --seed {}", file.display(), s.seed);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn compare_cmd(file: &Path, names: &[String], seed: Option<u64>, out: Option<&Path>) -> ExitCode {
    let mut presets = Vec::new();
    for n in names {
        match Semantics::ALL.iter().find(|s| s.name() == n.trim()) {
            Some(s) => presets.push(*s),
            None => {
                let all: Vec<&str> = Semantics::ALL.iter().map(|s| s.name()).collect();
                eprintln!("error: unknown semantics `{}`\n  hint: choose from {}", n.trim(), all.join(", "));
                return ExitCode::from(2);
            }
        }
    }
    if presets.is_empty() {
        presets =
            vec![Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::EffectivelyOnce, Semantics::ExactlyOnce];
    }
    let mut runs: Vec<(String, Outcome)> = Vec::new();
    for sem in presets {
        let loaded = match load_file_with(file, Some(sem)) {
            Ok(l) => l,
            Err(e) => {
                // A preset the scenario cannot take (e.g. transactions on Kinesis) is left out.
                eprintln!("{}: left out: {e}", sem.name());
                continue;
            }
        };
        let mut sc = loaded.scenario;
        if let Some(seed) = seed {
            sc.seed = seed;
        }
        match simulate_shown(sc, sem.name(), false) {
            Ok(o) => runs.push((sem.name().to_string(), o)),
            Err(e) => {
                eprintln!("error: {} under {}: {e}", file.display(), sem.name());
                return ExitCode::from(2);
            }
        }
    }
    if runs.is_empty() {
        eprintln!("error: {}: no semantics could run", file.display());
        return ExitCode::from(2);
    }
    print!("{}", compare::table(&runs));
    if let Some(dir) = out {
        if let Err(e) = compare::write(dir, &runs) {
            eprintln!("error: cannot write the report to `{}`: {e}", dir.display());
            return ExitCode::from(2);
        }
        println!("\n  report written to {} (open index.html)", dir.display());
    }
    ExitCode::SUCCESS
}

/// The scenario files named by `paths`: files as given, directories' `.yaml` files sorted.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read directory `{}`: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("no .yaml scenario files in `{}`", p.display()));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn check(paths: &[PathBuf], out: Option<&Path>) -> ExitCode {
    let files = match scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut failed, mut broken) = (0, 0);
    for file in &files {
        let sc = match load(file) {
            Ok(l) => l.scenario,
            Err(_) => {
                broken += 1;
                continue;
            }
        };
        let name = sc.name.clone();
        let o = match traced(sc, &name, false, None, out.is_some()) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                broken += 1;
                continue;
            }
        };
        let s = &o.summary;
        let bad: Vec<_> = s.expectations.iter().filter(|e| !e.pass).collect();
        if bad.is_empty() {
            println!("pass  {name:<28} {} expectations, {} events", s.expectations.len(), s.events);
        } else {
            failed += 1;
            println!("FAIL  {name:<28} {} of {} expectations", bad.len(), s.expectations.len());
            for e in bad {
                println!("        {}: expected {}, actual {}", e.name, e.expected, e.actual);
            }
            println!("        replay: streamsim run {} --seed {}", file.display(), s.seed);
        }
        if let Some(dir) = out {
            let target = dir.join(&name);
            if let Err(e) = folder::write(&target, &o) {
                eprintln!("error: cannot write the report to `{}`: {e}", target.display());
                broken += 1;
            }
        }
    }
    println!(
        "\n{} scenarios: {} passed, {} failed, {} could not run",
        files.len(),
        files.len() - failed - broken,
        failed,
        broken
    );
    if broken > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `A..B` (B excluded) or `A..=B`, as a half-open range.
fn parse_seeds(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--seeds `{text}`: expected a range like `0..1000` or `0..=999`");
    let (a, b, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => text.split_once("..").map(|(a, b)| (a, b, false)).ok_or_else(bad)?,
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive { b.checked_add(1).ok_or_else(bad)? } else { b };
    if end <= a {
        return Err(format!("--seeds `{text}` is empty"));
    }
    Ok((a, end))
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard `{text}`: expected K/N with 1 <= K <= N, like `2/4`");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn sweep(file: &Path, seeds: &str, jobs: Option<usize>, shard: Option<&str>, json: bool) -> ExitCode {
    use crate::report::sweep::{shard_seeds, SeedResult, SweepResult};
    use indicatif::{ProgressBar, ProgressStyle};
    use rayon::prelude::*;

    let parsed = parse_seeds(seeds).and_then(|(a, b)| Ok((a, b, shard.map(parse_shard).transpose()?)));
    let (from, to, shard) = match parsed {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let range = match shard {
        Some((k, n)) => shard_seeds(from, to, k, n),
        None => from..to,
    };
    let base = match load(file) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start {} threads: {e}", jobs.unwrap_or(0));
            return ExitCode::from(2);
        }
    };
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
    let runs = match results {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let result = SweepResult { scenario: base.name.clone(), file: file.display().to_string(), runs };
    print_sweep(&result, json)
}

fn print_sweep(result: &crate::report::sweep::SweepResult, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string_pretty(result) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", crate::report::sweep::report(result));
    }
    if result.runs.iter().any(|r| !r.pass) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn sweep_merge(files: &[PathBuf], json: bool) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", f.display());
                return ExitCode::from(2);
            }
        };
        match serde_json::from_str(&text) {
            Ok(p) => parts.push(p),
            Err(e) => {
                eprintln!("error: `{}` is not the JSON of `streamsim sweep --json`: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    match crate::report::sweep::merge(parts) {
        Ok(all) => print_sweep(&all, json),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn validate(file: &Path) -> ExitCode {
    let loaded = match load(file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let sc = &loaded.scenario;
    let producers: u32 = sc.producers.iter().map(|p| p.instances).sum();
    let consumers: u32 = sc.consumers.iter().map(|c| c.instances).sum();
    let partitions: u32 = sc.topics.iter().map(|t| t.partitions).sum();
    println!(
        "{}: ok: scenario `{}`, {} brokers, {} topics ({} partitions), {} producers, {} consumers, {} faults, {} expectations, {} warnings",
        file.display(),
        sc.name,
        sc.brokers,
        sc.topics.len(),
        partitions,
        producers,
        consumers,
        sc.faults.len(),
        sc.expect.len(),
        loaded.warnings.len()
    );
    ExitCode::SUCCESS
}
