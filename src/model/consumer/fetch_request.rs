//! A consumer's FetchRequest, as `AbstractFetch.prepareFetchRequests` builds
//! it: one request per broker for every fetchable partition that broker
//! leads (`FetchSessionHandler.Builder`, each partition with its fetch
//! offset), and the answer the broker fills in, one part per partition
//! (`FetchResponseData.PartitionData`).
//!
//! A request lives in the world's pool (`World::consumer_fetches`) from the
//! moment the consumer builds it until its answer is read or discarded; the
//! broker writes its answer into the same slot, and a fetch it parks
//! (`DelayedFetch`) keeps the slot meanwhile.

use crate::model::ids::{BrokerId, ConsumerFetchSlot, LeaderEpoch, PartitionId};
use crate::world::event::{Fetch, FetchError};
use crate::world::World;

/// One partition of a fetch: where to read from and, after a leader epoch
/// change (KIP-320), the epoch of the last record fetched, to validate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchPart {
    pub partition: PartitionId,
    pub offset: u64,
    pub validate_epoch: Option<LeaderEpoch>,
}

/// The broker's answer for one partition: records `[from, to)` of its log,
/// the epoch of the last one, or an error. For `Diverged`, `to` is the end
/// offset of the validated epoch and `last_entry_epoch` that epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartAnswer {
    pub from: u64,
    pub to: u64,
    pub last_entry_epoch: LeaderEpoch,
    pub error: FetchError,
}

impl PartAnswer {
    /// The epoch an answer without records names.
    pub const NO_EPOCH: LeaderEpoch = LeaderEpoch::new(0);

    /// No records from `offset`, for `error` (`FetchError::None`: nothing to read yet).
    pub fn empty(offset: u64, error: FetchError) -> PartAnswer {
        PartAnswer { from: offset, to: offset, last_entry_epoch: PartAnswer::NO_EPOCH, error }
    }
}

/// What one consumer fetch (and then its answer) carries.
#[derive(Clone, Debug, Default)]
pub struct FetchRequestData {
    /// The broker it went to.
    pub broker: BrokerId,
    pub parts: Vec<FetchPart>,
    /// The answer, index for index with `parts`; empty in a throttled
    /// answer (Kafka's `getThrottledResponse` carries no partition).
    pub answers: Vec<PartAnswer>,
    /// While parked at the broker: the request and its park number.
    pub parked: Option<(Fetch, u64)>,
}

impl World {
    /// A fresh slot for a fetch to `broker` (a reused one keeps its vectors' capacity).
    pub(crate) fn take_consumer_fetch(&mut self, broker: BrokerId) -> ConsumerFetchSlot {
        match self.free_consumer_fetches.pop() {
            Some(s) => {
                let d = &mut self.consumer_fetches[s];
                d.broker = broker;
                d.parts.clear();
                d.answers.clear();
                d.parked = None;
                s
            }
            None => self.consumer_fetches.push(FetchRequestData { broker, ..FetchRequestData::default() }),
        }
    }

    /// Nobody holds the fetch in `s` any more.
    pub(crate) fn free_consumer_fetch(&mut self, s: ConsumerFetchSlot) {
        self.consumer_fetches[s].parked = None;
        self.free_consumer_fetches.push(s);
    }
}
