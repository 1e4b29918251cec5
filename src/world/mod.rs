//! The world: every entity of a scenario, the network between them, and the
//! loop that runs events in virtual time until the system is quiet.
//!
//! Entities are plain structs in vectors indexed by small ids. Each layer's
//! handlers live beside its state in `crate::model` as `impl World` blocks, so a
//! record's life reads in order: producer → broker → consumer → sink, with the
//! ledger and trace told of every step.

pub mod budget;
mod deliver;
mod end;
pub mod event;
mod faults;
pub mod invariants;
mod stall;

use crate::kernel::queue::{EventQueue, QueueFull};
use crate::kernel::rng::EntityRng;
use crate::kernel::time::{Duration, Instant};
use crate::model::broker::fetcher::{FetchSlotData, Fetcher};
use crate::model::broker::leadership::Leadership;
use crate::model::broker::{Broker, Partition};
use crate::model::consumer::fetch_request::FetchRequestData;
use crate::model::consumer::Consumer;
use crate::model::group::Group;
use crate::model::ids::{
    AssignmentSlot, BatchId, BrokerId, CommitSlot, ConsumerFetchSlot, ConsumerId, FetchSlot, GroupId, IdVec,
    Incarnation, LocalPartition, MarkerId, OffsetsSlot, PartitionId, ProducerId, RequestId, TopicId, TxnId,
};
use crate::model::network::Network;
use crate::model::producer::request::ProduceRequest;
use crate::model::producer::sender::DrainScratch;
use crate::model::producer::{producer_id, Batch, Producer, TXN_PID_GEN};
use crate::model::record::Payloads;
use crate::model::txn::{Marker, Txn};
pub use crate::oracle::sampler::{LagSample, Sample};
use crate::oracle::shape::{
    ConsumerShape, ExpectShape, GroupShape, PartitionShape, ProducerShape, RunShape, WindowShape,
};
use crate::oracle::Oracle;
use crate::scenario::{FaultAction, Scenario};
pub use event::{Event, Msg, Node};
pub use faults::CrashKind;

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
    /// Refused before the start (the message says so).
    #[error(transparent)]
    Budget(#[from] budget::BudgetError),
    #[error(
        "stopped after {events} events at virtual time {at}: the run holds about {}, more than \
         max_memory ({}); reduce `duration`, `rate` or `instances`, or raise `max_memory` (--max-memory)",
        budget::size(*used), budget::size(*limit)
    )]
    Memory { used: u64, limit: u64, events: u64, at: Instant },
}

/// A topic at run time: where its partitions sit in the global partition vector.
#[derive(Clone, Debug)]
pub struct TopicRt {
    pub name: String,
    pub first_partition: PartitionId,
    pub partitions: u32,
}

pub struct World {
    pub scenario: Scenario,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) now: Instant,
    pub(crate) net: Network,
    pub topics: IdVec<TopicId, TopicRt>,
    pub brokers: IdVec<BrokerId, Broker>,
    pub partitions: IdVec<PartitionId, Partition>,
    pub producers: IdVec<ProducerId, Producer>,
    pub(crate) batches: IdVec<BatchId, Batch>,
    pub(crate) free_batches: Vec<BatchId>,
    /// Produce requests on the wire, at a broker or awaiting their answer; reused.
    pub(crate) requests: IdVec<RequestId, ProduceRequest>,
    pub(crate) free_requests: Vec<RequestId>,
    /// The sender's scratch space (no allocation per request): brokers with a
    /// ready partition, one broker's partitions, the batches being drained.
    pub(crate) drain_scratch: DrainScratch,
    /// Follower fetch sessions, one per (follower, leader) pair: index
    /// `follower * brokers + leader` (`model::broker::fetcher`).
    pub(crate) fetchers: Vec<Fetcher>,
    /// Per broker, the partitions it leads (`model::broker::leadership`).
    pub(crate) leadership: Leadership,
    /// What in-flight follower fetches and their answers carry, by slot; reused.
    pub(crate) fetch_slots: IdVec<FetchSlot, FetchSlotData>,
    pub(crate) free_fetch_slots: Vec<FetchSlot>,
    /// Consumer fetches on the wire, parked at a broker or being answered, by slot; reused.
    pub(crate) consumer_fetches: IdVec<ConsumerFetchSlot, FetchRequestData>,
    pub(crate) free_consumer_fetches: Vec<ConsumerFetchSlot>,
    /// Park numbers of consumer fetches (`DelayedFetch`): an entry names the park it was for.
    pub(crate) next_park: u64,
    /// Unit tests read the shapes of the requests sent here.
    #[cfg(test)]
    pub(crate) tap: Vec<crate::model::producer::request::Tapped>,
    pub groups: IdVec<GroupId, Group>,
    pub consumers: IdVec<ConsumerId, Consumer>,
    /// Transactional ids at the transaction coordinator: transactional
    /// producers, then consumers with `commit: transactional`.
    pub txns: IdVec<TxnId, Txn>,
    /// Every transaction's commit or abort; control entries in logs point here.
    pub markers: IdVec<MarkerId, Marker>,
    /// Offsets carried by in-flight commits, by slot; reused.
    pub(crate) commit_slots: IdVec<CommitSlot, Vec<(LocalPartition, u64)>>,
    pub(crate) free_commit_slots: Vec<CommitSlot>,
    /// Assignments carried by in-flight JoinResponses, by slot; reused.
    pub(crate) assignment_slots: IdVec<AssignmentSlot, Vec<LocalPartition>>,
    pub(crate) free_assignment_slots: Vec<AssignmentSlot>,
    /// Partitions and their committed offsets carried by in-flight offset fetches, by slot; reused.
    pub(crate) offset_slots: IdVec<OffsetsSlot, Vec<(LocalPartition, Option<u64>)>>,
    pub(crate) free_offset_slots: Vec<OffsetsSlot>,
    /// Every record's content, by record id (the model's own copy of the bytes).
    pub(crate) payloads: Payloads,
    /// Per producer instance: where its keys start among every producer's
    /// (the aggregation's key space).
    pub(crate) key_base: IdVec<ProducerId, u32>,
    /// The oracle's side: the model only hands it facts (`oracle.emit`).
    pub oracle: Oracle,
    pub samples: Vec<Sample>,
    /// Per sample, every group partition's lag and owner.
    pub lag_samples: Vec<LagSample>,
    /// Keep `lag_samples` (a report folder charts them); off, only the totals are sampled.
    pub keep_lag_rows: bool,
    /// Bytes a record costs in this run (`budget::per_record`), for the memory check.
    pub(crate) bytes_per_record: u64,
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
    /// Per paused node (by index), the events that came while it was frozen,
    /// in order (`World::defer`); sparse, as pauses are rare.
    pub(crate) deferred: Vec<(u32, std::collections::VecDeque<Event>)>,
    /// `slow:` faults as they happen: (consumer, until, per-record processing time). The
    /// application is slow, not the process: its heartbeats go on (`Consumer::processing`).
    pub(crate) slow: Vec<(crate::model::ids::ConsumerId, Instant, Duration)>,
    /// Network partitions: (node, node, until); messages between them stall.
    pub(crate) cuts: Vec<(usize, usize, Instant)>,
    /// Links whose data waits for a TCP retransmission (`stall`); sparse.
    pub(crate) stalls: Vec<stall::Stall>,
    /// A host crash has happened: deliveries check for dead machines and
    /// connections they accepted (off, they cost nothing).
    pub(crate) hosts_crashed: bool,
    /// The scenario can leave requests unanswered (a lossy network, a
    /// partition, a host crash), so requests need timeouts of their own.
    pub(crate) lossy: bool,
    /// What the invariant checks saw at the last sample (debug builds).
    invariants: invariants::Memory,
}

/// Members sort by name, as Kafka sorts member ids (`analytics-10` < `analytics-2`): a
/// member's rank is its place in that order.
fn rank_members(groups: &IdVec<GroupId, Group>, consumers: &mut IdVec<ConsumerId, Consumer>) {
    for g in groups.iter() {
        let mut order: Vec<ConsumerId> = (0..g.instances).map(|i| g.first_consumer.plus(i)).collect();
        order.sort_by(|a, b| consumers[*a].name.cmp(&consumers[*b].name));
        for (rank, c) in order.into_iter().enumerate() {
            consumers[c].rank = rank as u32;
        }
    }
}

/// An aggregation's windows as the oracle's shape writes them (µs).
fn window_shape(kind: crate::scenario::WindowKind) -> WindowShape {
    use crate::scenario::WindowKind as K;
    match kind {
        K::Tumbling { size } => WindowShape::Tumbling { size_us: size.us() },
        K::Sliding { size, slide } => WindowShape::Sliding { size_us: size.us(), slide_us: slide.us() },
        K::Session { gap } => WindowShape::Session { gap_us: gap.us() },
    }
}

/// Per producer instance: where its keys start among every producer's.
fn key_bases(keys_per_producer: &[u32]) -> IdVec<ProducerId, u32> {
    keys_per_producer
        .iter()
        .scan(0u32, |next, &k| {
            let base = *next;
            *next += k.max(1);
            Some(base)
        })
        .collect()
}

impl World {
    pub fn new(mut scenario: Scenario) -> World {
        // The run's fault schedule: the file's faults plus the chaos draws.
        scenario.faults = crate::faults::schedule(&scenario);
        let seed = scenario.seed;
        let brokers: IdVec<BrokerId, Broker> = (0..scenario.brokers).map(|_| Broker::new()).collect();
        let (topics, partitions) = Self::new_topics(&scenario);
        let (producers, keys_per_producer) = Self::new_producers(&scenario, &topics);
        let (groups, mut consumers) = Self::new_groups(&scenario, &topics);
        rank_members(&groups, &mut consumers);
        let mut producers = producers;
        let txns = Self::new_txns(&scenario, &mut producers, &mut consumers);
        let nodes = brokers.len() + producers.len() + consumers.len() + groups.len() + 1;
        let net = Network::new(scenario.network.latency.clone(), seed, nodes);
        let key_base = key_bases(&keys_per_producer);
        let lag_min =
            scenario.topics.iter().map(|t| t.config.replica_lag_time_max).min().unwrap_or(Duration::from_ms(30_000));
        let mut world = World {
            queue: EventQueue::with_capacity(1024),
            now: Instant::ZERO,
            net,
            topics,
            brokers,
            partitions,
            producers,
            batches: IdVec::new(),
            free_batches: Vec::new(),
            requests: IdVec::new(),
            free_requests: Vec::new(),
            drain_scratch: DrainScratch::default(),
            fetchers: vec![Fetcher::default(); scenario.brokers as usize * scenario.brokers as usize],
            leadership: Leadership::default(),
            fetch_slots: IdVec::new(),
            free_fetch_slots: Vec::new(),
            consumer_fetches: IdVec::new(),
            free_consumer_fetches: Vec::new(),
            next_park: 0,
            #[cfg(test)]
            tap: Vec::new(),
            groups,
            consumers,
            txns,
            markers: IdVec::new(),
            commit_slots: IdVec::new(),
            free_commit_slots: Vec::new(),
            assignment_slots: IdVec::new(),
            free_assignment_slots: Vec::new(),
            offset_slots: IdVec::new(),
            free_offset_slots: Vec::new(),
            payloads: Payloads::default(),
            key_base,
            oracle: Oracle::default(),
            samples: Vec::new(),
            lag_samples: Vec::new(),
            keep_lag_rows: false,
            bytes_per_record: budget::per_record(&scenario, budget::Keep::default()),
            max_lag: 0,
            events: 0,
            next_req: 0,
            faults_done: 0,
            end: None,
            isr_check_every: Duration((lag_min.us() / 2).max(1)),
            queue_full: None,
            paused_until: vec![Instant::ZERO; nodes],
            deferred: Vec::new(),
            slow: Vec::new(),
            cuts: Vec::new(),
            stalls: Vec::new(),
            hosts_crashed: false,
            lossy: scenario.network.loss_ppm > 0
                || scenario
                    .faults
                    .iter()
                    .any(|f| matches!(f.action, FaultAction::Partition(..) | FaultAction::HostCrash(_))),
            invariants: invariants::Memory::default(),
            scenario,
        };
        world.oracle = Oracle::new(world.oracle_shape(&keys_per_producer));
        world.leadership = Leadership::new(world.brokers.len(), &world.partitions);
        world
    }

    /// Every topic and its partitions, numbered globally in file order.
    fn new_topics(scenario: &Scenario) -> (IdVec<TopicId, TopicRt>, IdVec<PartitionId, Partition>) {
        let mut topics = IdVec::new();
        let mut partitions = IdVec::new();
        for spec in scenario.topics.iter() {
            let first_partition = partitions.next_id();
            let topic = topics.push(TopicRt { name: spec.name.clone(), first_partition, partitions: spec.partitions });
            for p in 0..spec.partitions {
                let mut part = Partition::new(topic, LocalPartition::new(p), spec, scenario.brokers);
                part.elr_enabled = scenario.broker_config.eligible_leader_replicas;
                if scenario.platform == crate::scenario::Platform::Kinesis {
                    part.limits = Some(crate::model::broker::ShardLimits::kinesis());
                }
                partitions.push(part);
            }
        }
        (topics, partitions)
    }

    /// Who exists and where, as the oracle needs it (fixed for the run).
    fn oracle_shape(&self, keys_per_producer: &[u32]) -> crate::oracle::shape::Shape {
        crate::oracle::shape::Shape {
            run: self.run_shape(),
            brokers: self.scenario.brokers,
            producers: self
                .producers
                .iter()
                .zip(keys_per_producer)
                .map(|(p, &keys)| ProducerShape { name: p.name.clone(), keys, txn: p.txn.map(|t| t.raw()) })
                .collect(),
            consumers: self
                .consumers
                .iter()
                .map(|c| ConsumerShape { name: c.name.clone(), group: c.group.raw() })
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|g| GroupShape {
                    name: g.name.clone(),
                    first_partition: g.first_partition.raw(),
                    partitions: g.partitions,
                    read_committed: self.consumers[g.first_consumer].read_committed,
                    window: g.aggregate.as_ref().map(|a| window_shape(a.spec.window)),
                })
                .collect(),
            partitions: self
                .partitions
                .iter()
                .map(|p| PartitionShape {
                    name: format!("{}/{}", self.topics[p.topic].name, p.index),
                    replicas: p.replicas.iter().map(|r| r.broker.raw()).collect(),
                })
                .collect(),
            transactional_ids: self.txns.iter().map(|t| t.name.clone()).collect(),
        }
    }

    /// The run as the summary names it and the expectations it is judged by.
    fn run_shape(&self) -> RunShape {
        let sc = &self.scenario;
        RunShape {
            scenario: sc.name.clone(),
            seed: sc.seed,
            semantics: sc.semantics.map(|s| s.name().to_string()),
            duration_us: sc.duration.us(),
            expect: sc
                .expect
                .iter()
                .map(|e| ExpectShape {
                    name: e.name.clone(),
                    cmp: e.cmp.symbol().to_string(),
                    value: e.value,
                    text: e.text.clone(),
                })
                .collect(),
        }
    }

    fn new_producers(scenario: &Scenario, topics: &IdVec<TopicId, TopicRt>) -> (IdVec<ProducerId, Producer>, Vec<u32>) {
        let mut producers = IdVec::new();
        let mut keys_per_producer = Vec::new();
        for (s, spec) in scenario.producers.iter().enumerate() {
            for i in 0..spec.instances {
                let name = format!("{}-{}", spec.name, i);
                let topic = &topics[TopicId::new(spec.topic as u32)];
                let rng = EntityRng::new(scenario.seed, &name);
                let net_rng = EntityRng::new(scenario.seed, &format!("{name}/connections"));
                keys_per_producer.push(spec.keys);
                producers.push(Producer::new(
                    s as u32,
                    name,
                    topic.first_partition,
                    topic.partitions,
                    spec,
                    (rng, net_rng),
                    scenario.brokers,
                ));
            }
        }
        (producers, keys_per_producer)
    }

    /// Every group, and its consumer instances (`slots` of them, some started later).
    fn new_groups(
        scenario: &Scenario,
        topics: &IdVec<TopicId, TopicRt>,
    ) -> (IdVec<GroupId, Group>, IdVec<ConsumerId, Consumer>) {
        let mut groups = IdVec::new();
        let mut consumers = IdVec::new();
        for spec in scenario.consumers.iter() {
            let topic = &topics[TopicId::new(spec.topic as u32)];
            let record_bytes = scenario
                .producers
                .iter()
                .filter(|p| p.topic == spec.topic)
                .map(|p| p.record_bytes)
                .max()
                .unwrap_or(100);
            let group = groups.next_id();
            let first_consumer = consumers.next_id();
            for i in 0..spec.slots.max(spec.instances) {
                let name = format!("{}-{}", spec.group, i);
                let rng = EntityRng::new(scenario.seed, &name);
                consumers.push(Consumer::new(group, name, topic.partitions, spec, rng, record_bytes));
            }
            groups.push(Group::new(
                group.raw(),
                spec,
                topic.first_partition,
                topic.partitions,
                first_consumer,
                scenario.broker_config.group_initial_rebalance_delay,
            ));
        }
        (groups, consumers)
    }

    /// Transactional ids: one per transactional producer instance and per
    /// consumer instance that commits in transactions.
    fn new_txns(
        scenario: &Scenario,
        producers: &mut IdVec<ProducerId, Producer>,
        consumers: &mut IdVec<ConsumerId, Consumer>,
    ) -> IdVec<TxnId, Txn> {
        let mut txns = IdVec::new();
        for (p, pr) in producers.iter_enumerated_mut() {
            let spec = &scenario.producers[pr.spec as usize];
            if let Some(id) = &pr.config.transactional_id {
                let name = if spec.instances > 1 {
                    format!("{id}-{}", pr.name.rsplit('-').next().unwrap_or("0"))
                } else {
                    id.clone()
                };
                let pid = producer_id(p, TXN_PID_GEN);
                pr.txn = Some(txns.push(Txn::new(name, Node::Producer(p), pid, pr.config.transaction_timeout, None)));
            }
        }
        for (c, cs) in consumers.iter_enumerated_mut() {
            if cs.commit == crate::scenario::CommitMode::Transactional {
                let pid = 1 << 63 | u64::from(c);
                let timeout = Duration::from_ms(60_000);
                let txn = Txn::new(format!("{}-tx", cs.name), Node::Consumer(c), pid, timeout, Some(cs.group));
                cs.txn = Some(txns.push(txn));
            }
        }
        txns
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
            if let Some(node) = self.deferral(&event) {
                // The process is frozen: its timers and incoming messages wait.
                self.defer(node, event);
                continue;
            }
            self.events += 1;
            if self.events & 0xFFFF == 0 {
                progress(at.us() as f64 / total);
                let used = self.memory_in_use();
                if used > self.scenario.max_memory {
                    let limit = self.scenario.max_memory;
                    return Err(RunError::Memory { used, limit, events: self.events, at });
                }
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
        self.report_end();
        Ok(())
    }

    /// What the run holds, deterministically: records at their measured cost,
    /// kept steps, samples and lag rows (`budget`).
    pub fn memory_in_use(&self) -> u64 {
        let steps = self.oracle.kept_steps();
        [
            budget::BASE_BYTES,
            (self.payloads.len() as u64).saturating_mul(self.bytes_per_record),
            steps.saturating_mul(budget::BYTES_PER_STEP),
            (self.samples.len() as u64).saturating_mul(budget::BYTES_PER_SAMPLE),
            (self.lag_samples.len() as u64).saturating_mul(budget::BYTES_PER_LAG_ROW),
            (self.scenario.faults.len() as u64).saturating_mul(budget::BYTES_PER_FAULT),
        ]
        .into_iter()
        .fold(0, u64::saturating_add)
    }

    /// Frees what only the model reads, once the run is over and summarized:
    /// every replica's log entries and every record's payload, about half
    /// the memory of a long run. `explain` tells its stories from the
    /// oracle's copies (the ledger, `oracle::shadow`), so they are the same
    /// without them. Only for a finished run: the model cannot go on without them.
    pub(crate) fn release_logs(&mut self) {
        for part in self.partitions.iter_mut() {
            for rep in part.replicas.iter_mut() {
                rep.log = Default::default();
            }
        }
        self.payloads = Default::default();
    }

    /// The virtual time the run ended at.
    pub fn end_time(&self) -> Instant {
        self.end.unwrap_or(self.now)
    }

    fn start(&mut self) {
        for partition in self.partitions.ids() {
            self.start_partition(partition);
        }
        for p in self.producers.ids() {
            self.start_producer(p);
        }
        for c in self.consumers.ids() {
            let g = &self.groups[self.consumers[c].group];
            let spec = &self.scenario.consumers[g.spec as usize];
            if c.raw() - g.first_consumer.raw() < spec.instances {
                self.start_consumer(c);
            } else {
                // Started later by a `start` or `scale` fault.
                let cs = &mut self.consumers[c];
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

    /// The one dispatch of the simulation. An event for a process
    /// incarnation that is gone (see `Event::owner`) is dropped here, before
    /// any handler sees it.
    fn step(&mut self, event: Event) {
        if let Some((node, inc)) = event.owner() {
            if !self.running(node, inc) {
                if let Event::Deliver { msg, .. } = event {
                    self.discard(msg);
                }
                return;
            }
        }
        match event {
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Event::ProducerArrival { producer, inc } => self.on_arrival(producer, inc),
            Event::LingerExpired { producer, batch, .. } => self.on_linger_expired(producer, batch),
            Event::ProducerWake { producer, .. } => self.on_producer_wake(producer),
            Event::SendBlocked { producer, record, .. } => self.on_send_blocked(producer, record),
            Event::OfflineFlush { producer, .. } => self.on_offline_flush(producer),
            Event::RequestTimeout { producer, request, req, .. } => self.on_request_timeout(producer, request, req),
            Event::ConnectTimeout { producer, broker, conn, .. } => self.on_connect_timeout(producer, broker, conn),
            Event::ReplicaFetchExpired { follower, leader, gen, sent } => {
                self.on_replica_fetch_expired(follower, leader, gen, sent)
            }
            Event::ReplicaFetchRetry { follower, leader, gen } => self.on_replica_fetch_retry(follower, leader, gen),
            Event::ReplicaFetchTimeout { follower, leader, gen, sent } => {
                self.on_replica_fetch_timeout(follower, leader, gen, sent)
            }
            Event::ConsumerFetchTimeout { consumer, broker, token, .. } => {
                self.on_consumer_fetch_timeout(consumer, broker, token)
            }
            Event::ConsumerFetchExpired { broker, slot, serial } => {
                self.on_consumer_fetch_expired(broker, slot, serial)
            }
            Event::IsrCheck => {
                self.check_isr();
                let every = self.isr_check_every;
                self.after(every, Event::IsrCheck);
            }
            Event::ControllerFence { broker, inc } => self.on_controller_fence(broker, inc),
            Event::BrokerResume { broker, .. } => self.on_broker_resume(broker),
            Event::HeartbeatTick { consumer, inc } => self.on_heartbeat_tick(consumer, inc),
            Event::AutoCommitTick { consumer, inc } => self.on_auto_commit_tick(consumer, inc),
            Event::PollTimerCheck { consumer, inc } => self.on_poll_timer_check(consumer, inc),
            Event::ConsumerWake { consumer, .. } => self.on_consumer_wake(consumer),
            Event::ProcessDone { consumer, inc, index } => self.on_process_done(consumer, inc, index),
            Event::WorkerDone { consumer, inc } => self.on_worker_done(consumer, inc),
            Event::SessionCheck { group, member } => self.on_session_check(group, member),
            Event::RebalanceDeadline { group, round } => self.on_rebalance_deadline(group, round),
            Event::TxnCommitDue { producer, serial, .. } => self.on_txn_commit_due(producer, serial),
            Event::TxnTimeout { txn, serial } => self.on_txn_timeout(txn, serial),
            Event::TxnMarkerRetry { txn, serial, partition } => self.on_txn_marker_retry(txn, serial, partition),
            Event::Fault(i) => self.on_fault(i as usize),
            Event::PauseEnd { node } => self.on_pause_end(node as usize),
            Event::Retransmit { from, to } => self.on_retransmit(from, to),
            Event::Sample => self.on_sample(),
        }
    }

    /// Whether incarnation `inc` of process `node` is up and current.
    fn running(&self, node: Node, inc: Incarnation) -> bool {
        match node {
            Node::Broker(b) => self.brokers[b].up && self.brokers[b].inc == inc,
            Node::Producer(p) => self.producers[p].up && self.producers[p].inc == inc,
            Node::Consumer(c) => self.consumers[c].up && self.consumers[c].inc == inc,
            Node::Coordinator(_) | Node::TxnCoordinator => true,
        }
    }

    /// Samples, checks the invariants (debug builds), and ends the run once it is quiet.
    fn on_sample(&mut self) {
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

    /// Quiet: no fault left to happen, every producer done with nothing in flight,
    /// every partition fully replicated and every group caught up and idle.
    fn is_quiet(&self) -> bool {
        if self.now < Instant::ZERO.add(self.scenario.duration) {
            return false;
        }
        if self.faults_done < self.scenario.faults.len() || self.brokers.iter().any(|b| b.registering) {
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
                && p.replicas.iter_enumerated().any(|(r, rep)| !p.in_isr(r) && self.brokers[rep.broker].up)
        };
        if self.partitions.iter().any(lagging) {
            return false;
        }
        self.txns_idle()
            && self.groups.iter().all(|g| self.group_lag(g) == 0)
            && self.consumers.iter().all(|c| c.is_idle())
    }
}

#[cfg(test)]
impl World {
    /// Runs every event due by virtual time `t` (starting the run first if
    /// it has not started), so a test can look at the state between events.
    pub(crate) fn run_until(&mut self, t: Instant) {
        if self.events == 0 && self.queue.is_empty() {
            self.start();
        }
        while self.queue.peek_time().is_some_and(|at| at <= t) {
            let Some((at, event)) = self.queue.pop() else { break };
            self.now = at;
            if let Some(node) = self.deferral(&event) {
                self.defer(node, event);
                continue;
            }
            self.events += 1;
            self.step(event);
        }
        self.now = self.now.max(t);
    }
}
