//! The command line as clap parses it: every command, flag and its help.
//! Command and flag names never change (scripts call them); each command's work is in its own file.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "streamsim",
    version,
    about = "Deterministic simulator of Kafka-style streaming failure modes",
    long_about = "streamsim replays a scenario (producers, brokers, consumer groups, sinks, \
faults) in virtual time from a seed, and reports what was produced, acknowledged, lost, \
duplicated and reordered. Same scenario + seed = the same run, byte for byte.",
    after_help = "Examples:\n  streamsim run scenarios/at-least-once.yaml\n  streamsim run scenarios/homework.yaml --seed 42 --json\n  streamsim run scenarios/at-most-once.yaml --out /tmp/at-most-once\n  streamsim compare scenarios/homework.yaml --out /tmp/compare\n  streamsim check scenarios --out reports\n  streamsim validate scenarios/homework.yaml\n\nExit codes: 0 ok, 1 an `expect` failed, 2 bad input, usage or I/O error.\nOutputs: a report folder or file is written whole or not at all (the old one stays on any failure);\nan output onto an input, a link or a folder holding other files is refused (exit 2).\nA closed stdout (`| head`) stops the printing, not the work: every file is still written and the\nexit code is the work's (0 or 1)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: crate::cli::style::ColorChoice,
    /// No progress lines or notes on stderr (warnings and errors still print).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one scenario and print its summary.
    #[command(
        after_help = "The run ends when producers are done and everything is delivered, or at duration + drain.\nA failed `expect` exits 1 and prints expected vs actual.\n\n--trace -: the trace goes to stdout and the summary table to stderr (not with --json).\n--trace to a FIFO or a character device streams into it as the run goes; a file is put in place\nonly when the run is complete."
    )]
    Run {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Replace the scenario's seed.
        #[arg(short, long)]
        seed: Option<u64>,
        /// Write the report folder here (summary, charts, index.html, CSVs).
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print only the JSON summary on stdout.
        #[arg(long)]
        json: bool,
        /// Config and field overrides (`--producer-property K=V`, `--set FIELD=VALUE`, ...).
        #[command(flatten)]
        overrides: crate::cli::overrides::OverrideArgs,
        /// Replace the scenario's cap on processed events.
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
        /// Write the full event trace here, one JSON object per line (docs/trace-format.md);
        /// `-` for stdout.
        #[arg(long, value_name = "FILE.jsonl")]
        trace: Option<PathBuf>,
        /// Memory budget, e.g. `512MiB`, `4GiB` (replaces the scenario's `max_memory`, default 4GiB):
        /// a run estimated to need more is refused before it starts (exit 2).
        #[arg(long, value_name = "SIZE", value_parser = parse_max_memory)]
        max_memory: Option<u64>,
    },
    /// Run the same workload and seed under each semantics preset, side by side.
    #[command(
        after_help = "Examples:\n  streamsim compare scenarios/homework.yaml\n  streamsim compare scenarios/at-most-once.yaml scenarios/at-least-once.yaml\n  streamsim compare scenarios/homework.yaml --semantics at-least-once,exactly-once --json\n  streamsim compare scenarios/homework.yaml --variant 'acks1: --producer-property acks=1'\n  streamsim compare scenarios/homework.yaml --variant 's3: --set seed=3' --no-baseline --json\n\nEach preset only sets configs (see docs/model.md); what differs in the table comes from the runs.\nA value the file writes wins over the preset: a warning names each such field.\nA preset that cannot apply to the file exits 2 with the reason, after the other columns.\nWith several files, each runs as written (or under each --semantics preset).\n--variant 'NAME: FLAGS' adds a column NAME: the file with the global overrides, then FLAGS (the\noverride flags, quoted as in a shell); `baseline` is the file with the global overrides only\n(--no-baseline drops it). Without --semantics a variant runs the file as written; columns are\nfiles x presets x variants, labelled `FILE / PRESET / VARIANT`. A variant that cannot apply\nexits 2 before anything runs; one that changes nothing is warned about.\nWith --out: one report folder per column, overlaid charts and an index.html."
    )]
    Compare {
        /// The scenario file, or several files to run side by side (each as written).
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Config and field overrides (`--producer-property K=V`, `--set FIELD=VALUE`, ...).
        #[command(flatten)]
        overrides: crate::cli::overrides::OverrideArgs,
        /// Presets to compare, comma-separated (default: all four; with --variant: none).
        #[arg(long, value_delimiter = ',', value_name = "LIST")]
        semantics: Vec<String>,
        /// A named column with more overrides, after the global ones, e.g.
        /// `--variant 'fix: --producer-property acks=all --topic-config min.insync.replicas=2'`
        /// (repeatable; FLAGS are the override flags).
        #[arg(long = "variant", value_name = "NAME: FLAGS")]
        variants: Vec<String>,
        /// With --variant: no `baseline` column (the file with only the global overrides).
        #[arg(long, requires = "variants")]
        no_baseline: bool,
        /// Replace the scenario's seed.
        #[arg(short, long)]
        seed: Option<u64>,
        /// Write the comparison report here.
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print every column's summary as JSON (`{"compare": [{label, file, variant, overrides, summary}]}`).
        #[arg(long)]
        json: bool,
    },
    /// Run every scenario (files, or the .yaml files of directories) and check its expectations.
    #[command(
        after_help = "Each scenario counts once: passed, failed, or could not run (it did not load or run, or its\nreport could not be written). Exits 2 if any could not run, else 1 if any failed.\nWith --out, two files with the same `name:` are refused before anything runs."
    )]
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write one report folder per scenario under this directory.
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write a JUnit XML report here (one testcase per scenario, one failure per failed expectation).
        #[arg(long, value_name = "FILE.xml")]
        junit: Option<PathBuf>,
        /// A scenario with no `expect:` fails instead of passing.
        #[arg(long)]
        require_expect: bool,
        /// Print every scenario's verdict as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Memory budget, e.g. `512MiB`, `4GiB` (replaces the scenario's `max_memory`, default 4GiB):
        /// a run estimated to need more is refused before it starts (exit 2).
        #[arg(long, value_name = "SIZE", value_parser = parse_max_memory)]
        max_memory: Option<u64>,
    },
    /// Run one scenario over many seeds in parallel: each count's distribution and the failing seeds.
    #[command(
        after_help = "Examples:\n  streamsim sweep scenarios/at-least-once.yaml --seeds 0..100\n  streamsim sweep scenarios/at-least-once.yaml --seeds 0..100 --shard 1/2 --json > shard1.json\n  streamsim sweep scenarios/at-least-once.yaml --seeds 0..100 --shard 2/2 --json > shard2.json\n  streamsim sweep --merge shard1.json shard2.json\n\nResults are the same whatever --jobs is. Exits 1 if any seed failed an expectation.\nEach --json result names its scenario's fingerprint (the resolved scenario and the streamsim\nversion) and its exact seeds: --merge refuses shards of different scenarios or versions, an empty\nshard, and missing seeds (listed exactly) unless --partial.\n--shard auto takes the shard from a Kubernetes Indexed Job or a Slurm array: docs/distributed.md."
    )]
    Sweep {
        /// The scenario file (not with --merge).
        #[arg(required_unless_present = "merge")]
        file: Option<PathBuf>,
        /// Config and field overrides (`--producer-property K=V`, `--set FIELD=VALUE`, ...).
        #[command(flatten)]
        overrides: crate::cli::overrides::OverrideArgs,
        /// Seeds to run: A..B (B excluded) or A..=B.
        #[arg(long, value_name = "A..B", required_unless_present = "merge")]
        seeds: Option<String>,
        /// Threads (default: every core). At most one per seed and 4 per
        /// core; a note on stderr says when --jobs is capped.
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// Run only slice K of N of the seeds (for spreading a sweep over machines); `auto` takes
        /// K and N from a Kubernetes Indexed Job or a Slurm array (docs/distributed.md).
        #[arg(long, value_name = "K/N|auto")]
        shard: Option<String>,
        /// The shard count for `--shard auto` (required under Kubernetes: the Job's completions).
        #[arg(long, value_name = "N", requires = "shard")]
        shards: Option<u64>,
        /// Also write the JSON result into DIR, named after the scenario, seeds and shard
        /// (`NAME-A-B-shard-K-of-N.json`), for `--merge DIR` on a shared volume.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the per-seed results as JSON (what --merge reads).
        #[arg(long)]
        json: bool,
        /// Combine the JSON of sweep shards (files, or folders of .json files) instead of running.
        #[arg(long, num_args = 1.., value_name = "DIR|FILES", conflicts_with_all = ["file", "seeds", "shard", "shards", "out"])]
        merge: Vec<PathBuf>,
        /// With --merge: merge the shards there are, though seeds are missing (the report lists them).
        #[arg(long, requires = "merge")]
        partial: bool,
        /// Memory budget, e.g. `512MiB`, `4GiB` (replaces the scenario's `max_memory`, default 4GiB):
        /// a run estimated to need more is refused before it starts (exit 2).
        #[arg(long, value_name = "SIZE", value_parser = parse_max_memory)]
        max_memory: Option<u64>,
    },
    /// Explain each anomaly: the chain of steps that caused it, grouped by cause.
    #[command(
        after_help = "Examples:\n  streamsim explain scenarios/at-least-once.yaml --limit 3\n  streamsim explain scenarios/acks-1-leader-failover.yaml --kind lost\n  streamsim explain scenarios/at-most-once.yaml --record shop-0#5497\n  streamsim explain scenarios/retries-reorder.yaml --json\n  streamsim explain examples/scenarios/faults-at-least-once.yaml --minimize --out small.yaml\n\nEach step of a story names its line in the trace that `run --trace` writes for the same scenario and seed."
    )]
    Explain {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Replace the scenario's seed.
        #[arg(short, long)]
        seed: Option<u64>,
        /// Config and field overrides (`--producer-property K=V`, `--set FIELD=VALUE`, ...).
        #[command(flatten)]
        overrides: crate::cli::overrides::OverrideArgs,
        /// Only this kind of anomaly: lost, duplicate, reordered, late, redelivered,
        /// lost_write, unavailable, unsent, poll_skip, aborted_read or failed (failed sends,
        /// told only when asked for).
        #[arg(short, long, value_name = "KIND")]
        kind: Option<String>,
        /// Only this record: its name (`web-0#4711`, the producer instance and its
        /// place in that producer's send order) or its id in the trace.
        #[arg(long, value_name = "RECORD")]
        record: Option<String>,
        /// How many stories to show (default 10, or all with --json); the
        /// causes always count every anomaly.
        #[arg(short = 'n', long, value_name = "K")]
        limit: Option<usize>,
        /// Print the causes and stories as JSON.
        #[arg(long, conflicts_with = "minimize")]
        json: bool,
        /// Instead: shrink the failing scenario (fewer faults, fewer records, a
        /// shorter run) to one that still fails the same expectation, and write it as YAML.
        #[arg(long)]
        minimize: bool,
        /// With --minimize: where to write the smaller scenario (default: stdout).
        #[arg(long, value_name = "FILE.yaml", requires = "minimize")]
        out: Option<PathBuf>,
        /// Memory budget, e.g. `512MiB`, `4GiB` (replaces the scenario's `max_memory`, default 4GiB):
        /// a run estimated to need more is refused before it starts (exit 2).
        #[arg(long, value_name = "SIZE", value_parser = parse_max_memory)]
        max_memory: Option<u64>,
    },
    /// Check a scenario file without running it; prints what it resolved to.
    Validate {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Print every modelled config of every client, topic and broker with its value and
        /// where it came from (Kafka default for the version, preset, file, flag).
        #[arg(long)]
        effective: bool,
        /// Print what it resolved to (or, with --effective, every config) as JSON on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        overrides: crate::cli::overrides::OverrideArgs,
    },
    /// Print a shell completion script: `streamsim completions bash > ~/.local/share/bash-completion/completions/streamsim`.
    #[command(after_help = "Examples:
  streamsim completions bash
  streamsim completions zsh

Shells: bash, zsh, fish, elvish, powershell.")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Audit client configs: their failure modes under a fault catalogue, each with a proven fix.
    Audit(crate::cli::audit::AuditArgs),
    /// A run's faults, elections, ISR changes, rebalances, commit failures and aborts in time order.
    #[command(
        after_help = "Examples:\n  streamsim timeline scenarios/acks-1-leader-failover.yaml\n  streamsim timeline scenarios/homework.yaml --perfetto /tmp/homework.json --record web-0#100\n\n--perfetto writes Chrome trace-event JSON: open it in https://ui.perfetto.dev or chrome://tracing."
    )]
    Timeline {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Also write the run as Chrome trace-event JSON here (tracks per broker, producer, consumer).
        #[arg(long, value_name = "OUT.json")]
        perfetto: Option<PathBuf>,
        /// Follow this record (`web-0#123`): its steps in the timeline, flow arrows in the Perfetto file.
        #[arg(long, value_name = "NAME")]
        record: Option<String>,
    },
    /// The columns of `kafka-consumer-groups --describe` at a moment of the run (default: its end).
    #[command(
        after_help = "Examples:\n  streamsim consumer-groups scenarios/homework.yaml\n  streamsim consumer-groups scenarios/homework.yaml --at 35s\n\nLOG-END-OFFSET is the high watermark (what ListOffsets answers a read_uncommitted client);\n`-` marks no committed offset, no leader, or no member holding the partition, as Kafka prints it."
    )]
    ConsumerGroups {
        /// The scenario file (YAML, format v1).
        file: PathBuf,
        /// The virtual time to describe the groups at, e.g. `30s` (default: the end of the run).
        #[arg(long, value_name = "T")]
        at: Option<String>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Write each scenario's outcome counts into its `expect:` block, in place (comments and style kept).
    #[command(
        after_help = "Examples (pin edits the file: try it on a copy):\n  cp scenarios/at-least-once.yaml mine.yaml && streamsim pin mine.yaml --seeds 0..20\n  streamsim pin --check scenarios/at-least-once.yaml --seeds 0..5   # exit 1: not pinned, the diff is printed\n\nA count the same on every seed is pinned exactly; one that varies as a bound every seed meets\n(`\"<= N\"`, or `\">= N\"` for produced, acked, written and delivered), with a comment naming the\nrange seen. The `expect:` line records --seeds, so a later `pin` or `pin --check` reuses them.\nOther keys of `expect:` are left as written. Each file is replaced whole or not at all, and no\nfile is written when any of them fails to load.\n--check writes nothing: it prints the diff and exits 1 when a file would change."
    )]
    Pin {
        /// The scenario files (YAML, format v1).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Seeds to run: A..B (B excluded) or A..=B (default: the ones the file records, else its seed).
        #[arg(long, value_name = "A..B")]
        seeds: Option<String>,
        /// Write nothing; print the diff and exit 1 when a file would change.
        #[arg(long)]
        check: bool,
    },
    /// The catalogue of famous Kafka failures (scenarios/incidents/), one line each.
    #[command(
        after_help = "Examples:\n  streamsim incidents\n  streamsim incidents scenarios/incidents --json\n\nEach NAME.yaml reproduces an incident from its mechanism and cites its source in its header;\nNAME-fix.yaml is the same run with the fix: `compare NAME.yaml NAME-fix.yaml` sets them side by side\n(docs/incidents.md has the table)."
    )]
    Incidents {
        /// The incident folder (default: scenarios/incidents).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print the list as JSON (`{dir, incidents: [{name, file, description, fix}]}`).
        #[arg(long)]
        json: bool,
    },
    /// Recompute a run's summary from its trace file alone (no scenario, no simulation).
    #[command(
        after_help = "TRACE.jsonl is what `run FILE --trace TRACE.jsonl` wrote (format v3, docs/trace-format.md); - reads stdin.\nThe summary is the one `run` printed, key for key. A truncated, reordered, edited or foreign\ntrace, or the trace of a run that stopped early, exits 2 with the line and what is wrong.\nA failed `expect` (from the trace's header) exits 1."
    )]
    Verify {
        /// The trace file (`-`: standard input).
        #[arg(value_name = "TRACE.jsonl")]
        trace: PathBuf,
        /// Print only the JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `--max-memory`: a size like `512MiB` or `4GiB`.
fn parse_max_memory(text: &str) -> Result<u64, String> {
    crate::world::budget::parse_size(text)
}
