//! The session file, version 2 (see docs/session-format.md). Version 1 is version 2 without the
//! recorded sections (state, initial_params, history, edits, checkpoints, analyses), so a v1
//! file reads as a v2 session with those empty. Unknown fields are ignored so a newer file never
//! becomes unreadable to the fields this version knows.

use serde::{Deserialize, Serialize};

use crate::data::spec::DataSpec;
use crate::net::spec::{Loss, NetworkSpec};
use crate::optim::spec::{OptimizerSpec, Regularization};
use crate::train::{LiveEdit, StopRule, TrainerConfig, TrainerState};

use super::analysis::Analysis;
use super::history::History;

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 2;

/// An experiment (data, network, loss, optimiser, regulariser, seed) and optionally its
/// recording: the whole content of a session file (docs/session-format.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version.
    pub nnlab: u32,
    #[serde(default)]
    /// A name to show.
    pub name: String,
    #[serde(default)]
    /// Seed of every random stream (initialisation, data, batches, dropout).
    pub seed: u64,
    /// Where the rows come from.
    pub data: DataSpec,
    /// The network.
    pub network: NetworkSpec,
    /// The training loss.
    pub loss: Loss,
    /// The optimiser and its settings.
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    /// L1/L2 penalties on the weights.
    pub regularization: Regularization,
    /// When to stop training (a target loss or accuracy, steps, epochs, early stopping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopRule>,
    /// The flat parameter vector θ; replaces the initialiser when present (and there is no
    /// `state`). A recorded session writes its current θ here too, for readers of version 1.
    #[serde(default, with = "crate::json_float::opt_vec")]
    pub params: Option<Vec<f64>>,
    /// v2: the exact resumable trainer state at the end of the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<TrainerState>,
    /// v2: θ at step 0, where a replay starts.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_float::opt_vec"
    )]
    pub initial_params: Option<Vec<f64>>,
    /// v2: every recorded step's metrics and every evaluation.
    #[serde(default, skip_serializing_if = "History::is_empty")]
    pub history: History,
    /// v2: live edits with the step they took effect at, in order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::bounded::edits"
    )]
    pub edits: Vec<LiveEdit>,
    /// v2: full resumable states at increasing steps (dense early, thinner later).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::bounded::checkpoints"
    )]
    pub checkpoints: Vec<TrainerState>,
    /// v2: bytes the checkpoints may take (None: the default, 8 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_budget: Option<u64>,
    /// v2: stored analysis results.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::bounded::analyses"
    )]
    pub analyses: Vec<Analysis>,
}

impl Session {
    /// Whether the session carries anything recorded (a state, history, edits, checkpoints).
    pub fn is_recorded(&self) -> bool {
        self.state.is_some()
            || !self.history.is_empty()
            || !self.edits.is_empty()
            || !self.checkpoints.is_empty()
    }

    /// The last step this session knows of: its state's step, or the last recorded step.
    pub fn last_step(&self) -> u64 {
        let s = self.state.as_ref().map_or(0, |s| s.step);
        let h = self.history.last_step().unwrap_or(0);
        let e = self.history.evaluations.step.last().copied().unwrap_or(0);
        let c = self.checkpoints.last().map_or(0, |c| c.step);
        s.max(h).max(e).max(c)
    }

    /// θ at step 0 for a replay: `initial_params`, or (a session that never trained) `params`;
    /// None means the initialiser.
    pub fn start_params(&self) -> Option<&Vec<f64>> {
        match (&self.initial_params, &self.state) {
            (Some(p), _) => Some(p),
            (None, None) => self.params.as_ref(),
            (None, Some(_)) => None,
        }
    }

    /// What a [`crate::train::Trainer`] needs from this session.
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
