//! `streamsim check`: run every scenario of some files and directories and
//! check its expectations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::error::{CliError, EXIT_ERROR, EXIT_FAILED};
use crate::cli::load::{load, traced};
use crate::report::folder;

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

pub fn check(paths: &[PathBuf], out: Option<&Path>) -> Result<ExitCode, CliError> {
    let files = scenario_files(paths)?;
    let (mut failed, mut broken) = (0, 0);
    for file in &files {
        let sc = match load(file) {
            Ok(l) => l.scenario,
            Err(e) => {
                eprintln!("{}", e.report());
                broken += 1;
                continue;
            }
        };
        let name = sc.name.clone();
        let o = match traced(sc, &name, false, None, out.is_some()) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                broken += 1;
                continue;
            }
        };
        let s = &o.summary;
        let bad: Vec<_> = s.expectations.iter().filter(|e| !e.pass).collect();
        if bad.is_empty() {
            println!("pass  {name:<28} {} expectations, {} events", s.expectations.len(), s.events);
        } else {
            failed += 1;
            println!("FAIL  {name:<28} {} of {} expectations", bad.len(), s.expectations.len());
            for e in bad {
                println!("        {}: expected {}, actual {}", e.name, e.expected, e.actual);
            }
            println!("        replay: streamsim run {} --seed {}", file.display(), s.seed);
        }
        if let Some(dir) = out {
            let target = dir.join(&name);
            if let Err(e) = folder::write(&target, &o) {
                eprintln!("error: cannot write the report to `{}`: {e}", target.display());
                broken += 1;
            }
        }
    }
    println!(
        "\n{} scenarios: {} passed, {} failed, {} could not run",
        files.len(),
        files.len() - failed - broken,
        failed,
        broken
    );
    Ok(if broken > 0 {
        ExitCode::from(EXIT_ERROR)
    } else if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
