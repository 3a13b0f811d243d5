//! Shared egui_kittest set-up for the UI tests: the real app at 1600×1000 with the CJK font,
//! and a bounded wait for the worker threads' answers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use nnlab::ui::NnlabApp;

/// The app (optionally opening `file`), run until its network is built.
pub fn harness(file: Option<std::path::PathBuf>) -> Harness<'static, NnlabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        // Every input widget must have an accessible name. The check runs when `run()` settles;
        // the training worker keeps frames coming, so tests also call `unnamed_widgets()`.
        .with_accessibility_check(true)
        .with_context_setup(nnlab::ui::fonts::install)
        // Recovery file and recent list in a temp folder of this app's own, never the
        // person's, and never another test's (one test's autosave must not be offered to
        // another for restore).
        .build_eframe(move |cc| {
            static APPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = APPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let state =
                std::env::temp_dir().join(format!("nnlab-test-state-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&state);
            NnlabApp::with_state_dir(&cc.egui_ctx, file.clone(), Some(state))
        });
    assert!(
        settle(&mut h, |app| app.n_params > 0),
        "the app never built its network"
    );
    h
}

/// Run frames until `done` holds (the workers answer asynchronously), at most ~20 s.
pub fn settle(h: &mut Harness<'static, NnlabApp>, done: impl Fn(&NnlabApp) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        h.run_steps(2);
        if done(h.state()) {
            h.run_steps(2);
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
