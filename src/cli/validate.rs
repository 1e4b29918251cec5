//! `streamsim validate`: load a scenario without running it and say what it resolved to.

use std::path::Path;

use crate::cli::error::CliError;
use crate::cli::load::load;
use crate::cli::output::outln;
use crate::cli::style;

pub fn validate(file: &Path, effective: bool, json: bool) -> Result<(), CliError> {
    let loaded = load(file)?;
    if effective {
        return print_effective(file, &loaded.scenario, json);
    }
    let sc = &loaded.scenario;
    let producers: u32 = sc.producers.iter().map(|p| p.instances).sum();
    let consumers: u32 = sc.consumers.iter().map(|c| c.instances).sum();
    let partitions: u32 = sc.topics.iter().map(|t| t.partitions).sum();
    let keep = crate::world::budget::Keep::default();
    let limit = crate::world::budget::limit(sc);
    let e = crate::world::budget::estimate(sc, keep);
    let fits = crate::world::budget::check(sc, keep, limit)
        .map(|_| ())
        .map_err(|err| CliError::input_because(file.display().to_string(), crate::world::RunError::from(err)));
    if json {
        let j = serde_json::json!({
            "file": file.display().to_string(), "scenario": sc.name, "ok": fits.is_ok(),
            "brokers": sc.brokers, "topics": sc.topics.len(), "partitions": partitions,
            "producers": producers, "consumers": consumers, "faults": sc.faults.len(),
            "expectations": sc.expect.len(), "kafka_version": sc.kafka_version.to_string(),
            "warnings": loaded.warnings.iter().map(|w| serde_json::json!({
                "line": w.line, "column": w.column, "field": w.field, "message": w.message,
            })).collect::<Vec<_>>(),
            "memory": { "estimated_bytes": e.bytes, "records": e.records, "samples": e.samples, "max_memory": limit },
        });
        outln!("{}", serde_json::to_string_pretty(&j).map_err(|e| CliError::input(e.to_string()))?);
        return fits;
    }
    let n = |count: usize, one: &str, many: &str| style::count(count as u64, one, many);
    outln!(
        "{}: ok: scenario `{}`, {}, {} ({}), {}, {}, {}, {}, {}",
        file.display(),
        sc.name,
        n(sc.brokers as usize, "broker", "brokers"),
        n(sc.topics.len(), "topic", "topics"),
        n(partitions as usize, "partition", "partitions"),
        n(producers as usize, "producer", "producers"),
        n(consumers as usize, "consumer", "consumers"),
        n(sc.faults.len(), "fault", "faults"),
        n(sc.expect.len(), "expectation", "expectations"),
        n(loaded.warnings.len(), "warning", "warnings")
    );
    outln!("  {}", version_defaults(sc.kafka_version));
    outln!(
        "  memory: about {} estimated ({} records, {} samples), max_memory {}; a report folder (--out) or explain needs more",
        crate::world::budget::size(e.bytes),
        e.records,
        e.samples,
        crate::world::budget::size(limit)
    );
    fits
}

/// Which release's defaults fill in what the file leaves out, and what they are.
fn version_defaults(v: crate::scenario::KafkaVersion) -> String {
    let p = crate::scenario::ProducerConfig::for_version(v);
    let acks = match p.acks {
        crate::scenario::Acks::Zero => "0",
        crate::scenario::Acks::One => "1",
        crate::scenario::Acks::All => "all",
    };
    let partitioner = match p.partitioner {
        crate::scenario::Partitioner::Sticky => "sticky (KIP-480)",
        crate::scenario::Partitioner::BuiltIn => "built-in (KIP-794)",
    };
    let newest = if v == crate::scenario::KafkaVersion::NEWEST { ", the newest modelled" } else { "" };
    format!(
        "defaults: Kafka {v}{newest} (kafka_version): linger.ms {}, acks {acks}, enable.idempotence {}, null keys {partitioner}, retry.backoff.max.ms {}, session.timeout.ms {}",
        p.linger.ms(),
        p.enable_idempotence,
        p.retry_backoff_max.ms(),
        if v.at_least(3, 0) { 45_000 } else { 10_000 }
    )
}

/// `--effective`: every modelled config with its value and source, as a table or JSON.
fn print_effective(file: &Path, sc: &crate::scenario::Scenario, json: bool) -> Result<(), CliError> {
    let (_, text) = crate::scenario::read_text(file)?;
    let overrides = crate::cli::overrides::current();
    let rows = crate::scenario::effective::effective(sc, &text, overrides);
    if json {
        let flags: Vec<String> = overrides.0.iter().map(|o| o.flag_text()).collect();
        let doc = serde_json::json!({
            "scenario": sc.name,
            "kafka_version": sc.kafka_version.to_string(),
            "overrides": flags,
            "configs": rows,
        });
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    let w = |f: fn(&crate::scenario::effective::EffectiveRow) -> usize, min: usize| {
        rows.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (we, wn, wv) = (w(|r| r.entity.len(), 6), w(|r| r.name.len(), 4), w(|r| r.value.len(), 5));
    outln!("{:we$}  {:wn$}  {:wv$}  SOURCE", "ENTITY", "NAME", "VALUE");
    for r in &rows {
        outln!("{:we$}  {:wn$}  {:wv$}  {}", r.entity, r.name, r.value, r.source);
    }
    Ok(())
}
