//! Shared egui_kittest set-up for the UI tests: the real app at 1600×1000 with the CJK font,
//! a bounded wait for the worker threads' answers, and opening a tile kept behind a tab.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::ui::NnlabApp;

/// The app (optionally opening `file`) in a 1600×1000 window, run until its network is built.
pub fn harness(file: Option<std::path::PathBuf>) -> Harness<'static, NnlabApp> {
    harness_sized(file, egui::vec2(1600.0, 1000.0))
}

/// The same in a window of `size` points, with a fresh state folder of its own.
pub fn harness_sized(
    file: Option<std::path::PathBuf>,
    size: egui::Vec2,
) -> Harness<'static, NnlabApp> {
    // Recovery file, recent list and workspace layout in a temp folder of this app's own,
    // never the person's, and never another test's (one test's autosave must not be offered
    // to another for restore, nor its layout used by another).
    static APPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = APPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let state = std::env::temp_dir().join(format!("nnlab-test-state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    harness_in(file, state, size)
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
        settle(&mut h, |app| app.lab().n_params() > 0),
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

/// Every piece of text the last frame drew, with its rect (points): labels, painter text,
/// plot axes and legends alike.
pub fn drawn_texts(h: &Harness<'static, NnlabApp>) -> Vec<(String, egui::Rect)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, egui::Rect)>) {
        match shape {
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            egui::Shape::Text(t) => {
                out.push((t.galley.text().to_string(), t.visual_bounding_rect()))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, &mut out);
    }
    out
}

/// The rects (points) of every textured mesh the last frame drew: images and maps.
pub fn drawn_images(h: &Harness<'static, NnlabApp>) -> Vec<egui::Rect> {
    fn walk(shape: &egui::Shape, out: &mut Vec<egui::Rect>) {
        match shape {
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            egui::Shape::Mesh(m) if m.texture_id != egui::TextureId::default() => {
                out.push(m.calc_bounds())
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, &mut out);
    }
    out
}

/// Type `text` into the text field named `label`, replacing what it holds, as a person does:
/// click into it, select all, type.
pub fn type_into(h: &mut Harness<'static, NnlabApp>, label: &str, text: &str) {
    use egui::accesskit::Role;
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    h.run_steps(1);
}
