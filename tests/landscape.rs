//! The loss landscape: slices against the objective, directions, the 1-D line, the 1-1-1
//! surface, PCA, the optimiser race, progress, cancellation and determinism.

mod common_net;

use std::sync::atomic::{AtomicBool, Ordering};

use common_net::*;
use nnlab::analysis::landscape::one_one_one::{self, TinyLoss};
use nnlab::analysis::landscape::{
    Objective, Plane, Progress, SliceSpec, axis, line, pca_plane, pca_slice, race, slice,
    slice_progressive,
};
use nnlab::net::init::initialise;
use nnlab::net::linalg::{dot, norm};
use nnlab::net::objective::Rows;
use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
use nnlab::net::{Activation, Network};
use nnlab::optim::{OptimizerKind, OptimizerSpec};
use nnlab::rng::Rng;

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

fn objective<'a>(
    net: &'a Network,
    x: &'a [f64],
    y: &'a [f64],
    classes: usize,
    o: Options,
) -> Objective<'a> {
    Objective {
        net,
        rows: Rows { x, y, classes },
        l1: o.l1,
        l2: o.l2,
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A network whose first layer is residual (4 features → 4 units) with BatchNorm and PReLU.
fn residual_prelu_net(seed: u64) -> (Network, Vec<f64>) {
    let mut h1 = LayerSpec::new(4, Activation::Prelu);
    h1.batch_norm = true;
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![
            h1,
            LayerSpec::new(4, Activation::Tanh),
            LayerSpec::new(1, Activation::Sigmoid),
        ],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: Some(vec![
            "x1".into(),
            "x2".into(),
            "x1*x2".into(),
            "x1^2".into(),
        ]),
        residual: true,
        weight_constraint: WeightConstraint::None,
    };
    let net = Network::build(&spec, Loss::Bce).unwrap();
    assert!(net.layers[0].residual && net.layers[0].prelu.is_some());
    let mut theta = initialise(&net, Init::XavierNormal, 0.1, seed);
    let mut rng = Rng::new(seed);
    theta.iter_mut().for_each(|v| *v += 0.2 * rng.normal());
    (net, theta)
}

/// A plain tanh MLP (the fast evaluation path) over regression data.
fn mlp(widths: &[usize], rows: usize, seed: u64) -> (Network, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut layers: Vec<LayerSpec> = widths
        .iter()
        .map(|&w| LayerSpec::new(w, Activation::Tanh))
        .collect();
    layers.push(LayerSpec::new(1, Activation::Identity));
    let spec = NetworkSpec {
        inputs: 2,
        layers,
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let net = Network::build(&spec, Loss::Mse).unwrap();
    let theta = initialise(&net, Init::XavierNormal, 0.1, seed);
    let mut rng = Rng::new(seed + 1);
    let x: Vec<f64> = (0..2 * rows).map(|_| rng.range(-1.0, 1.0)).collect();
    let y: Vec<f64> = (0..rows)
        .map(|i| (3.0 * x[2 * i]).sin() * x[2 * i + 1])
        .collect();
    (net, theta, x, y)
}

/// Check every grid point of a 5×5 slice against the plain objective at the same θ, and the
/// centre against the objective at θ.
fn check_slice_against_objective(obj: &Objective, theta: &[f64], seed: u64, what: &str) {
    let plane = Plane::random(obj.net, theta, seed);
    let spec = SliceSpec::new(5, 0.8);
    let s = slice(obj, &plane, &spec, &never(), &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!(s.loss.len(), 25);
    let centre = s.at(2, 2);
    let j0 = obj.value(theta);
    assert!(
        close(centre, j0, 1e-13),
        "{what}: centre {centre} vs J(θ) {j0}"
    );
    let plain_mlp = obj
        .net
        .layers
        .iter()
        .all(|l| !l.batch_norm && l.prelu.is_none() && !l.residual);
    if !plain_mlp {
        // These go through Network::forward itself: bit-identical.
        assert_eq!(
            centre.to_bits(),
            j0.to_bits(),
            "{what}: centre not bit-identical"
        );
    }
    for i in 0..5 {
        for j in 0..5 {
            let want = obj.value(&plane.point(s.alpha[j], s.beta[i]));
            let got = s.at(i, j);
            assert!(
                close(got, want, 1e-11),
                "{what}: ({}, {}) slice {got} vs objective {want}",
                s.alpha[j],
                s.beta[i]
            );
        }
    }
    assert!(s.min <= centre && centre <= s.max);
}

#[test]
fn slice_equals_the_objective_for_every_activation_loss_and_layer_option() {
    let n = for_each_grid_case(23, |c| {
        let obj = objective(c.net, c.rows.x, c.rows.y, c.case.classes, c.opt);
        check_slice_against_objective(&obj, c.theta, c.seed, &c.label());
    });
    assert_eq!(n, 12 * 6 * 5);
}

#[test]
fn slice_equals_the_objective_with_a_residual_prelu_first_layer_and_a_single_layer() {
    let (net, theta) = residual_prelu_net(3);
    let case = LOSS_CASES[2];
    let (x, y) = data(case, 17, 3);
    let opt = OPTIONS[3];
    check_slice_against_objective(
        &objective(&net, &x, &y, 2, opt),
        &theta,
        9,
        "residual prelu",
    );
    // A single (output) layer: the plain objective path.
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![LayerSpec::new(1, Activation::Sigmoid)],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let net = Network::build(&spec, Loss::Bce).unwrap();
    let theta = vec![0.3, -0.7, 0.1];
    check_slice_against_objective(&objective(&net, &x, &y, 2, opt), &theta, 9, "single layer");
}

#[test]
fn slice_of_the_fast_path_matches_a_wide_mlp() {
    let (net, theta, x, y) = mlp(&[40, 30], 200, 5);
    let obj = objective(&net, &x, &y, 0, OPTIONS[3]);
    check_slice_against_objective(&obj, &theta, 4, "40-30 tanh mlp");
    // Five input features: the first layer from the three precomputed products.
    let mut spec = NetworkSpec {
        inputs: 2,
        layers: vec![
            LayerSpec::new(9, Activation::Sigmoid),
            LayerSpec::new(7, Activation::Elu),
            LayerSpec::new(3, Activation::Softmax),
        ],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: Some(
            ["x1", "x2", "x1*x2", "x1^2", "sin(x2)"]
                .map(String::from)
                .to_vec(),
        ),
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let net = Network::build(&spec, Loss::CrossEntropy).unwrap();
    let theta = initialise(&net, Init::XavierNormal, 0.1, 3);
    let (x, y) = data(LOSS_CASES[3], 50, 3);
    check_slice_against_objective(
        &objective(&net, &x, &y, 3, OPTIONS[4]),
        &theta,
        5,
        "5 features",
    );
    spec.layers[0].batch_norm = true;
    let net = Network::build(&spec, Loss::CrossEntropy).unwrap();
    let theta = initialise(&net, Init::XavierNormal, 0.1, 3);
    check_slice_against_objective(
        &objective(&net, &x, &y, 3, OPTIONS[4]),
        &theta,
        5,
        "5 features, BN",
    );
}

#[test]
fn random_directions_are_filter_normalised_and_seeded() {
    let (net, theta) = network_and_theta(Activation::Tanh, LOSS_CASES[3], OPTIONS[1], 8);
    let p = Plane::random(&net, &theta, 42);
    assert_eq!(p.origin, theta);
    for d in [&p.d1, &p.d2] {
        for layer in &net.layers {
            let k = layer.fan_in;
            for r in 0..layer.units {
                let row = layer.w + r * k..layer.w + (r + 1) * k;
                let (dn, tn) = (norm(&d[row.clone()]), norm(&theta[row]));
                assert!(close(dn, tn, 1e-9), "row norm {dn} vs θ's {tn}");
            }
            // Biases and BatchNorm parameters: zero in the direction.
            assert!(
                d[layer.w + layer.n_weights()..layer.end]
                    .iter()
                    .all(|&v| v == 0.0)
            );
        }
    }
    let cos = dot(&p.d1, &p.d2) / (norm(&p.d1) * norm(&p.d2));
    assert!(cos.abs() < 0.5, "d1 and d2 nearly parallel: cos {cos}");
    assert_eq!(Plane::random(&net, &theta, 42), p);
    assert_ne!(Plane::random(&net, &theta, 43).d1, p.d1);
}

#[test]
fn line_endpoints_are_the_objective_at_both_ends() {
    let (net, theta0) = network_and_theta(Activation::Gelu, LOSS_CASES[0], OPTIONS[4], 21);
    let (_, theta1) = network_and_theta(Activation::Gelu, LOSS_CASES[0], OPTIONS[4], 22);
    let (x, y) = data(LOSS_CASES[0], 31, 21);
    let obj = objective(&net, &x, &y, 0, OPTIONS[4]);
    let l = line(&obj, &theta0, &theta1, 81, 2, &never())
        .unwrap()
        .unwrap();
    assert_eq!((l.t[0], l.t[20], l.t[60], l.t[80]), (-0.5, 0.0, 1.0, 1.5));
    assert_eq!(l.loss[20].to_bits(), obj.value(&theta0).to_bits());
    assert_eq!(l.loss[60].to_bits(), obj.value(&theta1).to_bits());
    let t = l.t[7];
    let mid: Vec<f64> = theta0
        .iter()
        .zip(&theta1)
        .map(|(a, b)| (1.0 - t) * a + t * b)
        .collect();
    assert!(close(l.loss[7], obj.value(&mid), 1e-14));
    assert!(l.min <= l.loss[20] && l.loss[60] <= l.max);
}

#[test]
fn one_one_one_gradient_and_hessian_match_central_differences() {
    let mut rng = Rng::new(17);
    let xs = [1.0, -0.5, 2.0];
    for loss in [TinyLoss::Mse, TinyLoss::CrossEntropy] {
        let (sx, sy) = loss.seed_data();
        let ys: Vec<f64> = match loss {
            TinyLoss::Mse => vec![0.3, -1.0, 0.8],
            TinyLoss::CrossEntropy => vec![1.0, 0.0, 1.0],
        };
        for (x, y) in [(sx.as_slice(), sy.as_slice()), (&xs[..], ys.as_slice())] {
            for _ in 0..50 {
                let w = [rng.range(-4.0, 4.0), rng.range(-4.0, 4.0)];
                let (v, g, h) = one_one_one::value_gradient_hessian(loss, w, x, y);
                let h_step = 1e-5;
                for k in 0..2 {
                    let mut wp = w;
                    let mut wm = w;
                    wp[k] += h_step;
                    wm[k] -= h_step;
                    let fd = (one_one_one::value(loss, wp, x, y)
                        - one_one_one::value(loss, wm, x, y))
                        / (2.0 * h_step);
                    assert!(
                        (fd - g[k]).abs() <= 1e-7 * (1.0 + g[k].abs()),
                        "{loss:?} ∂J/∂w{k} at {w:?}: {} vs fd {fd}",
                        g[k]
                    );
                    let gp = one_one_one::gradient(loss, wp, x, y);
                    let gm = one_one_one::gradient(loss, wm, x, y);
                    for i in 0..2 {
                        let fd = (gp[i] - gm[i]) / (2.0 * h_step);
                        assert!(
                            (fd - h[i][k]).abs() <= 1e-7 * (1.0 + h[i][k].abs()),
                            "{loss:?} H[{i}][{k}] at {w:?}: {} vs fd {fd}",
                            h[i][k]
                        );
                    }
                }
                assert_eq!(h[0][1], h[1][0]);
                assert!(v.is_finite() && v >= 0.0);
            }
        }
    }
    // The seed's formulas: ½(w₂σ(w₁))² and −ln σ(w₂σ(w₁)).
    let s = |u: f64| 1.0 / (1.0 + (-u).exp());
    let (x, y) = TinyLoss::Mse.seed_data();
    let v = one_one_one::value(TinyLoss::Mse, [0.7, -1.3], &x, &y);
    assert!(close(v, 0.5 * (-1.3 * s(0.7)).powi(2), 1e-14));
    let (x, y) = TinyLoss::CrossEntropy.seed_data();
    let v = one_one_one::value(TinyLoss::CrossEntropy, [0.7, -1.3], &x, &y);
    assert!(close(v, -s(-1.3 * s(0.7)).ln(), 1e-14));
}

#[test]
fn one_one_one_surfaces_are_non_convex_for_both_losses() {
    for loss in [TinyLoss::Mse, TinyLoss::CrossEntropy] {
        let (x, y) = loss.seed_data();
        let s = one_one_one::surface(loss, &x, &y, (-6.0, 6.0), (-6.0, 6.0), 61).unwrap();
        assert_eq!(s.value.len(), 61 * 61);
        let f = s.indefinite_fraction;
        assert!(f > 0.05 && f < 1.0, "{loss:?}: indefinite fraction {f}");
        for k in 0..s.value.len() {
            let [lo, hi] = s.eigenvalues[k];
            assert_eq!(s.indefinite[k], s.det[k] < 0.0);
            if s.indefinite[k] {
                assert!(lo < 0.0 && hi > 0.0);
            }
        }
        assert!(s.min >= 0.0 && s.max > s.min);
    }
    // A hand-checked saddle: MSE at (w₁, w₂) = (0, 3): H = [[9/16, 3/4], [3/4, 1/4]].
    let (x, y) = TinyLoss::Mse.seed_data();
    let h = one_one_one::hessian(TinyLoss::Mse, [0.0, 3.0], &x, &y);
    assert!((h[0][0] - 0.5625).abs() < 1e-15 && (h[0][1] - 0.75).abs() < 1e-15);
    assert!((h[1][1] - 0.25).abs() < 1e-15);
    assert!(one_one_one::surface(TinyLoss::Mse, &x, &y, (1.0, 0.0), (0.0, 1.0), 5).is_err());
}

#[test]
fn pca_recovers_the_plane_of_a_planar_trajectory() {
    let p = 60;
    let mut rng = Rng::new(4);
    let centre: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let mut u: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let mut v: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let nu = norm(&u);
    u.iter_mut().for_each(|a| *a /= nu);
    let c = dot(&u, &v);
    v.iter_mut().zip(&u).for_each(|(b, a)| *b -= c * a);
    let nv = norm(&v);
    v.iter_mut().for_each(|b| *b /= nv);
    // A spiral into the final point, with more spread along u than along v.
    let t_len = 40;
    let traj: Vec<Vec<f64>> = (0..t_len)
        .map(|t| {
            let r = (t_len - 1 - t) as f64 / 10.0;
            let (a, b) = (3.0 * r * (0.4 * t as f64).cos(), r * (0.4 * t as f64).sin());
            (0..p).map(|i| centre[i] + a * u[i] + b * v[i]).collect()
        })
        .collect();
    let pca = pca_plane(&traj).unwrap();
    let last = traj.last().unwrap();
    assert_eq!(&pca.plane.origin, last);
    for d in [&pca.plane.d1, &pca.plane.d2] {
        assert!(close(norm(d), 1.0, 1e-12));
        let in_plane = (dot(d, &u).powi(2) + dot(d, &v).powi(2)).sqrt();
        assert!(
            close(in_plane, 1.0, 1e-9),
            "direction leaves the plane: {in_plane}"
        );
    }
    assert!(dot(&pca.plane.d1, &pca.plane.d2).abs() < 1e-9);
    assert!(close(pca.explained[0] + pca.explained[1], 1.0, 1e-9));
    assert!(pca.explained[0] > pca.explained[1]);
    // The projected path reproduces every snapshot.
    assert_eq!(pca.path.len(), t_len);
    for (th, c) in traj.iter().zip(&pca.path) {
        let back = pca.plane.point(c[0], c[1]);
        let err: f64 = back
            .iter()
            .zip(th)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-9, "reconstruction error {err}");
    }
    let end = pca.path[t_len - 1];
    assert!(end[0].abs() < 1e-12 && end[1].abs() < 1e-12);
    // A trajectory along a line has no plane.
    let line_traj: Vec<Vec<f64>> = (0..5)
        .map(|t| u.iter().map(|a| a * t as f64).collect())
        .collect();
    assert!(pca_plane(&line_traj).is_err());
    assert!(pca_plane(&traj[..2]).is_err());
}

#[test]
fn pca_slice_of_a_real_training_run_carries_its_path() {
    let (net, theta0, x, y) = mlp(&[6], 40, 2);
    let obj = objective(&net, &x, &y, 0, OPTIONS[0]);
    let spec = OptimizerSpec::new(OptimizerKind::Momentum, 0.05, 40);
    let plane0 = Plane::random(&net, &theta0, 1);
    let runs = race(
        &obj,
        &theta0,
        &[("momentum".into(), spec)],
        30,
        &plane0,
        1,
        &never(),
    )
    .unwrap()
    .unwrap();
    // Rebuild the trajectory by re-running (the race keeps only the final θ).
    let mut traj = vec![theta0.clone()];
    let mut opt = nnlab::optim::Optimizer::new(&runs[0].spec, net.n_params);
    let mut theta = theta0.clone();
    let mut ws = nnlab::net::Workspace::default();
    let mut g = vec![0.0; net.n_params];
    for _ in 0..30 {
        nnlab::net::objective(&net, &theta, obj.rows, 0.0, 0.0, &mut ws, Some(&mut g));
        opt.step(&mut theta, &mut g);
        traj.push(theta.clone());
    }
    assert_eq!(&theta, &runs[0].theta);
    let (s, pca) = pca_slice(
        &obj,
        &traj,
        &SliceSpec::new(7, 1.0),
        &never(),
        &mut |_, _| {},
    )
    .unwrap()
    .unwrap();
    let path = s.path.as_ref().unwrap();
    assert_eq!(path, &pca.path);
    assert_eq!(path.len(), 31);
    assert!(close(s.at(3, 3), obj.value(&theta), 1e-13));
}

#[test]
fn race_starts_at_the_origin_and_every_optimiser_descends() {
    let (net, theta0, x, y) = mlp(&[8, 8], 60, 9);
    let obj = objective(&net, &x, &y, 0, OPTIONS[0]);
    let plane = Plane::random(&net, &theta0, 5);
    let runs: Vec<(String, OptimizerSpec)> = [
        ("gd", OptimizerKind::Gd, 0.1),
        ("momentum", OptimizerKind::Momentum, 0.02),
        ("nesterov", OptimizerKind::Nesterov, 0.02),
        ("rmsprop", OptimizerKind::Rmsprop, 0.003),
        ("adam", OptimizerKind::Adam, 0.01),
    ]
    .into_iter()
    .map(|(n, k, lr)| (n.to_string(), OptimizerSpec::new(k, lr, 60)))
    .collect();
    let steps = 60;
    let a = race(&obj, &theta0, &runs, steps, &plane, 2, &never())
        .unwrap()
        .unwrap();
    let b = race(&obj, &theta0, &runs, steps, &plane, 1, &never())
        .unwrap()
        .unwrap();
    assert_eq!(a, b, "the race depends on the thread count");
    let j0 = obj.value(&theta0);
    for r in &a {
        assert_eq!(r.path.len(), steps + 1);
        assert_eq!(r.loss.len(), steps + 1);
        assert_eq!(r.path[0], [0.0, 0.0], "{}", r.name);
        assert_eq!(r.off_plane[0], 0.0);
        assert_eq!(r.loss[0].to_bits(), j0.to_bits());
        let end = *r.loss.last().unwrap();
        assert!(end < 0.9 * j0, "{}: loss {j0} → {end}", r.name);
        assert!(!r.diverged);
        assert!(close(end, obj.value(&r.theta), 1e-15));
    }
    assert_ne!(a[0].path, a[4].path);
    // The projection is least squares: a point on the plane projects to its coordinates.
    let c = plane.project(&plane.point(0.3, -0.2));
    assert!((c[0] - 0.3).abs() < 1e-12 && (c[1] + 0.2).abs() < 1e-12);
}

#[test]
fn grids_are_bit_identical_for_any_thread_count() {
    let (net, theta, x, y) = mlp(&[12, 12], 90, 3);
    let opt = OPTIONS[3];
    let obj = objective(&net, &x, &y, 0, opt);
    let plane = Plane::random(&net, &theta, 77);
    let (bn_net, bn_theta) = network_and_theta(Activation::Relu, LOSS_CASES[3], OPTIONS[4], 6);
    let (bx, by) = data(LOSS_CASES[3], 50, 6);
    let bn_obj = objective(&bn_net, &bx, &by, 3, OPTIONS[4]);
    let bn_plane = Plane::random(&bn_net, &bn_theta, 78);
    for (obj, plane) in [(&obj, &plane), (&bn_obj, &bn_plane)] {
        let run = |threads| {
            let spec = SliceSpec {
                grid: 9,
                radius: 1.5,
                threads,
            };
            slice(obj, plane, &spec, &never(), &mut |_, _| {})
                .unwrap()
                .unwrap()
        };
        let one = run(1);
        for threads in [2, 3, 0] {
            let many = run(threads);
            let bits = |s: &nnlab::analysis::landscape::Slice| {
                s.loss.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&one), bits(&many), "threads = {threads}");
        }
    }
}

#[test]
fn progressive_slice_reports_a_preview_then_every_row_and_can_be_cancelled() {
    let (net, theta, x, y) = mlp(&[5], 30, 1);
    let obj = objective(&net, &x, &y, 0, OPTIONS[0]);
    let plane = Plane::random(&net, &theta, 2);
    let spec = SliceSpec::new(15, 1.0);
    let mut events = Vec::new();
    let full = slice_progressive(&obj, &plane, &spec, 5, &never(), &mut |p| match p {
        Progress::Coarse(s) => events.push((usize::MAX, s.grid)),
        Progress::Row { index, values } => events.push((index, values.len())),
    })
    .unwrap()
    .unwrap();
    assert_eq!(events[0], (usize::MAX, 5), "the preview comes first");
    let mut rows: Vec<usize> = events[1..].iter().map(|e| e.0).collect();
    rows.sort();
    assert_eq!(rows, (0..15).collect::<Vec<_>>());
    assert!(events[1..].iter().all(|e| e.1 == 15));
    let plain = slice(&obj, &plane, &spec, &never(), &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!(full, plain);

    // Cancelled before it starts, and from inside the row callback.
    let cancel = AtomicBool::new(true);
    assert!(
        slice(&obj, &plane, &spec, &cancel, &mut |_, _| {})
            .unwrap()
            .is_none()
    );
    for threads in [1, 2] {
        let cancel = AtomicBool::new(false);
        let mut seen = 0;
        let spec = SliceSpec { threads, ..spec };
        let r = slice(&obj, &plane, &spec, &cancel, &mut |_, _| {
            seen += 1;
            cancel.store(true, Ordering::Relaxed);
        })
        .unwrap();
        assert!(
            r.is_none(),
            "threads {threads}: a cancelled slice was returned"
        );
        if threads == 1 {
            assert_eq!(seen, 1, "rows computed after the cancel");
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (net, theta, x, y) = mlp(&[3], 10, 1);
    let obj = objective(&net, &x, &y, 0, OPTIONS[0]);
    let plane = Plane::random(&net, &theta, 2);
    let mut f = |_: usize, _: &[f64]| {};
    for (grid, radius) in [(0, 1.0), (5000, 1.0), (5, 0.0), (5, f64::NAN)] {
        let e = slice(
            &obj,
            &plane,
            &SliceSpec::new(grid, radius),
            &never(),
            &mut f,
        )
        .unwrap_err();
        assert!(
            e.message.contains("grid") || e.message.contains("radius"),
            "{e}"
        );
    }
    assert!(Plane::given(&theta, &theta[1..], &theta).is_err());
    let mut bad = plane.clone();
    bad.origin[0] = f64::NAN;
    assert!(slice(&obj, &bad, &SliceSpec::new(3, 1.0), &never(), &mut f).is_err());
    assert!(line(&obj, &theta, &theta[1..], 11, 1, &never()).is_err());
    assert_eq!(axis(5, 2.0), vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
    assert_eq!(axis(51, 0.3)[25], 0.0);
}

mod cli {
    use std::path::Path;

    use nnlab::cli::landscape::{Dirs, LandscapeArgs, landscape};

    fn args(grid: usize, dirs: Dirs) -> LandscapeArgs {
        LandscapeArgs {
            grid,
            dirs,
            radius: None,
            steps: 40,
        }
    }

    fn session() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/sessions/xor.json"))
    }

    fn check_shape(v: &serde_json::Value, grid: usize) -> usize {
        let p = v["params"].as_u64().unwrap() as usize;
        assert_eq!(v["grid"], grid);
        assert_eq!(v["alpha"].as_array().unwrap().len(), grid);
        assert_eq!(v["beta"].as_array().unwrap().len(), grid);
        let loss = v["loss"].as_array().unwrap();
        assert_eq!(loss.len(), grid);
        assert!(loss.iter().all(|r| r.as_array().unwrap().len() == grid));
        let dirs = v["directions"].as_array().unwrap();
        assert_eq!(dirs.len(), 2);
        assert!(dirs.iter().all(|d| d.as_array().unwrap().len() == p));
        let (min, max) = (v["min"].as_f64().unwrap(), v["max"].as_f64().unwrap());
        assert!(min <= max);
        p
    }

    #[test]
    fn random_slice_json_has_every_field_and_its_centre_is_the_objective() {
        let v = landscape(session(), &args(5, Dirs::Random)).unwrap();
        check_shape(&v, 5);
        assert_eq!(v["dirs"], "random");
        let centre = v["loss"][2][2].as_f64().unwrap();
        let j = v["center_loss"].as_f64().unwrap();
        assert!((centre - j).abs() <= 1e-13 * j.abs());
        assert_eq!(landscape(session(), &args(5, Dirs::Random)).unwrap(), v);
    }

    #[test]
    fn hessian_and_pca_slices() {
        let v = landscape(session(), &args(3, Dirs::Hessian)).unwrap();
        check_shape(&v, 3);
        let ev = v["eigenvalues"].as_array().unwrap();
        assert!(ev[0].as_f64().unwrap() >= ev[1].as_f64().unwrap());
        let v = landscape(session(), &args(5, Dirs::Pca)).unwrap();
        check_shape(&v, 5);
        let path = v["path"].as_array().unwrap();
        assert_eq!(path.len(), 41);
        assert!(path[40][0].as_f64().unwrap().abs() < 1e-9);
        let r = v["radius"].as_f64().unwrap();
        let reach = path
            .iter()
            .flat_map(|c| [c[0].as_f64().unwrap().abs(), c[1].as_f64().unwrap().abs()])
            .fold(0.0f64, f64::max);
        assert!(r >= reach, "the grid must cover the path");
    }

    #[test]
    fn bad_arguments_name_the_flag() {
        let e = landscape(session(), &args(1, Dirs::Random)).unwrap_err();
        assert!(e.message.contains("--grid"), "{e}");
        let mut a = args(5, Dirs::Random);
        a.radius = Some(-1.0);
        assert!(
            landscape(session(), &a)
                .unwrap_err()
                .message
                .contains("--radius")
        );
        let mut a = args(5, Dirs::Pca);
        a.steps = 1;
        assert!(
            landscape(session(), &a)
                .unwrap_err()
                .message
                .contains("--steps")
        );
        let e = landscape(Path::new("/nonexistent/x.json"), &args(5, Dirs::Random)).unwrap_err();
        assert!(e.message.contains("x.json"), "{e}");
    }
}
