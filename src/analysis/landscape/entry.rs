//! The one entry point of the loss landscape, shared by the app's Landscape tile and
//! `nnlab landscape`: a [`Request`] (the view, the objective at θ, θ₀ and the trajectory, the
//! grid) goes in, a [`Report`] (the CLI prints it as JSON) comes out. The same request gives
//! the same report, bit for bit, whichever side built it.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Serialize, Serializer};

use super::one_one_one::{self, TinyLoss};
use super::{
    Line, MAX_GRID, Objective, Plane, Slice, SliceProgress, SliceSpec, line, pca_plane, race,
    slice_progressive,
};
use crate::analysis::hessian::{LANCZOS_STEPS, hessian_problem, top_eigenpairs};
use crate::analysis::{CANCELLED, Subject, check_cancel};
use crate::optim::{OptimizerKind, OptimizerSpec};

/// What is computed (also `nnlab landscape --dirs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A slice along two filter-normalised random directions (seeded by the session seed).
    Random,
    /// A slice along the eigenvectors of the two largest Hessian eigenvalues (Lanczos).
    Hessian,
    /// A slice of the PCA plane of the training trajectory, around its end, with the path.
    Pca,
    /// J along the line from θ₀ (where training started) to θ.
    Line,
    /// The 1-1-1 network's exact surface over (w₁, w₂) (no session needed).
    Tiny,
    /// Several optimisers from θ₀ on the plane that best holds where they end.
    Race,
}

impl Mode {
    /// Every mode, in the order the tile lists them.
    pub const ALL: [Mode; 6] = [
        Mode::Random,
        Mode::Hessian,
        Mode::Pca,
        Mode::Line,
        Mode::Tiny,
        Mode::Race,
    ];

    /// Modes that need the network's θ (the 1-1-1 surface does not).
    pub fn needs_theta(self) -> bool {
        self != Mode::Tiny
    }
}

/// Points of the θ₀ → θ line (≡ 1 mod 4, so t = 0 and t = 1 are points of it).
pub const LINE_POINTS: usize = 201;
/// Half-width of the 1-1-1 surface unless the request gives one.
pub const TINY_RADIUS: f64 = 6.0;
/// Most steps of each optimiser in a race.
pub const MAX_RACE_STEPS: usize = 100_000;

/// One landscape computation, everything it depends on spelled out.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// What to compute.
    pub mode: Mode,
    /// The objective at θ (not needed for the 1-1-1 surface).
    pub subject: Option<Subject<'a>>,
    /// The training step θ belongs to (reported back).
    pub step: u64,
    /// Where training started: the line's other end and the race's start.
    pub theta0: &'a [f64],
    /// θ snapshots in step order ending at θ: the PCA plane's data, and the path drawn on a
    /// random or Hessian slice (when it has at least two points).
    pub trajectory: &'a [Vec<f64>],
    /// G points per axis, and G of a coarse preview reported first (0: none).
    pub grid: usize,
    /// Points per axis of the coarse preview (0: none).
    pub coarse: usize,
    /// α, β ∈ [−r, r]; None: 1 for random and Hessian directions (the scale of θ's filters, or
    /// unit eigenvectors), 1.25 × the reach of the path for PCA and race, [`TINY_RADIUS`].
    pub radius: Option<f64>,
    /// The loss of the 1-1-1 surface.
    pub tiny_loss: TinyLoss,
    /// Race: the learning rate of every optimiser and the number of full-batch steps.
    pub race_lr: f64,
    /// Race: full-batch steps of each optimiser.
    pub race_steps: usize,
}

/// How far [`run`] is.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Hessian-vector products of the Hessian directions so far.
    Products(usize),
    /// The coarse preview, complete (no directions and no centre value: it is for drawing).
    Preview(&'a Report),
    /// Rows of the full grid done.
    Rows {
        /// Rows computed.
        done: usize,
        /// Rows of the grid.
        of: usize,
    },
}

/// One optimiser's path in a race.
#[derive(Clone, Debug, Serialize)]
pub struct RacePath {
    /// The optimiser.
    pub name: String,
    /// Its θ at each step, projected onto the plane.
    pub path: Vec<[f64; 2]>,
    /// J where it ended.
    pub final_loss: f64,
    /// J or θ stopped being finite on the way.
    pub diverged: bool,
    /// Largest distance of the run from the plane, relative to its distance from θ₀.
    pub off_plane: f64,
}

/// A grid of J over a plane (or the 1-1-1 surface) and what goes on top of it.
#[derive(Clone, Debug, Serialize)]
pub struct SliceReport {
    /// G, points per axis.
    pub grid: usize,
    /// α, β ∈ [−r, r].
    pub radius: f64,
    /// The columns' coordinates (α or w₁).
    pub alpha: Vec<f64>,
    /// The rows' coordinates (β or w₂).
    pub beta: Vec<f64>,
    /// Row-major, `loss[i·G + j]` at (alpha\[j\], beta\[i\]); in the JSON one array per row.
    #[serde(serialize_with = "square_rows")]
    pub loss: Vec<f64>,
    /// Smallest finite value (NaN, in the JSON null, if none is).
    pub min: f64,
    /// Largest finite value (NaN if none is).
    pub max: f64,
    /// J at the plane's origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub center_loss: Option<f64>,
    /// The plane's directions d1, d2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directions: Option<[Vec<f64>; 2]>,
    /// The two top Hessian eigenvalues (Hessian directions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eigenvalues: Option<[f64; 2]>,
    /// The variance of the trajectory along each direction (PCA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained_variance: Option<[f64; 2]>,
    /// The trajectory projected onto the plane (its last point is θ's projection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<[f64; 2]>>,
    /// θ on the plane.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<[f64; 2]>,
    /// Race: each optimiser's path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub races: Vec<RacePath>,
    /// The 1-1-1 surface: det ∇²J per point (row-major, as `loss`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "square_rows_opt"
    )]
    pub det: Option<Vec<f64>>,
    /// The 1-1-1 surface: where det ∇²J < 0 (row-major, as `loss`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indefinite: Option<Vec<bool>>,
    /// The 1-1-1 surface: the fraction of indefinite points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indefinite_fraction: Option<f64>,
}

/// The mode-specific part of a [`Report`].
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Output {
    /// A grid over a plane or the 1-1-1 surface.
    Slice(Box<SliceReport>),
    /// J along the θ₀ → θ line.
    Line(Line),
}

/// The answer to a request. As JSON: these fields, then the output's own.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// (`dirs` in the JSON, as the CLI's flag.)
    #[serde(rename = "dirs")]
    pub mode: Mode,
    /// Parameters of the network (2 for the 1-1-1 surface: w₁, w₂).
    pub params: usize,
    /// The training step θ belongs to.
    pub step: u64,
    /// Wall time of the run (not in the JSON: it differs from run to run).
    #[serde(skip)]
    pub seconds: f64,
    /// What was computed.
    #[serde(flatten)]
    pub output: Output,
}

/// A square row-major grid as one array per row (non-finite values as null).
fn square_rows<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let n = values.len().isqrt();
    if n * n != values.len() || n == 0 {
        return s.collect_seq(values);
    }
    s.collect_seq(values.chunks(n))
}

fn square_rows_opt<S: Serializer>(values: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
    square_rows(values.as_deref().unwrap_or_default(), s)
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

/// The largest |coordinate| of some paths, ×1.25 (1 when they do not move).
fn reach<'a>(paths: impl Iterator<Item = &'a [f64; 2]>) -> f64 {
    let r = paths
        .flat_map(|c| [c[0].abs(), c[1].abs()])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if r > 0.0 { 1.25 * r } else { 1.0 }
}

fn validate(req: &Request) -> Result<(), String> {
    if !(2..=MAX_GRID).contains(&req.grid) {
        return Err(format!(
            "the grid must have 2 … {MAX_GRID} points a side (got {})",
            req.grid
        ));
    }
    if let Some(r) = req.radius
        && !(r.is_finite() && r > 0.0)
    {
        return Err(format!("the radius must be finite and > 0 (got {r})"));
    }
    if req.mode == Mode::Race {
        if !(req.race_lr.is_finite() && req.race_lr > 0.0) {
            return Err(format!(
                "the race's learning rate must be finite and > 0 (got {})",
                req.race_lr
            ));
        }
        if !(1..=MAX_RACE_STEPS).contains(&req.race_steps) {
            return Err(format!(
                "the race's steps must be in 1 … {MAX_RACE_STEPS} (got {})",
                req.race_steps
            ));
        }
    }
    Ok(())
}

/// What a slice shows besides its grid (the same for the preview and the full grid).
#[derive(Clone, Default)]
struct Overlay {
    eigenvalues: Option<[f64; 2]>,
    explained_variance: Option<[f64; 2]>,
    path: Option<Vec<[f64; 2]>>,
    current: Option<[f64; 2]>,
    races: Vec<RacePath>,
}

impl Overlay {
    fn report(self, s: Slice, center_loss: Option<f64>, with_directions: bool) -> SliceReport {
        SliceReport {
            grid: s.grid,
            radius: s.radius,
            alpha: s.alpha,
            beta: s.beta,
            loss: s.loss,
            min: s.min,
            max: s.max,
            center_loss,
            directions: with_directions.then_some([s.plane.d1, s.plane.d2]),
            eigenvalues: self.eigenvalues,
            explained_variance: self.explained_variance,
            path: self.path,
            current: self.current,
            races: self.races,
            det: None,
            indefinite: None,
            indefinite_fraction: None,
        }
    }
}

/// Run one landscape computation on the calling thread. The grid's rows are spread over the
/// cores and poll `cancel` per point; a cancelled run ends in `Err(CANCELLED)`.
pub fn run(
    req: &Request,
    progress: &mut dyn FnMut(Progress<'_>),
    cancel: &AtomicBool,
) -> Result<Report, String> {
    let start = Instant::now();
    validate(req)?;
    if req.mode == Mode::Tiny {
        return tiny(req, progress, cancel, start);
    }
    let s = req
        .subject
        .as_ref()
        .ok_or("there is no network to analyse (rebuild it)")?;
    s.check()?;
    check_cancel(cancel)?;
    let net = s.net;
    let theta = s.theta;
    let obj = Objective {
        net,
        rows: s.rows(),
        l1: s.regularization.l1,
        l2: s.regularization.l2,
    };
    let report = |output: Output| Report {
        mode: req.mode,
        params: net.n_params,
        step: req.step,
        seconds: start.elapsed().as_secs_f64(),
        output,
    };
    let cancelled = || CANCELLED.to_string();
    if req.mode == Mode::Line {
        let l = line(&obj, req.theta0, theta, LINE_POINTS, 0, cancel)
            .map_err(|e| e.to_string())?
            .ok_or_else(cancelled)?;
        return Ok(report(Output::Line(l)));
    }
    // A path drawn on a random or Hessian slice: the trajectory, when there is one.
    let projected =
        |plane: &Plane| (req.trajectory.len() >= 2).then(|| plane.project_all(req.trajectory));
    let mut overlay = Overlay::default();
    let (plane, default_radius) = match req.mode {
        Mode::Random => {
            let plane = Plane::random(net, theta, s.seed);
            overlay.path = projected(&plane);
            overlay.current = Some([0.0, 0.0]);
            (plane, 1.0)
        }
        Mode::Hessian => {
            let p = net.n_params;
            if p < 2 {
                return Err(format!(
                    "the Hessian directions need at least 2 parameters (the network has {p})"
                ));
            }
            let problem = hessian_problem(net, theta, s.train, s.regularization.l2, false);
            let top = top_eigenpairs(problem, 2, LANCZOS_STEPS, 1e-6, s.seed, &mut |n| {
                progress(Progress::Products(n))
            })?;
            if top.len() < 2 {
                return Err("the Lanczos iteration found fewer than 2 eigenvectors".into());
            }
            overlay.eigenvalues = Some([top[0].value, top[1].value]);
            let plane =
                Plane::given(theta, &top[0].vector, &top[1].vector).map_err(|e| e.to_string())?;
            overlay.path = projected(&plane);
            overlay.current = Some([0.0, 0.0]);
            (plane, 1.0)
        }
        Mode::Pca => {
            let pca = pca_plane(req.trajectory).map_err(|e| {
                format!("{e} — train for a while first: the PCA plane needs a trajectory")
            })?;
            overlay.explained_variance = Some(pca.explained);
            overlay.current = Some(pca.path.last().copied().unwrap_or([0.0, 0.0]));
            let r = reach(pca.path.iter());
            overlay.path = Some(pca.path);
            (pca.plane, r)
        }
        Mode::Race => {
            let runs = race_runs(req.race_lr);
            let theta0 = req.theta0;
            // Pass 1 finds where each optimiser ends; the plane through θ₀ that best holds
            // those ends (PCA with θ₀ last, so θ₀ is the origin) is where pass 2 projects.
            let probe = Plane::random(net, theta0, s.seed);
            let first = race(&obj, theta0, &runs, req.race_steps, &probe, 0, cancel)
                .map_err(|e| e.to_string())?
                .ok_or_else(cancelled)?;
            let mut ends: Vec<Vec<f64>> = first
                .into_iter()
                .filter(|r| r.theta.iter().all(|v| v.is_finite()))
                .map(|r| r.theta)
                .collect();
            ends.push(theta0.to_vec());
            let plane = match pca_plane(&ends) {
                Ok(p) => p.plane,
                Err(_) => probe,
            };
            let second = race(&obj, theta0, &runs, req.race_steps, &plane, 0, cancel)
                .map_err(|e| e.to_string())?
                .ok_or_else(cancelled)?;
            for r in second {
                let moved = r
                    .theta
                    .iter()
                    .zip(theta0)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                let off = r.off_plane.iter().copied().fold(0.0f64, f64::max);
                overlay.races.push(RacePath {
                    name: r.name,
                    final_loss: r.loss.last().copied().unwrap_or(f64::NAN),
                    path: r.path,
                    diverged: r.diverged,
                    off_plane: if moved > 0.0 { off / moved } else { 0.0 },
                });
            }
            overlay.current = Some([0.0, 0.0]);
            let r = reach(overlay.races.iter().flat_map(|r| r.path.iter()));
            (plane, r)
        }
        Mode::Line | Mode::Tiny => unreachable!("handled above"),
    };
    let spec = SliceSpec::new(req.grid, req.radius.unwrap_or(default_radius));
    let mut done = 0;
    let slice = slice_progressive(&obj, &plane, &spec, req.coarse, cancel, &mut |p| match p {
        SliceProgress::Coarse(c) => {
            // The grid only: the preview's plane is the full grid's.
            let grid = Slice {
                alpha: c.alpha.clone(),
                beta: c.beta.clone(),
                loss: c.loss.clone(),
                plane: Plane {
                    origin: Vec::new(),
                    d1: Vec::new(),
                    d2: Vec::new(),
                },
                path: None,
                ..*c
            };
            let preview = overlay.clone().report(grid, None, false);
            progress(Progress::Preview(&report(Output::Slice(Box::new(preview)))));
        }
        SliceProgress::Row { .. } => {
            done += 1;
            progress(Progress::Rows {
                done,
                of: spec.grid,
            });
        }
    })
    .map_err(|e| e.to_string())?
    .ok_or_else(cancelled)?;
    let centre = obj.value(&plane.origin);
    let full = overlay.report(slice, Some(centre), true);
    Ok(report(Output::Slice(Box::new(full))))
}

/// The 1-1-1 network's exact surface on the seed's one-point data, a coarse preview first.
fn tiny(
    req: &Request,
    progress: &mut dyn FnMut(Progress<'_>),
    cancel: &AtomicBool,
    start: Instant,
) -> Result<Report, String> {
    let (x, y) = req.tiny_loss.seed_data();
    let r = req.radius.unwrap_or(TINY_RADIUS);
    let make = |g: usize| -> Result<Report, String> {
        let s = one_one_one::surface(req.tiny_loss, &x, &y, (-r, r), (-r, r), g)
            .map_err(|e| e.to_string())?;
        Ok(Report {
            mode: Mode::Tiny,
            params: 2,
            // The surface does not depend on the network or its step.
            step: 0,
            seconds: start.elapsed().as_secs_f64(),
            output: Output::Slice(Box::new(SliceReport {
                grid: g,
                radius: r,
                alpha: s.w1,
                beta: s.w2,
                loss: s.value,
                min: s.min,
                max: s.max,
                center_loss: None,
                directions: None,
                eigenvalues: None,
                explained_variance: None,
                path: None,
                current: None,
                races: Vec::new(),
                det: Some(s.det),
                indefinite: Some(s.indefinite),
                indefinite_fraction: Some(s.indefinite_fraction),
            })),
        })
    };
    if req.coarse >= 2 && req.coarse < req.grid {
        progress(Progress::Preview(&make(req.coarse)?));
    }
    check_cancel(cancel)?;
    make(req.grid)
}
