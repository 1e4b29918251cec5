//! The fault catalogue: each fault's id (fixed in the project's design), the faults it writes
//! into the workload for one seed (its timing moves with the seed), and the faults not yet in
//! the catalogue, with why.

/// One fault of the catalogue.
pub struct Fault {
    pub id: &'static str,
    /// What it does, for the report.
    pub what: &'static str,
    /// The `faults:` list for a fault starting at `t_ms` (seconds as YAML durations).
    pub faults: fn(t: u64, session_ms: u64) -> String,
}

fn s(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

pub const CATALOGUE: &[Fault] = &[
    Fault {
        id: "leader-crash",
        what: "broker-0 (leader of a third of the partitions) crashes, back 15 s later",
        faults: |t, _| format!("[{{ at: {}, crash: broker-0 }}, {{ at: {}, restart: broker-0 }}]", s(t), s(t + 15_000)),
    },
    Fault {
        id: "broker-power-loss",
        what: "broker-0 loses power: what it had not flushed to disk is gone; back 15 s later",
        faults: |t, _| {
            format!(
                "[{{ at: {}, crash: broker-0, lose: unflushed }}, {{ at: {}, restart: broker-0 }}]",
                s(t),
                s(t + 15_000)
            )
        },
    },
    Fault {
        id: "isr-shrink-leader-loss",
        what: "broker-0 is cut off from both followers (the ISR shrinks to it), then crashes",
        // The leader drops a follower that has not caught up for replica.lag.time.max.ms (30 s),
        // checked every half of it (ReplicaManager.maybeShrinkIsr): by 45 s after the cut the ISR is
        // the leader alone. The crash comes 48 s after the cut, still cut off.
        faults: |t, _| {
            format!(
                "[{{ at: {a}, partition: [broker-0, broker-1], for: 60s }}, {{ at: {a}, partition: [broker-0, broker-2], for: 60s }}, {{ at: {c}, crash: broker-0, lose: unflushed }}, {{ at: {r}, restart: broker-0 }}]",
                a = s(t.saturating_sub(20_000)),
                c = s(t + 28_000),
                r = s(t + 38_000)
            )
        },
    },
    Fault {
        id: "unclean-election",
        what: "broker-1 and broker-2 crash (stale from then on), broker-0 crashes 12 s later and broker-1 returns first: with unclean.leader.election.enable=true the stale broker-1 is made leader",
        // KRaft's controller elects outside the ISR only when the topic allows it
        // (PartitionChangeBuilder, unclean.leader.election.enable); otherwise the partitions stay
        // offline until broker-0 returns with its log.
        faults: |t, _| {
            format!(
                "[{{ at: {a}, crash: broker-1 }}, {{ at: {b}, crash: broker-2 }}, {{ at: {c}, crash: broker-0 }}, {{ at: {r1}, restart: broker-1 }}, {{ at: {r0}, restart: broker-0 }}, {{ at: {r2}, restart: broker-2 }}]",
                a = s(t.saturating_sub(12_000)),
                b = s(t.saturating_sub(11_000)),
                c = s(t),
                r1 = s(t + 4_000),
                r0 = s(t + 14_000),
                r2 = s(t + 16_000)
            )
        },
    },
    Fault {
        id: "partition-leader-follower",
        what: "broker-0 and broker-1 cannot reach each other for 20 s",
        faults: |t, _| format!("[{{ at: {}, partition: [broker-0, broker-1], for: 20s }}]", s(t)),
    },
    Fault {
        id: "partition-client-leader",
        what: "the producer cannot reach broker-0 for 20 s",
        faults: |t, _| format!("[{{ at: {}, partition: [broker-0, app-0], for: 20s }}]", s(t)),
    },
    Fault {
        id: "consumer-crash",
        what: "consumer orders-0 crashes mid-batch, restarts 5 s later",
        faults: |t, _| format!("[{{ at: {}, crash: orders-0 }}, {{ at: {}, restart: orders-0 }}]", s(t), s(t + 5_000)),
    },
    Fault {
        id: "consumer-pause-session",
        what: "consumer orders-0 stops (a GC pause) for session.timeout.ms + 5 s",
        faults: |t, session| format!("[{{ at: {}, pause: orders-0, for: {} }}]", s(t), s(session + 5_000)),
    },
    Fault {
        id: "rolling-restart",
        what: "each consumer is stopped and started again, 5 s down, one after the other",
        faults: |t, _| {
            let mut v = Vec::new();
            for i in 0..3u64 {
                let at = t + i * 10_000;
                v.push(format!(
                    "{{ at: {}, stop: orders-{i} }}, {{ at: {}, start: orders-{i} }}",
                    s(at),
                    s(at + 5_000)
                ));
            }
            format!("[{}]", v.join(", "))
        },
    },
    Fault {
        id: "producer-crash",
        what: "the producer crashes (its unsent and unacknowledged records die with it), restarts 5 s later",
        faults: |t, _| format!("[{{ at: {}, crash: app-0 }}, {{ at: {}, restart: app-0 }}]", s(t), s(t + 5_000)),
    },
];

/// Faults of the design's list not (yet) in the catalogue, and why.
pub const NOT_YET: &[(&str, &str)] = &[
    (
        "consumer-pause-poll",
        "a process pause stops the heartbeat thread too (that is consumer-pause-session); a poll loop alone stalling needs slow processing per record, not yet a fault",
    ),
    ("slow-processing", "processing time is a workload property, not yet a timed fault; see scenarios/rebalance-storm.yaml"),
    ("txn-timeout", "only for transactional configs; the audit does not yet build a transactional workload"),
];

/// The fault's start for a seed: 15 s, moved by 2.3 s per seed (five timings).
pub fn start_ms(seed: u64) -> u64 {
    15_000 + (seed % 5) * 2_300
}
