//! A small deterministic parallel map: items are handed out one at a time to scoped worker
//! threads; each result depends only on its index, so the output does not depend on the
//! number of threads or on the schedule.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// `work(i, scratch)` for i in 0..count on `threads` threads (one scratch per thread, made by
/// `scratch`); `on_done(i, &result)` runs on the calling thread as results arrive. `work`
/// returns `None` to give up (cancelled). Returns `None` if `cancel` was set or any item gave
/// up; otherwise the results in index order.
pub(crate) fn par_map<T, S>(
    count: usize,
    threads: usize,
    cancel: &AtomicBool,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(usize, &mut S) -> Option<T> + Sync,
    mut on_done: impl FnMut(usize, &T),
) -> Option<Vec<T>>
where
    T: Send,
{
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        let mut s = scratch();
        for (i, slot) in out.iter_mut().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let r = work(i, &mut s)?;
            on_done(i, &r);
            *slot = Some(r);
        }
    } else {
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<(usize, T)>();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (next, scratch, work) = (&next, &scratch, &work);
                scope.spawn(move || {
                    let mut s = scratch();
                    loop {
                        if cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        match work(i, &mut s) {
                            Some(r) => {
                                if tx.send((i, r)).is_err() {
                                    break;
                                }
                            }
                            None => break,
                        }
                    }
                });
            }
            drop(tx);
            for (i, r) in rx {
                on_done(i, &r);
                out[i] = Some(r);
            }
        });
    }
    if cancel.load(Ordering::Relaxed) {
        return None;
    }
    out.into_iter().collect()
}
