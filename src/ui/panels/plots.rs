//! The metric plots of the workspace (loss, accuracy, per-layer gradients, updates, saturation,
//! weight histogram). Plots borrow the history (`PlotPoints::Borrowed`); log axes plot log10(y)
//! and label the ticks as powers of ten.

use eframe::egui;
use egui_plot::{GridMark, Legend, Line, Plot, PlotPoint, PlotPoints};

use super::depth_scale;
use crate::ui::i18n::{Lang, S};
use crate::ui::theme;
use crate::ui::view::ViewCtx;
/// The tiles are the workspace's; re-exported where they were first defined.
pub use crate::ui::workspace::Tile;

/// The metric plots' own state: which plots use a log axis.
pub struct PlotsView {
    /// The Loss tile plots log10 of the loss (the toggle on its tile).
    pub log_loss: bool,
    /// The Gradient and Update tiles plot log10 of their values (one toggle shared by both).
    pub log_grad: bool,
}

impl Default for PlotsView {
    fn default() -> Self {
        PlotsView {
            log_loss: true,
            log_grad: true,
        }
    }
}

/// A tick label of a log10 axis: `1e-3` at whole powers of ten, the value itself in between.
pub(crate) fn log_ticks(mark: GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let v = mark.value;
    if (v - v.round()).abs() < 1e-9 {
        format!("1e{}", v.round() as i64)
    } else {
        format!("{:.2e}", 10f64.powf(v))
    }
}

/// The hover label of a log10 plot: the series, the step and the value (not its log).
pub(crate) fn log_label(hp: &egui_plot::HoverPosition<'_>) -> Option<String> {
    match hp {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => Some(format!(
            "{plot_name}\nstep {:.0}: {:.4e}",
            position.x,
            10f64.powf(position.y)
        )),
        egui_plot::HoverPosition::Elsewhere { position } => Some(format!(
            "step {:.0}: {:.4e}",
            position.x,
            10f64.powf(position.y)
        )),
    }
}

/// Plot units per screen pixel along x, from the plot's last frame (None before it is drawn).
fn x_per_pixel(p: &egui_plot::PlotUi<'_>) -> Option<f64> {
    let t = p.transform();
    let px = t.bounds().width() / t.frame().width() as f64;
    (px.is_finite() && px > 0.0).then_some(px)
}

/// Per pixel column (width `px` in plot units, counted from `x0`), keep only the lowest and
/// the highest point, in their x order, plus the first and last point of the series. A line
/// through them covers the same pixels as the line through every point, but a noisy series
/// of thousands of points becomes at most two per column — far fewer long, thin triangles for
/// the rasteriser. Points must be sorted by x.
pub fn decimate(points: &[PlotPoint], x0: f64, px: f64) -> Vec<PlotPoint> {
    if points.len() < 4 || !(px.is_finite() && px > 0.0) {
        return points.to_vec();
    }
    let column = |p: &PlotPoint| ((p.x - x0) / px).floor();
    let mut out = Vec::with_capacity(points.len().min(4096));
    out.push(points[0]);
    let mut start = 0;
    while start < points.len() {
        let c = column(&points[start]);
        let mut end = start + 1;
        while end < points.len() && column(&points[end]) == c {
            end += 1;
        }
        let (mut lo, mut hi) = (start, start);
        for i in start..end {
            if points[i].y < points[lo].y {
                lo = i;
            }
            if points[i].y > points[hi].y {
                hi = i;
            }
        }
        let (a, b) = (lo.min(hi), lo.max(hi));
        for i in [a, b] {
            if i != 0
                && out
                    .last()
                    .is_none_or(|l: &PlotPoint| l.x != points[i].x || l.y != points[i].y)
            {
                out.push(points[i]);
            }
        }
        start = end;
    }
    let last = points[points.len() - 1];
    if out.last().is_none_or(|l| l.x != last.x || l.y != last.y) {
        out.push(last);
    }
    out
}

/// A history line, decimated to the plot's pixel columns when it has more points than columns.
fn line_points<'a>(p: &egui_plot::PlotUi<'a>, points: &'a [PlotPoint]) -> PlotPoints<'a> {
    let columns = p.transform().frame().width() as usize;
    match x_per_pixel(p) {
        Some(px) if points.len() > 2 * columns.max(1) => {
            PlotPoints::Owned(decimate(points, p.transform().bounds().min()[0], px))
        }
        _ => PlotPoints::Borrowed(points),
    }
}

fn layer_name(lang: Lang, i: usize, n: usize) -> String {
    super::depth_scale::layer_name(lang, i, n)
}

/// The timeline's cursor: a vertical line at the replayed step (None: live, no line).
pub(crate) fn cursor(replayed_step: Option<u64>, p: &mut egui_plot::PlotUi<'_>) {
    if let Some(step) = replayed_step {
        p.vline(
            egui_plot::VLine::new("", step as f64)
                .color(egui::Color32::from_rgb(230, 60, 200))
                .width(1.5),
        );
    }
}

impl PlotsView {
    /// One metric plot (the workspace draws several plot tiles with this one state).
    pub fn tile_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, tile: Tile) {
        let log = match tile {
            Tile::Loss => Some(&mut self.log_loss),
            Tile::Gradient | Tile::Update => Some(&mut self.log_grad),
            _ => None,
        };
        if let Some(log) = log {
            ui.checkbox(log, ctx.t(S::LogScale));
        }
        let h = ctx.lab.history();
        let id = format!("plot_{tile:?}");
        let step_label = ctx.t(S::StepCount);
        let plain = || {
            Plot::new(id.as_str())
                .allow_scroll(false)
                .x_axis_label(step_label)
        };
        // One series per layer: a legend while it is short, else a depth scale above the plot
        // (ten legend rows would cover the data).
        let per_layer = |ui: &mut egui::Ui, plot: Plot<'static>, n: usize, note: Option<&str>| {
            if depth_scale::wanted(n) {
                depth_scale::ui(ui, ctx.lang(), n, note);
                plot
            } else {
                plot.legend(Legend::default())
            }
        };
        let base = plain().legend(Legend::default());
        match tile {
            Tile::Loss => {
                let log = self.log_loss;
                let (bl, tr, te) = (
                    h.batch_loss.points(log),
                    h.train_loss.points(log),
                    h.test_loss.points(log),
                );
                let names = (ctx.t(S::BatchLoss), ctx.t(S::TrainLoss), ctx.t(S::TestLoss));
                let mut p = base;
                if log {
                    p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
                }
                p.show(ui, |p| {
                    cursor(ctx.replayed_step, p);
                    p.line(
                        Line::new(names.0, line_points(p, bl)).color(theme::quiet_line(ctx.dark())),
                    );
                    p.line(
                        Line::new(names.1, line_points(p, tr))
                            .color(theme::POS)
                            .width(2.0),
                    );
                    p.line(
                        Line::new(names.2, line_points(p, te))
                            .color(theme::NEG)
                            .width(2.0),
                    );
                });
            }
            Tile::Accuracy => {
                // Regression has no accuracy: the same tile shows R² (1 is a perfect fit).
                let regression = ctx.lab.train().classes == 0;
                let (names, series) = if regression {
                    (
                        (ctx.t(S::TrainR2), ctx.t(S::TestR2)),
                        (&h.train_r2, &h.test_r2),
                    )
                } else {
                    (
                        (ctx.t(S::TrainAcc), ctx.t(S::TestAcc)),
                        (&h.train_acc, &h.test_acc),
                    )
                };
                base.include_y(0.0).include_y(1.0).show(ui, |p| {
                    cursor(ctx.replayed_step, p);
                    p.line(
                        Line::new(names.0, line_points(p, series.0.points(false)))
                            .color(theme::POS)
                            .width(2.0),
                    );
                    p.line(
                        Line::new(names.1, line_points(p, series.1.points(false)))
                            .color(theme::NEG)
                            .width(2.0),
                    );
                });
            }
            Tile::Gradient | Tile::Update => {
                let log = self.log_grad;
                let series = if tile == Tile::Gradient {
                    &h.grad
                } else {
                    &h.update
                };
                let n = series.len();
                let names: Vec<String> = (0..n).map(|i| layer_name(ctx.lang(), i, n)).collect();
                let mut p = per_layer(ui, plain(), n, None);
                if log {
                    p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
                }
                p.show(ui, |p| {
                    cursor(ctx.replayed_step, p);
                    for (i, s) in series.iter().enumerate() {
                        p.line(
                            Line::new(names[i].clone(), line_points(p, s.points(log)))
                                .color(depth_scale::color(i, n)),
                        );
                    }
                });
            }
            Tile::Saturation => {
                // Only the lines that can be non-zero: saturation for sigmoid/tanh layers, dead
                // units for ReLU layers (of the network the worker runs).
                let n = h.saturated.len();
                let layers = ctx
                    .lab
                    .net()
                    .map(|net| net.layers.as_slice())
                    .unwrap_or(&[]);
                let mut lines: Vec<(String, &[egui_plot::PlotPoint], usize, bool)> = Vec::new();
                for i in 0..n {
                    let l = layer_name(ctx.lang(), i, n);
                    let act = layers.get(i).map(|l| l.activation);
                    if act.is_none_or(|a| a.saturates()) {
                        let name = format!("{l} {}", ctx.t(S::Saturated));
                        lines.push((name, h.saturated[i].points(false), i, false));
                    }
                    if act.is_none_or(|a| a.can_die()) {
                        let name = format!("{l} {}", ctx.t(S::Dead));
                        lines.push((name, h.dead[i].points(false), i, true));
                    }
                }
                if lines.is_empty() && n > 0 {
                    ui.weak(ctx.t(S::NoSatLayers));
                    return;
                }
                let both = lines.iter().any(|l| l.3) && lines.iter().any(|l| !l.3);
                let note = both.then(|| ctx.t(S::SatDeadNote));
                let p = per_layer(ui, plain(), n, note);
                p.include_y(0.0).include_y(1.0).show(ui, |p| {
                    cursor(ctx.replayed_step, p);
                    for (name, points, i, dashed) in lines {
                        let mut line =
                            Line::new(name, line_points(p, points)).color(depth_scale::color(i, n));
                        if dashed {
                            line = line.style(egui_plot::LineStyle::dashed_loose());
                        }
                        p.line(line);
                    }
                });
            }
            Tile::Histogram => {
                let Some(s) = ctx.lab.snapshot() else {
                    return;
                };
                let n = s.histograms.len();
                let lines: Vec<(String, Vec<[f64; 2]>)> = s
                    .histograms
                    .iter()
                    .enumerate()
                    .map(|(i, hg)| {
                        let total: u32 = hg.counts.iter().sum::<u32>().max(1);
                        let bw = (hg.hi - hg.lo) / hg.counts.len() as f64;
                        let mut pts = Vec::with_capacity(hg.counts.len() * 2 + 2);
                        pts.push([hg.lo, 0.0]);
                        for (k, &c) in hg.counts.iter().enumerate() {
                            let d = c as f64 / total as f64 / bw;
                            pts.push([hg.lo + k as f64 * bw, d]);
                            pts.push([hg.lo + (k + 1) as f64 * bw, d]);
                        }
                        pts.push([hg.hi, 0.0]);
                        (layer_name(ctx.lang(), i, n), pts)
                    })
                    .collect();
                let plot = Plot::new("plot_hist")
                    .allow_scroll(false)
                    .x_axis_label(ctx.t(S::Weight));
                per_layer(ui, plot, n, None).show(ui, |p| {
                    for (i, (name, pts)) in lines.into_iter().enumerate() {
                        p.line(
                            Line::new(name, PlotPoints::from(pts))
                                .color(depth_scale::color(i, n))
                                .fill(0.0)
                                .fill_alpha(0.15),
                        );
                    }
                });
            }
            Tile::Network
            | Tile::Output
            | Tile::Curvature
            | Tile::Landscape
            | Tile::Dynamics
            | Tile::Geometry
            | Tile::Spectral
            | Tile::DoubleDescent
            | Tile::Confusion
            | Tile::Collapse => {}
        }
    }
}
