//! Statement boundaries in a SQL file, by PostgreSQL's lexical rules: the
//! one lexer pg-migrate and pg-seed share, to split a file that must run
//! statement by statement, to say on which line a failing statement starts,
//! to find statements that would end a transaction, and to tell whether a
//! file ends at top level (so that text sent after it cannot be swallowed).
//!
//! What can hide a `;`: '' strings (E'' with backslash escapes, and a string
//! continued on the next line keeps its mode, as the server's
//! `quotecontinue`), "" identifiers, `--` comments (ended by a line feed or
//! a carriage return) and nested /* */ comments, $tag$ dollar quotes (a `$`
//! after an identifier continues it: `a$b`, `x$$` are identifiers),
//! parentheses; and, as psql does, the SQL-standard function bodies of
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END`, whose `;`
//! do not end the statement (psql's heuristic: in such a statement, outside
//! parentheses, BEGIN opens a block, CASE inside one opens another, END
//! closes one).

/// One statement: its byte range (without the `;`) and the byte offset of
/// its first token (after any leading whitespace and comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// Just after the previous `;` (or 0).
    pub start: usize,
    /// The `;` ending it (or the end of the text).
    pub end: usize,
    /// Its first token.
    pub first_token: usize,
}

/// A file's statements, and whether it ends at top level: not inside a
/// quoted string or identifier, a dollar quote, a block comment or a
/// `BEGIN ATOMIC` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The statements that hold a token, in order.
    pub statements: Vec<Statement>,
    /// The text ends at top level.
    pub ends_clean: bool,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// A character that continues an identifier: the server allows `$` after
/// the first one.
fn is_ident_cont(b: u8) -> bool {
    is_ident(b) || b == b'$'
}

/// psql's tracking of `BEGIN ATOMIC … END` in one statement.
#[derive(Default)]
struct Blocks {
    /// The first letters of the statement's first four words when they are
    /// CREATE, OR, REPLACE, FUNCTION or PROCEDURE (0 otherwise).
    words: [u8; 4],
    count: usize,
    parens: usize,
    depth: usize,
}

impl Blocks {
    fn word(&mut self, w: &str) {
        let lower = w.to_ascii_lowercase();
        if self.count < self.words.len()
            && matches!(
                lower.as_str(),
                "create" | "function" | "procedure" | "or" | "replace"
            )
        {
            self.words[self.count] = lower.as_bytes()[0];
        }
        self.count += 1;
        let w = &self.words;
        let routine = w[0] == b'c'
            && (w[1] == b'f'
                || w[1] == b'p'
                || (w[1] == b'o' && w[2] == b'r' && (w[3] == b'f' || w[3] == b'p')));
        if routine && self.parens == 0 {
            match lower.as_str() {
                "begin" => self.depth += 1,
                "case" if self.depth >= 1 => self.depth += 1,
                "end" => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// Whether a `;` here ends the statement.
    fn at_top(&self) -> bool {
        self.parens == 0 && self.depth == 0
    }
}

/// Where a quoted string continues after its closing quote (the server's
/// `quotecontinue`): spaces, tabs and `--` comments, a line break, then any
/// whitespace and whole-line comments, then a quote. Returns that quote's
/// index.
fn continuation(b: &[u8], mut i: usize) -> Option<usize> {
    let n = b.len();
    let mut newline = false;
    while i < n {
        match b[i] {
            b'\n' | b'\r' => newline = true,
            b' ' | b'\t' | 0x0c | 0x0b => {}
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < n && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'\'' if newline => return Some(i),
            _ => return None,
        }
        i += 1;
    }
    None
}

/// The statements of `sql`, and whether it ends at top level.
pub fn scan(sql: &str) -> Scan {
    scan_until(sql, &mut |_, _| false)
}

/// As [`scan`], but stops after the first statement for which `stop` says
/// yes (it is the last one returned): a reader that must treat what follows
/// that statement differently (COPY data, a psql meta-command's line) lexes
/// only up to it.
pub fn scan_until(sql: &str, stop: &mut dyn FnMut(&str, &Statement) -> bool) -> Scan {
    let b = sql.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut first: Option<usize> = None;
    let mut blocks = Blocks::default();
    let mut clean = true;
    let mut i = 0usize;
    while i < n {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < n && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < n && depth > 0 {
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
                clean &= depth == 0;
                continue;
            }
            b';' if blocks.at_top() => {
                if let Some(f) = first.take() {
                    let s = Statement {
                        start,
                        end: i,
                        first_token: f,
                    };
                    out.push(s);
                    if stop(sql, &s) {
                        return Scan {
                            statements: out,
                            ends_clean: true,
                        };
                    }
                }
                blocks = Blocks::default();
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
                    && (i < 2 || !is_ident_cont(b[i - 2]));
                i += 1;
                let mut closed = false;
                while i < n {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
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
            }
            b'"' => {
                i += 1;
                let mut closed = false;
                while i < n {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
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
            }
            // A word swallows the `$`s that follow it, so a `$` reaching the
            // arm below starts a dollar quote or a parameter.
            c if is_ident_start(c) => {
                let from = i;
                while i < n && is_ident_cont(b[i]) {
                    i += 1;
                }
                blocks.word(&sql[from..i]);
            }
            // A number with the letters stuck to it (1e5, 0x1F); not a `$`:
            // `1$$…$$` is a number and a dollar quote to the server.
            c if c.is_ascii_digit() => {
                while i < n && is_ident(b[i]) {
                    i += 1;
                }
            }
            b'(' => {
                blocks.parens += 1;
                i += 1;
            }
            b')' => {
                blocks.parens = blocks.parens.saturating_sub(1);
                i += 1;
            }
            b'$' => {
                // $tag$ or $$; a tag does not start with a digit ($1 is a parameter).
                let mut j = i + 1;
                if j < n && is_ident_start(b[j]) {
                    while j < n && is_ident(b[j]) {
                        j += 1;
                    }
                }
                if j < n && b[j] == b'$' {
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(k) => i = j + 1 + k + tag.len(),
                        None => {
                            clean = false;
                            i = n;
                        }
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
            end: n,
            first_token: f,
        });
    }
    Scan {
        statements: out,
        ends_clean: clean && blocks.depth == 0,
    }
}

/// The statements of `sql`.
pub fn split(sql: &str) -> Vec<Statement> {
    scan(sql).statements
}

/// Whether a statement (from its first token) starts, ends or prepares the
/// transaction: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK (not
/// ROLLBACK TO a savepoint), ABORT, PREPARE TRANSACTION. Inside a tool's
/// transaction such a statement would commit part of the work apart from
/// the rest (or detach it, for PREPARE TRANSACTION).
pub fn controls_transaction(stmt: &str) -> bool {
    let words: Vec<String> = stmt
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
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

/// The byte offset of the first statement of `statements` (of `sql`) that
/// controls the transaction, if any.
pub fn first_transaction_control(sql: &str, statements: &[Statement]) -> Option<usize> {
    statements
        .iter()
        .find(|s| controls_transaction(&sql[s.first_token..s.end]))
        .map(|s| s.first_token)
}

/// The byte offset of the first top-level statement that controls the
/// transaction, if any.
pub fn transaction_control(sql: &str) -> Option<usize> {
    first_transaction_control(sql, &split(sql))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .iter()
            .map(|s| sql[s.first_token..s.end].trim_end())
            .collect()
    }

    fn ends_clean(sql: &str) -> bool {
        scan(sql).ends_clean
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
        assert_eq!(texts("  ;\n-- only a comment\n;;"), Vec::<&str>::new());
        assert_eq!(
            texts("SELECT a$b$c FROM t$; SELECT 2"),
            ["SELECT a$b$c FROM t$", "SELECT 2"]
        );
        // Offsets: the first token, after leading comments.
        let sql = "-- head\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n  SELECT 1;\n-- trailing\n";
        let s = split(sql);
        assert_eq!(s.len(), 2);
        assert_eq!(&sql[s[0].first_token..s[0].first_token + 6], "CREATE");
        assert_eq!(&sql[s[1].first_token..s[1].first_token + 8], "SELECT 1");
    }

    #[test]
    fn begin_atomic_bodies_are_one_statement_as_in_psql() {
        assert_eq!(
            texts("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT f();"),
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
                "SELECT f()"
            ]
        );
        assert_eq!(
            texts("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT f();"),
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END",
                "SELECT f()"
            ]
        );
        // OR REPLACE, PROCEDURE, CASE … END inside, nested BEGIN … END.
        let sql = "create or replace procedure p(a int)\nbegin atomic\n  insert into t values (case when a > 0 then a else 0 end);\n  select case a when 1 then 1 end;\nend;\nCALL p(1);";
        assert_eq!(texts(sql).len(), 2, "{:?}", texts(sql));
        assert_eq!(texts(sql)[1], "CALL p(1)");
        // A parameter named begin, CASE outside a body, and other statements
        // starting with CREATE are not blocks.
        assert_eq!(
            texts("CREATE FUNCTION g(begin int) RETURNS int RETURN 1; SELECT 3"),
            [
                "CREATE FUNCTION g(begin int) RETURNS int RETURN 1",
                "SELECT 3"
            ]
        );
        assert_eq!(
            texts("SELECT CASE WHEN true THEN 1 END; CREATE TABLE begin_x (v int); SELECT 4"),
            [
                "SELECT CASE WHEN true THEN 1 END",
                "CREATE TABLE begin_x (v int)",
                "SELECT 4"
            ]
        );
        // The block ends with its statement: the next one is split again.
        assert_eq!(
            texts("CREATE FUNCTION h() RETURNS int BEGIN ATOMIC SELECT 1; END; BEGIN; COMMIT"),
            [
                "CREATE FUNCTION h() RETURNS int BEGIN ATOMIC SELECT 1; END",
                "BEGIN",
                "COMMIT"
            ]
        );
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
        assert_eq!(
            transaction_control("CREATE TABLE a ();\nBEGIN;\nSELECT 1;\nCOMMIT;"),
            Some(19)
        );
        assert_eq!(transaction_control("select 1; commit"), Some(10));
        assert_eq!(transaction_control("START TRANSACTION; SELECT 1"), Some(0));
        // Found after a BEGIN ATOMIC body too (the server would run it).
        let sql = "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;\nCOMMIT;";
        assert_eq!(transaction_control(sql), sql.find("COMMIT"));
        for sql in [
            "SAVEPOINT s; INSERT INTO t VALUES (1); ROLLBACK TO SAVEPOINT s; RELEASE s",
            "ROLLBACK WORK TO s",
            "DO $$ BEGIN PERFORM 1; COMMIT; END $$;",
            "SELECT 'COMMIT'; -- COMMIT\n/* BEGIN; */",
            "CREATE TABLE begin_log (v int); INSERT INTO \"commit\" VALUES (1)",
            "-- begin\nCREATE TABLE begin_x (id int);",
            "PREPARE p AS SELECT 1; EXECUTE p",
            "CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END; CALL p()",
        ] {
            assert_eq!(transaction_control(sql), None, "{sql}");
        }
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
        // A number then a dollar quote.
        assert_eq!(
            texts("SELECT 1$$;$$; SELECT 2"),
            ["SELECT 1$$;$$", "SELECT 2"]
        );
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
}
