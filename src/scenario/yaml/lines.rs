//! Positions in the source text, counted as libyaml counts them (it also
//! breaks lines at `\r`, NEL, LS and PS; columns are in characters).

use super::Pos;

/// The length of every line in characters, computed once, so that placing
/// each of thousands of warnings costs no more than a lookup.
pub(crate) struct Lines {
    lens: Vec<usize>,
}

impl Lines {
    pub fn new(source: &str) -> Lines {
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
        Lines { lens }
    }

    /// Just past the last character of the text.
    pub fn end(&self) -> Pos {
        Pos { line: self.lens.len(), column: self.lens.last().copied().unwrap_or(0) + 1 }
    }

    /// Moves a position that libyaml put past the text (it reports errors at the
    /// end of the stream as if a last line break were there) onto the text:
    /// the line exists, and the column is at most one past its last character.
    pub fn clamp(&self, pos: Pos) -> Pos {
        let line = pos.line.clamp(1, self.lens.len());
        let max_column = self.lens.get(line - 1).copied().unwrap_or(0) + 1;
        let column = if line < pos.line { max_column } else { pos.column.clamp(1, max_column) };
        Pos { line, column }
    }
}

/// [`Lines::clamp`] for one position.
#[cfg(test)]
pub(crate) fn clamp(source: &str, pos: Pos) -> Pos {
    Lines::new(source).clamp(pos)
}

/// Line and column of a byte offset, counting line breaks as libyaml does.
pub(super) fn pos_of_offset(source: &str, offset: usize) -> Pos {
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
