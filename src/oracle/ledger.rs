//! The ledger: what happened to every record, built from facts alone.
//!
//! The model emits facts (sent, appended, acknowledged, processed, committed)
//! through `World::emit`; [`Ledger::observe`] folds them in here, and the
//! checkers derive every count from this and the observed final state. The
//! model never reads it: a model bug shows in the counts instead of moving
//! them in step.

use crate::kernel::time::Instant;
use crate::oracle::fact::Fact;
/// A record's number as the trace writes it (the model's `RecordNo`, raw).
pub type RecordNo = u32;

/// No key: the record was sent with a null key.
pub const NULL_KEY: u32 = u32::MAX;
/// Not yet: a time that has not happened.
pub const NEVER: u64 = u64::MAX;

/// The producer side of one record's life.
#[derive(Clone, Debug)]
pub struct RecordLife {
    /// Producer instance index.
    pub producer: u32,
    pub key: u32,
    /// Global partition index.
    pub partition: u32,
    /// Position in its producer's send order (per producer instance).
    pub send_seq: u64,
    pub sent_us: u64,
    /// Event time (µs): when what it records happened (by default, sent_us).
    pub event_us: u64,
    /// First acknowledgement to the application, or NEVER.
    pub acked_us: u64,
    /// When send() reported failure to the application, or NEVER.
    pub failed_us: u64,
    /// Appends to a leader's log, duplicates included.
    pub written: u32,
    /// Producer id generation it was sequenced under: with the producer index, its producer id.
    pub producer_inc: u32,
    /// Idempotent producer sequence number within its partition, or `NO_SEQ`.
    pub seq: u32,
}

/// The record was not sent by an idempotent producer (or not yet sent at all).
pub const NO_SEQ: u32 = u32::MAX;

/// One consumer group's view of one record.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    /// Times a consumer of the group finished processing it.
    pub processed: u32,
    /// Effects it had on the group's sink.
    pub effects: u32,
    /// Time of the first sink effect (µs), valid when `effects > 0`.
    pub first_effect_us: u64,
}

/// Per group: deliveries indexed by record id, and per-(producer, key) order.
#[derive(Clone, Debug, Default)]
pub struct GroupLedger {
    pub deliveries: Vec<Delivery>,
    /// Highest `send_seq` whose first effect reached the sink, per (producer, key).
    pub max_seq_seen: Vec<u64>,
    /// The record behind each `max_seq_seen` entry.
    pub max_seen_record: Vec<RecordNo>,
    pub redelivered: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub delivered: u64,
    pub commits_failed: u64,
    /// Records whose first effect came after a later record's of the same
    /// producer and key, with that later record (for `explain`).
    pub inversions: Vec<(RecordNo, RecordNo)>,
    /// Member-time spent with every partition revoked for an eager rebalance (µs).
    pub stop_the_world_us: u64,
}

/// A group's assignment after a completed rebalance.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentRecord {
    pub at: Instant,
    pub group: u32,
    pub generation: u32,
    /// (consumer instance index, partitions within the topic), members in assignment order.
    pub members: Vec<(u32, Vec<u32>)>,
}

/// Everything the oracle knows, in arrays indexed by small ids. Built only by
/// [`Ledger::observe`] from facts; read only inside the oracle.
#[derive(Debug, Default)]
pub struct Ledger {
    pub(in crate::oracle) records: Vec<RecordLife>,
    pub(in crate::oracle) groups: Vec<GroupLedger>,
    /// Keys per producer instance (for the order table), and each group's producers.
    key_slots: Vec<u32>,
    key_base: Vec<u32>,
    pub(in crate::oracle) assignments: Vec<AssignmentRecord>,
    pub(in crate::oracle) rebalances: u64,
    /// Cumulative counts over time are sampled from here.
    pub(in crate::oracle) acked: u64,
    pub(in crate::oracle) failed: u64,
    pub(in crate::oracle) written: u64,
    /// Kinesis requests refused by a shard's limits (writes and reads).
    pub(in crate::oracle) throttled: u64,
    /// Transactions that committed / aborted (producers' and consumers').
    pub(in crate::oracle) transactions_committed: u64,
    pub(in crate::oracle) transactions_aborted: u64,
    /// Events that reached an aggregation behind its watermark.
    pub(in crate::oracle) late_events: u64,
}

impl Ledger {
    /// `keys_per_producer[i]`: key cardinality of producer instance i; `groups`: group count.
    pub(in crate::oracle) fn new(keys_per_producer: &[u32], groups: usize) -> Ledger {
        let mut key_base = Vec::with_capacity(keys_per_producer.len());
        let mut total = 0u32;
        for &k in keys_per_producer {
            key_base.push(total);
            total += k.max(1);
        }
        let groups = (0..groups)
            .map(|_| GroupLedger {
                max_seq_seen: vec![0; total as usize],
                max_seen_record: vec![0; total as usize],
                ..Default::default()
            })
            .collect();
        Ledger { groups, key_slots: keys_per_producer.to_vec(), key_base, ..Default::default() }
    }

    /// Takes in one fact. The only way anything enters the ledger.
    #[inline]
    pub(in crate::oracle) fn observe(&mut self, at: Instant, fact: &Fact) {
        match *fact {
            Fact::Send { record, producer, partition, key, send_seq, event_us, producer_inc } => {
                let r = self.send_from(producer.raw(), producer_inc.raw(), key, partition.raw(), send_seq, at);
                assert_eq!(r, record.raw(), "record ids follow send order");
                self.records[r as usize].event_us = event_us;
            }
            Fact::Sequenced { record, seq, producer_gen } => {
                let rec = &mut self.records[record.index()];
                rec.seq = seq;
                rec.producer_inc = producer_gen;
            }
            Fact::Append { record, .. } => self.append(record.raw()),
            Fact::Ack { record, .. } => self.ack(record.raw(), at),
            Fact::Fail { record, .. } => self.fail(record.raw(), at),
            Fact::Throttled | Fact::QuotaThrottle { .. } => self.throttled += 1,
            Fact::Process { record, group, effect, .. } => {
                self.processed(group.raw(), record.raw(), effect, at);
            }
            Fact::Effect { record, group, .. } => self.effect(group.raw(), record.raw(), at),
            Fact::Late { .. } => self.late_events += 1,
            Fact::CommitFailed { group, .. } => self.groups[group.index()].commits_failed += 1,
            Fact::StoppedTheWorld { group, us } => self.groups[group.index()].stop_the_world_us += us,
            Fact::Rebalance { group, generation, ref members } => {
                let members =
                    members.iter().map(|(c, parts)| (c.raw(), parts.iter().map(|p| p.raw()).collect())).collect();
                let (group, generation) = (group.raw(), generation.raw());
                self.assignments.push(AssignmentRecord { at, group, generation, members });
                self.rebalances += 1;
            }
            Fact::TxnEnd { commit: true, .. } => self.transactions_committed += 1,
            Fact::TxnEnd { commit: false, .. } => self.transactions_aborted += 1,
            _ => {}
        }
    }

    #[cfg(test)]
    pub fn send(&mut self, producer: u32, key: u32, partition: u32, send_seq: u64, at: Instant) -> RecordNo {
        self.send_from(producer, 0, key, partition, send_seq, at)
    }

    fn send_from(
        &mut self,
        producer: u32,
        producer_inc: u32,
        key: u32,
        partition: u32,
        send_seq: u64,
        at: Instant,
    ) -> RecordNo {
        let id = self.records.len();
        assert!(id < crate::model::broker::CONTROL as usize, "record ids must stay below the control-marker bit");
        self.records.push(RecordLife {
            producer,
            key,
            partition,
            send_seq,
            sent_us: at.us(),
            event_us: at.us(),
            acked_us: NEVER,
            failed_us: NEVER,
            written: 0,
            producer_inc,
            seq: NO_SEQ,
        });
        id as RecordNo
    }

    /// A (producer, key) pair's index among every producer's keys.
    pub(in crate::oracle) fn key_slot(&self, producer: u32, key: u32) -> u32 {
        self.key_base[producer as usize] + key
    }

    fn ack(&mut self, r: RecordNo, at: Instant) {
        let rec = &mut self.records[r as usize];
        if rec.acked_us == NEVER {
            rec.acked_us = at.us();
            self.acked += 1;
        }
    }

    fn fail(&mut self, r: RecordNo, at: Instant) {
        let rec = &mut self.records[r as usize];
        debug_assert!(rec.failed_us == NEVER, "a record fails once");
        rec.failed_us = at.us();
        self.failed += 1;
    }

    fn append(&mut self, r: RecordNo) {
        self.records[r as usize].written += 1;
        self.written += 1;
    }

    /// A consumer of `group` finished processing `r`; `effect` says whether the sink
    /// took it as a new effect (a plain sink always does, an idempotent one only once).
    fn processed(&mut self, group: u32, r: RecordNo, effect: bool, at: Instant) {
        let g = &mut self.groups[group as usize];
        if g.deliveries.len() <= r as usize {
            g.deliveries.resize(self.records.len().max(r as usize + 1), Delivery::default());
        }
        let d = &mut g.deliveries[r as usize];
        d.processed += 1;
        if d.processed > 1 {
            g.redelivered += 1;
        }
        if effect {
            self.effect(group, r, at);
        }
    }

    /// `r` has an effect on `group`'s sink (for a transactional sink, when the
    /// sink transaction holding it commits, not when it was processed).
    fn effect(&mut self, group: u32, r: RecordNo, at: Instant) {
        let g = &mut self.groups[group as usize];
        if g.deliveries.len() <= r as usize {
            g.deliveries.resize(self.records.len().max(r as usize + 1), Delivery::default());
        }
        let d = &mut g.deliveries[r as usize];
        d.effects += 1;
        if d.effects > 1 {
            g.duplicates += 1;
            return;
        }
        d.first_effect_us = at.us();
        g.delivered += 1;
        let rec = &self.records[r as usize];
        if rec.key != NULL_KEY {
            let slot = (self.key_base[rec.producer as usize] + rec.key) as usize;
            debug_assert!(rec.key < self.key_slots[rec.producer as usize]);
            let seen = &mut g.max_seq_seen[slot];
            // send_seq + 1 so that 0 means "nothing seen yet".
            if rec.send_seq + 1 < *seen {
                g.reordered += 1;
                g.inversions.push((r, g.max_seen_record[slot]));
            } else {
                *seen = rec.send_seq + 1;
                g.max_seen_record[slot] = r;
            }
        }
    }

    /// Effects `r` had on `group`'s sink so far (for tests and reports;
    /// the model keeps its own memory of what its sinks applied).
    pub fn effects_of(&self, group: u32, r: RecordNo) -> u32 {
        self.groups[group as usize].deliveries.get(r as usize).map_or(0, |d| d.effects)
    }

    /// Records produced so far.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The global partition record `r` was sent to.
    pub fn partition_of(&self, r: RecordNo) -> u32 {
        self.records[r as usize].partition
    }

    /// Totals over every group: (delivered, duplicates, redelivered), for the time series.
    pub(in crate::oracle) fn delivery_totals(&self) -> (u64, u64, u64) {
        self.groups.iter().fold((0, 0, 0), |(d, u, r), g| (d + g.delivered, u + g.duplicates, r + g.redelivered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sink_counts_duplicates_and_redeliveries() {
        let mut l = Ledger::new(&[10], 1);
        let r = l.send(0, 3, 0, 0, Instant(0));
        l.processed(0, r, true, Instant(5));
        assert_eq!(l.groups[0].redelivered, 0);
        l.processed(0, r, true, Instant(9));
        let g = &l.groups[0];
        assert_eq!((g.delivered, g.redelivered, g.duplicates), (1, 1, 1));
        assert_eq!(g.deliveries[r as usize].first_effect_us, 5);
    }

    #[test]
    fn absorbed_redelivery_is_not_a_duplicate() {
        let mut l = Ledger::new(&[10], 1);
        let r = l.send(0, 3, 0, 0, Instant(0));
        l.processed(0, r, true, Instant(5));
        l.processed(0, r, false, Instant(9));
        let g = &l.groups[0];
        assert_eq!((g.delivered, g.redelivered, g.duplicates), (1, 1, 0));
    }

    #[test]
    fn order_inversions_are_per_producer_and_key() {
        let mut l = Ledger::new(&[2], 1);
        let a = l.send(0, 0, 0, 0, Instant(0));
        let b = l.send(0, 0, 0, 1, Instant(1));
        let c = l.send(0, 1, 0, 2, Instant(2));
        l.processed(0, b, true, Instant(3));
        l.processed(0, c, true, Instant(4));
        l.processed(0, a, true, Instant(5)); // a was sent before b, same key: inversion
        assert_eq!(l.groups[0].reordered, 1);
    }

    #[test]
    fn ack_counts_once() {
        let mut l = Ledger::new(&[1], 0);
        let r = l.send(0, 0, 0, 0, Instant(0));
        l.ack(r, Instant(3));
        l.ack(r, Instant(4));
        assert_eq!(l.acked, 1);
        assert_eq!(l.records[0].acked_us, 3);
    }
}
