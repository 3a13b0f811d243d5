//! The Confusion tile: the train and test confusion matrices of the network in the latest
//! snapshot (counts, cells coloured by the row's share), each class's recall and precision, and
//! the accuracy. The matrices come from `train::confusion` on a helper thread (a forward pass
//! over every row: a few milliseconds for thousands of rows, too much for a frame); the tile
//! asks again for each new snapshot once the last answer is in. For regression it says why a
//! confusion matrix does not apply.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32};

use crate::data::Dataset;
use crate::runtime::JobThread;
use crate::train::{Confusion, Trainer, TrainerConfig};
use crate::ui::i18n::S;
use crate::ui::theme;
use crate::ui::view::{View, ViewCtx};

/// At most this often while training (each answer is a pass over the data).
const EVERY: Duration = Duration::from_millis(250);
/// More classes than this are not drawn as a grid (the CSV export still has every count).
pub const MAX_DRAWN_CLASSES: usize = 16;

/// What the helper thread is asked: the network of `config` at `theta`, on both sets.
pub struct Request {
    id: u64,
    step: u64,
    config: TrainerConfig,
    theta: Vec<f64>,
    train: Arc<Dataset>,
    test: Arc<Dataset>,
}

/// The matrices of one snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The training step of the snapshot.
    pub step: u64,
    /// The training rows' matrix.
    pub train: Confusion,
    /// None without test rows.
    pub test: Option<Confusion>,
}

/// The thread's answer to request `id`.
pub(crate) struct Done {
    id: u64,
    result: Result<Answer, String>,
}

/// The train and test confusion matrices of `config`'s network at `theta` (None for
/// regression), exactly as the training thread's evaluation classifies the rows.
pub fn compute(
    config: &TrainerConfig,
    theta: Vec<f64>,
    train: &Dataset,
    test: &Dataset,
) -> Result<Option<(Confusion, Option<Confusion>)>, String> {
    if train.classes == 0 {
        return Ok(None);
    }
    let mut t = Trainer::new(config, train.clone(), test.clone(), Some(theta))
        .map_err(|e| e.to_string())?;
    let a = crate::train::confusion(&mut t, train);
    let b = (test.rows() > 0)
        .then(|| crate::train::confusion(&mut t, test))
        .flatten();
    Ok(a.map(|a| (a, b)))
}

/// The tile's own state and its helper thread.
pub struct ConfusionView {
    id: u64,
    /// θ of the last request (the same θ is not asked for again).
    requested: Vec<f64>,
    asked_at: Option<Instant>,
    computing: bool,
    /// When the network the answers belong to was built (a rebuild makes them stale).
    built: Option<Instant>,
    /// The matrices drawn.
    pub last: Option<Answer>,
    /// Why the last computation failed.
    pub error: Option<String>,
    thread: JobThread<Request, Done>,
}

impl ConfusionView {
    /// Nothing computed yet; `repaint` wakes the UI when the matrices arrive.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> ConfusionView {
        ConfusionView {
            id: 0,
            requested: Vec::new(),
            asked_at: None,
            computing: false,
            built: None,
            last: None,
            error: None,
            thread: JobThread::spawn(
                "nnlab-confusion",
                repaint,
                |r: Request, _cancel, emit| {
                    let result = compute(&r.config, r.theta, &r.train, &r.test).and_then(|m| {
                        m.map(|(train, test)| Answer {
                            step: r.step,
                            train,
                            test,
                        })
                        .ok_or_else(|| "regression".to_string())
                    });
                    emit(Done { id: r.id, result });
                },
                |msg| Done {
                    id: u64::MAX,
                    result: Err(format!("the confusion matrix failed: {msg}")),
                },
            ),
        }
    }

    /// Take the thread's answer, and ask for the snapshot shown when it is new.
    fn follow(&mut self, ctx: &ViewCtx<'_>, ui: &egui::Ui) {
        // Matrices of another network or other data would mislead: forget them and any answer
        // on its way.
        if ctx.lab.rebuilt_at() != self.built {
            self.built = ctx.lab.rebuilt_at();
            self.id += 1;
            self.thread.cancel();
            self.computing = false;
            self.requested.clear();
            self.asked_at = None;
            self.last = None;
            self.error = None;
        }
        while let Some(Done { id, result }) = self.thread.try_recv() {
            if id != self.id && id != u64::MAX {
                continue;
            }
            self.computing = false;
            match result {
                Ok(a) => {
                    self.last = Some(a);
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
        let (Some(net), Some(snap)) = (ctx.lab.net(), ctx.lab.snapshot()) else {
            return;
        };
        if self.computing || snap.theta == self.requested || snap.theta.len() != net.n_params {
            return;
        }
        if let Some(t) = self.asked_at
            && t.elapsed() < EVERY
        {
            ui.ctx().request_repaint_after(EVERY - t.elapsed());
            return;
        }
        self.id += 1;
        self.requested.clone_from(&snap.theta);
        self.asked_at = Some(Instant::now());
        self.computing = true;
        self.thread.submit(Request {
            id: self.id,
            step: snap.step,
            config: ctx.lab.applied().trainer_config(),
            theta: snap.theta.clone(),
            train: ctx.lab.train_shared(),
            test: Arc::new(ctx.lab.test().clone()),
        });
    }

    /// The matrices as CSV: `set,true_class,predicted_class,count` (None before the first).
    pub fn csv(&self) -> Option<String> {
        let a = self.last.as_ref()?;
        let mut out = format!("# step {}\nset,true_class,predicted_class,count\n", a.step);
        for (name, m) in [("train", Some(&a.train)), ("test", a.test.as_ref())] {
            let Some(m) = m else { continue };
            for t in 0..m.classes {
                for p in 0..m.classes {
                    out.push_str(&format!("{name},{t},{p},{}\n", m.get(t, p)));
                }
            }
        }
        Some(out)
    }
}

impl View for ConfusionView {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        if ctx.lab.train().classes == 0 {
            ui.label(ctx.t(S::ConfusionRegression));
            return;
        }
        self.follow(ctx, ui);
        if let Some(e) = &self.error {
            ui.colored_label(Color32::from_rgb(230, 80, 60), e);
        }
        let Some(a) = &self.last else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(ctx.t(S::ConfusionWaiting));
            });
            return;
        };
        ui.label(
            egui::RichText::new(format!(
                "{} {} · {}",
                ctx.t(S::StepCount),
                a.step,
                ctx.t(S::ConfusionAxes)
            ))
            .small()
            .weak(),
        );
        let sets: Vec<(&str, &Confusion)> = [
            (ctx.t(S::TrainLegend), Some(&a.train)),
            (ctx.t(S::TestLegend), a.test.as_ref()),
        ]
        .into_iter()
        .filter_map(|(n, m)| m.map(|m| (n, m)))
        .collect();
        let side_by_side = ui.available_width() > 2.0 * ui.available_height().min(420.0);
        let dark = ctx.dark();
        // Rows as tall as lets every matrix fit the tile (title, header, k rows, precision).
        let k = a.train.classes as f32;
        let stacked = if side_by_side { 1.0 } else { sets.len() as f32 };
        let room = ui.available_height() - 40.0 - 28.0 * stacked;
        let row_h = (room / (stacked * (k + 2.0))).clamp(16.0, 40.0);
        let draw = |ui: &mut egui::Ui, (name, m): (&str, &Confusion)| {
            matrix_ui(ui, ctx, name, m, dark, row_h)
        };
        if side_by_side && sets.len() == 2 {
            ui.columns(2, |cols| {
                for (col, set) in cols.iter_mut().zip(sets) {
                    draw(col, set);
                }
            });
        } else {
            egui::ScrollArea::vertical().show(ui, |ui| {
                for set in sets {
                    draw(ui, set);
                }
            });
        }
        if a.test.is_none() {
            ui.label(egui::RichText::new(ctx.t(S::NoTestSet)).weak());
        }
        ui.label(
            egui::RichText::new(ctx.t(S::ConfusionLegend))
                .small()
                .weak(),
        );
    }
}

/// `v` as a percentage with one decimal, or "—" when there are no rows to measure it on.
fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", 100.0 * v)
    } else {
        "—".to_string()
    }
}

/// One matrix: a title with its accuracy, then k × k cells (true class down, predicted class
/// across) with their counts, coloured by the share of their row; recall at the end of each
/// row, precision under each column.
fn matrix_ui(
    ui: &mut egui::Ui,
    ctx: &ViewCtx<'_>,
    name: &str,
    m: &Confusion,
    dark: bool,
    row_h: f32,
) {
    ui.label(
        egui::RichText::new(format!(
            "{name} · {} {} · {} {}",
            ctx.t(S::ConfusionAccuracy),
            percent(m.accuracy()),
            m.total(),
            ctx.t(S::Rows)
        ))
        .strong(),
    );
    let k = m.classes;
    if k > MAX_DRAWN_CLASSES {
        ui.label(format!(
            "{} ({k} > {MAX_DRAWN_CLASSES})",
            ctx.t(S::ConfusionTooMany)
        ));
        return;
    }
    // Columns: class label, k cells, recall. Rows: header, k rows, precision.
    let label_w = 30.0;
    let extra_w = 52.0;
    let avail = ui.available_width() - label_w - extra_w;
    let cell = (avail / k as f32).clamp(18.0, 64.0);
    let row_h = row_h.min(cell);
    let width = label_w + cell * k as f32 + extra_w;
    let height = row_h * (k as f32 + 2.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    let p = ui.painter_at(rect);
    let text = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let font = egui::FontId::proportional((row_h * 0.42).clamp(9.0, 14.0));
    let small = egui::FontId::proportional(10.0);
    let bg = if dark {
        Color32::from_rgb(40, 40, 44)
    } else {
        Color32::from_rgb(245, 245, 245)
    };
    let x_of = |j: usize| rect.left() + label_w + cell * j as f32;
    let y_of = |i: usize| rect.top() + row_h * (i as f32 + 1.0);
    let center = |r: egui::Rect| r.center();
    // Header: predicted classes, then "recall".
    for j in 0..k {
        let r = egui::Rect::from_min_size(egui::pos2(x_of(j), rect.top()), egui::vec2(cell, row_h));
        p.text(
            center(r),
            egui::Align2::CENTER_CENTER,
            j.to_string(),
            font.clone(),
            theme::class_color(j),
        );
    }
    let extra_x = x_of(k) + 4.0;
    p.text(
        egui::pos2(extra_x, rect.top() + row_h / 2.0),
        egui::Align2::LEFT_CENTER,
        ctx.t(S::ConfusionRecall),
        small.clone(),
        weak,
    );
    for t in 0..k {
        let row_total: u64 = (0..k).map(|q| m.get(t, q)).sum();
        let y = y_of(t);
        p.text(
            egui::pos2(rect.left() + label_w / 2.0, y + row_h / 2.0),
            egui::Align2::CENTER_CENTER,
            t.to_string(),
            font.clone(),
            theme::class_color(t),
        );
        for q in 0..k {
            let c = m.get(t, q);
            let share = if row_total > 0 {
                c as f32 / row_total as f32
            } else {
                0.0
            };
            let r = egui::Rect::from_min_size(egui::pos2(x_of(q), y), egui::vec2(cell, row_h))
                .shrink(1.0);
            let hue = if t == q { theme::POS } else { theme::NEG };
            p.rect_filled(r, 2.0, lerp(bg, hue, share));
            let ink = if share > 0.55 { Color32::WHITE } else { text };
            p.text(
                r.center(),
                egui::Align2::CENTER_CENTER,
                c.to_string(),
                font.clone(),
                ink,
            );
        }
        p.text(
            egui::pos2(extra_x, y + row_h / 2.0),
            egui::Align2::LEFT_CENTER,
            percent(m.recall(t)),
            small.clone(),
            text,
        );
    }
    // Precision under each column.
    let y = y_of(k);
    p.text(
        egui::pos2(rect.left() + 2.0, y + row_h / 2.0),
        egui::Align2::LEFT_CENTER,
        ctx.t(S::ConfusionPrecisionShort),
        small.clone(),
        weak,
    );
    for q in 0..k {
        let r = egui::Rect::from_min_size(egui::pos2(x_of(q), y), egui::vec2(cell, row_h));
        p.text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            percent(m.precision(q)),
            small.clone(),
            text,
        );
    }
}

/// `a` blended towards `b` by `t` in [0, 1].
fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}
