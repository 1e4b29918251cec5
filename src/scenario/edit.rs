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

/// One field edit of a list entry: `Some(value)` sets `key: value` (a plain scalar), `None`
/// removes the key.
pub type FieldEdit = (&'static str, Option<String>);

/// `source` with the fields of each entry of `list_key` (`producers`, `consumers`) edited:
/// `edits[i]` applies to entry `i`. A plain value is replaced or removed in place, a missing
/// key is added in the entry's style; the rest of the text stays as written. `Err` says why
/// the file cannot be edited this way.
pub fn with_entry_fields(source: &str, list_key: &str, edits: &[Vec<FieldEdit>]) -> Result<String, String> {
    let doc = yaml::parse_document(source).map_err(|e| e.message)?.ok_or("an empty file")?;
    let Value::Map(top) = &doc.root.value else { return Err("the top level is not a mapping".into()) };
    let Some((_, Node { value: Value::Seq(items), pos })) = top.iter().find(|(k, _)| scalar(k) == Some(list_key))
    else {
        return Err(format!("no `{list_key}:` list"));
    };
    let aliased = |p: &Pos| doc.aliases.contains_key(p);
    if aliased(pos) || items.iter().any(|item| aliased(&item.pos)) {
        return Err(format!("an entry of `{list_key}:` is written as a YAML alias"));
    }
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for (item, fields) in items.iter().zip(edits) {
        let Value::Map(pairs) = &item.value else { return Err(format!("an entry of `{list_key}:` is not a mapping")) };
        for (key, value) in fields {
            out.push(field_edit(source, item, pairs, key, value.as_deref())?);
        }
    }
    let mut text = source.to_string();
    out.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (from, to, t) in out {
        text.replace_range(from..to, &t);
    }
    Ok(text)
}

/// The byte range and text of one field edit of a mapping entry.
fn field_edit(
    source: &str,
    item: &Node,
    pairs: &[(Node, Node)],
    key: &str,
    value: Option<&str>,
) -> Result<(usize, usize, String), String> {
    let outside = || "a position outside the text".to_string();
    let flow = source[offset(source, item.pos).ok_or_else(outside)?..].starts_with('{');
    let Some((k, v)) = pairs.iter().find(|(k, _)| scalar(k) == Some(key)) else {
        let Some(value) = value else { return Ok((0, 0, String::new())) };
        let at = offset(source, item.pos).ok_or_else(outside)?;
        if flow {
            return Ok((at + 1, at + 1, format!(" {key}: {value},")));
        }
        let first = pairs.first().ok_or("an empty entry")?.0.pos;
        let key_at = offset(source, first).ok_or_else(outside)?;
        let indent = " ".repeat(first.column.saturating_sub(1));
        return Ok((key_at, key_at, format!("{key}: {value}\n{indent}")));
    };
    let Value::Scalar { text, plain: true } = &v.value else { return Err(format!("`{key}:` is not a plain value")) };
    let at = offset(source, v.pos).ok_or_else(outside)?;
    if source.get(at..at + text.len()) != Some(text.as_str()) {
        return Err(format!("`{key}:` is not written as a plain value"));
    }
    match value {
        Some(new) => Ok((at, at + text.len(), new.to_string())),
        None => {
            let from = offset(source, k.pos).ok_or_else(outside)?;
            let mut to = at + text.len();
            let rest = &source[to..];
            // Flow style: the separator after the pair goes with it; block style: the line break.
            let sep = if flow { rest.len() - rest.trim_start_matches([',', ' ']).len() } else { 0 };
            to += sep;
            if !flow && source[to..].starts_with('\n') {
                let line_start = source[..from].rfind('\n').map_or(0, |i| i + 1);
                if source[line_start..from].trim().is_empty() {
                    return Ok((line_start, to + 1, String::new()));
                }
            }
            Ok((from, to, String::new()))
        }
    }
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

    #[test]
    fn entry_fields_are_set_added_and_removed() {
        let src =
            "consumers:\n  - group: g\n    on_abort: continue\n    commit: auto\n  - { group: h, sink: plain, x: 1 }\n";
        let set = |k: &'static str, v: &str| (k, Some(v.to_string()));
        let edits = vec![
            vec![set("commit", "after-processing"), ("on_abort", None), set("client", "java")],
            vec![("sink", None), set("client", "java")],
        ];
        let out = with_entry_fields(src, "consumers", &edits).unwrap();
        assert_eq!(
            out,
            "consumers:\n  - client: java\n    group: g\n    commit: after-processing\n  - { client: java, group: h, x: 1 }\n"
        );
    }
}
