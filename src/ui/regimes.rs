//! The Double descent tile's state and its helper thread: the closed-form test error of the
//! least-squares readout of p = 1 … 10n random features of the session's hidden layer
//! (`analysis::double_descent`), at ridge 0 (minimum norm) and at the slider's ridge.
//!
//! The sweep depends on the applied network, the seed and the data, not on training: it is
//! recomputed when one of those or the ridge changes, on its own thread (a 20-point sweep to
//! p = 200 takes a few milliseconds; 400 points to p = 4000 about a second).

use std::sync::Arc;
use std::time::Instant;

use crate::analysis::double_descent::{
    MAX_SWEEP_FEATURES, RandomFeatures, Sweep, optimal_ridge, ridge_grid, sweep,
};
use crate::data::Dataset;
use crate::net::Activation;
use crate::net::spec::{Loss, NetworkSpec};
use crate::runtime::latest::Latest;
use crate::session::Session;
use crate::ui::i18n::S;

/// Why the sweep does not apply to the applied session (a translated sentence), or None.
pub fn not_applicable(session: &Session, train: &Dataset, test: &Dataset) -> Option<S> {
    let layers = &session.network.layers;
    if layers.len() != 2 {
        return Some(S::DdNeedsOneHidden);
    }
    let out = &layers[1];
    if out.units != 1 || out.activation != Activation::Identity || session.loss != Loss::Mse {
        return Some(S::DdNeedsLinearReadout);
    }
    if layers.iter().any(|l| l.batch_norm || l.dropout > 0.0) {
        return Some(S::DdNeedsNoBatch);
    }
    if train.rows() == 0 || test.rows() == 0 {
        return Some(S::DdNeedsTest);
    }
    if train.rows() * 10 > MAX_SWEEP_FEATURES {
        return Some(S::DdTooManyRows);
    }
    None
}

/// The finished sweeps: test and training error of the least-squares readout against the
/// number of random features p.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Training rows n.
    pub rows: usize,
    /// The sweep at ridge 0 (the minimum-norm readout).
    pub min_norm: Sweep,
    /// The sweep at the slider's ridge (None when the ridge is off).
    pub ridged: Option<Sweep>,
    /// The ridge with the smallest test error at p = n − 1, and that error.
    pub optimal: (f64, f64),
    /// Wall time of the sweeps, in seconds.
    pub seconds: f64,
}

struct Request {
    network: NetworkSpec,
    seed: u64,
    ridge: f64,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
}

/// What the last request was made of (a new one is sent when any of it changes).
#[derive(Clone)]
struct Key {
    network: NetworkSpec,
    seed: u64,
    ridge: f64,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
}

impl Key {
    fn same(&self, other: &Key) -> bool {
        self.network == other.network
            && self.seed == other.seed
            && self.ridge.to_bits() == other.ridge.to_bits()
            && Arc::ptr_eq(&self.train, &other.train)
            && Arc::ptr_eq(&self.test, &other.test)
    }
}

/// The Double-descent tile's state: the ridge slider, the last sweep, and the thread computing it.
pub struct DoubleDescent {
    /// Ridge on (the slider applies) or off (minimum norm only).
    pub ridge_on: bool,
    /// log10 λ of the slider.
    pub log_ridge: f64,
    /// The last sweep (None while it does not apply or after a failure).
    pub last: Option<Arc<Answer>>,
    /// Why the last sweep failed, shown in the tile.
    pub error: Option<String>,
    requested: Option<Key>,
    jobs: Latest<Request, Box<Answer>>,
}

impl DoubleDescent {
    /// An answer is being computed.
    pub fn computing(&self) -> bool {
        self.jobs.computing()
    }

    /// The tile with the ridge off (slider at λ = 0.1) and its (idle) thread; `repaint` wakes the
    /// UI when a sweep is done.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> DoubleDescent {
        DoubleDescent {
            ridge_on: false,
            log_ridge: -1.0,
            last: None,
            error: None,
            requested: None,
            jobs: Latest::spawn(
                "nnlab-double-descent",
                repaint,
                "the double-descent sweep",
                |req: Request, cancelled| compute(&req, cancelled).map(Box::new),
            ),
        }
    }

    /// The ridge λ in force (0 when off).
    pub fn ridge(&self) -> f64 {
        if self.ridge_on {
            10f64.powf(self.log_ridge)
        } else {
            0.0
        }
    }

    /// Send a new sweep when the session, the data or the ridge changed.
    pub fn follow(&mut self, session: &Session, train: &Arc<Dataset>, test: &Arc<Dataset>) {
        if not_applicable(session, train, test).is_some() {
            self.requested = None;
            self.last = None;
            self.jobs.restart();
            return;
        }
        let key = Key {
            network: session.network.clone(),
            seed: session.seed,
            ridge: self.ridge(),
            train: train.clone(),
            test: test.clone(),
        };
        if self.requested.as_ref().is_some_and(|k| k.same(&key)) {
            return;
        }
        // Only the newest request's answer is taken.
        self.jobs.restart();
        self.jobs.submit(Request {
            network: key.network.clone(),
            seed: key.seed,
            ridge: key.ridge,
            train: key.train.clone(),
            test: key.test.clone(),
        });
        self.requested = Some(key);
    }

    /// Take the thread's answers (never blocks).
    pub fn drain(&mut self) {
        while let Some(result) = self.jobs.try_recv() {
            match result {
                Ok(a) => {
                    self.last = Some(Arc::from(a));
                    self.error = None;
                }
                Err(e) => {
                    self.last = None;
                    self.error = Some(e);
                }
            }
        }
    }

    /// The curves as CSV: p, test error at ridge 0, at the ridge (empty when off), training
    /// errors likewise.
    pub fn csv(&self) -> Option<String> {
        let a = self.last.as_ref()?;
        let mut out = String::from(
            "features,test_error_min_norm,train_error_min_norm,test_error_ridge,train_error_ridge,ridge\n",
        );
        for (i, p) in a.min_norm.points.iter().enumerate() {
            let (te, tr, l) = match &a.ridged {
                Some(r) => (
                    format!("{:?}", r.points[i].test_error),
                    format!("{:?}", r.points[i].train_error),
                    format!("{:?}", r.ridge),
                ),
                None => (String::new(), String::new(), String::new()),
            };
            out.push_str(&format!(
                "{},{:?},{:?},{te},{tr},{l}\n",
                p.features, p.test_error, p.train_error
            ));
        }
        Some(out)
    }
}

fn compute(req: &Request, cancel: &dyn Fn() -> bool) -> Result<Answer, String> {
    let start = Instant::now();
    let n = req.train.rows();
    let f = RandomFeatures::new(&req.network, req.seed, 10 * n, &req.train, &req.test)?;
    let (tr, te) = (f.train_rows(&req.train), f.test_rows(&req.test));
    let min_norm = sweep(tr, te, f.width, 0.0, cancel)?;
    let ridged = if req.ridge > 0.0 {
        Some(sweep(tr, te, f.width, req.ridge, cancel)?)
    } else {
        None
    };
    let optimal = optimal_ridge(tr, te, f.width, n.saturating_sub(1), &ridge_grid())?;
    Ok(Answer {
        rows: n,
        min_norm,
        ridged,
        optimal,
        seconds: start.elapsed().as_secs_f64(),
    })
}
