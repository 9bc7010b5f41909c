//! The per-source lock: `flock` on the source's directory, so overlapping
//! `dump` and `purge` runs for one source take turns. The kernel releases it
//! when the process ends, however it ends: no stale lock files.
//!
//! `dump` creates the directory it locks; a dump that then fails removes the
//! directories it created while they are still empty (under the lock), so a
//! failed connection leaves nothing behind. A run that was waiting for the
//! lock of a directory removed meanwhile notices (the locked directory is no
//! longer the one at the path) and locks the new one instead.

use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held lock; released on drop (closing the descriptor).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Directories a run created (outermost first). On drop, the ones still
/// empty are removed again, innermost first, unless `keep` was called.
#[derive(Debug, Default)]
pub struct Created {
    paths: Vec<PathBuf>,
}

impl Created {
    /// The directories now hold something worth keeping (a dump): they
    /// stay. Returns them, outermost first.
    pub fn keep(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.paths)
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        for p in self.paths.iter().rev() {
            // remove_dir removes only an empty directory: anything that
            // appeared in it (another run's dump) keeps it, and its parents.
            match std::fs::remove_dir(p) {
                Ok(()) => log::debug(
                    "Removed a directory this run created",
                    json!({"path": p.display().to_string()}),
                ),
                Err(_) => break,
            }
        }
    }
}

/// A source directory locked by `dump`. Fields drop in order: the empty
/// directories this run created go before the lock is released.
#[derive(Debug)]
pub struct SourceDir {
    /// What to remove again on failure.
    pub created: Created,
    _lock: Lock,
}

/// Creates `dir` (and missing parents) if needed and locks it, waiting up to
/// `wait` (then 75). Directories created are removed again (when empty) only
/// by dropping the returned `SourceDir`, under the lock.
pub fn create_and_acquire(dir: &Path, source: &str, wait: Duration) -> Result<SourceDir> {
    let start = Instant::now();
    let mut created = Created::default();
    loop {
        for p in create_missing(dir)? {
            if !created.paths.contains(&p) {
                created.paths.push(p);
            }
        }
        let left = wait.saturating_sub(start.elapsed());
        match acquire_once(dir, source, left, wait) {
            Ok(Some(lock)) => {
                return Ok(SourceDir {
                    created,
                    _lock: lock,
                })
            }
            Ok(None) => continue,
            Err(e) => {
                // Not under the lock: another run may hold it and be about
                // to write into the directory. It stays.
                created.keep();
                return Err(e);
            }
        }
    }
}

/// Creates `dir` and its missing ancestors; returns those it created,
/// outermost first.
fn create_missing(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut p = Some(dir);
    while let Some(d) = p {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d.to_path_buf());
        p = d.parent();
    }
    let mut made = Vec::new();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(&d) {
            Ok(()) => made.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                // Undo what this call made before failing.
                drop(Created { paths: made });
                return Err(Error::io(Exit::Dump, "create", &d, &e));
            }
        }
    }
    Ok(made)
}

/// Takes the lock on an existing `dir`, waiting up to `wait` (then 75).
pub fn acquire(dir: &Path, source: &str, wait: Duration) -> Result<Lock> {
    let start = Instant::now();
    loop {
        let left = wait.saturating_sub(start.elapsed());
        if let Some(lock) = acquire_once(dir, source, left, wait)? {
            return Ok(lock);
        }
    }
}

/// One attempt: None when the directory locked is no longer the one at
/// `dir` (removed or replaced while this run waited): try again.
fn acquire_once(dir: &Path, source: &str, wait: Duration, total: Duration) -> Result<Option<Lock>> {
    let file = File::open(dir).map_err(|e| Error::io(Exit::Failure, "open", dir, &e))?;
    let start = Instant::now();
    let mut logged = false;
    loop {
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            let same = match (file.metadata(), std::fs::metadata(dir)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            return Ok(same.then_some(Lock { _file: file }));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK)
            && err.kind() != std::io::ErrorKind::Interrupted
        {
            return Err(Error::io(Exit::Failure, "lock", dir, &err));
        }
        if start.elapsed() >= wait {
            return Err(
                Error::new(Exit::TempFail, "Another run holds the source's lock")
                    .cause(format!(
                        "a dump or purge of source {source:?} is running; waited {}ms",
                        total.as_millis()
                    ))
                    .field("source", source)
                    .suggest("Retry later, or raise --lock-wait (DUMP_LOCK_WAIT)"),
            );
        }
        if !logged {
            log::info(
                "Waiting for another run of this source to finish",
                json!({"source": source, "lockWaitMs": total.as_millis() as u64}),
            );
            logged = true;
        }
        let left = wait.saturating_sub(start.elapsed());
        interrupt::sleep(left.min(Duration::from_millis(100)))?;
    }
}
