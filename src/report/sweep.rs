//! `streamsim sweep`: one scenario over many seeds, in parallel, and the
//! distribution of every count. Results are kept per seed and sorted, so
//! they are the same whatever the number of threads, and shards of a sweep
//! merge into exactly what one sweep over all their seeds gives.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::oracle::metrics::METRICS;
use crate::Outcome;

/// One seed's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    /// Every metric of `METRICS`, by name.
    pub metrics: BTreeMap<String, f64>,
    /// Whether every `expect:` held.
    pub pass: bool,
    /// The failed expectations, as "metric: expected E, actual A".
    pub failures: Vec<String>,
}

/// A sweep (or a shard of one) as `--json` prints it and `--merge` reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub scenario: String,
    /// The scenario file, for replay commands.
    pub file: String,
    pub runs: Vec<SeedResult>,
}

impl SeedResult {
    pub fn of(seed: u64, o: &Outcome) -> SeedResult {
        let s = &o.summary;
        let metrics = METRICS.iter().filter_map(|m| s.metric(m).map(|v| (m.to_string(), v))).collect();
        let failures = s
            .expectations
            .iter()
            .filter(|e| !e.pass)
            .map(|e| format!("{}: expected {}, actual {}", e.name, e.expected, e.actual))
            .collect::<Vec<_>>();
        SeedResult { seed, metrics, pass: failures.is_empty(), failures }
    }
}

/// The seeds of shard `k` (1-based) of `n` over `[from, to)`: contiguous
/// slices, the first ones one seed longer when the range does not divide.
pub fn shard_seeds(from: u64, to: u64, k: u64, n: u64) -> std::ops::Range<u64> {
    debug_assert!(k >= 1 && k <= n && from <= to);
    let len = to - from;
    let (base, extra) = (len / n, len % n);
    let start = from + (k - 1) * base + (k - 1).min(extra);
    let size = base + u64::from(k - 1 < extra);
    start..start + size
}

/// Combines shards: runs sorted by seed, a seed seen twice kept once.
pub fn merge(parts: Vec<SweepResult>) -> Result<SweepResult, String> {
    let mut it = parts.into_iter();
    let mut all = it.next().ok_or("nothing to merge")?;
    for p in it {
        if p.scenario != all.scenario {
            return Err(format!("shards of different scenarios: `{}` and `{}`", all.scenario, p.scenario));
        }
        all.runs.extend(p.runs);
    }
    all.runs.sort_by_key(|r| r.seed);
    all.runs.dedup_by_key(|r| r.seed);
    Ok(all)
}

/// Nearest-rank median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    sorted[(sorted.len() - 1) / 2]
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The report: each count's min, median and max over the seeds, the seeds
/// that failed expectations and how to replay the first.
pub fn report(r: &SweepResult) -> String {
    let mut o = String::new();
    let n = r.runs.len();
    let (first, last) = (r.runs.first().map_or(0, |x| x.seed), r.runs.last().map_or(0, |x| x.seed));
    let _ = writeln!(o, "streamsim sweep: {} over {n} seeds ({first}..={last})\n", r.scenario);
    let _ = writeln!(o, "  {:<28} {:>12} {:>12} {:>12}", "", "min", "median", "max");
    for m in METRICS {
        let mut values: Vec<f64> = r.runs.iter().filter_map(|x| x.metrics.get(*m).copied()).collect();
        if values.is_empty() {
            continue;
        }
        values.sort_by(f64::total_cmp);
        let (lo, mid, hi) = (values[0], median(&values), values[values.len() - 1]);
        if lo == 0.0 && hi == 0.0 {
            continue; // nothing to see
        }
        let _ = writeln!(o, "  {m:<28} {:>12} {:>12} {:>12}", num(lo), num(mid), num(hi));
    }
    let failed: Vec<&SeedResult> = r.runs.iter().filter(|x| !x.pass).collect();
    let _ = writeln!(o, "\n  {} of {n} seeds failed an expectation", failed.len());
    if let Some(f) = failed.first() {
        let _ = writeln!(o, "  first failing seed: {}", f.seed);
        for line in &f.failures {
            let _ = writeln!(o, "    {line}");
        }
        let _ = writeln!(o, "  replay: streamsim run {} --seed {}", r.file, f.seed);
        let _ = writeln!(o, "  why:    streamsim explain {} --seed {}", r.file, f.seed);
        let _ = writeln!(o, "  shrink: streamsim explain {} --seed {} --minimize --out smaller.yaml", r.file, f.seed);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_once() {
        for (from, to, n) in [(0u64, 10u64, 3u64), (5, 6, 4), (0, 1000, 7), (3, 3, 2)] {
            let mut seen = Vec::new();
            for k in 1..=n {
                seen.extend(shard_seeds(from, to, k, n));
            }
            assert_eq!(seen, (from..to).collect::<Vec<_>>(), "{from}..{to} in {n}");
        }
        assert_eq!(shard_seeds(0, 10, 1, 3), 0..4);
        assert_eq!(shard_seeds(0, 10, 3, 3), 7..10);
    }

    #[test]
    fn merging_sorts_and_dedups() {
        let run = |seed, pass| SeedResult { seed, metrics: BTreeMap::new(), pass, failures: vec![] };
        let a = SweepResult { scenario: "s".into(), file: "f".into(), runs: vec![run(3, true), run(1, true)] };
        let b = SweepResult { scenario: "s".into(), file: "f".into(), runs: vec![run(2, false), run(3, true)] };
        let m = merge(vec![a.clone(), b]).unwrap();
        assert_eq!(m.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [1, 2, 3]);
        let c = SweepResult { scenario: "t".into(), ..a };
        assert!(merge(vec![m, c]).is_err());
    }
}
