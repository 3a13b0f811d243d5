//! Semantic checks of `"optimizer"` and `"regularization"`, each error naming its field.
//!
//! Every field is checked whatever the kind (an Adam β in an SGD spec must still make sense,
//! since the kind can be switched live). Messages end with the offending value, e.g.
//! `optimizer.momentum must be in [0, 1) (got 1)`.

use super::spec::{OptimizerSpec, Regularization, Schedule};
use crate::error::{Error, Result};

/// Largest accepted base learning rate.
const MAX_LR: f64 = 1e6;

fn finite_positive(field: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::field(
            field,
            format!("must be a finite number > 0 (got {x})"),
        ))
    }
}

/// x ∈ [0, 1): momentum, β₁, β₂, ρ.
fn unit_interval(field: &str, x: f64) -> Result<()> {
    if (0.0..1.0).contains(&x) {
        Ok(())
    } else {
        Err(Error::field(field, format!("must be in [0, 1) (got {x})")))
    }
}

/// Checks the numbers of an optimiser spec; the first problem found is returned.
pub fn validate(spec: &OptimizerSpec) -> Result<()> {
    finite_positive("optimizer.lr", spec.lr)?;
    if spec.lr > MAX_LR {
        return Err(Error::field(
            "optimizer.lr",
            format!("must be at most 1e6 (got {:e})", spec.lr),
        ));
    }
    if spec.batch_size < 1 {
        return Err(Error::field("optimizer.batch_size", "must be at least 1"));
    }
    unit_interval("optimizer.momentum", spec.momentum)?;
    unit_interval("optimizer.beta1", spec.beta1)?;
    unit_interval("optimizer.beta2", spec.beta2)?;
    unit_interval("optimizer.rho", spec.rho)?;
    if spec.eps.is_nan() || spec.eps <= 0.0 {
        return Err(Error::field(
            "optimizer.eps",
            format!("must be > 0 (got {})", spec.eps),
        ));
    }
    if !spec.eps.is_finite() {
        return Err(Error::field(
            "optimizer.eps",
            format!("must be finite (got {})", spec.eps),
        ));
    }
    match spec.schedule {
        Schedule::Constant => {}
        Schedule::Step { every, gamma } => {
            if every < 1 {
                return Err(Error::field(
                    "optimizer.schedule.every",
                    "must be at least 1",
                ));
            }
            gamma_ok(gamma)?;
        }
        Schedule::Exponential { gamma } => gamma_ok(gamma)?,
        Schedule::Cosine { period, min_lr } => {
            if period < 1 {
                return Err(Error::field(
                    "optimizer.schedule.period",
                    "must be at least 1",
                ));
            }
            if !(min_lr.is_finite() && min_lr >= 0.0) {
                return Err(Error::field(
                    "optimizer.schedule.min_lr",
                    format!("must be a finite number ≥ 0 (got {min_lr})"),
                ));
            }
        }
    }
    if let Some(c) = spec.clip_norm {
        finite_positive("optimizer.clip_norm", c)?;
    }
    if let Some(c) = spec.clip_value {
        finite_positive("optimizer.clip_value", c)?;
    }
    Ok(())
}

/// γ ∈ (0, 1].
fn gamma_ok(gamma: f64) -> Result<()> {
    if gamma > 0.0 && gamma <= 1.0 {
        Ok(())
    } else {
        Err(Error::field(
            "optimizer.schedule.gamma",
            format!("must be in (0, 1] (got {gamma})"),
        ))
    }
}

/// Checks the L1 and L2 penalty strengths: finite and ≥ 0.
pub fn validate_regularization(r: &Regularization) -> Result<()> {
    for (field, x) in [("regularization.l1", r.l1), ("regularization.l2", r.l2)] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(Error::field(
                field,
                format!("must be finite and ≥ 0 (got {x})"),
            ));
        }
    }
    Ok(())
}
