//! `dump --all-databases`: a whole server. The cluster's globals (roles,
//! tablespaces) first, by `pg_dumpall --globals-only`, as the source
//! `PREFIX_globals`; then every database that accepts connections and is no
//! template, each as its own source (`PREFIX` + its name), `--jobs` at a
//! time. Each dump is the single-database dump (its own lock, partial file,
//! checks, manifest, `--purge`), so one that fails leaves the others written
//! and rotated; the run then exits 5 naming what failed.

use crate::cli::DumpArgs;
use crate::commands::dump::{self, Kind, Plan};
use crate::layout::{self, Format};
use crate::programs;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

/// The databases a whole-server dump takes, in name order, and the
/// server's major version (which pg_dump and pg_dumpall to take).
const DATABASES_SQL: &str = "SELECT datname, current_setting('server_version_num')::int / 10000
  FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

/// One source's outcome.
struct Outcome {
    source: String,
    database: Option<String>,
    result: Result<dump::Done>,
}

/// Runs `dump --all-databases`.
pub fn run(dir: &Path, a: &DumpArgs) -> Result<Summary> {
    dump::check_args(a)?;
    if !a.source_prefix.is_empty() {
        layout::check_source(&a.source_prefix)?;
    }
    let jobs = a.jobs.unwrap_or(1).max(1) as usize;
    let settings = Settings::resolve(&a.conn, "pg-dump-rotate")?;
    let (databases, excluded, server_major) = databases(&settings, &a.exclude_database)?;
    log::info(
        "Dumping a whole server",
        json!({"server": settings.redacted(), "databases": databases, "excluded": excluded,
               "jobs": jobs}),
    );

    let mut outcomes = Vec::new();
    let globals_source = globals_source_name(&a.source_prefix);
    let globals = Plan {
        args: a,
        kind: Kind::Globals {
            role_passwords: a.with_role_passwords,
        },
        format: Format::Plain,
        jobs: None,
        globals: None,
        program: programs::preferred("pg_dumpall", || server_major.clone())?,
    };
    let written = dump::dump_one(dir, &globals, &settings, &globals_source);
    interrupt::check()?;
    // The databases' manifests name the globals dumped with them, relative
    // to the dump directory, for `restore --with-globals`.
    let globals_file = written.as_ref().ok().and_then(|d| {
        let name = d.file.file_name()?.to_str()?;
        Some(format!("{globals_source}/{name}"))
    });
    if let Err(e) = &written {
        failed(&globals_source, None, e);
    }
    outcomes.push(Outcome {
        source: globals_source,
        database: None,
        result: written,
    });

    let pg_dump = programs::preferred("pg_dump", || server_major.clone())?;
    let queue = Mutex::new(databases.into_iter().collect::<VecDeque<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                // A signal stops the scheduling; the dumps under way end
                // through their own interrupt checks.
                if interrupt::received().is_some() {
                    return;
                }
                let Some(db) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    return;
                };
                let source = format!("{}{db}", a.source_prefix);
                let plan = Plan {
                    args: a,
                    kind: Kind::Database,
                    format: a.format,
                    // --jobs counts databases here; each pg_dump runs alone.
                    jobs: None,
                    globals: globals_file.clone(),
                    program: pg_dump.clone(),
                };
                let result = layout::check_source(&source)
                    .map_err(|e| {
                        Error::new(Exit::Dump, "The database's name is not a plain source name")
                            .cause(e.error.unwrap_or(e.message))
                            .suggest("Skip it with --exclude-database, and dump it alone with --source NAME")
                    })
                    .and_then(|()| {
                        // Its dumps would mix with the roles' under one
                        // source, and their retention with them.
                        if source == globals_source_name(&a.source_prefix) {
                            return Err(Error::new(
                                Exit::Dump,
                                "The database's source name is the globals dump's",
                            )
                            .field("database", db.clone())
                            .suggest("Skip it with --exclude-database _globals and dump it alone with --source NAME"));
                        }
                        dump::dump_one(dir, &plan, &settings.with_dbname(&db), &source)
                    });
                if let Err(e) = &result {
                    if e.code != Exit::Interrupted && e.code != Exit::Terminated {
                        failed(&source, Some(&db), e);
                    }
                }
                if let Ok(mut d) = done.lock() {
                    d.push(Outcome {
                        source,
                        database: Some(db),
                        result,
                    });
                }
            });
        }
    });
    interrupt::check()?;
    outcomes.extend(done.into_inner().unwrap_or_default());
    summary(outcomes)
}

/// The source the cluster's globals are dumped under.
fn globals_source_name(prefix: &str) -> String {
    format!("{prefix}_globals")
}

/// The connectable, non-template databases to dump, the excluded ones, and
/// the server's major version, over one connection.
fn databases(
    settings: &Settings,
    exclude: &[String],
) -> Result<(Vec<String>, Vec<String>, Result<u32>)> {
    let mut client = settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))?;
    let _cancel = pgkit::conn::cancel_on_signal(settings, &client);
    let rows = client
        .query(DATABASES_SQL, &[])
        .map_err(|e| Error::new(Exit::Dump, "Cannot list the databases").cause(e))?;
    // Every server has the maintenance database it was asked through, so
    // there is a row; a server with none left to dump falls back to asking.
    let major = match rows.first() {
        Some(r) => Ok(r.get::<_, i32>(1) as u32),
        None => dump::server_version(settings).map(|v| v.1),
    };
    let all: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let (chosen, excluded) = all
        .into_iter()
        .partition(|d| !pgkit::fleet::glob::any(exclude, d));
    Ok((chosen, excluded, major))
}

fn failed(source: &str, database: Option<&str>, e: &Error) {
    log::error(
        "Dump failed",
        json!({"source": source, "database": database, "error": e.message,
               "cause": e.error, "exitCode": e.code.code()}),
    );
}

/// One line for the whole run: what was written, what failed (exit 5).
fn summary(mut outcomes: Vec<Outcome>) -> Result<Summary> {
    outcomes.sort_by(|x, y| x.source.cmp(&y.source));
    let mut dumped = Vec::new();
    let mut failed = Vec::new();
    let mut bytes = 0;
    for o in &outcomes {
        match &o.result {
            Ok(d) => {
                bytes += d.size;
                dumped.push(json!(o.source));
            }
            Err(e) => failed.push(json!({"source": o.source, "database": o.database,
                                         "error": e.message})),
        }
    }
    let summary = Summary::ok(if failed.is_empty() {
        "Server dump complete"
    } else {
        "Server dump incomplete: some dumps failed"
    })
    .field("dumped", dumped.len())
    .field("failed", failed.len())
    .field("sizeBytes", bytes)
    .field("sources", dumped);
    Ok(if failed.is_empty() {
        summary
    } else {
        summary
            .field("failures", failed)
            .code(Exit::Dump)
            .level(log::Level::Error)
    })
}
