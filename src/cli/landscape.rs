//! `nnlab landscape`: a 2-D slice of the training objective around the session's θ.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::analysis::hessian::{LANCZOS_STEPS, top_eigenpairs};
use crate::analysis::landscape::{
    MAX_GRID, Objective, Plane, SliceSpec, pca_bytes, pca_plane, slice, slice_work,
};
use crate::error::{Error, Result};
use crate::session;

use super::progress::Progress;

/// Directions of the slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dirs {
    /// Two filter-normalised random directions (seeded by the session seed).
    Random,
    /// The eigenvectors of the two largest Hessian eigenvalues (Lanczos).
    Hessian,
    /// The PCA plane of a training trajectory of --steps steps; the slice is around its end.
    Pca,
}

impl Dirs {
    fn name(self) -> &'static str {
        match self {
            Dirs::Random => "random",
            Dirs::Hessian => "hessian",
            Dirs::Pca => "pca",
        }
    }
}

/// Options from the command line.
#[derive(Clone, Copy, Debug)]
pub struct LandscapeArgs {
    /// G: points per axis.
    pub grid: usize,
    pub dirs: Dirs,
    /// α, β ∈ [−r, r]. Default: 1 (random: the scale of θ's own filters; hessian: unit
    /// eigenvectors), for pca 1.25 × the largest coordinate of the path.
    pub radius: Option<f64>,
    /// Training steps recorded for --dirs pca.
    pub steps: u64,
}

/// Most snapshots of θ kept for the PCA (the trajectory is subsampled evenly beyond this).
const MAX_SNAPSHOTS: u64 = 200;
/// Most training steps for --dirs pca.
const MAX_STEPS: u64 = 10_000_000;
/// Most operations of the slice ([`slice_work`]): about a quarter of an hour here, not hours.
pub const MAX_SLICE_WORK: f64 = 2e12;

/// JSON has no NaN: non-finite numbers become null.
fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

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
    if args.dirs == Dirs::Pca && !(2..=MAX_STEPS).contains(&args.steps) {
        return Err(Error::field(
            "--steps",
            format!(
                "must be between 2 and {MAX_STEPS} for --dirs pca (got {})",
                args.steps
            ),
        ));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let seed = loaded.session.seed;

    let rows = t.train.rows();
    let work = slice_work(
        &Objective {
            net: &t.net,
            rows: t.training_rows(),
            l1: 0.0,
            l2: 0.0,
        },
        args.grid,
    );
    if work > MAX_SLICE_WORK {
        let per_point = work / (args.grid as f64).powi(2);
        let most = (MAX_SLICE_WORK / per_point).sqrt().floor() as usize;
        let advice = if most >= 2 {
            format!("use --grid {most} or fewer")
        } else {
            "even --grid 2 is too much: use fewer rows or a smaller network".to_string()
        };
        return Err(Error::field(
            "--grid",
            format!(
                "{g} is too large for {p} parameters over {m} rows: the {g}×{g} slice is about {work:.1e} operations, more than the {MAX_SLICE_WORK:.0e} allowed; {advice}",
                g = args.grid,
                p = t.net.n_params,
                m = rows,
            ),
        ));
    }
    let mut progress = Progress::new(format!("{name}: landscape"));
    let mut extra = serde_json::Map::new();
    let mut path_coords = None;
    let (plane, default_radius) = match args.dirs {
        Dirs::Random => (Plane::random(&t.net, &t.theta, seed), 1.0),
        Dirs::Hessian => {
            let problem = t.hessian_problem(false);
            let p = t.net.n_params;
            let top = top_eigenpairs(problem, 2, LANCZOS_STEPS, 1e-6, seed, &mut |n| {
                progress.update(|| format!("Hessian directions: {n} Hessian-vector products"))
            })
            .map_err(|e| Error::new(format!("{name}: {e}")))?;
            if top.len() < 2 {
                return Err(Error::new(format!(
                    "{name}: --dirs hessian needs at least 2 parameters (the network has {p})"
                )));
            }
            extra.insert(
                "eigenvalues".into(),
                json!([num(top[0].value), num(top[1].value)]),
            );
            let plane = Plane::given(&t.theta, &top[0].vector, &top[1].vector)
                .map_err(|e| e.context(&name))?;
            (plane, 1.0)
        }
        Dirs::Pca => {
            let every = args.steps.div_ceil(MAX_SNAPSHOTS).max(1);
            let p = t.net.n_params;
            let snapshots = (args.steps / every + 2) as usize;
            crate::memory::check(
                &format!("--dirs pca with {snapshots} snapshots of {p} parameters"),
                crate::memory::f64s(snapshots.saturating_mul(p))
                    .saturating_add(pca_bytes(snapshots, p)),
            )
            .map_err(|e| Error::new(format!("{name}: {e}")))?;
            let mut traj = vec![t.theta.clone()];
            for s in 1..=args.steps {
                progress.count("training step", s, args.steps);
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
                if s % every == 0 || s == args.steps {
                    traj.push(t.theta.clone());
                }
            }
            let pca = pca_plane(&traj).map_err(|e| e.context(&name))?;
            let reach = pca
                .path
                .iter()
                .flat_map(|c| [c[0].abs(), c[1].abs()])
                .fold(0.0f64, f64::max);
            extra.insert("explained_variance".into(), json!(pca.explained));
            extra.insert("steps".into(), json!(args.steps));
            path_coords = Some(pca.path);
            let r = if reach > 0.0 { 1.25 * reach } else { 1.0 };
            (pca.plane, r)
        }
    };
    let obj = Objective {
        net: &t.net,
        rows: t.training_rows(),
        l1: t.regularization.l1,
        l2: t.regularization.l2,
    };
    let spec = SliceSpec::new(args.grid, args.radius.unwrap_or(default_radius));
    let cancel = AtomicBool::new(false);
    let mut rows_done = 0u64;
    let grid = args.grid as u64;
    let s = slice(&obj, &plane, &spec, &cancel, &mut |_, _| {
        rows_done += 1;
        progress.count("grid row", rows_done, grid);
    })
    .map_err(|e| e.context(&name))?
    .ok_or_else(|| Error::new("the landscape was cancelled"))?;
    let rows: Vec<Value> = (0..s.grid)
        .map(|i| Value::Array(s.row(i).iter().map(|&v| num(v)).collect()))
        .collect();
    let mut out = json!({
        "params": t.net.n_params,
        "grid": s.grid,
        "dirs": args.dirs.name(),
        "radius": s.radius,
        "alpha": s.alpha,
        "beta": s.beta,
        "loss": rows,
        "min": num(s.min),
        "max": num(s.max),
        "center_loss": num(obj.value(&plane.origin)),
        "directions": [plane.d1, plane.d2],
    });
    if let Some(p) = path_coords {
        extra.insert("path".into(), json!(p));
    }
    if let Value::Object(m) = &mut out {
        m.extend(extra);
    }
    Ok(out)
}
