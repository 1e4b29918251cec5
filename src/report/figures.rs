//! The report's figures: which series go on which chart, for one run and
//! for a comparison of runs.

use crate::report::charts::{Chart, Line, PALETTE};
use crate::Outcome;

/// (bucket start ms, p50 ms, p99 ms, records), as `Series::latency` holds them.
type LatencyBucket = (u64, f64, f64, u64);

/// Light colours for per-partition detail lines.
const DETAIL: [plotters::style::RGBColor; 4] = [
    plotters::style::RGBColor(158, 202, 225),
    plotters::style::RGBColor(253, 174, 107),
    plotters::style::RGBColor(161, 217, 155),
    plotters::style::RGBColor(188, 189, 220),
];

/// Most per-partition lines drawn on a lag chart (the total is always drawn).
const MAX_PARTITION_LINES: usize = 24;

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn markers(o: &Outcome) -> Vec<(f64, String)> {
    o.series.faults.iter().map(|(ms, label)| (seconds(*ms), label.clone())).collect()
}

fn x_end(o: &Outcome) -> f64 {
    seconds(o.summary.virtual_end_ms)
}

/// Consumer lag over time: the total, and each partition.
pub fn lag(o: &Outcome) -> Chart {
    let mut lines = Vec::new();
    let mut keys: Vec<(&str, u32)> = o.lag.iter().map(|r| (r.group.as_str(), r.partition)).collect();
    keys.sort_unstable();
    keys.dedup();
    let groups = keys.iter().map(|k| k.0).collect::<std::collections::BTreeSet<_>>().len();
    for (i, &(group, partition)) in keys.iter().take(MAX_PARTITION_LINES).enumerate() {
        let points = o
            .lag
            .iter()
            .filter(|r| r.group == group && r.partition == partition)
            .map(|r| (seconds(r.at_ms), r.lag as f64))
            .collect();
        let label = if groups > 1 { format!("{group} p{partition}") } else { format!("p{partition}") };
        lines.push(Line { label, points, color: DETAIL[i % DETAIL.len()], thick: false });
    }
    let total = o.samples.iter().map(|s| (seconds(s.at.ms()), s.lag as f64)).collect();
    lines.push(Line { label: "lag, all partitions".into(), points: total, color: PALETTE[0], thick: true });
    Chart {
        title: format!("{}: consumer lag (thin lines: each partition)", o.summary.scenario),
        y_label: "records behind (high watermark − committed)".into(),
        lines,
        markers: markers(o),
        x_end: x_end(o),
    }
}

/// Lost records by send time, cumulative, at each sample time.
fn lost_points(o: &Outcome) -> Vec<(f64, f64)> {
    o.samples
        .iter()
        .map(|s| {
            let n = o.series.lost_sent_ms.partition_point(|&t| t <= s.at.ms());
            (seconds(s.at.ms()), n as f64)
        })
        .collect()
}

/// Duplicate effects, redeliveries and losses, cumulative.
pub fn anomalies(o: &Outcome) -> Chart {
    let pts = |f: &dyn Fn(&crate::world::Sample) -> u64| -> Vec<(f64, f64)> {
        o.samples.iter().map(|s| (seconds(s.at.ms()), f(s) as f64)).collect()
    };
    Chart {
        title: format!("{}: duplicates, redeliveries and losses (cumulative)", o.summary.scenario),
        y_label: "records".into(),
        lines: vec![
            Line { label: "redelivered".into(), points: pts(&|s| s.redelivered), color: PALETTE[3], thick: true },
            Line { label: "duplicate effects".into(), points: pts(&|s| s.duplicates), color: PALETTE[1], thick: true },
            Line { label: "lost (by send time)".into(), points: lost_points(o), color: PALETTE[4], thick: true },
        ],
        markers: markers(o),
        x_end: x_end(o),
    }
}

/// End-to-end latency percentiles per time bucket of the sink effect.
pub fn latency(o: &Outcome) -> Chart {
    let half = o.series.bucket_ms as f64 / 2000.0;
    let pts = |percentile: fn(&LatencyBucket) -> f64| -> Vec<(f64, f64)> {
        o.series.latency.iter().map(|b| (seconds(b.0) + half, percentile(b))).collect()
    };
    Chart {
        title: format!("{}: latency send → sink, per {} s", o.summary.scenario, o.series.bucket_ms / 1000),
        y_label: "milliseconds".into(),
        lines: vec![
            Line { label: "p99".into(), points: pts(|b| b.2), color: PALETTE[1], thick: true },
            Line { label: "p50".into(), points: pts(|b| b.1), color: PALETTE[0], thick: true },
        ],
        markers: markers(o),
        x_end: x_end(o),
    }
}

/// One line per run (labelled), for a comparison: lag, duplicates or losses.
pub fn compare(runs: &[(String, Outcome)], what: Compared) -> Chart {
    let lines = runs
        .iter()
        .enumerate()
        .map(|(i, (label, o))| {
            let points = match what {
                Compared::Lag => o.samples.iter().map(|s| (seconds(s.at.ms()), s.lag as f64)).collect(),
                Compared::Duplicates => o.samples.iter().map(|s| (seconds(s.at.ms()), s.duplicates as f64)).collect(),
                Compared::Lost => lost_points(o),
            };
            Line { label: label.clone(), points, color: PALETTE[i % PALETTE.len()], thick: true }
        })
        .collect();
    let first = runs.first().map(|r| &r.1);
    let (title, y_label) = match what {
        Compared::Lag => ("consumer lag", "records behind"),
        Compared::Duplicates => ("duplicate effects (cumulative)", "records"),
        Compared::Lost => ("lost records by send time (cumulative)", "records"),
    };
    Chart {
        title: format!("{}: {title}, by semantics", first.map_or("", |o| o.summary.scenario.as_str())),
        y_label: y_label.into(),
        lines,
        markers: first.map(markers).unwrap_or_default(),
        x_end: runs.iter().map(|r| x_end(&r.1)).fold(0.0, f64::max),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compared {
    Lag,
    Duplicates,
    Lost,
}
