//! Other tools' migration folders, used unchanged (tests/fixtures/migrations,
//! sources and licences in its README), run as those tools run them
//! (issue 14, item 1): detected from the folder, up, status --exit-code 0,
//! down as far as their down parts go, up again; `new` in the folder's
//! layout; mixed folders refused with 65 naming two files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A copy of a fixture folder (tests may add files to it).
fn fixture(name: &str) -> tempfile::TempDir {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrations")
        .join(name);
    let to = tempfile::tempdir().unwrap();
    copy_dir(&from, to.path());
    to
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target: PathBuf = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn tables(db: &str) -> String {
    scalar(
        db,
        "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
    )
}

fn status(db: &str, dir: &Path, extra: &[&str]) -> Value {
    let (out, _) = run(
        migrate(db, dir)
            .args(["status", "--json", "--exit-code"])
            .args(extra),
        0,
    );
    serde_json::from_str(&out).unwrap()
}

/// up, status, down all the way (or as far as down parts go), up again.
fn round_trip(fixture_name: &str, extra: &[&str], files: usize, want: &str, after_down: &str) {
    let dir = fixture(fixture_name);
    let db = fresh_db(&format!("lay_{}", fixture_name.replace('-', "_")));
    let (_, lines) = run(migrate(&db, dir.path()).arg("up").args(extra), 0);
    assert_eq!(
        lines.last().unwrap()["applied"],
        files,
        "{fixture_name}: {lines:#?}"
    );
    assert_eq!(tables(&db), want, "{fixture_name}");
    let st = status(&db, dir.path(), extra);
    assert_eq!(st["applied"], files, "{fixture_name}");
    assert_eq!(st["pending"], 0);
    // Down, one at a time, until a migration without a down part stops it.
    let mut reverted = 0;
    loop {
        let out = migrate(&db, dir.path())
            .arg("down")
            .args(extra)
            .output()
            .unwrap();
        let lines = json_lines(&out.stderr);
        let last = lines.last().unwrap();
        if out.status.code() != Some(0) {
            assert_eq!(
                last["message"], "Down migration missing",
                "{fixture_name}: {last}"
            );
            break;
        }
        reverted += 1;
        if reverted == files {
            break;
        }
    }
    assert_eq!(
        tables(&db),
        after_down,
        "{fixture_name} after {reverted} down"
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up").args(extra), 0);
    assert_eq!(lines.last().unwrap()["applied"], reverted, "{fixture_name}");
    assert_eq!(tables(&db), want, "{fixture_name} again");
}

#[test]
fn dbmate_folders_run_their_up_sections_only() {
    // The down section (drop table) never runs on up.
    round_trip("dbmate", &[], 2, "posts,users", "");
    let dir = fixture("dbmate");
    let db = fresh_db("lay_dbmate_rows");
    run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(scalar(&db, "SELECT name FROM users"), "alice");
    // dbmate keys versions as written, ordered as strings.
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version, ',' ORDER BY applied_at, version) FROM schema_migrations"
        ),
        "20151129054053,20200227231541"
    );
}

#[test]
fn goose_folders_with_statement_blocks_and_no_transaction() {
    // 00004 has no Down section (nothing to revert, as goose); 00005 is
    // NO TRANSACTION (CREATE INDEX CONCURRENTLY).
    round_trip("goose", &[], 6, "owners,repos", "");
    let db = fresh_db("lay_goose_idx");
    let dir = fixture("goose");
    run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'owners_owner_name_idx'"
        ),
        "1"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_proc WHERE proname = 'insert_repository'"
        ),
        "1"
    );
}

#[test]
fn diesel_folders_in_version_string_order() {
    round_trip("diesel", &[], 6, "comments,posts,users", "");
    let db = fresh_db("lay_diesel_order");
    let dir = fixture("diesel");
    // A version in today's diesel form sorts by its digits as a string,
    // after the 2017 ones; a metadata.toml turns the transaction off.
    let sub = dir.path().join("2025-11-19-091444-0000_index_users");
    std::fs::create_dir(&sub).unwrap();
    write(
        &sub,
        "up.sql",
        "CREATE INDEX CONCURRENTLY users_name ON users (username);\n",
    );
    write(&sub, "down.sql", "DROP INDEX users_name;\n");
    write(&sub, "metadata.toml", "run_in_transaction = false\n");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 7, "{lines:#?}");
    let order = scalar(
        &db,
        "SELECT string_agg(version, ',' ORDER BY id) FROM schema_migrations",
    );
    assert!(
        order.starts_with("00000000000000,20171220144812,"),
        "{order}"
    );
    assert!(
        order.ends_with(",20171220183155,202511190914440000"),
        "{order}"
    );
    // new creates a diesel directory.
    let (out, _) = run(
        cmd("pg-migrate")
            .args(["new", "add", "tags", "--dir"])
            .arg(dir.path()),
        0,
    );
    let up = PathBuf::from(out.lines().next().unwrap());
    assert!(up.ends_with("up.sql"), "{out}");
    assert!(up
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .ends_with("_add_tags"));
    assert!(up.parent().unwrap().join("down.sql").is_file());
}

#[test]
fn sqlx_and_golang_migrate_folders() {
    round_trip("sqlx", &[], 3, "comment,post,user", "comment,post,user");
    // golang-migrate runs each file outside a transaction (its own
    // CREATE INDEX CONCURRENTLY); three files are comments only.
    round_trip(
        "golang-migrate",
        &["--layout", "golang-migrate"],
        9,
        "books,movies,users",
        "books,movies,users",
    );
    // Without --layout, the folder reads as pgkit's (same names), whose
    // transaction the CONCURRENTLY file cannot run in: 3, said plainly.
    let db = fresh_db("lay_gm_auto");
    let dir = fixture("golang-migrate");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 3);
    let last = lines.last().unwrap();
    assert_eq!(
        last["filename"], "1285849751_add_index_on_user_emails.up.sql",
        "{last}"
    );
    assert_eq!(last["sqlstate"], "25001");
    assert!(
        last["suggestion"]
            .as_str()
            .unwrap()
            .contains("--layout golang-migrate"),
        "{last}"
    );
}

#[test]
fn mixed_folders_are_refused_naming_two_files() {
    let db = fresh_db("lay_mixed");
    let dir = fixture("dbmate");
    write(dir.path(), "20250101000000_other.up.sql", "SELECT 1;\n");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration folder mixes layouts", "{last}");
    assert!(last["otherFilename"].is_string());

    // A goose file among dbmate ones.
    let dir = fixture("dbmate");
    write(
        dir.path(),
        "20300101000000_goose.sql",
        "-- +goose Up\nSELECT 1;\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration folder mixes layouts", "{last}");
    assert_eq!(last["filename"], "20300101000000_goose.sql");

    // A diesel directory beside plain files.
    let dir = fixture("diesel");
    write(dir.path(), "1_x.sql", "SELECT 1;\n");
    let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 65);
    assert_eq!(
        lines.last().unwrap()["message"],
        "Migration folder mixes layouts"
    );
    assert_eq!(tables(&db), "");
}

#[test]
fn new_writes_the_folders_layout() {
    // (sqlx's plain files read as pgkit's, which they are: a plain file.)
    for (fixture_name, layout, suffix, marker) in [
        ("dbmate", "dbmate", ".sql", "-- migrate:up"),
        ("goose", "goose", ".sql", "-- +goose Up"),
        ("sqlx", "pgkit", ".sql", ""),
    ] {
        let dir = fixture(fixture_name);
        let (out, lines) = run(
            cmd("pg-migrate")
                .args(["new", "add", "tags", "--dir"])
                .arg(dir.path()),
            0,
        );
        let paths: Vec<&str> = out.lines().collect();
        assert_eq!(paths.len(), 1, "{fixture_name}: {out}");
        assert!(paths[0].ends_with(&format!("_add_tags{suffix}")), "{out}");
        let text = std::fs::read_to_string(paths[0]).unwrap();
        assert!(text.contains(marker), "{text}");
        assert_eq!(lines.last().unwrap()["layout"], layout);
    }
    // Flyway: the next version after the highest.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__init.sql", "CREATE TABLE a (id int);\n");
    write(dir.path(), "V1.1__more.sql", "CREATE TABLE b (id int);\n");
    let (out, _) = run(
        cmd("pg-migrate")
            .args(["new", "add", "c", "--dir"])
            .arg(dir.path()),
        0,
    );
    assert!(out.trim().ends_with("/V2__add_c.sql"), "{out}");
}

#[test]
fn flyway_versions_in_dotted_order_with_undo_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__init.sql", "CREATE TABLE a (id int);\n");
    write(dir.path(), "V1.2__two.sql", "CREATE TABLE b (id int);\n");
    write(dir.path(), "V1.10__ten.sql", "ALTER TABLE b ADD c int;\n");
    write(dir.path(), "U1.10__ten.sql", "ALTER TABLE b DROP c;\n");
    write(dir.path(), "README.txt", "not a migration\n");
    let db = fresh_db("lay_flyway");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    // 1.2 before 1.10 (numerically, part by part).
    assert_eq!(applied, ["V1__init.sql", "V1.2__two.sql", "V1.10__ten.sql"]);
    run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'b' AND column_name = 'c'"), "0");
    // No undo for 1.2: down stops with 3.
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 3);
    assert_eq!(lines.last().unwrap()["message"], "Down migration missing");
    // --to takes the folder's version form.
    let (out, _) = run(
        migrate(&db, dir.path()).args(["up", "--dry-run", "--to", "1.10"]),
        0,
    );
    assert_eq!(out.trim(), "V1.10__ten.sql");
    // A repeatable script runs after every versioned one, again whenever it
    // changes, and is never reverted.
    write(
        dir.path(),
        "R__views.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["V1.10__ten.sql", "R__views.sql"]);
    assert_eq!(lines.last().unwrap()["version"], "1.10");
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 0);
    write(
        dir.path(),
        "R__views.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS one, 2 AS two;\n",
    );
    let (out, _) = run(
        migrate(&db, dir.path()).args(["status", "--json", "--exit-code"]),
        3,
    );
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["pending"], 1, "{st}");
    assert_eq!(st["drifted"], 0);
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(scalar(&db, "SELECT two FROM v"), "2");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM schema_migrations WHERE version = 'R__views'"
        ),
        "1"
    );
    // down reverts the newest versioned migration, not the script.
    let (_, lines) = run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(
        lines
            .iter()
            .find(|l| l["message"] == "Migration reverted")
            .unwrap()["filename"],
        "U1.10__ten.sql"
    );
}

/// Flyway scans its location recursively: scripts in subdirectories are
/// migrations in the one version order, named by their path under the
/// folder as Flyway's `script` column names them (they were ignored: a
/// folder holding them only was "empty"). Hidden directories and directory
/// symlinks are not read.
#[test]
fn flyway_scripts_in_subdirectories_are_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("release1/fixes")).unwrap();
    std::fs::create_dir_all(p.join(".hidden")).unwrap();
    write(
        &p.join("release1"),
        "V1__init.sql",
        "CREATE TABLE a (id int);\n",
    );
    write(
        &p.join("release1/fixes"),
        "V1.9__fix.sql",
        "CREATE TABLE b (id int);\n",
    );
    write(&p.join(".hidden"), "V5__no.sql", "SELECT 1/0;\n");
    let elsewhere = tempfile::tempdir().unwrap();
    write(elsewhere.path(), "V6__no.sql", "SELECT 1/0;\n");
    std::os::unix::fs::symlink(elsewhere.path(), p.join("linked")).unwrap();
    let db = fresh_db("lay_flyway_nested");
    // Only in subdirectories: still Flyway's folder, not an empty one.
    let (out, _) = run(migrate(&db, p).args(["status", "--json"]), 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["pending"], 2, "{st}");
    write(p, "V1.10__ten.sql", "ALTER TABLE b ADD c int;\n");
    write(
        &p.join("release1"),
        "R__views.sql",
        "CREATE OR REPLACE VIEW v AS SELECT id FROM b;\n",
    );
    let (_, lines) = run(migrate(&db, p).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(
        applied,
        [
            "release1/V1__init.sql",
            "release1/fixes/V1.9__fix.sql",
            "V1.10__ten.sql",
            "release1/R__views.sql"
        ]
    );
    run(migrate(&db, p).args(["status", "--exit-code"]), 0);
}

/// Names as Flyway 7.15 reads them (checked with Flyway itself): the
/// `__` and the description are optional, so `V4.sql`, `V3__.sql` and
/// `R__.sql` are migrations (they were skipped without a word). A
/// callback script Flyway runs around its migrations (`afterMigrate.sql`)
/// is refused with 65 before anything runs: pg-migrate runs no callbacks.
#[test]
fn flyway_names_without_description_and_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "V1__a.sql", "CREATE TABLE a (x int);\n");
    write(p, "V4.sql", "CREATE TABLE b (x int);\n");
    write(p, "V3__.sql", "CREATE TABLE c (x int);\n");
    write(
        p,
        "R__.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
    );
    write(p, "beforeClean.sql", "SELECT 1/0;\n");
    let db = fresh_db("lay_flyway_bare_names");
    let (_, lines) = run(migrate(&db, p).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["V1__a.sql", "V3__.sql", "V4.sql", "R__.sql"]);

    write(p, "V5__d.sql", "CREATE TABLE d (x int);\n");
    write(
        p,
        "afterMigrate.sql",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;\n",
    );
    for args in [&["up"][..], &["status"][..]] {
        let (_, lines) = run(migrate(&db, p).args(args), 65);
        let l = lines.last().unwrap();
        assert_eq!(l["message"], "Flyway callback script in the folder", "{l}");
        assert_eq!(l["filename"], "afterMigrate.sql");
    }
    assert_eq!(scalar(&db, "SELECT to_regclass('d') IS NULL"), "t");
}

/// A Flyway script where CREATE INDEX CONCURRENTLY meets other statements
/// is refused as Flyway refuses it (mixed is off by default), before
/// anything runs, naming the line; with Flyway's FLYWAY_MIXED=true, or
/// executeInTransaction=false in its .sql.conf, it runs outside a
/// transaction, as Flyway then runs it. A script of
/// non-transactional statements only is not mixed, and a mixed script
/// already applied is not refused again.
#[test]
fn flyway_scripts_mixing_transactional_and_not_need_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "V1__a.sql", "CREATE TABLE a (x int);\n");
    write(
        p,
        "V2__concurrently.sql",
        "-- only what cannot run in a transaction\nCREATE INDEX CONCURRENTLY a_x ON a (x);\n",
    );
    write(
        p,
        "V3__mixed.sql",
        "CREATE TABLE b (x int);\n\ncreate unique index\n  concurrently b_x ON b (x);\n",
    );
    let db = fresh_db("lay_flyway_mixed");
    for args in [&["up"][..], &["up", "--dry-run"][..]] {
        let (_, lines) = run(migrate(&db, p).args(args), 65);
        let l = lines.last().unwrap();
        assert_eq!(
            l["message"], "Flyway script mixes transactional and non-transactional statements",
            "{l}"
        );
        assert_eq!(l["filename"], "V3__mixed.sql");
        assert_eq!(l["line"], 3);
        assert!(
            l["suggestion"]
                .as_str()
                .unwrap()
                .contains("FLYWAY_MIXED=true"),
            "{l}"
        );
    }
    // Refused before anything ran.
    assert_eq!(scalar(&db, "SELECT to_regclass('a') IS NULL"), "t");
    run(migrate(&db, p).args(["up", "--to", "2"]), 0);
    let (_, lines) = run(migrate(&db, p).arg("up").env("FLYWAY_MIXED", "maybe"), 78);
    assert_eq!(lines.last().unwrap()["message"], "Invalid FLYWAY_MIXED");
    let (_, lines) = run(migrate(&db, p).arg("up").env("FLYWAY_MIXED", "true"), 0);
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(
        scalar(&db, "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename IN ('a', 'b')"),
        "a_x,b_x"
    );
    run(migrate(&db, p).args(["status", "--exit-code"]), 0);
    run(migrate(&db, p).arg("up"), 0);
    // A script's own executeInTransaction=false is as good as mixed=true
    // (Flyway 7.15 runs it too).
    write(
        p,
        "V4__mixed_too.sql",
        "CREATE TABLE c (x int);\nCREATE INDEX CONCURRENTLY c_x ON c (x);\n",
    );
    run(migrate(&db, p).arg("up"), 65);
    write(p, "V4__mixed_too.sql.conf", "executeInTransaction=false\n");
    run(migrate(&db, p).arg("up"), 0);
    assert_eq!(scalar(&db, "SELECT to_regclass('c_x') IS NOT NULL"), "t");
    // So is pg-migrate's own marker.
    write(
        p,
        "V5__marked.sql",
        "-- pg-migrate: no-transaction\nCREATE TABLE d (x int);\nCREATE INDEX CONCURRENTLY d_x ON d (x);\n",
    );
    run(migrate(&db, p).arg("up"), 0);
    assert_eq!(scalar(&db, "SELECT to_regclass('d_x') IS NOT NULL"), "t");
}

/// A changed repeatable script that fails is not reported as applied: its
/// previous run's row was there all along, and was taken as the new run's
/// commit ("Migration applied", then "Migration failed", applied=1); the
/// previous row stays, and the script stays pending.
#[test]
fn a_failing_rerun_of_a_flyway_repeatable_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__init.sql", "CREATE TABLE a (id int);\n");
    write(
        dir.path(),
        "R__views.sql",
        "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
    );
    let db = fresh_db("lay_flyway_rerun_fails");
    run(migrate(&db, dir.path()).arg("up"), 0);
    let before = scalar(
        &db,
        "SELECT checksum FROM schema_migrations WHERE version = 'R__views'",
    );
    // CREATE OR REPLACE VIEW cannot rename a column.
    write(
        dir.path(),
        "R__views.sql",
        "CREATE OR REPLACE VIEW v AS SELECT id AS renamed FROM a;\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 3);
    assert!(
        !lines.iter().any(|l| l["message"] == "Migration applied"),
        "{lines:#?}"
    );
    let l = lines.last().unwrap();
    assert_eq!(l["message"], "Migration failed");
    assert_eq!(l["sqlstate"], "42P16");
    assert_eq!(l["applied"], 0, "{l}");
    assert_eq!(
        scalar(
            &db,
            "SELECT checksum FROM schema_migrations WHERE version = 'R__views'"
        ),
        before
    );
    let (out, _) = run(migrate(&db, dir.path()).args(["status", "--json"]), 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["pending"], 1, "{st}");
}

#[test]
fn pg_tmp_db_create_takes_another_tools_folder() {
    let dir = fixture("goose");
    let out = cmd("pg-tmp")
        .env("DATABASE_URL", url("postgres"))
        .args(["db", "create", "--migrations"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let db_url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let db = db_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(tables(&db), "owners,repos");
    let out = cmd("pg-tmp")
        .args(["db", "drop", &db_url])
        .output()
        .unwrap();
    assert_success(&out);
}

/// `pg_dump --schema-only` of `db` without pg-migrate's own table.
fn schema_of(db: &str) -> String {
    schema_without(db, &["pgkit_migrations*"])
}

/// crates.io's diesel history, all 285 migrations as published: both
/// version forms, seven metadata.toml files (no transaction), extensions.
/// Its 2017 migration drops a legacy `schema_migrations` table, pg-migrate's
/// default name, so it keeps its history in another (--table).
#[test]
fn crates_io_history_runs_down_as_far_as_its_down_files_go_and_up_again() {
    let dir = fixture("diesel-cratesio");
    let db = fresh_db("lay_cratesio");
    let t = ["--table", "pgkit_migrations"];
    let (_, lines) = run(migrate(&db, dir.path()).arg("up").args(t), 0);
    assert_eq!(last_of(&lines)["applied"], 285, "{:?}", last_of(&lines));
    run(
        migrate(&db, dir.path())
            .args(["status", "--exit-code"])
            .args(t),
        0,
    );
    let whole = schema_of(&db);
    // Its down files: 50 revert, then one whose down drops a constraint its
    // up never made (an index of that name): a no-transaction file, so its
    // row is left failed, as diesel would stop there too.
    let (_, lines) = run(
        migrate(&db, dir.path())
            .args(["down", "--steps", "300"])
            .args(t),
        3,
    );
    let l = last_of(&lines);
    assert_eq!(l["reverted"], 50, "{l}");
    assert_eq!(
        l["filename"],
        "2024-10-25-112826_make-unique-version-unique/down.sql"
    );
    assert_eq!(l["sqlstate"], "42704");
    // Cleared, the rest goes up again to the very same schema.
    run(migrate(&db, dir.path()).arg("repair").args(t), 0);
    let (_, lines) = run(migrate(&db, dir.path()).arg("up").args(t), 0);
    assert_eq!(last_of(&lines)["applied"], 51);
    assert_eq!(schema_of(&db), whole);
}

fn last_of(lines: &[Value]) -> &Value {
    lines.last().unwrap()
}

/// Flyway's own test scripts: `V1`, `V1_2` (1.2) and `V2_0` (2), with a
/// semicolon inside a string; the schemas are Flyway's `schemas` setting's.
#[test]
fn flyways_own_scripts_in_version_order() {
    let dir = fixture("flyway");
    let db = fresh_db("lay_flyway_real");
    scalar(
        &db,
        "CREATE SCHEMA flyway_1; CREATE SCHEMA flyway_2; CREATE SCHEMA flyway_3; SELECT 1",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["version"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["1", "1.2", "2"]);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(name, '|' ORDER BY name) FROM flyway_3.test_user3"
        ),
        "Mr. Semicolon;|Mr. T"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM flyway_2.couple2"), "1");
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 0);
}
