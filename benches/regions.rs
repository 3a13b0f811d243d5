//! The exact linear-region partition of a 2-16-16-1 ReLU net over the decision map's box
//! (He-normal weights, biases N(0, 0.5²)). Target (issue 15): ≤ 20 ms, so the tile follows
//! training live.

use criterion::{Criterion, criterion_group, criterion_main};
use nnlab::analysis::regions::{InputBox, regions};
use nnlab::net::init::initialise;
use nnlab::net::{Activation, Init, LayerSpec, Loss, Network, NetworkSpec};
use nnlab::rng::Rng;

fn partition(c: &mut Criterion) {
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![
            LayerSpec::new(16, Activation::Relu),
            LayerSpec::new(16, Activation::Relu),
            LayerSpec::new(1, Activation::Identity),
        ],
        init: Init::HeNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: Default::default(),
    };
    let net = Network::build(&spec, Loss::Mse).expect("valid network");
    let mut theta = initialise(&net, Init::HeNormal, 0.1, 7);
    let mut rng = Rng::new(3);
    for l in &net.layers {
        for b in &mut theta[l.b..l.b + l.units] {
            *b = 0.5 * rng.normal();
        }
    }
    let bounds = InputBox {
        x: (-1.5, 1.5),
        y: (-1.5, 1.5),
    };
    let n = regions(&net, &theta, None, bounds)
        .expect("piecewise linear")
        .regions
        .len();
    c.bench_function(&format!("regions 2-16-16-1 relu ({n} regions)"), |b| {
        b.iter(|| regions(&net, &theta, None, bounds).expect("piecewise linear"))
    });
}

criterion_group!(benches, partition);
criterion_main!(benches);
