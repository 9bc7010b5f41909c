//! What pg_dump writes, as migrations (issue 14, items 3 and 4): a real
//! schema (pagila) through pg_dump as a baseline file, COPY data blocks in
//! transactional and no-transaction files, `\restrict` lines, bad data rows
//! named by their line, and psql meta-commands refused before anything runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::Path;

/// `pg_dump` of `db` (the server's own, so \restrict lines where its
/// version writes them), plain format, with `flags`.
fn pg_dump(db: &str, flags: &[&str]) -> String {
    let out = std::process::Command::new(server_bindir().join("pg_dump"))
        .args(flags)
        .args(["--no-owner", "--dbname", &url(db)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The schema of `db` without pg-migrate's tracking table, the `\restrict`
/// keys (random per dump) and pg_dump's version comments.
fn schema(db: &str) -> String {
    pg_dump(
        db,
        &[
            "--schema-only",
            "--exclude-table=schema_migrations",
            "--exclude-table=schema_migrations_id_seq",
        ],
    )
    .lines()
    .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
    .filter(|l| !l.starts_with("-- Dumped"))
    .collect::<Vec<_>>()
    .join("\n")
}

fn status_json(db: &str, dir: &Path) -> (Value, Vec<Value>) {
    let (out, lines) = run(migrate(db, dir).args(["status", "--json"]), 0);
    (serde_json::from_str(&out).unwrap(), lines)
}

#[test]
fn a_real_schema_through_pg_dump_is_a_baseline_migration() {
    // pagila, as published, applies as a migration; pg_dump of the result
    // (with \restrict lines on current releases, and search_path emptied
    // for the session) is the baseline of a second project.
    let first = tempfile::tempdir().unwrap();
    let a = fresh_db("mig_dump_a");
    let major: i32 = scalar(
        &a,
        "SELECT current_setting('server_version_num')::int / 10000",
    )
    .parse()
    .unwrap();
    write(first.path(), "0001_pagila.sql", &pagila_for(major));
    let (_, lines) = run(migrate(&a, first.path()).arg("up"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 1, "{lines:#?}");

    // pg-migrate's own --dump-schema (its tables left out) is the baseline.
    let second = tempfile::tempdir().unwrap();
    let baseline_file = second.path().join("0001_baseline.sql");
    run(
        migrate(&a, first.path())
            .arg("up")
            .arg("--dump-schema")
            .arg(&baseline_file)
            .env("PG_DUMP", server_bindir().join("pg_dump")),
        0,
    );
    let baseline = std::fs::read_to_string(&baseline_file).unwrap();
    assert!(!baseline.contains("schema_migrations"), "{baseline}");
    // The next file names its table without a schema: it must land in
    // public, not in the empty search_path the baseline left.
    write(
        second.path(),
        "0002_extra.sql",
        "CREATE TABLE extra (id int REFERENCES actor (actor_id));\n",
    );
    let b = fresh_db("mig_dump_b");
    let (_, lines) = run(migrate(&b, second.path()).arg("up"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 2, "{lines:#?}");
    assert_eq!(
        scalar(
            &b,
            "SELECT schemaname FROM pg_tables WHERE tablename = 'extra'"
        ),
        "public"
    );
    scalar(&b, "DROP TABLE extra");
    assert_eq!(schema(&a), schema(&b));
    let (st, _) = status_json(&b, second.path());
    assert_eq!(st["applied"], 2);
    assert_eq!(st["pending"], 0);
    if baseline.contains("\n\\restrict ") {
        eprintln!("note: the baseline carried \\restrict lines");
    }
}

/// A table with values COPY text format must escape, filled in `db`.
fn tricky_data(db: &str) {
    scalar(
        db,
        "CREATE TABLE notes (id int PRIMARY KEY, body text, n numeric);
         INSERT INTO notes VALUES
           (1, E'tab\\there', 1.5), (2, E'back\\\\slash and \\\\.', NULL),
           (3, NULL, -2), (4, E'line\\nbreak', 0), (5, 'ünï©ødé', 10);
         SELECT 1",
    );
}

#[test]
fn copy_blocks_apply_in_transactional_and_no_transaction_files() {
    let src = fresh_db("mig_copy_src");
    tricky_data(&src);
    let dump = pg_dump(&src, &[]);
    assert!(dump.contains("FROM stdin;"), "{dump}");
    let sum = "SELECT string_agg(id || ':' || coalesce(body, '~') || ':' || coalesce(n::text, '~'), '|' ORDER BY id) FROM notes";
    let want = scalar(&src, sum);
    for (name, body) in [
        ("tx", dump.clone()),
        ("notx", format!("-- pg-migrate: no-transaction\n{dump}")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "0001_data.sql", &body);
        write(
            dir.path(),
            "0002_after.sql",
            "CREATE TABLE after_copy (id int);\n",
        );
        let db = fresh_db(&format!("mig_copy_{name}"));
        let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
        assert_eq!(lines.last().unwrap()["applied"], 2, "{name}: {lines:#?}");
        assert_eq!(scalar(&db, sum), want, "{name}");
        assert_eq!(
            scalar(
                &db,
                "SELECT string_agg(status || coalesce(error, ''), ',') FROM schema_migrations"
            ),
            "applied,applied",
            "{name}"
        );
    }
}

#[test]
fn a_bad_data_row_names_its_line_and_nothing_is_half_done() {
    let body = "CREATE TABLE n (x int);\nCOPY n (x) FROM stdin;\n1\nnot a number\n3\n\\.\n";
    for (name, text) in [
        ("tx", body.to_string()),
        ("notx", format!("-- pg-migrate: no-transaction\n{body}")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "0001_bad.sql", &text);
        let db = fresh_db(&format!("mig_badrow_{name}"));
        let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 3);
        let last = lines.last().unwrap();
        assert_eq!(last["message"], "Migration failed", "{last}");
        assert_eq!(last["filename"], "0001_bad.sql");
        assert_eq!(last["sqlstate"], "22P02", "{last}");
        let line = if name == "tx" { 4 } else { 5 };
        assert_eq!(last["line"], line, "{name}: {last}");
        let row = scalar(
            &db,
            "SELECT status || ': ' || coalesce(error, '') FROM schema_migrations",
        );
        if name == "tx" {
            // Rolled back whole: no table, no row.
            assert_eq!(row, "NO ROWS");
            assert_eq!(
                scalar(&db, "SELECT count(*) FROM pg_tables WHERE tablename = 'n'"),
                "0"
            );
        } else {
            // The failure is recorded as what it was, not as a crash.
            assert!(row.starts_with("failed: invalid input syntax"), "{row}");
        }
    }
}

#[test]
fn psql_meta_commands_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "0001_ok.sql",
        "CREATE TABLE first_one (id int);\n",
    );
    write(
        dir.path(),
        "0002_include.sql",
        "CREATE TABLE second_one (id int);\n\\i other.sql\n",
    );
    let db = fresh_db("mig_meta");
    let check = |lines: &[Value]| {
        let last = lines.last().unwrap();
        assert_eq!(
            last["message"], "Migration has a psql meta-command pg-migrate does not run",
            "{last}"
        );
        assert_eq!(last["exitCode"], 65);
        assert_eq!(last["filename"], "0002_include.sql");
        assert_eq!(last["line"], 2);
        assert_eq!(last["command"], "\\i");
    };
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    check(&lines);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'first_one'"
        ),
        "0",
        "an earlier file ran before the refusal"
    );
    let (out, lines) = run(migrate(&db, dir.path()).args(["up", "--dry-run"]), 65);
    assert_eq!(out, "");
    check(&lines);
    // status names it, and still answers.
    let (st, lines) = status_json(&db, dir.path());
    assert_eq!(st["refused"], 1);
    let flagged = lines
        .iter()
        .find(|l| l["level"] == "warn")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        flagged["message"],
        "Pending migration would be refused: Migration has a psql meta-command pg-migrate does not run"
    );
    assert_eq!(flagged["filename"], "0002_include.sql");
    assert_eq!(flagged["line"], 2);
    let m = st["migrations"].as_array().unwrap();
    assert_eq!(m[0]["refused"], Value::Null);
    assert!(m[1]["refused"].as_str().unwrap().contains("meta-command"));
}
