//! The replay timeline: a strip above the views. Dragging it moves a cursor on every plot and
//! shows that step in the decision map, the designer's weights and the histograms — computed on
//! the replay thread from the nearest checkpoint (`session::replay::state_at`), never here.
//! "Back to live" returns to the running experiment; "Fork from here" continues from the step
//! as a new, unsaved session.

use std::sync::Arc;

use eframe::egui;

use crate::runtime::worker::{MapRequest, ReplayAnswer, ReplayRequest, Replayer, Snapshot};
use crate::session::Loaded;
use crate::ui::app::NnlabApp;
use crate::ui::command::Command;
use crate::ui::i18n::S;

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
    pub error: Option<String>,
    /// The maps the views ask for (replayed snapshots are drawn as the live ones).
    pub maps: MapRequest,
    replayer: Replayer,
}

impl Timeline {
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
    pub fn source_covers(&self, last: u64) -> bool {
        self.source
            .as_ref()
            .is_some_and(|l| l.session.last_step() == last)
    }

    pub fn request(&mut self, step: u64, fork: bool) {
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

/// Go to `step`: ask the replay thread, exporting the live run's recording first if needed.
pub fn seek(app: &mut NnlabApp, step: u64) {
    let last = app.lab.status.step;
    let step = step.min(last);
    if app.views.timeline.step.is_none() {
        app.views.timeline.live = app.lab.snapshot.clone();
    }
    app.views.timeline.step = Some(step);
    app.views.timeline.slider = step;
    app.views.timeline.error = None;
    if app.views.timeline.source_covers(last) {
        app.views.timeline.request(step, false);
    } else {
        app.views.timeline.wanted = Some(step);
        app.request_recording();
    }
}

/// Back to the live run's views.
pub fn back_to_live(app: &mut NnlabApp, ctx: &egui::Context) {
    if app.views.timeline.step.take().is_some()
        && let Some(s) = app.views.timeline.live.take()
    {
        app.views
            .output
            .textures
            .update(ctx, &s, app.settings.dark, app.views.output.discretize);
        app.lab.snapshot = Some(s);
    }
    app.views.timeline.computing = None;
    app.views.timeline.wanted = None;
    app.views.timeline.shown = None;
}

/// An answer of the replay thread.
pub fn on_answer(app: &mut NnlabApp, ctx: &egui::Context, a: ReplayAnswer) {
    match a {
        ReplayAnswer::Snapshot { step, snapshot, .. } => {
            if app.views.timeline.computing == Some(step) {
                app.views.timeline.computing = None;
            }
            // Only what the slider still points at.
            if app.views.timeline.step == Some(step) {
                app.views.output.textures.update(
                    ctx,
                    &snapshot,
                    app.settings.dark,
                    app.views.output.discretize,
                );
                app.lab.snapshot = Some(snapshot);
                app.views.timeline.shown = Some(step);
            }
        }
        ReplayAnswer::Forked { step, session } => app.adopt_fork(ctx, step, *session),
        ReplayAnswer::Failed { step, message } => {
            if app.views.timeline.computing == Some(step) {
                app.views.timeline.computing = None;
            }
            app.views.timeline.error = Some(message);
        }
    }
}

/// The strip: slider, step, state, Back to live, Fork from here. It is always there and always
/// one row high (a hint before the first step and while training), so the views below it never
/// move when training starts, stops or takes its first step.
pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    let last = app.lab.status.step;
    let running = app.lab.status.running;
    let lang = app.settings.lang;
    let row = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    ui.allocate_ui_with_layout(row, layout, |ui| {
        ui.set_min_size(row);
        ui.set_max_height(row.y);
        ui.label(egui::RichText::new(lang.t(S::Timeline)).strong());
        if last == 0 && app.views.timeline.step.is_none() {
            ui.weak(lang.t(S::TimelineEmpty));
            return;
        }
        if running {
            ui.weak(lang.t(S::TimelinePaused));
            return;
        }
        // Buttons and state on the right; the slider takes the width that is left.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if app.views.timeline.step.is_some() {
                let can_fork =
                    app.views.timeline.shown.is_some() && app.views.timeline.computing.is_none();
                if ui
                    .add_enabled(can_fork, egui::Button::new(lang.t(S::ForkHere)))
                    .on_hover_text(lang.t(S::ForkHover))
                    .clicked()
                {
                    app.commands.send(Command::Fork);
                }
                if ui.button(lang.t(S::BackToLive)).clicked() {
                    app.commands.send(Command::BackToLive);
                }
            }
            if app.views.timeline.computing.is_some() || app.views.timeline.wanted.is_some() {
                ui.weak(lang.t(S::Recomputing));
                ui.spinner();
            } else if let Some(s) = app.views.timeline.shown {
                ui.weak(format!("{} {s}", lang.t(S::Showing)));
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let mut v = app.views.timeline.step.unwrap_or(last).min(last);
                ui.spacing_mut().slider_width = (ui.available_width() - 130.0).max(60.0);
                let r = ui.add(
                    egui::Slider::new(&mut v, 0..=last)
                        .clamping(egui::SliderClamping::Always)
                        .text(lang.t(S::StepCount)),
                );
                if r.changed() && Some(v) != app.views.timeline.step {
                    app.commands.send(Command::Seek(v));
                }
            });
        });
    });
    if let Some(e) = app.views.timeline.error.clone() {
        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
    }
}
