//! Compare runs side by side: loss, per-layer gradient norms and λ_max overlaid, one colour per
//! run. A run is the current one (live), a session file, or a variant of the current session
//! with one setting changed; files without a recorded history and variants train on their own
//! worker thread (same data and seed), so the UI thread only draws.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};

use crate::net::Activation;
use crate::net::spec::Init;
use crate::optim::spec::OptimizerKind;
use crate::runtime::worker::{self, Event, Experiment, Status, StepRow, Worker};
use crate::session::Session;
use crate::ui::command::Command;
use crate::ui::history::{History, Series};
use crate::ui::i18n::{Lang, S};
use crate::ui::lab::Lab;
use crate::ui::panels::plots::{log_label, log_ticks};
use crate::ui::view::ViewCtx;
use crate::ui::{model, theme};

/// Steps a variant trains when the current run has not started.
const DEFAULT_STEPS: u64 = 2000;

/// Where a compared run's curves come from.
pub enum Source {
    /// The app's own run, read live.
    Current,
    /// A recorded history (from a file).
    Recorded,
    /// Trained here, on its own thread.
    Worker(Worker),
}

/// One run of the comparison: its name in the legend and its curves.
pub struct Run {
    /// The legend's name: the file's name or the changed setting ("learning rate = 0.3"); empty for
    /// the current run, which is named in the UI language.
    pub name: String,
    /// Where its curves come from.
    pub source: Source,
    /// Its loss, accuracy and per-layer gradient curves.
    pub history: History,
    /// Its largest Hessian eigenvalue against step (recorded analyses; empty for trained variants).
    pub lambda_max: Series,
    /// The last status of its worker (worker runs): whether it trains and its step.
    pub status: Status,
    /// Steps it trains to (worker runs).
    pub target: u64,
    /// Why it stopped: divergence, a refused build or a worker error.
    pub error: Option<String>,
}

impl Run {
    fn recorded(name: String, history: History, lambda_max: Series) -> Run {
        Run {
            name,
            source: Source::Recorded,
            history,
            lambda_max,
            status: Status::default(),
            target: 0,
            error: None,
        }
    }
}

/// The one setting a variant changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// Every hidden layer's activation.
    Activation,
    /// The optimiser.
    Optimizer,
    /// The learning rate.
    Lr,
    /// The weight initialisation.
    Init,
    /// The mini-batch size.
    BatchSize,
}

impl Setting {
    /// Every setting, in the order the variant menu lists them.
    pub const ALL: [Setting; 5] = [
        Setting::Activation,
        Setting::Optimizer,
        Setting::Lr,
        Setting::Init,
        Setting::BatchSize,
    ];

    fn label(self) -> S {
        match self {
            Setting::Activation => S::Activation,
            Setting::Optimizer => S::Optimizer,
            Setting::Lr => S::LearningRate,
            Setting::Init => S::Init,
            Setting::BatchSize => S::BatchSize,
        }
    }
}

/// Activations a hidden layer can use.
fn hidden_activations() -> impl Iterator<Item = Activation> {
    Activation::ALL
        .into_iter()
        .filter(|a| !matches!(a, Activation::Softmax | Activation::Step))
}

/// The Compare window's state: its runs and the variant being set up.
pub struct Compare {
    /// The Compare window is open.
    pub open: bool,
    /// The runs overlaid, in legend order (the current run first once added).
    pub runs: Vec<Run>,
    /// The setting the variant changes.
    pub setting: Setting,
    /// The variant's hidden-layer activation (when the setting is Activation).
    pub activation: Activation,
    /// The variant's optimiser (when the setting is Optimizer).
    pub optimizer: OptimizerKind,
    /// The variant's initialisation (when the setting is Init).
    pub init: Init,
    /// The variant's learning rate or batch size as typed (read when Add variant is pressed).
    pub value: String,
    /// The session file's path as typed (Add file).
    pub path: String,
    /// Why the last variant could not start, shown under its controls.
    pub error: Option<String>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Compare {
    /// An empty, closed Compare window; `repaint` wakes the UI when a variant's worker reports.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Compare {
        Compare {
            open: false,
            runs: Vec::new(),
            setting: Setting::Activation,
            activation: Activation::Relu,
            optimizer: OptimizerKind::Sgd,
            init: Init::HeNormal,
            value: String::new(),
            path: String::new(),
            error: None,
            repaint,
        }
    }

    /// Fold the variant workers' events into their histories (never blocks).
    pub fn drain(&mut self) {
        for run in &mut self.runs {
            let Source::Worker(w) = &run.source else {
                continue;
            };
            for _ in 0..256 {
                let Some(ev) = w.try_recv() else { break };
                match ev {
                    Event::Rebuilt { .. } | Event::WasReset => run.history.clear(),
                    Event::Steps(rows) => run.history.add_steps(&rows),
                    Event::Stride(s) => run.history.decimate(s),
                    Event::Evaluation { step, eval } => run.history.add_eval(step, eval),
                    Event::Status(s) => run.status = s,
                    Event::Diverged { step, loss } => {
                        run.error = Some(format!("diverged at step {step} (loss {loss})"));
                    }
                    Event::RebuildFailed(e) | Event::Error(e) | Event::WorkerPanicked(e) => {
                        run.error = Some(e)
                    }
                    _ => {}
                }
            }
        }
    }

    /// Any variant still training (the app keeps repainting).
    pub fn busy(&self) -> bool {
        self.runs.iter().any(|r| r.status.running)
    }

    /// The legend entries of the loss plot, one per run.
    pub fn legend(&self, lang: Lang) -> Vec<String> {
        self.runs.iter().map(|r| run_name(r, lang)).collect()
    }

    /// The current run is among the compared ones.
    fn has_current(&self) -> bool {
        self.runs
            .iter()
            .any(|r| matches!(r.source, Source::Current))
    }

    /// Add the current run (live) as the first run, if it is not there yet.
    fn add_current(&mut self) {
        if !self.has_current() {
            self.runs.insert(
                0,
                Run::recorded(String::new(), History::default(), Series::default()),
            );
            self.runs[0].source = Source::Current;
        }
    }

    /// A run trained here on its own thread for `target` steps.
    fn add_trained(&mut self, name: String, experiment: Experiment, target: u64) {
        let worker = Worker::spawn(experiment, self.repaint.clone());
        worker.send(worker::Command::Step(target));
        self.runs.push(Run {
            name,
            source: Source::Worker(worker),
            history: History::default(),
            lambda_max: Series::default(),
            status: Status::default(),
            target,
            error: None,
        });
    }

    /// A run from a recorded history.
    fn add_recorded(&mut self, name: String, history: History, lambda_max: Series) {
        self.runs.push(Run::recorded(name, history, lambda_max));
    }
}

fn run_name(r: &Run, lang: Lang) -> String {
    match r.source {
        Source::Current => lang.t(S::CurrentRun).to_string(),
        _ => r.name.clone(),
    }
}

/// The variant's session and its name, or why it cannot run.
pub fn variant(c: &Compare, lab: &Lab, lang: Lang) -> Result<(Session, String), String> {
    let mut s = lab.applied.clone();
    s.params = None;
    let name = match c.setting {
        Setting::Activation => {
            let last = s.network.layers.len().saturating_sub(1);
            for l in &mut s.network.layers[..last] {
                l.activation = c.activation;
            }
            format!("{} = {}", lang.t(S::Activation), c.activation.name())
        }
        Setting::Optimizer => {
            s.optimizer.kind = c.optimizer;
            let n = super::training::KINDS
                .iter()
                .find(|(k, _)| *k == c.optimizer)
                .map_or("?", |k| k.1);
            format!("{} = {n}", lang.t(S::Optimizer))
        }
        Setting::Init => {
            s.network.init = c.init;
            format!(
                "{} = {}",
                lang.t(S::Init),
                super::network::init_name(c.init)
            )
        }
        Setting::Lr => {
            let lr = super::training::parse_lr(&c.value).ok_or_else(|| {
                format!("{}: {}", lang.t(S::LearningRate), lang.t(S::NeedPositive))
            })?;
            s.optimizer.lr = lr;
            format!("{} = {lr}", lang.t(S::LearningRate))
        }
        Setting::BatchSize => {
            let b = c
                .value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|b| *b > 0)
                .ok_or_else(|| format!("{}: {}", lang.t(S::BatchSize), lang.t(S::NeedPositive)))?;
            s.optimizer.batch_size = b;
            format!("{} = {b}", lang.t(S::BatchSize))
        }
    };
    let (inputs, classes) = (lab.train.inputs, lab.train.classes);
    model::harmonise(&mut s, inputs, classes);
    model::check(&s, inputs, classes).map_err(|e| e.to_string())?;
    Ok((s, name))
}

/// The plotted history of a recorded session, and λ_max of its stored spectra.
fn recorded_history(s: &Session) -> (History, Series) {
    let mut h = History::default();
    let rec = &s.history;
    let rows: Vec<StepRow> = (0..rec.len()).map(|i| rec.report(i).into()).collect();
    h.add_steps(&rows);
    for i in 0..rec.evaluations.len() {
        let (step, e) = rec.evaluations.get(i);
        h.add_eval(step, e);
    }
    let mut lambda = Series::default();
    for a in &s.analyses {
        if let Some(sp) = a.as_spectrum()
            && let Some(max) = sp.eigenvalues.iter().copied().reduce(f64::max)
        {
            lambda.push(a.step as f64, max);
        }
    }
    (h, lambda)
}

impl Compare {
    /// Start the chosen variant (same data and seed as the current run), or say why not.
    pub(crate) fn start_variant(&mut self, lab: &Lab, lang: Lang) {
        match variant(self, lab, lang) {
            Ok((s, name)) => {
                let e = model::experiment(&s, lab.dataset.clone());
                self.add_current();
                self.add_trained(name, e, target(lab));
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// A session file opened for comparison: its recorded history if it has one, else
    /// trained here.
    pub(crate) fn add_loaded(&mut self, lab: &Lab, path: PathBuf, loaded: crate::session::Loaded) {
        let name = crate::session::display_name(&path);
        if !loaded.session.history.is_empty() {
            let (h, lambda) = recorded_history(&loaded.session);
            self.add_recorded(name, h, lambda);
            return;
        }
        let data = Some(Arc::new((loaded.train, loaded.test)));
        let e = model::experiment(&loaded.session, data);
        self.add_trained(name, e, target(lab));
    }

    /// The Compare window (when open); `current_lambda` is λ_max of the current run (the
    /// Curvature tile's).
    pub fn window_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, current_lambda: &Series) {
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new(ctx.t(S::CompareTitle))
            .id(egui::Id::unique("compare_window"))
            .open(&mut open)
            .default_size([760.0, 640.0])
            .resizable(true)
            .show(ui.ctx(), |ui| body(self, ctx, ui, current_lambda));
        if !open {
            ctx.send(Command::ShowCompare(false));
        }
    }
}

/// Steps a variant trains: as far as the current run, or [`DEFAULT_STEPS`] before it starts.
fn target(lab: &Lab) -> u64 {
    if lab.status.step > 0 {
        lab.status.step
    } else {
        DEFAULT_STEPS
    }
}

fn setting_value_ui(c: &mut Compare, ui: &mut egui::Ui, lang: Lang) {
    match c.setting {
        Setting::Activation => {
            egui::ComboBox::from_id_salt("cmp_act")
                .selected_text(c.activation.name())
                .show_ui(ui, |ui| {
                    for a in hidden_activations() {
                        ui.selectable_value(&mut c.activation, a, a.name());
                    }
                })
                .response
                .accessible_name(lang.t(S::Activation));
        }
        Setting::Optimizer => {
            let n = super::training::KINDS
                .iter()
                .find(|(k, _)| *k == c.optimizer)
                .map_or("?", |k| k.1);
            egui::ComboBox::from_id_salt("cmp_opt")
                .selected_text(n)
                .show_ui(ui, |ui| {
                    for (k, n) in super::training::KINDS {
                        ui.selectable_value(&mut c.optimizer, k, n);
                    }
                });
        }
        Setting::Init => {
            egui::ComboBox::from_id_salt("cmp_init")
                .selected_text(super::network::init_name(c.init))
                .show_ui(ui, |ui| {
                    for (i, n) in super::network::INITS {
                        ui.selectable_value(&mut c.init, i, n);
                    }
                });
        }
        Setting::Lr | Setting::BatchSize => {
            ui.add(egui::TextEdit::singleline(&mut c.value).desired_width(80.0));
        }
    }
}

fn body(this: &mut Compare, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, current_lambda: &Series) {
    let lang = ctx.lang();
    let mut remove = None;
    for (i, r) in this.runs.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.colored_label(theme::series_color(i), egui::RichText::new("•").size(22.0));
            ui.label(run_name(r, lang));
            match r.source {
                Source::Current => {
                    ui.weak(format!("{} {}", lang.t(S::StepCount), ctx.lab.status.step));
                }
                Source::Worker(_) => {
                    ui.weak(format!(
                        "{} {}/{}",
                        lang.t(S::StepCount),
                        r.status.step,
                        r.target
                    ));
                    if r.status.running {
                        ui.spinner();
                    }
                }
                Source::Recorded => {}
            }
            if let Some(e) = &r.error {
                ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
            }
            if ui
                .small_button("×")
                .on_hover_text(lang.t(S::Remove))
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        // Dropping a worker run stops its thread.
        this.runs.remove(i);
    }
    if this.runs.is_empty() {
        ui.weak(lang.t(S::CompareEmpty));
    }
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(
                !this.has_current(),
                egui::Button::new(lang.t(S::AddCurrent)),
            )
            .clicked()
        {
            this.add_current();
        }
        ui.separator();
        if ui.button(lang.t(S::Browse)).clicked() {
            ctx.send(Command::CompareBrowse);
        }
        ui.add(
            egui::TextEdit::singleline(&mut this.path)
                .hint_text(lang.t(S::PathHint))
                .desired_width(200.0),
        );
        let p = this.path.trim().to_string();
        if ui
            .add_enabled(!p.is_empty(), egui::Button::new(lang.t(S::AddFile)))
            .clicked()
        {
            ctx.send(Command::CompareFile(p.into()));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(lang.t(S::Variant));
        egui::ComboBox::from_id_salt("cmp_setting")
            .selected_text(lang.t(this.setting.label()))
            .show_ui(ui, |ui| {
                for s in Setting::ALL {
                    let before = this.setting;
                    ui.selectable_value(&mut this.setting, s, lang.t(s.label()));
                    if before != this.setting {
                        this.value = match s {
                            Setting::Lr => format!("{}", ctx.lab.applied.optimizer.lr / 10.0),
                            Setting::BatchSize => {
                                format!("{}", ctx.lab.applied.optimizer.batch_size.max(1) * 4)
                            }
                            _ => String::new(),
                        };
                    }
                }
            })
            .response
            .accessible_name(lang.t(S::Variant));
        ui.label("=");
        setting_value_ui(this, ui, lang);
        if ui.button(lang.t(S::StartVariant)).clicked() {
            ctx.send(Command::CompareVariant);
        }
    });
    ui.weak(lang.t(S::VariantNote));
    if let Some(e) = &this.error {
        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
    }
    ui.separator();
    plots_ui(this, ctx, ui, current_lambda);
}

/// The runs' lines: (name, colour, history, λ_max).
fn lines<'a>(
    this: &'a Compare,
    ctx: &'a ViewCtx<'_>,
    current_lambda: &'a Series,
) -> Vec<(String, egui::Color32, &'a History, &'a Series)> {
    this.runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (h, l) = match r.source {
                Source::Current => (&ctx.lab.history, current_lambda),
                _ => (&r.history, &r.lambda_max),
            };
            (run_name(r, ctx.lang()), theme::series_color(i), h, l)
        })
        .collect()
}

fn plots_ui(this: &Compare, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, current_lambda: &Series) {
    let lang = ctx.lang();
    let runs = lines(this, ctx, current_lambda);
    let has_lambda = runs.iter().any(|r| !r.3.is_empty());
    let n_plots = if has_lambda { 3.0 } else { 2.0 };
    let h = ((ui.available_height() - 30.0 * n_plots) / n_plots).max(120.0);
    let plot = |id: &str| {
        Plot::new(id.to_string())
            .legend(Legend::default())
            .allow_scroll(false)
            .height(h)
            .x_axis_label(lang.t(S::StepCount))
            .y_axis_formatter(log_ticks)
            .label_formatter(log_label)
    };
    ui.label(egui::RichText::new(lang.t(S::BatchLoss)).strong());
    plot("cmp_loss").show(ui, |p| {
        for (name, color, hist, _) in &runs {
            p.line(
                Line::new(
                    name.clone(),
                    PlotPoints::Borrowed(hist.batch_loss.points(true)),
                )
                .color(*color)
                .width(1.5),
            );
        }
    });
    ui.label(egui::RichText::new(lang.t(S::GradPlot)).strong());
    plot("cmp_grad").show(ui, |p| {
        for (name, color, hist, _) in &runs {
            let n = hist.grad.len();
            for (k, s) in hist.grad.iter().enumerate() {
                // One colour per run; layers told apart by the dash pattern.
                let style = match k % 3 {
                    0 => LineStyle::Solid,
                    1 => LineStyle::dashed_loose(),
                    _ => LineStyle::dotted_loose(),
                };
                let layer = if k + 1 == n {
                    lang.t(S::OutputLayer).to_string()
                } else {
                    format!("{} {}", lang.t(S::Layer), k + 1)
                };
                p.line(
                    Line::new(
                        format!("{name}: {layer}"),
                        PlotPoints::Borrowed(s.points(true)),
                    )
                    .color(*color)
                    .style(style),
                );
            }
        }
    });
    if has_lambda {
        ui.label(egui::RichText::new("λ_max").strong());
        plot("cmp_lambda").show(ui, |p| {
            for (name, color, _, l) in &runs {
                p.line(
                    Line::new(name.clone(), PlotPoints::Borrowed(l.points(true)))
                        .color(*color)
                        .width(1.5),
                );
            }
        });
    }
}
