//! The commands views send instead of changing the lab themselves, and the queue that collects
//! them during a frame (rerun's command sender; egui's demos keep their state, the app keeps
//! the composition).

use std::cell::RefCell;
use std::path::PathBuf;

use crate::optim::spec::OptimizerSpec;
use crate::runtime::worker::Speed;
use crate::session::Session;
use crate::ui::i18n::Lang;
use crate::ui::workspace::Tile;
use crate::ui::workspace::layout::Preset;

/// Something a view asks of the lab: views send these during the frame (through
/// [`crate::ui::view::ViewCtx::send`]) and the app applies them after drawing, in one place
/// (the app's `apply`). The tests drive the app through the same commands.
#[derive(Debug)]
pub enum Command {
    /// Start training (following the live run again if the timeline showed the past; after a
    /// divergence or a panic the run first restarts from step 0).
    Play,
    /// Stop training; the state is kept.
    Pause,
    /// Train exactly this many steps, then pause.
    Step(u64),
    /// Back to step 0 with the same seed: fresh weights, history cleared, divergence and panic
    /// notices gone.
    Reset,
    /// The session's architecture, data or rule changed: check it and rebuild.
    Rebuild,
    /// Data changed: drop loaded rows unless the source is CSV/inline, then rebuild.
    DataChanged,
    /// Optimiser settings changed live.
    LiveOptimizer,
    /// L1/L2 regularization was edited: validate it and apply it to the running training (an
    /// invalid value is refused and the applied one restored).
    LiveRegularization,
    /// The stop rule was edited.
    StopRule,
    /// Set one parameter of the live network (the designer's edge editor).
    SetWeight {
        /// Index of the parameter in the flat parameter vector θ.
        index: usize,
        /// The new value of that parameter.
        value: f64,
    },
    /// How fast the training thread runs: as fast as it can, or at most so many steps per second.
    SetSpeed(Speed),
    /// The divergence banner's "lower the learning rate": divide it by 10 and restart from step 0.
    LowerLr,
    /// Session → New: the default session, unsaved, rebuilt from step 0.
    New,
    /// Open this session file (replaces the lab's session; refused with a banner if unreadable).
    OpenPath(PathBuf),
    /// Save the session to this path (it becomes the session's file).
    SaveTo(PathBuf),
    /// Save to the session's file, or show Save as… if it has none yet.
    Save,
    /// The system's file picker to choose a session to open.
    BrowseOpen,
    /// The system's file picker to choose where to save the session.
    BrowseSave,
    /// The system's file picker to choose a CSV data file.
    BrowseCsv,
    /// Load this CSV file as the training data, then rebuild.
    LoadCsv(PathBuf),
    /// The Curvature panel turned on or off.
    CurvatureOn(bool),
    /// Its interval changed (steps between analyses).
    CurvatureEvery(u64),
    /// Hessian (false) or Gauss–Newton (true).
    CurvatureMatrix(bool),
    /// Run the curvature analysis now, at the current step.
    AnalyseNow,
    /// Bytes the recording's checkpoints may take.
    SetCheckpointBudget(u64),
    // sessions (timeline, compare, export, recovery)
    /// Open the Export window of a tile.
    Export(Tile),
    /// The system's file picker to choose a session to compare with.
    CompareBrowse,
    /// Load this session file as the other side of the comparison.
    CompareFile(PathBuf),
    /// Compare with a variant of the current session (the Compare window's edited copy), trained in
    /// the background.
    CompareVariant,
    /// Restore the recovery file found at start (true) or delete it (false).
    Recover(bool),
    /// The close confirmation: save first, discard and close, or stay.
    CloseSave,
    /// Close without saving (and delete the autosave).
    CloseDiscard,
    /// Keep the window open: the close confirmation goes away.
    CloseCancel,
    /// The timeline moved to a step.
    Seek(u64),
    /// Leave the recorded past the timeline shows and follow the live run again.
    BackToLive,
    /// Continue from the step the timeline shows, as a new session.
    Fork,
    /// The Landscape panel asks for a new picture.
    LandscapeCompute,
    /// The Dynamics panel runs its analysis.
    DynamicsRun,
    /// The session as a panel edited it (its widgets edit a copy); sent before the command
    /// that applies the change (Rebuild, LiveOptimizer, …).
    EditSession(Box<Session>),
    /// A passing notice (done, saved, exported …).
    Notify(String),
    /// Show an error in the banner.
    ShowError(String),
    /// Close the error banner.
    DismissError,
    /// Show the Open window (examples, recent files, a typed path).
    ShowOpen,
    /// Show the Save-as window.
    ShowSaveAs,
    /// Close the Open window without opening anything.
    CloseOpenWindow,
    /// Close the Save-as window without saving.
    CloseSaveWindow,
    /// The path typed in the Open or Save-as window.
    SetDialogPath(String),
    /// Make this the edited optimiser and apply it live (or rebuild if its rule changed).
    SetOptimizer(Box<OptimizerSpec>),
    // settings and workspace
    /// Language of every UI string (English or 中文).
    SetLang(Lang),
    /// Dark (true) or light theme.
    SetDark(bool),
    /// Draw one tile over the whole central area (None: the workspace again).
    Enlarge(Option<Tile>),
    /// Arrange the workspace as a preset (Reset layout is the Train preset).
    Preset(Preset),
    // views that own their state (issue 12 item 3): what one view asks of another, or of the lab
    /// The Landscape tile's controls were edited.
    SetLandscapeSettings(Box<crate::ui::landscape::Settings>),
    /// The Dynamics tile's controls were edited.
    SetDynamicsSettings(Box<crate::ui::dynamics::Settings>),
    /// The Geometry tile's analysis: linear regions or the Jacobian's spectrum.
    SetGeometryMode(crate::ui::geometry::Mode),
    /// The side (pixels) of the neuron maps the network diagram draws.
    SetNeuronMapSide(usize),
    /// The edge whose weight the designer's editor shows (None: close it).
    SelectEdge(Option<crate::ui::panels::designer::EdgeSel>),
    /// Open lesson `i` of the Lessons list.
    SelectLesson(usize),
    /// Session → Export model…
    ShowModelExport,
    /// Open (true) or close the Compare window.
    ShowCompare(bool),
    /// The Export window's Browse…, starting from this path.
    BrowseExport(String),
    /// Write the tile's data as CSV.
    ExportCsv {
        /// The tile whose data is written.
        tile: Tile,
        /// The CSV file to write.
        path: PathBuf,
    },
    /// The Geometry tile's depth/width sweep: training steps and seeds of each architecture.
    SetRegionSweep {
        /// Training steps of each run.
        steps: u64,
        /// Seeds per architecture.
        inits: usize,
    },
    /// Show this layer's last update in the Network tile (None: fold the panel).
    SelectUpdateLayer(Option<usize>),
    /// Drawing the data on the decision map (an edit, undo or redo).
    Draw(crate::ui::draw::DrawCommand),
}

/// The frame's commands, in the order they were sent. Shared read-only with every view (a
/// `RefCell` so a `&ViewCtx` can send), drained once after the frame.
#[derive(Default)]
pub struct Commands(RefCell<Vec<Command>>);

impl Commands {
    /// Queue one command; it is applied after this frame's drawing.
    pub fn send(&self, c: Command) {
        self.0.borrow_mut().push(c);
    }

    /// Queue several commands, in order.
    pub fn extend(&self, cs: impl IntoIterator<Item = Command>) {
        self.0.borrow_mut().extend(cs);
    }

    /// Everything sent so far, leaving the queue empty.
    pub fn take(&self) -> Vec<Command> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}
