//! `up`: apply pending migrations in order, each in its own transaction
//! (or all in one with --single-transaction), under the lock.

use crate::apply::{Direction, Job, Runner};
use crate::args::{LockMode, UpArgs};
use crate::files::{self, cmp_version, Migration};
use crate::plan::{self, Entry};
use crate::session::{self, Session};
use crate::splitter;
use crate::tracking::Table;
use crate::watch::Watcher;
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;
use std::time::{Duration, Instant};

/// Runs `up`.
pub fn run(a: &UpArgs) -> Result<Summary> {
    let dir = &a.common.dir;
    let to =
        a.to.as_deref()
            .map(|v| super::version_arg("--to", v))
            .transpose()?;
    if a.dry_run {
        let files = files::discover(dir)?;
        return dry_run(a, &files, to.as_deref());
    }
    let table = Table::parse(&a.common.table)?;
    // Connect while listing the directory (not with --wait: a bad file name
    // must not wait for the database), then read the history under the lock
    // while hashing the files. A file error wins, without waiting for the
    // connection attempt (its thread is left to end with the process).
    let (files, (settings, client)) = if a.common.wait {
        let files = files::discover(dir)?;
        (files, session::connect(&a.common)?)
    } else {
        let common = a.common.clone();
        let h = std::thread::spawn(move || session::connect(&common));
        let files = files::discover(dir)?;
        let conn = h
            .join()
            .unwrap_or_else(|_| Err(Error::new(Exit::Failure, "Connection thread failed")))?;
        (files, conn)
    };
    let (sums, opened) = std::thread::scope(|s| {
        let h = s.spawn(|| plan::checksums(dir, &files));
        let opened = Session::with(&a.common, table, settings, client, true).and_then(|mut s| {
            let history = s.table.read(&mut s.client)?;
            Ok((s, history))
        });
        let sums = h
            .join()
            .unwrap_or_else(|_| Err(Error::new(Exit::Failure, "Checksum thread failed")));
        (sums, opened)
    });
    let (mut session, history) = opened?;
    let sums = sums?;
    let result = apply_all(a, &mut session, &files, &sums, &history, to.as_deref());
    session.close();
    // The process ends after this: the lists (one entry per file and per
    // row, 10,000s of small allocations) are left to it rather than freed
    // one by one.
    std::mem::forget(files);
    std::mem::forget(sums);
    std::mem::forget(history);
    let summary = result?;
    if let Some(f) = &a.dump_schema {
        crate::dump::schema(&session.settings, &a.pg_dump, f)?;
    }
    Ok(summary)
}

fn dry_run(a: &UpArgs, files: &[Migration], to: Option<&str>) -> Result<Summary> {
    let table = Table::parse(&a.common.table)?;
    let (_settings, mut client) = session::connect(&a.common)?;
    let history = table.history(&mut client, false)?;
    pgkit::interrupt::check()?;
    let sums = plan::checksums(&a.common.dir, files)?;
    let entries = plan::build(&a.common.dir, files, &sums, &history);
    let pending = plan::check(&entries, a.allow_out_of_order)?;
    let pending: Vec<&&Entry> = pending.iter().filter(|e| within(e, to)).collect();
    for e in &pending {
        out::println(e.filename())?;
    }
    Ok(Summary::ok("Dry run: nothing changed")
        .field("pending", pending.len())
        .field(
            "applied",
            entries.iter().filter(|e| e.row.is_some()).count(),
        ))
}

fn within(e: &Entry, to: Option<&str>) -> bool {
    to.is_none_or(|t| !cmp_version(e.version, t).is_gt())
}

fn apply_all(
    a: &UpArgs,
    s: &mut Session,
    files: &[Migration],
    sums: &[String],
    history: &[crate::tracking::Applied],
    to: Option<&str>,
) -> Result<Summary> {
    let entries = plan::build(&a.common.dir, files, sums, history);
    let pending = plan::check(&entries, a.allow_out_of_order)?;
    let pending: Vec<&Entry> = pending.into_iter().filter(|e| within(e, to)).collect();
    let head = entries
        .iter()
        .filter(|e| e.row.is_some())
        .map(|e| e.version)
        .max_by(|x, y| cmp_version(x, y));
    if pending.is_empty() {
        return Ok(Summary::ok("No pending migrations")
            .field("applied", 0)
            .field("version", head));
    }
    // Read every pending file first: a missing or non-UTF-8 file fails
    // before anything runs.
    let mut jobs = Vec::with_capacity(pending.len());
    for e in &pending {
        let Some(f) = &e.file else { continue };
        let (content, checksum) = files::read(&a.common.dir, &f.up)?;
        let no_tx = splitter::is_no_transaction(&content);
        if !no_tx {
            refuse_transaction_control(&f.up, &content)?;
        }
        let clean = !no_tx && splitter::ends_clean(&content);
        jobs.push(Pending {
            file: f,
            content,
            checksum,
            no_tx,
            clean,
        });
    }
    if a.single_transaction {
        if let Some(p) = jobs.iter().find(|j| j.no_tx) {
            return Err(Error::new(Exit::Migration, "No-transaction migration in a single transaction")
                .field("filename", p.file.up.clone())
                .suggest("Run without --single-transaction, or apply up to the version before it first (--to)"));
        }
    }
    // Our pid (for the watcher); whether commits already skip the WAL flush
    // (synchronous_commit = off for the session, as on a throwaway server):
    // then no file needs `SET LOCAL synchronous_commit = off`; and whether
    // the server reads '…' strings as our lexer does (the condition for
    // sending several files in one string).
    let row = crate::sql::query(
        &mut s.client,
        "SELECT pg_backend_pid(), current_setting('synchronous_commit'), current_setting('standard_conforming_strings'), current_setting('server_version_num')::int >= 140000",
    )
    .ok()
    .and_then(|r| r.into_iter().next())
    .unwrap_or_default();
    let pid: Option<i32> = row.first().cloned().flatten().and_then(|p| p.parse().ok());
    let setting = |i: usize| row.get(i).cloned().flatten();
    let sync_off = setting(1).as_deref() == Some("off");
    let mut lexer_agrees = setting(2).as_deref() == Some("on");
    // Several files per string only where a runner killed mid-file still
    // leaves that file uncommitted: PostgreSQL 14+, where the session's
    // client_connection_check_interval stops the string when we vanish.
    // Not in lease mode (for poolers, no such setting; and the lease is
    // checked before every file's COMMIT).
    let batching = setting(3).as_deref() == Some("t") && a.common.lock_mode != LockMode::Lease;
    let watcher = pid.map(|pid| {
        Watcher::start(
            &s.settings,
            pid,
            watch_interval(a.exec.lock_timeout),
            s.table.sql(),
        )
    });
    let Some(lock) = s.lock.as_ref() else {
        return Err(Error::new(Exit::Failure, "Internal error: no lock"));
    };
    let mut runner = Runner {
        client: &mut s.client,
        settings: &s.settings,
        table: &s.table,
        lock,
        watcher: watcher.as_ref(),
        lock_timeout: a.exec.lock_timeout,
        statement_timeout: a.exec.statement_timeout,
        tag: crate::apply::run_tag(),
    };
    let mut applied = 0usize;
    let mut last = head;
    if a.single_transaction {
        let begin = format!("BEGIN;{}", runner.settings_sql(true));
        crate::sql::exec(runner.client, &begin)
            .map_err(|e| crate::sql::fail("Cannot begin the transaction", &e))?;
        let mut done = Vec::new();
        for p in &jobs {
            match runner.run_tx(&p.job(false), true) {
                Ok(d) => done.push((p, d)),
                Err(e) => {
                    let _ = crate::sql::exec(runner.client, "ROLLBACK");
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
            applied += 1;
            last = Some(p.file.version.as_str());
        }
    } else {
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
            if p.no_tx {
                if let (Some(pj), Some((pi, ms))) = (&prev, open.take()) {
                    if let Err(e) = runner.commit(pj) {
                        failure = Some(e);
                        break;
                    }
                    log_applied(&jobs[pi], ms);
                }
                match runner.run_no_tx(&p.job(i + 1 < n && !sync_off)) {
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
        // Files commit in order: the applied ones are the first.
        if let Some(p) = applied.checked_sub(1).map(|k| &jobs[k]) {
            last = Some(p.file.version.as_str());
        }
        if let Some(e) = failure {
            if applied > 0 {
                crate::apply::flush(runner.client);
            }
            return Err(e.field("applied", applied));
        }
    }
    Ok(Summary::ok("Migrations applied")
        .field("applied", applied)
        .field("version", last))
}

/// At most this many files in one query string.
const MAX_BATCH_FILES: usize = 64;
/// At most this much SQL in one query string (a bigger file goes alone).
const MAX_BATCH_BYTES: usize = 1 << 20;
/// A string that ran longer than this is followed by single files again, so
/// that the log keeps up with slow migrations.
const SLOW_BATCH: Duration = Duration::from_millis(250);

/// A pending file, read.
struct Pending<'a> {
    file: &'a Migration,
    content: String,
    checksum: String,
    /// Starts with `-- pg-migrate: no-transaction`.
    no_tx: bool,
    /// Ends at top level: another file may follow it in a query string.
    clean: bool,
}

impl Pending<'_> {
    fn job(&self, relaxed: bool) -> Job<'_> {
        Job {
            filename: &self.file.up,
            up_filename: &self.file.up,
            version: &self.file.version,
            content: &self.content,
            checksum: &self.checksum,
            direction: Direction::Up,
            relaxed,
        }
    }
}

/// A transactional file must not BEGIN or COMMIT itself (its tracking row
/// would commit apart from it): 65, naming the line.
pub fn refuse_transaction_control(filename: &str, content: &str) -> Result<()> {
    if let Some(at) = splitter::transaction_control(content) {
        let idx = crate::position::chars_before(content, at);
        let mut e = Error::new(Exit::DataErr, "Migration controls its own transaction")
            .field("filename", filename);
        if let Some(p) = crate::position::locate(content, idx) {
            e = e.field("line", p.line).field("lineText", p.text);
        }
        return Err(e.suggest(
            "Remove BEGIN/COMMIT: pg-migrate runs each file in a transaction with its tracking row; for statements that cannot run in a transaction, start the file with '-- pg-migrate: no-transaction'",
        ));
    }
    Ok(())
}

fn applied_line(p: &Pending, ms: u64) {
    let f = p.file;
    log::info(
        "Migration applied",
        json!({"filename": f.up, "version": f.version, "checksum": p.checksum, "durationMs": ms}),
    );
}

/// How often the watcher looks for blockers: a quarter of the lock timeout
/// (so a 55P03 names who blocked), at most every 250 ms.
pub fn watch_interval(lock_timeout: Option<Duration>) -> Duration {
    lock_timeout
        .map(|t| t / 4)
        .unwrap_or(Duration::from_millis(250))
        .clamp(Duration::from_millis(20), Duration::from_millis(250))
}
