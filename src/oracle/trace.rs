//! The trace: one line per fact of the run, folded into `trace_hash`
//! (format v3, docs/trace-format.md).
//!
//! Every fact (send, append, ack, fetch, process, commit, crash, election,
//! rebalance, the bookkeeping facts and the end-of-run facts) passes through
//! [`Trace::note`]. The hash is a pure function of the lines' kinds, times and
//! values, so the same scenario and seed give the same hash on any machine.
//! The steps are also what `explain` reads back (each causal fact it names is
//! one of them) and what `verify` replays into a fresh oracle.

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

/// A step kind: one per kind of fact. The values each carries are named by [`Step::fields`].
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
    /// An idempotent producer gave a record its sequence number.
    Sequenced = 35,
    /// A Kinesis shard refused a read or a write for its limits.
    Throttled = 36,
    /// A member waited `us` with every partition revoked (eager rebalance).
    StoppedTheWorld = 37,
    /// A sample of every group's lag, summed.
    Lag = 38,
    /// End of run: a producer's time blocked in send() and its largest backlog.
    ProducerEnd = 39,
    /// End of run: a group's members and the partitions they hold.
    GroupEnd = 40,
    /// End of run: a partition's leader, log end and high watermark.
    PartitionEnd = 41,
    /// End of run: a replica of a partition, and whether it is in the ISR.
    ReplicaEnd = 42,
    /// End of run: a group aggregation's counters.
    AggregateEnd = 43,
    /// End of run: one window result a group aggregation emitted.
    Window = 44,
    /// The run ended: its events; the line also carries `trace_hash` and `header_hash`.
    End = 45,
    /// A broker throttled a client over its byte-rate quota.
    QuotaThrottle = 46,
    /// A producer's send() blocked on a full `buffer.memory`.
    SendBlocked = 47,
    /// The blocked send() returned.
    SendUnblocked = 48,
    /// send() failed and the application sent the record again.
    Resend = 49,
    /// A transactional consumer aborted and did not seek back.
    NoRewind = 50,
}

/// Every step kind, in code order (the JSONL `kind` names them).
pub const STEPS: [Step; 50] = [
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
    Step::Sequenced,
    Step::Throttled,
    Step::StoppedTheWorld,
    Step::Lag,
    Step::ProducerEnd,
    Step::GroupEnd,
    Step::PartitionEnd,
    Step::ReplicaEnd,
    Step::AggregateEnd,
    Step::Window,
    Step::End,
    Step::QuotaThrottle,
    Step::SendBlocked,
    Step::SendUnblocked,
    Step::Resend,
    Step::NoRewind,
];

/// The most values a step carries.
pub const MAX_VALUES: usize = 8;

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
            Step::Sequenced => "sequenced",
            Step::Throttled => "throttled",
            Step::QuotaThrottle => "quota_throttle",
            Step::SendBlocked => "send_blocked",
            Step::SendUnblocked => "send_unblocked",
            Step::Resend => "resend",
            Step::NoRewind => "no_rewind",
            Step::StoppedTheWorld => "stopped_the_world",
            Step::Lag => "lag",
            Step::ProducerEnd => "producer_end",
            Step::GroupEnd => "group_end",
            Step::PartitionEnd => "partition_end",
            Step::ReplicaEnd => "replica_end",
            Step::AggregateEnd => "aggregate_end",
            Step::Window => "window",
            Step::End => "end",
        }
    }

    /// Names of the values a step carries, in order (at most [`MAX_VALUES`]).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Step::Send => &["record", "producer", "partition", "key", "send_seq", "event_us", "producer_inc"],
            Step::Append => &["record", "partition", "offset", "broker"],
            Step::Ack => &["record", "producer"],
            Step::Fail => &["record", "producer", "error"],
            Step::Replicate => &["broker", "partition", "log_end", "source"],
            Step::Truncate => &["broker", "partition", "offset"],
            Step::Elect => &["partition", "leader", "epoch", "unclean"],
            Step::Isr => &["partition", "isr_brokers", "high_watermark"],
            Step::Fetch => &["consumer", "partition", "from", "to"],
            Step::Process => &["record", "consumer", "offset", "effect", "group"],
            Step::Commit => &["consumer", "partition", "offset", "generation"],
            Step::CommitFailed => &["consumer", "generation", "in_transaction", "group"],
            Step::Rebalance => &["group", "generation", "members"],
            Step::Crash => &["entity_kind", "entity"],
            Step::Restart => &["entity_kind", "entity"],
            Step::HighWatermark => &["partition", "high_watermark"],
            Step::Pause => &["entity_kind", "entity", "us"],
            Step::Partition => &["entities", "us"],
            Step::Marker => &["partition", "offset", "commit", "txn"],
            Step::Fenced => &["txn", "epoch", "by_timeout"],
            Step::InitTxn => &["txn", "epoch"],
            Step::TxnEnd => &["txn", "commit", "partitions"],
            Step::Leave => &["group", "member", "consumer", "reason"],
            Step::PollTimeout => &["consumer", "member"],
            Step::Start => &["entity_kind", "entity"],
            Step::Stop => &["entity_kind", "entity"],
            Step::Assign => &["consumer", "partition", "generation"],
            Step::Revoke => &["consumer", "partition", "generation"],
            Step::Position => &["consumer", "partition", "offset", "source"],
            Step::Retry => &["record", "producer", "error", "attempt"],
            Step::Resend => &["record", "producer", "error"],
            Step::NoRewind => &["consumer", "txn"],
            Step::RebalanceStart => &["group", "generation", "reason", "consumer"],
            Step::Late => &["record", "group", "watermark", "dropped"],
            Step::Effect => &["record", "consumer", "txn", "group"],
            Step::NoOffset => &["consumer", "partition"],
            Step::Sequenced => &["record", "seq", "producer_gen"],
            Step::Throttled => &[],
            Step::QuotaThrottle => &["entity_kind", "entity", "broker", "throttle_us"],
            Step::SendBlocked | Step::SendUnblocked => &["producer"],
            Step::StoppedTheWorld => &["group", "us"],
            Step::Lag => &["lag"],
            Step::ProducerEnd => &["producer", "blocked_us", "max_backlog"],
            Step::GroupEnd => &["group", "members", "assigned_partitions"],
            Step::PartitionEnd => &["partition", "leader", "log_end", "high_watermark"],
            Step::ReplicaEnd => &["partition", "broker", "in_isr"],
            Step::AggregateEnd => &["group", "fired", "corrected", "dropped_events"],
            Step::Window => &["group", "key", "start_us", "end_us", "count", "fired_us"],
            Step::End => &["events"],
        }
    }

    pub fn from_name(name: &str) -> Option<Step> {
        STEPS.iter().copied().find(|s| s.name() == name)
    }

    pub fn from_code(code: u64) -> Option<Step> {
        STEPS.get(usize::try_from(code).ok()?.checked_sub(1)?).copied()
    }

    /// Kinds `explain` reads back (kept in memory when asked): the run's
    /// steps, not the bookkeeping and end-of-run facts.
    pub fn explained(self) -> bool {
        (self as u8) <= Step::NoOffset as u8 || matches!(self, Step::Resend | Step::NoRewind)
    }
}

/// Folds steps into a 128-bit digest (two independent 64-bit lanes), and
/// writes them as JSON lines when asked (`run --trace`). The digest is a
/// function of exactly what each line holds: time, kind and its values.
pub struct Trace {
    lane_a: u64,
    lane_b: u64,
    steps: u64,
    /// FNV-1a of the header line as written (0 when none was).
    header_hash: u64,
    out: Option<std::io::BufWriter<Box<dyn std::io::Write + Send>>>,
    /// The line being written (its capacity is kept from line to line).
    line: Vec<u8>,
    /// The first write error, reported when the trace is finished.
    pub error: Option<std::io::Error>,
    /// Every step `explain` reads ([`Step::explained`]), kept in memory when asked.
    pub kept: Option<crate::oracle::kept::Kept>,
}

/// One step as `explain` reads it back: its time (µs), kind, its first four
/// values (named by [`Step::fields`]) and its place among the trace's steps
/// (its JSONL line is `line + 2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub t: u64,
    pub v: [u64; 4],
    pub line: u32,
    pub kind: Step,
}

/// A rebalance's assignment as a line carries it: (consumer, partitions within the topic).
pub type Members = [(crate::oracle::fact::ConsumerId, Vec<crate::oracle::fact::LocalPartition>)];

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
            header_hash: 0,
            out: None,
            line: Vec::new(),
            error: None,
            kept: None,
        }
    }
}

/// Appends `v` in decimal.
fn push_u64(line: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[i..]);
}

/// FNV-1a, 64 bits: the header line's digest (`header_hash` of the `end` line).
pub fn header_hash(line: &str) -> u64 {
    line.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Trace {
    /// Writes every step from now on to `out`, one JSON object per line.
    pub fn write_to(&mut self, out: impl std::io::Write + Send + 'static) {
        self.out = Some(std::io::BufWriter::with_capacity(1 << 16, Box::new(out)));
    }

    /// Writes the header line (its digest goes into the `end` line).
    pub fn write_header(&mut self, line: &str) {
        self.header_hash = header_hash(line);
        self.write_line(line);
    }

    /// Writes a line as it is.
    pub fn write_line(&mut self, line: &str) {
        use std::io::Write;
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = writeln!(out, "{line}") {
                self.error.get_or_insert(e);
            }
        }
    }

    /// The run stopped before its end (`reason`): a last line that says so,
    /// so that `verify` refuses the trace instead of summing a part of a run.
    pub fn cut(&mut self, at_us: u64, reason: &str) {
        let line = serde_json::json!({ "t": at_us, "kind": "cut", "reason": reason }).to_string();
        self.write_line(&line);
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

    /// Records one step: `values` are the kind's fields, in order; `members`
    /// a rebalance's assignment (empty for every other kind).
    #[inline]
    pub(in crate::oracle) fn note(&mut self, at: Instant, step: Step, values: &[u64], members: &Members) {
        if let Some(kept) = self.kept.as_mut().filter(|_| step.explained()) {
            let mut v = [0; 4];
            let n = values.len().min(4);
            v[..n].copy_from_slice(&values[..n]);
            kept.push(Recorded { t: at.us(), v, line: self.steps as u32, kind: step });
        }
        self.fold(at.us(), step as u64, values);
        if step == Step::Rebalance {
            self.fold_members(members.iter().map(|(c, parts)| (u64::from(*c), parts.iter().map(|&p| u64::from(p)))));
        }
        if self.out.is_some() {
            self.write_step(at, step, values, members);
        }
    }

    /// Writes one line: built in `line` (reused, so no allocation per
    /// step), then handed to the writer whole.
    #[cold]
    fn write_step(&mut self, at: Instant, step: Step, values: &[u64], members: &Members) {
        use std::io::Write;
        let end = (step == Step::End).then(|| (self.hex(), self.header_hash));
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"{\"t\":");
        push_u64(line, at.us());
        line.extend_from_slice(b",\"kind\":\"");
        line.extend_from_slice(step.name().as_bytes());
        line.push(b'"');
        for (name, &v) in step.fields().iter().zip(values) {
            line.extend_from_slice(b",\"");
            line.extend_from_slice(name.as_bytes());
            line.extend_from_slice(b"\":");
            push_u64(line, v);
        }
        if step == Step::Rebalance {
            line.extend_from_slice(b",\"assignment\":[");
            for (i, (c, parts)) in members.iter().enumerate() {
                line.extend_from_slice(if i == 0 { b"[" } else { b",[" });
                push_u64(line, u64::from(*c));
                line.extend_from_slice(b",[");
                for (j, &p) in parts.iter().enumerate() {
                    if j > 0 {
                        line.push(b',');
                    }
                    push_u64(line, u64::from(p));
                }
                line.extend_from_slice(b"]]");
            }
            line.push(b']');
        }
        if let Some((hash, header)) = end {
            let tail = format!(",\"trace_hash\":\"{hash}\",\"header_hash\":\"{header:016x}\"");
            line.extend_from_slice(tail.as_bytes());
        }
        line.extend_from_slice(b"}\n");
        let Some(out) = self.out.as_mut() else { return };
        if let Err(e) = out.write_all(line) {
            self.error.get_or_insert(e);
            self.out = None;
        }
    }

    /// Folds one step (time µs, kind code, values) into the digest.
    #[inline]
    pub fn fold(&mut self, t: u64, kind: u64, values: &[u64]) {
        self.steps += 1;
        self.mix(t);
        self.mix(kind);
        for &w in values {
            self.mix(w);
        }
    }

    /// Folds a rebalance's assignment after its values: each member's
    /// consumer, its partition count, then its partitions.
    pub fn fold_members<P: ExactSizeIterator<Item = u64>>(&mut self, members: impl Iterator<Item = (u64, P)>) {
        for (c, parts) in members {
            self.mix(c);
            self.mix(parts.len() as u64);
            for p in parts {
                self.mix(p);
            }
        }
    }

    #[inline]
    fn mix(&mut self, w: u64) {
        self.lane_a = (self.lane_a ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
        self.lane_b = (self.lane_b.rotate_left(17) ^ w).wrapping_mul(0xbf58_476d_1ce4_e5b9);
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
        a.note(Instant(1), Step::Send, &[1, 2, 3, 4, 0, 1, 0], &[]);
        a.note(Instant(2), Step::Ack, &[1, 2], &[]);
        let mut b = Trace::default();
        b.note(Instant(2), Step::Ack, &[1, 2], &[]);
        b.note(Instant(1), Step::Send, &[1, 2, 3, 4, 0, 1, 0], &[]);
        assert_ne!(a.hex(), b.hex());
        let mut c = Trace::default();
        c.note(Instant(1), Step::Send, &[1, 2, 3, 4, 0, 1, 0], &[]);
        c.note(Instant(2), Step::Ack, &[1, 2], &[]);
        assert_eq!(a.hex(), c.hex());
        assert_eq!(a.hex().len(), 32);
        let mut d = Trace::default();
        d.note(Instant(1), Step::Send, &[1, 2, 3, 4, 0, 1, 1], &[]);
        d.note(Instant(2), Step::Ack, &[1, 2], &[]);
        assert_ne!(a.hex(), d.hex(), "the seventh value counts");
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for v in [0, 7, 10, 1_234_567_890, u64::MAX] {
            let mut line = Vec::new();
            push_u64(&mut line, v);
            assert_eq!(String::from_utf8(line).unwrap(), v.to_string());
        }
    }

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_holds_its_named_values_and_a_rebalance_its_assignment() {
        use crate::oracle::fact::{ConsumerId, LocalPartition};
        let buf = Shared::default();
        let mut t = Trace::default();
        t.write_to(buf.clone());
        t.note(Instant(5), Step::Ack, &[1, 2], &[]);
        let members = [(ConsumerId::new(3), vec![LocalPartition::new(0), LocalPartition::new(4)])];
        t.note(Instant(6), Step::Rebalance, &[0, 1, 1], &members);
        t.note(Instant(7), Step::End, &[9], &[]);
        let hash = t.hex();
        t.finish().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let expected = format!(
            "{{\"t\":5,\"kind\":\"ack\",\"record\":1,\"producer\":2}}\n\
             {{\"t\":6,\"kind\":\"rebalance\",\"group\":0,\"generation\":1,\"members\":1,\"assignment\":[[3,[0,4]]]}}\n\
             {{\"t\":7,\"kind\":\"end\",\"events\":9,\"trace_hash\":\"{hash}\",\"header_hash\":\"0000000000000000\"}}\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn kinds_codes_and_names_round_trip() {
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(*s as usize, i + 1, "codes follow STEPS");
            assert_eq!(Step::from_name(s.name()), Some(*s));
            assert_eq!(Step::from_code(*s as u64), Some(*s));
            assert!(s.fields().len() <= MAX_VALUES, "{s:?}");
        }
        for e in SendError::ALL {
            assert_eq!(SendError::from_code(e as u64), Some(e));
        }
    }
}
