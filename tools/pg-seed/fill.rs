//! Filling one table with synthetic rows, inside the caller's transaction.
//!
//! Two ways in. The direct way streams rows straight into the table through
//! COPY: used when every constraint on the generated columns is one pg-seed
//! understands, so no row can be refused (the fast path the benchmarks
//! measure). The checked way (staged.rs) is used when the server must judge:
//! CHECKs of other forms, partial or expression unique indexes, exclusion
//! constraints, partition bounds, rows already in a table with unique keys.

use crate::checks::{self, Rule};
use crate::introspect::{self, Scalar, Table, Ty};
use crate::rowgen::{gcd, Combo, FkGroup, RowGen, Source};
use crate::sql::{db_err, rejected};
use crate::staged;
use crate::values::ValueGen;
use pgkit::{interrupt, log, Error, Exit, Result};
use postgres::Transaction;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

const CHUNK: usize = 256 * 1024;
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// The seed of the k-th table of a run (k = 0 for the target itself).
pub fn table_seed(seed: u64, k: usize) -> u64 {
    if k == 0 {
        seed
    } else {
        seed.wrapping_add((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

/// What the caller asks of one table.
pub struct Request<'a> {
    pub rows: u64,
    pub seed: u64,
    /// Exactly these columns (`--columns`); empty: the usual choice.
    pub only: &'a [String],
    /// Foreign keys (by constraint name) filled after every table.
    pub later: &'a [String],
}

/// What was done, logged by the caller once the transaction committed.
pub struct Filled {
    pub display: String,
    pub rows: u64,
    pub seed: u64,
    pub duration: Duration,
    /// Foreign keys to set once every table is filled.
    pub later: Vec<introspect::ForeignKey>,
    pub oid: postgres::types::Oid,
    pub sql: String,
}

impl Filled {
    pub fn log(&self) {
        let secs = self.duration.as_secs_f64().max(0.001);
        log::info(
            "Table filled",
            json!({"table": self.display, "rows": self.rows, "seed": self.seed, "durationMs": self.duration.as_millis() as u64, "rowsPerSecond": (self.rows as f64 / secs) as u64}),
        );
    }
}

pub fn regclass(tx: &mut Transaction<'_>, oid: postgres::types::Oid) -> Result<String> {
    tx.query_one("SELECT $1::oid::regclass::text", &[&oid])
        .map(|r| r.get(0))
        .map_err(|e| db_err("Cannot name a table", &e))
}

/// Why a column is not generated (None: it is).
pub fn left_out(table: &Table, c: &introspect::Column, only: &[String]) -> Option<&'static str> {
    if !only.is_empty() {
        return (!only.contains(&c.name)).then_some("not in --columns");
    }
    if c.generated {
        Some("generated column")
    } else if c.identity {
        Some("identity")
    } else if table.trigger_cols.contains(&c.attnum) {
        Some("set by a BEFORE INSERT trigger")
    } else if c.has_default && !(constant(c.default_expr.as_deref()) && in_unique(table, c)) {
        Some("has a default")
    } else {
        None
    }
}

/// Whether a default gives every row the same value (`'/'`, `0`), as
/// opposed to a sequence, a clock or a random function. A unique column
/// with such a default is generated: left to it, a second row collides.
fn constant(expr: Option<&str>) -> bool {
    let Some(e) = expr else { return false };
    let b = e.as_bytes();
    let call = (1..b.len())
        .any(|i| b[i] == b'(' && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
    !call && !e.contains("CURRENT_") && !e.contains("LOCAL")
}

/// A column whose constant default could break a rule: it is in a unique
/// key, or a CHECK names it (AdventureWorks has `shipbase DEFAULT 0.00`
/// with `CHECK (shipbase > 0.00)`).
fn in_unique(table: &Table, c: &introspect::Column) -> bool {
    table.uniques.iter().any(|u| u.contains(&c.attnum))
        || table.checks.iter().any(|k| k.attnums.contains(&c.attnum))
}

/// The rule of a column from its CHECK constraints and its domains' ones,
/// and whether all of them were understood. A CHECK not understood hands
/// its string literals to the generator as candidates.
fn rule_for(table: &Table, col: &introspect::Column, array: bool) -> (Rule, Vec<String>) {
    let mut rule = Rule::default();
    let mut not_understood = Vec::new();
    // A table CHECK on an array column is about the whole array: the server
    // judges it; the element domain's CHECKs shape each element.
    for c in table.checks.iter().filter(|_| !array) {
        if c.attnums.as_slice() != [col.attnum] {
            continue;
        }
        match checks::parse(&c.def, &col.name) {
            Some(r) => rule.and(r),
            None => {
                rule.hints.extend(checks::literals(&c.def));
                not_understood.push(c.name.clone());
            }
        }
    }
    for def in &col.domain_checks {
        match checks::parse(def, "VALUE") {
            Some(r) => rule.and(r),
            None => {
                rule.hints.extend(checks::literals(def));
                not_understood.push(format!("domain CHECK {def}"));
            }
        }
    }
    (rule, not_understood)
}

fn unknown_column(table: &Table, name: &str) -> Error {
    Error::new(Exit::Seed, "Unknown column")
        .field("table", table.display.clone())
        .field("column", name.to_string())
        .suggest("Name columns of the table in --columns, comma-separated, as spelled in the table")
}

/// Fills `table` with `req.rows` rows; the caller commits.
pub fn fill(tx: &mut Transaction<'_>, table: &Table, req: &Request<'_>) -> Result<Filled> {
    let start = Instant::now();
    let (rows, seed, only) = (req.rows, req.seed, req.only);
    for name in only {
        let Some(c) = table.columns.iter().find(|c| &c.name == name) else {
            return Err(unknown_column(table, name));
        };
        if c.generated {
            return Err(Error::new(Exit::Seed, "Cannot generate a generated column")
                .field("table", table.display.clone())
                .field("column", name.clone())
                .suggest("Leave generated columns out of --columns: the database computes them"));
        }
        if c.identity_always {
            return Err(Error::new(Exit::Seed, "Cannot generate a GENERATED ALWAYS identity column")
                .field("table", table.display.clone())
                .field("column", name.clone())
                .suggest("Leave it out of --columns (the database numbers it), or make it GENERATED BY DEFAULT"));
        }
    }
    // Two runs on one table wait for each other rather than collide; reads
    // go on. Taken before anything is counted.
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
        table.sql
    ))
    .map_err(|e| db_err("Cannot lock the table", &e))?;

    let selected: Vec<&introspect::Column> = table
        .columns
        .iter()
        .filter(|c| left_out(table, c, only).is_none())
        .collect();
    let is_selected = |a: &i16| selected.iter().any(|c| c.attnum == *a);
    let mut staged_why: Vec<String> = Vec::new();
    for c in &table.checks {
        if c.attnums.len() != 1 && c.attnums.iter().any(is_selected) {
            staged_why.push(format!("CHECK {}", c.name));
        }
    }
    staged_why.extend(table.other_uniques.iter().map(|n| format!("index {n}")));
    if let Some(p) = &table.partitioning {
        if p.strategy != 'h' && !p.bounds.iter().any(|b| b == "DEFAULT") {
            staged_why.push("partition bounds".into());
        }
    }
    if table.is_partition {
        staged_why.push("partition bound".into());
    }

    // Foreign keys whose columns we generate: the parent keys, loaded once.
    let mut groups: Vec<FkGroup> = Vec::new();
    let mut fk_of: Vec<Option<(usize, usize)>> = vec![None; selected.len()];
    let mut later = Vec::new();
    let mut placeholder = vec![false; selected.len()];
    for fk in &table.fks {
        if !fk.cols.iter().all(is_selected) {
            continue;
        }
        let pos_of = |a: &i16| selected.iter().position(|c| c.attnum == *a);
        if fk
            .cols
            .iter()
            .any(|a| pos_of(a).and_then(|p| fk_of[p]).is_some())
        {
            continue;
        }
        if req.later.contains(&fk.name) {
            // Set after every table is filled; NULL now, or for a NOT NULL
            // deferrable key a value of the right type (checked at commit,
            // by when it has been replaced).
            for a in &fk.cols {
                if let Some(p) = pos_of(a) {
                    placeholder[p] = selected[p].not_null;
                }
            }
            later.push(fk.clone());
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
                .suggest("Insert a first row (e.g. a root referencing itself) with a SQL seed, or make the foreign key DEFERRABLE, then generate"));
        }
        if keys.is_empty() && !nullable && rows > 0 {
            return Err(Error::new(Exit::Seed, "Parent table is empty")
                .field("table", table.display.clone())
                .field("foreignKey", fk.name.clone())
                .field("parent", parent)
                .suggest(
                    "Seed the parent table first, or pass --with-parents (or --all) to generate its rows too",
                ));
        }
        let g = groups.len();
        for (pos, a) in fk.cols.iter().enumerate() {
            if let Some(p) = pos_of(a) {
                fk_of[p] = Some((g, pos));
            }
        }
        let ccols: Vec<String> = fk
            .cols
            .iter()
            .filter_map(|a| table.columns.iter().find(|c| c.attnum == *a))
            .map(|c| format!("c.{}", crate::ident::quote(&c.name)))
            .collect();
        let joins: Vec<String> = ccols
            .iter()
            .zip(&cols)
            .map(|(c, p)| format!("{c} = p.{p}"))
            .collect();
        let pcasts: Vec<String> = cols.iter().map(|c| format!("p.{c}::text")).collect();
        let pnn: Vec<String> = cols.iter().map(|c| format!("p.{c} IS NOT NULL")).collect();
        let free_sql = format!(
            "SELECT DISTINCT {} FROM {parent} p WHERE {} AND NOT EXISTS (SELECT 1 FROM {} c WHERE {}) ORDER BY 1",
            pcasts.join(", "),
            pnn.join(" AND "),
            table.sql,
            joins.join(" AND ")
        );
        groups.push(FkGroup {
            keys,
            unique: false,
            combo: None,
            free_sql,
        });
    }

    // Unique indexes: one column of each made unique by the row index; a
    // unique key made only of foreign keys takes distinct parent tuples.
    let mut unique = vec![false; selected.len()];
    let mut combos: Vec<Combo> = Vec::new();
    let mut rng_combo = StdRng::seed_from_u64(seed ^ 0x5eed_c0b0);
    for idx in &table.uniques {
        if !idx.iter().all(is_selected) {
            continue;
        }
        let positions: Vec<usize> = idx
            .iter()
            .filter_map(|a| selected.iter().position(|c| c.attnum == *a))
            .collect();
        let covered = |p: &usize| {
            unique[*p]
                || fk_of[*p].is_some_and(|(g, _)| groups[g].unique || groups[g].combo.is_some())
        };
        if positions.iter().any(covered) {
            continue;
        }
        if let Some(p) = positions.iter().find(|p| fk_of[**p].is_none()) {
            unique[*p] = true;
            continue;
        }
        let mut gs: Vec<usize> = positions
            .iter()
            .filter_map(|p| fk_of[*p].map(|f| f.0))
            .collect();
        gs.sort_unstable();
        gs.dedup();
        if gs.len() == 1 {
            groups[gs[0]].unique = true;
            continue;
        }
        let total = gs
            .iter()
            .map(|g| groups[*g].keys.len().max(1) as u64)
            .fold(1u64, |a, b| a.saturating_mul(b));
        let mut a = rng_combo.gen_range(1..total.max(2)) | 1;
        while gcd(a, total) != 1 {
            a += 1;
        }
        let b = rng_combo.gen_range(0..total.max(1));
        for g in &gs {
            groups[*g].combo = Some(combos.len());
        }
        combos.push(Combo {
            groups: gs,
            total,
            a,
            b,
        });
    }
    let any_unique =
        unique.iter().any(|u| *u) || groups.iter().any(|g| g.unique) || !combos.is_empty();
    let existing: u64 = if any_unique {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", table.sql), &[])
            .map_err(|e| db_err("Cannot count the table's rows", &e))?
            .get(0);
        n as u64
    } else {
        0
    };
    if existing > 0 && any_unique {
        // Values derived from the row index may meet rows already there
        // (after a DELETE the count is below the largest index used).
        staged_why.push("rows already present".into());
    }
    for g in &groups {
        if g.unique && rows + existing > g.keys.len() as u64 {
            return Err(Error::new(Exit::Seed, "Not enough parent rows for a unique foreign key")
                .field("table", table.display.clone())
                .field("parentKeys", g.keys.len())
                .field("existingRows", existing)
                .field("rows", rows)
                .suggest("Each row needs a parent of its own (1:1): generate more parent rows (--parent-rows) or fewer rows"));
        }
    }
    for c in &combos {
        if rows + existing > c.total {
            return Err(Error::new(Exit::Seed, "Not enough parent key combinations for a unique key over foreign keys")
                .field("table", table.display.clone())
                .field("combinations", c.total)
                .field("existingRows", existing)
                .field("rows", rows)
                .suggest("Each row needs a combination of parents of its own: generate more parent rows (--parent-rows) or fewer rows"));
        }
    }

    let mut sources = Vec::with_capacity(selected.len());
    for (p, c) in selected.iter().enumerate() {
        if let Some((group, pos)) = fk_of[p] {
            sources.push(Source::Fk { group, pos });
            continue;
        }
        let is_later_fk = later.iter().any(|fk| fk.cols.contains(&c.attnum));
        if is_later_fk && !placeholder[p] {
            sources.push(Source::Null);
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
        let (rule, mut not_understood) = rule_for(table, c, array);
        if array {
            not_understood.extend(
                table
                    .checks
                    .iter()
                    .filter(|k| k.attnums.as_slice() == [c.attnum])
                    .map(|k| k.name.clone()),
            );
        }
        if let Some(why) = rule.contradiction() {
            return Err(Error::new(
                Exit::Seed,
                "Contradictory CHECK constraint: no value can satisfy it",
            )
            .cause(why)
            .field("table", table.display.clone())
            .field("column", c.name.clone())
            .suggest("Fix the constraint; as it stands no row can ever be inserted"));
        }
        staged_why.extend(not_understood.into_iter().map(|n| format!("CHECK {n}")));
        if rule.pattern.is_some() {
            staged_why.push(format!("pattern on {}", c.name));
        }
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
            gen: Box::new(gen),
            array,
            nullable: !c.not_null && !unique[p],
        });
    }

    let done = |n: u64| Filled {
        display: table.display.clone(),
        rows: n,
        seed,
        duration: start.elapsed(),
        later: later.clone(),
        oid: table.oid,
        sql: table.sql.clone(),
    };
    if rows == 0 {
        return Ok(done(0));
    }
    if selected.is_empty() {
        tx.execute(
            &format!(
                "INSERT INTO {} SELECT FROM generate_series(1, $1::int8)",
                table.sql
            ),
            &[&(rows as i64)],
        )
        .map_err(|e| rejected(&table.display, &e))?;
        return Ok(done(rows));
    }

    let mut gen = RowGen {
        sources,
        groups,
        combos,
        existing,
        unique_base: None,
    };
    let n = if staged_why.is_empty() {
        direct(tx, table, &selected, &gen, rows, seed, start)?
    } else {
        staged_why.sort();
        staged_why.dedup();
        log::debug(
            "Rows are checked on the server before they are kept",
            json!({"table": table.display, "reasons": staged_why}),
        );
        staged::fill(tx, table, &selected, &mut gen, rows, seed)?
    };
    advance_sequences(tx, table, &selected)?;
    Ok(done(n))
}

/// Streams rows straight into the table.
fn direct(
    tx: &mut Transaction<'_>,
    table: &Table,
    selected: &[&introspect::Column],
    gen: &RowGen,
    rows: u64,
    seed: u64,
    start: Instant,
) -> Result<u64> {
    let cols: Vec<String> = selected
        .iter()
        .map(|c| crate::ident::quote(&c.name))
        .collect();
    let stmt = format!("COPY {} ({}) FROM STDIN", table.sql, cols.join(", "));
    let mut w = tx
        .copy_in(&stmt)
        .map_err(|e| rejected(&table.display, &e))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
    let mut scratch: Vec<u8> = Vec::with_capacity(256);
    let mut picks: Vec<Option<usize>> = Vec::new();
    let mut last_progress = Instant::now();
    let what = format!("Generating {}", table.display);
    let progress = pgkit::progress::Progress::items(&what, "rows", Some(rows));
    for i in 0..rows {
        gen.write_rows(&mut rng, i, &mut buf, &mut scratch, &mut picks, false);
        if buf.len() >= CHUNK {
            if let Err(e) = w.write_all(&buf) {
                return Err(copy_failed(table, w, e));
            }
            buf.clear();
        }
        if i & 0x3fff == 0x3fff {
            progress.set(i + 1);
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
    w.finish().map_err(|e| rejected(&table.display, &e))
}

/// After explicit values went into serial or identity columns, moves their
/// sequences past the largest value, so later inserts do not collide; a
/// sequence already further on stays where it is.
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
                    "SELECT setval(q.s, m) FROM (SELECT $1::text::regclass AS s) q,
                       (SELECT max({col})::int8 AS m FROM {}) t
                     WHERE m IS NOT NULL
                       AND m > coalesce(pg_sequence_last_value(q.s),
                                        (SELECT seqstart - 1 FROM pg_sequence WHERE seqrelid = q.s))",
                    table.sql
                ),
                &[&seq],
            )
            .map_err(|e| db_err("Cannot advance the column's sequence", &e))?;
            log::debug(
                "Sequence checked",
                json!({"table": table.display, "column": c.name, "sequence": seq}),
            );
        }
    }
    Ok(())
}

/// Sets the foreign keys left for later (cycle edges, self-references):
/// each row this run inserted takes a parent key, spread evenly (row k the
/// k-th key modulo their number, so a unique key stays unique). This run's
/// rows are those whose xmin is our transaction's xid or one of its
/// subtransactions' (assigned later, so larger); nobody else can have
/// inserted meanwhile, since the table is locked against writers.
pub fn set_later(tx: &mut Transaction<'_>, f: &Filled) -> Result<()> {
    for fk in &f.later {
        let parent = regclass(tx, fk.parent)?;
        let pcols: Vec<String> = fk
            .parent_cols
            .iter()
            .map(|c| crate::ident::quote(c))
            .collect();
        // In conkey order.
        let mut ccols = Vec::new();
        for a in &fk.cols {
            let n: String = tx
                .query_one(
                    "SELECT attname::text FROM pg_attribute WHERE attrelid = $1 AND attnum = $2",
                    &[&f.oid, a],
                )
                .map_err(|e| db_err("Cannot read the foreign key's columns", &e))?
                .get(0);
            ccols.push(crate::ident::quote(&n));
        }
        let set: Vec<String> = ccols
            .iter()
            .zip(pcols.iter().enumerate())
            .map(|(c, (k, _))| format!("{c} = p.k{k}"))
            .collect();
        let pick: Vec<String> = pcols
            .iter()
            .enumerate()
            .map(|(k, c)| format!("{c} AS k{k}"))
            .collect();
        let not_null: Vec<String> = pcols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let sql = format!(
            "WITH p AS (SELECT {pick}, (row_number() OVER (ORDER BY {order}) - 1) AS rn, count(*) OVER () AS n
                        FROM {parent} WHERE {nn}),
                  c AS (SELECT tableoid AS o, ctid AS t, (row_number() OVER (ORDER BY tableoid, ctid) - 1) AS rn
                        FROM {child} WHERE xmin::text::int8 >= txid_current() % 4294967296)
             UPDATE {child} x SET {set} FROM c JOIN p ON p.rn = (c.rn + {shift}) % p.n
             WHERE x.tableoid = c.o AND x.ctid = c.t",
            pick = pick.join(", "),
            order = pcols.join(", "),
            nn = not_null.join(" AND "),
            child = f.sql,
            set = set.join(", "),
            // A self-reference points at the next row, not at itself.
            shift = u8::from(fk.parent == f.oid),
        );
        tx.execute(&sql, &[]).map_err(|e| {
            db_err("Cannot set the foreign key that closes a cycle", &e)
                .field("table", f.display.clone())
                .field("foreignKey", fk.name.clone())
        })?;
    }
    Ok(())
}

fn copy_failed(table: &Table, w: postgres::CopyInWriter<'_>, e: std::io::Error) -> Error {
    if interrupt::received().is_some() {
        return interrupt::error();
    }
    match crate::sql::copy_write_failure(w, e) {
        Ok(pg) => rejected(&table.display, &pg),
        Err(e) => Error::new(Exit::Seed, "Cannot stream the generated rows")
            .cause(e)
            .field("table", table.display.clone()),
    }
}
