//! `consumers:` — each consumer group entry, its partition assignors, and
//! the Kafka consumer configs written in its `config:` (resolved in `resolve_consumer`).

use std::collections::HashMap;

use super::super::config_names::Section;
use super::super::limits::{MAX_INSTANCES, MAX_POLL_RECORDS};
use super::super::model::*;
use super::super::suggest::one_of;
use super::super::yaml::{clip, Node, Pos, Value};
use super::aggregate::aggregate;
use super::brokers::{topic_ref, Topics};
use super::context::{ex, Cx, Ex, Preset};
use super::problem::{did_you_mean, index, join, problem, Note, R};
use super::resolve_consumer::{resolve_consumer, Choices};
use super::timing::dist;
use super::tree::{list, mapping, Entry, Map};
use super::values::{boolean, choice, kafka_ms, simple_name, string, u32_in, u64_in, I32_MAX};
use crate::kernel::rng::Dist;
use crate::kernel::time::Duration;

const COMMIT_MODES: [(&str, CommitMode); 4] = [
    ("before-processing", CommitMode::BeforeProcessing),
    ("after-processing", CommitMode::AfterProcessing),
    ("auto", CommitMode::Auto),
    ("transactional", CommitMode::Transactional),
];

const SINKS: [(&str, SinkKind); 3] =
    [("plain", SinkKind::Plain), ("idempotent", SinkKind::Idempotent), ("transactional", SinkKind::Transactional)];

/// The consumer configs the file wrote; some with where (for the rules that refer back to them).
#[derive(Default)]
pub(super) struct ConsumerExplicit {
    pub enable_auto_commit: Option<Ex<bool>>,
    pub auto_commit_interval: Option<Ex<Duration>>,
    pub auto_offset_reset: Option<OffsetReset>,
    pub session_timeout: Option<Ex<Duration>>,
    pub heartbeat_interval: Option<Ex<Duration>>,
    pub max_poll_interval: Option<Duration>,
    pub max_poll_records: Option<u32>,
    pub isolation_level: Option<IsolationLevel>,
    pub assignors: Option<Vec<Assignor>>,
    pub fetch_max_wait: Option<Duration>,
    pub max_partition_fetch_bytes: Option<u32>,
    pub fetch_max_bytes: Option<u32>,
    pub fetch_min_bytes: Option<u32>,
    pub consumer_byte_rate: Option<u64>,
    pub request_timeout: Option<Duration>,
    pub retry_backoff: Option<Duration>,
    pub group_instance_id: Option<String>,
}

/// The consumer groups, and where each one's `group:` was written.
pub(super) type Consumers = (Vec<ConsumerSpec>, Vec<(Pos, String)>);

/// `consumers:` — one entry per consumer group.
pub(super) fn consumers(
    cx: &mut Cx,
    node: Option<&Node>,
    topics: &Topics,
    preset: Option<Preset>,
    version: KafkaVersion,
) -> R<Consumers> {
    let mut consumers: Vec<ConsumerSpec> = Vec::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();
    let mut consumer_pos: Vec<(Pos, String)> = Vec::new();
    let Some(n) = node else { return Ok((consumers, consumer_pos)) };
    for (i, item) in list(n, "consumers", "a list of consumers")?.iter().enumerate() {
        let field = index("consumers", i);
        let (c, group_at) = consumer(cx, item, &field, topics, preset, version)?;
        if let Some(&j) = group_index.get(&c.group) {
            return Err(problem(
                group_at,
                &join(&field, "group"),
                format!("consumer group `{}` appears twice (also consumers[{j}])", c.group),
            )
            .hint("streamsim takes one entry per consumer group for now; use `instances:` for more members"));
        }
        group_index.insert(c.group.clone(), consumers.len());
        consumers.push(c);
        consumer_pos.push((group_at, join(&field, "group")));
    }
    Ok((consumers, consumer_pos))
}

const CONSUMER_FIELDS: &[&str] = &[
    "group",
    "topic",
    "instances",
    "processing_time",
    "processing",
    "commit",
    "commit_every",
    "commit_async",
    "on_abort",
    "sink",
    "aggregate",
    "client",
    "config",
];

fn consumer(
    cx: &mut Cx,
    node: &Node,
    field: &str,
    topics: &Topics,
    preset: Option<Preset>,
    version: KafkaVersion,
) -> R<(ConsumerSpec, Pos)> {
    let m = mapping(node, field, "a consumer like `{ group: analytics, instances: 3 }`")?;
    m.known(CONSUMER_FIELDS)?;
    let group_node = m.require("group", "group: analytics")?;
    let group = simple_name(group_node, &join(field, "group"))?;
    let topic = topic_ref(&m, field, topics)?;
    let instances = match m.value("instances") {
        Some(n) => u32_in(n, &join(field, "instances"), 1, MAX_INSTANCES)?,
        None => 1,
    };
    let processing_time = match m.value("processing_time") {
        Some(n) => dist(n, &join(field, "processing_time"))?,
        None => Dist::Constant(Duration::ZERO),
    };
    let aggregate = match m.get("aggregate") {
        Some(e) => Some(aggregate(e.value, &e.field)?),
        None => None,
    };
    let on_abort = match m.get("on_abort") {
        Some(e) => ex(choice(e.value, &e.field, &[("rewind", OnAbort::Rewind), ("continue", OnAbort::Continue)])?, e),
        None => None,
    };
    let client = match m.value("client") {
        Some(n) => choice(n, &join(field, "client"), &[("java", Client::Java), ("librdkafka", Client::Librdkafka)])?,
        None => Client::Java,
    };
    let path = join(field, "config");
    let store = offset_store(&m, client)?;
    let mut x = consumer_config(cx, &m, &path, &group)?;
    let (iso_set, assignors_set) = (x.isolation_level.is_some(), x.assignors.is_some());
    if !version.at_least(3, 0) && x.session_timeout.is_none() {
        // KIP-735: session.timeout.ms was 10 s before Kafka 3.0.
        x.session_timeout = Some(Ex { value: Duration::from_ms(10_000), key: Pos::START, field: String::new() });
    }
    let choices = choices(&m, field)?;
    let mut r = resolve_consumer(choices, x, field, &path, m.pos, preset)?;
    if client == Client::Librdkafka {
        librdkafka_defaults(
            &mut r.config,
            iso_set || preset.is_some_and(|p| p.semantics == Semantics::ExactlyOnce),
            assignors_set,
        );
        r.config.enable_auto_offset_store = store.unwrap_or(true);
    }
    r.config.client = client;
    let on_abort = on_abort_for(on_abort, r.commit)?;
    let spec = ConsumerSpec {
        group,
        topic,
        instances,
        slots: instances,
        processing_time,
        processing: r.processing,
        commit: r.commit,
        commit_every: r.commit_every,
        commit_async: r.commit_async,
        on_abort,
        aggregate,
        sink: r.sink,
        config: r.config,
    };
    Ok((spec, group_node.pos))
}

/// How the consumer processes and commits, and its sink, as written.
fn choices(m: &Map<'_>, field: &str) -> R<Choices> {
    let processing = match m.get("processing") {
        Some(e) => ex(choice(e.value, &e.field, &[("sync", Processing::Sync), ("async", Processing::Async)])?, e),
        None => None,
    };
    let commit = match m.value("commit") {
        Some(n) => Some((choice(n, &join(field, "commit"), &COMMIT_MODES)?, n.pos)),
        None => None,
    };
    let commit_every = match m.get("commit_every") {
        Some(e) => ex(choice(e.value, &e.field, &[("batch", CommitEvery::Batch), ("record", CommitEvery::Record)])?, e),
        None => None,
    };
    let commit_async = match m.get("commit_async") {
        Some(e) => ex(boolean(e.value, &e.field)?, e),
        None => None,
    };
    let sink = match m.value("sink") {
        Some(n) => Some((choice(n, &join(field, "sink"), &SINKS)?, n.pos)),
        None => None,
    };
    Ok(Choices { commit, sink, processing, commit_every, commit_async })
}

/// `on_abort:` applies to transactional consumers only (default: rewind).
fn on_abort_for(on_abort: Option<Ex<OnAbort>>, commit: CommitMode) -> R<OnAbort> {
    if let Some(e) = &on_abort {
        if commit != CommitMode::Transactional {
            return Err(problem(e.key, &e.field, format!("{}: applies only to `commit: transactional`", e.field))
                .hint("remove `on_abort`, or set `commit: transactional`"));
        }
    }
    Ok(on_abort.map_or(OnAbort::Rewind, |e| e.value))
}

/// librdkafka's consumer defaults where they differ from Java's (CONFIGURATION.md):
/// isolation.level read_committed, partition.assignment.strategy range,roundrobin.
fn librdkafka_defaults(c: &mut ConsumerConfig, isolation_set: bool, assignors_set: bool) {
    if !isolation_set {
        c.isolation_level = IsolationLevel::ReadCommitted;
    }
    if !assignors_set {
        c.partition_assignment_strategy = vec![Assignor::Range, Assignor::RoundRobin];
    }
}

/// `enable.auto.offset.store` in `config:`: librdkafka's alone; the Java client has none.
fn offset_store(m: &Map<'_>, client: Client) -> R<Option<bool>> {
    let Some(cfg) = m.value("config") else { return Ok(None) };
    let Ok(cm) = mapping(cfg, "", "") else { return Ok(None) };
    let Some(e) = cm.get("enable.auto.offset.store") else { return Ok(None) };
    let field = join(&join(&m.path, "config"), "enable.auto.offset.store");
    if client == Client::Java {
        return Err(problem(
            e.key_pos,
            &field,
            format!("{field}: `enable.auto.offset.store` is librdkafka's name; the Java client has no such config (its auto-commit takes the position of the previous poll)"),
        )
        .hint("set `client: librdkafka` on this group, or remove it"));
    }
    Ok(Some(boolean(e.value, &field)?))
}

/// Reads the group's `config:` block; names streamsim does not model go to `other_config`.
fn consumer_config(cx: &mut Cx, m: &Map<'_>, path: &str, group: &str) -> R<ConsumerExplicit> {
    let mut x = ConsumerExplicit::default();
    let Some(e) = m.get("config") else { return Ok(x) };
    let cm = mapping(e.value, path, "a mapping of Kafka consumer configs")?;
    for e in &cm.entries {
        let (v, f) = (e.value, e.field.as_str());
        match e.key {
            "enable.auto.commit" => x.enable_auto_commit = ex(boolean(v, f)?, e),
            "auto.commit.interval.ms" => x.auto_commit_interval = ex(kafka_ms(v, f, 0, I32_MAX)?, e),
            "auto.offset.reset" => {
                let opts =
                    [("earliest", OffsetReset::Earliest), ("latest", OffsetReset::Latest), ("none", OffsetReset::None)];
                let reset = choice(v, f, &opts)?;
                if reset == OffsetReset::None {
                    warn_no_offset(cx, e, group);
                }
                x.auto_offset_reset = Some(reset);
            }
            "session.timeout.ms" => x.session_timeout = ex(kafka_ms(v, f, 1, I32_MAX)?, e),
            "heartbeat.interval.ms" => x.heartbeat_interval = ex(kafka_ms(v, f, 1, I32_MAX)?, e),
            "max.poll.interval.ms" => x.max_poll_interval = Some(kafka_ms(v, f, 1, I32_MAX)?),
            "max.poll.records" => x.max_poll_records = Some(u32_in(v, f, 1, MAX_POLL_RECORDS)?),
            "isolation.level" => {
                let opts = [
                    ("read_uncommitted", IsolationLevel::ReadUncommitted),
                    ("read_committed", IsolationLevel::ReadCommitted),
                ];
                x.isolation_level = Some(choice(v, f, &opts)?);
            }
            "partition.assignment.strategy" => x.assignors = Some(assignors(v, f)?),
            "fetch.max.wait.ms" => x.fetch_max_wait = Some(kafka_ms(v, f, 0, I32_MAX)?),
            "max.partition.fetch.bytes" => x.max_partition_fetch_bytes = Some(u32_in(v, f, 0, I32_MAX)?),
            "fetch.max.bytes" => x.fetch_max_bytes = Some(u32_in(v, f, 0, I32_MAX)?),
            "fetch.min.bytes" => x.fetch_min_bytes = Some(u32_in(v, f, 0, I32_MAX)?),
            // A client quota rather than a client config: the broker's
            // setting for this client id, written beside its configs.
            "consumer_byte_rate" => x.consumer_byte_rate = Some(u64_in(v, f, 1, i128::from(i64::MAX))?),
            // Kafka allows 0; a zero timeout would fail every request at once.
            "request.timeout.ms" => x.request_timeout = Some(kafka_ms(v, f, 1, I32_MAX)?),
            "retry.backoff.ms" => x.retry_backoff = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            "group.id" => check_group_id(v, f, group)?,
            "group.instance.id" => x.group_instance_id = group_instance_id(v, f)?,
            // Read with `client:` (see `offset_store`).
            "enable.auto.offset.store" => {}
            _ => cx.other_config(e, path, Section::Consumer)?,
        }
    }
    Ok(x)
}

/// Every group starts with no committed offset, so with `none` its first poll throws
/// NoOffsetForPartitionException (Kafka's `SubscriptionState.resetInitializingPositions`)
/// and it reads nothing: legal, and worth saying before the run.
fn warn_no_offset(cx: &mut Cx, e: &Entry<'_>, group: &str) {
    cx.notes.push(Note {
        pos: e.key_pos,
        field: e.field.clone(),
        message: format!(
            "{}: group `{}` starts with no committed offset, so with `none` its consumers' polls fail (NoOffsetForPartitionException) and it reads nothing; use `earliest` or `latest` to let a new group start",
            e.field,
            clip(group)
        ),
    });
}

/// `group.instance.id`: null (dynamic membership) or an id Kafka accepts
/// (JoinGroupRequest.validateGroupInstanceId: 1 to 249 of [a-zA-Z0-9._-]).
fn group_instance_id(v: &Node, f: &str) -> R<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let id = string(v, f, "a group instance id")?;
    let legal = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-');
    if id.is_empty() || id.len() > 245 || !id.chars().all(legal) {
        return Err(problem(v.pos, f, format!("{f}: `{}` is not a valid group instance id", clip(&id)))
            .hint("1 to 245 of a-z A-Z 0-9 . _ - (streamsim appends -N per instance; Kafka allows 249)"));
    }
    Ok(Some(id))
}

/// `group:` sets the group id; a `group.id` config may only repeat it.
fn check_group_id(v: &Node, f: &str, group: &str) -> R<()> {
    let id = string(v, f, "the group id")?;
    if id != group {
        return Err(problem(v.pos, f, format!("{f}: group.id `{}` does not match `group: {group}`", clip(&id)))
            .hint("remove `group.id`: `group:` sets it"));
    }
    Ok(())
}

const ASSIGNOR_NAMES: [(&str, Assignor); 4] = [
    ("range", Assignor::Range),
    ("roundrobin", Assignor::RoundRobin),
    ("sticky", Assignor::Sticky),
    ("cooperative-sticky", Assignor::CooperativeSticky),
];
const ASSIGNOR_CLASSES: [(&str, Assignor); 4] = [
    ("RangeAssignor", Assignor::Range),
    ("RoundRobinAssignor", Assignor::RoundRobin),
    ("StickyAssignor", Assignor::Sticky),
    ("CooperativeStickyAssignor", Assignor::CooperativeSticky),
];

/// `range`, `cooperative-sticky`, a class name, a comma-separated string, or a list.
fn assignors(node: &Node, field: &str) -> R<Vec<Assignor>> {
    let words = assignor_words(node, field)?;
    if words.is_empty() {
        return Err(problem(node.pos, field, format!("{field}: needs at least one assignor"))
            .hint("e.g. `range` or `cooperative-sticky`"));
    }
    let mut out = Vec::with_capacity(words.len());
    for (w, pos, f) in words {
        let short = w.strip_prefix("org.apache.kafka.clients.consumer.").unwrap_or(&w);
        let found = ASSIGNOR_NAMES.iter().chain(ASSIGNOR_CLASSES.iter()).find(|(n, _)| *n == short).map(|(_, a)| *a);
        match found {
            Some(a) => out.push(a),
            None => {
                let names: Vec<&str> = ASSIGNOR_NAMES.iter().map(|(n, _)| *n).collect();
                let classes = ASSIGNOR_CLASSES.iter().map(|(n, _)| *n);
                let hint = did_you_mean(short, names.iter().copied().chain(classes))
                    .unwrap_or_else(|| format!("streamsim knows {}", one_of(&names)));
                return Err(problem(pos, &f, format!("{f}: unknown assignor `{}`", clip(&w))).hint(hint));
            }
        }
    }
    Ok(out)
}

/// The assignor names written, each with where (list items have their own position).
fn assignor_words(node: &Node, field: &str) -> R<Vec<(String, Pos, String)>> {
    let mut words: Vec<(String, Pos, String)> = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let f = index(field, i);
                let s = string(item, &f, "an assignor name like `range`")?;
                words.push((s.trim().to_string(), item.pos, f));
            }
        }
        _ => {
            let s = string(node, field, "an assignor name like `range`")?;
            for w in s.split(',') {
                if !w.trim().is_empty() {
                    words.push((w.trim().to_string(), node.pos, field.to_string()));
                }
            }
        }
    }
    Ok(words)
}
