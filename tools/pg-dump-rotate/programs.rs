//! Finding pg_dump, pg_restore and psql, and checking their versions.
//!
//! A program is taken from its own variable (`PG_DUMP`, `PG_RESTORE`,
//! `PSQL`: a path), else from `PG_BINDIR` (which then must have it), else from
//! `PATH`. When it is older than needed (the server's major version for
//! pg_dump, the archive's for pg_restore), a matching one is looked for in
//! `PG_BINDIR`, `PG_INSTALL_ROOT/<major>/bin` (default
//! `/usr/lib/postgresql`, Debian's layout), `/usr/pgsql-<major>/bin`
//! (RHEL's) and the versions `pg-tmp install` cached; none → 127 naming
//! both versions. With none on PATH, the newest cached one is used.
//!
//! pg_dump and pg_dumpall are chosen differently (`preferred`): unless
//! `PG_DUMP`/`PG_DUMPALL` or `PG_BINDIR` names one, the newest installed
//! one that keeps the dump restorable into its server is taken, wherever it
//! is. A newer pg_dump dumps any older server, and only 16+ compresses with
//! zstd (see `dump`'s default).

use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A program found, with its version.
#[derive(Debug, Clone)]
pub struct Program {
    /// Its path.
    pub path: PathBuf,
    /// The version string (`15.14`).
    pub version: String,
    /// The major version.
    pub major: u32,
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn is_exec(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
}

fn missing(name: &str, why: String) -> Error {
    Error::new(Exit::MissingProgram, format!("{name} not found"))
        .cause(why)
        .suggest(format!(
            "Install the PostgreSQL client (apt-get install postgresql-client), or set PG_BINDIR or {}",
            var_of(name)
        ))
}

fn var_of(name: &str) -> &'static str {
    match name {
        "pg_dump" => "PG_DUMP",
        "pg_restore" => "PG_RESTORE",
        "pg_dumpall" => "PG_DUMPALL",
        _ => "PSQL",
    }
}

/// Where `name` is, by the rules above (no version check).
fn locate(name: &str) -> Result<PathBuf> {
    if let Some(p) = env_path(var_of(name)) {
        if is_exec(&p) {
            return Ok(p);
        }
        return Err(missing(
            name,
            format!("{}={} is not an executable file", var_of(name), p.display()),
        ));
    }
    if let Some(d) = env_path("PG_BINDIR") {
        let p = d.join(name);
        if is_exec(&p) {
            return Ok(p);
        }
        return Err(missing(
            name,
            format!("PG_BINDIR={} has no {name}", d.display()),
        ));
    }
    on_path(name)
        .or_else(|| pgkit::pginstall::newest_cached_program(name))
        .ok_or_else(|| missing(name, format!("no {name} on PATH or in pg-tmp's cache")))
}

/// Runs `path --version` and parses "pg_dump (PostgreSQL) 15.14 (Debian …)".
pub fn version_of(path: &Path) -> Option<(String, u32)> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let ver = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?
        .to_string();
    let major = ver
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((ver, major))
}

fn candidates(name: &str, major: u32) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(d) = env_path("PG_BINDIR") {
        v.push(d.join(name));
    }
    let root = install_root();
    v.push(root.join(major.to_string()).join("bin").join(name));
    v.push(PathBuf::from(format!("/usr/pgsql-{major}/bin/{name}")));
    v.extend(pgkit::pginstall::cached_programs(name, major));
    v
}

/// Finds `name`; when `need` is given and the program is older, finds one of
/// at least that major version (`what` names what needs it, for messages).
pub fn find(name: &str, need: Option<(u32, &str)>) -> Result<Program> {
    let first = probe(name)?;
    match need {
        Some((major, what)) => upgrade(name, first, major, what),
        None => Ok(first),
    }
}

/// Whether `path` is Debian's pg_wrapper (a Perl script that picks a
/// version and execs it: tens of milliseconds per call, twice per dump).
fn is_pg_wrapper(path: &Path) -> bool {
    std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.file_name().map(|f| f == "pg_wrapper"))
        .unwrap_or(false)
}

/// Locates `name` and asks its version. Debian's pg_wrapper on PATH is
/// replaced by the newest versioned binary under PG_INSTALL_ROOT, which is
/// what the wrapper would run for pg_dump and pg_restore anyway.
pub fn probe(name: &str) -> Result<Program> {
    let path = locate_runnable(name)?;
    version_at(name, path)
}

/// Where `name` is (see `probe`), without running it.
pub fn locate_runnable(name: &str) -> Result<PathBuf> {
    let mut path = locate(name)?;
    if is_pg_wrapper(&path) {
        if let Some(p) = newest_installed(name) {
            path = p;
        }
    }
    Ok(path)
}

/// Asks the program at `path` its version (`name --version`).
pub fn version_at(name: &str, path: PathBuf) -> Result<Program> {
    let (version, major) = version_of(&path).ok_or_else(|| {
        missing(
            name,
            format!("{} --version did not answer a version", path.display()),
        )
    })?;
    Ok(Program {
        path,
        version,
        major,
    })
}

/// The `name` (pg_dump, pg_dumpall) to dump with, probed: an explicit
/// choice (its variable, `PG_BINDIR`) is kept; else, of every installed one
/// (PATH, `PG_INSTALL_ROOT/<major>`, `/usr/pgsql-<major>`, pg-tmp's cache),
/// the newest that can dump the server and whose dump its own major can
/// restore in one transaction: pg_restore 17+ always sets
/// `transaction_timeout`, which servers before 17 reject, so a server
/// before 17 gets at most pg_dump 16 (the first with zstd) when one is
/// installed. The server's major is asked (`server_major`, one connection)
/// only when there is a choice to make.
pub fn preferred(name: &str, server_major: impl FnOnce() -> Result<u32>) -> Result<Program> {
    if env_path(var_of(name)).is_some() || env_path("PG_BINDIR").is_some() {
        return probe(name);
    }
    let first = probe(name);
    let mut found: Vec<(u32, PathBuf)> = installed(name);
    if let Ok(p) = &first {
        found.push((p.major, p.path.clone()));
    }
    found.retain(|(_, p)| is_exec(p));
    let mut majors: Vec<u32> = found.iter().map(|(m, _)| *m).collect();
    majors.sort_unstable();
    majors.dedup();
    if first.is_ok() && majors.len() <= 1 {
        return first;
    }
    let server = if majors.len() > 1 { server_major()? } else { 0 };
    let pick = |ok: &dyn Fn(u32) -> bool| majors.iter().rev().copied().find(|m| ok(*m));
    let major = pick(&|m| m >= server && (server >= 17 || m <= 16))
        .or_else(|| pick(&|m| m >= server))
        .or_else(|| majors.last().copied())
        .ok_or_else(|| first_error(&first, name))?;
    if let Ok(p) = &first {
        if p.major == major {
            return first;
        }
    }
    // PATH's first, then the versioned directories, for that major.
    let path = found
        .into_iter()
        .filter(|(m, _)| *m == major)
        .map(|(_, p)| p)
        .next_back()
        .ok_or_else(|| missing(name, format!("no {name} {major}")))?;
    version_at(name, path)
}

/// The error of PATH's lookup, when nothing else was found either.
fn first_error(first: &Result<Program>, name: &str) -> Error {
    match first {
        Err(e) => e.clone(),
        Ok(_) => missing(name, format!("no {name} installed")),
    }
}

/// Every `name` in the versioned directories, with the major its directory
/// names: `PG_INSTALL_ROOT/<major>/bin`, `/usr/pgsql-<major>/bin`, pg-tmp's
/// cache (`<major>.<minor>/bin`).
fn installed(name: &str) -> Vec<(u32, PathBuf)> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(install_root()) {
        for e in entries.flatten() {
            if let Some(major) = e.file_name().to_str().and_then(|f| f.parse().ok()) {
                found.push((major, e.path().join("bin").join(name)));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr") {
        for e in entries.flatten() {
            let file = e.file_name();
            let major = file
                .to_str()
                .and_then(|f| f.strip_prefix("pgsql-"))
                .and_then(|m| m.parse().ok());
            if let Some(major) = major {
                found.push((major, e.path().join("bin").join(name)));
            }
        }
    }
    for p in pgkit::pginstall::cached_programs(name, 0) {
        let dir = p.parent().and_then(Path::parent).and_then(Path::file_name);
        if let Some((_, major)) = dir.and_then(|d| d.to_str()).and_then(version_major_of) {
            found.push((major, p));
        }
    }
    found
}

/// `17.4` → 17.
fn version_major_of(s: &str) -> Option<(String, u32)> {
    let major = s.split('.').next()?.parse().ok()?;
    Some((s.to_string(), major))
}

fn install_root() -> PathBuf {
    env_path("PG_INSTALL_ROOT").unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql"))
}

fn newest_installed(name: &str) -> Option<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir(install_root())
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            is_exec(&p).then_some((major, p))
        })
        .collect();
    v.sort();
    v.pop().map(|(_, p)| p)
}

/// `first` when it is at least `need_major`, else a matching one from the
/// candidate directories, else 127 naming both versions.
pub fn upgrade(name: &str, first: Program, need_major: u32, what: &str) -> Result<Program> {
    if first.major >= need_major {
        return Ok(first);
    }
    for c in candidates(name, need_major) {
        if c == first.path || !is_exec(&c) {
            continue;
        }
        if let Some((version, major)) = version_of(&c) {
            if major >= need_major {
                log::info(
                    &format!("Using a newer {name} that matches the {what}"),
                    json!({"program": c.display().to_string(), "version": version,
                           "skipped": first.path.display().to_string(), "skippedVersion": first.version}),
                );
                return Ok(Program {
                    path: c,
                    version,
                    major,
                });
            }
        }
    }
    Err(Error::new(
        Exit::MissingProgram,
        format!("{name} {} is older than the {what} ({need_major})", first.major),
    )
    .cause(format!(
        "{name} {} at {} cannot handle a PostgreSQL {need_major} {what}, and none of PG_BINDIR, {} has {name} {need_major}",
        first.version,
        first.path.display(),
        candidates(name, need_major)
            .iter()
            .skip(usize::from(env_path("PG_BINDIR").is_some()))
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .field("programVersion", first.version.clone())
    .field("requiredMajor", need_major)
    .suggest(format!(
        "Install the PostgreSQL {need_major} client (apt-get install postgresql-client-{need_major}) or point PG_BINDIR at its bin directory"
    )))
}
