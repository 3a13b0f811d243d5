//! The Dynamics tile: choose an analysis, run it on the current θ (on the dynamics thread),
//! and plot its answer — Lyapunov exponent against step and its sweep over η across 2/λ_max;
//! GD against gradient flow and the error against η (log-log); momentum's energies; signal
//! propagation per layer; Newton against GD.

use eframe::egui::{self, Color32};
use egui_plot::{
    Bar, BarChart, GridMark, HLine, Legend, Line, LineStyle, Plot, PlotPoints, Points, VLine,
};

use crate::analysis::hessian::MAX_DENSE_PARAMS;
use crate::ui::command::Command;
use crate::ui::dynamics::{Answer, Dynamics, Eta, Kind, LyapunovResult, Output};
use crate::ui::i18n::S;
use crate::ui::theme;
use crate::ui::view::ViewCtx;

use super::curvature::num;
use super::plots::log_ticks;

fn kind_name(k: Kind) -> S {
    match k {
        Kind::Lyapunov => S::KindLyapunov,
        Kind::Flow => S::KindFlow,
        Kind::Energy => S::KindEnergy,
        Kind::Signal => S::KindSignal,
        Kind::Newton => S::KindNewton,
    }
}

impl Dynamics {
    /// The tile: its controls, status and the chosen analysis (plots when there is room).
    pub fn tile_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, enlarged: bool) {
        tile(self, ctx, ui, enlarged)
    }
}

fn tile(this: &mut Dynamics, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, enlarged: bool) {
    controls_ui(this, ctx, ui);
    status_ui(this, ctx, ui);
    let Some(a) = this.last.clone() else {
        if !this.busy() {
            ui.add_space(8.0);
            ui.add(egui::Label::new(egui::RichText::new(ctx.t(S::DynNone)).weak()).wrap());
        }
        return;
    };
    let area = ui.available_rect_before_wrap();
    // A small tile shows the numbers only; enlarge it for the plots.
    let room = enlarged || area.height() >= 150.0;
    let two = enlarged || area.width() >= 640.0;
    match &a.output {
        Output::Lyapunov(r) => lyapunov_ui(ctx, ui, r, two, room),
        Output::Flow(b) => flow_ui(ctx, ui, &b.run, &b.sweep, two, room),
        Output::Energy(r) => energy_ui(ctx, ui, r, room),
        Output::Signal(r) => signal_ui(ctx, ui, &r.backward, room),
        Output::Newton(r) => newton_ui(ctx, ui, r, &a, room),
    }
}

fn controls_ui(this: &mut Dynamics, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let lang = ctx.lang();
    let too_large = ctx.lab.n_params > MAX_DENSE_PARAMS;
    // The widgets edit a copy; a change goes out as a command, applied after the frame.
    let mut edited = this.settings;
    let st = &mut edited;
    let mut run = false;
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_id_salt("dynamics_kind")
            .selected_text(lang.t(kind_name(st.kind)))
            // Narrow tiles get a narrower box instead of spilling over the next tile.
            .width((ui.available_width() - 24.0).clamp(60.0, 170.0))
            .truncate()
            .show_ui(ui, |ui| {
                for k in Kind::ALL {
                    ui.selectable_value(&mut st.kind, k, lang.t(kind_name(k)));
                }
            })
            .response
            .accessible_name(lang.t(S::DynamicsAnalysis));
        match st.kind {
            Kind::Lyapunov => {
                // One piece: wrapping inside "η / (2/λ_max)" would split the formula.
                ui.add(
                    egui::Label::new(lang.t(S::EtaFraction)).wrap_mode(egui::TextWrapMode::Extend),
                );
                let mut f = match st.lyap_eta {
                    Eta::EdgeFraction(f) => f,
                    Eta::Value(_) => 0.8,
                };
                if ui
                    .add(egui::DragValue::new(&mut f).range(0.01..=5.0).speed(0.01))
                    .accessible_name(lang.t(S::EtaFraction))
                    .changed()
                    || !matches!(st.lyap_eta, Eta::EdgeFraction(_))
                {
                    st.lyap_eta = Eta::EdgeFraction(f);
                }
                ui.add(
                    egui::DragValue::new(&mut st.steps)
                        .range(2..=5000)
                        .speed(1.0),
                )
                .accessible_name(lang.t(S::StepsUnit));
                ui.label(lang.t(S::StepsUnit));
                ui.checkbox(&mut st.top_direction, lang.t(S::TopDirection));
            }
            Kind::Flow | Kind::Energy => {
                ui.label("η");
                ui.add(
                    egui::DragValue::new(&mut st.eta)
                        .range(1e-6..=10.0)
                        .speed(0.005),
                )
                .accessible_name(lang.t(S::LearningRate));
                ui.add(
                    egui::DragValue::new(&mut st.steps)
                        .range(2..=5000)
                        .speed(1.0),
                )
                .accessible_name(lang.t(S::StepsUnit));
                ui.label(lang.t(S::StepsUnit));
                if st.kind == Kind::Energy {
                    ui.label("μ");
                    ui.add(
                        egui::DragValue::new(&mut st.momentum)
                            .range(0.0..=0.999)
                            .speed(0.005),
                    )
                    .accessible_name(lang.t(S::Momentum));
                }
            }
            Kind::Signal => {}
            Kind::Newton => {
                ui.label(lang.t(S::Damping));
                ui.add(
                    egui::DragValue::new(&mut st.damping)
                        .range(0.0..=1e6)
                        .speed(0.01),
                )
                .accessible_name(lang.t(S::Damping));
                ui.add(
                    egui::DragValue::new(&mut st.newton_steps)
                        .range(1..=100)
                        .speed(0.2),
                )
                .accessible_name(lang.t(S::Iteration));
                ui.label(lang.t(S::Iteration));
                ui.checkbox(&mut st.line_search, lang.t(S::LineSearch));
            }
        }
        let blocked = st.kind == Kind::Newton && too_large;
        if ui
            .add_enabled(!blocked, egui::Button::new(lang.t(S::Run)))
            .clicked()
        {
            run = true;
        }
    });
    if st.kind == Kind::Newton && too_large {
        ui.colored_label(ui.visuals().warn_fg_color, lang.t(S::NewtonTooLarge));
    }
    if edited != this.settings {
        ctx.send(Command::SetDynamicsSettings(Box::new(edited)));
    }
    if run {
        ctx.send(Command::DynamicsRun);
    }
}

fn status_ui(this: &Dynamics, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let d = this;
    ui.horizontal_wrapped(|ui| {
        if d.awaiting_theta {
            ui.spinner();
            ui.label(ctx.t(S::WaitingTheta));
        } else if d.computing {
            ui.spinner();
            ui.label(format!("{}…", ctx.t(S::Run)));
        }
        if let Some(a) = &d.last {
            ui.label(
                egui::RichText::new(format!(
                    "{} {} · P = {} · {:.2} s",
                    ctx.t(S::StepCount),
                    a.step,
                    a.params,
                    a.seconds
                ))
                .weak(),
            );
        }
    });
    if let Some(e) = &d.error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{}: {e}", ctx.t(S::DynFailed)),
        );
    }
}

/// Two plots side by side (or one above the other in a narrow tile).
fn split(
    ui: &mut egui::Ui,
    two: bool,
    first: impl FnOnce(&mut egui::Ui),
    second: impl FnOnce(&mut egui::Ui),
) {
    let area = ui.available_rect_before_wrap();
    let gap = 8.0;
    let (a, b) = if two {
        let w = (area.width() - gap) / 2.0;
        (
            egui::Rect::from_min_size(area.min, egui::vec2(w, area.height())),
            egui::Rect::from_min_size(
                egui::pos2(area.left() + w + gap, area.top()),
                egui::vec2(w, area.height()),
            ),
        )
    } else {
        let h = (area.height() - gap) / 2.0;
        (
            egui::Rect::from_min_size(area.min, egui::vec2(area.width(), h)),
            egui::Rect::from_min_size(
                egui::pos2(area.left(), area.top() + h + gap),
                egui::vec2(area.width(), h),
            ),
        )
    };
    for (k, (r, f)) in [
        (a, Box::new(first) as Box<dyn FnOnce(&mut egui::Ui)>),
        (b, Box::new(second)),
    ]
    .into_iter()
    .enumerate()
    {
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(r)
                .id_salt(("dynamics_split", k))
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        f(&mut child);
    }
    ui.allocate_rect(area, egui::Sense::hover());
}

fn title(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(egui::RichText::new(text).strong()).truncate());
}

fn lyapunov_ui(ctx: &ViewCtx<'_>, ui: &mut egui::Ui, r: &LyapunovResult, two: bool, room: bool) {
    let edge = 2.0 / r.lambda_max;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("λ_max = {}", num(r.lambda_max)));
        ui.label(format!("2/λ_max = {}", num(edge)));
        ui.label(format!("η = {}", num(r.eta)));
        ui.label(
            egui::RichText::new(format!(
                "{} λ_T = {}",
                ctx.t(S::Measured),
                num(r.run.exponent)
            ))
            .strong(),
        );
        ui.label(format!(
            "{} ln|1 − ηλ_max| = {}",
            ctx.t(S::Predicted),
            num(r.predicted)
        ));
        if r.run.diverged {
            ui.colored_label(theme::NEG, ctx.t(S::DivergedShort));
        }
    })
    .response
    .on_hover_text(ctx.t(S::LyapNote));
    if !room {
        return;
    }
    let curve: Vec<[f64; 2]> = r
        .run
        .curve
        .iter()
        .enumerate()
        .map(|(t, v)| [(t + 1) as f64, *v])
        .collect();
    let sweep: Vec<[f64; 2]> = r
        .sweep
        .iter()
        .filter(|p| p.exponent.is_finite())
        .map(|p| [p.eta, p.exponent])
        .collect();
    let predicted: Vec<[f64; 2]> = {
        let (lo, hi) = (0.05 * edge, 3.2 * edge);
        (0..=200)
            .map(|k| {
                let eta = lo + (hi - lo) * k as f64 / 200.0;
                [eta, (1.0 - eta * r.lambda_max).abs().ln()]
            })
            .filter(|p| p[1].is_finite())
            .collect()
    };
    let (meas, pred) = (ctx.t(S::Measured), ctx.t(S::Predicted));
    split(
        ui,
        two,
        |ui| {
            title(ui, ctx.t(S::ExponentPlot));
            Plot::new("dyn_lyap_curve")
                .legend(Legend::default())
                .allow_scroll(false)
                .x_axis_label(ctx.t(S::StepCount))
                .show(ui, |p| {
                    p.line(
                        Line::new(meas, PlotPoints::from(curve))
                            .color(theme::POS)
                            .width(2.0),
                    );
                    if r.top_direction {
                        p.hline(
                            HLine::new(pred, r.predicted)
                                .color(Color32::GRAY)
                                .style(LineStyle::dashed_loose()),
                        );
                    }
                    p.hline(HLine::new("0", 0.0).color(Color32::GRAY.gamma_multiply(0.5)));
                });
        },
        |ui| {
            title(ui, ctx.t(S::SweepPlot));
            Plot::new("dyn_lyap_sweep")
                .legend(Legend::default())
                .allow_scroll(false)
                .x_axis_label("η")
                .show(ui, |p| {
                    if r.top_direction {
                        p.line(
                            Line::new(
                                format!("{pred} ln|1 − ηλ_max|"),
                                PlotPoints::from(predicted),
                            )
                            .color(Color32::GRAY)
                            .style(LineStyle::dashed_loose()),
                        );
                    }
                    p.line(
                        Line::new(meas, PlotPoints::from(sweep.clone()))
                            .color(theme::POS)
                            .width(2.0),
                    );
                    p.points(
                        Points::new(meas, PlotPoints::from(sweep))
                            .color(theme::POS)
                            .radius(3.0),
                    );
                    p.vline(VLine::new("2/λ_max", edge).color(theme::NEG));
                    p.hline(HLine::new("0", 0.0).color(Color32::GRAY.gamma_multiply(0.5)));
                });
        },
    );
}

fn log_pts(pts: impl Iterator<Item = [f64; 2]>, log_x: bool) -> Vec<[f64; 2]> {
    pts.filter(|p| p[1] > 0.0 && p[1].is_finite() && (!log_x || p[0] > 0.0))
        .map(|p| [if log_x { p[0].log10() } else { p[0] }, p[1].log10()])
        .collect()
}

fn flow_ui(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    c: &crate::analysis::dynamics::FlowComparison,
    s: &crate::analysis::dynamics::FlowSweep,
    two: bool,
    room: bool,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("η = {}", num(c.eta)));
        ui.label(format!("{} = {}", ctx.t(S::Slope), num(s.slope)));
        ui.label(format!("RK4 ≈ {}", num(c.reference_error)));
    });
    if !room {
        return;
    }
    let err = log_pts(c.time.iter().zip(&c.error).map(|(t, e)| [*t, *e]), false);
    let sweep = log_pts(s.points.iter().map(|p| [p.eta, p.error]), true);
    let gd: Vec<[f64; 2]> = c
        .time
        .iter()
        .zip(&c.loss_gd)
        .map(|(t, j)| [*t, *j])
        .collect();
    let flow: Vec<[f64; 2]> = c
        .time
        .iter()
        .zip(&c.loss_flow)
        .map(|(t, j)| [*t, *j])
        .collect();
    split(
        ui,
        two,
        |ui| {
            title(ui, ctx.t(S::FlowErrorPlot));
            Plot::new("dyn_flow_err")
                .legend(Legend::default())
                .allow_scroll(false)
                .x_axis_label(ctx.t(S::Time))
                .y_axis_formatter(log_ticks)
                .show(ui, |p| {
                    p.line(
                        Line::new("‖θ_GD − θ_flow‖", PlotPoints::from(err))
                            .color(theme::NEG)
                            .width(2.0),
                    );
                    // The two losses on the same clock, scaled into the log axis' range.
                    let lg = log_pts(gd.into_iter(), false);
                    let lf = log_pts(flow.into_iter(), false);
                    p.line(Line::new("J GD", PlotPoints::from(lg)).color(theme::POS));
                    p.line(
                        Line::new("J flow", PlotPoints::from(lf))
                            .color(theme::POS.gamma_multiply(0.6))
                            .style(LineStyle::dashed_loose()),
                    );
                });
        },
        |ui| {
            title(ui, ctx.t(S::FlowSweepPlot));
            Plot::new("dyn_flow_sweep")
                .legend(Legend::default())
                .allow_scroll(false)
                .x_axis_label("log10 η")
                .y_axis_formatter(log_ticks)
                .x_axis_formatter(|m: GridMark, _| log_ticks(m, &(0.0..=0.0)))
                .show(ui, |p| {
                    p.line(
                        Line::new(ctx.t(S::Measured), PlotPoints::from(sweep.clone()))
                            .color(theme::NEG)
                            .width(2.0),
                    );
                    p.points(
                        Points::new(ctx.t(S::Measured), PlotPoints::from(sweep.clone()))
                            .color(theme::NEG)
                            .radius(3.0),
                    );
                    // Slope-1 reference through the first point: Euler's O(η).
                    if let Some(f) = sweep.first() {
                        let last = sweep.last().copied().unwrap_or(*f);
                        p.line(
                            Line::new(
                                "∝ η",
                                PlotPoints::from(vec![*f, [last[0], f[1] + (last[0] - f[0])]]),
                            )
                            .color(Color32::GRAY)
                            .style(LineStyle::dashed_loose()),
                        );
                    }
                });
        },
    );
}

fn energy_ui(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    r: &crate::analysis::dynamics::EnergyReport,
    room: bool,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("η = {}, μ = {}", num(r.eta), num(r.momentum)));
        ui.label(format!(
            "m = μη = {}, γ = 1 − μ = {}",
            num(r.mass),
            num(r.damping)
        ));
        ui.label(format!("{}: {}", ctx.t(S::EnergyIncreases), r.increases));
        if r.diverged {
            ui.colored_label(theme::NEG, ctx.t(S::DivergedShort));
        }
    });
    if !room {
        return;
    }
    let pick = |f: fn(&crate::analysis::dynamics::EnergyStep) -> f64| -> Vec<[f64; 2]> {
        r.steps.iter().map(|s| [s.step as f64, f(s)]).collect()
    };
    Plot::new("dyn_energy")
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label(ctx.t(S::StepCount))
        .show(ui, |p| {
            p.line(
                Line::new(ctx.t(S::Kinetic), PlotPoints::from(pick(|s| s.kinetic)))
                    .color(theme::NEG)
                    .width(2.0),
            );
            p.line(
                Line::new(ctx.t(S::Potential), PlotPoints::from(pick(|s| s.potential)))
                    .color(theme::POS)
                    .width(2.0),
            );
            p.line(
                Line::new(ctx.t(S::TotalEnergy), PlotPoints::from(pick(|s| s.total)))
                    .color(theme::series_color(2))
                    .width(2.5),
            );
        });
}

fn signal_ui(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    r: &crate::analysis::dynamics::SignalReport,
    room: bool,
) {
    ui.weak(ctx.t(S::SignalPlot));
    if !room {
        return;
    }
    let n = r.layers.len();
    let pred: Vec<Bar> = r
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| Bar::new(i as f64 - 0.18, l.predicted).width(0.34))
        .collect();
    let meas: Vec<Bar> = r
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| Bar::new(i as f64 + 0.18, l.measured).width(0.34))
        .collect();
    let names: Vec<String> = (0..n)
        .map(|i| format!("{} {}", ctx.t(S::Layer), i + 1))
        .collect();
    Plot::new("dyn_signal")
        .legend(Legend::default())
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(move |m: GridMark, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.bar_chart(BarChart::new(ctx.t(S::SignalPredicted), pred).color(theme::POS));
            p.bar_chart(BarChart::new(ctx.t(S::SignalMeasured), meas).color(theme::NEG));
            p.hline(
                HLine::new("1", 1.0)
                    .color(Color32::GRAY)
                    .style(LineStyle::dashed_loose()),
            );
        });
}

fn newton_ui(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    r: &crate::analysis::dynamics::NewtonReport,
    _a: &Answer,
    room: bool,
) {
    let before = r.loss_newton.first().copied().unwrap_or(f64::NAN);
    let after_n = r.loss_newton.last().copied().unwrap_or(f64::NAN);
    let after_g = r.loss_gd.last().copied().unwrap_or(f64::NAN);
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("J {} = {}", ctx.t(S::Before), num(before)));
        ui.label(
            egui::RichText::new(format!(
                "{} {}: {}",
                ctx.t(S::NewtonName),
                ctx.t(S::After),
                num(after_n)
            ))
            .strong(),
        );
        ui.label(format!("GD {}: {}", ctx.t(S::After), num(after_g)));
        ui.label(format!("{} = {}", ctx.t(S::NegativeEigs), r.negative_count));
    });
    if !room {
        return;
    }
    let n: Vec<[f64; 2]> = log_pts(
        r.loss_newton
            .iter()
            .enumerate()
            .map(|(k, j)| [k as f64, *j]),
        false,
    );
    let g: Vec<[f64; 2]> = log_pts(
        r.loss_gd.iter().enumerate().map(|(k, j)| [k as f64, *j]),
        false,
    );
    let gd_name = format!("{} ({})", ctx.t(S::GdName), num(r.gd_eta));
    ui.weak(ctx.t(S::NewtonPlot));
    Plot::new("dyn_newton")
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label(ctx.t(S::Iteration))
        .y_axis_formatter(log_ticks)
        .show(ui, |p| {
            p.line(
                Line::new(ctx.t(S::NewtonName), PlotPoints::from(n.clone()))
                    .color(theme::NEG)
                    .width(2.0),
            );
            p.points(
                Points::new(ctx.t(S::NewtonName), PlotPoints::from(n))
                    .color(theme::NEG)
                    .radius(3.0),
            );
            p.line(
                Line::new(gd_name.clone(), PlotPoints::from(g.clone()))
                    .color(theme::POS)
                    .width(2.0),
            );
            p.points(
                Points::new(gd_name, PlotPoints::from(g))
                    .color(theme::POS)
                    .radius(3.0),
            );
        });
}
