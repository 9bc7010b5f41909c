//! The server binaries `start` and `run` use:
//! installed ones first, else the cache, else a download (see
//! `pgkit::pginstall`).

use pgkit::pginstall::{self, Spec};
use pgkit::{Exit, Result};
use std::path::{Path, PathBuf};

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
