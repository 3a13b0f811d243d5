//! Stop conditions in the app: set in the Training panel, the worker pauses at the first one
//! met, at the same step `nnlab run` stops at, and says why.

mod common_ui;

use common_ui::{harness, settle};
use eframe::egui;
use egui_kittest::kittest::Queryable;

#[test]
fn an_epoch_limit_set_in_the_panel_pauses_training_where_the_cli_stops() {
    let mut h = harness(Some("sessions/xor.json".into()));
    // The file is read on the file thread: wait until it is the experiment.
    assert!(settle(&mut h, |a| a.files().path().is_some() && !a.files().busy()));
    // The section sits low in the controls panel: scroll the panel to its end with the wheel,
    // as a person would, open the section, and scroll to the end again for its checkbox.
    let to_the_end = |h: &mut egui_kittest::Harness<'static, nnlab::ui::NnlabApp>| {
        h.hover_at(egui::pos2(150.0, 500.0));
        h.run_steps(1);
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -5000.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        h.run_steps(4);
    };
    to_the_end(&mut h);
    h.get_by_label("Stop when").click();
    h.run_steps(2);
    to_the_end(&mut h);
    let rect = h.get_by_label("epochs reach").rect();
    assert!(
        rect.max.y < 1000.0,
        "the checkbox is still below the window: {rect:?}"
    );
    h.get_by_label("epochs reach").click();
    h.run_steps(3);
    assert_eq!(
        h.state()
            .lab()
            .session()
            .stop
            .as_ref()
            .and_then(|r| r.epochs),
        Some(100),
        "the checkbox turns the epoch limit on at its default"
    );
    h.get_by_label("▶ Play").click();
    assert!(
        settle(&mut h, |a| a.lab().status().step > 0
            && !a.lab().status().running),
        "training never paused"
    );
    let app = h.state();
    let step = app.lab().status().step;
    let notice = app.lab().notice().map(|n| n.0.clone()).unwrap_or_default();
    assert_eq!(notice, format!("Stopped at step {step}: 100 epochs done"));

    // The CLI with the same rule stops at the same step.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args([
            "run",
            "sessions/xor.json",
            "--steps",
            "100000",
            "--stop-epochs",
            "100",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stopped"]["step"].as_u64(), Some(step));
    assert_eq!(v["epochs"].as_u64(), Some(100));
}
