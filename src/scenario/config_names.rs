//! Kafka's config names, per section, in three sets: the ones streamsim
//! models, the real ones it does not (accepted with a warning), and anything
//! else (an error with a suggestion).
//!
//! The "known" lists come from Apache Kafka's `ProducerConfig`,
//! `ConsumerConfig`, `CommonClientConfigs`, `SslConfigs`, `SaslConfigs`,
//! `TopicConfig` and the broker configs documented for Kafka 3.x/4.x (names
//! removed in 4.0, such as the ZooKeeper ones, are kept: files written for 3.x
//! should still load).

/// A `config:` section of the scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Producer,
    Consumer,
    Topic,
    Broker,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::Producer, Section::Consumer, Section::Topic, Section::Broker];

    /// "producer", as in "a real Kafka producer config".
    pub fn noun(self) -> &'static str {
        match self {
            Section::Producer => "producer",
            Section::Consumer => "consumer",
            Section::Topic => "topic",
            Section::Broker => "broker",
        }
    }

    /// Where configs of this section go in a scenario file.
    pub fn home(self) -> &'static str {
        match self {
            Section::Producer => "a producer's `config:`",
            Section::Consumer => "a consumer's `config:`",
            Section::Topic => "a topic's `config:`",
            Section::Broker => "`broker_config:`",
        }
    }

    /// Names streamsim reads and simulates.
    pub fn modelled(self) -> &'static [&'static str] {
        match self {
            Section::Producer => PRODUCER_MODELLED,
            Section::Consumer => CONSUMER_MODELLED,
            Section::Topic => TOPIC_MODELLED,
            Section::Broker => BROKER_MODELLED,
        }
    }

    /// Real Kafka names of this section that streamsim ignores.
    pub fn is_known(self, name: &str) -> bool {
        let lists: &[&[&str]] = match self {
            Section::Producer => &[PRODUCER_KNOWN, CLIENT_COMMON, CLIENT_SSL, CLIENT_SASL],
            Section::Consumer => &[CONSUMER_KNOWN, CLIENT_COMMON, CLIENT_SSL, CLIENT_SASL],
            Section::Topic => &[TOPIC_KNOWN],
            Section::Broker => &[BROKER_KNOWN, CLIENT_SSL, CLIENT_SASL, BROKER_SECURITY],
        };
        lists.iter().any(|l| l.contains(&name))
    }

    pub fn is_modelled(self, name: &str) -> bool {
        self.modelled().contains(&name)
    }

    /// Modelled and known names together, for suggestions.
    pub fn all_names(self) -> Vec<&'static str> {
        let lists: &[&[&str]] = match self {
            Section::Producer => &[PRODUCER_MODELLED, PRODUCER_KNOWN, CLIENT_COMMON, CLIENT_SSL, CLIENT_SASL],
            Section::Consumer => &[CONSUMER_MODELLED, CONSUMER_KNOWN, CLIENT_COMMON, CLIENT_SSL, CLIENT_SASL],
            Section::Topic => &[TOPIC_MODELLED, TOPIC_KNOWN],
            Section::Broker => &[BROKER_MODELLED, BROKER_KNOWN, CLIENT_SSL, CLIENT_SASL, BROKER_SECURITY],
        };
        lists.iter().flat_map(|l| l.iter().copied()).collect()
    }

    /// Does Kafka have this name in this section at all?
    pub fn has(self, name: &str) -> bool {
        self.is_modelled(name) || self.is_known(name)
    }
}

pub(crate) const PRODUCER_MODELLED: &[&str] = &[
    "acks",
    "enable.idempotence",
    "retries",
    "max.in.flight.requests.per.connection",
    "delivery.timeout.ms",
    "request.timeout.ms",
    "retry.backoff.ms",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "max.block.ms",
    "max.request.size",
    "producer_byte_rate",
    "transactional.id",
    "transaction.timeout.ms",
];

pub(crate) const CONSUMER_MODELLED: &[&str] = &[
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "max.poll.records",
    "isolation.level",
    "partition.assignment.strategy",
    "fetch.max.wait.ms",
    "max.partition.fetch.bytes",
    "fetch.max.bytes",
    "fetch.min.bytes",
    "consumer_byte_rate",
    "request.timeout.ms",
    "retry.backoff.ms",
    "group.id",
    "group.instance.id",
    "enable.auto.offset.store",
];

pub(crate) const TOPIC_MODELLED: &[&str] =
    &["min.insync.replicas", "unclean.leader.election.enable", "replica.lag.time.max.ms"];

pub(crate) const BROKER_MODELLED: &[&str] = &[
    "broker.session.timeout.ms",
    "group.initial.rebalance.delay.ms",
    "replica.fetch.wait.max.ms",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "replica.lag.time.max.ms",
    "default.replication.factor",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "vm.dirty_writeback_centisecs",
    "vm.dirty_expire_centisecs",
    "eligible.leader.replicas.version",
    "transaction.version",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "producer_byte_rate",
    "consumer_byte_rate",
    "quota.window.num",
    "quota.window.size.seconds",
];

/// Configs every Java client (producer and consumer) has.
const CLIENT_COMMON: &[&str] = &[
    "bootstrap.servers",
    "client.dns.lookup",
    "client.id",
    "config.providers",
    "connections.max.idle.ms",
    "enable.metrics.push",
    "interceptor.classes",
    "metadata.max.age.ms",
    "metadata.recovery.rebootstrap.trigger.ms",
    "metadata.recovery.strategy",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "receive.buffer.bytes",
    "reconnect.backoff.max.ms",
    "reconnect.backoff.ms",
    "request.timeout.ms",
    "retry.backoff.max.ms",
    "retry.backoff.ms",
    "security.protocol",
    "security.providers",
    "send.buffer.bytes",
    "socket.connection.setup.timeout.max.ms",
    "socket.connection.setup.timeout.ms",
    "auto.include.jmx.reporter",
];

const PRODUCER_KNOWN: &[&str] = &[
    "compression.type",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.zstd.level",
    "key.serializer",
    "value.serializer",
    "metadata.max.idle.ms",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "partitioner.class",
    "partitioner.ignore.keys",
    "transaction.two.phase.commit.enable",
];

const CONSUMER_KNOWN: &[&str] = &[
    "allow.auto.create.topics",
    "check.crcs",
    "client.rack",
    "default.api.timeout.ms",
    "exclude.internal.topics",
    "group.protocol",
    "group.remote.assignor",
    "key.deserializer",
    "value.deserializer",
    "share.acknowledgement.mode",
];

const CLIENT_SSL: &[&str] = &[
    "ssl.cipher.suites",
    "ssl.enabled.protocols",
    "ssl.endpoint.identification.algorithm",
    "ssl.engine.factory.class",
    "ssl.key.password",
    "ssl.keymanager.algorithm",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.type",
    "ssl.protocol",
    "ssl.provider",
    "ssl.secure.random.implementation",
    "ssl.trustmanager.algorithm",
    "ssl.truststore.certificates",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.truststore.type",
];

const CLIENT_SASL: &[&str] = &[
    "sasl.client.callback.handler.class",
    "sasl.jaas.config",
    "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.kerberos.service.name",
    "sasl.kerberos.ticket.renew.jitter",
    "sasl.kerberos.ticket.renew.window.factor",
    "sasl.login.callback.handler.class",
    "sasl.login.class",
    "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms",
    "sasl.login.refresh.buffer.seconds",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.login.retry.backoff.max.ms",
    "sasl.login.retry.backoff.ms",
    "sasl.mechanism",
    "sasl.oauthbearer.access.token.retriever.class",
    "sasl.oauthbearer.access.token.validator.class",
    "sasl.oauthbearer.assertion.algorithm",
    "sasl.oauthbearer.assertion.claim.aud",
    "sasl.oauthbearer.assertion.claim.exp.seconds",
    "sasl.oauthbearer.assertion.claim.iss",
    "sasl.oauthbearer.assertion.claim.jti.include",
    "sasl.oauthbearer.assertion.claim.nbf.seconds",
    "sasl.oauthbearer.assertion.claim.sub",
    "sasl.oauthbearer.assertion.file",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.template.file",
    "sasl.oauthbearer.client.credentials.client.id",
    "sasl.oauthbearer.client.credentials.client.secret",
    "sasl.oauthbearer.clock.skew.seconds",
    "sasl.oauthbearer.expected.audience",
    "sasl.oauthbearer.expected.issuer",
    "sasl.oauthbearer.header.urlencode",
    "sasl.oauthbearer.jwks.endpoint.refresh.ms",
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
    "sasl.oauthbearer.jwks.endpoint.url",
    "sasl.oauthbearer.jwt.retriever.class",
    "sasl.oauthbearer.jwt.validator.class",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.scope.claim.name",
    "sasl.oauthbearer.sub.claim.name",
    "sasl.oauthbearer.token.endpoint.url",
];

/// Topic-level configs (`TopicConfig`), less the modelled ones.
const TOPIC_KNOWN: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
];

/// Broker-side security configs beyond the client ones.
const BROKER_SECURITY: &[&str] = &[
    "authorizer.class.name",
    "connection.failed.authentication.delay.ms",
    "connections.max.reauth.ms",
    "listener.security.protocol.map",
    "principal.builder.class",
    "sasl.enabled.mechanisms",
    "sasl.kerberos.principal.to.local.rules",
    "sasl.mechanism.controller.protocol",
    "sasl.mechanism.inter.broker.protocol",
    "sasl.server.callback.handler.class",
    "sasl.server.max.receive.size",
    "security.inter.broker.protocol",
    "security.providers",
    "ssl.allow.dn.changes",
    "ssl.allow.san.changes",
    "ssl.client.auth",
    "ssl.principal.mapping.rules",
    "super.users",
];

/// Broker configs (KRaft and, for 3.x files, ZooKeeper mode), less the modelled ones.
const BROKER_KNOWN: &[&str] = &[
    "advertised.listeners",
    "alter.config.policy.class.name",
    "alter.log.dirs.replication.quota.window.num",
    "alter.log.dirs.replication.quota.window.size.seconds",
    "auto.create.topics.enable",
    "auto.include.jmx.reporter",
    "auto.leader.rebalance.enable",
    "background.threads",
    "broker.heartbeat.interval.ms",
    "broker.id",
    "broker.id.generation.enable",
    "broker.rack",
    "client.quota.callback.class",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "config.providers",
    "connections.max.idle.ms",
    "controlled.shutdown.enable",
    "controlled.shutdown.max.retries",
    "controlled.shutdown.retry.backoff.ms",
    "controller.listener.names",
    "controller.performance.always.log.threshold.ms",
    "controller.performance.sample.period.ms",
    "controller.quorum.append.linger.ms",
    "controller.quorum.bootstrap.servers",
    "controller.quorum.election.backoff.max.ms",
    "controller.quorum.election.timeout.ms",
    "controller.quorum.fetch.timeout.ms",
    "controller.quorum.request.timeout.ms",
    "controller.quorum.retry.backoff.ms",
    "controller.quorum.voters",
    "controller.quota.window.num",
    "controller.quota.window.size.seconds",
    "controller.socket.timeout.ms",
    "create.topic.policy.class.name",
    "delegation.token.expiry.check.interval.ms",
    "delegation.token.expiry.time.ms",
    "delegation.token.master.key",
    "delegation.token.max.lifetime.ms",
    "delegation.token.secret.key",
    "delete.records.purgatory.purge.interval.requests",
    "delete.topic.enable",
    "early.start.listeners",
    "fetch.max.bytes",
    "fetch.purgatory.purge.interval.requests",
    "group.consumer.assignors",
    "group.consumer.heartbeat.interval.ms",
    "group.consumer.max.heartbeat.interval.ms",
    "group.consumer.max.session.timeout.ms",
    "group.consumer.max.size",
    "group.consumer.migration.policy",
    "group.consumer.min.heartbeat.interval.ms",
    "group.consumer.min.session.timeout.ms",
    "group.consumer.session.timeout.ms",
    "group.coordinator.append.linger.ms",
    "group.coordinator.rebalance.protocols",
    "group.coordinator.threads",
    "group.max.session.timeout.ms",
    "group.max.size",
    "group.min.session.timeout.ms",
    "group.share.delivery.count.limit",
    "group.share.enable",
    "group.share.heartbeat.interval.ms",
    "group.share.max.groups",
    "group.share.max.size",
    "group.share.partition.max.record.locks",
    "group.share.record.lock.duration.ms",
    "group.share.session.timeout.ms",
    "initial.broker.registration.timeout.ms",
    "inter.broker.listener.name",
    "inter.broker.protocol.version",
    "kafka.metrics.polling.interval.secs",
    "kafka.metrics.reporters",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "listeners",
    "log.cleaner.backoff.ms",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.enable",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.max.compaction.lag.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.threads",
    "log.cleanup.policy",
    "log.dir",
    "log.dir.failure.timeout.ms",
    "log.dirs",
    "log.flush.offset.checkpoint.interval.ms",
    "log.flush.scheduler.interval.ms",
    "log.flush.start.offset.checkpoint.interval.ms",
    "log.index.interval.bytes",
    "log.index.size.max.bytes",
    "log.initial.task.delay.ms",
    "log.local.retention.bytes",
    "log.local.retention.ms",
    "log.message.downconversion.enable",
    "log.message.format.version",
    "log.message.timestamp.after.max.ms",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.difference.max.ms",
    "log.message.timestamp.type",
    "log.preallocate",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.retention.hours",
    "log.retention.minutes",
    "log.retention.ms",
    "log.roll.hours",
    "log.roll.jitter.hours",
    "log.roll.jitter.ms",
    "log.roll.ms",
    "log.segment.bytes",
    "log.segment.delete.delay.ms",
    "max.connection.creation.rate",
    "max.connections",
    "max.connections.per.ip",
    "max.connections.per.ip.overrides",
    "max.incremental.fetch.session.cache.slots",
    "max.request.partition.size.limit",
    "message.max.bytes",
    "metadata.log.dir",
    "metadata.log.max.record.bytes.between.snapshots",
    "metadata.log.max.snapshot.interval.ms",
    "metadata.log.segment.bytes",
    "metadata.log.segment.ms",
    "metadata.max.idle.interval.ms",
    "metadata.max.retention.bytes",
    "metadata.max.retention.ms",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "node.id",
    "num.io.threads",
    "num.network.threads",
    "num.partitions",
    "num.recovery.threads.per.data.dir",
    "num.replica.alter.log.dirs.threads",
    "num.replica.fetchers",
    "offset.metadata.max.bytes",
    "offsets.commit.required.acks",
    "offsets.commit.timeout.ms",
    "offsets.load.buffer.size",
    "offsets.retention.check.interval.ms",
    "offsets.retention.minutes",
    "offsets.topic.compression.codec",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "offsets.topic.segment.bytes",
    "password.encoder.cipher.algorithm",
    "password.encoder.iterations",
    "password.encoder.key.length",
    "password.encoder.keyfactory.algorithm",
    "password.encoder.old.secret",
    "password.encoder.secret",
    "process.roles",
    "producer.id.expiration.check.interval.ms",
    "producer.id.expiration.ms",
    "producer.purgatory.purge.interval.requests",
    "queued.max.request.bytes",
    "queued.max.requests",
    "remote.fetch.max.wait.ms",
    "remote.log.index.file.cache.total.size.bytes",
    "remote.log.manager.copier.thread.pool.size",
    "remote.log.manager.copy.max.bytes.per.second",
    "remote.log.manager.copy.quota.window.num",
    "remote.log.manager.copy.quota.window.size.seconds",
    "remote.log.manager.expiration.thread.pool.size",
    "remote.log.manager.fetch.max.bytes.per.second",
    "remote.log.manager.fetch.quota.window.num",
    "remote.log.manager.fetch.quota.window.size.seconds",
    "remote.log.manager.task.interval.ms",
    "remote.log.manager.thread.pool.size",
    "remote.log.metadata.custom.metadata.max.bytes",
    "remote.log.metadata.manager.class.name",
    "remote.log.metadata.manager.class.path",
    "remote.log.metadata.manager.impl.prefix",
    "remote.log.metadata.manager.listener.name",
    "remote.log.reader.max.pending.tasks",
    "remote.log.reader.threads",
    "remote.log.storage.manager.class.name",
    "remote.log.storage.manager.class.path",
    "remote.log.storage.manager.impl.prefix",
    "remote.log.storage.system.enable",
    "replica.fetch.backoff.ms",
    "replica.fetch.max.bytes",
    "replica.fetch.min.bytes",
    "replica.fetch.response.max.bytes",
    "replica.high.watermark.checkpoint.interval.ms",
    "replica.selector.class",
    "replica.socket.receive.buffer.bytes",
    "replica.socket.timeout.ms",
    "replication.quota.window.num",
    "replication.quota.window.size.seconds",
    "request.timeout.ms",
    "reserved.broker.max.id",
    "server.max.startup.time.ms",
    "socket.connection.setup.timeout.max.ms",
    "socket.connection.setup.timeout.ms",
    "socket.listen.backlog.size",
    "socket.receive.buffer.bytes",
    "socket.request.max.bytes",
    "socket.send.buffer.bytes",
    "telemetry.max.bytes",
    "transaction.max.timeout.ms",
    "transaction.partition.verification.enable",
    "transaction.remove.expired.transaction.cleanup.interval.ms",
    "transaction.state.log.load.buffer.size",
    "transaction.state.log.min.isr",
    "transaction.state.log.num.partitions",
    "transaction.state.log.replication.factor",
    "transaction.state.log.segment.bytes",
    "transactional.id.expiration.ms",
    "unstable.api.versions.enable",
    "unstable.feature.versions.enable",
    "zookeeper.clientCnxnSocket",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
    "zookeeper.max.in.flight.requests",
    "zookeeper.metadata.migration.enable",
    "zookeeper.session.timeout.ms",
    "zookeeper.set.acl",
    "zookeeper.ssl.client.enable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_do_not_overlap_within_a_section() {
        for s in Section::ALL {
            for m in s.modelled() {
                assert!(!s.is_known(m) || *m == "request.timeout.ms" || *m == "retry.backoff.ms", "{m} in {s:?}");
            }
        }
    }

    #[test]
    fn lookups() {
        assert!(Section::Producer.is_modelled("acks"));
        assert!(Section::Producer.is_known("bootstrap.servers"));
        assert!(!Section::Producer.has("group.id"));
        assert!(Section::Consumer.has("group.id"));
        assert!(Section::Topic.is_known("retention.ms"));
        assert!(Section::Broker.is_known("num.network.threads"));
        assert!(!Section::Topic.has("num.network.threads"));
        assert!(Section::Broker.all_names().contains(&"default.replication.factor"));
    }
}
