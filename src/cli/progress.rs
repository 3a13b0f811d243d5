//! Progress of a long command on stderr: one line at most once a second, whether or not
//! stderr is a terminal (a log file should show how far a killed run got too). Nothing is
//! printed during the first second, so quick commands stay quiet.

use std::io::Write;
use std::time::{Duration, Instant};

/// Time between two progress lines (and before the first).
pub const EVERY: Duration = Duration::from_secs(1);

/// A rate-limited reporter for one command, writing to stderr (or, in tests, to a buffer).
pub struct Progress<W: Write = std::io::Stderr> {
    label: String,
    start: Instant,
    last: Instant,
    out: W,
}

impl Progress {
    /// `label` starts every line (the session's name and what runs).
    pub fn new(label: impl Into<String>) -> Self {
        Progress::writing_to(label, std::io::stderr())
    }
}

impl<W: Write> Progress<W> {
    /// As [`Progress::new`], writing to `out` instead of stderr (the tests read it back).
    pub fn writing_to(label: impl Into<String>, out: W) -> Self {
        let now = Instant::now();
        Progress {
            label: label.into(),
            start: now,
            last: now,
            out,
        }
    }

    /// Print `label: what (N s)` when a line is due; `what` is only built then.
    pub fn update(&mut self, what: impl FnOnce() -> String) {
        self.update_at(Instant::now(), what);
    }

    /// As [`update`](Self::update) with "what done / total (pct %)".
    pub fn count(&mut self, what: &str, done: u64, total: u64) {
        self.update(|| count_line(what, done, total));
    }

    fn update_at(&mut self, now: Instant, what: impl FnOnce() -> String) {
        if now.duration_since(self.last) < EVERY {
            return;
        }
        let secs = now.duration_since(self.start).as_secs_f64();
        // A progress line that cannot be written is not worth stopping the work for.
        let _ = writeln!(self.out, "{}: {} ({secs:.0} s)", self.label, what());
        self.last = now;
    }
}

fn count_line(what: &str, done: u64, total: u64) -> String {
    let pct = if total > 0 {
        100.0 * done as f64 / total as f64
    } else {
        0.0
    };
    format!("{what} {done} / {total} ({pct:.0} %)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_line_a_second_and_none_in_the_first() {
        let mut p = Progress::writing_to("s.json: landscape", Vec::new());
        let t0 = p.start;
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut built = 0;
        for ms in [0, 400, 999, 1000, 1500, 1999, 2100, 2200, 5000] {
            p.update_at(at(ms), || {
                built += 1;
                count_line("grid row", ms, 5000)
            });
        }
        let text = String::from_utf8(p.out).unwrap();
        assert_eq!(
            text,
            "s.json: landscape: grid row 1000 / 5000 (20 %) (1 s)\n\
             s.json: landscape: grid row 2100 / 5000 (42 %) (2 s)\n\
             s.json: landscape: grid row 5000 / 5000 (100 %) (5 s)\n"
        );
        assert_eq!(built, 3, "the message is only built for a printed line");
    }
}
