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

/// A request as a unit test sees it leave (`World::tap`).
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tapped {
    Produce {
        producer: ProducerId,
        broker: BrokerId,
        partitions: Vec<crate::model::ids::PartitionId>,
        bytes: u64,
        /// Requests in flight on the connection once this one is.
        in_flight: u32,
    },
    ReplicaFetch {
        follower: BrokerId,
        leader: BrokerId,
        partitions: Vec<crate::model::ids::PartitionId>,
    },
    ReplicaFetchAnswered {
        follower: BrokerId,
        leader: BrokerId,
    },
}

#[cfg(test)]
impl World {
    pub(crate) fn tap_produce(&mut self, p: ProducerId, broker: BrokerId, request: RequestId) {
        let batches = &self.requests[request].batches;
        let partitions = batches.iter().map(|&b| self.batches[b].partition).collect();
        let bytes = batches.iter().map(|&b| self.batches[b].bytes).sum();
        let in_flight = self.producers[p].conns[broker].in_flight;
        self.tap.push(Tapped::Produce { producer: p, broker, partitions, bytes, in_flight });
    }
}

#[cfg(test)]
mod tests {
    use super::Tapped;
    use crate::model::ids::{BrokerId, PartitionId};
    use crate::world::World;

    /// A run of `yaml` (a producer `p` on topic `t`, 3 brokers, RF 3) and what it sent.
    fn run(config: &str, partitions: u32) -> World {
        let yaml = format!(
            "name: t
duration: 3s
drain: 10s
brokers: 3
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: {partitions}, replication.factor: 3, config: {{ min.insync.replicas: 2 }} }}]
producers: [{{ name: p, rate: {{ constant: 20000/s }}, keys: 1000, record_bytes: 100, config: {{ {config} }} }}]
"
        );
        let mut w = World::new(crate::scenario::load_str(&yaml, "t.yaml").expect("loads").scenario);
        w.run().expect("runs");
        w
    }

    fn produces(w: &World) -> Vec<(BrokerId, Vec<PartitionId>, u64, u32)> {
        let each = w.tap.iter().filter_map(|t| match t {
            Tapped::Produce { broker, partitions, bytes, in_flight, .. } => {
                Some((*broker, partitions.clone(), *bytes, *in_flight))
            }
            _ => None,
        });
        each.collect()
    }

    /// Kafka's answer (`Sender.sendProducerData`, `RecordAccumulator.drainBatchesForOneNode`):
    /// one ProduceRequest per ready broker carries one batch for each
    /// partition it leads with a batch to send, never two of one partition.
    #[test]
    fn sender_drain_one_request_carries_a_batch_for_each_partition_the_broker_leads() {
        let w = run("linger.ms: 5", 12);
        let sent = produces(&w);
        assert!(!sent.is_empty());
        let most = sent.iter().map(|s| s.1.len()).max().unwrap_or(0);
        assert!(most >= 3, "a request carries several partitions' batches (at most {most})");
        for (broker, parts, _, _) in &sent {
            let mut sorted = parts.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), parts.len(), "one batch per partition: {parts:?}");
            // No faults: the leader never moves, so every partition is the broker's.
            assert!(parts.iter().all(|&p| w.partitions[p].leader_broker() == Some(*broker)));
        }
    }

    /// Kafka's answer (`RecordAccumulator.drainBatchesForOneNode`): a drain
    /// stops before the batch that would take the request past
    /// `max.request.size` (one batch alone goes whatever its size), and the
    /// next drain for that broker starts where the last stopped
    /// (`nodesDrainIndex`), so every partition gets its turn.
    #[test]
    fn sender_drain_max_request_size_splits_and_the_drain_index_rotates() {
        // Full batches of 1,000 bytes (10 records); two fit in a request.
        let w = run("linger.ms: 1000, batch.size: 1000, max.request.size: 2500", 12);
        let sent = produces(&w);
        assert!(sent.iter().all(|s| s.2 <= 2500 || s.1.len() == 1), "a request past max.request.size");
        assert!(sent.iter().any(|s| s.1.len() == 2), "two batches fit");
        let unsplit = produces(&run("linger.ms: 1000, batch.size: 1000", 12));
        assert!(unsplit.iter().any(|s| s.1.len() > 2), "without the limit a request carries more");
        assert!(sent.len() > unsplit.len(), "{} requests split vs {} not", sent.len(), unsplit.len());
        // Every partition leads some request to its broker: none starves.
        for p in w.partitions.ids() {
            assert!(sent.iter().any(|s| s.1.first() == Some(&p)), "partition {p:?} never went first");
        }
    }

    /// Kafka's answer (`NetworkClient.canSendRequest`, `InFlightRequests`):
    /// `max.in.flight.requests.per.connection` counts requests, so with 1
    /// a connection carries one request at a time, however many partitions'
    /// batches it holds.
    #[test]
    fn network_client_in_flight_limit_counts_requests_not_batches() {
        let w = run("max.in.flight.requests.per.connection: 1, linger.ms: 5", 12);
        let sent = produces(&w);
        assert!(sent.iter().all(|s| s.3 == 1), "one request in flight per connection");
        assert!(sent.iter().any(|s| s.1.len() > 1), "that one request carries several batches");
        assert!(w.producers.iter().all(|p| p.conns.iter().all(|c| c.in_flight == 0)), "all answered");
    }

    /// Kafka's answer (`ReplicaFetcherThread`, `AbstractFetcherThread`, one
    /// fetcher thread per leader with `num.replica.fetchers` = 1): a
    /// follower has one fetch to a leader at a time, carrying every
    /// partition it follows there.
    #[test]
    fn replica_fetcher_one_fetch_per_leader_for_every_shared_partition() {
        let w = run("linger.ms: 5", 12);
        let mut out = [false; 9];
        let mut fetches = 0;
        for t in &w.tap {
            match t {
                Tapped::ReplicaFetch { follower, leader, partitions } => {
                    let i = follower.index() * 3 + leader.index();
                    assert!(!out[i], "a second fetch from {follower:?} to {leader:?} while one is out");
                    out[i] = true;
                    fetches += 1;
                    // 12 partitions, RF 3 on 3 brokers: each leads 4, each follower follows all 4.
                    assert_eq!(partitions.len(), 4, "{partitions:?}");
                    assert!(partitions.iter().all(|&p| w.partitions[p].leader_broker() == Some(*leader)));
                }
                Tapped::ReplicaFetchAnswered { follower, leader } => out[follower.index() * 3 + leader.index()] = false,
                Tapped::Produce { .. } => {}
            }
        }
        assert!(fetches > 100, "{fetches} fetches");
    }
}
