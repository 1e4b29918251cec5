//! The ledger: what happened to every record, built from facts alone.
//!
//! The model emits facts (sent, appended, acknowledged, processed, committed)
//! through `World::emit`; [`Ledger::observe`] folds them in here, and the
//! checkers derive every count from this and the observed final state. The
//! model never reads it: a model bug shows in the counts instead of moving
//! them in step.
//!
//! It is compact, since it holds every record of a run: 36 bytes a record
//! and 8 a group's delivery of it. Times are u32 µs offsets (a send from its
//! epoch's base, the rest from the send) and counts are u16; a value too
//! wide for its field is kept exactly in a side map ([`Wide`]), so every
//! value reads back as the facts gave it, however long the run. A record's
//! place in its producer's send order is not stored at all: record ids
//! follow send order, so it is the record's rank among its producer's.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::kernel::time::Instant;
use crate::oracle::fact::Fact;
/// A record's number as the trace writes it (the model's `RecordNo`, raw).
pub type RecordNo = u32;

/// No key: the record was sent with a null key.
pub const NULL_KEY: u32 = u32::MAX;
/// Not yet: a time that has not happened.
pub const NEVER: u64 = u64::MAX;
/// The record was not sent by an idempotent producer (or not yet sent at all).
pub const NO_SEQ: u32 = u32::MAX;

/// A u32 time offset that has not happened yet ([`NEVER`], narrowed).
const NOT_YET: u32 = u32::MAX;
/// A u32 time offset too wide for its field: the time is in a [`Wide`] map.
const WIDE: u32 = u32::MAX - 1;
/// The event-time field's marker for "in the [`Wide`] map".
const WIDE_I32: i32 = i32::MIN;
/// A u16 count or id's marker for "in the [`Wide`] map".
const WIDE_U16: u16 = u16::MAX;

/// Exact values too wide for their compact field, by (record, field). Only
/// outliers land here (a record acknowledged 71 minutes after its send, one
/// processed 65,535 times), so it stays small and costs nothing on the way.
type Wide<F> = BTreeMap<(RecordNo, F), u64>;

/// Which field of a record's life a [`Wide`] entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LifeField {
    Event,
    Acked,
    Failed,
    Written,
    ProducerInc,
}

/// Which field of a delivery a [`Wide`] entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum DeliveryField {
    Processed,
    Effects,
    FirstEffect,
}

/// The producer side of one record's life, as the facts gave it (decoded
/// from its compact [`RecordLife`] by [`Ledger::life`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Life {
    /// Producer instance index.
    pub producer: u32,
    pub key: u32,
    /// Global partition index.
    pub partition: u32,
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

/// A record's life as stored: the fields of [`Life`], times as offsets.
#[derive(Clone, Debug)]
pub struct RecordLife {
    producer: u32,
    key: u32,
    partition: u32,
    /// Since its send epoch's base (`Ledger::epochs`).
    sent_after_base_us: u32,
    /// event_us − sent_us (an event may precede or follow its send), or WIDE_I32.
    event_after_send_us: i32,
    /// acked_us − sent_us, or NOT_YET or WIDE.
    acked_after_send_us: u32,
    /// failed_us − sent_us, or NOT_YET or WIDE.
    failed_after_send_us: u32,
    seq: u32,
    /// Appends, or WIDE_U16.
    written: u16,
    /// Producer id generation, or WIDE_U16.
    producer_inc: u16,
}

const _: () = assert!(std::mem::size_of::<RecordLife>() <= 36);

/// One consumer group's view of one record, as stored.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    /// Times a consumer of the group finished processing it, or WIDE_U16.
    processed: u16,
    /// Effects it had on the group's sink, or WIDE_U16.
    effects: u16,
    /// First sink effect − sent_us, or WIDE; meaningless while `effects` is 0.
    first_effect_after_send_us: u32,
}

const _: () = assert!(std::mem::size_of::<Delivery>() <= 8);

/// One consumer group's view of one record, decoded by [`Ledger::seen`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Times a consumer of the group finished processing it.
    pub processed: u32,
    /// Effects it had on the group's sink.
    pub effects: u32,
    /// Time of the first sink effect (µs), valid when `effects > 0` (0 before).
    pub first_effect_us: u64,
}

/// Per group: deliveries indexed by record id, and per-(producer, key) order.
#[derive(Clone, Debug, Default)]
pub struct GroupLedger {
    deliveries: Vec<Delivery>,
    wide: Wide<DeliveryField>,
    /// Per (producer, key): 1 + the latest-sent record whose first effect
    /// reached the sink, 0 for none yet. Record ids follow each producer's
    /// send order, so comparing ids is comparing places in that order.
    latest_effect_plus_one: Vec<RecordNo>,
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

/// Each producer's records in send order, and how many records it covers.
type SendOrder = (RecordNo, Vec<Vec<RecordNo>>);

/// Everything the oracle knows, in arrays indexed by small ids. Built only by
/// [`Ledger::observe`] from facts; read only inside the oracle.
#[derive(Debug, Default)]
pub struct Ledger {
    records: Vec<RecordLife>,
    wide: Wide<LifeField>,
    /// Send epochs as (first record, base µs): a record's send time is its
    /// epoch's base plus its u32 offset. Send times never go back, so a new
    /// epoch starts only when an offset would not fit (every 71 minutes of
    /// virtual time): exact for any run, a few entries for a long one.
    epochs: Vec<(RecordNo, u64)>,
    /// Records sent so far per producer instance: the next send_seq of each.
    sent_by_producer: Vec<u64>,
    /// Built at the first question about send order (`explain`'s names,
    /// after the run), so that no record stores its send_seq.
    send_order: OnceLock<SendOrder>,
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

/// `t_us − base_us` as a u32 offset, if it fits below the markers.
fn offset_of(base_us: u64, t_us: u64) -> Option<u32> {
    t_us.checked_sub(base_us).and_then(|d| u32::try_from(d).ok()).filter(|&d| d < WIDE)
}

/// Stores time `t_us` in `field` as an offset from `base_us`, or exactly in `wide`.
fn put_time<F: Ord>(field: &mut u32, base_us: u64, t_us: u64, wide: &mut Wide<F>, at: (RecordNo, F)) {
    if *field == WIDE {
        wide.remove(&at);
    }
    match offset_of(base_us, t_us) {
        Some(d) => *field = d,
        None => {
            *field = WIDE;
            wide.insert(at, t_us);
        }
    }
}

/// The time `field` holds (offset from `base_us`), or NEVER.
fn time_at<F: Ord>(field: u32, base_us: u64, wide: &Wide<F>, at: (RecordNo, F)) -> u64 {
    match field {
        NOT_YET => NEVER,
        WIDE => wide[&at],
        d => base_us + u64::from(d),
    }
}

/// Stores `value` in a u16 `field`, or exactly in `wide`.
fn put_u16<F: Ord>(field: &mut u16, value: u32, wide: &mut Wide<F>, at: (RecordNo, F)) {
    if *field == WIDE_U16 {
        wide.remove(&at);
    }
    match u16::try_from(value) {
        Ok(v) if v != WIDE_U16 => *field = v,
        _ => {
            *field = WIDE_U16;
            wide.insert(at, u64::from(value));
        }
    }
}

/// The value a u16 `field` holds.
fn u16_at<F: Ord>(field: u16, wide: &Wide<F>, at: (RecordNo, F)) -> u32 {
    match field {
        WIDE_U16 => wide[&at] as u32,
        v => u32::from(v),
    }
}

/// Adds one to the count in a u16 `field`; the new count. The hot path
/// stays a plain increment until the count reaches the marker.
fn bump<F: Ord + Copy>(field: &mut u16, wide: &mut Wide<F>, at: (RecordNo, F)) -> u32 {
    if *field < WIDE_U16 - 1 {
        *field += 1;
        return u32::from(*field);
    }
    let n = u16_at(*field, wide, at) + 1;
    put_u16(field, n, wide, at);
    n
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
            .map(|_| GroupLedger { latest_effect_plus_one: vec![0; total as usize], ..Default::default() })
            .collect();
        Ledger {
            groups,
            key_slots: keys_per_producer.to_vec(),
            key_base,
            sent_by_producer: vec![0; keys_per_producer.len()],
            ..Default::default()
        }
    }

    /// Takes in one fact. The only way anything enters the ledger.
    #[inline]
    pub(in crate::oracle) fn observe(&mut self, at: Instant, fact: &Fact) {
        match *fact {
            Fact::Send { record, producer, partition, key, send_seq, event_us, producer_inc } => {
                let p = producer.raw();
                // Not stored: `send_seq` reads it back as the record's rank among its producer's.
                assert_eq!(send_seq, self.sent_by_producer[p as usize], "send_seq counts its producer's sends");
                let r = self.send_from(p, producer_inc.raw(), key, partition.raw(), event_us, at);
                assert_eq!(r, record.raw(), "record ids follow send order");
            }
            Fact::Sequenced { record, seq, producer_gen } => {
                let r = record.raw();
                let rec = &mut self.records[r as usize];
                rec.seq = seq;
                put_u16(&mut rec.producer_inc, producer_gen, &mut self.wide, (r, LifeField::ProducerInc));
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
    pub fn send(&mut self, producer: u32, key: u32, partition: u32, at: Instant) -> RecordNo {
        self.send_from(producer, 0, key, partition, at.us(), at)
    }

    fn send_from(
        &mut self,
        producer: u32,
        producer_inc: u32,
        key: u32,
        partition: u32,
        event_us: u64,
        at: Instant,
    ) -> RecordNo {
        let id = self.records.len();
        assert!(id < crate::model::broker::CONTROL as usize, "record ids must stay below the control-marker bit");
        let r = id as RecordNo;
        let sent_after_base_us = self.sent_offset(r, at.us());
        let event_after_send_us = match i32::try_from(i128::from(event_us) - i128::from(at.us())) {
            Ok(d) if d != WIDE_I32 => d,
            _ => {
                self.wide.insert((r, LifeField::Event), event_us);
                WIDE_I32
            }
        };
        let mut rec = RecordLife {
            producer,
            key,
            partition,
            sent_after_base_us,
            event_after_send_us,
            acked_after_send_us: NOT_YET,
            failed_after_send_us: NOT_YET,
            seq: NO_SEQ,
            written: 0,
            producer_inc: 0,
        };
        put_u16(&mut rec.producer_inc, producer_inc, &mut self.wide, (r, LifeField::ProducerInc));
        self.records.push(rec);
        self.sent_by_producer[producer as usize] += 1;
        r
    }

    /// Record `r`'s send time `at_us` as an offset in the current epoch, or
    /// 0 in a new one starting at `r`.
    fn sent_offset(&mut self, r: RecordNo, at_us: u64) -> u32 {
        if let Some(d) = self.epochs.last().and_then(|&(_, base_us)| offset_of(base_us, at_us)) {
            return d;
        }
        self.epochs.push((r, at_us));
        0
    }

    /// A (producer, key) pair's index among every producer's keys.
    pub(in crate::oracle) fn key_slot(&self, producer: u32, key: u32) -> u32 {
        self.key_base[producer as usize] + key
    }

    fn ack(&mut self, r: RecordNo, at: Instant) {
        let sent_us = self.sent_us(r);
        let rec = &mut self.records[r as usize];
        if rec.acked_after_send_us == NOT_YET {
            put_time(&mut rec.acked_after_send_us, sent_us, at.us(), &mut self.wide, (r, LifeField::Acked));
            self.acked += 1;
        }
    }

    fn fail(&mut self, r: RecordNo, at: Instant) {
        let sent_us = self.sent_us(r);
        let rec = &mut self.records[r as usize];
        debug_assert!(rec.failed_after_send_us == NOT_YET, "a record fails once");
        put_time(&mut rec.failed_after_send_us, sent_us, at.us(), &mut self.wide, (r, LifeField::Failed));
        self.failed += 1;
    }

    fn append(&mut self, r: RecordNo) {
        bump(&mut self.records[r as usize].written, &mut self.wide, (r, LifeField::Written));
        self.written += 1;
    }

    /// `r`'s delivery to `group`, made room for (records not yet delivered
    /// to the group take no room until one is).
    fn delivery(&mut self, group: u32, r: RecordNo) -> (&mut GroupLedger, usize) {
        let g = &mut self.groups[group as usize];
        if g.deliveries.len() <= r as usize {
            g.deliveries.resize(self.records.len().max(r as usize + 1), Delivery::default());
        }
        (g, r as usize)
    }

    /// A consumer of `group` finished processing `r`; `effect` says whether the sink
    /// took it as a new effect (a plain sink always does, an idempotent one only once).
    fn processed(&mut self, group: u32, r: RecordNo, effect: bool, at: Instant) {
        let (g, i) = self.delivery(group, r);
        if bump(&mut g.deliveries[i].processed, &mut g.wide, (r, DeliveryField::Processed)) > 1 {
            g.redelivered += 1;
        }
        if effect {
            self.effect(group, r, at);
        }
    }

    /// `r` has an effect on `group`'s sink (for a transactional sink, when the
    /// sink transaction holding it commits, not when it was processed).
    fn effect(&mut self, group: u32, r: RecordNo, at: Instant) {
        let sent_us = self.sent_us(r);
        let (producer, key) = (self.records[r as usize].producer, self.records[r as usize].key);
        let slot = (key != NULL_KEY).then(|| (self.key_base[producer as usize] + key) as usize);
        debug_assert!(key == NULL_KEY || key < self.key_slots[producer as usize]);
        let (g, i) = self.delivery(group, r);
        let d = &mut g.deliveries[i];
        if bump(&mut d.effects, &mut g.wide, (r, DeliveryField::Effects)) > 1 {
            g.duplicates += 1;
            return;
        }
        let first = (r, DeliveryField::FirstEffect);
        put_time(&mut d.first_effect_after_send_us, sent_us, at.us(), &mut g.wide, first);
        g.delivered += 1;
        if let Some(slot) = slot {
            // Ids + 1 so that 0 means "nothing seen yet"; ids follow send order per producer.
            let latest = &mut g.latest_effect_plus_one[slot];
            if r + 1 < *latest {
                g.reordered += 1;
                g.inversions.push((r, *latest - 1));
            } else {
                *latest = r + 1;
            }
        }
    }

    /// Record `r`'s send time.
    #[inline]
    pub(in crate::oracle) fn sent_us(&self, r: RecordNo) -> u64 {
        // The last epoch starting at or before `r`; the first starts at record 0. Most runs
        // have one epoch (71 minutes of virtual time), so the last one is tried first.
        let base_us = match self.epochs.last() {
            Some(&(first, base_us)) if first <= r => base_us,
            _ => self.epochs[self.epochs.partition_point(|&(first, _)| first <= r) - 1].1,
        };
        base_us + u64::from(self.records[r as usize].sent_after_base_us)
    }

    /// Record `r`'s life, every value as the facts gave it.
    #[inline]
    pub(in crate::oracle) fn life(&self, r: RecordNo) -> Life {
        let rec = &self.records[r as usize];
        let w = &self.wide;
        let sent_us = self.sent_us(r);
        let event_us = match rec.event_after_send_us {
            WIDE_I32 => w[&(r, LifeField::Event)],
            d => sent_us.wrapping_add_signed(i64::from(d)),
        };
        Life {
            producer: rec.producer,
            key: rec.key,
            partition: rec.partition,
            sent_us,
            event_us,
            acked_us: time_at(rec.acked_after_send_us, sent_us, w, (r, LifeField::Acked)),
            failed_us: time_at(rec.failed_after_send_us, sent_us, w, (r, LifeField::Failed)),
            written: u16_at(rec.written, w, (r, LifeField::Written)),
            producer_inc: u16_at(rec.producer_inc, w, (r, LifeField::ProducerInc)),
            seq: rec.seq,
        }
    }

    /// Every record's life, in record id (send) order.
    pub(in crate::oracle) fn lives(&self) -> impl Iterator<Item = Life> + '_ {
        (0..self.records.len() as RecordNo).map(|r| self.life(r))
    }

    /// The producer instance that sent record `r`.
    pub(in crate::oracle) fn producer_of(&self, r: RecordNo) -> u32 {
        self.records[r as usize].producer
    }

    /// Records producer instance `producer` has sent so far (0 for one the ledger does not know).
    pub(in crate::oracle) fn sent_by(&self, producer: u32) -> u64 {
        self.sent_by_producer.get(producer as usize).copied().unwrap_or(0)
    }

    /// Each producer's records in send order, built once.
    fn send_order(&self) -> &SendOrder {
        self.send_order.get_or_init(|| {
            let mut by_producer = vec![Vec::new(); self.sent_by_producer.len()];
            for (r, rec) in self.records.iter().enumerate() {
                by_producer[rec.producer as usize].push(r as RecordNo);
            }
            (self.records.len() as RecordNo, by_producer)
        })
    }

    /// Record `r`'s place in its producer's send order (the `send_seq` of its send).
    pub(in crate::oracle) fn send_seq(&self, r: RecordNo) -> u64 {
        let p = self.records[r as usize].producer;
        let (covered, by_producer) = self.send_order();
        let indexed = by_producer[p as usize].partition_point(|&x| x < r);
        // Sends after the index was built (none once the run is over) are counted here.
        let later = self.records[..r as usize].iter().skip(*covered as usize).filter(|x| x.producer == p).count();
        (indexed + later) as u64
    }

    /// The record producer instance `producer` sent at place `send_seq` of its send order.
    pub(in crate::oracle) fn record_at(&self, producer: u32, send_seq: u64) -> Option<RecordNo> {
        let (covered, by_producer) = self.send_order();
        let indexed = by_producer.get(producer as usize)?;
        let seq = usize::try_from(send_seq).ok()?;
        if let Some(&r) = indexed.get(seq) {
            return Some(r);
        }
        let later = self.records.iter().enumerate().skip(*covered as usize);
        later.filter(|(_, x)| x.producer == producer).nth(seq - indexed.len()).map(|(r, _)| r as RecordNo)
    }

    /// Group `group`'s view of record `r` (all zero if it never reached the group).
    #[inline]
    pub(in crate::oracle) fn seen(&self, group: u32, r: RecordNo) -> Seen {
        let g = &self.groups[group as usize];
        let Some(d) = g.deliveries.get(r as usize) else { return Seen::default() };
        let effects = u16_at(d.effects, &g.wide, (r, DeliveryField::Effects));
        let first_effect_us = match effects {
            0 => 0,
            _ => time_at(d.first_effect_after_send_us, self.sent_us(r), &g.wide, (r, DeliveryField::FirstEffect)),
        };
        let processed = u16_at(d.processed, &g.wide, (r, DeliveryField::Processed));
        Seen { processed, effects, first_effect_us }
    }

    /// Group `group`'s view of every record up to the last one that reached it.
    pub(in crate::oracle) fn seen_all(&self, group: u32) -> impl Iterator<Item = (RecordNo, Seen)> + '_ {
        let n = self.groups[group as usize].deliveries.len() as RecordNo;
        (0..n).map(move |r| (r, self.seen(group, r)))
    }

    /// Effects `r` had on `group`'s sink so far (for tests and reports;
    /// the model keeps its own memory of what its sinks applied).
    pub fn effects_of(&self, group: u32, r: RecordNo) -> u32 {
        let g = &self.groups[group as usize];
        g.deliveries.get(r as usize).map_or(0, |d| u16_at(d.effects, &g.wide, (r, DeliveryField::Effects)))
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
    use crate::model::ids::{Incarnation, PartitionId, ProducerId, RecordId};

    /// 2^32 µs: just past what a u32 offset holds (71.6 minutes).
    const PAST_U32_US: u64 = 1 << 32;

    fn send_fact(record: u32, producer: u32, send_seq: u64, event_us: u64, producer_inc: u32) -> Fact {
        Fact::Send {
            record: RecordId::new(record),
            producer: ProducerId::new(producer),
            partition: PartitionId::new(0),
            key: 0,
            send_seq,
            event_us,
            producer_inc: Incarnation::new(producer_inc),
        }
    }

    #[test]
    fn plain_sink_counts_duplicates_and_redeliveries() {
        let mut l = Ledger::new(&[10], 1);
        let r = l.send(0, 3, 0, Instant(0));
        l.processed(0, r, true, Instant(5));
        assert_eq!(l.groups[0].redelivered, 0);
        l.processed(0, r, true, Instant(9));
        let g = &l.groups[0];
        assert_eq!((g.delivered, g.redelivered, g.duplicates), (1, 1, 1));
        assert_eq!(l.seen(0, r), Seen { processed: 2, effects: 2, first_effect_us: 5 });
    }

    #[test]
    fn absorbed_redelivery_is_not_a_duplicate() {
        let mut l = Ledger::new(&[10], 1);
        let r = l.send(0, 3, 0, Instant(0));
        l.processed(0, r, true, Instant(5));
        l.processed(0, r, false, Instant(9));
        let g = &l.groups[0];
        assert_eq!((g.delivered, g.redelivered, g.duplicates), (1, 1, 0));
    }

    #[test]
    fn order_inversions_are_per_producer_and_key() {
        let mut l = Ledger::new(&[2], 1);
        let a = l.send(0, 0, 0, Instant(0));
        let b = l.send(0, 0, 0, Instant(1));
        let c = l.send(0, 1, 0, Instant(2));
        l.processed(0, b, true, Instant(3));
        l.processed(0, c, true, Instant(4));
        l.processed(0, a, true, Instant(5)); // a was sent before b, same key: inversion
        assert_eq!(l.groups[0].reordered, 1);
        assert_eq!(l.groups[0].inversions, vec![(a, b)]);
    }

    /// Producers' sends interleave: order is still judged within one
    /// producer's, and its send_seq is its rank among that producer's records.
    #[test]
    fn send_order_is_each_producers_own() {
        let mut l = Ledger::new(&[1, 1], 1);
        let (a0, b0, a1, b1) = (
            l.send(0, 0, 0, Instant(0)),
            l.send(1, 0, 0, Instant(1)),
            l.send(0, 0, 0, Instant(2)),
            l.send(1, 0, 0, Instant(3)),
        );
        assert_eq!([a0, b0, a1, b1].map(|r| l.send_seq(r)), [0, 0, 1, 1]);
        assert_eq!(
            (l.record_at(0, 1), l.record_at(1, 0), l.record_at(1, 2), l.record_at(2, 0)),
            (Some(a1), Some(b0), None, None)
        );
        // Sends after the index was built are counted too.
        let b2 = l.send(1, 0, 0, Instant(4));
        assert_eq!((l.send_seq(b2), l.record_at(1, 2), l.sent_by(1)), (2, Some(b2), 3));
        for r in [b1, a1, b0] {
            l.processed(0, r, true, Instant(9));
        }
        // b0 after b1 is an inversion; a1 after b1 is another producer's record.
        assert_eq!(l.groups[0].inversions, vec![(b0, b1)]);
    }

    #[test]
    #[should_panic(expected = "send_seq counts its producer's sends")]
    fn a_send_seq_out_of_step_is_refused() {
        let mut l = Ledger::new(&[1, 1], 0);
        l.observe(Instant(0), &send_fact(0, 0, 0, 0, 0));
        l.observe(Instant(0), &send_fact(1, 1, 1, 0, 0));
    }

    #[test]
    fn ack_counts_once() {
        let mut l = Ledger::new(&[1], 0);
        let r = l.send(0, 0, 0, Instant(0));
        l.ack(r, Instant(3));
        l.ack(r, Instant(4));
        assert_eq!(l.acked, 1);
        assert_eq!(l.life(0).acked_us, 3);
    }

    /// Times past a u32 of µs: send epochs, and acks, failures, event times
    /// and first effects in the wide map, all read back exactly.
    #[test]
    fn times_beyond_u32_round_trip() {
        let mut l = Ledger::new(&[1], 1);
        let far_us = 3 * PAST_U32_US + 11;
        l.observe(Instant(7), &send_fact(0, 0, 0, 7 + PAST_U32_US, 0)); // an event 71 minutes after its send
        l.observe(Instant(far_us), &send_fact(1, 0, 1, 2, 0)); // a new epoch; an event long before
        l.observe(Instant(far_us + 5), &send_fact(2, 0, 2, far_us + 4, 0));
        assert_eq!(l.epochs, vec![(0, 7), (1, far_us)]);
        l.ack(0, Instant(PAST_U32_US + 6)); // u32::MAX µs after the send: a marker value, so wide
        l.ack(1, Instant(far_us + 1));
        l.fail(2, Instant(u64::MAX - 1));
        l.processed(0, 0, true, Instant(PAST_U32_US + 100));
        l.processed(0, 2, true, Instant(far_us + 9));
        let life = |r| {
            let x = l.life(r);
            (x.sent_us, x.event_us, x.acked_us, x.failed_us)
        };
        assert_eq!(life(0), (7, 7 + PAST_U32_US, PAST_U32_US + 6, NEVER));
        assert_eq!(life(1), (far_us, 2, far_us + 1, NEVER));
        assert_eq!(life(2), (far_us + 5, far_us + 4, NEVER, u64::MAX - 1));
        assert_eq!(l.seen(0, 0).first_effect_us, PAST_U32_US + 100);
        assert_eq!(l.seen(0, 1), Seen::default());
        assert_eq!(l.seen(0, 2).first_effect_us, far_us + 9);
        // Only the values that do not fit went wide.
        assert_eq!(l.wide.len(), 4);
        assert_eq!(l.groups[0].wide.len(), 1);
    }

    /// Counts past a u16: appends, processings and effects keep counting
    /// exactly through the marker, and the checks that read them still hold.
    #[test]
    fn counts_beyond_u16_round_trip() {
        let mut l = Ledger::new(&[1], 1);
        let r = l.send(0, 0, 0, Instant(1));
        let n = 70_000u32;
        for i in 1..=n {
            l.append(r);
            l.processed(0, r, true, Instant(u64::from(i) + 1));
            if [65_534, 65_535, 65_536].contains(&i) {
                assert_eq!((l.life(r).written, l.effects_of(0, r)), (i, i));
            }
        }
        assert_eq!(l.life(r).written, n);
        assert_eq!(l.seen(0, r), Seen { processed: n, effects: n, first_effect_us: 2 });
        let g = &l.groups[0];
        assert_eq!((g.delivered, g.redelivered, g.duplicates), (1, u64::from(n) - 1, u64::from(n) - 1));
        assert_eq!(l.written, u64::from(n));
    }

    /// A producer id generation past a u16 goes wide and comes back narrow
    /// when a later sequencing's generation fits.
    #[test]
    fn producer_generations_beyond_u16_round_trip() {
        let mut l = Ledger::new(&[1], 0);
        l.observe(Instant(0), &send_fact(0, 0, 0, 0, 70_000));
        assert_eq!((l.life(0).producer_inc, l.life(0).seq), (70_000, NO_SEQ));
        let sequenced = |seq, producer_gen| Fact::Sequenced { record: RecordId::new(0), seq, producer_gen };
        l.observe(Instant(1), &sequenced(4, 3));
        assert_eq!((l.life(0).producer_inc, l.life(0).seq, l.wide.len()), (3, 4, 0));
        l.observe(Instant(2), &sequenced(5, u32::from(u16::MAX)));
        assert_eq!((l.life(0).producer_inc, l.life(0).seq), (u32::from(u16::MAX), 5));
        l.observe(Instant(3), &sequenced(6, u32::MAX));
        assert_eq!(l.life(0).producer_inc, u32::MAX);
    }
}
