//! Signal propagation at initialisation (THEORY #10, #12; seed 003).
//!
//! Backward: with δ⁽ˡ⁾ = ∂ℓ/∂a⁽ˡ⁾ (a⁽ˡ⁾ the output of hidden layer l, a⁽⁰⁾ the input features)
//! and u⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, back-propagation is δ⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ(φ′(u⁽ˡ⁾) ⊙ δ⁽ˡ⁾). For
//! weights with variance σ_w²/fan_in, independent of the signal (the mean-field "gradient
//! independence" assumption), E_W‖Wᵀx‖² = σ_w²‖x‖², hence
//!
//!   E‖δ⁽ˡ⁻¹⁾‖² / E‖δ⁽ˡ⁾‖² = σ_w² χ,   χ = E[φ′(u)²].
//!
//! ReLU: χ = P(u > 0) = 1/2, so He's σ_w² = 2 keeps the norm and σ_w² = 1 halves it per layer.
//! Per hidden layer the report gives σ_w² as realised (fan_in · mean W²), χ measured over the
//! batch, χ of a Gaussian u with the measured mean and variance ([`gaussian_chi`]), the
//! predicted ratio σ_w²χ and the measured one. Sums are pooled over rows and seeds before
//! dividing, so the ratio is that of the expectations.
//!
//! Forward: the per-layer std of the activations φ(u) for naive N(0, s²), Xavier-normal and
//! He-normal weights ([`activation_std_by_init`]).

use serde::Serialize;

use crate::net::linalg::{matmul_nn, view, view_mut};
use crate::net::loss::row_loss_and_grad;
use crate::net::network::{BnMode, Network, Workspace};
use crate::net::objective::{Rows, objective};
use crate::net::spec::Init;
use crate::net::{Activation, init::initialise};

/// One hidden layer's backward signal: the predicted ratio σ_w²χ against the measured one.
#[derive(Clone, Debug, Serialize)]
pub struct SignalLayer {
    /// 1-based hidden layer index l: the ratio is E‖δ⁽ˡ⁻¹⁾‖²/E‖δ⁽ˡ⁾‖² through this layer.
    pub layer: usize,
    /// Units of the layer.
    pub units: usize,
    /// Inputs of each unit.
    pub fan_in: usize,
    /// Its activation φ.
    pub activation: Activation,
    /// fan_in · mean(W²), realised.
    pub sigma_w2: f64,
    /// mean φ′(u)² over rows, units and seeds.
    pub chi_measured: f64,
    /// E[φ′(u)²] for u ~ N(mean, var) with the measured mean and variance of u.
    pub chi_gaussian: f64,
    /// Measured mean of the pre-activation u.
    pub u_mean: f64,
    /// Measured variance of u.
    pub u_var: f64,
    /// σ_w² · χ_measured.
    pub predicted: f64,
    /// σ_w² · χ_gaussian.
    pub predicted_gaussian: f64,
    /// Σ‖δ⁽ˡ⁻¹⁾‖² / Σ‖δ⁽ˡ⁾‖².
    pub measured: f64,
    /// Mean ‖δ⁽ˡ⁾‖² per row.
    pub delta_sq: f64,
    /// Std of φ(u⁽ˡ⁾) over rows and units (pooled over seeds).
    pub activation_std: f64,
    /// Root-mean-square over seeds of ‖∂J/∂W⁽ˡ⁾‖_F of the mean-loss objective.
    pub weight_grad_norm: f64,
}

/// The backward signal at initialisation, per hidden layer, pooled over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct SignalReport {
    /// The initialiser θ was drawn with.
    pub init: Init,
    /// Its scale.
    pub init_scale: f64,
    /// The initialisation seeds pooled.
    pub seeds: Vec<u64>,
    /// Training rows propagated.
    pub rows: usize,
    /// Each hidden layer, input side first.
    pub layers: Vec<SignalLayer>,
    /// Mean ‖δ⁽⁰⁾‖² per row: the gradient with respect to the input features.
    pub input_delta_sq: f64,
}

fn check_plain(net: &Network) -> Result<(), String> {
    for (i, l) in net.layers.iter().enumerate() {
        if l.batch_norm {
            return Err(format!(
                "network.layers[{i}] has batch_norm: signal propagation is the plain-MLP recursion; remove it"
            ));
        }
        if l.residual {
            return Err(format!(
                "network.layers[{i}] is residual: signal propagation is the plain-MLP recursion; set residual to false"
            ));
        }
    }
    if net.layers.len() < 2 {
        return Err("network.layers needs at least one hidden layer".into());
    }
    Ok(())
}

/// The rows go through the network in one pass (forward and backward, plus two signal
/// buffers of the widest layer and a gradient): refuse what would not fit in memory.
fn check_rows_memory(net: &Network, rows: usize) -> Result<(), String> {
    let values = rows
        .saturating_mul(
            net.workspace_values_per_row(false)
                .saturating_add(net.widest().saturating_mul(3)),
        )
        .saturating_add(net.n_params);
    crate::memory::check(
        &format!(
            "signal propagation over {rows} rows through {} parameters",
            net.n_params
        ),
        crate::memory::f64s(values),
    )
}

/// Measure the backward ratios at initialisation, pooled over `seeds` (each seed draws θ with
/// `init`/`init_scale`), on `rows`. Refused for BatchNorm and residual networks (the plain-MLP
/// recursion does not describe them) and when the rows would not fit in memory.
pub fn signal_propagation(
    net: &Network,
    init: Init,
    init_scale: f64,
    rows: Rows,
    seeds: &[u64],
) -> Result<SignalReport, String> {
    check_plain(net)?;
    let m = rows.len();
    if m == 0 {
        return Err("no rows to propagate".into());
    }
    if seeds.is_empty() {
        return Err("at least one seed is needed".into());
    }
    let hidden = net.layers.len() - 1;
    let widest = net.widest().max(1);
    check_rows_memory(net, m)?;
    // Pooled sums per hidden layer.
    let mut dsq = vec![0.0; hidden + 1]; // index l = 0 … hidden: Σ‖δ⁽ˡ⁾‖²
    let mut w2 = vec![0.0; hidden];
    let mut chi = vec![0.0; hidden];
    let mut u1 = vec![0.0; hidden];
    let mut u2 = vec![0.0; hidden];
    let mut f1 = vec![0.0; hidden];
    let mut f2 = vec![0.0; hidden];
    let mut gw2 = vec![0.0; hidden];
    let mut ws = Workspace::default();
    let mut cur = vec![0.0; m * widest];
    let mut next = vec![0.0; m * widest];
    let mut grad = vec![0.0; net.n_params];
    let coding = net.target_coding(rows.classes);
    for &seed in seeds {
        let theta = initialise(net, init, init_scale, seed);
        // The real back-propagated gradient, for the per-layer weight-gradient norms.
        objective(net, &theta, rows, 0.0, 0.0, &mut ws, Some(&mut grad));
        for (i, l) in net.layers[..hidden].iter().enumerate() {
            let g = &grad[l.w..l.w + l.n_weights()];
            gw2[i] += g.iter().map(|v| v * v).sum::<f64>();
        }
        net.forward(&theta, rows.x, m, &mut ws, BnMode::Batch, None);
        net.set_targets(&mut ws, rows.y, coding);
        // Output error ∂ℓ/∂u per row (scale 1: ratios do not depend on it).
        let out = net.output();
        let k = out.units;
        let oc = &ws.layers[hidden];
        let p = match out.prelu {
            Some(pa) => theta[pa],
            None => out.param,
        };
        let mut du = vec![0.0; m * k];
        for r in 0..m {
            let s = r * k..(r + 1) * k;
            row_loss_and_grad(
                net.loss,
                out.activation,
                p,
                &oc.u[s.clone()],
                &oc.f[s.clone()],
                &ws.targets[s.clone()],
                1.0,
                &mut du[s],
            );
        }
        // δ of the last hidden layer.
        let fan = out.fan_in;
        matmul_nn(
            view(m, k, &du),
            out.weight_view(&theta),
            view_mut(m, fan, &mut cur),
        );
        for i in (0..hidden).rev() {
            let l = &net.layers[i];
            let (n, fi) = (l.units, l.fan_in);
            let c = &ws.layers[i];
            let d = &mut cur[..m * n];
            dsq[i + 1] += d.iter().map(|v| v * v).sum::<f64>();
            let w = l.weights(&theta);
            w2[i] += w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64 * fi as f64;
            for (j, (dv, (&u, &f))) in d.iter_mut().zip(c.u.iter().zip(&c.f)).enumerate() {
                let alpha = match l.prelu {
                    Some(pa) => theta[pa + j % n],
                    None => l.param,
                };
                let fp = l.activation.deriv(u, f, alpha);
                chi[i] += fp * fp;
                u1[i] += u;
                u2[i] += u * u;
                f1[i] += f;
                f2[i] += f * f;
                *dv *= fp;
            }
            matmul_nn(
                view(m, n, d),
                l.weight_view(&theta),
                view_mut(m, fi, &mut next),
            );
            std::mem::swap(&mut cur, &mut next);
        }
        dsq[0] += cur[..m * net.layers[0].fan_in]
            .iter()
            .map(|v| v * v)
            .sum::<f64>();
    }
    let s = seeds.len() as f64;
    let rows_total = m as f64 * s;
    let layers = (0..hidden)
        .map(|i| {
            let l = &net.layers[i];
            let count = rows_total * l.units as f64;
            let sigma_w2 = w2[i] / s;
            let chi_measured = chi[i] / count;
            let u_mean = u1[i] / count;
            let u_var = (u2[i] / count - u_mean * u_mean).max(0.0);
            let f_mean = f1[i] / count;
            let chi_g = gaussian_chi(l.activation, l.param, u_mean, u_var);
            SignalLayer {
                layer: i + 1,
                units: l.units,
                fan_in: l.fan_in,
                activation: l.activation,
                sigma_w2,
                chi_measured,
                chi_gaussian: chi_g,
                u_mean,
                u_var,
                predicted: sigma_w2 * chi_measured,
                predicted_gaussian: sigma_w2 * chi_g,
                measured: dsq[i] / dsq[i + 1],
                delta_sq: dsq[i + 1] / rows_total,
                activation_std: (f2[i] / count - f_mean * f_mean).max(0.0).sqrt(),
                weight_grad_norm: (gw2[i] / s).sqrt(),
            }
        })
        .collect();
    Ok(SignalReport {
        init,
        init_scale,
        seeds: seeds.to_vec(),
        rows: m,
        layers,
        input_delta_sq: dsq[0] / rows_total,
    })
}

/// E[φ′(u)²] for u ~ N(mean, var): closed forms for the piecewise-linear activations, the
/// trapezoid rule in z = (u − mean)/sd over [−10, 10] with step 0.005 otherwise. For the
/// smooth activations the integrand is analytic with Gaussian decay, where the trapezoid rule
/// converges exponentially (Gauss–Hermite does not: tanh′ has poles near the real axis and
/// 64 nodes leave errors of 1e-3).
pub fn gaussian_chi(act: Activation, param: f64, mean: f64, var: f64) -> f64 {
    let sd = var.max(0.0).sqrt();
    // P(u > 0).
    let pos = if sd > 0.0 {
        0.5 * (1.0 + libm::erf(mean / (sd * std::f64::consts::SQRT_2)))
    } else if mean > 0.0 {
        1.0
    } else {
        0.0
    };
    match act {
        Activation::Identity | Activation::Softmax => 1.0,
        Activation::Step => 0.0,
        Activation::Relu => pos,
        Activation::LeakyRelu | Activation::Prelu => pos + param * param * (1.0 - pos),
        _ => {
            let h = 0.005;
            let n = (20.0 / h) as i64;
            let norm = h / (2.0 * std::f64::consts::PI).sqrt();
            (-n / 2..=n / 2)
                .map(|i| {
                    let z = i as f64 * h;
                    let u = mean + sd * z;
                    let d = act.deriv(u, act.value(u, param), param);
                    (-0.5 * z * z).exp() * d * d
                })
                .sum::<f64>()
                * norm
        }
    }
}

/// The forward activation std per hidden layer under one initialiser.
#[derive(Clone, Debug, Serialize)]
pub struct InitStd {
    /// `naive` (N(0, s²)), `xavier_normal` or `he_normal`.
    pub init: String,
    /// Its scale (s of the naive one).
    pub scale: f64,
    /// Std of φ(u) per hidden layer, pooled over rows, units and seeds.
    pub std: Vec<f64>,
}

/// Per-layer forward activation std at initialisation for naive N(0, naive_std²),
/// Xavier-normal and He-normal weights (biases zero).
pub fn activation_std_by_init(
    net: &Network,
    x: &[f64],
    rows: usize,
    seeds: &[u64],
    naive_std: f64,
) -> Result<Vec<InitStd>, String> {
    check_plain(net)?;
    if rows == 0 || seeds.is_empty() {
        return Err("need at least one row and one seed".into());
    }
    check_rows_memory(net, rows)?;
    let hidden = net.layers.len() - 1;
    let mut ws = Workspace::default();
    let cases = [
        ("naive", Init::Normal, naive_std),
        ("xavier_normal", Init::XavierNormal, 0.0),
        ("he_normal", Init::HeNormal, 0.0),
    ];
    Ok(cases
        .iter()
        .map(|&(name, init, scale)| {
            let mut s1 = vec![0.0; hidden];
            let mut s2 = vec![0.0; hidden];
            for &seed in seeds {
                let theta = initialise(net, init, scale, seed);
                net.forward(&theta, x, rows, &mut ws, BnMode::Batch, None);
                for i in 0..hidden {
                    let f = &ws.layers[i].f[..rows * net.layers[i].units];
                    s1[i] += f.iter().sum::<f64>();
                    s2[i] += f.iter().map(|v| v * v).sum::<f64>();
                }
            }
            let std = (0..hidden)
                .map(|i| {
                    let c = (rows * net.layers[i].units * seeds.len()) as f64;
                    let mean = s1[i] / c;
                    (s2[i] / c - mean * mean).max(0.0).sqrt()
                })
                .collect();
            InitStd {
                init: name.to_string(),
                scale,
                std,
            }
        })
        .collect())
}
