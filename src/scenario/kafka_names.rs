//! Kafka's config names, by section: those streamsim models, and the real ones
//! it accepts but ignores (with a warning). Any other name is an error.

pub const PRODUCER_MODELLED: &[&str] = &[
    "acks",
    "batch.size",
    "delivery.timeout.ms",
    "enable.idempotence",
    "linger.ms",
    "max.in.flight.requests.per.connection",
    "request.timeout.ms",
    "retries",
    "retry.backoff.ms",
    "transactional.id",
];

pub const PRODUCER_KNOWN: &[&str] = &[
    "auto.include.jmx.reporter",
    "bootstrap.servers",
    "buffer.memory",
    "client.dns.lookup",
    "client.id",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "connections.max.idle.ms",
    "enable.metrics.push",
    "interceptor.classes",
    "key.serializer",
    "max.block.ms",
    "max.request.size",
    "metadata.max.age.ms",
    "metadata.max.idle.ms",
    "metadata.recovery.rebootstrap.trigger.ms",
    "metadata.recovery.strategy",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "partitioner.class",
    "partitioner.ignore.keys",
    "receive.buffer.bytes",
    "reconnect.backoff.max.ms",
    "reconnect.backoff.ms",
    "retry.backoff.max.ms",
    "security.protocol",
    "security.providers",
    "send.buffer.bytes",
    "socket.connection.setup.timeout.max.ms",
    "socket.connection.setup.timeout.ms",
    "transaction.timeout.ms",
    "value.serializer",
];

pub const CONSUMER_MODELLED: &[&str] = &[
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "enable.auto.commit",
    "fetch.max.wait.ms",
    "group.id",
    "heartbeat.interval.ms",
    "isolation.level",
    "max.partition.fetch.bytes",
    "max.poll.interval.ms",
    "max.poll.records",
    "partition.assignment.strategy",
    "request.timeout.ms",
    "retry.backoff.ms",
    "session.timeout.ms",
];

pub const CONSUMER_KNOWN: &[&str] = &[
    "allow.auto.create.topics",
    "auto.include.jmx.reporter",
    "bootstrap.servers",
    "check.crcs",
    "client.dns.lookup",
    "client.id",
    "client.rack",
    "connections.max.idle.ms",
    "default.api.timeout.ms",
    "enable.metrics.push",
    "exclude.internal.topics",
    "fetch.max.bytes",
    "fetch.min.bytes",
    "group.instance.id",
    "group.protocol",
    "group.remote.assignor",
    "interceptor.classes",
    "key.deserializer",
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
    "retry.backoff.max.ms",
    "security.protocol",
    "security.providers",
    "send.buffer.bytes",
    "share.acknowledgement.mode",
    "socket.connection.setup.timeout.max.ms",
    "socket.connection.setup.timeout.ms",
    "value.deserializer",
];

pub const TOPIC_MODELLED: &[&str] =
    &["min.insync.replicas", "replica.lag.time.max.ms", "unclean.leader.election.enable"];

pub const TOPIC_KNOWN: &[&str] = &[
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

pub const BROKER_MODELLED: &[&str] = &[
    "broker.session.timeout.ms",
    "default.replication.factor",
    "group.initial.rebalance.delay.ms",
    "min.insync.replicas",
    "replica.fetch.wait.max.ms",
    "replica.lag.time.max.ms",
    "unclean.leader.election.enable",
];

pub const BROKER_KNOWN: &[&str] = &[
    "advertised.listeners",
    "auto.create.topics.enable",
    "auto.leader.rebalance.enable",
    "broker.heartbeat.interval.ms",
    "broker.id",
    "broker.rack",
    "compression.type",
    "controlled.shutdown.enable",
    "controller.listener.names",
    "controller.quorum.voters",
    "delete.topic.enable",
    "group.max.session.timeout.ms",
    "group.max.size",
    "group.min.session.timeout.ms",
    "inter.broker.listener.name",
    "leader.imbalance.check.interval.seconds",
    "listeners",
    "log.cleanup.policy",
    "log.dirs",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.retention.bytes",
    "log.retention.hours",
    "log.retention.ms",
    "log.segment.bytes",
    "message.max.bytes",
    "node.id",
    "num.io.threads",
    "num.network.threads",
    "num.partitions",
    "num.replica.fetchers",
    "offsets.retention.minutes",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "process.roles",
    "queued.max.requests",
    "replica.fetch.backoff.ms",
    "replica.fetch.max.bytes",
    "replica.fetch.min.bytes",
    "replica.socket.timeout.ms",
    "socket.receive.buffer.bytes",
    "socket.request.max.bytes",
    "socket.send.buffer.bytes",
    "transaction.max.timeout.ms",
    "transaction.state.log.min.isr",
    "transaction.state.log.replication.factor",
];

/// A section of Kafka configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Producer,
    Consumer,
    Topic,
    Broker,
}

impl Section {
    pub fn noun(self) -> &'static str {
        match self {
            Section::Producer => "producer",
            Section::Consumer => "consumer",
            Section::Topic => "topic",
            Section::Broker => "broker",
        }
    }
    pub fn modelled(self) -> &'static [&'static str] {
        match self {
            Section::Producer => PRODUCER_MODELLED,
            Section::Consumer => CONSUMER_MODELLED,
            Section::Topic => TOPIC_MODELLED,
            Section::Broker => BROKER_MODELLED,
        }
    }
    pub fn known(self) -> &'static [&'static str] {
        match self {
            Section::Producer => PRODUCER_KNOWN,
            Section::Consumer => CONSUMER_KNOWN,
            Section::Topic => TOPIC_KNOWN,
            Section::Broker => BROKER_KNOWN,
        }
    }
    /// Real Kafka names of this section that streamsim does not model.
    pub fn is_known_unmodelled(self, name: &str) -> bool {
        let security = matches!(self, Section::Producer | Section::Consumer)
            && (name.starts_with("ssl.") || name.starts_with("sasl."));
        security || self.known().contains(&name) || (self == Section::Topic && BROKER_KNOWN.contains(&name))
    }
    pub fn all_names(self) -> Vec<&'static str> {
        let mut v: Vec<&str> = self.modelled().iter().chain(self.known()).copied().collect();
        if self == Section::Topic {
            v.extend(BROKER_MODELLED.iter().copied());
        }
        v
    }
}

/// The other sections a name belongs to (to say "that is a consumer config").
pub fn sections_of(name: &str) -> Vec<Section> {
    [Section::Producer, Section::Consumer, Section::Topic, Section::Broker]
        .into_iter()
        .filter(|s| s.modelled().contains(&name) || s.known().contains(&name))
        .collect()
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate, if close enough to be what was meant.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("ack", Section::Producer.all_names()), Some("acks"));
        assert_eq!(suggest("enable.idempotance", Section::Producer.all_names()), Some("enable.idempotence"));
        assert_eq!(suggest("zzzzzz", Section::Producer.all_names()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn sections_are_recognised() {
        assert_eq!(sections_of("max.poll.records"), vec![Section::Consumer]);
        assert!(Section::Producer.is_known_unmodelled("bootstrap.servers"));
        assert!(Section::Producer.is_known_unmodelled("ssl.truststore.location"));
        assert!(!Section::Producer.is_known_unmodelled("acks"));
    }
}
