//! `pg-seed generate`: synthetic rows for a table (with `--with-parents`,
//! empty parent tables first), or with `--all` for every table of the
//! chosen schemas in dependency order, all in one transaction.
//! Deterministic: one seeded RNG per table, consumed in row and column
//! order, so the same seed, schema and N give the same rows.

use crate::cli::GenerateArgs;
use crate::fill::{self, regclass, table_seed, Filled, Request};
use crate::introspect;
use crate::sql::db_err;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use postgres::types::Oid;
use postgres::Transaction;
use serde_json::json;

/// Runs `pg-seed generate`.
pub fn run(g: &GenerateArgs) -> Result<Summary> {
    let settings = Settings::resolve(&g.conn, "pg-seed")?;
    let seed = match g.seed {
        Some(s) => s,
        None => {
            let s: u64 = rand::random();
            log::info(
                "Random seed chosen; pass --seed to reproduce this run",
                json!({"seed": s}),
            );
            s
        }
    };
    let mut client = crate::commands::seed::connect(&settings, &g.wait)?;
    let _cancel = pgkit::conn::cancel_on_signal(&settings, &client);
    let mut tx = client
        .transaction()
        .map_err(|e| db_err("Cannot begin the transaction", &e))?;
    // Deferrable foreign keys are checked at commit: a cycle's closing edge
    // can hold a placeholder until its parent exists.
    tx.batch_execute("SET CONSTRAINTS ALL DEFERRED")
        .map_err(|e| db_err("Cannot defer constraints", &e))?;
    if g.all {
        return crate::all::run(g, tx, seed);
    }
    let Some(name) = g.table.as_deref() else {
        return Err(
            Error::usage("Name a table with --table, or pass --all").suggest(
                "pg-seed generate --table orders --rows 1000, or pg-seed generate --all --rows 100",
            ),
        );
    };
    let rows = g.rows.unwrap_or(0);
    let target = introspect::find(&mut tx, name)?.ok_or_else(|| {
        Error::new(Exit::Seed, "Table does not exist")
            .field("table", name.to_string())
            .suggest("Check the name (schema-qualify it when it is not on the search_path; quote mixed case as in SQL) or create the table first, e.g. with pg-migrate")
    })?;
    let table = introspect::load(&mut tx, target)?;

    let mut order: Vec<Oid> = Vec::new();
    if g.with_parents {
        plan_parents(&mut tx, target, &mut vec![target], &mut order)?;
    }
    let parent_rows = g.parent_rows.unwrap_or((rows / 10).max(1));
    let mut filled: Vec<Filled> = Vec::new();
    for (k, oid) in order.iter().enumerate() {
        let parent = introspect::load(&mut tx, *oid)?;
        // A parent the target references through a unique key (1:1) needs
        // a row per target row; a junction's parents, enough pairs.
        let need = needed_parent_rows(&table, *oid, rows, parent_rows, order.len());
        let f = fill::fill(
            &mut tx,
            &parent,
            &Request {
                rows: need,
                seed: table_seed(seed, k + 1),
                only: &[],
                later: &[],
            },
        )?;
        filled.push(f);
    }
    let columns: Vec<String> = g
        .columns
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let f = fill::fill(
        &mut tx,
        &table,
        &Request {
            rows,
            seed,
            only: &columns,
            later: &[],
        },
    )?;
    let n = f.rows;
    interrupt::check()?;
    tx.commit()
        .map_err(|e| db_err("Cannot commit the generated rows", &e))?;
    // Only now: a parent logged as filled before a failed commit was not.
    let parents: Vec<String> = filled.iter().map(|f| f.display.clone()).collect();
    for p in &filled {
        p.log();
    }
    f.log();
    let mut s = Summary::ok("Rows generated")
        .field("table", table.display)
        .field("rows", n)
        .field("seed", seed);
    if !parents.is_empty() {
        s = s
            .field("parentTables", parents)
            .field("parentRows", parent_rows);
    }
    Ok(s)
}

/// Rows for a generated parent of `child`: `parent_rows`, or one per child
/// row when the child's foreign key to it is unique (1:1), or enough for
/// distinct pairs when it is part of a unique key over several foreign keys.
fn needed_parent_rows(
    child: &introspect::Table,
    parent: Oid,
    rows: u64,
    parent_rows: u64,
    _parents: usize,
) -> u64 {
    let mut need = parent_rows;
    for fk in child.fks.iter().filter(|f| f.parent == parent) {
        let mut cols = fk.cols.clone();
        cols.sort_unstable();
        for idx in &child.uniques {
            let mut u = idx.clone();
            u.sort_unstable();
            if u == cols {
                need = need.max(rows);
            } else if cols.iter().all(|c| u.contains(c)) {
                // Junction: n parents on each side give n² pairs.
                let side = (rows as f64).sqrt().ceil() as u64 + 1;
                need = need.max(side);
            }
        }
    }
    need
}

/// Depth first: the empty parents of `oid` (not yet planned), parents of
/// parents first. Cycles stop at a table already being visited.
fn plan_parents(
    tx: &mut Transaction<'_>,
    oid: Oid,
    visiting: &mut Vec<Oid>,
    order: &mut Vec<Oid>,
) -> Result<()> {
    let table = introspect::load(tx, oid)?;
    for fk in &table.fks {
        let p = fk.parent;
        if visiting.contains(&p) || order.contains(&p) {
            continue;
        }
        let sql = regclass(tx, p)?;
        let has_rows: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {sql})"), &[])
            .map_err(|e| db_err("Cannot read a parent table", &e))?
            .get(0);
        if has_rows {
            continue;
        }
        visiting.push(p);
        plan_parents(tx, p, visiting, order)?;
        visiting.pop();
        order.push(p);
    }
    Ok(())
}
