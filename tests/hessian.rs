//! Hessian-vector products against central differences of the exact gradient, symmetry, and
//! the Gauss–Newton product, over the same activation × loss × layer grid as the gradients.

mod common_net;

use common_net::*;
use nnlab::net::hmp::{HmpWorkspace, first_layer_factored, hessian_matrix_product};
use nnlab::net::hvp::{HvpWorkspace, hessian_vector_product};
use nnlab::net::{Rows, Workspace, objective};
use nnlab::rng::Rng;

fn random_vec(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The reference for H·v: central differences of the exact gradient along v, Richardson-
/// extrapolated ((4·D(h/2) − D(h))/3 with h = 1e-5): the truncation error falls from O(h²) to
/// O(h⁴), so smooth activations with large third derivatives (Mish, sine under BatchNorm) are
/// checked as tightly as the others.
fn central_difference(
    net: &nnlab::net::Network,
    theta: &[f64],
    rows: Rows,
    l1: f64,
    l2: f64,
    v: &[f64],
) -> Vec<f64> {
    let p = net.n_params;
    let mut ws = Workspace::default();
    let mut gradient_at = |s: f64| {
        let t: Vec<f64> = theta.iter().zip(v).map(|(a, b)| a + s * b).collect();
        let mut g = vec![0.0; p];
        objective(net, &t, rows, l1, l2, &mut ws, Some(&mut g));
        g
    };
    let mut central = |h: f64| -> Vec<f64> {
        let (gp, gm) = (gradient_at(h), gradient_at(-h));
        gp.iter()
            .zip(&gm)
            .map(|(a, b)| (a - b) / (2.0 * h))
            .collect()
    };
    // Small enough that no ReLU or hinge kink lies within h of the grid's points.
    let h = 1e-5;
    let (coarse, fine) = (central(h), central(h / 2.0));
    fine.iter()
        .zip(&coarse)
        .map(|(f, c)| (4.0 * f - c) / 3.0)
        .collect()
}

#[test]
fn hvp_matches_central_differences_of_the_gradient_and_is_symmetric() {
    let mut worst: f64 = 0.0;
    let mut worst_sym: f64 = 0.0;
    let checked = for_each_grid_case(12, |c| {
        let (p, opt) = (c.net.n_params, c.opt);
        let v = random_vec(p, c.seed + 2);
        let u = random_vec(p, c.seed + 3);
        let mut hw = HvpWorkspace::default();
        let mut hv = vec![0.0; p];
        hessian_vector_product(c.net, c.theta, c.rows, opt.l2, &v, false, &mut hw, &mut hv);
        let fd = central_difference(c.net, c.theta, c.rows, opt.l1, opt.l2, &v);
        let rel = relative_error(&hv, &fd);
        assert!(
            rel <= 1e-7,
            "{}: relative error {rel:e}\n Hv {hv:?}\n fd {fd:?}",
            c.label()
        );
        let mut hu = vec![0.0; p];
        hessian_vector_product(c.net, c.theta, c.rows, opt.l2, &u, false, &mut hw, &mut hu);
        let (a, b) = (dot(&u, &hv), dot(&v, &hu));
        let sym = (a - b).abs() / a.abs().max(b.abs()).max(1e-12);
        assert!(sym <= 1e-10, "{}: uᵀHv {a} vs vᵀHu {b}", c.label());
        worst = worst.max(rel);
        worst_sym = worst_sym.max(sym);
    });
    assert_eq!(checked, 12 * 6 * 5);
    eprintln!(
        "Hv vs finite differences: worst relative error {worst:e}; worst asymmetry {worst_sym:e}"
    );
}

#[test]
fn gauss_newton_is_symmetric_psd_and_equals_h_for_a_linear_model() {
    for (ci, case) in LOSS_CASES.into_iter().enumerate() {
        for act in [nnlab::net::Activation::Tanh, nnlab::net::Activation::Relu] {
            let opt = OPTIONS[1];
            let (net, theta) = network_and_theta(act, case, opt, 7 + ci as u64);
            let (x, y) = data(case, 10, 3);
            let rows = Rows {
                x: &x,
                y: &y,
                classes: case.classes,
            };
            let p = net.n_params;
            let mut hw = HvpWorkspace::default();
            for s in 0..5 {
                let v = random_vec(p, 100 + s);
                let u = random_vec(p, 200 + s);
                let (mut gv, mut gu) = (vec![0.0; p], vec![0.0; p]);
                hessian_vector_product(&net, &theta, rows, 0.0, &v, true, &mut hw, &mut gv);
                hessian_vector_product(&net, &theta, rows, 0.0, &u, true, &mut hw, &mut gu);
                assert!(dot(&v, &gv) >= -1e-12 * dot(&v, &v), "{case:?}: vᵀGv < 0");
                let (a, b) = (dot(&u, &gv), dot(&v, &gu));
                assert!((a - b).abs() <= 1e-10 * a.abs().max(b.abs()).max(1e-12));
            }
        }
    }
    // A single linear layer under MSE has no network curvature: G = H exactly.
    use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![LayerSpec::new(1, nnlab::net::Activation::Identity)],
        init: Init::Normal,
        init_scale: 0.5,
        features: None,
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let net = nnlab::net::Network::build(&spec, Loss::Mse).unwrap();
    let theta = random_vec(net.n_params, 4);
    let (x, y) = data(LOSS_CASES[0], 10, 4);
    let rows = Rows {
        x: &x,
        y: &y,
        classes: 0,
    };
    let v = random_vec(net.n_params, 9);
    let mut hw = HvpWorkspace::default();
    let (mut hv, mut gv) = (vec![0.0; net.n_params], vec![0.0; net.n_params]);
    hessian_vector_product(&net, &theta, rows, 0.0, &v, false, &mut hw, &mut hv);
    hessian_vector_product(&net, &theta, rows, 0.0, &v, true, &mut hw, &mut gv);
    for (a, b) in hv.iter().zip(&gv) {
        assert!(
            (a - b).abs() <= 1e-14 * a.abs().max(1.0),
            "H v {a} vs G v {b}"
        );
    }
    // And H = (1/N) XᵀX there: check one entry against the definition.
    let e0: Vec<f64> = (0..net.n_params)
        .map(|i| if i == 0 { 1.0 } else { 0.0 })
        .collect();
    hessian_vector_product(&net, &theta, rows, 0.0, &e0, false, &mut hw, &mut hv);
    let h00: f64 = (0..10).map(|r| x[2 * r] * x[2 * r]).sum::<f64>() / 10.0;
    assert!((hv[0] - h00).abs() < 1e-14);
}

/// K directions in one pass equal K passes of one direction: the direction index never mixes
/// (dense directions go through GEMMs, sparse ones entry by entry).
#[test]
fn batched_products_equal_single_products_over_the_grid() {
    let mut worst: f64 = 0.0;
    let checked = for_each_grid_case(12, |c| {
        let p = c.net.n_params;
        for (gauss_newton, sparse) in [(false, false), (true, false), (false, true), (true, true)] {
            let kd = 5;
            let mut v = random_vec(kd * p, c.seed + 7);
            if sparse {
                // Two non-zeros per direction: the one-by-one path for sparse directions.
                let mut r = Rng::new(c.seed + 8);
                for (j, vj) in v.chunks_exact_mut(p).enumerate() {
                    let keep = [r.below(p), (j * 7) % p];
                    for (i, x) in vj.iter_mut().enumerate() {
                        if !keep.contains(&i) {
                            *x = 0.0;
                        }
                    }
                }
            }
            let mut hm = HmpWorkspace::default();
            let mut batch = vec![0.0; kd * p];
            hessian_matrix_product(
                c.net,
                c.theta,
                c.rows,
                c.opt.l2,
                &v,
                gauss_newton,
                &mut hm,
                &mut batch,
            );
            let mut hw = HvpWorkspace::default();
            let mut single = vec![0.0; p];
            for j in 0..kd {
                let vj = &v[j * p..(j + 1) * p];
                hessian_vector_product(
                    c.net,
                    c.theta,
                    c.rows,
                    c.opt.l2,
                    vj,
                    gauss_newton,
                    &mut hw,
                    &mut single,
                );
                // Same mathematics, different summation order: rounding only (BatchNorm
                // cancellations make it reach ~1e-10 relative).
                let rel = relative_error(&single, &batch[j * p..(j + 1) * p]);
                assert!(
                    rel <= 1e-9,
                    "{} (gn {gauss_newton}, sparse {sparse}), direction {j}: {rel:e}",
                    c.label()
                );
                worst = worst.max(rel);
            }
        }
    });
    assert_eq!(checked, 12 * 6 * 5);
    eprintln!("batched vs single products: worst relative difference {worst:e}");
}

/// With enough rows, products take the first-layer factorisation (two of the six large GEMMs
/// replaced by a factor formed once per θ, see `first_layer_factored`). Over the grid,
/// residual second layers included, they equal H·v from the dense Hessian assembled by layers
/// (per-row signals, a path that never forms the factor) and central differences of the
/// exact gradient; PReLU first layers, BatchNorm and Gauss–Newton keep the plain path.
#[test]
fn first_layer_factorisation_equals_the_dense_hessian_over_the_grid() {
    use nnlab::analysis::hessian::{HessianProblem, dense_hessian_by_layers};
    let (mut worst, mut worst_fd): (f64, f64) = (0.0, 0.0);
    let mut factored = 0;
    let checked = for_each_grid_case(24, |c| {
        let p = c.net.n_params;
        let expected = !c.opt.batch_norm && c.act != nnlab::net::Activation::Prelu;
        for gauss_newton in [false, true] {
            assert_eq!(
                first_layer_factored(c.net, 24, gauss_newton),
                expected && !gauss_newton,
                "{} (gn {gauss_newton})",
                c.label()
            );
        }
        if !expected {
            return;
        }
        factored += 1;
        let problem = HessianProblem {
            net: c.net,
            theta: c.theta,
            rows: c.rows,
            l2: c.opt.l2,
            gauss_newton: false,
        };
        let h = dense_hessian_by_layers(problem).expect("no BatchNorm");
        let kd = 3;
        let v = random_vec(kd * p, c.seed + 21);
        let mut hm = HmpWorkspace::default();
        let mut batch = vec![0.0; kd * p];
        // Twice with one workspace: the second product reuses the factor.
        for _ in 0..2 {
            hessian_matrix_product(
                c.net, c.theta, c.rows, c.opt.l2, &v, false, &mut hm, &mut batch,
            );
            for j in 0..kd {
                let vj = &v[j * p..(j + 1) * p];
                let want: Vec<f64> = h.chunks_exact(p).map(|row| dot(row, vj)).collect();
                let rel = relative_error(&want, &batch[j * p..(j + 1) * p]);
                assert!(rel <= 1e-11, "{}, direction {j}: {rel:e}", c.label());
                worst = worst.max(rel);
            }
        }
        // Central differences of the exact gradient along the first direction.
        let fd = central_difference(c.net, c.theta, c.rows, 0.0, c.opt.l2, &v[..p]);
        let rel = relative_error(&batch[..p], &fd);
        assert!(
            rel <= 1e-7,
            "{}: against finite differences {rel:e}",
            c.label()
        );
        worst_fd = worst_fd.max(rel);
    });
    assert_eq!(checked, 12 * 6 * 5);
    // 11 activations without PReLU × 6 losses × 3 options without BatchNorm.
    assert_eq!(factored, 11 * 6 * 3);
    eprintln!(
        "factored products: worst relative difference {worst:e} from the dense Hessian, {worst_fd:e} from finite differences"
    );
}

/// The base error signals are cached after the first product at a θ: a later product with the
/// same workspace gives the same bits as a fresh workspace, and a new θ is not served stale
/// signals.
#[test]
fn cached_base_signals_give_the_same_products() {
    let mut changed = 0;
    let checked = for_each_grid_case(12, |c| {
        let p = c.net.n_params;
        for gauss_newton in [false, true] {
            let v = random_vec(2 * p, c.seed + 11);
            let u = random_vec(2 * p, c.seed + 12);
            let mut fresh = vec![0.0; 2 * p];
            hessian_matrix_product(
                c.net,
                c.theta,
                c.rows,
                c.opt.l2,
                &v,
                gauss_newton,
                &mut HmpWorkspace::default(),
                &mut fresh,
            );
            let mut hm = HmpWorkspace::default();
            let mut out = vec![0.0; 2 * p];
            // First product at θ (fills the cache), then the one compared.
            hessian_matrix_product(
                c.net,
                c.theta,
                c.rows,
                c.opt.l2,
                &u,
                gauss_newton,
                &mut hm,
                &mut out,
            );
            hessian_matrix_product(
                c.net,
                c.theta,
                c.rows,
                c.opt.l2,
                &v,
                gauss_newton,
                &mut hm,
                &mut out,
            );
            assert_eq!(out, fresh, "{} (gn {gauss_newton})", c.label());
            // A moved θ with the same workspace matches a fresh workspace at the moved θ.
            let moved: Vec<f64> = c.theta.iter().map(|t| t * 0.9 + 0.01).collect();
            hessian_matrix_product(
                c.net,
                &moved,
                c.rows,
                c.opt.l2,
                &v,
                gauss_newton,
                &mut hm,
                &mut out,
            );
            let mut want = vec![0.0; 2 * p];
            hessian_matrix_product(
                c.net,
                &moved,
                c.rows,
                c.opt.l2,
                &v,
                gauss_newton,
                &mut HmpWorkspace::default(),
                &mut want,
            );
            assert_eq!(out, want, "{} moved θ (gn {gauss_newton})", c.label());
            // (Not every case: identity layers with the hinge loss have a constant H.)
            changed += usize::from(want != fresh);
        }
    });
    assert_eq!(checked, 12 * 6 * 5);
    // Moving θ changes the products almost everywhere, so a stale cache would have shown.
    assert!(
        changed >= 500,
        "moving θ changed only {changed} of 600 products"
    );
}

/// The dense Hessian assembled by layers (one R-pass per unit, GEMMs over the rows) equals the
/// one built column by column from Hessian-vector products, over the whole grid and for the
/// Gauss–Newton matrix too, also with each layer's units split over several passes and the
/// rows over several blocks; with BatchNorm it declines (the rows are tied together).
#[test]
fn dense_hessian_by_layers_equals_the_column_by_column_matrix_over_the_grid() {
    use nnlab::analysis::dense_hessian::dense_hessian_by_layers_in_blocks;
    use nnlab::analysis::hessian::{
        HessianProblem, dense_hessian_by_columns, dense_hessian_by_layers,
    };
    let mut worst: f64 = 0.0;
    let mut assembled = 0;
    let checked = for_each_grid_case(12, |c| {
        for gauss_newton in [false, true] {
            let problem = HessianProblem {
                net: c.net,
                theta: c.theta,
                rows: c.rows,
                l2: c.opt.l2,
                gauss_newton,
            };
            let Some(by_layers) = dense_hessian_by_layers(problem) else {
                assert!(
                    c.opt.batch_norm,
                    "{}: declined without BatchNorm",
                    c.label()
                );
                continue;
            };
            assert!(!c.opt.batch_norm, "{}: assembled with BatchNorm", c.label());
            let p = c.net.n_params;
            for i in 0..p {
                for j in 0..p {
                    assert_eq!(
                        by_layers[i * p + j].to_bits(),
                        by_layers[j * p + i].to_bits(),
                        "{}: not symmetric at ({i}, {j})",
                        c.label()
                    );
                }
            }
            let by_columns = dense_hessian_by_columns(problem);
            let rel = relative_error(&by_layers, &by_columns);
            assert!(rel <= 1e-12, "{} (gn {gauss_newton}): {rel:e}", c.label());
            worst = worst.max(rel);
            // Units split over several R-passes, and the rows over several blocks.
            for (units_per_pass, x_values) in [(1, 1), (3, 40)] {
                let split =
                    dense_hessian_by_layers_in_blocks(problem, units_per_pass, x_values).unwrap();
                let rel = relative_error(&split, &by_columns);
                assert!(
                    rel <= 1e-12,
                    "{} (gn {gauss_newton}, {units_per_pass} units per pass, {x_values} values per block): {rel:e}",
                    c.label()
                );
                worst = worst.max(rel);
            }
            assembled += 1;
        }
    });
    assert_eq!(checked, 12 * 6 * 5);
    assert_eq!(assembled, 12 * 6 * 3 * 2);
    eprintln!("dense Hessian by layers vs by columns: worst relative difference {worst:e}");
}

/// Wide layers and many rows: each layer's units are split over several R-passes (and two
/// threads), PReLU slopes come from their own products, and the result is the same bits on
/// every call.
#[test]
fn dense_hessian_by_layers_splits_wide_layers_and_is_deterministic() {
    use nnlab::analysis::hessian::{
        HessianProblem, dense_hessian, dense_hessian_by_columns, dense_hessian_by_layers,
    };
    use nnlab::net::Activation;
    use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    for (hidden, residual) in [(Activation::Tanh, false), (Activation::Prelu, true)] {
        let spec = NetworkSpec {
            inputs: 2,
            layers: vec![
                LayerSpec::new(24, hidden),
                LayerSpec::new(24, hidden),
                LayerSpec::new(1, Activation::Identity),
            ],
            init: Init::XavierNormal,
            init_scale: 1.0,
            features: None,
            residual,
            weight_constraint: WeightConstraint::None,
        };
        let net = nnlab::net::Network::build(&spec, Loss::Mse).unwrap();
        let theta = nnlab::net::init::initialise(&net, Init::XavierNormal, 1.0, 5);
        let n = 3000;
        let x = random_vec(2 * n, 6);
        let y: Vec<f64> = x.chunks(2).map(|r| (r[0] * r[1]).sin()).collect();
        let problem = HessianProblem {
            net: &net,
            theta: &theta,
            rows: Rows {
                x: &x,
                y: &y,
                classes: 0,
            },
            l2: 1e-3,
            gauss_newton: false,
        };
        let a = dense_hessian_by_layers(problem).unwrap();
        let b = dense_hessian(problem);
        assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
        let rel = relative_error(&a, &dense_hessian_by_columns(problem));
        assert!(rel <= 1e-12, "{hidden:?}, residual {residual}: {rel:e}");
    }
}

/// Many rows over a wide first layer: the first-layer factor is built in row blocks (its
/// scratch stays bounded). The product over all rows equals the row-weighted mean of the
/// products over the two halves (each built in one block) and central differences.
#[test]
fn first_layer_factor_built_in_row_blocks_is_exact() {
    use nnlab::net::init::initialise;
    use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![
            LayerSpec::new(512, nnlab::net::Activation::Tanh),
            LayerSpec::new(6, nnlab::net::Activation::Tanh),
            LayerSpec::new(1, nnlab::net::Activation::Sigmoid),
        ],
        init: Init::XavierNormal,
        init_scale: 1.0,
        features: None,
        residual: false,
        weight_constraint: WeightConstraint::None,
    };
    let net = nnlab::net::Network::build(&spec, Loss::Bce).unwrap();
    let theta = initialise(&net, Init::XavierNormal, 1.0, 5);
    let p = net.n_params;
    let m = 3000;
    let mut rng = Rng::new(6);
    let x: Vec<f64> = (0..2 * m).map(|_| rng.range(-1.0, 1.0)).collect();
    let y: Vec<f64> = (0..m)
        .map(|r| f64::from(x[2 * r] * x[2 * r + 1] > 0.0))
        .collect();
    let rows = |a: usize, b: usize| Rows {
        x: &x[2 * a..2 * b],
        y: &y[a..b],
        classes: 2,
    };
    // 3000 rows × 3 × 512 values exceed the 4M-value bound; 1500 do not.
    assert!(m * 3 * 512 > 1 << 22 && m / 2 * 3 * 512 <= 1 << 22);
    assert!(first_layer_factored(&net, m, false));
    let v = random_vec(p, 7);
    let product = |r: Rows| {
        let mut out = vec![0.0; p];
        let mut hm = HmpWorkspace::default();
        hessian_matrix_product(&net, &theta, r, 0.0, &v, false, &mut hm, &mut out);
        out
    };
    let whole = product(rows(0, m));
    let (first, second) = (product(rows(0, m / 2)), product(rows(m / 2, m)));
    let halves: Vec<f64> = first
        .iter()
        .zip(&second)
        .map(|(a, b)| 0.5 * (a + b))
        .collect();
    let rel = relative_error(&halves, &whole);
    assert!(rel <= 1e-12, "whole vs halves: {rel:e}");
    let fd = central_difference(&net, &theta, rows(0, m), 0.0, 0.0, &v);
    let rel_fd = relative_error(&whole, &fd);
    assert!(rel_fd <= 1e-6, "against finite differences: {rel_fd:e}");
    eprintln!("factor in row blocks: {rel:e} from the halves, {rel_fd:e} from finite differences");
}
