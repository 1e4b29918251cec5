//! Every produced record in exactly one final state: one on the log side
//! (what the producer and the brokers did with it) and one per consumer
//! group (what the group did with it). docs/model.md defines each state and
//! draws the diagram; the tests assert that the states partition the records.
//!
//! Judged from facts alone: each record's life (the ledger) against the logs,
//! committed offsets and producer lives the oracle rebuilt from facts
//! (`observed`). Nothing here reads the model.

use crate::oracle::ledger::{Ledger, Life, NEVER};
use crate::oracle::observed::Observed;
use crate::oracle::shadow::CONTROL;

/// The log side of a record's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogState {
    /// Acknowledged and in the final log of its partition's leader.
    Stored,
    /// Acknowledged, and absent from the final log of its partition's
    /// leader (or, with no leader, from every replica): durability loss.
    LostWrite,
    /// Acknowledged, and surviving only on replicas of a partition that has
    /// no leader at the end. Not loss: the partition is offline.
    Unavailable,
    /// send() reported failure to the application.
    Failed,
    /// Neither acknowledged nor failed, and still held by its live producer
    /// (accumulator, in flight, blocked in send()): a longer run settles it.
    Unsent,
    /// Neither acknowledged nor failed, and its producer crashed after
    /// send(): gone with the producer, never promised.
    Abandoned,
}

/// Why a record a group never delivered counts as lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LostCause {
    /// In the final log below the group's committed offset, never processed:
    /// the group committed past it (consumer-side loss).
    Skipped,
    /// The group had no committed offset and `auto.offset.reset=none`: the
    /// member's poll() threw NoOffsetForPartitionException.
    NoOffset,
    /// Written, acknowledged, then truncated from the log before the group read it.
    Truncated,
    /// Acknowledged without ever reaching a log (acks=0).
    NeverWritten,
    /// Never acknowledged, and gone with its crashed producer.
    ProducerGone,
}

/// One group's side of a record's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupState {
    /// Its effect reached the group's sink.
    Delivered,
    /// send() failed: the application knows.
    Failed,
    /// In the leader's log at or past the committed offset: a longer drain delivers it.
    Pending,
    /// Still held by its live producer.
    Unsent,
    /// Only on replicas of an offline partition.
    Unavailable,
    Lost(LostCause),
}

/// Every record's states, and the counts the summary reports.
#[derive(Clone, Debug, Default)]
pub struct Outcomes {
    /// Per record id.
    pub log: Vec<LogState>,
    /// Per group, per record id of the group's topic (others: None).
    pub group: Vec<Vec<Option<GroupState>>>,
}

/// What a partition's final logs hold, per record id: in the leader's log
/// (at which offset), or only on a replica while the partition is offline.
struct Presence {
    /// Per record: the first offset in the leader's final log, or NEVER.
    leader_offset: Vec<u64>,
    /// Per record: on some replica of a partition with no leader.
    offline_copy: Vec<bool>,
}

fn presence(l: &Ledger, o: &Observed) -> Presence {
    let n = l.len();
    let mut p = Presence { leader_offset: vec![NEVER; n], offline_copy: vec![false; n] };
    for part in &o.partitions {
        match part.leader_log() {
            Some(log) => {
                for (off, &e) in log.iter().enumerate() {
                    if e & CONTROL == 0 && p.leader_offset[e as usize] == NEVER {
                        p.leader_offset[e as usize] = off as u64;
                    }
                }
            }
            None => {
                for (_, log) in &part.replicas {
                    for &e in log.iter().filter(|&&e| e & CONTROL == 0) {
                        p.offline_copy[e as usize] = true;
                    }
                }
            }
        }
    }
    p
}

/// Classifies every record, on the log side and for every group.
pub fn outcomes(l: &Ledger, o: &Observed) -> Outcomes {
    let pres = presence(l, o);
    let log: Vec<LogState> = l.lives().enumerate().map(|(r, rec)| log_state(o, &pres, r, &rec)).collect();
    let group = (0..o.shape.groups.len()).map(|g| group_states(l, o, &pres, &log, g)).collect();
    Outcomes { log, group }
}

fn log_state(o: &Observed, pres: &Presence, r: usize, rec: &Life) -> LogState {
    if rec.acked_us != NEVER {
        return if pres.leader_offset[r] != NEVER {
            LogState::Stored
        } else if pres.offline_copy[r] {
            LogState::Unavailable
        } else {
            LogState::LostWrite
        };
    }
    if rec.failed_us != NEVER {
        return LogState::Failed;
    }
    let p = rec.producer as usize;
    let crashed_after_send = o.producer_crashed_us[p].is_some_and(|t| t >= rec.sent_us);
    if o.producer_up[p] && !crashed_after_send {
        LogState::Unsent
    } else {
        LogState::Abandoned
    }
}

fn group_states(l: &Ledger, o: &Observed, pres: &Presence, log: &[LogState], g: usize) -> Vec<Option<GroupState>> {
    let gs = &o.shape.groups[g];
    let fates = crate::oracle::aborted::Fates::of(l, o, g);
    let (first, end) = (gs.first_partition, gs.first_partition + gs.partitions);
    let mut out = vec![None; l.len()];
    for (r, rec) in l.lives().enumerate() {
        if rec.partition < first || rec.partition >= end {
            continue;
        }
        let local = (rec.partition - first) as usize;
        let delivered = l.effects_of(g as u32, r as u32) > 0;
        let state = if delivered {
            GroupState::Delivered
        } else if rec.failed_us != NEVER {
            GroupState::Failed
        } else {
            let committed = o.committed[g][local];
            let no_offset = committed.is_none() && o.no_offset[g][local];
            let readable = fates.readable_offset(r);
            match readable {
                Some(_) if no_offset => GroupState::Lost(LostCause::NoOffset),
                Some(off) if off >= committed.unwrap_or(0) => GroupState::Pending,
                _ if log[r] == LogState::Unsent => GroupState::Unsent,
                _ if pres.offline_copy[r] => GroupState::Unavailable,
                Some(_) => GroupState::Lost(LostCause::Skipped),
                None if rec.acked_us != NEVER && rec.written > 0 => GroupState::Lost(LostCause::Truncated),
                None if rec.acked_us != NEVER => GroupState::Lost(LostCause::NeverWritten),
                None => GroupState::Lost(LostCause::ProducerGone),
            }
        };
        out[r] = Some(state);
    }
    out
}

/// Records of aborted transactions a read_committed group processed
/// (Jepsen's aborted-read), judged against the final logs.
pub fn aborted_reads(l: &Ledger, o: &Observed) -> u64 {
    aborted_read_list(l, o).len() as u64
}

/// Each aborted read as (group, record, offset), group by group and, within
/// a group, partition by partition in processing order: what
/// [`aborted_reads`] counts, for `explain`.
pub fn aborted_read_list(l: &Ledger, o: &Observed) -> Vec<(u32, u32, u64)> {
    use crate::oracle::aborted::{fates, Fate};
    let txn_of = |r: u32| o.shape.producers[l.producer_of(r) as usize].txn;
    let mut out = Vec::new();
    for (g, processed) in o.rc_processed.iter().enumerate() {
        if processed.is_empty() {
            continue;
        }
        let gs = &o.shape.groups[g];
        for p in gs.first_partition..gs.first_partition + gs.partitions {
            let Some(log) = o.partitions[p as usize].leader_log() else { continue };
            let fate = fates(log, &o.markers, txn_of);
            out.extend(
                processed
                    .iter()
                    .filter(|&&(r, _)| l.partition_of(r) == p)
                    .filter(|&&(r, off)| log.get(off as usize) == Some(&r) && fate[off as usize] == Fate::Aborted)
                    .map(|&(r, off)| (g as u32, r, off)),
            );
        }
    }
    out
}
