//! The live curvature analysis: the Hessian spectrum of the training objective at a θ sample
//! (dense up to [`MAX_DENSE_PARAMS`] parameters, else Lanczos with an SLQ density), the
//! per-layer make-up of the top eigenvectors, and the spectrum ready to plot. The app's
//! curvature thread (`runtime::curvature`) runs [`analyse`] on the samples training hands out.

use std::sync::Arc;
use std::time::Instant;

use crate::analysis::hessian::{
    self, MAX_DENSE_PARAMS, Method, Options, ZERO_TOL, hessian_problem,
};
use crate::data::Dataset;
use crate::net::Network;

/// What stays fixed while an experiment trains: the network's structure and its training rows.
/// Built once per experiment and shared by every sample of it.
pub struct Objective {
    pub net: Network,
    pub train: Dataset,
}

/// θ at one step, as the training worker hands it out.
pub struct Sample {
    pub objective: Arc<Objective>,
    pub theta: Vec<f64>,
    pub step: u64,
    /// The learning rate at that step (the edge of stability is 2/η).
    pub lr: f64,
    /// The L2 coefficient of the objective at that step.
    pub l2: f64,
}

/// A sample and how to analyse it.
pub struct Job {
    pub sample: Sample,
    /// Counts experiments (rebuilds and resets) on the asking side; answers carry it back.
    pub generation: u64,
    pub gauss_newton: bool,
}

/// Top eigenvectors whose per-layer make-up is reported.
pub const TOP_VECTORS: usize = 3;
/// Bins of the eigenvalue histogram.
pub const BINS: usize = 48;

/// How much of a unit eigenvector's squared norm lies in one layer, split by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LayerShare {
    pub weights: f64,
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
    pub linear_width: f64,
    /// Over log10|λ|, positive and negative eigenvalues apart (|λ| ≤ tol·max|λ| left out).
    pub log_positive: Vec<[f64; 2]>,
    pub log_negative: Vec<[f64; 2]>,
    pub log_width: f64,
    /// Eigenvalues left out of the log plot as zero (dense only).
    pub zeros: usize,
}

/// The answer for one sample.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub step: u64,
    pub lr: f64,
    pub params: usize,
    pub method: Method,
    pub gauss_newton: bool,
    pub seconds: f64,
    pub lambda_max: f64,
    pub lambda_min: f64,
    /// Exact for dense; the SLQ estimate for Lanczos.
    pub negative_count: f64,
    pub condition_number: f64,
    pub trace: f64,
    /// Eigenvalues of the top vectors (descending).
    pub top_values: Vec<f64>,
    /// Per top vector, per layer.
    pub shares: Vec<Vec<LayerShare>>,
    pub spectrum: SpectrumPlot,
}

/// Dense up to [`MAX_DENSE_PARAMS`], else Lanczos with an SLQ density.
pub fn options_for(params: usize, seed: u64) -> Options {
    let dense = params <= MAX_DENSE_PARAMS;
    Options {
        method: if dense {
            Method::Dense
        } else {
            Method::Lanczos
        },
        k: TOP_VECTORS,
        density: !dense,
        slq_steps: 80,
        slq_probes: 1,
        trace_samples: 10,
        seed,
        vectors: true,
    }
}

/// Analyse one job (on the calling thread).
pub fn analyse(job: &Job) -> Result<Analysis, String> {
    let s = &job.sample;
    let obj = &*s.objective;
    if s.theta.len() != obj.net.n_params {
        return Err(format!(
            "θ has {} values but the network has {} parameters",
            s.theta.len(),
            obj.net.n_params
        ));
    }
    if s.theta.iter().any(|v| !v.is_finite()) {
        return Err("θ is not finite (training diverged)".into());
    }
    let start = Instant::now();
    let problem = hessian_problem(&obj.net, &s.theta, &obj.train, s.l2, job.gauss_newton);
    let report = hessian::analyse(problem, options_for(obj.net.n_params, s.step))?;
    let shares = report
        .top_vectors
        .iter()
        .take(TOP_VECTORS)
        .map(|v| layer_shares(&obj.net, v))
        .collect();
    let top_values = match report.method {
        Method::Dense => report.eigenvalues.iter().rev().copied().collect(),
        Method::Lanczos => {
            let mut v = report.eigenvalues.clone();
            v.sort_by(|a, b| b.total_cmp(a));
            v
        }
    };
    let spectrum = match (&report.density, report.method) {
        (Some(d), Method::Lanczos) => density_plot(&d.grid, &d.density),
        _ => histogram_plot(&report.eigenvalues),
    };
    Ok(Analysis {
        step: s.step,
        lr: s.lr,
        params: report.params,
        method: report.method,
        gauss_newton: report.gauss_newton,
        seconds: start.elapsed().as_secs_f64(),
        lambda_max: report.lambda_max,
        lambda_min: report.lambda_min,
        negative_count: report.negative_count,
        condition_number: report.condition_number,
        trace: report.trace,
        top_values: top_values.into_iter().take(TOP_VECTORS).collect(),
        shares,
        spectrum,
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
