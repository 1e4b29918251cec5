//! `check --junit`: the verdicts as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub
//! test reporters) read. One testcase per scenario file, one `<failure>` per failed
//! expectation, `<error>` for a scenario that could not run. No timings: the same scenarios
//! give the same bytes.

use std::fmt::Write as _;

use crate::oracle::checkers::ExpectationOut;

/// What became of one scenario, for the report.
pub struct Case {
    /// The scenario's `name:` (the file's path when it did not load).
    pub name: String,
    /// The file, as given on the command line: two files of one name stay apart.
    pub file: String,
    pub outcome: CaseOutcome,
}

pub enum CaseOutcome {
    /// Every expectation held (how many there were).
    Passed { expectations: usize },
    /// Some failed: each, and the command that replays the run.
    Failed { failed: Vec<ExpectationOut>, replay: String },
    /// Refused before running (`--require-expect` on a file without `expect:`).
    Refused { reason: String },
    /// It did not load or run, or its report could not be written.
    Error { message: String },
}

fn escape(t: &str) -> String {
    let mut o = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 allows only tab, newline and carriage return below space.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML of `cases`, in their order.
pub fn render(cases: &[Case]) -> String {
    let failures =
        cases.iter().filter(|c| matches!(c.outcome, CaseOutcome::Failed { .. } | CaseOutcome::Refused { .. })).count();
    let errors = cases.iter().filter(|c| matches!(c.outcome, CaseOutcome::Error { .. })).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!("tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\"", cases.len());
    let _ = writeln!(o, "<testsuites name=\"streamsim check\" {counts}>");
    let _ = writeln!(o, "  <testsuite name=\"streamsim check\" {counts}>");
    for c in cases {
        let _ = write!(
            o,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
            escape(&c.file),
            escape(&c.name),
            escape(&c.file)
        );
        match &c.outcome {
            CaseOutcome::Passed { .. } => o.push_str("/>\n"),
            CaseOutcome::Failed { failed, replay } => {
                o.push_str(">\n");
                for e in failed {
                    let message = format!("{}: expected {}, actual {}", e.name, e.expected, e.actual);
                    let _ = writeln!(
                        o,
                        "      <failure type=\"expectation\" message=\"{}\">{}\nreplay: {}</failure>",
                        escape(&message),
                        escape(&message),
                        escape(replay)
                    );
                }
                o.push_str("    </testcase>\n");
            }
            CaseOutcome::Refused { reason } => {
                let _ = writeln!(
                    o,
                    ">\n      <failure type=\"refused\" message=\"{0}\">{0}</failure>\n    </testcase>",
                    escape(reason)
                );
            }
            CaseOutcome::Error { message } => {
                let _ = writeln!(
                    o,
                    ">\n      <error type=\"error\" message=\"{0}\">{0}</error>\n    </testcase>",
                    escape(message)
                );
            }
        }
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_messages_is_escaped_and_control_characters_replaced() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;?");
    }
}
