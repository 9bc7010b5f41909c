//! Locked, atomic, durable replacement of a .env file.
//!
//! Locking: an advisory `flock` on the target file itself, held from before
//! the read until after the rename. Because a writer replaces the file (a new
//! inode), a waiter that gets the lock re-checks that the path still names the
//! inode it locked, and starts over on the new file when it does not. So
//! nothing is left beside the file (no lock file), and every writer sees the
//! previous writer's result: no update is lost. A missing file is created
//! empty (mode 0600) to have something to lock, and removed again if the
//! write fails.
//!
//! Writing: a temporary file in the same directory (`.NAME.PID.RAND.tmp`,
//! mode 0600 from creation), the original's owner and mode copied onto it,
//! fsync, rename over the target, fsync of the directory. A symlink is
//! followed: its final target is replaced and the link stays a link. On any
//! failure the temporary file is removed and the original is untouched.

use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Follows symlinks to the file that is actually read and replaced (which
/// may not exist yet).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p).map_err(|e| write_error(path, &e))?;
                p = if link.is_absolute() {
                    link
                } else {
                    p.parent().unwrap_or(Path::new("")).join(link)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(
        Error::new(Exit::Failure, format!("Cannot write {}", path.display()))
            .cause("too many levels of symbolic links")
            .field("filename", path.display().to_string()),
    )
}

/// A write failure: exit 1 with the reason; the original is untouched.
pub fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(Exit::Failure, format!("Cannot write {}", path.display()))
        .cause(e)
        .field("filename", path.display().to_string())
        .suggest("The file is unchanged; check free space, permissions and that the directory is writable")
}

/// A locked file, ready to be read and replaced.
pub struct Locked {
    /// The path the user named (for messages).
    pub shown: PathBuf,
    /// The file that is replaced (symlinks resolved).
    pub real: PathBuf,
    /// The current text.
    pub text: String,
    file: File,
    meta: Metadata,
    created: bool,
    committed: bool,
}

/// Locks `path` (following symlinks) and reads it. A missing file is created
/// empty when `create`, else the answer is None.
pub fn lock(path: &Path, create: bool, timeout: Duration) -> Result<Option<Locked>> {
    let real = resolve(path)?;
    let deadline = Instant::now() + timeout;
    loop {
        let (file, created) = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&real)
        {
            Ok(f) => (f, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(&real)
                {
                    Ok(f) => (f, true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(write_error(path, &e)),
                }
            }
            Err(e) => return Err(write_error(path, &e)),
        };
        // A placeholder we created goes again if we give up before locking it.
        let give_up = |e: Error| {
            if created {
                remove_if_empty(&real, &file);
            }
            e
        };
        let mut delay = Duration::from_millis(1);
        loop {
            // SAFETY: flock on a file descriptor we own; no memory involved.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK)
                && err.raw_os_error() != Some(libc::EINTR)
            {
                return Err(give_up(write_error(path, &err)));
            }
            if Instant::now() >= deadline {
                return Err(give_up(
                    Error::new(Exit::TempFail, format!("Cannot lock {}", path.display()))
                        .cause(format!(
                            "another writer held the lock for {}",
                            pgkit::duration::format_ms(timeout)
                        ))
                        .field("filename", path.display().to_string())
                        .suggest("Retry later, or raise --lock-timeout"),
                ));
            }
            interrupt::sleep(delay).map_err(give_up)?;
            delay = (delay * 2).min(Duration::from_millis(20));
        }
        let meta = file.metadata().map_err(|e| write_error(path, &e))?;
        let same = std::fs::metadata(&real)
            .map(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
            .unwrap_or(false);
        if !same {
            // Another writer replaced the file while we waited: lock the new one.
            continue;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&file)
            .read_to_end(&mut bytes)
            .map_err(|e| write_error(path, &e))?;
        let mut locked = Locked {
            shown: path.to_path_buf(),
            real: real.clone(),
            text: String::new(),
            file,
            meta,
            created,
            committed: false,
        };
        locked.text = crate::read::utf8(path, bytes)?;
        return Ok(Some(locked));
    }
}

impl Locked {
    /// Whether the file was created by this run (it did not exist).
    pub fn created(&self) -> bool {
        self.created
    }

    /// Whether the file has no write permission for anyone (0444): someone
    /// meant it not to change, even though renaming over it would work.
    pub fn read_only(&self) -> bool {
        !self.created && self.meta.mode() & 0o222 == 0
    }

    /// Replaces the file's content with `text`, atomically and durably.
    pub fn commit(&mut self, text: &str) -> Result<()> {
        interrupt::check()?;
        let dir = match self.real.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".env".into());
        sweep_stale(&dir, &name);
        let tmp = dir.join(format!(
            ".{name}.{}.{:08x}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        let shown = self.shown.clone();
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| write_error(&shown, &e))?;
        let guard = TmpGuard(Some(tmp.clone()));
        f.write_all(text.as_bytes())
            .map_err(|e| write_error(&shown, &e))?;
        let fd = f.as_raw_fd();
        if !self.created {
            let tm = f.metadata().map_err(|e| write_error(&shown, &e))?;
            if tm.uid() != self.meta.uid() || tm.gid() != self.meta.gid() {
                // SAFETY: fchown on our own descriptor.
                if unsafe { libc::fchown(fd, self.meta.uid(), self.meta.gid()) } != 0 {
                    let e = std::io::Error::last_os_error();
                    let (what, who) = if tm.uid() != self.meta.uid() {
                        ("owner", "Run as the file's owner (or root)")
                    } else {
                        ("group", "Run as a member of the file's group (or root)")
                    };
                    return Err(Error::new(
                        Exit::Failure,
                        format!("Cannot write {}", shown.display()),
                    )
                    .cause(format!(
                        "cannot keep the file's {what} {}:{}: {e}",
                        self.meta.uid(),
                        self.meta.gid()
                    ))
                    .field("filename", shown.display().to_string())
                    .suggest(format!("{who}; the file is unchanged")));
                }
            }
        }
        let mode = if self.created {
            0o600
        } else {
            self.meta.mode() & 0o7777
        };
        // SAFETY: fchmod on our own descriptor.
        if unsafe { libc::fchmod(fd, mode as libc::mode_t) } != 0 {
            return Err(write_error(&shown, &std::io::Error::last_os_error()));
        }
        f.sync_all().map_err(|e| write_error(&shown, &e))?;
        drop(f);
        interrupt::check()?;
        std::fs::rename(&tmp, &self.real).map_err(|e| {
            if e.raw_os_error() == Some(libc::EBUSY) {
                // A file bind-mounted on its own (docker -v ./.env:/app/.env)
                // cannot be replaced, only rewritten in place, which is not
                // atomic: refuse, leaving it as it is.
                write_error(&shown, &e).suggest("The file is a mount point (a single-file bind mount?) and cannot be replaced atomically; it is unchanged. Mount its directory instead, or edit it on the host")
            } else {
                write_error(&shown, &e)
            }
        })?;
        guard.disarm();
        self.committed = true;
        if !self.created && self.meta.nlink() > 1 {
            pgkit::log::warn(
                "The file had other hard links; they keep the old content",
                serde_json::json!({"filename": shown.display().to_string(), "links": self.meta.nlink()}),
            );
        }
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| write_error(&shown, &e))?;
        Ok(())
    }
}

/// Removes `path` when it is still the empty file open as `file` (a
/// placeholder created to be locked).
fn remove_if_empty(path: &Path, file: &File) {
    let ours = match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev() && b.len() == 0,
        _ => false,
    };
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // A file created only to be locked goes again if nothing was written;
        // the lock goes with the descriptor, after this.
        if self.created && !self.committed {
            remove_if_empty(&self.real, &self.file);
        }
    }
}

/// Removes the temporary file unless disarmed.
struct TmpGuard(Option<PathBuf>);

impl TmpGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes the temporary files (`.NAME.PID.RAND.tmp`) of writers that died
/// before renaming theirs (SIGKILL, power loss): each is a full copy of the
/// file's secrets. Called under the file's lock, so no live writer of this
/// file is between writing its temporary file and renaming it; the process
/// check is a second safeguard.
fn sweep_stale(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(f) = file.to_str() else { continue };
        let Some(rest) = f.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else {
            continue;
        };
        let mut parts = rest.split('.');
        let (Some(pid), Some(rand), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(pid), true) = (
            pid.parse::<i32>(),
            rand.len() == 8 && rand.bytes().all(|b| b.is_ascii_hexdigit()),
        ) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks that the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && std::fs::remove_file(entry.path()).is_ok() {
            log::info(
                "Removed a dead writer's temporary file",
                json!({"filename": entry.path().display().to_string(), "pid": pid}),
            );
        }
    }
}
