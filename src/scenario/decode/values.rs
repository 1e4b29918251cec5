//! Scalar field readers: names, whole numbers, booleans, durations, Kafka
//! `*.ms` values and fixed words, each with an error that says what to write.

use super::super::suggest::one_of;
use super::super::units::{bare_number_hint, parse_decimal, parse_duration, MAX_DURATION};
use super::super::yaml::{clip, Node, Value};
use super::problem::{did_you_mean, problem, type_error, R};
use crate::kernel::time::Duration;

/// The top of Kafka's `int` configs.
pub(super) const I32_MAX: i128 = i32::MAX as i128;

/// A scalar's text and whether it was plain (unquoted).
pub(super) fn scalar<'n>(node: &'n Node, field: &str, expected: &str) -> R<(&'n str, bool)> {
    match &node.value {
        Value::Scalar { text, plain } => Ok((text.as_str(), *plain)),
        _ => Err(type_error(node, field, expected)),
    }
}

/// Any non-null scalar, as text.
pub(super) fn string(node: &Node, field: &str, expected: &str) -> R<String> {
    if node.is_null() {
        return Err(type_error(node, field, expected));
    }
    scalar(node, field, expected).map(|(t, _)| t.to_string())
}

fn is_simple_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A scenario, producer, consumer group or entity name: `[a-z0-9-]+`.
pub(super) fn simple_name(node: &Node, field: &str) -> R<String> {
    let name = string(node, field, "a name like `web`")?;
    if !is_simple_name(&name) {
        let fixed: String = name
            .trim()
            .chars()
            .map(|c| match c {
                'A'..='Z' => c.to_ascii_lowercase(),
                '_' | ' ' | '.' => '-',
                c => c,
            })
            .collect();
        let hint = if is_simple_name(&fixed) {
            format!("names use lowercase letters, digits and `-` (at most 64), e.g. `{fixed}`")
        } else {
            "names use lowercase letters, digits and `-` (at most 64 characters)".to_string()
        };
        return Err(problem(node.pos, field, format!("{field}: `{}` is not a valid name", clip(&name))).hint(hint));
    }
    Ok(name)
}

/// A Kafka topic name: `[a-zA-Z0-9._-]+`, at most 249 characters, not `.` or `..`.
pub(super) fn topic_name(node: &Node, field: &str) -> R<String> {
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
pub(super) fn parse_int(text: &str) -> Option<Option<i128>> {
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

/// Strict decimal floats (`1.5`, `-2`, `1e3`, `.5`), finite only.
pub(super) fn parse_number(text: &str) -> Option<f64> {
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
pub(super) fn int(node: &Node, field: &str, min: i128, max: i128) -> R<i128> {
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

pub(super) fn u32_in(node: &Node, field: &str, min: i128, max: i128) -> R<u32> {
    narrow(int(node, field, min, max.min(i128::from(u32::MAX)))?, node, field)
}

pub(super) fn u64_in(node: &Node, field: &str, min: i128, max: i128) -> R<u64> {
    narrow(int(node, field, min, max.min(i128::from(u64::MAX)))?, node, field)
}

/// A Kafka boolean: `true`/`false`, also quoted, in any case (as Kafka parses them).
pub(super) fn boolean(node: &Node, field: &str) -> R<bool> {
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

/// Fields whose durations are spans of the run, usually seconds (`at: 30s`),
/// by the last part of their path; the rest (latency, processing time) are
/// usually milliseconds.
const SECONDS_FIELDS: [&str; 11] =
    ["duration", "drain", "at", "for", "from", "until", "down", "every", "tumbling", "session", "size"];

/// The unit a bare number in `field` most likely meant.
fn likely_unit(field: &str) -> &'static str {
    let last = field.rsplit('.').next().unwrap_or(field);
    if SECONDS_FIELDS.contains(&last) {
        "s"
    } else {
        "ms"
    }
}

/// A duration with a unit: `1500ms`, `1.5s`.
pub(super) fn duration(node: &Node, field: &str) -> R<Duration> {
    let expected = "a duration like `1500ms`";
    if node.is_null() {
        return Err(type_error(node, field, expected));
    }
    let (text, _) = scalar(node, field, expected)?;
    parse_duration(text).map_err(|e| {
        let bare = text.trim();
        let hint = if parse_decimal(bare).is_ok() { Some(bare_number_hint(bare, likely_unit(field))) } else { e.hint };
        let p = problem(node.pos, field, format!("{field}: {}", e.message));
        match hint {
            Some(h) => p.hint(h),
            None => p,
        }
    })
}

pub(super) fn positive_duration(node: &Node, field: &str) -> R<Duration> {
    let d = duration(node, field)?;
    if d == Duration::ZERO {
        return Err(problem(node.pos, field, format!("{field}: must be more than 0")));
    }
    Ok(d)
}

/// A Kafka `*.ms` config: a whole number of milliseconds, as in Kafka.
pub(super) fn kafka_ms(node: &Node, field: &str, min_ms: i128, max_ms: i128) -> R<Duration> {
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
pub(super) fn choice<T: Copy>(node: &Node, field: &str, options: &[(&str, T)]) -> R<T> {
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
