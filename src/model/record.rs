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
    /// Event time (µs): when what it records happened.
    pub event_us: u64,
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
