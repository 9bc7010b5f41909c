//! A throwaway PostgreSQL server: `initdb` + `pg_ctl` into a temporary
//! directory with a free port and its own socket directory. The project's
//! tests, `pg-tmp` and the demo all stand on this one code path.
//!
//! - Server binaries come from `PG_BINDIR`, then `pg_config --bindir`, then
//!   `/usr/lib/postgresql/*/bin` (newest first), then the versions `pg-tmp
//!   install` cached (see `pginstall`); none → exit 127.
//! - Run as root, the server runs as the `postgres` user (PostgreSQL refuses
//!   to run as root).
//! - `initdb` is the slow part; its result (trust authentication, no
//!   password) is cached per binaries and owner under the system temp
//!   directory and copied, which takes milliseconds. A password is set
//!   afterwards in single-user mode (read from stdin, never on argv), so a
//!   random password per server costs no `initdb`.
//! - New server directories go to `/dev/shm` when it is a tmpfs with room
//!   (`PGKIT_TMPDIR` overrides), and dynamic shared memory is `posix` there
//!   only then, else `mmap` (see `shm_plan`).
//! - Every server directory holds a state file (`pgkit-server.json`, mode
//!   0600: port, socket, URL, binaries) so that another process can find and
//!   stop it later (`TempServer::adopt`, used by `pg-tmp stop --dir`).
//! - Dropping a `TempServer` stops it and deletes its directory; a watchdog
//!   process does the same if the owning process dies without dropping it
//!   (SIGKILL, or a `static` that is never dropped).

use crate::conn::{Env, Settings};
use crate::error::{Error, Result};
use crate::exit::Exit;
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The superuser every throwaway server has.
pub const SUPERUSER: &str = "postgres";

/// The state file in a server's base directory (see `TempServer::adopt`).
pub const STATE_FILE: &str = "pgkit-server.json";

/// The state file's `stage`: written before anything else; the data
/// directory may be incomplete.
pub const STAGE_INITIALISING: &str = "initialising";
/// The data directory is made; the server may or may not run.
pub const STAGE_CREATED: &str = "created";
/// Handed over by its owner (`pg-tmp start` printed its URL): no process
/// owns it.
pub const STAGE_READY: &str = "ready";

/// The prefix of the directories `TempServer::create` makes, followed by
/// the creating process's id and a dash: a directory killed before its state
/// file was written still says whose it was.
pub const DIR_PREFIX: &str = "pgkit-server-";

/// When a process started (clock ticks since boot, `/proc/PID/stat` field
/// 22): with the pid, it names one process even after pids are reused.
/// None when there is no such process (or no /proc).
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's namespace of `kind` (`pid`, `mnt`): the inode number in
/// `/proc/self/ns/KIND` (`mnt:[4026531841]`), None without /proc.
pub fn namespace_id(kind: &str) -> Option<String> {
    let link = fs::read_link(format!("/proc/self/ns/{kind}")).ok()?;
    let text = link.to_string_lossy();
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    (!digits.is_empty()).then_some(digits)
}

/// How to build a throwaway server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// SCRAM password for the superuser; `None` means trust authentication.
    pub password: Option<String>,
    /// Enable TLS with a certificate generated at start (CA in `ca_cert()`).
    pub tls: bool,
    /// Refuse non-TLS TCP connections (`hostssl` only in pg_hba.conf).
    pub require_tls: bool,
    /// A fixed port; `None` picks a free one.
    pub port: Option<u16>,
    /// Extra `postgresql.conf` settings.
    pub config: Vec<(String, String)>,
    /// The server binaries; `None` finds them (see `find_bindir`).
    pub bindir: Option<PathBuf>,
    /// A major version to pick among several installed.
    pub version: Option<u32>,
    /// Where to put the server; `None` makes a temporary directory.
    pub dir: Option<PathBuf>,
    /// Do not start a watchdog (pg-tmp's servers outlive their creator).
    pub no_watchdog: bool,
}

/// A random password (OS CSPRNG), URL-safe: 24 alphanumerics (~142 bits),
/// for a throwaway server nobody else may log into.
pub fn random_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24)
}

/// A running (or stopped) throwaway server.
#[derive(Debug)]
pub struct TempServer {
    base: PathBuf,
    bindir: PathBuf,
    port: u16,
    password: Option<String>,
    tls: bool,
    owner: Option<(u32, u32)>,
    keep: bool,
    watchdog: Option<std::process::Child>,
}

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`.
pub fn find_bindir(version: Option<u32>) -> Result<PathBuf> {
    let has_server = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    let mut candidates: Vec<(u32, PathBuf)> = Vec::new();
    if let Some(d) = std::env::var_os("PG_BINDIR").filter(|v| !v.is_empty()) {
        let d = PathBuf::from(d);
        if has_server(&d) {
            match version {
                // PG_BINDIR wins, unless it holds another major version than
                // the one asked for: then look further.
                Some(v) if major_of(&d) != Some(v) => candidates.push((0, d)),
                _ => return Ok(d),
            }
        } else if version.is_none() {
            let why = format!("PG_BINDIR={} has no initdb/pg_ctl", d.display());
            return Err(
                Error::new(Exit::MissingProgram, "PostgreSQL server binaries not found")
                    .cause(why)
                    .suggest(
                        "Point PG_BINDIR at a PostgreSQL bin directory, \
                         or install the server: apt-get install postgresql",
                    ),
            );
        }
    }
    let mut from_pg_config = None;
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_server(&d) {
                let major = major_of(&d).unwrap_or(0);
                from_pg_config = Some((major, d.clone()));
                candidates.push((major, d));
            }
        }
    }
    if let Ok(rd) = fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let d = e.path().join("bin");
            if let Some(v) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) {
                if has_server(&d) {
                    candidates.push((v, d));
                }
            }
        }
    }
    // Versions `pg-tmp install` put in the cache, after the system's; when
    // nothing fits, after any install in progress (a concurrent pg-tmp
    // start on a fresh machine) has finished.
    let system = candidates.len();
    let fits = |cands: &[(u32, PathBuf)]| match version {
        Some(v) => cands.iter().any(|(m, _)| *m == v),
        None => !cands.is_empty(),
    };
    let mut cached = crate::pginstall::cached();
    if !fits(&candidates) && !cached.iter().any(|c| version.is_none_or(|v| c.major == v)) {
        crate::pginstall::wait_for_installs();
        cached = crate::pginstall::cached();
    }
    for c in cached {
        candidates.push((c.major, c.bindir()));
    }
    if let Some(v) = version {
        return candidates
            .into_iter()
            .find(|(m, d)| *m == v || major_of(d) == Some(v))
            .map(|(_, d)| d)
            .ok_or_else(|| {
                Error::new(
                    Exit::MissingProgram,
                    format!("PostgreSQL {v} server binaries not found"),
                )
                .suggest(format!(
                    "Install them: apt-get install postgresql-{v}, or pg-tmp install {v}"
                ))
            });
    }
    // pg_config's answer first (it is what the user has on PATH), then the
    // newest of /usr/lib/postgresql, then the newest cached.
    candidates[..system].sort_by_key(|(v, _)| std::cmp::Reverse(*v));
    if let Some((_, d)) = from_pg_config.or_else(|| candidates.into_iter().next()) {
        return Ok(d);
    }
    Err(
        Error::new(Exit::MissingProgram, "PostgreSQL server binaries not found")
            .cause("no initdb/pg_ctl in PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin or pg-tmp's cache")
            .suggest("Install the server: apt-get install postgresql, or pg-tmp install 18 (or set PG_BINDIR)"),
    )
}

/// The major version of the binaries in `bindir` (`postgres --version`).
pub fn major_of(bindir: &Path) -> Option<u32> {
    let out = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ver = text.split_whitespace().last()?;
    ver.split(['.', ' ']).next()?.parse().ok()
}

/// Where new server directories go: `$PGKIT_TMPDIR`, else `/dev/shm` when it
/// is a writable tmpfs with 1 GiB free (creating the data directory's
/// thousand files there takes milliseconds, on a busy disk a second or
/// more), else the system temp directory.
pub fn default_parent() -> PathBuf {
    shm_plan().parent
}

/// The free space `/dev/shm` needs for a server to use it: for its
/// directory, and for POSIX dynamic shared memory (a parallel hash join
/// alone grows its segments to tens of MiB; on Docker's 64 MiB default it
/// fails "could not resize shared memory segment", and on 1 MiB the server
/// does not even start).
pub const SHM_MIN_FREE: u64 = 1 << 30;

/// Where a server's directory and dynamic shared memory go, and why,
/// decided from the space `/dev/shm` actually has free (statvfs).
#[derive(Debug, Clone)]
pub struct ShmPlan {
    /// Bytes free in `/dev/shm` (None: missing or read-only).
    pub shm_free: Option<u64>,
    /// `dynamic_shared_memory_type`: `posix` (segments in `/dev/shm`) or
    /// `mmap` (files in the data directory).
    pub dsm_type: &'static str,
    /// Where new server directories go.
    pub parent: PathBuf,
    /// Why, for the log.
    pub reason: String,
    /// Whether /dev/shm was passed over for lack of room or access.
    pub degraded: bool,
}

/// Decides `ShmPlan` now.
pub fn shm_plan() -> ShmPlan {
    plan_for(
        shm_free(),
        std::env::var_os("PGKIT_TMPDIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    )
}

fn plan_for(free: Option<u64>, tmpdir: Option<PathBuf>) -> ShmPlan {
    let mib = |b: u64| b / (1 << 20);
    let (dsm_type, dsm_why) = match free {
        None => (
            "mmap",
            "/dev/shm is missing or read-only: dynamic shared memory in files in the data \
             directory (mmap)"
                .to_string(),
        ),
        Some(f) if f < SHM_MIN_FREE => (
            "mmap",
            format!(
                "/dev/shm has {} MiB free, less than {} MiB: parallel queries would fail to \
                 grow their segments there, so dynamic shared memory is in files in the data \
                 directory (mmap)",
                mib(f),
                mib(SHM_MIN_FREE)
            ),
        ),
        Some(f) => (
            "posix",
            format!(
                "/dev/shm has {} MiB free: dynamic shared memory there (posix)",
                mib(f)
            ),
        ),
    };
    let (parent, dir_why) = match tmpdir {
        Some(d) => {
            let why = format!("server directories in PGKIT_TMPDIR ({})", d.display());
            (d, why)
        }
        None if dsm_type == "posix" => (
            PathBuf::from("/dev/shm"),
            "server directories in /dev/shm".to_string(),
        ),
        None => {
            let t = std::env::temp_dir();
            let why = format!("server directories in {}", t.display());
            (t, why)
        }
    };
    ShmPlan {
        shm_free: free,
        dsm_type,
        degraded: dsm_type != "posix",
        parent,
        reason: format!("{dsm_why}; {dir_why}"),
    }
}

/// The bytes free in `/dev/shm` when it is a writable file system (None when
/// it is missing or read-only).
fn shm_free() -> Option<u64> {
    let c = std::ffi::CString::new("/dev/shm").ok()?;
    // SAFETY: a zeroed statvfs is a valid out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid C string, st a valid pointer.
    let ok = unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0;
    // SAFETY: as above, for access(2).
    let writable = unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0;
    (ok && writable && st.f_flag & libc::ST_RDONLY == 0)
        .then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The first ancestor of `dir` that other users cannot search (no `o+x`), if
/// any: run as root, the server runs as `postgres` and must reach `dir`.
/// Ancestors that do not exist yet are skipped (they are created 0755).
pub fn unreachable_ancestor(dir: &Path) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors().skip(1).find_map(|a| {
        let m = fs::metadata(a).ok()?;
        (m.permissions().mode() & 0o001 == 0).then(|| a.to_path_buf())
    })
}

/// The uid/gid of the `postgres` user when we are root (None otherwise).
fn server_owner() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres")
        .map_err(|e| Error::new(Exit::Failure, "bad user name").cause(e))?;
    // SAFETY: getpwnam returns null or a pointer to static storage, read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(
            Error::new(Exit::MissingProgram, "Cannot run PostgreSQL as root")
                .cause("no 'postgres' user to run the server as")
                .suggest("Create it (useradd -r postgres) or install the postgresql package"),
        );
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    Ok(Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) }))
}

fn chown(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| Error::io(Exit::Failure, "chown", path, &e))?;
    }
    Ok(())
}

fn chown_recursive(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    if owner.is_none() {
        return Ok(());
    }
    chown(path, owner)?;
    if path.is_dir() && !path.is_symlink() {
        for e in fs::read_dir(path).map_err(|e| Error::io(Exit::Failure, "read", path, &e))? {
            let e = e.map_err(|e| Error::io(Exit::Failure, "read", path, &e))?;
            chown_recursive(&e.path(), owner)?;
        }
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(Exit::Failure, "Cannot find a free port").cause(e))
}

fn fail(msg: &str, e: impl std::fmt::Display) -> Error {
    Error::new(Exit::Failure, msg.to_string()).cause(e)
}

impl TempServer {
    /// Creates and starts a server.
    pub fn start(opts: Options) -> Result<TempServer> {
        let s = TempServer::create(opts)?;
        s.start_server()?;
        Ok(s)
    }

    /// Creates a server (initdb, configuration) without starting it, so a test
    /// can make it appear late.
    pub fn create(opts: Options) -> Result<TempServer> {
        let bindir = match &opts.bindir {
            Some(b) => b.clone(),
            None => find_bindir(opts.version)?,
        };
        let owner = server_owner()?;
        if owner.is_some() {
            let parent = opts
                .dir
                .clone()
                .unwrap_or_else(|| default_parent().join("x"));
            if let Some(a) = unreachable_ancestor(&parent) {
                return Err(Error::new(
                    Exit::Config,
                    "The postgres user cannot reach the server directory",
                )
                .field("path", a.display().to_string())
                .suggest(
                    "Run as root, the server runs as postgres: set PGKIT_TMPDIR (or TMPDIR) \
                     to a directory every user can search, such as /tmp, or chmod o+x it",
                ));
            }
        }
        let base = match &opts.dir {
            Some(d) => {
                fs::create_dir_all(d).map_err(|e| Error::io(Exit::Failure, "create", d, &e))?;
                d.clone()
            }
            None => {
                let parent = default_parent();
                // PGKIT_TMPDIR may name a directory still to be made.
                fs::create_dir_all(&parent)
                    .map_err(|e| Error::io(Exit::Failure, "create", &parent, &e))?;
                tempfile::Builder::new()
                    .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
                    .tempdir_in(&parent)
                    .map_err(|e| Error::io(Exit::Failure, "create a directory in", &parent, &e))?
                    .keep()
            }
        };
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(Exit::Failure, "chmod", &base, &e))?;
        chown(&base, owner)?;
        let port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        let mut s = TempServer {
            base,
            bindir,
            port,
            password: opts.password.clone(),
            tls: opts.tls,
            owner,
            keep: false,
            watchdog: None,
        };
        // The state file comes first, before initdb or anything slow: a
        // process killed at any later point leaves a directory that says
        // whose it is and how to stop it (`pg-tmp stop --dir`, `pg-tmp
        // prune`), never an anonymous one (issue 16, defect 4).
        s.write_state(STAGE_INITIALISING, true)?;
        if !opts.no_watchdog {
            s.watchdog = s.spawn_watchdog().ok();
        }
        fs::create_dir_all(s.socket_dir())
            .map_err(|e| Error::io(Exit::Failure, "create", &s.socket_dir(), &e))?;
        chown(&s.socket_dir(), owner)?;
        s.init_data(&opts)?;
        s.write_state(STAGE_CREATED, true)?;
        Ok(s)
    }

    /// Marks the server as handed over: no process owns it any more (`pg-tmp
    /// start` has printed its URL), so `pg-tmp prune` leaves it alone until
    /// someone stops it.
    pub fn hand_over(&self) -> Result<()> {
        self.write_state(STAGE_READY, false)
    }

    /// Writes the state file (`pgkit-server.json`, mode 0600: the URL carries
    /// the password) that `adopt` reads. `owned`: this process owns the
    /// server (its life ends with ours unless `hand_over` is called).
    fn write_state(&self, stage: &str, owned: bool) -> Result<()> {
        let mut state = serde_json::json!({
            "port": self.port,
            "host": "127.0.0.1",
            "socketDir": self.socket_dir().display().to_string(),
            "url": self.url("postgres"),
            "password": self.password,
            "bindir": self.bindir.display().to_string(),
            "tls": self.tls,
            "caCert": self.ca_cert().map(|p| p.display().to_string()),
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "stage": stage,
        });
        if owned {
            let pid = std::process::id();
            state["ownerPid"] = serde_json::json!(pid);
            state["ownerStart"] = serde_json::json!(process_start_time(pid));
            state["ownerPidNs"] = serde_json::json!(namespace_id("pid"));
        }
        // Written beside and renamed over: a reader (or a kill) never sees
        // half a file.
        let path = self.state_path();
        let tmp = self.base.join(format!(".{STATE_FILE}.tmp"));
        let mut f = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(Exit::Failure, "write", &tmp, &e))?;
        f.write_all(format!("{state:#}\n").as_bytes())
            .map_err(|e| Error::io(Exit::Failure, "write", &tmp, &e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io(Exit::Failure, "write", &path, &e))?;
        Ok(())
    }

    /// Takes hold of a server another process made (from the state file in
    /// its base directory `dir`). The result is not stopped or deleted when
    /// dropped; use `stop_and_remove` or `stop_server`.
    pub fn adopt(dir: &Path) -> Result<TempServer> {
        let path = dir.join(STATE_FILE);
        let text = fs::read_to_string(&path).map_err(|e| {
            Error::io(Exit::NoInput, "read", &path, &e).suggest(
                "Give the directory of a server that pg-tmp started (it holds pgkit-server.json)",
            )
        })?;
        let bad = |why: &str| {
            Error::new(Exit::DataErr, "Invalid server state file")
                .cause(why.to_string())
                .field("path", path.display().to_string())
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        let port = v["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| bad("no port"))?;
        let bindir = PathBuf::from(v["bindir"].as_str().ok_or_else(|| bad("no bindir"))?);
        let password = v["password"].as_str().map(String::from);
        if let Some(p) = &password {
            crate::redact::register(p);
        }
        Ok(TempServer {
            base: dir.to_path_buf(),
            bindir,
            port,
            password,
            tls: v["tls"].as_bool().unwrap_or(false),
            owner: server_owner()?,
            keep: true,
            watchdog: None,
        })
    }

    /// The state file's path.
    pub fn state_path(&self) -> PathBuf {
        self.base.join(STATE_FILE)
    }

    /// The postmaster's process id, while it runs (from `postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Stops the server at once (if it runs) and deletes its directory,
    /// reporting failures (unlike `Drop`).
    pub fn stop_and_remove(mut self) -> Result<()> {
        self.keep = true;
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        if self.is_running() {
            let out = self
                .pg_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "-t", "60", "stop"])
                .stdout(Stdio::null())
                .output()
                .map_err(|e| fail("Cannot run pg_ctl", e))?;
            if !out.status.success() && self.is_running() {
                return Err(fail(
                    "Cannot stop the server",
                    String::from_utf8_lossy(&out.stderr).trim(),
                ));
            }
        }
        fs::remove_dir_all(&self.base)
            .map_err(|e| Error::io(Exit::Failure, "delete", &self.base, &e))
    }

    /// Copies a cached `initdb` result (or makes it) into the data directory,
    /// configures it and sets the password.
    fn init_data(&self, opts: &Options) -> Result<()> {
        // "v2": trust-only entries; older code cached one entry per password.
        let key = format!("v2|{}|{:?}", self.bindir.display(), self.owner);
        let Some(cache_root) = initdb_cache_root(self.owner.is_some()) else {
            // No cache we can trust: initdb every time (slower, same result).
            self.initdb(&self.data_dir())?;
            return self.finish_data(opts);
        };
        let cache = cache_root.join(format!("{:016x}", simple_hash(&key)));
        let ready = cache.join("data").join("PG_VERSION");
        if !ready.exists() {
            // One process initialises the cache entry; others wait on the lock.
            let lock_path = cache_root.join(format!("{:016x}.lock", simple_hash(&key)));
            let lock = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| Error::io(Exit::Failure, "open", &lock_path, &e))?;
            // SAFETY: flock on a valid open descriptor.
            unsafe { libc::flock(std::os::unix::io::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
            if !ready.exists() {
                let staging = cache_root.join(format!(
                    "{:016x}.tmp{}",
                    simple_hash(&key),
                    std::process::id()
                ));
                let _ = fs::remove_dir_all(&staging);
                fs::create_dir_all(&staging)
                    .map_err(|e| Error::io(Exit::Failure, "create", &staging, &e))?;
                chown(&staging, self.owner)?;
                self.initdb(&staging.join("data"))?;
                let _ = fs::remove_dir_all(&cache);
                fs::rename(&staging, &cache)
                    .map_err(|e| Error::io(Exit::Failure, "rename", &cache, &e))?;
            }
            drop(lock);
        }
        // In the server's directory, as every helper process runs: `pg-tmp
        // prune` tells the helpers of a killed start by their cwd.
        let status = Command::new("cp")
            .current_dir(&self.base)
            .arg("-a")
            .arg(cache.join("data"))
            .arg(self.data_dir())
            .status()
            .map_err(|e| fail("Cannot run cp", e))?;
        if !status.success() {
            return Err(fail("Cannot copy the initdb template", status));
        }
        chown_recursive(&self.data_dir(), self.owner)?;
        self.finish_data(opts)
    }

    /// Configures a fresh data directory and sets the password.
    fn finish_data(&self, opts: &Options) -> Result<()> {
        self.configure(opts)?;
        if let Some(p) = &opts.password {
            self.set_password(p)?;
        }
        Ok(())
    }

    fn initdb(&self, data: &Path) -> Result<()> {
        let mut cmd = self.pg_command("initdb");
        cmd.arg("-D").arg(data).args([
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
            "--auth=trust",
        ]);
        // initdb picks posix dynamic shared memory whenever /dev/shm can
        // hold a file, however small: its bootstrap then fails there.
        // PostgreSQL 16's initdb takes settings (-c); older ones cannot be
        // told.
        let plan = shm_plan();
        let old_initdb = plan.degraded && major_of(&self.bindir).is_some_and(|m| m < 16);
        if plan.degraded && !old_initdb {
            cmd.args(["-c", "dynamic_shared_memory_type=mmap"]);
        }
        let out = cmd.output().map_err(|e| fail("Cannot run initdb", e))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let small_shm = why.contains("could not resize shared memory segment");
            let mut e = Error::new(Exit::Failure, "initdb failed").cause(why);
            if small_shm {
                e = e.field("reason", plan.reason).suggest(
                    "/dev/shm is too small for initdb of PostgreSQL 15 and older: give it room \
                     (docker run --shm-size=1g), or use PostgreSQL 16 or later (--pg-version)",
                );
            }
            return Err(e);
        }
        Ok(())
    }

    /// Sets the superuser's password in single-user mode (the server is not
    /// running yet). The statement travels on stdin, as a Unicode-escaped
    /// literal, so no character of the password can break it.
    fn set_password(&self, password: &str) -> Result<()> {
        let mut lit = String::from("U&'");
        for c in password.chars() {
            lit.push_str(&format!("\\+{:06X}", c as u32));
        }
        lit.push('\'');
        let sql = format!("ALTER ROLE {SUPERUSER} PASSWORD {lit};\n");
        let mut child = self
            .pg_command("postgres")
            .arg("--single")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-c", "exit_on_error=on", "-c", "log_min_messages=fatal"])
            .arg("postgres")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail("Cannot run postgres --single", e))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(sql.as_bytes())
                .map_err(|e| fail("Cannot set the superuser password", e))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| fail("Cannot set the superuser password", e))?;
        if !out.status.success() {
            return Err(fail(
                "Cannot set the superuser password",
                String::from_utf8_lossy(&out.stderr).trim(),
            ));
        }
        Ok(())
    }

    fn configure(&self, opts: &Options) -> Result<()> {
        let data = self.data_dir();
        let mut conf = String::from("\n# pgkit throwaway server\n");
        let mut settings: Vec<(String, String)> = vec![
            ("port".into(), self.port.to_string()),
            ("listen_addresses".into(), "'127.0.0.1,::1'".into()),
            (
                "unix_socket_directories".into(),
                format!("'{}'", self.socket_dir().display()),
            ),
            ("fsync".into(), "off".into()),
            ("synchronous_commit".into(), "off".into()),
            ("full_page_writes".into(), "off".into()),
            ("max_connections".into(), "200".into()),
            ("shared_buffers".into(), "32MB".into()),
            ("log_line_prefix".into(), "'%m [%p] %q%u@%d '".into()),
            ("log_min_messages".into(), "warning".into()),
            ("password_encryption".into(), "'scram-sha-256'".into()),
        ];
        // PostgreSQL's parallel-query segments live in /dev/shm (posix, the
        // initdb default on Linux); where it is missing, read-only or small
        // (containers, sandboxes: see `shm_plan`), files in the data
        // directory do the job.
        settings.push((
            "dynamic_shared_memory_type".into(),
            shm_plan().dsm_type.into(),
        ));
        if opts.tls {
            self.write_certs()?;
            settings.push(("ssl".into(), "on".into()));
            settings.push(("ssl_cert_file".into(), "'server.crt'".into()));
            settings.push(("ssl_key_file".into(), "'server.key'".into()));
        }
        settings.extend(opts.config.iter().cloned());
        for (k, v) in settings {
            conf.push_str(&format!("{k} = {v}\n"));
        }
        let path = data.join("postgresql.conf");
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(Exit::Failure, "open", &path, &e))?;
        f.write_all(conf.as_bytes())
            .map_err(|e| Error::io(Exit::Failure, "write", &path, &e))?;
        let method = if self.password.is_some() {
            "scram-sha-256"
        } else {
            "trust"
        };
        let host_kind = if opts.require_tls { "hostssl" } else { "host" };
        let hba = format!(
            "local all all {method}\n{host_kind} all all 127.0.0.1/32 {method}\n{host_kind} all all ::1/128 {method}\n"
        );
        let hba_path = data.join("pg_hba.conf");
        fs::write(&hba_path, hba).map_err(|e| Error::io(Exit::Failure, "write", &hba_path, &e))?;
        chown(&hba_path, self.owner)?;
        Ok(())
    }

    /// Generates a CA and a server certificate for localhost, 127.0.0.1, ::1.
    fn write_certs(&self) -> Result<()> {
        let (ca_pem, cert_pem, key_pem) =
            tls_certs::generate().map_err(|e| fail("Cannot generate TLS certificates", e))?;
        let data = self.data_dir();
        for (name, content, mode) in [
            (data.join("server.crt"), &cert_pem, 0o644),
            (data.join("server.key"), &key_pem, 0o600),
            (self.base.join("ca.crt"), &ca_pem, 0o644),
        ] {
            fs::write(&name, content).map_err(|e| Error::io(Exit::Failure, "write", &name, &e))?;
            fs::set_permissions(&name, fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(Exit::Failure, "chmod", &name, &e))?;
            chown(&name, self.owner)?;
        }
        Ok(())
    }

    fn pg_command(&self, prog: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(prog));
        for v in [
            "PGDATA",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
            "PGOPTIONS",
        ] {
            cmd.env_remove(v);
        }
        // Cloud credentials the caller holds (pg-dump-rotate's S3 ones) are
        // no business of a throwaway server, whose superuser can read its
        // environment (COPY FROM PROGRAM 'env').
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if ["AWS_", "GOOGLE_", "AZURE_"]
                .iter()
                .any(|p| k.starts_with(p))
            {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.env("LC_ALL", "C")
            .current_dir(&self.base)
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
            cmd.env("HOME", &self.base);
        }
        cmd
    }

    fn spawn_watchdog(&self) -> Result<std::process::Child> {
        // Plain sh, so it survives the parent; it ignores the terminal's
        // signals and cleans up once the parent is gone. The pid in
        // postmaster.pid is signalled only when that process runs in this
        // data directory (`/proc/PID/cwd`, as `pg-tmp stop` checks): a
        // killed server's pid may be another process's by now.
        let script = format!(
            "trap '' INT TERM HUP; while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             d='{base}/data'; f=\"$d/postmaster.pid\"; if [ -f \"$f\" ]; then p=\"$(head -n 1 \"$f\")\"; \
             if [ -n \"$p\" ] && [ \"$(readlink \"/proc/$p/cwd\")\" = \"$(cd \"$d\" && pwd -P)\" ]; then \
             kill -QUIT \"$p\" 2>/dev/null; sleep 1; fi; fi; \
             rm -rf '{base}'",
            pid = std::process::id(),
            base = self.base.display()
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        cmd.spawn()
            .map_err(|e| fail("Cannot start the watchdog", e))
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) -> Result<()> {
        let out = self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_path())
            .args(["-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| fail("Cannot run pg_ctl", e))?;
        if !out.status.success() {
            let mut why = self.log_tail(10);
            if why.trim().is_empty() {
                why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            }
            return Err(
                Error::new(Exit::NotReady, "The throwaway server did not start")
                    .cause(why)
                    .field("logFile", self.log_path().display().to_string()),
            );
        }
        Ok(())
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    pub fn stop_server(&self) -> Result<()> {
        let out = self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .stdout(Stdio::null())
            .output()
            .map_err(|e| fail("Cannot run pg_ctl", e))?;
        if !out.status.success() {
            return Err(fail(
                "pg_ctl stop failed",
                String::from_utf8_lossy(&out.stderr).trim(),
            ));
        }
        Ok(())
    }

    /// Stops and starts the server.
    pub fn restart_server(&self) -> Result<()> {
        self.stop_server()?;
        self.start_server()
    }

    /// Whether the postmaster is running.
    pub fn is_running(&self) -> bool {
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Leaves the server running and its directory in place when dropped.
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        self.base.clone()
    }

    /// The server's base directory (data, sockets, log, certificates).
    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.base.join("data")
    }

    /// The unix-socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.base.join("sock")
    }

    /// The server log.
    pub fn log_path(&self) -> PathBuf {
        self.base.join("server.log")
    }

    /// The server log's content.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last `n` lines of the server log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server binaries' directory.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The superuser's password, if SCRAM is on.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The CA certificate that signed the server certificate (TLS servers).
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.tls.then(|| self.base.join("ca.crt"))
    }

    /// A TCP URL for `dbname`, with the password when there is one.
    pub fn url(&self, dbname: &str) -> String {
        let auth = match &self.password {
            Some(p) => format!("{SUPERUSER}:{}@", crate::redact::percent_encode(p)),
            None => format!("{SUPERUSER}@"),
        };
        format!("postgresql://{auth}127.0.0.1:{}/{dbname}", self.port)
    }

    /// libpq variables that reach the server over its unix socket.
    pub fn socket_env(&self, dbname: &str) -> Vec<(String, String)> {
        let mut v = vec![
            (
                "PGHOST".to_string(),
                self.socket_dir().display().to_string(),
            ),
            ("PGPORT".to_string(), self.port.to_string()),
            ("PGUSER".to_string(), SUPERUSER.to_string()),
            ("PGDATABASE".to_string(), dbname.to_string()),
        ];
        if let Some(p) = &self.password {
            v.push(("PGPASSWORD".into(), p.clone()));
        }
        v
    }

    /// Connection settings for `dbname` over the unix socket.
    pub fn settings(&self, dbname: &str) -> Result<Settings> {
        let mut kv: HashMap<String, String> = HashMap::new();
        kv.insert("host".into(), self.socket_dir().display().to_string());
        kv.insert("port".into(), self.port.to_string());
        kv.insert("user".into(), SUPERUSER.into());
        kv.insert("dbname".into(), dbname.into());
        if let Some(p) = &self.password {
            kv.insert("password".into(), p.clone());
        }
        Settings::from_keywords(&kv, "pgkit-test", &Env::default())
    }

    /// A superuser client for `dbname` over the unix socket.
    pub fn client(&self, dbname: &str) -> Result<postgres::Client> {
        self.settings(dbname)?
            .connect()
            .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the throwaway server"))
    }

    /// Runs SQL as the superuser in `dbname`.
    pub fn execute(&self, dbname: &str, sql: &str) -> Result<()> {
        self.client(dbname)?
            .batch_execute(sql)
            .map_err(|e| fail("SQL failed on the throwaway server", e))
    }

    /// Creates a database with a name unique to this server.
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.execute(
            "postgres",
            &format!("CREATE DATABASE {}", crate::sql::quote_ident(name)),
        )
    }

    /// Waits until the server accepts a superuser login (or `timeout`).
    pub fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            match self.client("postgres") {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= end => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Stops the server at once and removes its directory.
    pub fn destroy(&mut self) {
        if self.keep {
            return;
        }
        self.keep = true;
        let _ = self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(&self.base);
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for TempServer {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// The directory of cached `initdb` results: one per user
/// (`$TMPDIR/pgkit-initdb-cache-<uid>`, mode 0755: as root, the `postgres`
/// user runs initdb in it), used only when this user owns it and nobody else
/// can write to it — a cache another user could swap would hand the next
/// server their postgresql.conf. None: do not cache (also when, as root,
/// the `postgres` user could not reach it: a private `TMPDIR`).
fn initdb_cache_root(as_postgres: bool) -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let root = std::env::temp_dir().join(format!("pgkit-initdb-cache-{euid}"));
    if as_postgres && unreachable_ancestor(&root).is_some() {
        return None;
    }
    if let Err(e) = fs::DirBuilder::new().mode(0o755).create(&root) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return None;
        }
    }
    let m = fs::symlink_metadata(&root).ok()?;
    (m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0).then_some(root)
}

#[cfg(test)]
mod shm_tests {
    use super::*;

    #[test]
    fn small_or_missing_shm_means_mmap_and_the_temp_directory() {
        let p = plan_for(Some(8 << 20), None);
        assert_eq!(p.dsm_type, "mmap");
        assert_eq!(p.parent, std::env::temp_dir());
        assert!(p.reason.contains("8 MiB free"), "{}", p.reason);
        assert_eq!(plan_for(None, None).dsm_type, "mmap");
        let p = plan_for(Some(4 << 30), None);
        assert_eq!((p.dsm_type, p.parent), ("posix", PathBuf::from("/dev/shm")));
        // PGKIT_TMPDIR places the directory, never the segments.
        let p = plan_for(Some(1 << 20), Some(PathBuf::from("/x")));
        assert_eq!((p.dsm_type, p.parent), ("mmap", PathBuf::from("/x")));
    }
}

/// FNV-1a, for cache keys (not security).
fn simple_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

mod tls_certs {
    //! A throwaway CA and a server certificate for localhost.
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::error::ErrorStack;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509NameBuilder, X509};

    fn key() -> Result<PKey<Private>, ErrorStack> {
        PKey::from_rsa(Rsa::generate(2048)?)
    }

    fn serial() -> Result<openssl::asn1::Asn1Integer, ErrorStack> {
        let mut bn = BigNum::new()?;
        bn.rand(128, MsbOption::MAYBE_ZERO, false)?;
        bn.to_asn1_integer()
    }

    /// PEM files: the CA certificate, the server certificate, its key.
    pub type Pems = (Vec<u8>, Vec<u8>, Vec<u8>);

    /// Returns (CA cert PEM, server cert PEM, server key PEM).
    pub fn generate() -> Result<Pems, ErrorStack> {
        let ca_key = key()?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", "pgkit throwaway CA")?;
        let ca_name = name.build();
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let sn = serial()?;
        b.set_serial_number(&sn)?;
        b.set_subject_name(&ca_name)?;
        b.set_issuer_name(&ca_name)?;
        b.set_pubkey(&ca_key)?;
        b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
        b.set_not_after(&*Asn1Time::days_from_now(30)?)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        b.sign(&ca_key, MessageDigest::sha256())?;
        let ca = b.build();

        let srv_key = key()?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", "localhost")?;
        let srv_name = name.build();
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let sn = serial()?;
        b.set_serial_number(&sn)?;
        b.set_subject_name(&srv_name)?;
        b.set_issuer_name(ca.subject_name())?;
        b.set_pubkey(&srv_key)?;
        b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
        b.set_not_after(&*Asn1Time::days_from_now(30)?)?;
        let san = SubjectAlternativeName::new()
            .dns("localhost")
            .ip("127.0.0.1")
            .ip("::1")
            .build(&b.x509v3_context(Some(&ca), None))?;
        b.append_extension(san)?;
        b.sign(&ca_key, MessageDigest::sha256())?;
        let srv = b.build();
        Ok((
            ca.to_pem()?,
            srv.to_pem()?,
            srv_key.private_key_to_pem_pkcs8()?,
        ))
    }
}
