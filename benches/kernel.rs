//! The hold model: a queue of N pending events; each step pops the earliest
//! and pushes one at a random later time. streamsim's event queue against a
//! bare `BinaryHeap<Reverse<(u64, u64)>>` doing the same work, so the ratio is
//! the kernel's overhead over the limit. Run: `cargo bench --bench kernel`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use divan::Bencher;
use streamsim::kernel::queue::EventQueue;
use streamsim::kernel::time::{Duration, Instant};

fn main() {
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
