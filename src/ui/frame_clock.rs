//! The frame rate the top bar shows, and the `NNLAB_PERF_LOG` line once a second.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Times of the recent frames, giving the frames per second the top bar shows on hover; with
/// `NNLAB_PERF_LOG` set it also prints that rate once a second.
pub struct FrameClock {
    frame_times: VecDeque<Instant>,
    /// When the last `NNLAB_PERF_LOG` line was printed (None: not logging).
    perf_log: Option<Instant>,
    fps: f64,
}

impl Default for FrameClock {
    fn default() -> Self {
        FrameClock {
            frame_times: VecDeque::new(),
            perf_log: std::env::var_os("NNLAB_PERF_LOG").map(|_| Instant::now()),
            fps: 0.0,
        }
    }
}

impl FrameClock {
    /// Frames drawn in the last second.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// Count a frame. NNLAB_PERF_LOG=1: once a second, the frame rate and the training speed
    /// on stderr (how the fps and steps/s figures in the README were measured under Xvfb).
    pub fn tick(&mut self, step: u64, steps_per_sec: f64) {
        let now = Instant::now();
        self.frame_times.push_back(now);
        while self
            .frame_times
            .front()
            .is_some_and(|t| now - *t > Duration::from_secs(1))
        {
            self.frame_times.pop_front();
        }
        self.fps = self.frame_times.len() as f64;
        if self
            .perf_log
            .is_some_and(|t| now - t >= Duration::from_secs(1))
        {
            self.perf_log = Some(now);
            eprintln!(
                "perf: {:.0} fps, step {step}, {steps_per_sec:.0} steps/s",
                self.fps
            );
        }
    }
}
