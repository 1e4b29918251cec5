//! Scenario loading: YAML text → validated [`Scenario`].

pub mod model;

pub use model::*;
