//! Reading the positioned YAML tree: mappings with unique, known keys, and lists.

use std::collections::HashMap;

use super::super::suggest::one_of;
use super::super::yaml::{clip, Node, Pos, Value};
use super::problem::{did_you_mean, join, place, problem, type_error, Problem, R};

/// A key of a mapping, with the value under it.
pub(super) struct Entry<'n> {
    pub key: &'n str,
    pub key_pos: Pos,
    pub value: &'n Node,
    /// The full path of the value, e.g. `producers[0].config.acks`.
    pub field: String,
}

/// A mapping whose keys are known to be scalars and unique.
pub(super) struct Map<'n> {
    pub path: String,
    pub pos: Pos,
    pub entries: Vec<Entry<'n>>,
}

/// Reads `node` as a mapping (null reads as an empty one).
pub(super) fn mapping<'n>(node: &'n Node, path: &str, expected: &str) -> R<Map<'n>> {
    let pairs = match &node.value {
        Value::Map(pairs) => pairs,
        _ if node.is_null() => return Ok(Map { path: path.to_string(), pos: node.pos, entries: Vec::new() }),
        _ => {
            let what = if path.is_empty() { "the file".to_string() } else { path.to_string() };
            return Err(problem(node.pos, path, format!("{what}: expected {expected}, found {}", node.describe())));
        }
    };
    let mut entries: Vec<Entry<'n>> = Vec::with_capacity(pairs.len());
    let mut seen: HashMap<&'n str, Pos> = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        let Value::Scalar { text: key, .. } = &k.value else {
            return Err(problem(
                k.pos,
                path,
                format!("a key {} is {}; keys must be plain names", place(path), k.describe()),
            ));
        };
        let field = join(path, key);
        if let Some(first) = seen.get(key.as_str()) {
            return Err(problem(k.pos, &field, format!("duplicate key `{}` {}", clip(key), place(path)))
                .hint(format!("the first `{}` is at line {}; keep one", clip(key), first.line)));
        }
        seen.insert(key.as_str(), k.pos);
        entries.push(Entry { key, key_pos: k.pos, value: v, field });
    }
    Ok(Map { path: path.to_string(), pos: node.pos, entries })
}

/// A list (null reads as an empty one).
pub(super) fn list<'n>(node: &'n Node, field: &str, expected: &str) -> R<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Ok(items),
        _ if node.is_null() => Ok(&[]),
        _ => Err(type_error(node, field, expected)),
    }
}

fn unknown_field(e: &Entry<'_>, path: &str, allowed: &[&str]) -> Problem {
    let message = if path.is_empty() {
        format!("unknown top-level field `{}`", clip(e.key))
    } else {
        format!("unknown field `{}` in {path}", clip(e.key))
    };
    let hint = if e.key == "<<" {
        "YAML merge keys (`<<: *anchor`) are not supported; write the fields out".to_string()
    } else {
        did_you_mean(e.key, allowed.iter().copied()).unwrap_or_else(|| format!("expected {}", one_of(allowed)))
    };
    problem(e.key_pos, &e.field, message).hint(hint)
}

impl<'n> Map<'n> {
    /// Fails on the first key not in `allowed`.
    pub fn known(&self, allowed: &[&str]) -> R<()> {
        match self.entries.iter().find(|e| !allowed.contains(&e.key)) {
            Some(e) => Err(unknown_field(e, &self.path, allowed)),
            None => Ok(()),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry<'n>> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The value under `key`, unless it is missing or null.
    pub fn value(&self, key: &str) -> Option<&'n Node> {
        self.get(key).map(|e| e.value).filter(|v| !v.is_null())
    }

    pub fn missing(&self, key: &str, example: &str) -> Problem {
        let message = if self.path.is_empty() {
            format!("missing top-level field `{key}`")
        } else {
            format!("missing field `{key}` in {}", self.path)
        };
        problem(self.pos, &join(&self.path, key), message).hint(format!("add e.g. `{example}`"))
    }

    pub fn require(&self, key: &str, example: &str) -> R<&'n Node> {
        match self.get(key) {
            Some(e) if e.value.is_null() => Err(problem(e.key_pos, &e.field, format!("{}: has no value", e.field))
                .hint(format!("write e.g. `{example}`"))),
            Some(e) => Ok(e.value),
            None => Err(self.missing(key, example)),
        }
    }
}
