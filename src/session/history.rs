//! The metric history of a session, stored by column (one array per metric) so that a long run
//! stays compact and a plot can read a column without gathering it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::train::{Evaluation, LayerStats, StepReport};

/// Per-layer columns, one value per recorded step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerColumns {
    #[serde(default, with = "crate::json_float::vec")]
    /// ‖∂L/∂W‖_F per recorded step.
    pub grad_norm: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// ‖ΔW‖_F per recorded step.
    pub update_norm: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// ‖W‖_F per recorded step.
    pub weight_norm: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Mean activation over the batch per recorded step.
    pub act_mean: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Standard deviation of the activation per recorded step.
    pub act_std: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Fraction of saturated outputs per recorded step.
    pub saturated: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Fraction of dead ReLU units per recorded step.
    pub dead: Vec<f64>,
}

impl LayerColumns {
    fn columns(&self) -> [(&'static str, &Vec<f64>); 7] {
        [
            ("grad_norm", &self.grad_norm),
            ("update_norm", &self.update_norm),
            ("weight_norm", &self.weight_norm),
            ("act_mean", &self.act_mean),
            ("act_std", &self.act_std),
            ("saturated", &self.saturated),
            ("dead", &self.dead),
        ]
    }

    fn push(&mut self, s: &LayerStats) {
        self.grad_norm.push(s.grad_norm);
        self.update_norm.push(s.update_norm);
        self.weight_norm.push(s.weight_norm);
        self.act_mean.push(s.act_mean);
        self.act_std.push(s.act_std);
        self.saturated.push(s.saturated);
        self.dead.push(s.dead);
    }

    fn get(&self, i: usize) -> LayerStats {
        LayerStats {
            grad_norm: self.grad_norm[i],
            update_norm: self.update_norm[i],
            weight_norm: self.weight_norm[i],
            act_mean: self.act_mean[i],
            act_std: self.act_std[i],
            saturated: self.saturated[i],
            dead: self.dead[i],
        }
    }

    fn truncate(&mut self, n: usize) {
        for v in [
            &mut self.grad_norm,
            &mut self.update_norm,
            &mut self.weight_norm,
            &mut self.act_mean,
            &mut self.act_std,
            &mut self.saturated,
            &mut self.dead,
        ] {
            v.truncate(n);
        }
    }
}

/// Evaluations (whole train and test sets) with the step they were made at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalColumns {
    #[serde(default)]
    /// The step of each evaluation (increasing).
    pub step: Vec<u64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Mean loss over the training set.
    pub train_loss: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Accuracy over the training set (NaN for regression).
    pub train_accuracy: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Mean loss over the test set (NaN without one).
    pub test_loss: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Accuracy over the test set.
    pub test_accuracy: Vec<f64>,
    /// Regression only (empty otherwise, and in files written before these existed).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    pub train_rmse: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    /// R² over the training set.
    pub train_r2: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    /// RMSE over the test set.
    pub test_rmse: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::json_float::vec"
    )]
    /// R² over the test set.
    pub test_r2: Vec<f64>,
}

impl EvalColumns {
    /// Number of evaluations.
    pub fn len(&self) -> usize {
        self.step.len()
    }

    /// No evaluation recorded.
    pub fn is_empty(&self) -> bool {
        self.step.is_empty()
    }

    /// Append the evaluation made at `step`.
    pub fn push(&mut self, step: u64, e: &Evaluation) {
        self.step.push(step);
        self.train_loss.push(e.train_loss);
        self.train_accuracy.push(e.train_accuracy);
        self.test_loss.push(e.test_loss);
        self.test_accuracy.push(e.test_accuracy);
        // The regression columns start with the first evaluation that has a fit (a
        // classification history keeps them empty); once started they get one value per step.
        if !self.train_rmse.is_empty() || !e.train_rmse.is_nan() {
            let n = self.step.len() - 1;
            for (col, v) in [
                (&mut self.train_rmse, e.train_rmse),
                (&mut self.train_r2, e.train_r2),
                (&mut self.test_rmse, e.test_rmse),
                (&mut self.test_r2, e.test_r2),
            ] {
                col.resize(n, f64::NAN);
                col.push(v);
            }
        }
    }

    /// Are the regression columns recorded (files written before they existed lack them)?
    pub fn has_regression_fit(&self) -> bool {
        !self.train_rmse.is_empty()
    }

    /// The i-th evaluation.
    pub fn get(&self, i: usize) -> (u64, Evaluation) {
        (
            self.step[i],
            Evaluation {
                train_loss: self.train_loss[i],
                train_accuracy: self.train_accuracy[i],
                test_loss: self.test_loss[i],
                test_accuracy: self.test_accuracy[i],
                train_rmse: at(&self.train_rmse, i),
                train_r2: at(&self.train_r2, i),
                test_rmse: at(&self.test_rmse, i),
                test_r2: at(&self.test_r2, i),
            },
        )
    }

    fn truncate(&mut self, n: usize) {
        self.step.truncate(n);
        for v in [
            &mut self.train_loss,
            &mut self.train_accuracy,
            &mut self.test_loss,
            &mut self.test_accuracy,
            &mut self.train_rmse,
            &mut self.train_r2,
            &mut self.test_rmse,
            &mut self.test_r2,
        ] {
            v.truncate(n);
        }
    }
}

/// `v[i]`, NaN past its end (a column that was not recorded).
fn at(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(f64::NAN)
}

/// Every recorded training step, by column. Row i of every column belongs to step `step[i]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default)]
    /// The step of each row (increasing).
    pub step: Vec<u64>,
    #[serde(default)]
    /// Completed epochs at that step.
    pub epoch: Vec<u64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// The learning rate the step used.
    pub lr: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Loss on the step's mini-batch.
    pub batch_loss: Vec<f64>,
    #[serde(default, with = "crate::json_float::vec")]
    /// Global ‖∇‖₂ of the step's batch objective.
    pub grad_norm: Vec<f64>,
    /// Perceptron rule: mistakes so far (empty when every value would be 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mistakes: Vec<u64>,
    /// The steps whose report said "diverged" (a sparse list, not a column).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diverged: Vec<u64>,
    /// One set of columns per layer; empty when layer statistics were not collected.
    #[serde(default)]
    pub layers: Vec<LayerColumns>,
    #[serde(default)]
    /// Whole-set evaluations, at their own steps.
    pub evaluations: EvalColumns,
}

impl History {
    /// Recorded steps.
    pub fn len(&self) -> usize {
        self.step.len()
    }

    /// No step recorded.
    pub fn is_empty(&self) -> bool {
        self.step.is_empty() && self.evaluations.is_empty()
    }

    /// The last recorded step (None when nothing is recorded).
    pub fn last_step(&self) -> Option<u64> {
        self.step.last().copied()
    }

    /// Append a step. Layer columns are created by the first report that has layer statistics;
    /// a later report with none (statistics switched off) records NaN there.
    pub fn push(&mut self, r: &StepReport) {
        let n = self.step.len();
        if n == 0 && self.layers.is_empty() {
            self.layers = vec![LayerColumns::default(); r.layers.len()];
        }
        self.step.push(r.step);
        self.epoch.push(r.epoch);
        self.lr.push(r.lr);
        self.batch_loss.push(r.batch_loss);
        self.grad_norm.push(r.grad_norm);
        // The column exists once any row has a mistake; the rows before it had none.
        if r.mistakes != 0 || !self.mistakes.is_empty() {
            self.mistakes.resize(n, 0);
            self.mistakes.push(r.mistakes);
        }
        if r.diverged {
            self.diverged.push(r.step);
        }
        let nan = LayerStats {
            grad_norm: f64::NAN,
            update_norm: f64::NAN,
            weight_norm: f64::NAN,
            act_mean: f64::NAN,
            act_std: f64::NAN,
            saturated: f64::NAN,
            dead: f64::NAN,
        };
        for (i, c) in self.layers.iter_mut().enumerate() {
            c.push(r.layers.get(i).unwrap_or(&nan));
        }
    }

    /// The i-th recorded step as the report the trainer gave.
    pub fn report(&self, i: usize) -> StepReport {
        let step = self.step[i];
        StepReport {
            step,
            epoch: self.epoch[i],
            lr: self.lr[i],
            batch_loss: self.batch_loss[i],
            grad_norm: self.grad_norm[i],
            layers: self.layers.iter().map(|c| c.get(i)).collect(),
            mistakes: self.mistakes.get(i).copied().unwrap_or(0),
            diverged: self.diverged.binary_search(&step).is_ok(),
        }
    }

    /// Keep only the steps (and evaluations) that are multiples of `stride`, and the diverged
    /// steps. The recorder calls this, doubling its stride, when the history grows too long.
    pub fn keep_multiples_of(&mut self, stride: u64) {
        let stride = stride.max(1);
        let keep: Vec<bool> = self
            .step
            .iter()
            .map(|&s| s.is_multiple_of(stride) || self.diverged.binary_search(&s).is_ok())
            .collect();
        fn filter<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            if v.len() == keep.len() {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
            }
        }
        filter(&mut self.step, &keep);
        filter(&mut self.epoch, &keep);
        filter(&mut self.lr, &keep);
        filter(&mut self.batch_loss, &keep);
        filter(&mut self.grad_norm, &keep);
        filter(&mut self.mistakes, &keep);
        for c in &mut self.layers {
            for v in [
                &mut c.grad_norm,
                &mut c.update_norm,
                &mut c.weight_norm,
                &mut c.act_mean,
                &mut c.act_std,
                &mut c.saturated,
                &mut c.dead,
            ] {
                filter(v, &keep);
            }
        }
        let e = &mut self.evaluations;
        let keep: Vec<bool> = e.step.iter().map(|&s| s.is_multiple_of(stride)).collect();
        filter(&mut e.step, &keep);
        filter(&mut e.train_loss, &keep);
        filter(&mut e.train_accuracy, &keep);
        filter(&mut e.test_loss, &keep);
        filter(&mut e.test_accuracy, &keep);
    }

    /// Keep only what was recorded up to and including `step`.
    pub fn truncate_after(&mut self, step: u64) {
        let n = self.step.partition_point(|&s| s <= step);
        self.step.truncate(n);
        self.epoch.truncate(n);
        self.lr.truncate(n);
        self.batch_loss.truncate(n);
        self.grad_norm.truncate(n);
        self.mistakes.truncate(n);
        self.diverged.retain(|&s| s <= step);
        for c in &mut self.layers {
            c.truncate(n);
        }
        let m = self.evaluations.step.partition_point(|&s| s <= step);
        self.evaluations.truncate(m);
    }

    /// Every column of equal length, steps strictly increasing, `layers` as many as the network
    /// has (or none).
    pub fn check(&self, layers: usize) -> Result<()> {
        let n = self.step.len();
        let cols: [(&str, usize); 4] = [
            ("epoch", self.epoch.len()),
            ("lr", self.lr.len()),
            ("batch_loss", self.batch_loss.len()),
            ("grad_norm", self.grad_norm.len()),
        ];
        for (name, len) in cols {
            if len != n {
                return Err(unequal(&format!("history.{name}"), len, n, "history.step"));
            }
        }
        if !self.mistakes.is_empty() && self.mistakes.len() != n {
            return Err(unequal(
                "history.mistakes",
                self.mistakes.len(),
                n,
                "history.step",
            ));
        }
        if let Some(i) = (1..n).find(|&i| self.step[i] <= self.step[i - 1]) {
            return Err(Error::field(
                &format!("history.step[{i}]"),
                format!(
                    "is {} after {}: steps must increase",
                    self.step[i],
                    self.step[i - 1]
                ),
            ));
        }
        if !self.layers.is_empty() && self.layers.len() != layers {
            return Err(Error::field(
                "history.layers",
                format!(
                    "has {} layers but the network has {layers}",
                    self.layers.len()
                ),
            ));
        }
        for (l, c) in self.layers.iter().enumerate() {
            for (name, v) in c.columns() {
                if v.len() != n {
                    return Err(unequal(
                        &format!("history.layers[{l}].{name}"),
                        v.len(),
                        n,
                        "history.step",
                    ));
                }
            }
        }
        let e = &self.evaluations;
        let m = e.step.len();
        for (name, len) in [
            ("train_loss", e.train_loss.len()),
            ("train_accuracy", e.train_accuracy.len()),
            ("test_loss", e.test_loss.len()),
            ("test_accuracy", e.test_accuracy.len()),
        ] {
            if len != m {
                return Err(unequal(
                    &format!("history.evaluations.{name}"),
                    len,
                    m,
                    "history.evaluations.step",
                ));
            }
        }
        if let Some(i) = (1..m).find(|&i| e.step[i] < e.step[i - 1]) {
            return Err(Error::field(
                &format!("history.evaluations.step[{i}]"),
                "is smaller than the one before it: steps must not decrease",
            ));
        }
        Ok(())
    }
}

fn unequal(name: &str, len: usize, n: usize, reference: &str) -> Error {
    Error::field(
        name,
        format!("has {len} values but {reference} has {n}: every column must be as long"),
    )
}
