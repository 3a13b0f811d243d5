//! The network designer, drawn with the painter: input features (click to toggle) → hidden
//! layers (+/− units, + layer / − layer) → output. Every neuron shows its output over the input
//! plane; edges are coloured by sign and sized by magnitude; hover a neuron to enlarge it in the
//! output view; click an edge to see and edit its weight. Wide layers collapse to a box that
//! shows a strip of its first units' maps. Column headers shorten to fit between the columns
//! (the full header on hover).

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, Vec2, pos2, vec2};

use crate::net::{Activation, Network};
use crate::runtime::worker::{MAX_NEURON_MAPS, OutputMap};
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::model::feature_choices;
use crate::ui::panels::network::{
    MAX_HIDDEN, add_layer, change_units, feature_label, remove_layer, toggle_feature,
};
use crate::ui::panels::output::Textures;
use crate::ui::theme;
use crate::ui::view::ViewCtx;

/// A clicked edge of the diagram: the weight the editor shows and sets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeSel {
    /// Index of the layer in the network (0: the first hidden layer).
    pub layer: usize,
    /// The unit it leaves, in the layer's input (an input feature for layer 0).
    pub from: usize,
    /// The unit of the layer it enters.
    pub to: usize,
    /// Index of its weight in the flat parameter vector θ.
    pub index: usize,
}

/// Pan and zoom of the diagram, and where its parts were drawn last frame (screen points).
/// A layout point p is drawn at centre + (p − centre)·zoom + pan.
#[derive(Clone, Debug)]
pub struct Diagram {
    /// Scale of the diagram (1: the whole network fits the tile), between MIN_ZOOM and MAX_ZOOM.
    pub zoom: f32,
    /// Offset of the diagram in screen points, after scaling.
    pub pan: Vec2,
    /// Neuron squares: ((column, unit), rect); column 0 holds the input features.
    pub nodes: Vec<((usize, usize), Rect)>,
    /// Edges with their two end points.
    pub edges: Vec<(EdgeSel, [Pos2; 2])>,
}

impl Default for Diagram {
    fn default() -> Self {
        Diagram {
            zoom: 1.0,
            pan: Vec2::ZERO,
            nodes: Vec::new(),
            edges: Vec::new(),
        }
    }
}

/// The farthest the diagram zooms out.
const MIN_ZOOM: f32 = 0.25;
/// The farthest the diagram zooms in.
const MAX_ZOOM: f32 = 8.0;

/// The network designer's own state: what the pointer is on, the edge being edited, and the
/// diagram's pan and zoom.
#[derive(Default)]
pub struct DesignerView {
    /// The unit under the pointer, (column, unit) with column 0 the input features: the output view
    /// shows that unit's map.
    pub hovered_neuron: Option<(usize, usize)>,
    /// The edge whose weight the editor shows (None: the editor is closed).
    pub selected_edge: Option<EdgeSel>,
    /// The selected edge's weight as typed.
    pub edge_text: String,
    /// The diagram's pan and zoom and the positions of its parts last frame.
    pub diagram: Diagram,
}

impl Diagram {
    /// Where the layout point `p` is drawn on screen, `centre` being the tile's centre.
    fn to_screen(&self, centre: Pos2, p: Pos2) -> Pos2 {
        centre + (p - centre) * self.zoom + self.pan
    }

    fn rect(&self, centre: Pos2, r: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(centre, r.min), self.to_screen(centre, r.max))
    }

    /// Zoom by `factor` about the screen point `at`, which stays where it is.
    fn zoom_about(&mut self, centre: Pos2, at: Pos2, factor: f32) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let f = zoom / self.zoom;
        self.pan = (at - centre) - (at - centre - self.pan) * f;
        self.zoom = zoom;
    }

    /// Back to the whole network in the tile.
    pub fn fit(&mut self) {
        self.zoom = 1.0;
        self.pan = Vec2::ZERO;
    }
}

/// Layers wider than this are drawn as a box.
const MAX_DOTS: usize = MAX_NEURON_MAPS;
/// Space kept between two column headers.
const HEADER_GAP: f32 = 6.0;

/// A short name of an activation for narrow column headers.
fn activation_short(a: Activation) -> &'static str {
    match a {
        Activation::Identity => "id",
        Activation::Step => "step",
        Activation::Sigmoid => "σ",
        Activation::Tanh => "tanh",
        Activation::Relu => "relu",
        Activation::LeakyRelu => "lrelu",
        Activation::Prelu => "prelu",
        Activation::Elu => "elu",
        Activation::Swish => "swish",
        Activation::Gelu => "gelu",
        Activation::Softplus => "s+",
        Activation::Softmax => "smax",
        Activation::Mish => "mish",
        Activation::Sine => "sin",
    }
}

/// A column's header as (title, subtitle), from the full form to the shortest.
fn header_forms(lang: crate::ui::i18n::Lang, net: &Network, col: &Column) -> Vec<(String, String)> {
    match col {
        Column::Features(_) => vec![
            (lang.t(S::Features).to_string(), String::new()),
            (lang.t(S::InputsShort).to_string(), String::new()),
        ],
        Column::Layer(l) => {
            let layer = &net.layers[*l];
            let output = *l + 1 == net.layers.len();
            // Frozen layers (trainable: false) say so in their header.
            let frozen = format!(" · {}", lang.t(S::FrozenShort));
            let bn = match (layer.batch_norm, layer.trainable) {
                (true, true) => " · BN".to_string(),
                (true, false) => format!(" · BN{frozen}"),
                (false, true) => String::new(),
                (false, false) => frozen,
            };
            let (full, short) = if output {
                (
                    lang.t(S::OutputLayer).to_string(),
                    lang.t(S::OutputShort).to_string(),
                )
            } else {
                (
                    format!("{} {}", lang.t(S::Layer), l + 1),
                    format!("{}{}", lang.t(S::LayerShort), l + 1),
                )
            };
            let act = layer.activation;
            vec![
                (full, format!("{} · {}{bn}", layer.units, act.name())),
                (
                    short.clone(),
                    format!("{} · {}{bn}", layer.units, activation_short(act)),
                ),
                (short, format!("{}", layer.units)),
            ]
        }
    }
}

/// Draw `text` centred on `x` from `top`, cut with … to at most `room` wide; its rect.
fn fitted_text(
    painter: &egui::Painter,
    (x, top): (f32, f32),
    text: &str,
    font: egui::FontId,
    room: f32,
    color: Color32,
) -> Rect {
    let mut job = egui::text::LayoutJob::simple_singleline(text.to_string(), font, color);
    job.wrap = egui::text::TextWrapping::truncate_at_width(room);
    let galley = painter.layout_job(job);
    let rect = Rect::from_min_size(pos2(x - galley.size().x / 2.0, top), galley.size());
    painter.galley(rect.min, galley, color);
    rect
}

enum Column {
    /// Input features: (name, index among the active features or None when off).
    Features(Vec<(String, Option<usize>)>),
    /// A layer (index into the network's layers).
    Layer(usize),
}

fn dist_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t - p).length()
}

fn edge_style(w: f64, max: f64) -> Stroke {
    if !w.is_finite() {
        return Stroke::new(1.0, Color32::GRAY);
    }
    let m = (w.abs() / max.max(1e-9)) as f32;
    let c = if w >= 0.0 { theme::POS } else { theme::NEG };
    Stroke::new(0.4 + 3.6 * m, c.gamma_multiply(0.25 + 0.75 * m))
}

impl DesignerView {
    /// Select an edge for the weight editor (None: close it), its text the weight in `theta`.
    pub(crate) fn select_edge(&mut self, edge: Option<EdgeSel>, theta: Option<&[f64]>) {
        self.selected_edge = edge;
        if let (Some(e), Some(t)) = (edge, theta)
            && let Some(w) = t.get(e.index)
        {
            self.edge_text = format!("{w:.6}");
        }
    }

    /// The diagram, its units drawing the output view's maps (`maps`).
    pub fn tile_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>, maps: &Textures) {
        diagram_ui(self, ctx, ui, maps)
    }
}

/// Edit the network of a copy of the session; a change goes out as the edited session and a
/// rebuild.
fn edit_network(ctx: &ViewCtx<'_>, edit: impl FnOnce(&mut crate::net::spec::NetworkSpec) -> bool) {
    let mut s = ctx.lab.session.clone();
    if edit(&mut s.network) {
        ctx.send(Command::EditSession(Box::new(s)));
        ctx.send(Command::Rebuild);
    }
}

fn diagram_ui(this: &mut DesignerView, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, maps: &Textures) {
    let lang = ctx.lang();
    ui.horizontal_wrapped(|ui| {
        ui.label(
            egui::RichText::new(format!("{}: {}", lang.t(S::Params), ctx.lab.n_params)).strong(),
        );
        let hidden = ctx.lab.session.network.layers.len() - 1;
        let perceptron = ctx.lab.is_perceptron();
        if ui
            .add_enabled(
                !perceptron && hidden < MAX_HIDDEN,
                egui::Button::new(lang.t(S::AddLayer)).small(),
            )
            .clicked()
        {
            edit_network(ctx, add_layer);
        }
        if ui
            .add_enabled(
                hidden > 0,
                egui::Button::new(lang.t(S::RemoveLayer)).small(),
            )
            .clicked()
        {
            edit_network(ctx, remove_layer);
        }
        if ui
            .add(egui::Button::new(lang.t(S::Fit)).small())
            .on_hover_text(lang.t(S::FitHint))
            .clicked()
        {
            this.diagram.fit();
        }
        ui.label(egui::RichText::new(lang.t(S::HoverHint)).weak().small());
    });
    edge_editor(this, ctx, ui);
    let Some(net) = ctx.lab.net.clone() else {
        return;
    };
    // Columns.
    let inputs = ctx.lab.applied.network.inputs;
    let choices = feature_choices(inputs);
    let active: Vec<String> = net.features.iter().map(|f| f.label()).collect();
    let feats: Vec<(String, Option<usize>)> = if choices.is_empty() {
        active
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), Some(i)))
            .collect()
    } else {
        choices
            .iter()
            .map(|c| (c.to_string(), active.iter().position(|a| a == c)))
            .collect()
    };
    let mut cols = vec![Column::Features(feats)];
    cols.extend((0..net.layers.len()).map(Column::Layer));

    let avail = ui.available_size();
    let (resp, painter) = ui.allocate_painter(avail, egui::Sense::click_and_drag());
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, lang.t(S::Diagram)));
    let rect = resp.rect;
    // Wheel or pinch zooms about the pointer; dragging pans.
    if resp.hovered() {
        let (scroll, pinch, at) = ui.input(|i| {
            (
                i.smooth_scroll_delta().y,
                i.zoom_delta(),
                i.pointer.hover_pos(),
            )
        });
        // One wheel notch (40 points in egui on native) zooms by about 14 %.
        let factor = pinch * (scroll / 300.0).exp();
        if let Some(at) = at
            && factor != 1.0
        {
            this.diagram.zoom_about(rect.center(), at, factor);
        }
    }
    if resp.dragged() {
        this.diagram.pan += resp.drag_delta();
    }
    let view = this.diagram.clone();
    let centre = rect.center();
    let zoom = view.zoom;
    let tf = |p: Pos2| view.to_screen(centre, p);
    let dark = ctx.dark();
    let text_color = ui.visuals().text_color();
    let header_h = 40.0;
    let footer_h = 18.0;
    let body = Rect::from_min_max(
        pos2(rect.left() + 64.0, rect.top() + header_h),
        pos2(rect.right() - 10.0, rect.bottom() - footer_h),
    );
    let ncols = cols.len();
    let max_nodes = cols
        .iter()
        .map(|c| match c {
            Column::Features(f) => f.len(),
            Column::Layer(l) => net.layers[*l].units.min(MAX_DOTS),
        })
        .max()
        .unwrap_or(1)
        .max(1);
    let gap = 6.0;
    let node =
        ((body.height() - gap * (max_nodes as f32 - 1.0)) / max_nodes as f32).clamp(8.0, 34.0);
    let col_x = |c: usize| -> f32 {
        if ncols == 1 {
            body.center().x
        } else {
            body.left() + node / 2.0 + (body.width() - node) * c as f32 / (ncols - 1) as f32
        }
    };
    // Node rects per column (None = collapsed box).
    let mut rects: Vec<Vec<Rect>> = Vec::new();
    let mut boxed: Vec<Option<Rect>> = Vec::new();
    for (c, col) in cols.iter().enumerate() {
        let n = match col {
            Column::Features(f) => f.len(),
            Column::Layer(l) => net.layers[*l].units,
        };
        let x = col_x(c);
        if n > MAX_DOTS {
            let h = body.height() * 0.8;
            // Wide enough for its "16/32" where the columns leave room.
            let between = if ncols > 1 {
                col_x(1) - col_x(0)
            } else {
                body.width()
            };
            let w = node.max(32.0).min(0.8 * between).max(16.0);
            let r = Rect::from_center_size(pos2(x, body.center().y), vec2(w, h));
            rects.push(Vec::new());
            boxed.push(Some(r));
            continue;
        }
        let total = n as f32 * node + (n as f32 - 1.0) * gap;
        let top = body.center().y - total / 2.0;
        rects.push(
            (0..n)
                .map(|j| {
                    Rect::from_min_size(
                        pos2(x - node / 2.0, top + j as f32 * (node + gap)),
                        vec2(node, node),
                    )
                })
                .collect(),
        );
        boxed.push(None);
    }
    // Laid out to fit the tile; now panned and zoomed.
    for col in &mut rects {
        for r in col.iter_mut() {
            *r = view.rect(centre, *r);
        }
    }
    for b in boxed.iter_mut().flatten() {
        *b = view.rect(centre, *b);
    }
    let mut drawn_edges = Vec::new();
    let mut drawn_nodes = Vec::new();
    // Edges.
    let theta: Option<&[f64]> = ctx
        .lab
        .snapshot
        .as_ref()
        .map(|s| s.theta.as_slice())
        .filter(|t| t.len() == net.n_params);
    let pointer = resp.hover_pos();
    let mut best_edge: Option<(f32, EdgeSel)> = None;
    let selected = this.selected_edge;
    for (li, layer) in net.layers.iter().enumerate() {
        let (src_c, dst_c) = (li, li + 1);
        let wmax = theta
            .map(|t| {
                t[layer.w..layer.w + layer.n_weights()]
                    .iter()
                    .fold(0.0f64, |a, b| a.max(b.abs()))
            })
            .unwrap_or(1.0);
        // Source anchors: for features, only active ones, indexed by active position.
        let src: Vec<(usize, Pos2)> = match &cols[src_c] {
            Column::Features(f) => {
                if let Some(b) = boxed[src_c] {
                    vec![(usize::MAX, b.right_center())]
                } else {
                    f.iter()
                        .zip(&rects[src_c])
                        .filter_map(|((_, a), r)| a.map(|i| (i, r.right_center())))
                        .collect()
                }
            }
            Column::Layer(_) => match boxed[src_c] {
                Some(b) => vec![(usize::MAX, b.right_center())],
                None => rects[src_c]
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r.right_center()))
                    .collect(),
            },
        };
        let dst: Vec<(usize, Pos2)> = match boxed[dst_c] {
            Some(b) => vec![(usize::MAX, b.left_center())],
            None => rects[dst_c]
                .iter()
                .enumerate()
                .map(|(j, r)| (j, r.left_center()))
                .collect(),
        };
        for &(i, a) in &src {
            for &(j, b) in &dst {
                if i == usize::MAX || j == usize::MAX {
                    painter
                        .line_segment([a, b], Stroke::new(1.0, Color32::GRAY.gamma_multiply(0.5)));
                    continue;
                }
                let index = layer.w + j * layer.fan_in + i;
                // Pruned edges are not drawn (their weight is 0 and stays 0).
                if net.mask.pruned.binary_search(&index).is_ok() {
                    continue;
                }
                let w = theta.map_or(0.0, |t| t[index]);
                let sel = EdgeSel {
                    layer: li,
                    from: i,
                    to: j,
                    index,
                };
                let mut stroke = edge_style(w, wmax);
                stroke.width *= zoom.sqrt();
                if !layer.trainable {
                    // A frozen layer's edges are greyed.
                    stroke.color = stroke.color.gamma_multiply(0.35);
                }
                if selected == Some(sel) {
                    stroke = Stroke::new(stroke.width + 2.0, text_color);
                }
                painter.line_segment([a, b], stroke);
                drawn_edges.push((sel, [a, b]));
                if let Some(p) = pointer {
                    let d = dist_to_segment(p, a, b);
                    if d < 5.0 && best_edge.is_none_or(|(bd, _)| d < bd) {
                        best_edge = Some((d, sel));
                    }
                }
            }
        }
    }
    // Nodes.
    let mut hovered = None;
    let mut toggle = None;
    let mut units_delta = None;
    let snap = ctx.lab.snapshot.as_deref();
    let curve_xs = match snap.map(|s| &s.output) {
        Some(OutputMap::Curve { xs, .. }) => Some(xs.as_slice()),
        _ => None,
    };
    let text_scale = zoom.clamp(0.5, 3.0);
    // Headers get the room between two columns (the tile's width for a lone column).
    let spacing = if ncols > 1 {
        (col_x(1) - col_x(0)) * zoom
    } else {
        rect.width()
    };
    let room = (spacing - HEADER_GAP).max(8.0);
    let (title_font, sub_font) = (
        egui::FontId::proportional(13.0 * text_scale),
        egui::FontId::proportional(11.0 * text_scale),
    );
    let width = |t: &str, f: &egui::FontId| {
        painter
            .layout_no_wrap(t.to_string(), f.clone(), text_color)
            .size()
            .x
    };
    let mut full_header = None;
    for (c, col) in cols.iter().enumerate() {
        let x = tf(pos2(col_x(c), 0.0)).x;
        // Column header: the longest form that fits, cut with … if even the shortest does not.
        let forms = header_forms(lang, &net, col);
        let fits = |(t, s): &(String, String)| {
            width(t, &title_font) <= room && width(s, &sub_font) <= room
        };
        let chosen = forms.iter().position(fits).unwrap_or(forms.len() - 1);
        let (title, sub) = &forms[chosen];
        let top = tf(pos2(col_x(c), rect.top() + 2.0)).y;
        let t = fitted_text(
            &painter,
            (x, top),
            title,
            title_font.clone(),
            room,
            text_color,
        );
        let top = tf(pos2(col_x(c), rect.top() + 18.0)).y;
        let color = text_color.gamma_multiply(0.7);
        let s = fitted_text(&painter, (x, top), sub, sub_font.clone(), room, color);
        let header = Rect::from_min_max(
            pos2(x - spacing / 2.0, t.top()),
            pos2(x + spacing / 2.0, s.bottom().max(t.bottom())),
        );
        if chosen > 0 && pointer.is_some_and(|p| header.contains(p)) {
            let (t, s) = &forms[0];
            full_header = Some(if s.is_empty() {
                t.clone()
            } else {
                format!("{t}\n{s}")
            });
        }
        // A click on a layer's header shows its last update under the diagram (issue 15 §4).
        if let Column::Layer(l) = col
            && resp.clicked()
            && pointer.is_some_and(|p| header.contains(p))
        {
            ctx.send(Command::SelectUpdateLayer(Some(*l)));
        }
        if let Column::Layer(l) = col
            && *l + 1 < net.layers.len()
        {
            // The buttons keep their size and follow the column; hidden when panned away.
            let y = tf(pos2(col_x(c), rect.bottom() - footer_h + 1.0)).y;
            // Narrower where the columns are close, so neighbours' buttons never touch; none
            // where they would be too small to hit (the side panel still edits the units).
            let w = ((spacing - HEADER_GAP) / 2.0 - 2.0).min(20.0);
            let minus = Rect::from_min_size(pos2(x - w - 2.0, y), vec2(w, 16.0));
            let plus = Rect::from_min_size(pos2(x + 2.0, y), vec2(w, 16.0));
            if w >= 12.0 && rect.contains_rect(minus.union(plus)) {
                let name = format!("{} {}", lang.t(S::Layer), l + 1);
                let r = ui.put(minus, egui::Button::new("−").small());
                r.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("{name} −"))
                });
                if r.clicked() {
                    units_delta = Some((*l, -1));
                }
                let r = ui.put(plus, egui::Button::new("+").small());
                r.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("{name} +"))
                });
                if r.clicked() {
                    units_delta = Some((*l, 1));
                }
            }
        }
        if let Some(b) = boxed[c] {
            painter.rect_filled(b, 4.0, ui.visuals().faint_bg_color);
            painter.rect_stroke(
                b,
                4.0,
                Stroke::new(1.0, text_color),
                egui::StrokeKind::Inside,
            );
            let n = match col {
                Column::Features(f) => f.len(),
                Column::Layer(l) => net.layers[*l].units,
            };
            // A strip of the first units' maps, then how many of how many it shows.
            let count = egui::FontId::proportional(10.0 * text_scale);
            let label_h = 14.0 * text_scale;
            let strip = Rect::from_min_max(
                b.min + vec2(3.0, 3.0),
                pos2(b.max.x - 3.0, b.max.y - label_h - 3.0),
            );
            let shown = n.min(MAX_DOTS);
            let cell_gap = 1.0;
            let cell = ((strip.height() - cell_gap * (shown as f32 - 1.0)) / shown as f32)
                .min(strip.width())
                .max(1.0);
            let top =
                strip.center().y - (cell * shown as f32 + cell_gap * (shown as f32 - 1.0)) / 2.0;
            if let Column::Layer(l) = col {
                for j in 0..shown {
                    let r = Rect::from_min_size(
                        pos2(
                            strip.center().x - cell / 2.0,
                            top + j as f32 * (cell + cell_gap),
                        ),
                        vec2(cell, cell),
                    );
                    let key = (l + 1, j);
                    draw_unit_map(maps, &painter, snap, curve_xs, key, r);
                    let hovered_here = pointer.is_some_and(|p| r.contains(p));
                    if hovered_here {
                        hovered = Some(key);
                        painter.rect_stroke(
                            r,
                            0.0,
                            Stroke::new(1.5, text_color),
                            egui::StrokeKind::Outside,
                        );
                    }
                    drawn_nodes.push(((c, j), r));
                }
            }
            // "16/32", or only "32" where the box is too narrow for it.
            let label_room = b.width() - 4.0;
            let long = format!("{shown}/{n}");
            let text = if width(&long, &count) <= label_room {
                long
            } else {
                n.to_string()
            };
            let label = fitted_text(
                &painter,
                (b.center().x, b.bottom() - label_h),
                &text,
                count,
                label_room,
                text_color,
            );
            if pointer.is_some_and(|p| label.contains(p) || strip.contains(p)) && hovered.is_none()
            {
                full_header = Some(
                    lang.t(S::StripHint)
                        .replace("{shown}", &shown.to_string())
                        .replace("{n}", &n.to_string()),
                );
            }
            continue;
        }
        for (j, r) in rects[c].iter().enumerate() {
            drawn_nodes.push(((c, j), *r));
            let (key, enabled, label) = match col {
                Column::Features(f) => {
                    let (name, a) = &f[j];
                    (a.map(|i| (0, i)), a.is_some(), Some(name.clone()))
                }
                Column::Layer(l) => (Some((l + 1, j)), true, None),
            };
            let bg = if dark {
                Color32::from_gray(45)
            } else {
                Color32::from_gray(230)
            };
            painter.rect_filled(*r, 3.0, bg);
            // The neuron's output map.
            if let Some(key) = key {
                draw_unit_map(maps, &painter, snap, curve_xs, key, *r);
            }
            if !enabled {
                painter.rect_filled(*r, 3.0, bg.gamma_multiply(0.85));
            }
            let hovered_here = pointer.is_some_and(|p| r.contains(p));
            let stroke = if hovered_here {
                Stroke::new(2.0, text_color)
            } else if enabled {
                Stroke::new(1.0, text_color.gamma_multiply(0.5))
            } else {
                Stroke::new(1.0, text_color.gamma_multiply(0.2))
            };
            painter.rect_stroke(*r, 3.0, stroke, egui::StrokeKind::Inside);
            if let Some(name) = label {
                painter.text(
                    pos2(r.left() - 6.0, r.center().y),
                    egui::Align2::RIGHT_CENTER,
                    feature_label(&name),
                    egui::FontId::proportional(12.0 * text_scale),
                    if enabled {
                        text_color
                    } else {
                        text_color.gamma_multiply(0.4)
                    },
                );
                if hovered_here && resp.clicked() {
                    toggle = Some(name.clone());
                }
            }
            if hovered_here {
                hovered = key;
            }
        }
    }
    if let Some(text) = full_header {
        resp.clone().on_hover_text_at_pointer(text);
    }
    // The neuron maps' grid as fine as the pixels of a node (the worker bounds it).
    let side = super::output::map_side_for(node * zoom, ui.ctx().pixels_per_point());
    if side > 0 && side != maps.maps.neurons {
        ctx.send(Command::SetNeuronMapSide(side));
    }
    this.hovered_neuron = hovered;
    this.diagram.nodes = drawn_nodes;
    this.diagram.edges = drawn_edges;
    if let Some(f) = toggle {
        edit_network(ctx, |n| toggle_feature(n, &f));
    } else if resp.clicked() && hovered.is_none() {
        ctx.send(Command::SelectEdge(best_edge.map(|(_, e)| e)));
    }
    if let Some((l, d)) = units_delta {
        edit_network(ctx, |n| change_units(n, l, d));
    }
    if best_edge.is_some() && hovered.is_none() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::PointingHand);
    }
}

/// The map of (column, unit) in `r`: its texture over the plane, or its curve (1-D inputs).
fn draw_unit_map(
    maps: &Textures,
    painter: &egui::Painter,
    snap: Option<&crate::runtime::worker::Snapshot>,
    curve_xs: Option<&[f64]>,
    (lc, idx): (usize, usize),
    r: Rect,
) {
    let tex = if lc == 0 {
        maps.features.get(idx)
    } else {
        maps.neurons.get(lc - 1).and_then(|v| v.get(idx))
    };
    if let (Some(t), None) = (tex, curve_xs) {
        painter.image(
            t.id(),
            r,
            Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
            Color32::WHITE,
        );
    } else if let (Some(xs), Some(s)) = (curve_xs, snap) {
        let vals = if lc == 0 {
            s.features.get(idx)
        } else {
            s.neurons.get(lc - 1).and_then(|v| v.get(idx))
        };
        if let Some(v) = vals {
            draw_curve(painter, r, xs, v);
        }
    }
}

fn draw_curve(painter: &egui::Painter, r: Rect, xs: &[f64], v: &[f32]) {
    let (lo, hi) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() || xs.len() < 2 {
        return;
    }
    let span = (hi - lo).max(1e-6);
    let x0 = xs[0];
    let xw = (xs[xs.len() - 1] - x0).max(1e-12);
    let pts: Vec<Pos2> = xs
        .iter()
        .zip(v)
        .map(|(x, y)| {
            pos2(
                r.left() + 2.0 + ((x - x0) / xw) as f32 * (r.width() - 4.0),
                r.bottom() - 2.0 - (y - lo) / span * (r.height() - 4.0),
            )
        })
        .collect();
    painter.add(egui::Shape::line(pts, Stroke::new(1.2, theme::POS)));
}

fn edge_editor(this: &mut DesignerView, ctx: &ViewCtx<'_>, ui: &mut egui::Ui) {
    let Some(e) = this.selected_edge else {
        return;
    };
    let lang = ctx.lang();
    let from = if e.layer == 0 {
        ctx.lab
            .net
            .as_ref()
            .and_then(|n| n.features.get(e.from))
            .map(|f| feature_label(&f.label()))
            .unwrap_or_default()
    } else {
        format!("{}{}·{}", lang.t(S::Layer), e.layer, e.from + 1)
    };
    let to = format!("{}{}·{}", lang.t(S::Layer), e.layer + 1, e.to + 1);
    let current = ctx
        .lab
        .snapshot
        .as_ref()
        .and_then(|s| s.theta.get(e.index))
        .copied()
        .filter(|v| v.is_finite())
        .map_or_else(|| "—".to_string(), |v| format!("{v:.5}"));
    ui.horizontal(|ui| {
        ui.label(format!("{} {from} → {to} = {current}", lang.t(S::Weight)));
        ui.add(egui::TextEdit::singleline(&mut this.edge_text).desired_width(80.0))
            .accessible_name(lang.t(S::Weight));
        if ui.button(lang.t(S::Apply)).clicked() {
            match this.edge_text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    ctx.send(Command::SetWeight {
                        index: e.index,
                        value: v,
                    });
                }
                _ => ctx.send(Command::ShowError(format!(
                    "{} “{}”: {}",
                    lang.t(S::Weight),
                    this.edge_text.trim(),
                    lang.t(S::MustBeFinite)
                ))),
            }
        }
        if ui.button(lang.t(S::Close)).clicked() {
            ctx.send(Command::SelectEdge(None));
        }
    });
}
