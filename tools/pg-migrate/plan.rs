//! Files against history: what is applied, pending, drifted (checksum
//! changed), failed (a no-transaction file that did not finish), or missing
//! (applied, file gone).

use crate::checksum;
use crate::files::{cmp_version, Migration};
use crate::layout::Sections;
use crate::tracking::Applied;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::path::Path;

/// A migration's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Applied, checksum matches.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file changed since.
    Drifted,
    /// A no-transaction migration failed or was interrupted.
    Failed,
    /// Applied, but its file is gone.
    Missing,
}

impl State {
    /// The name in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Drifted => "drifted",
            State::Failed => "failed",
            State::Missing => "missing",
        }
    }
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Normalised version.
    pub version: &'a str,
    /// The file (when present).
    pub file: Option<&'a Migration>,
    /// The row (when applied or failed).
    pub row: Option<&'a Applied>,
    /// The file's checksum (when present).
    pub checksum: Option<&'a str>,
    /// The state.
    pub state: State,
}

impl Entry<'_> {
    /// The file name: the file's, else the row's.
    pub fn filename(&self) -> &str {
        self.file
            .as_ref()
            .map(|f| f.up.as_str())
            .or(self.row.as_ref().map(|r| r.filename.as_str()))
            .unwrap_or("")
    }
}

/// Checksums of every file (in the files' order), on a few threads when
/// there are many files.
pub fn checksums(dir: &Path, files: &[Migration]) -> Result<Vec<String>> {
    // One reused buffer per thread; each file opened relative to the
    // directory (no path walk per file): open, read, close.
    let dirfd = std::fs::File::open(dir)
        .map_err(|e| Error::io(Exit::NoInput, "read the migrations directory", dir, &e))?;
    let one = |buf: &mut Vec<u8>, m: &Migration| {
        open_in(&dirfd, &m.up)
            .and_then(|mut f| read_small(&mut f, buf))
            .map_err(|e| Error::io(Exit::NoInput, "read", &dir.join(&m.up), &e))
            .and_then(|n| {
                // A plain .sql file with dbmate/goose up+down annotations
                // must never run whole; a dbmate/goose file must carry its
                // tool's annotations (a folder of one layout).
                let found = crate::files::annotated_layout(&buf[..n]);
                match (m.sections, found) {
                    (Sections::Whole, Some(s)) if !m.up.ends_with(".up.sql") => {
                        return Err(crate::files::foreign_layout(
                            dir,
                            &m.up,
                            crate::files::sections_name(s),
                        ));
                    }
                    (Sections::Whole, _) => {}
                    (want, None) => {
                        return Err(crate::files::unannotated(dir, &m.up, want));
                    }
                    (want, got) if got != Some(want) => {
                        return Err(crate::files::mixed(dir, &m.up, &files[0].up)
                            .field("layout", crate::files::sections_name(want)));
                    }
                    _ => {}
                }
                Ok(checksum::of(&buf[..n]))
            })
    };
    let all = |c: &[Migration]| {
        let mut buf = vec![0u8; 64 * 1024];
        c.iter()
            .map(|m| one(&mut buf, m))
            .collect::<Result<Vec<String>>>()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if files.len() < 512 || threads == 1 {
        return all(files);
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|c| s.spawn(move || all(c)))
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for h in handles {
            let part = h
                .join()
                .unwrap_or_else(|_| Err(Error::new(Exit::Failure, "Checksum thread failed")))?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Reads a whole regular file into `buf` (grown as needed), returning its
/// length: no fstat for a size hint, and a read that returns less than it
/// asked for is the end of the file (on a regular file, Linux returns short
/// only at the end), so a small file costs one read, not two.
fn read_small(f: &mut std::fs::File, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize((buf.len() * 2).max(64 * 1024), 0);
        }
        let n = match f.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n == 0 || len < buf.len() {
            return Ok(len);
        }
    }
}

/// Opens `name` inside the directory `dir` (openat: one path component,
/// which cannot leave the directory since names come from its listing).
fn open_in(dir: &std::fs::File, name: &str) -> std::io::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let c = std::ffi::CString::new(name)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: openat with a valid directory fd and a NUL-terminated name; the
    // returned fd is owned by the File we wrap it in.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid, owned descriptor.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Merges files and history by version.
pub fn build<'a>(
    dir: &Path,
    files: &'a [Migration],
    sums: &'a [String],
    history: &'a [Applied],
) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(files.len().max(history.len()));
    let (mut i, mut j) = (0, 0);
    while i < files.len() || j < history.len() {
        let ord = match (files.get(i), history.get(j)) {
            (Some(f), Some(h)) => cmp_version(&f.version, &h.version),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                out.push(Entry {
                    version: &files[i].version,
                    file: Some(&files[i]),
                    row: None,
                    checksum: sums.get(i).map(String::as_str),
                    state: State::Pending,
                });
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let h = &history[j];
                out.push(Entry {
                    version: &h.version,
                    file: None,
                    row: Some(h),
                    checksum: None,
                    state: if h.failed() {
                        State::Failed
                    } else {
                        State::Missing
                    },
                });
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (f, h) = (&files[i], &history[j]);
                let sum = sums.get(i).map(String::as_str);
                let state = if h.failed() {
                    State::Failed
                } else if sum == Some(h.checksum.as_str()) || raw_matches(dir, f, &h.checksum) {
                    State::Applied
                } else if crate::layout::is_repeatable(&f.version) {
                    // A Flyway repeatable script runs again when it changes.
                    State::Pending
                } else {
                    State::Drifted
                };
                out.push(Entry {
                    version: &f.version,
                    file: Some(f),
                    row: Some(h),
                    checksum: sum,
                    state,
                });
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// A table adopted from another runner may hold the plain SHA-256 of the
/// file as it was: accept that too.
fn raw_matches(dir: &Path, f: &Migration, stored: &str) -> bool {
    std::fs::read(dir.join(&f.up))
        .map(|b| checksum::raw(&b) == stored)
        .unwrap_or(false)
}

/// The error for a failed row (blocks `up` and `down` until `repair`).
pub fn failed_error(e: &Entry) -> Error {
    let row = e.row.as_ref();
    Error::new(Exit::Migration, "Migration previously failed")
        .cause(
            row.and_then(|r| r.error.clone())
                .unwrap_or_else(|| "a no-transaction migration did not finish".into()),
        )
        .field("filename", e.filename().to_string())
        .field("version", e.version)
        .suggest(format!(
            "It ran outside a transaction and may be half-applied: check the schema, fix the file, then run 'pg-migrate repair --filename {}' and re-run",
            e.filename()
        ))
}

/// The error for a changed file; earlier ones are logged, the first returned.
pub fn drift_error(entries: &[&Entry]) -> Option<Error> {
    let mk = |e: &Entry| {
        Error::new(Exit::Migration, "Migration checksum mismatch")
            .field("filename", e.filename().to_string())
            .field("storedChecksum", e.row.as_ref().map(|r| r.checksum.clone()).unwrap_or_default())
            .field("currentChecksum", e.checksum.unwrap_or_default())
            .suggest(format!(
                "An applied migration must not change: restore the file (git checkout) and put the change in a new migration; only for a cosmetic change run 'pg-migrate repair --filename {}'",
                e.filename()
            ))
    };
    for e in entries.iter().skip(1) {
        pgkit::cli::report(&mk(e), 0);
    }
    entries.first().map(|e| {
        let err = mk(e);
        if entries.len() > 1 {
            err.field("mismatches", entries.len())
        } else {
            err
        }
    })
}

/// Checks before running: failed rows and drift fail (3); missing files
/// warn. Returns the pending entries, out-of-order ones refused unless
/// allowed.
pub fn check<'e, 'a>(
    entries: &'e [Entry<'a>],
    allow_out_of_order: bool,
) -> Result<Vec<&'e Entry<'a>>> {
    if let Some(f) = entries.iter().find(|e| e.state == State::Failed) {
        return Err(failed_error(f));
    }
    let drifted: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.state == State::Drifted)
        .collect();
    if let Some(e) = drift_error(&drifted) {
        return Err(e);
    }
    for e in entries.iter().filter(|e| e.state == State::Missing) {
        log::warn(
            "Applied migration file missing",
            json!({"filename": e.filename(), "version": e.version}),
        );
    }
    // (Repeatable scripts come after every version: they date nothing.)
    let newest = entries
        .iter()
        .filter(|e| e.row.is_some() && !crate::layout::is_repeatable(e.version))
        .map(|e| e.version)
        .max_by(|a, b| cmp_version(a, b));
    let pending: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.state == State::Pending)
        .collect();
    if let Some(newest) = newest {
        // (refinery's `U` migrations may come late: refinery applies them.)
        let late: Vec<&&Entry> = pending
            .iter()
            .filter(|e| cmp_version(e.version, newest).is_lt())
            .filter(|e| !e.file.is_some_and(|f| f.any_order))
            .collect();
        if let Some(first) = late.first() {
            if allow_out_of_order {
                for e in &late {
                    log::warn(
                        "Applying migration out of order",
                        json!({"filename": e.filename(), "newestApplied": newest}),
                    );
                }
            } else {
                return Err(Error::new(Exit::Migration, "Migration out of order")
                    .field("filename", first.filename().to_string())
                    .field("version", first.version)
                    .field("newestApplied", newest.to_string())
                    .field("outOfOrder", late.len())
                    .suggest("A pending migration is older than the newest applied one (a merged branch?): rename it to a newer version, or pass --allow-out-of-order"));
            }
        }
    }
    Ok(pending)
}
