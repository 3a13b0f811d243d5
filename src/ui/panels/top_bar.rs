//! The top bar: Play/Pause, Step, Reset, speed, counters, session menu, theme, language.

use eframe::egui;

use crate::runtime::worker::Speed;
use crate::ui::app::NnlabApp;
use crate::ui::command::Command;
use crate::ui::i18n::{Lang, S};

/// Bytes per megabyte of the checkpoint budget field.
const MB: f64 = 1024.0 * 1024.0;

/// The speed the app starts at: a person can watch the default session learn. Measured with
/// `nnlab run` on it (spiral, 2-8-8-1 tanh, Adam 0.01, batch 16): train accuracy passes 80 %
/// at step 3650 and 90 % at step 4250, so at 250 steps/s the boundary forms between about 15
/// and 17 s, and the loss flattens by 20 s (step 5000). Full speed is one click away.
pub const DEFAULT_SPEED: Speed = Speed::PerSecond(250.0);

const SPEEDS: [Option<f64>; 6] = [
    Some(1.0),
    Some(10.0),
    Some(100.0),
    Some(250.0),
    Some(1000.0),
    None,
];

fn speed_label(app: &NnlabApp, s: Speed) -> String {
    match s {
        Speed::Max => app.t(S::SpeedMax).to_string(),
        Speed::PerSecond(r) => format!("{r} {}", app.t(S::StepsPerSec)),
    }
}

/// The live counters, after every button so that their changing values never move one: one
/// monospace label whose fields have fixed widths, so it keeps its width (and the row never
/// reflows) while the numbers change; it moves to a row of its own as a whole when narrow.
fn counters_ui(app: &NnlabApp, ui: &mut egui::Ui) {
    let st = app.lab.status;
    let mut text = format!(
        "{} {:<9}  {} {:<7}  {} {:>4}/{:<5} {:>7.0} {}",
        app.t(S::StepCount),
        st.step,
        app.t(S::Epoch),
        st.epoch,
        app.t(S::Iteration),
        st.iteration,
        st.iterations_per_epoch,
        st.steps_per_sec,
        app.t(S::StepsPerSec),
    );
    if app.is_perceptron() {
        text.push_str(&format!("  {} {:<6}", app.t(S::Mistakes), st.mistakes));
    }
    ui.add(egui::Label::new(egui::RichText::new(text).monospace()).extend())
        .on_hover_text(format!("{:.0} {}", app.clock.fps(), app.t(S::Fps)));
}

pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            let running = app.lab.status.running;
            let play = if running { S::Pause } else { S::Play };
            let b = egui::Button::new(egui::RichText::new(app.t(play)).strong())
                .min_size(egui::vec2(92.0, 26.0));
            if ui.add(b).on_hover_text("Space").clicked() {
                app.commands.send(if running {
                    Command::Pause
                } else {
                    Command::Play
                });
            }
            if ui
                .add_enabled(!running, egui::Button::new(app.t(S::Step)))
                .clicked()
            {
                app.commands.send(Command::Step(1));
            }
            if ui
                .add_enabled(!running, egui::Button::new(app.t(S::Steps10)))
                .clicked()
            {
                app.commands.send(Command::Step(10));
            }
            if ui.button(app.t(S::Reset)).clicked() {
                app.commands.send(Command::Reset);
            }
            ui.separator();
            ui.label(app.t(S::Speed));
            let current = speed_label(app, app.lab.speed);
            egui::ComboBox::from_id_salt("speed")
                .selected_text(current)
                .width(110.0)
                .show_ui(ui, |ui| {
                    for r in SPEEDS {
                        let s = r.map_or(Speed::Max, Speed::PerSecond);
                        let label = speed_label(app, s);
                        if ui.selectable_label(app.lab.speed == s, label).clicked() {
                            app.commands.send(Command::SetSpeed(s));
                        }
                    }
                })
                .response
                .accessible_name(app.t(S::Speed));
            // Full speed in one click; a second click goes back to the watchable speed.
            let full = app.lab.speed == Speed::Max;
            if ui
                .selectable_label(full, app.t(S::FullSpeed))
                .on_hover_text(app.t(S::FullSpeedHint))
                .clicked()
            {
                app.commands.send(Command::SetSpeed(if full {
                    DEFAULT_SPEED
                } else {
                    Speed::Max
                }));
            }
            ui.separator();
            ui.menu_button(app.t(S::SessionMenu), |ui| {
                if ui.button(app.t(S::New)).clicked() {
                    app.commands.send(Command::New);
                }
                if ui.button(app.t(S::Open)).clicked() {
                    app.commands.send(Command::ShowOpen);
                }
                if ui.button(app.t(S::Save)).clicked() {
                    app.commands.send(Command::Save);
                }
                if ui.button(app.t(S::SaveAs)).clicked() {
                    app.commands.send(Command::ShowSaveAs);
                }
                if ui.button(app.t(S::ExportModel)).clicked() {
                    app.views.model_export.show();
                }
                ui.horizontal(|ui| {
                    let label = ui.label(app.t(S::CheckpointBudget));
                    let mut mb = app.lab.checkpoint_budget as f64 / MB;
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut mb)
                                .range(0.1..=(crate::session::MAX_CHECKPOINT_BUDGET as f64 / MB))
                                .speed(0.1)
                                .max_decimals(1)
                                .suffix(" MB"),
                        )
                        .labelled_by(label.id)
                        .on_hover_text(app.t(S::CheckpointBudgetHint));
                    if r.changed() {
                        app.commands
                            .send(Command::SetCheckpointBudget((mb * MB).round() as u64));
                    }
                });
                ui.menu_button(app.t(S::Recent), |ui| {
                    if app.files.recent.is_empty() {
                        ui.label(app.t(S::NoRecent));
                    }
                    for p in app.files.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            app.commands.send(Command::OpenPath(p));
                        }
                    }
                });
            });
            super::workspace::menu(app, ui);
            if ui
                .selectable_label(app.views.compare.open, app.t(S::Compare))
                .clicked()
            {
                app.views.compare.open = !app.views.compare.open;
            }
            let name = app
                .files
                .path
                .as_ref()
                .map(|p| crate::session::display_name(p))
                .unwrap_or_else(|| app.t(S::Untitled).to_string());
            ui.label(egui::RichText::new(name).weak());
            ui.separator();
            let theme_label = if app.settings.dark { S::Light } else { S::Dark };
            if ui
                .button(app.t(theme_label))
                .on_hover_text(app.t(S::Theme))
                .clicked()
            {
                app.commands.send(Command::SetDark(!app.settings.dark));
            }
            ui.label(app.t(S::Language));
            for (lang, label) in [(Lang::En, "English"), (Lang::Zh, "中文")] {
                if ui
                    .selectable_label(app.settings.lang == lang, label)
                    .clicked()
                {
                    app.commands.send(Command::SetLang(lang));
                }
            }
            ui.separator();
            // Last, so their changing values never move a button; the busy spinner and the
            // notices float over the views (panels::notices), so the bar never grows a row.
            counters_ui(app, ui);
        });
        ui.add_space(2.0);
    });
}
