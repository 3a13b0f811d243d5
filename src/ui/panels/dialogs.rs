//! Open and Save-as windows: a native dialog (run on a thread) plus a typed path and the
//! bundled `sessions/*.json`, because the native dialog may be missing (it then returns nothing,
//! exactly like Cancel). Also the session windows: restore after a crash, and the confirmation
//! when closing with unsaved work.

use std::path::PathBuf;

use eframe::egui;

use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx};

/// The Open and Save-as windows. Whether they show, their typed path and error are the
/// files' state (a save or an open closes them), read here and changed by commands.
pub struct FileDialogs;

impl View for FileDialogs {
    fn ui(&mut self, ui: &mut egui::Ui, view: &ViewCtx<'_>) {
        let ctx = &ui.ctx().clone();
        let lang = view.lang();
        let d = view.files.dialogs();
        if d.open {
            let mut open = true;
            egui::Window::new(lang.t(S::OpenTitle))
                .id(egui::Id::unique("open_dialog"))
                .open(&mut open)
                .collapsible(false)
                .default_width(460.0)
                .show(ctx, |ui| {
                    path_row(ui, view, Command::BrowseOpen, S::Open, Command::OpenPath);
                    session_list(ui, view);
                    if !d.examples.is_empty() {
                        ui.separator();
                        ui.label(lang.t(S::SessionsFolder));
                        egui::ScrollArea::vertical()
                            .max_height(240.0)
                            .show(ui, |ui| {
                                for p in &d.examples {
                                    let name = crate::session::display_name(p);
                                    if ui.link(name).clicked() {
                                        view.send(Command::OpenPath(p.clone()));
                                    }
                                }
                            });
                    }
                    if let Some(e) = &d.error {
                        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
                    }
                    if view.files.busy() {
                        ui.label(lang.t(S::Working));
                    }
                });
            if !open {
                view.send(Command::CloseOpenWindow);
            }
        }
        if d.save {
            let mut open = true;
            egui::Window::new(lang.t(S::SaveTitle))
                .id(egui::Id::unique("save_dialog"))
                .open(&mut open)
                .collapsible(false)
                .default_width(460.0)
                .show(ctx, |ui| {
                    path_row(ui, view, Command::BrowseSave, S::Save, Command::SaveTo);
                    if let Some(e) = &d.error {
                        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
                    }
                });
            if !open {
                view.send(Command::CloseSaveWindow);
            }
        }
    }
}

/// Browse…, a typed path, and the confirm button (Enter confirms too).
fn path_row(
    ui: &mut egui::Ui,
    view: &ViewCtx<'_>,
    browse: Command,
    confirm: S,
    done: fn(PathBuf) -> Command,
) {
    let lang = view.lang();
    ui.horizontal(|ui| {
        if ui.button(lang.t(S::Browse)).clicked() {
            view.send(browse);
        }
        ui.label(lang.t(S::Path));
        // The typed path is the files' (a save without one proposes a name): edited here as
        // a copy that goes back as a command.
        let mut typed = view.files.dialogs().path.clone();
        let r = ui.add(
            egui::TextEdit::singleline(&mut typed)
                .hint_text(lang.t(S::PathHint))
                .desired_width(240.0),
        );
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = typed.trim();
        if (ui.button(lang.t(confirm)).clicked() || enter) && !path.is_empty() {
            view.send(done(path.into()));
        }
        if r.changed() {
            view.send(Command::SetDialogPath(typed));
        }
    });
}

/// Recent files (most recent first) that still exist, as links.
fn session_list(ui: &mut egui::Ui, view: &ViewCtx<'_>) {
    let lang = view.lang();
    let recent: Vec<PathBuf> = view
        .files
        .recent()
        .iter()
        .filter(|p| p.exists())
        .cloned()
        .collect();
    if recent.is_empty() {
        return;
    }
    ui.separator();
    ui.label(lang.t(S::RecentFiles));
    egui::ScrollArea::vertical()
        .id_salt("recent_list")
        .max_height(140.0)
        .show(ui, |ui| {
            for p in recent {
                let name = crate::session::display_name(&p);
                if ui
                    .link(name)
                    .on_hover_text(p.display().to_string())
                    .clicked()
                {
                    view.send(Command::OpenPath(p));
                }
            }
        });
}

/// A small modal-looking window in the middle of the screen.
fn centered(title: &str, id: &'static str) -> egui::Window<'static> {
    egui::Window::new(title.to_string())
        .id(egui::Id::unique(id))
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .default_width(420.0)
}

/// Restore after a crash, and the close confirmation.
pub struct SessionDialogs;

impl View for SessionDialogs {
    fn ui(&mut self, ui: &mut egui::Ui, view: &ViewCtx<'_>) {
        let ctx = &ui.ctx().clone();
        let lang = view.lang();
        if let Some((_, l)) = view.files.recovery().first() {
            let s = &l.session;
            let name = if s.name.is_empty() {
                lang.t(S::Untitled)
            } else {
                &s.name
            };
            let what = format!(
                "{name} — {} · {} {} · {} {}",
                arch_summary(s),
                lang.t(S::StepCount),
                s.last_step(),
                lang.t(S::Params),
                s.params.as_ref().map_or(0, Vec::len),
            );
            let mut act = None;
            centered(lang.t(S::RecoveryTitle), "recovery_dialog").show(ctx, |ui| {
                ui.label(lang.t(S::RecoveryBody));
                ui.label(egui::RichText::new(what).strong());
                ui.horizontal(|ui| {
                    if ui.button(lang.t(S::Restore)).clicked() {
                        act = Some(Command::Recover(true));
                    }
                    if ui.button(lang.t(S::Discard)).clicked() {
                        act = Some(Command::Recover(false));
                    }
                });
            });
            view.send_all(act);
        }
        if view.files.close_asked() {
            let mut act = None;
            centered(lang.t(S::UnsavedTitle), "close_dialog").show(ctx, |ui| {
                ui.label(lang.t(S::UnsavedBody));
                ui.horizontal(|ui| {
                    if ui.button(lang.t(S::Save)).clicked() {
                        act = Some(Command::CloseSave);
                    }
                    if ui.button(lang.t(S::DiscardClose)).clicked() {
                        act = Some(Command::CloseDiscard);
                    }
                    if ui.button(lang.t(S::Cancel)).clicked() {
                        act = Some(Command::CloseCancel);
                    }
                });
            });
            view.send_all(act);
        }
    }
}

/// "2-8-8-1 tanh": the widths and the first hidden activation.
fn arch_summary(s: &crate::session::Session) -> String {
    let mut w = vec![s.network.inputs.to_string()];
    w.extend(s.network.layers.iter().map(|l| l.units.to_string()));
    let act = s.network.layers.first().map_or("", |l| l.activation.name());
    format!("{} {act}", w.join("-"))
}
