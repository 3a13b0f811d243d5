//! Passing notices — the network was rebuilt, a file was opened, saved or exported, a helper
//! thread is busy — in a corner over the views. They come and go without taking room in a
//! layout, so no widget moves when one appears or expires (a click aimed at a button while a
//! notice times out still lands on it), and clicks go through them.

use std::time::Duration;

use eframe::egui;

use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx};

/// How long the rebuilt notice and the other notices stay.
const REBUILT_FOR: Duration = Duration::from_millis(2500);
const NOTICE_FOR: Duration = Duration::from_secs(4);

/// The notices hold no state of their own: each carries the time it was given.
pub struct Notices;

impl View for Notices {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        let egui_ctx = ui.ctx().clone();
        let mut lines = Vec::new();
        if let Some(at) = ctx.lab.rebuilt_at()
            && at.elapsed() < REBUILT_FOR
        {
            lines.push(format!(
                "{} — {} {}",
                ctx.t(S::Rebuilt),
                ctx.t(S::Params),
                ctx.lab.n_params()
            ));
        }
        if let Some((text, at)) = ctx.lab.notice()
            && at.elapsed() < NOTICE_FOR
        {
            lines.push(text.clone());
        }
        if lines.is_empty() && !ctx.files.busy() {
            return;
        }
        egui::Area::new(egui::Id::unique("notices"))
            .order(egui::Order::Foreground)
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -12.0))
            .interactable(false)
            .show(&egui_ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(420.0);
                    for l in lines {
                        ui.add(egui::Label::new(l).wrap());
                    }
                    if ctx.files.busy() {
                        ui.spinner();
                    }
                });
            });
        // Wake up to take the notice away when it expires.
        egui_ctx.request_repaint_after(Duration::from_millis(250));
    }
}
