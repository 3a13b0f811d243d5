//! The app struct: state fed by the worker's events (`logic`), panels laid out in `ui`, and the
//! actions the panels collect during a frame applied after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use crate::data::Dataset;
use crate::net::network::Network;
use crate::optim::spec::TrainingRule;
use crate::runtime::JobThread;
use crate::runtime::job::Task;
use crate::runtime::worker::{Command, Event, LiveEdit, Snapshot, Speed, Status, Worker};
use crate::session::{self, Session};

use super::curvature::Curvature;
use super::dynamics::Dynamics;
use super::history::History;
use super::i18n::{Lang, S};
use super::landscape::Landscape;
use super::model;
use super::panels;
use super::panels::output::Textures;
use super::panels::plots::Tile;
use super::{fonts, recovery, theme};

/// Something a panel asked for during the frame; applied after drawing.
#[derive(Debug)]
pub enum Action {
    Play,
    Pause,
    Step(u64),
    Reset,
    /// The session's architecture, data or rule changed: check it and rebuild.
    Rebuild,
    /// Data changed: drop loaded rows unless the source is CSV/inline, then rebuild.
    DataChanged,
    /// Optimiser settings changed live.
    LiveOptimizer,
    LiveRegularization,
    /// The stop rule was edited.
    StopRule,
    SetWeight {
        index: usize,
        value: f64,
    },
    SetSpeed(Speed),
    LowerLr,
    New,
    OpenPath(PathBuf),
    SaveTo(PathBuf),
    Save,
    BrowseOpen,
    BrowseSave,
    BrowseCsv,
    LoadCsv(PathBuf),
    /// The Curvature panel turned on or off.
    CurvatureOn(bool),
    /// Its interval changed.
    CurvatureEvery,
    /// Hessian (false) or Gauss–Newton (true).
    CurvatureMatrix(bool),
    AnalyseNow,
    /// Bytes the recording's checkpoints may take.
    SetCheckpointBudget(u64),
    // sessions (timeline, compare, export, recovery)
    /// Open the Export window of a tile.
    Export(Tile),
    CompareBrowse,
    CompareFile(PathBuf),
    CompareVariant,
    /// Restore the recovery file found at start (true) or delete it (false).
    Recover(bool),
    /// The close confirmation: save first, discard and close, or stay.
    CloseSave,
    CloseDiscard,
    CloseCancel,
    /// The timeline moved to a step.
    Seek(u64),
    BackToLive,
    /// Continue from the step the timeline shows, as a new session.
    Fork,
    /// The Landscape panel asks for a new picture.
    LandscapeCompute,
    /// The Dynamics panel runs its analysis.
    DynamicsRun,
}

/// Results of work done on helper threads (file dialogs, reading, writing).
pub enum Job {
    Opened(PathBuf, Box<session::Loaded>),
    OpenFailed(String),
    Saved(PathBuf),
    SaveFailed(String),
    PickedOpen(Option<PathBuf>),
    PickedSave(Option<PathBuf>),
    PickedCsv(Option<PathBuf>),
    Csv(PathBuf, Box<(Dataset, Dataset)>),
    CsvFailed(String),
    // sessions (timeline, compare, export, recovery)
    Exported(PathBuf),
    ExportFailed(String),
    PickedExport(Option<PathBuf>),
    PickedCompare(Option<PathBuf>),
    CompareLoaded(PathBuf, Box<session::Loaded>),
    /// The recent-files list read at start.
    Recent(Vec<PathBuf>),
    /// A recovery file from an earlier run that did not exit cleanly.
    /// Recovery files of earlier runs that did not exit cleanly, newest first.
    RecoveryFound(Vec<(PathBuf, Box<session::Loaded>)>),
    /// A recovery file that could not be read (it is kept).
    RecoveryUnreadable(String),
    AutosaveFailed(String),
    /// A file or dialog task panicked (a bug): its message.
    TaskFailed(String),
}

pub struct Dialogs {
    pub open: bool,
    pub save: bool,
    pub path: String,
    pub error: Option<String>,
    pub examples: Vec<PathBuf>,
}

pub struct NnlabApp {
    pub lang: Lang,
    pub dark: bool,
    /// The experiment as edited.
    pub session: Session,
    /// The last experiment the worker accepted.
    pub applied: Session,
    /// Rows read from a file (CSV or a session), used instead of generating.
    pub dataset: Option<Arc<(Dataset, Dataset)>>,
    pub net: Option<Network>,
    pub worker: Worker,
    pub status: Status,
    pub history: History,
    pub snapshot: Option<Box<Snapshot>>,
    pub train: Arc<Dataset>,
    pub test: Arc<Dataset>,
    pub n_params: usize,
    pub edits: Vec<LiveEdit>,
    pub diverged: Option<(u64, f64)>,
    pub panicked: Option<String>,
    pub error: Option<String>,
    pub notice: Option<(String, Instant)>,
    pub actions: Vec<Action>,
    pub speed: Speed,
    pub textures: Textures,
    /// The central area's tiles, their layout, and what is remembered between runs.
    pub workspace: super::workspace::Workspace,
    pub log_loss: bool,
    pub log_grad: bool,
    pub discretize: bool,
    pub hyperplanes: bool,
    pub show_test: bool,
    pub hovered_neuron: Option<(usize, usize)>,
    pub selected_edge: Option<panels::designer::EdgeSel>,
    pub edge_text: String,
    pub lr_text: String,
    pub lr_error: Option<String>,
    pub csv_path: String,
    pub csv_error: Option<String>,
    pub data_error: Option<String>,
    pub thumbnails: panels::data::Thumbnails,
    pub dialogs: Dialogs,
    pub recent: Vec<PathBuf>,
    pub path: Option<PathBuf>,
    /// File reads and writes, in order (a save is never dropped).
    pub(crate) tasks: JobThread<Task<Job>, Job>,
    /// File dialogs, one at a time (each blocks its thread until closed).
    pub(crate) file_dialogs: JobThread<Task<Job>, Job>,
    pub busy: bool,
    pub frame_times: std::collections::VecDeque<Instant>,
    /// When the last `NNLAB_PERF_LOG` line was printed (None: not logging).
    perf_log: Option<Instant>,
    pub fps: f64,
    pub rebuilt_at: Option<Instant>,
    pub curvature: Curvature,
    // sessions (timeline, compare, export, recovery)
    pub export: panels::export::Export,
    /// Session → Export model… (PyTorch or ONNX).
    pub model_export: panels::model_export::ModelExport,
    pub compare: panels::compare::Compare,
    /// Bytes the recording's checkpoints may take (the Session menu sets it).
    pub checkpoint_budget: u64,
    pub timeline: panels::timeline::Timeline,
    pub state_dir: Option<PathBuf>,
    pub autosaver: recovery::Autosaver,
    pub last_autosave: Instant,
    /// A recovery file found at start, waiting for Restore or Discard.
    /// Recovery files found at start, waiting for Restore or Discard (the first is offered).
    pub recovery: Vec<(PathBuf, Box<session::Loaded>)>,
    /// (step, spec, edits) when last opened or saved; None until the opened run reports.
    pub clean: Option<(u64, Session, usize)>,
    /// 1: the opened run is being built; 2: its next status is the clean point.
    clean_pending: u8,
    /// The close confirmation is showing.
    pub close_asked: bool,
    allow_close: bool,
    close_after_save: bool,
    /// (curvature generation, step) of the last analysis put into the recording.
    recorded_analysis: Option<(u64, u64)>,
    /// (request id, step) of the last landscape put into the recording.
    recorded_landscape: Option<(u64, u64)>,
    /// A viewport command decided outside a frame (close after the save finished).
    close_ctx_cmd: Option<egui::ViewportCommand>,
    pub lessons: panels::lessons::LessonsPanel,
    pub landscape: Landscape,
    pub dynamics: Dynamics,
    pub geometry: crate::ui::geometry::Geometry,
    /// The Double descent tile (its sweep runs on its own thread).
    pub double_descent: crate::ui::regimes::DoubleDescent,
    /// A snapshot arrived since the textures were last uploaded.
    pub textures_stale: bool,
    /// Pan and zoom of the network diagram.
    pub diagram: panels::designer::View,
}

impl NnlabApp {
    pub fn new(cc: &eframe::CreationContext<'_>, file: Option<PathBuf>) -> Self {
        Self::with_context(&cc.egui_ctx, file)
    }

    /// Build the app on a context (the tests use this too).
    pub fn with_context(ctx: &egui::Context, file: Option<PathBuf>) -> Self {
        Self::with_state_dir(ctx, file, recovery::state_dir())
    }

    /// Build the app with its recovery file and recent list in `state_dir` (None: nowhere).
    pub fn with_state_dir(
        ctx: &egui::Context,
        file: Option<PathBuf>,
        state_dir: Option<PathBuf>,
    ) -> Self {
        fonts::install(ctx);
        // The layout, theme and language of the last run.
        let prefs = super::workspace::store::load(state_dir.as_deref());
        theme::apply(ctx, prefs.dark);
        let session = model::default_session();
        let ctx2 = ctx.clone();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx2.request_repaint());
        let worker = Worker::spawn(model::experiment(&session, None), repaint.clone());
        worker.send(Command::SetSpeed(panels::top_bar::DEFAULT_SPEED));
        let autosaver = recovery::Autosaver::spawn(state_dir.clone(), repaint.clone());
        let tasks = JobThread::tasks("nnlab-files", repaint.clone(), Job::TaskFailed);
        let file_dialogs = JobThread::tasks("nnlab-dialogs", repaint.clone(), Job::TaskFailed);
        let net = Network::build(&session.network, session.loss).ok();
        let empty = Arc::new(Dataset {
            inputs: 2,
            x: Vec::new(),
            y: Vec::new(),
            task: crate::data::spec::Task::Classification,
            classes: 2,
        });
        let mut app = NnlabApp {
            lang: prefs.lang,
            dark: prefs.dark,
            lr_text: format!("{}", session.optimizer.lr),
            applied: session.clone(),
            session,
            dataset: None,
            net,
            worker,
            status: Status::default(),
            history: History::default(),
            snapshot: None,
            train: empty.clone(),
            test: empty,
            n_params: 0,
            edits: Vec::new(),
            diverged: None,
            panicked: None,
            error: None,
            notice: None,
            actions: Vec::new(),
            speed: panels::top_bar::DEFAULT_SPEED,
            textures: Textures::default(),
            workspace: super::workspace::Workspace::new(&prefs, state_dir.clone(), repaint.clone()),
            log_loss: true,
            log_grad: true,
            discretize: false,
            hyperplanes: false,
            show_test: true,
            hovered_neuron: None,
            selected_edge: None,
            edge_text: String::new(),
            lr_error: None,
            csv_path: String::new(),
            csv_error: None,
            data_error: None,
            thumbnails: panels::data::Thumbnails::default(),
            dialogs: Dialogs {
                open: false,
                save: false,
                path: String::new(),
                error: None,
                examples: list_examples(),
            },
            recent: Vec::new(),
            path: None,
            tasks,
            file_dialogs,
            busy: false,
            frame_times: Default::default(),
            perf_log: std::env::var_os("NNLAB_PERF_LOG").map(|_| Instant::now()),
            fps: 0.0,
            rebuilt_at: None,
            export: Default::default(),
            model_export: Default::default(),
            compare: panels::compare::Compare::new(repaint.clone()),
            checkpoint_budget: crate::session::recorder::DEFAULT_CHECKPOINT_BUDGET,
            timeline: panels::timeline::Timeline::new(repaint.clone()),
            autosaver,
            state_dir,
            last_autosave: Instant::now(),
            recovery: Vec::new(),
            clean: None,
            clean_pending: 0,
            close_asked: false,
            allow_close: false,
            close_after_save: false,
            close_ctx_cmd: None,
            recorded_analysis: None,
            recorded_landscape: None,
            lessons: Default::default(),
            curvature: Curvature::new(repaint.clone()),
            landscape: Landscape::new(repaint.clone()),
            dynamics: Dynamics::new(repaint.clone()),
            geometry: crate::ui::geometry::Geometry::new(repaint.clone()),
            double_descent: crate::ui::regimes::DoubleDescent::new(repaint),
            textures_stale: false,
            diagram: Default::default(),
        };
        // The first build's report is the clean point: `applied` and the step are the worker's
        // (a resumed recording's step is known only then). Widgets no longer round the spec.
        app.mark_clean_after_build();
        app.start_session_jobs(file);
        app
    }

    pub fn t(&self, s: S) -> &'static str {
        self.lang.t(s)
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), Instant::now()));
    }

    /// Drain the worker's events and helper jobs (small time budget, never blocks).
    pub fn drain(&mut self, ctx: &egui::Context) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(4) {
            let Some(ev) = self.worker.try_recv() else {
                break;
            };
            self.on_event(ev);
        }
        while let Some(job) = self
            .tasks
            .try_recv()
            .or_else(|| self.file_dialogs.try_recv())
            .or_else(|| self.autosaver.try_recv())
        {
            self.on_job(job);
        }
        self.curvature.drain();
        self.record_analysis();
        self.compare.drain();
        while let Some(a) = self.timeline.try_recv() {
            panels::timeline::on_answer(self, ctx, a);
        }
        // The Curvature panel follows the timeline to the stored spectrum of its step.
        self.curvature
            .follow(self.timeline.step, self.timeline.source.as_ref());
        self.landscape.drain();
        self.record_landscape();
        self.dynamics.drain();
        self.follow_landscape(ctx);
        // The Geometry tile follows the snapshot shown (live, or the timeline's step).
        self.geometry.drain();
        self.double_descent.drain();
        self.geometry
            .follow(self.net.as_ref(), self.snapshot.as_deref(), &self.train);
    }

    /// "Follow training": a new landscape once the last is drawn and training has moved on
    /// (at most once a second).
    fn follow_landscape(&mut self, ctx: &egui::Context) {
        let l = &self.landscape;
        if !l.live || l.busy() || !self.status.running || !l.settings.mode.needs_theta() {
            return;
        }
        let moved = l.last.as_ref().is_none_or(|a| a.step != self.status.step);
        let rested = l
            .requested_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if moved && rested {
            self.actions.push(Action::LandscapeCompute);
            self.apply_actions(ctx);
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Rebuilt {
                n_params,
                train,
                test,
            } => {
                self.n_params = n_params;
                self.train = train;
                self.test = test;
                self.history.clear();
                self.snapshot = None;
                self.diverged = None;
                self.panicked = None;
                self.applied = self.session.clone();
                self.applied.params = None;
                self.session.params = None;
                self.net = Network::build(&self.applied.network, self.applied.loss).ok();
                self.selected_edge = None;
                self.rebuilt_at = Some(Instant::now());
                self.curvature.restart();
                self.timeline.reset();
                if self.clean_pending == 1 {
                    self.clean_pending = 2;
                }
                self.landscape.restart();
                self.dynamics.restart();
                self.geometry.restart();
            }
            Event::RebuildFailed(msg) => {
                self.session = self.applied.clone();
                self.error = Some(msg);
            }
            Event::WasReset => {
                self.timeline.reset();
                self.history.clear();
                self.curvature.restart();
                self.landscape.restart();
                self.dynamics.restart();
                self.geometry.restart();
                self.diverged = None;
                self.panicked = None;
                self.snapshot = None;
            }
            Event::Steps(rows) => self.history.add_steps(&rows),
            Event::Stride(s) => self.history.decimate(s),
            Event::Status(s) => {
                self.status = s;
                if self.clean_pending == 2 {
                    self.clean_pending = 0;
                    self.clean = Some((s.step, self.applied.clone(), self.edits.len()));
                }
            }
            // While the timeline shows a past step, the live picture waits aside.
            Event::Snapshot(s) if self.timeline.step.is_some() => self.timeline.live = Some(s),
            Event::Snapshot(s) => {
                // Uploaded once in the next frame, however many snapshots arrive before it.
                self.textures_stale = true;
                self.snapshot = Some(s);
            }
            Event::Recording { session, purpose } => self.on_recording(session, purpose),
            Event::Evaluation { step, eval } => self.history.add_eval(step, eval),
            Event::Diverged { step, loss } => self.diverged = Some((step, loss)),
            Event::Stopped(reason) => {
                let text = panels::training::stop_text(&reason, self.lang);
                self.notify(text);
            }
            Event::Edits(e) => self.edits = e,
            Event::Curvature(s) => self.curvature.on_sample(*s),
            Event::Path(p) => {
                self.landscape.on_path(p.clone());
                self.dynamics.on_path(p);
            }
            Event::Error(e) => self.error = Some(e),
            Event::WorkerPanicked(m) => self.panicked = Some(m),
        }
    }

    fn on_job(&mut self, job: Job) {
        self.busy = false;
        match job {
            Job::Opened(path, loaded) => {
                self.adopt(*loaded);
                self.add_recent(&path);
                self.notify(format!("{}: {}", self.t(S::Opened), path.display()));
                self.path = Some(path);
                self.mark_clean_after_build();
                self.dialogs.open = false;
                self.dialogs.error = None;
            }
            Job::OpenFailed(e) => {
                self.dialogs.error = Some(e.clone());
                self.error = Some(e);
            }
            Job::Saved(path) => {
                self.clean = Some((self.status.step, self.applied.clone(), self.edits.len()));
                self.autosaver.remove();
                if self.close_after_save {
                    self.allow_close = true;
                    self.close_ctx_cmd = Some(egui::ViewportCommand::Close);
                }
                self.add_recent(&path);
                self.notify(format!("{}: {}", self.t(S::Saved), path.display()));
                self.path = Some(path);
                self.dialogs.save = false;
                self.dialogs.error = None;
            }
            Job::SaveFailed(e) => {
                self.close_after_save = false;
                self.dialogs.error = Some(e.clone());
                self.error = Some(e);
            }
            Job::PickedOpen(Some(p)) => self.open_path(p),
            Job::PickedSave(Some(p)) => self.save_to(p),
            Job::PickedCsv(Some(p)) => {
                self.csv_path = p.display().to_string();
                self.load_csv(p);
            }
            Job::PickedOpen(None) | Job::PickedSave(None) | Job::PickedCsv(None) => {}
            Job::Csv(path, data) => {
                let (inputs, classes) = (data.0.inputs, data.0.classes);
                let mut s = self.session.clone();
                s.data.source = crate::data::spec::DataSource::Csv;
                // Known by where it is, so the session can be saved in any folder.
                let full = session::files::absolute_target(&path).unwrap_or(path);
                s.data.path = Some(full.display().to_string());
                model::harmonise(&mut s, inputs, classes);
                match model::check(&s, inputs, classes) {
                    Ok(_) => {
                        self.csv_error = None;
                        self.session = s;
                        self.dataset = Some(Arc::new(*data));
                        self.send_rebuild();
                    }
                    Err(e) => self.csv_error = Some(e.to_string()),
                }
            }
            Job::CsvFailed(e) => self.csv_error = Some(e),
            // sessions (timeline, compare, export, recovery)
            Job::Exported(p) => {
                self.notify(format!("{}: {}", self.t(S::ExportedTo), p.display()));
                self.export.error = None;
            }
            Job::ExportFailed(e) => {
                self.export.error = Some(e.clone());
                self.error = Some(e);
            }
            Job::PickedExport(Some(p)) => self.export.path = p.display().to_string(),
            Job::PickedCompare(Some(p)) => {
                self.compare.path = p.display().to_string();
                self.compare_file(p);
            }
            Job::PickedExport(None) | Job::PickedCompare(None) => {}
            Job::CompareLoaded(p, l) => panels::compare::add_loaded(self, p, *l),
            Job::Recent(r) => {
                for p in r.into_iter().rev() {
                    if !self.recent.contains(&p) {
                        self.recent.insert(0, p);
                    }
                }
                self.recent.truncate(recovery::MAX_RECENT);
            }
            Job::RecoveryFound(found) => self.recovery = found,
            Job::RecoveryUnreadable(e) => self.error = Some(e),
            Job::AutosaveFailed(e) => self.error = Some(e),
            Job::TaskFailed(e) => {
                self.busy = false;
                self.error = Some(e);
            }
        }
    }

    fn add_recent(&mut self, p: &Path) {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        self.recent.retain(|r| *r != p);
        self.recent.insert(0, p);
        self.recent.truncate(recovery::MAX_RECENT);
        // Persisted off the UI thread; a failure only loses the list.
        if let Some(dir) = self.state_dir.clone() {
            let list = self.recent.clone();
            self.tasks.queue(Box::new(move |_| {
                let _ = recovery::save_recent(&dir, &list);
            }));
        }
    }

    // sessions (timeline, compare, export, recovery)

    /// On the file thread: read the recent list, open `file` if one was given, then look for
    /// recovery files of earlier runs. The open comes first, so a restore chosen afterwards is
    /// never replaced by the file arriving late; the recovery is offered whether or not a file
    /// was given.
    fn start_session_jobs(&mut self, file: Option<PathBuf>) {
        let dir = self.state_dir.clone();
        let own = self.autosaver.path.clone();
        self.busy = file.is_some();
        self.tasks.queue(Box::new(move |send| {
            // The file first (every job clears `busy`, so it stays set until the file is in).
            if let Some(p) = file {
                send(match session::load(&p) {
                    Ok(l) => Job::Opened(p, Box::new(l)),
                    Err(e) => Job::OpenFailed(e.to_string()),
                });
            }
            let Some(dir) = dir else { return };
            send(Job::Recent(recovery::load_recent(&dir)));
            let mut found = Vec::new();
            // A few are enough to offer; more stay on disk for a later start.
            for path in recovery::leftover_recoveries(&dir, own.as_deref())
                .into_iter()
                .take(4)
            {
                match session::load(&path) {
                    Ok(l) => found.push((path, Box::new(l))),
                    Err(e) => send(Job::RecoveryUnreadable(format!(
                        "a recovery file from an earlier run could not be restored ({e}); it is kept at {} (delete it to stop this message)",
                        path.display()
                    ))),
                }
            }
            if !found.is_empty() {
                send(Job::RecoveryFound(found));
            }
        }));
    }

    /// The next run the worker reports is the saved state (after Open or New).
    fn mark_clean_after_build(&mut self) {
        self.clean = None;
        self.clean_pending = 1;
    }

    /// Work that would be lost on close: steps, edits or settings since the last open/save.
    pub fn unsaved(&self) -> bool {
        let Some((step, spec, edits)) = &self.clean else {
            return false;
        };
        let a = &self.applied;
        self.status.step != *step
            || self.edits.len() != *edits
            || a.seed != spec.seed
            || a.data != spec.data
            || a.network != spec.network
            || a.loss != spec.loss
            || a.optimizer != spec.optimizer
            || a.regularization != spec.regularization
    }

    /// Make a loaded session the experiment: its spec is edited in the panels, its recording
    /// (state, history, edits, checkpoints, analyses) goes to the worker, which resumes it.
    fn adopt(&mut self, loaded: session::Loaded) {
        let session::Loaded {
            session: full,
            train,
            test,
            ..
        } = loaded;
        if let Some(b) = full.checkpoint_budget {
            self.checkpoint_budget = b;
        }
        let mut spec = full.clone();
        strip_recording(&mut spec);
        // The panels show the settings in force now: the step-0 spec with its live edits.
        for e in &full.edits {
            match &e.edit {
                crate::train::Edit::Optimizer { spec: o } => spec.optimizer = o.clone(),
                crate::train::Edit::Regularization { regularization } => {
                    spec.regularization = *regularization
                }
                _ => {}
            }
        }
        self.session = spec;
        self.dataset = Some(Arc::new((train, test)));
        self.lr_text = format!("{}", self.session.optimizer.lr);
        let mut e = model::experiment(&self.session, self.dataset.clone());
        e.recorded = full.is_recorded().then(|| Arc::new(full));
        self.worker.send(Command::Rebuild(Box::new(e)));
        self.worker.send(Command::SetStop(
            self.session.stop.clone().unwrap_or_default(),
        ));
    }

    /// The session fields the worker does not know (name, data); it adds the recording.
    fn base_session(&self) -> Session {
        let mut s = self.applied.clone();
        strip_recording(&mut s);
        s
    }

    /// Ask the worker for the whole recording (answered by `Event::Recording`).
    pub fn request_recording_for(&mut self, purpose: crate::runtime::worker::Purpose) {
        self.worker.send(Command::Export {
            base: Box::new(self.base_session()),
            purpose,
        });
    }

    /// The timeline needs the recording up to now.
    pub fn request_recording(&mut self) {
        self.request_recording_for(crate::runtime::worker::Purpose::Timeline);
    }

    fn on_recording(&mut self, s: Option<Box<Session>>, purpose: crate::runtime::worker::Purpose) {
        use crate::runtime::worker::Purpose;
        // No trainer (a failed build): the spec alone is still worth saving.
        let s = s.map_or_else(|| self.base_session(), |s| *s);
        match purpose {
            Purpose::Save(p) => self.spawn_job(move || match session::save(&p, &s) {
                Ok(()) => Job::Saved(p),
                Err(e) => Job::SaveFailed(e.to_string()),
            }),
            Purpose::Autosave => self.autosaver.save(s),
            Purpose::Timeline => {
                let loaded = session::Loaded {
                    session: s,
                    train: (*self.train).clone(),
                    test: (*self.test).clone(),
                    dir: None,
                };
                self.timeline.source = Some(Arc::new(loaded));
                if let Some(step) = self.timeline.wanted.take() {
                    self.timeline.request(step, false);
                }
            }
        }
    }

    /// A fork from the timeline becomes the experiment: new, unsaved, continuing from `step`.
    pub fn adopt_fork(&mut self, ctx: &egui::Context, step: u64, s: Session) {
        panels::timeline::back_to_live(self, ctx);
        let (train, test) = ((*self.train).clone(), (*self.test).clone());
        self.adopt(session::Loaded {
            session: s,
            train,
            test,
            dir: None,
        });
        self.path = None;
        self.clean = Some((u64::MAX, self.session.clone(), 0));
        self.notify(format!("{} {step}", self.t(S::Forked)));
    }

    /// Every few seconds of unsaved training, hand the experiment to the autosave thread.
    fn autosave_tick(&mut self) {
        if self.last_autosave.elapsed() < self.autosaver.interval()
            || !self.unsaved()
            || self.status.step == 0
        {
            return;
        }
        self.last_autosave = Instant::now();
        self.request_recording_for(crate::runtime::worker::Purpose::Autosave);
    }

    fn compare_file(&mut self, p: PathBuf) {
        self.spawn_job(move || match session::load(&p) {
            Ok(l) => Job::CompareLoaded(p, Box::new(l)),
            Err(e) => Job::OpenFailed(e.to_string()),
        });
    }

    fn apply_session_action(&mut self, a: Action, ctx: &egui::Context) {
        match a {
            Action::Export(tile) => {
                self.export.tile = Some(tile);
                self.export.error = None;
                let ext = if matches!(tile, Tile::Network | Tile::Output) {
                    "png"
                } else {
                    "csv"
                };
                self.export.path = panels::export::default_name(tile, ext);
            }
            Action::CompareBrowse => {
                self.file_dialogs.queue(Box::new(|send| {
                    let p = rfd::FileDialog::new()
                        .add_filter("nnlab session", &["json"])
                        .pick_file();
                    send(Job::PickedCompare(p));
                }));
            }
            Action::CompareFile(p) => self.compare_file(p),
            Action::CompareVariant => panels::compare::start_variant(self),
            Action::Recover(restore) if !self.recovery.is_empty() => {
                let (path, l) = self.recovery.remove(0);
                if restore {
                    // A file opened at start may not have reported its build yet: that late
                    // report must not mark the restored work as saved.
                    self.clean_pending = 0;
                    self.adopt(*l);
                    self.path = None;
                    // Restored work is unsaved until saved again; until this app's next
                    // autosave the restored file itself stands in for it.
                    self.clean = Some((u64::MAX, self.session.clone(), 0));
                    self.autosaver.adopt(path);
                    self.notify(self.t(S::Restored));
                } else {
                    self.autosaver.discard(path);
                }
            }
            Action::CloseSave => {
                self.close_asked = false;
                self.close_after_save = true;
                match self.path.clone() {
                    Some(p) => self.save_to(p),
                    None => {
                        self.dialogs.save = true;
                        self.dialogs.path = "session.json".into();
                    }
                }
            }
            Action::CloseDiscard => {
                self.close_asked = false;
                self.allow_close = true;
                self.autosaver.remove();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::CloseCancel => {
                self.close_asked = false;
                self.close_after_save = false;
            }
            Action::Seek(step) => panels::timeline::seek(self, step),
            Action::BackToLive => panels::timeline::back_to_live(self, ctx),
            Action::Fork => {
                if let Some(step) = self.timeline.shown {
                    self.timeline.request(step, true);
                }
            }
            _ => {}
        }
    }

    /// A new curvature result goes into the recording (as a spectrum: its top eigenvalues and
    /// λ_min, which is what the curvature thread hands back).
    fn record_analysis(&mut self) {
        let Some(a) = &self.curvature.last else {
            return;
        };
        let key = (self.curvature.generation, a.step);
        if self.recorded_analysis == Some(key) {
            return;
        }
        self.recorded_analysis = Some(key);
        let mut eigenvalues = a.top_values.clone();
        eigenvalues.push(a.lambda_min);
        eigenvalues.sort_by(f64::total_cmp);
        eigenvalues.dedup();
        let r = session::analysis::SpectrumResult {
            method: match a.method {
                crate::analysis::hessian::Method::Dense => "dense".into(),
                crate::analysis::hessian::Method::Lanczos => "lanczos".into(),
            },
            gauss_newton: a.gauss_newton,
            eigenvalues,
        };
        if let Ok(x) = session::analysis::Analysis::spectrum(a.step, &r) {
            self.worker.send(Command::RecordAnalysis(Box::new(x)));
        }
    }

    /// A refined slice of the loss landscape goes into the recording (saved with the session).
    fn record_landscape(&mut self) {
        use super::landscape::{Mode, Output};
        let Some(a) = self.landscape.last.as_deref() else {
            return;
        };
        let directions = match a.mode {
            Mode::Random => "random",
            Mode::Hessian => "hessian",
            Mode::Pca => "pca",
            Mode::Line | Mode::Tiny | Mode::Race => return,
        };
        let Output::Slice(v) = &a.output else {
            return;
        };
        let key = (self.landscape.id, a.step);
        if a.coarse || self.recorded_landscape == Some(key) || v.x.len() != v.y.len() {
            return;
        }
        self.recorded_landscape = Some(key);
        let radius = v.x.iter().chain(&v.y).fold(0.0f64, |m, t| m.max(t.abs()));
        let even = |axis: &[f64]| {
            let n = axis.len();
            n > 1
                && axis.iter().enumerate().all(|(i, t)| {
                    let want = -radius + 2.0 * radius * i as f64 / (n - 1) as f64;
                    (t - want).abs() <= 1e-12 * radius.max(1.0)
                })
        };
        let (ax, bx) = if even(&v.x) && even(&v.y) {
            (Vec::new(), Vec::new())
        } else {
            (v.x.clone(), v.y.clone())
        };
        let r = session::analysis::LandscapeResult {
            directions: directions.into(),
            grid: v.x.len(),
            radius,
            values: v.values.clone(),
            a: ax,
            b: bx,
        };
        if let Ok(x) = session::analysis::Analysis::landscape(a.step, &r) {
            self.worker.send(Command::RecordAnalysis(Box::new(x)));
        }
    }

    /// Closing the window with unsaved work asks first.
    fn check_close(&mut self, ctx: &egui::Context) {
        // The Save-as window of "save, then close" was dismissed: closing is off again.
        if self.close_after_save && !self.dialogs.save && !self.busy {
            self.close_after_save = false;
        }
        if let Some(c) = self.close_ctx_cmd.take() {
            ctx.send_viewport_cmd(c);
        }
        if ctx.input(|i| i.viewport().close_requested()) && !self.allow_close && self.unsaved() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_asked = true;
        }
    }

    /// Run `f` on the file thread (after the file work already waiting); its answer comes
    /// back as a [`Job`].
    fn spawn_job(&mut self, f: impl FnOnce() -> Job + Send + 'static) {
        self.busy = true;
        self.tasks.queue(Box::new(move |send| send(f())));
    }

    pub fn open_path(&mut self, p: PathBuf) {
        self.spawn_job(move || match session::load(&p) {
            Ok(l) => Job::Opened(p, Box::new(l)),
            Err(e) => Job::OpenFailed(e.to_string()),
        });
    }

    /// Save the whole experiment: the worker hands over its recording, a helper thread writes.
    fn save_to(&mut self, p: PathBuf) {
        self.busy = true;
        self.request_recording_for(crate::runtime::worker::Purpose::Save(p));
    }

    fn load_csv(&mut self, p: PathBuf) {
        let frac = self.session.data.test_fraction;
        let seed = self.session.data.seed.unwrap_or(self.session.seed);
        self.spawn_job(move || {
            let name = session::display_name(&p);
            let text = match session::files::read_limited(&p, session::MAX_FILE_BYTES) {
                Ok(b) => match String::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => return Job::CsvFailed(format!("{name}: is not a text file")),
                },
                Err(e) => return Job::CsvFailed(e.to_string()),
            };
            match crate::data::from_csv(&text, &name, None) {
                Ok(ds) => Job::Csv(p, Box::new(crate::data::split(&ds, frac, seed))),
                Err(e) => Job::CsvFailed(e.to_string()),
            }
        });
    }

    fn pick(&mut self, kind: u8) {
        self.file_dialogs.queue(Box::new(move |send| {
            let d = rfd::FileDialog::new();
            send(match kind {
                0 => Job::PickedOpen(d.add_filter("nnlab session", &["json"]).pick_file()),
                1 => Job::PickedSave(d.add_filter("nnlab session", &["json"]).save_file()),
                _ => Job::PickedCsv(d.add_filter("CSV", &["csv", "txt"]).pick_file()),
            });
        }));
    }

    /// Check the edited session and hand it to the worker, or refuse it and explain.
    pub fn send_rebuild(&mut self) {
        strip_recording(&mut self.session);
        let (inputs, classes) =
            model::data_shape(&self.session.data, self.dataset.as_ref().map(|d| &d.0));
        model::harmonise(&mut self.session, inputs, classes);
        // A pruning mask belongs to one shape of its layer: a width change drops it.
        crate::net::mask::drop_stale(&mut self.session.network);
        self.session.params = None;
        match model::check(&self.session, inputs, classes) {
            Ok(_) => {
                self.error = None;
                self.worker
                    .send(Command::Rebuild(Box::new(model::experiment(
                        &self.session,
                        self.dataset.clone(),
                    ))));
            }
            Err(e) => {
                self.error = Some(format!("{}: {e}", self.t(S::Refused)));
                self.session = self.applied.clone();
            }
        }
    }

    pub fn apply_actions(&mut self, ctx: &egui::Context) {
        let actions = std::mem::take(&mut self.actions);
        for a in actions {
            // Until the person has chosen Restore or Discard, nothing trains: a run started
            // now would be thrown away by a restore, or overwrite what the choice is about.
            if !self.recovery.is_empty() && matches!(a, Action::Play | Action::Step(_)) {
                self.notify(self.t(S::RecoveryFirst));
                continue;
            }
            match a {
                Action::Play => {
                    panels::timeline::back_to_live(self, ctx);
                    if self.panicked.is_some() || self.diverged.is_some() {
                        self.worker.send(Command::Reset);
                    }
                    self.worker.send(Command::Start);
                }
                Action::Pause => self.worker.send(Command::Pause),
                Action::Step(n) => self.worker.send(Command::Step(n)),
                Action::Reset => {
                    self.diverged = None;
                    self.panicked = None;
                    self.worker.send(Command::Reset);
                }
                Action::Rebuild => self.send_rebuild(),
                Action::DataChanged => {
                    use crate::data::spec::DataSource;
                    if !matches!(self.session.data.source, DataSource::Csv) {
                        self.dataset = None;
                    }
                    self.send_rebuild();
                }
                Action::LiveOptimizer => {
                    let rule_changed = self.session.optimizer.effective_rule()
                        != self.applied.optimizer.effective_rule();
                    if rule_changed {
                        self.send_rebuild();
                    } else {
                        match crate::optim::validate(&self.session.optimizer) {
                            Ok(()) => {
                                self.applied.optimizer = self.session.optimizer.clone();
                                self.worker
                                    .send(Command::SetOptimizer(self.session.optimizer.clone()));
                            }
                            Err(e) => {
                                self.error = Some(format!("{}: {e}", self.t(S::Refused)));
                                self.session.optimizer = self.applied.optimizer.clone();
                            }
                        }
                    }
                }
                Action::StopRule => {
                    self.applied.stop = self.session.stop.clone();
                    self.worker.send(Command::SetStop(
                        self.session.stop.clone().unwrap_or_default(),
                    ));
                }
                Action::LiveRegularization => {
                    match crate::optim::validate_regularization(&self.session.regularization) {
                        Ok(()) => {
                            self.applied.regularization = self.session.regularization;
                            self.worker
                                .send(Command::SetRegularization(self.session.regularization));
                        }
                        Err(e) => {
                            self.error = Some(format!("{}: {e}", self.t(S::Refused)));
                            self.session.regularization = self.applied.regularization;
                        }
                    }
                }
                Action::SetWeight { index, value } => {
                    self.worker.send(Command::SetWeight { index, value })
                }
                Action::SetSpeed(s) => {
                    self.speed = s;
                    self.worker.send(Command::SetSpeed(s));
                }
                Action::LowerLr => {
                    self.session.optimizer.lr /= 10.0;
                    self.applied.optimizer.lr = self.session.optimizer.lr;
                    self.lr_text = format!("{}", self.session.optimizer.lr);
                    self.worker
                        .send(Command::SetOptimizer(self.session.optimizer.clone()));
                    self.diverged = None;
                    self.worker.send(Command::Reset);
                }
                Action::New => {
                    self.session = model::default_session();
                    self.dataset = None;
                    self.path = None;
                    self.lr_text = format!("{}", self.session.optimizer.lr);
                    self.send_rebuild();
                    self.mark_clean_after_build();
                }
                Action::OpenPath(p) => self.open_path(p),
                Action::SaveTo(p) => self.save_to(p),
                Action::Save => match self.path.clone() {
                    Some(p) => self.save_to(p),
                    None => {
                        self.dialogs.save = true;
                        self.dialogs.path = "session.json".into();
                    }
                },
                Action::BrowseOpen => self.pick(0),
                Action::BrowseSave => self.pick(1),
                Action::BrowseCsv => self.pick(2),
                Action::LoadCsv(p) => self.load_csv(p),
                Action::CurvatureOn(on) => {
                    self.curvature.on = on;
                    let every = on.then_some(self.curvature.every);
                    self.worker.send(Command::CurvatureEvery(every));
                    if on {
                        self.worker.send(Command::CurvatureNow);
                    }
                }
                Action::CurvatureEvery => {
                    if self.curvature.on {
                        let every = Some(self.curvature.every);
                        self.worker.send(Command::CurvatureEvery(every));
                    }
                }
                Action::CurvatureMatrix(gauss_newton) => {
                    self.curvature.gauss_newton = gauss_newton;
                    self.curvature.restart();
                    self.worker.send(Command::CurvatureNow);
                }
                Action::AnalyseNow => self.worker.send(Command::CurvatureNow),
                Action::SetCheckpointBudget(bytes) => {
                    self.checkpoint_budget = bytes;
                    self.worker.send(Command::SetCheckpointBudget(bytes));
                }
                Action::LandscapeCompute => {
                    if self.landscape.request() {
                        self.worker.send(Command::PathNow);
                    }
                }
                Action::DynamicsRun => {
                    let n = &self.applied.network;
                    self.dynamics.init = (n.init, n.init_scale);
                    self.dynamics.request();
                    self.worker.send(Command::PathNow);
                }
                other => self.apply_session_action(other, ctx),
            }
        }
    }

    pub fn is_perceptron(&self) -> bool {
        self.applied.optimizer.effective_rule() == TrainingRule::Perceptron
    }

    fn measure_fps(&mut self) {
        let now = Instant::now();
        self.frame_times.push_back(now);
        while self
            .frame_times
            .front()
            .is_some_and(|t| now - *t > Duration::from_secs(1))
        {
            self.frame_times.pop_front();
        }
        self.fps = self.frame_times.len() as f64;
        // NNLAB_PERF_LOG=1: once a second, the frame rate and the training speed on stderr
        // (how the fps and steps/s figures in the README were measured under Xvfb).
        if self
            .perf_log
            .is_some_and(|t| now - t >= Duration::from_secs(1))
        {
            self.perf_log = Some(now);
            eprintln!(
                "perf: {:.0} fps, step {}, {:.0} steps/s",
                self.fps, self.status.step, self.status.steps_per_sec
            );
        }
    }

    /// The whole frame (also used by the tests through eframe).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain(&ctx);
        panels::output::refresh(self, &ctx);
        self.measure_fps();
        // Space toggles Play/Pause unless a text field is being typed into. The key is consumed
        // first, so a focused button or checkbox does not also act on it (Enter still does).
        if !ctx.text_edit_focused()
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space))
        {
            self.actions.push(if self.status.running {
                Action::Pause
            } else {
                Action::Play
            });
        }
        panels::top_bar::ui(self, ui);
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(340.0)
            .size_range(300.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    panels::lessons::ui(self, ui);
                    panels::data::ui(self, ui);
                    panels::network::ui(self, ui);
                    panels::training::ui(self, ui);
                });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            panels::banners::ui(self, ui);
            panels::timeline::ui(self, ui);
            panels::workspace::central_ui(self, ui);
        });
        panels::dialogs::ui(self, &ctx);
        // sessions (timeline, compare, export, recovery)
        panels::export::ui(self, &ctx);
        panels::model_export::ui(self, &ctx);
        panels::compare::ui(self, &ctx);
        panels::dialogs::session_ui(self, &ctx);
        self.check_close(&ctx);
        self.autosave_tick();
        if let Some(e) = self.workspace.remember(&ctx, self.dark, self.lang) {
            self.error = Some(e);
        }
        self.apply_actions(&ctx);
        if self.status.running || self.busy || self.compare.busy() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }
}

impl eframe::App for NnlabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    /// A clean exit: nothing to recover next time.
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.autosaver.remove();
    }
}

/// `sessions/*.json` next to the working directory, for the Open dialog.
fn list_examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("sessions")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Drop the recorded sections: what is left is the spec the panels edit.
fn strip_recording(s: &mut Session) {
    s.state = None;
    s.initial_params = None;
    s.history = Default::default();
    s.edits.clear();
    s.checkpoints.clear();
    s.analyses.clear();
}
