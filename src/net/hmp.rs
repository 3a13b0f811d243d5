//! Hessian–matrix products: H·[v₁ … v_K] for K directions in one R-operator pass.
//!
//! The R-operator of [`hvp`](super::hvp) (read its notes first), with every R-quantity
//! carrying a direction index: R-buffers are laid out `[row][direction][unit]`, so each
//! product of a layer becomes ONE matrix–matrix multiplication with K times as many rows or
//! columns instead of K small ones. That is what makes the dense Hessian fast: P columns cost
//! P/K passes of large GEMMs.

use super::activation::{Activation, sigmoid};
use super::kernels::{add_row, factor_row, mul_row, r_delta_row};
use super::linalg::{matmul_nn, matmul_nt, matmul_tn_acc, view, view_mut};
use super::network::{BnMode, Network, Workspace};
use super::objective::Rows;
use super::spec::Loss;

/// Buffers for [`hessian_matrix_product`], reused between calls.
#[derive(Clone, Debug, Default)]
pub struct HmpWorkspace {
    base: Workspace,
    base_key: Option<(usize, usize, u64)>,
    layers: Vec<RLayer>,
    /// Base error signals (rows × width) and their R-derivatives (rows × K × width).
    d: Vec<f64>,
    dprev: Vec<f64>,
    skip: Vec<f64>,
    rd: Vec<f64>,
    rdprev: Vec<f64>,
    rskip: Vec<f64>,
    tmp: Vec<f64>,
    /// The directions' weights of one layer, stacked or side by side.
    vcat: Vec<f64>,
    sums: [Vec<f64>; 4],
    /// Per layer: f′(u) and f″(u) of the base pass (rows × n), computed with it and reused by
    /// every product at the same θ.
    derivs: Vec<(Vec<f64>, Vec<f64>)>,
    /// Non-zero entries (direction, row, column, value) of the directions' W block.
    sparse: Vec<(usize, usize, usize, f64)>,
    /// Per layer with BatchNorm or PReLU slopes: the base error signal δ arriving from above
    /// (rows × n). It depends only on θ and the rows, so the first product at a θ stores it and
    /// later ones skip its GEMM.
    d_in: Vec<Vec<f64>>,
    d_in_ready: bool,
    /// Per layer, for the later products at the same θ (layers without BatchNorm or PReLU
    /// slopes): δ after the activation, and δ⊙f″ (rows × n).
    d_post: Vec<Vec<f64>>,
    d_fpp: Vec<Vec<f64>>,
    /// The unit directions of [`unit_direction_signals`] (K × P).
    dirs: Vec<f64>,
    /// Per θ: the first-layer factor M of [`first_layer_factored`], n₁ × (d+1) × n₀.
    factor: Vec<f64>,
    factor_ready: bool,
}

/// At most this many first-layer inputs (+1) for the factor: building it costs as much as
/// (d+1)/2 products' worth of the GEMMs it saves, so wide inputs (images) keep the plain path.
const FACTOR_MAX_INPUTS: usize = 16;

/// At most this many values in the first-layer factor and in its build's scratch (32 MB).
const FACTOR_LIMIT: usize = 1 << 22;

/// Whether products over `rows` rows take the first-layer factorisation.
///
/// The first layer sees the d input features (2 for points in the plane), so for every
/// direction R{a₀} = f′(u₀) ⊙ (x̃·Ṽ₀ᵀ) with x̃ = [x, 1]: it lies in a (d+1)-dimensional family
/// fixed by θ. Two of a product's large GEMMs contract the base signal δ₁ of the second layer
/// with such a quantity: δ₁ᵀ·R{a₀} (the second layer's weight block) and x̃ᵀ·(f′(u₀) ⊙ δ₁·V₁)
/// (the first layer's block, reached through δ₁·V₁). Both are sums over c of
/// M_c = δ₁ᵀ·diag(x̃_c)·f′(u₀) (n₁ × n₀), formed once per θ:
///   (δ₁ᵀ·R{a₀})\[j\]\[i\] = Σ_c M_c\[j\]\[i\]·Ṽ₀\[i\]\[c\],   (x̃ᵀ·(f′ ⊙ δ₁·V₁))\[c\]\[i\] = Σ_j V₁\[j\]\[i\]·M_c\[j\]\[i\],
/// which costs (d+1)·n₀·n₁ per direction instead of 2·rows·n₀·n₁: four large GEMMs per
/// product instead of six. It needs the full Hessian (Gauss–Newton drops these terms), rows
/// that do not interact (no BatchNorm) and a first layer whose R{a₀} has that form (no PReLU
/// slopes, no skip connection), and pays only when d+1 is small (≤ 16, and small against the
/// rows).
pub fn first_layer_factored(net: &Network, rows: usize, gauss_newton: bool) -> bool {
    let [l0, l1, ..] = net.layers.as_slice() else {
        return false;
    };
    let c = l0.fan_in + 1;
    !gauss_newton
        && !net.has_batch_norm()
        && l0.prelu.is_none()
        && !l0.residual
        && l0.activation != Activation::Softmax
        && c <= FACTOR_MAX_INPUTS
        && 4 * c <= rows
        && l1.units * c * l0.units <= FACTOR_LIMIT
}

/// M = δ₁ᵀ·[diag(x̃_c)·f′(u₀)]_c (n₁ × (d+1)·n₀, laid out [j][c][i]) from the second layer's
/// base δ₁ (rows × n₁); `scratch` holds the rows × (d+1)·n₀ right-hand side.
fn build_first_layer_factor(
    net: &Network,
    input: &[f64],
    fprime: &[f64],
    d1: &[f64],
    m: usize,
    scratch: &mut Vec<f64>,
    factor: &mut Vec<f64>,
) {
    let (l0, l1) = (&net.layers[0], &net.layers[1]);
    let (n0, d, n1) = (l0.units, l0.fan_in, l1.units);
    let c_n = d + 1;
    resize(factor, n1 * c_n * n0);
    factor.fill(0.0);
    // Rows in blocks, so the right-hand side stays within FACTOR_LIMIT values too.
    let block = (FACTOR_LIMIT / (c_n * n0)).clamp(1, m.max(1));
    grow(scratch, block * c_n * n0);
    for r0 in (0..m).step_by(block) {
        let rows = block.min(m - r0);
        for r in 0..rows {
            let fr = &fprime[(r0 + r) * n0..(r0 + r + 1) * n0];
            let dst = &mut scratch[r * c_n * n0..(r + 1) * c_n * n0];
            for c in 0..c_n {
                let x = if c < d { input[(r0 + r) * d + c] } else { 1.0 };
                for (a, &f) in dst[c * n0..(c + 1) * n0].iter_mut().zip(fr) {
                    *a = x * f;
                }
            }
        }
        let d1_rows = &d1[r0 * n1..(r0 + rows) * n1];
        matmul_tn_acc(
            view(rows, n1, d1_rows),
            view(rows, c_n * n0, scratch),
            view_mut(n1, c_n * n0, factor),
        );
    }
}

/// Adds to the K products the two δ₁-terms that M stands for (see [`first_layer_factored`]).
/// `scratch` holds Ṽ₀ transposed and the first layer's sums.
fn add_factored_terms(
    net: &Network,
    v: &[f64],
    kd: usize,
    factor: &[f64],
    scratch: &mut Vec<f64>,
    out: &mut [f64],
) {
    let p = net.n_params;
    let (l0, l1) = (&net.layers[0], &net.layers[1]);
    let (n0, d, n1) = (l0.units, l0.fan_in, l1.units);
    let c_n = d + 1;
    resize(scratch, 2 * c_n * n0);
    for j in 0..kd {
        let vj = &v[j * p..(j + 1) * p];
        let oj = &mut out[j * p..(j + 1) * p];
        let (vt, acc) = scratch.split_at_mut(c_n * n0);
        for i in 0..n0 {
            for c in 0..d {
                vt[c * n0 + i] = vj[l0.w + i * d + c];
            }
            vt[d * n0 + i] = vj[l0.b + i];
        }
        acc.fill(0.0);
        for u in 0..n1 {
            let mu = &factor[u * c_n * n0..(u + 1) * c_n * n0];
            let v1 = &vj[l1.w + u * n0..l1.w + (u + 1) * n0];
            let o1 = &mut oj[l1.w + u * n0..l1.w + (u + 1) * n0];
            for ((mc, vc), ac) in mu
                .chunks_exact(n0)
                .zip(vt.chunks_exact(n0))
                .zip(acc.chunks_exact_mut(n0))
            {
                factor_row(o1, ac, mc, vc, v1);
            }
        }
        for i in 0..n0 {
            for c in 0..d {
                oj[l0.w + i * d + c] += acc[c * n0 + i];
            }
            oj[l0.b + i] += acc[d * n0 + i];
        }
    }
}

/// Collect the non-zeros of the K directions' W block (n × k at offset `w`) into `out`;
/// true when there are few enough (under one per column of a direction's block on average,
/// and at most an eighth of the block) that applying them one by one beats a GEMM. (A dense
/// direction of an output layer with one unit has exactly one entry per column, and walking
/// the rows once per entry is far slower than the GEMM.)
fn sparse_entries(
    v: &[f64],
    p: usize,
    kd: usize,
    w: usize,
    n: usize,
    k: usize,
    out: &mut Vec<(usize, usize, usize, f64)>,
) -> bool {
    out.clear();
    let limit = kd * k.min(n * k / 8);
    for j in 0..kd {
        for (idx, &x) in v[j * p + w..j * p + w + n * k].iter().enumerate() {
            if x != 0.0 {
                if out.len() >= limit {
                    return false;
                }
                out.push((j, idx / k, idx % k, x));
            }
        }
    }
    true
}

/// f′(u) and f″(u) over a layer's base rows (PReLU with its per-unit α).
fn derivatives(
    layer: &super::network::Layer,
    theta: &[f64],
    u: &[f64],
    f: &[f64],
    fp: &mut Vec<f64>,
    fpp: &mut Vec<f64>,
) {
    let n = layer.units;
    resize(fp, u.len());
    resize(fpp, u.len());
    let act = layer.activation;
    for (idx, (&ui, &fi)) in u.iter().zip(f).enumerate() {
        let p = match layer.prelu {
            Some(pa) => theta[pa + idx % n],
            None => layer.param,
        };
        fp[idx] = act.deriv(ui, fi, p);
        fpp[idx] = act.second(ui, fi, p);
    }
}

#[derive(Clone, Debug, Default)]
struct RLayer {
    rz: Vec<f64>,
    ru: Vec<f64>,
    rf: Vec<f64>,
    ra: Vec<f64>,
    rxhat: Vec<f64>,
    /// Per direction and unit (K × n).
    rinvstd: Vec<f64>,
}

impl RLayer {
    fn out(&self) -> &[f64] {
        if self.ra.is_empty() {
            &self.rf
        } else {
            &self.ra
        }
    }
}

/// Scratch buffers only grow (their users slice them), so no call re-zeroes them.
fn grow(v: &mut Vec<f64>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

fn resize(v: &mut Vec<f64>, n: usize) {
    if v.len() != n {
        v.resize(n, 0.0);
    }
}

/// `out` (K × P, row-major) = H·vⱼ for the K directions in `v` (K × P, row-major), or the
/// Gauss–Newton products with `gauss_newton`. Same objective as the single product.
#[allow(clippy::too_many_arguments)]
pub fn hessian_matrix_product(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    l2: f64,
    v: &[f64],
    gauss_newton: bool,
    hw: &mut HmpWorkspace,
    out: &mut [f64],
) {
    let p = net.n_params;
    let kdir = v.len() / p.max(1);
    out.fill(0.0);
    let m = rows.len();
    if m > 0 && kdir > 0 {
        base_pass(net, theta, rows, hw);
        r_forward(net, theta, v, kdir, 0, hw);
        r_backward(
            net,
            theta,
            v,
            kdir,
            m,
            gauss_newton,
            hw,
            Sink::Products(out),
        );
    }
    if l2 != 0.0 {
        for (oj, vj) in out.chunks_exact_mut(p).zip(v.chunks_exact(p)) {
            for l in &net.layers {
                for i in l.w..l.w + l.n_weights() {
                    oj[i] += l2 * vj[i];
                }
            }
        }
    }
}

/// The base (ordinary) pass at θ over the rows and each layer's f′, f″; kept while θ and the
/// rows stay the same.
fn base_pass(net: &Network, theta: &[f64], rows: Rows, hw: &mut HmpWorkspace) {
    let key = fingerprint(theta, &rows);
    if hw.base_key == Some(key) {
        return;
    }
    net.forward(theta, rows.x, rows.len(), &mut hw.base, BnMode::Batch, None);
    net.set_targets(&mut hw.base, rows.y, net.target_coding(rows.classes));
    hw.derivs.resize_with(net.layers.len(), Default::default);
    for ((layer, c), (fp, fpp)) in net.layers.iter().zip(&hw.base.layers).zip(&mut hw.derivs) {
        if layer.activation != Activation::Softmax {
            derivatives(layer, theta, &c.u, &c.f, fp, fpp);
        }
    }
    hw.base_key = Some(key);
    hw.d_in_ready = false;
    hw.factor_ready = false;
}

/// One layer's per-row signals for K directions, as [`unit_direction_signals`] hands them out.
pub struct LayerSignals<'a> {
    /// The layer these signals belong to.
    pub layer: usize,
    /// Rows of the batch.
    pub rows: usize,
    /// Number of directions K.
    pub kd: usize,
    /// The layer's units and fan-in.
    pub n: usize,
    /// See `n`.
    pub k: usize,
    /// R{δ} at the layer's pre-activation, rows × K × n (already divided by the row count).
    pub rd: &'a [f64],
    /// δ at the pre-activation, rows × n.
    pub d: &'a [f64],
    /// The layer's input, rows × k.
    pub input: &'a [f64],
    /// R{input}, rows × K × k; `None` where it is zero (the directions' own layer) or dropped
    /// (Gauss–Newton).
    pub rinput: Option<&'a [f64]>,
    /// The input of the directions' layer, rows × its fan-in.
    pub dir_input: &'a [f64],
}

/// What the backward R-pass does with each layer's signals.
enum Sink<'a> {
    /// Sum over the rows into the products H·vⱼ (K × P).
    Products(&'a mut [f64]),
    /// Hand every layer's per-row signals, from the last down to `first` (the directions'
    /// layer), to `f`, and stop there.
    Rows {
        first: usize,
        f: &'a mut dyn FnMut(&LayerSignals),
    },
}

/// The per-row R-signals of K "unit" directions of layer `layer`: direction j moves the
/// pre-activation of unit `units.start + j` by one on every row (it is that unit's bias).
///
/// Without BatchNorm each row's loss depends on θ only through its own pass, so the weight
/// direction W\[i\]\[c\] moves row r's signals in this layer and above by exactly input\[r\]\[c\]
/// times unit i's. (Not below: there the weight direction adds δ\[r\]\[i\]·e_c to R{δ}, which the
/// bias direction has no counterpart for, so the pass must stop at `layer`.) The dense
/// Hessian's rows for a whole layer then follow from these signals by GEMMs over the rows
/// (see `analysis::dense_hessian`), for the cost of one R-pass per unit instead of one per
/// parameter. `f` gets the layers from the last down to `layer`; the blocks below it are the
/// mirror images of rows computed for lower layers. Nothing is called with BatchNorm in the
/// network.
#[allow(clippy::too_many_arguments)]
pub fn unit_direction_signals(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    layer: usize,
    units: std::ops::Range<usize>,
    gauss_newton: bool,
    hw: &mut HmpWorkspace,
    f: &mut dyn FnMut(&LayerSignals),
) {
    let m = rows.len();
    let kd = units.len();
    if net.has_batch_norm() || m == 0 || kd == 0 {
        return;
    }
    let p = net.n_params;
    base_pass(net, theta, rows, hw);
    let mut dirs = std::mem::take(&mut hw.dirs);
    dirs.clear();
    dirs.resize(kd * p, 0.0);
    let b = net.layers[layer].b;
    for (j, i) in units.enumerate() {
        dirs[j * p + b + i] = 1.0;
    }
    r_forward(net, theta, &dirs, kd, layer, hw);
    r_backward(
        net,
        theta,
        &dirs,
        kd,
        m,
        gauss_newton,
        hw,
        Sink::Rows { first: layer, f },
    );
    hw.dirs = dirs;
}

/// The R-forward pass from layer `first` up (the directions are zero below it).
fn r_forward(
    net: &Network,
    theta: &[f64],
    v: &[f64],
    kd: usize,
    first: usize,
    hw: &mut HmpWorkspace,
) {
    let m = hw.base.rows;
    let p = net.n_params;
    hw.layers.resize_with(net.layers.len(), RLayer::default);
    for (li, layer) in net.layers.iter().enumerate().skip(first) {
        let (n, k) = (layer.units, layer.fan_in);
        let base = &hw.base.layers[li];
        let prev: &[f64] = if li == 0 {
            &hw.base.input
        } else {
            hw.base.layers[li - 1].out()
        };
        let (before, rest) = hw.layers.split_at_mut(li);
        let rc = &mut rest[0];
        let rprev: Option<&[f64]> = (li > first).then(|| before[li - 1].out());
        let size = m * kd * n;
        resize(&mut rc.ru, size);
        resize(&mut rc.rf, size);
        if layer.residual {
            resize(&mut rc.ra, size);
        } else {
            rc.ra.clear();
        }
        let rz = if layer.batch_norm {
            resize(&mut rc.rz, size);
            &mut rc.rz
        } else {
            &mut rc.ru
        };
        // R{z} = a_prev·Vⱼᵀ + R{a_prev}·Wᵀ + v_b,j   (rows of R{z}: [r][j][i])
        if sparse_entries(v, p, kd, layer.w, n, k, &mut hw.sparse) {
            // Few non-zeros (unit vectors of the dense Hessian): apply them one by one.
            rz.fill(0.0);
            for &(j, a, b, val) in &hw.sparse {
                for r in 0..m {
                    rz[(r * kd + j) * n + a] += val * prev[r * k + b];
                }
            }
        } else {
            // The directions' W blocks stacked: (K·n × k).
            grow(&mut hw.vcat, kd * n * k);
            for (j, dst) in hw.vcat[..kd * n * k].chunks_exact_mut(n * k).enumerate() {
                dst.copy_from_slice(&v[j * p + layer.w..j * p + layer.w + n * k]);
            }
            matmul_nt(
                view(m, k, prev),
                view(kd * n, k, &hw.vcat),
                view_mut(m, kd * n, rz),
            );
        }
        if let Some(rp) = rprev {
            grow(&mut hw.tmp, size);
            let tmp = view_mut(m * kd, n, &mut hw.tmp);
            matmul_nt(view(m * kd, k, rp), layer.weight_view(theta), tmp);
            add_row(rz, &hw.tmp[..size]);
        }
        for row in rz.chunks_exact_mut(kd * n) {
            for (j, seg) in row.chunks_exact_mut(n).enumerate() {
                add_row(seg, &v[j * p + layer.b..j * p + layer.b + n]);
            }
        }
        if layer.batch_norm {
            let (g0, b0) = (layer.gamma.unwrap_or(0), layer.beta.unwrap_or(0));
            let gamma = &theta[g0..g0 + n];
            resize(&mut rc.rxhat, size);
            resize(&mut rc.rinvstd, kd * n);
            let inv_m = 1.0 / m as f64;
            let [rmu, rvar, _, _] = &mut hw.sums;
            resize(rmu, kd * n);
            resize(rvar, kd * n);
            rmu.fill(0.0);
            rvar.fill(0.0);
            for row in rc.rz.chunks_exact(kd * n) {
                for (a, b) in rmu.iter_mut().zip(row) {
                    *a += b;
                }
            }
            rmu.iter_mut().for_each(|x| *x *= inv_m);
            for r in 0..m {
                for j in 0..kd {
                    for i in 0..n {
                        let (bi, ri, ji) = (r * n + i, (r * kd + j) * n + i, j * n + i);
                        rvar[ji] += (base.z[bi] - base.mean[i]) * (rc.rz[ri] - rmu[ji]);
                    }
                }
            }
            for j in 0..kd {
                for i in 0..n {
                    let ji = j * n + i;
                    rvar[ji] *= 2.0 * inv_m;
                    let s = base.invstd[i];
                    rc.rinvstd[ji] = -0.5 * s * s * s * rvar[ji];
                }
            }
            for r in 0..m {
                for j in 0..kd {
                    let (vg, vbeta) = (
                        &v[j * p + g0..j * p + g0 + n],
                        &v[j * p + b0..j * p + b0 + n],
                    );
                    for i in 0..n {
                        let (bi, ri, ji) = (r * n + i, (r * kd + j) * n + i, j * n + i);
                        let rx = (rc.rz[ri] - rmu[ji]) * base.invstd[i]
                            + (base.z[bi] - base.mean[i]) * rc.rinvstd[ji];
                        rc.rxhat[ri] = rx;
                        rc.ru[ri] = vg[i] * base.xhat[bi] + gamma[i] * rx + vbeta[i];
                    }
                }
            }
        }
        let act = layer.activation;
        for r in 0..m {
            for j in 0..kd {
                let (b0, r0) = (r * n, (r * kd + j) * n);
                let (ur, fr) = (&base.u[b0..b0 + n], &base.f[b0..b0 + n]);
                let (rur, rfr) = (&rc.ru[r0..r0 + n], &mut rc.rf[r0..r0 + n]);
                if act == Activation::Softmax {
                    let s: f64 = fr.iter().zip(rur).map(|(a, b)| a * b).sum();
                    for i in 0..n {
                        rfr[i] = fr[i] * (rur[i] - s);
                    }
                } else {
                    mul_row(rfr, &hw.derivs[li].0[b0..b0 + n], rur);
                    if let Some(pa) = layer.prelu {
                        let va = &v[j * p + pa..j * p + pa + n];
                        for i in 0..n {
                            rfr[i] += act.dparam(ur[i]) * va[i];
                        }
                    }
                }
            }
        }
        if layer.residual {
            rc.ra.copy_from_slice(&rc.rf);
            if let Some(rp) = rprev {
                for (a, b) in rc.ra.iter_mut().zip(rp) {
                    *a += b;
                }
            }
        }
    }
}

/// R{δ} through an activation for every row and direction: rd = rd·f′ + keep·(δ⊙f″)·R{u}
/// (rd and R{u} are rows × K × n; f′ and δ⊙f″ rows × n).
fn r_delta_rows(
    rd: &mut [f64],
    fp: &[f64],
    dfpp: &[f64],
    ru: &[f64],
    n: usize,
    kd: usize,
    keep: f64,
) {
    for (r, (fpr, gr)) in fp.chunks_exact(n).zip(dfpp.chunks_exact(n)).enumerate() {
        for j in 0..kd {
            let r0 = (r * kd + j) * n;
            r_delta_row(&mut rd[r0..r0 + n], fpr, gr, &ru[r0..r0 + n], keep);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn r_backward(
    net: &Network,
    theta: &[f64],
    v: &[f64],
    kd: usize,
    m: usize,
    gauss_newton: bool,
    hw: &mut HmpWorkspace,
    sink: Sink,
) {
    let (mut out, first, mut rows_sink) = match sink {
        Sink::Products(out) => (Some(out), 0, None),
        Sink::Rows { first, f } => (None, first, Some(f)),
    };
    let keep = if gauss_newton { 0.0 } else { 1.0 };
    let p = net.n_params;
    let last = net.layers.len() - 1;
    let scale = 1.0 / m as f64;
    let widest = net.widest().max(1);
    for b in [&mut hw.d, &mut hw.dprev, &mut hw.skip] {
        resize(b, m * widest);
    }
    for b in [&mut hw.rd, &mut hw.rdprev, &mut hw.rskip] {
        resize(b, m * kd * widest);
    }
    // Scratch for per-layer weight blocks (K·n·k) as well as batch-sized R-signals.
    // Never widest² (80 GB for a layer 100 000 wide with few rows): the largest weight block.
    let weight_block = net
        .layers
        .iter()
        .map(|l| l.units * l.fan_in)
        .max()
        .unwrap_or(0);
    grow(&mut hw.tmp, kd * (m * widest).max(weight_block));
    let u_space = matches!(net.loss, Loss::Bce | Loss::CrossEntropy);
    hw.d_post.resize_with(net.layers.len(), Vec::new);
    hw.d_fpp.resize_with(net.layers.len(), Vec::new);
    let factored = out.is_some() && first_layer_factored(net, m, gauss_newton);
    {
        let n = net.layers[last].units;
        let base = &hw.base.layers[last];
        let rc = &hw.layers[last];
        let t = &hw.base.targets;
        for r in 0..m {
            for i in 0..n {
                let bi = r * n + i;
                let (u, f, ti) = (base.u[bi], base.f[bi], t[bi]);
                hw.d[bi] = match net.loss {
                    Loss::Bce => scale * (sigmoid(u) - ti),
                    Loss::CrossEntropy | Loss::Mse => scale * (f - ti),
                    Loss::Hinge if 1.0 - ti * f > 0.0 => -scale * ti,
                    Loss::Hinge => 0.0,
                };
                for j in 0..kd {
                    let ri = (r * kd + j) * n + i;
                    hw.rd[ri] = match net.loss {
                        Loss::Bce => {
                            let s = sigmoid(u);
                            scale * s * (1.0 - s) * rc.ru[ri]
                        }
                        Loss::CrossEntropy | Loss::Mse => scale * rc.rf[ri],
                        Loss::Hinge => 0.0,
                    };
                }
            }
        }
    }
    for li in (first..=last).rev() {
        let layer = &net.layers[li];
        let (n, k) = (layer.units, layer.fan_in);
        let base = &hw.base.layers[li];
        let rc = &hw.layers[li];
        let prev: &[f64] = if li == 0 {
            &hw.base.input
        } else {
            hw.base.layers[li - 1].out()
        };
        let rprev: Option<&[f64]> = (li > first).then(|| hw.layers[li - 1].out());
        let cached = hw.d_in_ready;
        let act_step = !(li == last && u_space);
        // Without BatchNorm or PReLU slopes, δ after the activation and δ⊙f″ depend on θ
        // only: the first product at θ stores them and later ones read them (same bits).
        let plain = !layer.batch_norm && layer.prelu.is_none();
        let fast = cached && plain;
        if fast {
            let rd = &mut hw.rd[..m * kd * n];
            if layer.residual {
                hw.rskip[..m * kd * n].copy_from_slice(rd);
            }
            if act_step {
                r_delta_rows(rd, &hw.derivs[li].0, &hw.d_fpp[li], &rc.ru, n, kd, keep);
            }
        } else {
            // Plain layers keep `d_post` instead (below); the others keep δ from above.
            if cached {
                hw.d[..m * n].copy_from_slice(&hw.d_in[li]);
            } else if !plain {
                hw.d_in.resize_with(net.layers.len(), Vec::new);
                hw.d_in[li].clear();
                hw.d_in[li].extend_from_slice(&hw.d[..m * n]);
            }
            let d = &mut hw.d[..m * n];
            let rd = &mut hw.rd[..m * kd * n];
            if layer.residual {
                hw.skip[..m * n].copy_from_slice(d);
                hw.rskip[..m * kd * n].copy_from_slice(rd);
            }
            if act_step {
                let act = layer.activation;
                let (fp, fpp) = (&hw.derivs[li].0, &hw.derivs[li].1);
                if let Some(pa) = layer.prelu {
                    // ∂J/∂α and the α-direction term (f″ = 0 for PReLU).
                    for r in 0..m {
                        for j in 0..kd {
                            for i in 0..n {
                                let (bi, ri) = (r * n + i, (r * kd + j) * n + i);
                                let u = base.u[bi];
                                let neg = if u > 0.0 { 0.0 } else { 1.0 };
                                let lt = if u < 0.0 { 1.0 } else { 0.0 };
                                if let Some(out) = out.as_deref_mut() {
                                    out[j * p + pa + i] +=
                                        rd[ri] * act.dparam(u) + keep * d[bi] * lt * rc.ru[ri];
                                }
                                rd[ri] = rd[ri] * fp[bi] + keep * d[bi] * neg * v[j * p + pa + i];
                            }
                        }
                    }
                } else {
                    // δ⊙f″, kept for the later products at this θ.
                    let dfpp = &mut hw.d_fpp[li];
                    resize(dfpp, m * n);
                    for ((g, dv), f2) in dfpp.iter_mut().zip(d.iter()).zip(fpp) {
                        *g = dv * f2;
                    }
                    r_delta_rows(rd, fp, dfpp, &rc.ru, n, kd, keep);
                }
                for (dv, f) in d.iter_mut().zip(fp.iter()) {
                    *dv *= f;
                }
            }
            if plain {
                hw.d_post[li].clear();
                hw.d_post[li].extend_from_slice(d);
            }
        }
        let rd = &mut hw.rd[..m * kd * n];
        if layer.batch_norm {
            let d = &mut hw.d[..m * n];
            let (g0, b0) = (layer.gamma.unwrap_or(0), layer.beta.unwrap_or(0));
            let gamma = &theta[g0..g0 + n];
            let [s1, s2, rs1, rs2] = &mut hw.sums;
            resize(s1, n);
            resize(s2, n);
            resize(rs1, kd * n);
            resize(rs2, kd * n);
            for s in [&mut *s1, &mut *s2, &mut *rs1, &mut *rs2] {
                s.fill(0.0);
            }
            for r in 0..m {
                for i in 0..n {
                    let bi = r * n + i;
                    s1[i] += d[bi];
                    s2[i] += d[bi] * base.xhat[bi];
                    for j in 0..kd {
                        let (ri, ji) = ((r * kd + j) * n + i, j * n + i);
                        rs1[ji] += rd[ri];
                        rs2[ji] += rd[ri] * base.xhat[bi] + keep * d[bi] * rc.rxhat[ri];
                    }
                }
            }
            if let Some(out) = out.as_deref_mut() {
                for j in 0..kd {
                    for i in 0..n {
                        out[j * p + g0 + i] += rs2[j * n + i];
                        out[j * p + b0 + i] += rs1[j * n + i];
                    }
                }
            }
            let mf = m as f64;
            for r in 0..m {
                for i in 0..n {
                    let bi = r * n + i;
                    let x = base.xhat[bi];
                    let c = gamma[i] * base.invstd[i] / mf;
                    let inner = mf * d[bi] - s1[i] - x * s2[i];
                    for j in 0..kd {
                        let (ri, ji) = ((r * kd + j) * n + i, j * n + i);
                        let vg = v[j * p + g0 + i];
                        let rcoef = (vg * base.invstd[i] + gamma[i] * rc.rinvstd[ji]) / mf;
                        let rinner =
                            mf * rd[ri] - rs1[ji] - keep * rc.rxhat[ri] * s2[i] - x * rs2[ji];
                        rd[ri] = keep * rcoef * inner + c * rinner;
                    }
                    d[bi] = c * inner;
                }
            }
        }
        let d: &[f64] = if fast { &hw.d_post[li] } else { &hw.d[..m * n] };
        // The second layer's δ-terms through the first layer's low rank (four GEMMs, not six).
        let factor_here = factored && li == 1;
        if factor_here && !hw.factor_ready {
            build_first_layer_factor(
                net,
                &hw.base.input,
                &hw.derivs[0].0,
                d,
                m,
                &mut hw.tmp,
                &mut hw.factor,
            );
            hw.factor_ready = true;
        }
        if let Some(f) = rows_sink.as_deref_mut() {
            let dir_input: &[f64] = if first == 0 {
                &hw.base.input
            } else {
                hw.base.layers[first - 1].out()
            };
            f(&LayerSignals {
                layer: li,
                rows: m,
                kd,
                n,
                k,
                rd,
                d,
                input: prev,
                rinput: rprev.filter(|_| keep != 0.0),
                dir_input,
            });
            if li == first {
                // Rows mode: nothing below the directions' layer is needed (see
                // `unit_direction_signals`); the products' sums are not formed at all.
                break;
            }
        } else if let Some(out) = out.as_deref_mut() {
            let rprev = rprev.filter(|_| !factor_here);
            accumulate_products(layer, p, kd, m, keep, d, rd, prev, rprev, &mut hw.tmp, out);
            if factor_here {
                add_factored_terms(net, v, kd, &hw.factor, &mut hw.vcat, out);
            }
        }
        if li > 0 {
            let w = layer.weight_view(theta);
            if !cached {
                matmul_nn(view(m, n, d), w, view_mut(m, k, &mut hw.dprev));
            }
            matmul_nn(view(m * kd, n, rd), w, view_mut(m * kd, k, &mut hw.rdprev));
            if keep == 0.0 || factor_here {
                // Gauss–Newton drops δ·Vⱼ; the factor has already added its contribution.
            } else if sparse_entries(v, p, kd, layer.w, n, k, &mut hw.sparse) {
                for &(j, a, b, val) in &hw.sparse {
                    for r in 0..m {
                        hw.rdprev[(r * kd + j) * k + b] += val * d[r * n + a];
                    }
                }
            } else {
                // δ·Vⱼ for all j at once: V side by side (n × K·k), rows [i][j][kk].
                grow(&mut hw.vcat, n * kd * k);
                for i in 0..n {
                    for j in 0..kd {
                        let src = &v[j * p + layer.w + i * k..j * p + layer.w + (i + 1) * k];
                        hw.vcat[(i * kd + j) * k..(i * kd + j + 1) * k].copy_from_slice(src);
                    }
                }
                let tmp = &mut hw.tmp[..m * kd * k];
                matmul_nn(
                    view(m, n, d),
                    view(n, kd * k, &hw.vcat),
                    view_mut(m, kd * k, tmp),
                );
                for (a, b) in hw.rdprev[..m * kd * k].iter_mut().zip(tmp.iter()) {
                    *a += b;
                }
            }
            if layer.residual {
                if !cached {
                    for (a, b) in hw.dprev[..m * k].iter_mut().zip(&hw.skip[..m * k]) {
                        *a += b;
                    }
                }
                for (a, b) in hw.rdprev[..m * kd * k]
                    .iter_mut()
                    .zip(&hw.rskip[..m * kd * k])
                {
                    *a += b;
                }
            }
            std::mem::swap(&mut hw.d, &mut hw.dprev);
            std::mem::swap(&mut hw.rd, &mut hw.rdprev);
        }
    }
    if first == 0 {
        hw.d_in_ready = true;
    }
}

/// The products' sums for one layer: out_Wⱼ += R{δⱼ}ᵀ·a_prev (+ δᵀ·R{a_prev}ⱼ), out_bⱼ += ΣR{δⱼ}.
#[allow(clippy::too_many_arguments)]
fn accumulate_products(
    layer: &super::network::Layer,
    p: usize,
    kd: usize,
    m: usize,
    keep: f64,
    d: &[f64],
    rd: &[f64],
    prev: &[f64],
    rprev: Option<&[f64]>,
    scratch: &mut [f64],
    out: &mut [f64],
) {
    let (n, k) = (layer.units, layer.fan_in);
    let wr = layer.w..layer.w + n * k;
    let tmp = &mut scratch[..kd * n * k.max(1)];
    tmp.fill(0.0);
    matmul_tn_acc(
        view(m, kd * n, rd),
        view(m, k, prev),
        view_mut(kd * n, k, tmp),
    );
    for j in 0..kd {
        add_row(
            &mut out[j * p + wr.start..j * p + wr.end],
            &tmp[j * n * k..(j + 1) * n * k],
        );
    }
    if let (Some(rp), true) = (rprev, keep != 0.0) {
        // δᵀ·R{a_prev}: (n × K·k), laid out [i][j][kk].
        let tmp = &mut scratch[..n * kd * k];
        tmp.fill(0.0);
        matmul_tn_acc(view(m, n, d), view(m, kd * k, rp), view_mut(n, kd * k, tmp));
        for i in 0..n {
            for j in 0..kd {
                let src = &tmp[(i * kd + j) * k..(i * kd + j + 1) * k];
                let dst = &mut out[j * p + layer.w + i * k..j * p + layer.w + (i + 1) * k];
                for (a, b) in dst.iter_mut().zip(src) {
                    *a += b;
                }
            }
        }
    }
    for r in 0..m {
        for j in 0..kd {
            let r0 = (r * kd + j) * n;
            add_row(
                &mut out[j * p + layer.b..j * p + layer.b + n],
                &rd[r0..r0 + n],
            );
        }
    }
}

/// f64 values an [`HmpWorkspace`] grows to for products of `kd` directions over `rows` rows
/// (an upper bound; saturating): the base pass; per layer f′, f″ and the kept δ's, and the
/// R-buffers (R{u}, R{f}; R{a} with a skip connection; R{z}, R{x̂} with BatchNorm); the error
/// signals and their R-derivatives; the scratch of the largest weight block; the unit
/// directions; the first-layer factor when the products take it.
pub fn workspace_values(net: &Network, rows: usize, kd: usize) -> usize {
    let m = rows;
    let widest = net.widest().max(1);
    let mul = |a: usize, b: usize| a.saturating_mul(b);
    let weight_block = net
        .layers
        .iter()
        .map(|l| mul(l.units, l.fan_in))
        .max()
        .unwrap_or(0);
    let per_layer = net
        .layers
        .iter()
        .map(|l| {
            let kept = 4 + usize::from(l.batch_norm || l.prelu.is_some());
            let r = 2 + usize::from(l.residual) + 2 * usize::from(l.batch_norm);
            mul(mul(m, l.units), kept).saturating_add(mul(mul(mul(m, kd), l.units), r))
        })
        .fold(0usize, usize::saturating_add);
    let factored = first_layer_factored(net, m, false);
    let scratch = mul(m, widest).max(weight_block);
    [
        mul(m, net.workspace_values_per_row(false)),
        per_layer,
        // d, dprev, skip (rows × widest) and their R-derivatives (rows × K × widest).
        mul(mul(m, widest), 3),
        mul(mul(mul(m, kd), widest), 3),
        // tmp (which also builds the factor) and vcat.
        if factored {
            mul(kd, scratch).max(FACTOR_LIMIT)
        } else {
            mul(kd, scratch)
        },
        mul(kd, weight_block),
        mul(kd, net.n_params),
        if factored { FACTOR_LIMIT } else { 0 },
    ]
    .into_iter()
    .fold(0usize, usize::saturating_add)
}

/// A cheap fingerprint of θ and the rows, so repeated products at one point skip the base pass.
pub(crate) fn fingerprint(theta: &[f64], rows: &Rows) -> (usize, usize, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in theta.iter().chain(rows.x).chain(rows.y) {
        h ^= v.to_bits();
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (theta.len(), rows.len(), h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activation;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    use crate::rng::Rng;

    impl HmpWorkspace {
        /// f64 values its buffers hold room for.
        fn values_held(&self) -> usize {
            let vecs = |v: &[&Vec<f64>]| v.iter().map(|b| b.capacity()).sum::<usize>();
            let layers: usize = self
                .layers
                .iter()
                .map(|l| vecs(&[&l.ru, &l.rf, &l.ra, &l.rz, &l.rxhat, &l.rinvstd]))
                .sum();
            let pairs: usize = self
                .derivs
                .iter()
                .map(|(a, b)| a.capacity() + b.capacity())
                .sum();
            let kept: usize = [&self.d_in, &self.d_post, &self.d_fpp]
                .iter()
                .flat_map(|v| v.iter())
                .map(|b| b.capacity())
                .sum();
            self.base.values_held()
                + layers
                + pairs
                + kept
                + vecs(&[
                    &self.d,
                    &self.dprev,
                    &self.skip,
                    &self.rd,
                    &self.rdprev,
                    &self.rskip,
                    &self.tmp,
                    &self.vcat,
                    &self.dirs,
                    &self.factor,
                ])
                + self.sums.iter().map(|b| b.capacity()).sum::<usize>()
        }
    }

    fn network(inputs: usize, hidden: &[usize], batch_norm: bool, residual: bool) -> Network {
        let mut layers: Vec<LayerSpec> = hidden
            .iter()
            .enumerate()
            .map(|(i, &u)| {
                // Every other layer PReLU, with its slopes.
                let act = if i % 2 == 1 {
                    Activation::Prelu
                } else {
                    Activation::Tanh
                };
                let mut l = LayerSpec::new(u, act);
                l.batch_norm = batch_norm;
                l
            })
            .collect();
        layers.push(LayerSpec::new(1, Activation::Sigmoid));
        let spec = NetworkSpec {
            inputs,
            layers,
            init: Init::XavierNormal,
            init_scale: 0.1,
            features: None,
            residual,
            weight_constraint: WeightConstraint::None,
        };
        Network::build(&spec, Loss::Bce).unwrap()
    }

    /// The estimate bounds what the products really hold, for a layer far wider than the
    /// rows (where the scratch once grew to widest², 20 GB at 50 000 units), for many rows,
    /// with BatchNorm, and for blocks of directions.
    #[test]
    fn the_workspace_stays_within_its_estimate() {
        for (inputs, hidden, bn, residual, rows) in [
            (2, vec![3000], false, false, 5),
            (3, vec![8, 8], false, false, 300),
            (2, vec![40], true, false, 50),
            (20, vec![30, 10], false, false, 40),
            (2, vec![6, 6, 6], false, true, 30),
            (2, vec![6, 6], true, true, 30),
        ] {
            let net = network(inputs, &hidden, bn, residual);
            let p = net.n_params;
            let mut rng = Rng::new(7);
            let theta: Vec<f64> = (0..p).map(|_| 0.3 * rng.normal()).collect();
            let x: Vec<f64> = (0..rows * inputs).map(|_| rng.normal()).collect();
            let y: Vec<f64> = (0..rows).map(|r| (r % 2) as f64).collect();
            let rows_of = Rows {
                x: &x,
                y: &y,
                classes: 2,
            };
            for kd in [1, 4] {
                let v: Vec<f64> = (0..kd * p).map(|_| rng.normal()).collect();
                let mut out = vec![0.0; kd * p];
                let mut hw = HmpWorkspace::default();
                hessian_matrix_product(&net, &theta, rows_of, 0.0, &v, false, &mut hw, &mut out);
                let held = hw.values_held();
                let bound = workspace_values(&net, rows, kd);
                assert!(
                    held <= bound,
                    "{inputs}-{hidden:?} bn {bn} residual {residual}, {rows} rows, K {kd}: holds {held} values, estimate {bound}"
                );
            }
        }
    }
}
