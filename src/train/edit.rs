//! Live edits: changes made between steps of a running experiment. The worker records them with
//! the step they took effect at; sessions store them so a replay applies them at the same steps.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::spec::{OptimizerSpec, Regularization};

use super::trainer::Trainer;

/// A change made while the experiment runs, with the step it took effect at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEdit {
    /// Steps taken before the edit applied.
    pub step: u64,
    /// What changed.
    pub edit: Edit,
}

/// A change made to a running training (the app's live edits), replayed at its step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// New optimiser settings (the moments are kept when the kind stays).
    Optimizer {
        /// The settings in force from this step.
        spec: OptimizerSpec,
    },
    /// New L1/L2 penalties.
    Regularization {
        /// The penalties in force from this step.
        regularization: Regularization,
    },
    /// One parameter set by hand (an edge weight in the designer).
    Weight {
        /// Index in θ.
        index: usize,
        /// Its new value.
        value: f64,
    },
}

impl Trainer {
    /// Apply a live edit exactly as the worker does (replay goes through here too).
    pub fn apply_edit(&mut self, edit: &Edit) -> Result<()> {
        match edit {
            Edit::Optimizer { spec } => self.set_optimizer(spec),
            Edit::Regularization { regularization } => self.set_regularization(*regularization),
            Edit::Weight { index, value } => {
                if !value.is_finite() {
                    return Err(Error::field("weight edit value", "must be a finite number"));
                }
                let n = self.theta.len();
                let slot = self.theta.get_mut(*index).ok_or_else(|| {
                    Error::field(
                        "weight edit index",
                        format!("{index} is out of range (the network has {n} parameters)"),
                    )
                })?;
                *slot = *value;
                Ok(())
            }
        }
    }
}
