//! The Geometry tile's state and its helper thread: the function's geometry at the live θ —
//! the exact linear regions over the decision map's box (`analysis::regions`) or the singular
//! values of the layer-to-layer Jacobian per depth (`analysis::jacobian`).
//!
//! The tile follows training: each new snapshot whose θ differs from the last one analysed is
//! sent to the thread once the previous answer is in (the partition of a 2-16-16-1 net takes
//! about 2 ms, so it keeps up with the throttled snapshots).

use std::sync::Arc;
use std::time::Instant;

use crate::analysis::jacobian::{self, JacobianReport, jacobian_spectrum};
use crate::analysis::regions::{self, InputBox, Regions};
use crate::data::Dataset;
use crate::net::features::Feature;
use crate::net::{BnMode, BnStats, Network, Workspace};
use crate::runtime::worker::{OutputMap, Snapshot};
use crate::ui::i18n::S;

use crate::runtime::latest::Latest;

/// Points the tile's Jacobian spectrum is computed at (the first training rows).
const JACOBIAN_POINTS: usize = 16;

/// What the Geometry tile analyses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The exact linear regions of a piecewise-linear net over the decision map's box, and their
    /// count against step.
    Regions,
    /// The singular values of the layer-to-layer Jacobians per depth, at the first training rows.
    Jacobian,
}

impl Mode {
    /// Both modes, in the order the tile's switch lists them.
    pub const ALL: [Mode; 2] = [Mode::Regions, Mode::Jacobian];

    /// The mode's label in the UI strings.
    pub fn name(self) -> S {
        match self {
            Mode::Regions => S::GeoRegions,
            Mode::Jacobian => S::GeoJacobian,
        }
    }
}

/// Why an instrument does not apply: a translated sentence and a detail (a name or number).
#[derive(Clone, Debug, PartialEq)]
pub struct NotApplicable {
    /// The translated sentence saying why (e.g. "needs a piecewise-linear activation").
    pub reason: S,
    /// What it is about: the offending activation or feature, or the number that is out of range.
    pub detail: String,
}

/// Does `mode` apply to this network? (The library would refuse with an English message; the
/// tile says the same in the chosen language.)
pub fn not_applicable(net: &Network, mode: Mode) -> Option<NotApplicable> {
    let hidden = &net.layers[..net.layers.len() - 1];
    match mode {
        Mode::Regions => {
            if !(1..=2).contains(&net.inputs) {
                return Some(NotApplicable {
                    reason: S::GeoNeedsLowDim,
                    detail: net.inputs.to_string(),
                });
            }
            if let Some(f) = net.features.iter().find(|f| !matches!(f, Feature::Raw(_))) {
                return Some(NotApplicable {
                    reason: S::GeoNeedsRaw,
                    detail: f.label(),
                });
            }
            hidden
                .iter()
                .find(|l| !regions::is_piecewise_linear(l.activation))
                .map(|l| NotApplicable {
                    reason: S::GeoNotPiecewiseLinear,
                    detail: l.activation.name().to_string(),
                })
        }
        Mode::Jacobian => {
            let widest = hidden.iter().map(|l| l.units).max().unwrap_or(0);
            if hidden.len() < 2 {
                Some(NotApplicable {
                    reason: S::GeoNeedsTwoHidden,
                    detail: hidden.len().to_string(),
                })
            } else if widest > jacobian::MAX_WIDTH {
                Some(NotApplicable {
                    reason: S::GeoTooWide,
                    detail: format!("{widest} > {}", jacobian::MAX_WIDTH),
                })
            } else {
                None
            }
        }
    }
}

/// What the thread computed for one θ.
#[derive(Clone, Debug)]
pub enum Output {
    /// The linear regions: their polygons in the input box and their count.
    Regions(Regions),
    /// The Jacobians' singular values per depth.
    Jacobian(JacobianReport),
}

/// A finished analysis, drawn until the next one arrives.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The training step of the θ analysed.
    pub step: u64,
    /// Wall time of the computation, in seconds.
    pub seconds: f64,
    /// The analysis itself.
    pub output: Output,
}

pub(crate) struct Request {
    mode: Mode,
    step: u64,
    net: Network,
    theta: Vec<f64>,
    bounds: Option<InputBox>,
    train: Arc<Dataset>,
}

/// The Geometry tile's state: the mode, the last answer and the region-count curve, its texture,
/// and the thread that follows training.
pub struct Geometry {
    /// Which analysis the tile shows.
    pub mode: Mode,
    /// θ of the last request (a new snapshot with the same θ is not analysed again).
    requested: Vec<f64>,
    /// The last answer (None after a restart or a failure).
    pub last: Option<Box<Answer>>,
    /// (step, number of regions) of every partition since the last restart, steps ascending.
    pub counts: Vec<egui_plot::PlotPoint>,
    /// Why the last analysis failed, shown in the tile.
    pub error: Option<String>,
    /// The Jacobian heatmap needs uploading.
    pub stale_texture: bool,
    /// The Jacobian heatmap uploaded to the GPU.
    pub texture: Option<eframe::egui::TextureHandle>,
    /// The theme the texture was drawn for.
    pub texture_dark: bool,
    /// When the tile was last drawn: a hidden tile (another one enlarged) computes nothing.
    pub drawn_at: Option<Instant>,
    jobs: Latest<Request, Box<Answer>>,
}

impl Geometry {
    /// An answer is being computed.
    pub fn computing(&self) -> bool {
        self.jobs.computing()
    }

    /// The tile in Regions mode with its (idle) thread; `repaint` wakes the UI when an answer
    /// arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Geometry {
        Geometry {
            mode: Mode::Regions,
            requested: Vec::new(),
            last: None,
            counts: Vec::new(),
            error: None,
            stale_texture: false,
            texture: None,
            texture_dark: true,
            drawn_at: None,
            jobs: Latest::spawn(
                "nnlab-geometry",
                repaint,
                "the geometry analysis",
                |req: Request, _| compute(&req).map(Box::new),
            ),
        }
    }

    /// Forget the answer (a new network, a reset, another mode).
    pub fn restart(&mut self) {
        self.jobs.restart();
        self.requested.clear();
        self.last = None;
        self.counts.clear();
        self.error = None;
        self.stale_texture = true;
    }

    /// Switch the analysis; a new mode starts from nothing.
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        if mode != self.mode {
            self.mode = mode;
            self.restart();
        }
    }

    /// Send the snapshot's θ to the thread when it is new and the last answer is in.
    pub fn follow(&mut self, net: Option<&Network>, snap: Option<&Snapshot>, train: &Arc<Dataset>) {
        let (Some(net), Some(snap)) = (net, snap) else {
            return;
        };
        if self.jobs.computing() || snap.theta == self.requested || snap.theta.len() != net.n_params
        {
            return;
        }
        if self
            .drawn_at
            .is_none_or(|t| t.elapsed() > std::time::Duration::from_secs(1))
        {
            return;
        }
        if not_applicable(net, self.mode).is_some() {
            return;
        }
        let bounds = match &snap.output {
            OutputMap::Grid {
                x_range, y_range, ..
            } => Some(InputBox {
                x: *x_range,
                y: *y_range,
            }),
            OutputMap::Curve { xs, .. } if xs.len() >= 2 => Some(InputBox {
                x: (xs[0], xs[xs.len() - 1]),
                y: (0.0, 0.0),
            }),
            _ => None,
        };
        self.requested.clone_from(&snap.theta);
        self.jobs.submit(Request {
            mode: self.mode,
            step: snap.step,
            net: net.clone(),
            theta: snap.theta.clone(),
            bounds,
            train: train.clone(),
        });
    }

    /// Take the thread's answers (never blocks): keep the answer, extend the region-count curve (a
    /// step back starts it again), mark the texture for upload.
    pub fn drain(&mut self) {
        while let Some(result) = self.jobs.try_recv() {
            match result {
                Ok(a) => {
                    if let Output::Regions(r) = &a.output {
                        let step = a.step as f64;
                        // A step back (the timeline, a reset) starts the curve again.
                        if self.counts.last().is_some_and(|p| p.x >= step) {
                            self.counts.retain(|p| p.x < step);
                        }
                        self.counts
                            .push(egui_plot::PlotPoint::new(step, r.regions.len() as f64));
                    }
                    self.last = Some(a);
                    self.error = None;
                    self.stale_texture = true;
                }
                Err(e) => {
                    self.last = None;
                    self.error = Some(e);
                }
            }
        }
    }
}

/// BatchNorm statistics of the training rows, as the decision map uses them.
fn bn_stats(net: &Network, theta: &[f64], train: &Dataset) -> Option<BnStats> {
    if !net.has_batch_norm() || train.rows() == 0 {
        return None;
    }
    let mut ws = Workspace::default();
    net.forward(theta, &train.x, train.rows(), &mut ws, BnMode::Batch, None);
    Some(net.bn_stats(&ws))
}

fn compute(req: &Request) -> Result<Answer, String> {
    let start = Instant::now();
    let bn = bn_stats(&req.net, &req.theta, &req.train);
    let output = match req.mode {
        Mode::Regions => {
            let bounds = req
                .bounds
                .ok_or_else(|| "no decision map to draw the regions on".to_string())?;
            Output::Regions(
                regions::regions(&req.net, &req.theta, bn.as_ref(), bounds)
                    .map_err(|e| e.message)?,
            )
        }
        Mode::Jacobian => {
            let rows = req.train.rows().min(JACOBIAN_POINTS);
            let x = &req.train.x[..rows * req.train.inputs];
            Output::Jacobian(
                jacobian_spectrum(&req.net, &req.theta, bn.as_ref(), x, rows)
                    .map_err(|e| e.message)?,
            )
        }
    };
    Ok(Answer {
        step: req.step,
        seconds: start.elapsed().as_secs_f64(),
        output,
    })
}
