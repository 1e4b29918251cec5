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
        Command::Run { file, seed, out, json, max_events } => run(&file, seed, out.as_deref(), json, max_events),
        Command::Compare { file, semantics, seed, out } => compare_cmd(&file, &semantics, seed, out.as_deref()),
        Command::Check { paths, out } => check(&paths, out.as_deref()),
        Command::Validate { file } => validate(&file),
    }
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

fn run(file: &Path, seed: Option<u64>, out: Option<&Path>, json: bool, max_events: Option<u64>) -> ExitCode {
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
    let outcome = match simulate_shown(scenario, &label, json) {
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
        let o = match simulate_shown(sc, &name, false) {
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
