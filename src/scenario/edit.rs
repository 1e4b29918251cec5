//! Edits to a scenario file's text that keep everything else as written
//! (comments, order, flow or block style): `explain --minimize` uses them
//! to write the smaller scenario it found.

use super::yaml::{self, Node, Pos, Value};

/// `source` with producer entry `i`'s `messages:` set to `caps[i]` (`None`
/// leaves it as written). An existing plain value is replaced; otherwise the
/// key is added to the entry, in its style. `Err` says why the file cannot
/// be edited this way (it is then left to the caller).
pub fn with_producer_messages(source: &str, caps: &[Option<u64>]) -> Result<String, String> {
    let doc = yaml::parse_document(source).map_err(|e| e.message)?.ok_or("an empty file")?;
    let Value::Map(top) = &doc.root.value else { return Err("the top level is not a mapping".into()) };
    let producers = top.iter().find(|(k, _)| scalar(k) == Some("producers")).map(|(_, v)| v);
    let Some(Node { value: Value::Seq(items), pos }) = producers else {
        return Err("no `producers:` list".into());
    };
    // Text copied by an alias is written once, at its anchor: editing it there would change every copy.
    let aliased = |p: &Pos| doc.aliases.contains_key(p);
    if aliased(pos) || items.iter().any(|item| aliased(&item.pos)) {
        return Err("a producer is written as a YAML alias".into());
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new(); // (byte from, byte to, text)
    for (item, cap) in items.iter().zip(caps) {
        let Some(n) = cap else { continue };
        let Value::Map(pairs) = &item.value else { return Err("a producer that is not a mapping".into()) };
        match pairs.iter().find(|(k, _)| scalar(k) == Some("messages")) {
            Some((_, v)) => match &v.value {
                Value::Scalar { text, plain: true } => {
                    let at = offset(source, v.pos).ok_or("a position outside the text")?;
                    if source.get(at..at + text.len()) != Some(text.as_str()) {
                        return Err("`messages:` is not written as a plain number".into());
                    }
                    edits.push((at, at + text.len(), n.to_string()));
                }
                _ => return Err("`messages:` is not written as a plain number".into()),
            },
            None => {
                let at = offset(source, item.pos).ok_or("a position outside the text")?;
                if source[at..].starts_with('{') {
                    edits.push((at + 1, at + 1, format!(" messages: {n},")));
                } else {
                    let first = pairs.first().ok_or("an empty producer")?.0.pos;
                    let key_at = offset(source, first).ok_or("a position outside the text")?;
                    let indent = " ".repeat(first.column.saturating_sub(1));
                    edits.push((key_at, key_at, format!("messages: {n}\n{indent}")));
                }
            }
        }
    }
    let mut out = source.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (from, to, text) in edits {
        out.replace_range(from..to, &text);
    }
    Ok(out)
}

pub(super) fn scalar(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// The byte offset of a 1-based (line, character column) position.
pub(super) fn offset(source: &str, pos: Pos) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..pos.line {
        line_start += source[line_start..].find('\n')? + 1;
    }
    let line = &source[line_start..];
    let col = line.char_indices().nth(pos.column - 1).map_or(line.len(), |(i, _)| i);
    Some(line_start + col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_adds_and_keeps_the_rest() {
        let src = "# keep me\nproducers:\n  - { name: a, rate: 10/s, messages: 6000 }\n  - name: b\n    rate: 5/s\n  - { name: c, rate: 1/s }\n";
        let out = with_producer_messages(src, &[Some(3000), Some(40), None]).unwrap();
        assert_eq!(
            out,
            "# keep me\nproducers:\n  - { name: a, rate: 10/s, messages: 3000 }\n  - messages: 40\n    name: b\n    rate: 5/s\n  - { name: c, rate: 1/s }\n"
        );
        let flow = with_producer_messages("producers:\n  - { name: c, rate: 1/s }\n", &[Some(7)]).unwrap();
        assert_eq!(flow, "producers:\n  - { messages: 7, name: c, rate: 1/s }\n");
    }

    #[test]
    fn refuses_what_it_cannot_edit_in_place() {
        assert!(with_producer_messages("name: x\n", &[Some(1)]).is_err());
        assert!(with_producer_messages("producers:\n  - { name: a, messages: \"5\" }\n", &[Some(1)]).is_err());
        // A producer copied by an alias is written at its anchor; editing there would change both.
        let aliased = "base: &p { name: a, rate: 1/s }\nproducers:\n  - *p\n";
        assert_eq!(with_producer_messages(aliased, &[Some(1)]), Err("a producer is written as a YAML alias".into()));
    }
}
