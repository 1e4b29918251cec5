//! The audit's outputs: the terminal table, the JSON (the project's fixed shape) and an
//! offline HTML page.

use serde_json::{json, Value};

use super::{FaultRow, Stat, METRICS};

/// What the audit was run on, for every output.
pub struct Header {
    pub client: String,
    pub kafka_version: String,
    pub configs: Vec<String>,
    pub workload: String,
    pub seeds: String,
    pub warnings: Vec<String>,
}

fn short(m: &str) -> &str {
    match m {
        "lost_writes" => "lost_w",
        "lost_acked" => "lost_ack",
        "duplicates" => "dups",
        "reordered" => "reord",
        "rebalances" => "rebal",
        "commits_failed" => "cfail",
        "latency_p99_ms" => "p99_ms",
        other => other,
    }
}

fn cell(s: Option<&Stat>) -> String {
    let s = s.copied().unwrap_or(Stat { median: 0.0, max: 0.0 });
    let f = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") };
    format!("{}/{}", f(s.median), f(s.max))
}

/// The table: one row per fault (median/worst of each count), its cause and its fix.
pub fn table(h: &Header, rows: &[FaultRow], not_yet: &[(&str, &str)]) -> String {
    let mut t = format!(
        "streamsim audit: {} client, Kafka {}, workload {}, seeds {}\n  configs: {}\n",
        h.client,
        h.kafka_version,
        h.workload,
        h.seeds,
        h.configs.join(", ")
    );
    for w in &h.warnings {
        t.push_str(&format!("  warning: {w}\n"));
    }
    t.push_str(&format!("\n  {:<26} {:>5}", "fault (median/worst)", "p"));
    for m in METRICS {
        t.push_str(&format!(" {:>9}", short(m)));
    }
    t.push('\n');
    for r in rows {
        t.push_str(&format!("  {:<26} {:>5.2}", r.fault, r.probability));
        for m in METRICS {
            t.push_str(&format!(" {:>9}", cell(r.metrics.get(m))));
        }
        t.push('\n');
        if let Some(c) = &r.cause {
            t.push_str(&format!("      why: {c}\n"));
        }
        match (&r.fix, r.probability > 0.0) {
            (Some(f), _) => {
                let own = super::CATALOGUE.iter().find(|f| f.id == r.fault).map_or(&[][..], |f| f.anomalies);
                let zero = super::ANOMALIES
                    .iter()
                    .chain(own)
                    .map(|m| format!("{} {}", short(m), cell(f.metrics.get(m))))
                    .collect::<Vec<_>>();
                t.push_str(&format!(
                    "      fix: {}\n        proven on the same seeds: {}\n",
                    f.change,
                    zero.join(", ")
                ));
                t.push_str(&format!(
                    "        cost: p99 {:.1} -> {:.1} ms, failed {:.0} -> {:.0}, duplicates {:.0} -> {:.0}, rebalances {:.0} -> {:.0} (medians)\n",
                    f.cost.latency_p99_ms_before,
                    f.cost.latency_p99_ms_after,
                    f.cost.failed_before,
                    f.cost.failed_after,
                    f.cost.duplicates_before,
                    f.cost.duplicates_after,
                    f.cost.rebalances_before,
                    f.cost.rebalances_after
                ));
            }
            (None, true) => t.push_str("      fix: none of the candidate config changes removes it on every seed\n"),
            (None, false) => {}
        }
    }
    if !not_yet.is_empty() {
        t.push_str("\n  not yet in the catalogue:\n");
    }
    for (id, why) in not_yet {
        t.push_str(&format!("    {id}: {why}\n"));
    }
    t
}

/// The JSON: `{ client, kafka_version, faults: [ { fault, seeds, metrics, cause, fix } ] }`
/// and, beside them, the configs, workload, warnings and the faults not yet in the catalogue.
pub fn json(h: &Header, rows: &[FaultRow], not_yet: &[(&str, &str)]) -> Value {
    let faults: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "fault": r.fault,
                "seeds": r.seeds,
                "probability": r.probability,
                "metrics": r.metrics,
                "cause": r.cause,
                "fix": r.fix,
            })
        })
        .collect();
    json!({
        "client": h.client,
        "kafka_version": h.kafka_version,
        "configs": h.configs,
        "workload": h.workload,
        "seeds": h.seeds,
        "warnings": h.warnings,
        "faults": faults,
        "not_in_catalogue": not_yet.iter().map(|(id, why)| json!({"fault": id, "why": why})).collect::<Vec<_>>(),
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bar per metric (worst before, worst after the fix), inline SVG: one chart per fault.
fn chart(r: &FaultRow) -> String {
    let mut svg =
        String::from("<svg width=\"480\" height=\"130\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\">");
    let anomalies = super::ANOMALIES;
    let top = anomalies.iter().map(|m| r.metrics.get(m).map_or(0.0, |s| s.max)).fold(1.0, f64::max);
    for (i, m) in anomalies.iter().enumerate() {
        let x = 10 + i * 78;
        let before = r.metrics.get(m).map_or(0.0, |s| s.max);
        let after = r.fix.as_ref().and_then(|f| f.metrics.get(m)).map_or(0.0, |s| s.max);
        for (j, (v, colour)) in [(before, "#c0392b"), (after, "#27ae60")].iter().enumerate() {
            let hgt = (v / top * 90.0).round();
            svg.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"28\" height=\"{hgt}\" fill=\"{colour}\"/>",
                x + j * 30,
                100.0 - hgt
            ));
        }
        svg.push_str(&format!("<text x=\"{x}\" y=\"115\">{} {before:.0}/{after:.0}</text>", short(m)));
    }
    svg.push_str("</svg>");
    svg
}

/// The page: the risk matrix, one chart per fault (worst before in red, after the fix in
/// green), the causes and the fixes. No script, no external file: it opens offline.
pub fn html(h: &Header, rows: &[FaultRow], not_yet: &[(&str, &str)]) -> String {
    let mut p = String::from("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>streamsim audit</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child{text-align:left}.bad{background:#fdd}</style></head><body>");
    p.push_str(&format!(
        "<h1>streamsim audit</h1><p>{} client, Kafka {}, workload {}, seeds {}; configs: {}</p>",
        esc(&h.client),
        esc(&h.kafka_version),
        esc(&h.workload),
        esc(&h.seeds),
        esc(&h.configs.join(", "))
    ));
    for w in &h.warnings {
        p.push_str(&format!("<p><b>warning:</b> {}</p>", esc(w)));
    }
    p.push_str("<h2>Risk matrix (median/worst over seeds)</h2><table><tr><th>fault</th><th>p</th>");
    for m in METRICS {
        p.push_str(&format!("<th>{m}</th>"));
    }
    p.push_str("</tr>");
    for r in rows {
        let class = if r.probability > 0.0 { " class=\"bad\"" } else { "" };
        p.push_str(&format!("<tr{class}><td>{}</td><td>{:.2}</td>", r.fault, r.probability));
        for m in METRICS {
            p.push_str(&format!("<td>{}</td>", cell(r.metrics.get(m))));
        }
        p.push_str("</tr>");
    }
    p.push_str("</table>");
    for r in rows {
        p.push_str(&format!("<h2>{}</h2><p>{}</p>", r.fault, esc(r.what)));
        if let Some(c) = &r.cause {
            p.push_str(&format!("<p><b>why:</b> {}</p>", esc(c)));
        }
        if let Some(f) = &r.fix {
            p.push_str(&format!(
                "<p><b>fix:</b> <code>{}</code>; p99 {:.1} &rarr; {:.1} ms</p>{}",
                esc(&f.change),
                f.cost.latency_p99_ms_before,
                f.cost.latency_p99_ms_after,
                chart(r)
            ));
        } else if r.probability == 0.0 {
            p.push_str("<p>no anomaly on any seed</p>");
        }
    }
    if !not_yet.is_empty() {
        p.push_str("<h2>Not yet in the catalogue</h2><ul>");
        for (id, why) in not_yet {
            p.push_str(&format!("<li>{id}: {}</li>", esc(why)));
        }
        p.push_str("</ul>");
    }
    p.push_str("</body></html>\n");
    p
}
