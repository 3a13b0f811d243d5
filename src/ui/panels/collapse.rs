//! The Collapse tile (THEORY row 38): for a K ≥ 3-class network, the last hidden layer's 2-D
//! PCA coloured by class on the left, and on the right against step NC1 = tr(Σ_W Σ_B⁺)/K (log
//! axis), the mean cosine between centred class means with the simplex value −1/(K−1), NC3
//! (log axis) and NC4's agreement with the nearest class mean. Computed on the tile's thread
//! (`ui::collapse`) every few steps while training; where it does not apply the tile says why.

use eframe::egui;
use egui_plot::{HLine, Line, LineStyle, Plot, PlotPoints, Points};

use crate::data::Dataset;
use crate::net::Network;
use crate::ui::collapse::{NeuralCollapse, Record, not_applicable};
use crate::ui::i18n::{Lang, S};
use crate::ui::theme;

use super::curvature::num;
use super::plots::log_ticks;

/// The Collapse tile: the last hidden layer's PCA by class beside NC1, the class-mean cosines,
/// NC3 and NC4 against step; or why neural collapse does not apply to this network and data.
pub fn ui(
    view: &mut NeuralCollapse,
    ui: &mut egui::Ui,
    lang: Lang,
    dark: bool,
    net: Option<&Network>,
    train: &Dataset,
) {
    view.drawn_at = Some(std::time::Instant::now());
    if let Some(net) = net
        && let Some((why, detail)) = not_applicable(net, train)
    {
        ui.add_space(6.0);
        ui.add(egui::Label::new(format!("{} {detail}", lang.t(why))).wrap());
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(lang.t(S::NcEvery));
        ui.add(
            egui::DragValue::new(&mut view.every)
                .range(1..=100_000)
                .speed(1.0),
        )
        .accessible_name(lang.t(S::NcEvery));
        if let Some(last) = view.history.last() {
            let c = &last.collapse;
            ui.label(
                egui::RichText::new(format!(
                    "{} {} · NC1 {} · cos {} ({} {}) · NC3 {} · NC4 {} · {} {} · {:.1} ms",
                    lang.t(S::StepCount),
                    last.step,
                    num(c.nc1),
                    num(c.cosine_mean),
                    lang.t(S::NcSimplex),
                    num(c.cosine_target),
                    num(c.nc3),
                    num(c.nc4_agreement),
                    lang.t(S::NcAccuracy),
                    num(c.accuracy),
                    view.seconds * 1e3
                ))
                .small(),
            );
        }
        if view.computing() {
            ui.spinner();
        }
    });
    if let Some(e) = &view.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
        return;
    }
    if view.history.is_empty() {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::SpecWaiting)).weak()).wrap());
        return;
    }
    let h = ui.available_height();
    ui.columns(2, |cols| {
        pca_ui(view, &mut cols[0], lang, h);
        measures_ui(&view.history, &mut cols[1], lang, dark, h);
    });
}

fn pca_ui(view: &NeuralCollapse, ui: &mut egui::Ui, lang: Lang, height: f32) {
    ui.label(egui::RichText::new(lang.t(S::NcPca)).strong());
    let k = view.labels.iter().copied().max().map_or(0, |m| m + 1);
    Plot::new("collapse_pca")
        .height((height - 22.0).max(60.0))
        .data_aspect(1.0)
        .allow_scroll(false)
        .x_axis_label("PC1")
        .y_axis_label("PC2")
        .show(ui, |p| {
            for c in 0..k {
                let pts: Vec<[f64; 2]> = view
                    .pca
                    .iter()
                    .zip(&view.labels)
                    .filter(|(_, l)| **l == c)
                    .map(|(p, _)| *p)
                    .collect();
                p.points(
                    Points::new(format!("{} {c}", lang.t(S::NcClass)), PlotPoints::from(pts))
                        .color(theme::class_color(c))
                        .radius(2.0),
                );
            }
        });
}

/// One small plot of `value` against step; log10 on the y axis when `log`.
#[allow(clippy::too_many_arguments)]
fn small_plot(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    history: &[Record],
    value: impl Fn(&Record) -> f64,
    log: bool,
    target: Option<(f64, &str)>,
    height: f32,
    dark: bool,
) {
    let pts: Vec<[f64; 2]> = history
        .iter()
        .map(|r| {
            let v = value(r);
            [r.step as f64, if log { v.max(1e-300).log10() } else { v }]
        })
        .filter(|p| p[1].is_finite())
        .collect();
    let mut plot = Plot::new(id)
        .height(height)
        .allow_scroll(false)
        .show_x(true)
        .y_axis_min_width(36.0);
    if log {
        plot = plot.y_axis_formatter(log_ticks);
    }
    plot.show(ui, |p| {
        // Markers too: the first record is a lone point.
        p.points(
            Points::new(title, PlotPoints::from(pts.clone()))
                .color(theme::series_color(0))
                .radius(2.0),
        );
        p.line(
            Line::new(title, PlotPoints::from(pts))
                .color(theme::series_color(0))
                .width(1.6),
        );
        if let Some((y, name)) = target {
            p.hline(
                HLine::new(name, y)
                    .color(theme::quiet_line(dark))
                    .style(LineStyle::dashed_loose()),
            );
        }
    });
}

fn measures_ui(history: &[Record], ui: &mut egui::Ui, lang: Lang, dark: bool, height: f32) {
    let each = ((height - 4.0 * 18.0) / 4.0).max(40.0);
    let target = history.last().map_or(-0.5, |r| r.collapse.cosine_target);
    let label = |ui: &mut egui::Ui, s: S| {
        ui.label(egui::RichText::new(lang.t(s)).small().strong());
    };
    label(ui, S::NcOne);
    small_plot(
        ui,
        "collapse_nc1",
        "NC1",
        history,
        |r| r.collapse.nc1,
        true,
        None,
        each,
        dark,
    );
    label(ui, S::NcCosine);
    small_plot(
        ui,
        "collapse_cos",
        "cos",
        history,
        |r| r.collapse.cosine_mean,
        false,
        Some((target, lang.t(S::NcSimplex))),
        each,
        dark,
    );
    label(ui, S::NcThree);
    small_plot(
        ui,
        "collapse_nc3",
        "NC3",
        history,
        |r| r.collapse.nc3,
        true,
        None,
        each,
        dark,
    );
    label(ui, S::NcFour);
    small_plot(
        ui,
        "collapse_nc4",
        "NC4",
        history,
        |r| r.collapse.nc4_agreement,
        false,
        Some((1.0, "1")),
        each,
        dark,
    );
}
