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
use crate::cli::variant::{self, Variant, BASELINE};
use crate::oracle::checkers::Summary;
use crate::report::compare;
use crate::scenario::{load_file_overridden, LoadError, Overrides, Scenario, Semantics};
use crate::Outcome;

/// What `compare` was asked.
pub struct CompareArgs<'a> {
    pub files: &'a [PathBuf],
    pub semantics: &'a [String],
    /// `--variant 'NAME: FLAGS'`, as typed.
    pub variants: &'a [String],
    pub no_baseline: bool,
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

/// One column to run: a file, under a preset or as written, with a variant's overrides or not.
#[derive(Clone, Copy)]
struct Column<'a> {
    file: &'a Path,
    preset: Option<Semantics>,
    variant: Option<&'a Variant>,
}

impl<'a> Column<'a> {
    /// The overrides the column runs with: the command line's, then its variant's (a later
    /// one wins).
    fn overrides(&self) -> Overrides {
        let mut all = crate::cli::overrides::current().clone();
        if let Some(v) = self.variant {
            all.0.extend(v.overrides.0.iter().cloned());
        }
        all
    }

    /// The same file and preset with only the command line's overrides.
    fn baseline(&self) -> Column<'a> {
        Column { variant: None, ..*self }
    }

    /// ` under PRESET`, or nothing.
    fn under(&self) -> String {
        self.preset.map_or(String::new(), |s| format!(" under {}", s.name()))
    }
}

/// One column's result, as `--json` prints it.
#[derive(Serialize)]
struct Compared<'a> {
    label: &'a str,
    file: String,
    /// The variant's name; null for a column without one (the baseline).
    variant: Option<&'a str>,
    /// Every override flag the column ran with, as typed: the global ones, then the variant's.
    overrides: Vec<String>,
    summary: &'a Summary,
}

/// The columns: one file under each preset (default all four), or each file as written
/// (under each `--semantics` preset when given). With variants: for each file, and each preset
/// if any, the baseline (unless `no_baseline`) then each variant in the order given.
fn columns<'a>(
    files: &'a [PathBuf],
    presets: &[Semantics],
    variants: &'a [Variant],
    no_baseline: bool,
) -> Vec<Column<'a>> {
    let col = |file: &'a PathBuf, preset, variant| Column { file: file.as_path(), preset, variant };
    if variants.is_empty() && files.len() == 1 {
        let all = [Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::EffectivelyOnce, Semantics::ExactlyOnce];
        let chosen = if presets.is_empty() { &all[..] } else { presets };
        return chosen.iter().map(|s| col(&files[0], Some(*s), None)).collect();
    }
    let mut chosen: Vec<Option<Semantics>> = presets.iter().copied().map(Some).collect();
    if chosen.is_empty() {
        chosen.push(None);
    }
    let mut cols = Vec::new();
    for f in files {
        for p in &chosen {
            if variants.is_empty() || !no_baseline {
                cols.push(col(f, *p, None));
            }
            cols.extend(variants.iter().map(|v| col(f, *p, Some(v))));
        }
    }
    cols
}

/// The scenario's name, or its file's stem when another file has the same name.
fn file_label(col: &Column, sc: &Scenario, loaded: &[(&Column, Scenario)]) -> String {
    let clash = loaded.iter().any(|(c, s)| s.name == sc.name && c.file != col.file);
    let stem = col.file.file_stem().map(|s| s.to_string_lossy().into_owned());
    if clash {
        stem.unwrap_or_else(|| sc.name.clone())
    } else {
        sc.name.clone()
    }
}

/// A column's label: the preset for one file; else the file's label, with `-PRESET` when a
/// preset is applied. With variants: `FILE / PRESET / VARIANT` (each part there is: the file
/// with several files, the preset with presets), `baseline` for no variant.
fn label(single: bool, variants: bool, col: &Column, sc: &Scenario, loaded: &[(&Column, Scenario)]) -> String {
    let preset = col.preset.map(|s| s.name());
    if variants {
        let mut parts = Vec::new();
        if !single {
            parts.push(file_label(col, sc, loaded));
        }
        parts.extend(preset.map(str::to_string));
        parts.push(col.variant.map_or(BASELINE, |v| v.name.as_str()).to_string());
        return parts.join(" / ");
    }
    match (single, preset) {
        (true, Some(p)) => p.to_string(),
        (_, p) => {
            let base = file_label(col, sc, loaded);
            p.map_or(base.clone(), |p| format!("{base}-{p}"))
        }
    }
}

/// Distinct labels (a number is added to a repeat), distinct as report folders too.
fn labels(single: bool, variants: bool, loaded: &[(&Column, Scenario)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (col, sc) in loaded {
        let first = label(single, variants, col, sc, loaded);
        let mut label = first.clone();
        let mut n = 2;
        while out.iter().any(|o| compare::folder_name(o) == compare::folder_name(&label)) {
            label = format!("{first}-{n}");
            n += 1;
        }
        out.push(label);
    }
    out
}

/// The columns that loaded, each with its scenario, and the reasons of those that could not.
type LoadedColumns<'a> = (Vec<(&'a Column<'a>, Scenario)>, Vec<CliError>);

/// Loads a column's scenario with its overrides; `--seed` applies unless its variant sets
/// the seed itself.
fn load_column(col: &Column, seed: Option<u64>) -> Result<Scenario, LoadError> {
    let mut sc = load_file_overridden(col.file, col.preset, &col.overrides())?.scenario;
    if let Some(seed) = seed.filter(|_| !col.variant.is_some_and(Variant::sets_seed)) {
        sc.seed = seed;
    }
    Ok(sc)
}

/// Loads every column; a preset that cannot apply is kept as the reason (once per file and
/// preset). A variant that cannot apply where its baseline does is an error at once.
fn load_all<'a>(cols: &'a [Column<'a>], seed: Option<u64>) -> Result<LoadedColumns<'a>, CliError> {
    let mut loaded = Vec::new();
    let mut refused: Vec<CliError> = Vec::new();
    for col in cols {
        let e = match load_column(col, seed) {
            Ok(sc) => {
                warn_unchanged(col, &sc, seed);
                loaded.push((col, sc));
                continue;
            }
            Err(e) => e,
        };
        let e = match col.variant.map(|v| (v, load_column(&col.baseline(), seed))) {
            Some((v, Ok(_))) => return Err(variant_refused(v, col, e)),
            Some((_, Err(base))) => base,
            None => e,
        };
        if col.preset.is_none() {
            return Err(e.into());
        }
        let r = preset_refused(col, e);
        if !refused.iter().any(|x| x.report() == r.report()) {
            refused.push(r);
        }
    }
    Ok((loaded, refused))
}

/// Why a preset cannot apply to a column's file.
fn preset_refused(col: &Column, e: LoadError) -> CliError {
    let name = col.preset.map_or("", |s| s.name());
    let text = e.to_string();
    let e = text.strip_prefix("error: ").unwrap_or(&text);
    CliError::input(format!("{}: the {name} preset cannot apply: {e}", col.file.display())).hint(format!(
        "fix the file's configs that contradict {name} (docs/model.md lists what each preset sets), or leave it out with --semantics"
    ))
}

/// Why a variant cannot apply, where the file loads without it: the loader's reason and hint.
fn variant_refused(v: &Variant, col: &Column, e: LoadError) -> CliError {
    let at = if e.line == 0 { e.file.clone() } else { format!("{}:{}:{}", e.file, e.line, e.column) };
    let hint = e.hint.unwrap_or_else(|| {
        "a variant's flags take what the same flags take on the command line: configs and fields the file has, valid values".to_string()
    });
    CliError::input(format!(
        "variant `{}` cannot apply to {}{}: {at}: {}",
        v.name,
        col.file.display(),
        col.under(),
        e.message
    ))
    .hint(hint)
}

/// Warns when a variant's column would run exactly its baseline's scenario.
fn warn_unchanged(col: &Column, sc: &Scenario, seed: Option<u64>) {
    let Some(v) = col.variant else { return };
    if load_column(&col.baseline(), seed).is_ok_and(|base| base == *sc) {
        errln!(
            "{}",
            crate::cli::style::warning(&format!(
                "warning: variant `{}` changes nothing for {}{}: `{}` runs the baseline's scenario (those values are already set, or not modelled)",
                v.name,
                col.file.display(),
                col.under(),
                flags_text(&v.overrides)
            ))
        );
    }
}

/// Warns when the file's own values replace what a column's preset sets.
fn warn_overrides(col: &Column, sc: &Scenario, label: &str) {
    let Some(sem) = col.preset.or(sc.semantics) else { return };
    let fields = overridden(sc, sem);
    if !fields.is_empty() {
        // A variant's flags may be what overrides the preset, not the file alone.
        let (who, values) = match col.variant {
            Some(v) => (format!(" with variant `{}`", v.name), "those values"),
            None => (String::new(), "the file's values"),
        };
        errln!(
            "{}",
            crate::cli::style::warning(&format!(
                "warning: {}{who} overrides the {} preset: {}; the `{label}` column runs {values}",
                col.file.display(),
                sem.name(),
                fields.join(", ")
            ))
        );
    }
}

pub fn compare(a: CompareArgs) -> Result<(), CliError> {
    let presets = presets(a.semantics)?;
    let variants = variant::parse_all(a.variants)?;
    let cols = columns(a.files, &presets, &variants, a.no_baseline);
    let (loaded, mut refused) = load_all(&cols, a.seed)?;
    let labels = labels(a.files.len() == 1, !variants.is_empty(), &loaded);
    let layout =
        if a.files.len() == 1 && variants.is_empty() { &compare::LAYOUT } else { compare::layout_for(&labels) };
    if let Some(dir) = a.out {
        let inputs: Vec<&Path> = a.files.iter().map(PathBuf::as_path).collect();
        refuse_overwriting(&inputs, &[Output { flag: "--out", path: dir, folder: true }])?;
        compare::check_target_as(dir, layout).map_err(|e| publish_error("the report", dir, e))?;
    }
    let mut runs: Vec<(String, Outcome)> = Vec::new();
    let mut ran: Vec<&Column> = Vec::new();
    for ((col, sc), label) in loaded.into_iter().zip(labels) {
        ran.push(col);
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
        let flags: Vec<String> = ran.iter().map(|c| flags_text(&c.overrides())).collect();
        compare::write_as(dir, layout, &runs, &flags).map_err(|e| publish_error("the report", dir, e))?;
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

/// Override flags as typed, space-separated.
fn flags_text(o: &Overrides) -> String {
    o.0.iter().map(|o| o.flag_text()).collect::<Vec<_>>().join(" ")
}

/// The table, or the JSON of every column.
fn show(a: &CompareArgs, cols: &[&Column], runs: &[(String, Outcome)]) -> Result<(), CliError> {
    if a.json {
        let items: Vec<Compared> = runs
            .iter()
            .zip(cols)
            .map(|((label, o), col)| Compared {
                label,
                file: col.file.display().to_string(),
                variant: col.variant.map(|v| v.name.as_str()),
                overrides: col.overrides().0.iter().map(|o| o.flag_text()).collect(),
                summary: &o.summary,
            })
            .collect();
        let j = serde_json::to_string_pretty(&serde_json::json!({ "compare": items }))
            .map_err(|e| CliError::input(e.to_string()))?;
        outln!("{j}");
        return Ok(());
    }
    let table = compare::table(runs);
    // One header line for one scenario and seed; else each column's label and seed.
    let seeds_differ = runs.iter().any(|(_, o)| o.summary.seed != runs[0].1.summary.seed);
    if a.files.len() > 1 || seeds_differ {
        let names: Vec<String> = runs.iter().map(|(l, o)| format!("{l} (seed {})", o.summary.seed)).collect();
        let rest = table.split_once('\n').map_or("", |(_, r)| r);
        outln!("streamsim compare: {}", names.join(", "));
        out!("{rest}");
    } else {
        out!("{table}");
    }
    Ok(())
}
