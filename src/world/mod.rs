//! The world: every entity of a scenario, the network between them, and the
//! loop that runs events in virtual time until the system is quiet.
//!
//! Entities are plain structs in vectors indexed by small ids. Each layer's
//! handlers live beside its state in `crate::model` as `impl World` blocks, so a
//! record's life reads in order: producer → broker → consumer → sink, with the
//! ledger and trace told of every step.

pub mod event;
pub mod invariants;

use crate::kernel::queue::{EventQueue, QueueFull};
use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::model::broker::{Broker, Partition};
use crate::model::consumer::Consumer;
use crate::model::group::Group;
use crate::model::network::Network;
use crate::model::producer::{producer_id, Batch, Producer, TXN_PID_GEN};
use crate::model::record::Payloads;
use crate::model::txn::{Marker, Txn};
use crate::oracle::fact::{Entity, Fact};
pub use crate::oracle::sampler::{LagSample, Sample};
use crate::oracle::shape::{ConsumerShape, GroupShape, PartitionShape, ProducerShape};
use crate::oracle::Oracle;
use crate::scenario::{FaultAction, Scenario, Target};
pub use event::{Event, Msg, Node};

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(
        "stopped after {events} events at virtual time {at}: the scenario hit its event limit \
         (max_events: {limit}); raise `max_events` or shorten `duration`"
    )]
    EventLimit { events: u64, limit: u64, at: Instant },
    #[error("stopped at virtual time {at}: more than {what} events pending at once")]
    QueueFull { what: &'static str, at: Instant },
}

/// A topic at run time: where its partitions sit in the global partition vector.
#[derive(Clone, Debug)]
pub struct TopicRt {
    pub name: String,
    pub first_partition: u32,
    pub partitions: u32,
}

pub struct World {
    pub scenario: Scenario,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) now: Instant,
    pub(crate) net: Network,
    pub topics: Vec<TopicRt>,
    pub brokers: Vec<Broker>,
    pub partitions: Vec<Partition>,
    pub producers: Vec<Producer>,
    pub(crate) batches: Vec<Batch>,
    pub(crate) free_batches: Vec<u32>,
    pub groups: Vec<Group>,
    pub consumers: Vec<Consumer>,
    /// Transactional ids at the transaction coordinator: transactional
    /// producers, then consumers with `commit: transactional`.
    pub txns: Vec<Txn>,
    /// Every transaction's commit or abort; control entries in logs point here.
    pub markers: Vec<Marker>,
    /// Offsets carried by in-flight commits, by slot; reused.
    pub(crate) commit_slots: Vec<Vec<(u32, u64)>>,
    pub(crate) free_commit_slots: Vec<u32>,
    /// Every record's content, by record id (the model's own copy of the bytes).
    pub(crate) payloads: Payloads,
    /// Per producer instance: where its keys start among every producer's
    /// (the aggregation's key space).
    pub(crate) key_base: Vec<u32>,
    /// The oracle's side: the model only hands it facts (`oracle.emit`).
    pub oracle: Oracle,
    pub samples: Vec<Sample>,
    /// Per sample, every group partition's lag and owner.
    pub lag_samples: Vec<LagSample>,
    pub max_lag: u64,
    pub events: u64,
    pub(crate) next_req: u64,
    pub(crate) faults_done: usize,
    pub(crate) end: Option<Instant>,
    pub(crate) isr_check_every: Duration,
    /// Set when the queue refused an event; `run` turns it into an error.
    pub(crate) queue_full: Option<QueueFull>,
    /// Per node (see `node_index`): paused until this time (a GC or VM pause).
    pub(crate) paused_until: Vec<Instant>,
    /// Network partitions: (node, node, until); messages between them are dropped.
    pub(crate) cuts: Vec<(usize, usize, Instant)>,
    /// The scenario can drop messages, so requests need timeouts of their own.
    pub(crate) lossy: bool,
    /// What the invariant checks saw at the last sample (debug builds).
    invariants: invariants::Memory,
}

impl World {
    pub fn new(mut scenario: Scenario) -> World {
        // The run's fault schedule: the file's faults plus the chaos draws.
        scenario.faults = crate::faults::schedule(&scenario);
        let seed = scenario.seed;
        let brokers = (0..scenario.brokers).map(|_| Broker::new()).collect::<Vec<_>>();
        let mut topics = Vec::new();
        let mut partitions = Vec::new();
        for (t, spec) in scenario.topics.iter().enumerate() {
            topics.push(TopicRt {
                name: spec.name.clone(),
                first_partition: partitions.len() as u32,
                partitions: spec.partitions,
            });
            for p in 0..spec.partitions {
                partitions.push(Partition::new(t as u32, p, spec, scenario.brokers));
            }
        }
        let mut producers = Vec::new();
        let mut keys_per_producer = Vec::new();
        for (s, spec) in scenario.producers.iter().enumerate() {
            for i in 0..spec.instances {
                let name = format!("{}-{}", spec.name, i);
                let topic = &topics[spec.topic];
                let rng = EntityRng::new(seed, &name);
                keys_per_producer.push(spec.keys);
                producers.push(Producer::new(
                    s as u32,
                    name,
                    topic.first_partition,
                    topic.partitions,
                    spec,
                    rng,
                    scenario.brokers,
                ));
            }
        }
        let mut groups = Vec::new();
        let mut consumers = Vec::new();
        for (s, spec) in scenario.consumers.iter().enumerate() {
            let topic = &topics[spec.topic];
            let record_bytes = scenario
                .producers
                .iter()
                .filter(|p| p.topic == spec.topic)
                .map(|p| p.record_bytes)
                .max()
                .unwrap_or(100);
            let first_consumer = consumers.len() as u32;
            for i in 0..spec.slots.max(spec.instances) {
                let name = format!("{}-{}", spec.group, i);
                let rng = EntityRng::new(seed, &name);
                consumers.push(Consumer::new(s as u32, name, topic.partitions, spec, rng, record_bytes));
            }
            groups.push(Group::new(
                s as u32,
                spec,
                topic.first_partition,
                topic.partitions,
                first_consumer,
                scenario.broker_config.group_initial_rebalance_delay,
            ));
        }
        // Members sort by name, as Kafka sorts member ids (`analytics-10` < `analytics-2`).
        for g in &groups {
            let mut order: Vec<u32> = (g.first_consumer..g.first_consumer + g.instances).collect();
            order.sort_by(|a, b| consumers[*a as usize].name.cmp(&consumers[*b as usize].name));
            for (rank, c) in order.into_iter().enumerate() {
                consumers[c as usize].rank = rank as u32;
            }
        }
        // Transactional ids: one per transactional producer instance and per
        // consumer instance that commits in transactions.
        let mut txns = Vec::new();
        for (p, pr) in producers.iter_mut().enumerate() {
            let spec = &scenario.producers[pr.spec as usize];
            if let Some(id) = &pr.config.transactional_id {
                let name = if spec.instances > 1 {
                    format!("{id}-{}", pr.name.rsplit('-').next().unwrap_or("0"))
                } else {
                    id.clone()
                };
                pr.txn = Some(txns.len() as u32);
                let pid = producer_id(p as u32, TXN_PID_GEN);
                txns.push(Txn::new(name, Node::Producer(p as u32), pid, pr.config.transaction_timeout, None));
            }
        }
        for (c, cs) in consumers.iter_mut().enumerate() {
            if cs.commit == crate::scenario::CommitMode::Transactional {
                cs.txn = Some(txns.len() as u32);
                let pid = 1 << 63 | c as u64;
                let timeout = Duration::from_ms(60_000);
                txns.push(Txn::new(format!("{}-tx", cs.name), Node::Consumer(c as u32), pid, timeout, Some(cs.group)));
            }
        }
        if scenario.platform == crate::scenario::Platform::Kinesis {
            for part in partitions.iter_mut() {
                part.limits = Some(crate::model::broker::ShardLimits::kinesis());
            }
        }
        let nodes = brokers.len() + producers.len() + consumers.len() + groups.len() + 1;
        let net = Network::new(scenario.network.latency.clone(), seed, nodes);
        let shape = crate::oracle::shape::Shape {
            brokers: scenario.brokers,
            producers: producers
                .iter()
                .zip(&keys_per_producer)
                .map(|(p, &keys)| ProducerShape { name: p.name.clone(), keys, txn: p.txn })
                .collect(),
            consumers: consumers.iter().map(|c| ConsumerShape { name: c.name.clone(), group: c.group }).collect(),
            groups: groups
                .iter()
                .map(|g| GroupShape {
                    name: g.name.clone(),
                    first_partition: g.first_partition,
                    partitions: g.partitions,
                    read_committed: consumers[g.first_consumer as usize].read_committed,
                })
                .collect(),
            partitions: partitions
                .iter()
                .map(|p| PartitionShape {
                    name: format!("{}/{}", topics[p.topic as usize].name, p.index),
                    replicas: p.replicas.iter().map(|r| r.broker).collect(),
                })
                .collect(),
            transactional_ids: txns.iter().map(|t| t.name.clone()).collect(),
        };
        let oracle = Oracle::new(shape);
        let key_base = keys_per_producer
            .iter()
            .scan(0u32, |next, &k| {
                let base = *next;
                *next += k.max(1);
                Some(base)
            })
            .collect();
        let lag_min =
            scenario.topics.iter().map(|t| t.config.replica_lag_time_max).min().unwrap_or(Duration::from_ms(30_000));
        World {
            queue: EventQueue::with_capacity(1024),
            now: Instant::ZERO,
            net,
            topics,
            brokers,
            partitions,
            producers,
            batches: Vec::new(),
            free_batches: Vec::new(),
            groups,
            consumers,
            txns,
            markers: Vec::new(),
            commit_slots: Vec::new(),
            free_commit_slots: Vec::new(),
            payloads: Payloads::default(),
            key_base,
            oracle,
            samples: Vec::new(),
            lag_samples: Vec::new(),
            max_lag: 0,
            events: 0,
            next_req: 0,
            faults_done: 0,
            end: None,
            isr_check_every: Duration((lag_min.us() / 2).max(1)),
            queue_full: None,
            paused_until: vec![Instant::ZERO; nodes],
            cuts: Vec::new(),
            lossy: scenario.network.loss_ppm > 0
                || scenario.faults.iter().any(|f| matches!(f.action, FaultAction::Partition(..))),
            invariants: invariants::Memory::default(),
            scenario,
        }
    }

    /// Schedules an event; a full queue is remembered and reported by `run`.
    pub(crate) fn at(&mut self, at: Instant, event: Event) {
        if let Err(e) = self.queue.push(at, event) {
            self.queue_full = Some(e);
        }
    }

    pub(crate) fn after(&mut self, d: Duration, event: Event) {
        self.at(self.now.add(d), event);
    }

    /// Sends `msg` over the network from `from` to `to`.
    pub(crate) fn send(&mut self, from: Node, to: Node, msg: Msg) {
        let coordinator = matches!(from, Node::Coordinator(_) | Node::TxnCoordinator)
            || matches!(to, Node::Coordinator(_) | Node::TxnCoordinator);
        if !coordinator && self.net.lose(self.scenario.network.loss_ppm) {
            return self.break_connection(from, to, msg);
        }
        self.schedule(from, to, msg);
    }

    /// Puts `msg` on the wire, without the loss check.
    fn schedule(&mut self, from: Node, to: Node, msg: Msg) {
        let arrive = self.net.arrival(self.node_index(from), self.node_index(to), self.now);
        self.at(arrive, Event::Deliver { from, to, msg });
    }

    fn node_index(&self, n: Node) -> usize {
        let b = self.brokers.len();
        let p = self.producers.len();
        let c = self.consumers.len();
        match n {
            Node::Broker(i) => i as usize,
            Node::Producer(i) => b + i as usize,
            Node::Consumer(i) => b + p + i as usize,
            Node::Coordinator(g) => b + p + c + g as usize,
            Node::TxnCoordinator => b + p + c + self.groups.len(),
        }
    }

    /// Runs the scenario to its end.
    pub fn run(&mut self) -> Result<(), RunError> {
        self.run_with_progress(&mut |_| {})
    }

    /// Runs the scenario, calling `progress` with the share of virtual time
    /// done (0 to 1) every 65,536 events. The callback only observes: the run
    /// is the same whatever it does.
    pub fn run_with_progress(&mut self, progress: &mut dyn FnMut(f64)) -> Result<(), RunError> {
        self.start();
        let total = self.scenario.duration.us().saturating_add(self.scenario.drain.us()).max(1) as f64;
        let limit = self.scenario.max_events;
        let hard_end = Instant::ZERO.add(self.scenario.duration).add(self.scenario.drain);
        while let Some((at, event)) = self.queue.pop() {
            if at > hard_end {
                self.now = hard_end;
                break;
            }
            self.now = at;
            if let Some(until) = self.paused_owner(&event) {
                // The process is frozen: its timers and incoming messages wait.
                self.at(until, event);
                continue;
            }
            self.events += 1;
            if self.events & 0xFFFF == 0 {
                progress(at.us() as f64 / total);
            }
            if self.events > limit {
                return Err(RunError::EventLimit { events: self.events - 1, limit, at });
            }
            self.step(event);
            if let Some(e) = self.queue_full.take() {
                let what = match e {
                    QueueFull::Pending => "16,777,216",
                    QueueFull::Sequence => "1.1e12",
                };
                return Err(RunError::QueueFull { what, at });
            }
            if self.end.is_some() {
                break;
            }
        }
        if self.end.is_none() {
            self.end = Some(self.now);
        }
        self.sample();
        // The stream ends: aggregations fire every window still open.
        let end = self.end_time().us();
        for g in self.groups.iter_mut() {
            if let Some(agg) = g.aggregate.as_mut() {
                agg.finish(end);
            }
        }
        Ok(())
    }

    /// The JSONL trace's first line: the run and the names behind every id.
    pub fn trace_header(&self) -> String {
        let partitions: Vec<String> =
            self.partitions.iter().map(|p| format!("{}/{}", self.topics[p.topic as usize].name, p.index)).collect();
        let header = serde_json::json!({
            "trace": "streamsim",
            "version": 2,
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "time_unit": "us",
            "brokers": self.brokers.len(),
            "producers": self.producers.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "consumers": self.consumers.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "groups": self.groups.iter().map(|g| g.name.clone()).collect::<Vec<_>>(),
            "partitions": partitions,
            "transactional_ids": self.txns.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        });
        header.to_string()
    }

    /// The virtual time the run ended at.
    pub fn end_time(&self) -> Instant {
        self.end.unwrap_or(self.now)
    }

    fn start(&mut self) {
        for g in 0..self.partitions.len() as u32 {
            self.start_partition(g);
        }
        for p in 0..self.producers.len() as u32 {
            self.start_producer(p);
        }
        for c in 0..self.consumers.len() as u32 {
            let cs = &self.consumers[c as usize];
            let g = &self.groups[cs.group as usize];
            let spec = &self.scenario.consumers[g.spec as usize];
            if c - g.first_consumer < spec.instances {
                self.start_consumer(c);
            } else {
                // Started later by a `start` or `scale` fault.
                let cs = &mut self.consumers[c as usize];
                cs.up = false;
                cs.stopped = true;
            }
        }
        for (i, f) in self.scenario.faults.iter().enumerate() {
            let at = f.at;
            if let Err(e) = self.queue.push(at, Event::Fault(i as u32)) {
                self.queue_full = Some(e);
            }
        }
        self.at(Instant::ZERO, Event::Sample);
        let every = self.isr_check_every;
        self.after(every, Event::IsrCheck);
    }

    /// The one dispatch of the simulation.
    fn step(&mut self, event: Event) {
        match event {
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Event::ProducerArrival { p, inc } => self.on_arrival(p, inc),
            Event::LingerExpired { p, inc, batch } => self.on_linger_expired(p, inc, batch),
            Event::ProducerWake { p, inc } => self.on_producer_wake(p, inc),
            Event::SendBlocked { p, inc, record } => self.on_send_blocked(p, inc, record),
            Event::OfflineFlush { p, inc } => self.on_offline_flush(p, inc),
            Event::RequestTimeout { p, inc, batch, req } => self.on_request_timeout(p, inc, batch, req),
            Event::ReplicaFetchExpired { partition, replica, token } => {
                self.on_replica_fetch_expired(partition, replica, token)
            }
            Event::ReplicaFetchRetry { partition, replica, token } => {
                self.on_replica_fetch_retry(partition, replica, token)
            }
            Event::ReplicaFetchTimeout { partition, replica, token, sent } => {
                self.on_replica_fetch_timeout(partition, replica, token, sent)
            }
            Event::ConsumerFetchTimeout { c, inc, partition, token } => {
                self.on_consumer_fetch_timeout(c, inc, partition, token)
            }
            Event::ConsumerFetchExpired { partition, c, inc, token } => {
                self.on_consumer_fetch_expired(partition, c, inc, token)
            }
            Event::IsrCheck => {
                self.check_isr();
                let every = self.isr_check_every;
                self.after(every, Event::IsrCheck);
            }
            Event::ControllerFence { broker, inc } => self.on_controller_fence(broker, inc),
            Event::BrokerResume { broker, inc } => self.on_broker_resume(broker, inc),
            Event::HeartbeatTick { c, inc } => self.on_heartbeat_tick(c, inc),
            Event::ConsumerWake { c, inc } => self.on_consumer_wake(c, inc),
            Event::ProcessDone { c, inc, index } => self.on_process_done(c, inc, index),
            Event::WorkerDone { c, inc } => self.on_worker_done(c, inc),
            Event::SessionCheck { g, member } => self.on_session_check(g, member),
            Event::RebalanceDeadline { g, round } => self.on_rebalance_deadline(g, round),
            Event::TxnCommitDue { p, inc, serial } => self.on_txn_commit_due(p, inc, serial),
            Event::TxnTimeout { txn, serial } => self.on_txn_timeout(txn, serial),
            Event::TxnMarkerRetry { txn, serial, partition } => self.on_txn_marker_retry(txn, serial, partition),
            Event::Fault(i) => self.on_fault(i as usize),
            Event::Sample => {
                self.sample();
                if cfg!(debug_assertions) {
                    let mut memory = std::mem::take(&mut self.invariants);
                    self.check_invariants(&mut memory);
                    self.invariants = memory;
                }
                if self.is_quiet() {
                    self.end = Some(self.now);
                } else {
                    let every = self.scenario.sample_interval;
                    self.after(every, Event::Sample);
                }
            }
        }
    }

    /// A message arrives. Requests to a dead broker bounce as a broken connection;
    /// messages to a dead client are dropped (nobody is there to read them).
    fn deliver(&mut self, from: Node, to: Node, msg: Msg) {
        if !self.cuts.is_empty() && self.is_cut(from, to) {
            // Lost in a network partition: the sender learns only by timing out.
            if let Msg::Produce { batch, .. } = msg {
                self.release_batch_ref(batch);
            }
            return;
        }
        if let Node::Broker(b) = to {
            if !self.brokers[b as usize].up {
                self.bounce(from, to, msg);
                return;
            }
        }
        match msg {
            Msg::Produce { p, inc, batch, req, partition, acks } => {
                let Node::Broker(b) = to else { unreachable!("produce goes to a broker") };
                self.on_produce(b, p, inc, batch, req, partition, acks);
            }
            Msg::ProduceResponse { p, inc, batch, req, result } => self.on_produce_response(p, inc, batch, req, result),
            Msg::ReplicaFetch { partition, replica, token, offset, last_epoch } => {
                let Node::Broker(b) = to else { unreachable!("replica fetch goes to a broker") };
                self.on_replica_fetch(b, partition, replica, token, offset, last_epoch);
            }
            Msg::ReplicaFetchResponse {
                partition,
                replica,
                token,
                from: lo,
                to: hi,
                last_entry_epoch,
                leader_hw,
                truncate_to,
                ok,
            } => {
                let Node::Broker(src) = from else { unreachable!("replica data comes from a broker") };
                self.on_replica_fetch_response(
                    src,
                    partition,
                    replica,
                    token,
                    lo,
                    hi,
                    last_entry_epoch,
                    leader_hw,
                    truncate_to,
                    ok,
                );
            }
            Msg::Fetch { c, inc, partition, offset, token } => {
                let Node::Broker(b) = to else { unreachable!("fetch goes to a broker") };
                self.on_fetch(b, c, inc, partition, offset, token);
            }
            Msg::FetchResponse { c, inc, partition, token, from: lo, to: hi, last_entry_epoch, error } => {
                let Node::Broker(src) = from else { unreachable!("fetch data comes from a broker") };
                self.on_fetch_response(src, c, inc, partition, token, lo, hi, last_entry_epoch, error);
            }
            Msg::JoinGroup { c, inc, member } => self.on_join_group(c, inc, member),
            Msg::JoinResponse { c, inc, member, generation } => self.on_join_response(c, inc, member, generation),
            Msg::Heartbeat { c, inc, member, generation } => self.on_heartbeat(c, inc, member, generation),
            Msg::LeaveGroup { c, member } => self.on_leave_group(c, member),
            Msg::HeartbeatResponse { c, inc, result } => self.on_heartbeat_response(c, inc, result),
            Msg::OffsetFetch { c, inc, generation } => self.on_offset_fetch(c, inc, generation),
            Msg::OffsetFetchResponse { c, inc, generation, unstable } => {
                self.on_offset_fetch_response(c, inc, generation, unstable)
            }
            Msg::OffsetCommit { c, inc, member, generation, slot, sync } => {
                self.on_offset_commit(c, inc, member, generation, slot, sync)
            }
            Msg::OffsetCommitResponse { c, inc, slot, ok, sync } => {
                self.on_offset_commit_response(c, inc, slot, ok, sync)
            }
            Msg::InitProducerId { txn, inc } => self.on_init_producer_id(txn, inc),
            Msg::InitProducerIdResponse { txn: _, inc, epoch } => match to {
                Node::Producer(p) => self.on_producer_init_response(p, inc, epoch),
                Node::Consumer(c) => self.on_consumer_init_response(c, inc, epoch),
                _ => unreachable!("transactional clients are producers and consumers"),
            },
            Msg::AddPartitionsToTxn { txn, inc, epoch, partition } => {
                self.on_add_partitions(txn, inc, epoch, partition)
            }
            Msg::AddPartitionsToTxnResponse { txn: _, inc, partition, ok } => {
                let Node::Producer(p) = to else { unreachable!("only producers add partitions") };
                self.on_add_partitions_response(p, inc, partition, ok);
            }
            Msg::EndTxn { txn, inc, epoch, commit } => self.on_end_txn(txn, inc, epoch, commit),
            Msg::EndTxnResponse { txn: _, inc, commit, ok } => match to {
                Node::Producer(p) => self.on_producer_end_txn_response(p, inc, commit, ok),
                Node::Consumer(c) => self.on_consumer_end_txn_response(c, inc, commit, ok),
                _ => unreachable!("transactional clients are producers and consumers"),
            },
            Msg::WriteTxnMarker { txn, serial, partition, marker } => {
                let Node::Broker(b) = to else { unreachable!("markers go to a broker") };
                self.on_write_marker(b, txn, serial, partition, marker);
            }
            Msg::WriteTxnMarkerResponse { txn, serial, partition, ok } => {
                self.on_write_marker_response(txn, serial, partition, ok)
            }
            Msg::TxnOffsetCommit { c, inc, member, generation, txn, epoch, slot } => {
                self.on_txn_offset_commit(c, inc, member, generation, txn, epoch, slot)
            }
            Msg::TxnOffsetCommitResponse { c, inc, ok } => self.on_txn_offset_commit_response(c, inc, ok),
        }
    }

    /// `network.loss`: the TCP connection carrying `msg` breaks. TCP does not
    /// drop single messages; it loses connections, and the requester sees an
    /// error for every request on it. A lost request fails without reaching
    /// the server; a lost response reaches the requester as an error although
    /// the server did the work (a produce appended but not acknowledged).
    fn break_connection(&mut self, from: Node, to: Node, msg: Msg) {
        use event::{FetchError, ProduceError};
        let error = match msg {
            Msg::ProduceResponse { p, inc, batch, req, .. } => {
                Msg::ProduceResponse { p, inc, batch, req, result: Err(ProduceError::Disconnected) }
            }
            Msg::ReplicaFetchResponse { partition, replica, token, from: lo, .. } => {
                Msg::replica_fetch_failed(partition, replica, token, lo)
            }
            Msg::FetchResponse { c, inc, partition, token, from: lo, .. } => {
                Msg::fetch_failed(c, inc, partition, token, lo, FetchError::Disconnected)
            }
            request => return self.bounce(from, to, request),
        };
        self.schedule(from, to, error);
    }

    /// The connection to a dead broker breaks: the client sees an error one hop later.
    fn bounce(&mut self, from: Node, to: Node, msg: Msg) {
        use event::{FetchError, ProduceError};
        let reply = match msg {
            Msg::Produce { p, inc, batch, req, .. } => {
                self.release_batch_ref(batch);
                Some(Msg::ProduceResponse { p, inc, batch, req, result: Err(ProduceError::Disconnected) })
            }
            Msg::ReplicaFetch { partition, replica, token, offset, .. } => {
                Some(Msg::replica_fetch_failed(partition, replica, token, offset))
            }
            Msg::Fetch { c, inc, partition, offset, token } => {
                Some(Msg::fetch_failed(c, inc, partition, token, offset, FetchError::Disconnected))
            }
            Msg::WriteTxnMarker { txn, serial, partition, .. } => {
                Some(Msg::WriteTxnMarkerResponse { txn, serial, partition, ok: false })
            }
            _ => None,
        };
        if let Some(reply) = reply {
            self.schedule(to, from, reply);
        }
    }

    fn on_fault(&mut self, i: usize) {
        self.faults_done = self.faults_done.max(i + 1);
        let action = self.scenario.faults[i].action.clone();
        match action {
            FaultAction::PowerLoss(t) => {
                let Target::Broker(b) = t else { unreachable!("the loader allows power loss of brokers only") };
                self.lose_unflushed(b);
                self.crash(t);
            }
            FaultAction::Crash(t) => self.crash(t),
            FaultAction::Restart(t) => {
                let idx = self.target_index(t);
                self.oracle.emit(self.now, Fact::Restart(self.target_entity(t)));
                match t {
                    Target::Broker(b) => self.restart_broker(b),
                    Target::Producer(..) => self.restart_producer(idx),
                    Target::Consumer(..) => self.restart_consumer(idx),
                }
            }
            FaultAction::Pause(t, d) => {
                self.oracle.emit(self.now, Fact::Pause { entity: self.target_entity(t), us: d.us() });
                let i = self.node_index(self.target_node(t));
                self.paused_until[i] = self.paused_until[i].max(self.now.add(d));
                if let Target::Broker(b) = t {
                    self.pause_broker(b, d);
                }
            }
            FaultAction::Start(t) => {
                self.oracle.emit(self.now, Fact::Start(self.target_entity(t)));
                self.start_stopped_consumer(self.target_index(t));
            }
            FaultAction::Stop(t) => {
                self.oracle.emit(self.now, Fact::Stop(self.target_entity(t)));
                self.stop_consumer(self.target_index(t));
            }
            FaultAction::Scale(..) => unreachable!("the loader turns scale into starts and stops"),
            FaultAction::Partition(targets, d) => {
                let until = self.now.add(d);
                let nodes: Vec<usize> = targets.iter().map(|&t| self.node_index(self.target_node(t))).collect();
                self.oracle.emit(self.now, Fact::NetworkPartition { entities: nodes.len() as u64, us: d.us() });
                for i in 0..nodes.len() {
                    for j in i + 1..nodes.len() {
                        self.cuts.push((nodes[i], nodes[j], until));
                    }
                }
            }
        }
    }

    /// Whether a partition separates `a` and `b` now; forgets healed ones.
    fn is_cut(&mut self, a: Node, b: Node) -> bool {
        let now = self.now;
        self.cuts.retain(|&(_, _, until)| until > now);
        let (a, b) = (self.node_index(a), self.node_index(b));
        self.cuts.iter().any(|&(x, y, _)| (x == a && y == b) || (x == b && y == a))
    }

    /// When `event` belongs to a paused process, the time the pause ends.
    fn paused_owner(&self, event: &Event) -> Option<Instant> {
        let node = match *event {
            Event::Deliver { to, .. } => to,
            Event::ProducerArrival { p, .. }
            | Event::LingerExpired { p, .. }
            | Event::ProducerWake { p, .. }
            | Event::RequestTimeout { p, .. }
            | Event::TxnCommitDue { p, .. }
            | Event::SendBlocked { p, .. }
            | Event::OfflineFlush { p, .. } => Node::Producer(p),
            Event::HeartbeatTick { c, .. }
            | Event::ConsumerWake { c, .. }
            | Event::ProcessDone { c, .. }
            | Event::WorkerDone { c, .. }
            | Event::ConsumerFetchTimeout { c, .. } => Node::Consumer(c),
            // Parked fetches wait at the leader; fetch loops run on the follower.
            Event::ReplicaFetchExpired { partition, .. } | Event::ConsumerFetchExpired { partition, .. } => {
                match self.partitions[partition as usize].leader_broker() {
                    Some(b) => Node::Broker(b),
                    None => return None,
                }
            }
            Event::ReplicaFetchRetry { partition, replica, .. }
            | Event::ReplicaFetchTimeout { partition, replica, .. } => {
                Node::Broker(self.partitions[partition as usize].replicas[replica as usize].broker)
            }
            _ => return None,
        };
        let until = self.paused_until[self.node_index(node)];
        (until > self.now).then_some(until)
    }

    /// Whether broker `b` is frozen in a pause right now.
    pub(crate) fn broker_paused(&self, b: u32) -> bool {
        self.paused_until[self.node_index(Node::Broker(b))] > self.now
    }

    fn crash(&mut self, t: Target) {
        let idx = self.target_index(t);
        self.oracle.emit(self.now, Fact::Crash(self.target_entity(t)));
        // A crash ends a pause: the frozen process is simply gone.
        let i = self.node_index(self.target_node(t));
        self.paused_until[i] = self.now;
        match t {
            Target::Broker(b) => self.crash_broker(b),
            Target::Producer(..) => self.crash_producer(idx),
            Target::Consumer(..) => self.crash_consumer(idx),
        }
    }

    fn target_node(&self, t: Target) -> Node {
        match self.target_entity(t) {
            Entity::Broker(b) => Node::Broker(b),
            Entity::Producer(p) => Node::Producer(p),
            Entity::Consumer(c) => Node::Consumer(c),
        }
    }

    /// The process a fault target names, by its global index.
    fn target_entity(&self, t: Target) -> Entity {
        match t {
            Target::Broker(b) => Entity::Broker(b),
            Target::Producer(s, i) => {
                let first = self.producers.iter().position(|p| p.spec == s as u32).expect("producer spec exists");
                Entity::Producer(first as u32 + i)
            }
            Target::Consumer(s, i) => Entity::Consumer(self.groups[s].first_consumer + i),
        }
    }

    /// A fault target's index among the processes of its kind.
    fn target_index(&self, t: Target) -> u32 {
        match self.target_entity(t) {
            Entity::Broker(i) | Entity::Producer(i) | Entity::Consumer(i) => i,
        }
    }

    /// Quiet: no fault left to happen, every producer done with nothing in flight,
    /// every partition fully replicated and every group caught up and idle.
    fn is_quiet(&self) -> bool {
        if self.now < Instant::ZERO.add(self.scenario.duration) {
            return false;
        }
        if self.faults_done < self.scenario.faults.len() {
            return false;
        }
        if !self.producers.iter().all(|p| p.is_done()) {
            return false;
        }
        if !self.partitions.iter().all(|p| p.is_settled()) {
            return false;
        }
        // Every live replica back in sync (a follower cut off by a partition catches up first).
        let lagging = |p: &Partition| {
            p.leader.is_some()
                && (0..p.replicas.len()).any(|r| !p.in_isr(r) && self.brokers[p.replicas[r].broker as usize].up)
        };
        if self.partitions.iter().any(lagging) {
            return false;
        }
        self.txns_idle()
            && self.groups.iter().all(|g| self.group_lag(g) == 0)
            && self.consumers.iter().all(|c| c.is_idle())
    }
}
