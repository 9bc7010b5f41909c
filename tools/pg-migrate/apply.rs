//! Running one migration file.
//!
//! A transactional file is one round trip: `BEGIN; SET LOCAL …; <file>;
//! <tracking row>`, its `COMMIT` sent only once that succeeded — at the
//! start of the next file's batch (`COMMIT; BEGIN; …`) or on its own after
//! the last — so a runner killed mid-file leaves an open transaction the
//! server rolls back, never a commit.
//! A no-transaction file runs statement by statement (the splitter), with a
//! tracking row marked failed first and marked applied at the end, so a
//! failure or a crash leaves a failed row that blocks until `repair`.
//! SQL errors are mapped onto the file's line and column.

use crate::lock::Lock;
use crate::position::{chars_before, locate};
use crate::splitter;
use crate::sql::{self, literal};
use crate::tracking::{Table, APPLIED, FAILED};
use crate::watch::{Blocker, Watcher};
use pgkit::conn::Client;
use pgkit::{interrupt, Error, Exit, Result};
use postgres::error::ErrorPosition;
use std::time::{Duration, Instant};

/// Which way a file runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Apply: record the row.
    Up,
    /// Revert: delete the row.
    Down,
}

/// One file to run.
pub struct Job<'a> {
    /// The file name (for messages and the row).
    pub filename: &'a str,
    /// The up file's name (the row's filename).
    pub up_filename: &'a str,
    /// Normalised version.
    pub version: &'a str,
    /// The file's text (BOM removed).
    pub content: &'a str,
    /// The up file's checksum (recorded).
    pub checksum: &'a str,
    /// Up or down.
    pub direction: Direction,
    /// Commit without waiting for the WAL flush (`synchronous_commit = off`):
    /// every file of a run but the last. The last one's synchronous commit
    /// flushes the WAL of all before it, so a successful run is durable with
    /// one flush instead of one per file; a crash in between loses a tail of
    /// whole migrations with their rows, which the next run applies again.
    pub relaxed: bool,
}

/// What runs the files: the connection and the per-migration settings.
pub struct Runner<'a> {
    /// The connection.
    pub client: &'a mut Client,
    /// The tracking table.
    pub table: &'a Table,
    /// The lock we hold (a lost lease stops the commit).
    pub lock: &'a Lock,
    /// Who-blocks-us watcher.
    pub watcher: Option<&'a Watcher>,
    /// `SET LOCAL lock_timeout`.
    pub lock_timeout: Option<Duration>,
    /// `SET LOCAL statement_timeout`.
    pub statement_timeout: Option<Duration>,
}

impl Runner<'_> {
    /// `SET LOCAL …;` for the timeouts (`local` false: session-level SET).
    pub fn settings_sql(&self, local: bool) -> String {
        let kw = if local { "SET LOCAL" } else { "SET" };
        let mut s = String::new();
        if let Some(d) = self.lock_timeout {
            s.push_str(&format!("{kw} lock_timeout = {};", sql::interval(d)));
        }
        if let Some(d) = self.statement_timeout {
            s.push_str(&format!("{kw} statement_timeout = {};", sql::interval(d)));
        }
        s
    }

    fn bookkeeping(&self, job: &Job) -> String {
        match job.direction {
            Direction::Up => {
                self.table
                    .insert_sql(job.version, job.up_filename, job.checksum, APPLIED)
            }
            Direction::Down => self.table.delete_sql(job.version),
        }
    }

    /// Runs a transactional file. With `outer` (single-transaction mode) the
    /// caller owns BEGIN and COMMIT.
    pub fn run_tx(&mut self, job: &Job, outer: bool) -> Result<Duration> {
        interrupt::check().map_err(|e| e.field("filename", job.filename))?;
        let prefix = if outer {
            String::new()
        } else {
            let relaxed = if job.relaxed {
                "SET LOCAL synchronous_commit = off;"
            } else {
                ""
            };
            format!("BEGIN;{relaxed}{}\n", self.settings_sql(true))
        };
        let batch = format!("{prefix}{}\n;\n{}", job.content, self.bookkeeping(job));
        let start = Instant::now();
        if let Some(w) = self.watcher {
            w.begin(job.filename);
        }
        let r = sql::exec(self.client, &batch);
        let blockers = self.watcher.map(Watcher::end).unwrap_or_default();
        if let Err(e) = r {
            if !outer {
                let _ = sql::exec(self.client, "ROLLBACK");
            }
            return Err(sql_error(
                &e,
                job,
                prefix.chars().count(),
                0,
                &blockers,
                true,
            ));
        }
        if !outer {
            if let Err(e) = interrupt::check().and_then(|_| self.lock.check()) {
                let _ = sql::exec(self.client, "ROLLBACK");
                return Err(e.field("filename", job.filename));
            }
            if let Err(e) = sql::exec(self.client, "COMMIT") {
                let _ = sql::exec(self.client, "ROLLBACK");
                return Err(sql_error(&e, job, usize::MAX, 0, &[], true));
            }
        }
        Ok(start.elapsed())
    }

    /// Runs a transactional file and leaves its transaction open: the
    /// caller passes it as `prev` to the next call, whose batch starts with
    /// its `COMMIT` (one round trip per migration instead of two), or ends
    /// it with [`Runner::commit`]. `prev`'s COMMIT is sent only after its
    /// own batch succeeded, and a runner killed inside this file still
    /// leaves this file uncommitted. The error says whether `prev`
    /// committed; when its COMMIT itself failed (a deferred constraint),
    /// the error is `prev`'s.
    pub fn run_chained(
        &mut self,
        job: &Job,
        prev: Option<&Job>,
    ) -> std::result::Result<Duration, (Error, bool)> {
        if let Err(e) = interrupt::check() {
            // The previous file passed its checks: it commits, as it would
            // have before this one started.
            if let Some(p) = prev {
                self.commit(p).map_err(|e| (e, false))?;
            }
            return Err((e.field("filename", job.filename), true));
        }
        let head = if prev.is_some() { "COMMIT;" } else { "" };
        let relaxed = if job.relaxed {
            "SET LOCAL synchronous_commit = off;"
        } else {
            ""
        };
        let prefix = format!("{head}BEGIN;{relaxed}{}\n", self.settings_sql(true));
        let batch = format!("{prefix}{}\n;\n{}", job.content, self.bookkeeping(job));
        let start = Instant::now();
        if let Some(w) = self.watcher {
            w.begin(job.filename);
        }
        let r = sql::exec(self.client, &batch);
        let blockers = self.watcher.map(Watcher::end).unwrap_or_default();
        if let Err(e) = r {
            let _ = sql::exec(self.client, "ROLLBACK");
            if let Some(p) = prev {
                match self.recorded(p) {
                    Some(true) => {}
                    // Cannot tell (the connection is gone): the next run will.
                    None => {
                        return Err((
                            sql_error(&e, job, prefix.chars().count(), 0, &blockers, true),
                            false,
                        ))
                    }
                    // The previous file's COMMIT failed (a deferred
                    // constraint), or never ran: a syntax error anywhere in
                    // a batch fails it before its first statement, and
                    // aborts the open transaction. Either way the previous
                    // file left nothing: run it again on its own (its own
                    // error, if any, is reported), then this one.
                    Some(false) => {
                        if interrupt::received().is_some() {
                            return Err((interrupt::error().field("filename", p.filename), false));
                        }
                        self.run_tx(p, false).map_err(|e| (e, false))?;
                        return self.run_chained(job, None);
                    }
                }
            }
            return Err((
                sql_error(&e, job, prefix.chars().count(), 0, &blockers, true),
                true,
            ));
        }
        if let Err(e) = interrupt::check().and_then(|_| self.lock.check()) {
            let _ = sql::exec(self.client, "ROLLBACK");
            return Err((e.field("filename", job.filename), true));
        }
        Ok(start.elapsed())
    }

    /// Commits the transaction [`Runner::run_chained`] left open for `job`.
    pub fn commit(&mut self, job: &Job) -> Result<()> {
        if let Err(e) = sql::exec(self.client, "COMMIT") {
            let _ = sql::exec(self.client, "ROLLBACK");
            return Err(sql_error(&e, job, usize::MAX, 0, &[], true));
        }
        Ok(())
    }

    /// Whether `job`'s tracking row is there (its transaction committed);
    /// `None` when the question cannot be asked.
    fn recorded(&mut self, job: &Job) -> Option<bool> {
        let q = format!(
            "SELECT 1 FROM {} WHERE version = {}",
            self.table.sql(),
            literal(job.version)
        );
        sql::query(self.client, &q).ok().map(|r| !r.is_empty())
    }

    /// Runs a no-transaction file statement by statement.
    pub fn run_no_tx(&mut self, job: &Job) -> Result<Duration> {
        interrupt::check().map_err(|e| e.field("filename", job.filename))?;
        let start = Instant::now();
        let t = self.table.sql();
        let v = literal(job.version);
        let marker = match job.direction {
            Direction::Up => format!(
                "{}; {}",
                self.table.delete_sql(job.version),
                self.table.insert_sql(job.version, job.up_filename, job.checksum, FAILED)
            ) + &format!("; UPDATE {t} SET error = 'started; did not finish (interrupted or crashed)' WHERE version = {v}"),
            Direction::Down => String::new(),
        };
        let settings = self.settings_sql(false);
        let setup = format!("{marker};{settings}");
        sql::exec(self.client, &setup).map_err(|e| sql::fail("Cannot record the migration", &e))?;
        let reset = "RESET lock_timeout; RESET statement_timeout";
        for stmt in splitter::split(job.content) {
            if let Err(e) = interrupt::check() {
                let _ = self.record_failure(job, "interrupted");
                let _ = sql::exec(self.client, reset);
                return Err(e.field("filename", job.filename));
            }
            if let Some(w) = self.watcher {
                w.begin(job.filename);
            }
            let r = sql::exec(self.client, stmt.text);
            let blockers = self.watcher.map(Watcher::end).unwrap_or_default();
            if let Err(e) = r {
                let _ = self.record_failure(job, &sql::message(&e));
                let _ = sql::exec(self.client, reset);
                let offset = chars_before(job.content, stmt.offset);
                return Err(sql_error(&e, job, 0, offset, &blockers, false));
            }
        }
        let done = match job.direction {
            Direction::Up => format!(
                "UPDATE {t} SET status = 'applied', error = NULL, checksum = {}, applied_at = now(), duration_ms = {} WHERE version = {v}",
                literal(job.checksum),
                start.elapsed().as_millis()
            ),
            Direction::Down => self.table.delete_sql(job.version),
        };
        sql::exec(self.client, &format!("{done}; {reset}")).map_err(|e| {
            sql::fail("Cannot record the migration", &e).field("filename", job.filename)
        })?;
        Ok(start.elapsed())
    }

    fn record_failure(
        &mut self,
        job: &Job,
        error: &str,
    ) -> std::result::Result<(), postgres::Error> {
        let t = self.table.sql();
        let v = literal(job.version);
        let q = match job.direction {
            Direction::Up => format!(
                "UPDATE {t} SET status = 'failed', error = {} WHERE version = {v}",
                literal(error)
            ),
            Direction::Down => format!(
                "UPDATE {t} SET status = 'failed', error = {} WHERE version = {v}",
                literal(&format!("down migration {} failed: {error}", job.filename))
            ),
        };
        sql::exec(self.client, &q)
    }
}

/// Makes the commits of a run durable after a failure: a tiny synchronous
/// commit flushes the WAL of every relaxed one before it.
pub fn flush(client: &mut Client) {
    let _ = sql::exec(client, "BEGIN; SELECT txid_current(); COMMIT");
}

/// The error for a migration's failed SQL: message, SQLSTATE, detail, hint,
/// and the line and column in the file. `prefix_chars` is how many
/// characters we sent before the file's text (`usize::MAX`: no position),
/// `offset` the character offset of the sent statement in the file.
pub fn sql_error(
    e: &postgres::Error,
    job: &Job,
    prefix_chars: usize,
    offset: usize,
    blockers: &[Blocker],
    transactional: bool,
) -> Error {
    if interrupt::received().is_some() {
        return interrupt::error().field("filename", job.filename);
    }
    let mut err = Error::new(Exit::Migration, "Migration failed")
        .cause(sql::message(e))
        .field("filename", job.filename)
        .field("version", job.version);
    let mut suggestion = if transactional {
        "Fix the SQL and re-run: the failed file was rolled back, nothing of it remains".to_string()
    } else {
        format!("The file ran outside a transaction, so statements before the failed one stay applied: fix the file (make it re-runnable), then run 'pg-migrate repair --filename {}' and re-run", job.up_filename)
    };
    if let Some(db) = e.as_db_error() {
        match db.position() {
            Some(ErrorPosition::Original(p)) if prefix_chars != usize::MAX => {
                let p = *p as usize;
                if let Some(idx) = p.checked_sub(1 + prefix_chars) {
                    if let Some(pos) = locate(job.content, idx + offset) {
                        err = err
                            .field("line", pos.line)
                            .field("column", pos.column)
                            .field("lineText", pos.text);
                    }
                }
            }
            Some(ErrorPosition::Internal { position, query }) => {
                err = err
                    .field("internalQuery", query.clone())
                    .field("internalPosition", *position);
            }
            _ => {}
        }
        err = err.field("sqlstate", db.code().code());
        if let Some(d) = db.detail() {
            err = err.field("detail", d);
        }
        if let Some(h) = db.hint() {
            err = err.field("hint", h);
        }
        if let Some(w) = db.where_() {
            err = err.field("where", w);
        }
        match db.code().code() {
            "55P03" => {
                if let Some(b) = blockers.first() {
                    err = err
                        .field("blockingPid", b.pid.parse::<i64>().ok())
                        .field("blockingApplicationName", b.application_name.clone())
                        .field("blockingState", b.state.clone())
                        .field("blockingQuery", b.query.clone());
                    suggestion = format!(
                        "Session {} ({}) holds a lock this migration needs: wait for it to finish or end it (SELECT pg_terminate_backend({})), then re-run",
                        b.pid, b.state, b.pid
                    );
                } else {
                    suggestion = "Another session holds a lock this migration needs: find it in pg_stat_activity / pg_locks, then re-run (or raise --lock-timeout)".into();
                }
            }
            "57014" => {
                suggestion = "The statement ran longer than --statement-timeout: raise it, or make the migration cheaper".into();
            }
            _ => {}
        }
    } else if e.is_closed() {
        suggestion = "The connection to the server was lost; check the server log, then run 'pg-migrate status'".into();
    }
    err.suggest(suggestion)
}
