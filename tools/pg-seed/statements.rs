//! Statement boundaries in a SQL file, used to say on which line a failing
//! statement starts when the server gives no error position, and to find
//! the statements that would end the run's transaction. The file itself is
//! always executed as written, in one batch.
//!
//! Knows PostgreSQL's lexical rules that can hide a `;`: '' strings (E''
//! with backslash escapes), "" identifiers, -- and nested /* */ comments,
//! $tag$ dollar quotes, parentheses; and, as psql does, the SQL-standard
//! function bodies of `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC
//! … END`, whose `;` do not end the statement (psql's heuristic: in such a
//! statement, outside parentheses, BEGIN opens a block, CASE inside one
//! opens another, END closes one).

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

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
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

/// The statements of `sql`.
pub fn split(sql: &str) -> Vec<Statement> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut first: Option<usize> = None;
    let mut blocks = Blocks::default();
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
            b';' if blocks.at_top() => {
                if let Some(f) = first.take() {
                    out.push(Statement {
                        start,
                        end: i,
                        first_token: f,
                    });
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
            // A word (`$` continues one, as in the server's lexer); a
            // number with whatever sticks to it is no word.
            c if is_ident_start(c) || c.is_ascii_digit() => {
                let from = i;
                while i < b.len() && (is_ident(b[i]) || b[i] == b'$') {
                    i += 1;
                }
                if is_ident_start(c) {
                    blocks.word(&sql[from..i]);
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
    out
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
/// transaction, if any.
pub fn transaction_control(sql: &str) -> Option<usize> {
    split(sql)
        .into_iter()
        .find(|s| controls_transaction(&sql[s.first_token..s.end]))
        .map(|s| s.first_token)
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
        assert_eq!(
            texts("SELECT a$b$c FROM t$; SELECT 2"),
            ["SELECT a$b$c FROM t$", "SELECT 2"]
        );
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
        // Found after a BEGIN ATOMIC body too (the server would run it).
        let sql = "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;\nCOMMIT;";
        assert_eq!(transaction_control(sql), sql.find("COMMIT"));
        for sql in [
            "SAVEPOINT s; INSERT INTO t VALUES (1); ROLLBACK TO SAVEPOINT s; RELEASE s",
            "ROLLBACK WORK TO s",
            "DO $$ BEGIN PERFORM 1; COMMIT; END $$;",
            "SELECT 'COMMIT'; -- COMMIT\n/* BEGIN; */",
            "CREATE TABLE begin_log (v int); INSERT INTO \"commit\" VALUES (1)",
            "PREPARE p AS SELECT 1; EXECUTE p",
            "CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END; CALL p()",
        ] {
            assert_eq!(transaction_control(sql), None, "{sql}");
        }
    }
}
