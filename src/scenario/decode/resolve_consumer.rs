//! A consumer group's effective behaviour: `commit:` and `enable.auto.commit`
//! decide each other, the preset fills in what the file left out, Kafka's
//! defaults the rest; then the rules that tie commit mode, sink,
//! processing and the group timeouts together.

use super::super::model::*;
use super::super::presets::{consumer_preset, ConsumerPreset};
use super::super::yaml::Pos;
use super::consumers::ConsumerExplicit;
use super::context::{Ex, Preset};
use super::problem::{join, problem, R};
use crate::kernel::time::Duration;

/// What the group entry chose outside its `config:`: values with where they were written.
pub(super) struct Choices {
    pub commit: Option<(CommitMode, Pos)>,
    pub sink: Option<(SinkKind, Pos)>,
    pub processing: Option<Ex<Processing>>,
    pub commit_every: Option<Ex<CommitEvery>>,
    pub commit_async: Option<Ex<bool>>,
}

/// The resolved parts of a [`ConsumerSpec`].
pub(super) struct Resolved {
    pub commit: CommitMode,
    pub sink: SinkKind,
    pub processing: Processing,
    pub commit_every: CommitEvery,
    pub commit_async: bool,
    pub config: ConsumerConfig,
}

/// `field` is the group's path (`consumers[0]`), `path` its `config` path, `at` the entry's position.
pub(super) fn resolve_consumer(
    ch: Choices,
    x: ConsumerExplicit,
    field: &str,
    path: &str,
    at: Pos,
    preset: Option<Preset>,
) -> R<Resolved> {
    let p = preset.map(|p| consumer_preset(p.semantics));
    let (commit, commit_pos, enable_auto_commit) = commit_mode(ch.commit, &x.enable_auto_commit, p)?;
    let sink = sink(ch.sink, p, commit, commit_pos, field, preset)?;
    let config = config(&x, p, commit, enable_auto_commit)?;
    check_heartbeat(&config, &x, path, at)?;
    let processing = processing(ch.processing, commit)?;
    let (commit_every, commit_async) = commit_shape(ch.commit_every, ch.commit_async, commit)?;
    Ok(Resolved { commit, sink, processing, commit_every, commit_async, config })
}

/// `commit:` and `enable.auto.commit` decide each other: (mode, where `commit:` was, auto-commit).
fn commit_mode(
    commit: Option<(CommitMode, Pos)>,
    auto: &Option<Ex<bool>>,
    p: Option<ConsumerPreset>,
) -> R<(CommitMode, Option<Pos>, bool)> {
    Ok(match (commit, auto) {
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
                Some(cp) if cp.commit != CommitMode::Auto => cp.commit,
                _ => CommitMode::AfterProcessing,
            };
            (cm, None, false)
        }
        (None, None) => match p {
            Some(cp) => (cp.commit, None, cp.commit == CommitMode::Auto),
            None => (CommitMode::Auto, None, true),
        },
    })
}

/// The sink; the transactional sink commits the results with the offsets, so the two go together.
fn sink(
    sink: Option<(SinkKind, Pos)>,
    p: Option<ConsumerPreset>,
    commit: CommitMode,
    commit_pos: Option<Pos>,
    field: &str,
    preset: Option<Preset>,
) -> R<SinkKind> {
    let (sink_kind, sink_pos) = match (sink, p) {
        (Some((s, pos)), _) => (s, Some(pos)),
        (None, Some(cp)) => (cp.sink, None),
        (None, None) => (SinkKind::Plain, None),
    };
    if (commit == CommitMode::Transactional) == (sink_kind == SinkKind::Transactional) {
        return Ok(sink_kind);
    }
    let (pos, f) = match (commit_pos, sink_pos) {
        (Some(p), _) if commit == CommitMode::Transactional => (p, join(field, "commit")),
        (_, Some(p)) => (p, join(field, "sink")),
        (Some(p), None) => (p, join(field, "commit")),
        (None, None) => (preset.map_or(Pos::START, |p| p.pos), "semantics".to_string()),
    };
    Err(problem(pos, &f, format!("{f}: `commit: transactional` and `sink: transactional` go together (the results and the offsets commit in one transaction)"))
        .hint("set both, or neither"))
}

/// Kafka's defaults, then the preset, then the file's `config:`.
fn config(
    x: &ConsumerExplicit,
    p: Option<ConsumerPreset>,
    commit: CommitMode,
    enable_auto_commit: bool,
) -> R<ConsumerConfig> {
    let mut c = ConsumerConfig { enable_auto_commit, ..ConsumerConfig::default() };
    if let Some(cp) = p {
        c.auto_offset_reset = cp.auto_offset_reset;
        if let Some(iso) = cp.isolation_level {
            c.isolation_level = iso;
        }
    }
    if let Some(e) = &x.auto_commit_interval {
        c.auto_commit_interval = e.value;
        // Kafka allows 0; with auto-commit the simulated commit timer needs a period.
        if e.value == Duration::ZERO && commit == CommitMode::Auto {
            return Err(problem(e.key, &e.field, format!("{}: must be more than 0 with auto-commit", e.field))
                .hint("auto-commit runs every `auto.commit.interval.ms`; use e.g. `1000`"));
        }
    }
    apply_explicit(&mut c, x);
    Ok(c)
}

/// What the file wrote wins.
fn apply_explicit(c: &mut ConsumerConfig, x: &ConsumerExplicit) {
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
    if let Some(a) = &x.assignors {
        c.partition_assignment_strategy = a.clone();
    }
    if let Some(d) = x.fetch_max_wait {
        c.fetch_max_wait = d;
    }
    if let Some(n) = x.max_partition_fetch_bytes {
        c.max_partition_fetch_bytes = n;
    }
    if let Some(n) = x.fetch_max_bytes {
        c.fetch_max_bytes = n;
    }
    if let Some(n) = x.fetch_min_bytes {
        c.fetch_min_bytes = n;
    }
    if let Some(rate) = x.consumer_byte_rate {
        c.consumer_byte_rate = Some(rate);
    }
    if let Some(d) = x.request_timeout {
        c.request_timeout = d;
    }
    if let Some(d) = x.retry_backoff {
        c.retry_backoff = d;
    }
    if let Some(id) = &x.group_instance_id {
        c.group_instance_id = Some(id.clone());
    }
}

fn check_heartbeat(c: &ConsumerConfig, x: &ConsumerExplicit, path: &str, at: Pos) -> R<()> {
    if c.heartbeat_interval < c.session_timeout {
        return Ok(());
    }
    let set = x.heartbeat_interval.as_ref().or(x.session_timeout.as_ref());
    let (pos, f) = set.map_or((at, join(path, "heartbeat.interval.ms")), |e| (e.key, e.field.clone()));
    Err(problem(
        pos,
        &f,
        format!(
            "{path}: heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
            c.heartbeat_interval.ms(),
            c.session_timeout.ms()
        ),
    )
    .hint("Kafka recommends a heartbeat interval of at most a third of the session timeout"))
}

/// With a worker queue the poll loop does not know what the worker has
/// finished, so it can only commit what poll() returned.
fn processing(processing: Option<Ex<Processing>>, commit: CommitMode) -> R<Processing> {
    match processing {
        Some(e) if e.value == Processing::Async && !matches!(commit, CommitMode::Auto | CommitMode::BeforeProcessing) => {
            Err(problem(
                e.key,
                &e.field,
                format!(
                    "{}: `processing: async` hands records to a worker, so only `commit: auto` or `commit: before-processing` can go with it, not `{}`",
                    e.field,
                    commit.name()
                ),
            )
            .hint("use `commit: auto`, or drop `processing: async`"))
        }
        Some(e) => Ok(e.value),
        None => Ok(Processing::Sync),
    }
}

/// commit_every and commit_async shape the after-processing commit only.
fn commit_shape(
    every: Option<Ex<CommitEvery>>,
    asynchronous: Option<Ex<bool>>,
    commit: CommitMode,
) -> R<(CommitEvery, bool)> {
    let set = [every.as_ref().map(|e| (e.key, &e.field)), asynchronous.as_ref().map(|e| (e.key, &e.field))];
    for (key, field) in set.into_iter().flatten() {
        if commit != CommitMode::AfterProcessing {
            return Err(problem(
                key,
                field,
                format!("{field}: applies to `commit: after-processing`, and this group commits `{}`", commit.name()),
            )
            .hint("set `commit: after-processing`, or remove it"));
        }
    }
    let commit_every = every.map_or(CommitEvery::Batch, |e| e.value);
    match asynchronous {
        Some(e) if e.value && commit_every == CommitEvery::Record => Err(problem(
            e.key,
            &e.field,
            format!("{}: `commit_every: record` commits synchronously before the next record", e.field),
        )
        .hint("use one of `commit_every: record` or `commit_async: true`")),
        Some(e) => Ok((commit_every, e.value)),
        None => Ok((commit_every, false)),
    }
}
