//! One background job at a time, the newest request winning: the thread type behind every
//! analysis, replay, compare, export and file job of the app.
//!
//! A new job replaces one still waiting and raises the cancel flag of the one running (the
//! library's long loops poll it), so a slow job never builds a queue and only the newest answer
//! matters. The thread runs below training's priority, and a panic inside a job becomes an
//! ordinary answer instead of a dead thread. A repaint callback keeps this module free of the
//! GUI toolkit.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// A helper thread that runs one job at a time. [`submit`](Self::submit) is for requests where
/// only the newest matters (an analysis of the current θ): it replaces every job still waiting
/// and raises the cancel flag of the one running. [`queue`](Self::queue) is for work that must
/// not be lost (writing a file): it waits its turn, is never replaced, and is finished even when
/// the handle is dropped (the drop waits for it). `work(job, cancel, emit)` sends its answers
/// through `emit`; a panic becomes `on_panic(message)`.
pub struct JobThread<J: Send + 'static, E: Send + 'static> {
    mailbox: Arc<(Mutex<Mailbox<J>>, Condvar)>,
    rx: Receiver<E>,
    handle: Option<JoinHandle<()>>,
}

struct Waiting<J> {
    job: J,
    cancel: Arc<AtomicBool>,
    /// Queued work that must run even at shutdown.
    keep: bool,
}

struct Mailbox<J> {
    jobs: VecDeque<Waiting<J>>,
    /// The cancel flag of the running job, and whether it is kept work.
    running: Option<(Arc<AtomicBool>, bool)>,
    shutdown: bool,
}

/// A one-off piece of work for a task thread: it sends its answers through the callback.
pub type Task<E> = Box<dyn FnOnce(&mut dyn FnMut(E)) + Send>;

impl<E: Send + 'static> JobThread<Task<E>, E> {
    /// A thread that runs closures in turn (file reads and writes, dialogs).
    pub fn tasks(
        name: &str,
        repaint: Arc<dyn Fn() + Send + Sync>,
        on_panic: impl Fn(String) -> E + Send + 'static,
    ) -> Self {
        JobThread::spawn(name, repaint, |task: Task<E>, _, emit| task(emit), on_panic)
    }
}

impl<J: Send + 'static, E: Send + 'static> JobThread<J, E> {
    /// Start the thread: `run(job, cancel, emit)` does one job, sending events through `emit`;
    /// a panic in it becomes the event `on_panic` makes of its message.
    pub fn spawn(
        name: &str,
        repaint: Arc<dyn Fn() + Send + Sync>,
        work: impl Fn(J, &AtomicBool, &mut dyn FnMut(E)) + Send + 'static,
        on_panic: impl Fn(String) -> E + Send + 'static,
    ) -> Self {
        let mailbox = Arc::new((
            Mutex::new(Mailbox {
                jobs: VecDeque::new(),
                running: None,
                shutdown: false,
            }),
            Condvar::new(),
        ));
        let (tx, rx) = mpsc::channel();
        let m = mailbox.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || job_main(&m, &tx, repaint, work, on_panic))
            .expect("spawn a helper thread");
        JobThread {
            mailbox,
            rx,
            handle: Some(handle),
        }
    }

    /// Run `job` next, replacing every job still waiting and cancelling the one running.
    pub fn submit(&self, job: J) {
        self.put(job, false);
    }

    /// Run `job` after the jobs already waiting; it is never replaced or cancelled.
    pub fn queue(&self, job: J) {
        self.put(job, true);
    }

    fn put(&self, job: J, keep: bool) {
        put(&self.mailbox, job, keep);
    }

    /// A handle that can queue work from another thread (e.g. a screenshot callback).
    pub fn sender(&self) -> JobSender<J> {
        JobSender {
            mailbox: self.mailbox.clone(),
        }
    }

    /// Cancel the running job and drop the waiting ones (queued work excepted).
    pub fn cancel(&self) {
        if let Ok(mut m) = self.mailbox.0.lock() {
            m.cancel_replaceable();
        }
    }

    /// Whether a job is waiting or running.
    pub fn busy(&self) -> bool {
        self.mailbox
            .0
            .lock()
            .is_ok_and(|m| m.running.is_some() || !m.jobs.is_empty())
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<E> {
        self.rx.try_recv().ok()
    }
}

/// Queues work on a [`JobThread`] from anywhere; answers still arrive at the thread's owner.
pub struct JobSender<J> {
    mailbox: Arc<(Mutex<Mailbox<J>>, Condvar)>,
}

impl<J> Clone for JobSender<J> {
    fn clone(&self) -> Self {
        JobSender {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<J> JobSender<J> {
    /// As [`JobThread::queue`]: after the jobs waiting, never replaced.
    pub fn queue(&self, job: J) {
        put(&self.mailbox, job, true);
    }
}

fn put<J>(mailbox: &(Mutex<Mailbox<J>>, Condvar), job: J, keep: bool) {
    let (lock, cv) = mailbox;
    if let Ok(mut m) = lock.lock() {
        // After shutdown nobody would run it.
        if m.shutdown {
            return;
        }
        if !keep {
            m.cancel_replaceable();
        }
        m.jobs.push_back(Waiting {
            job,
            cancel: Arc::new(AtomicBool::new(false)),
            keep,
        });
        cv.notify_one();
    }
}

impl<J> Mailbox<J> {
    fn cancel_replaceable(&mut self) {
        if let Some((flag, false)) = &self.running {
            flag.store(true, Ordering::Relaxed);
        }
        self.jobs.retain(|w| w.keep);
    }
}

impl<J: Send + 'static, E: Send + 'static> Drop for JobThread<J, E> {
    fn drop(&mut self) {
        let (lock, cv) = &*self.mailbox;
        let mut finish_kept_work = false;
        if let Ok(mut m) = lock.lock() {
            m.cancel_replaceable();
            m.shutdown = true;
            finish_kept_work = !m.jobs.is_empty() || matches!(m.running, Some((_, true)));
            cv.notify_one();
        }
        let handle = self.handle.take();
        // Queued work (a save) is finished before the process may exit; a cancelled analysis
        // sees its flag soon, and the window does not wait for it.
        if finish_kept_work && let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn job_main<J, E>(
    mailbox: &(Mutex<Mailbox<J>>, Condvar),
    tx: &Sender<E>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    work: impl Fn(J, &AtomicBool, &mut dyn FnMut(E)),
    on_panic: impl Fn(String) -> E,
) {
    lower_priority();
    let (lock, cv) = mailbox;
    loop {
        let (job, cancel) = {
            let Ok(mut m) = lock.lock() else { return };
            m.running = None;
            loop {
                // At shutdown only kept work is left (cancel_replaceable ran first).
                if let Some(w) = m.jobs.pop_front() {
                    m.running = Some((w.cancel.clone(), w.keep));
                    break (w.job, w.cancel);
                }
                if m.shutdown {
                    return;
                }
                m = match cv.wait(m) {
                    Ok(m) => m,
                    Err(_) => return,
                };
            }
        };
        let mut emit = |e: E| {
            let _ = tx.send(e);
            repaint();
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| work(job, &cancel, &mut emit))) {
            emit(on_panic(panic_message(p.as_ref())));
        }
    }
}

/// The text of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Nice 10 for this thread (and the helper threads it starts, which inherit it) on Linux, where
/// the nice value is per thread: training keeps most of a busy CPU (nice 19 left an analysis
/// of a few milliseconds waiting seconds behind full-speed training), yet analyses still finish
/// between frames.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the calling thread's nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}
