//! Session → Export model…: the network as shown (its θ at the latest snapshot) to a PyTorch
//! folder or an ONNX file. The native dialog and the export run on this view's own job thread
//! (started when first needed); the outcome is one line, in the window and in the status area.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;

use crate::data::Dataset;
use crate::export::{self, Format, Model};
use crate::net::Network;
use crate::runtime::job::{JobThread, Task};
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx};

/// What the helper thread answers.
enum Answer {
    /// The native dialog picked this path (None: cancelled or no dialog).
    Picked(Option<PathBuf>),
    /// The export to this path finished: the files written, or the error line.
    Done(PathBuf, Result<Vec<PathBuf>, String>),
}

/// The Export model window's state.
pub struct ModelExport {
    /// The window is showing.
    pub open: bool,
    /// PyTorch (a folder with `model.py` and `model.safetensors`) or one ONNX file.
    pub format: Format,
    /// The output path as typed: the PyTorch folder, or the `.onnx` file.
    pub path: String,
    /// An export is running on the job thread.
    pub running: bool,
    /// The last outcome, one line (Ok: success text).
    pub outcome: Option<Result<String, String>>,
    /// Dialogs and exports, in turn (None until the window first needs it).
    thread: Option<JobThread<Task<Answer>, Answer>>,
}

impl Default for ModelExport {
    fn default() -> Self {
        ModelExport {
            open: false,
            format: Format::Onnx,
            path: String::new(),
            running: false,
            outcome: None,
            thread: None,
        }
    }
}

impl ModelExport {
    /// Open the window with a default name for the format.
    pub fn show(&mut self) {
        self.open = true;
        if self.path.trim().is_empty() {
            self.path = default_path(self.format).into();
        }
    }
}

fn default_path(format: Format) -> &'static str {
    match format {
        Format::Pytorch => "model",
        Format::Onnx => "model.onnx",
    }
}

/// The export as a task: everything it needs is copied or shared first.
fn export_task(
    job: (String, Network, Vec<f64>, Arc<Dataset>),
    format: Format,
    out: PathBuf,
) -> Task<Answer> {
    let (name, net, theta, train) = job;
    Box::new(move |send| {
        let done = Model::new(&name, &net, &theta, &train)
            .and_then(|m| export::write(&m, format, &out))
            .map(|w| w.files)
            .map_err(|e| e.to_string());
        send(Answer::Done(out, done));
    })
}

/// The view's job thread, started on first use.
fn job_thread<'a>(
    me: &'a mut ModelExport,
    ctx: &egui::Context,
) -> &'a JobThread<Task<Answer>, Answer> {
    me.thread.get_or_insert_with(|| {
        let ctx = ctx.clone();
        JobThread::tasks(
            "nnlab-model-export",
            Arc::new(move || ctx.request_repaint()),
            |panic| Answer::Done(PathBuf::new(), Err(panic)),
        )
    })
}

/// Take the job thread's answers; put an outcome in the status area.
fn drain(me: &mut ModelExport, ctx: &ViewCtx<'_>) {
    while let Some(a) = me.thread.as_ref().and_then(JobThread::try_recv) {
        match a {
            Answer::Picked(Some(p)) => me.path = p.display().to_string(),
            Answer::Picked(None) => {}
            Answer::Done(out, r) => {
                me.running = false;
                let line = match r {
                    Ok(files) => {
                        // This view's earlier failure no longer stands.
                        if let Some(Err(e)) = &me.outcome
                            && ctx.lab.error() == Some(e.as_str())
                        {
                            ctx.send(Command::DismissError);
                        }
                        let done = ctx.t(S::ModelExported);
                        // The status area names the file or folder; the window every file.
                        ctx.send(Command::Notify(format!("{done}: {}", out.display())));
                        let shown: Vec<String> =
                            files.iter().map(|p| p.display().to_string()).collect();
                        Ok(format!("{done}: {}", shown.join(", ")))
                    }
                    Err(e) => {
                        let text = format!("{}: {e}", ctx.t(S::ModelExportFailed));
                        ctx.send(Command::ShowError(text.clone()));
                        Err(text)
                    }
                };
                me.outcome = Some(line);
            }
        }
    }
}

/// The window, drawn over the app while open.
impl View for ModelExport {
    fn ui(&mut self, ui: &mut egui::Ui, view: &ViewCtx<'_>) {
        drain(self, view);
        if !self.open {
            return;
        }
        let ctx = &ui.ctx().clone();
        let lang = view.lang();
        // The network as shown: the applied plan and the latest snapshot's θ.
        let source = match (view.lab.net(), view.lab.snapshot()) {
            (Some(net), Some(s)) if s.theta.len() == net.n_params => Some((s.step, net)),
            _ => None,
        };
        let mut open = true;
        let mut browse = false;
        let mut start = false;
        egui::Window::new(lang.t(S::ExportModelTitle))
            .id(egui::Id::unique("model_export_dialog"))
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            // Below the top bar, in the middle: not over the Play button.
            .pivot(egui::Align2::CENTER_TOP)
            .default_pos(egui::pos2(ctx.content_rect().center().x, 90.0))
            .show(ctx, |ui| {
                let me = &mut *self;
                ui.horizontal(|ui| {
                    for (format, label) in [
                        (Format::Onnx, S::ModelOnnx),
                        (Format::Pytorch, S::ModelPytorch),
                    ] {
                        if ui.radio(me.format == format, lang.t(label)).clicked()
                            && me.format != format
                        {
                            if me.path.trim() == default_path(me.format) {
                                me.path = default_path(format).into();
                            }
                            me.format = format;
                        }
                    }
                });
                ui.horizontal(|ui| {
                    if ui.button(lang.t(S::Browse)).clicked() {
                        browse = true;
                    }
                    let label = ui.label(lang.t(S::Path));
                    ui.add(
                        egui::TextEdit::singleline(&mut me.path)
                            .hint_text(lang.t(S::PathHint))
                            .desired_width(240.0),
                    )
                    .labelled_by(label.id);
                });
                ui.horizontal(|ui| {
                    let ready = source.is_some() && !me.running && !me.path.trim().is_empty();
                    if ui
                        .add_enabled(ready, egui::Button::new(lang.t(S::ExportModelButton)))
                        .on_hover_text(lang.t(S::ExportModelHint))
                        .clicked()
                    {
                        start = true;
                    }
                    match source {
                        Some((step, _)) => ui.weak(format!("{} {step}", lang.t(S::StepCount))),
                        None => ui.weak(lang.t(S::NoModelYet)),
                    };
                    if me.running {
                        ui.spinner();
                    }
                });
                match &me.outcome {
                    Some(Ok(line)) => {
                        ui.label(line);
                    }
                    Some(Err(line)) => {
                        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), line);
                    }
                    None => {}
                }
            });
        if browse {
            let format = self.format;
            let name = self.path.trim().to_string();
            job_thread(self, ctx).queue(Box::new(move |send| {
                let dialog = rfd::FileDialog::new();
                let picked = match format {
                    Format::Pytorch => dialog.pick_folder(),
                    Format::Onnx => dialog
                        .add_filter("ONNX", &["onnx"])
                        .set_file_name(name)
                        .save_file(),
                };
                send(Answer::Picked(picked));
            }));
        }
        if start && let (Some(net), Some(snapshot)) = (view.lab.net(), view.lab.snapshot()) {
            let me = &mut *self;
            me.running = true;
            let job = (
                view.lab.applied().name.clone(),
                net.clone(),
                snapshot.theta.clone(),
                view.lab.train_shared(),
            );
            let out = PathBuf::from(me.path.trim());
            let task = export_task(job, me.format, out);
            job_thread(me, ctx).queue(task);
        }
        self.open &= open;
    }
}
