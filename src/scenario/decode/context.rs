//! What the section decoders share: the warnings collected so far, the rule
//! for Kafka config names streamsim does not model, values written
//! explicitly in the file (with where), and where the preset was chosen.

use super::super::config_names::Section;
use super::super::model::Semantics;
use super::super::suggest::one_of;
use super::super::yaml::{clip, Pos};
use super::problem::{did_you_mean, problem, Note, R};
use super::tree::Entry;

/// The decoding context: the warnings raised so far.
pub(super) struct Cx {
    pub notes: Vec<Note>,
}

impl Cx {
    /// A config name that is not modelled in `section`: a warning if Kafka
    /// has it there, an error otherwise.
    pub fn other_config(&mut self, e: &Entry<'_>, path: &str, section: Section) -> R<()> {
        let key = e.key;
        if section.is_known(key) {
            self.notes.push(Note {
                pos: e.key_pos,
                field: e.field.clone(),
                message: format!(
                    "`{key}` is a real Kafka {} config that streamsim does not model; it is ignored",
                    section.noun()
                ),
            });
            return Ok(());
        }
        if let Some(other) = Section::ALL.iter().find(|s| **s != section && s.has(key)) {
            return Err(problem(
                e.key_pos,
                &e.field,
                format!("`{key}` in {path} is a Kafka {} config, not a {} config", other.noun(), section.noun()),
            )
            .hint(format!("move it to {}", other.home())));
        }
        let hint = did_you_mean(key, section.all_names()).unwrap_or_else(|| {
            format!(
                "streamsim models {}; other real Kafka {} configs are accepted with a warning",
                one_of(section.modelled()),
                section.noun()
            )
        });
        Err(problem(e.key_pos, &e.field, format!("unknown field `{}` in {path}", clip(key))).hint(hint))
    }
}

/// A value set explicitly in the file, with where it was written.
pub(super) struct Ex<T> {
    pub value: T,
    pub key: Pos,
    pub field: String,
}

pub(super) fn ex<T>(value: T, e: &Entry<'_>) -> Option<Ex<T>> {
    Some(Ex { value, key: e.key_pos, field: e.field.clone() })
}

/// Where an explicit value was written, if it was.
pub(super) fn set_at<T>(e: &Option<Ex<T>>) -> Option<(Pos, String)> {
    e.as_ref().map(|e| (e.key, e.field.clone()))
}

/// Where the `semantics:` preset was chosen (for errors that a preset causes).
#[derive(Clone, Copy)]
pub(super) struct Preset {
    pub semantics: Semantics,
    pub pos: Pos,
}
