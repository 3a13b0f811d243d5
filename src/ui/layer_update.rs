//! The update panel of the Network tile (THEORY row 32): for a selected layer, the ΔW the
//! worker's last step made, next to −η (1/m) Σ_r δ_r a_rᵀ computed from that step's batch at
//! the θ before it (`analysis::outer_product`). For plain SGD/GD the two coincide to rounding;
//! where the step is not a sum of outer products (Adam, momentum, BatchNorm, dropout, a
//! penalty, clipping …) the panel shows ΔW and its rank and says why.
//!
//! The worker hands out the last step only when asked (`Command::LastUpdate`): θ before and
//! after and the exact batch. The prediction and the ranks (an SVD each) are computed on this
//! panel's own thread, newest request winning.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::outer_product::{numerical_rank, predicted_update};
use crate::net::Network;
use crate::net::objective::Rows;
use crate::net::spec::WeightConstraint;
use crate::optim::spec::{OptimizerKind, OptimizerSpec, Regularization, TrainingRule};
use crate::runtime::JobThread;
use crate::runtime::worker::LastStep;
use crate::ui::i18n::S;

/// The rank of a matrix is computed when rows × cols × min(rows, cols) is at most this (an
/// SVD of 512 × 512 takes well under a second; 1024 × 1024 would hold the thread for seconds
/// at every step while training).
pub const MAX_SVD_WORK: usize = 512 * 512 * 512;
/// Singular values below this share of the largest do not count towards a rank (the value
/// lesson r32's check uses).
pub const RANK_TOL: f64 = 1e-9;
/// While training, the last step is asked for at most this often…
const ASK_EVERY: Duration = Duration::from_millis(250);
/// …and, for a large network, at most this many parameters a second (each answer copies θ
/// twice), as the worker throttles its snapshots.
const ASK_PARAMS_PER_SEC: f64 = 12.5e6;

/// Why the step is not −η (1/m) Σ δ aᵀ: a translated sentence and a detail.
#[derive(Clone, Debug, PartialEq)]
pub struct NotOuter {
    /// The sentence, in the UI language when shown.
    pub reason: S,
    /// What in this network or optimiser it names (a layer, an optimiser's name).
    pub detail: String,
}

fn not_outer(reason: S, detail: impl Into<String>) -> Option<NotOuter> {
    Some(NotOuter {
        reason,
        detail: detail.into(),
    })
}

/// Why layer `layer`'s update under this network, optimiser and regulariser is not the plain
/// gradient step −η (1/m) Σ δ aᵀ (None: it is).
pub fn not_applicable(
    net: &Network,
    optimizer: &OptimizerSpec,
    regularization: Regularization,
    layer: usize,
) -> Option<NotOuter> {
    // The rule first: Adam's is the one the lesson's control is about.
    match optimizer.effective_rule() {
        TrainingRule::Perceptron => return not_outer(S::LuPerceptron, ""),
        TrainingRule::FeedbackAlignment => return not_outer(S::LuFeedback, ""),
        TrainingRule::Backprop => {}
    }
    match optimizer.kind {
        OptimizerKind::Gd | OptimizerKind::Sgd | OptimizerKind::FeedbackAlignment => {}
        OptimizerKind::Adam | OptimizerKind::Rmsprop | OptimizerKind::Adagrad => {
            return not_outer(S::LuAdaptive, format!("{:?}", optimizer.kind));
        }
        OptimizerKind::Momentum | OptimizerKind::Nesterov => {
            return not_outer(S::LuMomentum, format!("{:?}", optimizer.kind));
        }
        OptimizerKind::Perceptron => return not_outer(S::LuPerceptron, ""),
    }
    for (i, l) in net.layers.iter().enumerate() {
        if l.batch_norm {
            return not_outer(S::LuBatchNorm, format!("{}", i + 1));
        }
        if l.dropout > 0.0 {
            return not_outer(S::LuDropout, format!("{}", i + 1));
        }
    }
    if regularization.l1 != 0.0 || regularization.l2 != 0.0 {
        return not_outer(
            S::LuPenalty,
            format!("l1 = {}, l2 = {}", regularization.l1, regularization.l2),
        );
    }
    if optimizer.clip_value.is_some() || optimizer.clip_norm.is_some() {
        return not_outer(S::LuClipped, "");
    }
    if net.constraint == WeightConstraint::Nonnegative {
        return not_outer(S::LuConstrained, "");
    }
    let l = &net.layers[layer];
    if !l.trainable {
        return not_outer(S::LuFrozen, "");
    }
    let w = l.w..l.w + l.n_weights();
    let pruned = net.mask.pruned.iter().filter(|i| w.contains(i)).count();
    if pruned > 0 {
        return not_outer(S::LuPruned, pruned.to_string());
    }
    None
}

/// One layer's last update against its prediction.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The step compared (the worker's count after it).
    pub step: u64,
    /// The layer's index, input side first.
    pub layer: usize,
    /// The matrix's rows: the layer's units.
    pub rows: usize,
    /// Its columns: the layer's fan-in.
    pub cols: usize,
    /// Rows in the step's batch.
    pub batch: usize,
    /// The step's learning rate η (after the schedule).
    pub lr: f64,
    /// ΔW = W_after − W_before, row-major [rows × cols].
    pub delta: Vec<f64>,
    /// −η (1/m) Σ δ aᵀ, or why it does not describe this step.
    pub predicted: Result<Vec<f64>, NotOuter>,
    /// max |ΔW − prediction| (NaN without a prediction).
    pub max_diff: f64,
    /// `max_diff` over max |ΔW|.
    pub rel_diff: f64,
    /// Numerical rank of ΔW (singular values above RANK_TOL × the largest); None: too large.
    pub rank_delta: Option<usize>,
    /// Numerical rank of the prediction, the same way.
    pub rank_predicted: Option<usize>,
    /// The colour scale's half-width: the largest |entry| of both matrices.
    pub scale: f64,
    /// Time the comparison took.
    pub seconds: f64,
}

/// Compare layer `layer`'s ΔW in `last` with the outer-product prediction.
pub fn compare(last: &LastStep, layer: usize) -> Result<Comparison, String> {
    let start = Instant::now();
    let net = &last.net;
    let l = net
        .layers
        .get(layer)
        .ok_or_else(|| format!("the network has no layer {}", layer + 1))?;
    let (rows, cols) = (l.units, l.fan_in);
    let w = l.w..l.w + l.n_weights();
    let delta: Vec<f64> = last.theta_after[w.clone()]
        .iter()
        .zip(&last.theta_before[w])
        .map(|(a, b)| a - b)
        .collect();
    let batch = last.batch_y.len();
    let predicted = match not_applicable(net, &last.optimizer, last.regularization, layer) {
        Some(why) => Err(why),
        None => {
            let batch_rows = Rows {
                x: &last.batch_x,
                y: &last.batch_y,
                classes: last.classes,
            };
            let mut all = predicted_update(net, &last.theta_before, batch_rows, last.lr)
                .map_err(|e| e.message)?;
            Ok(std::mem::take(&mut all[layer]))
        }
    };
    let big = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let (mut max_diff, mut rel_diff) = (f64::NAN, f64::NAN);
    let mut scale = big(&delta);
    if let Ok(p) = &predicted {
        max_diff = delta
            .iter()
            .zip(p)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        rel_diff = max_diff / big(&delta);
        scale = scale.max(big(p));
    }
    let rank = |m: &[f64]| -> Result<Option<usize>, String> {
        if rows * cols * rows.min(cols) > MAX_SVD_WORK {
            return Ok(None);
        }
        numerical_rank(m, rows, cols, RANK_TOL)
            .map(Some)
            .map_err(|e| e.message)
    };
    let rank_delta = rank(&delta)?;
    let rank_predicted = match &predicted {
        Ok(p) => rank(p)?,
        Err(_) => None,
    };
    Ok(Comparison {
        step: last.step,
        layer,
        rows,
        cols,
        batch,
        lr: last.lr,
        delta,
        predicted,
        max_diff,
        rel_diff,
        rank_delta,
        rank_predicted,
        scale,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// One comparison for the panel's thread.
pub(crate) struct Job {
    id: u64,
    last: Arc<LastStep>,
    layer: usize,
}

/// The thread's answer to job `id`.
pub(crate) struct Done {
    id: u64,
    result: Result<Box<Comparison>, String>,
}

/// The panel's state: the selected layer, the last step the worker handed out, and the
/// comparison drawn.
pub struct LayerUpdate {
    /// The layer shown (None: the panel is folded to its one-line picker).
    pub layer: Option<usize>,
    /// The worker's step count at its last answer.
    pub answered: Option<u64>,
    /// The step it handed out then (None: no step since the network was built or edited).
    pub last: Option<Arc<LastStep>>,
    /// A request to the worker is out, since then.
    asked: Option<Instant>,
    /// When the last request went out.
    last_asked: Option<Instant>,
    /// A comparison is on the thread.
    pub computing: bool,
    /// The comparison drawn.
    pub comparison: Option<Arc<Comparison>>,
    /// Why the last comparison failed.
    pub error: Option<String>,
    /// When the panel was last drawn: a hidden panel asks for nothing.
    pub drawn_at: Option<Instant>,
    /// The heatmaps' textures (ΔW, prediction).
    pub textures: Option<[eframe::egui::TextureHandle; 2]>,
    /// What they were made from: step, layer and theme (dark).
    pub textures_of: Option<(u64, usize, bool)>,
    id: u64,
    thread: JobThread<Job, Done>,
}

impl LayerUpdate {
    /// Folded, nothing asked yet; `repaint` wakes the UI when a comparison arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> LayerUpdate {
        LayerUpdate {
            layer: None,
            answered: None,
            last: None,
            asked: None,
            last_asked: None,
            computing: false,
            comparison: None,
            error: None,
            drawn_at: None,
            textures: None,
            textures_of: None,
            id: 0,
            thread: JobThread::spawn(
                "nnlab-layer-update",
                repaint,
                |job: Job, _cancel, emit| {
                    let result = compare(&job.last, job.layer).map(Box::new);
                    emit(Done { id: job.id, result });
                },
                |msg| Done {
                    id: u64::MAX,
                    result: Err(format!("the update comparison failed: {msg}")),
                },
            ),
        }
    }

    /// Show `layer`'s update (None: fold the panel).
    pub fn select(&mut self, layer: Option<usize>) {
        if layer == self.layer {
            return;
        }
        self.layer = layer;
        self.comparison = None;
        self.error = None;
        self.submit();
    }

    /// A new network or a reset: the last step is gone (the layer stays selected if it still
    /// exists).
    pub fn restart(&mut self, layers: Option<usize>) {
        self.id += 1;
        self.thread.cancel();
        self.computing = false;
        self.answered = None;
        self.last = None;
        self.asked = None;
        self.comparison = None;
        self.error = None;
        if self.layer.zip(layers).is_some_and(|(l, n)| l >= n) {
            self.layer = None;
        }
    }

    /// Whether to ask the worker for its last step now: the panel is open and drawn, no
    /// request is out, and the trainer is at a step the panel has no answer for.
    pub fn wants_last_step(&mut self, step: u64) -> bool {
        let shown = self
            .drawn_at
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        let out = self
            .asked
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2));
        let params = self.last.as_ref().map_or(0, |l| l.net.n_params);
        let every = ASK_EVERY.max(Duration::from_secs_f64(params as f64 / ASK_PARAMS_PER_SEC));
        let due = self.last_asked.is_none_or(|t| t.elapsed() >= every);
        if self.layer.is_none() || !shown || out || !due || self.answered == Some(step) {
            return false;
        }
        self.asked = Some(Instant::now());
        self.last_asked = self.asked;
        true
    }

    /// The worker's answer to `Command::LastUpdate`.
    pub fn on_last_step(&mut self, step: u64, last: Option<Box<LastStep>>) {
        self.asked = None;
        self.answered = Some(step);
        self.last = last.map(Arc::from);
        if self.last.is_none() {
            self.comparison = None;
        }
        self.submit();
    }

    fn submit(&mut self) {
        let (Some(layer), Some(last)) = (self.layer, &self.last) else {
            return;
        };
        if layer >= last.net.layers.len() {
            return;
        }
        self.computing = true;
        self.thread.submit(Job {
            id: self.id,
            last: last.clone(),
            layer,
        });
    }

    /// Take the thread's answers for the current request: the comparison or the error.
    pub fn drain(&mut self) {
        while let Some(Done { id, result }) = self.thread.try_recv() {
            if id != self.id && id != u64::MAX {
                continue;
            }
            self.computing = false;
            match result {
                // An answer for a layer since deselected is dropped.
                Ok(c) if Some(c.layer) == self.layer => {
                    self.comparison = Some(Arc::from(c));
                    self.error = None;
                }
                Ok(_) => {}
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// The comparison as CSV: one row per weight with ΔW and the prediction.
    pub fn csv(&self) -> Option<String> {
        let c = self.comparison.as_ref()?;
        let mut out = format!(
            "# layer {} at step {} (batch {}, lr {:?})\nunit,input,delta_w,predicted\n",
            c.layer + 1,
            c.step,
            c.batch,
            c.lr
        );
        for (i, d) in c.delta.iter().enumerate() {
            let p = c.predicted.as_ref().ok().map(|p| format!("{:?}", p[i]));
            out.push_str(&format!(
                "{},{},{d:?},{}\n",
                i / c.cols + 1,
                i % c.cols + 1,
                p.unwrap_or_default()
            ));
        }
        Some(out)
    }
}
