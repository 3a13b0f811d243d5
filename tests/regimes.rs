//! Minimum norm (THEORY row 28) and double descent (row 29) against independent references:
//! the pseudo-inverse solution from the normal equations of the Gram matrix AAᵀ (Gaussian
//! elimination here, not the library's SVD), and gradient-descent training against the closed
//! form.

use nnlab::analysis::min_norm::{readout, readout_matrix};
use nnlab::cli::regimes::{confirm_by_training, features_of, train_and_compare};
use nnlab::session::{self, Session};
use nnlab::train::Trainer;

const RANDOM_FEATURES: &str = r#"{
  "nnlab": 1, "name": "rf", "seed": 5,
  "data": {"source": "boolean", "bits": 3, "op": "parity", "test_fraction": 0.0},
  "network": {"inputs": 3, "init": "he_normal",
    "layers": [{"units": 40, "activation": "relu", "trainable": false},
               {"units": 1, "activation": "identity", "init": "zeros"}]},
  "loss": "mse",
  "optimizer": {"kind": "gd", "lr": 0.1}
}"#;

fn trainer(text: &str) -> Trainer {
    let s: Session = session::parse(text).unwrap();
    let (train, test) = session::build_data(&s, None).unwrap();
    Trainer::new(&s.trainer_config(), train, test, None).unwrap()
}

/// Solve the square system m·x = b by Gaussian elimination with partial pivoting.
fn solve(mut m: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, p);
        b.swap(c, p);
        let pivot = m[c].clone();
        let bc = b[c];
        for (row, br) in m[c + 1..].iter_mut().zip(&mut b[c + 1..]) {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            *br -= f * bc;
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| m[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / m[r][r];
    }
    x
}

#[test]
fn gradient_descent_from_zero_reaches_the_pseudo_inverse_of_the_gram_equations() {
    let mut t = trainer(RANDOM_FEATURES);
    let theta0 = t.theta.clone();
    let n = t.train.rows();
    let a = readout_matrix(&t.net, &theta0, &t.train.x, n);
    let cols = a.len() / n;
    // A⁺y = Aᵀ(AAᵀ)⁻¹y for A of full row rank.
    let gram: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..cols).map(|k| a[i * cols + k] * a[j * cols + k]).sum())
                .collect()
        })
        .collect();
    let z = solve(gram, t.train.y.clone());
    let reference: Vec<f64> = (0..cols)
        .map(|k| (0..n).map(|i| a[i * cols + k] * z[i]).sum())
        .collect();
    let report = train_and_compare(&mut t, 100_000).unwrap();
    let w = readout(&t.net, &t.theta);
    let d = w
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    assert!(d < 1e-8, "distance to Aᵀ(AAᵀ)⁻¹y: {d}");
    assert!(report.distance < 1e-8, "{report:?}");
    assert_eq!(report.rank, n);
    assert!(report.max_residual < 1e-8, "{report:?}");
    // The hidden layer never moved.
    let l0 = &t.net.layers[0];
    assert_eq!(&t.theta[..l0.end], &theta0[..l0.end]);
}

#[test]
fn a_random_start_keeps_exactly_its_null_space_component() {
    let text = RANDOM_FEATURES.replace(r#""init": "zeros""#, r#""init": "normal""#);
    let mut t = trainer(&text);
    let r = train_and_compare(&mut t, 100_000).unwrap();
    assert!(r.start_null_norm > 0.01, "{r:?}");
    // GD's limit is A⁺y + P_null θ₀; that difference is orthogonal to A⁺y, so the distance
    // to A⁺y is the null-space norm itself.
    assert!(r.limit_error < 1e-8, "{r:?}");
    assert!(
        (r.distance - r.start_null_norm).abs() < 1e-8,
        "distance {} vs null-space norm {}",
        r.distance,
        r.start_null_norm
    );
}

#[test]
fn minimum_norm_refuses_a_network_whose_features_train() {
    let text = RANDOM_FEATURES.replace(r#", "trainable": false"#, "");
    let mut t = trainer(&text);
    let e = train_and_compare(&mut t, 1).unwrap_err().to_string();
    assert!(e.contains("frozen"), "{e}");
}

const MOONS: &str = r#"{
  "nnlab": 1, "name": "dd", "seed": 3,
  "data": {"source": "moons", "n": 200, "noise": 0.3, "test_fraction": 0.9},
  "network": {"inputs": 2, "init": "he_normal",
    "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
    "layers": [{"units": 20, "activation": "relu", "trainable": false},
               {"units": 1, "activation": "identity", "init": "zeros"}]},
  "loss": "mse",
  "optimizer": {"kind": "gd", "lr": 0.1}
}"#;

#[test]
fn training_the_readout_confirms_the_closed_form_sweep() {
    let s: Session = session::parse(MOONS).unwrap();
    let (train, test) = session::build_data(&s, None).unwrap();
    let loaded = session::Loaded {
        session: s.clone(),
        train: train.clone(),
        test: test.clone(),
        dir: None,
    };
    let f = features_of(&loaded, 200).unwrap();
    // Where gradient descent has converged (its slowest direction's remaining share below
    // 1e-4), the trained test error matches the closed form to within ten times that share.
    // (Over-parameterised p need far more steps here — κ of the readout's Hessian is large;
    // the minimum-norm limit itself is tested above on a well-conditioned model.)
    for p in [2, 4, 8] {
        let (trained, closed, remaining) =
            confirm_by_training(&f, &s.network, s.seed, &train, &test, p, 100_000).unwrap();
        assert!(remaining < 1e-4, "p = {p}: GD not converged ({remaining})");
        assert!(
            (trained - closed).abs() <= (1e-10 + 10.0 * remaining) * closed,
            "p = {p}: trained {trained} vs closed form {closed} (remaining {remaining})"
        );
    }
}
