//! Helpers shared by the integration tests.

use std::path::Path;

/// Every scenario in `scenarios/`, by name, sorted.
#[allow(dead_code)]
pub fn shipped() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.file_stem().expect("a file name").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A small run under random faults that reaches every outcome state:
/// acks=1 with unclean elections (lost writes), producer crashes (abandoned
/// records), consumer crashes and pauses (redeliveries), a lossy network
/// (retries, failures) and a short drain (unsent and pending records).
#[allow(dead_code)]
pub const CHAOS: &str = "name: chaos-outcomes
seed: 0
duration: 20s
drain: 3s
brokers: 3
network: { latency: 2ms, loss: 0.002 }
topics:
  - { name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 1, unclean.leader.election.enable: true } }
producers:
  - { name: p, instances: 2, rate: 150/s, keys: 20, config: { acks: 1, enable.idempotence: false, retries: 2, delivery.timeout.ms: 4000, request.timeout.ms: 1500 } }
consumers:
  - { group: g, instances: 2, commit: after-processing, processing_time: { exp: 3ms }, config: { session.timeout.ms: 6000, max.poll.records: 50 } }
chaos:
  from: 1s
  until: 19s
  crash: { rate: 10/min, down: { uniform: [500ms, 8s] }, targets: [brokers, consumers, producers] }
  pause: { rate: 4/min, for: { uniform: [100ms, 5s] }, targets: [consumers, brokers] }
";

/// Runs the streamsim binary from the project root: (exit code, stdout, stderr).
#[allow(dead_code)]
pub fn streamsim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
