//! `streamsim audit CONFIG... --incidents [DIR]`: the incident catalogue run against pasted
//! configs. Every verdict comes from runs: the loose Java pair (acks=1, auto-commit) is hit by
//! acks-1-leader-crash, the safe pair (acks=all, idempotence) is not and the run without its
//! enable.idempotence=true shows that line decides it; confluent-kafka with librdkafka's
//! defaults is hit by librdkafka-auto-offset-store; results are the same bytes for any --jobs.

mod common;
use common::streamsim;

const LOOSE: [&str; 2] =
    ["tests/fixtures/configs/loose-producer.properties", "tests/fixtures/configs/loose-consumer.properties"];
const SAFE: [&str; 2] =
    ["tests/fixtures/configs/safe-producer.properties", "tests/fixtures/configs/safe-consumer.properties"];

fn audit(configs: &[&str], extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["audit"];
    args.extend_from_slice(configs);
    args.extend_from_slice(&["--incidents", "--seeds", "0..3", "--json"]);
    args.extend_from_slice(extra);
    let (code, out, err) = streamsim(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).expect("JSON")
}

fn row<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["incidents"].as_array().unwrap().iter().find(|r| r["incident"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn the_loose_pair_is_hit_by_acks_1_and_the_safe_pair_is_not() {
    let loose = audit(&LOOSE, &[]);
    let r = row(&loose, "acks-1-leader-crash");
    assert_eq!((r["applies"].as_bool(), r["hits"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(r["verdict"], "would hit you");
    assert!(r["metrics"]["lost_writes"]["max"].as_f64().unwrap() > 0.0, "{r}");
    // The incident runs Kafka 2.8's default acks=1: the pasted acks=1 is what it runs.
    assert!(r["same"].as_array().unwrap().iter().any(|l| l == "acks=1"), "{r}");
    // Every incident, not the twins, in file-name order.
    let names: Vec<&str> = loose["incidents"].as_array().unwrap().iter().map(|r| r["file"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.iter().all(|n| !n.ends_with("-fix.yaml")) && names.len() >= 13, "{names:?}");

    let safe = audit(&SAFE, &[]);
    let r = row(&safe, "acks-1-leader-crash");
    assert_eq!((r["applies"].as_bool(), r["hits"].as_bool()), (Some(true), Some(false)), "{r}");
    assert_eq!(r["verdict"], "does not hit you");
    for m in ["lost_writes", "lost_acked", "reordered"] {
        assert_eq!(r["metrics"][m]["max"], 0.0, "{m}: {r}");
    }
    assert!(r["decided_by"].as_array().unwrap().iter().any(|l| l == "enable.idempotence=true"), "{r}");
}

/// A transactional incident against a producer config without `transactional.id`: the
/// incident cannot run as the pasted application (delayed-write's producer needs one: the
/// loader says so), or its mechanism never happens (abort-without-rewind aborts nothing).
#[test]
fn transactional_incidents_do_not_apply_to_a_plain_producer() {
    let safe = audit(&SAFE, &[]);
    let r = row(&safe, "delayed-write-next-transaction");
    assert_eq!(r["verdict"], "does not apply", "{r}");
    assert!(r["note"].as_str().unwrap().contains("transactional.id"), "{r}");
    let r = row(&safe, "abort-without-rewind");
    assert_eq!(r["verdict"], "does not apply", "{r}");
    assert_eq!(r["mechanism"]["transactions_aborted"]["max"], 0.0, "{r}");
}

#[test]
fn confluent_kafka_defaults_are_hit_by_the_auto_offset_store_incident() {
    let doc = audit(&["tests/fixtures/configs/confluent-consumer.py"], &[]);
    assert_eq!(doc["client"], "librdkafka");
    let r = row(&doc, "librdkafka-auto-offset-store");
    assert_eq!(r["verdict"], "would hit you", "{r}");
    assert!(r["metrics"]["lost_acked"]["median"].as_f64().unwrap() > 0.0, "{r}");
    // The same file with the store after processing is not hit, and that line decides it.
    let dir = std::env::temp_dir().join(format!("streamsim-audit-inc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixed = dir.join("store-after.py");
    std::fs::write(
        &fixed,
        "conf = {\n    'bootstrap.servers': 'broker-0:9092',\n    'group.id': 'orders',\n    'auto.offset.reset': 'earliest',\n    'enable.auto.offset.store': False,\n}\n",
    )
    .unwrap();
    let doc = audit(&[fixed.to_str().unwrap()], &[]);
    let r = row(&doc, "librdkafka-auto-offset-store");
    assert_eq!(r["verdict"], "does not hit you", "{r}");
    assert!(r["decided_by"].as_array().unwrap().iter().any(|l| l == "enable.auto.offset.store=false"), "{r}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_same_bytes_for_any_jobs() {
    let run = |jobs: &str| {
        let args = ["audit", LOOSE[0], LOOSE[1], "--incidents", "--seeds", "0..2", "--jobs", jobs];
        let (code, out, err) = streamsim(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert!(one.contains("acks-1-leader-crash") && one.contains("would hit you"), "{one}");
}

#[test]
fn a_bad_folder_exits_2_with_a_hint() {
    let (code, out, err) = streamsim(&["audit", LOOSE[0], "--incidents", "no/such/dir"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no/such/dir") && err.contains("hint:"), "{err}");
    // A folder without incident files.
    let (code, _, err) = streamsim(&["audit", LOOSE[0], "--incidents", "docs/schemas"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no incident files"), "{err}");
}
