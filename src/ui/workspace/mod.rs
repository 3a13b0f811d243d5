//! The workspace: the central area's tiles as an `egui_tiles` tree (drag a tab to move, split or
//! group a tile; drag a gap to resize), one tile enlarged over the others, layout presets, and
//! the remembered layout, theme, language and window size (`store`). How each tile is drawn is
//! `ui::panels::workspace`.

pub mod layout;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use serde::{Deserialize, Serialize};

use crate::ui::i18n::{Lang, S};
use layout::{Node, Preset};

/// The views of the central area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tile {
    /// The network diagram and its designer (edit layers and weights).
    Network,
    /// The decision map (classification) or the fitted curve (regression), with the data.
    Output,
    /// The training and test loss against step.
    Loss,
    /// Training and test accuracy against step (R² for regression).
    Accuracy,
    /// The gradient norm of each layer against step.
    Gradient,
    /// The relative update ‖ΔW‖/‖W‖ of each layer against step.
    Update,
    /// The fraction of saturated (sigmoid, tanh) or dead (ReLU) units of each layer against step.
    Saturation,
    /// The histogram of each layer's weights.
    Histogram,
    /// The Hessian (or Gauss–Newton) spectrum and λ_max, λ_min, κ against step.
    Curvature,
    /// The loss landscape: slices around θ, the line θ₀→θ, the 1-1-1 surface, the optimiser race.
    Landscape,
    /// Training as a dynamical system: Lyapunov, gradient flow, energy, signal propagation, Newton.
    Dynamics,
    /// The function's geometry: linear regions or the layer Jacobians' singular values.
    Geometry,
    /// Spectral bias (issue 15).
    Spectral,
    /// Double descent (issue 16).
    DoubleDescent,
    /// Confusion matrices (issue 14 §4).
    Confusion,
    /// Neural collapse (issue 16 §4).
    Collapse,
}

impl Tile {
    /// Every tile; a layout holds each exactly once.
    pub const ALL: [Tile; 16] = [
        Tile::Network,
        Tile::Output,
        Tile::Loss,
        Tile::Accuracy,
        Tile::Gradient,
        Tile::Update,
        Tile::Saturation,
        Tile::Histogram,
        Tile::Curvature,
        Tile::Landscape,
        Tile::Dynamics,
        Tile::Geometry,
        Tile::Spectral,
        Tile::DoubleDescent,
        Tile::Confusion,
        Tile::Collapse,
    ];

    /// The tile's full title: its tab when there is room, the tab's tooltip, the enlarged
    /// tile's header.
    pub fn title(self) -> S {
        match self {
            Tile::Network => S::Network,
            Tile::Output => S::Output,
            Tile::Loss => S::LossPlot,
            Tile::Accuracy => S::AccuracyPlot,
            Tile::Gradient => S::GradPlot,
            Tile::Update => S::UpdatePlot,
            Tile::Saturation => S::SatPlot,
            Tile::Histogram => S::HistPlot,
            Tile::Curvature => S::CurvaturePlot,
            Tile::Landscape => S::LandscapePlot,
            Tile::Dynamics => S::DynamicsPlot,
            Tile::Geometry => S::GeometryPlot,
            Tile::Spectral => S::SpectralPlot,
            Tile::DoubleDescent => S::DoubleDescentPlot,
            Tile::Confusion => S::ConfusionPlot,
            Tile::Collapse => S::CollapsePlot,
        }
    }

    /// The title in a word or two, for a tab with little room (the full title shows on hover).
    pub(crate) fn short_title(self) -> S {
        match self {
            Tile::Accuracy => S::AccuracyTab,
            Tile::Gradient => S::GradTab,
            Tile::Update => S::UpdateTab,
            Tile::Saturation => S::SatTab,
            Tile::Histogram => S::HistTab,
            Tile::Curvature => S::CurvatureTab,
            Tile::Landscape => S::LandscapeTab,
            Tile::Dynamics => S::DynamicsTab,
            Tile::Geometry => S::GeometryTab,
            Tile::Spectral => S::SpectralTab,
            Tile::DoubleDescent => S::DdTab,
            Tile::Confusion => S::ConfusionTab,
            Tile::Collapse => S::CollapseTab,
            other => other.title(),
        }
    }

    /// The name in the layout file.
    pub fn key(self) -> &'static str {
        match self {
            Tile::Network => "network",
            Tile::Output => "output",
            Tile::Loss => "loss",
            Tile::Accuracy => "accuracy",
            Tile::Gradient => "gradient",
            Tile::Update => "update",
            Tile::Saturation => "saturation",
            Tile::Histogram => "histogram",
            Tile::Curvature => "curvature",
            Tile::Landscape => "landscape",
            Tile::Dynamics => "dynamics",
            Tile::Geometry => "geometry",
            Tile::Spectral => "spectral",
            Tile::DoubleDescent => "double_descent",
            Tile::Confusion => "confusion",
            Tile::Collapse => "collapse",
        }
    }
}

impl Preset {
    /// The preset's name in the Layout menu (Train's is "Reset layout").
    pub fn name(self) -> S {
        match self {
            Preset::Train => S::ResetLayout,
            Preset::Lesson => S::PresetLesson,
            Preset::Curvature => S::CurvatureTab,
            Preset::Landscape => S::LandscapeTab,
            Preset::Dynamics => S::DynamicsTab,
            Preset::Geometry => S::GeometryTab,
        }
    }
}

/// After the last change, wait this long before writing (a drag or a window resize changes
/// something every frame).
const SAVE_AFTER: Duration = Duration::from_millis(800);

/// The tile tree, the enlarged tile and what is remembered between runs.
pub struct Workspace {
    /// The tiles' arrangement, as egui_tiles draws and edits it.
    pub tree: egui_tiles::Tree<Tile>,
    /// A tile drawn over the whole area (the tree is not drawn meanwhile).
    pub enlarged: Option<Tile>,
    /// Tiles whose tab title did not fit even in its short form in the last frame (written
    /// with "…", whole on hover).
    pub cut_titles: Vec<Tile>,
    writer: store::Writer,
    /// The state as last handed to the writer (or read at start).
    saved: String,
    /// When something remembered changed and has not been written yet.
    changed_at: Option<Instant>,
    dark: bool,
    lang: Lang,
    window: Option<[f32; 2]>,
}

impl Workspace {
    /// The workspace of `prefs`, written back into `dir` when it changes (None: never).
    pub fn new(
        prefs: &store::Prefs,
        dir: Option<PathBuf>,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Workspace {
        let tree = layout::build(&prefs.layout).unwrap_or_else(|_| layout::default_tree());
        Workspace {
            tree,
            enlarged: None,
            cut_titles: Vec::new(),
            writer: store::Writer::spawn(dir, repaint),
            saved: prefs.to_json(),
            changed_at: None,
            dark: prefs.dark,
            lang: prefs.lang,
            window: prefs.window,
        }
    }

    /// The layout now.
    pub fn layout(&self) -> Node {
        layout::describe(&self.tree).unwrap_or_else(layout::default_node)
    }

    /// Replace the layout with a preset (Reset layout is `Preset::Train`).
    pub fn apply(&mut self, preset: Preset) {
        self.tree = layout::build(&preset.node()).unwrap_or_else(|_| layout::default_tree());
        self.enlarged = None;
        self.changed();
    }

    /// The tiles drawn in the next frame.
    pub fn shown(&self) -> Vec<Tile> {
        match self.enlarged {
            Some(t) => vec![t],
            None => layout::shown(&self.tree),
        }
    }

    /// The layout was edited (dragged, resized, a tab picked).
    pub fn changed(&mut self) {
        self.changed_at = Some(Instant::now());
    }

    fn prefs(&self) -> store::Prefs {
        store::Prefs {
            dark: self.dark,
            lang: self.lang,
            window: self.window,
            layout: self.layout(),
        }
    }

    /// Once a frame: note the theme, language and window size, and write the state once it
    /// has stopped changing. Returns the first write failure of the run.
    pub(crate) fn remember(
        &mut self,
        ctx: &egui::Context,
        dark: bool,
        lang: Lang,
    ) -> Option<String> {
        let window = ctx
            .input(|i| i.viewport().inner_rect)
            .map(|r| [r.width().round(), r.height().round()]);
        if dark != self.dark || lang != self.lang || (window.is_some() && window != self.window) {
            self.dark = dark;
            self.lang = lang;
            self.window = window.or(self.window);
            self.changed();
        }
        match self.changed_at.map(|t| t.elapsed()) {
            Some(waited) if waited >= SAVE_AFTER => self.flush(),
            // An idle app draws no frames: ask for the one that writes.
            Some(waited) => ctx.request_repaint_after(SAVE_AFTER - waited),
            None => {}
        }
        self.writer.failure()
    }

    /// Hand the state to the writer if it differs from what was written.
    pub fn flush(&mut self) {
        self.changed_at = None;
        let text = self.prefs().to_json();
        if text != self.saved {
            self.writer.write(text.clone());
            self.saved = text;
        }
    }
}

impl Drop for Workspace {
    /// The last change is written before the app closes (the writer's drop waits for it).
    fn drop(&mut self) {
        if self.changed_at.is_some() {
            self.flush();
        }
    }
}
