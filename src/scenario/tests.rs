//! Unit tests of the loader: values, defaults, presets, and for every error
//! its message, field path, line and column.

use super::*;
use crate::kernel::rng::Dist;
use crate::kernel::time::{Duration, Instant};

fn ok(src: &str) -> Loaded {
    load_str(src, "t.yaml").unwrap_or_else(|e| panic!("expected Ok, got:\n{e}"))
}

fn err(src: &str) -> LoadError {
    match load_str(src, "t.yaml") {
        Ok(l) => panic!("expected an error, got {:#?}", l.scenario),
        Err(e) => e,
    }
}

/// (line, column, field) of an error.
fn at(e: &LoadError) -> (usize, usize, &str) {
    (e.line, e.column, e.field.as_str())
}

const HEAD: &str = "name: t\nduration: 10s\n";

/// A small valid scenario; `extra_producer` / `extra_consumer` are appended
/// to the producer's / consumer's mapping (indented 4).
fn with(producer_extra: &str, consumer_extra: &str) -> String {
    format!(
        "{HEAD}topics:\n  - name: clicks\n    partitions: 2\nproducers:\n  - name: web\n    rate: 10/s\n{producer_extra}consumers:\n  - group: g\n{consumer_extra}"
    )
}

#[test]
fn minimal_scenario_takes_defaults() {
    let sc = ok(&with("", "")).scenario;
    assert_eq!(sc.name, "t");
    assert_eq!(sc.seed, 0);
    assert_eq!(sc.duration, Duration::from_secs(10));
    assert_eq!(sc.drain, DEFAULT_DRAIN);
    assert_eq!(sc.brokers, 1);
    assert_eq!(sc.broker_config, BrokerConfig::default());
    assert_eq!(sc.network, NetworkSpec::default());
    assert_eq!(sc.max_events, DEFAULT_MAX_EVENTS);
    assert_eq!(sc.sample_interval, DEFAULT_SAMPLE_INTERVAL);
    assert_eq!(sc.topics[0].replication_factor, 1);
    assert_eq!(sc.topics[0].config, TopicConfig::default());
    let p = &sc.producers[0];
    assert_eq!((p.topic, p.instances, p.keys, p.record_bytes, p.messages), (0, 1, 100, 100, None));
    assert_eq!(p.rate, Rate { count: 10, per: Duration::from_secs(1), kind: ArrivalKind::Poisson });
    assert_eq!(p.config, ProducerConfig::default());
    let c = &sc.consumers[0];
    assert_eq!((c.commit, c.sink), (CommitMode::Auto, SinkKind::Plain));
    assert_eq!(c.processing_time, Dist::Constant(Duration::ZERO));
    assert_eq!(c.config, ConsumerConfig::default());
    assert!(sc.faults.is_empty() && sc.expect.is_empty());
}

#[test]
fn unknown_producer_config_suggests_the_close_name() {
    let e = err(&with("    config:\n      ack: all\n", ""));
    assert_eq!(at(&e), (10, 7, "producers[0].config.ack"));
    assert_eq!(e.message, "unknown field `ack` in producers[0].config");
    assert_eq!(e.hint.as_deref(), Some("did you mean `acks`?"));
    assert_eq!(
        e.to_string(),
        "error: t.yaml:10:7: unknown field `ack` in producers[0].config\n  hint: did you mean `acks`?"
    );
    let e = err(&with("    config:\n      enable.idempotance: true\n", ""));
    assert_eq!(e.hint.as_deref(), Some("did you mean `enable.idempotence`?"));
    let e = err(&with("    config:\n      frobnicate: 1\n", ""));
    assert!(e.hint.unwrap().starts_with("streamsim models `acks`"));
}

#[test]
fn real_but_unmodelled_config_is_a_located_warning() {
    let l = ok(&with("    config:\n      acks: all\n      bootstrap.servers: localhost:9092\n", ""));
    assert_eq!(l.warnings.len(), 1);
    let w = &l.warnings[0];
    assert_eq!((w.line, w.column, w.field.as_str()), (11, 7, "producers[0].config.bootstrap.servers"));
    assert_eq!(
        w.to_string(),
        "warning: t.yaml:11:7: `bootstrap.servers` is a real Kafka producer config that streamsim does not model; it is ignored"
    );
    let l = ok(&with("", "    config:\n      check.crcs: true\n"));
    assert!(l.warnings[0].message.contains("real Kafka consumer config"));
}

/// A new group has no committed offset, so `none` makes its first poll throw
/// NoOffsetForPartitionException (Kafka: `SubscriptionState.resetInitializingPositions`):
/// the loader says so, at the key, before the run.
#[test]
fn auto_offset_reset_none_warns_that_a_fresh_group_cannot_start() {
    let l = ok(&with("", "    config:\n      auto.offset.reset: none\n"));
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    let w = &l.warnings[0];
    assert_eq!(w.field, "consumers[0].config.auto.offset.reset");
    assert!(w.message.contains("NoOffsetForPartitionException"), "{}", w.message);
    assert!(w.message.contains("use `earliest` or `latest`"), "{}", w.message);
    let l = ok(&with("", "    config:\n      auto.offset.reset: latest\n"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn config_of_another_section_says_which() {
    let e = err(&with("    config:\n      group.id: g\n", ""));
    assert_eq!(at(&e), (10, 7, "producers[0].config.group.id"));
    assert_eq!(e.message, "`group.id` in producers[0].config is a Kafka consumer config, not a producer config");
    assert_eq!(e.hint.as_deref(), Some("move it to a consumer's `config:`"));
    let e = err(&with("", "    config:\n      retention.ms: 1000\n"));
    assert!(e.message.contains("is a Kafka topic config, not a consumer config"), "{e}");
}

#[test]
fn unknown_top_level_and_section_fields() {
    let e = err("name: t\ndurtion: 10s\n");
    assert_eq!(at(&e), (2, 1, "durtion"));
    assert_eq!(e.message, "unknown top-level field `durtion`");
    assert_eq!(e.hint.as_deref(), Some("did you mean `duration`?"));
    let e = err(&with("    rat: 5/s\n", ""));
    assert_eq!(at(&e), (9, 5, "producers[0].rat"));
    assert_eq!(e.message, "unknown field `rat` in producers[0]");
    assert_eq!(e.hint.as_deref(), Some("did you mean `rate`?"));
}

#[test]
fn missing_field_points_at_the_mapping() {
    let e =
        err(&format!("{HEAD}topics:\n  - name: clicks\n    partitions: 1\nproducers:\n  - name: web\n    keys: 3\n"));
    assert_eq!(at(&e), (7, 5, "producers[0].rate"));
    assert_eq!(e.message, "missing field `rate` in producers[0]");
    assert_eq!(e.hint.as_deref(), Some("add e.g. `rate: 100/s`"));
    let e = err("name: t\ntopics: []\n");
    assert_eq!(at(&e), (1, 1, "duration"));
    assert_eq!(e.message, "missing top-level field `duration`");
}

#[test]
fn duplicate_key_points_at_the_duplicate() {
    let e = err(&with("    config:\n      acks: all\n      acks: 1\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.acks"));
    assert_eq!(e.message, "duplicate key `acks` in producers[0].config");
    assert_eq!(e.hint.as_deref(), Some("the first `acks` is at line 10; keep one"));
}

#[test]
fn yaml_syntax_errors_are_located() {
    let e = err("name: t\nduration: [10s\n");
    assert!(e.message.starts_with("invalid YAML"), "{e}");
    assert!(e.line >= 2);
    let e = err("name: t\nexpect:\n  duplicates: > 0\n");
    assert!(e.message.starts_with("invalid YAML"), "{e}");
    let e = err("");
    assert_eq!((e.line, e.column), (1, 1));
    assert_eq!(e.message, "the scenario file is empty");
    let e = err("- a\n- b\n");
    assert_eq!(e.message, "the file: expected a mapping of fields (`name: ...`, `duration: ...`), found a list");
}

#[test]
fn min_insync_above_replication_factor_points_at_min_insync() {
    let src = format!(
        "{HEAD}brokers: 3\ntopics:\n  - name: clicks\n    partitions: 6\n    replication.factor: 2\n    config:\n      min.insync.replicas: 3\n"
    );
    let e = err(&src);
    assert_eq!(at(&e), (9, 7, "topics[0].config.min.insync.replicas"));
    assert_eq!(
        e.message,
        "topics[0].config.min.insync.replicas: min.insync.replicas (3) is more than the replication.factor (2) of topic `clicks`"
    );
    // The broker-wide default is blamed when the topic does not override it.
    let src = format!("{HEAD}broker_config:\n  min.insync.replicas: 2\ntopics:\n  - name: clicks\n    partitions: 6\n");
    let e = err(&src);
    assert_eq!(at(&e), (4, 3, "broker_config.min.insync.replicas"));
    assert_eq!(
        err(&format!("{HEAD}topics:\n  - name: c\n    partitions: 1\n    config:\n      min.insync.replicas: 0\n"))
            .message,
        "topics[0].config.min.insync.replicas: must be at least 1, found 0"
    );
}

#[test]
fn replication_factor_above_brokers() {
    let e =
        err(&format!("{HEAD}brokers: 2\ntopics:\n  - name: clicks\n    partitions: 6\n    replication.factor: 3\n"));
    assert_eq!(at(&e), (7, 25, "topics[0].replication.factor"));
    assert_eq!(e.message, "topics[0].replication.factor: 3 is more than the 2 brokers in the cluster");
    let e = err(&format!(
        "{HEAD}broker_config:\n  default.replication.factor: 3\ntopics:\n  - name: c\n    partitions: 1\n"
    ));
    assert_eq!(at(&e), (4, 3, "broker_config.default.replication.factor"));
}

#[test]
fn topic_and_broker_configs_resolve() {
    let src = format!(
        "{HEAD}brokers: 3\nbroker_config:\n  default.replication.factor: 3\n  min.insync.replicas: 2\n  unclean.leader.election.enable: true\n  broker.session.timeout.ms: 6000\n  num.network.threads: 3\ntopics:\n  - name: a\n    partitions: 1\n  - name: b\n    partitions: 1\n    replication.factor: 2\n    config:\n      unclean.leader.election.enable: \"false\"\n      replica.lag.time.max.ms: 10000\n      retention.ms: 1000\n"
    );
    let l = ok(&src);
    let sc = &l.scenario;
    assert_eq!(sc.broker_config.broker_session_timeout, Duration::from_ms(6000));
    assert_eq!(sc.topics[0].replication_factor, 3);
    assert_eq!(sc.topics[0].config.min_insync_replicas, 2);
    assert!(sc.topics[0].config.unclean_leader_election_enable);
    assert_eq!(sc.topics[1].replication_factor, 2);
    assert!(!sc.topics[1].config.unclean_leader_election_enable);
    assert_eq!(sc.topics[1].config.replica_lag_time_max, Duration::from_ms(10_000));
    let fields: Vec<&str> = l.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["broker_config.num.network.threads", "topics[1].config.retention.ms"]);
    let e = err(&format!("{HEAD}topics:\n  - name: a\n    partitions: 1\n    config:\n      num.network.threads: 3\n"));
    assert!(e.message.contains("is a Kafka broker config, not a topic config"), "{e}");
}

#[test]
fn durations_rates_and_distributions() {
    let src = "name: t\nduration: 1.5s\ndrain: 250us\nnetwork:\n  latency: { uniform: [1ms, 3ms] }\ntopics:\n  - name: c\n    partitions: 1\nproducers:\n  - name: a\n    rate: 0.5/s\n  - name: b\n    rate: { constant: 6000/min }\nconsumers:\n  - group: g\n    processing_time: { lognormal: { median: 2ms, p99: 20ms } }\n  - group: h\n    processing_time: { exp: 2ms }\n";
    let sc = ok(src).scenario;
    assert_eq!(sc.duration, Duration(1_500_000));
    assert_eq!(sc.drain, Duration(250));
    assert_eq!(sc.network.latency, Dist::Uniform { low: Duration::from_ms(1), high: Duration::from_ms(3) });
    assert_eq!(sc.producers[0].rate, Rate { count: 1, per: Duration::from_secs(2), kind: ArrivalKind::Poisson });
    assert_eq!(sc.producers[1].rate, Rate { count: 6000, per: Duration::from_secs(60), kind: ArrivalKind::Constant });
    assert_eq!(
        sc.consumers[0].processing_time,
        Dist::LogNormal { median: Duration::from_ms(2), p99: Duration::from_ms(20) }
    );
    assert_eq!(sc.consumers[1].processing_time, Dist::Exp { mean: Duration::from_ms(2) });
}

#[test]
fn duration_errors_are_located_with_hints() {
    let e = err("name: t\nduration: 1500\n");
    assert_eq!(at(&e), (2, 11, "duration"));
    assert_eq!(e.message, "duration: `1500` has no unit");
    assert_eq!(e.hint.as_deref(), Some("add a unit, e.g. `1500s`"), "the run's length is usually seconds");
    let e = err("name: t\nduration: 0s\n");
    assert_eq!(e.message, "duration: must be more than 0");
    let e = err("name: t\nduration: 0.5us\n");
    assert!(e.message.contains("whole number of microseconds"));
    let e = err(&with("", "    processing_time: { lognormal: { median: 20ms, p99: 2ms } }\n"));
    assert_eq!(at(&e), (11, 51, "consumers[0].processing_time.lognormal.p99"));
    assert_eq!(e.message, "consumers[0].processing_time.lognormal: p99 (2ms) is below the median (20ms)");
    let e = err(&with("", "    processing_time: { uniform: [3ms, 1ms] }\n"));
    assert_eq!(e.field, "consumers[0].processing_time.uniform[1]");
    let e = err(&with("", "    processing_time: { exp: 1ms, uniform: [1ms, 2ms] }\n"));
    assert!(e.message.contains("one kind"), "{e}");
    let e = err(&with("    rate: 100\n", ""));
    assert!(e.message.contains("duplicate key `rate`"), "{e}");
}

#[test]
fn kafka_ms_configs_are_integers() {
    let e = err(&with("", "    config:\n      session.timeout.ms: 10s\n"));
    assert_eq!(at(&e), (12, 27, "consumers[0].config.session.timeout.ms"));
    assert_eq!(
        e.message,
        "consumers[0].config.session.timeout.ms: Kafka `*.ms` configs are a whole number of milliseconds, found `10s`"
    );
    assert_eq!(e.hint.as_deref(), Some("write `10000`"));
    let l = ok(&with("", "    config:\n      session.timeout.ms: \"10000\"\n"));
    assert_eq!(l.scenario.consumers[0].config.session_timeout, Duration::from_ms(10_000));
    let e = err(&with("    config:\n      retries: 99999999999999999999\n", ""));
    assert_eq!(e.message, "producers[0].config.retries: must be at most 2147483647, found 99999999999999999999");
    let e = err(&with("    config:\n      retries: 99999999999999999999999999999999999999999999\n", ""));
    assert!(e.message.contains("out of range"), "{e}");
    let e = err(&with("    config:\n      retries: 1.5\n", ""));
    assert_eq!(e.message, "producers[0].config.retries: expected a whole number, found `1.5`");
}

#[test]
fn producer_values_and_their_errors() {
    let e = err(&with("    config:\n      acks: 2\n", ""));
    assert_eq!(at(&e), (10, 13, "producers[0].config.acks"));
    assert_eq!(e.message, "producers[0].config.acks: expected `0`, `1` or `all`, found `2`");
    for (text, acks) in [("0", Acks::Zero), ("\"1\"", Acks::One), ("all", Acks::All), ("-1", Acks::All)] {
        let src = with(&format!("    config:\n      acks: {text}\n      enable.idempotence: false\n"), "");
        assert_eq!(ok(&src).scenario.producers[0].config.acks, acks, "{text}");
    }
    // batch.size 0 is Kafka's "no batching": kept as 0, one record per batch.
    let l = ok(&with("    config:\n      batch.size: 0\n      linger.ms: 0\n", ""));
    assert_eq!(l.scenario.producers[0].config.batch_size, 0);
    assert_eq!(l.scenario.producers[0].config.linger, Duration::ZERO);
    let src = with("    instances: 2\n    messages: 5\n    keys: 0\n    record_bytes: 512\n", "");
    let p = &ok(&src).scenario.producers[0];
    assert_eq!((p.instances, p.messages, p.keys, p.record_bytes), (2, Some(5), 0, 512));
    assert_eq!(err(&with("    instances: 0\n", "")).message, "producers[0].instances: must be at least 1, found 0");
}

#[test]
fn delivery_timeout_floor() {
    let e = err(&with("    config:\n      delivery.timeout.ms: 1000\n", ""));
    assert_eq!(at(&e), (10, 7, "producers[0].config.delivery.timeout.ms"));
    assert!(e.message.contains("must be at least linger.ms + request.timeout.ms (30005)"), "{e}");
    assert!(e.message.contains("ConfigException"));
    // Not set: raised as Kafka does, with a warning.
    let l = ok(&with("    config:\n      request.timeout.ms: 200000\n", ""));
    assert_eq!(l.scenario.producers[0].config.delivery_timeout, Duration::from_ms(200_005));
    assert_eq!(l.warnings.len(), 1);
    assert_eq!((l.warnings[0].line, l.warnings[0].column), (10, 7));
}

#[test]
fn idempotence_follows_kafka_rules() {
    // Default idempotence quietly turns off on a conflicting explicit config.
    let c = ok(&with("    config:\n      acks: 1\n", "")).scenario.producers[0].config.clone();
    assert_eq!((c.acks, c.enable_idempotence), (Acks::One, false));
    let c = ok(&with("    config:\n      retries: 0\n", "")).scenario.producers[0].config.clone();
    assert!(!c.enable_idempotence);
    // Explicit idempotence with a conflict is Kafka's ConfigException.
    let e = err(&with("    config:\n      enable.idempotence: true\n      acks: 1\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.acks"));
    assert!(e.message.contains("enable.idempotence is true but acks is 1"), "{e}");
    assert!(e.message.contains("ConfigException"));
    let e = err(&with("    config:\n      enable.idempotence: true\n      retries: 0\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.retries"));
    // More than 5 in flight: an error with explicit idempotence, else idempotence is off.
    let e =
        err(&with("    config:\n      enable.idempotence: true\n      max.in.flight.requests.per.connection: 6\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.max.in.flight.requests.per.connection"));
    assert!(e.message.contains("must be set to at most 5"), "{e}");
    let src = with("    config:\n      max.in.flight.requests.per.connection: 6\n", "");
    let c = ok(&src).scenario.producers[0].config.clone();
    assert_eq!((c.max_in_flight_requests_per_connection, c.enable_idempotence), (6, false));
    // acks=1 already disables default idempotence, so more in flight is fine.
    let src = with("    config:\n      max.in.flight.requests.per.connection: 6\n      acks: 1\n", "");
    assert!(!ok(&src).scenario.producers[0].config.enable_idempotence);
}

#[test]
fn presets_set_configs_and_explicit_values_win() {
    let src = format!("semantics: at-most-once\n{}", with("", ""));
    let sc = ok(&src).scenario;
    assert_eq!(sc.semantics, Some(Semantics::AtMostOnce));
    let p = &sc.producers[0].config;
    assert_eq!((p.acks, p.retries, p.enable_idempotence), (Acks::One, 0, false));
    let c = &sc.consumers[0];
    assert_eq!((c.commit, c.sink), (CommitMode::BeforeProcessing, SinkKind::Plain));
    assert!(!c.config.enable_auto_commit);
    assert_eq!(c.config.auto_offset_reset, OffsetReset::Earliest);

    let src = format!("semantics: at-least-once\n{}", with("    config:\n      acks: 1\n", "    sink: idempotent\n"));
    let sc = ok(&src).scenario;
    assert_eq!(sc.producers[0].config.acks, Acks::One);
    assert_eq!(sc.producers[0].config.retries, 2_147_483_647);
    assert_eq!((sc.consumers[0].commit, sc.consumers[0].sink), (CommitMode::AfterProcessing, SinkKind::Idempotent));

    let src = format!("semantics: effectively-once\n{}", with("", ""));
    let sc = ok(&src).scenario;
    assert!(sc.producers[0].config.enable_idempotence);
    assert_eq!((sc.consumers[0].commit, sc.consumers[0].sink), (CommitMode::AfterProcessing, SinkKind::Idempotent));

    // A preset's acks=1 conflicts with an explicit enable.idempotence: true.
    let src = format!("semantics: at-most-once\n{}", with("    config:\n      enable.idempotence: true\n", ""));
    let e = err(&src);
    assert_eq!(at(&e), (11, 7, "producers[0].config.enable.idempotence"));
    assert!(e.message.contains("(retries=0 comes from `semantics: at-most-once`)"), "{e}");

    let e = err("name: t\nduration: 1s\nsemantics: at-least-onse\n");
    assert_eq!(at(&e), (3, 12, "semantics"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `at-least-once`?"));
}

#[test]
fn semantics_override_replaces_the_files_preset() {
    let src = format!("semantics: at-most-once\n{}", with("", ""));
    let l = load_str_with(&src, "t.yaml", Some(Semantics::AtLeastOnce)).unwrap();
    assert_eq!(l.scenario.semantics, Some(Semantics::AtLeastOnce));
    assert_eq!(l.scenario.consumers[0].commit, CommitMode::AfterProcessing);
}

#[test]
fn transactional_producers_follow_kafkas_config_rules() {
    // The exactly-once preset makes every producer transactional.
    let src = format!("semantics: exactly-once\n{}", with("", ""));
    let sc = ok(&src).scenario;
    let (p, c) = (&sc.producers[0], &sc.consumers[0]);
    assert_eq!(p.config.transactional_id.as_deref(), Some("web-tx"));
    assert!(p.config.enable_idempotence);
    assert_eq!(
        (p.transaction_interval, p.config.transaction_timeout),
        (Duration::from_ms(100), Duration::from_secs(60))
    );
    assert_eq!((c.commit, c.sink), (CommitMode::Transactional, SinkKind::Transactional));

    // Written by hand, with its timeout and commit interval.
    let tx = "    transaction_interval: 250ms\n    config:\n      transactional.id: tx\n      transaction.timeout.ms: 5000\n";
    let p = &ok(&with(tx, "")).scenario.producers[0];
    assert_eq!(p.config.transactional_id.as_deref(), Some("tx"));
    assert_eq!(
        (p.transaction_interval, p.config.transaction_timeout),
        (Duration::from_ms(250), Duration::from_secs(5))
    );

    // Kafka: "Cannot set a transactional.id without also enabling idempotence."
    let e = err(&with("    config:\n      transactional.id: tx\n      enable.idempotence: false\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.enable.idempotence"));
    assert!(e.message.contains("needs idempotence"), "{e}");
    // A config that would quietly turn idempotence off is an error instead.
    let e = err(&with("    config:\n      transactional.id: tx\n      acks: 1\n", ""));
    assert_eq!(at(&e), (11, 7, "producers[0].config.acks"));
    assert!(e.message.contains("transactional.id is set (it needs idempotence) but acks is 1"), "{e}");
    let e = err(&format!("semantics: exactly-once\n{}", with("    config:\n      retries: 0\n", "")));
    assert_eq!(at(&e), (11, 7, "producers[0].config.retries"));
    // transaction_interval means nothing without a transactional id.
    let e = err(&with("    transaction_interval: 1s\n", ""));
    assert_eq!(at(&e), (9, 5, "producers[0].transaction_interval"));
    assert_eq!(
        e.hint.as_deref(),
        Some("set `transactional.id` in the producer's `config:`, or remove `transaction_interval`")
    );
}

#[test]
fn the_transactional_sink_needs_its_commit() {
    let e = err(&with("", "    commit: transactional\n"));
    assert_eq!(at(&e), (11, 13, "consumers[0].commit"));
    assert!(e.message.contains("go together"), "{e}");
    let e = err(&with("", "    sink: transactional\n"));
    assert_eq!(at(&e), (11, 11, "consumers[0].sink"));
    let ok_both = ok(&with("", "    commit: transactional\n    sink: transactional\n"));
    assert_eq!(ok_both.scenario.consumers[0].sink, SinkKind::Transactional);
}

#[test]
fn commit_and_enable_auto_commit_decide_each_other() {
    let e = err(&with("", "    commit: after-processing\n    config:\n      enable.auto.commit: true\n"));
    assert_eq!(at(&e), (13, 7, "consumers[0].config.enable.auto.commit"));
    assert_eq!(
        e.message,
        "consumers[0].config.enable.auto.commit: enable.auto.commit is true but `commit: after-processing` needs it false"
    );
    let c = &ok(&with("", "    commit: before-processing\n")).scenario.consumers[0];
    assert_eq!((c.commit, c.config.enable_auto_commit), (CommitMode::BeforeProcessing, false));
    let c = &ok(&with("", "    config:\n      enable.auto.commit: false\n")).scenario.consumers[0];
    assert_eq!(c.commit, CommitMode::AfterProcessing);
    // With a preset, a manual enable.auto.commit keeps the preset's manual mode.
    let src = format!("semantics: at-most-once\n{}", with("", "    config:\n      enable.auto.commit: false\n"));
    assert_eq!(ok(&src).scenario.consumers[0].commit, CommitMode::BeforeProcessing);
    let src = format!("semantics: at-most-once\n{}", with("", "    config:\n      enable.auto.commit: true\n"));
    let c = &ok(&src).scenario.consumers[0];
    assert_eq!((c.commit, c.config.enable_auto_commit), (CommitMode::Auto, true));
    let e = err(&with("", "    commit: afterprocessing\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `after-processing`?"));
}

#[test]
fn consumer_configs_resolve() {
    let src = with(
        "",
        "    instances: 3\n    config:\n      auto.offset.reset: earliest\n      isolation.level: read_committed\n      max.poll.records: 50\n      heartbeat.interval.ms: 1000\n      session.timeout.ms: 6000\n      partition.assignment.strategy: roundrobin, org.apache.kafka.clients.consumer.StickyAssignor\n      group.id: g\n",
    );
    let c = &ok(&src).scenario.consumers[0];
    assert_eq!(c.instances, 3);
    assert_eq!(c.config.auto_offset_reset, OffsetReset::Earliest);
    assert_eq!(c.config.isolation_level, IsolationLevel::ReadCommitted);
    assert_eq!(c.config.max_poll_records, 50);
    assert_eq!(c.config.partition_assignment_strategy, vec![Assignor::RoundRobin, Assignor::Sticky]);
    let src = with("", "    config:\n      partition.assignment.strategy: [cooperative-sticky, range]\n");
    assert_eq!(
        ok(&src).scenario.consumers[0].config.partition_assignment_strategy,
        vec![Assignor::CooperativeSticky, Assignor::Range]
    );
    let e = err(&with("", "    config:\n      partition.assignment.strategy: [range, rnage]\n"));
    assert_eq!(e.field, "consumers[0].config.partition.assignment.strategy[1]");
    let e = err(&with("", "    config:\n      max.poll.records: 0\n"));
    assert_eq!(at(&e), (12, 25, "consumers[0].config.max.poll.records"));
    let e = err(&with("", "    config:\n      heartbeat.interval.ms: 50000\n"));
    assert_eq!(at(&e), (12, 7, "consumers[0].config.heartbeat.interval.ms"));
    assert!(e.message.contains("must be lower than session.timeout.ms (45000)"), "{e}");
    let e = err(&with("", "    config:\n      group.id: other\n"));
    assert_eq!(e.message, "consumers[0].config.group.id: group.id `other` does not match `group: g`");
    let e = err(&with("", "    config:\n      auto.offset.reset: erliest\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `earliest`?"));
}

#[test]
fn topic_references() {
    let e = err(&with("    topic: clickz\n", ""));
    assert_eq!(at(&e), (9, 12, "producers[0].topic"));
    assert_eq!(e.message, "producers[0].topic: no topic `clickz`");
    assert_eq!(e.hint.as_deref(), Some("did you mean `clicks`?"));
    let src = format!(
        "{HEAD}topics:\n  - name: a\n    partitions: 1\n  - name: b\n    partitions: 1\nconsumers:\n  - group: g\n"
    );
    let e = err(&src);
    assert_eq!(at(&e), (9, 5, "consumers[0].topic"));
    let src = format!("{HEAD}topics:\n  - name: a\n    partitions: 1\n  - name: a\n    partitions: 1\n");
    assert_eq!(err(&src).message, "topic `a` is defined twice");
    let e = err(&format!("{HEAD}topics: []\n"));
    assert_eq!(e.message, "topics: a scenario needs at least one topic");
}

#[test]
fn names_and_instance_collisions() {
    let e = err("name: My Scenario\nduration: 1s\n");
    assert_eq!(at(&e), (1, 7, "name"));
    assert_eq!(e.hint.as_deref(), Some("names use lowercase letters, digits and `-` (at most 64), e.g. `my-scenario`"));
    let src = format!(
        "{HEAD}brokers: 2\ntopics:\n  - name: c\n    partitions: 1\nproducers:\n  - name: broker\n    rate: 1/s\n"
    );
    let e = err(&src);
    assert_eq!(e.message, "instance `broker-0` of producer `broker` has the same name as a broker");
    assert_eq!(at(&e), (8, 11, "producers[0].name"));
    let e = err(&with("", "  - group: web\n"));
    assert!(
        e.message
            .contains("instance `web-0` of consumer group `web` has the same name as an instance of producer `web`"),
        "{e}"
    );
    let e = err(&with("", "  - group: g\n"));
    assert_eq!(at(&e), (11, 12, "consumers[1].group"));
    assert_eq!(e.message, "consumer group `g` appears twice (also consumers[0])");
    assert_eq!(instance_name("web", 3), "web-3");
}

const FAULTS_HEAD: &str = "name: t\nduration: 60s\nbrokers: 3\ntopics:\n  - name: c\n    partitions: 3\nproducers:\n  - name: web\n    rate: 10/s\nconsumers:\n  - group: analytics\n    instances: 3\nfaults:\n";

#[test]
fn faults_parse_and_sort_by_time() {
    let src = format!(
        "{FAULTS_HEAD}  - {{ at: 45s, restart: analytics-1 }}\n  - {{ at: 30s, crash: analytics-1 }}\n  - {{ at: 20s, crash: broker-0 }}\n  - {{ at: 20s, crash: web-0 }}\n"
    );
    let sc = ok(&src).scenario;
    let got: Vec<(u64, FaultAction)> = sc.faults.iter().map(|f| (f.at.us() / 1_000_000, f.action.clone())).collect();
    assert_eq!(
        got,
        vec![
            (20, FaultAction::Crash(Target::Broker(0))),
            (20, FaultAction::Crash(Target::Producer(0, 0))),
            (30, FaultAction::Crash(Target::Consumer(0, 1))),
            (45, FaultAction::Restart(Target::Consumer(0, 1))),
        ]
    );
    assert_eq!(target_name(&sc, Target::Consumer(0, 1)), "analytics-1");
    assert_eq!(sc.faults[0].at, Instant(20_000_000));
}

#[test]
fn fault_errors() {
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 30s, crash: analytics-7 }}\n"));
    assert_eq!(at(&e), (14, 23, "faults[0].crash"));
    assert_eq!(e.message, "faults[0].crash: no entity `analytics-7`");
    // Not the nearest name (`analytics-0`): the numbers there are.
    assert_eq!(e.hint.as_deref(), Some("there are 3 instances, analytics-0..analytics-2"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 30s, crash: analitics-1 }}\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `analytics-1`?"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 30s, crash: broker-3 }}\n"));
    assert_eq!(e.hint.as_deref(), Some("there are 3 brokers, broker-0..broker-2"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 30s, crash: web-1 }}\n"));
    assert_eq!(e.hint.as_deref(), Some("there is 1 instance, web-0"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 30s, restart: analytics-1 }}\n"));
    assert_eq!(at(&e), (14, 16, "faults[0].restart"));
    assert_eq!(e.message, "faults[0].restart: `analytics-1` is not crashed at 30.000s, so it cannot restart");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 40s, crash: broker-1 }}\n  - {{ at: 30s, crash: broker-1 }}\n"));
    assert_eq!(at(&e), (14, 16, "faults[0].crash"));
    assert_eq!(e.message, "faults[0].crash: `broker-1` is already crashed at 40.000s (crashed at 30.000s)");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 121s, crash: broker-1 }}\n"));
    assert_eq!(at(&e), (14, 11, "faults[0].at"));
    assert_eq!(e.message, "faults[0].at: 121.000s is after the end of the run (duration 60s + drain 60s)");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 1s, crash: broker-1, restart: broker-1 }}\n"));
    assert_eq!(at(&e), (14, 32, "faults[0].restart"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 1s }}\n"));
    assert_eq!(at(&e), (14, 5, "faults[0]"));
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 1s, crash: broker-1, for: 5s }}\n"));
    assert_eq!(e.field, "faults[0].for");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 1s, crash: broker-1, for: 5s }}\n"));
    assert!(e.message.contains("`for` applies to `pause`, `slow` and `partition` faults"), "{e}");
}

#[test]
fn pauses_and_partitions_load() {
    let src = format!(
        "{FAULTS_HEAD}  - {{ at: 10s, pause: analytics-2, for: 5s }}\n  - {{ at: 5s, pause: web-0, for: 1.5s }}\n"
    );
    let sc = ok(&src).scenario;
    assert_eq!(
        sc.faults.iter().map(|f| f.action.clone()).collect::<Vec<_>>(),
        vec![
            FaultAction::Pause(Target::Producer(0, 0), Duration(1_500_000)),
            FaultAction::Pause(Target::Consumer(0, 2), Duration::from_secs(5)),
        ]
    );
    let sc = ok(&format!("{FAULTS_HEAD}  - {{ at: 10s, pause: broker-2, for: 5s }}\n")).scenario;
    assert_eq!(sc.faults[0].action, FaultAction::Pause(Target::Broker(2), Duration::from_secs(5)));
    let src = format!(
        "{FAULTS_HEAD}  - {{ at: 40s, partition: [broker-1, analytics-0], for: 10s }}\n  - {{ at: 40s, partition: [broker-1, broker-2], for: 1s }}\n"
    );
    let sc = ok(&src).scenario;
    assert_eq!(
        sc.faults[0].action,
        FaultAction::Partition(vec![Target::Broker(1), Target::Consumer(0, 0)], Duration::from_secs(10))
    );
    assert_eq!(sc.faults.len(), 2);
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 40s, partition: [broker-1], for: 10s }}\n"));
    assert_eq!(e.message, "faults[0].partition: a partition needs at least two entities");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 40s, partition: [broker-1, broker-9], for: 10s }}\n"));
    assert_eq!(e.field, "faults[0].partition[1]");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 40s, partition: [broker-1, broker-1], for: 10s }}\n"));
    assert_eq!(e.message, "faults[0].partition[1]: `broker-1` is listed twice");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 10s, pause: analytics-2 }}\n"));
    assert_eq!(e.message, "missing field `for` in faults[0]");
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 10s, pause: analytics-2, for: 0s }}\n"));
    assert_eq!(e.message, "faults[0].for: must be more than 0");
    // A crashed entity cannot be paused; a paused one can crash.
    let e = err(&format!("{FAULTS_HEAD}  - {{ at: 10s, pause: web-0, for: 5s }}\n  - {{ at: 5s, crash: web-0 }}\n"));
    assert_eq!(at(&e), (14, 16, "faults[0].pause"));
    assert_eq!(e.message, "faults[0].pause: `web-0` is down at 10.000s (crashed at 5.000s), so it cannot be paused");
    let src = format!("{FAULTS_HEAD}  - {{ at: 10s, pause: web-0, for: 5s }}\n  - {{ at: 12s, crash: web-0 }}\n");
    assert_eq!(ok(&src).scenario.faults.len(), 2);
}

#[test]
fn expectations_keep_text_and_order() {
    let src = format!(
        "{}expect:\n  lost: 0\n  duplicates: \"> 0\"\n  max_lag: \"< 1000\"\n  latency_ms.p99: 1.5\n  rebalances: \">= 2\"\n  final_members: \"!= 0\"\n  redelivered: \"<= 3\"\n  failed: \"== 0\"\n",
        with("", "")
    );
    let sc = ok(&src).scenario;
    let got: Vec<(&str, Cmp, f64, &str)> =
        sc.expect.iter().map(|e| (e.name.as_str(), e.cmp, e.value, e.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("lost", Cmp::Eq, 0.0, "0"),
            ("duplicates", Cmp::Gt, 0.0, "> 0"),
            ("max_lag", Cmp::Lt, 1000.0, "< 1000"),
            ("latency_ms.p99", Cmp::Eq, 1.5, "1.5"),
            ("rebalances", Cmp::Ge, 2.0, ">= 2"),
            ("final_members", Cmp::Ne, 0.0, "!= 0"),
            ("redelivered", Cmp::Le, 3.0, "<= 3"),
            ("failed", Cmp::Eq, 0.0, "== 0"),
        ]
    );
    let e = err(&format!("{}expect:\n  lost_ack: 0\n", with("", "")));
    assert_eq!(at(&e), (12, 3, "expect.lost_ack"));
    assert_eq!(e.message, "unknown metric `lost_ack` in expect");
    assert_eq!(e.hint.as_deref(), Some("did you mean `lost_acked`?"));
    let e = err(&format!("{}expect:\n  max_lag: \"about 5\"\n", with("", "")));
    assert_eq!(at(&e), (12, 12, "expect.max_lag"));
    let e = err(&format!("{}expect:\n  max_lag: 1e400\n", with("", "")));
    assert!(e.message.starts_with("expect.max_lag: expected a number"), "{e}");
}

#[test]
fn io_and_encoding_errors() {
    let e = load_file(std::path::Path::new("/definitely/not/here.yaml")).unwrap_err();
    assert_eq!((e.line, e.column), (0, 0));
    assert!(e.to_string().starts_with("error: /definitely/not/here.yaml: cannot read the scenario file"), "{e}");
}

#[test]
fn buffer_and_assignor_configs_are_modelled_without_warnings() {
    let src = with(
        "    config:\n      buffer.memory: 20000\n      max.block.ms: 10\n",
        "    config:\n      request.timeout.ms: 5000\n      partition.assignment.strategy: cooperative-sticky\n",
    );
    let l = ok(&src);
    let p = &l.scenario.producers[0].config;
    assert_eq!((p.buffer_memory, p.max_block), (20000, Duration::from_ms(10)));
    assert_eq!(l.scenario.consumers[0].config.request_timeout, Duration::from_ms(5000));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    // The group uses the first listed assignor.
    let c = &l.scenario.consumers[0].config;
    assert_eq!((c.assignor(), c.cooperative()), (Assignor::CooperativeSticky, true));
    // A buffer smaller than one batch could never send anything.
    let e = err(&with("    config:\n      buffer.memory: 1024\n", ""));
    assert_eq!(at(&e), (10, 7, "producers[0].config.buffer.memory"));
    assert!(e.message.contains("smaller than batch.size (16384)"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("set `buffer.memory` to at least 16384"));
}

#[test]
fn limits_that_keep_the_model_small() {
    let e = err(&with("    keys: 10000001\n", ""));
    assert_eq!(e.message, "producers[0].keys: must be at most 10000000, found 10000001");
    let e = err(&with("    instances: 1001\n", ""));
    assert_eq!(e.message, "producers[0].instances: must be at most 1000, found 1001");
    let e = err(&with("", "    config:\n      auto.commit.interval.ms: 0\n"));
    assert_eq!(at(&e), (12, 7, "consumers[0].config.auto.commit.interval.ms"));
    // Without auto-commit the interval is unused, and 0 is Kafka-legal.
    assert!(load_str(&with("", "    commit: after-processing\n    config:\n      auto.commit.interval.ms: 0\n"), "t")
        .is_ok());
}

#[test]
fn unquoted_comparison_gets_a_hint() {
    let e = err(&format!("{}expect:\n  duplicates: > 0\n", with("", "")));
    assert_eq!(e.hint.as_deref(), Some("quote a comparison, e.g. `duplicates: \"> 0\"`"));
    // `<` is plain text in YAML, so this one loads.
    let sc = ok(&format!("{}expect:\n  max_lag: < 1000\n", with("", ""))).scenario;
    assert_eq!((sc.expect[0].cmp, sc.expect[0].value), (Cmp::Lt, 1000.0));
}

#[test]
fn a_required_field_without_a_value_points_at_its_key() {
    let e = err(&with("", "").replace("    rate: 10/s\n", "    rate:\n"));
    assert_eq!(at(&e), (8, 5, "producers[0].rate"));
    assert_eq!(e.message, "producers[0].rate: has no value");
    let e = err("name: t\nduration: 1s\ntopics:\n  - name: c\n    <<: { partitions: 1 }\n");
    assert_eq!(at(&e), (5, 5, "topics[0].<<"));
    assert!(e.hint.unwrap().contains("merge keys"));
}

#[test]
fn async_processing_goes_with_auto_or_before_processing_commits() {
    let c = &ok(&with("", "    processing: async\n")).scenario.consumers[0];
    assert_eq!((c.processing, c.commit), (Processing::Async, CommitMode::Auto));
    let c = &ok(&with("", "    processing: async\n    commit: before-processing\n")).scenario.consumers[0];
    assert_eq!(c.processing, Processing::Async);
    assert_eq!(ok(&with("", "")).scenario.consumers[0].processing, Processing::Sync);
    let e = err(&with("", "    processing: async\n    commit: after-processing\n"));
    assert_eq!(at(&e), (11, 5, "consumers[0].processing"));
    assert!(e.message.contains("not `after-processing`"), "{e}");
    let e = err(&with("", "    processing: asynk\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `async`?"));
}

#[test]
fn commit_every_and_commit_async_shape_the_after_processing_commit() {
    let c = &ok(&with("", "    commit: after-processing\n    commit_every: record\n")).scenario.consumers[0];
    assert_eq!((c.commit_every, c.commit_async), (CommitEvery::Record, false));
    let c = &ok(&with("", "    commit: after-processing\n    commit_async: true\n")).scenario.consumers[0];
    assert_eq!((c.commit_every, c.commit_async), (CommitEvery::Batch, true));
    let e = err(&with("", "    commit: auto\n    commit_every: record\n"));
    assert_eq!(at(&e), (12, 5, "consumers[0].commit_every"));
    assert!(e.message.contains("this group commits `auto`"), "{e}");
    let e = err(&with("", "    commit: after-processing\n    commit_every: record\n    commit_async: true\n"));
    assert_eq!(at(&e), (13, 5, "consumers[0].commit_async"));
    let e = err(&with("", "    commit: after-processing\n    commit_every: recrod\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `record`?"));
}

#[test]
fn event_time_and_aggregate_are_read_and_checked() {
    let p = "    event_time:\n      delay: { exp: 200ms }\n      skew: { ahead: 1s }\n      offline: { every: 30s, for: 10s }\n";
    let c = "    aggregate:\n      window: { sliding: { size: 10s, every: 5s } }\n      watermark: 2s\n      allowed_lateness: 1s\n      late: correct\n";
    let sc = ok(&with(p, c)).scenario;
    let e = &sc.producers[0].event_time;
    assert_eq!(e.delay, Some(Dist::Exp { mean: Duration::from_ms(200) }));
    assert_eq!(e.skew_us, -1_000_000);
    assert_eq!(e.offline, Some(Offline { every: Duration::from_secs(30), duration: Duration::from_secs(10) }));
    let a = sc.consumers[0].aggregate.expect("parsed");
    assert_eq!(a.window, WindowKind::Sliding { size: Duration::from_secs(10), slide: Duration::from_secs(5) });
    assert_eq!(
        (a.watermark_delay, a.allowed_lateness, a.late),
        (Duration::from_secs(2), Duration::from_secs(1), LatePolicy::Correct)
    );
    let a =
        ok(&with("", "    aggregate: { window: { session: 5s } }\n")).scenario.consumers[0].aggregate.expect("parsed");
    assert_eq!(
        (a.window, a.watermark_delay, a.late),
        (WindowKind::Session { gap: Duration::from_secs(5) }, Duration::ZERO, LatePolicy::Drop)
    );

    let e = err(&with("    event_time: { offline: { every: 10s, for: 10s } }\n", ""));
    assert!(e.message.contains("must be shorter than `every`"), "{e}");
    let e = err(&with("    event_time: { skew: { behind: 1s, ahead: 1s } }\n", ""));
    assert!(e.message.contains("either behind or ahead"), "{e}");
    let e = err(&with("", "    aggregate: { window: { sliding: { size: 10s, every: 3s } } }\n"));
    assert!(e.message.contains("must divide the window size"), "{e}");
    let e = err(&with("", "    aggregate: { window: { tumbling: 10s, session: 5s } }\n"));
    assert!(e.message.contains("one window kind"), "{e}");
    let e = err(&with("", "    aggregate: { window: { tumblin: 10s } }\n"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `tumbling`?"));
    let e = err(&with("", "    aggregate: { window: { tumbling: 10s }, late: keep }\n"));
    assert!(e.message.contains("late"), "{e}");
}
