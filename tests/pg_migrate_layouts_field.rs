//! More of pg-migrate's layouts (issue 14, item 1), written apart from
//! tests/pg_migrate_layouts.rs against the tools' documented behaviour:
//! edge cases of detection, ordering, --to forms, markers, undo files, and
//! the same real folders through pg-tmp and pg-provision.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/migrations/{tool}"))
}

fn applied(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap().to_string())
        .collect()
}

fn tables(db: &str) -> String {
    scalar(
        db,
        "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
    )
}

/// up on an empty database, status --exit-code 0, down all the way, up again.
fn round_trip(
    db: &str,
    dir: &Path,
    layout: &[&str],
    files: usize,
    down_steps: usize,
) -> Vec<String> {
    let (_, lines) = run(migrate(db, dir).args(layout).arg("up"), 0);
    let names = applied(&lines);
    assert_eq!(names.len(), files, "{lines:?}");
    run(
        migrate(db, dir)
            .args(layout)
            .args(["status", "--exit-code"]),
        0,
    );
    let (_, lines) = run(
        migrate(db, dir)
            .args(layout)
            .args(["down", "--steps", &down_steps.to_string()]),
        0,
    );
    assert_eq!(lines.last().unwrap()["reverted"], down_steps, "{lines:?}");
    let (_, lines) = run(migrate(db, dir).args(layout).arg("up"), 0);
    assert_eq!(applied(&lines).len(), down_steps, "{lines:?}");
    run(
        migrate(db, dir)
            .args(layout)
            .args(["status", "--exit-code"]),
        0,
    );
    names
}

#[test]
fn diesel_example_folder_runs_in_version_string_order() {
    let db = fresh_db("lay_diesel");
    let dir = fixture("diesel");
    let names = round_trip(&db, &dir, &[], 6, 6);
    // diesel's initial setup is a migration, and comes first.
    assert_eq!(names[0], "00000000000000_diesel_initial_setup/up.sql");
    assert_eq!(names[5], "2017-12-20-183155_create_comments/up.sql");
    assert_eq!(tables(&db), "comments,posts,users");
    // --to takes diesel's dashed version.
    run(
        migrate(&db, &dir).args(["down", "--to", "2017-12-20-164453"]),
        0,
    );
    assert_eq!(tables(&db), "posts,users");
    run(
        migrate(&db, &dir).args(["up", "--to", "2017-12-20-171042"]),
        0,
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'published_at'"
        ),
        "1"
    );
    run(migrate(&db, &dir).arg("up"), 0);
    assert_eq!(tables(&db), "comments,posts,users");
    assert_eq!(
        scalar(&db, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations WHERE version LIKE '2017%'"),
        "20171220144812,20171220163829,20171220164453,20171220171042,20171220183155"
    );
}

/// diesel's `2025-11-19-091444-0000` versions sort as strings among
/// 14-digit ones (diesel records both without dashes); metadata.toml's
/// run_in_transaction = false is honoured; `new` makes a diesel directory
/// that sorts last, not an "out of order" one.
#[test]
fn diesel_mixed_version_styles_metadata_and_new() {
    let db = fresh_db("lay_diesel2");
    let dir = tempfile::tempdir().unwrap();
    let mk = |name: &str, up: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        write(&d, "up.sql", up);
        write(&d, "down.sql", "SELECT 1;");
        d
    };
    mk("20251120000000_b", "INSERT INTO log VALUES ('b');");
    mk("2025-11-19-091444-0000_a", "CREATE TABLE log (s text);");
    let c = mk(
        "2025-11-21-000000-0000_c",
        "CREATE INDEX CONCURRENTLY log_s ON log (s);",
    );
    write(&c, "metadata.toml", "run_in_transaction = false\n");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(
        applied(&lines),
        [
            "2025-11-19-091444-0000_a/up.sql",
            "20251120000000_b/up.sql",
            "2025-11-21-000000-0000_c/up.sql"
        ]
    );
    let (stdout, _) = run(migrate(&db, dir.path()).args(["new", "add", "more"]), 0);
    let made: Vec<&str> = stdout.lines().collect();
    assert_eq!(made.len(), 2, "{stdout}");
    // diesel's own form (diesel_cli's TIMESTAMP_FORMAT, %Y-%m-%d-%H%M%S).
    let name = Path::new(made[0]).parent().unwrap().file_name().unwrap();
    let name = name.to_str().unwrap();
    assert_eq!(name.len(), "2025-11-21-000000_add_more".len(), "{stdout}");
    assert!(
        name.ends_with("_add_more") && name.as_bytes()[4] == b'-',
        "{stdout}"
    );
    assert!(made[1].ends_with("_add_more/down.sql"), "{stdout}");
    // Pending and in order, not "out of order".
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(applied(&lines).len(), 1);
}

#[test]
fn flyway_versions_order_dotted_and_undo_files_are_downs() {
    let db = fresh_db("lay_flyway");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "V1__create.sql", "CREATE TABLE log (s text);");
    write(d, "V1.10__ten.sql", "INSERT INTO log VALUES ('1.10');");
    write(d, "V1_2__two.sql", "INSERT INTO log VALUES ('1.2');");
    write(d, "U1_2__two.sql", "DELETE FROM log WHERE s = '1.2';");
    write(d, "U1.10__ten.sql", "DELETE FROM log WHERE s = '1.10';");
    let (_, lines) = run(migrate(&db, d).arg("up"), 0);
    assert_eq!(
        applied(&lines),
        ["V1__create.sql", "V1_2__two.sql", "V1.10__ten.sql"]
    );
    run(migrate(&db, d).args(["status", "--exit-code"]), 0);
    // The U files are the downs, newest (1.10) first.
    let (_, lines) = run(migrate(&db, d).args(["down", "--steps", "2"]), 0);
    let reverted: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration reverted")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(reverted, ["U1.10__ten.sql", "U1_2__two.sql"]);
    assert_eq!(scalar(&db, "SELECT count(*) FROM log"), "0");
    run(migrate(&db, d).arg("up"), 0);
    assert_eq!(
        scalar(&db, "SELECT string_agg(s, ',' ORDER BY s) FROM log"),
        "1.10,1.2"
    );
    // --to takes the dotted version.
    run(migrate(&db, d).args(["down", "--to", "1.2"]), 0);
    assert_eq!(
        scalar(&db, "SELECT string_agg(s, ',' ORDER BY s) FROM log"),
        "1.2"
    );
    run(migrate(&db, d).arg("up"), 0);
    let (stdout, _) = run(migrate(&db, d).args(["new", "next"]), 0);
    assert!(stdout.trim().ends_with("V2__next.sql"), "{stdout}");
    run(migrate(&db, d).arg("up"), 0);
}

#[test]
fn mixed_folders_are_refused_naming_two_files() {
    let db = fresh_db("lay_mixed");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n",
    );
    write(
        dir.path(),
        "2_b.sql",
        "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n",
    );
    for cmd in ["up", "status"] {
        let (_, lines) = run(migrate(&db, dir.path()).arg(cmd), 65);
        let last = lines.last().unwrap();
        assert_eq!(last["message"], "Migration folder mixes layouts", "{last}");
        assert_eq!(last["filename"], "2_b.sql", "{last}");
        assert_eq!(last["otherFilename"], "1_a.sql", "{last}");
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "SELECT 1;");
    std::fs::create_dir(dir.path().join("2025-01-01-000000_x")).unwrap();
    write(
        &dir.path().join("2025-01-01-000000_x"),
        "up.sql",
        "SELECT 1;",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 65);
    let last = lines.last().unwrap();
    let mut named = [
        last["filename"].as_str().unwrap(),
        last["otherFilename"].as_str().unwrap(),
    ];
    named.sort();
    assert_eq!(
        named,
        ["1_a.up.sql", "2025-01-01-000000_x/up.sql"],
        "{last}"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('a') IS NULL"), "t");
    // A dbmate file beside a pg-migrate .up.sql/.down.sql pair.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_a.sql",
        "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
    );
    write(dir.path(), "2_b.up.sql", "SELECT 1;");
    write(dir.path(), "2_b.down.sql", "SELECT 1;");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration folder mixes layouts", "{last}");
    let mut named = [
        last["filename"].as_str().unwrap(),
        last["otherFilename"].as_str().unwrap(),
    ];
    named.sort();
    assert_eq!(named, ["1_a.sql", "2_b.up.sql"], "{last}");
}

#[test]
fn no_transaction_markers_of_each_tool_are_honoured() {
    let db = fresh_db("lay_notx");
    let cases: [(&str, &str, &str); 3] = [
        (
            "1_t.sql",
            "CREATE TABLE t (a int);",
            "",
        ),
        // pg-migrate's marker below another comment line; sqlx's on line 1.
        (
            "2_i.sql",
            "-- adds an index\n-- pg-migrate: no-transaction\nCREATE INDEX CONCURRENTLY i2 ON t (a);",
            "",
        ),
        (
            "3_j.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i3 ON t (a);",
            "",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, text, _) in cases {
        write(dir.path(), name, text);
    }
    run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('i2','i3')"
        ),
        "2"
    );
    // dbmate's transaction:false, for its section only.
    let db = fresh_db("lay_notx2");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_t.sql",
        "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n",
    );
    write(
        dir.path(),
        "2_i.sql",
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n",
    );
    run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_indexes WHERE indexname = 'i'"),
        "1"
    );
}

#[test]
fn flyway_sample_applies_in_dotted_order() {
    let db = fresh_db("lay_flyway_sample");
    let dir = fixture("flyway-spring-boot");
    let (_, lines) = run(migrate(&db, &dir).arg("up"), 0);
    assert_eq!(
        applied(&lines),
        [
            "V1__init.sql",
            "V1.1.1__test_insert.sql",
            "V1.1.2__test_insert.sql"
        ]
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM person"), "5");
    run(migrate(&db, &dir).args(["status", "--exit-code"]), 0);
    // No undo files: down refuses before anything runs.
    run(migrate(&db, &dir).arg("down"), 3);
    assert_eq!(scalar(&db, "SELECT count(*) FROM person"), "5");
}

/// pg-tmp's `db create` and scripts/pg-provision run pg-migrate on the
/// folder: another tool's folder works there as it is.
#[test]
fn pg_tmp_db_create_and_pg_provision_accept_other_tools_folders() {
    let bin = bin_path("pg-migrate").parent().unwrap().to_path_buf();
    let out = cmd("pg-tmp")
        .env("PGKIT_BIN", &bin)
        .env("DATABASE_URL", url("postgres"))
        .args(["db", "create", "--migrations"])
        .arg(fixture("diesel"))
        .output()
        .unwrap();
    assert_success(&out);
    let db_url = String::from_utf8(out.stdout).unwrap();
    let db = db_url.trim().rsplit('/').next().unwrap().to_string();
    assert_eq!(tables(&db), "comments,posts,users");
    cmd("pg-tmp")
        .env("DATABASE_URL", url("postgres"))
        .args(["db", "drop", db_url.trim()])
        .output()
        .unwrap();

    let db = fresh_db("lay_prov");
    let mut c = assert_cmd::Command::new("sh");
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-provision"));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    let out = c
        .env("HOME", empty_home())
        .env("PGKIT_BIN", &bin)
        .env("DATABASE_URL", url(&db))
        .env("MIGRATIONS_DIR", fixture("goose"))
        .env("SKIP_SEED", "1")
        .env("DB_TIMEOUT", "10000")
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(tables(&db), "owners,repos");
}

fn mk_diesel(dir: &Path, name: &str, up: &str, down: &str) {
    let d = dir.join(name);
    std::fs::create_dir(&d).unwrap();
    write(&d, "up.sql", up);
    write(&d, "down.sql", down);
}

/// diesel lists only directories holding up.sql: the `.gitkeep` its CLI
/// writes, a README or a directory without up.sql are not migrations and
/// do not make the folder "mixed".
#[test]
fn diesel_ignores_what_diesel_ignores() {
    let db = fresh_db("lay_diesel");
    let dir = tempfile::tempdir().unwrap();
    mk_diesel(
        dir.path(),
        "2024-01-01-000000_a",
        "CREATE TABLE a (id int);",
        "DROP TABLE a;",
    );
    write(dir.path(), ".gitkeep", "");
    write(dir.path(), "README.md", "notes");
    std::fs::create_dir(dir.path().join("scratch")).unwrap();
    write(&dir.path().join("scratch"), "notes.txt", "x");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(applied(&lines), ["2024-01-01-000000_a/up.sql"]);
}

/// goose: annotations in any case; a file without `-- +goose Up` in a goose
/// folder is an error for goose, so never run whole here.
#[test]
fn goose_file_without_up_annotation() {
    let db = fresh_db("lay_goose");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "00001_a.sql",
        "-- +goose UP\nCREATE TABLE a (id int);\n-- +goose DOWN\nDROP TABLE a;\n",
    );
    write(dir.path(), "00002_b.sql", "CREATE TABLE b (id int);\n");
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    let last = lines.last().unwrap();
    assert!(
        last["filename"] == "00002_b.sql" || last["otherFilename"] == "00002_b.sql",
        "{last}"
    );
    assert_eq!(scalar(&db, "SELECT to_regclass('a') IS NULL"), "t");
}

/// sqlx honours `-- no-transaction` only on the first line.
#[test]
fn sqlx_marker_only_on_line_one() {
    let db = fresh_db("lay_sqlx");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_t.sql", "CREATE TABLE t (a int);");
    write(
        dir.path(),
        "2_i.sql",
        "-- an index\n-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
    );
    // Not the no-transaction marker there: the file runs in a transaction,
    // where CREATE INDEX CONCURRENTLY fails (3), as under sqlx.
    let (_, lines) = run(migrate(&db, dir.path()).args(["--layout", "sqlx", "up"]), 3);
    assert_eq!(lines.last().unwrap()["sqlstate"], "25001", "{lines:?}");
}

/// dbmate's `transaction:false` on the down section only.
#[test]
fn dbmate_down_only_without_transaction() {
    let db = fresh_db("lay_dbmate");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_t.sql", "-- migrate:up\nCREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\nDROP TABLE t;\n");
    run(migrate(&db, dir.path()).arg("up"), 0);
    run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(scalar(&db, "SELECT to_regclass('t') IS NULL"), "t");
}

/// Flyway: 1 and 1.0 are one version (trailing zeros ignored).
#[test]
fn flyway_trailing_zero_versions_are_one() {
    let db = fresh_db("lay_flyway");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__a.sql", "CREATE TABLE a (id int);");
    write(dir.path(), "V1.0__b.sql", "CREATE TABLE b (id int);");
    let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 65);
    assert_eq!(
        lines.last().unwrap()["message"],
        "Duplicate migration version"
    );
}

/// `new` with --layout in an empty folder writes that tool's form.
#[test]
fn new_with_layout_in_an_empty_folder() {
    let db = fresh_db("lay_new");
    for (layout, marker) in [("dbmate", "-- migrate:up"), ("goose", "-- +goose Up")] {
        let dir = tempfile::tempdir().unwrap();
        let (stdout, _) = run(
            migrate(&db, dir.path()).args(["--layout", layout, "new", "first"]),
            0,
        );
        let first = stdout.lines().next().unwrap().to_string();
        let text = std::fs::read_to_string(&first).unwrap();
        assert!(text.contains(marker), "{layout}: {text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["--layout", "diesel", "new", "first"]),
        0,
    );
    assert!(
        stdout.lines().next().unwrap().ends_with("_first/up.sql"),
        "{stdout}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["--layout", "flyway", "new", "first"]),
        0,
    );
    assert!(stdout.trim().ends_with("V1__first.sql"), "{stdout}");
}

/// dbmate versions are strings: 001 and 1 are two migrations.
#[test]
fn dbmate_versions_are_strings() {
    let db = fresh_db("lay_dbmate_v");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n",
    );
    write(
        dir.path(),
        "1_b.sql",
        "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\n",
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(applied(&lines), ["001_a.sql", "1_b.sql"]);
}

/// Regression: a statement before the first section's annotation was
/// dropped silently (dbmate and goose both refuse such a file); goose's
/// `ENVSUB ON` ran `${VAR}` literally. Both are 65 before anything runs.
#[test]
fn statements_before_the_first_section_and_goose_envsub_are_refused() {
    let db = fresh_db("lay_before");
    for (name, text, line) in [
        (
            "1_a.sql",
            "-- header\nCREATE TABLE early (id int);\n-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n",
            "line 2",
        ),
        (
            "00001_a.sql",
            "CREATE TABLE early (id int);\n-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
            "line 1",
        ),
        (
            "00001_b.sql",
            "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${TABLE_NAME} (id int);\n-- +goose Down\n",
            "line 2",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, text);
        // status flags it (a warning naming the file), as it flags every
        // file up would refuse.
        let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 0);
        let warned = lines
            .iter()
            .find(|l| l["message"].as_str().unwrap_or("").starts_with("Pending migration would be refused"))
            .unwrap_or_else(|| panic!("{lines:?}"));
        assert_eq!(warned["filename"], name, "{warned}");
        assert!(warned["error"].as_str().unwrap_or("").contains(line), "{warned}");
        for args in [&["up"][..], &["up", "--dry-run"]] {
            let (_, lines) = run(migrate(&db, dir.path()).args(args), 65);
            let last = lines.last().unwrap();
            assert_eq!(last["filename"], name, "{args:?} {last}");
            assert!(
                last["error"].as_str().unwrap_or("").contains(line),
                "{args:?} {last}"
            );
        }
        assert_eq!(scalar(&db, "SELECT to_regclass('early') IS NULL AND to_regclass('a') IS NULL"), "t");
    }
}

/// dbmate runs a file of several up/down sections section by section, in
/// file order, each with its own transaction option: all up sections run
/// on up (a transaction:false one with CREATE INDEX CONCURRENTLY too), no
/// down section does, and down runs every down section.
#[test]
fn dbmate_files_with_several_sections() {
    let db = fresh_db("lay_dbmate_multi");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "20240101000000_multi.sql",
        "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n",
    );
    run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 't_a'"
        ),
        "1"
    );
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 0);
    run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(scalar(&db, "SELECT to_regclass('t') IS NULL"), "t");
}

/// Flyway runs a script outside a transaction when its PostgreSQL parser
/// sees a statement that cannot run in one (CREATE INDEX CONCURRENTLY,
/// VACUUM, ...), or when `V…sql.conf` says `executeInTransaction=false`.
#[test]
fn flyway_non_transactional_scripts() {
    let db = fresh_db("lay_flyway_notx");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "V1__t.sql", "CREATE TABLE t (a int, b int);");
    write(d, "V2__idx.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);");
    write(d, "V3__idx.sql", "CREATE INDEX CONCURRENTLY t_b ON t (b);");
    write(d, "V3__idx.sql.conf", "executeInTransaction=false\n");
    run(migrate(&db, d).arg("up"), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('t_a', 't_b')"
        ),
        "2"
    );
}

/// A Flyway script with a placeholder (Flyway substitutes `${name}` before
/// running it) is refused, 65 naming file and line, before the run starts;
/// status flags it as a pending file `up` would refuse.
#[test]
fn flyway_placeholders_are_refused_not_run_as_written() {
    let db = fresh_db("lay_flyway_placeholder");
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixture("flyway-spring-boot")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("V2__audit.sql"),
        "-- the audit table, in the schema Flyway is told\nCREATE TABLE ${flyway:defaultSchema}.audit (id int);\n",
    )
    .unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Flyway placeholder in a migration");
    assert_eq!(last["filename"], "V2__audit.sql");
    assert_eq!(last["line"], 2);
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("${flyway:defaultSchema}"));
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'person'"
        ),
        "0",
        "nothing runs before the refusal"
    );
    let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 0);
    assert!(lines.iter().any(|l| l["message"]
        == "Pending migration would be refused: Flyway placeholder in a migration"
        && l["filename"] == "V2__audit.sql"));
}

/// goose's own parser cases (its internal/sqlparser/testdata): the valid
/// ones (lower-case annotations, comments inside statements, multi-line
/// string literals, StatementBegin/End) pass; the invalid ones (a statement
/// without its semicolon before `-- +goose Down` or the end) are refused
/// with 65 naming the line, as goose refuses them, before anything runs.
#[test]
fn goose_parser_cases_are_accepted_and_refused_as_goose_does() {
    let db = fresh_db("lay_goose_parser");
    let (out, _) = run(
        migrate(&db, &fixture("goose-parser")).args(["up", "--dry-run"]),
        0,
    );
    assert_eq!(out.lines().count(), 3, "{out}");
    for (file, line) in [
        ("00001_a.sql", 3),
        ("00002_b.sql", 2),
        ("00003_c.sql", 2),
        ("00004_d.sql", 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(fixture("goose-invalid").join(file), dir.path().join(file)).unwrap();
        let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 65);
        let last = lines.last().unwrap();
        assert_eq!(
            last["message"],
            "Migration file does not parse as its layout's tool reads it"
        );
        assert_eq!(last["filename"], file);
        let cause = last["error"].as_str().unwrap();
        assert!(
            cause.starts_with(&format!(
                "line {line}: a statement without its closing semicolon"
            )),
            "{file}: {cause}"
        );
    }
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        ),
        "0",
        "nothing ran"
    );
}

/// dbmate's own parser cases (amacneil/dbmate pkg/dbmate/migration_test.go,
/// TestParseMigrationContents, MIT), each as the one file of a dbmate
/// folder: what dbmate parses, `up --dry-run` accepts; what it refuses
/// (down before up, no down, a section without its up or down, a statement
/// before the first section), pg-migrate refuses with 65 before anything runs.
#[test]
fn dbmate_parser_cases_are_accepted_and_refused_as_dbmate_does() {
    let ok = [
        "-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:down\ndrop table users;",
        "\n--migrate:up\ncreate table users (id serial, name text);\n\n--migrate:down\ndrop table users;\n",
        "\n-- This migration creates the users table.\n-- It'll drop it in the event of a rollback.\n\n-- migrate:up\ncreate table users (id serial, name text);\n\n-- migrate:down\ndrop table users;\n",
        "-- migrate:up transaction:true\r\ncreate table users (id serial, name text);\r\n-- migrate:down transaction:true\r\ndrop table users;\r\n",
        "-- migrate:up transaction:false\nALTER TYPE colors ADD VALUE 'orange' AFTER 'red';\n-- migrate:down transaction:false\nALTER TYPE colors ADD VALUE 'orange' AFTER 'red';\n-- migrate:up transaction:true\nALTER TYPE colors ADD VALUE 'green' AFTER 'red';\n-- migrate:down transaction:true\nALTER TYPE colors ADD VALUE 'green' AFTER 'red';\n-- migrate:up\nALTER TYPE colors ADD VALUE 'yellow' AFTER 'red';\n-- migrate:down\nALTER TYPE colors ADD VALUE 'yellow' AFTER 'red';\n",
    ];
    let refused = [
        ("-- migrate:down\ndrop table users;\n-- migrate:up\ncreate table users (id serial, name text);\n", "line 1: '-- migrate:down' without"),
        ("\nALTER TABLE users\nADD COLUMN status status_type DEFAULT 'active';\n", "no '-- migrate:up' line"),
        ("-- migrate:down\ndrop table users;\n", "line 1: '-- migrate:down' without"),
        ("-- migrate:up\ncreate table users (id serial, name text);\n", "no '-- migrate:down' after"),
        ("\n-- create status_type\nCREATE TYPE status_type AS ENUM ('active', 'inactive');\n\n-- migrate:up\nALTER TABLE users\nADD COLUMN status status_type DEFAULT 'active';\n\n-- migrate:down\nALTER TABLE users\nDROP COLUMN status;\n", "line 3: a statement before"),
        ("-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:up\ncreate table statuses (id serial, name text);\n-- migrate:down\ndrop table statuses;\n", "line 3: a second '-- migrate:up'"),
        ("-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:down\ndrop table users;\n-- migrate:down\ndrop table statuses;\n", "line 5: '-- migrate:down' without"),
    ];
    let db = fresh_db("lay_dbmate_parser");
    let case = |text: &str, code: i32| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20240101000000_case.sql"), text).unwrap();
        run(
            migrate(&db, dir.path()).args(["--layout", "dbmate", "up", "--dry-run"]),
            code,
        )
    };
    for text in ok {
        let (out, _) = case(text, 0);
        assert_eq!(out.trim(), "20240101000000_case.sql", "{text}");
    }
    for (text, why) in refused {
        let (_, lines) = case(text, 65);
        let last = lines.last().unwrap().clone();
        let cause = last["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{text}: {last}"))
            .to_string();
        assert!(cause.starts_with(why), "{text}: {cause}");
    }
}

/// refinery's own test folders (tests/fixtures/migrations/refinery*):
/// migrations in subfolders, `U` ("unversioned") migrations that refinery
/// applies even after newer versions, integer versions as long as
/// timestamps, and Rust migrations, which pg-migrate cannot run.
#[test]
fn refinery_folders_as_refinery_reads_them() {
    let db = fresh_db("lay_refinery");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("migrations");
    copy_tree(&fixture("refinery"), &dir);
    // V files in subfolders: found there.
    let (_, lines) = run(migrate(&db, &dir).arg("up"), 0);
    assert_eq!(
        applied(&lines),
        [
            "V1-2/V2__add_cars_and_motos_table.sql",
            "V3/V3__add_brand_to_cars_table.sql"
        ]
    );
    assert_eq!(tables(&db), "cars,motos");
    run(migrate(&db, &dir).args(["status", "--exit-code"]), 0);
    // An unversioned migration older than the newest applied one is
    // applied as refinery applies it (the folder is refinery's: a U file
    // without its V file is no Flyway undo).
    std::fs::copy(
        fixture("refinery-unversioned").join("U0__merge_out_of_order.sql"),
        dir.join("U0__merge_out_of_order.sql"),
    )
    .unwrap();
    let (_, lines) = run(migrate(&db, &dir).arg("up"), 0);
    assert_eq!(applied(&lines), ["U0__merge_out_of_order.sql"]);
    assert!(!lines.iter().any(|l| l["level"] == "warn"), "{lines:?}");
    run(migrate(&db, &dir).args(["status", "--exit-code"]), 0);
    // A late versioned one is still out of order.
    write(&dir, "V1__late.sql", "CREATE TABLE late (id int);");
    let (_, lines) = run(migrate(&db, &dir).arg("up"), 3);
    assert_eq!(lines.last().unwrap()["message"], "Migration out of order");
    std::fs::remove_file(dir.join("V1__late.sql")).unwrap();
    // A name refinery does not take is not a migration: warned, left alone.
    write(&dir, "notes.sql", "SELECT 1;");
    let (_, lines) = run(migrate(&db, &dir).args(["status", "--exit-code"]), 0);
    assert!(lines.iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.contains("refinery's naming"))
        && l["filename"] == "notes.sql"));
    // new: the next version.
    let (stdout, _) = run(migrate(&db, &dir).args(["new", "add wheels"]), 0);
    assert!(stdout.trim().ends_with("V4__add_wheels.sql"), "{stdout}");

    // Timestamps as versions (refinery's int8-versions), U files only.
    let db8 = fresh_db("lay_refinery_int8");
    let dir8 = fixture("refinery-int8");
    let (_, lines) = run(migrate(&db8, &dir8).arg("up"), 0);
    assert_eq!(
        applied(&lines),
        [
            "U20240504090301__add_cars_and_motos_table.sql",
            "U20240504090322__add_brand_to_cars_table.sql"
        ]
    );
    run(migrate(&db8, &dir8).args(["status", "--exit-code"]), 0);
    // No down files in refinery: down refuses before anything runs.
    run(migrate(&db8, &dir8).arg("down"), 3);
    assert_eq!(tables(&db8), "cars,motos");

    // Rust migrations cannot run here: refused before anything runs.
    let dbr = fresh_db("lay_refinery_rust");
    let (_, lines) = run(migrate(&dbr, &fixture("refinery-rust")).arg("up"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Rust migration in a refinery folder");
    assert_eq!(last["filename"], "V1-2/V1__initial.rs");
    assert_eq!(tables(&dbr), "");
}

/// Flyway scans its locations recursively: a folder of subfolders is not
/// empty; a symlinked folder is not entered; an undo file is paired with its
/// versioned file across subfolders; a refinery `U` file beside a name only
/// Flyway takes is two tools in one folder.
#[test]
fn flyway_subfolders_are_read() {
    let db = fresh_db("lay_flyway_tree");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "2024/V1__a.sql", "CREATE TABLE a (id int);");
    write(dir.path(), "2025/q1/V2__b.sql", "CREATE TABLE b (id int);");
    write(dir.path(), "undo/U2__b.sql", "DROP TABLE b;");
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "V3__outside.sql",
        "CREATE TABLE outside (id int);",
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    assert_eq!(applied(&lines), ["2024/V1__a.sql", "2025/q1/V2__b.sql"]);
    run(migrate(&db, dir.path()).arg("down"), 0);
    assert_eq!(tables(&db), "a");
    write(dir.path(), "R__views.sql", "SELECT 1;");
    write(dir.path(), "U7__lone.sql", "SELECT 1;");
    let (_, lines) = run(migrate(&db, dir.path()).arg("status"), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration folder mixes layouts");
    assert_eq!(last["filename"], "U7__lone.sql");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
