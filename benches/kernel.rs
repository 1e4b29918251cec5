//! The hold model: a queue of N pending events; each step pops the earliest
//! and pushes one at a random later time. streamsim's event queue against a
//! bare `BinaryHeap<Reverse<(u64, u64)>>` doing the same work, so the ratio is
//! the kernel's overhead over the limit. Run: `cargo bench --bench kernel`.
//!
//! The third contender is a trial, not the kernel: a radix heap over the same
//! 128-bit `time|seq` keys. Keys only rise (an event is never scheduled before
//! the last one popped, and `seq` breaks ties upward), which is the one
//! condition a radix heap needs; it replaces the heap's O(log n) sift with
//! bucket moves of at most 128 per key over its life.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use divan::Bencher;
use streamsim::kernel::queue::EventQueue;
use streamsim::kernel::time::{Duration, Instant};

fn main() {
    radix_heap_pops_in_key_order();
    divan::main();
}

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
/// Steps measured per sample.
const STEPS: usize = 100_000;

/// Random increments (exponential-ish, mean about 1 ms), precomputed so both
/// queues see the same times and no RNG runs inside the loop.
fn increments(n: usize) -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + (x % 2_000)
        })
        .collect()
}

#[divan::bench(args = SIZES)]
fn streamsim_queue(bencher: Bencher, n: usize) {
    let inc = increments(n + STEPS);
    bencher
        .with_inputs(|| {
            let mut q: EventQueue<u32> = EventQueue::with_capacity(n);
            for (i, d) in inc[..n].iter().enumerate() {
                q.push(Instant(*d), i as u32).expect("room");
            }
            q
        })
        .bench_local_values(|mut q| {
            for d in &inc[n..] {
                let (at, e) = q.pop().expect("never empty");
                q.push(at.add(Duration(*d)), e).expect("room");
            }
            q
        });
}

#[divan::bench(args = SIZES)]
fn bare_binary_heap(bencher: Bencher, n: usize) {
    let inc = increments(n + STEPS);
    bencher
        .with_inputs(|| {
            let mut h: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::with_capacity(n);
            for (i, d) in inc[..n].iter().enumerate() {
                h.push(Reverse((*d, i as u64)));
            }
            (h, n as u64)
        })
        .bench_local_values(|(mut h, mut seq)| {
            for d in &inc[n..] {
                let Reverse((at, _)) = h.pop().expect("never empty");
                seq += 1;
                h.push(Reverse((at + d, seq)));
            }
            (h, seq)
        });
}

/// A radix heap of `u128` keys: bucket `i` holds the keys whose highest bit
/// differing from the last popped key is bit `i - 1` (bucket 0: equal to it).
/// Popping an empty bucket 0 takes the lowest non-empty bucket, makes its
/// minimum the new last key and spreads the bucket into lower buckets.
struct RadixHeap {
    last: u128,
    len: usize,
    buckets: Vec<Vec<u128>>,
}

impl RadixHeap {
    fn new() -> Self {
        RadixHeap { last: 0, len: 0, buckets: (0..=128).map(|_| Vec::new()).collect() }
    }

    #[inline]
    fn bucket(last: u128, key: u128) -> usize {
        128 - (key ^ last).leading_zeros() as usize
    }

    #[inline]
    fn push(&mut self, key: u128) {
        debug_assert!(key >= self.last, "radix heap keys only rise");
        self.buckets[Self::bucket(self.last, key)].push(key);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u128> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty()).expect("len > 0");
            let mut moved = std::mem::take(&mut self.buckets[i]);
            self.last = *moved.iter().min().expect("non-empty");
            for &k in &moved {
                self.buckets[Self::bucket(self.last, k)].push(k);
            }
            moved.clear();
            // Keep the emptied vector's capacity for the next time bucket i fills.
            self.buckets[i] = moved;
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

#[divan::bench(args = SIZES)]
fn radix_heap_trial(bencher: Bencher, n: usize) {
    let inc = increments(n + STEPS);
    bencher
        .with_inputs(|| {
            let mut h = RadixHeap::new();
            for (i, d) in inc[..n].iter().enumerate() {
                h.push(((*d as u128) << 64) | i as u128);
            }
            (h, n as u64)
        })
        .bench_local_values(|(mut h, mut seq)| {
            for d in &inc[n..] {
                let key = h.pop().expect("never empty");
                seq += 1;
                h.push(((((key >> 64) as u64 + d) as u128) << 64) | seq as u128);
            }
            (h, seq)
        });
}

/// The trial must order exactly as the heap does, or its figure means
/// nothing; checked each time the bench binary starts.
fn radix_heap_pops_in_key_order() {
    let inc = increments(20_000);
    let (mut r, mut b) = (RadixHeap::new(), BinaryHeap::new());
    for (i, d) in inc[..1_000].iter().enumerate() {
        let k = ((*d as u128) << 64) | i as u128;
        r.push(k);
        b.push(Reverse(k));
    }
    for (s, d) in inc[1_000..].iter().enumerate() {
        let (x, Reverse(y)) = (r.pop().unwrap(), b.pop().unwrap());
        assert_eq!(x, y);
        let k = ((((x >> 64) as u64 + d) as u128) << 64) | (1_000 + s) as u128;
        r.push(k);
        b.push(Reverse(k));
    }
}
