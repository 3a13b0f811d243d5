//! The real app's frames without a window or a GPU (`nnlab bench --ui`): an `egui::Context` at
//! a fixed size, run at 60 frames a second like a window on a 60 Hz display, each frame laid
//! out by the app and tessellated, timed in the CPU time of the thread that does it (what a
//! busy machine's neighbours change least). The default workspace, training at max speed.

use std::time::{Duration, Instant};

use eframe::egui;

use serde_json::json;

use crate::runtime::worker::Speed;
use crate::train::Trainer;
use crate::ui::app::NnlabApp;
use crate::ui::command::Command;

/// A 60 Hz display.
const FRAME: Duration = Duration::from_micros(16_667);
/// First frames build the font atlas and the first textures: not what a running app costs.
const WARM_UP: Duration = Duration::from_secs(1);
/// How long the worker may take to build the default network.
const BUILD_WAIT: Duration = Duration::from_secs(20);

/// What a run of frames cost.
pub struct FrameCost {
    /// CPU milliseconds of each measured frame (layout + tessellation), in order.
    pub cpu_ms: Vec<f64>,
    /// Training steps per second over the measured frames.
    pub steps_per_sec: f64,
    /// Wall seconds the measured frames took.
    pub seconds: f64,
}

/// CPU seconds this thread has used (None where the OS does not say).
fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the struct it is given.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return Some(t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9);
        }
    }
    None
}

/// One frame at `size` points: the app's whole frame, then tessellation. Returns the thread's
/// CPU seconds for it (wall seconds where CPU time is not known).
fn frame(ctx: &egui::Context, app: &mut NnlabApp, size: egui::Vec2, time: f64) -> f64 {
    let mut input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
        time: Some(time),
        predicted_dt: FRAME.as_secs_f32(),
        ..Default::default()
    };
    if let Some(v) = input.viewports.get_mut(&egui::ViewportId::ROOT) {
        v.native_pixels_per_point = Some(1.0);
    }
    let wall = Instant::now();
    let cpu = thread_cpu_seconds();
    let mut out = ctx.run_ui(input, |ui| app.frame_ui(ui));
    let primitives = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    std::hint::black_box(&primitives);
    let took = match (cpu, thread_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed().as_secs_f64(),
    };
    // No GPU to upload textures to.
    out.textures_delta.clear();
    took
}

/// Run the app for `seconds` (after a warm-up) at `size`, training the default session at max
/// speed, and time every frame.
pub fn measure(size: egui::Vec2, seconds: f64) -> crate::Result<FrameCost> {
    let ctx = egui::Context::default();
    // No state folder: the person's layout, theme and recovery files are not touched, and the
    // workspace is the default one.
    let mut app = NnlabApp::with_state_dir(&ctx, None, None);
    let start = Instant::now();
    let mut next = start;
    let frames_at = |app: &mut NnlabApp, next: &mut Instant| {
        let took = frame(&ctx, app, size, start.elapsed().as_secs_f64());
        *next += FRAME;
        let now = Instant::now();
        if *next > now {
            std::thread::sleep(*next - now);
        } else {
            // A frame that overran: the display waits for the next one.
            *next = now;
        }
        took
    };
    while app.lab.n_params == 0 {
        if start.elapsed() > BUILD_WAIT {
            return Err(crate::Error::new(
                "the training thread did not build the default network",
            ));
        }
        frames_at(&mut app, &mut next);
    }
    app.commands.send(Command::SetSpeed(Speed::Max));
    app.commands.send(Command::Play);
    let warm = Instant::now();
    while warm.elapsed() < WARM_UP {
        frames_at(&mut app, &mut next);
    }
    let (step0, t0) = (app.lab.status.step, Instant::now());
    let mut cpu_ms = Vec::new();
    while t0.elapsed().as_secs_f64() < seconds {
        cpu_ms.push(frames_at(&mut app, &mut next) * 1e3);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    if !app.lab.status.running {
        return Err(crate::Error::new(match &app.lab.error {
            Some(e) => format!("training stopped during the measurement: {e}"),
            None => "training stopped during the measurement".into(),
        }));
    }
    Ok(FrameCost {
        steps_per_sec: app.lab.status.step.saturating_sub(step0) as f64 / elapsed,
        seconds: elapsed,
        cpu_ms,
    })
}

/// The size `nnlab bench --ui` lays the app out at (points).
const BENCH_SIZE: [f32; 2] = [1600.0, 1000.0];

/// `nnlab bench --ui`: the UI thread's cost per frame of the real app (default workspace,
/// training the default session at max speed), against the speed of the same session trained
/// headless the way `nnlab run` does. Prints JSON.
pub fn print_bench(seconds: f64) -> crate::Result<()> {
    let session = crate::ui::model::default_session();
    let experiment = crate::ui::model::experiment(&session, None);
    let (train, test) = experiment.build_data()?;
    let mut trainer = Trainer::new(&experiment.config, train, test, None)?;
    let load_before = crate::bench::load_average();
    // Half the headless run before the app and half after: the mean follows a machine whose
    // load drifts during the bench.
    let before = crate::bench::steps_per_second(&mut trainer, seconds / 2.0);
    let cost = measure(egui::vec2(BENCH_SIZE[0], BENCH_SIZE[1]), seconds)?;
    let after = crate::bench::steps_per_second(&mut trainer, seconds / 2.0);
    let run = (before + after) / 2.0;
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "frames": cost.cpu_ms.len(),
            "ms_per_frame_p50": quantile(&cost.cpu_ms, 0.5),
            "ms_per_frame_p95": quantile(&cost.cpu_ms, 0.95),
            "steps_per_sec": cost.steps_per_sec,
            "run_steps_per_sec": run,
            "size": BENCH_SIZE,
            "seconds": cost.seconds,
            "load_average_before": load_before,
            "load_average_after": crate::bench::load_average(),
        }))
        .unwrap_or_default()
    );
    Ok(())
}

/// The `q`-quantile (0…1) of `values` (nearest rank; NaN when empty).
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[3.0], 0.95), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
