//! Invariants of the model, checked at every sample tick when debug
//! assertions are on (the `ci` profile runs the whole test suite that way).
//!
//! Each is a property real Kafka keeps; a break is a bug in the model, never
//! an input error, so it panics with what broke and when.

use crate::model::ids::{ConsumerId, Generation, GroupId, IdVec, LeaderEpoch, LocalPartition, PartitionId};
use crate::world::World;

/// What the checks remember between ticks.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Per partition: (leader epoch, high watermark) at the last tick.
    hw: IdVec<PartitionId, (LeaderEpoch, u64)>,
    /// Per group: the generation at the last tick.
    generation: IdVec<GroupId, Generation>,
}

impl World {
    /// Checks every invariant now; `memory` carries what the last tick saw.
    pub(crate) fn check_invariants(&self, memory: &mut Memory) {
        self.check_partitions(memory);
        self.check_groups(memory);
        self.check_producers();
        self.check_leadership();
        self.check_holding();
    }

    /// The leader is in the ISR; HW ≤ LEO on the leader; within one leader
    /// epoch the high watermark never goes back (only a new leader, after a
    /// truncation, may start lower).
    fn check_partitions(&self, memory: &mut Memory) {
        memory.hw.resize(self.partitions.len(), Default::default());
        for (g, part) in self.partitions.iter_enumerated() {
            let Some(l) = part.leader else { continue };
            // A leader that lost power has lost its page cache, high
            // watermark included, until the controller fences it.
            if !self.brokers[part.replicas[l].broker].up {
                continue;
            }
            assert!(part.in_isr(l), "t={}: partition {g}: leader replica {l} is not in the ISR", self.now);
            let (hw, leo) = (part.replicas[l].hw, part.replicas[l].leo());
            assert!(hw <= leo, "t={}: partition {g}: high watermark {hw} above log end {leo}", self.now);
            let (epoch, last_hw) = memory.hw[g];
            if epoch == part.leader_epoch {
                assert!(hw >= last_hw, "t={}: partition {g}: high watermark fell {last_hw} -> {hw}", self.now);
            }
            memory.hw[g] = (part.leader_epoch, hw);
        }
    }

    /// Generations only increase, and no two live members of one generation
    /// own the same partition. A zombie of an older generation may, and so may a
    /// consumer that left after its poll timer expired: it holds generation NONE
    /// and keeps its assignment until it rejoins (AbstractCoordinator.maybeLeaveGroup
    /// resets the generation; ConsumerCoordinator.onJoinPrepare drops the partitions).
    fn check_groups(&self, memory: &mut Memory) {
        memory.generation.resize(self.groups.len(), Generation::NONE);
        for (gi, g) in self.groups.iter_enumerated() {
            assert!(
                g.generation >= memory.generation[gi],
                "t={}: group {}: generation went back {} -> {}",
                self.now,
                g.name,
                memory.generation[gi],
                g.generation
            );
            memory.generation[gi] = g.generation;
            let mut owner: IdVec<LocalPartition, Option<(ConsumerId, Generation)>> =
                IdVec::filled(None, g.partitions as usize);
            for c in (0..g.instances).map(|i| g.first_consumer.plus(i)) {
                let cs = &self.consumers[c];
                if !cs.up || cs.generation == Generation::NONE {
                    continue;
                }
                for &p in &cs.assigned {
                    if let Some((other, generation)) = owner[p] {
                        assert!(
                            generation != cs.generation,
                            "t={}: group {}: partition {p} owned by consumers {other} and {c} in generation {generation}",
                            self.now,
                            g.name
                        );
                    }
                    owner[p] = Some((c, cs.generation));
                }
            }
        }
    }

    /// A producer never holds more than `buffer.memory` in batches.
    fn check_producers(&self) {
        for pr in &self.producers {
            assert!(
                pr.reserved <= pr.config.buffer_memory,
                "t={}: producer {}: {} bytes reserved, buffer.memory is {}",
                self.now,
                pr.name,
                pr.reserved,
                pr.config.buffer_memory
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let src = include_str!("../../scenarios/at-least-once.yaml");
        let mut w = World::new(crate::scenario::load_str(src, "at-least-once.yaml").expect("loads").scenario);
        w.run().expect("runs");
        w
    }

    #[test]
    fn a_finished_shipped_run_keeps_every_invariant() {
        world().check_invariants(&mut Memory::default());
    }

    #[test]
    #[should_panic(expected = "above log end")]
    fn a_high_watermark_past_the_log_end_is_caught() {
        let mut w = world();
        let l = w.partitions[0].leader.expect("has a leader");
        w.partitions[0].replicas[l].hw = w.partitions[0].replicas[l].leo() + 1;
        w.check_invariants(&mut Memory::default());
    }

    #[test]
    #[should_panic(expected = "is not in the ISR")]
    fn a_leader_outside_the_isr_is_caught() {
        let mut w = world();
        let l = w.partitions[0].leader.expect("has a leader");
        w.partitions[0].isr_remove(l);
        w.check_invariants(&mut Memory::default());
    }

    #[test]
    #[should_panic(expected = "owned by consumers")]
    fn two_owners_in_one_generation_are_caught() {
        let mut w = world();
        let (a, b) = (w.groups[0].first_consumer, w.groups[0].first_consumer.plus(1));
        let stolen = w.consumers[a].assigned[0];
        w.consumers[b].generation = w.consumers[a].generation;
        w.consumers[b].assigned.push(stolen);
        w.check_invariants(&mut Memory::default());
    }

    #[test]
    #[should_panic(expected = "high watermark fell")]
    fn a_falling_high_watermark_in_one_epoch_is_caught() {
        let mut w = world();
        let mut memory = Memory::default();
        w.check_invariants(&mut memory);
        let l = w.partitions[0].leader.expect("has a leader");
        w.partitions[0].replicas[l].hw -= 1;
        w.check_invariants(&mut memory);
    }
}
