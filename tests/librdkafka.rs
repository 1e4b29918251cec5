//! librdkafka as a second client: its consumer's offset store and auto-commit timer, and its
//! config names (read from librdkafka's CONFIGURATION.md, rdkafka_offset.c, rdkafka_cgrp.c).

use std::process::Command;

fn run(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(out.status.code() == Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn lost_over_seeds(extra: &[&str]) -> (u64, u64) {
    let (mut lost, mut dups) = (0, 0);
    for seed in 1..=5 {
        let seed = seed.to_string();
        let mut args = vec!["run", "tests/fixtures/librdkafka-auto-commit.yaml", "--json", "--seed", &seed];
        args.extend_from_slice(extra);
        let s = run(&args);
        lost += s["lost"].as_u64().unwrap();
        dups += s["duplicates"].as_u64().unwrap();
    }
    (lost, dups)
}

/// librdkafka stores a message's offset + 1 when it hands it to the application
/// (rdkafka_op.c `rd_kafka_fetch_op_app_prepare` → rdkafka_offset.c `rd_kafka_update_app_pos`,
/// with `enable.auto.offset.store=true`, the default in CONFIGURATION.md), and its auto-commit
/// timer (rdkafka_cgrp.c `rd_kafka_cgrp_offset_commit_tmr_cb`) commits the store every
/// auto.commit.interval.ms whatever the application is doing: a crash mid-batch loses what was
/// returned and committed but not processed. The Java client's auto-commit runs inside poll()
/// and commits the previous poll's position (ConsumerCoordinator.maybeAutoCommitOffsetsAsync):
/// the same workload loses nothing there and redelivers instead.
#[test]
fn librdkafka_rdkafka_offset_c_auto_offset_store_loses_records_java_does_not() {
    let (lost, _) = lost_over_seeds(&[]);
    assert!(lost > 0, "librdkafka defaults lose records on the crash");
    let java = r#"consumers=[{group: g, processing_time: {exp: 10ms}, commit: auto, config: {auto.offset.reset: earliest, max.poll.records: 100}}]"#;
    let (lost, dups) = lost_over_seeds(&["--set", java]);
    assert_eq!(lost, 0, "the Java client is at-least-once here");
    assert!(dups > 0);
}

/// CONFIGURATION.md on max.poll.interval.ms: "set `enable.auto.offset.store=false` ... and then
/// explicitly store offsets (using offsets_store()) *after* message processing": no loss.
#[test]
fn librdkafka_configuration_md_offset_store_after_processing_loses_nothing() {
    let (lost, dups) = lost_over_seeds(&["--consumer-property", "enable.auto.offset.store=false"]);
    assert_eq!(lost, 0);
    assert!(dups > 0, "at-least-once: the records after the last commit come again");
}
