//! The scenario an audit runs: the default workload (or `--workload FILE`) with the pasted
//! configs written in as overrides, so they pass the scenario loader's own checks.

use crate::clientconf::names::{to_java, Role};
use crate::clientconf::{Client, ClientConfig};
use crate::scenario::{Override, OverrideKind, Overrides};

/// The default workload: 3 brokers, one topic of 12 partitions with RF 3, one producer at
/// 300 records/s over 1000 keys for 50 s, one group of 3 consumers processing synchronously
/// (9 ms a record, exponential: the group runs at 90% of its capacity, so polls return batches), in batches of `max.poll.records` (Java) or of the
/// application's `consume(num_messages=100)` (librdkafka). `{CLIENT}` is the group's client.
pub const DEFAULT_WORKLOAD: &str = "name: audit
duration: 50s
drain: 40s
brokers: 3
topics:
  - { name: orders, partitions: 12, replication.factor: 3 }
producers:
  - { name: app, rate: 300/s, keys: 1000 }
consumers:
  - group: orders
    instances: 3
    processing_time: { exp: 9ms }
    client: {CLIENT}
    config: { auto.offset.reset: earliest {BATCH}}
";

/// librdkafka's producer defaults where they differ from the Java client's (CONFIGURATION.md):
/// linger 5 ms, no idempotence, a million requests in flight, message.timeout.ms 300000,
/// batch.size 1000000 bytes, queue.buffering.max.kbytes 1048576. Applied before the file's.
const LIBRDKAFKA_PRODUCER: &[(&str, &str)] = &[
    ("linger.ms", "5"),
    ("acks", "all"),
    ("enable.idempotence", "false"),
    ("max.in.flight.requests.per.connection", "1000000"),
    ("delivery.timeout.ms", "300000"),
    ("retries", "2147483647"),
    ("batch.size", "1000000"),
    ("buffer.memory", "1073741824"),
];

/// Whether librdkafka makes the producer idempotent: `enable.idempotence=true`, or a
/// `transactional.id` without `enable.idempotence` set.
fn librdkafka_idempotent(configs: &[ClientConfig]) -> bool {
    let rdk = || configs.iter().filter(|c| c.client == Client::Librdkafka && c.role != Role::Consumer);
    let value = |key: &str| rdk().flat_map(|c| c.entries.iter()).find(|e| e.key == key).map(|e| e.value.to_lowercase());
    match value("enable.idempotence") {
        Some(v) => v == "true",
        None => value("transactional.id").is_some(),
    }
}

/// Which client each side runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clients {
    pub producer: Client,
    pub consumer: Client,
}

/// The clients of the configs: a side no config is for runs the first config's client.
pub fn clients(configs: &[ClientConfig]) -> Clients {
    let first = configs.first().map_or(Client::Java, |c| c.client);
    let of = |role: Role| configs.iter().find(|c| c.role == role || c.role == Role::Both).map_or(first, |c| c.client);
    Clients { producer: of(Role::Producer), consumer: of(Role::Consumer) }
}

/// The default workload's text for these clients, and `kafka_version` if given.
pub fn default_text(clients: Clients, kafka_version: Option<&str>) -> String {
    let batch = match clients.consumer {
        Client::Java => "",
        Client::Librdkafka => ", max.poll.records: 100 ",
    };
    let mut text = DEFAULT_WORKLOAD.replace("{CLIENT}", clients.consumer.name()).replace("{BATCH}", batch);
    if let Some(v) = kafka_version {
        text.push_str(&format!("kafka_version: \"{v}\"\n"));
    }
    text
}

/// Every modelled config of the files as an override in the scenario's Java names, after
/// librdkafka's producer defaults when the producer is librdkafka's.
pub fn config_overrides(configs: &[ClientConfig], clients: Clients) -> Overrides {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Override>, kind, key: &str, value: String| {
        out.push(Override { kind, key: key.to_string(), value });
    };
    if clients.producer == Client::Librdkafka {
        let idempotent = librdkafka_idempotent(configs);
        for (k, v) in LIBRDKAFKA_PRODUCER {
            // rdkafka_conf.c rd_kafka_conf_finalize: a `transactional.id` turns idempotence on
            // unless the file turns it off, and idempotence caps max.in.flight at 5
            // (RD_KAFKA_IDEMP_MAX_INFLIGHT) unless the file sets it.
            let v = match *k {
                "enable.idempotence" if idempotent => "true",
                "max.in.flight.requests.per.connection" if idempotent => "5",
                _ => v,
            };
            push(&mut out, OverrideKind::Producer, k, v.to_string());
        }
    }
    let java = |n: &str| crate::scenario::config_names::Section::Producer.is_modelled(n);
    let consumer = |n: &str| crate::scenario::config_names::Section::Consumer.is_modelled(n);
    for c in configs {
        for e in &c.entries {
            if e.value == "null" || (e.key == "enable.auto.offset.store" && c.client == Client::Librdkafka) {
                if e.key == "enable.auto.offset.store" {
                    push(&mut out, OverrideKind::Consumer, &e.key, e.value.to_lowercase());
                }
                continue;
            }
            let Some((name, value)) = to_java(&e.key, &e.value, c.client) else { continue };
            // group.id names the workload's group; the workload keeps its own.
            if name == "group.id" {
                continue;
            }
            let for_producer = c.role != Role::Consumer && java(name);
            let for_consumer = c.role != Role::Producer && consumer(name);
            if for_producer {
                push(&mut out, OverrideKind::Producer, name, value.clone());
            }
            if for_consumer {
                push(&mut out, OverrideKind::Consumer, name, value);
            }
        }
    }
    Overrides(out)
}
