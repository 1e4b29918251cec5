//! Scenario loading: YAML text → validated [`Scenario`], with errors that
//! name the file, line, column and field.

pub mod kafka_names;
pub mod load;
pub mod locate;
pub mod model;
pub mod units;

pub use load::{load_file, load_str, LoadError, Loaded, Warning};
pub use model::*;
