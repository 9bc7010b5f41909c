//! `purge`: the retention rules applied per source, under the source's lock.
//!
//! The plan comes from the cheap scan (sidecar, manifest, size). Before a
//! real run deletes anything in a source, the dump it protects (the newest
//! good one) is hashed in full; if that fails, the dump counts as bad and the
//! plan is made again, so the dump that survives is one that verifies.

use crate::cli::PurgeArgs;
use crate::layout::{self, Checksum, Dump, Leftover, SourceScan};
use crate::retention::{self, Decision, Item, Rules};
use crate::{integrity, lock};
use chrono::{DateTime, Utc};
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

/// What purge decided for one source.
pub struct SourcePlan {
    /// Each dump with its decision, newest first.
    pub dumps: Vec<(Dump, Decision)>,
    /// Leftovers, with whether each goes and why.
    pub leftovers: Vec<(Leftover, bool, String)>,
}

impl SourcePlan {
    fn removals(&self) -> HashSet<String> {
        self.dumps
            .iter()
            .filter(|(_, d)| !d.keeps())
            .map(|(d, _)| d.name.clone())
            .chain(
                self.leftovers
                    .iter()
                    .filter(|(_, go, _)| *go)
                    .map(|(l, _, _)| l.name.clone()),
            )
            .collect()
    }
}

fn bad_reason(c: Checksum) -> Option<String> {
    match c {
        Checksum::Ok => None,
        Checksum::Unverified => Some("checksum unverifiable (no manifest)".into()),
        Checksum::Missing => Some("checksum missing (no sidecar)".into()),
        Checksum::Mismatch => Some("checksum mismatch (sidecar, manifest or size disagree)".into()),
    }
}

/// Plans one source. `overrides` marks dumps found bad by a full hash.
pub fn plan_source(
    scan: &SourceScan,
    rules: &Rules,
    partial_age: Duration,
    now: DateTime<Utc>,
    failed_hash: &HashSet<String>,
) -> SourcePlan {
    let items: Vec<Item> = scan
        .dumps
        .iter()
        .map(|d| Item {
            time: d.time,
            bad: if failed_hash.contains(&d.name) {
                Some("checksum mismatch (content)".into())
            } else {
                bad_reason(d.checksum)
            },
        })
        .collect();
    let decisions = retention::plan(&items, rules, now);
    let max_age = chrono::Duration::from_std(partial_age).unwrap_or(chrono::Duration::MAX);
    let leftovers = scan
        .leftovers
        .iter()
        .map(|l| {
            let age = now - l.modified;
            let what = if l.partial {
                "partial dump"
            } else {
                "sidecar or manifest without its dump"
            };
            let go = age > max_age;
            let why = format!(
                "{what}, modified {} ago ({} --partial-age)",
                layout::human_age(age.num_seconds()),
                if go { "older than" } else { "within" }
            );
            (l.clone(), go, why)
        })
        .collect();
    SourcePlan {
        dumps: scan.dumps.iter().cloned().zip(decisions).collect(),
        leftovers,
    }
}

/// Runs `purge`.
pub fn run(dir: &Path, a: &PurgeArgs) -> Result<Summary> {
    if let Some(url) = crate::cli::remote_url(&a.remote)? {
        return crate::remote::purge(
            &url,
            &a.retention,
            a.n,
            a.source.as_deref(),
            a.dry_run,
            a.yes,
            a.json,
        );
    }
    let rules = a.retention.rules(a.n)?;
    if !rules.any() {
        return Err(Error::usage("No retention rule given").suggest(
            "Give N (keep the newest N) or --keep-last/--keep-daily/--keep-weekly/... (see --help)",
        ));
    }
    let partial_age = a.retention.partial_age()?;
    let lock_wait = crate::cli::duration("--lock-wait", &a.lock_wait)?;
    let sources = match &a.source {
        Some(s) => {
            layout::check_source(s)?;
            if !dir.join(s).is_dir() {
                return Err(Error::new(Exit::NoInput, "No dumps for this source")
                    .field("source", s.clone())
                    .suggest("Check --source and --dir (DUMP_DIR)"));
            }
            vec![s.clone()]
        }
        None => layout::sources(dir)?,
    };
    let now = Utc::now();
    let none = HashSet::new();
    let mut plans = Vec::new();
    for s in &sources {
        let scan = layout::scan_source(dir, s)?;
        warn_future(s, &scan, now);
        plans.push((
            s.clone(),
            plan_source(&scan, &rules, partial_age, now, &none),
        ));
    }
    let to_remove: usize = plans.iter().map(|(_, p)| p.removals().len()).sum();

    if a.dry_run {
        print_plan(&plans, a.json)?;
        return Ok(Summary::ok("Dry run: nothing removed")
            .field("sources", sources.len())
            .field("wouldRemove", to_remove));
    }
    if to_remove == 0 {
        return Ok(Summary::ok("Nothing to purge").field("sources", sources.len()));
    }
    // What a person confirmed is an upper bound: nothing else is removed.
    // With --yes, the plan made again under each source's lock is applied.
    let mut asked = false;
    if !a.yes {
        asked = true;
        let (lines, _) = plan_lines(&plans);
        let removals: Vec<String> = lines
            .into_iter()
            .filter(|l| l.starts_with("remove"))
            .collect();
        if !crate::confirm::removal(&removals, to_remove, "file(s)")? {
            return Ok(Summary::ok("Purge cancelled; nothing removed"));
        }
    }
    let (mut removed, mut kept) = (0usize, 0usize);
    let mut busy: Vec<String> = Vec::new();
    for (s, p) in &plans {
        let confirmed = p.removals();
        if confirmed.is_empty() {
            kept += p.dumps.len();
            continue;
        }
        let sdir = dir.join(s);
        // A source busy past --lock-wait is skipped; the others go on, and
        // the run ends with 75 naming it.
        let _lock = match lock::acquire(&sdir, s, lock_wait) {
            Ok(l) => l,
            Err(e) if e.code == Exit::TempFail => {
                log::warn(
                    "Source skipped: another run holds its lock",
                    json!({"source": s}),
                );
                busy.push(s.clone());
                continue;
            }
            Err(e) => return Err(e),
        };
        let (r, k) = apply(
            dir,
            s,
            &rules,
            partial_age,
            None,
            asked.then_some(&confirmed),
        )?;
        removed += r;
        kept += k;
    }
    if !busy.is_empty() {
        return Err(
            Error::new(Exit::TempFail, "Purge incomplete: sources were busy")
                .cause(format!(
                    "a dump or purge held the lock of {}",
                    busy.join(", ")
                ))
                .field("removed", removed)
                .field("busy", json!(busy))
                .suggest("Retry later, or raise --lock-wait (DUMP_LOCK_WAIT)"),
        );
    }
    Ok(Summary::ok("Purge complete")
        .field("removed", removed)
        .field("kept", kept))
}

/// Applies the rules to one source whose lock the caller holds (`dump
/// --purge`): `known_good` names a dump just written and hashed.
pub fn purge_locked(
    dir: &Path,
    source: &str,
    rules: &Rules,
    partial_age: Duration,
    known_good: Option<&str>,
) -> Result<(usize, usize)> {
    warn_future(source, &layout::scan_source(dir, source)?, Utc::now());
    apply(dir, source, rules, partial_age, known_good, None)
}

/// Warns about dumps named in the future: names come from the clock at
/// dump time, so a clock that was ahead, or was set back since, leaves
/// them. They count toward no rule and are kept (see `retention`).
fn warn_future(source: &str, scan: &SourceScan, now: DateTime<Utc>) {
    let ahead: Vec<String> = scan
        .dumps
        .iter()
        .filter(|d| d.time > now)
        .map(|d| d.path.display().to_string())
        .collect();
    if let Some(d) = scan.dumps.first().filter(|d| d.time > now) {
        log::warn(
            "A dump is named in the future; check the clock",
            json!({"source": source, "file": d.path.display().to_string(), "files": ahead,
                   "dumpTime": d.time.to_rfc3339(), "now": now.to_rfc3339(),
                   "note": "dumps named in the future count toward no rule and are kept"}),
        );
    }
}

/// Re-plans under the lock, hashes the protected dump, removes. With
/// `confirmed`, only what the confirmed plan named is removed.
fn apply(
    dir: &Path,
    source: &str,
    rules: &Rules,
    partial_age: Duration,
    known_good: Option<&str>,
    confirmed: Option<&HashSet<String>>,
) -> Result<(usize, usize)> {
    let scan = layout::scan_source(dir, source)?;
    let mut failed = HashSet::new();
    let mut plan = loop {
        let plan = plan_source(&scan, rules, partial_age, Utc::now(), &failed);
        if plan.removals().is_empty() {
            break plan;
        }
        // The newest good dump is the one the plan protects: make sure its
        // bytes are still what the sidecar says before deleting older ones.
        let now = Utc::now();
        let protected = plan.dumps.iter().find(|(d, dec)| {
            dec.keeps() && d.checksum == Checksum::Ok && !failed.contains(&d.name) && d.time <= now
        });
        let Some((d, _)) = protected else {
            break plan;
        };
        if known_good == Some(d.name.as_str()) {
            break plan;
        }
        match integrity::check_checksum(&d.path) {
            Ok(()) => break plan,
            Err(e) if e.code == Exit::Dump => {
                log::warn(
                    "The newest dump fails its checksum; it does not count",
                    json!({"file": d.path.display().to_string(), "error": e.error}),
                );
                failed.insert(d.name.clone());
            }
            Err(e) => return Err(e),
        }
    };
    // The dump this run just wrote and hashed is never removed by it, even
    // when the rules would not keep it (a clock set back gives it an older
    // name than dumps already there).
    if let Some(k) = known_good {
        for (d, dec) in &mut plan.dumps {
            if d.name == k && !dec.keeps() && d.checksum == Checksum::Ok {
                *dec = Decision::Keep(vec!["written by this run".into()]);
            }
        }
    }
    let (mut removed, mut kept) = (0, 0);
    for (d, dec) in &plan.dumps {
        let why = match dec {
            Decision::Keep(_) => {
                kept += 1;
                continue;
            }
            Decision::Remove(why) => why,
        };
        if confirmed.is_some_and(|c| !c.contains(&d.name)) {
            kept += 1;
            continue;
        }
        remove_dump(d)?;
        log::info(
            "Dump removed",
            json!({"source": source, "file": d.path.display().to_string(), "reason": why}),
        );
        removed += 1;
    }
    for (l, go, why) in &plan.leftovers {
        if !go || confirmed.is_some_and(|c| !c.contains(&l.name)) {
            continue;
        }
        remove_path(&l.path)?;
        log::info(
            "Leftover removed",
            json!({"source": source, "file": l.path.display().to_string(), "reason": why}),
        );
        removed += 1;
    }
    crate::durable::sync_dir(&dir.join(source))?;
    Ok((removed, kept))
}

/// Removes a dump: the dump first, then its sidecar and manifest (a crash in
/// between leaves orphans that the next purge recognises, never a dump
/// without its checksum).
fn remove_dump(d: &Dump) -> Result<()> {
    remove_path(&d.path)?;
    for p in [
        layout::sidecar_path(&d.path),
        layout::manifest_path(&d.path),
    ] {
        remove_path(&p)?;
    }
    Ok(())
}

fn remove_path(p: &Path) -> Result<()> {
    let r = match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(Exit::Failure, "remove", p, &e)),
    }
}

fn plan_lines(plans: &[(String, SourcePlan)]) -> (Vec<String>, Vec<Value>) {
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for (s, p) in plans {
        for (l, go, why) in &p.leftovers {
            let action = if *go { "remove" } else { "keep" };
            lines.push(format!("{action:<6}  {s}/{}  {why}", l.name));
            rows.push(json!({"source": s, "file": l.name, "action": action, "reasons": [why]}));
        }
        for (d, dec) in &p.dumps {
            let (action, reasons) = match dec {
                Decision::Keep(r) => ("keep", r.clone()),
                Decision::Remove(r) => ("remove", vec![r.clone()]),
            };
            lines.push(format!(
                "{action:<6}  {s}/{}  {}",
                d.name,
                reasons.join(", ")
            ));
            rows.push(json!({"source": s, "file": d.name, "action": action, "reasons": reasons}));
        }
    }
    (lines, rows)
}

fn print_plan(plans: &[(String, SourcePlan)], as_json: bool) -> Result<()> {
    let (lines, rows) = plan_lines(plans);
    if as_json {
        out::println(&Value::Array(rows).to_string())
    } else {
        let mut text = String::with_capacity(lines.len() * 100);
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        out::print(&text)
    }
}
