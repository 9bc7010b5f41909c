//! Splitting a no-transaction file into statements, as psql would: honours
//! '…' strings (with '' escapes), E'…' strings (backslash escapes),
//! "identifiers", $tag$ dollar quotes $tag$, -- line comments, nested
//! /* block comments */, and SQL-standard function bodies
//! (`BEGIN ATOMIC … END`), whose semicolons do not end the statement.

/// The first-line marker that runs a file outside a transaction.
pub const NO_TRANSACTION: &str = "pg-migrate: no-transaction";

/// Whether the file's first line is `-- pg-migrate: no-transaction`.
pub fn is_no_transaction(sql: &str) -> bool {
    let first = sql.lines().next().unwrap_or("").trim();
    first
        .strip_prefix("--")
        .map(|r| {
            let r: String = r.split_whitespace().collect::<Vec<_>>().join(" ");
            r.eq_ignore_ascii_case(NO_TRANSACTION)
        })
        .unwrap_or(false)
}

/// One statement: its byte offset in the file and its text (without the
/// terminating semicolon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset of the statement's first byte in the file.
    pub offset: usize,
    /// The statement text.
    pub text: &'a str,
}

/// Splits `sql` into statements; statements that are only whitespace and
/// comments are dropped.
pub fn split<'a>(sql: &'a str) -> Vec<Statement<'a>> {
    scan(sql).0
}

/// Whether `sql` ends at top level: not inside a quoted string or
/// identifier, a dollar quote, a block comment or a `BEGIN ATOMIC` body.
/// Only such a file may share a query string with the files after it: an
/// unterminated quote would swallow their text.
#[cfg(test)]
pub fn ends_clean(sql: &str) -> bool {
    inspect(sql).ends_clean
}

/// What a transactional file's text says about how it may run, from one
/// pass of the lexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    /// The byte offset of its first BEGIN/COMMIT/… ([`transaction_control`]).
    pub transaction_control: Option<usize>,
    /// It ends at top level ([`ends_clean`]).
    pub ends_clean: bool,
}

/// Both answers about `sql`, lexing it once.
pub fn inspect(sql: &str) -> Inspection {
    let (statements, ends_clean) = scan(sql);
    Inspection {
        transaction_control: statements.iter().find_map(controls_transaction),
        ends_clean,
    }
}

/// The statements, and whether the text ends at top level.
fn scan<'a>(sql: &'a str) -> (Vec<Statement<'a>>, bool) {
    let b = sql.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut has_code = false;
    // Words seen at top level in the current statement (lowercased, first few
    // only matter) and BEGIN ATOMIC depth.
    let mut words: Vec<String> = Vec::new();
    let mut depth: u32 = 0;
    let mut prev_word = String::new();
    // Cleared while inside a construct that did not end before the text did.
    let mut clean = true;
    // The statement starts at its first code character (leading comments
    // are left out, so pg_stat_activity shows the statement itself).
    let push = |out: &mut Vec<Statement<'a>>, start: usize, end: usize, has_code: bool| {
        if has_code && start < end {
            out.push(Statement {
                offset: start,
                text: sql[start..end].trim_end(),
            });
        }
    };
    while i < n {
        let c = b[i];
        let comment =
            i + 1 < n && ((c == b'-' && b[i + 1] == b'-') || (c == b'/' && b[i + 1] == b'*'));
        if !has_code && !comment && !c.is_ascii_whitespace() {
            start = i;
        }
        match c {
            // A line comment ends at a line feed or a carriage return.
            b'-' if i + 1 < n && b[i + 1] == b'-' => {
                while i < n && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'/' if i + 1 < n && b[i + 1] == b'*' => {
                let mut level = 0;
                while i < n {
                    if b[i] == b'/' && i + 1 < n && b[i + 1] == b'*' {
                        level += 1;
                        i += 2;
                    } else if b[i] == b'*' && i + 1 < n && b[i + 1] == b'/' {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                clean &= level == 0;
                continue;
            }
            b'\'' => {
                has_code = true;
                let escapes = i > 0
                    && (b[i - 1] == b'e' || b[i - 1] == b'E')
                    && (i < 2 || !is_ident_cont(b[i - 2]));
                i += 1;
                let mut closed = false;
                while i < n {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if i + 1 < n && b[i + 1] == b'\'' {
                            i += 2;
                            continue;
                        }
                        // 'a'<newline>'b' is one string, in the same mode:
                        // E'x'<newline>'\'' goes on after the escaped quote.
                        if let Some(next) = continuation(b, i + 1) {
                            i = next + 1;
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    i += 1;
                }
                clean &= closed;
                i += 1;
                continue;
            }
            b'"' => {
                has_code = true;
                i += 1;
                let mut closed = false;
                while i < n {
                    if b[i] == b'"' {
                        if i + 1 < n && b[i + 1] == b'"' {
                            i += 2;
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    i += 1;
                }
                clean &= closed;
                i += 1;
                continue;
            }
            // An identifier swallows the `$`s that follow it (below), so a
            // `$` here starts a dollar quote or a parameter, as in the
            // server's lexer.
            b'$' => {
                // $tag$ … $tag$ (tag: letters, digits, _; not starting with a digit)
                let mut j = i + 1;
                while j < n && is_ident(b[j]) {
                    j += 1;
                }
                let tag_ok = j < n && b[j] == b'$' && (j == i + 1 || !b[i + 1].is_ascii_digit());
                if tag_ok {
                    has_code = true;
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(k) => i = j + 1 + k + tag.len(),
                        None => {
                            clean = false;
                            i = n;
                        }
                    }
                    continue;
                }
                has_code = true;
                i += 1;
                continue;
            }
            b';' if depth == 0 => {
                push(&mut out, start, i, has_code);
                i += 1;
                has_code = false;
                words.clear();
                prev_word.clear();
                continue;
            }
            // An identifier: a letter, `_` or a non-ASCII byte, then those,
            // digits and `$` (`a$b`, `x$$` are identifiers, not quotes).
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                has_code = true;
                let s = i;
                while i < n && is_ident_cont(b[i]) {
                    i += 1;
                }
                let w = sql[s..i].to_ascii_lowercase();
                let in_routine = words.first().is_some_and(|f| f == "create")
                    && words.iter().any(|x| x == "function" || x == "procedure");
                if in_routine {
                    if depth == 0 && prev_word == "begin" && w == "atomic" {
                        depth = 1;
                    } else if depth > 0 && (w == "case" || (w == "begin" && prev_word != "end")) {
                        depth += 1;
                    } else if depth > 0 && w == "end" {
                        depth -= 1;
                    }
                }
                if words.len() < 8 {
                    words.push(w.clone());
                }
                prev_word = w;
                continue;
            }
            _ => {
                if !c.is_ascii_whitespace() {
                    has_code = true;
                }
                i += 1;
            }
        }
    }
    push(&mut out, start, n.min(sql.len()), has_code);
    (out, clean && depth == 0)
}

/// The first top-level statement that ends or starts a transaction
/// (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT): a transactional
/// migration must not contain one, or its tracking row would commit apart
/// from it. Returns its byte offset.
pub fn transaction_control(sql: &str) -> Option<usize> {
    inspect(sql).transaction_control
}

/// The statement's offset when it starts or ends a transaction.
fn controls_transaction(st: &Statement) -> Option<usize> {
    let mut words = st
        .text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase);
    let first = words.next()?;
    let second = words.next();
    let hit = match first.as_str() {
        "begin" | "commit" | "end" | "abort" => true,
        "start" => second.as_deref() == Some("transaction"),
        // ROLLBACK TO SAVEPOINT stays inside the transaction.
        "rollback" => second.as_deref() != Some("to"),
        _ => false,
    };
    hit.then_some(st.offset)
}

/// Where a quoted string continues after its closing quote (the server's
/// `quotecontinue`): spaces, tabs and `--` comments, a line break, then any
/// whitespace and whole-line comments, then a quote. Returns that quote's
/// index.
fn continuation(b: &[u8], mut i: usize) -> Option<usize> {
    let n = b.len();
    let skip_comment = |i: &mut usize| {
        while *i < n && b[*i] != b'\n' && b[*i] != b'\r' {
            *i += 1;
        }
    };
    let mut newline = false;
    while i < n {
        match b[i] {
            b'\n' | b'\r' => newline = true,
            b' ' | b'\t' | 0x0c | 0x0b => {}
            b'-' if i + 1 < n && b[i + 1] == b'-' => {
                skip_comment(&mut i);
                continue;
            }
            b'\'' if newline => return Some(i),
            _ => return None,
        }
        i += 1;
    }
    None
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// A character that continues an identifier: PostgreSQL allows `$` after
/// the first one.
fn is_ident_cont(c: u8) -> bool {
    is_ident(c) || c == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn plain_statements_and_offsets() {
        let sql = "-- pg-migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n  SELECT 1;\n-- trailing\n";
        let s = split(sql);
        assert_eq!(s.len(), 2);
        assert_eq!(&sql[s[0].offset..s[0].offset + 6], "CREATE");
        assert_eq!(s[0].text, "CREATE INDEX CONCURRENTLY i ON t (a)");
        assert_eq!(&sql[s[1].offset..s[1].offset + 8], "SELECT 1");
        assert!(is_no_transaction(sql));
        assert!(is_no_transaction(
            "--pg-migrate:   no-transaction\r\nSELECT 1"
        ));
        assert!(!is_no_transaction(
            "SELECT 1;\n-- pg-migrate: no-transaction"
        ));
    }

    #[test]
    fn quotes_comments_dollars() {
        let sql = r#"INSERT INTO t VALUES ('a;b', 'it''s;', E'x\';y', "we;ird");
/* a; /* nested; */ still; */ SELECT $$;$$, $fn$ ; $$ ; $fn$;
SELECT 'tail' -- ; comment
;
SELECT $1, a$b FROM x;"#;
        let t = texts(sql);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(t[0].ends_with("\"we;ird\")"));
        assert!(
            t[1].starts_with("SELECT $$;$$") && t[1].ends_with("$fn$"),
            "{t:?}"
        );
        assert!(t[2].starts_with("SELECT 'tail'"));
        assert_eq!(t[3], "SELECT $1, a$b FROM x");
    }

    #[test]
    fn begin_atomic_bodies() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT f();";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("END; END"));
        assert_eq!(t[1], "SELECT f()");
    }

    #[test]
    fn transaction_control_statements() {
        assert_eq!(
            transaction_control("CREATE TABLE a ();\nBEGIN;\nSELECT 1;\nCOMMIT;"),
            Some(19)
        );
        assert_eq!(transaction_control("select 1; commit"), Some(10));
        assert_eq!(transaction_control("START TRANSACTION; SELECT 1"), Some(0));
        assert_eq!(
            transaction_control("SAVEPOINT s; ROLLBACK TO SAVEPOINT s;"),
            None
        );
        assert_eq!(
            transaction_control("DO $$ BEGIN PERFORM 1; END $$; SELECT 'commit';"),
            None
        );
        assert_eq!(
            transaction_control("-- begin\nCREATE TABLE begin_x (id int);"),
            None
        );
    }

    #[test]
    fn ends_clean_only_at_top_level() {
        for sql in [
            "CREATE TABLE t (id int);",
            "SELECT 'a''b', E'\\'', \"x\"\"y\" -- trailing comment",
            "DO $x$ BEGIN PERFORM 'it''s'; END $x$; /* a /* b */ c */",
            "SELECT 1 FROM x$$ WHERE a$b = 1",
            "SELECT 1$$body$$",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
            "",
        ] {
            assert!(ends_clean(sql), "{sql}");
        }
        for sql in [
            "SELECT 'open",
            "SELECT E'open\\'",
            "SELECT \"open",
            "DO $x$ BEGIN",
            "DO $$ BEGIN $x$",
            "/* open /* nested */",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;",
        ] {
            assert!(!ends_clean(sql), "{sql}");
        }
    }

    #[test]
    fn line_breaks_as_the_server_reads_them() {
        // A carriage return ends a line comment: the /* after it is open.
        assert!(!ends_clean("SELECT 1; -- note\r/* todo"));
        assert_eq!(texts("-- a\rSELECT 1;\rSELECT 2"), ["SELECT 1", "SELECT 2"]);
        // A string continued on the next line stays an escape string.
        assert!(!ends_clean("SELECT E'x'\n'\\' ';/*"));
        assert!(!ends_clean("SELECT E'x' -- c\n  -- d\n'\\'"));
        assert!(ends_clean("SELECT E'x'\n'\\''"));
        // Not continued without a line break between: a new plain string,
        // closed.
        assert!(ends_clean("SELECT E'x' '\\'"));
        assert_eq!(
            texts("SELECT 'a'\n  'b;c';SELECT 2"),
            ["SELECT 'a'\n  'b;c'", "SELECT 2"]
        );
    }

    #[test]
    fn dollars_in_identifiers_are_not_quotes() {
        // `x$$` is an identifier: the `;` after it ends the statement.
        assert_eq!(texts("SELECT x$$;SELECT 2"), ["SELECT x$$", "SELECT 2"]);
        assert_eq!(
            texts("SELECT é$$; SELECT $$a;b$$"),
            ["SELECT é$$", "SELECT $$a;b$$"]
        );
        // After `x$`, `E'…'` is not an escape string: the backslash is plain.
        assert_eq!(
            texts("SELECT x$E'\\'; SELECT 2"),
            ["SELECT x$E'\\'", "SELECT 2"]
        );
    }

    #[test]
    fn only_comments_is_nothing() {
        assert!(split("-- nothing\n/* here */\n;;\n").is_empty());
    }
}
