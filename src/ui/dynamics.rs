//! The Dynamics panel's state and its helper thread: the library's analyses of training as a
//! dynamical system (`analysis::dynamics`) run on the current θ the worker hands out.
//!
//! - Lyapunov: twin GD runs started ε apart along the top Hessian eigenvector (or a random
//!   direction), λ_t against t next to the linear prediction ln|1 − ηλ_max|, and a sweep of η
//!   across 2/λ_max where the sign flips.
//! - Flow: GD against the RK4 gradient-flow reference, and the error at a fixed time against η.
//! - Energy: heavy-ball momentum's kinetic, potential and total energy.
//! - Signal: predicted σ_w²χ per layer against the measured gradient-norm ratio at init.
//! - Newton: (damped) Newton iterations against GD, dense Hessian, small networks only.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::analysis::dynamics::{
    Direction, EnergyReport, FlowComparison, FlowSweep, IndefiniteRule, LyapunovReport,
    LyapunovSweepPoint, NetObjective, NewtonOptions, NewtonReport, SignalReport, flow_error_sweep,
    gd_vs_flow, lyapunov, momentum_energy, newton, signal_propagation,
};
use crate::analysis::hessian::hessian_problem;
use crate::analysis::hessian::{MAX_DENSE_PARAMS, top_eigenpairs};
use crate::net::Rows;
use crate::net::spec::Init;
use crate::optim::{OptimizerKind, OptimizerSpec};
use crate::runtime::worker::ThetaPath;

use crate::runtime::JobThread;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lyapunov,
    Flow,
    Energy,
    Signal,
    Newton,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Lyapunov,
        Kind::Flow,
        Kind::Energy,
        Kind::Signal,
        Kind::Newton,
    ];
}

/// η of the Lyapunov run: as a multiple of 2/λ_max (measured at θ), or as given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Eta {
    EdgeFraction(f64),
    Value(f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub kind: Kind,
    /// Lyapunov η.
    pub lyap_eta: Eta,
    /// Start the twin along the top Hessian eigenvector (else a random direction).
    pub top_direction: bool,
    pub epsilon: f64,
    /// Steps of the Lyapunov, flow and energy runs.
    pub steps: usize,
    /// Flow and energy η.
    pub eta: f64,
    pub substeps: usize,
    pub momentum: f64,
    /// Newton iterations, damping λ, line search.
    pub newton_steps: usize,
    pub damping: f64,
    pub line_search: bool,
    /// Signal propagation: initialisation seeds and rows.
    pub seeds: usize,
    pub rows: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kind: Kind::Lyapunov,
            lyap_eta: Eta::EdgeFraction(0.8),
            top_direction: true,
            epsilon: 1e-8,
            steps: 40,
            eta: 0.1,
            substeps: 16,
            momentum: 0.9,
            newton_steps: 5,
            damping: 0.0,
            line_search: true,
            seeds: 4,
            rows: 256,
        }
    }
}

/// Multiples of 2/λ_max the Lyapunov sweep visits.
pub const SWEEP: [f64; 10] = [0.1, 0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2.0, 3.0];

#[derive(Clone, Debug)]
pub struct LyapunovResult {
    pub lambda_max: f64,
    pub eta: f64,
    /// ln|1 − ηλ_max|: the exponent of the linearised map along the top eigenvector.
    pub predicted: f64,
    pub top_direction: bool,
    pub run: LyapunovReport,
    pub sweep: Vec<LyapunovSweepPoint>,
}

#[derive(Clone, Debug)]
pub enum Output {
    Lyapunov(Box<LyapunovResult>),
    Flow(Box<(FlowComparison, FlowSweep)>),
    Energy(Box<EnergyReport>),
    Signal(Box<SignalReport>),
    Newton(Box<NewtonReport>),
}

#[derive(Clone, Debug)]
pub struct Answer {
    pub step: u64,
    pub params: usize,
    pub seconds: f64,
    pub output: Output,
}

pub struct Request {
    pub id: u64,
    pub settings: Settings,
    pub path: Arc<ThetaPath>,
    /// The network's initialiser (signal propagation redraws θ with it).
    pub init: Init,
    pub init_scale: f64,
}

pub enum DynamicsEvent {
    Done {
        id: u64,
        result: Result<Box<Answer>, String>,
    },
}

pub struct Dynamics {
    pub settings: Settings,
    pub id: u64,
    pub awaiting_theta: bool,
    pub computing: bool,
    pub last: Option<Box<Answer>>,
    pub error: Option<String>,
    /// The network's initialiser, set by the app when it asks.
    pub init: (Init, f64),
    thread: JobThread<Request, DynamicsEvent>,
}

impl Dynamics {
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Dynamics {
        Dynamics {
            settings: Settings::default(),
            id: 0,
            awaiting_theta: false,
            computing: false,
            last: None,
            error: None,
            init: (Init::XavierNormal, 1.0),
            thread: JobThread::spawn(
                "nnlab-dynamics",
                repaint,
                |req: Request, cancel, emit| {
                    let id = req.id;
                    let result = compute(&req, cancel).map(Box::new);
                    emit(DynamicsEvent::Done { id, result });
                },
                |msg| DynamicsEvent::Done {
                    id: u64::MAX,
                    result: Err(format!("the dynamics analysis failed: {msg}")),
                },
            ),
        }
    }

    /// Ask for a run; θ comes from the worker (`on_path`).
    pub fn request(&mut self) {
        self.id += 1;
        self.error = None;
        self.awaiting_theta = true;
        self.thread.cancel();
    }

    pub fn on_path(&mut self, path: Arc<ThetaPath>) {
        if !self.awaiting_theta {
            return;
        }
        self.awaiting_theta = false;
        self.computing = true;
        self.thread.submit(Request {
            id: self.id,
            settings: self.settings,
            path,
            init: self.init.0,
            init_scale: self.init.1,
        });
    }

    pub fn restart(&mut self) {
        self.id += 1;
        self.thread.cancel();
        self.awaiting_theta = false;
        self.computing = false;
        self.last = None;
        self.error = None;
    }

    pub fn busy(&self) -> bool {
        self.awaiting_theta || self.computing
    }

    pub fn drain(&mut self) {
        while let Some(DynamicsEvent::Done { id, result }) = self.thread.try_recv() {
            if id != self.id && id != u64::MAX {
                continue;
            }
            self.computing = false;
            match result {
                Ok(a) => {
                    self.last = Some(a);
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

/// λ_max of the training objective's Hessian at θ and its eigenvector (Lanczos).
pub fn top_eigenpair(path: &ThetaPath) -> Result<(f64, Vec<f64>), String> {
    let o = &path.objective;
    let problem = hessian_problem(&o.net, &path.theta, &o.train, path.regularization.l2, false);
    let top = top_eigenpairs(problem, 1, 300, 1e-8, path.seed, &mut |_| {})?;
    let t = top
        .into_iter()
        .next()
        .ok_or("the Lanczos iteration found no eigenvalue")?;
    if !(t.value.is_finite() && t.value > 0.0) {
        return Err(format!(
            "λ_max = {} at θ: there is no positive curvature to set η against",
            t.value
        ));
    }
    Ok((t.value, t.vector))
}

fn compute(req: &Request, _cancel: &AtomicBool) -> Result<Answer, String> {
    let start = Instant::now();
    let path = &req.path;
    let st = &req.settings;
    let o = &path.objective;
    let net = &o.net;
    let p = net.n_params;
    let theta = &path.theta;
    if theta.iter().any(|v| !v.is_finite()) {
        return Err("θ is not finite (training diverged): reset first".into());
    }
    let rows = Rows {
        x: &o.train.x,
        y: &o.train.y,
        classes: o.train.classes,
    };
    let reg = path.regularization;
    let mut obj = NetObjective::new(net, rows, reg.l1, reg.l2);
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(format!("{name} must be finite and positive (got {v})"))
        }
    };
    let output = match st.kind {
        Kind::Lyapunov => {
            let (lambda_max, v) = top_eigenpair(path)?;
            let eta = match st.lyap_eta {
                Eta::EdgeFraction(f) => positive("the fraction of 2/λ_max", f)? * 2.0 / lambda_max,
                Eta::Value(e) => positive("η", e)?,
            };
            let dir = if st.top_direction {
                Direction::Given(v)
            } else {
                Direction::Random(path.seed)
            };
            let spec = OptimizerSpec::new(OptimizerKind::Gd, eta, 1);
            let run = lyapunov(&mut obj, theta, &spec, st.steps, st.epsilon, &dir)?;
            let mut sweep = Vec::with_capacity(SWEEP.len());
            for f in SWEEP {
                let mut s = spec.clone();
                s.lr = f * 2.0 / lambda_max;
                let r = lyapunov(&mut obj, theta, &s, st.steps, st.epsilon, &dir)?;
                sweep.push(LyapunovSweepPoint {
                    eta: s.lr,
                    exponent: r.exponent,
                    steps_completed: r.steps_completed,
                    diverged: r.diverged,
                });
            }
            Output::Lyapunov(Box::new(LyapunovResult {
                lambda_max,
                eta,
                predicted: (1.0 - eta * lambda_max).abs().ln(),
                top_direction: st.top_direction,
                run,
                sweep,
            }))
        }
        Kind::Flow => {
            let eta = positive("η", st.eta)?;
            let c = gd_vs_flow(&mut obj, theta, eta, st.steps, st.substeps)?;
            let time = st.steps as f64 * eta;
            // Three η halvings: the sweep costs 7× the run; enough for the log-log slope.
            let etas: Vec<f64> = [1.0, 0.5, 0.25].iter().map(|f| f * eta).collect();
            let s = flow_error_sweep(&mut obj, theta, &etas, time, st.substeps)?;
            Output::Flow(Box::new((c, s)))
        }
        Kind::Energy => {
            let eta = positive("η", st.eta)?;
            Output::Energy(Box::new(momentum_energy(
                &mut obj,
                theta,
                eta,
                st.momentum,
                st.steps,
            )?))
        }
        Kind::Signal => {
            let m = st.rows.clamp(1, o.train.rows().max(1));
            let d = o.train.inputs;
            let sub = Rows {
                x: &rows.x[..(m * d).min(rows.x.len())],
                y: &rows.y[..m.min(rows.y.len())],
                classes: rows.classes,
            };
            let seeds: Vec<u64> = (0..st.seeds.max(1) as u64)
                .map(|i| path.seed.wrapping_add(i))
                .collect();
            Output::Signal(Box::new(signal_propagation(
                net,
                req.init,
                req.init_scale,
                sub,
                &seeds,
            )?))
        }
        Kind::Newton => {
            if p > MAX_DENSE_PARAMS {
                return Err(format!(
                    "Newton needs the dense Hessian, limited to {MAX_DENSE_PARAMS} parameters; this network has {p}. Use a smaller network."
                ));
            }
            let opts = NewtonOptions {
                alpha: 1.0,
                damping: st.damping,
                steps: st.newton_steps,
                rule: IndefiniteRule::SaddleFree,
                gd_eta: None,
                line_search: st.line_search,
            };
            Output::Newton(Box::new(newton(&mut obj, theta, opts)?))
        }
    };
    Ok(Answer {
        step: path.step,
        params: p,
        seconds: start.elapsed().as_secs_f64(),
        output,
    })
}
