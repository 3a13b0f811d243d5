//! The Curvature panel's state: settings, the curvature thread's handle, and the history of
//! its answers. `logic` side only; `panels::curvature` draws it.
//!
//! θ samples come from the training worker (every k steps, or on "analyse now") through the
//! app's event loop, which keeps their order with resets and rebuilds: each of those starts a
//! new generation, and answers of an older one are dropped.

use std::sync::Arc;

use crate::train::curvature::{Analysis, CurvatureEvent, CurvatureWorker, Job, Sample};

use super::history::Series;

/// Points kept per series before every other one is dropped.
const MAX_POINTS: usize = 2000;

/// Which plot a small tile shows (an enlarged tile shows them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Spectrum,
    Lambda,
    Kappa,
    Negative,
    Vectors,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Spectrum,
        View::Lambda,
        View::Kappa,
        View::Negative,
        View::Vectors,
    ];
}

pub struct Curvature {
    pub on: bool,
    /// Analyse every this many steps.
    pub every: u64,
    pub gauss_newton: bool,
    /// Spectrum over log10|λ|, and λ against step on a log axis.
    pub log: bool,
    pub view: View,
    pub generation: u64,
    /// The step being analysed now.
    pub computing: Option<u64>,
    pub last: Option<Box<Analysis>>,
    pub error: Option<String>,
    pub lambda_max: Series,
    pub lambda_min: Series,
    /// −λ_min where λ_min < 0 (its log plot).
    pub minus_lambda_min: Series,
    /// 2/η at the analysed steps.
    pub edge: Series,
    pub kappa: Series,
    pub negatives: Series,
    /// Analyses finished in this generation.
    pub analysed: usize,
    worker: CurvatureWorker,
}

impl Curvature {
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
            kappa: Series::default(),
            negatives: Series::default(),
            analysed: 0,
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
        for s in self.series_mut() {
            *s = Series::default();
        }
    }

    fn series_mut(&mut self) -> [&mut Series; 6] {
        [
            &mut self.lambda_max,
            &mut self.lambda_min,
            &mut self.minus_lambda_min,
            &mut self.edge,
            &mut self.kappa,
            &mut self.negatives,
        ]
    }

    /// θ from the training worker (which sends it only when on or asked to): analyse it,
    /// replacing a sample still waiting.
    pub fn on_sample(&mut self, sample: Sample) {
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

    fn add(&mut self, a: &Analysis) {
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
        if a.lr > 0.0 {
            self.edge.push(x, 2.0 / a.lr);
        }
        self.kappa.push(x, a.condition_number);
        self.negatives.push(x, a.negative_count);
        if self.lambda_max.len() > MAX_POINTS {
            for s in self.series_mut() {
                s.thin_half();
            }
        }
    }
}
