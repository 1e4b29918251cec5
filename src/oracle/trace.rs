//! The trace: one line per meaningful step of the run, folded into `trace_hash`.
//!
//! Every step the model reports (send, append, ack, fetch, process, commit,
//! crash, election, rebalance, ...) passes through [`Trace::note`]. The hash is
//! a pure function of the steps' kinds, times and ids, so the same scenario and
//! seed give the same hash on any machine.

use crate::kernel::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    /// a = record, b = producer, c = partition.
    Send = 1,
    /// a = record, b = partition, c = offset.
    Append = 2,
    /// a = record, b = producer.
    Ack = 3,
    /// a = record, b = producer.
    Fail = 4,
    /// a = broker, b = partition, c = new log end offset.
    Replicate = 5,
    /// a = broker, b = partition, c = offset truncated to.
    Truncate = 6,
    /// a = partition, b = new leader (u64::MAX: none), c = leader epoch.
    Elect = 7,
    /// a = partition, b = ISR bitmask of brokers, c = high watermark.
    Isr = 8,
    /// a = consumer, b = partition, c = record count fetched.
    Fetch = 9,
    /// a = record, b = consumer, c = 1 if the sink took it as an effect.
    Process = 10,
    /// a = consumer, b = partition, c = offset.
    Commit = 11,
    /// a = consumer, b = generation, c = 0.
    CommitFailed = 12,
    /// a = group, b = generation, c = members.
    Rebalance = 13,
    /// a = entity kind (0 broker, 1 producer, 2 consumer), b = index.
    Crash = 14,
    Restart = 15,
    /// a = partition, b = high watermark.
    HighWatermark = 16,
    /// a = entity kind, b = index, c = pause length in µs.
    Pause = 17,
    /// a = entities cut from each other, b = length in µs.
    Partition = 18,
    /// A transaction marker appended: a = partition, b = offset, c = 1 commit / 0 abort.
    Marker = 19,
    /// A transactional id's epoch bumped over an open transaction: a = txn, b = new epoch,
    /// c = 0 by initTransactions, 1 by transaction.timeout.ms.
    Fenced = 20,
    /// initTransactions answered: a = txn, b = epoch.
    InitTxn = 21,
    /// A transaction completed: a = txn, b = 1 commit / 0 abort, c = partitions.
    TxnEnd = 22,
    /// A member left its group: a = group, b = member id, c = consumer.
    Leave = 23,
    /// max.poll.interval.ms expired: a = consumer, b = member id it leaves as.
    PollTimeout = 24,
    /// A consumer instance started by a fault: a = entity kind, b = index.
    Start = 25,
    /// A consumer instance shut down cleanly: a = entity kind, b = index.
    Stop = 26,
}

/// Every step kind, in code order (the JSONL `kind` names them).
pub const STEPS: [Step; 26] = [
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
        }
    }

    /// Names of the three values a step carries; "" marks one that is always 0.
    pub fn fields(self) -> [&'static str; 3] {
        match self {
            Step::Send => ["record", "producer", "partition"],
            Step::Append => ["record", "partition", "offset"],
            Step::Ack => ["record", "producer", ""],
            Step::Fail => ["record", "producer", "blocked"],
            Step::Replicate => ["broker", "partition", "log_end"],
            Step::Truncate => ["broker", "partition", "offset"],
            Step::Elect => ["partition", "leader", "epoch"],
            Step::Isr => ["partition", "isr_brokers", "high_watermark"],
            Step::Fetch => ["consumer", "partition", "records"],
            Step::Process => ["record", "consumer", "effect"],
            Step::Commit => ["consumer", "partition", "offset"],
            Step::CommitFailed => ["consumer", "generation", "in_transaction"],
            Step::Rebalance => ["group", "generation", "members"],
            Step::Crash | Step::Restart | Step::Start | Step::Stop => ["entity_kind", "entity", ""],
            Step::HighWatermark => ["partition", "high_watermark", ""],
            Step::Pause => ["entity_kind", "entity", "us"],
            Step::Partition => ["entities", "us", ""],
            Step::Marker => ["partition", "offset", "commit"],
            Step::Fenced => ["txn", "epoch", "by_timeout"],
            Step::InitTxn => ["txn", "epoch", ""],
            Step::TxnEnd => ["txn", "commit", "partitions"],
            Step::Leave => ["group", "member", "consumer"],
            Step::PollTimeout => ["consumer", "member", ""],
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
    out: Option<std::io::BufWriter<std::fs::File>>,
    /// The first write error, reported when the trace is finished.
    pub error: Option<std::io::Error>,
    /// Every step, kept in memory for `explain` when asked.
    pub kept: Option<Vec<Recorded>>,
}

/// One step as `explain` reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub t: u64,
    pub kind: Step,
    pub a: u64,
    pub b: u64,
    pub c: u64,
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
    pub fn write_to(&mut self, out: std::fs::File) {
        self.out = Some(std::io::BufWriter::with_capacity(1 << 16, out));
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

    #[inline]
    pub fn note(&mut self, at: Instant, step: Step, a: u64, b: u64, c: u64) {
        if self.out.is_some() {
            self.write_step(at, step, [a, b, c]);
        }
        if let Some(kept) = self.kept.as_mut() {
            kept.push(Recorded { t: at.us(), kind: step, a, b, c });
        }
        self.fold(at.us(), step as u64, a, b, c);
    }

    #[cold]
    fn write_step(&mut self, at: Instant, step: Step, values: [u64; 3]) {
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
    pub fn fold(&mut self, t: u64, kind: u64, a: u64, b: u64, c: u64) {
        self.steps += 1;
        for w in [t, kind, a, b, c] {
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
        a.note(Instant(1), Step::Send, 1, 2, 3);
        a.note(Instant(2), Step::Ack, 1, 2, 0);
        let mut b = Trace::default();
        b.note(Instant(2), Step::Ack, 1, 2, 0);
        b.note(Instant(1), Step::Send, 1, 2, 3);
        assert_ne!(a.hex(), b.hex());
        let mut c = Trace::default();
        c.note(Instant(1), Step::Send, 1, 2, 3);
        c.note(Instant(2), Step::Ack, 1, 2, 0);
        assert_eq!(a.hex(), c.hex());
        assert_eq!(a.hex().len(), 32);
    }
}
