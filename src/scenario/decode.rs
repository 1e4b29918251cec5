//! The loader proper: a positioned YAML tree → a validated [`Scenario`].
//!
//! Every check reports the position of the key or value it is about, a field
//! path like `producers[0].config.acks`, and where it helps a hint. Fields are
//! read in a fixed order (the order of DESIGN.md), so the first problem
//! reported is the first one in that order, not necessarily in the file.

use std::collections::{BTreeMap, HashMap};

use super::config_names::Section;
use super::model::*;
use super::presets::{apply_preset, consumer_preset};
use super::suggest::{closest, one_of};
use super::units::{parse_decimal, parse_duration, parse_rate, MAX_DURATION};
use super::yaml::{self, clip, Node, Pos, Value};
use crate::kernel::rng::Dist;
use crate::kernel::time::{Duration, Instant};
use crate::oracle::metrics::METRICS;

/// Most brokers a scenario may have.
pub(crate) const MAX_BROKERS: i128 = 1_000;
/// Most partitions one topic may have, and all topics together.
pub(crate) const MAX_PARTITIONS: i128 = 100_000;
pub(crate) const MAX_TOTAL_PARTITIONS: u64 = 1_000_000;
/// Most instances one producer or consumer entry may have, and all together.
pub(crate) const MAX_INSTANCES: i128 = 1_000;
pub(crate) const MAX_TOTAL_INSTANCES: u64 = 100_000;

const I32_MAX: i128 = i32::MAX as i128;
/// Most distinct keys (the producer model keeps a key → partition table).
pub(crate) const MAX_KEYS: i128 = 10_000_000;
/// Largest record, and most records one poll may return.
pub(crate) const MAX_RECORD_BYTES: i128 = 100_000_000;
pub(crate) const MAX_POLL_RECORDS: i128 = 1_000_000;

/// An error before it is given a file name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub pos: Pos,
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// A warning before it is given a file name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Note {
    pub pos: Pos,
    pub field: String,
    pub message: String,
}

type R<T> = Result<T, Problem>;

fn problem(pos: Pos, field: &str, message: impl Into<String>) -> Problem {
    Problem { pos, field: field.to_string(), message: message.into(), hint: None }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// "in producers[0]" or "at the top level".
fn place(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in {path}")
    }
}

fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

// ---------------------------------------------------------------------------
// Reading the tree

/// A key of a mapping, with the value under it.
struct Entry<'n> {
    key: &'n str,
    key_pos: Pos,
    value: &'n Node,
    /// The full path of the value, e.g. `producers[0].config.acks`.
    field: String,
}

/// A mapping whose keys are known to be scalars and unique.
struct Map<'n> {
    path: String,
    pos: Pos,
    entries: Vec<Entry<'n>>,
}

/// Reads `node` as a mapping (null reads as an empty one).
fn mapping<'n>(node: &'n Node, path: &str, expected: &str) -> R<Map<'n>> {
    let pairs = match &node.value {
        Value::Map(pairs) => pairs,
        _ if node.is_null() => return Ok(Map { path: path.to_string(), pos: node.pos, entries: Vec::new() }),
        _ => {
            let what = if path.is_empty() { "the file".to_string() } else { path.to_string() };
            return Err(problem(node.pos, path, format!("{what}: expected {expected}, found {}", node.describe())));
        }
    };
    let mut entries: Vec<Entry<'n>> = Vec::with_capacity(pairs.len());
    let mut seen: HashMap<&'n str, Pos> = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        let Value::Scalar { text: key, .. } = &k.value else {
            return Err(problem(
                k.pos,
                path,
                format!("a key {} is {}; keys must be plain names", place(path), k.describe()),
            ));
        };
        let field = join(path, key);
        if let Some(first) = seen.get(key.as_str()) {
            return Err(problem(k.pos, &field, format!("duplicate key `{}` {}", clip(key), place(path)))
                .hint(format!("the first `{}` is at line {}; keep one", clip(key), first.line)));
        }
        seen.insert(key.as_str(), k.pos);
        entries.push(Entry { key, key_pos: k.pos, value: v, field });
    }
    Ok(Map { path: path.to_string(), pos: node.pos, entries })
}

fn unknown_field(e: &Entry<'_>, path: &str, allowed: &[&str]) -> Problem {
    let message = if path.is_empty() {
        format!("unknown top-level field `{}`", clip(e.key))
    } else {
        format!("unknown field `{}` in {path}", clip(e.key))
    };
    let hint = if e.key == "<<" {
        "YAML merge keys (`<<: *anchor`) are not supported; write the fields out".to_string()
    } else {
        did_you_mean(e.key, allowed.iter().copied()).unwrap_or_else(|| format!("expected {}", one_of(allowed)))
    };
    problem(e.key_pos, &e.field, message).hint(hint)
}

impl<'n> Map<'n> {
    /// Fails on the first key not in `allowed`.
    fn known(&self, allowed: &[&str]) -> R<()> {
        match self.entries.iter().find(|e| !allowed.contains(&e.key)) {
            Some(e) => Err(unknown_field(e, &self.path, allowed)),
            None => Ok(()),
        }
    }

    fn get(&self, key: &str) -> Option<&Entry<'n>> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The value under `key`, unless it is missing or null.
    fn value(&self, key: &str) -> Option<&'n Node> {
        self.get(key).map(|e| e.value).filter(|v| !v.is_null())
    }

    fn missing(&self, key: &str, example: &str) -> Problem {
        let message = if self.path.is_empty() {
            format!("missing top-level field `{key}`")
        } else {
            format!("missing field `{key}` in {}", self.path)
        };
        problem(self.pos, &join(&self.path, key), message).hint(format!("add e.g. `{example}`"))
    }

    fn require(&self, key: &str, example: &str) -> R<&'n Node> {
        match self.get(key) {
            Some(e) if e.value.is_null() => Err(problem(e.key_pos, &e.field, format!("{}: has no value", e.field))
                .hint(format!("write e.g. `{example}`"))),
            Some(e) => Ok(e.value),
            None => Err(self.missing(key, example)),
        }
    }
}

fn type_error(node: &Node, field: &str, expected: &str) -> Problem {
    problem(node.pos, field, format!("{field}: expected {expected}, found {}", node.describe()))
}

/// A scalar's text and whether it was plain (unquoted).
fn scalar<'n>(node: &'n Node, field: &str, expected: &str) -> R<(&'n str, bool)> {
    match &node.value {
        Value::Scalar { text, plain } => Ok((text.as_str(), *plain)),
        _ => Err(type_error(node, field, expected)),
    }
}

/// Any non-null scalar, as text.
fn string(node: &Node, field: &str, expected: &str) -> R<String> {
    if node.is_null() {
        return Err(type_error(node, field, expected));
    }
    scalar(node, field, expected).map(|(t, _)| t.to_string())
}

/// A scenario, producer, consumer group or entity name: `[a-z0-9-]+`.
fn simple_name(node: &Node, field: &str) -> R<String> {
    let name = string(node, field, "a name like `web`")?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        let fixed: String = name
            .trim()
            .chars()
            .map(|c| match c {
                'A'..='Z' => c.to_ascii_lowercase(),
                '_' | ' ' | '.' => '-',
                c => c,
            })
            .collect();
        let fixed_ok = !fixed.is_empty()
            && fixed.len() <= 64
            && fixed.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let hint = if fixed_ok {
            format!("names use lowercase letters, digits and `-` (at most 64), e.g. `{fixed}`")
        } else {
            "names use lowercase letters, digits and `-` (at most 64 characters)".to_string()
        };
        return Err(problem(node.pos, field, format!("{field}: `{}` is not a valid name", clip(&name))).hint(hint));
    }
    Ok(name)
}

/// A Kafka topic name: `[a-zA-Z0-9._-]+`, at most 249 characters, not `.` or `..`.
fn topic_name(node: &Node, field: &str) -> R<String> {
    let name = string(node, field, "a topic name like `clicks`")?;
    let ok = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(problem(node.pos, field, format!("{field}: `{}` is not a valid Kafka topic name", clip(&name)))
            .hint("topic names use letters, digits, `.`, `_` and `-` (at most 249 characters)"));
    }
    Ok(name)
}

/// YAML 1.2 core-schema integers: `12`, `-3`, `0x1f`, `0o17`. `None` if the
/// text is not an integer; `Some(None)` if it is one too large for i128.
fn parse_int(text: &str) -> Option<Option<i128>> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = body.strip_prefix("0o") {
        (8, o)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.chars() {
        let d = i128::from(c.to_digit(radix).unwrap_or(0));
        v = match v.checked_mul(i128::from(radix)).and_then(|x| x.checked_add(d)) {
            Some(x) => x,
            None => return Some(None),
        };
    }
    Some(Some(if negative { -v } else { v }))
}

/// A message-loss probability, `0.01` or `"1%"`, as parts per million (the one
/// float conversion happens here, at the edge).
fn loss_ppm(node: &Node, field: &str) -> R<u32> {
    let (text, _) = scalar(node, field, "a probability like `0.01` or `\"1%\"`")?;
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => parse_number(p.trim()).map(|v| v / 100.0),
        None => parse_number(t),
    };
    match value {
        Some(v) if (0.0..1.0).contains(&v) => Ok((v * 1_000_000.0).round() as u32),
        _ => Err(type_error(node, field, "a probability from 0 up to (not including) 1, like `0.01` or `\"1%\"`")),
    }
}

/// Strict decimal floats (`1.5`, `-2`, `1e3`, `.5`), finite only.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    parse_decimal(mantissa).ok()?;
    if let Some(e) = exponent {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// An integer in `[min, max]`; quoted digits are accepted too (Kafka configs
/// are strings in properties files).
fn int(node: &Node, field: &str, min: i128, max: i128) -> R<i128> {
    let expected = "a whole number";
    if node.is_null() {
        return Err(type_error(node, field, expected));
    }
    let (text, _) = scalar(node, field, expected)?;
    match parse_int(text.trim()) {
        Some(Some(v)) if v < min => {
            Err(problem(node.pos, field, format!("{field}: must be at least {min}, found {v}")))
        }
        Some(Some(v)) if v > max => Err(problem(node.pos, field, format!("{field}: must be at most {max}, found {v}"))),
        Some(Some(v)) => Ok(v),
        Some(None) => Err(problem(node.pos, field, format!("{field}: `{}` is out of range", clip(text)))
            .hint(format!("the largest value accepted here is {max}"))),
        None => Err(type_error(node, field, expected)),
    }
}

/// Converts a checked integer to the target type (the range was checked by `int`).
fn narrow<T: TryFrom<i128>>(v: i128, node: &Node, field: &str) -> R<T> {
    T::try_from(v).map_err(|_| problem(node.pos, field, format!("{field}: {v} is out of range")))
}

fn u32_in(node: &Node, field: &str, min: i128, max: i128) -> R<u32> {
    narrow(int(node, field, min, max.min(i128::from(u32::MAX)))?, node, field)
}

fn u64_in(node: &Node, field: &str, min: i128, max: i128) -> R<u64> {
    narrow(int(node, field, min, max.min(i128::from(u64::MAX)))?, node, field)
}

/// A Kafka boolean: `true`/`false`, also quoted, in any case (as Kafka parses them).
fn boolean(node: &Node, field: &str) -> R<bool> {
    if let Value::Scalar { text, .. } = &node.value {
        if text.trim().eq_ignore_ascii_case("true") {
            return Ok(true);
        }
        if text.trim().eq_ignore_ascii_case("false") {
            return Ok(false);
        }
    }
    Err(type_error(node, field, "`true` or `false`"))
}

/// A duration with a unit: `1500ms`, `1.5s`.
fn duration(node: &Node, field: &str) -> R<Duration> {
    let expected = "a duration like `1500ms`";
    if node.is_null() {
        return Err(type_error(node, field, expected));
    }
    let (text, _) = scalar(node, field, expected)?;
    parse_duration(text).map_err(|e| {
        let p = problem(node.pos, field, format!("{field}: {}", e.message));
        match e.hint {
            Some(h) => p.hint(h),
            None => p,
        }
    })
}

fn positive_duration(node: &Node, field: &str) -> R<Duration> {
    let d = duration(node, field)?;
    if d == Duration::ZERO {
        return Err(problem(node.pos, field, format!("{field}: must be more than 0")));
    }
    Ok(d)
}

/// A Kafka `*.ms` config: a whole number of milliseconds, as in Kafka.
fn kafka_ms(node: &Node, field: &str, min_ms: i128, max_ms: i128) -> R<Duration> {
    if let Value::Scalar { text, .. } = &node.value {
        if parse_int(text.trim()).is_none() && !node.is_null() {
            if let Ok(d) = parse_duration(text) {
                let hint = if d.us() % 1_000 == 0 {
                    format!("write `{}`", d.ms())
                } else {
                    "write a whole number of milliseconds".to_string()
                };
                return Err(problem(
                    node.pos,
                    field,
                    format!("{field}: Kafka `*.ms` configs are a whole number of milliseconds, found `{}`", clip(text)),
                )
                .hint(hint));
            }
        }
    }
    let max_ms = max_ms.min(i128::from(MAX_DURATION.ms()));
    let ms = int(node, field, min_ms, max_ms)?;
    let us = ms.checked_mul(1_000).ok_or_else(|| problem(node.pos, field, format!("{field}: out of range")))?;
    Ok(Duration(narrow(us, node, field)?))
}

/// One of a few fixed words, with a suggestion for a typo.
fn choice<T: Copy>(node: &Node, field: &str, options: &[(&str, T)]) -> R<T> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let expected = one_of(&names);
    let text = string(node, field, &expected)?;
    let t = text.trim();
    if let Some((_, v)) = options.iter().find(|(n, _)| *n == t) {
        return Ok(*v);
    }
    let hint = did_you_mean(t, names.iter().copied()).unwrap_or_else(|| format!("expected {expected}"));
    Err(problem(node.pos, field, format!("{field}: `{}` is not one of {expected}", clip(t))).hint(hint))
}

/// A duration or a distribution: `2ms`, `{ exp: 2ms }`,
/// `{ uniform: [1ms, 3ms] }`, `{ lognormal: { median: 2ms, p99: 20ms } }`.
fn dist(node: &Node, field: &str) -> R<Dist> {
    let expected = "a duration like `2ms` or a distribution like `{ exp: 2ms }`";
    match &node.value {
        Value::Scalar { .. } => Ok(Dist::Constant(duration(node, field)?)),
        Value::Seq(_) => Err(type_error(node, field, expected)),
        Value::Map(_) => {
            let kinds = ["exp", "uniform", "lognormal"];
            let m = mapping(node, field, expected)?;
            m.known(&kinds)?;
            let (first, rest) = match m.entries.split_first() {
                Some(x) => x,
                None => return Err(type_error(node, field, expected)),
            };
            if let Some(extra) = rest.first() {
                return Err(problem(
                    extra.key_pos,
                    &extra.field,
                    format!("{field}: a distribution has one kind, found both `{}` and `{}`", first.key, extra.key),
                ));
            }
            let f = &first.field;
            match first.key {
                "exp" => {
                    let mean = positive_duration(first.value, f)?;
                    Ok(Dist::Exp { mean })
                }
                "uniform" => {
                    let items = match &first.value.value {
                        Value::Seq(items) if items.len() == 2 => items,
                        _ => return Err(type_error(first.value, f, "two durations like `[1ms, 3ms]`")),
                    };
                    let (Some(lo), Some(hi)) = (items.first(), items.get(1)) else {
                        return Err(type_error(first.value, f, "two durations like `[1ms, 3ms]`"));
                    };
                    let low = duration(lo, &index(f, 0))?;
                    let high = duration(hi, &index(f, 1))?;
                    if low > high {
                        return Err(problem(
                            hi.pos,
                            &index(f, 1),
                            format!("{f}: the low bound {low} is above the high bound {high}"),
                        )
                        .hint(format!("write `[{high}, {low}]`")));
                    }
                    Ok(Dist::Uniform { low, high })
                }
                _ => {
                    let m = mapping(first.value, f, "a mapping like `{ median: 2ms, p99: 20ms }`")?;
                    m.known(&["median", "p99"])?;
                    let median_node = m.require("median", "median: 2ms")?;
                    let p99_node = m.require("p99", "p99: 20ms")?;
                    let median = positive_duration(median_node, &join(f, "median"))?;
                    let p99 = duration(p99_node, &join(f, "p99"))?;
                    if p99 < median {
                        let at = m.get("p99").map_or(p99_node.pos, |e| e.key_pos);
                        return Err(problem(
                            at,
                            &join(f, "p99"),
                            format!("{f}: p99 ({p99}) is below the median ({median})"),
                        )
                        .hint("the 99th percentile of a log-normal is at least its median"));
                    }
                    Ok(Dist::LogNormal { median, p99 })
                }
            }
        }
    }
}

/// `100/s` (Poisson), `{ poisson: 100/s }` or `{ constant: 100/s }`.
fn rate(node: &Node, field: &str) -> R<Rate> {
    let one = |n: &Node, f: &str, kind: ArrivalKind| -> R<Rate> {
        let text = string(n, f, "a rate like `100/s`")?;
        let (count, per) = parse_rate(&text).map_err(|e| {
            let p = problem(n.pos, f, format!("{f}: {}", e.message));
            match e.hint {
                Some(h) => p.hint(h),
                None => p,
            }
        })?;
        Ok(Rate { count, per, kind })
    };
    match &node.value {
        Value::Map(_) => {
            let m = mapping(node, field, "a rate")?;
            m.known(&["poisson", "constant"])?;
            let (first, rest) = match m.entries.split_first() {
                Some(x) => x,
                None => return Err(type_error(node, field, "a rate like `100/s` or `{ constant: 100/s }`")),
            };
            if let Some(extra) = rest.first() {
                return Err(problem(
                    extra.key_pos,
                    &extra.field,
                    format!("{field}: a rate is either `poisson` or `constant`, not both"),
                ));
            }
            let kind = if first.key == "constant" { ArrivalKind::Constant } else { ArrivalKind::Poisson };
            one(first.value, &first.field, kind)
        }
        _ => one(node, field, ArrivalKind::Poisson),
    }
}

// ---------------------------------------------------------------------------
// The scenario

struct Cx {
    notes: Vec<Note>,
}

impl Cx {
    /// A config name that is not modelled in `section`: a warning if Kafka
    /// has it there, an error otherwise.
    fn other_config(&mut self, e: &Entry<'_>, path: &str, section: Section) -> R<()> {
        let key = e.key;
        if section.is_known(key) {
            self.notes.push(Note {
                pos: e.key_pos,
                field: e.field.clone(),
                message: format!(
                    "`{key}` is a real Kafka {} config that streamsim does not model; it is ignored",
                    section.noun()
                ),
            });
            return Ok(());
        }
        if let Some(other) = Section::ALL.iter().find(|s| **s != section && s.has(key)) {
            return Err(problem(
                e.key_pos,
                &e.field,
                format!("`{key}` in {path} is a Kafka {} config, not a {} config", other.noun(), section.noun()),
            )
            .hint(format!("move it to {}", other.home())));
        }
        let hint = did_you_mean(key, section.all_names()).unwrap_or_else(|| {
            format!(
                "streamsim models {}; other real Kafka {} configs are accepted with a warning",
                one_of(section.modelled()),
                section.noun()
            )
        });
        Err(problem(e.key_pos, &e.field, format!("unknown field `{}` in {path}", clip(key))).hint(hint))
    }
}

/// A value set explicitly in the file, with where it was written.
struct Ex<T> {
    value: T,
    key: Pos,
    field: String,
}

fn ex<T>(value: T, e: &Entry<'_>) -> Option<Ex<T>> {
    Some(Ex { value, key: e.key_pos, field: e.field.clone() })
}

/// Where an explicit value was written, if it was.
fn set_at<T>(e: &Option<Ex<T>>) -> Option<(Pos, String)> {
    e.as_ref().map(|e| (e.key, e.field.clone()))
}

/// Where the `semantics:` preset was chosen (for errors that a preset causes).
#[derive(Clone, Copy)]
struct Preset {
    semantics: Semantics,
    pos: Pos,
}

const TOP_FIELDS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "drain",
    "semantics",
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
];

/// Loads a scenario; `semantics` (if given) replaces the file's `semantics:`.
pub(crate) fn load(source: &str, semantics: Option<Semantics>) -> Result<(Scenario, Vec<Note>), Problem> {
    let root = yaml::parse(source).map_err(|e| Problem {
        pos: e.pos,
        field: String::new(),
        message: e.message,
        hint: e.hint,
    })?;
    let root = match root {
        Some(r) if !r.is_null() => r,
        _ => {
            return Err(problem(Pos::START, "", "the scenario file is empty")
                .hint("a scenario needs at least `name`, `duration` and `topics`"))
        }
    };
    let top = mapping(&root, "", "a mapping of fields (`name: ...`, `duration: ...`)")?;
    top.known(TOP_FIELDS)?;
    let mut cx = Cx { notes: Vec::new() };

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
        Some(n) => u32_in(n, "brokers", 1, MAX_BROKERS)?,
        None => 1,
    };
    let broker = broker_settings(&mut cx, top.get("broker_config"))?;
    let network = match top.value("network") {
        Some(n) => {
            let m = mapping(n, "network", "a mapping like `{ latency: 1ms }`")?;
            m.known(&["latency", "loss"])?;
            let mut spec = NetworkSpec::default();
            if let Some(l) = m.value("latency") {
                spec.latency = dist(l, "network.latency")?;
            }
            if let Some(l) = m.value("loss") {
                spec.loss_ppm = loss_ppm(l, "network.loss")?;
            }
            spec
        }
        None => NetworkSpec::default(),
    };
    let max_events = match top.value("max_events") {
        Some(n) => u64_in(n, "max_events", 1, i128::from(u64::MAX))?,
        None => DEFAULT_MAX_EVENTS,
    };
    let sample_interval = match top.value("sample_interval") {
        Some(n) => positive_duration(n, "sample_interval")?,
        None => DEFAULT_SAMPLE_INTERVAL,
    };

    // Topics.
    let topics_node = top.require("topics", "topics: [{ name: clicks, partitions: 6 }]")?;
    let topic_items = list(topics_node, "topics", "a list of topics")?;
    if topic_items.is_empty() {
        return Err(problem(topics_node.pos, "topics", "topics: a scenario needs at least one topic")
            .hint("add e.g. `- { name: clicks, partitions: 6 }`"));
    }
    let mut topics: Vec<TopicSpec> = Vec::new();
    let mut topic_index: HashMap<String, usize> = HashMap::new();
    let mut total_partitions: u64 = 0;
    for (i, item) in topic_items.iter().enumerate() {
        let field = index("topics", i);
        let (t, name_pos) = topic(&mut cx, item, &field, brokers, &broker)?;
        if let Some(&j) = topic_index.get(&t.name) {
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
        topic_index.insert(t.name.clone(), topics.len());
        topics.push(t);
    }
    let topics_by_name = TopicNames { specs: &topics, index: &topic_index };

    // Producers and consumers.
    let mut producers: Vec<ProducerSpec> = Vec::new();
    let mut producer_index: HashMap<String, usize> = HashMap::new();
    let mut producer_pos: Vec<(Pos, String)> = Vec::new();
    if let Some(n) = top.value("producers") {
        for (i, item) in list(n, "producers", "a list of producers")?.iter().enumerate() {
            let field = index("producers", i);
            let (p, name_at) = producer(&mut cx, item, &field, &topics_by_name, preset)?;
            if let Some(&j) = producer_index.get(&p.name) {
                return Err(problem(name_at, &join(&field, "name"), format!("producer `{}` is defined twice", p.name))
                    .hint(format!("the first is producers[{j}]; use `instances:` for more of the same")));
            }
            producer_index.insert(p.name.clone(), producers.len());
            producers.push(p);
            producer_pos.push((name_at, join(&field, "name")));
        }
    }
    let mut consumers: Vec<ConsumerSpec> = Vec::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();
    let mut consumer_pos: Vec<(Pos, String)> = Vec::new();
    if let Some(n) = top.value("consumers") {
        for (i, item) in list(n, "consumers", "a list of consumers")?.iter().enumerate() {
            let field = index("consumers", i);
            let (c, group_at) = consumer(&mut cx, item, &field, &topics_by_name, preset)?;
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
    }
    // Consumers that `start:` or `scale:` faults bring up later exist from the beginning, stopped.
    if let Some(n) = top.value("faults") {
        later_instances(n, &mut consumers);
    }
    let entities = entity_names(brokers, &producers, &producer_pos, &consumers, &consumer_pos)?;

    // Faults.
    let end = Instant(duration.us().saturating_add(drain.us()));
    let faults = match top.value("faults") {
        Some(n) => faults(n, &entities, &consumers, duration, drain, end)?,
        None => Vec::new(),
    };

    let chaos = match top.value("chaos") {
        Some(n) => Some(chaos(n, duration, end)?),
        None => None,
    };

    // Expectations.
    let expect = match top.get("expect") {
        Some(e) => expectations(e.value)?,
        None => Vec::new(),
    };

    // Kinesis: shards have no idempotent or transactional producer.
    let platform = match top.get("platform") {
        Some(e) => {
            let p = choice(e.value, &e.field, &[("kafka", Platform::Kafka), ("kinesis", Platform::Kinesis)])?;
            if p == Platform::Kinesis {
                if let Some((i, pr)) = producers.iter().enumerate().find(|(_, p)| p.config.transactional_id.is_some()) {
                    return Err(problem(
                        e.value.pos,
                        &e.field,
                        format!(
                            "platform: kinesis has no transactions, but producers[{i}] (`{}`) is transactional",
                            pr.name
                        ),
                    )
                    .hint("use `semantics: effectively-once` (an idempotent sink) with Kinesis"));
                }
                if consumers.iter().any(|c| c.commit == CommitMode::Transactional) {
                    return Err(problem(
                        e.value.pos,
                        &e.field,
                        "platform: kinesis has no transactions, but a consumer group commits `transactional`"
                            .to_string(),
                    )
                    .hint("use `semantics: effectively-once` (an idempotent sink) with Kinesis"));
                }
                // The Kinesis Producer Library retries without sequence numbers.
                for pr in producers.iter_mut() {
                    pr.config.enable_idempotence = false;
                }
            }
            p
        }
        None => Platform::Kafka,
    };

    let scenario = Scenario {
        name,
        description,
        seed,
        duration,
        drain,
        semantics: preset.map(|p| p.semantics),
        platform,
        brokers,
        broker_config: broker.config,
        network,
        topics,
        producers,
        consumers,
        faults,
        chaos,
        expect,
        max_events,
        sample_interval,
    };
    Ok((scenario, cx.notes))
}

/// `chaos:` — rates and lengths of random crashes, pauses and partitions.
fn chaos(node: &Node, duration: Duration, end: Instant) -> R<ChaosSpec> {
    let m = mapping(node, "chaos", "a mapping like `{ crash: { rate: 2/min, down: 5s } }`")?;
    m.known(&["from", "until", "crash", "pause", "partition"])?;
    let from = match m.value("from") {
        Some(n) => duration_to_instant(self::duration(n, "chaos.from")?),
        None => Instant::ZERO,
    };
    let until = match m.value("until") {
        Some(n) => duration_to_instant(self::duration(n, "chaos.until")?),
        None => duration_to_instant(duration),
    };
    if until <= from || until > end {
        let pos = m.value("until").or(m.value("from")).map_or(m.pos, |n| n.pos);
        return Err(problem(
            pos,
            "chaos.until",
            format!("chaos runs from {from} until {until}: that must be a non-empty window ending by {end}"),
        )
        .hint("set `from` before `until`, both within duration + drain"));
    }
    let kind = |key: &str, length_key: &str, default: ChaosTargets| -> R<Option<ChaosKind>> {
        let Some(n) = m.value(key) else { return Ok(None) };
        let field = join("chaos", key);
        let k = mapping(n, &field, "a mapping like `{ rate: 1/min, for: 5s }`")?;
        k.known(&["rate", length_key, "targets"])?;
        let mut rate = rate(k.require("rate", "rate: 1/min")?, &join(&field, "rate"))?;
        rate.kind = ArrivalKind::Poisson;
        let length = dist(k.require(length_key, &format!("{length_key}: 5s"))?, &join(&field, length_key))?;
        let targets = match k.value("targets") {
            None => default,
            Some(t) => {
                let tf = join(&field, "targets");
                let mut out = ChaosTargets::default();
                for (i, item) in list(t, &tf, "a list like `[brokers, consumers]`")?.iter().enumerate() {
                    let f = index(&tf, i);
                    match choice(item, &f, &[("brokers", 0), ("producers", 1), ("consumers", 2)])? {
                        0 => out.brokers = true,
                        1 => out.producers = true,
                        _ => out.consumers = true,
                    }
                }
                out
            }
        };
        Ok(Some(ChaosKind { rate, length, targets }))
    };
    let all = ChaosTargets { brokers: true, producers: true, consumers: true };
    let clients = ChaosTargets { brokers: false, producers: true, consumers: true };
    let brokers = ChaosTargets { brokers: true, producers: false, consumers: false };
    Ok(ChaosSpec {
        from,
        until,
        crash: kind("crash", "down", all)?,
        pause: kind("pause", "for", clients)?,
        partition: kind("partition", "for", brokers)?,
    })
}

/// A list (null reads as an empty one).
fn list<'n>(node: &'n Node, field: &str, expected: &str) -> R<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Ok(items),
        _ if node.is_null() => Ok(&[]),
        _ => Err(type_error(node, field, expected)),
    }
}

// ---------------------------------------------------------------------------
// Brokers and topics

struct BrokerSettings {
    config: BrokerConfig,
    default_replication_factor: u32,
    /// Where `default.replication.factor` / `min.insync.replicas` were set, if they were.
    default_rf_at: Option<(Pos, String)>,
    min_isr_at: Option<(Pos, String)>,
}

fn broker_settings(cx: &mut Cx, entry: Option<&Entry<'_>>) -> R<BrokerSettings> {
    let mut s = BrokerSettings {
        config: BrokerConfig::default(),
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
            _ => cx.other_config(e, path, Section::Broker)?,
        }
    }
    let (wait, lag) = (s.config.replica_fetch_wait_max, s.config.topic_defaults.replica_lag_time_max);
    if wait > lag {
        let (pos, key) = match (fetch_wait_at, lag_at) {
            (Some(p), _) => (p, "replica.fetch.wait.max.ms"),
            (None, Some(p)) => (p, "replica.lag.time.max.ms"),
            (None, None) => (m.pos, "replica.fetch.wait.max.ms"),
        };
        return Err(problem(
            pos,
            &join(path, key),
            format!(
                "{path}: replica.fetch.wait.max.ms ({}) must not exceed replica.lag.time.max.ms ({}); a Kafka broker refuses to start with this",
                wait.ms(),
                lag.ms()
            ),
        )
        .hint("followers would drop out of the ISR between fetches"));
    }
    Ok(s)
}

fn topic(cx: &mut Cx, node: &Node, field: &str, brokers: u32, broker: &BrokerSettings) -> R<(TopicSpec, Pos)> {
    let m = mapping(node, field, "a topic like `{ name: clicks, partitions: 6 }`")?;
    m.known(&["name", "partitions", "replication.factor", "config"])?;
    let name_node = m.require("name", "name: clicks")?;
    let name = topic_name(name_node, &join(field, "name"))?;
    let partitions = u32_in(m.require("partitions", "partitions: 6")?, &join(field, "partitions"), 1, MAX_PARTITIONS)?;
    let rf_field = join(field, "replication.factor");
    let brokers_text = if brokers == 1 { "1 broker".to_string() } else { format!("{brokers} brokers") };
    let replication_factor = match m.value("replication.factor") {
        Some(n) => {
            let rf = u32_in(n, &rf_field, 1, i128::from(i16::MAX))?;
            if rf > brokers {
                return Err(problem(
                    n.pos,
                    &rf_field,
                    format!("{rf_field}: {rf} is more than the {brokers_text} in the cluster"),
                )
                .hint(format!("set `brokers: {rf}` or lower replication.factor")));
            }
            rf
        }
        None => {
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
            rf
        }
    };
    let mut config = broker.config.topic_defaults.clone();
    let mut min_isr_at = broker.min_isr_at.clone();
    if let Some(e) = m.get("config") {
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
    }
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

/// The topics, and their indices by name.
struct TopicNames<'a> {
    specs: &'a [TopicSpec],
    index: &'a HashMap<String, usize>,
}

/// The topic a producer or consumer names; may be omitted when there is one topic.
fn topic_ref(m: &Map<'_>, field: &str, topics: &TopicNames<'_>) -> R<usize> {
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

// ---------------------------------------------------------------------------
// Producers

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

#[derive(Default)]
struct ProducerExplicit {
    acks: Option<Ex<Acks>>,
    idempotence: Option<Ex<bool>>,
    retries: Option<Ex<u32>>,
    max_in_flight: Option<Ex<u32>>,
    delivery_timeout: Option<Ex<Duration>>,
    request_timeout: Option<Ex<Duration>>,
    retry_backoff: Option<Duration>,
    linger: Option<Ex<Duration>>,
    batch_size: Option<u32>,
    buffer_memory: Option<Ex<u64>>,
    max_block: Option<Duration>,
    /// `Some(None)`: explicitly no transactional id (`transactional.id: ~`).
    transactional_id: Option<Ex<Option<String>>>,
    transaction_timeout: Option<Duration>,
}

fn producer(
    cx: &mut Cx,
    node: &Node,
    field: &str,
    topics: &TopicNames<'_>,
    preset: Option<Preset>,
) -> R<(ProducerSpec, Pos)> {
    let m = mapping(node, field, "a producer like `{ name: web, rate: 100/s }`")?;
    m.known(&[
        "name",
        "topic",
        "instances",
        "rate",
        "messages",
        "keys",
        "record_bytes",
        "transaction_interval",
        "event_time",
        "config",
    ])?;
    let name_node = m.require("name", "name: web")?;
    let name = simple_name(name_node, &join(field, "name"))?;
    let topic = topic_ref(&m, field, topics)?;
    let instances = match m.value("instances") {
        Some(n) => u32_in(n, &join(field, "instances"), 1, MAX_INSTANCES)?,
        None => 1,
    };
    let rate = rate(m.require("rate", "rate: 100/s")?, &join(field, "rate"))?;
    let messages = match m.value("messages") {
        Some(n) => Some(u64_in(n, &join(field, "messages"), 1, i128::from(u64::MAX))?),
        None => None,
    };
    let keys = match m.value("keys") {
        Some(n) => u32_in(n, &join(field, "keys"), 0, MAX_KEYS)?,
        None => 100,
    };
    let record_bytes = match m.value("record_bytes") {
        Some(n) => u32_in(n, &join(field, "record_bytes"), 1, MAX_RECORD_BYTES)?,
        None => 100,
    };
    let transaction_interval = match m.get("transaction_interval") {
        Some(e) => {
            let d = duration(e.value, &e.field)?;
            if d == Duration::ZERO {
                return Err(problem(e.value.pos, &e.field, format!("{}: must be more than 0", e.field)));
            }
            Some((d, e.key_pos, e.field.clone()))
        }
        None => None,
    };
    let event_time = match m.get("event_time") {
        Some(e) => event_time(e.value, &e.field)?,
        None => EventTimeSpec::default(),
    };
    let path = join(field, "config");
    let mut x = ProducerExplicit::default();
    if let Some(e) = m.get("config") {
        let cm = mapping(e.value, &path, "a mapping of Kafka producer configs")?;
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
                "linger.ms" => x.linger = ex(kafka_ms(v, f, 0, i128::from(i64::MAX))?, e),
                // 0 is allowed as in Kafka ("no batching"): the producer then
                // closes a batch after every record (one record per batch).
                "batch.size" => x.batch_size = Some(u32_in(v, f, 0, I32_MAX)?),
                "buffer.memory" => x.buffer_memory = ex(u64_in(v, f, 0, i128::from(i64::MAX))?, e),
                "max.block.ms" => x.max_block = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
                "transactional.id" => {
                    let id = if v.is_null() { None } else { Some(string(v, f, "a transactional id")?) };
                    if id.as_deref() == Some("") {
                        return Err(problem(v.pos, f, format!("{f}: must not be empty")));
                    }
                    x.transactional_id = ex(id, e);
                }
                "transaction.timeout.ms" => x.transaction_timeout = Some(kafka_ms(v, f, 1, I32_MAX)?),
                _ => cx.other_config(e, &path, Section::Producer)?,
            }
        }
    }
    let config = resolve_producer(cx, &name, &path, x, preset)?;
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
        event_time,
        config,
    };
    Ok((spec, name_node.pos))
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
        let om = mapping(e.value, &e.field, "`{ every: 30s, for: 10s }`")?;
        om.known(&["every", "for"])?;
        let every = om.require("every", "every: 30s")?;
        let every = positive_duration(every, &join(&e.field, "every"))?;
        let span = om.require("for", "for: 10s")?;
        let span_d = positive_duration(span, &join(&e.field, "for"))?;
        if span_d >= every {
            return Err(problem(
                span.pos,
                &join(&e.field, "for"),
                format!("{}.for: must be shorter than `every`", e.field),
            )
            .hint("the client must come back online between two offline periods"));
        }
        spec.offline = Some(Offline { every, duration: span_d });
    }
    Ok(spec)
}

/// `aggregate: { window: { tumbling: 10s }, watermark: 2s, allowed_lateness: 0s, late: drop }`.
fn aggregate(node: &Node, field: &str) -> R<AggregateSpec> {
    let m = mapping(node, field, "a mapping like `{ window: { tumbling: 10s }, watermark: 2s }`")?;
    m.known(&["window", "watermark", "allowed_lateness", "late"])?;
    let w = m.require("window", "window: { tumbling: 10s }")?;
    let wf = join(field, "window");
    let wm = mapping(w, &wf, "`{ tumbling: 10s }`, `{ sliding: { size: 10s, every: 5s } }` or `{ session: 5s }`")?;
    wm.known(&["tumbling", "sliding", "session"])?;
    let window = match wm.entries.as_slice() {
        [e] => match e.key {
            "tumbling" => WindowKind::Tumbling { size: positive_duration(e.value, &e.field)? },
            "session" => WindowKind::Session { gap: positive_duration(e.value, &e.field)? },
            _ => {
                let sm = mapping(e.value, &e.field, "`{ size: 10s, every: 5s }`")?;
                sm.known(&["size", "every"])?;
                let size_n = sm.require("size", "size: 10s")?;
                let size = positive_duration(size_n, &join(&e.field, "size"))?;
                let every_n = sm.require("every", "every: 5s")?;
                let slide = positive_duration(every_n, &join(&e.field, "every"))?;
                if slide > size || size.us() % slide.us() != 0 {
                    return Err(problem(
                        every_n.pos,
                        &join(&e.field, "every"),
                        format!("{}.every: must divide the window size ({size}) evenly", e.field),
                    )
                    .hint("e.g. `{ size: 10s, every: 5s }`"));
                }
                WindowKind::Sliding { size, slide }
            }
        },
        _ => {
            return Err(problem(w.pos, &wf, format!("{wf}: give one window kind: tumbling, sliding or session"))
                .hint("e.g. `window: { tumbling: 10s }`"))
        }
    };
    let watermark_delay = match m.get("watermark") {
        Some(e) => duration(e.value, &e.field)?,
        None => Duration::ZERO,
    };
    let allowed_lateness = match m.get("allowed_lateness") {
        Some(e) => duration(e.value, &e.field)?,
        None => Duration::ZERO,
    };
    let late = match m.get("late") {
        Some(e) => choice(e.value, &e.field, &[("drop", LatePolicy::Drop), ("correct", LatePolicy::Correct)])?,
        None => LatePolicy::Drop,
    };
    Ok(AggregateSpec { window, watermark_delay, allowed_lateness, late })
}

fn resolve_producer(
    cx: &mut Cx,
    name: &str,
    path: &str,
    x: ProducerExplicit,
    preset: Option<Preset>,
) -> R<ProducerConfig> {
    let mut c = ProducerConfig::default();
    if let Some(p) = preset {
        apply_preset(p.semantics, name, &mut c);
    }
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
    if let Some(e) = &x.linger {
        c.linger = e.value;
    }
    if let Some(b) = x.batch_size {
        c.batch_size = b;
    }
    if let Some(e) = &x.buffer_memory {
        c.buffer_memory = e.value;
    }
    if let Some(d) = x.max_block {
        c.max_block = d;
    }
    if let Some(e) = &x.transactional_id {
        c.transactional_id = e.value.clone();
    }

    if let Some(d) = x.transaction_timeout {
        c.transaction_timeout = d;
    }

    // Idempotence, as Kafka's ProducerConfig decides it: each conflicting
    // config is a ConfigException when `enable.idempotence: true` is written
    // in the file, and otherwise turns idempotence quietly off. (Kafka 4.0
    // made more than 5 in flight a ConfigException even then; streamsim
    // follows the 3.x rule.)
    // A transactional id needs idempotence: Kafka refuses it when idempotence
    // is off, whether written so or turned off by a conflicting config.
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
    if c.enable_idempotence {
        // Who insists on idempotence: the file's `enable.idempotence: true`, or a transactional id.
        let explicit: Option<(Pos, String, &str)> = match (&x.idempotence, &tx_at) {
            (Some(e), _) if e.value => Some((e.key, e.field.clone(), "enable.idempotence is true")),
            (_, Some((pos, field))) => Some((*pos, field.clone(), "transactional.id is set (it needs idempotence)")),
            _ => None,
        };
        let acks = match c.acks {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        };
        let in_flight = c.max_in_flight_requests_per_connection;
        let conflicts = [
            (
                c.retries == 0,
                "retries is 0".to_string(),
                set_at(&x.retries),
                "retries=0".to_string(),
                "Must set retries to non-zero when using the idempotent producer",
                "set `retries` above 0, or `enable.idempotence: false`",
            ),
            (
                c.acks != Acks::All,
                format!("acks is {acks}"),
                set_at(&x.acks),
                format!("acks={acks}"),
                "Must set acks to all in order to use the idempotent producer",
                "set `acks: all`, or `enable.idempotence: false`",
            ),
            (
                in_flight > 5,
                format!("max.in.flight.requests.per.connection is {in_flight}"),
                set_at(&x.max_in_flight),
                String::new(),
                "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5",
                "set `max.in.flight.requests.per.connection` to 5 or less, or `enable.idempotence: false` (a retry may then reorder records)",
            ),
        ];
        for (conflict, what, at, preset_what, kafka_text, hint) in conflicts {
            if !conflict {
                continue;
            }
            let Some((idem_pos, idem_field, why)) = &explicit else {
                c.enable_idempotence = false;
                break;
            };
            let (pos, field, from) = match (at, preset) {
                (Some((pos, field)), _) => (pos, field, String::new()),
                (None, Some(p)) => (
                    *idem_pos,
                    idem_field.clone(),
                    format!(" ({preset_what} comes from `semantics: {}`)", p.semantics.name()),
                ),
                (None, None) => (*idem_pos, idem_field.clone(), String::new()),
            };
            return Err(problem(
                pos,
                &field,
                format!("{path}: {why} but {what}{from}; Kafka rejects this with a ConfigException (\"{kafka_text}\")"),
            )
            .hint(hint));
        }
    }

    // The buffer pool hands out a batch.size chunk per batch: the whole buffer must hold one.
    if c.buffer_memory < u64::from(c.batch_size) {
        if let Some(e) = &x.buffer_memory {
            return Err(problem(
                e.key,
                &e.field,
                format!(
                    "{}: buffer.memory ({}) is smaller than batch.size ({}): no batch would ever fit, and every send() would fail",
                    e.field, c.buffer_memory, c.batch_size
                ),
            )
            .hint(format!("set `buffer.memory` to at least {}", c.batch_size)));
        }
    }

    // delivery.timeout.ms >= linger.ms + request.timeout.ms (KafkaProducer).
    let floor = Duration(c.linger.us().saturating_add(c.request_timeout.us()));
    if c.delivery_timeout < floor {
        match &x.delivery_timeout {
            Some(e) => {
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
            None => {
                // Kafka overrides a delivery.timeout.ms that was not set (and logs a warning).
                let at = x.request_timeout.as_ref().or(x.linger.as_ref());
                let (pos, field) =
                    at.map_or((Pos::START, join(path, "delivery.timeout.ms")), |e| (e.key, e.field.clone()));
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
            }
        }
    }
    Ok(c)
}

// ---------------------------------------------------------------------------
// Consumers

const COMMIT_MODES: [(&str, CommitMode); 4] = [
    ("before-processing", CommitMode::BeforeProcessing),
    ("after-processing", CommitMode::AfterProcessing),
    ("auto", CommitMode::Auto),
    ("transactional", CommitMode::Transactional),
];

const SINKS: [(&str, SinkKind); 3] =
    [("plain", SinkKind::Plain), ("idempotent", SinkKind::Idempotent), ("transactional", SinkKind::Transactional)];

/// `range`, `cooperative-sticky`, a class name, a comma-separated string, or a list.
fn assignors(node: &Node, field: &str) -> R<Vec<Assignor>> {
    const NAMES: [(&str, Assignor); 4] = [
        ("range", Assignor::Range),
        ("roundrobin", Assignor::RoundRobin),
        ("sticky", Assignor::Sticky),
        ("cooperative-sticky", Assignor::CooperativeSticky),
    ];
    const CLASSES: [(&str, Assignor); 4] = [
        ("RangeAssignor", Assignor::Range),
        ("RoundRobinAssignor", Assignor::RoundRobin),
        ("StickyAssignor", Assignor::Sticky),
        ("CooperativeStickyAssignor", Assignor::CooperativeSticky),
    ];
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
    if words.is_empty() {
        return Err(problem(node.pos, field, format!("{field}: needs at least one assignor"))
            .hint("e.g. `range` or `cooperative-sticky`"));
    }
    let mut out = Vec::with_capacity(words.len());
    for (w, pos, f) in words {
        let short = w.strip_prefix("org.apache.kafka.clients.consumer.").unwrap_or(&w);
        let found = NAMES.iter().chain(CLASSES.iter()).find(|(n, _)| *n == short).map(|(_, a)| *a);
        match found {
            Some(a) => out.push(a),
            None => {
                let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                let hint = did_you_mean(short, names.iter().copied().chain(CLASSES.iter().map(|(n, _)| *n)))
                    .unwrap_or_else(|| format!("streamsim knows {}", one_of(&names)));
                return Err(problem(pos, &f, format!("{f}: unknown assignor `{}`", clip(&w))).hint(hint));
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
struct ConsumerExplicit {
    enable_auto_commit: Option<Ex<bool>>,
    auto_commit_interval: Option<Ex<Duration>>,
    auto_offset_reset: Option<OffsetReset>,
    session_timeout: Option<Ex<Duration>>,
    heartbeat_interval: Option<Ex<Duration>>,
    max_poll_interval: Option<Duration>,
    max_poll_records: Option<u32>,
    isolation_level: Option<IsolationLevel>,
    assignors: Option<Vec<Assignor>>,
    fetch_max_wait: Option<Duration>,
    max_partition_fetch_bytes: Option<u32>,
    request_timeout: Option<Duration>,
    retry_backoff: Option<Duration>,
}

fn consumer(
    cx: &mut Cx,
    node: &Node,
    field: &str,
    topics: &TopicNames<'_>,
    preset: Option<Preset>,
) -> R<(ConsumerSpec, Pos)> {
    let m = mapping(node, field, "a consumer like `{ group: analytics, instances: 3 }`")?;
    m.known(&[
        "group",
        "topic",
        "instances",
        "processing_time",
        "processing",
        "commit",
        "commit_every",
        "commit_async",
        "sink",
        "aggregate",
        "config",
    ])?;
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
    let processing = match m.get("processing") {
        Some(e) => Some((choice(e.value, &e.field, &[("sync", Processing::Sync), ("async", Processing::Async)])?, e)),
        None => None,
    };
    let commit = match m.value("commit") {
        Some(n) => Some((choice(n, &join(field, "commit"), &COMMIT_MODES)?, n.pos)),
        None => None,
    };
    let aggregate = match m.get("aggregate") {
        Some(e) => Some(self::aggregate(e.value, &e.field)?),
        None => None,
    };
    let commit_every = match m.get("commit_every") {
        Some(e) => {
            Some((choice(e.value, &e.field, &[("batch", CommitEvery::Batch), ("record", CommitEvery::Record)])?, e))
        }
        None => None,
    };
    let commit_async = match m.get("commit_async") {
        Some(e) => Some((boolean(e.value, &e.field)?, e)),
        None => None,
    };
    let sink = match m.value("sink") {
        Some(n) => Some((choice(n, &join(field, "sink"), &SINKS)?, n.pos)),
        None => None,
    };
    let path = join(field, "config");
    let mut x = ConsumerExplicit::default();
    if let Some(e) = m.get("config") {
        let cm = mapping(e.value, &path, "a mapping of Kafka consumer configs")?;
        for e in &cm.entries {
            let (v, f) = (e.value, e.field.as_str());
            match e.key {
                "enable.auto.commit" => x.enable_auto_commit = ex(boolean(v, f)?, e),
                "auto.commit.interval.ms" => x.auto_commit_interval = ex(kafka_ms(v, f, 0, I32_MAX)?, e),
                "auto.offset.reset" => {
                    let opts = [
                        ("earliest", OffsetReset::Earliest),
                        ("latest", OffsetReset::Latest),
                        ("none", OffsetReset::None),
                    ];
                    x.auto_offset_reset = Some(choice(v, f, &opts)?);
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
                "partition.assignment.strategy" => {
                    x.assignors = Some(assignors(v, f)?);
                }
                "fetch.max.wait.ms" => x.fetch_max_wait = Some(kafka_ms(v, f, 0, I32_MAX)?),
                "max.partition.fetch.bytes" => x.max_partition_fetch_bytes = Some(u32_in(v, f, 0, I32_MAX)?),
                // Kafka allows 0; a zero timeout would fail every request at once.
                "request.timeout.ms" => x.request_timeout = Some(kafka_ms(v, f, 1, I32_MAX)?),
                "retry.backoff.ms" => x.retry_backoff = Some(kafka_ms(v, f, 0, i128::from(i64::MAX))?),
                "group.id" => {
                    let id = string(v, f, "the group id")?;
                    if id != group {
                        return Err(problem(
                            v.pos,
                            f,
                            format!("{f}: group.id `{}` does not match `group: {group}`", clip(&id)),
                        )
                        .hint("remove `group.id`: `group:` sets it"));
                    }
                }
                _ => cx.other_config(e, &path, Section::Consumer)?,
            }
        }
    }

    let p = preset.map(|p| (p, consumer_preset(p.semantics)));
    // commit and enable.auto.commit decide each other.
    let (commit_mode, commit_pos, enable_auto_commit) = match (commit, &x.enable_auto_commit) {
        (Some((cm, pos)), Some(e)) => {
            if (cm == CommitMode::Auto) != e.value {
                let needs = if cm == CommitMode::Auto { "true" } else { "false" };
                return Err(problem(
                    e.key,
                    &e.field,
                    format!(
                        "{}: enable.auto.commit is {} but `commit: {}` needs it {needs}",
                        e.field,
                        e.value,
                        cm.name()
                    ),
                )
                .hint("remove `enable.auto.commit`: `commit:` sets it"));
            }
            (cm, Some(pos), e.value)
        }
        (Some((cm, pos)), None) => (cm, Some(pos), cm == CommitMode::Auto),
        (None, Some(e)) if e.value => (CommitMode::Auto, None, true),
        (None, Some(_)) => {
            // Manual commits: keep the preset's manual mode, else commit after processing.
            let cm = match p {
                Some((_, cp)) if cp.commit != CommitMode::Auto => cp.commit,
                _ => CommitMode::AfterProcessing,
            };
            (cm, None, false)
        }
        (None, None) => match p {
            Some((_, cp)) => (cp.commit, None, cp.commit == CommitMode::Auto),
            None => (CommitMode::Auto, None, true),
        },
    };
    let (sink_kind, sink_pos) = match (sink, p) {
        (Some((s, pos)), _) => (s, Some(pos)),
        (None, Some((_, cp))) => (cp.sink, None),
        (None, None) => (SinkKind::Plain, None),
    };
    // The transactional sink commits the results with the offsets: the two go together.
    if (commit_mode == CommitMode::Transactional) != (sink_kind == SinkKind::Transactional) {
        let (pos, f) = match (commit_pos, sink_pos) {
            (Some(p), _) if commit_mode == CommitMode::Transactional => (p, join(field, "commit")),
            (_, Some(p)) => (p, join(field, "sink")),
            (Some(p), None) => (p, join(field, "commit")),
            (None, None) => (preset.map_or(Pos::START, |p| p.pos), "semantics".to_string()),
        };
        return Err(problem(pos, &f, format!("{f}: `commit: transactional` and `sink: transactional` go together (the results and the offsets commit in one transaction)"))
            .hint("set both, or neither"));
    }

    let mut c = ConsumerConfig { enable_auto_commit, ..ConsumerConfig::default() };
    if let Some((_, cp)) = p {
        c.auto_offset_reset = cp.auto_offset_reset;
        if let Some(iso) = cp.isolation_level {
            c.isolation_level = iso;
        }
    }
    if let Some(e) = &x.auto_commit_interval {
        c.auto_commit_interval = e.value;
        // Kafka allows 0; with auto-commit the simulated commit timer needs a period.
        if e.value == Duration::ZERO && commit_mode == CommitMode::Auto {
            return Err(problem(e.key, &e.field, format!("{}: must be more than 0 with auto-commit", e.field))
                .hint("auto-commit runs every `auto.commit.interval.ms`; use e.g. `1000`"));
        }
    }
    if let Some(r) = x.auto_offset_reset {
        c.auto_offset_reset = r;
    }
    if let Some(e) = &x.session_timeout {
        c.session_timeout = e.value;
    }
    if let Some(e) = &x.heartbeat_interval {
        c.heartbeat_interval = e.value;
    }
    if let Some(d) = x.max_poll_interval {
        c.max_poll_interval = d;
    }
    if let Some(n) = x.max_poll_records {
        c.max_poll_records = n;
    }
    if let Some(i) = x.isolation_level {
        c.isolation_level = i;
    }
    if let Some(a) = x.assignors {
        c.partition_assignment_strategy = a;
    }
    if let Some(d) = x.fetch_max_wait {
        c.fetch_max_wait = d;
    }
    if let Some(n) = x.max_partition_fetch_bytes {
        c.max_partition_fetch_bytes = n;
    }
    if let Some(d) = x.request_timeout {
        c.request_timeout = d;
    }
    if let Some(d) = x.retry_backoff {
        c.retry_backoff = d;
    }
    if c.heartbeat_interval >= c.session_timeout {
        let at = x.heartbeat_interval.as_ref().or(x.session_timeout.as_ref());
        let (pos, f) = at.map_or((m.pos, join(&path, "heartbeat.interval.ms")), |e| (e.key, e.field.clone()));
        return Err(problem(
            pos,
            &f,
            format!(
                "{path}: heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
                c.heartbeat_interval.ms(),
                c.session_timeout.ms()
            ),
        )
        .hint("Kafka recommends a heartbeat interval of at most a third of the session timeout"));
    }
    // With a worker queue the poll loop does not know what the worker has
    // finished, so it can only commit what poll() returned.
    let processing = match processing {
        Some((Processing::Async, e)) if !matches!(commit_mode, CommitMode::Auto | CommitMode::BeforeProcessing) => {
            return Err(problem(
                e.key_pos,
                &e.field,
                format!(
                    "{}: `processing: async` hands records to a worker, so only `commit: auto` or `commit: before-processing` can go with it, not `{}`",
                    e.field,
                    commit_mode.name()
                ),
            )
            .hint("use `commit: auto`, or drop `processing: async`"));
        }
        Some((p, _)) => p,
        None => Processing::Sync,
    };
    // commit_every and commit_async shape the after-processing commit only.
    for e in [commit_every.as_ref().map(|(_, e)| *e), commit_async.as_ref().map(|(_, e)| *e)].into_iter().flatten() {
        if commit_mode != CommitMode::AfterProcessing {
            return Err(problem(
                e.key_pos,
                &e.field,
                format!(
                    "{}: applies to `commit: after-processing`, and this group commits `{}`",
                    e.field,
                    commit_mode.name()
                ),
            )
            .hint("set `commit: after-processing`, or remove it"));
        }
    }
    let commit_every = commit_every.map_or(CommitEvery::Batch, |(v, _)| v);
    let commit_async = commit_async.is_some_and(|(v, _)| v);
    if commit_async && commit_every == CommitEvery::Record {
        let e = m.get("commit_async").expect("set");
        return Err(problem(
            e.key_pos,
            &e.field,
            format!("{}: `commit_every: record` commits synchronously before the next record", e.field),
        )
        .hint("use one of `commit_every: record` or `commit_async: true`"));
    }
    let spec = ConsumerSpec {
        group,
        topic,
        instances,
        slots: instances,
        processing_time,
        processing,
        commit: commit_mode,
        commit_every,
        commit_async,
        aggregate,
        sink: sink_kind,
        config: c,
    };
    Ok((spec, group_node.pos))
}

// ---------------------------------------------------------------------------
// Entities and faults

/// The name of instance `index` of a producer or consumer group: `web-0`.
pub fn instance_name(base: &str, index: u32) -> String {
    format!("{base}-{index}")
}

/// Every entity a fault can name, by name.
fn entity_names(
    brokers: u32,
    producers: &[ProducerSpec],
    producer_pos: &[(Pos, String)],
    consumers: &[ConsumerSpec],
    consumer_pos: &[(Pos, String)],
) -> R<BTreeMap<String, Target>> {
    let mut names: BTreeMap<String, (Target, String)> = BTreeMap::new();
    for b in 0..brokers {
        names.insert(format!("broker-{b}"), (Target::Broker(b), "a broker".to_string()));
    }
    let mut total: u64 = 0;
    let members = producers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), p.instances, "producer", producer_pos.get(i), i, true))
        .chain(
            consumers
                .iter()
                .enumerate()
                .map(|(i, c)| (c.group.as_str(), c.slots, "consumer group", consumer_pos.get(i), i, false)),
        );
    for (base, instances, kind, at, idx, is_producer) in members {
        let (pos, field) = at.cloned().unwrap_or((Pos::START, String::new()));
        total = total.saturating_add(u64::from(instances));
        if total > MAX_TOTAL_INSTANCES {
            return Err(problem(
                pos,
                &field,
                format!("more than {MAX_TOTAL_INSTANCES} producer and consumer instances in all"),
            ));
        }
        for i in 0..instances {
            let name = instance_name(base, i);
            let target = if is_producer { Target::Producer(idx, i) } else { Target::Consumer(idx, i) };
            if let Some((_, owner)) = names.get(&name) {
                return Err(problem(
                    pos,
                    &field,
                    format!("instance `{name}` of {kind} `{base}` has the same name as {owner}"),
                )
                .hint(format!("instances are named `{base}-0`, `{base}-1`, … and brokers `broker-0`, …; rename one")));
            }
            names.insert(name, (target, format!("an instance of {kind} `{base}`")));
        }
    }
    Ok(names.into_iter().map(|(k, (t, _))| (k, t)).collect())
}

fn target(node: &Node, field: &str, entities: &BTreeMap<String, Target>) -> R<Target> {
    let name = string(node, field, "an entity name like `analytics-1` or `broker-0`")?;
    match entities.get(name.trim()) {
        Some(t) => Ok(*t),
        None => {
            let hint = did_you_mean(name.trim(), entities.keys().map(String::as_str)).unwrap_or_else(|| {
                "targets are instance names (`web-0`, `analytics-1`) or brokers (`broker-0`)".to_string()
            });
            Err(problem(node.pos, field, format!("{field}: no entity `{}`", clip(&name))).hint(hint))
        }
    }
}

/// A first look at the faults: the consumer instances that `start:` names
/// and the sizes `scale:` asks for set how many instances each group has.
/// Anything malformed is left for `faults` to report.
fn later_instances(node: &Node, consumers: &mut [ConsumerSpec]) {
    let Value::Seq(items) = &node.value else { return };
    for item in items {
        let Value::Map(entries) = &item.value else { continue };
        fn text_of(n: &Node) -> Option<&str> {
            match &n.value {
                Value::Scalar { text, .. } => Some(text.trim()),
                _ => None,
            }
        }
        let text = |key: &str| entries.iter().find(|(k, _)| text_of(k) == Some(key)).and_then(|(_, v)| text_of(v));
        if let Some(name) = text("start") {
            for c in consumers.iter_mut() {
                let n = name.strip_prefix(c.group.as_str()).and_then(|r| r.strip_prefix('-'));
                if let Some(n) = n.and_then(|n| n.parse::<u32>().ok()).filter(|&n| i128::from(n) < MAX_INSTANCES) {
                    c.slots = c.slots.max(n + 1);
                }
            }
        }
        if let (Some(group), Some(to)) = (text("scale"), text("to").and_then(|t| t.parse::<u32>().ok())) {
            if let Some(c) = consumers.iter_mut().find(|c| c.group == group) {
                c.slots = c.slots.max(to.min(MAX_INSTANCES as u32));
            }
        }
    }
}

/// Where a parsed fault came from, for the checks made after sorting.
struct FaultAt {
    action_pos: Pos,
    field: String,
    target_name: String,
}

fn faults(
    node: &Node,
    entities: &BTreeMap<String, Target>,
    consumers: &[ConsumerSpec],
    duration: Duration,
    drain: Duration,
    end: Instant,
) -> R<Vec<FaultSpec>> {
    const ACTIONS: [&str; 7] = ["crash", "restart", "pause", "partition", "start", "stop", "scale"];
    let items = list(node, "faults", "a list of faults like `{ at: 30s, crash: analytics-1 }`")?;
    let mut parsed: Vec<(FaultSpec, FaultAt)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = index("faults", i);
        let m = mapping(item, &field, "a fault like `{ at: 30s, crash: analytics-1 }`")?;
        m.known(&["at", "crash", "restart", "pause", "partition", "start", "stop", "scale", "to", "for", "lose"])?;
        let at_node = m.require("at", "at: 30s")?;
        let at_field = join(&field, "at");
        let at = duration_to_instant(self::duration(at_node, &at_field)?);
        if at > end {
            return Err(problem(
                at_node.pos,
                &at_field,
                format!("{at_field}: {at} is after the end of the run (duration {duration} + drain {drain})"),
            )
            .hint("faults must happen by `duration + drain`"));
        }
        let actions: Vec<&Entry<'_>> = m.entries.iter().filter(|e| ACTIONS.contains(&e.key)).collect();
        let action = match actions.as_slice() {
            [] => {
                return Err(problem(m.pos, &field, format!("{field}: a fault needs an action: {}", one_of(&ACTIONS)))
                    .hint("e.g. `{ at: 30s, crash: analytics-1 }`"))
            }
            [one] => *one,
            [first, second, ..] => {
                return Err(problem(
                    second.key_pos,
                    &second.field,
                    format!("{field}: a fault has one action, found both `{}` and `{}`", first.key, second.key),
                )
                .hint("write each action as its own fault"))
            }
        };
        let for_entry = m.get("for");
        let af = &action.field;
        if let Some(e) = m.get("to").filter(|_| action.key != "scale") {
            return Err(problem(e.key_pos, &e.field, format!("{field}: `to` goes with `scale`"))
                .hint("e.g. `{ at: 20s, scale: analytics, to: 6 }`"));
        }
        if let Some(e) = for_entry.filter(|_| matches!(action.key, "start" | "stop" | "scale")) {
            return Err(problem(
                e.key_pos,
                &e.field,
                format!("{field}: `for` applies to `pause` and `partition` faults, not `{}`", action.key),
            )
            .hint("a started instance runs until a `stop` (or a `crash`)"));
        }
        let (spec_action, target_name) = match action.key {
            "start" | "stop" => {
                let t = target(action.value, af, entities)?;
                let n = string(action.value, af, "an instance name")?;
                if !matches!(t, Target::Consumer(..)) {
                    return Err(problem(
                        action.value.pos,
                        af,
                        format!("{af}: `{}` starts and stops consumer instances only", action.key),
                    )
                    .hint("use `crash` and `restart` for brokers and producers"));
                }
                let a = if action.key == "start" { FaultAction::Start(t) } else { FaultAction::Stop(t) };
                (a, n.trim().to_string())
            }
            "scale" => {
                let group = string(action.value, af, "a consumer group name")?;
                let Some(gi) = consumers.iter().position(|c| c.group == group.trim()) else {
                    let hint = did_you_mean(group.trim(), consumers.iter().map(|c| c.group.as_str()))
                        .unwrap_or_else(|| "`scale` names a consumer group".to_string());
                    return Err(
                        problem(action.value.pos, af, format!("{af}: no consumer group `{}`", clip(&group))).hint(hint)
                    );
                };
                let Some(to) = m.get("to") else {
                    return Err(m.missing("to", "to: 6").hint("`scale` sets how many instances run: `to: 6`"));
                };
                let n = u32_in(to.value, &to.field, 0, MAX_INSTANCES)?;
                (FaultAction::Scale(gi, n), group.trim().to_string())
            }
            "crash" | "restart" => {
                if let Some(e) = for_entry {
                    return Err(problem(
                        e.key_pos,
                        &e.field,
                        format!("{field}: `for` applies to `pause` and `partition` faults, not `{}`", action.key),
                    )
                    .hint("a crashed entity stays down until a `restart` fault"));
                }
                let t = target(action.value, af, entities)?;
                let n = string(action.value, af, "an entity name")?;
                let lose = match m.get("lose") {
                    None => false,
                    Some(e) if action.key == "crash" => {
                        choice(e.value, &e.field, &[("unflushed", true)])?;
                        if !matches!(t, Target::Broker(_)) {
                            return Err(problem(
                                e.key_pos,
                                &e.field,
                                format!("{}: only a broker has a log to lose", e.field),
                            )
                            .hint("drop `lose`, or crash a broker"));
                        }
                        true
                    }
                    Some(e) => {
                        return Err(problem(e.key_pos, &e.field, format!("{field}: `lose` goes with `crash`"))
                            .hint("e.g. `{ at: 20s, crash: broker-0, lose: unflushed }`"))
                    }
                };
                let a = match (action.key, lose) {
                    ("crash", true) => FaultAction::PowerLoss(t),
                    ("crash", false) => FaultAction::Crash(t),
                    _ => FaultAction::Restart(t),
                };
                (a, n.trim().to_string())
            }
            kind => {
                let Some(for_e) = for_entry.filter(|e| !e.value.is_null()) else {
                    return Err(m.missing("for", "for: 5s").hint(format!("a `{kind}` fault lasts `for` a duration")));
                };
                let span = positive_duration(for_e.value, &for_e.field)?;
                if kind == "pause" {
                    let t = target(action.value, af, entities)?;
                    let n = string(action.value, af, "an entity name")?;
                    (FaultAction::Pause(t, span), n.trim().to_string())
                } else {
                    let names = match &action.value.value {
                        Value::Seq(items) => items,
                        _ => {
                            return Err(type_error(
                                action.value,
                                af,
                                "a list of at least two entities like `[broker-1, broker-2]`",
                            ))
                        }
                    };
                    if names.len() < 2 {
                        return Err(problem(
                            action.value.pos,
                            af,
                            format!("{af}: a partition needs at least two entities"),
                        )
                        .hint("e.g. `partition: [broker-1, broker-2]`"));
                    }
                    let mut targets: Vec<Target> = Vec::with_capacity(names.len());
                    for (j, n) in names.iter().enumerate() {
                        let f = index(af, j);
                        let t = target(n, &f, entities)?;
                        if targets.contains(&t) {
                            return Err(problem(
                                n.pos,
                                &f,
                                format!("{f}: `{}` is listed twice", clip(&string(n, &f, "a name")?)),
                            ));
                        }
                        targets.push(t);
                    }
                    (FaultAction::Partition(targets, span), String::new())
                }
            }
        };
        parsed.push((
            FaultSpec { at, action: spec_action },
            FaultAt { action_pos: action.key_pos, field: af.clone(), target_name },
        ));
    }

    // Sort by time (stable: ties keep file order), then check that crashes and
    // restarts alternate for every target, and that nothing down is paused.
    // (A crash during a pause ends the pause.)
    parsed.sort_by_key(|(spec, _)| spec.at);
    let mut down: BTreeMap<Target, Instant> = BTreeMap::new();
    // Consumer instances not running (never started, or stopped): (target, since).
    let mut stopped: BTreeMap<Target, Option<Instant>> = BTreeMap::new();
    for (s, c) in consumers.iter().enumerate() {
        for i in c.instances..c.slots {
            stopped.insert(Target::Consumer(s, i), None);
        }
    }
    let mut out: Vec<FaultSpec> = Vec::with_capacity(parsed.len());
    for (spec, at) in &parsed {
        let not_running = |t: &Target| -> Option<String> {
            stopped.get(t).map(|since| match since {
                None => format!("`{}` has not started at {}", at.target_name, spec.at),
                Some(when) => format!("`{}` is stopped at {} (stopped at {when})", at.target_name, spec.at),
            })
        };
        match &spec.action {
            FaultAction::Crash(t) | FaultAction::Pause(t, _) | FaultAction::Stop(t) if not_running(t).is_some() => {
                let why = not_running(t).expect("checked");
                return Err(
                    problem(at.action_pos, &at.field, format!("{}: {why}", at.field)).hint("add a `start` before it")
                );
            }
            FaultAction::Start(t) => {
                if stopped.remove(t).is_none() {
                    return Err(problem(
                        at.action_pos,
                        &at.field,
                        format!("{}: `{}` is already running at {}", at.field, at.target_name, spec.at),
                    )
                    .hint("`start` brings up an instance that has not started or was stopped"));
                }
                out.push(spec.clone());
                continue;
            }
            FaultAction::Stop(t) => {
                if down.contains_key(t) {
                    return Err(problem(
                        at.action_pos,
                        &at.field,
                        format!("{}: `{}` is crashed at {}, so it cannot stop", at.field, at.target_name, spec.at),
                    )
                    .hint("`restart` it first"));
                }
                stopped.insert(*t, Some(spec.at));
                out.push(spec.clone());
                continue;
            }
            FaultAction::Scale(s, to) => {
                // Start the lowest-numbered instances not running, or stop the highest-numbered running ones.
                let (s, to) = (*s, *to);
                let slots = consumers[s].slots;
                let running: Vec<u32> =
                    (0..slots).filter(|&i| !stopped.contains_key(&Target::Consumer(s, i))).collect();
                let live = running.iter().filter(|&&i| !down.contains_key(&Target::Consumer(s, i))).count() as u32;
                if to > live {
                    let mut need = to - live;
                    for i in 0..slots {
                        let t = Target::Consumer(s, i);
                        if need > 0 && stopped.remove(&t).is_some() {
                            out.push(FaultSpec { at: spec.at, action: FaultAction::Start(t) });
                            need -= 1;
                        }
                    }
                } else {
                    let mut extra = live - to;
                    for &i in running.iter().rev() {
                        let t = Target::Consumer(s, i);
                        if extra > 0 && !down.contains_key(&t) {
                            stopped.insert(t, Some(spec.at));
                            out.push(FaultSpec { at: spec.at, action: FaultAction::Stop(t) });
                            extra -= 1;
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        match spec.action {
            FaultAction::Crash(t) | FaultAction::PowerLoss(t) => {
                if let Some(since) = down.get(&t) {
                    return Err(problem(
                        at.action_pos,
                        &at.field,
                        format!(
                            "{}: `{}` is already crashed at {} (crashed at {since})",
                            at.field, at.target_name, spec.at
                        ),
                    )
                    .hint("add a `restart` between the two crashes"));
                }
                down.insert(t, spec.at);
            }
            FaultAction::Restart(t) => {
                let was_down = down.remove(&t).is_some();
                if !was_down {
                    return Err(problem(
                        at.action_pos,
                        &at.field,
                        format!(
                            "{}: `{}` is not crashed at {}, so it cannot restart",
                            at.field, at.target_name, spec.at
                        ),
                    )
                    .hint("a `restart` needs an earlier `crash` of the same entity"));
                }
            }
            FaultAction::Pause(t, _) => {
                if let Some(since) = down.get(&t) {
                    return Err(problem(
                        at.action_pos,
                        &at.field,
                        format!(
                            "{}: `{}` is down at {} (crashed at {since}), so it cannot be paused",
                            at.field, at.target_name, spec.at
                        ),
                    )
                    .hint("pause it before the crash or after a `restart`"));
                }
            }
            FaultAction::Partition(..) => {}
            FaultAction::Start(_) | FaultAction::Stop(_) | FaultAction::Scale(..) => unreachable!("handled above"),
        }
        out.push(spec.clone());
    }
    Ok(out)
}

fn duration_to_instant(d: Duration) -> Instant {
    Instant(d.us())
}

// ---------------------------------------------------------------------------
// Expectations

fn expectations(node: &Node) -> R<Vec<Expectation>> {
    let m = mapping(node, "expect", "a mapping of metric: value, like `lost: 0`")?;
    let mut out = Vec::with_capacity(m.entries.len());
    for e in &m.entries {
        if !METRICS.contains(&e.key) {
            let hint = did_you_mean(e.key, METRICS.iter().copied())
                .unwrap_or_else(|| format!("metrics are {}", one_of(METRICS)));
            return Err(problem(e.key_pos, &e.field, format!("unknown metric `{}` in expect", clip(e.key))).hint(hint));
        }
        out.push(expectation(e.key, e.value, &e.field)?);
    }
    Ok(out)
}

/// `0`, `1.5`, `"> 0"`, `"<= 3"`, `"!= 0"`, `"== 0"`.
fn expectation(name: &str, node: &Node, field: &str) -> R<Expectation> {
    let bad = || {
        problem(
            node.pos,
            field,
            format!("{field}: expected a number or a comparison like \"> 0\", found {}", node.describe()),
        )
        .hint("write e.g. `0`, `\"> 0\"`, `\"< 1000\"`, `\">= 5\"`, `\"<= 3\"`, `\"== 0\"` or `\"!= 0\"`")
    };
    let Value::Scalar { text, .. } = &node.value else { return Err(bad()) };
    if node.is_null() {
        return Err(bad());
    }
    let t = text.trim();
    const OPS: [(&str, Cmp); 6] =
        [(">=", Cmp::Ge), ("<=", Cmp::Le), ("==", Cmp::Eq), ("!=", Cmp::Ne), (">", Cmp::Gt), ("<", Cmp::Lt)];
    let (cmp, rest) = match OPS.iter().find(|(op, _)| t.starts_with(op)) {
        Some((op, cmp)) => (*cmp, t[op.len()..].trim()),
        None => (Cmp::Eq, t),
    };
    let Some(value) = parse_number(rest) else { return Err(bad()) };
    Ok(Expectation { name: name.to_string(), cmp, value, text: t.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_follow_yaml_core_schema() {
        assert_eq!(parse_int("12"), Some(Some(12)));
        assert_eq!(parse_int("-3"), Some(Some(-3)));
        assert_eq!(parse_int("0x1f"), Some(Some(31)));
        assert_eq!(parse_int("0o17"), Some(Some(15)));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int("1e3"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("999999999999999999999999999999999999999999"), Some(None));
    }

    #[test]
    fn numbers_are_strict_and_finite() {
        assert_eq!(parse_number("0"), Some(0.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("1e400"), None);
        assert_eq!(parse_number("nan"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("0x10"), None);
    }
}
