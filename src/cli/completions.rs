//! `streamsim completions SHELL`: the shell's completion script, from the same clap
//! definition the command line parses with (so it never lists a flag that does not exist).

use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::cli::error::CliError;
use crate::cli::output::out;

pub fn print(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "streamsim", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(())
}
