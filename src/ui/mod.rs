//! The desktop app: draws state and sends Commands to the training thread, never computes
//! heavily itself.

pub mod app;
pub mod contour;
pub mod curvature;
pub mod dynamics;
pub mod fonts;
pub mod history;
pub mod i18n;
pub mod landscape;
pub mod model;
pub mod panels;
pub mod recovery;
pub mod theme;

pub use app::NnlabApp;

/// Open the app (optionally with a session file). Returns the process exit code.
pub fn run_app(file: Option<std::path::PathBuf>) -> i32 {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("nnlab")
            .with_inner_size([1600.0, 1000.0])
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
