//! `streamsim timeline`: the run's incidents in time order, with names:
//! faults, elections, ISR changes, rebalances (generation and assignment),
//! members leaving, commit failures, fencing, aborted transactions,
//! truncations and offset resets. Read from the oracle's facts and the
//! shape that names their ids; nothing here reads the model's state.

use crate::oracle::fact::{Fact, GroupId, LeaveReason, PositionSource, Trigger};
use crate::oracle::shape::Shape;
use crate::report::names::Names;
use crate::report::record_path::RecordStep;

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at_us: u64,
    /// The process, partition, group or transactional id it happened to.
    pub who: String,
    pub what: String,
}

/// Reads facts one by one into timeline lines (it follows each partition's ISR).
pub struct Reader<'a> {
    names: Names<'a>,
    isr: Vec<u64>,
}

impl<'a> Reader<'a> {
    pub fn new(shape: &'a Shape) -> Reader<'a> {
        let isr = shape.partitions.iter().map(|p| p.replicas.iter().fold(0, |m, &b| m | 1 << b)).collect();
        Reader { names: Names::new(shape), isr }
    }

    /// The line a fact makes (who, what), if it is an incident.
    pub fn read(&mut self, f: &Fact) -> Option<(String, String)> {
        fault(self.names, f).or_else(|| group(self.names, f)).or_else(|| log(self.names, f, &mut self.isr))
    }
}

/// The incidents of a run, in the order the facts came.
pub fn entries(shape: &Shape, facts: &[(u64, Fact)]) -> Vec<Entry> {
    let mut reader = Reader::new(shape);
    let mut out = Vec::new();
    for &(at_us, ref f) in facts {
        if let Some((who, what)) = reader.read(f) {
            out.push(Entry { at_us, who, what });
        }
    }
    out
}

/// Crashes, restarts, pauses, starts, stops, network partitions.
fn fault(names: Names, f: &Fact) -> Option<(String, String)> {
    Some(match *f {
        Fact::Crash(e) => (names.entity(e), "crashed".into()),
        Fact::Restart(e) => (names.entity(e), "restarted".into()),
        Fact::Start(e) => (names.entity(e), "started".into()),
        Fact::Stop(e) => (names.entity(e), "stopped".into()),
        Fact::Pause { entity, us } => (names.entity(entity), format!("paused for {}", duration(us))),
        Fact::NetworkPartition { entities, us } => {
            ("network".into(), format!("partition: {entities} processes cut from each other for {}", duration(us)))
        }
        _ => return None,
    })
}

/// Rebalances, members leaving, commit failures, offsets, transactions.
fn group(names: Names, f: &Fact) -> Option<(String, String)> {
    Some(match *f {
        Fact::RebalanceStart { group, generation, reason, consumer } => {
            let why = match reason {
                Trigger::Join => "joined",
                Trigger::Rejoin => "joined again",
                Trigger::Leave => "left",
                Trigger::Expired => "let its session expire",
            };
            let c = names.consumer(consumer);
            (names.group(group), format!("rebalance begins, leaving generation {}: {c} {why}", generation.raw()))
        }
        Fact::Rebalance { group, generation, ref members } => (
            names.group(group),
            format!("generation {} assigned: {}", generation.raw(), assignment(names, group, members)),
        ),
        Fact::Leave { group, consumer, reason, .. } => {
            let why = match reason {
                LeaveReason::LeaveGroup => "sent LeaveGroup",
                LeaveReason::SessionTimeout => "session.timeout.ms passed without a heartbeat",
                LeaveReason::MissedRebalance => "did not rejoin within the rebalance timeout",
            };
            (names.consumer(consumer), format!("left {}: {why}", names.group(group)))
        }
        Fact::PollTimeout { consumer, .. } => {
            (names.consumer(consumer), "max.poll.interval.ms passed between two polls: leaves the group".into())
        }
        Fact::CommitFailed { consumer, generation, in_transaction, .. } => {
            let how = if in_transaction { "sendOffsetsToTransaction" } else { "offset commit" };
            let why = match generation.raw() {
                // The member left (a poll timeout, an expired session) and holds no generation now.
                0 => "the member is no longer in the group".to_string(),
                g => format!("generation {g} is no longer current"),
            };
            (names.consumer(consumer), format!("{how} failed (CommitFailedException): {why}"))
        }
        Fact::NoOffset { consumer, partition } => (
            names.consumer(consumer),
            format!("no committed offset for {} and auto.offset.reset=none", names.partition(partition)),
        ),
        Fact::Position {
            consumer,
            partition,
            offset,
            source: s @ (PositionSource::OutOfRange | PositionSource::Diverged),
        } => {
            let why = if s == PositionSource::OutOfRange {
                "offset out of range, auto.offset.reset"
            } else {
                "the leader's log diverged (KIP-320)"
            };
            (names.consumer(consumer), format!("{} position moved to {offset}: {why}", names.partition(partition)))
        }
        _ => return txn(names, f),
    })
}

/// Fencing and aborted transactions.
fn txn(names: Names, f: &Fact) -> Option<(String, String)> {
    Some(match *f {
        Fact::Fenced { txn, epoch, by_timeout } => {
            let why =
                if by_timeout { "transaction.timeout.ms ran out" } else { "a new producer called initTransactions" };
            (names.txn(txn), format!("fenced at epoch {}: {why}", epoch.raw()))
        }
        Fact::TxnEnd { txn, commit: false, partitions } => {
            (names.txn(txn), format!("transaction aborted ({partitions} partitions)"))
        }
        _ => return None,
    })
}

/// Elections, ISR changes, truncations.
fn log(names: Names, f: &Fact, isr: &mut [u64]) -> Option<(String, String)> {
    Some(match *f {
        Fact::Elect { partition, leader, epoch, unclean } => {
            let what = match leader {
                None => format!("offline: no eligible leader (epoch {})", epoch.raw()),
                Some(b) if unclean => {
                    format!("unclean election: {} leads, out of sync (epoch {})", names.broker(b), epoch.raw())
                }
                Some(b) => format!("{} elected leader (epoch {})", names.broker(b), epoch.raw()),
            };
            (names.partition(partition), what)
        }
        Fact::Isr { partition, isr_brokers, high_watermark } => {
            let before = std::mem::replace(isr.get_mut(partition.index())?, isr_brokers);
            let (out, back) = (before & !isr_brokers, isr_brokers & !before);
            let mut what = format!("ISR {{{}}}", names.brokers(isr_brokers));
            if out != 0 {
                what += &format!(", shrank: {} out", names.brokers(out));
            }
            if back != 0 {
                what += &format!(", expanded: {} back", names.brokers(back));
            }
            (names.partition(partition), format!("{what}; high watermark {high_watermark}"))
        }
        Fact::Truncate { broker, partition, offset } => (
            names.broker(broker),
            format!("truncated its replica of {} to offset {offset}", names.partition(partition)),
        ),
        _ => return None,
    })
}

/// `analytics-0 [clicks/0, clicks/1], analytics-2 [clicks/2]`.
fn assignment(names: Names, group: GroupId, members: &crate::oracle::trace::Members) -> String {
    if members.is_empty() {
        return "no members".into();
    }
    let member = |(c, parts): &(crate::oracle::fact::ConsumerId, Vec<crate::oracle::fact::LocalPartition>)| {
        let ps: Vec<String> = parts.iter().map(|p| names.group_partition(group, p.raw())).collect();
        format!("{} [{}]", names.consumer(*c), ps.join(", "))
    };
    members.iter().map(member).collect::<Vec<_>>().join(", ")
}

/// `1.5s`, `250ms`, `40µs`.
pub fn duration(us: u64) -> String {
    match us {
        0 => "0s".into(),
        us if us % 1_000_000 == 0 => format!("{}s", us / 1_000_000),
        us if us % 1_000 == 0 && us < 1_000_000 => format!("{}ms", us / 1_000),
        us if us % 1_000 == 0 => format!("{}s", us as f64 / 1e6),
        us => format!("{us}µs"),
    }
}

/// A time as the timeline prints it: seconds with milliseconds (`12.345s`).
pub fn clock(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us / 1_000 % 1_000)
}

/// The timeline as text: a header, then one aligned line per entry, with the
/// record's steps (if one was asked for) merged in time order.
pub fn text(title: &str, entries: &[Entry], record: Option<(&str, &[RecordStep])>, names: Names) -> String {
    let mut rows: Vec<(u64, String, String)> =
        entries.iter().map(|e| (e.at_us, e.who.clone(), e.what.clone())).collect();
    if let Some((name, steps)) = record {
        let mut i = 0;
        for s in steps {
            // After the incidents of the same instant: a crash comes before what it causes.
            while i < rows.len() && rows[i].0 <= s.at_us {
                i += 1;
            }
            rows.insert(i, (s.at_us, names.entity(s.entity), format!("{name}: {}", s.what)));
            i += 1;
        }
    }
    let who_w = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(3).max(3);
    let time_w = rows.iter().map(|r| clock(r.0).len()).max().unwrap_or(4).max(4);
    let mut out = format!("{title}\n\n{:>time_w$}  {:<who_w$}  what\n", "time", "who");
    for (at, who, what) in &rows {
        out += &format!("{:>time_w$}  {:<who_w$}  {what}\n", clock(*at), who);
    }
    if rows.is_empty() {
        out += "  (no faults, elections, ISR changes, rebalances or commit failures in this run)\n";
    }
    out
}
