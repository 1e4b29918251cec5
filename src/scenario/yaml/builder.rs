//! libyaml events → the tree, with the limits that keep hostile input cheap:
//! nesting depth, and values after aliases are expanded.

use std::collections::HashMap;

use super::events::Event;
use super::{clip, err, Node, Pos, Value, YamlError, TAG_PREFIX};
use crate::scenario::limits::{MAX_DEPTH, MAX_NODES};

enum Frame {
    Seq { pos: Pos, anchor: Option<String>, items: Vec<Node> },
    Map { pos: Pos, anchor: Option<String>, pairs: Vec<(Node, Node)>, key: Option<Node> },
}

#[derive(Default)]
pub(super) struct Builder {
    stack: Vec<Frame>,
    pub root: Option<Node>,
    documents: usize,
    /// Anchored nodes and their sizes in nodes.
    anchors: HashMap<String, (Node, usize)>,
    nodes: usize,
}

fn node_count(node: &Node) -> usize {
    // Iterative so that a deep tree cannot overflow the stack.
    let mut count = 0usize;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count = count.saturating_add(1);
        match &n.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => todo.extend(items.iter()),
            Value::Map(pairs) => {
                for (k, v) in pairs {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    count
}

fn check_collection_tag(tag: &Option<String>, pos: Pos, kind: &str) -> Result<(), YamlError> {
    match tag.as_deref() {
        None => Ok(()),
        Some(t) if t == format!("{TAG_PREFIX}{kind}") => Ok(()),
        Some(t) => Err(YamlError {
            pos,
            message: format!("YAML tag `{}` is not supported here", clip(t)),
            hint: Some("remove the tag; a scenario file needs no YAML tags".to_string()),
        }),
    }
}

impl Builder {
    fn count(&mut self, n: usize, pos: Pos) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!("the document has more than {MAX_NODES} values (after expanding aliases)"),
                hint: Some("a scenario file is small; check for runaway anchors and aliases".to_string()),
            });
        }
        Ok(())
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
            Event::Alias(name) => {
                let (node, size) = match self.anchors.get(&name) {
                    Some((node, size)) => (node.clone(), *size),
                    None => return Err(err(pos, format!("unknown anchor `*{}`", clip(&name)))),
                };
                self.count(size, pos)?;
                self.push(node, None, pos)
            }
            Event::Scalar { anchor, tag, text, plain } => {
                self.count(1, pos)?;
                let plain = match tag.as_deref() {
                    None => plain,
                    // `!` is the non-specific tag: "treat as a string".
                    Some("!") => false,
                    Some(t) if t == format!("{TAG_PREFIX}str") => false,
                    Some(t) if ["null", "bool", "int", "float"].iter().any(|k| t == format!("{TAG_PREFIX}{k}")) => true,
                    Some(t) => {
                        return Err(YamlError {
                            pos,
                            message: format!("YAML tag `{}` is not supported here", clip(t)),
                            hint: Some("remove the tag; a scenario file needs no YAML tags".to_string()),
                        })
                    }
                };
                let node = Node { pos, value: Value::Scalar { text, plain } };
                self.push(node, anchor, pos)
            }
            Event::SequenceStart { anchor, tag } => {
                check_collection_tag(&tag, pos, "seq")?;
                self.open(Frame::Seq { pos, anchor, items: Vec::new() }, pos)
            }
            Event::MappingStart { anchor, tag } => {
                check_collection_tag(&tag, pos, "map")?;
                self.open(Frame::Map { pos, anchor, pairs: Vec::new(), key: None }, pos)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => (Node { pos, value: Value::Seq(items) }, anchor),
                    Some(Frame::Map { pos, anchor, pairs, key: _ }) => (Node { pos, value: Value::Map(pairs) }, anchor),
                    None => return Err(err(pos, "unbalanced YAML collection end")),
                };
                self.push(node, anchor, pos)
            }
        }
    }

    fn open(&mut self, frame: Frame, pos: Pos) -> Result<(), YamlError> {
        self.count(1, pos)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos,
                message: format!("lists and mappings are nested more than {MAX_DEPTH} deep"),
                hint: None,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Adds a finished node to its parent (or makes it the root).
    fn push(&mut self, node: Node, anchor: Option<String>, pos: Pos) -> Result<(), YamlError> {
        if let Some(name) = anchor {
            let size = node_count(&node);
            self.anchors.insert(name, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return Err(err(pos, "a scenario file holds one YAML document, found a second one"));
                }
                self.root = Some(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }
}
