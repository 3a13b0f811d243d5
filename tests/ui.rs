//! The desktop app driven through egui_kittest (headless): the real `NnlabApp`, its worker
//! thread, clicks and typed text. `run_steps` (not `run`) because the worker keeps asking for
//! repaints while it trains.

mod common_ui;

use common_ui::{harness, settle};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use nnlab::net::Activation;

#[test]
fn play_moves_the_step_counter() {
    let mut h = harness(None);
    assert_eq!(h.state().lab().status().step, 0);
    h.get_by_label("▶ Play").click();
    assert!(
        settle(&mut h, |a| a.lab().status().step > 50),
        "training did not start"
    );
    let step = h.state().lab().status().step;
    assert!(h.query_by_label_contains("Step ").is_some());
    h.get_by_label("‖ Pause").click();
    assert!(settle(&mut h, |a| !a.lab().status().running));
    assert!(h.state().lab().status().step >= step);
    // The counter label shows the worker's step (in its fixed-width field).
    let shown = format!("Step {}  ", h.state().lab().status().step);
    assert!(
        h.query_by_label_contains(&shown).is_some(),
        "no label with {shown:?}"
    );
}

#[test]
fn changing_an_activation_rebuilds_the_network() {
    let mut h = harness(None);
    let before = h.state().lab().rebuilt_at();
    h.get_all_by_value("tanh")
        .next()
        .expect("a tanh combo")
        .click();
    h.run_steps(2);
    h.get_by_label("relu").click();
    assert!(
        settle(&mut h, |a| a.lab().applied().network.layers[0].activation
            == Activation::Relu
            && a.lab().rebuilt_at() != before),
        "no rebuild after changing the activation"
    );
    assert!(h.query_by_label_contains("Network rebuilt").is_some());
}

#[test]
fn adding_a_layer_changes_the_parameter_count() {
    let mut h = harness(None);
    assert_eq!(h.state().lab().n_params(), 105);
    assert!(h.query_all_by_label("Parameters: 105").count() > 0);
    h.get_all_by_label("+ layer").next().unwrap().click();
    assert!(settle(&mut h, |a| a.lab().n_params() != 105));
    // 2-8-8-8-1: 3·8 + 9·8 + 9·8 + 9·1.
    assert_eq!(h.state().lab().n_params(), 177);
    assert!(h.query_all_by_label("Parameters: 177").count() > 0);
}

#[test]
fn switching_to_chinese_changes_the_labels() {
    let mut h = harness(None);
    assert!(h.query_by_label("▶ Play").is_some());
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(h.query_by_label("▶ Play").is_none());
    assert!(h.query_by_label("▶ 训练").is_some());
    assert!(h.query_by_label("重置").is_some());
    h.get_by_label("English").click();
    h.run_steps(3);
    assert!(h.query_by_label("▶ Play").is_some());
}

#[test]
fn a_nan_learning_rate_is_refused_where_typed() {
    let mut h = harness(None);
    // The typed field next to the log slider.
    let is_field = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == egui::accesskit::Role::TextInput && n.value().as_deref() == Some("0.01")
    };
    h.get_by(is_field).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by(is_field).type_text("NaN");
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("must be a positive finite number")
            .is_some()
    );
    assert_eq!(h.state().lab().session().optimizer.lr, 0.01);
}

#[test]
fn a_diverging_run_pauses_and_says_so() {
    // Regression with ReLU and plain SGD at η = 1e6: the loss overflows within a few steps.
    let dir = std::env::temp_dir().join(format!("nnlab-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("diverge.json");
    std::fs::write(
        &path,
        r#"{"nnlab": 1, "name": "diverge", "seed": 3,
            "data": {"source": "sin", "n": 100, "test_fraction": 0.2},
            "network": {"inputs": 1, "layers": [
                {"units": 16, "activation": "relu"}, {"units": 16, "activation": "relu"},
                {"units": 1, "activation": "identity"}]},
            "loss": "mse",
            "optimizer": {"kind": "sgd", "lr": 1000000.0, "batch_size": 100}}"#,
    )
    .unwrap();
    let mut h = harness(Some(path));
    assert!(settle(&mut h, |a| a.lab().applied().name == "diverge"));
    h.get_by_label("▶ Play").click();
    assert!(
        settle(&mut h, |a| a.lab().diverged().is_some()),
        "did not diverge"
    );
    assert!(!h.state().lab().status().running);
    assert!(h.query_by_label("⚠ Training diverged").is_some());
    assert!(
        h.query_by_label("Lower learning rate ÷10 and reset")
            .is_some()
    );
    h.get_by_label("Lower learning rate ÷10 and reset").click();
    assert!(settle(&mut h, |a| a.lab().diverged().is_none()));
    assert_eq!(h.state().lab().session().optimizer.lr, 100000.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_worker_panic_is_caught_and_shown() {
    let mut h = harness(None);
    h.state()
        .lab()
        .worker()
        .send(nnlab::runtime::worker::Command::InjectPanic);
    assert!(settle(&mut h, |a| a.lab().panicked().is_some()));
    assert!(h.query_by_label("⚠ The training thread crashed").is_some());
    // The banner's Reset (the top bar has one too).
    h.get_all_by_label("Reset").last().unwrap().click();
    assert!(settle(&mut h, |a| a.lab().panicked().is_none()
        && a.lab().snapshot().is_some()));
}

/// Data typed as a formula in the Data panel: a condition becomes two classes on a 2-D map, a
/// formula that does not read is refused where typed, naming its column, and nothing changes.
#[test]
fn data_typed_as_a_formula_is_applied_or_refused_where_typed() {
    use egui::accesskit::Role;
    let mut h = harness(None);
    let type_formula = |h: &mut egui_kittest::Harness<'static, nnlab::ui::NnlabApp>, text: &str| {
        h.get_by_role_and_label(Role::TextInput, "Formula").focus();
        h.run_steps(1);
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        h.run_steps(1);
        h.get_by_role_and_label(Role::TextInput, "Formula")
            .type_text(text);
        h.run_steps(1);
        h.key_press(egui::Key::Enter);
        h.run_steps(3);
    };
    type_formula(&mut h, "x1 + * x2");
    assert!(
        h.query_by_label_contains("at column 6: expected a number")
            .is_some(),
        "no error where typed"
    );
    assert_eq!(
        h.state().lab().session().data.source,
        nnlab::data::spec::DataSource::Spiral
    );
    type_formula(&mut h, "x1^2 + x2 > 0.5");
    assert!(settle(&mut h, |a| a.lab().applied().data.source
        == nnlab::data::spec::DataSource::Formula
        && a.lab().train().classes == 2
        && a.lab().train().inputs == 2));
    assert!(
        h.query_by_label_contains("at column").is_none(),
        "the old error is gone"
    );
    // What was applied: the formula as typed, drawn over two inputs.
    let d = &h.state().lab().applied().data;
    assert_eq!(d.formula.as_deref(), Some("x1^2 + x2 > 0.5"));
    assert_eq!(d.inputs, Some(2));
}
