//! pg-migrate's errors speak of the file, never of pg-migrate's own SQL
//! (issue 14, item 5): an unfinished last statement or string is reported at
//! its line, and a run-time error the server gives no position for (a
//! unique violation) names the line where the failing statement starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;

/// Nothing pg-migrate sends of its own shows in an error line.
fn assert_no_own_sql(lines: &[Value]) {
    for l in lines.iter().filter(|l| l["level"] == "error") {
        let s = l.to_string();
        for own in [
            "schema_migrations",
            "pg_migrate.",
            "RETURNING",
            "set_config",
        ] {
            assert!(!s.contains(own), "{own} in {s}");
        }
    }
}

fn failed(db: &str, dir: &std::path::Path, args: &[&str]) -> Value {
    let (_, lines) = run(migrate(db, dir).args(args), 3);
    assert_no_own_sql(&lines);
    let last = lines.last().unwrap().clone();
    assert_eq!(last["message"], "Migration failed", "{last}");
    last
}

#[test]
fn an_unfinished_end_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_a.sql", "CREATE TABLE a (id int);\n");
    write(
        dir.path(),
        "002_b.sql",
        "CREATE TABLE b (id int);\n\nCREATE TABLE c (\n  id int\n",
    );
    let db = fresh_db("mig_err_end");
    let last = failed(&db, dir.path(), &["up"]);
    assert_eq!(last["filename"], "002_b.sql");
    assert_eq!(
        last["error"],
        "syntax error at end of the file: its last statement is unfinished"
    );
    assert_eq!(last["line"], 3, "{last}");
    assert_eq!(last["lineText"], "CREATE TABLE c (");

    // A string left open swallows nothing of ours: the server's own
    // message, at the string's line.
    write(
        dir.path(),
        "002_b.sql",
        "CREATE TABLE b (id int);\nCOMMENT ON TABLE b IS 'open;\n",
    );
    write(dir.path(), "003_c.sql", "CREATE TABLE c (id int);\n");
    let last = failed(&db, dir.path(), &["up"]);
    assert_eq!(last["filename"], "002_b.sql");
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .starts_with("unterminated quoted string"),
        "{last}"
    );
    assert_eq!(last["line"], 2, "{last}");
    // 001 went in before; 002 and 003 did not.
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version, ',') FROM schema_migrations"
        ),
        "1"
    );
}

#[test]
fn a_run_time_error_names_the_line_its_statement_starts_on() {
    let dir = tempfile::tempdir().unwrap();
    let body = "CREATE TABLE x (id int PRIMARY KEY);\nINSERT INTO x VALUES (1);\nINSERT INTO x VALUES (2);\n\n-- the duplicate\nINSERT INTO x\n  VALUES (1);\nCREATE TABLE after_it (id int);\n";
    write(dir.path(), "001_x.sql", body);
    let db = fresh_db("mig_err_dup");
    for args in [&["up"][..], &["up", "--single-transaction"][..]] {
        let last = failed(&db, dir.path(), args);
        assert_eq!(last["sqlstate"], "23505", "{last}");
        assert_eq!(last["line"], 6, "{args:?}: {last}");
        assert_eq!(last["column"], 1);
        assert_eq!(last["lineText"], "INSERT INTO x");
        // Located in a transaction that was rolled back: nothing remains.
        assert_eq!(
            scalar(
                &db,
                "SELECT count(*) FROM pg_tables WHERE tablename IN ('x', 'after_it')"
            ),
            "0"
        );
    }
    // One statement: its line, no second run needed.
    write(dir.path(), "001_x.sql", "\n\nSELECT 1 / 0;\n");
    let last = failed(&db, dir.path(), &["up"]);
    assert_eq!(last["sqlstate"], "22012");
    assert_eq!(last["line"], 3);

    // A down file too.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_t.up.sql", "CREATE TABLE t (id int);\n");
    write(
        dir.path(),
        "001_t.down.sql",
        "DROP TABLE t;\nSELECT 1;\nSELECT 1 / 0;\n",
    );
    let db = fresh_db("mig_err_down");
    run(migrate(&db, dir.path()).arg("up"), 0);
    let last = failed(&db, dir.path(), &["down"]);
    assert_eq!(last["line"], 3, "{last}");
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        "1"
    );
}

#[test]
fn a_migration_that_drops_the_tracking_table_is_told_to_use_another() {
    // As crates.io's 2017 migration does with its legacy schema_migrations.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_a.sql", "CREATE TABLE a (id int);\n");
    write(
        dir.path(),
        "002_drop_legacy.sql",
        "DROP TABLE IF EXISTS schema_migrations;\n",
    );
    let db = fresh_db("mig_err_dropped");
    // (The file itself names the table: the error may too.)
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "002_drop_legacy.sql", "{last}");
    assert_eq!(last["sqlstate"], "42P01");
    assert!(
        last["suggestion"]
            .as_str()
            .unwrap()
            .contains("--table pgkit_migrations"),
        "{last}"
    );
    // With another table it runs.
    let db = fresh_db("mig_err_dropped2");
    run(
        migrate(&db, dir.path()).args(["up", "--table", "pgkit_migrations"]),
        0,
    );
}
