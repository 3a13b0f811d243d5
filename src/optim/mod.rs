//! Optimisers: the update rules that turn ∂L/∂θ into a step on θ.
//!
//! The parameters of a network are one flat slice θ (`&mut [f64]`) with a gradient `g` of the
//! same length. [`Optimizer`] holds the spec and the per-parameter state (velocity, moments)
//! and is saved in sessions, so training can resume exactly where it stopped.
//!
//! One call to [`Optimizer::step`]:
//! 1. η ← [`scheduled_lr`]`(spec.lr, spec.schedule, t)` (t = steps taken before this one);
//! 2. clip g in place: each component to [−clip_value, clip_value], then the whole vector to
//!    global L2 norm ≤ clip_norm ([`clip_gradient`]);
//! 3. update θ in place with the rule of `spec.kind` (formulas on [`Optimizer::step`]);
//! 4. t ← t + 1.
//!
//! [`validate`] and [`validate_regularization`] check the numbers of a session file and name the
//! offending field in the error.

pub mod spec;

mod checks;
mod optimizer;
mod schedule;

#[cfg(test)]
mod tests;

pub use checks::{validate, validate_regularization};
pub use optimizer::{Optimizer, clip_gradient};
pub use schedule::scheduled_lr;
pub use spec::{OptimizerKind, OptimizerSpec, Regularization, Schedule, TrainingRule};
