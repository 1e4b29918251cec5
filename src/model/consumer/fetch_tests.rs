//! The consumer's fetches as Kafka's consumer and broker shape them
//! (`AbstractFetch.prepareFetchRequests`, `ReplicaManager.readFromLog`,
//! `DelayedFetch`), read from what each consumer sent and got back.

use std::collections::BTreeMap;

use super::fetch::Tapped;
use crate::model::ids::{BrokerId, ConsumerId, PartitionId};
use crate::world::World;

/// A run of one producer (`record_bytes: 100`) into `partitions` on 3
/// brokers (partition p led by broker p mod 3) and one consumer group of
/// `instances` with `config`.
fn run(partitions: u32, instances: u32, config: &str) -> World {
    let yaml = format!(
        "name: t
duration: 6s
drain: 10s
brokers: 3
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: {partitions}, replication.factor: 3, config: {{ min.insync.replicas: 2 }} }}]
producers: [{{ name: p, rate: {{ constant: 3000/s }}, keys: 1000, record_bytes: 100 }}]
consumers: [{{ group: g, instances: {instances}, commit: after-processing, config: {{ auto.offset.reset: earliest, {config} }} }}]
"
    );
    let mut w = World::new(crate::scenario::load_str(&yaml, "t.yaml").expect("loads").scenario);
    w.run().expect("runs");
    w
}

/// Records the group's consumers got through: their consumed positions.
fn read(w: &World) -> u64 {
    w.consumers.iter().map(|cs| cs.assigned.iter().map(|&l| cs.consumed[l]).sum::<u64>()).sum()
}

/// Every answered fetch of consumer `c`: (broker, records, throttle_ms).
fn answers(w: &World, c: ConsumerId) -> Vec<(BrokerId, u64, u32)> {
    let each = w.consumers[c].fetch_tap.iter();
    each.filter_map(|t| match *t {
        Tapped::Answered { broker, records, throttle_ms, .. } => Some((broker, records, throttle_ms)),
        _ => None,
    })
    .collect()
}

/// Kafka's answer (`AbstractFetch.prepareFetchRequests`): one fetch per
/// broker, carrying every fetchable partition that broker leads, and none
/// to a broker whose previous fetch is still pending
/// (`nodesWithPendingFetchRequests`). A consumer of 6 partitions on 3
/// brokers has at most 3 fetches in flight, one per broker, each for the
/// 2 partitions that broker leads.
#[test]
fn abstract_fetch_six_partitions_on_three_brokers_at_most_three_fetches_in_flight() {
    let w = run(6, 1, "");
    let c = ConsumerId::new(0);
    let mut in_flight: BTreeMap<BrokerId, u32> = BTreeMap::new();
    let (mut peak, mut sent, mut two) = (0, 0, 0);
    for t in &w.consumers[c].fetch_tap {
        match t {
            Tapped::Sent { broker, partitions, .. } => {
                let n = in_flight.entry(*broker).or_default();
                *n += 1;
                assert_eq!(*n, 1, "a second fetch to {broker:?} while one is pending");
                for p in partitions {
                    assert_eq!(w.partitions[*p].leader_broker(), Some(*broker), "{p:?} is led elsewhere");
                }
                assert!(partitions.len() <= 2, "broker {broker:?} leads 2 of the 6 partitions: {partitions:?}");
                two += usize::from(partitions.len() == 2);
                sent += 1;
                peak = peak.max(in_flight.values().sum::<u32>());
            }
            Tapped::Answered { broker, .. } => *in_flight.get_mut(broker).expect("answers a fetch sent") -= 1,
        }
    }
    assert_eq!(peak, 3, "one fetch per broker, all three at once");
    assert!(two > sent / 4, "most fetches carry both partitions of their broker: {two} of {sent}");
    assert_eq!(read(&w), 18_000, "every record is read");
}

/// Kafka's answer (`ReplicaManager.readFromLog`): `fetch.max.bytes` bounds
/// the whole answer, over all its partitions, read in request order; the
/// consumer moves a partition that returned data to the end of the next
/// fetch (`SubscriptionState.movePartitionToEnd`), so none starves.
/// 1000 bytes of 100-byte records: at most 10 records an answer.
#[test]
fn read_from_log_fetch_max_bytes_caps_an_answer_across_partitions() {
    let w = run(6, 1, "fetch.max.bytes: 1000");
    let got = answers(&w, ConsumerId::new(0));
    assert!(got.iter().all(|&(_, n, _)| n <= 10), "an answer over 1000 bytes: {:?}", got.iter().max_by_key(|a| a.1));
    assert!(got.iter().filter(|a| a.1 == 10).count() > 100, "the cap binds while the consumer catches up");
    assert_eq!(read(&w), 18_000, "no partition starves");
}

/// Kafka's answer (`readFromLog`'s `minOneMessage`): the first partition
/// with data returns a record even past `fetch.max.bytes`, and the limit
/// holds for the rest: 50 bytes of 100-byte records, one record an answer.
#[test]
fn read_from_log_min_one_message_returns_one_record_past_fetch_max_bytes() {
    let w = run(3, 1, "fetch.max.bytes: 50");
    let got = answers(&w, ConsumerId::new(0));
    assert!(got.iter().all(|&(_, n, _)| n <= 1), "more than one record: {:?}", got.iter().max_by_key(|a| a.1));
    assert!(got.iter().filter(|a| a.1 == 1).count() > 1000, "one record each, progress all the same");
}

/// Kafka's answer (`DelayedFetch.tryComplete`, case G): a fetch waits at
/// the broker until `fetch.min.bytes` are readable over its partitions (or
/// `fetch.max.wait.ms`). With 2000 bytes (20 records) the answers carry 20
/// records or more, where `fetch.min.bytes: 1` answers at the first record.
#[test]
fn delayed_fetch_waits_for_fetch_min_bytes() {
    let small = |w: &World| answers(w, ConsumerId::new(0)).iter().filter(|a| a.1 > 0 && a.1 < 20).count();
    let eager = run(6, 1, "");
    let patient = run(6, 1, "fetch.min.bytes: 2000");
    let (e, p) = (small(&eager), small(&patient));
    assert!(e > 1000, "fetch.min.bytes 1: answers as soon as records come ({e} small ones)");
    // Only the last answers of the run (the producer stopped) expire with less.
    assert!(p < 20, "fetch.min.bytes 2000: {p} answers under 20 records");
    assert_eq!(read(&patient), 18_000);
}

/// With several consumers each sends its own fetches; the partitions of a
/// request are the sender's own and led by the broker it goes to.
#[test]
fn each_fetch_carries_only_the_consumers_partitions_its_broker_leads() {
    let w = run(12, 3, "");
    for c in w.consumers.ids() {
        let mine: Vec<PartitionId> = w.consumers[c].assigned.iter().map(|&l| PartitionId::new(l.raw())).collect();
        for t in &w.consumers[c].fetch_tap {
            if let Tapped::Sent { partitions, .. } = t {
                assert!(partitions.iter().all(|p| mine.contains(p)), "{c:?} fetched {partitions:?}, owns {mine:?}");
            }
        }
    }
}
