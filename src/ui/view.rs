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
    /// Language and theme.
    pub settings: &'a Settings,
    /// The lab's model state: session as edited and applied, status, history, snapshot, datasets.
    pub lab: &'a Lab,
    /// The session's file, the file dialogs and the background file tasks.
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
    /// Bundle what a view reads; the app builds one per frame with `view_ctx!`.
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

    /// Ask the app for several changes, applied in this order after the frame.
    pub fn send_all(&self, cs: impl IntoIterator<Item = Command>) {
        self.commands.extend(cs);
    }

    /// The language of the UI strings.
    pub fn lang(&self) -> Lang {
        self.settings.lang()
    }

    /// True when the dark theme is on (plots and maps pick their colours by it).
    pub fn dark(&self) -> bool {
        self.settings.dark()
    }

    /// The string `s` in the current language.
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
    /// Draw the view into `ui`; changes to the lab go out through `ctx.send`.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>);
}

/// Every view's own state, one field per panel or tile.
pub struct Views {
    /// The loss/accuracy curves and their tile options.
    pub plots: super::panels::plots::PlotsView,
    /// The output view: the decision map or regression curve, and the neuron maps.
    pub output: super::panels::output::OutputView,
    /// Confusion matrices (issue 14 §4).
    pub confusion: super::panels::confusion::ConfusionView,
    /// The network designer: the diagram, its hovered unit and the selected edge's editor.
    pub designer: super::panels::designer::DesignerView,
    /// The Training panel's state: the learning rate as typed and why it was refused.
    pub training: super::panels::training::TrainingView,
    /// The Data panel's state: the CSV path and formula as typed, their errors, the thumbnails.
    pub data: super::panels::data::DataView,
    /// The Curvature tile: Hessian or Gauss–Newton spectrum, its job thread and interval.
    pub curvature: super::curvature::Curvature,
    /// The Landscape tile: the loss surface around θ and its settings.
    pub landscape: super::landscape::Landscape,
    /// The Dynamics tile: training as a dynamical system (Lyapunov, gradient flow, energy, signal
    /// propagation, Newton) and its helper thread.
    pub dynamics: super::dynamics::Dynamics,
    /// The Geometry tile: linear regions or the Jacobian's spectrum.
    pub geometry: super::geometry::Geometry,
    /// Spectral bias (issue 15).
    pub spectral: super::spectral::SpectralBias,
    /// Double descent (issue 16).
    pub double_descent: super::regimes::DoubleDescent,
    /// The Compare window: the other session or variant and its background run.
    pub compare: super::panels::compare::Compare,
    /// The timeline: the recorded steps, the step shown and forking from it.
    pub timeline: super::panels::timeline::Timeline,
    /// The Export window: the tile being exported, the path as typed and why writing failed.
    pub export: super::panels::export::Export,
    /// Session → Export model… (PyTorch or ONNX).
    pub model_export: super::panels::model_export::ModelExport,
    /// The Lessons panel: the lesson list, the open lesson and its checks.
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
