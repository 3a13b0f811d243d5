//! The Lessons section: the bundled THEORY.md lessons, each with its explanation and expected
//! outcome; "Open" loads the session (the app's ordinary open action) and "Check" runs the
//! headless check on a helper thread and shows measured against expected.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eframe::egui;

use crate::lessons::{self, LessonFile, LessonResult, Mode};
use crate::runtime::JobThread;
use crate::ui::command::Command;
use crate::ui::i18n::{Lang, S};
use crate::ui::view::{View, ViewCtx};

/// Seeds the pass-rate run uses: 1..=SEEDS.
const SEEDS: u64 = 20;

/// A lesson re-run with seeds 1..=SEEDS.
#[derive(Clone, Debug)]
pub struct SeedRate {
    /// The lesson's name (the pass rate shown is for this lesson only).
    pub name: String,
    /// How many seeds were run (1..=seeds).
    pub seeds: u64,
    /// Seeds at which the lesson's check passed.
    pub passed: usize,
    /// Seeds at which its control (the claim's precondition removed) failed as it should (0 for a
    /// lesson without a control).
    pub control_failed: usize,
}

/// Work for the lessons' helper thread.
enum LessonJob {
    Load(PathBuf),
    Check(LessonFile),
    SeedRate(LessonFile),
}

/// Its answers.
enum LessonAnswer {
    Loaded(Result<Vec<LessonFile>, String>),
    Checked(LessonResult),
    Rated(SeedRate),
    Failed(String),
}

/// What the section keeps between frames.
#[derive(Default)]
pub struct LessonsPanel {
    /// The lessons found, or why none could be read; None until the first load answers.
    pub files: Option<Result<Vec<LessonFile>, String>>,
    loading: bool,
    /// Index of the open lesson in the list (None: the list only).
    pub selected: Option<usize>,
    /// The latest check answer and the lesson it was for.
    pub result: Option<LessonResult>,
    /// The lesson whose check is running.
    checking: Option<String>,
    /// The latest pass rate over seeds 1–20 and the lesson it was for.
    pub seed_rate: Option<SeedRate>,
    /// The lesson whose pass rate is being measured.
    rating: Option<String>,
    /// Why the last job failed.
    failed: Option<String>,
    /// Fold the list of lessons on the next frame (a lesson was just picked).
    fold_list: bool,
    /// Where the lessons are read from (tests point it elsewhere).
    pub dir: Option<PathBuf>,
    /// One job at a time: a new check or pass-rate run replaces the one going on.
    thread: Option<JobThread<LessonJob, LessonAnswer>>,
}

impl LessonsPanel {
    /// Open lesson `i` of the list (the list folds away; another lesson's result goes).
    pub fn select(&mut self, i: usize) {
        self.fold_list = true;
        self.selected = Some(i);
        let files = self.files.as_ref().and_then(|f| f.as_ref().ok());
        let name = files.and_then(|f| f.get(i)).map(|f| &f.name);
        if self.result.as_ref().map(|r| &r.name) != name {
            self.result = None;
        }
    }

    /// A check is running on its helper thread.
    pub fn checking(&self) -> bool {
        self.checking.is_some()
    }

    /// The seed pass-rate run is going on its helper thread.
    pub fn rating(&self) -> bool {
        self.rating.is_some()
    }

    fn thread(&mut self, ctx: &egui::Context) -> &JobThread<LessonJob, LessonAnswer> {
        self.thread.get_or_insert_with(|| {
            let ctx = ctx.clone();
            JobThread::spawn(
                "nnlab-lessons",
                Arc::new(move || ctx.request_repaint()),
                |job, cancel, emit| match job {
                    LessonJob::Load(dir) => emit(LessonAnswer::Loaded(
                        lessons::load_dir(&dir).map_err(|e| e.to_string()),
                    )),
                    LessonJob::Check(file) => {
                        emit(LessonAnswer::Checked(lessons::run_lesson(
                            &file,
                            Mode::Full,
                        )));
                    }
                    LessonJob::SeedRate(file) => {
                        if let Some(rate) = seed_rate(&file, cancel) {
                            emit(LessonAnswer::Rated(rate));
                        }
                    }
                },
                LessonAnswer::Failed,
            )
        })
    }

    /// Collect helper-thread answers (never blocks).
    fn poll(&mut self) {
        let Some(thread) = &self.thread else { return };
        while let Some(answer) = thread.try_recv() {
            match answer {
                LessonAnswer::Loaded(r) => {
                    self.files = Some(r);
                    self.loading = false;
                }
                LessonAnswer::Checked(r) => {
                    self.result = Some(r);
                    self.checking = None;
                }
                LessonAnswer::Rated(r) => {
                    self.seed_rate = Some(r);
                    self.rating = None;
                }
                LessonAnswer::Failed(e) => {
                    if self.loading {
                        self.files = Some(Err(e.clone()));
                    }
                    self.failed = Some(e);
                    self.loading = false;
                    self.checking = None;
                    self.rating = None;
                }
            }
        }
    }

    fn start_seed_rate(&mut self, ctx: &egui::Context, file: LessonFile) {
        let name = file.name.clone();
        self.thread(ctx).submit(LessonJob::SeedRate(file));
        self.seed_rate = None;
        self.checking = None;
        self.failed = None;
        self.rating = Some(name);
    }

    fn start_loading(&mut self, ctx: &egui::Context) {
        if self.files.is_some() || self.loading {
            return;
        }
        let dir = self.dir.clone().unwrap_or_else(lessons::default_dir);
        self.thread(ctx).queue(LessonJob::Load(dir));
        self.loading = true;
    }

    fn start_check(&mut self, ctx: &egui::Context, file: LessonFile) {
        let name = file.name.clone();
        self.thread(ctx).submit(LessonJob::Check(file));
        self.result = None;
        self.rating = None;
        self.failed = None;
        self.checking = Some(name);
    }
}

/// The lesson and its control re-run at seeds 1..=SEEDS (None: cancelled by a newer job).
fn seed_rate(file: &LessonFile, cancel: &AtomicBool) -> Option<SeedRate> {
    let (mut passed, mut control_failed) = (0, 0);
    for seed in 1..=SEEDS {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let r = lessons::run_lesson_seeded(file, Mode::Full, seed);
        passed += usize::from(r.passed());
        control_failed += usize::from(
            r.control
                .as_ref()
                .is_some_and(lessons::ControlResult::failed_as_expected),
        );
    }
    Some(SeedRate {
        name: file.name.clone(),
        seeds: SEEDS,
        passed,
        control_failed,
    })
}

/// The section, drawn at the top of the controls panel.
impl View for LessonsPanel {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        let lang = ctx.lang();
        self.poll();
        egui::CollapsingHeader::new(egui::RichText::new(lang.t(S::Lessons)).heading())
            .id_salt("lessons_section")
            .default_open(false)
            .show(ui, |ui| {
                self.start_loading(ui.ctx());
                self.body_ui(ui, ctx, lang);
            });
        if self.loading || self.checking() || self.rating() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

impl LessonsPanel {
    fn body_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, lang: Lang) {
        let zh = lang == Lang::Zh;
        let files = match &self.files {
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
        // The list folds away once a lesson is picked, so its text is in view without scrolling;
        // no inner scroll area: the controls panel scrolls, and nested scrolling hides rows.
        let fold = std::mem::take(&mut self.fold_list).then_some(false);
        if fold.is_some() {
            // Folded at once, not animated: the lesson's buttons below the list are where they
            // are drawn from the next frame on, so a click aimed at them lands.
            let id = ui.make_persistent_id("lessons_list");
            ui.ctx().animate_bool_with_time(id, false, 0.0);
        }
        egui::CollapsingHeader::new(format!("{} ({})", lang.t(S::AllLessons), files.len()))
            .id_salt("lessons_list")
            .default_open(true)
            .open(fold)
            .show(ui, |ui| {
                for (i, f) in files.iter().enumerate() {
                    let l = f.lesson();
                    let label = format!("#{} {}", l.row, l.title.get(zh));
                    let on = self.selected == Some(i);
                    // Wrapped, so a long title does not widen the controls panel.
                    if ui.add(egui::Button::selectable(on, label).wrap()).clicked() {
                        clicked = Some(i);
                    }
                }
            });
        if let Some(i) = clicked {
            ctx.send(Command::SelectLesson(i));
        }
        let Some(file) = self.selected.and_then(|i| files.get(i)).cloned() else {
            return;
        };
        let l = file.lesson();
        ui.separator();
        ui.label(egui::RichText::new(l.title.get(zh)).heading());
        ui.label(egui::RichText::new(format!("{} #{}", lang.t(S::TheoryRow), l.row)).weak());
        // The quoted numbers: the latest check's at the session's seed, else the stored ones.
        let values = match &self.result {
            Some(r) if r.name == file.name && r.seed == file.session.seed && r.error.is_none() => {
                r.values.clone()
            }
            _ => l.check.measured.clone(),
        };
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            if ui.button(lang.t(S::OpenLesson)).clicked() {
                ctx.send(Command::OpenPath(file.path.clone()));
            }
            let running = self.checking();
            if ui
                .add_enabled(!running, egui::Button::new(lang.t(S::CheckLesson)))
                .on_hover_text(lang.t(S::CheckLessonHint))
                .clicked()
            {
                self.start_check(ui.ctx(), file.clone());
            }
            if running {
                ui.spinner();
            }
            let rating = self.rating();
            if ui
                .add_enabled(!rating, egui::Button::new(lang.t(S::SeedRate)))
                .on_hover_text(lang.t(S::SeedRateHint))
                .clicked()
            {
                self.start_seed_rate(ui.ctx(), file.clone());
            }
            if rating {
                ui.spinner();
            }
        });
        if let Some(e) = &self.failed {
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
        }
        if let Some(r) = &self.result
            && r.name == file.name
        {
            result_ui(ui, r, l, lang);
        }
        if let Some(r) = &self.seed_rate
            && r.name == file.name
        {
            let color = |ok: bool| {
                if ok {
                    egui::Color32::from_rgb(70, 170, 90)
                } else {
                    egui::Color32::from_rgb(230, 80, 60)
                }
            };
            // At least 19 of 20 seeds: the bar `nnlab lessons --verify --seeds 20` holds.
            let enough = |k: usize| 20 * k as u64 >= 19 * r.seeds;
            ui.colored_label(
                color(enough(r.passed)),
                format!(
                    "{} {} {} {}",
                    lang.t(S::SeedRatePassed),
                    r.passed,
                    lang.t(S::SeedRateOf),
                    r.seeds
                ),
            );
            ui.colored_label(
                color(enough(r.control_failed)),
                format!(
                    "{} {} {} {}",
                    lang.t(S::SeedRateControl),
                    r.control_failed,
                    lang.t(S::SeedRateOf),
                    r.seeds
                ),
            );
        }
        ui.add_space(4.0);
        ui.label(egui::RichText::new(lang.t(S::WhatToWatch)).strong());
        rich_text(ui, &lessons::fill(l.text.get(zh), &values));
        ui.add_space(4.0);
        ui.label(egui::RichText::new(lang.t(S::ExpectedOutcome)).strong());
        for e in &l.check.expect {
            bullet(ui, &e.in_words(&l.check, zh));
        }
        if let Some(c) = &l.check.control {
            ui.add_space(4.0);
            ui.label(egui::RichText::new(lang.t(S::ControlHeading)).strong());
            rich_text(ui, &lessons::fill(c.text.get(zh), &values));
        }
    }
}

/// Lesson text as paragraphs (blank lines), bullets ("- " or "• ") and headings ("## ").
fn rich_text(ui: &mut egui::Ui, text: &str) {
    for para in text.split("\n\n") {
        for line in para.lines() {
            let line = line.trim_end();
            if let Some(h) = line.strip_prefix("## ") {
                ui.label(egui::RichText::new(h).strong());
            } else if let Some(item) = line.strip_prefix("- ").or(line.strip_prefix("• ")) {
                bullet(ui, item);
            } else if !line.is_empty() {
                ui.label(line);
            }
        }
        ui.add_space(3.0);
    }
}

fn bullet(ui: &mut egui::Ui, text: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.label("•");
        ui.label(text);
    });
}

/// One expectation: what, measured against expected in words, and the verdict.
fn outcome_ui(
    ui: &mut egui::Ui,
    x: &lessons::ExpectResult,
    e: &lessons::Expect,
    l: &lessons::Lesson,
    lang: Lang,
) {
    let zh = lang == Lang::Zh;
    let words = e.in_words(&l.check, zh);
    let (what, expected) = words.split_once(": ").unwrap_or((&words, ""));
    let expected = if e.than.is_some() {
        format!("{expected} (= {})", lessons::fmt_num(x.rhs))
    } else {
        expected.to_string()
    };
    let (verdict, color) = if x.pass {
        (lang.t(S::Pass), egui::Color32::from_rgb(70, 170, 90))
    } else {
        (lang.t(S::Fail), egui::Color32::from_rgb(230, 80, 60))
    };
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.label("•");
        ui.label(egui::RichText::new(what).strong());
        ui.label(format!(
            "{} {}, {} {expected}",
            lang.t(S::Measured),
            lessons::fmt_num(x.measured),
            lang.t(S::Expected)
        ));
        ui.colored_label(color, verdict);
    });
}

fn result_ui(ui: &mut egui::Ui, r: &LessonResult, l: &lessons::Lesson, lang: Lang) {
    let (ok, bad) = (
        egui::Color32::from_rgb(70, 170, 90),
        egui::Color32::from_rgb(230, 80, 60),
    );
    if let Some(e) = &r.error {
        ui.colored_label(bad, e);
        return;
    }
    for (x, e) in r.results.iter().zip(&l.check.expect) {
        outcome_ui(ui, x, e, l, lang);
    }
    let verdict = if r.passed() {
        S::LessonPassed
    } else {
        S::LessonFailed
    };
    ui.label(format!("{} ({:.1} s)", lang.t(verdict), r.seconds));
    if let Some(c) = &r.control {
        if let Some(e) = &c.error {
            ui.colored_label(bad, format!("{}: {e}", lang.t(S::ControlError)));
        } else if c.failed_as_expected() {
            ui.colored_label(ok, lang.t(S::ControlFails));
            for (x, e) in c.results.iter().zip(&l.check.expect) {
                if !x.pass {
                    outcome_ui(ui, x, e, l, lang);
                }
            }
        } else {
            ui.colored_label(bad, lang.t(S::ControlBroken));
        }
    }
}
