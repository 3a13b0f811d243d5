//! The key of a plot with one series per layer: instead of a legend row per layer over the
//! data, one strip above the plot coloured from the first layer to the output
//! ([`theme::depth_color`]); hovering a segment names its layer.

use eframe::egui::{self, Rect, Sense, pos2, vec2};

use crate::ui::i18n::{Lang, S};
use crate::ui::theme;

/// Plots with more series than this use the depth scale instead of egui_plot's legend.
const LEGEND_MAX: usize = 4;

/// Whether a plot of `n` per-layer series gets the depth scale.
pub fn wanted(n: usize) -> bool {
    n > LEGEND_MAX
}

/// Colour of layer `i` of `n`: the depth scale's when it is shown, else the series palette.
pub fn color(i: usize, n: usize) -> egui::Color32 {
    if wanted(n) {
        theme::depth_color(i, n)
    } else {
        theme::series_color(i)
    }
}

/// Name of layer `i` of `n` (the last is the output layer).
pub(crate) fn layer_name(lang: Lang, i: usize, n: usize) -> String {
    if i + 1 == n {
        lang.t(S::OutputLayer).to_string()
    } else {
        format!("{} {}", lang.t(S::Layer), i + 1)
    }
}

/// "Layer 1 ▭▭▭▭ Output" above the plot, then `note` (e.g. what a dashed line means).
pub fn ui(ui: &mut egui::Ui, lang: Lang, n: usize, note: Option<&str>) {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let small = |t: String| egui::RichText::new(t).small();
        ui.label(small(layer_name(lang, 0, n)));
        let width = (ui.available_width() * 0.4).clamp(40.0, 160.0);
        let (rect, resp) = ui.allocate_exact_size(vec2(width, 9.0), Sense::hover());
        let seg = rect.width() / n as f32;
        for i in 0..n {
            let r = Rect::from_min_max(
                pos2(rect.left() + i as f32 * seg, rect.top()),
                pos2(rect.left() + (i + 1) as f32 * seg, rect.bottom()),
            );
            ui.painter().rect_filled(r, 0.0, theme::depth_color(i, n));
        }
        if let Some(p) = resp.hover_pos() {
            let i = (((p.x - rect.left()) / seg).floor().max(0.0) as usize).min(n - 1);
            resp.on_hover_text_at_pointer(layer_name(lang, i, n));
        }
        ui.label(small(layer_name(lang, n - 1, n)));
        if let Some(note) = note {
            ui.label(small(note.to_string()).weak());
        }
    });
}
