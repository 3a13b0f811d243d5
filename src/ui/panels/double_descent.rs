//! The Double descent tile: test error (log scale) against the number of random features p of
//! the session's hidden layer, for the minimum-norm readout (ridge 0) and for the slider's
//! ridge, with the interpolation threshold p + 1 = n marked. Computed off the UI thread
//! (`ui::regimes`); where the sweep does not apply the tile says why.

use std::sync::Arc;

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

use crate::data::Dataset;
use crate::session::Session;
use crate::ui::i18n::{Lang, S};
use crate::ui::regimes::{DoubleDescent, not_applicable};
use crate::ui::theme;
use crate::ui::view::{View, ViewCtx};

use super::curvature::num;
use super::plots::log_ticks;

impl View for DoubleDescent {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        let lab = ctx.lab;
        self::ui(
            self,
            ui,
            ctx.lang(),
            ctx.dark(),
            &lab.applied,
            (&lab.train, &lab.test),
        )
    }
}

/// Draw the tile from explicit arguments: the tile's own state, the applied session and data.
pub fn ui(
    tile: &mut DoubleDescent,
    ui: &mut egui::Ui,
    lang: Lang,
    dark: bool,
    session: &Session,
    data: (&Arc<Dataset>, &Arc<Dataset>),
) {
    let (train, test) = data;
    if let Some(why) = not_applicable(session, train, test) {
        ui.add_space(6.0);
        ui.add(egui::Label::new(lang.t(why)).wrap());
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut tile.ridge_on, lang.t(S::DdRidge))
            .on_hover_text(lang.t(S::DdRidgeHint));
        ui.add_enabled(
            tile.ridge_on,
            egui::Slider::new(&mut tile.log_ridge, -6.0..=1.0)
                .step_by(0.05)
                .custom_formatter(|v, _| format!("{:.2e}", 10f64.powf(v)))
                .text("λ"),
        );
        if tile.computing() {
            ui.spinner();
        }
    });
    tile.follow(session, train, test);
    if let Some(e) = &tile.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
        return;
    }
    let Some(a) = tile.last.clone() else {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::DdWaiting)).weak()).wrap());
        return;
    };
    let s = &a.min_norm;
    ui.add(
        egui::Label::new(format!(
            "n = {} · {} p = {} ({} {}) · {} {} · λ* ≈ {} · {:.0} ms",
            a.rows,
            lang.t(S::DdPeakAt),
            s.peak_features,
            lang.t(S::DdTestError),
            num(s.peak_error),
            lang.t(S::DdPeakOverWide),
            num(s.peak_error / s.wide_error),
            num(a.optimal.0),
            a.seconds * 1e3,
        ))
        .wrap(),
    );
    let log = |v: f64| v.max(1e-300).log10();
    let curve = |sw: &crate::analysis::double_descent::Sweep| -> Vec<[f64; 2]> {
        sw.points
            .iter()
            .map(|p| [p.features as f64, log(p.test_error)])
            .collect()
    };
    let threshold = a.rows as f64 - 1.0;
    Plot::new("double_descent_plot")
        .legend(Legend::default())
        .x_axis_label(lang.t(S::DdFeatures))
        .y_axis_label(lang.t(S::DdTestError))
        .y_axis_formatter(log_ticks)
        .allow_scroll(false)
        .show(ui, |p| {
            p.vline(
                VLine::new(lang.t(S::DdThreshold), threshold)
                    .color(theme::quiet_line(dark))
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
            p.line(
                Line::new(lang.t(S::DdMinNorm), PlotPoints::from(curve(s)))
                    .color(theme::NEG)
                    .width(2.0),
            );
            if let Some(r) = &a.ridged {
                p.line(
                    Line::new(
                        format!("{} λ = {:.2e}", lang.t(S::DdRidge), r.ridge),
                        PlotPoints::from(curve(r)),
                    )
                    .color(theme::POS)
                    .width(2.0),
                );
            }
        });
}
