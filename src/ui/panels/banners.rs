//! Divergence, crash and error messages above the views, with what to do next.

use eframe::egui;

use crate::ui::app::{Action, NnlabApp};
use crate::ui::i18n::S;

fn banner(ui: &mut egui::Ui, color: egui::Color32, add: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::new()
        .fill(color.gamma_multiply(0.25))
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(4.0)
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(add);
        });
}

pub fn ui(app: &mut NnlabApp, ui: &mut egui::Ui) {
    let red = egui::Color32::from_rgb(220, 60, 60);
    if let Some((step, loss)) = app.diverged {
        let title = app.t(S::Diverged);
        let body = app.t(S::DivergedBody);
        let (reset, lower) = (app.t(S::Reset), app.t(S::LowerLr));
        let mut act = None;
        banner(ui, red, |ui| {
            ui.label(egui::RichText::new(format!("⚠ {title}")).strong());
            ui.label(format!("(step {step}, loss {loss}): {body}"));
            if ui.button(reset).clicked() {
                act = Some(Action::Reset);
            }
            if ui.button(lower).clicked() {
                act = Some(Action::LowerLr);
            }
        });
        app.actions.extend(act);
    }
    if let Some(msg) = app.panicked.clone() {
        let (title, body, reset) = (app.t(S::Crashed), app.t(S::CrashedBody), app.t(S::Reset));
        let mut act = None;
        banner(ui, red, |ui| {
            ui.label(egui::RichText::new(format!("⚠ {title}")).strong());
            ui.label(format!("{msg}. {body}"));
            if ui.button(reset).clicked() {
                act = Some(Action::Reset);
            }
        });
        app.actions.extend(act);
    }
    if let Some(msg) = app.error.clone() {
        let (title, dismiss) = (app.t(S::Error), app.t(S::Dismiss));
        let mut close = false;
        banner(ui, egui::Color32::from_rgb(230, 150, 40), |ui| {
            ui.label(egui::RichText::new(title).strong());
            ui.label(msg);
            if ui.button(dismiss).clicked() {
                close = true;
            }
        });
        if close {
            app.error = None;
        }
    }
    // "Network rebuilt" and the other passing notices float over the views (they would move
    // every tile down and up again here).
    super::notices::ui(app, ui.ctx());
}
