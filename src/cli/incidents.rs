//! `streamsim incidents`: the catalogue of famous Kafka failures in
//! `scenarios/incidents/`, one line each, read from the files themselves
//! (a new file joins the list without code). `NAME.yaml` is an incident and
//! `NAME-fix.yaml` its fix twin.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::error::CliError;
use crate::cli::output::{out, outln};
use crate::cli::style;

/// Where the catalogue lives in a checkout (the default folder).
pub const DEFAULT_DIR: &str = "scenarios/incidents";

/// One incident: its file, what it is, and its fix twin if there is one.
#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    pub name: String,
    pub file: String,
    pub description: String,
    pub fix: Option<String>,
}

pub fn incidents(dir: Option<&Path>, json: bool) -> Result<(), CliError> {
    let dir = dir.map_or_else(|| PathBuf::from(DEFAULT_DIR), Path::to_path_buf);
    let list = catalogue(&dir)?;
    if json {
        let value = serde_json::json!({ "dir": dir.display().to_string(), "incidents": list });
        out!("{}\n", serde_json::to_string_pretty(&value).expect("plain data serializes"));
        return Ok(());
    }
    let width = list.iter().map(|i| i.name.len()).max().unwrap_or(0);
    let twins = list.iter().filter(|i| i.fix.is_some()).count();
    outln!(
        "streamsim incidents: {} in {} ({} with a fix twin)",
        style::count(list.len() as u64, "incident", "incidents"),
        dir.display(),
        twins
    );
    for i in &list {
        let mark = if i.fix.is_some() { "" } else { "  (no fix twin)" };
        outln!("  {:<width$}  {}{mark}", i.name, i.description);
    }
    if let Some(i) = list.iter().find(|i| i.fix.is_some()) {
        let fix = i.fix.as_deref().unwrap_or_default();
        outln!("\nan incident beside its fix: streamsim compare {} {}", i.file, fix);
        outln!("why it happens:             streamsim explain {}", i.file);
    }
    Ok(())
}

/// Every incident of `dir` (its `.yaml` files without the `-fix` suffix), sorted by file name.
pub fn catalogue(dir: &Path) -> Result<Vec<Incident>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::io(format!("cannot read the incident folder `{}`", dir.display()), e)
            .hint(format!("run from a streamsim checkout (it ships `{DEFAULT_DIR}/`) or name the folder"))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let is_fix = |p: &Path| p.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.ends_with("-fix"));
    let mut list = Vec::new();
    for file in files.iter().filter(|p| !is_fix(p)) {
        let fix = twin_of(file).filter(|t| files.contains(t));
        list.push(incident(file, fix)?);
    }
    if list.is_empty() {
        return Err(CliError::input(format!("no incident files (NAME.yaml) in `{}`", dir.display())));
    }
    Ok(list)
}

/// `NAME-fix.yaml` beside `NAME.yaml`.
pub fn twin_of(file: &Path) -> Option<PathBuf> {
    let stem = file.file_stem()?.to_str()?;
    Some(file.with_file_name(format!("{stem}-fix.yaml")))
}

/// An incident's line: its `description:`, else its header's first comment line.
fn incident(file: &Path, fix: Option<PathBuf>) -> Result<Incident, CliError> {
    let loaded = crate::scenario::load_file(file).map_err(|e| CliError::input(e.to_string()))?;
    let sc = loaded.scenario;
    let description = match sc.description {
        Some(d) if !d.trim().is_empty() => d.trim().to_string(),
        _ => first_comment(file).unwrap_or_default(),
    };
    Ok(Incident {
        name: sc.name,
        file: file.display().to_string(),
        description,
        fix: fix.map(|f| f.display().to_string()),
    })
}

/// The first comment line of the file, without `#` and an `Incident:` label.
fn first_comment(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().map(str::trim).find(|l| l.starts_with('#') && l.len() > 1)?;
    let line = line.trim_start_matches('#').trim();
    Some(line.strip_prefix("Incident:").unwrap_or(line).trim().to_string())
}

/// `streamsim audit CONFIG... --incidents [DIR]`: every incident of `dir` (not the fix twins),
/// in file-name order, run with the pasted `lines` over `seeds` (see `crate::audit::incidents`).
pub fn audit(
    dir: &Path,
    lines: &[crate::audit::incidents::Line],
    seeds: &[u64],
    h: &crate::audit::report::Header,
    json: bool,
) -> Result<(), CliError> {
    use crate::audit::incidents as inc;
    let list = catalogue(dir)?;
    let read = |f: &str| {
        std::fs::read_to_string(f).map_err(|e| CliError::io(format!("cannot read the incident file `{f}`"), e))
    };
    let files = list
        .iter()
        .map(|i| {
            let twin = i.fix.as_deref().map(read).transpose()?;
            Ok(inc::IncidentFile { name: i.name.clone(), file: i.file.clone(), text: read(&i.file)?, twin })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let total = files.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |id: &str| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if !json {
            crate::cli::output::errln!("audit: [{n}/{total}] {id}");
        }
    };
    let rows = inc::audit_incidents(&files, lines, seeds, &progress).map_err(CliError::input)?;
    let dir = dir.display().to_string();
    if json {
        out!("{}\n", serde_json::to_string_pretty(&inc::json(h, &dir, &rows)).expect("plain data serializes"));
    } else {
        out!("{}", inc::table(h, &dir, &rows));
    }
    Ok(())
}
