//! The Spectral-bias tile's state and its helper thread (THEORY row 36): at each new snapshot
//! of a 1-D regression, the residual r = f − y over the training inputs is taken to the
//! frequency domain (`analysis::spectral_bias`), and its amplitude per frequency and relative
//! error at the target's peaks are appended to a history against step.
//!
//! Like the Geometry tile it follows training: a snapshot whose θ differs from the last one
//! analysed is sent once the previous answer is in, and only while the tile is drawn.

use std::sync::Arc;
use std::time::Instant;

use crate::analysis::spectral_bias::FourierBasis;
use crate::data::Dataset;
use crate::net::{BnMode, Network, Workspace};
use crate::runtime::latest::Latest;
use crate::runtime::worker::Snapshot;
use crate::ui::i18n::S;

/// Frequencies analysed: k = 0 … 31 cycles over the data interval.
pub const FREQUENCIES: usize = 32;
/// A target peak carries at least this share of the largest (as `nnlab spectral-bias`).
pub const PEAK_SHARE: f64 = 0.1;
/// A band counts as learned below this relative error (as `nnlab spectral-bias`).
pub(crate) const THRESHOLD: f64 = 0.1;
/// Most records kept; past it every other one is dropped (the heatmap stays readable).
pub const MAX_RECORDS: usize = 1024;

/// Why the spectrum does not apply: a translated sentence and a detail.
pub fn not_applicable(net: &Network, train: &Dataset) -> Option<(S, String)> {
    if net.inputs != 1 {
        return Some((S::SpecNeeds1D, net.inputs.to_string()));
    }
    if train.classes != 0 {
        return Some((S::SpecNeedsRegression, String::new()));
    }
    if net.output_units() != 1 {
        return Some((S::SpecNeedsOneOutput, net.output_units().to_string()));
    }
    if train.rows() < 4 {
        return Some((S::SpecTooFewRows, train.rows().to_string()));
    }
    None
}

/// The spectrum of the residual at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The training step of the θ analysed.
    pub step: u64,
    /// |r̂(k)| / max_k≥1 |ŷ(k)|, k = 0 … K−1.
    pub amplitude: Vec<f64>,
    /// |r̂(k)| / |ŷ(k)| at each peak.
    pub errors: Vec<f64>,
}

pub(crate) struct Answer {
    /// The target's peak frequencies k.
    pub peaks: Vec<usize>,
    /// |ŷ(k)|.
    pub target: Vec<f64>,
    /// The residual's spectrum at the snapshot's step.
    pub record: Record,
    /// Wall time of the computation, in seconds.
    pub seconds: f64,
}

pub(crate) struct Request {
    step: u64,
    net: Network,
    theta: Vec<f64>,
    train: Arc<Dataset>,
}

/// The Spectral-bias tile's state: the target's peaks and spectrum, the residual's spectrum against
/// step (the heatmap), its texture, and the thread that follows training.
pub struct SpectralBias {
    requested: Vec<f64>,
    /// The target's peak frequencies k (from the latest answer).
    pub peaks: Vec<usize>,
    /// The target's amplitude |ŷ(k)| per frequency (from the latest answer).
    pub target: Vec<f64>,
    /// Records since the last restart, steps ascending.
    pub history: Vec<Record>,
    /// Wall time of the latest analysis, in seconds.
    pub seconds: f64,
    /// Why the last analysis failed, shown in the tile.
    pub error: Option<String>,
    /// The heatmap changed and must be uploaded again.
    pub stale_texture: bool,
    /// The heatmap (frequency against step) uploaded to the GPU.
    pub texture: Option<eframe::egui::TextureHandle>,
    /// The theme the texture was drawn for.
    pub texture_dark: bool,
    /// When the tile was last drawn: a hidden tile computes nothing.
    pub drawn_at: Option<Instant>,
    jobs: Latest<Request, Box<Answer>>,
}

impl SpectralBias {
    /// An answer is being computed.
    pub fn computing(&self) -> bool {
        self.jobs.computing()
    }

    /// The tile with an empty history and its (idle) thread; `repaint` wakes the UI when an answer
    /// arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> SpectralBias {
        SpectralBias {
            requested: Vec::new(),
            peaks: Vec::new(),
            target: Vec::new(),
            history: Vec::new(),
            seconds: 0.0,
            error: None,
            stale_texture: true,
            texture: None,
            texture_dark: true,
            drawn_at: None,
            jobs: Latest::spawn(
                "nnlab-spectral",
                repaint,
                "the spectrum",
                |req: Request, _| compute(&req).map(Box::new),
            ),
        }
    }

    /// Forget the history (a new network, a reset).
    pub fn restart(&mut self) {
        self.jobs.restart();
        self.requested.clear();
        self.peaks.clear();
        self.target.clear();
        self.history.clear();
        self.error = None;
        self.stale_texture = true;
    }

    /// Send the snapshot's θ to the thread when it is new, the tile is shown and the last
    /// answer is in.
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
        if not_applicable(net, train).is_some() {
            return;
        }
        self.requested.clone_from(&snap.theta);
        self.jobs.submit(Request {
            step: snap.step,
            net: net.clone(),
            theta: snap.theta.clone(),
            train: train.clone(),
        });
    }

    /// Take the thread's answers (never blocks): append the record (a step back starts the history
    /// again; past MAX_RECORDS every other one is dropped) and keep the target's peaks.
    pub fn drain(&mut self) {
        while let Some(result) = self.jobs.try_recv() {
            match result {
                Ok(a) => {
                    super::history::push_record(
                        &mut self.history,
                        a.record,
                        |r| r.step,
                        MAX_RECORDS,
                    );
                    self.peaks = a.peaks;
                    self.target = a.target;
                    self.seconds = a.seconds;
                    self.error = None;
                    self.stale_texture = true;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

fn compute(req: &Request) -> Result<Answer, String> {
    let start = Instant::now();
    let (net, train) = (&req.net, &req.train);
    let rows = train.rows();
    let basis = FourierBasis::new(&train.x, &train.y, FREQUENCIES).map_err(|e| e.message)?;
    let mut ws = Workspace::default();
    // BatchNorm in evaluation mode with the training rows' statistics, as the map shows it.
    let bn = if net.has_batch_norm() {
        net.forward(&req.theta, &train.x, rows, &mut ws, BnMode::Batch, None);
        Some(net.bn_stats(&ws))
    } else {
        None
    };
    let mode = match &bn {
        Some(s) => BnMode::Fixed(s),
        None => BnMode::Batch,
    };
    net.forward(&req.theta, &train.x, rows, &mut ws, mode, None);
    let last = net.layers.len() - 1;
    let f = ws.layers[last].f[..rows].to_vec();
    let peaks = basis.peaks(PEAK_SHARE);
    let residual: Vec<f64> = f.iter().zip(&train.y).map(|(a, b)| a - b).collect();
    let top = basis.target[1..].iter().fold(0.0f64, |m, &v| m.max(v));
    let amplitude = basis
        .amplitudes(&residual)
        .into_iter()
        .map(|a| if top > 0.0 { a / top } else { f64::NAN })
        .collect();
    let errors = basis.relative_errors(&f, &peaks);
    Ok(Answer {
        record: Record {
            step: req.step,
            amplitude,
            errors,
        },
        peaks,
        target: basis.target.clone(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
