//! pg-migrate's other commands against a real server: status, verify, down,
//! new, baseline, repair, out-of-order, drift.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::Path;

fn three(dir: &Path) {
    write(dir, "001_users.up.sql", "CREATE TABLE users (id int);\n");
    write(dir, "001_users.down.sql", "DROP TABLE users;\n");
    write(dir, "002_posts.up.sql", "CREATE TABLE posts (id int);\n");
    write(dir, "002_posts.down.sql", "DROP TABLE posts;\n");
    write(dir, "003_tags.up.sql", "CREATE TABLE tags (id int);\n");
    write(dir, "003_tags.down.sql", "DROP TABLE tags;\n");
}

#[test]
fn status_table_json_and_exit_code() {
    let db = fresh_db("mig_status");
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    // Before anything: all pending, the table is not created by status.
    let (stdout, lines) = run(migrate(&db, dir.path()).arg("status"), 0);
    assert!(stdout.starts_with("VERSION"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains("pending")).count(), 3);
    assert_eq!(lines.last().unwrap()["pending"], 3);
    assert_eq!(
        scalar(&db, "SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 3);
    run(migrate(&db, dir.path()).args(["up", "--to", "2"]), 0);
    let (stdout, _) = run(migrate(&db, dir.path()).args(["status", "--json"]), 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["applied"], 2);
    assert_eq!(v["pending"], 1);
    let m = v["migrations"].as_array().unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m[0]["filename"], "001_users.up.sql");
    assert_eq!(m[0]["status"], "applied");
    assert_eq!(m[0]["version"], "1");
    assert!(m[0]["appliedAt"].is_string());
    assert_eq!(m[0]["down"], "001_users.down.sql");
    assert_eq!(m[2]["status"], "pending");
    let (_, lines) = run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 3);
    assert_eq!(lines.last().unwrap()["exitCode"], 3);
    run(&mut migrate(&db, dir.path()), 0);
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 0);
    // Options may come before the subcommand.
    let (stdout, _) = run(
        cmd("pg-migrate")
            .arg("--dsn")
            .arg(url(&db))
            .arg("--dir")
            .arg(dir.path())
            .args(["status", "--json"]),
        0,
    );
    assert!(stdout.contains("\"pending\":0"), "{stdout}");
    // A missing file and a changed one show up.
    std::fs::remove_file(dir.path().join("003_tags.up.sql")).unwrap();
    std::fs::remove_file(dir.path().join("003_tags.down.sql")).unwrap();
    write(
        dir.path(),
        "002_posts.up.sql",
        "CREATE TABLE posts (id bigint);\n",
    );
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["status", "--json", "--exit-code"]),
        3,
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["missing"], 1);
    assert_eq!(v["drifted"], 1);
}

#[test]
fn verify_passes_a_crlf_copy_and_fails_an_edit() {
    let db = fresh_db("mig_verify");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_a.up.sql",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
    );
    run(&mut migrate(&db, dir.path()), 0);
    let (_, lines) = run(migrate(&db, dir.path()).arg("verify"), 0);
    assert_eq!(lines.last().unwrap()["verified"], 1);
    // A Windows checkout (CRLF, BOM) of the same file.
    write(
        dir.path(),
        "001_a.up.sql",
        "\u{feff}CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n",
    );
    run(migrate(&db, dir.path()).arg("verify"), 0);
    run(&mut migrate(&db, dir.path()), 0);
    // An edit.
    write(
        dir.path(),
        "001_a.up.sql",
        "CREATE TABLE a (id bigint);\nCREATE TABLE b (id int);\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("verify"), 3);
    let m = find(&lines, "Migration checksum mismatch");
    assert_eq!(m["level"], "error");
    assert_eq!(m["filename"], "001_a.up.sql");
    assert_eq!(m["storedChecksum"].as_str().unwrap().len(), 64);
    assert_ne!(m["storedChecksum"], m["currentChecksum"]);
    assert_eq!(lines.last().unwrap()["mismatched"], 1);
    // up refuses too, naming the file, both checksums and what to do.
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration checksum mismatch");
    assert_eq!(last["filename"], "001_a.up.sql");
    assert!(last["storedChecksum"].is_string() && last["currentChecksum"].is_string());
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("new migration"));
    // A file gone is reported.
    std::fs::remove_file(dir.path().join("001_a.up.sql")).unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).arg("verify"), 3);
    assert_eq!(
        find(&lines, "Applied migration file missing")["filename"],
        "001_a.up.sql"
    );
    assert_eq!(lines.last().unwrap()["missing"], 1);
}

#[test]
fn repair_accepts_a_cosmetic_change_at_warn() {
    let db = fresh_db("mig_repair");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_a.up.sql", "CREATE TABLE a (id int);\n");
    run(&mut migrate(&db, dir.path()), 0);
    write(
        dir.path(),
        "001_a.up.sql",
        "-- a comment\nCREATE TABLE a (id int);\n",
    );
    run(&mut migrate(&db, dir.path()), 3);
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["repair", "--filename", "001_a.up.sql"]),
        0,
    );
    let w = find(&lines, "Migration checksum accepted");
    assert_eq!(w["level"], "warn");
    assert_eq!(w["filename"], "001_a.up.sql");
    run(migrate(&db, dir.path()).arg("verify"), 0);
    run(&mut migrate(&db, dir.path()), 0);
    let (_, lines) = run(migrate(&db, dir.path()).arg("repair"), 0);
    assert_eq!(lines.last().unwrap()["message"], "Nothing to repair");
    run(
        migrate(&db, dir.path()).args(["repair", "--filename", "009_nope.up.sql"]),
        1,
    );
}

#[test]
fn out_of_order_is_refused_unless_allowed() {
    let db = fresh_db("mig_ooo");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_a.up.sql", "CREATE TABLE a (id int);\n");
    write(dir.path(), "003_c.up.sql", "CREATE TABLE c (id int);\n");
    run(&mut migrate(&db, dir.path()), 0);
    // A branch merged later brings an older version.
    write(dir.path(), "002_b.up.sql", "CREATE TABLE b (id int);\n");
    write(dir.path(), "004_d.up.sql", "CREATE TABLE d (id int);\n");
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration out of order");
    assert_eq!(last["filename"], "002_b.up.sql");
    assert_eq!(last["newestApplied"], "3");
    assert_eq!(scalar(&db, "SELECT to_regclass('d') IS NULL"), "t");
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--allow-out-of-order"]),
        0,
    );
    assert!(has_message(&lines, "Applying migration out of order"));
    assert_eq!(lines.last().unwrap()["applied"], 2);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "4");
}

#[test]
fn down_reverts_newest_first_and_refuses_without_a_down_file() {
    let db = fresh_db("mig_down");
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    write(
        dir.path(),
        "004_nodown.up.sql",
        "CREATE TABLE nodown (id int);\n",
    );
    run(&mut migrate(&db, dir.path()), 0);
    // 004 has no down file: refused, nothing reverted.
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Down migration missing");
    assert_eq!(last["filename"], "004_nodown.up.sql");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "4");
    std::fs::remove_file(dir.path().join("004_nodown.up.sql")).unwrap();
    server()
        .execute(
            &db,
            "DROP TABLE nodown; DELETE FROM schema_migrations WHERE version = '4'",
        )
        .unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(
        find(&lines, "Migration reverted")["filename"],
        "003_tags.down.sql"
    );
    assert_eq!(lines.last().unwrap()["reverted"], 1);
    assert_eq!(
        scalar(
            &db,
            "SELECT to_regclass('tags') IS NULL AND to_regclass('posts') IS NOT NULL"
        ),
        "t"
    );
    run(&mut migrate(&db, dir.path()), 0);
    let (_, lines) = run(migrate(&db, dir.path()).args(["down", "--steps", "2"]), 0);
    let reverted: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration reverted")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(reverted, vec!["003_tags.down.sql", "002_posts.down.sql"]);
    run(&mut migrate(&db, dir.path()), 0);
    let (_, lines) = run(migrate(&db, dir.path()).args(["down", "--to", "0"]), 0);
    assert_eq!(lines.last().unwrap()["reverted"], 3);
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "0");
    assert_eq!(scalar(&db, "SELECT to_regclass('users') IS NULL"), "t");
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(lines.last().unwrap()["message"], "Nothing to revert");
    // A failing down rolls back and keeps the row.
    run(&mut migrate(&db, dir.path()), 0);
    write(
        dir.path(),
        "003_tags.down.sql",
        "DROP TABLE tags;\nSELECT missing_column FROM posts;\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "003_tags.down.sql");
    assert_eq!(last["line"], 2);
    assert_eq!(scalar(&db, "SELECT to_regclass('tags') IS NOT NULL AND (SELECT count(*) FROM schema_migrations) = 3"), "t");
    run(
        migrate(&db, dir.path()).args(["down", "--steps", "1", "--to", "1"]),
        64,
    );
}

#[test]
fn new_creates_a_timestamped_pair_and_prints_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("db/migrations");
    let out = cmd("pg-migrate")
        .args(["new", "Add users table!", "--dir"])
        .arg(&target)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let paths: Vec<&str> = stdout.lines().collect();
    assert_eq!(paths.len(), 2);
    assert!(paths[0].ends_with("_add_users_table.up.sql"), "{stdout}");
    assert!(paths[1].ends_with("_add_users_table.down.sql"));
    let name = Path::new(paths[0])
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let version = &name[..14];
    assert!(version.bytes().all(|b| b.is_ascii_digit()), "{name}");
    let now = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(version.starts_with(&now[..6]), "UTC timestamp {version}");
    assert!(Path::new(paths[0]).exists() && Path::new(paths[1]).exists());
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Migration created");
    // The pair is a valid migration for the runner.
    let db = fresh_db("mig_new");
    run(migrate(&db, &target).arg("up"), 0);
    cmd("pg-migrate").args(["new", "!!!"]).assert().code(64);
}

#[test]
fn baseline_records_without_running() {
    let db = fresh_db("mig_base");
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    // The schema already exists up to 002 (a database adopted from elsewhere).
    server()
        .execute(
            &db,
            "CREATE TABLE users (id int); CREATE TABLE posts (id int);",
        )
        .unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).args(["baseline", "002"]), 0);
    assert_eq!(lines.last().unwrap()["baselined"], 2);
    assert_eq!(
        find(&lines, "Migration baselined")["filename"],
        "001_users.up.sql"
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 1);
    run(migrate(&db, dir.path()).arg("verify"), 0);
    run(migrate(&db, dir.path()).args(["baseline", "v2"]), 64);
}
