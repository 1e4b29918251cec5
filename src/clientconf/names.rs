//! Config names of both clients: which exist, what type a modelled one takes, which name the
//! other client uses for the same thing, and the translation to the scenario's Java names.

use super::librdkafka_names::LIBRDKAFKA;
use super::{error, Client, Dialect, Entry};
use crate::scenario::config_names::Section;
use crate::scenario::suggest::closest;
use crate::scenario::LoadError;

/// Which client a name is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Producer,
    Consumer,
    Both,
}

/// A value's type, as librdkafka's CONFIGURATION.md names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Integer,
    Number,
    Boolean,
    Enum,
    Text,
    Pointer,
}

/// The same setting under the two clients' names: (Java, librdkafka). A name alone on one side
/// has no counterpart on the other.
pub(crate) const PAIRS: &[(&str, &str)] = &[
    ("linger.ms", "queue.buffering.max.ms"),
    ("fetch.max.wait.ms", "fetch.wait.max.ms"),
    ("buffer.memory", "queue.buffering.max.kbytes"),
    ("retries", "message.send.max.retries"),
    ("delivery.timeout.ms", "message.timeout.ms"),
    ("acks", "request.required.acks"),
    ("max.in.flight.requests.per.connection", "max.in.flight"),
    ("max.partition.fetch.bytes", "fetch.message.max.bytes"),
    ("max.poll.records", ""),
    ("max.block.ms", ""),
    ("key.serializer", ""),
    ("value.serializer", ""),
    ("key.deserializer", ""),
    ("value.deserializer", ""),
    ("", "enable.auto.offset.store"),
    ("", "batch.num.messages"),
    ("", "partitioner"),
    ("", "queue.buffering.max.messages"),
    ("", "socket.timeout.ms"),
];

fn java_has(name: &str) -> bool {
    // The scenario's consumer `config:` takes this one for `client: librdkafka` groups only.
    name != "enable.auto.offset.store" && (Section::Producer.has(name) || Section::Consumer.has(name))
}

fn java_names() -> Vec<&'static str> {
    let mut v = Section::Producer.all_names();
    v.extend(Section::Consumer.all_names());
    v
}

fn rdk(name: &str) -> Option<&'static (&'static str, Role, Type)> {
    LIBRDKAFKA.iter().find(|(n, _, _)| *n == name)
}

/// The client whose names the entries use: a Python dict is confluent-kafka's; a log dump is
/// the Java client's; otherwise whichever client has names the other lacks (Java when tied).
pub(crate) fn detect(dialect: Dialect, entries: &[Entry]) -> Client {
    match dialect {
        Dialect::PythonDict => Client::Librdkafka,
        Dialect::LogDump(_) => Client::Java,
        Dialect::Properties => {
            let only_rdk = entries.iter().filter(|e| rdk(&e.key).is_some() && !java_has(&e.key)).count();
            let only_java = entries.iter().filter(|e| java_has(&e.key) && rdk(&e.key).is_none()).count();
            if only_rdk > only_java {
                Client::Librdkafka
            } else {
                Client::Java
            }
        }
    }
}

/// Producer, consumer or both, from the client-specific names set.
pub(crate) fn role_of(entries: &[Entry], client: Client) -> Role {
    let role = |name: &str| match client {
        Client::Java if Section::Consumer.has(name) && !Section::Producer.has(name) => Role::Consumer,
        Client::Java if Section::Producer.has(name) && !Section::Consumer.has(name) => Role::Producer,
        Client::Librdkafka => rdk(name).map_or(Role::Both, |r| r.1),
        Client::Java => Role::Both,
    };
    let producer = entries.iter().any(|e| role(&e.key) == Role::Producer);
    let consumer = entries.iter().any(|e| role(&e.key) == Role::Consumer);
    match (producer, consumer) {
        (true, false) => Role::Producer,
        (false, true) => Role::Consumer,
        _ => Role::Both,
    }
}

/// The other client's name for `name`, if it has one that differs.
fn counterpart(name: &str, client: Client) -> Option<&'static str> {
    PAIRS.iter().find_map(|(j, r)| match client {
        Client::Java if *r == name => Some(*j),
        Client::Librdkafka if *j == name => Some(*r),
        _ => None,
    })
}

/// Fails on a name the client does not have, or a modelled value of the wrong type.
pub(crate) fn check(e: &Entry, client: Client, file: &str) -> Result<(), LoadError> {
    let exists = match client {
        Client::Java => java_has(&e.key),
        Client::Librdkafka => rdk(&e.key).is_some(),
    };
    if !exists {
        return Err(unknown(e, client, file));
    }
    match expected_type(&e.key, client) {
        Some(t) if !fits(&e.value, t, &e.key) => Err(error(
            file,
            e.line,
            e.column,
            &e.key,
            format!("`{}`: expected {}, found `{}`", e.key, type_name(t, &e.key), crate::scenario::clip_text(&e.value)),
            Some(format!("{} takes {}", e.key, type_name(t, &e.key))),
        )),
        _ => Ok(()),
    }
}

fn unknown(e: &Entry, client: Client, file: &str) -> LoadError {
    let other = match client {
        Client::Java => Client::Librdkafka,
        Client::Librdkafka => Client::Java,
    };
    let in_other = match other {
        Client::Java => java_has(&e.key),
        Client::Librdkafka => rdk(&e.key).is_some(),
    };
    let (message, hint) = if in_other {
        let ours = counterpart(&e.key, client).filter(|n| !n.is_empty());
        let owner = match other {
            Client::Java => "the Java client's",
            Client::Librdkafka => "librdkafka's",
        };
        let message = match ours {
            Some(n) => format!("`{}` is {owner} name; {} calls it `{n}`", e.key, client.noun()),
            None => format!("`{}` is {owner} name; {} has no such config", e.key, client.noun()),
        };
        (message, format!("or pass `--client {}` if the whole file is for {}", other.name(), other.noun()))
    } else {
        let java = closest(&e.key, java_names());
        let rdk_names = LIBRDKAFKA.iter().map(|r| r.0);
        let rdk_near = closest(&e.key, rdk_names);
        let say = |n: Option<&str>| n.map_or("nothing close".to_string(), |n| format!("`{n}`"));
        (
            format!("unknown config `{}` for {}", e.key, client.noun()),
            format!("nearest names: Java {}, librdkafka {}", say(java), say(rdk_near)),
        )
    };
    error(file, e.line, e.column, &e.key, message, Some(hint))
}

/// The type a modelled config takes (others are passed over, so any value is accepted).
fn expected_type(name: &str, client: Client) -> Option<Type> {
    const INTS: &[&str] = &[
        "linger.ms",
        "queue.buffering.max.ms",
        "retries",
        "message.send.max.retries",
        "max.in.flight.requests.per.connection",
        "max.in.flight",
        "delivery.timeout.ms",
        "message.timeout.ms",
        "request.timeout.ms",
        "retry.backoff.ms",
        "batch.size",
        "batch.num.messages",
        "buffer.memory",
        "queue.buffering.max.kbytes",
        "max.block.ms",
        "transaction.timeout.ms",
        "auto.commit.interval.ms",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "max.poll.interval.ms",
        "max.poll.records",
        "fetch.max.wait.ms",
        "fetch.wait.max.ms",
        "max.partition.fetch.bytes",
    ];
    const BOOLS: &[&str] = &["enable.idempotence", "enable.auto.commit", "enable.auto.offset.store"];
    const ENUMS: &[&str] = &["acks", "request.required.acks", "auto.offset.reset", "isolation.level", "partitioner"];
    let _ = client;
    if INTS.contains(&name) {
        Some(if name == "linger.ms" || name == "queue.buffering.max.ms" { Type::Number } else { Type::Integer })
    } else if BOOLS.contains(&name) {
        Some(Type::Boolean)
    } else if ENUMS.contains(&name) {
        Some(Type::Enum)
    } else {
        None
    }
}

fn enum_values(name: &str) -> &'static [&'static str] {
    match name {
        "acks" | "request.required.acks" => &["all", "-1", "0", "1"],
        "auto.offset.reset" => &["smallest", "earliest", "beginning", "largest", "latest", "end", "error", "none"],
        "isolation.level" => &["read_committed", "read_uncommitted"],
        "partitioner" => {
            &["random", "consistent", "consistent_random", "murmur2", "murmur2_random", "fnv1a", "fnv1a_random"]
        }
        _ => &[],
    }
}

fn fits(value: &str, t: Type, name: &str) -> bool {
    match t {
        Type::Integer => value.parse::<i64>().is_ok(),
        Type::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
        Type::Boolean => matches!(value.to_ascii_lowercase().as_str(), "true" | "false"),
        Type::Enum => enum_values(name).contains(&value),
        Type::Text | Type::Pointer => true,
    }
}

fn type_name(t: Type, name: &str) -> String {
    match t {
        Type::Integer => "an integer".to_string(),
        Type::Number => "a number of milliseconds".to_string(),
        Type::Boolean => "a boolean (true or false)".to_string(),
        Type::Enum => format!("one of {}", enum_values(name).join(", ")),
        Type::Text | Type::Pointer => "a text".to_string(),
    }
}

/// The Java name the scenario uses for a client's name, and its value in Java's terms; None
/// for a name the model does not read.
pub fn to_java(name: &str, value: &str, client: Client) -> Option<(&'static str, String)> {
    let java = match client {
        Client::Java => {
            Section::Producer.modelled().iter().chain(Section::Consumer.modelled()).find(|n| **n == name)?
        }
        Client::Librdkafka => match PAIRS.iter().find(|(_, r)| *r == name) {
            Some((j, _)) if !j.is_empty() => j,
            _ => Section::Producer.modelled().iter().chain(Section::Consumer.modelled()).find(|n| **n == name)?,
        },
    };
    let value = match (*java, value) {
        ("acks", "-1") => "all".to_string(),
        ("auto.offset.reset", "smallest" | "beginning") => "earliest".to_string(),
        ("auto.offset.reset", "largest" | "end") => "latest".to_string(),
        ("auto.offset.reset", "error") => "none".to_string(),
        // queue.buffering.max.kbytes is in KiB; buffer.memory in bytes.
        ("buffer.memory", v) if client == Client::Librdkafka => {
            v.parse::<u64>().map_or(v.to_string(), |k| (k * 1024).to_string())
        }
        // librdkafka's linger is a float of milliseconds; the model's unit is 1 ms here.
        ("linger.ms", v) => v.parse::<f64>().map_or(v.to_string(), |f| (f.round() as u64).to_string()),
        ("partition.assignment.strategy", v) => assignors(v),
        (_, v) => v.to_string(),
    };
    Some((java, value))
}

/// `[class org.apache.kafka.clients.consumer.RangeAssignor, ...]` (a log dump) or
/// `range,roundrobin` → the scenario's names.
fn assignors(v: &str) -> String {
    let names: Vec<&str> = v
        .trim_matches(['[', ']'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.rsplit('.').next().unwrap_or(s) {
            "RangeAssignor" => "range",
            "RoundRobinAssignor" => "roundrobin",
            "StickyAssignor" => "sticky",
            "CooperativeStickyAssignor" => "cooperative-sticky",
            other => other,
        })
        .collect();
    names.join(",")
}
