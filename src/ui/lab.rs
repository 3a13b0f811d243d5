//! The lab's model state on the UI side: the experiment as edited and as the worker accepted
//! it, and what the worker reported about its run (status, history, snapshot, datasets,
//! errors). Views read it through the accessors; only the app changes it, when it applies a
//! command or an event.

use std::sync::Arc;
use std::time::Instant;

use crate::data::Dataset;
use crate::net::network::Network;
use crate::runtime::worker::{LiveEdit, Snapshot, Speed, Status, Worker};
use crate::session::Session;

use super::history::History;

/// The lab's model state on the UI side (see the module doc). Fields are crate-private: views read
/// them through the accessors below, only the app writes them.
pub struct Lab {
    /// The experiment as edited.
    pub(crate) session: Session,
    /// The last experiment the worker accepted.
    pub(crate) applied: Session,
    /// Rows read from a file (CSV or a session), used instead of generating.
    pub(crate) dataset: Option<Arc<(Dataset, Dataset)>>,
    pub(crate) net: Option<Network>,
    pub(crate) worker: Worker,
    pub(crate) status: Status,
    pub(crate) history: History,
    pub(crate) snapshot: Option<Box<Snapshot>>,
    pub(crate) train: Arc<Dataset>,
    pub(crate) test: Arc<Dataset>,
    pub(crate) n_params: usize,
    pub(crate) edits: Vec<LiveEdit>,
    pub(crate) diverged: Option<(u64, f64)>,
    pub(crate) panicked: Option<String>,
    pub(crate) error: Option<String>,
    /// A passing notice (opened, saved, …) and when it was given.
    pub(crate) notice: Option<(String, Instant)>,
    pub(crate) speed: Speed,
    pub(crate) rebuilt_at: Option<Instant>,
    /// Bytes the recording's checkpoints may take (the Session menu sets it).
    pub(crate) checkpoint_budget: u64,
    /// (curvature generation, step) of the last analysis put into the recording.
    pub(crate) recorded_analysis: Option<(u64, u64)>,
    /// (request id, step) of the last landscape put into the recording.
    pub(crate) recorded_landscape: Option<(u64, u64)>,
    /// Drawing on the decision map: undo/redo of the data, the last refusal.
    pub(crate) drawing: super::draw::DrawHistory,
}

impl Lab {
    /// A lab around a freshly spawned worker, before its first build reports.
    pub(crate) fn new(session: Session, worker: Worker, speed: Speed) -> Lab {
        let net = Network::build(&session.network, session.loss).ok();
        let empty = Arc::new(Dataset {
            inputs: 2,
            x: Vec::new(),
            y: Vec::new(),
            task: crate::data::spec::Task::Classification,
            classes: 2,
        });
        Lab {
            applied: session.clone(),
            session,
            dataset: None,
            net,
            worker,
            status: Status::default(),
            history: History::default(),
            snapshot: None,
            train: empty.clone(),
            test: empty,
            n_params: 0,
            edits: Vec::new(),
            diverged: None,
            panicked: None,
            error: None,
            notice: None,
            speed,
            rebuilt_at: None,
            checkpoint_budget: crate::session::recorder::DEFAULT_CHECKPOINT_BUDGET,
            recorded_analysis: None,
            recorded_landscape: None,
            drawing: Default::default(),
        }
    }

    /// The experiment as edited in the panels.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The experiment the worker runs.
    pub fn applied(&self) -> &Session {
        &self.applied
    }

    /// The worker's last status report: whether it trains, step, epoch, iteration, speed.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The loss/accuracy curves recorded so far, one point per reported step.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The latest live picture (None until the first one arrives after a build or reset).
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_deref()
    }

    /// The training rows of the applied experiment (empty until the first build reports).
    pub fn train(&self) -> &Dataset {
        &self.train
    }

    /// The training rows, shared (for work handed to another thread).
    pub(crate) fn train_shared(&self) -> Arc<Dataset> {
        self.train.clone()
    }

    /// The held-out test rows of the applied experiment.
    pub fn test(&self) -> &Dataset {
        &self.test
    }

    /// The network the applied experiment describes (structure only; its weights live in the worker
    /// and arrive in the snapshot). None if the spec does not build.
    pub fn net(&self) -> Option<&Network> {
        self.net.as_ref()
    }

    /// Parameters of the network the worker built (0 until it has).
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// The live edits (learning rate, weights, optimiser, …) made during this run, each with its
    /// step.
    pub fn edits(&self) -> &[LiveEdit] {
        &self.edits
    }

    /// (step, loss) where training diverged.
    pub fn diverged(&self) -> Option<(u64, f64)> {
        self.diverged
    }

    /// The worker's panic message, if it crashed.
    pub fn panicked(&self) -> Option<&str> {
        self.panicked.as_deref()
    }

    /// The error banner's text.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The passing notice's text and when it was given.
    pub fn notice(&self) -> Option<&(String, Instant)> {
        self.notice.as_ref()
    }

    /// How fast the training thread is asked to run.
    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// When the worker last reported a new network.
    pub fn rebuilt_at(&self) -> Option<Instant> {
        self.rebuilt_at
    }

    /// Bytes the recording's checkpoints may take (the Session menu sets it).
    pub fn checkpoint_budget(&self) -> u64 {
        self.checkpoint_budget
    }

    /// The training thread, for the crash report's test (its injected panic).
    #[cfg(feature = "test-hooks")]
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The network trains with the perceptron rule (one layer, no backprop).
    pub fn is_perceptron(&self) -> bool {
        self.applied.optimizer.effective_rule() == crate::optim::spec::TrainingRule::Perceptron
    }

    /// Drawing on the decision map: what can be undone or redone, the last refusal.
    pub fn drawing(&self) -> &super::draw::DrawHistory {
        &self.drawing
    }
}
