//! Client configs as people write them, for `streamsim audit`: Java `.properties` files, the
//! `ProducerConfig values:` / `ConsumerConfig values:` dumps of client logs, librdkafka
//! `key=value` files (as kcat `-F` reads them) and Python dict literals (as passed to
//! `confluent_kafka.Producer({...})`).
//!
//! `dialect` reads the text into positioned `key = value` entries; `names` checks every name
//! against its client's (Java's from `scenario::config_names`, librdkafka's from its
//! CONFIGURATION.md) and translates them to the scenario's Java names.

mod dialect;
mod librdkafka_names;
pub mod names;

use std::path::Path;

use crate::scenario::LoadError;

pub use crate::scenario::Client;

/// How the file was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `key=value` / `key: value` lines, `#` and `!` comments (Java .properties, kcat -F).
    Properties,
    /// A Java client's `ProducerConfig values:` (or `ConsumerConfig values:`) log dump.
    LogDump(names::Role),
    /// `{'key': 'value', ...}`, as passed to confluent_kafka.
    PythonDict,
}

/// One `key = value` of the file, with where the key was written (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
    pub column: usize,
}

/// A config file read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    pub file: String,
    pub client: Client,
    pub dialect: Dialect,
    /// Producer, consumer or both, from the names it sets.
    pub role: names::Role,
    pub entries: Vec<Entry>,
}

/// Reads a config file; `client` (from `--client`) overrides the detection.
pub fn read_file(path: &Path, client: Option<Client>) -> Result<ClientConfig, LoadError> {
    let (file, text) = crate::scenario::read_text(path)?;
    read_str(&text, &file, client)
}

/// Reads config text; `file` names it in messages.
pub fn read_str(text: &str, file: &str, client: Option<Client>) -> Result<ClientConfig, LoadError> {
    let (dialect, entries) = dialect::parse(text, file)?;
    let client = client.unwrap_or_else(|| names::detect(dialect, &entries));
    for e in &entries {
        names::check(e, client, file)?;
    }
    let role = match dialect {
        Dialect::LogDump(role) => role,
        _ => names::role_of(&entries, client),
    };
    Ok(ClientConfig { file: file.to_string(), client, dialect, role, entries })
}

pub(crate) fn error(
    file: &str,
    line: usize,
    column: usize,
    field: &str,
    message: String,
    hint: Option<String>,
) -> LoadError {
    LoadError { file: file.to_string(), line, column, field: field.to_string(), message, hint }
}

#[cfg(test)]
mod tests;
