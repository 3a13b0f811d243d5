//! A 51×51 loss-landscape slice at P ≈ 10k parameters (2-98-98-1 tanh, N = 1000, MSE), on
//! all cores (rows split across threads) and on one, plus the plain-objective baseline per
//! point. Target (issue 4): ≤ 1.5 s for the 51×51 slice on a 2-core machine.

use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};
use nnlab::analysis::landscape::{Objective, Plane, SliceSpec, slice};
use nnlab::net::init::initialise;
use nnlab::net::objective::Rows;
use nnlab::net::{Activation, Init, LayerSpec, Loss, Network, NetworkSpec, Workspace};
use nnlab::rng::Rng;

fn problem() -> (Network, Vec<f64>, Vec<f64>, Vec<f64>) {
    let spec = NetworkSpec {
        inputs: 2,
        layers: vec![
            LayerSpec::new(98, Activation::Tanh),
            LayerSpec::new(98, Activation::Tanh),
            LayerSpec::new(1, Activation::Identity),
        ],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: None,
        residual: false,
        weight_constraint: Default::default(),
    };
    let net = Network::build(&spec, Loss::Mse).expect("valid network");
    let theta = initialise(&net, Init::XavierNormal, 0.1, 7);
    let mut rng = Rng::new(11);
    let n = 1000;
    let x: Vec<f64> = (0..2 * n).map(|_| rng.range(-1.0, 1.0)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| (3.0 * x[2 * i]).sin() * x[2 * i + 1])
        .collect();
    (net, theta, x, y)
}

fn landscape(c: &mut Criterion) {
    let (net, theta, x, y) = problem();
    let obj = Objective {
        net: &net,
        rows: Rows {
            x: &x,
            y: &y,
            classes: 0,
        },
        l1: 0.0,
        l2: 0.0,
    };
    let plane = Plane::random(&net, &theta, 1);
    let cancel = AtomicBool::new(false);
    let mut g = c.benchmark_group(format!("landscape P={} N=1000", net.n_params));
    g.sample_size(10);
    for threads in [0, 1] {
        let spec = SliceSpec {
            grid: 51,
            radius: 1.0,
            threads,
        };
        let name = if threads == 0 {
            "all cores"
        } else {
            "1 thread"
        };
        g.bench_function(format!("slice 51x51, {name}"), |b| {
            b.iter(|| slice(&obj, &plane, &spec, &cancel, &mut |_, _| {}))
        });
    }
    let mut ws = Workspace::default();
    g.bench_function("one plain objective (for comparison)", |b| {
        b.iter(|| nnlab::net::objective(&net, &theta, obj.rows, 0.0, 0.0, &mut ws, None))
    });
    g.finish();
}

criterion_group!(benches, landscape);
criterion_main!(benches);
