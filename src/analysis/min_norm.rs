//! Implicit bias of gradient descent toward the minimum-norm solution (THEORY row 28), and the
//! least-squares algebra the double-descent sweep shares with it.
//!
//! A network whose layers below the output are all frozen, with one linear output unit and the
//! MSE loss, is a linear model in its readout (w, b) over the features φ(x) of the last hidden
//! layer: ŷ = [φ(x) 1]·(w, b). On the training rows, with A = [Φ 1] (n × (p+1)), gradient
//! descent on ½·mean(ŷ − y)² moves (w, b) only inside the row space of A, so from a start θ₀
//! it converges to A⁺y + P_null θ₀ (P_null = I − A⁺A): from zero, to the pseudo-inverse
//! (minimum-norm) solution; from anywhere else, to an interpolant that differs from it by
//! exactly the start's null-space component.

use faer::MatRef;
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{Mat, Par};

use crate::data::Dataset;
use crate::net::network::BnMode;
use crate::net::spec::Loss;
use crate::net::{Activation, Network, Workspace};

/// Thin SVD A = U diag(s) Vᵀ of an n × p matrix (k = min(n, p) singular values, descending).
#[derive(Clone, Debug)]
pub struct Svd {
    /// n, the rows of A.
    pub rows: usize,
    /// p, the columns of A.
    pub cols: usize,
    /// Singular values, descending.
    pub s: Vec<f64>,
    /// U column-major, rows × k.
    u: Vec<f64>,
    /// V column-major, cols × k.
    v: Vec<f64>,
}

impl Svd {
    /// SVD of the row-major `rows × cols` matrix `a` (faer, one thread: the same bits every
    /// run).
    pub fn of(a: &[f64], rows: usize, cols: usize) -> Result<Svd, String> {
        if a.len() != rows * cols || rows == 0 || cols == 0 {
            return Err(format!(
                "the matrix has {} values, not {rows} × {cols}",
                a.len()
            ));
        }
        if a.iter().any(|x| !x.is_finite()) {
            return Err("the feature matrix has a value that is not finite".into());
        }
        let k = rows.min(cols);
        // Row-major a is column-major aᵀ; transpose the view back.
        let m = MatRef::from_column_major_slice(a, cols, rows).transpose();
        let mut s = Diag::<f64>::zeros(k);
        let mut u = Mat::<f64>::zeros(rows, k);
        let mut v = Mat::<f64>::zeros(cols, k);
        let par = Par::Seq;
        let params = Default::default();
        let mut mem = MemBuffer::new(svd_scratch::<f64>(
            rows,
            cols,
            ComputeSvdVectors::Thin,
            ComputeSvdVectors::Thin,
            par,
            params,
        ));
        svd(
            m,
            s.as_mut(),
            Some(u.as_mut()),
            Some(v.as_mut()),
            par,
            MemStack::new(&mut mem),
            params,
        )
        .map_err(|e| format!("the SVD did not converge ({e:?})"))?;
        let col_major = |m: &Mat<f64>| -> Vec<f64> {
            (0..m.ncols())
                .flat_map(|j| (0..m.nrows()).map(move |i| (i, j)))
                .map(|(i, j)| m[(i, j)])
                .collect()
        };
        Ok(Svd {
            rows,
            cols,
            s: (0..k).map(|i| s[i]).collect(),
            u: col_major(&u),
            v: col_major(&v),
        })
    }

    /// Singular values below this count as zero: max(rows, cols)·ε·s_max (NumPy's default).
    pub fn cutoff(&self) -> f64 {
        self.rows.max(self.cols) as f64 * f64::EPSILON * self.s.first().copied().unwrap_or(0.0)
    }

    /// Numerical rank.
    pub fn rank(&self) -> usize {
        let c = self.cutoff();
        self.s.iter().filter(|&&s| s > c).count()
    }

    /// Smallest singular value above the cutoff (0 for a zero matrix).
    pub fn smallest_nonzero(&self) -> f64 {
        self.s[..self.rank()].last().copied().unwrap_or(0.0)
    }

    fn u_col(&self, i: usize) -> &[f64] {
        &self.u[i * self.rows..(i + 1) * self.rows]
    }

    fn v_col(&self, i: usize) -> &[f64] {
        &self.v[i * self.cols..(i + 1) * self.cols]
    }

    /// x = Σᵢ f(sᵢ) vᵢ (uᵢ·y) with f(s) = s/(s² + μ): for μ = 0 the pseudo-inverse A⁺y
    /// (singular values under the cutoff dropped), for μ > 0 the ridge solution of
    /// (AᵀA + μI)x = Aᵀy.
    pub fn solve(&self, y: &[f64], mu: f64) -> Vec<f64> {
        let mut x = vec![0.0; self.cols];
        let terms = if mu > 0.0 { self.s.len() } else { self.rank() };
        for i in 0..terms {
            let s = self.s[i];
            let c = dot(self.u_col(i), y) * s / (s * s + mu);
            for (xj, vj) in x.iter_mut().zip(self.v_col(i)) {
                *xj += c * vj;
            }
        }
        x
    }

    /// The component of `w` orthogonal to A's row space: (I − A⁺A)w.
    pub fn null_component(&self, w: &[f64]) -> Vec<f64> {
        let mut out = w.to_vec();
        for i in 0..self.rank() {
            let v = self.v_col(i);
            let c = dot(v, w);
            for (o, vj) in out.iter_mut().zip(v) {
                *o -= c * vj;
            }
        }
        out
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Why `net` is not a linear model in its readout, or None when it is: at least one hidden
/// layer, every hidden layer frozen (so its features do not move) without dropout or
/// BatchNorm (so they do not depend on the batch), one identity output unit, the MSE loss.
pub fn readout_problem(net: &Network) -> Option<&'static str> {
    let (out, hidden) = net.layers.split_last()?;
    if hidden.is_empty() {
        return Some("needs at least one hidden layer (its outputs are the features)");
    }
    if hidden.iter().any(|l| l.trainable) {
        return Some(
            "needs every hidden layer frozen (trainable: false): the features must not move",
        );
    }
    if net.layers.iter().any(|l| l.batch_norm || l.dropout > 0.0) {
        return Some(
            "needs no BatchNorm and no dropout: the features must not depend on the batch",
        );
    }
    if out.units != 1 || out.activation != Activation::Identity || net.loss != Loss::Mse {
        return Some("needs one identity output unit and the mse loss (a linear readout)");
    }
    if !out.trainable {
        return Some("needs a trainable output layer");
    }
    None
}

/// A = [Φ 1]: the last hidden layer's outputs on `rows` raw input rows with a column of ones
/// (the readout's bias), row-major rows × (units + 1).
pub fn readout_matrix(net: &Network, theta: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
    let mut ws = Workspace::default();
    net.forward(theta, x, rows, &mut ws, BnMode::Batch, None);
    let last_hidden = net.layers.len() - 2;
    let p = net.layers[last_hidden].units;
    let phi = ws.layers[last_hidden].out();
    let mut a = Vec::with_capacity(rows * (p + 1));
    for r in 0..rows {
        a.extend_from_slice(&phi[r * p..(r + 1) * p]);
        a.push(1.0);
    }
    a
}

/// The readout (w, b) of θ.
pub fn readout(net: &Network, theta: &[f64]) -> Vec<f64> {
    let out = net.output();
    theta[out.w..out.end].to_vec()
}

/// How far gradient descent's readout is from the minimum-norm one.
#[derive(Clone, Debug, PartialEq)]
pub struct MinNormReport {
    /// Training rows n.
    pub rows: usize,
    /// p + 1 readout parameters.
    pub params: usize,
    /// Numerical rank of A = [Φ 1].
    pub rank: usize,
    /// Its smallest non-zero singular value.
    pub smallest_singular_value: f64,
    /// ‖θ_T − A⁺y‖: the trained readout against the pseudo-inverse solution.
    pub distance: f64,
    /// ‖P_null θ₀‖: the start's component GD cannot remove.
    pub start_null_norm: f64,
    /// ‖θ_T − (A⁺y + P_null θ₀)‖: how far GD is from its predicted limit (→ 0 from any start).
    pub limit_error: f64,
    /// ‖A⁺y‖.
    pub min_norm: f64,
    /// ‖θ_T‖.
    pub trained_norm: f64,
    /// max |Aθ_T − y| over the training rows.
    pub max_residual: f64,
}

/// Compare the readout of `theta` (after training) with the pseudo-inverse solution on the
/// training rows, given the start `theta0`.
pub fn min_norm_report(
    net: &Network,
    theta0: &[f64],
    theta: &[f64],
    train: &Dataset,
) -> Result<MinNormReport, String> {
    if let Some(why) = readout_problem(net) {
        return Err(format!("minimum norm {why}"));
    }
    let n = train.rows();
    let a = readout_matrix(net, theta0, &train.x, n);
    let cols = a.len() / n.max(1);
    let svd = Svd::of(&a, n, cols)?;
    let w_star = svd.solve(&train.y, 0.0);
    let w0 = readout(net, theta0);
    let w = readout(net, theta);
    let null0 = svd.null_component(&w0);
    let limit: Vec<f64> = w_star.iter().zip(&null0).map(|(a, b)| a + b).collect();
    let max_residual = (0..n)
        .map(|r| (dot(&a[r * cols..(r + 1) * cols], &w) - train.y[r]).abs())
        .fold(0.0, f64::max);
    let zero = vec![0.0; cols];
    Ok(MinNormReport {
        rows: n,
        params: cols,
        rank: svd.rank(),
        smallest_singular_value: svd.smallest_nonzero(),
        distance: distance(&w, &w_star),
        start_null_norm: distance(&null0, &zero),
        limit_error: distance(&w, &limit),
        min_norm: distance(&w_star, &zero),
        trained_norm: distance(&w, &zero),
        max_residual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 5 matrix with known pseudo-inverse behaviour.
    fn wide() -> (Vec<f64>, usize, usize) {
        (
            vec![
                1.0, 2.0, 0.0, -1.0, 3.0, //
                0.5, -1.0, 2.0, 1.0, 0.0, //
                -2.0, 0.0, 1.0, 4.0, 1.0,
            ],
            3,
            5,
        )
    }

    fn matvec(a: &[f64], rows: usize, cols: usize, x: &[f64]) -> Vec<f64> {
        (0..rows)
            .map(|r| dot(&a[r * cols..(r + 1) * cols], x))
            .collect()
    }

    #[test]
    fn pseudo_inverse_interpolates_and_is_orthogonal_to_the_null_space() {
        let (a, n, p) = wide();
        let y = [1.0, -2.0, 0.5];
        let svd = Svd::of(&a, n, p).unwrap();
        assert_eq!(svd.rank(), 3);
        let x = svd.solve(&y, 0.0);
        // Interpolates…
        for (fx, yi) in matvec(&a, n, p, &x).iter().zip(&y) {
            assert!((fx - yi).abs() < 1e-12, "{fx} vs {yi}");
        }
        // …and lies in the row space: x = Aᵀz with z = (AAᵀ)⁻¹y, solved independently by
        // Cramer's rule on the 3 × 3 Gram matrix.
        let g: Vec<f64> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| dot(&a[i * p..(i + 1) * p], &a[j * p..(j + 1) * p]))
            .collect();
        let det3 = |m: &[f64]| {
            m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
                + m[2] * (m[3] * m[7] - m[4] * m[6])
        };
        let d = det3(&g);
        let z: Vec<f64> = (0..3)
            .map(|c| {
                let mut m = g.clone();
                for r in 0..3 {
                    m[r * 3 + c] = y[r];
                }
                det3(&m) / d
            })
            .collect();
        for j in 0..p {
            let want: f64 = (0..3).map(|i| a[i * p + j] * z[i]).sum();
            assert!((x[j] - want).abs() < 1e-12, "x[{j}] = {} vs {want}", x[j]);
        }
        // A null-space component is annihilated by A and orthogonal to x.
        let w = [0.3, -1.0, 2.0, 0.7, -0.2];
        let nul = svd.null_component(&w);
        for v in matvec(&a, n, p, &nul) {
            assert!(v.abs() < 1e-12);
        }
        assert!(dot(&nul, &x).abs() < 1e-12);
    }

    #[test]
    fn ridge_solves_the_regularised_normal_equations() {
        let (a, n, p) = wide();
        let y = [1.0, -2.0, 0.5];
        let mu = 0.7;
        let x = Svd::of(&a, n, p).unwrap().solve(&y, mu);
        // (AᵀA + μI)x − Aᵀy = 0, formed directly.
        let ax = matvec(&a, n, p, &x);
        for j in 0..p {
            let col: Vec<f64> = (0..n).map(|i| a[i * p + j]).collect();
            let r = dot(&col, &ax) + mu * x[j] - dot(&col, &y);
            assert!(r.abs() < 1e-12, "row {j}: {r}");
        }
    }

    #[test]
    fn rank_deficient_matrices_drop_the_zero_singular_values() {
        // Second row = 2 × first: rank 1; the pseudo-inverse solution of an inconsistent
        // system is the least-squares one of minimum norm: x = A⁺y with A⁺ = Aᵀ/‖A‖_F² here.
        let a = vec![1.0, 2.0, 2.0, 4.0];
        let svd = Svd::of(&a, 2, 2).unwrap();
        assert_eq!(svd.rank(), 1);
        let x = svd.solve(&[1.0, 0.0], 0.0);
        assert!((x[0] - 1.0 / 25.0).abs() < 1e-15 && (x[1] - 2.0 / 25.0).abs() < 1e-15);
    }
}
