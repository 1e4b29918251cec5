//! The event queue: earliest time first, FIFO among events at the same time.
//!
//! The heap holds only 16-byte keys: `time (64 bits) | seq (40 bits) | slot (24 bits)`.
//! `seq` is the insertion counter, so two events at the same instant run in the
//! order they were scheduled; `slot` indexes the payload in a slab. Payloads never
//! move through the heap, and freed slots are reused, so a warm queue allocates nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::time::Instant;

const SLOT_BITS: u32 = 24;
const SEQ_BITS: u32 = 40;
// The key is one u128: time in the high 64 bits, then seq, then slot.
const _: () = assert!(64 + SEQ_BITS + SLOT_BITS == 128, "the queue key is exactly 128 bits");

/// At most this many events may be pending at once (16,777,216).
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
/// At most this many events may ever be scheduled in one run (about 1.1e12).
pub const MAX_SCHEDULED: u64 = 1 << SEQ_BITS;

/// Why an event could not be scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFull {
    /// More than [`MAX_PENDING`] events were waiting at once.
    Pending,
    /// More than [`MAX_SCHEDULED`] events were scheduled in the run.
    Sequence,
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<u128>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: Instant,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), slab: Vec::new(), free: Vec::new(), next_seq: 0, now: Instant::ZERO }
    }

    pub fn with_capacity(n: usize) -> Self {
        let mut q = Self::new();
        q.heap.reserve(n);
        q.slab.reserve(n);
        q
    }

    /// The time of the event last popped (the simulation's "now").
    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `at`. Scheduling in the past is a bug in the model.
    pub fn push(&mut self, at: Instant, event: E) -> Result<(), QueueFull> {
        debug_assert!(at >= self.now, "event scheduled in the past: {:?} < {:?}", at, self.now);
        if self.next_seq >= MAX_SCHEDULED {
            return Err(QueueFull::Sequence);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slab[slot as usize].is_none());
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                if self.slab.len() >= MAX_PENDING {
                    return Err(QueueFull::Pending);
                }
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        let key = ((at.us() as u128) << 64) | ((self.next_seq as u128) << SLOT_BITS) | slot as u128;
        self.next_seq += 1;
        self.heap.push(Reverse(key));
        Ok(())
    }

    /// Removes the earliest event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        let Reverse(key) = self.heap.pop()?;
        let at = Instant((key >> 64) as u64);
        let slot = (key as u32) & ((1 << SLOT_BITS) - 1);
        let event = self.slab[slot as usize].take().expect("queue slot holds an event");
        self.free.push(slot);
        debug_assert!(at >= self.now);
        self.now = at;
        Some((at, event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(key)| Instant((key >> 64) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for (t, e) in [(30, 'c'), (10, 'a'), (20, 'b')] {
            q.push(Instant(t), e).unwrap();
        }
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c']);
    }

    #[test]
    fn ties_are_fifo() {
        let mut q = EventQueue::new();
        for i in 0..1000u32 {
            q.push(Instant(5), i).unwrap();
        }
        for i in 0..1000u32 {
            assert_eq!(q.pop(), Some((Instant(5), i)));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn now_advances_and_slots_are_reused() {
        let mut q = EventQueue::new();
        q.push(Instant(1), 1u8).unwrap();
        q.pop().unwrap();
        assert_eq!(q.now(), Instant(1));
        for round in 0..100u64 {
            q.push(Instant(2 + round), 0u8).unwrap();
            q.pop().unwrap();
        }
        assert_eq!(q.slab.len(), 1, "a warm queue reuses its slot");
    }

    #[test]
    #[allow(clippy::explicit_counter_loop)]
    fn interleaved_push_pop_matches_a_sorted_model() {
        // Hold model against a plain sorted vector.
        let mut q = EventQueue::new();
        let mut model: Vec<(u64, u64)> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut seq = 0u64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let now = q.now().us();
            let t = now + x % 50;
            q.push(Instant(t), seq).unwrap();
            model.push((t, seq));
            seq += 1;
            if x.is_multiple_of(3) {
                model.sort();
                let want = model.remove(0);
                let (at, got) = q.pop().unwrap();
                assert_eq!((at.us(), got), want);
            }
        }
        model.sort();
        for want in model {
            let (at, got) = q.pop().unwrap();
            assert_eq!((at.us(), got), want);
        }
    }
}
