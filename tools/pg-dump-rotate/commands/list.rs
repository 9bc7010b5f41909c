//! `list`: dumps per source, newest first, with size, age and the cheap
//! checksum state; partial leftovers shown as such. Never hashes (that is
//! `verify`), so it stays fast over thousands of dumps.

use crate::cli::ListArgs;
use crate::layout::{self, human_age, human_size};
use chrono::{SecondsFormat, Utc};
use pgkit::cli::Summary;
use pgkit::{out, Result};
use serde_json::{json, Value};
use std::path::Path;

/// Runs `list`.
pub fn run(dir: &Path, a: &ListArgs) -> Result<Summary> {
    if let Some(url) = crate::cli::remote_url(&a.remote)? {
        return crate::remote::list(&url, a.source.as_deref(), a.json);
    }
    let sources = match &a.source {
        Some(s) => {
            layout::check_source(s)?;
            if !dir.join(s).is_dir() {
                return Err(
                    pgkit::Error::new(pgkit::Exit::NoInput, "No dumps for this source")
                        .field("source", s.clone())
                        .field("dir", dir.display().to_string())
                        .suggest("Check --source and --dir (DUMP_DIR)"),
                );
            }
            vec![s.clone()]
        }
        None => layout::sources(dir)?,
    };
    let now = Utc::now();
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut json_rows: Vec<Value> = Vec::new();
    let (mut dumps, mut partials) = (0usize, 0usize);
    for s in &sources {
        let scan = layout::scan_source(dir, s)?;
        for l in &scan.leftovers {
            partials += 1;
            let kind = if l.partial { "partial" } else { "orphan" };
            let age = (now - l.modified).num_seconds();
            if a.json {
                json_rows.push(
                    json!({"source": s, "file": l.name, "path": l.path.display().to_string(),
                    "kind": kind, "sizeBytes": l.size,
                    "modified": l.modified.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "ageSeconds": age, "checksum": Value::Null}),
                );
            } else {
                rows.push([
                    s.clone(),
                    l.name.clone(),
                    human_size(l.size),
                    human_age(age),
                    kind.to_string(),
                ]);
            }
        }
        for d in &scan.dumps {
            dumps += 1;
            let age = (now - d.time).num_seconds();
            if a.json {
                json_rows.push(
                    json!({"source": s, "file": d.name, "path": d.path.display().to_string(),
                    "kind": "dump", "format": d.format.as_str(), "sizeBytes": d.size,
                    "created": d.time.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "ageSeconds": age, "checksum": d.checksum.as_str()}),
                );
            } else {
                rows.push([
                    s.clone(),
                    d.name.clone(),
                    human_size(d.size),
                    human_age(age),
                    d.checksum.as_str().to_string(),
                ]);
            }
        }
    }
    if a.json {
        let mut text = Value::Array(json_rows).to_string();
        text.push('\n');
        out::print(&text)?;
    } else if !rows.is_empty() {
        let text = layout::table(["SOURCE", "DUMP", "SIZE", "AGE", "CHECKSUM"], &rows);
        out::print(&text)?;
    }
    Ok(Summary::ok("Dumps listed")
        .field("sources", sources.len())
        .field("dumps", dumps)
        .field("leftovers", partials))
}
