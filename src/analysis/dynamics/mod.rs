//! Training as a dynamical system (THEORY #10, #12, #22–26; seed 003): the finite-time
//! Lyapunov exponent of twin trajectories, gradient descent against a fine-step gradient-flow
//! reference, momentum's mechanical energy, signal propagation at initialisation, and Newton /
//! damped-Newton steps.
//!
//! Every analysis except signal propagation runs over an [`Objective`]: J(θ), ∇J(θ) and (for
//! Newton) the dense Hessian. [`NetObjective`] is the training objective of a network over a
//! set of rows (exactly what `nnlab grad` reports: full batch, evaluation mode, so every
//! trajectory is deterministic); [`Quadratic`] is ½θᵀAθ − bᵀθ, whose dynamics have closed
//! forms the tests check against.
//!
//! [`run`] is the one entry point of the app's Dynamics tile and of `nnlab dynamics`.

mod energy;
mod entry;
mod flow;
mod lyapunov;
mod newton;
mod signal;

pub use energy::{EnergyReport, EnergyStep, momentum_energy};
pub use entry::{
    EDGE_SWEEP, Eta, FLOW_SWEEP, FlowResult, Kind, LyapunovResult, MAX_SEEDS, MAX_SUBSTEPS,
    MAX_SWEEP, Output, Progress, Report, Request, SignalResult, Start, run,
};
pub use flow::{
    FlowComparison, FlowSweep, FlowSweepPoint, MAX_FLOW_SUBSTEPS, MAX_STEPS, flow_error_sweep,
    gd_trajectory, gd_vs_flow, gradient_flow,
};
pub use lyapunov::{Direction, LyapunovReport, LyapunovSweepPoint, lyapunov, lyapunov_sweep};
pub use newton::{IndefiniteRule, NewtonOptions, NewtonReport, newton};
pub use signal::{
    InitStd, SignalLayer, SignalReport, activation_std_by_init, gaussian_chi, signal_propagation,
};

use super::hessian::{HessianProblem, MAX_DENSE_PARAMS, dense_hessian, dense_hessian_bytes};
use crate::net::{Network, Rows, Workspace, objective};

/// A differentiable objective J over ℝᴾ.
pub trait Objective {
    /// P, the number of parameters.
    fn dim(&self) -> usize;
    /// J(θ); with `grad` given, ∇J(θ) is written into it (overwritten).
    fn value(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64;
    /// The dense Hessian at θ (row-major P×P), or why it cannot be had.
    fn hessian(&mut self, theta: &[f64]) -> Result<Vec<f64>, String>;
    /// Whether `what`, keeping `vectors` vectors of P values and `scalars` numbers besides
    /// what an evaluation of J and ∇J needs, fits in this machine's memory budget. The
    /// analyses ask before allocating; objectives of a few parameters need not answer.
    fn check_memory(&self, what: &str, vectors: usize, scalars: usize) -> Result<(), String> {
        let _ = (what, vectors, scalars);
        Ok(())
    }
}

/// The training objective of a network: mean loss + l1·Σ|W| + l2·½ΣW² over `rows`
/// ([`objective()`]). Its Hessian is the exact dense one of [`dense_hessian`] (the L1 term has
/// no curvature almost everywhere and is left out of it).
pub struct NetObjective<'a> {
    /// The network.
    pub net: &'a Network,
    /// The rows J averages over.
    pub rows: Rows<'a>,
    /// The L1 coefficient.
    pub l1: f64,
    /// The L2 coefficient.
    pub l2: f64,
    ws: Workspace,
    /// Evaluations of J so far.
    pub evaluations: u64,
    /// Told the evaluation count after each evaluation (the CLI's progress line).
    pub on_value: Option<Box<dyn FnMut(u64) + 'a>>,
}

impl<'a> NetObjective<'a> {
    /// The objective with a fresh workspace and no evaluations counted.
    pub fn new(net: &'a Network, rows: Rows<'a>, l1: f64, l2: f64) -> Self {
        NetObjective {
            net,
            rows,
            l1,
            l2,
            ws: Workspace::default(),
            evaluations: 0,
            on_value: None,
        }
    }
}

impl Objective for NetObjective<'_> {
    fn dim(&self) -> usize {
        self.net.n_params
    }
    fn value(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let j = objective(
            self.net,
            theta,
            self.rows,
            self.l1,
            self.l2,
            &mut self.ws,
            grad,
        );
        self.evaluations += 1;
        if let Some(f) = self.on_value.as_mut() {
            f(self.evaluations);
        }
        j
    }
    fn hessian(&mut self, theta: &[f64]) -> Result<Vec<f64>, String> {
        let p = self.net.n_params;
        if p > MAX_DENSE_PARAMS {
            return Err(format!(
                "the dense Hessian is limited to {MAX_DENSE_PARAMS} parameters (this network has {p}); use a smaller network"
            ));
        }
        let problem = HessianProblem {
            net: self.net,
            theta,
            rows: self.rows,
            l2: self.l2,
            gauss_newton: false,
        };
        crate::memory::check(
            &format!("the dense Hessian of {p} parameters"),
            dense_hessian_bytes(problem),
        )?;
        Ok(dense_hessian(problem))
    }
    fn check_memory(&self, what: &str, vectors: usize, scalars: usize) -> Result<(), String> {
        let net = self.net;
        let pass = crate::net::objective::objective_pass_rows(net, self.rows.len());
        let values = pass
            .saturating_mul(net.workspace_values_per_row(false))
            .saturating_add(net.n_params.saturating_mul(vectors))
            .saturating_add(scalars);
        crate::memory::check(
            &format!("{what} of {} parameters", net.n_params),
            crate::memory::f64s(values),
        )
    }
}

/// J(θ) = ½θᵀAθ − bᵀθ with A symmetric (row-major n×n): ∇J = Aθ − b, H = A.
#[derive(Clone, Debug)]
pub struct Quadratic {
    /// The dimension.
    pub n: usize,
    /// A, n×n row-major, symmetric.
    pub a: Vec<f64>,
    /// b.
    pub b: Vec<f64>,
}

impl Quadratic {
    /// Diagonal A = diag(d), b = 0: minimum at θ = 0.
    pub fn diagonal(d: &[f64]) -> Self {
        let n = d.len();
        let mut a = vec![0.0; n * n];
        for (i, &v) in d.iter().enumerate() {
            a[i * n + i] = v;
        }
        Quadratic {
            n,
            a,
            b: vec![0.0; n],
        }
    }
}

impl Objective for Quadratic {
    fn dim(&self) -> usize {
        self.n
    }
    fn value(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let n = self.n;
        let mut j = 0.0;
        let mut g_local;
        let g: &mut [f64] = match grad {
            Some(g) => g,
            None => {
                g_local = vec![0.0; n];
                &mut g_local
            }
        };
        for i in 0..n {
            let ai: f64 = self.a[i * n..(i + 1) * n]
                .iter()
                .zip(theta)
                .map(|(x, y)| x * y)
                .sum();
            j += 0.5 * theta[i] * ai - self.b[i] * theta[i];
            g[i] = ai - self.b[i];
        }
        j
    }
    fn hessian(&mut self, _theta: &[f64]) -> Result<Vec<f64>, String> {
        Ok(self.a.clone())
    }
}

/// ‖a − b‖₂.
pub(crate) fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Least-squares slope of log y against log x over the points with x, y > 0 and finite.
pub fn log_log_slope(x: &[f64], y: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| **a > 0.0 && **b > 0.0 && a.is_finite() && b.is_finite())
        .map(|(a, b)| (a.ln(), b.ln()))
        .collect();
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}
