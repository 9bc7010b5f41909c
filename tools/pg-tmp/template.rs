//! What `db create`, `db drop` and `db prune` (commands/db_*.rs) share:
//! fresh databases from a migrated template, on any server.
//!
//! - The template is `pgtmpl_<h>`, `<h>` the first 16 hex digits of the
//!   SHA-256 of the migrations (and seeds) directories: every file's relative
//!   path and content, sorted by path, dot-files skipped. A change to any
//!   migration names another template.
//! - It is built once, under a session advisory lock (key: `<h>` as a 64-bit
//!   integer) held on a connection to the maintenance database: whoever gets
//!   the lock first and still finds no template builds `pgtmpl_<h>_building`
//!   from template0 with `pg-migrate up` (and `pg-seed`), renames it and
//!   marks it a template; everyone else waits on the lock, then finds it.
//! - A test database is `pgtmp_<unix seconds>_<random>`: `CREATE DATABASE …
//!   TEMPLATE pgtmpl_<h>`, a file copy on the server, whatever the number of
//!   migrations. The creation time in the name is what `prune` reads.

use crate::cli::DbCreateArgs;
use crate::util;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const TEST_PREFIX: &str = "pgtmp_";
pub const TEMPLATE_PREFIX: &str = "pgtmpl_";
const BUILDING_SUFFIX: &str = "_building";

use pgkit::sql::{quote_ident as ident, quote_literal as literal};

pub fn sql_error(message: &str, e: &postgres::Error) -> Error {
    let cause = match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    };
    Error::new(Exit::Failure, message).cause(cause)
}

pub fn sqlstate(e: &postgres::Error) -> Option<&str> {
    e.code().map(|c| c.code())
}

/// The hex SHA-256 of the migrations (and seeds) directories.
pub fn content_hash(migrations: &Path, seeds: Option<&Path>) -> Result<String> {
    let mut h = Sha256::new();
    for (tag, dir) in [("migrations", Some(migrations)), ("seeds", seeds)] {
        let Some(dir) = dir else { continue };
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        if !meta.is_dir() {
            return Err(
                Error::new(Exit::NoInput, format!("Not a directory: {}", dir.display()))
                    .field("path", dir.display().to_string()),
            );
        }
        let mut files = Vec::new();
        walk(dir, dir, &mut files)?;
        files.sort();
        h.update(tag.as_bytes());
        h.update([0]);
        for rel in files {
            let path = dir.join(&rel);
            let content =
                std::fs::read(&path).map_err(|e| Error::io(Exit::NoInput, "read", &path, &e))?;
            h.update(rel.to_string_lossy().as_bytes());
            h.update([0]);
            h.update((content.len() as u64).to_le_bytes());
            h.update(&content);
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        let ft = std::fs::metadata(&p).map_err(|e| Error::io(Exit::NoInput, "read", &p, &e))?;
        if ft.is_dir() {
            walk(root, &p, out)?;
        } else if ft.is_file() {
            out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
        }
    }
    Ok(())
}

/// The advisory-lock key of a template hash (its first 16 hex digits).
pub fn lock_key(hash16: &str) -> Option<i64> {
    u64::from_str_radix(hash16, 16).ok().map(|k| k as i64)
}

/// A connection to the server's maintenance database (`postgres`, else
/// `template1`), and the settings it used.
pub fn admin(settings: &Settings) -> Result<(postgres::Client, Settings)> {
    let mut last = None;
    for db in ["postgres", "template1"] {
        let s = settings.with_dbname(db);
        match s.connect() {
            Ok(c) => return Ok((c, s)),
            Err(e) if e.sqlstate.as_deref() == Some("3D000") => last = Some(e),
            Err(e) => return Err(e.into_error(Exit::NotReady, "Cannot connect to the database")),
        }
    }
    Err(match last {
        Some(e) => e.into_error(Exit::NotReady, "Cannot connect to the database"),
        None => Error::new(Exit::NotReady, "Cannot connect to the database"),
    })
}

pub fn exists(c: &mut postgres::Client, name: &str) -> Result<Option<bool>> {
    let rows = c
        .query(
            "SELECT datistemplate FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .map_err(|e| sql_error("Cannot read pg_database", &e))?;
    Ok(rows.first().map(|r| r.get(0)))
}

/// Builds the template under the advisory lock unless someone else did.
/// Returns whether we built it.
pub fn ensure_template(
    c: &mut postgres::Client,
    settings: &Settings,
    template: &str,
    hash: &str,
    args: &DbCreateArgs,
) -> Result<bool> {
    let key = lock_key(&hash[..16]).unwrap_or(0);
    let waited = Instant::now();
    c.execute("SELECT pg_advisory_lock($1)", &[&key])
        .map_err(|e| match interrupt::check() {
            Err(i) => i,
            Ok(()) => sql_error("Cannot take the template lock", &e),
        })?;
    let result = build_locked(c, settings, template, hash, args, waited);
    let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&key]);
    result
}

fn build_locked(
    c: &mut postgres::Client,
    settings: &Settings,
    template: &str,
    hash: &str,
    args: &DbCreateArgs,
    waited: Instant,
) -> Result<bool> {
    match exists(c, template)? {
        Some(true) => {
            log::debug(
                "Template built by another process",
                json!({"template": template, "waitedMs": waited.elapsed().as_millis() as u64}),
            );
            return Ok(false);
        }
        Some(false) => {
            // Renamed but not yet marked (a builder died in between).
            c.batch_execute(&format!(
                "ALTER DATABASE {} IS_TEMPLATE true",
                ident(template)
            ))
            .map_err(|e| sql_error("Cannot mark the template", &e))?;
            return Ok(false);
        }
        None => {}
    }
    let started = Instant::now();
    let building = format!("{template}{BUILDING_SUFFIX}");
    log::info(
        "Building the template",
        json!({"template": template, "migrations": args.migrations.display().to_string()}),
    );
    // A leftover of a builder that died holds nothing of value.
    drop_database(c, &building, true)?;
    c.batch_execute(&format!(
        "CREATE DATABASE {} TEMPLATE template0",
        ident(&building)
    ))
    .map_err(|e| sql_error("Cannot create the template database", &e))?;
    let target = settings.with_dbname(&building);
    let result = (|| {
        let status = util::run_tool(
            "pg-migrate",
            &[
                OsStr::new("up"),
                OsStr::new("--dir"),
                args.migrations.as_os_str(),
            ],
            &target,
        )?;
        interrupt::check()?;
        if !status.success() {
            return Err(Error::new(
                Exit::Migration,
                "Migrations failed while building the template",
            )
            .field("template", template.to_string())
            .field("toolExitCode", util::shell_code(&status))
            .suggest("See pg-migrate's log lines above; fix the migration and run again"));
        }
        if let Some(seeds) = &args.seeds {
            let status = util::run_tool(
                "pg-seed",
                &[OsStr::new("--dir"), seeds.as_os_str()],
                &target,
            )?;
            interrupt::check()?;
            if !status.success() {
                return Err(
                    Error::new(Exit::Seed, "Seeds failed while building the template")
                        .field("template", template.to_string())
                        .field("toolExitCode", util::shell_code(&status))
                        .suggest("See pg-seed's log lines above"),
                );
            }
        }
        // Rename waits (up to 5 s, server-side) for pg-migrate's backend to go.
        c.batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} IS_TEMPLATE true; \
             COMMENT ON DATABASE {} IS {}",
            ident(&building),
            ident(template),
            ident(template),
            ident(template),
            literal(&format!("pg-tmp template: sha256 {hash}")),
        ))
        .map_err(|e| sql_error("Cannot finish the template", &e))
    })();
    if let Err(e) = result {
        let _ = drop_database(c, &building, true);
        return Err(e);
    }
    log::info(
        "Template built",
        json!({"template": template, "durationMs": started.elapsed().as_millis() as u64}),
    );
    Ok(true)
}

/// `DROP DATABASE IF EXISTS`, ending its sessions first when `force`.
/// Returns whether it existed.
pub fn drop_database(c: &mut postgres::Client, name: &str, force: bool) -> Result<bool> {
    let Some(is_template) = exists(c, name)? else {
        return Ok(false);
    };
    if is_template {
        c.batch_execute(&format!("ALTER DATABASE {} IS_TEMPLATE false", ident(name)))
            .map_err(|e| sql_error("Cannot drop the database", &e))?;
    }
    let version: i32 = c
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map(|r| r.get(0))
        .map_err(|e| sql_error("Cannot read the server version", &e))?;
    let sql = if force && version >= 130000 {
        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(name))
    } else {
        if force {
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .map_err(|e| sql_error("Cannot end the database's sessions", &e))?;
        }
        format!("DROP DATABASE IF EXISTS {}", ident(name))
    };
    c.batch_execute(&sql).map_err(|e| {
        sql_error("Cannot drop the database", &e).field("database", name.to_string())
    })?;
    Ok(true)
}
