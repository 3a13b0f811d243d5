//! The recorder: whoever drives a trainer (the CLI's `run`, the app's worker) feeds it every
//! step report, evaluation, live edit and analysis; it keeps the history and decides when to
//! take a checkpoint, within a byte budget. `write_into` puts everything into a session.

use crate::train::{Edit, Evaluation, LiveEdit, StepReport, Trainer, TrainerState};

use super::analysis::Analysis;
use super::history::History;
use super::spec::Session;

/// Default bytes the checkpoints of a session may take (8 MiB).
pub const DEFAULT_CHECKPOINT_BUDGET: u64 = 8 << 20;
/// Steps 0..=DENSE_STEPS are all checkpointed (budget permitting).
pub const DENSE_STEPS: u64 = 10;
/// Later, a checkpoint when the step has grown by a quarter since the last one.
const GROWTH_DIVISOR: u64 = 4;
/// Default most history rows (steps) kept; beyond, the recording stride doubles.
pub const DEFAULT_HISTORY_LIMIT: usize = 100_000;
/// Most values the history may hold (≈ 170 MB in a session file): fewer rows for deep nets.
pub const MAX_HISTORY_VALUES: usize = 16_000_000;

/// Collects a run's recording (history, edits, checkpoints, analyses) while it trains, within
/// its budgets, and writes it into a session.
pub struct Recorder {
    /// θ at step 0.
    pub initial_params: Vec<f64>,
    /// Per-step reports and evaluations.
    pub history: History,
    /// Live edits, at the steps they applied.
    pub edits: Vec<LiveEdit>,
    /// Trainer states to restart replay from.
    pub checkpoints: Vec<TrainerState>,
    /// Analyses computed during the run.
    pub analyses: Vec<Analysis>,
    /// Bytes the checkpoints may take (compact JSON). The first and the last are kept even if
    /// they alone exceed it.
    pub budget: u64,
    /// Most history rows kept: when the history grows past it, only steps that are multiples
    /// of a doubled stride are kept (and recorded from then on), like the app's live plots.
    pub history_limit: usize,
    /// Record steps (and evaluations) that are multiples of this (diverged steps always).
    pub stride: u64,
    /// Compact-JSON size of each checkpoint.
    sizes: Vec<u64>,
}

/// The stride a recorded history was kept at: the largest power of two dividing every
/// recorded step (1 for a full history).
fn stride_of(h: &History) -> u64 {
    let mut stride = 1u64;
    while stride < (1 << 40) && h.len() > 1 && h.step.iter().all(|s| s.is_multiple_of(stride * 2)) {
        stride *= 2;
    }
    stride
}

/// Compact JSON bytes of a state (what it adds to a session file).
pub fn state_bytes(s: &TrainerState) -> u64 {
    serde_json::to_vec(s).map_or(0, |v| v.len() as u64)
}

impl Recorder {
    /// Start recording a trainer that has not stepped yet: θ₀ and the step-0 checkpoint.
    pub fn new(trainer: &Trainer, budget: u64) -> Recorder {
        let mut r = Recorder {
            initial_params: trainer.theta.clone(),
            history: History::default(),
            edits: Vec::new(),
            checkpoints: Vec::new(),
            analyses: Vec::new(),
            budget,
            history_limit: DEFAULT_HISTORY_LIMIT,
            stride: 1,
            sizes: Vec::new(),
        };
        r.checkpoint(trainer);
        r
    }

    /// Continue the recording of `session`, whose state `trainer` was restored to: its history,
    /// edits, checkpoints and analyses carry on. A session without a state starts a fresh
    /// recording (keeping only its analyses).
    pub fn resume(session: &Session, trainer: &Trainer) -> Recorder {
        if session.state.is_none() {
            let budget = session
                .checkpoint_budget
                .unwrap_or(DEFAULT_CHECKPOINT_BUDGET);
            let mut r = Recorder::new(trainer, budget);
            r.analyses = session.analyses.clone();
            return r;
        }
        let initial_params = session
            .start_params()
            .cloned()
            .unwrap_or_else(|| trainer.theta.clone());
        Recorder {
            initial_params,
            history: session.history.clone(),
            edits: session.edits.clone(),
            checkpoints: session.checkpoints.clone(),
            analyses: session.analyses.clone(),
            budget: session
                .checkpoint_budget
                .unwrap_or(DEFAULT_CHECKPOINT_BUDGET),
            history_limit: DEFAULT_HISTORY_LIMIT,
            stride: stride_of(&session.history),
            sizes: session.checkpoints.iter().map(state_bytes).collect(),
        }
    }

    /// Record a step the trainer just took (call right after `Trainer::step`); checkpoints
    /// when one is due.
    pub fn record_step(&mut self, report: &StepReport, trainer: &Trainer) {
        if report.step.is_multiple_of(self.stride) || report.diverged {
            self.history.push(report);
            // A row holds about a dozen values plus seven a layer: a deep network keeps fewer
            // rows, so the history of any network stays within MAX_HISTORY_VALUES.
            let per_row = 12 + 7 * report.layers.len();
            let limit = self.history_limit.min(MAX_HISTORY_VALUES / per_row);
            if self.history.len() > limit.max(2) {
                self.stride = self.stride.saturating_mul(2);
                self.history.keep_multiples_of(self.stride);
            }
        }
        if self.checkpoint_due(trainer.step) {
            self.checkpoint(trainer);
        }
    }

    /// Record an evaluation made at `step`. Only the first evaluation of a step is kept, and
    /// none after a weight edit at that step: a replay recomputes evaluations from the state
    /// before that step's edits.
    pub fn record_evaluation(&mut self, step: u64, e: &Evaluation) {
        if self.history.evaluations.step.last() == Some(&step) || !step.is_multiple_of(self.stride)
        {
            return;
        }
        let edited = self
            .edits
            .iter()
            .rev()
            .take_while(|x| x.step == step)
            .any(|x| matches!(x.edit, Edit::Weight { .. }));
        if !edited {
            self.history.evaluations.push(step, e);
        }
    }

    /// Record a live edit that was applied successfully when `step` steps had been taken.
    pub fn record_edit(&mut self, step: u64, edit: Edit) {
        self.edits.push(LiveEdit { step, edit });
    }

    /// Keep an analysis computed during the run.
    pub fn record_analysis(&mut self, a: Analysis) {
        self.analyses.push(a);
    }

    /// Whether a checkpoint is due at `step`: every step up to DENSE_STEPS, then each time
    /// the step has grown by a quarter since the last checkpoint.
    pub fn checkpoint_due(&self, step: u64) -> bool {
        let Some(last) = self.checkpoints.last().map(|c| c.step) else {
            return true;
        };
        if step <= last {
            return false;
        }
        step <= DENSE_STEPS || step - last >= (last / GROWTH_DIVISOR).max(1)
    }

    /// Take a checkpoint of the trainer now, then thin the checkpoints to the budget. Skipped
    /// when one exists at this step or an edit was already recorded at it (a checkpoint holds
    /// the state before its step's edits, which is what a replay reaches).
    pub fn checkpoint(&mut self, trainer: &Trainer) {
        let step = trainer.step;
        if self.checkpoints.last().is_some_and(|c| c.step >= step)
            || self.edits.last().is_some_and(|e| e.step >= step)
        {
            return;
        }
        let s = trainer.export_state();
        self.sizes.push(state_bytes(&s));
        self.checkpoints.push(s);
        self.thin();
    }

    /// A new budget (bytes) for the checkpoints; thins them at once when over it.
    pub fn set_budget(&mut self, bytes: u64) {
        self.budget = bytes;
        self.thin();
    }

    /// Bytes the checkpoints take now.
    pub fn checkpoint_bytes(&self) -> u64 {
        self.sizes.iter().sum()
    }

    /// While over budget, drop the middle checkpoint whose neighbours are closest relative to
    /// their step (the densest stretch), never the first or the last.
    fn thin(&mut self) {
        let mut total = self.checkpoint_bytes();
        while total > self.budget && self.checkpoints.len() > 2 {
            let steps: Vec<u64> = self.checkpoints.iter().map(|c| c.step).collect();
            let gap = |i: usize| (steps[i + 1] - steps[i - 1]) as f64 / (steps[i + 1] + 1) as f64;
            let mut best = 1;
            for i in 2..steps.len() - 1 {
                if gap(i) < gap(best) {
                    best = i;
                }
            }
            self.checkpoints.remove(best);
            total -= self.sizes.remove(best);
        }
    }

    /// Put the recording and the trainer's current state into `session` (its spec fields are
    /// left as they are: they describe step 0).
    pub fn write_into(&self, session: &mut Session, trainer: &Trainer) {
        session.nnlab = super::FORMAT_VERSION;
        session.params = Some(trainer.theta.clone());
        session.state = Some(trainer.export_state());
        session.initial_params = Some(self.initial_params.clone());
        session.history = self.history.clone();
        session.edits = self.edits.clone();
        session.checkpoints = self.checkpoints.clone();
        session.checkpoint_budget = Some(self.budget);
        session.analyses = self.analyses.clone();
    }
}
