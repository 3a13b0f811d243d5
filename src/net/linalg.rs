//! The three matrix products of a dense layer, on row-major slices.
//!
//! Small products (a few thousand multiply-adds: the tiny nets this lab lives on) use plain
//! loops, where a GEMM library's set-up would cost more than the arithmetic. Larger ones go to
//! faer's GEMM, which dispatches to AVX2/AVX-512 kernels at run time. Both paths are sequential
//! and deterministic: the same inputs give the same bits on the same machine.

use faer::{Accum, MatMut, MatRef, Par};

/// Below this many multiply-adds the plain loops win.
const SMALL: usize = 4096;

/// z[m×n] = a[m×k] · w[n×k]ᵀ   (forward: rows × fan_in times Wᵀ)
pub fn matmul_nt(m: usize, n: usize, k: usize, a: &[f64], w: &[f64], z: &mut [f64]) {
    let (a, w, z) = (&a[..m * k], &w[..n * k], &mut z[..m * n]);
    if m * n * k < SMALL {
        for (zr, ar) in z.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
            for (zj, wr) in zr.iter_mut().zip(w.chunks_exact(k)) {
                *zj = dot(ar, wr);
            }
        }
    } else {
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(z, m, n),
            Accum::Replace,
            MatRef::from_row_major_slice(a, m, k),
            MatRef::from_row_major_slice(w, n, k).transpose(),
            1.0,
            Par::Seq,
        );
    }
}

/// g[n×k] += d[m×n]ᵀ · a[m×k]   (weight gradient: δᵀ times the layer's input)
pub fn matmul_tn_acc(m: usize, n: usize, k: usize, d: &[f64], a: &[f64], g: &mut [f64]) {
    let (d, a, g) = (&d[..m * n], &a[..m * k], &mut g[..n * k]);
    if m * n * k < SMALL {
        for (dr, ar) in d.chunks_exact(n).zip(a.chunks_exact(k)) {
            for (&dj, gr) in dr.iter().zip(g.chunks_exact_mut(k)) {
                if dj != 0.0 {
                    axpy(dj, ar, gr);
                }
            }
        }
    } else {
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(g, n, k),
            Accum::Add,
            MatRef::from_row_major_slice(d, m, n).transpose(),
            MatRef::from_row_major_slice(a, m, k),
            1.0,
            Par::Seq,
        );
    }
}

/// o[m×k] = d[m×n] · w[n×k]   (error sent back: δ times W)
pub fn matmul_nn(m: usize, n: usize, k: usize, d: &[f64], w: &[f64], o: &mut [f64]) {
    let (d, w, o) = (&d[..m * n], &w[..n * k], &mut o[..m * k]);
    if m * n * k < SMALL {
        for (or, dr) in o.chunks_exact_mut(k).zip(d.chunks_exact(n)) {
            or.fill(0.0);
            for (&dj, wr) in dr.iter().zip(w.chunks_exact(k)) {
                if dj != 0.0 {
                    axpy(dj, wr, or);
                }
            }
        }
    } else {
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(o, m, k),
            Accum::Replace,
            MatRef::from_row_major_slice(d, m, n),
            MatRef::from_row_major_slice(w, n, k),
            1.0,
            Par::Seq,
        );
    }
}

/// Dot product with four independent accumulators (a fixed order, so still deterministic).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let i = 4 * c;
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..n {
        s += a[i] * b[i];
    }
    s
}

/// y += α·x
#[inline]
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// ‖x‖₂
pub fn norm(x: &[f64]) -> f64 {
    dot(x, x).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a(i, l) * b(l, j)).sum();
            }
        }
        c
    }

    #[test]
    fn small_and_large_paths_agree_with_the_definition() {
        let mut rng = Rng::new(5);
        for &(m, n, k) in &[(3, 4, 5), (10, 8, 2), (40, 33, 17), (64, 32, 32)] {
            let a: Vec<f64> = (0..m * k).map(|_| rng.normal()).collect();
            let w: Vec<f64> = (0..n * k).map(|_| rng.normal()).collect();
            let d: Vec<f64> = (0..m * n).map(|_| rng.normal()).collect();
            let mut z = vec![0.0; m * n];
            matmul_nt(m, n, k, &a, &w, &mut z);
            let want = naive(m, n, k, |i, l| a[i * k + l], |l, j| w[j * k + l]);
            for (x, y) in z.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12);
            }
            let mut g = vec![1.0; n * k];
            matmul_tn_acc(m, n, k, &d, &a, &mut g);
            let want = naive(n, k, m, |j, i| d[i * n + j], |i, l| a[i * k + l]);
            for (x, y) in g.iter().zip(&want) {
                assert!((x - 1.0 - y).abs() < 1e-12);
            }
            let mut o = vec![7.0; m * k];
            matmul_nn(m, n, k, &d, &w, &mut o);
            let want = naive(m, k, n, |i, j| d[i * n + j], |j, l| w[j * k + l]);
            for (x, y) in o.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12);
            }
        }
    }
}
