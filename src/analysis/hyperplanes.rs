//! The first layer's "hyperplanes" over the input plane: for each unit, the set where its
//! activation's argument is zero. With raw x₁, x₂ that is a straight line; with features such as
//! x₁², x₁x₂ or sin x₁ it is a curve, found here as a contour; with BatchNorm it is the zero set
//! of γ·(z − μ)/√(σ² + ε) + β with the training-set statistics the decision map uses. The app's
//! output tile draws them over the decision map.

use super::contour::{Polyline, zero_set};
use crate::net::Network;
use crate::net::network::{BN_EPS, batch_mean_var};

/// BatchNorm statistics of the first layer's z = Wφ(x) + b over the training rows (the same
/// statistics the decision map is evaluated with). None without BatchNorm on the first layer.
pub fn first_layer_bn(net: &Network, theta: &[f64], x: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let l = net.layers.first()?;
    if !l.batch_norm || theta.len() != net.n_params || net.inputs == 0 {
        return None;
    }
    let rows = x.len() / net.inputs;
    if rows == 0 {
        return None;
    }
    let mut z = Vec::with_capacity(rows * l.units);
    let mut phi = vec![0.0; net.features.len()];
    for r in 0..rows {
        let xr = &x[r * net.inputs..(r + 1) * net.inputs];
        for (p, f) in phi.iter_mut().zip(&net.features) {
            *p = f.eval(xr);
        }
        z.extend((0..l.units).map(|j| unit_z(net, theta, j, &phi)));
    }
    let (mut mean, mut var) = (vec![0.0; l.units], vec![0.0; l.units]);
    batch_mean_var(&z, l.units, &mut mean, &mut var);
    Some((mean, var))
}

/// z_j = w_j·φ + b_j of first-layer unit j.
fn unit_z(net: &Network, theta: &[f64], j: usize, phi: &[f64]) -> f64 {
    let l = &net.layers[0];
    let w = &theta[l.w + j * l.fan_in..l.w + (j + 1) * l.fan_in];
    w.iter().zip(phi).map(|(a, b)| a * b).sum::<f64>() + theta[l.b + j]
}

/// The argument of first-layer unit j's activation at the raw 2-D point (x₁, x₂): z_j, or
/// γ_j (z_j − μ_j)/√(σ_j² + ε) + β_j with BatchNorm statistics `bn`.
pub fn unit_argument(
    net: &Network,
    theta: &[f64],
    bn: Option<&(Vec<f64>, Vec<f64>)>,
    j: usize,
    x: [f64; 2],
) -> f64 {
    let l = &net.layers[0];
    let w = &theta[l.w + j * l.fan_in..l.w + (j + 1) * l.fan_in];
    let z = w
        .iter()
        .zip(&net.features)
        .map(|(a, f)| a * f.eval(&x))
        .sum::<f64>()
        + theta[l.b + j];
    match (bn, l.gamma, l.beta) {
        (Some((mean, var)), Some(g), Some(b)) => {
            theta[g + j] * (z - mean[j]) / (var[j] + BN_EPS).sqrt() + theta[b + j]
        }
        _ => z,
    }
}

/// Per first-layer unit (the first `max_units`), the zero set of its activation's argument over
/// the box, on `n`×`n` cells ([`zero_set`]). Empty unless the network has 2 raw inputs and θ
/// fits it.
pub fn first_layer_zero_sets(
    net: &Network,
    theta: &[f64],
    bn: Option<&(Vec<f64>, Vec<f64>)>,
    xr: (f64, f64),
    yr: (f64, f64),
    n: usize,
    max_units: usize,
) -> Vec<Vec<Polyline>> {
    let Some(l) = net.layers.first() else {
        return Vec::new();
    };
    if net.inputs != 2 || theta.len() != net.n_params || l.fan_in != net.features.len() {
        return Vec::new();
    }
    let bn = bn.filter(|(m, v)| l.batch_norm && m.len() == l.units && v.len() == l.units);
    (0..l.units.min(max_units))
        .map(|j| zero_set(|a, b| unit_argument(net, theta, bn, j, [a, b]), xr, yr, n))
        .collect()
}
