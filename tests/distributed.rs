//! `sweep --shard auto` under a batch scheduler: four shards run as separate
//! processes with the environment a Kubernetes Indexed Job or a Slurm array
//! gives each task, write their results into one folder (a shared volume),
//! and `sweep --merge DIR` of that folder equals the single-machine sweep
//! byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEDULER_VARS: [&str; 5] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
];
const SCENARIO: &str = "scenarios/at-most-once.yaml";
const SEEDS: &str = "0..10";

/// Runs the binary with exactly `env` of the scheduler's variables (the
/// test's own environment may be a Slurm task's): code, stdout, stderr.
fn streamsim(args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamsim"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for v in SCHEDULER_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-distributed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The single-machine sweep's JSON.
fn whole_sweep() -> String {
    let (code, out, err) = streamsim(&["sweep", SCENARIO, "--seeds", SEEDS, "--json"], &[]);
    assert!(code == 0 || code == 1, "{err}");
    out
}

/// Four tasks started at once, as the scheduler would, each with its `env`
/// and `extra` flags, writing into `dir`; then the merge of `dir`.
fn run_shards_and_merge(dir: &Path, envs: Vec<Vec<(&str, String)>>, extra: &[&str]) -> String {
    let out = dir.to_str().expect("a UTF-8 temp dir");
    let mut args = vec!["sweep", SCENARIO, "--seeds", SEEDS, "--shard", "auto", "--out", out, "--jobs", "1"];
    args.extend_from_slice(extra);
    std::thread::scope(|scope| {
        let tasks: Vec<_> = envs.iter().map(|env| scope.spawn(|| streamsim(&args, env))).collect();
        for t in tasks {
            let (code, _, err) = t.join().expect("a task thread");
            assert!(code == 0 || code == 1, "a shard failed: {err}");
        }
    });
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("the results folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let want: Vec<String> = (1..=4).map(|k| format!("at-most-once-0-9-shard-{k}-of-4.json")).collect();
    assert_eq!(files, want, "one file per shard, named by its shard, no temporary left");
    let (code, merged, err) = streamsim(&["sweep", "--json", "--merge", out], &[]);
    assert!(code == 0 || code == 1, "{err}");
    merged
}

#[test]
fn kubernetes_indexed_job_shards_merge_into_the_whole_sweep() {
    let dir = fresh_dir("k8s");
    let envs = (0..4).map(|i| vec![("JOB_COMPLETION_INDEX", i.to_string())]).collect();
    let merged = run_shards_and_merge(&dir, envs, &["--shards", "4"]);
    assert_eq!(merged, whole_sweep(), "merged shards equal the single-machine sweep byte for byte");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Slurm numbers an `--array=1-4` from 1: the task ids map to shards from
/// SLURM_ARRAY_TASK_MIN, and the count is SLURM_ARRAY_TASK_COUNT.
#[test]
fn slurm_array_shards_merge_into_the_whole_sweep() {
    let dir = fresh_dir("slurm");
    let envs = (1..=4)
        .map(|id| {
            vec![
                ("SLURM_ARRAY_TASK_ID", id.to_string()),
                ("SLURM_ARRAY_TASK_MIN", "1".to_string()),
                ("SLURM_ARRAY_TASK_COUNT", "4".to_string()),
            ]
        })
        .collect();
    let merged = run_shards_and_merge(&dir, envs, &[]);
    assert_eq!(merged, whole_sweep(), "merged shards equal the single-machine sweep byte for byte");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each shard file says what it is: scenario, fingerprint, version, the
/// whole sweep's seeds, its shard and its exact seeds.
#[test]
fn a_shard_file_describes_itself() {
    let env = [("JOB_COMPLETION_INDEX", "2".to_string())];
    let (code, out, err) =
        streamsim(&["sweep", SCENARIO, "--seeds", SEEDS, "--shard", "auto", "--shards", "4", "--json"], &env);
    assert!(code == 0 || code == 1, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["scenario"], "at-most-once");
    assert_eq!(j["shard"], "3/4");
    assert_eq!(j["all_seeds"], serde_json::json!([0, 9]));
    assert_eq!(j["seeds"], serde_json::json!([[6, 7]]));
    assert_eq!(j["version"], env!("CARGO_PKG_VERSION"));
    assert!(j["fingerprint"].as_str().is_some_and(|f| !f.is_empty()), "{j}");
}

/// Arguments, the scheduler's environment, and what the error says.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, String)>, &'a str);

/// A missing or inconsistent scheduler environment is a usage error (exit 2)
/// that names the variable and says what to do, before any seed runs.
#[test]
fn a_missing_or_inconsistent_scheduler_environment_exits_2_with_a_hint() {
    let auto = ["sweep", SCENARIO, "--seeds", SEEDS, "--shard", "auto"];
    let with = |extra: &[&'static str]| -> Vec<&str> { auto.iter().chain(extra).copied().collect() };
    let cases: Vec<Case> = vec![
        (with(&["--shards", "4"]), vec![], "no scheduler index"),
        (with(&[]), vec![("JOB_COMPLETION_INDEX", "1".into())], "--shards N"),
        (with(&["--shards", "4"]), vec![("JOB_COMPLETION_INDEX", "4".into())], "out of range"),
        (with(&["--shards", "4"]), vec![("JOB_COMPLETION_INDEX", "one".into())], "not a whole number"),
        (
            with(&["--shards", "3"]),
            vec![
                ("SLURM_ARRAY_TASK_ID", "0".into()),
                ("SLURM_ARRAY_TASK_MIN", "0".into()),
                ("SLURM_ARRAY_TASK_COUNT", "4".into()),
            ],
            "SLURM_ARRAY_TASK_COUNT=4 but --shards 3",
        ),
        (
            with(&[]),
            vec![
                ("SLURM_ARRAY_TASK_ID", "7".into()),
                ("SLURM_ARRAY_TASK_MIN", "1".into()),
                ("SLURM_ARRAY_TASK_COUNT", "3".into()),
            ],
            "contiguous",
        ),
        (
            vec!["sweep", SCENARIO, "--seeds", SEEDS, "--shard", "1/2", "--shards", "2"],
            vec![],
            "--shards N goes with --shard auto",
        ),
    ];
    for (args, env, says) in cases {
        let (code, out, err) = streamsim(&args, &env);
        assert_eq!(code, 2, "{args:?} {env:?}: {err}");
        assert!(err.contains(says), "{args:?} {env:?} says `{says}`: {err}");
        assert!(err.contains("hint"), "{args:?} {env:?} gives a hint: {err}");
        assert!(out.is_empty(), "nothing on stdout: {out}");
    }
}
