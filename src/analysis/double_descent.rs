//! Double descent (THEORY row 29): the test error of the least-squares readout of p random
//! features against p, in closed form.
//!
//! The features are the first p units of one frozen random hidden layer of `max_features`
//! units (nested, so the curve changes only by the features added). For each p the readout
//! (w, b) on A_p = [Φ_p 1] is
//! * ridge λ = 0: the minimum-norm least-squares solution A_p⁺y — what gradient descent from
//!   zero converges to (row 28) — which interpolates once p + 1 ≥ n;
//! * ridge λ > 0: the minimiser of ½·mean(ŷ − y)² + ½λ‖w‖² with the bias unpenalised (the
//!   objective training minimises with `regularization.l2` = λ), by centring Φ_p and y.
//!
//! Near p + 1 = n the smallest singular value of A_p goes to 0 and A_p⁺ amplifies the label
//! noise: the test error peaks, then falls again as p grows (the second descent). A ridge keeps
//! the solution's norm bounded, and the optimal one removes the peak.

use super::min_norm::Svd;
use crate::data::Dataset;
use crate::net::init::initialise;
use crate::net::network::BnMode;
use crate::net::spec::{Loss, NetworkSpec};
use crate::net::{Network, Workspace};

/// One point of the sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// p, the number of random features.
    pub features: usize,
    /// ½·mean(ŷ − y)² over the training rows.
    pub train_error: f64,
    /// ½·mean(ŷ − y)² over the test rows.
    pub test_error: f64,
    /// ‖w‖ of the readout (bias excluded).
    pub weight_norm: f64,
    /// Smallest non-zero singular value of A_p.
    pub smallest_singular_value: f64,
}

/// The curve and where it peaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// n, the training rows.
    pub rows: usize,
    /// The ridge μ of the least-squares readout.
    pub ridge: f64,
    /// One point per p, ascending.
    pub points: Vec<SweepPoint>,
    /// p of the largest test error.
    pub peak_features: usize,
    /// The largest test error.
    pub peak_error: f64,
    /// Test error at the largest p.
    pub wide_error: f64,
}

/// The rows' features: `rows × width` row-major hidden outputs and the targets.
#[derive(Clone, Copy, Debug)]
pub struct FeatureRows<'a> {
    /// `rows × width` hidden outputs, row-major.
    pub phi: &'a [f64],
    /// The targets.
    pub y: &'a [f64],
    /// Rows.
    pub rows: usize,
}

/// Largest feature count swept (each point is one SVD of n × (p + 1)).
pub const MAX_SWEEP_FEATURES: usize = 5_000;

/// Most values the feature matrices may hold together (rows × width, training and test).
pub const MAX_FEATURE_VALUES: usize = 50_000_000;

/// The random features of the session's network widened to `width` hidden units: the
/// network must be one hidden layer and the output; the hidden layer is drawn by the
/// session's initialiser and seed exactly as training would draw it at that width.
#[derive(Clone, Debug)]
pub struct RandomFeatures {
    /// The widened network (hidden layer frozen, readout as in the session).
    pub net: Network,
    /// Its initial θ.
    pub theta: Vec<f64>,
    /// p, the hidden units.
    pub width: usize,
    /// rows × width hidden outputs of the training rows.
    pub train: Vec<f64>,
    /// rows × width hidden outputs of the test rows.
    pub test: Vec<f64>,
}

impl RandomFeatures {
    /// Widens the session's one hidden layer to `width` units, draws it as training would at
    /// `seed`, and computes the features of `train` and `test`. Refused for other shapes, absurd
    /// widths and matrices that would not fit.
    pub fn new(
        spec: &NetworkSpec,
        seed: u64,
        width: usize,
        train: &Dataset,
        test: &Dataset,
    ) -> Result<RandomFeatures, String> {
        if spec.layers.len() != 2 {
            return Err(format!(
                "double descent needs one hidden layer and the output (the network has {} layers)",
                spec.layers.len()
            ));
        }
        if width == 0 || width > MAX_SWEEP_FEATURES {
            return Err(format!(
                "the features must number between 1 and {MAX_SWEEP_FEATURES} (got {width})"
            ));
        }
        let values = (train.rows() + test.rows()).saturating_mul(width);
        if values > MAX_FEATURE_VALUES {
            return Err(format!(
                "{} rows × {width} features is too large (at most {MAX_FEATURE_VALUES} values)",
                train.rows() + test.rows()
            ));
        }
        let mut wide = spec.clone();
        wide.layers[0].units = width;
        wide.layers[0].trainable = false;
        wide.layers[0].pruned = None;
        wide.layers[1].pruned = None;
        let net = Network::build(&wide, Loss::Mse).map_err(|e| e.to_string())?;
        if let Some(why) = super::min_norm::readout_problem(&net) {
            return Err(format!("double descent {why}"));
        }
        let theta = initialise(&net, spec.init, spec.init_scale, seed);
        let hidden = |d: &Dataset| {
            let mut ws = Workspace::default();
            net.forward(&theta, &d.x, d.rows(), &mut ws, BnMode::Batch, None);
            ws.layers[0].out()[..d.rows() * width].to_vec()
        };
        let (tr, te) = (hidden(train), hidden(test));
        Ok(RandomFeatures {
            train: tr,
            test: te,
            net,
            theta,
            width,
        })
    }

    /// The training rows' features with their targets.
    pub fn train_rows<'a>(&'a self, d: &'a Dataset) -> FeatureRows<'a> {
        FeatureRows {
            phi: &self.train,
            y: &d.y,
            rows: d.rows(),
        }
    }

    /// The test rows' features with their targets.
    pub fn test_rows<'a>(&'a self, d: &'a Dataset) -> FeatureRows<'a> {
        FeatureRows {
            phi: &self.test,
            y: &d.y,
            rows: d.rows(),
        }
    }

    /// θ of the `p`-feature network (the first p hidden units of this one, readout zero):
    /// where training the random-features model from zero starts.
    pub fn narrow_theta(&self, p: usize) -> Vec<f64> {
        let l0 = &self.net.layers[0];
        let fan_in = l0.fan_in;
        let mut t = Vec::with_capacity(p * fan_in + p + p + 1);
        t.extend_from_slice(&self.theta[l0.w..l0.w + p * fan_in]);
        t.extend_from_slice(&self.theta[l0.b..l0.b + p]);
        if let Some(a) = l0.prelu {
            t.extend_from_slice(&self.theta[a..a + p]);
        }
        t.resize(t.len() + p + 1, 0.0);
        t
    }
}

/// The readout (w, b) for the first `p` of `width` features (see the module text).
pub fn fit(
    train: FeatureRows,
    width: usize,
    p: usize,
    ridge: f64,
) -> Result<(Vec<f64>, f64), String> {
    let n = train.rows;
    if ridge == 0.0 {
        let mut a = Vec::with_capacity(n * (p + 1));
        for r in 0..n {
            a.extend_from_slice(&train.phi[r * width..r * width + p]);
            a.push(1.0);
        }
        let svd = Svd::of(&a, n, p + 1)?;
        let mut x = svd.solve(train.y, 0.0);
        let b = x.pop().unwrap_or(0.0);
        Ok((x, b))
    } else {
        let mean = |j: usize| (0..n).map(|r| train.phi[r * width + j]).sum::<f64>() / n as f64;
        let means: Vec<f64> = (0..p).map(mean).collect();
        let y_mean = train.y.iter().sum::<f64>() / n as f64;
        let mut a = Vec::with_capacity(n * p);
        for r in 0..n {
            a.extend(
                train.phi[r * width..r * width + p]
                    .iter()
                    .zip(&means)
                    .map(|(v, m)| v - m),
            );
        }
        let yc: Vec<f64> = train.y.iter().map(|v| v - y_mean).collect();
        // (AᵀA/n + λI)w = Aᵀy/n ⇔ (AᵀA + nλI)w = Aᵀy.
        let w = Svd::of(&a, n, p)?.solve(&yc, n as f64 * ridge);
        let b = y_mean - means.iter().zip(&w).map(|(m, v)| m * v).sum::<f64>();
        Ok((w, b))
    }
}

/// ½·mean((Φ_p w + b) − y)².
pub fn error(rows: FeatureRows, width: usize, w: &[f64], b: f64) -> f64 {
    let p = w.len();
    let mut sum = 0.0;
    for r in 0..rows.rows {
        let f: f64 = rows.phi[r * width..r * width + p]
            .iter()
            .zip(w)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            + b;
        sum += 0.5 * (f - rows.y[r]) * (f - rows.y[r]);
    }
    sum / rows.rows.max(1) as f64
}

/// The test error for p = 1 … `width` (the features' width) at one ridge.
pub fn sweep(
    train: FeatureRows,
    test: FeatureRows,
    width: usize,
    ridge: f64,
    cancel: &dyn Fn() -> bool,
) -> Result<Sweep, String> {
    if !(ridge.is_finite() && ridge >= 0.0) {
        return Err(format!("the ridge must be finite and ≥ 0 (got {ridge})"));
    }
    if train.rows == 0 || test.rows == 0 {
        return Err("double descent needs training and test rows".into());
    }
    if width == 0 || width > MAX_SWEEP_FEATURES {
        return Err(format!(
            "the features must number between 1 and {MAX_SWEEP_FEATURES} (got {width})"
        ));
    }
    let mut points = Vec::with_capacity(width);
    for p in 1..=width {
        if cancel() {
            return Err("cancelled".into());
        }
        let (w, b) = fit(train, width, p, ridge)?;
        let mut a = Vec::with_capacity(train.rows * (p + 1));
        for r in 0..train.rows {
            a.extend_from_slice(&train.phi[r * width..r * width + p]);
            a.push(1.0);
        }
        let smallest = Svd::of(&a, train.rows, p + 1)?.smallest_nonzero();
        points.push(SweepPoint {
            features: p,
            train_error: error(train, width, &w, b),
            test_error: error(test, width, &w, b),
            weight_norm: w.iter().map(|v| v * v).sum::<f64>().sqrt(),
            smallest_singular_value: smallest,
        });
    }
    let peak = points
        .iter()
        .max_by(|a, b| a.test_error.total_cmp(&b.test_error))
        .cloned()
        .ok_or("no points")?;
    let wide_error = points.last().map_or(f64::NAN, |p| p.test_error);
    Ok(Sweep {
        rows: train.rows,
        ridge,
        points,
        peak_features: peak.features,
        peak_error: peak.test_error,
        wide_error,
    })
}

/// The ridge among `candidates` with the smallest test error at p = `at` (an oracle: it looks
/// at the test rows, as "the optimal ridge" of the theory does).
pub fn optimal_ridge(
    train: FeatureRows,
    test: FeatureRows,
    width: usize,
    at: usize,
    candidates: &[f64],
) -> Result<(f64, f64), String> {
    let mut best = (f64::NAN, f64::INFINITY);
    for &l in candidates {
        let (w, b) = fit(train, width, at.clamp(1, width), l)?;
        let e = error(test, width, &w, b);
        if e < best.1 {
            best = (l, e);
        }
    }
    Ok(best)
}

/// 10^−6 … 10^1 in steps of 10^(1/4): the ridges `optimal_ridge` tries by default.
pub fn ridge_grid() -> Vec<f64> {
    (0..=28)
        .map(|k| 10f64.powf(-6.0 + k as f64 / 4.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_fit_with_a_free_bias_matches_the_normal_equations() {
        // 4 rows, 2 features: minimise ½·mean(Φw + b − y)² + ½λ‖w‖² by its gradient = 0.
        let phi = [1.0, 0.5, -1.0, 2.0, 0.3, -0.7, 2.0, 1.0];
        let y = [1.0, 0.0, -1.0, 2.0];
        let rows = FeatureRows {
            phi: &phi,
            y: &y,
            rows: 4,
        };
        let lambda = 0.3;
        let (w, b) = fit(rows, 2, 2, lambda).unwrap();
        let r: Vec<f64> = (0..4)
            .map(|i| phi[2 * i] * w[0] + phi[2 * i + 1] * w[1] + b - y[i])
            .collect();
        let gb: f64 = r.iter().sum::<f64>() / 4.0;
        assert!(gb.abs() < 1e-13, "∂/∂b = {gb}");
        for j in 0..2 {
            let g = (0..4).map(|i| r[i] * phi[2 * i + j]).sum::<f64>() / 4.0 + lambda * w[j];
            assert!(g.abs() < 1e-13, "∂/∂w{j} = {g}");
        }
    }

    #[test]
    fn minimum_norm_fit_interpolates_once_features_reach_the_rows() {
        // 3 rows, 4 features: with the bias, 5 unknowns ≥ 3 rows, so the fit is exact.
        let phi = [
            1.0, 0.2, -0.3, 0.8, //
            0.1, 1.5, 0.4, -1.0, //
            -0.6, 0.3, 2.0, 0.5,
        ];
        let y = [0.5, -1.0, 2.0];
        let rows = FeatureRows {
            phi: &phi,
            y: &y,
            rows: 3,
        };
        for p in 2..=4 {
            let (w, b) = fit(rows, 4, p, 0.0).unwrap();
            assert!(error(rows, 4, &w, b) < 1e-26, "p = {p}");
        }
        // One feature + bias cannot interpolate 3 generic points.
        let (w, b) = fit(rows, 4, 1, 0.0).unwrap();
        assert!(error(rows, 4, &w, b) > 1e-3);
    }
}
