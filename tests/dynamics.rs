//! Training dynamics (THEORY #10, #12, #23–26) against closed forms and independent
//! references: quadratics whose GD map, flow and Newton step are known exactly, hand-written
//! heavy-ball, and the mean-field signal-propagation prediction.

#![allow(clippy::needless_range_loop)]

use std::process::Command;

use nnlab::analysis::dynamics::{
    Direction, IndefiniteRule, NetObjective, NewtonOptions, Objective, Quadratic,
    activation_std_by_init, flow_error_sweep, gaussian_chi, gd_vs_flow, gradient_flow, lyapunov,
    lyapunov_sweep, momentum_energy, newton, signal_propagation,
};
use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec};
use nnlab::net::{Activation, Network, Rows};
use nnlab::optim::{OptimizerKind, OptimizerSpec};
use nnlab::rng::Rng;

fn gd(eta: f64) -> OptimizerSpec {
    OptimizerSpec::new(OptimizerKind::Gd, eta, 1)
}

fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

fn spec(inputs: usize, hidden: &[(usize, Activation)], out: (usize, Activation)) -> NetworkSpec {
    let mut layers: Vec<LayerSpec> = hidden.iter().map(|&(u, a)| LayerSpec::new(u, a)).collect();
    layers.push(LayerSpec::new(out.0, out.1));
    NetworkSpec {
        inputs,
        layers,
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: Default::default(),
    }
}

/// Linear regression y = w·x + b + noise: a net with one identity output unit under MSE.
struct Regression {
    net: Network,
    x: Vec<f64>,
    y: Vec<f64>,
    d: usize,
}

impl Regression {
    fn new(d: usize, n: usize, seed: u64) -> Self {
        let net = Network::build(&spec(d, &[], (1, Activation::Identity)), Loss::Mse).unwrap();
        let mut x = normals(n * d, seed);
        // Unequal column scales: an ill-conditioned Hessian.
        for r in 0..n {
            for j in 0..d {
                x[r * d + j] *= 1.0 + j as f64;
            }
        }
        let noise = normals(n, seed + 1);
        let y = (0..n)
            .map(|r| {
                (0..d).map(|j| (j as f64 - 1.0) * x[r * d + j]).sum::<f64>() + 0.3 + 0.1 * noise[r]
            })
            .collect();
        Regression { net, x, y, d }
    }
    fn rows(&self) -> Rows<'_> {
        Rows {
            x: &self.x,
            y: &self.y,
            classes: 0,
        }
    }
    /// Hessian (1/n)Σ[x;1][x;1]ᵀ and the right-hand side (1/n)Σ[x;1]y, built by hand, in θ
    /// order (W then b).
    fn normal_equations(&self) -> (Vec<f64>, Vec<f64>) {
        let (d, n) = (self.d, self.y.len());
        let p = d + 1;
        let mut a = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        for r in 0..n {
            let mut z: Vec<f64> = self.x[r * d..(r + 1) * d].to_vec();
            z.push(1.0);
            for i in 0..p {
                b[i] += z[i] * self.y[r] / n as f64;
                for j in 0..p {
                    a[i * p + j] += z[i] * z[j] / n as f64;
                }
            }
        }
        (a, b)
    }
}

/// Solve A x = b by Gaussian elimination with partial pivoting.
fn solve(n: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut m: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut r = a[i * n..(i + 1) * n].to_vec();
            r.push(b[i]);
            r
        })
        .collect();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap();
        m.swap(c, piv);
        for r in c + 1..n {
            let f = m[r][c] / m[c][c];
            for k in c..=n {
                m[r][k] -= f * m[c][k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| m[r][k] * x[k]).sum();
        x[r] = (m[r][n] - s) / m[r][r];
    }
    x
}

/// Largest eigenvalue of a symmetric matrix by power iteration (independent of faer).
fn lambda_max(n: usize, a: &[f64]) -> f64 {
    let mut v = vec![1.0; n];
    let mut lam = 0.0;
    for _ in 0..5000 {
        let w: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| a[i * n + j] * v[j]).sum())
            .collect();
        let s = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        lam = v.iter().zip(&w).map(|(x, y)| x * y).sum::<f64>();
        v = w.iter().map(|x| x / s).collect();
    }
    lam
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

// ---------------------------------------------------------------- Lyapunov (#26)

#[test]
fn lyapunov_of_gd_on_a_quadratic_is_the_log_growth_along_the_top_eigenvector() {
    let d = [0.5, 2.0, 5.0];
    let mut q = Quadratic::diagonal(&d);
    let theta0 = [1.0, -1.0, 0.5];
    let top = Direction::Given(vec![0.0, 0.0, 1.0]);
    for &(eta, steps) in &[(0.1, 40usize), (0.3, 60), (0.45, 50), (0.6, 30)] {
        let r = lyapunov(&mut q, &theta0, &gd(eta), steps, 1e-3, &top).unwrap();
        let exact = (1.0f64 - eta * 5.0).abs().ln();
        assert_eq!(r.steps_completed, steps);
        for (t, lt) in r.curve.iter().enumerate() {
            assert!(
                (lt - exact).abs() < 1e-9,
                "η={eta} t={}: λ_t {lt} vs ln|1−ηλ_max| {exact}",
                t + 1
            );
        }
        // (1/T) ln of the exact growth |1 − ηλ_max|^T.
        let growth = (1.0f64 - eta * 5.0).abs().powi(steps as i32);
        assert!((r.exponent - growth.ln() / steps as f64).abs() < 1e-9);
    }
    // From a random direction λ_T tends to ln max_k |1 − ηλ_k| (the slowest mode dominates).
    let eta = 0.1;
    let r = lyapunov(&mut q, &theta0, &gd(eta), 400, 1e-3, &Direction::Random(7)).unwrap();
    let slowest = d.iter().map(|l| (1.0 - eta * l).abs()).fold(0.0, f64::max);
    assert!(
        (r.exponent - slowest.ln()).abs() < 0.01,
        "{} vs {}",
        r.exponent,
        slowest.ln()
    );
}

#[test]
fn lyapunov_sign_flips_with_eta_on_a_regression_net_at_its_minimum() {
    let reg = Regression::new(3, 80, 11);
    let (a, b) = reg.normal_equations();
    let star = solve(4, &a, &b);
    let lmax = lambda_max(4, &a);
    let mut obj = NetObjective::new(&reg.net, reg.rows(), 0.0, 0.0);
    let etas = [0.2 / lmax, 1.0 / lmax, 1.9 / lmax, 2.1 / lmax, 3.0 / lmax];
    let sweep = lyapunov_sweep(
        &mut obj,
        &star,
        &gd(1.0),
        &etas,
        60,
        1e-6,
        &Direction::Random(3),
    )
    .unwrap();
    for p in &sweep {
        let stable = p.eta * lmax < 2.0;
        assert_eq!(
            p.exponent < 0.0,
            stable,
            "η·λ_max = {}: λ_T = {}",
            p.eta * lmax,
            p.exponent
        );
    }
    // Beyond 2/λ_max the exponent approaches ln(ηλ_max − 1) from the top mode.
    let last = sweep.last().unwrap();
    assert!(
        (last.exponent - 2.0f64.ln()).abs() < 0.05,
        "{}",
        last.exponent
    );
}

#[test]
fn lyapunov_twin_runs_are_deterministic_and_report_divergence() {
    let reg = Regression::new(2, 40, 5);
    let theta0 = vec![0.1, -0.2, 0.0];
    let mut obj = NetObjective::new(&reg.net, reg.rows(), 0.0, 0.0);
    let a = lyapunov(
        &mut obj,
        &theta0,
        &gd(0.05),
        30,
        1e-6,
        &Direction::Random(1),
    )
    .unwrap();
    let b = lyapunov(
        &mut obj,
        &theta0,
        &gd(0.05),
        30,
        1e-6,
        &Direction::Random(1),
    )
    .unwrap();
    assert_eq!(a.curve, b.curve);
    let big = lyapunov(
        &mut obj,
        &theta0,
        &gd(50.0),
        2000,
        1e-6,
        &Direction::Random(1),
    )
    .unwrap();
    assert!(big.diverged && big.steps_completed < 2000);
    assert!(lyapunov(&mut obj, &theta0, &gd(0.1), 5, 0.0, &Direction::Random(1)).is_err());
}

/// Step counts whose records no machine holds are refused before anything is allocated
/// (`Vec::with_capacity` of them aborted the process), each analysis naming itself.
#[test]
fn analyses_too_large_for_memory_are_refused_before_they_start() {
    let reg = Regression::new(2, 40, 5);
    let theta0 = vec![0.1, -0.2, 0.0];
    let mut obj = NetObjective::new(&reg.net, reg.rows(), 0.0, 0.0);
    let huge = usize::MAX / 4;
    let e = lyapunov(
        &mut obj,
        &theta0,
        &gd(0.05),
        huge,
        1e-6,
        &Direction::Random(1),
    )
    .unwrap_err();
    assert!(
        e.starts_with("the Lyapunov exponent of 3 parameters needs about")
            && e.contains("of memory"),
        "{e}"
    );
    let e = momentum_energy(&mut obj, &theta0, 0.05, 0.9, huge).unwrap_err();
    assert!(
        e.starts_with("the momentum energy of 3 parameters needs about"),
        "{e}"
    );
    assert_eq!(obj.evaluations, 0, "refused before the first evaluation");
}

// ---------------------------------------------------------------- gradient flow (#24)

#[test]
fn rk4_flow_matches_the_matrix_exponential_on_a_diagonal_quadratic() {
    let d = [0.5, 2.0, 10.0];
    let mut q = Quadratic::diagonal(&d);
    let theta0 = [1.0, -2.0, 0.5];
    for &(h, n) in &[(0.01, 100usize), (0.0025, 800)] {
        let mut th = theta0.to_vec();
        gradient_flow(&mut q, &mut th, h, n);
        let t = h * n as f64;
        for i in 0..3 {
            let exact = theta0[i] * (-d[i] * t).exp();
            assert!(
                (th[i] - exact).abs() < 1e-9 * theta0[i].abs(),
                "t={t} i={i}: {} vs e^(−a t)θ₀ {exact}",
                th[i]
            );
        }
    }
    // gd_vs_flow: the GD error at every step equals ‖(1−ηa)^k θ₀ − e^(−a kη) θ₀‖.
    let eta = 0.05;
    let c = gd_vs_flow(&mut q, &theta0, eta, 30, 64).unwrap();
    for (k, e) in c.error.iter().enumerate() {
        let exact: f64 = (0..3)
            .map(|i| {
                let g = (1.0 - eta * d[i]).powi(k as i32) * theta0[i];
                let f = (-d[i] * eta * k as f64).exp() * theta0[i];
                (g - f) * (g - f)
            })
            .sum::<f64>()
            .sqrt();
        assert!((e - exact).abs() < 1e-10, "step {k}: {e} vs {exact}");
    }
    assert!(c.reference_error < 1e-10, "{}", c.reference_error);
}

#[test]
fn gd_departs_from_the_flow_at_rate_eta() {
    let mut q = Quadratic::diagonal(&[0.5, 2.0, 10.0]);
    let theta0 = [1.0, -2.0, 0.5];
    let etas = [0.04, 0.02, 0.01, 0.005, 0.0025];
    let s = flow_error_sweep(&mut q, &theta0, &etas, 1.0, 64).unwrap();
    assert!((s.slope - 1.0).abs() < 0.05, "quadratic slope {}", s.slope);
    // The same on a small tanh network (non-linear gradient field).
    let n = 60;
    let x = normals(2 * n, 21);
    let y: Vec<f64> = (0..n)
        .map(|r| (x[2 * r] * 1.5).sin() + 0.5 * x[2 * r + 1])
        .collect();
    let net = Network::build(
        &spec(2, &[(8, Activation::Tanh)], (1, Activation::Identity)),
        Loss::Mse,
    )
    .unwrap();
    let theta0 = nnlab::net::init::initialise(&net, Init::XavierNormal, 0.0, 4);
    let mut obj = NetObjective::new(
        &net,
        Rows {
            x: &x,
            y: &y,
            classes: 0,
        },
        0.0,
        1e-3,
    );
    let s = flow_error_sweep(&mut obj, &theta0, &[0.2, 0.1, 0.05, 0.025], 2.0, 32).unwrap();
    assert!((s.slope - 1.0).abs() < 0.1, "tanh net slope {}", s.slope);
    println!(
        "flow error slope on the tanh net: {:.4}; errors {:?}",
        s.slope,
        s.points.iter().map(|p| p.error).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- energy (#25)

#[test]
fn momentum_energy_matches_hand_written_heavy_ball_and_never_rises_on_a_quadratic() {
    let d = [1.0, 4.0, 10.0];
    let mut q = Quadratic::diagonal(&d);
    let theta0 = [2.0, -1.0, 1.0];
    let (mu, eta) = (0.9, 0.02); // ηλ_max = 0.2 ≤ 2(1 − μ)
    let r = momentum_energy(&mut q, &theta0, eta, mu, 300).unwrap();
    // Independent heavy-ball: v ← μv + g; θ ← θ − ηv; E = ½(μη)‖v‖² + J.
    let mut th = theta0.to_vec();
    let mut v = [0.0; 3];
    for s in &r.steps[1..] {
        for i in 0..3 {
            v[i] = mu * v[i] + d[i] * th[i];
            th[i] -= eta * v[i];
        }
        let kin = 0.5 * mu * eta * v.iter().map(|x| x * x).sum::<f64>();
        let pot = 0.5 * (0..3).map(|i| d[i] * th[i] * th[i]).sum::<f64>();
        assert!(
            (s.kinetic - kin).abs() < 1e-12 * (1.0 + kin),
            "step {}",
            s.step
        );
        assert!((s.potential - pot).abs() < 1e-12 * (1.0 + pot));
    }
    assert_eq!(r.increases, 0, "max rise {}", r.max_increase);
    let (e0, e_end) = (r.steps[0].total, r.steps.last().unwrap().total);
    assert!(e_end < 1e-3 * e0);
    assert!((r.mass - mu * eta).abs() < 1e-15 && (r.damping - 0.1).abs() < 1e-15);
    // Outside ηλ_max ≤ 2(1 − μ) (but still stable, < 2(1 + μ)) energy can rise: the check bites.
    let bad = momentum_energy(&mut q, &theta0, 0.3, mu, 300).unwrap();
    assert!(!bad.diverged && bad.increases > 0);
}

#[test]
fn momentum_energy_dissipates_on_linear_regression() {
    let reg = Regression::new(3, 100, 9);
    let (a, _) = reg.normal_equations();
    let lmax = lambda_max(4, &a);
    let mu = 0.8;
    let eta = 0.95 * 2.0 * (1.0 - mu) / lmax;
    let mut obj = NetObjective::new(&reg.net, reg.rows(), 0.0, 0.0);
    let r = momentum_energy(&mut obj, &[0.0; 4], eta, mu, 500).unwrap();
    assert_eq!(r.increases, 0, "max rise {}", r.max_increase);
    assert!(r.steps.iter().skip(1).any(|s| s.kinetic > 0.0));
}

// ---------------------------------------------------------------- signal propagation (#10, #12)

fn deep(width: usize, depth: usize, act: Activation, inputs: usize) -> Network {
    let hidden: Vec<(usize, Activation)> = (0..depth).map(|_| (width, act)).collect();
    Network::build(&spec(inputs, &hidden, (1, Activation::Identity)), Loss::Mse).unwrap()
}

#[test]
fn relu_backward_ratio_is_sigma_w2_over_two() {
    let (width, depth, inputs, rows) = (256, 8, 32, 64);
    let net = deep(width, depth, Activation::Relu, inputs);
    let x = normals(rows * inputs, 1);
    let y = normals(rows, 2);
    let rows_ = Rows {
        x: &x,
        y: &y,
        classes: 0,
    };
    let seeds: Vec<u64> = (0..6).collect();
    // He: σ_w² = 2, ratio 1. Plain N(0, 1/width): σ_w² = 1 on the square layers, ratio 1/2.
    for (init, scale, expect) in [
        (Init::HeNormal, 0.0, 1.0),
        (Init::Normal, (1.0 / width as f64).sqrt(), 0.5),
    ] {
        let r = signal_propagation(&net, init, scale, rows_, &seeds).unwrap();
        // Layers 2…depth: fan_in = width (layer 1 sees the 32 inputs).
        let inner = &r.layers[1..];
        let mean = inner.iter().map(|l| l.measured).sum::<f64>() / inner.len() as f64;
        println!(
            "{init:?}: measured {:?}",
            inner
                .iter()
                .map(|l| (l.measured * 1e4).round() / 1e4)
                .collect::<Vec<_>>()
        );
        assert!(
            (mean - expect).abs() < 0.03 * expect,
            "{init:?}: mean ratio {mean}"
        );
        for l in inner {
            assert!(
                (l.measured - expect).abs() < 0.12 * expect,
                "{init:?} layer {}: measured {} vs {expect}",
                l.layer,
                l.measured
            );
            assert!((l.chi_measured - 0.5).abs() < 0.03, "χ {}", l.chi_measured);
            assert!(
                (l.chi_gaussian - 0.5).abs() < 0.02,
                "χ_gauss {}",
                l.chi_gaussian
            );
            assert!((l.predicted - expect).abs() < 0.05 * expect);
        }
    }
}

#[test]
fn tanh_backward_ratio_matches_sigma_w2_chi() {
    let (width, depth, inputs, rows) = (256, 6, 32, 64);
    let net = deep(width, depth, Activation::Tanh, inputs);
    let x = normals(rows * inputs, 3);
    let y = normals(rows, 4);
    let rows_ = Rows {
        x: &x,
        y: &y,
        classes: 0,
    };
    // σ_w² = 2.5 on the square layers: χ well below 1, saturating regime.
    let scale = (2.5 / width as f64).sqrt();
    let r = signal_propagation(&net, Init::Normal, scale, rows_, &[0, 1, 2, 3]).unwrap();
    for l in &r.layers[1..] {
        assert!(
            (l.measured / l.predicted - 1.0).abs() < 0.1,
            "layer {}: measured {} predicted {}",
            l.layer,
            l.measured,
            l.predicted
        );
        assert!(
            (l.chi_gaussian / l.chi_measured - 1.0).abs() < 0.05,
            "layer {}: χ gauss {} measured {}",
            l.layer,
            l.chi_gaussian,
            l.chi_measured
        );
    }
}

#[test]
fn gaussian_chi_against_direct_integration() {
    assert!((gaussian_chi(Activation::Relu, 0.0, 0.0, 3.0) - 0.5).abs() < 1e-15);
    for (act, mean, var) in [
        (Activation::Tanh, 0.0, 1.0f64),
        (Activation::Tanh, 0.3, 4.0),
        (Activation::Sigmoid, -0.5, 2.0),
        (Activation::Tanh, 0.0, 100.0),
    ] {
        // Composite Simpson on [−12, 12] in z with 200 000 intervals.
        let sd = var.sqrt();
        let n = 200_000;
        let (lo, hi) = (-12.0, 12.0);
        let h = (hi - lo) / n as f64;
        let mut s = 0.0;
        for i in 0..=n {
            let z = lo + h * i as f64;
            let u = mean + sd * z;
            let dphi = act.deriv(u, act.value(u, 0.0), 0.0);
            let w = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            s += w * (-0.5 * z * z).exp() * dphi * dphi;
        }
        let reference = s * h / 3.0 / (2.0 * std::f64::consts::PI).sqrt();
        let got = gaussian_chi(act, 0.0, mean, var);
        assert!(
            (got - reference).abs() < 1e-10,
            "{act:?}: {got} vs {reference}"
        );
    }
}

#[test]
fn forward_activation_std_naive_vanishes_he_is_stable() {
    let (width, depth, rows) = (128, 10, 64);
    let net = deep(width, depth, Activation::Relu, width);
    let x = normals(rows * width, 8);
    let r = activation_std_by_init(&net, &x, rows, &[0, 1, 2], 0.01).unwrap();
    let get = |name: &str| r.iter().find(|c| c.init == name).unwrap().std.clone();
    let (naive, xavier, he) = (get("naive"), get("xavier_normal"), get("he_normal"));
    let ratio = |s: &[f64]| s[depth - 1] / s[0];
    assert!(ratio(&naive) < 1e-6, "naive {naive:?}");
    assert!((0.6..1.6).contains(&ratio(&he)), "he {he:?}");
    // Xavier (σ_w² = 1 here) halves the second moment per ReLU layer: std × 2^(−9/2).
    let xr = ratio(&xavier);
    assert!(
        (xr / 2f64.powf(-4.5) - 1.0).abs() < 0.3,
        "xavier {xavier:?}"
    );
}

#[test]
fn signal_propagation_refuses_batch_norm() {
    let mut s = spec(4, &[(8, Activation::Relu)], (1, Activation::Identity));
    s.layers[0].batch_norm = true;
    let net = Network::build(&s, Loss::Mse).unwrap();
    let x = normals(40, 1);
    let y = normals(10, 2);
    let rows = Rows {
        x: &x,
        y: &y,
        classes: 0,
    };
    let e = signal_propagation(&net, Init::HeNormal, 0.0, rows, &[0]).unwrap_err();
    assert!(
        e.contains("network.layers[0]") && e.contains("batch_norm"),
        "{e}"
    );
}

// ---------------------------------------------------------------- Newton (#23)

#[test]
fn one_newton_step_reaches_the_minimum_of_a_quadratic() {
    let n = 6;
    let bm = normals(n * n, 31);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| bm[k * n + i] * bm[k * n + j]).sum::<f64>();
        }
        a[i * n + i] += 0.05;
    }
    let b = normals(n, 32);
    let star = solve(n, &a, &b);
    let mut q = Quadratic { n, a: a.clone(), b };
    let theta0 = normals(n, 33);
    let r = newton(&mut q, &theta0, NewtonOptions::default()).unwrap();
    let err = dist(&r.theta, &star);
    assert!(err < 1e-10, "‖θ₁ − θ*‖ = {err}");
    assert!(r.newton_rates.iter().all(|&x| x < 1e-10));
    let lmax = lambda_max(n, &a);
    for (l, g) in r.eigenvalues.iter().zip(&r.gd_rates) {
        assert!((g - (1.0 - l / lmax).abs()).abs() < 1e-8);
    }
    // GD has barely moved along the flattest direction.
    assert!(r.gd_rates[0] > 0.9);
    // Damped: rate along λ_k is λ/(λ_k + λ) exactly.
    let damped = NewtonOptions {
        damping: 0.5,
        ..Default::default()
    };
    let r = newton(&mut q, &theta0, damped).unwrap();
    for (l, rate) in r.eigenvalues.iter().zip(&r.newton_rates) {
        assert!((rate - 0.5 / (l + 0.5)).abs() < 1e-12);
    }
}

#[test]
fn newton_on_linear_regression_solves_the_normal_equations() {
    let reg = Regression::new(4, 120, 17);
    let (a, b) = reg.normal_equations();
    let star = solve(5, &a, &b);
    let mut obj = NetObjective::new(&reg.net, reg.rows(), 0.0, 0.0);
    let r = newton(&mut obj, &[0.3; 5], NewtonOptions::default()).unwrap();
    assert!(dist(&r.theta, &star) < 1e-10, "{:?} vs {star:?}", r.theta);
    assert!(r.grad_norm_newton[1] < 1e-10);
    assert!(r.loss_newton[1] <= r.loss_gd[1]);
}

#[test]
fn damped_newton_decreases_the_loss_of_a_small_net() {
    let n = 50;
    let x = normals(2 * n, 41);
    let y: Vec<f64> = (0..n)
        .map(|r| f64::from(u8::from(x[2 * r] * x[2 * r + 1] > 0.0)))
        .collect();
    let net = Network::build(
        &spec(2, &[(5, Activation::Tanh)], (1, Activation::Sigmoid)),
        Loss::Bce,
    )
    .unwrap();
    let rows = Rows {
        x: &x,
        y: &y,
        classes: 2,
    };
    for seed in 0..4 {
        let theta0 = nnlab::net::init::initialise(&net, Init::XavierNormal, 0.0, seed);
        let mut obj = NetObjective::new(&net, rows, 0.0, 0.0);
        for rule in [IndefiniteRule::SaddleFree, IndefiniteRule::Shift] {
            // Damped Newton with a backtracking line search: J falls at every step.
            let opts = NewtonOptions {
                damping: 0.1,
                steps: 5,
                rule,
                line_search: true,
                ..Default::default()
            };
            let r = newton(&mut obj, &theta0, opts).unwrap();
            for w in r.loss_newton.windows(2) {
                assert!(w[1] < w[0], "seed {seed} {rule:?}: {:?}", r.loss_newton);
            }
            if rule == IndefiniteRule::Shift && r.indefinite {
                assert!(r.damping_used > -r.eigenvalues[0]);
            }
            // One full step (α = 1, no line search) with damping 1 already lowers J.
            let opts = NewtonOptions {
                damping: 1.0,
                rule,
                ..Default::default()
            };
            let r = newton(&mut obj, &theta0, opts).unwrap();
            assert!(
                r.loss_newton[1] < r.loss_newton[0],
                "seed {seed} {rule:?}: {:?}",
                r.loss_newton
            );
        }
    }
}

#[test]
fn newton_refuses_networks_beyond_the_dense_limit() {
    let net = Network::build(
        &spec(
            2,
            &[(60, Activation::Tanh), (60, Activation::Tanh)],
            (1, Activation::Identity),
        ),
        Loss::Mse,
    )
    .unwrap();
    assert!(net.n_params > 3000);
    let x = normals(8, 1);
    let y = normals(4, 2);
    let mut obj = NetObjective::new(
        &net,
        Rows {
            x: &x,
            y: &y,
            classes: 0,
        },
        0.0,
        0.0,
    );
    let theta = vec![0.0; net.n_params];
    let e = newton(&mut obj, &theta, NewtonOptions::default()).unwrap_err();
    assert!(e.contains("3000"), "{e}");
    assert_eq!(obj.dim(), net.n_params);
}

// ---------------------------------------------------------------- CLI

#[test]
fn cli_dynamics_prints_json_for_every_kind_and_refuses_bad_flags() {
    let session = concat!(env!("CARGO_MANIFEST_DIR"), "/sessions/xor.json");
    for kind in ["lyapunov", "flow", "energy", "signal", "newton"] {
        let out = Command::new(env!("CARGO_BIN_EXE_nnlab"))
            .args(["dynamics", session, "--kind", kind, "--steps", "20"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{kind}: {err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], kind, "{v}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_nnlab"))
        .args(["dynamics", session, "--kind", "energy", "--momentum", "1.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--momentum"), "{err}");
}
