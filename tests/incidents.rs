//! The incident catalogue (`scenarios/incidents/`): every `NAME.yaml` reproduces a documented
//! Kafka failure and `NAME-fix.yaml` is the same run with the fix. The generic tests go over
//! the whole folder (a new incident file is covered without code); the named tests pin each
//! incident of docs/incidents.md against its source.
//!
//! What "the anomaly" is, is read from the incident's own `expect:`: each expectation of the
//! form `METRIC: "> N"` (or `>=`) pins an anomaly, and the fix twin must bring every one of
//! them to `<= N` (the incident's expectation fails on the twin's run) while the twin's own
//! expectations hold.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use streamsim::oracle::explain::Cause;
use streamsim::scenario::{load_file, Cmp, Scenario};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("incidents")
}

fn is_fix(p: &Path) -> bool {
    p.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.ends_with("-fix"))
}

/// Every incident file (not the twins), sorted.
fn incidents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("scenarios/incidents/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml") && !is_fix(p))
        .collect();
    files.sort();
    files
}

fn twin(incident: &Path) -> PathBuf {
    let stem = incident.file_stem().unwrap().to_str().unwrap();
    incident.with_file_name(format!("{stem}-fix.yaml"))
}

fn load(path: &Path) -> Scenario {
    load_file(path).unwrap_or_else(|e| panic!("{e}")).scenario
}

fn named(name: &str) -> PathBuf {
    dir().join(format!("{name}.yaml"))
}

/// Counts that are anomalies when they are above zero: an incident may pin one exactly
/// (`lost: 100`) rather than as a bound.
const ANOMALY_COUNTS: [&str; 6] = ["lost", "lost_acked", "lost_writes", "duplicates", "reordered", "skipped"];

/// The anomaly expectations of an incident: its `> N` / `>= N` lines, and an anomaly count
/// pinned exactly above zero.
fn anomalies(sc: &Scenario) -> Vec<streamsim::scenario::Expectation> {
    let exact = |e: &streamsim::scenario::Expectation| {
        e.cmp == Cmp::Eq && e.value > 0.0 && ANOMALY_COUNTS.contains(&e.name.as_str())
    };
    sc.expect.iter().filter(|e| matches!(e.cmp, Cmp::Gt | Cmp::Ge) || exact(e)).cloned().collect()
}

/// The incident's expectations hold; its fix twin's hold too; and every anomaly the incident
/// pins is gone in the twin's run (the incident's `> N` fails there). Returns the twin's
/// actual value of each anomaly metric.
fn fix_removes_anomaly(incident: &Path) -> Vec<(String, f64)> {
    let sc = load(incident);
    let pinned = anomalies(&sc);
    assert!(!pinned.is_empty(), "{}: no `> N` expectation pins the anomaly", incident.display());
    let s = streamsim::simulate(sc).expect("the incident runs").summary;
    if let Some(e) = s.expectations.iter().find(|e| !e.pass) {
        panic!("{}: {} expected {}, actual {}", incident.display(), e.name, e.expected, e.actual);
    }
    let fix = twin(incident);
    assert!(fix.exists(), "{}: no fix twin {}", incident.display(), fix.display());
    let mut twin_sc = load(&fix);
    let own = twin_sc.expect.clone();
    // A line the twin pins the same way is the setting both share (the transaction that
    // aborts in both), not the anomaly.
    let pinned: Vec<_> =
        pinned.into_iter().filter(|e| !own.iter().any(|o| o.name == e.name && o.text == e.text)).collect();
    assert!(!pinned.is_empty(), "{}: every anomaly line is shared with the twin", incident.display());
    twin_sc.expect = own.iter().cloned().chain(pinned.iter().cloned()).collect();
    let t = streamsim::simulate(twin_sc).expect("the twin runs").summary;
    let mut actual = Vec::new();
    for (i, e) in t.expectations.iter().enumerate() {
        if i < own.len() {
            assert!(e.pass, "{}: {} expected {}, actual {}", fix.display(), e.name, e.expected, e.actual);
        } else {
            assert!(!e.pass, "{}: the anomaly {} {} is still there: {}", fix.display(), e.name, e.expected, e.actual);
            actual.push((e.name.clone(), e.actual));
        }
    }
    actual
}

#[test]
fn check_of_the_incident_folder_passes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["check", dir().to_str().unwrap(), "--require-expect"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(" 0 failed, 0 could not run"), "{text}");
}

/// Every incident has a fix twin, and each twin removes what its incident pins.
#[test]
fn every_fix_twin_removes_its_incidents_anomaly() {
    let files = incidents();
    assert!(files.len() >= 10, "the catalogue is found: {files:?}");
    files.par_iter().for_each(|f| {
        fix_removes_anomaly(f);
    });
}

/// Every incident's anomalies (and its twin's) have a traced cause; none is `unexplained`,
/// and explain's stories count what the summary counts.
#[test]
fn every_incident_anomaly_is_explained() {
    let files: Vec<PathBuf> = incidents().into_iter().flat_map(|f| [twin(&f), f]).filter(|f| f.exists()).collect();
    files.par_iter().for_each(|f| {
        let e = streamsim::simulate_explained(load(f)).expect("runs");
        let (s, x) = (&e.summary, &e.explanation);
        // A story told for two kinds (a plain sink's duplicate that is also a redelivery) counts under each.
        let kinds: usize = x.stories.iter().map(|s| 1 + usize::from(s.also.is_some())).sum();
        assert_eq!(x.causes.iter().map(|c| c.2).sum::<usize>(), kinds, "{}", f.display());
        use streamsim::oracle::explain::Anomaly;
        assert_eq!(x.count(Anomaly::Lost) as u64, s.lost, "{}: a story per lost record", f.display());
        assert_eq!(x.count(Anomaly::Duplicate) as u64, s.duplicates, "{}: a story per duplicate", f.display());
        assert_eq!(x.count(Anomaly::LostWrite) as u64, s.lost_writes, "{}: a story per lost write", f.display());
        for story in &x.stories {
            assert!(!matches!(story.cause, Cause::Unexplained { .. }), "{}: {}", f.display(), story.cause_text);
            assert!(!story.cause_text.starts_with("unexplained"), "{}: {}", f.display(), story.cause_text);
        }
    });
}

/// The incidents' expectations hold on seeds other than the file's own (the files were
/// pinned over seeds 0..100 with `streamsim sweep`; STREAMSIM_SWEEP_SEEDS=100 re-checks that).
#[test]
fn incident_expectations_hold_across_seeds() {
    let n: u64 = std::env::var("STREAMSIM_SWEEP_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    let failed: Vec<String> = files
        .par_iter()
        .flat_map_iter(|f| (0..n).map(move |seed| (f, seed)))
        .flat_map_iter(|(f, seed)| {
            let mut sc = load(f);
            sc.seed = seed;
            let s = streamsim::simulate(sc).expect("runs").summary;
            s.expectations.into_iter().filter(|e| !e.pass).map(move |e| {
                format!("{}: seed {seed}: {} expected {}, actual {}", f.display(), e.name, e.expected, e.actual)
            })
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// `streamsim incidents --json` lists every incident file with its description and twin.
#[test]
fn incidents_command_lists_the_folder() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["incidents", dir().to_str().unwrap(), "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = v["incidents"].as_array().expect("a list");
    assert_eq!(list.len(), incidents().len());
    for i in list {
        assert!(!i["description"].as_str().unwrap().is_empty(), "{i}");
        assert!(i["fix"].as_str().is_some_and(|f| f.ends_with("-fix.yaml")), "{i}");
    }
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["incidents", "/nonexistent-incidents"])
        .output()
        .expect("runs");
    assert_eq!(text.status.code(), Some(2), "a missing folder is bad input");
}

fn actual(list: &[(String, f64)], metric: &str) -> f64 {
    list.iter().find(|(n, _)| n == metric).unwrap_or_else(|| panic!("{metric} not pinned: {list:?}")).1
}

/// Incident 1. Kafka producer docs (`acks`) and KIP-679: acks=1, the default before 3.0,
/// loses what the leader acknowledged before its followers fetched it; acks=all (3.0's
/// default) loses nothing.
#[test]
fn acks_1_leader_crash_kip_679_fix_acks_all() {
    let a = fix_removes_anomaly(&named("acks-1-leader-crash"));
    assert_eq!(actual(&a, "lost_acked"), 0.0);
    assert_eq!(actual(&a, "lost_writes"), 0.0);
}

/// Incident 2. Jepsen, "Call me maybe: Kafka" (2013): acks=all over an ISR shrunk to the
/// leader loses acknowledged writes; min.insync.replicas=2 (KAFKA-1555) refuses them instead.
#[test]
fn jepsen_2013_isr_shrink_fix_min_insync_replicas() {
    let a = fix_removes_anomaly(&named("jepsen-2013-isr-shrink"));
    assert_eq!(actual(&a, "lost_acked"), 0.0);
}

/// Incident 3. KIP-106 (KAFKA-4623): unclean leader election, the default before 0.11,
/// elects a stale replica; unclean.leader.election.enable=false waits and loses nothing.
#[test]
fn unclean_election_kip_106_fix_clean_elections_only() {
    let a = fix_removes_anomaly(&named("unclean-election-stale-leader"));
    assert_eq!(actual(&a, "lost_writes"), 0.0);
}

/// Incident 5. KIP-966, last replica standing: the last ISR member loses power with an
/// unflushed tail and leads with a short log; Eligible Leader Replicas elect a full one.
#[test]
fn last_replica_standing_kip_966_fix_eligible_leader_replicas() {
    let a = fix_removes_anomaly(&named("kip-966-last-replica-standing"));
    assert_eq!(actual(&a, "lost_writes"), 0.0);
}

/// Incident 6. Kafka producer docs (max.in.flight.requests.per.connection) and librdkafka's
/// INTRODUCTION.md: retries without idempotence, 5 in flight, duplicate and reorder;
/// enable.idempotence=true (KIP-98) removes both.
#[test]
fn retries_without_idempotence_fix_idempotent_producer() {
    let a = fix_removes_anomaly(&named("retries-without-idempotence"));
    assert_eq!(actual(&a, "duplicates"), 0.0);
    assert_eq!(actual(&a, "reordered"), 0.0);
}

/// Incident 7. Jepsen, "Bufstream 0.1.0" and its correction: auto-commit with a worker queue
/// loses records (lag 0); the Java client's auto-commit with processing in the poll loop
/// commits the penultimate poll and is at-least-once.
#[test]
fn auto_commit_async_workers_jepsen_bufstream_fix_sync_processing() {
    let a = fix_removes_anomaly(&named("auto-commit-async-workers"));
    assert_eq!(actual(&a, "lost"), 0.0);
}

/// Incident 7, librdkafka's side (CONFIGURATION.md, enable.auto.offset.store): the offset of
/// a message is stored when it is returned, so the timer commit loses what a crash interrupts;
/// enable.auto.offset.store=false stores after processing.
#[test]
fn librdkafka_auto_offset_store_fix_store_after_processing() {
    let a = fix_removes_anomaly(&named("librdkafka-auto-offset-store"));
    assert_eq!(actual(&a, "lost"), 0.0);
}

/// Incident 8. KIP-62 (max.poll.interval.ms) and the CommitFailedException message: batches
/// slower than the poll interval make a rebalance storm with duplicates; smaller batches and
/// cooperative-sticky (KIP-429) remove it.
#[test]
fn rebalance_storm_kip_62_fix_max_poll_records_cooperative() {
    let a = fix_removes_anomaly(&named("rebalance-storm-eager"));
    assert_eq!(actual(&a, "duplicates"), 0.0);
    assert_eq!(actual(&a, "commits_failed"), 0.0);
}

/// AbstractCoordinator: a cooperative member busy outside poll() while a rebalance completes
/// has the new generation already (its heartbeat thread handled JoinGroup and SyncGroup:
/// JoinGroupResponseHandler sets the generation, SyncGroupResponseHandler the state STABLE),
/// so its commit is accepted; and HeartbeatResponseHandler ignores REBALANCE_IN_PROGRESS and
/// ILLEGAL_GENERATION while its join is under way. Before this was modelled, every seed of the
/// rebalance-storm fix failed commits and rejoined again and again (6 to 19 rebalances).
#[test]
fn cooperative_member_busy_during_rebalance_commits_in_new_generation_abstract_coordinator() {
    let base = load(&named("rebalance-storm-eager-fix"));
    for seed in 0..4 {
        let mut sc = base.clone();
        sc.seed = seed;
        let s = streamsim::simulate(sc).expect("runs").summary;
        assert_eq!(s.commits_failed, 0, "seed {seed}");
        assert_eq!(s.rebalances, 3, "seed {seed}: the first join, the scale-out, its cooperative follow-up");
    }
}

/// Incident 13. AWS, "Handle duplicate records": Kinesis duplicates from producer retries and
/// KCL restarts; Kafka's idempotent producer and a sink keyed by record remove them.
#[test]
fn kinesis_duplicates_aws_fix_idempotent_producer_and_keyed_sink() {
    let a = fix_removes_anomaly(&named("kinesis-duplicates"));
    assert_eq!(actual(&a, "duplicates"), 0.0);
}

/// Incident 14. KIP-345: a rolling restart of dynamic members rebalances on every stop and
/// start, stopping the group each time; group.instance.id makes it no rebalance at all.
#[test]
fn rolling_restart_kip_345_fix_static_membership() {
    let a = fix_removes_anomaly(&named("rolling-restart-dynamic"));
    assert_eq!(actual(&a, "stop_the_world_ms"), 0.0);
}

/// Incident 15. KIP-890's motivation: a produce request of an aborted transaction, held by
/// a network partition, lands after the abort marker at the same epoch
/// (ProducerAppendInfo.checkProducerEpoch takes it) and the next commit marker completes the
/// producer's open transaction from its first offset, the late write included: read_committed
/// readers see the records twice. transaction.version 2 (Kafka 4.0 clusters, KIP-890 part 2)
/// bumps the epoch at every end, so the late write is fenced; and explain names the cause.
#[test]
fn delayed_write_joins_next_transaction_kip_890_fix_transaction_version_2() {
    let incident = named("delayed-write-next-transaction");
    let a = fix_removes_anomaly(&incident);
    assert_eq!(actual(&a, "duplicates"), 0.0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(["explain", incident.to_str().unwrap()])
        .output()
        .expect("explain runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reached the log after the abort marker"), "{text}");
    assert!(text.contains("the late copy is committed with the next transaction"), "{text}");
    assert!(!text.contains("read_uncommitted read both"), "{text}");
}
