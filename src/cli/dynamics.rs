//! `nnlab dynamics`: training as a dynamical system on the session's training objective (the
//! one `nnlab grad` reports, full batch, so every trajectory is deterministic).

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::analysis::dynamics::{
    self, Direction, IndefiniteRule, NetObjective, NewtonOptions, Objective,
    activation_std_by_init, flow_error_sweep, gd_vs_flow, lyapunov, lyapunov_sweep,
    momentum_energy, newton, signal_propagation,
};
use crate::error::{Error, Result};
use crate::memory::format_number;
use crate::net::Rows;
use crate::optim::{OptimizerKind, OptimizerSpec};
use crate::session;

use super::progress::Progress;

/// Which analysis.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Finite-time Lyapunov exponent of twin GD runs, and its sweep over η.
    Lyapunov,
    /// GD against an RK4 gradient-flow reference; error at fixed time against η.
    Flow,
    /// Heavy-ball momentum's kinetic, potential and total energy.
    Energy,
    /// Backward σ_w²χ per layer against the measured ratio at initialisation.
    Signal,
    /// Newton / damped-Newton steps against GD (dense Hessian, small networks).
    Newton,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Lyapunov => "lyapunov",
            Kind::Flow => "flow",
            Kind::Energy => "energy",
            Kind::Signal => "signal",
            Kind::Newton => "newton",
        }
    }
}

/// How Newton treats an indefinite Hessian.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleArg {
    /// Use |λ_k| (saddle-free Newton).
    SaddleFree,
    /// Raise the damping above −λ_min.
    Shift,
}

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct DynamicsArgs {
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Steps of the trajectory (Newton: Newton iterations).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Learning rate (default: the session's optimizer.lr).
    #[arg(long)]
    pub eta: Option<f64>,
    /// Plain GD steps at --eta before the analysis starts (to approach a minimum).
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    /// Lyapunov: initial separation ε.
    #[arg(long, default_value_t = 1e-6)]
    pub epsilon: f64,
    /// Lyapunov / flow: learning rates of the sweep (comma-separated).
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
    pub rule: RuleArg,
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

fn encode<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::new(format!("could not encode the result: {e}")))
}

/// Most steps (`--steps`, `--warmup`), as the flow analysis allows.
pub const MAX_STEPS: usize = dynamics::MAX_STEPS;
/// Most learning rates in `--etas`.
pub const MAX_ETAS: usize = 100;

pub fn dynamics(path: &Path, args: &DynamicsArgs) -> Result<Value> {
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
    if args.substeps == 0 || args.substeps > 10_000 {
        return Err(Error::field("--substeps", "must be in 1 … 10000"));
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
    if args.seeds == 0 || args.seeds > 1000 {
        return Err(Error::field("--seeds", "must be in 1 … 1000"));
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

    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let eta = positive("--eta", args.eta.unwrap_or(t.optimizer.spec().lr))?;
    let seed = loaded.session.seed;
    let p = t.net.n_params;
    let ctx = |e: String| Error::new(format!("{name}: {e}"));
    if args.kind == Kind::Flow {
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
    let reg = t.regularization;
    let mut obj = NetObjective::new(&t.net, t.training_rows(), reg.l1, reg.l2);
    let mut progress = Progress::new(format!("{name}: dynamics {}", args.kind.name()));
    let warmup = args.warmup as u64;
    obj.on_value = Some(Box::new(move |n| {
        progress.update(|| {
            if n <= warmup {
                format!("warm-up step {n} / {warmup}")
            } else {
                format!("{} gradient evaluations after the warm-up", n - warmup)
            }
        })
    }));
    obj.check_memory("the warm-up", 3, 0).map_err(ctx)?;

    // θ₀: the session's θ, optionally after some plain GD steps.
    let mut theta0 = t.theta.clone();
    let mut g = vec![0.0; p];
    for _ in 0..args.warmup {
        obj.value(&theta0, Some(&mut g));
        for (th, gi) in theta0.iter_mut().zip(&g) {
            *th -= eta * gi;
        }
    }
    if theta0.iter().any(|v| !v.is_finite()) {
        return Err(Error::field(
            "--warmup",
            "diverged (θ is no longer finite); lower --eta",
        ));
    }
    let start_loss = obj.value(&theta0, None);

    let result = match args.kind {
        Kind::Lyapunov => {
            let spec = OptimizerSpec::new(OptimizerKind::Gd, eta, 1);
            let dir = Direction::Random(seed);
            let r =
                lyapunov(&mut obj, &theta0, &spec, args.steps, args.epsilon, &dir).map_err(ctx)?;
            let etas = args
                .etas
                .clone()
                .unwrap_or_else(|| [0.25, 0.5, 1.0, 2.0, 4.0, 8.0].map(|f| f * eta).to_vec());
            let sweep = lyapunov_sweep(
                &mut obj,
                &theta0,
                &spec,
                &etas,
                args.steps,
                args.epsilon,
                &dir,
            )
            .map_err(ctx)?;
            json!({ "run": encode(&r)?, "sweep": encode(&sweep)? })
        }
        Kind::Flow => {
            let c = gd_vs_flow(&mut obj, &theta0, eta, args.steps, args.substeps).map_err(ctx)?;
            let time = args.time.unwrap_or(args.steps as f64 * eta);
            let etas = args.etas.clone().unwrap_or_else(|| {
                [1.0, 0.5, 0.25, 0.125]
                    .map(|f| f * eta)
                    .into_iter()
                    .filter(|e| *e <= time)
                    .collect()
            });
            let sweep =
                flow_error_sweep(&mut obj, &theta0, &etas, time, args.substeps).map_err(ctx)?;
            json!({ "run": encode(&c)?, "sweep": encode(&sweep)? })
        }
        Kind::Energy => {
            let spec = t.optimizer.spec();
            let mu = args.momentum.unwrap_or(match spec.kind {
                OptimizerKind::Momentum | OptimizerKind::Nesterov => spec.momentum,
                _ => 0.9,
            });
            let r = momentum_energy(&mut obj, &theta0, eta, mu, args.steps).map_err(ctx)?;
            encode(&r)?
        }
        Kind::Signal => {
            let rows = args.rows.min(t.train.rows());
            let d = t.train.inputs;
            let all = t.training_rows();
            let sub = Rows {
                x: &all.x[..rows * d],
                y: &all.y[..rows],
                classes: all.classes,
            };
            let net_spec = &loaded.session.network;
            let seeds: Vec<u64> = (0..args.seeds as u64)
                .map(|i| seed.wrapping_add(i))
                .collect();
            let r = signal_propagation(&t.net, net_spec.init, net_spec.init_scale, sub, &seeds)
                .map_err(ctx)?;
            let by_init =
                activation_std_by_init(&t.net, sub.x, rows, &seeds, args.naive_std).map_err(ctx)?;
            json!({ "backward": encode(&r)?, "forward_std_by_init": encode(&by_init)? })
        }
        Kind::Newton => {
            let opts = NewtonOptions {
                alpha: args.alpha,
                damping: args.damping,
                steps: args.steps,
                rule: match args.rule {
                    RuleArg::SaddleFree => IndefiniteRule::SaddleFree,
                    RuleArg::Shift => IndefiniteRule::Shift,
                },
                gd_eta: args.eta,
                line_search: args.line_search,
            };
            let r = newton(&mut obj, &theta0, opts).map_err(ctx)?;
            encode(&r)?
        }
    };
    let mut out = json!({
        "kind": args.kind.name(),
        "session": loaded.session.name,
        "params": p,
        "eta": eta,
        "warmup": args.warmup,
        "start_loss": start_loss,
    });
    if let (Value::Object(o), Value::Object(r)) = (&mut out, result) {
        o.extend(r);
    }
    Ok(out)
}
