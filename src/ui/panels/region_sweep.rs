//! The Geometry tile's depth/width sweep of linear regions (THEORY row 4, issue 15 §1): on a
//! button, the session's network is rebuilt at several depths (hidden layers as wide as its
//! first) and several widths (every hidden layer's units), each trained from a few seeds as the
//! live run is configured and its exact regions counted over the decision map's box — what
//! `nnlab regions --sweep depth|width` prints. Regions against depth and against width on log
//! axes, each point the mean over the seeds with its min–max bar; the hidden units of each
//! architecture are written beside it, so depth and width can be compared at equal units.
//!
//! It runs on its own thread with a progress line and can be cancelled; the answer is kept
//! until the network changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use eframe::egui;
use egui_plot::{Line, Plot, PlotPoints, Points, Text};

use crate::analysis::region_sweep::{self, Sweep, SweepRow};
use crate::analysis::regions::{InputBox, regions};
use crate::data::Dataset;
use crate::runtime::JobThread;
use crate::session::Session;
use crate::train::Trainer;
use crate::ui::command::Command;
use crate::ui::i18n::{Lang, S};
use crate::ui::theme;
use crate::ui::view::ViewCtx;

use super::plots::log_ticks;

/// Most initialisations the tile offers per architecture.
pub const MAX_INITS: usize = 20;
/// Most training steps the tile offers per run.
pub const MAX_STEPS: u64 = 20_000;

/// What the sweep is run on.
pub(crate) struct Request {
    id: u64,
    /// The session as the worker runs it (network, loss, optimiser, seed).
    pub session: Session,
    /// The training rows.
    pub train: Arc<Dataset>,
    /// The test rows.
    pub test: Arc<Dataset>,
    /// The input box the regions are counted over (the Geometry tile's).
    pub bounds: InputBox,
    /// Training steps of each run.
    pub steps: u64,
    /// Seeds per architecture.
    pub inits: usize,
}

/// The counts of both sweeps.
#[derive(Clone, Debug)]
pub struct SweepAnswer {
    /// The depth sweep's rows, in the order of `region_sweep::default_values`.
    pub depth: Vec<SweepRow>,
    /// The width sweep's rows, the same way.
    pub width: Vec<SweepRow>,
    /// Training steps of each run.
    pub steps: u64,
    /// Seeds per architecture.
    pub inits: usize,
    /// Time both sweeps took.
    pub seconds: f64,
}

/// What the sweep's thread reports for request `id`.
pub(crate) enum SweepEvent {
    /// Architectures × initialisations counted so far, of all.
    Progress { id: u64, done: usize, all: usize },
    /// Both sweeps, or why they failed.
    Done {
        id: u64,
        result: Result<Box<SweepAnswer>, String>,
    },
}

/// Both sweeps, each architecture trained `steps` steps from `inits` seeds (the session's,
/// +1, …) and counted over `bounds`, exactly as `nnlab regions --sweep` does; None when
/// cancelled.
pub(crate) fn run(
    req: &Request,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<SweepAnswer>, String> {
    let start = Instant::now();
    let plans: Vec<(Sweep, Vec<usize>)> = [Sweep::Depth, Sweep::Width]
        .into_iter()
        .map(|s| (s, region_sweep::default_values(s)))
        .collect();
    let all = plans.iter().map(|(_, v)| v.len()).sum::<usize>() * req.inits;
    let mut done = 0;
    let mut out: Vec<Vec<SweepRow>> = Vec::new();
    for (sweep, values) in &plans {
        let specs = region_sweep::architectures(&req.session.network, *sweep, values)
            .map_err(|e| e.message)?;
        let mut rows = Vec::with_capacity(specs.len());
        for (spec, v) in specs.iter().zip(values) {
            let label = match sweep {
                Sweep::Depth => format!("depth {v}"),
                Sweep::Width => format!("width {v}"),
            };
            let mut counts = Vec::with_capacity(req.inits);
            for i in 0..req.inits as u64 {
                if cancel.load(Ordering::Relaxed) {
                    return Ok(None);
                }
                let mut config = req.session.trainer_config();
                config.network = spec.clone();
                config.seed = req.session.seed.wrapping_add(i);
                let mut t = Trainer::new(&config, (*req.train).clone(), (*req.test).clone(), None)
                    .map_err(|e| format!("{label}: {}", e.message))?;
                t.collect_stats = false;
                for _ in 0..req.steps {
                    if t.step().diverged {
                        return Err(format!(
                            "{label}, seed {}: training diverged; lower the learning rate",
                            config.seed
                        ));
                    }
                }
                let bn = t.train_bn_stats();
                let r = regions(&t.net, &t.theta, bn.as_ref(), req.bounds)
                    .map_err(|e| format!("{label}: {}", e.message))?;
                counts.push(r.regions.len());
                done += 1;
                progress(done, all);
            }
            rows.push(region_sweep::row(spec, counts));
        }
        out.push(rows);
    }
    let width = out.pop().unwrap_or_default();
    let depth = out.pop().unwrap_or_default();
    Ok(Some(SweepAnswer {
        depth,
        width,
        steps: req.steps,
        inits: req.inits,
        seconds: start.elapsed().as_secs_f64(),
    }))
}

/// The sweep's state: shown or not, its settings, its thread and its answer.
pub struct RegionSweep {
    /// The sweep is shown in place of the regions picture.
    pub open: bool,
    /// Training steps of each run.
    pub steps: u64,
    /// Seeds per architecture.
    pub inits: usize,
    /// The sweep is on the thread.
    pub running: bool,
    /// Runs counted so far, of all.
    pub progress: (usize, usize),
    /// The counts drawn.
    pub answer: Option<Box<SweepAnswer>>,
    /// Why the last sweep failed.
    pub error: Option<String>,
    id: u64,
    thread: JobThread<Request, SweepEvent>,
}

impl RegionSweep {
    /// Closed, nothing run; `repaint` wakes the UI as counts arrive.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> RegionSweep {
        RegionSweep {
            open: false,
            steps: 0,
            inits: 3,
            running: false,
            progress: (0, 0),
            answer: None,
            error: None,
            id: 0,
            thread: JobThread::spawn(
                "nnlab-region-sweep",
                repaint,
                |req: Request, cancel, emit| {
                    let id = req.id;
                    let result = run(&req, cancel, &mut |done, all| {
                        emit(SweepEvent::Progress { id, done, all })
                    });
                    match result {
                        Ok(None) => {}
                        Ok(Some(a)) => emit(SweepEvent::Done {
                            id,
                            result: Ok(Box::new(a)),
                        }),
                        Err(e) => emit(SweepEvent::Done { id, result: Err(e) }),
                    }
                },
                |msg| SweepEvent::Done {
                    id: u64::MAX,
                    result: Err(format!("the sweep failed: {msg}")),
                },
            ),
        }
    }

    /// Start a sweep of `session`'s network (the running one is cancelled).
    pub fn start(
        &mut self,
        session: &Session,
        data: (&Arc<Dataset>, &Arc<Dataset>),
        bounds: InputBox,
    ) {
        self.id += 1;
        self.running = true;
        self.progress = (0, 0);
        self.error = None;
        self.thread.submit(Request {
            id: self.id,
            session: session.clone(),
            train: data.0.clone(),
            test: data.1.clone(),
            bounds,
            steps: self.steps,
            inits: self.inits,
        });
    }

    /// Stop the sweep on the thread; its answers are dropped.
    pub fn cancel(&mut self) {
        self.id += 1;
        self.thread.cancel();
        self.running = false;
    }

    /// A new network: its sweep is another one.
    pub fn restart(&mut self) {
        self.cancel();
        self.answer = None;
        self.error = None;
    }

    /// Take the thread's progress and answer for the current request.
    pub fn drain(&mut self) {
        while let Some(ev) = self.thread.try_recv() {
            match ev {
                SweepEvent::Progress { id, done, all } if id == self.id => {
                    self.progress = (done, all)
                }
                SweepEvent::Progress { .. } => {}
                SweepEvent::Done { id, result } if id == self.id || id == u64::MAX => {
                    self.running = false;
                    match result {
                        Ok(a) => {
                            self.answer = Some(a);
                            self.error = None;
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                SweepEvent::Done { .. } => {}
            }
        }
    }

    /// The sweep as CSV (None unless shown with an answer): one row per architecture.
    pub fn csv(&self) -> Option<String> {
        let a = self.answer.as_ref().filter(|_| self.open)?;
        let mut out = format!(
            "# {} training steps, {} initialisations per architecture\nsweep,depth,width,units,mean,min,max,counts\n",
            a.steps, a.inits
        );
        for (name, rows) in [("depth", &a.depth), ("width", &a.width)] {
            for r in rows {
                let counts: Vec<String> = r.regions.iter().map(|c| c.to_string()).collect();
                out.push_str(&format!(
                    "{name},{},{},{},{:?},{},{},{}\n",
                    r.depth,
                    r.width,
                    r.units,
                    r.mean,
                    r.min,
                    r.max,
                    counts.join(" ")
                ));
            }
        }
        Some(out)
    }
}

/// The sweep's button row, and the sweep itself when it is open. Returns whether it drew the
/// sweep (then the regions picture is not drawn). `bounds` is the box of the live partition.
pub fn ui(view: &mut RegionSweep, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, bounds: InputBox) -> bool {
    let lang = ctx.lang();
    let session = &ctx.lab.applied;
    let data = (&ctx.lab.train, &ctx.lab.test);
    ui.horizontal_wrapped(|ui| {
        if ui
            .selectable_label(view.open, lang.t(S::SweepButton))
            .on_hover_text(lang.t(S::SweepHint))
            .clicked()
        {
            view.open = !view.open;
            if view.open && view.answer.is_none() && !view.running {
                view.start(session, data, bounds);
            }
        }
        if !view.open {
            return;
        }
        // Edited as copies and sent as one command (what the tests send too).
        let (mut steps, mut inits) = (view.steps, view.inits);
        ui.label(lang.t(S::SweepSteps));
        ui.add(
            egui::DragValue::new(&mut steps)
                .range(0..=MAX_STEPS)
                .speed(10.0),
        )
        .accessible_name(lang.t(S::SweepSteps));
        ui.label(lang.t(S::SweepInits));
        ui.add(egui::DragValue::new(&mut inits).range(1..=MAX_INITS))
            .accessible_name(lang.t(S::SweepInits));
        if (steps, inits) != (view.steps, view.inits) {
            ctx.send(Command::SetRegionSweep { steps, inits });
        }
        if view.running {
            ui.spinner();
            ui.label(format!("{}/{}", view.progress.0, view.progress.1));
            if ui.button(lang.t(S::SweepCancel)).clicked() {
                view.cancel();
            }
        } else if ui.button(lang.t(S::SweepRun)).clicked() {
            view.start(session, data, bounds);
        }
    });
    if !view.open {
        return false;
    }
    if let Some(e) = &view.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
    }
    let Some(a) = view.answer.as_ref() else {
        if !view.running {
            ui.label(egui::RichText::new(lang.t(S::SweepNone)).weak());
        }
        return true;
    };
    ui.label(
        egui::RichText::new(format!(
            "{} {} · {} {} · {:.1} s",
            lang.t(S::SweepSteps),
            a.steps,
            lang.t(S::SweepInits),
            a.inits,
            a.seconds
        ))
        .small(),
    );
    let h = ui.available_height().max(80.0);
    ui.columns(2, |cols| {
        sweep_plot(
            &mut cols[0],
            "region_sweep_depth",
            &a.depth,
            Sweep::Depth,
            lang,
            h,
        );
        sweep_plot(
            &mut cols[1],
            "region_sweep_width",
            &a.width,
            Sweep::Width,
            lang,
            h,
        );
    });
    true
}

fn sweep_plot(
    ui: &mut egui::Ui,
    id: &str,
    rows: &[SweepRow],
    sweep: Sweep,
    lang: Lang,
    height: f32,
) {
    let (title, x_label) = match sweep {
        Sweep::Depth => (S::SweepAgainstDepth, S::SweepDepth),
        Sweep::Width => (S::SweepAgainstWidth, S::SweepWidth),
    };
    ui.label(egui::RichText::new(lang.t(title)).strong());
    let x = |r: &SweepRow| match sweep {
        Sweep::Depth => r.depth as f64,
        Sweep::Width => r.width as f64,
    };
    let log = |v: f64| v.max(1.0).log10();
    let color = theme::series_color(usize::from(sweep == Sweep::Width));
    let units = lang.t(S::SweepUnits);
    Plot::new(id)
        .height(height - 24.0)
        .allow_scroll(false)
        .x_axis_label(lang.t(x_label))
        .y_axis_label(lang.t(S::SweepRegions))
        .y_axis_formatter(log_ticks)
        .show(ui, |p| {
            let mean: Vec<[f64; 2]> = rows.iter().map(|r| [x(r), log(r.mean)]).collect();
            p.line(
                Line::new(lang.t(S::SweepMean), PlotPoints::from(mean.clone()))
                    .color(color)
                    .width(1.8),
            );
            p.points(
                Points::new(lang.t(S::SweepMean), PlotPoints::from(mean))
                    .color(color)
                    .radius(3.5),
            );
            for r in rows {
                p.line(
                    Line::new(
                        "min–max",
                        PlotPoints::from(vec![
                            [x(r), log(r.min as f64)],
                            [x(r), log(r.max as f64)],
                        ]),
                    )
                    .color(color.gamma_multiply(0.6))
                    .width(1.0),
                );
                p.text(
                    Text::new(
                        "units",
                        egui_plot::PlotPoint::new(x(r), log(r.max as f64)),
                        format!("{} {units}", r.units),
                    )
                    .anchor(egui::Align2::CENTER_BOTTOM),
                );
            }
        });
}
