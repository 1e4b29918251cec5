//! The transaction and error-classification incidents of
//! `scenarios/incidents/`: for each, its anomaly comes out of the model's
//! mechanics (checked against the summary, and every story of it explained
//! with the incident's cause, never "unexplained"), and its fix twin
//! (`NAME-fix.yaml`) removes it. Each test names the source and the Kafka
//! class whose behaviour it pins.

use std::path::Path;

use streamsim::oracle::explain::{Anomaly, Cause};
use streamsim::scenario::load_file;
use streamsim::Explained;

fn explain(name: &str) -> Explained {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/incidents").join(format!("{name}.yaml"));
    let sc = load_file(&path).unwrap_or_else(|e| panic!("{e}")).scenario;
    streamsim::simulate_explained(sc).expect("runs")
}

/// Every story of `anomaly` in `e` has a cause `is_cause` accepts (so none
/// is unexplained) and a chain of at least three steps; returns how many.
fn all_explained(name: &str, e: &Explained, anomaly: Anomaly, is_cause: impl Fn(&Cause) -> bool) -> usize {
    let stories: Vec<_> = e.explanation.stories.iter().filter(|s| s.anomaly == anomaly).collect();
    for s in &stories {
        assert!(is_cause(&s.cause), "{name}: {:?} story with cause {}\n{}", anomaly, s.cause_text, s.text());
        assert!(s.chain.len() >= 3, "{name}: a chain, not a label:\n{}", s.text());
    }
    stories.len()
}

/// KAFKA-13574: NOT_LEADER_OR_FOLLOWER for a produce request whose batch the
/// new leader already holds (ReplicaManager completes a DelayedProduce with
/// it when leadership moves). With `retries: 0` the application's callback
/// sees it and, taking it as definite (`on_failure: resend`), sends the
/// record again: two copies in the log, duplicate effects, and resends behind
/// later records.
#[test]
fn kafka_13574_not_leader_resend_by_the_application_duplicates_written_records() {
    let name = "not-leader-resend";
    let e = explain(name);
    let s = &e.summary;
    assert!(s.duplicates > 0, "{name}: the resent records are applied twice");
    assert_eq!((s.failed, s.lost), (0, 0), "{name}: the application resends every failure");
    assert!(s.written > s.produced, "{name}: the log holds more copies than records produced");
    let dup = all_explained(name, &e, Anomaly::Duplicate, |c| matches!(c, Cause::ResentByApp { landed: true, .. }));
    assert_eq!(dup as u64, s.duplicates);
    let re = all_explained(name, &e, Anomaly::Reordered, |c| matches!(c, Cause::ResentByApp { .. }));
    assert_eq!(re as u64, s.reordered);
}

/// The fix: Sender retries NOT_LEADER_OR_FOLLOWER itself (a retriable
/// error) with the batch's sequence number, and the new leader's
/// ProducerStateManager answers the retry as a duplicate of the batch it
/// holds. send() never fails, so the application never resends.
#[test]
fn kafka_13574_fix_idempotent_retry_is_deduplicated() {
    let name = "not-leader-resend-fix";
    let s = explain(name).summary;
    assert_eq!((s.duplicates, s.reordered, s.failed, s.lost), (0, 0, 0, 0), "{name}");
    assert_eq!(s.written, s.produced, "{name}: one copy per record");
}

/// KAFKA-17582: KafkaConsumer keeps its position through abortTransaction
/// (the seek is the application's: ExactlyOnceMessageProcessor's
/// resetToLastCommittedPositions). A consumer whose transaction the
/// coordinator aborted (TransactionCoordinator.abortTimedOutTransactions)
/// and that polls on without a seek (`on_abort: continue`) commits past the
/// aborted batch: one whole batch lost, each record's story explained.
#[test]
fn kafka_17582_abort_without_seek_loses_the_aborted_batch() {
    let name = "abort-without-rewind";
    let e = explain(name);
    let s = &e.summary;
    assert_eq!(s.lost, 100, "{name}: the aborted batch (max.poll.records) is lost");
    assert_eq!(s.duplicates, 0, "{name}");
    assert!(s.transactions_aborted >= 1, "{name}");
    let lost = all_explained(name, &e, Anomaly::Lost, |c| matches!(c, Cause::NoRewindOnAbort { .. }));
    assert_eq!(lost as u64, s.lost);
}

/// The fix: the seek to the committed offsets after the abort; the batch is
/// processed again in the next transaction.
#[test]
fn kafka_17582_fix_rewind_after_abort_reprocesses_the_batch() {
    let name = "abort-without-rewind-fix";
    let s = explain(name).summary;
    assert!(s.transactions_aborted >= 1, "{name}: the same abort happens");
    assert_eq!((s.lost, s.duplicates, s.pending), (0, 0, 0), "{name}");
}
