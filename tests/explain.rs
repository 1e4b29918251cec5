//! Explanations: every anomaly of every shipped scenario gets a cause, and
//! the causes are the mechanisms the scenarios describe.

use std::path::Path;

use streamsim::oracle::explain::{cause_lines, Anomaly};
use streamsim::scenario::load_file;

fn explain(name: &str) -> (streamsim::oracle::checkers::Summary, streamsim::oracle::explain::Explanation) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(format!("{name}.yaml"));
    let sc = load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario;
    streamsim::simulate_explained(sc).expect("runs")
}

const SHIPPED: [&str; 16] = [
    "aborted-transactions",
    "acks-1-leader-failover",
    "at-least-once",
    "at-most-once",
    "auto-commit-async",
    "backpressure",
    "cooperative-vs-eager",
    "exactly-once",
    "homework",
    "isr-shrink-jepsen-2013",
    "kinesis-vs-kafka",
    "offset-reset-latest",
    "out-of-order",
    "rebalance-storm",
    "retries-reorder",
    "unclean-election",
];

/// Every lost record and every duplicate has a story, and the causes add up
/// to the counts; the causes are pinned per scenario.
#[test]
fn every_anomaly_of_every_shipped_scenario_has_a_cause() {
    let mut pinned = String::new();
    for name in SHIPPED {
        let (s, e) = explain(name);
        let lost = e.stories.iter().filter(|x| x.anomaly == Anomaly::Lost).count() as u64;
        let dups = e.causes.iter().filter(|c| c.0 == Anomaly::Duplicate).map(|c| c.2).sum::<usize>() as u64;
        assert_eq!(lost, s.lost, "{name}: a story per lost record");
        assert!(dups <= s.duplicates && (s.duplicates == 0) == (dups == 0), "{name}: {dups} vs {}", s.duplicates);
        let reordered = e.stories.iter().filter(|x| x.anomaly == Anomaly::Reordered).count() as u64;
        assert_eq!(reordered, s.reordered, "{name}: a story per reordering");
        let late = e.stories.iter().filter(|x| x.anomaly == Anomaly::Late).count() as u64;
        assert_eq!(late, s.late_events, "{name}: a story per late event");
        pinned.push_str(&format!("{name}:\n"));
        for line in cause_lines(&e).iter().take(4) {
            pinned.push_str(&format!("  {line}\n"));
        }
    }
    insta::assert_snapshot!("explain-causes", pinned);
}

#[test]
fn the_causes_are_the_mechanisms_the_scenarios_describe() {
    let lines = |name| cause_lines(&explain(name).1);
    assert_eq!(lines("at-most-once"), ["40 lost records, one cause: crash of billing-0 at 20.000s"]);
    assert_eq!(lines("at-least-once"), ["34 duplicates, one cause: crash of billing-0 at 20.000s"]);
    let acks1 = lines("acks-1-leader-failover");
    assert_eq!(
        acks1[0],
        "38 reordered records, one cause: retries without idempotence reordered batches (5 requests in flight)"
    );
    assert_eq!(acks1[1], "9 lost records, one cause: crash of broker-0 at 10.000s");
    assert!(lines("offset-reset-latest")[0].contains("auto.offset.reset=latest"));
    assert!(lines("retries-reorder")[0].contains("retries without idempotence"));
    assert!(lines("aborted-transactions")[0].contains("aborted"));
    assert!(lines("rebalance-storm")[0].contains("max.poll.interval.ms"));
    assert!(lines("out-of-order")[0].contains("mobile-0 was offline"), "{:?}", lines("out-of-order"));
    let (_, e) = explain("acks-1-leader-failover");
    let story = &e.stories[0].text;
    for part in ["acknowledged at", "broker-0 crashed at 10.000s", "became leader", "truncated"] {
        assert!(story.contains(part), "{story}");
    }
}

/// A chaos failure minimizes to a strictly smaller scenario that loads, and
/// fails the same expectation.
#[test]
fn minimizing_a_chaos_failure_gives_a_smaller_failing_scenario() {
    use streamsim::oracle::minimize::{failing, minimize, rewrite};
    let yaml = "name: chaos-alo
seed: 3
duration: 40s
drain: 60s
semantics: at-least-once
brokers: 3
topics:
  - { name: t, partitions: 4, replication.factor: 3, config: { min.insync.replicas: 2 } }
producers:
  - { name: p, rate: 200/s, keys: 40 }
consumers:
  - { group: g, instances: 2, processing_time: { exp: 4ms }, config: { session.timeout.ms: 8000, max.poll.records: 50 } }
chaos:
  from: 3s
  until: 35s
  crash: { rate: 6/min, down: { uniform: [500ms, 12s] }, targets: [brokers, consumers] }
  pause: { rate: 3/min, for: { uniform: [100ms, 15s] }, targets: [consumers, brokers] }
expect:
  duplicates: 0
";
    let sc = streamsim::scenario::load_str(yaml, "chaos.yaml").expect("valid").scenario;
    assert_eq!(failing(&sc), Some(vec!["duplicates".to_string()]));
    let m = minimize(sc).expect("it fails, so it minimizes");
    let smaller = m.scenario.faults.len() < m.faults_before || m.scenario.duration < m.duration_before;
    assert!(
        smaller,
        "{} faults of {}, {} of {}",
        m.scenario.faults.len(),
        m.faults_before,
        m.scenario.duration,
        m.duration_before
    );
    assert!(m.scenario.faults.len() <= 3, "{:?}", m.scenario.faults);
    let text = rewrite(yaml, &m);
    assert!(!text.contains("chaos:") && text.contains("Minimized by"), "{text}");
    let again = streamsim::scenario::load_str(&text, "min.yaml").unwrap_or_else(|e| panic!("{e}\n{text}")).scenario;
    assert_eq!(again.faults.len(), m.scenario.faults.len());
    assert!(failing(&again).is_some_and(|f| f.contains(&"duplicates".to_string())), "{text}");
    // Deterministic.
    let m2 = minimize(streamsim::scenario::load_str(yaml, "chaos.yaml").unwrap().scenario).unwrap();
    assert_eq!(rewrite(yaml, &m2), text);
}
