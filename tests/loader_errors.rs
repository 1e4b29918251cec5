//! The loader's errors name the file, line, column and field, and suggest the
//! right name; presets and Kafka's config rules resolve as documented.

use streamsim::kernel::time::Duration;
use streamsim::scenario::*;

const BASE: &str = "\
name: t
duration: 10s
brokers: 3
topics:
  - name: clicks
    partitions: 6
    replication.factor: 3
    config:
      min.insync.replicas: 2
producers:
  - name: web
    rate: 100/s
    config:
      acks: all
consumers:
  - group: analytics
    instances: 2
faults:
  - { at: 5s, crash: analytics-1 }
";

fn err(text: &str) -> String {
    load_str(text, "x.yaml").expect_err("must not load").to_string()
}

fn ok(text: &str) -> Loaded {
    load_str(text, "x.yaml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_base_loads_with_kafka_defaults() {
    let l = ok(BASE);
    assert!(l.warnings.is_empty());
    let s = l.scenario;
    assert_eq!(s.duration, Duration::from_secs(10));
    assert_eq!(s.drain, Duration::from_secs(60));
    let p = &s.producers[0];
    assert_eq!(p.topic, 0);
    assert_eq!(p.config.acks, Acks::All);
    assert!(p.config.enable_idempotence, "Kafka's default");
    assert_eq!(p.config.linger, Duration::from_ms(5));
    let c = &s.consumers[0];
    assert_eq!(c.commit, CommitMode::Auto, "enable.auto.commit defaults to true");
    assert_eq!(c.config.auto_offset_reset, OffsetReset::Latest);
    assert_eq!(c.config.session_timeout, Duration::from_ms(45_000));
    assert_eq!(
        s.faults,
        vec![FaultSpec {
            at: streamsim::kernel::time::Instant(5_000_000),
            action: FaultAction::Crash(Target::Consumer(0, 1))
        }]
    );
}

#[test]
fn typo_in_a_kafka_config_suggests_the_name() {
    assert_eq!(
        err(&BASE.replace("acks: all", "ack: all")),
        "error: x.yaml:14:7: unknown field `ack` in producers[0].config\n  hint: did you mean `acks`?"
    );
}

#[test]
fn typo_in_a_field_suggests_the_name() {
    assert_eq!(
        err(&BASE.replace("    rate: 100/s", "    rat: 100/s")),
        "error: x.yaml:12:5: unknown field `rat` in producers[0]\n  hint: did you mean `rate`?"
    );
}

#[test]
fn a_consumer_config_in_a_producer_is_named_as_such() {
    let e = err(&BASE.replace("acks: all", "max.poll.records: 5"));
    assert!(
        e.starts_with("error: x.yaml:14:7: `max.poll.records` in producers[0].config is a Kafka consumer config, not a producer config"),
        "{e}"
    );
}

#[test]
fn known_but_unmodelled_configs_warn_with_a_location() {
    let l = ok(&BASE.replace("acks: all", "acks: all\n      bootstrap.servers: localhost:9092"));
    assert_eq!(l.warnings.len(), 1);
    let w = l.warnings[0].to_string();
    assert!(
        w.starts_with(
            "warning: x.yaml:15:7: `bootstrap.servers` is a real Kafka producer config that streamsim does not model"
        ),
        "{w}"
    );
}

#[test]
fn min_insync_above_replication_factor_is_an_error_at_its_line() {
    let e = err(&BASE.replace("min.insync.replicas: 2", "min.insync.replicas: 4"));
    assert!(e.starts_with("error: x.yaml:9:7: topics[0].config.min.insync.replicas: min.insync.replicas (4) is more than the replication.factor (3)"), "{e}");
}

#[test]
fn more_replicas_than_brokers_is_an_error() {
    let e = err(&BASE.replace("brokers: 3", "brokers: 2"));
    assert!(e.starts_with("error: x.yaml:7:25: topics[0].replication.factor: 3 is more than the 2 brokers"), "{e}");
}

#[test]
fn explicit_idempotence_with_acks_1_is_kafkas_config_exception() {
    let e = err(&BASE.replace("acks: all", "acks: 1\n      enable.idempotence: true"));
    assert!(e.starts_with("error: x.yaml:14:7: producers[0].config: enable.idempotence is true but acks is 1; Kafka rejects this with a ConfigException"), "{e}");
    // Not explicit: idempotence is silently off, as in Kafka.
    let l = ok(&BASE.replace("acks: all", "acks: 1"));
    assert!(!l.scenario.producers[0].config.enable_idempotence);
}

#[test]
fn faults_must_name_an_entity() {
    assert_eq!(
        err(&BASE.replace("crash: analytics-1", "crash: analytics-7")),
        "error: x.yaml:19:22: faults[0].crash: no entity `analytics-7`\n  hint: there are 2 instances, analytics-0..analytics-1"
    );
    let e = err(&BASE.replace("crash: analytics-1", "restart: analytics-1"));
    assert!(e.starts_with("error: x.yaml:19:15: faults[0].restart: `analytics-1` is not crashed at 5.000s"), "{e}");
}

#[test]
fn pause_and_partition_faults_parse() {
    let e = err(&BASE.replace("crash: analytics-1 }", "partition: [analytics-0], for: 2s }"));
    assert!(e.contains("a partition needs at least two entities"), "{e}");
    let l = ok(&BASE.replace("crash: analytics-1 }", "partition: [analytics-0, broker-1], for: 2s }"));
    assert_eq!(
        l.scenario.faults[0].action,
        FaultAction::Partition(vec![Target::Consumer(0, 0), Target::Broker(1)], Duration::from_secs(2))
    );
    let l = ok(&BASE.replace("crash: analytics-1 }", "pause: broker-1, for: 2s }"));
    assert_eq!(l.scenario.faults[0].action, FaultAction::Pause(Target::Broker(1), Duration::from_secs(2)));
    let l = ok(&BASE.replace("crash: analytics-1 }", "pause: analytics-1, for: 2s }"));
    assert_eq!(l.scenario.faults[0].action, FaultAction::Pause(Target::Consumer(0, 1), Duration::from_secs(2)));
}

#[test]
fn durations_need_units() {
    let e = err(&BASE.replace("duration: 10s", "duration: 10"));
    assert_eq!(e, "error: x.yaml:2:11: duration: `10` has no unit\n  hint: add a unit, e.g. `10s`");
}

#[test]
fn missing_name_points_at_the_document() {
    let e = err(&BASE.replace("name: t\n", ""));
    assert!(e.starts_with("error: x.yaml:1:1: missing top-level field `name`"), "{e}");
}

#[test]
fn presets_set_configs_and_the_file_wins() {
    let l = ok(&BASE.replace("brokers: 3", "brokers: 3\nsemantics: at-most-once"));
    let s = &l.scenario;
    assert_eq!(s.producers[0].config.acks, Acks::All, "explicit acks wins over the preset's acks=1");
    assert_eq!(s.producers[0].config.retries, 0);
    assert_eq!(s.consumers[0].commit, CommitMode::BeforeProcessing);
    assert_eq!(s.consumers[0].config.auto_offset_reset, OffsetReset::Earliest);
    let l = ok(&BASE.replace("brokers: 3", "brokers: 3\nsemantics: effectively-once"));
    assert_eq!(l.scenario.consumers[0].sink, SinkKind::Idempotent);
    assert_eq!(l.scenario.consumers[0].commit, CommitMode::AfterProcessing);
    let l = ok(&BASE.replace("brokers: 3", "brokers: 3\nsemantics: exactly-once"));
    assert_eq!(l.scenario.consumers[0].sink, SinkKind::Transactional);
    assert_eq!(l.scenario.consumers[0].commit, CommitMode::Transactional);
    assert_eq!(l.scenario.consumers[0].config.isolation_level, IsolationLevel::ReadCommitted);
}

#[test]
fn commit_and_enable_auto_commit_must_agree() {
    let e = err(&BASE.replace(
        "    instances: 2",
        "    instances: 2\n    commit: after-processing\n    config:\n      enable.auto.commit: true",
    ));
    assert!(e.contains("enable.auto.commit is true but `commit: after-processing` needs it false"), "{e}");
}

#[test]
fn expectations_parse_comparisons_and_reject_unknown_metrics() {
    let l = ok(&format!("{BASE}expect:\n  lost: 0\n  duplicates: \"> 0\"\n  max_lag: \"< 1000\"\n"));
    let e = &l.scenario.expect;
    assert_eq!(e.len(), 3);
    assert_eq!((e[1].cmp, e[1].value, e[1].text.as_str()), (Cmp::Gt, 0.0, "> 0"));
    let bad = err(&format!("{BASE}expect:\n  duplicate: 0\n"));
    assert!(bad.contains("unknown metric `duplicate`") && bad.contains("did you mean `duplicates`?"), "{bad}");
}

#[test]
fn invalid_yaml_reports_its_position() {
    let e = err("name: t\ntopics: [\n");
    assert!(e.starts_with("error: x.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn chaos_parses_rates_lengths_and_targets() {
    let l = ok(&format!("{BASE}chaos:\n  from: 2s\n  crash: {{ rate: 2/min, down: 3s, targets: [brokers] }}\n  partition: {{ rate: 1/min, for: 1s }}\n"));
    let c = l.scenario.chaos.expect("chaos");
    assert_eq!(c.from, streamsim::kernel::time::Instant(2_000_000));
    assert_eq!(c.until, streamsim::kernel::time::Instant(10_000_000), "defaults to the duration");
    let crash = c.crash.expect("crash");
    assert_eq!((crash.rate.count, crash.rate.per), (2, Duration::from_secs(60)));
    assert!(crash.targets.brokers && !crash.targets.consumers);
    assert!(c.partition.expect("partition").targets.brokers);
    assert!(c.pause.is_none());
    let l = ok(&format!("{BASE}chaos:\n  pause: {{ rate: 1/min, for: 1s, targets: [brokers] }}\n"));
    assert!(l.scenario.chaos.expect("chaos").pause.expect("pause").targets.brokers);
}

/// `group.instance.id` is a modelled consumer config (static membership):
/// a valid id loads without a warning; an id Kafka refuses
/// (JoinGroupRequest.validateGroupInstanceId) is an error at its position.
#[test]
fn group_instance_id_loads_and_bad_ids_are_refused() {
    let with = |v: &str| {
        BASE.replace("    instances: 2\n", &format!("    instances: 2\n    config: {{ group.instance.id: {v} }}\n"))
    };
    let l = ok(&with("billing-app"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.scenario.consumers[0].config.group_instance_id.as_deref(), Some("billing-app"));
    let e = err(&with("\"bad id!\""));
    assert!(
        e.contains("x.yaml:18:34") && e.contains("group.instance.id") && e.contains("not a valid group instance id"),
        "{e}"
    );
}

#[test]
fn durations_take_min_whole_and_fractional() {
    assert_eq!(ok(&BASE.replace("duration: 10s", "duration: 1min")).scenario.duration, Duration::from_secs(60));
    assert_eq!(ok(&BASE.replace("duration: 10s", "duration: 2min")).scenario.duration, Duration::from_secs(120));
    assert_eq!(ok(&BASE.replace("duration: 10s", "duration: 1.5min")).scenario.duration, Duration::from_secs(90));
    assert_eq!(ok(&BASE.replace("duration: 10s", "duration: 2m")).scenario.duration, Duration::from_secs(120));
    let l = ok(&BASE.replace("duration: 10s", "duration: 1min\ndrain: 0.5min"));
    assert_eq!(l.scenario.drain, Duration::from_secs(30));
    let e = err(&BASE.replace("duration: 10s", "duration: 1mins"));
    assert_eq!(e, "error: x.yaml:2:11: duration: unknown unit `mins` in `1mins`\n  hint: write `1min`");
}

#[test]
fn rate_unit_spellings_are_refused_with_the_unit_to_write() {
    let rate = |r: &str| err(&BASE.replace("rate: 100/s", &format!("rate: {r}")));
    assert_eq!(
        rate("100/sec"),
        "error: x.yaml:12:11: producers[0].rate: unknown unit `sec` in the rate `100/sec`\n  hint: write `100/s`"
    );
    assert_eq!(
        rate("100/second"),
        "error: x.yaml:12:11: producers[0].rate: unknown unit `second` in the rate `100/second`\n  hint: write `100/s`"
    );
    assert_eq!(
        rate("6000/minute"),
        "error: x.yaml:12:11: producers[0].rate: unknown unit `minute` in the rate `6000/minute`\n  hint: write `6000/min`"
    );
    assert_eq!(
        rate("{ constant: 3600/hour }"),
        "error: x.yaml:12:23: producers[0].rate.constant: unknown unit `hour` in the rate `3600/hour`\n  hint: write `3600/h`"
    );
    assert!(ok(&BASE.replace("rate: 100/s", "rate: 6000/min")).warnings.is_empty());
    assert!(ok(&BASE.replace("rate: 100/s", "rate: 360000/h")).warnings.is_empty());
}

#[test]
fn a_bare_number_hints_seconds_for_run_times_and_milliseconds_elsewhere() {
    let e = err(&BASE.replace("duration: 10s", "duration: 60"));
    assert_eq!(e, "error: x.yaml:2:11: duration: `60` has no unit\n  hint: add a unit, e.g. `60s`");
    let e = err(&BASE.replace("duration: 10s", "duration: 10s\ndrain: 60"));
    assert_eq!(e, "error: x.yaml:3:8: drain: `60` has no unit\n  hint: add a unit, e.g. `60s`");
    let e = err(&BASE.replace("at: 5s", "at: 10"));
    assert_eq!(e, "error: x.yaml:19:11: faults[0].at: `10` has no unit\n  hint: add a unit, e.g. `10s`");
    let e = err(&BASE.replace("crash: analytics-1 }", "pause: broker-1, for: 2 }"));
    assert_eq!(e, "error: x.yaml:19:37: faults[0].for: `2` has no unit\n  hint: add a unit, e.g. `2s`");
    // Latencies are milliseconds, as Kafka's own `*.ms` configs are.
    let e = err(&format!("{BASE}network:\n  latency: 60\n"));
    assert_eq!(e, "error: x.yaml:21:12: network.latency: `60` has no unit\n  hint: add a unit, e.g. `60ms`");
    // A Kafka `*.ms` config is itself a whole number of milliseconds: `60` is its value.
    let l = ok(&BASE.replace("acks: all", "acks: all\n      linger.ms: 60"));
    assert_eq!(l.scenario.producers[0].config.linger, Duration::from_ms(60));
    let e = err(&BASE.replace("acks: all", "acks: all\n      linger.ms: 60s"));
    assert!(e.starts_with("error: x.yaml:15:18: producers[0].config.linger.ms: Kafka `*.ms` configs are a whole number of milliseconds, found `60s`\n  hint: write `60000`"), "{e}");
}

#[test]
fn messages_a_poisson_rate_may_not_reach_warn_with_the_fix() {
    let l = ok(&BASE.replace("    rate: 100/s\n", "    rate: 100/s\n    messages: 1000\n"));
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert_eq!(
        l.warnings[0].to_string(),
        "warning: x.yaml:13:5: producers[0].messages: 1000 records take 10.0s ± 0.3s at this Poisson rate, and the producer stops at `duration: 10s`: it may produce fewer than 1000 records on some seeds; write `rate: { constant: ... }` or a longer duration (11s or more)"
    );
    // 900 records: 9.0s ± 0.3s, more than three standard deviations before 10s.
    assert!(ok(&BASE.replace("    rate: 100/s\n", "    rate: 100/s\n    messages: 900\n")).warnings.is_empty());
    let l = ok(&BASE.replace("    rate: 100/s\n", "    rate: { constant: 100/s }\n    messages: 1000\n"));
    assert!(l.warnings.is_empty(), "a constant rate sends exactly 1000 in 10s: {:?}", l.warnings);
}

/// `slow:` slows one consumer instance's processing (the heartbeat thread goes on); each bad
/// entry names its position, field and a hint.
#[test]
fn slow_faults_parse_and_bad_ones_are_located() {
    let l = ok(&BASE.replace("crash: analytics-1 }", "slow: analytics-1, for: 2s, processing_time: 1s }"));
    assert_eq!(
        l.scenario.faults[0].action,
        FaultAction::Slow {
            target: Target::Consumer(0, 1),
            span: Duration::from_secs(2),
            processing: Duration::from_secs(1)
        }
    );
    let e = err(&BASE.replace("crash: analytics-1 }", "slow: analytics-1, for: 2s }"));
    assert_eq!(
        e,
        "error: x.yaml:19:5: missing field `processing_time` in faults[0]\n  hint: a `slow` fault says how long each record takes meanwhile: e.g. `{ at: 20s, slow: orders-0, for: 30s, processing_time: 45ms }`"
    );
    let e = err(&BASE.replace("crash: analytics-1 }", "slow: web-0, for: 2s, processing_time: 1s }"));
    assert_eq!(
        e,
        "error: x.yaml:19:21: faults[0].slow: `slow` slows a consumer instance's processing\n  hint: name a consumer instance like `orders-0`; `pause` freezes a broker or a producer"
    );
    let e = err(&BASE.replace("crash: analytics-1 }", "pause: analytics-0, for: 2s, processing_time: 1s }"));
    assert_eq!(
        e,
        "error: x.yaml:19:44: faults[0]: `processing_time` goes with `slow`\n  hint: e.g. `{ at: 20s, slow: orders-0, for: 30s, processing_time: 45ms }`"
    );
    let e = err(&BASE.replace("crash: analytics-1 }", "slow: analytics-0, processing_time: 1s }"));
    assert!(e.starts_with("error: x.yaml:19:5: missing field `for` in faults[0]"), "{e}");
    let e = err(&BASE.replace("crash: analytics-1 }", "slow: analytics-0, for: 2s, processing_time: 1 }"));
    assert_eq!(e, "error: x.yaml:19:60: faults[0].processing_time: `1` has no unit\n  hint: add a unit, e.g. `1ms`");
}
