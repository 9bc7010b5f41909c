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
use crate::sql::{self, literal};
use crate::tracking::{Table, APPLIED, FAILED};
use crate::watch::{Blocker, Seen, Watcher};
use pgkit::conn::{Client, Settings};
use pgkit::{interrupt, Error, Exit, Result};
use postgres::error::ErrorPosition;
use postgres::SimpleQueryMessage;
use serde_json::json;
use std::collections::HashMap;
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
    /// Its pieces, when it has COPY data or `\restrict` lines (see
    /// [`crate::script`]): it then runs piece by piece, never batched.
    pub script: Option<&'a pgkit::script::Script>,
    /// Its text goes to the server in a query string of its own (a file
    /// with pieces, or one that ends inside a string or comment: nothing of
    /// ours may follow it, or the server's error would be about our SQL).
    pub alone: bool,
    /// Its text may change the session ([`may_touch_session`]): it gets
    /// the session reset after it.
    pub touches_session: bool,
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

/// What a failed batch committed.
#[derive(Debug, Default)]
pub struct Partial {
    /// Whether the file left open before the batch committed.
    pub prev_committed: bool,
    /// The durations (ms) of the batch's first files, which committed.
    pub done: Vec<u64>,
}

impl Partial {
    /// `prev` committed, nothing of the batch ran.
    fn committed() -> Partial {
        Partial {
            prev_committed: true,
            done: Vec::new(),
        }
    }
}

/// What a batch did: each file's duration (ms), and whether the server
/// still reads quotes as our lexer does (a migration may have turned
/// standard_conforming_strings off for the session).
#[derive(Debug)]
pub struct Batch {
    /// Milliseconds per file, measured on the server.
    pub ms: Vec<u64>,
    /// standard_conforming_strings is on at the end.
    pub lexer_agrees: bool,
}

/// What runs the files: the connection and the per-migration settings.
pub struct Runner<'a> {
    /// The connection.
    pub client: &'a mut Client,
    /// Its settings (to ask, after losing it, what committed).
    pub settings: &'a Settings,
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
    /// The column name of the tracking rows a batch returns ([`run_tag`]).
    pub tag: String,
    /// Session settings pg-migrate itself made (restored after each file's
    /// [`Runner::reset_sql`]).
    pub keep: &'static str,
    /// How many query strings have prepared the statement their files
    /// record their rows with ([`Runner::prepare_row_sql`]; each string's
    /// has a new name).
    pub row_stmts: u32,
}

/// What a file may leave in the session that a fresh connection does not
/// have, in two steps around its tracking row. Before it, what the row's SQL
/// must not see (the file's `search_path`, role, a temporary table named as
/// ours), sparing the settings the row reads (the batch guard, the duration
/// mark); after it, every other setting (`SET`, `set_config(…, false)`).
/// Not `DISCARD ALL`: it cannot run in a transaction block and would release
/// the advisory migration lock; not `DEALLOCATE ALL`: the client's own
/// prepared statements live on this connection. The file's timeouts go
/// first: the server applies `statement_timeout` to each statement of a
/// query string, so a file's `SET statement_timeout = 1` would otherwise
/// cancel pg-migrate's own statements after it (seen on a loaded machine).
const RESET_BEFORE_ROW: &str = "RESET statement_timeout;RESET lock_timeout;RESET idle_in_transaction_session_timeout;RESET search_path;SET SESSION AUTHORIZATION DEFAULT;RESET ROLE;DISCARD TEMP;";
const RESET_AFTER_ROW: &str = "RESET ALL;";

/// A transaction whose commit does not wait for the WAL flush.
const RELAXED: &str = "SET LOCAL synchronous_commit = off;";

/// Whether a file's text may leave session state behind: any of the words
/// that change it (`SET`/`RESET`/`set_config`, `TEMP`/`TEMPORARY`, `ROLE`,
/// `AUTHORIZATION`, `DISCARD`, `search_path`, `DEALLOCATE`), anywhere, in any case:
/// comments and strings included, so a miss costs only time. What it cannot
/// see is a file that changes the session only through a function defined
/// elsewhere (`SELECT my_setup()` calling `set_config(…, false)`; one
/// running `DEALLOCATE ALL` makes the string's rows fail with 26000, and
/// the files not committed run again one by one, rows written out).
pub fn may_touch_session(content: &str) -> bool {
    const WORDS: &[&[u8]] = &[
        b"set",
        b"reset",
        b"set_config",
        b"temp",
        b"temporary",
        b"role",
        b"authorization",
        b"discard",
        b"search_path",
        // Would drop the prepared statement of the tracking rows.
        b"deallocate",
    ];
    let b = content.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut i = 0;
    while i < b.len() {
        if !ident(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        let word = &b[start..i];
        if WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            return true;
        }
    }
    false
}

/// What restores `client_connection_check_interval` after `RESET ALL` (see
/// `Session::with`).
pub const KEEP_CHECK_INTERVAL: &str = "SELECT set_config('client_connection_check_interval', '100ms', false) WHERE current_setting('server_version_num')::int >= 140000;";

/// A column name for this run's tracking rows, told apart from the rows a
/// migration's own SELECTs return by a random part.
pub fn run_tag() -> String {
    format!("pg_migrate_{:016x}", rand::random::<u64>())
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

    /// `BEGIN` with the transaction's settings (`relaxed`: its commit
    /// skips the WAL flush, see [`Job::relaxed`]).
    fn begin_sql(&self, relaxed: bool) -> String {
        let relaxed = if relaxed { RELAXED } else { "" };
        format!("BEGIN;{relaxed}{}", self.settings_sql(true))
    }

    /// Back to a fresh connection's session after a file, around its
    /// tracking row `row` (see [`RESET_BEFORE_ROW`]), with pg-migrate's own
    /// settings again (`tx`: the transaction's `SET LOCAL`s, and the
    /// duration mark the next file's row reads). Inside the file's
    /// transaction, so a file that fails leaves its session state only until
    /// its ROLLBACK.
    /// A file that cannot have changed the session (see
    /// [`may_touch_session`]) gets its row alone: resetting after each of
    /// 1,000 small files costs a sixth of a run.
    pub fn reset_around(
        &self,
        touches_session: bool,
        row: &str,
        tx: bool,
        relaxed: bool,
    ) -> String {
        if !touches_session {
            // (A batched row sets the duration mark in its RETURNING.)
            return format!("{row};");
        }
        let mut s = format!("{RESET_BEFORE_ROW}{row};{RESET_AFTER_ROW}");
        if tx {
            if relaxed {
                s.push_str(RELAXED);
            }
            s.push_str(&self.settings_sql(true));
        }
        s.push_str(self.keep);
        if tx {
            s.push_str(&format!("SELECT {};", crate::tracking::MARK_SQL));
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
        if job.alone {
            return self.run_tx_steps(job, outer);
        }
        let prefix = if outer {
            String::new()
        } else {
            format!("{}\n", self.begin_sql(job.relaxed))
        };
        let batch = format!(
            "{prefix}{}\n;\n{}",
            job.content,
            self.reset_around(
                job.touches_session,
                &self.bookkeeping(job),
                true,
                job.relaxed && !outer
            )
        );
        let start = Instant::now();
        if let Some(w) = self.watcher {
            w.begin(job.filename, job.version);
        }
        let r = sql::exec(self.client, &batch);
        let seen = self.watcher.map(Watcher::end).unwrap_or_default();
        if let Err(e) = r {
            if !outer {
                let _ = sql::exec(self.client, "ROLLBACK");
            }
            return Err(sql_error(
                &e,
                job,
                prefix.chars().count(),
                0,
                seen.of(job.version),
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

    /// Runs a transactional file with COPY data or `\restrict` lines piece
    /// by piece in its transaction (see [`crate::script`]), then its row.
    fn run_tx_steps(&mut self, job: &Job, outer: bool) -> Result<Duration> {
        let start = Instant::now();
        if !outer {
            sql::exec(self.client, &self.begin_sql(job.relaxed))
                .map_err(|e| sql::fail("Cannot begin the transaction", &e))?;
        }
        let mut result = Ok(());
        for step in crate::script::steps(job.content, job.script, false) {
            result = interrupt::check()
                .map_err(|e| e.field("filename", job.filename))
                .and_then(|()| self.exec_step(job, &step, true).map_err(|(_, e)| e));
            if result.is_err() {
                break;
            }
        }
        let row = self.reset_around(
            job.touches_session,
            &self.bookkeeping(job),
            true,
            job.relaxed && !outer,
        );
        let result = result.and_then(|()| {
            sql::exec(self.client, &row).map_err(|e| {
                sql::fail("Cannot record the migration", &e).field("filename", job.filename)
            })
        });
        let result = result.and_then(|()| {
            if outer {
                return Ok(());
            }
            interrupt::check()
                .and_then(|_| self.lock.check())
                .map_err(|e| e.field("filename", job.filename))?;
            sql::exec(self.client, "COMMIT")
                .map_err(|e| sql_error(&e, job, usize::MAX, 0, &[], true))
        });
        if let Err(e) = result {
            if !outer {
                let _ = sql::exec(self.client, "ROLLBACK");
            }
            return Err(e);
        }
        Ok(start.elapsed())
    }

    /// `e` (the transactional `job`'s failure) with the line of the
    /// statement that fails, when the server gave no position
    /// ([`Runner::failing_statement`]).
    pub fn with_statement_line(&mut self, job: &Job, e: Error) -> Error {
        let e = self.with_dropped_table_hint(e);
        if e.code != Exit::Migration
            || e.fields.contains_key("line")
            || !e.fields.contains_key("sqlstate")
            || interrupt::received().is_some()
        {
            return e;
        }
        match self.failing_statement(job) {
            Some(pos) => e
                .field("line", pos.line)
                .field("column", pos.column)
                .field("lineText", pos.text),
            None => e,
        }
    }

    /// A file that dropped (or renamed) pg-migrate's own tracking table, as
    /// a project that once used another tool's `schema_migrations` may:
    /// its row then fails with 42P01 on that table. Say so.
    fn with_dropped_table_hint(&self, e: Error) -> Error {
        let quoted = format!("\"{}\"", self.table.name);
        let ours = e.fields.get("sqlstate").and_then(|s| s.as_str()) == Some("42P01")
            && e.error.as_deref().is_some_and(|m| m.contains(&quoted));
        if !ours {
            return e;
        }
        e.suggest(format!(
            "The migration drops or renames {}, pg-migrate's own tracking table (another tool's table of that name?): keep pg-migrate's history elsewhere with --table pgkit_migrations (MIGRATIONS_TABLE); nothing of this file remains",
            self.table.display()
        ))
    }

    /// Where a transactional file failed when the server's error had no
    /// position (a unique violation, a division by zero: run-time errors):
    /// the start of the statement that fails. A file of one statement needs
    /// nothing more; else its statements run again one by one in a
    /// transaction that is rolled back, each under a 5 s statement timeout
    /// and all within 15 s, so a slow file costs a bounded wait, not a
    /// second run.
    pub fn failing_statement(&mut self, job: &Job) -> Option<crate::position::Position> {
        use crate::script::Step;
        let steps = crate::script::steps(job.content, job.script, true);
        let at = |s: &Step| match s {
            Step::Sql { at, .. } | Step::Copy { at, .. } => *at,
        };
        let position = |s: &Step| locate(job.content, chars_before(job.content, at(s)));
        if let [only] = steps.as_slice() {
            return position(only);
        }
        let begin = format!(
            "BEGIN;{}SET LOCAL statement_timeout = '5s';",
            self.settings_sql(true)
        );
        sql::exec(self.client, &begin).ok()?;
        let started = Instant::now();
        let mut found = None;
        for s in &steps {
            if interrupt::received().is_some() || started.elapsed() > Duration::from_secs(15) {
                break;
            }
            let r = match s {
                Step::Sql { text, .. } => sql::exec(self.client, text).map_err(|_| ()),
                Step::Copy {
                    statement, data, ..
                } => pgkit::script::copy_in(&mut *self.client, statement, data.as_bytes())
                    .map_err(|_| ()),
            };
            if r.is_err() {
                found = position(s);
                break;
            }
        }
        let _ = sql::exec(self.client, "ROLLBACK");
        found
    }

    /// Runs one step of a file: SQL as it is, or a COPY and its data. On
    /// failure, the server's message (for a tracking row) and the error,
    /// with the file's line.
    fn exec_step(
        &mut self,
        job: &Job,
        step: &crate::script::Step,
        transactional: bool,
    ) -> std::result::Result<(), (String, Error)> {
        use crate::script::Step;
        if let Some(w) = self.watcher {
            w.begin(job.filename, job.version);
        }
        let r = match step {
            Step::Sql { text, .. } => sql::exec(self.client, text).map_err(Ok),
            Step::Copy {
                statement, data, ..
            } => pgkit::script::copy_in(&mut *self.client, statement, data.as_bytes()),
        };
        let seen = self.watcher.map(Watcher::end).unwrap_or_default();
        let Err(failure) = r else {
            return Ok(());
        };
        let e = match failure {
            Ok(e) => e,
            Err(io) => {
                let m = io.to_string();
                let err = Error::new(Exit::Migration, "Migration failed")
                    .cause(&m)
                    .field("filename", job.filename)
                    .field("version", job.version);
                return Err((m, err));
            }
        };
        let message = sql::message(&e);
        let err = match step {
            Step::Sql { at, .. } => sql_error(
                &e,
                job,
                0,
                chars_before(job.content, *at),
                seen.of(job.version),
                transactional,
            ),
            Step::Copy { at, data_at, .. } => {
                // A bad data row: "COPY t, line N" counts the data's lines.
                let line = match pgkit::script::copy_error_row(&e) {
                    Some(row) => crate::script::line_at(job.content, *data_at) + row - 1,
                    None => crate::script::line_at(job.content, *at),
                };
                sql_error(&e, job, usize::MAX, 0, &[], transactional).field("line", line)
            }
        };
        Err((message, err))
    }

    /// Runs transactional `jobs` (up, in order) in one query string and
    /// leaves the last one's transaction open: `COMMIT; BEGIN; …` between
    /// them, so each file still commits alone with its tracking row, and the
    /// caller passes the last as `prev` to the next call, whose string starts
    /// with its `COMMIT`, or ends it with [`Runner::commit`]. Only files that
    /// end at top level ([`splitter::inspect`]) may be followed by another
    /// in the string. Returns each file's duration in milliseconds (measured
    /// by the server, so per file even inside one string).
    ///
    /// Each file's transaction first sets a guard to its version, which its
    /// tracking row checks: should a file's text ever run on into the next
    /// file's (the server lexing it differently from us), the row of a file
    /// whose start was swallowed fails, and the string stops before the
    /// COMMIT that would keep it. (One setting for all: PostgreSQL 15 keeps
    /// its settings in a sorted array, so a new name per file would cost a
    /// sort per file.)
    ///
    /// On failure, says what committed: `prev`, and the first files of the
    /// batch. The server parses a whole string before running any of it, so
    /// if anything committed, the error is the first uncommitted file's own;
    /// if nothing did, a syntax error anywhere (or `prev`'s COMMIT failing)
    /// stopped it, and `prev` then the files are run again one by one, so
    /// that the error found is the right file's, at the right line.
    pub fn run_batch(
        &mut self,
        jobs: &[Job],
        prev: Option<&Job>,
    ) -> std::result::Result<Batch, (Error, Partial)> {
        let first = &jobs[0];
        if let Err(e) = interrupt::check() {
            // The previous file passed its checks: it commits, as it would
            // have before this one started.
            if let Some(p) = prev {
                self.commit(p).map_err(|e| (e, Partial::default()))?;
            }
            return Err((e.field("filename", first.filename), Partial::committed()));
        }
        // Prepared for two rows or more: for one, the INSERT as text costs
        // the same parse without the PREPARE and DEALLOCATE.
        let stmt = (executing(jobs) > 1).then(|| {
            self.row_stmts += 1;
            format!("{}_row{}", self.tag, self.row_stmts)
        });
        let (batch, starts) = self.batch_sql(jobs, prev.is_some(), stmt.as_deref());
        if let Some(w) = self.watcher {
            w.begin_batch(
                jobs.iter()
                    .map(|j| (j.filename.to_string(), j.version.to_string()))
                    .collect(),
            );
        }
        let r = self.client.simple_query(&batch);
        let seen = self.watcher.map(Watcher::end).unwrap_or_default();
        let msgs = match r {
            Ok(msgs) => msgs,
            Err(e) => return self.batch_failed(&e, jobs, prev, &starts, &seen),
        };
        let last = jobs.len() - 1;
        // Our rows among those the files' own SELECTs return: the column's
        // name is this run's, which no file can know.
        let ours: Vec<_> = msgs
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r)
                    if r.columns().first().map(|c| c.name()) == Some(self.tag.as_str()) =>
                {
                    Some(r)
                }
                _ => None,
            })
            .collect();
        let ms: Vec<u64> = ours
            .iter()
            .map(|r| r.get(0).and_then(|v| v.parse().ok()).unwrap_or(0))
            .collect();
        let lexer_agrees = ours.last().and_then(|r| r.get(1)) == Some("on");
        if ms.len() != jobs.len() {
            // Cannot happen when every file but the last ends at top level
            // (and the guard would have stopped the string); if it does, say
            // so loudly, with what committed, rather than go on.
            let _ = sql::exec(self.client, "ROLLBACK");
            let (prev_committed, done) = self.recorded(prev, jobs).unwrap_or_default();
            return Err((
                Error::new(
                    Exit::Failure,
                    "Internal error: a batch of migrations recorded the wrong number of rows",
                )
                .field("filename", jobs[done.len().min(last)].filename)
                .field("files", jobs.len())
                .field("rows", ms.len())
                .suggest("Run 'pg-migrate status' and 'pg-migrate verify', and report this"),
                Partial {
                    prev_committed,
                    done,
                },
            ));
        }
        if let Err(e) = interrupt::check().and_then(|_| self.lock.check()) {
            let _ = sql::exec(self.client, "ROLLBACK");
            let done = ms[..last].to_vec();
            return Err((
                e.field("filename", jobs[last].filename),
                Partial {
                    prev_committed: true,
                    done,
                },
            ));
        }
        Ok(Batch { ms, lexer_agrees })
    }

    /// The query string for [`Runner::run_batch`], and the character offset
    /// of each file's text in it (for the server's error position).
    ///
    /// With `stmt`, the string prepares the statement its files' rows use
    /// ([`Runner::prepare_row_sql`]) after `prev`'s COMMIT (so it cannot
    /// fail `prev`), and deallocates it after its last use. One per string, not one
    /// per connection: behind PgBouncer's transaction pooling (lease mode),
    /// the next string may reach another server connection, and a string
    /// is never split. A string that stops half-way leaves its statement
    /// until the connection closes; hence the new name each time.
    fn batch_sql(
        &self,
        jobs: &[Job],
        commit_prev: bool,
        stmt: Option<&str>,
    ) -> (String, Vec<usize>) {
        let settings = self.settings_sql(true);
        let mut batch = String::new();
        let mut chars = 0;
        let mut starts = Vec::with_capacity(jobs.len());
        let mut push = |batch: &mut String, piece: &str| {
            chars += piece.chars().count();
            batch.push_str(piece);
            chars
        };
        if commit_prev {
            push(&mut batch, "COMMIT;");
        }
        if let Some(name) = stmt {
            push(&mut batch, &self.prepare_row_sql(name));
        }
        // The files that execute it: those up to the first that may
        // deallocate it (its row, and those after it, are written out).
        // The last of them deallocates it.
        let mut executes = stmt;
        let mut left = executing(jobs);
        for (i, job) in jobs.iter().enumerate() {
            if i > 0 {
                push(&mut batch, "COMMIT;");
            }
            let relaxed = if job.relaxed { RELAXED } else { "" };
            // Only a file after another in the string can be swallowed.
            let guard = if i > 0 {
                format!("SET LOCAL {GUARD} = {};", literal(job.version))
            } else {
                String::new()
            };
            starts.push(push(
                &mut batch,
                &format!("BEGIN;{guard}{relaxed}{settings}\n"),
            ));
            push(&mut batch, job.content);
            let executed = executes.filter(|_| executes_row(job));
            let row = match executed {
                Some(name) => format!(
                    "EXECUTE {name}({}, {}, {}, {})",
                    literal(job.version),
                    literal(job.up_filename),
                    literal(job.checksum),
                    if i > 0 {
                        literal(job.version)
                    } else {
                        "NULL".into()
                    }
                ),
                None => self.bookkeeping_returning(job, i > 0),
            };
            push(
                &mut batch,
                &format!(
                    "\n;\n{}",
                    self.reset_around(job.touches_session, &row, true, job.relaxed)
                ),
            );
            if let Some(name) = executed {
                left -= 1;
                if left == 0 {
                    push(&mut batch, &format!("DEALLOCATE {name};"));
                    executes = None;
                }
            }
        }
        (batch, starts)
    }

    /// The PREPARE of the tracking row most batched files record with
    /// `EXECUTE name(version, filename, checksum, guard)`: the same INSERT
    /// and RETURNING as [`Runner::bookkeeping_returning`] (guard NULL: none),
    /// parsed and planned once per string instead of once per file, which
    /// was a quarter of the time of 1,000 small files.
    /// The parameters' types are the columns' (a legacy table's version
    /// may be a number), `$4`'s text.
    fn prepare_row_sql(&self, name: &str) -> String {
        format!(
            "PREPARE {name} AS {} RETURNING duration_ms AS {}, current_setting('standard_conforming_strings'), {}, CASE WHEN $4::text IS NULL OR current_setting('{GUARD}', true) = $4 THEN 0 ELSE ('{GUARD_ERROR} ' || $4 || ' did not start; running: ' || coalesce(current_setting('{GUARD}', true), ''))::int END;",
            self.table.insert_params_sql(),
            self.tag,
            crate::tracking::MARK_SQL,
        )
    }

    /// The tracking row's INSERT, returning its duration in milliseconds,
    /// whether the server still reads quotes as our lexer does, and its
    /// file's guard (an error if the file's start did not run).
    fn bookkeeping_returning(&self, job: &Job, guarded: bool) -> String {
        debug_assert_eq!(job.direction, Direction::Up);
        // The guard's error is a failed cast of a text that is not constant
        // (so not folded at plan time), raised only when the check fails.
        let v = literal(job.version);
        let guard = if guarded {
            format!(", CASE WHEN current_setting('{GUARD}', true) = {v} THEN 0 ELSE ('{GUARD_ERROR} ' || {v} || ' did not start; running: ' || coalesce(current_setting('{GUARD}', true), ''))::int END")
        } else {
            String::new()
        };
        // The next file's duration mark: here, or after the session reset
        // (`RESET ALL` clears it) for a file that gets one.
        let mark = if job.touches_session {
            String::new()
        } else {
            format!(", {}", crate::tracking::MARK_SQL)
        };
        format!(
            "{} RETURNING duration_ms AS {}, current_setting('standard_conforming_strings'){mark}{guard}",
            self.table
                .insert_sql(job.version, job.up_filename, job.checksum, APPLIED),
            self.tag,
        )
    }

    /// After a batch's error: what committed, whose error it is, and, when
    /// that cannot be told, the files not committed again one by one.
    fn batch_failed(
        &mut self,
        e: &postgres::Error,
        jobs: &[Job],
        prev: Option<&Job>,
        starts: &[usize],
        seen: &Seen,
    ) -> std::result::Result<Batch, (Error, Partial)> {
        let _ = sql::exec(self.client, "ROLLBACK");
        let Some((prev_committed, done)) = self.recorded(prev, jobs) else {
            return Err((in_doubt(e, prev, jobs), Partial::default()));
        };
        let ran = (prev.is_some() && prev_committed) || !done.is_empty();
        let at = error_offset(e).map(|p| starts.iter().rposition(|s| *s <= p).unwrap_or(0));
        // Not a file's own error: a guard (a file's start swallowed), the
        // string's PREPARE (before the first file's text), or its prepared
        // statement gone (a file dropped it in a way the word scan cannot
        // see). Each file not committed then runs alone, its row written out.
        let ours = is_guard_error(e)
            || error_offset(e).is_some_and(|p| p < starts[0])
            || e.as_db_error().is_some_and(|d| {
                d.code().code() == "26000" && d.message().contains(self.tag.as_str())
            });
        if ours {
            pgkit::log::debug(
                "Query string stopped by pg-migrate's own SQL: its files not committed run one by one",
                json!({"filename": jobs[done.len().min(jobs.len() - 1)].filename,
                       "error": sql::message(e)}),
            );
        } else if ran || (prev.is_none() && (jobs.len() == 1 || at == Some(0))) {
            let u = done.len().min(jobs.len() - 1);
            return Err((
                sql_error(e, &jobs[u], starts[u], 0, seen.of(jobs[u].version), true),
                Partial {
                    prev_committed,
                    done,
                },
            ));
        }
        if interrupt::received().is_some() {
            let f = jobs[done.len().min(jobs.len() - 1)].filename;
            return Err((
                interrupt::error().field("filename", f),
                Partial {
                    prev_committed,
                    done,
                },
            ));
        }
        // Nothing ran (a syntax error somewhere, or `prev`'s deferred
        // COMMIT), or the error was ours: `prev` if it did not commit, then
        // each file not committed, on its own.
        if let Some(p) = prev.filter(|_| !prev_committed) {
            self.run_tx(p, false).map_err(|e| (e, Partial::default()))?;
        }
        let mut out = done;
        let from = out.len();
        let mut lexer_agrees = true;
        for (i, job) in jobs.iter().enumerate().skip(from) {
            let before = (i > from).then(|| &jobs[i - 1]);
            match self.run_batch(std::slice::from_ref(job), before) {
                Ok(b) => {
                    out.extend(b.ms);
                    lexer_agrees = b.lexer_agrees;
                }
                Err((e, part)) => {
                    if before.is_some() && !part.prev_committed {
                        out.pop();
                    }
                    out.extend(part.done);
                    return Err((
                        e,
                        Partial {
                            prev_committed: true,
                            done: out,
                        },
                    ));
                }
            }
        }
        Ok(Batch {
            ms: out,
            lexer_agrees,
        })
    }

    /// Commits the transaction [`Runner::run_batch`] left open for `job`.
    pub fn commit(&mut self, job: &Job) -> Result<()> {
        if let Err(e) = sql::exec(self.client, "COMMIT") {
            let _ = sql::exec(self.client, "ROLLBACK");
            return Err(sql_error(&e, job, usize::MAX, 0, &[], true));
        }
        Ok(())
    }

    /// Whether `prev`'s tracking row is there (its transaction committed),
    /// and the durations of the first `jobs` whose rows are. A row counts
    /// only with this run's checksum: a Flyway repeatable script run again
    /// replaces its previous row, which is there whether or not the new run
    /// committed. When the connection is gone, asks on a new one; `None`
    /// when that fails too.
    fn recorded(&mut self, prev: Option<&Job>, jobs: &[Job]) -> Option<(bool, Vec<u64>)> {
        let versions: Vec<String> = prev
            .into_iter()
            .chain(jobs)
            .map(|j| literal(j.version))
            .collect();
        let q = format!(
            "SELECT version, coalesce(duration_ms, 0), checksum FROM {} WHERE version IN ({})",
            self.table.sql(),
            versions.join(", ")
        );
        let rows = match sql::query(self.client, &q) {
            Ok(rows) => rows,
            Err(_) if self.client.is_closed() => {
                let mut c = self.settings.connect().ok()?;
                sql::query(&mut c, &q).ok()?
            }
            Err(_) => return None,
        };
        let found: HashMap<String, (u64, String)> = rows
            .into_iter()
            .filter_map(|r| {
                let mut r = r.into_iter();
                let v = r.next().flatten()?;
                let ms = r.next().flatten().and_then(|m| m.parse().ok()).unwrap_or(0);
                Some((v, (ms, r.next().flatten().unwrap_or_default())))
            })
            .collect();
        let ran = |j: &Job| {
            found
                .get(j.version)
                .filter(|(_, sum)| sum == j.checksum)
                .map(|(ms, _)| *ms)
        };
        let prev_committed = prev.is_some_and(|p| ran(p).is_some());
        let done = jobs.iter().map_while(ran).collect();
        Some((prev_committed, done))
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
        let reset = format!("{RESET_BEFORE_ROW}{RESET_AFTER_ROW}{}", self.keep);
        let reset = reset.as_str();
        let steps = crate::script::steps(job.content, job.script, true);
        for step in &steps {
            if let Err(e) = interrupt::check() {
                let _ = sql::exec(self.client, reset);
                let _ = self.record_failure(job, "interrupted");
                return Err(e.field("filename", job.filename));
            }
            if let Err((message, err)) = self.exec_step(job, step, false) {
                // Reset first: the failure's row must not depend on the
                // file's search_path.
                let _ = sql::exec(self.client, reset);
                let _ = self.record_failure(job, &message);
                return Err(err);
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
        sql::exec(self.client, &format!("{reset}{done}")).map_err(|e| {
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

/// How many of a string's files record their rows with its prepared
/// statement: those it may serve ([`executes_row`]) before the first file
/// that may drop it.
fn executing(jobs: &[Job]) -> usize {
    jobs.iter()
        .take_while(|j| !j.touches_session)
        .filter(|j| executes_row(j))
        .count()
}

/// Whether a batched file records its row with the prepared statement: an
/// up file that cannot have touched the session (which the statement's
/// literal twin resets around), and not a repeatable script (whose row
/// replaces its previous one).
fn executes_row(job: &Job) -> bool {
    job.direction == Direction::Up
        && !job.touches_session
        && !crate::layout::is_repeatable(job.version)
}

/// The 0-based character offset of a server error's position in the
/// query string, when it has one.
fn error_offset(e: &postgres::Error) -> Option<usize> {
    match e.as_db_error()?.position()? {
        ErrorPosition::Original(p) => (*p as usize).checked_sub(1),
        ErrorPosition::Internal { .. } => None,
    }
}

/// The setting a file's transaction sets first (to its version) and its
/// tracking row checks.
const GUARD: &str = "pg_migrate.file";

/// The start of the guard's error text.
const GUARD_ERROR: &str = "pg-migrate guard: the file of version";

/// Whether the error is a tracking row's guard: its file's start never ran.
fn is_guard_error(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code().code() == "22P02" && d.message().contains(GUARD_ERROR))
}

/// The connection was lost during a batch and could not be re-opened to ask
/// what committed: each file either committed whole with its row or left
/// nothing, and the run cannot tell which.
fn in_doubt(e: &postgres::Error, prev: Option<&Job>, jobs: &[Job]) -> Error {
    let files: Vec<&str> = prev.into_iter().chain(jobs).map(|j| j.filename).collect();
    Error::new(Exit::Migration, "Migration outcome unknown")
        .cause(sql::message(e))
        .field("filenames", files)
        .suggest("The connection was lost while these files ran: each either committed whole with its tracking row or left nothing. Run 'pg-migrate status' to see which, then re-run")
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
                    } else if db.code().code() == "42601" {
                        // Past the file's end, in what pg-migrate sent after
                        // it: the file's last statement is unfinished. Say
                        // so in the file's terms, not about our SQL.
                        err.error = Some(
                            "syntax error at end of the file: its last statement is unfinished"
                                .into(),
                        );
                        if let Some(last) = crate::splitter::split(job.content).last() {
                            if let Some(pos) =
                                locate(job.content, chars_before(job.content, last.offset))
                            {
                                err = err
                                    .field("line", pos.line)
                                    .field("column", pos.column)
                                    .field("lineText", pos.text);
                            }
                        }
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
            // CREATE INDEX CONCURRENTLY and the like in a transactional file.
            "25001" if transactional => {
                suggestion = "This statement cannot run inside a transaction: mark the file with a leading '-- pg-migrate: no-transaction' comment (or its tool's marker); a golang-migrate folder runs every file that way with --layout golang-migrate".into();
            }
            _ => {}
        }
    }
    let lost = e.is_closed() || sql::sqlstate(e).is_some_and(|c| c.starts_with("57P"));
    if lost {
        suggestion = if transactional {
            "The connection to the server was lost, and the file's transaction with it (nothing of it remains): check the server log, then re-run".into()
        } else {
            "The connection to the server was lost; check the server log, then run 'pg-migrate status'".into()
        };
    }
    err.suggest(suggestion)
}

#[cfg(test)]
mod tests {
    use super::may_touch_session;

    #[test]
    fn session_words_are_found_as_words_only() {
        for touches in [
            "SET search_path = other;",
            "select pg_catalog.set_config('search_path', '', false);",
            "CREATE TEMP TABLE x (id int);",
            "create temporary table x (id int);",
            "Set Role admin;",
            "SET SESSION AUTHORIZATION DEFAULT",
            "RESET ALL",
            "DISCARD TEMP",
            "ALTER TABLE t ALTER c SET NOT NULL", // a miss costs only time
        ] {
            assert!(may_touch_session(touches), "{touches}");
        }
        for clean in [
            "CREATE TABLE t_00001 (id int);",
            "CREATE TABLE settings (temperature int, roles text[]);",
            "INSERT INTO dataset VALUES (1);",
            "",
        ] {
            assert!(!may_touch_session(clean), "{clean}");
        }
    }
}
