//! `expect:` — the checks made after the run: a metric and a number or a comparison.

use super::super::model::{Cmp, Expectation};
use super::super::suggest::one_of;
use super::super::yaml::{clip, Node, Value};
use super::problem::{did_you_mean, problem, R};
use super::tree::mapping;
use super::values::parse_number;
use crate::oracle::metrics::METRICS;

pub(super) fn expectations(node: &Node) -> R<Vec<Expectation>> {
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
