//! The KRaft controller's view of brokers (apache/kafka `metadata/.../controller`):
//! registration and fencing. Each test names the class and Kafka's answer.

use streamsim::scenario::load_str;
use streamsim::simulate_with;

/// The trace's steps of `kind` as (time µs, the step's JSON).
fn steps(yaml: &str, kind: &str) -> Vec<(u64, serde_json::Value)> {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    let path = std::env::temp_dir().join(format!("streamsim-kraft-{}.jsonl", std::process::id()));
    let file = std::fs::File::create(&path).expect("temp file");
    simulate_with(sc, &mut |_| {}, Some(std::io::BufWriter::new(file)), false).expect("run completes");
    let text = std::fs::read_to_string(&path).expect("trace written");
    std::fs::remove_file(&path).ok();
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|v| v["kind"] == kind)
        .map(|v| (v["t"].as_u64().expect("t"), v))
        .collect()
}

/// Kafka's answer: `ClusterControlManager.registerBroker` refuses a new
/// incarnation of broker-0 (DuplicateBrokerRegistrationException) while
/// `BrokerHeartbeatManager.hasValidSession` holds for the old one; the old
/// incarnation is fenced only when its `broker.session.timeout.ms` (9 s)
/// expires, and only then do its partitions fail over and does the new
/// incarnation register. A broker crashed at 5 s and restarted at 7 s is
/// fenced at 14 s: the outage is 9 s, not 2 s.
#[test]
fn cluster_control_manager_refuses_a_restarted_broker_until_its_old_session_expires() {
    let yaml = "name: t
duration: 20s
drain: 20s
brokers: 3
network: { latency: 1ms }
topics: [{ name: t, partitions: 3, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: 1000/s, keys: 30 }]
faults:
  - { at: 5s, crash: broker-0 }
  - { at: 7s, restart: broker-0 }
";
    let elects: Vec<u64> =
        steps(yaml, "elect").into_iter().filter(|(t, v)| *t > 0 && v["partition"] == 0).map(|(t, _)| t).collect();
    assert_eq!(elects.first(), Some(&14_000_000), "partition 0 fails over when the session expires: {elects:?}");
    // Nobody elected a leader between the restart and the session's expiry.
    assert!(elects.iter().all(|&t| t >= 14_000_000), "{elects:?}");
    let isr: Vec<(u64, u64)> = steps(yaml, "isr")
        .into_iter()
        .filter(|(_, v)| v["partition"] == 0)
        .map(|(t, v)| (t, v["isr_brokers"].as_u64().expect("mask")))
        .collect();
    assert_eq!(
        isr.first().map(|&(t, mask)| (t, mask & 1)),
        Some((14_000_000, 0)),
        "broker-0 leaves the ISR at 14 s: {isr:?}"
    );
    // The new incarnation registers then, follows and catches up: back in the ISR.
    assert!(isr.iter().any(|&(t, mask)| t > 14_000_000 && mask & 1 == 1), "{isr:?}");
}
