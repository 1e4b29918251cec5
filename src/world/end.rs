//! The end of a run, told to the oracle as facts: what each producer, group,
//! partition and aggregation holds when the run stops, then `End`. The
//! summary reads these facts (never the world), so a trace file carries
//! everything `verify` needs.

use crate::oracle::fact::Fact;
use crate::world::World;

impl World {
    /// Emits the end-of-run facts, once, after the last event and the
    /// aggregations' final firings.
    pub(crate) fn report_end(&mut self) {
        let at = self.end_time();
        for (producer, p) in self.producers.iter_enumerated() {
            let fact = Fact::ProducerEnd { producer, blocked_us: p.blocked_until(at), max_backlog: p.max_backlog };
            self.oracle.emit(at, fact);
        }
        for (group, g) in self.groups.iter_enumerated() {
            let members = g.members.len() as u64;
            let assigned_partitions = g.members.iter().map(|m| m.assigned.len() as u64).sum();
            self.oracle.emit(at, Fact::GroupEnd { group, members, assigned_partitions });
        }
        for (partition, part) in self.partitions.iter_enumerated() {
            let (leader, log_end, high_watermark) =
                (part.leader_broker(), part.log_end_offset(), part.high_watermark());
            self.oracle.emit(at, Fact::PartitionEnd { partition, leader, log_end, high_watermark });
            for (r, rep) in part.replicas.iter_enumerated() {
                self.oracle.emit(at, Fact::ReplicaEnd { partition, broker: rep.broker, in_isr: part.in_isr(r) });
            }
        }
        self.report_aggregates(at);
        self.oracle.emit(at, Fact::End { events: self.events });
    }

    /// Every group aggregation's counters and the results it emitted last.
    fn report_aggregates(&mut self, at: crate::kernel::time::Instant) {
        for (group, g) in self.groups.iter_enumerated() {
            let Some(agg) = g.aggregate.as_ref() else { continue };
            let c = &agg.counters;
            let (fired, corrected, dropped_events) = (c.fired, c.corrected, c.dropped_events);
            self.oracle.emit(at, Fact::AggregateEnd { group, fired, corrected, dropped_events });
            for ((key, start_us, end_us), (count, fired_us)) in agg.results() {
                self.oracle.emit(at, Fact::Window { group, key, start_us, end_us, count, fired_us });
            }
        }
    }
}
