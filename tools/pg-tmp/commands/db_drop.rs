//! `pg-tmp db drop URL`: drop a database that `db create` made.

use crate::cli::DbDropArgs;
use crate::template::{admin, drop_database, TEST_PREFIX};
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{log, Error, Result};
use serde_json::json;

pub fn run(args: DbDropArgs) -> Result<Summary> {
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
