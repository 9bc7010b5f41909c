//! `db create`, `db drop`, `db prune`: fresh databases from a migrated
//! template, on any server.
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

use crate::cli::{DbCreateArgs, DbDropArgs, DbPruneArgs};
use crate::util;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, out, Error, Exit, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

const TEST_PREFIX: &str = "pgtmp_";
const TEMPLATE_PREFIX: &str = "pgtmpl_";
const BUILDING_SUFFIX: &str = "_building";

use pgkit::sql::{quote_ident as ident, quote_literal as literal};

fn sql_error(message: &str, e: &postgres::Error) -> Error {
    let cause = match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    };
    Error::new(Exit::Failure, message).cause(cause)
}

fn sqlstate(e: &postgres::Error) -> Option<&str> {
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
fn lock_key(hash16: &str) -> Option<i64> {
    u64::from_str_radix(hash16, 16).ok().map(|k| k as i64)
}

/// A connection to the server's maintenance database (`postgres`, else
/// `template1`), and the settings it used.
fn admin(settings: &Settings) -> Result<(postgres::Client, Settings)> {
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

fn exists(c: &mut postgres::Client, name: &str) -> Result<Option<bool>> {
    let rows = c
        .query(
            "SELECT datistemplate FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .map_err(|e| sql_error("Cannot read pg_database", &e))?;
    Ok(rows.first().map(|r| r.get(0)))
}

pub fn create(args: DbCreateArgs) -> Result<Summary> {
    let settings = Settings::resolve(&args.conn, "pg-tmp")?;
    let hash = content_hash(&args.migrations, args.seeds.as_deref())?;
    let template = format!("{TEMPLATE_PREFIX}{}", &hash[..16]);
    let (mut c, admin_settings) = admin(&settings)?;
    let _cancel = pgkit::conn::cancel_on_signal(&admin_settings, &c);
    let mut built = false;
    // Fast path: the template is there (one query, no lock).
    if exists(&mut c, &template)? != Some(true) {
        built = ensure_template(&mut c, &settings, &template, &hash, &args)?;
    }
    let name = format!(
        "{TEST_PREFIX}{}_{}",
        chrono::Utc::now().timestamp(),
        util::random_hex(5)
    );
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        ident(&name),
        ident(&template)
    );
    if let Err(e) = c.batch_execute(&sql) {
        interrupt::check()?;
        if sqlstate(&e) != Some("3D000") {
            return Err(sql_error("Cannot create the database", &e)
                .field("template", template.clone())
                .suggest("No session may be connected to the template while databases are created from it"));
        }
        // Dropped (pruned) between our check and the copy: build it again.
        built = ensure_template(&mut c, &settings, &template, &hash, &args)?;
        c.batch_execute(&sql)
            .map_err(|e| sql_error("Cannot create the database", &e))?;
    }
    out::println(&util::url_of(&settings.with_dbname(&name)))?;
    Ok(Summary::ok("Database created")
        .field("database", name)
        .field("template", template)
        .field("templateBuilt", built))
}

/// Builds the template under the advisory lock unless someone else did.
/// Returns whether we built it.
fn ensure_template(
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
fn drop_database(c: &mut postgres::Client, name: &str, force: bool) -> Result<bool> {
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

/// What `drop_if_unused` found.
enum Unused {
    Dropped,
    /// Sessions were connected when it looked (how many).
    InUse(i64),
}

/// Drops `name` only if no session uses it, deciding at once: new
/// connections are refused first (`ALLOW_CONNECTIONS false`), then
/// `pg_stat_activity` is read; a database in use gets its connections back
/// and is kept. Then `DROP DATABASE` (no FORCE) finds nobody and does not
/// wait. A plain `DROP` would wait up to 5 s per database for its sessions
/// and drop one whose session ended meanwhile (issue 16, defect 11).
fn drop_if_unused(c: &mut postgres::Client, name: &str) -> Result<Unused> {
    let Some(is_template) = exists(c, name)? else {
        return Ok(Unused::Dropped);
    };
    let id = ident(name);
    let restore = |c: &mut postgres::Client| {
        let _ = c.batch_execute(&format!("ALTER DATABASE {id} WITH ALLOW_CONNECTIONS true"));
        if is_template {
            let _ = c.batch_execute(&format!("ALTER DATABASE {id} IS_TEMPLATE true"));
        }
    };
    c.batch_execute(&format!("ALTER DATABASE {id} WITH ALLOW_CONNECTIONS false"))
        .map_err(|e| sql_error("Cannot drop the database", &e))?;
    let sessions: i64 = match c.query_one(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        &[&name],
    ) {
        Ok(r) => r.get(0),
        Err(e) => {
            restore(c);
            return Err(sql_error("Cannot read pg_stat_activity", &e));
        }
    };
    if sessions > 0 {
        restore(c);
        return Ok(Unused::InUse(sessions));
    }
    let dropped = (|| {
        if is_template {
            c.batch_execute(&format!("ALTER DATABASE {id} IS_TEMPLATE false"))?;
        }
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {id}"))
    })();
    match dropped {
        Ok(()) => Ok(Unused::Dropped),
        Err(e) => {
            restore(c);
            // A session that was connecting while we looked.
            if e.code() == Some(&postgres::error::SqlState::OBJECT_IN_USE) {
                return Ok(Unused::InUse(1));
            }
            Err(sql_error("Cannot drop the database", &e).field("database", name.to_string()))
        }
    }
}

pub fn drop(args: DbDropArgs) -> Result<Summary> {
    let conn = pgkit::conn::ConnArgs {
        dsn: Some(args.url.clone()),
        ..Default::default()
    };
    let settings = Settings::resolve(&conn, "pg-tmp")?;
    let name = settings.dbname.clone();
    if !name.starts_with(TEST_PREFIX) && !args.force {
        return Err(Error::usage("Not a pg-tmp test database")
            .field("database", name)
            .suggest("pg-tmp db drop drops only pgtmp_… databases; add --force to drop another"));
    }
    let (mut c, admin_settings) = admin(&settings)?;
    let _cancel = pgkit::conn::cancel_on_signal(&admin_settings, &c);
    let existed = drop_database(&mut c, &name, true)?;
    if !existed {
        log::warn("Database did not exist", json!({"database": name}));
    }
    // Dropping what is not there is done (0, idempotent), but the summary
    // must not claim a drop that did not happen (issue 16, defect 11).
    let message = if existed {
        "Database dropped"
    } else {
        "Database did not exist; nothing dropped"
    };
    Ok(Summary::ok(message)
        .field("database", name)
        .field("existed", existed))
}

pub fn prune(args: DbPruneArgs) -> Result<Summary> {
    let older_than = util::duration_flag("--older-than", &args.older_than)?;
    let settings = Settings::resolve(&args.conn, "pg-tmp")?;
    let keep_template = match &args.migrations {
        Some(m) => Some(format!(
            "{TEMPLATE_PREFIX}{}",
            &content_hash(m, args.seeds.as_deref())?[..16]
        )),
        None => {
            if args.seeds.is_some() {
                return Err(Error::usage("--seeds needs --migrations"));
            }
            None
        }
    };
    let (mut c, admin_settings) = admin(&settings)?;
    let _cancel = pgkit::conn::cancel_on_signal(&admin_settings, &c);
    let rows = c
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pgtmp\\_%' OR datname LIKE 'pgtmpl\\_%' ORDER BY datname",
            &[],
        )
        .map_err(|e| sql_error("Cannot list the databases", &e))?;
    let now = chrono::Utc::now().timestamp();
    let (mut dropped, mut skipped) = (0u64, 0u64);
    for r in rows {
        interrupt::check()?;
        let name: String = r.get(0);
        if let Some(rest) = name.strip_prefix(TEST_PREFIX) {
            let Some(created) = rest.split('_').next().and_then(|s| s.parse::<i64>().ok()) else {
                continue;
            };
            if now.saturating_sub(created) < older_than.as_secs() as i64 {
                continue;
            }
            if args.dry_run {
                out::println(&name)?;
                dropped += 1;
                continue;
            }
            // No FORCE: a database still in use belongs to a running test.
            match drop_if_unused(&mut c, &name) {
                Ok(Unused::Dropped) => {
                    out::println(&name)?;
                    dropped += 1;
                }
                Ok(Unused::InUse(n)) => {
                    log::warn(
                        "Database skipped",
                        json!({"database": name, "error": "in use", "sessions": n}),
                    );
                    skipped += 1;
                }
                Err(e) => {
                    log::warn(
                        "Database skipped",
                        json!({"database": name, "error": e.error}),
                    );
                    skipped += 1;
                }
            }
        } else if let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) {
            let Some(keep) = &keep_template else { continue };
            if &name == keep {
                continue;
            }
            let Some(key) = rest.get(..16).and_then(lock_key) else {
                continue;
            };
            if args.dry_run {
                out::println(&name)?;
                dropped += 1;
                continue;
            }
            // A template being built right now is not stale.
            let locked: bool = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map(|r| r.get(0))
                .map_err(|e| sql_error("Cannot take the template lock", &e))?;
            if !locked {
                log::warn("Template skipped: being built", json!({"database": name}));
                skipped += 1;
                continue;
            }
            let res = drop_if_unused(&mut c, &name);
            let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&key]);
            match res {
                Ok(Unused::Dropped) => {
                    out::println(&name)?;
                    dropped += 1;
                }
                Ok(Unused::InUse(n)) => {
                    log::warn(
                        "Template skipped",
                        json!({"database": name, "error": "in use", "sessions": n}),
                    );
                    skipped += 1;
                }
                Err(e) => {
                    log::warn(
                        "Template skipped",
                        json!({"database": name, "error": e.error}),
                    );
                    skipped += 1;
                }
            }
        }
    }
    Ok(
        Summary::ok(if args.dry_run { "Would drop" } else { "Pruned" })
            .field("dropped", dropped)
            .field("skipped", skipped),
    )
}
