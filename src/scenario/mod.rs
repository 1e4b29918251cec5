//! Scenario loading: YAML text → validated [`Scenario`], or one error that
//! names the file, line, column and field, with a hint where one helps.
//!
//! ```text
//! error: scenarios/x.yaml:14:7: unknown field `ack` in producers[0].config
//!   hint: did you mean `acks`?
//! ```
//!
//! Layers: `yaml` turns text into a tree that remembers positions (libyaml
//! events), `decode` checks and resolves it (presets, Kafka defaults and
//! rules), `units` parses durations and rates exactly, `config_names` knows
//! Kafka's config names, `suggest` finds the closest name for a typo. The
//! loader never writes anything and never panics on any input.

pub(crate) mod config_names;
mod decode;
pub mod edit;
pub mod effective;
pub mod expect_edit;
mod input;
pub mod limits;
pub mod model;
pub mod overrides;
pub mod presets;
pub(crate) mod suggest;
pub(crate) mod units;
mod yaml;

use std::fmt;
use std::path::Path;

pub use decode::instance_name;
pub use model::*;
pub use overrides::{Override, OverrideKind, Overrides};
pub use presets::apply_preset;
pub(crate) use yaml::clip as clip_text;

/// A scenario that loaded, and the warnings it raised.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub scenario: Scenario,
    pub warnings: Vec<Warning>,
}

/// Something accepted but worth saying, e.g. a real Kafka config that
/// streamsim does not model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Path of the field, e.g. `producers[0].config.bootstrap.servers`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "warning: {}: {}", self.file, self.message)
        } else {
            write!(f, "warning: {}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

/// Why a scenario did not load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 only when the file could not be read at all.
    pub line: usize,
    /// 1-based, in characters; 0 with `line` 0.
    pub column: usize,
    /// Path of the offending field, e.g. `topics[1].replication.factor`;
    /// empty for errors about the whole file (unreadable, invalid YAML).
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "error: {}: {}", self.file, self.message)?;
        } else {
            write!(f, "error: {}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Reads and loads a scenario file (`-` reads standard input). I/O errors
/// become a [`LoadError`] with line 0.
pub fn load_file(path: &Path) -> Result<Loaded, LoadError> {
    load_file_with(path, None)
}

/// Loads a scenario from text; `file` names it in messages.
pub fn load_str(source: &str, file: &str) -> Result<Loaded, LoadError> {
    load_str_with(source, file, None)
}

/// Loads a scenario from bytes as read from a file: they must be UTF-8.
pub fn load_bytes(bytes: &[u8], file: &str) -> Result<Loaded, LoadError> {
    load_bytes_with(bytes, file, None)
}

/// [`load_file`], with `semantics` (if given) in place of the file's own
/// `semantics:` preset (what `streamsim compare` needs). Explicit configs in
/// the file still win over the preset.
pub fn load_file_with(path: &Path, semantics: Option<Semantics>) -> Result<Loaded, LoadError> {
    let (file, bytes) = input::read(path)?;
    load_bytes_with(&bytes, &file, semantics)
}

/// [`load_bytes`], with `semantics` (if given) in place of the file's own `semantics:`.
pub fn load_bytes_with(bytes: &[u8], file: &str, semantics: Option<Semantics>) -> Result<Loaded, LoadError> {
    input::check_size(bytes.len(), file)?;
    match std::str::from_utf8(bytes) {
        Ok(source) => load_str_with(source, file, semantics),
        Err(e) => {
            let valid = e.valid_up_to();
            // `valid` bytes are UTF-8 by definition; the lossy view never replaces any.
            let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let pos = yaml::Lines::new(&prefix).end();
            Err(LoadError {
                file: file.to_string(),
                line: pos.line,
                column: pos.column,
                field: String::new(),
                message: "the file is not valid UTF-8".to_string(),
                hint: Some("save the scenario as UTF-8 text".to_string()),
            })
        }
    }
}

/// [`load_str`], with `semantics` (if given) in place of the file's own `semantics:`.
pub fn load_str_with(source: &str, file: &str, semantics: Option<Semantics>) -> Result<Loaded, LoadError> {
    load_str_overridden(source, file, semantics, &Overrides::default())
}

/// [`load_file_with`], then the command line's overrides on top of the file.
pub fn load_file_overridden(
    path: &Path,
    semantics: Option<Semantics>,
    overrides: &Overrides,
) -> Result<Loaded, LoadError> {
    let (file, bytes) = input::read(path)?;
    let source = std::str::from_utf8(&bytes);
    match source {
        Ok(source) => load_str_overridden(source, &file, semantics, overrides),
        Err(_) => load_bytes_with(&bytes, &file, semantics),
    }
}

/// Reads a scenario file's text (as [`load_file`] reads it), for what the file wrote.
pub fn read_text(path: &Path) -> Result<(String, String), LoadError> {
    let (file, bytes) = input::read(path)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok((file, text))
}

/// [`load_str_with`], with `overrides` written over the file's values; an error or warning
/// about an override names its flag in place of a file position.
pub fn load_str_overridden(
    source: &str,
    file: &str,
    semantics: Option<Semantics>,
    overrides: &Overrides,
) -> Result<Loaded, LoadError> {
    input::check_size(source.len(), file)?;
    // A byte-order mark is not part of the text: left in, it shifts line 1.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let result = decode::load(source, semantics, overrides);
    let lines = yaml::Lines::new(source);
    // (file, line, column) for a position: the flag, or a place in the file.
    let place = |pos: yaml::Pos| match overrides.at(pos) {
        Some(o) => (o.flag_text(), 0, 0),
        None => {
            let pos = lines.clamp(pos);
            (file.to_string(), pos.line, pos.column)
        }
    };
    match result {
        Ok((scenario, notes)) => {
            let warnings = notes
                .into_iter()
                .map(|n| {
                    let (file, line, column) = place(n.pos);
                    Warning { file, line, column, field: n.field, message: n.message }
                })
                .collect();
            Ok(Loaded { scenario, warnings })
        }
        Err(p) => {
            let (file, line, column) = place(p.pos);
            Err(LoadError { file, line, column, field: p.field, message: p.message, hint: p.hint })
        }
    }
}

/// The name faults and reports use for an entity: `broker-2`, `web-0`, `analytics-1`.
pub fn target_name(scenario: &Scenario, target: Target) -> String {
    match target {
        Target::Broker(b) => format!("broker-{b}"),
        Target::Producer(p, i) => match scenario.producers.get(p) {
            Some(spec) => instance_name(&spec.name, i),
            None => format!("producer{p}-{i}"),
        },
        Target::Consumer(c, i) => match scenario.consumers.get(c) {
            Some(spec) => instance_name(&spec.group, i),
            None => format!("consumer{c}-{i}"),
        },
    }
}

#[cfg(test)]
mod tests;
