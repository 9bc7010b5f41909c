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
    /// Its table, as found: its name when on the search path, else
    /// `schema.name` (Flyway's, in the first of its `schemas`).
    pub table: String,
    /// Versions it applied, as it wrote them, with when (where it kept it).
    pub applied: Vec<(String, Option<String>)>,
    /// golang-migrate keeps only its current version: every file up to it
    /// is applied.
    pub up_to: Option<String>,
    /// Why the history cannot be adopted as it is (a dirty or failed state).
    pub broken: Option<String>,
    /// Flyway's repeatable scripts as last applied: (script, Flyway's
    /// checksum, when). `adopt` records one only while today's file has
    /// that checksum, as Flyway re-runs it only when it changed.
    pub repeatables: Vec<(String, Option<i32>, Option<String>)>,
    /// The checksum Flyway recorded per version, to tell a file changed
    /// since (Flyway's validate would stop on it).
    pub checksums: std::collections::HashMap<String, i32>,
}

/// The tools whose table exists, by one query: (tool, the table as found,
/// its columns). Each table is looked up on the search path; Flyway's also
/// in any schema, since its `schemas` (or `defaultSchema`) setting keeps it
/// in the first one it manages, not where the session's tables go: the one
/// on the search path wins, else the database's only one (two elsewhere
/// say nothing of where this session belongs).
fn present(client: &mut Client) -> Result<Vec<(Tool, String, Vec<String>)>> {
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
        "SELECT c.relname, string_agg(a.attname, ',' ORDER BY a.attnum), CASE WHEN pg_catalog.pg_table_is_visible(c.oid) THEN c.relname::text ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) END, pg_catalog.pg_table_is_visible(c.oid)::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid IN (SELECT pg_catalog.to_regclass(n) FROM unnest(ARRAY[{}]) n) OR (c.relname = {} AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(temp|toast)') GROUP BY c.oid, c.relname, n.nspname",
        names.join(","),
        literal(Tool::Flyway.table())
    );
    let rows =
        sql::query(client, &q).map_err(|e| sql::fail("Cannot look for other tools' tables", &e))?;
    let mut out = Vec::new();
    let mut flyway_elsewhere = Vec::new();
    for r in rows {
        let (Some(name), Some(cols), Some(found)) = (
            r.first().cloned().flatten(),
            r.get(1).cloned().flatten(),
            r.get(2).cloned().flatten(),
        ) else {
            continue;
        };
        if r.get(3).cloned().flatten().as_deref() != Some("true") {
            let cols: Vec<String> = cols.split(',').map(String::from).collect();
            flyway_elsewhere.push((Tool::Flyway, found, cols));
            continue;
        }
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
        out.push((tool, found, cols));
    }
    if flyway_elsewhere.len() == 1 && !out.iter().any(|(t, _, _)| *t == Tool::Flyway) {
        out.extend(flyway_elsewhere);
    }
    Ok(out)
}

/// The other tool's history (`Auto`: the one tool found; two are 3).
pub fn find(client: &mut Client, wanted: Tool) -> Result<Option<History>> {
    let found = present(client)?;
    let pick = match wanted {
        Tool::Auto => {
            if found.len() > 1 {
                let names: Vec<&str> = found.iter().map(|(t, _, _)| t.as_str()).collect();
                return Err(Error::new(
                    Exit::Migration,
                    "Several tools' migration histories found",
                )
                .field("tools", names.join(","))
                .suggest("Say which one to adopt: pg-migrate adopt --from TOOL"));
            }
            found.into_iter().next()
        }
        t => found.into_iter().find(|(f, _, _)| *f == t),
    };
    let Some((tool, table, _cols)) = pick else {
        return Ok(None);
    };
    read(client, tool, table).map(Some)
}

/// `table` is the tool's table as found (already quoted where qualified).
fn read(client: &mut Client, tool: Tool, table: String) -> Result<History> {
    let t = &table;
    let q = match tool {
        Tool::Dbmate => format!("SELECT version::text, NULL FROM {t}"),
        Tool::GolangMigrate => format!("SELECT version::text, dirty::text FROM {t}"),
        // The newest row per version says whether it is applied now.
        Tool::Goose => format!(
            "SELECT DISTINCT ON (version_id) version_id::text, CASE WHEN is_applied THEN tstamp::timestamptz::text END, is_applied::text FROM {t} WHERE version_id <> 0 ORDER BY version_id, id DESC"
        ),
        Tool::Sqlx => format!("SELECT version::text, installed_on::text, success::text FROM {t}"),
        Tool::Diesel => format!("SELECT version::text, run_on::timestamptz::text FROM {t}"),
        // Every row, repeatable scripts' (no version) too; its schema
        // creation row (type SCHEMA) and any other kind without a version
        // are passed over below.
        Tool::Flyway => format!(
            "SELECT version, installed_on::timestamptz::text, success::text, type, script, checksum::text FROM {t} ORDER BY installed_rank"
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
        table,
        applied: Vec::new(),
        up_to: None,
        broken: None,
        repeatables: Vec::new(),
        checksums: std::collections::HashMap::new(),
    };
    for r in rows {
        let get = |i: usize| r.get(i).cloned().flatten();
        if tool == Tool::Flyway && get(0).is_none() {
            flyway_repeatable(&mut h, get(4), get(3), get(2), get(5), get(1));
            continue;
        }
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
            // Flyway 9+'s `repair` marks a migration whose file is gone as
            // deleted with a row of its own (type DELETE, the original's
            // success): no longer applied, as Flyway's info reads it.
            Tool::Flyway if get(3).as_deref() == Some("DELETE") => {
                if get(2).as_deref() == Some("true") {
                    h.applied.retain(|(v, _)| *v != version);
                }
            }
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
            Tool::Flyway => {
                if let Some(sum) = get(5).and_then(|c| c.parse().ok()) {
                    h.checksums.insert(version.clone(), sum);
                }
                h.applied.push((version, get(1)));
            }
            _ => h.applied.push((version, get(1))),
        }
    }
    Ok(h)
}

/// A Flyway row without a version: a repeatable SQL script's run (its
/// latest success kept), a failed one (not clean), its deletion by
/// `repair`, or anything else (the schema-creation row) passed over.
fn flyway_repeatable(
    h: &mut History,
    script: Option<String>,
    kind: Option<String>,
    success: Option<String>,
    checksum: Option<String>,
    at: Option<String>,
) {
    if kind.as_deref() == Some("DELETE") && success.as_deref() == Some("true") {
        // Marked deleted by Flyway 9+'s repair (see `read`).
        h.repeatables.retain(|(s, _, _)| Some(s) != script.as_ref());
        return;
    }
    let Some(script) = script.filter(|_| kind.as_deref() == Some("SQL")) else {
        return;
    };
    if success.as_deref() == Some("false") {
        h.broken = Some(format!(
            "Flyway recorded {script} as failed (success = false)"
        ));
        return;
    }
    let checksum = checksum.and_then(|c| c.parse().ok());
    h.repeatables.retain(|(s, _, _)| *s != script);
    h.repeatables.push((script, checksum, at));
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
