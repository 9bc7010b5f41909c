//! A migration's statements, by the lexer pg-migrate shares with pg-seed
//! ([`pgkit::statements`]: quotes, E'' strings, dollar quotes, comments,
//! `BEGIN ATOMIC` bodies as the server and psql read them): the
//! statements of a no-transaction file, and
//! what a transactional file's text allows.

use pgkit::statements;

/// One statement: its byte offset in the file and its text (without the
/// terminating semicolon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset of the statement's first token in the file (leading
    /// comments are left out, so pg_stat_activity shows the statement).
    pub offset: usize,
    /// The statement text.
    pub text: &'a str,
}

/// Splits `sql` into statements; statements that are only whitespace and
/// comments are dropped.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    statements::split(sql)
        .into_iter()
        .map(|s| Statement {
            offset: s.first_token,
            text: sql[s.first_token..s.end].trim_end(),
        })
        .collect()
}

/// What a transactional file's text says about how it may run, from one
/// pass of the lexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    /// The byte offset of its first statement that starts, ends or prepares
    /// a transaction ([`transaction_control`]).
    pub transaction_control: Option<usize>,
    /// It ends at top level: not inside a quoted string or identifier, a
    /// dollar quote, a block comment or a `BEGIN ATOMIC` body. Only such a
    /// file may share a query string with the files after it: an
    /// unterminated quote would swallow their text.
    pub ends_clean: bool,
}

/// Both answers about `sql`, lexing it once.
pub fn inspect(sql: &str) -> Inspection {
    let scan = statements::scan(sql);
    Inspection {
        transaction_control: statements::first_transaction_control(sql, &scan.statements),
        ends_clean: scan.ends_clean,
    }
}

/// The first top-level statement that starts, ends or prepares a
/// transaction (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
/// PREPARE TRANSACTION): a transactional migration must not contain one, or
/// its tracking row would commit apart from it. Returns its byte offset.
pub fn transaction_control(sql: &str) -> Option<usize> {
    statements::transaction_control(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_and_offsets() {
        let sql = "-- pg-migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n  SELECT 1;\n-- trailing\n";
        let s = split(sql);
        assert_eq!(s.len(), 2);
        assert_eq!(&sql[s[0].offset..s[0].offset + 6], "CREATE");
        assert_eq!(s[0].text, "CREATE INDEX CONCURRENTLY i ON t (a)");
        assert_eq!(s[1].text, "SELECT 1");
    }

    #[test]
    fn inspect_answers_both() {
        assert_eq!(
            inspect("SELECT 1; PREPARE TRANSACTION 'x'"),
            Inspection {
                transaction_control: Some(10),
                ends_clean: true
            }
        );
        assert_eq!(
            inspect("SELECT 'open"),
            Inspection {
                transaction_control: None,
                ends_clean: false
            }
        );
    }
}
