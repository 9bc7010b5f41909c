//! Restore drills (`verify --restore`): a dump is restored into a throwaway
//! server (pg-tmp's library code, `pgkit::server`) of the dump's own
//! server major where installed, else the newest installed one above it,
//! and the restored database is compared with the facts the manifest
//! recorded at dump time (see `facts`): the same tables, and with
//! `dump --count-rows` the same row count in each. The first table that
//! differs fails the drill (5). The throwaway server is always removed:
//! on success, failure and SIGINT/SIGTERM (its `Drop`), and by its
//! watchdog should the tool itself be killed.
//!
//! The restore leaves out what a fresh server cannot have: ownership,
//! privileges, tablespaces, security labels, subscriptions. A plain
//! script's `ALTER … OWNER TO` (and a GRANT) naming a role the throwaway
//! server lacks fails harmlessly; such errors are counted and reported,
//! any other error fails the drill.

use crate::facts::{self, Facts, Table};
use crate::layout::{self, Format};
use crate::programs::Program;
use crate::{child, integrity, programs};
use pgkit::server::{Options, TempServer};
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The database the dump is restored into.
const DRILL_DB: &str = "pgkit_drill";

/// What a passed drill found.
#[derive(Debug, Clone)]
pub struct Passed {
    /// Tables compared.
    pub tables: usize,
    /// Rows compared (the sum of the recorded counts).
    pub rows: i64,
    /// Whether the manifest had facts (else a restore-only drill).
    pub facts: bool,
}

/// The first difference between the facts recorded and those found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// A recorded table is not in the restored database.
    Missing(String),
    /// The restored database has a table the dump did not record.
    Extra(String),
    /// A table's row count differs.
    Rows {
        table: String,
        expected: i64,
        found: i64,
    },
}

impl Diff {
    /// The table it names.
    pub fn table(&self) -> &str {
        match self {
            Diff::Missing(t) | Diff::Extra(t) => t,
            Diff::Rows { table, .. } => table,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Diff::Missing(_) => "missing",
            Diff::Extra(_) => "extra",
            Diff::Rows { .. } => "rowCount",
        }
    }

    fn describe(&self) -> String {
        match self {
            Diff::Missing(t) => {
                format!("table {t} was recorded at dump time but is not in the restored database")
            }
            Diff::Extra(t) => {
                format!("table {t} is in the restored database but was not recorded at dump time")
            }
            Diff::Rows {
                table,
                expected,
                found,
            } => format!(
                "table {table} has {found} rows restored, {expected} were counted at dump time"
            ),
        }
    }
}

/// Compares recorded facts with the restored database's, table by table in
/// (schema, name) order: the first difference, if any. A table recorded
/// without a count (none taken, its data excluded) is compared by name only.
pub fn compare(expected: &Facts, found: &Facts) -> Option<Diff> {
    let key = |t: &Table| (t.schema.clone(), t.name.clone());
    let mut want: Vec<&Table> = expected.tables.iter().collect();
    let mut have: Vec<&Table> = found.tables.iter().collect();
    want.sort_by_key(|t| key(t));
    have.sort_by_key(|t| key(t));
    let (mut i, mut j) = (0, 0);
    loop {
        match (want.get(i), have.get(j)) {
            (None, None) => return None,
            (Some(w), None) => return Some(Diff::Missing(w.qualified())),
            (None, Some(h)) => return Some(Diff::Extra(h.qualified())),
            (Some(w), Some(h)) => match key(w).cmp(&key(h)) {
                std::cmp::Ordering::Less => return Some(Diff::Missing(w.qualified())),
                std::cmp::Ordering::Greater => return Some(Diff::Extra(h.qualified())),
                std::cmp::Ordering::Equal => {
                    if let (Some(e), Some(f)) = (w.rows, h.rows) {
                        if e != f {
                            return Some(Diff::Rows {
                                table: w.qualified(),
                                expected: e,
                                found: f,
                            });
                        }
                    }
                    i += 1;
                    j += 1;
                }
            },
        }
    }
}

fn drill_err(message: &str) -> Error {
    Error::new(Exit::Dump, message)
}

/// A version string's major ("15.18 (Debian …)" → 15).
fn major_of_version(v: &str) -> Option<u32> {
    v.trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Every installed server: (major, bin directory), from PG_BINDIR,
/// `/usr/lib/postgresql/*/bin` and pg-tmp's cache.
fn installed_servers() -> Vec<(u32, PathBuf)> {
    let has_server = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    let mut v = Vec::new();
    if let Some(d) = std::env::var_os("PG_BINDIR").filter(|d| !d.is_empty()) {
        let d = PathBuf::from(d);
        if has_server(&d) {
            if let Some(m) = pgkit::server::major_of(&d) {
                v.push((m, d));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let d = e.path().join("bin");
            if let Some(m) = e.file_name().to_str().and_then(|s| s.parse().ok()) {
                if has_server(&d) {
                    v.push((m, d));
                }
            }
        }
    }
    for c in pgkit::pginstall::cached() {
        v.push((c.major, c.bindir()));
    }
    v
}

/// The server binaries for a dump of a `need` server: that major where
/// installed, else the newest installed above it (a newer server restores an
/// older one's dump), else 127.
pub fn server_bindir(need: Option<u32>) -> Result<PathBuf> {
    let Some(need) = need else {
        return pgkit::server::find_bindir(None);
    };
    if let Ok(d) = pgkit::server::find_bindir(Some(need)) {
        return Ok(d);
    }
    let mut newer: Vec<(u32, PathBuf)> = installed_servers()
        .into_iter()
        .filter(|(m, _)| *m >= need)
        .collect();
    newer.sort_by_key(|(m, _)| *m);
    match newer.pop() {
        Some((m, d)) => {
            log::info(
                "The dump's server version is not installed: drilling on a newer one",
                json!({"dumpMajor": need, "serverMajor": m, "bindir": d.display().to_string()}),
            );
            Ok(d)
        }
        None => Err(Error::new(
            Exit::MissingProgram,
            format!("No PostgreSQL {need} (or newer) server to restore the dump into"),
        )
        .field("requiredMajor", need)
        .suggest(format!(
            "Install it: apt-get install postgresql-{need}, or pg-tmp install {need} (or set PG_BINDIR)"
        ))),
    }
}

/// Settings that keep the restored data to this user and make a throwaway
/// restore fast (it is thrown away, so nothing needs to survive a crash).
fn drill_config() -> Vec<(String, String)> {
    [
        // No TCP at all, and a socket only its owner may open: another
        // account on the host cannot reach the restored data (nor, as a
        // superuser, run programs as this user through COPY TO PROGRAM).
        ("listen_addresses", "''"),
        ("unix_socket_permissions", "0700"),
        ("wal_level", "minimal"),
        ("max_wal_senders", "0"),
        ("archive_mode", "off"),
        ("autovacuum", "off"),
        ("max_wal_size", "'4GB'"),
        ("checkpoint_timeout", "'1h'"),
        ("maintenance_work_mem", "'256MB'"),
        ("shared_buffers", "'128MB'"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// How much larger than its dump a restored database may be: compressed
/// text expands several times, and indexes are rebuilt.
const EXPANSION: u64 = 20;

/// The largest restore put in `/dev/shm`, which is memory.
const SHM_MAX: u64 = 2 << 30;

/// Where the drill server goes: where pg-tmp's go (`/dev/shm` when it has
/// room, `PGKIT_TMPDIR` when set) for a small database, else a directory in
/// the system temp directory, on disk: `/dev/shm` is memory, and a large
/// restore there could take a production host's memory away.
fn server_dir(dump_size: u64) -> Result<Option<PathBuf>> {
    let plan = pgkit::server::shm_plan();
    let estimate = dump_size.saturating_mul(EXPANSION);
    let in_shm = plan.parent == Path::new("/dev/shm");
    let fits = plan
        .shm_free
        .is_some_and(|free| estimate <= SHM_MAX && estimate <= free / 4);
    if !in_shm || fits {
        return Ok(None);
    }
    let parent = std::env::temp_dir();
    let dir = tempfile::Builder::new()
        .prefix(&format!(
            "{}{}-",
            pgkit::server::DIR_PREFIX,
            std::process::id()
        ))
        .tempdir_in(&parent)
        .map_err(|e| Error::io(Exit::Failure, "create a directory in", &parent, &e))?
        .keep();
    Ok(Some(dir))
}

/// Runs one drill.
pub fn run(file: &Path, jobs: Option<u32>) -> Result<Passed> {
    if !file.exists() {
        return Err(Error::new(Exit::NoInput, "Dump not found")
            .field("file", file.display().to_string())
            .suggest("Check the path (pg-dump-rotate list shows the dumps)"));
    }
    // The restore reads the whole archive; the checksum comes first.
    integrity::check_checksum(file)?;
    let manifest = layout::read_manifest(&layout::manifest_path(file));
    if manifest.as_ref().is_some_and(|m| m["kind"] == "globals") {
        // Roles and tablespaces, not a database: read whole, not restored
        // (a fresh server already has some of the roles).
        integrity::verify_one(file)?;
        log::info(
            "Globals dump verified; not drilled (it holds roles and tablespaces, not a database)",
            json!({"file": file.display().to_string()}),
        );
        return Ok(Passed {
            tables: 0,
            rows: 0,
            facts: false,
        });
    }
    let recorded = manifest.as_ref().and_then(Facts::from_manifest);
    if recorded.is_none() {
        log::warn(
            "Dump has no recorded facts: restore-only drill (nothing to compare the tables with)",
            json!({"file": file.display().to_string(),
                   "suggestion": "Dumps made by this version record their tables; add --count-rows to record row counts too"}),
        );
    }
    let server_major = manifest
        .as_ref()
        .and_then(|m| m["serverVersion"].as_str().and_then(major_of_version));
    let bindir = server_bindir(server_major)?;
    let format = integrity::format_of(file);
    // The restoring program: the drill server's own when it can read the
    // archive (it is at least as new as the pg_dump that wrote it), else
    // one that can.
    let program = restore_program(file, format, &bindir)?;
    if format == Format::Plain && jobs.is_some_and(|j| j > 1) {
        log::warn(
            "--jobs ignored: a plain SQL dump is replayed by psql in one session",
            json!({"file": file.display().to_string(), "jobs": jobs}),
        );
    }

    let started = Instant::now();
    let dump_size = manifest
        .as_ref()
        .and_then(|m| m["size"].as_u64())
        .unwrap_or(0);
    let dir = server_dir(dump_size)?;
    // The restored copy is production data: a password nobody else knows
    // (it reaches pg_restore and psql in their environment, never argv), and
    // only this user's unix socket (see drill_config).
    let server = TempServer::start(Options {
        bindir: Some(bindir.clone()),
        config: drill_config(),
        dir: dir.clone(),
        password: Some(pgkit::server::random_password()),
        ..Default::default()
    })
    .inspect_err(|_| {
        // (A server that was made removes its directory itself.)
        if let Some(d) = &dir {
            let _ = std::fs::remove_dir_all(d);
        }
    })?;
    interrupt::check()?;
    log::info(
        "Drill server started",
        json!({"file": file.display().to_string(), "dir": server.base_dir().display().to_string(),
               "port": server.port(), "bindir": bindir.display().to_string()}),
    );
    let result = drill_on(&server, file, format, &program, recorded.as_ref(), jobs);
    let dir = server.base_dir().display().to_string();
    match server.stop_and_remove() {
        Ok(()) => log::info("Drill server removed", json!({"dir": dir})),
        Err(e) => log::warn(
            "Cannot remove the drill server",
            json!({"dir": dir, "error": e.error.unwrap_or(e.message),
                   "suggestion": "Remove it with pg-tmp stop --dir DIR (or pg-tmp prune)"}),
        ),
    }
    let passed = result?;
    log::info(
        "Restore drill passed",
        json!({"file": file.display().to_string(), "tables": passed.tables, "rows": passed.rows,
               "facts": passed.facts, "durationMs": started.elapsed().as_millis() as u64}),
    );
    Ok(passed)
}

fn restore_program(file: &Path, format: Format, bindir: &Path) -> Result<Program> {
    let own = |name: &str| programs::version_at(name, bindir.join(name));
    let need = layout::read_manifest(&layout::manifest_path(file))
        .and_then(|m| m["pgDumpVersion"].as_str().and_then(major_of_version));
    if format == Format::Plain {
        // A psql at least as new as the pg_dump (its `\restrict` lines).
        return match own("psql") {
            Ok(p) if need.is_none_or(|n| p.major >= n) => Ok(p),
            _ => programs::find("psql", need.map(|n| (n, "dump's pg_dump"))),
        };
    }
    match own("pg_restore") {
        Ok(p) if need.is_none_or(|n| p.major >= n) => Ok(p),
        _ => integrity::pg_restore_for(file),
    }
}

fn drill_on(
    server: &TempServer,
    file: &Path,
    format: Format,
    program: &Program,
    recorded: Option<&Facts>,
    jobs: Option<u32>,
) -> Result<Passed> {
    server.create_database(DRILL_DB)?;
    let settings = server.settings(DRILL_DB)?;
    restore(&settings, file, format, program, jobs)?;
    interrupt::check()?;
    let Some(recorded) = recorded else {
        return Ok(Passed {
            tables: 0,
            rows: 0,
            facts: false,
        });
    };
    let mut client = settings
        .connect()
        .map_err(|e| e.into_error(Exit::Dump, "Cannot connect to the drill server"))?;
    let _cancel = pgkit::conn::cancel_on_signal(&settings, &client);
    let found = facts::read(&mut client, &[], recorded.rows_counted)?;
    if let Some(d) = compare(recorded, &found) {
        return Err(
            drill_err(&format!("Restore drill failed: table {} differs", d.table()))
                .cause(d.describe())
                .field("file", file.display().to_string())
                .field("table", d.table())
                .field("reason", d.reason())
                .field(
                    "expected",
                    match &d {
                        Diff::Rows { expected, .. } => json!(expected),
                        _ => json!(null),
                    },
                )
                .field(
                    "found",
                    match &d {
                        Diff::Rows { found, .. } => json!(found),
                        _ => json!(null),
                    },
                )
                .suggest(
                    "The dump does not hold what the database held when it was dumped: do not rely on it; dump again",
                ),
        );
    }
    Ok(Passed {
        tables: recorded.tables.len(),
        rows: recorded.tables.iter().filter_map(|t| t.rows).sum(),
        facts: true,
    })
}

/// Whether an error line is harmless to a drill: a role that is missing
/// (ownership or a privilege the throwaway server cannot give), or a
/// setting the server does not know (a newer pg_restore's preamble, such as
/// pg_restore 17+'s `SET transaction_timeout` sent to an older server).
fn harmless(line: &str) -> bool {
    (line.contains("role \"") && line.contains("does not exist"))
        || line.contains("unrecognized configuration parameter")
}

/// Restores the dump: pg_restore for an archive, psql for a script (fed
/// through an inflater when gzip-compressed). Killed on SIGINT/SIGTERM.
fn restore(
    settings: &pgkit::conn::Settings,
    file: &Path,
    format: Format,
    p: &Program,
    jobs: Option<u32>,
) -> Result<()> {
    let mut cmd = Command::new(&p.path);
    child::set_libpq_env(&mut cmd, settings);
    let gz = format == Format::Plain && crate::gzip::is_gzip(file);
    let name: &'static str = if format == Format::Plain {
        cmd.args(["-X", "-q"])
            .arg("--dbname")
            .arg(child::dbname_conninfo(&settings.dbname));
        if !gz {
            cmd.arg("--file").arg(file);
        }
        "psql"
    } else {
        cmd.args([
            "--no-owner",
            "--no-privileges",
            "--no-tablespaces",
            "--no-security-labels",
            "--no-subscriptions",
            "--no-publications",
        ])
        .arg("--dbname")
        .arg(child::dbname_conninfo(&settings.dbname));
        if let Some(j) = jobs.filter(|j| *j > 1) {
            cmd.arg(format!("--jobs={j}"));
        }
        cmd.arg(file);
        "pg_restore"
    };
    cmd.stdin(if gz { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    child::own_group(&mut cmd);
    log::info(
        "Restoring into the drill server",
        json!({"file": file.display().to_string(), "program": p.path.display().to_string(),
               "version": p.version}),
    );
    let mut proc = cmd
        .spawn()
        .map_err(|e| Error::new(Exit::MissingProgram, format!("Cannot run {name}")).cause(e))?;
    let pid = proc.id();
    let hook = interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
    let relay = proc.stderr.take().map(|e| classify(name, e));
    let fed = match proc.stdin.take() {
        Some(mut w) => {
            let r = std::fs::File::open(file)
                .map_err(|e| Error::io(Exit::Dump, "open", file, &e))
                .and_then(|f| {
                    let mut dec = flate2::read::MultiGzDecoder::new(BufReader::new(f));
                    copy_until_closed(&mut dec, &mut w)
                        .map_err(|e| Error::io(Exit::Dump, "read", file, &e))
                });
            if r.is_err() {
                child::kill(pid, libc::SIGKILL);
            }
            r
        }
        None => Ok(()),
    };
    let status = proc
        .wait()
        .map_err(|e| drill_err(&format!("Cannot wait for {name}")).cause(e))?;
    drop(hook);
    let (errors, roles) = relay.and_then(|r| r.join().ok()).unwrap_or_default();
    interrupt::check()?;
    fed?;
    if roles > 0 {
        log::warn(
            "Statements naming roles or settings the drill server lacks were skipped",
            json!({"file": file.display().to_string(), "statements": roles}),
        );
    }
    // pg_restore exits 1 for errors it ignored; psql (without
    // ON_ERROR_STOP) 0: the errors themselves decide.
    let failed = !errors.is_empty() || (!status.success() && (roles == 0 || name == "psql"));
    if failed {
        return Err(drill_err("Restore drill failed: the dump does not restore")
            .cause(
                errors
                    .first()
                    .cloned()
                    .unwrap_or_else(|| child::describe(status)),
            )
            .field("file", file.display().to_string())
            .field("errors", errors.len())
            .suggest("See the error lines above; do not rely on this dump"));
    }
    Ok(())
}

/// Copies a script into psql's stdin; a write that fails means psql has
/// stopped reading (its status and errors tell why).
fn copy_until_closed(src: &mut impl Read, dst: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if dst.write_all(&buf[..n]).is_err() || interrupt::received().is_some() {
            return Ok(());
        }
    }
}

/// Relays the restoring program's stderr: an error naming a missing role is
/// counted (logged at debug); any other error line is logged as an error
/// and returned; pg_restore's closing "errors ignored" count is left to the
/// caller.
fn classify(
    program: &'static str,
    stderr: impl Read + Send + 'static,
) -> std::thread::JoinHandle<(Vec<String>, usize)> {
    std::thread::spawn(move || {
        let mut errors = Vec::new();
        let mut roles = 0usize;
        crate::child::each_line(stderr, |line| {
            if line.contains("errors ignored on restore") {
                return;
            }
            let fields = json!({"program": program, "output": line});
            let is_error = crate::child::level_of(&line) == log::Level::Error;
            if is_error && harmless(&line) {
                roles += 1;
                log::debug(&format!("{program} output"), fields);
            } else if is_error {
                log::error(&format!("{program} output"), fields);
                if errors.len() < 50 {
                    errors.push(line);
                }
            } else {
                log::debug(&format!("{program} output"), fields);
            }
        });
        (errors, roles)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(schema: &str, name: &str, rows: Option<i64>) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            partitioned: false,
            rows,
            data_excluded: false,
        }
    }

    fn facts(tables: Vec<Table>) -> Facts {
        Facts {
            rows_counted: true,
            tables,
        }
    }

    #[test]
    fn the_first_table_that_differs() {
        let want = facts(vec![t("public", "a", Some(1)), t("public", "b", Some(2))]);
        assert_eq!(compare(&want, &want.clone()), None);
        let fewer = facts(vec![t("public", "a", Some(1)), t("public", "b", Some(1))]);
        assert_eq!(
            compare(&want, &fewer),
            Some(Diff::Rows {
                table: "public.b".into(),
                expected: 2,
                found: 1
            })
        );
        let missing = facts(vec![t("public", "b", Some(2))]);
        assert_eq!(
            compare(&want, &missing),
            Some(Diff::Missing("public.a".into()))
        );
        let extra = facts(vec![
            t("public", "a", Some(1)),
            t("public", "aa", Some(0)),
            t("public", "b", Some(2)),
        ]);
        assert_eq!(
            compare(&want, &extra),
            Some(Diff::Extra("public.aa".into()))
        );
        // A table recorded without a count is compared by name only.
        let uncounted = facts(vec![t("public", "a", None), t("public", "b", Some(2))]);
        assert_eq!(
            compare(&uncounted, &fewer),
            Some(Diff::Rows {
                table: "public.b".into(),
                expected: 2,
                found: 1
            })
        );
        assert_eq!(compare(&uncounted, &want), None);
    }

    #[test]
    fn harmless_errors_are_told_apart() {
        assert!(harmless(
            "psql:<stdin>:40: ERROR:  role \"app\" does not exist"
        ));
        assert!(harmless(
            "pg_restore: error: could not execute query: ERROR:  unrecognized configuration parameter \"transaction_timeout\""
        ));
        assert!(!harmless(
            "pg_restore: error: could not execute query: ERROR:  relation \"x\" does not exist"
        ));
    }
}
