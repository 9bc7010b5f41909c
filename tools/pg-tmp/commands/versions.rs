//! `pg-tmp versions`: the installed and cached PostgreSQL versions.

use crate::binaries::version_of;
use crate::cli::VersionsArgs;
use pgkit::cli::Summary;
use pgkit::pginstall;
use pgkit::{out, Result};
use std::path::PathBuf;

/// `pg-tmp versions`: one line per installed or cached PostgreSQL:
/// version, where it comes from, bin directory.
pub fn run(_: VersionsArgs) -> Result<Summary> {
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
