//! A scenario file, loaded and validated.

use std::path::Path;

use super::Error;
use crate::scenario::{self as loader, Loaded, Overrides};

/// A scenario, loaded from YAML (docs/scenario-format.md) and validated.
///
/// Loading checks everything the `streamsim` command checks; a scenario that loads runs.
/// [`Simulation`](crate::Simulation) runs it, with overrides written over its text as the
/// command line's `--producer-property` and `--set` do.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The name messages give the file.
    file: String,
    /// The text as read: overrides are written into it and it is loaded again.
    text: String,
    loaded: Loaded,
}

impl Scenario {
    /// Reads and loads a scenario file.
    ///
    /// An unreadable file is an [`Error::Load`] with line 0.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, Error> {
        let path = path.as_ref();
        // The loader reads the bytes and reports a file that is not UTF-8 where it breaks;
        // once it loaded, the text is UTF-8 and is kept for overrides.
        let loaded = loader::load_file(path)?;
        let (file, text) = loader::read_text(path)?;
        Ok(Scenario { file, text, loaded })
    }

    /// Loads a scenario from its YAML text; `name` names it in error messages, as a file
    /// name would (`error: name:LINE:COLUMN: ...`).
    pub fn from_str(text: &str, name: &str) -> Result<Scenario, Error> {
        let loaded = loader::load_str(text, name)?;
        Ok(Scenario { file: name.to_string(), text: text.to_string(), loaded })
    }

    /// The scenario's `name:`.
    pub fn name(&self) -> &str {
        &self.loaded.scenario.name
    }

    /// The seed a run uses unless [`Simulation::seed`](crate::Simulation::seed) overrides it (`seed:`).
    pub fn seed(&self) -> u64 {
        self.loaded.scenario.seed
    }

    /// The name messages give the file: the path as given, or `from_str`'s `name`.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What the loader accepted but flags (e.g. a real Kafka config streamsim does not
    /// model), one line each, as the command line prints them on stderr.
    pub fn warnings(&self) -> Vec<String> {
        self.loaded.warnings.iter().map(|w| w.to_string()).collect()
    }

    /// The validated scenario, with `overrides` written over the file's values.
    pub(crate) fn resolved(&self, overrides: &Overrides) -> Result<loader::Scenario, Error> {
        if overrides.is_empty() {
            return Ok(self.loaded.scenario.clone());
        }
        let loaded = loader::load_str_overridden(&self.text, &self.file, None, overrides)?;
        Ok(loaded.scenario)
    }
}
