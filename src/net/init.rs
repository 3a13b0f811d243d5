//! Seeded initialisers. Only weights are drawn; biases start at 0, BatchNorm γ at 1 and β at 0,
//! PReLU α at the layer's `alpha`.

use faer::Mat;

use super::activation::Activation;
use super::network::Network;
use super::spec::{Init, WeightConstraint};
use crate::rng::Rng;

/// Fill θ for `net` from the `init` stream of `seed`.
pub fn initialise(net: &Network, init: Init, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::stream(seed, "init");
    let mut theta = vec![0.0; net.n_params];
    // SIREN: ω₀ of the last sine layer so far (1 before the first).
    let mut omega = 1.0;
    for (index, layer) in net.layers.iter().enumerate() {
        if layer.activation == Activation::Sine {
            omega = layer.param;
        }
        let init = layer.init.unwrap_or(init);
        let (fan_in, fan_out) = (layer.fan_in as f64, layer.units as f64);
        let w = &mut theta[layer.w..layer.w + layer.units * layer.fan_in];
        if init == Init::Orthogonal {
            orthogonal(w, layer.units, layer.fan_in, scale, &mut rng);
        }
        for v in w.iter_mut() {
            *v = match init {
                Init::Zeros => 0.0,
                Init::Constant => scale,
                Init::Uniform => rng.range(-scale, scale),
                Init::Normal => scale * rng.normal(),
                Init::XavierUniform => {
                    let a = (6.0 / (fan_in + fan_out)).sqrt();
                    rng.range(-a, a)
                }
                Init::XavierNormal => (2.0 / (fan_in + fan_out)).sqrt() * rng.normal(),
                Init::HeUniform => {
                    let a = (6.0 / fan_in).sqrt();
                    rng.range(-a, a)
                }
                Init::HeNormal => (2.0 / fan_in).sqrt() * rng.normal(),
                Init::Orthogonal => *v,
                Init::Siren if index == 0 => rng.range(-1.0 / fan_in, 1.0 / fan_in),
                Init::Siren => {
                    let a = (6.0 / fan_in).sqrt() / omega;
                    rng.range(-a, a)
                }
            };
            if net.constraint == WeightConstraint::Nonnegative {
                *v = v.abs();
            }
        }
        if let Some(g) = layer.gamma {
            theta[g..g + layer.units].fill(1.0);
        }
        if let Some(a) = layer.prelu {
            theta[a..a + layer.units].fill(layer.param);
        }
    }
    net.mask.zero_pruned(&mut theta);
    theta
}

/// `w` [rows × cols] row-major ← gain · (a matrix with orthonormal rows or columns, whichever
/// are fewer). Q of the QR of a Gaussian [max × min] matrix, its columns' signs fixed by R's
/// diagonal so that Q is Haar-distributed (Mezzadri 2007); transposed when rows < cols.
fn orthogonal(w: &mut [f64], rows: usize, cols: usize, gain: f64, rng: &mut Rng) {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let mut g = Mat::<f64>::zeros(tall, short);
    // Row-major draw order, like the other initialisers.
    for i in 0..tall {
        for j in 0..short {
            g[(i, j)] = rng.normal();
        }
    }
    let qr = g.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    for j in 0..short {
        let sign = if r[(j, j)] < 0.0 { -1.0 } else { 1.0 };
        for i in 0..tall {
            let v = gain * sign * q[(i, j)];
            if rows >= cols {
                w[i * cols + j] = v;
            } else {
                w[j * cols + i] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::spec::{LayerSpec, Loss, NetworkSpec};

    #[test]
    fn siren_draws_each_layer_from_its_own_range() {
        let mut sine = LayerSpec::new(64, Activation::Sine);
        sine.omega = Some(30.0);
        let spec = NetworkSpec {
            inputs: 2,
            layers: vec![
                sine.clone(),
                sine.clone(),
                sine,
                LayerSpec::new(1, Activation::Identity),
            ],
            init: Init::Siren,
            init_scale: 0.1,
            features: None,
            residual: false,
            weight_constraint: WeightConstraint::None,
        };
        let net = Network::build(&spec, Loss::Mse).unwrap();
        let theta = initialise(&net, Init::Siren, 0.1, 5);
        for (i, layer) in net.layers.iter().enumerate() {
            let w = &theta[layer.w..layer.w + layer.units * layer.fan_in];
            // First layer U(−1/n, 1/n); later ones U(−a, a), a = √(6/n)/30 (the output layer
            // takes the last sine layer's ω₀).
            let n = layer.fan_in as f64;
            let a = if i == 0 {
                1.0 / n
            } else {
                (6.0 / n).sqrt() / 30.0
            };
            assert!(w.iter().all(|v| v.abs() <= a), "layer {i}");
            // A uniform on [−a, a] has variance a²/3.
            let var = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
            let tolerance = if w.len() > 1000 { 0.1 } else { 0.5 };
            assert!(
                (var / (a * a / 3.0) - 1.0).abs() < tolerance,
                "layer {i}: variance {var} against {}",
                a * a / 3.0
            );
        }
    }
}
