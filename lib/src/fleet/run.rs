//! Running one command over many targets: `--jobs` at a time, each on its
//! own connection (the command opens it, with its own lock); `--canary`,
//! `--fail-fast`; SIGINT stops starting targets while the running ones end
//! as the command ends them (their queries cancelled, their transactions
//! rolled back). One JSON result line per target on stdout as it ends
//! (skipped ones at the end), every log line of a target tagged with it,
//! and one summary with the counts per outcome and the most severe code.

use crate::cli::Summary;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fleet::severity;
use crate::fleet::target::Target;
use crate::log::{self, Level};
use crate::{interrupt, out};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How to run, and how to read a command's result.
pub struct Options<'a> {
    /// Targets at a time.
    pub jobs: usize,
    /// Stop starting targets after the first failure.
    pub fail_fast: bool,
    /// Run the first N first; stop before the rest if one fails.
    pub canary: Option<usize>,
    /// The command's summary fields copied into each result line, in
    /// order, `null` when absent (`applied`, `version`, …).
    pub result_keys: &'a [&'a str],
    /// Result keys read from another field first when it is there: an
    /// error's `version` may be the failed file's, `schemaVersion` the
    /// schema's.
    pub aliases: &'a [(&'a str, &'a str)],
    /// The outcomes counted in the summary, each always present
    /// ("interrupted" is a target stopped by SIGINT/SIGTERM while running).
    pub outcomes: &'a [&'a str],
    /// A run's outcome ("ok", "behind", "drifted", "failed"...).
    pub classify: &'a (dyn Fn(&Result<Summary>) -> &'static str + Sync),
}

/// A target's end.
struct Done {
    outcome: &'static str,
    code: Exit,
}

/// Runs `one` on every target and returns the fleet's summary.
pub fn run(
    targets: &[Target],
    opts: &Options,
    one: &(dyn Fn(&Target) -> Result<Summary> + Sync),
) -> Summary {
    let start = Instant::now();
    let results: Mutex<Vec<Option<Done>>> = Mutex::new((0..targets.len()).map(|_| None).collect());
    let stop = AtomicBool::new(false);
    let phases: Vec<std::ops::Range<usize>> = match opts.canary {
        Some(n) if n < targets.len() => vec![0..n, n..targets.len()],
        _ => std::iter::once(0..targets.len()).collect(),
    };
    let mut canary_failed = false;
    // At a terminal: targets done of the total (each target's own lines
    // are hidden).
    let bar = crate::progress::Progress::items("Targets", "targets", Some(targets.len() as u64));
    for (p, range) in phases.iter().enumerate() {
        if p == 1 {
            let failed = results
                .lock()
                .map(|r| {
                    r[..range.start]
                        .iter()
                        .any(|d| d.as_ref().is_none_or(|d| d.code != Exit::Ok))
                })
                .unwrap_or(true);
            if failed {
                canary_failed = true;
                log::warn(
                    "Canary failed: the other targets are not started",
                    json!({"canary": range.start, "skipped": range.len()}),
                );
                break;
            }
        }
        let next = AtomicUsize::new(range.start);
        let workers = opts.jobs.max(1).min(range.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    if stop.load(Ordering::SeqCst) || interrupt::received().is_some() {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= range.end {
                        return;
                    }
                    let done = {
                        let _hidden = crate::progress::hide_in_thread();
                        run_one(&targets[i], opts, one)
                    };
                    bar.inc(1);
                    if done.code != Exit::Ok && opts.fail_fast {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(done);
                    }
                });
            }
        });
        if stop.load(Ordering::SeqCst) || interrupt::received().is_some() {
            break;
        }
    }
    bar.finish();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // Every target has a line: those never started too.
    for (t, r) in targets.iter().zip(&results) {
        if r.is_none() {
            let mut line = t.tags();
            line.insert("outcome".into(), json!("skipped"));
            for k in opts.result_keys {
                line.insert((*k).into(), Value::Null);
            }
            line.insert("exitCode".into(), Value::Null);
            line.insert("durationMs".into(), Value::Null);
            line.insert("error".into(), Value::Null);
            let _ = out::println(&Value::Object(line).to_string());
        }
    }
    summarize(targets, &results, opts, canary_failed, start)
}

fn summarize(
    targets: &[Target],
    results: &[Option<Done>],
    opts: &Options,
    canary_failed: bool,
    start: Instant,
) -> Summary {
    let interrupted = interrupt::received();
    let mut codes: Vec<Exit> = results.iter().flatten().map(|d| d.code).collect();
    if let Some(sig) = interrupted {
        codes.push(sig);
    }
    let code = severity::most_severe(codes);
    let count = |o: &str| {
        if o == "skipped" {
            results.iter().filter(|r| r.is_none()).count()
        } else {
            results.iter().flatten().filter(|d| d.outcome == o).count()
        }
    };
    let names = |o: &str| -> Vec<String> {
        targets
            .iter()
            .zip(results)
            .filter(|(_, r)| r.as_ref().is_some_and(|d| d.outcome == o))
            .map(|(t, _)| t.name())
            .take(100)
            .collect()
    };
    let message = match (interrupted, canary_failed) {
        (Some(_), _) => "Fleet run interrupted: no further targets started",
        (None, true) => "Fleet run stopped: a canary target failed",
        _ => "Fleet run finished",
    };
    let mut s = Summary::ok(message).field("targets", targets.len());
    for o in opts.outcomes {
        s = s.field(o, count(o));
    }
    s = s.field("failedTargets", names("failed"));
    if opts.outcomes.contains(&"drifted") {
        s = s.field("driftedTargets", names("drifted"));
    }
    if opts.outcomes.contains(&"behind") {
        s = s.field("behindTargets", names("behind"));
    }
    s = s.field("fleetDurationMs", start.elapsed().as_millis() as u64);
    if code == Exit::Ok {
        s
    } else {
        s.code(code).level(Level::Warn)
    }
}

/// Runs one target, tagged, with its own stdout muted; logs its end as the
/// command alone would; prints its result line.
fn run_one(t: &Target, opts: &Options, one: &(dyn Fn(&Target) -> Result<Summary> + Sync)) -> Done {
    let tags = t.tags();
    let _tag = log::tag(tags.clone());
    let start = Instant::now();
    let r = match &t.unlisted {
        Some(e) => Err((**e).clone()),
        None => {
            let _mute = out::mute();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| one(t))).unwrap_or_else(|_| {
                Err(Error::new(Exit::Software, "Internal error").suggest("Please report this bug"))
            })
        }
    };
    let ms = start.elapsed().as_millis() as u64;
    // A target cut short by SIGINT/SIGTERM did not fail: it was stopped
    // (its work rolled back) and is safe to run again.
    let outcome = match &r {
        Err(e) if matches!(e.code, Exit::Interrupted | Exit::Terminated) => "interrupted",
        _ => (opts.classify)(&r),
    };
    let (code, fields, error) = match &r {
        Ok(s) => {
            if !s.quiet {
                let mut f = s.fields.clone();
                f.insert("exitCode".into(), json!(s.code.code()));
                f.insert("durationMs".into(), json!(ms));
                log::event(s.level, &s.message, Value::Object(f));
            }
            (s.code, &s.fields, None)
        }
        Err(e) => {
            crate::cli::report(e, ms);
            (e.code, &e.fields, Some(e.to_string()))
        }
    };
    let mut line: Map<String, Value> = tags;
    line.insert("outcome".into(), json!(outcome));
    for k in opts.result_keys {
        let alias = opts
            .aliases
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, from)| fields.get(*from));
        let v = alias.or_else(|| fields.get(*k)).cloned();
        line.insert((*k).into(), v.unwrap_or(Value::Null));
    }
    line.insert("exitCode".into(), json!(code.code()));
    line.insert("durationMs".into(), json!(ms));
    line.insert(
        "error".into(),
        json!(error.map(|e| crate::redact::scrub(&e))),
    );
    if let Some(f) = fields.get("filename") {
        line.insert("filename".into(), f.clone());
    }
    let _ = out::println(&Value::Object(line).to_string());
    Done { outcome, code }
}
