//! How a decoding error or warning is built: a position, the field path it
//! is about (`producers[0].config.acks`), a message and maybe a hint.

use super::super::suggest::closest;
use super::super::yaml::{Node, Pos};

/// An error before it is given a file name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub pos: Pos,
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub(super) fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// A warning before it is given a file name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Note {
    pub pos: Pos,
    pub field: String,
    pub message: String,
}

pub(super) type R<T> = Result<T, Problem>;

pub(super) fn problem(pos: Pos, field: &str, message: impl Into<String>) -> Problem {
    Problem { pos, field: field.to_string(), message: message.into(), hint: None }
}

/// "field: expected X, found Y", at the value.
pub(super) fn type_error(node: &Node, field: &str, expected: &str) -> Problem {
    problem(node.pos, field, format!("{field}: expected {expected}, found {}", node.describe()))
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// "in producers[0]" or "at the top level".
pub(super) fn place(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in {path}")
    }
}

pub(super) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}
