//! The terminal summary: the counts side by side, rebalances, expectations.

use std::fmt::Write;

use crate::oracle::checkers::Summary;

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else {
        format!("{v:.1}ms")
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// Renders the summary for a person reading a terminal (no colour needed).
pub fn render(s: &Summary) -> String {
    render_with_why(s, None)
}

/// The table, with `why` (the biggest anomaly's cause, from explain, and how to see every
/// story) under the counts.
pub fn render_with_why(s: &Summary, why: Option<&[String]>) -> String {
    let mut o = String::new();
    header(&mut o, s);
    counts(&mut o, s);
    if let Some((first, rest)) = why.and_then(<[String]>::split_first) {
        let _ = writeln!(o, "\n  why: {first}");
        for line in rest {
            let _ = writeln!(o, "       {line}");
        }
    }
    let _ = writeln!(
        o,
        "\n  latency (send -> sink)  p50 {}  p99 {}  max {}",
        ms(s.latency_ms.p50),
        ms(s.latency_ms.p99),
        ms(s.latency_ms.max)
    );
    assignments(&mut o, s);
    expectations(&mut o, s);
    o
}

/// The scenario, seed, virtual time, event count and trace hash.
fn header(o: &mut String, s: &Summary) {
    let sem = s.semantics.as_deref().map(|x| format!(", semantics {x}")).unwrap_or_default();
    let _ = writeln!(o, "streamsim: {} (seed {}{})", s.scenario, s.seed, sem);
    let _ = writeln!(
        o,
        "virtual time {}.{:03}s, {} events, trace {}",
        s.virtual_end_ms / 1000,
        s.virtual_end_ms % 1000,
        s.events,
        &s.trace_hash[..16.min(s.trace_hash.len())]
    );
    let _ = writeln!(o);
}

/// The log side and the group side in two columns, lag, and the Jepsen consumer anomalies
/// (only when one is non-zero).
fn counts(o: &mut String, s: &Summary) {
    let counts = s.counts();
    let (left, right) = (&counts[..7], &counts[7..14]);
    let _ = writeln!(o, "  {:<28}consumer groups", "producer and log");
    for (l, r) in left.iter().zip(right.iter()) {
        let _ = writeln!(o, "  {:<14}{:>10}    {:<14}{:>10}", l.0, l.1, r.0, r.1);
    }
    let _ = writeln!(
        o,
        "\n  lag max {}  final {}    rebalances {}    lost_acked {}",
        s.max_lag, s.final_lag, s.rebalances, s.lost_acked
    );
    let jepsen = [
        ("poll_skips", s.poll_skips),
        ("nonmonotonic_polls", s.nonmonotonic_polls),
        ("aborted_reads", s.aborted_reads),
    ];
    let odd: Vec<String> = jepsen.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{k} {n}")).collect();
    if !odd.is_empty() {
        let _ = writeln!(o, "  consumer anomalies: {}", odd.join("  "));
    }
}

/// Each rebalance's assignment: time, group, generation, and member -> partitions.
fn assignments(o: &mut String, s: &Summary) {
    if s.assignments.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n  assignments");
    for a in &s.assignments {
        let members: Vec<String> = a.members.iter().map(|(m, p)| format!("{m} {:?}", p).replace(", ", ",")).collect();
        let _ = writeln!(
            o,
            "  {:>9}  {} gen {}  {}",
            format!("{}.{:03}s", a.at_ms / 1000, a.at_ms % 1000),
            a.group,
            a.generation,
            members.join("  ")
        );
    }
}

/// The expectations, columns as wide as their longest entry so every `actual` lines up.
fn expectations(o: &mut String, s: &Summary) {
    if s.expectations.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n  expectations");
    let name_w = s.expectations.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let expected_w = s.expectations.iter().map(|e| e.expected.len()).max().unwrap_or(0);
    for e in &s.expectations {
        let mark = if e.pass { "pass" } else { "FAIL" };
        let _ =
            writeln!(o, "    {mark}  {:<name_w$}  {:<expected_w$}  actual {}", e.name, e.expected, fmt_num(e.actual));
    }
}

/// The readable diff of failed expectations, for stderr.
pub fn render_failures(s: &Summary) -> Option<String> {
    let failed: Vec<_> = s.expectations.iter().filter(|e| !e.pass).collect();
    if failed.is_empty() {
        return None;
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "error: {} of {} expectations failed in `{}` (seed {})",
        failed.len(),
        s.expectations.len(),
        s.scenario,
        s.seed
    );
    for e in failed {
        let _ = writeln!(o, "  {}:", e.name);
        let _ = writeln!(o, "    - expected {}", e.expected);
        let _ = writeln!(o, "    + actual   {}", fmt_num(e.actual));
    }
    Some(o)
}
