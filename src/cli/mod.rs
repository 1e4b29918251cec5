//! The command line: `run`, `compare`, `check`, `sweep`, `explain`,
//! `validate`, `verify`, `incidents` and the rest, one file each. Exit codes: 0 ok, 1 an expectation failed,
//! 2 bad input, usage or I/O error (see [`error`]).

mod args;
mod audit;
mod check;
mod compare;
mod completions;
mod consumer_groups;
pub mod error;
mod explain;
pub mod incidents;
mod load;
mod minimize;
mod output;
mod outputs;
pub mod overrides;
mod pin;
mod pin_diff;
mod preset_overrides;
mod progress;
mod run;
pub mod style;
mod sweep;
mod timeline;
mod validate;
mod variant;
mod verify;

use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command};
use error::{CliError, EXIT_ERROR};
use output::errln;

/// Entry point used by `main`: runs the command and prints its error once.
/// A stdout that failed other than by a closed pipe (a full disk) turns
/// success into exit 2, once the work is done.
pub fn main() -> ExitCode {
    let result = run();
    let stdout = output::finish().map(|e| CliError::io("cannot write to stdout", e));
    match (result, stdout) {
        (Err(e), _) | (Ok(_), Some(e)) => {
            errln!("{}", style::error_report(&e.report()));
            e.exit_code()
        }
        (Ok(code), None) => code,
    }
}

fn run() -> Result<ExitCode, CliError> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints its own usage errors and help; --help exits 0.
            let code = if e.use_stderr() { ExitCode::from(EXIT_ERROR) } else { ExitCode::SUCCESS };
            let _ = e.print();
            return Ok(code);
        }
    };
    set_globals(&cli);
    dispatch(cli)
}

/// What every command reads from process-wide settings: colour, quiet, the memory budget and
/// the config overrides (read while scenarios load).
fn set_globals(cli: &Cli) {
    style::set(cli.color);
    style::set_quiet(cli.quiet);
    if let Command::Run { max_memory: Some(m), .. }
    | Command::Check { max_memory: Some(m), .. }
    | Command::Sweep { max_memory: Some(m), .. }
    | Command::Explain { max_memory: Some(m), .. } = &cli.command
    {
        crate::world::budget::set_max_memory(*m);
    }
    if let Command::Run { overrides, .. }
    | Command::Compare { overrides, .. }
    | Command::Sweep { overrides, .. }
    | Command::Explain { overrides, .. }
    | Command::Validate { overrides, .. } = &cli.command
    {
        overrides::set_current(overrides.overrides());
    }
}

/// Runs the parsed command.
fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    let done = |r: Result<(), CliError>| r.map(|()| ExitCode::SUCCESS);
    match cli.command {
        Command::Run { file, seed, out, json, max_events, trace, .. } => done(run::run(run::RunArgs {
            file: &file,
            seed,
            out: out.as_deref(),
            json,
            max_events,
            trace: trace.as_deref(),
        })),
        Command::Compare { files, semantics, variants, no_baseline, seed, out, json, .. } => {
            done(compare::compare(compare::CompareArgs {
                files: &files,
                semantics: &semantics,
                variants: &variants,
                no_baseline,
                seed,
                out: out.as_deref(),
                json,
                quiet: cli.quiet,
            }))
        }
        Command::Check { paths, out, junit, require_expect, json, .. } => check::check(check::CheckArgs {
            paths: &paths,
            out: out.as_deref(),
            junit: junit.as_deref(),
            require_expect,
            json,
        }),
        c @ Command::Sweep { .. } => sweep_command(c),
        c @ Command::Explain { .. } => done(explain_command(c)),
        Command::Validate { file, effective, json, .. } => done(validate::validate(&file, effective, json)),
        Command::Audit(a) => done(audit::audit(a)),
        Command::Completions { shell } => done(completions::print(shell)),
        Command::Pin { files, seeds, check } => {
            pin::pin(pin::PinArgs { files: &files, seeds: seeds.as_deref(), check })
        }
        Command::Verify { trace, json } => done(verify::verify(&trace, json)),
        Command::Incidents { dir, json } => done(incidents::incidents(dir.as_deref(), json)),
        Command::ConsumerGroups { file, at, seed } => {
            done(consumer_groups::consumer_groups(&file, at.as_deref(), seed))
        }
        Command::Timeline { file, seed, perfetto, record } => done(timeline::timeline(timeline::TimelineArgs {
            file: &file,
            seed,
            perfetto: perfetto.as_deref(),
            record: record.as_deref(),
        })),
    }
}

/// `sweep`: a seed range, or `--merge` of shard results.
fn sweep_command(c: Command) -> Result<ExitCode, CliError> {
    let Command::Sweep { file, seeds, jobs, shard, shards, out, json, merge, partial, .. } = c else {
        unreachable!("dispatch passes sweep only")
    };
    match file {
        Some(file) if merge.is_empty() => sweep::sweep(sweep::SweepArgs {
            file: &file,
            seeds: seeds.as_deref().unwrap_or(""),
            jobs,
            shard: shard.as_deref(),
            shards,
            out: out.as_deref(),
            json,
        }),
        _ => sweep::merge(&merge, json, partial),
    }
}

/// `explain`: the stories, or `--minimize`.
fn explain_command(c: Command) -> Result<(), CliError> {
    let Command::Explain { file, seed, kind, record, limit, json, minimize, out, .. } = c else {
        unreachable!("dispatch passes explain only")
    };
    if minimize {
        return minimize::minimize(&file, seed, out.as_deref());
    }
    explain::explain(explain::ExplainArgs {
        file: &file,
        seed,
        kind: kind.as_deref(),
        record: record.as_deref(),
        limit,
        json,
    })
}
