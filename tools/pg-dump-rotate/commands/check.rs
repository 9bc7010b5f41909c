//! `check`: is each source's newest good dump young and big enough? For
//! Nagios, cron and Kubernetes: exit 0 when all are, else 1 with one JSON
//! line per failing source on stdout (and an error line each on stderr).
//! `--metrics-file` also writes a Prometheus textfile-collector file (see
//! `metrics`), pass or fail.
//!
//! The judgement (`freshness`) works on a list of (source, dumps) entries:
//! the local directory's, or with `--remote` the S3 store's.

use crate::cli::CheckArgs;
use crate::freshness::{evaluate, local_entries};
use crate::{layout, metrics};
use chrono::{SecondsFormat, Utc};
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;
use std::path::Path;

/// Parses `--min-size`: bytes, or a number with K, M, G or T (powers of
/// 1024; `KiB`, `MB` and the like read the same).
pub fn parse_size(s: &str) -> Result<u64> {
    let bad = || {
        Error::usage("Invalid --min-size")
            .cause(format!("{s:?} is not a size"))
            .suggest("Give bytes, or a number with K, M, G or T (e.g. 1048576, 10M)")
    };
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits].parse().map_err(|_| bad())?;
    let unit = t[digits..].trim().to_ascii_uppercase();
    let shift = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// Runs `check`.
pub fn run(dir: &Path, a: &CheckArgs) -> Result<Summary> {
    let max_age = crate::cli::duration("--max-age", &a.max_age)?;
    let min_size = a.min_size.as_deref().map(parse_size).transpose()?;
    for s in &a.source {
        layout::check_source(s)?;
    }
    let (entries, location) = match crate::cli::remote_url(&a.remote)? {
        Some(url) => (
            crate::remote::freshness_entries(&url, &a.source)?,
            crate::remote::display_url(&url)?,
        ),
        None => (
            local_entries(dir, &a.source)?,
            // One name per directory, however it was written (a trailing
            // slash, a symlink): a new name would start a new series.
            std::fs::canonicalize(dir)
                .or_else(|_| std::path::absolute(dir))
                .unwrap_or_else(|_| dir.to_path_buf())
                .display()
                .to_string(),
        ),
    };
    let now = Utc::now();
    let findings = evaluate(&entries, now, max_age, min_size);
    // The metrics first, pass or fail; a file that cannot be written does
    // not hide the verdict: the lines below still go out, and the run
    // fails with the metrics' error only when the dumps are fresh (else it
    // is logged beside the verdict's).
    let metrics_error = a.metrics_file.as_ref().and_then(|path| {
        let failed: Vec<&str> = findings.iter().map(|f| f.source.as_str()).collect();
        match metrics::write_atomic(path, &metrics::render(&entries, now, &failed, &location)) {
            Ok(()) => {
                log::info(
                    "Metrics written",
                    json!({"file": path.display().to_string(), "sources": entries.len()}),
                );
                None
            }
            Err(e) => Some(e),
        }
    });
    let metrics_error = match metrics_error {
        Some(e) if entries.is_empty() || !findings.is_empty() => {
            e.log();
            None
        }
        other => other,
    };
    if entries.is_empty() {
        return Err(Error::new(Exit::Failure, "No sources to check")
            .field("dir", dir.display().to_string())
            .suggest("Name the sources expected with --source, so a missing one fails the check"));
    }
    let mut text = String::new();
    for f in &findings {
        let line = json!({"source": f.source, "reason": f.reason, "newest": f.newest,
                          "ageSeconds": f.age_seconds, "size": f.size});
        text.push_str(&line.to_string());
        text.push('\n');
        let message = match f.reason {
            "missing" => "Source has no dump",
            "no-good-dump" => "Source has no good dump (every checksum fails or is missing)",
            "too-old" => "Newest good dump is too old",
            _ => "Newest good dump is too small",
        };
        log::error(
            message,
            json!({"source": f.source, "reason": f.reason, "newest": f.newest,
                   "ageSeconds": f.age_seconds, "maxAgeSeconds": max_age.as_secs(),
                   "sizeBytes": f.size, "minSizeBytes": min_size}),
        );
    }
    out::print(&text)?;
    if let Some(e) = metrics_error {
        return Err(e);
    }
    if !findings.is_empty() {
        return Err(Error::new(
            Exit::Failure,
            format!(
                "Dumps are not fresh: {}",
                findings
                    .iter()
                    .map(|f| f.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .field("failed", findings.len())
        .field("sources", entries.len())
        .suggest("Look at the dump job of each source named (its log, its schedule)"));
    }
    let newest = entries
        .iter()
        .filter_map(|e| e.newest_good(now))
        .map(|d| d.time)
        .min()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    Ok(Summary::ok("Dumps are fresh")
        .field("sources", entries.len())
        .field("oldestNewest", newest))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(parse_size("2KiB").unwrap(), 2048);
        assert_eq!(parse_size("1gb").unwrap(), 1 << 30);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5X").is_err());
    }
}
