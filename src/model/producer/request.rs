//! A produce request, as Kafka's `Sender.sendProduceRequest` builds it: one
//! request per broker carrying one batch for each partition that broker
//! leads (`RecordAccumulator.drainBatchesForOneNode`), and the answer the
//! broker fills in, one result per partition (`ProduceResponse`'s
//! `PartitionProduceResponse`).
//!
//! A request lives in the world's request pool while either side holds it:
//! the producer until it has handled the response, timed it out or lost the
//! connection; the broker side from the moment the request is put on the
//! wire until its response is read or discarded (`server_held`). The pool
//! reuses the slot once both let go.

use crate::model::ids::{BatchId, BrokerId, Incarnation, ProducerId, RequestId};
use crate::scenario::Acks;
use crate::world::event::ProduceError;
use crate::world::World;

/// What the leader answered for one partition of a request: its base offset, or why not.
pub type PartitionResult = Result<u64, ProduceError>;

/// One ProduceRequest and, once answered, its per-partition results.
#[derive(Clone, Debug)]
pub struct ProduceRequest {
    pub producer: ProducerId,
    pub inc: Incarnation,
    /// Unique over the run: a reused slot never answers for an older request.
    pub req: u64,
    pub broker: BrokerId,
    /// The connection it was sent on (see `Conn::gen`).
    pub conn: u32,
    pub acks: Acks,
    /// The batches it carries, one per partition, in drain order.
    pub batches: Vec<BatchId>,
    /// The broker's answer, index for index with `batches`.
    pub results: Vec<PartitionResult>,
    /// Partitions the broker still waits on (acks=all: the high watermark).
    pub waiting: u32,
    /// The producer still expects its response.
    pub client_held: bool,
    /// The request or its response is on the wire or at the broker.
    pub server_held: bool,
}

impl World {
    /// A new request in the pool carrying `batches`, held by both sides.
    pub(crate) fn new_request(&mut self, p: ProducerId, broker: BrokerId, batches: &[BatchId]) -> RequestId {
        let req = self.next_req;
        self.next_req += 1;
        let pr = &self.producers[p];
        let fresh = ProduceRequest {
            producer: p,
            inc: pr.inc,
            req,
            broker,
            conn: pr.conns[broker].gen,
            acks: pr.config.acks,
            batches: Vec::new(),
            results: Vec::new(),
            waiting: 0,
            client_held: true,
            server_held: true,
        };
        // A reused slot keeps its vectors' capacity: no allocation per request.
        let id = match self.free_requests.pop() {
            Some(id) => {
                let slot = &mut self.requests[id];
                let (mut kept, mut results) = (std::mem::take(&mut slot.batches), std::mem::take(&mut slot.results));
                kept.clear();
                results.clear();
                *slot = ProduceRequest { batches: kept, results, ..fresh };
                id
            }
            None => self.requests.push(fresh),
        };
        self.requests[id].batches.extend_from_slice(batches);
        id
    }

    /// The producer is done with request `id`.
    pub(crate) fn release_request_client(&mut self, id: RequestId) {
        self.requests[id].client_held = false;
        self.maybe_free_request(id);
    }

    /// The broker side is done with request `id` (its response was read or
    /// discarded, or it needed none).
    pub(crate) fn release_request_server(&mut self, id: RequestId) {
        self.requests[id].server_held = false;
        self.maybe_free_request(id);
    }

    fn maybe_free_request(&mut self, id: RequestId) {
        let r = &mut self.requests[id];
        if !r.client_held && !r.server_held {
            self.free_requests.push(id);
        }
    }

    /// The batches a request that never reached its broker carried: each
    /// loses the reference the request held.
    pub(crate) fn release_request_batches(&mut self, id: RequestId) {
        for i in 0..self.requests[id].batches.len() {
            let batch = self.requests[id].batches[i];
            self.release_batch_ref(batch);
        }
    }
}
