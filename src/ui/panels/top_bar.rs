//! The top bar: Play/Pause, Step, Reset, speed, counters, session menu, theme, language.

use eframe::egui;

use crate::runtime::worker::Speed;
use crate::ui::command::Command;
use crate::ui::i18n::{Lang, S};
use crate::ui::view::{View, ViewCtx};

/// Bytes per megabyte of the checkpoint budget field.
const MB: f64 = 1024.0 * 1024.0;

/// The speed the app starts at: a person can watch the default session learn. Measured with
/// `nnlab run` on it (spiral, 2-8-8-1 tanh, Adam 0.01, batch 16): train accuracy passes 80 %
/// at step 3650 and 90 % at step 4250, so at 250 steps/s the boundary forms between about 15
/// and 17 s, and the loss flattens by 20 s (step 5000). Full speed is one click away.
pub(crate) const DEFAULT_SPEED: Speed = Speed::PerSecond(250.0);

const SPEEDS: [Option<f64>; 6] = [
    Some(1.0),
    Some(10.0),
    Some(100.0),
    Some(250.0),
    Some(1000.0),
    None,
];

fn speed_label(ctx: &ViewCtx<'_>, s: Speed) -> String {
    match s {
        Speed::Max => ctx.t(S::SpeedMax).to_string(),
        Speed::PerSecond(r) => format!("{r} {}", ctx.t(S::StepsPerSec)),
    }
}

/// The live counters, after every button so that their changing values never move one: one
/// monospace label whose fields have fixed widths, so it keeps its width (and the row never
/// reflows) while the numbers change; it moves to a row of its own as a whole when narrow.
fn counters_ui(ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let st = ctx.lab.status;
    let mut text = format!(
        "{} {:<9}  {} {:<7}  {} {:>4}/{:<5} {:>7.0} {}",
        ctx.t(S::StepCount),
        st.step,
        ctx.t(S::Epoch),
        st.epoch,
        ctx.t(S::Iteration),
        st.iteration,
        st.iterations_per_epoch,
        st.steps_per_sec,
        ctx.t(S::StepsPerSec),
    );
    if ctx.lab.is_perceptron() {
        text.push_str(&format!("  {} {:<6}", ctx.t(S::Mistakes), st.mistakes));
    }
    ui.add(egui::Label::new(egui::RichText::new(text).monospace()).extend())
        .on_hover_text(format!("{:.0} {}", ctx.fps, ctx.t(S::Fps)));
}

/// The bar above everything; it has no state of its own.
pub struct TopBar;

impl View for TopBar {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        bar(ui, ctx)
    }
}

fn bar(ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            let running = ctx.lab.status.running;
            let play = if running { S::Pause } else { S::Play };
            let b = egui::Button::new(egui::RichText::new(ctx.t(play)).strong())
                .min_size(egui::vec2(92.0, 26.0));
            if ui.add(b).on_hover_text("Space").clicked() {
                ctx.send(if running {
                    Command::Pause
                } else {
                    Command::Play
                });
            }
            if ui
                .add_enabled(!running, egui::Button::new(ctx.t(S::Step)))
                .clicked()
            {
                ctx.send(Command::Step(1));
            }
            if ui
                .add_enabled(!running, egui::Button::new(ctx.t(S::Steps10)))
                .clicked()
            {
                ctx.send(Command::Step(10));
            }
            if ui.button(ctx.t(S::Reset)).clicked() {
                ctx.send(Command::Reset);
            }
            ui.separator();
            ui.label(ctx.t(S::Speed));
            let current = speed_label(ctx, ctx.lab.speed);
            egui::ComboBox::from_id_salt("speed")
                .selected_text(current)
                .width(110.0)
                .show_ui(ui, |ui| {
                    for r in SPEEDS {
                        let s = r.map_or(Speed::Max, Speed::PerSecond);
                        let label = speed_label(ctx, s);
                        if ui.selectable_label(ctx.lab.speed == s, label).clicked() {
                            ctx.send(Command::SetSpeed(s));
                        }
                    }
                })
                .response
                .accessible_name(ctx.t(S::Speed));
            // Full speed in one click; a second click goes back to the watchable speed.
            let full = ctx.lab.speed == Speed::Max;
            if ui
                .selectable_label(full, ctx.t(S::FullSpeed))
                .on_hover_text(ctx.t(S::FullSpeedHint))
                .clicked()
            {
                ctx.send(Command::SetSpeed(if full {
                    DEFAULT_SPEED
                } else {
                    Speed::Max
                }));
            }
            ui.separator();
            ui.menu_button(ctx.t(S::SessionMenu), |ui| {
                if ui.button(ctx.t(S::New)).clicked() {
                    ctx.send(Command::New);
                }
                if ui.button(ctx.t(S::Open)).clicked() {
                    ctx.send(Command::ShowOpen);
                }
                if ui.button(ctx.t(S::Save)).clicked() {
                    ctx.send(Command::Save);
                }
                if ui.button(ctx.t(S::SaveAs)).clicked() {
                    ctx.send(Command::ShowSaveAs);
                }
                if ui.button(ctx.t(S::ExportModel)).clicked() {
                    ctx.send(Command::ShowModelExport);
                }
                ui.horizontal(|ui| {
                    let label = ui.label(ctx.t(S::CheckpointBudget));
                    let mut mb = ctx.lab.checkpoint_budget as f64 / MB;
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut mb)
                                .range(0.1..=(crate::session::MAX_CHECKPOINT_BUDGET as f64 / MB))
                                .speed(0.1)
                                .max_decimals(1)
                                .suffix(" MB"),
                        )
                        .labelled_by(label.id)
                        .on_hover_text(ctx.t(S::CheckpointBudgetHint));
                    if r.changed() {
                        ctx.send(Command::SetCheckpointBudget((mb * MB).round() as u64));
                    }
                });
                ui.menu_button(ctx.t(S::Recent), |ui| {
                    if ctx.files.recent.is_empty() {
                        ui.label(ctx.t(S::NoRecent));
                    }
                    for p in ctx.files.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            ctx.send(Command::OpenPath(p));
                        }
                    }
                });
            });
            super::workspace::menu(ui, ctx);
            if ui
                .selectable_label(ctx.compare_open, ctx.t(S::Compare))
                .clicked()
            {
                ctx.send(Command::ShowCompare(!ctx.compare_open));
            }
            let name = ctx
                .files
                .path
                .as_ref()
                .map(|p| crate::session::display_name(p))
                .unwrap_or_else(|| ctx.t(S::Untitled).to_string());
            ui.label(egui::RichText::new(name).weak());
            ui.separator();
            let theme_label = if ctx.dark() { S::Light } else { S::Dark };
            if ui
                .button(ctx.t(theme_label))
                .on_hover_text(ctx.t(S::Theme))
                .clicked()
            {
                ctx.send(Command::SetDark(!ctx.dark()));
            }
            ui.label(ctx.t(S::Language));
            for (lang, label) in [(Lang::En, "English"), (Lang::Zh, "中文")] {
                if ui.selectable_label(ctx.lang() == lang, label).clicked() {
                    ctx.send(Command::SetLang(lang));
                }
            }
            ui.separator();
            // Last, so their changing values never move a button; the busy spinner and the
            // notices float over the views (panels::notices), so the bar never grows a row.
            counters_ui(ctx, ui);
        });
        ui.add_space(2.0);
    });
}
