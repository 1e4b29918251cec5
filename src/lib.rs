//! streamsim: a deterministic discrete-event simulator of Kafka-style streaming failure modes.
//!
//! As a library, streamsim loads a scenario, runs it and hands back its outcome: every count the
//! `streamsim run` command prints, and a [`Snapshot`] of them for snapshot tests (with
//! [insta](https://insta.rs), docs/snapshot-testing.md):
//!
//! ```
//! use streamsim::{Scenario, Simulation};
//!
//! let scenario = Scenario::from_str(
//!     "
//! name: quick
//! seed: 7
//! duration: 2s
//! drain: 2s
//! topics: [{ name: orders, partitions: 2 }]
//! producers: [{ name: app, topic: orders, rate: 200/s, config: { acks: all } }]
//! consumers: [{ group: billing, topic: orders, config: { auto.offset.reset: earliest } }]
//! ",
//!     "quick.yaml",
//! )?;
//! let outcome = Simulation::new(&scenario).seed(3).producer_property("acks", "1").run()?;
//! let snapshot = outcome.snapshot();
//! assert_eq!(snapshot.seed, 3);
//! assert_eq!(snapshot.counts["produced"], outcome.summary().produced);
//! assert_eq!(snapshot.counts["lost"], 0);
//! # Ok::<(), streamsim::Error>(())
//! ```
//!
//! A scenario that does not load gives an [`Error`] that prints as the command line prints it,
//! with file, line, column and field:
//!
//! ```
//! let err = streamsim::Scenario::from_str("name: x\nduration: 5q\n", "x.yaml").unwrap_err();
//! assert!(err.to_string().starts_with("error: x.yaml:2:"), "{err}");
//! ```
//!
//! # Stability
//!
//! The items documented here (the crate root: [`Scenario`], [`Simulation`], [`Outcome`]'s
//! methods, [`Snapshot`], [`Explanation`], [`Error`], [`Summary`], [`Series`]) follow semantic
//! versioning, as CHANGELOG.md says. Everything else (the modules behind them, hidden from these
//! docs, which the command line, the tests and the benches use) may change in any release.
//!
//! # Features
//!
//! - `cli` (default): the `streamsim` command; it turns on `charts`.
//! - `charts` (default): SVG and PNG charts and the report folders that hold them.
//!
//! With `default-features = false` the library builds without clap, plotters, rayon, indicatif
//! or the bundled font.
//!
//! Inside, the flow is `scenario` (YAML → validated scenario) → `world` (entities, events in
//! virtual time) → `oracle` (ledger → counts) → `report` (table, JSON); docs/architecture.md
//! maps the files.

#![deny(missing_docs)]

mod api;

#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod audit;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod clientconf;
#[doc(hidden)]
pub mod faults;
#[doc(hidden)]
pub mod kernel;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod oracle;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod scenario;
#[doc(hidden)]
pub mod world;

pub use api::{Error, Explanation, Scenario, Simulation, Snapshot, SnapshotAssignment, SnapshotExpectation};
pub use oracle::checkers::Summary;
pub use oracle::series::Series;

use oracle::checkers::summarize_with_losses;
use world::{RunError, Sample, World};

/// What one run produces: its [`summary`](Outcome::summary), [`series`](Outcome::series),
/// [`explain`](Outcome::explain) and [`snapshot`](Outcome::snapshot).
///
/// Its fields are for streamsim's own commands and may change in any release; the methods
/// are the stable view.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Outcome {
    #[doc(hidden)]
    pub summary: Summary,
    #[doc(hidden)]
    pub samples: Vec<Sample>,
    /// Per sample, each group partition's lag and the member holding it.
    #[doc(hidden)]
    pub lag: Vec<LagRow>,
    /// Faults, losses and latency over time, for charts.
    #[doc(hidden)]
    pub series: Series,
    /// What `explain` found, in lines: the mechanisms that recur, then every
    /// cause, most frequent first (filled when the run was explained, see `simulate_with`).
    #[doc(hidden)]
    pub causes: Vec<String>,
    /// Up to [`STORIES_KEPT`] of explain's stories, as text (filled when explained).
    #[doc(hidden)]
    pub stories: Vec<String>,
    /// The run's incidents in time order, with names (`report::timeline`).
    #[doc(hidden)]
    pub timeline: Vec<report::timeline::Entry>,
    /// The scenario file the run came from, when a command ran one (the
    /// report shows its text and the command that replays it).
    #[doc(hidden)]
    pub source: Option<Source>,
    /// Whether the run kept its steps and explained its anomalies (`causes`, `stories`).
    #[doc(hidden)]
    pub explained: bool,
}

/// Stories an explained run keeps for its report.
#[doc(hidden)]
pub const STORIES_KEPT: usize = 10;

/// A scenario file: its path as given and its text.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// One partition's lag at one sample time, with names resolved.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagRow {
    pub at_ms: u64,
    pub group: String,
    pub partition: u32,
    /// The consumer instance holding the partition; empty when nobody does.
    pub member: String,
    pub lag: u64,
}

/// Runs a validated scenario to its end and derives its summary.
#[doc(hidden)]
pub fn simulate(scenario: scenario::Scenario) -> Result<Outcome, RunError> {
    simulate_with_progress(scenario, &mut |_| {})
}

/// `simulate`, reporting the share of virtual time done as it goes.
#[doc(hidden)]
pub fn simulate_with_progress(
    scenario: scenario::Scenario,
    progress: &mut dyn FnMut(f64),
) -> Result<Outcome, RunError> {
    simulate_with(scenario, progress, None::<std::fs::File>, false).map_err(|e| match e {
        SimError::Run(e) => e,
        SimError::Trace(_) => unreachable!("no trace was written"),
    })
}

/// Why a traced run failed.
#[doc(hidden)]
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot write the trace: {0}")]
    Trace(std::io::Error),
}

/// `simulate`, with progress, writing the JSONL trace (docs/trace-format.md)
/// to `trace` if given, and with `explain`, keeping every step in memory to
/// find the causes of the anomalies (48 bytes per step).
#[doc(hidden)]
pub fn simulate_with<W: std::io::Write + Send + 'static>(
    scenario: scenario::Scenario,
    progress: &mut dyn FnMut(f64),
    trace: Option<W>,
    explain: bool,
) -> Result<Outcome, SimError> {
    let keep = world::budget::Keep { lag_rows: explain, steps: explain };
    let mut scenario = scenario;
    scenario.max_memory = world::budget::limit(&scenario);
    world::budget::check(&scenario, keep, scenario.max_memory).map_err(RunError::from)?;
    let mut world = World::new(scenario);
    world.keep_lag_rows = explain;
    world.bytes_per_record = world::budget::per_record(&world.scenario, keep);
    if explain {
        world.oracle.trace.kept = Some(oracle::kept::Kept::default());
    }
    if let Some(file) = trace {
        world.oracle.trace.write_to(file);
        world.oracle.write_header();
    }
    if let Err(e) = world.run_with_progress(progress) {
        // A trace streamed to stdout says the run stopped early, so `verify` refuses it.
        world.oracle.trace.cut(world.end_time().us(), &e.to_string());
        let _ = world.oracle.trace.finish();
        return Err(e.into());
    }
    world.oracle.trace.finish().map_err(SimError::Trace)?;
    let (summary, lost_sent) = summarize_with_losses(&world);
    let series = oracle::series::series(&world, &lost_sent);
    let lag = world
        .lag_samples
        .iter()
        .map(|l| LagRow {
            at_ms: l.at.ms(),
            group: world.groups[l.group as usize].name.clone(),
            partition: l.partition,
            member: l.member.map_or(String::new(), |c| world.consumers[c as usize].name.clone()),
            lag: l.lag,
        })
        .collect();
    let (causes, stories) = if explain {
        let e = oracle::explain::explain(&world, &lost_sent);
        let mut lines = oracle::explain::mechanism_lines(&e);
        lines.extend(oracle::explain::cause_lines(&e));
        (lines, e.sample(STORIES_KEPT).iter().map(|s| s.text()).collect())
    } else {
        (Vec::new(), Vec::new())
    };
    let timeline = report::timeline::entries(&world.oracle.observed.shape, &world.oracle.incidents);
    let samples = std::mem::take(&mut world.samples);
    Ok(Outcome { summary, samples, lag, series, causes, stories, timeline, source: None, explained: explain })
}

/// A world whose memory budget counts a kept step (or fact) per record:
/// refused before it runs when that would not fit in `max_memory`.
fn world_keeping_steps(mut scenario: scenario::Scenario) -> Result<World, RunError> {
    let keep = world::budget::Keep { lag_rows: false, steps: true };
    scenario.max_memory = world::budget::limit(&scenario);
    world::budget::check(&scenario, keep, scenario.max_memory)?;
    let mut world = World::new(scenario);
    world.bytes_per_record = world::budget::per_record(&world.scenario, keep);
    Ok(world)
}

/// A run explained: its summary, every anomaly's story, and the world they
/// were read from (its `trace.kept` holds every step the stories point at;
/// its replica logs and payloads are released: the oracle holds its own).
#[doc(hidden)]
pub struct Explained {
    pub summary: Summary,
    pub explanation: oracle::explain::Explanation,
    pub world: World,
}

/// Runs a scenario keeping every step, and explains each lost, duplicated,
/// reordered and late record.
#[doc(hidden)]
pub fn simulate_explained(scenario: scenario::Scenario) -> Result<Explained, RunError> {
    let mut world = world_keeping_steps(scenario)?;
    world.oracle.trace.kept = Some(oracle::kept::Kept::default());
    world.run()?;
    let (summary, lost) = summarize_with_losses(&world);
    world.release_logs();
    let explanation = oracle::explain::explain(&world, &lost);
    Ok(Explained { summary, explanation, world })
}

/// A run with every fact kept: what the views (`timeline`, `consumer-groups`,
/// the Perfetto trace) read back. The shape names every id the facts hold.
#[doc(hidden)]
pub struct Taped {
    pub summary: Summary,
    pub shape: oracle::shape::Shape,
    /// Every fact and its time (µs), in the order the run emitted them.
    pub facts: Vec<(u64, oracle::fact::Fact)>,
    /// When the run ended (µs).
    pub end_us: u64,
}

/// Runs a scenario keeping every fact (the memory budget counts them as it
/// counts `explain`'s steps).
#[doc(hidden)]
pub fn simulate_taped(scenario: scenario::Scenario) -> Result<Taped, RunError> {
    let mut world = world_keeping_steps(scenario)?;
    world.oracle.tape = Some(Vec::new());
    world.run()?;
    let (summary, _) = summarize_with_losses(&world);
    let facts = world.oracle.tape.take().unwrap_or_default();
    Ok(Taped { summary, shape: world.oracle.observed.shape.clone(), facts, end_us: world.end_time().us() })
}
