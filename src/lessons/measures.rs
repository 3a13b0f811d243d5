//! Measurements a lesson needs that are not an analysis of their own: Cover's counting
//! function, the session's 2×2 curvature slice, dead units, the dynamics comparisons
//! (Newton, gradient flow, momentum energy, the strongly convex rate) on the session's
//! full-batch objective, and the geometry of the function (linear regions, is it affine on
//! them, the residual's bands against step, the Jacobian's singular-value spread).

use crate::analysis::dynamics::{
    NetObjective, NewtonOptions, Objective, flow_error_sweep, gd_vs_flow, gradient_flow,
    momentum_energy, newton,
};
use crate::analysis::jacobian::jacobian_spectrum;
use crate::analysis::outer_product::{self, numerical_rank, predicted_update};
use crate::analysis::regions::{InputBox, regions};
use crate::analysis::spectral_bias::{BandHistory, FourierBasis};
use crate::analysis::spectrum::dense_eigen;
use crate::error::{Error, Result};
use crate::net::features::Feature;
use crate::net::hmp::{HmpWorkspace, hessian_matrix_product};
use crate::net::linalg::{dot, view};
use crate::net::network::BnMode;
use crate::net::{Activation, Rows, Workspace};
use crate::optim::spec::OptimizerKind;
use crate::runtime::worker::plane_bounds;
use crate::train::Trainer;

/// Cover's function counting function C(N, d) = 2·Σ_{k<d} binom(N−1, k): how many of the 2^N
/// labellings of N points in general position in ℝᵈ a hyperplane through the origin realises
/// (affine separators in ℝᵈ⁻¹: use d = inputs + 1). Computed in f64 (exact below 2^53).
pub fn cover_count(n: u64, d: u64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    // binom(n−1, k) built up term by term: b_{k+1} = b_k·(n−1−k)/(k+1).
    let mut b = 1.0f64;
    let mut sum = 0.0;
    for k in 0..d.min(n) {
        sum += b;
        b = b * (n - 1 - k) as f64 / (k + 1) as f64;
    }
    2.0 * sum
}

/// C(N, d)/2^N, in log space so that N in the hundreds does not overflow.
pub fn cover_fraction(n: u64, d: u64) -> f64 {
    if d >= n {
        return 1.0;
    }
    // ln Σ_{k<d} binom(n−1, k) with log-sum-exp over ln binom.
    let ln_binom = |k: u64| -> f64 {
        (0..k)
            .map(|i| ((n - 1 - i) as f64).ln() - ((i + 1) as f64).ln())
            .sum()
    };
    let terms: Vec<f64> = (0..d).map(ln_binom).collect();
    let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let ln_sum = top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln();
    (std::f64::consts::LN_2 + ln_sum - n as f64 * std::f64::consts::LN_2).exp()
}

/// The two parameters the curvature slice spans: the first layer's first weight and the last
/// layer's first weight (w₁, w₂ of a 1-1-1 net); for a one-layer net its weight and bias.
fn slice_params(tr: &Trainer) -> (usize, usize) {
    let layers = &tr.net.layers;
    let first = layers[0].w;
    let last = layers.len() - 1;
    if last == 0 {
        (first, layers[0].b)
    } else {
        (first, layers[last].w)
    }
}

/// Fraction of a 101×101 grid over [−6, 6]² of the two slice parameters (every other
/// parameter 0) where the 2×2 block of the session objective's exact Hessian is indefinite:
/// its smaller eigenvalue below −1e-12 times the larger magnitude. One point of that set
/// already proves the objective is not convex.
pub fn indefinite_fraction(tr: &Trainer) -> Result<f64> {
    let p = tr.net.n_params;
    if p > 16 {
        return Err(Error::new(format!(
            "indefinite_fraction scans a grid of dense Hessians: at most 16 parameters (this net has {p})"
        )));
    }
    let (a, b) = slice_params(tr);
    let rows = Rows {
        x: &tr.train.x,
        y: &tr.train.y,
        classes: tr.train.classes,
    };
    let l2 = tr.regularization.l2;
    // H·e_a and H·e_b in one product of two directions: the 2×2 block is their entries a, b.
    let mut dirs = vec![0.0; 2 * p];
    dirs[a] = 1.0;
    dirs[p + b] = 1.0;
    let mut out = vec![0.0; 2 * p];
    let mut hw = HmpWorkspace::default();
    let grid = 101;
    let mut theta = vec![0.0; p];
    let mut indefinite = 0usize;
    for i in 0..grid {
        for j in 0..grid {
            theta[a] = -6.0 + 12.0 * j as f64 / (grid - 1) as f64;
            theta[b] = -6.0 + 12.0 * i as f64 / (grid - 1) as f64;
            hessian_matrix_product(&tr.net, &theta, rows, l2, &dirs, false, &mut hw, &mut out);
            let (haa, hab, hbb) = (out[a], 0.5 * (out[b] + out[p + a]), out[p + b]);
            let m = 0.5 * (haa + hbb);
            let d = (0.25 * (haa - hbb).powi(2) + hab * hab).sqrt();
            let (lo, hi) = (m - d, m + d);
            if lo < -1e-12 * hi.abs().max(lo.abs()) {
                indefinite += 1;
            }
        }
    }
    Ok(indefinite as f64 / (grid * grid) as f64)
}

/// Fraction of the hidden ReLU-family units that output 0 on every training row (dead: no
/// gradient reaches their incoming weights), and the norm of the gradient on those weights.
pub fn dead_units(tr: &mut Trainer) -> Result<(f64, f64)> {
    let rows = tr.train.rows();
    let mut ws = Workspace::default();
    tr.net
        .forward(&tr.theta, &tr.train.x, rows, &mut ws, BnMode::Batch, None);
    let (_, g) = tr.objective_and_gradient();
    let layers = &tr.net.layers;
    let (mut dead, mut total, mut grad2) = (0usize, 0usize, 0.0f64);
    for (i, l) in layers[..layers.len() - 1].iter().enumerate() {
        if !matches!(l.activation, Activation::Relu | Activation::LeakyRelu) {
            continue;
        }
        let u = &ws.layers[i].u;
        for j in 0..l.units {
            total += 1;
            if (0..rows).all(|r| u[r * l.units + j] <= 0.0) {
                dead += 1;
                let w = &g[l.w + j * l.fan_in..l.w + (j + 1) * l.fan_in];
                grad2 += dot(w, w) + g[l.b + j] * g[l.b + j];
            }
        }
    }
    if total == 0 {
        return Err(Error::new(
            "dead units are counted in relu or leaky_relu hidden layers; this net has none",
        ));
    }
    Ok((dead as f64 / total as f64, grad2.sqrt()))
}

/// max over hidden units and training rows of f′(u) at the current θ.
pub fn max_activation_slope(tr: &Trainer) -> f64 {
    let rows = tr.train.rows();
    let mut ws = Workspace::default();
    tr.net
        .forward(&tr.theta, &tr.train.x, rows, &mut ws, BnMode::Batch, None);
    let layers = &tr.net.layers;
    let mut best = 0.0f64;
    for (i, l) in layers[..layers.len() - 1].iter().enumerate() {
        let (u, f) = (&ws.layers[i].u, &ws.layers[i].f);
        for k in 0..rows * l.units {
            best = best.max(l.activation.deriv(u[k], f[k], l.param));
        }
    }
    best
}

fn objective_of(tr: &Trainer) -> NetObjective<'_> {
    let rows = Rows {
        x: &tr.train.x,
        y: &tr.train.y,
        classes: tr.train.classes,
    };
    NetObjective::new(&tr.net, rows, tr.regularization.l1, tr.regularization.l2)
}

/// Newton against GD (η = 1/λ_max) for `steps` iterations from θ₀: the fraction of the gap
/// J₀ − J* left after ONE Newton step, and after `steps` GD steps, J* the lowest loss either
/// method reached.
pub fn newton_vs_gd(tr: &Trainer, steps: u64) -> Result<(f64, f64)> {
    let mut obj = objective_of(tr);
    let opts = NewtonOptions {
        steps: steps.max(2) as usize,
        ..NewtonOptions::default()
    };
    let r = newton(&mut obj, &tr.theta, opts).map_err(Error::new)?;
    let best = r
        .loss_newton
        .iter()
        .chain(&r.loss_gd)
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let j0 = r.loss_newton[0];
    let gap = j0 - best;
    if gap.is_nan() || gap <= 0.0 {
        return Err(Error::new("θ₀ is already at the minimum: no gap to close"));
    }
    let after_one = (r.loss_newton[1] - best) / gap;
    let gd = (r.loss_gd.last().copied().unwrap_or(j0) - best) / gap;
    Ok((after_one, gd))
}

/// Log-log slope of ‖θ_GD − θ_flow‖ at t = T against η over η/8 … η (the session's η and T
/// = steps·η), and the largest ‖θ_GD,k − θ_flow(kη)‖ along the session's run relative to
/// the distance the flow travels in that time.
pub fn flow_departure(tr: &Trainer, steps: u64) -> Result<(f64, f64)> {
    let eta = tr.optimizer.spec().lr;
    let mut obj = objective_of(tr);
    let steps = steps.max(1) as usize;
    let time = steps as f64 * eta;
    let etas = [eta / 8.0, eta / 4.0, eta / 2.0, eta];
    let sweep = flow_error_sweep(&mut obj, &tr.theta, &etas, time, 16).map_err(Error::new)?;
    let run = gd_vs_flow(&mut obj, &tr.theta, eta, steps, 16).map_err(Error::new)?;
    let mut flow = tr.theta.clone();
    gradient_flow(&mut obj, &mut flow, eta / 16.0, 16 * run.steps);
    let travelled = flow
        .iter()
        .zip(&tr.theta)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let worst = run.error.iter().cloned().fold(0.0, f64::max);
    Ok((sweep.slope, worst / travelled))
}

/// Heavy-ball energy E = ½m‖θ̇‖² + J over `steps` steps with the session's η and μ: how
/// many steps E rose, and E_T/E_0.
pub fn momentum_energy_of(tr: &Trainer, steps: u64) -> Result<(f64, f64)> {
    let spec = tr.optimizer.spec();
    if spec.kind != OptimizerKind::Momentum {
        return Err(Error::new(
            "the momentum energy needs the momentum optimizer",
        ));
    }
    let mut obj = objective_of(tr);
    let r = momentum_energy(&mut obj, &tr.theta, spec.lr, spec.momentum, steps as usize)
        .map_err(Error::new)?;
    if r.diverged {
        return Ok((r.increases as f64, f64::INFINITY));
    }
    let e0 = r.steps.first().map_or(f64::NAN, |s| s.total);
    let et = r.steps.last().map_or(f64::NAN, |s| s.total);
    Ok((r.increases as f64, et / e0))
}

/// μ/L (smallest over largest Hessian eigenvalue at θ₀), J* = J₀ − ½Σ(v_k·g)²/λ_k of the
/// quadratic model, and (for `steps` GD steps with the session's η) the largest
/// (J_t − J*)/((1 − μ/L)^t (J₀ − J*)): at most 1 when the bound holds.
pub fn strong_convexity(tr: &mut Trainer, steps: u64) -> Result<(f64, f64)> {
    let p = tr.net.n_params;
    let mut obj = objective_of(tr);
    let h = obj.hessian(&tr.theta).map_err(Error::new)?;
    let (eigs, vecs) = dense_eigen(p, &h, true).map_err(Error::new)?;
    let (mu, l) = (eigs[0], eigs[p - 1]);
    if mu.is_nan() || mu <= 0.0 {
        return Err(Error::new(format!(
            "the objective is not strongly convex here (smallest Hessian eigenvalue {mu:.3e})"
        )));
    }
    let mut g = vec![0.0; p];
    let j0 = obj.value(&tr.theta, Some(&mut g));
    let jstar = j0
        - 0.5
            * vecs
                .iter()
                .zip(&eigs)
                .map(|(v, lam)| dot(v, &g).powi(2) / lam)
                .sum::<f64>();
    let gap0 = j0 - jstar;
    let eta = tr.optimizer.spec().lr;
    let rate = 1.0 - mu / l;
    let mut theta = tr.theta.clone();
    let mut worst = 0.0f64;
    for t in 1..=steps {
        for (th, gi) in theta.iter_mut().zip(&g) {
            *th -= eta * gi;
        }
        let j = obj.value(&theta, Some(&mut g));
        let bound = rate.powi(t as i32) * gap0;
        if !j.is_finite() {
            return Ok((mu / l, f64::INFINITY));
        }
        // Past 1e-10 of the start the gap is rounding, not the rate.
        if bound < 1e-10 * gap0 {
            break;
        }
        worst = worst.max((j - jstar) / bound);
    }
    Ok((mu / l, worst))
}

/// The input box the decision map shows: the data with an 8 % margin (1-D or 2-D inputs).
fn data_box(tr: &Trainer) -> Result<InputBox> {
    let ((x0, x1), (y0, y1)) = plane_bounds(&tr.train, &tr.test).ok_or_else(|| {
        Error::new(format!(
            "linear regions are measured on 1-D or 2-D inputs (the data has {})",
            tr.train.inputs
        ))
    })?;
    Ok(InputBox {
        x: (x0, x1),
        y: (y0, y1),
    })
}

/// The exact number of linear regions over the data box (analysis::regions); refuses a net
/// that is not piecewise linear, with the reason.
pub fn linear_regions(tr: &mut Trainer) -> Result<f64> {
    let bounds = data_box(tr)?;
    let bn = tr.train_bn_stats();
    let r = regions(&tr.net, &tr.theta, bn.as_ref(), bounds)?;
    Ok(r.regions.len() as f64)
}

/// Cells per side of the grid `region_affine_error` tests.
pub const AFFINE_GRID: usize = 64;
/// Most grid points × hidden units `region_affine_error` evaluates (≈ 16 B each).
const AFFINE_MAX_ENTRIES: usize = 8_000_000;

/// Is the network affine on each region of constant activation pattern? Over a 64-cell grid
/// of the data box, every square (2-D) or interval (1-D) whose corners and centre share the
/// pattern of hidden signs (u > 0, per unit of each hidden layer with a kink) is tested:
/// an affine f has f(centre) equal to the mean of f at either diagonal's two ends. Returns the
/// largest miss over those cells and the output units (pre-activations), relative to
/// max(1, max |u|).
///
/// Exact for piecewise-linear nets, not a sample: the set of one pattern is convex (an
/// intersection of half-planes, layer by layer), so a cell whose corners share the pattern
/// lies inside one region. Any activation may be tested — a tanh net is measured on the cells
/// of its sign pattern, where it is curved.
pub fn region_affine_error(tr: &mut Trainer) -> Result<f64> {
    let net = &tr.net;
    let d = net.inputs;
    if let Some(f) = net.features.iter().find(|f| !matches!(f, Feature::Raw(_))) {
        return Err(Error::new(format!(
            "region_affine_error tests the raw inputs; the feature {} bends the cells",
            f.label()
        )));
    }
    let bounds = data_box(tr)?;
    let g = AFFINE_GRID;
    let corners = if d == 1 { g + 1 } else { (g + 1) * (g + 1) };
    let centres = if d == 1 { g } else { g * g };
    let points = corners + centres;
    let units: usize = net.layers.iter().map(|l| l.units).sum();
    if units.saturating_mul(points) > AFFINE_MAX_ENTRIES {
        return Err(Error::new(format!(
            "region_affine_error evaluates {points} grid points: at most {} units in all (the network has {units})",
            AFFINE_MAX_ENTRIES / points
        )));
    }
    let at = |lo: f64, hi: f64, i: f64| lo + (hi - lo) * i / g as f64;
    let mut x = Vec::with_capacity(points * d);
    if d == 1 {
        for i in 0..=g {
            x.push(at(bounds.x.0, bounds.x.1, i as f64));
        }
        for i in 0..g {
            x.push(at(bounds.x.0, bounds.x.1, i as f64 + 0.5));
        }
    } else {
        for iy in 0..=g {
            for ix in 0..=g {
                x.push(at(bounds.x.0, bounds.x.1, ix as f64));
                x.push(at(bounds.y.0, bounds.y.1, iy as f64));
            }
        }
        for iy in 0..g {
            for ix in 0..g {
                x.push(at(bounds.x.0, bounds.x.1, ix as f64 + 0.5));
                x.push(at(bounds.y.0, bounds.y.1, iy as f64 + 0.5));
            }
        }
    }
    let bn = tr.train_bn_stats();
    let mode = match &bn {
        Some(s) => BnMode::Fixed(s),
        None => BnMode::Batch,
    };
    let mut ws = Workspace::default();
    tr.net.forward(&tr.theta, &x, points, &mut ws, mode, None);
    let layers = &tr.net.layers;
    let last = layers.len() - 1;
    let same_pattern = |p: usize, q: usize| {
        layers[..last].iter().enumerate().all(|(li, l)| {
            l.activation == Activation::Identity || {
                let u = view(points, l.units, &ws.layers[li].u);
                u.row(p)
                    .iter()
                    .zip(u.row(q))
                    .all(|(a, b)| (*a > 0.0) == (*b > 0.0))
            }
        })
    };
    let k = layers[last].units;
    let out = &ws.layers[last].u;
    let f = |p: usize, j: usize| out[p * k + j];
    let scale = out[..points * k].iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let (mut worst, mut tested) = (0.0f64, 0usize);
    for c in 0..centres {
        let centre = corners + c;
        // The cell's corners; each diagonal is (ends[0], ends[3]) and (ends[1], ends[2]).
        let ends: Vec<usize> = if d == 1 {
            vec![c, c + 1]
        } else {
            let (ix, iy) = (c % g, c / g);
            let p = iy * (g + 1) + ix;
            vec![p, p + 1, p + g + 1, p + g + 2]
        };
        if !ends.iter().all(|&e| same_pattern(e, centre)) {
            continue;
        }
        tested += 1;
        let diagonals: &[(usize, usize)] = if d == 1 { &[(0, 1)] } else { &[(0, 3), (1, 2)] };
        for j in 0..k {
            for &(a, b) in diagonals {
                let miss = (f(centre, j) - 0.5 * (f(ends[a], j) + f(ends[b], j))).abs();
                worst = worst.max(miss);
            }
        }
    }
    if tested == 0 {
        return Err(Error::new(
            "no grid cell lies inside one activation pattern: the regions are finer than the grid",
        ));
    }
    Ok(worst / scale)
}

/// Relative error below which a band counts as learned (as `nnlab spectral-bias`'s default).
pub const BAND_THRESHOLD: f64 = 0.1;
/// A target peak carries at least this share of the largest (as `nnlab spectral-bias`).
const BAND_PEAK_SHARE: f64 = 0.1;
/// Frequencies analysed, k = 0 … 31 cycles over the input interval.
const BAND_FREQUENCIES: usize = 32;
/// The spectrum is recorded every this many steps (and at step 0).
pub const BAND_EVERY: u64 = 10;

/// The residual's relative error at each of the target's frequency peaks, recorded during a
/// lesson's run (THEORY row 36).
pub struct BandRecorder {
    basis: FourierBasis,
    x: Vec<f64>,
    pub history: BandHistory,
}

impl BandRecorder {
    /// The target's spectrum over the training inputs, and the errors at the current θ.
    /// 1-D regression only.
    pub fn new(tr: &mut Trainer) -> Result<BandRecorder> {
        if tr.train.inputs != 1 || tr.train.classes != 0 {
            return Err(Error::new(format!(
                "the bands are measured on 1-D regression data (this has {} input(s){})",
                tr.train.inputs,
                if tr.train.classes == 0 {
                    ""
                } else {
                    " and class labels"
                }
            )));
        }
        let x = tr.train.x.clone();
        let basis = FourierBasis::new(&x, &tr.train.y, BAND_FREQUENCIES)?;
        let history = BandHistory {
            frequencies: basis.peaks(BAND_PEAK_SHARE),
            ..BandHistory::default()
        };
        let mut r = BandRecorder { basis, x, history };
        r.record(tr);
        Ok(r)
    }

    /// Record after a step when the step is a multiple of `BAND_EVERY` (or `force`).
    pub fn observe(&mut self, tr: &mut Trainer, force: bool) {
        if force || tr.step.is_multiple_of(BAND_EVERY) {
            self.record(tr);
        }
    }

    fn record(&mut self, tr: &mut Trainer) {
        if self.history.steps.last() == Some(&tr.step) {
            return;
        }
        let f = tr.predict(&self.x, self.x.len());
        let e = self.basis.relative_errors(&f, &self.history.frequencies);
        self.history.steps.push(tr.step);
        self.history.errors.push(e);
    }
}

/// std(σ)/mean(σ) of the singular values of ∂h⁽ᴸ⁾/∂h⁽¹⁾ (first hidden layer to the last) over
/// the first 64 training rows: 0 for perfect dynamical isometry.
pub fn jacobian_spread(tr: &mut Trainer) -> Result<f64> {
    let rows = tr.train.rows().min(64);
    let d = tr.train.inputs;
    let bn = tr.train_bn_stats();
    let x = tr.train.x[..rows * d].to_vec();
    let r = jacobian_spectrum(&tr.net, &tr.theta, bn.as_ref(), &x, rows)?;
    r.depths
        .last()
        .map(|s| s.spread)
        .ok_or_else(|| Error::new("the Jacobian spread needs at least two hidden layers"))
}

/// Singular values below this share of the largest do not count towards an update's rank.
pub const RANK_TOL: f64 = 1e-9;

/// One more training step, compared with −η (1/m) Σ δ aᵀ over its batch at the θ before it
/// (THEORY row 32): the largest |ΔW − prediction| over every layer's weights relative to the
/// largest |ΔW|, and the largest numerical rank of a layer's ΔW.
pub fn next_update(tr: &mut Trainer) -> Result<(f64, f64)> {
    if let Some(why) = outer_product::not_applicable(&tr.net) {
        return Err(Error::new(why));
    }
    let before = tr.theta.clone();
    let lr = tr.optimizer.learning_rate();
    if tr.step().diverged {
        return Err(Error::new(
            "the step diverged: there is no update to compare",
        ));
    }
    let (x, y) = tr.last_batch();
    let rows = Rows {
        x,
        y,
        classes: tr.train.classes,
    };
    let predicted = predicted_update(&tr.net, &before, rows, lr)?;
    let (mut miss, mut scale, mut rank) = (0.0f64, 0.0f64, 0usize);
    for (l, p) in tr.net.layers.iter().zip(&predicted) {
        let delta: Vec<f64> = (l.w..l.w + l.n_weights())
            .map(|i| tr.theta[i] - before[i])
            .collect();
        for (d, q) in delta.iter().zip(p) {
            miss = miss.max((d - q).abs());
            scale = scale.max(d.abs());
        }
        rank = rank.max(numerical_rank(&delta, l.units, l.fan_in, RANK_TOL)?);
    }
    if scale == 0.0 {
        return Err(Error::new("the step did not move the weights"));
    }
    Ok((miss / scale, rank as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_counts_match_small_cases_by_hand() {
        // 4 points in the plane (d = 3 with the bias): 14 of the 16 labellings; XOR and its
        // complement are the two a line cannot make.
        assert_eq!(cover_count(4, 3), 14.0);
        assert_eq!(cover_count(4, 4), 16.0);
        // N ≤ d: every labelling.
        assert_eq!(cover_count(3, 3), 8.0);
        // Cover's N = 2d: exactly half.
        assert_eq!(cover_count(10, 5) / 1024.0, 0.5);
        assert!((cover_fraction(10, 5) - 0.5).abs() < 1e-12);
        assert!((cover_fraction(4, 3) - 14.0 / 16.0).abs() < 1e-12);
        assert!(cover_fraction(200, 3) < 1e-50);
    }

    fn one_one_one(loss: &str, out: &str, y: f64) -> Trainer {
        let text = format!(
            r#"{{"nnlab": 1, "seed": 1, "loss": "{loss}",
               "data": {{"source": "inline", "x": [[1]], "y": [{y}], "test_fraction": 0,
                        "task": "{task}"}},
               "network": {{"inputs": 1, "init": "zeros", "layers": [
                   {{"units": 1, "activation": "sigmoid"}}, {{"units": 1, "activation": "{out}"}}]}},
               "optimizer": {{"kind": "gd", "lr": 0.1, "batch_size": 1}}}}"#,
            task = if loss == "mse" {
                "regression"
            } else {
                "classification"
            }
        );
        let session = crate::session::parse(&text).unwrap();
        let (train, test) = crate::session::build_data(&session, None).unwrap();
        Trainer::new(&session.trainer_config(), train, test, None).unwrap()
    }

    #[test]
    fn the_session_slice_matches_the_closed_form_one_one_one_surface() {
        use crate::analysis::landscape::one_one_one::{TinyLoss, surface};
        for (loss, out, y, tiny) in [
            ("mse", "identity", 0.0, TinyLoss::Mse),
            ("bce", "sigmoid", 1.0, TinyLoss::CrossEntropy),
        ] {
            let tr = one_one_one(loss, out, y);
            let measured = indefinite_fraction(&tr).unwrap();
            let closed = surface(tiny, &[1.0], &[y], (-6.0, 6.0), (-6.0, 6.0), 101)
                .unwrap()
                .indefinite_fraction;
            // The closed form counts det < 0; points with det within rounding of 0 may differ.
            assert!(
                (measured - closed).abs() <= 3.0 / (101.0 * 101.0),
                "{loss}: {measured} against {closed}"
            );
            assert!(measured > 0.05, "{loss}: {measured}");
        }
    }

    fn trainer(data: &str, network: &str) -> Trainer {
        trainer_with(data, network, "null")
    }

    fn trainer_with(data: &str, network: &str, params: &str) -> Trainer {
        let text = format!(
            r#"{{"nnlab": 1, "seed": 3, "loss": "mse", "data": {data}, "network": {network},
               "params": {params},
               "optimizer": {{"kind": "gd", "lr": 0.1, "batch_size": 8}}}}"#
        );
        let session = crate::session::parse(&text).unwrap();
        let (train, test) = crate::session::build_data(&session, None).unwrap();
        Trainer::new(
            &session.trainer_config(),
            train,
            test,
            session.params.clone(),
        )
        .unwrap()
    }

    /// x = −1 … 1 in 8 rows: the data box is [−1.16, 1.16].
    const LINE: &str = r#"{"source": "inline", "x": [[-1], [-0.7], [-0.4], [-0.1], [0.1], [0.4], [0.7], [1]],
        "y": [0, 0, 0, 0, 1, 1, 1, 1], "task": "regression", "test_fraction": 0}"#;

    #[test]
    fn one_d_relu_units_with_breakpoints_inside_the_box_give_n_plus_one_regions() {
        // Three units relu(x − b) with b = −0.5, 0.2, 0.9: three breakpoints, four pieces.
        let net = r#"{"inputs": 1, "layers": [{"units": 3, "activation": "relu"},
            {"units": 1, "activation": "identity"}]}"#;
        let mut tr = trainer_with(LINE, net, "[1, 1, 1, 0.5, -0.2, -0.9, 1, -2, 3, 0]");
        assert_eq!(linear_regions(&mut tr).unwrap(), 4.0);
        // Piecewise linear: affine on every cell of one pattern, to rounding.
        assert!(region_affine_error(&mut tr).unwrap() < 1e-14);
    }

    #[test]
    fn a_tanh_unit_misses_affinity_by_its_closed_form_curvature() {
        // f(x) = tanh(x): on the cell [a, a + h] the test's miss is
        // |tanh(a + h/2) − (tanh a + tanh(a + h))/2|; the largest over the cells of one sign.
        let net = r#"{"inputs": 1, "layers": [{"units": 1, "activation": "tanh"},
            {"units": 1, "activation": "identity"}]}"#;
        let mut tr = trainer_with(LINE, net, "[1, 0, 1, 0]");
        let measured = region_affine_error(&mut tr).unwrap();
        let (lo, hi) = (-1.16, 1.16);
        let h = (hi - lo) / AFFINE_GRID as f64;
        let mut want = 0.0f64;
        for i in 0..AFFINE_GRID {
            let a = lo + (hi - lo) * i as f64 / AFFINE_GRID as f64;
            let b = lo + (hi - lo) * (i + 1) as f64 / AFFINE_GRID as f64;
            let m = lo + (hi - lo) * (i as f64 + 0.5) / AFFINE_GRID as f64;
            if (a > 0.0) == (b > 0.0) && (a > 0.0) == (m > 0.0) {
                want = want.max((m.tanh() - 0.5 * (a.tanh() + b.tanh())).abs());
            }
        }
        // max |f''| h²/8 ≈ 0.77·h²/8 ≈ 1.3e-4: far above rounding.
        assert!(want > 1e-4 && want < 2e-4, "{want} (h = {h})");
        assert!((measured - want).abs() < 1e-12, "{measured} against {want}");
        // And it is not piecewise linear: the exact count refuses, naming tanh.
        let e = linear_regions(&mut tr).unwrap_err();
        assert!(e.message.contains("tanh"), "{}", e.message);
    }

    #[test]
    fn the_band_recorder_finds_the_targets_frequencies() {
        // 64 uniform points over one period: sin(2πx·1) + 0.5 sin(2πx·4) has peaks k = 1, 4,
        // and a zero network leaves relative error exactly 1 at both.
        let n = 64;
        let xs: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let tau = std::f64::consts::TAU;
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| (tau * x).sin() + 0.5 * (4.0 * tau * x).sin())
            .collect();
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
        let data = format!(
            r#"{{"source": "inline", "x": {}, "y": {}, "task": "regression", "test_fraction": 0}}"#,
            serde_json::to_string(&rows).unwrap(),
            serde_json::to_string(&ys).unwrap()
        );
        let net =
            r#"{"inputs": 1, "init": "zeros", "layers": [{"units": 1, "activation": "identity"}]}"#;
        let mut tr = trainer(&data, net);
        let r = BandRecorder::new(&mut tr).unwrap();
        assert_eq!(r.history.frequencies, vec![1, 4]);
        assert_eq!(r.history.steps, vec![0]);
        for e in &r.history.errors[0] {
            assert!((e - 1.0).abs() < 1e-12, "{e}");
        }
    }

    #[test]
    fn orthogonal_identity_layers_are_an_exact_isometry() {
        // Orthogonal weights with gain 1 and identity activations: J = W_L ⋯ W_2 is
        // orthogonal, every singular value 1, spread 0 (to rounding).
        let net = r#"{"inputs": 1, "init": "orthogonal", "init_scale": 1.0, "layers": [
            {"units": 6, "activation": "identity"}, {"units": 6, "activation": "identity"},
            {"units": 6, "activation": "identity"}, {"units": 6, "activation": "identity"},
            {"units": 1, "activation": "identity"}]}"#;
        let mut tr = trainer(LINE, net);
        assert!(jacobian_spread(&mut tr).unwrap() < 1e-12);
        let gaussian = net
            .replace("orthogonal", "normal")
            .replace("1.0", "0.4082482904638631");
        let mut tr = trainer(LINE, &gaussian);
        assert!(jacobian_spread(&mut tr).unwrap() > 0.1);
    }

    #[test]
    fn a_one_example_sgd_step_is_one_outer_product_and_adams_is_not() {
        // 2-3-3-1 tanh, one row per step: ΔW = −η δ aᵀ exactly (rank 1 in every layer).
        let data = r#"{"source": "xor", "n": 40, "noise": 0.0, "test_fraction": 0}"#;
        let net = |kind: &str| {
            let text = format!(
                r#"{{"nnlab": 1, "seed": 2, "loss": "bce", "data": {data},
                   "network": {{"inputs": 2, "layers": [{{"units": 3, "activation": "tanh"}},
                     {{"units": 3, "activation": "tanh"}}, {{"units": 1, "activation": "sigmoid"}}]}},
                   "optimizer": {{"kind": "{kind}", "lr": 0.05, "batch_size": 1}}}}"#
            );
            let session = crate::session::parse(&text).unwrap();
            let (train, test) = crate::session::build_data(&session, None).unwrap();
            Trainer::new(&session.trainer_config(), train, test, None).unwrap()
        };
        let mut sgd = net("sgd");
        for _ in 0..5 {
            sgd.step();
        }
        let (miss, rank) = next_update(&mut sgd).unwrap();
        assert!(miss < 1e-12, "{miss}");
        assert_eq!(rank, 1.0);
        let mut adam = net("adam");
        for _ in 0..5 {
            adam.step();
        }
        let (miss, rank) = next_update(&mut adam).unwrap();
        assert!(miss > 0.1 && rank > 1.0, "{miss} {rank}");
    }
}
