//! The tracking table (`schema_seeds` by default, `--table`): which files
//! ran, with which checksum, how many rows they loaded and when.

use crate::ident::QualifiedName;
use pgkit::{Error, Exit, Result};
use postgres::GenericClient;
use std::collections::BTreeMap;

/// The tracking table.
#[derive(Debug, Clone)]
pub struct Tracking {
    name: QualifiedName,
    /// `"schema"."name"`, once [`Tracking::pin`] found the table: the seed
    /// files may change search_path (pg_dump output sets it to ''), and the
    /// tracking rows must still go to the same table.
    pinned: Option<String>,
}

/// A file recorded as applied.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Its checksum when it ran.
    pub checksum: String,
}

fn db(e: postgres::Error, what: &str) -> Error {
    crate::sql::with_db_error(
        Error::new(Exit::Seed, format!("Cannot {what} the seed tracking table")),
        &e,
    )
    .suggest("Check that the user may create and write the tracking table (--table)")
}

impl Tracking {
    /// Parses `--table`: `name` or `schema.name`.
    pub fn parse(s: &str) -> Result<Tracking> {
        QualifiedName::parse(s)
            .map(|name| Tracking { name, pinned: None })
            .ok_or_else(|| {
                Error::usage("Invalid tracking table name")
                    .field("table", s)
                    .suggest("Give --table as NAME or SCHEMA.NAME (letters, digits, _ and $)")
            })
    }

    /// The plain name, for logs.
    pub fn display(&self) -> String {
        self.name.display()
    }

    /// Serializes concurrent seeders on this tracking table until the
    /// transaction ends.
    pub fn lock(&self, c: &mut impl GenericClient) -> Result<()> {
        c.execute(
            "SELECT pg_advisory_xact_lock(hashtext('pg-seed:' || $1::text))",
            &[&self.name.display()],
        )
        .map(|_| ())
        .map_err(|e| db(e, "lock"))
    }

    /// Creates the table when missing.
    pub fn ensure(&self, c: &mut impl GenericClient) -> Result<()> {
        c.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  filename text PRIMARY KEY,\n  checksum text NOT NULL,\n  rows_loaded bigint,\n  applied_at timestamptz NOT NULL DEFAULT now()\n)",
            self.name.sql()
        ))
        .map_err(|e| db(e, "create"))
    }

    /// The name used in SQL: schema-qualified once pinned.
    fn sql(&self) -> String {
        self.pinned.clone().unwrap_or_else(|| self.name.sql())
    }

    /// Resolves the table to its schema (after [`Tracking::ensure`]), so
    /// that later statements do not depend on the search_path.
    pub fn pin(&mut self, c: &mut impl GenericClient) -> Result<()> {
        let row = c
            .query_one(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = to_regclass($1::text)",
                &[&self.name.sql()],
            )
            .map_err(|e| db(e, "find"))?;
        self.pinned = Some(row.get(0));
        Ok(())
    }

    /// Whether the table exists.
    pub fn exists(&self, c: &mut impl GenericClient) -> Result<bool> {
        let row = c
            .query_one(
                "SELECT to_regclass($1::text) IS NOT NULL",
                &[&self.name.sql()],
            )
            .map_err(|e| db(e, "find"))?;
        Ok(row.get(0))
    }

    /// The applied files by name.
    pub fn load(&self, c: &mut impl GenericClient) -> Result<BTreeMap<String, Applied>> {
        let rows = c
            .query(
                &format!("SELECT filename, checksum FROM {}", self.sql()),
                &[],
            )
            .map_err(|e| db(e, "read"))?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), Applied { checksum: r.get(1) }))
            .collect())
    }

    /// Records a file as applied (again, for `--on-change rerun`).
    pub fn record(
        &self,
        c: &mut impl GenericClient,
        filename: &str,
        checksum: &str,
        rows: Option<i64>,
    ) -> Result<()> {
        c.execute(
            &format!(
                "INSERT INTO {} (filename, checksum, rows_loaded) VALUES ($1, $2, $3)\n ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum, rows_loaded = EXCLUDED.rows_loaded, applied_at = now()",
                self.sql()
            ),
            &[&filename, &checksum, &rows],
        )
        .map(|_| ())
        .map_err(|e| db(e, "write"))
    }
}
