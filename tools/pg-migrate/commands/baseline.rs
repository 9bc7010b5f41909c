//! `baseline VERSION`: records every migration up to VERSION as applied
//! without running it (adopting a database whose schema already exists).

use crate::cli::BaselineArgs;
use crate::files::{self, cmp_version};
use crate::session::Session;
use pgkit::cli::Summary;
use pgkit::{log, Result};
use serde_json::json;

/// Runs `baseline`.
pub fn run(a: &BaselineArgs) -> Result<Summary> {
    let files = files::discover(&a.common.dir, a.common.layout)?;
    let version = super::version_arg("VERSION", &a.version)?;
    let mut s = Session::open(&a.common, true)?;
    let items: Vec<_> = files
        .iter()
        .filter(|f| !cmp_version(&f.version, &version).is_gt())
        .map(|f| (f, None))
        .collect();
    let names =
        match super::record_applied(&mut s, &a.common.dir, &items, "Cannot record the baseline") {
            Ok(n) => n,
            Err(e) => {
                s.close();
                return Err(e);
            }
        };
    for n in &names {
        log::info("Migration baselined", json!({"filename": n}));
    }
    s.close();
    Ok(Summary::ok("Baseline recorded")
        .field("baselined", names.len())
        .field("version", version))
}
