//! The Dynamics panel's state and its helper thread: the library's analyses of training as a
//! dynamical system run on the current θ the worker hands out. [`request`] turns the tile's
//! settings into the request `analysis::dynamics::run` answers, the same entry point
//! `nnlab dynamics` calls.
//!
//! - Lyapunov: twin GD runs started ε apart along the top Hessian eigenvector (or a random
//!   direction), λ_t against t next to the linear prediction ln|1 − ηλ_max|, and a sweep of η
//!   across 2/λ_max where the sign flips.
//! - Flow: GD against the RK4 gradient-flow reference, and the error at a fixed time against η.
//! - Energy: heavy-ball momentum's kinetic, potential and total energy.
//! - Signal: predicted σ_w²χ per layer against the measured gradient-norm ratio at init.
//! - Newton: (damped) Newton iterations against GD, dense Hessian, small networks only.

use std::sync::Arc;

use crate::analysis::Subject;
use crate::analysis::dynamics::{EnergyStep, IndefiniteRule, Request, Start, run};
pub use crate::analysis::dynamics::{Eta, Kind, LyapunovResult, Output, Report as Answer};
use crate::net::spec::Init;
use crate::runtime::JobThread;
use crate::runtime::worker::ThetaPath;

/// The tile's controls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Which analysis: Lyapunov, gradient flow, energy, signal propagation or Newton.
    pub kind: Kind,
    /// Lyapunov η.
    pub lyap_eta: Eta,
    /// Start the twin along the top Hessian eigenvector (else a random direction).
    pub top_direction: bool,
    /// Lyapunov: the twins' initial separation ε (length of the offset in θ).
    pub epsilon: f64,
    /// Steps of the Lyapunov, flow and energy runs.
    pub steps: usize,
    /// Flow and energy η.
    pub eta: f64,
    /// Flow: RK4 sub-steps of the gradient-flow reference per GD step.
    pub substeps: usize,
    /// Energy: the heavy-ball momentum μ ∈ [0, 1).
    pub momentum: f64,
    /// Newton: the number of iterations.
    pub newton_steps: usize,
    /// Newton: damping λ ≥ 0 added to the Hessian's diagonal.
    pub damping: f64,
    /// Newton: halve the step (up to 30 times) until it lowers the objective.
    pub line_search: bool,
    /// Signal propagation: the number of initialisation seeds pooled (seed, seed + 1, …).
    pub seeds: usize,
    /// Signal propagation: how many training rows are propagated (the first ones).
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

/// Std of the naive N(0, s²) initialiser in signal propagation's forward comparison.
const NAIVE_STD: f64 = 0.01;

/// The request the tile runs with these settings on the θ the worker handed out, `init` being
/// the network's initialiser and scale: η of the Lyapunov run as the tile sets it (a fraction
/// of 2/λ_max), the sweeps' default learning rates, no warm-up.
pub fn request<'a>(settings: &Settings, path: &'a ThetaPath, init: (Init, f64)) -> Request<'a> {
    let st = settings;
    let o = &*path.objective;
    Request {
        kind: st.kind,
        subject: Subject {
            net: &o.net,
            train: &o.train,
            theta: &path.theta,
            regularization: path.regularization,
            seed: path.seed,
        },
        step: path.step,
        init: init.0,
        init_scale: init.1,
        steps: if st.kind == Kind::Newton {
            st.newton_steps
        } else {
            st.steps
        },
        eta: if st.kind == Kind::Lyapunov {
            st.lyap_eta
        } else {
            Eta::Value(st.eta)
        },
        warmup: 0,
        warmup_eta: st.eta,
        epsilon: st.epsilon,
        start: if st.top_direction {
            Start::Top
        } else {
            Start::Random
        },
        etas: None,
        substeps: st.substeps,
        time: None,
        momentum: st.momentum,
        seeds: st.seeds,
        rows: st.rows,
        naive_std: NAIVE_STD,
        damping: st.damping,
        alpha: 1.0,
        rule: IndefiniteRule::SaddleFree,
        line_search: st.line_search,
        gd_eta: None,
    }
}

/// A run the thread is asked for.
pub(crate) struct Job {
    /// The request's id (answers of older ids are dropped).
    pub id: u64,
    /// The tile's controls when it was requested.
    pub settings: Settings,
    /// θ, the objective and the seed the worker handed out.
    pub path: Arc<ThetaPath>,
    /// The network's initialiser and scale (signal propagation redraws θ with it).
    pub init: (Init, f64),
}

/// What the dynamics thread reports.
pub(crate) enum DynamicsEvent {
    /// A run finished: its answer or why it failed (id u64::MAX: the thread panicked).
    Done {
        /// Id of the request.
        id: u64,
        /// The analysis' answer, or its error in one line.
        result: Result<Box<Answer>, String>,
    },
}

/// The Dynamics tile's state: its controls, the newest request, the last answer or error, and the
/// thread running the analysis.
pub struct Dynamics {
    /// The tile's controls as last applied.
    pub settings: Settings,
    /// Id of the newest request; answers of older ones are dropped.
    pub id: u64,
    /// A request waits for θ from the worker.
    pub awaiting_theta: bool,
    /// The analysis is running on the thread.
    pub computing: bool,
    /// The last answer, drawn until a new one arrives.
    pub last: Option<Box<Answer>>,
    /// Why the last run failed, shown in the tile.
    pub error: Option<String>,
    /// The network's initialiser, set by the app when it asks.
    pub init: (Init, f64),
    thread: JobThread<Job, DynamicsEvent>,
}

impl Dynamics {
    /// The tile with default settings and its (idle) thread; `repaint` wakes the UI when an answer
    /// arrives.
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
                |job: Job, cancel, emit| {
                    let req = request(&job.settings, &job.path, job.init);
                    let result = run(&req, &mut |_| {}, cancel).map(Box::new);
                    emit(DynamicsEvent::Done { id: job.id, result });
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

    /// θ from the worker: run the waiting request (ignored if none waits).
    pub fn on_path(&mut self, path: Arc<ThetaPath>) {
        if !self.awaiting_theta {
            return;
        }
        self.awaiting_theta = false;
        self.computing = true;
        self.thread.submit(Job {
            id: self.id,
            settings: self.settings,
            path,
            init: self.init,
        });
    }

    /// A new experiment: cancel the running analysis and forget what is shown.
    pub fn restart(&mut self) {
        self.id += 1;
        self.thread.cancel();
        self.awaiting_theta = false;
        self.computing = false;
        self.last = None;
        self.error = None;
    }

    /// A request waits for θ or is running.
    pub fn busy(&self) -> bool {
        self.awaiting_theta || self.computing
    }

    /// Take the thread's answers (never blocks); an answer of an older request is dropped.
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

/// A CSV field: the number in Rust's shortest exact form, or empty where there is none (a
/// diverged run's ∞ or NaN).
fn field(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        String::new()
    }
}

/// The answer's data as CSV, one point a row: `series,x,y`, every series the tile plots
/// (what x and y are per series is said in the first line).
pub fn csv(a: &Answer) -> String {
    let mut rows: Vec<(&str, f64, f64)> = Vec::new();
    let about = match &a.output {
        Output::Lyapunov(r) => {
            rows.extend(
                r.run
                    .curve
                    .iter()
                    .enumerate()
                    .map(|(t, v)| ("exponent", (t + 1) as f64, *v)),
            );
            rows.extend(r.sweep.iter().map(|p| ("sweep", p.eta, p.exponent)));
            format!(
                "# lyapunov at step {}: exponent (x step, y λ_t), sweep (x η, y λ_T); λ_max {}, η {}, predicted ln|1 − ηλ_max| {}",
                a.step,
                field(r.lambda_max),
                field(r.eta),
                field(r.predicted)
            )
        }
        Output::Flow(b) => {
            let (c, s) = (&b.run, &b.sweep);
            for (name, ys) in [
                ("error", &c.error),
                ("loss_gd", &c.loss_gd),
                ("loss_flow", &c.loss_flow),
            ] {
                rows.extend(c.time.iter().zip(ys).map(|(t, y)| (name, *t, *y)));
            }
            rows.extend(s.points.iter().map(|p| ("sweep", p.eta, p.error)));
            format!(
                "# gradient flow at step {}: error ‖θ_GD − θ_flow‖, loss_gd, loss_flow (x time), sweep (x η, y error at time {}); η {}, slope {}",
                a.step,
                field(s.time),
                field(c.eta),
                field(s.slope)
            )
        }
        Output::Energy(r) => {
            let pick = |name, f: fn(&EnergyStep) -> f64| {
                r.steps.iter().map(move |e| (name, e.step as f64, f(e)))
            };
            rows.extend(pick("kinetic", |e| e.kinetic));
            rows.extend(pick("potential", |e| e.potential));
            rows.extend(pick("total", |e| e.total));
            format!(
                "# momentum energy at step {}: kinetic, potential, total (x step); η {}, μ {}",
                a.step,
                field(r.eta),
                field(r.momentum)
            )
        }
        Output::Signal(r) => {
            let layers = &r.backward.layers;
            rows.extend(
                layers
                    .iter()
                    .map(|l| ("predicted", l.layer as f64, l.predicted)),
            );
            rows.extend(
                layers
                    .iter()
                    .map(|l| ("measured", l.layer as f64, l.measured)),
            );
            format!(
                "# signal propagation at step {}: predicted σ_w²χ and measured gradient-norm ratio (x layer)",
                a.step
            )
        }
        Output::Newton(r) => {
            for (name, ys) in [("loss_newton", &r.loss_newton), ("loss_gd", &r.loss_gd)] {
                rows.extend(ys.iter().enumerate().map(|(k, y)| (name, k as f64, *y)));
            }
            format!(
                "# newton at step {}: loss_newton, loss_gd (x iteration); GD η {}",
                a.step,
                field(r.gd_eta)
            )
        }
    };
    let mut out = about;
    out.push_str("\nseries,x,y\n");
    for (series, x, y) in rows {
        out.push_str(&format!("{series},{},{}\n", field(x), field(y)));
    }
    out
}
