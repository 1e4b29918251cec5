//! The report page's sections beyond the counts and charts: the command
//! that replays the run, its timeline, explain's stories and the scenario
//! file itself.

use std::fmt::Write;

use crate::report::folder::html_escape;
use crate::report::timeline::{clock, Entry};
use crate::Outcome;

/// Most timeline rows on the page (the `timeline` command prints them all).
pub const MAX_TIMELINE_ROWS: usize = 300;

/// A path as a shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:@%,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The commands that replay the run, explain it and draw its timeline.
pub fn replay_commands(o: &Outcome) -> Vec<String> {
    let file = o.source.as_ref().map_or_else(|| format!("{}.yaml", o.summary.scenario), |s| shell_word(&s.path));
    let seed = o.summary.seed;
    vec![
        format!("streamsim run {file} --seed {seed} --out report"),
        format!("streamsim explain {file} --seed {seed}"),
        format!("streamsim timeline {file} --seed {seed} --perfetto trace.json"),
    ]
}

/// The sections, as HTML.
pub fn sections(o: &Outcome) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<h2 id=\"replay\">replay</h2>\n<pre class=\"cmd\">{}</pre>",
        html_escape(&replay_commands(o).join("\n"))
    );
    timeline_table(&mut h, o);
    if !o.stories.is_empty() {
        let _ = writeln!(h, "<h2 id=\"stories\">stories</h2>\n<p>Each step names its line in the trace of <code>streamsim run … --trace</code>.</p>");
        for s in &o.stories {
            let _ = writeln!(h, "<pre class=\"story\">{}</pre>", html_escape(s.trim_end()));
        }
    }
    if let Some(src) = &o.source {
        let _ = writeln!(
            h,
            "<h2 id=\"scenario\">scenario</h2>\n<p><code>{}</code></p>\n<pre class=\"yaml\">{}</pre>",
            html_escape(&src.path),
            html_escape(src.text.trim_end())
        );
    }
    h
}

fn timeline_table(h: &mut String, o: &Outcome) {
    let _ = writeln!(h, "<h2 id=\"timeline\">timeline</h2>");
    if o.timeline.is_empty() {
        let _ = writeln!(h, "<p>No faults, elections, ISR changes, rebalances or commit failures in this run.</p>");
        return;
    }
    let _ = writeln!(h, "<table class=\"left\"><tr><th>time</th><th>who</th><th>what</th></tr>");
    for Entry { at_us, who, what } in o.timeline.iter().take(MAX_TIMELINE_ROWS) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            clock(*at_us),
            html_escape(who),
            html_escape(what)
        );
    }
    let _ = writeln!(h, "</table>");
    if o.timeline.len() > MAX_TIMELINE_ROWS {
        let more = o.timeline.len() - MAX_TIMELINE_ROWS;
        let _ = writeln!(
            h,
            "<p>… and {more} more: <code>{}</code> prints them all.</p>",
            html_escape(&replay_commands(o)[2])
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell_when_needed() {
        assert_eq!(shell_word("scenarios/homework.yaml"), "scenarios/homework.yaml");
        assert_eq!(shell_word("my dir/a.yaml"), "'my dir/a.yaml'");
        assert_eq!(shell_word("it's.yaml"), r"'it'\''s.yaml'");
    }
}
