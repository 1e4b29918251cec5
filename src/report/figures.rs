//! The report's figures: which series go on which chart, for one run and
//! for a comparison of runs.

use crate::report::charts::{Chart, Dash, Glyph, Line, Panel, PALETTE};
use crate::Outcome;

/// (bucket start ms, p50 ms, p99 ms, records), as `Series::latency` holds them.
type LatencyBucket = (u64, f64, f64, u64);

/// Partitions drawn and labelled on a lag chart (those that lag most); the
/// rest are summed into one "others" line.
const TOP_PARTITIONS: usize = 4;
/// Colours of the labelled partitions: sky blue, bluish green, orange, reddish purple.
const DETAIL: [plotters::style::RGBColor; TOP_PARTITIONS] = [PALETTE[5], PALETTE[2], PALETTE[3], PALETTE[4]];
const OTHERS: plotters::style::RGBColor = plotters::style::RGBColor(150, 150, 150);

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn x_end(o: &Outcome) -> f64 {
    seconds(o.summary.virtual_end_ms)
}

/// A chart with the run's fault bands, instants and marks.
fn frame(o: &Outcome, title: String, y_label: &str, lines: Vec<Line>, integer_y: bool) -> Chart {
    let s = &o.series;
    Chart {
        title,
        y_label: y_label.into(),
        lines,
        bands: s.bands.iter().map(|(a, b, l)| (seconds(*a), seconds(*b), l.clone())).collect(),
        instants: s.instants.iter().map(|(a, l)| (seconds(*a), l.clone())).collect(),
        marks: s.marks.iter().map(|(a, m, _)| (seconds(*a), *m)).collect(),
        x_end: x_end(o),
        integer_y,
        panel: None,
    }
}

/// The partitions that lag most (by their largest lag; ties by name), then the rest.
/// (group, partition) keys.
type Keys<'a> = Vec<(&'a str, u32)>;

fn ranked_partitions(o: &Outcome) -> (Keys<'_>, Keys<'_>) {
    let mut peak: std::collections::BTreeMap<(&str, u32), u64> = std::collections::BTreeMap::new();
    for r in &o.lag {
        let e = peak.entry((r.group.as_str(), r.partition)).or_default();
        *e = (*e).max(r.lag);
    }
    let mut keys: Vec<((&str, u32), u64)> = peak.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut keys: Vec<(&str, u32)> = keys.into_iter().map(|k| k.0).collect();
    let rest = keys.split_off(keys.len().min(TOP_PARTITIONS));
    (keys, rest)
}

/// Consumer lag over time: high watermark − committed and log end −
/// committed (a frozen high watermark shows as a gap between them), the
/// partitions that lag most, and a panel of records delivered per second.
pub fn lag(o: &Outcome) -> Chart {
    let (top, rest) = ranked_partitions(o);
    let groups = o.lag.iter().map(|r| r.group.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    let mut lines = Vec::new();
    for (i, &(group, partition)) in top.iter().enumerate() {
        let points = o
            .lag
            .iter()
            .filter(|r| r.group == group && r.partition == partition)
            .map(|r| (seconds(r.at_ms), r.lag as f64))
            .collect();
        let label = if groups > 1 { format!("{group} p{partition}") } else { format!("partition {partition}") };
        lines.push(Line { legend: true, ..Line::new(label, points, DETAIL[i], false) });
    }
    if !rest.is_empty() {
        let mut sums: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
        for r in o.lag.iter().filter(|r| rest.contains(&(r.group.as_str(), r.partition))) {
            *sums.entry(r.at_ms).or_default() += r.lag;
        }
        let points = sums.into_iter().map(|(t, v)| (seconds(t), v as f64)).collect();
        let label = format!("{} other partitions, summed", rest.len());
        lines.push(Line { legend: true, dash: Dash::Dotted, ..Line::new(label, points, OTHERS, false) });
    }
    let hw = o.samples.iter().map(|s| (seconds(s.at.ms()), s.lag as f64)).collect();
    let end = o.samples.iter().map(|s| (seconds(s.at.ms()), s.log_end_lag as f64)).collect();
    lines.push(Line { dash: Dash::Dashed, ..Line::new("log end − committed", end, PALETTE[1], true) });
    lines.push(Line::new("high watermark − committed", hw, PALETTE[0], true));
    let title = format!("{}: consumer lag, all partitions, and records delivered per second", o.summary.scenario);
    let mut chart = frame(o, title, "records behind", lines, true);
    chart.panel = Some(Panel { y_label: "delivered / s".into(), lines: vec![delivered_rate(o)] });
    chart
}

/// Records whose first effect reached the sink, per second, between samples.
fn delivered_rate(o: &Outcome) -> Line {
    let points = o
        .samples
        .windows(2)
        .map(|w| {
            let dt = seconds(w[1].at.ms()) - seconds(w[0].at.ms());
            let n = w[1].delivered.saturating_sub(w[0].delivered) as f64;
            (seconds(w[1].at.ms()), if dt > 0.0 { n / dt } else { f64::NAN })
        })
        .collect();
    Line::new("delivered per second", points, PALETTE[2], true)
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

/// Duplicate effects, redeliveries and losses, cumulative: each with its own
/// dash and glyph, so lines that coincide stay apart.
pub fn anomalies(o: &Outcome) -> Chart {
    let pts = |f: &dyn Fn(&crate::world::Sample) -> u64| -> Vec<(f64, f64)> {
        o.samples.iter().map(|s| (seconds(s.at.ms()), f(s) as f64)).collect()
    };
    let lines = vec![
        Line { glyph: Some(Glyph::Circle), ..Line::new("redelivered", pts(&|s| s.redelivered), PALETTE[3], true) },
        Line {
            dash: Dash::Dashed,
            glyph: Some(Glyph::Square),
            ..Line::new("duplicate effects", pts(&|s| s.duplicates), PALETTE[1], true)
        },
        Line {
            dash: Dash::Dotted,
            glyph: Some(Glyph::Triangle),
            ..Line::new("lost (by send time)", lost_points(o), PALETTE[4], true)
        },
    ];
    let title = format!("{}: duplicates, redeliveries and losses (cumulative)", o.summary.scenario);
    frame(o, title, "records", lines, true)
}

/// End-to-end latency percentiles per time bucket of the sink effect; a
/// bucket with no effect is a gap, not a line across it.
pub fn latency(o: &Outcome) -> Chart {
    let bucket = o.series.bucket_ms;
    let half = bucket as f64 / 2000.0;
    let pts = |percentile: fn(&LatencyBucket) -> f64| -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut last: Option<u64> = None;
        for b in &o.series.latency {
            if last.is_some_and(|l| b.0 > l + bucket) {
                out.push((seconds(b.0), f64::NAN));
            }
            out.push((seconds(b.0) + half, percentile(b)));
            last = Some(b.0);
        }
        out
    };
    let lines = vec![
        Line::new("p99", pts(|b| b.2), PALETTE[1], true),
        Line { dash: Dash::Dashed, ..Line::new("p50", pts(|b| b.1), PALETTE[0], true) },
    ];
    let title = format!("{}: latency send → sink, per {} s", o.summary.scenario, bucket / 1000);
    frame(o, title, "milliseconds", lines, false)
}

/// Dash and glyph of the i-th run of a comparison: runs that give the same
/// line stay distinguishable.
fn run_style(i: usize) -> (Dash, Option<Glyph>) {
    const STYLES: [(Dash, Option<Glyph>); 4] = [
        (Dash::Solid, None),
        (Dash::Dashed, Some(Glyph::Circle)),
        (Dash::Dotted, Some(Glyph::Square)),
        (Dash::Dashed, Some(Glyph::Triangle)),
    ];
    STYLES[i % STYLES.len()]
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
            let (dash, glyph) = run_style(i);
            Line { dash, glyph, ..Line::new(label.clone(), points, PALETTE[i % PALETTE.len()], true) }
        })
        .collect();
    let (title, y_label) = match what {
        Compared::Lag => ("consumer lag", "records behind"),
        Compared::Duplicates => ("duplicate effects (cumulative)", "records"),
        Compared::Lost => ("lost records by send time (cumulative)", "records"),
    };
    match runs.first() {
        Some((_, first)) => {
            let mut chart =
                frame(first, format!("{}: {title}, by semantics", first.summary.scenario), y_label, lines, true);
            chart.x_end = runs.iter().map(|r| x_end(&r.1)).fold(0.0, f64::max);
            chart
        }
        None => Chart {
            title: title.into(),
            y_label: y_label.into(),
            lines,
            bands: Vec::new(),
            instants: Vec::new(),
            marks: Vec::new(),
            x_end: 1.0,
            integer_y: true,
            panel: None,
        },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compared {
    Lag,
    Duplicates,
    Lost,
}
