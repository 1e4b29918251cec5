//! Time series for charts and reports, derived after a run from the ledger,
//! the samples and the fault schedule.

use crate::oracle::checkers::percentile_ms;
use crate::scenario::{target_name, FaultAction};
use crate::world::World;

/// What the charts need beyond the samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Every fault of the run (the file's and chaos'), in time order: (ms, label).
    pub faults: Vec<(u64, String)>,
    /// Send times (ms) of the records counted as lost, sorted.
    pub lost_sent_ms: Vec<u64>,
    /// Send → first sink effect latency per time bucket of the effect:
    /// (bucket start ms, p50 ms, p99 ms, records).
    pub latency: Vec<(u64, f64, f64, u64)>,
    /// Width of a latency bucket (ms).
    pub bucket_ms: u64,
    /// Fault intervals (from ms, to ms, label): a crash until its restart
    /// (or the end), a pause or a network partition for its duration.
    pub bands: Vec<(u64, u64, String)>,
    /// Faults without a duration (starts, stops, scaling): (ms, label).
    pub instants: Vec<(u64, String)>,
    /// Elections, ISR shrinks and expansions, completed rebalances, from the
    /// oracle's facts: (ms, kind, label).
    pub marks: Vec<(u64, Mark, String)>,
}

/// What a chart mark stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Rebalance,
    Election,
    IsrShrink,
    IsrExpand,
}

/// Fault intervals and instants, from the fault schedule.
/// Fault intervals (from ms, to ms, label) and instants (ms, label).
type Spans = (Vec<(u64, u64, String)>, Vec<(u64, String)>);

fn fault_spans(w: &World, end_ms: u64) -> Spans {
    let (mut bands, mut instants) = (Vec::new(), Vec::new());
    let faults = &w.scenario.faults;
    for (i, f) in faults.iter().enumerate() {
        let at = f.at.ms();
        let label = fault_label(w, &f.action);
        match &f.action {
            FaultAction::Crash(t) | FaultAction::PowerLoss(t) | FaultAction::HostCrash(t) => {
                let back = faults[i + 1..]
                    .iter()
                    .find(|g| g.at >= f.at && matches!(&g.action, FaultAction::Restart(r) if r == t));
                bands.push((at, back.map_or(end_ms, |g| g.at.ms()), label));
            }
            FaultAction::Pause(_, d) | FaultAction::Partition(_, d) | FaultAction::Slow { span: d, .. } => {
                bands.push((at, (at + d.ms()).min(end_ms), label))
            }
            FaultAction::Restart(_) => {}
            FaultAction::Start(_) | FaultAction::Stop(_) | FaultAction::Scale(..) => instants.push((at, label)),
        }
    }
    (bands, instants)
}

/// The marks of elections, ISR changes and rebalances.
fn marks(w: &World) -> Vec<(u64, Mark, String)> {
    use crate::oracle::fact::Fact;
    let shape = &w.oracle.observed.shape;
    let mut isr: Vec<u64> = shape.partitions.iter().map(|p| p.replicas.iter().fold(0, |m, &b| m | 1 << b)).collect();
    let mut out = Vec::new();
    for (t, f) in &w.oracle.incidents {
        let ms = t / 1000;
        match *f {
            Fact::Elect { partition, leader, .. } => {
                let who = leader.map_or("offline".to_string(), |b| format!("broker-{}", b.raw()));
                out.push((ms, Mark::Election, format!("{} → {who}", shape.partitions[partition.index()].name)));
            }
            Fact::Isr { partition, isr_brokers, .. } => {
                let before = std::mem::replace(&mut isr[partition.index()], isr_brokers);
                let name = &shape.partitions[partition.index()].name;
                if before & !isr_brokers != 0 {
                    out.push((ms, Mark::IsrShrink, format!("ISR shrink {name}")));
                }
                if isr_brokers & !before != 0 {
                    out.push((ms, Mark::IsrExpand, format!("ISR expand {name}")));
                }
            }
            Fact::Rebalance { group, generation, .. } => {
                let g = &shape.groups[group.index()].name;
                out.push((ms, Mark::Rebalance, format!("{g} generation {}", generation.raw())));
            }
            _ => {}
        }
    }
    out
}

/// "crash analytics-1", "pause broker-0 5s", ...
pub fn fault_label(w: &World, action: &FaultAction) -> String {
    let name = |t| target_name(&w.scenario, t);
    match action {
        FaultAction::Crash(t) => format!("crash {}", name(*t)),
        FaultAction::PowerLoss(t) => format!("power loss {}", name(*t)),
        FaultAction::HostCrash(t) => format!("host crash {}", name(*t)),
        FaultAction::Restart(t) => format!("restart {}", name(*t)),
        FaultAction::Pause(t, d) => format!("pause {} {d}", name(*t)),
        FaultAction::Slow { target, span, processing } => {
            format!("slow {} {span} ({processing} a record)", name(*target))
        }
        FaultAction::Partition(ts, d) => {
            format!("partition {} {d}", ts.iter().map(|t| name(*t)).collect::<Vec<_>>().join(" | "))
        }
        FaultAction::Start(t) => format!("start {}", name(*t)),
        FaultAction::Stop(t) => format!("stop {}", name(*t)),
        FaultAction::Scale(g, n) => format!("scale {} to {n}", w.scenario.consumers[*g].group),
    }
}

pub fn series(w: &World, lost: &[(u32, u32)]) -> Series {
    let faults = w.scenario.faults.iter().map(|f| (f.at.ms(), fault_label(w, &f.action))).collect();
    let end_ms = w.end_time().ms().max(1);
    // About 60 buckets over the run, whole seconds each.
    let bucket_ms = (end_ms / 60).div_ceil(1000).max(1) * 1000;
    let mut by_bucket: Vec<Vec<u64>> = vec![Vec::new(); (end_ms / bucket_ms + 1) as usize];
    for (gi, _) in w.groups.iter().enumerate() {
        for (r, d) in w.oracle.ledger.seen_all(gi as u32) {
            if d.effects == 0 {
                continue;
            }
            let sent = w.oracle.ledger.sent_us(r);
            let b = (d.first_effect_us / 1000 / bucket_ms) as usize;
            if let Some(v) = by_bucket.get_mut(b) {
                v.push(d.first_effect_us - sent);
            }
        }
    }
    let latency = by_bucket
        .iter_mut()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(i, v)| (i as u64 * bucket_ms, percentile_ms(v, 500), percentile_ms(v, 990), v.len() as u64))
        .collect();
    let mut lost_sent_ms: Vec<u64> = lost.iter().map(|&(_, r)| w.oracle.ledger.sent_us(r) / 1000).collect();
    lost_sent_ms.sort_unstable();
    let (bands, instants) = fault_spans(w, end_ms);
    Series { faults, lost_sent_ms, latency, bucket_ms, bands, instants, marks: marks(w) }
}
