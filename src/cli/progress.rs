//! Progress on a terminal's stderr for runs that take more than a second of wall time.

use std::io::IsTerminal;
use std::time::Instant;

use crate::cli::output::{err, errln};

/// A line that updates in place on a terminal; nothing otherwise. It only observes the run.
pub struct Progress {
    label: String,
    started: Instant,
    last: Option<Instant>,
    shown: bool,
    tty: bool,
}

impl Progress {
    pub fn new(label: &str) -> Progress {
        Progress {
            label: label.to_string(),
            started: Instant::now(),
            last: None,
            shown: false,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// `done` is the share of virtual time run so far. Off a terminal nothing is shown: a
    /// log or pipe would keep each line, and the last would be stale once the run ends.
    pub fn update(&mut self, done: f64) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started).as_secs_f64() < 1.0 {
            return;
        }
        let every = 0.2;
        if self.last.is_some_and(|t| now.duration_since(t).as_secs_f64() < every) {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let pct = (done * 100.0).clamp(0.0, 100.0);
        err!("\r  {}: {pct:.0}% of virtual time", self.label);
    }

    pub fn finish(&self) {
        if self.shown && self.tty {
            errln!("\r  {}: done{:20}", self.label, "");
        }
    }
}
