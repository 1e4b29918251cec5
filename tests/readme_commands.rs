//! Every command README.md shows, and every example in `--help`, runs as written and exits
//! as documented: 0, or the code its comment names (`# exit 1: ...`).
//!
//! Commands run in a scratch folder holding links to `scenarios/`, `examples/` and `tests/` (the audit fixtures), with
//! `/tmp/` pointed into it, so they write nothing in the repository (`check scenarios --out
//! reports` and `rm -rf reports` touch the scratch copy only).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A command as written, and the exit code it is documented to give.
#[derive(Debug)]
struct Shown {
    line: String,
    exit: i32,
}

/// The exit code a trailing comment names (`# exit 2: truncated`), or 0.
fn documented_exit(comment: &str) -> i32 {
    let words: Vec<&str> = comment.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    words.windows(2).find(|w| w[0] == "exit").and_then(|w| w[1].parse().ok()).unwrap_or(0)
}

/// Splits `cmd   # comment` (a `#` inside a word, like `app-0#20087`, is not a comment).
fn split_comment(line: &str) -> (&str, &str) {
    match line.find(" # ") {
        Some(i) => (line[..i].trim_end(), &line[i + 3..]),
        None => (line.trim_end(), ""),
    }
}

/// The shell commands of README.md's `sh` (and unlabelled) code blocks.
fn readme_commands(text: &str) -> Vec<Shown> {
    let mut shown = Vec::new();
    let mut in_block = false;
    let mut shell = false;
    for line in text.lines() {
        if let Some(info) = line.strip_prefix("```") {
            in_block = !in_block;
            shell = in_block && (info.is_empty() || info == "sh");
            continue;
        }
        if !shell || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (cmd, comment) = split_comment(line);
        shown.push(Shown { line: cmd.to_string(), exit: documented_exit(comment) });
    }
    shown
}

/// The examples in `--help` texts: lines `  streamsim ...` of every command's help.
fn help_commands() -> Vec<Shown> {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().expect("streamsim runs");
        assert!(out.status.success(), "{args:?} exits 0");
        String::from_utf8(out.stdout).expect("utf-8 help")
    };
    let top = help(&["--help"]);
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A description that wraps continues on a deeper indent.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() >= 7, "the command list is read from --help: {subcommands:?}");
    let mut texts = vec![top];
    texts.extend(subcommands.iter().map(|c| help(&[c, "--help"])));
    let mut shown = Vec::new();
    for text in &texts {
        for line in text.lines().filter(|l| l.starts_with("  streamsim ")) {
            let (cmd, comment) = split_comment(line.trim());
            shown.push(Shown { line: cmd.to_string(), exit: documented_exit(comment) });
        }
    }
    shown
}

/// A scratch folder where relative paths resolve as in the repository.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-readme-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tmp")).expect("a scratch folder");
    for linked in ["scenarios", "examples", "tests"] {
        std::os::unix::fs::symlink(Path::new(ROOT).join(linked), dir.join(linked)).expect("a link");
    }
    dir
}

/// Runs each command in `dir` through `sh`, the binary standing in for `cargo run --release --`
/// and `streamsim`; returns the ones whose exit code is not the documented one.
fn run_all(shown: &[Shown], dir: &Path) -> Vec<String> {
    let tmp = format!("{}/", dir.join("tmp").display());
    let mut wrong = Vec::new();
    for s in shown {
        let script = s
            .line
            // /tmp/ first: the binary itself may live under /tmp (a clone there).
            .replace("/tmp/", &tmp)
            .replace("cargo run --release --", BIN)
            .split(' ')
            .map(|w| if w == "streamsim" { BIN } else { w })
            .collect::<Vec<_>>()
            .join(" ");
        let out = Command::new("sh").arg("-c").arg(&script).current_dir(dir).output().expect("sh runs");
        let code = out.status.code().unwrap_or(-1);
        if code != s.exit {
            let err = String::from_utf8_lossy(&out.stderr);
            wrong.push(format!("`{}` exited {code}, documented {}:\n{err}", s.line, s.exit));
        }
    }
    wrong
}

/// Commands not run here: the test suite itself, and installing into the user's cargo home.
fn runnable(s: &Shown) -> bool {
    !(s.line.starts_with("cargo test") || s.line.starts_with("cargo install"))
}

#[test]
fn every_readme_command_exits_as_documented() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let shown = readme_commands(&readme);
    assert!(shown.iter().any(|s| s.line == "cargo install --path ."), "the README installs the `streamsim` it names");
    assert!(shown.iter().any(|s| s.exit != 0), "documented non-zero exits are read: {shown:?}");
    let runnable: Vec<Shown> = shown.into_iter().filter(runnable).collect();
    assert!(runnable.len() >= 15, "the tour's commands are found: {runnable:?}");
    let wrong = run_all(&runnable, &scratch("readme"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_help_example_exits_as_documented() {
    let shown = help_commands();
    assert!(shown.len() >= 10, "the examples are found: {shown:?}");
    let wrong = run_all(&shown, &scratch("help"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_comment_names_the_exit_code_and_a_hash_in_a_word_is_not_a_comment() {
    let shown =
        readme_commands("```sh\nstreamsim verify - # exit 2: truncated\nstreamsim explain f --record a-0#5\n```\n");
    assert_eq!(shown[0].exit, 2);
    assert_eq!(shown[0].line, "streamsim verify -");
    assert_eq!((shown[1].line.as_str(), shown[1].exit), ("streamsim explain f --record a-0#5", 0));
    let yaml = readme_commands("```yaml\nname: x\n```\n");
    assert!(yaml.is_empty(), "YAML blocks are not commands");
}

/// README.md opens with exactly two set-up commands: the main job on a shipped scenario, then
/// the tests; `.ci/run` calls that same test command (with `--locked`), so the gate and the
/// README cannot drift apart.
#[test]
fn the_readme_opens_with_the_run_and_the_test_command_and_ci_runs_the_latter() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let first_block: Vec<&str> = readme
        .split("```")
        .nth(1)
        .expect("a first code block")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(first_block, ["cargo run --release -- run scenarios/homework.yaml", "cargo test --release"]);
    let ci = std::fs::read_to_string(Path::new(ROOT).join(".ci/run")).expect(".ci/run");
    assert!(ci.lines().any(|l| l.trim() == "cargo test --release --locked"), ".ci/run runs the README's tests");
}
