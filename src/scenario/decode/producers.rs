//! `producers:` — each producer entry, its `event_time:` clock, and the
//! Kafka producer configs written in its `config:` (resolved in `resolve_producer`).

use std::collections::HashMap;

use super::super::config_names::Section;
use super::super::limits::{MAX_INSTANCES, MAX_KEYS, MAX_RECORD_BYTES};
use super::super::model::{Acks, ArrivalKind, EventTimeSpec, KafkaVersion, Offline, OnFailure, ProducerSpec, Rate};
use super::super::yaml::{Node, Pos, Value};
use super::brokers::{topic_ref, Topics};
use super::context::{ex, Cx, Ex, Preset};
use super::problem::{index, join, problem, Note, R};
use super::resolve_producer::resolve_producer;
use super::timing::{dist, rate};
use super::tree::{list, mapping, Entry, Map};
use super::values::{
    boolean, choice, duration, kafka_ms, positive_duration, simple_name, string, u32_in, u64_in, I32_MAX,
};
use crate::kernel::time::Duration;

/// The producer configs the file wrote, each with where (for the rules that refer back to them).
#[derive(Default)]
pub(super) struct ProducerExplicit {
    pub acks: Option<Ex<Acks>>,
    pub idempotence: Option<Ex<bool>>,
    pub retries: Option<Ex<u32>>,
    pub max_in_flight: Option<Ex<u32>>,
    pub delivery_timeout: Option<Ex<Duration>>,
    pub request_timeout: Option<Ex<Duration>>,
    pub retry_backoff: Option<Duration>,
    pub retry_backoff_max: Option<Duration>,
    pub reconnect_backoff: Option<Duration>,
    pub reconnect_backoff_max: Option<Duration>,
    pub connection_setup_timeout: Option<Duration>,
    pub connection_setup_timeout_max: Option<Duration>,
    pub linger: Option<Ex<Duration>>,
    pub batch_size: Option<Ex<u32>>,
    pub buffer_memory: Option<Ex<u64>>,
    pub max_block: Option<Duration>,
    pub max_request_size: Option<u32>,
    pub producer_byte_rate: Option<u64>,
    /// `Some(None)`: explicitly no transactional id (`transactional.id: ~`).
    pub transactional_id: Option<Ex<Option<String>>>,
    pub transaction_timeout: Option<Duration>,
}

/// The producers, and where each one's name was written (faults refer to them by name).
pub(super) type Producers = (Vec<ProducerSpec>, Vec<(Pos, String)>);

/// `producers:` — names are unique (more of the same is `instances:`).
pub(super) fn producers(cx: &mut Cx, node: Option<&Node>, with: &With<'_>) -> R<Producers> {
    let mut producers: Vec<ProducerSpec> = Vec::new();
    let mut producer_index: HashMap<String, usize> = HashMap::new();
    let mut producer_pos: Vec<(Pos, String)> = Vec::new();
    let Some(n) = node else { return Ok((producers, producer_pos)) };
    for (i, item) in list(n, "producers", "a list of producers")?.iter().enumerate() {
        let field = index("producers", i);
        let (p, name_at) = producer(cx, item, &field, with)?;
        if let Some(&j) = producer_index.get(&p.name) {
            return Err(problem(name_at, &join(&field, "name"), format!("producer `{}` is defined twice", p.name))
                .hint(format!("the first is producers[{j}]; use `instances:` for more of the same")));
        }
        producer_index.insert(p.name.clone(), producers.len());
        producers.push(p);
        producer_pos.push((name_at, join(&field, "name")));
    }
    Ok((producers, producer_pos))
}

/// `record_bytes` when the file does not say.
pub(super) const DEFAULT_RECORD_BYTES: u32 = 100;

const PRODUCER_FIELDS: &[&str] = &[
    "name",
    "topic",
    "instances",
    "rate",
    "messages",
    "keys",
    "record_bytes",
    "transaction_interval",
    "on_failure",
    "event_time",
    "config",
];

/// What a producer entry is read against.
pub(super) struct With<'a> {
    pub topics: &'a Topics,
    pub preset: Option<Preset>,
    /// The scenario's `duration:`, for the `messages:` warning.
    pub duration: Duration,
    /// `kafka_version:`, whose defaults apply.
    pub version: KafkaVersion,
}

fn producer(cx: &mut Cx, node: &Node, field: &str, with: &With<'_>) -> R<(ProducerSpec, Pos)> {
    let preset = with.preset;
    let m = mapping(node, field, "a producer like `{ name: web, rate: 100/s }`")?;
    m.known(PRODUCER_FIELDS)?;
    let name_node = m.require("name", "name: web")?;
    let name = simple_name(name_node, &join(field, "name"))?;
    let topic = topic_ref(&m, field, with.topics)?;
    let instances = match m.value("instances") {
        Some(n) => u32_in(n, &join(field, "instances"), 1, MAX_INSTANCES)?,
        None => 1,
    };
    let rate = rate(m.require("rate", "rate: 100/s")?, &join(field, "rate"))?;
    let messages = match m.get("messages").filter(|e| !e.value.is_null()) {
        Some(e) => {
            let n = u64_in(e.value, &e.field, 1, i128::from(u64::MAX))?;
            warn_unreachable(cx, &rate, n, e, with.duration);
            Some(n)
        }
        None => None,
    };
    let keys = match m.value("keys") {
        Some(n) => u32_in(n, &join(field, "keys"), 0, MAX_KEYS)?,
        None => 100,
    };
    let record_bytes = match m.get("record_bytes").filter(|e| !e.value.is_null()) {
        Some(e) => ex(u32_in(e.value, &e.field, 1, MAX_RECORD_BYTES)?, e),
        None => None,
    };
    let transaction_interval = transaction_interval(&m)?;
    let on_failure = match m.get("on_failure") {
        Some(e) => choice(e.value, &e.field, &[("drop", OnFailure::Drop), ("resend", OnFailure::Resend)])?,
        None => OnFailure::Drop,
    };
    let event_time = match m.get("event_time") {
        Some(e) => event_time(e.value, &e.field)?,
        None => EventTimeSpec::default(),
    };
    let path = join(field, "config");
    let x = producer_config(cx, &m, &path)?;
    let config = resolve_producer(cx, &name, &path, x, preset, &record_bytes, with.version)?;
    let record_bytes = record_bytes.map_or(DEFAULT_RECORD_BYTES, |e| e.value);
    if let Some((_, pos, f)) = &transaction_interval {
        if config.transactional_id.is_none() {
            return Err(problem(
                *pos,
                f,
                format!("{f}: applies only to a transactional producer, and this one has no `transactional.id`"),
            )
            .hint("set `transactional.id` in the producer's `config:`, or remove `transaction_interval`"));
        }
    }
    let transaction_interval = transaction_interval.map_or(Duration::from_ms(100), |(d, _, _)| d);
    let spec = ProducerSpec {
        name,
        topic,
        instances,
        rate,
        messages,
        keys,
        record_bytes,
        transaction_interval,
        on_failure,
        event_time,
        config,
    };
    Ok((spec, name_node.pos))
}

/// Warns when `messages:` is likely not reached within `duration`: the
/// producer stops at whichever comes first. Poisson arrivals reach `n` in
/// nearly every run only with `n + 3·sqrt(n)` expected (three standard
/// deviations); constant ones need `n`.
fn warn_unreachable(cx: &mut Cx, rate: &Rate, n: u64, e: &Entry<'_>, duration: Duration) {
    let expected = rate.count as f64 * duration.us() as f64 / rate.per.us() as f64;
    let n_f = n as f64;
    let needed = match rate.kind {
        ArrivalKind::Poisson => n_f + 3.0 * n_f.sqrt(),
        ArrivalKind::Constant => n_f,
    };
    if expected >= needed {
        return;
    }
    // The shortest duration that makes `needed` expected, in whole seconds.
    let secs = (needed * rate.per.us() as f64 / rate.count as f64 / 1e6).ceil();
    let f = &e.field;
    let message = match rate.kind {
        ArrivalKind::Poisson => {
            // The time of the n-th Poisson arrival: mean n/rate, standard deviation sqrt(n)/rate.
            let per_record_s = rate.per.us() as f64 / rate.count as f64 / 1e6;
            let (mean_s, sd_s) = (n_f * per_record_s, n_f.sqrt() * per_record_s);
            format!(
                "{f}: {n} records take {mean_s:.1}s ± {sd_s:.1}s at this Poisson rate, and the producer stops at `duration: {duration}`: it may produce fewer than {n} records on some seeds; write `rate: {{ constant: ... }}` or a longer duration ({secs}s or more)"
            )
        }
        ArrivalKind::Constant => format!(
            "{f}: a constant rate sends {expected:.0} records within `duration: {duration}` and then stops, so it produces fewer than {n} records; write a longer duration ({secs}s or more)"
        ),
    };
    cx.notes.push(Note { pos: e.key_pos, field: f.clone(), message });
}

/// `transaction_interval:`, with where it was written (it needs a transactional producer).
fn transaction_interval(m: &Map<'_>) -> R<Option<(Duration, Pos, String)>> {
    let Some(e) = m.get("transaction_interval") else { return Ok(None) };
    let d = duration(e.value, &e.field)?;
    if d == Duration::ZERO {
        return Err(problem(e.value.pos, &e.field, format!("{}: must be more than 0", e.field)));
    }
    Ok(Some((d, e.key_pos, e.field.clone())))
}

fn acks(node: &Node, field: &str) -> R<Acks> {
    if let Value::Scalar { text, .. } = &node.value {
        match text.trim() {
            "0" => return Ok(Acks::Zero),
            "1" => return Ok(Acks::One),
            "all" | "-1" => return Ok(Acks::All),
            _ => {}
        }
    }
    Err(problem(node.pos, field, format!("{field}: expected `0`, `1` or `all`, found {}", node.describe()))
        .hint("acks is `0` (no response), `1` (leader only) or `all` (every in-sync replica; `-1` also means all)"))
}

/// Reads the producer's `config:` block; names streamsim does not model go to `other_config`.
fn producer_config(cx: &mut Cx, m: &Map<'_>, path: &str) -> R<ProducerExplicit> {
    let mut x = ProducerExplicit::default();
    let Some(e) = m.get("config") else { return Ok(x) };
    let cm = mapping(e.value, path, "a mapping of Kafka producer configs")?;
    for e in &cm.entries {
        let (v, f) = (e.value, e.field.as_str());
        match e.key {
            "acks" => x.acks = ex(acks(v, f)?, e),
            "enable.idempotence" => x.idempotence = ex(boolean(v, f)?, e),
            "retries" => x.retries = ex(u32_in(v, f, 0, I32_MAX)?, e),
            "max.in.flight.requests.per.connection" => x.max_in_flight = ex(u32_in(v, f, 1, I32_MAX)?, e),
            "delivery.timeout.ms" => x.delivery_timeout = ex(kafka_ms(v, f, 0, I32_MAX)?, e),
            // Kafka allows 0; a zero timeout would fail every request at once.
            "request.timeout.ms" => x.request_timeout = ex(kafka_ms(v, f, 1, I32_MAX)?, e),
            "retry.backoff.ms" => x.retry_backoff = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            "retry.backoff.max.ms" => x.retry_backoff_max = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            "reconnect.backoff.ms" => x.reconnect_backoff = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            "reconnect.backoff.max.ms" => x.reconnect_backoff_max = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            "socket.connection.setup.timeout.ms" => {
                x.connection_setup_timeout = Some(kafka_ms(v, f, 1, i128::from(i64::MAX))?)
            }
            "socket.connection.setup.timeout.max.ms" => {
                x.connection_setup_timeout_max = Some(kafka_ms(v, f, 1, i128::from(i64::MAX))?)
            }
            "linger.ms" => x.linger = ex(kafka_ms(v, f, 0, i128::from(i64::MAX))?, e),
            // 0 is allowed as in Kafka ("no batching"): the producer then
            // closes a batch after every record (one record per batch).
            "batch.size" => x.batch_size = ex(u32_in(v, f, 0, I32_MAX)?, e),
            "buffer.memory" => x.buffer_memory = ex(u64_in(v, f, 0, i128::from(i64::MAX))?, e),
            "max.request.size" => x.max_request_size = Some(u32_in(v, f, 1, I32_MAX)?),
            "max.block.ms" => x.max_block = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
            // A client quota rather than a client config: the broker's
            // setting for this client id, written beside its configs.
            "producer_byte_rate" => x.producer_byte_rate = Some(u64_in(v, f, 1, i128::from(i64::MAX))?),
            "transactional.id" => {
                let id = if v.is_null() { None } else { Some(string(v, f, "a transactional id")?) };
                if id.as_deref() == Some("") {
                    return Err(problem(v.pos, f, format!("{f}: must not be empty")));
                }
                x.transactional_id = ex(id, e);
            }
            "transaction.timeout.ms" => x.transaction_timeout = Some(kafka_ms(v, f, 1, I32_MAX)?),
            _ => cx.other_config(e, path, Section::Producer)?,
        }
    }
    Ok(x)
}

/// `event_time: { delay: { exp: 200ms }, skew: { behind: 1s }, offline: { every: 30s, for: 10s } }`.
fn event_time(node: &Node, field: &str) -> R<EventTimeSpec> {
    let m = mapping(node, field, "a mapping like `{ delay: { exp: 200ms } }`")?;
    m.known(&["delay", "skew", "offline"])?;
    let mut spec = EventTimeSpec::default();
    if let Some(e) = m.get("delay") {
        spec.delay = Some(dist(e.value, &e.field)?);
    }
    if let Some(e) = m.get("skew") {
        let sm = mapping(e.value, &e.field, "`{ behind: 1s }` or `{ ahead: 1s }`")?;
        sm.known(&["behind", "ahead"])?;
        match (sm.get("behind"), sm.get("ahead")) {
            (Some(b), None) => spec.skew_us = duration(b.value, &b.field)?.us().min(i64::MAX as u64) as i64,
            (None, Some(a)) => spec.skew_us = -(duration(a.value, &a.field)?.us().min(i64::MAX as u64) as i64),
            (Some(_), Some(a)) => {
                return Err(problem(a.key_pos, &a.field, format!("{}: a clock is either behind or ahead", e.field)))
            }
            (None, None) => return Err(sm.missing("behind", "behind: 1s").hint("or `ahead: 1s`")),
        }
    }
    if let Some(e) = m.get("offline") {
        spec.offline = Some(offline(e.value, &e.field)?);
    }
    Ok(spec)
}

/// `offline: { every: 30s, for: 10s }`: the client comes back between two offline periods.
fn offline(node: &Node, field: &str) -> R<Offline> {
    let om = mapping(node, field, "`{ every: 30s, for: 10s }`")?;
    om.known(&["every", "for"])?;
    let every = om.require("every", "every: 30s")?;
    let every = positive_duration(every, &join(field, "every"))?;
    let span = om.require("for", "for: 10s")?;
    let span_d = positive_duration(span, &join(field, "for"))?;
    if span_d >= every {
        return Err(problem(span.pos, &join(field, "for"), format!("{field}.for: must be shorter than `every`"))
            .hint("the client must come back online between two offline periods"));
    }
    Ok(Offline { every, duration: span_d })
}
