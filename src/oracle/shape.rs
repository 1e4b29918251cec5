//! The run's static shape, as the oracle knows it: the run (scenario name,
//! seed, duration, expectations), who exists, which group reads which
//! partitions, where each partition's replicas sit, which aggregation each
//! group runs. It is fixed before the first event and written into the trace
//! header, so `verify` can rebuild the same oracle from a trace file alone.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub run: RunShape,
    pub brokers: u32,
    pub producers: Vec<ProducerShape>,
    pub consumers: Vec<ConsumerShape>,
    pub groups: Vec<GroupShape>,
    pub partitions: Vec<PartitionShape>,
    pub transactional_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerShape {
    pub name: String,
    /// Key cardinality (0: null keys).
    pub keys: u32,
    /// Its transactional id (an index into `transactional_ids`), if any.
    pub txn: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerShape {
    pub name: String,
    pub group: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupShape {
    pub name: String,
    pub first_partition: u32,
    pub partitions: u32,
    /// `isolation.level=read_committed`.
    pub read_committed: bool,
    /// The windowed aggregation the group runs, if any.
    pub window: Option<WindowShape>,
}

/// What the summary names the run by and judges it against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunShape {
    pub scenario: String,
    pub seed: u64,
    pub semantics: Option<String>,
    /// `duration` (µs): the lag's growth is measured up to it.
    pub duration_us: u64,
    pub expect: Vec<ExpectShape>,
}

/// One `expect:` line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpectShape {
    /// A metric name (`oracle::metrics::METRICS`).
    pub name: String,
    /// `==`, `!=`, `<`, `<=`, `>` or `>=`.
    pub cmp: String,
    pub value: f64,
    /// As written in the file ("> 0").
    pub text: String,
}

impl ExpectShape {
    /// Whether `actual` meets it; None for an unknown comparison.
    pub fn holds(&self, actual: f64) -> Option<bool> {
        let v = self.value;
        Some(match self.cmp.as_str() {
            "==" => actual == v,
            "!=" => actual != v,
            "<" => actual < v,
            "<=" => actual <= v,
            ">" => actual > v,
            ">=" => actual >= v,
            _ => return None,
        })
    }
}

/// A group aggregation's windows (µs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowShape {
    Tumbling { size_us: u64 },
    Sliding { size_us: u64, slide_us: u64 },
    Session { gap_us: u64 },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionShape {
    /// `topic/index`.
    pub name: String,
    /// Brokers holding a replica, in preference order; the first leads at start.
    pub replicas: Vec<u32>,
}

impl Shape {
    /// Key cardinality per producer instance.
    pub fn keys_per_producer(&self) -> Vec<u32> {
        self.producers.iter().map(|p| p.keys).collect()
    }

    /// The group whose topic holds global partition `partition`, if any.
    pub fn groups_reading(&self, partition: u32) -> impl Iterator<Item = u32> + '_ {
        self.groups
            .iter()
            .enumerate()
            .filter(move |(_, g)| partition >= g.first_partition && partition < g.first_partition + g.partitions)
            .map(|(i, _)| i as u32)
    }
}
