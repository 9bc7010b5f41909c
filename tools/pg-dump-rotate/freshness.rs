//! Whether dumps are fresh: each source's newest good dump, its age and
//! size, judged against `check`'s rules. The judgement works on a list of
//! (source, dumps) entries, wherever they were listed from: the local
//! directory (`local_entries`) or an S3 remote
//! (`remote::freshness_entries`). `check` and `metrics` both read it.
//!
//! "Good" is what `list` calls a dump whose checksum is `ok`: its sidecar
//! and manifest agree and its size is the manifest's (no hashing, so a
//! check of thousands of dumps stays cheap). A dump's age is from the time
//! in its name (when it started).

use crate::layout::{self, Checksum};
use chrono::{DateTime, Utc};
use pgkit::{Error, Exit, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One dump, as the check sees it.
#[derive(Debug, Clone)]
pub struct DumpInfo {
    /// Its file name.
    pub name: String,
    /// When it started (from its name).
    pub time: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u64,
    /// Whether its checksum state is ok.
    pub good: bool,
    /// How long the dump took (its manifest's `durationMs`), when known.
    pub duration_ms: Option<u64>,
    /// A `_globals` dump (roles, tablespaces: a few kilobytes), by its
    /// manifest; read for the newest good dump only. `--min-size` is for
    /// databases and does not apply to it.
    pub globals: bool,
}

/// One source and its dumps, newest first.
#[derive(Debug, Clone)]
pub struct SourceDumps {
    /// The source name.
    pub source: String,
    /// Its dumps, newest first.
    pub dumps: Vec<DumpInfo>,
}

impl SourceDumps {
    /// The newest good dump not dated in the future (a dump named ahead of
    /// the clock must not hide a job that stopped).
    pub fn newest_good(&self, now: DateTime<Utc>) -> Option<&DumpInfo> {
        let slack = chrono::Duration::minutes(5);
        self.dumps.iter().find(|d| d.good && d.time <= now + slack)
    }

    /// How many good dumps the source has.
    pub fn good_count(&self) -> usize {
        self.dumps.iter().filter(|d| d.good).count()
    }
}

/// A source that fails the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub source: String,
    /// `missing` (no dump at all), `no-good-dump`, `too-old`, `too-small`.
    pub reason: &'static str,
    /// The newest good dump's file name, if any.
    pub newest: Option<String>,
    pub age_seconds: Option<i64>,
    pub size: Option<u64>,
}

/// Judges each source: its newest good dump must be younger than `max_age`
/// and at least `min_size` bytes.
pub fn evaluate(
    entries: &[SourceDumps],
    now: DateTime<Utc>,
    max_age: Duration,
    min_size: Option<u64>,
) -> Vec<Finding> {
    let mut v = Vec::new();
    for e in entries {
        let Some(d) = e.newest_good(now) else {
            v.push(Finding {
                source: e.source.clone(),
                reason: if e.dumps.is_empty() {
                    "missing"
                } else {
                    "no-good-dump"
                },
                newest: None,
                age_seconds: None,
                size: None,
            });
            continue;
        };
        let age = (now - d.time).num_seconds();
        // (A dump up to five minutes ahead of the clock counts as new.)
        let too_old = age > i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        let reason = if too_old {
            Some("too-old")
        } else {
            min_size
                .filter(|m| d.size < *m && !d.globals)
                .map(|_| "too-small")
        };
        if let Some(reason) = reason {
            v.push(Finding {
                source: e.source.clone(),
                reason,
                newest: Some(d.name.clone()),
                age_seconds: Some(age),
                size: Some(d.size),
            });
        }
    }
    v
}

/// The local entries: the named sources (a source without a directory has
/// no dumps), or every source in `dir`.
pub fn local_entries(dir: &Path, sources: &[String]) -> Result<Vec<SourceDumps>> {
    let names = if sources.is_empty() {
        layout::sources(dir).map_err(|e| {
            Error::new(
                Exit::Failure,
                "No dumps to check: the dump directory cannot be read",
            )
            .cause(e.error.unwrap_or_default())
            .field("dir", dir.display().to_string())
            .suggest("Check --dir (DUMP_DIR), or name the sources expected with --source")
        })?
    } else {
        sources.to_vec()
    };
    let mut v = Vec::new();
    for s in names {
        layout::check_source(&s)?;
        let dumps = if dir.join(&s).is_dir() {
            layout::scan_source(dir, &s)?
                .dumps
                .into_iter()
                .map(|d| DumpInfo {
                    good: d.checksum == Checksum::Ok,
                    name: d.name,
                    time: d.time,
                    size: d.size,
                    duration_ms: None,
                    globals: false,
                    // (read below for the newest good one only)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut e = SourceDumps { source: s, dumps };
        let now = Utc::now();
        let newest = e.newest_good(now).map(|d| d.name.clone());
        if let Some(name) = newest {
            let m = layout::read_manifest(&layout::manifest_path(&dir.join(&e.source).join(&name)));
            if let Some(d) = e.dumps.iter_mut().find(|d| d.name == name) {
                d.duration_ms = m.as_ref().and_then(|m| m["durationMs"].as_u64());
                d.globals = m.is_some_and(|m| m["kind"] == "globals");
            }
        }
        v.push(e);
    }
    Ok(v)
}

/// The newest good dump of a local source (for `verify --restore --source`).
pub fn newest_good(dir: &Path, source: &str) -> Result<PathBuf> {
    let entries = local_entries(dir, &[source.to_string()])?;
    entries
        .first()
        .and_then(|e| e.newest_good(Utc::now()))
        .map(|d| dir.join(source).join(&d.name))
        .ok_or_else(|| {
            Error::new(Exit::NoInput, "No good dump for this source")
                .field("source", source)
                .field("dir", dir.display().to_string())
                .suggest("Check --source and --dir (pg-dump-rotate list shows the dumps)")
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dump(name: &str, hours_ago: i64, size: u64, good: bool, now: DateTime<Utc>) -> DumpInfo {
        DumpInfo {
            name: name.into(),
            time: now - chrono::Duration::hours(hours_ago),
            size,
            good,
            duration_ms: None,
            globals: false,
        }
    }

    #[test]
    fn findings() {
        let now = Utc::now();
        let day = Duration::from_secs(26 * 3600);
        let e = |s: &str, dumps: Vec<DumpInfo>| SourceDumps {
            source: s.into(),
            dumps,
        };
        let entries = vec![
            e("fresh", vec![dump("a", 1, 100, true, now)]),
            e("old", vec![dump("b", 30, 100, true, now)]),
            e("small", vec![dump("c", 1, 10, true, now)]),
            e("none", vec![]),
            e("bad", vec![dump("d", 1, 100, false, now)]),
            // The newest is damaged; the good one before it is too old.
            e(
                "damaged",
                vec![dump("e", 1, 100, false, now), dump("f", 27, 100, true, now)],
            ),
            // A whole server's roles are a few kilobytes: --min-size is for
            // databases.
            e(
                "_globals",
                vec![DumpInfo {
                    globals: true,
                    ..dump("g", 1, 10, true, now)
                }],
            ),
        ];
        let f = evaluate(&entries, now, day, Some(50));
        let got: Vec<(&str, &str)> = f.iter().map(|f| (f.source.as_str(), f.reason)).collect();
        assert_eq!(
            got,
            [
                ("old", "too-old"),
                ("small", "too-small"),
                ("none", "missing"),
                ("bad", "no-good-dump"),
                ("damaged", "too-old")
            ]
        );
    }
}
