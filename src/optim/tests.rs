//! Optimiser tests on the quadratic f(θ) = ½ Σ aᵢθᵢ², a = [1, 10], θ₀ = [1, 1]; ∇f = [θ₀, 10θ₁].
//!
//! Expected trajectories are worked out by hand below (literals, or the update formula written
//! out with the constants), never by calling the code under test.

use super::*;

const A: [f64; 2] = [1.0, 10.0];
const EPS: f64 = 1e-8;

fn grad_of(theta: &[f64]) -> Vec<f64> {
    theta.iter().zip(A).map(|(t, a)| a * t).collect()
}

fn f(theta: &[f64]) -> f64 {
    theta.iter().zip(A).map(|(t, a)| 0.5 * a * t * t).sum()
}

/// θ after each of `steps` optimiser steps from θ₀ = [1, 1].
fn trajectory(spec: &OptimizerSpec, steps: usize) -> Vec<[f64; 2]> {
    let mut opt = Optimizer::new(spec, 2);
    let mut theta = [1.0, 1.0];
    let mut out = Vec::new();
    for _ in 0..steps {
        let mut g = grad_of(&theta);
        opt.step(&mut theta, &mut g);
        out.push(theta);
    }
    assert_eq!(opt.steps(), steps as u64);
    out
}

#[track_caller]
fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths: got {got:?}, want {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "component {i}: got {g}, want {w} (|diff| = {:e}); got {got:?}, want {want:?}",
            (g - w).abs()
        );
    }
}

fn spec(kind: OptimizerKind, lr: f64) -> OptimizerSpec {
    OptimizerSpec::new(kind, lr, 32)
}

// ---------------------------------------------------------------- first steps by hand

#[test]
fn plain_kinds_first_steps() {
    // θ ← θ − ηg with η = 0.05, so θᵢ ← (1 − 0.05aᵢ)θᵢ.
    let want = [
        [1.0 - 0.05 * 1.0, 1.0 - 0.05 * 10.0],       // [0.95, 0.5]
        [0.95 - 0.05 * 0.95, 0.5 - 0.05 * 5.0],      // [0.9025, 0.25]
        [0.9025 - 0.05 * 0.9025, 0.25 - 0.05 * 2.5], // [0.857375, 0.125]
    ];
    assert_close(&want[2], &[0.857375, 0.125], 1e-15);
    for kind in [
        OptimizerKind::Gd,
        OptimizerKind::Sgd,
        OptimizerKind::Perceptron,
        OptimizerKind::FeedbackAlignment,
    ] {
        let traj = trajectory(&spec(kind, 0.05), 3);
        for (got, want) in traj.iter().zip(&want) {
            assert_close(got, want, 1e-14);
        }
    }
}

#[test]
fn momentum_first_steps() {
    // μ = 0.9, η = 0.01; v ← μv + g; θ ← θ − ηv.
    // 1: g = [1, 10];        v = [1, 10];                              θ = [0.99, 0.9]
    // 2: g = [0.99, 9];      v = [0.9 + 0.99, 9 + 9] = [1.89, 18];     θ = [0.9711, 0.72]
    // 3: g = [0.9711, 7.2];  v = [1.701 + 0.9711, 16.2 + 7.2]
    //                          = [2.6721, 23.4];                       θ = [0.944379, 0.486]
    let mut s = spec(OptimizerKind::Momentum, 0.01);
    s.momentum = 0.9;
    let traj = trajectory(&s, 3);
    assert_close(&traj[0], &[1.0 - 0.01 * 1.0, 1.0 - 0.01 * 10.0], 1e-14);
    assert_close(&traj[1], &[0.99 - 0.01 * 1.89, 0.9 - 0.01 * 18.0], 1e-14);
    assert_close(
        &traj[2],
        &[0.9711 - 0.01 * 2.6721, 0.72 - 0.01 * 23.4],
        1e-14,
    );
    assert_close(&traj[2], &[0.944379, 0.486], 1e-14);

    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    for _ in 0..2 {
        let mut g = grad_of(&theta);
        opt.step(&mut theta, &mut g);
    }
    assert_close(opt.velocity().unwrap(), &[1.89, 18.0], 1e-14);
}

#[test]
fn nesterov_first_steps() {
    // μ = 0.9, η = 0.01; v ← μv + g; θ ← θ − η(g + μv).
    // 1: g = [1, 10]; v = [1, 10]; g + μv = [1.9, 19];                   θ = [0.981, 0.81]
    // 2: g = [0.981, 8.1]; v = [0.9 + 0.981, 9 + 8.1] = [1.881, 17.1];
    //    g + μv = [0.981 + 1.6929, 8.1 + 15.39] = [2.6739, 23.49];       θ = [0.954261, 0.5751]
    // 3: g = [0.954261, 5.751]; v = [1.6929 + 0.954261, 15.39 + 5.751] = [2.647161, 21.141];
    //    g + μv = [0.954261 + 2.3824449, 5.751 + 19.0269] = [3.3367059, 24.7779];
    //                                                      θ = [0.920893941, 0.327321]
    let mut s = spec(OptimizerKind::Nesterov, 0.01);
    s.momentum = 0.9;
    let traj = trajectory(&s, 3);
    assert_close(&traj[0], &[1.0 - 0.01 * 1.9, 1.0 - 0.01 * 19.0], 1e-14);
    assert_close(
        &traj[1],
        &[0.981 - 0.01 * 2.6739, 0.81 - 0.01 * 23.49],
        1e-14,
    );
    assert_close(
        &traj[2],
        &[0.954261 - 0.01 * 3.3367059, 0.5751 - 0.01 * 24.7779],
        1e-14,
    );
    assert_close(&traj[2], &[0.920893941, 0.327321], 1e-14);
}

#[test]
fn adagrad_first_steps() {
    // η = 0.1; s ← s + g²; θ ← θ − ηg/(√s + ε).
    let lr = 0.1;
    // 1: g = [1, 10]; s = [1, 100].
    let t1 = [1.0 - lr * 1.0 / (1.0 + EPS), 1.0 - lr * 10.0 / (10.0 + EPS)];
    // 2: g = [θ₀, 10θ₁]; s = [1 + g₀², 100 + g₁²].
    let g2 = [t1[0], 10.0 * t1[1]];
    let s2 = [1.0 + g2[0] * g2[0], 100.0 + g2[1] * g2[1]];
    let t2 = [
        t1[0] - lr * g2[0] / (s2[0].sqrt() + EPS),
        t1[1] - lr * g2[1] / (s2[1].sqrt() + EPS),
    ];
    let traj = trajectory(&spec(OptimizerKind::Adagrad, lr), 2);
    assert_close(&traj[0], &t1, 1e-14);
    assert_close(&traj[1], &t2, 1e-14);
    // By hand, ignoring ε: θ₁ = [0.9, 0.9]; θ₂ = 0.9 − 0.1·0.9/√1.81 = 0.9 − 0.0668965 for
    // both coordinates (AdaGrad is invariant to a per-coordinate scale of f).
    assert_close(&traj[0], &[0.9, 0.9], 1e-8);
    assert_close(&traj[1], &[0.8331035, 0.8331035], 1e-7);
}

#[test]
fn rmsprop_first_steps() {
    // ρ = 0.9, η = 0.01; s ← ρs + (1−ρ)g²; θ ← θ − ηg/(√s + ε).
    let lr = 0.01;
    let mut s = spec(OptimizerKind::Rmsprop, lr);
    s.rho = 0.9;
    // 1: g = [1, 10]; s = 0.1·g² = [0.1, 10].
    let t1 = [
        1.0 - lr * 1.0 / (0.1f64.sqrt() + EPS),
        1.0 - lr * 10.0 / (10.0f64.sqrt() + EPS),
    ];
    // 2: g = [θ₀, 10θ₁]; s = 0.9·[0.1, 10] + 0.1·g².
    let g2 = [t1[0], 10.0 * t1[1]];
    let s2 = [
        0.9 * 0.1 + 0.1 * g2[0] * g2[0],
        0.9 * 10.0 + 0.1 * g2[1] * g2[1],
    ];
    let t2 = [
        t1[0] - lr * g2[0] / (s2[0].sqrt() + EPS),
        t1[1] - lr * g2[1] / (s2[1].sqrt() + EPS),
    ];
    let traj = trajectory(&s, 2);
    assert_close(&traj[0], &t1, 1e-14);
    assert_close(&traj[1], &t2, 1e-14);
    // By hand: θ₁ = 1 − 0.01·√10 = 0.9683772 in both coordinates;
    // θ₂: s₀ = 0.09 + 0.1·0.9683772² = 0.1837754, θ₂ = 0.9683772 − 0.01·0.9683772/0.4286903.
    assert_close(&traj[0], &[0.9683772, 0.9683772], 1e-7);
    assert_close(&traj[1], &[0.9457880, 0.9457880], 1e-7);
}

#[test]
fn adam_first_steps() {
    // β₁ = 0.9, β₂ = 0.999, η = 0.01.
    let lr = 0.01;
    let mut s = spec(OptimizerKind::Adam, lr);
    s.beta1 = 0.9;
    s.beta2 = 0.999;
    // 1: m = 0.1g, v = 0.001g²; m̂ = g, v̂ = g²; θ = 1 − 0.01·g/(|g| + ε).
    let t1 = [1.0 - lr * 1.0 / (1.0 + EPS), 1.0 - lr * 10.0 / (10.0 + EPS)];
    // 2: g = [0.99, 9.9] (to within ε-terms).
    //    coordinate 0: m = 0.9·0.1 + 0.1·0.99 = 0.189;  v = 0.999·0.001 + 0.001·0.9801 = 0.0019791
    //    coordinate 1: m = 0.9·1 + 0.1·9.9 = 1.89;      v = 0.999·0.1 + 0.001·98.01 = 0.19791
    //    m̂ = m/(1 − 0.81) = m/0.19;  v̂ = v/(1 − 0.998001) = v/0.001999.
    let t2 = [
        0.99 - lr * (0.189 / 0.19) / ((0.0019791f64 / 0.001999).sqrt() + EPS),
        0.99 - lr * (1.89 / 0.19) / ((0.19791f64 / 0.001999).sqrt() + EPS),
    ];
    let traj = trajectory(&s, 2);
    assert_close(&traj[0], &t1, 1e-14);
    assert_close(&traj[1], &t2, 1e-9);
    // Decimal: 0.99 − 0.01·0.9947368/0.9950113 = 0.9800028.
    assert_close(&traj[1], &[0.9800028, 0.9800028], 1e-7);

    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    let mut g = grad_of(&theta);
    opt.step(&mut theta, &mut g);
    // velocity() exposes Adam's first moment m = 0.1g.
    assert_close(opt.velocity().unwrap(), &[0.1, 1.0], 1e-15);
}

// ---------------------------------------------------------------- convergence

#[test]
fn every_optimizer_decreases_f_over_200_steps() {
    let cases = [
        (OptimizerKind::Gd, 0.05),
        (OptimizerKind::Sgd, 0.05),
        (OptimizerKind::Perceptron, 0.05),
        (OptimizerKind::FeedbackAlignment, 0.05),
        (OptimizerKind::Momentum, 0.01),
        (OptimizerKind::Nesterov, 0.01),
        (OptimizerKind::Adagrad, 0.5),
        (OptimizerKind::Rmsprop, 0.01),
        (OptimizerKind::Adam, 0.05),
    ];
    let f0 = f(&[1.0, 1.0]);
    assert_eq!(f0, 5.5);
    for (kind, lr) in cases {
        let traj = trajectory(&spec(kind, lr), 200);
        let f_end = f(&traj[199]);
        assert!(
            f_end < 1e-4 * f0,
            "{kind:?} lr={lr}: f went from {f0} to {f_end}"
        );
        assert!(f(&traj[0]) < f0, "{kind:?}: first step did not decrease f");
    }
}

// ---------------------------------------------------------------- schedules

#[test]
fn constant_schedule() {
    for t in [0, 1, 1000, u64::MAX] {
        assert_eq!(scheduled_lr(0.1, &Schedule::Constant, t), 0.1);
    }
}

#[test]
fn step_schedule() {
    let s = Schedule::Step {
        every: 10,
        gamma: 0.5,
    };
    assert_eq!(scheduled_lr(0.1, &s, 0), 0.1);
    assert_eq!(scheduled_lr(0.1, &s, 9), 0.1);
    assert_eq!(scheduled_lr(0.1, &s, 10), 0.05);
    assert_eq!(scheduled_lr(0.1, &s, 19), 0.05);
    assert_eq!(scheduled_lr(0.1, &s, 25), 0.025);
    assert!((scheduled_lr(0.1, &s, 100) - 0.1 / 1024.0).abs() < 1e-18);
    // `every = 0` is invalid but must not divide by zero.
    let s0 = Schedule::Step {
        every: 0,
        gamma: 0.5,
    };
    assert_eq!(scheduled_lr(1.0, &s0, 2), 0.25);
}

#[test]
fn exponential_schedule() {
    let s = Schedule::Exponential { gamma: 0.9 };
    assert_eq!(scheduled_lr(0.1, &s, 0), 0.1);
    assert!((scheduled_lr(0.1, &s, 1) - 0.09).abs() < 1e-15);
    assert!((scheduled_lr(0.1, &s, 3) - 0.1 * 0.729).abs() < 1e-15);
    assert!(scheduled_lr(0.1, &s, u64::MAX) == 0.0);
}

#[test]
fn cosine_schedule() {
    let s = Schedule::Cosine {
        period: 100,
        min_lr: 0.01,
    };
    assert!((scheduled_lr(0.1, &s, 0) - 0.1).abs() < 1e-15);
    // Midpoint: cos(π/2) = 0 → (η + η_min)/2.
    assert!((scheduled_lr(0.1, &s, 50) - 0.055).abs() < 1e-15);
    // Quarter: η_min + ½·0.09·(1 + cos(π/4)) = 0.01 + 0.045·(1 + 0.70710678…).
    let quarter = 0.01 + 0.045 * (1.0 + std::f64::consts::FRAC_1_SQRT_2);
    assert!((scheduled_lr(0.1, &s, 25) - quarter).abs() < 1e-15);
    assert!((scheduled_lr(0.1, &s, 100) - 0.01).abs() < 1e-15);
    assert!((scheduled_lr(0.1, &s, 150) - 0.01).abs() < 1e-15);
    assert!((scheduled_lr(0.1, &s, u64::MAX) - 0.01).abs() < 1e-15);
}

#[test]
fn optimizer_follows_schedule_and_returns_lr_used() {
    let mut s = spec(OptimizerKind::Sgd, 0.1);
    s.schedule = Schedule::Exponential { gamma: 0.5 };
    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    assert_eq!(opt.learning_rate(), 0.1);
    let used: Vec<f64> = (0..3)
        .map(|_| {
            let mut g = grad_of(&theta);
            opt.step(&mut theta, &mut g)
        })
        .collect();
    assert_eq!(used, [0.1, 0.05, 0.025]);
    assert_eq!(opt.learning_rate(), 0.0125);
    // θ₀ ← (1 − η)θ₀ with η = 0.1, 0.05, 0.025.
    assert!((theta[0] - 0.9 * 0.95 * 0.975).abs() < 1e-15);
}

// ---------------------------------------------------------------- clipping

#[test]
fn clip_by_value() {
    let mut g = [3.0, -4.0, 0.5];
    let norm = clip_gradient(&mut g, Some(1.0), None);
    assert!((norm - 25.25f64.sqrt()).abs() < 1e-15);
    assert_eq!(g, [1.0, -1.0, 0.5]);
}

#[test]
fn clip_by_norm() {
    let mut g = [3.0, 4.0];
    let norm = clip_gradient(&mut g, None, Some(1.0));
    assert_eq!(norm, 5.0);
    assert_close(&g, &[0.6, 0.8], 1e-15);

    // Below the threshold: untouched.
    let mut g = [0.3, 0.4];
    let norm = clip_gradient(&mut g, Some(1.0), Some(1.0));
    assert!((norm - 0.5).abs() < 1e-15);
    assert_eq!(g, [0.3, 0.4]);
}

#[test]
fn clip_value_then_norm() {
    // [3, −4, 0] → by value 2: [2, −2, 0], norm √8 → by norm 1: [1/√2, −1/√2, 0].
    let mut g = [3.0, -4.0, 0.0];
    let norm = clip_gradient(&mut g, Some(2.0), Some(1.0));
    assert_eq!(norm, 5.0, "the norm before any clipping");
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert_close(&g, &[h, -h, 0.0], 1e-15);
}

#[test]
fn clip_norm_of_long_and_huge_vectors() {
    // 1003 = 4·250 + 3 exercises the unrolled sum and its tail.
    let mut g = vec![2.0; 1003];
    let norm = clip_gradient(&mut g, None, None);
    assert!((norm - 2.0 * 1003f64.sqrt()).abs() < 1e-12);
    assert!(g.iter().all(|&x| x == 2.0));

    // Σg² overflows, the norm does not.
    let mut g = [3e200, 4e200];
    let norm = clip_gradient(&mut g, None, Some(1.0));
    assert!((norm / 5e200 - 1.0).abs() < 1e-15);
    assert_close(&g, &[0.6, 0.8], 1e-15);
}

#[test]
fn clip_keeps_nan_visible() {
    let mut g = [f64::NAN, 5.0];
    let norm = clip_gradient(&mut g, Some(1.0), Some(1.0));
    assert!(norm.is_nan());
    assert!(g[0].is_nan());
    assert_eq!(g[1], 1.0);
}

#[test]
fn step_clips_before_updating() {
    let mut s = spec(OptimizerKind::Sgd, 0.1);
    s.clip_norm = Some(1.0);
    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    let mut g = [3.0, 4.0];
    opt.step(&mut theta, &mut g);
    assert_close(&g, &[0.6, 0.8], 1e-15);
    assert_close(&theta, &[1.0 - 0.1 * 0.6, 1.0 - 0.1 * 0.8], 1e-15);

    s.clip_norm = None;
    s.clip_value = Some(0.5);
    opt.set_spec(&s);
    let mut g = [3.0, -0.25];
    opt.step(&mut theta, &mut g);
    assert_close(&g, &[0.5, -0.25], 0.0);
    assert_close(&theta, &[0.94 - 0.05, 0.92 + 0.025], 1e-15);
}

// ---------------------------------------------------------------- live edits

#[test]
fn set_spec_keeps_state_for_same_kind() {
    let mut s = spec(OptimizerKind::Momentum, 0.01);
    s.momentum = 0.9;
    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    for _ in 0..2 {
        let mut g = grad_of(&theta);
        opt.step(&mut theta, &mut g);
    }
    // As in momentum_first_steps: θ = [0.9711, 0.72], v = [1.89, 18].
    s.lr = 0.02;
    s.momentum = 0.5;
    opt.set_spec(&s);
    assert_eq!(opt.spec(), &s);
    assert_eq!(opt.steps(), 2);
    assert_eq!(opt.learning_rate(), 0.02);
    assert_close(opt.velocity().unwrap(), &[1.89, 18.0], 1e-14);
    // Next step with the new μ and η: g = [0.9711, 7.2];
    // v = [0.5·1.89 + 0.9711, 0.5·18 + 7.2] = [1.9161, 16.2]; θ = θ − 0.02v.
    let mut g = grad_of(&theta);
    opt.step(&mut theta, &mut g);
    assert_close(opt.velocity().unwrap(), &[1.9161, 16.2], 1e-14);
    assert_close(&theta, &[0.9711 - 0.02 * 1.9161, 0.72 - 0.02 * 16.2], 1e-14);
}

#[test]
fn set_spec_resets_state_on_kind_change_but_not_t() {
    let mut s = spec(OptimizerKind::Momentum, 0.01);
    s.schedule = Schedule::Step {
        every: 3,
        gamma: 0.5,
    };
    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0];
    for _ in 0..3 {
        let mut g = grad_of(&theta);
        opt.step(&mut theta, &mut g);
    }
    assert!(opt.velocity().unwrap().iter().all(|&v| v != 0.0));

    s.kind = OptimizerKind::Nesterov;
    opt.set_spec(&s);
    assert_eq!(opt.steps(), 3);
    assert_eq!(opt.velocity(), Some(&[0.0, 0.0][..]));
    // The schedule carries on: t = 3 → η = 0.01·0.5.
    assert_eq!(opt.learning_rate(), 0.005);

    s.kind = OptimizerKind::Sgd;
    opt.set_spec(&s);
    assert_eq!(opt.velocity(), None);
    assert_eq!(opt.steps(), 3);

    // Switching to Adam mid-run: fresh moments, and the bias correction restarts with them, so
    // the first Adam step moves every coordinate by ≈ η·sign(g) (m̂ = g, v̂ = g²).
    s.kind = OptimizerKind::Adam;
    s.schedule = Schedule::Constant;
    opt.set_spec(&s);
    assert_eq!(opt.velocity(), Some(&[0.0, 0.0][..]));
    let before = theta;
    let mut g = grad_of(&theta);
    opt.step(&mut theta, &mut g);
    assert_close(&theta, &[before[0] - 0.01, before[1] - 0.01], 1e-8);
    assert_eq!(opt.steps(), 4);
}

#[test]
fn step_resizes_state_when_theta_length_changes() {
    let s = spec(OptimizerKind::Momentum, 0.1);
    let mut opt = Optimizer::new(&s, 2);
    let mut theta = [1.0, 1.0, 1.0];
    let mut g = [1.0, 2.0, 3.0];
    opt.step(&mut theta, &mut g);
    assert_eq!(opt.velocity().unwrap(), &[1.0, 2.0, 3.0]);
    assert_close(&theta, &[0.9, 0.8, 0.7], 1e-15);
}

#[test]
fn step_repairs_state_missing_from_json() {
    // A session whose optimiser lost its state vectors still trains (from zero state).
    let json = r#"{"spec": {"kind": "adam", "lr": 0.01}, "t": 5, "n_params": 2}"#;
    let mut opt: Optimizer = serde_json::from_str(json).unwrap();
    assert_eq!(opt.steps(), 5);
    let mut theta = [1.0, 1.0];
    let mut g = grad_of(&theta);
    opt.step(&mut theta, &mut g);
    // Fresh moments: the first step moves each coordinate by ≈ η.
    assert_close(&theta, &[0.99, 0.99], 1e-8);
    assert_close(opt.velocity().unwrap(), &[0.1, 1.0], 1e-15);
    assert_eq!(opt.steps(), 6);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn step_rejects_mismatched_lengths() {
    let mut opt = Optimizer::new(&spec(OptimizerKind::Sgd, 0.1), 2);
    opt.step(&mut [1.0, 1.0], &mut [1.0]);
}

#[test]
fn no_state_for_plain_kinds() {
    for kind in [
        OptimizerKind::Gd,
        OptimizerKind::Sgd,
        OptimizerKind::Perceptron,
        OptimizerKind::FeedbackAlignment,
        OptimizerKind::Adagrad,
        OptimizerKind::Rmsprop,
    ] {
        assert_eq!(Optimizer::new(&spec(kind, 0.1), 5).velocity(), None);
    }
}

// ---------------------------------------------------------------- serde

#[test]
fn optimizer_round_trips_through_json_and_resumes_identically() {
    let s = spec(OptimizerKind::Adam, 0.05);
    let mut a = Optimizer::new(&s, 2);
    let mut theta_a = [1.0, 1.0];
    for _ in 0..3 {
        let mut g = grad_of(&theta_a);
        a.step(&mut theta_a, &mut g);
    }
    let json = serde_json::to_string(&a).unwrap();
    let mut b: Optimizer = serde_json::from_str(&json).unwrap();
    assert_eq!(a, b);
    let mut theta_b = theta_a;
    for _ in 0..3 {
        let mut g = grad_of(&theta_a);
        a.step(&mut theta_a, &mut g);
        let mut g = grad_of(&theta_b);
        b.step(&mut theta_b, &mut g);
    }
    assert_eq!(theta_a, theta_b);
    assert_eq!(a, b);
}

#[test]
fn spec_defaults_from_json() {
    let s: OptimizerSpec = serde_json::from_str(r#"{"kind": "adam", "lr": 0.001}"#).unwrap();
    assert_eq!(s, spec(OptimizerKind::Adam, 0.001));
    validate(&s).unwrap();
    let s: OptimizerSpec = serde_json::from_str(
        r#"{"kind": "sgd", "lr": 0.1, "schedule": {"kind": "step", "every": 10, "gamma": 0.5}}"#,
    )
    .unwrap();
    assert_eq!(
        s.schedule,
        Schedule::Step {
            every: 10,
            gamma: 0.5
        }
    );
}

// ---------------------------------------------------------------- validation

fn message(spec: &OptimizerSpec) -> String {
    validate(spec).expect_err("should be invalid").message
}

#[test]
fn valid_specs_pass() {
    for kind in [
        OptimizerKind::Gd,
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adagrad,
        OptimizerKind::Rmsprop,
        OptimizerKind::Adam,
        OptimizerKind::Perceptron,
        OptimizerKind::FeedbackAlignment,
    ] {
        validate(&spec(kind, 0.01)).unwrap();
    }
    let mut s = spec(OptimizerKind::Sgd, 1e6);
    s.momentum = 0.0;
    s.schedule = Schedule::Step {
        every: 1,
        gamma: 1.0,
    };
    s.clip_norm = Some(5.0);
    s.clip_value = Some(0.1);
    validate(&s).unwrap();
    s.schedule = Schedule::Cosine {
        period: 1,
        min_lr: 0.0,
    };
    validate(&s).unwrap();
}

#[test]
fn validate_lr() {
    let mut s = spec(OptimizerKind::Sgd, f64::NAN);
    assert_eq!(
        message(&s),
        "optimizer.lr must be a finite number > 0 (got NaN)"
    );
    s.lr = -0.1;
    assert_eq!(
        message(&s),
        "optimizer.lr must be a finite number > 0 (got -0.1)"
    );
    s.lr = 0.0;
    assert_eq!(
        message(&s),
        "optimizer.lr must be a finite number > 0 (got 0)"
    );
    s.lr = f64::INFINITY;
    assert_eq!(
        message(&s),
        "optimizer.lr must be a finite number > 0 (got inf)"
    );
    s.lr = 1e7;
    assert_eq!(message(&s), "optimizer.lr must be at most 1e6 (got 1e7)");
}

#[test]
fn validate_batch_size() {
    let s = spec(OptimizerKind::Sgd, 0.1);
    let s = OptimizerSpec { batch_size: 0, ..s };
    assert_eq!(message(&s), "optimizer.batch_size must be at least 1");
}

#[test]
fn validate_decay_rates() {
    let base = spec(OptimizerKind::Adam, 0.1);
    let s = OptimizerSpec {
        momentum: 1.0,
        ..base.clone()
    };
    assert_eq!(message(&s), "optimizer.momentum must be in [0, 1) (got 1)");
    let s = OptimizerSpec {
        momentum: -0.1,
        ..base.clone()
    };
    assert!(message(&s).starts_with("optimizer.momentum must be in [0, 1)"));
    let s = OptimizerSpec {
        beta1: 1.0,
        ..base.clone()
    };
    assert!(message(&s).starts_with("optimizer.beta1 must be in [0, 1)"));
    let s = OptimizerSpec {
        beta2: f64::NAN,
        ..base.clone()
    };
    assert_eq!(message(&s), "optimizer.beta2 must be in [0, 1) (got NaN)");
    let s = OptimizerSpec {
        rho: 1.5,
        ..base.clone()
    };
    assert!(message(&s).starts_with("optimizer.rho must be in [0, 1)"));
    let s = OptimizerSpec { eps: 0.0, ..base };
    assert_eq!(message(&s), "optimizer.eps must be > 0 (got 0)");
}

#[test]
fn validate_schedule_and_clipping() {
    let base = spec(OptimizerKind::Sgd, 0.1);
    let with = |schedule| OptimizerSpec {
        schedule,
        ..base.clone()
    };
    for gamma in [0.0, 1.5, f64::NAN] {
        assert!(
            message(&with(Schedule::Exponential { gamma }))
                .starts_with("optimizer.schedule.gamma must be in (0, 1]")
        );
    }
    assert_eq!(
        message(&with(Schedule::Step {
            every: 0,
            gamma: 0.5
        })),
        "optimizer.schedule.every must be at least 1"
    );
    assert_eq!(
        message(&with(Schedule::Cosine {
            period: 0,
            min_lr: 0.0
        })),
        "optimizer.schedule.period must be at least 1"
    );
    assert!(
        message(&with(Schedule::Cosine {
            period: 10,
            min_lr: -1.0
        }))
        .starts_with("optimizer.schedule.min_lr must be a finite number ≥ 0")
    );
    let s = OptimizerSpec {
        clip_norm: Some(0.0),
        ..base.clone()
    };
    assert!(message(&s).starts_with("optimizer.clip_norm must be a finite number > 0"));
    let s = OptimizerSpec {
        clip_value: Some(f64::NAN),
        ..base
    };
    assert!(message(&s).starts_with("optimizer.clip_value must be a finite number > 0"));
}

#[test]
fn validate_regularization_strengths() {
    validate_regularization(&Regularization::default()).unwrap();
    validate_regularization(&Regularization { l1: 1e-3, l2: 0.1 }).unwrap();
    let e = validate_regularization(&Regularization { l1: -1.0, l2: 0.0 }).unwrap_err();
    assert_eq!(
        e.message,
        "regularization.l1 must be finite and ≥ 0 (got -1)"
    );
    let e = validate_regularization(&Regularization {
        l1: 0.0,
        l2: f64::INFINITY,
    })
    .unwrap_err();
    assert!(
        e.message
            .starts_with("regularization.l2 must be finite and ≥ 0")
    );
}
