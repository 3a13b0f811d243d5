//! The Lessons section: the bundled THEORY.md lessons, each with its explanation and expected
//! outcome; "Open" loads the session (the app's ordinary open action) and "Check" runs the
//! headless check on a helper thread and shows measured against expected.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

use eframe::egui;

use crate::lessons::{self, LessonFile, LessonResult, Mode};
use crate::ui::app::{Action, NnlabApp};
use crate::ui::i18n::{Lang, S};

/// What the section keeps between frames.
#[derive(Default)]
pub struct LessonsPanel {
    /// The lessons found, or why none could be read; None until the first load answers.
    pub files: Option<Result<Vec<LessonFile>, String>>,
    loading: Option<Receiver<Result<Vec<LessonFile>, String>>>,
    pub selected: Option<usize>,
    /// The latest check answer and the lesson it was for.
    pub result: Option<LessonResult>,
    checking: Option<(String, Receiver<LessonResult>)>,
    /// Where the lessons are read from (tests point it elsewhere).
    pub dir: Option<PathBuf>,
}

impl LessonsPanel {
    /// A check is running on its helper thread.
    pub fn checking(&self) -> bool {
        self.checking.is_some()
    }

    /// Collect helper-thread answers (never blocks).
    fn poll(&mut self) {
        if let Some(rx) = &self.loading
            && let Ok(r) = rx.try_recv()
        {
            self.files = Some(r);
            self.loading = None;
        }
        if let Some((_, rx)) = &self.checking
            && let Ok(r) = rx.try_recv()
        {
            self.result = Some(r);
            self.checking = None;
        }
    }

    fn start_loading(&mut self, ctx: &egui::Context) {
        if self.files.is_some() || self.loading.is_some() {
            return;
        }
        let dir = self.dir.clone().unwrap_or_else(lessons::default_dir);
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(lessons::load_dir(&dir).map_err(|e| e.to_string()));
            ctx.request_repaint();
        });
        self.loading = Some(rx);
    }

    fn start_check(&mut self, ctx: &egui::Context, file: LessonFile) {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let name = file.name.clone();
        std::thread::spawn(move || {
            let _ = tx.send(lessons::run_lesson(&file, Mode::Full));
            ctx.request_repaint();
        });
        self.result = None;
        self.checking = Some((name, rx));
    }
}

/// The section, drawn at the top of the controls panel.
pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    let lang = app.lang;
    app.lessons.poll();
    egui::CollapsingHeader::new(egui::RichText::new(lang.t(S::Lessons)).heading())
        .id_salt("lessons_section")
        .default_open(false)
        .show(ui, |ui| {
            app.lessons.start_loading(ui.ctx());
            body_ui(app, ui, lang);
        });
    if app.lessons.loading.is_some() || app.lessons.checking() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
}

fn body_ui(app: &mut NnlabApp, ui: &mut egui::Ui, lang: Lang) {
    let zh = lang == Lang::Zh;
    let files = match &app.lessons.files {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(lang.t(S::Working));
            });
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
            return;
        }
        Some(Ok(f)) => f,
    };
    ui.label(egui::RichText::new(lang.t(S::LessonsHint)).weak());
    let mut clicked = None;
    // No inner scroll area: the controls panel scrolls, and nested scrolling hides rows.
    for (i, f) in files.iter().enumerate() {
        let l = f.lesson();
        let label = format!("#{} {}", l.row, l.title.get(zh));
        let on = app.lessons.selected == Some(i);
        // Wrapped, so a long title does not widen the controls panel.
        if ui.add(egui::Button::selectable(on, label).wrap()).clicked() {
            clicked = Some(i);
        }
    }
    if let Some(i) = clicked {
        app.lessons.selected = Some(i);
        if app.lessons.result.as_ref().map(|r| &r.name) != files.get(i).map(|f| &f.name) {
            app.lessons.result = None;
        }
    }
    let Some(file) = app.lessons.selected.and_then(|i| files.get(i)).cloned() else {
        return;
    };
    let l = file.lesson();
    ui.separator();
    ui.label(egui::RichText::new(l.title.get(zh)).strong());
    ui.label(egui::RichText::new(format!("{} #{}", lang.t(S::TheoryRow), l.row)).weak());
    ui.label(l.text.get(zh));
    ui.label(egui::RichText::new(lang.t(S::ExpectedOutcome)).strong());
    let first = l.check.runs()[0].name.clone();
    for e in &l.check.expect {
        ui.label(egui::RichText::new(format!("• {}", e.describe(&first))).monospace());
    }
    ui.horizontal(|ui| {
        if ui.button(lang.t(S::OpenLesson)).clicked() {
            app.actions.push(Action::OpenPath(file.path.clone()));
        }
        let running = app.lessons.checking();
        if ui
            .add_enabled(!running, egui::Button::new(lang.t(S::CheckLesson)))
            .on_hover_text(lang.t(S::CheckLessonHint))
            .clicked()
        {
            app.lessons.start_check(ui.ctx(), file.clone());
        }
        if running {
            ui.spinner();
        }
    });
    if let Some(r) = &app.lessons.result
        && r.name == file.name
    {
        result_ui(ui, r, lang);
    }
}

fn result_ui(ui: &mut egui::Ui, r: &LessonResult, lang: Lang) {
    if let Some(e) = &r.error {
        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
        return;
    }
    let (ok, bad) = (
        egui::Color32::from_rgb(70, 170, 90),
        egui::Color32::from_rgb(230, 80, 60),
    );
    egui::Grid::new("lesson_result")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label(egui::RichText::new(lang.t(S::Measured)).strong());
            ui.label(egui::RichText::new(lang.t(S::Expected)).strong());
            ui.label("");
            ui.end_row();
            for x in &r.results {
                ui.label(format!(
                    "{}.{} = {}",
                    x.variant,
                    x.metric,
                    lessons::fmt_num(x.measured)
                ));
                ui.label(&x.expected);
                if x.pass {
                    ui.colored_label(ok, lang.t(S::Pass));
                } else {
                    ui.colored_label(bad, lang.t(S::Fail));
                }
                ui.end_row();
            }
        });
    let verdict = if r.passed() {
        S::LessonPassed
    } else {
        S::LessonFailed
    };
    ui.label(format!("{} ({:.1} s)", lang.t(verdict), r.seconds));
}
