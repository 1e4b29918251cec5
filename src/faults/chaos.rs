//! Seeded random faults: `chaos:` turns rates into a concrete fault schedule.
//!
//! Each kind draws from its own stream (`chaos-crash`, `chaos-host-crash`,
//! `chaos-pause`, `chaos-partition`), so enabling one kind never shifts
//! another's draws (a host crash only skips entities a process crash has
//! down), and a sweep over seeds explores different timings of the same
//! fault mix.

use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::scenario::{ChaosKind, ChaosTargets, FaultAction, FaultSpec, Scenario, Target};

/// Every entity `targets` allows, in a fixed order.
fn candidates(sc: &Scenario, targets: ChaosTargets) -> Vec<Target> {
    let mut out = Vec::new();
    if targets.brokers {
        out.extend((0..sc.brokers).map(Target::Broker));
    }
    if targets.producers {
        for (i, p) in sc.producers.iter().enumerate() {
            out.extend((0..p.instances).map(|n| Target::Producer(i, n)));
        }
    }
    if targets.consumers {
        for (i, c) in sc.consumers.iter().enumerate() {
            out.extend((0..c.instances).map(|n| Target::Consumer(i, n)));
        }
    }
    out
}

/// Poisson arrival times of `kind` in `[from, until)`.
fn arrivals(rng: &mut EntityRng, kind: &ChaosKind, from: Instant, until: Instant) -> Vec<Instant> {
    let mean_us = kind.rate.per.us() as f64 / kind.rate.count as f64;
    let mut t = from;
    let mut out = Vec::new();
    loop {
        let gap = -libm::log(1.0 - rng.unit()) * mean_us;
        t = t.add(Duration(libm::round(gap) as u64));
        // The bound (`budget::MAX_CHAOS_FAULTS`) is checked before a run starts;
        // this only keeps a direct caller from drawing without end.
        if t >= until || out.len() >= crate::world::budget::MAX_CHAOS_FAULTS {
            return out;
        }
        out.push(t);
    }
}

/// One kind of crash, each with its restart, from its own stream. An
/// entity down then (by either kind: `down` holds every drawn outage) is
/// not crashed again.
fn crashes(
    sc: &Scenario,
    kind: &ChaosKind,
    (stream, crash): (&str, fn(Target) -> FaultAction),
    down: &mut Vec<(Target, Instant, Instant)>,
    out: &mut Vec<FaultSpec>,
) {
    let Some(window) = &sc.chaos else { return };
    let end = Instant::ZERO.add(sc.duration).add(sc.drain);
    let mut rng = EntityRng::new(sc.seed, stream);
    let pool = candidates(sc, kind.targets);
    for at in arrivals(&mut rng, kind, window.from, window.until) {
        if pool.is_empty() {
            break;
        }
        let t = pool[rng.below(pool.len() as u64) as usize];
        let back = at.add(kind.length.sample(&mut rng).max(Duration(1)));
        if down.iter().any(|&(d, from, until)| d == t && from <= back && at < until) {
            continue;
        }
        out.push(FaultSpec { at, action: crash(t) });
        if back <= end {
            out.push(FaultSpec { at: back, action: FaultAction::Restart(t) });
            down.push((t, at, back));
        } else {
            down.push((t, at, Instant(u64::MAX)));
        }
    }
}

/// The faults `chaos:` stands for, unsorted. Crashes come with their restart;
/// an entity already down is not crashed again.
pub fn schedule(sc: &Scenario) -> Vec<FaultSpec> {
    let Some(chaos) = &sc.chaos else { return Vec::new() };
    let mut out = Vec::new();
    let mut down = Vec::new();
    if let Some(kind) = &chaos.crash {
        crashes(sc, kind, ("chaos-crash", FaultAction::Crash), &mut down, &mut out);
    }
    if let Some(kind) = &chaos.host_crash {
        crashes(sc, kind, ("chaos-host-crash", FaultAction::HostCrash), &mut down, &mut out);
    }
    if let Some(kind) = &chaos.pause {
        let mut rng = EntityRng::new(sc.seed, "chaos-pause");
        let pool = candidates(sc, kind.targets);
        for at in arrivals(&mut rng, kind, chaos.from, chaos.until) {
            if pool.is_empty() {
                break;
            }
            let t = pool[rng.below(pool.len() as u64) as usize];
            let d = kind.length.sample(&mut rng).max(Duration(1));
            out.push(FaultSpec { at, action: FaultAction::Pause(t, d) });
        }
    }
    if let Some(kind) = &chaos.partition {
        let mut rng = EntityRng::new(sc.seed, "chaos-partition");
        let pool = candidates(sc, kind.targets);
        for at in arrivals(&mut rng, kind, chaos.from, chaos.until) {
            if pool.len() < 2 {
                break;
            }
            let a = rng.below(pool.len() as u64) as usize;
            let b = (a + 1 + rng.below(pool.len() as u64 - 1) as usize) % pool.len();
            let d = kind.length.sample(&mut rng).max(Duration(1));
            out.push(FaultSpec { at, action: FaultAction::Partition(vec![pool[a], pool[b]], d) });
        }
    }
    out
}
