//! CSV seed files: `COPY table (header columns) FROM STDIN (FORMAT csv,
//! HEADER)`, streamed from the file in large chunks (never read whole). Only
//! the header record is parsed here, to name the columns; the server parses
//! the rest, and its errors are mapped back to the file's line.

use crate::discovery::SeedFile;
use crate::ident::{self, QualifiedName};
use crate::sql::with_db_error;
use pgkit::{interrupt, Error, Exit, Result};
use std::io::{BufRead, BufReader, Read, Write};

const CHUNK: usize = 256 * 1024;
const MAX_HEADER: usize = 1024 * 1024;

fn malformed(file: &SeedFile, what: &str) -> Error {
    Error::new(Exit::DataErr, "Malformed CSV")
        .cause(what.to_string())
        .field("filename", file.name.clone())
}

/// Parses the header record: fields separated by `,`, optionally quoted
/// with `"` (`""` inside quotes is a quote), ending at a newline outside
/// quotes. Returns the column names.
pub fn parse_header(bytes: &[u8]) -> std::result::Result<Vec<String>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut fields: Vec<Vec<u8>> = vec![Vec::new()];
    let mut quoted = false;
    let mut i = 0;
    let mut ended = false;
    while i < bytes.len() {
        let b = bytes[i];
        let cur = fields.last_mut().ok_or("empty")?;
        if quoted {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                cur.push(b);
            }
        } else {
            match b {
                b'"' => quoted = true,
                b',' => fields.push(Vec::new()),
                b'\n' => {
                    ended = true;
                    break;
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\n') || i + 1 == bytes.len() => {}
                _ => cur.push(b),
            }
        }
        i += 1;
    }
    if quoted {
        return Err("the header has an unterminated quoted field".into());
    }
    if !ended && bytes.is_empty() {
        return Err("the file is empty: the first line must name the columns".into());
    }
    let mut names = Vec::with_capacity(fields.len());
    for (n, f) in fields.into_iter().enumerate() {
        let name =
            String::from_utf8(f).map_err(|_| format!("header field {} is not UTF-8", n + 1))?;
        if name.is_empty() {
            return Err(format!("header field {} is empty", n + 1));
        }
        if names.contains(&name) {
            return Err(format!("the header names column {name:?} twice"));
        }
        names.push(name);
    }
    Ok(names)
}

/// Reads just the header record of a CSV file.
fn read_header(file: &SeedFile) -> Result<Vec<String>> {
    let f = std::fs::File::open(&file.path)
        .map_err(|e| Error::io(Exit::Seed, "open", &file.path, &e))?;
    let mut r = BufReader::new(f);
    let mut head = Vec::new();
    // Read line by line until the quotes balance (a header may, in theory,
    // hold a quoted newline).
    loop {
        let n = r
            .by_ref()
            .take((MAX_HEADER - head.len()) as u64)
            .read_until(b'\n', &mut head)
            .map_err(|e| Error::io(Exit::Seed, "read", &file.path, &e))?;
        let quotes = head.iter().filter(|b| **b == b'"').count();
        if n == 0 || quotes % 2 == 0 || head.len() >= MAX_HEADER {
            break;
        }
    }
    parse_header(&head).map_err(|w| {
        malformed(file, &w)
            .field("line", 1)
            .suggest("The first line of a CSV seed names the table's columns, comma-separated")
    })
}

/// The physical line (1-based) where the CSV record that ends on physical
/// line `end` starts. The server's "COPY t, line N" counts physical lines,
/// newlines inside quoted fields included, up to the end of the record it
/// rejects; a person wants the line the record starts on.
pub fn record_start_line(path: &std::path::Path, end: u64) -> Option<u64> {
    let f = std::fs::File::open(path).ok()?;
    let mut r = BufReader::with_capacity(CHUNK, f);
    let mut line = 1u64;
    let mut start = 1u64;
    let mut quoted = false;
    loop {
        let buf = r.fill_buf().ok()?;
        if buf.is_empty() {
            return Some(start);
        }
        let n = buf.len();
        for &b in buf {
            match b {
                b'"' => quoted = !quoted,
                b'\n' => {
                    if !quoted {
                        if line >= end {
                            return Some(start);
                        }
                        start = line + 1;
                    }
                    line += 1;
                }
                _ => {}
            }
        }
        r.consume(n);
    }
}

/// `COPY t, line 3, column age: "x"` → (3, Some("age")).
fn copy_context(where_: &str) -> Option<(u64, Option<String>)> {
    let at = where_.find(", line ")?;
    let rest = &where_[at + 7..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n = digits.parse().ok()?;
    let rest = &rest[digits.len()..];
    let column = rest
        .strip_prefix(", column ")
        .map(|c| c.split(':').next().unwrap_or(c).to_string());
    Some((n, column))
}

fn copy_error(file: &SeedFile, table: &QualifiedName, e: &postgres::Error) -> Error {
    let Some(d) = e.as_db_error() else {
        return with_db_error(
            Error::new(Exit::Seed, "Seed failed").field("filename", file.name.clone()),
            e,
        );
    };
    let state = d.code().code();
    let (code, message, suggestion) = match state {
        "42703" => (
            Exit::DataErr,
            "CSV header names an unknown column",
            format!(
                "Fix the header of {} to name columns of {}",
                file.name,
                table.display()
            ),
        ),
        "42701" => (
            Exit::DataErr,
            "CSV header names a column twice",
            format!("Fix the header of {}", file.name),
        ),
        "42P01" | "3F000" => (
            Exit::Seed,
            "CSV target table does not exist",
            format!(
                "Create {} in a migration or an earlier seed file, or rename {}",
                table.display(),
                file.name
            ),
        ),
        "22P04" => (
            Exit::DataErr,
            "Malformed CSV",
            format!(
                "Fix the row in {} (each row needs one value per header column)",
                file.name
            ),
        ),
        s if s.starts_with("22") => (
            Exit::DataErr,
            "Bad value in CSV",
            format!(
                "Fix the value in {}: it must be valid for the column's type",
                file.name
            ),
        ),
        s if s.starts_with("23") => (
            Exit::Seed,
            "CSV row violates a constraint",
            format!("Fix the row in {} or the data it conflicts with", file.name),
        ),
        _ => (
            Exit::Seed,
            "Seed failed",
            format!(
                "Fix {} and run pg-seed again; nothing from this run was applied",
                file.name
            ),
        ),
    };
    let mut err = with_db_error(
        Error::new(code, message)
            .field("filename", file.name.clone())
            .field("table", table.display()),
        e,
    );
    if matches!(state, "42703" | "42701") {
        // The header is the file's first line.
        err = err.field("line", 1);
    }
    if let Some((end, column)) = d.where_().and_then(copy_context) {
        let line = record_start_line(&file.path, end).unwrap_or(end);
        err = err.field("line", line);
        if line != end {
            err = err.field("endLine", end);
        }
        if let Some(c) = column {
            err = err.field("csvColumn", c);
        }
    }
    err.suggest(suggestion)
}

/// Loads a CSV file into its table; returns the rows loaded.
pub fn apply(
    tx: &mut postgres::Transaction<'_>,
    file: &SeedFile,
    table: &QualifiedName,
) -> Result<u64> {
    let columns = read_header(file)?;
    let list: Vec<String> = columns.iter().map(|c| ident::quote(c)).collect();
    let stmt = format!(
        "COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)",
        table.sql(),
        list.join(", ")
    );
    let mut f = std::fs::File::open(&file.path)
        .map_err(|e| Error::io(Exit::Seed, "open", &file.path, &e))?;
    let mut w = tx.copy_in(&stmt).map_err(|e| copy_error(file, table, &e))?;
    let size = f.metadata().ok().map(|m| m.len());
    let progress = pgkit::progress::Progress::csv_rows(&format!("Loading {}", file.name), size);
    let mut buf = vec![0u8; CHUNK];
    loop {
        if let Err(e) = interrupt::check() {
            drop(w);
            return Err(e);
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                drop(w);
                return Err(Error::io(Exit::Seed, "read", &file.path, &e));
            }
        };
        if let Err(e) = w.write_all(&buf[..n]) {
            return Err(match crate::sql::copy_write_failure(w, e) {
                Ok(pg) => copy_error(file, table, &pg),
                Err(e) => Error::new(Exit::Seed, "Seed failed")
                    .cause(e)
                    .field("filename", file.name.clone()),
            });
        }
        progress.feed(&buf[..n]);
    }
    if let Err(e) = interrupt::check() {
        drop(w);
        return Err(e);
    }
    w.finish().map_err(|e| copy_error(file, table, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            parse_header(b"a,b,c\n1,2,3\n"),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            parse_header(b"\xEF\xBB\xBFid,\"Full Name\"\r\n"),
            Ok(vec!["id".into(), "Full Name".into()])
        );
        assert_eq!(
            parse_header(b"\"a\"\"b\",c"),
            Ok(vec!["a\"b".into(), "c".into()])
        );
        assert!(parse_header(b"").is_err());
        assert!(parse_header(b"a,,b\n").is_err());
        assert!(parse_header(b"a,a\n").is_err());
        assert!(parse_header(b"\"a,b\n").is_err());
    }

    #[test]
    fn contexts() {
        assert_eq!(
            copy_context("COPY users, line 3, column age: \"x\""),
            Some((3, Some("age".into())))
        );
        assert_eq!(
            copy_context("COPY users, line 12: \"1,2\""),
            Some((12, None))
        );
        assert_eq!(copy_context("nothing"), None);
    }
}
