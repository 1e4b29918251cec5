//! A run of a scenario, configured as the `streamsim run` command line configures one.

use std::io::Write;

use super::{Error, Scenario};
use crate::scenario::{Override, OverrideKind, Overrides};
use crate::{Outcome, SimError};

/// Runs a [`Scenario`]: a builder for one run, then [`run`](Simulation::run).
///
/// ```
/// # let scenario = streamsim::Scenario::from_str(
/// #     "{name: s, duration: 1s, topics: [{name: t, partitions: 2}], producers: [{name: p, topic: t, rate: 100/s}], consumers: [{group: g, topic: t}]}",
/// #     "s.yaml",
/// # )?;
/// let trace = std::env::temp_dir().join("streamsim-doc-trace.jsonl");
/// let outcome = streamsim::Simulation::new(&scenario)
///     .seed(42)                                       // --seed 42
///     .producer_property("acks", "1")                 // --producer-property acks=1
///     .set("duration", "2s")                          // --set duration=2s
///     .keep_steps(true)                               // for Outcome::explain
///     .trace_to(std::fs::File::create(&trace).unwrap()) // --trace FILE
///     .run()?;
/// assert!(outcome.explain().is_some());
/// assert!(std::fs::read_to_string(&trace).unwrap().lines().count() > 1);
/// # Ok::<(), streamsim::Error>(())
/// ```
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    seed: Option<u64>,
    overrides: Vec<(OverrideKind, String, String)>,
    trace: Option<Box<dyn Write + Send>>,
    keep_steps: bool,
    progress: Option<Box<dyn FnMut(f64) + 'a>>,
}

impl<'a> Simulation<'a> {
    /// A run of `scenario` as its file says: its seed, no trace, no explanation.
    pub fn new(scenario: &'a Scenario) -> Simulation<'a> {
        Simulation { scenario, seed: None, overrides: Vec::new(), trace: None, keep_steps: false, progress: None }
    }

    /// Runs with this seed in place of the file's (`--seed`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// A producer config for every producer, e.g. `("acks", "all")`
    /// (`--producer-property acks=all`); it wins over the file.
    pub fn producer_property(self, key: &str, value: &str) -> Self {
        self.with(OverrideKind::Producer, key, value)
    }

    /// A consumer config for every consumer group (`--consumer-property`).
    pub fn consumer_property(self, key: &str, value: &str) -> Self {
        self.with(OverrideKind::Consumer, key, value)
    }

    /// A topic config for every topic (`--topic-config`).
    pub fn topic_config(self, key: &str, value: &str) -> Self {
        self.with(OverrideKind::Topic, key, value)
    }

    /// A broker config for every broker (`--broker-config`).
    pub fn broker_config(self, key: &str, value: &str) -> Self {
        self.with(OverrideKind::Broker, key, value)
    }

    /// A top-level scenario field, its value in YAML, e.g. `("duration", "30s")` or
    /// `("faults", "[]")` (`--set`).
    pub fn set(self, field: &str, value: &str) -> Self {
        self.with(OverrideKind::Set, field, value)
    }

    fn with(mut self, kind: OverrideKind, key: &str, value: &str) -> Self {
        self.overrides.push((kind, key.to_string(), value.to_string()));
        self
    }

    /// Writes the run's JSONL trace (docs/trace-format.md) to `writer` as it runs (`--trace`);
    /// it is flushed when the run ends. A run that stops early ends its trace with a line
    /// saying so, which `streamsim verify` refuses.
    pub fn trace_to(mut self, writer: impl Write + Send + 'static) -> Self {
        self.trace = Some(Box::new(writer));
        self
    }

    /// Keeps every step of the run in memory (48 bytes a step) so that
    /// [`Outcome::explain`] can name each anomaly's cause, and [`Outcome::snapshot`] lists
    /// the causes. Off by default. A run whose steps would not fit in half of the scenario's
    /// `max_memory` is refused before it starts ([`Error::Run`]).
    pub fn keep_steps(mut self, keep: bool) -> Self {
        self.keep_steps = keep;
        self
    }

    /// Calls `progress` as the run goes with the share of virtual time done, from 0 to 1
    /// (every 65536 events, and 1 once the run has finished).
    pub fn on_progress(mut self, progress: impl FnMut(f64) + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Loads the scenario with the overrides (in the order given; a later one wins), runs it
    /// to its end and derives its outcome. Same scenario, overrides and seed: the same outcome.
    pub fn run(self) -> Result<Outcome, Error> {
        let overrides = self
            .overrides
            .iter()
            .map(|(kind, k, v)| Override::parse(*kind, &format!("{k}={v}")).map_err(Error::Override))
            .collect::<Result<Vec<_>, _>>()?;
        let mut scenario = self.scenario.resolved(&Overrides(overrides))?;
        if let Some(seed) = self.seed {
            scenario.seed = seed;
        }
        let mut progress = self.progress.unwrap_or_else(|| Box::new(|_| {}));
        let file = self.scenario.file();
        let outcome =
            crate::simulate_with(scenario, &mut *progress, self.trace, self.keep_steps).map_err(|e| match e {
                SimError::Run(e) => Error::Run { file: file.to_string(), message: e.to_string() },
                SimError::Trace(e) => Error::Trace(e),
            })?;
        // The world reports every 65536 events; a short run may never have: the end is 1.
        progress(1.0);
        Ok(outcome)
    }
}
