//! When to stop training: at a target training loss or accuracy, after a number of steps or
//! epochs, or early, when the test loss has not improved for a number of checks (patience).
//!
//! The losses are checked at fixed steps (every `check_every` steps, by default once an
//! epoch), never by the clock, so the same session stops at the same step in the app, in
//! `nnlab run` and in a replay.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::trainer::Evaluation;

/// The session's `stop` section: every condition is optional; the first one met stops.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRule {
    /// Stop once the training loss is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_loss: Option<f64>,
    /// Stop once the training accuracy (a fraction in (0, 1]) is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f64>,
    /// Stop after this many steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Stop after this many epochs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// Early stopping: stop when the test loss has not fallen below its best for this many
    /// checks in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<u64>,
    /// Steps between two checks of the losses (default: one epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_every: Option<u64>,
}

/// Why training stopped, with what was measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The training loss reached its target.
    TrainLoss {
        /// Step at which it stopped.
        step: u64,
        /// The training loss measured.
        loss: f64,
        /// The target it reached.
        target: f64,
    },
    /// The training accuracy reached its target.
    TrainAccuracy {
        /// Step at which it stopped.
        step: u64,
        /// The training accuracy measured.
        accuracy: f64,
        /// The target it reached.
        target: f64,
    },
    /// The step limit was reached.
    Steps {
        /// Step at which it stopped.
        step: u64,
    },
    /// The epoch limit was reached.
    Epochs {
        /// Step at which it stopped.
        step: u64,
        /// Epochs completed.
        epochs: u64,
    },
    /// The test loss last improved at `best_step` (to `best_loss`).
    Patience {
        /// Step at which it stopped.
        step: u64,
        /// Step of the best test loss.
        best_step: u64,
        /// The best test loss.
        best_loss: f64,
        /// Checks since without a better one.
        checks: u64,
    },
}

impl StopReason {
    /// The step at which training stopped.
    pub fn step(&self) -> u64 {
        match *self {
            StopReason::TrainLoss { step, .. }
            | StopReason::TrainAccuracy { step, .. }
            | StopReason::Steps { step }
            | StopReason::Epochs { step, .. }
            | StopReason::Patience { step, .. } => step,
        }
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        match *self {
            StopReason::TrainLoss { step, loss, target } => {
                format!("stopped at step {step}: training loss {loss:.4e} ≤ {target:.4e}")
            }
            StopReason::TrainAccuracy {
                step,
                accuracy,
                target,
            } => format!(
                "stopped at step {step}: training accuracy {:.2}% ≥ {:.2}%",
                100.0 * accuracy,
                100.0 * target
            ),
            StopReason::Steps { step } => format!("stopped at step {step}: the step limit"),
            StopReason::Epochs { step, epochs } => {
                format!("stopped at step {step}: {epochs} epochs done")
            }
            StopReason::Patience {
                step,
                best_step,
                best_loss,
                checks,
            } => format!(
                "stopped early at step {step}: the test loss has not improved for {checks} checks (best {best_loss:.4e} at step {best_step})"
            ),
        }
    }
}

impl StopRule {
    /// Whether any condition is set.
    pub fn is_empty(&self) -> bool {
        *self == StopRule::default()
    }

    /// Whether a check of the losses is needed (not only step or epoch counts).
    pub fn needs_evaluation(&self) -> bool {
        self.train_loss.is_some() || self.train_accuracy.is_some() || self.patience.is_some()
    }

    /// Check the values against what they mean; `test_rows` is the size of the test set
    /// (patience needs one) and `classification` whether accuracy is defined.
    pub fn validate(&self, test_rows: usize, classification: bool) -> Result<()> {
        if let Some(l) = self.train_loss
            && !(l.is_finite() && l >= 0.0)
        {
            return Err(Error::field(
                "stop.train_loss",
                format!("must be a finite number ≥ 0 (got {l})"),
            ));
        }
        if let Some(a) = self.train_accuracy {
            if !(a > 0.0 && a <= 1.0) {
                return Err(Error::field(
                    "stop.train_accuracy",
                    format!("must be a fraction in (0, 1] (got {a})"),
                ));
            }
            if !classification {
                return Err(Error::field(
                    "stop.train_accuracy",
                    "needs a classification task (a regression has no accuracy)",
                ));
            }
        }
        for (name, v) in [
            ("stop.steps", self.steps),
            ("stop.epochs", self.epochs),
            ("stop.patience", self.patience),
            ("stop.check_every", self.check_every),
        ] {
            if v == Some(0) {
                return Err(Error::field(name, "must be at least 1"));
            }
        }
        if self.patience.is_some() && test_rows == 0 {
            return Err(Error::field(
                "stop.patience",
                "needs a test set to watch (set data.test_fraction above 0)",
            ));
        }
        Ok(())
    }
}

/// The running state of a stop rule over one run.
#[derive(Clone, Debug)]
pub struct StopWatch {
    /// The rule watched.
    pub rule: StopRule,
    /// Steps between checks of the losses.
    every: u64,
    best: Option<(u64, f64)>,
    checks_since_best: u64,
}

impl StopWatch {
    /// `steps_per_epoch`: the trainer's iterations per epoch (the default check interval).
    pub fn new(rule: StopRule, steps_per_epoch: u64) -> StopWatch {
        let every = rule.check_every.unwrap_or(steps_per_epoch).max(1);
        StopWatch {
            rule,
            every,
            best: None,
            checks_since_best: 0,
        }
    }

    /// Whether the losses are to be checked after `step` (call [`check`](Self::check) with an
    /// evaluation then).
    pub fn evaluation_due(&self, step: u64) -> bool {
        self.rule.needs_evaluation() && step.is_multiple_of(self.every)
    }

    /// After a step: `eval` is the evaluation at `step` when `evaluation_due` said so (or
    /// when one was made anyway); None otherwise.
    pub fn check(
        &mut self,
        step: u64,
        epoch: u64,
        eval: Option<&Evaluation>,
    ) -> Option<StopReason> {
        if let Some(e) = eval {
            if let Some(target) = self.rule.train_loss
                && e.train_loss <= target
            {
                return Some(StopReason::TrainLoss {
                    step,
                    loss: e.train_loss,
                    target,
                });
            }
            if let Some(target) = self.rule.train_accuracy
                && e.train_accuracy >= target
            {
                return Some(StopReason::TrainAccuracy {
                    step,
                    accuracy: e.train_accuracy,
                    target,
                });
            }
            if let Some(patience) = self.rule.patience
                && step.is_multiple_of(self.every)
            {
                let improved =
                    e.test_loss.is_finite() && self.best.is_none_or(|(_, best)| e.test_loss < best);
                if improved {
                    self.best = Some((step, e.test_loss));
                    self.checks_since_best = 0;
                } else {
                    self.checks_since_best += 1;
                }
                if self.checks_since_best >= patience
                    && let Some((best_step, best_loss)) = self.best
                {
                    return Some(StopReason::Patience {
                        step,
                        best_step,
                        best_loss,
                        checks: self.checks_since_best,
                    });
                }
            }
        }
        if self.rule.steps.is_some_and(|n| step >= n) {
            return Some(StopReason::Steps { step });
        }
        if let Some(n) = self.rule.epochs
            && epoch >= n
        {
            return Some(StopReason::Epochs {
                step,
                epochs: epoch,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(train_loss: f64, train_accuracy: f64, test_loss: f64) -> Evaluation {
        Evaluation {
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy: 0.0,
            ..Evaluation::default()
        }
    }

    #[test]
    fn patience_counts_checks_without_a_new_best() {
        let rule = StopRule {
            patience: Some(3),
            check_every: Some(10),
            ..Default::default()
        };
        let mut w = StopWatch::new(rule, 7);
        let tests = [1.0, 0.8, 0.9, 0.85, 0.7, 0.71, 0.72, 0.7, 0.9];
        let mut stopped = None;
        for (i, t) in tests.iter().enumerate() {
            let step = 10 * (i as u64 + 1);
            assert!(w.evaluation_due(step) && !w.evaluation_due(step + 1));
            if let Some(r) = w.check(step, 0, Some(&eval(1.0, 0.5, *t))) {
                stopped = Some(r);
                break;
            }
        }
        // 0.9 and 0.85 do not beat 0.8 (two checks), 0.7 at step 50 does (the count restarts);
        // 0.71, 0.72 and 0.7 (equal is not below) are three checks without a new best.
        assert_eq!(
            stopped,
            Some(StopReason::Patience {
                step: 80,
                best_step: 50,
                best_loss: 0.7,
                checks: 3
            })
        );
    }

    #[test]
    fn targets_steps_and_epochs() {
        let rule = StopRule {
            train_loss: Some(0.1),
            train_accuracy: Some(0.99),
            steps: Some(500),
            epochs: Some(4),
            ..Default::default()
        };
        let mut w = StopWatch::new(rule, 100);
        assert_eq!(w.check(100, 1, Some(&eval(0.2, 0.9, 0.3))), None);
        assert!(matches!(
            w.check(200, 2, Some(&eval(0.1, 0.9, 0.3))),
            Some(StopReason::TrainLoss { step: 200, .. })
        ));
        assert!(matches!(
            w.check(200, 2, Some(&eval(0.5, 0.995, 0.3))),
            Some(StopReason::TrainAccuracy { step: 200, .. })
        ));
        assert_eq!(w.check(399, 3, None), None);
        assert_eq!(
            w.check(400, 4, None),
            Some(StopReason::Epochs {
                step: 400,
                epochs: 4
            })
        );
        let mut w = StopWatch::new(
            StopRule {
                steps: Some(500),
                ..Default::default()
            },
            100,
        );
        assert!(!w.evaluation_due(100));
        assert_eq!(w.check(500, 5, None), Some(StopReason::Steps { step: 500 }));
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        let e =
            |r: StopRule, test: usize, class: bool| r.validate(test, class).unwrap_err().message;
        let msg = e(
            StopRule {
                patience: Some(5),
                ..Default::default()
            },
            0,
            true,
        );
        assert!(
            msg.contains("stop.patience") && msg.contains("test set"),
            "{msg}"
        );
        let msg = e(
            StopRule {
                train_accuracy: Some(1.5),
                ..Default::default()
            },
            10,
            true,
        );
        assert!(msg.contains("stop.train_accuracy"), "{msg}");
        let msg = e(
            StopRule {
                train_accuracy: Some(0.9),
                ..Default::default()
            },
            10,
            false,
        );
        assert!(msg.contains("regression"), "{msg}");
        let msg = e(
            StopRule {
                train_loss: Some(f64::NAN),
                ..Default::default()
            },
            10,
            true,
        );
        assert!(msg.contains("stop.train_loss"), "{msg}");
        let msg = e(
            StopRule {
                check_every: Some(0),
                ..Default::default()
            },
            10,
            true,
        );
        assert!(msg.contains("stop.check_every"), "{msg}");
    }
}
