//! The event queue: earliest time first, FIFO among events at the same time.
//!
//! The heap holds only 16-byte keys: `time (64 bits) | seq (40 bits) | slot (24 bits)`.
//! `seq` is the insertion counter, so two events at the same instant run in the
//! order they were scheduled; `slot` indexes the payload in a slab. Payloads never
//! move through the heap, and freed slots are reused, so a warm queue allocates nothing.
//!
//! Most pending events are timeouts a fixed delay ahead (a produce request's
//! request.timeout.ms, a fetch's max wait), and most of those are stale when they fire.
//! Events pushed the same long delay ahead of `now` arrive in key order, so they wait in a
//! FIFO lane per delay, and only each lane's head sits in the heap. The heap stays small
//! (about a tenth of the pending events in a busy run) and the pop order is exactly the
//! keys' order, as if every key were in the heap.
//!
//! An event scheduled before everything already waiting (a zero-delay step, the next
//! record of a burst) is the next one to pop: it waits in a front slot instead of being
//! sifted up the heap and straight back down. The front key is never later than any
//! key in the heap, so the order is again exactly the keys' order.

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

/// At most this many delays get a lane; later delays go to the heap.
const MAX_LANES: usize = 8;
/// Only delays at least this long (µs) get a lane: short ones rarely pile up.
const LANE_MIN_DELAY_US: u64 = 50_000;
/// `lane_of` for a slot whose key is in the heap.
const IN_HEAP: u8 = u8::MAX;
const _: () = assert!(MAX_LANES < IN_HEAP as usize);

/// Keys pushed `delay_us` ahead of `now`, in push (hence key) order.
struct Lane {
    delay_us: u64,
    keys: std::collections::VecDeque<u128>,
}

pub struct EventQueue<E> {
    /// The earliest pending key when it was scheduled before every key in the heap.
    front: Option<u128>,
    heap: BinaryHeap<Reverse<u128>>,
    lanes: Vec<Lane>,
    /// Per slot: the lane its key waits in, or `IN_HEAP`.
    lane_of: Vec<u8>,
    pending: usize,
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
        EventQueue {
            front: None,
            heap: BinaryHeap::new(),
            lanes: Vec::new(),
            lane_of: Vec::new(),
            pending: 0,
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            now: Instant::ZERO,
        }
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
        self.pending
    }

    pub fn is_empty(&self) -> bool {
        self.pending == 0
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
                self.lane_of.push(IN_HEAP);
                (self.slab.len() - 1) as u32
            }
        };
        let key = ((at.us() as u128) << 64) | ((self.next_seq as u128) << SLOT_BITS) | slot as u128;
        self.next_seq += 1;
        self.pending += 1;
        let lane = self.lane_for(at.us() - self.now.us());
        self.lane_of[slot as usize] = lane;
        match self.lanes.get_mut(lane as usize) {
            Some(l) => {
                debug_assert!(l.keys.back().is_none_or(|&last| last < key), "a lane's keys rise");
                l.keys.push_back(key);
                if l.keys.len() == 1 {
                    self.enter(key);
                }
            }
            None => self.enter(key),
        }
        Ok(())
    }

    /// Puts `key` where it pops in order: the front slot if it comes before every
    /// waiting key (the old front moves to the heap), the heap otherwise.
    #[inline]
    fn enter(&mut self, key: u128) {
        match self.front {
            Some(f) if key < f => {
                self.heap.push(Reverse(f));
                self.front = Some(key);
            }
            Some(_) => self.heap.push(Reverse(key)),
            None if self.heap.peek().is_none_or(|&Reverse(h)| key < h) => self.front = Some(key),
            None => self.heap.push(Reverse(key)),
        }
    }

    /// The lane for events `delay_us` ahead, opening one if there is room; `IN_HEAP` for a
    /// short delay or when every lane is taken. Keys of one delay rise because `now` does.
    #[inline]
    fn lane_for(&mut self, delay_us: u64) -> u8 {
        if delay_us < LANE_MIN_DELAY_US {
            return IN_HEAP;
        }
        if let Some(i) = self.lanes.iter().position(|l| l.delay_us == delay_us) {
            return i as u8;
        }
        if self.lanes.len() == MAX_LANES {
            return IN_HEAP;
        }
        self.lanes.push(Lane { delay_us, keys: std::collections::VecDeque::new() });
        (self.lanes.len() - 1) as u8
    }

    /// Removes the earliest event and advances `now` to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        let key = match self.front.take() {
            Some(f) => f,
            None => self.heap.pop()?.0,
        };
        let at = Instant((key >> 64) as u64);
        let slot = (key as u32) & ((1 << SLOT_BITS) - 1);
        let event = self.slab[slot as usize].take().expect("queue slot holds an event");
        if let Some(l) = self.lanes.get_mut(self.lane_of[slot as usize] as usize) {
            let head = l.keys.pop_front();
            debug_assert_eq!(head, Some(key), "a lane's head is the key in the heap");
            if let Some(&next) = l.keys.front() {
                self.enter(next);
            }
        }
        self.pending -= 1;
        self.free.push(slot);
        debug_assert!(at >= self.now);
        self.now = at;
        Some((at, event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Instant> {
        self.front.or(self.heap.peek().map(|&Reverse(key)| key)).map(|key| Instant((key >> 64) as u64))
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

    /// Lanes change nothing: any mix of short and long delays pops in (time, push) order,
    /// exactly as a plain heap of every key would.
    #[test]
    fn lanes_keep_time_then_push_order() {
        let mut q = EventQueue::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut expect: Vec<(u64, u32)> = Vec::new();
        let mut got: Vec<(u64, u32)> = Vec::new();
        for i in 0..50_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                if let Some((at, e)) = q.pop() {
                    got.push((at.us(), e));
                }
                continue;
            }
            // A dozen long delays (more than MAX_LANES) and some short ones.
            let delay = if x.is_multiple_of(5) { x % 1000 } else { LANE_MIN_DELAY_US * (1 + (x >> 8) % 12) };
            let at = q.now().us() + delay;
            q.push(Instant(at), i).unwrap();
            expect.push((at, i));
        }
        while let Some((at, e)) = q.pop() {
            got.push((at.us(), e));
        }
        // Every event comes out once, times never fall and ties keep push order: since every
        // push is at or after `now`, that is exactly the order of a plain heap of all keys.
        assert_eq!(got.len(), expect.len());
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        for w in got.windows(2) {
            assert!(w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1), "{w:?}");
        }
    }

    /// The front slot changes nothing: chains of events scheduled at `now` or just after it
    /// (each one earlier than everything waiting) interleaved with later ones pop in exactly
    /// the order of a sorted list of every (time, push) key.
    #[test]
    fn front_slot_keeps_time_then_push_order() {
        let mut q = EventQueue::new();
        let mut model: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let delay = match x % 4 {
                0 => 0,
                1 => x % 3,
                2 => 100 + x % 900,
                _ => LANE_MIN_DELAY_US,
            };
            let at = q.now().us() + delay;
            q.push(Instant(at), i).unwrap();
            model.push((at, i));
            if x % 7 < 4 {
                model.sort();
                let want = model.remove(0);
                assert_eq!(q.peek_time(), Some(Instant(want.0)));
                assert_eq!(q.pop().map(|(at, e)| (at.us(), e)), Some(want));
            }
        }
        model.sort();
        let rest: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop().map(|(at, e)| (at.us(), e))).collect();
        assert_eq!(rest, model);
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
