//! YAML text → a small tree of nodes that remember where they were written.
//!
//! The scenario loader needs a line and column for every error, including the
//! ones found long after parsing (a `min.insync.replicas` larger than the
//! replication factor, a restart of an entity that never crashed). serde's
//! deserializers forget positions, so the loader reads libyaml's event stream
//! (the `libyaml-rs` crate that `yaml_serde` itself is built on) and keeps the
//! start mark of every scalar, sequence and mapping.
//!
//! The only `unsafe` code of the loader is in `events`, a thin wrapper over
//! libyaml's C-style API that mirrors `yaml_serde`'s own. `builder` turns
//! the events into the tree within the limits of [`crate::scenario::limits`];
//! `lines` maps positions onto the text.

mod builder;
mod events;
mod lines;

use std::collections::BTreeMap;

#[cfg(test)]
pub(crate) use lines::clamp;
pub(crate) use lines::Lines;

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

pub(super) const TAG_PREFIX: &str = "tag:yaml.org,2002:";

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

/// Where an alias was used: its copy of the anchor's content carries this
/// position, so errors inside it point at the use; the anchor is named too.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AliasUse {
    pub name: String,
    /// Where the anchor (`&name`) was written.
    pub anchor: Pos,
}

/// A parsed document, and every alias use by the position its copy carries.
#[derive(Debug)]
pub(crate) struct Document {
    pub root: Node,
    pub aliases: BTreeMap<Pos, AliasUse>,
}

/// Parses one YAML document. `Ok(None)` for a stream with no document (an
/// empty file, or only comments).
pub(crate) fn parse_document(source: &str) -> Result<Option<Document>, YamlError> {
    let mut builder = builder::Builder::default();
    events::parse(source, &mut |event, pos| builder.event(event, pos))?;
    Ok(builder.root.map(|root| Document { root, aliases: builder.aliases }))
}

/// [`parse_document`], the tree only.
#[cfg(test)]
pub(crate) fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    Ok(parse_document(source)?.map(|d| d.root))
}

fn err(pos: Pos, message: impl Into<String>) -> YamlError {
    YamlError { pos, message: message.into(), hint: None }
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
        // The same values; the copy sits at the alias (see `alias_copies_carry_the_alias_position`).
        let texts = |n: &Node| match &n.value {
            Value::Seq(items) => items.iter().map(|i| i.describe()).collect::<Vec<_>>(),
            _ => panic!("{n:?}"),
        };
        assert_eq!(texts(&pairs[0].1), ["`1`", "`2`"]);
        assert_eq!(texts(&pairs[0].1), texts(&pairs[1].1));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("more than"), "{e:?}");
        assert!(parse("a: *nope\n").is_err());
    }

    /// A 5 KB string aliased through five nested lists of 10 would be 500 MB
    /// of text in 111,111 values: under the value limit, so bytes are bounded too.
    #[test]
    fn alias_expansion_is_bounded_in_bytes_at_the_alias() {
        let mut bomb = format!("a: &a {}\n", "x".repeat(5_000));
        for i in 0..5 {
            let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
            let items = vec![format!("*{prev}"); 10].join(", ");
            bomb.push_str(&format!("l{i}: &l{i} [{items}]\n"));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("alias `*l2`") && e.message.contains("MiB of text"), "{e:?}");
        assert_eq!(e.pos.line, 5, "the alias that crosses the limit, in l3's list: {e:?}");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("`&l2` at line 4")), "{e:?}");
    }

    /// Each anchor keeps a copy of its node: 40 nested anchors around 1 MiB
    /// of text hold 40 MiB even without a single alias.
    #[test]
    fn anchor_copies_count_against_the_limits() {
        let open: String = (0..40).map(|i| format!("&a{i} [")).collect();
        let text = format!("{open}{}{}", "y".repeat(1 << 20), "]".repeat(40));
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("more than 32 MiB of text"), "{e:?}");
        assert!(parse(&format!("&a [{}]", "y".repeat(1 << 20))).is_ok());
    }

    #[test]
    fn alias_copies_carry_the_alias_position() {
        let doc = parse_document("a: &x { b: [1] }\nc: *x\n").unwrap().unwrap();
        let Value::Map(pairs) = &doc.root.value else { panic!() };
        let at = Pos { line: 2, column: 4 };
        let copy = &pairs[1].1;
        assert_eq!(copy.pos, at);
        let Value::Map(inner) = &copy.value else { panic!("{copy:?}") };
        assert_eq!((inner[0].0.pos, inner[0].1.pos), (at, at));
        assert_eq!(pairs[0].1.pos, Pos { line: 1, column: 4 }, "the anchor keeps its own position");
        assert_eq!(doc.aliases.get(&at), Some(&AliasUse { name: "x".into(), anchor: Pos { line: 1, column: 4 } }));
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
