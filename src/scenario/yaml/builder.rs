//! libyaml events → the tree, with the limits that keep hostile input cheap:
//! nesting depth, and the values and text the tree holds once aliases are
//! expanded.
//!
//! Every alias is expanded into a full copy of its anchor, and every anchor
//! keeps a copy of its node for later aliases, so both copies are charged
//! against the limits *before* they are made: a few kilobytes of nested
//! aliases cannot make the parser allocate gigabytes.

use std::collections::{BTreeMap, HashMap};

use super::events::Event;
use super::{clip, err, AliasUse, Node, Pos, Value, YamlError, TAG_PREFIX};
use crate::scenario::limits::{MAX_DEPTH, MAX_NODES, MAX_TEXT_BYTES};

/// What a node costs: values, and bytes of scalar text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    nodes: usize,
    bytes: usize,
}

impl Size {
    fn add(self, other: Size) -> Size {
        Size { nodes: self.nodes.saturating_add(other.nodes), bytes: self.bytes.saturating_add(other.bytes) }
    }
}

/// A collection being read, and the size of what it holds so far.
struct Frame {
    pos: Pos,
    anchor: Option<String>,
    kind: FrameKind,
    size: Size,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map { pairs: Vec<(Node, Node)>, key: Option<Node> },
}

/// An anchored node as written, and its size.
struct Anchor {
    node: Node,
    size: Size,
}

#[derive(Default)]
pub(super) struct Builder {
    stack: Vec<Frame>,
    pub root: Option<Node>,
    documents: usize,
    anchors: HashMap<String, Anchor>,
    /// Everything the builder holds: the tree with aliases expanded, and the anchors' copies.
    held: Size,
    /// Where each alias was used, by the position its copy now carries.
    pub aliases: BTreeMap<Pos, AliasUse>,
}

fn check_collection_tag(tag: &Option<String>, pos: Pos, kind: &str) -> Result<(), YamlError> {
    match tag.as_deref() {
        None => Ok(()),
        Some(t) if t == format!("{TAG_PREFIX}{kind}") => Ok(()),
        Some(t) => Err(unsupported_tag(t, pos)),
    }
}

fn unsupported_tag(tag: &str, pos: Pos) -> YamlError {
    YamlError {
        pos,
        message: format!("YAML tag `{}` is not supported here", clip(tag)),
        hint: Some("remove the tag; a scenario file needs no YAML tags".to_string()),
    }
}

/// Whether a tagged scalar is resolved from its text (`plain`) or is a string.
fn scalar_is_plain(tag: Option<&str>, plain: bool, pos: Pos) -> Result<bool, YamlError> {
    match tag {
        None => Ok(plain),
        // `!` is the non-specific tag: "treat as a string".
        Some("!") => Ok(false),
        Some(t) if t == format!("{TAG_PREFIX}str") => Ok(false),
        Some(t) if ["null", "bool", "int", "float"].iter().any(|k| t == format!("{TAG_PREFIX}{k}")) => Ok(true),
        Some(t) => Err(unsupported_tag(t, pos)),
    }
}

/// Gives every node of a copied subtree the alias's position (iteratively:
/// a deep tree cannot overflow the stack).
fn relocate(node: &mut Node, pos: Pos) {
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        n.pos = pos;
        match &mut n.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => todo.extend(items.iter_mut()),
            Value::Map(pairs) => {
                for (k, v) in pairs {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
}

impl Builder {
    /// Charges `size` against the limits before it is allocated; `alias`
    /// names the alias whose expansion it is, if it is one.
    fn charge(&mut self, size: Size, pos: Pos, alias: Option<(&str, Pos)>) -> Result<(), YamlError> {
        let held = self.held.add(size);
        let over = if held.nodes > MAX_NODES {
            format!("{MAX_NODES} values")
        } else if held.bytes > MAX_TEXT_BYTES {
            format!("{} MiB of text", MAX_TEXT_BYTES >> 20)
        } else {
            self.held = held;
            return Ok(());
        };
        let (message, hint) = match alias {
            Some((name, anchor)) => (
                format!("expanding the alias `*{}` here would make the document hold more than {over}", clip(name)),
                format!(
                    "every use of an alias copies its anchor (`&{}` at line {}) in full; a scenario file is small, so check for runaway anchors and aliases",
                    clip(name),
                    anchor.line
                ),
            ),
            None => (
                format!("the document has more than {over} (after expanding aliases)"),
                "a scenario file is small; check for runaway anchors and aliases".to_string(),
            ),
        };
        Err(YamlError { pos, message, hint: Some(hint) })
    }

    pub fn event(&mut self, event: Event, pos: Pos) -> Result<(), YamlError> {
        match event {
            Event::Other | Event::DocumentEnd => Ok(()),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        pos,
                        message: "a scenario file holds one YAML document, found a second one".to_string(),
                        hint: Some("remove the `---` line, or split the file in two".to_string()),
                    });
                }
                Ok(())
            }
            Event::Alias(name) => self.alias(name, pos),
            Event::Scalar { anchor, tag, text, plain } => {
                let plain = scalar_is_plain(tag.as_deref(), plain, pos)?;
                let size = Size { nodes: 1, bytes: text.len() };
                self.charge(size, pos, None)?;
                self.push(Node { pos, value: Value::Scalar { text, plain } }, size, anchor, pos)
            }
            Event::SequenceStart { anchor, tag } => {
                check_collection_tag(&tag, pos, "seq")?;
                self.open(pos, anchor, FrameKind::Seq(Vec::new()))
            }
            Event::MappingStart { anchor, tag } => {
                check_collection_tag(&tag, pos, "map")?;
                self.open(pos, anchor, FrameKind::Map { pairs: Vec::new(), key: None })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else { return Err(err(pos, "unbalanced YAML collection end")) };
                let value = match frame.kind {
                    FrameKind::Seq(items) => Value::Seq(items),
                    FrameKind::Map { pairs, key: _ } => Value::Map(pairs),
                };
                let size = frame.size.add(Size { nodes: 1, bytes: 0 });
                self.push(Node { pos: frame.pos, value }, size, frame.anchor, pos)
            }
        }
    }

    /// A copy of the anchor's node, placed (every node of it) at the alias.
    fn alias(&mut self, name: String, pos: Pos) -> Result<(), YamlError> {
        let Some(anchor) = self.anchors.get(&name) else {
            return Err(err(pos, format!("unknown anchor `*{}`", clip(&name))));
        };
        let (size, anchor_pos) = (anchor.size, anchor.node.pos);
        self.charge(size, pos, Some((&name, anchor_pos)))?;
        let mut node = self.anchors.get(&name).map(|a| a.node.clone()).ok_or_else(|| err(pos, "lost anchor"))?;
        relocate(&mut node, pos);
        self.aliases.insert(pos, AliasUse { name, anchor: anchor_pos });
        self.push(node, size, None, pos)
    }

    fn open(&mut self, pos: Pos, anchor: Option<String>, kind: FrameKind) -> Result<(), YamlError> {
        self.charge(Size { nodes: 1, bytes: 0 }, pos, None)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos,
                message: format!("lists and mappings are nested more than {MAX_DEPTH} deep"),
                hint: None,
            });
        }
        self.stack.push(Frame { pos, anchor, kind, size: Size::default() });
        Ok(())
    }

    /// Adds a finished node of `size` to its parent (or makes it the root);
    /// an anchor keeps a copy, charged like the rest.
    fn push(&mut self, node: Node, size: Size, anchor: Option<String>, pos: Pos) -> Result<(), YamlError> {
        if let Some(name) = anchor {
            self.charge(size, pos, None)?;
            self.anchors.insert(name, Anchor { node: node.clone(), size });
        }
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_some() {
                return Err(err(pos, "a scenario file holds one YAML document, found a second one"));
            }
            self.root = Some(node);
            return Ok(());
        };
        frame.size = frame.size.add(size);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { pairs, key } => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }
}
