//! `pg-seed generate --all`: every table of the chosen schemas, filled in
//! dependency order in one transaction.
//!
//! The plan: tables (partitions are filled through their parent; tracking
//! tables and extension tables are left out), foreign-key edges between
//! them, cycles broken through an edge whose columns are nullable or whose
//! constraint is deferrable (filled later: NULL or a placeholder first, then
//! an UPDATE once every table has rows), a cycle with no such edge named and
//! refused, and row counts raised where children need them (a 1:1 child
//! needs a parent per row, a junction enough distinct pairs).

use crate::cli::GenerateArgs;
use crate::fill::{self, left_out, table_seed, Filled, Request};
use crate::introspect::{self, Table};
use crate::sql::db_err;
use pgkit::cli::Summary;
use pgkit::{interrupt, log, out, Error, Exit, Result};
use postgres::types::Oid;
use postgres::Transaction;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tables that record what other tools did: never filled.
const TRACKING: &[&str] = &[
    "schema_seeds",
    "schema_migrations",
    "goose_db_version",
    "_sqlx_migrations",
    "__diesel_schema_migrations",
    "flyway_schema_history",
    "refinery_schema_history",
];

/// One table of the plan.
struct Step {
    table: Table,
    rows: u64,
    /// Foreign keys filled once every table has rows.
    later: Vec<String>,
}

fn matches(pattern: &str, t: &Table) -> bool {
    let bare = t.display.rsplit('.').next().unwrap_or(&t.display);
    pattern == t.display || pattern == bare
}

/// Reads `T=N` pairs.
fn per_table(specs: &[String]) -> Result<Vec<(String, u64)>> {
    specs
        .iter()
        .map(|s| {
            let (t, n) = s.rsplit_once('=').ok_or_else(|| {
                Error::usage("Invalid --rows-per-table")
                    .field("value", s.clone())
                    .suggest("Write TABLE=N, e.g. --rows-per-table public.orders=5000")
            })?;
            let n: u64 = n.trim().parse().map_err(|_| {
                Error::usage("Invalid --rows-per-table")
                    .field("value", s.clone())
                    .suggest("Write TABLE=N with N a whole number")
            })?;
            Ok((t.trim().to_string(), n))
        })
        .collect()
}

fn plan(tx: &mut Transaction<'_>, g: &GenerateArgs) -> Result<Vec<Step>> {
    let schemas: Vec<String> = if g.schemas.is_empty() {
        tx.query(
            "SELECT nspname::text FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_'
             ORDER BY 1",
            &[],
        )
        .map_err(|e| db_err("Cannot list the schemas", &e))?
        .iter()
        .map(|r| r.get(0))
        .collect()
    } else {
        g.schemas.clone()
    };
    let oids: Vec<Oid> = tx
        .query(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
             ORDER BY n.nspname, c.relname",
            &[&schemas],
        )
        .map_err(|e| db_err("Cannot list the tables", &e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let overrides = per_table(&g.rows_per_table)?;
    let mut tables = Vec::new();
    for oid in oids {
        let t = introspect::load(tx, oid)?;
        let bare = t.display.rsplit('.').next().unwrap_or("");
        if TRACKING.contains(&bare) || g.exclude.iter().any(|p| matches(p, &t)) {
            continue;
        }
        tables.push(t);
    }
    for (name, _) in &overrides {
        if !tables.iter().any(|t| matches(name, t)) {
            return Err(
                Error::usage("--rows-per-table names a table that is not planned")
                    .field("table", name.clone())
                    .suggest("Name a table of the chosen schemas as schema.table or table"),
            );
        }
    }
    let index: HashMap<Oid, usize> = tables.iter().enumerate().map(|(i, t)| (t.oid, i)).collect();

    // Edges child → parent, each with whether it can be filled later.
    let mut later: Vec<Vec<String>> = vec![Vec::new(); tables.len()];
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); tables.len()];
    let mut edge_fk: BTreeMap<(usize, usize), Vec<(String, bool)>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        for fk in &t.fks {
            let Some(&p) = index.get(&fk.parent) else {
                continue;
            };
            let generated = fk.cols.iter().all(|a| {
                t.columns
                    .iter()
                    .any(|c| c.attnum == *a && left_out(t, c, &[]).is_none())
            });
            if !generated {
                continue;
            }
            let nullable = fk
                .cols
                .iter()
                .any(|a| t.columns.iter().any(|c| c.attnum == *a && !c.not_null));
            let breakable = nullable || fk.deferrable;
            if p == i {
                // A self-reference: set once the table has rows.
                if breakable {
                    later[i].push(fk.name.clone());
                }
                continue;
            }
            edges[i].insert(p);
            edge_fk
                .entry((i, p))
                .or_default()
                .push((fk.name.clone(), breakable));
        }
    }
    // Break cycles: within each strongly connected component, every
    // breakable edge is filled later; what remains must be acyclic.
    for comp in components(&edges) {
        if comp.len() < 2 {
            continue;
        }
        for &i in &comp {
            let parents: Vec<usize> = edges[i]
                .iter()
                .copied()
                .filter(|p| comp.contains(p))
                .collect();
            for p in parents {
                let fks = &edge_fk[&(i, p)];
                if fks.iter().all(|(_, b)| *b) {
                    edges[i].remove(&p);
                    later[i].extend(fks.iter().map(|(n, _)| n.clone()));
                }
            }
        }
    }
    {
        for sub in components(&edges) {
            if sub.len() > 1 {
                let names: Vec<String> = sub.iter().map(|i| tables[*i].display.clone()).collect();
                let fks: Vec<String> = edge_fk
                    .iter()
                    .filter(|((c, p), _)| sub.contains(c) && sub.contains(p))
                    .flat_map(|(_, v)| v.iter().map(|(n, _)| n.clone()))
                    .collect();
                return Err(Error::new(Exit::Seed, "Foreign keys form a cycle that cannot be broken")
                    .field("tables", names)
                    .field("foreignKeys", fks)
                    .suggest("Make one foreign key of the cycle nullable or DEFERRABLE, or leave a table out with --exclude and seed it with SQL"));
            }
        }
    }
    // Order: parents first (Kahn, by name for a stable plan).
    let mut order = Vec::with_capacity(tables.len());
    let mut done = vec![false; tables.len()];
    while order.len() < tables.len() {
        let next = (0..tables.len()).find(|i| !done[*i] && edges[*i].iter().all(|p| done[*p]));
        let Some(i) = next else {
            return Err(Error::new(
                Exit::Seed,
                "Dependency order not found (a bug: please report it)",
            ));
        };
        done[i] = true;
        order.push(i);
    }
    // Rows: the asked number, raised for parents whose children need more.
    let base = g.rows.unwrap_or(100);
    let mut rows: Vec<u64> = tables
        .iter()
        .map(|t| {
            overrides
                .iter()
                .rev()
                .find(|(n, _)| matches(n, t))
                .map_or(base, |(_, n)| *n)
        })
        .collect();
    for &i in order.iter().rev() {
        let t = &tables[i];
        for fk in &t.fks {
            let Some(&p) = index.get(&fk.parent) else {
                continue;
            };
            if p == i {
                continue;
            }
            let mut cols = fk.cols.clone();
            cols.sort_unstable();
            for idx in &t.uniques {
                let mut u = idx.clone();
                u.sort_unstable();
                if u == cols {
                    rows[p] = rows[p].max(rows[i]);
                } else if cols.iter().all(|c| u.contains(c)) {
                    let side = (rows[i] as f64).sqrt().ceil() as u64 + 1;
                    rows[p] = rows[p].max(side);
                }
            }
        }
    }
    let mut steps = Vec::with_capacity(order.len());
    let mut slots: Vec<Option<Table>> = tables.into_iter().map(Some).collect();
    for i in order {
        if let Some(table) = slots[i].take() {
            steps.push(Step {
                table,
                rows: rows[i],
                later: std::mem::take(&mut later[i]),
            });
        }
    }
    Ok(steps)
}

/// Strongly connected components (Tarjan, iterative enough for schemas).
fn components(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct S<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut S<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = edges.len();
    let mut s = S {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// Columns left to the database, with why (for `--dry-run`).
fn defaults_note(t: &Table) -> String {
    let notes: Vec<String> = t
        .columns
        .iter()
        .filter_map(|c| left_out(t, c, &[]).map(|why| format!("{} ({why})", c.name)))
        .collect();
    notes.join(", ")
}

pub fn run(g: &GenerateArgs, mut tx: Transaction<'_>, seed: u64) -> Result<Summary> {
    let steps = plan(&mut tx, g)?;
    if g.dry_run {
        let mut text = String::from("order\ttable\trows\tfilled later\tleft to the database\n");
        for (k, s) in steps.iter().enumerate() {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                k + 1,
                s.table.display,
                s.rows,
                if s.later.is_empty() {
                    "-".to_string()
                } else {
                    s.later.join(", ")
                },
                defaults_note(&s.table),
            ));
        }
        out::print(&text)?;
        return Ok(Summary::ok("Plan printed; nothing generated")
            .field("tables", steps.len())
            .field("seed", seed));
    }
    let mut filled: Vec<Filled> = Vec::with_capacity(steps.len());
    for (k, s) in steps.iter().enumerate() {
        interrupt::check()?;
        let f = fill::fill(
            &mut tx,
            &s.table,
            &Request {
                rows: s.rows,
                seed: table_seed(seed, k),
                only: &[],
                later: &s.later,
            },
        )?;
        filled.push(f);
    }
    for f in &filled {
        fill::set_later(&mut tx, f)?;
    }
    interrupt::check()?;
    tx.commit()
        .map_err(|e| db_err("Cannot commit the generated rows", &e))?;
    let mut total = 0u64;
    for f in &filled {
        f.log();
        total += f.rows;
    }
    let empty: Vec<String> = filled
        .iter()
        .filter(|f| {
            f.rows == 0
                && steps
                    .iter()
                    .any(|s| s.table.display == f.display && s.rows > 0)
        })
        .map(|f| f.display.clone())
        .collect();
    if !empty.is_empty() {
        log::warn("Tables left without rows", json!({"tables": empty}));
    }
    Ok(Summary::ok("Rows generated")
        .field("tables", filled.len())
        .field("rows", total)
        .field("seed", seed))
}
