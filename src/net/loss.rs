//! Losses at the output layer: value and ∂ℓ/∂u, where u is the output layer's pre-activation.
//!
//! Working at u (the logit) rather than at the output ŷ is what makes BCE and cross-entropy
//! stable: ℓ = softplus(u) − y·u and ∂ℓ/∂u = σ(u) − y, with no σ′ factor (THEORY #16).

use super::activation::{Activation, sigmoid, softplus};
use super::spec::Loss;

/// How a class label becomes the output layer's target vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetCoding {
    /// The real value itself (one output).
    Real,
    /// Class c of k ∈ {0,1}: the single output's target is c (0 or 1).
    Binary01,
    /// Two classes, single output with target −1 / +1 (hinge, tanh and step outputs).
    BinaryPm1,
    /// One output per class, one-hot 0/1.
    OneHot,
    /// One output per class, −1 everywhere except +1 at the class (hinge one-vs-rest).
    OneHotPm1,
}

impl TargetCoding {
    /// Write the target vector of label `y` into `out` (one row of the output layer).
    pub fn fill(self, y: f64, out: &mut [f64]) {
        match self {
            TargetCoding::Real | TargetCoding::Binary01 => out[0] = y,
            TargetCoding::BinaryPm1 => out[0] = if y >= 0.5 { 1.0 } else { -1.0 },
            TargetCoding::OneHot | TargetCoding::OneHotPm1 => {
                let off = if self == TargetCoding::OneHot {
                    0.0
                } else {
                    -1.0
                };
                out.fill(off);
                let c = y as usize;
                if c < out.len() {
                    out[c] = 1.0;
                }
            }
        }
    }

    /// The predicted class from an output row.
    pub fn predict(self, out: &[f64]) -> usize {
        match self {
            TargetCoding::Real => 0,
            TargetCoding::Binary01 => usize::from(out[0] > 0.5),
            TargetCoding::BinaryPm1 => usize::from(out[0] > 0.0),
            TargetCoding::OneHot | TargetCoding::OneHotPm1 => {
                let mut best = 0;
                for (j, &v) in out.iter().enumerate() {
                    if v > out[best] {
                        best = j;
                    }
                }
                best
            }
        }
    }
}

/// One row: loss value, and ∂ℓ/∂u written into `du` (scaled by `scale`).
///
/// `u` is the pre-activation, `y` the output (f(u), or softmax(u)), `t` the target vector.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn row_loss_and_grad(
    loss: Loss,
    act: Activation,
    p: f64,
    u: &[f64],
    y: &[f64],
    t: &[f64],
    scale: f64,
    du: &mut [f64],
) -> f64 {
    match loss {
        Loss::Mse => {
            let mut l = 0.0;
            for j in 0..u.len() {
                let e = y[j] - t[j];
                l += 0.5 * e * e;
                du[j] = scale * e * act.deriv(u[j], y[j], p);
            }
            l
        }
        Loss::Bce => {
            // Sigmoid output: ℓ = softplus(u) − t·u, ∂ℓ/∂u = σ(u) − t.
            let mut l = 0.0;
            for j in 0..u.len() {
                l += softplus(u[j]) - t[j] * u[j];
                du[j] = scale * (sigmoid(u[j]) - t[j]);
            }
            l
        }
        Loss::CrossEntropy => {
            // Softmax output: ℓ = logsumexp(u) − Σ t·u, ∂ℓ/∂u = softmax(u) − t.
            let m = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + u.iter().map(|&v| (v - m).exp()).sum::<f64>().ln();
            let mut l = 0.0;
            for j in 0..u.len() {
                l += t[j] * (lse - u[j]);
                du[j] = scale * (y[j] - t[j]);
            }
            l
        }
        Loss::Hinge => {
            let mut l = 0.0;
            for j in 0..u.len() {
                let margin = 1.0 - t[j] * y[j];
                if margin > 0.0 {
                    l += margin;
                    du[j] = -scale * t[j] * act.deriv(u[j], y[j], p);
                } else {
                    du[j] = 0.0;
                }
            }
            l
        }
    }
}

/// Row-wise Hessian of ℓ with respect to u applied to a direction `ru`: out = (∂²ℓ/∂u²)·ru.
/// Used by the R-operator (Hessian-vector products) and by the Gauss–Newton product.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn row_loss_hessian_apply(
    loss: Loss,
    act: Activation,
    p: f64,
    u: &[f64],
    y: &[f64],
    t: &[f64],
    ru: &[f64],
    gauss_newton: bool,
    scale: f64,
    out: &mut [f64],
) {
    match loss {
        Loss::Mse => {
            for j in 0..u.len() {
                let d1 = act.deriv(u[j], y[j], p);
                let mut h = d1 * d1;
                if !gauss_newton {
                    h += (y[j] - t[j]) * act.second(u[j], y[j], p);
                }
                out[j] = scale * h * ru[j];
            }
        }
        Loss::Bce => {
            for j in 0..u.len() {
                let s = sigmoid(u[j]);
                out[j] = scale * s * (1.0 - s) * ru[j];
            }
        }
        Loss::CrossEntropy => {
            let sr: f64 = y.iter().zip(ru).map(|(a, b)| a * b).sum();
            for j in 0..u.len() {
                out[j] = scale * y[j] * (ru[j] - sr);
            }
        }
        Loss::Hinge => {
            // Piecewise: −t·f″(u) where the margin is active; zero curvature in ℓ itself, so
            // the Gauss–Newton part is zero.
            for j in 0..u.len() {
                let margin = 1.0 - t[j] * y[j];
                out[j] = if margin > 0.0 && !gauss_newton {
                    -scale * t[j] * act.second(u[j], y[j], p) * ru[j]
                } else {
                    0.0
                };
            }
        }
    }
}
