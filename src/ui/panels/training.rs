//! The training section: loss, optimiser and its parameters, learning rate (log slider and a
//! typed value that refuses nonsense), batch size, schedule, L1/L2, training rule. Changes apply
//! live between steps and the worker records them with their step.

use eframe::egui;

use crate::net::spec::Loss;
use crate::optim::spec::{OptimizerKind, Schedule, TrainingRule};
use crate::session::Session;
use crate::train::StopReason;
use crate::ui::command::Command;
use crate::ui::i18n::{Lang, S};
use crate::ui::view::{View, ViewCtx};

/// The training panel's own state: the learning rate as typed and why it was refused.
pub struct TrainingView {
    /// The learning rate as typed beside the slider; applied when the field loses focus (Enter or a
    /// click elsewhere), rewritten when the slider moves.
    pub lr_text: String,
    /// Why the typed learning rate was refused, shown in red under it.
    pub lr_error: Option<String>,
}

impl TrainingView {
    /// The panel showing the learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        TrainingView {
            lr_text: format!("{lr}"),
            lr_error: None,
        }
    }
}

/// Every optimiser with its name (the Compare panel's variants use it too).
pub(crate) const KINDS: [(OptimizerKind, &str); 7] = [
    (OptimizerKind::Gd, "GD (full batch)"),
    (OptimizerKind::Sgd, "SGD"),
    (OptimizerKind::Momentum, "Momentum"),
    (OptimizerKind::Nesterov, "Nesterov"),
    (OptimizerKind::Adagrad, "AdaGrad"),
    (OptimizerKind::Rmsprop, "RMSprop"),
    (OptimizerKind::Adam, "Adam"),
];

fn kind_name(k: OptimizerKind) -> &'static str {
    match k {
        OptimizerKind::Perceptron => "Perceptron",
        OptimizerKind::FeedbackAlignment => "SGD",
        _ => KINDS.iter().find(|(x, _)| *x == k).map_or("?", |(_, n)| n),
    }
}

/// Parse a typed learning rate: a positive finite number.
pub(crate) fn parse_lr(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// A typed/dragged number named `name` (for screen readers); true when a change is finished.
/// A value outside `range` (from a file) stays as it is until someone edits it.
fn drag(
    ui: &mut egui::Ui,
    name: &str,
    v: &mut f64,
    range: std::ops::RangeInclusive<f64>,
    speed: f64,
) -> bool {
    let r = ui
        .add(
            egui::DragValue::new(v)
                .range(range)
                .clamp_existing_to_range(false)
                .speed(speed)
                .max_decimals(6),
        )
        .accessible_name(name);
    r.drag_stopped() || (r.changed() && !r.dragged())
}

impl View for TrainingView {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        egui::CollapsingHeader::new(egui::RichText::new(ctx.t(S::Training)).heading())
            .id_salt("training_section")
            .default_open(true)
            .show(ui, |ui| self.body(ui, ctx));
    }
}

impl TrainingView {
    /// The section's widgets edit a copy of the session; a changed copy goes back as
    /// `Command::EditSession`, followed by what the change needs (rebuild, live edit, stop rule).
    fn body(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        let lang = ctx.lang();
        let classes = ctx.lab.train().classes;
        let mut session = ctx.lab.session().clone();
        let s = &mut session;
        let mut live = false;
        let mut reg = false;
        let mut rebuild = false;
        egui::Grid::new("train_grid")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                // Loss (changing it rebuilds: the output layer may change).
                ui.label(lang.t(S::Loss));
                egui::ComboBox::from_id_salt("loss")
                    .selected_text(s.loss.name())
                    .width(130.0)
                    .show_ui(ui, |ui| {
                        for l in Loss::ALL {
                            let ok = classes > 0 || l == Loss::Mse;
                            let r =
                                ui.add_enabled(ok, egui::Button::selectable(s.loss == l, l.name()));
                            let r = if ok {
                                r
                            } else {
                                r.on_disabled_hover_text(lang.t(S::ClassifierOnly))
                            };
                            if r.clicked() {
                                s.loss = l;
                                rebuild = true;
                            }
                        }
                    })
                    .response
                    .accessible_name(lang.t(S::Loss));
                ui.end_row();
                // Rule.
                ui.label(lang.t(S::Rule));
                let rule = s.optimizer.effective_rule();
                let rule_name = |r: TrainingRule| match r {
                    TrainingRule::Backprop => lang.t(S::Backprop),
                    TrainingRule::Perceptron => lang.t(S::Perceptron),
                    TrainingRule::FeedbackAlignment => lang.t(S::FeedbackAlignment),
                };
                egui::ComboBox::from_id_salt("rule")
                    .selected_text(rule_name(rule))
                    .width(130.0)
                    .show_ui(ui, |ui| {
                        for r in [
                            TrainingRule::Backprop,
                            TrainingRule::FeedbackAlignment,
                            TrainingRule::Perceptron,
                        ] {
                            let ok = r != TrainingRule::Perceptron || classes > 0;
                            if ui
                                .add_enabled(ok, egui::Button::selectable(rule == r, rule_name(r)))
                                .on_hover_text(lang.t(S::RuleNeedsRebuild))
                                .clicked()
                                && r != rule
                            {
                                let o = &mut s.optimizer;
                                match r {
                                    TrainingRule::Perceptron => {
                                        o.kind = OptimizerKind::Perceptron;
                                        o.rule = TrainingRule::Perceptron;
                                    }
                                    _ => {
                                        if matches!(
                                            o.kind,
                                            OptimizerKind::Perceptron
                                                | OptimizerKind::FeedbackAlignment
                                        ) {
                                            o.kind = OptimizerKind::Sgd;
                                        }
                                        o.rule = r;
                                        if s.network.layers.len() == 1
                                            && rule == TrainingRule::Perceptron
                                        {
                                            // Back from the perceptron: a small hidden layer again.
                                            s.network.layers.insert(
                                                0,
                                                crate::net::spec::LayerSpec::new(
                                                    4,
                                                    crate::net::Activation::Tanh,
                                                ),
                                            );
                                            s.network.layers[1].activation =
                                                crate::net::Activation::Sigmoid;
                                            s.loss = Loss::Bce;
                                        }
                                    }
                                }
                                rebuild = true;
                            }
                        }
                    })
                    .response
                    .accessible_name(lang.t(S::Rule));
                ui.end_row();
                if rule == TrainingRule::Perceptron {
                    ui.label("");
                    ui.label(egui::RichText::new(lang.t(S::PerceptronNote)).weak());
                    ui.end_row();
                }
                // Optimiser.
                let o = &mut s.optimizer;
                if rule != TrainingRule::Perceptron {
                    ui.label(lang.t(S::Optimizer));
                    egui::ComboBox::from_id_salt("optimizer")
                        .selected_text(kind_name(o.kind))
                        .width(130.0)
                        .show_ui(ui, |ui| {
                            for (k, name) in KINDS {
                                if ui.selectable_value(&mut o.kind, k, name).changed() {
                                    live = true;
                                }
                            }
                        })
                        .response
                        .accessible_name(lang.t(S::Optimizer));
                    ui.end_row();
                }
                // Learning rate: log slider plus a typed value.
                ui.label(lang.t(S::LearningRate));
                ui.horizontal(|ui| {
                    let mut lr = o.lr.clamp(1e-6, 10.0);
                    let r = ui
                        .add(
                            egui::Slider::new(&mut lr, 1e-6..=10.0)
                                .logarithmic(true)
                                .show_value(false),
                        )
                        .accessible_name(lang.t(S::LearningRate));
                    if r.changed() {
                        o.lr = lr;
                        self.lr_text = format!("{:.3e}", lr);
                        self.lr_error = None;
                    }
                    live |= r.drag_stopped() || (r.changed() && !r.dragged());
                    let t = ui
                        .add(
                            egui::TextEdit::singleline(&mut self.lr_text)
                                .desired_width(72.0)
                                .text_color_opt(
                                    self.lr_error
                                        .is_some()
                                        .then_some(egui::Color32::from_rgb(230, 80, 60)),
                                )
                                .id_salt("lr_text"),
                        )
                        .accessible_name(lang.t(S::LearningRate));
                    if t.lost_focus() {
                        match parse_lr(&self.lr_text) {
                            Some(v) => {
                                o.lr = v;
                                self.lr_error = None;
                                live = true;
                            }
                            None => {
                                self.lr_error = Some(format!(
                                    "{} “{}” {}",
                                    lang.t(S::LearningRate),
                                    self.lr_text.trim(),
                                    lang.t(S::BadNumber)
                                ));
                            }
                        }
                    }
                });
                ui.end_row();
                if let Some(e) = &self.lr_error {
                    ui.label("");
                    ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
                    ui.end_row();
                }
                if !matches!(o.kind, OptimizerKind::Gd) {
                    ui.label(lang.t(S::BatchSize));
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut o.batch_size)
                                .range(1..=1_000_000)
                                .clamp_existing_to_range(false)
                                .speed(1),
                        )
                        .accessible_name(lang.t(S::BatchSize));
                    live |= r.drag_stopped() || (r.changed() && !r.dragged());
                    ui.end_row();
                }
                match o.kind {
                    OptimizerKind::Momentum | OptimizerKind::Nesterov => {
                        ui.label(lang.t(S::Momentum));
                        live |= drag(ui, lang.t(S::Momentum), &mut o.momentum, 0.0..=0.999, 0.005);
                        ui.end_row();
                    }
                    OptimizerKind::Adam => {
                        ui.label(lang.t(S::Beta1));
                        live |= drag(ui, lang.t(S::Beta1), &mut o.beta1, 0.0..=0.9999, 0.001);
                        ui.end_row();
                        ui.label(lang.t(S::Beta2));
                        live |= drag(ui, lang.t(S::Beta2), &mut o.beta2, 0.0..=0.99999, 0.0005);
                        ui.end_row();
                    }
                    OptimizerKind::Rmsprop => {
                        ui.label(lang.t(S::Rho));
                        live |= drag(ui, lang.t(S::Rho), &mut o.rho, 0.0..=0.9999, 0.001);
                        ui.end_row();
                    }
                    _ => {}
                }
                if matches!(
                    o.kind,
                    OptimizerKind::Adam | OptimizerKind::Rmsprop | OptimizerKind::Adagrad
                ) {
                    ui.label(lang.t(S::Epsilon));
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut o.eps)
                                .range(1e-12..=1.0)
                                .clamp_existing_to_range(false)
                                .speed(1e-9)
                                .custom_formatter(|v, _| format!("{v:.0e}")),
                        )
                        .accessible_name(lang.t(S::Epsilon));
                    live |= r.drag_stopped() || (r.changed() && !r.dragged());
                    ui.end_row();
                }
                // Schedule.
                ui.label(lang.t(S::Schedule));
                let sname = match o.schedule {
                    Schedule::Constant => lang.t(S::SchedConstant),
                    Schedule::Step { .. } => lang.t(S::SchedStep),
                    Schedule::Exponential { .. } => lang.t(S::SchedExp),
                    Schedule::Cosine { .. } => lang.t(S::SchedCosine),
                };
                egui::ComboBox::from_id_salt("schedule")
                    .selected_text(sname)
                    .width(130.0)
                    .show_ui(ui, |ui| {
                        let opts = [
                            (Schedule::Constant, S::SchedConstant),
                            (
                                Schedule::Step {
                                    every: 1000,
                                    gamma: 0.5,
                                },
                                S::SchedStep,
                            ),
                            (Schedule::Exponential { gamma: 0.9995 }, S::SchedExp),
                            (
                                Schedule::Cosine {
                                    period: 5000,
                                    min_lr: 0.0,
                                },
                                S::SchedCosine,
                            ),
                        ];
                        for (s, label) in opts {
                            let same =
                                std::mem::discriminant(&s) == std::mem::discriminant(&o.schedule);
                            if ui.selectable_label(same, lang.t(label)).clicked() && !same {
                                o.schedule = s;
                                live = true;
                            }
                        }
                    })
                    .response
                    .accessible_name(lang.t(S::Schedule));
                ui.end_row();
                match &mut o.schedule {
                    Schedule::Constant => {}
                    Schedule::Step { every, gamma } => {
                        ui.label("");
                        ui.horizontal(|ui| {
                            ui.label(lang.t(S::Every));
                            let r = ui
                                .add(
                                    egui::DragValue::new(every)
                                        .range(1..=1_000_000)
                                        .clamp_existing_to_range(false),
                                )
                                .accessible_name(lang.t(S::Every));
                            live |= r.drag_stopped() || (r.changed() && !r.dragged());
                            ui.label(lang.t(S::Gamma));
                            live |= drag(ui, lang.t(S::Gamma), gamma, 0.01..=1.0, 0.005);
                        });
                        ui.end_row();
                    }
                    Schedule::Exponential { gamma } => {
                        ui.label(lang.t(S::Gamma));
                        live |= drag(ui, lang.t(S::Gamma), gamma, 0.9..=1.0, 0.0001);
                        ui.end_row();
                    }
                    Schedule::Cosine { period, min_lr } => {
                        ui.label("");
                        ui.horizontal(|ui| {
                            ui.label(lang.t(S::Period));
                            let r = ui
                                .add(
                                    egui::DragValue::new(period)
                                        .range(1..=10_000_000)
                                        .clamp_existing_to_range(false),
                                )
                                .accessible_name(lang.t(S::Period));
                            live |= r.drag_stopped() || (r.changed() && !r.dragged());
                            ui.label(lang.t(S::MinLr));
                            live |= drag(ui, lang.t(S::MinLr), min_lr, 0.0..=1.0, 1e-4);
                        });
                        ui.end_row();
                    }
                }
                // Regularisation.
                let r = &mut s.regularization;
                ui.label(lang.t(S::L1));
                reg |= drag(ui, lang.t(S::L1), &mut r.l1, 0.0..=1.0, 1e-4);
                ui.end_row();
                ui.label(lang.t(S::L2));
                reg |= drag(ui, lang.t(S::L2), &mut r.l2, 0.0..=1.0, 1e-4);
                ui.end_row();
            });
        if !ctx.lab.edits().is_empty() {
            ui.label(
                egui::RichText::new(format!(
                    "{}: {}",
                    lang.t(S::LiveEdits),
                    ctx.lab.edits().len()
                ))
                .weak(),
            )
            .on_hover_text(
                ctx.lab
                    .edits()
                    .iter()
                    .rev()
                    .take(12)
                    .map(|e| format!("step {}: {:?}", e.step, e.edit))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        let stop = stop_rule_ui(ctx, s, ui);
        if session != *ctx.lab.session() {
            ctx.send(Command::EditSession(Box::new(session)));
        }
        if stop {
            ctx.send(Command::StopRule);
        }
        if rebuild {
            ctx.send(Command::Rebuild);
        } else if live {
            ctx.send(Command::LiveOptimizer);
        }
        if reg {
            ctx.send(Command::LiveRegularization);
        }
    }
}

/// The "Stop when" section: a target training loss or accuracy, an epoch count, early stopping
/// on the test loss, edited in `s.stop`. Returns whether the rule changed.
fn stop_rule_ui(ctx: &ViewCtx<'_>, s: &mut Session, ui: &mut egui::Ui) -> bool {
    let lang = ctx.lang();
    let classification = ctx.lab.train().classes > 0;
    let has_test = ctx.lab.test().rows() > 0;
    let mut rule = s.stop.clone().unwrap_or_default();
    let before = rule.clone();
    egui::CollapsingHeader::new(lang.t(S::StopWhen))
        .id_salt("stop_when")
        .show(ui, |ui| {
            ui.label(egui::RichText::new(lang.t(S::StopHint)).weak());
            egui::Grid::new("stop_grid")
                .num_columns(2)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    optional(
                        ui,
                        lang.t(S::StopLoss),
                        &mut rule.train_loss,
                        0.01,
                        |ui, v| {
                            ui.add(
                                egui::DragValue::new(v)
                                    .range(0.0..=f64::MAX)
                                    .speed(1e-4)
                                    .max_decimals(6),
                            )
                        },
                    );
                    ui.end_row();
                    ui.add_enabled_ui(classification, |ui| {
                        optional(
                            ui,
                            lang.t(S::StopAccuracy),
                            &mut rule.train_accuracy,
                            0.99,
                            |ui, v| {
                                // Shown in percent, kept as a fraction.
                                let mut pct = *v * 100.0;
                                let r = ui.add(
                                    egui::DragValue::new(&mut pct)
                                        .range(0.1..=100.0)
                                        .speed(0.1)
                                        .max_decimals(2),
                                );
                                *v = pct / 100.0;
                                r
                            },
                        )
                    });
                    ui.end_row();
                    optional(ui, lang.t(S::StopEpochs), &mut rule.epochs, 100, |ui, v| {
                        ui.add(egui::DragValue::new(v).range(1..=u64::MAX).speed(1.0))
                    });
                    ui.end_row();
                    let r = ui.add_enabled_ui(has_test, |ui| {
                        optional(
                            ui,
                            lang.t(S::StopPatience),
                            &mut rule.patience,
                            10,
                            |ui, v| ui.add(egui::DragValue::new(v).range(1..=100_000).speed(0.2)),
                        )
                    });
                    if !has_test {
                        r.response.on_hover_text(lang.t(S::StopNeedsTest));
                    }
                    ui.end_row();
                });
        });
    if !classification {
        rule.train_accuracy = None;
    }
    if !has_test {
        rule.patience = None;
    }
    if rule == before {
        return false;
    }
    s.stop = (!rule.is_empty()).then_some(rule);
    true
}

/// A checkbox that turns an optional setting on (at `default`) or off, and its editor.
fn optional<T: Copy>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<T>,
    default: T,
    editor: impl FnOnce(&mut egui::Ui, &mut T) -> egui::Response,
) {
    let mut on = value.is_some();
    if ui.checkbox(&mut on, label).changed() {
        *value = on.then_some(value.unwrap_or(default));
    }
    if let Some(v) = value {
        editor(ui, v).accessible_name(label);
    } else {
        ui.label("");
    }
}

/// What the notice says when a stop condition pauses training.
pub(crate) fn stop_text(reason: &StopReason, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match *reason {
        StopReason::TrainLoss { step, loss, target } if zh => {
            format!("已停止于第 {step} 步：训练损失 {loss:.4e} ≤ {target:.4e}")
        }
        StopReason::TrainLoss { step, loss, target } => {
            format!("Stopped at step {step}: training loss {loss:.4e} ≤ {target:.4e}")
        }
        StopReason::TrainAccuracy {
            step,
            accuracy,
            target,
        } => {
            let (a, t) = (100.0 * accuracy, 100.0 * target);
            if zh {
                format!("已停止于第 {step} 步：训练准确率 {a:.2}% ≥ {t:.2}%")
            } else {
                format!("Stopped at step {step}: training accuracy {a:.2}% ≥ {t:.2}%")
            }
        }
        StopReason::Steps { step } if zh => format!("已停止于第 {step} 步：达到步数上限"),
        StopReason::Steps { step } => format!("Stopped at step {step}: the step limit"),
        StopReason::Epochs { step, epochs } if zh => {
            format!("已停止于第 {step} 步：已完成 {epochs} 轮")
        }
        StopReason::Epochs { step, epochs } => {
            format!("Stopped at step {step}: {epochs} epochs done")
        }
        StopReason::Patience {
            step,
            best_step,
            best_loss,
            checks,
        } => {
            if zh {
                format!(
                    "提前停止于第 {step} 步：测试损失已连续 {checks} 次检查未下降（最佳 {best_loss:.4e}，第 {best_step} 步）"
                )
            } else {
                format!(
                    "Stopped early at step {step}: the test loss has not improved for {checks} checks (best {best_loss:.4e} at step {best_step})"
                )
            }
        }
    }
}
