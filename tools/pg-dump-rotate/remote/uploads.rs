//! Unfinished multipart uploads: what a `dump --remote` killed mid-upload
//! (SIGKILL, a reboot, the OOM killer) leaves behind. Its parts are stored
//! and billed but no listing of objects shows them, so `purge --remote`
//! finds them with ListMultipartUploads and aborts the stale ones.
//!
//! Only uploads of the tool's own key shape are touched, and one is stale
//! only when it was last written longer than `--partial-age` ago, as a
//! local `.partial` is: the newest of its start, its newest part (ListParts,
//! asked only of an upload that looks stale by its start: a long upload
//! in progress elsewhere keeps writing parts) and its dump's time (from the
//! name: an upload starts after its dump does, and moto, for one, reports
//! every upload as started in 2010).
//!
//! Housekeeping beside the purge's job: a store that cannot list them (no
//! ListMultipartUploads: an info line; no s3:ListBucketMultipartUploads
//! permission: a warning) or an abort that fails (a warning) leaves the
//! dumps' purge going on, and its exit code to the dumps. The
//! bucket's lifecycle rule (AbortIncompleteMultipartUpload) stays the
//! answer for such a store.

use super::client::{S3Error, Upload};
use super::dumps::key_part;
use super::store::Remote;
use crate::layout;
use chrono::{DateTime, Duration, Utc};
use pgkit::log;
use serde_json::json;

/// One unfinished upload of a dump's data.
pub(super) struct Unfinished {
    pub source: String,
    /// Its key under the source: `NAME`, or `NAME.dir/FILE`.
    pub file: String,
    pub upload: Upload,
    /// Older than `--partial-age`: to be aborted.
    pub stale: bool,
    pub why: String,
}

/// The unfinished uploads under the remote (or one source), sorted;
/// empty, with a log line, when the store cannot list them.
pub(super) fn scan(
    remote: &Remote,
    source: Option<&str>,
    now: DateTime<Utc>,
    partial_age: Duration,
) -> Vec<Unfinished> {
    let root = remote.url.list_prefix(None);
    let uploads = match remote.client.uploads() {
        Ok(u) => u,
        Err(e) => {
            not_listed(remote, &e);
            return Vec::new();
        }
    };
    let mut v = Vec::new();
    for u in uploads {
        let Some((src, base, _)) = key_part(&root, &u.key) else {
            continue;
        };
        if source.is_some_and(|s| s != src) {
            continue;
        }
        let Some(named) = layout::parse_dump_name(src, base).map(|p| p.time) else {
            continue;
        };
        let (source_name, file) = (
            src.to_string(),
            u.key[root.len() + src.len() + 1..].to_string(),
        );
        let mut written = Some(u.initiated.map_or(named, |i| i.max(named)));
        if let Some(w) = written.filter(|w| now - *w > partial_age) {
            match remote.client.last_part(&u.key, &u.id) {
                Ok(part) => written = Some(part.map_or(w, |p| p.max(w))),
                // Completed or aborted meanwhile: nothing left to do.
                Err(S3Error::Status(404, _, _)) => continue,
                // Its activity unknown, it is not taken for stale.
                Err(e) => {
                    log::warn(
                        "Cannot list an unfinished upload's parts; it is kept",
                        json!({"source": source_name, "remote": remote.url.dump_url(&source_name, &file),
                               "cause": pgkit::redact::scrub(&e.to_string()),
                               "suggestion": "Allow s3:ListMultipartUploadParts, or give the bucket an AbortIncompleteMultipartUpload lifecycle rule"}),
                    );
                    written = None;
                }
            }
        }
        let (stale, why) = verdict(written.map(|w| now - w), partial_age);
        v.push(Unfinished {
            source: source_name,
            file,
            stale,
            why,
            upload: u,
        });
    }
    v.sort_by(|a, b| (&a.source, &a.file).cmp(&(&b.source, &b.file)));
    v
}

/// Whether an upload last written `age` ago (None: unknown) is stale, and
/// why, in the words of the dumps' plan lines.
fn verdict(age: Option<Duration>, partial_age: Duration) -> (bool, String) {
    let Some(age) = age else {
        let why = "multipart upload never completed, its parts could not be listed";
        return (false, why.to_string());
    };
    let stale = age > partial_age;
    let why = format!(
        "multipart upload never completed, last written {} ago ({} --partial-age)",
        layout::human_age(age.num_seconds()),
        if stale { "older than" } else { "within" }
    );
    (stale, why)
}

fn not_listed(remote: &Remote, e: &S3Error) {
    let unsupported = matches!(e, S3Error::Status(501, _, _))
        || matches!(e, S3Error::Status(_, c, _) if c == "NotImplemented");
    let (message, suggestion) = if unsupported {
        (
            "The remote cannot list unfinished multipart uploads; stale ones are left to the bucket",
            "Give the bucket a lifecycle rule that aborts incomplete multipart uploads (AbortIncompleteMultipartUpload)",
        )
    } else if e.is_auth() {
        (
            "Not allowed to list unfinished multipart uploads; stale ones are left to the bucket",
            "Allow s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, or give the bucket an AbortIncompleteMultipartUpload lifecycle rule",
        )
    } else {
        (
            "Cannot list unfinished multipart uploads; stale ones are left for the next purge",
            "See the store's error; the dumps' purge went on",
        )
    };
    // A store without the request is a fact to know, not a fault to fix.
    let level = if unsupported {
        log::Level::Info
    } else {
        log::Level::Warn
    };
    log::event(
        level,
        message,
        json!({"remote": remote.shown(),
               "cause": pgkit::redact::scrub(&e.to_string()),
               "suggestion": suggestion}),
    );
}

/// Aborts one stale upload (its parts are deleted by the store): whether
/// it is gone. A failure is a warning: the purge of dumps goes on.
pub(super) fn abort(remote: &Remote, u: &Unfinished) -> bool {
    let url = remote.url.dump_url(&u.source, &u.file);
    match remote.client.abort_multipart(&u.upload.key, &u.upload.id) {
        // NoSuchUpload: completed or aborted meanwhile; gone either way.
        Ok(()) | Err(S3Error::Status(404, _, _)) => {
            log::info(
                "Unfinished upload aborted",
                json!({"source": u.source, "remote": url, "reason": u.why}),
            );
            true
        }
        Err(e) => {
            log::warn(
                "Cannot abort an unfinished upload",
                json!({"source": u.source, "remote": url,
                "cause": pgkit::redact::scrub(&e.to_string()),
                "suggestion": if e.is_auth() {
                    "Allow s3:AbortMultipartUpload, or give the bucket an AbortIncompleteMultipartUpload lifecycle rule"
                } else {
                    "The next purge tries again"
                }}),
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_whose_activity_is_unknown_is_never_stale() {
        let day = Duration::hours(24);
        assert!(!verdict(None, day).0);
        let (stale, why) = verdict(Some(Duration::hours(25)), day);
        assert!(stale, "{why}");
        assert!(why.contains("older than --partial-age"), "{why}");
        assert!(!verdict(Some(Duration::hours(23)), day).0);
    }
}
