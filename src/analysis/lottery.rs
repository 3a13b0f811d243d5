//! Magnitude pruning for lottery tickets (Frankle & Carbin 2019; THEORY row 35): which weights
//! to prune next, by layer or over the whole network, from the magnitudes of trained weights.
//!
//! Only weights are pruned (biases, BatchNorm and PReLU parameters never are), only among the
//! weights still alive, and only in trainable layers (a frozen layer is not part of the
//! search). Ties in |w| are broken by position (the earlier weight is pruned first), so the
//! same θ always gives the same mask.

use crate::net::Network;

/// Where the fraction applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Each layer prunes the fraction of its own surviving weights.
    Layer,
    /// The fraction of all surviving weights, smallest |w| anywhere first.
    Global,
}

/// Per layer, one flag per weight (row-major units × fan_in): pruned or not.
pub type LayerMasks = Vec<Vec<bool>>;

/// No weight pruned.
pub fn dense(net: &Network) -> LayerMasks {
    net.layers
        .iter()
        .map(|l| vec![false; l.n_weights()])
        .collect()
}

/// The masks of `net` as built (its `pruned` fields).
pub fn current(net: &Network) -> LayerMasks {
    let mut m = dense(net);
    for &i in &net.mask.pruned {
        if let Some((li, l)) = net
            .layers
            .iter()
            .enumerate()
            .find(|(_, l)| (l.w..l.w + l.n_weights()).contains(&i))
        {
            m[li][i - l.w] = true;
        }
    }
    m
}

/// Prune round(`fraction` × surviving) more weights by smallest |θ| (see the module text).
pub fn prune(
    net: &Network,
    theta: &[f64],
    masks: &LayerMasks,
    fraction: f64,
    scope: Scope,
) -> Result<LayerMasks, String> {
    if !(fraction.is_finite() && (0.0..1.0).contains(&fraction)) {
        return Err(format!(
            "the prune fraction must be in [0, 1) (got {fraction})"
        ));
    }
    if masks.len() != net.layers.len()
        || masks
            .iter()
            .zip(&net.layers)
            .any(|(m, l)| m.len() != l.n_weights())
    {
        return Err("the masks do not fit the network".into());
    }
    let mut out = masks.clone();
    // (|w|, layer, index) of the surviving weights a round may prune.
    let alive = |li: usize| -> Vec<(f64, usize, usize)> {
        let l = &net.layers[li];
        if !l.trainable {
            return Vec::new();
        }
        (0..l.n_weights())
            .filter(|&j| !masks[li][j])
            .map(|j| (theta[l.w + j].abs(), li, j))
            .collect()
    };
    let mut cut = |mut cands: Vec<(f64, usize, usize)>| {
        let k = (fraction * cands.len() as f64).round() as usize;
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        for &(_, li, j) in &cands[..k] {
            out[li][j] = true;
        }
    };
    match scope {
        Scope::Layer => {
            for li in 0..net.layers.len() {
                cut(alive(li));
            }
        }
        Scope::Global => cut((0..net.layers.len()).flat_map(alive).collect()),
    }
    Ok(out)
}

/// Fraction of the trainable layers' weights pruned.
pub fn sparsity(net: &Network, masks: &LayerMasks) -> f64 {
    let (mut pruned, mut total) = (0usize, 0usize);
    for (m, l) in masks.iter().zip(&net.layers) {
        if l.trainable {
            total += m.len();
            pruned += m.iter().filter(|&&p| p).count();
        }
    }
    if total == 0 {
        0.0
    } else {
        pruned as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec};
    use crate::net::{Activation, Network};

    fn net() -> Network {
        let spec = NetworkSpec {
            inputs: 2,
            layers: vec![
                LayerSpec::new(3, Activation::Tanh),
                LayerSpec::new(1, Activation::Identity),
            ],
            init: Init::Zeros,
            init_scale: 0.1,
            features: None,
            residual: false,
            weight_constraint: Default::default(),
        };
        Network::build(&spec, Loss::Mse).unwrap()
    }

    #[test]
    fn layer_scope_prunes_the_smallest_of_each_layer() {
        let n = net();
        // Layer 0: 6 weights, 3 biases; layer 1: 3 weights, 1 bias.
        let mut theta = vec![0.0; n.n_params];
        theta[..6].copy_from_slice(&[0.5, -0.1, 2.0, -0.3, 0.05, 1.0]);
        theta[9..12].copy_from_slice(&[-4.0, 0.2, 3.0]);
        let m = prune(&n, &theta, &dense(&n), 0.5, Scope::Layer).unwrap();
        // round(0.5·6) = 3 of layer 0: |0.05|, |−0.1|, |−0.3|; round(0.5·3) = 2 of layer 1.
        assert_eq!(m[0], [false, true, false, true, true, false]);
        assert_eq!(m[1], [false, true, true]);
        // A second round prunes only among the survivors: round(0.5·3) = 2 more of layer 0
        // (|0.5| and |1.0|), round(0.5·1) = 1 (rounds half away from zero) of layer 1.
        let m2 = prune(&n, &theta, &m, 0.5, Scope::Layer).unwrap();
        assert_eq!(m2[0], [true, true, false, true, true, true]);
        assert_eq!(m2[1], [true, true, true]);
        assert!((sparsity(&n, &m) - 5.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn global_scope_compares_magnitudes_across_layers() {
        let n = net();
        let mut theta = vec![0.0; n.n_params];
        theta[..6].copy_from_slice(&[0.5, -0.1, 2.0, -0.3, 0.05, 1.0]);
        theta[9..12].copy_from_slice(&[-4.0, 0.2, 3.0]);
        // round(1/3 · 9) = 3 smallest anywhere: 0.05, 0.1 (layer 0) and 0.2 (layer 1).
        let m = prune(&n, &theta, &dense(&n), 1.0 / 3.0, Scope::Global).unwrap();
        assert_eq!(m[0], [false, true, false, false, true, false]);
        assert_eq!(m[1], [false, true, false]);
    }

    #[test]
    fn ties_break_by_position_and_frozen_layers_are_never_pruned() {
        let mut spec_net = net();
        let theta = vec![1.0; spec_net.n_params];
        let m = prune(&spec_net, &theta, &dense(&spec_net), 0.5, Scope::Layer).unwrap();
        assert_eq!(m[0], [true, true, true, false, false, false]);
        spec_net.layers[0].trainable = false;
        let m = prune(&spec_net, &theta, &dense(&spec_net), 0.5, Scope::Global).unwrap();
        assert!(m[0].iter().all(|p| !p));
        assert_eq!(m[1], [true, true, false]);
        assert!(prune(&spec_net, &theta, &m, 1.0, Scope::Layer).is_err());
    }
}
