//! pg-seed generate --all on real schemas (pagila, chinook, AdventureWorks:
//! public samples in tests/fixtures/schemas with their sources and
//! licences; hard_parts:
//! junctions, cycles, partitions, triggers, CHECKs, domains, extension
//! types), on PostgreSQL 15 and, when PGKIT_PG18_BINDIR is set, 18; and the
//! generate defects of issue 15, each with a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use pgkit::server::{Options, TempServer};
use serde_json::Value;

use common::pagila_for as pagila;

fn major(s: &TempServer) -> i32 {
    let mut c = s.client("postgres").unwrap();
    c.query_one(
        "SELECT current_setting('server_version_num')::int / 10000",
        &[],
    )
    .unwrap()
    .get(0)
}

fn pg18() -> Option<TempServer> {
    let d = std::path::PathBuf::from(std::env::var_os("PGKIT_PG18_BINDIR")?);
    if !d.join("postgres").exists() {
        return None;
    }
    Some(
        TempServer::start(Options {
            bindir: Some(d),
            ..Default::default()
        })
        .unwrap(),
    )
}

fn run_on(url: &str, args: &[&str], code: i32) -> (Vec<Value>, String) {
    let out = cmd("pg-seed")
        .env("DATABASE_URL", url)
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.last().unwrap()["exitCode"], code);
    (lines, String::from_utf8(out.stdout).unwrap())
}

/// Every ordinary table (partitions included) of the user's schemas, with
/// its row count.
fn counts(s: &TempServer, db: &str) -> Vec<(String, i64)> {
    let mut c = s.client(db).unwrap();
    let tables: Vec<String> = c
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname !~ '^pg_' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = c
                .query_one(&format!("SELECT count(*) FROM {t}"), &[])
                .unwrap()
                .get(0);
            (t, n)
        })
        .collect()
}

fn every_table_filled(s: &TempServer, tag: &str) {
    let m = major(s);
    for (name, sql) in [
        ("pagila", pagila(m)),
        ("chinook", schema_fixture("chinook.sql")),
        ("hard_parts", schema_fixture("hard_parts.sql")),
        ("adventureworks", schema_fixture("adventureworks.sql")),
    ] {
        let db = format!("all_{name}_{tag}_{}", std::process::id());
        s.create_database(&db).unwrap();
        s.execute(&db, &sql).unwrap();
        let (lines, stdout) = run_on(&s.url(&db), &["--all", "--rows", "100", "--seed", "7"], 0);
        assert!(stdout.is_empty());
        let last = lines.last().unwrap();
        assert_eq!(last["message"], "Rows generated", "{last}");
        let counts = counts(s, &db);
        assert!(counts.len() >= 11, "{name}: {counts:?}");
        let empty: Vec<&(String, i64)> = counts.iter().filter(|(_, n)| *n == 0).collect();
        assert!(
            empty.is_empty(),
            "{name} on {m}: tables without rows: {empty:?}"
        );
        // "Table filled" comes after the commit, once per planned table.
        assert_eq!(
            lines_with(&lines, "Table filled").len() as u64,
            last["tables"].as_u64().unwrap(),
            "{name}"
        );
        // A second run appends to what is there (unique keys offset or
        // checked on the server), and the foreign keys still hold.
        run_on(&s.url(&db), &["--all", "--rows", "20", "--seed", "8"], 0);
    }
}

#[test]
fn all_fills_every_table_of_four_schemas() {
    every_table_filled(server(), "15");
}

#[test]
fn all_fills_every_table_of_four_schemas_on_18() {
    let Some(s) = pg18() else {
        eprintln!("note: PGKIT_PG18_BINDIR not set; PostgreSQL 18 run skipped (CI sets it)");
        return;
    };
    assert!(major(&s) >= 18);
    every_table_filled(&s, "18");
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let db = fresh_db("all_plan");
    server()
        .execute(&db, &schema_fixture("hard_parts.sql"))
        .unwrap();
    let (lines, stdout) = run_on(&url(&db), &["--all", "--dry-run", "--rows", "10"], 0);
    assert_eq!(
        lines.last().unwrap()["message"],
        "Plan printed; nothing generated"
    );
    let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "order",
            "table",
            "rows",
            "filled later",
            "left to the database"
        ]
    );
    let row = |t: &str| {
        rows.iter()
            .find(|r| r[1] == t)
            .unwrap_or_else(|| panic!("{t}: {stdout}"))
    };
    let pos = |t: &str| row(t)[0].parse::<usize>().unwrap();
    // Parents before children; a cycle's nullable or deferrable edge later.
    assert!(pos("shop.product") < pos("shop.product_bin"));
    assert!(pos("shop.bin") < pos("shop.product_bin"));
    assert!(pos("shop.customer") < pos("shop.orders"));
    assert_eq!(row("shop.department")[3], "department_head_id_fkey");
    assert_eq!(row("shop.warehouse")[3], "warehouse_main_bin_fkey");
    assert_eq!(row("shop.employee")[3], "employee_manager_id_fkey");
    assert!(row("shop.product")[4].contains("search (set by a BEFORE INSERT trigger)"));
    assert!(row("shop.department")[4].contains("id (identity)"));
    // Partitions are filled through their parent and not listed.
    assert!(!rows.iter().any(|r| r[1] == "shop.orders_2024"));
    assert!(counts(server(), &db).iter().all(|(_, n)| *n == 0));
    // --exclude, --schema, --rows-per-table.
    let (_, stdout) = run_on(
        &url(&db),
        &[
            "--all",
            "--dry-run",
            "--schema",
            "shop",
            "--exclude",
            "booking",
            "--rows-per-table",
            "shop.product_detail=40",
            "--rows",
            "10",
        ],
        0,
    );
    assert!(!stdout.contains("shop.booking"));
    // A 1:1 child needs a parent per row: the parent is raised to 40.
    assert!(
        stdout.lines().any(|l| l.contains("\tshop.product\t40\t")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("\tshop.product_detail\t40\t")),
        "{stdout}"
    );
    run_on(&url(&db), &["--all", "--rows-per-table", "nosuch=3"], 64);
}

#[test]
fn a_cycle_that_cannot_be_broken_is_named() {
    let db = fresh_db("all_cycle");
    server()
        .execute(
            &db,
            "CREATE TABLE a (id int PRIMARY KEY, b_id int NOT NULL);
             CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a);
             ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b;",
        )
        .unwrap();
    let (lines, _) = run_on(&url(&db), &["--all", "--rows", "5"], 4);
    let last = lines.last().unwrap();
    assert_eq!(
        last["message"],
        "Foreign keys form a cycle that cannot be broken"
    );
    let tables: Vec<&str> = last["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        tables.contains(&"public.a") && tables.contains(&"public.b"),
        "{last}"
    );
    assert!(last["suggestion"].as_str().unwrap().contains("DEFERRABLE"));
}

#[test]
fn contradictory_checks_are_reported() {
    let db = fresh_db("all_contra");
    server()
        .execute(
            &db,
            "CREATE TABLE c (n int NOT NULL CHECK (n > 10 AND n < 5));
             CREATE TABLE d (name text NOT NULL CONSTRAINT never CHECK (length(name) < 0));",
        )
        .unwrap();
    let (lines, _) = run_on(&url(&db), &["--table", "c", "--rows", "3"], 4);
    assert_eq!(
        lines.last().unwrap()["message"],
        "Contradictory CHECK constraint: no value can satisfy it"
    );
    // One pg-seed cannot read: the server refuses every candidate, bounded.
    let (lines, _) = run_on(&url(&db), &["--table", "d", "--rows", "3"], 4);
    let last = lines.last().unwrap();
    assert_eq!(
        last["message"],
        "No generated row satisfies the table's constraints"
    );
    assert_eq!(last["constraint"], "never");
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM d"), 0);
}

#[test]
fn checks_of_any_form_and_types_are_honoured_on_single_tables() {
    let db = fresh_db("all_checks");
    server()
        .execute(&db, &schema_fixture("hard_parts.sql"))
        .unwrap();
    run_on(
        &url(&db),
        &["--table", "shop.product", "--rows", "300", "--seed", "3"],
        0,
    );
    let bad: i64 = query_value(
        &db,
        "SELECT count(*) FROM shop.product WHERE sku !~ '^[A-Z]{3}-[0-9]{4}$'
            OR upper(category) NOT IN ('BOOK', 'GAME', 'TOOL') OR search IS NULL",
    );
    assert_eq!(bad, 0);
    assert_eq!(
        query_value::<i64>(&db, "SELECT count(*) FROM shop.product"),
        300
    );
    // Exclusion constraint: no two bookings overlap.
    run_on(
        &url(&db),
        &["--table", "shop.booking", "--rows", "200", "--seed", "3"],
        0,
    );
    assert_eq!(
        query_value::<i64>(&db, "SELECT count(*) FROM shop.booking"),
        200
    );
    // Partial unique index and many types.
    run_on(
        &url(&db),
        &["--table", "shop.customer", "--rows", "200", "--seed", "3"],
        0,
    );
    let filled: i64 = query_value(
        &db,
        "SELECT count(*) FROM shop.customer WHERE ip IS NOT NULL OR stay IS NOT NULL OR home IS NOT NULL",
    );
    assert!(filled > 150, "{filled}");
}

#[test]
fn unique_text_after_delete_and_two_runs_at_once() {
    let db = fresh_db("all_uniq");
    server()
        .execute(&db, "CREATE TABLE u (code text UNIQUE NOT NULL, n int)")
        .unwrap();
    run_on(
        &url(&db),
        &["--table", "u", "--rows", "50", "--seed", "1"],
        0,
    );
    server()
        .execute(&db, "DELETE FROM u WHERE n % 2 = 0")
        .unwrap();
    let left: i64 = query_value(&db, "SELECT count(*) FROM u");
    run_on(
        &url(&db),
        &["--table", "u", "--rows", "50", "--seed", "1"],
        0,
    );
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM u"), left + 50);
    // Two runs at once on one table: the second waits for the first's lock.
    let spawn = || {
        std_cmd("pg-seed")
            .env("DATABASE_URL", url(&db))
            .args(["generate", "--table", "u", "--rows", "2000"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for c in [a, b] {
        let out = c.wait_with_output().unwrap();
        assert_success(&out);
    }
    assert_eq!(
        query_value::<i64>(&db, "SELECT count(*) FROM u"),
        left + 4050
    );
}

#[test]
fn sequences_never_move_back_and_identity_always_is_refused() {
    let db = fresh_db("all_seq");
    server()
        .execute(
            &db,
            "CREATE TABLE s (id serial PRIMARY KEY, v int);
             SELECT setval('s_id_seq', 1000);
             CREATE TABLE ga (id int GENERATED ALWAYS AS IDENTITY, v int);",
        )
        .unwrap();
    run_on(
        &url(&db),
        &["--table", "s", "--rows", "10", "--columns", "id,v"],
        0,
    );
    assert_eq!(query_value::<i64>(&db, "SELECT nextval('s_id_seq')"), 1001);
    let (lines, _) = run_on(
        &url(&db),
        &["--table", "ga", "--rows", "1", "--columns", "id"],
        4,
    );
    assert_eq!(
        lines.last().unwrap()["message"],
        "Cannot generate a GENERATED ALWAYS identity column"
    );
}

#[test]
fn parents_rolled_back_are_not_logged_and_one_to_one_children_get_enough_parents() {
    let db = fresh_db("all_parents");
    server()
        .execute(
            &db,
            "CREATE TABLE p (id serial PRIMARY KEY);
             CREATE TABLE one (p_id int PRIMARY KEY REFERENCES p);
             CREATE TABLE bad (p_id int NOT NULL REFERENCES p, n int CHECK (n > 1 AND n < 0));",
        )
        .unwrap();
    let (lines, _) = run_on(
        &url(&db),
        &["--table", "bad", "--rows", "5", "--with-parents"],
        4,
    );
    assert!(lines_with(&lines, "Table filled").is_empty());
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM p"), 0);
    // The default --parent-rows (N/10) would give 5 parents for 50 rows.
    run_on(
        &url(&db),
        &["--table", "one", "--rows", "50", "--with-parents"],
        0,
    );
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM one"), 50);
}

#[test]
fn junctions_take_distinct_pairs_and_unique_smallints_use_their_range() {
    let db = fresh_db("all_junction");
    server()
        .execute(
            &db,
            "CREATE TABLE l (id int PRIMARY KEY); CREATE TABLE r (id int PRIMARY KEY);
             INSERT INTO l SELECT generate_series(1, 5); INSERT INTO r SELECT generate_series(1, 100);
             CREATE TABLE lr (l_id int REFERENCES l, r_id int REFERENCES r, PRIMARY KEY (l_id, r_id));
             CREATE TABLE sm (s smallint UNIQUE NOT NULL);",
        )
        .unwrap();
    run_on(&url(&db), &["--table", "lr", "--rows", "20"], 0);
    run_on(&url(&db), &["--table", "lr", "--rows", "470"], 0);
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM lr"), 490);
    let (lines, _) = run_on(&url(&db), &["--table", "lr", "--rows", "11"], 4);
    assert!(lines.last().unwrap()["suggestion"]
        .as_str()
        .unwrap()
        .contains("parent"));
    run_on(&url(&db), &["--table", "sm", "--rows", "40000"], 0);
    assert_eq!(
        query_value::<i64>(&db, "SELECT count(DISTINCT s) FROM sm"),
        40000
    );
}
