//! The app's files: the file and dialog threads, the Open/Save windows, the session's path and
//! the recent list, whether the work is saved (clean point, autosave, recovery at start) and
//! the close confirmation.

use std::path::PathBuf;
use std::time::Instant;

use crate::runtime::JobThread;
use crate::runtime::job::Task;
use crate::session::{self, Session};

use super::app::Job;
use super::recovery;

/// The Open and Save-as windows.
pub struct Dialogs {
    /// The Open window is showing.
    pub open: bool,
    /// The Save-as window is showing.
    pub save: bool,
    /// The path typed in whichever of the two is open.
    pub path: String,
    /// Why the last open or save from these windows failed, shown under the path.
    pub error: Option<String>,
    /// The example sessions (`sessions/*.json` in the working directory) the Open window lists.
    pub examples: Vec<PathBuf>,
}

/// The app's files (see the module doc). Fields are crate-private: views read them through the
/// accessors below, only the app writes them.
pub struct Files {
    pub(crate) dialogs: Dialogs,
    pub(crate) recent: Vec<PathBuf>,
    /// Where the session was opened from or saved to (None: never saved).
    pub(crate) path: Option<PathBuf>,
    /// File reads and writes, in order (a save is never dropped).
    pub(crate) tasks: JobThread<Task<Job>, Job>,
    /// File dialogs, one at a time (each blocks its thread until closed).
    pub(crate) file_dialogs: JobThread<Task<Job>, Job>,
    /// A file task is under way.
    pub(crate) busy: bool,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) autosaver: recovery::Autosaver,
    pub(crate) last_autosave: Instant,
    /// Recovery files found at start, waiting for Restore or Discard (the first is offered).
    pub(crate) recovery: Vec<(PathBuf, Box<session::Loaded>)>,
    /// (step, spec, edits) when last opened or saved; None until the opened run reports.
    pub(crate) clean: Option<(u64, Session, usize)>,
    /// 1: the opened run is being built; 2: its next status is the clean point.
    pub(crate) clean_pending: u8,
    /// The close confirmation is showing.
    pub(crate) close_asked: bool,
    pub(crate) allow_close: bool,
    pub(crate) close_after_save: bool,
    /// A viewport command decided outside a frame (close after the save finished).
    pub(crate) close_ctx_cmd: Option<eframe::egui::ViewportCommand>,
}

impl Files {
    pub(crate) fn new(
        state_dir: Option<PathBuf>,
        repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
    ) -> Files {
        Files {
            dialogs: Dialogs {
                open: false,
                save: false,
                path: String::new(),
                error: None,
                examples: list_examples(),
            },
            recent: Vec::new(),
            path: None,
            tasks: JobThread::tasks("nnlab-files", repaint.clone(), Job::TaskFailed),
            file_dialogs: JobThread::tasks("nnlab-dialogs", repaint.clone(), Job::TaskFailed),
            busy: false,
            autosaver: recovery::Autosaver::spawn(state_dir.clone(), repaint),
            state_dir,
            last_autosave: Instant::now(),
            recovery: Vec::new(),
            clean: None,
            clean_pending: 0,
            close_asked: false,
            allow_close: false,
            close_after_save: false,
            close_ctx_cmd: None,
        }
    }

    /// Where the session was opened from or last saved to.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    /// Sessions opened or saved recently, newest first (the Open window lists them).
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// A file task (open, save, export, CSV) is under way.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Recovery files waiting for Restore or Discard.
    pub fn recovery(&self) -> &[(PathBuf, Box<session::Loaded>)] {
        &self.recovery
    }

    /// The close confirmation is showing.
    pub fn close_asked(&self) -> bool {
        self.close_asked
    }

    /// The Open and Save-as windows' state.
    pub fn dialogs(&self) -> &Dialogs {
        &self.dialogs
    }

    /// The directory of the recovery file and the recent list (None: the app keeps neither).
    pub fn state_dir(&self) -> Option<&std::path::Path> {
        self.state_dir.as_deref()
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
