//! The network between the processes: sending, loss (a broken TCP
//! connection), partitions, bounces off dead brokers, and delivery to the
//! handler of each message.

use crate::world::event::{
    ConnectResponse, FetchResponse, Msg, ProduceResponse, ReplicaFetchResponse, WriteTxnMarkerResponse,
};
use crate::world::{Event, Node, World};

impl World {
    /// Sends `msg` over the network from `from` to `to`.
    pub(crate) fn send(&mut self, from: Node, to: Node, msg: Msg) {
        let coordinator = matches!(from, Node::Coordinator(_) | Node::TxnCoordinator)
            || matches!(to, Node::Coordinator(_) | Node::TxnCoordinator);
        // Handshakes and resets are not data: TCP retransmits a lost SYN.
        let handshake = matches!(msg, Msg::Connect(_) | Msg::ConnectResponse(_) | Msg::ConnectionClosed(_));
        if !coordinator && !handshake && self.net.lose(self.scenario.network.loss_ppm) {
            return self.break_connection(from, to, msg);
        }
        self.schedule(from, to, msg);
    }

    /// Puts `msg` on the wire, without the loss check.
    pub(super) fn schedule(&mut self, from: Node, to: Node, msg: Msg) {
        let arrive = self.net.arrival(self.node_index(from), self.node_index(to), self.now);
        self.at(arrive, Event::Deliver { from, to, msg });
    }

    /// A node's place among every node (for the network and pauses).
    pub(super) fn node_index(&self, n: Node) -> usize {
        let b = self.brokers.len();
        let p = self.producers.len();
        let c = self.consumers.len();
        match n {
            Node::Broker(i) => i.index(),
            Node::Producer(i) => b + i.index(),
            Node::Consumer(i) => b + p + i.index(),
            Node::Coordinator(g) => b + p + c + g.index(),
            Node::TxnCoordinator => b + p + c + self.groups.len(),
        }
    }

    /// A message arrives. Requests to a dead broker bounce as a broken connection;
    /// messages to a dead client are dropped (nobody is there to read them).
    pub(super) fn deliver(&mut self, from: Node, to: Node, msg: Msg) {
        let msg = if self.cuts.is_empty() && self.stalls.is_empty() {
            msg
        } else {
            // Across a network partition TCP retransmits it later (`stall`).
            match self.hold(from, to, msg) {
                Ok(()) => return,
                Err(msg) => msg,
            }
        };
        if let Node::Broker(b) = to {
            if self.hosts_crashed && self.brokers[b].host_down {
                // The machine is gone: nothing answers, not even a reset.
                return self.discard(msg);
            }
            if !self.brokers[b].up || (self.hosts_crashed && self.stale_connection(b, &msg)) {
                self.bounce(from, to, msg);
                return;
            }
        }
        self.dispatch(from, to, msg);
    }

    /// A produce request on a connection that a previous incarnation of
    /// broker `b` accepted: after a host crash nothing reset it, but the
    /// rebooted machine has no such socket and answers with a reset.
    fn stale_connection(&self, b: crate::model::ids::BrokerId, msg: &Msg) -> bool {
        match msg {
            Msg::Produce(m) => self.producers[m.producer].conns[b].broker_inc != self.brokers[b].inc,
            _ => false,
        }
    }

    /// A message nobody will read: what it holds in a slab goes back.
    pub(super) fn discard(&mut self, msg: Msg) {
        match msg {
            Msg::Produce(m) => {
                self.release_request_batches(m.request);
                self.release_request_server(m.request);
            }
            Msg::ProduceResponse(m) => self.release_request_server(m.request),
            Msg::JoinResponse(m) => {
                self.take_assignment(m.assignment);
            }
            Msg::OffsetFetch(m) => self.free_offset_slots.push(m.partitions),
            Msg::ReplicaFetch(m) => self.free_fetch_slot(m.slot),
            Msg::ReplicaFetchResponse(m) => self.free_fetch_slot(m.slot),
            Msg::Fetch(m) => self.free_consumer_fetch(m.slot),
            Msg::FetchResponse(m) => self.free_consumer_fetch(m.slot),
            Msg::OffsetFetchResponse(m) => self.free_offset_slots.push(m.offsets),
            _ => {}
        }
    }

    /// Hands `msg` to its handler. The match pairs each message with the kind
    /// of node it goes to (and comes from, where the handler needs it): the
    /// routing is checked here once.
    fn dispatch(&mut self, from: Node, to: Node, msg: Msg) {
        match (from, to, msg) {
            (_, Node::Broker(b), Msg::Connect(m)) => self.on_connect(b, m),
            (_, Node::Producer(_), Msg::ConnectResponse(m)) => self.on_connect_response(m),
            (_, Node::Producer(_), Msg::ConnectionClosed(m)) => self.on_connection_closed(m),
            (from, Node::Broker(b), Msg::Produce(m)) => {
                if let Some(m) = self.produce_quota_gate(from, b, m) {
                    self.on_produce(b, m)
                }
            }
            (_, Node::Producer(_), Msg::ProduceResponse(m)) => self.on_produce_response(m),
            (_, Node::Broker(b), Msg::ReplicaFetch(m)) => self.on_replica_fetch(b, m),
            (Node::Broker(src), Node::Broker(_), Msg::ReplicaFetchResponse(m)) => {
                self.on_replica_fetch_response(src, m)
            }
            (from, Node::Broker(b), Msg::Fetch(m)) => self.on_fetch(from, b, m),
            (Node::Broker(src), Node::Consumer(_), Msg::FetchResponse(m)) => self.on_fetch_response(src, m),
            (_, Node::Coordinator(group), Msg::JoinGroup(m)) => self.on_join_group(group, m),
            (_, Node::Consumer(_), Msg::JoinResponse(m)) => self.on_join_response(m),
            (_, Node::Coordinator(group), Msg::Heartbeat(m)) => self.on_heartbeat(group, m),
            (_, Node::Coordinator(group), Msg::LeaveGroup(m)) => self.on_leave_group(group, m),
            (_, Node::Consumer(_), Msg::HeartbeatResponse(m)) => self.on_heartbeat_response(m),
            (_, Node::Coordinator(group), Msg::OffsetFetch(m)) => self.on_offset_fetch(group, m),
            (_, Node::Consumer(_), Msg::OffsetFetchResponse(m)) => self.on_offset_fetch_response(m),
            (_, Node::Coordinator(group), Msg::OffsetCommit(m)) => self.on_offset_commit(group, m),
            (_, Node::Consumer(_), Msg::OffsetCommitResponse(m)) => self.on_offset_commit_response(m),
            (_, Node::TxnCoordinator, Msg::InitProducerId(m)) => self.on_init_producer_id(m),
            (_, Node::Producer(p), Msg::InitProducerIdResponse(m)) => self.on_producer_init_response(p, m),
            (_, Node::Consumer(c), Msg::InitProducerIdResponse(m)) => self.on_consumer_init_response(c, m),
            (_, Node::TxnCoordinator, Msg::AddPartitionsToTxn(m)) => self.on_add_partitions(m),
            (_, Node::Producer(p), Msg::AddPartitionsToTxnResponse(m)) => self.on_add_partitions_response(p, m),
            (_, Node::TxnCoordinator, Msg::EndTxn(m)) => self.on_end_txn(m),
            (_, Node::Producer(p), Msg::EndTxnResponse(m)) => self.on_producer_end_txn_response(p, m),
            (_, Node::Consumer(c), Msg::EndTxnResponse(m)) => self.on_consumer_end_txn_response(c, m),
            (_, Node::Broker(b), Msg::WriteTxnMarker(m)) => self.on_write_marker(b, m),
            (_, Node::TxnCoordinator, Msg::WriteTxnMarkerResponse(m)) => self.on_write_marker_response(m),
            (_, Node::Coordinator(group), Msg::TxnOffsetCommit(m)) => self.on_txn_offset_commit(group, m),
            (_, Node::Consumer(_), Msg::TxnOffsetCommitResponse(m)) => self.on_txn_offset_commit_response(m),
            (from, to, msg) => unreachable!("{msg:?} does not go from {from:?} to {to:?}"),
        }
    }

    /// `network.loss`: the TCP connection carrying `msg` breaks. TCP does not
    /// drop single messages; it loses connections, and the requester sees an
    /// error for every request on it. A lost request fails without reaching
    /// the server; a lost response reaches the requester as an error although
    /// the server did the work (a produce appended but not acknowledged).
    fn break_connection(&mut self, from: Node, to: Node, msg: Msg) {
        let error: Msg = match msg {
            Msg::ProduceResponse(m) => ProduceResponse { disconnected: true, ..m }.into(),
            Msg::ReplicaFetchResponse(m) => ReplicaFetchResponse { ok: false, ..m }.into(),
            Msg::FetchResponse(m) => FetchResponse { disconnected: true, ..m }.into(),
            request => return self.bounce(from, to, request),
        };
        self.schedule(from, to, error);
    }

    /// The connection to a dead broker breaks: the client sees an error one hop later.
    fn bounce(&mut self, from: Node, to: Node, msg: Msg) {
        let reply: Msg = match msg {
            Msg::Connect(m) => {
                let Node::Broker(broker) = to else { return };
                let broker_inc = self.brokers[broker].inc;
                ConnectResponse { producer: m.producer, inc: m.inc, broker, broker_inc, conn: m.conn, ok: false }.into()
            }
            Msg::Produce(m) => {
                self.release_request_batches(m.request);
                ProduceResponse {
                    producer: m.producer,
                    inc: m.inc,
                    request: m.request,
                    disconnected: true,
                    throttle_ms: 0,
                }
                .into()
            }
            Msg::ReplicaFetch(m) => {
                let (follower, gen, sent, slot) = (m.follower, m.gen, m.sent, m.slot);
                ReplicaFetchResponse { follower, gen, sent, slot, ok: false }.into()
            }
            // An answer to a dead follower: nobody reads it.
            Msg::ReplicaFetchResponse(m) => return self.free_fetch_slot(m.slot),
            Msg::Fetch(m) => FetchResponse::failed(m).into(),
            Msg::WriteTxnMarker(m) => {
                WriteTxnMarkerResponse { txn: m.txn, serial: m.serial, partition: m.partition, ok: false }.into()
            }
            _ => return,
        };
        self.schedule(to, from, reply);
    }
}
