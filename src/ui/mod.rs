//! The desktop app: draws state and sends Commands to the training thread, never computes
//! heavily itself.

pub mod app;
/// Neural collapse (issue 16 §4).
pub mod collapse;
pub mod command;
pub mod curvature;
pub mod draw;
pub mod dynamics;
pub mod files;
pub mod fonts;
pub mod frame_clock;
pub mod geometry;
pub mod headless;
pub mod history;
pub mod i18n;
pub mod lab;
pub mod landscape;
/// The update as an outer product (issue 15 §4).
pub mod layer_update;
pub mod model;
pub mod panels;
pub mod recovery;
// Spectral bias (issue 15)
pub mod regimes;
pub mod settings;
pub mod spectral;
pub mod theme;
pub mod view;
pub mod workspace;

pub use app::NnlabApp;

/// Open the app (optionally with a session file). Returns the process exit code.
pub fn run_app(file: Option<std::path::PathBuf>) -> i32 {
    keep_freed_memory();
    // Only analyses (curvature, landscape, dynamics) use rayon's pool: its threads take their
    // nice value, so they never slow the training thread either. Fails only if a pool exists.
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("nnlab-analysis-{i}"))
        .start_handler(|_| crate::runtime::job::lower_priority())
        .build_global();
    // The window opens at the size it had when it was last closed.
    let size = workspace::store::load(recovery::state_dir().as_deref())
        .window
        .unwrap_or([1600.0, 1000.0]);
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("nnlab")
            .with_inner_size(size)
            .with_min_inner_size([1024.0, 700.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let result = eframe::run_native(
        "nnlab",
        options,
        Box::new(move |cc| Ok(Box::new(NnlabApp::new(cc, file)))),
    );
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("nnlab: could not open the window: {e}");
            1
        }
    }
}

/// Every frame builds and drops megabytes of vertices, texture images and text layouts. By
/// default glibc hands the freed top of the heap back to the kernel and takes it again the
/// next frame, so each frame paid for page faults and zeroed pages: under Xvfb a perf profile
/// of full-speed training put 9 % of all CPU time in the UI thread's kernel side. Keeping up
/// to 256 MB of freed memory (and serving large blocks from the heap too) avoids that; with it
/// the frame rate there went from 21.8 / 19.7 to 23.9 / 21.2 fps in two paired runs.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocator tunables (it takes the allocator's own
    // lock), with valid parameter constants.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}
