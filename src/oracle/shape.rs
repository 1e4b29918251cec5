//! The run's static shape, as the oracle knows it: who exists, which group
//! reads which partitions, where each partition's replicas sit. It is fixed
//! before the first event and written into the trace header, so `verify`
//! can rebuild the same oracle from a trace file alone.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
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
