//! The Hessian of the training objective: as an operator (exact products by the R-operator),
//! as a dense matrix (P products, symmetrised), and its spectrum summarised.
//!
//! The dense matrix is built in [`dense_hessian`](super::dense_hessian).

use serde::Serialize;

pub use super::dense_hessian::{
    dense_hessian, dense_hessian_by_columns, dense_hessian_by_layers, dense_hessian_bytes,
    dense_hessian_directions,
};
use super::spectrum::{
    Density, RitzPair, SymmetricOperator, dense_eigen, extreme_eigenpairs,
    extreme_eigenpairs_split, hutchinson_trace, slq_density,
};
use crate::data::Dataset;
use crate::net::hmp::{HmpWorkspace, hessian_matrix_product, workspace_values};
use crate::net::{Network, Rows};

/// Largest P for the dense Hessian.
pub const MAX_DENSE_PARAMS: usize = 3000;

/// What to differentiate twice: J(θ) over `rows` with the L2 term (L1 has no curvature a.e.).
#[derive(Clone, Copy)]
pub struct HessianProblem<'a> {
    /// The network.
    pub net: &'a Network,
    /// The parameters where the Hessian is taken.
    pub theta: &'a [f64],
    /// The rows J averages over.
    pub rows: Rows<'a>,
    /// The L2 coefficient of J's l2·½ΣW² term (adds l2 on the weights' diagonal).
    pub l2: f64,
    /// Use the Gauss–Newton matrix instead (positive semi-definite: no negative curvature).
    pub gauss_newton: bool,
}

/// The Hessian problem of the training objective over `train` (what
/// `Trainer::hessian_problem` gives, for a copy of the network, θ and rows held elsewhere).
pub fn hessian_problem<'a>(
    net: &'a Network,
    theta: &'a [f64],
    train: &'a Dataset,
    l2: f64,
    gauss_newton: bool,
) -> HessianProblem<'a> {
    HessianProblem {
        net,
        theta,
        rows: Rows {
            x: &train.x,
            y: &train.y,
            classes: train.classes,
        },
        l2,
        gauss_newton,
    }
}

/// The problem as an operator v ↦ Hv, with its own workspace; counts its products.
pub struct HessianOperator<'a> {
    /// What it differentiates.
    pub problem: HessianProblem<'a>,
    ws: [HmpWorkspace; 2],
    half: Vec<f64>,
    /// Products computed so far.
    pub products: usize,
    /// Told the product count after each product (the CLI's progress line).
    pub on_product: Option<Box<dyn FnMut(usize) + 'a>>,
}

/// Below this many rows a product runs on one thread.
const SPLIT_ROWS: usize = 256;

impl<'a> HessianOperator<'a> {
    /// An operator with fresh workspaces and no products counted.
    pub fn new(problem: HessianProblem<'a>) -> Self {
        HessianOperator {
            problem,
            ws: [HmpWorkspace::default(), HmpWorkspace::default()],
            half: Vec::new(),
            products: 0,
            on_product: None,
        }
    }
}

impl SymmetricOperator for HessianOperator<'_> {
    fn dim(&self) -> usize {
        self.problem.net.n_params
    }
    fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        self.apply_block(v, out);
    }
    /// K products in one R-pass (K = v.len() / P). Without BatchNorm the objective is a sum
    /// over rows, so large products split the rows into two halves on two threads:
    /// H = (m₁H₁ + m₂H₂)/m. The split is fixed (not the number of cores), so the result is
    /// the same on every machine.
    fn apply_block(&mut self, v: &[f64], out: &mut [f64]) {
        let p = self.problem;
        let n = p.net.n_params;
        let m = p.rows.len();
        self.products += v.len() / n.max(1);
        if let Some(f) = self.on_product.as_mut() {
            f(self.products);
        }
        if m < SPLIT_ROWS || p.net.has_batch_norm() {
            let ws = &mut self.ws[0];
            hessian_matrix_product(p.net, p.theta, p.rows, p.l2, v, p.gauss_newton, ws, out);
            return;
        }
        let m1 = m / 2;
        let d = p.net.inputs;
        let first = Rows {
            x: &p.rows.x[..m1 * d],
            y: &p.rows.y[..m1],
            classes: p.rows.classes,
        };
        let second = Rows {
            x: &p.rows.x[m1 * d..],
            y: &p.rows.y[m1..],
            classes: p.rows.classes,
        };
        self.half.resize(out.len(), 0.0);
        let [w0, w1] = &mut self.ws;
        let half = &mut self.half;
        // rayon's pool threads persist between products, so their GEMM packing buffers and
        // stacks stay mapped (a fresh thread per product paid page faults every time).
        rayon::join(
            || hessian_matrix_product(p.net, p.theta, second, 0.0, v, p.gauss_newton, w1, half),
            || hessian_matrix_product(p.net, p.theta, first, 0.0, v, p.gauss_newton, w0, out),
        );
        let (a, b) = (m1 as f64 / m as f64, (m - m1) as f64 / m as f64);
        for (o, h) in out.iter_mut().zip(half.iter()) {
            *o = a * *o + b * h;
        }
        if p.l2 != 0.0 {
            for (oj, vj) in out.chunks_exact_mut(n).zip(v.chunks_exact(n)) {
                for l in &p.net.layers {
                    for j in l.w..l.w + l.n_weights() {
                        oj[j] += p.l2 * vj[j];
                    }
                }
            }
        }
    }
}

/// The numbers a person reads off a spectrum.
#[derive(Clone, Debug, Serialize)]
pub struct SpectrumSummary {
    /// The largest eigenvalue.
    pub lambda_max: f64,
    /// The smallest eigenvalue.
    pub lambda_min: f64,
    /// Eigenvalues below −[`ZERO_TOL`]·max|λ|.
    pub negative_count: usize,
    /// `negative_count` / P.
    pub negative_fraction: f64,
    /// max|λ| / min|λ| over the eigenvalues with |λ| > tol·max|λ|.
    pub condition_number: f64,
    /// The sum of the eigenvalues.
    pub trace: f64,
}

/// Lanczos stops when every requested Ritz pair has ‖Hx − λx‖ ≤ this · max|λ|; the
/// eigenvalue error is then about the square of it over the spectral gap.
pub const LANCZOS_TOL: f64 = 1e-4;

/// Relative threshold below which an eigenvalue counts as zero (for κ and the negative count).
pub const ZERO_TOL: f64 = 1e-8;

/// Summary of a complete (dense) spectrum.
pub fn summarize(eigs: &[f64]) -> SpectrumSummary {
    let max_abs = eigs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let cut = ZERO_TOL * max_abs;
    let negative_count = eigs.iter().filter(|&&v| v < -cut).count();
    let min_abs = eigs
        .iter()
        .map(|v| v.abs())
        .filter(|&a| a > cut)
        .fold(f64::INFINITY, f64::min);
    SpectrumSummary {
        lambda_max: eigs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        lambda_min: eigs.iter().cloned().fold(f64::INFINITY, f64::min),
        negative_count,
        negative_fraction: negative_count as f64 / eigs.len().max(1) as f64,
        condition_number: if min_abs.is_finite() {
            max_abs / min_abs
        } else {
            f64::INFINITY
        },
        trace: eigs.iter().sum(),
    }
}

/// How to compute the spectrum (also `nnlab hessian --method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every eigenvalue of the dense matrix (P ≤ 3000).
    Dense,
    /// The k extreme pairs at each end, by Lanczos.
    Lanczos,
}

/// The result `nnlab hessian` prints.
#[derive(Clone, Debug, Serialize)]
pub struct HessianReport {
    /// P, the parameter count.
    pub params: usize,
    /// How the spectrum was computed.
    pub method: Method,
    /// The Gauss–Newton matrix instead of the Hessian.
    pub gauss_newton: bool,
    /// Ascending; all of them for dense, the bottom-k then top-k Ritz values for Lanczos.
    pub eigenvalues: Vec<f64>,
    /// The largest eigenvalue.
    pub lambda_max: f64,
    /// The smallest eigenvalue.
    pub lambda_min: f64,
    /// Dense: exact count. Lanczos: the density's estimate P·(weight below 0).
    pub negative_count: f64,
    /// `negative_count` / P.
    pub negative_fraction: f64,
    /// max|λ| / min|λ| over the eigenvalues that are not zero (see [`SpectrumSummary`]).
    pub condition_number: f64,
    /// Dense: exact. Lanczos: Hutchinson's estimate.
    pub trace: f64,
    /// Lanczos: standard error of the trace estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_stderr: Option<f64>,
    /// Lanczos: residual bounds ‖Hx − λx‖ of the reported Ritz pairs (same order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residuals: Option<Vec<f64>>,
    /// The spectral density by stochastic Lanczos quadrature, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density: Option<Density>,
    /// Directions pushed through the R-operator (Hessian-vector products; for the dense
    /// Hessian of a network without BatchNorm one per unit, see `dense_hessian`).
    pub hessian_vector_products: usize,
    /// Top eigenvectors (descending λ), when asked for.
    #[serde(skip)]
    pub top_vectors: Vec<Vec<f64>>,
}

/// Options of [`analyse`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Dense or Lanczos.
    pub method: Method,
    /// Lanczos: how many eigenpairs at each end.
    pub k: usize,
    /// Also estimate the spectral density (SLQ).
    pub density: bool,
    /// SLQ steps and probes.
    pub slq_steps: usize,
    /// SLQ: random probe vectors.
    pub slq_probes: usize,
    /// Hutchinson probes of the trace estimate (Lanczos).
    pub trace_samples: usize,
    /// Seed of the random starts and probes.
    pub seed: u64,
    /// Dense: also compute the top eigenvectors (a full eigendecomposition with vectors costs
    /// several times one without). Lanczos always has them.
    pub vectors: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Lanczos,
            k: 10,
            density: false,
            slq_steps: 80,
            slq_probes: 1,
            trace_samples: 20,
            seed: 0,
            vectors: false,
        }
    }
}

/// Bytes of a [`HessianOperator`] applying `kd` directions at a time (its workspaces: two of
/// half the rows when it splits them over two threads).
pub fn operator_bytes(problem: HessianProblem, kd: usize) -> u64 {
    let net = problem.net;
    let m = problem.rows.len();
    let values = if m < SPLIT_ROWS || net.has_batch_norm() {
        workspace_values(net, m, kd)
    } else {
        workspace_values(net, m / 2, kd)
            .saturating_add(workspace_values(net, m - m / 2, kd))
            .saturating_add(kd.saturating_mul(net.n_params))
    };
    crate::memory::f64s(values)
}

/// Bytes of [`extreme_eigenpairs`] on the problem's Hessian with `k` pairs at each end and at
/// most `steps` products: the operator, the Krylov basis (steps + 1 vectors of P), the
/// Ritz vectors and the pairs copied out of them (4k vectors), the product's input and
/// output, and the projected matrix.
pub fn lanczos_bytes(problem: HessianProblem, k: usize, steps: usize) -> u64 {
    let p = problem.net.n_params;
    let steps = steps.min(p).max(1);
    let vectors = steps.saturating_add(3).saturating_add(k.saturating_mul(4));
    operator_bytes(problem, 1)
        .saturating_add(crate::memory::f64s(p.saturating_mul(vectors)))
        .saturating_add(crate::memory::f64s(
            steps.saturating_mul(steps).saturating_mul(2),
        ))
}

/// Bytes of the whole analysis [`analyse`] runs with these options (its peak, an upper bound).
pub fn analysis_bytes(problem: HessianProblem, opts: &Options) -> u64 {
    let p = problem.net.n_params;
    let slq = || lanczos_bytes(problem, 0, opts.slq_steps);
    match opts.method {
        Method::Dense => {
            let square = crate::memory::f64s(p.saturating_mul(p));
            // H, the eigen-solver's copy and scratch, and with vectors its matrix and their copy.
            let eigen = square.saturating_mul(if opts.vectors { 4 } else { 2 });
            let density = if opts.density {
                square.saturating_add(slq())
            } else {
                0
            };
            dense_hessian_bytes(problem).max(square.saturating_add(eigen).saturating_add(density))
        }
        Method::Lanczos => {
            let pairs = crate::memory::f64s(p.saturating_mul(opts.k.saturating_mul(2)));
            let lanczos = lanczos_bytes(problem, opts.k, LANCZOS_STEPS);
            if opts.density {
                lanczos.max(slq().saturating_add(pairs))
            } else {
                lanczos
            }
        }
    }
}

/// The `count` largest eigenpairs (descending) by Lanczos with at most `steps` products, after
/// checking that its memory fits: the Hessian directions of the landscape and the λ_max of
/// the dynamics. `on_product` is told the products done so far.
pub fn top_eigenpairs(
    problem: HessianProblem,
    count: usize,
    steps: usize,
    tol: f64,
    seed: u64,
    on_product: &mut dyn FnMut(usize),
) -> Result<Vec<RitzPair>, String> {
    let p = problem.net.n_params;
    crate::memory::check(
        &format!("computing the top Hessian eigenvectors of {p} parameters"),
        lanczos_bytes(problem, count, steps),
    )?;
    let mut op = HessianOperator::new(problem);
    op.on_product = Some(Box::new(on_product));
    let (_, top) = extreme_eigenpairs_split(&mut op, count, count, steps.min(p), tol, seed);
    Ok(top)
}

/// Most Lanczos products (Krylov dimension) of the spectrum and of the Hessian directions.
pub const LANCZOS_STEPS: usize = 400;

/// Compute the spectrum summary of the problem's Hessian.
pub fn analyse(problem: HessianProblem, opts: Options) -> Result<HessianReport, String> {
    analyse_reporting(problem, opts, &mut |_| {})
}

/// As [`analyse`], telling `on_product` the Hessian-vector products done so far (Lanczos).
pub fn analyse_reporting(
    problem: HessianProblem,
    opts: Options,
    on_product: &mut dyn FnMut(usize),
) -> Result<HessianReport, String> {
    let p = problem.net.n_params;
    if opts.method == Method::Dense && p > MAX_DENSE_PARAMS {
        return Err(format!(
            "the dense Hessian is limited to {MAX_DENSE_PARAMS} parameters (this network has {p}); use --method lanczos"
        ));
    }
    let what = match opts.method {
        Method::Dense => format!("the dense Hessian of {p} parameters"),
        Method::Lanczos => format!("the Lanczos spectrum of {p} parameters"),
    };
    crate::memory::check(&what, analysis_bytes(problem, &opts))?;
    match opts.method {
        Method::Dense => {
            let h = dense_hessian(problem);
            let (eigs, vecs) = dense_eigen(p, &h, opts.vectors)?;
            let s = summarize(&eigs);
            let density = opts.density.then(|| {
                let mut op = super::spectrum::DenseOperator { n: p, a: h.clone() };
                slq_density(&mut op, opts.slq_steps, opts.slq_probes, 200, opts.seed)
            });
            Ok(HessianReport {
                params: p,
                method: Method::Dense,
                gauss_newton: problem.gauss_newton,
                lambda_max: s.lambda_max,
                lambda_min: s.lambda_min,
                negative_count: s.negative_count as f64,
                negative_fraction: s.negative_fraction,
                condition_number: s.condition_number,
                trace: s.trace,
                trace_stderr: None,
                residuals: None,
                density,
                hessian_vector_products: dense_hessian_directions(problem),
                top_vectors: vecs.into_iter().rev().take(opts.k.max(2)).collect(),
                eigenvalues: eigs,
            })
        }
        Method::Lanczos => {
            let mut op = HessianOperator::new(problem);
            op.on_product = Some(Box::new(on_product));
            let (bottom, top) = extreme_eigenpairs(
                &mut op,
                opts.k,
                LANCZOS_STEPS.min(p),
                LANCZOS_TOL,
                opts.seed,
            );
            let density = if opts.density {
                Some(slq_density(
                    &mut op,
                    opts.slq_steps,
                    opts.slq_probes,
                    200,
                    opts.seed,
                ))
            } else {
                None
            };
            let (trace, stderr) = hutchinson_trace(&mut op, opts.trace_samples, opts.seed);
            let mut eigenvalues: Vec<f64> = bottom.iter().map(|r| r.value).collect();
            let mut residuals: Vec<f64> = bottom.iter().map(|r| r.residual).collect();
            for r in top.iter().rev() {
                eigenvalues.push(r.value);
                residuals.push(r.residual);
            }
            let lambda_max = top.first().or(bottom.last()).map_or(f64::NAN, |r| r.value);
            let lambda_min = bottom.first().map_or(f64::NAN, |r| r.value);
            let max_abs = lambda_max.abs().max(lambda_min.abs());
            // κ over |λ| > tol·max|λ|. When the spectrum is positive the smallest such |λ| is
            // λ_min itself; otherwise it lies inside the spectrum, which only the density's
            // nodes see (without a density κ is unknown: NaN, printed as null).
            let cut = ZERO_TOL * max_abs;
            let min_abs = if lambda_min > cut {
                lambda_min
            } else {
                density.as_ref().map_or(f64::NAN, |d| {
                    d.nodes
                        .iter()
                        .map(|v| v.abs())
                        .filter(|&a| a > cut)
                        .fold(f64::INFINITY, f64::min)
                })
            };
            let neg_weight = density.as_ref().map(|d| {
                d.nodes
                    .iter()
                    .zip(&d.weights)
                    .filter(|(l, _)| **l < -ZERO_TOL * max_abs)
                    .map(|(_, w)| w)
                    .sum::<f64>()
            });
            // Without a density, the count among the Ritz values found (a lower bound).
            let found = eigenvalues
                .iter()
                .filter(|&&v| v < -ZERO_TOL * max_abs)
                .count() as f64;
            let negative_fraction = neg_weight.unwrap_or(found / p as f64);
            Ok(HessianReport {
                params: p,
                method: Method::Lanczos,
                gauss_newton: problem.gauss_newton,
                lambda_max,
                lambda_min,
                negative_count: negative_fraction * p as f64,
                negative_fraction,
                condition_number: max_abs / min_abs,
                trace,
                trace_stderr: Some(stderr),
                residuals: Some(residuals),
                density,
                hessian_vector_products: op.products,
                top_vectors: top.into_iter().map(|r| r.vector).collect(),
                eigenvalues,
            })
        }
    }
}
