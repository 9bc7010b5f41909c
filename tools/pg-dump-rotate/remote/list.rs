//! `list --remote`.

use super::store::Remote;
use crate::layout;
use chrono::{SecondsFormat, Utc};
use pgkit::{out, Result};
use serde_json::{json, Value};

/// `list --remote`.
pub fn list(url: &str, source: Option<&str>, as_json: bool) -> Result<pgkit::cli::Summary> {
    let remote = Remote::open(url)?;
    if let Some(s) = source {
        layout::check_source(s)?;
    }
    let all = remote.scan(source)?;
    let now = Utc::now();
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut json_rows = Vec::new();
    let (mut dumps, mut partial) = (0usize, 0usize);
    for (s, v) in &all {
        for d in v {
            let state = if d.complete { "uploaded" } else { "partial" };
            if d.complete {
                dumps += 1;
            } else {
                partial += 1;
            }
            let age = (now - d.time).num_seconds();
            if as_json {
                json_rows.push(json!({"source": s, "file": d.name,
                    "url": remote.url.dump_url(s, &d.name),
                    "kind": if d.complete { "dump" } else { "partial" },
                    "format": d.format.as_str(), "sizeBytes": d.size,
                    "created": d.time.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "uploaded": d.uploaded.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "ageSeconds": age, "state": state}));
            } else {
                rows.push([
                    s.clone(),
                    d.name.clone(),
                    layout::human_size(d.size),
                    layout::human_age(age),
                    state.to_string(),
                ]);
            }
        }
    }
    if as_json {
        out::println(&Value::Array(json_rows).to_string())?;
    } else if !rows.is_empty() {
        let text = layout::table(["SOURCE", "DUMP", "SIZE", "AGE", "STATE"], &rows);
        out::print(&text)?;
    }
    Ok(pgkit::cli::Summary::ok("Remote dumps listed")
        .field("remote", remote.shown())
        .field("sources", all.len())
        .field("dumps", dumps)
        .field("partial", partial))
}
