//! Newton and damped-Newton steps for small networks (THEORY #23; seed 003: preconditioning
//! by H equalises the decay rates).
//!
//!   θ ← θ − α (H̃ + λI)⁻¹ ∇J(θ),
//!
//! with the dense Hessian H = Σ λ_k v_k v_kᵀ (exact, [`super::Objective::hessian`]) solved
//! through its eigendecomposition (faer): (H̃ + λI)⁻¹g = Σ_k v_k (v_kᵀg)/(λ̃_k + λ).
//!
//! **Indefinite H.** A plain Newton step moves *towards* a saddle along negative-curvature
//! directions. The report always says how many eigenvalues are negative; the step then uses
//! * [`IndefiniteRule::SaddleFree`] (default): λ̃_k = |λ_k| (Dauphin et al. 2014, "saddle-free
//!   Newton"): the same step length as Newton in every direction but always downhill; or
//! * [`IndefiniteRule::Shift`]: λ̃_k = λ_k and, when H + λI is not positive definite, the
//!   damping replaced by −λ_min + max(λ, 1e-3·max|λ|): the shifted spectrum starts at
//!   max(λ, 1e-3·max|λ|) instead of at λ_min (Levenberg–Marquardt). A shift to just above
//!   −λ_min would leave a near-zero curvature and an enormous step along that direction.
//!
//! For a positive definite H both equal the damped Newton step. Directions whose λ̃_k + λ is
//! below 1e-12·max|λ| (a flat direction, undamped) are left out: the pseudo-inverse.
//!
//! On a quadratic, the error along v_k after one step is multiplied by 1 − αλ_k/(λ̃_k + λ),
//! which is 0 for every k when α = 1, λ = 0: one Newton step lands on the minimum. Gradient
//! descent multiplies it by 1 − ηλ_k: the rates |1 − ηλ_k| spread out as κ grows.

use serde::Serialize;

use super::Objective;
use crate::analysis::spectrum::dense_eigen;

/// How Newton treats an indefinite Hessian (also `nnlab dynamics --rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum IndefiniteRule {
    /// Use |λ_k| + λ (saddle-free Newton).
    #[default]
    SaddleFree,
    /// Use λ_k + λ, raising the damping above −λ_min when H + λI is not positive definite.
    Shift,
}

/// How the Newton steps are taken and compared with GD.
#[derive(Clone, Copy, Debug)]
pub struct NewtonOptions {
    /// Step scale α ∈ (0, 1] (1 = full Newton).
    pub alpha: f64,
    /// Damping λ ≥ 0.
    pub damping: f64,
    /// Newton iterations (and as many GD steps).
    pub steps: usize,
    /// What to do where H is indefinite.
    pub rule: IndefiniteRule,
    /// GD learning rate for the comparison; default 1/λ_max at θ₀.
    pub gd_eta: Option<f64>,
    /// Halve α (up to 30 times) until the step lowers J.
    pub line_search: bool,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions {
            alpha: 1.0,
            damping: 0.0,
            steps: 1,
            rule: IndefiniteRule::SaddleFree,
            gd_eta: None,
            line_search: false,
        }
    }
}

/// Newton against GD from the same θ₀: per-direction rates and the losses.
#[derive(Clone, Debug, Serialize)]
pub struct NewtonReport {
    /// (The dynamics report's `params` says it in the JSON.)
    #[serde(skip)]
    pub params: usize,
    /// The step scale α asked for.
    pub alpha: f64,
    /// The damping λ asked for.
    pub damping: f64,
    /// The indefinite-Hessian rule.
    pub rule: IndefiniteRule,
    /// Eigenvalues of H at θ₀, ascending.
    pub eigenvalues: Vec<f64>,
    /// Eigenvalues below zero.
    pub negative_count: usize,
    /// H at θ₀ has negative eigenvalues.
    pub indefinite: bool,
    /// Damping actually applied at θ₀ (the shift rule may raise it).
    pub damping_used: f64,
    /// η of the GD comparison. The rates below are, per eigendirection at θ₀ (same order as
    /// the eigenvalues), the factor one step multiplies the error by on the local quadratic
    /// model.
    pub gd_eta: f64,
    /// |1 − ηλ_k| per eigendirection.
    pub gd_rates: Vec<f64>,
    /// |1 − αλ_k/(λ̃_k + λ)| per eigendirection.
    pub newton_rates: Vec<f64>,
    /// J after 0 … steps Newton iterations.
    pub loss_newton: Vec<f64>,
    /// J after 0 … steps GD steps.
    pub loss_gd: Vec<f64>,
    /// ‖∇J‖ after 0 … steps Newton iterations.
    pub grad_norm_newton: Vec<f64>,
    /// α actually used by each Newton step (differs from `alpha` with the line search).
    pub alphas: Vec<f64>,
    /// θ after the Newton steps.
    #[serde(skip)]
    pub theta: Vec<f64>,
}

/// The modified curvature λ̃_k + λ_used of each eigenvalue, and λ_used.
fn modified(eigs: &[f64], damping: f64, rule: IndefiniteRule) -> (Vec<f64>, f64) {
    let max_abs = eigs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    match rule {
        IndefiniteRule::SaddleFree => (eigs.iter().map(|l| l.abs() + damping).collect(), damping),
        IndefiniteRule::Shift => {
            let lmin = eigs.iter().cloned().fold(f64::INFINITY, f64::min);
            let d = if lmin + damping <= 0.0 {
                -lmin + damping.max(1e-3 * max_abs)
            } else {
                damping
            };
            (eigs.iter().map(|l| l + d).collect(), d)
        }
    }
}

/// Newton / damped-Newton iterations from θ₀ next to as many GD steps.
pub fn newton(
    obj: &mut dyn Objective,
    theta0: &[f64],
    opts: NewtonOptions,
) -> Result<NewtonReport, String> {
    let n = obj.dim();
    if theta0.len() != n {
        return Err(format!("θ has {} values, the objective {n}", theta0.len()));
    }
    if !(opts.alpha.is_finite() && opts.alpha > 0.0) {
        return Err(format!(
            "alpha must be finite and positive (got {})",
            opts.alpha
        ));
    }
    if !(opts.damping.is_finite() && opts.damping >= 0.0) {
        return Err(format!(
            "damping must be finite and ≥ 0 (got {})",
            opts.damping
        ));
    }
    obj.check_memory("Newton's method", 6, opts.steps.saturating_mul(4))?;
    let mut theta = theta0.to_vec();
    let mut g = vec![0.0; n];
    let j0 = obj.value(&theta, Some(&mut g));
    let mut loss_newton = vec![j0];
    let mut grad_norm_newton = vec![norm(&g)];
    let mut alphas = Vec::with_capacity(opts.steps);
    let mut first: Option<(Vec<f64>, Vec<f64>, f64)> = None;
    let mut trial = vec![0.0; n];
    let mut dir = vec![0.0; n];
    for _ in 0..opts.steps.max(1) {
        let h = obj.hessian(&theta)?;
        let (eigs, vecs) = dense_eigen(n, &h, true)?;
        let (curv, used) = modified(&eigs, opts.damping, opts.rule);
        let max_abs = eigs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        dir.fill(0.0);
        for (v, &c) in vecs.iter().zip(&curv) {
            if c <= 1e-12 * max_abs.max(f64::MIN_POSITIVE) {
                continue;
            }
            let coef = dot(v, &g) / c;
            for (d, vi) in dir.iter_mut().zip(v) {
                *d += coef * vi;
            }
        }
        if first.is_none() {
            first = Some((eigs.clone(), curv.clone(), used));
            if opts.steps == 0 {
                break;
            }
        }
        let j = *loss_newton.last().unwrap_or(&j0);
        let mut alpha = opts.alpha;
        let mut jt;
        let mut tries = 0;
        loop {
            for i in 0..n {
                trial[i] = theta[i] - alpha * dir[i];
            }
            jt = obj.value(&trial, Some(&mut g));
            if !opts.line_search || jt <= j || tries >= 30 {
                break;
            }
            alpha *= 0.5;
            tries += 1;
        }
        theta.copy_from_slice(&trial);
        alphas.push(alpha);
        loss_newton.push(jt);
        grad_norm_newton.push(norm(&g));
        if !jt.is_finite() {
            break;
        }
    }
    let (eigs, curv, damping_used) = first.unwrap_or_default();
    let lmax = eigs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let gd_eta = opts
        .gd_eta
        .unwrap_or(if lmax > 0.0 { 1.0 / lmax } else { 1e-2 });
    let gd_rates = eigs.iter().map(|l| (1.0 - gd_eta * l).abs()).collect();
    let newton_rates = eigs
        .iter()
        .zip(&curv)
        .map(|(l, c)| {
            if *c > 0.0 {
                (1.0 - opts.alpha * l / c).abs()
            } else {
                1.0
            }
        })
        .collect();
    let mut gd = theta0.to_vec();
    let mut loss_gd = vec![obj.value(&gd, Some(&mut g))];
    for _ in 0..opts.steps {
        for (t, gi) in gd.iter_mut().zip(&g) {
            *t -= gd_eta * gi;
        }
        loss_gd.push(obj.value(&gd, Some(&mut g)));
    }
    let negative_count = eigs.iter().filter(|&&l| l < -1e-8 * lmax.abs()).count();
    Ok(NewtonReport {
        params: n,
        alpha: opts.alpha,
        damping: opts.damping,
        rule: opts.rule,
        negative_count,
        indefinite: negative_count > 0,
        damping_used,
        eigenvalues: eigs,
        gd_eta,
        gd_rates,
        newton_rates,
        loss_newton,
        loss_gd,
        grad_norm_newton,
        alphas,
        theta,
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
