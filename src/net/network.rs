//! The network: a plan of layers over ONE flat parameter vector θ, a batched forward pass that
//! caches what the backward pass needs, and the exact backward pass.
//!
//! θ layout, per layer in order: W row-major \[units × fan_in\], then b \[units\], then BatchNorm
//! γ \[units\] and β \[units\] (if the layer has BatchNorm), then PReLU α \[units\] (if PReLU).
//!
//! Per layer the forward pass computes
//!   z = a_prev·Wᵀ + b;  u = BN(z) = γ·(z − μ)/√(σ² + ε) + β  (or u = z);
//!   f = act(u);  a = (f + a_prev if residual) ⊙ dropout mask.
//! The output layer's u are the logits the loss is computed from.

use super::activation::Activation;
use super::features::{Feature, parse_features};
use super::kernels::{sigmoid_slice, tanh_slice};
use super::linalg::{matmul_nn, matmul_nt, matmul_tn_acc, norm, view, view_mut};
use super::loss::{TargetCoding, row_loss_and_grad};
use super::mask::{ParamMask, decode};
use super::spec::{DropoutScaling, Init, Loss, NetworkSpec, WeightConstraint};
use crate::error::{Error, Result};
use crate::rng::Rng;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

/// BatchNorm's ε.
pub const BN_EPS: f64 = 1e-5;
/// Widest layer accepted.
pub const MAX_UNITS: usize = 100_000;
/// Largest θ accepted: the size the lab supports end to end. Training, saving (θ, initial θ,
/// the state with Adam's two moments and the first and last checkpoints in the binary form:
/// about 11 × 10.7 bytes a parameter, 235 MB at this size, within the 512 MiB a session file
/// may have), autosave, replay and the analyses that fit in memory.
pub const MAX_PARAMS: usize = 2_000_000;
/// Most raw input columns accepted.
pub const MAX_INPUTS: usize = 10_000;
/// Deepest network accepted.
pub const MAX_LAYERS: usize = 1_000;

/// One layer of the plan, with the offsets of its parameters in θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Width of the layer's input (features or the previous layer's units).
    pub fan_in: usize,
    /// Number of units.
    pub units: usize,
    /// The units' activation.
    pub activation: Activation,
    /// α (leaky ReLU, ELU, initial PReLU) or β (swish).
    pub param: f64,
    /// BatchNorm before the activation.
    pub batch_norm: bool,
    /// Dropout probability while training.
    pub dropout: f64,
    /// How dropout scales the kept units.
    pub dropout_scaling: DropoutScaling,
    /// Identity skip connection applies (hidden layer with fan_in == units).
    pub residual: bool,
    /// Offset of W (units × fan_in, row-major) in θ.
    pub w: usize,
    /// Offset of the biases in θ.
    pub b: usize,
    /// Offset of BatchNorm's γ in θ.
    pub gamma: Option<usize>,
    /// Offset of BatchNorm's β in θ.
    pub beta: Option<usize>,
    /// Offset of PReLU's learned α in θ.
    pub prelu: Option<usize>,
    /// One past the last parameter of this layer.
    pub end: usize,
    /// `false`: a frozen layer (training leaves its parameters as they are).
    pub trainable: bool,
    /// The layer's own initialiser (`network.init` when None).
    pub init: Option<Init>,
}

impl Layer {
    /// This layer's W in `theta`, row-major units × fan_in.
    pub fn weights<'a>(&self, theta: &'a [f64]) -> &'a [f64] {
        &theta[self.w..self.w + self.units * self.fan_in]
    }
    /// This layer's biases in `theta`.
    pub fn bias<'a>(&self, theta: &'a [f64]) -> &'a [f64] {
        &theta[self.b..self.b + self.units]
    }
    /// This layer's W in `theta` as a units × fan_in matrix: a view into θ, no copy.
    pub fn weight_view<'a>(&self, theta: &'a [f64]) -> ArrayView2<'a, f64> {
        view(self.units, self.fan_in, &theta[self.w..])
    }
    /// This layer's W in `theta` as a mutable units × fan_in matrix (a view into θ).
    pub fn weight_view_mut<'a>(&self, theta: &'a mut [f64]) -> ArrayViewMut2<'a, f64> {
        view_mut(self.units, self.fan_in, &mut theta[self.w..])
    }
    /// This layer's biases in `theta` as a vector (a view into θ).
    pub fn bias_view<'a>(&self, theta: &'a [f64]) -> ArrayView1<'a, f64> {
        ArrayView1::from(self.bias(theta))
    }
    /// Number of weights (units × fan_in).
    pub fn n_weights(&self) -> usize {
        self.units * self.fan_in
    }
}

/// A network's plan: its layers and where each parameter lives in the flat θ. It holds no
/// parameters itself, so one plan serves any θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Raw input columns.
    pub inputs: usize,
    /// The fixed features the first layer sees (the raw columns by default).
    pub features: Vec<Feature>,
    /// The layers, input side first.
    pub layers: Vec<Layer>,
    /// The training loss.
    pub loss: Loss,
    /// A constraint projected after every update.
    pub constraint: WeightConstraint,
    /// Length of θ.
    pub n_params: usize,
    /// Parameters training does not move (frozen layers, pruned weights).
    pub mask: ParamMask,
}

/// How BatchNorm normalises in a pass.
#[derive(Clone, Copy, Debug)]
pub enum BnMode<'a> {
    /// With the statistics of the rows of this pass (training; the `grad` objective).
    Batch,
    /// With given statistics (evaluation of test rows and of the decision map).
    Fixed(&'a BnStats),
}

/// Per-layer BatchNorm mean and variance (empty vectors for layers without BatchNorm).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BnStats {
    /// Per layer, the mean of each unit's z.
    pub mean: Vec<Vec<f64>>,
    /// Per layer, the (biased) variance of each unit's z.
    pub var: Vec<Vec<f64>>,
}

/// Buffers of one layer for one batch (row-major, rows × units).
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    /// Wx + b (only kept with BatchNorm; otherwise u holds it).
    pub z: Vec<f64>,
    /// BN(z): the activation's argument.
    pub u: Vec<f64>,
    /// act(u).
    pub f: Vec<f64>,
    /// Layer output when it differs from f (residual or dropout); empty otherwise.
    pub a: Vec<f64>,
    /// Dropout multiplier per element (0 or the scale); empty when no dropout in this pass.
    pub mask: Vec<f64>,
    /// Normalised z (BatchNorm).
    pub xhat: Vec<f64>,
    /// BatchNorm: the batch mean of z per unit.
    pub mean: Vec<f64>,
    /// BatchNorm: 1/√(var + ε) per unit.
    pub invstd: Vec<f64>,
    /// BatchNorm: the batch variance of z per unit.
    pub var: Vec<f64>,
}

impl LayerCache {
    /// The layer's output a.
    pub fn out(&self) -> &[f64] {
        if self.a.is_empty() { &self.f } else { &self.a }
    }
}

/// Everything a forward/backward pass over a batch needs; reused between steps so a training
/// step allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Rows of the batch the buffers hold.
    pub rows: usize,
    /// φ(x): rows × features.
    pub input: Vec<f64>,
    /// Per-layer buffers.
    pub layers: Vec<LayerCache>,
    /// Targets: rows × output units.
    pub targets: Vec<f64>,
    /// Scratch for the error signals.
    d_cur: Vec<f64>,
    d_prev: Vec<f64>,
    d_tmp: Vec<f64>,
    /// BatchNorm backward sums, per unit.
    sum_d: Vec<f64>,
    sum_dx: Vec<f64>,
}

fn resize(v: &mut Vec<f64>, n: usize) {
    if v.len() != n {
        v.resize(n, 0.0);
    }
}

impl Workspace {
    /// f64 values its buffers hold room for (what the memory estimates bound).
    #[cfg(test)]
    pub(crate) fn values_held(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .map(|c| {
                [
                    &c.z, &c.u, &c.f, &c.a, &c.mask, &c.xhat, &c.mean, &c.invstd, &c.var,
                ]
                .iter()
                .map(|v| v.capacity())
                .sum::<usize>()
            })
            .sum();
        [
            &self.input,
            &self.targets,
            &self.d_cur,
            &self.d_prev,
            &self.d_tmp,
            &self.sum_d,
            &self.sum_dx,
        ]
        .iter()
        .map(|v| v.capacity())
        .sum::<usize>()
            + layers
    }
}

impl Network {
    /// Build the plan from the spec; every problem is an error naming its field.
    pub fn build(spec: &NetworkSpec, loss: Loss) -> Result<Network> {
        if spec.inputs == 0 {
            return Err(Error::field("network.inputs", "must be at least 1"));
        }
        if spec.inputs > MAX_INPUTS {
            return Err(Error::field(
                "network.inputs",
                format!("= {} is too large (at most {MAX_INPUTS})", spec.inputs),
            ));
        }
        if spec.layers.is_empty() {
            return Err(Error::field(
                "network.layers",
                "must have at least one layer (the output layer)",
            ));
        }
        if spec.layers.len() > MAX_LAYERS {
            return Err(Error::field(
                "network.layers",
                format!("has {} layers (at most {MAX_LAYERS})", spec.layers.len()),
            ));
        }
        if !spec.init_scale.is_finite() || spec.init_scale < 0.0 {
            return Err(Error::field(
                "network.init_scale",
                format!("must be finite and ≥ 0 (got {})", spec.init_scale),
            ));
        }
        let features = parse_features(spec.features.as_deref(), spec.inputs)?;
        let last = spec.layers.len() - 1;
        let mut layers = Vec::with_capacity(spec.layers.len());
        let mut fan_in = features.len();
        let mut offset: usize = 0;
        let mut mask = ParamMask::default();
        for (i, ls) in spec.layers.iter().enumerate() {
            let field = |name: &str| format!("network.layers[{i}].{name}");
            if ls.units == 0 {
                return Err(Error::field(&field("units"), "must be at least 1"));
            }
            if ls.units > MAX_UNITS {
                return Err(Error::field(
                    &field("units"),
                    format!("= {} is too large (at most {MAX_UNITS})", ls.units),
                ));
            }
            if ls.activation == Activation::Softmax && i != last {
                return Err(Error::field(
                    &field("activation"),
                    "softmax is only allowed on the output layer",
                ));
            }
            if !(0.0..1.0).contains(&ls.dropout) {
                return Err(Error::field(
                    &field("dropout"),
                    format!("must be in [0, 1) (got {})", ls.dropout),
                ));
            }
            if ls.dropout > 0.0 && i == last {
                return Err(Error::field(
                    &field("dropout"),
                    "is not allowed on the output layer",
                ));
            }
            let param = match (ls.activation, ls.alpha, ls.beta, ls.omega) {
                (Activation::Swish, _, Some(b), _) => b,
                (Activation::LeakyRelu | Activation::Prelu | Activation::Elu, Some(a), _, _) => a,
                (Activation::Sine, _, _, Some(w)) => w,
                (act, _, _, _) => act.default_param(),
            };
            if !param.is_finite() {
                let name = match ls.activation {
                    Activation::Swish => "beta",
                    Activation::Sine => "omega",
                    _ => "alpha",
                };
                return Err(Error::field(&field(name), "must be a finite number"));
            }
            let units = ls.units;
            let n_w = units
                .checked_mul(fan_in)
                .filter(|&n| n <= MAX_PARAMS)
                .ok_or_else(|| {
                    Error::field(
                        &field("units"),
                        format!("{units} × {fan_in} weights are too many (the lab supports networks of at most {MAX_PARAMS} parameters)"),
                    )
                })?;
            let w = offset;
            let b = w + n_w;
            let mut end = b + units;
            let (gamma, beta) = if ls.batch_norm {
                end += 2 * units;
                (Some(b + units), Some(b + 2 * units))
            } else {
                (None, None)
            };
            let prelu = if ls.activation.is_learnable() {
                end += units;
                Some(end - units)
            } else {
                None
            };
            if end > MAX_PARAMS {
                return Err(Error::field(
                    "network.layers",
                    format!(
                        "need more than {MAX_PARAMS} parameters, the most the lab supports (train, save, replay)"
                    ),
                ));
            }
            layers.push(Layer {
                fan_in,
                units,
                activation: ls.activation,
                param,
                batch_norm: ls.batch_norm,
                dropout: ls.dropout,
                dropout_scaling: ls.dropout_scaling,
                residual: spec.residual && i != last && fan_in == units,
                w,
                b,
                gamma,
                beta,
                prelu,
                end,
                trainable: ls.trainable,
                init: ls.init,
            });
            if !ls.trainable {
                mask.frozen.push(w..end);
            }
            if let Some(text) = &ls.pruned {
                let bits = decode(text, n_w, &field("pruned"))?;
                mask.pruned.extend(
                    bits.iter()
                        .enumerate()
                        .filter(|(_, p)| **p)
                        .map(|(j, _)| w + j),
                );
            }
            offset = end;
            fan_in = units;
        }
        let out = &layers[last];
        let out_field = format!("network.layers[{last}].activation");
        match loss {
            Loss::Bce if out.activation != Activation::Sigmoid => {
                return Err(Error::field(
                    &out_field,
                    format!(
                        "must be sigmoid for loss bce (got {})",
                        out.activation.name()
                    ),
                ));
            }
            Loss::CrossEntropy if out.activation != Activation::Softmax => {
                return Err(Error::field(
                    &out_field,
                    format!(
                        "must be softmax for loss cross_entropy (got {})",
                        out.activation.name()
                    ),
                ));
            }
            Loss::Mse | Loss::Hinge if out.activation == Activation::Softmax => {
                return Err(Error::field(&out_field, "softmax needs loss cross_entropy"));
            }
            _ => {}
        }
        Ok(Network {
            inputs: spec.inputs,
            features,
            layers,
            loss,
            constraint: spec.weight_constraint,
            n_params: offset,
            mask,
        })
    }

    /// The output layer.
    pub fn output(&self) -> &Layer {
        &self.layers[self.layers.len() - 1]
    }

    /// Units of the output layer.
    pub fn output_units(&self) -> usize {
        self.output().units
    }

    /// How labels become targets for this network's output layer and loss.
    pub fn target_coding(&self, classes: usize) -> TargetCoding {
        let out = self.output();
        let pm1 = self.loss == Loss::Hinge
            || matches!(out.activation, Activation::Step | Activation::Tanh);
        if classes == 0 {
            TargetCoding::Real
        } else if out.units == 1 {
            if pm1 {
                TargetCoding::BinaryPm1
            } else {
                TargetCoding::Binary01
            }
        } else if pm1 {
            TargetCoding::OneHotPm1
        } else {
            TargetCoding::OneHot
        }
    }

    /// Does the data fit this network? (`classes` = 0 for regression.)
    pub fn check_data(&self, inputs: usize, classes: usize) -> Result<()> {
        if inputs != self.inputs {
            return Err(Error::field(
                "network.inputs",
                format!(
                    "is {} but the data has {inputs} input column(s)",
                    self.inputs
                ),
            ));
        }
        let last = self.layers.len() - 1;
        let units = self.output_units();
        let field = format!("network.layers[{last}].units");
        if classes == 0 {
            if units != 1 {
                return Err(Error::field(
                    &field,
                    format!("must be 1 for regression data (got {units})"),
                ));
            }
            if matches!(self.loss, Loss::Bce | Loss::CrossEntropy | Loss::Hinge) {
                return Err(Error::field(
                    "loss",
                    format!(
                        "{} needs class labels; use mse for regression data",
                        self.loss.name()
                    ),
                ));
            }
        } else if !(units == classes || (units == 1 && classes == 2)) {
            return Err(Error::field(
                &field,
                format!("must be {classes} (one per class) or 1 for two classes (got {units})"),
            ));
        } else if units == 1 && self.loss == Loss::CrossEntropy {
            return Err(Error::field(
                &field,
                "must be at least 2 for cross_entropy (use bce with one sigmoid output)",
            ));
        }
        Ok(())
    }

    /// f64 values one row takes in a [`Workspace`] (what [`prepare`](Self::prepare) sizes):
    /// the features, three error-signal buffers of the widest layer, and per layer u and f,
    /// plus a and the dropout mask, or z and x̂ with BatchNorm. Saturating.
    pub fn workspace_values_per_row(&self, dropout: bool) -> usize {
        let per_layer: usize = self
            .layers
            .iter()
            .map(|l| {
                let copies = 2
                    + usize::from(l.residual || (dropout && l.dropout > 0.0))
                    + usize::from(dropout && l.dropout > 0.0)
                    + 2 * usize::from(l.batch_norm);
                l.units.saturating_mul(copies)
            })
            .fold(0usize, usize::saturating_add);
        self.features
            .len()
            .saturating_add(self.widest().saturating_mul(3))
            .saturating_add(self.output_units())
            .saturating_add(per_layer)
    }

    /// Rows whose workspace stays within `values` f64 values (at least 1). Depends only on
    /// the shapes, so a computation split this way sums in the same order on every machine.
    pub fn rows_within(&self, values: usize) -> usize {
        (values / self.workspace_values_per_row(false).max(1)).max(1)
    }

    /// Size the workspace for `rows` rows (no-op when already that size).
    pub fn prepare(&self, ws: &mut Workspace, rows: usize, dropout: bool) {
        ws.rows = rows;
        resize(&mut ws.input, rows * self.features.len());
        ws.layers
            .resize_with(self.layers.len(), LayerCache::default);
        let max_units = self.widest();
        resize(&mut ws.d_cur, rows * max_units);
        resize(&mut ws.d_prev, rows * max_units);
        resize(&mut ws.d_tmp, rows * max_units);
        let widest = self.layers.iter().map(|l| l.units).max().unwrap_or(0);
        resize(&mut ws.sum_d, widest);
        resize(&mut ws.sum_dx, widest);
        resize(&mut ws.targets, rows * self.output_units());
        for (layer, c) in self.layers.iter().zip(ws.layers.iter_mut()) {
            let n = rows * layer.units;
            resize(&mut c.u, n);
            resize(&mut c.f, n);
            let use_dropout = dropout && layer.dropout > 0.0;
            if layer.residual || use_dropout {
                resize(&mut c.a, n);
            } else {
                c.a.clear();
            }
            if use_dropout {
                resize(&mut c.mask, n);
            } else {
                c.mask.clear();
            }
            if layer.batch_norm {
                resize(&mut c.z, n);
                resize(&mut c.xhat, n);
                resize(&mut c.mean, layer.units);
                resize(&mut c.invstd, layer.units);
                resize(&mut c.var, layer.units);
            }
        }
    }

    /// Forward pass over `rows` raw input rows `x` (rows × inputs). With `dropout` given, the
    /// pass is a training pass (dropout masks drawn from it).
    pub fn forward(
        &self,
        theta: &[f64],
        x: &[f64],
        rows: usize,
        ws: &mut Workspace,
        bn: BnMode,
        dropout: Option<&mut Rng>,
    ) {
        debug_assert_eq!(theta.len(), self.n_params);
        self.prepare(ws, rows, dropout.is_some());
        let nf = self.features.len();
        for r in 0..rows {
            let xr = &x[r * self.inputs..(r + 1) * self.inputs];
            let dst = &mut ws.input[r * nf..(r + 1) * nf];
            for (d, f) in dst.iter_mut().zip(&self.features) {
                *d = f.eval(xr);
            }
        }
        let mut dropout = dropout;
        for (i, layer) in self.layers.iter().enumerate() {
            let (before, rest) = ws.layers.split_at_mut(i);
            let cache = &mut rest[0];
            let prev: &[f64] = if i == 0 {
                &ws.input
            } else {
                before[i - 1].out()
            };
            let (m, n, k) = (rows, layer.units, layer.fan_in);
            let b = layer.bias(theta);
            let z = if layer.batch_norm {
                &mut cache.z
            } else {
                &mut cache.u
            };
            matmul_nt(
                view(m, k, prev),
                layer.weight_view(theta),
                view_mut(m, n, z),
            );
            for zr in z.chunks_exact_mut(n) {
                for (zj, bj) in zr.iter_mut().zip(b) {
                    *zj += bj;
                }
            }
            if layer.batch_norm {
                let gamma = &theta[layer.gamma.unwrap_or(0)..][..n];
                let beta = &theta[layer.beta.unwrap_or(0)..][..n];
                match bn {
                    BnMode::Batch => batch_mean_var(&cache.z, n, &mut cache.mean, &mut cache.var),
                    BnMode::Fixed(stats) => {
                        cache.mean.copy_from_slice(&stats.mean[i]);
                        cache.var.copy_from_slice(&stats.var[i]);
                    }
                }
                for j in 0..n {
                    cache.invstd[j] = 1.0 / (cache.var[j] + BN_EPS).sqrt();
                }
                for ((zr, xr), ur) in cache
                    .z
                    .chunks_exact(n)
                    .zip(cache.xhat.chunks_exact_mut(n))
                    .zip(cache.u.chunks_exact_mut(n))
                {
                    for j in 0..n {
                        xr[j] = (zr[j] - cache.mean[j]) * cache.invstd[j];
                        ur[j] = gamma[j] * xr[j] + beta[j];
                    }
                }
            }
            // Activation.
            if layer.activation == Activation::Softmax {
                for (ur, fr) in cache.u.chunks_exact(n).zip(cache.f.chunks_exact_mut(n)) {
                    let mx = ur.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let mut s = 0.0;
                    for (f, &u) in fr.iter_mut().zip(ur) {
                        *f = (u - mx).exp();
                        s += *f;
                    }
                    let inv = 1.0 / s;
                    fr.iter_mut().for_each(|f| *f *= inv);
                }
            } else if let Some(pa) = layer.prelu {
                let alpha = &theta[pa..pa + n];
                for (ur, fr) in cache.u.chunks_exact(n).zip(cache.f.chunks_exact_mut(n)) {
                    for j in 0..n {
                        fr[j] = layer.activation.value(ur[j], alpha[j]);
                    }
                }
            } else {
                let (act, p) = (layer.activation, layer.param);
                match act {
                    Activation::Relu => {
                        for (f, &u) in cache.f.iter_mut().zip(&cache.u) {
                            *f = u.max(0.0);
                        }
                    }
                    Activation::Tanh => tanh_slice(&cache.u, &mut cache.f),
                    Activation::Sigmoid => sigmoid_slice(&cache.u, &mut cache.f),
                    _ => {
                        for (f, &u) in cache.f.iter_mut().zip(&cache.u) {
                            *f = act.value(u, p);
                        }
                    }
                }
            }
            // Residual and dropout.
            if !cache.a.is_empty() {
                cache.a.copy_from_slice(&cache.f);
                if layer.residual {
                    for (a, &p) in cache.a.iter_mut().zip(prev) {
                        *a += p;
                    }
                }
                if !cache.mask.is_empty() {
                    let rng = dropout
                        .as_deref_mut()
                        .expect("mask only with a dropout rng");
                    let keep = 1.0 - layer.dropout;
                    let scale = match layer.dropout_scaling {
                        DropoutScaling::Inverted => 1.0 / keep,
                        DropoutScaling::None => 1.0,
                    };
                    for (mk, a) in cache.mask.iter_mut().zip(cache.a.iter_mut()) {
                        *mk = if rng.uniform() < keep { scale } else { 0.0 };
                        *a *= *mk;
                    }
                }
            }
        }
    }

    /// The output rows (rows × output units) of the last forward pass.
    pub fn outputs<'a>(&self, ws: &'a Workspace) -> &'a [f64] {
        &ws.layers[self.layers.len() - 1].f
    }

    /// Fill the workspace targets from labels `y` with the given coding.
    pub fn set_targets(&self, ws: &mut Workspace, y: &[f64], coding: TargetCoding) {
        let k = self.output_units();
        for (t, &yi) in ws.targets.chunks_exact_mut(k).zip(y) {
            coding.fill(yi, t);
        }
    }

    /// Sum over rows of the per-row loss of the last forward pass; writes the error signal
    /// ∂(scale·Σℓ)/∂u of the output layer into the workspace for `backward`.
    pub fn loss_and_output_delta(&self, theta: &[f64], ws: &mut Workspace, scale: f64) -> f64 {
        let out = self.output();
        let n = out.units;
        let rows = ws.rows;
        let cache = &ws.layers[self.layers.len() - 1];
        let mut total = 0.0;
        for r in 0..rows {
            let p = match out.prelu {
                Some(_) => 0.0,
                None => out.param,
            };
            let s = r * n..(r + 1) * n;
            if let Some(pa) = out.prelu {
                // PReLU output: per-unit α.
                for j in 0..n {
                    let sj = r * n + j..r * n + j + 1;
                    total += row_loss_and_grad(
                        self.loss,
                        out.activation,
                        theta[pa + j],
                        &cache.u[sj.clone()],
                        &cache.f[sj.clone()],
                        &ws.targets[sj.clone()],
                        scale,
                        &mut ws.d_cur[sj],
                    );
                }
            } else {
                total += row_loss_and_grad(
                    self.loss,
                    out.activation,
                    p,
                    &cache.u[s.clone()],
                    &cache.f[s.clone()],
                    &ws.targets[s.clone()],
                    scale,
                    &mut ws.d_cur[s],
                );
            }
        }
        total
    }

    /// Backward pass after `forward` and `loss_and_output_delta`: accumulates ∂L/∂θ into
    /// `grad` (which the caller zeroes). `feedback` replaces W by fixed matrices when the
    /// error travels back (feedback alignment); same layout as θ.
    pub fn backward(
        &self,
        theta: &[f64],
        ws: &mut Workspace,
        bn: BnMode,
        grad: &mut [f64],
        feedback: Option<&[f64]>,
    ) {
        let rows = ws.rows;
        let last = self.layers.len() - 1;
        // d_cur holds ∂L/∂u of the output layer; for hidden layers it holds ∂L/∂a.
        for i in (0..=last).rev() {
            let layer = &self.layers[i];
            let n = layer.units;
            let k = layer.fan_in;
            let (before, rest) = ws.layers.split_at_mut(i);
            let cache = &mut rest[0];
            let prev: &[f64] = if i == 0 {
                &ws.input
            } else {
                before[i - 1].out()
            };
            let d = &mut ws.d_cur[..rows * n];
            // skip gradient for the residual: ∂L/∂(f + a_prev) after the mask.
            if i != last {
                if !cache.mask.is_empty() {
                    for (dv, mk) in d.iter_mut().zip(&cache.mask) {
                        *dv *= mk;
                    }
                }
                // d now holds ∂L/∂f (and ∂L/∂a_prev through the skip).
                if layer.residual {
                    ws.d_prev[..rows * k].copy_from_slice(d);
                }
                if let Some(pa) = layer.prelu {
                    let ga = &mut grad[pa..pa + n];
                    let alpha = &theta[pa..pa + n];
                    for (dr, ur) in d.chunks_exact_mut(n).zip(cache.u.chunks_exact(n)) {
                        for j in 0..n {
                            ga[j] += dr[j] * layer.activation.dparam(ur[j]);
                            dr[j] *= layer.activation.deriv(ur[j], 0.0, alpha[j]);
                        }
                    }
                } else {
                    let (act, p) = (layer.activation, layer.param);
                    match act {
                        Activation::Relu => {
                            for (dv, &u) in d.iter_mut().zip(&cache.u) {
                                if u <= 0.0 {
                                    *dv = 0.0;
                                }
                            }
                        }
                        Activation::Tanh => {
                            for (dv, &f) in d.iter_mut().zip(&cache.f) {
                                *dv *= 1.0 - f * f;
                            }
                        }
                        Activation::Sigmoid => {
                            for (dv, &f) in d.iter_mut().zip(&cache.f) {
                                *dv *= f * (1.0 - f);
                            }
                        }
                        _ => {
                            for ((dv, &u), &f) in d.iter_mut().zip(&cache.u).zip(&cache.f) {
                                *dv *= act.deriv(u, f, p);
                            }
                        }
                    }
                }
            } else if let Some(pa) = layer.prelu {
                // Output PReLU: d holds ∂L/∂u already; α's gradient needs ∂L/∂f = d / f′(u).
                let ga = &mut grad[pa..pa + n];
                let alpha = &theta[pa..pa + n];
                for (dr, ur) in d.chunks_exact(n).zip(cache.u.chunks_exact(n)) {
                    for j in 0..n {
                        let fp = layer.activation.deriv(ur[j], 0.0, alpha[j]);
                        if fp != 0.0 {
                            ga[j] += dr[j] / fp * layer.activation.dparam(ur[j]);
                        }
                    }
                }
            }
            // d = ∂L/∂u. Through BatchNorm to ∂L/∂z.
            if layer.batch_norm {
                let (g0, b0) = (layer.gamma.unwrap_or(0), layer.beta.unwrap_or(0));
                let gamma = &theta[g0..g0 + n];
                for (dr, xr) in d.chunks_exact(n).zip(cache.xhat.chunks_exact(n)) {
                    for j in 0..n {
                        grad[g0 + j] += dr[j] * xr[j];
                        grad[b0 + j] += dr[j];
                    }
                }
                match bn {
                    BnMode::Batch => {
                        // dz = γ·invstd/m · (m·du − Σdu − x̂·Σ(du·x̂))
                        let m = rows as f64;
                        let sum_d = &mut ws.sum_d[..n];
                        let sum_dx = &mut ws.sum_dx[..n];
                        sum_d.fill(0.0);
                        sum_dx.fill(0.0);
                        for (dr, xr) in d.chunks_exact(n).zip(cache.xhat.chunks_exact(n)) {
                            for j in 0..n {
                                sum_d[j] += dr[j];
                                sum_dx[j] += dr[j] * xr[j];
                            }
                        }
                        for (dr, xr) in d.chunks_exact_mut(n).zip(cache.xhat.chunks_exact(n)) {
                            for j in 0..n {
                                dr[j] = gamma[j] * cache.invstd[j] / m
                                    * (m * dr[j] - sum_d[j] - xr[j] * sum_dx[j]);
                            }
                        }
                    }
                    BnMode::Fixed(_) => {
                        for dr in d.chunks_exact_mut(n) {
                            for j in 0..n {
                                dr[j] *= gamma[j] * cache.invstd[j];
                            }
                        }
                    }
                }
            }
            // d = ∂L/∂z. Parameters of the linear map.
            matmul_tn_acc(
                view(rows, n, d),
                view(rows, k, prev),
                layer.weight_view_mut(grad),
            );
            let gb = &mut grad[layer.b..layer.b + n];
            for dr in d.chunks_exact(n) {
                for (g, dv) in gb.iter_mut().zip(dr) {
                    *g += dv;
                }
            }
            if i > 0 {
                let w = layer.weight_view(feedback.unwrap_or(theta));
                let d = view(rows, n, d);
                if layer.residual {
                    // d_prev already holds the skip part; the error is δ·W plus it.
                    matmul_nn(d, w, view_mut(rows, k, &mut ws.d_tmp));
                    for (o, s) in ws.d_tmp[..rows * k].iter_mut().zip(&ws.d_prev[..rows * k]) {
                        *o += s;
                    }
                    std::mem::swap(&mut ws.d_cur, &mut ws.d_tmp);
                } else {
                    matmul_nn(d, w, view_mut(rows, k, &mut ws.d_prev));
                    std::mem::swap(&mut ws.d_cur, &mut ws.d_prev);
                }
            }
        }
    }

    /// Σ over weights (not biases) of l1·|W| + l2·½W², and its gradient added into `grad`.
    pub fn regularise(&self, theta: &[f64], l1: f64, l2: f64, grad: Option<&mut [f64]>) -> f64 {
        if l1 == 0.0 && l2 == 0.0 {
            return 0.0;
        }
        let mut value = 0.0;
        let mut grad = grad;
        for layer in &self.layers {
            let r = layer.w..layer.w + layer.n_weights();
            for (j, &w) in theta[r.clone()].iter().enumerate() {
                value += l1 * w.abs() + 0.5 * l2 * w * w;
                if let Some(g) = grad.as_deref_mut() {
                    g[r.start + j] += l1 * sign(w) + l2 * w;
                }
            }
        }
        value
    }

    /// Project θ onto the weight constraint (non-negative weights).
    pub fn constrain(&self, theta: &mut [f64]) {
        if self.constraint == WeightConstraint::Nonnegative {
            for layer in &self.layers {
                for w in &mut theta[layer.w..layer.w + layer.n_weights()] {
                    *w = w.max(0.0);
                }
            }
        }
    }

    /// The BatchNorm statistics of the last forward pass (for evaluating other rows with them).
    pub fn bn_stats(&self, ws: &Workspace) -> BnStats {
        let mut s = BnStats::default();
        for (layer, c) in self.layers.iter().zip(&ws.layers) {
            if layer.batch_norm {
                s.mean.push(c.mean.clone());
                s.var.push(c.var.clone());
            } else {
                s.mean.push(Vec::new());
                s.var.push(Vec::new());
            }
        }
        s
    }

    /// Does any layer normalise with BatchNorm?
    pub fn has_batch_norm(&self) -> bool {
        self.layers.iter().any(|l| l.batch_norm)
    }

    /// The largest fan-in or unit count of any layer: the width of a per-row signal buffer.
    pub fn widest(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.units.max(l.fan_in))
            .max()
            .unwrap_or(0)
    }

    /// Per-layer ‖W‖_F.
    pub fn weight_norms(&self, theta: &[f64]) -> Vec<f64> {
        self.layers.iter().map(|l| norm(l.weights(theta))).collect()
    }

    /// A short text like `2 → 8 tanh → 8 tanh → 1 sigmoid`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}", self.features.len());
        for l in &self.layers {
            s.push_str(&format!(" → {} {}", l.units, l.activation.name()));
        }
        s
    }
}

/// Per-column mean and biased variance of the rows of `z` (rows × n): BatchNorm's batch
/// statistics.
pub fn batch_mean_var(z: &[f64], n: usize, mean: &mut [f64], var: &mut [f64]) {
    let m = z.len() / n.max(1);
    mean.fill(0.0);
    var.fill(0.0);
    for zr in z.chunks_exact(n) {
        for (mj, zj) in mean.iter_mut().zip(zr) {
            *mj += zj;
        }
    }
    let inv_m = 1.0 / m as f64;
    mean.iter_mut().for_each(|v| *v *= inv_m);
    for zr in z.chunks_exact(n) {
        for j in 0..n {
            let d = zr[j] - mean[j];
            var[j] += d * d;
        }
    }
    var.iter_mut().for_each(|v| *v *= inv_m);
}

#[inline]
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
