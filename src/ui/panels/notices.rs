//! Passing notices — the network was rebuilt, a file was opened, saved or exported, a helper
//! thread is busy — in a corner over the views. They come and go without taking room in a
//! layout, so no widget moves when one appears or expires (a click aimed at a button while a
//! notice times out still lands on it), and clicks go through them.

use std::time::Duration;

use eframe::egui;

use crate::ui::app::NnlabApp;
use crate::ui::i18n::S;

/// How long the rebuilt notice and the other notices stay.
const REBUILT_FOR: Duration = Duration::from_millis(2500);
const NOTICE_FOR: Duration = Duration::from_secs(4);

pub fn ui(app: &NnlabApp, ctx: &egui::Context) {
    let mut lines = Vec::new();
    if let Some(at) = app.rebuilt_at
        && at.elapsed() < REBUILT_FOR
    {
        lines.push(format!(
            "{} — {} {}",
            app.t(S::Rebuilt),
            app.t(S::Params),
            app.n_params
        ));
    }
    if let Some((text, at)) = &app.notice
        && at.elapsed() < NOTICE_FOR
    {
        lines.push(text.clone());
    }
    if lines.is_empty() && !app.busy {
        return;
    }
    egui::Area::new(egui::Id::unique("notices"))
        .order(egui::Order::Foreground)
        .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -12.0))
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.set_max_width(420.0);
                for l in lines {
                    ui.add(egui::Label::new(l).wrap());
                }
                if app.busy {
                    ui.spinner();
                }
            });
        });
    // Wake up to take the notice away when it expires.
    ctx.request_repaint_after(Duration::from_millis(250));
}
