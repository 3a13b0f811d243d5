//! The Landscape panel's state and its thread: slices of the training objective around the
//! current θ (random filter-normalised, top-2 Hessian or PCA-of-the-trajectory directions), the
//! line from θ₀ to θ, the 1-1-1 network's exact surface, and the optimiser race.
//!
//! A request goes out as `Command::PathNow`; the worker's answer (θ, θ₀, the trajectory) comes
//! back through the app and is handed to the landscape thread. Every answer carries the id of
//! its request; a new request cancels the one running (the library's slices poll the flag per
//! point), so only the newest is ever drawn. The thread sends a coarse preview first, then
//! progress, then the refined grid with its contour lines already traced.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::analysis::contour::{Contour, contour, contours, levels};
use crate::analysis::landscape::one_one_one::TinyLoss;
use crate::analysis::landscape::{
    self, Objective, Progress, Report, Request, SliceReport, TINY_RADIUS,
};
pub use crate::analysis::landscape::{Line as LineView, Mode, RacePath};
use crate::analysis::{CANCELLED, Subject};
use crate::net::Rows;
use crate::runtime::JobThread;
use crate::runtime::worker::ThetaPath;

/// The tile's controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Which picture: a slice along random, top-2 Hessian or PCA directions, the line θ₀→θ, the
    /// 1-1-1 surface, or the optimiser race.
    pub mode: Mode,
    /// G points per axis of the refined grid.
    pub grid: usize,
    /// G of the coarse preview.
    pub coarse: usize,
    /// α, β ∈ [−r, r] (random and Hessian directions; PCA and race fit their paths).
    pub radius: f64,
    /// The 1-1-1 network's loss: squared error on (1, 0) or sigmoid cross-entropy on (1, 1).
    pub tiny_loss: TinyLoss,
    /// The 1-1-1 surface over [−r, r]².
    pub tiny_radius: f64,
    /// Race: the learning rate every optimiser uses.
    pub race_lr: f64,
    /// Race: the number of full-batch steps each optimiser takes.
    pub race_steps: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Random,
            grid: 51,
            coarse: 13,
            radius: 1.0,
            tiny_loss: TinyLoss::Mse,
            tiny_radius: TINY_RADIUS,
            race_lr: 0.1,
            race_steps: 200,
        }
    }
}

/// Contour levels per slice.
const LEVELS: usize = 12;
/// Largest grid the panel offers.
pub const MAX_GRID: usize = 201;

/// A grid ready to draw: values, contour lines and what goes on top of them.
#[derive(Clone, Debug, Default)]
pub struct SliceView {
    /// Column coordinates: α along the first direction, or w₁ on the 1-1-1 surface.
    pub x: Vec<f64>,
    /// Row coordinates: β along the second direction, or w₂ on the 1-1-1 surface.
    pub y: Vec<f64>,
    /// Row-major, `values[i·nx + j]` at (x\[j\], y\[i\]).
    pub values: Vec<f64>,
    /// Smallest objective value on the grid (the colour scale's bottom).
    pub min: f64,
    /// Largest objective value on the grid (the colour scale's top).
    pub max: f64,
    /// Contour lines at LEVELS levels evenly spaced between min and max.
    pub contours: Vec<Contour>,
    /// The same with levels evenly spaced in log10 (for the log colour scale).
    pub contours_log: Vec<Contour>,
    /// The training trajectory projected onto the plane (its last point is θ's projection).
    pub path: Option<Vec<[f64; 2]>>,
    /// θ on the plane (the centre for random and Hessian directions).
    pub current: Option<[f64; 2]>,
    /// The 1-1-1 surface: where the 2×2 Hessian is indefinite.
    pub indefinite: Option<Vec<bool>>,
    /// The 1-1-1 surface: fraction of the grid where the Hessian is indefinite.
    pub indefinite_fraction: f64,
    /// Where det ∇²J = 0: the edge of the indefinite region.
    pub indefinite_boundary: Vec<[[f64; 2]; 2]>,
    /// Race: each optimiser's path on the plane, from the same start.
    pub races: Vec<RacePath>,
    /// Top Hessian eigenvalues (Hessian mode), PCA explained variance (PCA mode).
    pub notes: Vec<(String, f64)>,
}

/// What a finished computation draws.
#[derive(Clone, Debug)]
pub enum Output {
    /// A 2-D grid of the objective (slices, the 1-1-1 surface, the race).
    Slice(Box<SliceView>),
    /// The objective along the straight line from θ₀ to θ (and a little beyond).
    Line(LineView),
}

/// A finished result (coarse preview or refined).
#[derive(Clone, Debug)]
pub struct Answer {
    /// Which picture this is.
    pub mode: Mode,
    /// The training step whose θ it was computed around.
    pub step: u64,
    /// Points per axis actually computed (the preview's G, or the refined G).
    pub grid: usize,
    /// True for the coarse preview shown while the refined grid is computed.
    pub coarse: bool,
    /// Wall time of the computation, in seconds.
    pub seconds: f64,
    /// The picture itself.
    pub output: Output,
}

/// A computation the thread is asked for.
pub(crate) struct Job {
    /// The request's id (answers of older ids are dropped).
    pub id: u64,
    /// The tile's controls when it was requested.
    pub settings: Settings,
    /// θ and its history (not needed for the 1-1-1 surface).
    pub path: Option<Arc<ThetaPath>>,
}

/// What the landscape thread reports, each tagged with its request's id.
pub(crate) enum LandscapeEvent {
    /// The thread began this request.
    Started {
        /// Id of the request.
        id: u64,
    },
    /// Fraction of the refined grid done.
    Progress {
        /// Id of the request.
        id: u64,
        /// Fraction of the refined grid computed, 0 to 1.
        done: f64,
    },
    /// A finished picture: the coarse preview or the refined grid.
    Answer {
        /// Id of the request.
        id: u64,
        /// The picture.
        answer: Box<Answer>,
    },
    /// The computation failed (or panicked: then id is u64::MAX): the tile's error line.
    Failed {
        /// Id of the request, or u64::MAX for a panic.
        id: u64,
        /// What went wrong, in one line.
        error: String,
    },
    /// The request was cancelled by a newer one or a restart.
    Cancelled {
        /// Id of the request.
        id: u64,
    },
}

/// The Landscape tile's state: its controls, the newest request and its progress, the preview and
/// refined answers, their textures, and the thread computing them.
pub struct Landscape {
    /// The tile's controls as last applied.
    pub settings: Settings,
    /// Colour by log10(J).
    pub log: bool,
    /// Recompute whenever the last answer is in and training moved on.
    pub live: bool,
    /// Id of the newest request; answers of older ones are dropped.
    pub id: u64,
    /// A request waits for θ from the worker.
    pub awaiting_theta: bool,
    /// The request being computed and how far the refined grid is.
    pub computing: Option<f64>,
    /// The coarse preview of the request being computed (dropped when the refined answer arrives).
    pub coarse: Option<Box<Answer>>,
    /// The latest refined answer.
    pub last: Option<Box<Answer>>,
    /// Why the last request failed, shown in the tile.
    pub error: Option<String>,
    /// θ of the newest request.
    pub path: Option<Arc<ThetaPath>>,
    /// (id, coarse) of every answer received, in order (the tests check the order).
    pub received: Vec<(u64, bool)>,
    /// When the last request was made (follow-training waits a second between requests).
    pub requested_at: Option<Instant>,
    /// The heatmap and indefinite-region textures of the answer shown, and their key.
    pub texture: Option<(
        u64,
        eframe::egui::TextureHandle,
        Option<eframe::egui::TextureHandle>,
    )>,
    thread: JobThread<Job, LandscapeEvent>,
}

impl Landscape {
    /// "Follow training": a new picture is wanted once the last is drawn and training has
    /// moved on (at most once a second).
    pub(crate) fn wants_follow(&self, status: &crate::runtime::worker::Status) -> bool {
        if !self.live || self.busy() || !status.running || !self.settings.mode.needs_theta() {
            return false;
        }
        let moved = self.last.as_ref().is_none_or(|a| a.step != status.step);
        let rested = self
            .requested_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        moved && rested
    }

    /// A refined slice not yet in the recording, as the landscape to store (saved with the
    /// session); `recorded` is the (request, step) stored last, updated here.
    pub fn new_record(
        &self,
        recorded: &mut Option<(u64, u64)>,
    ) -> Option<crate::session::analysis::Analysis> {
        let a = self.last.as_deref()?;
        let directions = match a.mode {
            Mode::Random => "random",
            Mode::Hessian => "hessian",
            Mode::Pca => "pca",
            Mode::Line | Mode::Tiny | Mode::Race => return None,
        };
        let Output::Slice(v) = &a.output else {
            return None;
        };
        let key = (self.id, a.step);
        if a.coarse || *recorded == Some(key) || v.x.len() != v.y.len() {
            return None;
        }
        *recorded = Some(key);
        let radius = v.x.iter().chain(&v.y).fold(0.0f64, |m, t| m.max(t.abs()));
        let even = |axis: &[f64]| {
            let n = axis.len();
            n > 1
                && axis.iter().enumerate().all(|(i, t)| {
                    let want = -radius + 2.0 * radius * i as f64 / (n - 1) as f64;
                    (t - want).abs() <= 1e-12 * radius.max(1.0)
                })
        };
        // An even grid is known by its size and radius; an uneven one stores its axes.
        let (ax, bx) = if even(&v.x) && even(&v.y) {
            (Vec::new(), Vec::new())
        } else {
            (v.x.clone(), v.y.clone())
        };
        let r = crate::session::analysis::LandscapeResult {
            directions: directions.into(),
            grid: v.x.len(),
            radius,
            values: v.values.clone(),
            a: ax,
            b: bx,
        };
        crate::session::analysis::Analysis::landscape(a.step, &r).ok()
    }

    /// The tile with default settings and its computing thread (idle); `repaint` wakes the UI when
    /// an answer arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Landscape {
        Landscape {
            settings: Settings::default(),
            log: true,
            live: false,
            id: 0,
            awaiting_theta: false,
            computing: None,
            coarse: None,
            last: None,
            error: None,
            path: None,
            received: Vec::new(),
            requested_at: None,
            texture: None,
            thread: JobThread::spawn(
                "nnlab-landscape",
                repaint,
                |job: Job, cancel, emit| work(&job, cancel, emit),
                |msg| LandscapeEvent::Failed {
                    id: u64::MAX,
                    error: format!("the landscape computation failed: {msg}"),
                },
            ),
        }
    }

    /// Start a new request. Returns true when θ must be asked of the worker first.
    pub fn request(&mut self) -> bool {
        self.id += 1;
        self.error = None;
        self.requested_at = Some(Instant::now());
        self.thread.cancel();
        if self.settings.mode.needs_theta() {
            self.awaiting_theta = true;
            true
        } else {
            self.awaiting_theta = false;
            self.submit(None);
            false
        }
    }

    /// θ from the worker: compute the waiting request.
    pub fn on_path(&mut self, path: Arc<ThetaPath>) {
        if !self.awaiting_theta {
            return;
        }
        self.awaiting_theta = false;
        self.path = Some(path.clone());
        self.submit(Some(path));
    }

    fn submit(&mut self, path: Option<Arc<ThetaPath>>) {
        self.computing = Some(0.0);
        self.coarse = None;
        self.thread.submit(Job {
            id: self.id,
            settings: self.settings,
            path,
        });
    }

    /// A new experiment: what is shown no longer belongs to it.
    pub fn restart(&mut self) {
        self.id += 1;
        self.thread.cancel();
        self.awaiting_theta = false;
        self.computing = None;
        self.coarse = None;
        self.last = None;
        self.path = None;
        self.error = None;
    }

    /// The answer to draw: the refined one, else the preview.
    pub fn shown(&self) -> Option<&Answer> {
        self.last.as_deref().or(self.coarse.as_deref())
    }

    /// A request waits for θ or is being computed.
    pub fn busy(&self) -> bool {
        self.awaiting_theta || self.computing.is_some()
    }

    /// Take the thread's answers (never blocks).
    pub fn drain(&mut self) {
        while let Some(e) = self.thread.try_recv() {
            match e {
                LandscapeEvent::Started { id } if id == self.id => self.computing = Some(0.0),
                LandscapeEvent::Progress { id, done } if id == self.id => {
                    self.computing = Some(done)
                }
                LandscapeEvent::Answer { id, answer } if id == self.id => {
                    self.received.push((id, answer.coarse));
                    if answer.coarse {
                        self.coarse = Some(answer);
                    } else {
                        self.computing = None;
                        self.coarse = None;
                        self.last = Some(answer);
                    }
                }
                LandscapeEvent::Failed { id, error } if id == self.id || id == u64::MAX => {
                    self.computing = None;
                    self.error = Some(error);
                }
                LandscapeEvent::Cancelled { id } if id == self.id => self.computing = None,
                _ => {}
            }
        }
    }
}

/// The objective of a θ sample: the training objective over the whole training set.
pub fn objective(path: &ThetaPath) -> Objective<'_> {
    let o = &path.objective;
    Objective {
        net: &o.net,
        rows: Rows {
            x: &o.train.x,
            y: &o.train.y,
            classes: o.train.classes,
        },
        l1: path.regularization.l1,
        l2: path.regularization.l2,
    }
}

/// The request the tile computes with these settings on the θ the worker handed out (None:
/// no network, which only the 1-1-1 surface does without): the radius as set for random and
/// Hessian directions and for the 1-1-1 surface, fitted to the paths for PCA and the race.
pub fn request<'a>(settings: &Settings, path: Option<&'a ThetaPath>) -> Request<'a> {
    let st = settings;
    Request {
        mode: st.mode,
        subject: path.map(|p| Subject {
            net: &p.objective.net,
            train: &p.objective.train,
            theta: &p.theta,
            regularization: p.regularization,
            seed: p.seed,
        }),
        step: path.map_or(0, |p| p.step),
        theta0: path.map_or(&[], |p| &p.theta0),
        trajectory: path.map_or(&[], |p| &p.trajectory),
        grid: st.grid.clamp(3, MAX_GRID),
        coarse: st.coarse,
        radius: match st.mode {
            Mode::Random | Mode::Hessian => Some(st.radius),
            Mode::Tiny => Some(st.tiny_radius),
            Mode::Pca | Mode::Line | Mode::Race => None,
        },
        tiny_loss: st.tiny_loss,
        race_lr: st.race_lr,
        race_steps: st.race_steps,
    }
}

/// Run a job on the landscape thread: the coarse preview and the refined answer go out ready
/// to draw (contours traced), progress at most every 60 ms.
fn work(job: &Job, cancel: &AtomicBool, emit: &mut dyn FnMut(LandscapeEvent)) {
    let id = job.id;
    emit(LandscapeEvent::Started { id });
    let req = request(&job.settings, job.path.as_deref());
    let mut last_progress = Instant::now();
    let result = landscape::run(
        &req,
        &mut |p| match p {
            Progress::Preview(r) => emit(LandscapeEvent::Answer {
                id,
                answer: Box::new(answer(r.clone(), true)),
            }),
            Progress::Rows { done, of } => {
                if last_progress.elapsed() > Duration::from_millis(60) {
                    last_progress = Instant::now();
                    emit(LandscapeEvent::Progress {
                        id,
                        done: done as f64 / of as f64,
                    });
                }
            }
            Progress::Products(_) => {}
        },
        cancel,
    );
    emit(match result {
        Ok(r) => LandscapeEvent::Answer {
            id,
            answer: Box::new(answer(r, false)),
        },
        Err(_) if cancel.load(Ordering::Relaxed) => LandscapeEvent::Cancelled { id },
        Err(e) if e == CANCELLED => LandscapeEvent::Cancelled { id },
        Err(error) => LandscapeEvent::Failed { id, error },
    });
}

/// A report ready to draw: its grid with the contour lines traced (linear and log levels, and
/// the edge of the 1-1-1 surface's indefinite region), its notes named.
pub fn answer(report: Report, coarse: bool) -> Answer {
    let output = match report.output {
        landscape::Output::Line(l) => Output::Line(l),
        landscape::Output::Slice(s) => Output::Slice(Box::new(view(*s))),
    };
    let grid = match &output {
        Output::Slice(v) => v.x.len(),
        Output::Line(l) => l.t.len(),
    };
    Answer {
        mode: report.mode,
        step: report.step,
        grid,
        coarse,
        seconds: report.seconds,
        output,
    }
}

fn view(s: SliceReport) -> SliceView {
    let (x, y, values) = (s.alpha, s.beta, s.loss);
    let lin = contours(&values, &x, &y, &levels(s.min, s.max, LEVELS, false));
    let log = contours(&values, &x, &y, &levels(s.min, s.max, LEVELS, true));
    let indefinite_boundary = s
        .det
        .as_ref()
        .map(|det| contour(det, &x, &y, 0.0))
        .unwrap_or_default();
    let mut notes = Vec::new();
    if let Some([l1, l2]) = s.eigenvalues {
        notes.push(("λ₁".to_string(), l1));
        notes.push(("λ₂".to_string(), l2));
    }
    if let Some([p1, p2]) = s.explained_variance {
        notes.push(("PC1".to_string(), p1));
        notes.push(("PC2".to_string(), p2));
    }
    SliceView {
        min: s.min,
        max: s.max,
        contours: lin,
        contours_log: log,
        path: s.path,
        current: s.current,
        indefinite: s.indefinite,
        indefinite_fraction: s.indefinite_fraction.unwrap_or(0.0),
        indefinite_boundary,
        races: s.races,
        notes,
        x,
        y,
        values,
    }
}

/// A CSV field: the number in Rust's shortest exact form, or empty where there is none.
fn field(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        String::new()
    }
}

/// The answer's data as CSV. A slice: `series,x,y,loss` with one `grid` row per grid point
/// (row-major, y outer), then the points drawn on it — the projected training `path`, the
/// `current` θ and each race's path (`race <name>`) — with an empty loss. The line θ₀ → θ:
/// `t,loss`.
pub fn csv(a: &Answer) -> String {
    let axes = if a.mode == Mode::Tiny {
        "(w1, w2) of the 1-1-1 network"
    } else {
        "(alpha, beta) along the plane's two directions"
    };
    match &a.output {
        Output::Line(l) => {
            let mut out = format!("# loss along theta0 → theta at step {}\nt,loss\n", a.step);
            for (t, j) in l.t.iter().zip(&l.loss) {
                out.push_str(&format!("{},{}\n", field(*t), field(*j)));
            }
            out
        }
        Output::Slice(v) => {
            let mut out = format!(
                "# loss landscape at step {}, {}×{} grid, x and y are {axes}\nseries,x,y,loss\n",
                a.step,
                v.x.len(),
                v.y.len()
            );
            let nx = v.x.len();
            for (i, y) in v.y.iter().enumerate() {
                for (j, x) in v.x.iter().enumerate() {
                    let j_value = v.values.get(i * nx + j).copied().unwrap_or(f64::NAN);
                    out.push_str(&format!(
                        "grid,{},{},{}\n",
                        field(*x),
                        field(*y),
                        field(j_value)
                    ));
                }
            }
            let mut points = |name: &str, pts: &[[f64; 2]]| {
                for p in pts {
                    out.push_str(&format!("{name},{},{},\n", field(p[0]), field(p[1])));
                }
            };
            if let Some(p) = &v.path {
                points("path", p);
            }
            if let Some(c) = v.current {
                points("current", &[c]);
            }
            for r in &v.races {
                points(&format!("race {}", r.name), &r.path);
            }
            out
        }
    }
}

/// The value of a grid at (x, y) by bilinear interpolation (None outside or where missing).
pub fn sample(v: &SliceView, x: f64, y: f64) -> Option<f64> {
    let locate = |axis: &[f64], t: f64| -> Option<(usize, f64)> {
        let n = axis.len();
        if n < 2 || t < axis[0] || t > axis[n - 1] {
            return None;
        }
        let h = (axis[n - 1] - axis[0]) / (n - 1) as f64;
        let k = (((t - axis[0]) / h).floor() as usize).min(n - 2);
        Some((k, (t - axis[k]) / (axis[k + 1] - axis[k])))
    };
    let (j, fx) = locate(&v.x, x)?;
    let (i, fy) = locate(&v.y, y)?;
    let nx = v.x.len();
    let at = |i: usize, j: usize| v.values[i * nx + j];
    let val = (1.0 - fy) * ((1.0 - fx) * at(i, j) + fx * at(i, j + 1))
        + fy * ((1.0 - fx) * at(i + 1, j) + fx * at(i + 1, j + 1));
    val.is_finite().then_some(val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::curvature::Objective as Fixed;
    use crate::analysis::landscape::{Plane, pca_plane};
    use crate::data::Dataset;
    use crate::net::Network;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};
    use crate::optim::{OptimizerKind, OptimizerSpec};

    fn path() -> ThetaPath {
        let spec = NetworkSpec {
            inputs: 2,
            layers: vec![
                LayerSpec::new(4, crate::net::Activation::Tanh),
                LayerSpec::new(1, crate::net::Activation::Identity),
            ],
            init: Init::XavierNormal,
            init_scale: 1.0,
            features: None,
            residual: false,
            weight_constraint: WeightConstraint::None,
        };
        let net = Network::build(&spec, Loss::Mse).unwrap();
        let theta0 = crate::net::init::initialise(&net, Init::XavierNormal, 1.0, 5);
        let train = Dataset {
            inputs: 2,
            x: vec![0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 0.1],
            y: vec![0.1, -0.2, 0.3, 0.4, -0.5],
            task: crate::data::spec::Task::Regression,
            classes: 0,
        };
        // A curved trajectory: θ₀ + s·a + s²·b.
        let p = net.n_params;
        let a: Vec<f64> = (0..p).map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.1).collect();
        let b: Vec<f64> = (0..p).map(|i| ((i * 3 % 4) as f64 - 1.5) * 0.05).collect();
        let trajectory: Vec<Vec<f64>> = (0..10)
            .map(|k| {
                let s = k as f64 / 9.0;
                (0..p)
                    .map(|i| theta0[i] + s * a[i] + s * s * b[i])
                    .collect()
            })
            .collect();
        ThetaPath {
            objective: Arc::new(Fixed { net, train }),
            theta: trajectory[9].clone(),
            step: 90,
            theta0,
            steps: (0..10).map(|k| k * 10).collect(),
            trajectory,
            regularization: Default::default(),
            optimizer: OptimizerSpec::new(OptimizerKind::Gd, 0.1, 1),
            seed: 3,
        }
    }

    fn compute_now(mode: Mode, p: &Arc<ThetaPath>) -> (Vec<bool>, Answer) {
        let settings = Settings {
            mode,
            grid: 21,
            coarse: 7,
            ..Settings::default()
        };
        let job = Job {
            id: 1,
            settings,
            path: Some(p.clone()),
        };
        let mut answers = Vec::new();
        work(&job, &AtomicBool::new(false), &mut |e| match e {
            LandscapeEvent::Answer { answer, .. } => answers.push(*answer),
            LandscapeEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        });
        let a = answers.pop().expect("an answer");
        assert!(!a.coarse, "the refined answer comes last");
        let coarse = answers.iter().map(|a| a.coarse).collect();
        (coarse, a)
    }

    #[test]
    fn the_projected_path_ends_at_the_current_theta() {
        let p = Arc::new(path());
        for mode in [Mode::Random, Mode::Pca] {
            let (coarse, a) = compute_now(mode, &p);
            assert_eq!(coarse, vec![true], "{mode:?}: one coarse preview first");
            let Output::Slice(v) = a.output else {
                panic!("a slice")
            };
            let path = v.path.as_ref().expect("a path");
            assert_eq!(path.len(), p.trajectory.len());
            let last = path[path.len() - 1];
            let cur = v.current.unwrap();
            // θ is the plane's origin in both modes: the path ends at (0, 0).
            assert!(last[0].abs() < 1e-12 && last[1].abs() < 1e-12, "{last:?}");
            assert_eq!(cur, [0.0, 0.0]);
            // The first point is θ₀'s least-squares projection: rebuilding it from the plane
            // and projecting again gives the same coordinates, and the residual is orthogonal
            // to both directions.
            let plane = match mode {
                Mode::Random => Plane::random(&p.objective.net, &p.theta, p.seed),
                _ => pca_plane(&p.trajectory).unwrap().plane,
            };
            let c = path[0];
            let q = plane.point(c[0], c[1]);
            let r: Vec<f64> = p.theta0.iter().zip(&q).map(|(a, b)| a - b).collect();
            let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
            let scale = dot(&p.theta0, &p.theta0).sqrt();
            assert!(dot(&r, &plane.d1).abs() < 1e-10 * scale, "{mode:?}");
            assert!(dot(&r, &plane.d2).abs() < 1e-10 * scale, "{mode:?}");
        }
    }

    #[test]
    fn the_centre_of_a_random_slice_is_the_objective_at_theta() {
        let p = Arc::new(path());
        let (_, a) = compute_now(Mode::Random, &p);
        let Output::Slice(v) = a.output else {
            panic!("a slice")
        };
        let g = v.x.len();
        let centre = v.values[(g / 2) * g + g / 2];
        let j = objective(&p).value(&p.theta);
        assert!(
            (centre - j).abs() <= 1e-12 * j.abs().max(1.0),
            "{centre} vs {j}"
        );
        assert_eq!(sample(&v, 0.0, 0.0), Some(centre));
        assert!(!v.contours.is_empty() && v.contours.iter().any(|c| !c.segments.is_empty()));
    }

    #[test]
    fn a_new_request_cancels_the_running_one() {
        let p = Arc::new(path());
        let mut l = Landscape::new(Arc::new(|| {}));
        l.settings.grid = 201;
        assert!(l.request());
        l.on_path(p.clone());
        let first = l.id;
        l.settings.grid = 11;
        assert!(l.request());
        l.on_path(p);
        let t = Instant::now();
        while l.last.is_none() && t.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
            l.drain();
        }
        let a = l.last.as_ref().expect("an answer");
        assert_eq!(a.grid, 11);
        assert!(l.received.iter().all(|(id, _)| *id != first));
    }
}
