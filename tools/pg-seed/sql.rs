//! SQL seed files, executed as written (one simple-protocol batch), and the
//! mapping of a server error to the file's line and column.

use crate::discovery::SeedFile;
use pgkit::{Error, Exit, Result};
use postgres::error::ErrorPosition;

/// The line and column (1-based, in characters) of a 1-based character
/// position in `text`, as the server reports it.
pub fn line_col(text: &str, position: u32) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in text.chars().enumerate() {
        if i + 1 >= position as usize {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

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

/// Executes a SQL seed file inside the run's transaction.
pub fn apply(tx: &mut postgres::Transaction<'_>, file: &SeedFile) -> Result<()> {
    let bytes =
        std::fs::read(&file.path).map_err(|e| Error::io(Exit::Seed, "read", &file.path, &e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::new(Exit::DataErr, "Seed file is not UTF-8")
            .cause(e)
            .field("filename", file.name.clone())
            .suggest("Save the SQL file as UTF-8")
    })?;
    // A UTF-8 byte-order mark is not SQL; the checksum still covers it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    tx.batch_execute(text).map_err(|e| {
        let mut err = with_db_error(
            Error::new(Exit::Seed, "Seed failed").field("filename", file.name.clone()),
            &e,
        );
        if let Some(ErrorPosition::Original(p)) = e.as_db_error().and_then(|d| d.position()) {
            let (line, column) = line_col(text, *p);
            err = err.field("line", line).field("column", column);
        }
        if err.suggestion.is_none() {
            err = err.suggest(format!(
                "Fix {} and run pg-seed again; nothing from this run was applied",
                file.name
            ));
        }
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_to_lines_and_columns() {
        let t = "SELECT 1;\nINSERT INTO x\n  VALUES (1);";
        assert_eq!(line_col(t, 1), (1, 1));
        assert_eq!(line_col(t, 11), (2, 1));
        assert_eq!(line_col(t, 27), (3, 3));
        assert_eq!(line_col("é\nab", 4), (2, 2));
    }
}
