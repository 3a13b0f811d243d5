//! Directions of a slice: filter-normalised random directions and the PCA plane of a
//! trajectory.

use crate::error::{Error, Result};
use crate::net::Network;
use crate::net::linalg::{dot, norm};
use crate::rng::Rng;

use super::Plane;

/// Rescale each row ("filter") of each layer's W in `d` to the norm of the same row of θ's W
/// (Li et al. 2018, with loss-landscape's 1e-10 guard); set the biases, BatchNorm γ/β and
/// PReLU α of `d` to zero (loss-landscape's `ignore biasbn`).
pub fn filter_normalise(net: &Network, theta: &[f64], d: &mut [f64]) {
    for layer in &net.layers {
        let k = layer.fan_in;
        let w = layer.w..layer.w + layer.n_weights();
        for (dr, tr) in d[w.clone()]
            .chunks_exact_mut(k)
            .zip(theta[w.clone()].chunks_exact(k))
        {
            let s = norm(tr) / (norm(dr) + 1e-10);
            dr.iter_mut().for_each(|v| *v *= s);
        }
        d[w.end..layer.end].fill(0.0);
    }
}

pub(super) fn random_filter_normalised(net: &Network, theta: &[f64], seed: u64) -> [Vec<f64>; 2] {
    let mut rng = Rng::stream(seed, "landscape");
    let mut draw = || {
        let mut d = vec![0.0; net.n_params];
        for layer in &net.layers {
            for v in &mut d[layer.w..layer.w + layer.n_weights()] {
                *v = rng.normal();
            }
        }
        filter_normalise(net, theta, &mut d);
        d
    };
    let d1 = draw();
    let d2 = draw();
    [d1, d2]
}

/// The PCA plane of a trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct PcaPlane {
    /// Origin: the final θ; d1, d2: the top-2 principal directions (unit length).
    pub plane: Plane,
    /// Fraction of the variance of {θ_t − θ_final} along d1 and d2.
    pub explained: [f64; 2],
    /// Every θ_t projected onto the plane (the last is (0, 0)).
    pub path: Vec<[f64; 2]>,
}

/// Bytes [`pca_plane`] adds to a trajectory of `snapshots` θ's of `p` parameters: the centred
/// copy, the mean, the two directions and the plane built from them, the Gram matrix and its
/// eigenvectors.
pub fn pca_bytes(snapshots: usize, p: usize) -> u64 {
    let vectors = snapshots.saturating_add(6).saturating_mul(p);
    crate::memory::f64s(
        vectors.saturating_add(snapshots.saturating_mul(snapshots).saturating_mul(4)),
    )
}

/// The top-2 principal directions of {θ_t − θ_final} (centred, as loss-landscape's
/// sklearn PCA does), from the eigen-decomposition of the small T×T Gram matrix: if
/// M = centred differences (T × P) and M·Mᵀ·u = λ·u, the direction is Mᵀu/‖Mᵀu‖.
/// Each direction's sign is fixed so that its largest-magnitude component is positive.
pub fn pca_plane(trajectory: &[Vec<f64>]) -> Result<PcaPlane> {
    let t = trajectory.len();
    if t < 3 {
        return Err(Error::field(
            "trajectory",
            format!("needs at least 3 snapshots of θ for a plane (got {t})"),
        ));
    }
    let last = &trajectory[t - 1];
    let p = last.len();
    if let Some(i) = trajectory.iter().position(|th| th.len() != p) {
        return Err(Error::field(
            &format!("trajectory[{i}]"),
            format!("has {} values but the last θ has {p}", trajectory[i].len()),
        ));
    }
    if trajectory.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::field("trajectory", "has a value that is not finite"));
    }
    crate::memory::check(
        &format!("the PCA of {t} snapshots of {p} parameters"),
        pca_bytes(t, p),
    )
    .map_err(Error::new)?;
    // Centred differences: (θ_t − θ_T) − mean_t(θ_t − θ_T) = θ_t − mean_t θ_t.
    let mut mean = vec![0.0; p];
    for th in trajectory {
        for (m, v) in mean.iter_mut().zip(th) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= t as f64);
    let m: Vec<Vec<f64>> = trajectory
        .iter()
        .map(|th| th.iter().zip(&mean).map(|(v, mu)| v - mu).collect())
        .collect();
    let mut gram = vec![0.0; t * t];
    for i in 0..t {
        for j in 0..t {
            gram[i * t + j] = dot(&m[i.max(j)], &m[i.min(j)]);
        }
    }
    let (s, u) = crate::analysis::spectrum::dense_eigen(t, &gram, true)
        .map_err(|e| Error::new(format!("PCA of the trajectory failed: {e}")))?;
    let total: f64 = (0..t).map(|i| s[i].max(0.0)).sum();
    let mut dirs = Vec::with_capacity(2);
    let mut explained = [0.0; 2];
    for (slot, k) in [t - 1, t - 2].into_iter().enumerate() {
        let lambda = s[k];
        if total <= 0.0 || lambda <= 1e-12 * total {
            return Err(Error::field(
                "trajectory",
                "spans fewer than two directions (θ barely moved, or along one line only)",
            ));
        }
        let mut d = vec![0.0; p];
        for (i, row) in m.iter().enumerate() {
            let c = u[k][i];
            for (dv, &r) in d.iter_mut().zip(row) {
                *dv += c * r;
            }
        }
        let nd = norm(&d);
        d.iter_mut().for_each(|v| *v /= nd);
        let big = d
            .iter()
            .copied()
            .fold(0.0f64, |b, v| if v.abs() > b.abs() { v } else { b });
        if big < 0.0 {
            d.iter_mut().for_each(|v| *v = -*v);
        }
        explained[slot] = lambda / total;
        dirs.push(d);
    }
    let d2 = dirs.pop().unwrap_or_default();
    let d1 = dirs.pop().unwrap_or_default();
    let plane = Plane {
        origin: last.clone(),
        d1,
        d2,
    };
    let path = plane.project_all(trajectory);
    Ok(PcaPlane {
        plane,
        explained,
        path,
    })
}
