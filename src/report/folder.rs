//! The report folder: `summary.json`, `summary.md`, `timeseries.csv`, `lag.csv`.
//!
//! Every file is written to a temporary name and renamed into place, so a
//! failure never leaves a half-written report or destroys a previous one.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::oracle::checkers::Summary;
use crate::world::Sample;
use crate::LagRow;

/// Writes `bytes` to `path` atomically (temp file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// The summary as pretty JSON with a trailing newline.
pub fn summary_json(s: &Summary) -> String {
    let mut j = serde_json::to_string_pretty(s).expect("a summary always serializes");
    j.push('\n');
    j
}

/// One row per sample: time, group lag, cumulative deliveries, duplicates, redeliveries.
pub fn timeseries_csv(samples: &[Sample]) -> String {
    let mut o = String::from("time_ms,lag,delivered,duplicates,redelivered\n");
    for s in samples {
        let _ = writeln!(o, "{},{},{},{},{}", s.at.ms(), s.lag, s.delivered, s.duplicates, s.redelivered);
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

pub fn summary_md(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", s.scenario);
    let sem = s.semantics.as_deref().unwrap_or("none");
    let _ = writeln!(
        o,
        "seed {}, semantics {}, virtual time {} ms, {} events, trace `{}`\n",
        s.seed, sem, s.virtual_end_ms, s.events, s.trace_hash
    );
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

/// Writes the report folder for one run.
pub fn write(dir: &Path, s: &Summary, samples: &[Sample], lag: &[LagRow]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    write_atomic(&dir.join("summary.json"), summary_json(s).as_bytes())?;
    write_atomic(&dir.join("summary.md"), summary_md(s).as_bytes())?;
    write_atomic(&dir.join("timeseries.csv"), timeseries_csv(samples).as_bytes())?;
    write_atomic(&dir.join("lag.csv"), lag_csv(lag).as_bytes())?;
    Ok(())
}
