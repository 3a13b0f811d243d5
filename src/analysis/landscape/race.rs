//! An optimiser race: several optimisers started from one θ on the full-batch training
//! objective, their paths projected onto one plane.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::net::{Workspace, objective};
use crate::optim::{Optimizer, OptimizerSpec, TrainingRule, validate};

use super::parallel::par_map;
use super::{Objective, Plane, thread_count};

/// One optimiser's run.
#[derive(Clone, Debug, PartialEq)]
pub struct RaceRun {
    /// The optimiser's name, as the legend shows it.
    pub name: String,
    /// Its rule and hyper-parameters.
    pub spec: OptimizerSpec,
    /// (α, β) of θ_0 … θ_T on the plane (least-squares coordinates).
    pub path: Vec<[f64; 2]>,
    /// J(θ_0) … J(θ_T).
    pub loss: Vec<f64>,
    /// ‖θ_t − plane point at path\[t\]‖: how far the run leaves the plane.
    pub off_plane: Vec<f64>,
    /// The final θ.
    pub theta: Vec<f64>,
    /// Stopped early because J or θ stopped being finite.
    pub diverged: bool,
}

/// Run each `(name, spec)` for `steps` full-batch steps from `theta0` (the gradient of the
/// whole objective each step; `batch_size` is ignored; the network's weight constraint is
/// applied after each update, as in training). One optimiser per thread; the runs do not
/// depend on the thread count. `Ok(None)` when cancelled.
pub fn race(
    obj: &Objective,
    theta0: &[f64],
    runs: &[(String, OptimizerSpec)],
    steps: usize,
    plane: &Plane,
    threads: usize,
    cancel: &AtomicBool,
) -> Result<Option<Vec<RaceRun>>> {
    obj.check_theta(theta0, "θ₀")?;
    if plane.origin.len() != theta0.len() {
        return Err(Error::field(
            "plane",
            "has a different number of parameters than θ₀",
        ));
    }
    for (i, (_, spec)) in runs.iter().enumerate() {
        validate(spec).map_err(|e| e.context(format!("race run {i}")))?;
        if spec.effective_rule() != TrainingRule::Backprop {
            return Err(Error::field(
                &format!("race run {i}: optimizer.rule"),
                "must be backprop (the race follows the gradient of the objective)",
            ));
        }
    }
    let p = theta0.len();
    let threads = thread_count(threads).min(runs.len().max(1));
    // Per thread: an objective evaluation with its gradient, θ, the gradient, a plane point
    // and the optimiser's state (at most three vectors); per run its path.
    let per_thread = super::evaluation_values(obj).saturating_add(p.saturating_mul(6));
    crate::memory::check(
        &format!("a race of {} optimisers over {p} parameters", runs.len()),
        crate::memory::f64s(
            per_thread
                .saturating_mul(threads)
                .saturating_add(steps.saturating_add(1).saturating_mul(4 * runs.len())),
        ),
    )
    .map_err(Error::new)?;
    let out = par_map(
        runs.len(),
        threads,
        cancel,
        || (Workspace::default(), vec![0.0; p], vec![0.0; p]),
        |i, (ws, grad, point)| {
            let (name, spec) = &runs[i];
            let mut opt = Optimizer::new(spec, p);
            let mut theta = theta0.to_vec();
            let mut run = RaceRun {
                name: name.clone(),
                spec: spec.clone(),
                path: Vec::with_capacity(steps + 1),
                loss: Vec::with_capacity(steps + 1),
                off_plane: Vec::with_capacity(steps + 1),
                theta: Vec::new(),
                diverged: false,
            };
            for t in 0..=steps {
                if cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let last = t == steps;
                let j = objective(
                    obj.net,
                    &theta,
                    obj.rows,
                    obj.l1,
                    obj.l2,
                    ws,
                    (!last).then_some(&mut grad[..]),
                );
                let c = plane.project(&theta);
                plane.point_into(c[0], c[1], point);
                let off: f64 = point
                    .iter()
                    .zip(&theta)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                run.path.push(c);
                run.loss.push(j);
                run.off_plane.push(off);
                if !j.is_finite() || theta.iter().any(|v| !v.is_finite()) {
                    run.diverged = true;
                    break;
                }
                if !last {
                    opt.step(&mut theta, grad);
                    obj.net.constrain(&mut theta);
                }
            }
            run.theta = theta;
            Some(run)
        },
        |_, _| {},
    );
    Ok(out)
}
