//! `baseline VERSION`: records every migration up to VERSION as applied
//! without running it (adopting a database whose schema already exists).

use crate::cli::BaselineArgs;
use crate::files::{self, cmp_version};
use crate::session::Session;
use crate::sql;
use crate::tracking::APPLIED;
use pgkit::cli::Summary;
use pgkit::{log, Result};
use serde_json::json;

/// Runs `baseline`.
pub fn run(a: &BaselineArgs) -> Result<Summary> {
    let files = files::discover(&a.common.dir, a.common.layout)?;
    let version = super::version_arg("VERSION", &a.version)?;
    let mut s = Session::open(&a.common, true)?;
    let history = s.table.read(&mut s.client)?;
    let mut batch = String::from("BEGIN;");
    let mut names = Vec::new();
    for f in files
        .iter()
        .filter(|f| !cmp_version(&f.version, &version).is_gt())
    {
        if history.iter().any(|h| h.version == f.version) {
            continue;
        }
        let (_, checksum) = files::read(&a.common.dir, &f.up)?;
        batch.push_str(&s.table.insert_sql(&f.version, &f.up, &checksum, APPLIED));
        batch.push(';');
        names.push(f.up.clone());
    }
    batch.push_str("COMMIT");
    if !names.is_empty() {
        if let Err(e) = sql::exec(&mut s.client, &batch) {
            let _ = sql::exec(&mut s.client, "ROLLBACK");
            return Err(sql::fail("Cannot record the baseline", &e));
        }
    }
    for n in &names {
        log::info("Migration baselined", json!({"filename": n}));
    }
    s.close();
    Ok(Summary::ok("Baseline recorded")
        .field("baselined", names.len())
        .field("version", version))
}
