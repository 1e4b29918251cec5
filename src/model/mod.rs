//! The Kafka model: producers, brokers and partitions, group coordinators,
//! the transaction coordinator, consumers, sinks and the network. Each file holds one entity's state and
//! the `World` handlers of the events that concern it.

pub mod aggregate;
pub mod assignor;
pub mod backoff;
pub mod broker;
pub mod consumer;
pub mod group;
pub mod ids;
pub mod network;
pub mod partitioner;
pub mod producer;
pub mod record;
pub mod sink;
pub mod txn;
