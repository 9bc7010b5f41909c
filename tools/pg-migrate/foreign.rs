//! Other tools' migration history in a database (issue 14, item 2): dbmate's
//! and golang-migrate's `schema_migrations`, goose's `goose_db_version`,
//! sqlx's `_sqlx_migrations`, diesel's `__diesel_schema_migrations`,
//! Flyway's `flyway_schema_history`, refinery's `refinery_schema_history`.
//! Read, never written: `adopt` copies what they applied into pg-migrate's
//! table, and `up`/`status` on a database that holds one of them and none
//! of pg-migrate's say so instead of applying everything again.

use crate::sql::{self, literal};
use pgkit::conn::Client;
use pgkit::{Error, Exit, Result};

/// A tool whose history pg-migrate can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tool {
    Auto,
    Dbmate,
    #[value(name = "golang-migrate")]
    GolangMigrate,
    Goose,
    Sqlx,
    Diesel,
    Flyway,
    Refinery,
}

impl Tool {
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Auto => "auto",
            Tool::Dbmate => "dbmate",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::Flyway => "flyway",
            Tool::Refinery => "refinery",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Tool::Dbmate | Tool::GolangMigrate | Tool::Auto => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::Refinery => "refinery_schema_history",
        }
    }
}

/// What another tool recorded.
#[derive(Debug)]
pub struct History {
    pub tool: Tool,
    /// Its table, as found (on the search path).
    pub table: String,
    /// Versions it applied, as it wrote them, with when (where it kept it).
    pub applied: Vec<(String, Option<String>)>,
    /// golang-migrate keeps only its current version: every file up to it
    /// is applied.
    pub up_to: Option<String>,
    /// Why the history cannot be adopted as it is (a dirty or failed state).
    pub broken: Option<String>,
}

/// The tools whose table exists, by one query: (tool, its columns).
fn present(client: &mut Client) -> Result<Vec<(Tool, Vec<String>)>> {
    let tools = [
        Tool::Dbmate,
        Tool::Goose,
        Tool::Sqlx,
        Tool::Diesel,
        Tool::Flyway,
        Tool::Refinery,
    ];
    let names: Vec<String> = tools.iter().map(|t| literal(t.table())).collect();
    let q = format!(
        "SELECT c.relname, string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid IN (SELECT to_regclass(n) FROM unnest(ARRAY[{}]) n) GROUP BY c.relname",
        names.join(",")
    );
    let rows =
        sql::query(client, &q).map_err(|e| sql::fail("Cannot look for other tools' tables", &e))?;
    let mut out = Vec::new();
    for r in rows {
        let (Some(name), Some(cols)) = (r.first().cloned().flatten(), r.get(1).cloned().flatten())
        else {
            continue;
        };
        let cols: Vec<String> = cols.split(',').map(String::from).collect();
        let has = |c: &str| cols.iter().any(|x| x == c);
        let tool = match name.as_str() {
            // pg-migrate's own table has these; dbmate's only a version,
            // golang-migrate's a version and a dirty flag.
            "schema_migrations" if has("filename") && has("checksum") => continue,
            "schema_migrations" if has("dirty") => Tool::GolangMigrate,
            "schema_migrations" => Tool::Dbmate,
            other => match tools.iter().find(|t| t.table() == other) {
                Some(t) => *t,
                None => continue,
            },
        };
        out.push((tool, cols));
    }
    Ok(out)
}

/// The other tool's history (`Auto`: the one tool found; two are 3).
pub fn find(client: &mut Client, wanted: Tool) -> Result<Option<History>> {
    let found = present(client)?;
    let pick = match wanted {
        Tool::Auto => {
            if found.len() > 1 {
                let names: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
                return Err(Error::new(
                    Exit::Migration,
                    "Several tools' migration histories found",
                )
                .field("tools", names.join(","))
                .suggest("Say which one to adopt: pg-migrate adopt --from TOOL"));
            }
            found.into_iter().next()
        }
        t => found.into_iter().find(|(f, _)| *f == t),
    };
    let Some((tool, _cols)) = pick else {
        return Ok(None);
    };
    read(client, tool).map(Some)
}

fn read(client: &mut Client, tool: Tool) -> Result<History> {
    let t = tool.table();
    let q = match tool {
        Tool::Dbmate => format!("SELECT version::text, NULL FROM {t}"),
        Tool::GolangMigrate => format!("SELECT version::text, dirty::text FROM {t}"),
        // The newest row per version says whether it is applied now.
        Tool::Goose => format!(
            "SELECT DISTINCT ON (version_id) version_id::text, CASE WHEN is_applied THEN tstamp::timestamptz::text END, is_applied::text FROM {t} WHERE version_id <> 0 ORDER BY version_id, id DESC"
        ),
        Tool::Sqlx => format!("SELECT version::text, installed_on::text, success::text FROM {t}"),
        Tool::Diesel => format!("SELECT version::text, run_on::timestamptz::text FROM {t}"),
        Tool::Flyway => format!(
            "SELECT version, installed_on::timestamptz::text, success::text, type FROM {t} WHERE version IS NOT NULL ORDER BY installed_rank"
        ),
        Tool::Refinery => format!("SELECT version::text, applied_on FROM {t}"),
        Tool::Auto => return Err(Error::new(Exit::Failure, "No tool named to read")),
    };
    let rows = sql::query(client, &q).map_err(|e| {
        sql::fail(
            &format!("Cannot read {}'s migration history", tool.as_str()),
            &e,
        )
    })?;
    let mut h = History {
        tool,
        table: t.to_string(),
        applied: Vec::new(),
        up_to: None,
        broken: None,
    };
    for r in rows {
        let get = |i: usize| r.get(i).cloned().flatten();
        let Some(version) = get(0) else { continue };
        match tool {
            Tool::GolangMigrate => {
                if get(1).as_deref() == Some("true") {
                    h.broken = Some(format!(
                        "golang-migrate left version {version} dirty (a migration failed midway)"
                    ));
                }
                h.up_to = Some(version);
            }
            Tool::Goose if get(2).as_deref() != Some("true") => {}
            Tool::Sqlx if get(2).as_deref() == Some("false") => {
                h.broken = Some(format!(
                    "sqlx recorded version {version} as failed (success = false)"
                ));
            }
            Tool::Flyway if get(2).as_deref() == Some("false") => {
                h.broken = Some(format!(
                    "Flyway recorded version {version} as failed (success = false)"
                ));
            }
            Tool::Flyway if get(3).as_deref() == Some("BASELINE") => h.up_to = Some(version),
            _ => h.applied.push((version, get(1))),
        }
    }
    Ok(h)
}

/// The error for `up`/`status` on a database that holds another tool's
/// history and none of pg-migrate's (or whose table name is taken by it).
/// `ours` is pg-migrate's table as named (`schema.table` or `table`).
pub fn not_adopted(h: &History, ours: &str) -> Error {
    let clash = h.table == ours;
    let suggestion = if clash {
        format!(
            "{} is {}'s table: run 'pg-migrate adopt --table pgkit_migrations' to record its history in a table of pg-migrate's own (it stays untouched), then pass the same --table (MIGRATIONS_TABLE) to every run",
            h.table,
            h.tool.as_str()
        )
    } else {
        format!(
            "Run 'pg-migrate adopt' to record {}'s history as applied ({} stays untouched); nothing was applied",
            h.tool.as_str(),
            h.table
        )
    };
    Error::new(
        Exit::Migration,
        format!(
            "Database was migrated by {}, not yet by pg-migrate",
            h.tool.as_str()
        ),
    )
    .field("from", h.tool.as_str())
    .field("foreignTable", h.table.clone())
    .field("table", ours.to_string())
    .suggest(suggestion)
}
