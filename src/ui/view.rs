//! How views are drawn: each panel and tile is a struct that owns its UI-only state and draws
//! from a read-only [`ViewCtx`] (settings, the lab's model state and a command sender), as in
//! egui's demo library (`trait View`) and rerun's viewer (`ViewerContext` and its command
//! sender). What a view wants changed in the lab goes out as a [`Command`], applied after the
//! frame in one place (the app's `apply`).

use eframe::egui;

use super::command::{Command, Commands};
use super::files::Files;
use super::i18n::{Lang, S};
use super::lab::Lab;
use super::settings::Settings;

/// What every view may read while it draws, and where it sends its commands.
pub struct ViewCtx<'a> {
    pub settings: &'a Settings,
    pub lab: &'a Lab,
    pub files: &'a Files,
    /// The step the timeline shows (None: the live run).
    pub replayed_step: Option<u64>,
    /// The unit the pointer is on in the network diagram, (column, unit) with column 0 the
    /// input features: the output map shows that unit's map instead.
    pub hovered_neuron: Option<(usize, usize)>,
    /// Frames per second of the UI (the top bar shows it on hover).
    pub fps: f64,
    /// The Compare window is open (its button in the top bar shows it).
    pub compare_open: bool,
    commands: &'a Commands,
}

impl<'a> ViewCtx<'a> {
    // One argument per part of the app a view reads (built by `view_ctx!`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: &'a Settings,
        lab: &'a Lab,
        files: &'a Files,
        replayed_step: Option<u64>,
        hovered_neuron: Option<(usize, usize)>,
        fps: f64,
        compare_open: bool,
        commands: &'a Commands,
    ) -> Self {
        ViewCtx {
            settings,
            lab,
            files,
            replayed_step,
            hovered_neuron,
            fps,
            compare_open,
            commands,
        }
    }

    /// Ask the app for a change; applied after this frame is drawn.
    pub fn send(&self, c: Command) {
        self.commands.send(c);
    }

    pub fn send_all(&self, cs: impl IntoIterator<Item = Command>) {
        self.commands.extend(cs);
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang()
    }

    pub fn dark(&self) -> bool {
        self.settings.dark()
    }

    pub fn t(&self, s: S) -> &'static str {
        self.settings.t(s)
    }
}

/// The context of one view, borrowing the app's fields other than `views`, so the view itself
/// (a field of `views`) can be borrowed mutably beside it: `let c = view_ctx!(app);
/// app.views.plots.tile_ui(ui, &c, tile)`.
macro_rules! view_ctx {
    ($app:expr) => {
        $crate::ui::view::ViewCtx::new(
            &$app.settings,
            &$app.lab,
            &$app.files,
            $app.views.timeline.step,
            $app.views.designer.hovered_neuron,
            $app.clock.fps(),
            $app.views.compare.open,
            &$app.commands,
        )
    };
}
pub(crate) use view_ctx;

/// A panel or tile: its own state, drawn from the context.
pub trait View {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>);
}

/// Every view's own state, one field per panel or tile.
pub struct Views {
    pub plots: super::panels::plots::PlotsView,
    pub output: super::panels::output::OutputView,
    /// Confusion matrices (issue 14 §4).
    pub confusion: super::panels::confusion::ConfusionView,
    pub designer: super::panels::designer::DesignerView,
    pub training: super::panels::training::TrainingView,
    pub data: super::panels::data::DataView,
    pub curvature: super::curvature::Curvature,
    pub landscape: super::landscape::Landscape,
    pub dynamics: super::dynamics::Dynamics,
    pub geometry: super::geometry::Geometry,
    /// Spectral bias (issue 15).
    pub spectral: super::spectral::SpectralBias,
    /// Double descent (issue 16).
    pub double_descent: super::regimes::DoubleDescent,
    pub compare: super::panels::compare::Compare,
    pub timeline: super::panels::timeline::Timeline,
    pub export: super::panels::export::Export,
    /// Session → Export model… (PyTorch or ONNX).
    pub model_export: super::panels::model_export::ModelExport,
    pub lessons: super::panels::lessons::LessonsPanel,
    /// The update as an outer product, under the network diagram (issue 15 §4).
    pub layer_update: super::layer_update::LayerUpdate,
    /// The Geometry tile's depth/width sweep of linear regions (issue 15 §1).
    pub region_sweep: super::panels::region_sweep::RegionSweep,
    /// Neural collapse (issue 16 §4).
    pub collapse: super::collapse::NeuralCollapse,
}

impl Views {
    pub(crate) fn new(lr: f64, repaint: std::sync::Arc<dyn Fn() + Send + Sync>) -> Views {
        Views {
            plots: Default::default(),
            output: Default::default(),
            confusion: super::panels::confusion::ConfusionView::new(repaint.clone()),
            designer: Default::default(),
            training: super::panels::training::TrainingView::new(lr),
            data: Default::default(),
            curvature: super::curvature::Curvature::new(repaint.clone()),
            landscape: super::landscape::Landscape::new(repaint.clone()),
            dynamics: super::dynamics::Dynamics::new(repaint.clone()),
            geometry: super::geometry::Geometry::new(repaint.clone()),
            spectral: super::spectral::SpectralBias::new(repaint.clone()),
            double_descent: super::regimes::DoubleDescent::new(repaint.clone()),
            compare: super::panels::compare::Compare::new(repaint.clone()),
            timeline: super::panels::timeline::Timeline::new(repaint.clone()),
            export: Default::default(),
            model_export: Default::default(),
            lessons: Default::default(),
            layer_update: super::layer_update::LayerUpdate::new(repaint.clone()),
            region_sweep: super::panels::region_sweep::RegionSweep::new(repaint.clone()),
            collapse: super::collapse::NeuralCollapse::new(repaint),
        }
    }
}
