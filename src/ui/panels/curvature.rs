//! The Curvature tile: on/off, interval, Hessian / Gauss–Newton, status, and the plots of the
//! curvature thread's answers — the spectrum, λ_max and λ_min against step with 2/η, κ, the
//! negative count, and the top eigenvectors' make-up per layer. A small tile shows one plot
//! (chosen in a combo box); an enlarged or large one shows all of them. While the replay
//! timeline shows a past step, the spectrum is the stored one nearest at or before it and the
//! step plots carry the timeline's cursor.

use eframe::egui;
use egui_plot::{Bar, BarChart, GridMark, Legend, Line, LineStyle, Plot, PlotPoints};

use crate::analysis::hessian::Method;
use crate::ui::app::NnlabApp;
use crate::ui::command::Command;
use crate::ui::curvature::{Replayed, View};
use crate::ui::i18n::S;
use crate::ui::theme;

use super::plots::{log_label, log_ticks};

/// The timeline cursor's colour (as on the other plots), for the replayed step's label.
const CURSOR: egui::Color32 = egui::Color32::from_rgb(230, 60, 200);

fn title(v: View) -> S {
    match v {
        View::Spectrum => S::Spectrum,
        View::Lambda => S::LambdaPlot,
        View::Kappa => S::KappaPlot,
        View::Negative => S::NegPlot,
        View::Vectors => S::VecPlot,
    }
}

/// A number for a status line: plain in a readable range, else scientific.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        }
    } else if v == 0.0 {
        "0".into()
    } else if (1e-2..1e4).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui, enlarged: bool) {
    let area = ui.available_rect_before_wrap();
    let grid = enlarged || (area.width() >= 760.0 && area.height() >= 420.0);
    controls_ui(app, ui, !grid);
    status_ui(app, ui, !grid);
    let c = &app.views.curvature;
    if let Some(r) = &c.replayed {
        replayed_ui(app, ui, r);
    }
    if !c.on && c.shown().is_none() && c.computing.is_none() {
        ui.add_space(8.0);
        ui.add(egui::Label::new(egui::RichText::new(app.t(S::CurvOff)).weak()).wrap());
        return;
    }
    if grid {
        let area = ui.available_rect_before_wrap();
        grid_ui(app, ui, area);
    } else {
        plot_ui(app, ui, app.views.curvature.view);
    }
}

/// Which step's spectrum is on screen while the timeline shows a past step.
fn replayed_ui(app: &NnlabApp, ui: &mut egui::Ui, r: &Replayed) {
    match &r.shown {
        Some(a) => {
            let t = app
                .t(S::SpectrumAtStored)
                .replace("{n}", &a.step.to_string());
            ui.label(egui::RichText::new(t).strong().color(CURSOR));
            if r.stored_only {
                ui.add(egui::Label::new(egui::RichText::new(app.t(S::StoredOnly)).weak()).wrap());
            }
        }
        None => {
            let t = app.t(S::NoStoredSpectrum).replace("{n}", &r.at.to_string());
            ui.label(egui::RichText::new(t).strong());
        }
    }
}

/// The small tile's choice of plot.
fn view_ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    let mut view = app.views.curvature.view;
    egui::ComboBox::from_id_salt("curvature_view")
        .selected_text(app.t(title(view)))
        .width(150.0)
        .truncate()
        .show_ui(ui, |ui| {
            for v in View::ALL {
                ui.selectable_value(&mut view, v, app.t(title(v)));
            }
        });
    app.views.curvature.view = view;
}

fn controls_ui(app: &mut NnlabApp, ui: &mut egui::Ui, compact: bool) {
    ui.horizontal_wrapped(|ui| {
        let mut on = app.views.curvature.on;
        if ui.checkbox(&mut on, app.t(S::CurvOn)).changed() {
            app.commands.send(Command::CurvatureOn(on));
        }
        ui.label(app.t(S::Every));
        let r = ui
            .add(
                egui::DragValue::new(&mut app.views.curvature.every)
                    .range(1..=1_000_000)
                    .speed(1.0),
            )
            .accessible_name(app.t(S::Every));
        if r.changed() {
            app.commands.send(Command::CurvatureEvery);
        }
        ui.label(app.t(S::StepsUnit));
        if ui.button(app.t(S::AnalyseNow)).clicked() {
            app.commands.send(Command::AnalyseNow);
        }
        ui.separator();
        let gn = app.views.curvature.gauss_newton;
        if ui.radio(!gn, app.t(S::Hessian)).clicked() && gn {
            app.commands.send(Command::CurvatureMatrix(false));
        }
        if ui
            .radio(gn, app.t(S::GaussNewton))
            .on_hover_text(app.t(S::GnNote))
            .clicked()
            && !gn
        {
            app.commands.send(Command::CurvatureMatrix(true));
        }
        ui.separator();
        let t = app.t(S::LogAbs);
        ui.checkbox(&mut app.views.curvature.log, t);
        if compact && (app.views.curvature.on || app.views.curvature.shown().is_some()) {
            view_ui(app, ui);
        }
    });
    if app.views.curvature.gauss_newton {
        ui.add(egui::Label::new(egui::RichText::new(app.t(S::GnNote)).weak().small()).wrap());
    }
}

/// What is being computed, what was, and its numbers (a small tile shows the first line only
/// while computing and fewer numbers, with the rest on hover).
fn status_ui(app: &NnlabApp, ui: &mut egui::Ui, compact: bool) {
    let c = &app.views.curvature;
    // A spectrum rebuilt from stored eigenvalues has no time, method details or P of its own.
    let stored_only = c.replayed.as_ref().is_some_and(|r| r.stored_only);
    let details = c.shown().filter(|_| !stored_only).map(|a| {
        let method = match a.method {
            Method::Dense => app.t(S::Dense),
            Method::Lanczos => app.t(S::LanczosSlq),
        };
        let matrix = if a.gauss_newton {
            app.t(S::GaussNewton)
        } else {
            app.t(S::Hessian)
        };
        format!(
            "{} {} · {:.2} s · {method}, P = {} · {matrix}",
            app.t(S::Analysed),
            a.step,
            a.seconds,
            a.params
        )
    });
    ui.horizontal_wrapped(|ui| {
        if let Some(step) = c.computing {
            ui.spinner();
            ui.label(format!("{} {step}…", app.t(S::Computing)));
        }
        if let Some(d) = &details
            && !compact
        {
            ui.label(egui::RichText::new(d).weak());
        }
    });
    if let Some(a) = c.shown() {
        let neg = match a.method {
            Method::Dense => format!("{:.0}", a.negative_count),
            Method::Lanczos => format!("≈{:.0}", a.negative_count),
        };
        let r = ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(format!("λ_max = {}", num(a.lambda_max))).strong());
            ui.label(format!("λ_min = {}", num(a.lambda_min)));
            if compact {
                return;
            }
            if a.condition_number.is_finite() {
                ui.label(format!("κ = {}", num(a.condition_number)));
            }
            if a.negative_count.is_finite() {
                ui.label(format!(
                    "{} = {neg} ({:.1}%)",
                    app.t(S::Negative),
                    100.0 * a.negative_count / a.params.max(1) as f64
                ));
            }
            if a.trace.is_finite() {
                ui.label(format!("{} = {}", app.t(S::Trace), num(a.trace)));
            }
            // The optimiser's own threshold (N1: edge of stability per optimiser).
            super::stability_edge::readout_ui(ui, a, app.settings.lang);
        });
        if compact && let Some(d) = details {
            r.response.on_hover_text(format!(
                "{d}\nκ = {} · {} = {neg} · {}",
                num(a.condition_number),
                app.t(S::Negative),
                super::stability_edge::compact_text(a)
            ));
        }
    }
    if let Some(e) = &c.error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{}: {e}", app.t(S::CurvFailed)),
        );
    }
}

/// All five plots in a 3 × 2 grid (the sixth cell lists the top eigenvalues).
fn grid_ui(app: &NnlabApp, ui: &mut egui::Ui, area: egui::Rect) {
    let gap = 8.0;
    let (cols, rows) = (3usize, 2usize);
    let w = (area.width() - gap * (cols - 1) as f32) / cols as f32;
    let h = (area.height() - gap * (rows - 1) as f32) / rows as f32;
    let cells: [Option<View>; 6] = [
        Some(View::Spectrum),
        Some(View::Lambda),
        Some(View::Kappa),
        Some(View::Negative),
        Some(View::Vectors),
        None,
    ];
    for (k, cell) in cells.into_iter().enumerate() {
        let (c, r) = (k % cols, k / cols);
        let rect = egui::Rect::from_min_size(
            egui::pos2(
                area.left() + c as f32 * (w + gap),
                area.top() + r as f32 * (h + gap),
            ),
            egui::vec2(w, h),
        );
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect)
                .id_salt(("curvature_cell", k))
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        let ui = &mut child;
        match cell {
            Some(v) => {
                let t = app.t(title(v));
                ui.add(egui::Label::new(egui::RichText::new(t).strong()).truncate());
                plot_ui(app, ui, v);
            }
            None => top_values_ui(app, ui),
        }
    }
    ui.allocate_rect(area, egui::Sense::hover());
}

fn top_values_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let Some(a) = app.views.curvature.shown() else {
        return;
    };
    ui.add(
        egui::Label::new(
            egui::RichText::new(format!("{} {}", app.t(S::Eigenvalues), app.t(S::Top))).strong(),
        )
        .truncate(),
    );
    egui::Grid::new("curvature_top")
        .striped(true)
        .show(ui, |ui| {
            for (i, v) in a.top_values.iter().enumerate() {
                ui.colored_label(theme::series_color(i), format!("v{}", i + 1));
                ui.monospace(num(*v));
                ui.end_row();
            }
            ui.label("λ_min");
            ui.monospace(num(a.lambda_min));
            ui.end_row();
        });
}

fn plot_ui(app: &NnlabApp, ui: &mut egui::Ui, view: View) {
    match view {
        View::Spectrum => spectrum_ui(app, ui),
        View::Lambda => lambda_ui(app, ui),
        View::Kappa => kappa_ui(app, ui),
        View::Negative => negative_ui(app, ui),
        View::Vectors => vectors_ui(app, ui),
    }
}

fn spectrum_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let Some(a) = app.views.curvature.shown() else {
        ui.weak(app.t(S::NoAnalysis));
        return;
    };
    let s = &a.spectrum;
    let log = app.views.curvature.log;
    if log && s.zeros > 0 {
        ui.weak(format!("{}: {}", app.t(S::Zeros), s.zeros));
    }
    let (x_label, width) = if log {
        ("log10 |λ|", s.log_width)
    } else {
        ("λ", s.linear_width)
    };
    let series: Vec<(String, &[[f64; 2]], egui::Color32)> = if log {
        vec![
            (app.t(S::Positive).into(), &s.log_positive, theme::POS),
            (app.t(S::Negative).into(), &s.log_negative, theme::NEG),
        ]
    } else if s.exact {
        let name = format!("{} ({})", app.t(S::Eigenvalues), a.params);
        vec![(name, &s.linear, theme::POS)]
    } else {
        vec![(app.t(S::Density).into(), &s.linear, theme::POS)]
    };
    Plot::new(if log {
        "curvature_spectrum_log"
    } else {
        "curvature_spectrum"
    })
    .legend(Legend::default())
    .allow_scroll(false)
    .include_y(0.0)
    .x_axis_label(x_label)
    .show(ui, |p| {
        for (name, pts, color) in series {
            if s.exact {
                let bars = pts
                    .iter()
                    .filter(|q| q[1] > 0.0)
                    .map(|q| Bar::new(q[0], q[1]).width(width))
                    .collect();
                p.bar_chart(BarChart::new(name, bars).color(color));
            } else {
                p.line(
                    Line::new(name, PlotPoints::from(pts.to_vec()))
                        .color(color)
                        .fill(0.0)
                        .fill_alpha(0.2),
                );
            }
        }
    });
}

fn step_plot(id: &str, app: &NnlabApp, log: bool) -> Plot<'static> {
    let mut p = Plot::new(id)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label(app.t(S::StepCount));
    if log {
        p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
    }
    p
}

fn lambda_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let c = &app.views.curvature;
    let log = c.log;
    let edge = super::stability_edge::line_name(c.shown(), app.settings.lang);
    step_plot("curvature_lambda", app, log).show(ui, |p| {
        p.line(
            Line::new("λ_max", PlotPoints::Borrowed(c.lambda_max.points(log)))
                .color(theme::POS)
                .width(2.0),
        );
        if log {
            p.line(
                Line::new(
                    "−λ_min",
                    PlotPoints::Borrowed(c.minus_lambda_min.points(true)),
                )
                .color(theme::NEG)
                .width(2.0),
            );
        } else {
            p.line(
                Line::new("λ_min", PlotPoints::Borrowed(c.lambda_min.points(false)))
                    .color(theme::NEG)
                    .width(2.0),
            );
        }
        p.line(
            Line::new(edge, PlotPoints::Borrowed(c.edge.points(log)))
                .color(egui::Color32::GRAY)
                .style(LineStyle::dashed_loose()),
        );
        if !c.preconditioned.is_empty() {
            p.line(
                // The tile's fonts have no superscript minus: P^−1, as everywhere in the UI.
                Line::new(
                    crate::analysis::stability::Quantity::Preconditioned.formula(),
                    PlotPoints::Borrowed(c.preconditioned.points(log)),
                )
                .color(theme::series_color(2))
                .width(2.0),
            );
        }
        super::plots::cursor(app.views.timeline.step, p);
    });
}

fn kappa_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let c = &app.views.curvature;
    step_plot("curvature_kappa", app, true).show(ui, |p| {
        p.line(
            Line::new("κ", PlotPoints::Borrowed(c.kappa.points(true)))
                .color(theme::series_color(4))
                .width(2.0),
        );
        super::plots::cursor(app.views.timeline.step, p);
    });
}

fn negative_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let c = &app.views.curvature;
    if c.shown().is_some_and(|a| a.method == Method::Lanczos) {
        ui.weak(app.t(S::NegEstimate));
    }
    step_plot("curvature_negative", app, false)
        .include_y(0.0)
        .show(ui, |p| {
            p.line(
                Line::new(
                    app.t(S::NegPlot),
                    PlotPoints::Borrowed(c.negatives.points(false)),
                )
                .color(theme::NEG)
                .width(2.0),
            );
            super::plots::cursor(app.views.timeline.step, p);
        });
}

fn layer_label(app: &NnlabApp, i: usize, n: usize) -> String {
    if i + 1 == n {
        app.t(S::OutputLayer).to_string()
    } else {
        format!("{} {}", app.t(S::Layer), i + 1)
    }
}

fn vectors_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let Some(a) = app.views.curvature.shown() else {
        ui.weak(app.t(S::NoAnalysis));
        return;
    };
    ui.weak(app.t(S::WbNote));
    let n_vec = a.shares.len();
    let n_layers = a.shares.first().map_or(0, Vec::len);
    let names: Vec<String> = (0..n_layers)
        .map(|l| layer_label(app, l, n_layers))
        .collect();
    let bar_w = 0.8 / n_vec.max(1) as f64;
    let mut charts = Vec::new();
    for (i, shares) in a.shares.iter().enumerate() {
        let offset = (i as f64 - (n_vec as f64 - 1.0) / 2.0) * bar_w;
        let name = format!("v{} (λ = {})", i + 1, num(a.top_values[i]));
        let color = theme::series_color(i);
        let w: Vec<Bar> = shares
            .iter()
            .enumerate()
            .map(|(l, s)| Bar::new(l as f64 + offset, s.weights).width(bar_w * 0.9))
            .collect();
        let b: Vec<Bar> = shares
            .iter()
            .enumerate()
            .map(|(l, s)| Bar::new(l as f64 + offset, s.biases + s.other).width(bar_w * 0.9))
            .collect();
        let w = BarChart::new(name.clone(), w).color(color);
        let b = BarChart::new(name, b)
            .color(color.gamma_multiply(0.4))
            .stack_on(&[&w]);
        charts.push(w);
        charts.push(b);
    }
    Plot::new("curvature_vectors")
        .legend(Legend::default())
        .allow_scroll(false)
        .include_y(0.0)
        .include_y(1.0)
        .y_axis_label(app.t(S::Share))
        .x_axis_formatter(move |m: GridMark, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            for c in charts {
                p.bar_chart(c);
            }
        });
}
