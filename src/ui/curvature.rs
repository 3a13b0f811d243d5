//! The Curvature panel's state: settings, the curvature thread's handle, and the history of
//! its answers. `logic` side only; `panels::curvature` draws it.
//!
//! θ samples come from the training worker (every k steps, or on "analyse now") through the
//! app's event loop, which keeps their order with resets and rebuilds: each of those starts a
//! new generation, and answers of an older one are dropped.

use std::sync::Arc;

use crate::analysis::curvature::{Job, Report, Sample, histogram_plot};
use crate::analysis::hessian::Method;
use crate::analysis::stability::Quantity;
use crate::runtime::curvature::{CurvatureEvent, CurvatureWorker};
use crate::session::Session;
use crate::session::analysis::SpectrumResult;

use super::history::Series;

/// Points kept per series before every other one is dropped.
const MAX_POINTS: usize = 2000;

/// Whole answers kept for the timeline before every other one is dropped.
const MAX_KEPT: usize = 256;

/// What the panel shows while the timeline is at a past step.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The timeline's step.
    pub at: u64,
    /// The stored spectrum nearest at or before `at` (None: there is none).
    pub shown: Option<Box<Report>>,
    /// `shown` was rebuilt from the recording's stored eigenvalues (no answer of this run
    /// had that step), so it has no layer shares and only those eigenvalues.
    pub stored_only: bool,
    /// What it was computed from: timeline step, recording, generation, answers kept.
    key: (u64, usize, u64, usize),
}

/// Which plot a small tile shows (an enlarged tile shows them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The eigenvalue density (histogram of the spectrum).
    Spectrum,
    /// λ_max and λ_min against step, with the optimiser's stability threshold.
    Lambda,
    /// The condition number κ = max|λ| / min|λ| against step.
    Kappa,
    /// The number of negative eigenvalues against step.
    Negative,
    /// How the top eigenvectors' weight splits across the layers.
    Vectors,
}

impl View {
    /// Every plot, in the order the tile's switch lists them.
    pub const ALL: [View; 5] = [
        View::Spectrum,
        View::Lambda,
        View::Kappa,
        View::Negative,
        View::Vectors,
    ];
}

/// The Curvature tile's state: its settings, the last answer, the curves of its numbers against
/// step, the answers kept for the timeline, and the curvature thread's handle.
pub struct Curvature {
    /// The analysis runs while training (every `every` steps); off, only Analyse now runs it.
    pub on: bool,
    /// Analyse every this many steps.
    pub every: u64,
    /// Analyse the Gauss–Newton matrix instead of the Hessian.
    pub gauss_newton: bool,
    /// Spectrum over log10|λ|, and λ against step on a log axis.
    pub log: bool,
    /// Which plot a small tile shows.
    pub view: View,
    /// Counts restarts; a sample or answer of an older generation is dropped.
    pub generation: u64,
    /// The step being analysed now.
    pub computing: Option<u64>,
    /// The latest answer of this generation.
    pub last: Option<Box<Report>>,
    /// Why the last analysis failed, shown in the tile.
    pub error: Option<String>,
    /// λ_max, the largest eigenvalue, against step.
    pub lambda_max: Series,
    /// λ_min, the smallest eigenvalue, against step.
    pub lambda_min: Series,
    /// −λ_min where λ_min < 0 (its log plot).
    pub minus_lambda_min: Series,
    /// The optimiser's stability threshold (2/η, (2+2μ)/η, …) at the analysed steps.
    pub edge: Series,
    /// λ_max(P⁻¹H) at the analysed steps (Adam, RMSprop, AdaGrad).
    pub preconditioned: Series,
    /// The condition number κ against step.
    pub kappa: Series,
    /// The number of negative eigenvalues against step (exact when dense, estimated by Lanczos).
    pub negatives: Series,
    /// Analyses finished in this generation.
    pub analysed: usize,
    /// This generation's answers, one per step (thinned past `MAX_KEPT`), for the timeline.
    pub kept: Vec<Box<Report>>,
    /// Set while the timeline shows a past step (None: live, `last` is shown).
    pub replayed: Option<Replayed>,
    worker: CurvatureWorker,
}

impl Curvature {
    /// A result not yet in the recording, as the spectrum to store (its top eigenvalues and
    /// λ_min, which is what the curvature thread hands back); `recorded` is the (generation,
    /// step) stored last, updated here.
    pub fn new_record(
        &self,
        recorded: &mut Option<(u64, u64)>,
    ) -> Option<crate::session::analysis::Analysis> {
        let a = self.last.as_ref()?;
        let key = (self.generation, a.step);
        if *recorded == Some(key) {
            return None;
        }
        *recorded = Some(key);
        let mut eigenvalues = a.top_values.clone();
        eigenvalues.push(a.lambda_min);
        eigenvalues.sort_by(f64::total_cmp);
        eigenvalues.dedup();
        let r = SpectrumResult {
            method: match a.method {
                Method::Dense => "dense".into(),
                Method::Lanczos => "lanczos".into(),
            },
            gauss_newton: a.gauss_newton,
            eigenvalues,
        };
        crate::session::analysis::Analysis::spectrum(a.step, &r).ok()
    }

    /// The tile, off, analysing every 50 steps once turned on, with its (idle) curvature thread;
    /// `repaint` wakes the UI when an answer arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Curvature {
        Curvature {
            on: false,
            every: 50,
            gauss_newton: false,
            log: true,
            view: View::Spectrum,
            generation: 0,
            computing: None,
            last: None,
            error: None,
            lambda_max: Series::default(),
            lambda_min: Series::default(),
            minus_lambda_min: Series::default(),
            edge: Series::default(),
            preconditioned: Series::default(),
            kappa: Series::default(),
            negatives: Series::default(),
            analysed: 0,
            kept: Vec::new(),
            replayed: None,
            worker: CurvatureWorker::spawn(repaint),
        }
    }

    /// A new experiment (rebuild, reset) or a new matrix (Hessian ↔ Gauss–Newton): forget
    /// the answers so far and ignore those still on their way.
    pub fn restart(&mut self) {
        self.generation += 1;
        self.worker.cancel();
        self.computing = None;
        self.last = None;
        self.error = None;
        self.analysed = 0;
        self.kept.clear();
        self.replayed = None;
        for s in self.series_mut() {
            *s = Series::default();
        }
    }

    fn series_mut(&mut self) -> [&mut Series; 7] {
        [
            &mut self.lambda_max,
            &mut self.lambda_min,
            &mut self.minus_lambda_min,
            &mut self.edge,
            &mut self.preconditioned,
            &mut self.kappa,
            &mut self.negatives,
        ]
    }

    /// θ from the training worker (which sends it only when on or asked to): analyse it,
    /// replacing a sample still waiting.
    pub(crate) fn on_sample(&mut self, sample: Sample) {
        self.worker.submit(Job {
            sample,
            generation: self.generation,
            gauss_newton: self.gauss_newton,
        });
    }

    /// Take the curvature thread's answers (never blocks).
    pub fn drain(&mut self) {
        while let Some(e) = self.worker.try_recv() {
            match e {
                CurvatureEvent::Started { generation, step } if generation == self.generation => {
                    self.computing = Some(step);
                }
                CurvatureEvent::Done {
                    generation,
                    step,
                    result,
                } if generation == self.generation => {
                    if self.computing == Some(step) {
                        self.computing = None;
                    }
                    match result {
                        Ok(a) => {
                            self.add(&a);
                            self.keep(&a);
                            self.error = None;
                            self.last = Some(a);
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                _ => {}
            }
        }
    }

    fn add(&mut self, a: &Report) {
        let x = a.step as f64;
        // "Analyse now" twice at one step: one point per step in the plots.
        if self
            .lambda_max
            .points(false)
            .last()
            .is_some_and(|p| p.x >= x)
        {
            return;
        }
        self.analysed += 1;
        self.lambda_max.push(x, a.lambda_max);
        self.lambda_min.push(x, a.lambda_min);
        self.minus_lambda_min.push(x, -a.lambda_min);
        match &a.stability {
            // The optimiser's own threshold, and its preconditioned sharpness if it has one.
            Some(Ok(r)) => {
                if let Some(t) = r.edge.threshold {
                    self.edge.push(x, t);
                }
                if r.edge.quantity == Quantity::Preconditioned
                    && let Some(v) = r.value
                {
                    self.preconditioned.push(x, v);
                }
            }
            Some(Err(_)) => {}
            // The optimiser is not known: plain GD's edge.
            None if a.lr > 0.0 => self.edge.push(x, 2.0 / a.lr),
            None => {}
        }
        self.kappa.push(x, a.condition_number);
        self.negatives.push(x, a.negative_count);
        if self.lambda_max.len() > MAX_POINTS {
            for s in self.series_mut() {
                s.thin_half();
            }
        }
    }

    /// Keep a whole answer for the timeline (a second answer at one step replaces the first).
    fn keep(&mut self, a: &Report) {
        match self.kept.last_mut() {
            Some(k) if k.step == a.step => **k = a.clone(),
            Some(k) if k.step > a.step => {}
            _ => self.kept.push(Box::new(a.clone())),
        }
        if self.kept.len() > MAX_KEPT {
            // Every other one goes, the newest stays.
            let n = self.kept.len();
            let mut i = 0;
            self.kept.retain(|_| {
                i += 1;
                (n - i).is_multiple_of(2)
            });
        }
    }

    /// The analysis the panel shows: the replayed step's stored one, or the latest.
    pub fn shown(&self) -> Option<&Report> {
        match &self.replayed {
            Some(r) => r.shown.as_deref(),
            None => self.last.as_deref(),
        }
    }

    /// Follow the timeline: at step `at` (None: live), show the stored spectrum nearest at or
    /// before it, from this run's answers or the recording's stored spectra, whichever is
    /// later (an answer of this run at the same step wins: it has the layer shares). Cheap when
    /// nothing changed since the last frame.
    pub fn follow(&mut self, at: Option<u64>, recording: Option<&Arc<crate::session::Loaded>>) {
        let Some(at) = at else {
            self.replayed = None;
            return;
        };
        let key = (
            at,
            recording.map_or(0, |r| Arc::as_ptr(r) as usize),
            self.generation,
            self.kept.len() + self.kept.last().map_or(0, |k| k.step as usize),
        );
        if self.replayed.as_ref().is_some_and(|r| r.key == key) {
            return;
        }
        let kept = self.kept.iter().rev().find(|k| k.step <= at);
        let stored = recording.and_then(|r| stored_at(&r.session, at));
        let (shown, stored_only) = match (kept, stored) {
            (Some(k), Some((step, _))) if k.step >= step => (Some(k.clone()), false),
            (_, Some((step, r))) => (Some(Box::new(from_stored(step, &r))), true),
            (Some(k), None) => (Some(k.clone()), false),
            (None, None) => (None, false),
        };
        self.replayed = Some(Replayed {
            at,
            shown,
            stored_only,
            key,
        });
    }
}

/// The recording's stored spectrum nearest at or before `at`.
fn stored_at(s: &Session, at: u64) -> Option<(u64, SpectrumResult)> {
    s.analyses
        .iter()
        .filter(|a| a.kind == "spectrum" && a.step <= at)
        .max_by_key(|a| a.step)
        .and_then(|a| Some((a.step, a.as_spectrum()?)))
        .filter(|(_, r)| !r.eigenvalues.is_empty())
}

/// A panel answer made of stored eigenvalues only: what they fix (λ_max, λ_min, κ, their
/// histogram) is filled in; what they may not (κ, trace, negative count, time, η, the layer
/// shares: the app stores only the top eigenvalues and λ_min) is left NaN or empty, and the
/// panel says so.
fn from_stored(step: u64, r: &SpectrumResult) -> Report {
    let mut eigs: Vec<f64> = r
        .eigenvalues
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    eigs.sort_by(f64::total_cmp);
    let lambda_max = eigs.last().copied().unwrap_or(f64::NAN);
    let lambda_min = eigs.first().copied().unwrap_or(f64::NAN);
    let mut top_values: Vec<f64> = eigs.iter().rev().take(5).copied().collect();
    // λ_min is listed apart; the tail of a short list is it.
    if top_values.len() == eigs.len() && top_values.len() > 1 {
        top_values.pop();
    }
    Report {
        step,
        lr: 0.0,
        params: eigs.len(),
        method: if r.method == "dense" {
            Method::Dense
        } else {
            Method::Lanczos
        },
        gauss_newton: r.gauss_newton,
        seconds: f64::NAN,
        stability: None,
        lambda_max,
        lambda_min,
        negative_count: f64::NAN,
        negative_fraction: f64::NAN,
        condition_number: f64::NAN,
        trace: f64::NAN,
        trace_stderr: None,
        residuals: None,
        density: None,
        hessian_vector_products: 0,
        top_values,
        shares: Vec::new(),
        spectrum: histogram_plot(&eigs),
        eigenvalues: eigs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::analysis::{Analysis as Stored, LandscapeResult};

    fn spectrum(step: u64, eigenvalues: Vec<f64>) -> Stored {
        let r = SpectrumResult {
            method: "dense".into(),
            gauss_newton: false,
            eigenvalues,
        };
        Stored::spectrum(step, &r).unwrap()
    }

    fn session(analyses: Vec<Stored>) -> Session {
        let text = r#"{"nnlab": 2, "data": {"source": "xor"},
            "network": {"inputs": 2, "layers": [{"units": 1, "activation": "sigmoid"}]},
            "loss": "bce", "optimizer": {"kind": "sgd", "lr": 0.1}}"#;
        let mut s = crate::session::parse(text).unwrap();
        s.analyses = analyses;
        s
    }

    #[test]
    fn the_stored_spectrum_is_the_nearest_at_or_before_the_step() {
        let land = LandscapeResult {
            directions: "random".into(),
            grid: 1,
            radius: 1.0,
            values: vec![0.5],
            a: Vec::new(),
            b: Vec::new(),
        };
        let s = session(vec![
            spectrum(10, vec![-1.0, 2.0]),
            Stored::landscape(15, &land).unwrap(),
            spectrum(20, vec![3.0, 5.0]),
        ]);
        assert!(stored_at(&s, 9).is_none());
        assert_eq!(stored_at(&s, 10).unwrap().0, 10);
        // The landscape at 15 is not a spectrum.
        assert_eq!(stored_at(&s, 19).unwrap().0, 10);
        assert_eq!(stored_at(&s, 20).unwrap().1.eigenvalues, vec![3.0, 5.0]);
        assert_eq!(stored_at(&s, 1000).unwrap().0, 20);
    }

    #[test]
    fn a_stored_spectrum_fills_in_only_what_its_eigenvalues_fix() {
        let r = SpectrumResult {
            method: "lanczos".into(),
            gauss_newton: true,
            eigenvalues: vec![4.0, -0.5, 9.0, 1.0],
        };
        let a = from_stored(7, &r);
        assert_eq!((a.step, a.lambda_max, a.lambda_min), (7, 9.0, -0.5));
        assert_eq!(a.top_values, vec![9.0, 4.0, 1.0]);
        assert!(a.gauss_newton && a.method == Method::Lanczos);
        assert!(a.condition_number.is_nan() && a.negative_count.is_nan() && a.trace.is_nan());
        assert!(a.shares.is_empty());
    }
}
