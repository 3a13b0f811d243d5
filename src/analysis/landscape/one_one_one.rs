//! The 1-1-1 network's exact loss surface over (w₁, w₂) (THEORY #17, seed 002 A2.3).
//!
//! The network has no biases: a sigmoid hidden unit and a linear output,
//!   u = w₂·σ(w₁x).
//! - MSE: ŷ = u, ℓ = ½(u − y)². The seed's example is one point x = 1, y = 0:
//!   L = ½(w₂·σ(w₁))².
//! - Cross-entropy: a sigmoid output ŷ = σ(u), ℓ = −y·ln σ(u) − (1−y)·ln(1 − σ(u))
//!   = softplus(u) − y·u. The seed's example is x = 1, y = 1: L = −ln σ(w₂·σ(w₁)).
//!
//! J is the mean of ℓ over a small dataset. With s = σ(w₁x), s′ = s(1−s), s″ = s′(1−2s):
//!   ∇u = (w₂s′x, s),   ∇²u = [[w₂s″x², s′x], [s′x, 0]],
//!   ∇ℓ = ℓ′(u)·∇u,     ∇²ℓ = ℓ″(u)·∇u∇uᵀ + ℓ′(u)·∇²u,
//! with ℓ′ = u − y, ℓ″ = 1 (MSE) and ℓ′ = σ(u) − y, ℓ″ = σ(u)(1−σ(u)) (cross-entropy).
//! Since det ∇²u = −(s′x)² < 0, wherever ℓ′ is large enough next to the rank-one term the
//! Hessian is indefinite: the surface is not convex.

use crate::error::{Error, Result};
use crate::net::activation::{sigmoid, softplus};

/// The 1-1-1 network's loss (also `nnlab landscape --tiny-loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TinyLoss {
    /// Squared error on the point (x, y) = (1, 0).
    Mse,
    /// Cross-entropy of a sigmoid output on (x, y) = (1, 1).
    CrossEntropy,
}

impl TinyLoss {
    /// The name on the command line and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            TinyLoss::Mse => "mse",
            TinyLoss::CrossEntropy => "cross_entropy",
        }
    }

    /// The seed's one-point dataset (x, y): (1, 0) for MSE, (1, 1) for cross-entropy.
    pub fn seed_data(self) -> (Vec<f64>, Vec<f64>) {
        match self {
            TinyLoss::Mse => (vec![1.0], vec![0.0]),
            TinyLoss::CrossEntropy => (vec![1.0], vec![1.0]),
        }
    }

    /// ℓ(u), ℓ′(u), ℓ″(u).
    fn at(self, u: f64, y: f64) -> (f64, f64, f64) {
        match self {
            TinyLoss::Mse => (0.5 * (u - y) * (u - y), u - y, 1.0),
            TinyLoss::CrossEntropy => {
                let p = sigmoid(u);
                (softplus(u) - y * u, p - y, p * (1.0 - p))
            }
        }
    }
}

/// J, ∇J and ∇²J at w = (w₁, w₂), in closed form, mean over the points (x\[i\], y\[i\]).
pub fn value_gradient_hessian(
    loss: TinyLoss,
    w: [f64; 2],
    x: &[f64],
    y: &[f64],
) -> (f64, [f64; 2], [[f64; 2]; 2]) {
    let (w1, w2) = (w[0], w[1]);
    let (mut v, mut g, mut h) = (0.0, [0.0; 2], [[0.0; 2]; 2]);
    for (&xi, &yi) in x.iter().zip(y) {
        let s = sigmoid(w1 * xi);
        let s1 = s * (1.0 - s);
        let s2 = s1 * (1.0 - 2.0 * s);
        let u = w2 * s;
        let du = [w2 * s1 * xi, s];
        let (l, l1, l2) = loss.at(u, yi);
        v += l;
        g[0] += l1 * du[0];
        g[1] += l1 * du[1];
        h[0][0] += l2 * du[0] * du[0] + l1 * w2 * s2 * xi * xi;
        h[0][1] += l2 * du[0] * du[1] + l1 * s1 * xi;
        h[1][1] += l2 * du[1] * du[1];
    }
    let inv = 1.0 / x.len().max(1) as f64;
    h[1][0] = h[0][1];
    let g = g.map(|c| c * inv);
    let h = h.map(|r| r.map(|c| c * inv));
    (v * inv, g, h)
}

/// J(w₁, w₂) over the rows (x, y).
pub fn value(loss: TinyLoss, w: [f64; 2], x: &[f64], y: &[f64]) -> f64 {
    value_gradient_hessian(loss, w, x, y).0
}

/// ∇J(w₁, w₂), in closed form.
pub fn gradient(loss: TinyLoss, w: [f64; 2], x: &[f64], y: &[f64]) -> [f64; 2] {
    value_gradient_hessian(loss, w, x, y).1
}

/// ∇²J(w₁, w₂), in closed form.
pub fn hessian(loss: TinyLoss, w: [f64; 2], x: &[f64], y: &[f64]) -> [[f64; 2]; 2] {
    value_gradient_hessian(loss, w, x, y).2
}

/// Eigenvalues of a symmetric 2×2 matrix, ascending.
pub fn eigenvalues(h: [[f64; 2]; 2]) -> [f64; 2] {
    let m = 0.5 * (h[0][0] + h[1][1]);
    let d = (0.25 * (h[0][0] - h[1][1]).powi(2) + h[0][1] * h[0][1]).sqrt();
    [m - d, m + d]
}

/// The exact surface over a (w₁, w₂) grid.
#[derive(Clone, Debug, PartialEq)]
pub struct TinySurface {
    /// The loss the surface is of.
    pub loss: TinyLoss,
    /// Column coordinates.
    pub w1: Vec<f64>,
    /// Row coordinates.
    pub w2: Vec<f64>,
    /// Row-major (rows along w₂): `value[i·G + j]` = J(w1\[j\], w2\[i\]).
    pub value: Vec<f64>,
    /// det ∇²J at each point.
    pub det: Vec<f64>,
    /// Eigenvalues of ∇²J (ascending) at each point.
    pub eigenvalues: Vec<[f64; 2]>,
    /// det ∇²J < 0: a saddle-shaped point, the Hessian is indefinite.
    pub indefinite: Vec<bool>,
    /// Smallest finite value of `value`.
    pub min: f64,
    /// Largest finite value of `value`.
    pub max: f64,
    /// Fraction of grid points where the Hessian is indefinite.
    pub indefinite_fraction: f64,
}

/// J, det ∇²J and the indefinite mask over `grid`×`grid` points of
/// \[w1_range.0, w1_range.1\] × \[w2_range.0, w2_range.1\], for the points (x\[i\], y\[i\]).
pub fn surface(
    loss: TinyLoss,
    x: &[f64],
    y: &[f64],
    w1_range: (f64, f64),
    w2_range: (f64, f64),
    grid: usize,
) -> Result<TinySurface> {
    if x.is_empty() || x.len() != y.len() {
        return Err(Error::field(
            "data",
            format!(
                "needs as many targets as inputs, at least one (got {} and {})",
                x.len(),
                y.len()
            ),
        ));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::field("data", "has a value that is not finite"));
    }
    if loss == TinyLoss::CrossEntropy && y.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
        return Err(Error::field(
            "data.y",
            "must be in [0, 1] for cross-entropy",
        ));
    }
    if !(2..=2001).contains(&grid) {
        return Err(Error::field(
            "grid",
            format!("must be between 2 and 2001 (got {grid})"),
        ));
    }
    for (name, (lo, hi)) in [("w1 range", w1_range), ("w2 range", w2_range)] {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::field(
                name,
                format!("must be finite with low < high (got {lo} to {hi})"),
            ));
        }
    }
    let ax = |(lo, hi): (f64, f64)| -> Vec<f64> {
        let m = (grid - 1) as f64;
        (0..grid).map(|k| lo + (hi - lo) * k as f64 / m).collect()
    };
    let (w1, w2) = (ax(w1_range), ax(w2_range));
    let n = grid * grid;
    let (mut value, mut det, mut eig, mut indefinite) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for &b in &w2 {
        for &a in &w1 {
            let (v, _, h) = value_gradient_hessian(loss, [a, b], x, y);
            let d = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            value.push(v);
            det.push(d);
            eig.push(eigenvalues(h));
            indefinite.push(d < 0.0);
        }
    }
    let (min, max) = super::finite_min_max(&value);
    let indefinite_fraction = indefinite.iter().filter(|&&b| b).count() as f64 / n as f64;
    Ok(TinySurface {
        loss,
        w1,
        w2,
        value,
        det,
        eigenvalues: eig,
        indefinite,
        min,
        max,
        indefinite_fraction,
    })
}
