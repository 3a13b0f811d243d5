//! The training objective over a whole set of rows, in evaluation mode (no dropout; BatchNorm
//! on the statistics of that set): J(θ) = mean ℓ + l1·Σ|W| + l2·½ΣW². This is what `nnlab grad`
//! prints and what the Hessian analyses differentiate.

use super::network::{BnMode, Network, Workspace};

/// Rows of the objective: inputs `x` (rows × inputs) and labels `y`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    /// Number of classes, 0 for regression.
    pub classes: usize,
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// J(θ); with `grad` given, ∇J(θ) is written into it (overwritten, not accumulated).
pub fn objective(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    l1: f64,
    l2: f64,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
) -> f64 {
    let n = rows.len();
    if n == 0 {
        return net.regularise(theta, l1, l2, None);
    }
    net.forward(theta, rows.x, n, ws, BnMode::Batch, None);
    net.set_targets(ws, rows.y, net.target_coding(rows.classes));
    let scale = 1.0 / n as f64;
    let data_loss = net.loss_and_output_delta(theta, ws, scale) * scale;
    match grad {
        Some(g) => {
            g.fill(0.0);
            net.backward(theta, ws, BnMode::Batch, g, None);
            data_loss + net.regularise(theta, l1, l2, Some(g))
        }
        None => data_loss + net.regularise(theta, l1, l2, None),
    }
}
