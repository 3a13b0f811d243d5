//! The output view: decision regions as one texture with train and (outlined) test points,
//! optional discretisation and first-layer hyperplanes; for 1-D data the target and the fitted
//! curve. Hovering a neuron in the designer shows that neuron's output here instead.

use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotImage, PlotPoint, PlotPoints, Points};

use crate::analysis::contour::Polyline;
use crate::analysis::hyperplanes as contour;
use crate::data::drawn;
use crate::runtime::worker::{MapRequest, OutputMap, Snapshot};
use crate::ui::i18n::{Lang, S};
use crate::ui::lab::Lab;
use crate::ui::theme;
use crate::ui::view::{View, ViewCtx};

/// The output map's own state: its switches and the textures of the snapshot it shows.
pub struct OutputView {
    /// Colour by the predicted class (or sign) instead of the confidence.
    pub discretize: bool,
    /// Draw the first layer's hyperplanes over the map.
    pub hyperplanes: bool,
    /// Draw the test points on the map (and the test curve on a 1-D plot).
    pub show_test: bool,
    /// The maps' textures, uploaded from the latest snapshot.
    pub textures: Textures,
    /// A snapshot arrived since the textures were last uploaded.
    pub textures_stale: bool,
    /// Drawing the data on the map (issue 14 §4).
    pub draw: super::draw_tool::DrawTool,
}

impl Default for OutputView {
    fn default() -> Self {
        OutputView {
            discretize: false,
            hyperplanes: false,
            show_test: true,
            textures: Textures::default(),
            textures_stale: false,
            draw: Default::default(),
        }
    }
}

/// The textures of one snapshot's maps (the designer and the Geometry tile draw them too).
#[derive(Default)]
pub struct Textures {
    /// The decision map (2-D inputs).
    pub decision: Option<TextureHandle>,
    /// Each unit's activation over the input square: \[layer\]\[unit\].
    pub neurons: Vec<Vec<TextureHandle>>,
    /// Each input feature over the input square.
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

impl OutputView {
    /// Called every frame: upload the newest snapshot's maps once, and with the overlay on
    /// recompute the first layer's zero sets for it (at most every `PLANES_EVERY`; the last
    /// one always). Returns the maps of the sizes the views drew last frame when they changed
    /// since last asked: the app asks the worker for them (a new snapshot follows).
    pub fn refresh(
        &mut self,
        ctx: &egui::Context,
        lab: &Lab,
        hovered: Option<(usize, usize)>,
        dark: bool,
    ) -> Option<MapRequest> {
        self.textures.maps.focus = hovered;
        let mut ask = None;
        if self.textures.maps_sent != Some(self.textures.maps) {
            self.textures.maps_sent = Some(self.textures.maps);
            ask = Some(self.textures.maps);
        }
        let Some(s) = lab.snapshot() else {
            return ask;
        };
        if self.textures_stale {
            self.textures_stale = false;
            self.textures.update(ctx, s, dark, self.discretize);
            self.textures.planes_stale = true;
        }
        if !self.textures.planes_stale {
            return ask;
        }
        if !self.hyperplanes {
            self.textures.planes.clear();
            self.textures.planes_stale = false;
            return ask;
        }
        if let Some(t) = self.textures.planes_at
            && t.elapsed() < PLANES_EVERY
        {
            ctx.request_repaint_after(PLANES_EVERY - t.elapsed());
            return ask;
        }
        self.textures.planes_stale = false;
        self.textures.planes_at = Some(Instant::now());
        self.textures.planes = match (lab.net(), &s.output) {
            (
                Some(net),
                OutputMap::Grid {
                    x_range, y_range, ..
                },
            ) if self.hyperplanes => {
                let bn = contour::first_layer_bn(net, &s.theta, &lab.train().x);
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
        ask
    }
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

/// Colour steps of regression targets on the decision map (odd: one for 0).
const TARGET_STEPS: usize = 17;

/// The colour group of point `i`: its class, or its target's step in [-1, 1].
fn point_group(set: &drawn::Points, i: usize) -> usize {
    let y = set.y[i];
    if set.classes > 0 {
        y as usize
    } else {
        let half = (TARGET_STEPS / 2) as f64;
        ((y.clamp(-1.0, 1.0) * half).round() + half) as usize
    }
}

/// The rows of a 1-D dataset as (x, y) points: the target the fitted curve is drawn against
/// (the Output and Geometry tiles).
pub fn curve_points(ds: &crate::data::Dataset) -> Vec<[f64; 2]> {
    (0..ds.rows()).map(|i| [ds.row(i)[0], ds.y[i]]).collect()
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
pub fn eval_line(lab: &Lab, lang: Lang) -> String {
    let Some(e) = lab.history().last_eval else {
        return String::new();
    };
    let test = lab.test().rows() > 0;
    let classification = e.train_accuracy.is_finite();
    let mut parts = vec![format!(
        "{} {}",
        lang.t(S::TrainLoss),
        number(e.train_loss, 4)
    )];
    if test {
        parts.push(format!(
            "{} {}",
            lang.t(S::TestLoss),
            number(e.test_loss, 4)
        ));
    }
    if classification {
        let pct = |v: f64| number(100.0 * v, 1) + if v.is_finite() { "%" } else { "" };
        parts.push(format!("{} {}", lang.t(S::TrainAcc), pct(e.train_accuracy)));
        if test {
            parts.push(format!("{} {}", lang.t(S::TestAcc), pct(e.test_accuracy)));
        }
    } else if e.train_r2.is_finite() || e.train_rmse.is_finite() {
        parts.push(format!(
            "{} {}",
            lang.t(S::TrainRmse),
            number(e.train_rmse, 4)
        ));
        parts.push(format!("{} {}", lang.t(S::TrainR2), number(e.train_r2, 4)));
        if test {
            parts.push(format!("{} {}", lang.t(S::TestR2), number(e.test_r2, 4)));
        }
    }
    if !test {
        parts.push(lang.t(S::NoTestSet).to_string());
    }
    parts.join(" · ")
}

impl View for OutputView {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        ui.horizontal_wrapped(|ui| {
            let mut d = self.discretize;
            if ui.checkbox(&mut d, ctx.t(S::Discretize)).changed() {
                self.discretize = d;
                if let Some(s) = ctx.lab.snapshot() {
                    self.textures.update(ui.ctx(), s, ctx.dark(), d);
                }
            }
            let plane = ctx.lab.net().is_some_and(|n| n.inputs == 2);
            let (th, tt) = (ctx.t(S::Hyperplanes), ctx.t(S::TestPoints));
            if ui
                .add_enabled(plane, egui::Checkbox::new(&mut self.hyperplanes, th))
                .on_hover_text(ctx.t(S::HyperplaneHint))
                .changed()
            {
                self.textures.planes_stale = true;
                self.textures.planes_at = None;
            }
            ui.checkbox(&mut self.show_test, tt);
            self.draw.toggle_ui(ui, ctx);
        });
        // The points shown: the edited rows of drawn data (before the rebuild reports them).
        let points = drawn::points(&ctx.lab.session().data, ctx.lab.train(), ctx.lab.test());
        let drawing = self.draw.strip_ui(ui, ctx, points.as_ref());
        ui.label(egui::RichText::new(eval_line(ctx.lab, ctx.lang())).small());
        let hovered = ctx.hovered_neuron;
        if let Some((l, j)) = hovered {
            let name = if l == 0 {
                ctx.lab
                    .net()
                    .and_then(|n| n.features.get(j))
                    .map(|f| f.label())
                    .unwrap_or_default()
            } else {
                format!("{} {} · {} {}", ctx.t(S::Layer), l, ctx.t(S::Neuron), j + 1)
            };
            ui.label(egui::RichText::new(name).strong());
        }
        let Some(snap) = ctx.lab.snapshot() else {
            ui.spinner();
            return;
        };
        let dark = ctx.dark();
        let outline = if dark { Color32::WHITE } else { Color32::BLACK };
        match &snap.output {
            OutputMap::None => {
                ui.label(ctx.t(S::NoMap));
            }
            OutputMap::Grid {
                x_range, y_range, ..
            } => {
                // The hovered unit at the decision map's resolution once the worker has sent it;
                // until then its diagram map.
                let focus = self
                    .textures
                    .focus
                    .as_ref()
                    .filter(|(u, _)| Some(*u) == hovered)
                    .map(|(_, t)| t);
                let tex = match hovered {
                    Some(_) if focus.is_some() => focus,
                    Some((0, j)) => self.textures.features.get(j),
                    Some((l, j)) => self.textures.neurons.get(l - 1).and_then(|v| v.get(j)),
                    None => self.textures.decision.as_ref(),
                }
                .or(self.textures.decision.as_ref())
                .map(|t| t.id());
                let (x0, x1) = *x_range;
                let (y0, y1) = *y_range;
                let empty = drawn::Points::default();
                let (train_name, test_name) = (ctx.t(S::TrainLegend), ctx.t(S::TestLegend));
                let canvas = self.draw.canvas([x0, x1, y0, y1], drawing);
                let draw = &self.draw;
                let lines: &[Vec<Polyline>] = if self.hyperplanes {
                    &self.textures.planes
                } else {
                    &[]
                };
                let show_test = self.show_test;
                let plot = Plot::new("output_plot")
                    .data_aspect(1.0)
                    .allow_scroll(false)
                    .show_grid(false)
                    .default_x_bounds(x0, x1)
                    .default_y_bounds(y0, y1);
                let plot = self.draw.plot(plot, drawing).show(ui, |p| {
                    if let Some(t) = tex {
                        p.image(PlotImage::new(
                            "map",
                            t,
                            PlotPoint::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                            egui::vec2((x1 - x0) as f32, (y1 - y0) as f32),
                        ));
                    }
                    if let Some(c) = canvas {
                        p.set_plot_bounds_x(c[0]..=c[1]);
                        p.set_plot_bounds_y(c[2]..=c[3]);
                    }
                    let set = points.as_ref().map_or(&empty, |s| s);
                    for is_test in [false, true] {
                        if is_test && !show_test {
                            continue;
                        }
                        // Classes in their colours; regression targets in the map's diverging
                        // colours, in 17 steps over [-1, 1] (a drawn target shows what it is).
                        let groups = if set.classes > 0 {
                            set.classes
                        } else {
                            TARGET_STEPS
                        };
                        for c in 0..groups {
                            let pts: Vec<[f64; 2]> = (0..set.len())
                                .filter(|&i| set.test[i] == is_test)
                                .filter(|&i| point_group(set, i) == c)
                                .map(|i| draw.shown_at(i, set.x[i]))
                                .collect();
                            if pts.is_empty() {
                                continue;
                            }
                            let color = if set.classes == 0 {
                                let half = (TARGET_STEPS / 2) as f32;
                                theme::diverging((c as f32 - half) / half, dark)
                            } else {
                                theme::class_color(c)
                            };
                            let name = if is_test { test_name } else { train_name };
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
                if drawing && let Some(points) = &points {
                    self.draw
                        .interact(ui, &plot.response, &plot.transform, points, ctx);
                }
                // Ask for a grid as fine as the pixels the map covers (up to 256 a side).
                let t = plot.transform;
                let (a, b) = (
                    t.position_from_point(&PlotPoint::new(x0, y0)),
                    t.position_from_point(&PlotPoint::new(x1, y1)),
                );
                let points = (b - a).abs().max_elem();
                let side = map_side_for(points, ui.ctx().pixels_per_point());
                if side > 0 {
                    self.textures.maps.output = side;
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
                let target = curve_points(ctx.lab.train());
                let test = curve_points(ctx.lab.test());
                let (tname, fname) = (ctx.t(S::Target), ctx.t(S::Fitted));
                let show_test = self.show_test;
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
                                Points::new(ctx.t(S::TestLegend), PlotPoints::from(test))
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
}
