//! `sweep --shard auto`: the shard index and count from a batch scheduler's
//! environment, so one command line serves every task of a Kubernetes
//! Indexed Job or a Slurm job array.
//!
//! - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` is 0-based; the Job's
//!   `completions` is not in the pod's environment, so the count is `--shards N`.
//! - Slurm array: `SLURM_ARRAY_TASK_ID` counts from `SLURM_ARRAY_TASK_MIN`
//!   (`--array=1-16` starts at 1) in steps of `SLURM_ARRAY_TASK_STEP`
//!   (`--array=0-30:2`); the count is `SLURM_ARRAY_TASK_COUNT`.
//!
//! The result is `K/N` as `--shard K/N` takes it (K 1-based).

use crate::cli::error::CliError;

pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
pub const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
pub const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";

/// Shard `k` (1-based) of `n`, and the scheduler it came from.
#[derive(Debug, PartialEq, Eq)]
pub struct Slot {
    pub k: u64,
    pub n: u64,
    pub scheduler: &'static str,
}

/// The shard this task is, from `env` (a lookup, `std::env::var` outside tests)
/// and `--shards` if given.
pub fn slot(env: impl Fn(&str) -> Option<String>, shards: Option<u64>) -> Result<Slot, CliError> {
    if shards == Some(0) {
        return Err(CliError::usage("--shards 0: a sweep needs at least one shard"));
    }
    match (env(K8S_INDEX), env(SLURM_ID)) {
        (Some(_), Some(_)) => Err(CliError::usage(format!(
            "--shard auto: both {K8S_INDEX} (Kubernetes) and {SLURM_ID} (Slurm) are set, so the shard is ambiguous"
        ))
        .hint("unset the one that does not belong to this task, or give --shard K/N explicitly")),
        (Some(index), None) => kubernetes(&index, shards),
        (None, Some(id)) => slurm(&id, &env, shards),
        (None, None) => Err(CliError::usage(format!(
            "--shard auto: no scheduler index in the environment (neither {K8S_INDEX} nor {SLURM_ID} is set)"
        ))
        .hint(
            "run it as a task of a Kubernetes Indexed Job or a Slurm array (docs/distributed.md), or give --shard K/N",
        )),
    }
}

fn number(name: &str, value: &str) -> Result<u64, CliError> {
    value.trim().parse().map_err(|_| {
        CliError::usage(format!("--shard auto: {name}=`{value}` is not a whole number"))
            .hint("the scheduler sets it; check the job script does not overwrite it")
    })
}

fn kubernetes(index: &str, shards: Option<u64>) -> Result<Slot, CliError> {
    let index = number(K8S_INDEX, index)?;
    let Some(n) = shards else {
        return Err(CliError::usage(format!("--shard auto: {K8S_INDEX}={index} is set, but not the shard count"))
            .hint("pass --shards N with N the Indexed Job's spec.completions"));
    };
    if index >= n {
        return Err(CliError::usage(format!(
            "--shard auto: {K8S_INDEX}={index} is out of range for --shards {n} (indexes run 0..={})",
            n - 1
        ))
        .hint("set --shards to the Job's spec.completions"));
    }
    Ok(Slot { k: index + 1, n, scheduler: "kubernetes" })
}

fn slurm(id: &str, env: &impl Fn(&str) -> Option<String>, shards: Option<u64>) -> Result<Slot, CliError> {
    let id = number(SLURM_ID, id)?;
    let var = |name: &str| env(name).map(|v| number(name, &v)).transpose();
    let min = var(SLURM_MIN)?.ok_or_else(|| {
        CliError::usage(format!("--shard auto: {SLURM_ID}={id} is set, but not {SLURM_MIN}"))
            .hint("Slurm sets both for a job array (sbatch --array); export both when running by hand")
    })?;
    let step = var(SLURM_STEP)?.unwrap_or(1).max(1);
    let n = match (var(SLURM_COUNT)?, shards) {
        (Some(count), Some(flag)) if count != flag => {
            return Err(CliError::usage(format!("--shard auto: {SLURM_COUNT}={count} but --shards {flag}"))
                .hint("leave --shards out under Slurm, or make it match the array's size"))
        }
        (Some(count), _) => count,
        (None, Some(flag)) => flag,
        (None, None) => {
            return Err(CliError::usage(format!("--shard auto: {SLURM_ID}={id} is set, but not {SLURM_COUNT}"))
                .hint("Slurm sets it for a job array; otherwise pass --shards N"))
        }
    };
    let offset = id.checked_sub(min).filter(|o| o % step == 0).map(|o| o / step);
    match offset {
        Some(k) if k < n && n > 0 => Ok(Slot { k: k + 1, n, scheduler: "slurm" }),
        _ => Err(CliError::usage(format!(
            "--shard auto: {SLURM_ID}={id} is not task 0..{n} of an array from {SLURM_MIN}={min} in steps of {step}"
        ))
        .hint("use a contiguous array like `sbatch --array=0-15` (a list like 1,4,9 cannot be mapped to shards)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn err(r: Result<Slot, CliError>) -> String {
        r.expect_err("an error").report()
    }

    #[test]
    fn kubernetes_index_is_zero_based_and_needs_the_count() {
        let s = slot(env(&[(K8S_INDEX, "0")]), Some(4)).unwrap();
        assert_eq!(s, Slot { k: 1, n: 4, scheduler: "kubernetes" });
        assert_eq!(slot(env(&[(K8S_INDEX, "3")]), Some(4)).unwrap().k, 4);
        assert!(err(slot(env(&[(K8S_INDEX, "3")]), None)).contains("--shards N"));
        assert!(err(slot(env(&[(K8S_INDEX, "4")]), Some(4))).contains("out of range"));
        assert!(err(slot(env(&[(K8S_INDEX, "x")]), Some(4))).contains("not a whole number"));
    }

    #[test]
    fn slurm_ids_count_from_the_array_min_in_its_step() {
        let one_based = [(SLURM_ID, "1"), (SLURM_MIN, "1"), (SLURM_COUNT, "4")];
        assert_eq!(slot(env(&one_based), None).unwrap(), Slot { k: 1, n: 4, scheduler: "slurm" });
        let stepped = [(SLURM_ID, "6"), (SLURM_MIN, "0"), (SLURM_STEP, "2"), (SLURM_COUNT, "4")];
        assert_eq!(slot(env(&stepped), None).unwrap().k, 4);
        let off_step = [(SLURM_ID, "5"), (SLURM_MIN, "0"), (SLURM_STEP, "2"), (SLURM_COUNT, "4")];
        assert!(err(slot(env(&off_step), None)).contains("contiguous"));
        let listed = [(SLURM_ID, "9"), (SLURM_MIN, "1"), (SLURM_COUNT, "3")];
        assert!(err(slot(env(&listed), None)).contains("contiguous"));
        assert!(err(slot(env(&one_based), Some(5))).contains("but --shards 5"));
        assert!(err(slot(env(&[(SLURM_ID, "1"), (SLURM_COUNT, "4")]), None)).contains(SLURM_MIN));
    }

    #[test]
    fn no_or_two_schedulers_are_refused() {
        assert!(err(slot(env(&[]), Some(4))).contains("no scheduler index"));
        let both = [(K8S_INDEX, "0"), (SLURM_ID, "0"), (SLURM_MIN, "0"), (SLURM_COUNT, "4")];
        assert!(err(slot(env(&both), Some(4))).contains("ambiguous"));
        assert!(err(slot(env(&[(K8S_INDEX, "0")]), Some(0))).contains("--shards 0"));
    }
}
