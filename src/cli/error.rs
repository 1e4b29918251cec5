//! The one error type of the command line, and the exit code each kind maps
//! to: 1 for a failed expectation, 2 for bad usage, bad input or an I/O
//! failure. Every command returns it, and `cli::main` prints it once.

use std::error::Error;
use std::fmt;
use std::io;
use std::process::ExitCode;

use crate::scenario::LoadError;

/// Exit code: every expectation held.
pub const EXIT_OK: u8 = 0;
/// Exit code: an `expect:` failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage, bad input, or an I/O error.
pub const EXIT_ERROR: u8 = 2;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum CliError {
    /// A flag or argument the command cannot use.
    Usage { message: String, hint: Option<String> },
    /// A scenario or input file that does not load or run.
    Input { message: String, hint: Option<String>, source: Option<Box<dyn Error + Send + Sync>> },
    /// Reading or writing a file failed.
    Io { message: String, hint: Option<String>, source: io::Error },
    /// The work was done and an expectation failed; `report` says which.
    ExpectationFailed { report: String },
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::Usage { message: message.into(), hint: None }
    }

    pub fn input(message: impl Into<String>) -> CliError {
        CliError::Input { message: message.into(), hint: None, source: None }
    }

    /// An input that failed for `source`'s reason, e.g. a run that hit its event limit.
    pub fn input_because(message: impl Into<String>, source: impl Into<Box<dyn Error + Send + Sync>>) -> CliError {
        CliError::Input { message: message.into(), hint: None, source: Some(source.into()) }
    }

    pub fn io(message: impl Into<String>, source: io::Error) -> CliError {
        CliError::Io { message: message.into(), hint: None, source }
    }

    /// The same error with a hint on what to do about it.
    pub fn hint(mut self, text: impl Into<String>) -> CliError {
        match &mut self {
            CliError::Usage { hint, .. } | CliError::Input { hint, .. } | CliError::Io { hint, .. } => {
                *hint = Some(text.into());
            }
            CliError::ExpectationFailed { .. } => {}
        }
        self
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::ExpectationFailed { .. } => EXIT_FAILED,
            _ => EXIT_ERROR,
        })
    }

    /// What the user reads on stderr: `error: ` and the message, each cause
    /// in turn after `: `, then the hint on its own line. No trailing newline.
    pub fn report(&self) -> String {
        let (message, hint) = match self {
            CliError::ExpectationFailed { report } => return report.clone(),
            CliError::Usage { message, hint }
            | CliError::Input { message, hint, .. }
            | CliError::Io { message, hint, .. } => (message, hint),
        };
        let mut text = format!("error: {message}");
        let mut cause = self.source();
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        if let Some(h) = hint {
            text.push_str(&format!("\n  hint: {h}"));
        }
        text
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage { message, .. } | CliError::Input { message, .. } | CliError::Io { message, .. } => {
                f.write_str(message)
            }
            CliError::ExpectationFailed { report } => f.write_str(report),
        }
    }
}

impl Error for CliError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CliError::Input { source: Some(s), .. } => Some(s.as_ref()),
            CliError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A scenario that does not load, located as the loader located it.
impl From<LoadError> for CliError {
    fn from(e: LoadError) -> CliError {
        let message = if e.line == 0 {
            format!("{}: {}", e.file, e.message)
        } else {
            format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
        };
        CliError::Input { message, hint: e.hint, source: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_message_cause_hint() {
        let e = CliError::io("cannot write `x`", io::Error::new(io::ErrorKind::NotFound, "gone")).hint("make it");
        assert_eq!(e.report(), "error: cannot write `x`: gone\n  hint: make it");
        assert_eq!(e.exit_code(), ExitCode::from(EXIT_ERROR));
        let f = CliError::ExpectationFailed { report: "lost: expected 0".into() };
        assert_eq!((f.report(), f.exit_code()), ("lost: expected 0".to_string(), ExitCode::from(EXIT_FAILED)));
    }

    #[test]
    fn a_load_error_prints_as_the_loader_prints_it() {
        let e = LoadError {
            file: "x.yaml".into(),
            line: 2,
            column: 1,
            field: "bogus".into(),
            message: "unknown top-level field `bogus`".into(),
            hint: Some("expected `name`".into()),
        };
        assert_eq!(CliError::from(e.clone()).report(), e.to_string());
        let unreadable = LoadError { line: 0, column: 0, hint: None, ..e };
        assert_eq!(CliError::from(unreadable.clone()).report(), unreadable.to_string());
    }
}
