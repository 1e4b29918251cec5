//! A JSON Schema (draft 2020-12) validator for the subset docs/schemas/ uses:
//! `type` (a name or a list), `properties`, `required`, `additionalProperties`
//! (a boolean or a schema), `items` and `enum`; `$schema`, `$id`, `title` and
//! `description` are annotations. Any other keyword is refused, so a schema
//! never silently asks for a check this validator does not make.

use serde_json::Value;

const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
];

/// Every place `value` breaks `schema`, as "path: what"; empty when it validates.
pub fn errors(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, value, "$", &mut out);
    out
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        if schema != &Value::Bool(true) {
            out.push(format!("{path}: schema `{schema}` is not an object or `true`"));
        }
        return;
    };
    if let Some(k) = s.keys().find(|k| !KEYWORDS.contains(&k.as_str())) {
        out.push(format!("{path}: keyword `{k}` is outside the supported subset"));
    }
    if let Some(t) = s.get("type") {
        let names: Vec<&str> = match t {
            Value::String(n) => vec![n.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !names.iter().any(|n| is_type(value, n)) {
            out.push(format!("{path}: expected {}, found {}", names.join(" or "), type_name(value)));
            return;
        }
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            out.push(format!("{path}: {value} is not one of {allowed:?}"));
        }
    }
    if let Value::Object(map) = value {
        object(s, map, path, out);
    }
    if let (Value::Array(items), Some(item_schema)) = (value, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), out);
        }
    }
}

fn object(s: &serde_json::Map<String, Value>, map: &serde_json::Map<String, Value>, path: &str, out: &mut Vec<String>) {
    let props = s.get("properties").and_then(Value::as_object);
    for key in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !map.contains_key(key) {
            out.push(format!("{path}: missing required key `{key}`"));
        }
    }
    for (k, v) in map {
        let sub = format!("{path}.{k}");
        match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
            (Some(ps), _) => check(ps, v, &sub, out),
            (None, Some(Value::Bool(false))) => out.push(format!("{sub}: key not allowed")),
            (None, Some(extra)) => check(extra, v, &sub, out),
            (None, None) => {}
        }
    }
}

fn is_type(v: &Value, name: &str) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        // 2020-12: an integer is a number with no fractional part (1.0 is one).
        "integer" => v.as_f64().is_some_and(|f| f.fract() == 0.0) || v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
