//! Which of a producer's partitions hold a batch (open or queued), one bit
//! each, so that the sender's ready check (`RecordAccumulator.ready`) visits
//! those only, in partition order, instead of every partition of the topic.
//! A bit is set when a partition gets a batch and cleared lazily, by the
//! ready check, once the partition is found empty: the set is always a
//! superset of the partitions holding one, and visiting an empty partition
//! does nothing, so the visit order and every effect are a full scan's.

use crate::model::ids::LocalPartition;
use crate::world::World;

#[derive(Clone, Debug, Default)]
pub struct Holding {
    words: Vec<u64>,
}

impl Holding {
    pub fn new(partitions: u32) -> Holding {
        Holding { words: vec![0; partitions.div_ceil(64) as usize] }
    }

    pub fn mark(&mut self, local: LocalPartition) {
        let i = local.index();
        self.words[i / 64] |= 1 << (i % 64);
    }

    pub fn unmark(&mut self, local: LocalPartition) {
        let i = local.index();
        self.words[i / 64] &= !(1 << (i % 64));
    }

    pub fn is_marked(&self, local: LocalPartition) -> bool {
        let i = local.index();
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// The first marked partition at or after `from`.
    pub fn next_from(&self, from: u32) -> Option<LocalPartition> {
        let mut w = from as usize / 64;
        let mut bits = *self.words.get(w)? & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(LocalPartition::new((w * 64) as u32 + bits.trailing_zeros()));
            }
            w += 1;
            bits = *self.words.get(w)?;
        }
    }

    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }
}

impl World {
    /// Invariant: every partition holding a batch is marked.
    pub(crate) fn check_holding(&self) {
        for pr in &self.producers {
            for (local, q) in pr.parts.iter_enumerated() {
                let holds = q.open.is_some() || !q.queue.is_empty();
                assert!(
                    !holds || pr.holding.is_marked(local),
                    "t={}: producer {}: partition {local} holds a batch the ready check would skip",
                    self.now,
                    pr.name
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_from_visits_marked_partitions_in_order_across_words() {
        let mut h = Holding::new(130);
        for i in [3, 64, 129] {
            h.mark(LocalPartition::new(i));
        }
        let mut seen = Vec::new();
        let mut from = 0;
        while let Some(l) = h.next_from(from) {
            seen.push(l.raw());
            from = l.raw() + 1;
        }
        assert_eq!(seen, [3, 64, 129]);
        h.unmark(LocalPartition::new(64));
        assert_eq!(h.next_from(4), Some(LocalPartition::new(129)));
        assert!(!h.is_marked(LocalPartition::new(64)));
        assert_eq!(h.next_from(130), None);
    }
}
