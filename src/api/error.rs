//! Why a scenario did not load or a run did not finish.

use std::fmt;

/// Why a scenario did not load, an override did not apply, or a run stopped.
///
/// It prints as the `streamsim` command prints the same error: a load error names the file,
/// line, column and field, with a hint where one helps
/// (`error: x.yaml:14:7: unknown field `ack` in producers[0].config`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The scenario (or an override written over it) did not load.
    #[non_exhaustive]
    Load {
        /// The file as named in messages (the override's flag, e.g.
        /// `--producer-property acks=2`, when the error is about an override).
        file: String,
        /// 1-based; 0 when the error is about the whole file (e.g. unreadable).
        line: usize,
        /// 1-based, in characters; 0 with `line` 0.
        column: usize,
        /// The field's path, e.g. `producers[0].config.acks`; empty for the whole file.
        field: String,
        /// What is wrong.
        message: String,
        /// What to do about it, when streamsim knows.
        hint: Option<String>,
    },
    /// An override is not `KEY=VALUE` with a key.
    Override(String),
    /// The run stopped early: an event, queue or memory limit (the message names the
    /// scenario field that raises it).
    #[non_exhaustive]
    Run {
        /// The scenario's file name, as given when it was loaded.
        file: String,
        /// Why the run stopped.
        message: String,
    },
    /// The trace could not be written.
    Trace(std::io::Error),
}

impl From<crate::scenario::LoadError> for Error {
    fn from(e: crate::scenario::LoadError) -> Error {
        Error::Load { file: e.file, line: e.line, column: e.column, field: e.field, message: e.message, hint: e.hint }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load { file, line, column, message, hint, .. } => {
                if *line == 0 {
                    write!(f, "error: {file}: {message}")?;
                } else {
                    write!(f, "error: {file}:{line}:{column}: {message}")?;
                }
                match hint {
                    Some(h) => write!(f, "\n  hint: {h}"),
                    None => Ok(()),
                }
            }
            Error::Override(m) => write!(f, "error: {m}"),
            Error::Run { file, message } => write!(f, "error: {file}: {message}"),
            Error::Trace(e) => write!(f, "error: cannot write the trace: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Trace(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library prints a load error exactly as `LoadError` (the command line's text) does.
    #[test]
    fn a_load_error_prints_as_the_command_line_prints_it() {
        let e = crate::scenario::load_str("name: x\nduration: 5q\n", "x.yaml").unwrap_err();
        let cli_text = e.to_string();
        assert_eq!(Error::from(e).to_string(), cli_text);
        assert!(cli_text.starts_with("error: x.yaml:2:"), "{cli_text}");
    }
}
