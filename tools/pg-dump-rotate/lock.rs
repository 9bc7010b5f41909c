//! The per-source lock: `flock` on the source's directory, so overlapping
//! `dump` and `purge` runs for one source take turns. The kernel releases it
//! when the process ends, however it ends: no stale lock files.

use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// A held lock; released on drop (closing the descriptor).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock on `dir`, waiting up to `wait` (then 75).
pub fn acquire(dir: &Path, source: &str, wait: Duration) -> Result<Lock> {
    let file = File::open(dir).map_err(|e| Error::io(Exit::Failure, "open", dir, &e))?;
    let start = Instant::now();
    let mut logged = false;
    loop {
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Lock { _file: file });
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
                        wait.as_millis()
                    ))
                    .field("source", source)
                    .suggest("Retry later, or raise --lock-wait (DUMP_LOCK_WAIT)"),
            );
        }
        if !logged {
            log::info(
                "Waiting for another run of this source to finish",
                json!({"source": source, "lockWaitMs": wait.as_millis() as u64}),
            );
            logged = true;
        }
        let left = wait.saturating_sub(start.elapsed());
        interrupt::sleep(left.min(Duration::from_millis(100)))?;
    }
}
