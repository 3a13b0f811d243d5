//! The three matrix products of a dense layer, on ndarray views.
//!
//! Small products (a few thousand multiply-adds: the tiny nets this lab lives on) use plain
//! loops over the views' row-major slices, where a GEMM library's set-up would cost more than
//! the arithmetic. Larger ones go to faer's GEMM through zero-copy views (`faer-ext`: the
//! same pointer and strides), which dispatches to AVX2/AVX-512 kernels at run time. Both paths
//! are sequential and deterministic: the same inputs give the same bits on the same machine.
//! A view that is not in standard (row-major, contiguous) layout always takes faer's path,
//! which reads any strides. Pass views made by [`view`]/[`view_mut`] (or `Layer::weight_view`)
//! and their transposes, not ndarray slices: slicing sets the stride of a length-1 axis to 0,
//! and faer picks another kernel for that (the same values, other last bits).

use faer::{Accum, Par};
use faer_ext::IntoFaer;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Below this many multiply-adds the plain loops win.
const SMALL: usize = 4096;

/// A rows × cols row-major view of the first rows·cols values of `s`.
///
/// Built from the pointer after one length check instead of `ArrayView2::from_shape`, whose
/// general shape validation cost the 2-8-8-1 benchmark net a measurable share of its step.
#[inline]
pub fn view(rows: usize, cols: usize, s: &[f64]) -> ArrayView2<'_, f64> {
    let len = rows.checked_mul(cols).expect("rows × cols overflows");
    let s = &s[..len];
    // SAFETY: `s` holds exactly rows·cols initialised values that outlive the view, and the
    // default (row-major) strides of a rows × cols shape address only those values.
    unsafe { ArrayView2::from_shape_ptr((rows, cols), s.as_ptr()) }
}

/// A rows × cols row-major mutable view of the first rows·cols values of `s`.
#[inline]
pub fn view_mut(rows: usize, cols: usize, s: &mut [f64]) -> ArrayViewMut2<'_, f64> {
    let len = rows.checked_mul(cols).expect("rows × cols overflows");
    let s = &mut s[..len];
    // SAFETY: as in `view`, and `s` is borrowed mutably (no alias) for the view's lifetime.
    unsafe { ArrayViewMut2::from_shape_ptr((rows, cols), s.as_mut_ptr()) }
}

/// z\[m×n\] = a\[m×k\] · w\[n×k\]ᵀ   (forward: rows × fan_in times Wᵀ)
pub fn matmul_nt(a: ArrayView2<f64>, w: ArrayView2<f64>, mut z: ArrayViewMut2<f64>) {
    let ((m, k), n) = (a.dim(), w.nrows());
    assert!(w.ncols() == k && z.dim() == (m, n), "matmul_nt: shapes");
    if m * n * k < SMALL
        && let (Some(a), Some(w), Some(z)) = (a.as_slice(), w.as_slice(), z.as_slice_mut())
    {
        for (zr, ar) in z.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
            for (zj, wr) in zr.iter_mut().zip(w.chunks_exact(k)) {
                *zj = dot(ar, wr);
            }
        }
        return;
    }
    faer::linalg::matmul::matmul(
        z.into_faer(),
        Accum::Replace,
        a.into_faer(),
        w.into_faer().transpose(),
        1.0,
        Par::Seq,
    );
}

/// g\[n×k\] += d\[m×n\]ᵀ · a\[m×k\]   (weight gradient: δᵀ times the layer's input)
pub fn matmul_tn_acc(d: ArrayView2<f64>, a: ArrayView2<f64>, mut g: ArrayViewMut2<f64>) {
    let ((m, n), k) = (d.dim(), a.ncols());
    assert!(a.nrows() == m && g.dim() == (n, k), "matmul_tn_acc: shapes");
    if m * n * k < SMALL
        && let (Some(d), Some(a), Some(g)) = (d.as_slice(), a.as_slice(), g.as_slice_mut())
    {
        for (dr, ar) in d.chunks_exact(n).zip(a.chunks_exact(k)) {
            for (&dj, gr) in dr.iter().zip(g.chunks_exact_mut(k)) {
                if dj != 0.0 {
                    axpy(dj, ar, gr);
                }
            }
        }
        return;
    }
    faer::linalg::matmul::matmul(
        g.into_faer(),
        Accum::Add,
        d.into_faer().transpose(),
        a.into_faer(),
        1.0,
        Par::Seq,
    );
}

/// o\[m×k\] = d\[m×n\] · w\[n×k\]   (error sent back: δ times W)
pub fn matmul_nn(d: ArrayView2<f64>, w: ArrayView2<f64>, mut o: ArrayViewMut2<f64>) {
    let ((m, n), k) = (d.dim(), w.ncols());
    assert!(w.nrows() == n && o.dim() == (m, k), "matmul_nn: shapes");
    if m * n * k < SMALL
        && let (Some(d), Some(w), Some(o)) = (d.as_slice(), w.as_slice(), o.as_slice_mut())
    {
        for (or, dr) in o.chunks_exact_mut(k).zip(d.chunks_exact(n)) {
            or.fill(0.0);
            for (&dj, wr) in dr.iter().zip(w.chunks_exact(k)) {
                if dj != 0.0 {
                    axpy(dj, wr, or);
                }
            }
        }
        return;
    }
    faer::linalg::matmul::matmul(
        o.into_faer(),
        Accum::Replace,
        d.into_faer(),
        w.into_faer(),
        1.0,
        Par::Seq,
    );
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
            matmul_nt(view(m, k, &a), view(n, k, &w), view_mut(m, n, &mut z));
            let want = naive(m, n, k, |i, l| a[i * k + l], |l, j| w[j * k + l]);
            for (x, y) in z.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12);
            }
            let mut g = vec![1.0; n * k];
            matmul_tn_acc(view(m, n, &d), view(m, k, &a), view_mut(n, k, &mut g));
            let want = naive(n, k, m, |j, i| d[i * n + j], |i, l| a[i * k + l]);
            for (x, y) in g.iter().zip(&want) {
                assert!((x - 1.0 - y).abs() < 1e-12);
            }
            let mut o = vec![7.0; m * k];
            matmul_nn(view(m, n, &d), view(n, k, &w), view_mut(m, k, &mut o));
            let want = naive(m, k, n, |i, j| d[i * n + j], |j, l| w[j * k + l]);
            for (x, y) in o.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12);
            }
        }
    }
}
