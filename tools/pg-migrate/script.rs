//! What `pg_dump` writes beyond SQL, in a migration (issue 14, item 4): a
//! schema or data dump used as a baseline carries `COPY … FROM stdin` data
//! blocks and, since pg_dump 15.14/16.10/17.6/18, `\restrict KEY` /
//! `\unrestrict KEY` lines. pgkit::script cuts such a file into SQL and COPY
//! pieces (psql's reading of it); the `\restrict` pair is skipped — psql
//! uses it to stop the dump's data from running meta-commands, and
//! pg-migrate runs none. Any other meta-command (`\i`, `\set`, `\connect`,
//! `\gexec`, …) would change what the file does in ways pg-migrate cannot
//! follow: the file is refused (65) before anything of the run happens.
//!
//! A file with pieces never shares a query string with another file: its
//! SQL pieces go as they are (all in its transaction), its COPY data is
//! streamed with the COPY protocol.

use pgkit::script::{Piece, Script};
use pgkit::{Error, Exit, Result};

/// The file's pieces when it has COPY data or skipped `\restrict` lines
/// (None for plain SQL); a meta-command pg-migrate does not run is 65.
pub fn load(filename: &str, content: &str) -> Result<Option<Script>> {
    let s = pgkit::script::parse(content).map_err(|r| {
        Error::new(
            Exit::DataErr,
            "Migration has a psql meta-command pg-migrate does not run",
        )
        .cause(r.why)
        .field("filename", filename)
        .field("line", r.line)
        .field("command", r.command)
        .suggest("Remove it: pg-migrate runs SQL and the COPY data of pg_dump files, and skips \\restrict / \\unrestrict; a file that needs psql must be run with psql")
    })?;
    Ok((!s.is_plain()).then_some(s))
}

/// The first statement controlling the transaction in the file's SQL
/// pieces (its byte offset), as [`crate::splitter::transaction_control`]
/// finds it in a plain file.
pub fn transaction_control(content: &str, script: &Script) -> Option<usize> {
    script.pieces.iter().find_map(|p| match p {
        Piece::Sql(r) => {
            crate::splitter::transaction_control(&content[r.clone()]).map(|a| r.start + a)
        }
        Piece::Copy { .. } => None,
    })
}

/// One step of running a file with pieces.
pub enum Step<'a> {
    /// SQL (one statement, or a whole SQL piece in a transaction) and its
    /// byte offset in the file.
    Sql { text: &'a str, at: usize },
    /// A COPY statement with its data, and the byte offsets of both.
    Copy {
        statement: &'a str,
        at: usize,
        data: &'a str,
        data_at: usize,
    },
}

/// The steps of a file: its SQL pieces whole (`statements` false: they run
/// in the file's transaction, one round trip each) or statement by
/// statement (a no-transaction file, or finding the one that fails), and
/// its COPY blocks. A file without pieces (`script` None) is one SQL piece.
pub fn steps<'a>(content: &'a str, script: Option<&Script>, statements: bool) -> Vec<Step<'a>> {
    let whole = [Piece::Sql(0..content.len())];
    let pieces = script.map_or(&whole[..], |s| &s.pieces[..]);
    let mut v = Vec::new();
    for p in pieces {
        match p {
            Piece::Sql(r) => {
                let text = &content[r.clone()];
                if statements {
                    for s in crate::splitter::split(text) {
                        v.push(Step::Sql {
                            text: s.text,
                            at: r.start + s.offset,
                        });
                    }
                } else if !text.trim().is_empty() {
                    v.push(Step::Sql { text, at: r.start });
                }
            }
            Piece::Copy { statement, data } => v.push(Step::Copy {
                statement: &content[statement.clone()],
                at: statement.start,
                data: &content[data.clone()],
                data_at: data.start,
            }),
        }
    }
    v
}

/// The 1-based line of a byte offset.
pub fn line_at(content: &str, at: usize) -> usize {
    content.as_bytes()[..at.min(content.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DUMP: &str = "\\restrict abc\nSET search_path = '';\nCREATE TABLE t (id int);\nCOPY public.t (id) FROM stdin;\n1\n2\n\\.\n\nSELECT 1;\n\\unrestrict abc\n";

    #[test]
    fn a_dump_becomes_sql_and_copy_steps() {
        let s = load("x.sql", DUMP).unwrap().unwrap();
        let steps = steps(DUMP, Some(&s), true);
        let kinds: Vec<String> = steps
            .iter()
            .map(|st| match st {
                Step::Sql { text, at } => format!("sql@{}:{}", line_at(DUMP, *at), text.trim()),
                Step::Copy {
                    statement, data, ..
                } => format!("copy:{statement}|{data}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "sql@2:SET search_path = ''",
                "sql@3:CREATE TABLE t (id int)",
                "copy:COPY public.t (id) FROM stdin|1\n2\n",
                "sql@9:SELECT 1"
            ]
        );
        assert_eq!(transaction_control(DUMP, &s), None);
    }

    #[test]
    fn plain_sql_has_no_pieces_and_meta_commands_are_refused() {
        assert!(load("x.sql", "CREATE TABLE t (id int);").unwrap().is_none());
        let e = load("x.sql", "SELECT 1;\n\\i other.sql\n").unwrap_err();
        assert_eq!(e.code, Exit::DataErr);
        assert_eq!(e.fields["line"], 2);
        assert_eq!(e.fields["filename"], "x.sql");
    }
}
