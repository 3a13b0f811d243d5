//! Open and Save-as windows: a native dialog (run on a thread) plus a typed path and the
//! bundled `sessions/*.json`, because the native dialog may be missing (it then returns nothing,
//! exactly like Cancel).

use std::path::PathBuf;

use eframe::egui;

use crate::ui::app::{Action, NnlabApp};
use crate::ui::i18n::S;

pub fn ui(app: &mut NnlabApp, ctx: &egui::Context) {
    let lang = app.lang;
    if app.dialogs.open {
        let mut open = true;
        egui::Window::new(lang.t(S::OpenTitle))
            .id(egui::Id::unique("open_dialog"))
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            .show(ctx, |ui| {
                path_row(ui, app, Action::BrowseOpen, S::Open, Action::OpenPath);
                if !app.dialogs.examples.is_empty() {
                    ui.separator();
                    ui.label(lang.t(S::SessionsFolder));
                    egui::ScrollArea::vertical()
                        .max_height(240.0)
                        .show(ui, |ui| {
                            for p in app.dialogs.examples.clone() {
                                let name = crate::session::display_name(&p);
                                if ui.link(name).clicked() {
                                    app.actions.push(Action::OpenPath(p));
                                }
                            }
                        });
                }
                if let Some(e) = &app.dialogs.error {
                    ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
                }
                if app.busy {
                    ui.label(lang.t(S::Working));
                }
            });
        app.dialogs.open &= open;
    }
    if app.dialogs.save {
        let mut open = true;
        egui::Window::new(lang.t(S::SaveTitle))
            .id(egui::Id::unique("save_dialog"))
            .open(&mut open)
            .collapsible(false)
            .default_width(460.0)
            .show(ctx, |ui| {
                path_row(ui, app, Action::BrowseSave, S::Save, Action::SaveTo);
                if let Some(e) = &app.dialogs.error {
                    ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
                }
            });
        app.dialogs.save &= open;
    }
}

/// Browse…, a typed path, and the confirm button (Enter confirms too).
fn path_row(
    ui: &mut egui::Ui,
    app: &mut NnlabApp,
    browse: Action,
    confirm: S,
    done: fn(PathBuf) -> Action,
) {
    let lang = app.lang;
    ui.horizontal(|ui| {
        if ui.button(lang.t(S::Browse)).clicked() {
            app.actions.push(browse);
        }
        ui.label(lang.t(S::Path));
        let r = ui.add(
            egui::TextEdit::singleline(&mut app.dialogs.path)
                .hint_text(lang.t(S::PathHint))
                .desired_width(240.0),
        );
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = app.dialogs.path.trim();
        if (ui.button(lang.t(confirm)).clicked() || enter) && !path.is_empty() {
            app.actions.push(done(path.into()));
        }
    });
}
