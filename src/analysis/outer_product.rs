//! The weight update as a sum of outer products (THEORY row 32).
//!
//! For u = W a + b, back-propagation gives the gradient of one row's loss as ∂ℓ/∂W = δ aᵀ with
//! δ = ∂ℓ/∂u = ∂ℓ/∂b. A plain SGD step on a batch of m rows therefore moves W by
//!
//!   ΔW = −η (1/m) Σ_r δ_r a_rᵀ,
//!
//! a matrix of rank at most m (rank 1 for one example). Here δ_r is read independently of the
//! weight gradient — as the bias gradient of row r alone — and a_r from the forward pass, so
//! comparing this prediction with the ΔW a training step actually made checks the claim. Adam
//! divides each entry by its own running scale, so its update is no longer an outer product:
//! [`numerical_rank`] shows it.

use faer::Mat;

use crate::error::{Error, Result};
use crate::net::network::{BnMode, Network, Workspace};
use crate::net::objective::{Rows, objective};

/// Why the outer-product form does not hold for this network's training step, or `None`.
pub fn not_applicable(net: &Network) -> Option<String> {
    for (i, l) in net.layers.iter().enumerate() {
        if l.batch_norm {
            return Some(format!(
                "layer {} has BatchNorm, which couples the rows of a batch: the update is not a sum of per-row outer products",
                i + 1
            ));
        }
        if l.dropout > 0.0 {
            return Some(format!(
                "layer {} has dropout, whose random masks the prediction cannot see",
                i + 1
            ));
        }
    }
    None
}

/// −η (1/m) Σ_r δ_r a_rᵀ for every layer, at θ over the batch `rows`: one matrix per layer,
/// row-major [units × fan_in] like W in θ.
pub fn predicted_update(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    lr: f64,
) -> Result<Vec<Vec<f64>>> {
    if let Some(why) = not_applicable(net) {
        return Err(Error::new(why));
    }
    let m = rows.len();
    if m == 0 || rows.x.len() != m * net.inputs {
        return Err(Error::new("the batch has no rows or the wrong width"));
    }
    let mut ws = Workspace::default();
    let mut grad = vec![0.0; net.n_params];
    let mut out: Vec<Vec<f64>> = net
        .layers
        .iter()
        .map(|l| vec![0.0; l.n_weights()])
        .collect();
    let scale = -lr / m as f64;
    for r in 0..m {
        let d = net.inputs;
        let one = Rows {
            x: &rows.x[r * d..(r + 1) * d],
            y: &rows.y[r..r + 1],
            classes: rows.classes,
        };
        // δ_r per layer = the bias gradient of this row's loss alone.
        objective(net, theta, one, 0.0, 0.0, &mut ws, Some(&mut grad));
        net.forward(theta, one.x, 1, &mut ws, BnMode::Batch, None);
        for (i, (layer, acc)) in net.layers.iter().zip(out.iter_mut()).enumerate() {
            let a: &[f64] = if i == 0 {
                &ws.input
            } else {
                ws.layers[i - 1].out()
            };
            let delta = &grad[layer.b..layer.b + layer.units];
            for (j, &dj) in delta.iter().enumerate() {
                for (k, &ak) in a.iter().enumerate() {
                    acc[j * layer.fan_in + k] += scale * dj * ak;
                }
            }
        }
    }
    Ok(out)
}

/// The number of singular values of the [rows × cols] row-major matrix above
/// `rel_tol` × the largest (0 for the zero matrix).
pub fn numerical_rank(m: &[f64], rows: usize, cols: usize, rel_tol: f64) -> Result<usize> {
    if m.len() != rows * cols {
        return Err(Error::new("the matrix does not have rows × cols entries"));
    }
    let a = Mat::<f64>::from_fn(rows, cols, |i, j| m[i * cols + j]);
    let s = a
        .singular_values()
        .map_err(|e| Error::new(format!("the SVD did not converge ({e:?})")))?;
    let top = s.first().copied().unwrap_or(0.0);
    if top == 0.0 {
        return Ok(0);
    }
    Ok(s.iter().filter(|&&v| v > rel_tol * top).count())
}
