//! The stable library surface (semver, CHANGELOG.md): load a [`Scenario`], run it with a
//! [`Simulation`], read its [`Outcome`](crate::Outcome) and pin its [`Snapshot`]. Built on
//! the internal modules without changing them: the command line and the library load and
//! run scenarios through the same code.

mod error;
mod outcome;
mod scenario;
mod simulation;
mod snapshot;

pub use error::Error;
pub use outcome::Explanation;
pub use scenario::Scenario;
pub use simulation::Simulation;
pub use snapshot::{Snapshot, SnapshotAssignment, SnapshotExpectation};
