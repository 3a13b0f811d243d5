//! The residual spectrum against closed forms, and the frequency principle on a trained net.

use nnlab::analysis::spectral_bias::{FourierBasis, converge_in_order};
use nnlab::cli::spectral_bias::record;
use nnlab::session::{self, Session};
use nnlab::train::Trainer;

const N: usize = 200;

/// Uniform x_i = −π + 2πi/N.
fn grid() -> Vec<f64> {
    (0..N)
        .map(|i| -std::f64::consts::PI + std::f64::consts::TAU * i as f64 / N as f64)
        .collect()
}

/// A 1-64-64-1 tanh regression of Σ sin(k x) over `ks`, full-batch Adam.
fn trainer(ks: &[usize], seed: u64) -> Trainer {
    let x = grid();
    let y: Vec<f64> = x
        .iter()
        .map(|&v| ks.iter().map(|&k| (k as f64 * v).sin()).sum())
        .collect();
    let xs: Vec<Vec<f64>> = x.iter().map(|&v| vec![v]).collect();
    let text = format!(
        r#"{{
  "nnlab": 1, "name": "fp", "seed": {seed},
  "data": {{ "source": "inline", "x": {}, "y": {}, "task": "regression", "test_fraction": 0.0 }},
  "network": {{ "inputs": 1, "init": "xavier_normal",
    "layers": [ {{ "units": 64, "activation": "tanh" }}, {{ "units": 64, "activation": "tanh" }},
                {{ "units": 1, "activation": "identity" }} ] }},
  "loss": "mse",
  "optimizer": {{ "kind": "adam", "lr": 0.002, "batch_size": {N} }}
}}"#,
        serde_json::to_string(&xs).unwrap(),
        serde_json::to_string(&y).unwrap()
    );
    let s: Session = session::parse(&text).expect("valid session");
    let (train, test) = session::build_data(&s, None).expect("data");
    Trainer::new(&s.trainer_config(), train, test, s.params.clone()).expect("trainer")
}

#[test]
fn uniform_points_give_the_discrete_fourier_transform() {
    let x = grid();
    // 0.7 + 2 cos(3·(x − x₁)) − 0.5 sin(7·(x − x₁)): |v̂| = 0.7, 1, 0.25 at k = 0, 3, 7.
    let v: Vec<f64> = x
        .iter()
        .map(|&t| {
            let s = t - x[0];
            0.7 + 2.0 * (3.0 * s).cos() - 0.5 * (7.0 * s).sin()
        })
        .collect();
    let b = FourierBasis::new(&x, &v, 16).unwrap();
    for (k, a) in b.target.iter().enumerate() {
        let want = match k {
            0 => 0.7,
            3 => 1.0,
            7 => 0.25,
            _ => 0.0,
        };
        assert!((a - want).abs() < 1e-12, "k = {k}: {a}");
    }
    assert_eq!(b.peaks(0.1), vec![3, 7]);
    // Row order does not matter.
    let mut xr = x.clone();
    let mut vr = v.clone();
    xr.reverse();
    vr.reverse();
    let br = FourierBasis::new(&xr, &vr, 16).unwrap();
    for (a, c) in b.target.iter().zip(&br.target) {
        assert!((a - c).abs() < 1e-12);
    }
}

#[test]
fn low_frequencies_converge_first_across_seeds() {
    for seed in [1, 2, 3] {
        let mut t = trainer(&[1, 5, 10], seed);
        let run = record(&mut t, 3000, 10, 32).unwrap();
        let h = &run.history;
        assert_eq!(h.frequencies, vec![1, 5, 10]);
        let steps = h.convergence_steps(0.1);
        eprintln!("seed {seed}: converged at {steps:?}");
        assert!(converge_in_order(h, 0.1).unwrap(), "seed {seed}: {steps:?}");
    }
}

#[test]
fn a_single_frequency_has_no_order_to_measure() {
    let mut t = trainer(&[5], 1);
    let run = record(&mut t, 50, 10, 32).unwrap();
    assert_eq!(run.history.frequencies, vec![5]);
    let e = converge_in_order(&run.history, 0.1).unwrap_err();
    assert!(e.message.contains("no order to measure"), "{}", e.message);
}

#[test]
fn tables_beyond_the_memory_bound_are_refused() {
    let n = 100_000;
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let e = FourierBasis::new(&x, &x, 256).unwrap_err();
    assert!(
        e.message.contains("at most 40 frequencies"),
        "{}",
        e.message
    );
}
