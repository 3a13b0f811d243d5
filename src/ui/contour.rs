//! The first layer's "hyperplanes" over the input plane: for each unit, the set where its
//! activation's argument is zero. With raw x₁, x₂ that is a straight line; with features such as
//! x₁², x₁x₂ or sin x₁ it is a curve, found here as a contour; with BatchNorm it is the zero set
//! of γ·(z − μ)/√(σ² + ε) + β with the training-set statistics the decision map uses.

use std::collections::HashMap;

use crate::net::Network;
use crate::net::network::{BN_EPS, batch_mean_var};

/// A polyline in the input plane.
pub type Polyline = Vec<[f64; 2]>;

/// Units of the first layer whose zero sets are drawn (as many as the diagram draws as dots).
pub const MAX_UNITS: usize = crate::runtime::worker::MAX_NEURON_MAPS;

/// The zero set of `f` over the box, as polylines. Marching squares on `n`×`n` cells says which
/// cell edges the set crosses; each crossing is then located by bisection of `f` along its edge,
/// so every returned point is a zero of `f` to floating-point accuracy, not to grid accuracy.
/// Cells with a non-finite corner are skipped.
pub fn zero_set(
    f: impl Fn(f64, f64) -> f64,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    n: usize,
) -> Vec<Polyline> {
    let n = n.max(1);
    let finite = [x0, x1, y0, y1].iter().all(|v| v.is_finite());
    if !finite || x1 <= x0 || y1 <= y0 {
        return Vec::new();
    }
    let px = |i: usize| x0 + (x1 - x0) * i as f64 / n as f64;
    let py = |j: usize| y0 + (y1 - y0) * j as f64 / n as f64;
    let side = n + 1;
    let v: Vec<f64> = (0..side * side)
        .map(|k| f(px(k % side), py(k / side)))
        .collect();
    let at = |i: usize, j: usize| v[j * side + i];
    // Edge ids: 2·corner for the edge to the right of a corner, 2·corner + 1 for the one above.
    let right = |i: usize, j: usize| 2 * (j * side + i);
    let up = |i: usize, j: usize| 2 * (j * side + i) + 1;
    let mut points: HashMap<usize, [f64; 2]> = HashMap::new();
    let mut crossing = |id: usize| -> [f64; 2] {
        *points.entry(id).or_insert_with(|| {
            let (c, vertical) = (id / 2, id % 2 == 1);
            let (i, j) = (c % side, c / side);
            let a = [px(i), py(j)];
            let b = if vertical {
                [px(i), py(j + 1)]
            } else {
                [px(i + 1), py(j)]
            };
            bisect(&f, a, b)
        })
    };
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let c = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if c.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let s = c.map(|x| x >= 0.0);
            // Edges in order: bottom (a→b), right (b→c), top (d→c), left (a→d).
            let edges = [right(i, j), up(i + 1, j), right(i, j + 1), up(i, j)];
            let crossed = [s[0] != s[1], s[1] != s[2], s[3] != s[2], s[0] != s[3]];
            let hits: Vec<usize> = (0..4).filter(|&e| crossed[e]).collect();
            match hits.len() {
                2 => segments.push((edges[hits[0]], edges[hits[1]])),
                4 => {
                    // A saddle: the centre's sign says which corners the curves cut off.
                    let centre = f((px(i) + px(i + 1)) / 2.0, (py(j) + py(j + 1)) / 2.0);
                    if (centre >= 0.0) == s[0] {
                        // a and c joined through the centre: cut off b and d.
                        segments.push((edges[0], edges[1]));
                        segments.push((edges[3], edges[2]));
                    } else {
                        segments.push((edges[0], edges[3]));
                        segments.push((edges[1], edges[2]));
                    }
                }
                _ => {}
            }
        }
    }
    chain(&segments)
        .into_iter()
        .map(|ids| ids.into_iter().map(&mut crossing).collect())
        .collect()
}

/// A zero of `f` on the segment a–b, where f(a) and f(b) differ in sign (≥ 0 vs < 0):
/// regula falsi with the Illinois fix (a handful of evaluations on a smooth f, never worse than
/// bisection's bracket), returning the evaluated point closest to zero.
fn bisect(f: &impl Fn(f64, f64) -> f64, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    let at = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    let eval = |t: f64| {
        let p = at(t);
        f(p[0], p[1])
    };
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let (mut f0, mut f1) = (eval(t0), eval(t1));
    let (mut best_t, mut best_f) = if f0.abs() <= f1.abs() {
        (t0, f0.abs())
    } else {
        (t1, f1.abs())
    };
    // Done when |f| is at rounding level of the values at the ends, or the bracket is.
    let tol = 1e-14 * f0.abs().max(f1.abs());
    let mut last_side = 0i8;
    for _ in 0..100 {
        if best_f <= tol || t1 - t0 < 1e-15 {
            break;
        }
        let secant = (t0 * f1 - t1 * f0) / (f1 - f0);
        let t = if secant.is_finite() && secant > t0 && secant < t1 {
            secant
        } else {
            0.5 * (t0 + t1)
        };
        let ft = eval(t);
        if ft.abs() < best_f {
            (best_t, best_f) = (t, ft.abs());
        }
        if (ft >= 0.0) == (f0 >= 0.0) {
            (t0, f0) = (t, ft);
            if last_side == -1 {
                f1 *= 0.5;
            }
            last_side = -1;
        } else {
            (t1, f1) = (t, ft);
            if last_side == 1 {
                f0 *= 0.5;
            }
            last_side = 1;
        }
    }
    at(best_t)
}

/// Join segments that share an edge id into chains (closed chains repeat their first id).
fn chain(segments: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &(a, b)) in segments.iter().enumerate() {
        by_edge.entry(a).or_default().push(k);
        by_edge.entry(b).or_default().push(k);
    }
    let mut used = vec![false; segments.len()];
    let mut out = Vec::new();
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = segments[start];
        let mut line = std::collections::VecDeque::from([a, b]);
        // Grow forward from b, then backward from a.
        for forward in [true, false] {
            loop {
                let end = if forward {
                    *line.back().unwrap_or(&b)
                } else {
                    *line.front().unwrap_or(&a)
                };
                let next = by_edge
                    .get(&end)
                    .and_then(|v| v.iter().copied().find(|&k| !used[k]));
                let Some(k) = next else { break };
                used[k] = true;
                let (p, q) = segments[k];
                let other = if p == end { q } else { p };
                if forward {
                    line.push_back(other);
                } else {
                    line.push_front(other);
                }
            }
        }
        out.push(line.into_iter().collect());
    }
    out
}

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

/// Per first-layer unit (at most [`MAX_UNITS`]), the zero set of its activation's argument over
/// the box, on `n`×`n` cells. Empty unless the network has 2 raw inputs and θ fits it.
pub fn first_layer_zero_sets(
    net: &Network,
    theta: &[f64],
    bn: Option<&(Vec<f64>, Vec<f64>)>,
    xr: (f64, f64),
    yr: (f64, f64),
    n: usize,
) -> Vec<Vec<Polyline>> {
    let Some(l) = net.layers.first() else {
        return Vec::new();
    };
    if net.inputs != 2 || theta.len() != net.n_params || l.fan_in != net.features.len() {
        return Vec::new();
    }
    let bn = bn.filter(|(m, v)| l.batch_norm && m.len() == l.units && v.len() == l.units);
    (0..l.units.min(MAX_UNITS))
        .map(|j| zero_set(|a, b| unit_argument(net, theta, bn, j, [a, b]), xr, yr, n))
        .collect()
}
