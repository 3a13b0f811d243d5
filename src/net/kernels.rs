//! Element-wise kernels over slices that the compiler can vectorise: exp by Cody–Waite range
//! reduction and a degree-13 Taylor polynomial (≤ 2 ulp on [−708, 709]), and the sigmoid and
//! tanh built on it. libm's scalar exp dominated training time of sigmoid nets; this runs
//! 4 lanes at a time with AVX2 (chosen at run time) and 2 with plain SSE2.

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that n·LN2_HI is exact for |n| < 2¹¹.
const LN2_HI: f64 = 6.931_457_519_531_25e-1;
const LN2_LO: f64 = 1.428_606_820_309_417_3e-6;
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// exp(x) for x clamped to [−708, 709] (outside, the result saturates; fine for activations).
#[inline(always)]
fn exp_core(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let t = x * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor series of e^r, |r| ≤ ln2/2, Horner form.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2ⁿ from the integer in t's low bits.
    let scale = f64::from_bits((t.to_bits().wrapping_add(1023)) << 52);
    p * scale
}

#[inline(always)]
fn sigmoid_core(u: f64) -> f64 {
    1.0 / (1.0 + exp_core(-u))
}

#[inline(always)]
fn tanh_core(u: f64) -> f64 {
    // 1 − 2/(e^{2u} + 1): absolute error ~1e-16 everywhere, saturates cleanly at ±1.
    1.0 - 2.0 / (exp_core(2.0 * u) + 1.0)
}

macro_rules! dispatch {
    ($name:ident, $avx:ident, $core:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx(src: &[f64], dst: &mut [f64]) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = $core(s);
            }
        }

        /// `dst[i] = f(src[i])`.
        pub fn $name(src: &[f64], dst: &mut [f64]) {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { $avx(src, dst) };
                return;
            }
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = $core(s);
            }
        }
    };
}

dispatch!(exp_slice, exp_avx2, exp_core);
dispatch!(sigmoid_slice, sigmoid_avx2, sigmoid_core);
dispatch!(tanh_slice, tanh_avx2, tanh_core);

/// A row kernel of the Hessian products' R-pass, compiled for the baseline and for AVX2 and
/// picked at run time. The loops are the same either way (no reassociation, no fused
/// multiply-add), so both give the same bits; AVX2 takes 4 lanes instead of 2.
macro_rules! row_kernel {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) {
                body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { avx2($($arg),*) };
                return;
            }
            body($($arg),*)
        }
    };
}

row_kernel!(
    /// `rd[i] = rd[i]·f′[i] + keep·g[i]·R{u}[i]`: an R-error signal through the activation
    /// (g = δ⊙f″; keep = 0 for Gauss–Newton).
    r_delta_row(rd: &mut [f64], fp: &[f64], g: &[f64], ru: &[f64], keep: f64) {
        for (((r, &f), &gi), &u) in rd.iter_mut().zip(fp).zip(g).zip(ru) {
            *r = *r * f + keep * gi * u;
        }
    }
);

row_kernel!(
    /// `out[i] = a[i]·b[i]`.
    mul_row(out: &mut [f64], a: &[f64], b: &[f64]) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = x * y;
        }
    }
);

row_kernel!(
    /// `out[i] += a[i]`.
    add_row(out: &mut [f64], a: &[f64]) {
        for (o, &x) in out.iter_mut().zip(a) {
            *o += x;
        }
    }
);

row_kernel!(
    /// `o[i] += m[i]·v[i]` and `acc[i] += w[i]·m[i]`: one row of the first-layer factor's two
    /// terms (see `hmp::first_layer_factored`).
    factor_row(o: &mut [f64], acc: &mut [f64], m: &[f64], v: &[f64], w: &[f64]) {
        for ((((oi, ai), &mi), &vi), &wi) in o.iter_mut().zip(acc.iter_mut()).zip(m).zip(v).zip(w) {
            *oi += mi * vi;
            *ai += wi * mi;
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let xs: Vec<f64> = (-70_800..70_900)
            .map(|i| i as f64 / 100.0 + 0.003)
            .collect();
        let mut out = vec![0.0; xs.len()];
        exp_slice(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = x.exp();
            let ulp = (want.to_bits() as i64 - y.to_bits() as i64).abs();
            assert!(
                ulp <= 2 || (want - y).abs() < 1e-300,
                "exp({x}) = {y}, libm {want}"
            );
        }
    }

    /// The row kernels (AVX2 where the CPU has it) give the scalar loop's bits, tails included.
    #[test]
    fn row_kernels_give_the_scalar_bits() {
        let n = 1003;
        let val = |i: usize, s: f64| ((i as f64 * 0.37 + s).sin() * 3.0).exp() - 1.5;
        let (a, b, c, d): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (
            (0..n).map(|i| val(i, 0.1)).collect(),
            (0..n).map(|i| val(i, 1.3)).collect(),
            (0..n).map(|i| val(i, 2.9)).collect(),
            (0..n).map(|i| val(i, 4.2)).collect(),
        );
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut rd = a.clone();
        r_delta_row(&mut rd, &b, &c, &d, 1.0);
        let want: Vec<f64> = (0..n).map(|i| a[i] * b[i] + 1.0 * c[i] * d[i]).collect();
        assert_eq!(bits(&rd), bits(&want));
        let mut out = vec![0.0; n];
        mul_row(&mut out, &a, &b);
        let want: Vec<f64> = (0..n).map(|i| a[i] * b[i]).collect();
        assert_eq!(bits(&out), bits(&want));
        add_row(&mut out, &c);
        let want: Vec<f64> = (0..n).map(|i| a[i] * b[i] + c[i]).collect();
        assert_eq!(bits(&out), bits(&want));
        let (mut o, mut acc) = (a.clone(), b.clone());
        factor_row(&mut o, &mut acc, &c, &d, &a);
        let want_o: Vec<f64> = (0..n).map(|i| a[i] + c[i] * d[i]).collect();
        let want_acc: Vec<f64> = (0..n).map(|i| b[i] + a[i] * c[i]).collect();
        assert_eq!(bits(&o), bits(&want_o));
        assert_eq!(bits(&acc), bits(&want_acc));
    }

    #[test]
    fn sigmoid_and_tanh_match_the_scalar_forms() {
        let xs: Vec<f64> = (-4000..=4000).map(|i| i as f64 / 100.0 + 1e-3).collect();
        let mut s = vec![0.0; xs.len()];
        let mut t = vec![0.0; xs.len()];
        sigmoid_slice(&xs, &mut s);
        tanh_slice(&xs, &mut t);
        for i in 0..xs.len() {
            let ws = crate::net::activation::sigmoid(xs[i]);
            assert!(
                (s[i] - ws).abs() <= 1e-15 * ws.max(1e-300) + 1e-300,
                "σ({})",
                xs[i]
            );
            assert!((t[i] - xs[i].tanh()).abs() < 6e-16, "tanh({})", xs[i]);
        }
        let mut e = [0.0; 2];
        sigmoid_slice(&[-1e4, 1e4], &mut e);
        assert!(e[0] >= 0.0 && e[0] < 1e-300 && e[1] == 1.0);
        tanh_slice(&[-1e4, 1e4], &mut e);
        assert_eq!(e, [-1.0, 1.0]);
    }
}
