//! The update a training step makes against −η (1/m) Σ δ aᵀ (THEORY row 32).

use nnlab::analysis::outer_product::{numerical_rank, predicted_update};
use nnlab::net::Rows;
use nnlab::session::{self, Session};
use nnlab::train::Trainer;

/// A 2-6-5-1 tanh regression/classification session; `optimizer` is the JSON of the optimizer.
fn trainer(optimizer: &str, n: usize) -> Trainer {
    let text = format!(
        r#"{{
  "nnlab": 1, "name": "outer", "seed": 4,
  "data": {{ "source": "circle", "n": {n}, "noise": 0.05, "test_fraction": 0.0 }},
  "network": {{ "inputs": 2, "init": "xavier_normal",
    "layers": [ {{ "units": 6, "activation": "tanh" }}, {{ "units": 5, "activation": "relu" }},
                {{ "units": 1, "activation": "sigmoid" }} ] }},
  "loss": "bce",
  "optimizer": {optimizer}
}}"#
    );
    let s: Session = session::parse(&text).expect("valid session");
    let (train, test) = session::build_data(&s, None).expect("data");
    Trainer::new(&s.trainer_config(), train, test, s.params.clone()).expect("trainer")
}

/// ΔW of every layer made by one step, and the prediction at θ before it on the full set.
fn step_and_predict(t: &mut Trainer, lr: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let before = t.theta.clone();
    let rows = Rows {
        x: &t.train.x,
        y: &t.train.y,
        classes: t.train.classes,
    };
    let predicted = predicted_update(&t.net, &before, rows, lr).unwrap();
    t.step();
    let actual = t
        .net
        .layers
        .iter()
        .map(|l| {
            (l.w..l.w + l.n_weights())
                .map(|i| t.theta[i] - before[i])
                .collect()
        })
        .collect();
    (actual, predicted)
}

#[test]
fn sgd_on_one_example_moves_w_by_a_rank_one_outer_product() {
    let lr = 0.3;
    let mut t = trainer(r#"{ "kind": "sgd", "lr": 0.3, "batch_size": 1 }"#, 1);
    for _ in 0..5 {
        let (actual, predicted) = step_and_predict(&mut t, lr);
        for (l, (a, p)) in actual.iter().zip(&predicted).enumerate() {
            let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(p) {
                assert!(
                    (x - y).abs() <= 1e-12 * (1.0 + scale),
                    "layer {l}: {x} vs {y}"
                );
            }
            let layer = &t.net.layers[l];
            assert_eq!(
                numerical_rank(a, layer.units, layer.fan_in, 1e-10).unwrap(),
                1
            );
        }
    }
}

#[test]
fn a_full_batch_step_is_the_mean_of_the_outer_products() {
    let lr = 0.1;
    let mut t = trainer(r#"{ "kind": "gd", "lr": 0.1 }"#, 40);
    for _ in 0..3 {
        let (actual, predicted) = step_and_predict(&mut t, lr);
        for (a, p) in actual.iter().zip(&predicted) {
            let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(p) {
                assert!((x - y).abs() <= 1e-12 * (1.0 + scale), "{x} vs {y}");
            }
        }
    }
}

#[test]
fn adam_on_one_example_is_no_longer_an_outer_product() {
    let mut t = trainer(r#"{ "kind": "adam", "lr": 0.01, "batch_size": 1 }"#, 8);
    let (mut strict, mut loose) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let before = t.theta.clone();
        t.step();
        // The 5×6 second layer: SGD on one example gives rank 1 there.
        let l = &t.net.layers[1];
        let dw: Vec<f64> = (l.w..l.w + l.n_weights())
            .map(|i| t.theta[i] - before[i])
            .collect();
        strict.push(numerical_rank(&dw, l.units, l.fan_in, 1e-10).unwrap());
        loose.push(numerical_rank(&dw, l.units, l.fan_in, 1e-2).unwrap());
    }
    eprintln!(
        "Adam ΔW rank of the 5×6 layer per step: σ > 1e-10 σ₁: {strict:?}; σ > 1e-2 σ₁: {loose:?}"
    );
    // One example per step, so SGD would give rank 1 every step.
    assert!(loose[5..].iter().all(|&r| r >= 2), "{loose:?}");
}
