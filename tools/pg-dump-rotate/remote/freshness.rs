//! `check --remote`: the remote's dumps as the freshness check reads them.

use super::store::Remote;
use crate::layout;
use chrono::Utc;
use pgkit::Result;
use serde_json::Value;

/// The remote's entries for `check --remote`: the named sources (one
/// without dumps has none), or every source found; a dump is good once its
/// upload was committed. The newest good dump's duration is read from its
/// manifest (one small download per source).
pub fn freshness_entries(
    url: &str,
    sources: &[String],
) -> Result<Vec<crate::freshness::SourceDumps>> {
    use crate::freshness::{DumpInfo, SourceDumps};
    let remote = Remote::open(url)?;
    let mut all = remote.scan(None)?;
    let names: Vec<String> = if sources.is_empty() {
        all.keys().cloned().collect()
    } else {
        sources.to_vec()
    };
    let now = Utc::now();
    let mut v = Vec::new();
    for s in names {
        layout::check_source(&s)?;
        let dumps = all
            .remove(&s)
            .unwrap_or_default()
            .into_iter()
            .map(|d| DumpInfo {
                good: d.complete,
                name: d.name,
                time: d.time,
                size: d.size,
                duration_ms: None,
                globals: false,
            })
            .collect();
        let mut e = SourceDumps { source: s, dumps };
        if let Some(name) = e.newest_good(now).map(|d| d.name.clone()) {
            let key = remote.url.key(&format!("{}/{name}.json", e.source));
            let m = remote
                .small(&key)?
                .and_then(|m| serde_json::from_slice::<Value>(&m).ok());
            if let Some(d) = e.dumps.iter_mut().find(|d| d.name == name) {
                d.duration_ms = m.as_ref().and_then(|m| m["durationMs"].as_u64());
                d.globals = m.is_some_and(|m| m["kind"] == "globals");
            }
        }
        v.push(e);
    }
    Ok(v)
}
