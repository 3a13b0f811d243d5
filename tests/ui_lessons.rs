//! The Lessons section through egui_kittest: open it, pick a lesson, open its session (the
//! app's ordinary open action) and see the experiment change; run its check from the panel.

mod common_ui;

use common_ui::{harness, settle};
use egui_kittest::kittest::Queryable;
use nnlab::ui::command::Command;

#[test]
fn opening_a_lesson_loads_its_session() {
    let mut h = harness(None);
    let before = h.state().lab().session().clone();
    assert_eq!(before.network.layers.len(), 3, "the default is 2-8-8-1");
    h.get_by_label("Lessons").click();
    assert!(
        settle(&mut h, |a| a.views().lessons.files.is_some()),
        "the lessons never loaded"
    );
    let n = match &h.state().views().lessons.files {
        Some(Ok(f)) => f.len(),
        other => panic!("lessons did not load: {:?}", other.as_ref().map(|_| ())),
    };
    assert!(n >= 20);
    // Rows are listed with their titles; pick row 16.
    h.get_by_label_contains("#16 Sigmoid + BCE").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("Expected outcome").is_some(),
        "no expected outcome shown"
    );
    // The expected outcome in words, not identifiers.
    assert!(
        h.query_by_label_contains(
            "output layer's gradient norm at the start (sigmoid + BCE): above 0.9900"
        )
        .is_some()
    );
    assert!(h.query_by_label_contains("bce.output_grad").is_none());
    // The quoted numbers are filled in from the stored measurement, and the control is named.
    assert!(h.query_by_label_contains("{bce.").is_none());
    assert!(h.query_by_label_contains("w = −0.5").is_some());
    // One click opens it (the list folds at once, so the button is where it was drawn).
    let opened = |a: &nnlab::ui::NnlabApp| {
        a.lab().n_params() == 2
            && a.files()
                .path()
                .as_ref()
                .is_some_and(|p| p.ends_with("r16_bce_vs_mse.json"))
    };
    h.get_by_label("Open").click();
    assert!(
        settle(&mut h, opened),
        "one click did not open the lesson's session"
    );
    let app = h.state();
    assert_eq!(app.lab().session().network.inputs, 1);
    assert_eq!(app.lab().session().network.layers.len(), 1);
    // The session's θ (confidently wrong: w = −6) is what the worker now trains.
    assert!(settle(&mut h, |a| a
        .lab()
        .snapshot()
        .as_ref()
        .is_some_and(|s| s.theta.len() == 2)));
    let app = h.state();
    assert_eq!(app.lab().snapshot().unwrap().theta, vec![-6.0, 0.0]);
    assert!(
        app.files()
            .path()
            .as_ref()
            .unwrap()
            .ends_with("r16_bce_vs_mse.json")
    );
}

#[test]
fn the_check_runs_off_the_ui_thread_and_shows_the_verdict() {
    let mut h = harness(None);
    h.get_by_label("Lessons").click();
    assert!(settle(&mut h, |a| a.views().lessons.files.is_some()));
    h.get_by_label_contains("#7 ").click();
    h.run_steps(4);
    h.get_by_label("Check").click();
    h.run_steps(1);
    assert!(
        h.state().views().lessons.checking(),
        "one click did not start the check"
    );
    assert!(
        settle(&mut h, |a| a.views().lessons.result.is_some()),
        "no check result"
    );
    let r = h.state().views().lessons.result.clone().unwrap();
    assert_eq!(r.row, 7);
    assert!(r.passed(), "{r:?}");
    assert!(
        h.query_by_label_contains("Every expectation holds")
            .is_some()
    );
    assert!(
        // Once for the lesson's outcome, once among the control's misses.
        h.query_all_by_label("error of the product of weight matrices (identity hidden layers)")
            .count()
            == 2
    );
    assert!(r.control.as_ref().unwrap().failed_as_expected());
    assert!(
        h.query_by_label_contains("The control fails as expected")
            .is_some()
    );
}

#[test]
fn the_seed_pass_rate_runs_off_the_ui_thread() {
    let mut h = harness(None);
    h.get_by_label("Lessons").click();
    assert!(settle(&mut h, |a| a.views().lessons.files.is_some()));
    h.get_by_label_contains("#16 ").click();
    h.run_steps(4);
    h.get_by_label("Pass rate over seeds 1–20").click();
    h.run_steps(1);
    assert!(
        h.state().views().lessons.rating(),
        "one click did not start the run"
    );
    assert!(
        settle(&mut h, |a| a.views().lessons.seed_rate.is_some()),
        "no pass rate"
    );
    let r = h.state().views().lessons.seed_rate.clone().unwrap();
    assert_eq!((r.seeds, r.passed, r.control_failed), (20, 20, 20));
    assert!(h.query_by_label_contains("passed on 20 of 20").is_some());
    assert!(
        h.query_by_label_contains("control failed on 20 of 20")
            .is_some()
    );
}

#[test]
fn the_panel_speaks_chinese() {
    let mut h = harness(None);
    h.state_mut()
        .send(Command::SetLang(nnlab::ui::i18n::Lang::Zh));
    h.run_steps(2);
    h.get_by_label("课程").click();
    assert!(settle(&mut h, |a| a.views().lessons.files.is_some()));
    h.get_by_label_contains("#1 感知机").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("预期结果").is_some());
    assert!(h.query_by_label_contains("Novikoff 定理").is_some());
    assert!(h.query_by_label("打开").is_some());
}

#[test]
fn every_lesson_renders_in_both_languages() {
    // egui panics on a glyph no installed font can draw: show every lesson in en and 中文.
    let mut h = harness(None);
    h.get_by_label("Lessons").click();
    assert!(settle(&mut h, |a| a.views().lessons.files.is_some()));
    let n = match &h.state().views().lessons.files {
        Some(Ok(f)) => f.len(),
        _ => panic!("lessons did not load"),
    };
    for lang in [nnlab::ui::i18n::Lang::En, nnlab::ui::i18n::Lang::Zh] {
        h.state_mut().send(Command::SetLang(lang));
        for i in 0..n {
            h.state_mut().send(Command::SelectLesson(i));
            h.run_steps(1);
        }
    }
}
