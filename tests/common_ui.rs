//! Shared egui_kittest set-up for the UI tests: the real app at 1600×1000 with the CJK font,
//! a bounded wait for the worker threads' answers, and opening a tile kept behind a tab.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::ui::NnlabApp;

/// The app (optionally opening `file`), run until its network is built.
pub fn harness(file: Option<std::path::PathBuf>) -> Harness<'static, NnlabApp> {
    // Recovery file, recent list and workspace layout in a temp folder of this app's own,
    // never the person's, and never another test's (one test's autosave must not be offered
    // to another for restore, nor its layout used by another).
    static APPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = APPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let state = std::env::temp_dir().join(format!("nnlab-test-state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    harness_in(file, state, egui::vec2(1600.0, 1000.0))
}

/// The app with its state folder at `state`, in a window of `size`, run until its network is
/// built.
pub fn harness_in(
    file: Option<std::path::PathBuf>,
    state: std::path::PathBuf,
    size: egui::Vec2,
) -> Harness<'static, NnlabApp> {
    let mut h = Harness::builder()
        .with_size(size)
        // Every input widget must have an accessible name. The check runs when `run()` settles;
        // the training worker keeps frames coming, so tests also call `unnamed_widgets()`.
        .with_accessibility_check(true)
        .with_context_setup(nnlab::ui::fonts::install)
        .build_eframe(move |cc| {
            NnlabApp::with_state_dir(&cc.egui_ctx, file.clone(), Some(state.clone()))
        });
    assert!(
        settle(&mut h, |app| app.n_params > 0),
        "the app never built its network"
    );
    h
}

/// Open a tile that is a hidden tab, as a person does: click its tab (found by the tile's full
/// title, the tab's accessible name), then let the tile lay itself out.
pub fn open_tab(h: &mut Harness<'static, NnlabApp>, title: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::Tab, title)
        .click();
    h.run_steps(3);
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
