//! Spectra of symmetric operators known only through products v ↦ Av: Lanczos with
//! reorthogonalisation (partial for single vectors, full for blocks) for extreme eigenpairs, stochastic Lanczos quadrature (SLQ) for the
//! spectral density, and Hutchinson's trace estimator. Generic over the operator, so the same
//! code serves the Hessian, the Gauss–Newton matrix and the test matrices.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use serde::Serialize;

use crate::net::linalg::{axpy, dot, norm};
use crate::rng::Rng;

/// A symmetric linear operator on ℝⁿ.
pub trait SymmetricOperator {
    /// n, the dimension.
    fn dim(&self) -> usize;
    /// out = A·v
    fn apply(&mut self, v: &[f64], out: &mut [f64]);
    /// out = A·[v₁ … v_K] for K vectors stored row after row (K × n); by default one product
    /// each (operators with a cheaper batched product override it).
    fn apply_block(&mut self, v: &[f64], out: &mut [f64]) {
        let n = self.dim().max(1);
        for (vi, oi) in v.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            self.apply(vi, oi);
        }
    }
}

/// A dense symmetric matrix (row-major) as an operator; used by tests and small problems.
pub struct DenseOperator {
    /// The dimension.
    pub n: usize,
    /// The n×n matrix, row-major.
    pub a: Vec<f64>,
}

impl SymmetricOperator for DenseOperator {
    fn dim(&self) -> usize {
        self.n
    }
    fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(self.a.chunks_exact(self.n)) {
            *o = dot(row, v);
        }
    }
}

/// Eigenvalues (ascending) and optionally eigenvectors (column j = vectors\[j\]) of a dense
/// symmetric matrix (row-major; only its upper triangle is read).
pub fn dense_eigen(
    n: usize,
    a: &[f64],
    vectors: bool,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
    // Two threads, whatever the machine's core count: the reduction to tridiagonal form splits
    // its work by this count, so fixing it keeps the bits the same on a given machine however
    // many cores it has (faer picks its SIMD kernels at run time, so other CPUs may differ in
    // the last bits, as for every GEMM here). Small matrices stay serial.
    let par = if n >= EIGEN_PARALLEL_DIM {
        Par::rayon(2)
    } else {
        Par::Seq
    };
    // Read as column-major (contiguous): the transpose, which for a symmetric matrix is the
    // matrix itself; faer reads its lower triangle, i.e. the upper triangle of `a`.
    let m = MatRef::from_column_major_slice(&a[..n * n], n, n);
    let compute = if vectors {
        ComputeEigenvectors::Yes
    } else {
        ComputeEigenvectors::No
    };
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let mut u = vectors.then(|| Mat::<f64>::zeros(n, n));
    let mut mem = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
        n,
        compute,
        par,
        Default::default(),
    ));
    self_adjoint_evd(
        m,
        s.as_mut(),
        u.as_mut().map(|u| u.as_mut()),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| format!("eigen-decomposition failed: {e:?}"))?;
    let vals: Vec<f64> = (0..n).map(|i| s[i]).collect();
    let vecs: Vec<Vec<f64>> = match u {
        Some(u) => (0..n)
            .map(|j| (0..n).map(|i| u[(i, j)]).collect())
            .collect(),
        None => Vec::new(),
    };
    Ok((vals, vecs))
}

/// From this dimension on the dense eigen-solver uses two threads. Measured here on the
/// benchmark Hessians: at n = 1975 0.39–0.69 s against 1.25–1.51 s on one thread (the matrix
/// no longer fits in cache); at n = 1051 no gain (0.08 s either way).
const EIGEN_PARALLEL_DIM: usize = 1500;

/// Below this dimension the Gram–Schmidt projections run on one thread.
const SPLIT_DIM: usize = 16_384;

/// One classical Gram–Schmidt pass of the `b` rows of `w` (each of length n) against the
/// `rows` orthonormal rows of `q`, as two GEMMs: c = Q·Wᵀ (rows × b, row-major), W −= cᵀ·Q.
/// Returns c. The basis is read twice per pass whatever b is (vector loops read it twice per
/// vector), and large n is split into two fixed column halves on two threads whose partial
/// products are summed in a fixed order, so the bits do not depend on the machine.
fn project_out(q: &[f64], rows: usize, n: usize, w: &mut [f64], b: usize) -> Vec<f64> {
    let q = &q[..rows * n];
    let mut c = vec![0.0; rows * b];
    if rows == 0 || b == 0 {
        return c;
    }
    let halves: Vec<(usize, usize)> = if n >= SPLIT_DIM {
        vec![(0, n / 2), (n / 2, n - n / 2)]
    } else {
        vec![(0, n)]
    };
    let coeffs = |(lo, len): (usize, usize), w: &[f64]| {
        let mut ch = vec![0.0; rows * b];
        matmul(
            MatMut::from_row_major_slice_mut(&mut ch, rows, b),
            Accum::Replace,
            MatRef::from_row_major_slice(q, rows, n).subcols(lo, len),
            MatRef::from_row_major_slice(w, b, n)
                .subcols(lo, len)
                .transpose(),
            1.0,
            Par::Seq,
        );
        ch
    };
    let update = |(lo, len): (usize, usize), c: &[f64], w: MatMut<f64>| {
        matmul(
            w,
            Accum::Add,
            MatRef::from_row_major_slice(c, rows, b).transpose(),
            MatRef::from_row_major_slice(q, rows, n).subcols(lo, len),
            -1.0,
            Par::Seq,
        );
    };
    let parts: Vec<Vec<f64>> = if halves.len() == 2 {
        let wr = &*w;
        let (first, other) = rayon::join(|| coeffs(halves[0], wr), || coeffs(halves[1], wr));
        vec![first, other]
    } else {
        vec![coeffs(halves[0], w)]
    };
    for part in &parts {
        for (a, x) in c.iter_mut().zip(part) {
            *a += x;
        }
    }
    let wm = MatMut::from_row_major_slice_mut(w, b, n);
    if halves.len() == 2 {
        let (w0, w1) = wm.split_at_col_mut(halves[1].0);
        let cr = &c;
        rayon::join(|| update(halves[0], cr, w0), || update(halves[1], cr, w1));
    } else {
        update(halves[0], &c, wm);
    }
    c
}

/// Ask Linux for 2 MB pages under a large buffer: the Lanczos basis grows by a fresh vector
/// per step (0.7 MB at P = 92k), and with 4 kB pages each step paid ~180 page faults.
fn advise_huge_pages(buffer: &Vec<f64>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (buffer.as_ptr() as usize).next_multiple_of(HUGE);
        let end = (buffer.as_ptr() as usize + buffer.capacity() * 8) / HUGE * HUGE;
        if end > start {
            // SAFETY: advice only, on whole pages inside this buffer's own allocation; the
            // kernel may ignore it, and the contents are unaffected either way.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// Block Lanczos with reorthogonalisation (full for blocks; for b = 1 partial, keeping the
/// basis orthonormal to about √ε, see `Orthogonality`): an orthonormal basis Q = \[Q₀ Q₁ …\] of the block
/// Krylov space of A from a starting block of `b` vectors, and the block-tridiagonal
/// T = QᵀAQ (diagonal blocks Aⱼ, sub-diagonal blocks Rⱼ). One step costs one block product
/// A·Qⱼ (the Hessian's K-direction R-pass) and Gram–Schmidt as GEMMs against the basis.
/// With b = 1 it is the ordinary Lanczos tridiagonalisation.
pub struct BlockLanczos {
    n: usize,
    b: usize,
    /// Orthonormal rows of length n, block by block; holds the next block after each step.
    basis: Vec<f64>,
    /// Aⱼ = QⱼᵀAQⱼ (symmetrised) per step, b × b row-major.
    diag: Vec<f64>,
    /// Rⱼ with AQⱼ − QⱼAⱼ − Qⱼ₋₁Rⱼ₋₁ᵀ = Qⱼ₊₁Rⱼ (upper triangular; column i holds the
    /// coefficients of the i-th new vector), b × b row-major, per step.
    sub: Vec<f64>,
    rng: Rng,
    /// Largest ‖Aq‖ seen: the scale against which a new direction counts as zero.
    scale: f64,
    /// Per basis row: false for a row left zero because ℝⁿ was already full.
    valid: Vec<bool>,
    /// The space is invariant (b = 1): no further steps.
    done: bool,
    /// b = 1: the estimated loss of orthogonality of the newest basis vector.
    orthogonality: Orthogonality,
    /// Steps that reorthogonalised against the whole basis.
    reorthogonalised: usize,
    /// b = 1, after a step that reorthogonalised: −Σ_{k<j} (q_kᵀq_j)·q_k for the step's own
    /// vector q_j, from the same sweeps over the basis. The next step's only old components
    /// are −β_j times those, so it subtracts β_j times this instead of sweeping again.
    pending: Option<Vec<f64>>,
}

/// Simon's partial reorthogonalisation for single-vector Lanczos: the ω-recurrence estimates
/// |q_{j+1}ᵀq_k| for every earlier basis vector from the recurrence coefficients alone, and the
/// new vector is reorthogonalised against the whole basis only when an estimate exceeds √ε
/// (then also at the next step, as the recurrence couples neighbours; that step needs no sweep
/// of its own, see `BlockLanczos::pending`). Semi-orthogonality
/// (√ε) keeps the Ritz values as accurate as full reorthogonalisation does (Simon 1984), and
/// it saves most of the reads of the basis, which dominate the cost past a few dozen steps.
#[derive(Clone, Debug, Default)]
struct Orthogonality {
    /// ω_{j,k} ≈ q_jᵀq_k (k ≤ j) of the current vector, and of the one before.
    current: Vec<f64>,
    previous: Vec<f64>,
    /// The last step reorthogonalised because of the estimate: the next one does too.
    force_next: bool,
}

impl Orthogonality {
    /// Given αⱼ and ‖w‖ (= βⱼ) of the step about to end, update the estimates for q_{j+1}
    /// and say whether to reorthogonalise it (the estimates are then reset).
    fn needs_reorthogonalisation(
        &mut self,
        alphas: &[f64],
        betas: &[f64],
        alpha: f64,
        beta: f64,
        scale: f64,
        n: usize,
    ) -> bool {
        let j = alphas.len();
        let floor = f64::EPSILON * (n as f64).sqrt();
        if self.current.is_empty() {
            self.current.push(1.0);
        }
        if beta <= 0.0 || !beta.is_finite() {
            // The run ends here (invariant subspace); keep the estimates' shape all the same.
            let mut next = vec![floor; j + 2];
            next[j + 1] = 1.0;
            self.previous = std::mem::replace(&mut self.current, next);
            return true;
        }
        let psi = floor * scale.max(beta);
        let mut next = vec![0.0; j + 2];
        let mut worst: f64 = 0.0;
        for k in 0..j {
            let mut t = betas[k] * self.current[k + 1] + (alphas[k] - alpha) * self.current[k];
            if k > 0 {
                t += betas[k - 1] * self.current[k - 1];
            }
            if j > 0 {
                t -= betas[j - 1] * self.previous.get(k).copied().unwrap_or(0.0);
            }
            t = (t + psi.copysign(t)) / beta;
            worst = worst.max(t.abs());
            next[k] = t;
        }
        next[j] = floor;
        next[j + 1] = 1.0;
        let reorthogonalise = self.force_next || worst > f64::EPSILON.sqrt();
        if reorthogonalise {
            // The step after a sweep is corrected without one (see `BlockLanczos::pending`):
            // what it leaves is the sweep's rounding carried through one product, up to
            // ‖A‖/β times larger. (When it sweeps after all, this start is only cautious.)
            let left = if self.force_next {
                floor * (scale / beta).max(1.0)
            } else {
                floor
            };
            next[..=j].fill(left);
            self.force_next = !self.force_next;
        }
        self.previous = std::mem::replace(&mut self.current, next);
        reorthogonalise
    }
}

impl BlockLanczos {
    /// A run from the rows of `start` (b × n, row-major); `seed` draws the replacement
    /// vectors of a rank-deficient block. `capacity` (basis vectors) only reserves memory.
    pub fn new(n: usize, b: usize, start: &[f64], seed: u64, capacity: usize) -> BlockLanczos {
        let b = b.clamp(1, n.max(1));
        let basis = Vec::with_capacity(capacity.max(2 * b).min(n + b) * n);
        advise_huge_pages(&basis);
        let mut lz = BlockLanczos {
            n,
            b,
            basis,
            diag: Vec::new(),
            sub: Vec::new(),
            rng: Rng::stream(seed, "block lanczos"),
            scale: 0.0,
            valid: Vec::new(),
            done: n == 0,
            orthogonality: Orthogonality::default(),
            reorthogonalised: 0,
            pending: None,
        };
        let mut block = start[..b * n].to_vec();
        let reference: Vec<f64> = block.chunks_exact(n.max(1)).map(norm).collect();
        lz.orthonormalise(&mut block, &reference, true);
        lz.basis.extend_from_slice(&block);
        lz
    }

    /// Block size.
    pub fn block(&self) -> usize {
        self.b
    }

    /// Steps that reorthogonalised the new vector against the whole basis (all of them for
    /// b > 1; with b = 1 those where the estimated loss of orthogonality called for it).
    pub fn reorthogonalised(&self) -> usize {
        self.reorthogonalised
    }

    /// max |q_iᵀq_j − δ_ij| over the basis built so far: the actual loss of orthogonality
    /// (a diagnostic: it reads the basis m²/2 times).
    pub fn orthogonality_loss(&self) -> f64 {
        let n = self.n;
        let rows: Vec<&[f64]> = self.basis.chunks_exact(n.max(1)).collect();
        let mut worst: f64 = 0.0;
        for (i, qi) in rows.iter().enumerate() {
            if !self.valid.get(i).copied().unwrap_or(true) {
                continue;
            }
            for (j, qj) in rows.iter().enumerate().take(i + 1) {
                if !self.valid.get(j).copied().unwrap_or(true) {
                    continue;
                }
                let target = if i == j { 1.0 } else { 0.0 };
                worst = worst.max((dot(qi, qj) - target).abs());
            }
        }
        worst
    }

    /// Steps (block products) taken.
    pub fn steps(&self) -> usize {
        self.diag.len() / (self.b * self.b)
    }

    /// Basis rows whose Rayleigh quotients are in T (zero rows included).
    fn rows(&self) -> usize {
        self.steps() * self.b
    }

    /// Dimension of the Krylov space built so far (the basis vectors in T).
    pub fn dim(&self) -> usize {
        self.valid[..self.rows()].iter().filter(|v| **v).count()
    }

    /// Has the Krylov space become invariant (b = 1) or filled ℝⁿ?
    pub fn exhausted(&self) -> bool {
        let next = self.rows()..self.rows() + self.b;
        self.done || self.dim() >= self.n || !self.valid[next].iter().any(|v| *v)
    }

    /// Orthonormalise the rows of `w` against the basis' previous blocks' span (already
    /// done by the caller) and each other (modified Gram–Schmidt, twice), returning R
    /// (b × b, row-major, upper triangular) with w_before = Rᵀ·w_after. A row whose
    /// remainder is negligible against `reference` (per row) is a deflation: its R diagonal
    /// is 0 and, for b > 1, it is replaced by a random unit vector orthogonal to everything so
    /// the block keeps its size (for b = 1 the space is invariant: the run is done).
    fn orthonormalise(&mut self, w: &mut [f64], reference: &[f64], first: bool) -> Vec<f64> {
        let (n, b) = (self.n, self.b);
        let mut r = vec![0.0; b * b];
        for i in 0..b {
            let (before, rest) = w.split_at_mut(i * n);
            let wi = &mut rest[..n];
            for _ in 0..2 {
                for (l, ql) in before.chunks_exact(n).enumerate() {
                    let c = dot(ql, wi);
                    axpy(-c, ql, wi);
                    r[l * b + i] += c;
                }
            }
            let nu = norm(wi);
            let tiny = if first { 1e-10 } else { 1e-12 };
            if nu > tiny * reference[i] && nu > 0.0 {
                wi.iter_mut().for_each(|x| *x /= nu);
                r[i * b + i] = nu;
                self.valid.push(true);
                continue;
            }
            if b == 1 && !first {
                self.done = true;
                wi.fill(0.0);
                self.valid.push(false);
                continue;
            }
            // Deflation: a fresh random direction, orthogonal to the basis and this block.
            wi.iter_mut().for_each(|x| *x = self.rng.normal());
            let rows = self.basis.len() / n;
            for _ in 0..2 {
                project_out(&self.basis, rows, n, wi, 1);
                for ql in before.chunks_exact(n) {
                    let c = dot(ql, wi);
                    axpy(-c, ql, wi);
                }
            }
            let nu = norm(wi);
            let fresh = nu > 1e-8 * (n as f64).sqrt();
            if fresh {
                wi.iter_mut().for_each(|x| *x /= nu);
            } else {
                // ℝⁿ is full: nothing orthogonal is left; the row stays zero and out of T.
                wi.fill(0.0);
            }
            self.valid.push(fresh);
        }
        r
    }

    /// Take up to `more` further block steps.
    pub fn extend(&mut self, op: &mut dyn SymmetricOperator, more: usize) {
        let (n, b) = (self.n, self.b);
        let mut w = vec![0.0; b * n];
        for _ in 0..more {
            if self.exhausted() {
                break;
            }
            let j = self.steps();
            let qj = &self.basis[j * b * n..(j + 1) * b * n];
            op.apply_block(qj, &mut w);
            let col_norms: Vec<f64> = w.chunks_exact(n).map(norm).collect();
            self.scale = col_norms.iter().fold(self.scale, |a, &x| a.max(x));
            // The three-term recurrence: project out Qⱼ₋₁ and Qⱼ (coefficients: Rⱼ₋₁ᵀ, Aⱼ).
            let first = j.saturating_sub(1) * b;
            let recent = j * b + b - first;
            let c = project_out(&self.basis[first * n..], recent, n, &mut w, b);
            let mut a = c[(recent - b) * b..].to_vec();
            // Reorthogonalisation against the whole basis; a second pass only when the
            // first removed a large part (Daniel–Gragg–Kaufman–Stewart), since one pass
            // leaves errors of order ε·‖before‖/‖after‖. With b = 1 only when the estimated
            // loss of orthogonality calls for it (partial reorthogonalisation).
            let rows = (j + 1) * b;
            let full = b > 1
                || self.orthogonality.needs_reorthogonalisation(
                    &self.diag,
                    &self.sub,
                    a[0],
                    norm(&w),
                    self.scale,
                    n,
                );
            // The step after a reorthogonalisation (Simon's scheme reorthogonalises both; only
            // b = 1 ever leaves a `pending`). q_j was made orthogonal to the basis, so
            // w = Aq_j − α_j q_j − β_{j−1}q_{j−1} meets the older vectors only through
            // −β_{j−1}·q_{j−1}'s components on them (the rest is rounding, ε‖A‖): remove
            // exactly those, already summed.
            let corrected = match self.pending.take() {
                Some(x) if full => {
                    let beta = self.sub.last().copied().unwrap_or(0.0);
                    for (wi, xi) in w.iter_mut().zip(&x) {
                        *wi -= beta * xi;
                    }
                    true
                }
                _ => false,
            };
            let swept = full && !corrected;
            self.reorthogonalised += usize::from(swept);
            for pass in 0..2 {
                if !swept {
                    break;
                }
                let before: Vec<f64> = w.chunks_exact(n).map(norm).collect();
                let c = if b == 1 && pass == 0 {
                    // Sweep w and q_j together (the basis is read as often as for w alone):
                    // the second row becomes q_j − Σ_{k≤j}(q_kᵀq_j)q_k ≈ −Σ_{k<j}(q_kᵀq_j)q_k,
                    // what the next step subtracts.
                    let mut pair = Vec::with_capacity(2 * n);
                    pair.extend_from_slice(&w);
                    pair.extend_from_slice(&self.basis[j * n..(j + 1) * n]);
                    let c2 = project_out(&self.basis, rows, n, &mut pair, 2);
                    w.copy_from_slice(&pair[..n]);
                    // max_k<j |q_kᵀq_j|: q_j's measured loss. Past √ε (the estimates are not
                    // strict bounds) the shortcut's second-order remainder is not negligible,
                    // so the next step sweeps in full.
                    let loss = c2[..2 * j]
                        .iter()
                        .skip(1)
                        .step_by(2)
                        .fold(0.0f64, |a, x| a.max(x.abs()));
                    self.pending = (loss <= f64::EPSILON.sqrt()).then(|| pair[n..].to_vec());
                    c2.iter().step_by(2).copied().collect()
                } else {
                    project_out(&self.basis, rows, n, &mut w, b)
                };
                for (x, y) in a.iter_mut().zip(&c[j * b * b..]) {
                    *x += y;
                }
                let after: Vec<f64> = w.chunks_exact(n).map(norm).collect();
                let dropped = before
                    .iter()
                    .zip(&after)
                    .any(|(x, y)| *y < std::f64::consts::FRAC_1_SQRT_2 * x);
                if pass == 1 || !dropped {
                    break;
                }
            }
            // c is (rows × b): entry (row l, column i) = q_lᵀ w_i; Aⱼ row-major is (l, i).
            for l in 0..b {
                for i in l + 1..b {
                    let m = 0.5 * (a[l * b + i] + a[i * b + l]);
                    a[l * b + i] = m;
                    a[i * b + l] = m;
                }
            }
            let reference = vec![self.scale; b];
            let r = self.orthonormalise(&mut w, &reference, false);
            self.diag.extend_from_slice(&a);
            self.sub.extend_from_slice(&r);
            self.basis.extend_from_slice(&w);
        }
    }

    /// The block-tridiagonal T (dim × dim, row-major).
    fn t_matrix(&self) -> Vec<f64> {
        let (b, s) = (self.b, self.steps());
        let m = s * b;
        let mut t = vec![0.0; m * m];
        for j in 0..s {
            let a = &self.diag[j * b * b..(j + 1) * b * b];
            for l in 0..b {
                for i in 0..b {
                    t[(j * b + l) * m + j * b + i] = a[l * b + i];
                }
            }
            if j + 1 < s {
                let r = &self.sub[j * b * b..(j + 1) * b * b];
                for l in 0..b {
                    for i in 0..b {
                        // Row (j+1, l), column (j, i): coefficient of q_{j+1,l} in A q_{j,i}.
                        t[((j + 1) * b + l) * m + j * b + i] = r[l * b + i];
                        t[(j * b + i) * m + (j + 1) * b + l] = r[l * b + i];
                    }
                }
            }
        }
        t
    }

    /// Ritz values (ascending), the eigenvectors of T (one per Ritz value) and the residual
    /// norms ‖Ax − λx‖ = ‖R_last·y_last‖ of the Ritz pairs.
    pub fn ritz(&self) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
        let (b, m) = (self.b, self.rows());
        // T over the valid rows only (a zero row would add a spurious eigenvalue 0).
        let keep: Vec<usize> = (0..m).filter(|&i| self.valid[i]).collect();
        let mk = keep.len();
        if mk == 0 {
            return (Vec::new(), Vec::new(), Vec::new());
        }
        let t = self.t_matrix();
        let tk: Vec<f64> = keep
            .iter()
            .flat_map(|&i| keep.iter().map(move |&j| (i, j)))
            .map(|(i, j)| t[i * m + j])
            .collect();
        let (vals, vecs) = match dense_eigen(mk, &tk, true) {
            Ok(x) => x,
            Err(_) => {
                let diag: Vec<f64> = (0..mk).map(|i| tk[i * mk + i]).collect();
                return (diag, Vec::new(), vec![f64::INFINITY; mk]);
            }
        };
        // Eigenvectors of T over all m rows (zeros at the dropped ones).
        let vecs: Vec<Vec<f64>> = vecs
            .into_iter()
            .map(|yk| {
                let mut y = vec![0.0; m];
                for (&i, v) in keep.iter().zip(yk) {
                    y[i] = v;
                }
                y
            })
            .collect();
        let r = &self.sub[(self.steps() - 1) * b * b..];
        let residuals = vecs
            .iter()
            .map(|y| {
                let last = &y[m - b..];
                (0..b)
                    .map(|l| (0..b).map(|i| r[l * b + i] * last[i]).sum::<f64>().powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        (vals, vecs, residuals)
    }

    /// x = Q·y for eigenvectors y of T, as one GEMM over the basis (k × n, row-major).
    fn ritz_vectors(&self, ys: &[&Vec<f64>]) -> Vec<f64> {
        let (n, m, k) = (self.n, self.rows(), ys.len());
        let y: Vec<f64> = ys.iter().flat_map(|y| y.iter().copied()).collect();
        let mut x = vec![0.0; k * n];
        if k > 0 && m > 0 {
            matmul(
                MatMut::from_row_major_slice_mut(&mut x, k, n),
                Accum::Replace,
                MatRef::from_row_major_slice(&y, k, m),
                MatRef::from_row_major_slice(&self.basis[..m * n], m, n),
                1.0,
                Par::Seq,
            );
        }
        x
    }
}

/// The Lanczos tridiagonalisation T = QᵀAQ of `steps` steps from `start`.
pub struct Lanczos {
    /// α_1 … α_m (the diagonal of T).
    pub alpha: Vec<f64>,
    /// β_1 … β_{m−1} (off-diagonal), plus the residual norm β_m last.
    pub beta: Vec<f64>,
}

/// Lanczos with (partial) reorthogonalisation, stopping early on an invariant subspace.
pub fn lanczos(op: &mut dyn SymmetricOperator, start: &[f64], steps: usize) -> Lanczos {
    let n = op.dim();
    let mut lz = BlockLanczos::new(n, 1, start, 0, steps + 1);
    lz.extend(op, steps);
    Lanczos {
        alpha: lz.diag,
        beta: lz.sub,
    }
}

/// An eigenpair estimate with its residual bound ‖Ax − λx‖.
#[derive(Clone, Debug, Serialize)]
pub struct RitzPair {
    /// The Ritz value λ.
    pub value: f64,
    /// ‖Ax − λx‖.
    pub residual: f64,
    /// The Ritz vector x (unit norm; empty where it was not kept).
    #[serde(skip)]
    pub vector: Vec<f64>,
}

/// The `k` largest and `k` smallest eigenpairs by Lanczos, iterating until their residuals are
/// below `tol`·max|λ| or `max_steps` is reached. Returns (bottom ascending, top descending),
/// disjoint.
pub fn extreme_eigenpairs(
    op: &mut dyn SymmetricOperator,
    k: usize,
    max_steps: usize,
    tol: f64,
    seed: u64,
) -> (Vec<RitzPair>, Vec<RitzPair>) {
    extreme_eigenpairs_split(op, k, k, max_steps, tol, seed)
}

/// As [`extreme_eigenpairs`] with different counts at the two ends (e.g. the top 10 and λ_min):
/// only the pairs asked for must converge, which saves products.
pub fn extreme_eigenpairs_split(
    op: &mut dyn SymmetricOperator,
    k_top: usize,
    k_bottom: usize,
    max_steps: usize,
    tol: f64,
    seed: u64,
) -> (Vec<RitzPair>, Vec<RitzPair>) {
    extreme_eigenpairs_block(op, k_top, k_bottom, 1, max_steps, tol, seed)
}

/// As [`extreme_eigenpairs_split`] by block Lanczos with block size `block` (1 = ordinary
/// Lanczos); `max_products` bounds the products (the Krylov dimension).
pub fn extreme_eigenpairs_block(
    op: &mut dyn SymmetricOperator,
    k_top: usize,
    k_bottom: usize,
    block: usize,
    max_products: usize,
    tol: f64,
    seed: u64,
) -> (Vec<RitzPair>, Vec<RitzPair>) {
    let n = op.dim();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let k_top = k_top.min(n).max(1);
    let k_bottom = k_bottom.min(n);
    let k = k_top.max(k_bottom);
    let b = block.clamp(1, n);
    let mut rng = Rng::stream(seed, "lanczos");
    let start: Vec<f64> = (0..b * n).map(|_| rng.normal()).collect();
    let max_products = max_products.min(n).max(1);
    let max_steps = max_products.div_ceil(b);
    let mut lz = BlockLanczos::new(n, b, &start, seed, max_steps * b + b);
    // First look once the space can hold both ends with room to spare, then every few
    // products (a look is a small dense eigen-solve; a product is far dearer).
    let mut next = (2 * k + 10).div_ceil(b).min(max_steps);
    let every = 4usize.div_ceil(b);
    loop {
        lz.extend(op, next - lz.steps());
        let (vals, vecs, res) = lz.ritz();
        let m = vals.len();
        let scale = vals.iter().fold(1e-300f64, |a, v| a.max(v.abs()));
        let kb = k_bottom.min(m);
        let top_from = kb.max(m.saturating_sub(k_top));
        let converged = (0..kb).chain(top_from..m).all(|i| res[i] <= tol * scale);
        if converged || lz.exhausted() || lz.steps() >= max_steps || vecs.is_empty() {
            // Disjoint ends: when 2k exceeds the Ritz values found, the top takes what is left.
            let order: Vec<usize> = (0..kb).chain((top_from..m).rev()).collect();
            let ys: Vec<&Vec<f64>> = order.iter().filter_map(|&i| vecs.get(i)).collect();
            let xs = lz.ritz_vectors(&ys);
            let mut pairs: Vec<RitzPair> = order
                .iter()
                .enumerate()
                .map(|(c, &i)| RitzPair {
                    value: vals[i],
                    residual: res[i],
                    vector: xs.get(c * n..(c + 1) * n).unwrap_or(&[]).to_vec(),
                })
                .collect();
            let top = pairs.split_off(kb);
            return (pairs, top);
        }
        next = (lz.steps() + every).min(max_steps);
    }
}

/// Spectral density by stochastic Lanczos quadrature: nodes and weights per probe, and the
/// density smoothed by a gaussian of width `sigma` on a grid.
#[derive(Clone, Debug, Serialize)]
pub struct Density {
    /// Ritz values of every probe.
    pub nodes: Vec<f64>,
    /// Quadrature weights (summing to 1 over all probes).
    pub weights: Vec<f64>,
    /// λ values where the smoothed density is evaluated.
    pub grid: Vec<f64>,
    /// The smoothed density at each grid point.
    pub density: Vec<f64>,
    /// n·Σ wλ: a trace estimate from the same quadrature.
    pub trace: f64,
}

/// The density of `op`'s spectrum from `probes` random probes of `steps` Lanczos steps each,
/// smoothed on `grid_points` points (see [`Density`]).
pub fn slq_density(
    op: &mut dyn SymmetricOperator,
    steps: usize,
    probes: usize,
    grid_points: usize,
    seed: u64,
) -> Density {
    let n = op.dim();
    let probes = probes.max(1);
    let mut rng = Rng::stream(seed, "slq");
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for _ in 0..probes {
        let v: Vec<f64> = (0..n)
            .map(|_| if rng.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        let mut lz = BlockLanczos::new(n, 1, &v, seed, steps + 1);
        lz.extend(op, steps);
        let (vals, vecs, _) = lz.ritz();
        for (i, &l) in vals.iter().enumerate() {
            let tau = vecs.get(i).map_or(1.0 / vals.len() as f64, |s| s[0] * s[0]);
            nodes.push(l);
            weights.push(tau / probes as f64);
        }
    }
    let trace = n as f64 * nodes.iter().zip(&weights).map(|(l, w)| l * w).sum::<f64>();
    let lo = nodes.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = nodes.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    let sigma = span / 100.0;
    let (a, b) = (lo - 5.0 * sigma, hi + 5.0 * sigma);
    let g = grid_points.max(2);
    let grid: Vec<f64> = (0..g)
        .map(|i| a + (b - a) * i as f64 / (g - 1) as f64)
        .collect();
    let norm_c = 1.0 / (sigma * (2.0 * std::f64::consts::PI).sqrt());
    let density = grid
        .iter()
        .map(|&t| {
            nodes
                .iter()
                .zip(&weights)
                .map(|(l, w)| w * norm_c * (-0.5 * ((t - l) / sigma).powi(2)).exp())
                .sum()
        })
        .collect();
    Density {
        nodes,
        weights,
        grid,
        density,
        trace,
    }
}

/// Hutchinson's estimate of tr(A) with Rademacher probes: (mean, standard error).
pub fn hutchinson_trace(op: &mut dyn SymmetricOperator, samples: usize, seed: u64) -> (f64, f64) {
    let n = op.dim();
    let samples = samples.max(2);
    let mut rng = Rng::stream(seed, "hutchinson");
    let mut z = vec![0.0; n];
    let mut az = vec![0.0; n];
    let mut vals = Vec::with_capacity(samples);
    for _ in 0..samples {
        z.iter_mut()
            .for_each(|x| *x = if rng.uniform() < 0.5 { -1.0 } else { 1.0 });
        op.apply(&z, &mut az);
        vals.push(dot(&z, &az));
    }
    let mean = vals.iter().sum::<f64>() / samples as f64;
    let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (samples - 1) as f64;
    (mean, (var / samples as f64).sqrt())
}
