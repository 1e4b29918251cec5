//! The fault catalogue: each fault's id (fixed in the project's design), the faults it writes
//! into the workload for one seed (its timing moves with the seed), the counts beyond
//! `ANOMALIES` that are anomalies for it, and the remedies those get.

use super::Workload;
use crate::scenario::{load_str_overridden, LoadError, Override, OverrideKind};

/// What the faults' timings depend on, read from the workload as the configs make it (never
/// from a fix candidate's: a fix is proven on the same fault).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Times {
    pub session_ms: u64,
    /// `max.poll.interval.ms` and `max.poll.records` of the first group.
    pub poll_interval_ms: u64,
    pub max_poll_records: u64,
    /// Mean per-record processing time of the first group.
    pub processing_ms: f64,
    /// `transaction.timeout.ms` of the first transactional producer; None: no `transactional.id`.
    pub txn_timeout_ms: Option<u64>,
    pub duration_ms: u64,
    pub drain_ms: u64,
}

/// The workload's times (one load of it without faults).
pub fn times(w: &Workload) -> Result<Times, LoadError> {
    let probe = format!("{}faults: []\n", w.text);
    let sc = load_str_overridden(&probe, "audit workload", None, &w.overrides)?.scenario;
    let c = sc.consumers.first();
    let txn = sc.producers.iter().find(|p| p.config.transactional_id.is_some());
    Ok(Times {
        session_ms: c.map_or(w.session_ms, |c| c.config.session_timeout.ms()),
        poll_interval_ms: c.map_or(300_000, |c| c.config.max_poll_interval.ms()),
        max_poll_records: c.map_or(500, |c| u64::from(c.config.max_poll_records)),
        processing_ms: c.map_or(0.0, |c| c.processing_time.mean_us() / 1000.0),
        txn_timeout_ms: txn.map(|p| p.config.transaction_timeout.ms()),
        duration_ms: sc.duration.ms(),
        drain_ms: sc.drain.ms(),
    })
}

/// One fault of the catalogue.
pub struct Fault {
    pub id: &'static str,
    /// What it does, for the report.
    pub what: &'static str,
    /// The `faults:` list for a fault starting at `t_ms` (seconds as YAML durations).
    pub faults: fn(t: u64, times: &Times) -> String,
    /// Counts beyond `ANOMALIES` that are anomalies for this fault (`commits_failed` where
    /// the poll loop is the fault: Kafka's CommitFailedException).
    pub anomalies: &'static [&'static str],
    /// The config changes for those anomalies, from the workload's times.
    pub remedies: fn(times: &Times) -> Vec<Vec<Override>>,
    /// How long after its start the run must go on to see what the fault leads to (the
    /// workload's drain is lengthened when it ends sooner); 0: the workload's end will do.
    pub settle_ms: fn(times: &Times) -> u64,
    /// Why the fault does not apply to these configs, if it does not.
    pub skip: fn(times: &Times) -> Option<&'static str>,
}

fn s(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

fn none(_: &Times) -> Vec<Vec<Override>> {
    Vec::new()
}

fn zero(_: &Times) -> u64 {
    0
}

fn always(_: &Times) -> Option<&'static str> {
    None
}

fn consumer(key: &str, value: String) -> Override {
    Override { kind: OverrideKind::Consumer, key: key.to_string(), value }
}

/// The extra override that keeps the run going `settle_ms` after a fault at `t_ms`, if needed.
pub fn drain_override(t_ms: u64, settle_ms: u64, times: &Times) -> Option<Override> {
    let end = t_ms + settle_ms;
    let workload_end = times.duration_ms + times.drain_ms;
    (settle_ms > 0 && end > workload_end).then(|| Override {
        kind: OverrideKind::Set,
        key: "drain".to_string(),
        value: s(end - times.duration_ms),
    })
}

/// The stall of `consumer-pause-poll`: one record slower than max.poll.interval.ms by 5 s.
fn stall_ms(t: &Times) -> u64 {
    t.poll_interval_ms + 5_000
}

/// `slow-processing`'s per-record time: 5 times the workload's mean (at least 1 ms).
fn slow_ms(t: &Times) -> u64 {
    ((t.processing_ms * 5.0).round() as u64).max(1)
}

/// Rounded up to whole seconds, in ms.
fn whole_s(ms: u64) -> u64 {
    ms.div_ceil(1000) * 1000
}

/// Kafka's own advice when the poll timer expires (AbstractCoordinator.handlePollTimeoutExpiry,
/// CommitFailedException): fewer records per poll, so a batch of `per_record_ms` records fits in
/// half of max.poll.interval.ms; or a max.poll.interval.ms twice the longest gap between polls
/// the fault makes (`gap_ms`); and cooperative-sticky, which keeps the members that stay in the
/// group processing through the rebalance (KIP-429).
fn poll_remedies(t: &Times, per_record_ms: u64, gap_ms: u64) -> Vec<Vec<Override>> {
    let mut out = Vec::new();
    let fits = t.poll_interval_ms / 2 / per_record_ms.max(1);
    if let Some(&n) = [250u64, 100, 50, 20, 10, 5, 2, 1].iter().find(|&&n| n <= fits && n < t.max_poll_records) {
        out.push(vec![consumer("max.poll.records", n.to_string())]);
    }
    out.push(vec![consumer("partition.assignment.strategy", "cooperative-sticky".to_string())]);
    out.push(vec![consumer("max.poll.interval.ms", whole_s(gap_ms.saturating_mul(2)).to_string())]);
    out
}

/// `slow: orders-N` for each of the workload's three consumers.
fn slow_all(t: u64, span_ms: u64, per_record_ms: u64) -> String {
    let v: Vec<String> = (0..3)
        .map(|i| {
            format!("{{ at: {}, slow: orders-{i}, for: {}, processing_time: {} }}", s(t), s(span_ms), s(per_record_ms))
        })
        .collect();
    format!("[{}]", v.join(", "))
}

pub const CATALOGUE: &[Fault] = &[
    Fault {
        id: "leader-crash",
        what: "broker-0 (leader of a third of the partitions) crashes, back 15 s later",
        faults: |t, _: &Times| format!("[{{ at: {}, crash: broker-0 }}, {{ at: {}, restart: broker-0 }}]", s(t), s(t + 15_000)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "broker-power-loss",
        what: "broker-0 loses power: what it had not flushed to disk is gone; back 15 s later",
        faults: |t, _: &Times| {
            format!(
                "[{{ at: {}, crash: broker-0, lose: unflushed }}, {{ at: {}, restart: broker-0 }}]",
                s(t),
                s(t + 15_000)
            )
        },
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "isr-shrink-leader-loss",
        what: "broker-0 is cut off from both followers (the ISR shrinks to it), then crashes",
        // The leader drops a follower that has not caught up for replica.lag.time.max.ms (30 s),
        // checked every half of it (ReplicaManager.maybeShrinkIsr): by 45 s after the cut the ISR is
        // the leader alone. The crash comes 48 s after the cut, still cut off.
        faults: |t, _: &Times| {
            format!(
                "[{{ at: {a}, partition: [broker-0, broker-1], for: 60s }}, {{ at: {a}, partition: [broker-0, broker-2], for: 60s }}, {{ at: {c}, crash: broker-0, lose: unflushed }}, {{ at: {r}, restart: broker-0 }}]",
                a = s(t.saturating_sub(20_000)),
                c = s(t + 28_000),
                r = s(t + 38_000)
            )
        },
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "unclean-election",
        what: "broker-1 and broker-2 crash (stale from then on), broker-0 crashes 12 s later and broker-1 returns first: with unclean.leader.election.enable=true the stale broker-1 is made leader",
        // KRaft's controller elects outside the ISR only when the topic allows it
        // (PartitionChangeBuilder, unclean.leader.election.enable); otherwise the partitions stay
        // offline until broker-0 returns with its log.
        faults: |t, _: &Times| {
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
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "partition-leader-follower",
        what: "broker-0 and broker-1 cannot reach each other for 20 s",
        faults: |t, _: &Times| format!("[{{ at: {}, partition: [broker-0, broker-1], for: 20s }}]", s(t)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "partition-client-leader",
        what: "the producer cannot reach broker-0 for 20 s",
        faults: |t, _: &Times| format!("[{{ at: {}, partition: [broker-0, app-0], for: 20s }}]", s(t)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "consumer-crash",
        what: "consumer orders-0 crashes mid-batch, restarts 5 s later",
        faults: |t, _: &Times| format!("[{{ at: {}, crash: orders-0 }}, {{ at: {}, restart: orders-0 }}]", s(t), s(t + 5_000)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "consumer-pause-session",
        what: "consumer orders-0 stops (a GC pause) for session.timeout.ms + 5 s",
        faults: |t, times: &Times| format!("[{{ at: {}, pause: orders-0, for: {} }}]", s(t), s(times.session_ms + 5_000)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "consumer-pause-poll",
        what: "one record of consumer orders-0 takes max.poll.interval.ms + 5 s; its heartbeat thread goes on, so the session holds and the poll timer expires",
        // The application is slow, not the process: AbstractCoordinator's HeartbeatThread keeps
        // heartbeating, and when the poll timer expires (pollTimeoutExpired) it leaves the group
        // (handlePollTimeoutExpiry → maybeLeaveGroup, KIP-62). Its partitions move; the batch
        // it was in is redelivered and its commit fails (CommitFailedException).
        faults: |t, times: &Times| {
            format!("[{{ at: {}, slow: orders-0, for: 1s, processing_time: {} }}]", s(t), s(stall_ms(times)))
        },
        anomalies: &["commits_failed"],
        remedies: |t| poll_remedies(t, stall_ms(t), stall_ms(t)),
        // The stalled record, then the rebalance and the rest of the batch.
        settle_ms: |t| stall_ms(t) + 40_000,
        skip: always,
    },
    Fault {
        id: "slow-processing",
        what: "processing slows to 5 times the workload's per-record time for 30 s on every consumer (a slow downstream)",
        // A backlog builds, polls return full batches of max.poll.records, and where a batch takes
        // longer than max.poll.interval.ms the member leaves mid-batch, rejoins, and the group
        // rebalances again and again (scenarios/rebalance-storm.yaml).
        faults: |t, times: &Times| slow_all(t, 30_000, slow_ms(times)),
        anomalies: &["commits_failed"],
        remedies: |t| poll_remedies(t, slow_ms(t), slow_ms(t).saturating_mul(t.max_poll_records)),
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "rolling-restart",
        what: "each consumer is stopped and started again, 5 s down, one after the other",
        faults: |t, _: &Times| {
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
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "producer-crash",
        what: "the producer crashes (its unsent and unacknowledged records die with it), restarts 5 s later",
        faults: |t, _: &Times| format!("[{{ at: {}, crash: app-0 }}, {{ at: {}, restart: app-0 }}]", s(t), s(t + 5_000)),
        anomalies: &[],
        remedies: none,
        settle_ms: zero,
        skip: always,
    },
    Fault {
        id: "txn-timeout",
        what: "the transactional producer pauses past transaction.timeout.ms: the coordinator aborts its open transaction with an epoch bump; it is fenced, initialises again and sends the records again",
        // TransactionCoordinator's abort of timed-out transactions runs every
        // transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s): the pause outlasts
        // the timeout by 15 s, so the abort comes while the producer is still frozen.
        faults: |t, times: &Times| {
            format!("[{{ at: {}, pause: app-0, for: {} }}]", s(t), s(times.txn_timeout_ms.unwrap_or(0) + 15_000))
        },
        // read_uncommitted reads the aborted copies and then their resends: a plain sink
        // applies those records twice.
        anomalies: &["duplicates"],
        remedies: |_| vec![vec![consumer("isolation.level", "read_committed".to_string())]],
        settle_ms: |t| t.txn_timeout_ms.unwrap_or(0) + 15_000 + 40_000,
        skip: |t| t.txn_timeout_ms.is_none().then_some("no `transactional.id` in the producer config: the producer writes no transactions"),
    },
];

/// Faults of the design's list not (yet) in the catalogue, and why: none now.
pub const NOT_YET: &[(&str, &str)] = &[];

/// The fault's start for a seed: 15 s, moved by 2.3 s per seed (five timings).
pub fn start_ms(seed: u64) -> u64 {
    15_000 + (seed % 5) * 2_300
}
