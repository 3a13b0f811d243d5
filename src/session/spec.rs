//! The session file, version 1 (see docs/session-format.md). Unknown fields are ignored so a
//! newer file never becomes unreadable to the fields this version knows.

use serde::{Deserialize, Serialize};

use crate::data::spec::DataSpec;
use crate::net::spec::{Loss, NetworkSpec};
use crate::optim::spec::{OptimizerSpec, Regularization};
use crate::train::TrainerConfig;

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version.
    pub nnlab: u32,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    pub data: DataSpec,
    pub network: NetworkSpec,
    pub loss: Loss,
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    pub regularization: Regularization,
    /// The flat parameter vector θ; replaces the initialiser when present.
    #[serde(default)]
    pub params: Option<Vec<f64>>,
    /// A lesson: the THEORY.md claim this session demonstrates and the check that verifies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<crate::lessons::Lesson>,
}

impl Session {
    pub fn trainer_config(&self) -> TrainerConfig {
        TrainerConfig {
            seed: self.seed,
            network: self.network.clone(),
            loss: self.loss,
            optimizer: self.optimizer.clone(),
            regularization: self.regularization,
        }
    }
}
