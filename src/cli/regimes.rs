//! `nnlab min-norm` (THEORY row 28) and `nnlab double-descent` (row 29): the implicit bias of
//! gradient descent on a random-features model, and the test error against the feature count.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::double_descent::{
    MAX_SWEEP_FEATURES, RandomFeatures, error, fit, optimal_ridge, ridge_grid, sweep,
};
use crate::analysis::min_norm::{MinNormReport, min_norm_report, readout_matrix};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::net::spec::{Init, NetworkSpec};
use crate::optim::spec::{OptimizerKind, OptimizerSpec};
use crate::session;
use crate::train::{Trainer, TrainerConfig};

/// Options of `nnlab min-norm`.
#[derive(clap::Args, Clone, Debug)]
pub struct MinNormArgs {
    /// Training steps (the session's optimiser, from its θ₀).
    #[arg(long, default_value_t = 20_000)]
    pub steps: u64,
}

/// Train `t` for `steps` steps and compare its readout with the pseudo-inverse solution.
pub fn train_and_compare(t: &mut Trainer, steps: u64) -> Result<MinNormReport> {
    if let Some(why) = crate::analysis::min_norm::readout_problem(&t.net) {
        return Err(Error::new(format!("minimum norm {why}")));
    }
    let theta0 = t.theta.clone();
    for _ in 0..steps {
        let r = t.step();
        if r.diverged {
            return Err(Error::new(format!(
                "training diverged at step {}; lower optimizer.lr",
                r.step
            )));
        }
    }
    min_norm_report(&t.net, &theta0, &t.theta, &t.train).map_err(Error::new)
}

/// `nnlab min-norm`: trains the readout of a random-features model and compares it with the
/// pseudo-inverse solution, as JSON.
pub fn min_norm_command(path: &Path, args: &MinNormArgs) -> Result<Value> {
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::initial_trainer(&loaded).map_err(|e| e.context(&name))?;
    let r = train_and_compare(&mut t, args.steps).map_err(|e| e.context(&name))?;
    Ok(json!({
        "steps": args.steps,
        "rows": r.rows,
        "readout_parameters": r.params,
        "rank": r.rank,
        "smallest_singular_value": r.smallest_singular_value,
        "distance_to_pseudo_inverse": r.distance,
        "start_null_space_norm": r.start_null_norm,
        "distance_to_predicted_limit": r.limit_error,
        "pseudo_inverse_norm": r.min_norm,
        "trained_norm": r.trained_norm,
        "max_residual": r.max_residual,
    }))
}

/// Options of `nnlab double-descent`.
#[derive(clap::Args, Clone, Debug)]
pub struct DoubleDescentArgs {
    /// Largest number of random features p (default 10 × the training rows).
    #[arg(long)]
    pub max_features: Option<usize>,
    /// Ridge λ: ½·mean(ŷ − y)² + ½λ‖w‖² (0: the minimum-norm solution).
    #[arg(long, default_value_t = 0.0)]
    pub ridge: f64,
    /// Confirm the closed form by training the readout with gradient descent at these p
    /// (comma-separated; p + 1 must differ from the rows, where GD converges too slowly).
    #[arg(long, value_delimiter = ',')]
    pub confirm: Vec<usize>,
    /// Gradient-descent steps of each confirmation.
    #[arg(long, default_value_t = 20_000)]
    pub confirm_steps: u64,
}

/// The random features of a loaded session at `width`.
pub fn features_of(loaded: &session::Loaded, width: usize) -> Result<RandomFeatures> {
    RandomFeatures::new(
        &loaded.session.network,
        loaded.session.seed,
        width,
        &loaded.train,
        &loaded.test,
    )
    .map_err(Error::new)
}

/// Train the readout of the first `p` features with full-batch GD from zero (η = 1/λ_max of
/// the readout's Hessian AᵀA/n) for `steps` steps; returns (trained test error, closed-form
/// test error at ridge 0, (1 − λ_min/λ_max)^steps: the share of the slowest direction GD has
/// not yet covered — near 1 the run is far from the closed form's limit).
pub fn confirm_by_training(
    f: &RandomFeatures,
    spec: &NetworkSpec,
    seed: u64,
    train: &Dataset,
    test: &Dataset,
    p: usize,
    steps: u64,
) -> Result<(f64, f64, f64)> {
    let mut narrow = spec.clone();
    narrow.layers[0].units = p;
    narrow.layers[0].trainable = false;
    narrow.layers[0].pruned = None;
    narrow.layers[1].pruned = None;
    narrow.layers[1].init = Some(Init::Zeros);
    let theta = f.narrow_theta(p);
    let net = crate::net::Network::build(&narrow, crate::net::Loss::Mse)?;
    let a = readout_matrix(&net, &theta, &train.x, train.rows());
    let svd = crate::analysis::min_norm::Svd::of(&a, train.rows(), p + 1).map_err(Error::new)?;
    let lambda_max = svd.s[0] * svd.s[0] / train.rows() as f64;
    let s_min = svd.smallest_nonzero();
    let remaining = (1.0 - (s_min * s_min) / (svd.s[0] * svd.s[0])).powf(steps as f64);
    let config = TrainerConfig {
        seed,
        network: narrow,
        loss: crate::net::Loss::Mse,
        optimizer: OptimizerSpec::new(OptimizerKind::Gd, 1.0 / lambda_max, train.rows()),
        regularization: Default::default(),
    };
    let mut t = Trainer::new(&config, train.clone(), test.clone(), Some(theta))?;
    for _ in 0..steps {
        t.step();
    }
    let pred = t.predict(&test.x, test.rows());
    let trained = pred
        .iter()
        .zip(&test.y)
        .map(|(a, b)| 0.5 * (a - b) * (a - b))
        .sum::<f64>()
        / test.rows() as f64;
    let (w, b) = fit(f.train_rows(train), f.width, p, 0.0).map_err(Error::new)?;
    Ok((trained, error(f.test_rows(test), f.width, &w, b), remaining))
}

/// `nnlab double-descent`: test error of the least-squares readout against the number of
/// features, in closed form and confirmed by training at a few p, as JSON.
pub fn double_descent_command(path: &Path, args: &DoubleDescentArgs) -> Result<Value> {
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let n = loaded.train.rows();
    let width = args.max_features.unwrap_or(10 * n);
    if width == 0 || width > MAX_SWEEP_FEATURES {
        return Err(Error::field(
            "--max-features",
            format!("must be between 1 and {MAX_SWEEP_FEATURES} (got {width})"),
        ));
    }
    if !(args.ridge.is_finite() && args.ridge >= 0.0) {
        return Err(Error::field(
            "--ridge",
            format!("must be finite and ≥ 0 (got {})", args.ridge),
        ));
    }
    if let Some(p) = args.confirm.iter().find(|&&p| p == 0 || p > width) {
        return Err(Error::field(
            "--confirm",
            format!("{p} is not a feature count between 1 and {width}"),
        ));
    }
    let f = features_of(&loaded, width).map_err(|e| e.context(&name))?;
    let (tr, te) = (f.train_rows(&loaded.train), f.test_rows(&loaded.test));
    let s = sweep(tr, te, width, args.ridge, &|| false).map_err(Error::new)?;
    let (best_ridge, best_at_n) =
        optimal_ridge(tr, te, width, n.saturating_sub(1), &ridge_grid()).map_err(Error::new)?;
    let mut confirmations = Vec::new();
    for &p in &args.confirm {
        let (trained, closed, remaining) = confirm_by_training(
            &f,
            &loaded.session.network,
            loaded.session.seed,
            &loaded.train,
            &loaded.test,
            p,
            args.confirm_steps,
        )
        .map_err(|e| e.context(&name))?;
        confirmations.push(json!({
            "features": p,
            "trained_test_error": trained,
            "closed_form_test_error": closed,
            "relative_difference": (trained - closed).abs() / closed.abs().max(f64::MIN_POSITIVE),
            "slowest_direction_remaining": remaining,
        }));
    }
    Ok(json!({
        "rows": n,
        "test_rows": loaded.test.rows(),
        "ridge": args.ridge,
        "peak_features": s.peak_features,
        "peak_over_rows": s.peak_features as f64 / n as f64,
        "peak_test_error": s.peak_error,
        "widest_test_error": s.wide_error,
        "peak_over_widest": s.peak_error / s.wide_error,
        "optimal_ridge_at_interpolation": best_ridge,
        "optimal_ridge_test_error_at_interpolation": best_at_n,
        "features": s.points.iter().map(|p| p.features).collect::<Vec<_>>(),
        "test_error": s.points.iter().map(|p| p.test_error).collect::<Vec<_>>(),
        "train_error": s.points.iter().map(|p| p.train_error).collect::<Vec<_>>(),
        "weight_norm": s.points.iter().map(|p| p.weight_norm).collect::<Vec<_>>(),
        "smallest_singular_value": s.points.iter().map(|p| p.smallest_singular_value).collect::<Vec<_>>(),
        "confirmations": confirmations,
    }))
}

/// Options of `nnlab lottery`.
#[derive(clap::Args, Clone, Debug)]
pub struct LotteryArgs {
    /// Pruning rounds after the dense run.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Fraction of the surviving weights pruned each round.
    #[arg(long, default_value_t = 0.2)]
    pub prune: f64,
    /// Rewind the survivors to θ after K dense steps (0: to θ₀).
    #[arg(long, default_value_t = 0)]
    pub rewind: u64,
    /// Where the weights are ranked by magnitude.
    #[arg(long, value_enum, default_value_t = ScopeArg::Layer)]
    pub scope: ScopeArg,
    /// Training steps of every run.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,
    /// Save the last round's ticket as a session: its masks (`pruned`) and the rewound θ.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// Where `--scope` ranks weights by magnitude.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    /// Each layer prunes the fraction of its own weights.
    Layer,
    /// The fraction of all weights, ranked together.
    Global,
}

/// Most runs a lottery command may ask for ((rounds + 1) × 2 trainings).
pub const MAX_ROUNDS: usize = 50;

/// `nnlab lottery`: iterative magnitude pruning with rewinding against the same masks from a
/// fresh initialisation, as JSON.
pub fn lottery_command(path: &Path, args: &LotteryArgs) -> Result<Value> {
    use crate::analysis::lottery::Scope;
    use crate::train::prune::{LotteryOptions, lottery};
    if args.rounds > MAX_ROUNDS {
        return Err(Error::field(
            "--rounds",
            format!("must be at most {MAX_ROUNDS} (got {})", args.rounds),
        ));
    }
    if !(args.prune.is_finite() && args.prune > 0.0 && args.prune < 1.0) {
        return Err(Error::field(
            "--prune",
            format!("must be a fraction between 0 and 1 (got {})", args.prune),
        ));
    }
    if args.steps == 0 || args.steps > crate::train::trainer::MAX_STEP {
        return Err(Error::field("--steps", "must be at least 1"));
    }
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let config = loaded.session.trainer_config();
    let opts = LotteryOptions {
        rounds: args.rounds,
        fraction: args.prune,
        scope: match args.scope {
            ScopeArg::Layer => Scope::Layer,
            ScopeArg::Global => Scope::Global,
        },
        rewind: args.rewind,
        steps: args.steps,
    };
    let r = lottery(&config, &loaded.train, &loaded.test, opts, &|| false)
        .map_err(|e| e.context(&name))?;
    if let Some(out) = &args.out {
        let mut s = loaded.session.clone();
        s.network = r.spec.clone();
        s.params = Some(r.rewound_theta.clone());
        // A fresh session: the ticket at its rewound θ, no recording.
        s.state = None;
        s.initial_params = None;
        s.history = Default::default();
        s.edits.clear();
        s.checkpoints.clear();
        s.analyses.clear();
        session::save(out, &s)?;
    }
    let rounds: Vec<Value> = r
        .rounds
        .iter()
        .map(|x| {
            json!({
                "round": x.round,
                "sparsity": x.sparsity,
                "ticket_test_accuracy": x.ticket_test_accuracy,
                "ticket_test_loss": x.ticket_test_loss,
                "ticket_train_accuracy": x.ticket_train_accuracy,
                "reinit_test_accuracy": x.reinit_test_accuracy,
                "reinit_test_loss": x.reinit_test_loss,
                "reinit_train_accuracy": x.reinit_train_accuracy,
            })
        })
        .collect();
    Ok(json!({
        "rounds": rounds,
        "prune": args.prune,
        "rewind": args.rewind,
        "steps": args.steps,
        "saved": args.out.as_ref().map(|p| p.display().to_string()),
    }))
}
