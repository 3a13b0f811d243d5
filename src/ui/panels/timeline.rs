//! The replay timeline: a strip above the views. Dragging it moves a cursor on every plot and
//! shows that step in the decision map, the designer's weights and the histograms — computed on
//! the replay thread from the nearest checkpoint (`session::replay::state_at`), never here.
//! "Back to live" returns to the running experiment; "Fork from here" continues from the step
//! as a new, unsaved session.

use std::sync::Arc;

use eframe::egui;

use crate::runtime::worker::{MapRequest, ReplayAnswer, ReplayRequest, Replayer, Snapshot};
use crate::session::{Loaded, Session};
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx};

/// The replay timeline's state: the step shown, the recording it replays from, the live snapshot
/// kept meanwhile, and the replay thread.
pub struct Timeline {
    /// The step shown (None: live).
    pub step: Option<u64>,
    /// The slider's value.
    pub slider: u64,
    /// The recording replayed (a file, or the live run exported when the slider was touched).
    pub source: Option<Arc<Loaded>>,
    /// A step asked of the replay thread, not answered yet.
    pub computing: Option<u64>,
    /// The step wanted while the recording is being exported.
    pub wanted: Option<u64>,
    /// The live snapshot, kept while a replayed one is shown.
    pub live: Option<Box<Snapshot>>,
    /// The replayed step's snapshot is on screen.
    pub shown: Option<u64>,
    /// Why the last replay or fork failed, shown on the strip.
    pub error: Option<String>,
    /// The maps the views ask for (replayed snapshots are drawn as the live ones).
    pub maps: MapRequest,
    replayer: Replayer,
}

impl Timeline {
    /// The timeline following the live run, with its (idle) replay thread; `repaint` wakes the UI
    /// when a replayed step arrives.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Timeline {
        Timeline {
            step: None,
            slider: 0,
            source: None,
            computing: None,
            wanted: None,
            live: None,
            shown: None,
            error: None,
            maps: MapRequest::default(),
            replayer: Replayer::spawn(repaint),
        }
    }

    /// The recording can answer `step` (it reaches the current step of the run).
    fn source_covers(&self, last: u64) -> bool {
        self.source
            .as_ref()
            .is_some_and(|l| l.session.last_step() == last)
    }

    /// Ask the replay thread for `step` of the recording: its snapshot, or (fork) a new session
    /// continuing from it.
    fn request(&mut self, step: u64, fork: bool) {
        let Some(loaded) = self.source.clone() else {
            return;
        };
        if !fork {
            self.computing = Some(step);
        }
        self.replayer.send(ReplayRequest {
            loaded,
            step,
            fork,
            maps: self.maps,
        });
    }

    /// The replay thread's next answer, if one is in (never blocks).
    pub fn try_recv(&self) -> Option<ReplayAnswer> {
        self.replayer.try_recv()
    }

    /// A new experiment: the old recording no longer applies.
    pub fn reset(&mut self) {
        self.step = None;
        self.source = None;
        self.computing = None;
        self.wanted = None;
        self.live = None;
        self.shown = None;
        self.error = None;
    }
}

/// What the app does with a replay answer (the timeline keeps the rest to itself).
pub enum Replayed {
    /// Show this replayed snapshot in the views.
    Show(Box<Snapshot>),
    /// The fork from the shown step: the new experiment.
    Fork {
        /// The step it continues from.
        step: u64,
        /// The new, unsaved session: the recording up to `step`, with the state at `step` as its
        /// state.
        session: Box<Session>,
    },
}

impl Timeline {
    /// Go to `step` (at most `last`, the run's step), keeping the `live` snapshot aside.
    /// Returns true when the live run's recording must be exported first (the request waits).
    pub(crate) fn seek(&mut self, step: u64, last: u64, live: Option<&Snapshot>) -> bool {
        let step = step.min(last);
        if self.step.is_none() {
            self.live = live.map(|s| Box::new(s.clone()));
        }
        self.step = Some(step);
        self.slider = step;
        self.error = None;
        if self.source_covers(last) {
            self.request(step, false);
            false
        } else {
            self.wanted = Some(step);
            true
        }
    }

    /// Back to the live run: its snapshot, kept aside while a replayed one was shown.
    pub(crate) fn back_to_live(&mut self) -> Option<Box<Snapshot>> {
        let live = if self.step.take().is_some() {
            self.live.take()
        } else {
            None
        };
        self.computing = None;
        self.wanted = None;
        self.shown = None;
        live
    }

    /// The live run's recording arrived: the replay thread answers from it.
    pub(crate) fn on_recording(&mut self, loaded: Loaded) {
        self.source = Some(Arc::new(loaded));
        if let Some(step) = self.wanted.take() {
            self.request(step, false);
        }
    }

    /// Continue from the shown step as a new session (answered as [`Replayed::Fork`]).
    pub fn fork(&mut self) {
        if let Some(step) = self.shown {
            self.request(step, true);
        }
    }

    /// An answer of the replay thread: what the app must show or adopt, if anything.
    pub(crate) fn on_answer(&mut self, a: ReplayAnswer) -> Option<Replayed> {
        match a {
            ReplayAnswer::Snapshot { step, snapshot, .. } => {
                if self.computing == Some(step) {
                    self.computing = None;
                }
                // Only what the slider still points at.
                (self.step == Some(step)).then(|| {
                    self.shown = Some(step);
                    Replayed::Show(snapshot)
                })
            }
            ReplayAnswer::Forked { step, session } => Some(Replayed::Fork { step, session }),
            ReplayAnswer::Failed { step, message } => {
                if self.computing == Some(step) {
                    self.computing = None;
                }
                self.error = Some(message);
                None
            }
        }
    }
}

impl View for Timeline {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        strip(self, ui, ctx)
    }
}

/// The strip: slider, step, state, Back to live, Fork from here. It is always there and always
/// one row high (a hint before the first step and while training), so the views below it never
/// move when training starts, stops or takes its first step.
fn strip(this: &mut Timeline, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
    let last = ctx.lab.status.step;
    let running = ctx.lab.status.running;
    let lang = ctx.lang();
    let row = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    ui.allocate_ui_with_layout(row, layout, |ui| {
        ui.set_min_size(row);
        ui.set_max_height(row.y);
        ui.label(egui::RichText::new(lang.t(S::Timeline)).strong());
        if last == 0 && this.step.is_none() {
            ui.weak(lang.t(S::TimelineEmpty));
            return;
        }
        if running {
            ui.weak(lang.t(S::TimelinePaused));
            return;
        }
        // Buttons and state on the right; the slider takes the width that is left.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if this.step.is_some() {
                let can_fork = this.shown.is_some() && this.computing.is_none();
                if ui
                    .add_enabled(can_fork, egui::Button::new(lang.t(S::ForkHere)))
                    .on_hover_text(lang.t(S::ForkHover))
                    .clicked()
                {
                    ctx.send(Command::Fork);
                }
                if ui.button(lang.t(S::BackToLive)).clicked() {
                    ctx.send(Command::BackToLive);
                }
            }
            if this.computing.is_some() || this.wanted.is_some() {
                ui.weak(lang.t(S::Recomputing));
                ui.spinner();
            } else if let Some(s) = this.shown {
                ui.weak(format!("{} {s}", lang.t(S::Showing)));
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let mut v = this.step.unwrap_or(last).min(last);
                ui.spacing_mut().slider_width = (ui.available_width() - 130.0).max(60.0);
                let r = ui.add(
                    egui::Slider::new(&mut v, 0..=last)
                        .clamping(egui::SliderClamping::Always)
                        .text(lang.t(S::StepCount)),
                );
                if r.changed() && Some(v) != this.step {
                    ctx.send(Command::Seek(v));
                }
            });
        });
    });
    if let Some(e) = this.error.clone() {
        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
    }
}
