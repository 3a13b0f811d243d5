//! Shared builders for the numeric tests: a small network over a small dataset.
#![allow(dead_code)]

use nnlab::net::init::initialise;
use nnlab::net::spec::{DropoutScaling, Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
use nnlab::net::{Activation, Network};
use nnlab::rng::Rng;

/// The output layer and data kind of one loss configuration.
#[derive(Clone, Copy, Debug)]
pub struct LossCase {
    pub loss: Loss,
    pub output: Activation,
    pub units: usize,
    /// 0 = regression.
    pub classes: usize,
}

pub const LOSS_CASES: [LossCase; 6] = [
    LossCase {
        loss: Loss::Mse,
        output: Activation::Identity,
        units: 1,
        classes: 0,
    },
    LossCase {
        loss: Loss::Mse,
        output: Activation::Sigmoid,
        units: 1,
        classes: 2,
    },
    LossCase {
        loss: Loss::Bce,
        output: Activation::Sigmoid,
        units: 1,
        classes: 2,
    },
    LossCase {
        loss: Loss::CrossEntropy,
        output: Activation::Softmax,
        units: 3,
        classes: 3,
    },
    LossCase {
        loss: Loss::Hinge,
        output: Activation::Tanh,
        units: 1,
        classes: 2,
    },
    LossCase {
        loss: Loss::Hinge,
        output: Activation::Identity,
        units: 3,
        classes: 3,
    },
];

/// Layer options of the grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    pub batch_norm: bool,
    pub residual: bool,
    pub l1: f64,
    pub l2: f64,
}

pub const OPTIONS: [Options; 5] = [
    Options {
        batch_norm: false,
        residual: false,
        l1: 0.0,
        l2: 0.0,
    },
    Options {
        batch_norm: true,
        residual: false,
        l1: 0.0,
        l2: 0.0,
    },
    Options {
        batch_norm: false,
        residual: true,
        l1: 0.0,
        l2: 0.0,
    },
    Options {
        batch_norm: false,
        residual: false,
        l1: 0.01,
        l2: 0.03,
    },
    Options {
        batch_norm: true,
        residual: true,
        l1: 0.02,
        l2: 0.01,
    },
];

/// Hidden activations of the grid: every scalar one with a gradient.
pub fn hidden_activations() -> Vec<Activation> {
    Activation::ALL
        .into_iter()
        .filter(|a| !matches!(a, Activation::Softmax | Activation::Step))
        .collect()
}

pub fn spec(hidden: Activation, case: LossCase, opt: Options) -> NetworkSpec {
    let mut h1 = LayerSpec::new(4, hidden);
    h1.batch_norm = opt.batch_norm;
    // A frequency other than the default, so the sine's ω₀ enters every derivative.
    h1.omega = Some(1.7);
    let mut h2 = LayerSpec::new(4, hidden);
    h2.batch_norm = opt.batch_norm;
    h2.dropout_scaling = DropoutScaling::Inverted;
    NetworkSpec {
        inputs: 2,
        layers: vec![h1, h2, LayerSpec::new(case.units, case.output)],
        init: Init::XavierNormal,
        init_scale: 0.1,
        features: Some(vec!["x1".into(), "x2".into(), "x1*x2".into()]),
        residual: opt.residual,
        weight_constraint: WeightConstraint::None,
    }
}

/// Rows and labels for a case.
pub fn data(case: LossCase, rows: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let x: Vec<f64> = (0..rows * 2).map(|_| rng.range(-1.0, 1.0)).collect();
    let y = (0..rows)
        .map(|r| {
            if case.classes == 0 {
                (2.0 * x[2 * r]).sin() + 0.3 * x[2 * r + 1]
            } else {
                (r % case.classes) as f64
            }
        })
        .collect();
    (x, y)
}

/// A network with a random (non-zero everywhere) θ, biases and BN parameters perturbed too.
pub fn network_and_theta(
    hidden: Activation,
    case: LossCase,
    opt: Options,
    seed: u64,
) -> (Network, Vec<f64>) {
    let net = Network::build(&spec(hidden, case, opt), case.loss).expect("valid test network");
    let mut theta = initialise(&net, Init::XavierNormal, 0.1, seed);
    let mut rng = Rng::new(seed ^ 0xabc);
    for v in theta.iter_mut() {
        *v += 0.2 * rng.normal();
    }
    (net, theta)
}

/// One point of the activation × loss × options grid, with its network, θ and rows.
pub struct GridCase<'a> {
    pub act: Activation,
    pub case: LossCase,
    pub opt: Options,
    /// A seed unique to this case, for further random draws.
    pub seed: u64,
    pub net: &'a Network,
    pub theta: &'a [f64],
    pub rows: nnlab::net::Rows<'a>,
}

impl GridCase<'_> {
    /// A short label for failure messages.
    pub fn label(&self) -> String {
        format!(
            "{:?} / {:?}+{:?} / {:?}",
            self.act, self.case.loss, self.case.output, self.opt
        )
    }
}

/// Call `f` on every case of the grid (`rows` rows each); returns the number of cases.
pub fn for_each_grid_case(n_rows: usize, mut f: impl FnMut(&GridCase)) -> usize {
    let mut count = 0;
    for (ai, act) in hidden_activations().into_iter().enumerate() {
        for (ci, case) in LOSS_CASES.into_iter().enumerate() {
            for (oi, opt) in OPTIONS.into_iter().enumerate() {
                let seed = (100 * ai + 10 * ci + oi) as u64;
                let (net, theta) = network_and_theta(act, case, opt, seed);
                let (x, y) = data(case, n_rows, seed + 1);
                let rows = nnlab::net::Rows {
                    x: &x,
                    y: &y,
                    classes: case.classes,
                };
                f(&GridCase {
                    act,
                    case,
                    opt,
                    seed,
                    net: &net,
                    theta: &theta,
                    rows,
                });
                count += 1;
            }
        }
    }
    count
}

/// ‖a − b‖ / max(‖a‖, 1e-8).
pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    diff / a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-8)
}
