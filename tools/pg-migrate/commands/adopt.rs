//! `adopt`: another tool's migration history, recorded as applied in
//! pg-migrate's table (issue 14, item 2). The tool's table is read, never
//! written; its versions are matched to today's files (by the folder's
//! layout and version form), and recorded with those files' checksums and,
//! where the tool kept one, the original time, in one transaction under the
//! migration lock. A dirty or failed state, or a version without a file, is
//! refused with 3 before anything is written.

use crate::cli::AdoptArgs;
use crate::files::{self, cmp_version, Migration};
use crate::foreign;
use crate::layout;
use crate::session::{self, Session};
use crate::tracking::Table;
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;

/// Runs `adopt`.
pub fn run(a: &AdoptArgs) -> Result<Summary> {
    let dir = &a.common.dir;
    let files = files::discover(dir, a.common.layout)?;
    let mut table = Table::parse(&a.common.table)?;
    table.adopting = true;
    let (settings, mut client) = session::connect(&a.common)?;
    let Some(h) = foreign::find(&mut client, a.from)? else {
        return Err(Error::new(Exit::Migration, "No other tool's migration history found")
            .field("from", a.from.as_str())
            .suggest("adopt reads dbmate's or golang-migrate's schema_migrations, goose_db_version, _sqlx_migrations, __diesel_schema_migrations, flyway_schema_history or refinery_schema_history on the search path; for anything else use 'pg-migrate baseline VERSION'"));
    };
    let tool = h.tool.as_str();
    if h.table == table.display() {
        return Err(Error::new(Exit::Migration, "The tracking table's name is the other tool's")
            .field("from", tool)
            .field("table", table.display())
            .suggest(format!("{} is {tool}'s table: adopt into one of pg-migrate's own, e.g. --table pgkit_migrations (and pass it to every later run)", h.table)));
    }
    if let Some(why) = &h.broken {
        return Err(Error::new(Exit::Migration, format!("Cannot adopt {tool}'s history: it is not clean"))
            .cause(why)
            .field("from", tool)
            .field("foreignTable", h.table.clone())
            .suggest(match h.tool {
                foreign::Tool::GolangMigrate => "Finish or repair it with golang-migrate first (fix the schema, then 'migrate force VERSION'), then run adopt again".to_string(),
                foreign::Tool::Flyway => "Repair it with Flyway first (undo what the failed script did, then 'flyway repair' removes its row), then run adopt again".to_string(),
                _ => format!("Finish or repair it with {tool} first, then run adopt again"),
            }));
    }
    let mapping = map(&h, &files, dir)?;
    if a.dry_run {
        let mut text = String::new();
        for (m, at) in &mapping {
            text.push_str(&format!(
                "{}\t{}\t{}\n",
                m.version_text,
                m.up,
                at.as_deref().unwrap_or("-")
            ));
        }
        out::print(&text)?;
        return Ok(Summary::ok("Dry run: nothing recorded")
            .field("from", tool)
            .field("adopted", mapping.len()));
    }
    let mut s = Session::with(&a.common, table, settings, client, true)?;
    let r = super::record_applied(&mut s, dir, &mapping, "Cannot record the adopted history");
    s.close();
    let names = r?;
    for n in &names {
        log::info("Migration adopted", json!({"filename": n}));
    }
    let n = names.len();
    Ok(Summary::ok("History adopted")
        .field("from", tool)
        .field("foreignTable", h.table)
        .field("adopted", n)
        .field("alreadyRecorded", mapping.len() - n))
}

/// Each version the tool applied, with its file and time. A version
/// without a file is 3. A Flyway repeatable script counts as applied while
/// today's file is the one Flyway ran (its checksum); a changed one stays
/// pending, as Flyway would run it again too, and one whose file is gone is
/// nothing to record.
fn map<'a>(
    h: &foreign::History,
    files: &'a [Migration],
    dir: &std::path::Path,
) -> Result<Vec<(&'a Migration, Option<String>)>> {
    let find = |v: &str| -> Result<&'a Migration> {
        let key = files::normalize_version(v);
        files
            .iter()
            .find(|m| Some(&m.version) == key.as_ref())
            .ok_or_else(|| {
                Error::new(Exit::Migration, "A version the other tool applied has no file")
                    .field("version", v.to_string())
                    .field("from", h.tool.as_str())
                    .suggest("Restore the file (or point --dir / --layout at the right folder), then run adopt again")
            })
    };
    let mut out: Vec<(&Migration, Option<String>)> = Vec::new();
    for (v, at) in &h.applied {
        let m = find(v)?;
        // Recorded with today's checksum all the same (the history is the
        // database's), but said: Flyway's own validate would stop here.
        if let Some(sum) = h.checksums.get(v) {
            let (text, _) = files::read(dir, &m.up)?;
            if layout::flyway_checksum(&text) != *sum {
                log::warn(
                    "File changed since Flyway applied it",
                    json!({"filename": m.up, "version": v}),
                );
            }
        }
        out.push((m, at.clone()));
    }
    if let Some(v) = &h.up_to {
        let last = find(v)?;
        for m in files
            .iter()
            .filter(|m| !cmp_version(&m.version, &last.version).is_gt())
        {
            if !out.iter().any(|(o, _)| o.version == m.version) {
                out.push((m, None));
            }
        }
    }
    for (script, checksum, at) in &h.repeatables {
        // Flyway's script is the path under its location (`sub/R__x.sql`),
        // as pg-migrate names a file under --dir; else the same name.
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let repeatable = files.iter().filter(|m| layout::is_repeatable(&m.version));
        let Some(m) = repeatable
            .clone()
            .find(|m| m.up == *script)
            .or_else(|| repeatable.clone().find(|m| base(&m.up) == base(script)))
        else {
            continue;
        };
        let (text, _) = files::read(dir, &m.up)?;
        if *checksum == Some(layout::flyway_checksum(&text)) {
            out.push((m, at.clone()));
        } else {
            log::info(
                "Repeatable script changed since Flyway ran it: left pending",
                json!({"filename": m.up}),
            );
        }
    }
    out.sort_by(|a, b| cmp_version(&a.0.version, &b.0.version));
    out.dedup_by(|a, b| a.0.version == b.0.version);
    Ok(out)
}
