//! The optimiser state and the update rules.

use serde::{Deserialize, Serialize};

use super::schedule::scheduled_lr;
use super::spec::{OptimizerKind, OptimizerSpec};

/// Optimiser state: the spec in force, the step counter and the per-parameter vectors.
///
/// Saved in sessions. Which vectors are in use depends on `spec.kind`; the others are empty:
///
/// | kind                                    | `velocity` | `second_moment` |
/// |-----------------------------------------|------------|-----------------|
/// | gd, sgd, perceptron, feedback_alignment | —          | —               |
/// | momentum, nesterov                      | v          | —               |
/// | adagrad, rmsprop                        | —          | s               |
/// | adam                                    | m          | v               |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    spec: OptimizerSpec,
    /// Steps taken (drives the learning-rate schedule).
    t: u64,
    /// Steps accumulated into the current state vectors; equals `t` unless the state was reset
    /// by a change of kind (or of the parameter count). Adam's bias correction uses it, so that
    /// freshly zeroed moments are corrected as at the start of training.
    #[serde(default)]
    state_steps: u64,
    /// Length of θ the state vectors are sized for.
    n_params: usize,
    /// Momentum/Nesterov velocity v, Adam first moment m.
    #[serde(default, with = "crate::json_float::vec")]
    velocity: Vec<f64>,
    /// AdaGrad / RMSprop accumulator s, Adam second moment v.
    #[serde(default, with = "crate::json_float::vec")]
    second_moment: Vec<f64>,
}

/// Which state vectors a kind uses: (velocity / first moment, second moment).
fn state_shape(kind: OptimizerKind) -> (bool, bool) {
    match kind {
        OptimizerKind::Gd
        | OptimizerKind::Sgd
        | OptimizerKind::Perceptron
        | OptimizerKind::FeedbackAlignment => (false, false),
        OptimizerKind::Momentum | OptimizerKind::Nesterov => (true, false),
        OptimizerKind::Adagrad | OptimizerKind::Rmsprop => (false, true),
        OptimizerKind::Adam => (true, true),
    }
}

impl Optimizer {
    /// A fresh optimiser for `n_params` parameters: t = 0, all state zero.
    pub fn new(spec: &OptimizerSpec, n_params: usize) -> Self {
        let mut opt = Optimizer {
            spec: spec.clone(),
            t: 0,
            state_steps: 0,
            n_params,
            velocity: Vec::new(),
            second_moment: Vec::new(),
        };
        opt.reset_state();
        opt
    }

    /// Zero (and size) the state vectors the current kind uses, free the others.
    fn reset_state(&mut self) {
        let (first, second) = state_shape(self.spec.kind);
        let n = self.n_params;
        for (vec, used) in [
            (&mut self.velocity, first),
            (&mut self.second_moment, second),
        ] {
            vec.clear();
            if used {
                vec.resize(n, 0.0);
            } else {
                vec.shrink_to_fit();
            }
        }
        self.state_steps = 0;
    }

    /// Whether the state vectors the kind uses have length `n_params` (they may not after
    /// deserialising a hand-edited or truncated session).
    fn state_fits(&self) -> bool {
        let (first, second) = state_shape(self.spec.kind);
        (!first || self.velocity.len() == self.n_params)
            && (!second || self.second_moment.len() == self.n_params)
    }

    /// Live edit (lr, momentum, kind …) between steps.
    ///
    /// The same kind keeps its state vectors (new hyper-parameters apply from the next step on).
    /// A change of kind — even between momentum and nesterov — zeroes the state vectors; the
    /// step counter t (and so the schedule) carries on.
    pub fn set_spec(&mut self, spec: &OptimizerSpec) {
        let kind_changed = spec.kind != self.spec.kind;
        self.spec = spec.clone();
        if kind_changed {
            self.reset_state();
        }
    }

    /// The settings in force.
    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// η at the current step t (schedule applied): the rate the next [`step`](Self::step) uses.
    pub fn learning_rate(&self) -> f64 {
        scheduled_lr(self.spec.lr, &self.spec.schedule, self.t)
    }

    /// The velocity / first-moment vector if the optimiser has one (momentum, nesterov: v;
    /// adam: m), for energy plots.
    pub fn velocity(&self) -> Option<&[f64]> {
        match self.spec.kind {
            OptimizerKind::Momentum | OptimizerKind::Nesterov | OptimizerKind::Adam => {
                Some(self.velocity.as_slice())
            }
            _ => None,
        }
    }

    /// Steps accumulated into the current state vectors (Adam's bias correction uses it).
    pub fn state_steps(&self) -> u64 {
        self.state_steps
    }

    /// Length of θ the state is sized for.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// The raw state vectors (velocity / first moment, second moment); empty when unused.
    pub fn state_vectors(&self) -> (&[f64], &[f64]) {
        (&self.velocity, &self.second_moment)
    }

    /// Check a deserialised optimiser against a network of `n_params` parameters: a valid spec,
    /// the right size, and the state vectors its kind uses of exactly that length (unused ones
    /// empty). `what` names the field in the message (e.g. `state.optimizer`).
    pub fn check(&self, n_params: usize, what: &str) -> crate::error::Result<()> {
        super::validate(&self.spec).map_err(|e| e.context(format!("{what}.spec")))?;
        if self.n_params != n_params {
            return Err(crate::Error::new(format!(
                "{what}.n_params is {} but the network has {n_params} parameters",
                self.n_params
            )));
        }
        let (first, second) = state_shape(self.spec.kind);
        for (name, v, used) in [
            ("velocity", &self.velocity, first),
            ("second_moment", &self.second_moment, second),
        ] {
            let want = if used { n_params } else { 0 };
            if v.len() != want {
                let kind = serde_json::to_value(self.spec.kind).unwrap_or_default();
                return Err(crate::Error::new(format!(
                    "{what}.{name} has {} values but {} needs {want}",
                    v.len(),
                    kind.as_str().unwrap_or("this optimizer")
                )));
            }
        }
        if self.state_steps > self.t {
            return Err(crate::Error::new(format!(
                "{what}.state_steps ({}) exceeds the step count t ({})",
                self.state_steps, self.t
            )));
        }
        Ok(())
    }

    /// One optimisation step. Returns the learning rate η used.
    ///
    /// Clips `grad` in place (clip_value first, then clip_norm on the global L2 norm; see
    /// [`clip_gradient`]), then updates `theta` in place; t ← t + 1. With g the clipped
    /// gradient, η = [`learning_rate`](Self::learning_rate)() and k the number of steps already
    /// accumulated into the state (k = t for an optimiser whose kind never changed):
    ///
    /// * gd, sgd, perceptron, feedback_alignment: θ ← θ − ηg
    /// * momentum: v ← μv + g; θ ← θ − ηv
    /// * nesterov (PyTorch form): v ← μv + g; θ ← θ − η(g + μv)
    /// * adagrad: s ← s + g²; θ ← θ − ηg/(√s + ε)
    /// * rmsprop: s ← ρs + (1−ρ)g²; θ ← θ − ηg/(√s + ε)
    /// * adam: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; m̂ = m/(1−β₁^(k+1));
    ///   v̂ = v/(1−β₂^(k+1)); θ ← θ − η m̂/(√v̂ + ε)
    ///
    /// Does not allocate, except once if θ's length differs from the one the state was sized
    /// for (or a deserialised state vector has the wrong length): the state is then re-sized
    /// and zeroed, as after a change of kind.
    ///
    /// # Panics
    /// If `theta` and `grad` have different lengths.
    pub fn step(&mut self, theta: &mut [f64], grad: &mut [f64]) -> f64 {
        assert_eq!(
            theta.len(),
            grad.len(),
            "optimizer: θ and gradient lengths differ"
        );
        if theta.len() != self.n_params || !self.state_fits() {
            self.n_params = theta.len();
            self.reset_state();
        }
        let lr = self.learning_rate();
        if self.spec.clip_value.is_some() || self.spec.clip_norm.is_some() {
            clip_gradient(grad, self.spec.clip_value, self.spec.clip_norm);
        }
        let grad: &[f64] = grad;
        let s = &self.spec;
        match s.kind {
            OptimizerKind::Gd
            | OptimizerKind::Sgd
            | OptimizerKind::Perceptron
            | OptimizerKind::FeedbackAlignment => plain(theta, grad, lr),
            OptimizerKind::Momentum => momentum(theta, grad, &mut self.velocity, lr, s.momentum),
            OptimizerKind::Nesterov => nesterov(theta, grad, &mut self.velocity, lr, s.momentum),
            OptimizerKind::Adagrad => adagrad(theta, grad, &mut self.second_moment, lr, s.eps),
            OptimizerKind::Rmsprop => {
                rmsprop(theta, grad, &mut self.second_moment, lr, s.rho, s.eps)
            }
            OptimizerKind::Adam => {
                // Bias corrections, once per step: 1 − β^(k+1).
                let k1 = self.state_steps.saturating_add(1) as f64;
                let inv_bc1 = 1.0 / (1.0 - s.beta1.powf(k1));
                let inv_bc2 = 1.0 / (1.0 - s.beta2.powf(k1));
                adam(
                    theta,
                    grad,
                    (&mut self.velocity, &mut self.second_moment),
                    lr,
                    (s.beta1, s.beta2, s.eps),
                    (inv_bc1, inv_bc2),
                );
            }
        }
        self.t = self.t.saturating_add(1);
        self.state_steps = self.state_steps.saturating_add(1);
        lr
    }
}

// The update kernels. Each zips equal-length slices so that LLVM drops the bounds checks and
// vectorises the loop (the state vectors always have θ's length when these run).

/// θ ← θ − ηg
#[inline]
fn plain(theta: &mut [f64], grad: &[f64], lr: f64) {
    for (p, &g) in theta.iter_mut().zip(grad) {
        *p -= lr * g;
    }
}

/// v ← μv + g; θ ← θ − ηv
#[inline]
fn momentum(theta: &mut [f64], grad: &[f64], v: &mut [f64], lr: f64, mu: f64) {
    for ((p, &g), v) in theta.iter_mut().zip(grad).zip(v.iter_mut()) {
        *v = mu * *v + g;
        *p -= lr * *v;
    }
}

/// v ← μv + g; θ ← θ − η(g + μv)
#[inline]
fn nesterov(theta: &mut [f64], grad: &[f64], v: &mut [f64], lr: f64, mu: f64) {
    for ((p, &g), v) in theta.iter_mut().zip(grad).zip(v.iter_mut()) {
        *v = mu * *v + g;
        *p -= lr * (g + mu * *v);
    }
}

/// s ← s + g²; θ ← θ − ηg/(√s + ε)
#[inline]
fn adagrad(theta: &mut [f64], grad: &[f64], s: &mut [f64], lr: f64, eps: f64) {
    for ((p, &g), s) in theta.iter_mut().zip(grad).zip(s.iter_mut()) {
        *s += g * g;
        *p -= lr * g / (s.sqrt() + eps);
    }
}

/// s ← ρs + (1−ρ)g²; θ ← θ − ηg/(√s + ε)
#[inline]
fn rmsprop(theta: &mut [f64], grad: &[f64], s: &mut [f64], lr: f64, rho: f64, eps: f64) {
    let one_m_rho = 1.0 - rho;
    for ((p, &g), s) in theta.iter_mut().zip(grad).zip(s.iter_mut()) {
        *s = rho * *s + one_m_rho * (g * g);
        *p -= lr * g / (s.sqrt() + eps);
    }
}

/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − η·(m/bc₁)/(√(v/bc₂) + ε),
/// with `inv_bc` = (1/bc₁, 1/bc₂) precomputed by the caller.
#[inline]
fn adam(
    theta: &mut [f64],
    grad: &[f64],
    (m, v): (&mut [f64], &mut [f64]),
    lr: f64,
    (beta1, beta2, eps): (f64, f64, f64),
    (inv_bc1, inv_bc2): (f64, f64),
) {
    let (one_m_b1, one_m_b2) = (1.0 - beta1, 1.0 - beta2);
    for (((p, &g), m), v) in theta
        .iter_mut()
        .zip(grad)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        *m = beta1 * *m + one_m_b1 * g;
        *v = beta2 * *v + one_m_b2 * (g * g);
        let m_hat = *m * inv_bc1;
        let v_hat = *v * inv_bc2;
        *p -= lr * m_hat / (v_hat.sqrt() + eps);
    }
}

/// Σ xᵢ² with four independent accumulators (a single accumulator is a serial dependency chain
/// that LLVM may not reorder, so it would not vectorise).
#[inline]
fn sum_squares(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = x.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &xi) in acc.iter_mut().zip(c) {
            *a += xi * xi;
        }
    }
    let mut rest = 0.0;
    for &xi in tail {
        rest += xi * xi;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// ‖x‖₂, falling back to a rescaled sum when Σx² overflows although every xᵢ is finite.
fn l2_norm(x: &[f64]) -> f64 {
    let sq = sum_squares(x);
    if sq.is_finite() || sq.is_nan() {
        return sq.sqrt();
    }
    let max = x.iter().fold(0.0f64, |m, &xi| m.max(xi.abs()));
    if !max.is_finite() || max == 0.0 {
        return sq.sqrt();
    }
    let inv = 1.0 / max;
    let scaled: f64 = x.iter().map(|&xi| (xi * inv) * (xi * inv)).sum();
    max * scaled.sqrt()
}

/// Clip `grad` in place and return its global L2 norm before any clipping.
///
/// First every component is clamped to [−clip_value, clip_value]; then, if the L2 norm of the
/// (value-clipped) vector exceeds clip_norm, the vector is rescaled to norm clip_norm (its
/// direction kept). Limits that are not > 0 (or NaN) are ignored here; [`validate`] rejects
/// them.
///
/// [`validate`]: super::validate
pub fn clip_gradient(grad: &mut [f64], clip_value: Option<f64>, clip_norm: Option<f64>) -> f64 {
    let norm = l2_norm(grad);
    let mut clipped_norm = norm;
    // No component can exceed c when the whole norm does not. `clamp` keeps NaN visible.
    if let Some(c) = clip_value.filter(|&c| c > 0.0)
        && (norm.is_nan() || norm > c)
    {
        for g in grad.iter_mut() {
            *g = g.clamp(-c, c);
        }
        if clip_norm.is_some() {
            clipped_norm = l2_norm(grad);
        }
    }
    if let Some(max_norm) = clip_norm.filter(|&c| c > 0.0)
        && clipped_norm > max_norm
    {
        let scale = max_norm / clipped_norm;
        for g in grad.iter_mut() {
            *g *= scale;
        }
    }
    norm
}
