//! streamsim: a deterministic discrete-event simulator of Kafka-style streaming failure modes.
//!
//! Flow: [`scenario`] (YAML → validated `Scenario`) → [`world`] (entities, events in
//! virtual time) → [`oracle`] (ledger → counts) → [`report`] (table, JSON).

pub mod kernel;
pub mod oracle;
pub mod model;
pub mod scenario;
pub mod world;
