//! Facts about a database recorded at dump time, which a restore drill
//! (`verify --restore`, see `drill`) checks the restored copy against: the
//! tables (schema-qualified) always, and with `dump --count-rows` each
//! table's exact row count.
//!
//! Both are read in the very snapshot pg_dump dumps: the tool opens a
//! REPEATABLE READ transaction, exports its snapshot (`pg_export_snapshot`)
//! and hands it to `pg_dump --snapshot`; it reads the tables there, counts
//! rows there while pg_dump runs (rows inserted meanwhile are in neither),
//! and keeps the transaction open until pg_dump has finished (a snapshot
//! can be imported only while its exporting transaction lives). A server
//! that cannot export one (a standby before PostgreSQL 10, a pooler in
//! transaction mode) is dumped without facts, with a warning.

use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::{json, Value};
use std::thread::JoinHandle;

/// User tables (ordinary and partitioned) as pg_dump dumps them: not in a
/// system schema, not temporary, not an extension's member. `data_excluded`
/// says whether an `--exclude-table-data` pattern (`$1` schema regexes, ''
/// for "visible on the search path", `$2` name regexes) matches it, or it
/// is an unlogged table on a standby (pg_dump leaves those tables' data out
/// there, as a standby cannot read it).
const TABLES_SQL: &str = "
SELECT n.nspname::text, c.relname::text, c.relkind::text,
       EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) AS p(s, t)
                WHERE c.relname ~ p.t
                  AND CASE WHEN p.s = '' THEN pg_catalog.pg_table_is_visible(c.oid)
                           ELSE n.nspname ~ p.s END)
       OR (c.relpersistence = 'u' AND pg_catalog.pg_is_in_recovery()) AS data_excluded
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2";

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Whether it is partitioned (it holds no rows of its own).
    pub partitioned: bool,
    /// Its exact row count (`FROM ONLY`: its own rows, not its children's);
    /// None when not counted (no `--count-rows`, a partitioned table, its
    /// data excluded from the dump).
    pub rows: Option<i64>,
    /// Whether `--exclude-table-data` left its rows out of the dump.
    pub data_excluded: bool,
}

impl Table {
    /// `schema.name`, each part double-quoted only when it must be.
    pub fn qualified(&self) -> String {
        format!("{}.{}", show_ident(&self.schema), show_ident(&self.name))
    }

    /// `"schema"."name"`, for SQL.
    fn sql(&self) -> String {
        format!(
            "{}.{}",
            pgkit::sql::quote_ident(&self.schema),
            pgkit::sql::quote_ident(&self.name)
        )
    }
}

/// An identifier as psql shows it: bare when it is lowercase letters,
/// digits and underscores not starting with a digit, else double-quoted.
fn show_ident(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        s.to_string()
    } else {
        pgkit::sql::quote_ident(s)
    }
}

/// The facts of one dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Whether row counts were taken (`--count-rows`).
    pub rows_counted: bool,
    /// The tables, sorted by schema and name.
    pub tables: Vec<Table>,
}

impl Facts {
    /// The manifest's `facts` object.
    pub fn to_json(&self) -> Value {
        let tables: Vec<Value> = self
            .tables
            .iter()
            .map(|t| {
                let mut o = json!({"table": t.qualified(), "schema": t.schema, "name": t.name,
                                   "rows": t.rows});
                if t.partitioned {
                    o["partitioned"] = json!(true);
                }
                if t.data_excluded {
                    o["dataExcluded"] = json!(true);
                }
                o
            })
            .collect();
        json!({"snapshot": true, "rowCounts": self.rows_counted, "tables": tables})
    }

    /// The facts a manifest records; None for a dump made without them (or
    /// a manifest whose facts are not of this shape).
    pub fn from_manifest(m: &Value) -> Option<Facts> {
        let f = m.get("facts")?;
        let mut tables = Vec::new();
        for t in f["tables"].as_array()? {
            tables.push(Table {
                schema: t["schema"].as_str()?.to_string(),
                name: t["name"].as_str()?.to_string(),
                partitioned: t["partitioned"].as_bool().unwrap_or(false),
                rows: t["rows"].as_i64(),
                data_excluded: t["dataExcluded"].as_bool().unwrap_or(false),
            });
        }
        Some(Facts {
            rows_counted: f["rowCounts"].as_bool().unwrap_or(false),
            tables,
        })
    }
}

fn facts_err(message: &str) -> Error {
    Error::new(Exit::Dump, message)
}

/// Reads the tables (and, with `count`, their row counts) of the database
/// `client` is connected to, in its current transaction.
pub fn read(client: &mut postgres::Client, exclude_data: &[String], count: bool) -> Result<Facts> {
    let (schemas, names): (Vec<String>, Vec<String>) =
        exclude_data.iter().map(|p| pattern_regexes(p)).unzip();
    let rows = client
        .query(TABLES_SQL, &[&schemas, &names])
        .map_err(|e| facts_err("Cannot list the tables").cause(e))?;
    let mut tables: Vec<Table> = rows
        .iter()
        .map(|r| Table {
            schema: r.get(0),
            name: r.get(1),
            partitioned: r.get::<_, String>(2) == "p",
            rows: None,
            data_excluded: r.get(3),
        })
        .collect();
    if count {
        for t in tables
            .iter_mut()
            .filter(|t| !t.partitioned && !t.data_excluded)
        {
            interrupt::check()?;
            let row = client
                .query_one(&format!("SELECT count(*) FROM ONLY {}", t.sql()), &[])
                .map_err(|e| {
                    facts_err("Cannot count a table's rows")
                        .cause(e)
                        .field("table", t.qualified())
                })?;
            t.rows = Some(row.get(0));
        }
    }
    Ok(Facts {
        rows_counted: count,
        tables,
    })
}

/// A pg_dump table pattern (`--exclude-table-data`) as two anchored regular
/// expressions, schema ('' when the pattern names none: then it matches
/// tables visible on the search path, as pg_dump's) and name, by psql's
/// pattern rules: unquoted letters fold to lower case, `*` is any text, `?`
/// one character, `.` separates the schema; inside double quotes all is
/// literal (`""` is a quote).
pub fn pattern_regexes(p: &str) -> (String, String) {
    let mut parts: Vec<String> = vec![String::new()];
    let mut quoted = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = parts.last_mut();
        let Some(cur) = cur else { break };
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            '*' if !quoted => cur.push_str(".*"),
            '?' if !quoted => cur.push('.'),
            c => {
                let c = if quoted { c } else { c.to_ascii_lowercase() };
                if c.is_alphanumeric() || c == '_' {
                    cur.push(c);
                } else {
                    cur.push('\\');
                    cur.push(c);
                }
            }
        }
    }
    let anchor = |s: &str| format!("^({s})$");
    let name = parts.pop().unwrap_or_default();
    match parts.pop() {
        Some(schema) => (anchor(&schema), anchor(&name)),
        None => (String::new(), anchor(&name)),
    }
}

/// The transaction whose snapshot pg_dump dumps, while it lives.
pub struct Snapshot {
    /// The exported snapshot's name (for `pg_dump --snapshot`).
    pub id: String,
    /// None once finished.
    state: Option<State>,
    /// To cancel counts left running when the dump fails.
    settings: Settings,
    /// The counting session's backend.
    pid: i32,
    _cancel: pgkit::interrupt::HookGuard,
}

enum State {
    /// Counting in a thread, which hands the client back.
    Counting(JoinHandle<(postgres::Client, Result<Facts>)>),
    /// Read already.
    Read(Box<postgres::Client>, Facts),
}

/// Opens the snapshot: connects, begins a REPEATABLE READ transaction,
/// exports its snapshot and reads the tables; row counts (with `count`)
/// are taken in a thread meanwhile. A connection failure is the dump's
/// (2); a server that cannot export a snapshot gives None, with a warning.
pub fn open(settings: &Settings, exclude_data: &[String], count: bool) -> Result<Option<Snapshot>> {
    let mut client = settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))?;
    let cancel = pgkit::conn::cancel_on_signal(settings, &client);
    // As pg_dump sets for itself: no timeout may end the counts, nor the
    // transaction that idles while pg_dump runs, and a row-level security
    // policy must not hide rows from a count. (Each on its own: a setting
    // an older server lacks is skipped.)
    for s in [
        "SET statement_timeout = 0",
        "SET lock_timeout = 0",
        "SET idle_in_transaction_session_timeout = 0",
        "SET row_security = off",
    ] {
        let _ = client.batch_execute(s);
    }
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .map_err(|e| facts_err("Cannot begin the dump's transaction").cause(e))?;
    let id: String = match client.query_one("SELECT pg_catalog.pg_export_snapshot()", &[]) {
        Ok(row) => row.get(0),
        Err(e) => {
            interrupt::check()?;
            log::warn(
                "Cannot export a snapshot: the dump records no facts (tables, row counts) for a restore drill",
                json!({"error": e.to_string(),
                       "suggestion": "A standby needs PostgreSQL 10 or later; connect directly, not through a pooler in transaction mode"}),
            );
            return Ok(None);
        }
    };
    let pid: i32 = client
        .query_one("SELECT pg_catalog.pg_backend_pid()", &[])
        .map(|r| r.get(0))
        .unwrap_or(0);
    let tables = read(&mut client, exclude_data, false)?;
    let state = if count && tables.tables.iter().any(|t| !t.partitioned) {
        let excl = exclude_data.to_vec();
        State::Counting(std::thread::spawn(move || {
            let r = read(&mut client, &excl, true);
            (client, r)
        }))
    } else {
        State::Read(
            Box::new(client),
            Facts {
                rows_counted: count,
                ..tables
            },
        )
    };
    Ok(Some(Snapshot {
        id,
        state: Some(state),
        settings: settings.clone(),
        pid,
        _cancel: cancel,
    }))
}

impl Snapshot {
    /// Once pg_dump has finished: the facts (waiting for the counts), then
    /// the transaction ends.
    pub fn finish(mut self) -> Result<Facts> {
        let (mut client, facts) = match self.state.take() {
            None => return Err(facts_err("The dump's facts were already read")),
            Some(State::Counting(h)) => {
                let (c, r) = h
                    .join()
                    .map_err(|_| facts_err("Cannot count the tables' rows"))?;
                (Box::new(c), r?)
            }
            Some(State::Read(c, f)) => (c, f),
        };
        let _ = client.batch_execute("COMMIT");
        interrupt::check()?;
        Ok(facts)
    }
}

impl Drop for Snapshot {
    /// A dump that failed while rows were being counted: the count is
    /// cancelled on the server (over a second session, bounded), not left
    /// to scan a large table after the tool has gone.
    fn drop(&mut self) {
        let Some(State::Counting(h)) = &self.state else {
            return;
        };
        if h.is_finished() || self.pid == 0 {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (settings, pid) = (self.settings.clone(), self.pid);
        std::thread::spawn(move || {
            if let Ok(mut c) = settings.connect() {
                let _ = c.query_one("SELECT pg_catalog.pg_cancel_backend($1)", &[&pid]);
            }
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_as_psql_reads_them() {
        assert_eq!(pattern_regexes("logs"), (String::new(), "^(logs)$".into()));
        assert_eq!(
            pattern_regexes("Audit.Log_*"),
            ("^(audit)$".into(), "^(log_.*)$".into())
        );
        assert_eq!(
            pattern_regexes("\"My.Schema\".t?"),
            ("^(My\\.Schema)$".into(), "^(t.)$".into())
        );
        assert_eq!(
            pattern_regexes("\"a\"\"b\""),
            (String::new(), "^(a\"b)$".into())
        );
    }

    #[test]
    fn names_shown_as_psql_shows_them() {
        let t = Table {
            schema: "public".into(),
            name: "My Table".into(),
            partitioned: false,
            rows: Some(3),
            data_excluded: false,
        };
        assert_eq!(t.qualified(), "public.\"My Table\"");
        let f = Facts {
            rows_counted: true,
            tables: vec![t],
        };
        assert_eq!(
            Facts::from_manifest(&json!({"facts": f.to_json()})),
            Some(f)
        );
        assert_eq!(Facts::from_manifest(&json!({})), None);
    }
}
