//! The tracking table: its name (optionally schema-qualified), creating it
//! when missing, adopting the provisioning runbook's shape in place, and
//! reading the whole history in one query.

use crate::files::{self, cmp_version};
use crate::sql::{self, ident, literal};
use pgkit::conn::Client;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;

/// A tracking table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The schema, when qualified.
    pub schema: Option<String>,
    /// The table.
    pub name: String,
    /// Create it even where another tool's history is (`adopt`).
    pub adopting: bool,
}

/// Status of a row that applied.
pub const APPLIED: &str = "applied";
/// Status of a no-transaction migration that failed (or was interrupted).
pub const FAILED: &str = "failed";

/// The milliseconds since the start of the query string or, when later,
/// since the mark [`MARK_SQL`] set (a previous file in the same string). A
/// mark left by an earlier string is older than this string's start.
const DURATION_SQL: &str = "greatest(0, round((extract(epoch from clock_timestamp()) - greatest(extract(epoch from statement_timestamp()), coalesce(nullif(current_setting('pg_migrate.mark', true), '')::numeric, 0))) * 1000))::bigint";

/// Sets the mark a file's duration is measured from to now (in a tracking
/// row's RETURNING). A session setting, so it outlives the COMMIT between
/// two files; epoch seconds, so no DateStyle can misread it.
pub const MARK_SQL: &str =
    "set_config('pg_migrate.mark', extract(epoch from clock_timestamp())::text, false)";

impl Table {
    /// Parses `name` or `schema.name`; parts may be "quoted" (kept as written)
    /// or bare (folded to lower case, as PostgreSQL does).
    pub fn parse(s: &str) -> Result<Table> {
        let bad = |why: &str| {
            Error::config("Invalid tracking table name")
                .cause(format!("{s:?}: {why}"))
                .field("table", s)
                .suggest("Use --table / MIGRATIONS_TABLE as name or schema.name (\"Quoted\" parts keep their case)")
        };
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        cur.push('"');
                        chars.next();
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.push(c);
                }
            } else if c == '"' {
                quoted = true;
                was_quoted = true;
            } else if c == '.' {
                parts.push((std::mem::take(&mut cur), was_quoted));
                was_quoted = false;
            } else if c.is_whitespace() {
                return Err(bad("unquoted whitespace"));
            } else {
                cur.push(c);
            }
        }
        if quoted {
            return Err(bad("unterminated quote"));
        }
        parts.push((cur, was_quoted));
        let parts: Vec<String> = parts
            .into_iter()
            .map(|(p, q)| if q { p } else { p.to_lowercase() })
            .collect();
        if parts.iter().any(String::is_empty) {
            return Err(bad("empty name"));
        }
        match parts.as_slice() {
            [n] => Ok(Table {
                schema: None,
                name: n.clone(),
                adopting: false,
            }),
            [s, n] => Ok(Table {
                schema: Some(s.clone()),
                name: n.clone(),
                adopting: false,
            }),
            _ => Err(bad("too many dots")),
        }
    }

    /// The quoted, possibly qualified name for SQL.
    pub fn sql(&self) -> String {
        self.with_name(&self.name)
    }

    /// Another table in the same schema, quoted.
    pub fn with_name(&self, name: &str) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", ident(s), ident(name)),
            None => ident(name),
        }
    }

    /// `pg_dump --exclude-table` patterns for pg-migrate's own tables (the
    /// tracking table, its id sequence, the lease table): quoted, so `*`
    /// or `?` in a name are not wildcards.
    pub fn dump_excludes(&self) -> Vec<String> {
        [
            self.name.clone(),
            format!("{}_id_seq", self.name),
            format!("{}_lock", self.name),
        ]
        .iter()
        .map(|n| format!("--exclude-table={}", self.with_name(n)))
        .collect()
    }

    /// The lease lock table beside this one.
    pub fn lock_table(&self) -> String {
        self.with_name(&format!("{}_lock", self.name))
    }

    /// `schema.name` for messages.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Creates the schema when the table is qualified and it is missing.
    pub fn ensure_schema(&self, client: &mut Client) -> Result<()> {
        if let Some(s) = &self.schema {
            let q = format!("SELECT 1 FROM pg_namespace WHERE nspname = {}", literal(s));
            let rows =
                sql::query(client, &q).map_err(|e| sql::fail("Cannot read the catalog", &e))?;
            if rows.is_empty() {
                match sql::exec(client, &format!("CREATE SCHEMA IF NOT EXISTS {}", ident(s))) {
                    Ok(()) => {}
                    // Another runner created it at the same moment.
                    Err(e) if matches!(sql::sqlstate(&e), Some("23505" | "42P06")) => {}
                    Err(e) => return Err(sql::fail(
                        "Cannot create the tracking table's schema",
                        &e,
                    )
                    .field("schema", s.clone())
                    .suggest(
                        "Create the schema, or grant CREATE on the database to the migration user",
                    )),
                }
            }
        }
        Ok(())
    }

    fn regclass(&self) -> String {
        format!("to_regclass({})", literal(&self.sql()))
    }

    /// The table's column names; empty when the table does not exist.
    pub fn columns(&self, client: &mut Client) -> Result<Vec<String>> {
        let q = format!(
            "SELECT attname FROM pg_attribute WHERE attrelid = {} AND attnum > 0 AND NOT attisdropped",
            self.regclass()
        );
        let rows =
            sql::query(client, &q).map_err(|e| sql::fail("Cannot read the tracking table", &e))?;
        Ok(rows.into_iter().filter_map(|mut r| r.remove(0)).collect())
    }

    /// Creates the table when missing; adopts an older shape (the runbook's
    /// `id, filename, applied_at, checksum`) by adding the missing columns.
    /// Call with the migration lock held.
    pub fn ensure(&self, client: &mut Client) -> Result<()> {
        let cols = self.columns(client)?;
        self.refuse_foreign(client, &cols)?;
        if cols.is_empty() {
            self.ensure_schema(client)?;
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {t} (
  id bigserial PRIMARY KEY,
  version text NOT NULL UNIQUE,
  filename text NOT NULL UNIQUE,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms bigint,
  status text NOT NULL DEFAULT 'applied',
  error text
)",
                t = self.sql()
            );
            return match sql::exec(client, &create) {
                Ok(()) => {
                    log::info("Tracking table created", json!({"table": self.display()}));
                    Ok(())
                }
                // Runners racing on CREATE TABLE IF NOT EXISTS: the loser may see the
                // table (42P07), its row type (42710) or pg_type's unique index (23505).
                Err(e) if matches!(sql::sqlstate(&e), Some("23505" | "42P07" | "42710")) => Ok(()),
                Err(e) => Err(sql::fail("Cannot create the tracking table", &e)
                    .field("table", self.display())
                    .suggest("Grant CREATE on the schema to the migration user (GRANT CREATE ON SCHEMA public TO ...)")),
            };
        }
        let has = |c: &str| cols.iter().any(|x| x == c);
        if !has("filename") || !has("checksum") {
            return Err(Error::new(Exit::Migration, "Tracking table has an unknown shape")
                .field("table", self.display())
                .field("columns", cols.join(","))
                .suggest("Use another --table, or rename the existing table; pg-migrate needs filename and checksum columns"));
        }
        let wanted = [
            ("version", "text"),
            ("applied_at", "timestamptz NOT NULL DEFAULT now()"),
            ("duration_ms", "bigint"),
            ("status", "text NOT NULL DEFAULT 'applied'"),
            ("error", "text"),
        ];
        let missing: Vec<&(&str, &str)> = wanted.iter().filter(|(c, _)| !has(c)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut batch = String::from("BEGIN;");
        for (c, ty) in &missing {
            batch.push_str(&format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {};",
                self.sql(),
                ident(c),
                ty
            ));
        }
        // Backfill the version from the file name, without leading zeros.
        batch.push_str(&format!(
            "UPDATE {t} SET version = coalesce(nullif(ltrim(substring(filename from '^([0-9]+)_'), '0'), ''), '0') WHERE version IS NULL AND filename ~ '^[0-9]+_';COMMIT;",
            t = self.sql()
        ));
        if let Err(e) = sql::exec(client, &batch) {
            let _ = sql::exec(client, "ROLLBACK");
            return Err(sql::fail("Cannot adopt the existing tracking table", &e)
                .field("table", self.display())
                .suggest("Grant the migration user ownership of the tracking table"));
        }
        log::info(
            "Tracking table adopted",
            json!({"table": self.display(), "addedColumns": missing.iter().map(|(c, _)| *c).collect::<Vec<_>>()}),
        );
        Ok(())
    }

    /// Where pg-migrate has no history yet (its table missing, or its name
    /// taken by a table of another shape) and another tool's is there: one
    /// message for `up` and `status`, naming `adopt`, instead of applying
    /// everything again.
    fn refuse_foreign(&self, client: &mut Client, cols: &[String]) -> Result<()> {
        let ours = cols.iter().any(|c| c == "filename") && cols.iter().any(|c| c == "checksum");
        if ours || self.adopting {
            return Ok(());
        }
        match crate::foreign::find(client, crate::foreign::Tool::Auto) {
            Ok(Some(h)) => Err(crate::foreign::not_adopted(&h, &self.display())),
            Ok(None) => Ok(()),
            // Two tools' histories: said the same way.
            Err(e) => Err(e),
        }
    }

    /// The whole history in one query, in version order. A missing table is
    /// an empty history.
    pub fn history(&self, client: &mut Client, details: bool) -> Result<Vec<Applied>> {
        // One round trip tells whether the table exists and its shape: a
        // table not adopted yet (the runbook's) is read as it is.
        let cols = self.columns(client)?;
        self.refuse_foreign(client, &cols)?;
        if cols.is_empty() {
            return Ok(Vec::new());
        }
        self.read_cols(client, details, Some(&cols))
    }

    /// Reads the history of an existing (ensured) table: what `up` needs.
    pub fn read(&self, client: &mut Client) -> Result<Vec<Applied>> {
        self.read_with(client, false)
    }

    /// Reads the history with the details `status` shows (when, how long).
    pub fn read_with(&self, client: &mut Client, details: bool) -> Result<Vec<Applied>> {
        self.read_cols(client, details, None)
    }

    /// Reads the history; with `cols`, columns the table lacks read as NULL.
    fn read_cols(
        &self,
        client: &mut Client,
        details: bool,
        cols: Option<&[String]>,
    ) -> Result<Vec<Applied>> {
        let has = |c: &str| cols.is_none_or(|cs| cs.iter().any(|x| x == c));
        let col = |c: &str, expr: &str| {
            if has(c) {
                expr.to_string()
            } else {
                "NULL".into()
            }
        };
        let version = col("version", "version");
        // NULL reads as applied: no text per row for the common case.
        let status = col("status", "NULLIF(status, 'applied')");
        let error = if has("status") && has("error") {
            "CASE WHEN status <> 'applied' THEN error END".to_string()
        } else {
            "NULL".into()
        };
        let (at, ms) = if details {
            (
                col(
                    "applied_at",
                    "to_char(applied_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF')",
                ),
                col("duration_ms", "duration_ms"),
            )
        } else {
            ("NULL".into(), "NULL".into())
        };
        let q = format!(
            "SELECT {version}, filename, checksum, {status}, {at}, {ms}, {error} FROM {}",
            self.sql()
        );
        // Decoded straight from the protocol's rows: one string per field
        // that has a value, nothing in between.
        let msgs = client.simple_query(&q).map_err(|e| {
            sql::fail("Cannot read the tracking table", &e).field("table", self.display())
        })?;
        let mut out: Vec<Applied> = Vec::with_capacity(msgs.len());
        for m in &msgs {
            let postgres::SimpleQueryMessage::Row(r) = m else {
                continue;
            };
            let get = |i: usize| r.get(i).map(str::to_string);
            let filename = get(1).unwrap_or_default();
            let version = get(0)
                .or_else(|| files::parse_name(&filename).map(|n| n.version))
                .unwrap_or_default();
            out.push(Applied {
                version,
                filename,
                checksum: get(2).unwrap_or_default(),
                status: get(3).unwrap_or_else(|| APPLIED.into()),
                applied_at: get(4),
                duration_ms: r.get(5).and_then(|d| d.parse().ok()),
                error: get(6),
            });
        }
        drop(msgs);
        out.sort_by(|a, b| cmp_version(&a.version, &b.version));
        Ok(out)
    }

    /// The INSERT recording `m` as applied (inside the migration's transaction;
    /// the duration is measured on the server: from the start of the query
    /// string, or from the previous file's row in the same string, which
    /// left its time in [`MARK_SQL`]'s setting).
    pub fn insert_sql(
        &self,
        version: &str,
        filename: &str,
        checksum: &str,
        status: &str,
    ) -> String {
        // A repeatable script's row is replaced each time it runs again.
        let replace = if crate::layout::is_repeatable(version) {
            format!("{};", self.delete_sql(version))
        } else {
            String::new()
        };
        format!(
            "{replace}{}",
            self.insert_values(
                &literal(version),
                &literal(filename),
                &literal(checksum),
                &literal(status)
            )
        )
    }

    /// The INSERT of an applied row whose version, filename and checksum
    /// are the parameters `$1`, `$2` and `$3` (for a prepared statement;
    /// not for a repeatable script, whose row is replaced).
    pub fn insert_params_sql(&self) -> String {
        self.insert_values("$1", "$2", "$3", &literal(APPLIED))
    }

    fn insert_values(&self, version: &str, filename: &str, checksum: &str, status: &str) -> String {
        format!(
            "INSERT INTO {} (version, filename, checksum, duration_ms, status) VALUES ({version}, {filename}, {checksum}, {DURATION_SQL}, {status})",
            self.sql(),
        )
    }

    /// The DELETE forgetting a version.
    pub fn delete_sql(&self, version: &str) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.sql(),
            literal(version)
        )
    }
}

/// One row of the history.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Normalised version.
    pub version: String,
    /// The file name recorded.
    pub filename: String,
    /// The checksum recorded.
    pub checksum: String,
    /// `applied` or `failed`.
    pub status: String,
    /// When, as text.
    pub applied_at: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// For a failed row, what went wrong.
    pub error: Option<String>,
}

impl Applied {
    /// Whether this is a failed no-transaction migration.
    pub fn failed(&self) -> bool {
        self.status == FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let t = Table::parse("schema_migrations").ok();
        assert_eq!(t.map(|t| t.sql()), Some("\"schema_migrations\"".into()));
        let t = Table::parse("App.Schema_Migrations").ok();
        assert_eq!(
            t.as_ref().map(|t| t.sql()),
            Some("\"app\".\"schema_migrations\"".into())
        );
        assert_eq!(
            t.map(|t| t.lock_table()),
            Some("\"app\".\"schema_migrations_lock\"".into())
        );
        let t = Table::parse("\"My.Schema\".\"a\"\"b\"").ok();
        assert_eq!(t.map(|t| t.sql()), Some("\"My.Schema\".\"a\"\"b\"".into()));
        for bad in ["", "a.", "a.b.c", "\"x", "a b"] {
            assert!(Table::parse(bad).is_err(), "{bad}");
        }
    }
}
