//! Neural collapse (THEORY row 38; Papyan, Han & Donoho 2020): trained past 100 % training
//! accuracy, a K-class network's last hidden layer collapses each class onto its mean, the
//! centred class means form a simplex equiangular tight frame, and the classifier aligns with
//! them.
//!
//! With h_i the last hidden layer's output for training row i of class c_i, μ_c the class
//! means, μ_G the global mean, M_c = μ_c − μ_G and N rows:
//!
//! * NC1 = tr(Σ_W Σ_B⁺)/K, Σ_W = (1/N) Σ_i (h_i − μ_{c_i})(h_i − μ_{c_i})ᵀ,
//!   Σ_B = (1/K) Σ_c M_c M_cᵀ (Σ_B⁺ its pseudo-inverse): within-class spread measured in units
//!   of the between-class spread; → 0.
//! * NC2: the cosines cos(M_c, M_c') for c ≠ c' → −1/(K−1) (their mean and spread), and equal
//!   norms (coefficient of variation of ‖M_c‖ → 0).
//! * NC3: ‖W/‖W‖_F − M/‖M‖_F‖_F² with W the output layer's K × d weights and M the K × d
//!   centred means (→ 0), and the mean cosine between w_c and M_c (→ 1).
//! * NC4: the share of rows where the nearest class mean (Euclidean) names the class the
//!   network outputs (→ 1).
//!
//! Needs one output unit per class (softmax / one-hot coding) and at least one hidden layer.

use serde::Serialize;

use super::spectrum::dense_eigen;
use crate::net::network::BnMode;
use crate::net::{Network, Rows, Workspace};

/// Eigenvalues of Σ_B below this fraction of the largest count as zero in Σ_B⁺.
pub const PINV_TOL: f64 = 1e-10;
/// Most hidden units (the d × d matrices are dense).
pub const MAX_WIDTH: usize = 4096;

/// The last hidden layer's outputs over the training rows, with the labels and the network's
/// predicted classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Rows.
    pub n: usize,
    /// Width of the last hidden layer.
    pub d: usize,
    /// Classes.
    pub k: usize,
    /// n × d, row-major.
    pub h: Vec<f64>,
    /// The class of each row.
    pub labels: Vec<usize>,
    /// argmax of the outputs.
    pub predicted: Vec<usize>,
    /// The output layer's weights, k × d (row c: output unit c).
    pub classifier: Vec<f64>,
}

/// Forward the training rows and keep the last hidden layer (whole set at once: BatchNorm, if
/// any, with the statistics of all rows, as the training objective sees it).
pub fn features(net: &Network, theta: &[f64], rows: Rows) -> Result<Features, String> {
    let k = rows.classes;
    if k < 2 {
        return Err(
            "neural collapse is measured on classification data with 2 or more classes".into(),
        );
    }
    if net.output_units() != k {
        return Err(format!(
            "neural collapse needs one output unit per class ({k} classes, {} output unit(s)): use a softmax output with {k} units",
            net.output_units()
        ));
    }
    if net.layers.len() < 2 {
        return Err(
            "neural collapse is measured on the last hidden layer: the network has none".into(),
        );
    }
    if theta.len() != net.n_params {
        return Err(format!(
            "θ has {} values but the network has {} parameters",
            theta.len(),
            net.n_params
        ));
    }
    if theta.iter().any(|v| !v.is_finite()) {
        return Err("θ is not finite (training diverged)".into());
    }
    let n = rows.len();
    let last = net.layers.len() - 2;
    let d = net.layers[last].units;
    if d > MAX_WIDTH {
        return Err(format!(
            "the last hidden layer has {d} units; neural collapse is computed up to {MAX_WIDTH}"
        ));
    }
    let mut labels = Vec::with_capacity(n);
    for &y in rows.y {
        let c = y.round();
        if !(c >= 0.0 && (c as usize) < k && c == y) {
            return Err(format!("a label ({y}) is not a class index 0…{}", k - 1));
        }
        labels.push(c as usize);
    }
    crate::memory::check(
        "the last hidden layer over the training rows",
        crate::memory::f64s(
            n.saturating_mul(net.workspace_values_per_row(false) + d + k)
                .saturating_add(d.saturating_mul(d).saturating_mul(4)),
        ),
    )?;
    let mut ws = Workspace::default();
    net.forward(theta, rows.x, n, &mut ws, BnMode::Batch, None);
    let cache = &ws.layers[last];
    let out = if cache.a.is_empty() {
        &cache.f
    } else {
        &cache.a
    };
    let h = out[..n * d].to_vec();
    let o = &ws.layers[net.layers.len() - 1].f;
    let predicted = (0..n).map(|i| argmax(&o[i * k..(i + 1) * k])).collect();
    let outl = net.output();
    Ok(Features {
        n,
        d,
        k,
        h,
        labels,
        predicted,
        classifier: outl.weights(theta).to_vec(),
    })
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The collapse measures at one θ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Collapse {
    /// NC1: tr(Σ_W Σ_B⁺)/K, the within-class variability against the between-class one.
    pub nc1: f64,
    /// The mean of cos(M_c, M_c') over the pairs c < c'.
    pub cosine_mean: f64,
    /// Their standard deviation.
    pub cosine_std: f64,
    /// −1/(K−1), where the cosines of a simplex ETF sit.
    pub cosine_target: f64,
    /// std/mean of ‖M_c‖.
    pub norm_variation: f64,
    /// ‖W/‖W‖_F − M/‖M‖_F‖_F².
    pub nc3: f64,
    /// Mean over classes of cos(w_c, M_c).
    pub nc3_cosine: f64,
    /// Share of rows whose nearest class mean is the network's predicted class.
    pub nc4_agreement: f64,
    /// Share of rows classified correctly.
    pub accuracy: f64,
}

/// Class means (k × d) and the global mean of the features; a class with no row is an error.
fn means(f: &Features) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (d, k) = (f.d, f.k);
    let mut mu = vec![0.0; k * d];
    let mut count = vec![0usize; k];
    for (i, &c) in f.labels.iter().enumerate() {
        count[c] += 1;
        for j in 0..d {
            mu[c * d + j] += f.h[i * d + j];
        }
    }
    if let Some(c) = count.iter().position(|&m| m == 0) {
        return Err(format!("class {c} has no training row"));
    }
    for c in 0..k {
        for j in 0..d {
            mu[c * d + j] /= count[c] as f64;
        }
    }
    // The global mean as the mean of the class means (Papyan et al.; the data is balanced in
    // their setting, and this keeps the centred means summing to zero in any case).
    let mut g = vec![0.0; d];
    for c in 0..k {
        for j in 0..d {
            g[j] += mu[c * d + j] / k as f64;
        }
    }
    Ok((mu, g))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// NC1–NC4 of the features.
pub fn collapse(f: &Features) -> Result<Collapse, String> {
    let (n, d, k) = (f.n, f.d, f.k);
    let (mu, g) = means(f)?;
    // Centred means M (k × d).
    let mut m = mu.clone();
    for c in 0..k {
        for j in 0..d {
            m[c * d + j] -= g[j];
        }
    }
    // Σ_W and Σ_B, d × d.
    let mut sw = vec![0.0; d * d];
    let mut r = vec![0.0; d];
    for i in 0..n {
        let c = f.labels[i];
        for j in 0..d {
            r[j] = f.h[i * d + j] - mu[c * d + j];
        }
        for a in 0..d {
            if r[a] == 0.0 {
                continue;
            }
            for b in 0..d {
                sw[a * d + b] += r[a] * r[b];
            }
        }
    }
    for v in &mut sw {
        *v /= n as f64;
    }
    let mut sb = vec![0.0; d * d];
    for c in 0..k {
        let mc = &m[c * d..(c + 1) * d];
        for a in 0..d {
            for b in 0..d {
                sb[a * d + b] += mc[a] * mc[b] / k as f64;
            }
        }
    }
    let (vals, vecs) = dense_eigen(d, &sb, true)?;
    let top = vals.iter().copied().fold(0.0f64, f64::max);
    if top <= 0.0 {
        return Err("the class means coincide: no between-class spread".into());
    }
    let mut nc1 = 0.0;
    let mut swu = vec![0.0; d];
    for (lam, u) in vals.iter().zip(&vecs) {
        if *lam <= PINV_TOL * top {
            continue;
        }
        for a in 0..d {
            swu[a] = dot(&sw[a * d..(a + 1) * d], u);
        }
        nc1 += dot(u, &swu) / lam;
    }
    nc1 /= k as f64;
    // NC2.
    let norms: Vec<f64> = (0..k)
        .map(|c| dot(&m[c * d..(c + 1) * d], &m[c * d..(c + 1) * d]).sqrt())
        .collect();
    let mut cos = Vec::with_capacity(k * (k - 1) / 2);
    for a in 0..k {
        for b in a + 1..k {
            let v = dot(&m[a * d..(a + 1) * d], &m[b * d..(b + 1) * d]) / (norms[a] * norms[b]);
            cos.push(v);
        }
    }
    let (cosine_mean, cosine_std) = mean_std(&cos);
    let (norm_mean, norm_std) = mean_std(&norms);
    // NC3.
    let w = &f.classifier;
    let wn = dot(w, w).sqrt();
    let mn = dot(&m, &m).sqrt();
    let nc3 = w
        .iter()
        .zip(&m)
        .map(|(a, b)| (a / wn - b / mn).powi(2))
        .sum::<f64>();
    let nc3_cosine = (0..k)
        .map(|c| {
            let (wc, mc) = (&w[c * d..(c + 1) * d], &m[c * d..(c + 1) * d]);
            dot(wc, mc) / (dot(wc, wc).sqrt() * norms[c])
        })
        .sum::<f64>()
        / k as f64;
    // NC4.
    let mut agree = 0usize;
    let mut correct = 0usize;
    for i in 0..n {
        let hi = &f.h[i * d..(i + 1) * d];
        let mut best = (f64::INFINITY, 0);
        for c in 0..k {
            let dist: f64 = hi
                .iter()
                .zip(&mu[c * d..(c + 1) * d])
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            if dist < best.0 {
                best = (dist, c);
            }
        }
        agree += usize::from(best.1 == f.predicted[i]);
        correct += usize::from(f.labels[i] == f.predicted[i]);
    }
    Ok(Collapse {
        nc1,
        cosine_mean,
        cosine_std,
        cosine_target: -1.0 / (k as f64 - 1.0),
        norm_variation: norm_std / norm_mean,
        nc3,
        nc3_cosine,
        nc4_agreement: agree as f64 / n as f64,
        accuracy: correct as f64 / n as f64,
    })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The features projected on their two leading principal components (centred by the global
/// mean of the rows): one [x, y] per row. Each axis's sign is fixed so that its largest
/// loading is positive (the same θ always gives the same picture).
pub fn pca2(f: &Features) -> Result<Vec<[f64; 2]>, String> {
    let (n, d) = (f.n, f.d);
    let mut mean = vec![0.0; d];
    for i in 0..n {
        for j in 0..d {
            mean[j] += f.h[i * d + j] / n as f64;
        }
    }
    let mut cov = vec![0.0; d * d];
    let mut r = vec![0.0; d];
    for i in 0..n {
        for j in 0..d {
            r[j] = f.h[i * d + j] - mean[j];
        }
        for a in 0..d {
            for b in 0..d {
                cov[a * d + b] += r[a] * r[b];
            }
        }
    }
    let (_, vecs) = dense_eigen(d, &cov, true)?;
    let axis = |idx: Option<usize>| -> Vec<f64> {
        let Some(v) = idx.and_then(|i| vecs.get(i)) else {
            return vec![0.0; d];
        };
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |a, x| if x.abs() > a.abs() { x } else { a });
        if big < 0.0 {
            v.iter().map(|x| -x).collect()
        } else {
            v.clone()
        }
    };
    let a1 = axis(d.checked_sub(1));
    let a2 = axis(d.checked_sub(2));
    Ok((0..n)
        .map(|i| {
            for j in 0..d {
                r[j] = f.h[i * d + j] - mean[j];
            }
            [dot(&r, &a1), dot(&r, &a2)]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k classes in d ≥ k dims with class means at the simplex ETF e_c − 1/k and rows at
    /// mean + `spread`·(noise per row); the classifier W = M (scaled by 3).
    fn etf(k: usize, d: usize, per: usize, noise: &dyn Fn(usize, usize) -> f64) -> Features {
        let mut h = Vec::new();
        let mut labels = Vec::new();
        for c in 0..k {
            for i in 0..per {
                for j in 0..d {
                    let base = if j < k {
                        f64::from(u8::from(j == c)) - 1.0 / k as f64
                    } else {
                        0.0
                    };
                    h.push(base + noise(c * per + i, j));
                }
                labels.push(c);
            }
        }
        let mut w = vec![0.0; k * d];
        for c in 0..k {
            for j in 0..k {
                w[c * d + j] = 3.0 * (f64::from(u8::from(j == c)) - 1.0 / k as f64);
            }
        }
        Features {
            n: k * per,
            d,
            k,
            h,
            predicted: labels.clone(),
            labels,
            classifier: w,
        }
    }

    /// Rows exactly on a simplex ETF: NC1 = 0, every cosine −1/(K−1), equal norms, W ∝ M
    /// (NC3 = 0), nearest mean = prediction.
    #[test]
    fn a_simplex_etf_is_fully_collapsed() {
        for (k, d) in [(4, 4), (4, 7), (3, 5)] {
            let f = etf(k, d, 5, &|_, _| 0.0);
            let c = collapse(&f).unwrap();
            assert!(c.nc1.abs() < 1e-20, "{}", c.nc1);
            let want = -1.0 / (k as f64 - 1.0);
            assert!(
                (c.cosine_mean - want).abs() < 1e-14,
                "{} vs {want}",
                c.cosine_mean
            );
            assert!(c.cosine_std < 1e-14 && c.norm_variation < 1e-14);
            assert!(c.nc3 < 1e-28 && (c.nc3_cosine - 1.0).abs() < 1e-14);
            assert_eq!(
                (c.nc4_agreement, c.accuracy, c.cosine_target),
                (1.0, 1.0, want)
            );
        }
    }

    /// Two classes on a line: means ±1 (centred), rows ±σ about them, so Σ_W = σ² and Σ_B = 1
    /// along the line: NC1 = σ²/2. A second, unused dimension adds nothing (Σ_B⁺ is 0 there
    /// even though Σ_W is not).
    #[test]
    fn nc1_matches_the_two_class_closed_form() {
        let sigma = 0.3;
        let h = vec![
            -1.0 - sigma,
            5.0,
            -1.0 + sigma,
            -5.0,
            1.0 - sigma,
            2.0,
            1.0 + sigma,
            -2.0,
        ];
        let f = Features {
            n: 4,
            d: 2,
            k: 2,
            h,
            labels: vec![0, 0, 1, 1],
            predicted: vec![0, 1, 1, 1],
            classifier: vec![-1.0, 0.0, 1.0, 0.0],
        };
        let c = collapse(&f).unwrap();
        assert!((c.nc1 - sigma * sigma / 2.0).abs() < 1e-14, "{}", c.nc1);
        assert!((c.cosine_mean + 1.0).abs() < 1e-14);
        assert!(c.nc3 < 1e-28);
        // Row 1 (class 0, at −0.7) is nearest mean 0 but predicted 1.
        assert_eq!((c.nc4_agreement, c.accuracy), (0.75, 0.75));
    }

    /// NC1 grows like the within-class variance: doubling the spread quadruples it.
    #[test]
    fn nc1_scales_with_the_within_class_variance() {
        // Rows in pairs ±e: the class means stay on the ETF, only Σ_W changes.
        let noise = |i: usize, j: usize| {
            let e = ((((i / 2) * 7 + j * 13) % 11) as f64 - 5.0) / 50.0;
            if i.is_multiple_of(2) { e } else { -e }
        };
        let a = collapse(&etf(4, 6, 6, &noise)).unwrap().nc1;
        let b = collapse(&etf(4, 6, 6, &|i, j| 2.0 * noise(i, j)))
            .unwrap()
            .nc1;
        assert!(a > 0.0 && (b / a - 4.0).abs() < 1e-9, "{a} {b}");
    }

    /// The PCA of an ETF in 4 dims: the projection keeps the class means' distances within the
    /// leading plane, and is centred.
    #[test]
    fn pca_is_centred_and_spans_the_leading_plane() {
        let f = Features {
            n: 4,
            d: 3,
            k: 2,
            h: vec![
                2.0, 0.0, 0.1, -2.0, 0.0, -0.1, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0,
            ],
            labels: vec![0, 0, 1, 1],
            predicted: vec![0, 0, 1, 1],
            classifier: vec![0.0; 6],
        };
        let p = pca2(&f).unwrap();
        let sx: f64 = p.iter().map(|q| q[0]).sum();
        let sy: f64 = p.iter().map(|q| q[1]).sum();
        assert!(sx.abs() < 1e-12 && sy.abs() < 1e-12);
        // The first axis carries the ±2 spread (plus the 0.1 tilt), the second the ±1.
        let r0 = (4.0f64 + 0.01).sqrt();
        assert!((p[0][0].abs() - r0).abs() < 1e-12, "{:?}", p);
        assert!((p[2][1].abs() - 1.0).abs() < 1e-12, "{:?}", p);
    }

    #[test]
    fn features_refuse_what_does_not_apply() {
        use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
        let spec = |layers| NetworkSpec {
            inputs: 2,
            layers,
            init: Init::XavierNormal,
            init_scale: 1.0,
            features: None,
            residual: false,
            weight_constraint: WeightConstraint::None,
        };
        let x = [0.0, 1.0, 1.0, 0.0, 0.5, 0.5];
        let y = [0.0, 1.0, 2.0];
        let rows = Rows {
            x: &x,
            y: &y,
            classes: 3,
        };
        let one = Network::build(
            &spec(vec![LayerSpec::new(3, crate::net::Activation::Softmax)]),
            Loss::CrossEntropy,
        );
        if let Ok(net) = one {
            let th = vec![0.1; net.n_params];
            assert!(features(&net, &th, rows).unwrap_err().contains("no"));
        }
        let net = Network::build(
            &spec(vec![
                LayerSpec::new(4, crate::net::Activation::Relu),
                LayerSpec::new(3, crate::net::Activation::Softmax),
            ]),
            Loss::CrossEntropy,
        )
        .unwrap();
        let th = crate::net::init::initialise(&net, Init::XavierNormal, 1.0, 1);
        let f = features(&net, &th, rows).unwrap();
        assert_eq!((f.n, f.d, f.k), (3, 4, 3));
        let two = Rows {
            x: &x,
            y: &y,
            classes: 2,
        };
        assert!(
            features(&net, &th, two)
                .unwrap_err()
                .contains("one output unit per class")
        );
    }
}
