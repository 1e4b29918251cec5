//! `streamsim audit CONFIG...`: the failure modes of pasted client configs, each with the
//! config change that removes it, proven by re-running (see `crate::audit`).

use std::path::PathBuf;

use clap::Args;

use crate::audit::catalogue::{CATALOGUE, NOT_YET};
use crate::audit::report::{self, Header};
use crate::audit::workload::{self, Clients};
use crate::audit::{partitioners, Workload};
use crate::cli::error::CliError;
use crate::cli::output::{errln, outln};
use crate::clientconf::{self, Client};

#[derive(Args, Debug)]
#[command(
    after_help = "CONFIG: a Java .properties file, a `ProducerConfig values:` / `ConsumerConfig values:` log dump,\na librdkafka key=value file (kcat -F) or a Python dict literal (confluent_kafka). The dialect and\nclient are detected; --client says which. docs/audit.md describes the workload, the fault catalogue\nand how each fix is chosen and proven.\n\nExamples:\n  streamsim audit tests/fixtures/configs/loose-producer.properties tests/fixtures/configs/loose-consumer.properties\n  streamsim audit tests/fixtures/configs/confluent-consumer.py --json\n  streamsim audit tests/fixtures/configs/loose-producer.properties --incidents"
)]
pub struct AuditArgs {
    /// Client config files (producer and consumer).
    #[arg(required = true, value_name = "CONFIG")]
    configs: Vec<PathBuf>,
    /// Whose config names the files use (default: detected per file).
    #[arg(long, value_name = "java|librdkafka", value_parser = parse_client)]
    client: Option<Client>,
    /// The Kafka release whose defaults apply, e.g. 3.9 (default: the newest modelled).
    #[arg(long, value_name = "V")]
    kafka_version: Option<String>,
    /// A scenario whose producers and consumer groups get the configs (default: the audit workload).
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,
    /// Seeds to run each fault over: A..B (B excluded); each seed also moves the fault's timing.
    #[arg(long, value_name = "A..B", default_value = "0..5")]
    seeds: String,
    /// Threads (default: every core). Results are the same for any value.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Write an HTML report (index.html, audit.json) into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the audit as JSON.
    #[arg(long)]
    json: bool,
    /// Run the incident catalogue (default scenarios/incidents) with the configs instead of the
    /// fault catalogue: which incidents would hit you. Give it after the configs.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = crate::cli::incidents::DEFAULT_DIR,
          conflicts_with_all = ["workload", "out"])]
    incidents: Option<PathBuf>,
    #[command(flatten)]
    overrides: crate::cli::overrides::OverrideArgs,
}

fn parse_client(s: &str) -> Result<Client, String> {
    match s {
        "java" => Ok(Client::Java),
        "librdkafka" => Ok(Client::Librdkafka),
        _ => Err("expected `java` or `librdkafka`".to_string()),
    }
}

fn parse_seeds(text: &str) -> Result<Vec<u64>, CliError> {
    let bad = || CliError::usage(format!("--seeds {text}: expected A..B with A < B, e.g. 0..10"));
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a >= b || b - a > 10_000 {
        return Err(bad());
    }
    Ok((a..b).collect())
}

/// The configs, read and checked; the warnings the combination raises.
fn read_configs(a: &AuditArgs) -> Result<(Vec<clientconf::ClientConfig>, Vec<String>), CliError> {
    let configs = a.configs.iter().map(|p| clientconf::read_file(p, a.client)).collect::<Result<Vec<_>, _>>()?;
    let mut warnings = Vec::new();
    let rdk_hash = |c: &clientconf::ClientConfig| {
        c.client == Client::Librdkafka
            && c.role != clientconf::names::Role::Consumer
            && !c.entries.iter().any(|e| e.key == "partitioner" && e.value.starts_with("murmur2"))
    };
    let java_producer = configs.iter().any(|c| c.client == Client::Java && c.role != clientconf::names::Role::Consumer);
    if configs.iter().any(rdk_hash) && java_producer {
        let (n, ex) = partitioners::mismatch(1000, 12);
        let ex = ex
            .map(|(k, j, r)| format!(" (e.g. `{k}`: partition {j} from Java, {r} from librdkafka)"))
            .unwrap_or_default();
        warnings.push(format!(
            "mixed partitioners: the Java producer hashes keys with murmur2, librdkafka's consistent_random with CRC32: {n} of the workload's 1000 keys go to different partitions of 12{ex}, so one key's records are split and lose their order; set `partitioner=murmur2_random` on the librdkafka side"
        ));
    }
    Ok((configs, warnings))
}

fn workload_of(
    a: &AuditArgs,
    configs: &[clientconf::ClientConfig],
    clients: Clients,
) -> Result<(Workload, String), CliError> {
    let (text, name) = match &a.workload {
        Some(p) => {
            let (_, text) = crate::scenario::read_text(p)?;
            // The workload's own faults give way to the catalogue's.
            let text: String =
                text.lines().take_while(|l| !l.starts_with("faults:")).map(|l| format!("{l}\n")).collect();
            (text, p.display().to_string())
        }
        None => (workload::default_text(clients, a.kafka_version.as_deref()), "default (docs/audit.md)".to_string()),
    };
    let mut overrides = workload::config_overrides(configs, clients);
    overrides.0.extend(a.overrides.overrides().0);
    let probe = format!("{text}faults: []\n");
    let sc = crate::scenario::load_str_overridden(&probe, &name, None, &overrides)?.scenario;
    let session_ms = sc.consumers.first().map_or(45_000, |c| c.config.session_timeout.ms());
    Ok((Workload { text, overrides, session_ms }, name))
}

pub fn audit(a: AuditArgs) -> Result<(), CliError> {
    let seeds = parse_seeds(&a.seeds)?;
    let (configs, warnings) = read_configs(&a)?;
    let clients = workload::clients(&configs);
    if let Some(dir) = &a.incidents {
        let lines =
            crate::audit::incidents::lines(&configs, clients, &a.overrides.overrides(), a.kafka_version.as_deref());
        let own = "each incident's own".to_string();
        let h = Header { kafka_version: a.kafka_version.clone().unwrap_or(own), ..header(&a, clients, warnings) };
        return pool(a.jobs)?.install(|| crate::cli::incidents::audit(dir, &lines, &seeds, &h, a.json));
    }
    let (w, workload_name) = workload_of(&a, &configs, clients)?;
    let pool = pool(a.jobs)?;
    let quiet = a.json;
    let total = CATALOGUE.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |id: &str| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if !quiet {
            errln!("audit: [{n}/{total}] {id}");
        }
    };
    let rows = pool.install(|| crate::audit::audit(&w, &seeds, &progress)).map_err(CliError::usage)?;
    let h = Header { workload: workload_name, ..header(&a, clients, warnings) };
    if let Some(dir) = &a.out {
        write_out(dir, &h, &rows)?;
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report::json(&h, &rows, NOT_YET)).unwrap_or_default());
    } else {
        outln!("{}", report::table(&h, &rows, NOT_YET));
    }
    Ok(())
}

/// Threads for the runs (default: every core); results are the same for any number.
fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, CliError> {
    let threads =
        jobs.filter(|j| *j > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::input_because(format!("cannot start {threads} threads"), e))
}

fn header(a: &AuditArgs, clients: Clients, warnings: Vec<String>) -> Header {
    let client = if clients.producer == clients.consumer {
        clients.producer.name().to_string()
    } else {
        format!("{} producer, {} consumer", clients.producer.name(), clients.consumer.name())
    };
    let version = a.kafka_version.clone().unwrap_or_else(|| crate::scenario::KafkaVersion::NEWEST.to_string());
    Header {
        client,
        kafka_version: version,
        configs: a.configs.iter().map(|p| p.display().to_string()).collect(),
        workload: String::new(),
        seeds: a.seeds.clone(),
        warnings,
    }
}

fn write_out(dir: &std::path::Path, h: &Header, rows: &[crate::audit::FaultRow]) -> Result<(), CliError> {
    let io = |e| CliError::io(format!("cannot write the audit report to `{}`", dir.display()), e);
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("index.html"), report::html(h, rows, NOT_YET)).map_err(io)?;
    let json = serde_json::to_string_pretty(&report::json(h, rows, NOT_YET)).unwrap_or_default();
    std::fs::write(dir.join("audit.json"), json + "\n").map_err(io)?;
    Ok(())
}
