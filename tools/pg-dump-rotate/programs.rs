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
