//! The output view: decision regions as one texture with train and (outlined) test points,
//! optional discretisation and first-layer hyperplanes; for 1-D data the target and the fitted
//! curve. Hovering a neuron in the designer shows that neuron's output here instead.

use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotImage, PlotPoint, PlotPoints, Points};

use crate::analysis::contour::Polyline;
use crate::analysis::hyperplanes as contour;
use crate::runtime::worker::{Command, MapRequest, OutputMap, Snapshot};
use crate::ui::app::NnlabApp;
use crate::ui::i18n::S;
use crate::ui::theme;

#[derive(Default)]
pub struct Textures {
    pub decision: Option<TextureHandle>,
    /// [layer][unit]
    pub neurons: Vec<Vec<TextureHandle>>,
    pub features: Vec<TextureHandle>,
    /// The unit hovered in the diagram, at the decision map's resolution: ((column, unit), map).
    pub focus: Option<((usize, usize), TextureHandle)>,
    /// The maps' sides and focus the views want (set while drawing), and what the worker was
    /// last asked for.
    pub maps: MapRequest,
    maps_sent: Option<MapRequest>,
    /// Per first-layer unit, the zero set of its activation's argument (when the overlay is on).
    pub planes: Vec<Vec<Polyline>>,
    /// The planes are older than the newest snapshot.
    planes_stale: bool,
    planes_at: Option<Instant>,
}

/// The zero sets are a few milliseconds of work: at most this often while training.
const PLANES_EVERY: Duration = Duration::from_millis(200);
/// Grid side of the zero sets (lines: marching squares interpolates between grid points).
const PLANES_GRID: usize = 64;

/// Grid points for a map covering `points` screen points: one per pixel, rounded up to a
/// multiple of 8 so resizing a tile does not ask for a new grid every frame.
pub fn map_side_for(points: f32, pixels_per_point: f32) -> usize {
    let px = (points * pixels_per_point).ceil();
    if !(px.is_finite() && px > 0.0) {
        return 0;
    }
    (px as usize).div_ceil(8) * 8
}

/// Called every frame: ask the worker for maps of the sizes the views drew last frame (a new
/// snapshot follows), upload the newest snapshot's maps once, and with the overlay on
/// recompute the first layer's zero sets for it (at most every `PLANES_EVERY`; the last one
/// always).
pub fn refresh(app: &mut NnlabApp, ctx: &egui::Context) {
    app.textures.maps.focus = app.hovered_neuron;
    if app.textures.maps_sent != Some(app.textures.maps) {
        app.textures.maps_sent = Some(app.textures.maps);
        app.timeline.maps = app.textures.maps;
        app.worker.send(Command::SetMaps(app.textures.maps));
    }
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
            contour::first_layer_zero_sets(
                net,
                &s.theta,
                bn.as_ref(),
                *x_range,
                *y_range,
                PLANES_GRID,
                crate::runtime::worker::MAX_NEURON_MAPS,
            )
        }
        _ => Vec::new(),
    };
}

/// A side × side map of values coloured on a diverging scale (its largest |value| at the ends).
fn map_image(values: &[f32], side: usize, dark: bool) -> ColorImage {
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
        size: [side, side],
        pixels,
        source_size: egui::vec2(side as f32, side as f32),
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
            side,
            values,
            confidence,
            ..
        } = &s.output
        else {
            self.decision = None;
            self.neurons.clear();
            self.features.clear();
            self.focus = None;
            return;
        };
        let (side, map_side) = (*side, s.map_side);
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
            size: [side, side],
            pixels,
            source_size: egui::vec2(side as f32, side as f32),
        };
        set_or_load(ctx, &mut self.decision, "decision", img);
        match &s.focus {
            Some(f) if f.values.len() == side * side => {
                let img = map_image(&f.values, side, dark);
                let mut slot = self.focus.take().map(|(_, t)| t);
                set_or_load(ctx, &mut slot, "focus", img);
                self.focus = slot.map(|t| (f.unit, t));
            }
            _ => self.focus = None,
        }
        self.neurons.resize_with(s.neurons.len(), Vec::new);
        for (l, layer) in s.neurons.iter().enumerate() {
            let slots = &mut self.neurons[l];
            slots.truncate(layer.len());
            for (j, vals) in layer.iter().enumerate() {
                let img = map_image(vals, map_side, dark);
                if let Some(t) = slots.get_mut(j) {
                    t.set(img, TextureOptions::LINEAR);
                } else {
                    slots.push(ctx.load_texture(format!("n{l}_{j}"), img, TextureOptions::LINEAR));
                }
            }
        }
        self.features.truncate(s.features.len());
        for (k, vals) in s.features.iter().enumerate() {
            let img = map_image(vals, map_side, dark);
            if let Some(t) = self.features.get_mut(k) {
                t.set(img, TextureOptions::LINEAR);
            } else {
                self.features
                    .push(ctx.load_texture(format!("f{k}"), img, TextureOptions::LINEAR));
            }
        }
    }
}

/// `v` with `decimals` decimals, or "—" when there is no number.
fn number(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "—".to_string()
    }
}

/// The last evaluation in words: losses and (for classification) accuracies, train then test;
/// without a test set, a phrase saying so instead of its missing numbers.
pub fn eval_line(app: &NnlabApp) -> String {
    let Some(e) = app.history.last_eval else {
        return String::new();
    };
    let test = app.test.rows() > 0;
    let classification = e.train_accuracy.is_finite();
    let mut parts = vec![format!(
        "{} {}",
        app.t(S::TrainLoss),
        number(e.train_loss, 4)
    )];
    if test {
        parts.push(format!("{} {}", app.t(S::TestLoss), number(e.test_loss, 4)));
    }
    if classification {
        let pct = |v: f64| number(100.0 * v, 1) + if v.is_finite() { "%" } else { "" };
        parts.push(format!("{} {}", app.t(S::TrainAcc), pct(e.train_accuracy)));
        if test {
            parts.push(format!("{} {}", app.t(S::TestAcc), pct(e.test_accuracy)));
        }
    }
    if !test {
        parts.push(app.t(S::NoTestSet).to_string());
    }
    parts.join(" · ")
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
            // The hovered unit at the decision map's resolution once the worker has sent it;
            // until then its diagram map.
            let focus = app
                .textures
                .focus
                .as_ref()
                .filter(|(u, _)| Some(*u) == hovered)
                .map(|(_, t)| t);
            let tex = match hovered {
                Some(_) if focus.is_some() => focus,
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
            let plot = Plot::new("output_plot")
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
            // Ask for a grid as fine as the pixels the map covers (up to 256 a side).
            let t = plot.transform;
            let (a, b) = (
                t.position_from_point(&PlotPoint::new(x0, y0)),
                t.position_from_point(&PlotPoint::new(x1, y1)),
            );
            let points = (b - a).abs().max_elem();
            let side = map_side_for(points, ui.ctx().pixels_per_point());
            if side > 0 {
                app.textures.maps.output = side;
            }
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
