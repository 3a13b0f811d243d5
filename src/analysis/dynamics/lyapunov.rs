//! Finite-time Lyapunov exponent (THEORY #26): two runs of the same deterministic full-batch
//! optimiser, from θ₀ and θ₀ + ε·u with ‖u‖ = 1, and
//!
//!   λ_t = (1/t) ln(‖θ_t⁽²⁾ − θ_t⁽¹⁾‖ / ‖θ_0⁽²⁾ − θ_0⁽¹⁾‖).
//!
//! On J = ½θᵀAθ gradient descent is linear, θ_{t+1} = (I − ηA)θ_t, so the difference obeys
//! the same map and a start along the eigenvector of λ_k gives λ_t = ln|1 − ηλ_k| exactly: the
//! exponent is negative (contracting) for 0 < ηλ < 2 and positive beyond 2/λ_max.
//!
//! The separation is a difference of two trajectories, so it cannot shrink much below the
//! rounding of θ (≈ 1e-16‖θ‖): a strongly contracting run reaches that floor after about
//! ln(ε/1e-16‖θ‖)/|λ| steps, after which λ_t is no longer meaningful. The report carries the
//! floor so a reader (and the CLI) can tell.

use serde::Serialize;

use super::{Objective, distance};
use crate::optim::{Optimizer, OptimizerSpec};
use crate::rng::Rng;

/// The unit direction u of the initial offset.
#[derive(Clone, Debug)]
pub enum Direction {
    /// A standard normal vector from this seed, normalised.
    Random(u64),
    /// This vector, normalised (it must be non-zero).
    Given(Vec<f64>),
}

impl Direction {
    fn unit(&self, n: usize) -> Result<Vec<f64>, String> {
        let mut u = match self {
            Direction::Random(seed) => {
                let mut r = Rng::stream(*seed, "lyapunov");
                (0..n).map(|_| r.normal()).collect::<Vec<f64>>()
            }
            Direction::Given(v) => {
                if v.len() != n {
                    return Err(format!(
                        "the direction has {} values but θ has {n}",
                        v.len()
                    ));
                }
                v.clone()
            }
        };
        let s = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(s.is_finite() && s > 0.0) {
            return Err("the direction must be a finite non-zero vector".into());
        }
        for x in &mut u {
            *x /= s;
        }
        Ok(u)
    }
}

/// Twin GD runs ε apart: the finite-time Lyapunov exponent λ_t of their separation.
#[derive(Clone, Debug, Serialize)]
pub struct LyapunovReport {
    /// The learning rate.
    pub eta: f64,
    /// The initial separation ε.
    pub epsilon: f64,
    /// Steps asked for.
    pub steps: usize,
    /// Steps completed (fewer when a run stopped being finite).
    pub steps_completed: usize,
    /// λ_T at the last completed step.
    pub exponent: f64,
    /// λ_t for t = 1 … steps_completed.
    pub curve: Vec<f64>,
    /// ‖Δθ_t‖ for t = 0 … steps_completed.
    pub separation: Vec<f64>,
    /// J(θ_t⁽¹⁾) of the base run, t = 0 … steps_completed.
    pub loss: Vec<f64>,
    /// A run produced a non-finite θ or loss.
    pub diverged: bool,
    /// ≈ rounding level of θ: separations near it carry no information.
    pub separation_floor: f64,
}

/// Twin trajectories of the optimiser `spec` (full batch: the objective's exact gradient) from
/// θ₀ and θ₀ + ε·u.
pub fn lyapunov(
    obj: &mut dyn Objective,
    theta0: &[f64],
    spec: &OptimizerSpec,
    steps: usize,
    epsilon: f64,
    direction: &Direction,
) -> Result<LyapunovReport, String> {
    let n = obj.dim();
    if theta0.len() != n {
        return Err(format!("θ has {} values, the objective {n}", theta0.len()));
    }
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(format!(
            "epsilon must be finite and positive (got {epsilon})"
        ));
    }
    // Twin trajectories, their gradients, the direction and the optimisers' states.
    obj.check_memory("the Lyapunov exponent", 10, steps.saturating_mul(3))?;
    let u = direction.unit(n)?;
    let mut a = theta0.to_vec();
    let mut b: Vec<f64> = theta0
        .iter()
        .zip(&u)
        .map(|(t, d)| t + epsilon * d)
        .collect();
    let d0 = distance(&a, &b);
    let mut opt_a = Optimizer::new(spec, n);
    let mut opt_b = Optimizer::new(spec, n);
    let (mut ga, mut gb) = (vec![0.0; n], vec![0.0; n]);
    let mut curve = Vec::with_capacity(steps);
    let mut separation = vec![d0];
    let mut loss = Vec::with_capacity(steps + 1);
    let mut diverged = false;
    let mut theta_scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    loss.push(obj.value(&a, Some(&mut ga)));
    obj.value(&b, Some(&mut gb));
    for t in 1..=steps {
        opt_a.step(&mut a, &mut ga);
        opt_b.step(&mut b, &mut gb);
        let d = distance(&a, &b);
        if !d.is_finite() || a.iter().chain(&b).any(|v| !v.is_finite()) {
            diverged = true;
            break;
        }
        theta_scale = theta_scale.max(a.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        separation.push(d);
        curve.push((d / d0).ln() / t as f64);
        let ja = obj.value(&a, Some(&mut ga));
        let jb = obj.value(&b, Some(&mut gb));
        loss.push(ja);
        if !(ja.is_finite() && jb.is_finite()) {
            diverged = true;
            break;
        }
    }
    let steps_completed = curve.len();
    Ok(LyapunovReport {
        eta: spec.lr,
        epsilon,
        steps,
        steps_completed,
        exponent: curve.last().copied().unwrap_or(f64::NAN),
        curve,
        separation,
        loss,
        diverged,
        separation_floor: 4.0
            * f64::EPSILON
            * theta_scale.max(f64::MIN_POSITIVE)
            * (n as f64).sqrt(),
    })
}

/// The exponent at one η of a sweep.
#[derive(Clone, Debug, Serialize)]
pub struct LyapunovSweepPoint {
    /// The learning rate.
    pub eta: f64,
    /// λ_T at the last completed step.
    pub exponent: f64,
    /// Steps completed (fewer when a run stopped being finite).
    pub steps_completed: usize,
    /// A run stopped being finite.
    pub diverged: bool,
}

/// λ_T for each learning rate (the same start, direction and steps): the sign flips from
/// negative (contracting) at small η to positive at large η.
pub fn lyapunov_sweep(
    obj: &mut dyn Objective,
    theta0: &[f64],
    spec: &OptimizerSpec,
    etas: &[f64],
    steps: usize,
    epsilon: f64,
    direction: &Direction,
) -> Result<Vec<LyapunovSweepPoint>, String> {
    etas.iter()
        .map(|&eta| {
            let mut s = spec.clone();
            s.lr = eta;
            let r = lyapunov(obj, theta0, &s, steps, epsilon, direction)?;
            Ok(LyapunovSweepPoint {
                eta,
                exponent: r.exponent,
                steps_completed: r.steps_completed,
                diverged: r.diverged,
            })
        })
        .collect()
}
