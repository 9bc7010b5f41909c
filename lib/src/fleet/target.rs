//! One target of a fleet run: a database (connection settings), and in a
//! schema-per-tenant layout one schema in it. Where targets come from:
//! `--targets FILE`, every database of a server, the schemas of each.

use crate::conn::{Client, ConnArgs, Settings};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::fleet::glob;
use serde_json::{json, Map, Value};
use std::path::Path;

/// A database, or one tenant schema in it.
#[derive(Debug, Clone)]
pub struct Target {
    /// How to connect (in a schema target, with `search_path` set to the
    /// schema alone for the session).
    pub settings: Settings,
    /// The tenant schema, in a schema-per-tenant layout.
    pub schema: Option<String>,
    /// The database as a URL without its password (the result line's
    /// `target`).
    pub display: String,
    /// Why this database's schemas could not be listed: the target stands
    /// for all of them, runs nothing and ends failed with this error, while
    /// the other databases' tenants still run.
    pub unlisted: Option<Box<Error>>,
}

impl Target {
    /// A whole database.
    pub fn database(settings: Settings) -> Target {
        let display = settings.redacted();
        Target {
            settings,
            schema: None,
            display,
            unlisted: None,
        }
    }

    /// The tenant `schema` in this target's database: its sessions start
    /// with `search_path` set to that schema alone (a startup option, so a
    /// migration's `RESET search_path` or `RESET ALL` comes back to it).
    pub fn in_schema(&self, schema: &str) -> Target {
        let mut settings = self.settings.clone();
        let opt = format!(
            "-c search_path={}",
            escape_option(&crate::sql::quote_ident(schema))
        );
        settings.options = Some(match settings.options.take() {
            Some(o) if !o.trim().is_empty() => format!("{o} {opt}"),
            _ => opt,
        });
        Target {
            settings,
            schema: Some(schema.to_string()),
            display: self.display.clone(),
            unlisted: None,
        }
    }

    /// The normalised name: the URL without its password, and `#schema` for
    /// a schema. Two lines naming the same database the same way are one
    /// target; `--shard` hashes this.
    pub fn name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}#{s}", self.display),
            None => self.display.clone(),
        }
    }

    /// The fields that tag its log lines and start its result line.
    pub fn tags(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("target".into(), json!(self.display));
        if let Some(s) = &self.schema {
            m.insert("schema".into(), json!(s));
        }
        m
    }
}

/// Escapes a value for libpq's `options` (the server splits it at
/// whitespace; a backslash escapes the next character).
fn escape_option(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c == '\\' || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reads a `--targets` file (`-`: standard input).
pub fn read_list(path: &Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            Error::new(Exit::NoInput, "Cannot read the targets from stdin").cause(e)
        })?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(Exit::NoInput, "read", path, &e))
}

/// The targets of a list: one DSN (a URL or a `key=value` conninfo) per
/// line; blank lines and lines starting with `#` are skipped. Each line is
/// resolved as `--dsn` would be, with the connection flags given (`conn`)
/// over it and the `PG*` variables under it. A line that does not parse is
/// 78, named by its number (its text may hold a password).
pub fn parse_list(text: &str, conn: &ConnArgs, tool: &str) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut args = conn.clone();
        args.dsn = Some(line.to_string());
        let settings = Settings::resolve(&args, tool).map_err(|e| {
            let mut e = e.field("line", i + 1);
            e.message = format!("Invalid target on line {}: {}", i + 1, e.message);
            e.suggest("Give one postgres:// URL or key=value conninfo per line ('#' starts a comment line)")
        })?;
        out.push(Target::database(settings));
    }
    Ok(out)
}

fn query_names(client: &mut Client, q: &str, what: &str) -> Result<Vec<String>> {
    let rows = client.simple_query(q).map_err(|e| {
        Error::new(Exit::Failure, format!("Cannot list the {what}")).cause(
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string()),
        )
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect())
}

/// Every database of the server `client` is connected to that accepts
/// connections and is not a template, matching one of `include` (all when
/// empty) and none of `exclude`, in name order.
pub fn databases(
    client: &mut Client,
    base: &Settings,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<Target>> {
    let names = query_names(
        client,
        "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname COLLATE \"C\"",
        "databases",
    )?;
    Ok(names
        .into_iter()
        .filter(|n| (include.is_empty() || glob::any(include, n)) && !glob::any(exclude, n))
        .map(|n| Target::database(base.with_dbname(&n)))
        .collect())
}

/// The schemas of `t`'s database matching one of `patterns` (never the
/// system's: pg_*, information_schema), in name order, as targets.
pub fn schemas(client: &mut Client, t: &Target, patterns: &[String]) -> Result<Vec<Target>> {
    let names = query_names(
        client,
        "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname COLLATE \"C\"",
        "schemas",
    )?;
    Ok(names
        .into_iter()
        .filter(|n| glob::any(patterns, n))
        .map(|n| t.in_schema(&n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_escape_whitespace_and_backslashes() {
        assert_eq!(escape_option("\"a b\\c\""), "\"a\\ b\\\\c\"");
    }
}
