//! `streamsim check`: run every scenario of some files and directories and
//! check its expectations. Each scenario counts once: passed, failed, or
//! could not run (it did not load, did not run, or its report could not be
//! written).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::error::{CliError, EXIT_ERROR, EXIT_FAILED};
use crate::cli::load::{load, traced, RunOptions};
use crate::cli::output::{errln, outln};
use crate::cli::outputs::{publish_error, refuse_overwriting, Output};
use crate::cli::style;
use crate::oracle::checkers::{ExpectationOut, Summary};
use crate::report::folder;
use crate::report::junit::{Case, CaseOutcome};
use crate::report::publish::FileOutput;
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

/// What `check` was asked.
pub struct CheckArgs<'a> {
    pub paths: &'a [PathBuf],
    pub out: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    pub require_expect: bool,
    pub json: bool,
}

/// One scenario's verdict, as `--json` prints it.
#[derive(Serialize)]
struct Checked {
    file: String,
    name: Option<String>,
    verdict: &'static str,
    seed: Option<u64>,
    expectations: Vec<ExpectationOut>,
    error: Option<String>,
}

impl Checked {
    fn of(file: &Path, case: &Case, seed: Option<u64>, expectations: Vec<ExpectationOut>) -> Checked {
        let (verdict, error) = match &case.outcome {
            CaseOutcome::Passed { .. } => ("pass", None),
            CaseOutcome::Failed { .. } => ("fail", None),
            CaseOutcome::Refused { reason } => ("fail", Some(reason.clone())),
            CaseOutcome::Error { message } => ("error", Some(message.clone())),
        };
        let loaded = !matches!(case.outcome, CaseOutcome::Error { .. }) || seed.is_some();
        Checked {
            file: file.display().to_string(),
            name: loaded.then(|| case.name.clone()),
            verdict,
            seed,
            expectations,
            error,
        }
    }
}

pub fn check(a: CheckArgs) -> Result<ExitCode, CliError> {
    let files = scenario_files(a.paths)?;
    let mut checked: Vec<(usize, Case, Checked)> = Vec::with_capacity(files.len());
    let mut loaded = Vec::new();
    for (i, file) in files.iter().enumerate() {
        match load(file) {
            Ok(l) => loaded.push((file, l.scenario)),
            Err(e) => {
                errln!("{}", e.report());
                let case = Case {
                    name: file.display().to_string(),
                    file: file.display().to_string(),
                    outcome: CaseOutcome::Error { message: e.report() },
                };
                let row = Checked::of(file, &case, None, Vec::new());
                checked.push((i, case, row));
            }
        }
    }
    if let Some(dir) = a.out {
        refuse_clashes(dir, &files, &loaded)?;
    }
    let staged = match a.junit {
        Some(path) => {
            let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            refuse_overwriting(&inputs, &[Output { flag: "--junit", path, folder: false }])?;
            Some(FileOutput::create(path).map_err(|e| publish_error("the JUnit report", path, e))?)
        }
        None => None,
    };
    let width = loaded.iter().map(|(_, sc)| sc.name.len()).max().unwrap_or(0).max(28);
    let show = Show { width, json: a.json };
    for (file, sc) in loaded {
        let i = files.iter().position(|f| f == file).unwrap_or(0);
        let (case, seed, exps) = check_one(file, sc, a.out, a.require_expect, &show);
        let row = Checked::of(file, &case, seed, exps);
        checked.push((i, case, row));
    }
    checked.sort_by_key(|(i, _, _)| *i);
    finish(&a, checked, staged)
}

/// The totals line (or the JSON), the JUnit file, and the exit code.
fn finish(
    a: &CheckArgs,
    checked: Vec<(usize, Case, Checked)>,
    junit: Option<FileOutput>,
) -> Result<ExitCode, CliError> {
    let count = |v: &str| checked.iter().filter(|(_, _, c)| c.verdict == v).count();
    let (passed, failed, errors) = (count("pass"), count("fail"), count("error"));
    let (cases, rows): (Vec<Case>, Vec<Checked>) = checked.into_iter().map(|(_, c, k)| (c, k)).unzip();
    if let (Some(path), Some(f)) = (a.junit, junit) {
        let xml = crate::report::junit::render(&cases);
        let written = f.handle().and_then(|mut h| h.write_all(xml.as_bytes()));
        written.map_err(|e| CliError::io(format!("cannot write the JUnit report to `{}`", path.display()), e))?;
        f.commit().map_err(|e| publish_error("the JUnit report", path, e))?;
    }
    if a.json {
        let j = serde_json::json!({ "scenarios": rows, "passed": passed, "failed": failed, "errors": errors });
        outln!("{}", serde_json::to_string_pretty(&j).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        outln!(
            "\n{}: {passed} passed, {failed} failed, {errors} could not run",
            style::count(rows.len() as u64, "scenario", "scenarios")
        );
    }
    Ok(if errors > 0 {
        ExitCode::from(EXIT_ERROR)
    } else if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// How each scenario's line is printed.
struct Show {
    width: usize,
    json: bool,
}

/// Runs one scenario, prints its line, writes its report: its case, seed and expectations.
fn check_one(
    file: &Path,
    sc: Scenario,
    out: Option<&Path>,
    require_expect: bool,
    show: &Show,
) -> (Case, Option<u64>, Vec<ExpectationOut>) {
    let name = sc.name.clone();
    let seed = sc.seed;
    let case = |outcome| Case { name: name.clone(), file: file.display().to_string(), outcome };
    if require_expect && sc.expect.is_empty() {
        let reason = "no `expect:`: --require-expect fails a scenario that checks nothing".to_string();
        if !show.json {
            outln!("{}  {name:<w$} {reason}", style::fail("FAIL"), w = show.width);
        }
        return (case(CaseOutcome::Refused { reason }), Some(seed), Vec::new());
    }
    match run_one(file, sc, out, show) {
        Ok(s) => {
            let failed: Vec<ExpectationOut> = s.expectations.iter().filter(|e| !e.pass).cloned().collect();
            let outcome = if failed.is_empty() {
                CaseOutcome::Passed { expectations: s.expectations.len() }
            } else {
                CaseOutcome::Failed { failed, replay: format!("streamsim run {} --seed {}", file.display(), s.seed) }
            };
            (case(outcome), Some(s.seed), s.expectations)
        }
        Err(e) => {
            errln!("{}", e.report());
            (case(CaseOutcome::Error { message: e.report() }), Some(seed), Vec::new())
        }
    }
}

/// Runs one scenario, prints its line, writes its report.
fn run_one(file: &Path, sc: Scenario, out: Option<&Path>, show: &Show) -> Result<Summary, CliError> {
    let name = sc.name.clone();
    let target = out.map(|dir| dir.join(&name));
    if let Some(t) = &target {
        folder::check_target(t).map_err(|e| publish_error("the report", t, e))?;
    }
    let opts = RunOptions { label: name.clone(), quiet: show.json, trace: None, explain: out.is_some() };
    let o = traced(file, sc, opts)?;
    let s = &o.summary;
    let bad: Vec<_> = s.expectations.iter().filter(|e| !e.pass).collect();
    let w = show.width;
    if show.json {
        // stdout holds the JSON only.
    } else if bad.is_empty() {
        let n = style::count(s.expectations.len() as u64, "expectation", "expectations");
        outln!("{}  {name:<w$} {n}, {} events", style::pass("pass"), s.events);
    } else {
        outln!(
            "{}  {name:<w$} {} of {} failed",
            style::fail("FAIL"),
            bad.len(),
            style::count(s.expectations.len() as u64, "expectation", "expectations")
        );
        for e in &bad {
            outln!("        {}: expected {}, actual {}", e.name, e.expected, e.actual);
        }
        outln!("        replay: streamsim run {} --seed {}", file.display(), s.seed);
    }
    if let Some(t) = &target {
        folder::write(t, &o).map_err(|e| publish_error("the report", t, e))?;
    }
    Ok(o.summary)
}
