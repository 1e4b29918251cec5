//! `broker_config:` and `topics:` — cluster-wide broker settings, each topic,
//! and how producers and consumers name a topic.

use std::collections::HashMap;

use super::super::config_names::Section;
use super::super::limits::{MAX_PARTITIONS, MAX_TOTAL_PARTITIONS};
use super::super::model::{BrokerConfig, KafkaVersion, TopicConfig, TopicSpec};
use super::super::suggest::one_of;
use super::super::yaml::{clip, Node, Pos};
use super::context::Cx;
use super::problem::{did_you_mean, index, join, problem, R};
use super::tree::{list, mapping, Entry, Map};
use super::values::{boolean, kafka_ms, string, topic_name, u32_in, u64_in, I32_MAX};
use crate::kernel::time::Duration;

pub(super) struct BrokerSettings {
    pub config: BrokerConfig,
    default_replication_factor: u32,
    /// Where `default.replication.factor` / `min.insync.replicas` were set, if they were.
    default_rf_at: Option<(Pos, String)>,
    min_isr_at: Option<(Pos, String)>,
}

pub(super) fn broker_settings(cx: &mut Cx, entry: Option<&Entry<'_>>, version: KafkaVersion) -> R<BrokerSettings> {
    let mut s = BrokerSettings {
        config: BrokerConfig { transaction_version: version.transaction_version(), ..BrokerConfig::default() },
        default_replication_factor: 1,
        default_rf_at: None,
        min_isr_at: None,
    };
    let Some(entry) = entry else { return Ok(s) };
    let path = "broker_config";
    let m = mapping(entry.value, path, "a mapping of Kafka broker configs")?;
    let mut fetch_wait_at: Option<Pos> = None;
    let mut lag_at: Option<Pos> = None;
    for e in &m.entries {
        let (v, f) = (e.value, e.field.as_str());
        match e.key {
            "broker.session.timeout.ms" => s.config.broker_session_timeout = kafka_ms(v, f, 1, I32_MAX)?,
            "group.initial.rebalance.delay.ms" => s.config.group_initial_rebalance_delay = kafka_ms(v, f, 0, I32_MAX)?,
            "transaction.abort.timed.out.transaction.cleanup.interval.ms" => {
                s.config.txn_abort_cleanup_interval = kafka_ms(v, f, 1, I32_MAX)?
            }
            "replica.fetch.wait.max.ms" => {
                s.config.replica_fetch_wait_max = kafka_ms(v, f, 0, I32_MAX)?;
                fetch_wait_at = Some(e.key_pos);
            }
            "min.insync.replicas" => {
                s.config.topic_defaults.min_insync_replicas = u32_in(v, f, 1, I32_MAX)?;
                s.min_isr_at = Some((e.key_pos, e.field.clone()));
            }
            "unclean.leader.election.enable" => s.config.topic_defaults.unclean_leader_election_enable = boolean(v, f)?,
            "replica.lag.time.max.ms" => {
                s.config.topic_defaults.replica_lag_time_max = kafka_ms(v, f, 1, i128::from(i64::MAX))?;
                lag_at = Some(e.key_pos);
            }
            "default.replication.factor" => {
                s.default_replication_factor = u32_in(v, f, 1, I32_MAX)?;
                s.default_rf_at = Some((e.key_pos, e.field.clone()));
            }
            _ if durability(&mut s.config, e.key, v, f)? => {}
            _ if quotas(&mut s.config, e.key, v, f)? => {}
            _ => cx.other_config(e, path, Section::Broker)?,
        }
    }
    check_fetch_wait(&s.config, &m, fetch_wait_at, lag_at)?;
    Ok(s)
}

/// The page cache, fsync and ELR settings; false if `key` is none of them.
fn durability(c: &mut BrokerConfig, key: &str, v: &Node, f: &str) -> R<bool> {
    let pc = &mut c.page_cache;
    match key {
        "log.flush.interval.messages" => pc.flush_interval_messages = u64_in(v, f, 1, i128::from(i64::MAX))?,
        "log.flush.interval.ms" => pc.flush_interval = Some(kafka_ms(v, f, 1, i128::from(i64::MAX))?),
        "vm.dirty_writeback_centisecs" => pc.dirty_writeback = centisecs(v, f)?,
        "vm.dirty_expire_centisecs" => pc.dirty_expire = centisecs(v, f)?,
        "eligible.leader.replicas.version" => c.eligible_leader_replicas = u32_in(v, f, 0, 1)? == 1,
        "transaction.version" => c.transaction_version = u32_in(v, f, 0, 2)? as u8,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The client quota default and its sampling; false if `key` is none of them.
fn quotas(c: &mut BrokerConfig, key: &str, v: &Node, f: &str) -> R<bool> {
    let q = &mut c.quotas;
    match key {
        "producer_byte_rate" => q.producer_byte_rate = Some(u64_in(v, f, 1, i128::from(i64::MAX))?),
        "consumer_byte_rate" => q.consumer_byte_rate = Some(u64_in(v, f, 1, i128::from(i64::MAX))?),
        // Kafka's minimum for quota.window.num is 1; the rate needs a
        // finished sample beside the current one, so 2 here.
        "quota.window.num" => q.samples = u32_in(v, f, 2, 1000)?,
        "quota.window.size.seconds" => q.window = Duration::from_secs(u64_in(v, f, 1, 3600)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// A Linux `*_centisecs` sysctl: hundredths of a second.
fn centisecs(v: &Node, f: &str) -> R<Duration> {
    Ok(Duration::from_ms(u64_in(v, f, 0, 8_640_000)? * 10))
}

/// A broker refuses `replica.fetch.wait.max.ms` above `replica.lag.time.max.ms`.
fn check_fetch_wait(c: &BrokerConfig, m: &Map<'_>, fetch_wait_at: Option<Pos>, lag_at: Option<Pos>) -> R<()> {
    let path = "broker_config";
    let (wait, lag) = (c.replica_fetch_wait_max, c.topic_defaults.replica_lag_time_max);
    if wait <= lag {
        return Ok(());
    }
    let (pos, key) = match (fetch_wait_at, lag_at) {
        (Some(p), _) => (p, "replica.fetch.wait.max.ms"),
        (None, Some(p)) => (p, "replica.lag.time.max.ms"),
        (None, None) => (m.pos, "replica.fetch.wait.max.ms"),
    };
    Err(problem(
        pos,
        &join(path, key),
        format!(
            "{path}: replica.fetch.wait.max.ms ({}) must not exceed replica.lag.time.max.ms ({}); a Kafka broker refuses to start with this",
            wait.ms(),
            lag.ms()
        ),
    )
    .hint("followers would drop out of the ISR between fetches"))
}

/// The topics, and their indices by name.
pub(super) struct Topics {
    pub specs: Vec<TopicSpec>,
    index: HashMap<String, usize>,
}

/// `topics:` — at least one, unique names, a bounded number of partitions in all.
pub(super) fn topics(cx: &mut Cx, top: &Map<'_>, brokers: u32, broker: &BrokerSettings) -> R<Topics> {
    let topics_node = top.require("topics", "topics: [{ name: clicks, partitions: 6 }]")?;
    let topic_items = list(topics_node, "topics", "a list of topics")?;
    if topic_items.is_empty() {
        return Err(problem(topics_node.pos, "topics", "topics: a scenario needs at least one topic")
            .hint("add e.g. `- { name: clicks, partitions: 6 }`"));
    }
    let mut out = Topics { specs: Vec::new(), index: HashMap::new() };
    let mut total_partitions: u64 = 0;
    for (i, item) in topic_items.iter().enumerate() {
        let field = index("topics", i);
        let (t, name_pos) = topic(cx, item, &field, brokers, broker)?;
        if let Some(&j) = out.index.get(&t.name) {
            return Err(problem(name_pos, &join(&field, "name"), format!("topic `{}` is defined twice", t.name))
                .hint(format!("the first is topics[{j}]; topic names are unique")));
        }
        total_partitions = total_partitions.saturating_add(u64::from(t.partitions));
        if total_partitions > MAX_TOTAL_PARTITIONS {
            return Err(problem(
                item.pos,
                &field,
                format!("{field}: more than {MAX_TOTAL_PARTITIONS} partitions in all topics together"),
            ));
        }
        out.index.insert(t.name.clone(), out.specs.len());
        out.specs.push(t);
    }
    Ok(out)
}

fn topic(cx: &mut Cx, node: &Node, field: &str, brokers: u32, broker: &BrokerSettings) -> R<(TopicSpec, Pos)> {
    let m = mapping(node, field, "a topic like `{ name: clicks, partitions: 6 }`")?;
    m.known(&["name", "partitions", "replication.factor", "config"])?;
    let name_node = m.require("name", "name: clicks")?;
    let name = topic_name(name_node, &join(field, "name"))?;
    let partitions = u32_in(m.require("partitions", "partitions: 6")?, &join(field, "partitions"), 1, MAX_PARTITIONS)?;
    let replication_factor = replication_factor(&m, field, &name, brokers, broker)?;
    let (config, min_isr_at) = topic_config(cx, &m, field, broker)?;
    if config.min_insync_replicas > replication_factor {
        let (pos, f) = min_isr_at.unwrap_or((m.pos, join(field, "config.min.insync.replicas")));
        return Err(problem(
            pos,
            &f,
            format!(
                "{f}: min.insync.replicas ({}) is more than the replication.factor ({replication_factor}) of topic `{name}`",
                config.min_insync_replicas
            ),
        )
        .hint("every acks=all produce would fail with NOT_ENOUGH_REPLICAS; lower min.insync.replicas or raise replication.factor"));
    }
    Ok((TopicSpec { name, partitions, replication_factor, config }, name_node.pos))
}

/// The topic's own `replication.factor`, or the broker default; at most the brokers there are.
fn replication_factor(m: &Map<'_>, field: &str, name: &str, brokers: u32, broker: &BrokerSettings) -> R<u32> {
    let rf_field = join(field, "replication.factor");
    let brokers_text = if brokers == 1 { "1 broker".to_string() } else { format!("{brokers} brokers") };
    if let Some(n) = m.value("replication.factor") {
        let rf = u32_in(n, &rf_field, 1, i128::from(i16::MAX))?;
        if rf > brokers {
            return Err(problem(
                n.pos,
                &rf_field,
                format!("{rf_field}: {rf} is more than the {brokers_text} in the cluster"),
            )
            .hint(format!("set `brokers: {rf}` or lower replication.factor")));
        }
        return Ok(rf);
    }
    let rf = broker.default_replication_factor;
    if rf > brokers {
        let (pos, f) = broker.default_rf_at.clone().unwrap_or((m.pos, rf_field.clone()));
        return Err(problem(
            pos,
            &f,
            format!("default.replication.factor {rf} (used by topic `{name}`) is more than the {brokers_text} in the cluster"),
        )
        .hint(format!("set `brokers: {rf}` or give the topic a `replication.factor`")));
    }
    Ok(rf)
}

/// The topic's `config:` over the broker's topic defaults, and where
/// `min.insync.replicas` was set (here or in `broker_config:`).
fn topic_config(
    cx: &mut Cx,
    m: &Map<'_>,
    field: &str,
    broker: &BrokerSettings,
) -> R<(TopicConfig, Option<(Pos, String)>)> {
    let mut config = broker.config.topic_defaults.clone();
    let mut min_isr_at = broker.min_isr_at.clone();
    let Some(e) = m.get("config") else { return Ok((config, min_isr_at)) };
    let path = join(field, "config");
    let cm = mapping(e.value, &path, "a mapping of Kafka topic configs")?;
    for e in &cm.entries {
        let (v, f) = (e.value, e.field.as_str());
        match e.key {
            "min.insync.replicas" => {
                config.min_insync_replicas = u32_in(v, f, 1, I32_MAX)?;
                min_isr_at = Some((e.key_pos, e.field.clone()));
            }
            "unclean.leader.election.enable" => config.unclean_leader_election_enable = boolean(v, f)?,
            "replica.lag.time.max.ms" => config.replica_lag_time_max = kafka_ms(v, f, 1, i128::from(i64::MAX))?,
            _ => cx.other_config(e, &path, Section::Topic)?,
        }
    }
    Ok((config, min_isr_at))
}

/// The topic a producer or consumer names; may be omitted when there is one topic.
pub(super) fn topic_ref(m: &Map<'_>, field: &str, topics: &Topics) -> R<usize> {
    let names: Vec<&str> = topics.specs.iter().map(|t| t.name.as_str()).collect();
    let Some(n) = m.value("topic") else {
        if topics.specs.len() == 1 {
            return Ok(0);
        }
        return Err(m.missing("topic", "topic: clicks").hint(format!(
            "there are {} topics ({}); name one (`topic:` may be left out only when there is one topic)",
            topics.specs.len(),
            one_of(&names)
        )));
    };
    let f = join(field, "topic");
    let name = string(n, &f, "a topic name")?;
    match topics.index.get(&name) {
        Some(&i) => Ok(i),
        None => {
            let hint = did_you_mean(&name, names.iter().copied())
                .unwrap_or_else(|| format!("the topics are {}", one_of(&names)));
            Err(problem(n.pos, &f, format!("{f}: no topic `{}`", clip(&name))).hint(hint))
        }
    }
}
