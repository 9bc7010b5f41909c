//! `status`: applied and pending migrations, as a table or `--json`;
//! `--exit-code` answers "is this database at head?" (3 when not).

use crate::cli::StatusArgs;
use crate::files;
use crate::plan::{self, Entry, State};
use crate::session;
use crate::tracking::Table;
use pgkit::cli::Summary;
use pgkit::{out, Exit, Result};
use serde_json::json;

/// Runs `status`.
pub fn run(a: &StatusArgs) -> Result<Summary> {
    let dir = &a.common.dir;
    let files = files::discover(dir, a.common.layout)?;
    let table = Table::parse(&a.common.table)?;
    let (_settings, mut client) = session::connect(&a.common)?;
    let history = table.history(&mut client, true)?;
    pgkit::interrupt::check()?;
    let sums = plan::checksums(dir, &files)?;
    let entries = plan::build(dir, &files, &sums, &history);
    // Pending files `up` would refuse (a psql meta-command, a transaction
    // statement, not UTF-8): flagged now, not found at deploy time.
    let mut refused: std::collections::HashMap<String, String> = Default::default();
    for e in entries.iter().filter(|e| e.state == State::Pending) {
        let Some(f) = &e.file else { continue };
        if let Err(err) = super::up::read_pending(dir, f) {
            let mut fields = serde_json::Map::new();
            fields.insert("filename".into(), json!(f.up));
            for (k, v) in &err.fields {
                fields.insert(k.clone(), v.clone());
            }
            if let Some(c) = &err.error {
                fields.insert("error".into(), json!(c));
            }
            fields.insert("exitCode".into(), json!(err.code.code()));
            pgkit::log::warn(
                &format!("Pending migration would be refused: {}", err.message),
                fields.into(),
            );
            refused.insert(f.up.clone(), err.message.clone());
        }
    }
    let count = |s: State| entries.iter().filter(|e| e.state == s).count();
    let (applied, pending, drifted, failed, missing) = (
        count(State::Applied),
        count(State::Pending),
        count(State::Drifted),
        count(State::Failed),
        count(State::Missing),
    );
    if a.json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut j = entry_json(e);
                j["refused"] = json!(refused.get(e.filename()));
                j
            })
            .collect();
        let doc = json!({
            "table": table.display(),
            "applied": applied, "pending": pending, "drifted": drifted,
            "failed": failed, "missing": missing, "refused": refused.len(),
            "migrations": list,
        });
        out::println(&doc.to_string())?;
    } else {
        let w = entries
            .iter()
            .map(|e| e.filename().chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut text = format!(
            "{:<20} {:<w$} {:<8} APPLIED AT\n",
            "VERSION", "FILENAME", "STATUS"
        );
        for e in &entries {
            let v = e
                .file
                .as_ref()
                .map(|f| f.version_text.clone())
                .unwrap_or(e.version.to_string());
            let at = e
                .row
                .as_ref()
                .and_then(|r| r.applied_at.clone())
                .unwrap_or_default();
            text.push_str(&format!(
                "{v:<20} {:<w$} {:<8} {at}\n",
                e.filename(),
                e.state.as_str()
            ));
        }
        out::print(&text)?;
    }
    let behind = pending + drifted + failed + missing > 0;
    // The schema's version: the newest versioned migration applied.
    let version = entries
        .iter()
        .filter(|e| e.row.is_some() && !crate::layout::is_repeatable(e.version))
        .map(|e| e.version)
        .max_by(|x, y| files::cmp_version(x, y));
    let s = Summary::ok("Migration status")
        .field("applied", applied)
        .field("version", version)
        .field("pending", pending)
        .field("drifted", drifted)
        .field("failed", failed)
        .field("missing", missing)
        .field("refused", refused.len());
    Ok(if a.exit_code && behind {
        s.code(Exit::Migration).level(pgkit::log::Level::Warn)
    } else {
        s
    })
}

fn entry_json(e: &Entry) -> serde_json::Value {
    let r = e.row.as_ref();
    json!({
        "version": e.version,
        "filename": e.filename(),
        "description": e.file.as_ref().map(|f| f.description.clone()),
        "status": e.state.as_str(),
        "checksum": e.checksum,
        "storedChecksum": r.map(|r| r.checksum.clone()),
        "appliedAt": r.and_then(|r| r.applied_at.clone()),
        "durationMs": r.and_then(|r| r.duration_ms),
        "error": r.and_then(|r| r.error.clone()),
        "down": e.file.as_ref().and_then(|f| f.down.clone()),
    })
}
