//! The Landscape tile: the controls, the status of the landscape thread, and its answer drawn —
//! a heatmap (texture, linear or log colour) with contour lines, the projected training path,
//! θ₀ and the current θ, race paths, the 1-1-1 surface's indefinite region, a colour bar and a
//! hover read-out; or the loss along the line θ₀ → θ. Only drawing happens here: the grid,
//! the contours and the projections come from the thread.

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, pos2, vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

use crate::analysis::landscape::one_one_one::TinyLoss;
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::landscape::{
    Answer, Landscape, LineView, MAX_GRID, Mode, Output, SliceView, sample,
};
use crate::ui::theme;
use crate::ui::view::ViewCtx;

use super::curvature::num;

fn mode_name(m: Mode) -> S {
    match m {
        Mode::Random => S::ModeRandom,
        Mode::Hessian => S::ModeHessian,
        Mode::Pca => S::ModePca,
        Mode::Line => S::ModeLine,
        Mode::Tiny => S::ModeTiny,
        Mode::Race => S::ModeRace,
    }
}

impl Landscape {
    /// The tile: its controls, status and the slice or line.
    pub fn tile_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, enlarged: bool) {
        tile(self, ctx, ui, enlarged)
    }
}

fn tile(this: &mut Landscape, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, enlarged: bool) {
    controls_ui(this, ctx, ui);
    status_ui(this, ctx, ui, enlarged);
    let Some(a) = this.shown() else {
        if !this.busy() {
            ui.add_space(8.0);
            ui.add(egui::Label::new(egui::RichText::new(ctx.t(S::LandNone)).weak()).wrap());
        }
        return;
    };
    let a = a.clone();
    match &a.output {
        Output::Line(l) => line_ui(this, ctx, ui, l),
        Output::Slice(v) => heatmap_ui(this, ctx, ui, &a, v),
    }
}

fn controls_ui(this: &mut Landscape, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    // The widgets edit a copy; a change goes out as a command, applied after the frame.
    let mut edited = this.settings;
    let st = &mut edited;
    let lang = ctx.lang();
    let mut compute = false;
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_id_salt("landscape_mode")
            .selected_text(lang.t(mode_name(st.mode)))
            // Narrow tiles get a narrower box instead of spilling over the next tile.
            .width((ui.available_width() - 24.0).clamp(60.0, 190.0))
            .truncate()
            .show_ui(ui, |ui| {
                for m in Mode::ALL {
                    ui.selectable_value(&mut st.mode, m, lang.t(mode_name(m)));
                }
            })
            .response
            .accessible_name(lang.t(S::LandscapeView));
        if st.mode != Mode::Line {
            ui.label(lang.t(S::GridSize));
            ui.add(
                egui::DragValue::new(&mut st.grid)
                    .range(5..=MAX_GRID)
                    .speed(1.0),
            )
            .accessible_name(lang.t(S::GridSize));
        }
        match st.mode {
            Mode::Random | Mode::Hessian => {
                ui.label(lang.t(S::Radius));
                ui.add(
                    egui::DragValue::new(&mut st.radius)
                        .range(1e-4..=1e3)
                        .speed(0.02),
                )
                .accessible_name(lang.t(S::Radius));
            }
            Mode::Tiny => {
                ui.radio_value(&mut st.tiny_loss, TinyLoss::Mse, lang.t(S::LossMse));
                ui.radio_value(&mut st.tiny_loss, TinyLoss::CrossEntropy, lang.t(S::LossCe));
                ui.label(lang.t(S::Radius));
                ui.add(
                    egui::DragValue::new(&mut st.tiny_radius)
                        .range(0.5..=50.0)
                        .speed(0.1),
                )
                .accessible_name(lang.t(S::Radius));
            }
            Mode::Race => {
                ui.label("η");
                ui.add(
                    egui::DragValue::new(&mut st.race_lr)
                        .range(1e-6..=10.0)
                        .speed(0.005),
                )
                .accessible_name(lang.t(S::LearningRate));
                ui.add(
                    egui::DragValue::new(&mut st.race_steps)
                        .range(1..=5000)
                        .speed(1.0),
                )
                .accessible_name(lang.t(S::StepsUnit));
                ui.label(lang.t(S::StepsUnit));
            }
            Mode::Pca | Mode::Line => {}
        }
        if ui.button(lang.t(S::Compute)).clicked() {
            compute = true;
        }
        ui.checkbox(&mut this.log, lang.t(S::LogColour));
        ui.checkbox(&mut this.live, lang.t(S::FollowTraining));
    });
    if edited != this.settings {
        ctx.send(Command::SetLandscapeSettings(Box::new(edited)));
    }
    if compute {
        ctx.send(Command::LandscapeCompute);
    }
}

fn status_ui(this: &Landscape, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, enlarged: bool) {
    let l = this;
    ui.horizontal_wrapped(|ui| {
        if l.awaiting_theta {
            ui.spinner();
            ui.label(ctx.t(S::WaitingTheta));
        } else if let Some(done) = l.computing {
            ui.spinner();
            if l.coarse.is_some() {
                ui.label(format!("{} {:.0}%", ctx.t(S::Refining), 100.0 * done));
            } else {
                ui.label(format!("{}…", ctx.t(S::Compute)));
            }
        }
        if let Some(a) = l.shown() {
            let what = if a.coarse {
                ctx.t(S::Preview)
            } else {
                ctx.t(mode_name(a.mode))
            };
            let step = if a.mode == Mode::Tiny {
                String::new()
            } else {
                format!(" · {} {}", ctx.t(S::StepCount), a.step)
            };
            let grid = if a.mode == Mode::Line {
                String::new()
            } else {
                format!(" · {0}×{0}", a.grid)
            };
            ui.label(
                egui::RichText::new(format!("{what}{grid}{step} · {:.2} s", a.seconds)).weak(),
            );
            if let Output::Slice(v) = &a.output {
                ui.label(format!("J: {} … {}", num(v.min), num(v.max)));
                if enlarged {
                    for (name, val) in &v.notes {
                        ui.label(format!("{name} = {}", num(*val)));
                    }
                }
                if v.indefinite.is_some() {
                    ui.label(format!(
                        "{}: {:.1}%",
                        ctx.t(S::Indefinite),
                        100.0 * v.indefinite_fraction
                    ));
                }
            }
        }
    });
    if let Some(e) = &l.error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{}: {e}", ctx.t(S::LandFailed)),
        );
    }
}

/// Viridis at nine stops: readable in both themes and in grey.
fn colormap(t: f64) -> Color32 {
    const C: [[u8; 3]; 9] = [
        [68, 1, 84],
        [71, 45, 123],
        [59, 82, 139],
        [44, 114, 142],
        [33, 145, 140],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ];
    if !t.is_finite() {
        return Color32::from_rgb(128, 128, 128);
    }
    let x = t.clamp(0.0, 1.0) * (C.len() - 1) as f64;
    let k = (x.floor() as usize).min(C.len() - 2);
    let f = x - k as f64;
    let m = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    Color32::from_rgb(
        m(C[k][0], C[k + 1][0]),
        m(C[k][1], C[k + 1][1]),
        m(C[k][2], C[k + 1][2]),
    )
}

/// Where a value sits on the colour scale, 0 … 1 (log10 when `log` and the range is positive).
fn scale(v: f64, min: f64, max: f64, log: bool) -> f64 {
    // Also catches NaN bounds.
    if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
        return 0.5;
    }
    if log && min > 0.0 {
        (v.log10() - min.log10()) / (max.log10() - min.log10())
    } else {
        (v - min) / (max - min)
    }
}

fn textures(this: &mut Landscape, ctx: &egui::Context, a: &Answer, v: &SliceView) {
    let log = this.log;
    let key = this.id * 4 + 2 * a.coarse as u64 + log as u64;
    if this.texture.as_ref().is_some_and(|t| t.0 == key) {
        return;
    }
    let (nx, ny) = (v.x.len(), v.y.len());
    // Image row 0 is the top: the largest y.
    let mut px = Vec::with_capacity(nx * ny);
    for i in (0..ny).rev() {
        for j in 0..nx {
            px.push(colormap(scale(v.values[i * nx + j], v.min, v.max, log)));
        }
    }
    let image = egui::ColorImage::new([nx, ny], px);
    // The mask of the indefinite region (fully transparent when there is none).
    let mask = egui::ColorImage::new(
        [nx, ny],
        (0..ny)
            .rev()
            .flat_map(|i| (0..nx).map(move |j| i * nx + j))
            .map(|k| match &v.indefinite {
                Some(m) if m[k] => Color32::from_rgba_unmultiplied(255, 255, 255, 55),
                _ => Color32::TRANSPARENT,
            })
            .collect(),
    );
    let (lin, near) = (egui::TextureOptions::LINEAR, egui::TextureOptions::NEAREST);
    // Update the two textures in place: a fresh texture per answer let a freed id come back
    // with the previous picture for a frame.
    match &mut this.texture {
        Some((k, tex, Some(overlay))) => {
            tex.set(image, lin);
            overlay.set(mask, near);
            *k = key;
        }
        slot => {
            let tex = ctx.load_texture("landscape", image, lin);
            let overlay = ctx.load_texture("landscape_indefinite", mask, near);
            *slot = Some((key, tex, Some(overlay)));
        }
    }
}

/// A tick label: few digits, the sign kept.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Maps grid coordinates to the screen: pixel centres sit on the grid points.
struct Frame {
    rect: Rect,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(rect: Rect, v: &SliceView) -> Frame {
        let half = |a: &[f64]| {
            if a.len() > 1 {
                0.5 * (a[a.len() - 1] - a[0]) / (a.len() - 1) as f64
            } else {
                0.5
            }
        };
        let (hx, hy) = (half(&v.x), half(&v.y));
        Frame {
            rect,
            x0: v.x[0] - hx,
            x1: v.x[v.x.len() - 1] + hx,
            y0: v.y[0] - hy,
            y1: v.y[v.y.len() - 1] + hy,
        }
    }
    fn to_screen(&self, p: [f64; 2]) -> Pos2 {
        let fx = (p[0] - self.x0) / (self.x1 - self.x0);
        let fy = (p[1] - self.y0) / (self.y1 - self.y0);
        pos2(
            self.rect.left() + fx as f32 * self.rect.width(),
            self.rect.bottom() - fy as f32 * self.rect.height(),
        )
    }
    fn to_data(&self, p: Pos2) -> [f64; 2] {
        let fx = ((p.x - self.rect.left()) / self.rect.width()) as f64;
        let fy = ((self.rect.bottom() - p.y) / self.rect.height()) as f64;
        [
            self.x0 + fx * (self.x1 - self.x0),
            self.y0 + fy * (self.y1 - self.y0),
        ]
    }
}

fn marker(painter: &egui::Painter, p: Pos2, fill: Color32, r: f32) {
    painter.circle(p, r, fill, Stroke::new(1.5, Color32::BLACK));
}

fn heatmap_ui(
    this: &mut Landscape,
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    a: &Answer,
    v: &SliceView,
) {
    if v.x.len() < 2 || v.y.len() < 2 {
        return;
    }
    textures(this, ui.ctx(), a, v);
    let Some((_, tex, overlay)) = this.texture.clone() else {
        return;
    };
    let log = this.log;
    let tiny = a.mode == Mode::Tiny;
    let (xn, yn) = if tiny { ("w₁", "w₂") } else { ("α", "β") };
    // The tile's frame clips before the end of the available rect: stay inside what shows.
    let area = ui.available_rect_before_wrap().intersect(ui.clip_rect());
    let area = Rect::from_min_max(area.min, area.max - vec2(0.0, 6.0));
    let text_h = ui.text_style_height(&egui::TextStyle::Body);
    // Room for the legend and read-out below, the colour bar on the right, ticks on the left.
    let below = 2.0 * text_h + 26.0;
    let (left, right) = (58.0, 78.0);
    let side = (area.width() - left - right)
        .min(area.height() - below - 2.0 * text_h - 12.0)
        .max(40.0);
    // Room above for the colour bar's title.
    let rect = Rect::from_min_size(
        pos2(area.left() + left, area.top() + text_h + 2.0),
        vec2(side, side),
    );
    let response = ui.allocate_rect(
        Rect::from_min_max(area.min, pos2(area.right(), rect.bottom() + below)),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(response.rect);
    // Paths can leave the slice: everything on the map is clipped to it.
    let map = ui.painter_at(rect);
    let frame = Frame::new(rect, v);
    let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
    map.image(tex.id(), rect, uv, Color32::WHITE);
    if let Some(o) = overlay.as_ref().filter(|_| v.indefinite.is_some()) {
        map.image(o.id(), rect, uv, Color32::WHITE);
    }
    // Contours: a dark halo under a light line stays visible on every colour of the map.
    let lines = if log && v.min > 0.0 {
        &v.contours_log
    } else {
        &v.contours
    };
    let halo = Stroke::new(2.2, Color32::from_black_alpha(110));
    let stroke = Stroke::new(1.0, Color32::from_white_alpha(190));
    for c in lines {
        for s in &c.segments {
            let (p, q) = (frame.to_screen(s[0]), frame.to_screen(s[1]));
            map.line_segment([p, q], halo);
            map.line_segment([p, q], stroke);
        }
    }
    for s in &v.indefinite_boundary {
        map.line_segment(
            [frame.to_screen(s[0]), frame.to_screen(s[1])],
            Stroke::new(2.0, theme::NEG),
        );
    }
    let mut legend: Vec<(Color32, String)> = Vec::new();
    if v.indefinite.is_some() {
        legend.push((theme::NEG, ctx.t(S::Indefinite).into()));
    }
    if let Some(path) = &v.path {
        let pts: Vec<Pos2> = path.iter().map(|p| frame.to_screen(*p)).collect();
        map.add(egui::Shape::line(
            pts.clone(),
            Stroke::new(3.5, Color32::from_black_alpha(120)),
        ));
        map.add(egui::Shape::line(pts.clone(), Stroke::new(2.0, theme::NEG)));
        if let Some(first) = pts.first() {
            marker(&map, *first, Color32::WHITE, 4.0);
        }
        legend.push((theme::NEG, ctx.t(S::TrainPath).into()));
        legend.push((Color32::WHITE, ctx.t(S::StartTheta).into()));
    }
    for (k, r) in v.races.iter().enumerate() {
        let color = theme::series_color(k);
        let pts: Vec<Pos2> = r.path.iter().map(|p| frame.to_screen(*p)).collect();
        map.add(egui::Shape::line(
            pts.clone(),
            Stroke::new(3.5, Color32::from_black_alpha(120)),
        ));
        map.add(egui::Shape::line(pts.clone(), Stroke::new(2.0, color)));
        if let Some(end) = pts.last() {
            marker(&map, *end, color, 3.5);
        }
        let tail = if r.diverged {
            format!(" ({})", ctx.t(S::DivergedShort))
        } else {
            format!(" J = {}", num(r.final_loss))
        };
        legend.push((color, format!("{}{tail}", r.name)));
    }
    if let Some(c) = v.current {
        let p = frame.to_screen(c);
        map.circle(
            p,
            5.5,
            Color32::from_rgb(230, 30, 60),
            Stroke::new(2.0, Color32::WHITE),
        );
        let name = if a.mode == Mode::Race {
            ctx.t(S::StartTheta)
        } else {
            ctx.t(S::CurrentTheta)
        };
        legend.push((Color32::from_rgb(230, 30, 60), name.into()));
    }
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, ui.visuals().weak_text_color()),
        egui::StrokeKind::Outside,
    );
    // Ticks: the ends and the middle of each axis.
    let font = egui::FontId::proportional(11.0);
    let tc = ui.visuals().text_color();
    let (xa, ya) = (&v.x, &v.y);
    for (val, pos) in [
        (xa[0], frame.to_screen([xa[0], ya[0]])),
        (
            0.5 * (xa[0] + xa[xa.len() - 1]),
            frame.to_screen([0.5 * (xa[0] + xa[xa.len() - 1]), ya[0]]),
        ),
        (xa[xa.len() - 1], frame.to_screen([xa[xa.len() - 1], ya[0]])),
    ] {
        painter.text(
            pos2(pos.x, rect.bottom() + 2.0),
            egui::Align2::CENTER_TOP,
            tick(val),
            font.clone(),
            tc,
        );
    }
    for val in [ya[0], 0.5 * (ya[0] + ya[ya.len() - 1]), ya[ya.len() - 1]] {
        let pos = frame.to_screen([xa[0], val]);
        painter.text(
            pos2(rect.left() - 4.0, pos.y),
            egui::Align2::RIGHT_CENTER,
            tick(val),
            font.clone(),
            tc,
        );
    }
    painter.text(
        pos2(rect.center().x + side * 0.25, rect.bottom() + 2.0),
        egui::Align2::CENTER_TOP,
        xn,
        font.clone(),
        tc,
    );
    painter.text(
        pos2(rect.left() - 4.0, rect.center().y - side * 0.25),
        egui::Align2::RIGHT_CENTER,
        yn,
        font.clone(),
        tc,
    );
    colour_bar(&painter, rect, v, log, tc);
    // Legend and read-out lines.
    let mut y = rect.bottom() + text_h + 4.0;
    let mut x = rect.left();
    for (color, name) in &legend {
        let w = painter
            .layout_no_wrap(name.clone(), font.clone(), tc)
            .size()
            .x;
        if x + 16.0 + w > response.rect.right() && x > rect.left() {
            break;
        }
        // Outlined: the white θ₀ swatch shows on a light background too.
        painter.circle(
            pos2(x + 5.0, y + 6.0),
            4.5,
            *color,
            Stroke::new(1.0, Color32::from_gray(90)),
        );
        painter.text(
            pos2(x + 13.0, y),
            egui::Align2::LEFT_TOP,
            name,
            font.clone(),
            tc,
        );
        x += 24.0 + w;
    }
    y += text_h + 2.0;
    let hover = response.hover_pos().filter(|p| rect.contains(*p));
    let readout = match hover {
        Some(p) => {
            let d = frame.to_data(p);
            painter.line_segment(
                [pos2(p.x, rect.top()), pos2(p.x, rect.bottom())],
                Stroke::new(1.0, Color32::from_white_alpha(80)),
            );
            painter.line_segment(
                [pos2(rect.left(), p.y), pos2(rect.right(), p.y)],
                Stroke::new(1.0, Color32::from_white_alpha(80)),
            );
            let j = sample(v, d[0], d[1]).map_or("—".to_string(), num);
            format!("{xn} = {:.4}, {yn} = {:.4}, J = {j}", d[0], d[1])
        }
        None if tiny => ctx.t(S::TinyData).to_string(),
        None if a.mode == Mode::Race => ctx.t(S::RaceNote).to_string(),
        None if v.indefinite.is_some() => ctx.t(S::IndefNote).to_string(),
        None => String::new(),
    };
    painter.text(
        pos2(rect.left(), y),
        egui::Align2::LEFT_TOP,
        readout,
        font.clone(),
        ui.visuals().weak_text_color(),
    );
    if tiny && hover.is_none() {
        response.on_hover_text(ctx.t(S::IndefNote));
    }
}

fn colour_bar(painter: &egui::Painter, rect: Rect, v: &SliceView, log: bool, tc: Color32) {
    let bar = Rect::from_min_max(
        pos2(rect.right() + 10.0, rect.top()),
        pos2(rect.right() + 22.0, rect.bottom()),
    );
    let n = 64;
    let h = bar.height() / n as f32;
    for k in 0..n {
        let t = (k as f64 + 0.5) / n as f64;
        let r = Rect::from_min_size(
            pos2(bar.left(), bar.bottom() - (k + 1) as f32 * h),
            vec2(bar.width(), h + 0.5),
        );
        painter.rect_filled(r, 0.0, colormap(t));
    }
    let font = egui::FontId::proportional(11.0);
    let log = log && v.min > 0.0;
    let at = |t: f64| {
        if log {
            10f64.powf(v.min.log10() + t * (v.max.log10() - v.min.log10()))
        } else {
            v.min + t * (v.max - v.min)
        }
    };
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = bar.bottom() - t as f32 * bar.height();
        painter.text(
            pos2(bar.right() + 3.0, y),
            egui::Align2::LEFT_CENTER,
            num(at(t)),
            font.clone(),
            tc,
        );
    }
    painter.text(
        pos2(bar.left(), bar.top() - 8.0),
        egui::Align2::LEFT_BOTTOM,
        if log { "J (log)" } else { "J" },
        font,
        tc,
    );
}

fn line_ui(this: &Landscape, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, l: &LineView) {
    ui.weak(ctx.t(S::LineNote));
    let log = this.log && l.min > 0.0;
    let pts: Vec<[f64; 2]> =
        l.t.iter()
            .zip(&l.loss)
            .filter(|(_, j)| j.is_finite())
            .map(|(&t, &j)| [t, if log { j.log10() } else { j }])
            .collect();
    let mut p = Plot::new("landscape_line")
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label("t");
    if log {
        p = p.y_axis_formatter(super::plots::log_ticks).label_formatter(
            |hp: &egui_plot::HoverPosition<'_>| {
                let pt = match hp {
                    egui_plot::HoverPosition::NearDataPoint { position, .. } => position,
                    egui_plot::HoverPosition::Elsewhere { position } => position,
                };
                Some(format!("t = {:.3}\nJ = {:.4e}", pt.x, 10f64.powf(pt.y)))
            },
        );
    }
    p.show(ui, |p| {
        p.line(
            Line::new("J((1−t)θ₀ + tθ)", PlotPoints::from(pts))
                .color(theme::POS)
                .width(2.0),
        );
        p.vline(
            VLine::new(ctx.t(S::StartTheta), 0.0)
                .color(Color32::GRAY)
                .style(egui_plot::LineStyle::dashed_loose()),
        );
        p.vline(VLine::new(ctx.t(S::CurrentTheta), 1.0).color(Color32::from_rgb(230, 30, 60)));
    });
}
