//! `restore`: the checksum first (a damaged dump is refused; a dump without
//! its manifest, which `list` calls unverified, is verified whole as `verify`
//! does), then pg_restore `--clean --if-exists --no-owner`, in one
//! transaction unless `--jobs`. Plain dumps are fed through us into `psql -v
//! ON_ERROR_STOP=1` (inflated on the way when gzip-compressed), between a
//! `BEGIN` and a `COMMIT` that we write only once the whole script came
//! through with pg_dump's closing line: a truncated script, or our death
//! midway (psql then reads an end of input, which `--single-transaction`
//! would commit), restores nothing. A database that already holds
//! objects is refused unless `--force`.

use crate::cli::RestoreArgs;
use crate::layout::{self, Format};
use crate::{child, globals, gzip, integrity};
use flate2::read::MultiGzDecoder;
use pgkit::cli::Summary;
use pgkit::conn::{ConnArgs, Settings};
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Counts user objects: relations and functions outside the system schemas,
/// schemas other than `public`, and large objects (pg_restore --clean drops
/// and replaces those with the dump's OIDs).
const OBJECTS_SQL: &str = "
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
     + (SELECT count(*) FROM pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public')
           AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%')
     + (SELECT count(*) FROM pg_largeobject_metadata)";

fn restore_err(message: &str) -> Error {
    Error::new(Exit::Dump, message)
}

/// Runs `restore`.
pub fn run(a: &RestoreArgs) -> Result<Summary> {
    // s3://…: downloaded into a private temporary directory, removed when
    // the restore ends; from there the path is the local one.
    let fetched = match a.file.to_str().filter(|f| f.starts_with("s3://")) {
        Some(url) => Some(crate::remote::fetch_for_restore(url, a.with_globals)?),
        None => None,
    };
    let file = fetched.as_ref().map_or(&a.file, |(_, p)| p);
    if !file.exists() {
        return Err(Error::new(Exit::NoInput, "Dump not found")
            .field("file", file.display().to_string())
            .suggest("Check the path (pg-dump-rotate list shows the dumps)"));
    }
    let mut conn: ConnArgs = a.conn.clone();
    if let Some(to) = &a.to {
        conn.dsn = Some(to.clone());
    }
    let mut settings = Settings::resolve(&conn, "pg-dump-rotate")?;
    if let Some(db) = &a.db {
        settings = settings.with_dbname(db);
    }
    if globals::is_globals(file) {
        globals::replay(file, &settings)?;
        return Ok(Summary::ok("Globals restored").field("file", file.display().to_string()));
    }
    // The roles (and tablespaces) the dump's objects need, first.
    let with_globals = if a.with_globals {
        Some(globals::recorded_for(file)?)
    } else {
        None
    };
    let format = integrity::format_of(file);
    let program = if format == Format::Plain {
        integrity::psql_for(file)?
    } else {
        integrity::pg_restore_for(file)?
    };

    // Without a manifest nothing vouches for the sidecar (it may have been
    // remade over a damaged file): check the archive itself, as verify does.
    let unverified = !layout::manifest_path(file).is_file();
    let checked = pgkit::progress::Progress::reading("Checking", None, file).during(|| {
        if unverified {
            integrity::verify_one(file)
        } else {
            integrity::check_checksum(file)
        }
    });
    checked.map_err(|e| {
        if e.code == Exit::Dump {
            Error::new(
                Exit::Dump,
                if unverified {
                    "Refusing to restore a dump that fails verification"
                } else {
                    "Refusing to restore a dump that fails its checksum"
                },
            )
            .cause(format!(
                "{}: {}",
                e.message,
                e.error.clone().unwrap_or_default()
            ))
            .field("file", file.display().to_string())
            .suggest("Restore another dump (pg-dump-rotate list), or dump again")
        } else {
            e
        }
    })?;
    log::info(
        if unverified {
            "Dump verified (it had no manifest)"
        } else {
            "Checksum verified"
        },
        json!({"file": file.display().to_string()}),
    );
    if format == Format::Plain && a.jobs.is_some_and(|j| j > 1) {
        log::warn(
            "--jobs ignored: a plain SQL dump is restored by psql in one session",
            json!({"file": file.display().to_string(), "jobs": a.jobs}),
        );
    }

    if a.create_db {
        create_db(&settings)?;
    }
    // The connection stays open for the restore: if it is interrupted, the
    // child's server sessions are ended through it (see `end_sessions`).
    let (client, objects) = count_objects(&settings)?;
    if objects > 0 && !a.force {
        return Err(restore_err("Refusing to restore into a non-empty database")
            .cause(format!(
                "database {:?} already holds {objects} object(s)",
                settings.dbname
            ))
            .field("database", settings.dbname.clone())
            .field("objects", objects)
            .suggest("Restore into a new database (--db NAME --create-db), or pass --force to drop and replace what the dump contains"));
    }

    if let Some(g) = &with_globals {
        globals::replay(g, &settings)?;
    }

    // A plain script goes through us into psql's stdin (inflated when
    // gzip-compressed), so its end is checked before psql may commit.
    let plain = format == Format::Plain;
    let mut cmd = Command::new(&program.path);
    child::set_libpq_env(&mut cmd, &settings);
    // Names the child's sessions in pg_stat_activity, so an interrupted
    // restore can end exactly those.
    let marker = format!("pg-dump-rotate restore {}", std::process::id());
    cmd.env("PGAPPNAME", &marker);
    if format == Format::Plain {
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
            .arg("--dbname")
            .arg(child::dbname_conninfo(&settings.dbname))
            .args(["--file", "-"]);
    } else {
        cmd.args(["--clean", "--if-exists"]);
        if !a.keep_owner {
            cmd.arg("--no-owner");
        }
        match a.jobs {
            Some(j) if j > 1 => {
                cmd.arg(format!("--jobs={j}"));
            }
            _ => {
                cmd.arg("--single-transaction");
            }
        }
        cmd.arg("--dbname")
            .arg(child::dbname_conninfo(&settings.dbname))
            .arg(file);
    }
    child::own_group(&mut cmd);
    cmd.stdin(if plain { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    log::info(
        "Restore started",
        json!({"file": file.display().to_string(), "target": settings.redacted(),
               "program": program.path.display().to_string(), "version": program.version}),
    );
    let name: &'static str = if format == Format::Plain {
        "psql"
    } else {
        "pg_restore"
    };
    let mut proc = cmd
        .spawn()
        .map_err(|e| Error::new(Exit::MissingProgram, format!("Cannot run {name}")).cause(e))?;
    let pid = proc.id();
    // At a terminal: how far the archive has been read (by us for a plain
    // script, else by the restore's process group, its --jobs workers too).
    let _progress = pgkit::progress::Progress::reading("Restoring", (!plain).then_some(pid), file);
    let hook = interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
    let relay = proc.stderr.take().map(|e| child::relay(name, e));
    // psql's one transaction commits only on the COMMIT we write after the
    // whole script came through intact. Anything else (a damaged stream, a
    // signal) kills psql too, so it rolls back at once.
    let mut stdin = proc.stdin.take();
    let fed = match stdin.as_mut() {
        Some(w) => feed_script(file, w),
        None => Ok(()),
    };
    if fed.is_ok() {
        drop(stdin.take());
    } else {
        child::kill(pid, libc::SIGKILL);
    }
    let status = proc
        .wait()
        .map_err(|e| restore_err("Cannot wait for the restore").cause(e))?;
    drop(stdin);
    drop(hook);
    let lines = relay.and_then(|r| r.join().ok()).unwrap_or_default();
    if interrupt::received().is_some() {
        end_sessions(client, &marker);
    }
    interrupt::check()?;
    fed?;
    if !status.success() {
        return Err(restore_err("Restore failed")
            .cause(lines.first().cloned().unwrap_or_else(|| child::describe(status)))
            .field("errors", lines.len())
            .field("status", child::describe(status))
            .suggest(if a.jobs.is_some_and(|j| j > 1) && format != Format::Plain {
                "See the error lines above; with --jobs the restore is not one transaction, so the database may be partly restored"
            } else {
                "See the error lines above; the restore ran in one transaction and was rolled back"
            }));
    }
    Ok(Summary::ok("Restore complete")
        .field("file", file.display().to_string())
        .field("database", settings.dbname.clone()))
}

/// Feeds a plain script into psql's stdin (inflating it when it is
/// gzip-compressed) inside one transaction, whose COMMIT is written only
/// after the script's closing line was seen. A write that fails means psql
/// stopped reading (it exited; its status tells why): not an error here.
fn feed_script(path: &Path, stdin: &mut impl Write) -> Result<()> {
    let f = File::open(path).map_err(|e| Error::io(Exit::Dump, "open", path, &e))?;
    let f = BufReader::with_capacity(1 << 20, f);
    let mut dec: Box<dyn Read> = if gzip::is_gzip(path) {
        Box::new(MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut ends = gzip::Ends::default();
    if stdin.write_all(b"BEGIN;\n").is_err() {
        return Ok(());
    }
    loop {
        interrupt::check()?;
        let n = match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(restore_err("Dump is damaged; nothing was restored")
                    .cause(format!("read: {e}"))
                    .field("file", path.display().to_string())
                    .suggest("Restore another dump (pg-dump-rotate list), or dump again"))
            }
        };
        ends.push(&buf[..n]);
        if stdin.write_all(&buf[..n]).is_err() {
            return Ok(());
        }
    }
    if !gzip::ends_complete(&ends.tail) {
        return Err(restore_err("Dump is incomplete; nothing was restored")
            .cause("the SQL script lacks its closing 'dump complete' line")
            .field("file", path.display().to_string())
            .suggest("Restore another dump (pg-dump-rotate list), or dump again"));
    }
    // A script's last line may lack its newline, or be a psql meta-command
    // (`\unrestrict …`) that takes the rest of its line: COMMIT goes on a
    // line of its own.
    let _ = stdin.write_all(b"\nCOMMIT;\n");
    Ok(())
}

fn connect(settings: &Settings) -> Result<postgres::Client> {
    settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))
}

/// Ends the server sessions an interrupted child left. pg_restore cancels
/// its query when signalled, but psql does not: its backend would go on
/// running the current statement (a COPY, an index build) until it next
/// reads from the dead client, holding its locks, before rolling back.
/// Terminating it rolls the restore's transaction back at once.
fn end_sessions(mut client: postgres::Client, marker: &str) {
    let sql = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE application_name = $1 AND pid <> pg_backend_pid()";
    // Bounded: an unreachable server must not hold up an interrupted run.
    let (tx, rx) = std::sync::mpsc::channel();
    let m = marker.to_string();
    std::thread::spawn(move || {
        let r = client
            .query_one(sql, &[&m])
            .map(|row| row.get::<_, i64>(0))
            .map_err(|e| e.to_string());
        let _ = tx.send(r);
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap_or_else(|_| Err("no answer within 5s".into()));
    match result {
        Ok(0) => {}
        Ok(n) => log::info(
            "Ended the interrupted restore's server sessions",
            json!({"sessions": n}),
        ),
        Err(e) => log::warn(
            "Cannot end the interrupted restore's server sessions",
            json!({"error": e, "applicationName": marker}),
        ),
    }
}

fn count_objects(settings: &Settings) -> Result<(postgres::Client, i64)> {
    let mut c = connect(settings).map_err(|e| {
        if e.error
            .as_deref()
            .is_some_and(|m| m.contains("does not exist"))
        {
            Error::new(Exit::Dump, "The target database does not exist")
                .cause(e.error.unwrap_or_default())
                .field("database", settings.dbname.clone())
                .suggest("Pass --create-db to create it")
        } else {
            e
        }
    })?;
    let row = c
        .query_one(OBJECTS_SQL, &[])
        .map_err(|e| restore_err("Cannot inspect the target database").cause(e))?;
    Ok((c, row.get(0)))
}

fn create_db(settings: &Settings) -> Result<()> {
    let admin = settings.with_dbname("postgres");
    let mut c = connect(&admin)?;
    let exists = c
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[&settings.dbname],
        )
        .map_err(|e| restore_err("Cannot look up the target database").cause(e))?
        .is_some();
    if exists {
        log::info(
            "Target database exists",
            json!({"database": settings.dbname}),
        );
        return Ok(());
    }
    c.batch_execute(&format!(
        "CREATE DATABASE {}",
        pgkit::sql::quote_ident(&settings.dbname)
    ))
    .map_err(|e| restore_err("Cannot create the target database").cause(e))?;
    log::info("Database created", json!({"database": settings.dbname}));
    Ok(())
}
