//! The experiment the person edits, kept valid: defaults, the data's shape, and the repairs
//! that keep the output layer and loss consistent with the data.

use std::sync::Arc;

use crate::data::Dataset;
use crate::data::spec::{DataSource, DataSpec};
use crate::error::Result;
use crate::net::features::PLAYGROUND_2D;
use crate::net::network::Network;
use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
use crate::net::{Activation, features};
use crate::optim::spec::{OptimizerKind, OptimizerSpec, Regularization, TrainingRule};
use crate::optim::{validate, validate_regularization};
use crate::runtime::worker::Experiment;
use crate::session::{FORMAT_VERSION, Session};

/// Every generator the data panel offers, in order.
pub(crate) const GENERATORS: [DataSource; 13] = [
    DataSource::Spiral,
    DataSource::Circle,
    DataSource::Xor,
    DataSource::Linear,
    DataSource::Moons,
    DataSource::Blobs,
    DataSource::Sin,
    DataSource::Abs,
    DataSource::Step,
    DataSource::Sawtooth,
    DataSource::NegX,
    DataSource::Boolean,
    DataSource::Inline,
];

/// The data source's name as it is written in session files (the Data panel's tooltip and label).
pub(crate) fn source_name(s: DataSource) -> &'static str {
    match s {
        DataSource::Inline => "inline",
        DataSource::Csv => "csv",
        DataSource::Linear => "linear",
        DataSource::Xor => "xor",
        DataSource::Circle => "circle",
        DataSource::Spiral => "spiral",
        DataSource::Blobs => "blobs",
        DataSource::Moons => "moons",
        DataSource::Sin => "sin",
        DataSource::Abs => "abs",
        DataSource::Step => "step",
        DataSource::Sawtooth => "sawtooth",
        DataSource::NegX => "neg_x",
        DataSource::Boolean => "boolean",
        DataSource::Formula => "formula",
    }
}

/// The features the designer offers for `inputs` raw columns.
pub fn feature_choices(inputs: usize) -> Vec<&'static str> {
    match inputs {
        1 => vec!["x1", "x1^2", "sin(x1)"],
        2 => PLAYGROUND_2D.to_vec(),
        _ => Vec::new(),
    }
}

/// The starting experiment: spiral, 2-8-8-1 tanh, Adam.
pub fn default_session() -> Session {
    let mut data = DataSpec::generator(DataSource::Spiral, 400, 0.05);
    data.test_fraction = 0.3;
    let mut out = LayerSpec::new(1, Activation::Sigmoid);
    out.dropout = 0.0;
    Session {
        nnlab: FORMAT_VERSION,
        name: "spiral".into(),
        seed: 1,
        data,
        network: NetworkSpec {
            inputs: 2,
            layers: vec![
                LayerSpec::new(8, Activation::Tanh),
                LayerSpec::new(8, Activation::Tanh),
                out,
            ],
            init: Init::XavierNormal,
            init_scale: 0.1,
            features: Some(vec!["x1".into(), "x2".into()]),
            residual: false,
            weight_constraint: WeightConstraint::None,
        },
        loss: Loss::Bce,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 0.01, 16),
        regularization: Regularization::default(),
        stop: None,
        params: None,
        state: None,
        initial_params: None,
        history: Default::default(),
        edits: Vec::new(),
        checkpoints: Vec::new(),
        checkpoint_budget: None,
        analyses: Vec::new(),
    }
}

/// (inputs, classes) of a data spec; `loaded` answers for CSV and inline data.
pub(crate) fn data_shape(spec: &DataSpec, loaded: Option<&Dataset>) -> (usize, usize) {
    match spec.source {
        DataSource::Linear
        | DataSource::Xor
        | DataSource::Circle
        | DataSource::Spiral
        | DataSource::Moons => (2, 2),
        DataSource::Blobs => (2, spec.classes.unwrap_or(3)),
        DataSource::Sin
        | DataSource::Abs
        | DataSource::Step
        | DataSource::Sawtooth
        | DataSource::NegX => (1, 0),
        DataSource::Boolean => (spec.bits.unwrap_or(2), 2),
        DataSource::Formula => match crate::data::formula_of(spec) {
            Ok((f, inputs)) => (inputs, if f.is_condition() { 2 } else { 0 }),
            Err(_) => (2, 2),
        },
        DataSource::Csv | DataSource::Inline => match loaded {
            Some(d) => (d.inputs, d.classes),
            None => match (&spec.x, &spec.y) {
                (Some(x), Some(y)) => {
                    let classification = y
                        .iter()
                        .all(|v| *v >= 0.0 && v.fract() == 0.0 && *v < 1000.0);
                    let k = if classification {
                        y.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1
                    } else {
                        0
                    };
                    (
                        x.first().map_or(2, Vec::len),
                        k.max(if classification { 2 } else { 0 }),
                    )
                }
                _ => (2, 2),
            },
        },
    }
}

/// Make the network, loss and rule fit data with `inputs` columns and `classes` classes
/// (0 = regression). Never leaves an invalid combination behind.
pub fn harmonise(s: &mut Session, inputs: usize, classes: usize) {
    let net = &mut s.network;
    net.inputs = inputs.max(1);
    // Features.
    let choices = feature_choices(net.inputs);
    if choices.is_empty() {
        net.features = None;
    } else {
        let mut f: Vec<String> = net
            .feature_names()
            .into_iter()
            .filter(|n| choices.contains(&n.as_str()))
            .collect();
        if f.is_empty() {
            f = (1..=net.inputs).map(|i| format!("x{i}")).collect();
        }
        net.features = Some(f);
    }
    if net.layers.is_empty() {
        net.layers.push(LayerSpec::new(1, Activation::Sigmoid));
    }
    let rule = s.optimizer.effective_rule();
    if rule == TrainingRule::Perceptron {
        let units = if classes > 2 { classes } else { 1 };
        net.layers = vec![LayerSpec::new(units, Activation::Step)];
        if matches!(s.loss, Loss::Bce | Loss::CrossEntropy) {
            s.loss = Loss::Hinge;
        }
        if classes == 0 {
            // The perceptron needs classes: fall back to backprop.
            s.optimizer.kind = OptimizerKind::Sgd;
            s.optimizer.rule = TrainingRule::Backprop;
        } else {
            return;
        }
    }
    // Hidden layers never use softmax or step (step has no gradient).
    let last = net.layers.len() - 1;
    for l in &mut net.layers[..last] {
        if l.activation == Activation::Softmax {
            l.activation = Activation::Tanh;
        }
        if l.units == 0 {
            l.units = 1;
        }
    }
    let out = &mut net.layers[last];
    out.dropout = 0.0;
    if classes == 0 {
        s.loss = Loss::Mse;
        out.units = 1;
        if matches!(
            out.activation,
            Activation::Sigmoid | Activation::Softmax | Activation::Step
        ) {
            out.activation = Activation::Identity;
        }
    } else {
        match s.loss {
            Loss::Bce if classes == 2 => {
                out.units = 1;
                out.activation = Activation::Sigmoid;
            }
            Loss::Bce | Loss::CrossEntropy => {
                s.loss = Loss::CrossEntropy;
                out.units = classes;
                out.activation = Activation::Softmax;
            }
            Loss::Mse | Loss::Hinge => {
                out.units = if classes == 2 { 1 } else { classes };
                if matches!(out.activation, Activation::Softmax | Activation::Step) {
                    out.activation = Activation::Tanh;
                }
            }
        }
    }
}

/// The same checks the trainer makes, cheap enough for the UI thread (no data is built).
pub fn check(s: &Session, inputs: usize, classes: usize) -> Result<Network> {
    validate(&s.optimizer)?;
    validate_regularization(&s.regularization)?;
    features::parse_features(s.network.features.as_deref(), s.network.inputs)?;
    let net = Network::build(&s.network, s.loss)?;
    net.check_data(inputs, classes)?;
    Ok(net)
}

/// What the worker needs to build and run `s`: its trainer config, data spec, rows read from a file
/// (if any) and saved parameters.
pub fn experiment(s: &Session, dataset: Option<Arc<(Dataset, Dataset)>>) -> Experiment {
    Experiment {
        config: s.trainer_config(),
        data: s.data.clone(),
        dataset,
        params: s.params.clone(),
        recorded: None,
    }
}
