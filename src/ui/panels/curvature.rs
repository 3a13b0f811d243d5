//! The Curvature tile: on/off, interval, Hessian / Gauss–Newton, status, and the plots of the
//! curvature thread's answers — the spectrum, λ_max and λ_min against step with 2/η, κ, the
//! negative count, and the top eigenvectors' make-up per layer. A small tile shows one plot
//! (chosen in a combo box); an enlarged or large one shows all of them. While the replay
//! timeline shows a past step, the spectrum is the stored one nearest at or before it and the
//! step plots carry the timeline's cursor.

use eframe::egui;
use egui_plot::{Bar, BarChart, GridMark, Legend, Line, LineStyle, Plot, PlotPoints};

use crate::analysis::hessian::Method;
use crate::ui::command::Command;
use crate::ui::curvature::{Curvature, Replayed, View};
use crate::ui::i18n::S;
use crate::ui::theme;
use crate::ui::view::ViewCtx;

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

impl Curvature {
    /// The tile (all its plots when `enlarged` or large enough).
    pub fn tile_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, enlarged: bool) {
        tile(self, ctx, ui, enlarged)
    }
}

fn tile(this: &mut Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, enlarged: bool) {
    let area = ui.available_rect_before_wrap();
    let grid = enlarged || (area.width() >= 760.0 && area.height() >= 420.0);
    controls_ui(this, ctx, ui, !grid);
    status_ui(this, ctx, ui, !grid);
    if let Some(r) = &this.replayed {
        replayed_ui(ctx, ui, r);
    }
    if !this.on && this.shown().is_none() && this.computing.is_none() {
        ui.add_space(8.0);
        ui.add(egui::Label::new(egui::RichText::new(ctx.t(S::CurvOff)).weak()).wrap());
        return;
    }
    if grid {
        let area = ui.available_rect_before_wrap();
        grid_ui(this, ctx, ui, area);
    } else {
        let view = this.view;
        plot_ui(this, ctx, ui, view);
    }
}

/// Which step's spectrum is on screen while the timeline shows a past step.
fn replayed_ui(ctx: &ViewCtx<'_>, ui: &mut egui::Ui, r: &Replayed) {
    match &r.shown {
        Some(a) => {
            let t = ctx
                .t(S::SpectrumAtStored)
                .replace("{n}", &a.step.to_string());
            ui.label(egui::RichText::new(t).strong().color(CURSOR));
            if r.stored_only {
                ui.add(egui::Label::new(egui::RichText::new(ctx.t(S::StoredOnly)).weak()).wrap());
            }
        }
        None => {
            let t = ctx.t(S::NoStoredSpectrum).replace("{n}", &r.at.to_string());
            ui.label(egui::RichText::new(t).strong());
        }
    }
}

/// The small tile's choice of plot.
fn view_ui(this: &mut Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let mut view = this.view;
    egui::ComboBox::from_id_salt("curvature_view")
        .selected_text(ctx.t(title(view)))
        .width(150.0)
        .truncate()
        .show_ui(ui, |ui| {
            for v in View::ALL {
                ui.selectable_value(&mut view, v, ctx.t(title(v)));
            }
        });
    this.view = view;
}

fn controls_ui(this: &mut Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, compact: bool) {
    ui.horizontal_wrapped(|ui| {
        let mut on = this.on;
        if ui.checkbox(&mut on, ctx.t(S::CurvOn)).changed() {
            ctx.send(Command::CurvatureOn(on));
        }
        ui.label(ctx.t(S::Every));
        let mut every = this.every;
        let r = ui
            .add(
                egui::DragValue::new(&mut every)
                    .range(1..=1_000_000)
                    .speed(1.0),
            )
            .accessible_name(ctx.t(S::Every));
        if r.changed() {
            ctx.send(Command::CurvatureEvery(every));
        }
        ui.label(ctx.t(S::StepsUnit));
        if ui.button(ctx.t(S::AnalyseNow)).clicked() {
            ctx.send(Command::AnalyseNow);
        }
        ui.separator();
        let gn = this.gauss_newton;
        if ui.radio(!gn, ctx.t(S::Hessian)).clicked() && gn {
            ctx.send(Command::CurvatureMatrix(false));
        }
        if ui
            .radio(gn, ctx.t(S::GaussNewton))
            .on_hover_text(ctx.t(S::GnNote))
            .clicked()
            && !gn
        {
            ctx.send(Command::CurvatureMatrix(true));
        }
        ui.separator();
        let t = ctx.t(S::LogAbs);
        ui.checkbox(&mut this.log, t);
        if compact && (this.on || this.shown().is_some()) {
            view_ui(this, ctx, ui);
        }
    });
    if this.gauss_newton {
        ui.add(egui::Label::new(egui::RichText::new(ctx.t(S::GnNote)).weak().small()).wrap());
    }
}

/// What is being computed, what was, and its numbers (a small tile shows the first line only
/// while computing and fewer numbers, with the rest on hover).
fn status_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, compact: bool) {
    let c = this;
    // A spectrum rebuilt from stored eigenvalues has no time, method details or P of its own.
    let stored_only = c.replayed.as_ref().is_some_and(|r| r.stored_only);
    let details = c.shown().filter(|_| !stored_only).map(|a| {
        let method = match a.method {
            Method::Dense => ctx.t(S::Dense),
            Method::Lanczos => ctx.t(S::LanczosSlq),
        };
        let matrix = if a.gauss_newton {
            ctx.t(S::GaussNewton)
        } else {
            ctx.t(S::Hessian)
        };
        format!(
            "{} {} · {:.2} s · {method}, P = {} · {matrix}",
            ctx.t(S::Analysed),
            a.step,
            a.seconds,
            a.params
        )
    });
    ui.horizontal_wrapped(|ui| {
        if let Some(step) = c.computing {
            ui.spinner();
            ui.label(format!("{} {step}…", ctx.t(S::Computing)));
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
                    ctx.t(S::Negative),
                    100.0 * a.negative_count / a.params.max(1) as f64
                ));
            }
            if a.trace.is_finite() {
                ui.label(format!("{} = {}", ctx.t(S::Trace), num(a.trace)));
            }
            // The optimiser's own threshold (N1: edge of stability per optimiser).
            super::stability_edge::readout_ui(ui, a, ctx.lang());
        });
        if compact && let Some(d) = details {
            r.response.on_hover_text(format!(
                "{d}\nκ = {} · {} = {neg} · {}",
                num(a.condition_number),
                ctx.t(S::Negative),
                super::stability_edge::compact_text(a)
            ));
        }
    }
    if let Some(e) = &c.error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{}: {e}", ctx.t(S::CurvFailed)),
        );
    }
}

/// All five plots in a 3 × 2 grid (the sixth cell lists the top eigenvalues).
fn grid_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, area: egui::Rect) {
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
                let t = ctx.t(title(v));
                ui.add(egui::Label::new(egui::RichText::new(t).strong()).truncate());
                plot_ui(this, ctx, ui, v);
            }
            None => top_values_ui(this, ctx, ui),
        }
    }
    ui.allocate_rect(area, egui::Sense::hover());
}

fn top_values_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let Some(a) = this.shown() else {
        return;
    };
    ui.add(
        egui::Label::new(
            egui::RichText::new(format!("{} {}", ctx.t(S::Eigenvalues), ctx.t(S::Top))).strong(),
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

fn plot_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, view: View) {
    match view {
        View::Spectrum => spectrum_ui(this, ctx, ui),
        View::Lambda => lambda_ui(this, ctx, ui),
        View::Kappa => kappa_ui(this, ctx, ui),
        View::Negative => negative_ui(this, ctx, ui),
        View::Vectors => vectors_ui(this, ctx, ui),
    }
}

fn spectrum_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let Some(a) = this.shown() else {
        ui.weak(ctx.t(S::NoAnalysis));
        return;
    };
    let s = &a.spectrum;
    let log = this.log;
    if log && s.zeros > 0 {
        ui.weak(format!("{}: {}", ctx.t(S::Zeros), s.zeros));
    }
    let (x_label, width) = if log {
        ("log10 |λ|", s.log_width)
    } else {
        ("λ", s.linear_width)
    };
    let series: Vec<(String, &[[f64; 2]], egui::Color32)> = if log {
        vec![
            (ctx.t(S::Positive).into(), &s.log_positive, theme::POS),
            (ctx.t(S::Negative).into(), &s.log_negative, theme::NEG),
        ]
    } else if s.exact {
        let name = format!("{} ({})", ctx.t(S::Eigenvalues), a.params);
        vec![(name, &s.linear, theme::POS)]
    } else {
        vec![(ctx.t(S::Density).into(), &s.linear, theme::POS)]
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

fn step_plot(id: &str, ctx: &ViewCtx<'_>, log: bool) -> Plot<'static> {
    let mut p = Plot::new(id)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label(ctx.t(S::StepCount));
    if log {
        p = p.y_axis_formatter(log_ticks).label_formatter(log_label);
    }
    p
}

fn lambda_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let c = this;
    let log = c.log;
    let edge = super::stability_edge::line_name(c.shown(), ctx.lang());
    step_plot("curvature_lambda", ctx, log).show(ui, |p| {
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
        super::plots::cursor(ctx.replayed_step, p);
    });
}

fn kappa_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let c = this;
    step_plot("curvature_kappa", ctx, true).show(ui, |p| {
        p.line(
            Line::new("κ", PlotPoints::Borrowed(c.kappa.points(true)))
                .color(theme::series_color(4))
                .width(2.0),
        );
        super::plots::cursor(ctx.replayed_step, p);
    });
}

fn negative_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let c = this;
    if c.shown().is_some_and(|a| a.method == Method::Lanczos) {
        ui.weak(ctx.t(S::NegEstimate));
    }
    step_plot("curvature_negative", ctx, false)
        .include_y(0.0)
        .show(ui, |p| {
            p.line(
                Line::new(
                    ctx.t(S::NegPlot),
                    PlotPoints::Borrowed(c.negatives.points(false)),
                )
                .color(theme::NEG)
                .width(2.0),
            );
            super::plots::cursor(ctx.replayed_step, p);
        });
}

fn layer_label(ctx: &ViewCtx<'_>, i: usize, n: usize) -> String {
    if i + 1 == n {
        ctx.t(S::OutputLayer).to_string()
    } else {
        format!("{} {}", ctx.t(S::Layer), i + 1)
    }
}

fn vectors_ui(this: &Curvature, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let Some(a) = this.shown() else {
        ui.weak(ctx.t(S::NoAnalysis));
        return;
    };
    ui.weak(ctx.t(S::WbNote));
    let n_vec = a.shares.len();
    let n_layers = a.shares.first().map_or(0, Vec::len);
    let names: Vec<String> = (0..n_layers)
        .map(|l| layer_label(ctx, l, n_layers))
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
        .y_axis_label(ctx.t(S::Share))
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
