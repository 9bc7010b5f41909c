//! The stale-server sweep (`pg-tmp prune`, `stop` of a half-made
//! directory): finds the server directories that no process owns any
//! more and that nobody was handed (a `start` or `run` killed before it
//! finished, a `run` whose watchdog died with it), stops their postmaster
//! and deletes them.
//!
//! Every directory `TempServer::create` makes says whose it is before
//! anything slow happens: its name is `pgkit-server-PID-…`, and its state
//! file (written first) has `stage` and the owner's pid, start time and pid
//! namespace. `start` hands its server over (`stage: ready`) once the URL is
//! printed; from then on the server is the user's, and only `stop` ends it.
//!
//! Stale is proven, never guessed: the owner's pid no longer runs the
//! process that wrote the file (pid gone, or its start time differs), seen
//! from the owner's own pid namespace. A directory we cannot read, of
//! another user, or of an owner we cannot see is left alone.

use crate::{postmaster, registry, ttl};
use pgkit::server::{DIR_PREFIX, STAGE_READY, STATE_FILE};
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a server directory is, as far as the sweep can prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Handed over (or made by an older pg-tmp, which did not say): kept.
    Handed,
    /// Its owner still runs: kept.
    Alive,
    /// Its owner is gone: stale.
    Dead,
    /// Cannot tell (another pid namespace, unreadable): kept.
    Unknown,
}

/// Whether process `pid` that started at `start` (clock ticks) still runs.
fn process_alive(pid: u32, start: Option<u64>) -> bool {
    match pgkit::server::process_start_time(pid) {
        None => false,
        Some(now) => start.is_none_or(|s| s == now),
    }
}

/// Who owns the server directory `dir`.
pub fn owner_of(dir: &Path) -> Owner {
    match fs::read_to_string(dir.join(STATE_FILE)) {
        Ok(text) => {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                return Owner::Unknown;
            };
            let stage = v["stage"].as_str();
            if stage.is_none() || stage == Some(STAGE_READY) {
                return Owner::Handed;
            }
            let Some(pid) = v["ownerPid"].as_u64().and_then(|p| u32::try_from(p).ok()) else {
                return Owner::Unknown;
            };
            if let Some(ns) = v["ownerPidNs"].as_str() {
                if pgkit::server::namespace_id("pid").as_deref() != Some(ns) {
                    return Owner::Unknown;
                }
            }
            if process_alive(pid, v["ownerStart"].as_u64()) {
                Owner::Alive
            } else {
                Owner::Dead
            }
        }
        // Killed between making the directory and writing the state file
        // (a few system calls): the directory's name carries the owner.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match name_pid(dir) {
            Some(pid) if process_alive(pid, None) => Owner::Alive,
            Some(_) => Owner::Dead,
            None => Owner::Unknown,
        },
        Err(_) => Owner::Unknown,
    }
}

/// The creating pid in a `pgkit-server-PID-XXXXXX` name.
fn name_pid(dir: &Path) -> Option<u32> {
    let name = dir.file_name()?.to_str()?;
    let (pid, _) = name.strip_prefix(DIR_PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

/// Whether `dir` is a half-made server directory (no state file) that
/// `TempServer::create` made: `stop --dir` removes it like any other.
pub fn is_unnamed_server_dir(dir: &Path) -> bool {
    dir.is_dir() && !dir.join(STATE_FILE).exists() && name_pid(dir).is_some()
}

/// Stops whatever postmaster runs in `dir` (verified by its cwd) and deletes
/// the directory and its registry link.
pub fn remove_server_dir(dir: &Path) -> Result<bool> {
    ttl::stop_watcher(dir);
    wait_for_helpers(dir, Duration::from_secs(60));
    let was_running = postmaster::stop_verified(&dir.join("data"), Duration::from_secs(30));
    fs::remove_dir_all(dir).map_err(|e| Error::io(Exit::Failure, "delete", dir, &e))?;
    registry::remove(dir);
    Ok(was_running)
}

/// Processes whose working directory is `dir` itself: the helpers a killed
/// `start` left running there (`cp` of the data directory, `postgres
/// --single`, `pg_ctl start`, which run in the server's directory; the
/// postmaster runs in `data/`).
fn helpers_in(dir: &Path) -> Vec<i32> {
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let dir = canon(dir);
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| canon(&cwd) == dir))
        .collect()
}

/// Before `stop` of a server whose maker was killed: lets the helpers it
/// left (a `pg_ctl start` still bringing a postmaster up) finish, so that
/// what runs is seen and stopped, not left starting in a deleted directory.
pub fn settle(dir: &Path) {
    if owner_of(dir) == Owner::Dead {
        wait_for_helpers(dir, Duration::from_secs(60));
    }
}

/// Waits (up to `limit`) until no helper runs in `dir`: removing the
/// directory under a `cp` or a `pg_ctl start` still at work would leave a
/// postmaster starting in a deleted directory. They are not ours to kill:
/// a person's shell may sit there too.
fn wait_for_helpers(dir: &Path, limit: Duration) {
    let end = std::time::Instant::now() + limit;
    loop {
        let pids = helpers_in(dir);
        if pids.is_empty() {
            return;
        }
        if std::time::Instant::now() >= end {
            log::warn(
                "Processes still run in the server directory; removing it anyway",
                json!({"dir": dir.display().to_string(), "pids": pids}),
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The directories where servers are made: `PGKIT_TMPDIR`, else both
/// places `default_parent` may pick (/dev/shm and the temp directory).
fn parents() -> Vec<PathBuf> {
    let mut v = vec![pgkit::server::default_parent()];
    if std::env::var_os("PGKIT_TMPDIR").is_none_or(|d| d.is_empty()) {
        v.push(PathBuf::from("/dev/shm"));
        v.push(std::env::temp_dir());
    }
    v.dedup();
    v
}

/// The owners of this user's server directories: ours, and as root the
/// `postgres` user's too (root's servers run as `postgres`, which owns
/// their directories).
fn our_uids() -> Vec<u32> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let mut v = vec![uid];
    if uid == 0 {
        // SAFETY: getpwnam with a valid C string returns null or a pointer
        // to static storage, read at once.
        let pw = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
        if !pw.is_null() {
            // SAFETY: pw is non-null and points to a valid passwd record.
            v.push(unsafe { (*pw).pw_uid });
        }
    }
    v
}

/// This user's candidate directories: `pgkit-server-*` under the parents,
/// and every registry link's target (servers made with `start --dir`).
pub fn candidates() -> Vec<PathBuf> {
    let uids = our_uids();
    let mut out: Vec<PathBuf> = Vec::new();
    for parent in parents() {
        let Ok(rd) = fs::read_dir(&parent) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
                out.push(e.path());
            }
        }
    }
    out.extend(registry::linked_dirs());
    let mut seen = Vec::new();
    out.retain(|d| {
        let Ok(m) = fs::symlink_metadata(d) else {
            return false;
        };
        let key = (m.dev(), m.ino());
        if !m.is_dir() || !uids.contains(&m.uid()) || seen.contains(&key) {
            return false;
        }
        seen.push(key);
        true
    });
    out.sort();
    out
}
