//! The training loop of one experiment, single-threaded and deterministic. The worker thread
//! (`worker.rs`) and the headless CLI both drive this.

use serde::{Deserialize, Serialize};

use crate::analysis::hessian::{HessianProblem, hessian_problem};
use crate::analysis::novikoff::{NovikoffBound, novikoff_bound};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::net::Activation;
use crate::net::init::initialise;
use crate::net::linalg::{axpy, dot, norm};
use crate::net::loss::TargetCoding;
use crate::net::network::{BnMode, BnStats, Network, Workspace};
use crate::net::objective::{Rows, objective};
use crate::net::spec::{Loss, NetworkSpec};
use crate::optim::spec::{OptimizerKind, OptimizerSpec, Regularization, TrainingRule};
use crate::optim::{Optimizer, validate, validate_regularization};
use crate::rng::Rng;

/// Everything about an experiment except the data.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerConfig {
    /// Seed of every random stream.
    pub seed: u64,
    /// The network to build.
    pub network: NetworkSpec,
    /// The training loss.
    pub loss: Loss,
    /// The optimiser.
    pub optimizer: OptimizerSpec,
    /// L1/L2 penalties on the weights.
    pub regularization: Regularization,
}

/// Statistics of one layer at one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// ‖∂L/∂W‖_F on the step's batch.
    pub grad_norm: f64,
    /// ‖ΔW‖_F of the step.
    pub update_norm: f64,
    /// ‖W‖_F after the step.
    pub weight_norm: f64,
    /// Mean and std of the layer's activation f(u) over the batch.
    pub act_mean: f64,
    /// See `act_mean`.
    pub act_std: f64,
    /// Fraction of outputs in the flat tails (sigmoid < 0.02 or > 0.98, |tanh| > 0.96).
    pub saturated: f64,
    /// Fraction of ReLU units that output 0 for every row of the batch.
    pub dead: f64,
}

/// What one training step did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Steps taken so far, this one included.
    pub step: u64,
    /// Completed epochs after this step.
    pub epoch: u64,
    /// Learning rate used.
    pub lr: f64,
    /// Objective on the batch (mean loss + regulariser) before the update.
    pub batch_loss: f64,
    /// Global ‖∇‖₂ of the batch objective.
    pub grad_norm: f64,
    /// Statistics per layer (empty when they are off).
    pub layers: Vec<LayerStats>,
    /// Perceptron rule: mistakes so far.
    pub mistakes: u64,
    /// The loss or θ is no longer finite.
    pub diverged: bool,
}

/// Loss and accuracy (classification) or RMSE and R² (regression) over the whole training and
/// test sets (evaluation mode). What does not apply, or a set with no rows, is NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss over the training set (without the regulariser).
    pub train_loss: f64,
    /// Accuracy over the training set (classification).
    pub train_accuracy: f64,
    /// Mean loss over the test set.
    pub test_loss: f64,
    /// Accuracy over the test set (classification).
    pub test_accuracy: f64,
    /// Regression: √(mean (ŷ − y)²) of the output against the target.
    #[serde(default = "nan")]
    pub train_rmse: f64,
    /// Regression: 1 − Σ(ŷ − y)² / Σ(y − ȳ)², ȳ the set's own mean (NaN when every y is equal).
    #[serde(default = "nan")]
    pub train_r2: f64,
    #[serde(default = "nan")]
    /// Regression: RMSE over the test set.
    pub test_rmse: f64,
    #[serde(default = "nan")]
    /// Regression: R² over the test set.
    pub test_r2: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// Loss, accuracy and the regression fit of one set.
#[derive(Clone, Copy, Debug)]
struct SetScore {
    loss: f64,
    accuracy: f64,
    rmse: f64,
    r2: f64,
}

/// The random streams a running trainer draws from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngStates {
    /// Shuffles the permutation at the start of every mini-batch epoch.
    pub batches: Rng,
    /// Draws the dropout masks.
    pub dropout: Rng,
}

/// The most steps a run may count: 2^53, so every step is exact as an f64 (plots, CSV) and a
/// counter can never wrap (at ten million steps a second it takes 28 years to reach).
pub const MAX_STEP: u64 = 1 << 53;

/// Everything that makes a trainer resumable: restoring it and stepping on is bit-identical to
/// never having stopped. The data, network and loss are not here (they come from the session's
/// spec); the step's scratch buffers are not either (every step overwrites them before use).
/// BatchNorm keeps no running statistics in nnlab (evaluation normalises with the statistics of
/// the whole training set at the current θ), so there are none to save.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Steps taken.
    pub step: u64,
    /// Completed epochs.
    pub epoch: u64,
    /// Iteration within the current epoch.
    pub iteration: usize,
    /// Perceptron rule: mistakes so far.
    #[serde(default)]
    pub mistakes: u64,
    /// θ now.
    #[serde(with = "crate::json_float::vec")]
    pub theta: Vec<f64>,
    /// The optimiser: its spec in force (live edits included), step count and moments.
    pub optimizer: Optimizer,
    /// The regulariser in force (live edits included).
    pub regularization: Regularization,
    /// The random streams' states.
    pub rng: RngStates,
    /// The row permutation of the current epoch (mini-batches are slices of it).
    pub perm: Vec<usize>,
    /// Feedback alignment's fixed backward matrices (θ-shaped; only the weight blocks used).
    #[serde(default, with = "crate::json_float::opt_vec")]
    pub feedback: Option<Vec<f64>>,
}

/// The deterministic training loop: a network, its θ, the data and the optimiser. The same
/// configuration and seed give the same θ after every step, to the last bit.
pub struct Trainer {
    /// The network's plan (layers, θ layout).
    pub net: Network,
    /// All parameters, in the network's layout.
    pub theta: Vec<f64>,
    /// The rows it trains on.
    pub train: Dataset,
    /// The rows it evaluates on.
    pub test: Dataset,
    /// The optimiser with its state (moments, step count).
    pub optimizer: Optimizer,
    /// The regulariser in force.
    pub regularization: Regularization,
    /// Seed of every random stream.
    pub seed: u64,
    /// Steps taken.
    pub step: u64,
    /// Completed epochs.
    pub epoch: u64,
    /// Iteration within the current epoch.
    pub iteration: usize,
    /// Perceptron rule: mistakes so far.
    pub mistakes: u64,
    /// Perceptron rule on separable data: Novikoff's bound.
    pub novikoff: Option<NovikoffBound>,
    /// Gather layer statistics every step (cheap, but the benchmark can switch it off).
    pub collect_stats: bool,
    coding: TargetCoding,
    batch_rng: Rng,
    dropout_rng: Rng,
    perm: Vec<usize>,
    feedback: Option<Vec<f64>>,
    ws: Workspace,
    eval_ws: Workspace,
    grad: Vec<f64>,
    prev_theta: Vec<f64>,
    batch_x: Vec<f64>,
    batch_y: Vec<f64>,
    last_layers: Vec<LayerStats>,
    /// Scratch: which ReLU units fired in the batch.
    alive: Vec<bool>,
}

/// Rows evaluated at once outside training (bounds workspace memory)…
const EVAL_CHUNK: usize = 4096;

/// …and fewer for wide networks, so one block's workspace stays within the objective's
/// 256 MB whatever the width (4096 rows × 100 000 units would be 3.3 GB per buffer).
fn eval_rows(net: &Network) -> usize {
    net.rows_within(crate::net::objective::OBJECTIVE_CHUNK_VALUES)
        .min(EVAL_CHUNK)
}

impl Trainer {
    /// Build the experiment. `params` replaces the initialiser when given.
    pub fn new(
        config: &TrainerConfig,
        train: Dataset,
        test: Dataset,
        params: Option<Vec<f64>>,
    ) -> Result<Trainer> {
        validate(&config.optimizer)?;
        validate_regularization(&config.regularization)?;
        let net = Network::build(&config.network, config.loss)?;
        net.check_data(train.inputs, train.classes)?;
        if train.rows() == 0 {
            return Err(Error::field("data", "has no training rows"));
        }
        check_formula_features(&net, &train)?;
        check_formula_features(&net, &test)?;
        // Before θ and the buffers are allocated: what training and evaluating this experiment
        // will hold (the app adds its views' share in `Experiment::trainer`).
        super::memory::check(super::memory::Shape {
            net: &net,
            optimizer: &config.optimizer,
            train_rows: train.rows(),
            test_rows: test.rows(),
            views: false,
        })?;
        let rule = config.optimizer.effective_rule();
        if rule == TrainingRule::Perceptron
            && (net.layers.len() != 1 || net.layers[0].activation != Activation::Step)
        {
            return Err(Error::field(
                "optimizer.rule",
                "perceptron needs a single layer with the step activation",
            ));
        }
        if rule == TrainingRule::Perceptron && train.classes == 0 {
            return Err(Error::field(
                "optimizer.rule",
                "perceptron needs class labels, not regression data",
            ));
        }
        let theta = match params {
            Some(p) => {
                if p.len() != net.n_params {
                    return Err(Error::field(
                        "params",
                        format!(
                            "has {} values but the network has {} parameters",
                            p.len(),
                            net.n_params
                        ),
                    ));
                }
                if let Some(i) = p.iter().position(|v| !v.is_finite()) {
                    return Err(Error::field(
                        &format!("params[{i}]"),
                        "is not a finite number",
                    ));
                }
                let mut p = p;
                net.mask.zero_pruned(&mut p);
                p
            }
            None => {
                let p = initialise(
                    &net,
                    config.network.init,
                    config.network.init_scale,
                    config.seed,
                );
                // A huge scale (1e308) overflows the draws: refuse rather than start at ∞.
                if p.iter().any(|v| !v.is_finite()) {
                    return Err(Error::field(
                        "network.init_scale",
                        format!(
                            "{} makes initial parameters overflow (not finite); use a smaller scale",
                            config.network.init_scale
                        ),
                    ));
                }
                p
            }
        };
        let feedback = (rule == TrainingRule::FeedbackAlignment).then(|| {
            // Fixed random backward matrices, drawn like Xavier-normal weights.
            let mut rng = Rng::stream(config.seed, "feedback");
            let mut b = vec![0.0; net.n_params];
            for l in &net.layers {
                let s = (2.0 / (l.fan_in + l.units) as f64).sqrt();
                for v in &mut b[l.w..l.w + l.n_weights()] {
                    *v = s * rng.normal();
                }
            }
            b
        });
        let coding = net.target_coding(train.classes);
        let novikoff = if rule == TrainingRule::Perceptron {
            let mut feats = Vec::with_capacity(train.rows() * net.features.len());
            for r in 0..train.rows() {
                feats.extend(net.features.iter().map(|f| f.eval(train.row(r))));
            }
            let t: Vec<f64> = train
                .y
                .iter()
                .map(|&y| if y >= 0.5 { 1.0 } else { -1.0 })
                .collect();
            novikoff_bound(&feats, net.features.len(), &t)
        } else {
            None
        };
        let n_params = net.n_params;
        let layers = net.layers.len();
        Ok(Trainer {
            optimizer: Optimizer::new(&config.optimizer, n_params),
            regularization: config.regularization,
            seed: config.seed,
            step: 0,
            epoch: 0,
            iteration: 0,
            mistakes: 0,
            novikoff,
            collect_stats: true,
            coding,
            batch_rng: Rng::stream(config.seed, "batches"),
            dropout_rng: Rng::stream(config.seed, "dropout"),
            perm: (0..train.rows()).collect(),
            feedback,
            ws: Workspace::default(),
            eval_ws: Workspace::default(),
            grad: vec![0.0; n_params],
            prev_theta: vec![0.0; n_params],
            batch_x: Vec::new(),
            batch_y: Vec::new(),
            last_layers: vec![LayerStats::default(); layers],
            alive: Vec::new(),
            net,
            theta,
            train,
            test,
        })
    }

    /// ⌈N/B⌉ (1 for full-batch gradient descent).
    pub fn iterations_per_epoch(&self) -> usize {
        let n = self.train.rows();
        let b = self.batch_size();
        n.div_ceil(b)
    }

    /// Rows per step.
    pub fn batch_size(&self) -> usize {
        let n = self.train.rows();
        match self.optimizer.spec().kind {
            OptimizerKind::Gd => n,
            _ => self.optimizer.spec().batch_size.clamp(1, n),
        }
    }

    /// The training rule in force.
    pub fn rule(&self) -> TrainingRule {
        self.optimizer.spec().effective_rule()
    }

    /// Live edit of the optimiser (between steps).
    pub fn set_optimizer(&mut self, spec: &OptimizerSpec) -> Result<()> {
        validate(spec)?;
        if spec.effective_rule() != self.rule() {
            return Err(Error::field(
                "optimizer.rule",
                "cannot change the training rule of a running experiment; rebuild it",
            ));
        }
        let old_b = self.batch_size();
        self.optimizer.set_spec(spec);
        if self.batch_size() != old_b {
            // A new batch size starts a fresh epoch so ⌈N/B⌉ stays meaningful.
            self.iteration = 0;
        }
        Ok(())
    }

    /// Change the L1/L2 penalties from the next step (checked first).
    pub fn set_regularization(&mut self, r: Regularization) -> Result<()> {
        validate_regularization(&r)?;
        self.regularization = r;
        Ok(())
    }

    /// The rows (x row-major, y) the last step trained on: the whole training set when the
    /// step was full-batch.
    pub fn last_batch(&self) -> (&[f64], &[f64]) {
        if self.batch_size() >= self.train.rows() {
            (&self.train.x, &self.train.y)
        } else {
            (&self.batch_x, &self.batch_y)
        }
    }

    /// θ as it was before the last step (the worker hands it out, with [`Self::last_batch`],
    /// so the update panel can compare ΔW with −η (1/m) Σ δ aᵀ; meaningless before a step).
    pub fn theta_before_last_step(&self) -> &[f64] {
        &self.prev_theta
    }

    /// Pick the rows of the next batch into batch_x / batch_y; returns the row count.
    fn next_batch(&mut self) -> usize {
        let n = self.train.rows();
        let b = self.batch_size();
        if b >= n {
            return n;
        }
        if self.iteration == 0 {
            self.batch_rng.shuffle(&mut self.perm);
        }
        let start = self.iteration * b;
        let end = (start + b).min(n);
        let d = self.train.inputs;
        self.batch_x.clear();
        self.batch_y.clear();
        for &r in &self.perm[start..end] {
            self.batch_x
                .extend_from_slice(&self.train.x[r * d..(r + 1) * d]);
            self.batch_y.push(self.train.y[r]);
        }
        end - start
    }

    fn advance_counters(&mut self) {
        self.step += 1;
        self.iteration += 1;
        if self.iteration >= self.iterations_per_epoch() {
            self.iteration = 0;
            self.epoch += 1;
        }
    }

    /// One training step (one mini-batch).
    pub fn step(&mut self) -> StepReport {
        let rows = self.next_batch();
        let full = rows == self.train.rows() && self.batch_size() >= self.train.rows();
        let (x, y): (&[f64], &[f64]) = if full {
            (&self.train.x, &self.train.y)
        } else {
            (&self.batch_x, &self.batch_y)
        };
        let net = &self.net;
        let has_dropout = net.layers.iter().any(|l| l.dropout > 0.0);
        let rule = self.optimizer.spec().effective_rule();
        let dropout = has_dropout.then_some(&mut self.dropout_rng);
        net.forward(&self.theta, x, rows, &mut self.ws, BnMode::Batch, dropout);
        net.set_targets(&mut self.ws, y, self.coding);
        let scale = 1.0 / rows as f64;
        let Regularization { l1, l2 } = self.regularization;
        let mut batch_loss = net.loss_and_output_delta(&self.theta, &mut self.ws, scale) * scale;
        batch_loss += net.regularise(&self.theta, l1, l2, None);
        self.prev_theta.copy_from_slice(&self.theta);
        let lr;
        let grad_norm;
        if rule == TrainingRule::Perceptron {
            lr = self.optimizer.learning_rate();
            grad_norm = 0.0;
            self.mistakes += perceptron_pass(net, &mut self.theta, &self.ws, y, rows, lr);
        } else {
            self.grad.fill(0.0);
            net.backward(
                &self.theta,
                &mut self.ws,
                BnMode::Batch,
                &mut self.grad,
                self.feedback.as_deref(),
            );
            net.regularise(&self.theta, l1, l2, Some(&mut self.grad));
            // Frozen and pruned parameters get no gradient (nor momentum, nor Adam moments).
            net.mask.zero_gradient(&mut self.grad);
            grad_norm = norm(&self.grad);
            if self.collect_stats {
                for (s, l) in self.last_layers.iter_mut().zip(&net.layers) {
                    s.grad_norm = norm(&self.grad[l.w..l.w + l.n_weights()]);
                }
            }
            lr = self.optimizer.step(&mut self.theta, &mut self.grad);
        }
        self.net.constrain(&mut self.theta);
        // …and are put back exactly, whatever the update rule or constraint did.
        self.net.mask.restore(&mut self.theta, &self.prev_theta);
        let diverged = !batch_loss.is_finite() || self.theta.iter().any(|v| !v.is_finite());
        if self.collect_stats {
            self.layer_statistics(rows);
        }
        self.advance_counters();
        StepReport {
            step: self.step,
            epoch: self.epoch,
            lr,
            batch_loss,
            grad_norm,
            layers: if self.collect_stats {
                self.last_layers.clone()
            } else {
                Vec::new()
            },
            mistakes: self.mistakes,
            diverged,
        }
    }

    fn layer_statistics(&mut self, rows: usize) {
        for (i, (s, l)) in self
            .last_layers
            .iter_mut()
            .zip(&self.net.layers)
            .enumerate()
        {
            let w = l.w..l.w + l.n_weights();
            let mut du = 0.0;
            for (a, b) in self.theta[w.clone()]
                .iter()
                .zip(&self.prev_theta[w.clone()])
            {
                du += (a - b) * (a - b);
            }
            s.update_norm = du.sqrt();
            s.weight_norm = norm(&self.theta[w]);
            let c = &self.ws.layers[i];
            let f = &c.f[..rows * l.units];
            let n = f.len() as f64;
            // One pass: mean, variance (shifted by the first value for stability), tails.
            let shift = f.first().copied().unwrap_or(0.0);
            let (mut sum, mut sumsq, mut tails) = (0.0, 0.0, 0usize);
            let (lo, hi) = match l.activation {
                Activation::Sigmoid => (0.02, 0.98),
                Activation::Tanh => (-0.96, 0.96),
                _ => (f64::NEG_INFINITY, f64::INFINITY),
            };
            for &v in f {
                let d = v - shift;
                sum += d;
                sumsq += d * d;
                tails += usize::from(v < lo || v > hi);
            }
            let mean = sum / n;
            s.act_mean = shift + mean;
            s.act_std = (sumsq / n - mean * mean).max(0.0).sqrt();
            s.saturated = tails as f64 / n;
            s.dead = if l.activation.can_die() {
                self.alive.clear();
                self.alive.resize(l.units, false);
                for ur in c.u[..rows * l.units].chunks_exact(l.units) {
                    for (a, &u) in self.alive.iter_mut().zip(ur) {
                        *a |= u > 0.0;
                    }
                }
                self.alive.iter().filter(|a| !**a).count() as f64 / l.units as f64
            } else {
                0.0
            };
        }
        if self.rule() == TrainingRule::Perceptron {
            for s in &mut self.last_layers {
                s.grad_norm = 0.0;
            }
        }
    }

    /// The latest per-layer statistics.
    pub fn layer_stats(&self) -> &[LayerStats] {
        &self.last_layers
    }

    /// BatchNorm statistics of the whole training set at the current θ (None without BN).
    pub fn train_bn_stats(&mut self) -> Option<BnStats> {
        if !self.net.has_batch_norm() {
            return None;
        }
        let n = self.train.rows();
        self.net.forward(
            &self.theta,
            &self.train.x,
            n,
            &mut self.eval_ws,
            BnMode::Batch,
            None,
        );
        Some(self.net.bn_stats(&self.eval_ws))
    }

    /// Network outputs for `rows` raw input rows, evaluation mode.
    pub fn predict(&mut self, x: &[f64], rows: usize) -> Vec<f64> {
        let bn = self.train_bn_stats();
        self.predict_with(x, rows, bn.as_ref())
    }

    /// As `predict` with BatchNorm statistics computed beforehand.
    pub fn predict_with(&mut self, x: &[f64], rows: usize, bn: Option<&BnStats>) -> Vec<f64> {
        let k = self.net.output_units();
        let d = self.net.inputs;
        let mut out = Vec::with_capacity(rows * k);
        let mode = match bn {
            Some(s) => BnMode::Fixed(s),
            None => BnMode::Batch,
        };
        let block = eval_rows(&self.net);
        for start in (0..rows).step_by(block) {
            let m = block.min(rows - start);
            self.net.forward(
                &self.theta,
                &x[start * d..(start + m) * d],
                m,
                &mut self.eval_ws,
                mode,
                None,
            );
            out.extend_from_slice(&self.net.outputs(&self.eval_ws)[..m * k]);
        }
        out
    }

    /// Loss and accuracy over the training and test sets.
    pub fn evaluate(&mut self) -> Evaluation {
        let bn = self.train_bn_stats();
        let (net, theta, coding) = (&self.net, &self.theta, self.coding);
        let train = score(
            net,
            theta,
            &self.train,
            coding,
            &mut self.eval_ws,
            bn.as_ref(),
        );
        let test = score(
            net,
            theta,
            &self.test,
            coding,
            &mut self.eval_ws,
            bn.as_ref(),
        );
        Evaluation {
            train_loss: train.loss,
            train_accuracy: train.accuracy,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            train_rmse: train.rmse,
            train_r2: train.r2,
            test_rmse: test.rmse,
            test_r2: test.r2,
        }
    }

    /// The training set as the rows of the objective.
    pub fn training_rows(&self) -> Rows<'_> {
        Rows {
            x: &self.train.x,
            y: &self.train.y,
            classes: self.train.classes,
        }
    }

    /// The Hessian (or Gauss–Newton matrix) of the training objective at the current θ: the
    /// objective `nnlab grad` reports.
    pub fn hessian_problem(&self, gauss_newton: bool) -> HessianProblem<'_> {
        hessian_problem(
            &self.net,
            &self.theta,
            &self.train,
            self.regularization.l2,
            gauss_newton,
        )
    }

    /// The training objective and its gradient over the whole training set (evaluation mode).
    pub fn objective_and_gradient(&mut self) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; self.net.n_params];
        let rows = Rows {
            x: &self.train.x,
            y: &self.train.y,
            classes: self.train.classes,
        };
        let Regularization { l1, l2 } = self.regularization;
        let j = objective(
            &self.net,
            &self.theta,
            rows,
            l1,
            l2,
            &mut self.eval_ws,
            Some(&mut g),
        );
        (j, g)
    }

    /// The fixed backward matrices of feedback alignment.
    pub fn feedback_matrices(&self) -> Option<&[f64]> {
        self.feedback.as_deref()
    }

    /// The row permutation of the current epoch.
    pub fn permutation(&self) -> &[usize] {
        &self.perm
    }

    /// The random streams' states now.
    pub fn rng_states(&self) -> RngStates {
        RngStates {
            batches: self.batch_rng.clone(),
            dropout: self.dropout_rng.clone(),
        }
    }

    /// Everything needed to resume exactly here (see [`TrainerState`]).
    pub fn export_state(&self) -> TrainerState {
        TrainerState {
            step: self.step,
            epoch: self.epoch,
            iteration: self.iteration,
            mistakes: self.mistakes,
            theta: self.theta.clone(),
            optimizer: self.optimizer.clone(),
            regularization: self.regularization,
            rng: self.rng_states(),
            perm: self.perm.clone(),
            feedback: self.feedback.clone(),
        }
    }

    /// Resume from a saved state. Everything is checked against this trainer's network and
    /// data before anything changes, so on an error the trainer is as it was. Non-finite θ is
    /// accepted (a diverged run resumes diverged, as it was saved).
    pub fn restore_state(&mut self, s: &TrainerState) -> Result<()> {
        check_state_shape(
            s,
            self.net.n_params,
            self.train.rows(),
            self.rule(),
            "state",
        )?;
        self.step = s.step;
        self.epoch = s.epoch;
        self.iteration = s.iteration;
        self.mistakes = s.mistakes;
        self.theta.clone_from(&s.theta);
        self.optimizer = s.optimizer.clone();
        self.regularization = s.regularization;
        self.batch_rng = s.rng.batches.clone();
        self.dropout_rng = s.rng.dropout.clone();
        self.perm.clone_from(&s.perm);
        if s.feedback.is_some() {
            self.feedback.clone_from(&s.feedback);
        }
        Ok(())
    }
}

/// Check a saved state against a network of `n_params` parameters, `rows` training rows and the
/// experiment's training `rule`; `what` names the field path in the message.
pub fn check_state_shape(
    s: &TrainerState,
    n: usize,
    rows: usize,
    rule: TrainingRule,
    what: &str,
) -> Result<()> {
    if s.theta.len() != n {
        return Err(Error::field(
            &format!("{what}.theta"),
            format!(
                "has {} values but the network has {n} parameters",
                s.theta.len()
            ),
        ));
    }
    if s.optimizer.spec().effective_rule() != rule {
        return Err(Error::field(
            &format!("{what}.optimizer.spec"),
            "uses a different training rule than the session's optimizer",
        ));
    }
    s.optimizer.check(n, &format!("{what}.optimizer"))?;
    validate_regularization(&s.regularization)
        .map_err(|e| e.context(format!("{what}.regularization")))?;
    if !s.rng.batches.is_valid() || !s.rng.dropout.is_valid() {
        return Err(Error::field(
            &format!("{what}.rng"),
            "has an all-zero generator state",
        ));
    }
    if s.perm.len() != rows {
        return Err(Error::field(
            &format!("{what}.perm"),
            format!(
                "has {} entries but there are {rows} training rows",
                s.perm.len()
            ),
        ));
    }
    let mut seen = vec![false; rows];
    for &r in &s.perm {
        if r >= rows || std::mem::replace(&mut seen[r], true) {
            return Err(Error::field(
                &format!("{what}.perm"),
                format!("is not a permutation of the {rows} training rows (bad entry {r})"),
            ));
        }
    }
    let fa = rule == TrainingRule::FeedbackAlignment;
    match (&s.feedback, fa) {
        (Some(f), true) if f.len() != n => {
            return Err(Error::field(
                &format!("{what}.feedback"),
                format!("has {} values but the network has {n} parameters", f.len()),
            ));
        }
        (Some(_), false) => {
            return Err(Error::field(
                &format!("{what}.feedback"),
                "is only meaningful with the feedback_alignment rule",
            ));
        }
        _ => {}
    }
    // The iteration indexes the permutation in batches of the state's batch size.
    let b = match s.optimizer.spec().kind {
        OptimizerKind::Gd => rows,
        _ => s.optimizer.spec().batch_size.clamp(1, rows),
    };
    if s.iteration >= rows.div_ceil(b).max(1) {
        return Err(Error::field(
            &format!("{what}.iteration"),
            format!(
                "is {} but an epoch has {} iterations",
                s.iteration,
                rows.div_ceil(b)
            ),
        ));
    }
    Ok(())
}

/// A feature typed as a formula must be finite on every row of the data (`ln(x1)` is not
/// where x1 ≤ 0): one line naming the feature and the first row where it fails.
fn check_formula_features(net: &Network, set: &Dataset) -> Result<()> {
    use crate::net::features::Feature;
    for (k, f) in net.features.iter().enumerate() {
        if !matches!(f, Feature::Formula(_)) {
            continue;
        }
        for i in 0..set.rows() {
            let v = f.eval(set.row(i));
            if !v.is_finite() {
                let x: Vec<String> = set.row(i).iter().map(|v| format!("{v}")).collect();
                return Err(Error::field(
                    &format!("network.features[{k}]"),
                    format!(
                        "\"{}\" is {v} at the data row x = ({}): a feature must be finite on every row",
                        f.label(),
                        x.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Mean loss (without the regulariser) and accuracy, or RMSE and R², of a set, evaluation mode.
fn score(
    net: &Network,
    theta: &[f64],
    set: &Dataset,
    coding: TargetCoding,
    ws: &mut Workspace,
    bn: Option<&BnStats>,
) -> SetScore {
    let rows = set.rows();
    if rows == 0 {
        return SetScore {
            loss: f64::NAN,
            accuracy: f64::NAN,
            rmse: f64::NAN,
            r2: f64::NAN,
        };
    }
    // Regression with one output unit: the fit of ŷ to y (ȳ first, for R²'s total sum).
    let regression = set.classes == 0 && net.output_units() == 1;
    let mean_y = if regression {
        set.y.iter().sum::<f64>() / rows as f64
    } else {
        0.0
    };
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    let k = net.output_units();
    let mode = match bn {
        Some(s) => BnMode::Fixed(s),
        None => BnMode::Batch,
    };
    let d = net.inputs;
    let mut total = 0.0;
    let mut correct = 0usize;
    let block = eval_rows(net);
    for start in (0..rows).step_by(block) {
        let m = block.min(rows - start);
        net.forward(theta, &set.x[start * d..(start + m) * d], m, ws, mode, None);
        net.set_targets(ws, &set.y[start..start + m], coding);
        total += net.loss_and_output_delta(theta, ws, 1.0);
        if set.classes > 0 {
            let out = net.outputs(ws);
            for r in 0..m {
                if coding.predict(&out[r * k..(r + 1) * k]) == set.y[start + r] as usize {
                    correct += 1;
                }
            }
        } else if regression {
            let out = net.outputs(ws);
            for (r, &y) in set.y[start..start + m].iter().enumerate() {
                ss_res += (out[r] - y) * (out[r] - y);
                ss_tot += (y - mean_y) * (y - mean_y);
            }
        }
    }
    let accuracy = if set.classes > 0 {
        correct as f64 / rows as f64
    } else {
        f64::NAN
    };
    let (rmse, r2) = if regression {
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NAN
        };
        ((ss_res / rows as f64).sqrt(), r2)
    } else {
        (f64::NAN, f64::NAN)
    };
    SetScore {
        loss: total / rows as f64,
        accuracy,
        rmse,
        r2,
    }
}

/// Rosenblatt's rule over the batch rows in order: on a mistake, w += η·t·φ(x), b += η·t.
/// Returns the number of rows with a mistake.
fn perceptron_pass(
    net: &Network,
    theta: &mut [f64],
    ws: &Workspace,
    y: &[f64],
    rows: usize,
    lr: f64,
) -> u64 {
    let layer = &net.layers[0];
    let nf = net.features.len();
    let units = layer.units;
    let coding = if units == 1 {
        TargetCoding::BinaryPm1
    } else {
        TargetCoding::OneHotPm1
    };
    let mut t = vec![0.0; units];
    let mut mistakes = 0;
    for r in 0..rows {
        let phi = &ws.input[r * nf..(r + 1) * nf];
        coding.fill(y[r], &mut t);
        let mut wrong = false;
        for (j, &tj) in t.iter().enumerate() {
            let w = layer.w + j * nf..layer.w + (j + 1) * nf;
            let z = dot(&theta[w.clone()], phi) + theta[layer.b + j];
            let out = if z >= 0.0 { 1.0 } else { -1.0 };
            if out != tj {
                wrong = true;
                axpy(lr * tj, phi, &mut theta[w]);
                theta[layer.b + j] += lr * tj;
            }
        }
        if wrong {
            mistakes += 1;
        }
    }
    mistakes
}
