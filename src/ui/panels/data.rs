//! The data panel: every generator with a thumbnail, noise, n, test fraction, seed,
//! Regenerate, and CSV loading (native dialog on a thread, typed path as fallback).

use eframe::egui;

use crate::data::Dataset;
use crate::data::spec::{DataSource, DataSpec};
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::model::{GENERATORS, source_name};
use crate::ui::theme;
use crate::ui::view::{View, ViewCtx};

/// The data panel's own state: the formula and CSV path as typed, their errors, thumbnails.
#[derive(Default)]
pub struct DataView {
    /// The formula as typed (data by formula); applied on Enter.
    pub formula_text: String,
    /// Why the typed formula was refused, shown under it (None once one is accepted).
    pub formula_error: Option<String>,
    /// The CSV file's path as typed (or as chosen with Browse…); loaded on Load or Enter.
    pub csv_path: String,
    /// Why the CSV file was refused (unreadable, not a table, or a shape the network cannot
    /// take), shown under the path.
    pub csv_error: Option<String>,
    thumbnails: Thumbnails,
}

/// Small datasets of each generator, made once for the thumbnails.
#[derive(Default)]
pub struct Thumbnails {
    sets: Vec<(DataSource, Option<Dataset>)>,
}

impl Thumbnails {
    fn ensure(&mut self) {
        if !self.sets.is_empty() {
            return;
        }
        for &s in GENERATORS.iter().filter(|s| **s != DataSource::Inline) {
            let spec = DataSpec::generator(s, 120, 0.03);
            self.sets.push((s, crate::data::generate(&spec, 7).ok()));
        }
    }
}

fn draw_thumb(
    ui: &mut egui::Ui,
    ds: Option<&Dataset>,
    selected: bool,
    dark: bool,
) -> egui::Response {
    let size = egui::vec2(56.0, 56.0);
    let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::click());
    let p = ui.painter_at(rect);
    let bg = if dark {
        egui::Color32::from_gray(30)
    } else {
        egui::Color32::from_gray(250)
    };
    p.rect_filled(rect, 3.0, bg);
    let stroke = if selected {
        egui::Stroke::new(2.5, ui.visuals().selection.stroke.color)
    } else if resp.hovered() {
        egui::Stroke::new(1.5, ui.visuals().widgets.hovered.fg_stroke.color)
    } else {
        egui::Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
    };
    let Some(ds) = ds else {
        p.rect_stroke(rect, 3.0, stroke, egui::StrokeKind::Inside);
        return resp;
    };
    let r = rect.shrink(5.0);
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    let twod = ds.inputs >= 2;
    for i in 0..ds.rows() {
        let row = ds.row(i);
        let (x, y) = if twod {
            (row[0], row[1])
        } else {
            (row[0], ds.y[i])
        };
        lo = [lo[0].min(x), lo[1].min(y)];
        hi = [hi[0].max(x), hi[1].max(y)];
    }
    let w = [(hi[0] - lo[0]).max(1e-9), (hi[1] - lo[1]).max(1e-9)];
    for i in 0..ds.rows() {
        let row = ds.row(i);
        let (x, y) = if twod {
            (row[0], row[1])
        } else {
            (row[0], ds.y[i])
        };
        let pos = egui::pos2(
            r.left() + ((x - lo[0]) / w[0]) as f32 * r.width(),
            r.bottom() - ((y - lo[1]) / w[1]) as f32 * r.height(),
        );
        let c = if ds.classes > 0 {
            theme::class_color(ds.y[i] as usize)
        } else {
            theme::POS
        };
        p.circle_filled(pos, 1.6, c);
    }
    p.rect_stroke(rect, 3.0, stroke, egui::StrokeKind::Inside);
    resp
}

impl View for DataView {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        egui::CollapsingHeader::new(egui::RichText::new(ctx.t(S::Data)).heading())
            .id_salt("data_section")
            .default_open(true)
            .show(ui, |ui| self.body(ui, ctx));
    }
}

impl DataView {
    /// The widgets edit a copy of the session; a changed copy goes back as
    /// `Command::EditSession`, followed by `DataChanged` once an edit is finished.
    fn body(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        self.thumbnails.ensure();
        let mut edited = ctx.lab.session().clone();
        let current = edited.data.source;
        let mut picked = None;
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(4.0, 4.0);
            for (s, ds) in &self.thumbnails.sets {
                let r = draw_thumb(ui, ds.as_ref(), *s == current, ctx.dark())
                    .on_hover_text(source_name(*s));
                if r.clicked() {
                    picked = Some(*s);
                }
            }
        });
        ui.label(
            egui::RichText::new(format!(
                "{}: {}",
                ctx.t(S::Data),
                if current == DataSource::Csv {
                    edited.data.path.clone().unwrap_or_default()
                } else {
                    source_name(current).to_string()
                }
            ))
            .strong(),
        );
        let mut changed = false;
        if let Some(s) = picked
            && s != current
        {
            let d = &mut edited.data;
            d.source = s;
            d.path = None;
            if d.n == 0 {
                d.n = 200;
            }
            changed = true;
        }
        let d = &mut edited.data;
        let generator = !matches!(d.source, DataSource::Csv | DataSource::Inline);
        egui::Grid::new("data_grid")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                if generator && d.source != DataSource::Boolean {
                    let name = ctx.t(S::Noise);
                    ui.label(name);
                    changed |= slider_ui(ui, name, &mut d.noise, 0.5, 0.01);
                    ui.end_row();
                    let name = ctx.t(S::Samples);
                    ui.label(name);
                    let mut n = d.n;
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut n)
                                .range(10..=100_000)
                                .clamp_existing_to_range(false)
                                .speed(5),
                        )
                        .accessible_name(name);
                    d.n = n;
                    changed |= r.drag_stopped() || r.lost_focus();
                    ui.end_row();
                }
                let name = ctx.t(S::TestFraction);
                ui.label(name);
                changed |= slider_ui(ui, name, &mut d.test_fraction, 0.9, 0.05);
                ui.end_row();
                let name = ctx.t(S::Seed);
                ui.label(name);
                let mut seed = d.seed.unwrap_or(edited.seed);
                let r = ui
                    .add(
                        egui::DragValue::new(&mut seed)
                            .range(0..=u32::MAX as u64)
                            .clamp_existing_to_range(false),
                    )
                    .accessible_name(name);
                if r.changed() {
                    d.seed = Some(seed);
                }
                changed |= r.drag_stopped() || r.lost_focus();
                ui.end_row();
                changed |= match d.source {
                    DataSource::Blobs => count_ui(ui, ctx.t(S::Classes), &mut d.classes, 3, 2..=8),
                    DataSource::Sawtooth => count_ui(ui, ctx.t(S::Teeth), &mut d.teeth, 4, 1..=64),
                    DataSource::Boolean => count_ui(ui, ctx.t(S::Bits), &mut d.bits, 2, 1..=12),
                    _ => false,
                };
            });
        ui.horizontal(|ui| {
            if ui.button(ctx.t(S::Regenerate)).clicked() {
                let d = &mut edited.data;
                d.seed = Some(d.seed.unwrap_or(edited.seed).wrapping_add(1));
                changed = true;
            }
            let train = ctx.lab.train().rows();
            let test = ctx.lab.test().rows();
            let kind = if ctx.lab.train().classes > 0 {
                format!("{} {}", ctx.lab.train().classes, ctx.t(S::Classes))
            } else {
                ctx.t(S::Regression).to_string()
            };
            ui.label(
                egui::RichText::new(format!("{train} + {test} {} · {kind}", ctx.t(S::Rows))).weak(),
            );
        });
        self.formula_ui(ui, ctx, &mut edited, &mut changed);
        ui.separator();
        ui.label(ctx.t(S::LoadCsv));
        ui.horizontal(|ui| {
            if ui.button(ctx.t(S::Browse)).clicked() {
                ctx.send(Command::BrowseCsv);
            }
            // Load CSV at the right end, the path field in exactly the width between: a guessed
            // width would make the row wider than the panel, and the panel would grow every frame.
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let load = ui.button(ctx.t(S::LoadCsv)).clicked();
                let r = ui.add(
                    egui::TextEdit::singleline(&mut self.csv_path)
                        .hint_text(ctx.t(S::PathHint))
                        .desired_width(f32::INFINITY),
                );
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (load || enter) && !self.csv_path.trim().is_empty() {
                    ctx.send(Command::LoadCsv(self.csv_path.trim().into()));
                }
            });
        });
        if let Some(e) = &self.csv_error {
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
        }
        if edited != *ctx.lab.session() {
            ctx.send(Command::EditSession(Box::new(edited)));
        }
        if changed {
            ctx.send(Command::DataChanged);
        }
    }
}

impl DataView {
    /// Data by formula: a typed condition labels two classes (2-D inputs unless it names more),
    /// a typed number is a regression target of the inputs it names. Applied on Enter; a
    /// formula that does not read is refused where typed, with its column.
    fn formula_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &ViewCtx<'_>,
        edited: &mut crate::session::Session,
        changed: &mut bool,
    ) {
        let current = edited
            .data
            .formula
            .clone()
            .filter(|_| edited.data.source == DataSource::Formula);
        if self.formula_text.is_empty()
            && let Some(f) = &current
        {
            self.formula_text = f.clone();
        }
        ui.horizontal(|ui| {
            let label = ui.label(ctx.t(S::FormulaLabel));
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.formula_text)
                        .hint_text(ctx.t(S::FormulaHint))
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let text = self.formula_text.trim().to_string();
            if !enter || text.is_empty() || current.as_deref() == Some(text.as_str()) {
                return;
            }
            let mut spec = DataSpec {
                formula: Some(text.clone()),
                inputs: None,
                ..edited.data.clone()
            };
            spec.source = DataSource::Formula;
            spec.task = None;
            match crate::data::formula_of(&spec) {
                Ok((f, inputs)) => {
                    // A condition is drawn as a decision map: two inputs unless it names more.
                    spec.inputs = Some(if f.is_condition() {
                        inputs.max(2)
                    } else {
                        inputs
                    });
                    spec.path = None;
                    if spec.n == 0 {
                        spec.n = 200;
                    }
                    edited.data = spec;
                    self.formula_error = None;
                    *changed = true;
                }
                Err(e) => self.formula_error = Some(e.message),
            }
        });
        if let Some(e) = &self.formula_error {
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
        }
    }
}

/// A slider over [0, max] in steps of `step` with its typed value beside it, both named `name`
/// for screen readers (a slider's own value field would have no name); true when a change is
/// finished (drag released, or the value typed or nudged).
///
/// Neither widget may rewrite a value nobody touched: a clamping slider snaps the existing value
/// to its step grid every frame (0.3 with step 0.05 becomes 6 × 0.05 = 0.30000000000000004),
/// and a clamping drag value pulls a file's out-of-range value into range, both silently changing
/// the session. So the slider never clamps (its pointer and keys still stay in range and on the
/// grid) and the drag value clamps only what is typed or dragged.
fn slider_ui(ui: &mut egui::Ui, name: &str, v: &mut f64, max: f64, step: f64) -> bool {
    ui.horizontal(|ui| {
        let s = ui
            .add(
                egui::Slider::new(v, 0.0..=max)
                    .step_by(step)
                    .clamping(egui::SliderClamping::Never)
                    .show_value(false),
            )
            .accessible_name(name);
        let t = ui
            .add(
                egui::DragValue::new(v)
                    .range(0.0..=max)
                    .clamp_existing_to_range(false)
                    .speed(step / 2.0)
                    .max_decimals(3),
            )
            .accessible_name(name);
        s.drag_stopped() || t.drag_stopped() || (t.changed() && !t.dragged())
    })
    .inner
}

/// A labelled count of a generator (classes, teeth, bits) in the grid; true when it changed.
fn count_ui(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<usize>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> bool {
    ui.label(label);
    let mut k = value.unwrap_or(default);
    let changed = ui
        .add(
            egui::DragValue::new(&mut k)
                .range(range)
                .clamp_existing_to_range(false),
        )
        .accessible_name(label)
        .changed();
    if changed {
        *value = Some(k);
    }
    ui.end_row();
    changed
}
