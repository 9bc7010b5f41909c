//! pg-migrate against a real server: files, up, tracking, the lock, SQL
//! errors with line and column, signals, concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn up_applies_in_numeric_order_once_and_records_everything() {
    let db = fresh_db("mig_up");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_a.up.sql",
        "CREATE TABLE log (n int);\nINSERT INTO log VALUES (1);",
    );
    write(dir.path(), "2_b.sql", "INSERT INTO log VALUES (2);");
    write(
        dir.path(),
        "10_c.up.sql",
        "INSERT INTO log VALUES (10);\n-- ends in a comment",
    );
    write(dir.path(), "10_c.down.sql", "DELETE FROM log WHERE n = 10;");
    write(dir.path(), "README.md", "not a migration");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, vec!["1_a.up.sql", "2_b.sql", "10_c.up.sql"]);
    let first = find(&lines, "Migration applied");
    assert_eq!(first["checksum"].as_str().unwrap().len(), 64);
    assert!(first["durationMs"].is_u64());
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migrations applied");
    assert_eq!(last["applied"], 3);
    assert_eq!(last["version"], "10");
    assert_eq!(last["exitCode"], 0);
    assert_eq!(
        scalar(&db, "SELECT string_agg(n::text, ',' ORDER BY n) FROM log"),
        "1,2,10"
    );
    assert_eq!(
        scalar(&db, "SELECT string_agg(version || ':' || filename || ':' || status, ',' ORDER BY id) FROM schema_migrations"),
        "1:1_a.up.sql:applied,2:2_b.sql:applied,10:10_c.up.sql:applied"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations WHERE duration_ms IS NOT NULL AND applied_at IS NOT NULL AND length(checksum) = 64"), "3");
    // Again: nothing to do (the default command is up).
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "No pending migrations");
    assert_eq!(last["applied"], 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM log"), "3");
}

#[test]
fn the_runbooks_crate_error_has_line_and_column_and_leaves_nothing() {
    let db = fresh_db("mig_crate");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "018_ok.up.sql", "CREATE TABLE ok (id int);\n");
    write(
        dir.path(),
        "019_add_provisioning.up.sql",
        "-- Provisioning\nCREATE TABLE provisioning_a (id int);\n\n   CRATE TABLE provisioning (id int);\n",
    );
    write(
        dir.path(),
        "020_later.up.sql",
        "CREATE TABLE later (id int);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error");
    assert_eq!(last["message"], "Migration failed");
    assert_eq!(last["filename"], "019_add_provisioning.up.sql");
    assert_eq!(last["error"], "syntax error at or near \"CRATE\"");
    assert_eq!(last["line"], 4);
    assert_eq!(last["column"], 4);
    assert_eq!(last["lineText"], "   CRATE TABLE provisioning (id int);");
    assert_eq!(last["sqlstate"], "42601");
    assert_eq!(last["applied"], 1);
    assert_eq!(last["exitCode"], 3);
    assert!(last["suggestion"].as_str().unwrap().contains("rolled back"));
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "1");
    assert_eq!(
        scalar(&db, "SELECT to_regclass('provisioning_a') IS NULL"),
        "t"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('later') IS NULL"), "t");
}

#[test]
fn runtime_errors_map_position_detail_and_hint() {
    let db = fresh_db("mig_rt");
    let dir = tempfile::tempdir().unwrap();
    // Multi-byte characters before the error: columns count characters.
    write(
        dir.path(),
        "1_rt.up.sql",
        "CREATE TABLE t (id int PRIMARY KEY, name text);\r\nINSERT INTO t VALUES (1, 'héllo');\r\nSELECT nme FROM t;\r\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["error"], "column \"nme\" does not exist");
    assert_eq!(last["line"], 3);
    assert_eq!(last["column"], 8);
    assert_eq!(last["lineText"], "SELECT nme FROM t;");
    assert_eq!(last["sqlstate"], "42703");
    assert!(last["hint"].as_str().unwrap().contains("name"), "{last}");
    assert_eq!(last["applied"], 0);
    // A unique violation carries the server's detail.
    let db = fresh_db("mig_rt2");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_u.up.sql",
        "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1), (1);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "23505");
    assert!(
        last["detail"].as_str().unwrap().contains("(id)=(1)"),
        "{last}"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('u') IS NULL"), "t");
    // A deferred constraint fails at COMMIT: still nothing recorded.
    let db = fresh_db("mig_rt3");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_d.up.sql",
        "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO c VALUES (42);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "23503");
    assert_eq!(last["filename"], "1_d.up.sql");
    assert_eq!(
        scalar(
            &db,
            "SELECT to_regclass('p') IS NULL AND to_regclass('schema_migrations') IS NOT NULL"
        ),
        "t"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "0");
}

#[test]
fn bad_names_duplicates_and_orphan_downs_are_65_missing_dir_66() {
    let db = fresh_db("mig_names");
    for (files, culprit) in [
        (
            vec!["001_ok.up.sql", "create_users.sql"],
            "create_users.sql",
        ),
        (vec!["001_a.up.sql", "1_b.up.sql"], "1_b.up.sql"),
        (vec!["001_a.up.sql", "001_a.sql"], "001_a.up.sql"),
        (vec!["001_a.up.sql", "002_b.down.sql"], "002_b.down.sql"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        for f in &files {
            write(dir.path(), f, "SELECT 1;");
        }
        let (_, lines) = run(&mut migrate(&db, dir.path()), 65);
        let last = lines.last().unwrap();
        assert_eq!(last["exitCode"], 65);
        let named = [last["filename"].as_str(), last["otherFilename"].as_str()];
        assert!(named.contains(&Some(culprit)), "{files:?}: {last}");
        assert!(last["suggestion"].is_string());
    }
    // Nothing was touched.
    assert_eq!(
        scalar(&db, "SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );
    let (_, lines) = run(
        migrate(&db, Path::new("/nonexistent/migrations")).arg("up"),
        66,
    );
    assert_eq!(lines.last().unwrap()["exitCode"], 66);
    // status and verify too.
    run(
        migrate(&db, Path::new("/nonexistent/migrations")).arg("status"),
        66,
    );
}

/// Regression (issue 14): a dbmate or goose file (up and down sections in
/// one file) ran whole, its down section dropping what the up section made;
/// a diesel folder (one directory per migration) was reported empty.
#[test]
fn layout_pgkit_refuses_other_tools_folders_with_65_never_run_whole_or_empty() {
    // (With the default --layout auto these folders run as their tools run
    // them: tests/pg_migrate_layouts.rs.)
    let db = fresh_db("mig_layouts");
    let dbmate =
        "-- migrate:up\ncreate table users (id int);\n\n-- migrate:down\ndrop table users;\n";
    let goose = "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n";
    for (name, text, layout) in [
        ("20151129054053_test_migration.sql", dbmate, "dbmate"),
        ("00001_create_users_table.sql", goose, "goose"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, text);
        for cmd in ["up", "status"] {
            let (_, lines) = run(
                migrate(&db, dir.path())
                    .arg(cmd)
                    .env("MIGRATIONS_LAYOUT", "pgkit"),
                65,
            );
            let last = lines.last().unwrap();
            assert_eq!(last["filename"], name, "{last}");
            assert_eq!(last["layout"], layout, "{last}");
            assert!(last["suggestion"].is_string());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("2025-11-19-091444-0000_create_users");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "up.sql", "CREATE TABLE users (id int);");
    write(&sub, "down.sql", "DROP TABLE users;");
    for cmd in ["up", "status"] {
        let (_, lines) = run(
            migrate(&db, dir.path()).args([cmd, "--layout", "pgkit"]),
            65,
        );
        let last = lines.last().unwrap();
        assert_eq!(last["layout"], "diesel", "{last}");
    }
    // Nothing ran: no users table.
    assert_eq!(scalar(&db, "SELECT to_regclass('users') IS NULL"), "t");
}

#[test]
fn lock_held_exits_75_naming_the_holder() {
    let db = fresh_db("mig_lock");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "CREATE TABLE a (id int);");
    // Take the lock the way a runner would, from another session.
    // The key of public.schema_migrations, however the table is spelled.
    let key: i64 = scalar(
        &db,
        "SELECT hashtextextended('pg-migrate:public.schema_migrations', 0)",
    )
    .parse()
    .unwrap();
    let mut holder = server().client(&db).unwrap();
    holder
        .simple_query(&format!(
            "SET application_name = 'other-runner'; SELECT pg_advisory_lock({key})"
        ))
        .unwrap();
    let holder_pid = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get::<_, i32>(0);
    let t = Instant::now();
    let (_, lines) = run(
        migrate(&db, dir.path()).args([
            "up",
            "--lock-wait",
            "600ms",
            "--table",
            "public.schema_migrations",
        ]),
        75,
    );
    assert!(t.elapsed() >= Duration::from_millis(600));
    assert!(has_message(&lines, "Waiting for the migration lock"));
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration lock is held by another runner");
    assert_eq!(last["holderPid"], holder_pid);
    assert_eq!(last["holderApplicationName"], "other-runner");
    assert_eq!(last["exitCode"], 75);
    assert_eq!(scalar(&db, "SELECT to_regclass('a') IS NULL"), "t");
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-wait", "100ms"]),
        75,
    );
    assert_eq!(lines.last().unwrap()["holderPid"], holder_pid);
    // Released: the next run goes through after waiting for it.
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        holder
            .simple_query(&format!("SELECT pg_advisory_unlock({key})"))
            .unwrap();
        holder
    });
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-wait", "10s"]),
        0,
    );
    assert!(has_message(&lines, "Migration lock acquired"));
    assert_eq!(lines.last().unwrap()["applied"], 1);
    drop(h.join().unwrap());
}

#[test]
fn ten_runners_at_once_apply_each_migration_exactly_once() {
    let db = fresh_db("mig_ten");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000_counter.up.sql",
        "CREATE TABLE counter (n int);",
    );
    for i in 1..=50 {
        write(
            dir.path(),
            &format!("{i:03}_step.up.sql"),
            &format!("INSERT INTO counter VALUES ({i});"),
        );
    }
    let children: Vec<_> = (0..10)
        .map(|_| {
            std::process::Command::new(bin_path("pg-migrate"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", url(&db))
                .args(["up", "--dir"])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let lines = json_lines(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{lines:#?}");
        applied += lines.last().unwrap()["applied"].as_u64().unwrap();
    }
    assert_eq!(applied, 51);
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "50");
    assert_eq!(scalar(&db, "SELECT count(DISTINCT n) FROM counter"), "50");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "51");
    assert_eq!(
        scalar(&db, "SELECT count(DISTINCT version) FROM schema_migrations"),
        "51"
    );
}

fn spawn_up(db: &str, dir: &Path) -> std::process::Child {
    std::process::Command::new(bin_path("pg-migrate"))
        .env_clear()
        .env("DATABASE_URL", url(db))
        .args(["up", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_sleep(db: &str) {
    let t = Instant::now();
    // By wait event, not query text: a batch's text is cut at
    // track_activity_query_size before its pg_sleep.
    while scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name = 'pg-migrate' AND datname = current_database()") == "0" {
        assert!(t.elapsed() < Duration::from_secs(20), "the slow migration never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `up`, SIGKILLs it inside its pg_sleep, and waits until the server
/// has noticed (client_connection_check_interval: well under a second; the
/// bound is generous) and ended its session.
fn kill_inside_the_sleep(db: &str, dir: &Path) {
    let mut child = spawn_up(db, dir);
    wait_for_sleep(db);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let t = Instant::now();
    while scalar(
        db,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg-migrate' AND datname = current_database()",
    ) != "0"
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the killed runner's backend lingers"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_inside_a_slow_migration_leaves_no_row_and_no_schema() {
    let db = fresh_db("mig_kill");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_slow.up.sql",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(coalesce((SELECT max(s) FROM sleep_for), 0));\nCREATE TABLE slow2 (id int);\n",
    );
    // Slow the first time only.
    server()
        .execute(
            &db,
            "CREATE TABLE sleep_for (s int); INSERT INTO sleep_for VALUES (60)",
        )
        .unwrap();
    kill_inside_the_sleep(&db, dir.path());
    server().execute(&db, "DELETE FROM sleep_for").unwrap();
    assert_eq!(
        scalar(
            &db,
            "SELECT to_regclass('slow') IS NULL AND to_regclass('slow2') IS NULL"
        ),
        "t"
    );
    // The tracking table may not exist yet (it is created under the lock,
    // possibly in the killed transaction); a subquery on a missing table
    // fails at parse time even behind OR, so ask in two steps.
    if scalar(&db, "SELECT to_regclass('schema_migrations') IS NOT NULL") == "t" {
        assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "0");
    }
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "1");
}

#[test]
fn sigint_cancels_rolls_back_releases_and_exits_130() {
    let db = fresh_db("mig_int");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_fast.up.sql", "CREATE TABLE fast (id int);");
    write(
        dir.path(),
        "2_slow.up.sql",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n",
    );
    let child = spawn_up(&db, dir.path());
    wait_for_sleep(&db);
    let t = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "cancelled on the server, not after the sleep"
    );
    assert_eq!(out.status.code(), Some(130));
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["exitCode"], 130);
    assert_eq!(last["filename"], "2_slow.up.sql");
    assert_eq!(last["applied"], 1);
    assert_eq!(scalar(&db, "SELECT to_regclass('slow') IS NULL"), "t");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "1");
    // The lock is free: another run starts at once (and would apply 2).
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-wait", "0s", "--dry-run"]),
        0,
    );
    assert_eq!(lines.last().unwrap()["pending"], 1);
    write(dir.path(), "2_slow.up.sql", "CREATE TABLE slow (id int);\n");
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-wait", "0s"]),
        0,
    );
    assert_eq!(lines.last().unwrap()["applied"], 1);
}

#[test]
fn single_transaction_is_all_or_nothing_and_dry_run_changes_nothing() {
    let db = fresh_db("mig_single");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "CREATE TABLE a (id int);");
    write(dir.path(), "2_b.up.sql", "CREATE TABLE b (id int);");
    write(
        dir.path(),
        "3_c.up.sql",
        "CREATE TABLE c (id int);\nSELECT nope FROM c;",
    );
    let (stdout, lines) = run(migrate(&db, dir.path()).args(["up", "--dry-run"]), 0);
    assert_eq!(stdout, "1_a.up.sql\n2_b.up.sql\n3_c.up.sql\n");
    assert_eq!(lines.last().unwrap()["pending"], 3);
    assert_eq!(
        scalar(&db, "SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--single-transaction"]),
        3,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "3_c.up.sql");
    assert_eq!(last["error"], "column \"nope\" does not exist");
    assert_eq!(last["line"], 2);
    assert_eq!(last["column"], 8);
    assert_eq!(last["applied"], 0);
    assert_eq!(last["rolledBack"], 2);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "0");
    assert_eq!(scalar(&db, "SELECT to_regclass('a') IS NULL"), "t");
    // --to stops at a version.
    let (_, lines) = run(migrate(&db, dir.path()).args(["up", "--to", "002"]), 0);
    assert_eq!(lines.last().unwrap()["applied"], 2);
    assert_eq!(lines.last().unwrap()["version"], "2");
    let (stdout, _) = run(migrate(&db, dir.path()).args(["up", "--dry-run"]), 0);
    assert_eq!(stdout, "3_c.up.sql\n");
    run(migrate(&db, dir.path()).args(["up", "--to", "x"]), 64);
}

#[test]
fn schema_qualified_tracking_table_and_migrations_in_another_schema() {
    let db = fresh_db("mig_schema");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_app.up.sql",
        "CREATE SCHEMA app;\nCREATE TABLE app.users (id int);",
    );
    write(
        dir.path(),
        "2_more.up.sql",
        "SET LOCAL search_path = app;\nCREATE TABLE orders (id int);",
    );
    let (_, lines) = run(
        migrate(&db, dir.path()).env("MIGRATIONS_TABLE", "Ops.\"Schema Migrations\""),
        0,
    );
    assert_eq!(lines.last().unwrap()["applied"], 2);
    assert_eq!(
        find(&lines, "Tracking table created")["table"],
        "ops.Schema Migrations"
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM ops.\"Schema Migrations\""),
        "2"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('app.orders') IS NOT NULL AND to_regclass('public.schema_migrations') IS NULL"), "t");
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["status", "--json", "--table", "ops.\"Schema Migrations\""]),
        0,
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["applied"], 2);
    run(
        migrate(&db, dir.path()).args(["up", "--table", "a.b.c"]),
        78,
    );
}

#[test]
fn a_runbook_shaped_table_is_adopted_in_place() {
    let db = fresh_db("mig_adopt");
    let dir = tempfile::tempdir().unwrap();
    let body1 = "CREATE TABLE users (id int);\n";
    write(dir.path(), "001_create_schema.up.sql", body1);
    write(
        dir.path(),
        "002_more.up.sql",
        "CREATE TABLE more (id int);\n",
    );
    // The runbook's table and runner: plain SHA-256 of the file.
    let raw = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(body1.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    server()
        .execute(
            &db,
            &format!(
                "CREATE TABLE schema_migrations (id SERIAL PRIMARY KEY, filename TEXT NOT NULL UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT NOW(), checksum TEXT NOT NULL);
                 CREATE TABLE users (id int);
                 INSERT INTO schema_migrations (filename, checksum) VALUES ('001_create_schema.up.sql', '{raw}');"
            ),
        )
        .unwrap();
    // Read-only commands read it as it is, before any adoption.
    let (stdout, _) = run(migrate(&db, dir.path()).args(["status", "--json"]), 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (v["applied"].as_u64(), v["pending"].as_u64()),
        (Some(1), Some(1))
    );
    run(migrate(&db, dir.path()).arg("verify"), 0);
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    let adopted = find(&lines, "Tracking table adopted");
    assert!(adopted["addedColumns"]
        .as_array()
        .unwrap()
        .contains(&Value::from("version")));
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version || ':' || filename, ',' ORDER BY id) FROM schema_migrations"
        ),
        "1:001_create_schema.up.sql,2:002_more.up.sql"
    );
    run(migrate(&db, dir.path()).arg("verify"), 0);
}

#[test]
fn connection_failures_are_2_and_never_show_the_password() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "SELECT 1;");
    let (_, lines) = run(
        cmd("pg-migrate")
            .env("DATABASE_URL", "postgres://u:sekrit@127.0.0.1:1/db")
            .args(["up", "--dir"])
            .arg(dir.path()),
        2,
    );
    let text = serde_json::to_string(&lines).unwrap();
    assert!(!text.contains("sekrit"));
    assert!(text.contains("[REDACTED]"));
}

#[test]
fn a_file_with_its_own_begin_commit_is_refused_with_65() {
    let db = fresh_db("mig_begin");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_ok.up.sql", "CREATE TABLE ok (id int);\n");
    write(
        dir.path(),
        "2_own_tx.up.sql",
        "BEGIN;\nCREATE TABLE own (id int);\nCOMMIT;\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration controls its own transaction");
    assert_eq!(last["filename"], "2_own_tx.up.sql");
    assert_eq!(last["line"], 1);
    // Refused before anything ran.
    assert_eq!(scalar(&db, "SELECT to_regclass('ok') IS NULL"), "t");
    // PREPARE TRANSACTION would detach the file's work from its row.
    write(
        dir.path(),
        "2_own_tx.up.sql",
        "CREATE TABLE own (id int);
-- hand it to a coordinator
PREPARE TRANSACTION 'own';
",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration controls its own transaction");
    assert_eq!(last["line"], 3);
    assert_eq!(last["lineText"], "PREPARE TRANSACTION 'own';");
}

#[test]
fn file_names_with_quotes_and_backslashes_are_quoted_and_text_logs_work() {
    let db = fresh_db("mig_quote");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_o'neil\\x.up.sql",
        "CREATE TABLE q (id int);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(
        find(&lines, "Migration applied")["filename"],
        "1_o'neil\\x.up.sql"
    );
    assert_eq!(
        scalar(&db, "SELECT filename FROM schema_migrations"),
        "1_o'neil\\x.up.sql"
    );
    run(migrate(&db, dir.path()).arg("verify"), 0);
    let out = migrate(&db, dir.path())
        .args(["status", "--log-format", "text"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INFO  Migration status"), "{err}");
}

#[test]
fn only_the_last_commit_of_a_run_waits_for_the_wal_flush() {
    let db = fresh_db("mig_sync");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "CREATE TABLE seen (v int, sc text);\nINSERT INTO seen VALUES (1, current_setting('synchronous_commit'));\n");
    write(
        dir.path(),
        "2_b.up.sql",
        "INSERT INTO seen VALUES (2, current_setting('synchronous_commit'));\n",
    );
    write(
        dir.path(),
        "3_c.up.sql",
        "INSERT INTO seen VALUES (3, current_setting('synchronous_commit'));\n",
    );
    // The throwaway server runs with synchronous_commit off: turn it on for
    // the session, as a production server has it.
    run(
        migrate(&db, dir.path()).env(
            "DATABASE_URL",
            format!("{}?options=-csynchronous_commit%3Don", url(&db)),
        ),
        0,
    );
    // The last commit is synchronous, flushing the WAL of all before it.
    assert_eq!(
        scalar(&db, "SELECT string_agg(sc, ',' ORDER BY v) FROM seen"),
        "off,off,on"
    );
}

/// A migration's COMMIT travels with the next migration's batch: a deferred
/// constraint failing at that COMMIT, and a syntax error in the next file,
/// must each be reported against the right file with the earlier ones kept.
#[test]
fn commit_time_failures_and_later_errors_name_the_right_file() {
    let db = fresh_db("mig_fold");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_a.up.sql",
        "CREATE TABLE a (id int PRIMARY KEY);\n",
    );
    write(
        dir.path(),
        "2_d.up.sql",
        "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO c VALUES (42);\n",
    );
    write(dir.path(), "3_b.up.sql", "CREATE TABLE b (id int);\n");
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "23503", "{last}");
    assert_eq!(last["filename"], "2_d.up.sql");
    assert_eq!(last["applied"], 1);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(filename, ',' ORDER BY filename) FROM schema_migrations"
        ),
        "1_a.up.sql"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT to_regclass('p') IS NULL AND to_regclass('b') IS NULL"
        ),
        "t"
    );

    // A syntax error in a later file: the earlier ones stay applied, the
    // error has the file's own line and column.
    let db = fresh_db("mig_fold2");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "CREATE TABLE a (id int);\n");
    write(dir.path(), "2_b.up.sql", "CREATE TABLE b (id int);\n");
    write(
        dir.path(),
        "3_c.up.sql",
        "-- third\nSELECT 1;\n  CRATE TABLE c (id int);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["error"], "syntax error at or near \"CRATE\"");
    assert_eq!(
        (last["line"].as_i64(), last["column"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(last["filename"], "3_c.up.sql");
    assert_eq!(last["applied"], 2);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "2");
    assert_eq!(scalar(&db, "SELECT to_regclass('b') IS NOT NULL"), "t");
}

// Several files share one query string (1, 2, 4, 8… per round trip), each
// still committing alone with its row. These tests put the failing file in
// the middle of a string: files 16–31 of a run go in one.

/// `n` files `NNN_f.up.sql`: each creates `t_NNN`, bumps a counter and
/// returns a row of its own; `special` replaces some bodies.
fn numbered(dir: &Path, n: usize, special: &[(usize, &str)]) {
    write(dir, "000_counter.up.sql", "CREATE TABLE counter (n int);\n");
    for i in 1..=n {
        let body = special
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, b)| b.to_string())
            .unwrap_or_else(|| {
                format!(
                    "CREATE TABLE t_{i:03} (id int);\nINSERT INTO counter VALUES ({i});\nSELECT 'a row of the file''s own';\n"
                )
            });
        write(dir, &format!("{i:03}_f.up.sql"), &body);
    }
}

/// The names [`numbered`] gives its counter file and files 1 to `last`.
fn numbered_names(last: usize) -> Vec<String> {
    std::iter::once("000_counter.up.sql".to_string())
        .chain((1..=last).map(|i| format!("{i:03}_f.up.sql")))
        .collect()
}

/// The numbers the files put in [`numbered`]'s counter, in order.
fn counted(db: &str) -> String {
    scalar(
        db,
        "SELECT string_agg(n::text, ',' ORDER BY n) FROM counter",
    )
}

fn applied_files(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_runtime_error_inside_a_batch_keeps_the_files_before_it() {
    let db = fresh_db("mig_batch_rt");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        40,
        &[
            (
                18,
                "INSERT INTO counter VALUES (18);\nSELECT pg_sleep(1);\n",
            ),
            (
                20,
                "INSERT INTO counter VALUES (20);\nSELECT nme FROM counter;\n",
            ),
        ],
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "020_f.up.sql", "{last}");
    assert_eq!(last["error"], "column \"nme\" does not exist");
    assert_eq!(last["sqlstate"], "42703");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(2), Some(8)),
        "{last}"
    );
    assert_eq!(last["lineText"], "SELECT nme FROM counter;");
    assert_eq!(last["applied"], 20);
    // Every file before it logged once, in order; none after it ran.
    assert_eq!(applied_files(&lines), numbered_names(19));
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "20");
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "19");
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM counter WHERE n = 20"),
        "0"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('t_021') IS NULL"), "t");
    // Durations are the file's own, though 16–19 shared a round trip.
    let ms = |v: &str| -> i64 {
        scalar(
            &db,
            &format!("SELECT duration_ms FROM schema_migrations WHERE version = '{v}'"),
        )
        .parse()
        .unwrap()
    };
    assert!(ms("18") >= 1000, "{}", ms("18"));
    assert!(
        ms("17") < 1000 && ms("19") < 1000,
        "{} {}",
        ms("17"),
        ms("19")
    );
    let logged = lines
        .iter()
        .find(|l| l["filename"] == "018_f.up.sql")
        .unwrap();
    assert!(logged["durationMs"].as_u64().unwrap() >= 1000, "{logged}");
    // Fixed, the rest goes on from there.
    write(
        dir.path(),
        "020_f.up.sql",
        "INSERT INTO counter VALUES (20);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 21);
    assert_eq!(lines.last().unwrap()["version"], "40");
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "40");
}

#[test]
fn a_syntax_error_late_in_a_batch_applies_each_file_before_it_once() {
    // The server parses a whole string before running any of it: a syntax
    // error in file 20 stops 16–19 too, which then run on their own.
    for (bad, line) in [(20, 3), (16, 1), (15, 2)] {
        let db = fresh_db("mig_batch_syntax");
        let dir = tempfile::tempdir().unwrap();
        let body = match line {
            1 => "CRATE TABLE nope (id int);\n".to_string(),
            2 => format!("INSERT INTO counter VALUES ({bad});\n CRATE TABLE nope (id int);\n"),
            _ => format!("INSERT INTO counter VALUES ({bad});\n\n  CRATE TABLE nope (id int);\n"),
        };
        numbered(dir.path(), 30, &[(bad, &body)]);
        let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
        let last = lines.last().unwrap();
        assert_eq!(last["filename"], format!("{bad:03}_f.up.sql"), "{last}");
        assert_eq!(last["error"], "syntax error at or near \"CRATE\"");
        assert_eq!(last["line"], line, "{last}");
        assert_eq!(last["applied"], bad as u64, "{last}");
        assert_eq!(applied_files(&lines).len(), bad);
        assert_eq!(
            scalar(&db, "SELECT count(*) FROM counter"),
            (bad - 1).to_string(),
            "each file before it ran exactly once"
        );
        assert_eq!(
            scalar(&db, "SELECT count(DISTINCT n) = count(*) FROM counter"),
            "t"
        );
    }
}

#[test]
fn a_file_ending_inside_a_quote_never_shares_a_string() {
    // Were 005 followed by 006 in one string, its open quote would close in
    // 006 and turn 006's text into SQL that creates `evil`.
    let db = fresh_db("mig_batch_quote");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        8,
        &[
            (5, "INSERT INTO counter VALUES (5);\nSELECT 'open\n"),
            (6, "SELECT '; CREATE TABLE evil (id int); SELECT ';\n"),
        ],
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "005_f.up.sql", "{last}");
    assert_eq!(last["sqlstate"], "42601", "{last}");
    assert_eq!(last["applied"], 5);
    assert_eq!(scalar(&db, "SELECT to_regclass('evil') IS NULL"), "t");
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "4");
}

#[test]
fn a_deferred_constraint_failing_at_commit_names_its_file() {
    // 006 is inside a string (its COMMIT too); 007 ends one, so its COMMIT
    // is the first statement of the next string.
    for bad in [6, 7] {
        let db = fresh_db("mig_batch_deferred");
        let dir = tempfile::tempdir().unwrap();
        let violation = format!("INSERT INTO child VALUES ({bad}, 999);\n");
        numbered(
            dir.path(),
            12,
            &[
                (
                    1,
                    "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (id int, p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n",
                ),
                (bad, &violation),
            ],
        );
        let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
        let last = lines.last().unwrap();
        assert_eq!(last["filename"], format!("{bad:03}_f.up.sql"), "{last}");
        assert_eq!(last["sqlstate"], "23503", "{last}");
        assert_eq!(last["applied"], bad as u64, "{last}");
        assert_eq!(scalar(&db, "SELECT count(*) FROM child"), "0");
        assert_eq!(
            scalar(&db, "SELECT max(version::int) FROM schema_migrations"),
            (bad - 1).to_string()
        );
    }
}

#[test]
fn sigint_inside_a_batch_keeps_what_committed() {
    let db = fresh_db("mig_batch_int");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        10,
        &[(5, "CREATE TABLE t_005 (id int);\nSELECT pg_sleep(30);\n")],
    );
    let child = spawn_up(&db, dir.path());
    wait_for_sleep(&db);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "005_f.up.sql", "{last}");
    assert_eq!(last["applied"], 5);
    assert_eq!(applied_files(&lines).len(), 5);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "5");
    assert_eq!(scalar(&db, "SELECT to_regclass('t_005') IS NULL"), "t");
}

#[test]
fn sigkill_inside_a_batch_leaves_that_file_and_the_rest_uncommitted() {
    // 005 is the third file of the string 003–006: its COMMIT is already
    // on the server when the runner dies, yet it must not commit.
    let db = fresh_db("mig_batch_kill");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        8,
        &[(5, "CREATE TABLE t_005 (id int);\nSELECT pg_sleep(60);\n")],
    );
    kill_inside_the_sleep(&db, dir.path());
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version, ',' ORDER BY version::int) FROM schema_migrations"
        ),
        "0,1,2,3,4"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT to_regclass('t_005') IS NULL AND to_regclass('t_006') IS NULL"
        ),
        "t"
    );
    write(dir.path(), "005_f.up.sql", "CREATE TABLE t_005 (id int);\n");
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 4);
}

#[test]
fn a_connection_lost_inside_a_batch_reports_what_committed() {
    // 005 ends its own session in the middle of the string 003–006: the
    // runner asks again on a new connection what committed.
    let db = fresh_db("mig_batch_lost");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        8,
        &[(5, "SELECT pg_terminate_backend(pg_backend_pid());\n")],
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "005_f.up.sql", "{last}");
    assert_eq!(last["applied"], 5, "{last}");
    assert_eq!(applied_files(&lines).len(), 5);
    assert!(
        last["suggestion"].as_str().unwrap().contains("connection"),
        "{last}"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "5");
}

#[test]
fn an_error_without_position_after_a_no_transaction_file_names_its_file() {
    // After the no-transaction 001, 002 and 003 share a string with nothing
    // before it; 003's error has no position, so which file failed is asked
    // of the tracking table, or found by running them one by one.
    let db = fresh_db("mig_batch_nopos");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        6,
        &[
            (1, "-- pg-migrate: no-transaction\nCREATE TABLE t_001 (id int);\n"),
            (3, "INSERT INTO counter VALUES (3);\nSELECT 1 / (SELECT count(*) - count(*) FROM counter);\n"),
        ],
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "003_f.up.sql", "{last}");
    assert_eq!(last["error"], "division by zero");
    assert_eq!(last["applied"], 3, "{last}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "3");
    assert_eq!(
        scalar(&db, "SELECT string_agg(n::text, ',') FROM counter"),
        "2"
    );
}

#[test]
fn a_file_open_by_the_servers_reading_never_runs_into_the_next() {
    // A carriage return ends a `--` comment, and a string continued on the
    // next line stays an E'' string: read otherwise, 004 would look closed,
    // share a string with 005, and its `/*` would hide its own tracking row
    // up to 005's `*/`.
    for end in ["-- note\r/* todo", "SELECT E'x'\n'\\' ';/*'"] {
        let db = fresh_db("mig_batch_lexer");
        let dir = tempfile::tempdir().unwrap();
        let body = format!("INSERT INTO counter VALUES (4);\n{end}");
        numbered(
            dir.path(),
            8,
            &[
                (4, &body),
                (5, "-- see above */\nINSERT INTO counter VALUES (5);\n"),
            ],
        );
        let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
        let last = lines.last().unwrap();
        assert_eq!(last["filename"], "004_f.up.sql", "{last}");
        assert_eq!(last["sqlstate"], "42601", "{last}");
        assert_eq!(last["applied"], 4, "{last}");
        assert_eq!(counted(&db), "1,2,3");
        assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "4");
    }
}

#[test]
fn a_file_resetting_all_settings_inside_a_batch_still_applies_once() {
    // RESET ALL clears the guard 005's tracking row checks (the guard that
    // catches a file whose start was swallowed by the one before it): the
    // string stops, nothing of 005 stays, and the files from 005 on run
    // one by one, each exactly once.
    let db = fresh_db("mig_batch_guard");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        10,
        &[(
            5,
            "CREATE TABLE t_005 (id int);\nINSERT INTO counter VALUES (5);\nRESET ALL;\n",
        )],
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 11);
    assert_eq!(applied_files(&lines), numbered_names(10));
    assert_eq!(counted(&db), "1,2,3,4,5,6,7,8,9,10");
}

#[test]
fn a_file_dropping_prepared_statements_inside_a_batch_still_applies_once() {
    // Batched files record their rows with a statement pg-migrate prepares
    // on the connection: a file that deallocates it (as a test fixture or
    // a pg_dump-made file may: DEALLOCATE ALL, DISCARD PLANS) must not
    // make the next file's row fail.
    // One that does it through a function (which the word scan cannot
    // see: its name is put together at run time) makes the string's next
    // row fail: the files not committed then run again one by one.
    let db = fresh_db("mig_batch_deallocate");
    let dir = tempfile::tempdir().unwrap();
    numbered(
        dir.path(),
        24,
        &[
            (
                2,
                "CREATE FUNCTION drop_prepared() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'DEALLOC' || 'ATE ALL'; END$$;\nINSERT INTO counter VALUES (2);\n",
            ),
            (
                18,
                "INSERT INTO counter VALUES (18);\nSELECT drop_prepared();\n",
            ),
            (
                4,
                "CREATE TABLE t_004 (id int);\nINSERT INTO counter VALUES (4);\nDEALLOCATE ALL;\n",
            ),
            (
                7,
                "CREATE TABLE t_007 (id int);\nINSERT INTO counter VALUES (7);\nDISCARD PLANS;\n",
            ),
            (
                9,
                "-- pg-migrate: no-transaction\nINSERT INTO counter VALUES (9);\nDEALLOCATE ALL;\n",
            ),
        ],
    );
    let (_, lines) = run(migrate(&db, dir.path()).env("LOG_LEVEL", "debug"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 25, "{lines:#?}");
    // Only the string of 018 fell back to one file at a time: the others
    // used their prepared statement.
    let fallbacks: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Query string stopped by pg-migrate's own SQL"))
        })
        .collect();
    assert_eq!(fallbacks.len(), 1, "{fallbacks:#?}");
    assert_eq!(fallbacks[0]["filename"], "018_f.up.sql");
    assert_eq!(applied_files(&lines), numbered_names(24));
    assert_eq!(
        counted(&db),
        (1..=24)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM schema_migrations WHERE status = 'applied' AND duration_ms >= 0"
        ),
        "25"
    );
}

#[test]
fn a_legacy_tracking_table_with_numeric_versions_takes_batched_rows() {
    // The prepared row takes its parameters' types from the table's
    // columns: a version column of bigint (an older tool's table, adopted)
    // got text parameters, and every batch failed with 42804.
    let db = fresh_db("mig_batch_bigint");
    scalar(
        &db,
        "CREATE TABLE schema_migrations (id bigserial PRIMARY KEY, version bigint NOT NULL UNIQUE, filename text NOT NULL UNIQUE, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint, status text NOT NULL DEFAULT 'applied', error text); SELECT 1",
    );
    let dir = tempfile::tempdir().unwrap();
    numbered(dir.path(), 10, &[]);
    let (_, lines) = run(migrate(&db, dir.path()).env("LOG_LEVEL", "debug"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 11, "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Query string stopped"))),
        "{lines:#?}"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"
        ),
        "0,1,2,3,4,5,6,7,8,9,10"
    );
}

#[test]
fn a_connection_lost_for_good_inside_a_batch_says_the_outcome_is_unknown() {
    // Run by the database's owner (not a superuser): 004 closes the
    // database to its new connections and commits; 005 ends its own
    // session. What committed cannot be asked again, so the run names the
    // files in doubt instead of guessing.
    let db = fresh_db("mig_batch_doubt");
    let owner = format!("{db}_owner");
    server()
        .execute(
            "postgres",
            &format!("CREATE ROLE {owner} LOGIN; ALTER DATABASE {db} OWNER TO {owner}"),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let close = format!("ALTER DATABASE {db} CONNECTION LIMIT 0;\n");
    numbered(
        dir.path(),
        8,
        &[
            (4, &close),
            (5, "SELECT pg_terminate_backend(pg_backend_pid());\n"),
        ],
    );
    let as_owner = url(&db).replacen("postgres@", &format!("{owner}@"), 1);
    let (_, lines) = run(migrate(&db, dir.path()).env("DATABASE_URL", &as_owner), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration outcome unknown", "{last}");
    let files: Vec<&str> = last["filenames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"005_f.up.sql"), "{files:?}");
    assert!(
        last["suggestion"]
            .as_str()
            .unwrap()
            .contains("pg-migrate status"),
        "{last}"
    );
    // What the run did log is true: 000–002 committed.
    assert_eq!(last["applied"], applied_files(&lines).len());
    server()
        .execute(
            "postgres",
            &format!("ALTER DATABASE {db} CONNECTION LIMIT -1"),
        )
        .unwrap();
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version, ',' ORDER BY version::int) FROM schema_migrations"
        ),
        "0,1,2,3,4"
    );
}

#[test]
fn each_file_starts_from_a_fresh_session_in_one_run_or_several() {
    // Each file leaves something in the session: a search_path (as SET and
    // as pg_dump's set_config(…, false), in a transactional and in a
    // no-transaction file), a statement_timeout, a temporary table, a role.
    // The next file must not see any of it, whether it shares a query
    // string with it or runs in a later run, and pg-migrate's own tracking
    // row must not be sent to an empty search_path (42P01 blamed on the file).
    let files: &[(&str, &str)] = &[
        ("001_a.up.sql", "CREATE SCHEMA other;\nSET search_path = other;\nCREATE TABLE a (id int);\n"),
        ("002_b.up.sql", "CREATE TABLE b (id int);\nSELECT pg_catalog.set_config('search_path', '', false);\n"),
        ("003_c.up.sql", "CREATE TABLE c (id int);\nSET statement_timeout = 1;\n"),
        ("004_d.up.sql", "SELECT pg_sleep(0.05);\nCREATE TEMP TABLE scratch (x int);\nCREATE TABLE d (id int);\n"),
        ("005_e.up.sql", "CREATE TEMP TABLE scratch (x int);\nCREATE TABLE e (id int);\nSET ROLE migrate_session_role;\n"),
        ("006_f.up.sql", "-- pg-migrate: no-transaction\nDO $$BEGIN IF current_user = 'migrate_session_role' THEN RAISE 'role leaked'; END IF; END$$;\nCREATE TABLE f (id int);\nSET search_path = other;\nCREATE TABLE f2 (id int);\n"),
        ("007_g.up.sql", "CREATE TABLE g (id int);\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        write(dir.path(), name, body);
    }
    let one = fresh_db("mig_session_one");
    server()
        .client(&one)
        .unwrap()
        .batch_execute("DO $$BEGIN CREATE ROLE migrate_session_role; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;")
        .unwrap();
    let (_, lines) = run(migrate(&one, dir.path()).arg("up"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 7, "{lines:#?}");
    let where_ = "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) FROM pg_tables WHERE tablename ~ '^[a-g]2?$'";
    assert_eq!(
        scalar(&one, where_),
        "other.a,public.b,public.c,public.d,public.e,public.f,other.f2,public.g"
    );
    let split = fresh_db("mig_session_split");
    for to in ["001", "002", "003", "004", "005", "006", "007"] {
        run(migrate(&split, dir.path()).args(["up", "--to", to]), 0);
    }
    assert_eq!(schema_without(&one, &[]), schema_without(&split, &[]));
    assert_eq!(
        scalar(&split, "SELECT count(*) FROM schema_migrations"),
        "7"
    );
}
