//! The fault timeline: faults sorted by time (stable, so ties keep file
//! order), then checked as a sequence — crashes and restarts alternate for
//! every target, nothing down is paused or stopped, `start` brings up only
//! what is not running — and `scale:` expanded into starts and stops.
//! (A crash during a pause ends the pause.)

use std::collections::BTreeMap;

use super::super::model::{ConsumerSpec, FaultAction, FaultSpec, Target};
use super::super::yaml::Pos;
use super::problem::{problem, Problem, R};
use crate::kernel::time::Instant;

/// Where a parsed fault came from, for the checks made after sorting.
pub(super) struct FaultAt {
    pub action_pos: Pos,
    pub field: String,
    pub target_name: String,
}

/// What is down or not running as the timeline is walked.
struct Timeline<'a> {
    consumers: &'a [ConsumerSpec],
    /// Crashed entities, since when.
    down: BTreeMap<Target, Instant>,
    /// Consumer instances not running (never started, or stopped): (target, since).
    stopped: BTreeMap<Target, Option<Instant>>,
    out: Vec<FaultSpec>,
}

pub(super) fn check_timeline(mut parsed: Vec<(FaultSpec, FaultAt)>, consumers: &[ConsumerSpec]) -> R<Vec<FaultSpec>> {
    parsed.sort_by_key(|(spec, _)| spec.at);
    let mut t = Timeline { consumers, down: BTreeMap::new(), stopped: BTreeMap::new(), out: Vec::new() };
    for (s, c) in consumers.iter().enumerate() {
        for i in c.instances..c.slots {
            t.stopped.insert(Target::Consumer(s, i), None);
        }
    }
    t.out.reserve(parsed.len());
    for (spec, at) in &parsed {
        t.step(spec, at)?;
    }
    Ok(t.out)
}

fn fail(at: &FaultAt, message: String, hint: &str) -> Problem {
    problem(at.action_pos, &at.field, message).hint(hint)
}

impl Timeline<'_> {
    fn step(&mut self, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        match &spec.action {
            FaultAction::Crash(t) | FaultAction::HostCrash(t) | FaultAction::Pause(t, _) | FaultAction::Stop(t)
                if self.stopped.contains_key(t) =>
            {
                let why = self.not_running(t, spec, at);
                return Err(fail(at, format!("{}: {why}", at.field), "add a `start` before it"));
            }
            FaultAction::Start(t) => return self.start(*t, spec, at),
            FaultAction::Stop(t) => return self.stop(*t, spec, at),
            FaultAction::Scale(s, to) => {
                self.scale(*s, *to, spec.at);
                return Ok(());
            }
            FaultAction::Crash(t) | FaultAction::PowerLoss(t) | FaultAction::HostCrash(t) => {
                self.crash(*t, spec, at)?
            }
            FaultAction::Restart(t) => self.restart(*t, spec, at)?,
            FaultAction::Pause(t, _) => self.pause(*t, spec, at)?,
            FaultAction::Partition(..) | FaultAction::Slow { .. } => {}
        }
        self.out.push(spec.clone());
        Ok(())
    }

    /// Why a consumer instance that is not running cannot take this fault.
    fn not_running(&self, t: &Target, spec: &FaultSpec, at: &FaultAt) -> String {
        match self.stopped.get(t) {
            Some(Some(when)) => format!("`{}` is stopped at {} (stopped at {when})", at.target_name, spec.at),
            _ => format!("`{}` has not started at {}", at.target_name, spec.at),
        }
    }

    fn start(&mut self, t: Target, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        if self.stopped.remove(&t).is_none() {
            return Err(fail(
                at,
                format!("{}: `{}` is already running at {}", at.field, at.target_name, spec.at),
                "`start` brings up an instance that has not started or was stopped",
            ));
        }
        self.out.push(spec.clone());
        Ok(())
    }

    fn stop(&mut self, t: Target, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        if self.down.contains_key(&t) {
            return Err(fail(
                at,
                format!("{}: `{}` is crashed at {}, so it cannot stop", at.field, at.target_name, spec.at),
                "`restart` it first",
            ));
        }
        self.stopped.insert(t, Some(spec.at));
        self.out.push(spec.clone());
        Ok(())
    }

    /// Starts the lowest-numbered instances not running, or stops the highest-numbered running ones.
    fn scale(&mut self, s: usize, to: u32, when: Instant) {
        let slots = self.consumers[s].slots;
        let running: Vec<u32> = (0..slots).filter(|&i| !self.stopped.contains_key(&Target::Consumer(s, i))).collect();
        let live = running.iter().filter(|&&i| !self.down.contains_key(&Target::Consumer(s, i))).count() as u32;
        if to > live {
            let mut need = to - live;
            for i in 0..slots {
                let t = Target::Consumer(s, i);
                if need > 0 && self.stopped.remove(&t).is_some() {
                    self.out.push(FaultSpec { at: when, action: FaultAction::Start(t) });
                    need -= 1;
                }
            }
        } else {
            let mut extra = live - to;
            for &i in running.iter().rev() {
                let t = Target::Consumer(s, i);
                if extra > 0 && !self.down.contains_key(&t) {
                    self.stopped.insert(t, Some(when));
                    self.out.push(FaultSpec { at: when, action: FaultAction::Stop(t) });
                    extra -= 1;
                }
            }
        }
    }

    fn crash(&mut self, t: Target, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        if let Some(since) = self.down.get(&t) {
            return Err(fail(
                at,
                format!("{}: `{}` is already crashed at {} (crashed at {since})", at.field, at.target_name, spec.at),
                "add a `restart` between the two crashes",
            ));
        }
        self.down.insert(t, spec.at);
        Ok(())
    }

    fn restart(&mut self, t: Target, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        if self.down.remove(&t).is_none() {
            return Err(fail(
                at,
                format!("{}: `{}` is not crashed at {}, so it cannot restart", at.field, at.target_name, spec.at),
                "a `restart` needs an earlier `crash` of the same entity",
            ));
        }
        Ok(())
    }

    fn pause(&mut self, t: Target, spec: &FaultSpec, at: &FaultAt) -> R<()> {
        if let Some(since) = self.down.get(&t) {
            return Err(fail(
                at,
                format!(
                    "{}: `{}` is down at {} (crashed at {since}), so it cannot be paused",
                    at.field, at.target_name, spec.at
                ),
                "pause it before the crash or after a `restart`",
            ));
        }
        Ok(())
    }
}
