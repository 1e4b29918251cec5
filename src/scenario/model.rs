//! The validated scenario: what the loader produces and the world is built from.
//!
//! Every field here is already checked and resolved: presets applied, Kafka
//! defaults filled in, names turned into indices. The simulation never sees YAML.

use crate::kernel::rng::Dist;
use crate::kernel::time::{Duration, Instant};

/// A fully validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub seed: u64,
    /// Producers run this long.
    pub duration: Duration,
    /// Extra time after `duration` for consumers to finish (default 60s).
    pub drain: Duration,
    pub semantics: Option<Semantics>,
    /// Whose defaults the configs the file leaves out take (`kafka_version:`).
    pub kafka_version: KafkaVersion,
    /// Kafka, or Amazon Kinesis Data Streams (partitions are shards with
    /// AWS's per-shard limits).
    pub platform: Platform,
    pub brokers: u32,
    pub broker_config: BrokerConfig,
    pub network: NetworkSpec,
    pub topics: Vec<TopicSpec>,
    pub producers: Vec<ProducerSpec>,
    pub consumers: Vec<ConsumerSpec>,
    /// Sorted by `at`; ties keep file order.
    pub faults: Vec<FaultSpec>,
    /// Seeded random faults (`chaos:`), drawn when the world is built.
    pub chaos: Option<ChaosSpec>,
    pub expect: Vec<Expectation>,
    /// Hard cap on processed events (default 200,000,000).
    pub max_events: u64,
    /// How often lag is sampled for `max_lag` and the time series (default 100ms).
    pub sample_interval: Duration,
    /// Memory budget in bytes (default 4 GiB, `--max-memory`): a run estimated
    /// to need more is refused, one that grows past it stops (`world::budget`).
    pub max_memory: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Platform {
    #[default]
    Kafka,
    /// Shards take 1000 records/s or 1 MiB/s of writes, and 5 reads/s or
    /// 2 MiB/s of reads; beyond that, requests are throttled.
    Kinesis,
}

pub const DEFAULT_MAX_EVENTS: u64 = 200_000_000;
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(60);
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_ms(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Semantics {
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnce,
    EffectivelyOnce,
}

impl Semantics {
    pub const ALL: [Semantics; 4] =
        [Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::ExactlyOnce, Semantics::EffectivelyOnce];
    pub fn name(self) -> &'static str {
        match self {
            Semantics::AtMostOnce => "at-most-once",
            Semantics::AtLeastOnce => "at-least-once",
            Semantics::ExactlyOnce => "exactly-once",
            Semantics::EffectivelyOnce => "effectively-once",
        }
    }
}

/// Cluster-wide broker settings (`broker_config:`), Kafka names in comments.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerConfig {
    /// `broker.session.timeout.ms` (9000): how long the controller waits before
    /// fencing a broker that stopped heartbeating, i.e. before failover starts.
    pub broker_session_timeout: Duration,
    /// `group.initial.rebalance.delay.ms` (3000): the first rebalance of an empty group waits this long.
    pub group_initial_rebalance_delay: Duration,
    /// `replica.fetch.wait.max.ms` (500): how long a follower fetch waits at the leader for new data.
    pub replica_fetch_wait_max: Duration,
    /// Defaults for topics that do not override them.
    pub topic_defaults: TopicConfig,
    /// When written data reaches the disk (a power loss keeps only that).
    pub page_cache: PageCacheConfig,
    /// `eligible.leader.replicas.version` (0): the KIP-966 feature level; 1
    /// turns on Eligible Leader Replicas (off by default in Kafka 4.0, on for
    /// new 4.1 clusters).
    pub eligible_leader_replicas: bool,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`
    /// (10000): how often the transaction coordinator's scheduler aborts
    /// transactions past their timeout (TransactionCoordinator.startup).
    pub txn_abort_cleanup_interval: Duration,
    /// `transaction.version` (the feature level): 2 turns on KIP-890 part 2,
    /// an epoch bump at every commit and abort
    /// (`TransactionVersion.supportsEpochBump`). A Kafka 4.0 cluster
    /// bootstraps level 2 (`TV_2`'s bootstrap metadata version is
    /// IBP_4_0_IV2); older releases have no such feature (level 0).
    pub transaction_version: u8,
    /// Client quotas: the default byte rates and the rate's sampling.
    pub quotas: QuotaConfig,
}

/// Client byte-rate quotas (`ClientQuotaManager`), with Kafka's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaConfig {
    /// `producer_byte_rate` for the default client (unset: no quota), in
    /// bytes/s per broker (`kafka-configs --entity-type clients --entity-default`).
    pub producer_byte_rate: Option<u64>,
    /// `consumer_byte_rate` for the default client (unset: no quota), in
    /// bytes/s of fetched data per broker.
    pub consumer_byte_rate: Option<u64>,
    /// `quota.window.num` (11): samples the rate keeps.
    pub samples: u32,
    /// `quota.window.size.seconds` (1): each sample's span.
    pub window: Duration,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig { producer_byte_rate: None, consumer_byte_rate: None, samples: 11, window: Duration::from_secs(1) }
    }
}

/// Kafka's fsync settings and the Linux writeback that stands in for them
/// by default (`ServerLogConfigs`: Kafka itself never fsyncs per write).
#[derive(Clone, Debug, PartialEq)]
pub struct PageCacheConfig {
    /// `log.flush.interval.messages` (Long.MAX_VALUE): fsync once this many
    /// messages are unflushed (`UnifiedLog.append`).
    pub flush_interval_messages: u64,
    /// `log.flush.interval.ms` (unset = never): fsync a log this often
    /// (`LogManager.flushDirtyLogs`; streamsim assumes its flusher, every
    /// `log.flush.scheduler.interval.ms`, checks often enough).
    pub flush_interval: Option<Duration>,
    /// `vm.dirty_writeback_centisecs` (500 = 5 s; the Linux sysctl, in its
    /// own unit, accepted in `broker_config:`): how often the kernel's
    /// flusher threads wake; 0 turns periodic writeback off.
    pub dirty_writeback: Duration,
    /// `vm.dirty_expire_centisecs` (3000 = 30 s, Linux sysctl): a dirty
    /// page older than this is written back at the next wake-up.
    pub dirty_expire: Duration,
}

impl Default for PageCacheConfig {
    fn default() -> Self {
        PageCacheConfig {
            flush_interval_messages: u64::MAX,
            flush_interval: None,
            dirty_writeback: Duration::from_ms(5_000),
            dirty_expire: Duration::from_ms(30_000),
        }
    }
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            broker_session_timeout: Duration::from_ms(9_000),
            group_initial_rebalance_delay: Duration::from_ms(3_000),
            replica_fetch_wait_max: Duration::from_ms(500),
            topic_defaults: TopicConfig::default(),
            page_cache: PageCacheConfig::default(),
            eligible_leader_replicas: false,
            txn_abort_cleanup_interval: Duration::from_ms(10_000),
            transaction_version: 2,
            quotas: QuotaConfig::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// One-way latency between any two entities. Links stay FIFO (as TCP is).
    pub latency: Dist,
    /// Probability, in parts per million, that a data message (produce, fetch,
    /// replication) is lost. Coordinator traffic is never lost.
    pub loss_ppm: u32,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec { latency: Dist::Constant(Duration::from_ms(1)), loss_ppm: 0 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: u32,
    /// `replication.factor`; defaults to `default.replication.factor` (1).
    pub replication_factor: u32,
    pub config: TopicConfig,
}

/// Topic-level configs (topic `config:`), defaults as in Kafka.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicConfig {
    /// `min.insync.replicas` (1).
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable` (false).
    pub unclean_leader_election_enable: bool,
    /// `replica.lag.time.max.ms` (30000): a follower not caught up this long leaves the ISR.
    pub replica_lag_time_max: Duration,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
            replica_lag_time_max: Duration::from_ms(30_000),
        }
    }
}

/// Arrivals per instance: `count` records every `per` of virtual time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u64,
    pub per: Duration,
    pub kind: ArrivalKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalKind {
    /// Exponential gaps with mean `per / count` (the default).
    Poisson,
    /// Exactly `count` records every `per`, evenly spaced (`rate: { constant: 100/s }`).
    Constant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProducerSpec {
    /// Instances are named `{name}-0`, `{name}-1`, ...
    pub name: String,
    /// Index into `Scenario::topics`.
    pub topic: usize,
    pub instances: u32,
    pub rate: Rate,
    /// Cap on records per instance.
    pub messages: Option<u64>,
    /// Key cardinality; keys are `key-0`..`key-{n-1}`; 0 = null keys (sticky partitioning).
    pub keys: u32,
    /// Size of one record on the wire, for batch.size (default 100 bytes).
    pub record_bytes: u32,
    /// A transactional producer commits its open transaction this often
    /// (the application's commit loop; Kafka Streams' `commit.interval.ms`
    /// under exactly-once is 100 ms, the default here).
    pub transaction_interval: Duration,
    /// What the application does when send() reports a failure (`on_failure:`).
    pub on_failure: OnFailure,
    /// How each record's event time relates to the moment it is sent.
    pub event_time: EventTimeSpec,
    pub config: ProducerConfig,
}

/// What a producer's application does with a record whose send() failed
/// (`on_failure:`), that is whose callback got an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Log it and move on: the record is `failed`.
    Drop,
    /// Treat the failure as definite and call send() again with the same
    /// record: a new send, with a new sequence number. A failure that was
    /// not definite (the write landed) becomes a second copy (KAFKA-13574).
    Resend,
}

/// A record's event time: when the thing it describes happened. By default
/// the moment the application calls send().
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EventTimeSpec {
    /// The event happened this long before send() (a device buffering, a
    /// slow upstream).
    pub delay: Option<Dist>,
    /// The producer's clock runs this far behind (negative: ahead).
    pub skew_us: i64,
    /// Periodically offline: events that happen during `for` are held and
    /// sent together when the client is back.
    pub offline: Option<Offline>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offline {
    pub every: Duration,
    pub duration: Duration,
}

/// A windowed count over event time, fed by the group's sink effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggregateSpec {
    pub window: WindowKind,
    /// Bounded out-of-orderness: the watermark trails the largest event
    /// time seen by this much.
    pub watermark_delay: Duration,
    /// A fired window still takes late events (and emits a correction)
    /// until the watermark passes its end plus this.
    pub allowed_lateness: Duration,
    pub late: LatePolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    Tumbling {
        size: Duration,
    },
    Sliding {
        size: Duration,
        slide: Duration,
    },
    /// Per key: events closer than `gap` belong to one session.
    Session {
        gap: Duration,
    },
}

/// What happens to an event that arrives after its window closed for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatePolicy {
    /// Dropped: the window's result stays as fired.
    Drop,
    /// Counted anyway: the window fires again with a correction.
    Correct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: no response awaited.
    Zero,
    /// `acks=1`: the leader's append is enough.
    One,
    /// `acks=all` (or `-1`): every in-sync replica has the record.
    All,
}

/// Producer configs, resolved (Kafka 3.x/4.x defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct ProducerConfig {
    pub acks: Acks,
    /// Effective idempotence, after Kafka's rules (default on; silently off when
    /// conflicting configs are explicit and idempotence itself is not).
    pub enable_idempotence: bool,
    pub retries: u32,
    pub max_in_flight_requests_per_connection: u32,
    pub delivery_timeout: Duration,
    pub request_timeout: Duration,
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (KIP-580): retries back off exponentially up to it.
    pub retry_backoff_max: Duration,
    /// `reconnect.backoff.ms` / `reconnect.backoff.max.ms` (ClusterConnectionStates).
    pub reconnect_backoff: Duration,
    pub reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms` / `.max.ms`: a connect with no answer fails after it.
    pub connection_setup_timeout: Duration,
    pub connection_setup_timeout_max: Duration,
    pub linger: Duration,
    /// How null keys pick a partition (by `kafka_version`).
    pub partitioner: Partitioner,
    pub batch_size: u32,
    pub buffer_memory: u64,
    pub max_block: Duration,
    /// `max.request.size`: the bytes of batches one produce request may carry
    /// (one batch larger than it still goes, alone).
    pub max_request_size: u32,
    /// `producer_byte_rate` for this producer's client id (each instance its
    /// own), over the broker default; bytes/s per broker.
    pub producer_byte_rate: Option<u64>,
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: the coordinator aborts a transaction open longer.
    pub transaction_timeout: Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            enable_idempotence: true,
            retries: i32::MAX as u32,
            max_in_flight_requests_per_connection: 5,
            delivery_timeout: Duration::from_ms(120_000),
            request_timeout: Duration::from_ms(30_000),
            retry_backoff: Duration::from_ms(100),
            retry_backoff_max: Duration::from_ms(1000),
            reconnect_backoff: Duration::from_ms(50),
            reconnect_backoff_max: Duration::from_ms(1000),
            connection_setup_timeout: Duration::from_ms(10_000),
            connection_setup_timeout_max: Duration::from_ms(30_000),
            linger: Duration::from_ms(5),
            partitioner: Partitioner::BuiltIn,
            batch_size: 16_384,
            buffer_memory: 33_554_432,
            max_block: Duration::from_ms(60_000),
            max_request_size: 1_048_576,
            producer_byte_rate: None,
            transactional_id: None,
            transaction_timeout: Duration::from_ms(60_000),
        }
    }
}

/// A Kafka release `major.minor`: selects the defaults that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KafkaVersion {
    pub major: u32,
    pub minor: u32,
}

impl KafkaVersion {
    /// The newest release whose defaults streamsim models (the default).
    pub const NEWEST: KafkaVersion = KafkaVersion { major: 4, minor: 1 };
    /// The oldest accepted: KIP-480's sticky partitioner (2.4) onwards.
    pub const OLDEST: KafkaVersion = KafkaVersion { major: 2, minor: 4 };

    pub const fn at_least(self, major: u32, minor: u32) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }

    /// The `transaction.version` a new cluster of this release bootstraps:
    /// 2 from 4.0 (KIP-890 part 2), none (0) before.
    pub const fn transaction_version(self) -> u8 {
        if self.at_least(4, 0) {
            2
        } else {
            0
        }
    }
}

impl std::fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl ProducerConfig {
    /// The producer defaults of Kafka `v`: acks=all and idempotence since
    /// 3.0 (KIP-679; acks=1 and no idempotence before), the built-in
    /// partitioner since 3.3 (KIP-794), exponential retry backoff since 3.7
    /// (KIP-580; a constant retry.backoff.ms before), linger.ms 5 since 4.0
    /// (KIP-1030; 0 before).
    pub fn for_version(v: KafkaVersion) -> ProducerConfig {
        let mut c = ProducerConfig::default();
        if !v.at_least(3, 0) {
            c.acks = Acks::One;
            c.enable_idempotence = false;
        }
        if !v.at_least(3, 3) {
            c.partitioner = Partitioner::Sticky;
        }
        if !v.at_least(3, 7) {
            c.retry_backoff_max = c.retry_backoff;
        }
        if !v.at_least(4, 0) {
            c.linger = Duration::ZERO;
        }
        c
    }
}

/// The partitioner for null keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioner {
    /// KIP-480 (Kafka 2.4 to 3.2): switch when a new batch is made.
    Sticky,
    /// KIP-794 (Kafka 3.3+, `BuiltInPartitioner`): switch after `batch.size` bytes.
    BuiltIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitMode {
    /// commitSync of the batch's offsets right after poll, before processing: at-most-once.
    BeforeProcessing,
    /// commitSync after the whole batch is processed: at-least-once.
    AfterProcessing,
    /// `enable.auto.commit=true`: commitAsync inside poll every `auto.commit.interval.ms`.
    Auto,
    /// Results and offsets committed in one Kafka transaction
    /// (sendOffsetsToTransaction, then commitTransaction): exactly-once.
    Transactional,
}

impl CommitMode {
    pub fn name(self) -> &'static str {
        match self {
            CommitMode::BeforeProcessing => "before-processing",
            CommitMode::AfterProcessing => "after-processing",
            CommitMode::Auto => "auto",
            CommitMode::Transactional => "transactional",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkKind {
    /// Every processing is an effect: a redelivery is a duplicate.
    Plain,
    /// Upsert by record id: redeliveries are absorbed.
    Idempotent,
    /// An output written inside the consumer's transaction: its results
    /// become visible when the transaction commits, never when it aborts.
    Transactional,
}

impl SinkKind {
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Plain => "plain",
            SinkKind::Idempotent => "idempotent",
            SinkKind::Transactional => "transactional",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    Earliest,
    Latest,
    /// `none`: a partition with no committed offset is an error for the consumer;
    /// streamsim's consumer then stays idle on that partition.
    None,
}

impl OffsetReset {
    /// The config value: `earliest`, `latest` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
            OffsetReset::None => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsolationLevel {
    ReadUncommitted,
    ReadCommitted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignor {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

impl ConsumerConfig {
    /// The assignor a group of these consumers uses: the first listed (every
    /// member lists the same, so it is everyone's first choice).
    pub fn assignor(&self) -> Assignor {
        self.partition_assignment_strategy.first().copied().unwrap_or(Assignor::Range)
    }
    /// The cooperative rebalance protocol needs every listed assignor to
    /// support it (Kafka picks the highest protocol all of them support):
    /// only a list of cooperative-sticky alone is cooperative.
    pub fn cooperative(&self) -> bool {
        !self.partition_assignment_strategy.is_empty()
            && self.partition_assignment_strategy.iter().all(|a| *a == Assignor::CooperativeSticky)
    }
}

/// Which client library a producer or consumer runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// The Apache Kafka Java client.
    Java,
    /// librdkafka (confluent-kafka-python, -go, -dotnet, kcat).
    Librdkafka,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::Java => "java",
            Client::Librdkafka => "librdkafka",
        }
    }

    /// How messages call it: "the Java client", "librdkafka".
    pub fn noun(self) -> &'static str {
        match self {
            Client::Java => "the Java client",
            Client::Librdkafka => "librdkafka",
        }
    }
}

/// Consumer configs, resolved (Kafka 3.x/4.x defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerConfig {
    /// `client:` of the group entry: whose consumer this is.
    pub client: Client,
    /// librdkafka's `enable.auto.offset.store` (true): the offset of each message is stored
    /// when it is returned to the application, and the auto-commit timer commits what is
    /// stored; false: the application stores each offset after processing it.
    pub enable_auto_offset_store: bool,
    pub enable_auto_commit: bool,
    pub auto_commit_interval: Duration,
    pub auto_offset_reset: OffsetReset,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub max_poll_interval: Duration,
    pub max_poll_records: u32,
    pub isolation_level: IsolationLevel,
    /// In preference order; the group uses the first one.
    pub partition_assignment_strategy: Vec<Assignor>,
    pub fetch_max_wait: Duration,
    pub max_partition_fetch_bytes: u32,
    /// `fetch.max.bytes` (52428800): the most one fetch's answer carries.
    pub fetch_max_bytes: u32,
    /// `fetch.min.bytes` (1): the data a broker waits for before answering.
    pub fetch_min_bytes: u32,
    /// `consumer_byte_rate` for this consumer's client id (each instance its
    /// own), over the broker default; a client quota, not a client config.
    pub consumer_byte_rate: Option<u64>,
    pub request_timeout: Duration,
    pub retry_backoff: Duration,
    /// `group.instance.id` (unset): static membership (KIP-345); instance
    /// `i` of the group uses `{group.instance.id}-{i}`.
    pub group_instance_id: Option<String>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            client: Client::Java,
            enable_auto_offset_store: true,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_ms(5_000),
            auto_offset_reset: OffsetReset::Latest,
            session_timeout: Duration::from_ms(45_000),
            heartbeat_interval: Duration::from_ms(3_000),
            max_poll_interval: Duration::from_ms(300_000),
            max_poll_records: 500,
            isolation_level: IsolationLevel::ReadUncommitted,
            partition_assignment_strategy: vec![Assignor::Range, Assignor::CooperativeSticky],
            fetch_max_wait: Duration::from_ms(500),
            max_partition_fetch_bytes: 1_048_576,
            fetch_max_bytes: 52_428_800,
            fetch_min_bytes: 1,
            consumer_byte_rate: None,
            request_timeout: Duration::from_ms(30_000),
            retry_backoff: Duration::from_ms(100),
            group_instance_id: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerSpec {
    /// The group id; instances are named `{group}-0`, `{group}-1`, ...
    pub group: String,
    /// Index into `Scenario::topics`.
    pub topic: usize,
    /// Instances running from the start.
    pub instances: u32,
    /// Instances that exist at all: `instances` plus those a `start:` or
    /// `scale:` fault brings up later (never fewer than `instances`).
    pub slots: u32,
    pub processing_time: Dist,
    /// Whether records are processed inside the poll loop or by a worker.
    pub processing: Processing,
    pub commit: CommitMode,
    /// `commit: after-processing`: commit after each record or each batch.
    pub commit_every: CommitEvery,
    /// `commit: after-processing`: commitAsync instead of commitSync.
    pub commit_async: bool,
    /// `commit: transactional`: what the application does after an abort.
    pub on_abort: OnAbort,
    pub sink: SinkKind,
    /// An optional windowed aggregation over the group's sink.
    pub aggregate: Option<AggregateSpec>,
    pub config: ConsumerConfig,
}

/// What a transactional consumer's application does after abortTransaction
/// (`on_abort:`). Kafka's consumer does not move its position when the
/// producer aborts: the application must seek (KAFKA-17582).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnAbort {
    /// Seek every assigned partition back to its committed offset (Kafka's
    /// `ExactlyOnceMessageProcessor.resetToLastCommittedPositions`): the
    /// aborted batch is processed again.
    Rewind,
    /// No seek: poll() goes on from the position past the aborted batch,
    /// whose results were dropped with the transaction.
    Continue,
}

/// How often `commit: after-processing` commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitEvery {
    /// After each poll's batch (the usual loop).
    Batch,
    /// After each record: fewer records processed twice after a crash, one commit round trip per record.
    Record,
}

/// Where a consumer processes its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processing {
    /// In the poll loop: poll() is not called again until the batch is done.
    Sync,
    /// poll() hands the batch to a worker queue and polls on at once; the
    /// worker processes the queue one record at a time.
    Async,
}

/// An entity a fault can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `broker-N`.
    Broker(u32),
    /// A producer instance: (index into `producers`, instance number).
    Producer(usize, u32),
    /// A consumer instance: (index into `consumers`, instance number).
    Consumer(usize, u32),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    Crash(Target),
    /// A broker crash that also loses the log tail it did not know to be
    /// replicated (power loss with an unflushed page cache):
    /// `{ at: 20s, crash: broker-0, lose: unflushed }`.
    PowerLoss(Target),
    /// The entity's machine is gone (power loss, a kernel panic): nothing
    /// answers, no connection is reset, and a broker loses its page cache:
    /// `{ at: 20s, host_crash: broker-0 }`.
    HostCrash(Target),
    Restart(Target),
    /// The process stops running for `for` (GC pause, VM freeze).
    Pause(Target, Duration),
    /// A consumer's application slows down, the process does not: each record whose processing
    /// starts during `for` takes `processing_time` instead of a draw of the group's
    /// distribution, while the heartbeat thread keeps the session alive (KIP-62):
    /// `{ at: 20s, slow: orders-0, for: 30s, processing_time: 45ms }`.
    Slow {
        target: Target,
        span: Duration,
        processing: Duration,
    },
    /// The listed entities cannot reach each other for `for`: their
    /// connections stall (`world::stall`).
    Partition(Vec<Target>, Duration),
    /// A consumer instance starts: a new member joins its group.
    Start(Target),
    /// A consumer instance shuts down cleanly: close() commits (with
    /// auto-commit) and leaves the group at once.
    Stop(Target),
    /// Run this many instances of consumer group N: the loader turns it into
    /// `Start`s of the lowest-numbered stopped instances or `Stop`s of the
    /// highest-numbered running ones, so a run never sees it.
    Scale(usize, u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub at: Instant,
    pub action: FaultAction,
}

/// Which entities a kind of chaos may hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChaosTargets {
    pub brokers: bool,
    pub producers: bool,
    pub consumers: bool,
}

/// One kind of random fault: Poisson arrivals at `rate`, each lasting `length`
/// (down time for crashes, the pause or partition length otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosKind {
    pub rate: Rate,
    pub length: Dist,
    pub targets: ChaosTargets,
}

/// `chaos:` — random faults drawn from the scenario seed between `from` and `until`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosSpec {
    pub from: Instant,
    pub until: Instant,
    pub crash: Option<ChaosKind>,
    pub pause: Option<ChaosKind>,
    pub partition: Option<ChaosKind>,
    /// Host crashes, each with its restart (`host_crash: { rate, down }`).
    pub host_crash: Option<ChaosKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn holds(self, actual: f64, expected: f64) -> bool {
        match self {
            Cmp::Eq => actual == expected,
            Cmp::Ne => actual != expected,
            Cmp::Lt => actual < expected,
            Cmp::Le => actual <= expected,
            Cmp::Gt => actual > expected,
            Cmp::Ge => actual >= expected,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// One `expect:` line, e.g. `duplicates: "> 0"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// A metric name from `oracle::metrics::METRICS`, e.g. `lost` or `latency_ms.p99`.
    pub name: String,
    pub cmp: Cmp,
    pub value: f64,
    /// As written in the file, for reports ("> 0").
    pub text: String,
}
