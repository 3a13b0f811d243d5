//! Spectra of symmetric operators known only through products v ↦ Av: Lanczos with full
//! reorthogonalisation for extreme eigenpairs, stochastic Lanczos quadrature (SLQ) for the
//! spectral density, and Hutchinson's trace estimator. Generic over the operator, so the same
//! code serves the Hessian, the Gauss–Newton matrix and the test matrices.

use faer::{Mat, Side};
use serde::Serialize;

use crate::net::linalg::{axpy, dot, norm};
use crate::rng::Rng;

/// A symmetric linear operator on ℝⁿ.
pub trait SymmetricOperator {
    fn dim(&self) -> usize;
    /// out = A·v
    fn apply(&mut self, v: &[f64], out: &mut [f64]);
}

/// A dense symmetric matrix (row-major) as an operator; used by tests and small problems.
pub struct DenseOperator {
    pub n: usize,
    pub a: Vec<f64>,
}

impl SymmetricOperator for DenseOperator {
    fn dim(&self) -> usize {
        self.n
    }
    fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(self.a.chunks_exact(self.n)) {
            *o = dot(row, v);
        }
    }
}

/// Eigenvalues (ascending) and optionally eigenvectors (column j = vectors[j]) of a dense
/// symmetric matrix.
pub fn dense_eigen(
    n: usize,
    a: &[f64],
    vectors: bool,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let m = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
    if vectors {
        let evd = m
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| format!("eigen-decomposition failed: {e:?}"))?;
        let s = evd.S();
        let u = evd.U();
        let vals: Vec<f64> = (0..n).map(|i| s[i]).collect();
        let vecs: Vec<Vec<f64>> = (0..n)
            .map(|j| (0..n).map(|i| u[(i, j)]).collect())
            .collect();
        Ok((vals, vecs))
    } else {
        let vals = m
            .self_adjoint_eigenvalues(Side::Lower)
            .map_err(|e| format!("eigen-decomposition failed: {e:?}"))?;
        Ok((vals, Vec::new()))
    }
}

/// The Lanczos tridiagonalisation T = QᵀAQ of `steps` steps from `start`.
pub struct Lanczos {
    pub alpha: Vec<f64>,
    /// β_1 … β_{m−1} (off-diagonal), plus the residual norm β_m last.
    pub beta: Vec<f64>,
    /// Orthonormal Krylov basis, one vector per step.
    pub basis: Vec<Vec<f64>>,
    /// The last unnormalised residual (the next basis vector times β_m).
    residual: Vec<f64>,
}

/// Lanczos with full reorthogonalisation (twice, Gram–Schmidt), stopping early on an invariant
/// subspace.
pub fn lanczos(op: &mut dyn SymmetricOperator, start: &[f64], steps: usize) -> Lanczos {
    let mut lz = Lanczos::start(start);
    lz.extend(op, steps);
    lz
}

impl Lanczos {
    /// A Lanczos run from `start` with no steps taken yet.
    pub fn start(start: &[f64]) -> Lanczos {
        let qn = norm(start);
        let q: Vec<f64> = start.iter().map(|x| x / qn).collect();
        Lanczos {
            alpha: Vec::new(),
            beta: Vec::new(),
            basis: vec![q],
            residual: Vec::new(),
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.alpha.len()
    }

    /// Has the Krylov space become invariant (or filled ℝⁿ)?
    pub fn exhausted(&self, n: usize) -> bool {
        let scale = self.alpha.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
        self.steps() >= n || self.beta.last().is_some_and(|&b| b <= 1e-12 * scale)
    }

    /// Take up to `more` further steps.
    pub fn extend(&mut self, op: &mut dyn SymmetricOperator, more: usize) {
        let n = op.dim();
        let mut w = vec![0.0; n];
        for _ in 0..more {
            if self.exhausted(n) {
                break;
            }
            let j = self.alpha.len();
            if j > 0 {
                // The next basis vector from the last residual (kept in `w_last`).
                let b = self.beta[j - 1];
                let q: Vec<f64> = self.residual.iter().map(|x| x / b).collect();
                self.basis.push(q);
            }
            let q = &self.basis[j];
            op.apply(q, &mut w);
            let a = dot(&w, q);
            self.alpha.push(a);
            axpy(-a, q, &mut w);
            if j > 0 {
                axpy(-self.beta[j - 1], &self.basis[j - 1], &mut w);
            }
            for _ in 0..2 {
                for b in &self.basis {
                    let c = dot(&w, b);
                    axpy(-c, b, &mut w);
                }
            }
            self.beta.push(norm(&w));
            self.residual.clone_from(&w);
        }
    }
}

/// Eigen-decomposition of the tridiagonal T: Ritz values (ascending) and the eigenvectors of T
/// (column-major per Ritz value).
fn tridiagonal_eigen(alpha: &[f64], beta: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = alpha.len();
    let mut t = vec![0.0; m * m];
    for i in 0..m {
        t[i * m + i] = alpha[i];
        if i + 1 < m {
            t[i * m + i + 1] = beta[i];
            t[(i + 1) * m + i] = beta[i];
        }
    }
    dense_eigen(m, &t, true).unwrap_or_else(|_| (alpha.to_vec(), Vec::new()))
}

/// An eigenpair estimate with its residual bound ‖Ax − λx‖.
#[derive(Clone, Debug, Serialize)]
pub struct RitzPair {
    pub value: f64,
    pub residual: f64,
    #[serde(skip)]
    pub vector: Vec<f64>,
}

/// The `k` largest and `k` smallest eigenpairs by Lanczos, iterating until their residuals are
/// below `tol`·max|λ| or `max_steps` is reached. Returns (bottom ascending, top descending),
/// disjoint.
pub fn extreme_eigenpairs(
    op: &mut dyn SymmetricOperator,
    k: usize,
    max_steps: usize,
    tol: f64,
    seed: u64,
) -> (Vec<RitzPair>, Vec<RitzPair>) {
    extreme_eigenpairs_split(op, k, k, max_steps, tol, seed)
}

/// As [`extreme_eigenpairs`] with different counts at the two ends (e.g. the top 10 and λ_min):
/// only the pairs asked for must converge, which saves products.
pub fn extreme_eigenpairs_split(
    op: &mut dyn SymmetricOperator,
    k_top: usize,
    k_bottom: usize,
    max_steps: usize,
    tol: f64,
    seed: u64,
) -> (Vec<RitzPair>, Vec<RitzPair>) {
    let n = op.dim();
    let k_top = k_top.min(n).max(1);
    let k_bottom = k_bottom.min(n);
    let k = k_top.max(k_bottom);
    let mut rng = Rng::stream(seed, "lanczos");
    let start: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let max_steps = max_steps.min(n).max(1);
    let mut lz = Lanczos::start(&start);
    let mut next = (2 * k + 10).min(max_steps);
    loop {
        lz.extend(op, next - lz.steps());
        let m = lz.steps();
        let (vals, vecs) = tridiagonal_eigen(&lz.alpha, &lz.beta[..m]);
        let b_last = *lz.beta.last().unwrap_or(&0.0);
        let scale = vals.iter().fold(1e-300f64, |a, v| a.max(v.abs()));
        let residual = |i: usize| (b_last * vecs[i][m - 1]).abs();
        let kb = k_bottom.min(m);
        let ends: Vec<usize> = (0..kb).chain(kb.max(m.saturating_sub(k_top))..m).collect();
        let converged = ends.iter().all(|&i| residual(i) <= tol * scale);
        if converged || lz.exhausted(n) || m >= max_steps {
            let pair = |i: usize| {
                let mut x = vec![0.0; n];
                for (c, q) in vecs[i].iter().zip(&lz.basis) {
                    axpy(*c, q, &mut x);
                }
                RitzPair {
                    value: vals[i],
                    residual: residual(i),
                    vector: x,
                }
            };
            // Disjoint ends: when 2k exceeds the Ritz values found, the top takes what is left.
            let bottom: Vec<RitzPair> = (0..kb).map(pair).collect();
            let top: Vec<RitzPair> = (kb.max(m.saturating_sub(k_top))..m)
                .rev()
                .map(pair)
                .collect();
            return (bottom, top);
        }
        next = (m + 10).min(max_steps);
    }
}

/// Spectral density by stochastic Lanczos quadrature: nodes and weights per probe, and the
/// density smoothed by a gaussian of width `sigma` on a grid.
#[derive(Clone, Debug, Serialize)]
pub struct Density {
    /// Ritz values of every probe.
    pub nodes: Vec<f64>,
    /// Quadrature weights (summing to 1 over all probes).
    pub weights: Vec<f64>,
    pub grid: Vec<f64>,
    pub density: Vec<f64>,
    /// n·Σ wλ: a trace estimate from the same quadrature.
    pub trace: f64,
}

pub fn slq_density(
    op: &mut dyn SymmetricOperator,
    steps: usize,
    probes: usize,
    grid_points: usize,
    seed: u64,
) -> Density {
    let n = op.dim();
    let probes = probes.max(1);
    let mut rng = Rng::stream(seed, "slq");
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for _ in 0..probes {
        let v: Vec<f64> = (0..n)
            .map(|_| if rng.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        let lz = lanczos(op, &v, steps);
        let (vals, vecs) = tridiagonal_eigen(&lz.alpha, &lz.beta);
        for (i, &l) in vals.iter().enumerate() {
            let tau = vecs.get(i).map_or(1.0 / vals.len() as f64, |s| s[0] * s[0]);
            nodes.push(l);
            weights.push(tau / probes as f64);
        }
    }
    let trace = n as f64 * nodes.iter().zip(&weights).map(|(l, w)| l * w).sum::<f64>();
    let lo = nodes.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = nodes.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    let sigma = span / 100.0;
    let (a, b) = (lo - 5.0 * sigma, hi + 5.0 * sigma);
    let g = grid_points.max(2);
    let grid: Vec<f64> = (0..g)
        .map(|i| a + (b - a) * i as f64 / (g - 1) as f64)
        .collect();
    let norm_c = 1.0 / (sigma * (2.0 * std::f64::consts::PI).sqrt());
    let density = grid
        .iter()
        .map(|&t| {
            nodes
                .iter()
                .zip(&weights)
                .map(|(l, w)| w * norm_c * (-0.5 * ((t - l) / sigma).powi(2)).exp())
                .sum()
        })
        .collect();
    Density {
        nodes,
        weights,
        grid,
        density,
        trace,
    }
}

/// Hutchinson's estimate of tr(A) with Rademacher probes: (mean, standard error).
pub fn hutchinson_trace(op: &mut dyn SymmetricOperator, samples: usize, seed: u64) -> (f64, f64) {
    let n = op.dim();
    let samples = samples.max(2);
    let mut rng = Rng::stream(seed, "hutchinson");
    let mut z = vec![0.0; n];
    let mut az = vec![0.0; n];
    let mut vals = Vec::with_capacity(samples);
    for _ in 0..samples {
        z.iter_mut()
            .for_each(|x| *x = if rng.uniform() < 0.5 { -1.0 } else { 1.0 });
        op.apply(&z, &mut az);
        vals.push(dot(&z, &az));
    }
    let mean = vals.iter().sum::<f64>() / samples as f64;
    let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (samples - 1) as f64;
    (mean, (var / samples as f64).sqrt())
}
