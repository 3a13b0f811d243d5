//! The exact linear-region partition against closed forms (Zaslavsky, the sawtooth) and against
//! the forward pass (a fine grid, interior points).

use std::collections::HashSet;

use nnlab::analysis::regions::{InputBox, Regions, regions};
use nnlab::net::spec::{LayerSpec, Loss, NetworkSpec};
use nnlab::net::{Activation, BnMode, BnStats, Network, Workspace};
use nnlab::rng::Rng;

fn build(inputs: usize, hidden: &[(usize, Activation)], residual: bool) -> Network {
    let mut layers: Vec<LayerSpec> = hidden.iter().map(|&(u, a)| LayerSpec::new(u, a)).collect();
    layers.push(LayerSpec::new(1, Activation::Identity));
    let spec = NetworkSpec {
        inputs,
        layers,
        init: Default::default(),
        init_scale: 0.1,
        features: None,
        residual,
        weight_constraint: Default::default(),
    };
    Network::build(&spec, Loss::Mse).unwrap()
}

/// Weights N(0, 2/fan_in), biases N(0, 0.5²), PReLU α in (0.1, 0.6).
fn random_theta(net: &Network, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut theta = vec![0.0; net.n_params];
    for l in &net.layers {
        let s = (2.0 / l.fan_in as f64).sqrt();
        for v in &mut theta[l.w..l.w + l.n_weights()] {
            *v = s * rng.normal();
        }
        for v in &mut theta[l.b..l.b + l.units] {
            *v = 0.5 * rng.normal();
        }
        if let (Some(g), Some(b)) = (l.gamma, l.beta) {
            for j in 0..l.units {
                theta[g + j] = 1.0 + 0.3 * rng.normal();
                theta[b + j] = 0.3 * rng.normal();
            }
        }
        if let Some(p) = l.prelu {
            for v in &mut theta[p..p + l.units] {
                *v = rng.range(0.1, 0.6);
            }
        }
    }
    theta
}

/// The kink pattern and output of the forward pass at raw inputs `x`.
fn forward_pattern(net: &Network, theta: &[f64], x: &[f64]) -> (String, f64) {
    forward_pattern_bn(net, theta, x, None)
}

/// The same with BatchNorm in evaluation mode.
fn forward_pattern_bn(
    net: &Network,
    theta: &[f64],
    x: &[f64],
    bn: Option<&BnStats>,
) -> (String, f64) {
    let mut ws = Workspace::default();
    let mode = bn.map_or(BnMode::Batch, BnMode::Fixed);
    net.forward(theta, x, 1, &mut ws, mode, None);
    let last = net.layers.len() - 1;
    let groups: Vec<String> = net.layers[..last]
        .iter()
        .zip(&ws.layers)
        .filter(|(l, _)| l.activation != Activation::Identity)
        .map(|(_, c)| {
            c.u.iter()
                .map(|&u| if u > 0.0 { '1' } else { '0' })
                .collect()
        })
        .collect();
    (groups.join("|"), net.outputs(&ws)[0])
}

#[test]
fn one_hidden_layer_in_general_position_gives_zaslavsky_count() {
    for (n, seed) in [(1, 1), (3, 2), (8, 3), (12, 4)] {
        let net = build(2, &[(n, Activation::Relu)], false);
        let theta = random_theta(&net, seed);
        // A box holding every pairwise intersection of the n lines w_j·x + b_j = 0.
        let (w, b) = (net.layers[0].weights(&theta), net.layers[0].bias(&theta));
        let mut reach: f64 = 1.0;
        for i in 0..n {
            for j in i + 1..n {
                let det = w[2 * i] * w[2 * j + 1] - w[2 * i + 1] * w[2 * j];
                let x = (-b[i] * w[2 * j + 1] + b[j] * w[2 * i + 1]) / det;
                let y = (-w[2 * i] * b[j] + w[2 * j] * b[i]) / det;
                reach = reach.max(x.abs()).max(y.abs());
            }
        }
        let r = 2.0 * reach;
        let out = regions(
            &net,
            &theta,
            None,
            InputBox {
                x: (-r, r),
                y: (-r, r),
            },
        )
        .unwrap();
        assert_eq!(out.regions.len(), 1 + n + n * (n - 1) / 2, "n = {n}");
    }
}

/// The tent map t(x) = 2relu(x) − 4relu(x − ½) composed `depth` times (lesson r06's construction).
fn sawtooth(depth: usize) -> (Network, Vec<f64>) {
    let hidden = vec![(2, Activation::Relu); depth];
    let net = build(1, &hidden, false);
    let mut theta = vec![1.0, 1.0, 0.0, -0.5];
    for _ in 1..depth {
        theta.extend_from_slice(&[2.0, -4.0, 2.0, -4.0, 0.0, -0.5]);
    }
    theta.extend_from_slice(&[2.0, -4.0, 0.0]);
    assert_eq!(theta.len(), net.n_params);
    (net, theta)
}

#[test]
fn the_constructed_sawtooth_has_two_to_the_depth_pieces() {
    for depth in 1..=8 {
        let (net, theta) = sawtooth(depth);
        let out = regions(
            &net,
            &theta,
            None,
            InputBox {
                x: (0.0, 1.0),
                y: (0.0, 0.0),
            },
        )
        .unwrap();
        let pieces = 1usize << depth;
        assert_eq!(out.regions.len(), pieces, "depth {depth}");
        let bp = out.breakpoints();
        assert_eq!(bp.len(), pieces - 1);
        for (k, x) in bp.iter().enumerate() {
            assert!((x - (k + 1) as f64 / pieces as f64).abs() < 1e-12, "{x}");
        }
        // Slopes alternate ±2^depth.
        for r in &out.regions {
            assert!((r.out_grad[0].abs() - pieces as f64).abs() < 1e-9);
        }
    }
}

fn all_patterns_match_a_grid(net: &Network, theta: &[f64], lo: f64, hi: f64, g: usize) {
    let out = regions(
        net,
        theta,
        None,
        InputBox {
            x: (lo, hi),
            y: (lo, hi),
        },
    )
    .unwrap();
    let exact: HashSet<String> = out.regions.iter().map(|r| r.pattern_text()).collect();
    assert_eq!(exact.len(), out.regions.len(), "one region per pattern");
    let mut grid = HashSet::new();
    for i in 0..g {
        for j in 0..g {
            let x = lo + (hi - lo) * (i as f64 + 0.5) / g as f64;
            let y = lo + (hi - lo) * (j as f64 + 0.5) / g as f64;
            grid.insert(forward_pattern(net, theta, &[x, y]).0);
        }
    }
    assert_eq!(grid, exact);
    let total: f64 = out.regions.iter().map(|r| r.measure()).sum();
    assert!((total - (hi - lo) * (hi - lo)).abs() < 1e-9 * (hi - lo) * (hi - lo));
}

#[test]
fn exact_count_equals_a_fine_grid_hash() {
    // Small nets whose smallest region holds many grid cells at 600 × 600.
    let net = build(
        2,
        &[(4, Activation::Relu), (4, Activation::LeakyRelu)],
        false,
    );
    all_patterns_match_a_grid(&net, &random_theta(&net, 11), -2.0, 2.0, 600);
    let net = build(2, &[(5, Activation::Relu)], false);
    all_patterns_match_a_grid(&net, &random_theta(&net, 12), -1.5, 1.5, 600);
}

/// Every region's pattern and affine output agree with the forward pass inside it.
fn check_interior(net: &Network, theta: &[f64], out: &Regions) {
    check_interior_bn(net, theta, None, out)
}

fn check_interior_bn(net: &Network, theta: &[f64], bn: Option<&BnStats>, out: &Regions) {
    let mut rng = Rng::new(99);
    for r in &out.regions {
        let c = r.interior_point();
        let mut points = vec![c];
        // Points between the centre and a vertex, away from the boundary.
        for v in &r.vertices {
            let t = rng.range(0.1, 0.9);
            points.push([c[0] + t * (v[0] - c[0]), c[1] + t * (v[1] - c[1])]);
        }
        for p in points {
            let x = &p[..out.inputs];
            let (pattern, y) = forward_pattern_bn(net, theta, x, bn);
            assert_eq!(pattern, r.pattern_text(), "at {p:?}");
            let affine: f64 =
                r.out_bias[0] + x.iter().zip(&r.out_grad).map(|(a, b)| a * b).sum::<f64>();
            assert!(
                (affine - y).abs() < 1e-10 * (1.0 + y.abs()),
                "{affine} vs {y}"
            );
        }
    }
}

#[test]
fn every_region_has_one_pattern_inside() {
    let cases: Vec<(Vec<(usize, Activation)>, bool)> = vec![
        (vec![(16, Activation::Relu), (16, Activation::Relu)], false),
        (
            vec![(6, Activation::LeakyRelu), (6, Activation::Prelu)],
            false,
        ),
        (
            vec![
                (5, Activation::Relu),
                (5, Activation::Identity),
                (5, Activation::Relu),
            ],
            true,
        ),
        (vec![(4, Activation::Step), (4, Activation::Relu)], false),
    ];
    for (seed, (hidden, residual)) in cases.into_iter().enumerate() {
        for d in [1, 2] {
            let net = build(d, &hidden, residual);
            let theta = random_theta(&net, 40 + seed as u64);
            let out = regions(
                &net,
                &theta,
                None,
                InputBox {
                    x: (-3.0, 3.0),
                    y: (-2.0, 2.5),
                },
            )
            .unwrap();
            assert!(out.regions.len() > 1);
            check_interior(&net, &theta, &out);
        }
    }
}

#[test]
fn non_piecewise_linear_networks_are_refused_with_the_reason() {
    let net = build(2, &[(4, Activation::Tanh)], false);
    let theta = random_theta(&net, 1);
    let b = InputBox {
        x: (-1.0, 1.0),
        y: (-1.0, 1.0),
    };
    let e = regions(&net, &theta, None, b).unwrap_err();
    assert!(e.message.contains("tanh") && e.message.contains("not piecewise linear"));
    let net = build(3, &[(4, Activation::Relu)], false);
    let e = regions(&net, &random_theta(&net, 1), None, b).unwrap_err();
    assert!(e.message.contains("1-D or 2-D"));
    let net = build(2, &[(4, Activation::Relu)], false);
    let bad = InputBox {
        x: (1.0, -1.0),
        y: (-1.0, 1.0),
    };
    assert!(regions(&net, &random_theta(&net, 1), None, bad).is_err());
}

#[test]
fn an_exploding_count_is_refused_before_memory_runs_out() {
    // 8 layers of 64 ReLU units over a wide box: far more than the cap.
    let net = build(2, &[(64, Activation::Relu); 8], false);
    let theta = random_theta(&net, 5);
    let e = regions(
        &net,
        &theta,
        None,
        InputBox {
            x: (-50.0, 50.0),
            y: (-50.0, 50.0),
        },
    )
    .unwrap_err();
    assert!(e.message.contains("more than"), "{}", e.message);
}

#[test]
fn batch_norm_in_evaluation_mode_is_folded_into_the_affine_maps() {
    let mut layers: Vec<LayerSpec> = (0..2)
        .map(|_| {
            let mut l = LayerSpec::new(6, Activation::Relu);
            l.batch_norm = true;
            l
        })
        .collect();
    layers.push(LayerSpec::new(1, Activation::Identity));
    let spec = NetworkSpec {
        inputs: 2,
        layers,
        init: Default::default(),
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: Default::default(),
    };
    let net = Network::build(&spec, Loss::Mse).unwrap();
    let theta = random_theta(&net, 8);
    // Statistics of 50 rows, as the decision map takes them from the training set.
    let mut rng = Rng::new(2);
    let x: Vec<f64> = (0..100).map(|_| rng.range(-1.0, 1.0)).collect();
    let mut ws = Workspace::default();
    net.forward(&theta, &x, 50, &mut ws, BnMode::Batch, None);
    let stats = net.bn_stats(&ws);
    let b = InputBox {
        x: (-2.0, 2.0),
        y: (-2.0, 2.0),
    };
    assert!(
        regions(&net, &theta, None, b).is_err(),
        "statistics are required"
    );
    let out = regions(&net, &theta, Some(&stats), b).unwrap();
    assert!(out.regions.len() > 5, "{}", out.regions.len());
    check_interior_bn(&net, &theta, Some(&stats), &out);
}
