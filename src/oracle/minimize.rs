//! `explain --minimize`: shrink a failing scenario to a smaller one that still
//! fails the same expectation: fewer faults (chaos draws become explicit
//! faults first), fewer records, then a shorter run. The result is written
//! as YAML: the original file with its `faults:`, `chaos:`, `duration:` and
//! `seed:` replaced and the producers' `messages:` set.

use crate::kernel::time::Duration;
use crate::oracle::checkers::ExpectationOut;
use crate::scenario::{target_name, Cmp, FaultAction, FaultSpec, Scenario};

/// The expectations a scenario fails (by metric name), or none.
pub fn failing(sc: &Scenario) -> Option<Vec<String>> {
    failing_run(sc).map(|(names, _)| names)
}

/// Whether a failed expectation fails because something is missing (`redelivered: "> 0"`
/// with 0 redelivered): removing faults and records keeps it missing, so shrinking such a
/// failure ends at an empty scenario that says nothing about the original.
fn is_absence(e: &ExpectationOut, cmp: Cmp, bound: f64) -> bool {
    match cmp {
        Cmp::Gt | Cmp::Ge => true,
        Cmp::Eq => e.actual < bound,
        Cmp::Ne => bound == 0.0,
        Cmp::Lt | Cmp::Le => false,
    }
}

/// The first failed expectation that is not an absence, or a refusal naming them.
fn target(sc: &Scenario) -> Result<(String, u64), Refusal> {
    let o = crate::simulate(sc.clone()).map_err(|e| Refusal::plain(e.to_string()))?;
    let failed: Vec<&ExpectationOut> = o.summary.expectations.iter().filter(|e| !e.pass).collect();
    if failed.is_empty() {
        return Err(Refusal::plain("nothing to minimize: every expectation holds"));
    }
    let absent = |e: &&ExpectationOut| {
        sc.expect.iter().find(|x| x.name == e.name).is_some_and(|x| is_absence(e, x.cmp, x.value))
    };
    match failed.iter().find(|e| !absent(e)) {
        Some(e) => Ok((e.name.clone(), o.summary.produced)),
        None => {
            let names: Vec<String> =
                failed.iter().map(|e| format!("{} (expected {}, actual {})", e.name, e.expected, e.actual)).collect();
            Err(Refusal {
                message: format!(
                    "cannot minimize: every failed expectation is an absence: {}; a scenario with \
                     fewer faults and records still lacks it, so shrinking would end at an empty run",
                    names.join(", ")
                ),
                hint: Some(format!(
                    "find the seeds where it is present with `streamsim sweep FILE --seeds 0..100`, or see \
                     this run with `streamsim run FILE --seed {}`; minimize shrinks a count that is too high",
                    sc.seed
                )),
            })
        }
    }
}

/// Why a scenario cannot be minimized, with what to do instead.
#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    pub hint: Option<String>,
}

impl Refusal {
    fn plain(message: impl Into<String>) -> Refusal {
        Refusal { message: message.into(), hint: None }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The failed expectations and the records produced, when it fails.
fn failing_run(sc: &Scenario) -> Option<(Vec<String>, u64)> {
    let o = crate::simulate(sc.clone()).ok()?;
    let names: Vec<String> = o.summary.expectations.iter().filter(|e| !e.pass).map(|e| e.name.clone()).collect();
    (!names.is_empty()).then_some((names, o.summary.produced))
}

/// Runs `trial`: when it still fails `target` it replaces `sc` (and
/// `produced` takes its count). Returns whether it did.
fn keep_if_failing(trial: Scenario, target: &str, sc: &mut Scenario, produced: &mut u64) -> bool {
    match failing_run(&trial) {
        Some((names, p)) if names.iter().any(|n| n == target) => {
            *sc = trial;
            *produced = p;
            true
        }
        _ => false,
    }
}

fn still_fails(sc: &Scenario, target: &str) -> bool {
    failing(sc).is_some_and(|names| names.iter().any(|n| n == target))
}

/// Faults that go together: a crash and the restart of the same entity after
/// it, a start and the stop after it; anything else alone.
fn units(faults: &[FaultSpec]) -> Vec<Vec<usize>> {
    let mut taken = vec![false; faults.len()];
    let mut out = Vec::new();
    for i in 0..faults.len() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let mut unit = vec![i];
        let closer = |a: &FaultAction, b: &FaultAction| match (a, b) {
            (
                FaultAction::Crash(t) | FaultAction::PowerLoss(t) | FaultAction::HostCrash(t),
                FaultAction::Restart(u),
            ) => t == u,
            (FaultAction::Start(t), FaultAction::Stop(u)) => t == u,
            _ => false,
        };
        if let Some(j) = (i + 1..faults.len()).find(|&j| !taken[j] && closer(&faults[i].action, &faults[j].action)) {
            taken[j] = true;
            unit.push(j);
        }
        out.push(unit);
    }
    out
}

fn without(faults: &[FaultSpec], drop: &[usize]) -> Vec<FaultSpec> {
    faults.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, f)| f.clone()).collect()
}

/// The result of a minimization.
pub struct Minimized {
    pub scenario: Scenario,
    /// The expectation it still fails.
    pub expectation: String,
    pub faults_before: usize,
    pub duration_before: Duration,
    /// Records produced by the failing run before and after.
    pub produced_before: u64,
    pub produced_after: u64,
    /// Each producer entry's `messages` before (the file's).
    pub messages_before: Vec<Option<u64>>,
    pub runs: u32,
}

/// Shrinks `sc` (which must fail an expectation). Deterministic: the same
/// input gives the same smaller scenario.
pub fn minimize(mut sc: Scenario) -> Result<Minimized, Refusal> {
    let (target, produced_before) = target(&sc)?;
    let messages_before: Vec<Option<u64>> = sc.producers.iter().map(|p| p.messages).collect();
    // Chaos draws become explicit faults, so each can be removed on its own.
    sc.faults = crate::faults::schedule(&sc);
    sc.chaos = None;
    let (faults_before, duration_before) = (sc.faults.len(), sc.duration);
    let mut runs = 1u32;
    if !still_fails(&sc, &target) {
        return Err(Refusal::plain("the failure did not survive making the chaos faults explicit"));
    }
    runs += drop_faults(&mut sc, &target);
    let mut produced = failing_run(&sc).map_or(produced_before, |(_, p)| p);
    runs += 1;
    runs += halve_messages(&mut sc, &target, &mut produced);
    runs += halve_duration(&mut sc, &target, &mut produced);
    Ok(Minimized {
        scenario: sc,
        expectation: target,
        faults_before,
        duration_before,
        produced_before,
        produced_after: produced,
        messages_before,
        runs,
    })
}

/// Removes groups of fault units while the run still fails, halving the group size
/// (ddmin-style). Returns the runs it took.
fn drop_faults(sc: &mut Scenario, target: &str) -> u32 {
    let mut runs = 0u32;
    let mut size = units(&sc.faults).len().max(1);
    while size >= 1 {
        let mut removed_any = false;
        let mut start = 0;
        loop {
            let us = units(&sc.faults);
            if start >= us.len() {
                break;
            }
            let drop: Vec<usize> = us[start..(start + size).min(us.len())].iter().flatten().copied().collect();
            let mut trial = sc.clone();
            trial.faults = without(&sc.faults, &drop);
            runs += 1;
            if still_fails(&trial, target) {
                *sc = trial;
                removed_any = true;
            } else {
                start += size;
            }
        }
        if size == 1 && !removed_any {
            break;
        }
        size = if removed_any { size } else { size / 2 };
        if size == 0 {
            break;
        }
    }
    runs
}

/// Fewer records: halves every producer's `messages` cap (a producer without one gets half of
/// its share of the last failing run) while it still fails. Returns the runs it took.
fn halve_messages(sc: &mut Scenario, target: &str, produced: &mut u64) -> u32 {
    let mut runs = 0u32;
    let instances: u64 = sc.producers.iter().map(|p| p.instances as u64).sum::<u64>().max(1);
    loop {
        let mut trial = sc.clone();
        for p in trial.producers.iter_mut() {
            let now = p.messages.unwrap_or(*produced / instances);
            p.messages = Some((now / 2).max(1));
        }
        if trial.producers.iter().zip(&sc.producers).all(|(t, p)| t.messages == p.messages) {
            return runs;
        }
        runs += 1;
        if !keep_if_failing(trial, target, sc, produced) {
            return runs;
        }
    }
}

/// A shorter run: halves the duration while it still fails (faults after the new end go, as
/// the loader would refuse them). Returns the runs it took.
fn halve_duration(sc: &mut Scenario, target: &str, produced: &mut u64) -> u32 {
    let mut runs = 0u32;
    loop {
        let shorter = Duration(sc.duration.us() / 2);
        if shorter < Duration::from_secs(1) {
            return runs;
        }
        let mut trial = sc.clone();
        trial.duration = shorter;
        let end = shorter.us().saturating_add(trial.drain.us());
        trial.faults.retain(|f| f.at.us() <= end);
        runs += 1;
        if !keep_if_failing(trial, target, sc, produced) {
            return runs;
        }
    }
}

/// A duration in the largest unit that writes it exactly.
fn us(d: u64) -> String {
    if d.is_multiple_of(1_000_000) {
        format!("{}s", d / 1_000_000)
    } else if d.is_multiple_of(1000) {
        format!("{}ms", d / 1000)
    } else {
        format!("{d}us")
    }
}

/// One fault as a YAML flow mapping.
pub fn fault_yaml(sc: &Scenario, f: &FaultSpec) -> String {
    let name = |t| target_name(sc, t);
    let at = us(f.at.us());
    match &f.action {
        FaultAction::Crash(t) => format!("{{ at: {at}, crash: {} }}", name(*t)),
        FaultAction::PowerLoss(t) => format!("{{ at: {at}, crash: {}, lose: unflushed }}", name(*t)),
        FaultAction::HostCrash(t) => format!("{{ at: {at}, host_crash: {} }}", name(*t)),
        FaultAction::Restart(t) => format!("{{ at: {at}, restart: {} }}", name(*t)),
        FaultAction::Pause(t, d) => format!("{{ at: {at}, pause: {}, for: {} }}", name(*t), us(d.us())),
        FaultAction::Slow { target, span, processing } => format!(
            "{{ at: {at}, slow: {}, for: {}, processing_time: {} }}",
            name(*target),
            us(span.us()),
            us(processing.us())
        ),
        FaultAction::Partition(ts, d) => format!(
            "{{ at: {at}, partition: [{}], for: {} }}",
            ts.iter().map(|t| name(*t)).collect::<Vec<_>>().join(", "),
            us(d.us())
        ),
        FaultAction::Start(t) => format!("{{ at: {at}, start: {} }}", name(*t)),
        FaultAction::Stop(t) => format!("{{ at: {at}, stop: {} }}", name(*t)),
        FaultAction::Scale(g, n) => format!("{{ at: {at}, scale: {}, to: {n} }}", sc.consumers[*g].group),
    }
}

/// The original YAML with `seed`, `duration`, `faults` and `chaos` replaced
/// by the minimized scenario's, and the producers' `messages:` set where
/// they changed. `Err` when the producers cannot be edited in place.
pub fn rewrite(original: &str, m: &Minimized) -> Result<String, String> {
    let sc = &m.scenario;
    let caps: Vec<Option<u64>> = sc
        .producers
        .iter()
        .zip(&m.messages_before)
        .map(|(p, before)| if p.messages != *before { p.messages } else { None })
        .collect();
    let edited = if caps.iter().any(Option::is_some) {
        crate::scenario::edit::with_producer_messages(original, &caps)?
    } else {
        original.to_string()
    };
    let replaced = ["seed:", "duration:", "faults:", "chaos:"];
    // The original header tells the original's story (its faults, its counts): stale here.
    let mut out = format!(
        "# Minimized by `streamsim explain --minimize`: still fails `{}`.\n# {} faults -> {}, {} records -> {}, duration {} -> {}.\n",
        m.expectation,
        m.faults_before,
        sc.faults.len(),
        m.produced_before,
        m.produced_after,
        m.duration_before,
        sc.duration
    );
    let body = edited.lines().skip_while(|l| l.starts_with('#') || l.trim().is_empty());
    let mut skipping = false;
    for line in body {
        let top = !line.starts_with([' ', '\t', '#', '-']) && !line.is_empty();
        if top {
            skipping = replaced.iter().any(|k| line.starts_with(k));
        }
        if skipping {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("seed: {}\nduration: {}\n", sc.seed, us(sc.duration.us())));
    if sc.faults.is_empty() {
        out.push_str("faults: []\n");
    } else {
        out.push_str("faults:\n");
        for f in &sc.faults {
            out.push_str(&format!("  - {}\n", fault_yaml(sc, f)));
        }
    }
    Ok(out)
}
