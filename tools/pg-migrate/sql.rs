//! Quoting and the simple-query helpers. pg-migrate speaks only the simple
//! query protocol: one round trip per batch, and no prepared statement
//! outlives the query string that prepares it, so it works through
//! PgBouncer's transaction pooling.

use pgkit::conn::Client;
use postgres::SimpleQueryMessage;

pub use pgkit::sql::{quote_ident as ident, quote_literal as literal};

/// The rows a batch returned, as text.
pub type Rows = Vec<Vec<Option<String>>>;

/// Runs a batch; returns the rows of every statement, in order.
pub fn query(client: &mut Client, sql: &str) -> Result<Rows, postgres::Error> {
    let msgs = client.simple_query(sql)?;
    Ok(msgs
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect())
}

/// Runs a batch, ignoring rows.
pub fn exec(client: &mut Client, sql: &str) -> Result<(), postgres::Error> {
    client.simple_query(sql).map(|_| ())
}

/// The server's message for an error (the DB error's own message, without
/// the "db error: ERROR:" prefix), or the client-side description.
pub fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut s = e.to_string();
            if let Some(src) = std::error::Error::source(e) {
                let t = src.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
            }
            s
        }
    }
}

/// The SQLSTATE of an error, when the server sent one.
pub fn sqlstate(e: &postgres::Error) -> Option<&str> {
    e.as_db_error().map(|d| d.code().code())
}

/// A pgkit error for a failed bookkeeping query (not a migration's own SQL).
pub fn fail(what: &str, e: &postgres::Error) -> pgkit::Error {
    let mut err = pgkit::Error::new(pgkit::Exit::Migration, what.to_string()).cause(message(e));
    if let Some(s) = sqlstate(e) {
        err = err.field("sqlstate", s.to_string());
    }
    if e.is_closed() {
        err = err.suggest("The connection to the server was lost; check the server log and re-run");
    }
    err
}

/// The duration in milliseconds as a PostgreSQL interval literal.
pub fn interval(d: std::time::Duration) -> String {
    format!("'{}ms'", d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b'"), "E'a\\\\b'''");
    }
}
