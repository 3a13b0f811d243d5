//! The central area: the workspace's tiles in their `egui_tiles` tree (or one of them enlarged),
//! each tab bar carrying its open tile's buttons (log scale, export, enlarge), and the Layout
//! menu (Reset layout, presets).
//!
//! Tab titles are never cut silently: a tab group whose full titles do not fit writes the short
//! titles, and only when even those do not fit are they shortened with "…"; the full title is
//! the tab's accessible name and shows on hover whenever it is not written out.

use std::collections::HashMap;

use eframe::egui;
use egui_tiles::{Behavior, Container, EditAction, TabState, TileId, Tiles, UiResponse};

use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::view::{View, ViewCtx, Views};
use crate::ui::workspace::layout::Preset;
use crate::ui::workspace::{Tile, Workspace};

/// Room around a tile's contents.
const MARGIN: f32 = 6.0;
/// Space left and right of a tab's title.
const TAB_PAD: f32 = 7.0;
const TAB_BAR_HEIGHT: f32 = 24.0;

/// How the titles of one tab group are written this frame.
#[derive(Clone, Copy, PartialEq)]
enum Titles {
    Full,
    Short,
    /// Short titles cut to this width (points).
    Cut(f32),
}

/// Draws the tree's panes and tab bars for one frame, collecting what the buttons asked for.
struct Panes<'a, 'c> {
    views: &'a mut Views,
    ctx: &'a ViewCtx<'c>,
    enlarge: Option<Tile>,
    export: Option<Tile>,
    edited: bool,
    /// Tiles whose tab title had to be cut this frame.
    cut: Vec<Tile>,
    /// How each tab's title is written this frame (chosen per tab group, once its buttons
    /// are placed and the room left for the tabs is known).
    titles: HashMap<TileId, Titles>,
}

impl Panes<'_, '_> {
    fn title(&self, tile: Tile, kind: Titles) -> &'static str {
        match kind {
            Titles::Full => self.ctx.t(tile.title()),
            Titles::Short | Titles::Cut(_) => self.ctx.t(tile.short_title()),
        }
    }

    /// The panes of a tile (itself, or every pane inside a container), in order.
    fn panes_of(tiles: &Tiles<Tile>, id: TileId, out: &mut Vec<Tile>) {
        match tiles.get(id) {
            Some(egui_tiles::Tile::Pane(t)) => out.push(*t),
            Some(egui_tiles::Tile::Container(c)) => {
                for child in c.children() {
                    Self::panes_of(tiles, *child, out);
                }
            }
            None => {}
        }
    }

    /// A tab's text: a pane's title, or the titles of the panes of a container joined.
    fn tab_text(&self, tiles: &Tiles<Tile>, id: TileId, kind: Titles) -> String {
        let mut panes = Vec::new();
        Self::panes_of(tiles, id, &mut panes);
        let kind = if panes.len() > 1 { Titles::Short } else { kind };
        let names: Vec<&str> = panes.iter().map(|t| self.title(*t, kind)).collect();
        names.join(" + ")
    }

    fn text_width(ui: &egui::Ui, text: &str) -> f32 {
        egui::WidgetText::from(text)
            .into_galley(
                ui,
                Some(egui::TextWrapMode::Extend),
                f32::INFINITY,
                egui::TextStyle::Button,
            )
            .size()
            .x
    }

    /// Full titles if they all fit the group's strip, else short ones, else short ones cut.
    fn fit_titles(&self, ui: &egui::Ui, tiles: &Tiles<Tile>, tabs: &[TileId], room: f32) -> Titles {
        let need = |kind: Titles| -> f32 {
            tabs.iter()
                .map(|c| Self::text_width(ui, &self.tab_text(tiles, *c, kind)) + 2.0 * TAB_PAD)
                .sum()
        };
        if need(Titles::Full) <= room {
            Titles::Full
        } else if need(Titles::Short) <= room {
            Titles::Short
        } else {
            let n = tabs.len().max(1) as f32;
            Titles::Cut((room / n - 2.0 * TAB_PAD).max(12.0))
        }
    }
}

impl Behavior<Tile> for Panes<'_, '_> {
    fn pane_ui(&mut self, ui: &mut egui::Ui, _id: TileId, tile: &mut Tile) -> UiResponse {
        tile_body(self.views, self.ctx, ui, *tile, false);
        UiResponse::None
    }

    fn tab_title_for_pane(&mut self, tile: &Tile) -> egui::WidgetText {
        self.ctx.t(tile.title()).into()
    }

    fn tab_title_for_tile(&mut self, tiles: &Tiles<Tile>, id: TileId) -> egui::WidgetText {
        self.tab_text(tiles, id, Titles::Full).into()
    }

    /// egui_tiles' tab, with the title chosen to fit and the full one on hover.
    fn tab_ui(
        &mut self,
        tiles: &mut Tiles<Tile>,
        ui: &mut egui::Ui,
        id: egui::Id,
        tile_id: TileId,
        state: &TabState,
    ) -> egui::Response {
        let kind = self.titles.get(&tile_id).copied().unwrap_or(Titles::Full);
        let full = self.tab_text(tiles, tile_id, Titles::Full);
        let text = self.tab_text(tiles, tile_id, kind);
        let (wrap, width) = match kind {
            Titles::Cut(w) => (egui::TextWrapMode::Truncate, w),
            _ => (egui::TextWrapMode::Extend, f32::INFINITY),
        };
        let galley = egui::WidgetText::from(text.as_str()).into_galley(
            ui,
            Some(wrap),
            width,
            egui::TextStyle::Button,
        );
        if galley.elided {
            Self::panes_of(tiles, tile_id, &mut self.cut);
        }
        let (_, rect) = ui.allocate_space(egui::vec2(
            galley.size().x + 2.0 * TAB_PAD,
            ui.available_height(),
        ));
        let response = ui
            .interact(rect, id, egui::Sense::click_and_drag())
            .on_hover_cursor(egui::CursorIcon::Grab);
        response.widget_info(|| {
            egui::WidgetInfo::selected(egui::Role::Tab, ui.is_enabled(), state.active, &full)
        });
        if ui.is_rect_visible(rect) && !state.is_being_dragged {
            let bg = self.tab_bg_color(ui.visuals(), tiles, tile_id, state);
            let stroke = self.tab_outline_stroke(ui.visuals(), tiles, tile_id, state);
            ui.painter()
                .rect(rect.shrink(0.5), 0.0, bg, stroke, egui::StrokeKind::Inside);
            if state.active {
                // The open tab joins the tile below it.
                ui.painter().hline(
                    rect.x_range(),
                    rect.bottom(),
                    egui::Stroke::new(stroke.width + 1.0, bg),
                );
            }
            let color = self.tab_text_color(ui.visuals(), tiles, tile_id, state);
            let pos = egui::Align2::LEFT_CENTER
                .align_size_within_rect(galley.size(), rect.shrink2(egui::vec2(TAB_PAD, 0.0)))
                .min;
            ui.painter().galley(pos, galley, color);
        }
        if text != full {
            response.on_hover_text(full)
        } else {
            response
        }
    }

    /// The open tile's buttons, right of its tabs.
    fn top_bar_right_ui(
        &mut self,
        tiles: &Tiles<Tile>,
        ui: &mut egui::Ui,
        _group: TileId,
        tabs: &egui_tiles::Tabs,
        _scroll: &mut f32,
    ) {
        if let Some(tile) = tabs.active.and_then(|a| tiles.get_pane(&a)).copied() {
            ui.add_space(2.0);
            tile_buttons(
                self.ctx,
                ui,
                tile,
                false,
                &mut self.enlarge,
                &mut self.export,
            );
        }
        let kind = self.fit_titles(ui, tiles, &tabs.children, ui.available_width() - 4.0);
        for c in &tabs.children {
            self.titles.insert(*c, kind);
        }
    }

    fn tab_bar_height(&self, _style: &egui::Style) -> f32 {
        TAB_BAR_HEIGHT
    }

    fn gap_width(&self, _style: &egui::Style) -> f32 {
        4.0
    }

    /// No tile is dragged or resized smaller than this.
    fn min_size(&self) -> f32 {
        60.0
    }

    fn simplification_options(&self) -> egui_tiles::SimplificationOptions {
        // Every tile has a tab: its title, and the handle to drag it by.
        egui_tiles::SimplificationOptions {
            all_panes_must_have_tabs: true,
            ..Default::default()
        }
    }

    fn on_edit(&mut self, _action: EditAction) {
        self.edited = true;
    }
}

/// Export and enlarge (or Back), right to left.
fn tile_buttons(
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    tile: Tile,
    enlarged: bool,
    enlarge: &mut Option<Tile>,
    export: &mut Option<Tile>,
) {
    // Named with the tile's title: every tab bar has these two buttons.
    let name = |r: egui::Response, what: S| {
        let label = format!("{}: {}", ctx.t(what), ctx.t(tile.title()));
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        r
    };
    if enlarged {
        if ui.small_button(ctx.t(S::Back)).clicked() {
            *enlarge = None;
        }
    } else if name(ui.small_button("[ ]"), S::Enlarge)
        .on_hover_text(ctx.t(S::Enlarge))
        .clicked()
    {
        *enlarge = Some(tile);
    }
    if name(ui.small_button("…"), S::ExportTitle)
        .on_hover_text(ctx.t(S::ExportHover))
        .clicked()
    {
        *export = Some(tile);
    }
}

/// One tile's contents in `ui`'s rectangle (less a margin). Its widgets keep their state
/// wherever the tile is moved: their ids hang off the tile, not off its place in the tree.
fn tile_body(views: &mut Views, ctx: &ViewCtx<'_>, ui: &mut egui::Ui, tile: Tile, enlarged: bool) {
    let rect = ui.max_rect();
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect.shrink(MARGIN))
            .scope_id(egui::Id::unique(("nnlab_tile", tile.key())))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    child.set_clip_rect(rect.intersect(ui.clip_rect()));
    let ui = &mut child;
    // The designer and the Geometry tile draw the output view's maps too.
    let maps = &views.output.textures;
    match tile {
        Tile::Network => {
            // The selected layer's last update as an outer product, under the diagram.
            let mut below = super::layer_update::split(ui, views.layer_update.layer.is_some());
            views.designer.tile_ui(ui, ctx, maps);
            let (lang, dark) = (ctx.lang(), ctx.dark());
            super::layer_update::ui(
                &mut views.layer_update,
                &mut below,
                lang,
                dark,
                ctx.lab.net(),
            );
        }
        Tile::Output => views.output.ui(ui, ctx),
        Tile::Confusion => views.confusion.ui(ui, ctx),
        Tile::Collapse => {
            let (lang, dark, net) = (ctx.lang(), ctx.dark(), ctx.lab.net());
            super::collapse::ui(&mut views.collapse, ui, lang, dark, net, ctx.lab.train());
        }
        Tile::Curvature => views.curvature.tile_ui(ui, ctx, enlarged),
        Tile::Landscape => views.landscape.tile_ui(ui, ctx, enlarged),
        Tile::Dynamics => views.dynamics.tile_ui(ui, ctx, enlarged),
        Tile::Geometry => {
            let decision = maps.decision.as_ref().map(|t| t.id());
            views
                .geometry
                .tile_ui(ui, ctx, decision, &mut views.region_sweep)
        }
        Tile::Spectral => views.spectral.ui(ui, ctx),
        Tile::DoubleDescent => views.double_descent.ui(ui, ctx),
        _ => views.plots.tile_ui(ui, ctx, tile),
    }
}

/// The enlarged tile: a title bar with its buttons and Back, the tile over the whole area.
fn enlarged_ui(
    views: &mut Views,
    ctx: &ViewCtx<'_>,
    ui: &mut egui::Ui,
    tile: Tile,
) -> (Option<Tile>, Option<Tile>) {
    let area = ui.available_rect_before_wrap();
    let (bar, body) = area.split_top_bottom_at_y(area.top() + TAB_BAR_HEIGHT);
    let mut enlarge = Some(tile);
    let mut export = None;
    ui.painter().rect_filled(bar, 0.0, bar_color(ui.visuals()));
    let mut bar_ui = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(bar.shrink2(egui::vec2(4.0, 0.0)))
            .layout(egui::Layout::right_to_left(egui::Align::Center)),
    );
    tile_buttons(ctx, &mut bar_ui, tile, true, &mut enlarge, &mut export);
    bar_ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
        let title = ctx.t(tile.title());
        ui.add(egui::Label::new(egui::RichText::new(title).strong()).truncate())
            .on_hover_text(title);
    });
    let mut body_ui = ui.new_child(egui::UiBuilder::new().max_rect(body));
    tile_body(views, ctx, &mut body_ui, tile, true);
    views.export.rects.push((tile, area));
    ui.allocate_rect(area, egui::Sense::hover());
    (enlarge, export)
}

/// The tab bars' colour (as egui_tiles paints them).
fn bar_color(visuals: &egui::Visuals) -> egui::Color32 {
    if visuals.dark_mode {
        visuals.extreme_bg_color
    } else {
        (egui::Rgba::from(visuals.panel_fill) * egui::Rgba::from_gray(0.8)).into()
    }
}

/// The central area for one frame: the workspace's tree (or its enlarged tile) drawing the
/// views' tiles. What its buttons ask (enlarge, export) goes out as commands.
pub(crate) fn central_ui(
    workspace: &mut Workspace,
    views: &mut Views,
    ui: &mut egui::Ui,
    ctx: &ViewCtx<'_>,
) {
    views.export.rects.clear();
    let (enlarge, export) = if let Some(tile) = workspace.enlarged {
        workspace.cut_titles.clear();
        enlarged_ui(views, ctx, ui, tile)
    } else {
        let tree = &mut workspace.tree;
        let mut panes = Panes {
            views,
            ctx,
            enlarge: None,
            export: None,
            edited: false,
            cut: Vec::new(),
            titles: HashMap::new(),
        };
        tree.ui(&mut panes, ui);
        let Panes {
            views,
            enlarge,
            export,
            edited,
            cut,
            ..
        } = panes;
        workspace.cut_titles = cut;
        // Each shown tile's rectangle with its tab bar: what its PNG export shows.
        let tree = &workspace.tree;
        for id in tree.active_tiles() {
            if let Some(tile) = tree.tiles.get_pane(&id).copied() {
                let group = tree
                    .tiles
                    .parent_of(id)
                    .filter(|g| matches!(tree.tiles.get_container(*g), Some(Container::Tabs(_))));
                if let Some(rect) = group.or(Some(id)).and_then(|g| tree.tiles.rect(g)) {
                    views.export.rects.push((tile, rect));
                }
            }
        }
        if edited {
            workspace.changed();
        }
        (enlarge, export)
    };
    if enlarge != workspace.enlarged {
        ctx.send(Command::Enlarge(enlarge));
    }
    if let Some(tile) = export {
        ctx.send(Command::Export(tile));
    }
}

/// The Layout menu of the top bar: Reset layout, the presets, how to arrange by hand.
pub fn menu(ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
    ui.menu_button(ctx.t(S::LayoutMenu), |ui| {
        if ui.button(ctx.t(S::ResetLayout)).clicked() {
            ctx.send(Command::Preset(Preset::Train));
            ui.close();
        }
        ui.separator();
        ui.label(egui::RichText::new(ctx.t(S::LayoutPresets)).weak());
        for p in Preset::ALL.into_iter().filter(|p| *p != Preset::Train) {
            if ui.button(ctx.t(p.name())).clicked() {
                ctx.send(Command::Preset(p));
                ui.close();
            }
        }
        ui.separator();
        ui.set_max_width(280.0);
        ui.label(egui::RichText::new(ctx.t(S::LayoutHint)).small().weak());
    });
}
