//! The architecture's rules, checked on the source: the model never reads
//! the oracle (docs/architecture.md). The compiler already refuses reads of
//! the ledger's fields; this also catches a new public reader being called.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_model_and_the_world_only_hand_facts_to_the_oracle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join("model"), &mut files);
    sources(&root.join("world"), &mut files);
    assert!(files.len() > 10, "{files:?}");
    // Everything of the oracle but its facts and `emit` is off limits.
    let forbidden = [
        "oracle.ledger",
        "oracle.trace",
        "oracle.observed",
        "oracle::ledger",
        "oracle::trace",
        "oracle::checkers",
        "oracle::observed",
        "oracle::outcome",
        "oracle::explain",
        "oracle::shadow",
        "oracle::aborted",
        "oracle::series",
    ];
    let mut offences = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        // Comments say why, code does: drop comments, then join lines so a
        // call chain broken over lines is still seen.
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<String>()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for bad in forbidden {
            if code.contains(bad) {
                offences.push(format!("{}: {bad}", f.display()));
            }
        }
    }
    assert!(offences.is_empty(), "the model reads the oracle:\n{}", offences.join("\n"));
}

/// `verify` recomputes the summary from a trace file alone: the reader and
/// its command import nothing of the model or the world (typed ids come
/// through `oracle::fact`, the facts' vocabulary).
#[test]
fn verify_imports_nothing_from_the_model_or_the_world() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join("oracle/verify"), &mut files);
    files.push(root.join("oracle/header.rs"));
    files.push(root.join("oracle/reported.rs"));
    files.push(root.join("oracle/windows.rs"));
    files.push(root.join("cli/verify.rs"));
    assert!(files.len() >= 7, "{files:?}");
    let mut offences = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        for bad in
            ["crate::model", "crate::world", "super::model", "super::world", "streamsim::model", "streamsim::world"]
        {
            if code.contains(bad) {
                offences.push(format!("{}: {bad}", f.display()));
            }
        }
    }
    assert!(offences.is_empty(), "verify reaches into the model or the world:\n{}", offences.join("\n"));
}
