//! Config text → positioned entries, in whichever of the four dialects it is written.

use super::names::Role;
use super::{error, Dialect, Entry};
use crate::scenario::LoadError;

/// Detects the dialect and reads every entry.
pub(super) fn parse(text: &str, file: &str) -> Result<(Dialect, Vec<Entry>), LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (marker, role) in [("ProducerConfig values:", Role::Producer), ("ConsumerConfig values:", Role::Consumer)] {
        if let Some(at) = text.lines().position(|l| l.contains(marker)) {
            return Ok((Dialect::LogDump(role), log_dump(text, at)));
        }
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_some_and(|l| l.starts_with('{') || l.contains("({") || l.ends_with('{') || l.contains("= {")) {
        return Ok((Dialect::PythonDict, python_dict(text, file)?));
    }
    Ok((Dialect::Properties, properties(text, file)?))
}

fn column_of(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(1, |p| p.chars().count() + 1)
}

/// `key=value`, `key: value` (Java's Properties.load separators); `#`/`!` comments.
fn properties(text: &str, file: &str) -> Result<Vec<Entry>, LoadError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let start = raw.len() - trimmed.len();
        let Some(sep) = trimmed.find(['=', ':']) else {
            return Err(error(
                file,
                i + 1,
                column_of(raw, start),
                "",
                format!("expected `key=value`, found `{}`", crate::scenario::clip_text(trimmed)),
                Some("one config per line: `acks=all` or `acks: all`; `#` starts a comment".to_string()),
            ));
        };
        let key = trimmed[..sep].trim().to_string();
        let value = trimmed[sep + 1..].trim().to_string();
        out.push(Entry { key, value, line: i + 1, column: column_of(raw, start) });
    }
    Ok(out)
}

/// The indented `key = value` lines under the marker line, until the first line that is not one.
fn log_dump(text: &str, marker: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate().skip(marker + 1) {
        let trimmed = raw.trim_start();
        let Some((key, value)) = trimmed.split_once(" = ") else { break };
        let key = key.trim();
        if key.is_empty() || !raw.starts_with([' ', '\t']) || key.contains(' ') {
            break;
        }
        let start = raw.len() - trimmed.len();
        out.push(Entry {
            key: key.to_string(),
            value: value.trim().to_string(),
            line: i + 1,
            column: column_of(raw, start),
        });
    }
    out
}

/// Characters with their line and column, for the dict reader.
struct Cursor<'t> {
    chars: Vec<(char, usize, usize)>,
    at: usize,
    file: &'t str,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|c| c.0)
    }
    fn pos(&self) -> (usize, usize) {
        self.chars.get(self.at).or(self.chars.last()).map_or((1, 1), |c| (c.1, c.2))
    }
    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.at += 1;
                }
            } else if c.is_whitespace() {
                self.at += 1;
            } else {
                break;
            }
        }
    }
    fn fail(&self, message: String, hint: &str) -> LoadError {
        let (line, column) = self.pos();
        error(self.file, line, column, "", message, Some(hint.to_string()))
    }
    /// A quoted string literal ('...' or "..."), without escapes beyond `\'` and `\"`.
    fn string(&mut self) -> Option<String> {
        let q = self.peek().filter(|c| *c == '\'' || *c == '"')?;
        self.at += 1;
        let mut s = String::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        s.push(n);
                        self.at += 1;
                    }
                }
                c if c == q => return Some(s),
                c => s.push(c),
            }
        }
        None
    }
    /// A bare literal: a number, True, False or None.
    fn bare(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')) {
            s.push(c);
            self.at += 1;
        }
        s
    }
}

/// `{'bootstrap.servers': 'b:9092', 'enable.auto.commit': True, 'linger.ms': 5}`, maybe
/// inside `Producer(...)` or after `conf = `.
fn python_dict(text: &str, file: &str) -> Result<Vec<Entry>, LoadError> {
    let mut chars = Vec::new();
    for (l, line) in text.split('\n').enumerate() {
        for (c, ch) in line.chars().enumerate() {
            chars.push((ch, l + 1, c + 1));
        }
        chars.push(('\n', l + 1, line.chars().count() + 1));
    }
    let mut cur = Cursor { chars, at: 0, file };
    while cur.peek().is_some_and(|c| c != '{') {
        cur.at += 1;
    }
    cur.at += 1;
    let hint = "a Python dict literal of quoted keys and literal values: {'acks': 'all', 'linger.ms': 5}";
    let mut out = Vec::new();
    loop {
        cur.skip_space();
        if cur.peek() == Some('}') {
            return Ok(out);
        }
        let (line, column) = cur.pos();
        let Some(key) = cur.string() else {
            return Err(cur.fail("expected a quoted config name or `}`".to_string(), hint));
        };
        cur.skip_space();
        if cur.peek() != Some(':') {
            return Err(cur.fail(format!("expected `:` after '{key}'"), hint));
        }
        cur.at += 1;
        cur.skip_space();
        let value = match cur.string() {
            Some(s) => s,
            None => match cur.bare() {
                b if b.is_empty() => return Err(cur.fail(format!("expected a value for '{key}'"), hint)),
                b if b == "True" => "true".to_string(),
                b if b == "False" => "false".to_string(),
                b => b,
            },
        };
        out.push(Entry { key, value, line, column });
        cur.skip_space();
        match cur.peek() {
            Some(',') => cur.at += 1,
            Some('}') => {}
            _ => return Err(cur.fail("expected `,` or `}`".to_string(), hint)),
        }
    }
}
