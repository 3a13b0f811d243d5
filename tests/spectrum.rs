//! Spectra: Lanczos against dense solves, SLQ against the exact histogram, Hutchinson against
//! the exact trace, a quadratic with a known spectrum, and the network Hessian end to end.

mod common_net;

use common_net::*;
use nnlab::analysis::hessian::{
    HessianProblem, Method, Options, analyse, dense_hessian, summarize,
};
use nnlab::analysis::spectrum::{
    DenseOperator, dense_eigen, extreme_eigenpairs, hutchinson_trace, slq_density,
};
use nnlab::net::Rows;
use nnlab::net::hvp::{HvpWorkspace, hessian_vector_product};
use nnlab::rng::Rng;

/// Q·diag(λ)·Qᵀ with a random orthogonal Q (Gram–Schmidt of gaussian vectors).
fn matrix_with_spectrum(lambda: &[f64], seed: u64) -> Vec<f64> {
    let n = lambda.len();
    let mut rng = Rng::new(seed);
    let mut q: Vec<Vec<f64>> = Vec::new();
    while q.len() < n {
        let mut v: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        for _ in 0..2 {
            for b in &q {
                let c: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let nv = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        q.push(v.into_iter().map(|x| x / nv).collect());
    }
    let mut a = vec![0.0; n * n];
    for (k, l) in lambda.iter().enumerate() {
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] += l * q[k][i] * q[k][j];
            }
        }
    }
    a
}

#[test]
fn dense_solver_recovers_a_known_spectrum() {
    let lambda: Vec<f64> = (0..40).map(|i| (i as f64 - 10.0) * 0.5).collect();
    let a = matrix_with_spectrum(&lambda, 1);
    let (vals, vecs) = dense_eigen(40, &a, true).unwrap();
    for (x, y) in vals.iter().zip(&lambda) {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
    // A v = λ v for the top pair.
    let v = &vecs[39];
    for i in 0..40 {
        let av: f64 = (0..40).map(|j| a[i * 40 + j] * v[j]).sum();
        assert!((av - vals[39] * v[i]).abs() < 1e-12);
    }
    let s = summarize(&vals);
    assert_eq!(s.negative_count, 10);
    assert!((s.lambda_max - lambda[39]).abs() < 1e-12);
    // κ skips the zero eigenvalue: max|λ| = 14.5, smallest non-zero |λ| = 0.5.
    assert!((s.condition_number - 29.0).abs() < 1e-9);
}

#[test]
fn lanczos_finds_the_extreme_eigenpairs_of_a_quadratic() {
    // Clustered interior, well-separated ends.
    let mut lambda: Vec<f64> = (0..300).map(|i| 1.0 + i as f64 / 300.0).collect();
    lambda.extend([-3.0, -2.5, 8.0, 9.0, 10.0]);
    lambda.sort_by(f64::total_cmp);
    let n = lambda.len();
    let mut op = DenseOperator {
        n,
        a: matrix_with_spectrum(&lambda, 2),
    };
    let (bottom, top) = extreme_eigenpairs(&mut op, 3, 200, 1e-10, 5);
    for (r, want) in top.iter().zip([10.0, 9.0, 8.0]) {
        assert!((r.value - want).abs() < 1e-8, "top {} vs {want}", r.value);
    }
    for (r, want) in bottom.iter().zip([-3.0, -2.5]) {
        assert!(
            (r.value - want).abs() < 1e-8,
            "bottom {} vs {want}",
            r.value
        );
    }
    // The Ritz vector is an eigenvector: ‖Ax − λx‖ small.
    let x = &top[0].vector;
    let mut ax = vec![0.0; n];
    use nnlab::analysis::spectrum::SymmetricOperator;
    op.apply(x, &mut ax);
    let res: f64 = ax
        .iter()
        .zip(x)
        .map(|(a, b)| (a - 10.0 * b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(res < 1e-6, "residual {res}");
}

#[test]
fn slq_density_matches_the_exact_histogram_and_hutchinson_the_trace() {
    let n = 400;
    let mut rng = Rng::new(3);
    // Two bumps: 70 % near 0, 30 % near 5.
    let mut lambda: Vec<f64> = (0..n)
        .map(|i| {
            if i < 280 {
                0.3 * rng.normal()
            } else {
                5.0 + 0.5 * rng.normal()
            }
        })
        .collect();
    lambda.sort_by(f64::total_cmp);
    let mut op = DenseOperator {
        n,
        a: matrix_with_spectrum(&lambda, 4),
    };
    let d = slq_density(&mut op, 80, 10, 400, 6);
    let total: f64 = d.weights.iter().sum();
    assert!((total - 1.0).abs() < 1e-9);
    // Mass above 2.5 (the upper bump): exact 0.30.
    let upper: f64 = d
        .nodes
        .iter()
        .zip(&d.weights)
        .filter(|(l, _)| **l > 2.5)
        .map(|(_, w)| w)
        .sum();
    assert!(
        (upper - 0.30).abs() < 0.05,
        "SLQ mass of the upper bump {upper}"
    );
    // Compare histograms over 10 bins: L1 distance.
    let (lo, hi) = (-2.0, 8.0);
    let bin = |x: f64| (((x - lo) / (hi - lo) * 10.0).floor() as i64).clamp(0, 9) as usize;
    let mut exact = [0.0; 10];
    lambda.iter().for_each(|&l| exact[bin(l)] += 1.0 / n as f64);
    let mut est = [0.0; 10];
    d.nodes
        .iter()
        .zip(&d.weights)
        .for_each(|(&l, &w)| est[bin(l)] += w);
    let l1: f64 = exact.iter().zip(&est).map(|(a, b)| (a - b).abs()).sum();
    assert!(
        l1 < 0.25,
        "histogram L1 distance {l1}: exact {exact:?} vs SLQ {est:?}"
    );
    let exact_trace: f64 = lambda.iter().sum();
    assert!(
        (d.trace - exact_trace).abs() < 0.1 * exact_trace.abs(),
        "{} vs {exact_trace}",
        d.trace
    );
    let (tr, se) = hutchinson_trace(&mut op, 200, 8);
    assert!(
        (tr - exact_trace).abs() < 4.0 * se + 1e-9,
        "{tr} ± {se} vs {exact_trace}"
    );
}

#[test]
fn network_hessian_dense_and_lanczos_agree() {
    for (act, case, opt) in [
        (nnlab::net::Activation::Tanh, LOSS_CASES[2], OPTIONS[0]),
        (nnlab::net::Activation::Softplus, LOSS_CASES[3], OPTIONS[4]),
        (nnlab::net::Activation::Gelu, LOSS_CASES[0], OPTIONS[2]),
    ] {
        let (net, theta) = network_and_theta(act, case, opt, 11);
        let (x, y) = data(case, 30, 12);
        let rows = Rows {
            x: &x,
            y: &y,
            classes: case.classes,
        };
        let problem = HessianProblem {
            net: &net,
            theta: &theta,
            rows,
            l2: opt.l2,
            gauss_newton: false,
        };
        let p = net.n_params;
        // The dense matrix is symmetric and its columns are Hessian-vector products.
        let h = dense_hessian(problem);
        let mut hw = HvpWorkspace::default();
        let mut col = vec![0.0; p];
        let mut e = vec![0.0; p];
        e[3] = 1.0;
        hessian_vector_product(&net, &theta, rows, opt.l2, &e, false, &mut hw, &mut col);
        for i in 0..p {
            assert!((h[i * p + 3] - col[i]).abs() <= 1e-12 * (1.0 + col[i].abs()));
        }
        let dense = analyse(
            problem,
            Options {
                method: Method::Dense,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(dense.eigenvalues.len(), p);
        let lz = analyse(
            problem,
            Options {
                method: Method::Lanczos,
                k: 3,
                trace_samples: 50,
                ..Options::default()
            },
        )
        .unwrap();
        let scale = dense.lambda_max.abs().max(dense.lambda_min.abs());
        assert!(
            (lz.lambda_max - dense.lambda_max).abs() < 1e-6 * scale,
            "{} vs {}",
            lz.lambda_max,
            dense.lambda_max
        );
        assert!(
            (lz.lambda_min - dense.lambda_min).abs() < 1e-6 * scale,
            "{} vs {}",
            lz.lambda_min,
            dense.lambda_min
        );
        // The three largest agree too.
        for (i, v) in lz.eigenvalues.iter().rev().take(3).enumerate() {
            let want = dense.eigenvalues[p - 1 - i];
            assert!((v - want).abs() < 1e-6 * scale, "top {i}: {v} vs {want}");
        }
        let se = lz.trace_stderr.unwrap();
        assert!(
            (lz.trace - dense.trace).abs() < 5.0 * se + 1e-9,
            "trace {} ± {se} vs {}",
            lz.trace,
            dense.trace
        );
    }
}

#[test]
fn gauss_newton_has_no_negative_eigenvalues() {
    let (net, theta) =
        network_and_theta(nnlab::net::Activation::Tanh, LOSS_CASES[1], OPTIONS[0], 21);
    let (x, y) = data(LOSS_CASES[1], 30, 22);
    let rows = Rows {
        x: &x,
        y: &y,
        classes: 2,
    };
    let h = HessianProblem {
        net: &net,
        theta: &theta,
        rows,
        l2: 0.0,
        gauss_newton: false,
    };
    let g = HessianProblem {
        gauss_newton: true,
        ..h
    };
    let rh = analyse(
        h,
        Options {
            method: Method::Dense,
            ..Options::default()
        },
    )
    .unwrap();
    let rg = analyse(
        g,
        Options {
            method: Method::Dense,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        rh.negative_count > 0.0,
        "a random-θ tanh net has negative curvature"
    );
    assert_eq!(rg.negative_count, 0.0);
    assert!(rg.lambda_min > -1e-10 * rg.lambda_max);
}
