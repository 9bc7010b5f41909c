//! `verify`: every named dump (or every dump with --all) checked by
//! [`crate::integrity::verify_one`], or with `--restore` restored into a
//! throwaway server and compared by [`crate::drill::run`]; one OK/FAILED
//! line per dump on stdout.

use crate::cli::VerifyArgs;
use crate::integrity::verify_one;
use crate::layout;
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Runs `verify`.
pub fn run(dir: &Path, a: &VerifyArgs) -> Result<Summary> {
    let remote = crate::cli::remote_url(&a.remote)?;
    if remote.is_some() || a.files.iter().any(|f| f.starts_with("s3:")) {
        if a.restore {
            return Err(
                Error::usage("verify --restore drills local dumps only").suggest(
                    "Drill the local copy, or verify the remote one by hash (verify --remote)",
                ),
            );
        }
        let names: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
        return crate::remote::verify(remote.as_deref(), &names, a.all, a.source.as_deref());
    }
    let files: Vec<PathBuf> = if a.all {
        let sources = match &a.source {
            Some(s) => {
                layout::check_source(s)?;
                vec![s.clone()]
            }
            None => layout::sources(dir)?,
        };
        let mut v = Vec::new();
        for s in sources {
            v.extend(
                layout::scan_source(dir, &s)?
                    .dumps
                    .into_iter()
                    .map(|d| d.path),
            );
        }
        v
    } else if let (true, Some(s)) = (a.restore, &a.source) {
        // A drill of a source: its newest good dump.
        vec![crate::freshness::newest_good(dir, s)?]
    } else if a.files.is_empty() {
        return Err(Error::usage("Nothing to verify").suggest("Name dump files, or pass --all"));
    } else {
        a.files.clone()
    };
    if a.all && files.is_empty() {
        // Not an error (an empty directory verifies), but a nightly
        // verify that checked nothing must not read as a pass: said.
        log::warn(
            "No dumps to verify",
            json!({"dir": dir.display().to_string(), "source": a.source,
                   "suggestion": "Alert on missing dumps with 'pg-dump-rotate check --source S --max-age 26h'"}),
        );
    }
    let mut failed: Vec<String> = Vec::new();
    let mut missing = false;
    let mut gone = 0usize;
    for f in &files {
        let checked = if a.restore {
            match crate::drill::run(f, a.jobs) {
                // One drill that failed: its own error (naming the table) is
                // the summary.
                Err(e) if files.len() == 1 && (e.code == Exit::Dump || e.code == Exit::NoInput) => {
                    out::println(&format!("{}: FAILED", f.display()))?;
                    return Err(e);
                }
                r => r.map(|_| ()),
            }
        } else {
            pgkit::progress::Progress::reading("Verifying", None, f).during(|| verify_one(f))
        };
        match checked {
            Ok(()) => {
                log::info("Dump verified", json!({"file": f.display().to_string()}));
                out::println(&format!("{}: OK", f.display()))?;
            }
            // With --all, a dump listed at the start and removed since (a
            // purge running meanwhile: verify takes no lock) is no failure.
            Err(e)
                if a.all
                    && e.code != Exit::Interrupted
                    && e.code != Exit::Terminated
                    && removed(f) =>
            {
                gone += 1;
                log::warn(
                    "Dump removed while verifying; skipped",
                    json!({"file": f.display().to_string()}),
                );
            }
            Err(e) if e.code == Exit::Dump || e.code == Exit::NoInput => {
                missing |= e.code == Exit::NoInput;
                let mut fields = serde_json::Map::new();
                if let Some(c) = &e.error {
                    fields.insert("error".into(), json!(c));
                }
                // A drill's difference: the table, what was expected and found.
                for (k, v) in &e.fields {
                    fields.entry(k.clone()).or_insert_with(|| v.clone());
                }
                fields.insert("file".into(), json!(f.display().to_string()));
                log::error(
                    &format!("Dump failed verification: {}", e.message),
                    fields.into(),
                );
                out::println(&format!("{}: FAILED", f.display()))?;
                failed.push(f.display().to_string());
            }
            Err(e) => return Err(e),
        }
    }
    if !failed.is_empty() {
        let code = if missing && failed.len() == 1 {
            Exit::NoInput
        } else {
            Exit::Dump
        };
        return Err(
            Error::new(code, format!("Verification failed: {}", failed.join(", ")))
                .field("failed", failed.len())
                .field("files", json!(failed))
                .suggest("Do not rely on these dumps; dump again and verify"),
        );
    }
    let mut summary = Summary::ok(if a.restore {
        "All restore drills passed"
    } else {
        "All dumps verified"
    })
    .field("verified", files.len() - gone);
    if gone > 0 {
        summary = summary.field("skipped", gone);
    }
    Ok(summary)
}

/// Whether a dump is gone (a purge removes the dump first, then its
/// sidecar and manifest).
fn removed(dump: &Path) -> bool {
    matches!(std::fs::symlink_metadata(dump), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}
