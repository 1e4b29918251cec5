//! The time series: the oracle looks at the world every `sample_interval`
//! (lag, per partition with its owner) and at its own running totals.
//! Observation only: the model's course never depends on a sample.

use crate::kernel::time::Instant;
use crate::world::World;

/// One sample of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub at: Instant,
    /// Lag of every group's partitions, summed.
    pub lag: u64,
    /// Leader log end minus committed, summed (the oracle's own logs): a
    /// frozen high watermark hides what this shows.
    pub log_end_lag: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub redelivered: u64,
}

/// One partition's lag in one sample, and the member that owned it then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagSample {
    pub at: Instant,
    pub group: u32,
    /// Partition within the group's topic.
    pub partition: u32,
    /// Consumer instance that held the partition (none during a rebalance or
    /// while unassigned).
    pub member: Option<u32>,
    pub lag: u64,
}

impl World {
    /// Samples lag and cumulative counts; lag is the high watermark minus the
    /// committed offset, summed over every group's partitions.
    pub(crate) fn sample(&mut self) {
        let mut lag = 0;
        for g in &self.groups {
            lag += self.group_lag(g);
        }
        self.max_lag = self.max_lag.max(lag);
        self.oracle.emit(self.now, crate::oracle::fact::Fact::Lag { lag });
        let (delivered, duplicates, redelivered) = self.oracle.ledger.delivery_totals();
        if self.samples.last().is_some_and(|s| s.at == self.now) {
            self.samples.pop();
            let now = self.now;
            while self.lag_samples.last().is_some_and(|s| s.at == now) {
                self.lag_samples.pop();
            }
        }
        for (group, g) in self.groups.iter_enumerated().filter(|_| self.keep_lag_rows) {
            for (local, committed) in g.committed.iter_enumerated() {
                let hw = self.partitions[g.first_partition.at(local)].high_watermark();
                let lag = hw.saturating_sub(committed.unwrap_or(0));
                let member = (0..g.instances).map(|i| g.first_consumer.plus(i)).find(|&c| {
                    let cs = &self.consumers[c];
                    cs.up && cs.assigned.contains(&local)
                });
                let (group, partition, member) = (group.raw(), local.raw(), member.map(|c| c.raw()));
                self.lag_samples.push(LagSample { at: self.now, group, partition, member, lag });
            }
        }
        let log_end_lag = self.oracle.observed.log_end_lag();
        self.samples.push(Sample { at: self.now, lag, log_end_lag, delivered, duplicates, redelivered });
    }
}
