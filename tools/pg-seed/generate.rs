//! `pg-seed generate`: synthetic rows for a table, streamed through COPY in
//! one transaction (with `--with-parents`, empty parent tables first, in
//! dependency order). Deterministic: one seeded RNG per table, consumed in
//! row and column order, so the same seed, schema and N give the same rows.

use crate::checks::{self, Rule};
use crate::introspect::{self, Scalar, Table, Ty};
use crate::values::{esc, ValueGen};
use crate::GenerateArgs;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use postgres::types::Oid;
use postgres::Transaction;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

const CHUNK: usize = 256 * 1024;
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// Where a column's values come from.
enum Source {
    Value {
        gen: ValueGen,
        array: bool,
        nullable: bool,
    },
    Fk {
        group: usize,
        pos: usize,
    },
    Null,
}

/// A foreign key's parent keys, loaded once (text form, in key order).
struct FkGroup {
    keys: Vec<Vec<String>>,
    unique: bool,
}

fn db_err(message: &str, e: &postgres::Error) -> Error {
    crate::sql::with_db_error(Error::new(Exit::Seed, message), e)
}

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
    let mut client = crate::apply::connect(&settings, &g.wait)?;
    let _cancel = pgkit::conn::cancel_on_signal(&settings, &client);
    let mut tx = client
        .transaction()
        .map_err(|e| db_err("Cannot begin the transaction", &e))?;
    let target = introspect::find(&mut tx, &g.table)?.ok_or_else(|| {
        Error::new(Exit::Seed, "Table does not exist")
            .field("table", g.table.clone())
            .suggest("Check the name (schema-qualify it when it is not on the search_path; quote mixed case as in SQL) or create the table first, e.g. with pg-migrate")
    })?;

    let mut order: Vec<Oid> = Vec::new();
    if g.with_parents {
        plan_parents(&mut tx, target, &mut vec![target], &mut order)?;
    }
    let parent_rows = g.parent_rows.unwrap_or((g.rows / 10).max(1));
    let mut parents = Vec::new();
    for (k, oid) in order.iter().enumerate() {
        let table = introspect::load(&mut tx, *oid)?;
        let s = seed.wrapping_add((k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        fill(&mut tx, &table, parent_rows, s, &[])?;
        parents.push(table.display);
    }
    let table = introspect::load(&mut tx, target)?;
    let columns: Vec<String> = g
        .columns
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let n = fill(&mut tx, &table, g.rows, seed, &columns)?;
    interrupt::check()?;
    tx.commit()
        .map_err(|e| db_err("Cannot commit the generated rows", &e))?;
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

fn regclass(tx: &mut Transaction<'_>, oid: Oid) -> Result<String> {
    tx.query_one("SELECT $1::oid::regclass::text", &[&oid])
        .map(|r| r.get(0))
        .map_err(|e| db_err("Cannot name a table", &e))
}

/// The rule of a column from its CHECK constraints and its domains' ones;
/// what is not understood is logged at warn.
fn rule_for(table: &Table, col: &introspect::Column) -> Rule {
    let mut rule = Rule::default();
    for c in &table.checks {
        if c.attnums.as_slice() != [col.attnum] {
            continue;
        }
        match checks::parse(&c.def, &col.name) {
            Some(r) => rule.and(r),
            None => log::warn(
                "CHECK constraint not understood; generated values may violate it",
                json!({"table": table.display, "constraint": c.name, "definition": c.def}),
            ),
        }
    }
    for def in &col.domain_checks {
        match checks::parse(def, "VALUE") {
            Some(r) => rule.and(r),
            None => log::warn(
                "Domain CHECK constraint not understood; generated values may violate it",
                json!({"table": table.display, "column": col.name, "definition": def}),
            ),
        }
    }
    rule
}

/// Generates `rows` rows into `table`; returns the rows written.
fn fill(
    tx: &mut Transaction<'_>,
    table: &Table,
    rows: u64,
    seed: u64,
    only: &[String],
) -> Result<u64> {
    let start = Instant::now();
    // The columns to generate, in table order.
    for name in only {
        let Some(c) = table.columns.iter().find(|c| &c.name == name) else {
            return Err(Error::new(Exit::Seed, "Unknown column")
                .field("table", table.display.clone())
                .field("column", name.clone())
                .suggest("Name columns of the table in --columns, comma-separated, as spelled in the table"));
        };
        if c.generated {
            return Err(Error::new(Exit::Seed, "Cannot generate a generated column")
                .field("table", table.display.clone())
                .field("column", name.clone())
                .suggest("Leave generated columns out of --columns: the database computes them"));
        }
    }
    let selected: Vec<&introspect::Column> = table
        .columns
        .iter()
        .filter(|c| {
            if only.is_empty() {
                !c.identity && !c.generated && !c.has_default
            } else {
                only.contains(&c.name)
            }
        })
        .collect();
    for c in &table.checks {
        if c.attnums.len() > 1
            && c.attnums
                .iter()
                .any(|a| selected.iter().any(|s| s.attnum == *a))
        {
            log::warn(
                "CHECK constraint not understood; generated values may violate it",
                json!({"table": table.display, "constraint": c.name, "definition": c.def}),
            );
        }
    }
    let is_selected = |a: &i16| selected.iter().any(|c| c.attnum == *a);

    // Foreign keys whose columns we generate: the parent keys, loaded once.
    let mut groups: Vec<FkGroup> = Vec::new();
    let mut fk_of: Vec<Option<(usize, usize)>> = vec![None; selected.len()];
    for fk in &table.fks {
        if !fk.cols.iter().all(is_selected) {
            continue;
        }
        if fk.cols.iter().any(|a| {
            selected
                .iter()
                .position(|c| c.attnum == *a)
                .and_then(|p| fk_of[p])
                .is_some()
        }) {
            continue;
        }
        let parent = regclass(tx, fk.parent)?;
        let cols: Vec<String> = fk
            .parent_cols
            .iter()
            .map(|c| crate::ident::quote(c))
            .collect();
        let list = cols.join(", ");
        let casts: Vec<String> = cols.iter().map(|c| format!("{c}::text")).collect();
        let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let q = format!(
            "SELECT {} FROM (SELECT DISTINCT {list} FROM {parent} WHERE {}) s ORDER BY {list}",
            casts.join(", "),
            not_null.join(" AND ")
        );
        let keys: Vec<Vec<String>> = tx
            .query(&q, &[])
            .map_err(|e| db_err("Cannot read the parent keys", &e))?
            .iter()
            .map(|r| (0..cols.len()).map(|i| r.get::<_, String>(i)).collect())
            .collect();
        let nullable = fk
            .cols
            .iter()
            .all(|a| selected.iter().any(|c| c.attnum == *a && !c.not_null));
        if keys.is_empty() && !nullable && rows > 0 && fk.parent == table.oid {
            return Err(Error::new(Exit::Seed, "A NOT NULL self-reference needs existing rows")
                .field("table", table.display.clone())
                .field("foreignKey", fk.name.clone())
                .suggest("Insert a first row (e.g. a root referencing itself) with a SQL seed, then generate"));
        }
        if keys.is_empty() && !nullable && rows > 0 {
            return Err(Error::new(Exit::Seed, "Parent table is empty")
                .field("table", table.display.clone())
                .field("foreignKey", fk.name.clone())
                .field("parent", parent)
                .suggest(
                    "Seed the parent table first, or pass --with-parents to generate its rows too",
                ));
        }
        let g = groups.len();
        for (pos, a) in fk.cols.iter().enumerate() {
            if let Some(p) = selected.iter().position(|c| c.attnum == *a) {
                fk_of[p] = Some((g, pos));
            }
        }
        groups.push(FkGroup {
            keys,
            unique: false,
        });
    }

    // Unique indexes: one column of each made unique by the row index.
    let mut unique = vec![false; selected.len()];
    for idx in &table.uniques {
        if !idx.iter().all(is_selected) {
            continue;
        }
        let positions: Vec<usize> = idx
            .iter()
            .filter_map(|a| selected.iter().position(|c| c.attnum == *a))
            .collect();
        if positions
            .iter()
            .any(|p| unique[*p] || fk_of[*p].is_some_and(|(g, _)| groups[g].unique))
        {
            continue;
        }
        match positions.iter().find(|p| fk_of[**p].is_none()) {
            Some(p) => unique[*p] = true,
            None => {
                if let Some((g, _)) = positions.first().and_then(|p| fk_of[*p]) {
                    groups[g].unique = true;
                }
            }
        }
    }
    let existing: u64 = if unique.iter().any(|u| *u) || groups.iter().any(|g| g.unique) {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", table.sql), &[])
            .map_err(|e| db_err("Cannot count the table's rows", &e))?
            .get(0);
        n as u64
    } else {
        0
    };
    for g in &groups {
        if g.unique && rows + existing > g.keys.len() as u64 {
            return Err(Error::new(
                Exit::Seed,
                "Not enough parent rows for a unique foreign key",
            )
            .field("table", table.display.clone())
            .field("parentKeys", g.keys.len())
            .field("rows", rows)
            .suggest("Generate fewer rows or more parent rows"));
        }
    }

    let mut sources = Vec::with_capacity(selected.len());
    for (p, c) in selected.iter().enumerate() {
        if let Some((group, pos)) = fk_of[p] {
            sources.push(Source::Fk { group, pos });
            continue;
        }
        let (scalar, array) = match &c.ty {
            Ty::Scalar(s) => (s.clone(), false),
            Ty::Array(s) => (s.clone(), true),
            Ty::Unsupported(name) => {
                if c.not_null {
                    return Err(Error::new(
                        Exit::Seed,
                        "Cannot generate values of this column's type",
                    )
                    .field("table", table.display.clone())
                    .field("column", c.name.clone())
                    .field("type", name.clone())
                    .suggest("Give the column a DEFAULT, or leave it out with --columns"));
                }
                log::warn(
                    "Column type not supported; the column is left NULL",
                    json!({"table": table.display, "column": c.name, "type": name}),
                );
                sources.push(Source::Null);
                continue;
            }
        };
        let rule = if array {
            Rule::default()
        } else {
            rule_for(table, c)
        };
        let numeric = matches!(
            scalar,
            Scalar::Int2
                | Scalar::Int4
                | Scalar::Int8
                | Scalar::Numeric(_)
                | Scalar::Float4
                | Scalar::Float8
        );
        let existing_max = if unique[p] && numeric && existing > 0 {
            tx.query_one(
                &format!(
                    "SELECT max({})::float8 FROM {}",
                    crate::ident::quote(&c.name),
                    table.sql
                ),
                &[],
            )
            .map_err(|e| db_err("Cannot read the column's largest value", &e))?
            .get::<_, Option<f64>>(0)
        } else {
            None
        };
        let gen = ValueGen::new(scalar, rule, unique[p], existing, existing_max);
        if let Some(why) = gen.capacity_problem(rows) {
            return Err(
                Error::new(Exit::Seed, "Cannot generate enough distinct values")
                    .cause(why)
                    .field("table", table.display.clone())
                    .field("column", c.name.clone())
                    .field("rows", rows)
                    .suggest("Generate fewer rows, or widen the column's type or CHECK constraint"),
            );
        }
        sources.push(Source::Value {
            gen,
            array,
            nullable: !c.not_null && !unique[p],
        });
    }

    if selected.is_empty() {
        if rows > 0 {
            tx.execute(
                &format!(
                    "INSERT INTO {} SELECT FROM generate_series(1, $1::int8)",
                    table.sql
                ),
                &[&(rows as i64)],
            )
            .map_err(|e| rejected(table, &e))?;
        }
        log_done(table, rows, seed, start);
        return Ok(rows);
    }

    let cols: Vec<String> = selected
        .iter()
        .map(|c| crate::ident::quote(&c.name))
        .collect();
    let stmt = format!("COPY {} ({}) FROM STDIN", table.sql, cols.join(", "));
    let mut w = tx.copy_in(&stmt).map_err(|e| rejected(table, &e))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
    let mut scratch: Vec<u8> = Vec::with_capacity(256);
    let mut picks: Vec<Option<usize>> = vec![None; groups.len()];
    let mut last_progress = Instant::now();
    for i in 0..rows {
        for (g, grp) in groups.iter().enumerate() {
            picks[g] = if grp.keys.is_empty() {
                None
            } else if grp.unique {
                Some((i + existing) as usize)
            } else {
                Some(rng.gen_range(0..grp.keys.len()))
            };
        }
        for (j, s) in sources.iter().enumerate() {
            if j > 0 {
                buf.push(b'\t');
            }
            match s {
                Source::Null => buf.extend_from_slice(b"\\N"),
                Source::Fk { group, pos } => match picks[*group] {
                    Some(k) => esc(&mut buf, &groups[*group].keys[k][*pos]),
                    None => buf.extend_from_slice(b"\\N"),
                },
                Source::Value {
                    gen,
                    array,
                    nullable,
                } => {
                    if *nullable && rng.gen_ratio(1, 10) {
                        buf.extend_from_slice(b"\\N");
                    } else if *array {
                        gen.write_array(&mut rng, i, &mut buf, &mut scratch);
                    } else {
                        gen.write(&mut rng, i, &mut buf);
                    }
                }
            }
        }
        buf.push(b'\n');
        if buf.len() >= CHUNK {
            if let Err(e) = w.write_all(&buf) {
                return Err(copy_failed(table, w, e));
            }
            buf.clear();
        }
        if i & 0x3fff == 0x3fff {
            if let Err(e) = interrupt::check() {
                drop(w);
                return Err(e);
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                let secs = start.elapsed().as_secs_f64().max(0.001);
                log::info(
                    "Generating rows",
                    json!({"table": table.display, "rows": i + 1, "of": rows, "rowsPerSecond": ((i + 1) as f64 / secs) as u64}),
                );
            }
        }
    }
    if let Err(e) = w.write_all(&buf) {
        return Err(copy_failed(table, w, e));
    }
    interrupt::check()?;
    let n = w.finish().map_err(|e| rejected(table, &e))?;
    advance_sequences(tx, table, &selected)?;
    log_done(table, n, seed, start);
    Ok(n)
}

/// After explicit values went into serial or identity columns, moves their
/// sequences past the largest value, so later inserts do not collide.
fn advance_sequences(
    tx: &mut Transaction<'_>,
    table: &Table,
    selected: &[&introspect::Column],
) -> Result<()> {
    for c in selected.iter().filter(|c| c.identity || c.has_default) {
        let seq: Option<String> = tx
            .query_one(
                "SELECT pg_get_serial_sequence($1, $2)",
                &[&table.sql, &c.name],
            )
            .map_err(|e| db_err("Cannot find the column's sequence", &e))?
            .get(0);
        if let Some(seq) = seq {
            let col = crate::ident::quote(&c.name);
            tx.execute(
                &format!(
                    "SELECT setval($1::text::regclass, m) FROM (SELECT max({col})::int8 AS m FROM {}) s WHERE m IS NOT NULL",
                    table.sql
                ),
                &[&seq],
            )
            .map_err(|e| db_err("Cannot advance the column's sequence", &e))?;
            log::debug(
                "Sequence advanced",
                json!({"table": table.display, "column": c.name, "sequence": seq}),
            );
        }
    }
    Ok(())
}

fn log_done(table: &Table, rows: u64, seed: u64, start: Instant) {
    let secs = start.elapsed().as_secs_f64().max(0.001);
    log::info(
        "Table filled",
        json!({"table": table.display, "rows": rows, "seed": seed, "durationMs": start.elapsed().as_millis() as u64, "rowsPerSecond": (rows as f64 / secs) as u64}),
    );
}

fn copy_failed(table: &Table, w: postgres::CopyInWriter<'_>, e: std::io::Error) -> Error {
    if interrupt::received().is_some() {
        return interrupt::error();
    }
    match crate::sql::copy_write_failure(w, e) {
        Ok(pg) => rejected(table, &pg),
        Err(e) => Error::new(Exit::Seed, "Cannot stream the generated rows")
            .cause(e)
            .field("table", table.display.clone()),
    }
}

fn rejected(table: &Table, e: &postgres::Error) -> Error {
    if interrupt::received().is_some() {
        return interrupt::error();
    }
    let mut err = crate::sql::with_db_error(
        Error::new(Exit::Seed, "The database rejected the generated rows"),
        e,
    )
    .field("table", table.display.clone());
    if let Some(d) = e.as_db_error() {
        if let Some(c) = d.column() {
            err = err.field("column", c.to_string());
        }
        if let Some(c) = d.constraint() {
            err = err.field("constraint", c.to_string());
        }
    }
    err.suggest("A constraint pg-seed cannot read (see the warnings) rejected a row: give the column a default, limit --columns, or seed it with a SQL file")
}
