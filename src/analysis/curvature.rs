//! The curvature analysis: the Hessian spectrum of the training objective at θ (dense up to
//! [`MAX_DENSE_PARAMS`] parameters, else Lanczos, with an SLQ density when asked), the
//! per-layer make-up of the top eigenvectors, and the spectrum ready to plot.
//!
//! [`run`] is the one entry point: the app's curvature thread (`runtime::curvature`) runs the
//! [`Job::request`] of each θ sample training hands out, `nnlab hessian` the request its flags
//! describe; the same request gives the same [`Report`].

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::spectrum::Density;
use super::{Subject, check_cancel};
use crate::analysis::hessian::{
    MAX_DENSE_PARAMS, Method, Options, ZERO_TOL, analyse_reporting, hessian_problem,
};
use crate::analysis::stability::{OptimizerSnapshot, Readout};
use crate::data::Dataset;
use crate::net::Network;
use crate::optim::Regularization;

/// What stays fixed while an experiment trains: the network's structure and its training rows.
/// Built once per experiment and shared by every sample of it.
pub struct Objective {
    /// The network's structure.
    pub net: Network,
    /// The training rows J averages over.
    pub train: Dataset,
}

/// θ at one step, as the training worker hands it out.
pub struct Sample {
    /// The experiment the sample belongs to.
    pub objective: Arc<Objective>,
    /// θ at that step.
    pub theta: Vec<f64>,
    /// The training step.
    pub step: u64,
    /// The learning rate at that step (the edge of stability is 2/η).
    pub lr: f64,
    /// The regulariser of the objective at that step (its L2 term has curvature).
    pub regularization: Regularization,
    /// The experiment's seed (Lanczos and SLQ start vectors).
    pub seed: u64,
    /// The optimiser's rule and preconditioner at that step (the edge of stability); None:
    /// not known, no edge drawn.
    pub optimizer: Option<OptimizerSnapshot>,
}

/// A sample and how to analyse it.
pub struct Job {
    /// What to analyse.
    pub sample: Sample,
    /// Counts experiments (rebuilds and resets) on the asking side; answers carry it back.
    pub generation: u64,
    /// The Gauss–Newton matrix instead of the Hessian.
    pub gauss_newton: bool,
}

impl Job {
    /// What the app's Curvature tile computes for a sample: dense up to [`MAX_DENSE_PARAMS`]
    /// (every eigenvalue, drawn as a histogram), else Lanczos with an SLQ density (drawn as a
    /// curve); the layer shares of the top [`TOP_VECTORS`] eigenvectors.
    pub fn request(&self) -> Request<'_> {
        let s = &self.sample;
        let o = &*s.objective;
        Request {
            subject: Subject {
                net: &o.net,
                train: &o.train,
                theta: &s.theta,
                regularization: s.regularization,
                seed: s.seed,
            },
            step: s.step,
            lr: s.lr,
            gauss_newton: self.gauss_newton,
            method: None,
            k: TOP_VECTORS,
            density: o.net.n_params > MAX_DENSE_PARAMS,
            layer_shares: true,
        }
    }
}

impl Job {
    /// [`run`] the job's request, then the optimiser's edge of stability at the sample (the
    /// preconditioned sharpness is of the Hessian, whatever matrix the spectrum shows).
    pub fn run(
        &self,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<Report, String> {
        let mut report = run(&self.request(), progress, cancel)?;
        if let Some(opt) = &self.sample.optimizer {
            let s = &self.sample;
            let problem = hessian_problem(
                &s.objective.net,
                &s.theta,
                &s.objective.train,
                s.regularization.l2,
                false,
            );
            // The plain sharpness is the tile's λ_max only when the tile shows the Hessian.
            let lambda_max = if self.gauss_newton {
                crate::analysis::stability::sharpness(problem, None, s.seed).unwrap_or(f64::NAN)
            } else {
                report.lambda_max
            };
            report.stability = Some(crate::analysis::stability::readout(
                problem, opt, s.lr, lambda_max, s.seed,
            ));
        }
        Ok(report)
    }
}

/// Top eigenvectors whose per-layer make-up the app shows.
pub const TOP_VECTORS: usize = 3;
/// Bins of the eigenvalue histogram.
pub const BINS: usize = 48;
/// Most eigenpairs at each end (`k`): Lanczos takes at most 400 products, which resolve far
/// fewer extreme pairs than that.
pub const MAX_K: usize = 100;
/// Probes of Hutchinson's trace estimate (Lanczos).
pub const TRACE_SAMPLES: usize = 20;
/// Lanczos steps of the SLQ density.
pub const SLQ_STEPS: usize = 80;

/// One curvature analysis, everything it depends on spelled out.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The network, θ and rows.
    pub subject: Subject<'a>,
    /// The step θ belongs to and the learning rate there (reported back: the edge 2/η).
    pub step: u64,
    /// The learning rate at that step.
    pub lr: f64,
    /// The Gauss–Newton matrix instead of the Hessian (positive semi-definite).
    pub gauss_newton: bool,
    /// None: dense up to [`MAX_DENSE_PARAMS`] parameters, else Lanczos.
    pub method: Option<Method>,
    /// Eigenpairs at each end (Lanczos); the top values (and vectors) reported.
    pub k: usize,
    /// The spectral density by stochastic Lanczos quadrature.
    pub density: bool,
    /// Each top eigenvector's share per layer (dense: needs the eigenvectors, several times
    /// the cost of the eigenvalues alone).
    pub layer_shares: bool,
}

/// How far [`run`] is.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Hessian-vector products so far (Lanczos).
    pub products: usize,
}

/// How much of a unit eigenvector's squared norm lies in one layer, split by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LayerShare {
    /// The share in the layer's weights.
    pub weights: f64,
    /// The share in its biases.
    pub biases: f64,
    /// BatchNorm γ, β and PReLU α.
    pub other: f64,
}

/// The spectrum ready to plot: histogram bins of the exact eigenvalues (dense) or the SLQ
/// density as a curve. Points are [x, height]: bin centres (bars of the given widths) or curve
/// points (widths 0).
#[derive(Clone, Debug, Default)]
pub struct SpectrumPlot {
    /// True for the exact histogram, false for the SLQ density estimate.
    pub exact: bool,
    /// Over λ.
    pub linear: Vec<[f64; 2]>,
    /// Bar width of `linear` (0 for a curve).
    pub linear_width: f64,
    /// Over log10|λ|, positive and negative eigenvalues apart (|λ| ≤ tol·max|λ| left out).
    pub log_positive: Vec<[f64; 2]>,
    /// The same for the negative eigenvalues (over log10|λ|).
    pub log_negative: Vec<[f64; 2]>,
    /// Bar width of the log plots (0 for a curve).
    pub log_width: f64,
    /// Eigenvalues left out of the log plot as zero (dense only).
    pub zeros: usize,
}

/// The answer to a request (`nnlab hessian` prints it as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The step θ belongs to.
    pub step: u64,
    /// The learning rate there.
    pub lr: f64,
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
    /// Dense: exact count. Lanczos: the density's estimate P·(weight below 0), else the count
    /// among the Ritz values found.
    pub negative_count: f64,
    /// `negative_count` / P.
    pub negative_fraction: f64,
    /// max|λ| / min|λ| over the eigenvalues that are not zero.
    pub condition_number: f64,
    /// Dense: exact. Lanczos: Hutchinson's estimate.
    pub trace: f64,
    /// Lanczos: standard error of the trace estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_stderr: Option<f64>,
    /// Lanczos: residual bounds ‖Hx − λx‖ of the Ritz pairs (the order of `eigenvalues`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residuals: Option<Vec<f64>>,
    /// The spectral density by stochastic Lanczos quadrature, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density: Option<Density>,
    /// Directions pushed through the R-operator.
    pub hessian_vector_products: usize,
    /// The k largest eigenvalues (descending).
    pub top_values: Vec<f64>,
    /// Per top vector, per layer (when asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Vec<LayerShare>>,
    /// Drawn, not printed: derived from the eigenvalues or the density.
    #[serde(skip)]
    pub spectrum: SpectrumPlot,
    /// Wall time of the run (not in the JSON: it differs from run to run).
    #[serde(skip)]
    pub seconds: f64,
    /// The optimiser's stability threshold and the quantity it applies to (the app's tile;
    /// filled by [`Job::run`], not by [`run`]).
    #[serde(skip)]
    pub stability: Option<Result<Readout, String>>,
}

/// Run one curvature analysis on the calling thread. `cancel` is looked at before the work
/// starts (a spectrum is one indivisible computation).
pub fn run(
    req: &Request,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Report, String> {
    let start = Instant::now();
    let s = &req.subject;
    s.check()?;
    if !(1..=MAX_K).contains(&req.k) {
        return Err(format!("k must be between 1 and {MAX_K} (got {})", req.k));
    }
    check_cancel(cancel)?;
    let p = s.net.n_params;
    let method = req.method.unwrap_or(if p <= MAX_DENSE_PARAMS {
        Method::Dense
    } else {
        Method::Lanczos
    });
    let problem = hessian_problem(
        s.net,
        s.theta,
        s.train,
        s.regularization.l2,
        req.gauss_newton,
    );
    let opts = Options {
        method,
        k: req.k,
        density: req.density,
        slq_steps: SLQ_STEPS,
        slq_probes: 1,
        trace_samples: TRACE_SAMPLES,
        seed: s.seed,
        vectors: req.layer_shares,
    };
    let r = analyse_reporting(problem, opts, &mut |products| {
        progress(Progress { products })
    })?;
    let shares = if req.layer_shares {
        r.top_vectors
            .iter()
            .take(req.k)
            .map(|v| layer_shares(s.net, v))
            .collect()
    } else {
        Vec::new()
    };
    let mut top_values = r.eigenvalues.clone();
    top_values.sort_by(|a, b| b.total_cmp(a));
    top_values.truncate(req.k);
    let spectrum = match (&r.density, r.method) {
        (Some(d), Method::Lanczos) => density_plot(&d.grid, &d.density),
        _ => histogram_plot(&r.eigenvalues),
    };
    Ok(Report {
        step: req.step,
        lr: req.lr,
        params: r.params,
        method: r.method,
        gauss_newton: r.gauss_newton,
        lambda_max: r.lambda_max,
        lambda_min: r.lambda_min,
        negative_count: r.negative_count,
        negative_fraction: r.negative_fraction,
        condition_number: r.condition_number,
        trace: r.trace,
        trace_stderr: r.trace_stderr,
        residuals: r.residuals,
        density: r.density,
        hessian_vector_products: r.hessian_vector_products,
        top_values,
        shares,
        spectrum,
        seconds: start.elapsed().as_secs_f64(),
        eigenvalues: r.eigenvalues,
        stability: None,
    })
}

/// Each layer's share of ‖v‖² (θ layout: per layer W, b, then γ, β, α up to `end`).
pub fn layer_shares(net: &Network, v: &[f64]) -> Vec<LayerShare> {
    let total: f64 = v.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    let sq = |r: std::ops::Range<usize>| v[r].iter().map(|x| x * x).sum::<f64>() / total;
    net.layers
        .iter()
        .map(|l| {
            let weights = sq(l.w..l.w + l.n_weights());
            let biases = sq(l.b..l.b + l.units);
            let all = sq(l.w.min(l.b)..l.end);
            LayerShare {
                weights,
                biases,
                other: (all - weights - biases).max(0.0),
            }
        })
        .collect()
}

/// [lo, hi] widened when empty; the bin width.
fn bin_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo.is_finite() {
        let pad = lo.abs().max(1.0) * 1e-3;
        (lo - pad, lo + pad)
    } else {
        (0.0, 1.0)
    };
    (lo, (hi - lo) / BINS as f64)
}

/// `BINS` bins from `lo` of width `w`: [centre, count · scale / w] (a density when scale = 1/n).
fn bins(values: &[f64], lo: f64, w: f64, scale: f64) -> Vec<[f64; 2]> {
    if values.is_empty() {
        return Vec::new();
    }
    let mut counts = [0usize; BINS];
    for &v in values {
        let k = (((v - lo) / w).max(0.0) as usize).min(BINS - 1);
        counts[k] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(k, &c)| [lo + (k as f64 + 0.5) * w, c as f64 * scale / w])
        .collect()
}

/// Histograms of the exact eigenvalues: over λ, and over log10|λ| by sign. Heights are
/// fractions of all P eigenvalues per unit of x, so the curves of both signs share a scale.
pub fn histogram_plot(eigs: &[f64]) -> SpectrumPlot {
    let n = eigs.len().max(1) as f64;
    let lo = eigs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = eigs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let max_abs = lo.abs().max(hi.abs());
    let cut = ZERO_TOL * max_abs;
    let logs = |sign: f64| -> Vec<f64> {
        eigs.iter()
            .filter(|&&v| v * sign > cut)
            .map(|v| v.abs().log10())
            .collect()
    };
    let (pos, neg) = (logs(1.0), logs(-1.0));
    let llo = pos
        .iter()
        .chain(&neg)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let lhi = pos
        .iter()
        .chain(&neg)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, w) = bin_range(lo, hi);
    let (llo, lw) = bin_range(llo, lhi);
    SpectrumPlot {
        exact: true,
        linear: bins(eigs, lo, w, 1.0 / n),
        linear_width: w,
        log_positive: bins(&pos, llo, lw, 1.0 / n),
        log_negative: bins(&neg, llo, lw, 1.0 / n),
        log_width: lw,
        zeros: eigs.len() - pos.len() - neg.len(),
    }
}

/// The SLQ density over λ, and the same density over log10|λ| by sign
/// (p(log10|λ|) = p(λ)·|λ|·ln 10).
pub fn density_plot(grid: &[f64], density: &[f64]) -> SpectrumPlot {
    let max_abs = grid.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let cut = 1e-6 * max_abs;
    let side = |sign: f64| -> Vec<[f64; 2]> {
        let mut v: Vec<[f64; 2]> = grid
            .iter()
            .zip(density)
            .filter(|(l, _)| **l * sign > cut)
            .map(|(l, d)| [l.abs().log10(), d * l.abs() * std::f64::consts::LN_10])
            .collect();
        v.sort_by(|a, b| a[0].total_cmp(&b[0]));
        v
    };
    SpectrumPlot {
        exact: false,
        linear: grid.iter().zip(density).map(|(l, d)| [*l, *d]).collect(),
        linear_width: 0.0,
        log_positive: side(1.0),
        log_negative: side(-1.0),
        log_width: 0.0,
        zeros: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_eigenvalue_once() {
        let eigs = [-2.0, -1e-12, 0.0, 0.5, 1.0, 3.0];
        let h = histogram_plot(&eigs);
        // The bars' area is 1 (all eigenvalues).
        let area = |pts: &[[f64; 2]], w: f64| -> f64 { pts.iter().map(|p| p[1] * w).sum() };
        let all = area(&h.linear, h.linear_width);
        assert!((all - 1.0).abs() < 1e-9, "{all}");
        assert_eq!(h.zeros, 2);
        let pos = area(&h.log_positive, h.log_width);
        let neg = area(&h.log_negative, h.log_width);
        assert!((pos - 3.0 / 6.0).abs() < 1e-9, "{pos}");
        assert!((neg - 1.0 / 6.0).abs() < 1e-9, "{neg}");
    }
}
