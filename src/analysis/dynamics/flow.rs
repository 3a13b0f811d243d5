//! Gradient descent against gradient flow (THEORY #24). GD, θ_{k+1} = θ_k − η∇J(θ_k), is the
//! explicit Euler method for dθ/dt = −∇J(θ) with time step η. The reference is the same ODE
//! integrated by classical RK4 with the much finer step h = η/m (m = 64 by default), whose
//! error O(h⁴) is negligible next to Euler's O(η): ‖θ_GD,k − θ_flow(kη)‖ at a fixed time
//! t = kη shrinks like O(η), which [`flow_error_sweep`] checks with a log-log fit.

use serde::Serialize;

use super::{Objective, distance, log_log_slope};

/// `steps` GD steps of size η; returns θ after each (θ₀ first).
pub fn gd_trajectory(
    obj: &mut dyn Objective,
    theta0: &[f64],
    eta: f64,
    steps: usize,
) -> Vec<Vec<f64>> {
    let mut theta = theta0.to_vec();
    let mut g = vec![0.0; theta.len()];
    let mut out = vec![theta.clone()];
    for _ in 0..steps {
        obj.value(&theta, Some(&mut g));
        for (t, gi) in theta.iter_mut().zip(&g) {
            *t -= eta * gi;
        }
        out.push(theta.clone());
    }
    out
}

/// Integrate dθ/dt = −∇J(θ) in place by `n` classical RK4 steps of size `h`.
pub fn gradient_flow(obj: &mut dyn Objective, theta: &mut [f64], h: f64, n: usize) {
    let p = theta.len();
    let (mut k1, mut k2, mut k3, mut k4) = (vec![0.0; p], vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    let mut y = vec![0.0; p];
    for _ in 0..n {
        obj.value(theta, Some(&mut k1));
        for i in 0..p {
            y[i] = theta[i] - 0.5 * h * k1[i];
        }
        obj.value(&y, Some(&mut k2));
        for i in 0..p {
            y[i] = theta[i] - 0.5 * h * k2[i];
        }
        obj.value(&y, Some(&mut k3));
        for i in 0..p {
            y[i] = theta[i] - h * k3[i];
        }
        obj.value(&y, Some(&mut k4));
        for i in 0..p {
            // k are gradients; the ODE's right-hand side is −k.
            theta[i] -= h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
}

/// GD at η against gradient flow (an RK4 reference) from the same θ.
#[derive(Clone, Debug, Serialize)]
pub struct FlowComparison {
    /// The GD learning rate.
    pub eta: f64,
    /// RK4 sub-steps per GD step (reference step η/m).
    pub substeps: usize,
    /// GD steps taken.
    pub steps: usize,
    /// t_k = kη, k = 0 … steps.
    pub time: Vec<f64>,
    /// ‖θ_GD,k − θ_flow(t_k)‖.
    pub error: Vec<f64>,
    /// J along GD.
    pub loss_gd: Vec<f64>,
    /// J along the flow at the same times.
    pub loss_flow: Vec<f64>,
    /// ‖θ_flow(T) with step η/m − the same with step η/(2m)‖: how far the reference itself is
    /// from the exact flow (should be far below the GD error).
    pub reference_error: f64,
}

/// The GD trajectory with step η against the RK4 reference with step η/m, step by step.
pub fn gd_vs_flow(
    obj: &mut dyn Objective,
    theta0: &[f64],
    eta: f64,
    steps: usize,
    substeps: usize,
) -> Result<FlowComparison, String> {
    check(obj, theta0, eta, substeps)?;
    let p = theta0.len();
    if steps > MAX_STEPS {
        return Err(format!("steps must be at most {MAX_STEPS} (got {steps})"));
    }
    check_substeps(steps, substeps)?;
    // GD, the flow and its reference, RK4's four stages and its point, the gradient; four
    // numbers per step.
    obj.check_memory("GD against gradient flow", 10, steps.saturating_mul(4))?;
    let mut gd = theta0.to_vec();
    let mut flow = theta0.to_vec();
    let mut g = vec![0.0; p];
    let h = eta / substeps as f64;
    let mut time = vec![0.0];
    let mut error = vec![0.0];
    let mut loss_gd = vec![obj.value(&gd, Some(&mut g))];
    let mut loss_flow = vec![loss_gd[0]];
    for k in 1..=steps {
        for (t, gi) in gd.iter_mut().zip(&g) {
            *t -= eta * gi;
        }
        gradient_flow(obj, &mut flow, h, substeps);
        time.push(k as f64 * eta);
        error.push(distance(&gd, &flow));
        loss_gd.push(obj.value(&gd, Some(&mut g)));
        loss_flow.push(obj.value(&flow, None));
        if gd.iter().chain(&flow).any(|v| !v.is_finite()) {
            break;
        }
    }
    let done = time.len() - 1;
    let mut fine = theta0.to_vec();
    gradient_flow(obj, &mut fine, h / 2.0, 2 * substeps * done);
    Ok(FlowComparison {
        eta,
        substeps,
        steps: done,
        time,
        error,
        loss_gd,
        loss_flow,
        reference_error: distance(&fine, &flow),
    })
}

/// The GD-to-flow distance at a fixed time for one η.
#[derive(Clone, Debug, Serialize)]
pub struct FlowSweepPoint {
    /// The learning rate.
    pub eta: f64,
    /// GD steps k = round(T/η); the comparison is at t = kη.
    pub steps: usize,
    /// t = kη, where the distance is measured.
    pub time: f64,
    /// ‖θ_GD,k − θ_flow(t)‖.
    pub error: f64,
}

/// The error at a fixed time against η: its slope is GD's order as a flow integrator.
#[derive(Clone, Debug, Serialize)]
pub struct FlowSweep {
    /// The fixed time T.
    pub time: f64,
    /// RK4 sub-steps per GD step of the reference.
    pub substeps: usize,
    /// One point per η.
    pub points: Vec<FlowSweepPoint>,
    /// Least-squares slope of log(error) against log(η): ≈ 1 for Euler.
    pub slope: f64,
}

/// Most GD steps of a comparison or of one η of the sweep (as `--steps` of the CLI).
pub const MAX_STEPS: usize = 1_000_000;

/// Most RK4 sub-steps of one flow reference (GD steps × sub-steps): about four times as
/// many gradient evaluations.
pub const MAX_FLOW_SUBSTEPS: usize = 100_000_000;

fn check_substeps(steps: usize, substeps: usize) -> Result<(), String> {
    if steps.saturating_mul(substeps) > MAX_FLOW_SUBSTEPS {
        return Err(format!(
            "{steps} GD steps × {substeps} sub-steps is more than the {MAX_FLOW_SUBSTEPS} RK4 sub-steps allowed; lower the steps (or time) or the sub-steps"
        ));
    }
    Ok(())
}

/// The GD-vs-flow error at the fixed time T for each η, and its log-log slope.
pub fn flow_error_sweep(
    obj: &mut dyn Objective,
    theta0: &[f64],
    etas: &[f64],
    time: f64,
    substeps: usize,
) -> Result<FlowSweep, String> {
    if !(time.is_finite() && time > 0.0) {
        return Err(format!("the time must be finite and positive (got {time})"));
    }
    obj.check_memory("the flow error sweep", 8, 0)?;
    let mut points = Vec::with_capacity(etas.len());
    let mut g = vec![0.0; theta0.len()];
    for &eta in etas {
        check(obj, theta0, eta, substeps)?;
        let k = ((time / eta).round() as usize).max(1);
        if time / eta > MAX_STEPS as f64 {
            return Err(format!(
                "the time {} at η = {} is {:.3e} GD steps, more than the {MAX_STEPS} allowed; lower the time or raise η",
                crate::memory::format_number(time),
                crate::memory::format_number(eta),
                time / eta
            ));
        }
        check_substeps(k, substeps)?;
        let mut gd = theta0.to_vec();
        for _ in 0..k {
            obj.value(&gd, Some(&mut g));
            for (t, gi) in gd.iter_mut().zip(&g) {
                *t -= eta * gi;
            }
        }
        let mut flow = theta0.to_vec();
        gradient_flow(obj, &mut flow, eta / substeps as f64, k * substeps);
        points.push(FlowSweepPoint {
            eta,
            steps: k,
            time: k as f64 * eta,
            error: distance(&gd, &flow),
        });
    }
    let x: Vec<f64> = points.iter().map(|p| p.eta).collect();
    let y: Vec<f64> = points.iter().map(|p| p.error).collect();
    Ok(FlowSweep {
        time,
        substeps,
        slope: log_log_slope(&x, &y),
        points,
    })
}

fn check(obj: &dyn Objective, theta0: &[f64], eta: f64, substeps: usize) -> Result<(), String> {
    if theta0.len() != obj.dim() {
        return Err(format!(
            "θ has {} values, the objective {}",
            theta0.len(),
            obj.dim()
        ));
    }
    if !(eta.is_finite() && eta > 0.0) {
        return Err(format!("eta must be finite and positive (got {eta})"));
    }
    if substeps == 0 {
        return Err("substeps must be at least 1".into());
    }
    Ok(())
}
