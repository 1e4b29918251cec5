//! Distributions (`2ms`, `{ exp: 2ms }`, `{ uniform: [..] }`, `{ lognormal: .. }`)
//! and arrival rates (`100/s`, `{ constant: 100/s }`).

use super::super::model::{ArrivalKind, Rate};
use super::super::units::parse_rate;
use super::super::yaml::{Node, Value};
use super::problem::{index, join, problem, type_error, R};
use super::tree::{mapping, Entry};
use super::values::{duration, positive_duration, string};
use crate::kernel::rng::Dist;

/// A duration or a distribution: `2ms`, `{ exp: 2ms }`,
/// `{ uniform: [1ms, 3ms] }`, `{ lognormal: { median: 2ms, p99: 20ms } }`.
pub(super) fn dist(node: &Node, field: &str) -> R<Dist> {
    let expected = "a duration like `2ms` or a distribution like `{ exp: 2ms }`";
    match &node.value {
        Value::Scalar { .. } => Ok(Dist::Constant(duration(node, field)?)),
        Value::Seq(_) => Err(type_error(node, field, expected)),
        Value::Map(_) => {
            let m = mapping(node, field, expected)?;
            m.known(&["exp", "uniform", "lognormal"])?;
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
            match first.key {
                "exp" => Ok(Dist::Exp { mean: positive_duration(first.value, &first.field)? }),
                "uniform" => uniform(first),
                _ => lognormal(first),
            }
        }
    }
}

/// `uniform: [1ms, 3ms]`.
fn uniform(e: &Entry<'_>) -> R<Dist> {
    let f = &e.field;
    let items = match &e.value.value {
        Value::Seq(items) if items.len() == 2 => items,
        _ => return Err(type_error(e.value, f, "two durations like `[1ms, 3ms]`")),
    };
    let (Some(lo), Some(hi)) = (items.first(), items.get(1)) else {
        return Err(type_error(e.value, f, "two durations like `[1ms, 3ms]`"));
    };
    let low = duration(lo, &index(f, 0))?;
    let high = duration(hi, &index(f, 1))?;
    if low > high {
        return Err(problem(hi.pos, &index(f, 1), format!("{f}: the low bound {low} is above the high bound {high}"))
            .hint(format!("write `[{high}, {low}]`")));
    }
    Ok(Dist::Uniform { low, high })
}

/// `lognormal: { median: 2ms, p99: 20ms }`.
fn lognormal(e: &Entry<'_>) -> R<Dist> {
    let f = &e.field;
    let m = mapping(e.value, f, "a mapping like `{ median: 2ms, p99: 20ms }`")?;
    m.known(&["median", "p99"])?;
    let median_node = m.require("median", "median: 2ms")?;
    let p99_node = m.require("p99", "p99: 20ms")?;
    let median = positive_duration(median_node, &join(f, "median"))?;
    let p99 = duration(p99_node, &join(f, "p99"))?;
    if p99 < median {
        let at = m.get("p99").map_or(p99_node.pos, |e| e.key_pos);
        return Err(problem(at, &join(f, "p99"), format!("{f}: p99 ({p99}) is below the median ({median})"))
            .hint("the 99th percentile of a log-normal is at least its median"));
    }
    Ok(Dist::LogNormal { median, p99 })
}

/// One rate written as text: `100/s`.
fn rate_text(n: &Node, f: &str, kind: ArrivalKind) -> R<Rate> {
    let text = string(n, f, "a rate like `100/s`")?;
    let (count, per) = parse_rate(&text).map_err(|e| {
        let p = problem(n.pos, f, format!("{f}: {}", e.message));
        match e.hint {
            Some(h) => p.hint(h),
            None => p,
        }
    })?;
    Ok(Rate { count, per, kind })
}

/// `100/s` (Poisson), `{ poisson: 100/s }` or `{ constant: 100/s }`.
pub(super) fn rate(node: &Node, field: &str) -> R<Rate> {
    let Value::Map(_) = &node.value else { return rate_text(node, field, ArrivalKind::Poisson) };
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
    rate_text(first.value, &first.field, kind)
}
