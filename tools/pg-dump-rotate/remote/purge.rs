//! `purge --remote`: the retention rules applied to the remote only, and
//! the stale unfinished uploads aborted (`uploads`).

use super::dumps::RemoteDump;
use super::store::Remote;
use super::uploads::{self, Unfinished};
use crate::cli::RetentionArgs;
use crate::layout;
use crate::retention::{self, Decision, Item};
use chrono::Utc;
use pgkit::{log, out, Error, Result};
use serde_json::{json, Value};

/// `purge --remote`: the retention rules applied to the remote only.
pub fn purge(
    url: &str,
    retention: &RetentionArgs,
    n: Option<u32>,
    source: Option<&str>,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> Result<pgkit::cli::Summary> {
    let rules = retention.rules(n)?;
    if !rules.any() {
        return Err(Error::usage("No retention rule given").suggest(
            "Give N (keep the newest N) or --keep-last/--keep-daily/--keep-weekly/... (see --help)",
        ));
    }
    let partial_age =
        chrono::Duration::from_std(retention.partial_age()?).unwrap_or(chrono::Duration::MAX);
    let remote = Remote::open(url)?;
    if let Some(s) = source {
        layout::check_source(s)?;
    }
    let all = remote.scan(source)?;
    let now = Utc::now();
    // (source, dump, remove?, reasons)
    let mut plan: Vec<(String, RemoteDump, bool, Vec<String>)> = Vec::new();
    for (s, v) in &all {
        let good: Vec<&RemoteDump> = v.iter().filter(|d| d.complete).collect();
        let items: Vec<Item> = good
            .iter()
            .map(|d| Item {
                time: d.time,
                bad: None,
            })
            .collect();
        for (d, dec) in good.iter().zip(retention::plan(&items, &rules, now)) {
            let (go, why) = match dec {
                Decision::Keep(r) => (false, r),
                Decision::Remove(r) => (true, vec![r]),
            };
            plan.push((s.clone(), (*d).clone(), go, why));
        }
        for d in v.iter().filter(|d| !d.complete) {
            let age = now - d.uploaded;
            let go = age > partial_age;
            let why = format!(
                "upload not committed (no sidecar), last written {} ago ({} --partial-age)",
                layout::human_age(age.num_seconds()),
                if go { "older than" } else { "within" }
            );
            plan.push((s.clone(), d.clone(), go, vec![why]));
        }
    }
    let unfinished = uploads::scan(&remote, source, now, partial_age);
    // A Ctrl-C during the listing's retries reads as a store error there.
    pgkit::interrupt::check()?;
    let to_remove = plan.iter().filter(|p| p.2).count();
    let to_abort = unfinished.iter().filter(|u| u.stale).count();
    if dry_run {
        if as_json {
            let rows: Vec<Value> = plan
                .iter()
                .map(|(s, d, go, why)| {
                    json!({"source": s, "file": d.name,
                    "action": if *go { "remove" } else { "keep" }, "reasons": why})
                })
                .chain(unfinished.iter().map(|u| {
                    json!({"source": u.source, "file": u.file,
                    "action": if u.stale { "abort" } else { "keep" }, "reasons": [u.why]})
                }))
                .collect();
            out::println(&Value::Array(rows).to_string())?;
        } else {
            let mut text = String::new();
            for (s, d, go, why) in &plan {
                let action = if *go { "remove" } else { "keep" };
                text.push_str(&format!(
                    "{action:<6}  {s}/{}  {}\n",
                    d.name,
                    why.join(", ")
                ));
            }
            for u in &unfinished {
                text.push_str(&upload_line(u));
                text.push('\n');
            }
            out::print(&text)?;
        }
        return Ok(pgkit::cli::Summary::ok("Dry run: nothing removed")
            .field("remote", remote.shown())
            .field("wouldRemove", to_remove)
            .field("wouldAbort", to_abort));
    }
    if to_remove + to_abort == 0 {
        return Ok(pgkit::cli::Summary::ok("Nothing to purge").field("remote", remote.shown()));
    }
    if !yes {
        let removals: Vec<String> = plan
            .iter()
            .filter(|p| p.2)
            .map(|(s, d, _, why)| format!("remove  {s}/{}  {}", d.name, why.join(", ")))
            .chain(unfinished.iter().filter(|u| u.stale).map(upload_line))
            .collect();
        let what = match (to_remove, to_abort) {
            (_, 0) => "remote dump(s)",
            (0, _) => "unfinished upload(s)",
            _ => "remote dump(s) and unfinished upload(s)",
        };
        if !crate::confirm::removal(&removals, to_remove + to_abort, what)? {
            return Ok(pgkit::cli::Summary::ok("Purge cancelled; nothing removed"));
        }
    }
    // The leftovers first: they hold no dump anybody may still want.
    let mut aborted = 0usize;
    for u in unfinished.iter().filter(|u| u.stale) {
        pgkit::interrupt::check()?;
        aborted += usize::from(uploads::abort(&remote, u));
    }
    let mut removed = 0usize;
    for (s, d, go, why) in &plan {
        if !*go {
            continue;
        }
        pgkit::interrupt::check()?;
        remote.remove(d)?;
        log::info(
            "Remote dump removed",
            json!({"source": s, "remote": remote.url.dump_url(s, &d.name), "reason": why.join(", ")}),
        );
        removed += 1;
    }
    Ok(pgkit::cli::Summary::ok("Remote purge complete")
        .field("remote", remote.shown())
        .field("removed", removed)
        .field("kept", plan.len() - removed)
        .field("abortedUploads", aborted))
}

/// A plan line of an unfinished upload, as for a dump.
fn upload_line(u: &Unfinished) -> String {
    let action = if u.stale { "abort" } else { "keep" };
    format!("{action:<6}  {}/{}  {}", u.source, u.file, u.why)
}
