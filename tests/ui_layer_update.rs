//! The Network tile's update panel through egui_kittest (THEORY row 32): the worker hands out
//! its last step exactly, and the panel shows the layer's ΔW beside −η (1/m) Σ δ aᵀ from that
//! step's batch. Checked against a trainer run here from the same session (the same ΔW to the
//! bit) and against central finite differences of the one-row loss (the prediction); for Adam
//! the panel shows ΔW of rank above 1 and says why there is no prediction.

mod common_ui;

use common_ui::{harness, settle};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use nnlab::net::objective::{Rows, objective};
use nnlab::net::{Network, Workspace};
use nnlab::train::Trainer;
use nnlab::ui::command::Command;
use nnlab::ui::i18n::S;
use nnlab::ui::panels::plots::Tile;

fn session_text(kind: &str, batch: usize) -> String {
    format!(
        r#"{{ "nnlab": 1, "name": "outer", "seed": 11,
  "data": {{ "source": "moons", "n": 60, "noise": 0.1 }},
  "network": {{ "inputs": 2, "init": "xavier_normal",
    "layers": [ {{ "units": 5, "activation": "tanh" }}, {{ "units": 4, "activation": "tanh" }},
                {{ "units": 1, "activation": "sigmoid" }} ] }},
  "loss": "bce", "optimizer": {{ "kind": "{kind}", "lr": 0.1, "batch_size": {batch} }} }}"#
    )
}

fn session_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nnlab-outer-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("outer.json");
    std::fs::write(&file, text).unwrap();
    file
}

/// The session trained here for `steps` steps: (θ before the last step, θ after, its batch).
fn reference(text: &str, steps: usize) -> (Trainer, Vec<f64>) {
    let s = nnlab::session::parse(text).unwrap();
    let (train, test) = nnlab::session::build_data(&s, None).unwrap();
    let mut t = Trainer::new(&s.trainer_config(), train, test, None).unwrap();
    let mut before = t.theta.clone();
    for _ in 0..steps {
        before = t.theta.clone();
        t.step();
    }
    (t, before)
}

/// −η ∂ℓ/∂W of one row by central differences (an independent reference for −η δ aᵀ).
fn finite_difference_update(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    layer: usize,
    lr: f64,
) -> Vec<f64> {
    let l = &net.layers[layer];
    let mut ws = Workspace::default();
    let mut th = theta.to_vec();
    let h = 1e-6;
    (l.w..l.w + l.n_weights())
        .map(|i| {
            th[i] = theta[i] + h;
            let up = objective(net, &th, rows, 0.0, 0.0, &mut ws, None);
            th[i] = theta[i] - h;
            let down = objective(net, &th, rows, 0.0, 0.0, &mut ws, None);
            th[i] = theta[i];
            -lr * (up - down) / (2.0 * h)
        })
        .collect()
}

/// Pick `layer` in the panel's picker, as a person does.
fn pick(h: &mut egui_kittest::Harness<'static, nnlab::ui::NnlabApp>, layer: &str) {
    h.get_by_label("Layer whose last update is shown").click();
    h.run_steps(2);
    // The picker's entry, not the network section's label of the same name.
    h.get_by(|n| n.role() != egui::accesskit::Role::Label && n.label().as_deref() == Some(layer))
        .click();
    h.run_steps(2);
}

#[test]
fn one_example_sgd_step_is_the_outer_product_shown() {
    let text = session_text("sgd", 1);
    let mut h = harness(Some(session_file("sgd", &text)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Network)));
    h.run_steps(2);
    pick(&mut h, "Layer 2");
    assert_eq!(h.state().views().layer_update.layer, Some(1));
    // Before any step there is no update to show, and the panel says so.
    assert!(settle(&mut h, |a| a.views().layer_update.answered == Some(0)));
    assert!(
        h.query_by_label_contains("press Step to see an update")
            .is_some()
    );
    h.state_mut().send(Command::Step(3));
    assert!(
        settle(&mut h, |a| a
            .views()
            .layer_update
            .comparison
            .as_ref()
            .is_some_and(|c| c.step == 3)),
        "no comparison: {:?}",
        h.state().views().layer_update.error
    );
    let app = h.state();
    let view = &app.views().layer_update;
    let c = view.comparison.as_ref().unwrap();
    let last = view.last.as_ref().unwrap();
    assert_eq!((c.layer, c.rows, c.cols, c.batch), (1, 4, 5, 1));
    // The worker's step is the one this trainer takes from the same session: the same batch
    // and the same ΔW, to the bit.
    let (t, before) = reference(&text, 3);
    let (x, y) = t.last_batch();
    assert_eq!((last.batch_x.as_slice(), last.batch_y.as_slice()), (x, y));
    assert_eq!(last.theta_before, before);
    let l = &t.net.layers[1];
    let delta: Vec<f64> = (l.w..l.w + l.n_weights())
        .map(|i| t.theta[i] - before[i])
        .collect();
    assert_eq!(c.delta, delta);
    // The prediction shown agrees with ΔW to 1e-12, and with finite differences of the one-row
    // loss at θ before the step.
    let p = c.predicted.as_ref().expect("plain SGD has a prediction");
    let worst = delta
        .iter()
        .zip(p)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst <= 1e-12, "max |ΔW − prediction| = {worst:e}");
    assert!(c.max_diff <= 1e-12 && c.max_diff == worst);
    let rows = Rows {
        x,
        y,
        classes: t.train.classes,
    };
    let fd = finite_difference_update(&t.net, &before, rows, 1, 0.1);
    let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-6, "the step moved layer 2: {scale:e}");
    for (a, b) in p.iter().zip(&fd) {
        assert!((a - b).abs() <= 1e-7 * scale, "{a} against {b}");
    }
    // One example: one outer product, rank 1, written in the panel.
    assert_eq!((c.rank_delta, c.rank_predicted), (Some(1), Some(1)));
    assert!(
        h.query_by_label_contains("rank of the prediction = 1")
            .is_some()
    );
    let csv = view.csv().unwrap();
    assert_eq!(csv.lines().count(), 2 + 20);
    // In Chinese.
    h.get_by_label("中文").click();
    h.run_steps(3);
    assert!(
        h.query_by_label_contains(S::LuRankPredicted.text().1)
            .is_some()
    );
}

#[test]
fn a_batch_sums_its_outer_products_and_adam_does_not() {
    // Plain SGD on 8 rows: the sum of 8 outer products, rank above 1 and at most 4 (the
    // layer's rows), still equal to the prediction.
    let text = session_text("sgd", 8);
    let mut h = harness(Some(session_file("batch", &text)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Network)));
    h.run_steps(2);
    pick(&mut h, "Layer 2");
    h.state_mut().send(Command::Step(2));
    assert!(settle(&mut h, |a| a
        .views()
        .layer_update
        .comparison
        .as_ref()
        .is_some_and(|c| c.step == 2)));
    let c = h.state().views().layer_update.comparison.clone().unwrap();
    assert_eq!(c.batch, 8);
    assert!(
        c.predicted.is_ok() && c.max_diff <= 1e-12,
        "{:e}",
        c.max_diff
    );
    let r = c.rank_delta.unwrap();
    assert!((2..=4).contains(&r), "rank {r}");
    assert_eq!(c.rank_predicted, Some(r));

    // Adam on one example: its ΔW is no outer product, and the panel says why.
    let text = session_text("adam", 1);
    let mut h = harness(Some(session_file("adam", &text)));
    h.state_mut().send(Command::Enlarge(Some(Tile::Network)));
    h.run_steps(2);
    pick(&mut h, "Layer 2");
    h.state_mut().send(Command::Step(5));
    assert!(settle(&mut h, |a| a
        .views()
        .layer_update
        .comparison
        .as_ref()
        .is_some_and(|c| c.step == 5)));
    let c = h.state().views().layer_update.comparison.clone().unwrap();
    let why = c
        .predicted
        .as_ref()
        .expect_err("Adam has no outer-product prediction");
    assert_eq!(why.reason, S::LuAdaptive);
    assert!(c.rank_delta.unwrap() > 1, "rank {:?}", c.rank_delta);
    // The same ΔW as a trainer run here.
    let (t, before) = reference(&text, 5);
    let l = &t.net.layers[1];
    let delta: Vec<f64> = (l.w..l.w + l.n_weights())
        .map(|i| t.theta[i] - before[i])
        .collect();
    assert_eq!(c.delta, delta);
    assert!(
        h.query_by_label_contains("Adam, RMSprop and AdaGrad divide each entry")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("rank of the prediction")
            .is_none()
    );
}
