//! The headless command line: JSON on stdout, progress on stderr, exit code 2 with one line
//! naming the problem on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::json;

pub mod collapse;
pub mod dynamics;
pub mod export;
mod hessian;
pub mod jacobian;
pub mod landscape;
pub mod lessons;
pub mod ntk;
pub mod progress;
pub mod regimes;
pub mod regions;
pub mod replay;
pub mod spectral_bias;
pub mod stability;

use crate::analysis::hessian::Method;
use crate::bench;
use crate::error::{Error, Result};
use crate::session::{self, Loaded};
use crate::train::{Evaluation, StepReport, StopRule, StopWatch, Trainer};

#[derive(Parser, Debug)]
#[command(
    name = "nnlab",
    version,
    about = "A laboratory for the theory of neural networks",
    long_about = "A laboratory for the theory of neural networks.\n\nWith no command (or a session file) it opens the desktop app; the commands below run the same experiments headless and print JSON."
)]
/// The command line as clap parses it: a subcommand, or a session file for the app, or nothing.
pub struct Cli {
    /// What to run headless; `None` opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A session file to open in the app.
    pub file: Option<PathBuf>,
}

/// One headless command. Each variant's doc comment is its `--help` text, so it speaks to the
/// person at the terminal.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the desktop app, optionally with a session file.
    Open {
        /// A session file (JSON) to open.
        file: Option<PathBuf>,
    },
    /// Train a session without a window; print a JSON summary.
    Run {
        /// The session file (JSON).
        session: PathBuf,
        /// Training steps (mini-batches) to take.
        #[arg(long, default_value_t = 1000)]
        steps: u64,
        /// Write the trained session (θ included) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the metric history (one row per evaluated step) as CSV here.
        #[arg(long)]
        metrics: Option<PathBuf>,
        /// Evaluate train/test loss and accuracy every K steps (and at the last step).
        /// Default: every step with --metrics, otherwise only the last step.
        #[arg(long)]
        eval_every: Option<u64>,
        /// Bytes the checkpoints in --out may take (default: the session's
        /// checkpoint_budget, else 8 MiB).
        #[arg(long)]
        checkpoint_budget: Option<u64>,
        /// When to stop before --steps.
        #[command(flatten)]
        stop: StopArgs,
    },
    /// Re-run a recorded session: --verify checks it bit for bit (exit 1 on a mismatch);
    /// --to STEP --out FILE writes the session as it stood at STEP.
    Replay {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: replay::ReplayArgs,
    },
    /// Print the training objective and its gradient over the whole training set.
    Grad {
        /// The session file (JSON).
        session: PathBuf,
    },
    /// Print the Hessian spectrum of the training objective (the one `grad` reports).
    Hessian {
        /// The session file (JSON).
        session: PathBuf,
        /// dense: every eigenvalue (P ≤ 3000); lanczos: the k extreme pairs at each end.
        /// Default: dense when P ≤ 3000.
        #[arg(long, value_enum)]
        method: Option<Method>,
        /// Eigenpairs at each end of the spectrum (lanczos).
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Add the spectral density (stochastic Lanczos quadrature, 80 steps).
        #[arg(long)]
        density: bool,
        /// Use the Gauss–Newton matrix (positive semi-definite; shows no negative curvature).
        #[arg(long)]
        gauss_newton: bool,
        /// Add each top eigenvector's share per layer (as the app's Curvature tile shows;
        /// dense: needs the eigenvectors, a few times slower).
        #[arg(long)]
        layer_shares: bool,
    },
    /// A 2-D slice of the training objective around the session's θ.
    Landscape {
        /// The session file (JSON).
        session: PathBuf,
        /// Points per side of the grid.
        #[arg(long, default_value_t = 51)]
        grid: usize,
        /// What to compute: a slice along random or Hessian directions or the PCA plane of a
        /// training trajectory, the line from θ₀ to θ, the 1-1-1 surface, an optimiser race.
        #[arg(long, value_enum, default_value = "random")]
        dirs: crate::analysis::landscape::Mode,
        /// Half-width of the grid in units of the directions.
        #[arg(long)]
        radius: Option<f64>,
        /// Training steps recorded for --dirs pca; steps of each optimiser for --dirs race.
        #[arg(long, default_value_t = 100)]
        steps: u64,
        /// The learning rate of every optimiser of --dirs race.
        #[arg(long, default_value_t = 0.1)]
        lr: f64,
        /// The loss of --dirs tiny.
        #[arg(long, value_enum, default_value = "mse")]
        tiny_loss: crate::analysis::landscape::one_one_one::TinyLoss,
    },
    /// Training as a dynamical system: Lyapunov exponent, GD vs gradient flow, momentum's
    /// energy, signal propagation at initialisation, Newton steps.
    Dynamics {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: dynamics::DynamicsArgs,
    },
    /// Export the session's network (where it stands) to PyTorch (a folder with model.py and
    /// model.safetensors) or ONNX (one file): raw inputs in, the network's outputs out.
    Export {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: export::ExportArgs,
    },
    /// The exact linear regions of a piecewise-linear network over the input box.
    Regions {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: regions::RegionsArgs,
    },
    /// Singular values of the Jacobian from the first hidden layer to each deeper one.
    Jacobian {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: jacobian::JacobianArgs,
    },
    /// Train a random-features model (frozen hidden layer) and compare its readout with the
    /// minimum-norm (pseudo-inverse) solution.
    MinNorm {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: regimes::MinNormArgs,
    },
    /// Test error of the least-squares readout against the number of random features p.
    DoubleDescent {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: regimes::DoubleDescentArgs,
    },
    /// Lottery tickets: iterative magnitude pruning with rewinding, against the same masks
    /// from a fresh initialisation.
    Lottery {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: regimes::LotteryArgs,
    },
    /// Train a 1-D regression and record the residual's Fourier spectrum against step.
    SpectralBias {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: spectral_bias::SpectralBiasArgs,
    },
    /// Train and record the sharpness the optimiser's stability threshold applies to
    /// (λ_max(H), or λ_max(P⁻¹H) for Adam/RMSprop/AdaGrad) against that threshold.
    Stability {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: stability::StabilityArgs,
    },
    /// Train a K-class session and record neural collapse of the last hidden layer (NC1, the
    /// class means' cosines, NC3, NC4) against step, with a 2-D PCA at the end.
    Collapse {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: collapse::CollapseArgs,
    },
    /// The empirical neural tangent kernel of a 1-output regression network trained at several
    /// widths: kernel and weight change, f against its linearisation, kernel regression.
    Ntk {
        /// The session file (JSON).
        session: PathBuf,
        /// The command's own options.
        #[command(flatten)]
        args: ntk::NtkArgs,
    },
    /// List the lessons (THEORY.md claims as sessions), or verify them headless.
    Lessons {
        /// The command's own options.
        #[command(flatten)]
        args: lessons::LessonsArgs,
    },
    /// Measure training steps per second on the reference runs.
    Bench {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Seconds to spend on each run.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// Time the curvature analyses instead (dense spectrum, Lanczos, SLQ).
        #[arg(long)]
        curvature: bool,
        /// Time the exact linear-region partition instead (ReLU nets 2-16-16-1 and 2-32-32-1
        /// trained on the spiral), --seconds per net.
        #[arg(long, conflicts_with_all = ["curvature", "only"])]
        regions: bool,
        /// Only these runs (comma-separated names, e.g. `a,c`).
        #[arg(long)]
        only: Option<String>,
        /// Time the empirical NTK Θ = JJᵀ instead (200 rows, 10 000 parameters).
        #[arg(long, conflicts_with_all = ["curvature", "only", "regions"])]
        ntk: bool,
        /// Time the app's frames instead: its UI headless at 1600×1000 (default workspace,
        /// the default session training at max speed) for --seconds after a 1 s warm-up, and
        /// the same session trained headless (half before, half after); prints JSON (frames,
        /// ms_per_frame_p50/p95 of the UI thread's CPU time for layout and tessellation,
        /// steps_per_sec, run_steps_per_sec).
        #[arg(long, conflicts_with_all = ["curvature", "only", "regions", "ntk"])]
        ui: bool,
    },
}

/// Run a headless command; Ok(exit code) or an error for the one-line message.
pub fn run(command: Command) -> Result<i32> {
    match command {
        // The window and the UI bench are the app's, above this module: `main` runs them.
        Command::Open { .. } | Command::Bench { ui: true, .. } => Ok(0),
        Command::Run {
            session,
            steps,
            out,
            metrics,
            eval_every,
            checkpoint_budget,
            stop,
        } => run_session(
            &session,
            steps,
            out.as_deref(),
            metrics.as_deref(),
            eval_every,
            checkpoint_budget,
            &stop,
        ),
        Command::Replay { session, args } => replay::replay(&session, &args),
        Command::Grad { session } => grad(&session),
        Command::Landscape {
            session,
            grid,
            dirs,
            radius,
            steps,
            lr,
            tiny_loss,
        } => {
            let v = landscape::landscape(
                &session,
                &landscape::LandscapeArgs {
                    grid,
                    dirs,
                    radius,
                    steps,
                    lr,
                    tiny_loss,
                },
            )?;
            print_json(&v);
            Ok(0)
        }
        Command::Hessian {
            session,
            method,
            k,
            density,
            gauss_newton,
            layer_shares,
        } => {
            let v = hessian::hessian(
                &session,
                hessian::HessianArgs {
                    method,
                    k,
                    density,
                    gauss_newton,
                    layer_shares,
                },
            )?;
            print_json(&v);
            Ok(0)
        }
        Command::Dynamics { session, args } => {
            print_json(&dynamics::dynamics(&session, &args)?);
            Ok(0)
        }
        Command::Export { session, args } => {
            print_json(&export::export_command(&session, &args)?);
            Ok(0)
        }
        Command::Regions { session, args } => {
            print_json(&regions::regions_command(&session, &args)?);
            Ok(0)
        }
        Command::Jacobian { session, args } => {
            print_json(&jacobian::jacobian_command(&session, &args)?);
            Ok(0)
        }
        Command::MinNorm { session, args } => {
            print_json(&regimes::min_norm_command(&session, &args)?);
            Ok(0)
        }
        Command::DoubleDescent { session, args } => {
            print_json(&regimes::double_descent_command(&session, &args)?);
            Ok(0)
        }
        Command::Lottery { session, args } => {
            print_json(&regimes::lottery_command(&session, &args)?);
            Ok(0)
        }
        Command::SpectralBias { session, args } => {
            print_json(&spectral_bias::spectral_bias_command(&session, &args)?);
            Ok(0)
        }
        Command::Stability { session, args } => {
            print_json(&stability::stability_command(&session, &args)?);
            Ok(0)
        }
        Command::Collapse { session, args } => {
            print_json(&collapse::collapse_command(&session, &args)?);
            Ok(0)
        }
        Command::Ntk { session, args } => {
            print_json(&ntk::ntk_command(&session, &args)?);
            Ok(0)
        }
        Command::Lessons { args } => lessons::lessons(&args),
        Command::Bench {
            json,
            seconds,
            curvature,
            only,
            regions,
            ntk,
            ui: false,
        } => {
            check_bench_seconds(seconds)?;
            if regions {
                bench::print_regions(json, seconds)?;
            } else if ntk {
                bench::print_ntk(json)?;
            } else if curvature {
                bench::print_curvature(json, only.as_deref())?;
            } else {
                bench::print(json, seconds, only.as_deref())?;
            }
            Ok(0)
        }
    }
}

/// `bench --seconds`: a positive time of at most an hour.
pub fn check_bench_seconds(seconds: f64) -> Result<()> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 {
        Ok(())
    } else {
        Err(Error::field("--seconds", "must be in (0, 3600]"))
    }
}

/// A usage error of the argument parser as one line: its first line without the "error: "
/// prefix, and where to read more.
pub fn usage_error_line(e: &clap::Error) -> String {
    // The message is its first paragraph (a list of missing arguments continues it on
    // indented lines); tips and the usage come after a blank line.
    let text = e.to_string();
    let para: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = para.join(" ");
    let msg = joined.strip_prefix("error: ").unwrap_or(&joined);
    format!("{msg} (see nnlab --help)")
}

fn print_json(v: &serde_json::Value) {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// JSON has no NaN: non-finite numbers become null.
fn num(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(x)
    } else {
        serde_json::Value::Null
    }
}

fn grad(path: &Path) -> Result<i32> {
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(session::display_name(path)))?;
    let (loss, g) = t.objective_and_gradient();
    // Streamed: a JSON value of 25M parameters would take gigabytes before a byte is written.
    let out = std::io::stdout().lock();
    write_grad_json(std::io::BufWriter::new(out), loss, &t.theta, &g)
        .map_err(|e| Error::new(format!("could not write the result: {e}")))?;
    Ok(0)
}

/// `{"loss", "params", "grad"}` laid out as `print_json` would, one number at a time.
fn write_grad_json(
    mut w: impl Write,
    loss: f64,
    params: &[f64],
    grad: &[f64],
) -> std::io::Result<()> {
    let number = |w: &mut dyn Write, x: f64| -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, &num(x)).map_err(std::io::Error::other)
    };
    write!(w, "{{\n  \"loss\": ")?;
    number(&mut w, loss)?;
    for (key, values, last) in [("params", params, false), ("grad", grad, true)] {
        write!(w, ",\n  \"{key}\": [")?;
        for (i, &x) in values.iter().enumerate() {
            write!(w, "{}\n    ", if i == 0 { "" } else { "," })?;
            number(&mut w, x)?;
        }
        write!(w, "{}]", if values.is_empty() { "" } else { "\n  " })?;
        if last {
            writeln!(w, "\n}}")?;
        }
    }
    w.flush()
}

/// One CSV row of the metric history.
fn csv_header(t: &Trainer) -> String {
    let mut h = String::from(
        "step,epoch,lr,batch_loss,grad_norm,train_loss,train_accuracy,test_loss,test_accuracy,train_rmse,train_r2,test_rmse,test_r2,mistakes",
    );
    for l in 1..=t.net.layers.len() {
        for k in [
            "grad_norm",
            "update_norm",
            "weight_norm",
            "act_mean",
            "act_std",
            "saturated",
            "dead",
        ] {
            h.push_str(&format!(",layer{l}_{k}"));
        }
    }
    h
}

fn csv_row(r: &StepReport, e: &Evaluation) -> String {
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    };
    let mut s = format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.step,
        r.epoch,
        f(r.lr),
        f(r.batch_loss),
        f(r.grad_norm),
        f(e.train_loss),
        f(e.train_accuracy),
        f(e.test_loss),
        f(e.test_accuracy),
        f(e.train_rmse),
        f(e.train_r2),
        f(e.test_rmse),
        f(e.test_r2),
        r.mistakes
    );
    for l in &r.layers {
        for v in [
            l.grad_norm,
            l.update_norm,
            l.weight_norm,
            l.act_mean,
            l.act_std,
            l.saturated,
            l.dead,
        ] {
            s.push(',');
            s.push_str(&f(v));
        }
    }
    s
}

/// Before a long run: `--out` and `--metrics` must be writable, must not be the same file,
/// and must not replace the session's own CSV data.
fn check_outputs(loaded: &Loaded, out: Option<&Path>, metrics: Option<&Path>) -> Result<()> {
    let same = session::files::same_file;
    if let (Some(o), Some(m)) = (out, metrics)
        && same(o, m)
    {
        return Err(Error::new(format!(
            "--out and --metrics name the same file ({}); give two different files",
            o.display()
        )));
    }
    let csv = loaded.session.data.csv_path();
    for (flag, p) in [("--out", out), ("--metrics", metrics)] {
        let Some(p) = p else { continue };
        if let Some(csv) = &csv
            && same(p, csv)
        {
            return Err(Error::new(format!(
                "{flag} {} is the session's own CSV data; writing it would destroy the data",
                p.display()
            )));
        }
        session::check_writable(p, flag)?;
    }
    Ok(())
}

/// Most steps of `run` (hours even for the smallest network).
pub const MAX_RUN_STEPS: u64 = 10_000_000_000;

/// Train a session headless: from its state when it has one (continuing its recording),
/// otherwise from step 0. `--out` writes the whole recording (format v2).
fn run_session(
    path: &Path,
    steps: u64,
    out: Option<&Path>,
    metrics: Option<&Path>,
    eval_every: Option<u64>,
    checkpoint_budget: Option<u64>,
    stop: &StopArgs,
) -> Result<i32> {
    if steps > MAX_RUN_STEPS {
        return Err(Error::field(
            "--steps",
            format!("must be at most {MAX_RUN_STEPS} (got {steps})"),
        ));
    }
    if eval_every == Some(0) {
        return Err(Error::field("--eval-every", "must be at least 1"));
    }
    // Without --metrics, evaluations only go into the session, at the last step by default.
    let eval_every = match (eval_every, metrics) {
        (Some(k), _) => Some(k),
        (None, Some(_)) => Some(1),
        (None, None) => None,
    };
    let name = session::display_name(path);
    let loaded: Loaded = session::load(path)?;
    check_outputs(&loaded, out, metrics)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let rule = stop.over(loaded.session.stop.clone().unwrap_or_default());
    rule.validate(
        loaded.test.rows(),
        loaded.train.task == crate::data::spec::Task::Classification,
    )?;
    let mut watch = StopWatch::new(rule, t.iterations_per_epoch() as u64);
    let mut stopped = None;
    if steps > crate::train::trainer::MAX_STEP - t.step {
        return Err(Error::field(
            "--steps",
            format!(
                "{steps} from step {} would pass the {} steps a run may count",
                t.step,
                crate::train::trainer::MAX_STEP
            ),
        ));
    }
    let mut rec = session::Recorder::resume(&loaded.session, &t);
    if let Some(b) = checkpoint_budget {
        if b > session::MAX_CHECKPOINT_BUDGET {
            return Err(Error::field(
                "--checkpoint-budget",
                format!(
                    "{b} is too large (at most {})",
                    session::MAX_CHECKPOINT_BUDGET
                ),
            ));
        }
        rec.budget = b;
    }
    let first_step = t.step;
    let mut csv = String::new();
    if metrics.is_some() {
        csv.push_str(&csv_header(&t));
        csv.push('\n');
    }
    let start = Instant::now();
    let mut last_print = Instant::now();
    let mut diverged_at = None;
    let mut last_eval = Evaluation::default();
    let mut evaluated_last = false;
    for i in 0..steps {
        let report = t.step();
        if out.is_some() {
            rec.record_step(&report, &t);
        }
        let last = i + 1 == steps;
        if report.diverged {
            diverged_at = Some(report.step);
        }
        let due = eval_every.is_some_and(|k| report.step.is_multiple_of(k));
        let stop_due = watch.evaluation_due(report.step);
        evaluated_last = false;
        let recorded = (metrics.is_some() || out.is_some()) && (due || last || report.diverged);
        if recorded || stop_due {
            last_eval = t.evaluate();
            evaluated_last = true;
        }
        if recorded {
            rec.record_evaluation(report.step, &last_eval);
            if metrics.is_some() {
                csv.push_str(&csv_row(&report, &last_eval));
                csv.push('\n');
            }
        }
        stopped = watch.check(
            report.step,
            report.epoch,
            evaluated_last.then_some(&last_eval),
        );
        if let Some(reason) = &stopped {
            eprintln!("{name}: {}", reason.describe());
            if !recorded && (metrics.is_some() || out.is_some()) {
                // The stopping step's evaluation goes into the recording like the last one.
                rec.record_evaluation(report.step, &last_eval);
                if metrics.is_some() {
                    csv.push_str(&csv_row(&report, &last_eval));
                    csv.push('\n');
                }
            }
            break;
        }
        if last_print.elapsed().as_secs_f64() > 1.0 {
            eprintln!(
                "{name}: step {} / {steps}, epoch {}, batch loss {:.6}",
                report.step, report.epoch, report.batch_loss
            );
            last_print = Instant::now();
        }
        if diverged_at.is_some() {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let eval = if evaluated_last {
        last_eval
    } else {
        t.evaluate()
    };
    if let Some(m) = metrics {
        session::write_atomic(m, csv.as_bytes())?;
    }
    if let Some(o) = out {
        if t.step == first_step {
            // No step taken (--steps 0): the evaluation belongs to this step all the same.
            rec.record_evaluation(t.step, &eval);
        }
        let mut s = loaded.session.clone();
        rec.write_into(&mut s, &t);
        session::save(o, &s)?;
    }
    let (train_set, test_set) = (t.train.clone(), t.test.clone());
    let train_confusion = crate::train::confusion(&mut t, &train_set);
    let test_confusion = crate::train::confusion(&mut t, &test_set).filter(|c| c.total() > 0);
    let summary = json!({
        "name": loaded.session.name,
        "network": t.net.describe(),
        "params": t.net.n_params,
        "steps": t.step,
        "epochs": t.epoch,
        "iterations_per_epoch": t.iterations_per_epoch(),
        "train_loss": num(eval.train_loss),
        "train_accuracy": num(eval.train_accuracy),
        "test_loss": num(eval.test_loss),
        "test_accuracy": num(eval.test_accuracy),
        "train_rmse": num(eval.train_rmse),
        "train_r2": num(eval.train_r2),
        "test_rmse": num(eval.test_rmse),
        "test_r2": num(eval.test_r2),
        "confusion_train": train_confusion.map(|c| c.rows()),
        "confusion_test": test_confusion.map(|c| c.rows()),
        "mistakes": t.mistakes,
        "novikoff_bound": t.novikoff.map(|b| b.bound),
        "diverged": diverged_at.is_some(),
        "stopped": stopped,
        "seconds": seconds,
        "steps_per_sec": (t.step - first_step) as f64 / seconds.max(1e-12),
        "first_step": first_step,
        "checkpoints": out.map(|_| rec.checkpoints.len()),
        "checkpoint_bytes": out.map(|_| rec.checkpoint_bytes()),
    });
    print_json(&summary);
    if let Some(s) = diverged_at {
        eprintln!(
            "{name}: training diverged at step {s} (the loss or a parameter is no longer finite); lower optimizer.lr"
        );
        return Ok(3);
    }
    Ok(0)
}

/// `nnlab run`'s stop conditions; each overrides the session's `stop` field of the same name.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct StopArgs {
    /// Stop once the training loss is at most this.
    #[arg(long)]
    pub stop_loss: Option<f64>,
    /// Stop once the training accuracy (a fraction, e.g. 0.99) is at least this.
    #[arg(long)]
    pub stop_accuracy: Option<f64>,
    /// Stop after this many epochs.
    #[arg(long)]
    pub stop_epochs: Option<u64>,
    /// Early stopping: stop when the test loss has not improved for this many checks.
    #[arg(long)]
    pub patience: Option<u64>,
    /// Steps between checks of the losses (default: one epoch).
    #[arg(long)]
    pub check_every: Option<u64>,
}

impl StopArgs {
    /// The session's rule with these flags laid over it.
    pub fn over(&self, mut rule: StopRule) -> StopRule {
        rule.train_loss = self.stop_loss.or(rule.train_loss);
        rule.train_accuracy = self.stop_accuracy.or(rule.train_accuracy);
        rule.epochs = self.stop_epochs.or(rule.epochs);
        rule.patience = self.patience.or(rule.patience);
        rule.check_every = self.check_every.or(rule.check_every);
        rule
    }
}
