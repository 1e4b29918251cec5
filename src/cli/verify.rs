//! `streamsim verify`: the summary recomputed from a trace file alone
//! (`oracle::verify`), printed as `run` prints it.

use std::io::BufReader;
use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::output::out;
use crate::report::{folder, table};

pub fn verify(trace: &Path, json: bool) -> Result<(), CliError> {
    let name = trace.display().to_string();
    let result = if trace == Path::new("-") {
        quietly(|| crate::oracle::verify::verify(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(trace).map_err(|e| CliError::io(format!("cannot read `{name}`"), e))?;
        quietly(|| crate::oracle::verify::verify(BufReader::with_capacity(1 << 16, file)))
    };
    let s = result.map_err(|e| {
        CliError::input(format!("{name}:{}: {}", e.line, e.message))
            .hint("verify reads a trace written by `streamsim run FILE --trace TRACE.jsonl` (format v3)")
    })?;
    if json {
        out!("{}", folder::summary_json(&s));
    } else {
        out!("{}", table::render(&s));
    }
    match table::render_failures(&s) {
        Some(diff) => Err(CliError::ExpectationFailed { report: format!("{diff}  recomputed from {name}") }),
        None => Ok(()),
    }
}

/// Runs `f` with the panic message silenced: `verify` turns the oracle's
/// own assertions into a line-numbered error, and the user reads that once.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = f();
    std::panic::set_hook(hook);
    out
}
