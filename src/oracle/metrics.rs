//! The names an `expect:` block may test, and how to read them from a summary.

/// Every metric an expectation can name. Dotted names reach into nested keys.
pub const METRICS: &[&str] = &[
    "produced",
    "acked",
    "failed",
    "written",
    "delivered",
    "lost",
    "lost_acked",
    "pending",
    "redelivered",
    "duplicates",
    "reordered",
    "max_lag",
    "final_lag",
    "rebalances",
    "commits_failed",
    "transactions_committed",
    "transactions_aborted",
    "latency_ms.p50",
    "latency_ms.p99",
    "latency_ms.max",
    "events",
    "virtual_end_ms",
    "final_members",
    "final_assigned_partitions",
];
