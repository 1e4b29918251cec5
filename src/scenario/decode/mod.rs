//! The loader proper: a positioned YAML tree → a validated [`Scenario`].
//!
//! Every check reports the position of the key or value it is about, a field
//! path like `producers[0].config.acks`, and where it helps a hint. Sections
//! are read in a fixed order (the order docs/scenario-format.md lists them
//! in), so the first problem reported is the first one in that order, not
//! necessarily in the file.
//!
//! One file per section (`brokers`, `network`, `producers`, `consumers`,
//! `aggregate`, `faults`, `chaos`, `expect`, `platform`); the Kafka-default
//! and preset resolution in `resolve_producer` / `resolve_consumer`; the fault
//! sequence checks in `timeline`; the readers they share in `tree`, `values`
//! and `timing`.

mod aggregate;
mod brokers;
mod chaos;
mod consumers;
mod context;
mod entities;
mod expect;
mod faults;
mod network;
mod platform;
mod problem;
mod producers;
mod resolve_consumer;
mod resolve_producer;
mod timeline;
mod timing;
mod tree;
mod values;

use super::model::*;
use super::yaml::{self, clip, AliasUse, Document, Node, Pos};
use crate::kernel::time::{Duration, Instant};
use context::{Cx, Preset};
pub use entities::instance_name;
use problem::{problem, R};
pub(crate) use problem::{Note, Problem};
use tree::{mapping, Map};
use values::{choice, duration, positive_duration, simple_name, string, u32_in, u64_in};

const TOP_FIELDS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "drain",
    "semantics",
    "kafka_version",
    "platform",
    "brokers",
    "broker_config",
    "network",
    "topics",
    "producers",
    "consumers",
    "faults",
    "chaos",
    "expect",
    "max_events",
    "sample_interval",
    "max_memory",
];

/// Loads a scenario; `semantics` (if given) replaces the file's `semantics:`.
pub(crate) fn load(
    source: &str,
    semantics: Option<Semantics>,
    overrides: &super::overrides::Overrides,
) -> Result<(Scenario, Vec<Note>), Problem> {
    let mut doc = parse(source)?;
    overrides.apply(&mut doc.root);
    let via = |pos: Pos| doc.aliases.get(&pos).map(alias_note).unwrap_or_default();
    match scenario(&doc.root, semantics) {
        Ok((scenario, mut notes)) => {
            for n in &mut notes {
                n.message.push_str(&via(n.pos));
            }
            Ok((scenario, notes))
        }
        Err(mut p) => {
            p.message.push_str(&via(p.pos));
            Err(p)
        }
    }
}

/// Says where the content at an alias's use came from.
fn alias_note(a: &AliasUse) -> String {
    let name = clip(&a.name);
    format!(
        " (in the alias `*{name}` used here; its anchor `&{name}` is at line {}, column {})",
        a.anchor.line, a.anchor.column
    )
}

fn scenario(root: &Node, semantics: Option<Semantics>) -> Result<(Scenario, Vec<Note>), Problem> {
    let top = mapping(root, "", "a mapping of fields (`name: ...`, `duration: ...`)")?;
    top.known(TOP_FIELDS)?;
    let mut cx = Cx { notes: Vec::new() };
    let head = header(&top, semantics)?;
    let broker = brokers::broker_settings(&mut cx, top.get("broker_config"), head.kafka_version)?;
    let network = network::network(top.value("network"))?;
    let (max_events, sample_interval, max_memory) = run_limits(&top)?;
    let topics = brokers::topics(&mut cx, &top, head.brokers, &broker)?;
    let version = head.kafka_version;
    let with = producers::With { topics: &topics, preset: head.preset, duration: head.duration, version };
    let (mut producers, producer_pos) = producers::producers(&mut cx, top.value("producers"), &with)?;
    let (mut consumers, consumer_pos) =
        consumers::consumers(&mut cx, top.value("consumers"), &topics, head.preset, version)?;
    // Consumers that `start:` or `scale:` faults bring up later exist from the beginning, stopped.
    if let Some(n) = top.value("faults") {
        entities::later_instances(n, &mut consumers);
    }
    let entities = entities::entity_names(head.brokers, &producers, &producer_pos, &consumers, &consumer_pos)?;
    let end = Instant(head.duration.us().saturating_add(head.drain.us()));
    let faults = match top.value("faults") {
        Some(n) => {
            let run = faults::Run {
                entities: &entities,
                consumers: &consumers,
                duration: head.duration,
                drain: head.drain,
                end,
            };
            faults::faults(n, &run)?
        }
        None => Vec::new(),
    };
    let chaos = match top.value("chaos") {
        Some(n) => Some(chaos::chaos(n, head.duration, end)?),
        None => None,
    };
    let expect = match top.get("expect") {
        Some(e) => expect::expectations(e.value)?,
        None => Vec::new(),
    };
    let platform = platform::platform(top.get("platform"), &mut producers, &consumers)?;
    let scenario = Scenario {
        name: head.name,
        description: head.description,
        seed: head.seed,
        duration: head.duration,
        drain: head.drain,
        semantics: head.preset.map(|p| p.semantics),
        kafka_version: version,
        platform,
        brokers: head.brokers,
        broker_config: broker.config,
        network,
        topics: topics.specs,
        producers,
        consumers,
        faults,
        chaos,
        expect,
        max_events,
        sample_interval,
        max_memory,
    };
    Ok((scenario, cx.notes))
}

/// The run's own limits: `max_events`, `sample_interval` and `max_memory`, or their defaults.
fn run_limits(top: &Map<'_>) -> R<(u64, Duration, u64)> {
    let max_events = match top.value("max_events") {
        Some(n) => u64_in(n, "max_events", 1, i128::from(u64::MAX))?,
        None => DEFAULT_MAX_EVENTS,
    };
    let sample_interval = match top.value("sample_interval") {
        Some(n) => positive_duration(n, "sample_interval")?,
        None => DEFAULT_SAMPLE_INTERVAL,
    };
    let max_memory = match top.value("max_memory") {
        Some(n) => max_memory(n)?,
        None => DEFAULT_MAX_MEMORY,
    };
    Ok((max_events, sample_interval, max_memory))
}

/// `max_memory: 4GiB`: a size, or a whole number of bytes.
fn max_memory(n: &Node) -> R<u64> {
    let text = string(n, "max_memory", "a size like `4GiB` or `512MiB`")?;
    crate::world::budget::parse_size(&text).map_err(|e| {
        problem(n.pos, "max_memory", format!("max_memory: {e}")).hint("e.g. `max_memory: 4GiB` (the default)")
    })
}

/// The document; an empty file is an error.
fn parse(source: &str) -> R<Document> {
    let doc = yaml::parse_document(source).map_err(|e| Problem {
        pos: e.pos,
        field: String::new(),
        message: e.message,
        hint: e.hint,
    })?;
    match doc {
        Some(d) if !d.root.is_null() => Ok(d),
        _ => Err(problem(Pos::START, "", "the scenario file is empty")
            .hint("a scenario needs at least `name`, `duration` and `topics`")),
    }
}

/// The top-level scalars read before any section.
struct Header {
    name: String,
    description: Option<String>,
    seed: u64,
    duration: Duration,
    drain: Duration,
    preset: Option<Preset>,
    brokers: u32,
    kafka_version: KafkaVersion,
}

/// `kafka_version: "3.9"` (or `3.9`, `3.9.1`): the release whose defaults apply.
fn kafka_version(n: &Node) -> R<KafkaVersion> {
    let text = match &n.value {
        yaml::Value::Scalar { text, .. } => text.trim().to_string(),
        _ => String::new(),
    };
    let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
    let parsed = match (parts.next().flatten(), parts.next().flatten(), parts.next(), parts.next()) {
        (Some(major), Some(minor), None | Some(Some(_)), None) => Some(KafkaVersion { major, minor }),
        _ => None,
    };
    let range = format!("{} to {}", KafkaVersion::OLDEST, KafkaVersion::NEWEST);
    match parsed {
        Some(v) if v >= KafkaVersion::OLDEST && v.major <= KafkaVersion::NEWEST.major => Ok(v),
        Some(v) => Err(problem(n.pos, "kafka_version", format!("kafka_version: {v} is not modelled"))
            .hint(format!("streamsim models the defaults of Kafka {range}"))),
        None => Err(problem(
            n.pos,
            "kafka_version",
            format!("kafka_version: expected a release like \"3.9\", found {}", n.describe()),
        )
        .hint(format!("write it quoted, `kafka_version: \"3.9\"`; Kafka {range} are modelled"))),
    }
}

fn header(top: &Map<'_>, semantics: Option<Semantics>) -> R<Header> {
    let name = simple_name(top.require("name", "name: my-scenario")?, "name")?;
    let description = match top.value("description") {
        Some(n) => Some(string(n, "description", "a text")?),
        None => None,
    };
    let seed = match top.value("seed") {
        Some(n) => u64_in(n, "seed", 0, i128::from(u64::MAX))?,
        None => 0,
    };
    let duration = positive_duration(top.require("duration", "duration: 60s")?, "duration")?;
    let drain = match top.value("drain") {
        Some(n) => self::duration(n, "drain")?,
        None => DEFAULT_DRAIN,
    };
    let semantics_entry = top.get("semantics").filter(|e| !e.value.is_null());
    let from_file = match semantics_entry {
        Some(e) => Some(choice(e.value, "semantics", &Semantics::ALL.map(|s| (s.name(), s)))?),
        None => None,
    };
    // Errors a preset causes point at the file's `semantics:` when it chose it.
    let preset = semantics.or(from_file).map(|s| Preset {
        semantics: s,
        pos: semantics_entry.filter(|_| from_file == Some(s)).map_or(Pos::START, |e| e.value.pos),
    });
    let brokers = match top.value("brokers") {
        Some(n) => u32_in(n, "brokers", 1, crate::scenario::limits::MAX_BROKERS)?,
        None => 1,
    };
    let kafka_version = match top.value("kafka_version") {
        Some(n) => kafka_version(n)?,
        None => KafkaVersion::NEWEST,
    };
    Ok(Header { name, description, seed, duration, drain, preset, brokers, kafka_version })
}
