//! A seeding run: skip checks, discovery, the `--if-empty` guard, then every
//! pending file and its tracking row in one transaction.

use crate::cli::{Cli, OnChange, SeedArgs, WaitArgs};
use crate::discovery::{self, Kind, SeedFile};
use crate::tracking::Tracking;
use crate::{csv, sql};
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::log::Level;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::{json, Value};
use std::time::Instant;

/// What happens to one file in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Apply,
    Rerun,
    Skip,
    SkipChanged,
}

/// Runs pg-seed (not `generate`), turning a failure into a warn line and
/// exit 0 under `--non-fatal`.
pub fn run(cli: &Cli) -> Result<Summary> {
    match seed(cli) {
        // A bad flag (64) or bad configuration (78: SKIP_SEED=ture, an
        // unparsable DSN or DB_TIMEOUT) is a mistake to fix, not a failed
        // seed: it stays an error under --non-fatal, as an interruption does.
        Err(e)
            if cli.seed.non_fatal
                && !matches!(
                    e.code,
                    Exit::Ok | Exit::Usage | Exit::Config | Exit::Interrupted | Exit::Terminated
                ) =>
        {
            let mut s = Summary::ok("Database seed failed (non-fatal)").level(Level::Warn);
            if let Some(err) = &e.error {
                s = s.field("error", err.clone());
            }
            s = s.field("failure", e.message.clone());
            for (k, v) in &e.fields {
                s = s.field(k, v.clone());
            }
            if let Some(sg) = &e.suggestion {
                s = s.field("suggestion", sg.clone());
            }
            Ok(s.field("failureExitCode", e.code.code()))
        }
        other => other,
    }
}

/// Connects, waiting first with `--wait`.
pub fn connect(settings: &Settings, wait: &WaitArgs) -> Result<postgres::Client> {
    if wait.wait {
        let timeout = pgkit::duration::parse_ms_or_duration(&wait.timeout).map_err(|e| {
            Error::config("Invalid timeout")
                .cause(e)
                .suggest("Set DB_TIMEOUT / --timeout to milliseconds or a duration like 30s")
        })?;
        pgkit::wait::wait_for(
            settings,
            &pgkit::wait::WaitOptions {
                timeout: Some(timeout),
                ..Default::default()
            },
        )?;
    }
    settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))
}

/// Whether SKIP_SEED / `--skip` asks to skip (78 when it is not a boolean).
pub fn skip_requested(cli: &Cli) -> Result<bool> {
    match &cli.seed.skip {
        None => Ok(false),
        Some(v) => pgkit::cli::parse_bool(v).ok_or_else(|| {
            // From the command line a usage error (64), from SKIP_SEED a
            // configuration error (78).
            let flag = std::env::args().any(|a| a == "--skip" || a.starts_with("--skip="));
            let err = if flag {
                Error::usage("Invalid --skip value")
            } else {
                Error::config("Invalid SKIP_SEED value")
            };
            err.cause(format!("{v:?} is not a boolean"))
                .suggest("Set SKIP_SEED / --skip to true, false, 1, 0, yes or no")
        }),
    }
}

fn seed(cli: &Cli) -> Result<Summary> {
    let args = &cli.seed;
    if skip_requested(cli)? {
        return Ok(Summary::ok("Seeding skipped").field("reason", "SKIP_SEED"));
    }
    let mut tracking = Tracking::parse(&args.table)?;
    let files = if args.files.is_empty() {
        discovery::discover(&args.dir)?
    } else {
        discovery::from_paths(&args.files)?
    };
    if files.is_empty() {
        log::info(
            "No seed files found",
            json!({"dir": args.dir.display().to_string()}),
        );
    }
    let settings = Settings::resolve(&cli.conn, "pg-seed")?;
    let mut client = connect(&settings, &cli.wait)?;
    let _cancel = pgkit::conn::cancel_on_signal(&settings, &client);

    if let Some(table) = nonempty_guard(&mut client, &args.if_empty)? {
        return Ok(Summary::ok("Seeding skipped")
            .field("reason", "table has rows")
            .field("table", table));
    }

    if args.dry_run {
        return dry_run(&mut client, &tracking, &files, args);
    }

    let mut tx = client.transaction().map_err(|e| {
        sql::with_db_error(Error::new(Exit::Seed, "Cannot begin the transaction"), &e)
    })?;
    tracking.lock(&mut tx)?;
    tracking.ensure(&mut tx)?;
    tracking.pin(&mut tx)?;
    let applied = tracking.load(&mut tx)?;

    let mut plans = Vec::with_capacity(files.len());
    for f in &files {
        let plan = plan_for(
            f,
            applied.get(&f.name).map(|a| a.checksum.as_str()),
            args.on_change,
        )?;
        plans.push(plan);
    }

    let (mut n_applied, mut n_skipped, mut n_rows) = (0u64, 0u64, 0u64);
    for (f, plan) in files.iter().zip(&plans) {
        interrupt::check()?;
        match plan {
            Plan::Skip => {
                n_skipped += 1;
                log::info(
                    "Seed already applied, skipped",
                    json!({"filename": f.name, "checksum": f.checksum.get()?}),
                );
            }
            Plan::SkipChanged => {
                n_skipped += 1;
                log::warn(
                    "Seed file changed since it was applied, skipped (--on-change skip)",
                    json!({"filename": f.name, "checksum": f.checksum.get()?}),
                );
            }
            Plan::Apply | Plan::Rerun => {
                let start = Instant::now();
                let rows = match &f.kind {
                    Kind::Sql => {
                        sql::apply(&mut tx, f).map_err(interrupted_or)?;
                        None
                    }
                    Kind::Csv(table) => {
                        Some(csv::apply(&mut tx, f, table).map_err(interrupted_or)?)
                    }
                };
                let checksum = f.checksum.get()?;
                tracking.record(&mut tx, &f.name, &checksum, rows.map(|r| r as i64))?;
                n_applied += 1;
                n_rows += rows.unwrap_or(0);
                let mut fields = json!({
                    "filename": f.name,
                    "checksum": checksum,
                    "durationMs": start.elapsed().as_millis() as u64,
                });
                if let (Some(r), Value::Object(m)) = (rows, &mut fields) {
                    m.insert("rows".into(), json!(r));
                }
                let msg = if *plan == Plan::Rerun {
                    "Seed re-applied (--on-change rerun)"
                } else {
                    "Seed applied"
                };
                log::info(msg, fields);
            }
        }
    }
    interrupt::check()?;
    tx.commit()
        .map_err(|e| sql::with_db_error(Error::new(Exit::Seed, "Cannot commit the seeds"), &e))?;
    Ok(Summary::ok(if n_applied == 0 {
        "Seeds up to date"
    } else {
        "Seeding completed"
    })
    .field("applied", n_applied)
    .field("skipped", n_skipped)
    .field("rows", n_rows)
    .field("table", tracking.display()))
}

/// A query cancelled by our own signal handler reports as the signal.
fn interrupted_or(e: Error) -> Error {
    if interrupt::received().is_some() {
        interrupt::error()
    } else {
        e
    }
}

fn plan_for(f: &SeedFile, stored: Option<&str>, on_change: OnChange) -> Result<Plan> {
    Ok(match stored {
        None => Plan::Apply,
        Some(c) if c == f.checksum.get()? => Plan::Skip,
        Some(c) => match on_change {
            OnChange::Skip => Plan::SkipChanged,
            OnChange::Rerun => Plan::Rerun,
            OnChange::Fail => {
                return Err(Error::new(Exit::Seed, "Seed file changed since it was applied")
                    .field("filename", f.name.clone())
                    .field("checksum", f.checksum.get()?)
                    .field("appliedChecksum", c.to_string())
                    .suggest(format!(
                        "Restore {} as it was applied, put the new data in a new seed file, or run with --on-change rerun (apply it again) or --on-change skip",
                        f.name
                    )))
            }
        },
    })
}

/// The first `--if-empty` table that has rows, if any. A table that does
/// not exist counts as empty.
fn nonempty_guard(client: &mut postgres::Client, tables: &[String]) -> Result<Option<String>> {
    for t in tables {
        let row = client
            // parse_ident raises on a name that does not parse: since
            // PostgreSQL 16, to_regclass answers NULL for it instead.
            .query_one(
                "SELECT to_regclass($1::text)::text, parse_ident($1::text) IS NOT NULL",
                &[t],
            )
            .map_err(|e| {
                // A name that does not parse is a bad flag value (64).
                let code = match e.code() {
                    Some(s)
                        if *s == postgres::error::SqlState::INVALID_NAME
                            || *s == postgres::error::SqlState::INVALID_PARAMETER_VALUE =>
                    {
                        Exit::Usage
                    }
                    _ => Exit::Seed,
                };
                sql::with_db_error(Error::new(code, "Invalid --if-empty table name"), &e)
                    .field("table", t.clone())
                    .suggest("Give --if-empty a table name as in SQL: NAME or SCHEMA.NAME")
            })?;
        let Some(reg): Option<String> = row.get(0) else {
            log::info(
                "Guard table does not exist, treated as empty",
                json!({"table": t}),
            );
            continue;
        };
        let has_rows: bool = client
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {reg})"), &[])
            .map_err(|e| {
                sql::with_db_error(
                    Error::new(Exit::Seed, "Cannot check the --if-empty table"),
                    &e,
                )
                .field("table", t.clone())
            })?
            .get(0);
        if has_rows {
            return Ok(Some(t.clone()));
        }
    }
    Ok(None)
}

/// `--dry-run`: one line per file on stdout, `ACTION<TAB>FILE[<TAB>REASON]`,
/// and the exit code a real run would end with where it can be known
/// without running the files: a changed file under `--on-change fail` (4),
/// a SQL file a real run refuses before it runs (65: it controls the
/// transaction, or is not UTF-8; `refuse`, each also logged with the real
/// run's error line). Under `--non-fatal`, as a real run, exit 0 at warn.
fn dry_run(
    client: &mut postgres::Client,
    tracking: &Tracking,
    files: &[SeedFile],
    args: &SeedArgs,
) -> Result<Summary> {
    let applied = if tracking.exists(client)? {
        tracking.load(client)?
    } else {
        Default::default()
    };
    let (mut apply, mut skip, mut changed, mut refused) = (0u64, 0u64, 0u64, 0u64);
    // The first refusal: the one a real run would stop at.
    let mut refusal: Option<Error> = None;
    for f in files {
        let (action, reason) = match applied.get(&f.name).map(|a| a.checksum.as_str()) {
            None => {
                apply += 1;
                ("apply", None)
            }
            Some(c) if c == f.checksum.get()? => {
                skip += 1;
                ("skip", Some("already applied"))
            }
            Some(_) => {
                changed += 1;
                let action = match args.on_change {
                    OnChange::Fail => "fail",
                    OnChange::Skip => "skip",
                    OnChange::Rerun => "rerun",
                };
                (action, Some("changed since applied"))
            }
        };
        let mut line = match reason {
            None => format!("{action}\t{}", f.name),
            Some(r) => format!("{action}\t{}\t{r}", f.name),
        };
        if matches!(action, "apply" | "rerun") && matches!(f.kind, Kind::Sql) {
            if let Err(e) = sql::load(f) {
                refused += 1;
                line = format!("refuse\t{}\t{}", f.name, refusal_reason(&e));
                e.log();
                refusal.get_or_insert(e);
            }
        }
        pgkit::out::println(&line)?;
    }
    let failure = if changed > 0 && args.on_change == OnChange::Fail {
        Some(
            Summary::ok("Dry run: a changed seed file would fail the run")
                .code(Exit::Seed)
                .field(
                    "suggestion",
                    "Restore the changed files, or run with --on-change rerun or --on-change skip",
                ),
        )
    } else {
        refusal.map(|e| {
            let mut s = Summary::ok("Dry run: a seed file would be refused")
                .code(e.code)
                .field("failure", e.message.clone());
            for (k, v) in &e.fields {
                s = s.field(k, v.clone());
            }
            if let Some(sg) = &e.suggestion {
                s = s.field("suggestion", sg.clone());
            }
            s
        })
    };
    let summary = match failure {
        None => Summary::ok("Dry run: nothing applied"),
        Some(s) if args.non_fatal => {
            let code = s.code.code();
            let mut s = s.code(Exit::Ok).level(Level::Warn);
            s.message.push_str(" (non-fatal)");
            s.field("failureExitCode", code)
        }
        Some(s) => s.level(Level::Error),
    };
    Ok(summary
        .field("pending", apply)
        .field("applied", skip)
        .field("changed", changed)
        .field("refused", refused))
}

/// The dry run's REASON for a refused file: what is wrong, and where.
fn refusal_reason(e: &Error) -> String {
    let what = e.message.strip_prefix("Seed file ").unwrap_or(&e.message);
    match (e.fields.get("line"), e.fields.get("column")) {
        (Some(l), Some(c)) => format!("{what} (line {l}, column {c})"),
        _ => what.to_string(),
    }
}
