//! Exact Hessian-vector products of the training objective by Pearlmutter's R-operator.
//!
//! R{·} = d/dε (·)(θ + εv) at ε = 0. A forward R-pass propagates the directional derivatives of
//! every forward quantity; a combined backward pass computes the ordinary error signals δ and
//! their R-derivatives Rδ layer by layer, and Hv collects R{∂J/∂θ}. Every activation enters
//! through its second derivative, BatchNorm through the R-derivatives of the batch statistics,
//! residual skips through the chain rule like everything else.
//!
//! The Gauss–Newton product Gv = JᵀH_ℓJv drops every term that multiplies an error signal δ
//! (the network's own curvature) and keeps only the loss's curvature: G is positive
//! semi-definite and cannot show negative curvature.
//!
//! The objective is the one of [`objective`](super::objective::objective): evaluation mode, no
//! dropout, BatchNorm on the statistics of the rows given.

use super::activation::{Activation, sigmoid};
use super::linalg::{matmul_nn, matmul_nt, matmul_tn_acc};
use super::network::{BnMode, Network, Workspace};
use super::objective::Rows;
use super::spec::Loss;

/// R-pass buffers, reused between products.
#[derive(Clone, Debug, Default)]
pub struct HvpWorkspace {
    base: Workspace,
    layers: Vec<RCache>,
    d: Vec<f64>,
    rd: Vec<f64>,
    dprev: Vec<f64>,
    rdprev: Vec<f64>,
    tmp: Vec<f64>,
    skip: Vec<f64>,
    rskip: Vec<f64>,
    /// Per-unit sums for BatchNorm.
    sums: [Vec<f64>; 4],
    /// The θ and rows the base pass was computed for (a product at the same point reuses it).
    base_key: Option<(usize, usize, u64)>,
}

#[derive(Clone, Debug, Default)]
struct RCache {
    /// R{z} (BatchNorm layers; otherwise R{u} holds it).
    rz: Vec<f64>,
    ru: Vec<f64>,
    rf: Vec<f64>,
    /// R{a} when it differs from R{f} (residual).
    ra: Vec<f64>,
    rxhat: Vec<f64>,
    rinvstd: Vec<f64>,
}

impl RCache {
    fn out(&self) -> &[f64] {
        if self.ra.is_empty() {
            &self.rf
        } else {
            &self.ra
        }
    }
}

fn resize(v: &mut Vec<f64>, n: usize) {
    if v.len() != n {
        v.resize(n, 0.0);
    }
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

/// Hv (or Gv with `gauss_newton`) of J(θ) = mean ℓ + l1·Σ|W| + l2·½ΣW², written into `out`.
/// The L1 term has zero curvature almost everywhere.
#[allow(clippy::too_many_arguments)]
pub fn hessian_vector_product(
    net: &Network,
    theta: &[f64],
    rows: Rows,
    l2: f64,
    v: &[f64],
    gauss_newton: bool,
    hw: &mut HvpWorkspace,
    out: &mut [f64],
) {
    out.fill(0.0);
    let m = rows.len();
    if m == 0 {
        add_l2(net, l2, v, out);
        return;
    }
    let key = fingerprint(theta, &rows);
    if hw.base_key != Some(key) {
        net.forward(theta, rows.x, m, &mut hw.base, BnMode::Batch, None);
        net.set_targets(&mut hw.base, rows.y, net.target_coding(rows.classes));
        hw.base_key = Some(key);
    }
    r_forward(net, theta, v, hw);
    r_backward(net, theta, v, m, gauss_newton, hw, out);
    add_l2(net, l2, v, out);
}

fn add_l2(net: &Network, l2: f64, v: &[f64], out: &mut [f64]) {
    if l2 != 0.0 {
        for l in &net.layers {
            for j in l.w..l.w + l.n_weights() {
                out[j] += l2 * v[j];
            }
        }
    }
}

fn r_forward(net: &Network, theta: &[f64], v: &[f64], hw: &mut HvpWorkspace) {
    let m = hw.base.rows;
    hw.layers.resize_with(net.layers.len(), RCache::default);
    for (i, layer) in net.layers.iter().enumerate() {
        let (n, k) = (layer.units, layer.fan_in);
        let base = &hw.base.layers[i];
        let prev: &[f64] = if i == 0 {
            &hw.base.input
        } else {
            hw.base.layers[i - 1].out()
        };
        let (before, rest) = hw.layers.split_at_mut(i);
        let rc = &mut rest[0];
        let rprev: Option<&[f64]> = if i == 0 {
            None
        } else {
            Some(before[i - 1].out())
        };
        resize(&mut rc.ru, m * n);
        resize(&mut rc.rf, m * n);
        if layer.residual {
            resize(&mut rc.ra, m * n);
        } else {
            rc.ra.clear();
        }
        let w = layer.weights(theta);
        let vw = layer.weights(v);
        let vb = layer.bias(v);
        let rz = if layer.batch_norm {
            resize(&mut rc.rz, m * n);
            &mut rc.rz
        } else {
            &mut rc.ru
        };
        // R{z} = R{a_prev}·Wᵀ + a_prev·Vᵀ + v_b
        matmul_nt(m, n, k, prev, vw, rz);
        if let Some(rp) = rprev {
            resize(&mut hw.tmp, m * n);
            matmul_nt(m, n, k, rp, w, &mut hw.tmp);
            for (a, b) in rz.iter_mut().zip(&hw.tmp) {
                *a += b;
            }
        }
        for row in rz.chunks_exact_mut(n) {
            for (a, b) in row.iter_mut().zip(vb) {
                *a += b;
            }
        }
        if layer.batch_norm {
            let (g0, b0) = (layer.gamma.unwrap_or(0), layer.beta.unwrap_or(0));
            let (gamma, vg, vbeta) = (&theta[g0..g0 + n], &v[g0..g0 + n], &v[b0..b0 + n]);
            resize(&mut rc.rxhat, m * n);
            resize(&mut rc.rinvstd, n);
            let inv_m = 1.0 / m as f64;
            // R{μ} and R{σ²} per unit.
            let [rmu, rvar, _, _] = &mut hw.sums;
            resize(rmu, n);
            resize(rvar, n);
            rmu.fill(0.0);
            rvar.fill(0.0);
            for row in rc.rz.chunks_exact(n) {
                for j in 0..n {
                    rmu[j] += row[j];
                }
            }
            rmu.iter_mut().for_each(|x| *x *= inv_m);
            for (zr, rzr) in base.z.chunks_exact(n).zip(rc.rz.chunks_exact(n)) {
                for j in 0..n {
                    rvar[j] += (zr[j] - base.mean[j]) * (rzr[j] - rmu[j]);
                }
            }
            for j in 0..n {
                rvar[j] *= 2.0 * inv_m;
                let s = base.invstd[j];
                rc.rinvstd[j] = -0.5 * s * s * s * rvar[j];
            }
            for r in 0..m {
                for j in 0..n {
                    let idx = r * n + j;
                    let rx = (rc.rz[idx] - rmu[j]) * base.invstd[j]
                        + (base.z[idx] - base.mean[j]) * rc.rinvstd[j];
                    rc.rxhat[idx] = rx;
                    rc.ru[idx] = vg[j] * base.xhat[idx] + gamma[j] * rx + vbeta[j];
                }
            }
        }
        // R{f}
        let act = layer.activation;
        if act == Activation::Softmax {
            for ((rfr, rur), fr) in rc
                .rf
                .chunks_exact_mut(n)
                .zip(rc.ru.chunks_exact(n))
                .zip(base.f.chunks_exact(n))
            {
                let s: f64 = fr.iter().zip(rur).map(|(a, b)| a * b).sum();
                for j in 0..n {
                    rfr[j] = fr[j] * (rur[j] - s);
                }
            }
        } else if let Some(pa) = layer.prelu {
            let (alpha, va) = (&theta[pa..pa + n], &v[pa..pa + n]);
            for r in 0..m {
                for j in 0..n {
                    let idx = r * n + j;
                    let u = base.u[idx];
                    rc.rf[idx] = act.deriv(u, 0.0, alpha[j]) * rc.ru[idx] + act.dparam(u) * va[j];
                }
            }
        } else {
            let p = layer.param;
            for idx in 0..m * n {
                rc.rf[idx] = act.deriv(base.u[idx], base.f[idx], p) * rc.ru[idx];
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

#[allow(clippy::too_many_arguments)]
fn r_backward(
    net: &Network,
    theta: &[f64],
    v: &[f64],
    m: usize,
    gauss_newton: bool,
    hw: &mut HvpWorkspace,
    out: &mut [f64],
) {
    // `keep` multiplies every term that carries a base error signal δ: the network's own
    // curvature, which Gauss–Newton leaves out.
    let keep = if gauss_newton { 0.0 } else { 1.0 };
    let last = net.layers.len() - 1;
    let scale = 1.0 / m as f64;
    let widest = net
        .layers
        .iter()
        .map(|l| l.units.max(l.fan_in))
        .max()
        .unwrap_or(1);
    for b in [
        &mut hw.d,
        &mut hw.rd,
        &mut hw.dprev,
        &mut hw.rdprev,
        &mut hw.skip,
        &mut hw.rskip,
    ] {
        resize(b, m * widest);
    }
    resize(&mut hw.tmp, m * widest);
    // Output layer: δ and Rδ with respect to f (mse, hinge) or directly u (bce, softmax + ce).
    let out_layer = &net.layers[last];
    let n = out_layer.units;
    let u_space = matches!(net.loss, Loss::Bce | Loss::CrossEntropy);
    {
        let base = &hw.base.layers[last];
        let rc = &hw.layers[last];
        let t = &hw.base.targets;
        for idx in 0..m * n {
            let (u, f, ti) = (base.u[idx], base.f[idx], t[idx]);
            match net.loss {
                Loss::Bce => {
                    let s = sigmoid(u);
                    hw.d[idx] = scale * (s - ti);
                    hw.rd[idx] = scale * s * (1.0 - s) * rc.ru[idx];
                }
                Loss::CrossEntropy => {
                    hw.d[idx] = scale * (f - ti);
                    hw.rd[idx] = scale * rc.rf[idx];
                }
                Loss::Mse => {
                    hw.d[idx] = scale * (f - ti);
                    hw.rd[idx] = scale * rc.rf[idx];
                }
                Loss::Hinge => {
                    let active = 1.0 - ti * f > 0.0;
                    hw.d[idx] = if active { -scale * ti } else { 0.0 };
                    hw.rd[idx] = 0.0;
                }
            }
        }
    }
    for i in (0..=last).rev() {
        let layer = &net.layers[i];
        let (n, k) = (layer.units, layer.fan_in);
        let base = &hw.base.layers[i];
        let rc = &hw.layers[i];
        let prev: &[f64] = if i == 0 {
            &hw.base.input
        } else {
            hw.base.layers[i - 1].out()
        };
        let rprev: Option<&[f64]> = if i == 0 {
            None
        } else {
            Some(hw.layers[i - 1].out())
        };
        let d = &mut hw.d[..m * n];
        let rd = &mut hw.rd[..m * n];
        // Here d, rd are δ and Rδ with respect to f (or u at a bce / softmax output).
        if layer.residual {
            hw.skip[..m * n].copy_from_slice(d);
            hw.rskip[..m * n].copy_from_slice(rd);
        }
        if !(i == last && u_space) {
            let act = layer.activation;
            if let Some(pa) = layer.prelu {
                let (alpha, va) = (&theta[pa..pa + n], &v[pa..pa + n]);
                for r in 0..m {
                    for j in 0..n {
                        let idx = r * n + j;
                        let u = base.u[idx];
                        let neg = if u > 0.0 { 0.0 } else { 1.0 };
                        // ∂J/∂α_j = Σ δ_f·min(u, 0)
                        out[pa + j] += rd[idx] * act.dparam(u)
                            + keep * d[idx] * (if u < 0.0 { 1.0 } else { 0.0 }) * rc.ru[idx];
                        let fp = act.deriv(u, 0.0, alpha[j]);
                        rd[idx] = rd[idx] * fp + keep * d[idx] * neg * va[j];
                        d[idx] *= fp;
                    }
                }
            } else {
                let p = layer.param;
                for idx in 0..m * n {
                    let (u, f) = (base.u[idx], base.f[idx]);
                    let fp = act.deriv(u, f, p);
                    let fpp = act.second(u, f, p);
                    rd[idx] = rd[idx] * fp + keep * d[idx] * fpp * rc.ru[idx];
                    d[idx] *= fp;
                }
            }
        }
        // δ, Rδ with respect to u. Through BatchNorm to z.
        if layer.batch_norm {
            let (g0, b0) = (layer.gamma.unwrap_or(0), layer.beta.unwrap_or(0));
            let (gamma, vg) = (&theta[g0..g0 + n], &v[g0..g0 + n]);
            let [s1, s2, rs1, rs2] = &mut hw.sums;
            for s in [&mut *s1, &mut *s2, &mut *rs1, &mut *rs2] {
                resize(s, n);
                s.fill(0.0);
            }
            for r in 0..m {
                for j in 0..n {
                    let idx = r * n + j;
                    let (x, rx) = (base.xhat[idx], rc.rxhat[idx]);
                    s1[j] += d[idx];
                    s2[j] += d[idx] * x;
                    rs1[j] += rd[idx];
                    rs2[j] += rd[idx] * x + keep * d[idx] * rx;
                }
            }
            for j in 0..n {
                out[g0 + j] += rs2[j];
                out[b0 + j] += rs1[j];
            }
            let mf = m as f64;
            for r in 0..m {
                for j in 0..n {
                    let idx = r * n + j;
                    let (x, rx) = (base.xhat[idx], rc.rxhat[idx]);
                    let c = gamma[j] * base.invstd[j] / mf;
                    let rcoef = (vg[j] * base.invstd[j] + gamma[j] * rc.rinvstd[j]) / mf;
                    let inner = mf * d[idx] - s1[j] - x * s2[j];
                    let rinner = mf * rd[idx] - rs1[j] - keep * rx * s2[j] - x * rs2[j];
                    rd[idx] = keep * rcoef * inner + c * rinner;
                    d[idx] = c * inner;
                }
            }
        }
        // δ, Rδ with respect to z: the linear map's parameters.
        let wr = layer.w..layer.w + n * k;
        matmul_tn_acc(m, n, k, rd, prev, &mut out[wr.clone()]);
        if let (Some(rp), true) = (rprev, keep != 0.0) {
            matmul_tn_acc(m, n, k, d, rp, &mut out[wr.clone()]);
        }
        for r in 0..m {
            for j in 0..n {
                out[layer.b + j] += rd[r * n + j];
            }
        }
        if i > 0 {
            let w = &theta[wr.clone()];
            matmul_nn(m, n, k, d, w, &mut hw.dprev[..m * k]);
            matmul_nn(m, n, k, rd, w, &mut hw.rdprev[..m * k]);
            if keep != 0.0 {
                matmul_nn(m, n, k, d, &v[wr], &mut hw.tmp[..m * k]);
                for (a, b) in hw.rdprev[..m * k].iter_mut().zip(&hw.tmp[..m * k]) {
                    *a += b;
                }
            }
            if layer.residual {
                for (a, b) in hw.dprev[..m * k].iter_mut().zip(&hw.skip[..m * k]) {
                    *a += b;
                }
                for (a, b) in hw.rdprev[..m * k].iter_mut().zip(&hw.rskip[..m * k]) {
                    *a += b;
                }
            }
            std::mem::swap(&mut hw.d, &mut hw.dprev);
            std::mem::swap(&mut hw.rd, &mut hw.rdprev);
        }
    }
}
