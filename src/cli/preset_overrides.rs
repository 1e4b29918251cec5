//! Which of a preset's settings a resolved scenario does not hold: the file wrote its own value
//! (explicit configs win over a preset), so a column labelled with the preset is not the preset.

use crate::scenario::{apply_preset, presets, Acks, IsolationLevel, ProducerConfig, Scenario, Semantics};

fn acks_name(a: Acks) -> &'static str {
    match a {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    }
}

fn isolation_name(i: IsolationLevel) -> &'static str {
    match i {
        IsolationLevel::ReadCommitted => "read_committed",
        IsolationLevel::ReadUncommitted => "read_uncommitted",
    }
}

/// `field=value (the preset sets other)` for each setting that differs.
fn differ(out: &mut Vec<String>, who: &str, field: &str, actual: String, preset: String) {
    if actual != preset {
        out.push(format!("{who} {field}={actual} (the preset sets {preset})"));
    }
}

/// The preset's settings that `sc`, loaded under `sem`, does not hold, each with its owner.
pub fn overridden(sc: &Scenario, sem: Semantics) -> Vec<String> {
    let mut out = Vec::new();
    for p in &sc.producers {
        let mut preset = ProducerConfig::default();
        apply_preset(sem, &p.name, &mut preset);
        let c = &p.config;
        differ(&mut out, &p.name, "acks", acks_name(c.acks).into(), acks_name(preset.acks).into());
        differ(&mut out, &p.name, "retries", c.retries.to_string(), preset.retries.to_string());
        differ(
            &mut out,
            &p.name,
            "enable.idempotence",
            c.enable_idempotence.to_string(),
            preset.enable_idempotence.to_string(),
        );
        let tx = |t: &Option<String>| t.as_deref().map_or("(none)".to_string(), |t| t.to_string());
        if c.transactional_id.is_some() != preset.transactional_id.is_some() {
            differ(&mut out, &p.name, "transactional.id", tx(&c.transactional_id), tx(&preset.transactional_id));
        }
    }
    let preset = presets::consumer_preset(sem);
    for g in &sc.consumers {
        differ(&mut out, &g.group, "commit", g.commit.name().into(), preset.commit.name().into());
        differ(&mut out, &g.group, "sink", g.sink.name().into(), preset.sink.name().into());
        let isolation = preset.isolation_level.unwrap_or(IsolationLevel::ReadUncommitted);
        differ(
            &mut out,
            &g.group,
            "isolation.level",
            isolation_name(g.config.isolation_level).into(),
            isolation_name(isolation).into(),
        );
        differ(
            &mut out,
            &g.group,
            "auto.offset.reset",
            g.config.auto_offset_reset.name().into(),
            preset.auto_offset_reset.name().into(),
        );
    }
    out
}
