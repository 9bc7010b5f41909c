//! The checked way in: candidate rows go through COPY into a temporary
//! staging table of text columns, then into the table with the server as
//! the judge. One `INSERT … SELECT` is tried first (inside a savepoint);
//! when a row is refused, a small PL/pgSQL loop inserts the candidates one
//! by one, each in its own subtransaction, and keeps those that pass: any
//! CHECK, domain, partial or expression unique index, exclusion constraint,
//! partition bound or trigger decides for itself. Rounds of more candidates
//! follow until the rows asked for are in, within a bounded number of tries.

use crate::introspect::{self, Table};
use crate::rowgen::RowGen;
use crate::sql::{db_err, rejected};
use pgkit::{interrupt, log, Error, Exit, Result};
use postgres::Transaction;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use std::io::Write;

/// Rounds of candidates; each has twice the rows of the one before.
const ROUNDS: u32 = 8;

const INSERT_LOOP: &str = r#"
CREATE OR REPLACE FUNCTION pg_temp.pg_seed_insert(rows_sql text, ins_sql text, want int8)
RETURNS TABLE (inserted int8, failures int8, last_constraint text, last_message text)
LANGUAGE plpgsql AS $pg_seed$
DECLARE
  v text[];
  c text;
  m text;
BEGIN
  inserted := 0;
  failures := 0;
  FOR v IN EXECUTE rows_sql LOOP
    EXIT WHEN inserted >= want;
    BEGIN
      EXECUTE ins_sql USING v;
      inserted := inserted + 1;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME, m = MESSAGE_TEXT;
      failures := failures + 1;
      last_constraint := nullif(c, '');
      last_message := m;
    END;
  END LOOP;
  RETURN NEXT;
END
$pg_seed$"#;

/// Fills `table` through the staging table; returns the rows kept.
pub fn fill(
    tx: &mut Transaction<'_>,
    table: &Table,
    selected: &[&introspect::Column],
    gen: &mut RowGen,
    rows: u64,
    seed: u64,
) -> Result<u64> {
    let types: Vec<String> = selected
        .iter()
        .map(|c| {
            tx.query_one(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1 AND attnum = $2",
                &[&table.oid, &c.attnum],
            )
            .map(|r| r.get::<_, String>(0))
            .map_err(|e| db_err("Cannot read a column's type", &e))
        })
        .collect::<Result<_>>()?;
    let stage_cols: Vec<String> = (0..selected.len()).map(|k| format!("c{k} text")).collect();
    tx.batch_execute(&format!(
        "DROP TABLE IF EXISTS pg_temp.pg_seed_stage;
         CREATE TEMP TABLE pg_seed_stage (ord int8, {}) ON COMMIT DROP;
         {INSERT_LOOP};",
        stage_cols.join(", ")
    ))
    .map_err(|e| db_err("Cannot create the staging table", &e))?;
    let key_pos = table
        .partitioning
        .as_ref()
        .and_then(|p| p.key)
        .and_then(|k| selected.iter().position(|c| c.attnum == k));
    let route = crate::partition::routing(tx, table, key_pos)?;

    let cols: Vec<String> = selected
        .iter()
        .map(|c| crate::ident::quote(&c.name))
        .collect();
    let casts: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(k, t)| format!("c{k}::{t}"))
        .collect();
    let arr_casts: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(k, t)| format!("($1[{}])::{t}", k + 1))
        .collect();
    let arr: Vec<String> = (0..selected.len()).map(|k| format!("c{k}")).collect();
    let ins_one = format!(
        "INSERT INTO {} ({}) SELECT {}",
        table.sql,
        cols.join(", "),
        arr_casts.join(", ")
    );
    let rows_sql = format!(
        "SELECT ARRAY[{}]::text[] FROM pg_temp.pg_seed_stage ORDER BY ord",
        arr.join(", ")
    );

    let mut rng = StdRng::seed_from_u64(seed);
    let (mut kept, mut base, mut factor) = (0u64, 0u64, 1u64);
    let mut last_failure: Option<(Option<String>, String)> = None;
    let mut buf = Vec::with_capacity(64 * 1024);
    let (mut scratch, mut picks) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let need = rows - kept;
        if need == 0 {
            break;
        }
        interrupt::check()?;
        if round > 0 || gen.has_existing() {
            gen.refresh_free_keys(tx, base)?;
        }
        let count = need.saturating_mul(factor).max(need + 8);
        {
            let mut w = tx
                .copy_in("COPY pg_temp.pg_seed_stage FROM STDIN")
                .map_err(|e| db_err("Cannot stage the generated rows", &e))?;
            for i in base..base + count {
                gen.write_rows(&mut rng, i, &mut buf, &mut scratch, &mut picks, true);
                if buf.len() >= 256 * 1024 {
                    w.write_all(&buf).map_err(|e| {
                        Error::new(Exit::Seed, "Cannot stage the generated rows").cause(e)
                    })?;
                    buf.clear();
                }
            }
            w.write_all(&buf)
                .map_err(|e| Error::new(Exit::Seed, "Cannot stage the generated rows").cause(e))?;
            buf.clear();
            w.finish().map_err(|e| rejected(&table.display, &e))?;
        }
        if let Some(u) = &route {
            tx.batch_execute(u)
                .map_err(|e| db_err("Cannot route the rows to partitions", &e))?;
        }
        // The whole batch at once; on refusal, row by row.
        let batch = format!(
            "INSERT INTO {} ({}) SELECT {} FROM pg_temp.pg_seed_stage ORDER BY ord LIMIT {need}",
            table.sql,
            cols.join(", "),
            casts.join(", ")
        );
        let mut sp = tx
            .savepoint("pg_seed_batch")
            .map_err(|e| db_err("Cannot start a savepoint", &e))?;
        let n = match sp.execute(&batch, &[]) {
            Ok(n) => {
                sp.commit()
                    .map_err(|e| db_err("Cannot release a savepoint", &e))?;
                n
            }
            Err(e) => {
                if interrupt::received().is_some() {
                    return Err(interrupt::error());
                }
                drop(sp);
                let r = tx
                    .query_one(
                        "SELECT * FROM pg_temp.pg_seed_insert($1, $2, $3)",
                        &[&rows_sql, &ins_one, &(need as i64)],
                    )
                    .map_err(|e| rejected(&table.display, &e))?;
                let n: i64 = r.get(0);
                let failures: i64 = r.get(1);
                if failures > 0 {
                    last_failure =
                        Some((r.get(2), r.get::<_, Option<String>>(3).unwrap_or_default()));
                }
                drop(e);
                n as u64
            }
        };
        kept += n;
        base += count;
        tx.batch_execute("TRUNCATE pg_temp.pg_seed_stage")
            .map_err(|e| db_err("Cannot empty the staging table", &e))?;
        factor = (factor * 2).min(64);
    }
    if kept < rows {
        let (constraint, message) = last_failure.unwrap_or((None, String::new()));
        if kept == 0 {
            let mut err = Error::new(
                Exit::Seed,
                "No generated row satisfies the table's constraints",
            )
            .cause(message)
            .field("table", table.display.clone())
            .field("candidates", base);
            if let Some(c) = constraint {
                err = err.field("constraint", c);
            }
            return Err(err.suggest("Check that the constraint can be met (a contradictory CHECK never can); seed this table with a SQL file, or leave it out with --exclude"));
        }
        log::warn(
            "Fewer rows than asked: the constraints refused the other candidates",
            json!({"table": table.display, "rows": kept, "asked": rows, "constraint": constraint, "error": message}),
        );
    }
    Ok(kept)
}
