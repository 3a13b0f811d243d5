//! An evaluation-only forward pass for plain MLPs (no BatchNorm, PReLU or residual layers),
//! with in-place tanh and sigmoid kernels that use FMA and AVX-512 when the CPU has them.
//!
//! The landscape evaluates J thousands of times and keeps nothing for a backward pass, so it
//! can fuse the bias into the activation and skip the caches. The kernels use the same
//! algorithm as `net::kernels` (Cody–Waite reduction, degree-13 Taylor polynomial) with fused
//! multiply-adds, so they agree with it to about one ulp, not bit for bit: a grid value can
//! differ from `net::objective` at the same θ in the last digits (relative ~1e-15). Values
//! are deterministic on a given machine.

use crate::net::Activation;
use crate::net::linalg::{matmul_nt, view, view_mut};
use crate::net::loss::row_loss_and_grad;
use crate::net::network::{Layer, Network};

const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = 6.931_457_519_531_25e-1;
const LN2_LO: f64 = 1.428_606_820_309_417_3e-6;
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

#[inline(always)]
fn exp_fma(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let t = x.mul_add(LOG2E, ROUND_MAGIC);
    let n = t - ROUND_MAGIC;
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, x));
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    p = p.mul_add(r, 1.0 / 479_001_600.0);
    p = p.mul_add(r, 1.0 / 39_916_800.0);
    p = p.mul_add(r, 1.0 / 3_628_800.0);
    p = p.mul_add(r, 1.0 / 362_880.0);
    p = p.mul_add(r, 1.0 / 40_320.0);
    p = p.mul_add(r, 1.0 / 5_040.0);
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    let scale = f64::from_bits((t.to_bits().wrapping_add(1023)) << 52);
    p * scale
}

#[inline(always)]
fn tanh_fma(u: f64) -> f64 {
    1.0 - 2.0 / (exp_fma(2.0 * u) + 1.0)
}

#[inline(always)]
fn sigmoid_fma(u: f64) -> f64 {
    1.0 / (1.0 + exp_fma(-u))
}

macro_rules! in_place {
    ($name:ident, $avx512:ident, $avx2:ident, $core:ident, $fallback:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,fma")]
        fn $avx512(v: &mut [f64]) {
            // Blocks of 16: two independent 8-lane chains in flight.
            let mut blocks = v.chunks_exact_mut(16);
            for c in &mut blocks {
                for y in c.iter_mut() {
                    *y = $core(*y);
                }
            }
            for y in blocks.into_remainder() {
                *y = $core(*y);
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2(v: &mut [f64]) {
            for y in v.iter_mut() {
                *y = $core(*y);
            }
        }

        /// v[i] ← f(v[i]).
        pub(crate) fn $name(v: &mut [f64]) {
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX-512F and FMA (checked just above).
                    unsafe { $avx512(v) };
                    return;
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    unsafe { $avx2(v) };
                    return;
                }
            }
            let f: fn(f64) -> f64 = $fallback;
            for y in v.iter_mut() {
                *y = f(*y);
            }
        }
    };
}

in_place!(tanh_in_place, tanh_avx512, tanh_avx2, tanh_fma, |u: f64| u
    .tanh());
in_place!(
    sigmoid_in_place,
    sigmoid_avx512,
    sigmoid_avx2,
    sigmoid_fma,
    crate::net::activation::sigmoid
);

/// Can [`Lean`] evaluate this network (from its second layer on)?
pub(crate) fn supports(net: &Network) -> bool {
    net.layers[1..]
        .iter()
        .all(|l| !l.batch_norm && l.prelu.is_none() && !l.residual)
}

/// Buffers for the layers after the first.
#[derive(Default)]
pub(crate) struct Lean {
    cur: Vec<f64>,
    next: Vec<f64>,
    /// Output layer: u (pre-activation) and f.
    f: Vec<f64>,
    target: Vec<f64>,
    du: Vec<f64>,
}

/// act(z + b) in place over the rows of z; with `u_copy`, z + b is kept there too (the
/// output layer's loss needs u and f).
fn activate(layer: &Layer, z: &mut [f64], b: &[f64], u_copy: Option<&mut Vec<f64>>) {
    let n = layer.units;
    for r in z.chunks_exact_mut(n) {
        for (zj, bj) in r.iter_mut().zip(b) {
            *zj += bj;
        }
    }
    if let Some(u) = u_copy {
        u.clear();
        u.extend_from_slice(z);
    }
    activate_in_place(layer.activation, layer.param, n, z);
}

/// f(u) in place (no PReLU: α per unit is not handled here).
pub(crate) fn activate_in_place(act: Activation, p: f64, n: usize, z: &mut [f64]) {
    match act {
        Activation::Tanh => tanh_in_place(z),
        Activation::Sigmoid => sigmoid_in_place(z),
        Activation::Relu => z.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Identity => {}
        Activation::Softmax => {
            for r in z.chunks_exact_mut(n) {
                let mx = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let mut s = 0.0;
                for f in r.iter_mut() {
                    *f = (*f - mx).exp();
                    s += *f;
                }
                let inv = 1.0 / s;
                r.iter_mut().for_each(|f| *f *= inv);
            }
        }
        act => z.iter_mut().for_each(|v| *v = act.value(*v, p)),
    }
}

impl Lean {
    /// Mean loss over the rows of the layers `net.layers[1..]` given the first layer's output
    /// `a0` (rows × units); `theta` is the full θ.
    pub(crate) fn data_loss(
        &mut self,
        net: &Network,
        theta: &[f64],
        a0: &[f64],
        rows: usize,
        y: &[f64],
        classes: usize,
    ) -> f64 {
        let last = net.layers.len() - 1;
        let coding = net.target_coding(classes);
        let mut prev_in_cur = false;
        for (i, layer) in net.layers.iter().enumerate().skip(1) {
            let (n, k) = (layer.units, layer.fan_in);
            let prev: &[f64] = if prev_in_cur { &self.cur } else { a0 };
            self.next.resize(rows * n, 0.0);
            let next = view_mut(rows, n, &mut self.next);
            matmul_nt(view(rows, k, prev), layer.weight_view(theta), next);
            let u_copy = (i == last).then_some(&mut self.f);
            activate(layer, &mut self.next, layer.bias(theta), u_copy);
            std::mem::swap(&mut self.cur, &mut self.next);
            prev_in_cur = true;
        }
        // cur holds f of the output layer and self.f its u.
        let out = &net.layers[last];
        let n = out.units;
        let (u, f) = (&self.f, &self.cur);
        self.target.resize(n, 0.0);
        self.du.resize(n, 0.0);
        let scale = 1.0 / rows as f64;
        let mut total = 0.0;
        for r in 0..rows {
            coding.fill(y[r], &mut self.target);
            let s = r * n..(r + 1) * n;
            total += row_loss_and_grad(
                net.loss,
                out.activation,
                out.param,
                &u[s.clone()],
                &f[s],
                &self.target,
                scale,
                &mut self.du,
            );
        }
        total * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_kernels_match_the_scalar_functions() {
        let xs: Vec<f64> = (-4000..=4000).map(|i| i as f64 / 100.0 + 1e-3).collect();
        let mut t = xs.clone();
        let mut s = xs.clone();
        tanh_in_place(&mut t);
        sigmoid_in_place(&mut s);
        for i in 0..xs.len() {
            let u = xs[i];
            assert!((t[i] - u.tanh()).abs() < 6e-16, "tanh({u})");
            let ws = crate::net::activation::sigmoid(u);
            assert!((s[i] - ws).abs() <= 2e-15 * ws + 1e-300, "σ({u})");
        }
        let mut e = [-1e4, 1e4];
        tanh_in_place(&mut e);
        assert_eq!(e, [-1.0, 1.0]);
    }
}
