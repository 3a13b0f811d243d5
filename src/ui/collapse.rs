//! The Collapse tile's state and its helper thread (THEORY row 38; Papyan, Han & Donoho 2020):
//! at the live θ, the last hidden layer over the training rows (`analysis::collapse`) gives
//! NC1, the centred class means' cosines, NC3 and NC4, appended to a history against step, and
//! its 2-D PCA coloured by class.
//!
//! It follows training like the Spectral-bias tile: a snapshot at least `every` steps after
//! the last one analysed is sent once the previous answer is in, and only while the tile is
//! drawn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::collapse::{self, Collapse};
use crate::data::Dataset;
use crate::net::{Network, Rows};
use crate::runtime::latest::Latest;
use crate::runtime::worker::Snapshot;
use crate::ui::i18n::S;

/// Most records kept; past it every other one is dropped.
pub const MAX_RECORDS: usize = 2048;
/// The default interval between two analysed steps.
pub const DEFAULT_EVERY: u64 = 20;

/// Why neural collapse is not measured here: a translated sentence and a detail.
pub fn not_applicable(net: &Network, train: &Dataset) -> Option<(S, String)> {
    let k = train.classes;
    if k == 0 {
        return Some((S::NcNeedsClasses, String::new()));
    }
    if k < 3 {
        return Some((S::NcNeedsThree, k.to_string()));
    }
    if net.output_units() != k {
        return Some((
            S::NcNeedsOnePerClass,
            format!("{k} / {}", net.output_units()),
        ));
    }
    if net.layers.len() < 2 {
        return Some((S::NcNeedsHidden, String::new()));
    }
    let d = net.layers[net.layers.len() - 2].units;
    if d > collapse::MAX_WIDTH {
        return Some((S::NcTooWide, format!("{d} > {}", collapse::MAX_WIDTH)));
    }
    None
}

/// The measures at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The training step of the analysed θ.
    pub step: u64,
    /// NC1–NC4 there.
    pub collapse: Collapse,
}

/// What the tile's thread answers for one snapshot.
pub struct Answer {
    /// The measures.
    pub record: Record,
    /// The last hidden layer's PCA, one point per training row.
    pub pca: Vec<[f64; 2]>,
    /// The class of each PCA point.
    pub labels: Vec<usize>,
    /// Time the analysis took.
    pub seconds: f64,
}

/// One snapshot to analyse.
pub(crate) struct Request {
    step: u64,
    net: Network,
    theta: Vec<f64>,
    train: Arc<Dataset>,
}

/// NC1–NC4 and the PCA at the request's θ.
pub fn compute(net: &Network, theta: &[f64], train: &Dataset, step: u64) -> Result<Answer, String> {
    let start = Instant::now();
    let rows = Rows {
        x: &train.x,
        y: &train.y,
        classes: train.classes,
    };
    let f = collapse::features(net, theta, rows)?;
    let c = collapse::collapse(&f)?;
    let pca = collapse::pca2(&f)?;
    Ok(Answer {
        record: Record { step, collapse: c },
        pca,
        labels: f.labels,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The Collapse tile's state: the records so far, the latest PCA, and its job thread.
pub struct NeuralCollapse {
    /// Steps between two analysed snapshots.
    pub every: u64,
    /// The step of the last request.
    requested: Option<u64>,
    /// Records since the last restart, steps ascending.
    pub history: Vec<Record>,
    /// The last hidden layer's PCA at the latest record, one point per training row.
    pub pca: Vec<[f64; 2]>,
    /// The class of each PCA point.
    pub labels: Vec<usize>,
    /// Time the latest analysis took.
    pub seconds: f64,
    /// Why the latest analysis failed.
    pub error: Option<String>,
    /// When the tile was last drawn: a hidden tile computes nothing.
    pub drawn_at: Option<Instant>,
    jobs: Latest<Request, Answer>,
}

impl NeuralCollapse {
    /// No records yet; `repaint` wakes the UI when an answer arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> NeuralCollapse {
        NeuralCollapse {
            every: DEFAULT_EVERY,
            requested: None,
            history: Vec::new(),
            pca: Vec::new(),
            labels: Vec::new(),
            seconds: 0.0,
            error: None,
            drawn_at: None,
            jobs: Latest::spawn(
                "nnlab-collapse",
                repaint,
                "neural collapse",
                |req: Request, _cancelled| compute(&req.net, &req.theta, &req.train, req.step),
            ),
        }
    }

    /// A request is on the thread.
    pub fn computing(&self) -> bool {
        self.jobs.computing()
    }

    /// Forget the history (a new network, a reset).
    pub fn restart(&mut self) {
        self.jobs.restart();
        self.requested = None;
        self.history.clear();
        self.pca.clear();
        self.labels.clear();
        self.error = None;
    }

    /// Send the snapshot's θ when it is `every` steps past the last one sent (or earlier than
    /// it: the timeline went back; or any new step once training has stopped, so the run's
    /// last step is measured), the tile is shown and the last answer is in.
    pub fn follow(
        &mut self,
        net: Option<&Network>,
        snap: Option<&Snapshot>,
        train: &Arc<Dataset>,
        running: bool,
    ) {
        let (Some(net), Some(snap)) = (net, snap) else {
            return;
        };
        if self.jobs.computing() || snap.theta.len() != net.n_params {
            return;
        }
        let due = self.requested.is_none_or(|s| {
            snap.step < s || snap.step >= s + self.every.max(1) || (!running && snap.step != s)
        });
        if !due
            || self
                .drawn_at
                .is_none_or(|t| t.elapsed() > Duration::from_secs(1))
            || not_applicable(net, train).is_some()
        {
            return;
        }
        self.requested = Some(snap.step);
        self.jobs.submit(Request {
            step: snap.step,
            net: net.clone(),
            theta: snap.theta.clone(),
            train: train.clone(),
        });
    }

    /// Take the thread's answers: append the record of the current experiment, keep the PCA,
    /// or the error.
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
                    self.pca = a.pca;
                    self.labels = a.labels;
                    self.seconds = a.seconds;
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// The history as CSV, one row per analysed step.
    pub fn csv(&self) -> Option<String> {
        if self.history.is_empty() {
            return None;
        }
        let mut out = String::from(
            "step,nc1,cosine_mean,cosine_std,cosine_target,norm_variation,nc3,nc3_cosine,nc4_agreement,accuracy\n",
        );
        for r in &self.history {
            let c = &r.collapse;
            out.push_str(&format!(
                "{},{:?},{:?},{:?},{:?},{:?},{:?},{:?},{:?},{:?}\n",
                r.step,
                c.nc1,
                c.cosine_mean,
                c.cosine_std,
                c.cosine_target,
                c.norm_variation,
                c.nc3,
                c.nc3_cosine,
                c.nc4_agreement,
                c.accuracy
            ));
        }
        Some(out)
    }
}
