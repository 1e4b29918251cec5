//! A record's content: what the application handed to send(), as the bytes
//! in a batch carry it. Brokers and consumers read a record's key and event
//! time from here, never from the oracle.

use crate::model::ids::{PartitionId, ProducerId, RecordId};

/// One record as its producer wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload {
    pub producer: ProducerId,
    /// The partition the producer chose.
    pub partition: PartitionId,
    /// `NULL_KEY` for a null key.
    pub key: u32,
    /// Event time (µs) in two halves: a `u64` field would align the struct to
    /// 8 and pad it from 20 to 24 bytes, 4 MB a million records.
    event_us_lo: u32,
    event_us_hi: u32,
}

const _: () = assert!(std::mem::size_of::<Payload>() == 20, "a payload is 20 bytes");

impl Payload {
    pub fn new(producer: ProducerId, partition: PartitionId, key: u32, event_us: u64) -> Payload {
        Payload { producer, partition, key, event_us_lo: event_us as u32, event_us_hi: (event_us >> 32) as u32 }
    }

    /// Event time (µs): when what it records happened.
    pub fn event_us(&self) -> u64 {
        (self.event_us_hi as u64) << 32 | self.event_us_lo as u64
    }
}

/// No key: the record was sent with a null key.
pub const NULL_KEY: u32 = u32::MAX;

/// Every record's payload, indexed by record id (ids are handed out here, in
/// send order).
#[derive(Debug, Default)]
pub struct Payloads {
    all: Vec<Payload>,
}

impl Payloads {
    /// Stores a new record's payload; its id.
    pub fn push(&mut self, p: Payload) -> RecordId {
        let id = self.all.len();
        // Bit 31 of a log entry's record field marks control batches.
        assert!(id < crate::model::broker::CONTROL as usize, "more than 2^31 records in one run");
        self.all.push(p);
        RecordId::new(id as u32)
    }

    /// Records sent so far.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    #[inline]
    pub fn get(&self, r: RecordId) -> &Payload {
        &self.all[r.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_reads_back_exactly_beyond_32_bits() {
        for t in [0, 1, u32::MAX as u64, u32::MAX as u64 + 1, 86_400_000_000 * 365, u64::MAX] {
            let p = Payload::new(ProducerId::new(3), PartitionId::new(7), NULL_KEY, t);
            assert_eq!(
                (p.event_us(), p.producer, p.partition, p.key),
                (t, ProducerId::new(3), PartitionId::new(7), NULL_KEY)
            );
        }
    }
}
