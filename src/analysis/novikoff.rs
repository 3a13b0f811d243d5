//! Novikoff's perceptron bound (THEORY #1): on data separable with margin γ by a unit-norm w*,
//! the perceptron started from zero makes at most (R/γ)² mistakes, R = max‖x̃‖.
//!
//! Points are augmented with a constant 1 for the bias, so separators pass through the origin.
//! The best margin is the distance from the origin to the convex hull of {t_i·x̃_i}; Gilbert's
//! algorithm walks towards that minimum-norm point. Any separator it reaches gives a *valid*
//! margin γ(w) = min_i t_i·w·x̃_i / ‖w‖ ≤ γ*, so the bound reported is always a true bound.

use serde::Serialize;

/// Novikoff's bound (R/γ)² on the perceptron's mistakes, from the best separator found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NovikoffBound {
    /// max‖x̃_i‖ (with the bias coordinate).
    pub radius: f64,
    /// The margin of the separator found.
    pub margin: f64,
    /// (R/γ)².
    pub bound: f64,
}

/// `x`: rows × dim features, `t`: labels ±1. None when no separating hyperplane was found.
pub fn novikoff_bound(x: &[f64], dim: usize, t: &[f64]) -> Option<NovikoffBound> {
    let n = t.len();
    if n == 0 || dim == 0 {
        return None;
    }
    let d = dim + 1;
    let point = |i: usize, out: &mut [f64]| {
        for j in 0..dim {
            out[j] = t[i] * x[i * dim + j];
        }
        out[dim] = t[i];
    };
    let dotv = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut w = vec![0.0; d];
    let mut p = vec![0.0; d];
    point(0, &mut w);
    let mut best_margin = f64::NEG_INFINITY;
    let iters = 20_000.min(200_000_000 / (n * d).max(1)).max(100);
    for _ in 0..iters {
        // The point of the set with the smallest projection on w.
        let (mut imin, mut vmin) = (0, f64::INFINITY);
        for i in 0..n {
            point(i, &mut p);
            let v = dotv(&w, &p);
            if v < vmin {
                vmin = v;
                imin = i;
            }
        }
        let wn = dotv(&w, &w).sqrt();
        if wn > 0.0 {
            best_margin = best_margin.max(vmin / wn);
        }
        point(imin, &mut p);
        // Minimise ‖w + λ(p − w)‖ over λ ∈ [0, 1].
        let diff: Vec<f64> = p.iter().zip(&w).map(|(a, b)| a - b).collect();
        let dd = dotv(&diff, &diff);
        if dd == 0.0 {
            break;
        }
        let lambda = (-dotv(&w, &diff) / dd).clamp(0.0, 1.0);
        if lambda == 0.0 {
            break;
        }
        for (wj, dj) in w.iter_mut().zip(&diff) {
            *wj += lambda * dj;
        }
    }
    if best_margin <= 0.0 || !best_margin.is_finite() {
        return None;
    }
    let radius = (0..n)
        .map(|i| {
            let r: f64 = x[i * dim..(i + 1) * dim].iter().map(|v| v * v).sum();
            (r + 1.0).sqrt()
        })
        .fold(0.0, f64::max);
    Some(NovikoffBound {
        radius,
        margin: best_margin,
        bound: (radius / best_margin).powi(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_of_a_symmetric_pair_is_exact() {
        // Points (±1, 0) with labels ±1, bias coordinate 1: hull of (1,0,1) and (1,0,−1) ·
        // closest point to the origin is (1, 0, 0): margin 1, radius √2, bound 2.
        let x = [1.0, 0.0, -1.0, 0.0];
        let t = [1.0, -1.0];
        let b = novikoff_bound(&x, 2, &t).unwrap();
        assert!((b.margin - 1.0).abs() < 1e-9, "{b:?}");
        assert!((b.radius - 2f64.sqrt()).abs() < 1e-12);
        assert!((b.bound - 2.0).abs() < 1e-8);
    }

    #[test]
    fn xor_is_not_separable() {
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let t = [-1.0, 1.0, 1.0, -1.0];
        assert!(novikoff_bound(&x, 2, &t).is_none());
    }
}
