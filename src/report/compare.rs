//! `streamsim compare`: one workload under several semantics presets, side by
//! side: a terminal table, overlaid charts and one report folder per preset.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::report::charts;
use crate::report::figures::{self, Compared};
use crate::report::folder::{self, html_escape};
use crate::report::publish::{self, Layout, PublishError};
use crate::Outcome;

/// A row of the comparison: its label, and how to read it from a run.
type Row = (&'static str, fn(&Outcome) -> String);

/// The rows of the comparison.
fn rows() -> Vec<Row> {
    vec![
        ("produced", |o| o.summary.produced.to_string()),
        ("acked", |o| o.summary.acked.to_string()),
        ("lost", |o| o.summary.lost.to_string()),
        ("lost_acked", |o| o.summary.lost_acked.to_string()),
        ("duplicates", |o| o.summary.duplicates.to_string()),
        ("redelivered", |o| o.summary.redelivered.to_string()),
        ("reordered", |o| o.summary.reordered.to_string()),
        ("max_lag", |o| o.summary.max_lag.to_string()),
        ("latency p99 (ms)", |o| format!("{:.1}", o.summary.latency_ms.p99)),
        ("transactions", |o| o.summary.transactions_committed.to_string()),
        ("events", |o| o.summary.events.to_string()),
    ]
}

/// The side-by-side table for the terminal.
pub fn table(runs: &[(String, Outcome)]) -> String {
    let mut o = String::new();
    let first = &runs[0].1.summary;
    let _ = writeln!(o, "streamsim compare: {} (seed {})\n", first.scenario, first.seed);
    let width = runs.iter().map(|r| r.0.len()).max().unwrap_or(0).max(10);
    let _ = write!(o, "  {:<18}", "");
    for (label, _) in runs {
        let _ = write!(o, " {label:>width$}");
    }
    o.push('\n');
    for (name, value) in rows() {
        let _ = write!(o, "  {name:<18}");
        for (_, run) in runs {
            let _ = write!(o, " {:>width$}", value(run));
        }
        o.push('\n');
    }
    o
}

fn table_md(runs: &[(String, Outcome)]) -> String {
    let mut o = String::from("| |");
    for (label, _) in runs {
        let _ = write!(o, " {label} |");
    }
    o.push_str("\n|---|");
    for _ in runs {
        o.push_str("---:|");
    }
    o.push('\n');
    for (name, value) in rows() {
        let _ = write!(o, "| {name} |");
        for (_, run) in runs {
            let _ = write!(o, " {} |", value(run));
        }
        o.push('\n');
    }
    o
}

/// Every entry of a comparison folder: its own files, and one report folder
/// per preset.
pub const LAYOUT: Layout = Layout {
    files: &[
        "compare.md",
        "duplicates.png",
        "duplicates.svg",
        "index.html",
        "lag.png",
        "lag.svg",
        "lost.png",
        "lost.svg",
    ],
    folders: &["at-least-once", "at-most-once", "effectively-once", "exactly-once"],
    inner: Some(&folder::LAYOUT),
};

/// The report folder of a column: its label, a `FILE / PRESET / VARIANT` label's parts
/// joined by `.` (a folder name holds no `/`).
pub fn folder_name(label: &str) -> String {
    label.replace(" / ", ".")
}

/// Checks, before the runs, that the comparison may replace what is at `dir`.
pub fn check_target(dir: &Path) -> Result<(), PublishError> {
    publish::check_folder(dir, &LAYOUT)
}

/// The layout of a comparison whose columns carry other labels than the presets (files
/// compared side by side: their scenario names). Leaked: one per command, for its whole life.
pub fn layout_for(labels: &[String]) -> &'static Layout {
    let folders: Vec<&'static str> = labels.iter().map(|l| &*Box::leak(folder_name(l).into_boxed_str())).collect();
    Box::leak(Box::new(Layout {
        files: LAYOUT.files,
        folders: Box::leak(folders.into_boxed_slice()),
        inner: LAYOUT.inner,
    }))
}

/// [`check_target`] for a comparison laid out as `layout`.
pub fn check_target_as(dir: &Path, layout: &Layout) -> Result<(), PublishError> {
    publish::check_folder(dir, layout)
}

/// [`write`] for a comparison laid out as `layout`; `flags` are each column's override flags
/// (empty for none), listed beside its link.
pub fn write_as(dir: &Path, layout: &Layout, runs: &[(String, Outcome)], flags: &[String]) -> Result<(), PublishError> {
    publish::publish_folder(dir, layout, |staged| write_into(staged, runs, flags))
}

/// Writes the comparison, replacing what was at `dir` whole: overlaid
/// charts (lag, duplicates, lost), a `compare.md`, an `index.html` and one
/// report folder per preset.
pub fn write(dir: &Path, runs: &[(String, Outcome)]) -> Result<(), PublishError> {
    publish::publish_folder(dir, &LAYOUT, |staged| write_into(staged, runs, &[]))
}

/// The title's end and the opening sentence: presets, or columns of other kinds (files,
/// variants).
fn intro(runs: &[(String, Outcome)]) -> (&'static str, &'static str) {
    let presets = ["at-least-once", "at-most-once", "effectively-once", "exactly-once"];
    if runs.iter().all(|(l, _)| presets.contains(&l.as_str())) {
        return ("semantics compared", "The same workload, seed and faults under each preset. A preset only sets configs; every difference below comes from the runs.");
    }
    ("compared", "Each column is one run: its label names its file, preset and variant (`baseline`: no variant), and its flags follow its link below.")
}

/// ` (`FLAGS`)` after a column's link, or nothing.
fn flags_note(flags: &[String], i: usize) -> String {
    flags.get(i).filter(|f| !f.is_empty()).map_or(String::new(), |f| format!(" (`{f}`)"))
}

fn write_into(dir: &Path, runs: &[(String, Outcome)], flags: &[String]) -> io::Result<()> {
    let charts = [
        ("lag", figures::compare(runs, Compared::Lag)),
        ("duplicates", figures::compare(runs, Compared::Duplicates)),
        ("lost", figures::compare(runs, Compared::Lost)),
    ];
    let mut svgs = Vec::new();
    for (stem, chart) in &charts {
        let svg = charts::svg(chart);
        fs::write(dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        charts::png(chart, &dir.join(format!("{stem}.png")))?;
        svgs.push(svg);
    }
    for (label, o) in runs {
        let folder = dir.join(folder_name(label));
        fs::create_dir(&folder)?;
        folder::write_into(&folder, o)?;
    }
    let first = &runs[0].1.summary;
    let (title, opening) = intro(runs);
    let mut md = format!("# {}: {title} (seed {})\n\n{opening}\n\n", first.scenario, first.seed);
    md.push_str(&table_md(runs));
    for (stem, _) in &charts {
        let _ = write!(md, "\n![{stem}]({stem}.svg)\n");
    }
    md.push('\n');
    for (i, (label, o)) in runs.iter().enumerate() {
        let _ = writeln!(
            md,
            "- [{label}]({}/summary.md){}: {}",
            folder_name(label),
            flags_note(flags, i),
            folder::narrative(&o.summary, &o.series.faults)
        );
    }
    fs::write(dir.join("compare.md"), md)?;
    fs::write(dir.join("index.html"), index_html(runs, &svgs, flags))
}

/// A page that opens offline: the table, the overlaid charts, a link to each preset's report.
fn index_html(runs: &[(String, Outcome)], svgs: &[String], flags: &[String]) -> String {
    let first = &runs[0].1.summary;
    let mut html = String::new();
    let (kind, opening) = intro(runs);
    let title = html_escape(&format!("{}: {kind}", first.scenario));
    let opening = match kind {
        "semantics compared" => {
            "The same workload, seed and faults under each preset; a preset only sets configs.".to_string()
        }
        _ => html_escape(opening).replace('`', ""),
    };
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{padding:2px 12px;border-bottom:1px solid #ddd;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style></head><body>\n<h1>{title}</h1>\n<p>seed {}. {opening}</p>",
        first.seed
    );
    html.push_str("<table><tr><th></th>");
    for (label, _) in runs {
        let _ = write!(
            html,
            "<th><a href=\"{}/index.html\">{}</a></th>",
            html_escape(&folder_name(label)),
            html_escape(label)
        );
    }
    html.push_str("</tr>\n");
    for (name, value) in rows() {
        let _ = write!(html, "<tr><td>{name}</td>");
        for (_, run) in runs {
            let _ = write!(html, "<td>{}</td>", value(run));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    for svg in svgs {
        let _ = writeln!(html, "<div>{svg}</div>");
    }
    html.push_str("<ul>\n");
    for (i, (label, o)) in runs.iter().enumerate() {
        let _ = writeln!(
            html,
            "<li><a href=\"{}/index.html\">{}</a>{}: {}</li>",
            html_escape(&folder_name(label)),
            html_escape(label),
            html_escape(&flags_note(flags, i).replace('`', "")),
            html_escape(&folder::narrative(&o.summary, &o.series.faults))
        );
    }
    html.push_str("</ul>\n</body></html>\n");
    html
}
