//! The Output tile's draw tool: a strip (Draw, the class or target to add, Clear, Undo, Redo)
//! and the clicks and drags on the decision map that add, move and delete points. Every change
//! goes to the lab as a `Command::Draw` (see `ui::draw`); the tool keeps only the choices of
//! its strip and the point being dragged.

use eframe::egui;
use egui_plot::{Plot, PlotPoint, PlotTransform};

use crate::data::drawn::{DataEdit, MAX_POINTS, Points};
use crate::ui::command::Command;
use crate::ui::draw::DrawCommand;
use crate::ui::i18n::S;
use crate::ui::theme;
use crate::ui::view::ViewCtx;

/// A point is hit within this many screen points of the pointer.
pub const HIT_RADIUS: f32 = 8.0;
/// Classes the swatches offer at most (one beyond the data's, for a new class).
pub const MAX_DRAWN_CLASSES: usize = 8;

/// The draw tool's own state.
#[derive(Debug)]
pub struct DrawTool {
    /// Clicks on the map draw (instead of panning it).
    pub on: bool,
    /// The class a click adds (classification).
    pub class: usize,
    /// The target a click adds (regression).
    pub target: f64,
    /// The point being dragged: (row, where it was, where the pointer has it now).
    dragging: Option<(usize, [f64; 2], [f64; 2])>,
    /// The view while drawing, [x0, x1, y0, y1]: see [`DrawTool::canvas`].
    canvas: Option<[f64; 4]>,
}

impl Default for DrawTool {
    fn default() -> Self {
        DrawTool {
            on: false,
            class: 0,
            target: 1.0,
            dragging: None,
            canvas: None,
        }
    }
}

/// Why these points cannot be drawn on, in the person's language (None: they can).
fn refusal(ctx: &ViewCtx<'_>, points: Option<&Points>) -> Option<String> {
    let inputs = ctx.lab.train().inputs;
    match points {
        Some(p) if inputs == 2 && p.len() <= MAX_POINTS => None,
        Some(p) if inputs == 2 => Some(format!("{} {}.", ctx.t(S::DrawTooMany), p.len())),
        _ => Some(format!("{} {inputs}.", ctx.t(S::DrawNeeds2))),
    }
}

impl DrawTool {
    /// The Draw toggle (in the tile's row of switches).
    pub fn toggle_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        ui.toggle_value(&mut self.on, ctx.t(S::DrawToggle))
            .on_hover_text(ctx.t(S::DrawHint));
        if !self.on {
            self.dragging = None;
        }
    }

    /// With Draw on: the class swatches (or target field), Clear, Undo, Redo, and one line when
    /// these points cannot be drawn on or an edit was refused. Ctrl+Z / Ctrl+Shift+Z undo and
    /// redo while the pointer is on the tile. Returns whether clicks on the map draw.
    pub fn strip_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &ViewCtx<'_>,
        points: Option<&Points>,
    ) -> bool {
        if !self.on {
            return false;
        }
        let history = ctx.lab.drawing();
        if ui.rect_contains_pointer(ui.max_rect()) && !ui.ctx().text_edit_focused() {
            let redo = egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                egui::Key::Z,
            );
            let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
            // Shift first: the plain shortcut also matches with Shift held.
            if ui.input_mut(|i| i.consume_shortcut(&redo)) {
                ctx.send(Command::Draw(DrawCommand::Redo));
            } else if ui.input_mut(|i| i.consume_shortcut(&undo)) {
                ctx.send(Command::Draw(DrawCommand::Undo));
            }
        }
        let refused = refusal(ctx, points);
        ui.horizontal_wrapped(|ui| {
            if let (None, Some(p)) = (&refused, points) {
                if p.classes > 0 {
                    ui.label(ctx.t(S::DrawClass));
                    let offered = (p.classes + 1).min(MAX_DRAWN_CLASSES).max(p.classes);
                    for c in 0..offered {
                        swatch_ui(ui, ctx, c, &mut self.class);
                    }
                    self.class = self.class.min(offered - 1);
                } else {
                    let name = ctx.t(S::DrawTarget);
                    ui.label(name);
                    ui.add(
                        egui::DragValue::new(&mut self.target)
                            .speed(0.05)
                            .max_decimals(3),
                    )
                    .accessible_name(name);
                }
                ui.separator();
            }
            let drawn_rows = points.map_or(0, Points::len);
            if ui
                .add_enabled(
                    refused.is_none() && drawn_rows > 0,
                    egui::Button::new(ctx.t(S::DrawClear)),
                )
                .clicked()
            {
                ctx.send(Command::Draw(DrawCommand::Edit(DataEdit::Clear)));
            }
            if ui
                .add_enabled(history.can_undo(), egui::Button::new(ctx.t(S::DrawUndo)))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                ctx.send(Command::Draw(DrawCommand::Undo));
            }
            if ui
                .add_enabled(history.can_redo(), egui::Button::new(ctx.t(S::DrawRedo)))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                ctx.send(Command::Draw(DrawCommand::Redo));
            }
        });
        let warn = egui::Color32::from_rgb(230, 80, 60);
        if let Some(why) = &refused {
            ui.colored_label(warn, why);
        } else if let Some(e) = &history.error {
            ui.colored_label(warn, e);
        } else if points.is_some_and(Points::is_empty) {
            ui.label(egui::RichText::new(ctx.t(S::DrawEmpty)).weak());
        } else {
            // Always a line here, so the map does not move when a message comes or goes.
            ui.label(egui::RichText::new(ctx.t(S::DrawHowTo)).small().weak());
        }
        refused.is_none()
    }

    /// The view while drawing: the map's box when drawing began, grown with the map. The map's
    /// box fits the data, so without this the view would jump at every point near its edge,
    /// and shrink to the first few points drawn after Clear.
    pub fn canvas(&mut self, map: [f64; 4], drawing: bool) -> Option<[f64; 4]> {
        if !drawing {
            self.canvas = None;
            return None;
        }
        let c = self.canvas.get_or_insert(map);
        *c = [
            c[0].min(map[0]),
            c[1].max(map[1]),
            c[2].min(map[2]),
            c[3].max(map[3]),
        ];
        Some(*c)
    }

    /// The map's plot while drawing: the pointer draws, so it neither pans nor zooms.
    pub fn plot<'a>(&self, plot: Plot<'a>, drawing: bool) -> Plot<'a> {
        if !drawing {
            return plot;
        }
        plot.allow_drag(false)
            .allow_zoom(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
    }

    /// Where row `row` is drawn: where the pointer has it while it is dragged.
    pub fn shown_at(&self, row: usize, at: [f64; 2]) -> [f64; 2] {
        match self.dragging {
            Some((r, _, now)) if r == row => now,
            _ => at,
        }
    }

    /// The clicks and drags on the map, after it is drawn: a click adds a point at the
    /// pointer, a drag that starts on a point moves it (one edit, on release), a secondary
    /// click or a Shift-click on a point deletes it.
    pub fn interact(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        transform: &PlotTransform,
        points: &Points,
        ctx: &ViewCtx<'_>,
    ) {
        let value = |pos: egui::Pos2| {
            let v = transform.value_from_position(pos);
            [v.x, v.y]
        };
        let hit = |pos: egui::Pos2| {
            points.nearest(HIT_RADIUS as f64, |p| {
                let s = transform.position_from_point(&PlotPoint::new(p[0], p[1]));
                (s - pos).length() as f64
            })
        };
        let edit = |e: DataEdit| ctx.send(Command::Draw(DrawCommand::Edit(e)));
        if response.drag_started_by(egui::PointerButton::Primary)
            && let Some(press) = ui.input(|i| i.pointer.press_origin())
            && let Some(row) = hit(press)
        {
            self.dragging = Some((row, points.x[row], points.x[row]));
        }
        if let Some((_, _, now)) = &mut self.dragging
            && let Some(pos) = response.interact_pointer_pos()
        {
            *now = value(pos);
        }
        if response.drag_stopped()
            && let Some((row, from, to)) = self.dragging.take()
            && from != to
        {
            edit(DataEdit::Move { row, from, to });
        }
        // Press, move and release within one frame (synthetic input such as xdotool's) is no
        // drag to egui, nor a click: read it from the frame's events.
        if self.dragging.is_none()
            && response.hovered()
            && let Some((press, release)) = one_frame_drag(ui)
            && let Some(row) = hit(press)
        {
            let to = value(release);
            if to != points.x[row] {
                edit(DataEdit::Move {
                    row,
                    from: points.x[row],
                    to,
                });
            }
            return;
        }
        let Some(pos) = response.interact_pointer_pos() else {
            return;
        };
        let shift = ui.input(|i| i.modifiers.shift);
        if response.secondary_clicked() || (response.clicked() && shift) {
            if let Some(row) = hit(pos) {
                edit(DataEdit::Delete {
                    row,
                    at: points.x[row],
                });
            }
        } else if response.clicked() {
            let target = if points.classes > 0 {
                self.class as f64
            } else {
                self.target
            };
            edit(DataEdit::Add {
                at: value(pos),
                target,
            });
        }
    }
}

/// The primary button pressed and released in this frame's events at places further apart
/// than a click may move: (press, release).
fn one_frame_drag(ui: &egui::Ui) -> Option<(egui::Pos2, egui::Pos2)> {
    let slop = ui.ctx().options(|o| o.input_options.max_click_dist);
    ui.input(|i| {
        let mut press = None;
        for e in &i.events {
            if let egui::Event::PointerButton {
                pos,
                button: egui::PointerButton::Primary,
                pressed,
                ..
            } = e
            {
                match (*pressed, press) {
                    (true, _) => press = Some(*pos),
                    (false, Some(p)) if (*pos - p).length() > slop => return Some((p, *pos)),
                    (false, _) => press = None,
                }
            }
        }
        None
    })
}

/// One class's swatch in the map's colour, selected when it is the class a click adds.
fn swatch_ui(ui: &mut egui::Ui, ctx: &ViewCtx<'_>, c: usize, selected: &mut usize) {
    let size = egui::vec2(18.0, 18.0);
    let (rect, r) = ui.allocate_exact_size(size, egui::Sense::click());
    let name = format!("{} {}", ctx.t(S::DrawClass), c);
    r.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::RadioButton, true, *selected == c, &name)
    });
    let p = ui.painter();
    p.circle_filled(rect.center(), 7.0, theme::class_color(c));
    let ring = if *selected == c {
        egui::Stroke::new(2.5, ui.visuals().strong_text_color())
    } else if r.hovered() {
        egui::Stroke::new(1.5, ui.visuals().widgets.hovered.fg_stroke.color)
    } else {
        egui::Stroke::new(1.0, theme::point_halo(ctx.dark()))
    };
    p.circle_stroke(rect.center(), 8.0, ring);
    if r.on_hover_text(&name).clicked() {
        *selected = c;
    }
}
