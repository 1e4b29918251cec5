//! The trace: one line per meaningful step of the run, folded into `trace_hash`.
//!
//! Every step the model reports (send, append, ack, fetch, process, commit,
//! crash, election, rebalance, ...) passes through [`Trace::note`]. The hash is
//! a pure function of the steps' kinds, times and values, so the same scenario
//! and seed give the same hash on any machine. The steps are also what
//! `explain` reads back: each causal fact it names is one of them.

use crate::kernel::time::Instant;

/// `entity_kind` values of crash, restart, pause, start and stop steps.
pub mod entity {
    pub const BROKER: u64 = 0;
    pub const PRODUCER: u64 = 1;
    pub const CONSUMER: u64 = 2;
}

/// The `source` of a `position` step: where a consumer's position came from.
pub mod source {
    /// The group's committed offset.
    pub const COMMITTED: u64 = 0;
    /// `auto.offset.reset`: the group had no committed offset for the partition.
    pub const RESET: u64 = 1;
    /// `auto.offset.reset` after the broker answered OffsetOutOfRange.
    pub const OUT_OF_RANGE: u64 = 2;
    /// KIP-320 position validation: the leader's log diverged below it.
    pub const DIVERGED: u64 = 3;
}

/// The `reason` of a `leave` step.
pub mod leave {
    /// The member sent LeaveGroup (close(), or a poll timeout).
    pub const LEAVE_GROUP: u64 = 0;
    /// The coordinator heard nothing for `session.timeout.ms`.
    pub const SESSION_TIMEOUT: u64 = 1;
    /// The member did not rejoin before the rebalance timeout.
    pub const MISSED_REBALANCE: u64 = 2;
}

/// The `reason` of a `rebalance_start` step.
pub mod trigger {
    /// A new member joined.
    pub const JOIN: u64 = 0;
    /// A known member joined again (after a commit failure or a revocation).
    pub const REJOIN: u64 = 1;
    /// A member sent LeaveGroup.
    pub const LEAVE: u64 = 2;
    /// A member's session expired.
    pub const EXPIRED: u64 = 3;
}

pub use crate::oracle::fact::SendError;

/// A step kind. The values each carries are named by [`Step::fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Step {
    Send = 1,
    Append = 2,
    Ack = 3,
    Fail = 4,
    Replicate = 5,
    Truncate = 6,
    Elect = 7,
    Isr = 8,
    Fetch = 9,
    Process = 10,
    Commit = 11,
    CommitFailed = 12,
    Rebalance = 13,
    Crash = 14,
    Restart = 15,
    HighWatermark = 16,
    Pause = 17,
    Partition = 18,
    /// A transaction marker appended.
    Marker = 19,
    /// A transactional id's epoch bumped over an open transaction.
    Fenced = 20,
    InitTxn = 21,
    TxnEnd = 22,
    Leave = 23,
    PollTimeout = 24,
    Start = 25,
    Stop = 26,
    /// A member takes a partition in a generation.
    Assign = 27,
    /// A member gives a partition up (eager rejoin, cooperative revocation).
    Revoke = 28,
    /// A member's position on a partition is set (committed offset or reset).
    Position = 29,
    /// A produce attempt failed and the record goes again.
    Retry = 30,
    /// The coordinator starts a rebalance.
    RebalanceStart = 31,
    /// An event reached the aggregation behind its watermark.
    Late = 32,
    /// A result staged in a transaction reached the sink at its commit.
    Effect = 33,
    /// A member has no committed offset and `auto.offset.reset=none`.
    NoOffset = 34,
}

/// Every step kind, in code order (the JSONL `kind` names them).
pub const STEPS: [Step; 34] = [
    Step::Send,
    Step::Append,
    Step::Ack,
    Step::Fail,
    Step::Replicate,
    Step::Truncate,
    Step::Elect,
    Step::Isr,
    Step::Fetch,
    Step::Process,
    Step::Commit,
    Step::CommitFailed,
    Step::Rebalance,
    Step::Crash,
    Step::Restart,
    Step::HighWatermark,
    Step::Pause,
    Step::Partition,
    Step::Marker,
    Step::Fenced,
    Step::InitTxn,
    Step::TxnEnd,
    Step::Leave,
    Step::PollTimeout,
    Step::Start,
    Step::Stop,
    Step::Assign,
    Step::Revoke,
    Step::Position,
    Step::Retry,
    Step::RebalanceStart,
    Step::Late,
    Step::Effect,
    Step::NoOffset,
];

impl Step {
    /// The kind's name in the JSONL trace.
    pub fn name(self) -> &'static str {
        match self {
            Step::Send => "send",
            Step::Append => "append",
            Step::Ack => "ack",
            Step::Fail => "fail",
            Step::Replicate => "replicate",
            Step::Truncate => "truncate",
            Step::Elect => "elect",
            Step::Isr => "isr",
            Step::Fetch => "fetch",
            Step::Process => "process",
            Step::Commit => "commit",
            Step::CommitFailed => "commit_failed",
            Step::Rebalance => "rebalance",
            Step::Crash => "crash",
            Step::Restart => "restart",
            Step::HighWatermark => "high_watermark",
            Step::Pause => "pause",
            Step::Partition => "network_partition",
            Step::Marker => "marker",
            Step::Fenced => "fenced",
            Step::InitTxn => "init_txn",
            Step::TxnEnd => "txn_end",
            Step::Leave => "leave",
            Step::PollTimeout => "poll_timeout",
            Step::Start => "start",
            Step::Stop => "stop",
            Step::Assign => "assign",
            Step::Revoke => "revoke",
            Step::Position => "position",
            Step::Retry => "retry",
            Step::RebalanceStart => "rebalance_start",
            Step::Late => "late",
            Step::Effect => "effect",
            Step::NoOffset => "no_offset",
        }
    }

    /// Names of the four values a step carries; "" marks one that is always 0.
    pub fn fields(self) -> [&'static str; 4] {
        match self {
            Step::Send => ["record", "producer", "partition", "key"],
            Step::Append => ["record", "partition", "offset", "broker"],
            Step::Ack => ["record", "producer", "", ""],
            Step::Fail => ["record", "producer", "error", ""],
            Step::Replicate => ["broker", "partition", "log_end", ""],
            Step::Truncate => ["broker", "partition", "offset", ""],
            Step::Elect => ["partition", "leader", "epoch", "unclean"],
            Step::Isr => ["partition", "isr_brokers", "high_watermark", ""],
            Step::Fetch => ["consumer", "partition", "from", "to"],
            Step::Process => ["record", "consumer", "offset", "effect"],
            Step::Commit => ["consumer", "partition", "offset", "generation"],
            Step::CommitFailed => ["consumer", "generation", "in_transaction", ""],
            Step::Rebalance => ["group", "generation", "members", ""],
            Step::Crash | Step::Restart | Step::Start | Step::Stop => ["entity_kind", "entity", "", ""],
            Step::HighWatermark => ["partition", "high_watermark", "", ""],
            Step::Pause => ["entity_kind", "entity", "us", ""],
            Step::Partition => ["entities", "us", "", ""],
            Step::Marker => ["partition", "offset", "commit", "txn"],
            Step::Fenced => ["txn", "epoch", "by_timeout", ""],
            Step::InitTxn => ["txn", "epoch", "", ""],
            Step::TxnEnd => ["txn", "commit", "partitions", ""],
            Step::Leave => ["group", "member", "consumer", "reason"],
            Step::PollTimeout => ["consumer", "member", "", ""],
            Step::Assign | Step::Revoke => ["consumer", "partition", "generation", ""],
            Step::Position => ["consumer", "partition", "offset", "source"],
            Step::Retry => ["record", "producer", "error", "attempt"],
            Step::RebalanceStart => ["group", "generation", "reason", "consumer"],
            Step::Late => ["record", "group", "watermark", "dropped"],
            Step::Effect => ["record", "consumer", "txn", ""],
            Step::NoOffset => ["consumer", "partition", "", ""],
        }
    }

    pub fn from_name(name: &str) -> Option<Step> {
        STEPS.iter().copied().find(|s| s.name() == name)
    }
}

/// Folds steps into a 128-bit digest (two independent 64-bit lanes), and
/// writes them as JSON lines when asked (`run --trace`). The digest is a
/// function of exactly what each line holds: time, kind and its values.
pub struct Trace {
    lane_a: u64,
    lane_b: u64,
    steps: u64,
    out: Option<std::io::BufWriter<Box<dyn std::io::Write + Send>>>,
    /// The first write error, reported when the trace is finished.
    pub error: Option<std::io::Error>,
    /// Every step, kept in memory for `explain` when asked.
    pub kept: Option<Vec<Recorded>>,
}

/// One step as `explain` reads it back: its time (µs), kind and values
/// (named by [`Step::fields`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub t: u64,
    pub kind: Step,
    pub v: [u64; 4],
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("steps", &self.steps).field("writing", &self.out.is_some()).finish()
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            lane_a: 0x243f_6a88_85a3_08d3,
            lane_b: 0x1319_8a2e_0370_7344,
            steps: 0,
            out: None,
            error: None,
            kept: None,
        }
    }
}

impl Trace {
    /// Writes every step from now on to `out`, one JSON object per line.
    pub fn write_to(&mut self, out: impl std::io::Write + Send + 'static) {
        self.out = Some(std::io::BufWriter::with_capacity(1 << 16, Box::new(out)));
    }

    /// Writes a line as it is (the trace's header).
    pub fn write_line(&mut self, line: &str) {
        use std::io::Write;
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = writeln!(out, "{line}") {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Flushes the JSONL output; the first error of the run, if any.
    pub fn finish(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(mut out) = self.out.take() {
            if let Err(e) = out.flush() {
                self.error.get_or_insert(e);
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Records one step: `values` are the kind's four fields, in order.
    #[inline]
    pub(in crate::oracle) fn note(&mut self, at: Instant, step: Step, values: [u64; 4]) {
        if self.out.is_some() {
            self.write_step(at, step, values);
        }
        if let Some(kept) = self.kept.as_mut() {
            kept.push(Recorded { t: at.us(), kind: step, v: values });
        }
        self.fold(at.us(), step as u64, values);
    }

    #[cold]
    fn write_step(&mut self, at: Instant, step: Step, values: [u64; 4]) {
        use std::io::Write;
        let Some(out) = self.out.as_mut() else { return };
        let mut r = write!(out, "{{\"t\":{},\"kind\":\"{}\"", at.us(), step.name());
        for (name, v) in step.fields().iter().zip(values) {
            if name.is_empty() {
                debug_assert_eq!(v, 0, "{step:?}: an unnamed value must be 0");
                continue;
            }
            r = r.and_then(|_| write!(out, ",\"{name}\":{v}"));
        }
        r = r.and_then(|_| writeln!(out, "}}"));
        if let Err(e) = r {
            self.error.get_or_insert(e);
            self.out = None;
        }
    }

    /// Folds one step (time µs, kind code, values) into the digest.
    #[inline]
    pub fn fold(&mut self, t: u64, kind: u64, values: [u64; 4]) {
        self.steps += 1;
        let [a, b, c, d] = values;
        for w in [t, kind, a, b, c, d] {
            self.lane_a = (self.lane_a ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
            self.lane_b = (self.lane_b.rotate_left(17) ^ w).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The digest as 32 hex digits.
    pub fn hex(&self) -> String {
        let fin = |mut x: u64| {
            x ^= x >> 33;
            x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
            x ^= x >> 33;
            x
        };
        format!("{:016x}{:016x}", fin(self.lane_a ^ self.steps), fin(self.lane_b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_change_the_hash() {
        let mut a = Trace::default();
        a.note(Instant(1), Step::Send, [1, 2, 3, 4]);
        a.note(Instant(2), Step::Ack, [1, 2, 0, 0]);
        let mut b = Trace::default();
        b.note(Instant(2), Step::Ack, [1, 2, 0, 0]);
        b.note(Instant(1), Step::Send, [1, 2, 3, 4]);
        assert_ne!(a.hex(), b.hex());
        let mut c = Trace::default();
        c.note(Instant(1), Step::Send, [1, 2, 3, 4]);
        c.note(Instant(2), Step::Ack, [1, 2, 0, 0]);
        assert_eq!(a.hex(), c.hex());
        assert_eq!(a.hex().len(), 32);
        let mut d = Trace::default();
        d.note(Instant(1), Step::Send, [1, 2, 3, 5]);
        d.note(Instant(2), Step::Ack, [1, 2, 0, 0]);
        assert_ne!(a.hex(), d.hex(), "the fourth value counts");
    }

    #[test]
    fn kinds_codes_and_names_round_trip() {
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(*s as usize, i + 1, "codes follow STEPS");
            assert_eq!(Step::from_name(s.name()), Some(*s));
        }
        for e in SendError::ALL {
            assert_eq!(SendError::from_code(e as u64), Some(e));
        }
    }
}
