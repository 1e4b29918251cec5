//! `streamsim pin`'s edit of a scenario file: its `expect:` block set to
//! given values, everything else as written (comments, order, block or flow
//! style). Keys the edit does not name stay as they are.

use super::edit::{offset, scalar};
use super::yaml::{self, Node, Value};

/// What the `expect:` line's comment starts with when `pin` wrote it.
pub const HEADER: &str = "# pinned by streamsim pin";
/// What a value's comment starts with when `pin` wrote it (the range a count varied over).
pub const SEEN: &str = "# seen ";

/// One expectation to write: `metric: value  # comment`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pin {
    pub metric: String,
    /// YAML text: `17` or `"<= 40"`.
    pub value: String,
    /// Written after the value in a block mapping (it starts with [`SEEN`]).
    pub comment: Option<String>,
    /// The value as the author wrote it stays (a bound that every seed meets,
    /// like `"> 0"`): true unless `pin` wrote it (its comment starts with [`SEEN`]).
    pub keep_authored: bool,
}

/// The `--seeds` range recorded in the `expect:` line's comment by an earlier `pin`.
pub fn pinned_seeds(source: &str) -> Option<String> {
    let doc = yaml::parse_document(source).ok()??;
    let (key, _) = expect_entry(&doc.root)?;
    let at = offset(source, key.pos)?;
    let line = &source[at..line_end(source, at)];
    let rest = &line[line.find(HEADER)? + HEADER.len()..];
    rest.trim().strip_prefix("--seeds ").map(|s| s.trim().to_string())
}

/// `source` with every pin written into `expect:` (added at the end of the
/// file when there is none), and `header` as the `expect:` line's comment
/// unless that line holds a comment of the author's. `Err` says why the
/// file cannot be edited in place.
pub fn with_pins(source: &str, header: &str, pins: &[Pin]) -> Result<String, String> {
    let doc = yaml::parse_document(source).map_err(|e| e.message)?.ok_or("an empty file")?;
    if !matches!(doc.root.value, Value::Map(_)) {
        return Err("the top level is not a mapping".into());
    }
    let Some((key, value)) = expect_entry(&doc.root) else { return Ok(appended(source, header, pins)) };
    if doc.aliases.contains_key(&value.pos) {
        return Err("`expect:` is written as a YAML alias".into());
    }
    let key_at = offset(source, key.pos).ok_or("a position outside the text")?;
    let mut edits = Vec::new();
    match &value.value {
        Value::Map(pairs) => {
            let at = offset(source, value.pos).ok_or("a position outside the text")?;
            let flow = source[at..].starts_with('{');
            if flow && pairs.is_empty() {
                let inner: Vec<String> = pins.iter().map(|p| format!("{}: {}", p.metric, p.value)).collect();
                edits.push((at + 1, at + 1, format!(" {} ", inner.join(", "))));
            } else {
                edit_entries(source, pairs, pins, flow, &mut edits)?;
            }
            let header_line = if flow { flow_end(source, pairs, at)? } else { key_at };
            header_edit(source, header_line, header, &mut edits);
        }
        Value::Scalar { text, plain: true } if text.is_empty() => {
            let end = line_end(source, key_at);
            let lines: String = pins.iter().map(|p| format!("\n  {}", block_line(p))).collect();
            edits.push((end, end, lines));
            header_edit(source, key_at, header, &mut edits);
        }
        _ => return Err("`expect:` is not a mapping".into()),
    }
    Ok(apply(source, edits))
}

fn expect_entry(root: &Node) -> Option<(&Node, &Node)> {
    let Value::Map(top) = &root.value else { return None };
    top.iter().find(|(k, _)| scalar(k) == Some("expect")).map(|(k, v)| (k, v))
}

/// A new `expect:` block at the end of the file.
fn appended(source: &str, header: &str, pins: &[Pin]) -> String {
    let mut out = source.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("expect:  {header}\n"));
    for p in pins {
        out.push_str(&format!("  {}\n", block_line(p)));
    }
    out
}

fn block_line(p: &Pin) -> String {
    match &p.comment {
        Some(c) => format!("{}: {}  {c}", p.metric, p.value),
        None => format!("{}: {}", p.metric, p.value),
    }
}

type Edit = (usize, usize, String); // (byte from, byte to, text)

/// Replaces the values of pinned keys that are there; adds the others after the last entry.
fn edit_entries(
    source: &str,
    pairs: &[(Node, Node)],
    pins: &[Pin],
    flow: bool,
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let indent = pairs.first().map(|(k, _)| " ".repeat(k.pos.column.saturating_sub(1))).unwrap_or_default();
    let mut added = String::new();
    for p in pins {
        let Some((_, v)) = pairs.iter().find(|(k, _)| scalar(k) == Some(p.metric.as_str())) else {
            added.push_str(&if flow {
                format!(", {}: {}", p.metric, p.value)
            } else {
                format!("\n{indent}{}", block_line(p))
            });
            continue;
        };
        let at = offset(source, v.pos).ok_or("a position outside the text")?;
        let end = value_end(source, at, v).ok_or_else(|| format!("`expect.{}` is not a one-line value", p.metric))?;
        let tail_end = line_end(source, end);
        let tail = &source[end..tail_end];
        let seen = tail.trim_start().starts_with(SEEN);
        if p.keep_authored && !seen {
            continue;
        }
        let ours = tail.trim().is_empty() || seen;
        if flow || !ours {
            edits.push((at, end, p.value.clone()));
        } else {
            let comment = p.comment.as_ref().map(|c| format!("  {c}")).unwrap_or_default();
            edits.push((at, tail_end, format!("{}{comment}", p.value)));
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    let (_, last) = pairs.last().ok_or("an empty `expect:` mapping")?;
    let last_at = offset(source, last.pos).ok_or("a position outside the text")?;
    let end = value_end(source, last_at, last).ok_or("the last `expect:` value is not a one-line value")?;
    if flow {
        edits.push((end, end, added));
    } else {
        let at = line_end(source, end);
        edits.push((at, at, added));
    }
    Ok(())
}

/// Where a flow mapping's closing brace is (its line takes the header comment).
fn flow_end(source: &str, pairs: &[(Node, Node)], open: usize) -> Result<usize, String> {
    let from = match pairs.last() {
        Some((_, v)) => {
            let at = offset(source, v.pos).ok_or("a position outside the text")?;
            value_end(source, at, v).ok_or("an `expect:` value that is not a one-line value")?
        }
        None => open,
    };
    source[from..].find('}').map(|i| from + i).ok_or_else(|| "an unclosed `expect:` mapping".to_string())
}

/// The header goes after the last character of the line that holds `at`'s
/// value, unless the author wrote a comment there.
fn header_edit(source: &str, at: usize, header: &str, edits: &mut Vec<Edit>) {
    let end = line_end(source, at);
    let line = &source[at..end];
    match line.find(HEADER) {
        Some(i) => edits.push((at + i, end, header.to_string())),
        None if !line.contains(" #") => {
            let content = line.trim_end().len();
            edits.push((at + content, end, format!("  {header}")));
        }
        None => {}
    }
}

/// The byte just past a one-line scalar written at `at`.
fn value_end(source: &str, at: usize, v: &Node) -> Option<usize> {
    let Value::Scalar { text, plain } = &v.value else { return None };
    let rest = &source[at..];
    if *plain {
        return rest.starts_with(text.as_str()).then(|| at + text.len());
    }
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\n' => return None,
            '\\' if quote == '"' => {
                chars.next();
            }
            c if c == quote => {
                // `''` inside single quotes is an escaped quote.
                if quote == '\'' && rest[i + 1..].starts_with('\'') {
                    chars.next();
                    continue;
                }
                return Some(at + i + 1);
            }
            _ => {}
        }
    }
    None
}

fn line_end(source: &str, at: usize) -> usize {
    source[at..].find('\n').map_or(source.len(), |i| at + i)
}

fn apply(source: &str, mut edits: Vec<Edit>) -> String {
    let mut out = source.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (from, to, text) in edits {
        out.replace_range(from..to, &text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(metric: &str, value: &str, comment: Option<&str>) -> Pin {
        Pin { metric: metric.into(), value: value.into(), comment: comment.map(str::to_string), keep_authored: false }
    }

    #[test]
    fn updates_block_values_keeps_comments_and_adds_keys() {
        let src = "name: x  # the name\nexpect:\n  lost: 0   # must never lose\n  duplicates: \"> 0\"\n  max_lag: \"< 10\"\n# after\n";
        let pins = [
            pin("lost", "3", None),
            pin("duplicates", "\"<= 9\"", Some("# seen 1 to 9 over seeds 0..4")),
            pin("acked", "10", None),
        ];
        let out = with_pins(src, "# pinned by streamsim pin --seeds 0..4", &pins).unwrap();
        assert_eq!(
            out,
            "name: x  # the name\nexpect:  # pinned by streamsim pin --seeds 0..4\n  lost: 3   # must never lose\n  duplicates: \"<= 9\"  # seen 1 to 9 over seeds 0..4\n  max_lag: \"< 10\"\n  acked: 10\n# after\n"
        );
        assert_eq!(pinned_seeds(&out).as_deref(), Some("0..4"));
        // Pinning again with the same values changes nothing.
        assert_eq!(with_pins(&out, "# pinned by streamsim pin --seeds 0..4", &pins).unwrap(), out);
    }

    #[test]
    fn authored_bounds_stay_and_pinned_ones_move() {
        let src = "expect:\n  duplicates: '> 0'\n  lost: \"<= 3\"  # seen 1 to 3 over seeds 0..2\n";
        let keep = |m: &str, v: &str| Pin { keep_authored: true, ..pin(m, v, Some("# seen 1 to 5 over seeds 0..4")) };
        let out = with_pins(src, HEADER, &[keep("duplicates", "\"<= 5\""), keep("lost", "\"<= 5\"")]).unwrap();
        assert_eq!(
            out,
            "expect:  # pinned by streamsim pin\n  duplicates: '> 0'\n  lost: \"<= 5\"  # seen 1 to 5 over seeds 0..4\n"
        );
    }

    #[test]
    fn flow_mappings_absent_and_empty_blocks() {
        let flow = "name: x\nexpect: { lost: 0, duplicates: '> 0' }\n";
        let pins = [pin("duplicates", "2", None), pin("acked", "10", None)];
        assert_eq!(
            with_pins(flow, HEADER, &pins).unwrap(),
            "name: x\nexpect: { lost: 0, duplicates: 2, acked: 10 }  # pinned by streamsim pin\n"
        );
        assert_eq!(
            with_pins("name: x", HEADER, &pins).unwrap(),
            "name: x\nexpect:  # pinned by streamsim pin\n  duplicates: 2\n  acked: 10\n"
        );
        assert_eq!(
            with_pins("name: x\nexpect:\n", HEADER, &pins).unwrap(),
            "name: x\nexpect:  # pinned by streamsim pin\n  duplicates: 2\n  acked: 10\n"
        );
        assert_eq!(
            with_pins("expect: {}\n", HEADER, &pins).unwrap(),
            "expect: { duplicates: 2, acked: 10 }  # pinned by streamsim pin\n"
        );
        assert_eq!(pinned_seeds("name: x\nexpect:  # pinned by streamsim pin\n  lost: 0\n"), None);
    }

    #[test]
    fn refuses_what_it_cannot_edit() {
        let pins = [pin("lost", "0", None)];
        assert!(with_pins("- a\n", HEADER, &pins).is_err());
        assert!(with_pins("expect: [lost]\n", HEADER, &pins).is_err());
        assert!(with_pins("e: &e { lost: 1 }\nexpect: *e\n", HEADER, &pins).is_err());
        assert!(with_pins("name: [x\n", HEADER, &pins).is_err());
    }
}
