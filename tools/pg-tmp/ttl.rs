//! `start --ttl`: a detached watcher (pg-tmp itself, re-executed with a hidden
//! subcommand, in its own session) that stops and deletes the server once it
//! has had no client connection for the TTL.
//!
//! Activity is seen two ways, polled at most every second over one kept
//! connection: a client backend other than the watcher's own is connected
//! (`pg_stat_activity`), or the number of sessions ever opened grew
//! (`pg_stat_database.sessions`, PostgreSQL 14+), which also catches
//! connections that came and went between two polls.

use crate::cli::TtlWatchArgs;
use crate::{postmaster, registry};
use pgkit::cli::Summary;
use pgkit::server::TempServer;
use pgkit::{interrupt, Error, Exit, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PID_FILE: &str = "ttl-watcher.pid";

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
    let pid_path = dir.join(PID_FILE);
    std::fs::write(&pid_path, format!("{}\n", child.id()))
        .map_err(|e| Error::io(Exit::Failure, "write", &pid_path, &e))?;
    Ok(())
}

/// Ends the watcher of the server in `dir`, if there is one.
pub fn stop_watcher(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join(PID_FILE)) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return;
    };
    // Only if that pid is still our watcher (pids are reused).
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    if cmdline.contains("__ttl-watch") && cmdline.contains(&*dir.to_string_lossy()) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let _ = std::fs::remove_file(dir.join(PID_FILE));
}

/// The watcher itself.
pub fn watch(args: TtlWatchArgs) -> Result<Summary> {
    let ttl = Duration::from_millis(args.ttl_ms);
    let poll = (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let server = TempServer::adopt(&args.dir)?;
    let mut client: Option<postgres::Client> = None;
    let mut sessions_seen: Option<i64> = None;
    let mut last_active = Instant::now();
    loop {
        interrupt::sleep(poll)?;
        if !server.state_path().exists() {
            // Stopped and deleted by someone else.
            return Ok(Summary::ok("Server gone"));
        }
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = server.client("postgres").ok();
        }
        let Some(c) = client.as_mut() else {
            if server.postmaster_pid().is_none() {
                // Stopped with --keep: nothing to watch any more.
                return Ok(Summary::ok("Server stopped"));
            }
            continue;
        };
        match poll_activity(c) {
            Ok((backends, sessions)) => {
                let grew = matches!((sessions, sessions_seen), (Some(n), Some(o)) if n > o);
                if backends > 0 || grew {
                    last_active = Instant::now();
                }
                if sessions.is_some() {
                    sessions_seen = sessions;
                }
            }
            Err(_) => {
                client = None;
                continue;
            }
        }
        if last_active.elapsed() >= ttl {
            drop(client);
            let dir = server.base_dir().to_path_buf();
            let _ = std::fs::remove_file(dir.join(PID_FILE));
            postmaster::stop_and_remove(server)?;
            registry::remove(&dir);
            return Ok(Summary::ok("Server expired"));
        }
    }
}

/// (other client backends, sessions ever opened where the server counts them)
fn poll_activity(
    c: &mut postgres::Client,
) -> std::result::Result<(i64, Option<i64>), postgres::Error> {
    let row = c.query_one(
        "SELECT (SELECT count(*) FROM pg_stat_activity \
                  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()), \
                current_setting('server_version_num')::int",
        &[],
    )?;
    let backends: i64 = row.get(0);
    let version: i32 = row.get(1);
    let sessions = if version >= 140000 {
        let r = c.query_one(
            "SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database",
            &[],
        )?;
        Some(r.get::<_, i64>(0))
    } else {
        None
    };
    Ok((backends, sessions))
}
