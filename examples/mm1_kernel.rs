//! M/M/1 on streamsim's kernel alone (its event queue, its seeded RNG streams
//! and its distributions), the same model as `bench/peer/mm1.py`: the fair
//! kernel-to-kernel comparison with SimPy. Usage:
//! `cargo run --release --example mm1_kernel [customers]`.

use streamsim::kernel::queue::EventQueue;
use streamsim::kernel::rng::{Dist, EntityRng};
use streamsim::kernel::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Ev {
    Arrival,
    Departure,
}

fn main() {
    let customers: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let mut arrivals = EntityRng::new(11, "arrivals");
    let mut service = EntityRng::new(11, "service");
    let gap = Dist::Exp { mean: Duration::from_ms(10) };
    let work = Dist::Exp { mean: Duration::from_ms(8) };
    let mut q: EventQueue<Ev> = EventQueue::with_capacity(16);
    let (mut in_system, mut arrived, mut done) = (0u64, 0u64, 0u64);
    let (mut area, mut last) = (0u128, Instant::ZERO);
    let started = std::time::Instant::now();
    q.push(Instant::ZERO, Ev::Arrival).expect("room");
    while let Some((now, ev)) = q.pop() {
        area += u128::from(in_system) * u128::from(now.since(last).us());
        last = now;
        match ev {
            Ev::Arrival => {
                in_system += 1;
                arrived += 1;
                if in_system == 1 {
                    q.push(now.add(work.sample(&mut service)), Ev::Departure).expect("room");
                }
                if arrived < customers {
                    q.push(now.add(gap.sample(&mut arrivals)), Ev::Arrival).expect("room");
                }
            }
            Ev::Departure => {
                in_system -= 1;
                done += 1;
                if in_system > 0 {
                    q.push(now.add(work.sample(&mut service)), Ev::Departure).expect("room");
                }
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let mean = area as f64 / last.us().max(1) as f64;
    println!(
        "streamsim kernel mm1: {done} customers in {wall:.3} s = {:.0} customers/s; mean in system {mean:.3} (theory 4)",
        done as f64 / wall
    );
}
