//! Pins what our scenarios do: run each, snapshot the stable view of its outcome.
//!
//! `cargo test` fails when a snapshot changes; `cargo insta review` shows the diff and
//! accepts or rejects it (docs/snapshot-testing.md in streamsim).

use streamsim::{Scenario, Simulation};

/// One scenario, pinned by name, with its causes (the steps are kept to explain them).
#[test]
fn commit_before_processing_loses_records() {
    let scenario = Scenario::from_file("scenarios/commit-before-processing.yaml").unwrap();
    let outcome = Simulation::new(&scenario).keep_steps(true).run().unwrap();
    // What this test is for, said as code as well as in the snapshot:
    assert!(outcome.summary().lost > 0);
    insta::assert_yaml_snapshot!(outcome.snapshot());
}

/// Every scenario of the folder, one snapshot each (named after the file).
#[test]
fn every_scenario() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let scenario = Scenario::from_file(path).unwrap();
        let outcome = Simulation::new(&scenario).keep_steps(true).run().unwrap();
        insta::assert_yaml_snapshot!(outcome.snapshot());
    });
}

/// The same file under another seed and config, as `streamsim run --seed 7
/// --producer-property acks=1` would run it.
#[test]
fn leader_crash_with_acks_1() {
    let scenario = Scenario::from_file("scenarios/leader-crash-acks-all.yaml").unwrap();
    let outcome = Simulation::new(&scenario).seed(7).producer_property("acks", "1").run().unwrap();
    assert!(outcome.summary().lost_acked > 0, "acks=1 loses acknowledged records at the failover");
    insta::assert_yaml_snapshot!(outcome.snapshot());
}
