//! The app struct: state fed by the worker's events (`logic`), panels laid out in `ui`, and the
//! commands the views send during a frame applied after it, in one place (`apply`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use crate::data::Dataset;
use crate::net::network::Network;
use crate::runtime::worker::{self, Event, Worker};
use crate::session::{self, Session};

use super::command::{Command, Commands};
use super::files::Files;
use super::frame_clock::FrameClock;
use super::i18n::S;
use super::lab::Lab;
use super::model;
use super::panels;
use super::panels::plots::Tile;
use super::panels::timeline::Replayed;
use super::settings::Settings;
use super::view::{View, Views, view_ctx};
use super::{fonts, recovery, theme};

/// Results of work done on helper threads (file dialogs, reading, writing).
pub enum Job {
    /// The session file at this path was read and parsed; the app adopts it.
    Opened(PathBuf, Box<session::Loaded>),
    /// Opening or reading a session failed: the error banner's text.
    OpenFailed(String),
    /// The session was written to this path (it becomes the session's file, now clean).
    Saved(PathBuf),
    /// Writing the session failed: the error banner's text.
    SaveFailed(String),
    /// The Open picker closed: the chosen file, or None if cancelled.
    PickedOpen(Option<PathBuf>),
    /// The Save picker closed: the chosen path, or None if cancelled.
    PickedSave(Option<PathBuf>),
    /// The CSV picker closed: the chosen file, or None if cancelled.
    PickedCsv(Option<PathBuf>),
    /// The CSV file at this path was parsed and split into (training, test) rows.
    Csv(PathBuf, Box<(Dataset, Dataset)>),
    /// The CSV file was refused: the Data panel's error line.
    CsvFailed(String),
    // sessions (timeline, compare, export, recovery)
    /// A tile's CSV or PNG was written to this path (a passing notice says so).
    Exported(PathBuf),
    /// Writing an export failed: the Export window's error line.
    ExportFailed(String),
    /// The Export window's picker closed: the chosen path, or None if cancelled.
    PickedExport(Option<PathBuf>),
    /// The Compare picker closed: the chosen session, or None if cancelled.
    PickedCompare(Option<PathBuf>),
    /// The session to compare with was read from this path.
    CompareLoaded(PathBuf, Box<session::Loaded>),
    /// The recent-files list read at start.
    Recent(Vec<PathBuf>),
    /// Recovery files of earlier runs that did not exit cleanly, newest first.
    RecoveryFound(Vec<(PathBuf, Box<session::Loaded>)>),
    /// A recovery file that could not be read (it is kept).
    RecoveryUnreadable(String),
    /// Writing the recovery file failed: the error banner's text.
    AutosaveFailed(String),
    /// A file or dialog task panicked (a bug): its message.
    TaskFailed(String),
}

/// The app: the composition of the lab, its files, the settings and the views. The views
/// draw from a read-only [`ViewCtx`](super::view::ViewCtx) and send [`Command`]s; `apply` is the one place that
/// changes the lab.
pub struct NnlabApp {
    pub(crate) settings: Settings,
    pub(crate) lab: Lab,
    pub(crate) files: Files,
    /// Every panel's and tile's own state.
    pub(crate) views: Views,
    /// The central area's tiles, their layout, and what is remembered between runs.
    pub(crate) workspace: super::workspace::Workspace,
    /// What the views asked for this frame; applied after drawing.
    pub(crate) commands: Commands,
    pub(crate) clock: FrameClock,
}

impl NnlabApp {
    /// The app as eframe creates it: fonts, theme and layout of the last run, the default session
    /// (or `file`) and its training thread.
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
        worker.send(worker::Command::SetSpeed(panels::top_bar::DEFAULT_SPEED));
        let mut app = NnlabApp {
            settings: Settings {
                lang: prefs.lang,
                dark: prefs.dark,
            },
            views: Views::new(session.optimizer.lr, repaint.clone()),
            lab: Lab::new(session, worker, panels::top_bar::DEFAULT_SPEED),
            files: Files::new(state_dir.clone(), repaint.clone()),
            workspace: super::workspace::Workspace::new(&prefs, state_dir, repaint),
            commands: Commands::default(),
            clock: FrameClock::default(),
        };
        // The first build's report is the clean point: `applied` and the step are the worker's
        // (a resumed recording's step is known only then). Widgets no longer round the spec.
        app.mark_clean_after_build();
        app.start_session_jobs(file);
        app
    }

    /// The lab's model state, as the views read it.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The session's file, the open/save dialogs, recovery and the file tasks.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// Language and theme.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every view's own state, read-only.
    pub fn views(&self) -> &Views {
        &self.views
    }

    /// The central area's tiles and their layout.
    pub fn workspace(&self) -> &super::workspace::Workspace {
        &self.workspace
    }

    /// The string `s` in the current language.
    pub fn t(&self, s: S) -> &'static str {
        self.settings.lang.t(s)
    }

    /// Show a passing notice (opened, saved, exported, …) from now on.
    pub fn notify(&mut self, text: impl Into<String>) {
        self.lab.notice = Some((text.into(), Instant::now()));
    }

    /// Drain the worker's events and helper jobs (small time budget, never blocks).
    pub fn drain(&mut self, ctx: &egui::Context) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(4) {
            let Some(ev) = self.lab.worker.try_recv() else {
                break;
            };
            self.on_event(ev);
        }
        while let Some(job) = self
            .files
            .tasks
            .try_recv()
            .or_else(|| self.files.file_dialogs.try_recv())
            .or_else(|| self.files.autosaver.try_recv())
        {
            self.on_job(job);
        }
        self.views.curvature.drain();
        // New results go into the recording (saved with the session).
        if let Some(a) = self
            .views
            .curvature
            .new_record(&mut self.lab.recorded_analysis)
        {
            self.lab
                .worker
                .send(worker::Command::RecordAnalysis(Box::new(a)));
        }
        self.views.compare.drain();
        while let Some(a) = self.views.timeline.try_recv() {
            match self.views.timeline.on_answer(a) {
                Some(Replayed::Show(s)) => self.show_snapshot(s),
                Some(Replayed::Fork { step, session }) => self.adopt_fork(step, *session),
                None => {}
            }
        }
        // The Curvature panel follows the timeline to the stored spectrum of its step.
        self.views.curvature.follow(
            self.views.timeline.step,
            self.views.timeline.source.as_ref(),
        );
        self.views.landscape.drain();
        if let Some(a) = self
            .views
            .landscape
            .new_record(&mut self.lab.recorded_landscape)
        {
            self.lab
                .worker
                .send(worker::Command::RecordAnalysis(Box::new(a)));
        }
        self.views.dynamics.drain();
        if self.views.landscape.wants_follow(&self.lab.status) {
            self.apply(ctx, Command::LandscapeCompute);
        }
        // The Geometry tile follows the snapshot shown (live, or the timeline's step).
        self.views.geometry.drain();
        self.views.geometry.follow(
            self.lab.net.as_ref(),
            self.lab.snapshot.as_deref(),
            &self.lab.train,
        );
        // Spectral bias (issue 15): follows the snapshot shown, like the Geometry tile.
        self.views.spectral.drain();
        self.views.spectral.follow(
            self.lab.net.as_ref(),
            self.lab.snapshot.as_deref(),
            &self.lab.train,
        );
        self.views.double_descent.drain();
        // The update as an outer product (issue 15 §4): the last step, asked for while shown.
        self.views.layer_update.drain();
        if self
            .views
            .layer_update
            .wants_last_step(self.lab.status.step)
        {
            self.lab.worker.send(worker::Command::LastUpdate);
        }
        self.views.region_sweep.drain();
        // Neural collapse (issue 16 §4): follows the snapshot shown, like the Spectral tile.
        self.views.collapse.drain();
        self.views.collapse.follow(
            self.lab.net.as_ref(),
            self.lab.snapshot.as_deref(),
            &self.lab.train,
            self.lab.status.running,
        );
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Rebuilt {
                n_params,
                train,
                test,
            } => {
                self.lab.n_params = n_params;
                self.lab.train = train;
                self.lab.test = test;
                self.lab.history.clear();
                self.lab.snapshot = None;
                self.lab.diverged = None;
                self.lab.panicked = None;
                self.lab.applied = self.lab.session.clone();
                self.lab.applied.params = None;
                self.lab.session.params = None;
                self.lab.net =
                    Network::build(&self.lab.applied.network, self.lab.applied.loss).ok();
                self.views.designer.selected_edge = None;
                self.lab.rebuilt_at = Some(Instant::now());
                self.views.curvature.restart();
                self.views.timeline.reset();
                if self.files.clean_pending == 1 {
                    self.files.clean_pending = 2;
                }
                self.views.landscape.restart();
                self.views.dynamics.restart();
                self.views.geometry.restart();
                self.views.spectral.restart();
                let layers = self.lab.net.as_ref().map(|n| n.layers.len());
                self.views.layer_update.restart(layers);
                self.views.region_sweep.restart();
                self.views.collapse.restart();
            }
            Event::RebuildFailed(msg) => {
                self.lab.session = self.lab.applied.clone();
                self.lab.error = Some(msg);
            }
            Event::WasReset => {
                self.views.timeline.reset();
                self.lab.history.clear();
                self.views.curvature.restart();
                self.views.landscape.restart();
                self.views.dynamics.restart();
                self.views.geometry.restart();
                self.views.spectral.restart();
                let layers = self.lab.net.as_ref().map(|n| n.layers.len());
                self.views.layer_update.restart(layers);
                self.views.collapse.restart();
                self.lab.diverged = None;
                self.lab.panicked = None;
                self.lab.snapshot = None;
            }
            Event::Steps(rows) => self.lab.history.add_steps(&rows),
            Event::Stride(s) => self.lab.history.decimate(s),
            Event::Status(s) => {
                self.lab.status = s;
                if self.files.clean_pending == 2 {
                    self.files.clean_pending = 0;
                    self.files.clean =
                        Some((s.step, self.lab.applied.clone(), self.lab.edits.len()));
                }
            }
            // While the timeline shows a past step, the live picture waits aside.
            Event::Snapshot(s) if self.views.timeline.step.is_some() => {
                self.views.timeline.live = Some(s)
            }
            Event::Snapshot(s) => {
                // Uploaded once in the next frame, however many snapshots arrive before it.
                self.views.output.textures_stale = true;
                self.lab.snapshot = Some(s);
            }
            Event::Recording { session, purpose } => self.on_recording(session, purpose),
            Event::Evaluation { step, eval } => self.lab.history.add_eval(step, eval),
            Event::Diverged { step, loss } => self.lab.diverged = Some((step, loss)),
            Event::Stopped(reason) => {
                let text = panels::training::stop_text(&reason, self.settings.lang);
                self.notify(text);
            }
            Event::Edits(e) => self.lab.edits = e,
            Event::Curvature(s) => self.views.curvature.on_sample(*s),
            Event::Path(p) => {
                self.views.landscape.on_path(p.clone());
                self.views.dynamics.on_path(p);
            }
            Event::Error(e) => self.lab.error = Some(e),
            Event::WorkerPanicked(m) => self.lab.panicked = Some(m),
            Event::LastUpdate { step, last } => self.views.layer_update.on_last_step(step, last),
        }
    }

    fn on_job(&mut self, job: Job) {
        self.files.busy = false;
        match job {
            Job::Opened(path, loaded) => {
                self.adopt(*loaded);
                self.add_recent(&path);
                self.notify(format!("{}: {}", self.t(S::Opened), path.display()));
                self.files.path = Some(path);
                self.mark_clean_after_build();
                self.files.dialogs.open = false;
                self.files.dialogs.error = None;
            }
            Job::OpenFailed(e) => {
                self.files.dialogs.error = Some(e.clone());
                self.lab.error = Some(e);
            }
            Job::Saved(path) => {
                self.files.clean = Some((
                    self.lab.status.step,
                    self.lab.applied.clone(),
                    self.lab.edits.len(),
                ));
                self.files.autosaver.remove();
                if self.files.close_after_save {
                    self.files.allow_close = true;
                    self.files.close_ctx_cmd = Some(egui::ViewportCommand::Close);
                }
                self.add_recent(&path);
                self.notify(format!("{}: {}", self.t(S::Saved), path.display()));
                self.files.path = Some(path);
                self.files.dialogs.save = false;
                self.files.dialogs.error = None;
            }
            Job::SaveFailed(e) => {
                self.files.close_after_save = false;
                self.files.dialogs.error = Some(e.clone());
                self.lab.error = Some(e);
            }
            Job::PickedOpen(Some(p)) => self.open_path(p),
            Job::PickedSave(Some(p)) => self.save_to(p),
            Job::PickedCsv(Some(p)) => {
                self.views.data.csv_path = p.display().to_string();
                self.load_csv(p);
            }
            Job::PickedOpen(None) | Job::PickedSave(None) | Job::PickedCsv(None) => {}
            Job::Csv(path, data) => {
                let (inputs, classes) = (data.0.inputs, data.0.classes);
                let mut s = self.lab.session.clone();
                s.data.source = crate::data::spec::DataSource::Csv;
                // Known by where it is, so the session can be saved in any folder.
                let full = session::files::absolute_target(&path).unwrap_or(path);
                s.data.path = Some(full.display().to_string());
                model::harmonise(&mut s, inputs, classes);
                match model::check(&s, inputs, classes) {
                    Ok(_) => {
                        self.views.data.csv_error = None;
                        self.lab.session = s;
                        self.lab.dataset = Some(Arc::new(*data));
                        self.send_rebuild();
                    }
                    Err(e) => self.views.data.csv_error = Some(e.to_string()),
                }
            }
            Job::CsvFailed(e) => self.views.data.csv_error = Some(e),
            // sessions (timeline, compare, export, recovery)
            Job::Exported(p) => {
                self.notify(format!("{}: {}", self.t(S::ExportedTo), p.display()));
                self.views.export.error = None;
            }
            Job::ExportFailed(e) => {
                self.views.export.error = Some(e.clone());
                self.lab.error = Some(e);
            }
            Job::PickedExport(Some(p)) => self.views.export.path = p.display().to_string(),
            Job::PickedCompare(Some(p)) => {
                self.views.compare.path = p.display().to_string();
                self.compare_file(p);
            }
            Job::PickedExport(None) | Job::PickedCompare(None) => {}
            Job::CompareLoaded(p, l) => self.views.compare.add_loaded(&self.lab, p, *l),
            Job::Recent(r) => {
                for p in r.into_iter().rev() {
                    if !self.files.recent.contains(&p) {
                        self.files.recent.insert(0, p);
                    }
                }
                self.files.recent.truncate(recovery::MAX_RECENT);
            }
            Job::RecoveryFound(found) => self.files.recovery = found,
            Job::RecoveryUnreadable(e) => self.lab.error = Some(e),
            Job::AutosaveFailed(e) => self.lab.error = Some(e),
            Job::TaskFailed(e) => {
                self.files.busy = false;
                self.lab.error = Some(e);
            }
        }
    }

    fn add_recent(&mut self, p: &Path) {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        self.files.recent.retain(|r| *r != p);
        self.files.recent.insert(0, p);
        self.files.recent.truncate(recovery::MAX_RECENT);
        // Persisted off the UI thread; a failure only loses the list.
        if let Some(dir) = self.files.state_dir.clone() {
            let list = self.files.recent.clone();
            self.files.tasks.queue(Box::new(move |_| {
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
        let dir = self.files.state_dir.clone();
        let own = self.files.autosaver.path.clone();
        self.files.busy = file.is_some();
        self.files.tasks.queue(Box::new(move |send| {
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
        self.files.clean = None;
        self.files.clean_pending = 1;
    }

    /// Work that would be lost on close: steps, edits or settings since the last open/save.
    pub fn unsaved(&self) -> bool {
        let Some((step, spec, edits)) = &self.files.clean else {
            return false;
        };
        let a = &self.lab.applied;
        self.lab.status.step != *step
            || self.lab.edits.len() != *edits
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
            self.lab.checkpoint_budget = b;
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
        self.lab.session = spec;
        self.lab.dataset = Some(Arc::new((train, test)));
        self.views.training.lr_text = format!("{}", self.lab.session.optimizer.lr);
        let mut e = model::experiment(&self.lab.session, self.lab.dataset.clone());
        e.recorded = full.is_recorded().then(|| Arc::new(full));
        self.lab.worker.send(worker::Command::Rebuild(Box::new(e)));
        self.lab.worker.send(worker::Command::SetStop(
            self.lab.session.stop.clone().unwrap_or_default(),
        ));
    }

    /// The session fields the worker does not know (name, data); it adds the recording.
    fn base_session(&self) -> Session {
        let mut s = self.lab.applied.clone();
        strip_recording(&mut s);
        s
    }

    /// Ask the worker for the whole recording (answered by `Event::Recording`).
    fn request_recording_for(&mut self, purpose: crate::runtime::worker::Purpose) {
        self.lab.worker.send(worker::Command::Export {
            base: Box::new(self.base_session()),
            purpose,
        });
    }

    /// The timeline needs the recording up to now.
    fn request_recording(&mut self) {
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
            Purpose::Autosave => self.files.autosaver.save(s),
            Purpose::Timeline => {
                let loaded = session::Loaded {
                    session: s,
                    train: (*self.lab.train).clone(),
                    test: (*self.lab.test).clone(),
                    dir: None,
                };
                self.views.timeline.on_recording(loaded);
            }
        }
    }

    /// A fork from the timeline becomes the experiment: new, unsaved, continuing from `step`.
    fn adopt_fork(&mut self, step: u64, s: Session) {
        self.back_to_live();
        let (train, test) = ((*self.lab.train).clone(), (*self.lab.test).clone());
        self.adopt(session::Loaded {
            session: s,
            train,
            test,
            dir: None,
        });
        self.files.path = None;
        self.files.clean = Some((u64::MAX, self.lab.session.clone(), 0));
        self.notify(format!("{} {step}", self.t(S::Forked)));
    }

    /// Every few seconds of unsaved training, hand the experiment to the autosave thread.
    fn autosave_tick(&mut self) {
        if self.files.last_autosave.elapsed() < self.files.autosaver.interval()
            || !self.unsaved()
            || self.lab.status.step == 0
        {
            return;
        }
        self.files.last_autosave = Instant::now();
        self.request_recording_for(crate::runtime::worker::Purpose::Autosave);
    }

    /// A snapshot (live or replayed) on screen: the maps are uploaded again in the next frame.
    fn show_snapshot(&mut self, s: Box<worker::Snapshot>) {
        self.lab.snapshot = Some(s);
        self.views.output.textures_stale = true;
    }

    /// The timeline lets go of the past step: the live snapshot it kept aside is shown again.
    fn back_to_live(&mut self) {
        if let Some(s) = self.views.timeline.back_to_live() {
            self.show_snapshot(s);
        }
    }

    fn compare_file(&mut self, p: PathBuf) {
        self.spawn_job(move || match session::load(&p) {
            Ok(l) => Job::CompareLoaded(p, Box::new(l)),
            Err(e) => Job::OpenFailed(e.to_string()),
        });
    }

    fn apply_session_command(&mut self, a: Command, ctx: &egui::Context) {
        match a {
            Command::Export(tile) => {
                self.views.export.tile = Some(tile);
                self.views.export.error = None;
                let ext = if matches!(tile, Tile::Network | Tile::Output) {
                    "png"
                } else {
                    "csv"
                };
                self.views.export.path = panels::export::default_name(tile, ext);
            }
            Command::CompareBrowse => {
                self.files.file_dialogs.queue(Box::new(|send| {
                    let p = rfd::FileDialog::new()
                        .add_filter("nnlab session", &["json"])
                        .pick_file();
                    send(Job::PickedCompare(p));
                }));
            }
            Command::CompareFile(p) => self.compare_file(p),
            Command::CompareVariant => {
                let lang = self.settings.lang;
                self.views.compare.start_variant(&self.lab, lang)
            }
            Command::Recover(restore) if !self.files.recovery.is_empty() => {
                let (path, l) = self.files.recovery.remove(0);
                if restore {
                    // A file opened at start may not have reported its build yet: that late
                    // report must not mark the restored work as saved.
                    self.files.clean_pending = 0;
                    self.adopt(*l);
                    self.files.path = None;
                    // Restored work is unsaved until saved again; until this app's next
                    // autosave the restored file itself stands in for it.
                    self.files.clean = Some((u64::MAX, self.lab.session.clone(), 0));
                    self.files.autosaver.adopt(path);
                    self.notify(self.t(S::Restored));
                } else {
                    self.files.autosaver.discard(path);
                }
            }
            Command::CloseSave => {
                self.files.close_asked = false;
                self.files.close_after_save = true;
                match self.files.path.clone() {
                    Some(p) => self.save_to(p),
                    None => {
                        self.files.dialogs.save = true;
                        self.files.dialogs.path = "session.json".into();
                    }
                }
            }
            Command::CloseDiscard => {
                self.files.close_asked = false;
                self.files.allow_close = true;
                self.files.autosaver.remove();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Command::CloseCancel => {
                self.files.close_asked = false;
                self.files.close_after_save = false;
            }
            Command::Seek(step) => {
                let (last, live) = (self.lab.status.step, self.lab.snapshot.as_deref());
                if self.views.timeline.seek(step, last, live) {
                    self.request_recording();
                }
            }
            Command::BackToLive => self.back_to_live(),
            Command::Fork => self.views.timeline.fork(),
            Command::SetLandscapeSettings(s) => self.views.landscape.settings = *s,
            Command::SetDynamicsSettings(s) => self.views.dynamics.settings = *s,
            Command::SetGeometryMode(m) => self.views.geometry.set_mode(m),
            Command::SetNeuronMapSide(side) => self.views.output.textures.maps.neurons = side,
            Command::SelectEdge(e) => {
                let theta = self.lab.snapshot.as_ref().map(|s| s.theta.as_slice());
                self.views.designer.select_edge(e, theta);
            }
            Command::SelectLesson(i) => self.views.lessons.select(i),
            Command::SelectUpdateLayer(l) => self.views.layer_update.select(l),
            Command::SetRegionSweep { steps, inits } => {
                self.views.region_sweep.steps = steps;
                self.views.region_sweep.inits = inits;
            }
            Command::ShowModelExport => self.views.model_export.show(),
            Command::ShowCompare(open) => self.views.compare.open = open,
            Command::BrowseExport(name) => {
                self.files.file_dialogs.queue(Box::new(move |send| {
                    let p = rfd::FileDialog::new().set_file_name(name).save_file();
                    send(Job::PickedExport(p));
                }));
            }
            Command::ExportCsv { tile, path } => {
                if let Some(text) = panels::export::tile_csv(&self.views, &self.lab, tile) {
                    panels::export::write_csv(path, text, &self.files.tasks);
                    self.views.export.tile = None;
                }
            }
            _ => {}
        }
    }

    /// Closing the window with unsaved work asks first.
    fn check_close(&mut self, ctx: &egui::Context) {
        // The Save-as window of "save, then close" was dismissed: closing is off again.
        if self.files.close_after_save && !self.files.dialogs.save && !self.files.busy {
            self.files.close_after_save = false;
        }
        if let Some(c) = self.files.close_ctx_cmd.take() {
            ctx.send_viewport_cmd(c);
        }
        if ctx.input(|i| i.viewport().close_requested())
            && !self.files.allow_close
            && self.unsaved()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.files.close_asked = true;
        }
    }

    /// Run `f` on the file thread (after the file work already waiting); its answer comes
    /// back as a [`Job`].
    fn spawn_job(&mut self, f: impl FnOnce() -> Job + Send + 'static) {
        self.files.busy = true;
        self.files.tasks.queue(Box::new(move |send| send(f())));
    }

    /// Read the session at `p` on a helper thread; it opens when read, or the banner names the
    /// problem.
    fn open_path(&mut self, p: PathBuf) {
        self.spawn_job(move || match session::load(&p) {
            Ok(l) => Job::Opened(p, Box::new(l)),
            Err(e) => Job::OpenFailed(e.to_string()),
        });
    }

    /// Save the whole experiment: the worker hands over its recording, a helper thread writes.
    fn save_to(&mut self, p: PathBuf) {
        self.files.busy = true;
        self.request_recording_for(crate::runtime::worker::Purpose::Save(p));
    }

    fn load_csv(&mut self, p: PathBuf) {
        let frac = self.lab.session.data.test_fraction;
        let seed = self.lab.session.data.seed.unwrap_or(self.lab.session.seed);
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
        self.files.file_dialogs.queue(Box::new(move |send| {
            let d = rfd::FileDialog::new();
            send(match kind {
                0 => Job::PickedOpen(d.add_filter("nnlab session", &["json"]).pick_file()),
                1 => Job::PickedSave(d.add_filter("nnlab session", &["json"]).save_file()),
                _ => Job::PickedCsv(d.add_filter("CSV", &["csv", "txt"]).pick_file()),
            });
        }));
    }

    /// Check the edited session and hand it to the worker, or refuse it and explain.
    pub(crate) fn send_rebuild(&mut self) {
        strip_recording(&mut self.lab.session);
        let (inputs, classes) = model::data_shape(
            &self.lab.session.data,
            self.lab.dataset.as_ref().map(|d| &d.0),
        );
        model::harmonise(&mut self.lab.session, inputs, classes);
        // A pruning mask belongs to one shape of its layer: a width change drops it.
        crate::net::mask::drop_stale(&mut self.lab.session.network);
        self.lab.session.params = None;
        match model::check(&self.lab.session, inputs, classes) {
            Ok(_) => {
                self.lab.error = None;
                self.lab
                    .worker
                    .send(worker::Command::Rebuild(Box::new(model::experiment(
                        &self.lab.session,
                        self.lab.dataset.clone(),
                    ))));
            }
            Err(e) => {
                self.lab.error = Some(format!("{}: {e}", self.t(S::Refused)));
                self.lab.session = self.lab.applied.clone();
            }
        }
    }

    /// Ask the app for something, as a view does: applied after the next frame is drawn.
    pub fn send(&mut self, c: Command) {
        self.commands.send(c);
    }

    /// Apply the commands the views (or the tests, through [`Self::send`]) sent.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        for c in self.commands.take() {
            self.apply(ctx, c);
        }
    }

    /// The one place where a command changes the lab.
    fn apply(&mut self, ctx: &egui::Context, a: Command) {
        // Until the person has chosen Restore or Discard, nothing trains: a run started
        // now would be thrown away by a restore, or overwrite what the choice is about.
        if !self.files.recovery.is_empty() && matches!(a, Command::Play | Command::Step(_)) {
            self.notify(self.t(S::RecoveryFirst));
            return;
        }
        // Drawing cleared every point: nothing to train on or save until one is drawn.
        if super::draw::no_points(&self.lab)
            && matches!(
                a,
                Command::Play | Command::Step(_) | Command::Save | Command::SaveTo(_)
            )
        {
            self.notify(self.t(S::DrawFirst));
            return;
        }
        match a {
            Command::Play => {
                self.back_to_live();
                if self.lab.panicked.is_some() || self.lab.diverged.is_some() {
                    self.lab.worker.send(worker::Command::Reset);
                }
                self.lab.worker.send(worker::Command::Start);
            }
            Command::Pause => self.lab.worker.send(worker::Command::Pause),
            Command::Step(n) => self.lab.worker.send(worker::Command::Step(n)),
            Command::Reset => {
                self.lab.diverged = None;
                self.lab.panicked = None;
                self.lab.worker.send(worker::Command::Reset);
            }
            Command::Rebuild => self.send_rebuild(),
            Command::DataChanged => {
                use crate::data::spec::DataSource;
                // A new test fraction draws the test rows afresh (drawn data names them).
                let d = &mut self.lab.session.data;
                if d.test_fraction != self.lab.applied.data.test_fraction {
                    d.test_rows = None;
                }
                if !matches!(self.lab.session.data.source, DataSource::Csv) {
                    self.lab.dataset = None;
                }
                self.send_rebuild();
            }
            Command::LiveOptimizer => {
                let rule_changed = self.lab.session.optimizer.effective_rule()
                    != self.lab.applied.optimizer.effective_rule();
                if rule_changed {
                    self.send_rebuild();
                } else {
                    match crate::optim::validate(&self.lab.session.optimizer) {
                        Ok(()) => {
                            self.lab.applied.optimizer = self.lab.session.optimizer.clone();
                            self.lab.worker.send(worker::Command::SetOptimizer(
                                self.lab.session.optimizer.clone(),
                            ));
                        }
                        Err(e) => {
                            self.lab.error = Some(format!("{}: {e}", self.t(S::Refused)));
                            self.lab.session.optimizer = self.lab.applied.optimizer.clone();
                        }
                    }
                }
            }
            Command::StopRule => {
                self.lab.applied.stop = self.lab.session.stop.clone();
                self.lab.worker.send(worker::Command::SetStop(
                    self.lab.session.stop.clone().unwrap_or_default(),
                ));
            }
            Command::LiveRegularization => {
                match crate::optim::validate_regularization(&self.lab.session.regularization) {
                    Ok(()) => {
                        self.lab.applied.regularization = self.lab.session.regularization;
                        self.lab.worker.send(worker::Command::SetRegularization(
                            self.lab.session.regularization,
                        ));
                    }
                    Err(e) => {
                        self.lab.error = Some(format!("{}: {e}", self.t(S::Refused)));
                        self.lab.session.regularization = self.lab.applied.regularization;
                    }
                }
            }
            Command::SetWeight { index, value } => self
                .lab
                .worker
                .send(worker::Command::SetWeight { index, value }),
            Command::SetSpeed(s) => {
                self.lab.speed = s;
                self.lab.worker.send(worker::Command::SetSpeed(s));
            }
            Command::LowerLr => {
                self.lab.session.optimizer.lr /= 10.0;
                self.lab.applied.optimizer.lr = self.lab.session.optimizer.lr;
                self.views.training.lr_text = format!("{}", self.lab.session.optimizer.lr);
                self.lab.worker.send(worker::Command::SetOptimizer(
                    self.lab.session.optimizer.clone(),
                ));
                self.lab.diverged = None;
                self.lab.worker.send(worker::Command::Reset);
            }
            Command::New => {
                self.lab.session = model::default_session();
                self.lab.dataset = None;
                self.files.path = None;
                self.views.training.lr_text = format!("{}", self.lab.session.optimizer.lr);
                self.send_rebuild();
                self.mark_clean_after_build();
            }
            Command::OpenPath(p) => self.open_path(p),
            Command::SaveTo(p) => self.save_to(p),
            Command::Save => match self.files.path.clone() {
                Some(p) => self.save_to(p),
                None => {
                    self.files.dialogs.save = true;
                    self.files.dialogs.path = "session.json".into();
                }
            },
            Command::BrowseOpen => self.pick(0),
            Command::BrowseSave => self.pick(1),
            Command::BrowseCsv => self.pick(2),
            Command::LoadCsv(p) => self.load_csv(p),
            Command::CurvatureOn(on) => {
                self.views.curvature.on = on;
                let every = on.then_some(self.views.curvature.every);
                self.lab.worker.send(worker::Command::CurvatureEvery(every));
                if on {
                    self.lab.worker.send(worker::Command::CurvatureNow);
                }
            }
            Command::CurvatureEvery(every) => {
                self.views.curvature.every = every;
                if self.views.curvature.on {
                    let every = Some(self.views.curvature.every);
                    self.lab.worker.send(worker::Command::CurvatureEvery(every));
                }
            }
            Command::CurvatureMatrix(gauss_newton) => {
                self.views.curvature.gauss_newton = gauss_newton;
                self.views.curvature.restart();
                self.lab.worker.send(worker::Command::CurvatureNow);
            }
            Command::AnalyseNow => self.lab.worker.send(worker::Command::CurvatureNow),
            Command::SetCheckpointBudget(bytes) => {
                self.lab.checkpoint_budget = bytes;
                self.lab
                    .worker
                    .send(worker::Command::SetCheckpointBudget(bytes));
            }
            Command::LandscapeCompute => {
                if self.views.landscape.request() {
                    self.lab.worker.send(worker::Command::PathNow);
                }
            }
            Command::DynamicsRun => {
                let n = &self.lab.applied.network;
                self.views.dynamics.init = (n.init, n.init_scale);
                self.views.dynamics.request();
                self.lab.worker.send(worker::Command::PathNow);
            }
            Command::EditSession(s) => self.lab.session = *s,
            Command::Notify(text) => self.notify(text),
            Command::ShowError(text) => self.lab.error = Some(text),
            Command::DismissError => self.lab.error = None,
            Command::ShowOpen => {
                self.files.dialogs.open = true;
                self.files.dialogs.error = None;
            }
            Command::ShowSaveAs => {
                let d = &mut self.files.dialogs;
                d.save = true;
                d.error = None;
                if d.path.is_empty() {
                    d.path = "session.json".into();
                }
            }
            Command::CloseOpenWindow => self.files.dialogs.open = false,
            Command::CloseSaveWindow => self.files.dialogs.save = false,
            Command::SetDialogPath(p) => self.files.dialogs.path = p,
            Command::SetOptimizer(o) => {
                self.lab.session.optimizer = *o;
                self.apply(ctx, Command::LiveOptimizer);
            }
            Command::SetLang(lang) => self.settings.lang = lang,
            Command::SetDark(dark) => {
                self.settings.dark = dark;
                theme::apply(ctx, dark);
                // The maps are coloured for the theme.
                if let Some(s) = &self.lab.snapshot {
                    let o = &mut self.views.output;
                    o.textures.update(ctx, s, dark, o.discretize);
                }
            }
            Command::Enlarge(tile) => self.workspace.enlarged = tile,
            Command::Preset(p) => self.workspace.apply(p),
            Command::Draw(c) => super::draw::apply(self, c),
            other => self.apply_session_command(other, ctx),
        }
    }

    /// The whole frame (also used by the tests through eframe).
    pub(crate) fn frame_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain(&ctx);
        let (lab, dark) = (&self.lab, self.settings.dark);
        let hovered = self.views.designer.hovered_neuron;
        if let Some(maps) = self.views.output.refresh(&ctx, lab, hovered, dark) {
            // The timeline's replays draw the same maps.
            self.views.timeline.maps = maps;
            self.lab.worker.send(worker::Command::SetMaps(maps));
        }
        self.clock
            .tick(self.lab.status.step, self.lab.status.steps_per_sec);
        // Space toggles Play/Pause unless a text field is being typed into. The key is consumed
        // first, so a focused button or checkbox does not also act on it (Enter still does).
        if !ctx.text_edit_focused()
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space))
        {
            self.commands.send(if self.lab.status.running {
                Command::Pause
            } else {
                Command::Play
            });
        }
        let c = view_ctx!(self);
        panels::top_bar::TopBar.ui(ui, &c);
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(340.0)
            .size_range(300.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let c = view_ctx!(self);
                    self.views.lessons.ui(ui, &c);
                    let c = view_ctx!(self);
                    self.views.data.ui(ui, &c);
                    let c = view_ctx!(self);
                    panels::network::NetworkView.ui(ui, &c);
                    let c = view_ctx!(self);
                    self.views.training.ui(ui, &c);
                });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            let c = view_ctx!(self);
            panels::banners::Banners.ui(ui, &c);
            self.views.timeline.ui(ui, &c);
            panels::workspace::central_ui(&mut self.workspace, &mut self.views, ui, &c);
        });
        let c = view_ctx!(self);
        panels::dialogs::FileDialogs.ui(ui, &c);
        // sessions (timeline, compare, export, recovery)
        let c = view_ctx!(self);
        let export = &self.views.export;
        let has_csv = export
            .tile
            .is_some_and(|t| panels::export::tile_csv(&self.views, &self.lab, t).is_some());
        self.views.export.window_ui(ui, &c, has_csv);
        let c = view_ctx!(self);
        self.views.model_export.ui(ui, &c);
        let c = view_ctx!(self);
        let v = &mut self.views;
        v.compare.window_ui(ui, &c, &v.curvature.lambda_max);
        let c = view_ctx!(self);
        panels::dialogs::SessionDialogs.ui(ui, &c);
        self.check_close(&ctx);
        self.autosave_tick();
        if let Some(e) = self
            .workspace
            .remember(&ctx, self.settings.dark, self.settings.lang)
        {
            self.lab.error = Some(e);
        }
        self.apply_commands(&ctx);
        if self.lab.status.running || self.files.busy || self.views.compare.busy() {
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
        self.files.autosaver.remove();
    }
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
