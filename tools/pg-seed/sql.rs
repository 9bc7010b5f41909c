//! SQL seed files, executed as written (one simple-protocol batch), and the
//! mapping of a server error to the file's line and column. What `pg_dump`
//! writes beyond SQL (`COPY … FROM stdin` data, `\restrict` lines) is read
//! by the library's script reader; the SQL between COPY blocks still runs
//! as written.

use crate::discovery::SeedFile;
use pgkit::{interrupt, Error, Exit, Result};
use postgres::error::ErrorPosition;

/// Adds the server's error details to an error: `error`, `sqlstate`,
/// `detail`, `hint`.
pub fn with_db_error(mut err: Error, e: &postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) => {
            err = err
                .cause(d.message())
                .field("sqlstate", d.code().code().to_string());
            if let Some(detail) = d.detail() {
                err = err.field("detail", detail.to_string());
            }
            if let Some(hint) = d.hint() {
                err = err.field("hint", hint.to_string());
            }
            err
        }
        None => err.cause(e),
    }
}

/// A database error while generating rows (exit 4).
pub fn db_err(message: &str, e: &postgres::Error) -> Error {
    with_db_error(Error::new(Exit::Seed, message), e)
}

/// The database refused generated rows: the constraint and column it named.
pub fn rejected(table: &str, e: &postgres::Error) -> Error {
    if interrupt::received().is_some() {
        return interrupt::error();
    }
    let mut err = with_db_error(
        Error::new(Exit::Seed, "The database rejected the generated rows"),
        e,
    )
    .field("table", table.to_string());
    if let Some(d) = e.as_db_error() {
        if let Some(c) = d.column() {
            err = err.field("column", c.to_string());
        }
        if let Some(c) = d.constraint() {
            err = err.field("constraint", c.to_string());
        }
    }
    err.suggest("A constraint rejected a row: give the column a default, limit --columns, or seed it with a SQL file")
}

pub use pgkit::script::copy_write_failure;

/// The line and column (1-based, columns in characters) of a byte offset.
fn line_col_at(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn run_error(name: &str) -> Error {
    Error::new(Exit::Seed, "Seed failed").field("filename", name.to_string())
}

/// Adds `line` and `column` from the server's error position (characters
/// from the start of `text`, 1-based), when there is one.
fn with_position(err: Error, text: &str, e: &postgres::Error) -> (Error, bool) {
    match e.as_db_error().and_then(|d| d.position()) {
        Some(ErrorPosition::Original(p)) => {
            let byte = text
                .char_indices()
                .nth((*p as usize).saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(text.len());
            let (line, column) = line_col_at(text, byte);
            (err.field("line", line).field("column", column), true)
        }
        _ => (err, false),
    }
}

/// A SQL seed file's text as the server gets it (UTF-8, without a
/// byte-order mark), or why a run refuses it before it runs: not UTF-8
/// (65), or statements that control the transaction (65). `--dry-run`
/// calls this too, so that it refuses what a real run refuses.
pub fn load(file: &SeedFile) -> Result<()> {
    load_script(file).map(|_| ())
}

/// As [`load`], with the script cut into SQL and COPY pieces.
fn load_script(file: &SeedFile) -> Result<(String, pgkit::script::Script, bool)> {
    let bytes =
        std::fs::read(&file.path).map_err(|e| Error::io(Exit::Seed, "read", &file.path, &e))?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        Error::new(Exit::DataErr, "Seed file is not UTF-8")
            .cause(e)
            .field("filename", file.name.clone())
            .suggest("Save the SQL file as UTF-8")
    })?;
    // A UTF-8 byte-order mark is not SQL; the checksum still covers it.
    let bom = text.starts_with('\u{feff}');
    if bom {
        text.drain(..'\u{feff}'.len_utf8());
    }
    let script = pgkit::script::parse(&text).map_err(|r| {
        Error::new(Exit::DataErr, "Seed file has a psql meta-command pg-seed does not run")
            .cause(r.why)
            .field("filename", file.name.clone())
            .field("line", r.line)
            .field("command", r.command)
            .suggest("Remove it (pg-seed runs SQL and the COPY data of pg_dump files, and skips \\restrict / \\unrestrict), or load the file with psql")
    })?;
    let control = script.pieces.iter().find_map(|p| match p {
        pgkit::script::Piece::Sql(r) => {
            crate::statements::transaction_control(&text[r.clone()]).map(|a| r.start + a)
        }
        pgkit::script::Piece::Copy { .. } => None,
    });
    if let Some(at) = control {
        let (line, column) = line_col_at(&text, at);
        return Err(Error::new(Exit::DataErr, "Seed file controls the transaction")
            .cause("BEGIN, COMMIT, ROLLBACK and the like would end the run's transaction early, and a later failure could not undo the files before it")
            .field("filename", file.name.clone())
            .field("line", line)
            .field("column", column)
            .suggest(format!(
                "Remove the transaction statements from {}: pg-seed runs all files of a run, and their tracking rows, in one transaction",
                file.name
            )));
    }
    Ok((text, script, bom))
}

/// Executes a SQL seed file inside the run's transaction, in one batch. When
/// the server's error has no position (a constraint violation, a run-time
/// error), the file is rolled back to a savepoint and its statements re-run
/// one by one — still inside the transaction that will be rolled back — to
/// find the line of the one that fails.
pub fn apply(tx: &mut postgres::Transaction<'_>, file: &SeedFile) -> Result<()> {
    let (text, script, bom) = load_script(file)?;
    let text = std::sync::Arc::new(text);
    file.checksum.hash_loaded(text.clone(), bom);
    let text = text.as_str();
    tx.batch_execute("SAVEPOINT pg_seed_file")
        .map_err(|e| with_db_error(run_error(&file.name), &e))?;
    if !script.is_plain() {
        return apply_pieces(tx, file, text, &script);
    }
    let Err(e) = tx.batch_execute(text) else {
        // Every file starts from the run's session settings: a SET it made
        // (pg_dump output empties search_path) ends with it, as a re-run
        // runs only the pending files and could not repeat it anyway.
        return tx
            .batch_execute("RELEASE SAVEPOINT pg_seed_file; RESET ALL")
            .map_err(|e| with_db_error(run_error(&file.name), &e));
    };
    let (mut err, located) = with_position(with_db_error(run_error(&file.name), &e), text, &e);
    if !located && interrupt_free() {
        if let Some((line, column)) = locate(tx, text) {
            err = err.field("line", line).field("column", column);
        }
    }
    Err(err.suggest(format!(
        "Fix {} and run pg-seed again; nothing from this run was applied",
        file.name
    )))
}

/// Runs a script with COPY data or skipped `\restrict` lines piece by
/// piece: SQL as it is, COPY data streamed to the server; a bad data row is
/// named by its line in the file.
fn apply_pieces(
    tx: &mut postgres::Transaction<'_>,
    file: &SeedFile,
    text: &str,
    script: &pgkit::script::Script,
) -> Result<()> {
    use pgkit::script::Piece;
    let fail = |err: Error| {
        Err(err.suggest(format!(
            "Fix {} and run pg-seed again; nothing from this run was applied",
            file.name
        )))
    };
    for p in &script.pieces {
        match p {
            Piece::Sql(r) => {
                let part = &text[r.clone()];
                if let Err(e) = tx.batch_execute(part) {
                    let (mut err, located) =
                        with_position(with_db_error(run_error(&file.name), &e), part, &e);
                    if located {
                        // Positions count from the piece: move to the file.
                        let (line0, _) = line_col_at(text, r.start);
                        if let Some(pgkit_line) = err.fields.get("line").and_then(|v| v.as_u64()) {
                            err = err.field("line", line0 as u64 + pgkit_line - 1);
                        }
                    } else {
                        err = err.field(
                            "line",
                            line_col_at(text, r.start + part.len() - part.trim_start().len()).0,
                        );
                    }
                    return fail(err);
                }
            }
            Piece::Copy { statement, data } => {
                let sent = pgkit::script::copy_in(
                    tx,
                    &text[statement.clone()],
                    text[data.clone()].as_bytes(),
                );
                match sent {
                    Ok(()) => {}
                    Err(Ok(e)) => {
                        // The server says "COPY t, line N": row N of the
                        // data (counted only now: the data can be most of
                        // the file); else the COPY statement itself.
                        let line = match pgkit::script::copy_error_row(&e) {
                            Some(n) => line_col_at(text, data.start).0 + n - 1,
                            None => line_col_at(text, statement.start).0,
                        };
                        return fail(with_db_error(run_error(&file.name), &e).field("line", line));
                    }
                    Err(Err(e)) => return fail(run_error(&file.name).cause(e)),
                }
            }
        }
        if !interrupt_free() {
            return Err(pgkit::interrupt::error());
        }
    }
    tx.batch_execute("RELEASE SAVEPOINT pg_seed_file; RESET ALL")
        .map_err(|e| with_db_error(run_error(&file.name), &e))
}

fn interrupt_free() -> bool {
    pgkit::interrupt::received().is_none()
}

/// Re-runs the file's statements one by one after rolling back to the
/// file's savepoint; the line and column of the first that fails. A file of
/// one statement needs no re-run: that one failed.
fn locate(tx: &mut postgres::Transaction<'_>, text: &str) -> Option<(usize, usize)> {
    let statements = crate::statements::split(text);
    if let [only] = statements.as_slice() {
        return Some(line_col_at(text, only.first_token));
    }
    tx.batch_execute("ROLLBACK TO SAVEPOINT pg_seed_file")
        .ok()?;
    for s in statements {
        if let Err(e) = tx.batch_execute(&text[s.start..s.end]) {
            if let Some(ErrorPosition::Original(p)) = e.as_db_error().and_then(|d| d.position()) {
                let byte = text[s.start..s.end]
                    .char_indices()
                    .nth((*p as usize).saturating_sub(1))
                    .map(|(b, _)| s.start + b)
                    .unwrap_or(s.first_token);
                return Some(line_col_at(text, byte));
            }
            return Some(line_col_at(text, s.first_token));
        }
        if !interrupt_free() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_map_to_lines_and_columns() {
        let t = "SELECT 1;\n  é INSERT";
        assert_eq!(line_col_at(t, 0), (1, 1));
        assert_eq!(line_col_at(t, 12), (2, 3));
        assert_eq!(line_col_at(t, 15), (2, 5));
    }
}
