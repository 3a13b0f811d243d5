//! Export a tile: its data as CSV (numbers written in Rust's shortest exact form, so they parse
//! back to the same f64) and its picture as PNG (a screenshot of the window cropped to the
//! tile). Files are chosen with the native dialog or a typed path and written on a helper
//! thread.

use crate::runtime::JobThread;
use crate::runtime::job::JobSender;
use crate::runtime::job::Task;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;

use crate::runtime::worker::OutputMap;
use crate::ui::app::Job;
use crate::ui::command::Command;
use crate::ui::history::Series;
use crate::ui::i18n::S;
use crate::ui::lab::Lab;
use crate::ui::panels::plots::Tile;
use crate::ui::view::{ViewCtx, Views};

/// The Export window's state, and a PNG waiting for a frame without the window on it.
#[derive(Default)]
pub struct Export {
    /// The tile whose Export window is open.
    pub tile: Option<Tile>,
    /// The file to write, as typed or chosen with Browse…
    pub path: String,
    /// Why the last export could not start or failed, shown in the window.
    pub error: Option<String>,
    /// (tile, file, frames still to wait): the window closes first so it is not in the picture.
    pub pending_png: Option<(Tile, PathBuf, u8)>,
    /// Where each tile was drawn in the last frame (points).
    pub rects: Vec<(Tile, egui::Rect)>,
}

/// Columns `step, name…` over the union of the series' steps; a blank where a series has no
/// value at that step.
fn columns_csv(names: &[String], series: &[&Series]) -> String {
    let mut rows: BTreeMap<u64, Vec<Option<f64>>> = BTreeMap::new();
    for (k, s) in series.iter().enumerate() {
        for p in s.points(false) {
            let row = rows
                .entry(p.x as u64)
                .or_insert_with(|| vec![None; series.len()]);
            row[k] = Some(p.y);
        }
    }
    let mut out = String::from("step");
    for n in names {
        out.push(',');
        out.push_str(n);
    }
    out.push('\n');
    for (step, row) in rows {
        out.push_str(&step.to_string());
        for v in row {
            out.push(',');
            if let Some(v) = v {
                out.push_str(&format!("{v:?}"));
            }
        }
        out.push('\n');
    }
    out
}

fn layer_columns(prefix: &str, series: &[Series]) -> Vec<String> {
    (0..series.len())
        .map(|i| format!("{prefix}_layer{}", i + 1))
        .collect()
}

/// The data behind a tile as CSV (None: the tile has no data yet).
/// A tile's data as CSV, read from the lab and the views (None: it has none yet).
pub(crate) fn tile_csv(views: &Views, lab: &Lab, tile: Tile) -> Option<String> {
    let h = &lab.history;
    match tile {
        Tile::Loss => Some(columns_csv(
            &["batch_loss".into(), "train_loss".into(), "test_loss".into()],
            &[&h.batch_loss, &h.train_loss, &h.test_loss],
        )),
        Tile::Accuracy if lab.train.classes == 0 => Some(columns_csv(
            &["train_r2".into(), "test_r2".into()],
            &[&h.train_r2, &h.test_r2],
        )),
        Tile::Accuracy => Some(columns_csv(
            &["train_accuracy".into(), "test_accuracy".into()],
            &[&h.train_acc, &h.test_acc],
        )),
        Tile::Gradient => Some(columns_csv(
            &layer_columns("grad_norm", &h.grad),
            &h.grad.iter().collect::<Vec<_>>(),
        )),
        Tile::Update => Some(columns_csv(
            &layer_columns("update_ratio", &h.update),
            &h.update.iter().collect::<Vec<_>>(),
        )),
        Tile::Saturation => {
            let mut names = layer_columns("saturated", &h.saturated);
            names.extend(layer_columns("dead", &h.dead));
            let series: Vec<&Series> = h.saturated.iter().chain(&h.dead).collect();
            Some(columns_csv(&names, &series))
        }
        Tile::Curvature => {
            let c = &views.curvature;
            Some(columns_csv(
                &[
                    "lambda_max".into(),
                    "lambda_min".into(),
                    "two_over_lr".into(),
                    "kappa".into(),
                    "negative_count".into(),
                ],
                &[
                    &c.lambda_max,
                    &c.lambda_min,
                    &c.edge,
                    &c.kappa,
                    &c.negatives,
                ],
            ))
        }
        Tile::Histogram => {
            let s = lab.snapshot.as_ref()?;
            let mut out = String::from("layer,bin_lo,bin_hi,count\n");
            for (i, hg) in s.histograms.iter().enumerate() {
                let bw = (hg.hi - hg.lo) / hg.counts.len().max(1) as f64;
                for (k, c) in hg.counts.iter().enumerate() {
                    let lo = hg.lo + k as f64 * bw;
                    out.push_str(&format!("{},{lo:?},{:?},{c}\n", i + 1, lo + bw));
                }
            }
            Some(out)
        }
        Tile::Network => {
            let s = lab.snapshot.as_ref()?;
            let mut out = format!("# theta at step {}\nindex,value\n", s.step);
            for (i, v) in s.theta.iter().enumerate() {
                out.push_str(&format!("{i},{v:?}\n"));
            }
            Some(out)
        }
        Tile::Output => {
            let s = lab.snapshot.as_ref()?;
            match &s.output {
                OutputMap::Grid {
                    side,
                    x_range,
                    y_range,
                    values,
                    ..
                } => {
                    let g = *side;
                    let mut out = String::from("x1,x2,output\n");
                    for row in 0..g {
                        let y = y_range.1 - (y_range.1 - y_range.0) * (row as f64 + 0.5) / g as f64;
                        for col in 0..g {
                            let x =
                                x_range.0 + (x_range.1 - x_range.0) * (col as f64 + 0.5) / g as f64;
                            let v = values.get(row * g + col).copied().unwrap_or(f32::NAN);
                            out.push_str(&format!("{x:?},{y:?},{v:?}\n"));
                        }
                    }
                    Some(out)
                }
                OutputMap::Curve { xs, ys } => {
                    let mut out = String::from("x,output\n");
                    for (x, y) in xs.iter().zip(ys) {
                        out.push_str(&format!("{x:?},{y:?}\n"));
                    }
                    Some(out)
                }
                OutputMap::None => None,
            }
        }
        // The depth/width sweep when it is shown, else the live regions.
        Tile::Geometry => views
            .region_sweep
            .csv()
            .or_else(|| super::geometry::csv(&views.geometry)),
        Tile::DoubleDescent => views.double_descent.csv(),
        Tile::Confusion => views.confusion.csv(),
        Tile::Collapse => views.collapse.csv(),
        Tile::Spectral => super::spectral_bias::csv(&views.spectral),
        Tile::Landscape => views.landscape.shown().map(crate::ui::landscape::csv),
        Tile::Dynamics => views.dynamics.last.as_deref().map(crate::ui::dynamics::csv),
    }
}

/// A file name for the tile, e.g. `nnlab-loss.csv`.
pub(crate) fn default_name(tile: Tile, ext: &str) -> String {
    format!("nnlab-{}.{ext}", format!("{tile:?}").to_lowercase())
}

/// Write text on the app's file thread (writes run there in order).
pub(crate) fn write_csv(path: PathBuf, text: String, files: &JobThread<Task<Job>, Job>) {
    files.queue(Box::new(move |send| {
        send(match crate::session::write_atomic(&path, text.as_bytes()) {
            Ok(()) => Job::Exported(path),
            Err(e) => Job::ExportFailed(e.to_string()),
        });
    }));
}

/// Ask for a screenshot of this frame; crop `rect` from it and write the PNG on the file thread.
fn request_png(ctx: &egui::Context, rect: egui::Rect, path: PathBuf, files: JobSender<Task<Job>>) {
    let ppp = ctx.pixels_per_point();
    ctx.request_screenshot(move |image: Arc<egui::ColorImage>| {
        // The callback runs where the frame is painted: encode elsewhere.
        files.queue(Box::new(move |send| {
            send(match write_png(&image, rect, ppp, &path) {
                Ok(()) => Job::Exported(path),
                Err(e) => Job::ExportFailed(e),
            });
        }));
    });
    ctx.request_repaint();
}

/// Crop `rect` (points) out of the screenshot and write it as an RGBA PNG.
fn write_png(
    image: &egui::ColorImage,
    rect: egui::Rect,
    ppp: f32,
    path: &std::path::Path,
) -> Result<(), String> {
    let [w, h] = image.size;
    let px = |v: f32, max: usize| ((v * ppp).round().max(0.0) as usize).min(max);
    let (x0, x1) = (px(rect.left(), w), px(rect.right(), w));
    let (y0, y1) = (px(rect.top(), h), px(rect.bottom(), h));
    if x1 <= x0 || y1 <= y0 {
        return Err("the tile is not on the screen".into());
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for c in &image.pixels[y * w + x0..y * w + x1] {
            rgba.extend_from_slice(&c.to_srgba_unmultiplied());
        }
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, (x1 - x0) as u32, (y1 - y0) as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(|e| e.to_string())?;
        wr.write_image_data(&rgba).map_err(|e| e.to_string())?;
    }
    crate::session::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// The path with the extension of the kind being saved.
fn with_ext(path: &str, ext: &str) -> PathBuf {
    PathBuf::from(path.trim()).with_extension(ext)
}

impl Export {
    /// The Export window of one tile: Browse…, a typed path, Save PNG, Save CSV (`has_csv`:
    /// the tile has data to write). Writing a CSV and browsing go out as commands.
    pub fn window_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, has_csv: bool) {
        let ectx = ui.ctx().clone();
        // A PNG waits until the window is gone from the picture.
        if let Some((tile, path, wait)) = self.pending_png.take() {
            if wait > 0 {
                self.pending_png = Some((tile, path, wait - 1));
                ectx.request_repaint();
            } else if let Some((_, rect)) = self.rects.iter().find(|(t, _)| *t == tile) {
                request_png(&ectx, *rect, path, ctx.files.tasks.sender());
            } else {
                ctx.send(Command::ShowError(ctx.t(S::TileHidden).to_string()));
            }
        }
        let Some(tile) = self.tile else {
            return;
        };
        let lang = ctx.lang();
        let mut open = true;
        let mut act: Option<(&str, PathBuf)> = None;
        let mut browse = false;
        egui::Window::new(format!(
            "{} — {}",
            lang.t(S::ExportTitle),
            lang.t(tile.title())
        ))
        .id(egui::Id::unique("export_dialog"))
        .open(&mut open)
        .collapsible(false)
        .default_width(460.0)
        .show(&ectx, |ui| {
            ui.horizontal(|ui| {
                if ui.button(lang.t(S::Browse)).clicked() {
                    browse = true;
                }
                ui.label(lang.t(S::Path));
                ui.add(
                    egui::TextEdit::singleline(&mut self.path)
                        .hint_text(lang.t(S::PathHint))
                        .desired_width(240.0),
                )
                .accessible_name(lang.t(S::Path));
            });
            ui.horizontal(|ui| {
                let ok = !self.path.trim().is_empty();
                if ui
                    .add_enabled(ok, egui::Button::new(lang.t(S::SavePng)))
                    .clicked()
                {
                    act = Some(("png", with_ext(&self.path, "png")));
                }
                if ui
                    .add_enabled(ok && has_csv, egui::Button::new(lang.t(S::SaveCsv)))
                    .clicked()
                {
                    act = Some(("csv", with_ext(&self.path, "csv")));
                }
            });
            if let Some(e) = &self.error {
                ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
            }
        });
        if browse {
            ctx.send(Command::BrowseExport(self.path.clone()));
        }
        match act {
            Some(("png", p)) => {
                self.tile = None;
                self.pending_png = Some((tile, p, 2));
                ectx.request_repaint();
            }
            Some((_, p)) => ctx.send(Command::ExportCsv { tile, path: p }),
            None => {}
        }
        if !open {
            self.tile = None;
        }
    }
}
