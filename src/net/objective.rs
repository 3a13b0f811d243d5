//! The training objective over a whole set of rows, in evaluation mode (no dropout; BatchNorm
//! on the statistics of that set): J(θ) = mean ℓ + l1·Σ|W| + l2·½ΣW². This is what `nnlab grad`
//! prints and what the Hessian analyses differentiate.

use super::network::{BnMode, Network, Workspace};

/// Rows of the objective: inputs `x` (rows × inputs) and labels `y`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    /// Inputs, rows × inputs, row-major.
    pub x: &'a [f64],
    /// One label per row.
    pub y: &'a [f64],
    /// Number of classes, 0 for regression.
    pub classes: usize,
}

impl Rows<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// No rows.
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
    objective_in_blocks(
        net,
        theta,
        rows,
        l1,
        l2,
        ws,
        grad,
        objective_pass_rows(net, n),
    )
}

/// [`objective`] with the rows in blocks of `block` (the tests use small ones).
#[allow(clippy::too_many_arguments)]
fn objective_in_blocks(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    l1: f64,
    l2: f64,
    ws: &mut Workspace,
    grad: Option<&mut [f64]>,
    block: usize,
) -> f64 {
    let n = rows.len();
    let block = block.max(1);
    let scale = 1.0 / n as f64;
    let coding = net.target_coding(rows.classes);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activation;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    use crate::rng::Rng;

    /// Rows in blocks give the one-pass value and gradient (to rounding), for every loss
    /// coding, and the block rule keeps sets below its limit in one pass.
    #[test]
    fn blocks_of_rows_sum_to_the_whole_set() {
        for (loss, out, units, classes) in [
            (Loss::Bce, Activation::Sigmoid, 1, 2),
            (Loss::Mse, Activation::Identity, 1, 0),
            (Loss::CrossEntropy, Activation::Softmax, 3, 3),
        ] {
            let spec = NetworkSpec {
                inputs: 2,
                layers: vec![
                    LayerSpec::new(7, Activation::Tanh),
                    LayerSpec::new(units, out),
                ],
                init: Init::XavierNormal,
                init_scale: 0.1,
                features: None,
                residual: false,
                weight_constraint: WeightConstraint::None,
            };
            let net = Network::build(&spec, loss).unwrap();
            let mut rng = Rng::new(11);
            let p = net.n_params;
            let theta: Vec<f64> = (0..p).map(|_| 0.5 * rng.normal()).collect();
            let m = 103;
            let x: Vec<f64> = (0..2 * m).map(|_| rng.normal()).collect();
            let y: Vec<f64> = (0..m)
                .map(|r| {
                    if classes == 0 {
                        x[2 * r].sin()
                    } else {
                        (r % classes) as f64
                    }
                })
                .collect();
            let rows = Rows {
                x: &x,
                y: &y,
                classes,
            };
            assert_eq!(objective_pass_rows(&net, m), m);
            let mut ws = Workspace::default();
            let mut whole = vec![0.0; p];
            let j =
                objective_in_blocks(&net, &theta, rows, 0.01, 0.02, &mut ws, Some(&mut whole), m);
            for block in [1, 10, 64] {
                let mut g = vec![0.0; p];
                let jb = objective_in_blocks(
                    &net,
                    &theta,
                    rows,
                    0.01,
                    0.02,
                    &mut ws,
                    Some(&mut g),
                    block,
                );
                assert!(
                    (jb - j).abs() <= 1e-13 * j.abs(),
                    "{loss:?} block {block}: {jb} vs {j}"
                );
                for (a, b) in g.iter().zip(&whole) {
                    assert!(
                        (a - b).abs() <= 1e-13 * (1.0 + b.abs()),
                        "{loss:?} block {block}"
                    );
                }
            }
        }
    }
}
