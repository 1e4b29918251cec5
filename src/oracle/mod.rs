//! The oracle: the ledger of every record's life, the trace, and the checkers
//! that turn them into counts.

pub mod checkers;
pub mod explain;
pub mod ledger;
pub mod metrics;
pub mod minimize;
pub mod series;
pub mod trace;
