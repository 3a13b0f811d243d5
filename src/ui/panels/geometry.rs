//! The Geometry tile: the exact linear regions drawn over the decision map (2-D) or as
//! breakpoints on the fitted curve (1-D), with their count; or the singular values of the
//! Jacobian ∂h⁽ˡ⁾/∂h⁽¹⁾ as a histogram against depth, with √mean σ² next to the mean-field
//! prediction. Computed on the geometry thread (`ui::geometry`); where an instrument does not
//! apply the tile says why.

use eframe::egui::{self, Color32, ColorImage, TextureOptions};
use egui_plot::{Legend, Line, Plot, PlotImage, PlotPoint, PlotPoints, Points, VLine};

use crate::analysis::jacobian::JacobianReport;
use crate::analysis::regions::Regions;
use crate::runtime::worker::OutputMap;
use crate::ui::command::Command;
use crate::ui::geometry::{Geometry, Mode, Output, not_applicable};
use crate::ui::i18n::S;
use crate::ui::theme;
use crate::ui::view::ViewCtx;

use super::curvature::num;
use super::plots::log_ticks;

/// Bins of log10 σ in the Jacobian histogram.
pub const BINS: usize = 48;

impl Geometry {
    /// The tile; `decision` is the output view's decision map, drawn under the regions, and
    /// `sweep` the depth/width sweep, drawn in their place when it is open.
    pub fn tile_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &ViewCtx<'_>,
        decision: Option<egui::TextureId>,
        sweep: &mut super::region_sweep::RegionSweep,
    ) {
        tile(self, ctx, ui, decision, sweep)
    }
}

fn tile(
    this: &mut Geometry,
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    decision: Option<egui::TextureId>,
    sweep: &mut super::region_sweep::RegionSweep,
) {
    this.drawn_at = Some(std::time::Instant::now());
    let lang = ctx.lang();
    let mut mode = this.mode;
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("geometry_mode")
            .selected_text(lang.t(mode.name()))
            .width((ui.available_width() - 24.0).clamp(60.0, 170.0))
            .truncate()
            .show_ui(ui, |ui| {
                for m in Mode::ALL {
                    ui.selectable_value(&mut mode, m, lang.t(m.name()));
                }
            })
            .response
            .accessible_name(lang.t(S::GeoMode));
        if this.computing() {
            ui.spinner();
        }
    });
    if mode != this.mode {
        ctx.send(Command::SetGeometryMode(mode));
    }
    let why = ctx.lab.net.as_ref().and_then(|n| not_applicable(n, mode));
    if let Some(w) = why {
        ui.add_space(6.0);
        ui.add(egui::Label::new(format!("{} {}", lang.t(w.reason), w.detail)).wrap());
        return;
    }
    if let Some(e) = &this.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
        return;
    }
    let Some(a) = this.last.clone() else {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::GeoWaiting)).weak()).wrap());
        return;
    };
    match &a.output {
        Output::Regions(r) => {
            // The depth/width sweep (issue 15 §1), drawn in place of the picture when open.
            if super::region_sweep::ui(sweep, ui, ctx, r.bounds) {
                return;
            }
            ui.label(
                egui::RichText::new(format!(
                    "{} {} · {} {} · {:.1} ms",
                    r.regions.len(),
                    lang.t(S::GeoRegionCount),
                    lang.t(S::StepCount),
                    a.step,
                    a.seconds * 1e3
                ))
                .strong(),
            );
            regions_ui(ctx, ui, r, &this.counts, decision);
        }
        Output::Jacobian(j) => {
            if let Some(d) = j.depths.last() {
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}: σ [{}, {}] · {} {} · {} {}",
                        lang.t(S::GeoDeepest),
                        d.layer,
                        num(d.min),
                        num(d.max),
                        lang.t(S::GeoSpread),
                        num(d.spread),
                        lang.t(S::StepCount),
                        a.step
                    ))
                    .small(),
                );
            }
            jacobian_ui(this, ctx, ui, j);
        }
    }
}

fn regions_ui(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    r: &Regions,
    counts: &[PlotPoint],
    tex: Option<egui::TextureId>,
) {
    let outline = if ctx.dark() {
        Color32::WHITE
    } else {
        Color32::BLACK
    };
    let Some(snap) = ctx.lab.snapshot.as_ref() else {
        return;
    };
    // The picture above, the count against step below (when there is room for both).
    let room = ui.available_height();
    let split = room >= 260.0;
    let picture_h = if split { room * 0.72 } else { room };
    if r.inputs == 2 {
        let (x0, x1) = r.bounds.x;
        let (y0, y1) = r.bounds.y;
        Plot::new("geometry_regions")
            .height(picture_h)
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
                for reg in &r.regions {
                    let mut pts: Vec<[f64; 2]> = reg.vertices.clone();
                    pts.push(reg.vertices[0]);
                    p.line(
                        Line::new("regions", PlotPoints::from(pts))
                            .color(outline.gamma_multiply(0.75))
                            .width(1.0),
                    );
                }
            });
    } else {
        let fitted: Vec<[f64; 2]> = match &snap.output {
            OutputMap::Curve { xs, ys } => xs.iter().zip(ys).map(|(x, y)| [*x, *y]).collect(),
            _ => Vec::new(),
        };
        let target = super::output::curve_points(&ctx.lab.train);
        let breaks = r.breakpoints();
        let (tname, fname, bname) = (ctx.t(S::Target), ctx.t(S::Fitted), ctx.t(S::GeoBreakpoints));
        Plot::new("geometry_breakpoints")
            .height(picture_h)
            .legend(Legend::default())
            .allow_scroll(false)
            .show(ui, |p| {
                p.points(
                    Points::new(tname, PlotPoints::from(target))
                        .radius(2.0)
                        .color(theme::NEG),
                );
                p.line(
                    Line::new(fname, PlotPoints::from(fitted))
                        .color(theme::POS)
                        .width(2.0),
                );
                for b in breaks {
                    p.vline(
                        VLine::new(bname, b)
                            .color(outline.gamma_multiply(0.5))
                            .width(1.0),
                    );
                }
            });
    }
    if split {
        let counts = PlotPoints::Borrowed(counts);
        Plot::new("geometry_counts")
            .legend(Legend::default())
            .allow_scroll(false)
            .include_y(0.0)
            .x_axis_label(ctx.t(S::StepCount))
            .show(ui, |p| {
                p.line(
                    Line::new(ctx.t(S::GeoRegionCount), counts)
                        .color(theme::POS)
                        .width(2.0),
                );
            });
    }
}

/// The histogram image: one column per depth, BINS rows of log10 σ over [lo, hi] (top = hi),
/// each column scaled to its own largest bin.
fn histogram_image(j: &JacobianReport, lo: f64, hi: f64, dark: bool) -> ColorImage {
    let cols = j.depths.len().max(1);
    let mut pixels = vec![theme::diverging(0.0, dark); cols * BINS];
    for (c, d) in j.depths.iter().enumerate() {
        let mut counts = [0usize; BINS];
        for &s in &d.singular_values {
            let v = s.max(10f64.powf(lo)).log10();
            let b = (((v - lo) / (hi - lo)) * BINS as f64).floor() as isize;
            counts[b.clamp(0, BINS as isize - 1) as usize] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(1).max(1) as f32;
        for (b, &n) in counts.iter().enumerate() {
            let row = BINS - 1 - b;
            pixels[row * cols + c] = theme::diverging(n as f32 / top, dark);
        }
    }
    ColorImage {
        size: [cols, BINS],
        pixels,
        source_size: egui::vec2(cols as f32, BINS as f32),
    }
}

/// log10 range of the histogram: the smallest σ shown is 1e-12 × the largest.
fn log_range(j: &JacobianReport) -> (f64, f64) {
    let all = j.depths.iter().flat_map(|d| &d.singular_values);
    let max = all.clone().fold(0.0f64, |m, &v| m.max(v));
    let min = all
        .filter(|v| **v > 0.0)
        .fold(f64::INFINITY, |m, &v| m.min(v))
        .max(max * 1e-12);
    if !(max > 0.0 && min.is_finite()) {
        return (-1.0, 1.0);
    }
    let (lo, hi) = (min.log10(), max.log10());
    if hi - lo < 0.2 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn jacobian_ui(this: &mut Geometry, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, j: &JacobianReport) {
    let (lo, hi) = log_range(j);
    if this.stale_texture || this.texture.is_none() || this.texture_dark != ctx.dark() {
        this.stale_texture = false;
        this.texture_dark = ctx.dark();
        let img = histogram_image(j, lo, hi, ctx.dark());
        match &mut this.texture {
            Some(t) => t.set(img, TextureOptions::NEAREST),
            None => {
                this.texture = Some(
                    ui.ctx()
                        .load_texture("jacobian", img, TextureOptions::NEAREST),
                )
            }
        }
    }
    let Some(tex) = this.texture.as_ref().map(|t| t.id()) else {
        return;
    };
    let first = j.depths.first().map_or(2, |d| d.layer) as f64;
    let last = j.depths.last().map_or(2, |d| d.layer) as f64;
    let measured: Vec<[f64; 2]> = j
        .depths
        .iter()
        .map(|d| [d.layer as f64, 0.5 * d.mean_sq.max(1e-300).log10()])
        .collect();
    let predicted: Vec<[f64; 2]> = j
        .depths
        .iter()
        .map(|d| {
            [
                d.layer as f64,
                0.5 * d.predicted_mean_sq.max(1e-300).log10(),
            ]
        })
        .collect();
    let (mname, pname, hname) = (
        ctx.t(S::GeoMeasured),
        ctx.t(S::GeoPredicted),
        ctx.t(S::GeoHistogram),
    );
    Plot::new("geometry_jacobian")
        .legend(Legend::default())
        .allow_scroll(false)
        .show_grid(false)
        .x_axis_label(ctx.t(S::GeoLayer))
        .y_axis_label(ctx.t(S::GeoSigma))
        .y_axis_formatter(log_ticks)
        .default_x_bounds(first - 0.5, last + 0.5)
        .default_y_bounds(lo, hi)
        .show(ui, |p| {
            p.image(PlotImage::new(
                hname,
                tex,
                PlotPoint::new((first + last) / 2.0, (lo + hi) / 2.0),
                egui::vec2((last - first + 1.0) as f32, (hi - lo) as f32),
            ));
            p.line(
                Line::new(mname, PlotPoints::from(measured))
                    .color(theme::NEG)
                    .width(2.0),
            );
            p.line(
                Line::new(pname, PlotPoints::from(predicted))
                    .color(theme::quiet_line(ctx.dark()))
                    .width(1.5),
            );
        });
}

/// The tile's data as CSV: every region's pattern and vertices, or every singular value per depth.
pub fn csv(this: &Geometry) -> Option<String> {
    let a = this.last.as_ref()?;
    let mut out = format!("# step {}\n", a.step);
    match &a.output {
        Output::Regions(r) if r.inputs == 2 => {
            out.push_str("region,pattern,vertex,x1,x2\n");
            for (k, reg) in r.regions.iter().enumerate() {
                let pat = reg.pattern_text();
                for (v, p) in reg.vertices.iter().enumerate() {
                    out.push_str(&format!("{k},{pat},{v},{:?},{:?}\n", p[0], p[1]));
                }
            }
        }
        Output::Regions(r) => {
            out.push_str("region,pattern,x_lo,x_hi\n");
            for (k, reg) in r.regions.iter().enumerate() {
                out.push_str(&format!(
                    "{k},{},{:?},{:?}\n",
                    reg.pattern_text(),
                    reg.vertices[0][0],
                    reg.vertices[1][0]
                ));
            }
        }
        Output::Jacobian(j) => {
            out.push_str("layer,singular_value,mean_sq,predicted_mean_sq\n");
            for d in &j.depths {
                for s in &d.singular_values {
                    out.push_str(&format!(
                        "{},{s:?},{:?},{:?}\n",
                        d.layer, d.mean_sq, d.predicted_mean_sq
                    ));
                }
            }
        }
    }
    Some(out)
}
