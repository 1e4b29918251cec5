//! Faults: the scenario's explicit fault list, plus seeded random ones (`chaos:`).

pub mod chaos;

use crate::scenario::{FaultSpec, Scenario};

/// The run's whole fault schedule: the file's faults and the chaos draws,
/// sorted by time (ties: the file's faults first, then chaos in draw order).
pub fn schedule(sc: &Scenario) -> Vec<FaultSpec> {
    let mut all = sc.faults.clone();
    all.extend(chaos::schedule(sc));
    all.sort_by_key(|f| f.at);
    all
}
