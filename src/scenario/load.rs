//! The loader: YAML text → validated [`Scenario`], or one clear error naming
//! the file, line, column and field (with a suggestion for a typo).

use std::fmt;

use serde_yaml::{Mapping, Value};

use super::kafka_names::{sections_of, suggest, Section};
use super::locate::{locate, scalar_text, Path};
use super::model::*;
use super::units::{parse_duration, parse_rate};
use crate::kernel::rng::Dist;
use crate::kernel::time::{Duration, Instant};
use crate::oracle::metrics::METRICS;

/// A scenario that loaded, and the warnings it raised.
#[derive(Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    pub warnings: Vec<Warning>,
}

/// Something accepted but worth saying (a Kafka config streamsim ignores).
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Why a scenario did not load.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 when the file could not be read at all.
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "error: {}: {}", self.file, self.message)?;
        } else {
            write!(f, "error: {}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// A problem found at a path; located in the text when reported.
struct Problem {
    path: Path,
    message: String,
    hint: Option<String>,
}

type Res<T> = Result<T, Problem>;

fn problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem { path: path.clone(), message: message.into(), hint: None }
}

fn hinted(path: &Path, message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem { path: path.clone(), message: message.into(), hint: Some(hint.into()) }
}

struct Cx<'a> {
    source: &'a str,
    file: &'a str,
    warnings: Vec<Warning>,
}

impl Cx<'_> {
    fn warn(&mut self, path: &Path, message: String) {
        let (line, column) = locate(self.source, path);
        self.warnings.push(Warning { file: self.file.to_string(), line, column, field: path.to_string(), message });
    }
}

/// Reads and loads a scenario file.
pub fn load_file(path: &std::path::Path) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: file.clone(),
        line: 0,
        column: 0,
        field: String::new(),
        message: format!("cannot read the scenario file: {e}"),
        hint: None,
    })?;
    load_str(&source, &file)
}

/// Loads a scenario from text; `file` names it in messages.
pub fn load_str(source: &str, file: &str) -> Result<Loaded, LoadError> {
    let doc: Value = serde_yaml::from_str(source).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let mut message = e.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        LoadError {
            file: file.to_string(),
            line,
            column,
            field: String::new(),
            message: format!("invalid YAML: {message}"),
            hint: None,
        }
    })?;
    let mut cx = Cx { source, file, warnings: Vec::new() };
    match scenario(&mut cx, &doc) {
        Ok(scenario) => Ok(Loaded { scenario, warnings: cx.warnings }),
        Err(p) => {
            let (line, column) = locate(source, &p.path);
            Err(LoadError {
                file: file.to_string(),
                line,
                column,
                field: p.path.to_string(),
                message: p.message,
                hint: p.hint,
            })
        }
    }
}

// ---- small readers ----

fn mapping<'v>(v: &'v Value, path: &Path) -> Res<&'v Mapping> {
    v.as_mapping().ok_or_else(|| problem(path, format!("`{path}` must be a mapping of `key: value`")))
}

fn seq<'v>(v: &'v Value, path: &Path) -> Res<&'v Vec<Value>> {
    v.as_sequence().ok_or_else(|| problem(path, format!("`{path}` must be a list (`- ...` items)")))
}

/// The keys of `m` as strings, checked against `allowed`.
fn keys(m: &Mapping, path: &Path, allowed: &[&str]) -> Res<()> {
    for k in m.keys() {
        let Some(name) = scalar_text(k) else {
            return Err(problem(path, format!("`{path}` has a key that is not a name")));
        };
        if !allowed.contains(&name.as_str()) {
            let where_ = if path.0.is_empty() { "at the top level".to_string() } else { format!("in `{path}`") };
            let hint = match suggest(&name, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("valid fields: {}", allowed.join(", ")),
            };
            return Err(hinted(&path.key(&name), format!("unknown field `{name}` {where_}"), hint));
        }
    }
    Ok(())
}

fn get<'v>(m: &'v Mapping, key: &str) -> Option<&'v Value> {
    m.get(key).filter(|v| !v.is_null())
}

fn string(v: &Value, path: &Path) -> Res<String> {
    scalar_text(v).ok_or_else(|| problem(path, format!("`{path}` must be a text value")))
}

fn uint(v: &Value, path: &Path) -> Res<u64> {
    let parsed = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| problem(path, format!("`{path}` must be a whole number >= 0, not `{}`", show(v))))
}

fn boolean(v: &Value, path: &Path) -> Res<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(problem(path, format!("`{path}` must be true or false, not `{}`", show(v)))),
    }
}

fn show(v: &Value) -> String {
    scalar_text(v).unwrap_or_else(|| match v {
        Value::Null => "~".into(),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        _ => "a tagged value".into(),
    })
}

fn duration(v: &Value, path: &Path) -> Res<Duration> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            return Err(hinted(path, format!("`{path}`: `{n}` has no unit"), format!("write e.g. `{n}ms` or `{n}s`")));
        }
        _ => return Err(problem(path, format!("`{path}` must be a duration like `500ms`"))),
    };
    parse_duration(&text).map_err(|m| problem(path, format!("`{path}`: {m}")))
}

fn ms(v: &Value, path: &Path) -> Res<Duration> {
    Ok(Duration::from_ms(uint(v, path)?.min(u64::MAX / 4_000)))
}

fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A distribution: a duration, or `{ exp: d }`, `{ uniform: [a, b] }`, `{ lognormal: { median, p99 } }`.
fn dist(v: &Value, path: &Path) -> Res<Dist> {
    let Some(m) = v.as_mapping() else { return Ok(Dist::Constant(duration(v, path)?)) };
    keys(m, path, &["exp", "uniform", "lognormal", "constant"])?;
    if m.len() != 1 {
        return Err(problem(
            path,
            format!("`{path}` must name exactly one distribution: exp, uniform, lognormal or constant"),
        ));
    }
    let (k, inner) = m.iter().next().expect("one entry");
    let k = scalar_text(k).unwrap_or_default();
    let p = path.key(&k);
    match k.as_str() {
        "constant" => Ok(Dist::Constant(duration(inner, &p)?)),
        "exp" => Ok(Dist::Exp { mean: duration(inner, &p)? }),
        "uniform" => {
            let items = seq(inner, &p)?;
            if items.len() != 2 {
                return Err(problem(&p, format!("`{p}` takes two durations: [low, high]")));
            }
            let (low, high) = (duration(&items[0], &p.index(0))?, duration(&items[1], &p.index(1))?);
            if low > high {
                return Err(problem(&p, format!("`{p}`: low ({low}) is above high ({high})")));
            }
            Ok(Dist::Uniform { low, high })
        }
        _ => {
            let lm = mapping(inner, &p)?;
            keys(lm, &p, &["median", "p99"])?;
            let median = duration(
                get(lm, "median").ok_or_else(|| problem(&p, format!("`{p}` needs `median`")))?,
                &p.key("median"),
            )?;
            let p99 =
                duration(get(lm, "p99").ok_or_else(|| problem(&p, format!("`{p}` needs `p99`")))?, &p.key("p99"))?;
            if median == Duration::ZERO || p99 < median {
                return Err(problem(&p, format!("`{p}` needs 0 < median <= p99")));
            }
            Ok(Dist::LogNormal { median, p99 })
        }
    }
}

// ---- the scenario ----

const TOP: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "drain",
    "semantics",
    "brokers",
    "broker_config",
    "network",
    "topics",
    "producers",
    "consumers",
    "faults",
    "expect",
    "max_events",
    "sample_interval",
];

fn scenario(cx: &mut Cx, doc: &Value) -> Res<Scenario> {
    let root = Path::default();
    let m = mapping(doc, &root)?;
    keys(m, &root, TOP)?;
    let name_v = get(m, "name").ok_or_else(|| hinted(&root, "missing field `name`", "add e.g. `name: my-scenario`"))?;
    let name = string(name_v, &root.key("name"))?;
    if !name_ok(&name) {
        return Err(problem(
            &root.key("name"),
            format!("`name` must be lowercase letters, digits and `-`, not `{name}`"),
        ));
    }
    let description = get(m, "description").map(|v| string(v, &root.key("description"))).transpose()?;
    let seed = get(m, "seed").map(|v| uint(v, &root.key("seed"))).transpose()?.unwrap_or(0);
    let dur_v =
        get(m, "duration").ok_or_else(|| hinted(&root, "missing field `duration`", "add e.g. `duration: 60s`"))?;
    let duration_ = duration(dur_v, &root.key("duration"))?;
    if duration_ == Duration::ZERO {
        return Err(problem(&root.key("duration"), "`duration` must be above zero"));
    }
    let drain = get(m, "drain").map(|v| duration(v, &root.key("drain"))).transpose()?.unwrap_or(DEFAULT_DRAIN);
    let semantics = match get(m, "semantics") {
        None => None,
        Some(v) => {
            let p = root.key("semantics");
            let s = string(v, &p)?;
            let found = Semantics::ALL.into_iter().find(|x| x.name() == s);
            let Some(sem) = found else {
                let hint = match suggest(&s, Semantics::ALL.iter().map(|x| x.name())) {
                    Some(x) => format!("did you mean `{x}`?"),
                    None => "one of: at-most-once, at-least-once, exactly-once, effectively-once".into(),
                };
                return Err(hinted(&p, format!("unknown semantics `{s}`"), hint));
            };
            if sem == Semantics::ExactlyOnce {
                return Err(hinted(
                    &p,
                    "`semantics: exactly-once` needs transactions, which streamsim does not model yet",
                    "use `semantics: effectively-once` (at-least-once delivery into an idempotent sink)",
                ));
            }
            Some(sem)
        }
    };
    let brokers = match get(m, "brokers") {
        Some(v) => uint(v, &root.key("brokers"))?,
        None => 1,
    };
    if brokers == 0 || brokers > 1000 {
        return Err(problem(&root.key("brokers"), format!("`brokers` must be between 1 and 1000, not {brokers}")));
    }
    let brokers = brokers as u32;
    let broker_config = match get(m, "broker_config") {
        Some(v) => broker_config(cx, v, &root.key("broker_config"))?,
        None => (BrokerConfig::default(), None),
    };
    let (broker_config, default_rf) = broker_config;
    let network = match get(m, "network") {
        Some(v) => {
            let p = root.key("network");
            let nm = mapping(v, &p)?;
            keys(nm, &p, &["latency"])?;
            match get(nm, "latency") {
                Some(l) => NetworkSpec { latency: dist(l, &p.key("latency"))? },
                None => NetworkSpec::default(),
            }
        }
        None => NetworkSpec::default(),
    };
    let topics_v = get(m, "topics").ok_or_else(|| hinted(&root, "missing field `topics`", "add at least one topic"))?;
    let topics = topics(cx, topics_v, &root.key("topics"), brokers, &broker_config, default_rf)?;
    let producers = match get(m, "producers") {
        Some(v) => producers(cx, v, &root.key("producers"), &topics, semantics)?,
        None => Vec::new(),
    };
    let consumers = match get(m, "consumers") {
        Some(v) => consumers(cx, v, &root.key("consumers"), &topics, semantics)?,
        None => Vec::new(),
    };
    // Instance names must be unique across everything a fault can name.
    let mut names: Vec<(String, Target)> = (0..brokers).map(|b| (format!("broker-{b}"), Target::Broker(b))).collect();
    for (i, p) in producers.iter().enumerate() {
        names.extend((0..p.instances).map(|n| (format!("{}-{n}", p.name), Target::Producer(i, n))));
    }
    for (i, c) in consumers.iter().enumerate() {
        names.extend((0..c.instances).map(|n| (format!("{}-{n}", c.group, n = n), Target::Consumer(i, n))));
    }
    let mut sorted: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        let which =
            if producers.iter().any(|p| w[0].starts_with(&format!("{}-", p.name))) { "producers" } else { "consumers" };
        return Err(problem(
            &root.key(which),
            format!("two entities would both be named `{}`; rename a producer or group", w[0]),
        ));
    }
    let end = Instant::ZERO.add(duration_).add(drain);
    let faults = match get(m, "faults") {
        Some(v) => faults(v, &root.key("faults"), &names, end)?,
        None => Vec::new(),
    };
    let expect = match get(m, "expect") {
        Some(v) => expectations(v, &root.key("expect"))?,
        None => Vec::new(),
    };
    let max_events =
        get(m, "max_events").map(|v| uint(v, &root.key("max_events"))).transpose()?.unwrap_or(DEFAULT_MAX_EVENTS);
    if max_events == 0 {
        return Err(problem(&root.key("max_events"), "`max_events` must be above zero"));
    }
    let sample_interval = get(m, "sample_interval")
        .map(|v| duration(v, &root.key("sample_interval")))
        .transpose()?
        .unwrap_or(DEFAULT_SAMPLE_INTERVAL);
    if sample_interval == Duration::ZERO {
        return Err(problem(&root.key("sample_interval"), "`sample_interval` must be above zero"));
    }
    Ok(Scenario {
        name,
        description,
        seed,
        duration: duration_,
        drain,
        semantics,
        brokers,
        broker_config,
        network,
        topics,
        producers,
        consumers,
        faults,
        expect,
        max_events,
        sample_interval,
    })
}

/// Iterates a `config:` mapping: modelled names go to `apply`; real Kafka names
/// streamsim ignores raise a warning; anything else is an error.
fn kafka_config(
    cx: &mut Cx,
    v: &Value,
    path: &Path,
    section: Section,
    mut apply: impl FnMut(&str, &Value, &Path) -> Res<()>,
) -> Res<()> {
    let m = mapping(v, path)?;
    for (k, val) in m {
        let key = scalar_text(k).ok_or_else(|| problem(path, format!("`{path}` has a key that is not a name")))?;
        let p = path.key(&key);
        let modelled = section.modelled().contains(&key.as_str())
            || (section == Section::Topic && key == "replica.lag.time.max.ms");
        if modelled {
            if val.is_null() {
                return Err(problem(&p, format!("`{p}` has no value")));
            }
            apply(&key, val, &p)?;
        } else if section.is_known_unmodelled(&key) {
            cx.warn(
                &p,
                format!(
                    "`{key}` is a real Kafka {} config that streamsim does not model; it is ignored",
                    section.noun()
                ),
            );
        } else {
            let others: Vec<&str> = sections_of(&key).into_iter().filter(|s| *s != section).map(|s| s.noun()).collect();
            if let Some(other) = others.first() {
                return Err(problem(&p, format!("`{key}` is a Kafka {other} config, not a {} config", section.noun())));
            }
            let hint = match suggest(&key, section.all_names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "see Kafka's {} configs; streamsim models: {}",
                    section.noun(),
                    section.modelled().join(", ")
                ),
            };
            return Err(hinted(&p, format!("unknown {} config `{key}` in `{path}`", section.noun()), hint));
        }
    }
    Ok(())
}

fn broker_config(cx: &mut Cx, v: &Value, path: &Path) -> Res<(BrokerConfig, Option<u32>)> {
    let mut bc = BrokerConfig::default();
    let mut rf = None;
    kafka_config(cx, v, path, Section::Broker, |k, val, p| {
        match k {
            "broker.session.timeout.ms" => bc.broker_session_timeout = ms(val, p)?,
            "group.initial.rebalance.delay.ms" => bc.group_initial_rebalance_delay = ms(val, p)?,
            "replica.fetch.wait.max.ms" => bc.replica_fetch_wait_max = ms(val, p)?,
            "default.replication.factor" => rf = Some(uint(val, p)?.min(u32::MAX as u64) as u32),
            "min.insync.replicas" => bc.topic_defaults.min_insync_replicas = uint(val, p)?.min(u32::MAX as u64) as u32,
            "unclean.leader.election.enable" => bc.topic_defaults.unclean_leader_election_enable = boolean(val, p)?,
            "replica.lag.time.max.ms" => bc.topic_defaults.replica_lag_time_max = ms(val, p)?,
            _ => unreachable!("every modelled broker config is handled"),
        }
        Ok(())
    })?;
    Ok((bc, rf))
}

fn topics(
    cx: &mut Cx,
    v: &Value,
    path: &Path,
    brokers: u32,
    bc: &BrokerConfig,
    default_rf: Option<u32>,
) -> Res<Vec<TopicSpec>> {
    let items = seq(v, path)?;
    if items.is_empty() {
        return Err(problem(path, "`topics` needs at least one topic"));
    }
    let mut out: Vec<TopicSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let m = mapping(item, &p)?;
        keys(m, &p, &["name", "partitions", "replication.factor", "config"])?;
        let name =
            string(get(m, "name").ok_or_else(|| problem(&p, format!("`{p}` is missing `name`")))?, &p.key("name"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(problem(
                &p.key("name"),
                format!("topic name `{name}` may use only letters, digits, `.`, `_` and `-`"),
            ));
        }
        if out.iter().any(|t| t.name == name) {
            return Err(problem(&p.key("name"), format!("topic `{name}` is defined twice")));
        }
        let partitions = uint(
            get(m, "partitions").ok_or_else(|| problem(&p, format!("`{p}` is missing `partitions`")))?,
            &p.key("partitions"),
        )?;
        if partitions == 0 || partitions > 10_000 {
            return Err(problem(
                &p.key("partitions"),
                format!("`partitions` must be between 1 and 10000, not {partitions}"),
            ));
        }
        let rf = match get(m, "replication.factor") {
            Some(v) => uint(v, &p.key("replication.factor"))?,
            None => default_rf.unwrap_or(1) as u64,
        };
        let rf_path = p.key("replication.factor");
        if rf == 0 || rf > 64 {
            return Err(problem(&rf_path, format!("`replication.factor` must be between 1 and 64, not {rf}")));
        }
        if rf > brokers as u64 {
            return Err(hinted(
                &rf_path,
                format!(
                    "topic `{name}` needs {rf} brokers for replication.factor {rf}, but the scenario has {brokers}"
                ),
                format!("set `brokers: {rf}` or lower `replication.factor`"),
            ));
        }
        let mut config = bc.topic_defaults.clone();
        if let Some(cv) = get(m, "config") {
            kafka_config(cx, cv, &p.key("config"), Section::Topic, |k, val, kp| {
                match k {
                    "min.insync.replicas" => config.min_insync_replicas = uint(val, kp)?.min(u32::MAX as u64) as u32,
                    "unclean.leader.election.enable" => config.unclean_leader_election_enable = boolean(val, kp)?,
                    "replica.lag.time.max.ms" => config.replica_lag_time_max = ms(val, kp)?,
                    _ => unreachable!("every modelled topic config is handled"),
                }
                Ok(())
            })?;
        }
        let misr_path = p.key("config").key("min.insync.replicas");
        if config.min_insync_replicas == 0 {
            return Err(problem(&misr_path, "`min.insync.replicas` must be at least 1"));
        }
        if config.min_insync_replicas as u64 > rf {
            return Err(hinted(
                &misr_path,
                format!("min.insync.replicas ({}) is larger than replication.factor ({rf}) of topic `{name}`: acks=all could never succeed", config.min_insync_replicas),
                "min.insync.replicas must be <= replication.factor",
            ));
        }
        if config.replica_lag_time_max == Duration::ZERO {
            return Err(problem(
                &p.key("config").key("replica.lag.time.max.ms"),
                "`replica.lag.time.max.ms` must be above zero",
            ));
        }
        out.push(TopicSpec { name, partitions: partitions as u32, replication_factor: rf as u32, config });
    }
    Ok(out)
}

fn topic_ref(m: &Mapping, p: &Path, topics: &[TopicSpec]) -> Res<usize> {
    match get(m, "topic") {
        Some(v) => {
            let tp = p.key("topic");
            let t = string(v, &tp)?;
            topics.iter().position(|x| x.name == t).ok_or_else(|| {
                let hint = match suggest(&t, topics.iter().map(|x| x.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        format!("topics: {}", topics.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", "))
                    }
                };
                hinted(&tp, format!("no topic named `{t}`"), hint)
            })
        }
        None if topics.len() == 1 => Ok(0),
        None => Err(problem(p, format!("`{p}` must name its `topic` (the scenario has {} topics)", topics.len()))),
    }
}

fn instances(m: &Mapping, p: &Path) -> Res<u32> {
    let n = get(m, "instances").map(|v| uint(v, &p.key("instances"))).transpose()?.unwrap_or(1);
    if n == 0 || n > 1000 {
        return Err(problem(&p.key("instances"), format!("`instances` must be between 1 and 1000, not {n}")));
    }
    Ok(n as u32)
}

fn rate(v: &Value, p: &Path) -> Res<Rate> {
    let (text, kind, tp) = match v {
        Value::Mapping(m) => {
            keys(m, p, &["constant", "poisson"])?;
            let (k, inner) = m.iter().next().ok_or_else(|| problem(p, "`rate` needs `constant` or `poisson`"))?;
            if m.len() != 1 {
                return Err(problem(p, "`rate` takes one of `constant` or `poisson`"));
            }
            let k = scalar_text(k).unwrap_or_default();
            let kind = if k == "constant" { ArrivalKind::Constant } else { ArrivalKind::Poisson };
            (string(inner, &p.key(&k))?, kind, p.key(&k))
        }
        _ => (string(v, p)?, ArrivalKind::Poisson, p.clone()),
    };
    let (count, per) = parse_rate(&text).map_err(|e| problem(&tp, format!("`{tp}`: {e}")))?;
    Ok(Rate { count, per, kind })
}

fn acks(v: &Value, p: &Path) -> Res<Acks> {
    match scalar_text(v).as_deref() {
        Some("0") => Ok(Acks::Zero),
        Some("1") => Ok(Acks::One),
        Some("all") | Some("-1") => Ok(Acks::All),
        _ => Err(hinted(
            p,
            format!("`acks` must be 0, 1 or all, not `{}`", show(v)),
            "acks: all (or -1) waits for every in-sync replica",
        )),
    }
}

fn producers(
    cx: &mut Cx,
    v: &Value,
    path: &Path,
    topics: &[TopicSpec],
    sem: Option<Semantics>,
) -> Res<Vec<ProducerSpec>> {
    let items = seq(v, path)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let m = mapping(item, &p)?;
        keys(m, &p, &["name", "topic", "instances", "rate", "messages", "keys", "record_bytes", "config"])?;
        let name =
            string(get(m, "name").ok_or_else(|| problem(&p, format!("`{p}` is missing `name`")))?, &p.key("name"))?;
        if !name_ok(&name) {
            return Err(problem(
                &p.key("name"),
                format!("producer name must be lowercase letters, digits and `-`, not `{name}`"),
            ));
        }
        let topic = topic_ref(m, &p, topics)?;
        let instances = instances(m, &p)?;
        let rate = rate(
            get(m, "rate").ok_or_else(|| hinted(&p, format!("`{p}` is missing `rate`"), "add e.g. `rate: 100/s`"))?,
            &p.key("rate"),
        )?;
        let messages = get(m, "messages").map(|v| uint(v, &p.key("messages"))).transpose()?;
        if messages == Some(0) {
            return Err(problem(&p.key("messages"), "`messages` must be at least 1 (omit it for no cap)"));
        }
        let keys_n = get(m, "keys").map(|v| uint(v, &p.key("keys"))).transpose()?.unwrap_or(100);
        if keys_n > 10_000_000 {
            return Err(problem(&p.key("keys"), "`keys` must be at most 10,000,000"));
        }
        let record_bytes = get(m, "record_bytes").map(|v| uint(v, &p.key("record_bytes"))).transpose()?.unwrap_or(100);
        if record_bytes == 0 || record_bytes > 100_000_000 {
            return Err(problem(&p.key("record_bytes"), "`record_bytes` must be between 1 and 100000000"));
        }
        // Preset first, then the file's explicit configs.
        let mut c = ProducerConfig::default();
        match sem {
            Some(Semantics::AtMostOnce) => {
                c.acks = Acks::One;
                c.retries = 0;
                c.enable_idempotence = false;
            }
            Some(Semantics::AtLeastOnce) => {
                c.acks = Acks::All;
                c.enable_idempotence = false;
            }
            Some(Semantics::EffectivelyOnce) | Some(Semantics::ExactlyOnce) | None => {}
        }
        let preset_idempotence = c.enable_idempotence;
        let mut explicit_idempotence = None;
        let mut conflict_path: Option<(Path, String)> = None;
        let cp = p.key("config");
        if let Some(cv) = get(m, "config") {
            kafka_config(cx, cv, &cp, Section::Producer, |k, val, kp| {
                match k {
                    "acks" => {
                        c.acks = acks(val, kp)?;
                        if c.acks != Acks::All {
                            conflict_path = Some((kp.clone(), "acks=all".into()));
                        }
                    }
                    "enable.idempotence" => explicit_idempotence = Some(boolean(val, kp)?),
                    "retries" => {
                        let r = uint(val, kp)?;
                        if r > i32::MAX as u64 {
                            return Err(problem(kp, "`retries` must be at most 2147483647"));
                        }
                        c.retries = r as u32;
                        if r == 0 {
                            conflict_path = Some((kp.clone(), "retries > 0".into()));
                        }
                    }
                    "max.in.flight.requests.per.connection" => {
                        let n = uint(val, kp)?;
                        if n == 0 || n > 1000 {
                            return Err(problem(
                                kp,
                                "`max.in.flight.requests.per.connection` must be between 1 and 1000",
                            ));
                        }
                        c.max_in_flight_requests_per_connection = n as u32;
                        if n > 5 {
                            conflict_path = Some((kp.clone(), "max.in.flight.requests.per.connection <= 5".into()));
                        }
                    }
                    "delivery.timeout.ms" => c.delivery_timeout = ms(val, kp)?,
                    "request.timeout.ms" => c.request_timeout = ms(val, kp)?,
                    "retry.backoff.ms" => c.retry_backoff = ms(val, kp)?,
                    "linger.ms" => c.linger = ms(val, kp)?,
                    "batch.size" => c.batch_size = uint(val, kp)?.min(u32::MAX as u64) as u32,
                    "transactional.id" => {
                        return Err(hinted(
                            kp,
                            "`transactional.id`: transactions are not modelled yet",
                            "remove it; `enable.idempotence: true` gives the idempotent producer",
                        ))
                    }
                    _ => unreachable!("every modelled producer config is handled"),
                }
                Ok(())
            })?;
        }
        // Kafka's rules: explicit idempotence with a conflicting config is a
        // ConfigException; a default one is silently switched off.
        c.enable_idempotence = match (explicit_idempotence, &conflict_path) {
            (Some(true), Some((kp, needs))) => {
                return Err(hinted(
                    kp,
                    format!("enable.idempotence=true needs {needs} (Kafka raises a ConfigException)"),
                    "drop `enable.idempotence: true`, or change this config",
                ));
            }
            (Some(b), _) => b,
            (None, Some(_)) => false,
            (None, None) => preset_idempotence,
        };
        if c.request_timeout == Duration::ZERO {
            return Err(problem(&cp.key("request.timeout.ms"), "`request.timeout.ms` must be above zero"));
        }
        if c.delivery_timeout.us() < c.linger.us() + c.request_timeout.us() {
            return Err(hinted(
                &cp.key("delivery.timeout.ms"),
                format!(
                    "delivery.timeout.ms ({}) must be >= linger.ms ({}) + request.timeout.ms ({}) (Kafka raises a ConfigException)",
                    c.delivery_timeout.ms(),
                    c.linger.ms(),
                    c.request_timeout.ms()
                ),
                "raise delivery.timeout.ms or lower request.timeout.ms",
            ));
        }
        out.push(ProducerSpec {
            name,
            topic,
            instances,
            rate,
            messages,
            keys: keys_n as u32,
            record_bytes: record_bytes as u32,
            config: c,
        });
    }
    Ok(out)
}

fn assignors(v: &Value, p: &Path) -> Res<Vec<Assignor>> {
    let names: Vec<String> = match v {
        Value::Sequence(items) => items.iter().enumerate().map(|(i, x)| string(x, &p.index(i))).collect::<Res<_>>()?,
        _ => string(v, p)?.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
    };
    if names.is_empty() {
        return Err(problem(p, "`partition.assignment.strategy` needs at least one assignor"));
    }
    names
        .iter()
        .map(|n| {
            let short = n.rsplit('.').next().unwrap_or(n);
            match short {
                "range" | "RangeAssignor" => Ok(Assignor::Range),
                "roundrobin" | "RoundRobinAssignor" => Ok(Assignor::RoundRobin),
                "sticky" | "StickyAssignor" => Ok(Assignor::Sticky),
                "cooperative-sticky" | "CooperativeStickyAssignor" => Ok(Assignor::CooperativeSticky),
                _ => Err(hinted(
                    p,
                    format!("unknown assignor `{n}`"),
                    "one of: range, roundrobin, sticky, cooperative-sticky",
                )),
            }
        })
        .collect()
}

fn consumers(
    cx: &mut Cx,
    v: &Value,
    path: &Path,
    topics: &[TopicSpec],
    sem: Option<Semantics>,
) -> Res<Vec<ConsumerSpec>> {
    let items = seq(v, path)?;
    let mut out: Vec<ConsumerSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let m = mapping(item, &p)?;
        keys(m, &p, &["group", "topic", "instances", "processing_time", "commit", "sink", "config"])?;
        let group =
            string(get(m, "group").ok_or_else(|| problem(&p, format!("`{p}` is missing `group`")))?, &p.key("group"))?;
        if !name_ok(&group) {
            return Err(problem(
                &p.key("group"),
                format!("group must be lowercase letters, digits and `-`, not `{group}`"),
            ));
        }
        if out.iter().any(|c| c.group == group) {
            return Err(problem(
                &p.key("group"),
                format!("group `{group}` appears twice; give it one entry with `instances`"),
            ));
        }
        let topic = topic_ref(m, &p, topics)?;
        let instances = instances(m, &p)?;
        let processing_time = get(m, "processing_time")
            .map(|v| dist(v, &p.key("processing_time")))
            .transpose()?
            .unwrap_or(Dist::Constant(Duration::ZERO));
        let (mut commit, mut sink) = match sem {
            Some(Semantics::AtMostOnce) => (Some(CommitMode::BeforeProcessing), SinkKind::Plain),
            Some(Semantics::AtLeastOnce) => (Some(CommitMode::AfterProcessing), SinkKind::Plain),
            Some(Semantics::EffectivelyOnce) => (Some(CommitMode::AfterProcessing), SinkKind::Idempotent),
            Some(Semantics::ExactlyOnce) | None => (None, SinkKind::Plain),
        };
        let mut c = ConsumerConfig::default();
        if sem.is_some() {
            c.auto_offset_reset = OffsetReset::Earliest;
        }
        let explicit_commit = match get(m, "commit") {
            Some(v) => {
                let cp = p.key("commit");
                let s = string(v, &cp)?;
                let mode = match s.as_str() {
                    "before-processing" => CommitMode::BeforeProcessing,
                    "after-processing" => CommitMode::AfterProcessing,
                    "auto" => CommitMode::Auto,
                    "transactional" => {
                        return Err(hinted(
                            &cp,
                            "`commit: transactional` needs transactions, which are not modelled yet",
                            "use after-processing with `sink: idempotent`",
                        ));
                    }
                    _ => {
                        let opts = ["before-processing", "after-processing", "auto", "transactional"];
                        let hint = suggest(&s, opts)
                            .map_or_else(|| format!("one of: {}", opts.join(", ")), |x| format!("did you mean `{x}`?"));
                        return Err(hinted(&cp, format!("unknown commit mode `{s}`"), hint));
                    }
                };
                Some(mode)
            }
            None => None,
        };
        if let Some(v) = get(m, "sink") {
            let sp = p.key("sink");
            let s = string(v, &sp)?;
            sink = match s.as_str() {
                "plain" => SinkKind::Plain,
                "idempotent" => SinkKind::Idempotent,
                "transactional" => {
                    return Err(hinted(
                        &sp,
                        "`sink: transactional` needs transactions, which are not modelled yet",
                        "use `sink: idempotent`",
                    ))
                }
                _ => {
                    let hint = suggest(&s, ["plain", "idempotent", "transactional"])
                        .map_or("one of: plain, idempotent".to_string(), |x| format!("did you mean `{x}`?"));
                    return Err(hinted(&sp, format!("unknown sink `{s}`"), hint));
                }
            };
        }
        let mut explicit_auto = None;
        let cfg_path = p.key("config");
        if let Some(cv) = get(m, "config") {
            kafka_config(cx, cv, &cfg_path, Section::Consumer, |k, val, kp| {
                match k {
                    "enable.auto.commit" => explicit_auto = Some(boolean(val, kp)?),
                    "auto.commit.interval.ms" => c.auto_commit_interval = ms(val, kp)?,
                    "auto.offset.reset" => {
                        c.auto_offset_reset = match string(val, kp)?.as_str() {
                            "earliest" => OffsetReset::Earliest,
                            "latest" => OffsetReset::Latest,
                            "none" => OffsetReset::None,
                            other => {
                                return Err(hinted(
                                    kp,
                                    format!("`auto.offset.reset` must be earliest, latest or none, not `{other}`"),
                                    "earliest reads from the start of the log",
                                ))
                            }
                        }
                    }
                    "session.timeout.ms" => c.session_timeout = ms(val, kp)?,
                    "heartbeat.interval.ms" => c.heartbeat_interval = ms(val, kp)?,
                    "max.poll.interval.ms" => c.max_poll_interval = ms(val, kp)?,
                    "max.poll.records" => {
                        let n = uint(val, kp)?;
                        if n == 0 || n > 1_000_000 {
                            return Err(problem(kp, "`max.poll.records` must be between 1 and 1000000"));
                        }
                        c.max_poll_records = n as u32;
                    }
                    "isolation.level" => {
                        c.isolation_level = match string(val, kp)?.as_str() {
                            "read_uncommitted" => IsolationLevel::ReadUncommitted,
                            "read_committed" => IsolationLevel::ReadCommitted,
                            other => {
                                return Err(problem(
                                    kp,
                                    format!(
                                        "`isolation.level` must be read_uncommitted or read_committed, not `{other}`"
                                    ),
                                ))
                            }
                        }
                    }
                    "partition.assignment.strategy" => c.partition_assignment_strategy = assignors(val, kp)?,
                    "fetch.max.wait.ms" => c.fetch_max_wait = ms(val, kp)?,
                    "max.partition.fetch.bytes" => {
                        c.max_partition_fetch_bytes = uint(val, kp)?.clamp(1, u32::MAX as u64) as u32
                    }
                    "retry.backoff.ms" => c.retry_backoff = ms(val, kp)?,
                    "request.timeout.ms" => c.request_timeout = ms(val, kp)?.max(Duration::from_ms(1)),
                    "group.id" => {
                        let g = string(val, kp)?;
                        if g != group {
                            return Err(problem(kp, format!("`group.id` ({g}) differs from `group` ({group})")));
                        }
                    }
                    _ => unreachable!("every modelled consumer config is handled"),
                }
                Ok(())
            })?;
        }
        // commit: and enable.auto.commit must agree.
        match (explicit_commit, explicit_auto) {
            (Some(mode), Some(auto)) if (mode == CommitMode::Auto) != auto => {
                return Err(hinted(
                    &cfg_path.key("enable.auto.commit"),
                    format!("`enable.auto.commit: {auto}` contradicts `commit: {}`", mode.name()),
                    "drop one of them: `commit: auto` is enable.auto.commit=true",
                ));
            }
            (Some(mode), _) => commit = Some(mode),
            (None, Some(true)) => commit = Some(CommitMode::Auto),
            (None, Some(false)) => {
                if commit.is_none() || commit == Some(CommitMode::Auto) {
                    commit = Some(CommitMode::AfterProcessing);
                }
            }
            (None, None) => {}
        }
        let commit = commit.unwrap_or(CommitMode::Auto);
        c.enable_auto_commit = commit == CommitMode::Auto;
        if c.heartbeat_interval >= c.session_timeout {
            return Err(hinted(
                &cfg_path.key("heartbeat.interval.ms"),
                format!(
                    "heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
                    c.heartbeat_interval.ms(),
                    c.session_timeout.ms()
                ),
                "Kafka recommends at most a third of the session timeout",
            ));
        }
        if c.heartbeat_interval == Duration::ZERO
            || c.auto_commit_interval == Duration::ZERO && commit == CommitMode::Auto
        {
            return Err(problem(&cfg_path, "heartbeat.interval.ms and auto.commit.interval.ms must be above zero"));
        }
        if c.partition_assignment_strategy.first() != Some(&Assignor::Range) {
            cx.warn(
                &cfg_path.key("partition.assignment.strategy"),
                "only the range assignor is modelled yet; the group uses range".to_string(),
            );
        }
        out.push(ConsumerSpec { group, topic, instances, processing_time, commit, sink, config: c });
    }
    Ok(out)
}

fn faults(v: &Value, path: &Path, names: &[(String, Target)], end: Instant) -> Res<Vec<FaultSpec>> {
    let items = seq(v, path)?;
    let mut out: Vec<(FaultSpec, Path)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let m = mapping(item, &p)?;
        keys(m, &p, &["at", "crash", "restart", "pause", "partition", "for"])?;
        let at = duration(
            get(m, "at").ok_or_else(|| hinted(&p, format!("`{p}` is missing `at`"), "add e.g. `at: 30s`"))?,
            &p.key("at"),
        )?;
        let at = Instant::ZERO.add(at);
        if at > end {
            return Err(problem(
                &p.key("at"),
                format!("fault at {at} is after the run's end ({end} = duration + drain)"),
            ));
        }
        let actions: Vec<&str> =
            ["crash", "restart", "pause", "partition"].into_iter().filter(|k| get(m, k).is_some()).collect();
        if actions.len() != 1 {
            return Err(hinted(
                &p,
                format!("`{p}` must have exactly one of crash, restart, pause, partition"),
                "e.g. `{ at: 30s, crash: analytics-1 }`",
            ));
        }
        let kind = actions[0];
        let kp = p.key(kind);
        let target = |v: &Value, tp: &Path| -> Res<Target> {
            let n = string(v, tp)?;
            names.iter().find(|(x, _)| *x == n).map(|(_, t)| *t).ok_or_else(|| {
                let hint = match suggest(&n, names.iter().map(|(x, _)| x.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        format!("entities: {}", names.iter().map(|(x, _)| x.as_str()).collect::<Vec<_>>().join(", "))
                    }
                };
                hinted(tp, format!("no entity named `{n}`"), hint)
            })
        };
        let for_ = get(m, "for").map(|v| duration(v, &p.key("for"))).transpose()?;
        let action = match kind {
            "crash" | "restart" => {
                if for_.is_some() {
                    return Err(problem(&p.key("for"), format!("`for` goes with pause or partition, not {kind}")));
                }
                let t = target(get(m, kind).expect("present"), &kp)?;
                if kind == "crash" {
                    FaultAction::Crash(t)
                } else {
                    FaultAction::Restart(t)
                }
            }
            _ => {
                let d = for_.ok_or_else(|| hinted(&p, format!("`{kind}` needs `for`"), "e.g. `for: 5s`"))?;
                if d == Duration::ZERO {
                    return Err(problem(&p.key("for"), "`for` must be above zero"));
                }
                if kind == "pause" {
                    let t = target(get(m, kind).expect("present"), &kp)?;
                    if let Target::Broker(_) = t {
                        return Err(hinted(
                            &kp,
                            "pausing a broker is not modelled yet",
                            "pause a producer or consumer, or crash the broker",
                        ));
                    }
                    FaultAction::Pause(t, d)
                } else {
                    let list = seq(get(m, kind).expect("present"), &kp)?;
                    if list.len() < 2 {
                        return Err(problem(&kp, "`partition` needs at least two entities"));
                    }
                    let ts = list.iter().enumerate().map(|(j, x)| target(x, &kp.index(j))).collect::<Res<Vec<_>>>()?;
                    FaultAction::Partition(ts, d)
                }
            }
        };
        out.push((FaultSpec { at, action }, p));
    }
    out.sort_by_key(|(f, _)| f.at);
    // Crash and restart must alternate per entity.
    let mut down: Vec<Target> = Vec::new();
    for (f, p) in &out {
        match &f.action {
            FaultAction::Crash(t) => {
                if down.contains(t) {
                    return Err(problem(&p.key("crash"), format!("crash at {}: that entity is already down", f.at)));
                }
                down.push(*t);
            }
            FaultAction::Pause(t, _) if down.contains(t) => {
                return Err(problem(&p.key("pause"), format!("pause at {}: that entity is down", f.at)));
            }
            FaultAction::Restart(t) => {
                let Some(i) = down.iter().position(|x| x == t) else {
                    return Err(hinted(
                        &p.key("restart"),
                        format!("restart at {}: that entity is not down", f.at),
                        "crash it earlier",
                    ));
                };
                down.swap_remove(i);
            }
            _ => {}
        }
    }
    Ok(out.into_iter().map(|(f, _)| f).collect())
}

fn expectations(v: &Value, path: &Path) -> Res<Vec<Expectation>> {
    let m = mapping(v, path)?;
    let mut out = Vec::new();
    for (k, val) in m {
        let name = scalar_text(k).ok_or_else(|| problem(path, "`expect` keys must be metric names"))?;
        let p = path.key(&name);
        if !METRICS.contains(&name.as_str()) {
            let hint = suggest(&name, METRICS.iter().copied())
                .map_or_else(|| format!("metrics: {}", METRICS.join(", ")), |s| format!("did you mean `{s}`?"));
            return Err(hinted(&p, format!("unknown metric `{name}` in `expect`"), hint));
        }
        let (cmp, value, text) = match val {
            Value::Number(n) => {
                let x = n
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| problem(&p, "expected value must be a finite number"))?;
                (Cmp::Eq, x, n.to_string())
            }
            Value::String(s) => {
                let t = s.trim();
                let (cmp, rest) = [
                    ("==", Cmp::Eq),
                    ("!=", Cmp::Ne),
                    ("<=", Cmp::Le),
                    (">=", Cmp::Ge),
                    ("<", Cmp::Lt),
                    (">", Cmp::Gt),
                ]
                .into_iter()
                .find_map(|(sym, c)| t.strip_prefix(sym).map(|r| (c, r)))
                .unwrap_or((Cmp::Eq, t));
                let x: f64 = rest.trim().parse().ok().filter(|x: &f64| x.is_finite()).ok_or_else(|| {
                    hinted(
                        &p,
                        format!("`{p}`: `{s}` is not a comparison"),
                        "write e.g. `0`, `\"> 0\"`, `\"< 1000\"`, `\">= 5\"`",
                    )
                })?;
                (cmp, x, t.to_string())
            }
            _ => {
                return Err(hinted(
                    &p,
                    format!("`{p}` must be a number or a comparison"),
                    "write e.g. `0` or `\"> 0\"`",
                ))
            }
        };
        out.push(Expectation { name, cmp, value, text });
    }
    Ok(out)
}
