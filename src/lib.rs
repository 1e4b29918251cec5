//! streamsim: a deterministic discrete-event simulator of Kafka-style streaming failure modes.
//!
//! Flow: [`scenario`] (YAML → validated `Scenario`) → [`world`] (entities, events in
//! virtual time) → [`oracle`] (ledger → counts) → [`report`] (table, JSON).

pub mod cli;
pub mod faults;
pub mod kernel;
pub mod model;
pub mod oracle;
pub mod report;
pub mod scenario;
pub mod world;

use oracle::checkers::{summarize, Summary};
use scenario::Scenario;
use world::{RunError, Sample, World};

/// What one run produces.
pub struct Outcome {
    pub summary: Summary,
    pub samples: Vec<Sample>,
}

/// Runs a validated scenario to its end and derives its summary.
pub fn simulate(scenario: Scenario) -> Result<Outcome, RunError> {
    let mut world = World::new(scenario);
    world.run()?;
    let summary = summarize(&world);
    Ok(Outcome { summary, samples: std::mem::take(&mut world.samples) })
}
