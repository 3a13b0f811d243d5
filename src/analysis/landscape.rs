//! The loss landscape: the training objective J(θ) on a plane or a line through parameter
//! space (Li et al. 2018, `tomgoldstein/loss-landscape`).
//!
//! - [`Plane`]: an origin θ and two directions d1, d2 — filter-normalised random
//!   ([`Plane::random`]), given (e.g. the top-2 Hessian eigenvectors, [`Plane::given`]) or the
//!   PCA plane of a trajectory ([`pca_plane`]).
//! - [`slice()`]: J(θ + α·d1 + β·d2) over a G×G grid of (α, β) ∈ [−r, r]², rows split over
//!   threads, a callback per finished row, cancellable; [`slice_progressive`] gives a coarse
//!   preview first, then the full grid.
//! - [`line()`]: J((1−t)θ₀ + tθ₁) for t ∈ [−0.5, 1.5].
//! - [`race`]: several optimisers from one θ, their paths projected onto a plane.
//! - [`one_one_one`]: the 1-1-1 network's exact surface and 2×2 Hessian (THEORY #17).
//! - [`run`]: the one entry point of the app's Landscape tile and of `nnlab landscape`.
//!
//! J is always [`crate::net::objective()`] over the whole training set: mean loss + regulariser,
//! BatchNorm on the statistics of that set, no dropout.
//!
//! Grids are row-major with rows along β and columns along α: `loss[i·G + j]` is
//! J(θ + α\[j\]·d1 + β\[i\]·d2). Every grid value is computed from (α, β) alone, so it does not
//! depend on the number of threads or on which thread computed it.

mod directions;
mod entry;
mod eval;
mod fast;
pub mod one_one_one;
mod parallel;
mod race;

use std::sync::atomic::AtomicBool;

use crate::error::{Error, Result};
use crate::net::Network;
use crate::net::objective::Rows;

pub use directions::{PcaPlane, filter_normalise, pca_bytes, pca_plane};
pub use entry::{
    LINE_POINTS, MAX_RACE_STEPS, Mode, Output, Progress, RacePath, Report, Request, SliceReport,
    TINY_RADIUS, race_runs, run,
};
pub use race::{RaceRun, race};

use eval::PlaneEval;
use parallel::par_map;

/// The objective being explored: `net::objective(net, θ, rows, l1, l2)`.
#[derive(Clone, Copy, Debug)]
pub struct Objective<'a> {
    /// The network.
    pub net: &'a Network,
    /// The rows J averages over.
    pub rows: Rows<'a>,
    /// The L1 coefficient of J.
    pub l1: f64,
    /// The L2 coefficient of J.
    pub l2: f64,
}

impl Objective<'_> {
    /// J(θ) with a fresh workspace.
    pub fn value(&self, theta: &[f64]) -> f64 {
        let mut ws = crate::net::Workspace::default();
        crate::net::objective(self.net, theta, self.rows, self.l1, self.l2, &mut ws, None)
    }

    fn check_theta(&self, theta: &[f64], what: &str) -> Result<()> {
        if theta.len() != self.net.n_params {
            return Err(Error::field(
                what,
                format!(
                    "has {} values but the network has {} parameters",
                    theta.len(),
                    self.net.n_params
                ),
            ));
        }
        if let Some(i) = theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::field(
                &format!("{what}[{i}]"),
                "is not a finite number",
            ));
        }
        Ok(())
    }
}

/// A plane through parameter space: θ(α, β) = origin + α·d1 + β·d2.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    /// The plane's origin (θ, usually).
    pub origin: Vec<f64>,
    /// The direction of α.
    pub d1: Vec<f64>,
    /// The direction of β.
    pub d2: Vec<f64>,
}

impl Plane {
    /// Two filter-normalised random directions around θ (loss-landscape's default
    /// `--xnorm filter --xignore biasbn`): each weight of a direction is drawn N(0, 1) from
    /// `Rng::stream(seed, "landscape")` (d1 first, then d2), then each row ("filter") of each
    /// layer's W is rescaled to the norm of the same row of θ's W; biases, BatchNorm γ/β and
    /// PReLU α are zero in the directions.
    pub fn random(net: &Network, theta: &[f64], seed: u64) -> Plane {
        let [d1, d2] = directions::random_filter_normalised(net, theta, seed);
        Plane {
            origin: theta.to_vec(),
            d1,
            d2,
        }
    }

    /// The plane through θ along two given directions (used as they are, not normalised).
    pub fn given(theta: &[f64], d1: &[f64], d2: &[f64]) -> Result<Plane> {
        for (name, d) in [("d1", d1), ("d2", d2)] {
            if d.len() != theta.len() {
                return Err(Error::field(
                    name,
                    format!("has {} values but θ has {}", d.len(), theta.len()),
                ));
            }
            if d.iter().any(|v| !v.is_finite()) {
                return Err(Error::field(name, "has a value that is not finite"));
            }
        }
        Ok(Plane {
            origin: theta.to_vec(),
            d1: d1.to_vec(),
            d2: d2.to_vec(),
        })
    }

    /// θ(α, β) = origin + α·d1 + β·d2 written into `out`.
    pub fn point_into(&self, alpha: f64, beta: f64, out: &mut [f64]) {
        for (((o, &t), &a), &b) in out.iter_mut().zip(&self.origin).zip(&self.d1).zip(&self.d2) {
            *o = t + alpha * a + beta * b;
        }
    }

    /// θ(α, β) = origin + α·d1 + β·d2.
    pub fn point(&self, alpha: f64, beta: f64) -> Vec<f64> {
        let mut out = vec![0.0; self.origin.len()];
        self.point_into(alpha, beta, &mut out);
        out
    }

    /// Least-squares coordinates (α, β) of θ in the plane: argmin ‖θ − origin − α·d1 − β·d2‖.
    /// (For orthonormal directions these are the dot products with θ − origin.)
    pub fn project(&self, theta: &[f64]) -> [f64; 2] {
        let (mut g11, mut g12, mut g22, mut r1, mut r2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..self.origin.len() {
            let (a, b, r) = (self.d1[i], self.d2[i], theta[i] - self.origin[i]);
            g11 += a * a;
            g12 += a * b;
            g22 += b * b;
            r1 += a * r;
            r2 += b * r;
        }
        let det = g11 * g22 - g12 * g12;
        if det.abs() > 1e-300 && det > 1e-14 * g11 * g22 {
            [(g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det]
        } else if g11 > 0.0 {
            // Parallel (or zero) d2: project on d1 alone.
            [r1 / g11, 0.0]
        } else if g22 > 0.0 {
            [0.0, r2 / g22]
        } else {
            [0.0, 0.0]
        }
    }

    /// [`project`](Self::project) for each θ of a trajectory.
    pub fn project_all(&self, thetas: &[Vec<f64>]) -> Vec<[f64; 2]> {
        thetas.iter().map(|t| self.project(t)).collect()
    }
}

/// The grid of a slice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SliceSpec {
    /// G: points per axis (1 to [`MAX_GRID`]).
    pub grid: usize,
    /// r: α and β run over [−r, r].
    pub radius: f64,
    /// Worker threads; 0 = one per available core. The values do not depend on it.
    pub threads: usize,
}

/// Largest G accepted.
pub const MAX_GRID: usize = 1001;

impl SliceSpec {
    /// G points per axis over [−r, r], on every available core.
    pub fn new(grid: usize, radius: f64) -> Self {
        SliceSpec {
            grid,
            radius,
            threads: 0,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.grid == 0 || self.grid > MAX_GRID {
            return Err(Error::field(
                "grid",
                format!("must be between 1 and {MAX_GRID} (got {})", self.grid),
            ));
        }
        if !(self.radius.is_finite() && self.radius > 0.0) {
            return Err(Error::field(
                "radius",
                format!("must be a finite number > 0 (got {})", self.radius),
            ));
        }
        Ok(())
    }
}

/// G evenly spaced values over [−r, r]; the middle one is exactly 0 when G is odd, the ends
/// exactly ±r.
pub fn axis(grid: usize, radius: f64) -> Vec<f64> {
    if grid <= 1 {
        return vec![0.0; grid];
    }
    let m = (grid - 1) as f64;
    (0..grid)
        .map(|j| radius * ((2 * j) as f64 - m) / m)
        .collect()
}

pub(crate) fn thread_count(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

/// A 2-D slice of the landscape.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    /// G, points per axis.
    pub grid: usize,
    /// α, β ∈ [−r, r].
    pub radius: f64,
    /// Column coordinates (along d1).
    pub alpha: Vec<f64>,
    /// Row coordinates (along d2).
    pub beta: Vec<f64>,
    /// G×G, row-major: `loss[i·G + j]` = J(θ + α\[j\]·d1 + β\[i\]·d2). Non-finite where J is.
    pub loss: Vec<f64>,
    /// Smallest finite value (NaN if none is finite).
    pub min: f64,
    /// Largest finite value (NaN if none is finite).
    pub max: f64,
    /// The plane the grid lies on.
    pub plane: Plane,
    /// A trajectory projected onto the plane (α, β), when one was given.
    pub path: Option<Vec<[f64; 2]>>,
}

impl Slice {
    /// Row i (β = beta\[i\]).
    pub fn row(&self, i: usize) -> &[f64] {
        &self.loss[i * self.grid..(i + 1) * self.grid]
    }

    /// J at grid point (row i, column j).
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.loss[i * self.grid + j]
    }
}

fn finite_min_max(v: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in v.iter().filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if lo > hi {
        (f64::NAN, f64::NAN)
    } else {
        (lo, hi)
    }
}

fn check_plane(obj: &Objective, plane: &Plane) -> Result<()> {
    obj.check_theta(&plane.origin, "θ")?;
    for (name, d) in [("d1", &plane.d1), ("d2", &plane.d2)] {
        if d.len() != plane.origin.len() {
            return Err(Error::field(
                name,
                format!("has {} values but θ has {}", d.len(), plane.origin.len()),
            ));
        }
    }
    Ok(())
}

/// Bytes one objective evaluation holds on a thread: θ, the pass's workspace (in row blocks
/// without BatchNorm, see [`crate::net::objective()`]).
fn evaluation_values(obj: &Objective) -> usize {
    let net = obj.net;
    let pass = crate::net::objective::objective_pass_rows(net, obj.rows.len());
    net.n_params
        .saturating_add(pass.saturating_mul(net.workspace_values_per_row(false)))
}

/// Bytes [`slice()`] takes over a `grid`×`grid` grid on `threads` threads (an upper bound): the
/// first layer's products over the rows (shared), and per thread a point θ, W₀ᵀ, the first
/// layer's pre-activations and outputs, the rest of the network's workspace over every row
/// (the plane's evaluation does not split the rows) and an objective evaluation; the grid.
pub fn slice_bytes(obj: &Objective, grid: usize, threads: usize) -> u64 {
    let net = obj.net;
    let m = obj.rows.len();
    let first = net.layers.first().map_or(0, |l| l.units);
    let mul = |a: usize, b: usize| a.saturating_mul(b);
    let shared = mul(m, net.features.len()).saturating_add(mul(mul(m, first), 3));
    let per_thread = [
        net.n_params,
        net.layers.first().map_or(0, |l| l.n_weights()),
        mul(mul(m, first), 3),
        mul(m, net.workspace_values_per_row(false)),
        mul(m, net.widest()).saturating_mul(3),
        evaluation_values(obj),
    ]
    .into_iter()
    .fold(0usize, usize::saturating_add);
    crate::memory::f64s(
        shared
            .saturating_add(mul(per_thread, threads.max(1)))
            .saturating_add(mul(grid, grid).saturating_mul(2)),
    )
}

/// Operations of a `grid`×`grid` slice, what bounds how long it may run: each point is one
/// pass over the rows, a multiply-add per row and parameter plus an activation (counted as
/// ten) per row and unit. Measured here: about 2·10⁹ a second.
pub fn slice_work(obj: &Objective, grid: usize) -> f64 {
    let units: usize = obj.net.layers.iter().map(|l| l.units).sum();
    let per_row = obj.net.n_params as f64 + 10.0 * units as f64;
    (grid as f64).powi(2) * obj.rows.len().max(1) as f64 * per_row
}

fn check_slice_memory(obj: &Objective, grid: usize, threads: usize) -> Result<()> {
    crate::memory::check(
        &format!(
            "a {grid}×{grid} landscape of {} parameters over {} rows",
            obj.net.n_params,
            obj.rows.len()
        ),
        slice_bytes(obj, grid, threads),
    )
    .map_err(Error::new)
}

/// J over the G×G grid of the plane. `on_row(i, values)` is called on the calling thread as
/// each row finishes (in completion order, which may differ from i's order). Returns
/// `Ok(None)` if `cancel` was set before the grid was complete.
pub fn slice(
    obj: &Objective,
    plane: &Plane,
    spec: &SliceSpec,
    cancel: &AtomicBool,
    on_row: &mut dyn FnMut(usize, &[f64]),
) -> Result<Option<Slice>> {
    spec.validate()?;
    check_plane(obj, plane)?;
    check_slice_memory(obj, spec.grid, thread_count(spec.threads))?;
    let g = spec.grid;
    let alpha = axis(g, spec.radius);
    let beta = axis(g, spec.radius);
    let eval = PlaneEval::new(obj, plane);
    let rows = par_map(
        g,
        thread_count(spec.threads),
        cancel,
        || eval.scratch(),
        |i, scratch| {
            let mut row = Vec::with_capacity(g);
            for &a in &alpha {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return None;
                }
                row.push(eval.value(a, beta[i], scratch));
            }
            Some(row)
        },
        |i, row| on_row(i, row),
    );
    let Some(rows) = rows else {
        return Ok(None);
    };
    let loss: Vec<f64> = rows.into_iter().flatten().collect();
    let (min, max) = finite_min_max(&loss);
    Ok(Some(Slice {
        grid: g,
        radius: spec.radius,
        alpha,
        beta,
        loss,
        min,
        max,
        plane: plane.clone(),
        path: None,
    }))
}

/// What [`slice_progressive`] reports while it works.
#[derive(Debug)]
pub enum SliceProgress<'a> {
    /// The coarse preview, complete.
    Coarse(&'a Slice),
    /// Row `index` of the full grid is done (`values` along α).
    Row {
        /// The row (β index).
        index: usize,
        /// J along α on that row.
        values: &'a [f64],
    },
}

/// A coarse `coarse`×`coarse` preview first (reported whole), then the full grid row by row.
/// The preview is skipped when `coarse` ≥ the full grid. `Ok(None)` when cancelled.
pub fn slice_progressive(
    obj: &Objective,
    plane: &Plane,
    spec: &SliceSpec,
    coarse: usize,
    cancel: &AtomicBool,
    on_progress: &mut dyn FnMut(SliceProgress<'_>),
) -> Result<Option<Slice>> {
    spec.validate()?;
    if coarse > 0 && coarse < spec.grid {
        let c = SliceSpec {
            grid: coarse,
            ..*spec
        };
        match slice(obj, plane, &c, cancel, &mut |_, _| {})? {
            Some(s) => on_progress(SliceProgress::Coarse(&s)),
            None => return Ok(None),
        }
    }
    slice(obj, plane, spec, cancel, &mut |index, values| {
        on_progress(SliceProgress::Row { index, values })
    })
}

/// The PCA plane of a trajectory and the slice over it, with the trajectory's path.
pub fn pca_slice(
    obj: &Objective,
    trajectory: &[Vec<f64>],
    spec: &SliceSpec,
    cancel: &AtomicBool,
    on_row: &mut dyn FnMut(usize, &[f64]),
) -> Result<Option<(Slice, PcaPlane)>> {
    let pca = pca_plane(trajectory)?;
    let Some(mut s) = slice(obj, &pca.plane, spec, cancel, on_row)? else {
        return Ok(None);
    };
    s.path = Some(pca.path.clone());
    Ok(Some((s, pca)))
}

/// J along the line through θ₀ and θ₁.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Line {
    /// t ∈ [−0.5, 1.5]; 0 and 1 are hit exactly when `points` ≡ 1 (mod 4).
    pub t: Vec<f64>,
    /// J((1−t)·θ₀ + t·θ₁).
    pub loss: Vec<f64>,
    /// Smallest finite value of `loss`.
    pub min: f64,
    /// Largest finite value of `loss`.
    pub max: f64,
}

/// J((1−t)·θ₀ + t·θ₁) at `points` values of t evenly spaced over [−0.5, 1.5]. Each point is
/// evaluated with the plain objective, so J at t = 0 and t = 1 is exactly J(θ₀) and J(θ₁).
pub fn line(
    obj: &Objective,
    theta0: &[f64],
    theta1: &[f64],
    points: usize,
    threads: usize,
    cancel: &AtomicBool,
) -> Result<Option<Line>> {
    obj.check_theta(theta0, "θ₀")?;
    obj.check_theta(theta1, "θ₁")?;
    if !(2..=100_000).contains(&points) {
        return Err(Error::field(
            "points",
            format!("must be between 2 and 100000 (got {points})"),
        ));
    }
    let threads = thread_count(threads);
    crate::memory::check(
        &format!(
            "the line through θ₀ and θ₁ of {} parameters over {} rows",
            obj.net.n_params,
            obj.rows.len()
        ),
        crate::memory::f64s(evaluation_values(obj).saturating_mul(threads)),
    )
    .map_err(Error::new)?;
    let m = (points - 1) as f64;
    let t: Vec<f64> = (0..points)
        .map(|k| (4 * k) as f64 / (2.0 * m) - 0.5)
        .collect();
    let p = theta0.len();
    let values = par_map(
        points,
        threads,
        cancel,
        || (vec![0.0; p], crate::net::Workspace::default()),
        |k, (theta, ws)| {
            let tk = t[k];
            for ((o, &a), &b) in theta.iter_mut().zip(theta0).zip(theta1) {
                *o = (1.0 - tk) * a + tk * b;
            }
            Some(crate::net::objective(
                obj.net, theta, obj.rows, obj.l1, obj.l2, ws, None,
            ))
        },
        |_, _| {},
    );
    Ok(values.map(|loss| {
        let (min, max) = finite_min_max(&loss);
        Line { t, loss, min, max }
    }))
}
