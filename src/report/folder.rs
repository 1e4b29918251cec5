//! The report folder: `summary.json`, `summary.md`, `index.html`,
//! `timeseries.csv`, `lag.csv`, and the charts `lag`, `duplicates` and
//! `latency` as `.svg` and `.png`.
//!
//! The folder is written whole into a staging folder and swapped in (see
//! [`publish`]), so a failure or a kill never leaves a half-written report
//! or destroys a previous one. Every byte is a function of the scenario and seed.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::oracle::checkers::Summary;
use crate::report::publish::{self, Layout, PublishError};
use crate::report::{charts, figures};
use crate::world::Sample;
use crate::{LagRow, Outcome};

/// Every entry of a report folder: a folder holding anything else is not
/// replaced (it is the user's).
pub const LAYOUT: Layout = Layout {
    files: &[
        "duplicates.png",
        "duplicates.svg",
        "index.html",
        "lag.csv",
        "lag.png",
        "lag.svg",
        "latency.png",
        "latency.svg",
        "summary.json",
        "summary.md",
        "timeseries.csv",
    ],
    folders: &[],
    inner: None,
};

/// The summary as pretty JSON with a trailing newline.
pub fn summary_json(s: &Summary) -> String {
    let mut j = serde_json::to_string_pretty(s).expect("a summary always serializes");
    j.push('\n');
    j
}

/// Tidy: one row per sample, one column per variable (docs/pandas.md): the
/// time, the total lag, and the cumulative deliveries, duplicates,
/// redeliveries and losses (by send time). Lag per partition is `lag.csv`'s,
/// one row per (sample, group, partition).
pub fn timeseries_csv(samples: &[Sample], lost_sent_ms: &[u64]) -> String {
    let mut o = String::from("time_ms,lag,delivered,duplicates,redelivered,lost\n");
    for s in samples {
        let lost = lost_sent_ms.partition_point(|&t| t <= s.at.ms());
        let _ = writeln!(o, "{},{},{},{},{},{}", s.at.ms(), s.lag, s.delivered, s.duplicates, s.redelivered, lost);
    }
    o
}

/// Lag per partition over time, one row per (sample, group, partition), with
/// the member holding the partition: per-member lag is the sum of its rows.
pub fn lag_csv(rows: &[LagRow]) -> String {
    let mut o = String::from("time_ms,group,partition,member,lag\n");
    for r in rows {
        let _ = writeln!(o, "{},{},{},{},{}", r.at_ms, r.group, r.partition, r.member, r.lag);
    }
    o
}

/// A plain-language account of what went wrong, from the counts and the faults.
pub fn narrative(s: &Summary, faults: &[(u64, String)]) -> String {
    let mut parts = vec![faults_sentence(faults)];
    if s.lost > 0 {
        let acked = match s.lost_acked {
            0 => "none of them acknowledged, so no promise was broken".to_string(),
            n if n == s.lost => "every one of them acknowledged to the producer".to_string(),
            n => format!("{n} of them acknowledged to the producer"),
        };
        parts.push(format!(
            "{} of {} records never reached the sink and never will ({acked}): they are not in any log past the group's committed offset.",
            s.lost, s.produced
        ));
    } else {
        parts.push(format!(
            "No record was lost: all {} produced records reached the sink or were reported failed.",
            s.produced
        ));
    }
    if s.failed > 0 {
        parts.push(format!("{} sends failed and were reported to the application.", s.failed));
    }
    if s.redelivered > 0 {
        let how = if s.duplicates == 0 {
            "the sink absorbed every one, so no effect was applied twice".to_string()
        } else if s.duplicates == s.redelivered {
            "each was applied again by the sink: duplicates".to_string()
        } else {
            format!("{} of them applied an effect again", s.duplicates)
        };
        parts.push(format!(
            "Consumers processed {} records a second time (their offsets had not been committed when a consumer lost them); {how}.",
            s.redelivered
        ));
    } else if s.duplicates > 0 {
        parts.push(format!("{} effects were applied twice from duplicate copies in the log.", s.duplicates));
    }
    if s.written > s.produced {
        parts.push(format!(
            "The logs hold {} copies of {} records: retries and aborted transactions wrote some twice.",
            s.written, s.produced
        ));
    }
    if s.reordered > 0 {
        parts.push(format!(
            "{} records reached the sink after a later record of the same producer and key.",
            s.reordered
        ));
    }
    if s.rebalances > 1 {
        parts.push(format!(
            "The group rebalanced {} times; members spent {} ms with nothing assigned.",
            s.rebalances, s.stop_the_world_ms
        ));
    }
    if s.throttled > 0 {
        parts.push(format!("Kinesis shards throttled {} requests.", s.throttled));
    }
    if s.producer_blocked_ms > 0 {
        parts.push(format!("send() blocked for {} ms on a full buffer.", s.producer_blocked_ms));
    }
    if s.windows.fired > 0 {
        parts.push(format!(
            "Windows: {} results, {} wrong against the true counts, {} late events dropped, {} corrections.",
            s.windows.fired, s.windows.wrong_results, s.windows.dropped_events, s.windows.corrected
        ));
    }
    parts.join(" ")
}

/// The first sentence of the narrative: the first faults, by time.
fn faults_sentence(faults: &[(u64, String)]) -> String {
    if faults.is_empty() {
        return "No faults were injected.".to_string();
    }
    let list: Vec<String> = faults.iter().take(8).map(|(ms, l)| format!("{l} at {}", secs(*ms))).collect();
    let more = if faults.len() > 8 { format!(" and {} more", faults.len() - 8) } else { String::new() };
    format!("Faults: {}{more}.", list.join(", "))
}

fn secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The charts of a report folder: (file stem, chart).
pub fn charts_of(o: &Outcome) -> [(&'static str, charts::Chart); 3] {
    [("lag", figures::lag(o)), ("duplicates", figures::anomalies(o)), ("latency", figures::latency(o))]
}

pub fn summary_md(s: &Summary) -> String {
    summary_md_with(s, "", &[], &[])
}

fn summary_md_with(s: &Summary, story: &str, charts: &[&str], causes: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", s.scenario);
    let sem = s.semantics.as_deref().unwrap_or("none");
    let _ = writeln!(
        o,
        "seed {}, semantics {}, virtual time {} ms, {} events, trace `{}`\n",
        s.seed, sem, s.virtual_end_ms, s.events, s.trace_hash
    );
    if !story.is_empty() {
        let _ = writeln!(o, "{story}\n");
    }
    if !causes.is_empty() {
        let _ = writeln!(o, "Causes (`streamsim explain` tells each record's story):\n");
        for c in causes.iter().take(10) {
            let _ = writeln!(o, "- {c}");
        }
        o.push('\n');
    }
    for c in charts {
        let _ = writeln!(o, "![{c}]({c}.svg)\n");
    }
    let _ = writeln!(o, "| count | value |\n|---|---:|");
    for (k, v) in s.counts() {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    let _ = writeln!(
        o,
        "\nlatency send → sink: p50 {} ms, p99 {} ms, max {} ms",
        s.latency_ms.p50, s.latency_ms.p99, s.latency_ms.max
    );
    if !s.expectations.is_empty() {
        let _ = writeln!(o, "\n| expectation | expected | actual | result |\n|---|---|---:|---|");
        for e in &s.expectations {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                e.name,
                e.expected,
                e.actual,
                if e.pass { "pass" } else { "FAIL" }
            );
        }
    }
    o
}

/// Escapes text for HTML.
pub fn html_escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A page that opens offline: the story, the charts inline, the counts.
fn index_html(run: &Outcome, story: &str, svgs: &[(&str, String)]) -> String {
    let (s, causes) = (&run.summary, &run.causes);
    let mut o = String::new();
    let title = html_escape(&s.scenario);
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}}td:first-child,th:first-child{{text-align:left}}.fail{{color:#b00}}.left td,.left th{{text-align:left}}pre{{background:#f6f6f6;padding:8px;overflow-x:auto}}svg{{max-width:100%;height:auto}}</style></head><body>"
    );
    let sem = s.semantics.as_deref().unwrap_or("none");
    let _ = writeln!(
        o,
        "<h1>{title}</h1>\n<p>seed {}, semantics {}, virtual time {} ms, {} events, trace <code>{}</code></p>",
        s.seed,
        html_escape(sem),
        s.virtual_end_ms,
        s.events,
        s.trace_hash
    );
    let _ = writeln!(o, "<p>{}</p>", html_escape(story));
    if !causes.is_empty() {
        let _ = writeln!(o, "<h2>causes</h2><ul>");
        for c in causes.iter().take(10) {
            let _ = writeln!(o, "<li>{}</li>", html_escape(c));
        }
        let _ = writeln!(o, "</ul>");
    }
    for (_, svg) in svgs {
        let _ = writeln!(o, "<div>{svg}</div>");
    }
    let _ = writeln!(o, "<table><tr><th>count</th><th>value</th></tr>");
    for (k, v) in s.counts() {
        let _ = writeln!(o, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    let _ = writeln!(o, "</table>");
    if !s.expectations.is_empty() {
        let _ = writeln!(
            o,
            "<h2>expectations</h2><table><tr><th>metric</th><th>expected</th><th>actual</th><th>result</th></tr>"
        );
        for e in &s.expectations {
            let (class, r) = if e.pass { ("", "pass") } else { (" class=\"fail\"", "FAIL") };
            let _ = writeln!(
                o,
                "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{r}</td></tr>",
                e.name,
                html_escape(&e.expected),
                e.actual
            );
        }
        let _ = writeln!(o, "</table>");
    }
    o += &crate::report::page::sections(run);
    let _ = writeln!(o, "<p>Files: <a href=\"summary.json\">summary.json</a>, <a href=\"summary.md\">summary.md</a>, <a href=\"timeseries.csv\">timeseries.csv</a>, <a href=\"lag.csv\">lag.csv</a>.</p>\n</body></html>");
    o
}

/// Checks, before a run, that its report may replace what is at `dir`.
pub fn check_target(dir: &Path) -> Result<(), PublishError> {
    publish::check_folder(dir, &LAYOUT)
}

/// Writes the report folder for one run, replacing what was at `dir` whole.
pub fn write(dir: &Path, o: &Outcome) -> Result<(), PublishError> {
    publish::publish_folder(dir, &LAYOUT, |staged| write_into(staged, o))
}

/// Writes the report's files into `dir`, an empty folder.
pub fn write_into(dir: &Path, o: &Outcome) -> io::Result<()> {
    let s = &o.summary;
    let story = narrative(s, &o.series.faults);
    let charts = charts_of(o);
    let mut svgs = Vec::new();
    for (stem, chart) in &charts {
        let svg = charts::svg(chart);
        fs::write(dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        charts::png(chart, &dir.join(format!("{stem}.png")))?;
        svgs.push((*stem, svg));
    }
    let stems: Vec<&str> = charts.iter().map(|c| c.0).collect();
    fs::write(dir.join("summary.json"), summary_json(s))?;
    fs::write(dir.join("summary.md"), summary_md_with(s, &story, &stems, &o.causes))?;
    fs::write(dir.join("index.html"), index_html(o, &story, &svgs))?;
    fs::write(dir.join("timeseries.csv"), timeseries_csv(&o.samples, &o.series.lost_sent_ms))?;
    fs::write(dir.join("lag.csv"), lag_csv(&o.lag))?;
    Ok(())
}
