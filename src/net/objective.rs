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

/// Most workspace values one pass of [`objective`] holds (256 MB): wider sets are evaluated
/// in row blocks (not with BatchNorm, whose statistics need every row in one pass). Sets
/// below it (every example session) take one pass, so their sums keep their order.
pub const OBJECTIVE_CHUNK_VALUES: usize = 1 << 25;

/// Rows one pass of [`objective`] takes over `rows` rows.
pub fn objective_pass_rows(net: &Network, rows: usize) -> usize {
    if net.has_batch_norm() {
        rows
    } else {
        net.rows_within(OBJECTIVE_CHUNK_VALUES).min(rows.max(1))
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
    let scale = 1.0 / n as f64;
    let coding = net.target_coding(rows.classes);
    let block = objective_pass_rows(net, n);
    let d = net.inputs;
    let mut grad = grad;
    if let Some(g) = grad.as_deref_mut() {
        g.fill(0.0);
    }
    let mut loss_sum = 0.0;
    for r0 in (0..n).step_by(block) {
        let m = block.min(n - r0);
        net.forward(
            theta,
            &rows.x[r0 * d..(r0 + m) * d],
            m,
            ws,
            BnMode::Batch,
            None,
        );
        net.set_targets(ws, &rows.y[r0..r0 + m], coding);
        loss_sum += net.loss_and_output_delta(theta, ws, scale);
        if let Some(g) = grad.as_deref_mut() {
            net.backward(theta, ws, BnMode::Batch, g, None);
        }
    }
    let data_loss = loss_sum * scale;
    data_loss + net.regularise(theta, l1, l2, grad)
}
