//! Export a network to the frameworks people move on to: PyTorch (`model.py` and
//! `model.safetensors`) and ONNX.
//!
//! Both map raw inputs [N, inputs] (before the input features) to what nnlab's network
//! outputs in evaluation mode (after the output activation): BatchNorm normalises with the
//! statistics of the whole training set at θ (what nnlab evaluates test rows and the decision
//! map with), dropout is off. The tensors carry the names PyTorch gives the exported module's
//! parameters, in both formats: `layers.0.linear.weight` [units, fan_in] (θ's row-major W),
//! `layers.0.linear.bias`, `layers.0.norm.{weight,bias,running_mean,running_var}` (γ, β and
//! the statistics), `layers.0.act.weight` (PReLU's α).

pub mod onnx;
mod protobuf;
pub mod pytorch;

use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::memory;
use crate::net::{BnMode, BnStats, Network, Workspace};

/// The formats a network can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A folder with `model.py` (a `torch.nn.Module`) and `model.safetensors`.
    Pytorch,
    /// One `.onnx` file (opset 13).
    Onnx,
}

impl Format {
    /// The name `nnlab export --to` takes (`pytorch`, `onnx`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Pytorch => "pytorch",
            Format::Onnx => "onnx",
        }
    }
}

/// A network ready to be written: its plan, θ, and the BatchNorm statistics it evaluates with.
pub struct Model<'a> {
    /// The session's name (documentation in the files).
    pub name: String,
    /// The network's plan (layers, activations, features, θ layout).
    pub net: &'a Network,
    /// Its parameters, in the layout of `net`.
    pub theta: &'a [f64],
    /// Per layer, the training set's mean and variance (None without BatchNorm).
    pub bn: Option<BnStats>,
}

/// One named tensor of the export: a slice of θ or of the BatchNorm statistics.
pub struct Tensor<'a> {
    /// The name in the exported file (`layers.0.weight`, …).
    pub name: String,
    /// Its shape, outermost first (a weight matrix is [units, fan_in]).
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: &'a [f64],
}

impl<'a> Model<'a> {
    /// Check θ and compute the BatchNorm statistics over `train` (the rows the network was
    /// trained on). A diverged θ is refused: there is no network to export.
    pub fn new(
        name: &str,
        net: &'a Network,
        theta: &'a [f64],
        train: &Dataset,
    ) -> Result<Model<'a>> {
        if theta.len() != net.n_params {
            return Err(Error::new(format!(
                "the parameters ({}) do not fit the network ({} parameters)",
                theta.len(),
                net.n_params
            )));
        }
        if let Some(i) = theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::new(format!(
                "parameter {i} is {} (training diverged): there is no network to export",
                theta[i]
            )));
        }
        let bn = if net.has_batch_norm() {
            Some(training_statistics(net, theta, train)?)
        } else {
            None
        };
        Ok(Model {
            name: name.to_string(),
            net,
            theta,
            bn,
        })
    }

    /// Every tensor of the export, layer by layer in θ's order.
    pub fn tensors(&self) -> Vec<Tensor<'_>> {
        let mut out = Vec::new();
        for (i, l) in self.net.layers.iter().enumerate() {
            let n = l.units;
            let mut push = |name: &str, shape: Vec<usize>, values: &'a [f64]| {
                out.push(Tensor {
                    name: format!("layers.{i}.{name}"),
                    shape,
                    values,
                })
            };
            push("linear.weight", vec![n, l.fan_in], l.weights(self.theta));
            push("linear.bias", vec![n], l.bias(self.theta));
            if let (Some(g), Some(b)) = (l.gamma, l.beta) {
                push("norm.weight", vec![n], &self.theta[g..g + n]);
                push("norm.bias", vec![n], &self.theta[b..b + n]);
            }
            if let Some(a) = l.prelu {
                push("act.weight", vec![n], &self.theta[a..a + n]);
            }
            if l.batch_norm
                && let Some(bn) = &self.bn
            {
                out.push(Tensor {
                    name: format!("layers.{i}.norm.running_mean"),
                    shape: vec![n],
                    values: &bn.mean[i],
                });
                out.push(Tensor {
                    name: format!("layers.{i}.norm.running_var"),
                    shape: vec![n],
                    values: &bn.var[i],
                });
            }
        }
        out
    }

    /// Values the tensors hold (θ plus the statistics).
    pub fn values(&self) -> usize {
        self.tensors().iter().map(|t| t.values.len()).sum()
    }
}

/// BatchNorm's mean and variance over every training row at θ: what nnlab's evaluation mode
/// normalises with (`Trainer::train_bn_stats`).
fn training_statistics(net: &Network, theta: &[f64], train: &Dataset) -> Result<BnStats> {
    let rows = train.rows();
    if rows == 0 {
        return Err(Error::new(
            "BatchNorm needs the training rows for its statistics, and there are none",
        ));
    }
    let values = rows.saturating_mul(net.workspace_values_per_row(false));
    memory::check(
        "the pass over the training rows for BatchNorm's statistics",
        memory::f64s(values),
    )
    .map_err(Error::new)?;
    let mut ws = Workspace::default();
    net.forward(theta, &train.x, rows, &mut ws, BnMode::Batch, None);
    let stats = net.bn_stats(&ws);
    if stats
        .mean
        .iter()
        .chain(&stats.var)
        .flatten()
        .any(|v| !v.is_finite())
    {
        return Err(Error::new(
            "BatchNorm's statistics over the training rows are not finite: there is no network to export",
        ));
    }
    Ok(stats)
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The files written, in order.
    pub files: Vec<PathBuf>,
    /// `f64`, or where some operator runs in f32 which (ONNX's Erf for GELU).
    pub precision: String,
}

/// Write `model` in `format` to `out`: a folder for PyTorch (created if missing), a file
/// for ONNX.
pub fn write(model: &Model, format: Format, out: &Path) -> Result<Written> {
    match format {
        Format::Pytorch => pytorch::write(model, out),
        Format::Onnx => onnx::write(model, out),
    }
}

/// A safetensors file of F64 tensors; `format` and `network` go into its metadata.
pub(crate) fn safetensors_file(tensors: &[Tensor], format: &str, network: &str) -> Result<Vec<u8>> {
    let values: usize = tensors.iter().map(|t| t.values.len()).sum();
    // The little-endian bytes of every tensor, then the file holding them again.
    memory::check(
        "the safetensors file",
        memory::f64s(values).saturating_mul(2),
    )
    .map_err(Error::new)?;
    let raw: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&raw)
        .map(|(t, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F64, t.shape.clone(), bytes)
                .map(|v| (t.name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::new(format!("could not lay out the safetensors file: {e}")))?;
    let metadata = std::collections::HashMap::from([
        ("format".to_string(), format.to_string()),
        ("producer".to_string(), pytorch::producer()),
        ("network".to_string(), network.to_string()),
    ]);
    safetensors::tensor::serialize(views, Some(metadata))
        .map_err(|e| Error::new(format!("could not write the safetensors file: {e}")))
}

/// A reference for checking an export elsewhere: inputs `x` [rows, inputs] and the outputs
/// `y` [rows, outputs] nnlab's network gives them, as a safetensors file.
pub fn reference_bytes(net: &Network, x: &[f64], y: &[f64]) -> Result<Vec<u8>> {
    let rows = y.len() / net.output_units();
    let tensors = [
        Tensor {
            name: "x".into(),
            shape: vec![rows, net.inputs],
            values: x,
        },
        Tensor {
            name: "y".into(),
            shape: vec![rows, net.output_units()],
            values: y,
        },
    ];
    safetensors_file(&tensors, "reference", &net.describe())
}

/// The files an export to `out` writes.
pub fn targets(format: Format, out: &Path) -> Vec<PathBuf> {
    match format {
        Format::Pytorch => vec![out.join(pytorch::MODEL_PY), out.join(pytorch::WEIGHTS)],
        Format::Onnx => vec![out.to_path_buf()],
    }
}

/// A number as Rust writes it shortest and exactly (`0.01`, `1e-5`, `1.0`): also valid
/// Python and read back bit for bit.
pub(crate) fn exact(x: f64) -> String {
    format!("{x:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, LayerSpec, Loss, NetworkSpec, spec::Init};

    fn net(layers: Vec<LayerSpec>) -> Network {
        let spec = NetworkSpec {
            inputs: 2,
            layers,
            init: Init::XavierNormal,
            init_scale: 0.1,
            features: None,
            residual: false,
            weight_constraint: Default::default(),
        };
        Network::build(&spec, Loss::Mse).unwrap()
    }

    fn data(rows: usize) -> Dataset {
        Dataset {
            inputs: 2,
            x: (0..2 * rows).map(|i| (i as f64 * 0.37).sin()).collect(),
            y: vec![0.0; rows],
            task: crate::data::spec::Task::Regression,
            classes: 0,
        }
    }

    #[test]
    fn tensors_follow_the_theta_layout() {
        let mut hidden = LayerSpec::new(3, Activation::Prelu);
        hidden.batch_norm = true;
        let n = net(vec![hidden, LayerSpec::new(1, Activation::Identity)]);
        // θ layout by hand: W 3×2, b 3, γ 3, β 3, α 3 | W 1×3, b 1.
        assert_eq!(n.n_params, 6 + 3 + 3 + 3 + 3 + 3 + 1);
        let theta: Vec<f64> = (0..n.n_params).map(|i| i as f64 + 0.5).collect();
        let m = Model::new("t", &n, &theta, &data(5)).unwrap();
        let t = m.tensors();
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.linear.weight",
                "layers.0.linear.bias",
                "layers.0.norm.weight",
                "layers.0.norm.bias",
                "layers.0.act.weight",
                "layers.0.norm.running_mean",
                "layers.0.norm.running_var",
                "layers.1.linear.weight",
                "layers.1.linear.bias",
            ]
        );
        let starts = [0.5, 6.5, 9.5, 12.5, 15.5];
        for (tensor, &first) in t.iter().zip(&starts) {
            assert_eq!(tensor.values[0], first, "{}", tensor.name);
        }
        assert_eq!(t[0].shape, [3, 2]);
        assert_eq!(t[7].shape, [1, 3]);
        assert_eq!(t[7].values, &[18.5, 19.5, 20.5]);
        assert_eq!(t[8].values, &[21.5]);
        assert_eq!(m.values(), n.n_params + 6);
    }

    #[test]
    fn a_diverged_theta_is_refused() {
        let n = net(vec![LayerSpec::new(1, Activation::Tanh)]);
        let mut theta = vec![0.1; n.n_params];
        theta[1] = f64::NAN;
        let e = Model::new("t", &n, &theta, &data(3)).err().unwrap();
        assert_eq!(
            e.message,
            "parameter 1 is NaN (training diverged): there is no network to export"
        );
        let e = Model::new("t", &n, &theta[..1], &data(3)).err().unwrap();
        assert!(e.message.contains("do not fit"), "{}", e.message);
    }

    #[test]
    fn numbers_are_written_exactly() {
        for x in [0.01, 1e-5, 1.0, -0.25, 1e300, 0.1 + 0.2] {
            assert_eq!(exact(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
        assert_eq!(exact(1.0), "1.0");
        assert_eq!(exact(1e-5), "1e-5");
    }
}
