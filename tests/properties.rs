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

/// effectively-once (acks=all, min.insync.replicas=2, idempotent producer,
/// commit after processing, idempotent sink) under random broker and consumer
/// crashes, client pauses and broker partitions: over 30 seeds, nothing is
/// lost, failed or applied twice.
#[test]
fn effectively_once_survives_chaos_over_30_seeds() {
    let yaml = "name: chaos-eo
duration: 60s
drain: 120s
semantics: effectively-once
brokers: 3
topics:
  - { name: t, partitions: 6, replication.factor: 3, config: { min.insync.replicas: 2 } }
producers:
  - { name: p, rate: 200/s, keys: 50 }
consumers:
  - { group: g, instances: 3, processing_time: 1ms, config: { session.timeout.ms: 10000 } }
chaos:
  from: 5s
  until: 50s
  crash: { rate: 4/min, down: { uniform: [1s, 15s] }, targets: [brokers, consumers] }
  pause: { rate: 2/min, for: { uniform: [100ms, 12s] } }
  partition: { rate: 2/min, for: { uniform: [1s, 10s] } }
";
    let base = streamsim::scenario::load_str(yaml, "chaos.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let mut faults_seen = 0;
    for seed in 0..30 {
        let mut sc = base.clone();
        sc.seed = seed;
        faults_seen += streamsim::faults::schedule(&sc).len();
        let s = simulate(sc).expect("run completes").summary;
        assert_eq!((s.lost, s.failed, s.pending, s.duplicates), (0, 0, 0, 0), "seed {seed}");
        assert_eq!(s.delivered, s.produced, "seed {seed}");
    }
    assert!(faults_seen > 30 * 4, "chaos drew {faults_seen} faults");
}

/// The chaos schedule is a pure function of the seed, and changes with it.
#[test]
fn chaos_schedules_follow_the_seed() {
    let mut sc = load("homework");
    sc.chaos = Some(streamsim::scenario::ChaosSpec {
        from: Instant(1_000_000),
        until: Instant(50_000_000),
        crash: Some(streamsim::scenario::ChaosKind {
            rate: streamsim::scenario::Rate {
                count: 6,
                per: streamsim::kernel::time::Duration::from_secs(60),
                kind: streamsim::scenario::ArrivalKind::Poisson,
            },
            length: streamsim::kernel::rng::Dist::Constant(streamsim::kernel::time::Duration::from_secs(3)),
            targets: streamsim::scenario::ChaosTargets { brokers: true, producers: false, consumers: true },
        }),
        pause: None,
        partition: None,
        host_crash: None,
    });
    let a = streamsim::faults::schedule(&sc);
    assert_eq!(a, streamsim::faults::schedule(&sc));
    assert!(a.len() > sc.faults.len());
    assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
    sc.seed += 1;
    assert_ne!(a, streamsim::faults::schedule(&sc));
}

/// Exactly-once (transactional producer, consumers committing results and
/// offsets in transactions, read_committed) under consumer and broker
/// crashes and pauses at random times, many of them mid-transaction, and
/// producer pauses past transaction.timeout.ms: over 200 seeds, no record is
/// lost and no effect is applied twice, though many are reprocessed and many
/// transactions abort.
#[test]
fn exactly_once_holds_over_200_chaos_seeds() {
    let yaml = "name: eos-chaos
duration: 40s
drain: 120s
semantics: exactly-once
brokers: 3
topics:
  - { name: t, partitions: 4, replication.factor: 3, config: { min.insync.replicas: 2 } }
producers:
  - { name: p, rate: 200/s, keys: 40, config: { transaction.timeout.ms: 4000 } }
consumers:
  - { group: g, instances: 2, processing_time: { exp: 4ms }, config: { session.timeout.ms: 8000, max.poll.records: 50 } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 6/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers] }
  pause: { rate: 4/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers, producers] }
";
    let base = streamsim::scenario::load_str(yaml, "eos.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let (mut redelivered, mut aborted, mut committed) = (0, 0, 0);
    for seed in 0..200 {
        let mut sc = base.clone();
        sc.seed = seed;
        let s = simulate(sc).expect("run completes").summary;
        assert_eq!((s.lost, s.duplicates, s.failed, s.pending), (0, 0, 0, 0), "seed {seed}: {s:?}");
        assert_eq!(s.delivered, s.produced, "seed {seed}");
        redelivered += s.redelivered;
        aborted += s.transactions_aborted;
        committed += s.transactions_committed;
    }
    assert!(redelivered > 200, "the faults did force reprocessing: {redelivered}");
    assert!(aborted > 200, "the faults did abort transactions: {aborted} of {committed}");
}
