//! A producer's effective config: Kafka's defaults, then the `semantics:`
//! preset, then what the file wrote; then Kafka's own ProducerConfig rules
//! (idempotence conflicts, buffer size, delivery timeout) on the result.

use super::super::model::{Acks, KafkaVersion, ProducerConfig};
use super::super::presets::apply_preset;
use super::super::yaml::Pos;
use super::context::{set_at, Cx, Ex, Preset};
use super::problem::{join, problem, Note, R};
use super::producers::{ProducerExplicit, DEFAULT_RECORD_BYTES};
use crate::kernel::time::Duration;

pub(super) fn resolve_producer(
    cx: &mut Cx,
    name: &str,
    path: &str,
    x: ProducerExplicit,
    preset: Option<Preset>,
    record_bytes: &Option<Ex<u32>>,
    version: KafkaVersion,
) -> R<ProducerConfig> {
    let mut c = ProducerConfig::for_version(version);
    if let Some(p) = preset {
        apply_preset(p.semantics, name, &mut c);
    }
    apply_explicit(&mut c, &x);
    if !version.at_least(3, 7) && x.retry_backoff_max.is_none() {
        // Before KIP-580 the retry backoff is retry.backoff.ms, constant.
        c.retry_backoff_max = c.retry_backoff;
    }
    idempotence(&mut c, &x, path, preset)?;
    check_buffer_memory(&c, &x, record_bytes)?;
    delivery_timeout(cx, &mut c, &x, path)?;
    Ok(c)
}

/// What the file wrote wins over the preset and the defaults.
fn apply_explicit(c: &mut ProducerConfig, x: &ProducerExplicit) {
    if let Some(e) = &x.acks {
        c.acks = e.value;
    }
    if let Some(e) = &x.idempotence {
        c.enable_idempotence = e.value;
    }
    if let Some(e) = &x.retries {
        c.retries = e.value;
    }
    if let Some(e) = &x.max_in_flight {
        c.max_in_flight_requests_per_connection = e.value;
    }
    if let Some(e) = &x.delivery_timeout {
        c.delivery_timeout = e.value;
    }
    if let Some(e) = &x.request_timeout {
        c.request_timeout = e.value;
    }
    if let Some(d) = x.retry_backoff {
        c.retry_backoff = d;
    }
    for (slot, value) in [
        (&mut c.retry_backoff_max, x.retry_backoff_max),
        (&mut c.reconnect_backoff, x.reconnect_backoff),
        (&mut c.reconnect_backoff_max, x.reconnect_backoff_max),
        (&mut c.connection_setup_timeout, x.connection_setup_timeout),
        (&mut c.connection_setup_timeout_max, x.connection_setup_timeout_max),
    ] {
        if let Some(d) = value {
            *slot = d;
        }
    }
    if let Some(e) = &x.linger {
        c.linger = e.value;
    }
    if let Some(e) = &x.batch_size {
        c.batch_size = e.value;
    }
    if let Some(e) = &x.buffer_memory {
        c.buffer_memory = e.value;
    }
    if let Some(rate) = x.producer_byte_rate {
        c.producer_byte_rate = Some(rate);
    }
    if let Some(d) = x.max_block {
        c.max_block = d;
    }
    if let Some(n) = x.max_request_size {
        c.max_request_size = n;
    }
    if let Some(e) = &x.transactional_id {
        c.transactional_id = e.value.clone();
    }
    if let Some(d) = x.transaction_timeout {
        c.transaction_timeout = d;
    }
}

/// Idempotence, as Kafka's ProducerConfig decides it: each conflicting
/// config is a ConfigException when `enable.idempotence: true` is written
/// in the file, and otherwise turns idempotence quietly off. (Kafka 4.0
/// made more than 5 in flight a ConfigException even then; streamsim
/// follows the 3.x rule.)
/// A transactional id needs idempotence: Kafka refuses it when idempotence
/// is off, whether written so or turned off by a conflicting config.
fn idempotence(c: &mut ProducerConfig, x: &ProducerExplicit, path: &str, preset: Option<Preset>) -> R<()> {
    let tx_at: Option<(Pos, String)> = match (&x.transactional_id, &c.transactional_id, preset) {
        (Some(e), Some(_), _) => Some((e.key, e.field.clone())),
        (None, Some(_), Some(p)) => Some((p.pos, "semantics".to_string())),
        _ => None,
    };
    if tx_at.is_some() {
        if let Some(e) = x.idempotence.as_ref().filter(|e| !e.value) {
            return Err(problem(
                e.key,
                &e.field,
                format!("{}: a transactional producer needs idempotence; Kafka rejects this with a ConfigException (\"Cannot set a transactional.id without also enabling idempotence.\")", e.field),
            )
            .hint("remove `enable.idempotence: false`, or remove `transactional.id`"));
        }
        c.enable_idempotence = true;
    }
    if !c.enable_idempotence {
        return Ok(());
    }
    // Who insists on idempotence: the file's `enable.idempotence: true`, or a transactional id.
    let explicit: Option<(Pos, String, &str)> = match (&x.idempotence, &tx_at) {
        (Some(e), _) if e.value => Some((e.key, e.field.clone(), "enable.idempotence is true")),
        (_, Some((pos, field))) => Some((*pos, field.clone(), "transactional.id is set (it needs idempotence)")),
        _ => None,
    };
    // The first conflict decides: an error if idempotence was insisted on, else idempotence is off.
    let Some(conflict) = conflicts(c, x).into_iter().find(|k| k.active) else { return Ok(()) };
    let Some((idem_pos, idem_field, why)) = &explicit else {
        c.enable_idempotence = false;
        return Ok(());
    };
    let (pos, field, from) = match (conflict.at, preset) {
        (Some((pos, field)), _) => (pos, field, String::new()),
        (None, Some(p)) => (
            *idem_pos,
            idem_field.clone(),
            format!(" ({} comes from `semantics: {}`)", conflict.preset_what, p.semantics.name()),
        ),
        (None, None) => (*idem_pos, idem_field.clone(), String::new()),
    };
    let (what, kafka_text) = (conflict.what, conflict.kafka_text);
    Err(problem(
        pos,
        &field,
        format!("{path}: {why} but {what}{from}; Kafka rejects this with a ConfigException (\"{kafka_text}\")"),
    )
    .hint(conflict.hint))
}

/// A config that idempotence cannot go with.
struct Conflict {
    active: bool,
    what: String,
    /// Where the file set it, if it did.
    at: Option<(Pos, String)>,
    /// How it reads when the preset set it.
    preset_what: String,
    kafka_text: &'static str,
    hint: &'static str,
}

/// The checks in the order Kafka makes them.
fn conflicts(c: &ProducerConfig, x: &ProducerExplicit) -> [Conflict; 3] {
    let acks = match c.acks {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    };
    let in_flight = c.max_in_flight_requests_per_connection;
    [
        Conflict {
            active: c.retries == 0,
            what: "retries is 0".to_string(),
            at: set_at(&x.retries),
            preset_what: "retries=0".to_string(),
            kafka_text: "Must set retries to non-zero when using the idempotent producer",
            hint: "set `retries` above 0, or `enable.idempotence: false`",
        },
        Conflict {
            active: c.acks != Acks::All,
            what: format!("acks is {acks}"),
            at: set_at(&x.acks),
            preset_what: format!("acks={acks}"),
            kafka_text: "Must set acks to all in order to use the idempotent producer",
            hint: "set `acks: all`, or `enable.idempotence: false`",
        },
        Conflict {
            active: in_flight > 5,
            what: format!("max.in.flight.requests.per.connection is {in_flight}"),
            at: set_at(&x.max_in_flight),
            preset_what: String::new(),
            kafka_text: "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5",
            hint: "set `max.in.flight.requests.per.connection` to 5 or less, or `enable.idempotence: false` (a retry may then reorder records)",
        },
    ]
}

/// Each new batch takes max(batch.size, record size) bytes of buffer.memory
/// (as Kafka's BufferPool allocates): a buffer smaller than that holds no
/// batch, and every send() would block for max.block.ms and then fail.
fn check_buffer_memory(c: &ProducerConfig, x: &ProducerExplicit, record_bytes: &Option<Ex<u32>>) -> R<()> {
    let record = record_bytes.as_ref().map_or(DEFAULT_RECORD_BYTES, |e| e.value);
    let (batch, memory) = (c.batch_size, c.buffer_memory);
    let by_record = record > batch;
    let need = batch.max(record);
    if memory >= u64::from(need) {
        return Ok(());
    }
    let what = if by_record { format!("one record (record_bytes: {record})") } else { format!("batch.size ({batch})") };
    let wasted = "no batch would ever fit, and every send() would fail";
    if let Some(e) = &x.buffer_memory {
        return Err(problem(
            e.key,
            &e.field,
            format!("{}: buffer.memory ({memory}) is smaller than {what}: {wasted}", e.field),
        )
        .hint(if by_record {
            format!("set `buffer.memory` to at least {need} (a batch takes max(batch.size, record_bytes) of it)")
        } else {
            format!("set `buffer.memory` to at least {need}")
        }));
    }
    // The default buffer.memory: blame what was written larger than it.
    let written = if by_record { record_bytes.as_ref() } else { x.batch_size.as_ref() };
    let Some(e) = written else { return Ok(()) };
    let name = if by_record { "record_bytes" } else { "batch.size" };
    Err(problem(e.key, &e.field, format!("{}: {what} is larger than buffer.memory ({memory}): {wasted}", e.field))
        .hint(format!("lower `{name}`, or set `buffer.memory` to at least {need}")))
}

/// delivery.timeout.ms >= linger.ms + request.timeout.ms (KafkaProducer).
fn delivery_timeout(cx: &mut Cx, c: &mut ProducerConfig, x: &ProducerExplicit, path: &str) -> R<()> {
    let floor = Duration(c.linger.us().saturating_add(c.request_timeout.us()));
    if c.delivery_timeout >= floor {
        return Ok(());
    }
    if let Some(e) = &x.delivery_timeout {
        return Err(problem(
            e.key,
            &e.field,
            format!(
                "{}: delivery.timeout.ms ({}) must be at least linger.ms + request.timeout.ms ({}); Kafka rejects this with a ConfigException",
                e.field,
                c.delivery_timeout.ms(),
                floor.ms()
            ),
        )
        .hint(format!("set `delivery.timeout.ms: {}` or more", floor.ms())));
    }
    // Kafka overrides a delivery.timeout.ms that was not set (and logs a warning).
    let at = x.request_timeout.as_ref().or(x.linger.as_ref());
    let (pos, field) = at.map_or((Pos::START, join(path, "delivery.timeout.ms")), |e| (e.key, e.field.clone()));
    cx.notes.push(Note {
        pos,
        field,
        message: format!(
            "{path}: delivery.timeout.ms is raised from {} to linger.ms + request.timeout.ms = {}, as Kafka does when it is not set",
            c.delivery_timeout.ms(),
            floor.ms()
        ),
    });
    c.delivery_timeout = floor;
    Ok(())
}
