//! Singular values of the layer-to-layer Jacobian (THEORY row 37; Saxe et al. 2014, Pennington
//! et al. 2017): dynamical isometry.
//!
//! With h⁽ˡ⁾ the output of hidden layer l and u⁽ˡ⁾ = W⁽ˡ⁾h⁽ˡ⁻¹⁾ + b⁽ˡ⁾, the Jacobian from the
//! first hidden layer to layer l is
//!
//!   J⁽ˡ⁾ = ∂h⁽ˡ⁾/∂h⁽¹⁾ = D⁽ˡ⁾W⁽ˡ⁾ ⋯ D⁽²⁾W⁽²⁾,   D⁽ᵏ⁾ = diag φ′(u⁽ᵏ⁾)
//!
//! (I + D W per residual layer; BatchNorm in evaluation mode scales the rows of W). At each data
//! point the singular values of J⁽ˡ⁾ are pooled per depth. Mean-field theory predicts the mean
//! of σ² from the per-layer factor σ_w²χ (σ_w² = fan_in·mean W², χ = mean φ′(u)²) that the
//! Dynamics tile reports: E‖D W v‖² ≈ σ_w²χ·(units/fan_in)‖v‖², so
//!
//!   mean σ²(J⁽ˡ⁾) ≈ (n₁ / min(n₁, n_l)) ∏ₖ₌₂ˡ σ_w,k² χ_k n_k / fan_in_k.
//!
//! Isometry means every σ ≈ 1, not only their mean: orthogonal weights with a near-linear
//! activation keep the spread small at any depth, Gaussian weights spread it with depth.

use faer::Mat;

use crate::error::{Error, Result};
use crate::net::linalg::{view, view_mut};
use crate::net::{BnMode, BnStats, Network, Workspace};

/// Most data points the spectrum is computed at.
pub const MAX_POINTS: usize = 256;
/// Widest hidden layer (an SVD per point and depth costs width³).
pub const MAX_WIDTH: usize = 512;
/// Most singular values kept in one report (points × depths × width).
pub const MAX_VALUES: usize = 4_000_000;
/// Most floating-point operations one report may take (products and SVDs, ~10 s here).
pub const MAX_FLOPS: f64 = 2e10;

/// The spectrum at one depth.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DepthSpectrum {
    /// 1-based hidden layer l of J⁽ˡ⁾ = ∂h⁽ˡ⁾/∂h⁽¹⁾ (l − 1 factors D W).
    pub layer: usize,
    /// Every singular value at every point, descending.
    pub singular_values: Vec<f64>,
    /// Mean of σ².
    pub mean_sq: f64,
    /// The mean-field prediction of `mean_sq` from σ_w²χ per layer.
    pub predicted_mean_sq: f64,
    /// The smallest singular value.
    pub min: f64,
    /// The largest singular value.
    pub max: f64,
    /// std(σ) / mean(σ): 0 for perfect isometry (or any single repeated value).
    pub spread: f64,
}

/// The Jacobian's singular values at each depth.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JacobianReport {
    /// Data points the Jacobians were taken at.
    pub points: usize,
    /// One entry per hidden layer from the second on.
    pub depths: Vec<DepthSpectrum>,
}

/// Why the spectrum does not apply to this network, or `None` when it does.
pub fn not_applicable(net: &Network) -> Option<String> {
    let hidden = net.layers.len() - 1;
    if hidden < 2 {
        return Some(format!(
            "the layer-to-layer Jacobian needs at least two hidden layers (the network has {hidden})"
        ));
    }
    let widest = net.layers[..hidden]
        .iter()
        .map(|l| l.units)
        .max()
        .unwrap_or(0);
    if widest > MAX_WIDTH {
        return Some(format!(
            "a hidden layer has {widest} units; the Jacobian spectrum is computed up to {MAX_WIDTH}"
        ));
    }
    None
}

/// J⁽ˡ⁾ at one raw input row, for l = 2 … hidden: each [n_l × n₁] row-major.
pub fn jacobians_at(
    net: &Network,
    theta: &[f64],
    bn: Option<&BnStats>,
    x: &[f64],
) -> Result<Vec<Vec<f64>>> {
    let n1 = net.layers[0].units;
    let entries: usize = net.layers[1..net.layers.len() - 1]
        .iter()
        .map(|l| l.units * n1)
        .sum();
    if entries > MAX_VALUES {
        return Err(Error::new(format!(
            "the Jacobians have {entries} entries (at most {MAX_VALUES} are kept)"
        )));
    }
    let mut ws = Workspace::default();
    forward(net, theta, bn, x, 1, &mut ws)?;
    let mut out = Vec::new();
    chain(net, theta, &ws, 0, |_, j| out.push(j.to_vec()));
    Ok(out)
}

fn forward(
    net: &Network,
    theta: &[f64],
    bn: Option<&BnStats>,
    x: &[f64],
    rows: usize,
    ws: &mut Workspace,
) -> Result<()> {
    if let Some(why) = not_applicable(net) {
        return Err(Error::new(why));
    }
    if theta.len() != net.n_params || x.len() != rows * net.inputs {
        return Err(Error::new(
            "θ or the input rows do not match the network's size",
        ));
    }
    let mode = match bn {
        Some(s) => BnMode::Fixed(s),
        None if net.has_batch_norm() => {
            return Err(Error::new(
                "the network has BatchNorm: its statistics are needed to fix the Jacobian",
            ));
        }
        None => BnMode::Batch,
    };
    net.forward(theta, x, rows, ws, mode, None);
    Ok(())
}

/// The chain of Jacobians at row `r` of a forward pass already in `ws`: `visit(d, J)` for
/// J = J⁽ᵈ⁺²⁾ (only the current one is held).
fn chain(
    net: &Network,
    theta: &[f64],
    ws: &Workspace,
    r: usize,
    mut visit: impl FnMut(usize, &[f64]),
) {
    let hidden = net.layers.len() - 1;
    let n1 = net.layers[0].units;
    let mut j: Vec<f64> = (0..n1 * n1)
        .map(|k| if k / n1 == k % n1 { 1.0 } else { 0.0 })
        .collect();
    for (li, layer) in net.layers.iter().enumerate().take(hidden).skip(1) {
        let (n, k) = (layer.units, layer.fan_in);
        let cache = &ws.layers[li];
        let w = layer.weight_view(theta);
        let alpha = layer.prelu.map(|p| &theta[p..p + n]);
        let mut next = vec![0.0; n * n1];
        for i in 0..n {
            let u = cache.u[r * n + i];
            let f = cache.f[r * n + i];
            let p = alpha.map_or(layer.param, |a| a[i]);
            let mut d = layer.activation.deriv(u, f, p);
            if let Some(g) = layer.gamma {
                d *= theta[g + i] * cache.invstd[i];
            }
            // Row i of the next Jacobian: Σ_m d·W[i, m] · (row m of this one).
            let mut next = view_mut(n, n1, &mut next);
            let mut row = next.row_mut(i);
            for (m, &wim) in w.row(i).iter().enumerate() {
                if wim == 0.0 {
                    continue;
                }
                row.scaled_add(d * wim, &view(k, n1, &j).row(m));
            }
        }
        if layer.residual {
            for (o, &jm) in next.iter_mut().zip(&j) {
                *o += jm;
            }
        }
        visit(li - 1, &next);
        j = next;
    }
}

/// The singular values of J⁽ˡ⁾ at each of `rows` raw input rows `x`, pooled per depth.
pub fn jacobian_spectrum(
    net: &Network,
    theta: &[f64],
    bn: Option<&BnStats>,
    x: &[f64],
    rows: usize,
) -> Result<JacobianReport> {
    if rows == 0 || rows > MAX_POINTS {
        return Err(Error::new(format!(
            "the Jacobian spectrum needs 1 to {MAX_POINTS} points (got {rows})"
        )));
    }
    let hidden = net.layers.len() - 1;
    let n1 = net.layers[0].units;
    let values: usize = net.layers[..hidden]
        .iter()
        .map(|l| l.units.min(n1))
        .sum::<usize>()
        * rows;
    if values > MAX_VALUES {
        return Err(Error::new(format!(
            "{values} singular values would be kept (at most {MAX_VALUES}); use fewer points"
        )));
    }
    // Per point and depth: the product (n·fan_in·n₁) and an SVD (~10·n·n₁·min).
    let flops: f64 = net.layers[1..hidden]
        .iter()
        .map(|l| {
            let (n, k, m) = (l.units as f64, l.fan_in as f64, n1 as f64);
            2.0 * n * k * m + 10.0 * n * m * n.min(m)
        })
        .sum::<f64>()
        * rows as f64;
    if flops > MAX_FLOPS {
        return Err(Error::new(format!(
            "the spectrum would take about {flops:.1e} operations (at most {MAX_FLOPS:.0e}); use fewer points or a smaller network"
        )));
    }
    let mut ws = Workspace::default();
    forward(net, theta, bn, x, rows, &mut ws)?;
    let mut pooled: Vec<Vec<f64>> = vec![Vec::new(); hidden - 1];
    let mut failed = None;
    for r in 0..rows {
        chain(net, theta, &ws, r, |d, j| {
            let n = net.layers[d + 1].units;
            let m = Mat::<f64>::from_fn(n, n1, |i, c| j[i * n1 + c]);
            match m.singular_values() {
                Ok(s) => pooled[d].extend(s),
                Err(e) => {
                    failed = Some(format!(
                        "the SVD of the Jacobian at layer {} did not converge ({e:?})",
                        d + 2
                    ))
                }
            }
        });
        if let Some(e) = failed.take() {
            return Err(Error::new(e));
        }
    }
    // The mean-field factor per layer, measured over the same rows.
    let mut predicted = 1.0;
    let depths = pooled
        .into_iter()
        .enumerate()
        .map(|(d, mut s)| {
            let li = d + 1;
            let layer = &net.layers[li];
            let w = layer.weights(theta);
            let sigma_w2 = w.iter().map(|v| v * v).sum::<f64>() / layer.units as f64;
            let alpha = layer.prelu.map(|p| &theta[p..p + layer.units]);
            let cache = &ws.layers[li];
            let chi = (0..rows * layer.units)
                .map(|e| {
                    let p = alpha.map_or(layer.param, |a| a[e % layer.units]);
                    layer.activation.deriv(cache.u[e], cache.f[e], p).powi(2)
                })
                .sum::<f64>()
                / (rows * layer.units) as f64;
            predicted *= sigma_w2 * chi * layer.units as f64 / layer.fan_in as f64;
            s.sort_by(|a, b| b.total_cmp(a));
            let n = s.len() as f64;
            let mean = s.iter().sum::<f64>() / n;
            let mean_sq = s.iter().map(|v| v * v).sum::<f64>() / n;
            let var = (mean_sq - mean * mean).max(0.0);
            DepthSpectrum {
                layer: li + 1,
                min: s.last().copied().unwrap_or(0.0),
                max: s.first().copied().unwrap_or(0.0),
                mean_sq,
                predicted_mean_sq: predicted * n1 as f64 / n1.min(layer.units) as f64,
                spread: if mean > 0.0 { var.sqrt() / mean } else { 0.0 },
                singular_values: s,
            }
        })
        .collect();
    Ok(JacobianReport {
        points: rows,
        depths,
    })
}
