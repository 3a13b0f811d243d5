//! Linear regions of a piecewise-linear network (THEORY row 4; Montúfar et al. 2014, Hanin &
//! Rolnick 2019): the exact partition of an input box (2-D) or interval (1-D) into the convex
//! cells on which every hidden unit keeps one side of its kink, so the network is affine on each.
//!
//! Not a grid: the box is one convex cell carrying the affine map x ↦ A x + c of the current
//! layer's activations. Layer by layer, every cell is cut by each unit's zero line
//! {x : (W A x + W c + b)_j = 0} (a convex polygon cut by a line gives two convex polygons), and
//! each piece gets the new affine map of its side. The output layer's map is kept per region.
//!
//! Hidden activations must be piecewise linear: identity, ReLU, leaky ReLU, PReLU, or the step
//! (piecewise constant). Inputs must be the raw columns (features like x1² bend the cells).

use crate::error::{Error, Result};
use crate::net::features::Feature;
use crate::net::network::BN_EPS;
use crate::net::{Activation, BnStats, Network};

/// Memory the cells may take while the partition is built (their affine maps dominate).
pub const MEMORY_BUDGET: usize = 64 << 20;
/// Most regions computed, whatever the width.
pub const MAX_REGIONS: usize = 50_000;

/// The input box: [x0, x1] (1-D) or [x0, x1] × [y0, y1] (2-D).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputBox {
    /// [x0, x1].
    pub x: (f64, f64),
    /// Ignored for 1-D inputs.
    pub y: (f64, f64),
}

/// One linear region.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Per hidden layer with kinks, per unit: is it on the positive side of its kink (u > 0)?
    /// Identity layers contribute no bits.
    pub pattern: Vec<Vec<bool>>,
    /// Convex polygon, counter-clockwise (2-D), or the interval's two ends as [x, 0] (1-D).
    pub vertices: Vec<[f64; 2]>,
    /// The network's output units (logits) on this region: out = grad · x + bias,
    /// `grad` row-major [outputs × inputs].
    pub out_grad: Vec<f64>,
    /// `bias` of the affine map above, one per output.
    pub out_bias: Vec<f64>,
}

impl Region {
    /// A point strictly inside the region (the mean of its vertices).
    pub fn interior_point(&self) -> [f64; 2] {
        let n = self.vertices.len() as f64;
        let (sx, sy) = self
            .vertices
            .iter()
            .fold((0.0, 0.0), |(a, b), v| (a + v[0], b + v[1]));
        [sx / n, sy / n]
    }

    /// The pattern as text: one 0/1 per unit, layers separated by `|`.
    pub fn pattern_text(&self) -> String {
        self.pattern
            .iter()
            .map(|l| l.iter().map(|&b| if b { '1' } else { '0' }).collect())
            .collect::<Vec<String>>()
            .join("|")
    }

    /// Area (2-D) or length (1-D).
    pub fn measure(&self) -> f64 {
        if self.vertices.len() == 2 {
            return (self.vertices[1][0] - self.vertices[0][0]).abs();
        }
        polygon_area(&self.vertices)
    }
}

/// The partition.
#[derive(Clone, Debug, PartialEq)]
pub struct Regions {
    /// 1 or 2.
    pub inputs: usize,
    /// The box partitioned.
    pub bounds: InputBox,
    /// The regions, each once.
    pub regions: Vec<Region>,
}

impl Regions {
    /// 1-D: the interior ends of the regions, ascending (empty for 2-D).
    pub fn breakpoints(&self) -> Vec<f64> {
        if self.inputs != 1 {
            return Vec::new();
        }
        let mut ends: Vec<f64> = self.regions.iter().map(|r| r.vertices[1][0]).collect();
        ends.sort_by(f64::total_cmp);
        ends.pop();
        ends
    }
}

/// Why the partition does not apply to this network, or `None` when it does.
pub fn not_applicable(net: &Network) -> Option<String> {
    if !(1..=2).contains(&net.inputs) {
        return Some(format!(
            "linear regions are drawn for 1-D or 2-D inputs (the network has {})",
            net.inputs
        ));
    }
    if let Some(f) = net.features.iter().find(|f| !matches!(f, Feature::Raw(_))) {
        return Some(format!(
            "the input feature {} is not linear in x, so the regions are not polygons; use the raw inputs",
            f.label()
        ));
    }
    let hidden = &net.layers[..net.layers.len() - 1];
    for (i, l) in hidden.iter().enumerate() {
        if !is_piecewise_linear(l.activation) {
            return Some(format!(
                "hidden layer {} uses {}, which is not piecewise linear: the network has no linear regions (use relu, leaky_relu, prelu, identity or step)",
                i + 1,
                l.activation.name()
            ));
        }
    }
    None
}

/// Is the activation affine on each side of u = 0?
pub fn is_piecewise_linear(a: Activation) -> bool {
    matches!(
        a,
        Activation::Identity
            | Activation::Relu
            | Activation::LeakyRelu
            | Activation::Prelu
            | Activation::Step
    )
}

/// Does the activation have a kink at u = 0 (a bit in the pattern)?
fn has_kink(a: Activation) -> bool {
    a != Activation::Identity
}

/// Most cells the partition may hold for this network (memory budget and `MAX_REGIONS`).
pub fn max_cells(net: &Network) -> usize {
    let d = net.inputs.max(1);
    let widest = net.layers.iter().map(|l| l.units).max().unwrap_or(1);
    let bits: usize = net.layers.iter().map(|l| l.units).sum();
    // Affine map (widest × (d + 1)), pattern bits, ~8 vertices.
    let per_cell = 8 * widest * (d + 1) + bits + 16 * 8 + 96;
    (MEMORY_BUDGET / per_cell).min(MAX_REGIONS)
}

/// Vertices of a convex polygon (2-D) or the two ends of an interval as [x, 0] (1-D).
type Polygon = Vec<[f64; 2]>;

/// A cell being cut: its polygon (or interval) and the affine map of the current activations.
struct Cell {
    vertices: Vec<[f64; 2]>,
    /// [units × d], row-major.
    a: Vec<f64>,
    c: Vec<f64>,
    pattern: Vec<Vec<bool>>,
}

/// The exact partition of `bounds` into linear regions of `net` at `theta`. `bn`: the BatchNorm
/// statistics the decision map uses (evaluation mode; required when the network has BatchNorm).
pub fn regions(
    net: &Network,
    theta: &[f64],
    bn: Option<&BnStats>,
    bounds: InputBox,
) -> Result<Regions> {
    if let Some(why) = not_applicable(net) {
        return Err(Error::new(why));
    }
    if theta.len() != net.n_params {
        return Err(Error::new(format!(
            "θ has {} entries but the network has {} parameters",
            theta.len(),
            net.n_params
        )));
    }
    if net.has_batch_norm() && bn.is_none() {
        return Err(Error::new(
            "the network has BatchNorm: its statistics are needed to fix the affine maps",
        ));
    }
    let d = net.inputs;
    let ok = |(a, b): (f64, f64)| a.is_finite() && b.is_finite() && a < b;
    if !ok(bounds.x) || (d == 2 && !ok(bounds.y)) {
        return Err(Error::field(
            "--box",
            "needs finite ends with x0 < x1 (and y0 < y1 for 2-D inputs)",
        ));
    }
    let cap = max_cells(net);
    let scale = bounds.x.0.abs().max(bounds.x.1.abs()).max(if d == 2 {
        bounds.y.0.abs().max(bounds.y.1.abs())
    } else {
        0.0
    });
    // Pieces smaller than this (area or length) are rounding slivers of a cut through a vertex.
    let min_measure = if d == 2 {
        1e-20 * (bounds.x.1 - bounds.x.0) * (bounds.y.1 - bounds.y.0)
    } else {
        1e-13 * (bounds.x.1 - bounds.x.0)
    };

    // The first layer sees the raw columns its features name.
    let nf = net.features.len();
    let mut a0 = vec![0.0; nf * d];
    for (k, f) in net.features.iter().enumerate() {
        if let Feature::Raw(i) = f {
            a0[k * d + i] = 1.0;
        }
    }
    let vertices = if d == 2 {
        vec![
            [bounds.x.0, bounds.y.0],
            [bounds.x.1, bounds.y.0],
            [bounds.x.1, bounds.y.1],
            [bounds.x.0, bounds.y.1],
        ]
    } else {
        vec![[bounds.x.0, 0.0], [bounds.x.1, 0.0]]
    };
    let mut cells = vec![Cell {
        vertices,
        a: a0,
        c: vec![0.0; nf],
        pattern: Vec::new(),
    }];

    let last = net.layers.len() - 1;
    for (li, layer) in net.layers.iter().enumerate() {
        let n = layer.units;
        // Pre-activation u = S (W (A x + c) + b) + t, with S, t from BatchNorm.
        let (bn_scale, bn_shift) = bn_affine(net, theta, bn, li);
        let w = layer.weights(theta);
        let b = layer.bias(theta);
        let mut next = Vec::with_capacity(cells.len());
        for cell in cells {
            let (ua, uc) = pre_activation(w, b, &cell.a, &cell.c, n, layer.fan_in, d);
            let ua: Vec<f64> = ua
                .iter()
                .enumerate()
                .map(|(e, g)| g * bn_scale[e / d])
                .collect();
            let uc: Vec<f64> = (0..n).map(|j| uc[j] * bn_scale[j] + bn_shift[j]).collect();
            if li == last {
                next.push(Cell {
                    vertices: cell.vertices,
                    a: ua,
                    c: uc,
                    pattern: cell.pattern,
                });
                continue;
            }
            // Cut by each unit's zero line in turn; each piece remembers its sides.
            let mut pieces: Vec<(Vec<[f64; 2]>, Vec<bool>)> =
                vec![(cell.vertices, Vec::with_capacity(n))];
            if has_kink(layer.activation) {
                for j in 0..n {
                    let g = &ua[j * d..(j + 1) * d];
                    let mut cut = Vec::with_capacity(pieces.len() + 1);
                    for (poly, sides) in pieces {
                        let (pos, neg) = split(&poly, g, uc[j], scale, min_measure);
                        for (part, side) in [(pos, true), (neg, false)] {
                            if let Some(p) = part {
                                let mut s = sides.clone();
                                s.push(side);
                                cut.push((p, s));
                            }
                        }
                    }
                    pieces = cut;
                    if next.len() + pieces.len() > cap {
                        return Err(too_many(cap, li));
                    }
                }
            }
            let alpha = layer.prelu.map(|p| &theta[p..p + n]);
            for (poly, sides) in pieces {
                let (mut na, mut nc) = (vec![0.0; n * d], vec![0.0; n]);
                for j in 0..n {
                    let on = sides.get(j).copied().unwrap_or(true);
                    let p = alpha.map_or(layer.param, |a| a[j]);
                    // f(u) = slope·u + offset on this side.
                    let (slope, offset) = match layer.activation {
                        Activation::Relu => (if on { 1.0 } else { 0.0 }, 0.0),
                        Activation::LeakyRelu | Activation::Prelu => {
                            (if on { 1.0 } else { p }, 0.0)
                        }
                        Activation::Step => (0.0, if on { 1.0 } else { -1.0 }),
                        _ => (1.0, 0.0),
                    };
                    for k in 0..d {
                        na[j * d + k] = slope * ua[j * d + k];
                    }
                    nc[j] = slope * uc[j] + offset;
                }
                if layer.residual {
                    for (x, y) in na.iter_mut().zip(&cell.a) {
                        *x += y;
                    }
                    for (x, y) in nc.iter_mut().zip(&cell.c) {
                        *x += y;
                    }
                }
                let mut pattern = cell.pattern.clone();
                if has_kink(layer.activation) {
                    pattern.push(sides);
                }
                next.push(Cell {
                    vertices: poly,
                    a: na,
                    c: nc,
                    pattern,
                });
            }
            if next.len() > cap {
                return Err(too_many(cap, li));
            }
        }
        cells = next;
    }
    let regions = cells
        .into_iter()
        .map(|c| Region {
            pattern: c.pattern,
            vertices: c.vertices,
            out_grad: c.a,
            out_bias: c.c,
        })
        .collect();
    Ok(Regions {
        inputs: d,
        bounds,
        regions,
    })
}

fn too_many(cap: usize, layer: usize) -> Error {
    Error::new(format!(
        "more than {cap} linear regions by hidden layer {} (the limit for this width within {} MB); use a smaller box or network",
        layer + 1,
        MEMORY_BUDGET >> 20
    ))
}

/// (W A, W c + b) for a layer: [n × d] and [n].
fn pre_activation(
    w: &[f64],
    b: &[f64],
    a: &[f64],
    c: &[f64],
    n: usize,
    fan_in: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut ua = vec![0.0; n * d];
    let mut uc = b.to_vec();
    for j in 0..n {
        let wr = &w[j * fan_in..(j + 1) * fan_in];
        for (i, &wji) in wr.iter().enumerate() {
            if wji == 0.0 {
                continue;
            }
            for k in 0..d {
                ua[j * d + k] += wji * a[i * d + k];
            }
            uc[j] += wji * c[i];
        }
    }
    (ua, uc)
}

/// BatchNorm in evaluation mode as u = s·z + t per unit (s = 1, t = 0 without BatchNorm).
fn bn_affine(
    net: &Network,
    theta: &[f64],
    bn: Option<&BnStats>,
    li: usize,
) -> (Vec<f64>, Vec<f64>) {
    let layer = &net.layers[li];
    let n = layer.units;
    match (layer.gamma, layer.beta, bn) {
        (Some(g), Some(be), Some(stats)) => {
            let mut s = vec![0.0; n];
            let mut t = vec![0.0; n];
            for j in 0..n {
                let inv = 1.0 / (stats.var[li][j] + BN_EPS).sqrt();
                s[j] = theta[g + j] * inv;
                t[j] = theta[be + j] - s[j] * stats.mean[li][j];
            }
            (s, t)
        }
        _ => (vec![1.0; n], vec![0.0; n]),
    }
}

/// Cut a convex polygon (or a 1-D interval, given as two points) by g·x + c = 0 into its
/// positive and negative parts; a part that is empty or a rounding sliver is `None`.
fn split(
    poly: &[[f64; 2]],
    g: &[f64],
    c: f64,
    scale: f64,
    min_measure: f64,
) -> (Option<Polygon>, Option<Polygon>) {
    let d = g.len();
    let value = |v: &[f64; 2]| g[0] * v[0] + if d == 2 { g[1] * v[1] } else { 0.0 } + c;
    let s: Vec<f64> = poly.iter().map(value).collect();
    // Rounding level of one evaluation: values this close to 0 are on the line.
    let tol = 1e-12 * (g.iter().map(|x| x.abs()).sum::<f64>() * scale + c.abs());
    let all_pos = s.iter().all(|&v| v >= -tol);
    let all_neg = s.iter().all(|&v| v <= tol);
    if all_pos && all_neg {
        // The unit is (numerically) zero on the whole cell: off for ReLU, like u ≤ 0.
        return (None, Some(poly.to_vec()));
    }
    if all_pos {
        return (Some(poly.to_vec()), None);
    }
    if all_neg {
        return (None, Some(poly.to_vec()));
    }
    let keep = |p: Polygon| -> Option<Polygon> {
        let m = if d == 1 {
            (p[1][0] - p[0][0]).abs()
        } else if p.len() < 3 {
            0.0
        } else {
            polygon_area(&p)
        };
        (m > min_measure).then_some(p)
    };
    if d == 1 {
        // Two ends of opposite sign: the zero inside.
        let t = s[0] / (s[0] - s[1]);
        let x = poly[0][0] + t * (poly[1][0] - poly[0][0]);
        let (lo, hi) = ([poly[0][0], 0.0], [poly[1][0], 0.0]);
        let mid = [x, 0.0];
        let (left, right) = (vec![lo, mid], vec![mid, hi]);
        return if s[0] > 0.0 {
            (keep(left), keep(right))
        } else {
            (keep(right), keep(left))
        };
    }
    let mut pos = Vec::with_capacity(poly.len() + 2);
    let mut neg = Vec::with_capacity(poly.len() + 2);
    let n = poly.len();
    for i in 0..n {
        let (p, q) = (poly[i], poly[(i + 1) % n]);
        let (sp, sq) = (s[i], s[(i + 1) % n]);
        if sp >= -tol {
            pos.push(p);
        }
        if sp <= tol {
            neg.push(p);
        }
        if (sp > tol && sq < -tol) || (sp < -tol && sq > tol) {
            let t = sp / (sp - sq);
            let x = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
            pos.push(x);
            neg.push(x);
        }
    }
    (keep(pos), keep(neg))
}

/// Shoelace area of a simple polygon.
pub fn polygon_area(p: &[[f64; 2]]) -> f64 {
    let n = p.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    0.5 * twice.abs()
}
