//! The training thread of the desktop app. It owns the live [`Trainer`]; the UI talks to it only
//! through channels: [`Command`]s in, [`Event`]s out, and a repaint callback so this module
//! does not depend on the GUI toolkit.
//!
//! Heavy work for the views (decision-map grid, per-neuron outputs, weight histograms) happens
//! here, throttled to about 20 snapshots a second, so the UI thread only draws.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::data::spec::DataSpec;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::net::loss::TargetCoding;
use crate::net::network::{BnMode, BnStats, Network, Workspace};
use crate::optim::spec::{OptimizerSpec, Regularization};

use crate::session::Session;
use crate::session::recorder::{DEFAULT_CHECKPOINT_BUDGET, Recorder};

use super::job::{JobThread, panic_message};
use crate::analysis::curvature::{Objective, Sample};
use crate::analysis::stability::OptimizerSnapshot;
pub use crate::train::memory::{
    GRID, MAX_MAP_SIDE, MAX_NEURON_MAPS, MIN_MAP_SIDE, NEURON_MAP_VALUES,
};
use crate::train::memory::{SNAPSHOT_VALUES, TRAJECTORY_BUDGET, TRAJECTORY_MAX, TRAJECTORY_MIN};
pub use crate::train::{Edit, LiveEdit};
use crate::train::{
    Evaluation, LayerStats, StopReason, StopRule, StopWatch, Trainer, TrainerConfig,
};

/// Grid work one snapshot may do per map (multiply-adds, an activation counted as
/// [`ACTIVATION_COST`]): while training at full speed, and otherwise. A larger network gets
/// a coarser grid than asked, so the maps never cost more than this.
const MAP_WORK_FAST: usize = 1 << 24;
const MAP_WORK: usize = 1 << 28;
const ACTIVATION_COST: usize = 8;
/// Share of the training thread's time snapshots may take while training at full speed, and
/// at a set speed (the thread is mostly idle then).
const SNAPSHOT_SHARE_FAST: f64 = 0.1;
const SNAPSHOT_SHARE: f64 = 0.5;
/// Points of the 1-D curve.
pub const CURVE: usize = 200;
/// Metric rows kept before the recording stride doubles.
pub const MAX_ROWS: usize = 1000;
/// Step rows the session recording keeps before its own stride doubles (every step is still
/// reproducible: `replay --verify` compares the rows that are there).
pub const MAX_RECORDED_ROWS: usize = 20_000;
/// Bins of the weight histograms.
pub const HIST_BINS: usize = 30;

const FLUSH_EVERY: Duration = Duration::from_millis(16);
const SNAPSHOT_EVERY: Duration = Duration::from_millis(50);
/// Parameters a snapshot may copy (and histogram) per second while training: larger networks
/// are snapshotted less often (25M parameters once a second), so copying θ never dominates.
const SNAPSHOT_PARAMS_PER_SEC: f64 = 25e6;

/// Time between two snapshots while training, for `params` parameters.
fn snapshot_every(params: usize) -> Duration {
    SNAPSHOT_EVERY.max(Duration::from_secs_f64(
        params as f64 / SNAPSHOT_PARAMS_PER_SEC,
    ))
}

/// Everything needed to build an experiment: the trainer config and where its data comes from.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The trainer's configuration.
    pub config: TrainerConfig,
    /// Where the rows come from.
    pub data: DataSpec,
    /// Rows already read (CSV, or a session's data): used instead of generating `data`.
    pub dataset: Option<Arc<(Dataset, Dataset)>>,
    /// Starting parameters instead of the initialiser.
    pub params: Option<Vec<f64>>,
    /// A recorded session to continue: the trainer resumes at its state and the recording
    /// (history, edits, checkpoints, analyses) carries on.
    pub recorded: Option<Arc<Session>>,
}

impl Experiment {
    /// The train and test sets (generated deterministically from the spec unless given).
    pub fn build_data(&self) -> Result<(Dataset, Dataset)> {
        if let Some(d) = &self.dataset {
            return Ok((d.0.clone(), d.1.clone()));
        }
        let ds = data::generate(&self.data, self.config.seed)?;
        let seed = self.data.seed.unwrap_or(self.config.seed);
        Ok(data::split_for(&self.data, &ds, seed))
    }

    /// A trainer for this experiment (its data built, its memory checked).
    pub fn trainer(&self) -> Result<Trainer> {
        let (train, test) = self.build_data()?;
        // The app holds more than the trainer: snapshots, the trajectory, the curvature sample.
        let net = Network::build(&self.config.network, self.config.loss)?;
        crate::train::memory::check(crate::train::memory::Shape {
            net: &net,
            optimizer: &self.config.optimizer,
            train_rows: train.rows(),
            test_rows: test.rows(),
            views: true,
        })?;
        let mut t = Trainer::new(&self.config, train, test, self.params.clone())?;
        if let Some(state) = self.recorded.as_ref().and_then(|s| s.state.as_ref()) {
            t.restore_state(state)?;
        }
        Ok(t)
    }

    /// The same experiment from its step 0 (what Reset goes back to).
    pub fn at_start(&self) -> Experiment {
        let mut e = self.clone();
        if let Some(s) = e.recorded.take() {
            e.params = s.start_params().cloned();
        }
        e
    }
}

/// How fast the worker trains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// At most this many steps per second.
    PerSecond(f64),
}

/// What the UI asks of the training thread.
pub enum Command {
    /// Train continuously.
    Start,
    /// Stop training (the state is kept).
    Pause,
    /// Take n steps, then stop.
    Step(u64),
    /// Back to the initial parameters of the current experiment.
    Reset,
    /// New optimiser settings (recorded as a live edit).
    SetOptimizer(OptimizerSpec),
    /// New L1/L2 penalties (recorded as a live edit).
    SetRegularization(Regularization),
    /// Replace the experiment (architecture, data or rule changed).
    Rebuild(Box<Experiment>),
    /// Steps per second, or as fast as possible.
    SetSpeed(Speed),
    /// Set θ\[index\] (an edge weight clicked in the designer).
    SetWeight {
        /// Index in θ.
        index: usize,
        /// Its new value.
        value: f64,
    },
    /// Send a fresh snapshot now.
    Snapshot,
    /// Hand out θ for the curvature analysis every k steps (None: never; costs nothing).
    CurvatureEvery(Option<u64>),
    /// Hand out the current θ for the curvature analysis now.
    CurvatureNow,
    /// Send the whole recording as a session (`base` gives name, data and the spec at step 0
    /// of what is not the worker's: the optimiser and regularisation come from the recording).
    Export {
        /// The session whose name, data and network the recording goes with.
        base: Box<Session>,
        /// What the recording is for (the answer carries it back).
        purpose: Purpose,
    },
    /// Store an analysis result in the recording.
    RecordAnalysis(Box<crate::session::analysis::Analysis>),
    /// Bytes the recording's checkpoints may take (this and every later recording).
    SetCheckpointBudget(u64),
    /// Hand out θ, θ₀ and the recorded trajectory for the landscape / dynamics panels now.
    PathNow,
    /// The sides of the maps the views draw and the unit shown large (a new snapshot follows).
    SetMaps(MapRequest),
    /// When to stop training (armed again by every rebuild and reset; a rule that has fired
    /// stays quiet until then, so Play continues past it).
    SetStop(StopRule),
    /// Hand out the last step exactly (θ before and after it, its batch): the update panel's
    /// ΔW against −η (1/m) Σ δ aᵀ. Answered by [`Event::LastUpdate`], no snapshot.
    LastUpdate,
    /// Panic on purpose: the crash report's test (compiled only for tests).
    #[cfg(any(test, feature = "test-hooks"))]
    InjectPanic,
    /// End the thread.
    Shutdown,
}

/// One recorded training step.
#[derive(Clone, Debug, Default)]
pub struct StepRow {
    /// The step.
    pub step: u64,
    /// Completed epochs.
    pub epoch: u64,
    /// The learning rate used.
    pub lr: f64,
    /// Loss on the step's batch.
    pub batch_loss: f64,
    /// Global gradient norm.
    pub grad_norm: f64,
    /// Per-layer statistics.
    pub layers: Vec<LayerStats>,
}

impl From<crate::train::StepReport> for StepRow {
    /// The plotted part of a step's report (its per-layer stats moved, not copied).
    fn from(r: crate::train::StepReport) -> Self {
        StepRow {
            step: r.step,
            epoch: r.epoch,
            lr: r.lr,
            batch_loss: r.batch_loss,
            grad_norm: r.grad_norm,
            layers: r.layers,
        }
    }
}

/// A histogram of one layer's weights.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f64,
    /// Right edge of the last bin.
    pub hi: f64,
    /// Weights per bin (equal widths).
    pub counts: Vec<u32>,
}

/// What the views ask of a snapshot's maps: their sides in grid points (the pixels they cover
/// on screen) and the unit the output view shows large.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRequest {
    /// Side of the decision map and of the focused unit's map.
    pub output: usize,
    /// Side of each neuron and feature map of the network diagram.
    pub neurons: usize,
    /// (column, unit): column 0 holds the input features, column l ≥ 1 the l-th layer.
    pub focus: Option<(usize, usize)>,
}

impl Default for MapRequest {
    fn default() -> Self {
        MapRequest {
            output: GRID,
            neurons: GRID,
            focus: None,
        }
    }
}

/// Multiply-adds of one grid row through `net` (an activation counted as [`ACTIVATION_COST`]).
fn row_work(net: &Network) -> usize {
    net.layers
        .iter()
        .map(|l| {
            l.n_weights()
                .saturating_add(l.units.saturating_mul(ACTIVATION_COST))
        })
        .fold(net.features.len(), usize::saturating_add)
}

/// The sides actually computed for `asked`: within [MIN_MAP_SIDE, MAX_MAP_SIDE], a grid's work
/// within `work`, and all neuron and feature maps within [`NEURON_MAP_VALUES`].
pub fn map_sides(net: &Network, asked: MapRequest, work: usize) -> (usize, usize) {
    let by_work = (work / row_work(net).max(1)).isqrt();
    let side = |s: usize| s.min(by_work).clamp(MIN_MAP_SIDE, MAX_MAP_SIDE);
    let maps = net
        .layers
        .iter()
        .map(|l| l.units.min(MAX_NEURON_MAPS))
        .fold(net.features.len(), usize::saturating_add)
        .max(1);
    let by_values = (NEURON_MAP_VALUES / maps).isqrt();
    (
        side(asked.output),
        side(asked.neurons.min(by_values)).min(by_values.max(1)),
    )
}

/// The focused unit's outputs over the decision map's grid.
#[derive(Clone, Debug)]
pub struct FocusMap {
    /// (column, unit) as in [`MapRequest::focus`].
    pub unit: (usize, usize),
    /// Its output per grid cell, as the decision map's `values`.
    pub values: Vec<f32>,
}

/// What the output view shows.
#[derive(Clone, Debug, Default)]
pub enum OutputMap {
    /// Nothing to show (no network yet, or more than two inputs).
    #[default]
    None,
    /// 2-D inputs: `values[row * side + col]`, row 0 at the top (largest x2).
    Grid {
        /// Cells per side.
        side: usize,
        /// The x1 range the grid covers.
        x_range: (f64, f64),
        /// The x2 range the grid covers.
        y_range: (f64, f64),
        /// Per cell: score in [−1, 1] (two classes), the class index (k classes) or the output.
        values: Vec<f32>,
        /// Per cell: the confidence of the class (k classes), else 1.
        confidence: Vec<f32>,
    },
    /// 1-D inputs: the fitted curve.
    Curve {
        /// Inputs, increasing.
        xs: Vec<f64>,
        /// The output at each.
        ys: Vec<f64>,
    },
}

/// A throttled picture of the live network.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The step it shows.
    pub step: u64,
    /// θ at that step.
    pub theta: Vec<f64>,
    /// The decision map or fitted curve.
    pub output: OutputMap,
    /// Side of the feature and neuron maps' grid (2-D inputs).
    pub map_side: usize,
    /// Per input feature, its value on the grid / curve.
    pub features: Vec<Vec<f32>>,
    /// Per layer, per drawn unit (at most MAX_NEURON_MAPS), its output on the grid / curve.
    pub neurons: Vec<Vec<Vec<f32>>>,
    /// The unit asked for in [`MapRequest::focus`], on the decision map's grid (2-D inputs).
    pub focus: Option<FocusMap>,
    /// Per layer, a histogram of its weights.
    pub histograms: Vec<Histogram>,
}

/// Counters and speed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Status {
    /// Training continuously.
    pub running: bool,
    /// Steps taken.
    pub step: u64,
    /// Completed epochs.
    pub epoch: u64,
    /// Iteration within the epoch.
    pub iteration: usize,
    /// Mini-batches per epoch.
    pub iterations_per_epoch: usize,
    /// Measured training speed.
    pub steps_per_sec: f64,
    /// Perceptron rule: mistakes so far.
    pub mistakes: u64,
}

/// What an exported recording is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Purpose {
    /// Save to this file.
    Save(std::path::PathBuf),
    /// The recovery file.
    Autosave,
    /// The timeline's copy of the recording (to replay from).
    Timeline,
}

/// What the training thread tells the UI.
pub enum Event {
    /// A new experiment is live (history restarts).
    Rebuilt {
        /// Length of θ.
        n_params: usize,
        /// The training rows.
        train: Arc<Dataset>,
        /// The test rows.
        test: Arc<Dataset>,
    },
    /// The requested rebuild was refused; the previous experiment keeps running.
    RebuildFailed(String),
    /// Parameters went back to the start.
    WasReset,
    /// Steps taken since the last event (for the plots).
    Steps(Vec<StepRow>),
    /// The recording stride doubled: keep only rows whose step is a multiple of it.
    Stride(u64),
    /// Counters and speed.
    Status(Status),
    /// A new picture of the network.
    Snapshot(Box<Snapshot>),
    /// Whole-set loss and accuracy (or RMSE and R²).
    Evaluation {
        /// The step evaluated.
        step: u64,
        /// The numbers.
        eval: Evaluation,
    },
    /// The loss or θ stopped being finite; training paused.
    Diverged {
        /// The step it happened at.
        step: u64,
        /// The loss then.
        loss: f64,
    },
    /// A stop condition was met: training paused at its step.
    Stopped(StopReason),
    /// The live edits recorded so far.
    Edits(Vec<LiveEdit>),
    /// θ for the curvature analysis (at most one per flush: the newest k-th step).
    Curvature(Box<Sample>),
    /// Answer to [`Command::PathNow`].
    Path(Arc<ThetaPath>),
    /// A command failed (one line for the person).
    Error(String),
    /// The thread panicked (the message); the UI offers to save the recovery file.
    WorkerPanicked(String),
    /// Answer to [`Command::LastUpdate`] at the trainer's `step`: the last step, or None when
    /// θ has not been moved by a step since it was built, reset or edited.
    LastUpdate {
        /// The trainer's step count when asked.
        step: u64,
        /// The step (boxed: θ twice and a batch).
        last: Option<Box<LastStep>>,
    },
    /// The whole recording, as asked by `Command::Export` (None: there is no trainer).
    Recording {
        /// The session (None: there is no trainer).
        session: Option<Box<Session>>,
        /// What it was asked for.
        purpose: Purpose,
    },
}

/// One training step exactly as the trainer took it (THEORY row 32): what it started from,
/// what it ended at, and the rows it trained on.
pub struct LastStep {
    /// The step's number (θ_after is θ at this step).
    pub step: u64,
    /// The learning rate the step used (after the schedule).
    pub lr: f64,
    /// The network trained (its mask included).
    pub net: Network,
    /// θ before the step.
    pub theta_before: Vec<f64>,
    /// θ after it.
    pub theta_after: Vec<f64>,
    /// The batch's inputs (row-major): the whole training set for a full batch.
    pub batch_x: Vec<f64>,
    /// The batch's targets.
    pub batch_y: Vec<f64>,
    /// Classes of the task (0: regression).
    pub classes: usize,
    /// The optimiser in force at the step.
    pub optimizer: OptimizerSpec,
    /// The regulariser in force at the step.
    pub regularization: Regularization,
}

/// The handle the UI keeps.
pub struct Worker {
    tx: Sender<Command>,
    rx: Receiver<Event>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the training thread on `experiment`; `repaint` wakes the UI when events wait.
    pub fn spawn(experiment: Experiment, repaint: Arc<dyn Fn() + Send + Sync>) -> Worker {
        let (tx, cmd_rx) = mpsc::channel();
        let (ev_tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("nnlab-train".into())
            .spawn(move || thread_main(experiment, cmd_rx, ev_tx, repaint))
            .expect("spawn the training thread");
        Worker {
            tx,
            rx,
            handle: Some(handle),
        }
    }

    /// Send a command (ignored once the thread has ended).
    pub fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Shutdown);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn thread_main(
    experiment: Experiment,
    rx: Receiver<Command>,
    tx: Sender<Event>,
    repaint: Arc<dyn Fn() + Send + Sync>,
) {
    let mut state = State::new(experiment, tx.clone(), repaint.clone());
    loop {
        match catch_unwind(AssertUnwindSafe(|| state.run(&rx))) {
            Ok(()) => return,
            Err(p) => {
                let _ = tx.send(Event::WorkerPanicked(panic_message(p.as_ref())));
                // The trainer may be half-updated: drop it; Reset or Rebuild makes a new one.
                state.trainer = None;
                state.running = false;
                state.pending = 0;
                repaint();
            }
        }
    }
}

struct State {
    experiment: Experiment,
    trainer: Option<Trainer>,
    /// When to stop, and its watch over the current run (None: no rule, or it has fired).
    stop_rule: StopRule,
    stop_watch: Option<StopWatch>,
    tx: Sender<Event>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    running: bool,
    pending: u64,
    speed: Speed,
    stride: u64,
    recorded: usize,
    rows: Vec<StepRow>,
    edits: Vec<LiveEdit>,
    ws: Workspace,
    maps: MapRequest,
    bounds: Option<((f64, f64), (f64, f64))>,
    last_flush: Instant,
    last_snapshot: Instant,
    /// [`snapshot_every`] of the current network.
    snapshot_every: Duration,
    /// How long the last snapshot took (the next waits so snapshots keep to their share).
    snapshot_cost: Duration,
    rate_start: Instant,
    rate_steps: u64,
    steps_per_sec: f64,
    speed_window: (Instant, u64),
    dirty: bool,
    curvature: CurvatureFeed,
    /// The session recording of the current experiment (None while there is no trainer).
    recorder: Option<Recorder>,
    /// Budget of a new recording's checkpoints (bytes).
    checkpoint_budget: u64,
    /// Optimiser and regularisation at step 0 of the recording (live edits change the config).
    initial: Option<TrainerConfig>,
    trajectory: Trajectory,
    /// (step, η) of the last step when θ has changed only by steps since (None after a build,
    /// a reset, an edited weight or optimiser): what [`Command::LastUpdate`] can hand out.
    last_step: Option<(u64, f64)>,
}

/// θ₀ and θ every `every` steps since it (thinned: when full, every other snapshot is dropped
/// and `every` doubles), for the PCA plane of the landscape and its projected path. Recording
/// is a copy of θ every `every` steps: free next to a training step.
#[derive(Default)]
struct Trajectory {
    theta0: Vec<f64>,
    thetas: Vec<Vec<f64>>,
    steps: Vec<u64>,
    every: u64,
    cap: usize,
}

impl Trajectory {
    fn start(&mut self, theta0: &[f64]) {
        let p = theta0.len().max(1);
        self.cap = (TRAJECTORY_BUDGET / p).clamp(TRAJECTORY_MIN, TRAJECTORY_MAX);
        self.every = 1;
        self.theta0 = theta0.to_vec();
        self.thetas = vec![theta0.to_vec()];
        self.steps = vec![0];
    }

    fn record(&mut self, step: u64, theta: &[f64]) {
        if self.every == 0 || !step.is_multiple_of(self.every) {
            return;
        }
        self.thetas.push(theta.to_vec());
        self.steps.push(step);
        if self.thetas.len() > self.cap {
            self.every *= 2;
            let every = self.every;
            let (thetas, steps) = std::mem::take(&mut self.thetas)
                .into_iter()
                .zip(std::mem::take(&mut self.steps))
                .filter(|(_, s)| s % every == 0)
                .unzip();
            self.thetas = thetas;
            self.steps = steps;
        }
    }
}

/// What the landscape and dynamics panels analyse: the objective, the current θ, the θ the
/// experiment started from and the (thinned) trajectory between them, ending at θ.
pub struct ThetaPath {
    /// The training objective (network, rows, regulariser).
    pub objective: Arc<Objective>,
    /// θ now.
    pub theta: Vec<f64>,
    /// The step of `theta`.
    pub step: u64,
    /// θ at step 0.
    pub theta0: Vec<f64>,
    /// θ snapshots in step order; the last is `theta`.
    pub trajectory: Vec<Vec<f64>>,
    /// The step of each trajectory entry.
    pub steps: Vec<u64>,
    /// The regulariser in force.
    pub regularization: Regularization,
    /// The optimiser in force (a race replays it).
    pub optimizer: OptimizerSpec,
    /// The session's seed.
    pub seed: u64,
}

impl ThetaPath {
    /// The trainer's θ now with θ₀ and the θ snapshots recorded so far (in step order): what
    /// the landscape and dynamics tiles analyse. The trajectory is made to end at θ.
    pub fn new(
        t: &Trainer,
        objective: Arc<Objective>,
        theta0: Vec<f64>,
        mut trajectory: Vec<Vec<f64>>,
        mut steps: Vec<u64>,
    ) -> ThetaPath {
        if steps.last() != Some(&t.step) {
            trajectory.push(t.theta.clone());
            steps.push(t.step);
        } else if let Some(last) = trajectory.last_mut() {
            // A weight edited since the snapshot: the path ends at the θ analysed.
            last.clone_from(&t.theta);
        }
        ThetaPath {
            objective,
            theta: t.theta.clone(),
            step: t.step,
            theta0,
            trajectory,
            steps,
            regularization: t.regularization,
            optimizer: t.optimizer.spec().clone(),
            seed: t.seed,
        }
    }
}

/// θ handed out for the curvature analysis: copied at every k-th step into one buffer, sent
/// at the next flush (so a fast run sends the newest, not thousands a second).
#[derive(Default)]
struct CurvatureFeed {
    every: Option<u64>,
    /// Built on first use per experiment.
    objective: Option<Arc<Objective>>,
    theta: Vec<f64>,
    /// (step, lr) of the θ in the buffer, when one waits to be sent.
    due: Option<(u64, f64)>,
    /// The optimiser's rule and preconditioner at that step (the edge of stability).
    optimizer: Option<OptimizerSnapshot>,
}

impl State {
    fn new(
        experiment: Experiment,
        tx: Sender<Event>,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> State {
        let now = Instant::now();
        let mut s = State {
            experiment: experiment.clone(),
            trainer: None,
            stop_rule: StopRule::default(),
            stop_watch: None,
            tx,
            repaint,
            running: false,
            pending: 0,
            speed: Speed::Max,
            stride: 1,
            recorded: 0,
            rows: Vec::new(),
            edits: Vec::new(),
            ws: Workspace::default(),
            maps: MapRequest::default(),
            bounds: None,
            last_flush: now,
            last_snapshot: now,
            snapshot_every: SNAPSHOT_EVERY,
            snapshot_cost: Duration::ZERO,
            rate_start: now,
            rate_steps: 0,
            steps_per_sec: 0.0,
            speed_window: (now, 0),
            dirty: true,
            curvature: CurvatureFeed::default(),
            recorder: None,
            checkpoint_budget: DEFAULT_CHECKPOINT_BUDGET,
            initial: None,
            trajectory: Trajectory::default(),
            last_step: None,
        };
        s.rebuild(experiment);
        s
    }

    fn send(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    /// Returns when told to shut down or the UI is gone.
    fn run(&mut self, rx: &Receiver<Command>) {
        loop {
            // Apply commands between steps.
            loop {
                match rx.try_recv() {
                    Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => return,
                    Ok(c) => self.apply(c),
                    Err(TryRecvError::Empty) => break,
                }
            }
            let active = self.trainer.is_some() && (self.running || self.pending > 0);
            if active {
                self.train_chunk();
            } else {
                self.flush(true);
                if self.dirty {
                    self.snapshot();
                }
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                    Ok(c) => self.apply(c),
                    Err(RecvTimeoutError::Timeout) => {}
                }
                continue;
            }
            let now = Instant::now();
            if now - self.last_flush >= FLUSH_EVERY {
                self.flush(false);
            }
            let share = if self.speed == Speed::Max {
                SNAPSHOT_SHARE_FAST
            } else {
                SNAPSHOT_SHARE
            };
            let every = self.snapshot_every.max(self.snapshot_cost.div_f64(share));
            if now - self.last_snapshot >= every {
                self.snapshot();
            }
        }
    }

    fn status(&self) -> Status {
        let mut s = Status {
            running: self.running || self.pending > 0,
            steps_per_sec: self.steps_per_sec,
            ..Status::default()
        };
        if let Some(t) = &self.trainer {
            s.step = t.step;
            s.epoch = t.epoch;
            s.iteration = t.iteration;
            s.iterations_per_epoch = t.iterations_per_epoch();
            s.mistakes = t.mistakes;
        }
        s
    }

    fn flush(&mut self, idle: bool) {
        self.send_curvature();
        if !self.rows.is_empty() {
            let rows = std::mem::take(&mut self.rows);
            self.send(Event::Steps(rows));
        }
        if !idle || self.dirty {
            let now = Instant::now();
            let (t0, s0) = self.speed_window;
            let dt = (now - t0).as_secs_f64();
            let step = self.trainer.as_ref().map_or(0, |t| t.step);
            if dt >= 0.5 {
                self.steps_per_sec = step.saturating_sub(s0) as f64 / dt;
                self.speed_window = (now, step);
            }
            if idle {
                self.steps_per_sec = 0.0;
            }
            self.send(Event::Status(self.status()));
            (self.repaint)();
        }
        self.last_flush = Instant::now();
    }

    fn start_rate(&mut self) {
        self.rate_start = Instant::now();
        self.rate_steps = 0;
        let step = self.trainer.as_ref().map_or(0, |t| t.step);
        self.speed_window = (Instant::now(), step);
    }

    fn apply(&mut self, c: Command) {
        if let Command::LastUpdate = c {
            // Asked often while training: answered without a new snapshot.
            self.send_last_step();
            return;
        }
        self.dirty = true;
        // θ or the update rule changes other than by a step: the last step is history.
        if matches!(
            c,
            Command::SetWeight { .. }
                | Command::SetOptimizer(_)
                | Command::SetRegularization(_)
                | Command::Reset
                | Command::Rebuild(_)
        ) {
            self.last_step = None;
        }
        match c {
            Command::Start => {
                if self.trainer.is_none() {
                    self.send(Event::Error(
                        "there is no network to train: reset or rebuild it".into(),
                    ));
                    return;
                }
                self.running = true;
                self.start_rate();
            }
            Command::Pause => {
                self.running = false;
                self.pending = 0;
            }
            Command::Step(n) => {
                self.pending = self.pending.saturating_add(n);
                self.start_rate();
            }
            Command::Reset => {
                self.running = false;
                self.pending = 0;
                let e = self.experiment.at_start();
                self.rebuild(e);
                self.send(Event::WasReset);
            }
            Command::SetOptimizer(spec) => {
                if let Some(t) = &mut self.trainer {
                    match t.set_optimizer(&spec) {
                        Ok(()) => {
                            self.experiment.config.optimizer = spec.clone();
                            let step = t.step;
                            self.record(step, Edit::Optimizer { spec });
                        }
                        Err(e) => self.send(Event::Error(e.to_string())),
                    }
                } else {
                    self.experiment.config.optimizer = spec;
                }
            }
            Command::SetRegularization(r) => {
                if let Some(t) = &mut self.trainer {
                    match t.set_regularization(r) {
                        Ok(()) => {
                            self.experiment.config.regularization = r;
                            let step = t.step;
                            self.record(step, Edit::Regularization { regularization: r });
                        }
                        Err(e) => self.send(Event::Error(e.to_string())),
                    }
                } else {
                    self.experiment.config.regularization = r;
                }
            }
            Command::SetWeight { index, value } => {
                if !value.is_finite() {
                    self.send(Event::Error("a weight must be a finite number".to_string()));
                    return;
                }
                if let Some(t) = &mut self.trainer
                    && index < t.theta.len()
                {
                    t.theta[index] = value;
                    let step = t.step;
                    self.record(step, Edit::Weight { index, value });
                }
            }
            Command::Rebuild(e) => {
                self.running = false;
                self.pending = 0;
                self.rebuild(*e);
            }
            Command::SetSpeed(s) => {
                self.speed = s;
                self.start_rate();
            }
            Command::SetStop(rule) => {
                self.stop_rule = rule;
                self.arm_stop();
            }
            Command::Snapshot => {}
            Command::CurvatureEvery(k) => {
                self.curvature.every = k.map(|k| k.max(1));
                if k.is_none() {
                    self.curvature.due = None;
                    self.curvature.theta = Vec::new();
                }
            }
            Command::CurvatureNow => {
                if let Some(t) = &self.trainer {
                    self.curvature.theta.clone_from(&t.theta);
                    self.curvature.due = Some((t.step, t.optimizer.learning_rate()));
                    self.curvature.optimizer = Some(OptimizerSnapshot::of(&t.optimizer));
                }
            }
            Command::Export { base, purpose } => {
                let session = self.export(*base).map(Box::new);
                self.send(Event::Recording { session, purpose });
                (self.repaint)();
            }
            Command::RecordAnalysis(a) => {
                if let Some(r) = &mut self.recorder {
                    r.record_analysis(*a);
                }
            }
            Command::SetCheckpointBudget(bytes) => {
                self.checkpoint_budget = bytes;
                if let Some(r) = &mut self.recorder {
                    r.set_budget(bytes);
                }
            }
            Command::PathNow => self.send_path(),
            Command::SetMaps(m) => self.maps = m,
            Command::LastUpdate => {}
            #[cfg(any(test, feature = "test-hooks"))]
            Command::InjectPanic => panic!("injected panic (test of the crash report)"),
            Command::Shutdown => {}
        }
    }

    fn record(&mut self, step: u64, edit: Edit) {
        if let Some(r) = &mut self.recorder {
            r.record_edit(step, edit.clone());
        }
        self.edits.push(LiveEdit { step, edit });
        self.send(Event::Edits(self.edits.clone()));
    }

    /// The recording so far as a session: `base` with the step-0 spec, state, history, edits,
    /// checkpoints and analyses.
    fn export(&self, base: Session) -> Option<Session> {
        let (t, r, init) = (
            self.trainer.as_ref()?,
            self.recorder.as_ref()?,
            self.initial.as_ref()?,
        );
        let mut s = base;
        s.seed = init.seed;
        s.network = init.network.clone();
        s.loss = init.loss;
        s.optimizer = init.optimizer.clone();
        s.regularization = init.regularization;
        r.write_into(&mut s, t);
        Some(s)
    }

    /// Start (or resume) the recording of a freshly built trainer, and send a resumed
    /// recording's history so the plots show it.
    fn start_recording(&mut self, e: &Experiment) {
        let Some(t) = &self.trainer else { return };
        // The step-0 spec: the recorded session's own, else the config this build started with.
        self.initial = Some(
            e.recorded
                .as_ref()
                .map_or_else(|| e.config.clone(), |s| s.trainer_config()),
        );
        let mut rec = match &e.recorded {
            Some(s) => Recorder::resume(s, t),
            None => Recorder::new(t, self.checkpoint_budget),
        };
        self.checkpoint_budget = rec.budget;
        // Small enough to autosave every few seconds (~20 000 rows ≈ 10 MB of JSON).
        rec.history_limit = MAX_RECORDED_ROWS;
        if !rec.history.is_empty() {
            let h = &rec.history;
            // The plots' stride: at most MAX_ROWS rows.
            while h.len() as u64 / self.stride > MAX_ROWS as u64 {
                self.stride *= 2;
            }
            let rows: Vec<StepRow> = (0..h.len())
                .filter(|&i| h.step[i] % self.stride == 0)
                .map(|i| h.report(i).into())
                .collect();
            self.recorded = rows.len();
            self.send(Event::Steps(rows));
            for i in 0..h.evaluations.len() {
                let (step, eval) = h.evaluations.get(i);
                self.send(Event::Evaluation { step, eval });
            }
        }
        if !rec.edits.is_empty() {
            self.edits = rec.edits.clone();
            self.send(Event::Edits(self.edits.clone()));
        }
        self.recorder = Some(rec);
    }

    fn rebuild(&mut self, e: Experiment) {
        match e.trainer() {
            Ok(t) => {
                self.send(Event::Rebuilt {
                    n_params: t.net.n_params,
                    train: Arc::new(t.train.clone()),
                    test: Arc::new(t.test.clone()),
                });
                self.bounds = plane_bounds(&t.train, &t.test);
                self.snapshot_every = snapshot_every(t.net.n_params);
                self.trainer = Some(t);
                self.experiment = e;
                self.arm_stop();
                self.curvature.objective = None;
                self.curvature.due = None;
                if let Some(t) = &self.trainer {
                    self.trajectory.start(&t.theta);
                }
                self.stride = 1;
                self.recorded = 0;
                self.rows.clear();
                self.edits.clear();
                self.send(Event::Edits(Vec::new()));
                let e = self.experiment.clone();
                self.start_recording(&e);
                self.dirty = true;
            }
            Err(err) => self.send(Event::RebuildFailed(err.to_string())),
        }
        (self.repaint)();
    }

    fn train_chunk(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(8);
        let Some(t) = self.trainer.as_mut() else {
            return;
        };
        // Steps allowed now under a speed limit.
        let mut budget = match self.speed {
            Speed::Max => u64::MAX,
            Speed::PerSecond(r) => {
                let due = (self.rate_start.elapsed().as_secs_f64() * r) as u64 + 1;
                due.saturating_sub(self.rate_steps)
            }
        };
        if self.pending > 0 {
            budget = budget.min(self.pending);
        }
        if budget == 0 {
            std::thread::sleep(Duration::from_millis(2));
            return;
        }
        let mut diverged = None;
        let mut stopped = None;
        let mut taken = 0u64;
        while taken < budget {
            let r = t.step();
            taken += 1;
            self.last_step = (!r.diverged).then_some((r.step, r.lr));
            if let Some(w) = &mut self.stop_watch
                && !r.diverged
            {
                let eval = w.evaluation_due(r.step).then(|| t.evaluate());
                stopped = w.check(r.step, r.epoch, eval.as_ref());
            }
            if let Some(rec) = &mut self.recorder {
                rec.record_step(&r, t);
            }
            if let Some(k) = self.curvature.every
                && r.step.is_multiple_of(k)
                && !r.diverged
            {
                self.curvature.theta.clone_from(&t.theta);
                self.curvature.due = Some((r.step, r.lr));
                self.curvature.optimizer = Some(OptimizerSnapshot::of(&t.optimizer));
            }
            if !r.diverged {
                self.trajectory.record(r.step, &t.theta);
            }
            let (step, loss, failed) = (r.step, r.batch_loss, r.diverged);
            if step % self.stride == 0 || failed {
                self.rows.push(r.into());
                self.recorded += 1;
            }
            if failed {
                diverged = Some((step, loss));
                break;
            }
            if stopped.is_some() {
                break;
            }
            if taken.is_multiple_of(16) && Instant::now() >= deadline {
                break;
            }
        }
        self.rate_steps += taken;
        if self.pending > 0 {
            self.pending = self.pending.saturating_sub(taken);
            if self.pending == 0 {
                self.dirty = true;
            }
        }
        if self.recorded > MAX_ROWS {
            self.stride *= 2;
            self.recorded /= 2;
            let s = self.stride;
            self.rows.retain(|r| r.step % s == 0);
            self.flush(false);
            self.send(Event::Stride(s));
        }
        if let Some((step, loss)) = diverged {
            self.running = false;
            self.pending = 0;
            self.flush(false);
            self.send(Event::Diverged { step, loss });
            self.snapshot();
        }
        if let Some(reason) = stopped {
            self.running = false;
            self.pending = 0;
            self.stop_watch = None;
            self.flush(false);
            self.send(Event::Stopped(reason));
            self.snapshot();
        }
    }

    /// A fresh watch of the stop rule over the current trainer (None without a rule).
    fn arm_stop(&mut self) {
        self.stop_watch = match &self.trainer {
            Some(t) if !self.stop_rule.is_empty() => Some(StopWatch::new(
                self.stop_rule.clone(),
                t.iterations_per_epoch() as u64,
            )),
            _ => None,
        };
    }

    /// Send the waiting curvature sample, if any.
    fn send_curvature(&mut self) {
        let Some(t) = &self.trainer else { return };
        let Some((step, lr)) = self.curvature.due.take() else {
            return;
        };
        let objective = shared_objective(&mut self.curvature.objective, t);
        let optimizer = self.curvature.optimizer.take();
        self.send(Event::Curvature(Box::new(Sample {
            objective,
            theta: self.curvature.theta.clone(),
            step,
            lr,
            regularization: t.regularization,
            seed: t.seed,
            optimizer,
        })));
        (self.repaint)();
    }

    /// The last step, exactly as taken (θ before and after, its batch), or None.
    fn send_last_step(&mut self) {
        let Some(t) = &self.trainer else {
            self.send(Event::LastUpdate {
                step: 0,
                last: None,
            });
            (self.repaint)();
            return;
        };
        let last = self
            .last_step
            .filter(|(step, _)| *step == t.step)
            .map(|(step, lr)| {
                let (x, y) = t.last_batch();
                Box::new(LastStep {
                    step,
                    lr,
                    net: t.net.clone(),
                    theta_before: t.theta_before_last_step().to_vec(),
                    theta_after: t.theta.clone(),
                    batch_x: x.to_vec(),
                    batch_y: y.to_vec(),
                    classes: t.train.classes,
                    optimizer: t.optimizer.spec().clone(),
                    regularization: t.regularization,
                })
            });
        self.send(Event::LastUpdate { step: t.step, last });
        (self.repaint)();
    }

    fn send_path(&mut self) {
        let Some(t) = &self.trainer else { return };
        let objective = shared_objective(&mut self.curvature.objective, t);
        let tr = &self.trajectory;
        self.send(Event::Path(Arc::new(ThetaPath::new(
            t,
            objective,
            tr.theta0.clone(),
            tr.thetas.clone(),
            tr.steps.clone(),
        ))));
        (self.repaint)();
    }

    fn snapshot(&mut self) {
        self.dirty = false;
        let start = Instant::now();
        self.last_snapshot = start;
        // Training at full speed: maps within the smaller work budget (steps/s stays high).
        let fast = (self.running || self.pending > 0) && self.speed == Speed::Max;
        let Some(t) = self.trainer.as_mut() else {
            return;
        };
        let eval = t.evaluate();
        let step = t.step;
        if let Some(r) = &mut self.recorder {
            r.record_evaluation(step, &eval);
        }
        let _ = self.tx.send(Event::Evaluation { step, eval });
        let work = if fast { MAP_WORK_FAST } else { MAP_WORK };
        let snap = build_snapshot(t, self.bounds, self.maps, work, &mut self.ws);
        let _ = self.tx.send(Event::Snapshot(Box::new(snap)));
        let _ = self.tx.send(Event::Status(self.status()));
        (self.repaint)();
        self.snapshot_cost = start.elapsed();
    }
}

/// The box over the input plane that holds the data (2-D), or the x range (1-D).
pub fn plane_bounds(train: &Dataset, test: &Dataset) -> Option<((f64, f64), (f64, f64))> {
    let d = train.inputs;
    if d == 0 || d > 2 {
        return None;
    }
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for set in [train, test] {
        for r in 0..set.rows() {
            for (k, &v) in set.row(r).iter().enumerate() {
                if v.is_finite() {
                    lo[k] = lo[k].min(v);
                    hi[k] = hi[k].max(v);
                }
            }
        }
    }
    let pad = |a: f64, b: f64| {
        if !a.is_finite() || !b.is_finite() {
            return (-1.0, 1.0);
        }
        let w = (b - a).max(1e-6);
        (a - 0.08 * w, b + 0.08 * w)
    };
    let x = pad(lo[0], hi[0]);
    let y = if d == 2 {
        pad(lo[1], hi[1])
    } else {
        (0.0, 0.0)
    };
    Some((x, y))
}

/// Raw input rows of a `side`×`side` grid (2-D, row 0 at the top) or of the curve (1-D).
fn grid_inputs(inputs: usize, bounds: Option<((f64, f64), (f64, f64))>, side: usize) -> Vec<f64> {
    let Some(((x0, x1), (y0, y1))) = bounds else {
        return Vec::new();
    };
    if inputs == 1 {
        (0..CURVE)
            .map(|i| x0 + (x1 - x0) * i as f64 / (CURVE - 1) as f64)
            .collect()
    } else {
        let mut g = Vec::with_capacity(side * side * 2);
        for row in 0..side {
            let y = y1 - (y1 - y0) * (row as f64 + 0.5) / side as f64;
            for col in 0..side {
                let x = x0 + (x1 - x0) * (col as f64 + 0.5) / side as f64;
                g.push(x);
                g.push(y);
            }
        }
        g
    }
}

/// Pass the grid `x` through the network in row blocks (all of it at once through a layer
/// 100 000 wide would take gigabytes), handing each block's workspace to `keep(rows, ws)`.
fn grid_pass(
    (net, theta, bn): (&Network, &[f64], Option<&BnStats>),
    x: &[f64],
    ws: &mut Workspace,
    mut keep: impl FnMut(usize, &Workspace),
) {
    let d = net.inputs;
    let rows = x.len() / d;
    let mode = match bn {
        Some(s) => BnMode::Fixed(s),
        None => BnMode::Batch,
    };
    let block = net.rows_within(SNAPSHOT_VALUES);
    for r0 in (0..rows).step_by(block) {
        let m = block.min(rows - r0);
        net.forward(theta, &x[r0 * d..(r0 + m) * d], m, ws, mode, None);
        keep(m, ws);
    }
    if block < rows {
        // Give the blocks' memory back; the next snapshot sizes it again.
        *ws = Workspace::default();
    }
}

/// The output of (column, unit) for the `m` rows of a block: column 0 an input feature,
/// column l ≥ 1 the l-th layer (None: no such unit).
fn unit_values(
    net: &Network,
    ws: &Workspace,
    m: usize,
    (c, j): (usize, usize),
) -> Option<Vec<f32>> {
    if c == 0 {
        let nf = net.features.len();
        (j < nf).then(|| (0..m).map(|r| ws.input[r * nf + j] as f32).collect())
    } else {
        let l = net.layers.get(c - 1)?;
        let f = ws.layers[c - 1].out();
        (j < l.units).then(|| (0..m).map(|r| f[r * l.units + j] as f32).collect())
    }
}

/// The trainer's objective (network and training rows), made once per build and shared by
/// the curvature samples and the θ paths that go to the analysis threads.
fn shared_objective(slot: &mut Option<Arc<Objective>>, t: &Trainer) -> Arc<Objective> {
    slot.get_or_insert_with(|| {
        Arc::new(Objective {
            net: t.net.clone(),
            train: t.train.clone(),
        })
    })
    .clone()
}

/// A snapshot of the trainer's network: θ, the weight histograms and, over the input plane
/// `bounds`, the decision map (and the focused unit) and the neuron and feature maps at the
/// sides `maps` asks, each grid within `work` ([`map_sides`]).
fn build_snapshot(
    t: &mut Trainer,
    bounds: Option<((f64, f64), (f64, f64))>,
    maps: MapRequest,
    work: usize,
    ws: &mut Workspace,
) -> Snapshot {
    let histograms = t
        .net
        .layers
        .iter()
        .map(|l| histogram(&t.theta[l.w..l.w + l.n_weights()]))
        .collect();
    let mut snap = Snapshot {
        step: t.step,
        theta: t.theta.clone(),
        histograms,
        ..Snapshot::default()
    };
    let Some(((x0, x1), (y0, y1))) = bounds else {
        return snap;
    };
    let d = t.net.inputs;
    let (out_side, map_side) = map_sides(&t.net, maps, work);
    // The neuron and feature maps (at the curve's points for 1-D inputs).
    let grid = grid_inputs(d, bounds, map_side);
    let rows = grid.len() / d;
    if rows == 0 {
        return snap;
    }
    let bn = t.train_bn_stats();
    let (net, theta, classes) = (&t.net, &t.theta, t.train.classes);
    let model = (net, theta.as_slice(), bn.as_ref());
    let nf = net.features.len();
    let mut features = vec![Vec::with_capacity(rows); nf];
    let mut neurons: Vec<Vec<Vec<f32>>> = net
        .layers
        .iter()
        .map(|l| vec![Vec::with_capacity(rows); l.units.min(MAX_NEURON_MAPS)])
        .collect();
    grid_pass(model, &grid, ws, |m, ws| {
        for (kf, col) in features.iter_mut().enumerate() {
            col.extend((0..m).map(|r| ws.input[r * nf + kf] as f32));
        }
        for ((l, c), maps) in net.layers.iter().zip(&ws.layers).zip(&mut neurons) {
            let f = c.out();
            for (j, map) in maps.iter_mut().enumerate() {
                map.extend((0..m).map(|r| f[r * l.units + j] as f32));
            }
        }
    });
    snap.map_side = map_side;
    snap.features = features;
    snap.neurons = neurons;
    // The decision map and the focused unit, on their own grid (the same grid for 1-D).
    let k = net.output_units();
    let out_grid = if d == 1 {
        grid
    } else {
        grid_inputs(d, bounds, out_side)
    };
    let rows = out_grid.len() / d;
    let mut out = Vec::with_capacity(rows * k);
    let mut focus = maps.focus.map(|u| FocusMap {
        unit: u,
        values: Vec::with_capacity(rows),
    });
    grid_pass(model, &out_grid, ws, |m, ws| {
        out.extend_from_slice(&net.outputs(ws)[..m * k]);
        if let Some(f) = &mut focus {
            match unit_values(net, ws, m, f.unit) {
                Some(v) => f.values.extend(v),
                None => f.values.clear(),
            }
        }
    });
    snap.focus = focus.filter(|f| d == 2 && f.values.len() == rows);
    let coding = net.target_coding(classes);
    if d == 1 {
        snap.output = OutputMap::Curve {
            xs: out_grid,
            ys: (0..rows).map(|r| out[r * k]).collect(),
        };
    } else {
        let mut values = Vec::with_capacity(rows);
        let mut confidence = Vec::with_capacity(rows);
        for r in 0..rows {
            let o = &out[r * k..(r + 1) * k];
            match coding {
                TargetCoding::Real => {
                    values.push(o[0] as f32);
                    confidence.push(1.0);
                }
                TargetCoding::Binary01 => {
                    values.push((2.0 * o[0] - 1.0).clamp(-1.0, 1.0) as f32);
                    confidence.push(1.0);
                }
                TargetCoding::BinaryPm1 => {
                    values.push(o[0].clamp(-1.0, 1.0) as f32);
                    confidence.push(1.0);
                }
                TargetCoding::OneHot | TargetCoding::OneHotPm1 => {
                    let c = coding.predict(o);
                    let (mut best, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                    for &v in o {
                        if v > best {
                            second = best;
                            best = v;
                        } else if v > second {
                            second = v;
                        }
                    }
                    let margin = if k > 1 { best - second } else { 1.0 };
                    values.push(c as f32);
                    confidence.push((margin.clamp(0.0, 1.0)) as f32);
                }
            }
        }
        snap.output = OutputMap::Grid {
            side: out_side,
            x_range: (x0, x1),
            y_range: (y0, y1),
            values,
            confidence,
        };
    }
    snap
}

fn histogram(w: &[f64]) -> Histogram {
    let finite = w.iter().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in finite.clone() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return Histogram {
            lo: -1.0,
            hi: 1.0,
            counts: vec![0; HIST_BINS],
        };
    }
    if hi - lo < 1e-9 {
        lo -= 0.5;
        hi += 0.5;
    }
    let mut counts = vec![0u32; HIST_BINS];
    for v in finite {
        let b = (((v - lo) / (hi - lo)) * HIST_BINS as f64) as usize;
        counts[b.min(HIST_BINS - 1)] += 1;
    }
    Histogram { lo, hi, counts }
}

/// Check an experiment without starting it (the UI refuses settings that fail here).
pub fn check(e: &Experiment) -> Result<()> {
    e.trainer()
        .map(|_| ())
        .map_err(|err| Error::new(err.to_string()))
}

/// A replay request of the timeline: the state of `loaded` at `step`, as a snapshot or as a
/// new session continuing from there (fork).
pub struct ReplayRequest {
    /// The recorded session.
    pub loaded: Arc<crate::session::Loaded>,
    /// The step wanted.
    pub step: u64,
    /// A new session from there instead of a snapshot.
    pub fork: bool,
    /// The maps the views draw (as for the live snapshots).
    pub maps: MapRequest,
}

/// What the replay threads answer.
pub enum ReplayAnswer {
    /// What the views show at `step`.
    Snapshot {
        /// The step.
        step: u64,
        /// The picture at that step.
        snapshot: Box<Snapshot>,
        /// The whole-set evaluation there.
        eval: Evaluation,
    },
    /// A new (unsaved) session continuing from `step`.
    Forked {
        /// The step it continues from.
        step: u64,
        /// The new session.
        session: Box<crate::session::Session>,
    },
    /// The state at `step` could not be rebuilt.
    Failed {
        /// The step asked for.
        step: u64,
        /// Why, in one line.
        message: String,
    },
}

/// The replay threads of the timeline: recompute a step from the nearest checkpoint so the UI
/// thread never does. Scrubbing asks for many snapshots; only the newest is computed. A fork
/// goes to a thread of its own, so scrubbing never drops it.
pub struct Replayer {
    snapshots: JobThread<ReplayRequest, ReplayAnswer>,
    forks: JobThread<ReplayRequest, ReplayAnswer>,
}

impl Replayer {
    /// Start the replay threads; `repaint` wakes the UI when an answer is ready.
    pub fn spawn(repaint: Arc<dyn Fn() + Send + Sync>) -> Replayer {
        let thread = |name: &str| {
            // A panic is reported against the step that was asked for.
            let asked = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let on_panic_asked = asked.clone();
            JobThread::spawn(
                name,
                repaint.clone(),
                move |r: ReplayRequest, _cancel, emit| {
                    asked.store(r.step, std::sync::atomic::Ordering::Relaxed);
                    emit(answer(&r));
                },
                move |message| ReplayAnswer::Failed {
                    step: on_panic_asked.load(std::sync::atomic::Ordering::Relaxed),
                    message,
                },
            )
        };
        Replayer {
            snapshots: thread("nnlab-replay"),
            forks: thread("nnlab-fork"),
        }
    }

    /// Ask for a step (a snapshot replaces any waiting one; a fork is never dropped).
    pub fn send(&self, r: ReplayRequest) {
        if r.fork {
            self.forks.queue(r);
        } else {
            self.snapshots.submit(r);
        }
    }

    /// The next answer of either thread.
    pub fn try_recv(&self) -> Option<ReplayAnswer> {
        self.forks.try_recv().or_else(|| self.snapshots.try_recv())
    }
}

fn answer(r: &ReplayRequest) -> ReplayAnswer {
    let step = r.step;
    let failed = |e: Error| ReplayAnswer::Failed {
        step,
        message: e.to_string(),
    };
    if r.fork {
        return match crate::session::replay::fork(&r.loaded, step) {
            Ok(s) => ReplayAnswer::Forked {
                step,
                session: Box::new(s),
            },
            Err(e) => failed(e),
        };
    }
    match replay_snapshot(&r.loaded, step, r.maps) {
        Ok((snapshot, eval)) => ReplayAnswer::Snapshot {
            step,
            snapshot: Box::new(snapshot),
            eval,
        },
        Err(e) => failed(e),
    }
}

/// The snapshot and evaluation of a recorded session at `step` (headless; the tests compare it
/// with `state_at`).
pub fn replay_snapshot(
    loaded: &crate::session::Loaded,
    step: u64,
    maps: MapRequest,
) -> Result<(Snapshot, Evaluation)> {
    let mut t = crate::session::replay::state_at(loaded, step)?;
    let bounds = plane_bounds(&t.train, &t.test);
    let mut ws = Workspace::default();
    let snap = build_snapshot(&mut t, bounds, maps, MAP_WORK, &mut ws);
    let eval = t.evaluate();
    Ok((snap, eval))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::spec::{Loss, NetworkSpec};
    use crate::optim::spec::OptimizerKind;

    #[test]
    fn large_networks_are_snapshotted_less_often() {
        assert_eq!(snapshot_every(17), SNAPSHOT_EVERY);
        assert_eq!(snapshot_every(1_000_000), SNAPSHOT_EVERY);
        assert_eq!(snapshot_every(25_000_000), Duration::from_secs(1));
    }

    /// A layer wide enough that the snapshot's grid goes through the network in blocks: the
    /// neuron maps and the output map equal one pass over the whole grid, and only the first
    /// MAX_NEURON_MAPS units of a layer get a map.
    #[test]
    fn the_grid_in_blocks_equals_one_pass() {
        let network: NetworkSpec = serde_json::from_str(
            r#"{"inputs": 2, "init": "xavier_normal",
                "layers": [{"units": 600, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]}"#,
        )
        .unwrap();
        let data: DataSpec =
            serde_json::from_str(r#"{"source": "moons", "n": 60, "noise": 0.1}"#).unwrap();
        let config = TrainerConfig {
            seed: 5,
            network,
            loss: Loss::Bce,
            optimizer: OptimizerSpec::new(OptimizerKind::Sgd, 0.1, 8),
            regularization: Regularization::default(),
        };
        let experiment = Experiment {
            config,
            data,
            dataset: None,
            params: None,
            recorded: None,
        };
        let (train, test) = experiment.build_data().unwrap();
        let mut t = experiment.trainer().unwrap();
        let bounds = plane_bounds(&train, &test);
        let grid = grid_inputs(2, bounds, GRID);
        let rows = GRID * GRID;
        assert!(
            t.net.rows_within(SNAPSHOT_VALUES) < rows,
            "the test must take blocks"
        );
        let maps = MapRequest {
            output: GRID,
            neurons: GRID,
            focus: Some((1, 3)),
        };
        let snap = build_snapshot(&mut t, bounds, maps, MAP_WORK, &mut Workspace::default());
        assert_eq!(snap.map_side, GRID);

        let mut ws = Workspace::default();
        t.net
            .forward(&t.theta, &grid, rows, &mut ws, BnMode::Batch, None);
        let hidden = ws.layers[0].out();
        assert_eq!(snap.neurons[0].len(), MAX_NEURON_MAPS);
        for (j, map) in snap.neurons[0].iter().enumerate() {
            for (r, &v) in map.iter().enumerate() {
                assert_eq!(v, hidden[r * 600 + j] as f32, "unit {j}, grid row {r}");
            }
        }
        let focus = snap.focus.as_ref().expect("the focused unit's map");
        assert_eq!(focus.unit, (1, 3));
        for (r, &v) in focus.values.iter().enumerate() {
            assert_eq!(v, hidden[r * 600 + 3] as f32, "focus, grid row {r}");
        }
        let out = t.net.outputs(&ws);
        let OutputMap::Grid { values, side, .. } = &snap.output else {
            panic!("a 2-D input gives a grid map");
        };
        assert_eq!(*side, GRID);
        assert_eq!(values.len(), rows);
        for (r, &v) in values.iter().enumerate() {
            assert_eq!(
                v,
                (2.0 * out[r] - 1.0).clamp(-1.0, 1.0) as f32,
                "grid row {r}"
            );
        }
    }

    fn net(layers: &str) -> Network {
        let spec: NetworkSpec = serde_json::from_str(&format!(
            r#"{{"inputs": 2, "init": "xavier_normal", "layers": [{layers}]}}"#
        ))
        .unwrap();
        Network::build(&spec, Loss::Bce).unwrap()
    }

    /// The sides follow the request within [8, 256]; a deep network's grid shrinks to keep
    /// its work within the budget, counted by hand here.
    #[test]
    fn map_sides_follow_the_request_within_the_work_budget() {
        // 2-8-8-1 tanh: 2 features + (2·8 + 8·8) + (8·8 + 8·8) + (8·1 + 1·8) = 226 per row.
        let small = net(
            r#"{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"},
               {"units": 1, "activation": "sigmoid"}"#,
        );
        let ask = |output, neurons| MapRequest {
            output,
            neurons,
            focus: None,
        };
        assert_eq!(map_sides(&small, ask(300, 40), MAP_WORK_FAST), (256, 40));
        assert_eq!(map_sides(&small, ask(137, 3), MAP_WORK_FAST), (137, 8));
        // 2^24 / 226 = 74 235 rows ≥ 256²: even at full speed the small net gets 256. Its 19
        // maps (2 features, 8 + 8 + 1 units) within 2^19 values: 27 594 each → 166².
        assert_eq!(map_sides(&small, ask(256, 256), MAP_WORK_FAST), (256, 166));
        // Lesson r09's shape: 2-32×9-1 sigmoid: 2 + (64 + 256) + 8·(1024 + 256) + (32 + 8)
        // = 10 602 per row; 2^24 / 10 602 = 1582 rows → 39²; 2^28 / 10 602 = 25 319 → 159².
        // Its 147 maps (2 features, 9 × 16 units, the output) within 2^19 values: 59² each.
        let unit = r#"{"units": 32, "activation": "sigmoid"}"#;
        let deep = net(&format!(
            "{}, {{\"units\": 1, \"activation\": \"sigmoid\"}}",
            [unit; 9].join(", ")
        ));
        assert_eq!(map_sides(&deep, ask(256, 30), MAP_WORK_FAST), (39, 30));
        assert_eq!(map_sides(&deep, ask(256, 256), MAP_WORK), (159, 59));
        // 600 tanh units and a sigmoid: 2 + (1200 + 4800) + (600 + 8) = 6610 per row, and 19
        // maps (2 features, 16 units, the output): 2^19 / 19 = 27 594 values each → 166².
        let wide =
            net(r#"{"units": 600, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}"#);
        assert_eq!(map_sides(&wide, ask(256, 256), MAP_WORK), (201, 166));
    }
}
