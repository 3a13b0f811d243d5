//! The Spectral-bias tile (THEORY row 36): on a 1-D regression, the residual's amplitude per
//! frequency against step as a heatmap (frequency up, step across), and below it the relative
//! error |r̂(k)|/|ŷ(k)| at each of the target's peaks against step, with the 0.1 line under
//! which a band counts as learned. Low frequencies drop first. Computed on the tile's thread
//! (`ui::spectral`); where the spectrum does not apply the tile says why.

use eframe::egui::{self, ColorImage, TextureOptions};
use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotImage, PlotPoint, PlotPoints};

use crate::ui::i18n::S;
use crate::ui::spectral::{Record, SpectralBias, THRESHOLD, not_applicable};
use crate::ui::theme;
use crate::ui::view::{View, ViewCtx};

use super::plots::log_ticks;

/// The heatmap's colour spans log10 of the relative amplitude from this to 0.
const LOG_FLOOR: f64 = -5.0;

impl View for SpectralBias {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        tile(self, ctx, ui)
    }
}

fn tile(this: &mut SpectralBias, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    this.drawn_at = Some(std::time::Instant::now());
    let lang = ctx.lang();
    if let Some(net) = ctx.lab.net.as_ref()
        && let Some((why, detail)) = not_applicable(net, &ctx.lab.train)
    {
        ui.add_space(6.0);
        ui.add(egui::Label::new(format!("{} {detail}", lang.t(why))).wrap());
        return;
    }
    if let Some(e) = &this.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
        return;
    }
    let Some(last) = this.history.last() else {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(lang.t(S::SpecWaiting)).weak()).wrap());
            if this.computing() {
                ui.spinner();
            }
        });
        return;
    };
    let peaks = this.peaks.clone();
    ui.horizontal_wrapped(|ui| {
        let errs: Vec<String> = peaks
            .iter()
            .zip(&last.errors)
            .map(|(k, e)| format!("k={k}: {e:.3}"))
            .collect();
        ui.label(
            egui::RichText::new(format!(
                "{} {} · {} {} · {:.1} ms",
                lang.t(S::StepCount),
                last.step,
                lang.t(S::SpecPeaks),
                errs.join(", "),
                this.seconds * 1e3
            ))
            .small(),
        );
        if this.computing() {
            ui.spinner();
        }
    });
    if peaks.len() < 2 {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::SpecOnePeak)).weak()).wrap());
    }
    let room = ui.available_height();
    let heat_h = (room * 0.5).max(80.0);
    heatmap_ui(this, ctx, ui, heat_h);
    bands_ui(this, ctx, ui);
}

/// Columns = records, rows = frequencies (k = 0 at the bottom).
fn heatmap_image(history: &[Record], dark: bool) -> ColorImage {
    let cols = history.len().max(1);
    let rows = history.first().map_or(1, |r| r.amplitude.len()).max(1);
    let mut pixels = vec![theme::diverging(0.0, dark); cols * rows];
    for (c, rec) in history.iter().enumerate() {
        for (k, &a) in rec.amplitude.iter().enumerate().take(rows) {
            let v = ((a.max(1e-300).log10() - LOG_FLOOR) / -LOG_FLOOR).clamp(0.0, 1.0);
            pixels[(rows - 1 - k) * cols + c] = theme::diverging(v as f32, dark);
        }
    }
    ColorImage {
        size: [cols, rows],
        pixels,
        source_size: egui::vec2(cols as f32, rows as f32),
    }
}

fn heatmap_ui(this: &mut SpectralBias, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, height: f32) {
    let s = this;
    if s.stale_texture || s.texture.is_none() || s.texture_dark != ctx.dark() {
        s.stale_texture = false;
        s.texture_dark = ctx.dark();
        let img = heatmap_image(&s.history, ctx.dark());
        match &mut s.texture {
            Some(t) => t.set(img, TextureOptions::NEAREST),
            None => {
                s.texture = Some(
                    ui.ctx()
                        .load_texture("spectral", img, TextureOptions::NEAREST),
                )
            }
        }
    }
    let Some(tex) = s.texture.as_ref().map(|t| t.id()) else {
        return;
    };
    let first = s.history.first().map_or(0, |r| r.step) as f64;
    let last = s.history.last().map_or(0, |r| r.step) as f64;
    let span = (last - first).max(1.0);
    let k = s.history.first().map_or(1, |r| r.amplitude.len()) as f64;
    let peaks = s.peaks.clone();
    let name = ctx.t(S::SpecHeatmap);
    // The picture always spans the whole history: bounds reset every frame, no pan or zoom.
    Plot::new("spectral_heatmap")
        .height(height)
        .reset()
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_grid(false)
        .x_axis_label(ctx.t(S::StepCount))
        .y_axis_label(ctx.t(S::SpecFrequency))
        .default_x_bounds(first, first + span)
        .default_y_bounds(-0.5, k - 0.5)
        .show(ui, |p| {
            p.image(PlotImage::new(
                name,
                tex,
                PlotPoint::new(first + span / 2.0, (k - 1.0) / 2.0),
                egui::vec2(span as f32, k as f32),
            ));
            for (i, &pk) in peaks.iter().enumerate() {
                p.hline(
                    HLine::new(format!("k = {pk}"), pk as f64)
                        .color(theme::series_color(i))
                        .style(LineStyle::dashed_loose())
                        .width(1.0),
                );
            }
        });
}

fn bands_ui(this: &SpectralBias, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let s = this;
    let learned = ctx.t(S::SpecThreshold);
    Plot::new("spectral_bands")
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label(ctx.t(S::StepCount))
        .y_axis_label(ctx.t(S::SpecRelError))
        .y_axis_formatter(log_ticks)
        .show(ui, |p| {
            for (i, &pk) in s.peaks.iter().enumerate() {
                let pts: Vec<[f64; 2]> = s
                    .history
                    .iter()
                    .filter_map(|r| {
                        r.errors
                            .get(i)
                            .map(|e| [r.step as f64, e.max(1e-12).log10()])
                    })
                    .collect();
                p.line(
                    Line::new(format!("k = {pk}"), PlotPoints::from(pts))
                        .color(theme::series_color(i))
                        .width(1.8),
                );
            }
            p.hline(
                HLine::new(learned, THRESHOLD.log10())
                    .color(theme::quiet_line(ctx.dark()))
                    .style(LineStyle::dashed_loose()),
            );
        });
}

/// The tile's data as CSV: per recorded step, the relative error at each peak and the
/// residual's relative amplitude at every frequency.
pub fn csv(this: &SpectralBias) -> Option<String> {
    let s = this;
    if s.history.is_empty() {
        return None;
    }
    let k = s.history[0].amplitude.len();
    let mut out = String::from("step");
    for p in &s.peaks {
        out.push_str(&format!(",rel_error_k{p}"));
    }
    for f in 0..k {
        out.push_str(&format!(",amplitude_k{f}"));
    }
    out.push('\n');
    for r in &s.history {
        out.push_str(&r.step.to_string());
        for e in r.errors.iter().chain(&r.amplitude) {
            out.push_str(&format!(",{e:?}"));
        }
        out.push('\n');
    }
    Some(out)
}
