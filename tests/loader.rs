//! The scenario loader from the outside: the DESIGN.md example resolves to
//! the expected values, and errors read exactly as users see them.

use streamsim::kernel::rng::Dist;
use streamsim::kernel::time::{Duration, Instant};
use streamsim::scenario::*;

/// DESIGN.md's example scenario, less the `pause` and `partition` faults
/// (tested on their own below).
const EXAMPLE: &str = r#"name: homework                 # [a-z0-9-]+, required
description: "6 partitions, 3 consumers"
seed: 7                        # u64, default 0; `--seed` overrides
duration: 60s                  # producers run this long (units: us, ms, s, m, h)
drain: 60s                     # optional, extra time to let consumers finish
semantics: at-least-once       # optional preset
brokers: 3
network:                       # one-way latency between any two entities
  latency: 1ms                 # a duration, or a distribution (see below)
topics:
  - name: clicks
    partitions: 6
    replication.factor: 3
    config:                    # Kafka topic/broker config names, verbatim
      min.insync.replicas: 2
      unclean.leader.election.enable: false
producers:
  - name: web                  # instances are named web-0, web-1, ...
    topic: clicks              # may be omitted when there is one topic
    instances: 1
    rate: 100/s                # per instance; also 6000/min
    messages: 6000             # optional cap per instance
    keys: 100                  # key cardinality; keys are "key-0".."key-99"; 0 = null keys
    config:                    # Kafka producer config names, verbatim
      acks: all
      enable.idempotence: true
      retries: 2147483647
      max.in.flight.requests.per.connection: 5
consumers:
  - group: analytics           # instances are named analytics-0, analytics-1, ...
    topic: clicks
    instances: 3
    processing_time: 2ms       # per record; a duration or a distribution
    commit: after-processing   # before-processing | after-processing | auto | transactional
    sink: plain                # plain | idempotent | transactional
    config:                    # Kafka consumer config names, verbatim
      enable.auto.commit: false
      max.poll.records: 500
      isolation.level: read_committed
      partition.assignment.strategy: range
faults:                        # at a virtual time; targets are instance names or broker-N
  - { at: 30s, crash: analytics-1 }
  - { at: 45s, restart: analytics-1 }
  - { at: 20s, crash: broker-0 }
expect:                        # checked after the run; a failed expectation exits 1
  lost: 0
  duplicates: "> 0"
  max_lag: "< 1000"
"#;

/// What the example's `messages: 6000` at a Poisson `rate: 100/s` for `duration: 60s` warns.
const MESSAGES_WARNING: &str = "warning: x.yaml:22:5: producers[0].messages: 6000 records take 60.0s ± 0.8s at this Poisson rate, and the producer stops at `duration: 60s`: it may produce fewer than 6000 records on some seeds; write `rate: { constant: ... }` or a longer duration (63s or more)";

#[test]
fn design_example_resolves() {
    let loaded = load_str(EXAMPLE, "homework.yaml").unwrap_or_else(|e| panic!("{e}"));
    // 100/s Poisson for 60s averages exactly the 6000 messages: about half the seeds stop at `duration` first.
    let texts: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(texts, [MESSAGES_WARNING.replace("x.yaml", "homework.yaml")]);
    let sc = loaded.scenario;
    assert_eq!(sc.name, "homework");
    assert_eq!(sc.description.as_deref(), Some("6 partitions, 3 consumers"));
    assert_eq!(sc.seed, 7);
    assert_eq!(sc.duration, Duration::from_secs(60));
    assert_eq!(sc.drain, Duration::from_secs(60));
    assert_eq!(sc.semantics, Some(Semantics::AtLeastOnce));
    assert_eq!(sc.brokers, 3);
    assert_eq!(sc.broker_config, BrokerConfig::default());
    assert_eq!(sc.network.latency, Dist::Constant(Duration::from_ms(1)));
    assert_eq!(sc.max_events, DEFAULT_MAX_EVENTS);
    assert_eq!(sc.sample_interval, DEFAULT_SAMPLE_INTERVAL);

    assert_eq!(
        sc.topics,
        vec![TopicSpec {
            name: "clicks".into(),
            partitions: 6,
            replication_factor: 3,
            config: TopicConfig { min_insync_replicas: 2, ..TopicConfig::default() },
        }]
    );

    let p = &sc.producers[0];
    assert_eq!((p.name.as_str(), p.topic, p.instances, p.messages, p.keys), ("web", 0, 1, Some(6000), 100));
    assert_eq!(p.rate, Rate { count: 100, per: Duration::from_secs(1), kind: ArrivalKind::Poisson });
    // The preset turns idempotence off, the file's explicit `true` wins.
    assert_eq!(
        p.config,
        ProducerConfig {
            acks: Acks::All,
            enable_idempotence: true,
            retries: 2_147_483_647,
            ..ProducerConfig::default()
        }
    );

    let c = &sc.consumers[0];
    assert_eq!((c.group.as_str(), c.topic, c.instances), ("analytics", 0, 3));
    assert_eq!(c.processing_time, Dist::Constant(Duration::from_ms(2)));
    assert_eq!((c.commit, c.sink), (CommitMode::AfterProcessing, SinkKind::Plain));
    assert_eq!(
        c.config,
        ConsumerConfig {
            enable_auto_commit: false,
            auto_offset_reset: OffsetReset::Earliest, // from the preset
            isolation_level: IsolationLevel::ReadCommitted,
            partition_assignment_strategy: vec![Assignor::Range],
            ..ConsumerConfig::default()
        }
    );

    // Sorted by time; ties would keep file order.
    assert_eq!(
        sc.faults,
        vec![
            FaultSpec { at: Instant(20_000_000), action: FaultAction::Crash(Target::Broker(0)) },
            FaultSpec { at: Instant(30_000_000), action: FaultAction::Crash(Target::Consumer(0, 1)) },
            FaultSpec { at: Instant(45_000_000), action: FaultAction::Restart(Target::Consumer(0, 1)) },
        ]
    );
    let expect: Vec<(&str, Cmp, f64, &str)> =
        sc.expect.iter().map(|e| (e.name.as_str(), e.cmp, e.value, e.text.as_str())).collect();
    assert_eq!(
        expect,
        vec![("lost", Cmp::Eq, 0.0, "0"), ("duplicates", Cmp::Gt, 0.0, "> 0"), ("max_lag", Cmp::Lt, 1000.0, "< 1000")]
    );
    assert_eq!(target_name(&sc, Target::Consumer(0, 1)), "analytics-1");
    assert_eq!(target_name(&sc, Target::Broker(2)), "broker-2");
}

#[test]
fn shipped_scenarios_load_without_warnings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<_> = std::fs::read_dir(&dir).expect("scenarios/").flatten().map(|e| e.path()).collect();
    names.sort();
    assert!(!names.is_empty());
    for path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let loaded = load_file(path).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{}: {:?}", path.display(), loaded.warnings);
    }
}

/// The example with one line replaced (1-based line number).
fn example_with_line(line: usize, text: &str) -> String {
    EXAMPLE.lines().enumerate().map(|(i, l)| if i + 1 == line { text } else { l }).collect::<Vec<_>>().join("\n")
}

#[test]
fn typo_in_a_kafka_config_reads_like_rustc() {
    let src = example_with_line(25, "      ack: all");
    let e = load_str(&src, "x.yaml").unwrap_err();
    insta::assert_snapshot!(e.to_string(), @r"
    error: x.yaml:25:7: unknown field `ack` in producers[0].config
      hint: did you mean `acks`?
    ");
    assert_eq!(e.field, "producers[0].config.ack");
}

#[test]
fn semantic_errors_point_at_their_line() {
    let src = example_with_line(15, "      min.insync.replicas: 4");
    let e = load_str(&src, "x.yaml").unwrap_err();
    insta::assert_snapshot!(e.to_string(), @r"
    error: x.yaml:15:7: topics[0].config.min.insync.replicas: min.insync.replicas (4) is more than the replication.factor (3) of topic `clicks`
      hint: every acks=all produce would fail with NOT_ENOUGH_REPLICAS; lower min.insync.replicas or raise replication.factor
    ");

    let src = example_with_line(42, "  - { at: 30s, crash: analytics-7 }");
    let e = load_str(&src, "x.yaml").unwrap_err();
    insta::assert_snapshot!(e.to_string(), @r"
    error: x.yaml:42:23: faults[0].crash: no entity `analytics-7`
      hint: there are 3 instances, analytics-0..analytics-2
    ");

    // exactly-once loads: idempotent producer, and the file's explicit commit
    // and sink win over the preset's transactional ones.
    let src = example_with_line(6, "semantics: exactly-once");
    let sc = load_str(&src, "x.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    assert_eq!(sc.semantics, Some(Semantics::ExactlyOnce));
    assert!(sc.producers[0].config.enable_idempotence);
}

#[test]
fn known_kafka_configs_warn_with_position() {
    let src = example_with_line(28, "      bootstrap.servers: kafka:9092");
    let loaded = load_str(&src, "x.yaml").unwrap_or_else(|e| panic!("{e}"));
    let texts: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            MESSAGES_WARNING,
            "warning: x.yaml:28:7: `bootstrap.servers` is a real Kafka producer config that streamsim does not model; it is ignored"
        ]
    );
    // The replaced line was max.in.flight: back to Kafka's default.
    assert_eq!(loaded.scenario.producers[0].config.max_in_flight_requests_per_connection, 5);
}

#[test]
fn pause_and_partition_faults_load() {
    let src = EXAMPLE.replace(
        "  - { at: 20s, crash: broker-0 }",
        "  - { at: 20s, crash: broker-0 }\n  - { at: 10s, pause: analytics-2, for: 5s }\n  - { at: 40s, partition: [broker-1, broker-2], for: 10s }",
    );
    let sc = load_str(&src, "x.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    assert_eq!(
        sc.faults[0],
        FaultSpec {
            at: Instant(10_000_000),
            action: FaultAction::Pause(Target::Consumer(0, 2), Duration::from_secs(5))
        }
    );
    assert_eq!(
        sc.faults[3],
        FaultSpec {
            at: Instant(40_000_000),
            action: FaultAction::Partition(vec![Target::Broker(1), Target::Broker(2)], Duration::from_secs(10))
        }
    );
    // Brokers can be paused too.
    let src = EXAMPLE.replace("  - { at: 20s, crash: broker-0 }", "  - { at: 20s, pause: broker-0, for: 1s }");
    let sc = load_str(&src, "x.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    assert!(sc.faults.iter().any(|f| f.action == FaultAction::Pause(Target::Broker(0), Duration::from_secs(1))));
}

#[test]
fn compare_can_swap_the_preset() {
    let loaded = load_str_with(EXAMPLE, "x.yaml", Some(Semantics::AtMostOnce)).unwrap_or_else(|e| panic!("{e}"));
    let sc = loaded.scenario;
    assert_eq!(sc.semantics, Some(Semantics::AtMostOnce));
    // Explicit values in the file still win over the preset.
    assert_eq!(sc.consumers[0].commit, CommitMode::AfterProcessing);
    assert_eq!(sc.producers[0].config.acks, Acks::All);
}

#[test]
fn unreadable_file_is_a_load_error() {
    let e = load_file(std::path::Path::new("no/such/file.yaml")).unwrap_err();
    assert_eq!((e.line, e.column), (0, 0));
    assert!(e.to_string().starts_with("error: no/such/file.yaml: cannot read the scenario file: "), "{e}");
}

/// `max.request.size` is modelled: Kafka's default 1048576, or what the file says, without a warning.
#[test]
fn max_request_size_loads_with_kafkas_default() {
    let yaml = "name: t\nduration: 1s\ntopics: [{ name: t, partitions: 1 }]\nproducers: [{ name: p, rate: 10/s, config: { max.request.size: 4096 } }]\n";
    let loaded = load_str(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings.iter().map(ToString::to_string).collect::<Vec<_>>());
    assert_eq!(loaded.scenario.producers[0].config.max_request_size, 4096);
    let default = load_str(&yaml.replace("config: { max.request.size: 4096 }", "config: {}"), "t.yaml").unwrap();
    assert_eq!(default.scenario.producers[0].config.max_request_size, 1_048_576);
}
