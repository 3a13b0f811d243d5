//! The newest answer of one analysis: a tile's [`JobThread`] with the generation counter and
//! the "computing" flag the Geometry, Spectral-bias, Double-descent and Collapse tiles each kept. A
//! restart (a new network, a reset, another mode) starts a new generation; answers of earlier
//! ones are dropped, so a slow stale job never overwrites what the tile now shows.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::JobThread;

/// The generation a panicking job's answer carries: it is taken whatever the generation.
const ANY: u64 = u64::MAX;

/// One job at a time for a tile; only the current generation's answers are taken.
pub struct Latest<R: Send + 'static, A: Send + 'static> {
    generation: u64,
    computing: bool,
    thread: JobThread<(u64, R), (u64, Result<A, String>)>,
}

impl<R: Send + 'static, A: Send + 'static> Latest<R, A> {
    /// Start the thread `name`: `work(request, cancelled)` computes one answer (`cancelled()`
    /// turns true once the request is stale). A panic in it becomes the error
    /// "`what` failed: …".
    pub fn spawn(
        name: &str,
        repaint: Arc<dyn Fn() + Send + Sync>,
        what: &'static str,
        work: impl Fn(R, &dyn Fn() -> bool) -> Result<A, String> + Send + 'static,
    ) -> Self {
        Latest {
            generation: 0,
            computing: false,
            thread: JobThread::spawn(
                name,
                repaint,
                move |(generation, request): (u64, R), cancel, emit| {
                    let answer = work(request, &|| cancel.load(Ordering::Relaxed));
                    emit((generation, answer));
                },
                move |msg| (ANY, Err(format!("{what} failed: {msg}"))),
            ),
        }
    }

    /// Compute `request` next (replacing one still waiting, cancelling one running).
    pub fn submit(&mut self, request: R) {
        self.computing = true;
        self.thread.submit((self.generation, request));
    }

    /// Forget what was asked: answers to it are dropped when they arrive.
    pub fn restart(&mut self) {
        self.generation += 1;
        self.thread.cancel();
        self.computing = false;
    }

    /// A request of this generation is not answered yet.
    pub fn computing(&self) -> bool {
        self.computing
    }

    /// The next answer of this generation, if one arrived.
    pub fn try_recv(&mut self) -> Option<Result<A, String>> {
        while let Some((generation, answer)) = self.thread.try_recv() {
            if generation == self.generation || generation == ANY {
                self.computing = false;
                return Some(answer);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    /// The next answer, waiting at most 10 s for the thread.
    fn next<A: Send>(l: &mut Latest<u64, A>) -> Option<Result<A, String>> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Some(a) = l.try_recv() {
                return Some(a);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    #[test]
    fn an_answer_of_an_earlier_generation_is_dropped() {
        // The first job waits until the test lets it go, so the restart happens while it runs.
        let gate = Arc::new(AtomicBool::new(false));
        let g = gate.clone();
        let mut l = Latest::spawn("test-latest", Arc::new(|| {}), "squaring", move |x, _| {
            while x == 1 && !g.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            Ok(x * x)
        });
        l.submit(1);
        assert!(l.computing());
        l.restart();
        assert!(!l.computing());
        gate.store(true, Ordering::Relaxed);
        l.submit(3);
        assert_eq!(
            next(&mut l),
            Some(Ok(9)),
            "only the new generation's answer"
        );
        assert!(!l.computing());
    }

    #[test]
    fn a_panic_is_an_error_naming_the_analysis() {
        let mut l: Latest<u64, u64> =
            Latest::spawn("test-latest", Arc::new(|| {}), "the sweep", |x, _| {
                assert!(x > 0, "x must be positive");
                Ok(x)
            });
        l.submit(0);
        let Some(Err(e)) = next(&mut l) else {
            panic!("an error")
        };
        assert!(
            e.starts_with("the sweep failed: ") && e.contains("x must be positive"),
            "{e}"
        );
        assert!(!l.computing());
    }
}
