//! `streamsim check`: run every scenario of some files and directories and
//! check its expectations. Each scenario counts once: passed, failed, or
//! could not run (it did not load, did not run, or its report could not be
//! written).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::error::{CliError, EXIT_ERROR, EXIT_FAILED};
use crate::cli::load::{load, traced, RunOptions};
use crate::cli::output::{errln, outln};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::report::folder;
use crate::scenario::Scenario;

/// The scenario files named by `paths`: files as given, directories' `.yaml` files sorted.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| CliError::io(format!("cannot read directory `{}`", p.display()), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(CliError::input(format!("no .yaml scenario files in `{}`", p.display())));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// What became of one scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    /// It did not load or run, or its report could not be written.
    Error,
}

/// Each scenario's report folder is `out/<name>`: two files with one name
/// would leave one report, and a folder holding an input would destroy it.
fn refuse_clashes(out: &Path, files: &[PathBuf], loaded: &[(&PathBuf, Scenario)]) -> Result<(), CliError> {
    let mut by_name: BTreeMap<&str, &PathBuf> = BTreeMap::new();
    for (file, sc) in loaded {
        if let Some(first) = by_name.insert(&sc.name, file) {
            return Err(CliError::usage(format!(
                "`{}` and `{}` are both named `{}`: their reports would both go to `{}`",
                first.display(),
                file.display(),
                sc.name,
                out.join(&sc.name).display()
            ))
            .hint("give each scenario its own `name:`"));
        }
    }
    let targets: Vec<PathBuf> = loaded.iter().map(|(_, sc)| out.join(&sc.name)).collect();
    let outputs: Vec<Output> = targets.iter().map(|t| Output { flag: "--out", path: t, folder: true }).collect();
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    refuse_overwriting(&inputs, &outputs)
}

pub fn check(paths: &[PathBuf], out: Option<&Path>) -> Result<ExitCode, CliError> {
    let files = scenario_files(paths)?;
    let mut verdicts = Vec::with_capacity(files.len());
    let mut loaded = Vec::new();
    for file in &files {
        match load(file) {
            Ok(l) => loaded.push((file, l.scenario)),
            Err(e) => {
                errln!("{}", e.report());
                verdicts.push(Verdict::Error);
            }
        }
    }
    if let Some(dir) = out {
        refuse_clashes(dir, &files, &loaded)?;
    }
    for (file, sc) in loaded {
        let v = check_one(file, sc, out).unwrap_or_else(|e| {
            errln!("{}", e.report());
            Verdict::Error
        });
        verdicts.push(v);
    }
    let count = |v: Verdict| verdicts.iter().filter(|&&x| x == v).count();
    let (passed, failed, errors) = (count(Verdict::Passed), count(Verdict::Failed), count(Verdict::Error));
    outln!("\n{} scenarios: {passed} passed, {failed} failed, {errors} could not run", files.len());
    Ok(if errors > 0 {
        ExitCode::from(EXIT_ERROR)
    } else if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs one scenario, prints its line, writes its report.
fn check_one(file: &Path, sc: Scenario, out: Option<&Path>) -> Result<Verdict, CliError> {
    let name = sc.name.clone();
    let target = out.map(|dir| dir.join(&name));
    if let Some(t) = &target {
        folder::check_target(t).map_err(|e| publish_error("the report", t, e))?;
    }
    let opts = RunOptions { label: name.clone(), quiet: false, trace: None, explain: out.is_some() };
    let o = traced(file, sc, opts)?;
    let s = &o.summary;
    let bad: Vec<_> = s.expectations.iter().filter(|e| !e.pass).collect();
    if bad.is_empty() {
        outln!("pass  {name:<28} {} expectations, {} events", s.expectations.len(), s.events);
    } else {
        outln!("FAIL  {name:<28} {} of {} expectations", bad.len(), s.expectations.len());
        for e in &bad {
            outln!("        {}: expected {}, actual {}", e.name, e.expected, e.actual);
        }
        outln!("        replay: streamsim run {} --seed {}", file.display(), s.seed);
    }
    if let Some(t) = &target {
        folder::write(t, &o).map_err(|e| publish_error("the report", t, e))?;
    }
    Ok(if bad.is_empty() { Verdict::Passed } else { Verdict::Failed })
}
