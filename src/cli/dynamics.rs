//! `nnlab dynamics`: training as a dynamical system on the session's training objective (the
//! one `nnlab grad` reports, full batch, so every trajectory is deterministic), by the analysis
//! the app's Dynamics tile runs ([`dynamics::run`]).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::{Map, Value};

use crate::analysis::Subject;
use crate::analysis::dynamics::{
    self, Eta, IndefiniteRule, Kind, MAX_SEEDS, MAX_SUBSTEPS, MAX_SWEEP, Progress as Step, Request,
    Start,
};
use crate::error::{Error, Result};
use crate::memory::format_number;
use crate::optim::OptimizerKind;
use crate::session;

use super::progress::Progress;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct DynamicsArgs {
    /// Which experiment to run.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Steps of the trajectory (Newton: Newton iterations).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Learning rate (default: the session's optimizer.lr); also the η of --warmup and of
    /// Newton's GD comparison.
    #[arg(long)]
    pub eta: Option<f64>,
    /// Lyapunov, flow, energy: η as this fraction of 2/λ_max at θ (the edge of stability)
    /// instead of --eta; the app's Dynamics tile sets the Lyapunov η this way.
    #[arg(long)]
    pub eta_edge: Option<f64>,
    /// Plain GD steps at --eta before the analysis starts (to approach a minimum).
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    /// Lyapunov: initial separation ε.
    #[arg(long, default_value_t = 1e-6)]
    pub epsilon: f64,
    /// Lyapunov: direction of the initial separation.
    #[arg(long, value_enum, default_value = "top")]
    pub direction: Start,
    /// Lyapunov / flow: learning rates of the sweep (comma-separated). Default: Lyapunov
    /// 0.1 … 3 × 2/λ_max (ten points across the edge of stability), flow η, η/2, η/4, η/8.
    #[arg(long, value_delimiter = ',')]
    pub etas: Option<Vec<f64>>,
    /// Flow: RK4 sub-steps per GD step of the reference.
    #[arg(long, default_value_t = 64)]
    pub substeps: usize,
    /// Flow: the fixed time of the error sweep (default steps·eta).
    #[arg(long)]
    pub time: Option<f64>,
    /// Energy: heavy-ball μ in [0, 1) (default the session's optimizer.momentum, else 0.9).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Signal: initialisation seeds averaged over.
    #[arg(long, default_value_t = 4)]
    pub seeds: usize,
    /// Signal: training rows propagated.
    #[arg(long, default_value_t = 256)]
    pub rows: usize,
    /// Signal: std of the naive N(0, s²) initialiser in the forward comparison.
    #[arg(long, default_value_t = 0.01)]
    pub naive_std: f64,
    /// Newton: damping λ ≥ 0 added to the curvature.
    #[arg(long, default_value_t = 0.0)]
    pub damping: f64,
    /// Newton: step scale α.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Newton: treatment of an indefinite Hessian.
    #[arg(long, value_enum, default_value = "saddle-free")]
    pub rule: IndefiniteRule,
    /// Newton: halve α until the step lowers the loss.
    #[arg(long)]
    pub line_search: bool,
}

fn positive(flag: &str, x: f64) -> Result<f64> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(Error::field(
            flag,
            format!("must be finite and positive (got {x})"),
        ))
    }
}

/// Most steps (`--steps`, `--warmup`), as the flow analysis allows.
pub const MAX_STEPS: usize = dynamics::MAX_STEPS;
/// Most learning rates in `--etas`.
pub const MAX_ETAS: usize = MAX_SWEEP;

/// The flags as bounds the analysis accepts, each refused by its name.
fn check_flags(args: &DynamicsArgs) -> Result<()> {
    if args.steps == 0 || args.steps > MAX_STEPS {
        return Err(Error::field(
            "--steps",
            format!("must be in 1 … {MAX_STEPS} (got {})", args.steps),
        ));
    }
    if args.warmup > MAX_STEPS {
        return Err(Error::field(
            "--warmup",
            format!("must be in 0 … {MAX_STEPS} (got {})", args.warmup),
        ));
    }
    if args.rows > crate::data::MAX_ROWS {
        return Err(Error::field(
            "--rows",
            format!(
                "must be in 1 … {} (got {})",
                crate::data::MAX_ROWS,
                args.rows
            ),
        ));
    }
    positive("--epsilon", args.epsilon)?;
    if let Some(f) = args.eta_edge {
        positive("--eta-edge", f)?;
    }
    if args.substeps == 0 || args.substeps > MAX_SUBSTEPS {
        return Err(Error::field(
            "--substeps",
            format!("must be in 1 … {MAX_SUBSTEPS}"),
        ));
    }
    if let Some(etas) = &args.etas {
        if etas.is_empty() || etas.len() > MAX_ETAS {
            return Err(Error::field(
                "--etas",
                format!(
                    "must list 1 … {MAX_ETAS} learning rates (got {})",
                    etas.len()
                ),
            ));
        }
        for &e in etas {
            positive("--etas", e)?;
        }
    }
    if let Some(m) = args.momentum
        && !(0.0..1.0).contains(&m)
    {
        return Err(Error::field(
            "--momentum",
            format!("must be in [0, 1) (got {m})"),
        ));
    }
    if args.seeds == 0 || args.seeds > MAX_SEEDS {
        return Err(Error::field(
            "--seeds",
            format!("must be in 1 … {MAX_SEEDS}"),
        ));
    }
    if args.rows == 0 {
        return Err(Error::field("--rows", "must be at least 1"));
    }
    positive("--naive-std", args.naive_std)?;
    if !(args.damping.is_finite() && args.damping >= 0.0) {
        return Err(Error::field("--damping", "must be finite and ≥ 0"));
    }
    positive("--alpha", args.alpha)?;
    if let Some(t) = args.time {
        positive("--time", t)?;
    }
    Ok(())
}

/// `nnlab dynamics`: checks the flags, runs the chosen experiment on the session and returns
/// its JSON report.
pub fn dynamics(path: &Path, args: &DynamicsArgs) -> Result<Value> {
    check_flags(args)?;
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let eta = positive("--eta", args.eta.unwrap_or(t.optimizer.spec().lr))?;
    if args.kind == Kind::Flow && args.eta_edge.is_none() {
        // Refuse a sweep time that would run for ever before the warm-up, not after it.
        let time = args.time.unwrap_or(args.steps as f64 * eta);
        let smallest = args
            .etas
            .as_deref()
            .unwrap_or(&[eta])
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        if time / smallest > MAX_STEPS as f64 {
            return Err(Error::field(
                "--time",
                format!(
                    "{} at η = {} is {:.3e} GD steps, more than the {MAX_STEPS} allowed; lower --time or raise η",
                    format_number(time),
                    format_number(smallest),
                    time / smallest
                ),
            ));
        }
    }
    let spec = t.optimizer.spec();
    let network = &loaded.session.network;
    let request = Request {
        kind: args.kind,
        subject: Subject {
            net: &t.net,
            train: &t.train,
            theta: &t.theta,
            regularization: t.regularization,
            seed: t.seed,
        },
        step: t.step,
        init: network.init,
        init_scale: network.init_scale,
        steps: args.steps,
        eta: match args.eta_edge {
            Some(f) => Eta::EdgeFraction(f),
            None => Eta::Value(eta),
        },
        warmup: args.warmup,
        warmup_eta: eta,
        epsilon: args.epsilon,
        start: args.direction,
        etas: args.etas.clone(),
        substeps: args.substeps,
        time: args.time,
        momentum: args.momentum.unwrap_or(match spec.kind {
            OptimizerKind::Momentum | OptimizerKind::Nesterov => spec.momentum,
            _ => 0.9,
        }),
        seeds: args.seeds,
        rows: args.rows,
        naive_std: args.naive_std,
        damping: args.damping,
        alpha: args.alpha,
        rule: args.rule,
        line_search: args.line_search,
        gd_eta: args.eta,
    };
    let mut progress = Progress::new(format!("{name}: dynamics {}", args.kind.name()));
    let report = dynamics::run(
        &request,
        &mut |step| {
            progress.update(|| match step {
                Step::Warmup { done, of } => format!("warm-up step {done} / {of}"),
                Step::Evaluations(n) => format!("{n} gradient evaluations after the warm-up"),
            })
        },
        &AtomicBool::new(false),
    )
    .map_err(|e| Error::new(format!("{name}: {e}")))?;
    let Value::Object(fields) = serde_json::to_value(&report)
        .map_err(|e| Error::new(format!("could not encode the result: {e}")))?
    else {
        return Err(Error::new("could not encode the result as an object"));
    };
    // The session's name after the kind, then the report.
    let mut out = Map::new();
    for (key, value) in fields {
        let after_kind = key == "kind";
        out.insert(key, value);
        if after_kind {
            out.insert("session".into(), Value::String(loaded.session.name.clone()));
        }
    }
    Ok(Value::Object(out))
}
