//! What `pg_dump` writes beyond SQL, read the way psql reads it: the data
//! of `COPY … FROM stdin` statements, which follows the statement up to a
//! line `\.`, and psql's meta-commands, which start with a backslash where a
//! statement would start.
//!
//! A script is cut into pieces: SQL to run as it is, and COPY statements
//! with their data. Of the meta-commands, `\restrict KEY` and `\unrestrict
//! KEY` (pg_dump 17.6+, 16.10+, 15.14+) are skipped: psql uses them to stop
//! a dump's data from running meta-commands, and pgkit runs none anyway.
//! Every other meta-command (`\i`, `\set`, `\connect`, `\gexec`, …) would
//! change what the file does in ways pgkit cannot follow: the script is
//! refused before anything runs, naming the line and the command.

use crate::statements;
use std::ops::Range;

/// One part of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// SQL to run as it is.
    Sql(Range<usize>),
    /// A `COPY … FROM stdin` statement (without its `;`) and its data
    /// (whole lines, without the closing `\.` line).
    Copy {
        statement: Range<usize>,
        data: Range<usize>,
    },
}

/// A script cut into pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub pieces: Vec<Piece>,
    /// Byte offsets of the `\restrict` / `\unrestrict` commands skipped
    /// (offsets, not lines: counting lines over a large dump costs).
    pub skipped: Vec<usize>,
}

impl Script {
    /// Whether the script is plain SQL: one piece covering the text.
    pub fn is_plain(&self) -> bool {
        self.skipped.is_empty() && self.pieces.iter().all(|p| matches!(p, Piece::Sql(_)))
    }
}

/// Why a script is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line.
    pub line: usize,
    /// The meta-command (`\i`), or what is wrong.
    pub command: String,
    pub why: String,
}

/// Line numbers of offsets that only grow: each byte is counted once (a
/// data-only dump is mostly lines, and it can be large).
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl Lines<'_> {
    fn of(&mut self, at: usize) -> usize {
        let at = at.min(self.text.len());
        if at < self.at {
            return self.text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        }
        self.line += self.text[self.at..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.at = at;
        self.line
    }
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |p| at + p + 1)
}

/// Whether a statement is `COPY … FROM STDIN` (data follows it).
fn copy_from_stdin(stmt: &str) -> bool {
    let words: Vec<String> = stmt
        .split_whitespace()
        .map(|w| w.trim_end_matches(';').to_ascii_lowercase())
        .collect();
    words.first().map(String::as_str) == Some("copy")
        && words.windows(2).any(|w| w[0] == "from" && w[1] == "stdin")
}

/// Cuts `text` into pieces, or refuses it.
pub fn parse(text: &str) -> Result<Script, Refusal> {
    let mut pieces = Vec::new();
    let mut skipped = Vec::new();
    let mut lines = Lines {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let mut pos = 0;
    // SQL gathered since the last cut.
    let mut sql_start = 0;
    'outer: while pos < text.len() {
        let rest = &text[pos..];
        // Lex only up to the next statement that needs other handling.
        let scan = statements::scan_until(rest, &mut |t, s| {
            t[s.first_token..].starts_with('\\') || copy_from_stdin(&t[s.first_token..s.end])
        });
        for s in &scan.statements {
            let first = pos + s.first_token;
            if text[first..].starts_with('\\') {
                // A meta-command: from the backslash to the end of its line.
                let end = line_end(text, first);
                let cmdline = text[first..end].trim_end();
                let command = cmdline
                    .split_whitespace()
                    .next()
                    .unwrap_or("\\")
                    .to_string();
                if command != "\\restrict" && command != "\\unrestrict" {
                    return Err(Refusal {
                        line: lines.of(first),
                        command,
                        why:
                            "psql meta-commands other than \\restrict and \\unrestrict are not run"
                                .into(),
                    });
                }
                if first > sql_start {
                    pieces.push(Piece::Sql(sql_start..first));
                }
                skipped.push(first);
                pos = end;
                sql_start = end;
                continue 'outer;
            }
            let stmt_end = pos + s.end;
            if copy_from_stdin(&text[first..stmt_end]) {
                if first > sql_start {
                    pieces.push(Piece::Sql(sql_start..first));
                }
                // (The data's line numbers are counted only for an error:
                // a data-only dump is mostly data.)
                let data_start = line_end(text, stmt_end);
                // The data ends at a line that is exactly `\.`: searched for
                // as a whole (the data can be most of a large file).
                let closes = |at: usize| {
                    let rest = &text[at + 2..];
                    rest.is_empty() || rest.starts_with('\n') || rest.starts_with("\r\n")
                };
                let data_end = if text[data_start..].starts_with("\\.") && closes(data_start) {
                    Some(data_start)
                } else {
                    // Backslashes are rare in COPY data (\N, escapes): look
                    // for them, then check for a line of its own.
                    let b = text.as_bytes();
                    let mut from = data_start;
                    loop {
                        match text[from..].find('\\') {
                            Some(p) => {
                                let at = from + p;
                                if b[at - 1] == b'\n' && b.get(at + 1) == Some(&b'.') && closes(at)
                                {
                                    break Some(at);
                                }
                                from = at + 1;
                            }
                            None => break None,
                        }
                    }
                };
                let Some(at) = data_end else {
                    return Err(Refusal {
                        line: lines.of(first),
                        command: "COPY".into(),
                        why: "the COPY data has no closing \\. line".into(),
                    });
                };
                let data_end = (at, line_end(text, at));
                pieces.push(Piece::Copy {
                    statement: first..stmt_end,
                    data: data_start..data_end.0,
                });
                pos = data_end.1;
                sql_start = pos;
                continue 'outer;
            }
        }
        break;
    }
    if sql_start < text.len() && !text[sql_start..].trim().is_empty() {
        pieces.push(Piece::Sql(sql_start..text.len()));
    }
    Ok(Script { pieces, skipped })
}

/// Why a write into a COPY failed: the server's error, found inside the I/O
/// error or delivered by ending the COPY; else the I/O error itself.
pub fn copy_write_failure(
    w: postgres::CopyInWriter<'_>,
    e: std::io::Error,
) -> Result<postgres::Error, std::io::Error> {
    if e.get_ref().is_some_and(|i| i.is::<postgres::Error>()) {
        if let Some(Ok(pg)) = e.into_inner().map(|i| i.downcast::<postgres::Error>()) {
            return Ok(*pg);
        }
        return Err(std::io::Error::other("COPY failed"));
    }
    match w.finish() {
        Err(pg) => Ok(pg),
        Ok(_) => Err(e),
    }
}

/// The data row a COPY error names: the server's context says "COPY t,
/// line N" (1-based, of the data).
pub fn copy_error_row(e: &postgres::Error) -> Option<usize> {
    let w = e.as_db_error()?.where_()?;
    let at = w.find(", line ")? + ", line ".len();
    w[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Streams a `COPY … FROM stdin` statement's data to the server in 4 MiB
/// writes. A failure is the server's error (`Ok` inside) or, when the
/// server said nothing, the I/O error.
pub fn copy_in(
    client: &mut impl postgres::GenericClient,
    statement: &str,
    data: &[u8],
) -> Result<(), Result<postgres::Error, std::io::Error>> {
    use std::io::Write;
    let mut w = client.copy_in(statement).map_err(Ok)?;
    let mut sent = 0;
    while sent < data.len() {
        let n = (data.len() - sent).min(4 << 20);
        if let Err(e) = w.write_all(&data[sent..sent + n]) {
            return Err(copy_write_failure(w, e));
        }
        sent += n;
    }
    w.finish().map(|_| ()).map_err(Ok)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn plain_sql_is_one_piece() {
        let t = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n";
        let s = parse(t).unwrap();
        assert!(s.is_plain());
        assert_eq!(s.pieces, vec![Piece::Sql(0..t.len())]);
    }

    #[test]
    fn copy_blocks_and_restrict_lines() {
        let t = "\\restrict abc123\nSET x = 1;\nCOPY public.t (a, b) FROM stdin;\n1\t'q;\n2\t\\N\n\\.\nSELECT 2;\n\\unrestrict abc123\n";
        let s = parse(t).unwrap();
        let lines: Vec<usize> = s
            .skipped
            .iter()
            .map(|&o| t[..o].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, vec![1, 8]);
        let kinds: Vec<String> = s
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(r) => format!("sql:{}", t[r.clone()].trim()),
                Piece::Copy { statement, data } => {
                    format!("copy:{}|{}", &t[statement.clone()], &t[data.clone()])
                }
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "sql:SET x = 1;".to_string(),
                "copy:COPY public.t (a, b) FROM stdin|1\t'q;\n2\t\\N\n".into(),
                "sql:SELECT 2;".into(),
            ]
        );
    }

    #[test]
    fn other_meta_commands_are_refused_with_their_line() {
        let r = parse("SELECT 1;\n\\i other.sql\n").unwrap_err();
        assert_eq!((r.line, r.command.as_str()), (2, "\\i"));
        let r = parse("\\connect db\n").unwrap_err();
        assert_eq!(r.command, "\\connect");
        let r = parse("COPY t FROM stdin;\n1\n").unwrap_err();
        assert_eq!(r.command, "COPY");
        // A backslash inside a string is no meta-command.
        assert!(parse("SELECT '\\i x';\n").unwrap().is_plain());
    }
}
