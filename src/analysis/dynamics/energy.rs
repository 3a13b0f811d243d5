//! Momentum as a damped particle (THEORY #25; seed 003: m θ̈ + γ θ̇ + ∇J(θ) = 0).
//!
//! Heavy-ball momentum is v ← μv + g; θ ← θ − ηv, i.e. with d_t = θ_t − θ_{t−1}:
//!   d_{t+1} = μ d_t − η ∇J(θ_t).
//! Discretise the particle with time step Δt = η (the same clock as gradient flow, where one
//! GD step advances time by η), backward differences for θ̇ and a forward one for θ̈:
//!   m (d_{t+1} − d_t)/η² + γ d_{t+1}/η + ∇J(θ_t) = 0
//!   ⇔ d_{t+1} = m/(m + γη) d_t − η²/(m + γη) ∇J(θ_t).
//! Matching both coefficients gives the mapping used here:
//!   **mass m = μη, damping γ = 1 − μ** (so m + γη = η).
//! Then θ̇_t ≈ (θ_t − θ_{t−1})/η = −v_t, the kinetic energy is T_t = ½m‖θ̇_t‖² = ½μη‖v_t‖²,
//! the potential is J(θ_t), and E_t = T_t + J(θ_t). As η → 0 the mass vanishes and the
//! particle becomes the over-damped gradient flow.
//!
//! On a quadratic J with Hessian A an exact computation gives
//!   E_{t+1} − E_t = −(μ/2η)‖d_{t+1} − d_t‖² − ((1−μ)/η)‖d_{t+1}‖² + ½ d_{t+1}ᵀ A d_{t+1},
//! so the energy never increases when ηλ_max(A) ≤ 2(1 − μ): the friction term (1−μ)/η·‖d‖²
//! (= γ‖θ̇‖²Δt, the continuous dissipation) outweighs the discretisation's ½dᵀAd. Beyond that
//! (still inside heavy-ball's stable range ηλ < 2(1+μ)) single steps can gain energy.

use serde::Serialize;

use super::{Objective, distance};
use crate::optim::{Optimizer, OptimizerKind, OptimizerSpec};

/// The energy of heavy-ball momentum at one step.
#[derive(Clone, Debug, Serialize)]
pub struct EnergyStep {
    /// The step t.
    pub step: usize,
    /// ½m‖θ̇‖², θ̇ = (θ_t − θ_{t−1})/η.
    pub kinetic: f64,
    /// J(θ_t).
    pub potential: f64,
    /// kinetic + potential.
    pub total: f64,
    /// γ‖θ̇‖²·Δt of the step that led here: the energy friction removed in continuous time.
    pub friction_work: f64,
}

/// Heavy-ball momentum as a damped mechanical system: its energy per step.
#[derive(Clone, Debug, Serialize)]
pub struct EnergyReport {
    /// (The dynamics report's `eta` says it in the JSON.)
    #[serde(skip)]
    pub eta: f64,
    /// μ.
    pub momentum: f64,
    /// m = μη.
    pub mass: f64,
    /// γ = 1 − μ.
    pub damping: f64,
    /// The energy at each step, 0 first.
    pub steps: Vec<EnergyStep>,
    /// Steps whose total energy rose by more than 1e-12·(1 + |E|).
    pub increases: usize,
    /// Largest single-step rise of E (0 when it never rose).
    pub max_increase: f64,
    /// J or θ stopped being finite.
    pub diverged: bool,
}

/// Run `steps` heavy-ball steps (step η, momentum μ ∈ [0, 1)) from θ₀ and record the energy.
pub fn momentum_energy(
    obj: &mut dyn Objective,
    theta0: &[f64],
    eta: f64,
    momentum: f64,
    steps: usize,
) -> Result<EnergyReport, String> {
    let n = obj.dim();
    if theta0.len() != n {
        return Err(format!("θ has {} values, the objective {n}", theta0.len()));
    }
    if !(eta.is_finite() && eta > 0.0) {
        return Err(format!("eta must be finite and positive (got {eta})"));
    }
    if !(0.0..1.0).contains(&momentum) {
        return Err(format!("momentum must be in [0, 1) (got {momentum})"));
    }
    obj.check_memory("the momentum energy", 5, steps.saturating_mul(6))?;
    let mut spec = OptimizerSpec::new(OptimizerKind::Momentum, eta, 1);
    spec.momentum = momentum;
    let mut opt = Optimizer::new(&spec, n);
    let (mass, damping) = (momentum * eta, 1.0 - momentum);
    let mut theta = theta0.to_vec();
    let mut prev = theta.clone();
    let mut g = vec![0.0; n];
    let j0 = obj.value(&theta, Some(&mut g));
    let mut out = vec![EnergyStep {
        step: 0,
        kinetic: 0.0,
        potential: j0,
        total: j0,
        friction_work: 0.0,
    }];
    let (mut increases, mut max_increase, mut diverged) = (0, 0.0f64, false);
    for step in 1..=steps {
        prev.copy_from_slice(&theta);
        opt.step(&mut theta, &mut g);
        let speed = distance(&theta, &prev) / eta;
        let kinetic = 0.5 * mass * speed * speed;
        let potential = obj.value(&theta, Some(&mut g));
        let total = kinetic + potential;
        if !total.is_finite() {
            diverged = true;
            break;
        }
        let last = out.last().map_or(total, |s| s.total);
        let rise = total - last;
        if rise > 1e-12 * (1.0 + last.abs()) {
            increases += 1;
        }
        max_increase = max_increase.max(rise);
        out.push(EnergyStep {
            step,
            kinetic,
            potential,
            total,
            friction_work: damping * speed * speed * eta,
        });
    }
    Ok(EnergyReport {
        eta,
        momentum,
        mass,
        damping,
        steps: out,
        increases,
        max_increase,
        diverged,
    })
}
