//! The oracle's own copy of every replica's log, rebuilt from `append`,
//! `replicate`, `truncate`, `marker` and `elect` facts alone.
//!
//! The checkers judge durability (`lost_writes`, `unavailable`) and what a
//! group can still read (`pending`, `skipped`) against these logs, never
//! against the model's: a model bug that loses or invents an entry without
//! saying so shows up as a mismatch (`World::check_shadow` in tests) instead
//! of silently moving the verdict.

/// An entry: a record id, or `CONTROL | marker` where `marker` indexes the
/// ledger's markers.
pub const CONTROL: u32 = 1 << 31;

#[derive(Clone, Debug, Default)]
pub struct ShadowPartition {
    /// (broker, log) per replica, in preference order.
    pub replicas: Vec<(u32, Vec<u32>)>,
    /// The leader's broker; None while offline.
    pub leader: Option<u32>,
}

impl ShadowPartition {
    pub fn new(replicas: &[u32]) -> ShadowPartition {
        ShadowPartition {
            replicas: replicas.iter().map(|&b| (b, Vec::new())).collect(),
            leader: replicas.first().copied(),
        }
    }

    pub fn log_of(&self, broker: u32) -> Option<&Vec<u32>> {
        self.replicas.iter().find(|r| r.0 == broker).map(|r| &r.1)
    }

    fn log_mut(&mut self, broker: u32) -> &mut Vec<u32> {
        let r = self.replicas.iter_mut().find(|r| r.0 == broker);
        &mut r.expect("a fact names a broker holding a replica").1
    }

    /// The leader's log; None while offline.
    pub fn leader_log(&self) -> Option<&Vec<u32>> {
        self.leader.and_then(|b| self.log_of(b))
    }

    /// `entry` appended at `offset` of `broker`'s log (a leader's write).
    pub fn append(&mut self, broker: u32, offset: u64, entry: u32) {
        let log = self.log_mut(broker);
        assert_eq!(log.len() as u64, offset, "an append lands at the log end");
        log.push(entry);
    }

    /// The leader's write of a control marker (the partition's current leader).
    pub fn append_at_leader(&mut self, offset: u64, entry: u32) {
        let leader = self.leader.expect("a marker is written by a leader");
        self.append(leader, offset, entry);
    }

    /// `broker` copied `source`'s log up to `log_end`.
    pub fn replicate(&mut self, broker: u32, source: u32, log_end: u64) {
        let at = |b: u32| self.replicas.iter().position(|r| r.0 == b).expect("a fact names a replica");
        let (i, j) = (at(broker), at(source));
        assert_ne!(i, j, "a replica copies from another");
        let (dst, src) = if i < j {
            let (a, b) = self.replicas.split_at_mut(j);
            (&mut a[i].1, &b[0].1)
        } else {
            let (a, b) = self.replicas.split_at_mut(i);
            (&mut b[0].1, &a[j].1)
        };
        assert!(src.len() as u64 >= log_end && dst.len() as u64 <= log_end, "a follower copies what its source holds");
        dst.extend_from_slice(&src[dst.len()..log_end as usize]);
    }

    pub fn truncate(&mut self, broker: u32, offset: u64) {
        self.log_mut(broker).truncate(offset as usize);
    }
}

/// Where the oracle's logs and the model's final logs disagree, if anywhere:
/// a model that changed a log without saying so (a missing or wrong fact).
pub fn mismatch(w: &crate::world::World) -> Option<String> {
    let shadow = &w.oracle.observed.partitions;
    for (g, part) in w.partitions.iter().enumerate() {
        let leader = part.leader_broker().map(|b| b.raw());
        if shadow[g].leader != leader {
            return Some(format!("partition {g}: leader {leader:?} in the model, {:?} from facts", shadow[g].leader));
        }
        for rep in &part.replicas {
            let mine = shadow[g].log_of(rep.broker.raw()).map_or(&[][..], |l| &l[..]);
            // Control entries index different marker tables: compare their kind only.
            let same = mine.len() as u64 == rep.log.len()
                && mine
                    .iter()
                    .zip(rep.log.records())
                    .all(|(&m, &e)| if e & CONTROL != 0 { m & CONTROL != 0 } else { m == e });
            if !same {
                return Some(format!(
                    "partition {g}, broker {}: {} entries in the model, {} from facts",
                    rep.broker,
                    rep.log.len(),
                    mine.len()
                ));
            }
        }
    }
    None
}
