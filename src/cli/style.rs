//! Colour on a terminal: pass green, FAIL red, warnings yellow. `--color auto` (the default)
//! colours a stream only when it is a terminal and `NO_COLOR` is unset or empty
//! (no-color.org); `always` and `never` decide alone. Files and pipes get plain text.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

const UNSET: u8 = 0;
const AUTO: u8 = 1;
const ALWAYS: u8 = 2;
const NEVER: u8 = 3;

static CHOICE: AtomicU8 = AtomicU8::new(UNSET);

/// Set once from the command line, before anything is printed.
pub fn set(choice: ColorChoice) {
    let v = match choice {
        ColorChoice::Auto => AUTO,
        ColorChoice::Always => ALWAYS,
        ColorChoice::Never => NEVER,
    };
    CHOICE.store(v, Ordering::Relaxed);
}

/// Which stream a text goes to: each is a terminal or not on its own.
#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

fn enabled(stream: Stream) -> bool {
    match CHOICE.load(Ordering::Relaxed) {
        ALWAYS => true,
        NEVER => false,
        _ => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let tty = match stream {
                Stream::Out => std::io::stdout().is_terminal(),
                Stream::Err => std::io::stderr().is_terminal(),
            };
            tty && !no_color
        }
    }
}

fn paint(stream: Stream, sgr: &str, text: &str) -> String {
    if enabled(stream) {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A passing verdict on stdout.
pub fn pass(text: &str) -> String {
    paint(Stream::Out, "32", text)
}

/// A failing verdict on stdout.
pub fn fail(text: &str) -> String {
    paint(Stream::Out, "1;31", text)
}

/// A warning on stderr.
pub fn warning(text: &str) -> String {
    paint(Stream::Err, "33", text)
}

/// An error report on stderr: its `error:` and `warning:` words coloured.
pub fn error_report(text: &str) -> String {
    if !enabled(Stream::Err) {
        return text.to_string();
    }
    text.replace("error:", &paint(Stream::Err, "1;31", "error:")).replace("warning:", &warning("warning:"))
}

/// A report's `    pass  ` and `    FAIL  ` verdict words coloured, for stdout.
pub fn verdicts(text: &str) -> String {
    if !enabled(Stream::Out) {
        return text.to_string();
    }
    let mut o = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let (lead, rest) = line.split_at(indent);
        if let Some(r) = rest.strip_prefix("pass  ") {
            o.push_str(&format!("{lead}{}  {r}", pass("pass")));
        } else if let Some(r) = rest.strip_prefix("FAIL  ") {
            o.push_str(&format!("{lead}{}  {r}", fail("FAIL")));
        } else {
            o.push_str(line);
        }
    }
    o
}

/// Whether `--quiet` was given: no progress lines or notes.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `1 topic`, `2 topics`: `plural` is the word's plural form.
pub fn count(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_singular_for_one_only() {
        assert_eq!(count(1u64, "topic", "topics"), "1 topic");
        assert_eq!(count(0u64, "topic", "topics"), "0 topics");
        assert_eq!(count(2u32, "expectation", "expectations"), "2 expectations");
    }
}
