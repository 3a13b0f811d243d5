//! What the designer edits (`"network": {...}`), and the loss.

use serde::{Deserialize, Serialize};

use super::activation::Activation;

/// `"network": {...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// Number of raw input columns of the data.
    pub inputs: usize,
    /// The layers, input side first; the last is the output layer.
    pub layers: Vec<LayerSpec>,
    /// How the weights start.
    #[serde(default)]
    pub init: Init,
    /// Scale for `constant` (the value), `uniform` (half-width), `normal` (std) and
    /// `orthogonal` (the gain).
    #[serde(default = "default_init_scale")]
    pub init_scale: f64,
    /// Fixed features computed from the raw columns before the first layer
    /// (`x1`, `x1^2`, `x1*x2`, `sin(x1)`, `cos(x1)`); absent means the raw columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Identity skip connection on every hidden layer whose input and output widths match.
    #[serde(default)]
    pub residual: bool,
    /// A constraint on the weights, kept after every update.
    #[serde(default)]
    pub weight_constraint: WeightConstraint,
}

impl NetworkSpec {
    /// `layers` on `inputs` raw columns, everything else as a session file leaves it by
    /// default (Xavier normal, the raw columns as features, no skips, no constraint).
    pub fn new(inputs: usize, layers: Vec<LayerSpec>) -> Self {
        NetworkSpec {
            inputs,
            layers,
            init: Init::default(),
            init_scale: default_init_scale(),
            features: None,
            residual: false,
            weight_constraint: WeightConstraint::None,
        }
    }

    /// The feature names in force: `features`, or the raw columns `x1 … xn` when absent.
    pub fn feature_names(&self) -> Vec<String> {
        match &self.features {
            Some(f) => f.clone(),
            None => (1..=self.inputs).map(|i| format!("x{i}")).collect(),
        }
    }
}

fn default_init_scale() -> f64 {
    0.1
}

/// `"layers": [{...}]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    /// Number of units.
    pub units: usize,
    /// The units' activation.
    pub activation: Activation,
    /// α of `leaky_relu` (default 0.01), `elu` (default 1), initial α of `prelu` (default 0.25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// β of `swish` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// ω₀ of `sine` (default 1): f(u) = sin(ω₀u).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega: Option<f64>,
    /// Normalise the pre-activation over the batch, then scale by γ and shift by β.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch_norm: bool,
    /// Probability of zeroing each unit's output while training (hidden layers only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// How dropout scales the kept units.
    #[serde(default, skip_serializing_if = "DropoutScaling::is_default")]
    pub dropout_scaling: DropoutScaling,
    /// `false`: training never changes this layer's parameters (a frozen layer; a 2-p-1 net
    /// with a frozen first layer is a random-features model).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub trainable: bool,
    /// This layer's initialiser instead of `network.init` (e.g. `zeros` for the readout of a
    /// random-features model, so gradient descent starts from 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    /// Pruning mask over the weights, compactly: hex digits, bit i (least significant bit of
    /// digit i/4 first) set when weight i (row-major, units × fan_in) is pruned. Pruned weights
    /// are 0 and stay 0 under every optimiser and regulariser. See [`super::mask`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl LayerSpec {
    /// A layer of `units` with `activation`, nothing else (no BatchNorm, no dropout).
    pub fn new(units: usize, activation: Activation) -> Self {
        LayerSpec {
            units,
            activation,
            alpha: None,
            beta: None,
            omega: None,
            batch_norm: false,
            dropout: 0.0,
            dropout_scaling: DropoutScaling::Inverted,
            trainable: true,
            init: None,
            pruned: None,
        }
    }
}

/// Inverted dropout scales kept units by 1/(1−p) while training so test-time outputs match;
/// `none` does not, which shows the train/test mismatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DropoutScaling {
    /// Kept units are scaled by 1/(1−p) while training.
    #[default]
    Inverted,
    /// No scaling: test-time outputs are (1−p) too large relative to training.
    None,
}

impl DropoutScaling {
    fn is_default(&self) -> bool {
        *self == DropoutScaling::Inverted
    }
}

/// A constraint on the weights, kept by projection after every update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeightConstraint {
    /// None.
    #[default]
    None,
    /// Weights (not biases) are projected to ≥ 0 after every update: monotone networks.
    Nonnegative,
}

/// Weight initialiser. Biases start at zero (BatchNorm γ at 1, β at 0, PReLU α at `alpha`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Every weight 0 (the symmetry lesson: units never differ).
    Zeros,
    /// Every weight equal to `init_scale`.
    Constant,
    /// U(−init_scale, init_scale).
    Uniform,
    /// N(0, init_scale²).
    Normal,
    /// U(−a, a), a = √(6/(fan_in+fan_out)).
    XavierUniform,
    /// N(0, 2/(fan_in+fan_out)).
    #[default]
    XavierNormal,
    /// U(−a, a), a = √(6/fan_in).
    HeUniform,
    /// N(0, 2/fan_in).
    HeNormal,
    /// `init_scale` × a random orthogonal matrix (QR of a Gaussian; Saxe et al. 2014): every
    /// singular value of W equals `init_scale`, the gain.
    Orthogonal,
    /// SIREN's (Sitzmann et al. 2020): the first layer U(−1/fan_in, 1/fan_in), every later one
    /// U(−a, a) with a = √(6/fan_in)/ω₀, ω₀ that of the layer's `sine` (or of the last sine
    /// layer below it; 1 if none), so that ω₀·u is spread like U(−√6, √6) at every depth.
    Siren,
}

/// Per-sample loss; the objective is its mean over the rows plus the regulariser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// ½‖ŷ − y‖².
    Mse,
    /// Binary cross-entropy of a sigmoid output, computed from the logit.
    Bce,
    /// Cross-entropy of a softmax output, computed from the logits.
    CrossEntropy,
    /// max(0, 1 − t·ŷ) per output, targets t ∈ {−1, +1}.
    Hinge,
}

impl Loss {
    /// Every loss, in the order the designer lists them.
    pub const ALL: [Loss; 4] = [Loss::Mse, Loss::Bce, Loss::CrossEntropy, Loss::Hinge];

    /// The name in session files.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Bce => "bce",
            Loss::CrossEntropy => "cross_entropy",
            Loss::Hinge => "hinge",
        }
    }
}
