//! `start --ttl`: a detached watcher (pg-tmp itself, re-executed with a hidden
//! subcommand, in its own session) that stops and deletes the server once it
//! has had no client connection for the TTL.
//!
//! Activity is seen two ways, polled at most every second over one kept
//! connection: a client backend other than the watcher's own is connected
//! (`pg_stat_activity`), or the number of sessions ever opened grew
//! (`pg_stat_database.sessions`, PostgreSQL 14+), which also catches
//! connections that came and went between two polls.

use pgkit::{Error, Exit, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const PID_FILE: &str = "ttl-watcher.pid";
/// The TTL in milliseconds, beside the pid.
const TTL_FILE: &str = "ttl-watcher.ttl";

/// Starts the watcher for the server in `dir`.
pub fn spawn(dir: &Path, ttl: Duration) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(Exit::Failure, "Cannot start the TTL watcher").cause(e))?;
    let mut cmd = Command::new(exe);
    cmd.arg("__ttl-watch")
        .arg("--dir")
        .arg(dir)
        .arg("--ttl-ms")
        .arg(ttl.as_millis().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe; the watcher leaves our session so
    // that the terminal's signals and our exit do not reach it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| Error::new(Exit::Failure, "Cannot start the TTL watcher").cause(e))?;
    // The TTL too, so that `prune` can start a lost watcher again.
    let ttl_path = dir.join(TTL_FILE);
    std::fs::write(&ttl_path, format!("{}\n", ttl.as_millis()))
        .map_err(|e| Error::io(Exit::Failure, "write", &ttl_path, &e))?;
    let pid_path = dir.join(PID_FILE);
    std::fs::write(&pid_path, format!("{}\n", child.id()))
        .map_err(|e| Error::io(Exit::Failure, "write", &pid_path, &e))?;
    Ok(())
}

/// The watcher recorded in `dir`: its pid and (when recorded) the TTL.
fn recorded(dir: &Path) -> Option<(i32, Option<Duration>)> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    let pid = text.trim().parse::<i32>().ok()?;
    let ttl = std::fs::read_to_string(dir.join(TTL_FILE))
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    Some((pid, ttl))
}

/// Whether `pid` is the watcher of `dir` (pids are reused).
fn is_watcher(pid: i32, dir: &Path) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains("__ttl-watch") && cmdline.contains(&*dir.to_string_lossy())
}

/// Ends the watcher of the server in `dir`, if there is one.
pub fn stop_watcher(dir: &Path) {
    let Some((pid, _)) = recorded(dir) else {
        return;
    };
    if is_watcher(pid, dir) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let _ = std::fs::remove_file(dir.join(PID_FILE));
    let _ = std::fs::remove_file(dir.join(TTL_FILE));
}

/// The TTL of a server whose watcher is gone (killed, or lost in a reboot
/// of the machine's processes): nobody keeps its TTL any more. None while
/// the watcher runs, or when no TTL was given.
pub fn lost_watcher(dir: &Path) -> Option<Duration> {
    let (pid, ttl) = recorded(dir)?;
    (!is_watcher(pid, dir)).then_some(ttl).flatten()
}
