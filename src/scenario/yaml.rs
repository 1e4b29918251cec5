//! YAML text → a small tree of nodes that remember where they were written.
//!
//! The scenario loader needs a line and column for every error, including the
//! ones found long after parsing (a `min.insync.replicas` larger than the
//! replication factor, a restart of an entity that never crashed). serde's
//! deserializers forget positions, so the loader reads libyaml's event stream
//! (the `libyaml-rs` crate that `yaml_serde` itself is built on) and keeps the
//! start mark of every scalar, sequence and mapping.
//!
//! The only `unsafe` code of the loader is in [`events`], a thin wrapper over
//! libyaml's C-style API that mirrors `yaml_serde`'s own.
//!
//! Limits that keep hostile input cheap: at most [`MAX_DEPTH`] nested
//! collections and [`MAX_NODES`] nodes after alias expansion.

use std::collections::HashMap;

/// A 1-based position in the source text (libyaml's line breaks; columns in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// `plain` is true for an untagged plain scalar, whose type (null, bool,
    /// number, string) is resolved from its text; quoted, block and `!!str`
    /// scalars are always strings.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A syntax error, or input the loader refuses before looking at its meaning.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YamlError {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// Deepest nesting of sequences and mappings accepted (a scenario needs about 5).
pub(crate) const MAX_DEPTH: usize = 64;
/// Most nodes a document may have after aliases are expanded ("billion laughs" guard).
pub(crate) const MAX_NODES: usize = 200_000;

const TAG_PREFIX: &str = "tag:yaml.org,2002:";

impl Node {
    /// The text of a plain, untagged scalar that YAML resolves to null.
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar { text, plain: true } => is_null_text(text),
            _ => false,
        }
    }

    /// How the node reads in an error message: `` `100/s` ``, "a mapping", "null".
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Scalar { text, plain } => {
                if *plain && is_null_text(text) {
                    "nothing (null)".to_string()
                } else {
                    format!("`{}`", clip(text))
                }
            }
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
        }
    }
}

pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Shortens a value for an error message (on a char boundary).
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 40;
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let mut s: String = one_line.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// Moves a position that libyaml put past the text (it reports errors at the
/// end of the stream as if a last line break were there) onto the text:
/// the line exists, and the column is at most one past its last character.
pub(crate) fn clamp(source: &str, pos: Pos) -> Pos {
    let mut lens = vec![0usize];
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                lens.push(0);
            }
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => lens.push(0),
            _ => {
                if let Some(last) = lens.last_mut() {
                    *last += 1;
                }
            }
        }
    }
    let line = pos.line.clamp(1, lens.len());
    let max_column = lens.get(line - 1).copied().unwrap_or(0) + 1;
    let column = if line < pos.line { max_column } else { pos.column.clamp(1, max_column) };
    Pos { line, column }
}

/// Parses one YAML document. `Ok(None)` for a stream with no document (an
/// empty file, or only comments).
pub(crate) fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    events::parse(source, &mut |event, pos| builder.event(event, pos))?;
    Ok(builder.root)
}

/// One libyaml event, owned.
#[derive(Debug)]
pub(crate) enum Event {
    DocumentStart,
    DocumentEnd,
    Alias(String),
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        text: String,
        plain: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
    /// Stream start and end.
    Other,
}

enum Frame {
    Seq { pos: Pos, anchor: Option<String>, items: Vec<Node> },
    Map { pos: Pos, anchor: Option<String>, pairs: Vec<(Node, Node)>, key: Option<Node> },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    /// Anchored nodes and their sizes in nodes.
    anchors: HashMap<String, (Node, usize)>,
    nodes: usize,
}

fn err(pos: Pos, message: impl Into<String>) -> YamlError {
    YamlError { pos, message: message.into(), hint: None }
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

    fn event(&mut self, event: Event, pos: Pos) -> Result<(), YamlError> {
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

/// The unsafe part: libyaml's parser driven over a string, one owned event at a time.
mod events {
    use super::{Event, Pos, YamlError};
    use libyaml_rs as sys;
    use std::ffi::CStr;
    use std::mem::MaybeUninit;

    /// Owns a heap-allocated, initialized libyaml parser. The parser keeps a
    /// pointer to itself (its read handler's data), so it must never move:
    /// it lives in a `Box` turned into a raw pointer until `drop`.
    struct Parser {
        ptr: *mut sys::yaml_parser_t,
    }

    impl Drop for Parser {
        fn drop(&mut self) {
            // SAFETY: `ptr` came from `Box::into_raw` in `parse` and was
            // initialized by `yaml_parser_initialize`; it is deleted and freed once.
            unsafe {
                sys::yaml_parser_delete(self.ptr);
                drop(Box::from_raw(self.ptr.cast::<MaybeUninit<sys::yaml_parser_t>>()));
            }
        }
    }

    /// libyaml marks are 0-based; ours are 1-based.
    fn pos_of(mark: sys::yaml_mark_t) -> Pos {
        Pos {
            line: usize::try_from(mark.line).unwrap_or(usize::MAX - 1).saturating_add(1),
            column: usize::try_from(mark.column).unwrap_or(usize::MAX - 1).saturating_add(1),
        }
    }

    /// Line and column of a byte offset, counting line breaks as libyaml does.
    fn pos_of_offset(source: &str, offset: usize) -> Pos {
        let mut pos = Pos::START;
        let mut prev_cr = false;
        for (i, c) in source.char_indices() {
            if i >= offset {
                break;
            }
            match c {
                '\n' if prev_cr => {}
                '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                    pos.line += 1;
                    pos.column = 1;
                }
                _ => pos.column += 1,
            }
            prev_cr = c == '\r';
        }
        pos
    }

    /// SAFETY: `p` is null or points to a NUL-terminated string owned by libyaml.
    unsafe fn c_string(p: *const u8) -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: non-null and NUL-terminated per the function contract.
        let bytes = unsafe { CStr::from_ptr(p.cast()) }.to_bytes();
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    /// SAFETY: `event` was filled by a successful `yaml_parser_parse`.
    unsafe fn convert(event: &sys::yaml_event_t) -> Event {
        // SAFETY (for every union read below): libyaml sets the union member
        // that matches `type_`, and its pointers stay valid until the event is deleted.
        unsafe {
            match event.type_ {
                sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                sys::YAML_ALIAS_EVENT => Event::Alias(c_string(event.data.alias.anchor).unwrap_or_default()),
                sys::YAML_SCALAR_EVENT => {
                    let s = event.data.scalar;
                    let text = if s.value.is_null() {
                        String::new()
                    } else {
                        let len = usize::try_from(s.length).unwrap_or(0);
                        String::from_utf8_lossy(std::slice::from_raw_parts(s.value, len)).into_owned()
                    };
                    Event::Scalar {
                        anchor: c_string(s.anchor),
                        tag: c_string(s.tag),
                        text,
                        plain: s.style == sys::YAML_PLAIN_SCALAR_STYLE,
                    }
                }
                sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                    anchor: c_string(event.data.sequence_start.anchor),
                    tag: c_string(event.data.sequence_start.tag),
                },
                sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                    anchor: c_string(event.data.mapping_start.anchor),
                    tag: c_string(event.data.mapping_start.tag),
                },
                sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                _ => Event::Other,
            }
        }
    }

    /// Reads libyaml's error out of a failed parser.
    ///
    /// SAFETY: `parser` is a live, initialized parser whose last call failed.
    unsafe fn error(parser: *const sys::yaml_parser_t, source: &str) -> YamlError {
        // SAFETY: per the function contract; the strings are static C strings in libyaml.
        let (problem, context, problem_mark, context_mark, offset) = unsafe {
            let p = &*parser;
            (c_string(p.problem.cast()), c_string(p.context.cast()), p.problem_mark, p.context_mark, p.problem_offset)
        };
        let problem = problem.unwrap_or_else(|| "libyaml failed without saying why".to_string());
        // Reader errors (bad characters) carry a byte offset instead of a mark.
        let pos = if problem_mark.line == 0 && problem_mark.column == 0 && offset != 0 {
            pos_of_offset(source, usize::try_from(offset).unwrap_or(usize::MAX))
        } else {
            pos_of(problem_mark)
        };
        let mut message = format!("invalid YAML: {problem}");
        if let Some(context) = context {
            let at = pos_of(context_mark);
            message.push_str(&format!(" ({context} that starts at line {} column {})", at.line, at.column));
        }
        let line_text = source.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
        let comparison = [": >", ": <", ":>", ":<"].iter().any(|c| line_text.contains(c));
        let hint = if line_text.contains('\t') {
            Some("YAML does not allow tabs for indentation; use spaces".to_string())
        } else if comparison {
            Some("quote a comparison, e.g. `duplicates: \"> 0\"`".to_string())
        } else if problem.contains("mapping values are not allowed") {
            Some("a value containing `: ` must be quoted, e.g. `description: \"a: b\"`".to_string())
        } else if problem.contains("did not find expected key") || problem.contains("expected <block end>") {
            Some("check the indentation of this line and the ones above it".to_string())
        } else {
            None
        };
        YamlError { pos, message, hint }
    }

    /// Feeds every event of `source` to `sink` with its start position.
    pub(super) fn parse(
        source: &str,
        sink: &mut dyn FnMut(Event, Pos) -> Result<(), YamlError>,
    ) -> Result<(), YamlError> {
        let bytes = source.as_bytes();
        let raw = Box::into_raw(Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit()));
        let ptr = raw.cast::<sys::yaml_parser_t>();
        // SAFETY: `ptr` points to writable memory for one parser; initialize
        // zeroes and sets it up before anything reads it.
        if unsafe { sys::yaml_parser_initialize(ptr) }.fail {
            // SAFETY: not initialized, so only the allocation is freed.
            drop(unsafe { Box::from_raw(raw) });
            return Err(YamlError { pos: Pos::START, message: "out of memory".to_string(), hint: None });
        }
        let parser = Parser { ptr };
        // SAFETY: the parser is initialized; `bytes` outlives `parser`, which is
        // dropped at the end of this function.
        unsafe {
            sys::yaml_parser_set_encoding(parser.ptr, sys::YAML_UTF8_ENCODING);
            sys::yaml_parser_set_input_string(parser.ptr, bytes.as_ptr(), bytes.len() as u64);
        }
        loop {
            let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
            // SAFETY: the parser is live; `event` is written on success.
            if unsafe { sys::yaml_parser_parse(parser.ptr, event.as_mut_ptr()) }.fail {
                // SAFETY: the parser is live and its last call failed.
                return Err(unsafe { error(parser.ptr, source) });
            }
            // SAFETY: a successful parse initialized the event.
            let (converted, pos, end) = unsafe {
                let e = &*event.as_ptr();
                let converted = convert(e);
                let pos = pos_of(e.start_mark);
                let end = e.type_ == sys::YAML_STREAM_END_EVENT;
                sys::yaml_event_delete(event.as_mut_ptr());
                (converted, pos, end)
            };
            if end {
                return Ok(());
            }
            sink(converted, pos)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Value {
        Value::Scalar { text: text.to_string(), plain: true }
    }

    #[test]
    fn positions_are_one_based_and_point_at_keys_and_values() {
        let root = parse("a: 1\nb:\n  - x\n  - { c: 'd' }\n").unwrap().unwrap();
        let Value::Map(pairs) = &root.value else { panic!("{root:?}") };
        assert_eq!(pairs[0].0.pos, Pos { line: 1, column: 1 });
        assert_eq!(pairs[0].1.pos, Pos { line: 1, column: 4 });
        assert_eq!(pairs[0].1.value, scalar("1"));
        let Value::Seq(items) = &pairs[1].1.value else { panic!() };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        assert_eq!(items[1].pos, Pos { line: 4, column: 5 });
        let Value::Map(inner) = &items[1].value else { panic!() };
        assert_eq!(inner[0].1.value, Value::Scalar { text: "d".into(), plain: false });
        assert_eq!(inner[0].1.pos, Pos { line: 4, column: 10 });
    }

    #[test]
    fn clamp_keeps_positions_on_the_text() {
        assert_eq!(clamp("ab\ncd", Pos { line: 3, column: 1 }), Pos { line: 2, column: 3 });
        assert_eq!(clamp("ab\ncd", Pos { line: 1, column: 9 }), Pos { line: 1, column: 3 });
        assert_eq!(clamp("", Pos { line: 0, column: 0 }), Pos { line: 1, column: 1 });
        assert_eq!(clamp("a\r\nb", Pos { line: 2, column: 1 }), Pos { line: 2, column: 1 });
    }

    #[test]
    fn empty_stream_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn syntax_errors_have_positions_and_tab_hint() {
        let e = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        assert!(e.pos.line >= 2, "{e:?}");
        let e = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("YAML does not allow tabs for indentation; use spaces"));
    }

    #[test]
    fn aliases_expand_and_are_bounded() {
        let root = parse("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let Value::Map(pairs) = &root.value else { panic!() };
        assert_eq!(pairs[0].1.value, pairs[1].1.value);
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("more than"), "{e:?}");
        assert!(parse("a: *nope\n").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested"), "{e:?}");
    }

    #[test]
    fn second_document_is_an_error() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(e.message.contains("second"));
    }

    #[test]
    fn tags_resolve_or_fail() {
        let root = parse("a: !!str 5\nb: !!int 6\n").unwrap().unwrap();
        let Value::Map(pairs) = &root.value else { panic!() };
        assert_eq!(pairs[0].1.value, Value::Scalar { text: "5".into(), plain: false });
        assert_eq!(pairs[1].1.value, scalar("6"));
        assert!(parse("a: !custom 5\n").is_err());
    }

    #[test]
    fn bad_characters_are_located() {
        let e = parse("a: 1\nb: \u{1}\n").unwrap_err();
        assert_eq!(e.pos.line, 2, "{e:?}");
    }
}
