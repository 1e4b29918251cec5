//! The command line: `run` and `validate`. Exit codes: 0 ok, 1 an expectation
//! failed, 2 bad input or usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::report::{folder, table};
use crate::scenario::{load_file, Loaded};

#[derive(Parser, Debug)]
#[command(
    name = "streamsim",
    version,
    about = "Deterministic simulator of Kafka-style streaming failure modes",
    long_about = "streamsim replays a scenario (producers, brokers, consumer groups, sinks, \
faults) in virtual time from a seed, and reports what was produced, acknowledged, lost, \
duplicated and reordered. Same scenario + seed = the same run, byte for byte.",
    after_help = "Examples:\n  streamsim run scenarios/at-least-once.yaml\n  streamsim run scenarios/homework.yaml --seed 42 --json\n  streamsim run scenarios/at-most-once.yaml --out reports/at-most-once\n  streamsim validate my-scenario.yaml\n\nExit codes: 0 ok, 1 an `expect` failed, 2 bad input or usage."
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
        /// Write the report folder (summary.json, summary.md, timeseries.csv) here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print only the JSON summary on stdout.
        #[arg(long)]
        json: bool,
        /// Replace the scenario's cap on processed events.
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
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
        Command::Validate { file } => validate(&file),
    }
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
    let outcome = match crate::simulate(scenario) {
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
