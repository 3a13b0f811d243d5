//! `nnlab landscape`: a 2-D slice of the training objective around the session's θ (or the
//! line from θ₀, the 1-1-1 surface, the optimiser race), by the computation the app's
//! Landscape tile runs ([`landscape::run`]).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::analysis::Subject;
use crate::analysis::landscape::one_one_one::TinyLoss;
use crate::analysis::landscape::{
    self, MAX_GRID, MAX_RACE_STEPS, Mode, Objective, Progress as Step, Request, pca_bytes,
    slice_work,
};
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Options from the command line.
#[derive(Clone, Copy, Debug)]
pub struct LandscapeArgs {
    /// G: points per axis.
    pub grid: usize,
    /// What the slice is spanned by (or the 1-1-1 surface, or the optimiser race).
    pub dirs: Mode,
    /// α, β ∈ [−r, r]. Default: 1 (random: the scale of θ's own filters; hessian: unit
    /// eigenvectors), for pca and race 1.25 × the largest coordinate of the paths, for tiny 6.
    pub radius: Option<f64>,
    /// Training steps recorded for --dirs pca; steps of each optimiser for --dirs race.
    pub steps: u64,
    /// The race's learning rate.
    pub lr: f64,
    /// The loss of the 1-1-1 network (--dirs tiny).
    pub tiny_loss: TinyLoss,
}

/// Most snapshots of θ kept for the PCA (the trajectory is subsampled evenly beyond this).
const MAX_SNAPSHOTS: u64 = 200;
/// Most training steps for --dirs pca.
const MAX_STEPS: u64 = 10_000_000;
/// Most operations of the slice ([`slice_work`]): about a quarter of an hour here, not hours.
pub const MAX_SLICE_WORK: f64 = 2e12;

/// `nnlab landscape`: the grid of training losses around the session's θ, as JSON.
pub fn landscape(path: &Path, args: &LandscapeArgs) -> Result<Value> {
    if !(2..=MAX_GRID).contains(&args.grid) {
        return Err(Error::field(
            "--grid",
            format!("must be between 2 and {MAX_GRID} (got {})", args.grid),
        ));
    }
    if let Some(r) = args.radius
        && !(r.is_finite() && r > 0.0)
    {
        return Err(Error::field(
            "--radius",
            format!("must be a finite number > 0 (got {r})"),
        ));
    }
    if args.dirs == Mode::Pca && !(2..=MAX_STEPS).contains(&args.steps) {
        return Err(Error::field(
            "--steps",
            format!(
                "must be between 2 and {MAX_STEPS} for --dirs pca (got {})",
                args.steps
            ),
        ));
    }
    if args.dirs == Mode::Race {
        if !(1..=MAX_RACE_STEPS as u64).contains(&args.steps) {
            return Err(Error::field(
                "--steps",
                format!(
                    "must be between 1 and {MAX_RACE_STEPS} for --dirs race (got {})",
                    args.steps
                ),
            ));
        }
        if !(args.lr.is_finite() && args.lr > 0.0) {
            return Err(Error::field(
                "--lr",
                format!("must be a finite number > 0 (got {})", args.lr),
            ));
        }
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    if matches!(
        args.dirs,
        Mode::Random | Mode::Hessian | Mode::Pca | Mode::Race
    ) {
        check_work(&t.net, t.training_rows(), args.grid)?;
    }
    let mut progress = Progress::new(format!("{name}: landscape"));
    let mut extra = serde_json::Map::new();
    // θ₀ (where the recording started) for the line and the race; the trajectory for pca.
    let theta0 = match args.dirs {
        Mode::Line | Mode::Race => {
            session::initial_trainer(&loaded)
                .map_err(|e| e.context(&name))?
                .theta
        }
        _ => Vec::new(),
    };
    let mut trajectory = Vec::new();
    match args.dirs {
        Mode::Pca => {
            trajectory = train_trajectory(&mut t, args.steps, &name, &mut progress)?;
            extra.insert("steps".into(), json!(args.steps));
        }
        Mode::Race => {
            extra.insert("lr".into(), json!(args.lr));
            extra.insert("steps".into(), json!(args.steps));
        }
        _ => {}
    }
    let request = Request {
        mode: args.dirs,
        subject: Some(Subject {
            net: &t.net,
            train: &t.train,
            theta: &t.theta,
            regularization: t.regularization,
            seed: t.seed,
        }),
        step: t.step,
        theta0: &theta0,
        trajectory: &trajectory,
        grid: args.grid,
        coarse: 0,
        radius: args.radius,
        tiny_loss: args.tiny_loss,
        race_lr: args.lr,
        race_steps: args.steps as usize,
    };
    let report = landscape::run(
        &request,
        &mut |step| match step {
            Step::Products(n) => {
                progress.update(|| format!("Hessian directions: {n} Hessian-vector products"))
            }
            Step::Rows { done, of } => progress.count("grid row", done as u64, of as u64),
            Step::Preview(_) => {}
        },
        &AtomicBool::new(false),
    )
    .map_err(|e| Error::new(format!("{name}: {e}")))?;
    let mut out = serde_json::to_value(&report)
        .map_err(|e| Error::new(format!("could not encode the result: {e}")))?;
    if let Value::Object(m) = &mut out {
        m.extend(extra);
    }
    Ok(out)
}

/// Refuse a slice that would run for a very long time, naming the largest grid that fits.
fn check_work(net: &crate::net::Network, rows: crate::net::Rows, grid: usize) -> Result<()> {
    let obj = Objective {
        net,
        rows,
        l1: 0.0,
        l2: 0.0,
    };
    let work = slice_work(&obj, grid);
    if work <= MAX_SLICE_WORK {
        return Ok(());
    }
    let per_point = work / (grid as f64).powi(2);
    let most = (MAX_SLICE_WORK / per_point).sqrt().floor() as usize;
    let advice = if most >= 2 {
        format!("use --grid {most} or fewer")
    } else {
        "even --grid 2 is too much: use fewer rows or a smaller network".to_string()
    };
    Err(Error::field(
        "--grid",
        format!(
            "{grid} is too large for {p} parameters over {m} rows: the {grid}×{grid} slice is about {work:.1e} operations, more than the {MAX_SLICE_WORK:.0e} allowed; {advice}",
            p = net.n_params,
            m = rows.len(),
        ),
    ))
}

/// θ every few of `steps` training steps from the session's θ (at most about
/// [`MAX_SNAPSHOTS`] of them), ending at the trained θ: the PCA plane's data.
fn train_trajectory(
    t: &mut crate::train::Trainer,
    steps: u64,
    name: &str,
    progress: &mut Progress,
) -> Result<Vec<Vec<f64>>> {
    let every = steps.div_ceil(MAX_SNAPSHOTS).max(1);
    let p = t.net.n_params;
    let snapshots = (steps / every + 2) as usize;
    crate::memory::check(
        &format!("--dirs pca with {snapshots} snapshots of {p} parameters"),
        crate::memory::f64s(snapshots.saturating_mul(p)).saturating_add(pca_bytes(snapshots, p)),
    )
    .map_err(|e| Error::new(format!("{name}: {e}")))?;
    let mut traj = vec![t.theta.clone()];
    for s in 1..=steps {
        progress.count("training step", s, steps);
        let report = t.step();
        if report.diverged {
            return Err(Error::field(
                "--steps",
                format!(
                    "{name}: training diverged at step {} (the loss or a parameter is no longer finite); lower optimizer.lr or --steps",
                    report.step
                ),
            ));
        }
        if s % every == 0 || s == steps {
            traj.push(t.theta.clone());
        }
    }
    Ok(traj)
}
