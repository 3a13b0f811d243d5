//! Divergence, crash and error messages above the views, with what to do next.

use eframe::egui;

use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx};

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

/// The banners hold no state of their own: they show the lab's errors and send what to do.
pub struct Banners;

impl View for Banners {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        let red = egui::Color32::from_rgb(220, 60, 60);
        if let Some((step, loss)) = ctx.lab.diverged() {
            let title = ctx.t(S::Diverged);
            let body = ctx.t(S::DivergedBody);
            let (reset, lower) = (ctx.t(S::Reset), ctx.t(S::LowerLr));
            let mut act = None;
            banner(ui, red, |ui| {
                ui.label(egui::RichText::new(format!("⚠ {title}")).strong());
                ui.label(format!("(step {step}, loss {loss}): {body}"));
                if ui.button(reset).clicked() {
                    act = Some(Command::Reset);
                }
                if ui.button(lower).clicked() {
                    act = Some(Command::LowerLr);
                }
            });
            ctx.send_all(act);
        }
        if let Some(msg) = ctx.lab.panicked() {
            let (title, body, reset) = (ctx.t(S::Crashed), ctx.t(S::CrashedBody), ctx.t(S::Reset));
            let mut act = None;
            banner(ui, red, |ui| {
                ui.label(egui::RichText::new(format!("⚠ {title}")).strong());
                ui.label(format!("{msg}. {body}"));
                if ui.button(reset).clicked() {
                    act = Some(Command::Reset);
                }
            });
            ctx.send_all(act);
        }
        if let Some(msg) = ctx.lab.error() {
            let (title, dismiss) = (ctx.t(S::Error), ctx.t(S::Dismiss));
            let mut close = false;
            banner(ui, egui::Color32::from_rgb(230, 150, 40), |ui| {
                ui.label(egui::RichText::new(title).strong());
                ui.label(msg);
                if ui.button(dismiss).clicked() {
                    close = true;
                }
            });
            if close {
                ctx.send(Command::DismissError);
            }
        }
        // "Network rebuilt" and the other passing notices float over the views (they would move
        // every tile down and up again here).
        super::notices::Notices.ui(ui, ctx);
    }
}
