//! `streamsim compare`: one workload and seed under several semantics presets, or several
//! scenario files side by side. A preset the file overrides is named with its fields; a
//! preset that cannot apply is an error (exit 2) with the reason, after the rest is shown.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::error::CliError;
use crate::cli::load::simulate_shown;
use crate::cli::output::{errln, out, outln};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::cli::preset_overrides::overridden;
use crate::oracle::checkers::Summary;
use crate::report::compare;
use crate::scenario::{load_file_overridden, Scenario, Semantics};
use crate::Outcome;

/// What `compare` was asked.
pub struct CompareArgs<'a> {
    pub files: &'a [PathBuf],
    pub semantics: &'a [String],
    pub seed: Option<u64>,
    pub out: Option<&'a Path>,
    pub json: bool,
    pub quiet: bool,
}

/// The presets named by `--semantics` (none: an empty list).
fn presets(names: &[String]) -> Result<Vec<Semantics>, CliError> {
    let mut presets = Vec::new();
    for n in names {
        match Semantics::ALL.iter().find(|s| s.name() == n.trim()) {
            Some(s) => presets.push(*s),
            None => {
                let all: Vec<&str> = Semantics::ALL.iter().map(|s| s.name()).collect();
                return Err(CliError::usage(format!("unknown semantics `{}`", n.trim()))
                    .hint(format!("choose from {}", all.join(", "))));
            }
        }
    }
    Ok(presets)
}

/// One column to run: a file, under a preset or as written.
struct Column<'a> {
    file: &'a Path,
    preset: Option<Semantics>,
}

/// One column's result, as `--json` prints it.
#[derive(Serialize)]
struct Compared<'a> {
    label: &'a str,
    file: String,
    summary: &'a Summary,
}

/// The columns: one file under each preset (default all four), or each file as written
/// (under each `--semantics` preset when given).
fn columns<'a>(files: &'a [PathBuf], presets: &[Semantics]) -> Vec<Column<'a>> {
    if files.len() == 1 {
        let all = [Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::EffectivelyOnce, Semantics::ExactlyOnce];
        let chosen = if presets.is_empty() { &all[..] } else { presets };
        return chosen.iter().map(|s| Column { file: &files[0], preset: Some(*s) }).collect();
    }
    let mut cols = Vec::new();
    for f in files {
        if presets.is_empty() {
            cols.push(Column { file: f, preset: None });
        }
        cols.extend(presets.iter().map(|s| Column { file: f, preset: Some(*s) }));
    }
    cols
}

/// Distinct labels: the preset for one file; else the scenario's name (its file's stem when
/// two share a name, then a number), with `-PRESET` when a preset is applied.
fn labels(single: bool, loaded: &[(&Column, Scenario)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (col, sc) in loaded {
        let preset = col.preset.map(|s| s.name());
        let mut label = match (single, preset) {
            (true, Some(p)) => p.to_string(),
            (_, p) => {
                let clash = loaded.iter().filter(|(c, s)| s.name == sc.name && c.file != col.file).count() > 0;
                let stem = col.file.file_stem().map(|s| s.to_string_lossy().into_owned());
                let base = if clash { stem.unwrap_or_else(|| sc.name.clone()) } else { sc.name.clone() };
                p.map_or(base.clone(), |p| format!("{base}-{p}"))
            }
        };
        let first = label.clone();
        let mut n = 2;
        while out.contains(&label) {
            label = format!("{first}-{n}");
            n += 1;
        }
        out.push(label);
    }
    out
}

/// The columns that loaded, each with its scenario, and the reasons of those that could not.
type LoadedColumns<'a> = (Vec<(&'a Column<'a>, Scenario)>, Vec<CliError>);

/// Loads every column; a preset that cannot apply is kept as the reason.
fn load_all<'a>(cols: &'a [Column<'a>], seed: Option<u64>) -> Result<LoadedColumns<'a>, CliError> {
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    for col in cols {
        match load_file_overridden(col.file, col.preset, crate::cli::overrides::current()) {
            Ok(l) => {
                let mut sc = l.scenario;
                if let Some(seed) = seed {
                    sc.seed = seed;
                }
                loaded.push((col, sc));
            }
            Err(e) if col.preset.is_some() => {
                let name = col.preset.map_or("", |s| s.name());
                let text = e.to_string();
                let e = text.strip_prefix("error: ").unwrap_or(&text);
                refused.push(CliError::input(format!("{}: the {name} preset cannot apply: {e}", col.file.display())).hint(
                    format!("fix the file's configs that contradict {name} (docs/model.md lists what each preset sets), or leave it out with --semantics"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((loaded, refused))
}

/// Warns when the file's own values replace what a column's preset sets.
fn warn_overrides(col: &Column, sc: &Scenario, label: &str) {
    let Some(sem) = col.preset.or(sc.semantics) else { return };
    let fields = overridden(sc, sem);
    if !fields.is_empty() {
        errln!(
            "{}",
            crate::cli::style::warning(&format!(
                "warning: {} overrides the {} preset: {}; the `{label}` column runs the file's values",
                col.file.display(),
                sem.name(),
                fields.join(", ")
            ))
        );
    }
}

pub fn compare(a: CompareArgs) -> Result<(), CliError> {
    let presets = presets(a.semantics)?;
    let cols = columns(a.files, &presets);
    let (loaded, mut refused) = load_all(&cols, a.seed)?;
    let labels = labels(a.files.len() == 1, &loaded);
    let layout = if a.files.len() == 1 { &compare::LAYOUT } else { compare::layout_for(&labels) };
    if let Some(dir) = a.out {
        let inputs: Vec<&Path> = a.files.iter().map(PathBuf::as_path).collect();
        refuse_overwriting(&inputs, &[Output { flag: "--out", path: dir, folder: true }])?;
        compare::check_target_as(dir, layout).map_err(|e| publish_error("the report", dir, e))?;
    }
    let mut runs: Vec<(String, Outcome)> = Vec::new();
    let mut ran: Vec<&Path> = Vec::new();
    for ((col, sc), label) in loaded.into_iter().zip(labels) {
        ran.push(col.file);
        warn_overrides(col, &sc, &label);
        let o = simulate_shown(sc, &label, a.quiet || a.json)
            .map_err(|e| CliError::input_because(format!("{} ({label})", col.file.display()), e))?;
        runs.push((label, o));
    }
    if runs.is_empty() {
        return Err(refused.pop().unwrap_or_else(|| CliError::input("no scenario could run")));
    }
    show(&a, &ran, &runs)?;
    if let Some(dir) = a.out {
        compare::write_as(dir, layout, &runs).map_err(|e| publish_error("the report", dir, e))?;
        if !a.json {
            outln!("\n  report written to {} (open index.html)", dir.display());
        }
    }
    match refused.len() {
        0 => Ok(()),
        _ => {
            for e in refused.iter().skip(1) {
                errln!("{}", e.report());
            }
            Err(refused.swap_remove(0))
        }
    }
}

/// The table, or the JSON of every column.
fn show(a: &CompareArgs, files: &[&Path], runs: &[(String, Outcome)]) -> Result<(), CliError> {
    if a.json {
        let items: Vec<Compared> = runs
            .iter()
            .zip(files)
            .map(|((label, o), f)| Compared { label, file: f.display().to_string(), summary: &o.summary })
            .collect();
        let j = serde_json::to_string_pretty(&serde_json::json!({ "compare": items }))
            .map_err(|e| CliError::input(e.to_string()))?;
        outln!("{j}");
        return Ok(());
    }
    let table = compare::table(runs);
    if a.files.len() > 1 {
        let names: Vec<String> = runs.iter().map(|(l, o)| format!("{l} (seed {})", o.summary.seed)).collect();
        let rest = table.split_once('\n').map_or("", |(_, r)| r);
        outln!("streamsim compare: {}", names.join(", "));
        out!("{rest}");
    } else {
        out!("{table}");
    }
    Ok(())
}
