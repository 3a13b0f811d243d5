//! The central area: tiles (network designer, output view and the metric plots) that can be
//! moved (◀ ▶) and enlarged (⛶). Plots borrow the history (`PlotPoints::Borrowed`); log axes
//! plot log10(y) and label the ticks as powers of ten.

use eframe::egui;
use egui_plot::{GridMark, Legend, Line, Plot, PlotPoint, PlotPoints};

use super::depth_scale;
use crate::ui::app::NnlabApp;
use crate::ui::i18n::S;
use crate::ui::theme;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tile {
    Network,
    Output,
    Loss,
    Accuracy,
    Gradient,
    Update,
    Saturation,
    Histogram,
    Curvature,
    Landscape,
    Dynamics,
    Geometry,
}

impl Tile {
    pub const ALL: [Tile; 12] = [
        Tile::Network,
        Tile::Output,
        Tile::Loss,
        Tile::Accuracy,
        Tile::Gradient,
        Tile::Update,
        Tile::Saturation,
        Tile::Histogram,
        Tile::Curvature,
        Tile::Landscape,
        Tile::Dynamics,
        Tile::Geometry,
    ];

    pub fn title(self) -> S {
        match self {
            Tile::Network => S::Network,
            Tile::Output => S::Output,
            Tile::Loss => S::LossPlot,
            Tile::Accuracy => S::AccuracyPlot,
            Tile::Gradient => S::GradPlot,
            Tile::Update => S::UpdatePlot,
            Tile::Saturation => S::SatPlot,
            Tile::Histogram => S::HistPlot,
            Tile::Curvature => S::CurvaturePlot,
            Tile::Landscape => S::LandscapePlot,
            Tile::Dynamics => S::DynamicsPlot,
            Tile::Geometry => S::GeometryPlot,
        }
    }
}

enum TileAct {
    Left,
    Right,
    Enlarge,
    Back,
}

pub fn log_ticks(mark: GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let v = mark.value;
    if (v - v.round()).abs() < 1e-9 {
        format!("1e{}", v.round() as i64)
    } else {
        format!("{:.2e}", 10f64.powf(v))
    }
}

pub fn log_label(hp: &egui_plot::HoverPosition<'_>) -> Option<String> {
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

fn layer_name(app: &NnlabApp, i: usize, n: usize) -> String {
    super::depth_scale::layer_name(app.lang, i, n)
}

pub fn central_ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    let mut act: Option<(Tile, TileAct)> = None;
    app.export.rects.clear();
    if let Some(t) = app.enlarged {
        let rect = ui.available_rect_before_wrap();
        tile_ui(app, ui, t, rect, true, &mut act);
    } else {
        let area = ui.available_rect_before_wrap();
        let gap = 6.0;
        let top_h = (area.height() * 0.56).max(260.0);
        let top = egui::Rect::from_min_size(area.min, egui::vec2(area.width(), top_h));
        let w0 = (area.width() - gap) * 0.56;
        let r0 = egui::Rect::from_min_size(top.min, egui::vec2(w0, top_h));
        let r1 = egui::Rect::from_min_max(egui::pos2(r0.right() + gap, top.top()), top.max);
        let tiles = app.tiles.clone();
        tile_ui(app, ui, tiles[0], r0, false, &mut act);
        tile_ui(app, ui, tiles[1], r1, false, &mut act);
        let rest = &tiles[2..];
        // Two rows: three tiles each, or four when there are more than six.
        let cols = rest.len().div_ceil(2).max(3);
        let rows = rest.len().div_ceil(cols);
        let bottom =
            egui::Rect::from_min_max(egui::pos2(area.left(), top.bottom() + gap), area.max);
        let cw = (bottom.width() - gap * (cols - 1) as f32) / cols as f32;
        let rh = (bottom.height() - gap * (rows - 1) as f32) / rows as f32;
        for (k, t) in rest.iter().enumerate() {
            let (c, r) = (k % cols, k / cols);
            let rect = egui::Rect::from_min_size(
                egui::pos2(
                    bottom.left() + c as f32 * (cw + gap),
                    bottom.top() + r as f32 * (rh + gap),
                ),
                egui::vec2(cw, rh),
            );
            tile_ui(app, ui, *t, rect, false, &mut act);
        }
    }
    ui.allocate_rect(ui.available_rect_before_wrap(), egui::Sense::hover());
    if let Some((t, a)) = act {
        let i = app.tiles.iter().position(|x| *x == t).unwrap_or(0);
        let n = app.tiles.len();
        match a {
            TileAct::Left => app.tiles.swap(i, (i + n - 1) % n),
            TileAct::Right => app.tiles.swap(i, (i + 1) % n),
            TileAct::Enlarge => app.enlarged = Some(t),
            TileAct::Back => app.enlarged = None,
        }
    }
}

fn tile_ui(
    app: &mut NnlabApp,
    ui: &mut egui::Ui,
    tile: Tile,
    rect: egui::Rect,
    enlarged: bool,
    act: &mut Option<(Tile, TileAct)>,
) {
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .id_salt(("tile", tile as u8))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    let ui = &mut child;
    let mut export = false;
    app.export.rects.push((tile, rect));
    egui::Frame::group(ui.style())
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_min_size(rect.size() - egui::vec2(14.0, 14.0));
            ui.set_max_size(rect.size() - egui::vec2(14.0, 14.0));
            // The header in a row of its own, clipped to it: in a narrow tile its controls
            // would otherwise push it past the tile's left edge, and everything below with it.
            let row = egui::Rect::from_min_size(
                ui.cursor().min,
                egui::vec2(ui.available_width(), ui.spacing().interact_size.y),
            );
            ui.advance_cursor_after_rect(row);
            let mut header = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(row)
                    .layout(egui::Layout::left_to_right(egui::Align::Center)),
            );
            header.set_clip_rect(row.intersect(ui.clip_rect()));
            header.horizontal(|ui| {
                let title = app.t(tile.title());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    // Export (…) where the header has room; a narrow tile exports when enlarged.
                    if (enlarged || rect.width() >= 230.0)
                        && ui
                            .small_button("…")
                            .on_hover_text(app.t(S::ExportHover))
                            .clicked()
                    {
                        export = true;
                    }
                    if enlarged {
                        if ui.small_button(app.t(S::Back)).clicked() {
                            *act = Some((tile, TileAct::Back));
                        }
                    } else {
                        if ui
                            .small_button("[ ]")
                            .on_hover_text(app.t(S::Enlarge))
                            .clicked()
                        {
                            *act = Some((tile, TileAct::Enlarge));
                        }
                        if ui
                            .small_button(">")
                            .on_hover_text(app.t(S::MoveRight))
                            .clicked()
                        {
                            *act = Some((tile, TileAct::Right));
                        }
                        if ui
                            .small_button("<")
                            .on_hover_text(app.t(S::MoveLeft))
                            .clicked()
                        {
                            *act = Some((tile, TileAct::Left));
                        }
                    }
                    match tile {
                        Tile::Loss => {
                            let t = app.t(S::LogScale);
                            ui.checkbox(&mut app.log_loss, t);
                        }
                        Tile::Gradient | Tile::Update => {
                            let t = app.t(S::LogScale);
                            ui.checkbox(&mut app.log_grad, t);
                        }
                        _ => {}
                    }
                    // The title takes what is left and is cut with … when the tile is narrow.
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.add(egui::Label::new(egui::RichText::new(title).strong()).truncate())
                            .on_hover_text(title);
                    });
                });
            });
            match tile {
                Tile::Network => super::designer::ui(app, ui),
                Tile::Output => super::output::ui(app, ui),
                Tile::Curvature => super::curvature::ui(app, ui, enlarged),
                Tile::Landscape => super::landscape::ui(app, ui, enlarged),
                Tile::Dynamics => super::dynamics::ui(app, ui, enlarged),
                Tile::Geometry => super::geometry::ui(app, ui),
                _ => plot_ui(app, ui, tile),
            }
        });
    if export {
        app.actions.push(crate::ui::app::Action::Export(tile));
    }
}

/// The timeline's cursor: a vertical line at the replayed step.
pub(crate) fn cursor(app: &NnlabApp, p: &mut egui_plot::PlotUi<'_>) {
    if let Some(step) = app.timeline.step {
        p.vline(
            egui_plot::VLine::new("", step as f64)
                .color(egui::Color32::from_rgb(230, 60, 200))
                .width(1.5),
        );
    }
}

fn plot_ui(app: &mut NnlabApp, ui: &mut egui::Ui, tile: Tile) {
    let h = &app.history;
    let id = format!("plot_{tile:?}");
    let step_label = app.t(S::StepCount);
    let plain = || {
        Plot::new(id.as_str())
            .allow_scroll(false)
            .x_axis_label(step_label)
    };
    // One series per layer: a legend while it is short, else a depth scale above the plot
    // (ten legend rows would cover the data).
    let per_layer = |ui: &mut egui::Ui, plot: Plot<'static>, n: usize, note: Option<&str>| {
        if depth_scale::wanted(n) {
            depth_scale::ui(ui, app.lang, n, note);
            plot
        } else {
            plot.legend(Legend::default())
        }
    };
    let base = plain().legend(Legend::default());
    match tile {
        Tile::Loss => {
            let log = app.log_loss;
            let (bl, tr, te) = (
                h.batch_loss.points(log),
                h.train_loss.points(log),
                h.test_loss.points(log),
            );
            let names = (app.t(S::BatchLoss), app.t(S::TrainLoss), app.t(S::TestLoss));
            let mut p = base;
            if log {
                p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
            }
            p.show(ui, |p| {
                cursor(app, p);
                p.line(Line::new(names.0, line_points(p, bl)).color(theme::quiet_line(app.dark)));
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
            let names = (app.t(S::TrainAcc), app.t(S::TestAcc));
            base.include_y(0.0).include_y(1.0).show(ui, |p| {
                cursor(app, p);
                p.line(
                    Line::new(names.0, line_points(p, h.train_acc.points(false)))
                        .color(theme::POS)
                        .width(2.0),
                );
                p.line(
                    Line::new(names.1, line_points(p, h.test_acc.points(false)))
                        .color(theme::NEG)
                        .width(2.0),
                );
            });
        }
        Tile::Gradient | Tile::Update => {
            let log = app.log_grad;
            let series = if tile == Tile::Gradient {
                &h.grad
            } else {
                &h.update
            };
            let n = series.len();
            let names: Vec<String> = (0..n).map(|i| layer_name(app, i, n)).collect();
            let mut p = per_layer(ui, plain(), n, None);
            if log {
                p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
            }
            p.show(ui, |p| {
                cursor(app, p);
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
            let layers = app
                .net
                .as_ref()
                .map(|net| net.layers.as_slice())
                .unwrap_or(&[]);
            let mut lines: Vec<(String, &[egui_plot::PlotPoint], usize, bool)> = Vec::new();
            for i in 0..n {
                let l = layer_name(app, i, n);
                let act = layers.get(i).map(|l| l.activation);
                if act.is_none_or(|a| a.saturates()) {
                    let name = format!("{l} {}", app.t(S::Saturated));
                    lines.push((name, h.saturated[i].points(false), i, false));
                }
                if act.is_none_or(|a| a.can_die()) {
                    let name = format!("{l} {}", app.t(S::Dead));
                    lines.push((name, h.dead[i].points(false), i, true));
                }
            }
            if lines.is_empty() && n > 0 {
                ui.weak(app.t(S::NoSatLayers));
                return;
            }
            let both = lines.iter().any(|l| l.3) && lines.iter().any(|l| !l.3);
            let note = both.then(|| app.t(S::SatDeadNote));
            let p = per_layer(ui, plain(), n, note);
            p.include_y(0.0).include_y(1.0).show(ui, |p| {
                cursor(app, p);
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
            let Some(s) = &app.snapshot else {
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
                    (layer_name(app, i, n), pts)
                })
                .collect();
            let plot = Plot::new("plot_hist")
                .allow_scroll(false)
                .x_axis_label(app.t(S::Weight));
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
        | Tile::Geometry => {}
    }
}
