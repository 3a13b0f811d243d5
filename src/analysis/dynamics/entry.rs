//! The one entry point of the dynamics analyses, shared by the app's Dynamics tile and
//! `nnlab dynamics`: a [`Request`] (what to run on which θ, every option spelled out) goes in,
//! a [`Report`] (the CLI prints it as JSON) comes out. The same request gives the same report,
//! bit for bit, whichever side built it.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::{
    Direction, EnergyReport, FlowComparison, FlowSweep, IndefiniteRule, InitStd, LyapunovReport,
    LyapunovSweepPoint, MAX_STEPS, NetObjective, NewtonOptions, NewtonReport, Objective,
    SignalReport, activation_std_by_init, flow_error_sweep, gd_vs_flow, lyapunov, momentum_energy,
    newton, signal_propagation,
};
use crate::analysis::hessian::{MAX_DENSE_PARAMS, hessian_problem, top_eigenpairs};
use crate::analysis::{Subject, check_cancel};
use crate::net::Rows;
use crate::net::spec::Init;
use crate::optim::{OptimizerKind, OptimizerSpec};

/// Which analysis (also `nnlab dynamics --kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
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
    /// Every kind, in the order the tile lists them.
    pub const ALL: [Kind; 5] = [
        Kind::Lyapunov,
        Kind::Flow,
        Kind::Energy,
        Kind::Signal,
        Kind::Newton,
    ];

    /// The name in the JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lyapunov => "lyapunov",
            Kind::Flow => "flow",
            Kind::Energy => "energy",
            Kind::Signal => "signal",
            Kind::Newton => "newton",
        }
    }
}

/// A learning rate: as given, or as a fraction of 2/λ_max at θ (the edge of stability of GD).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Eta {
    /// η = this fraction × 2/λ_max at θ.
    EdgeFraction(f64),
    /// η as given.
    Value(f64),
}

/// Where the Lyapunov twin run starts, relative to θ (also `nnlab dynamics --direction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Start {
    /// ε along the top Hessian eigenvector: λ_T then matches ln|1 − ηλ_max|.
    Top,
    /// ε along a random direction drawn from the seed.
    Random,
}

/// Multiples of 2/λ_max the Lyapunov sweep visits unless the request lists its η: around the
/// edge of stability, where the exponent changes sign.
pub const EDGE_SWEEP: [f64; 10] = [0.1, 0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2.0, 3.0];
/// Fractions of η the flow sweep visits unless the request lists them (those ≤ the sweep's
/// time): three halvings, enough for the log-log slope of the error.
pub const FLOW_SWEEP: [f64; 4] = [1.0, 0.5, 0.25, 0.125];
/// Most learning rates in a sweep.
pub const MAX_SWEEP: usize = 100;
/// Most RK4 sub-steps per GD step of the flow reference.
pub const MAX_SUBSTEPS: usize = 10_000;
/// Most initialisation seeds of the signal analysis.
pub const MAX_SEEDS: usize = 1000;

/// One dynamics analysis, everything it depends on spelled out.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// Which analysis.
    pub kind: Kind,
    /// The network, θ and rows it runs on.
    pub subject: Subject<'a>,
    /// The training step θ belongs to (reported back).
    pub step: u64,
    /// The network's initialiser and its scale (signal propagation redraws θ with them).
    pub init: Init,
    /// The initialiser's scale.
    pub init_scale: f64,
    /// Steps of the Lyapunov, flow and energy runs; Newton iterations.
    pub steps: usize,
    /// η of the Lyapunov, flow and energy runs.
    pub eta: Eta,
    /// Plain GD steps at `warmup_eta` from θ before the analysis (to approach a minimum).
    pub warmup: usize,
    /// η of the warm-up steps.
    pub warmup_eta: f64,
    /// Lyapunov: the initial separation ε and its direction.
    pub epsilon: f64,
    /// Where the twin run starts.
    pub start: Start,
    /// The sweep's learning rates (Lyapunov, flow); None: [`EDGE_SWEEP`] · 2/λ_max for
    /// Lyapunov, [`FLOW_SWEEP`] · η for the flow.
    pub etas: Option<Vec<f64>>,
    /// Flow: RK4 sub-steps per GD step of the reference, and the fixed time of the error
    /// sweep (None: steps · η).
    pub substeps: usize,
    /// Flow: the fixed time of the error sweep (None: steps · η).
    pub time: Option<f64>,
    /// Energy: heavy-ball μ ∈ [0, 1).
    pub momentum: f64,
    /// Signal: initialisation seeds (seed, seed + 1, …), training rows propagated (the first
    /// ones), and the std of the naive N(0, s²) initialiser of the forward comparison.
    pub seeds: usize,
    /// Signal: training rows propagated (the first ones).
    pub rows: usize,
    /// Signal: the std of the naive N(0, s²) initialiser of the forward comparison.
    pub naive_std: f64,
    /// Newton: damping λ ≥ 0, step scale α, treatment of an indefinite Hessian, halving α
    /// until J drops, and the η of the GD comparison (None: 1/λ_max at θ).
    pub damping: f64,
    /// Newton: the step scale α.
    pub alpha: f64,
    /// Newton: what to do where the Hessian is indefinite.
    pub rule: IndefiniteRule,
    /// Newton: halve α until J drops.
    pub line_search: bool,
    /// Newton: η of the GD comparison (None: 1/λ_max at θ).
    pub gd_eta: Option<f64>,
}

/// How far [`run`] is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    /// Warm-up steps done of all.
    Warmup {
        /// Steps taken.
        done: u64,
        /// Steps asked for.
        of: u64,
    },
    /// Evaluations of J (and ∇J) since the warm-up.
    Evaluations(u64),
}

/// The Lyapunov answer: the run at η, the linear prediction, the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct LyapunovResult {
    /// λ_max of the Hessian at θ (Lanczos) and the edge of stability 2/λ_max.
    pub lambda_max: f64,
    /// 2/λ_max.
    pub edge: f64,
    /// η of the run (also the report's `eta`).
    #[serde(skip)]
    pub eta: f64,
    /// ln|1 − ηλ_max|: the exponent of the linearised map along the top eigenvector.
    pub predicted: f64,
    /// The twin started along the top eigenvector (else a random direction).
    pub top_direction: bool,
    /// The twin run at η.
    pub run: LyapunovReport,
    /// The exponent at each η of the sweep.
    pub sweep: Vec<LyapunovSweepPoint>,
}

/// GD against the flow, and the error at a fixed time against η.
#[derive(Clone, Debug, Serialize)]
pub struct FlowResult {
    /// GD against the flow at η.
    pub run: FlowComparison,
    /// The error at the fixed time against η.
    pub sweep: FlowSweep,
}

/// The backward signal per layer, and the forward activation std per initialiser.
#[derive(Clone, Debug, Serialize)]
pub struct SignalResult {
    /// σ_w²χ per layer against the measured backward ratio.
    pub backward: SignalReport,
    /// The activation std per layer for each initialiser.
    pub forward_std_by_init: Vec<InitStd>,
}

/// The kind-specific part of a [`Report`].
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Output {
    /// `Kind::Lyapunov`.
    Lyapunov(Box<LyapunovResult>),
    /// `Kind::Flow`.
    Flow(Box<FlowResult>),
    /// `Kind::Energy`.
    Energy(Box<EnergyReport>),
    /// `Kind::Signal`.
    Signal(Box<SignalResult>),
    /// `Kind::Newton`.
    Newton(Box<NewtonReport>),
}

/// The answer to a request. As JSON: these fields, then the output's own.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Which analysis ran.
    pub kind: Kind,
    /// Parameters of the network.
    pub params: usize,
    /// The training step θ belongs to.
    pub step: u64,
    /// η of the Lyapunov, flow and energy runs (resolved when given against 2/λ_max).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    /// Warm-up steps taken.
    pub warmup: usize,
    /// J where the analysis starts (after the warm-up).
    pub start_loss: f64,
    /// Wall time of the run (not in the JSON: it differs from run to run).
    #[serde(skip)]
    pub seconds: f64,
    /// What the analysis found.
    #[serde(flatten)]
    pub output: Output,
}

fn positive(name: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{name} must be finite and positive (got {v})"))
    }
}

fn in_range(name: &str, v: usize, lo: usize, hi: usize) -> Result<(), String> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("{name} must be in {lo} … {hi} (got {v})"))
    }
}

/// Every option within its bounds, before any work.
fn validate(req: &Request) -> Result<(), String> {
    in_range("steps", req.steps, 1, MAX_STEPS)?;
    in_range("warm-up steps", req.warmup, 0, MAX_STEPS)?;
    if req.warmup > 0 {
        positive("the warm-up η", req.warmup_eta)?;
    }
    match req.eta {
        Eta::EdgeFraction(f) => positive("the fraction of 2/λ_max", f)?,
        Eta::Value(e) => positive("η", e)?,
    };
    positive("ε", req.epsilon)?;
    if let Some(etas) = &req.etas {
        if etas.is_empty() || etas.len() > MAX_SWEEP {
            return Err(format!(
                "the sweep must list 1 … {MAX_SWEEP} learning rates (got {})",
                etas.len()
            ));
        }
        for &e in etas {
            positive("each learning rate of the sweep", e)?;
        }
    }
    in_range("sub-steps", req.substeps, 1, MAX_SUBSTEPS)?;
    if let Some(t) = req.time {
        positive("the sweep's time", t)?;
    }
    if !(0.0..1.0).contains(&req.momentum) {
        return Err(format!("μ must be in [0, 1) (got {})", req.momentum));
    }
    in_range("seeds", req.seeds, 1, MAX_SEEDS)?;
    in_range("rows", req.rows, 1, crate::data::MAX_ROWS)?;
    positive("the naive initialiser's std", req.naive_std)?;
    if !(req.damping.is_finite() && req.damping >= 0.0) {
        return Err(format!(
            "the damping must be finite and ≥ 0 (got {})",
            req.damping
        ));
    }
    positive("α", req.alpha)?;
    if let Some(e) = req.gd_eta {
        positive("the GD η", e)?;
    }
    Ok(())
}

/// λ_max of the training objective's Hessian at θ and its eigenvector (Lanczos).
fn top_eigenpair(subject: &Subject, theta: &[f64]) -> Result<(f64, Vec<f64>), String> {
    let problem = hessian_problem(
        subject.net,
        theta,
        subject.train,
        subject.regularization.l2,
        false,
    );
    let top = top_eigenpairs(problem, 1, 300, 1e-8, subject.seed, &mut |_| {})?;
    let t = top
        .into_iter()
        .next()
        .ok_or("the Lanczos iteration found no eigenvalue")?;
    Ok((t.value, t.vector))
}

/// 2/λ_max, or why there is none.
fn edge(lambda_max: f64) -> Result<f64, String> {
    if lambda_max.is_finite() && lambda_max > 0.0 {
        Ok(2.0 / lambda_max)
    } else {
        Err(format!(
            "λ_max = {lambda_max} at θ: there is no positive curvature to set η against"
        ))
    }
}

/// η of the request, measuring λ_max at θ when it is given against the edge.
fn resolve_eta(req: &Request, theta: &[f64], lambda_max: Option<f64>) -> Result<f64, String> {
    match req.eta {
        Eta::Value(e) => Ok(e),
        Eta::EdgeFraction(f) => {
            let l = match lambda_max {
                Some(l) => l,
                None => top_eigenpair(&req.subject, theta)?.0,
            };
            edge(l)?;
            Ok(f * 2.0 / l)
        }
    }
}

/// Run one dynamics analysis on the calling thread. `progress` hears of the warm-up and of
/// the evaluations of J; `cancel` is looked at between the phases (the run, each η of a
/// sweep), and a cancelled run ends in `Err(CANCELLED)`.
pub fn run(
    req: &Request,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Report, String> {
    let start = Instant::now();
    validate(req)?;
    let s = &req.subject;
    s.check()?;
    let reg = s.regularization;
    let mut obj = NetObjective::new(s.net, s.rows(), reg.l1, reg.l2);
    let warmup = req.warmup as u64;
    obj.on_value = Some(Box::new(move |n| {
        progress(if n <= warmup {
            Progress::Warmup {
                done: n,
                of: warmup,
            }
        } else {
            Progress::Evaluations(n - warmup)
        })
    }));
    obj.check_memory("the analysis", 3, 0)?;
    check_cancel(cancel)?;

    // θ where the analysis starts: the request's, after the warm-up.
    let mut theta = s.theta.to_vec();
    if req.warmup > 0 {
        let mut g = vec![0.0; theta.len()];
        for _ in 0..req.warmup {
            obj.value(&theta, Some(&mut g));
            for (th, gi) in theta.iter_mut().zip(&g) {
                *th -= req.warmup_eta * gi;
            }
        }
        if theta.iter().any(|v| !v.is_finite()) {
            return Err("the warm-up diverged (θ is no longer finite); lower its η".into());
        }
        check_cancel(cancel)?;
    }
    let start_loss = obj.value(&theta, None);
    let mut eta = None;
    let output = match req.kind {
        Kind::Lyapunov => {
            let (lambda_max, v) = top_eigenpair(s, &theta)?;
            let e = resolve_eta(req, &theta, Some(lambda_max))?;
            eta = Some(e);
            let dir = match req.start {
                Start::Top => Direction::Given(v),
                Start::Random => Direction::Random(s.seed),
            };
            let etas = match &req.etas {
                Some(etas) => etas.clone(),
                None => {
                    edge(lambda_max)?;
                    EDGE_SWEEP.map(|f| f * 2.0 / lambda_max).to_vec()
                }
            };
            let spec = OptimizerSpec::new(OptimizerKind::Gd, e, 1);
            check_cancel(cancel)?;
            let run = lyapunov(&mut obj, &theta, &spec, req.steps, req.epsilon, &dir)?;
            let mut sweep = Vec::with_capacity(etas.len());
            for lr in etas {
                check_cancel(cancel)?;
                let r = lyapunov(
                    &mut obj,
                    &theta,
                    &OptimizerSpec { lr, ..spec.clone() },
                    req.steps,
                    req.epsilon,
                    &dir,
                )?;
                sweep.push(LyapunovSweepPoint {
                    eta: lr,
                    exponent: r.exponent,
                    steps_completed: r.steps_completed,
                    diverged: r.diverged,
                });
            }
            Output::Lyapunov(Box::new(LyapunovResult {
                lambda_max,
                edge: 2.0 / lambda_max,
                eta: e,
                predicted: (1.0 - e * lambda_max).abs().ln(),
                top_direction: req.start == Start::Top,
                run,
                sweep,
            }))
        }
        Kind::Flow => {
            let e = resolve_eta(req, &theta, None)?;
            eta = Some(e);
            let time = req.time.unwrap_or(req.steps as f64 * e);
            let etas = req.etas.clone().unwrap_or_else(|| {
                FLOW_SWEEP
                    .map(|f| f * e)
                    .into_iter()
                    .filter(|x| *x <= time)
                    .collect()
            });
            // Refuse a sweep that would run for ever before anything runs.
            let smallest = etas.iter().copied().fold(f64::INFINITY, f64::min);
            if time / smallest > MAX_STEPS as f64 {
                return Err(format!(
                    "the sweep's time {time} at η = {smallest} is {:.3e} GD steps, more than the {MAX_STEPS} allowed; lower the time or raise η",
                    time / smallest
                ));
            }
            let c = gd_vs_flow(&mut obj, &theta, e, req.steps, req.substeps)?;
            check_cancel(cancel)?;
            let sweep = flow_error_sweep(&mut obj, &theta, &etas, time, req.substeps)?;
            Output::Flow(Box::new(FlowResult { run: c, sweep }))
        }
        Kind::Energy => {
            let e = resolve_eta(req, &theta, None)?;
            eta = Some(e);
            Output::Energy(Box::new(momentum_energy(
                &mut obj,
                &theta,
                e,
                req.momentum,
                req.steps,
            )?))
        }
        Kind::Signal => {
            let m = req.rows.min(s.train.rows());
            let d = s.train.inputs;
            let all = s.rows();
            let sub = Rows {
                x: &all.x[..(m * d).min(all.x.len())],
                y: &all.y[..m],
                classes: all.classes,
            };
            let seeds: Vec<u64> = (0..req.seeds as u64)
                .map(|i| s.seed.wrapping_add(i))
                .collect();
            let backward = signal_propagation(s.net, req.init, req.init_scale, sub, &seeds)?;
            check_cancel(cancel)?;
            let forward_std_by_init =
                activation_std_by_init(s.net, sub.x, m, &seeds, req.naive_std)?;
            Output::Signal(Box::new(SignalResult {
                backward,
                forward_std_by_init,
            }))
        }
        Kind::Newton => {
            let p = s.net.n_params;
            if p > MAX_DENSE_PARAMS {
                return Err(format!(
                    "Newton needs the dense Hessian, limited to {MAX_DENSE_PARAMS} parameters; this network has {p}. Use a smaller network."
                ));
            }
            let opts = NewtonOptions {
                alpha: req.alpha,
                damping: req.damping,
                steps: req.steps,
                rule: req.rule,
                gd_eta: req.gd_eta,
                line_search: req.line_search,
            };
            Output::Newton(Box::new(newton(&mut obj, &theta, opts)?))
        }
    };
    Ok(Report {
        kind: req.kind,
        params: s.net.n_params,
        step: req.step,
        eta,
        warmup: req.warmup,
        start_loss,
        seconds: start.elapsed().as_secs_f64(),
        output,
    })
}
