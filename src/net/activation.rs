//! Activation functions: value, first and second derivative.
//!
//! Derivatives are with respect to the pre-activation u. The second derivative feeds the
//! Hessian-vector product (R-operator). `softmax` is a vector function and is handled by the
//! output layer together with the cross-entropy loss; the scalar methods never see it.

use serde::{Deserialize, Serialize};

/// A unit's activation function f(u), with its first and second derivatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// f(u) = u.
    Identity,
    /// sign(u) ∈ {−1, +1} with zero gradient: the perceptron unit.
    Step,
    /// 1/(1 + e^(−u)).
    Sigmoid,
    /// tanh u.
    Tanh,
    /// max(0, u).
    Relu,
    /// u for u > 0, αu otherwise (α = `alpha`, default 0.01).
    LeakyRelu,
    /// Like leaky ReLU but α is learned, one per unit (initial value `alpha`, default 0.25).
    Prelu,
    /// u for u > 0, α(eᵘ − 1) otherwise (α default 1).
    Elu,
    /// u·σ(βu) (β default 1).
    Swish,
    /// u·Φ(u), the exact (erf) form.
    Gelu,
    /// ln(1 + eᵘ).
    Softplus,
    /// u·tanh(softplus(u)) (Misra 2019): smooth, non-monotone, unbounded above.
    Mish,
    /// sin(ω₀u) (ω₀ = `omega`, default 1): the periodic unit of SIRENs (Sitzmann et al. 2020),
    /// which pair it with ω₀ ≈ 30 and the `siren` initialiser.
    Sine,
    /// Output layers only, with the cross-entropy loss.
    Softmax,
}

const INV_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// 1/√(2π)
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// 1/(1 + e^(−u)), without overflow for large |u|.
#[inline]
pub fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eᵘ) without overflow.
#[inline]
pub fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

impl Activation {
    /// Every activation, in the order the designer lists them.
    pub const ALL: [Activation; 14] = [
        Activation::Identity,
        Activation::Step,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Prelu,
        Activation::Elu,
        Activation::Swish,
        Activation::Gelu,
        Activation::Softplus,
        Activation::Mish,
        Activation::Sine,
        Activation::Softmax,
    ];

    /// The name in session files (`relu`, `leaky_relu`, …).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Step => "step",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Prelu => "prelu",
            Activation::Elu => "elu",
            Activation::Swish => "swish",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::Mish => "mish",
            Activation::Sine => "sine",
            Activation::Softmax => "softmax",
        }
    }

    /// The default of the layer's `alpha` / `beta` / `omega` parameter (0 where there is none).
    pub fn default_param(self) -> f64 {
        match self {
            Activation::LeakyRelu => 0.01,
            Activation::Prelu => 0.25,
            Activation::Elu | Activation::Swish | Activation::Sine => 1.0,
            _ => 0.0,
        }
    }

    /// Does the activation have a learnable parameter per unit in θ?
    pub fn is_learnable(self) -> bool {
        self == Activation::Prelu
    }

    /// Can the output saturate (for the saturated-fraction statistic)?
    pub fn saturates(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Tanh)
    }

    /// Is the unit dead (zero output and zero gradient) for u ≤ 0?
    pub fn can_die(self) -> bool {
        self == Activation::Relu
    }

    /// f(u); `p` is α (leaky, PReLU, ELU), β (swish) or ω₀ (sine).
    #[inline]
    pub fn value(self, u: f64, p: f64) -> f64 {
        match self {
            Activation::Identity | Activation::Softmax => u,
            Activation::Step => {
                if u >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
            Activation::Sigmoid => sigmoid(u),
            Activation::Tanh => u.tanh(),
            Activation::Relu => u.max(0.0),
            Activation::LeakyRelu | Activation::Prelu => {
                if u > 0.0 {
                    u
                } else {
                    p * u
                }
            }
            Activation::Elu => {
                if u > 0.0 {
                    u
                } else {
                    p * u.exp_m1()
                }
            }
            Activation::Swish => u * sigmoid(p * u),
            Activation::Gelu => 0.5 * u * (1.0 + libm::erf(u * INV_SQRT_2)),
            Activation::Softplus => softplus(u),
            Activation::Mish => u * softplus(u).tanh(),
            Activation::Sine => (p * u).sin(),
        }
    }

    /// f′(u), given also y = f(u) (cheaper for sigmoid and tanh).
    #[inline]
    pub fn deriv(self, u: f64, y: f64, p: f64) -> f64 {
        match self {
            Activation::Identity | Activation::Softmax => 1.0,
            Activation::Step => 0.0,
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => {
                if u > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu | Activation::Prelu => {
                if u > 0.0 {
                    1.0
                } else {
                    p
                }
            }
            Activation::Elu => {
                if u > 0.0 {
                    1.0
                } else {
                    y + p
                }
            }
            Activation::Swish => {
                let s = sigmoid(p * u);
                s + p * u * s * (1.0 - s)
            }
            Activation::Gelu => {
                let cdf = 0.5 * (1.0 + libm::erf(u * INV_SQRT_2));
                cdf + u * INV_SQRT_2PI * (-0.5 * u * u).exp()
            }
            Activation::Softplus => sigmoid(u),
            Activation::Mish => {
                // t = tanh(softplus u), dt/du = (1 − t²)·σ(u).
                let t = softplus(u).tanh();
                t + u * (1.0 - t * t) * sigmoid(u)
            }
            Activation::Sine => p * (p * u).cos(),
        }
    }

    /// f″(u), given also y = f(u).
    #[inline]
    pub fn second(self, u: f64, y: f64, p: f64) -> f64 {
        match self {
            Activation::Identity
            | Activation::Softmax
            | Activation::Step
            | Activation::Relu
            | Activation::LeakyRelu
            | Activation::Prelu => 0.0,
            Activation::Sigmoid => y * (1.0 - y) * (1.0 - 2.0 * y),
            Activation::Tanh => -2.0 * y * (1.0 - y * y),
            Activation::Elu => {
                if u > 0.0 {
                    0.0
                } else {
                    y + p
                }
            }
            Activation::Swish => {
                let s = sigmoid(p * u);
                p * s * (1.0 - s) * (2.0 + p * u * (1.0 - 2.0 * s))
            }
            Activation::Gelu => INV_SQRT_2PI * (-0.5 * u * u).exp() * (2.0 - u * u),
            Activation::Softplus => {
                let s = sigmoid(u);
                s * (1.0 - s)
            }
            Activation::Mish => {
                // f′ = t + u·g·s with g = 1 − t², s = σ(u); g′ = −2t·g·s, s′ = s(1 − s).
                let (t, s) = (softplus(u).tanh(), sigmoid(u));
                let g = 1.0 - t * t;
                g * s * (2.0 + u * (1.0 - s - 2.0 * t * s))
            }
            Activation::Sine => -p * p * y,
        }
    }

    /// ∂f/∂α for PReLU (zero for the others).
    #[inline]
    pub fn dparam(self, u: f64) -> f64 {
        match self {
            Activation::Prelu => u.min(0.0),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(f: impl Fn(f64) -> f64, u: f64) -> f64 {
        let h = 1e-5;
        (f(u + h) - f(u - h)) / (2.0 * h)
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for act in Activation::ALL {
            if act == Activation::Softmax || act == Activation::Step {
                continue;
            }
            let p = match act {
                Activation::Swish => 1.3,
                Activation::Elu => 0.7,
                Activation::Sine => 2.7,
                _ => act.default_param(),
            };
            for &u in &[-2.3, -0.71, -0.05, 0.13, 0.9, 3.1] {
                let y = act.value(u, p);
                let d = act.deriv(u, y, p);
                let fd = central(|v| act.value(v, p), u);
                assert!((d - fd).abs() < 1e-8, "{act:?} f' at {u}: {d} vs {fd}");
                let d2 = act.second(u, y, p);
                let fd2 = central(|v| act.deriv(v, act.value(v, p), p), u);
                assert!((d2 - fd2).abs() < 1e-7, "{act:?} f'' at {u}: {d2} vs {fd2}");
            }
        }
    }

    #[test]
    fn derivative_bounds_of_the_classics() {
        // THEORY #8: σ' ≤ 1/4, tanh' ≤ 1, ReLU' ∈ {0, 1}.
        let mut max_sig: f64 = 0.0;
        let mut max_tanh: f64 = 0.0;
        for i in -400..=400 {
            let u = i as f64 / 40.0;
            let s = Activation::Sigmoid;
            max_sig = max_sig.max(s.deriv(u, s.value(u, 0.0), 0.0));
            let t = Activation::Tanh;
            max_tanh = max_tanh.max(t.deriv(u, t.value(u, 0.0), 0.0));
            let r = Activation::Relu.deriv(u, 0.0, 0.0);
            assert!(r == 0.0 || r == 1.0);
        }
        assert!((max_sig - 0.25).abs() < 1e-12);
        assert!((max_tanh - 1.0).abs() < 1e-12);
    }

    #[test]
    fn stable_at_extremes() {
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
        assert!((softplus(800.0) - 800.0).abs() < 1e-12);
        assert!(softplus(-800.0) >= 0.0);
        assert_eq!(Activation::Step.value(-0.1, 0.0), -1.0);
        assert_eq!(Activation::Step.value(0.1, 0.0), 1.0);
    }

    #[test]
    fn mish_and_sine_match_their_closed_forms() {
        // Mish(1) = tanh(ln(1 + e)); Mish is ≈ u for large u and → 0⁻ for very negative u.
        let m = Activation::Mish;
        assert!((m.value(1.0, 0.0) - (1.0f64 + 1.0f64.exp()).ln().tanh()).abs() < 1e-15);
        assert!((m.value(30.0, 0.0) - 30.0).abs() < 1e-12);
        assert!(m.value(-30.0, 0.0) < 0.0 && m.value(-30.0, 0.0) > -1e-11);
        // Its minimum ≈ −0.30884 at u ≈ −1.19 (f′ = 0 there).
        let (mut lo, mut hi) = (-2.0, -0.5);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if m.deriv(mid, m.value(mid, 0.0), 0.0) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        assert!((lo + 1.1924).abs() < 1e-3, "{lo}");
        assert!((m.value(lo, 0.0) + 0.30884).abs() < 1e-4);
        // sin(ω₀u) with ω₀ = 30 at u = π/60: 1, slope 0, curvature −ω₀².
        let s = Activation::Sine;
        let u = std::f64::consts::PI / 60.0;
        let y = s.value(u, 30.0);
        assert!((y - 1.0).abs() < 1e-15);
        assert!(s.deriv(u, y, 30.0).abs() < 1e-13);
        assert!((s.second(u, y, 30.0) + 900.0).abs() < 1e-12);
    }
}
