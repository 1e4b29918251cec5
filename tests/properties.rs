//! Properties that must hold for every seed and fault timing, checked over
//! many runs of each shipped scenario with moved and added faults.

use std::path::Path;

use streamsim::kernel::time::Instant;
use streamsim::scenario::{load_file, FaultAction, FaultSpec, Scenario, Target};
use streamsim::simulate;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.yaml"));
    load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario
}

/// Every (record, group) obligation ends in exactly one state, and counts agree.
fn check(sc: Scenario, label: &str) {
    let produced_groups = sc.consumers.len() as u64;
    let s = simulate(sc).unwrap_or_else(|e| panic!("{label}: {e}")).summary;
    assert_eq!(produced_groups, 1, "these properties assume one group");
    assert!(s.failed <= s.produced, "{label}");
    assert!(s.acked <= s.produced, "{label}");
    assert!(s.lost_acked <= s.lost, "{label}");
    assert!(s.duplicates <= s.redelivered, "{label}: a duplicate effect needs a redelivery");
    // Failed records that were delivered anyway are counted as delivered.
    assert!(s.delivered + s.lost + s.pending <= s.produced, "{label}: {s:?}");
    assert!(s.delivered + s.lost + s.pending + s.failed >= s.produced, "{label}: {s:?}");
    assert!(s.written >= s.delivered, "{label}: only written records can be delivered");
    assert!(s.final_lag <= s.max_lag, "{label}");
    for p in &s.partitions {
        assert!(p.high_watermark <= p.log_end_offset, "{label}: {p:?}");
        assert!(!p.isr.is_empty(), "{label}: an ISR never becomes empty");
    }
    let mut last_gen = 0;
    for a in &s.assignments {
        assert!(a.generation > last_gen, "{label}: generations increase");
        last_gen = a.generation;
        let mut parts: Vec<u32> = a.members.values().flatten().copied().collect();
        let n = parts.len();
        parts.sort_unstable();
        parts.dedup();
        assert_eq!(parts.len(), n, "{label}: a partition has one owner per generation");
    }
}

#[test]
fn invariants_hold_over_seeds_and_fault_timings() {
    for name in ["homework", "at-most-once", "at-least-once"] {
        for seed in 0..12u64 {
            let mut sc = load(name);
            sc.seed = seed;
            // Move the first fault, and crash and restart a broker at seed-dependent times.
            let shift = 1_000_000 * (seed % 7);
            if let Some(f) = sc.faults.first_mut() {
                f.at = Instant(f.at.us() + shift);
            }
            if let Some(f) = sc.faults.get_mut(1) {
                f.at = Instant(f.at.us() + shift);
            }
            let b = (seed % sc.brokers as u64) as u32;
            sc.faults.push(FaultSpec {
                at: Instant(7_000_000 + 333_333 * seed),
                action: FaultAction::Crash(Target::Broker(b)),
            });
            sc.faults.push(FaultSpec {
                at: Instant(18_000_000 + 250_000 * seed),
                action: FaultAction::Restart(Target::Broker(b)),
            });
            sc.faults.sort_by_key(|f| f.at);
            sc.expect.clear();
            check(sc, &format!("{name} seed {seed}"));
        }
    }
}

#[test]
fn producer_crash_and_restart_keeps_the_books_balanced() {
    for seed in 0..8u64 {
        let mut sc = load("at-least-once");
        sc.seed = seed;
        sc.faults.push(FaultSpec {
            at: Instant(10_000_000 + 7_919 * seed),
            action: FaultAction::Crash(Target::Producer(0, 0)),
        });
        sc.faults.push(FaultSpec { at: Instant(12_000_000), action: FaultAction::Restart(Target::Producer(0, 0)) });
        sc.faults.sort_by_key(|f| f.at);
        sc.expect.clear();
        check(sc, &format!("producer crash seed {seed}"));
    }
}
