//! `verify`: every applied migration's checksum against its file; applied
//! migrations whose files are gone; failed rows.

use crate::cli::CommonArgs;
use crate::files;
use crate::plan::{self, State};
use crate::session;
use crate::tracking::Table;
use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;

/// Runs `verify`.
pub fn run(a: &CommonArgs) -> Result<Summary> {
    let files = files::discover(&a.dir, a.layout)?;
    let table = Table::parse(&a.table)?;
    let (_settings, mut client) = session::connect(a)?;
    let history = table.history(&mut client, false)?;
    pgkit::interrupt::check()?;
    let sums = plan::checksums(&a.dir, &files)?;
    let entries = plan::build(&a.dir, &files, &sums, &history);
    let (mut mismatched, mut missing, mut failed, mut ok) = (0, 0, 0, 0);
    for e in &entries {
        match e.state {
            State::Applied => ok += 1,
            State::Pending => {}
            State::Drifted => {
                mismatched += 1;
                log::error(
                    "Migration checksum mismatch",
                    json!({"filename": e.filename(), "storedChecksum": e.row.as_ref().map(|r| r.checksum.clone()), "currentChecksum": e.checksum,
                        "suggestion": "Restore the applied file and put the change in a new migration; for a cosmetic change only, run 'pg-migrate repair --filename FILE'"}),
                );
            }
            State::Missing => {
                missing += 1;
                log::error(
                    "Applied migration file missing",
                    json!({"filename": e.filename(), "version": e.version, "suggestion": "Restore the file from version control"}),
                );
            }
            State::Failed => {
                failed += 1;
                log::error(
                    "Migration previously failed",
                    json!({"filename": e.filename(), "error": e.row.as_ref().and_then(|r| r.error.clone())}),
                );
            }
        }
    }
    if mismatched + missing + failed > 0 {
        return Err(Error::new(Exit::Migration, "Migration verification failed")
            .field("verified", ok)
            .field("mismatched", mismatched)
            .field("drifted", mismatched)
            .field("missing", missing)
            .field("failed", failed)
            .suggest(
                "Restore changed or missing files from version control; see the lines above",
            ));
    }
    Ok(Summary::ok("Migrations verified")
        .field("verified", ok)
        .field("drifted", 0))
}
