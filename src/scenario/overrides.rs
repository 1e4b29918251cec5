//! Command-line overrides, as Kafka's CLI tools spell them: `--producer-property K=V`,
//! `--consumer-property K=V`, `--topic-config K=V`, `--broker-config K=V` (each for every
//! producer, group, topic or the brokers) and `--set FIELD=VALUE` (a top-level scenario field).
//!
//! An override is written into the scenario's YAML tree before it is decoded, so it goes
//! through exactly the checks a value in the file goes through. Every node it adds carries a
//! position past any real line ([`FLAG_LINE`] + its index), so an error about it names the
//! flag instead of a place in the file.

use super::yaml::{self, Node, Pos, Value};

/// Positions at or past this line belong to the override of index `line - FLAG_LINE`.
pub(crate) const FLAG_LINE: usize = usize::MAX / 2;

/// Which flag an override came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverrideKind {
    Producer,
    Consumer,
    Topic,
    Broker,
    Set,
}

impl OverrideKind {
    /// The flag, as typed: `--producer-property`.
    pub fn flag(self) -> &'static str {
        match self {
            OverrideKind::Producer => "--producer-property",
            OverrideKind::Consumer => "--consumer-property",
            OverrideKind::Topic => "--topic-config",
            OverrideKind::Broker => "--broker-config",
            OverrideKind::Set => "--set",
        }
    }
}

/// One `K=V` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub kind: OverrideKind,
    pub key: String,
    pub value: String,
}

impl Override {
    /// Splits `K=V` at the first `=`; the key must not be empty.
    pub fn parse(kind: OverrideKind, text: &str) -> Result<Override, String> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok(Override { kind, key: k.trim().to_string(), value: v.trim().to_string() })
            }
            _ => Err(format!("expected KEY=VALUE, e.g. `{} {}`", kind.flag(), example(kind))),
        }
    }

    /// How the override reads in messages and reports: `--producer-property acks=1`.
    pub fn flag_text(&self) -> String {
        format!("{} {}={}", self.kind.flag(), self.key, self.value)
    }
}

fn example(kind: OverrideKind) -> &'static str {
    match kind {
        OverrideKind::Producer => "acks=all",
        OverrideKind::Consumer => "enable.auto.commit=false",
        OverrideKind::Topic => "min.insync.replicas=2",
        OverrideKind::Broker => "unclean.leader.election.enable=false",
        OverrideKind::Set => "duration=30s",
    }
}

/// Every override of one command line, in the order given (a later one wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides(pub Vec<Override>);

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The override a flag position belongs to.
    pub(crate) fn at(&self, pos: Pos) -> Option<&Override> {
        pos.line.checked_sub(FLAG_LINE).and_then(|i| self.0.get(i))
    }

    /// Writes every override into the tree.
    pub(crate) fn apply(&self, root: &mut Node) {
        for (i, o) in self.0.iter().enumerate() {
            let pos = Pos { line: FLAG_LINE + i, column: 1 };
            let value = value_node(o, pos);
            let Value::Map(top) = &mut root.value else { return };
            match o.kind {
                OverrideKind::Set => put(top, &o.key, value, pos),
                OverrideKind::Broker => {
                    if let Some(m) = child_map(top, "broker_config", pos) {
                        put(m, &o.key, value, pos)
                    }
                }
                OverrideKind::Producer => each_config(top, "producers", &o.key, &value, pos),
                OverrideKind::Consumer => each_config(top, "consumers", &o.key, &value, pos),
                OverrideKind::Topic => each_config(top, "topics", &o.key, &value, pos),
            }
        }
    }
}

/// A property's value is a plain scalar, as if written unquoted in the file; `--set` takes
/// any YAML (`--set faults=[]`), every node of it at the flag's position.
fn value_node(o: &Override, pos: Pos) -> Node {
    let plain = Node { pos, value: Value::Scalar { text: o.value.clone(), plain: true } };
    if o.kind != OverrideKind::Set {
        return plain;
    }
    match yaml::parse_document(&o.value) {
        Ok(Some(doc)) => {
            let mut n = doc.root;
            reposition(&mut n, pos);
            n
        }
        _ => plain,
    }
}

fn reposition(n: &mut Node, pos: Pos) {
    n.pos = pos;
    match &mut n.value {
        Value::Scalar { .. } => {}
        Value::Seq(items) => items.iter_mut().for_each(|i| reposition(i, pos)),
        Value::Map(pairs) => pairs.iter_mut().for_each(|(k, v)| {
            reposition(k, pos);
            reposition(v, pos);
        }),
    }
}

fn key_text(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// Sets `key` in a mapping: the file's entry is replaced (key and value then point at the
/// flag), or a new one is added.
fn put(pairs: &mut Vec<(Node, Node)>, key: &str, value: Node, pos: Pos) {
    let key_node = Node { pos, value: Value::Scalar { text: key.to_string(), plain: true } };
    match pairs.iter_mut().find(|(k, _)| key_text(k) == Some(key)) {
        Some(pair) => *pair = (key_node, value),
        None => pairs.push((key_node, value)),
    }
}

/// The mapping under `key`, made (or made a mapping, from null) if needed; None when the
/// file has something else there (the decoder then reports the file's own error).
fn child_map<'n>(pairs: &'n mut Vec<(Node, Node)>, key: &str, pos: Pos) -> Option<&'n mut Vec<(Node, Node)>> {
    let i = match pairs.iter().position(|(k, _)| key_text(k) == Some(key)) {
        Some(i) => i,
        None => {
            let k = Node { pos, value: Value::Scalar { text: key.to_string(), plain: true } };
            pairs.push((k, Node { pos, value: Value::Map(Vec::new()) }));
            pairs.len() - 1
        }
    };
    let node = &mut pairs.get_mut(i)?.1;
    if node.is_null() {
        *node = Node { pos, value: Value::Map(Vec::new()) };
    }
    match &mut node.value {
        Value::Map(inner) => Some(inner),
        _ => None,
    }
}

/// Sets `key` in the `config:` of every item of the list under `list_key`.
fn each_config(top: &mut [(Node, Node)], list_key: &str, key: &str, value: &Node, pos: Pos) {
    let Some((_, list)) = top.iter_mut().find(|(k, _)| key_text(k) == Some(list_key)) else { return };
    let Value::Seq(items) = &mut list.value else { return };
    for item in items {
        let Value::Map(fields) = &mut item.value else { continue };
        if let Some(m) = child_map(fields, "config", pos) {
            put(m, key, value.clone(), pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_at_the_first_equals_sign() {
        let o = Override::parse(OverrideKind::Producer, "transactional.id=a=b").unwrap();
        assert_eq!((o.key.as_str(), o.value.as_str()), ("transactional.id", "a=b"));
        assert!(Override::parse(OverrideKind::Set, "=3").is_err());
        assert!(Override::parse(OverrideKind::Set, "seed").is_err());
    }
}
