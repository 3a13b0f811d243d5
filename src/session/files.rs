//! Reading and writing files safely: only regular files are read, with a hard byte limit
//! (a device or a FIFO named as a session is refused, not read until memory runs out or
//! waited on for ever); writes are atomic, go through symbolic links to the file they name,
//! keep its permissions, refuse to replace anything that is not a regular file, and clean up
//! the temp files of earlier writes that were killed midway.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

use super::display_name;

/// Most symbolic links followed to find the file a path names (Linux's own limit).
const MAX_LINKS: usize = 40;
/// A temp file of ours whose process is gone is removed once it is this old (a folder shared
/// with another machine or another process namespace may hold a live write whose process id
/// means nothing here; no write stays unfinished this long).
const DEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(60);
/// Any temp file of ours older than this is removed (the process id may have been reused).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Marks our temp files: `.NAME.nnlab-PID-N.tmp`.
const TEMP_TAG: &str = ".nnlab-";

/// Open `path` for reading if it is a regular file (symbolic links followed). A FIFO is
/// opened without waiting for a writer and then refused like any other special file.
fn open_regular(path: &Path) -> Result<File> {
    let name = display_name(path);
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts
        .open(path)
        .map_err(|e| Error::new(format!("{name}: {}", io_reason(&e))))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::new(format!("{name}: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(Error::new(format!("{name}: is a folder, not a file")));
    }
    if !meta.is_file() {
        return Err(Error::new(format!(
            "{name}: is not a regular file (a device, pipe or socket); nnlab reads only regular files"
        )));
    }
    Ok(file)
}

/// The whole of a regular file, refused when it has more than `max` bytes. The limit holds
/// whatever the metadata claims: at most `max + 1` bytes are ever read.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    let name = display_name(path);
    let file = open_regular(path)?;
    let claimed = file.metadata().map(|m| m.len()).unwrap_or(0);
    let too_large = |n: u64| Error::new(format!("{name}: {n} bytes is too large (at most {max})"));
    if claimed > max {
        return Err(too_large(claimed));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(claimed as usize)
        .map_err(|_| Error::new(format!("{name}: not enough memory to read {claimed} bytes")))?;
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(format!("{name}: {}", io_reason(&e))))?;
    if bytes.len() as u64 > max {
        return Err(Error::new(format!(
            "{name}: more than {max} bytes is too large"
        )));
    }
    Ok(bytes)
}

/// A short reason for an I/O error (the OS text without "(os error 2)").
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file or folder".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// The file `path` names: symbolic links followed to their end, even a link to a file that
/// does not exist yet (the link's target is where a write goes).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let name = display_name(path);
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)
                    .map_err(|e| Error::new(format!("{name}: {}", io_reason(&e))))?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::new(format!(
        "{name}: more than {MAX_LINKS} symbolic links in a row (a loop?)"
    )))
}

/// Where `path` leads once links are followed, as an absolute path with its folder made
/// canonical (the file itself need not exist).
pub fn absolute_target(path: &Path) -> Option<PathBuf> {
    let p = std::path::absolute(resolve(path).ok()?).ok()?;
    let dir = parent_dir(&p).canonicalize().ok()?;
    Some(dir.join(p.file_name()?))
}

/// Whether two paths name the same file (through links; the files need not exist yet).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (absolute_target(a), absolute_target(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The folder a file lives in ("." for a bare name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What a write to `path` would replace: Ok(Some(meta)) for an existing regular file,
/// Ok(None) for a file yet to be created in an existing folder, Err for anything else.
fn writable_target(path: &Path, shown: &str) -> Result<Option<fs::Metadata>> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(m)),
        Ok(m) if m.is_dir() => Err(Error::new(format!(
            "{shown}: is a folder; give a file name"
        ))),
        Ok(_) => Err(Error::new(format!(
            "{shown}: is not a regular file (a device, pipe or socket); nnlab replaces only regular files"
        ))),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let dir = parent_dir(path);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => Ok(None),
                Ok(_) => Err(Error::new(format!(
                    "{shown}: {} is not a folder",
                    dir.display()
                ))),
                Err(_) => Err(Error::new(format!(
                    "{shown}: the folder {} does not exist",
                    dir.display()
                ))),
            }
        }
        Err(e) => Err(Error::new(format!("{shown}: {}", io_reason(&e)))),
    }
}

/// Refuse a path that leads (through any links, as the kernel follows them) to something
/// that exists and is not a regular file: `/dev/stdout`, a device, a FIFO.
fn refuse_special(path: &Path, shown: &str) -> Result<()> {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => writable_target(path, shown).map(|_| ()),
        _ => Ok(()),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temp file beside `target` (created, empty), named so a later write can tell it
/// is ours and whose process made it.
fn create_temp(target: &Path) -> std::io::Result<(PathBuf, File)> {
    let dir = parent_dir(target);
    let mut name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // Room for the tag within the 255 bytes a file name may have.
    if name.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| name.is_char_boundary(i))
            .unwrap_or(0);
        name.truncate(cut);
    }
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}{TEMP_TAG}{}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Check before a long run that `path` can be written: a regular file or a new name in an
/// existing folder where a file can be created. Nothing is left behind.
pub fn check_writable(path: &Path, what: &str) -> Result<()> {
    let shown = format!("{what} {}", path.display());
    refuse_special(path, &shown)?;
    let target = resolve(path).map_err(|e| Error::new(format!("{what}: {}", e.message)))?;
    writable_target(&target, &shown)?;
    let (tmp, f) = create_temp(&target).map_err(|e| {
        Error::new(format!(
            "{shown}: cannot write in {}: {}",
            parent_dir(&target).display(),
            io_reason(&e)
        ))
    })?;
    drop(f);
    let _ = fs::remove_file(tmp);
    Ok(())
}

/// Whether process `pid` is running on this machine (unknown: assumed running).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // Signal 0 checks without sending: ESRCH means no such process (EPERM: one we may
        // not signal, so it exists).
        // SAFETY: kill with signal 0 has no effect on any process.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// The process id in one of our temp-file names: `.ANY.nnlab-PID-N.tmp` (whatever file it
/// was for: all of ours in a folder are cleaned), or the older `.NAME.PID.tmp` of `name`.
fn temp_owner(file: &str, name: &str) -> Option<u32> {
    let rest = file.strip_prefix('.')?.strip_suffix(".tmp")?;
    if let Some((_, tail)) = rest.rsplit_once(TEMP_TAG) {
        let (pid, n) = tail.split_once('-')?;
        n.parse::<u64>().ok()?;
        return pid.parse().ok();
    }
    rest.strip_prefix(name)?.strip_prefix('.')?.parse().ok()
}

/// Remove temp files of ours in `dir` that a killed write left behind: those of processes
/// no longer running (once a minute old), and any older than a day. Errors are ignored (best
/// effort).
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(owner) = temp_owner(&file.to_string_lossy(), name) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        let dead = owner != me && !process_alive(owner);
        if (dead && age > DEAD_AFTER) || age > STALE_AFTER {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Write `bytes` to `path` atomically: a temp file in the same folder, fsync, rename. A
/// symbolic link is written through (the file it names is replaced, the link stays); an
/// existing file keeps its permissions (and, where allowed, its owner); a folder, device,
/// pipe or socket is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = display_name(path);
    refuse_special(path, &name)?;
    let target = resolve(path)?;
    let old = writable_target(&target, &name)?;
    let dir = parent_dir(&target);
    let file_name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temps(&dir, &file_name);
    let mut tmp_path = None;
    let result = (|| -> std::io::Result<()> {
        let (tmp, mut f) = create_temp(&target)?;
        tmp_path = Some(tmp.clone());
        if let Some(m) = &old {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                // Only root may give a file away; for anyone else this is a no-op or fails.
                // Before the mode: a change of owner clears the set-id bits.
                let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
            }
            f.set_permissions(m.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &target)?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        if let Some(tmp) = tmp_path {
            let _ = fs::remove_file(tmp);
        }
        Error::new(format!("{name}: could not save: {}", io_reason(&e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        assert_eq!(temp_owner(".a.json.nnlab-123-4.tmp", "a.json"), Some(123));
        assert_eq!(temp_owner(".a.json.77.tmp", "a.json"), Some(77));
        assert_eq!(temp_owner(".b.json.77.tmp", "a.json"), None);
        assert_eq!(temp_owner("a.json.77.tmp", "a.json"), None);
        assert_eq!(temp_owner(".a.json.x.tmp", "a.json"), None);
        assert_eq!(temp_owner(".other.nnlab-9-0.tmp", "a.json"), Some(9));
    }
}
