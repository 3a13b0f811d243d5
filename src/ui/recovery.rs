//! Nothing is lost: the state folder (recent files, the recovery file) and the autosave thread.
//!
//! The folder is `$NNLAB_STATE_DIR` (tests point it at a temp folder), else
//! `$XDG_STATE_HOME/nnlab`, else `~/.local/state/nnlab`. While training, the app hands the
//! whole experiment to the autosave thread every few seconds; that thread encodes and writes
//! it atomically, so the UI thread never touches the disk. Each running app has a recovery
//! file of its own; a clean exit removes it. After a crash or a kill the next start (with or
//! without a file to open) finds it and offers to restore it; it is never overwritten before
//! the person has chosen.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::runtime::JobThread;
use crate::session::{self, Session};
use crate::ui::app::Job;

/// How often the app autosaves while there is unsaved training (at least; see
/// [`Autosaver::interval`]).
pub const AUTOSAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// A large session takes a while to write: the next autosave waits this many times as long
/// as the last one took, so writing never takes more than a tenth of the machine's disk time.
const AUTOSAVE_DUTY: u32 = 10;
/// Recent files kept.
pub(crate) const MAX_RECENT: usize = 10;

/// The folder for the recovery file and the recent-files list (None: no home folder known).
pub fn state_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("NNLAB_STATE_DIR") {
        return Some(d);
    }
    if let Some(d) = var("XDG_STATE_HOME") {
        return Some(d.join("nnlab"));
    }
    var("HOME").map(|h| h.join(".local").join("state").join("nnlab"))
}

/// A fresh recovery file name for one running app: `recovery-PID-NONCE.json`. One per app,
/// so two windows never overwrite each other's, and a new start (even one that reuses a
/// crashed run's process id) never overwrites the file the crashed run left.
fn own_recovery_path(dir: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    dir.join(format!(
        "recovery-{}-{:x}.json",
        std::process::id(),
        nanos ^ (n << 48)
    ))
}

/// The process that wrote a recovery file, from its name (None: the older `recovery.json`).
fn recovery_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("recovery-")?.strip_suffix(".json")?;
    rest.split_once('-')?.0.parse().ok()
}

/// Recovery files whose app is no longer running, newest first: left by a crash or a kill.
/// The files of other running apps are left alone (a file whose process id was reused by an
/// unrelated process waits for a later start); this process's own earlier apps count as gone.
pub(crate) fn leftover_recoveries(dir: &Path, own: Option<&Path>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let left = match recovery_owner(&name) {
                Some(pid) => pid == me || !session::files::process_alive(pid),
                None => name == "recovery.json",
            };
            let path = e.path();
            let meta = e.metadata().ok()?;
            (left && meta.is_file() && Some(path.as_path()) != own)
                .then(|| (meta.modified().unwrap_or(std::time::UNIX_EPOCH), path))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn recent_path(dir: &Path) -> PathBuf {
    dir.join("recent.json")
}

/// The recent files list (missing or unreadable: empty; a broken list is not worth a message).
pub(crate) fn load_recent(dir: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = session::files::read_limited(&recent_path(dir), 1 << 20) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut v: Vec<PathBuf> = serde_json::from_str(&text).unwrap_or_default();
    v.truncate(MAX_RECENT);
    v
}

/// Write the recent list (call it on a helper thread).
pub(crate) fn save_recent(dir: &Path, recent: &[PathBuf]) -> crate::error::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::new(format!("{e}")))?;
    let text = serde_json::to_string_pretty(recent)
        .map_err(|e| crate::error::Error::new(format!("{e}")))?;
    session::write_atomic(&recent_path(dir), text.as_bytes())
}

enum Msg {
    Save(Box<Session>),
    Remove,
    /// A restored recovery file becomes this app's own (renamed, so it stays protected until
    /// the next autosave replaces it).
    Adopt(PathBuf),
    /// A recovery file the person chose to discard.
    Discard(PathBuf),
}

/// The autosave thread's handle. Sessions sent faster than they are written are coalesced:
/// only the newest is written. Removing, adopting and discarding files keep their order and are
/// finished even while the app closes.
pub struct Autosaver {
    thread: JobThread<Msg, Job>,
    /// This app's own recovery file (None without a state directory).
    pub path: Option<PathBuf>,
    /// How long the last autosave took to encode and write (milliseconds).
    last_ms: Arc<AtomicU64>,
}

impl Autosaver {
    /// Start the autosave thread writing into `dir` (None: it writes nothing); `repaint` wakes the
    /// UI when it reports.
    pub fn spawn(dir: Option<PathBuf>, repaint: Arc<dyn Fn() + Send + Sync>) -> Autosaver {
        let path = dir.as_deref().map(own_recovery_path);
        let last_ms = Arc::new(AtomicU64::new(0));
        let took = last_ms.clone();
        let target = dir.zip(path.clone());
        // One message per run is enough: the next autosave will try again anyway.
        let reported = AtomicBool::new(false);
        let thread = JobThread::spawn(
            "nnlab-autosave",
            repaint,
            move |msg: Msg, _cancel, emit| {
                // No folder to write to: nothing to do.
                let Some((dir, path)) = &target else { return };
                let mut report = |message: String| {
                    if !reported.swap(true, Ordering::Relaxed) {
                        emit(Job::AutosaveFailed(message));
                    }
                };
                match msg {
                    Msg::Remove => {
                        let _ = std::fs::remove_file(path);
                    }
                    Msg::Adopt(from) => {
                        if std::fs::rename(&from, path).is_err() {
                            report(format!("autosave: could not take over {}", from.display()));
                        }
                    }
                    Msg::Discard(p) => {
                        let _ = std::fs::remove_file(p);
                    }
                    Msg::Save(s) => {
                        let start = std::time::Instant::now();
                        let r = std::fs::create_dir_all(dir)
                            .map_err(|e| {
                                crate::error::Error::new(format!("{}: {e}", dir.display()))
                            })
                            .and_then(|()| session::save(path, &s));
                        took.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
                        if let Err(e) = r {
                            report(format!("autosave: {e}"));
                        }
                    }
                }
            },
            |message| Job::AutosaveFailed(format!("autosave failed: {message}")),
        );
        Autosaver {
            thread,
            path,
            last_ms,
        }
    }

    /// The time between autosaves: [`AUTOSAVE_EVERY`], or longer for a session that takes
    /// long to write (a network of a million parameters writes ~170 MB).
    pub fn interval(&self) -> std::time::Duration {
        let last = std::time::Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        AUTOSAVE_EVERY.max(last * AUTOSAVE_DUTY)
    }

    /// Write `s` as this app's recovery file (replacing a save still waiting).
    pub fn save(&self, s: Session) {
        self.thread.submit(Msg::Save(Box::new(s)));
    }

    /// The work is saved or discarded: no recovery needed.
    pub fn remove(&self) {
        self.thread.queue(Msg::Remove);
    }

    /// The recovery file `from` was restored: it becomes this app's own recovery file.
    pub fn adopt(&self, from: PathBuf) {
        self.thread.queue(Msg::Adopt(from));
    }

    /// The recovery file `path` was discarded by the person.
    pub fn discard(&self, path: PathBuf) {
        self.thread.queue(Msg::Discard(path));
    }

    /// An autosave failure to report.
    pub fn try_recv(&self) -> Option<Job> {
        self.thread.try_recv()
    }
}
