//! Kafka CLI-style overrides (`--producer-property`, `--consumer-property`, `--topic-config`,
//! `--broker-config`, `--set`): the same checks as the file, errors that name the flag.

mod common;
use common::streamsim;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).expect("JSON on stdout")
}

/// acks=1 loses acknowledged writes on the leader crash; `--producer-property acks=all` with
/// `--topic-config min.insync.replicas=2` removes the loss: the override reached the model.
#[test]
fn producer_and_topic_overrides_change_the_run() {
    let (code, out, _) = streamsim(&["run", "scenarios/acks-1-leader-failover.yaml", "--json"]);
    assert_eq!(code, 0);
    assert!(json(&out)["lost_acked"].as_u64().unwrap() > 0, "{out}");
    let (_, out, err) = streamsim(&[
        "run",
        "scenarios/acks-1-leader-failover.yaml",
        "--json",
        "--producer-property",
        "acks=all",
        "--topic-config",
        "min.insync.replicas=2",
    ]);
    assert_eq!(json(&out)["lost_acked"], 0, "{out}");
    assert!(err.contains("overrides: --topic-config min.insync.replicas=2 --producer-property acks=all"), "{err}");
}

#[test]
fn set_replaces_a_scenario_field() {
    let (code, out, err) = streamsim(&["run", "scenarios/homework.yaml", "--json", "--set", "seed=42"]);
    assert_eq!(code, 0, "{err}");
    let (_, direct, _) = streamsim(&["run", "scenarios/homework.yaml", "--json", "--seed", "42"]);
    assert_eq!(out, direct);
}

#[test]
fn a_bad_override_names_the_flag_and_the_nearest_name() {
    let (code, _, err) = streamsim(&["run", "scenarios/homework.yaml", "--producer-property", "linger.mss=5"]);
    assert_eq!(code, 2);
    assert!(err.contains("error: --producer-property linger.mss=5: unknown field `linger.mss`"), "{err}");
    assert!(err.contains("did you mean `linger.ms`?"), "{err}");
    let (code, _, err) =
        streamsim(&["validate", "scenarios/homework.yaml", "--consumer-property", "session.timeout.ms=soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("error: --consumer-property session.timeout.ms=soon:"), "{err}");
    let (code, _, err) = streamsim(&["explain", "scenarios/homework.yaml", "--set", "durtion=3s"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `duration`?"), "{err}");
    let (code, _, _) = streamsim(&["run", "scenarios/homework.yaml", "--broker-config", "novalue"]);
    assert_eq!(code, 2);
}

/// `validate --effective`: each config's value and where it came from.
#[test]
fn validate_effective_names_each_configs_source() {
    let (code, out, err) = streamsim(&[
        "validate",
        "scenarios/homework.yaml",
        "--effective",
        "--json",
        "--producer-property",
        "linger.ms=20",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    let row = |entity: &str, name: &str| {
        doc["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == entity && r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{entity} {name} in {out}"))
    };
    assert_eq!(row("producer web", "linger.ms")["value"], "20");
    assert_eq!(row("producer web", "linger.ms")["source"], "flag (--producer-property linger.ms=20)");
    assert_eq!(row("producer web", "acks")["source"], "default (Kafka 4.1)");
    assert_eq!(row("consumer analytics", "session.timeout.ms")["source"], "file");
    assert_eq!(row("consumer analytics", "auto.offset.reset")["source"], "preset (effectively-once)");
    assert_eq!(row("topic clicks", "min.insync.replicas")["value"], "2");
    assert_eq!(doc["overrides"][0], "--producer-property linger.ms=20");
    let (code, table, _) = streamsim(&["validate", "scenarios/homework.yaml", "--effective"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("ENTITY"), "{table}");
}
