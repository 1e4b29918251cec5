//! `validate --effective`: every modelled config of every producer, consumer group, topic and
//! the brokers, with its value and where it came from: Kafka's default for the scenario's
//! `kafka_version`, the `semantics:` preset, the file, a command-line flag, or one of Kafka's
//! rules that adjusted it (e.g. delivery.timeout.ms raised to linger.ms + request.timeout.ms).

use super::config_names::Section;
use super::model::*;
use super::presets::{apply_preset, consumer_preset};
use super::yaml::{self, Node, Value};
use super::{OverrideKind, Overrides};
use crate::kernel::time::Duration;

/// One config of one entity.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EffectiveRow {
    /// `producer web`, `consumer analytics`, `topic clicks`, `brokers`.
    pub entity: String,
    pub name: &'static str,
    pub value: String,
    /// `default (Kafka 4.1)`, `preset (at-least-once)`, `file`, `flag (--producer-property acks=1)`, `rule`.
    pub source: String,
}

/// The rows of a loaded scenario; `source` is its YAML text (for what the file wrote).
pub fn effective(sc: &Scenario, source: &str, overrides: &Overrides) -> Vec<EffectiveRow> {
    let root = yaml::parse_document(source).ok().flatten().map(|d| d.root);
    let root = root.as_ref();
    let mut rows = Vec::new();
    let default_src = format!("default (Kafka {})", sc.kafka_version);
    let from = |written: bool, kind: OverrideKind, name: &str, preset: Option<Semantics>, differs: bool| {
        if let Some(o) = overrides.0.iter().rev().find(|o| o.kind == kind && o.key == name) {
            return format!("flag ({})", o.flag_text());
        }
        if written {
            return "file".to_string();
        }
        match preset {
            Some(s) => format!("preset ({})", s.name()),
            None if differs => "rule".to_string(),
            None => default_src.clone(),
        }
    };
    for (i, p) in sc.producers.iter().enumerate() {
        let written = config_keys(root, "producers", i);
        let base = ProducerConfig::for_version(sc.kafka_version);
        let mut preset = base.clone();
        if let Some(s) = sc.semantics {
            apply_preset(s, &p.name, &mut preset);
        }
        for &name in Section::Producer.modelled() {
            let value = producer_value(&p.config, name);
            let by_preset = sc.semantics.filter(|_| producer_value(&preset, name) != producer_value(&base, name));
            let differs = value != producer_value(&base, name);
            let source = from(written.iter().any(|k| k == name), OverrideKind::Producer, name, by_preset, differs);
            rows.push(EffectiveRow { entity: format!("producer {}", p.name), name, value, source });
        }
    }
    for (i, c) in sc.consumers.iter().enumerate() {
        let written = config_keys(root, "consumers", i);
        let base = consumer_base(sc.kafka_version);
        for &name in Section::Consumer.modelled() {
            if name == "enable.auto.offset.store" && c.config.client == Client::Java {
                continue;
            }
            let value = consumer_value(c, name);
            let by_preset = sc.semantics.filter(|s| consumer_preset_sets(*s, name));
            let differs = value != consumer_config_value(&base, name);
            // The group's id is its `group:` field.
            let in_file = name == "group.id" || written.iter().any(|k| k == name);
            let source = from(in_file, OverrideKind::Consumer, name, by_preset, differs);
            rows.push(EffectiveRow { entity: format!("consumer {}", c.group), name, value, source });
        }
    }
    for (i, t) in sc.topics.iter().enumerate() {
        let written = config_keys(root, "topics", i);
        let broker_written = broker_keys(root);
        for &name in Section::Topic.modelled() {
            let value = topic_value(&t.config, name);
            let in_file = written.iter().any(|k| k == name) || broker_written.iter().any(|k| k == name);
            let source = from(in_file, OverrideKind::Topic, name, None, false);
            rows.push(EffectiveRow { entity: format!("topic {}", t.name), name, value, source });
        }
    }
    let broker_written = broker_keys(root);
    for &name in Section::Broker.modelled() {
        let Some(value) = broker_value(&sc.broker_config, name) else { continue };
        let source = from(broker_written.iter().any(|k| k == name), OverrideKind::Broker, name, None, false);
        rows.push(EffectiveRow { entity: "brokers".to_string(), name, value, source });
    }
    rows
}

fn consumer_base(v: KafkaVersion) -> ConsumerConfig {
    let mut c = ConsumerConfig::default();
    if !v.at_least(3, 0) {
        c.session_timeout = Duration::from_ms(10_000);
    }
    c
}

fn consumer_preset_sets(s: Semantics, name: &str) -> bool {
    let p = consumer_preset(s);
    match name {
        "enable.auto.commit" | "auto.offset.reset" => true,
        "isolation.level" => p.isolation_level.is_some(),
        _ => false,
    }
}

fn map_keys(n: Option<&Node>) -> Vec<String> {
    match n.map(|n| &n.value) {
        Some(Value::Map(pairs)) => pairs
            .iter()
            .filter_map(|(k, _)| match &k.value {
                Value::Scalar { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn get<'n>(n: Option<&'n Node>, key: &str) -> Option<&'n Node> {
    match n.map(|n| &n.value) {
        Some(Value::Map(pairs)) => {
            pairs.iter().find(|(k, _)| matches!(&k.value, Value::Scalar { text, .. } if text == key)).map(|(_, v)| v)
        }
        _ => None,
    }
}

/// The keys the file wrote in `list[i].config`.
fn config_keys(root: Option<&Node>, list: &str, i: usize) -> Vec<String> {
    let item = match get(root, list).map(|n| &n.value) {
        Some(Value::Seq(items)) => items.get(i),
        _ => None,
    };
    map_keys(get(item, "config"))
}

fn broker_keys(root: Option<&Node>) -> Vec<String> {
    map_keys(get(root, "broker_config"))
}

fn ms(d: Duration) -> String {
    d.ms().to_string()
}

fn acks(a: Acks) -> &'static str {
    match a {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    }
}

/// A producer config's value as Kafka writes it.
pub fn producer_value(c: &ProducerConfig, name: &str) -> String {
    match name {
        "acks" => acks(c.acks).to_string(),
        "enable.idempotence" => c.enable_idempotence.to_string(),
        "retries" => c.retries.to_string(),
        "max.in.flight.requests.per.connection" => c.max_in_flight_requests_per_connection.to_string(),
        "delivery.timeout.ms" => ms(c.delivery_timeout),
        "request.timeout.ms" => ms(c.request_timeout),
        "retry.backoff.ms" => ms(c.retry_backoff),
        "linger.ms" => ms(c.linger),
        "batch.size" => c.batch_size.to_string(),
        "buffer.memory" => c.buffer_memory.to_string(),
        "max.block.ms" => ms(c.max_block),
        "transactional.id" => c.transactional_id.clone().unwrap_or_else(|| "null".to_string()),
        "transaction.timeout.ms" => ms(c.transaction_timeout),
        _ => "?".to_string(),
    }
}

fn consumer_value(c: &ConsumerSpec, name: &str) -> String {
    match name {
        "group.id" => c.group.clone(),
        _ => consumer_config_value(&c.config, name),
    }
}

fn assignor(a: Assignor) -> &'static str {
    match a {
        Assignor::Range => "range",
        Assignor::RoundRobin => "roundrobin",
        Assignor::Sticky => "sticky",
        Assignor::CooperativeSticky => "cooperative-sticky",
    }
}

/// A consumer config's value as Kafka writes it.
pub fn consumer_config_value(c: &ConsumerConfig, name: &str) -> String {
    match name {
        "enable.auto.commit" => c.enable_auto_commit.to_string(),
        "auto.commit.interval.ms" => ms(c.auto_commit_interval),
        "auto.offset.reset" => c.auto_offset_reset.name().to_string(),
        "session.timeout.ms" => ms(c.session_timeout),
        "heartbeat.interval.ms" => ms(c.heartbeat_interval),
        "max.poll.interval.ms" => ms(c.max_poll_interval),
        "max.poll.records" => c.max_poll_records.to_string(),
        "isolation.level" => match c.isolation_level {
            IsolationLevel::ReadCommitted => "read_committed".to_string(),
            IsolationLevel::ReadUncommitted => "read_uncommitted".to_string(),
        },
        "partition.assignment.strategy" => {
            c.partition_assignment_strategy.iter().map(|a| assignor(*a)).collect::<Vec<_>>().join(",")
        }
        "fetch.max.wait.ms" => ms(c.fetch_max_wait),
        "max.partition.fetch.bytes" => c.max_partition_fetch_bytes.to_string(),
        "fetch.max.bytes" => c.fetch_max_bytes.to_string(),
        "fetch.min.bytes" => c.fetch_min_bytes.to_string(),
        "consumer_byte_rate" => c.consumer_byte_rate.map_or("null".to_string(), |r| r.to_string()),
        "request.timeout.ms" => ms(c.request_timeout),
        "retry.backoff.ms" => ms(c.retry_backoff),
        "group.instance.id" => c.group_instance_id.clone().unwrap_or_else(|| "null".to_string()),
        "enable.auto.offset.store" => c.enable_auto_offset_store.to_string(),
        _ => "?".to_string(),
    }
}

fn topic_value(c: &TopicConfig, name: &str) -> String {
    match name {
        "min.insync.replicas" => c.min_insync_replicas.to_string(),
        "unclean.leader.election.enable" => c.unclean_leader_election_enable.to_string(),
        "replica.lag.time.max.ms" => ms(c.replica_lag_time_max),
        _ => "?".to_string(),
    }
}

fn broker_value(c: &BrokerConfig, name: &str) -> Option<String> {
    Some(match name {
        "broker.session.timeout.ms" => ms(c.broker_session_timeout),
        "group.initial.rebalance.delay.ms" => ms(c.group_initial_rebalance_delay),
        "replica.fetch.wait.max.ms" => ms(c.replica_fetch_wait_max),
        // Kafka's default is Long.MAX_VALUE (never by count).
        "log.flush.interval.messages" => match c.page_cache.flush_interval_messages {
            u64::MAX => i64::MAX.to_string(),
            n => n.to_string(),
        },
        "log.flush.interval.ms" => c.page_cache.flush_interval.map_or("null".to_string(), ms),
        "vm.dirty_writeback_centisecs" => (c.page_cache.dirty_writeback.ms() / 10).to_string(),
        "vm.dirty_expire_centisecs" => (c.page_cache.dirty_expire.ms() / 10).to_string(),
        "eligible.leader.replicas.version" => u8::from(c.eligible_leader_replicas).to_string(),
        "transaction.version" => c.transaction_version.to_string(),
        "transaction.abort.timed.out.transaction.cleanup.interval.ms" => ms(c.txn_abort_cleanup_interval),
        // Topic defaults show per topic; default.replication.factor only as the topics' RF.
        _ => return None,
    })
}
