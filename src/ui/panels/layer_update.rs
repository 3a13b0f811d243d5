//! The update panel under the network diagram (THEORY row 32): pick a layer (or click its
//! column header) and see the ΔW of the worker's last step as a heatmap next to
//! −η (1/m) Σ δ aᵀ from that step's batch, on one colour scale symmetric about 0 with its bar,
//! with the largest difference and both numerical ranks; where the step is not a sum of outer
//! products, ΔW and its rank and the reason. Hover a cell for its entries. Computed on the
//! panel's thread (`ui::layer_update`).

use eframe::egui::{self, Color32, ColorImage, Rect, Sense, Stroke, TextureOptions, pos2, vec2};

use crate::net::Network;
use crate::ui::i18n::{Lang, S};
use crate::ui::layer_update::{Comparison, LayerUpdate};
use crate::ui::theme;

use super::curvature::num;

/// Height of the folded panel (its picker alone).
const FOLDED: f32 = 26.0;
/// Width of the colour bar and room for its labels.
const BAR: f32 = 12.0;
const BAR_LABELS: f32 = 64.0;
/// Largest matrix side drawn as a texture.
const MAX_SIDE: usize = 2048;

/// Take the bottom of the Network tile for the panel (0.45 of the tile when a layer is
/// selected, one line otherwise); `ui` keeps the rest for the diagram.
pub fn split(ui: &mut egui::Ui, open: bool) -> egui::Ui {
    let rect = ui.max_rect();
    let h = if open {
        (rect.height() * 0.45).max(FOLDED.min(rect.height()))
    } else {
        FOLDED
    };
    let bottom = Rect::from_min_max(pos2(rect.left(), rect.bottom() - h), rect.max);
    ui.set_max_height((rect.height() - h - 4.0).max(0.0));
    ui.new_child(
        egui::UiBuilder::new()
            .max_rect(bottom)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    )
}

fn layer_name(lang: Lang, net: &Network, l: usize) -> String {
    if l + 1 == net.layers.len() {
        lang.t(S::OutputLayer).to_string()
    } else {
        format!("{} {}", lang.t(S::Layer), l + 1)
    }
}

fn rank_text(r: Option<usize>) -> String {
    r.map_or_else(|| "—".to_string(), |r| r.to_string())
}

/// The panel under the Network tile's diagram: the layer picker, and for the chosen layer the
/// two heatmaps (ΔW and the prediction) with their difference and ranks, or why the step is
/// no outer product.
pub fn ui(
    view: &mut LayerUpdate,
    ui: &mut egui::Ui,
    lang: Lang,
    dark: bool,
    net: Option<&Network>,
) {
    view.drawn_at = Some(std::time::Instant::now());
    let Some(net) = net else {
        return;
    };
    let mut layer = view.layer.filter(|l| *l < net.layers.len());
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(lang.t(S::LuTitle)).strong())
            .on_hover_text(lang.t(S::LuHint));
        let shown = layer.map_or_else(|| "—".to_string(), |l| layer_name(lang, net, l));
        egui::ComboBox::from_id_salt("layer_update_pick")
            .selected_text(shown)
            .width(110.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut layer, None, "—");
                for l in 0..net.layers.len() {
                    ui.selectable_value(&mut layer, Some(l), layer_name(lang, net, l));
                }
            })
            .response
            .accessible_name(lang.t(S::LuPicker));
        if view.computing {
            ui.spinner();
        }
        if layer.is_none() {
            ui.add(
                egui::Label::new(egui::RichText::new(lang.t(S::LuHintShort)).weak().small())
                    .truncate(),
            )
            .on_hover_text(lang.t(S::LuHint));
        }
    });
    view.select(layer);
    let Some(layer) = layer else {
        return;
    };
    if let Some(e) = &view.error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(theme::NEG)).wrap());
        return;
    }
    if view.last.is_none() && view.answered.is_some() {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::LuNoStep)).weak()).wrap());
        return;
    }
    let Some(c) = view.comparison.clone().filter(|c| c.layer == layer) else {
        ui.add(egui::Label::new(egui::RichText::new(lang.t(S::LuWaiting)).weak()).wrap());
        return;
    };
    ui.label(
        egui::RichText::new(format!(
            "{} · {} {} · {} {} · η {} · {} × {} · {:.1} ms",
            layer_name(lang, net, layer),
            lang.t(S::StepCount),
            c.step,
            lang.t(S::LuBatch),
            c.batch,
            num(c.lr),
            c.rows,
            c.cols,
            c.seconds * 1e3
        ))
        .small(),
    );
    match &c.predicted {
        Ok(_) => {
            ui.label(
                egui::RichText::new(format!(
                    "max |ΔW − {}| = {:.2e} ({} {:.2e}) · {} ΔW = {} · {} = {}",
                    lang.t(S::LuPrediction),
                    c.max_diff,
                    lang.t(S::LuRelative),
                    c.rel_diff,
                    lang.t(S::LuRank),
                    rank_text(c.rank_delta),
                    lang.t(S::LuRankPredicted),
                    rank_text(c.rank_predicted),
                ))
                .strong(),
            );
        }
        Err(why) => {
            ui.label(
                egui::RichText::new(format!(
                    "{} ΔW = {}",
                    lang.t(S::LuRank),
                    rank_text(c.rank_delta)
                ))
                .strong(),
            );
            ui.add(egui::Label::new(format!("{} {}", lang.t(why.reason), why.detail)).wrap());
        }
    }
    if c.rank_delta.is_none() {
        ui.label(
            egui::RichText::new(lang.t(S::LuTooLargeForRank))
                .weak()
                .small(),
        );
    }
    heatmaps_ui(view, ui, &c, lang, dark);
}

/// The matrix as an image: one pixel per entry, colour v / scale on the diverging scale.
fn image(m: &[f64], rows: usize, cols: usize, scale: f64, dark: bool) -> ColorImage {
    let s = if scale > 0.0 { scale } else { 1.0 };
    let pixels = m
        .iter()
        .map(|v| theme::diverging((v / s) as f32, dark))
        .collect();
    ColorImage {
        size: [cols, rows],
        pixels,
        source_size: vec2(cols as f32, rows as f32),
    }
}

fn heatmaps_ui(view: &mut LayerUpdate, ui: &mut egui::Ui, c: &Comparison, lang: Lang, dark: bool) {
    if c.rows > MAX_SIDE || c.cols > MAX_SIDE {
        ui.label(egui::RichText::new(lang.t(S::LuTooLargeToDraw)).weak());
        return;
    }
    let key = (c.step, c.layer, dark);
    if view.textures_of != Some(key) || view.textures.is_none() {
        let predicted = c.predicted.as_ref().ok();
        let a = image(&c.delta, c.rows, c.cols, c.scale, dark);
        let b = image(predicted.unwrap_or(&c.delta), c.rows, c.cols, c.scale, dark);
        match &mut view.textures {
            Some([ta, tb]) => {
                ta.set(a, TextureOptions::NEAREST);
                tb.set(b, TextureOptions::NEAREST);
            }
            None => {
                let ctx = ui.ctx();
                view.textures = Some([
                    ctx.load_texture("layer_update_delta", a, TextureOptions::NEAREST),
                    ctx.load_texture("layer_update_predicted", b, TextureOptions::NEAREST),
                ]);
            }
        }
        view.textures_of = Some(key);
    }
    let Some([ta, tb]) = &view.textures else {
        return;
    };
    let area = ui.available_rect_before_wrap();
    let resp = ui.allocate_rect(area, Sense::hover());
    let two = c.predicted.is_ok();
    let title_h = 16.0;
    let gap = 12.0;
    let maps_w = area.width() - BAR - BAR_LABELS - gap;
    let each_w = if two { (maps_w - gap) / 2.0 } else { maps_w };
    // Room under the maps for the colour bar's bottom label.
    let each_h = area.height() - title_h - 8.0;
    if each_w < 8.0 || each_h < 8.0 {
        return;
    }
    // Square cells, as large as both maps allow.
    let cell = (each_w / c.cols as f32).min(each_h / c.rows as f32);
    let size = vec2(cell * c.cols as f32, cell * c.rows as f32);
    let painter = ui.painter_at(area);
    let text = ui.visuals().text_color();
    let font = egui::FontId::proportional(11.0);
    let mut maps = vec![(ta.id(), format!("ΔW ({} {})", lang.t(S::StepCount), c.step))];
    if two {
        maps.push((tb.id(), "−η (1/m) Σ δ a^T".to_string()));
    }
    let mut left = area.left();
    let mut hovered = None;
    for (k, (tex, title)) in maps.iter().enumerate() {
        let top = area.top() + title_h;
        let r = Rect::from_min_size(pos2(left, top), size);
        painter.text(
            pos2(left, area.top()),
            egui::Align2::LEFT_TOP,
            title,
            font.clone(),
            text,
        );
        painter.image(
            *tex,
            r,
            Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(1.0, text.gamma_multiply(0.4)),
            egui::StrokeKind::Outside,
        );
        if let Some(p) = ui.ctx().pointer_hover_pos().filter(|p| r.contains(*p)) {
            let j = (((p.y - r.top()) / cell) as usize).min(c.rows - 1);
            let i = (((p.x - r.left()) / cell) as usize).min(c.cols - 1);
            hovered = Some((k, j, i));
            let cell_rect = Rect::from_min_size(
                pos2(r.left() + i as f32 * cell, r.top() + j as f32 * cell),
                vec2(cell, cell),
            );
            painter.rect_stroke(
                cell_rect,
                0.0,
                Stroke::new(1.5, text),
                egui::StrokeKind::Outside,
            );
        }
        left += size.x + gap;
    }
    colour_bar(
        &painter,
        Rect::from_min_size(
            pos2(left, area.top() + title_h),
            vec2(BAR, size.y.max(40.0)),
        ),
        c.scale,
        dark,
        text,
    );
    if let Some((_, j, i)) = hovered {
        let at = j * c.cols + i;
        let mut tip = format!(
            "W[{}, {}] ({} {} ← {} {})\nΔW = {:.6e}",
            j + 1,
            i + 1,
            lang.t(S::LuUnit),
            j + 1,
            lang.t(S::LuInput),
            i + 1,
            c.delta[at]
        );
        if let Ok(p) = &c.predicted {
            tip.push_str(&format!(
                "\n{} = {:.6e}\n|ΔW − {}| = {:.2e}",
                lang.t(S::LuPrediction),
                p[at],
                lang.t(S::LuPrediction),
                (c.delta[at] - p[at]).abs()
            ));
        }
        resp.on_hover_text_at_pointer(tip);
    }
}

/// A vertical bar from −scale (bottom, orange) through 0 to +scale (top, blue), labelled.
fn colour_bar(painter: &egui::Painter, r: Rect, scale: f64, dark: bool, text: Color32) {
    let steps = 48;
    let h = r.height() / steps as f32;
    for k in 0..steps {
        // k = 0 at the top: +1.
        let v = 1.0 - 2.0 * (k as f32 + 0.5) / steps as f32;
        let band = Rect::from_min_size(
            pos2(r.left(), r.top() + k as f32 * h),
            vec2(r.width(), h + 0.5),
        );
        painter.rect_filled(band, 0.0, theme::diverging(v, dark));
    }
    painter.rect_stroke(
        r,
        0.0,
        Stroke::new(1.0, text.gamma_multiply(0.4)),
        egui::StrokeKind::Outside,
    );
    let font = egui::FontId::proportional(10.0);
    for (y, label) in [
        (r.top(), format!("+{}", num(scale))),
        (r.center().y, "0".to_string()),
        (r.bottom(), format!("−{}", num(scale))),
    ] {
        painter.text(
            pos2(r.right() + 4.0, y),
            egui::Align2::LEFT_CENTER,
            label,
            font.clone(),
            text,
        );
    }
}
