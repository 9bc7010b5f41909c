//! The subcommands.

mod adopt;
mod baseline;
mod down;
mod new;
mod repair;
mod status;
mod up;
mod verify;

use crate::cli::{Cli, Command};
use pgkit::cli::Summary;
use pgkit::{Error, Result};

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Summary> {
    use crate::fleet::{self, Kind};
    match cli.command {
        None => up(&cli.up),
        Some(Command::Up(a)) => up(&a),
        Some(Command::Down(a)) if a.fleet.active() => {
            fleet::run(&a.fleet, &a, |a| &mut a.common, down::run, Kind::Change)
        }
        Some(Command::Down(a)) => down::run(&a),
        Some(Command::Status(a)) if a.fleet.active() => {
            fleet::run(&a.fleet, &a, |a| &mut a.common, status::run, Kind::Status)
        }
        Some(Command::Status(a)) => status::run(&a),
        Some(Command::Verify(a)) if a.fleet.active() => fleet::run(
            &a.fleet,
            &a,
            |a| &mut a.common,
            |a| verify::run(&a.common),
            Kind::Change,
        ),
        Some(Command::Verify(a)) => verify::run(&a.common),
        Some(Command::New(a)) => new::run(&a),
        Some(Command::Baseline(a)) => baseline::run(&a),
        Some(Command::Repair(a)) => repair::run(&a),
        Some(Command::Adopt(a)) => adopt::run(&a),
    }
}

/// `up`, on one database or a fleet (where `--dump-schema`, one file,
/// has no meaning).
fn up(a: &crate::cli::UpArgs) -> Result<Summary> {
    if !a.fleet.active() {
        return up::run(a);
    }
    if a.dump_schema.is_some() {
        return Err(Error::usage("--dump-schema with a target set")
            .suggest("Dump one database's schema in a run of its own"));
    }
    crate::fleet::run(
        &a.fleet,
        a,
        |a| &mut a.common,
        up::run,
        crate::fleet::Kind::Change,
    )
}

/// Records migrations as applied without running them (`baseline`,
/// `adopt`): each with today's checksum and, when known, the time it was
/// applied; versions the table has already are skipped. One transaction.
/// Returns the files recorded.
pub fn record_applied(
    s: &mut crate::session::Session,
    dir: &std::path::Path,
    items: &[(&crate::files::Migration, Option<String>)],
    failure: &str,
) -> Result<Vec<String>> {
    use crate::sql::{self, literal};
    let history = s.table.read(&mut s.client)?;
    let mut batch = String::from("BEGIN;");
    let mut names = Vec::new();
    for (m, at) in items {
        if history.iter().any(|h| h.version == m.version) {
            continue;
        }
        let (_, checksum) = crate::files::read(dir, &m.up)?;
        batch.push_str(
            &s.table
                .insert_sql(&m.version, &m.up, &checksum, crate::tracking::APPLIED),
        );
        batch.push(';');
        if let Some(at) = at {
            batch.push_str(&format!(
                "UPDATE {} SET applied_at = {}::timestamptz, duration_ms = NULL WHERE version = {};",
                s.table.sql(),
                literal(at),
                literal(&m.version)
            ));
        }
        names.push(m.up.clone());
    }
    batch.push_str("COMMIT");
    if !names.is_empty() {
        if let Err(e) = sql::exec(&mut s.client, &batch) {
            let _ = sql::exec(&mut s.client, "ROLLBACK");
            return Err(sql::fail(failure, &e));
        }
    }
    Ok(names)
}

/// Parses a VERSION argument in the folder's version form (digits; a
/// diesel version may keep its dashes, a Flyway one its dots).
pub fn version_arg(flag: &str, v: &str) -> Result<String> {
    crate::files::normalize_version(v).ok_or_else(|| {
        Error::usage("Invalid version")
            .cause(format!("{flag} {v:?} is not a version of this folder"))
            .suggest("Give the version part of a migration file name, e.g. 003 or 20240101120000")
    })
}
