//! The output view: decision regions as one texture with train and (outlined) test points,
//! optional discretisation and first-layer hyperplanes; for 1-D data the target and the fitted
//! curve. Hovering a neuron in the designer shows that neuron's output here instead.

use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotImage, PlotPoint, PlotPoints, Points};

use crate::runtime::worker::{GRID, OutputMap, Snapshot};
use crate::ui::app::NnlabApp;
use crate::ui::contour::{self, Polyline};
use crate::ui::i18n::S;
use crate::ui::theme;

#[derive(Default)]
pub struct Textures {
    pub decision: Option<TextureHandle>,
    /// [layer][unit]
    pub neurons: Vec<Vec<TextureHandle>>,
    pub features: Vec<TextureHandle>,
    /// Per first-layer unit, the zero set of its activation's argument (when the overlay is on).
    pub planes: Vec<Vec<Polyline>>,
    /// The planes are older than the newest snapshot.
    planes_stale: bool,
    planes_at: Option<Instant>,
}

/// The zero sets are a few milliseconds of work: at most this often while training.
const PLANES_EVERY: Duration = Duration::from_millis(200);

/// Called every frame: upload the newest snapshot's maps once, and with the overlay on recompute
/// the first layer's zero sets for it (at most every [`PLANES_EVERY`]; the last one always).
pub fn refresh(app: &mut NnlabApp, ctx: &egui::Context) {
    let Some(s) = &app.snapshot else {
        return;
    };
    if app.textures_stale {
        app.textures_stale = false;
        app.textures.update(ctx, s, app.dark, app.discretize);
        app.textures.planes_stale = true;
    }
    if !app.textures.planes_stale {
        return;
    }
    if !app.hyperplanes {
        app.textures.planes.clear();
        app.textures.planes_stale = false;
        return;
    }
    if let Some(t) = app.textures.planes_at
        && t.elapsed() < PLANES_EVERY
    {
        ctx.request_repaint_after(PLANES_EVERY - t.elapsed());
        return;
    }
    app.textures.planes_stale = false;
    app.textures.planes_at = Some(Instant::now());
    app.textures.planes = match (&app.net, &s.output) {
        (
            Some(net),
            OutputMap::Grid {
                x_range, y_range, ..
            },
        ) if app.hyperplanes => {
            let bn = contour::first_layer_bn(net, &s.theta, &app.train.x);
            contour::first_layer_zero_sets(net, &s.theta, bn.as_ref(), *x_range, *y_range, GRID)
        }
        _ => Vec::new(),
    };
}

fn map_image(values: &[f32], dark: bool) -> ColorImage {
    let m = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |a, b| a.max(b.abs()))
        .max(1.0);
    let pixels = values
        .iter()
        .map(|v| theme::diverging(v / m, dark))
        .collect();
    ColorImage {
        size: [GRID, GRID],
        pixels,
        source_size: egui::vec2(GRID as f32, GRID as f32),
    }
}

fn set_or_load(ctx: &egui::Context, slot: &mut Option<TextureHandle>, name: &str, img: ColorImage) {
    let opt = TextureOptions::LINEAR;
    match slot {
        Some(t) => t.set(img, opt),
        None => *slot = Some(ctx.load_texture(name, img, opt)),
    }
}

impl Textures {
    /// Upload the snapshot's maps (only when a new snapshot arrives).
    pub fn update(&mut self, ctx: &egui::Context, s: &Snapshot, dark: bool, discretize: bool) {
        let OutputMap::Grid {
            values, confidence, ..
        } = &s.output
        else {
            self.decision = None;
            self.neurons.clear();
            self.features.clear();
            return;
        };
        let multiclass = confidence.iter().any(|c| *c != 1.0);
        let pixels: Vec<Color32> = values
            .iter()
            .zip(confidence)
            .map(|(&v, &c)| {
                if multiclass || (v.fract() == 0.0 && v > 1.0) {
                    let c = if discretize { 1.0 } else { c };
                    theme::faded_class(v as usize, c, dark)
                } else {
                    let v = if discretize { v.signum() } else { v };
                    theme::region(v, dark)
                }
            })
            .collect();
        let img = ColorImage {
            size: [GRID, GRID],
            pixels,
            source_size: egui::vec2(GRID as f32, GRID as f32),
        };
        set_or_load(ctx, &mut self.decision, "decision", img);
        self.neurons.resize_with(s.neurons.len(), Vec::new);
        for (l, layer) in s.neurons.iter().enumerate() {
            let slots = &mut self.neurons[l];
            slots.truncate(layer.len());
            for (j, vals) in layer.iter().enumerate() {
                let img = map_image(vals, dark);
                if let Some(t) = slots.get_mut(j) {
                    t.set(img, TextureOptions::LINEAR);
                } else {
                    slots.push(ctx.load_texture(format!("n{l}_{j}"), img, TextureOptions::LINEAR));
                }
            }
        }
        self.features.truncate(s.features.len());
        for (k, vals) in s.features.iter().enumerate() {
            let img = map_image(vals, dark);
            if let Some(t) = self.features.get_mut(k) {
                t.set(img, TextureOptions::LINEAR);
            } else {
                self.features
                    .push(ctx.load_texture(format!("f{k}"), img, TextureOptions::LINEAR));
            }
        }
    }
}

fn eval_line(app: &NnlabApp) -> String {
    match app.history.last_eval {
        Some(e) => {
            let mut s = format!(
                "{} {:.4} · {} {:.4}",
                app.t(S::TrainLoss),
                e.train_loss,
                app.t(S::TestLoss),
                e.test_loss
            );
            if e.train_accuracy.is_finite() {
                s.push_str(&format!(
                    " · {} {:.1}% · {} {:.1}%",
                    app.t(S::TrainAcc),
                    100.0 * e.train_accuracy,
                    app.t(S::TestAcc),
                    100.0 * e.test_accuracy
                ));
            }
            s
        }
        None => String::new(),
    }
}

pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let mut d = app.discretize;
        if ui.checkbox(&mut d, app.t(S::Discretize)).changed() {
            app.discretize = d;
            if let Some(s) = &app.snapshot {
                app.textures.update(ui.ctx(), s, app.dark, d);
            }
        }
        let plane = app.net.as_ref().is_some_and(|n| n.inputs == 2);
        let (th, tt) = (app.t(S::Hyperplanes), app.t(S::TestPoints));
        if ui
            .add_enabled(plane, egui::Checkbox::new(&mut app.hyperplanes, th))
            .on_hover_text(app.t(S::HyperplaneHint))
            .changed()
        {
            app.textures.planes_stale = true;
            app.textures.planes_at = None;
        }
        ui.checkbox(&mut app.show_test, tt);
    });
    ui.label(egui::RichText::new(eval_line(app)).small());
    let hovered = app.hovered_neuron;
    if let Some((l, j)) = hovered {
        let name = if l == 0 {
            app.net
                .as_ref()
                .and_then(|n| n.features.get(j))
                .map(|f| f.label())
                .unwrap_or_default()
        } else {
            format!("{} {} · {} {}", app.t(S::Layer), l, app.t(S::Neuron), j + 1)
        };
        ui.label(egui::RichText::new(name).strong());
    }
    let Some(snap) = app.snapshot.as_ref() else {
        ui.spinner();
        return;
    };
    let dark = app.dark;
    let outline = if dark { Color32::WHITE } else { Color32::BLACK };
    match &snap.output {
        OutputMap::None => {
            ui.label(app.t(S::NoMap));
        }
        OutputMap::Grid {
            x_range, y_range, ..
        } => {
            let tex = match hovered {
                Some((0, j)) => app.textures.features.get(j),
                Some((l, j)) => app.textures.neurons.get(l - 1).and_then(|v| v.get(j)),
                None => app.textures.decision.as_ref(),
            }
            .or(app.textures.decision.as_ref())
            .map(|t| t.id());
            let (x0, x1) = *x_range;
            let (y0, y1) = *y_range;
            let train = app.train.clone();
            let test = app.test.clone();
            let lines: &[Vec<Polyline>] = if app.hyperplanes {
                &app.textures.planes
            } else {
                &[]
            };
            let show_test = app.show_test;
            Plot::new("output_plot")
                .data_aspect(1.0)
                .allow_scroll(false)
                .show_grid(false)
                .default_x_bounds(x0, x1)
                .default_y_bounds(y0, y1)
                .show(ui, |p| {
                    if let Some(t) = tex {
                        p.image(PlotImage::new(
                            "map",
                            t,
                            PlotPoint::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                            egui::vec2((x1 - x0) as f32, (y1 - y0) as f32),
                        ));
                    }
                    for (set, is_test) in [(&train, false), (&test, true)] {
                        if is_test && !show_test {
                            continue;
                        }
                        let k = set.classes.max(1);
                        for c in 0..k {
                            let pts: Vec<[f64; 2]> = (0..set.rows())
                                .filter(|&i| set.classes == 0 || set.y[i] as usize == c)
                                .map(|i| [set.row(i)[0], set.row(i)[1]])
                                .collect();
                            if pts.is_empty() {
                                continue;
                            }
                            let color = if set.classes == 0 {
                                theme::POS
                            } else {
                                theme::class_color(c)
                            };
                            let name = if is_test { "test" } else { "train" };
                            if is_test {
                                p.points(
                                    Points::new(name, PlotPoints::from(pts.clone()))
                                        .radius(4.0)
                                        .shape(MarkerShape::Circle)
                                        .color(outline)
                                        .filled(false),
                                );
                            }
                            if !is_test {
                                p.points(
                                    Points::new(name, PlotPoints::from(pts.clone()))
                                        .radius(3.6)
                                        .color(theme::point_halo(dark)),
                                );
                            }
                            p.points(
                                Points::new(name, PlotPoints::from(pts))
                                    .radius(if is_test { 3.0 } else { 2.5 })
                                    .color(color),
                            );
                        }
                    }
                    for (k, unit) in lines.iter().enumerate() {
                        for pts in unit {
                            p.line(
                                Line::new(format!("h{}", k + 1), PlotPoints::from(pts.clone()))
                                    .color(outline.gamma_multiply(0.7))
                                    .width(1.2),
                            );
                        }
                    }
                });
        }
        OutputMap::Curve { xs, ys } => {
            let fitted: Vec<[f64; 2]> = match hovered {
                Some((l, j)) if l > 0 => snap
                    .neurons
                    .get(l - 1)
                    .and_then(|v| v.get(j))
                    .map(|v| xs.iter().zip(v).map(|(x, y)| [*x, *y as f64]).collect())
                    .unwrap_or_default(),
                Some((0, j)) => snap
                    .features
                    .get(j)
                    .map(|v| xs.iter().zip(v).map(|(x, y)| [*x, *y as f64]).collect())
                    .unwrap_or_default(),
                _ => xs.iter().zip(ys).map(|(x, y)| [*x, *y]).collect(),
            };
            let target: Vec<[f64; 2]> = (0..app.train.rows())
                .map(|i| [app.train.row(i)[0], app.train.y[i]])
                .collect();
            let test: Vec<[f64; 2]> = (0..app.test.rows())
                .map(|i| [app.test.row(i)[0], app.test.y[i]])
                .collect();
            let (tname, fname) = (app.t(S::Target), app.t(S::Fitted));
            let show_test = app.show_test;
            Plot::new("output_curve")
                .legend(Legend::default())
                .allow_scroll(false)
                .show(ui, |p| {
                    p.points(
                        Points::new(tname, PlotPoints::from(target))
                            .radius(2.0)
                            .color(theme::NEG),
                    );
                    if show_test {
                        p.points(
                            Points::new("test", PlotPoints::from(test))
                                .radius(3.0)
                                .filled(false)
                                .color(outline),
                        );
                    }
                    p.line(
                        Line::new(fname, PlotPoints::from(fitted))
                            .color(theme::POS)
                            .width(2.0),
                    );
                });
        }
    }
}
