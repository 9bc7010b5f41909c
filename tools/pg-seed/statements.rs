//! Statement boundaries in a SQL file, used to say on which line a failing
//! statement starts when the server gives no error position, and to find
//! the statements that would end the run's transaction. The file itself is
//! always executed as written, in one batch.
//!
//! Knows PostgreSQL's lexical rules that can hide a `;`: '' strings (E''
//! with backslash escapes), "" identifiers, -- and nested /* */ comments,
//! $tag$ dollar quotes. A file with `BEGIN ATOMIC` bodies (whose `;` do not
//! end the statement) is not split.

/// One statement: its byte range (without the `;`) and the byte offset of
/// its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub start: usize,
    pub end: usize,
    pub first_token: usize,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The statements of `sql`, or None when the file cannot be split safely.
pub fn split(sql: &str) -> Option<Vec<Statement>> {
    if sql.to_ascii_uppercase().contains("BEGIN ATOMIC") {
        return None;
    }
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut first: Option<usize> = None;
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b';' => {
                if let Some(f) = first.take() {
                    out.push(Statement {
                        start,
                        end: i,
                        first_token: f,
                    });
                }
                start = i + 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() && first.is_none() {
            first = Some(i);
        }
        match c {
            b'\'' => {
                let escapes = i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e')
                    && (i < 2 || !is_ident(b[i - 2]));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'$' if i == 0 || !is_ident(b[i - 1]) => {
                // $tag$ or $$; a tag does not start with a digit ($1 is a parameter).
                let mut j = i + 1;
                if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_' || b[j] >= 0x80) {
                    while j < b.len() && is_ident(b[j]) {
                        j += 1;
                    }
                }
                if j < b.len() && b[j] == b'$' {
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(k) => i = j + 1 + k + tag.len(),
                        None => i = b.len(),
                    }
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    if let Some(f) = first {
        out.push(Statement {
            start,
            end: b.len(),
            first_token: f,
        });
    }
    Some(out)
}

/// Whether a statement (from its first token) starts, ends or prepares the
/// transaction: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK (not
/// ROLLBACK TO a savepoint), ABORT, PREPARE TRANSACTION. Inside pg-seed's
/// transaction a COMMIT would make the files before it permanent even when a
/// later one fails.
fn controls_transaction(stmt: &str) -> bool {
    let words: Vec<String> = stmt
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str);
    match w(0) {
        Some("BEGIN" | "START" | "COMMIT" | "END" | "ABORT") => true,
        Some("ROLLBACK") => w(1) != Some("TO") && w(2) != Some("TO"),
        Some("PREPARE") => w(1) == Some("TRANSACTION"),
        _ => false,
    }
}

/// The byte offset of the first top-level statement that controls the
/// transaction, if any. None also when the file cannot be split (a
/// `BEGIN ATOMIC` body): the server then has the last word.
pub fn transaction_control(sql: &str) -> Option<usize> {
    split(sql)?
        .into_iter()
        .find(|s| controls_transaction(&sql[s.first_token..s.end]))
        .map(|s| s.first_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .unwrap_or_default()
            .iter()
            .map(|s| sql[s.first_token..s.end].trim_end())
            .collect()
    }

    #[test]
    fn splits_where_psql_would() {
        assert_eq!(texts("SELECT 1; SELECT 2;\n"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(
            texts("-- a; b\nSELECT ';'; /* x; /* y; */ z; */ SELECT 2"),
            ["SELECT ';'", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT E'\\';'; SELECT 'it''s;'"),
            ["SELECT E'\\';'", "SELECT 'it''s;'"]
        );
        assert_eq!(texts("SELECT \"a;b\" FROM t;"), ["SELECT \"a;b\" FROM t"]);
        assert_eq!(
            texts("DO $$ BEGIN PERFORM 1; END $$; DO $f$ SELECT $$;$$ $f$;"),
            ["DO $$ BEGIN PERFORM 1; END $$", "DO $f$ SELECT $$;$$ $f$"]
        );
        assert_eq!(
            texts("PREPARE p AS SELECT $1; EXECUTE p(1)"),
            ["PREPARE p AS SELECT $1", "EXECUTE p(1)"]
        );
        assert_eq!(texts("  ;\n-- only a comment\n"), Vec::<&str>::new());
        assert!(split("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;").is_none());
    }

    #[test]
    fn finds_transaction_control() {
        for sql in [
            "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;",
            "begin transaction isolation level serializable; select 1",
            "START TRANSACTION; SELECT 1",
            "SELECT 1; /* x */ commit",
            "SELECT 1;\nEND",
            "SELECT 1; ROLLBACK",
            "SELECT 1; ABORT;",
            "SELECT 1; COMMIT AND CHAIN",
            "SELECT 1; PREPARE TRANSACTION 'x'",
        ] {
            assert!(transaction_control(sql).is_some(), "{sql}");
        }
        assert_eq!(transaction_control("SELECT 1;\n  COMMIT;"), Some(12));
        for sql in [
            "SAVEPOINT s; INSERT INTO t VALUES (1); ROLLBACK TO SAVEPOINT s; RELEASE s",
            "ROLLBACK WORK TO s",
            "DO $$ BEGIN PERFORM 1; COMMIT; END $$;",
            "SELECT 'COMMIT'; -- COMMIT\n/* BEGIN; */",
            "CREATE TABLE begin_log (v int); INSERT INTO \"commit\" VALUES (1)",
            "PREPARE p AS SELECT 1; EXECUTE p",
        ] {
            assert_eq!(transaction_control(sql), None, "{sql}");
        }
    }
}
