//! The orthogonal initialiser and the layer-to-layer Jacobian spectrum against closed forms and
//! finite differences.

use nnlab::analysis::jacobian::{jacobian_spectrum, jacobians_at};
use nnlab::net::init::initialise;
use nnlab::net::spec::{Init, LayerSpec, Loss, NetworkSpec};
use nnlab::net::{Activation, BnMode, Network, Workspace};
use nnlab::rng::Rng;

fn build(inputs: usize, widths: &[usize], act: Activation) -> Network {
    let mut layers: Vec<LayerSpec> = widths.iter().map(|&u| LayerSpec::new(u, act)).collect();
    layers.push(LayerSpec::new(1, Activation::Identity));
    let spec = NetworkSpec {
        inputs,
        layers,
        init: Init::Orthogonal,
        init_scale: 1.0,
        features: None,
        residual: false,
        weight_constraint: Default::default(),
    };
    Network::build(&spec, Loss::Mse).unwrap()
}

fn inputs(rows: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..rows * d).map(|_| rng.normal()).collect()
}

#[test]
fn orthogonal_weights_have_every_singular_value_equal_to_the_gain() {
    // Square, tall and wide layers.
    let net = build(3, &[7, 7, 4, 9], Activation::Tanh);
    let gain = 1.7;
    let theta = initialise(&net, Init::Orthogonal, gain, 21);
    for l in &net.layers {
        let w = l.weights(&theta);
        let (n, k) = (l.units, l.fan_in);
        // Gram matrix of the shorter side: W Wᵀ (n ≤ k) or Wᵀ W (n > k), must be gain² I.
        let short = n.min(k);
        for a in 0..short {
            for b in 0..short {
                let g: f64 = if n <= k {
                    (0..k).map(|c| w[a * k + c] * w[b * k + c]).sum()
                } else {
                    (0..n).map(|r| w[r * k + a] * w[r * k + b]).sum()
                };
                let want = if a == b { gain * gain } else { 0.0 };
                assert!((g - want).abs() < 1e-12, "layer {n}×{k}: ({a},{b}) = {g}");
            }
        }
    }
    // Seeded: same seed, same bits; another seed, another matrix.
    assert_eq!(theta, initialise(&net, Init::Orthogonal, gain, 21));
    assert_ne!(theta, initialise(&net, Init::Orthogonal, gain, 22));
}

#[test]
fn jacobian_matches_finite_differences_of_the_forward_pass() {
    // ∂h⁽ˡ⁾/∂x = J⁽ˡ⁾ · ∂h⁽¹⁾/∂x, with ∂h⁽¹⁾/∂x = D⁽¹⁾W⁽¹⁾.
    for act in [Activation::Tanh, Activation::Sigmoid, Activation::LeakyRelu] {
        let net = build(2, &[5, 4, 6], act);
        let theta = initialise(&net, Init::XavierNormal, 0.0, 3);
        let x = [0.3, -0.7];
        let js = jacobians_at(&net, &theta, None, &x).unwrap();
        let mut ws = Workspace::default();
        let hidden_out = |x: &[f64], ws: &mut Workspace| -> Vec<Vec<f64>> {
            net.forward(&theta, x, 1, ws, BnMode::Batch, None);
            ws.layers[..3].iter().map(|c| c.out().to_vec()).collect()
        };
        let h = 1e-6;
        // fd[l][i][c] = ∂h⁽ˡ⁺¹⁾_i/∂x_c by central differences.
        let mut fd: Vec<Vec<[f64; 2]>> = (0..3)
            .map(|l| vec![[0.0; 2]; net.layers[l].units])
            .collect();
        for c in 0..2 {
            let (mut xp, mut xm) = (x, x);
            xp[c] += h;
            xm[c] -= h;
            let (p, m) = (hidden_out(&xp, &mut ws), hidden_out(&xm, &mut ws));
            for l in 0..3 {
                for i in 0..net.layers[l].units {
                    fd[l][i][c] = (p[l][i] - m[l][i]) / (2.0 * h);
                }
            }
        }
        let n1 = net.layers[0].units;
        for (d, j) in js.iter().enumerate() {
            let l = d + 1;
            for (i, want) in fd[l].iter().enumerate() {
                for (c, w) in want.iter().enumerate() {
                    let chain: f64 = (0..n1).map(|m| j[i * n1 + m] * fd[0][m][c]).sum();
                    assert!(
                        (chain - w).abs() < 1e-7,
                        "{act:?} layer {l} unit {i}: {chain} vs {w}"
                    );
                }
            }
        }
    }
}

#[test]
fn orthogonal_linear_network_is_an_exact_isometry_times_the_gain() {
    let depth = 12;
    let net = build(4, &vec![10; depth], Activation::Identity);
    let gain = 1.1;
    let theta = initialise(&net, Init::Orthogonal, gain, 5);
    let x = inputs(8, 4, 1);
    let r = jacobian_spectrum(&net, &theta, None, &x, 8).unwrap();
    assert_eq!(r.depths.len(), depth - 1);
    for d in &r.depths {
        // l − 1 factors of gain·Q.
        let want = gain.powi(d.layer as i32 - 1);
        assert_eq!(d.singular_values.len(), 8 * 10);
        for s in &d.singular_values {
            assert!(
                (s - want).abs() < 1e-12 * want,
                "layer {}: {s} vs {want}",
                d.layer
            );
        }
        assert!((d.predicted_mean_sq - want * want).abs() < 1e-10 * want * want);
    }
}

#[test]
fn gaussian_linear_network_spreads_with_depth() {
    let net = build(4, &[16; 16], Activation::Identity);
    let theta = initialise(&net, Init::XavierNormal, 0.0, 5);
    let x = inputs(4, 4, 2);
    let r = jacobian_spectrum(&net, &theta, None, &x, 4).unwrap();
    let first = &r.depths[0];
    let last = r.depths.last().unwrap();
    // A single N(0, 1/n) square matrix: σ already spread (quarter-circle law: σ ∈ [0, 2]).
    assert!(first.spread > 0.3, "{}", first.spread);
    // Products of 15: the condition number grows exponentially.
    assert!(
        last.max / last.min > 1e3 * (first.max / first.min),
        "{last:?}"
    );
    assert!(last.spread > first.spread);
}

#[test]
fn orthogonal_tanh_at_depth_32_keeps_the_spread_far_below_gaussian() {
    // σ_w = 1, biases 0: the critical point of tanh. Small inputs keep u in tanh's linear part.
    let net = build(8, &[32; 32], Activation::Tanh);
    let x: Vec<f64> = inputs(16, 8, 3).iter().map(|v| 0.3 * v).collect();
    let orth = initialise(&net, Init::Orthogonal, 1.0, 9);
    let gauss = initialise(&net, Init::XavierNormal, 0.0, 9);
    let ro = jacobian_spectrum(&net, &orth, None, &x, 16).unwrap();
    let rg = jacobian_spectrum(&net, &gauss, None, &x, 16).unwrap();
    let (o, g) = (ro.depths.last().unwrap(), rg.depths.last().unwrap());
    assert_eq!(o.layer, 32);
    eprintln!(
        "depth 32: orthogonal spread {:.4} σ ∈ [{:.3e}, {:.3e}] mean σ² {:.4} (predicted {:.4}); gaussian spread {:.4} σ ∈ [{:.3e}, {:.3e}] mean σ² {:.4} (predicted {:.4})",
        o.spread,
        o.min,
        o.max,
        o.mean_sq,
        o.predicted_mean_sq,
        g.spread,
        g.min,
        g.max,
        g.mean_sq,
        g.predicted_mean_sq
    );
    assert!(o.spread < 0.2 * g.spread);
    assert!(o.max / o.min < 1e-3 * (g.max / g.min));
}

#[test]
fn a_spectrum_too_costly_to_compute_is_refused() {
    let net = build(2, &[300; 10], Activation::Tanh);
    let theta = initialise(&net, Init::XavierNormal, 0.0, 1);
    let x = inputs(64, 2, 1);
    let e = jacobian_spectrum(&net, &theta, None, &x, 64).unwrap_err();
    assert!(e.message.contains("fewer points"), "{}", e.message);
}
