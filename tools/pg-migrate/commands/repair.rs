//! `repair`: after a human decision, accept a changed applied file's current
//! checksum (`--filename`), or clear failed rows. Logged at warn.

use crate::cli::RepairArgs;
use crate::files;
use crate::session::Session;
use crate::sql::{self, literal};
use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;

/// Runs `repair`.
pub fn run(a: &RepairArgs) -> Result<Summary> {
    let mut s = Session::open(&a.common, true)?;
    let history = s.table.read(&mut s.client)?;
    let t = s.table.sql();
    let r = match &a.filename {
        None => {
            let failed: Vec<_> = history.iter().filter(|h| h.failed()).collect();
            for h in &failed {
                sql::exec(&mut s.client, &s.table.delete_sql(&h.version))
                    .map_err(|e| sql::fail("Cannot repair", &e))?;
                log::warn(
                    "Failed migration cleared",
                    json!({"filename": h.filename, "error": h.error}),
                );
            }
            Ok(Summary::ok(if failed.is_empty() {
                "Nothing to repair"
            } else {
                "Repair done"
            })
            .field("cleared", failed.len()))
        }
        Some(name) => {
            let version = files::parse_name(name).map(|n| n.version);
            let row = history
                .iter()
                .find(|h| &h.filename == name || Some(&h.version) == version.as_ref())
                .ok_or_else(|| {
                    Error::new(Exit::Failure, "No such applied migration")
                        .field("filename", name.clone())
                        .suggest("Give the file name as 'pg-migrate status' shows it")
                })?;
            if row.failed() {
                sql::exec(&mut s.client, &s.table.delete_sql(&row.version))
                    .map_err(|e| sql::fail("Cannot repair", &e))?;
                log::warn(
                    "Failed migration cleared",
                    json!({"filename": row.filename, "error": row.error}),
                );
                Ok(Summary::ok("Repair done").field("cleared", 1))
            } else {
                let (_, current) = files::read(&a.common.dir, &row.filename)?;
                if current == row.checksum {
                    Ok(Summary::ok("Nothing to repair").field("filename", row.filename.clone()))
                } else {
                    let q = format!(
                        "UPDATE {t} SET checksum = {} WHERE version = {}",
                        literal(&current),
                        literal(&row.version)
                    );
                    sql::exec(&mut s.client, &q).map_err(|e| sql::fail("Cannot repair", &e))?;
                    log::warn(
                        "Migration checksum accepted",
                        json!({"filename": row.filename, "storedChecksum": row.checksum, "currentChecksum": current}),
                    );
                    Ok(Summary::ok("Repair done").field("accepted", 1))
                }
            }
        }
    };
    s.close();
    r
}
