//! Applying the pending files in order, under the lock: each in its own
//! transaction with its tracking row, several to a query string where that
//! is safe (see [`Runner::run_batch`]), or all in one transaction
//! (`--single-transaction`).

use crate::apply::{Direction, Job, Runner};
use crate::files::Migration;
use pgkit::{log, Error, Result};
use serde_json::json;
use std::time::{Duration, Instant};

/// At most this many files in one query string.
const MAX_BATCH_FILES: usize = 64;
/// At most this much SQL in one query string (a bigger file goes alone).
const MAX_BATCH_BYTES: usize = 1 << 20;
/// A string that ran longer than this is followed by single files again, so
/// that the log keeps up with slow migrations.
const SLOW_BATCH: Duration = Duration::from_millis(250);

/// A pending file, read.
pub struct Pending<'a> {
    pub file: &'a Migration,
    pub content: String,
    pub checksum: String,
    /// Starts with `-- pg-migrate: no-transaction`.
    pub no_tx: bool,
    /// Ends at top level: another file may follow it in a query string.
    pub clean: bool,
    /// Its pieces, when it has COPY data or `\restrict` lines.
    pub script: Option<pgkit::script::Script>,
    /// Its text may change the session ([`crate::apply::may_touch_session`]).
    pub touches_session: bool,
}

impl Pending<'_> {
    /// The file as [`Runner`] runs it.
    pub fn job(&self, relaxed: bool) -> Job<'_> {
        Job {
            filename: &self.file.up,
            up_filename: &self.file.up,
            version: &self.file.version,
            content: &self.content,
            script: self.script.as_ref(),
            alone: !self.clean,
            touches_session: self.touches_session,
            checksum: &self.checksum,
            direction: Direction::Up,
            relaxed,
        }
    }
}

/// What decides how files travel.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The session's commits skip the WAL flush already: no file needs
    /// `SET LOCAL synchronous_commit = off`.
    pub sync_off: bool,
    /// Several files may share a query string (PostgreSQL 14+, not lease
    /// mode).
    pub batching: bool,
    /// The server reads quotes as our lexer does (standard_conforming_strings).
    pub lexer_agrees: bool,
}

/// `--single-transaction`: every file in one transaction, all or nothing.
/// Returns how many were applied (all of them).
pub fn all_in_one(runner: &mut Runner, jobs: &[Pending]) -> Result<usize> {
    let begin = format!("BEGIN;{}", runner.settings_sql(true));
    crate::sql::exec(runner.client, &begin)
        .map_err(|e| crate::sql::fail("Cannot begin the transaction", &e))?;
    let mut done = Vec::new();
    for p in jobs {
        match runner.run_tx(&p.job(false), true) {
            Ok(d) => done.push((p, d)),
            Err(e) => {
                let _ = crate::sql::exec(runner.client, "ROLLBACK");
                let e = with_statement_line(runner, jobs, e);
                return Err(e.field("applied", 0).field("rolledBack", done.len()));
            }
        }
    }
    if let Err(e) = pgkit::interrupt::check().and_then(|_| runner.lock.check()) {
        let _ = crate::sql::exec(runner.client, "ROLLBACK");
        return Err(e.field("applied", 0));
    }
    if let Err(e) = crate::sql::exec(runner.client, "COMMIT") {
        let _ = crate::sql::exec(runner.client, "ROLLBACK");
        return Err(crate::sql::fail("Migration failed", &e).field("applied", 0));
    }
    for (p, d) in done {
        applied_line(p, d.as_millis() as u64);
    }
    Ok(jobs.len())
}

/// Each file in its own transaction, in order, until one fails: how many
/// were applied (the first ones), and the failure.
pub fn each(runner: &mut Runner, jobs: &[Pending], o: Options) -> (usize, Option<Error>) {
    let mut applied = 0usize;
    let Options {
        sync_off,
        batching,
        mut lexer_agrees,
    } = o;
    let n = jobs.len();
    // Applied, once committed: logged and counted.
    let mut log_applied = |p: &Pending, ms: u64| {
        applied_line(p, ms);
        applied += 1;
    };
    // A transactional file's transaction stays open until the next
    // string commits it (or `commit` after the last one). Files go in
    // strings of up to `size` (1, doubling while strings run fast), so
    // a thousand small files cost a few dozen round trips.
    let mut open: Option<(usize, u64)> = None;
    let mut failure = None;
    let mut size = 1;
    let mut i = 0;
    while i < n {
        let p = &jobs[i];
        let prev = open.map(|(pi, _)| jobs[pi].job(true));
        // A no-transaction file, or one that must travel alone (COPY data,
        // an unfinished end), runs after the open transaction commits.
        if p.no_tx || !p.clean {
            if let (Some(pj), Some((pi, ms))) = (&prev, open.take()) {
                if let Err(e) = runner.commit(pj) {
                    failure = Some(e);
                    break;
                }
                log_applied(&jobs[pi], ms);
            }
            let job = p.job(i + 1 < n && !sync_off);
            let r = if p.no_tx {
                runner.run_no_tx(&job)
            } else {
                runner.run_tx(&job, false)
            };
            match r {
                Ok(d) => log_applied(p, d.as_millis() as u64),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            i += 1;
            continue;
        }
        let mut end = i + 1;
        let mut bytes = p.content.len();
        while end < n
            && end - i < size
            && batching
            && lexer_agrees
            && jobs[end - 1].clean
            && !jobs[end].no_tx
            && bytes + jobs[end].content.len() <= MAX_BATCH_BYTES
        {
            bytes += jobs[end].content.len();
            end += 1;
        }
        let batch: Vec<Job> = jobs[i..end]
            .iter()
            .enumerate()
            .map(|(k, j)| j.job(i + k + 1 < n && !sync_off))
            .collect();
        let started = Instant::now();
        let r = runner.run_batch(&batch, prev.as_ref());
        let (prev_committed, done, result) = match r {
            Ok(b) => {
                lexer_agrees &= b.lexer_agrees;
                let mut ms = b.ms;
                let open_ms = ms.pop().unwrap_or(0);
                (true, ms, Ok(open_ms))
            }
            Err((e, part)) => (part.prev_committed, part.done, Err(e)),
        };
        if let Some((pi, ms)) = open.take() {
            if prev_committed {
                log_applied(&jobs[pi], ms);
            }
        }
        for (k, ms) in done.into_iter().enumerate() {
            log_applied(&jobs[i + k], ms);
        }
        match result {
            Ok(ms) => open = Some((end - 1, ms)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        size = if started.elapsed() > SLOW_BATCH {
            1
        } else {
            (size * 2).min(MAX_BATCH_FILES)
        };
        i = end;
    }
    if let Some((pi, ms)) = open.take() {
        match runner.commit(&jobs[pi].job(false)) {
            Ok(()) => log_applied(&jobs[pi], ms),
            Err(e) => failure = Some(e),
        }
    }
    (
        applied,
        failure.map(|e| with_statement_line(runner, jobs, e)),
    )
}

/// A transactional file's run-time error without a position (the server
/// gives none for a unique violation): the line where the failing
/// statement starts ([`Runner::failing_statement`]).
pub fn with_statement_line(runner: &mut Runner, jobs: &[Pending], e: Error) -> Error {
    let failed = e.fields.get("filename").and_then(|f| f.as_str());
    match jobs
        .iter()
        .find(|p| !p.no_tx && failed == Some(p.file.up.as_str()))
    {
        Some(p) => runner.with_statement_line(&p.job(false), e),
        None => e,
    }
}

fn applied_line(p: &Pending, ms: u64) {
    pgkit::progress::advance(1);
    let f = p.file;
    log::info(
        "Migration applied",
        json!({"filename": f.up, "version": f.version, "checksum": p.checksum, "durationMs": ms}),
    );
}
