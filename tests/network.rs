//! The network against TCP and Kafka's clients: partitions stall
//! connections (Linux retransmission, RTO from 200 ms doubling), only
//! timeouts break them (`NetworkClient.handleTimedOutRequests`,
//! `Partition.maybeShrinkIsr`), `network.loss` resets them, and the two
//! crash kinds differ in what the clients hear. Each test names Kafka's
//! answer and the class it follows.

use streamsim::scenario::load_str;
use streamsim::simulate_with;

/// Every step of a traced run.
fn trace(yaml: &str) -> Vec<serde_json::Value> {
    let sc = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
    // Tests run in parallel and two may trace the same scenario: each run gets its own file.
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("streamsim-network-{}-{:x}-{n}.jsonl", std::process::id(), fxhash(yaml));
    let path = std::env::temp_dir().join(name);
    let file = std::fs::File::create(&path).expect("temp file");
    simulate_with(sc, &mut |_| {}, Some(std::io::BufWriter::new(file)), false).expect("run completes");
    let text = std::fs::read_to_string(&path).expect("trace written");
    std::fs::remove_file(&path).ok();
    text.lines().skip(1).map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// What a run's trace says about its producer: records sent and acked, the
/// longest send → ack time (s) with its send time, and every retry as
/// (time s, error code).
struct Acks {
    sent: usize,
    acked: usize,
    failed: usize,
    max_wait_s: f64,
    max_wait_sent_s: f64,
    retries: Vec<(f64, u64)>,
}

fn acks(steps: &[serde_json::Value]) -> Acks {
    let mut sent = std::collections::BTreeMap::new();
    let mut a = Acks { sent: 0, acked: 0, failed: 0, max_wait_s: 0.0, max_wait_sent_s: 0.0, retries: Vec::new() };
    let secs = |v: &serde_json::Value| v["t"].as_u64().expect("t") as f64 / 1e6;
    for v in steps {
        match v["kind"].as_str() {
            Some("send") => {
                sent.insert(v["record"].as_u64().unwrap(), secs(v));
                a.sent += 1;
            }
            Some("ack") => {
                let from = sent[&v["record"].as_u64().unwrap()];
                a.acked += 1;
                if secs(v) - from > a.max_wait_s {
                    (a.max_wait_s, a.max_wait_sent_s) = (secs(v) - from, from);
                }
            }
            Some("fail") => a.failed += 1,
            Some("retry") => a.retries.push((secs(v), v["error"].as_u64().unwrap())),
            _ => {}
        }
    }
    a
}

/// `SendError` codes in the trace (docs/trace-format.md).
const DISCONNECTED: u64 = 3;
const REQUEST_TIMEOUT: u64 = 7;

/// Kafka's answer: a 5 s partition between the leader and its in-sync
/// follower drops packets but closes nothing. The follower's fetch (and the
/// leader's answer) is retransmitted by TCP, RTO 200 ms doubling (Linux
/// `TCP_RTO_MIN`, `tcp_retransmit_timer`: at 0.2, 0.6, 1.4, 3.0 and 6.2 s),
/// so it arrives at the first retransmission after the heal, 6.2 s after the
/// cut; the follower stays in the ISR (`Partition.maybeShrinkIsr` waits
/// replica.lag.time.max.ms, 30 s) and acks=all writes wait about 5–7 s, not
/// the 30 s of a request or socket timeout. Nothing fails or is retried.
#[test]
fn tcp_retransmission_a_5_s_partition_between_leader_and_follower_stalls_acks_all_for_5_to_7_s_not_30() {
    let yaml = "name: t
duration: 20s
drain: 10s
brokers: 2
network: { latency: 1ms }
topics: [{ name: t, partitions: 1, replication.factor: 2, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: { constant: 100/s }, keys: 10, config: { acks: all } }]
faults:
  - { at: 5s, partition: [broker-0, broker-1], for: 5s }
";
    let steps = trace(yaml);
    let a = acks(&steps);
    assert_eq!((a.sent, a.acked, a.failed), (2_000, 2_000, 0));
    assert!(a.retries.is_empty(), "no request timed out or failed: {:?}", &a.retries[..a.retries.len().min(5)]);
    assert!((5.0..7.0).contains(&a.max_wait_s), "acks=all stalled {} s", a.max_wait_s);
    assert!((4.9..5.1).contains(&a.max_wait_sent_s), "the longest wait is a record sent as the cut began");
    let shrinks = steps.iter().filter(|v| v["kind"] == "isr" && v["t"].as_u64().unwrap() > 0).count();
    assert_eq!(shrinks, 0, "the follower never left the ISR");
}

/// Kafka's answer (`NetworkClient.handleTimedOutRequests`): a connection is
/// closed only when one of its requests waited request.timeout.ms. A 10 s
/// partition between a producer and its leader, shorter than the 30 s
/// request timeout, breaks nothing: with retries=0 no send fails, nothing
/// is retried, and every record waits at most the cut plus the
/// retransmission after it (RTO doubling: 12.6 s). With request.timeout.ms
/// 3 s the same cut times the requests out and the producer retries them
/// (`Sender` retries a batch whose request timed out).
#[test]
fn network_client_a_partition_shorter_than_request_timeout_loses_no_connection_and_fails_nothing() {
    let yaml = |timeout_ms: u32| {
        format!(
            "name: t
duration: 20s
drain: 20s
brokers: 1
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: 1, replication.factor: 1 }}]
producers:
  - {{ name: p, rate: {{ constant: 100/s }}, keys: 10, config: {{ acks: 1, enable.idempotence: false, retries: {retries}, request.timeout.ms: {timeout_ms} }} }}
faults:
  - {{ at: 5s, partition: [p-0, broker-0], for: 10s }}
",
            retries = if timeout_ms < 10_000 { 5 } else { 0 }
        )
    };
    let a = acks(&trace(&yaml(30_000)));
    assert_eq!((a.sent, a.acked, a.failed), (2_000, 2_000, 0));
    assert!(a.retries.is_empty(), "{:?}", &a.retries[..a.retries.len().min(5)]);
    assert!((10.0..13.0).contains(&a.max_wait_s), "{} s", a.max_wait_s);
    let short = acks(&trace(&yaml(3_000)));
    assert_eq!(short.failed, 0);
    assert!(short.retries.iter().any(|&(t, e)| e == REQUEST_TIMEOUT && (8.0..8.2).contains(&t)), "{:?}", short.retries);
}

/// A producer into one partition led by broker-0 (of 3), which goes down at
/// 5 s by `fault` and stays down.
fn leader_down(fault: &str) -> String {
    format!(
        "name: t
duration: 40s
drain: 40s
brokers: 3
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: 1, replication.factor: 3 }}]
producers: [{{ name: p, rate: {{ constant: 100/s }}, keys: 10 }}]
faults:
  - {{ at: 5s, {fault}: broker-0 }}
"
    )
}

/// Kafka's answer: a process crash leaves the machine's kernel, which
/// refuses connects and resets the connection (RST), so `NetworkClient`
/// sees a disconnect at once, and `Sender` holds the partition's batches
/// (the node is not ready) until the controller fences the broker after
/// broker.session.timeout.ms (9 s) and metadata names a new leader: no
/// record waits much more than 9 s. A host crash (power loss) sends
/// nothing: the requests already written to the dead machine wait out
/// request.timeout.ms (30 s, `NetworkClient.handleTimedOutRequests`) before
/// they fail and are retried at the new leader, so they wait about 30 s.
#[test]
fn network_client_a_host_crash_waits_for_request_timeout_a_process_crash_does_not() {
    let process = acks(&trace(&leader_down("crash")));
    assert_eq!((process.acked, process.failed), (4_000, 0));
    assert!((8.5..9.5).contains(&process.max_wait_s), "process crash: {} s", process.max_wait_s);
    assert!(process.retries.iter().all(|&(_, e)| e != REQUEST_TIMEOUT), "{:?}", process.retries);
    let host = acks(&trace(&leader_down("host_crash")));
    assert_eq!((host.acked, host.failed), (4_000, 0));
    assert!((29.5..31.5).contains(&host.max_wait_s), "host crash: {} s", host.max_wait_s);
    let first_timeout = host.retries.iter().find(|&&(_, e)| e == REQUEST_TIMEOUT).expect("a request timed out");
    assert!((35.0..35.1).contains(&first_timeout.0), "the first request timed out at {} s", first_timeout.0);
}

/// Kafka's answer (`RecordAccumulator.shouldStopDrainBatchesForPartition`,
/// `TransactionManager.canRetry`): after a host crash the idempotent
/// producer's first batches wait on the dead machine for request.timeout.ms,
/// while the batches it sends to the new leader (fenced and replaced after
/// about 9 s) get OutOfOrderSequence, since the sequences before them never
/// arrived. Each is retried (its sequence is not the last acknowledged + 1,
/// so no epoch bump) but, now holding a sequence that is not the partition's
/// first in flight, it stays in the accumulator until the earlier batches
/// come back for retry at the request timeout: one OutOfOrderSequence per
/// batch, all at once, not one every retry backoff until the timeout.
#[test]
fn record_accumulator_holds_a_retried_batch_until_it_is_first_in_flight_after_a_host_crash() {
    let steps = trace(&leader_down("host_crash"));
    let a = acks(&steps);
    assert_eq!((a.acked, a.failed), (4_000, 0));
    const OUT_OF_ORDER_SEQUENCE: u64 = 4;
    let oos: Vec<&serde_json::Value> =
        steps.iter().filter(|v| v["kind"] == "retry" && v["error"] == OUT_OF_ORDER_SEQUENCE).collect();
    assert!(!oos.is_empty(), "the new leader refused the later batches");
    let mut per_record = std::collections::BTreeMap::new();
    for v in &oos {
        *per_record.entry(v["record"].as_u64().unwrap()).or_insert(0) += 1;
    }
    assert!(per_record.values().all(|&n| n == 1), "a retried batch is held, not sent again every backoff");
    let t = |v: &serde_json::Value| v["t"].as_u64().unwrap() as f64 / 1e6;
    let (first, last) = (t(oos[0]), t(oos[oos.len() - 1]));
    assert!((13.5..15.5).contains(&first), "refused once the new leader is known: {first} s");
    assert!(last - first < 0.1, "all refused in the first round trips, {first} to {last} s");
    assert!((29.5..31.5).contains(&a.max_wait_s), "the first batches wait for the request timeout: {} s", a.max_wait_s);
}

/// Kafka's answer (`AbstractFetcherThread.processFetchRequest`,
/// `BrokerBlockingSender.sendRequest`, `NetworkClientUtils.sendAndReceive`):
/// a follower's fetcher thread for a leader whose machine lost power waits
/// for its fetch's answer until the broker's request.timeout.ms (30 s), then
/// closes the connection and delays the session's partitions by
/// replica.fetch.backoff.ms (1 s). Nothing resets the connection, not even
/// the machine coming back. Here broker-0 (leader) loses power at 5 s and
/// is back at 6 s; it registers when its old session expires (14 s) and
/// follows broker-1. broker-1 crashes at 20 s, and at 29 s broker-0 leads
/// again with ISR [0, 2]; broker-2's fetcher thread for broker-0 is still
/// waiting on the fetch it sent just before 5 s, so it first fetches from
/// broker-0 at about 5 + 30 + 1 = 36 s, and acks=all writes stall until then.
#[test]
fn abstract_fetcher_thread_waits_for_the_request_timeout_after_its_leaders_host_crash() {
    let yaml = "name: t
duration: 50s
drain: 20s
brokers: 3
network: { latency: 1ms }
topics: [{ name: t, partitions: 1, replication.factor: 3, config: { min.insync.replicas: 2 } }]
producers: [{ name: p, rate: { constant: 100/s }, keys: 10, config: { acks: all, request.timeout.ms: 5000 } }]
faults:
  - { at: 5s, host_crash: broker-0 }
  - { at: 6s, restart: broker-0 }
  - { at: 20s, crash: broker-1 }
";
    let steps = trace(yaml);
    let t = |v: &serde_json::Value| v["t"].as_u64().unwrap() as f64 / 1e6;
    let elected = steps.iter().find(|v| v["kind"] == "elect" && v["leader"] == 0 && t(v) > 5.0).expect("re-elected");
    assert!((28.9..29.1).contains(&t(elected)), "broker-0 leads again at {} s", t(elected));
    let first_copy = steps
        .iter()
        .find(|v| v["kind"] == "replicate" && v["broker"] == 2 && v["source"] == 0 && t(v) > 5.0)
        .expect("broker-2 copies from broker-0 again");
    assert!((35.9..36.1).contains(&t(first_copy)), "broker-2's first fetch from broker-0 at {} s", t(first_copy));
    let a = acks(&steps);
    assert_eq!((a.acked, a.failed), (5_000, 0));
    let mut sent = std::collections::BTreeMap::new();
    let mut stalled = 0;
    for v in &steps {
        match v["kind"].as_str() {
            Some("send") => {
                sent.insert(v["record"].as_u64().unwrap(), t(v));
            }
            Some("ack") if (29.5..30.0).contains(&sent[&v["record"].as_u64().unwrap()]) => {
                assert!(t(v) > 35.9, "a write sent after the election waits for broker-2: acked at {} s", t(v));
                stalled += 1;
            }
            _ => {}
        }
    }
    assert_eq!(stalled, 50);
}

/// `network.loss` is a connection reset, not a stall: the requester sees
/// the connection fail one hop later (`NetworkClient` processes a
/// disconnection: every request on it fails and `Sender` retries), so
/// retries are for broken connections and nothing waits for
/// request.timeout.ms.
#[test]
fn network_client_network_loss_resets_the_connection_at_once() {
    let yaml = "name: t
duration: 20s
drain: 10s
brokers: 1
network: { latency: 1ms, loss: 0.01 }
topics: [{ name: t, partitions: 1, replication.factor: 1 }]
producers: [{ name: p, rate: { constant: 100/s }, keys: 10, config: { acks: 1 } }]
";
    let a = acks(&trace(yaml));
    assert_eq!((a.acked, a.failed), (2_000, 0));
    assert!(a.retries.len() >= 5, "about 1% of 2,000 requests broke: {}", a.retries.len());
    assert!(a.retries.iter().all(|&(_, e)| e == DISCONNECTED), "{:?}", a.retries);
    assert!(a.max_wait_s < 3.0, "a reset is retried after the backoff, not a timeout: {} s", a.max_wait_s);
}

/// Kafka's answer: Kafka never fsyncs per write (`log.flush.interval.*`
/// default Long.MAX_VALUE, `ServerLogConfigs`), and a machine that loses
/// power loses its page cache, so on reboot `LogLoader.recoverLog` keeps only
/// what the kernel had written back (Linux writes pages dirty for 30 s,
/// every 5 s). A host crash of a single broker at 40 s, restarted at 45 s:
/// the writeback at 40 s had written what was appended by 10 s, so the
/// records acknowledged from 10 s to 40 s are gone (about 3,000 at 100/s,
/// acks=1 with one replica); a process crash, whose page cache survives in
/// the kernel, loses none.
#[test]
fn log_loader_a_host_crash_loses_the_page_cache_a_process_crash_does_not() {
    let yaml = |fault: &str| {
        format!(
            "name: t
duration: 50s
drain: 20s
brokers: 1
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: 1, replication.factor: 1 }}]
producers: [{{ name: p, rate: {{ constant: 100/s }}, keys: 10, config: {{ acks: 1 }} }}]
faults:
  - {{ at: 40s, {fault}: broker-0 }}
  - {{ at: 45s, restart: broker-0 }}
"
        )
    };
    let run = |fault: &str| {
        let sc = load_str(&yaml(fault), "t.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
        streamsim::simulate(sc).expect("runs").summary
    };
    assert_eq!(run("crash").lost_writes, 0);
    let host = run("host_crash");
    assert!((2_950..=3_010).contains(&host.lost_writes), "lost {} acknowledged writes", host.lost_writes);
}

/// `host_crash` is a crash kind of its own: it takes no `lose` (it always
/// loses the page cache), and like `crash` it needs a `restart` before the
/// entity can crash again.
#[test]
fn host_crash_is_decoded_as_a_crash_kind() {
    let base = "name: t
duration: 30s
brokers: 2
topics: [{ name: t, partitions: 1, replication.factor: 2 }]
faults:
";
    let err = |faults: &str| match load_str(&format!("{base}{faults}"), "t.yaml") {
        Ok(_) => panic!("accepted: {faults}"),
        Err(e) => e.to_string(),
    };
    let e = err("  - { at: 5s, host_crash: broker-0, lose: unflushed }\n");
    assert!(e.contains("always loses the page cache") && e.contains("t.yaml:6"), "{e}");
    let e = err("  - { at: 5s, host_crash: broker-0 }\n  - { at: 6s, crash: broker-0 }\n");
    assert!(e.contains("broker-0"), "{e}");
    let ok = "  - { at: 5s, host_crash: broker-0 }\n  - { at: 9s, restart: broker-0 }\n";
    let sc = load_str(&format!("{base}{ok}"), "t.yaml").expect("valid").scenario;
    use streamsim::scenario::{FaultAction, Target};
    assert_eq!(sc.faults[0].action, FaultAction::HostCrash(Target::Broker(0)));
}

/// `chaos: host_crash` draws host crashes with their restarts from a stream
/// of its own: adding it keeps every process crash `crash` drew (only an
/// entity a process crash has down is skipped).
#[test]
fn chaos_draws_host_crashes_without_moving_process_crashes() {
    use streamsim::scenario::FaultAction;
    let yaml = |extra: &str| {
        format!(
            "name: t
duration: 60s
brokers: 3
topics: [{{ name: t, partitions: 3, replication.factor: 3 }}]
chaos:
  crash: {{ rate: 6/min, down: 3s, targets: [brokers] }}
{extra}"
        )
    };
    let schedule = |extra: &str| {
        let sc = load_str(&yaml(extra), "t.yaml").unwrap_or_else(|e| panic!("{e}")).scenario;
        streamsim::faults::schedule(&sc)
    };
    let crashes = schedule("");
    let both = schedule("  host_crash: { rate: 6/min, down: 3s }\n");
    assert!(crashes.iter().all(|f| both.contains(f)), "the process crashes stay where they were");
    let hosts: Vec<_> = both.iter().filter(|f| matches!(f.action, FaultAction::HostCrash(_))).collect();
    assert!(hosts.len() >= 2, "{hosts:?}");
    for h in hosts {
        let FaultAction::HostCrash(t) = h.action else { unreachable!() };
        assert!(both.iter().any(|f| f.action == FaultAction::Restart(t) && f.at > h.at), "a restart follows");
    }
}
