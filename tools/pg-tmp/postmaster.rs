//! Whether a server's postmaster.pid names its own postmaster.
//!
//! A server that was killed leaves a stale `postmaster.pid` whose process id
//! may belong to another process by now (another server's postmaster even).
//! `pg_ctl` trusts the file: `pg_ctl status` would call that process this
//! server, and `pg_ctl stop` would signal it. `stale_pid_removed` checks that
//! the process really runs in this data directory before anything signals it.

use pgkit::server::TempServer;
use std::fs;
use std::path::Path;

/// Removes the data directory's `postmaster.pid` when the process it names
/// is not a postmaster of this data directory (the server was killed and its
/// process id was reused), so that `pg_ctl` neither reports it running nor
/// signals that process. True when it removed one.
///
/// A postmaster runs in its data directory (it changes into it at start):
/// `/proc/PID/cwd` says which process it is. When that cannot be read (no
/// permission: then `pg_ctl` could not signal it either), the file stays.
pub fn stale_pid_removed(server: &TempServer) -> bool {
    let Some(pid) = server.postmaster_pid() else {
        return false;
    };
    let data = server.data_dir();
    let ours = match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) => {
            let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            canon(&cwd) == canon(&data)
        }
        // No such process (pg_ctl knows it is not running), or not ours
        // to look at (nor to signal).
        Err(_) => return false,
    };
    if ours {
        return false;
    }
    pgkit::log::warn(
        "Stale postmaster.pid: its process is not this server",
        serde_json::json!({"pid": pid, "dir": server.base_dir().display().to_string()}),
    );
    fs::remove_file(data.join("postmaster.pid")).is_ok()
}

/// Stops a server and deletes its directory, signalling only a postmaster
/// that runs in its data directory: what `stop` and the `--ttl` watcher
/// both do (one code path, so the check cannot be missed by one of them).
pub fn stop_and_remove(server: TempServer) -> pgkit::Result<()> {
    stale_pid_removed(&server);
    server.stop_and_remove()
}

/// The postmaster running in `data` (its `postmaster.pid`'s process, when
/// `/proc/PID/cwd` says it runs in that directory), if any.
pub fn verified_pid(data: &Path) -> Option<i32> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    if pid <= 0 {
        return None;
    }
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    (canon(&cwd) == canon(data)).then_some(pid)
}

/// Stops the postmaster running in `data` without `pg_ctl` (whose state
/// file or binaries a half-made directory may lack): SIGQUIT (immediate
/// shutdown, as `pg_ctl stop -m immediate`), then SIGKILL if it is still
/// there after `grace`. Only a process verified to run in `data` is
/// signalled, each time. True when one was running.
pub fn stop_verified(data: &Path, grace: std::time::Duration) -> bool {
    let Some(pid) = verified_pid(data) else {
        return false;
    };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGQUIT) };
    let end = std::time::Instant::now() + grace;
    while std::time::Instant::now() < end {
        if !alive_in(pid, data) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if alive_in(pid, data) {
        // SAFETY: as above; the process was verified again just now.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    true
}

/// Whether `pid` still runs in `data` (a zombie has no cwd: gone).
fn alive_in(pid: i32, data: &Path) -> bool {
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| canon(&cwd) == canon(data))
}
