//! Causal stories: for each lost, duplicated, reordered or late record, the
//! chain of steps that made it so, in plain language with virtual
//! timestamps, and the anomalies grouped by the cause they share.
//!
//! Nothing here guesses. Every link of a chain is one step of the kept trace
//! (its JSONL line is given), found by an exact join: the same record, the
//! same partition and offset, the consumer that held the partition, the
//! commit that set the offset it resumed from. Where no chain of steps
//! connects an anomaly to a mechanism, the cause says `unexplained` and what
//! was seen; the tests require that no shipped scenario has one.

mod aborted_read;
mod about;
mod duplicate;
mod failed;
pub mod index;
mod late;
mod lost;
mod offset_store;
mod ownership;
mod poll_skip;
mod reordered;
mod sending;
pub mod view;
mod writes;

use std::collections::BTreeMap;

use crate::model::ids::{ConsumerId, GroupId, PartitionId, ProducerId, TxnId};
use crate::oracle::kept::Kept;
use crate::oracle::trace::{SendError, Step};
use crate::world::World;
pub use about::{About, Place, TopicPartition};
use index::{span, ts, Found, Index, Names};
use view::View;

/// What every story reads: the finished run, its kept steps indexed, and
/// names for ids.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub w: &'a World,
    pub ix: &'a Index<'a>,
    pub n: &'a Names<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anomaly {
    Lost,
    Duplicate,
    Reordered,
    Late,
    /// Processed again (a duplicate effect on a plain sink; absorbed by an
    /// idempotent or transactional one).
    Redelivered,
    /// Log side: acknowledged, absent from the final log.
    LostWrite,
    /// Log side: acknowledged, only on an offline partition.
    Unavailable,
    /// Log side: still held by its live producer at the end.
    Unsent,
    /// Jepsen's poll-skip: a fetch began past where the last one ended, with no seek.
    PollSkip,
    /// Jepsen's aborted-read: a read_committed group processed an aborted record.
    AbortedRead,
    /// Log side: send() reported failed. Not an anomaly (the application got the error): told
    /// only when asked for (`explain_failed`).
    Failed,
}

impl Anomaly {
    pub const ALL: [Anomaly; 11] = [
        Anomaly::Lost,
        Anomaly::Duplicate,
        Anomaly::Reordered,
        Anomaly::Late,
        Anomaly::Redelivered,
        Anomaly::LostWrite,
        Anomaly::Unavailable,
        Anomaly::Unsent,
        Anomaly::PollSkip,
        Anomaly::AbortedRead,
        Anomaly::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Anomaly::Lost => "lost",
            Anomaly::Duplicate => "duplicate",
            Anomaly::Reordered => "reordered",
            Anomaly::Late => "late",
            Anomaly::Redelivered => "redelivered",
            Anomaly::LostWrite => "lost_write",
            Anomaly::Unavailable => "unavailable",
            Anomaly::Unsent => "unsent",
            Anomaly::PollSkip => "poll_skip",
            Anomaly::AbortedRead => "aborted_read",
            Anomaly::Failed => "failed",
        }
    }

    pub fn from_name(s: &str) -> Option<Anomaly> {
        match s {
            "duplicates" => Some(Anomaly::Duplicate),
            "redelivery" | "redeliveries" => Some(Anomaly::Redelivered),
            "lost_writes" | "lost-write" => Some(Anomaly::LostWrite),
            "poll_skips" | "poll-skip" => Some(Anomaly::PollSkip),
            "aborted_reads" | "aborted-read" => Some(Anomaly::AbortedRead),
            _ => Anomaly::ALL.into_iter().find(|a| a.name() == s),
        }
    }

    /// "1 lost record", "23 duplicates".
    fn count(self, k: usize) -> String {
        let (one, many) = match self {
            Anomaly::Lost => ("lost record", "lost records"),
            Anomaly::Duplicate => ("duplicate", "duplicates"),
            Anomaly::Reordered => ("reordered record", "reordered records"),
            Anomaly::Late => ("late event", "late events"),
            Anomaly::Redelivered => ("redelivery", "redeliveries"),
            Anomaly::LostWrite => ("lost write", "lost writes"),
            Anomaly::Unavailable => ("unavailable record", "unavailable records"),
            Anomaly::Unsent => ("unsent record", "unsent records"),
            Anomaly::PollSkip => ("poll skip", "poll skips"),
            Anomaly::AbortedRead => ("aborted read", "aborted reads"),
            Anomaly::Failed => ("failed send", "failed sends"),
        };
        format!("{k} {}", if k == 1 { one } else { many })
    }
}

/// How a consumer stopped holding a partition (all times in µs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Disruption {
    Crash {
        at: u64,
    },
    /// Frozen for `us`; the group went on without it.
    Paused {
        at: u64,
        us: u64,
    },
    /// `max.poll.interval.ms` passed between two poll() calls.
    PollTimeout {
        at: u64,
    },
    /// The rebalance completed without it (it did not rejoin in time).
    MissedRebalance {
        at: u64,
    },
    /// The coordinator heard no heartbeat for `session.timeout.ms`.
    Expired {
        at: u64,
    },
    /// It gave its partitions up for the rebalance of `group` that ended `generation`.
    Revoked {
        at: u64,
        group: u32,
        generation: u32,
    },
    /// Its commit was refused: its generation had ended.
    CommitRefused {
        at: u64,
    },
    Stopped {
        at: u64,
    },
}

impl Disruption {
    pub fn at(self) -> u64 {
        match self {
            Disruption::Crash { at }
            | Disruption::Paused { at, .. }
            | Disruption::PollTimeout { at }
            | Disruption::MissedRebalance { at }
            | Disruption::Expired { at }
            | Disruption::Revoked { at, .. }
            | Disruption::CommitRefused { at }
            | Disruption::Stopped { at } => at,
        }
    }

    /// The disruption as the cause of what `then` names.
    fn describe(self, n: &Names<'_>, c: u32, then: Then) -> String {
        let name = n.consumer(ConsumerId::new(c));
        let before = match then {
            Then::Reprocessed => "before it committed",
            Then::Unprocessed => "before it processed what it had committed",
            Then::Zombie => "and it went on processing what it had fetched (a zombie)",
        };
        match self {
            Disruption::Crash { at } if then == Then::Reprocessed => {
                format!("crash of {name} at {} between processing and commit", ts(at))
            }
            Disruption::Crash { at } => format!("crash of {name} at {} between commit and processing", ts(at)),
            Disruption::Paused { at, us } => format!(
                "pause of {name} at {} for {}: the group moved its partitions on without it, {before}",
                ts(at),
                span(us)
            ),
            Disruption::PollTimeout { at } => format!(
                "{name} exceeded max.poll.interval.ms at {} (a batch slower than the poll timeout) and left the group {before}",
                ts(at)
            ),
            Disruption::MissedRebalance { at } => format!(
                "{name} missed the rebalance at {} (still processing its batch) and lost its partitions {before}",
                ts(at)
            ),
            Disruption::Expired { at } => format!("{name}'s session expired at {} {before}", ts(at)),
            Disruption::Revoked { at, group, generation } => format!(
                "the rebalance of {} at {} (generation {generation} ended) took {name}'s partitions {before}",
                n.group(GroupId::new(group)),
                ts(at)
            ),
            Disruption::CommitRefused { at } => format!("{name}'s commit was refused at {} (its generation had ended)", ts(at)),
            Disruption::Stopped { at } => format!("stop of {name} at {} {before}", ts(at)),
        }
    }
}

/// What a disruption led to, for the words of its cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    /// Records it had processed were processed again.
    Reprocessed,
    /// Records it had committed were never processed.
    Unprocessed,
    /// It processed records after the group had moved on.
    Zombie,
}

/// How a partition lost records that had been appended to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failover {
    /// acks=1: acknowledged after the leader's own append.
    Acks1,
    /// acks=all while the ISR had shrunk to the leader alone.
    IsrOfOne,
    /// A replica outside the ISR was elected.
    Unclean,
    /// acks=all while the ISR was the leader alone, then an unclean election.
    IsrOfOneThenUnclean,
    /// Every replica that had the records lost its unflushed tail.
    PowerLoss,
    /// acks=0: never acknowledged by a broker, counted as sent.
    Acks0,
}

/// What took a leader away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeaderLoss {
    Crash,
    PowerLoss,
    Pause,
    NetworkPartition,
    /// Fenced by the controller with no fault of its own in the trace.
    Fencing,
}

impl LeaderLoss {
    fn name(self) -> &'static str {
        match self {
            LeaderLoss::Crash => "crash",
            LeaderLoss::PowerLoss => "power loss",
            LeaderLoss::Pause => "pause",
            LeaderLoss::NetworkPartition => "network partition",
            LeaderLoss::Fencing => "fencing",
        }
    }
}

/// What an anomaly's chain starts from. Anomalies with equal causes are grouped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// A consumer processed records and then lost their partition before
    /// committing them, or processed them after losing it: another member
    /// processed them again.
    Reprocessed { consumer: u32, how: Disruption },
    /// A commit moved a partition's committed offset back over processed records.
    CommitMovedBack { consumer: u32, at: u64 },
    /// The producer sent the record again after an error that did not mean
    /// the write had failed: the log holds two copies.
    WrittenTwice { producer: u32, error: SendError, idempotent: bool },
    /// A transaction aborted and its records were sent again in the next one;
    /// a read_uncommitted group read both copies.
    AbortedAndResent { txn: u32, at: u64, by_timeout: bool },
    /// A write of an aborted transaction, held by the network, reached the
    /// log after the abort marker at the same epoch and was committed with
    /// the next transaction, which had sent the record again (KIP-890).
    LateWriteJoinedNext { txn: u32, at: u64 },
    /// A consumer committed offsets past records it had not processed yet,
    /// then lost them.
    CommittedUnprocessed { consumer: u32, how: Disruption },
    /// A group with no committed offset started at the log end.
    ResetToLatest { group: u32 },
    /// The broker answered OffsetOutOfRange and the consumer reset.
    ResetOutOfRange { group: u32 },
    /// The producer process died with the records unsent.
    ProducerCrash { producer: u32, at: u64 },
    /// Written but above the high watermark when the leader went away; the
    /// producer would have sent them again, but it died before the acknowledgement.
    UnacknowledgedLost { producer: u32, at: u64 },
    /// The records' leader went away (`fault` at `lost_at`) and a replica without them took over.
    Failover { broker: u32, lost_at: u64, fault: LeaderLoss, how: Failover },
    /// A transaction aborted and its records were never sent again.
    AbortedNeverResent { txn: u32, at: u64 },
    /// The partition had no leader when the run ended.
    Offline { partition: u32 },
    /// A live producer still held the record when the run ended (`error`:
    /// its last failed attempt, if any).
    StillHeld { producer: u32, error: Option<SendError>, end: u64 },
    /// A failed attempt was retried after later records had landed.
    RetriedBehind { producer: u32, error: SendError },
    /// send() reported `error`, the application (`on_failure: resend`)
    /// took it as a definite failure and sent the record again, but the
    /// first write had landed (KAFKA-13574).
    /// `landed`: the first write had landed (a duplicate), or not (the
    /// resend only landed behind later records).
    ResentByApp { producer: u32, error: SendError, landed: bool },
    /// A transactional consumer aborted `txn` at `at` and polled on without
    /// seeking back (`on_abort: continue`, KAFKA-17582): its next
    /// transaction committed offsets past the aborted batch.
    NoRewindOnAbort { consumer: u32, txn: u32, at: u64 },
    /// A read-process-write consumer's transaction aborted and it sought back to its
    /// committed offsets (`on_abort: rewind`): it processes the batch again.
    RewoundAfterAbort { consumer: u32, txn: u32, at: u64 },
    /// A member processed records after its partition had moved to another
    /// member, which had processed later records meanwhile.
    ZombieProcessed { consumer: u32, how: Disruption },
    /// Late events: the producer held them while offline.
    HeldOffline { producer: u32 },
    /// Late events: the producer's clock runs behind.
    ClockBehind { producer: u32 },
    /// Late events: another producer's clock runs ahead, so its events moved
    /// the watermark past events that were on time.
    ClockAhead { producer: u32 },
    /// Late events: they are sent long after they happen.
    SentLate { producer: u32 },
    /// Late events: sent on time, but written long after (retries, a slow or
    /// frozen leader) while newer events got through.
    WrittenLate { partition: u32 },
    /// Late events: sent on time, but their partition was read after others'.
    PartitionBehind { partition: u32 },
    /// A consumer's fetch of a partition began past where its previous one
    /// ended, with no seek, assignment, revocation or restart between.
    PollSkip { consumer: u32, partition: u32 },
    /// A read_committed group processed records of a transaction that
    /// aborted (its marker at `at`).
    AbortedRead { group: u32, txn: u32, at: u64 },
    /// librdkafka (`enable.auto.offset.store=true`, auto-commit): the member's offset store held
    /// the offsets of records poll() had handed over, and a commit of the store went past records
    /// it had not processed; then `how` ended its hold (None: the run ended first).
    OffsetStore { consumer: u32, how: Option<Disruption> },
    /// send() failed: the producer gave up on the record with `error`.
    SendFailed { producer: u32, error: SendError },
    /// No chain of steps connects it to a mechanism; says what was seen.
    Unexplained { what: &'static str },
}

impl Cause {
    /// The mechanism, without the entities and times: causes that share it
    /// are the same failure happening again ("a batch slower than
    /// max.poll.interval.ms").
    pub fn mechanism(&self) -> &'static str {
        let disruption = |how: &Disruption| match how {
            Disruption::Crash { .. } => "a consumer crash",
            Disruption::Paused { .. } => "a consumer pause the group did not wait for",
            Disruption::PollTimeout { .. } => "a batch slower than max.poll.interval.ms",
            Disruption::MissedRebalance { .. } => "a member still processing when a rebalance completed",
            Disruption::Expired { .. } => "an expired session",
            Disruption::Revoked { .. } => "a rebalance",
            Disruption::CommitRefused { .. } => "a refused commit",
            Disruption::Stopped { .. } => "a stop",
        };
        match self {
            Cause::Reprocessed { how, .. } | Cause::CommittedUnprocessed { how, .. } => disruption(how),
            Cause::CommitMovedBack { .. } => "a commit moving the offset back",
            Cause::WrittenTwice { .. } => "a retry that wrote a record twice",
            Cause::AbortedAndResent { .. } => "an aborted transaction sent again",
            Cause::LateWriteJoinedNext { .. } => "an aborted transaction's late write joining the next one",
            Cause::ResetToLatest { .. } => "auto.offset.reset=latest",
            Cause::ResetOutOfRange { .. } => "an offset reset after OffsetOutOfRange",
            Cause::ProducerCrash { .. } | Cause::UnacknowledgedLost { .. } => "a producer crash",
            Cause::Failover { .. } => "a leader failover",
            Cause::AbortedNeverResent { .. } => "an aborted transaction never sent again",
            Cause::Offline { .. } => "an offline partition",
            Cause::StillHeld { .. } => "a run that ended before the producer finished",
            Cause::RetriedBehind { .. } => "a retry landing behind later records",
            Cause::ResentByApp { .. } => "an application resending after a failure that was not definite",
            Cause::NoRewindOnAbort { .. } => "an abort without a seek back to the committed offsets",
            Cause::RewoundAfterAbort { .. } => "an abort with a seek back to the committed offsets",
            Cause::ZombieProcessed { how, .. } => disruption(how),
            Cause::HeldOffline { .. } => "events held while offline",
            Cause::ClockBehind { .. } => "a clock behind",
            Cause::ClockAhead { .. } => "a clock ahead",
            Cause::SentLate { .. } => "events sent long after they happen",
            Cause::PartitionBehind { .. } => "a partition read behind the others",
            Cause::WrittenLate { .. } => "a write delayed past newer events",
            Cause::PollSkip { .. } => "a fetch that skipped offsets with no seek",
            Cause::AbortedRead { .. } => "a read_committed read of an aborted transaction",
            Cause::OffsetStore { .. } => "librdkafka's offset store committed before processing",
            Cause::SendFailed { .. } => "a send that failed",
            Cause::Unexplained { .. } => "unexplained",
        }
    }

    /// The cause in one line: "crash of analytics-1 at 30.010s between processing and commit".
    pub fn describe(&self, w: &World) -> String {
        let n = Names { w };
        match *self {
            Cause::Reprocessed { consumer, how } => how.describe(&n, consumer, Then::Reprocessed),
            Cause::CommitMovedBack { consumer, at } => {
                format!("a commit by {} at {} moved the committed offset back", n.consumer(ConsumerId::new(consumer)), ts(at))
            }
            Cause::WrittenTwice { producer, error, idempotent } => format!(
                "{} retried after {}{}",
                n.producer(ProducerId::new(producer)),
                error.describe(),
                if idempotent {
                    ", and the broker no longer knew the first write (new producer id)"
                } else {
                    " without idempotence: the log holds both copies"
                }
            ),
            Cause::AbortedAndResent { .. } | Cause::LateWriteJoinedNext { .. } => self.describe_txn(&n),
            Cause::CommittedUnprocessed { consumer, how } => how.describe(&n, consumer, Then::Unprocessed),
            Cause::ZombieProcessed { consumer, how } => how.describe(&n, consumer, Then::Zombie),
            Cause::ResetToLatest { group } => format!(
                "auto.offset.reset=latest: group {} had no committed offset and started at the log end",
                n.group(GroupId::new(group))
            ),
            Cause::ResetOutOfRange { group } => {
                format!("group {}'s position fell out of range and auto.offset.reset moved it", n.group(GroupId::new(group)))
            }
            Cause::ProducerCrash { .. }
            | Cause::UnacknowledgedLost { .. }
            | Cause::Failover { .. }
            | Cause::AbortedNeverResent { .. }
            | Cause::Offline { .. }
            | Cause::StillHeld { .. }
            | Cause::RetriedBehind { .. } => self.describe_log_side(&n),
            Cause::HeldOffline { .. }
            | Cause::ClockBehind { .. }
            | Cause::ClockAhead { .. }
            | Cause::SentLate { .. }
            | Cause::WrittenLate { .. }
            | Cause::PartitionBehind { .. } => self.describe_late(&n),
            Cause::PollSkip { consumer, partition } => format!(
                "{}'s fetches of {} skipped offsets: a fetch began past where the last one ended, with no seek, rebalance or restart",
                n.consumer(ConsumerId::new(consumer)),
                n.partition(PartitionId::new(partition))
            ),
            Cause::AbortedRead { .. } => self.describe_txn(&n),
            Cause::OffsetStore { consumer, how } => {
                let name = n.consumer(ConsumerId::new(consumer));
                let store = format!(
                    "auto-commit of {name}'s offset store (enable.auto.offset.store=true: librdkafka stores an offset when poll() hands its record over, not when it is processed) went past records not yet processed"
                );
                match how {
                    Some(how) => format!("{store}, then {}", how.describe(&n, consumer, Then::Unprocessed)),
                    None => format!("{store}, and the run ended at {} before {name} processed them", ts(w.now.us())),
                }
            }
            Cause::SendFailed { .. } | Cause::ResentByApp { .. } => self.describe_log_side(&n),
            Cause::RewoundAfterAbort { .. } | Cause::NoRewindOnAbort { .. } => self.describe_txn(&n),
            Cause::Unexplained { what } => format!("unexplained: {what}"),
        }
    }

    /// The causes that end in a transaction: aborts, resends, rewinds.
    fn describe_txn(&self, n: &Names<'_>) -> String {
        match *self {
            Cause::AbortedAndResent { txn, at, by_timeout } => format!(
                "transaction of {} aborted at {}{}: its records went again in the next one, and read_uncommitted read both",
                n.txn(TxnId::new(txn)),
                ts(at),
                if by_timeout { " by transaction.timeout.ms" } else { "" }
            ),
            Cause::LateWriteJoinedNext { txn, at } => format!(
                "transaction of {} aborted at {}, but a write of it held by the network reached the log after the abort marker, at the same epoch, and committed with the next transaction, which had sent the record again (KIP-890; transaction.version 2 fences it)",
                n.txn(TxnId::new(txn)),
                ts(at)
            ),
            Cause::AbortedRead { group, txn, at } => format!(
                "group {} reads with isolation.level=read_committed, yet processed records of {}'s transaction, which aborted at {}",
                n.group(GroupId::new(group)),
                n.txn(TxnId::new(txn)),
                ts(at)
            ),
            Cause::RewoundAfterAbort { consumer, txn, at } => format!(
                "{}'s transaction ({}) aborted at {} and it sought back to the committed offsets (on_abort: rewind): it processes the aborted batch again, and only the second result reaches the sink",
                n.consumer(ConsumerId::new(consumer)),
                n.txn(TxnId::new(txn)),
                ts(at)
            ),
            Cause::NoRewindOnAbort { consumer, txn, at } => format!(
                "{}'s transaction ({}) aborted at {} and it polled on without seeking back to the committed offsets (on_abort: continue): the next transaction committed past the aborted batch",
                n.consumer(ConsumerId::new(consumer)),
                n.txn(TxnId::new(txn)),
                ts(at)
            ),
            _ => unreachable!("describe passes transaction causes only"),
        }
    }

    /// `describe` for the causes of lost, unavailable, unsent and
    /// reordered records on the producer and log side.
    fn describe_log_side(&self, n: &Names<'_>) -> String {
        match *self {
            Cause::ProducerCrash { producer, at } => {
                format!("crash of {} at {} with records not yet written", n.producer(ProducerId::new(producer)), ts(at))
            }
            Cause::UnacknowledgedLost { producer, at } => format!(
                "crash of {} at {} before its writes were acknowledged; a leader change then removed them",
                n.producer(ProducerId::new(producer)),
                ts(at)
            ),
            Cause::Failover { broker, lost_at, fault, how } => {
                let what = match how {
                    Failover::Acks1 => "acks=1 acknowledged records before the next leader had copied them",
                    Failover::IsrOfOne => "acks=all acknowledged records while the ISR was the leader alone",
                    Failover::Unclean => "an unclean election made a stale replica leader",
                    Failover::IsrOfOneThenUnclean => {
                        "acks=all acknowledged records while the ISR was the leader alone, then an unclean election made a stale replica leader"
                    }
                    Failover::PowerLoss => "the power loss took records no other replica had",
                    Failover::Acks0 => "acks=0 counted records as sent that no broker kept",
                };
                format!("{} of broker-{broker} at {}: {what}", fault.name(), ts(lost_at))
            }
            Cause::AbortedNeverResent { txn, at } => format!(
                "transaction of {} aborted at {} and its records were never sent again",
                n.txn(TxnId::new(txn)),
                ts(at)
            ),
            Cause::Offline { partition } => {
                format!("{} had no leader at the end", n.partition(PartitionId::new(partition)))
            }
            Cause::StillHeld { producer, error, end } => format!(
                "still in {}'s accumulator or in flight when the run ended at {}{}",
                n.producer(ProducerId::new(producer)),
                ts(end),
                error.map_or(String::new(), |e| format!(" (its last attempt failed with {})", e.describe()))
            ),
            Cause::RetriedBehind { producer, error } => {
                let pr = &n.w.producers[ProducerId::new(producer)];
                let kinesis = n.w.scenario.platform == crate::scenario::Platform::Kinesis;
                format!(
                    "{} retried after {} while later records got through ({} requests in flight, {})",
                    pr.name,
                    error.describe(),
                    pr.config.max_in_flight_requests_per_connection,
                    match (kinesis, pr.config.enable_idempotence) {
                        (true, _) => "Kinesis has no idempotent producer",
                        (false, true) => "idempotent",
                        (false, false) => "no idempotence",
                    }
                )
            }
            Cause::SendFailed { producer, error } => format!(
                "{}'s send() failed with {}: the application got the error",
                n.producer(ProducerId::new(producer)),
                error.describe()
            ),
            Cause::ResentByApp { producer, error, landed } => format!(
                "{}'s send() failed with {}; the application took it as definite and sent the record again (on_failure: resend){}",
                n.producer(ProducerId::new(producer)),
                error.describe(),
                if landed { ", but the first write had landed: the log holds both copies" } else { ", behind records sent since" }
            ),
            _ => unreachable!("describe hands over log-side causes only"),
        }
    }

    /// `describe` for the causes of late events.
    fn describe_late(&self, n: &Names<'_>) -> String {
        match *self {
            Cause::HeldOffline { producer } => {
                format!(
                    "{} was offline and sent the events it held when it came back",
                    n.producer(ProducerId::new(producer))
                )
            }
            Cause::ClockBehind { producer } => format!("{}'s clock runs behind", n.producer(ProducerId::new(producer))),
            Cause::ClockAhead { producer } => {
                format!(
                    "{}'s clock runs ahead: its events moved the watermark early",
                    n.producer(ProducerId::new(producer))
                )
            }
            Cause::SentLate { producer } => {
                format!("{}'s events are sent long after they happen", n.producer(ProducerId::new(producer)))
            }
            Cause::WrittenLate { partition } => format!(
                "writes to {} were delayed (retries, a slow or frozen leader) while newer events got through",
                n.partition(PartitionId::new(partition))
            ),
            Cause::PartitionBehind { partition } => format!(
                "{} was read behind the other partitions: newer events elsewhere moved the watermark first",
                n.partition(PartitionId::new(partition))
            ),
            _ => unreachable!("describe hands over late-event causes only"),
        }
    }
}

/// One step of a chain: when, what, and its place in the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub t: u64,
    /// The step's index in the trace; its JSONL line is `step + 2`.
    pub step: u32,
    pub text: String,
    /// What the step is about, by id (read from the step itself).
    pub about: About,
    /// `about` named, once the story is done (`explain --json`'s fields).
    pub place: Place,
}

impl Link {
    pub fn line(&self) -> u64 {
        self.step as u64 + 2
    }
}

/// One anomaly's story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    pub anomaly: Anomaly,
    pub record: u32,
    pub group: u32,
    pub cause: Cause,
    /// The cause in words (see [`Cause::describe`]).
    pub cause_text: String,
    /// "record web-0#4711 (key-17) at clicks/3@812 in group analytics: effect 2 is a duplicate".
    pub headline: String,
    /// The steps behind it, in time order.
    pub chain: Vec<Link>,
    /// The other kind this story is as well: on a plain sink a redelivery
    /// that left a duplicate effect is both, and is told once, as the
    /// duplicate (`Some(Anomaly::Redelivered)`).
    pub also: Option<Anomaly>,
    /// The trace step that is the anomaly itself, where one step can be two
    /// anomalies (the second processing of a duplicate and a redelivery).
    pub(super) step: Option<u32>,
}

impl Story {
    fn new(anomaly: Anomaly, record: u32, group: u32, cause: Cause, headline: String, mut chain: Vec<Link>) -> Story {
        chain.sort_by_key(|l| (l.t, l.step));
        chain.dedup_by_key(|l| l.step);
        Story { anomaly, record, group, cause, cause_text: String::new(), headline, chain, also: None, step: None }
    }

    /// Whether the story is of `kind`, as its own kind or as the other one it also is.
    pub fn is(&self, kind: Anomaly) -> bool {
        self.anomaly == kind || self.also == Some(kind)
    }

    /// The kinds as the heading names them: `duplicate`, `duplicate (redelivered)`.
    pub fn kinds(&self) -> String {
        match self.also {
            Some(also) => format!("{} ({})", self.anomaly.name(), also.name()),
            None => self.anomaly.name().to_string(),
        }
    }

    /// The story as text: the headline, the cause, then one line per step.
    pub fn text(&self) -> String {
        let mut out = format!("{}: {}\n  cause: {}\n", self.kinds(), self.headline, self.cause_text);
        for l in &self.chain {
            out.push_str(&format!("  {:>10}  {}  [trace line {}]\n", ts(l.t), l.text, l.line()));
        }
        out
    }
}

/// Every story of a run, and how many anomalies each cause explains (most first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    pub stories: Vec<Story>,
    /// (anomaly, cause, how many, the cause in words).
    pub causes: Vec<(Anomaly, Cause, usize, String)>,
}

impl Explanation {
    /// How many anomalies of `kind` the stories cover (a story told once
    /// for two kinds counts for both).
    pub fn count(&self, kind: Anomaly) -> usize {
        self.stories.iter().filter(|s| s.is(kind)).count()
    }

    /// Up to `limit` stories, taking the first of each cause before the
    /// second of any, so every cause shows an example.
    pub fn sample(&self, limit: usize) -> Vec<&Story> {
        let mut by_cause: Vec<Vec<&Story>> = vec![Vec::new(); self.causes.len()];
        let rank: BTreeMap<(Anomaly, &Cause), usize> =
            self.causes.iter().enumerate().map(|(i, c)| ((c.0, &c.1), i)).collect();
        for s in &self.stories {
            if let Some(&i) = rank.get(&(s.anomaly, &s.cause)) {
                by_cause[i].push(s);
            }
        }
        let mut out = Vec::new();
        let mut round = 0;
        while out.len() < limit && by_cause.iter().any(|v| v.len() > round) {
            for v in &by_cause {
                if out.len() < limit {
                    if let Some(s) = v.get(round) {
                        out.push(*s);
                    }
                }
            }
            round += 1;
        }
        out
    }

    /// Keeps the stories (and the causes they have) that `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&Story) -> bool) {
        self.stories.retain(keep);
        let mut left = vec![0usize; self.causes.len()];
        {
            let rank: BTreeMap<(Anomaly, &Cause), usize> =
                self.causes.iter().enumerate().map(|(i, c)| ((c.0, &c.1), i)).collect();
            for s in &self.stories {
                for kind in std::iter::once(s.anomaly).chain(s.also) {
                    left[rank[&(kind, &s.cause)]] += 1;
                }
            }
        }
        let mut left = left.into_iter();
        self.causes.retain_mut(|c| {
            c.2 = left.next().unwrap_or(0);
            c.2 > 0
        });
        sort_causes(&mut self.causes);
    }
}

/// Most anomalies first; ties in a fixed order (kind, then cause).
fn sort_causes(causes: &mut [(Anomaly, Cause, usize, String)]) {
    causes.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (x.0, &x.1).cmp(&(y.0, &y.1))));
}

/// Whether step `f` is an effect of its record on `group`'s sink.
pub(super) fn is_effect(w: &World, f: &Found<'_>, group: GroupId) -> bool {
    match f.view() {
        View::Process(p) => p.effect && w.consumers[p.consumer].group == group,
        View::Effect(e) => w.consumers[e.consumer].group == group,
        _ => false,
    }
}

/// The offset an effect (a processing, or an effect at a transaction's
/// commit) came from: its processing's, or for an effect at a commit, the
/// consumer's last processing of the record before.
pub(super) fn effect_offset(ix: &Index<'_>, r: u32, f: Found<'_>) -> Option<u64> {
    let consumer = match f.view() {
        View::Process(p) => return Some(p.offset),
        View::Effect(e) => e.consumer,
        other => {
            debug_assert!(false, "not an effect: {other:?}");
            return None;
        }
    };
    let by_it = |p: &Found<'_>| p.s.kind == Step::Process && p.process().consumer == consumer && p.t() <= f.t();
    ix.record(r).rev().find(by_it).map(|p| p.process().offset)
}

/// Explains every anomaly of a finished run that kept its steps: each lost
/// record (per group, as `lost` counts them), each duplicate effect, each
/// reordering, each late event, and each redelivery.
pub fn explain(w: &World, lost: &[(u32, u32)]) -> Explanation {
    let none = Kept::default();
    let ix = Index::new(w, w.oracle.trace.kept.as_ref().unwrap_or(&none));
    let n = Names { w };
    let cx = Ctx { w, ix: &ix, n: &n };
    let mut stories = Vec::new();
    for &(g, r) in lost {
        stories.push(lost::story(cx, GroupId::new(g), r));
    }
    for g in w.groups.ids() {
        duplicate::stories(cx, g, Anomaly::Duplicate, &mut stories);
    }
    for (g, gl) in w.oracle.ledger.groups.iter().enumerate() {
        for &(r, later) in &gl.inversions {
            stories.push(reordered::story(cx, GroupId::new(g as u32), r, later));
        }
    }
    for (g, grp) in w.groups.iter_enumerated() {
        if let Some(agg) = grp.aggregate.as_ref() {
            for l in &agg.late {
                stories.push(late::story(cx, g, l, agg.spec.watermark_delay.us()));
            }
        }
    }
    let mut redelivered = Vec::new();
    for g in w.groups.ids() {
        duplicate::stories(cx, g, Anomaly::Redelivered, &mut redelivered);
    }
    let rest = merge_redeliveries(&mut stories, redelivered);
    stories.extend(rest);
    log_side_stories(cx, &mut stories);
    read_stories(cx, &mut stories);
    with_causes(w, stories)
}

/// Adds the redeliveries' stories to `stories`, but one whose processing is
/// a duplicate's effect (a plain sink) is already told by that duplicate's
/// story, the same two steps and cause: that story is marked as both.
fn merge_redeliveries(stories: &mut [Story], redelivered: Vec<Story>) -> Vec<Story> {
    let key = |s: &Story| s.step.map(|step| (s.group, s.record, step));
    let duplicates: BTreeMap<(u32, u32, u32), usize> = stories
        .iter()
        .enumerate()
        .filter(|(_, s)| s.anomaly == Anomaly::Duplicate)
        .filter_map(|(i, s)| key(s).map(|k| (k, i)))
        .collect();
    let mut rest = Vec::new();
    for s in redelivered {
        match key(&s).and_then(|k| duplicates.get(&k)) {
            Some(&i) if stories[i].cause == s.cause => stories[i].also = Some(Anomaly::Redelivered),
            _ => rest.push(s),
        }
    }
    rest
}

/// The story of every record whose send() failed (`explain --kind failed`): they are not
/// anomalies, so [`explain`] leaves them out.
pub fn explain_failed(w: &World) -> Explanation {
    use crate::oracle::outcome::LogState;
    let none = Kept::default();
    let ix = Index::new(w, w.oracle.trace.kept.as_ref().unwrap_or(&none));
    let n = Names { w };
    let cx = Ctx { w, ix: &ix, n: &n };
    let states = crate::oracle::outcome::outcomes(&w.oracle.ledger, &w.oracle.observed).log;
    let stories = states
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == LogState::Failed)
        .map(|(r, _)| failed::story(cx, r as u32))
        .collect();
    with_causes(w, stories)
}

/// The stories, each given its cause's words, and the causes counted (most first).
fn with_causes(w: &World, mut stories: Vec<Story>) -> Explanation {
    let mut counts: BTreeMap<(Anomaly, Cause), (usize, String)> = BTreeMap::new();
    let n = Names { w };
    for l in stories.iter_mut().flat_map(|s| s.chain.iter_mut()) {
        l.place = l.about.place(&n);
    }
    for s in stories.iter_mut() {
        // A story told for two kinds is counted under each: the cause lines
        // keep one count per kind, as the summary has.
        for kind in std::iter::once(s.anomaly).chain(s.also) {
            let entry = counts.entry((kind, s.cause.clone())).or_insert_with(|| (0, s.cause.describe(w)));
            entry.0 += 1;
            s.cause_text = entry.1.clone();
        }
    }
    let mut causes: Vec<(Anomaly, Cause, usize, String)> =
        counts.into_iter().map(|((a, c), (k, text))| (a, c, k, text)).collect();
    sort_causes(&mut causes);
    Explanation { stories, causes }
}

/// A story for every record whose log-side state is an anomaly.
fn log_side_stories(cx: Ctx<'_>, stories: &mut Vec<Story>) {
    use crate::oracle::outcome::LogState;
    let states = crate::oracle::outcome::outcomes(&cx.w.oracle.ledger, &cx.w.oracle.observed).log;
    for (r, state) in states.iter().enumerate() {
        let r = r as u32;
        match state {
            LogState::LostWrite => stories.push(writes::lost_write(cx, r)),
            LogState::Unavailable => stories.push(writes::unavailable(cx, r)),
            LogState::Unsent => stories.push(writes::unsent(cx, r)),
            LogState::Stored | LogState::Failed | LogState::Abandoned => {}
        }
    }
}

/// A story for every poll skip and every aborted read the oracle found.
fn read_stories(cx: Ctx<'_>, stories: &mut Vec<Story>) {
    let o = &cx.w.oracle.observed;
    for &(c, g, ended, began, skip) in &o.poll_anomalies {
        if skip {
            stories.push(poll_skip::story(cx, ConsumerId::new(c), PartitionId::new(g), ended, began));
        }
    }
    for (g, r, offset) in crate::oracle::outcome::aborted_read_list(&cx.w.oracle.ledger, o) {
        stories.push(aborted_read::story(cx, GroupId::new(g), r, offset));
    }
}

/// The causes as lines: "23 duplicates, one cause: crash of analytics-1 at 30.010s between processing and commit".
pub fn cause_lines(e: &Explanation) -> Vec<String> {
    e.causes.iter().map(|(a, _, k, text)| format!("{}, one cause: {text}", a.count(*k))).collect()
}

/// When the same mechanism is behind several causes of one kind (a storm of
/// poll timeouts, repeated crashes), one line per kind that sums them up:
/// "4021 duplicates from 22 events of 2 mechanisms: a batch slower than
/// max.poll.interval.ms (16 times, 3205 duplicates); ...". Empty otherwise.
pub fn mechanism_lines(e: &Explanation) -> Vec<String> {
    let mut out = Vec::new();
    for kind in Anomaly::ALL {
        let mut by: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
        for (a, c, k, _) in &e.causes {
            if *a == kind {
                let m = by.entry(c.mechanism()).or_default();
                m.0 += 1;
                m.1 += k;
            }
        }
        let causes: usize = by.values().map(|m| m.0).sum();
        if causes <= 3 || causes <= by.len() {
            continue; // a few causes, or each mechanism once: the cause lines say it all
        }
        let total: usize = by.values().map(|m| m.1).sum();
        let mut parts: Vec<(&str, usize, usize)> = by.into_iter().map(|(m, (n, k))| (m, n, k)).collect();
        parts.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(y.0)));
        let list: Vec<String> = parts
            .iter()
            .map(|(m, n, k)| format!("{m} ({} {}, {})", n, if *n == 1 { "time" } else { "times" }, kind.count(*k)))
            .collect();
        let of = if parts.len() == 1 { "one mechanism".to_string() } else { format!("{} mechanisms", parts.len()) };
        out.push(format!("{} from {causes} events of {of}: {}", kind.count(total), list.join("; ")));
    }
    out
}
