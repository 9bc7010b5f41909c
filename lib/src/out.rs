//! stdout carries the tool's answer only. A closed stdout (`| head`) is not an
//! error: the write fails with EPIPE and the tool ends quietly with 0.

use crate::error::{Error, Result};
use crate::exit::Exit;
use std::io::Write;

thread_local! {
    static MUTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Drops what this thread would print until the guard is dropped: in a
/// fleet run one result line per target is the answer on stdout, not each
/// target's own (a status table, a dry run's plan).
pub fn mute() -> MuteGuard {
    MUTED.with(|m| m.set(true));
    MuteGuard { _private: () }
}

/// Unmutes the thread when dropped.
#[must_use = "stdout is unmuted when the guard is dropped"]
pub struct MuteGuard {
    _private: (),
}

impl Drop for MuteGuard {
    fn drop(&mut self) {
        MUTED.with(|m| m.set(false));
    }
}

/// Writes `text` to stdout as is and flushes.
pub fn print(text: &str) -> Result<()> {
    if MUTED.with(|m| m.get()) {
        return Ok(());
    }
    // At a terminal stdout shares the screen with a progress line (stderr):
    // cleared first, redrawn after.
    crate::progress::suspend(|| {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(map_err)
    })
}

/// Writes `text` and a newline to stdout.
pub fn println(text: &str) -> Result<()> {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    print(&s)
}

/// Maps a stdout write error: a broken pipe ends the run quietly with 0.
pub fn map_err(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Error::new(Exit::Ok, "stdout closed").quiet()
    } else {
        Error::new(Exit::Failure, "Cannot write to stdout").cause(e)
    }
}
