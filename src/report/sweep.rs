//! `streamsim sweep`: one scenario over many seeds, in parallel, and the
//! distribution of every count. Results are kept per seed and sorted, so
//! they are the same whatever the number of threads, and shards of a sweep
//! merge into exactly what one sweep over all their seeds gives.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::oracle::metrics::METRICS;
use crate::scenario::Scenario;
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
    /// The streamsim version that ran it.
    pub version: String,
    /// A digest of the resolved scenario (its seed aside) and of the version:
    /// shards merge only when theirs agree. See [`fingerprint`].
    pub fingerprint: String,
    /// The whole sweep's seeds (`--seeds`), first and last.
    pub all_seeds: [u64; 2],
    /// Which slice of them this is (`K/N`); none for a whole sweep or a merge.
    pub shard: Option<String>,
    /// The seeds this result holds, exactly, as inclusive ranges `[first, last]`.
    pub seeds: Vec<[u64; 2]>,
    pub runs: Vec<SeedResult>,
}

/// FNV-1a, 64 bits: stable across platforms and Rust versions (std's
/// hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What shards of one sweep share: a digest of the resolved scenario (every
/// field, defaults and presets applied, the seed aside since each run sets
/// its own) and the streamsim version. An edit that changes what runs
/// changes it; comments and formatting do not.
pub fn fingerprint(sc: &Scenario) -> String {
    let mut sc = sc.clone();
    sc.seed = 0;
    let text = format!("streamsim {}\n{sc:?}", env!("CARGO_PKG_VERSION"));
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// Sorted, distinct seeds as inclusive ranges.
pub fn ranges(seeds: impl IntoIterator<Item = u64>) -> Vec<[u64; 2]> {
    let mut out: Vec<[u64; 2]> = Vec::new();
    for s in seeds {
        match out.last_mut() {
            Some(r) if r[1].checked_add(1) == Some(s) => r[1] = s,
            _ => out.push([s, s]),
        }
    }
    out
}

/// The seeds of `all` (first, last) that `have` (inclusive ranges, sorted) lacks.
pub fn gaps(all: [u64; 2], have: &[[u64; 2]]) -> Vec<[u64; 2]> {
    let mut out = Vec::new();
    let mut next = Some(all[0]);
    for r in have {
        if let Some(n) = next.filter(|&n| n < r[0]) {
            out.push([n, r[0] - 1]);
        }
        next = r[1].checked_add(1);
    }
    if let Some(n) = next.filter(|&n| n <= all[1]) {
        out.push([n, all[1]]);
    }
    out
}

/// `0..=3, 7..=9`, the first 20 ranges and a count of the rest.
pub fn show_ranges(r: &[[u64; 2]]) -> String {
    let mut parts: Vec<String> = r.iter().take(20).map(|[a, b]| format!("{a}..={b}")).collect();
    if r.len() > 20 {
        parts.push(format!("and {} more ranges", r.len() - 20));
    }
    parts.join(", ")
}

/// How many seeds inclusive ranges hold.
fn count(r: &[[u64; 2]]) -> u64 {
    r.iter().map(|[a, b]| b - a + 1).sum()
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

/// Why shards do not merge: what is wrong, naming the files, and what to do.
#[derive(Debug, PartialEq)]
pub struct MergeError {
    pub message: String,
    pub hint: String,
}

fn merge_error(message: String, hint: &str) -> MergeError {
    MergeError { message, hint: hint.to_string() }
}

/// A shard holds runs, exactly for the seeds it lists.
fn check_shard(name: &str, p: &SweepResult) -> Result<(), MergeError> {
    if p.runs.is_empty() {
        return Err(merge_error(
            format!("`{name}` holds no runs"),
            "an empty shard adds nothing: re-run it or leave it out",
        ));
    }
    let held = ranges(p.runs.iter().map(|r| r.seed));
    if held != p.seeds || p.runs.windows(2).any(|w| w[0].seed >= w[1].seed) {
        return Err(merge_error(
            format!("`{name}` lists seeds {} but holds runs for {}", show_ranges(&p.seeds), show_ranges(&held)),
            "the file was edited or cut short: re-run its shard",
        ));
    }
    Ok(())
}

/// Both shards are of one sweep: the same scenario, version and seed range.
fn check_same_sweep(a: (&str, &SweepResult), b: (&str, &SweepResult)) -> Result<(), MergeError> {
    let ((na, pa), (nb, pb)) = (a, b);
    if pa.fingerprint != pb.fingerprint {
        return Err(merge_error(
            format!(
                "`{na}` and `{nb}` are not shards of one sweep: `{}` (streamsim {}, fingerprint {}) and `{}` (streamsim {}, fingerprint {})",
                pa.scenario, pa.version, pa.fingerprint, pb.scenario, pb.version, pb.fingerprint
            ),
            "the scenario or streamsim changed between the shards: re-run them all from one file with one streamsim",
        ));
    }
    if pa.all_seeds != pb.all_seeds {
        let [a0, a1] = pa.all_seeds;
        let [b0, b1] = pb.all_seeds;
        return Err(merge_error(
            format!("`{na}` is a shard of seeds {a0}..={a1} and `{nb}` of seeds {b0}..={b1}"),
            "merge the shards of one `--seeds` range",
        ));
    }
    Ok(())
}

/// Combines shards, each named (its file) for the errors: runs sorted by
/// seed, a seed in two shards kept once when both agree. Missing seeds are
/// an error unless `partial`.
pub fn merge(parts: Vec<(String, SweepResult)>, partial: bool) -> Result<SweepResult, MergeError> {
    let Some((first_name, first)) = parts.first() else {
        return Err(merge_error("nothing to merge".to_string(), "give the shard files, or the folder holding them"));
    };
    let mut by_seed: BTreeMap<u64, (&str, &SeedResult)> = BTreeMap::new();
    for (name, p) in &parts {
        check_shard(name, p)?;
        check_same_sweep((first_name, first), (name, p))?;
        for r in &p.runs {
            match by_seed.insert(r.seed, (name, r)) {
                Some((other, prev)) if prev != r => {
                    return Err(merge_error(
                        format!("`{other}` and `{name}` disagree on seed {}", r.seed),
                        "one of them was edited: re-run the shards",
                    ));
                }
                _ => {}
            }
        }
    }
    let seeds = ranges(by_seed.keys().copied());
    let missing = gaps(first.all_seeds, &seeds);
    if !missing.is_empty() && !partial {
        let [a, b] = first.all_seeds;
        let mut shards: Vec<&str> = parts.iter().filter_map(|(_, p)| p.shard.as_deref()).collect();
        shards.sort_unstable();
        shards.dedup();
        let held =
            if shards.is_empty() { String::new() } else { format!("; the files hold shards {}", shards.join(", ")) };
        return Err(merge_error(
            format!("seeds missing from the merge: {} ({} of {a}..={b}){held}", show_ranges(&missing), count(&missing)),
            "merge every shard of the sweep, or pass --partial to merge what is there",
        ));
    }
    let runs = by_seed.into_values().map(|(_, r)| r.clone()).collect();
    Ok(SweepResult {
        scenario: first.scenario.clone(),
        file: first.file.clone(),
        version: first.version.clone(),
        fingerprint: first.fingerprint.clone(),
        all_seeds: first.all_seeds,
        shard: None,
        seeds,
        runs,
    })
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
    let shard =
        r.shard.as_ref().map_or(String::new(), |k| format!(", shard {k} of {}..={}", r.all_seeds[0], r.all_seeds[1]));
    let _ = writeln!(o, "streamsim sweep: {} over {n} seeds ({}){shard}\n", r.scenario, show_ranges(&r.seeds));
    let missing = gaps(r.all_seeds, &r.seeds);
    if r.shard.is_none() && !missing.is_empty() {
        let _ = writeln!(o, "  a partial merge: seeds {} are missing\n", show_ranges(&missing));
    }
    let _ = writeln!(o, "  {:<28} {:>12} {:>12} {:>12}", "", "min", "median", "max");
    for m in METRICS {
        let mut values: Vec<f64> = r.runs.iter().filter_map(|x| x.metrics.get(*m).copied()).collect();
        if values.is_empty() {
            continue;
        }
        values.sort_by(f64::total_cmp);
        let (lo, mid, hi) = (values[0], median(&values), values[values.len() - 1]);
        // Zeros too: `lost 0 0 0` over every seed is the claim at-least-once exists to make.
        let _ = writeln!(o, "  {m:<28} {:>12} {:>12} {:>12}", num(lo), num(mid), num(hi));
    }
    let failed: Vec<&SeedResult> = r.runs.iter().filter(|x| !x.pass).collect();
    let _ = writeln!(o, "\n  {} of {n} seeds failed an expectation", failed.len());
    if failed.is_empty() {
        return o;
    }
    failing_seeds(&mut o, &failed);
    hints(&mut o, r, failed[0]);
    o
}

/// How many failing seeds are listed by number; the count always covers all.
pub const LISTED_SEEDS: usize = 20;

/// `a, b, c` for the first [`LISTED_SEEDS`], then `(and N more)`.
fn seed_list(seeds: &[u64]) -> String {
    let shown: Vec<String> = seeds.iter().take(LISTED_SEEDS).map(u64::to_string).collect();
    let more = seeds.len().saturating_sub(LISTED_SEEDS);
    if more > 0 {
        format!("{} (and {more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Each failed expectation with the seeds that failed it.
fn failing_seeds(o: &mut String, failed: &[&SeedResult]) {
    let _ = writeln!(o, "  failing seeds: {}", seed_list(&failed.iter().map(|f| f.seed).collect::<Vec<_>>()));
    let mut by_name: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for f in failed {
        for line in &f.failures {
            by_name.entry(Failure::parse(line).name.to_string()).or_default().push(f.seed);
        }
    }
    for (name, seeds) in &by_name {
        let example = failed.iter().flat_map(|f| &f.failures).find(|l| Failure::parse(l).name == name);
        let _ = writeln!(
            o,
            "    {name}: {} of {} ({}), e.g. {}",
            seeds.len(),
            failed.len(),
            seed_list(seeds),
            example.map_or("", |s| s.as_str())
        );
    }
}

/// One failed expectation as `SeedResult::failures` words it: `name: expected X, actual Y`.
struct Failure<'a> {
    name: &'a str,
    expected: &'a str,
    actual: f64,
}

impl<'a> Failure<'a> {
    fn parse(line: &'a str) -> Failure<'a> {
        let (name, rest) = line.split_once(": expected ").unwrap_or((line, ""));
        let (expected, actual) = rest.rsplit_once(", actual ").unwrap_or((rest, ""));
        Failure { name, expected, actual: actual.trim().parse().unwrap_or(0.0) }
    }

    /// Whether it fails because something is missing (too few): shrinking cannot help then.
    fn is_absence(&self) -> bool {
        let e = self.expected.trim();
        let bound = |t: &str| t.trim().parse::<f64>().ok();
        if e.starts_with('>') {
            return true;
        }
        if let Some(rest) = e.strip_prefix("!=") {
            return bound(rest) == Some(0.0);
        }
        bound(e.trim_start_matches("==")).is_some_and(|b| self.actual < b)
    }

    /// The `explain --kind` that tells this count's stories, if there is one.
    fn explain_kind(&self) -> Option<&'static str> {
        match self.name {
            "lost" | "lost_acked" => Some("lost"),
            "duplicates" => Some("duplicate"),
            "reordered" => Some("reordered"),
            "redelivered" => Some("redelivered"),
            "lost_writes" => Some("lost_write"),
            _ => None,
        }
    }
}

/// What to run next, for the first failing seed: a replay always; the stories when the count
/// has some and it is too high; a shrink when shrinking can keep the failure; otherwise a
/// passing seed to set beside it, and the report folder whose charts show the count over time.
fn hints(o: &mut String, r: &SweepResult, first: &SeedResult) {
    let (file, seed) = (&r.file, first.seed);
    let _ = writeln!(o, "  first failing seed: {seed}");
    for line in &first.failures {
        let _ = writeln!(o, "    {line}");
    }
    let _ = writeln!(o, "  replay: streamsim run {file} --seed {seed}");
    let failures: Vec<Failure> = first.failures.iter().map(|l| Failure::parse(l)).collect();
    let present = failures.iter().find(|f| !f.is_absence());
    match present.and_then(|f| f.explain_kind().map(|k| (f, k))) {
        Some((_, kind)) => {
            let _ = writeln!(o, "  why:    streamsim explain {file} --seed {seed} --kind {kind}");
        }
        None => {
            let _ = writeln!(o, "  see:    streamsim run {file} --seed {seed} --out report-{seed} (charts over time)");
        }
    }
    if present.is_some() {
        let _ = writeln!(o, "  shrink: streamsim explain {file} --seed {seed} --minimize --out smaller.yaml");
    } else {
        let _ = writeln!(o, "  absent on this seed, so there is nothing to explain or shrink:");
        match r.runs.iter().find(|x| x.pass) {
            Some(p) => {
                let _ = writeln!(o, "  beside: streamsim run {file} --seed {} (a seed where it holds)", p.seed);
            }
            None => {
                let _ = writeln!(o, "  it fails on every seed: is the expectation right for this scenario?");
            }
        }
    }
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

    fn part(shard: &str, seeds: &[u64]) -> (String, SweepResult) {
        let runs =
            seeds.iter().map(|&seed| SeedResult { seed, metrics: BTreeMap::new(), pass: true, failures: vec![] });
        let r = SweepResult {
            scenario: "s".into(),
            file: "f".into(),
            version: "0".into(),
            fingerprint: "abc".into(),
            all_seeds: [0, 5],
            shard: Some(shard.into()),
            seeds: ranges(seeds.iter().copied()),
            runs: runs.collect(),
        };
        (format!("{shard}.json"), r)
    }

    #[test]
    fn merging_sorts_keeps_an_agreeing_seed_once_and_refuses_gaps() {
        let m = merge(vec![part("2/2", &[3, 4, 5]), part("1/2", &[0, 1, 2, 3])], false).unwrap();
        assert_eq!(m.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        assert_eq!((m.seeds, m.shard), (vec![[0, 5]], None));
        let e = merge(vec![part("1/3", &[0, 1]), part("3/3", &[5])], false).unwrap_err();
        assert!(e.message.contains("seeds missing from the merge: 2..=4 (3 of 0..=5)"), "{e:?}");
        let p = merge(vec![part("1/3", &[0, 1]), part("3/3", &[5])], true).unwrap();
        assert!(report(&p).contains("over 3 seeds (0..=1, 5..=5)") && report(&p).contains("seeds 2..=4 are missing"));
    }

    #[test]
    fn merging_refuses_other_sweeps_empty_and_edited_shards() {
        let (name, mut other) = part("2/2", &[3, 4, 5]);
        other.fingerprint = "def".into();
        let e = merge(vec![part("1/2", &[0, 1, 2]), (name, other)], false).unwrap_err();
        assert!(e.message.contains("`1/2.json` and `2/2.json` are not shards of one sweep"), "{e:?}");
        let e = merge(vec![part("1/2", &[0, 1, 2]), part("2/2", &[])], false).unwrap_err();
        assert_eq!(e.message, "`2/2.json` holds no runs");
        let (name, mut edited) = part("2/2", &[3, 4, 5]);
        edited.runs.pop();
        assert!(merge(vec![(name, edited)], true)
            .unwrap_err()
            .message
            .contains("lists seeds 3..=5 but holds runs for 3..=4"));
        let (name, mut changed) = part("2/2", &[2, 3, 4, 5]);
        changed.runs[0].pass = false;
        let e = merge(vec![part("1/2", &[0, 1, 2]), (name, changed)], false).unwrap_err();
        assert!(e.message.contains("disagree on seed 2"), "{e:?}");
    }

    #[test]
    fn gaps_and_ranges_are_exact() {
        assert_eq!(ranges([0, 1, 2, 5, 7, 8]), [[0, 2], [5, 5], [7, 8]]);
        assert_eq!(gaps([0, 9], &[[2, 3], [5, 5]]), [[0, 1], [4, 4], [6, 9]]);
        assert_eq!(gaps([0, u64::MAX], &[[0, u64::MAX]]), Vec::<[u64; 2]>::new());
        assert_eq!(show_ranges(&[[0, 2], [5, 5]]), "0..=2, 5..=5");
    }
}
