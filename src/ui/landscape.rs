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

use crate::analysis::hessian::hessian_problem;
use crate::analysis::hessian::{LANCZOS_STEPS, top_eigenpairs};
use crate::analysis::landscape::contour::{Contour, contours, levels};
use crate::analysis::landscape::one_one_one::{self, TinyLoss};
use crate::analysis::landscape::{
    self, Objective, Plane, Progress, SliceSpec, pca_plane, race, slice_progressive,
};
use crate::net::Rows;
use crate::optim::{OptimizerKind, OptimizerSpec};
use crate::runtime::JobThread;
use crate::runtime::worker::ThetaPath;

/// What the panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A slice along two filter-normalised random directions.
    Random,
    /// A slice along the top-2 Hessian eigenvectors.
    Hessian,
    /// A slice of the PCA plane of the trajectory, with the projected path.
    Pca,
    /// J along the line from θ₀ to θ.
    Line,
    /// The 1-1-1 network's exact surface over (w₁, w₂).
    Tiny,
    /// Several optimisers from θ₀ on one slice.
    Race,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Random,
        Mode::Hessian,
        Mode::Pca,
        Mode::Line,
        Mode::Tiny,
        Mode::Race,
    ];

    /// Modes that need the live network's θ (the 1-1-1 surface does not).
    pub fn needs_theta(self) -> bool {
        self != Mode::Tiny
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub mode: Mode,
    /// G points per axis of the refined grid.
    pub grid: usize,
    /// G of the coarse preview.
    pub coarse: usize,
    /// α, β ∈ [−r, r] (random and Hessian directions; PCA and race fit their paths).
    pub radius: f64,
    pub tiny_loss: TinyLoss,
    /// The 1-1-1 surface over [−r, r]².
    pub tiny_radius: f64,
    /// Race: learning rate of every optimiser, and the number of full-batch steps.
    pub race_lr: f64,
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
            tiny_radius: 6.0,
            race_lr: 0.1,
            race_steps: 200,
        }
    }
}

/// Contour levels per slice.
pub const LEVELS: usize = 12;
/// Points of the θ₀ → θ line (≡ 1 mod 4, so t = 0 and t = 1 are grid points).
pub const LINE_POINTS: usize = 201;
/// Largest grid the panel offers.
pub const MAX_GRID: usize = 201;

/// One optimiser's path in a race.
#[derive(Clone, Debug)]
pub struct RacePath {
    pub name: String,
    pub path: Vec<[f64; 2]>,
    pub final_loss: f64,
    pub diverged: bool,
    /// Largest distance of the run from the plane, relative to its distance from θ₀.
    pub off_plane: f64,
}

/// A grid ready to draw: values, contour lines and what goes on top of them.
#[derive(Clone, Debug, Default)]
pub struct SliceView {
    /// Columns (α or w₁) and rows (β or w₂).
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Row-major, `values[i·nx + j]` at (x[j], y[i]).
    pub values: Vec<f64>,
    pub min: f64,
    pub max: f64,
    pub contours: Vec<Contour>,
    /// The same with levels evenly spaced in log10 (for the log colour scale).
    pub contours_log: Vec<Contour>,
    /// The training trajectory projected onto the plane (its last point is θ's projection).
    pub path: Option<Vec<[f64; 2]>>,
    /// θ on the plane (the centre for random and Hessian directions).
    pub current: Option<[f64; 2]>,
    /// The 1-1-1 surface: where the 2×2 Hessian is indefinite.
    pub indefinite: Option<Vec<bool>>,
    pub indefinite_fraction: f64,
    /// Where det ∇²J = 0: the edge of the indefinite region.
    pub indefinite_boundary: Vec<[[f64; 2]; 2]>,
    pub races: Vec<RacePath>,
    /// Top Hessian eigenvalues (Hessian mode), PCA explained variance (PCA mode).
    pub notes: Vec<(String, f64)>,
}

/// J along the line from θ₀ to θ.
#[derive(Clone, Debug)]
pub struct LineView {
    pub t: Vec<f64>,
    pub loss: Vec<f64>,
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Debug)]
pub enum Output {
    Slice(Box<SliceView>),
    Line(LineView),
}

/// A finished result (coarse preview or refined).
#[derive(Clone, Debug)]
pub struct Answer {
    pub mode: Mode,
    pub step: u64,
    pub grid: usize,
    pub coarse: bool,
    pub seconds: f64,
    pub output: Output,
}

pub struct Request {
    pub id: u64,
    pub settings: Settings,
    /// θ and its history (not needed for the 1-1-1 surface).
    pub path: Option<Arc<ThetaPath>>,
}

pub enum LandscapeEvent {
    Started {
        id: u64,
    },
    /// Fraction of the refined grid done.
    Progress {
        id: u64,
        done: f64,
    },
    Answer {
        id: u64,
        answer: Box<Answer>,
    },
    Failed {
        id: u64,
        error: String,
    },
    Cancelled {
        id: u64,
    },
}

pub struct Landscape {
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
    pub coarse: Option<Box<Answer>>,
    pub last: Option<Box<Answer>>,
    pub error: Option<String>,
    /// θ of the newest request.
    pub path: Option<Arc<ThetaPath>>,
    /// (id, coarse) of every answer received, in order (the tests check the order).
    pub received: Vec<(u64, bool)>,
    pub requested_at: Option<Instant>,
    /// The heatmap and indefinite-region textures of the answer shown, and their key.
    pub texture: Option<(
        u64,
        eframe::egui::TextureHandle,
        Option<eframe::egui::TextureHandle>,
    )>,
    thread: JobThread<Request, LandscapeEvent>,
}

impl Landscape {
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
                |req: Request, cancel, emit| run(req, cancel, emit),
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
        self.thread.submit(Request {
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

fn run(req: Request, cancel: &AtomicBool, emit: &mut dyn FnMut(LandscapeEvent)) {
    let id = req.id;
    emit(LandscapeEvent::Started { id });
    match compute(&req, cancel, emit) {
        Ok(Some(answer)) => emit(LandscapeEvent::Answer {
            id,
            answer: Box::new(answer),
        }),
        Ok(None) => emit(LandscapeEvent::Cancelled { id }),
        Err(error) => emit(LandscapeEvent::Failed { id, error }),
    }
}

/// Trace the contour lines of a grid, linear and log levels.
pub fn view(
    x: Vec<f64>,
    y: Vec<f64>,
    values: Vec<f64>,
    min: f64,
    max: f64,
    path: Option<Vec<[f64; 2]>>,
    current: Option<[f64; 2]>,
) -> SliceView {
    let lin = contours(&values, &x, &y, &levels(min, max, LEVELS, false));
    let log = contours(&values, &x, &y, &levels(min, max, LEVELS, true));
    SliceView {
        x,
        y,
        values,
        min,
        max,
        contours: lin,
        contours_log: log,
        path,
        current,
        ..SliceView::default()
    }
}

fn slice_view(s: &landscape::Slice, path: &Option<Vec<[f64; 2]>>, current: [f64; 2]) -> SliceView {
    view(
        s.alpha.clone(),
        s.beta.clone(),
        s.loss.clone(),
        s.min,
        s.max,
        path.clone(),
        Some(current),
    )
}

/// The largest |coordinate| of some paths, ×1.25 (1 when they do not move).
fn reach<'a>(paths: impl Iterator<Item = &'a [f64; 2]>) -> f64 {
    let r = paths
        .flat_map(|c| [c[0].abs(), c[1].abs()])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if r > 0.0 { 1.25 * r } else { 1.0 }
}

/// The optimisers of the race, all with learning rate `lr`.
pub fn race_runs(lr: f64) -> Vec<(String, OptimizerSpec)> {
    let mk = |kind, name: &str| (name.to_string(), OptimizerSpec::new(kind, lr, 1));
    let mut momentum = mk(OptimizerKind::Momentum, "momentum");
    momentum.1.momentum = 0.9;
    let mut nesterov = mk(OptimizerKind::Nesterov, "nesterov");
    nesterov.1.momentum = 0.9;
    vec![
        mk(OptimizerKind::Gd, "gd"),
        momentum,
        nesterov,
        mk(OptimizerKind::Rmsprop, "rmsprop"),
        mk(OptimizerKind::Adam, "adam"),
    ]
}

fn compute(
    req: &Request,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(LandscapeEvent),
) -> Result<Option<Answer>, String> {
    let start = Instant::now();
    let st = req.settings;
    let id = req.id;
    if st.mode == Mode::Tiny {
        return tiny(&st, cancel, emit, id, start);
    }
    let path = req
        .path
        .as_ref()
        .ok_or("there is no network to analyse (rebuild it)")?;
    let obj = objective(path);
    let theta = &path.theta;
    if theta.iter().any(|v| !v.is_finite()) {
        return Err("θ is not finite (training diverged): reset first".into());
    }
    let answer = |coarse: bool, grid: usize, output: Output| Answer {
        mode: st.mode,
        step: path.step,
        grid,
        coarse,
        seconds: start.elapsed().as_secs_f64(),
        output,
    };
    if st.mode == Mode::Line {
        let l = landscape::line(&obj, &path.theta0, theta, LINE_POINTS, 0, cancel)
            .map_err(|e| e.to_string())?;
        return Ok(l.map(|l| {
            answer(
                false,
                LINE_POINTS,
                Output::Line(LineView {
                    t: l.t,
                    loss: l.loss,
                    min: l.min,
                    max: l.max,
                }),
            )
        }));
    }
    let net = &path.objective.net;
    let mut notes = Vec::new();
    let mut races = Vec::new();
    let (plane, radius, proj, current) = match st.mode {
        Mode::Random | Mode::Hessian => {
            let plane = if st.mode == Mode::Random {
                Plane::random(net, theta, path.seed)
            } else {
                let p = net.n_params;
                if p < 2 {
                    return Err(format!(
                        "the Hessian directions need at least 2 parameters (the network has {p})"
                    ));
                }
                let problem = hessian_problem(
                    net,
                    theta,
                    &path.objective.train,
                    path.regularization.l2,
                    false,
                );
                let top = top_eigenpairs(problem, 2, LANCZOS_STEPS, 1e-6, path.seed, &mut |_| {})?;
                if top.len() < 2 {
                    return Err("the Lanczos iteration found fewer than 2 eigenvectors".into());
                }
                notes.push(("λ₁".to_string(), top[0].value));
                notes.push(("λ₂".to_string(), top[1].value));
                Plane::given(theta, &top[0].vector, &top[1].vector).map_err(|e| e.to_string())?
            };
            let proj = plane.project_all(&path.trajectory);
            (plane, st.radius, proj, [0.0, 0.0])
        }
        Mode::Pca => {
            let pca = pca_plane(&path.trajectory).map_err(|e| {
                format!("{e} — train for a while first: the PCA plane needs a trajectory")
            })?;
            notes.push(("PC1".to_string(), pca.explained[0]));
            notes.push(("PC2".to_string(), pca.explained[1]));
            let r = reach(pca.path.iter());
            let current = pca.path.last().copied().unwrap_or([0.0, 0.0]);
            (pca.plane, r, pca.path, current)
        }
        Mode::Race => {
            let runs = race_runs(st.race_lr);
            let theta0 = &path.theta0;
            // Pass 1 finds where each optimiser ends; the plane through θ₀ that best holds
            // those ends (PCA with θ₀ last, so θ₀ is the origin) is where pass 2 projects.
            let probe = Plane::random(net, theta0, path.seed);
            let Some(first) = race(&obj, theta0, &runs, st.race_steps, &probe, 0, cancel)
                .map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            let mut ends: Vec<Vec<f64>> = first
                .iter()
                .filter(|r| r.theta.iter().all(|v| v.is_finite()))
                .map(|r| r.theta.clone())
                .collect();
            ends.push(theta0.clone());
            let plane = match pca_plane(&ends) {
                Ok(p) => p.plane,
                Err(_) => probe,
            };
            let Some(second) = race(&obj, theta0, &runs, st.race_steps, &plane, 0, cancel)
                .map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            for r in &second {
                let moved = r
                    .theta
                    .iter()
                    .zip(theta0)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                let off = r.off_plane.iter().copied().fold(0.0f64, f64::max);
                races.push(RacePath {
                    name: r.name.clone(),
                    path: r.path.clone(),
                    final_loss: r.loss.last().copied().unwrap_or(f64::NAN),
                    diverged: r.diverged,
                    off_plane: if moved > 0.0 { off / moved } else { 0.0 },
                });
            }
            let r = reach(races.iter().flat_map(|r| r.path.iter()));
            (plane, r, Vec::new(), [0.0, 0.0])
        }
        Mode::Line | Mode::Tiny => unreachable!("handled above"),
    };
    let path_proj = (!proj.is_empty()).then_some(proj);
    let spec = SliceSpec::new(st.grid.clamp(3, MAX_GRID), radius);
    let total = spec.grid as f64;
    let mut rows_done = 0usize;
    let mut last_progress = Instant::now();
    let mut pending_coarse: Option<SliceView> = None;
    let result = slice_progressive(&obj, &plane, &spec, st.coarse, cancel, &mut |p| match p {
        Progress::Coarse(s) => pending_coarse = Some(slice_view(s, &path_proj, current)),
        Progress::Row { .. } => {
            if let Some(v) = pending_coarse.take() {
                emit_coarse(emit, id, &st, path.step, start, v, &notes, &races);
            }
            rows_done += 1;
            if last_progress.elapsed() > Duration::from_millis(60) {
                last_progress = Instant::now();
                emit(LandscapeEvent::Progress {
                    id,
                    done: rows_done as f64 / total,
                });
            }
        }
    })
    .map_err(|e| e.to_string())?;
    let Some(s) = result else { return Ok(None) };
    let mut v = slice_view(&s, &path_proj, current);
    v.notes = notes;
    v.races = races;
    Ok(Some(answer(false, s.grid, Output::Slice(Box::new(v)))))
}

#[allow(clippy::too_many_arguments)]
fn emit_coarse(
    emit: &mut dyn FnMut(LandscapeEvent),
    id: u64,
    st: &Settings,
    step: u64,
    start: Instant,
    mut v: SliceView,
    notes: &[(String, f64)],
    races: &[RacePath],
) {
    v.notes = notes.to_vec();
    v.races = races.to_vec();
    emit(LandscapeEvent::Answer {
        id,
        answer: Box::new(Answer {
            mode: st.mode,
            step,
            grid: v.x.len(),
            coarse: true,
            seconds: start.elapsed().as_secs_f64(),
            output: Output::Slice(Box::new(v)),
        }),
    });
}

/// The 1-1-1 network's exact surface on the seed's one-point data, coarse then refined.
fn tiny(
    st: &Settings,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(LandscapeEvent),
    id: u64,
    start: Instant,
) -> Result<Option<Answer>, String> {
    let (x, y) = st.tiny_loss.seed_data();
    let r = st.tiny_radius;
    let make = |g: usize| -> Result<SliceView, String> {
        let s = one_one_one::surface(st.tiny_loss, &x, &y, (-r, r), (-r, r), g)
            .map_err(|e| e.to_string())?;
        let boundary = crate::analysis::landscape::contour::contour(&s.det, &s.w1, &s.w2, 0.0);
        let mut v = view(s.w1, s.w2, s.value, s.min, s.max, None, None);
        v.indefinite_boundary = boundary;
        v.indefinite = Some(s.indefinite);
        v.indefinite_fraction = s.indefinite_fraction;
        Ok(v)
    };
    let grid = st.grid.clamp(3, MAX_GRID);
    let answer = |coarse: bool, v: SliceView| Answer {
        mode: Mode::Tiny,
        step: 0,
        grid: v.x.len(),
        coarse,
        seconds: start.elapsed().as_secs_f64(),
        output: Output::Slice(Box::new(v)),
    };
    if st.coarse >= 2 && st.coarse < grid {
        let v = make(st.coarse)?;
        emit(LandscapeEvent::Answer {
            id,
            answer: Box::new(answer(true, v)),
        });
    }
    if cancel.load(Ordering::Relaxed) {
        return Ok(None);
    }
    Ok(Some(answer(false, make(grid)?)))
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
    use crate::data::Dataset;
    use crate::net::Network;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec, WeightConstraint};

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
        let req = Request {
            id: 1,
            settings,
            path: Some(p.clone()),
        };
        let mut coarse = Vec::new();
        let a = compute(&req, &AtomicBool::new(false), &mut |e| {
            if let LandscapeEvent::Answer { answer, .. } = e {
                coarse.push(answer.coarse);
            }
        })
        .unwrap()
        .unwrap();
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
