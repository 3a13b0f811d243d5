//! What the session file says about training (`"optimizer": {...}`, `"regularization": {...}`).

use serde::{Deserialize, Serialize};

/// The update rule applied to θ given ∂L/∂θ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Full-batch gradient descent (batch_size is ignored: every step sees all training rows).
    Gd,
    /// Plain mini-batch SGD.
    Sgd,
    /// Heavy-ball momentum: v ← μv + g; θ ← θ − ηv.
    Momentum,
    /// Nesterov momentum (PyTorch form): v ← μv + g; θ ← θ − η(g + μv).
    Nesterov,
    /// AdaGrad: s ← s + g²; θ ← θ − ηg/(√s + ε).
    Adagrad,
    /// RMSprop: s ← ρs + (1−ρ)g²; θ ← θ − ηg/(√s + ε).
    Rmsprop,
    /// Adam with bias correction.
    Adam,
    /// Shorthand for `rule: perceptron` (Rosenblatt's rule; plain updates).
    Perceptron,
    /// Shorthand for `rule: feedback_alignment` with plain SGD updates.
    FeedbackAlignment,
}

/// How the gradient signal is formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TrainingRule {
    /// Exact gradients by back-propagation.
    #[default]
    Backprop,
    /// Rosenblatt: for one step-activation layer, w ← w + η·t·x on each mistake.
    Perceptron,
    /// Lillicrap et al.: errors travel back through fixed random matrices B instead of Wᵀ.
    FeedbackAlignment,
}

/// Learning-rate schedule η(t), t = optimiser steps taken so far.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// η at every step.
    #[default]
    Constant,
    /// η·gamma^⌊t/every⌋.
    Step {
        /// Steps between two drops.
        every: u64,
        /// Factor of each drop.
        gamma: f64,
    },
    /// η·gamma^t.
    Exponential {
        /// Factor per step.
        gamma: f64,
    },
    /// η_min + ½(η − η_min)(1 + cos(π·min(t, period)/period)).
    Cosine {
        /// Steps from η down to η_min (then η_min stays).
        period: u64,
        /// η_min.
        min_lr: f64,
    },
}

/// `"optimizer": {...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    /// The update rule.
    pub kind: OptimizerKind,
    /// The learning rate η (before the schedule).
    pub lr: f64,
    /// Rows per mini-batch (at least the training set: full-batch gradient descent).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Momentum / Nesterov μ.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Adam β₁.
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    /// Adam β₂.
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// RMSprop ρ.
    #[serde(default = "default_rho")]
    pub rho: f64,
    /// ε in the denominators of AdaGrad, RMSprop and Adam.
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// How η changes with the step.
    #[serde(default)]
    pub schedule: Schedule,
    /// Rescale the gradient so its global L2 norm is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,
    /// Clamp each gradient component to [−v, v].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_value: Option<f64>,
    /// Where the update direction comes from (back-propagation, or a rule the `kind` implies).
    #[serde(default)]
    pub rule: TrainingRule,
}

fn default_batch() -> usize {
    32
}
fn default_momentum() -> f64 {
    0.9
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_rho() -> f64 {
    0.9
}
fn default_eps() -> f64 {
    1e-8
}

impl OptimizerSpec {
    /// `kind` at learning rate `lr` and `batch_size`, everything else at its default
    /// (μ = 0.9, β₁ = 0.9, β₂ = 0.999, ρ = 0.9, ε = 1e-8, constant η, no clipping).
    pub fn new(kind: OptimizerKind, lr: f64, batch_size: usize) -> Self {
        OptimizerSpec {
            kind,
            lr,
            batch_size,
            momentum: default_momentum(),
            beta1: default_beta1(),
            beta2: default_beta2(),
            rho: default_rho(),
            eps: default_eps(),
            schedule: Schedule::Constant,
            clip_norm: None,
            clip_value: None,
            rule: TrainingRule::Backprop,
        }
    }

    /// The rule in force, with the `kind` shorthands resolved.
    pub fn effective_rule(&self) -> TrainingRule {
        match self.kind {
            OptimizerKind::Perceptron => TrainingRule::Perceptron,
            OptimizerKind::FeedbackAlignment => TrainingRule::FeedbackAlignment,
            _ => self.rule,
        }
    }
}

/// `"regularization": {...}`: objective += l1·Σ|W| + l2·½ΣW² over weights (not biases).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Regularization {
    /// Weight of Σ|W|.
    #[serde(default)]
    pub l1: f64,
    /// Weight of ½ΣW².
    #[serde(default)]
    pub l2: f64,
}
