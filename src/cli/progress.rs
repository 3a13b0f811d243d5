//! Progress of a long command on stderr: one line at most once a second, whether or not
//! stderr is a terminal (a log file should show how far a killed run got too). Nothing is
//! printed during the first second, so quick commands stay quiet.

use std::time::{Duration, Instant};

/// Time between two progress lines (and before the first).
pub const EVERY: Duration = Duration::from_secs(1);

/// A rate-limited reporter for one command.
pub struct Progress {
    label: String,
    start: Instant,
    last: Instant,
}

impl Progress {
    /// `label` starts every line (the session's name and what runs).
    pub fn new(label: impl Into<String>) -> Self {
        let now = Instant::now();
        Progress {
            label: label.into(),
            start: now,
            last: now,
        }
    }

    /// Whether a line is due now.
    pub fn due(&self) -> bool {
        self.last.elapsed() >= EVERY
    }

    /// Print `label: what (N s)` when a line is due; `what` is only built then.
    pub fn update(&mut self, what: impl FnOnce() -> String) {
        if self.due() {
            eprintln!(
                "{}: {} ({:.0} s)",
                self.label,
                what(),
                self.start.elapsed().as_secs_f64()
            );
            self.last = Instant::now();
        }
    }

    /// As [`update`](Self::update) with "done of total" and the percentage.
    pub fn count(&mut self, what: &str, done: u64, total: u64) {
        self.update(|| {
            let pct = if total > 0 {
                100.0 * done as f64 / total as f64
            } else {
                0.0
            };
            format!("{what} {done} / {total} ({pct:.0} %)")
        });
    }
}
