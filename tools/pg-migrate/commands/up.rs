//! `up`: apply pending migrations in order, each in its own transaction
//! (or all in one with --single-transaction), under the lock.

use crate::cli::{LockMode, UpArgs};
use crate::files::{self, cmp_version, Migration};
use crate::plan::{self, Entry};
use crate::sequence::{self, Pending};
use crate::session::{self, Session};
use crate::splitter;
use crate::tracking::Table;
use pgkit::cli::Summary;
use pgkit::{out, Error, Exit, Result};

/// Runs `up`.
pub fn run(a: &UpArgs) -> Result<Summary> {
    let dir = &a.common.dir;
    // --to is read in the folder's version order, known once it is listed.
    let to = |_: &[Migration]| -> Result<Option<String>> {
        a.to.as_deref()
            .map(|v| super::version_arg("--to", v))
            .transpose()
    };
    if a.dry_run {
        let files = files::discover(dir, a.common.layout)?;
        let to = to(&files)?;
        return dry_run(a, &files, to.as_deref());
    }
    let table = Table::parse(&a.common.table)?;
    // Connect while listing the directory (not with --wait: a bad file name
    // must not wait for the database), then read the history under the lock
    // while hashing the files. A file error wins, without waiting for the
    // connection attempt (its thread is left to end with the process).
    let (files, (settings, client)) = if a.common.wait {
        let files = files::discover(dir, a.common.layout)?;
        (files, session::connect(&a.common)?)
    } else {
        let common = a.common.clone();
        let h = std::thread::spawn(move || session::connect(&common));
        let files = files::discover(dir, a.common.layout)?;
        let conn = h
            .join()
            .unwrap_or_else(|_| Err(Error::new(Exit::Failure, "Connection thread failed")))?;
        (files, conn)
    };
    let to = to(&files)?;
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
        crate::dump::schema(
            &session.settings,
            &a.pg_dump,
            f,
            &session.table.dump_excludes(),
        )?;
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
    // What `up` would refuse, it refuses here too, with the same error.
    for e in &pending {
        if let Some(f) = &e.file {
            read_pending(&a.common.dir, f)?;
        }
    }
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

/// Reads a pending file and refuses, before anything runs, what `up` could
/// not run: not UTF-8, a psql meta-command (see [`crate::script`]), a
/// transaction statement in a transactional file.
pub fn read_pending<'a>(dir: &std::path::Path, f: &'a Migration) -> Result<Pending<'a>> {
    let files::Text {
        content,
        checksum,
        no_tx,
    } = files::read_up(dir, f)?;
    let Checked { script, clean } = check_text(&f.up, &content, no_tx)?;
    Ok(Pending {
        file: f,
        touches_session: crate::apply::may_touch_session(&content),
        content,
        checksum,
        no_tx,
        clean,
        script,
    })
}

/// What a migration's text allows, found before anything runs.
pub struct Checked {
    /// Its pieces (COPY data, `\restrict` lines).
    pub script: Option<pgkit::script::Script>,
    /// A transactional file that ends at top level and has no pieces:
    /// another file may follow it in a query string.
    pub clean: bool,
}

/// Checks an up or down migration's text: a psql meta-command, or a
/// transaction statement in a transactional file, is 65.
pub fn check_text(filename: &str, content: &str, no_tx: bool) -> Result<Checked> {
    let script = crate::script::load(filename, content)?;
    let mut clean = false;
    if !no_tx {
        let inspection = splitter::inspect(content);
        let control = match &script {
            Some(s) => crate::script::transaction_control(content, s),
            None => inspection.transaction_control,
        };
        refuse_transaction_control(filename, content, control)?;
        clean = inspection.ends_clean && script.is_none();
    }
    Ok(Checked { script, clean })
}

/// Within `--to` (repeatable scripts only without one).
fn within(e: &Entry, to: Option<&str>) -> bool {
    to.is_none_or(|t| {
        !crate::layout::is_repeatable(e.version) && !cmp_version(e.version, t).is_gt()
    })
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
    // Pending files, --to or not: what is left after the run is told.
    let all_pending = pending.len();
    let pending: Vec<&Entry> = pending.into_iter().filter(|e| within(e, to)).collect();
    // The schema's version: the newest versioned migration (a repeatable
    // script has none).
    let head = entries
        .iter()
        .filter(|e| e.row.is_some() && !crate::layout::is_repeatable(e.version))
        .map(|e| e.version)
        .max_by(|x, y| cmp_version(x, y));
    if pending.is_empty() {
        return Ok(Summary::ok("No pending migrations")
            .field("applied", 0)
            .field("version", head)
            .field("pending", all_pending));
    }
    // Read every pending file first: a missing or non-UTF-8 file fails
    // before anything runs.
    let mut jobs = Vec::with_capacity(pending.len());
    for e in &pending {
        let Some(f) = &e.file else { continue };
        jobs.push(read_pending(&a.common.dir, f)?);
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
    let lexer_agrees = setting(2).as_deref() == Some("on");
    // Several files per string only where a runner killed mid-file still
    // leaves that file uncommitted: PostgreSQL 14+, where the session's
    // client_connection_check_interval stops the string when we vanish.
    // Not in lease mode (for poolers, no such setting; and the lease is
    // checked before every file's COMMIT).
    let batching = setting(3).as_deref() == Some("t") && a.common.lock_mode != LockMode::Lease;
    let watcher = s.watcher(pid, &a.exec);
    let mut runner = s.runner(watcher.as_ref(), &a.exec)?;
    let opts = sequence::Options {
        sync_off,
        batching,
        lexer_agrees,
    };
    // At a terminal, with several files: files applied of the total.
    let total = jobs.len() as u64;
    let _progress = (total > 1)
        .then(|| pgkit::progress::Progress::items("Applying migrations", "files", Some(total)));
    let (applied, failure) = if a.single_transaction {
        (sequence::all_in_one(&mut runner, &jobs)?, None)
    } else {
        sequence::each(&mut runner, &jobs, opts)
    };
    // Files commit in order: the applied ones are the first.
    let last = jobs[..applied]
        .iter()
        .rev()
        .map(|j| j.file.version.as_str())
        .find(|v| !crate::layout::is_repeatable(v))
        .or(head);
    if let Some(e) = failure {
        if applied > 0 {
            crate::apply::flush(runner.client);
        }
        // (`version` is the failed file's; the schema's is `schemaVersion`.)
        return Err(e
            .field("applied", applied)
            .field("schemaVersion", last)
            .field("pending", all_pending - applied));
    }
    Ok(Summary::ok("Migrations applied")
        .field("applied", applied)
        .field("version", last)
        .field("pending", all_pending - applied))
}

/// A transactional file must not BEGIN or COMMIT itself (its tracking row
/// would commit apart from it): 65, naming the line.
/// `at` is [`splitter::transaction_control`]'s answer.
pub fn refuse_transaction_control(filename: &str, content: &str, at: Option<usize>) -> Result<()> {
    if let Some(at) = at {
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
