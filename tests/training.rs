//! Training outcomes: determinism, counters, the perceptron's Novikoff bound, divergence.

use std::path::Path;

use nnlab::session::{self, Session};
use nnlab::train::Trainer;

fn trainer_from(text: &str) -> Trainer {
    let s: Session = session::parse(text).expect("valid session");
    let (train, test) = session::build_data(&s, None).expect("data");
    Trainer::new(&s.trainer_config(), train, test, s.params.clone()).expect("trainer")
}

/// Everything random at once: shuffled mini-batches, dropout, BatchNorm, residual, Adam.
const BUSY: &str = r#"{
  "nnlab": 1, "name": "busy", "seed": 9,
  "data": {"source": "spiral", "n": 300, "noise": 0.1},
  "network": {"inputs": 2, "residual": true, "init": "he_uniform",
    "layers": [{"units": 12, "activation": "relu", "batch_norm": true, "dropout": 0.2},
               {"units": 12, "activation": "swish", "dropout": 0.1},
               {"units": 1, "activation": "sigmoid"}]},
  "loss": "bce",
  "optimizer": {"kind": "adam", "lr": 0.01, "batch_size": 32, "clip_norm": 1.0},
  "regularization": {"l1": 0.0001, "l2": 0.001}
}"#;

#[test]
fn same_session_gives_bit_identical_parameters_after_1000_steps() {
    let run = || {
        let mut t = trainer_from(BUSY);
        for _ in 0..1000 {
            t.step();
        }
        t.theta
    };
    let a = run();
    let b = run();
    assert_eq!(a.len(), b.len());
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "trajectories differ"
    );
    // And the run did something: θ moved away from its initial value.
    let t0 = trainer_from(BUSY).theta;
    assert!(a.iter().zip(&t0).any(|(x, y)| x != y));
}

#[test]
fn a_different_seed_gives_a_different_trajectory() {
    let mut a = trainer_from(BUSY);
    let mut b = trainer_from(&BUSY.replace("\"seed\": 9", "\"seed\": 10"));
    for _ in 0..10 {
        a.step();
        b.step();
    }
    assert_ne!(a.theta, b.theta);
}

#[test]
fn epochs_and_iterations_follow_ceil_n_over_b() {
    // 240 training rows (300 × 0.8), batch 32 ⇒ ⌈240/32⌉ = 8 iterations per epoch.
    let mut t = trainer_from(BUSY);
    assert_eq!(t.train.rows(), 240);
    assert_eq!(t.iterations_per_epoch(), 8);
    for _ in 0..8 * 3 + 5 {
        t.step();
    }
    assert_eq!(t.step, 29);
    assert_eq!(t.epoch, 3);
    assert_eq!(t.iteration, 5);
}

#[test]
fn perceptron_mistakes_stay_within_the_novikoff_bound() {
    for seed in 1..6 {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/perceptron_linear.json"),
        )
        .unwrap()
        .replace("\"seed\": 3", &format!("\"seed\": {seed}"));
        let mut t = trainer_from(&text);
        let bound = t.novikoff.expect("linear data are separable").bound;
        for _ in 0..200 {
            t.step();
        }
        let eval = t.evaluate();
        assert_eq!(
            eval.train_accuracy, 1.0,
            "seed {seed}: perceptron converged"
        );
        assert!(t.mistakes >= 1, "seed {seed}: it had to learn something");
        assert!(
            (t.mistakes as f64) <= bound,
            "seed {seed}: {} mistakes > bound {bound}",
            t.mistakes
        );
    }
}

#[test]
fn perceptron_never_converges_on_xor_but_a_hidden_layer_solves_it() {
    let perceptron = r#"{"nnlab": 1, "seed": 1,
      "data": {"source": "boolean", "bits": 2, "op": "parity", "test_fraction": 0},
      "network": {"inputs": 2, "layers": [{"units": 1, "activation": "step"}], "init": "zeros"},
      "loss": "hinge", "optimizer": {"kind": "perceptron", "lr": 1.0, "batch_size": 4}}"#;
    let mut t = trainer_from(perceptron);
    assert!(t.novikoff.is_none(), "XOR is not linearly separable");
    let mut mistakes_per_epoch = Vec::new();
    for _ in 0..50 {
        let before = t.mistakes;
        t.step();
        mistakes_per_epoch.push(t.mistakes - before);
    }
    assert!(
        mistakes_per_epoch.iter().all(|&m| m >= 1),
        "{mistakes_per_epoch:?}"
    );

    // With the x1*x2 feature a single perceptron separates it (Cover's theorem).
    let cover = perceptron.replace(
        r#""inputs": 2,"#,
        r#""inputs": 2, "features": ["x1", "x2", "x1*x2"],"#,
    );
    let mut t = trainer_from(&cover);
    assert!(t.novikoff.is_some());
    for _ in 0..100 {
        t.step();
    }
    assert_eq!(t.evaluate().train_accuracy, 1.0);

    // And a 2-2-1 sigmoid net trained by backprop solves it.
    let net = r#"{"nnlab": 1, "seed": 4,
      "data": {"source": "boolean", "bits": 2, "op": "parity", "test_fraction": 0},
      "network": {"inputs": 2, "init": "xavier_normal",
        "layers": [{"units": 2, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]},
      "loss": "bce", "optimizer": {"kind": "adam", "lr": 0.05}}"#;
    // 2-2-1 nets have bad local minima (one pattern left wrong, loss ≈ ln2/2), so count the
    // initialisations that solve it.
    let solved = (1..=8)
        .filter(|seed| {
            let mut t = trainer_from(&net.replace("\"seed\": 4", &format!("\"seed\": {seed}")));
            for _ in 0..3000 {
                t.step();
            }
            t.evaluate().train_accuracy == 1.0
        })
        .count();
    eprintln!("2-2-1 solved XOR from {solved} of 8 initialisations");
    assert!(solved >= 3, "only {solved} of 8");
}

#[test]
fn a_huge_learning_rate_is_reported_as_divergence() {
    let text = BUSY
        .replace("\"lr\": 0.01", "\"lr\": 1e6")
        .replace("\"kind\": \"adam\"", "\"kind\": \"sgd\"")
        .replace(", \"clip_norm\": 1.0", "")
        .replace(
            "\"activation\": \"sigmoid\"",
            "\"activation\": \"identity\"",
        )
        .replace("\"loss\": \"bce\"", "\"loss\": \"mse\"");
    let mut t = trainer_from(&text);
    let diverged = (0..200).any(|_| t.step().diverged);
    assert!(diverged);
}

#[test]
fn layer_statistics_are_measured() {
    let mut t = trainer_from(BUSY);
    let r = t.step();
    assert_eq!(r.layers.len(), 3);
    for l in &r.layers {
        assert!(l.grad_norm > 0.0 && l.weight_norm > 0.0 && l.update_norm > 0.0);
        assert!(l.act_std >= 0.0 && (0.0..=1.0).contains(&l.dead));
    }
    // The update of plain SGD is exactly η·‖∇W‖.
    let sgd = BUSY
        .replace("\"kind\": \"adam\"", "\"kind\": \"sgd\"")
        .replace(", \"clip_norm\": 1.0", "")
        .replace("\"l1\": 0.0001", "\"l1\": 0.0");
    let mut t = trainer_from(&sgd);
    let r = t.step();
    for l in &r.layers {
        assert!((l.update_norm - 0.01 * l.grad_norm).abs() <= 1e-12 * l.update_norm.max(1.0));
    }
}

/// RMSE and R² of a regression, against a two-pass computation from the predictions.
#[test]
fn regression_fit_matches_an_independent_rmse_and_r2() {
    let mut t = trainer_from(
        r#"{"nnlab": 1, "name": "fit", "seed": 4,
        "data": {"source": "formula", "formula": "x1^2 - x2", "inputs": 2, "n": 300,
                 "noise": 0.1, "test_fraction": 0.3},
        "network": {"inputs": 2, "layers": [{"units": 8, "activation": "tanh"},
                                            {"units": 1, "activation": "identity"}]},
        "loss": "mse", "optimizer": {"kind": "adam", "lr": 0.02, "batch_size": 30}}"#,
    );
    for _ in 0..400 {
        t.step();
    }
    let e = t.evaluate();
    for (set, rmse, r2) in [
        (t.train.clone(), e.train_rmse, e.train_r2),
        (t.test.clone(), e.test_rmse, e.test_r2),
    ] {
        let n = set.rows();
        let pred = t.predict(&set.x, n);
        let mean = set.y.iter().sum::<f64>() / n as f64;
        let ss_res: f64 = pred.iter().zip(&set.y).map(|(p, y)| (p - y).powi(2)).sum();
        let ss_tot: f64 = set.y.iter().map(|y| (y - mean).powi(2)).sum();
        let want_rmse = (ss_res / n as f64).sqrt();
        let want_r2 = 1.0 - ss_res / ss_tot;
        assert!(
            (rmse - want_rmse).abs() <= 1e-12 * want_rmse,
            "{rmse} vs {want_rmse}"
        );
        assert!((r2 - want_r2).abs() <= 1e-12, "{r2} vs {want_r2}");
        assert!(r2 > 0.5, "the net learned something: R² {r2}");
    }
    // Classification has no fit to report.
    let mut c = trainer_from(BUSY);
    let e = c.evaluate();
    assert!(e.train_rmse.is_nan() && e.test_r2.is_nan());
    assert!(e.train_accuracy.is_finite());
}

/// The confusion matrix agrees with the evaluation's accuracy and with the class counts.
#[test]
fn confusion_matrix_counts_every_row_once_and_matches_the_accuracy() {
    let mut t = trainer_from(
        r#"{"nnlab": 1, "name": "blobs", "seed": 2,
        "data": {"source": "blobs", "classes": 4, "n": 400, "noise": 0.35, "test_fraction": 0.25},
        "network": {"inputs": 2, "layers": [{"units": 8, "activation": "tanh"},
                                            {"units": 4, "activation": "softmax"}]},
        "loss": "cross_entropy", "optimizer": {"kind": "adam", "lr": 0.02, "batch_size": 50}}"#,
    );
    for _ in 0..150 {
        t.step();
    }
    let e = t.evaluate();
    for (set, accuracy) in [
        (t.train.clone(), e.train_accuracy),
        (t.test.clone(), e.test_accuracy),
    ] {
        let c = nnlab::train::confusion(&mut t, &set).expect("classification");
        assert_eq!(c.classes, 4);
        assert_eq!(c.total(), set.rows() as u64);
        for class in 0..4 {
            let rows = set.y.iter().filter(|&&y| y == class as f64).count() as u64;
            let counted: u64 = (0..4).map(|p| c.get(class, p)).sum();
            assert_eq!(counted, rows, "class {class}");
        }
        assert_eq!(c.accuracy(), accuracy);
        // The noisy blobs overlap: some rows are off the diagonal, most are on it.
        assert!(accuracy > 0.6 && accuracy < 1.0, "{accuracy}");
    }
    // Regression has none.
    let mut r = trainer_from(
        r#"{"nnlab": 1, "name": "r", "seed": 1, "data": {"source": "sin", "n": 50},
        "network": {"inputs": 1, "layers": [{"units": 4, "activation": "tanh"},
                                            {"units": 1, "activation": "identity"}]},
        "loss": "mse", "optimizer": {"kind": "sgd", "lr": 0.1}}"#,
    );
    let train = r.train.clone();
    assert!(nnlab::train::confusion(&mut r, &train).is_none());
}
