//! `pg-migrate adopt` (issue 14, item 2): another tool's history, in the
//! table shapes those tools create (the SQL they run), recorded as applied;
//! `up`/`status` on such a database name `adopt` instead of applying
//! everything again; dirty or failed states and versions without a file are
//! refused with 3. The folders are the tools' own (tests/fixtures/migrations).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrations")
        .join(name)
}

fn last(lines: &[Value]) -> &Value {
    lines.last().unwrap()
}

#[test]
fn a_dbmate_database_is_adopted_into_a_table_of_its_own() {
    let db = fresh_db("adopt_dbmate");
    // What dbmate leaves after its first migration: its table, its row, the
    // first migration's schema.
    scalar(
        &db,
        "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20151129054053');
         CREATE TABLE users (id integer, name varchar(255));
         INSERT INTO users VALUES (1, 'alice'); SELECT 1",
    );
    let dir = fixture("dbmate");
    // up and status say the same: dbmate's history, adopt into another table.
    for args in [&["up"][..], &["status"][..]] {
        let (_, lines) = run(migrate(&db, &dir).args(args), 3);
        let l = last(&lines);
        assert_eq!(
            l["message"], "Database was migrated by dbmate, not yet by pg-migrate",
            "{l}"
        );
        assert_eq!(l["from"], "dbmate");
        assert!(
            l["suggestion"]
                .as_str()
                .unwrap()
                .contains("pg-migrate adopt --table"),
            "{l}"
        );
    }
    assert_eq!(
        scalar(&db, "SELECT to_regclass('posts') IS NULL"),
        "t",
        "up applied something"
    );
    // Its name is dbmate's: refused, naming the clash.
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 3);
    assert_eq!(
        last(&lines)["message"],
        "The tracking table's name is the other tool's"
    );
    // The mapping, then the adoption.
    let (out, _) = run(
        migrate(&db, &dir).args(["adopt", "--table", "pgkit_migrations", "--dry-run"]),
        0,
    );
    assert_eq!(
        out,
        "20151129054053\t20151129054053_test_migration.sql\t-\n"
    );
    let (_, lines) = run(
        migrate(&db, &dir).args(["adopt", "--table", "pgkit_migrations"]),
        0,
    );
    assert_eq!(last(&lines)["adopted"], 1, "{lines:#?}");
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM schema_migrations"),
        "1",
        "dbmate's table changed"
    );
    // Now only the new file is pending, and up applies it alone.
    let t = ["--table", "pgkit_migrations"];
    run(
        migrate(&db, &dir).args(["status", "--exit-code"]).args(t),
        3,
    );
    let (_, lines) = run(migrate(&db, &dir).arg("up").args(t), 0);
    assert_eq!(last(&lines)["applied"], 1);
    run(
        migrate(&db, &dir).args(["status", "--exit-code"]).args(t),
        0,
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM users"), "1");
    // Adopting again records nothing new.
    let (_, lines) = run(
        migrate(&db, &dir).args(["adopt", "--table", "pgkit_migrations"]),
        0,
    );
    assert_eq!(last(&lines)["adopted"], 0);
}

#[test]
fn goose_keeps_its_latest_row_per_version_and_its_times() {
    let db = fresh_db("adopt_goose");
    // goose's table (as goose creates it), with 3 applied then rolled back.
    scalar(
        &db,
        "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
           (0, true, '2024-01-01 00:00'), (1, true, '2024-01-02 10:00'), (2, true, '2024-01-03 10:00'),
           (3, true, '2024-01-04 10:00'), (3, false, '2024-01-05 10:00');
         SELECT 1",
    );
    let dir = fixture("goose");
    let (_, lines) = run(migrate(&db, &dir).arg("status"), 3);
    assert_eq!(
        last(&lines)["message"],
        "Database was migrated by goose, not yet by pg-migrate"
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2, "{lines:#?}");
    assert_eq!(
        scalar(&db, "SELECT string_agg(version || '@' || to_char(applied_at AT TIME ZONE 'UTC', 'MM-DD HH24'), ',' ORDER BY id) FROM schema_migrations"),
        "1@01-02 10,2@01-03 10"
    );
}

#[test]
fn dirty_failed_and_fileless_histories_are_refused() {
    let dir = fixture("golang-migrate");
    let db = fresh_db("adopt_gm");
    scalar(
        &db,
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (1185749658, true); SELECT 1",
    );
    let gm = ["--layout", "golang-migrate", "--table", "pgkit_migrations"];
    let (_, lines) = run(migrate(&db, &dir).arg("adopt").args(gm), 3);
    assert_eq!(
        last(&lines)["message"],
        "Cannot adopt golang-migrate's history: it is not clean"
    );
    assert!(last(&lines)["error"].as_str().unwrap().contains("dirty"));
    assert_eq!(
        scalar(&db, "SELECT to_regclass('pgkit_migrations') IS NULL"),
        "t"
    );
    // Clean: every file up to its version is applied.
    scalar(&db, "UPDATE schema_migrations SET dirty = false; SELECT 1");
    let (_, lines) = run(migrate(&db, &dir).arg("adopt").args(gm), 0);
    assert_eq!(last(&lines)["adopted"], 2);

    // sqlx: a failed row, and a version no file has.
    let dir = fixture("sqlx");
    let db = fresh_db("adopt_sqlx");
    scalar(
        &db,
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations VALUES (1, 'user', now(), true, '\\x00', 1), (2, 'post', now(), false, '\\x00', 1); SELECT 1",
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 3);
    assert!(
        last(&lines)["error"]
            .as_str()
            .unwrap()
            .contains("success = false"),
        "{lines:#?}"
    );
    scalar(&db, "UPDATE _sqlx_migrations SET success = true; INSERT INTO _sqlx_migrations VALUES (9, 'gone', now(), true, '\\x00', 1); SELECT 1");
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 3);
    assert_eq!(
        last(&lines)["message"],
        "A version the other tool applied has no file"
    );
    assert_eq!(last(&lines)["version"], "9");
    scalar(
        &db,
        "DELETE FROM _sqlx_migrations WHERE version = 9; SELECT 1",
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
}

#[test]
fn diesel_versions_match_its_directories() {
    let dir = fixture("diesel");
    let db = fresh_db("adopt_diesel");
    scalar(
        &db,
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO __diesel_schema_migrations VALUES ('00000000000000', '2024-02-01 08:00'), ('20171220144812', '2024-02-01 08:01'); SELECT 1",
    );
    let (out, _) = run(migrate(&db, &dir).args(["adopt", "--dry-run"]), 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("2017-12-20-144812_create_users/up.sql"),
        "{out}"
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
    let (out, _) = run(migrate(&db, &dir).args(["status", "--json"]), 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["applied"], 2);
    assert_eq!(st["pending"], 4);
}

/// A peer tool's binary: the variable `var` names it, else it is at
/// `default` under the repository (bench/.peers). None when neither is
/// there, with a note that the test using it is skipped (`how`: how to get
/// it).
fn peer(var: &str, default: &str, how: &str) -> Option<PathBuf> {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default));
    if !p.is_file() {
        eprintln!("note: {default} not there ({how}, or {var}); skipped");
        return None;
    }
    Some(p)
}

/// dbmate's own binary: `PGKIT_DBMATE`, else the one bench/ and CI install
/// from npm (bench/.peers, pinned).
fn dbmate() -> Option<PathBuf> {
    peer(
        "PGKIT_DBMATE",
        "bench/.peers/node_modules/@dbmate/linux-x64/bin/dbmate",
        "npm dbmate",
    )
}

fn dbmate_up(dbmate: &Path, db: &str, dir: &Path) {
    let out = std::process::Command::new(dbmate)
        .args(["--url", &format!("{}?sslmode=disable", url(db))])
        .arg("--migrations-dir")
        .arg(dir)
        .args(["--no-dump-schema", "up"])
        .output()
        .unwrap();
    assert!(out.status.success(), "dbmate: {out:?}");
}

/// dbmate's table, and pg-migrate's beside it.
const DBMATE_TRACKING: [&str; 2] = ["schema_migrations*", "pgkit_migrations*"];

/// With the real dbmate (issue 14, "done when"): its folder gives the same
/// schema under pg-migrate as under dbmate; a database dbmate migrated is
/// adopted, and pg-migrate then applies only the new file.
#[test]
fn the_real_dbmate_then_adopt_then_only_the_new_file() {
    let Some(dbmate) = dbmate() else {
        return;
    };
    let all = fixture("dbmate");
    let by_dbmate = fresh_db("adopt_real_dbmate");
    dbmate_up(&dbmate, &by_dbmate, &all);
    let by_us = fresh_db("adopt_real_pgkit");
    run(migrate(&by_us, &all).arg("up"), 0);
    assert_eq!(
        schema_without(&by_dbmate, &DBMATE_TRACKING),
        schema_without(&by_us, &DBMATE_TRACKING)
    );
    assert_eq!(scalar(&by_us, "SELECT name FROM users"), "alice");

    // dbmate migrates with the first file only; pg-migrate takes over.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        all.join("20151129054053_test_migration.sql"),
        dir.path().join("20151129054053_test_migration.sql"),
    )
    .unwrap();
    let db = fresh_db("adopt_real_handover");
    dbmate_up(&dbmate, &db, dir.path());
    let t = ["--table", "pgkit_migrations"];
    let (_, lines) = run(migrate(&db, dir.path()).arg("adopt").args(t), 0);
    assert_eq!(last(&lines)["adopted"], 1);
    run(
        migrate(&db, dir.path())
            .args(["status", "--exit-code"])
            .args(t),
        0,
    );
    std::fs::copy(
        all.join("20200227231541_test_posts.sql"),
        dir.path().join("20200227231541_test_posts.sql"),
    )
    .unwrap();
    let (_, lines) = run(migrate(&db, dir.path()).arg("up").args(t), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["20200227231541_test_posts.sql"]);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM users"),
        "1",
        "the first file ran again"
    );
    // dbmate's own table is as dbmate left it.
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(version, ',') FROM schema_migrations"
        ),
        "20151129054053"
    );
}

/// sqlx-cli: `PGKIT_SQLX`, else bench/'s (a full bench run compiles it).
fn sqlx() -> Option<PathBuf> {
    peer(
        "PGKIT_SQLX",
        "bench/.peers/bin/sqlx",
        "bench/ installs sqlx-cli",
    )
}

/// With the real sqlx-cli: the same schema as sqlx gives, then adoption of
/// what sqlx applied (its checksums are its own; ours are today's files').
#[test]
fn the_real_sqlx_then_adopt() {
    let Some(sqlx) = sqlx() else {
        return;
    };
    let dir = fixture("sqlx");
    let by_sqlx = fresh_db("adopt_real_sqlx");
    let out = std::process::Command::new(&sqlx)
        .args(["migrate", "run", "--source"])
        .arg(&dir)
        .args([
            "--database-url",
            &format!("{}?sslmode=disable", url(&by_sqlx)),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "sqlx: {out:?}");
    let by_us = fresh_db("adopt_real_sqlx_pgkit");
    run(migrate(&by_us, &dir).arg("up"), 0);
    let strip = |s: String| {
        s.replace("_sqlx_migrations", "")
            .replace("schema_migrations", "")
    };
    let schema = |db: &str| {
        strip(schema_without(
            db,
            &["_sqlx_migrations", "schema_migrations*"],
        ))
    };
    assert_eq!(schema(&by_sqlx), schema(&by_us));
    let (_, lines) = run(migrate(&by_sqlx, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 3);
    run(migrate(&by_sqlx, &dir).args(["status", "--exit-code"]), 0);
}

/// refinery_cli: `PGKIT_REFINERY`, else where .ci/run and bench/ install it
/// (`cargo install refinery_cli --no-default-features --features
/// postgresql --root bench/.peers/refinery`).
fn refinery() -> Option<PathBuf> {
    peer(
        "PGKIT_REFINERY",
        "bench/.peers/refinery/bin/refinery",
        "cargo install refinery_cli",
    )
}

fn refinery_migrate(refinery: &Path, db: &str, dir: &Path) {
    let out = std::process::Command::new(refinery)
        .env("PGKIT_REFINERY_URL", format!("{}?sslmode=disable", url(db)))
        .args(["migrate", "-e", "PGKIT_REFINERY_URL", "-p"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "refinery: {out:?}");
}

/// With the real refinery_cli on refinery's own test folders (subfolders,
/// an unversioned migration that comes late): the schema refinery gives is
/// the one pg-migrate gives, its history is adopted, and the late `U`
/// migration is applied by both, by pg-migrate alone after adoption.
#[test]
fn the_real_refinery_then_adopt() {
    let Some(refinery) = refinery() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("migrations");
    for f in [
        "V1-2/V2__add_cars_and_motos_table.sql",
        "V3/V3__add_brand_to_cars_table.sql",
    ] {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture("refinery").join(f), to).unwrap();
    }
    let by_refinery = fresh_db("adopt_real_refinery");
    refinery_migrate(&refinery, &by_refinery, &dir);
    let by_us = fresh_db("adopt_real_refinery_pgkit");
    run(migrate(&by_us, &dir).arg("up"), 0);
    let schema = |db: &str| {
        schema_without(db, &["refinery_schema_history", "schema_migrations*"])
            .replace("refinery_schema_history", "")
            .replace("schema_migrations", "")
    };
    assert_eq!(schema(&by_refinery), schema(&by_us));
    // status on refinery's database names adopt instead of re-applying.
    let (_, lines) = run(migrate(&by_refinery, &dir).arg("status"), 3);
    assert!(last(&lines)["suggestion"]
        .as_str()
        .unwrap()
        .contains("pg-migrate adopt"));
    let (_, lines) = run(migrate(&by_refinery, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
    assert_eq!(last(&lines)["from"], "refinery");
    run(
        migrate(&by_refinery, &dir).args(["status", "--exit-code"]),
        0,
    );
    // A late unversioned migration: refinery applies it after V3 ...
    std::fs::copy(
        fixture("refinery-unversioned").join("U0__merge_out_of_order.sql"),
        dir.join("U0__merge_out_of_order.sql"),
    )
    .unwrap();
    let by_refinery_late = fresh_db("adopt_real_refinery_late");
    let first = work.path().join("first");
    for f in [
        "V1-2/V2__add_cars_and_motos_table.sql",
        "V3/V3__add_brand_to_cars_table.sql",
    ] {
        let to = first.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(dir.join(f), to).unwrap();
    }
    refinery_migrate(&refinery, &by_refinery_late, &first);
    refinery_migrate(&refinery, &by_refinery_late, &dir);
    assert_eq!(
        scalar(
            &by_refinery_late,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM refinery_schema_history"
        ),
        "0,2,3"
    );
    // ... and so does pg-migrate on the adopted database: only that file.
    let (_, lines) = run(migrate(&by_refinery, &dir).arg("up"), 0);
    assert_eq!(last(&lines)["applied"], 1, "{lines:?}");
    assert_eq!(schema(&by_refinery_late), schema(&by_refinery));
    run(
        migrate(&by_refinery, &dir).args(["status", "--exit-code"]),
        0,
    );
}

/// diesel_cli: `PGKIT_DIESEL`, else bench/'s install spot (`cargo install
/// diesel_cli --no-default-features --features postgres --root
/// bench/.peers/diesel`: minutes of compiling, so CI does not).
fn diesel() -> Option<PathBuf> {
    peer(
        "PGKIT_DIESEL",
        "bench/.peers/diesel/bin/diesel",
        "cargo install diesel_cli",
    )
}

/// With the real diesel_cli on crates.io's whole diesel history (285
/// migrations, some with metadata.toml run_in_transaction = false): the
/// schema diesel gives is the one pg-migrate gives, and what diesel applied
/// is adopted whole.
#[test]
fn the_real_diesel_on_crates_io_then_adopt() {
    let Some(diesel) = diesel() else {
        return;
    };
    let dir = fixture("diesel-cratesio");
    let by_diesel = fresh_db("adopt_real_diesel");
    // In a directory without diesel.toml, so diesel writes no schema.rs.
    let cwd = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&diesel)
        .current_dir(cwd.path())
        .args(["migration", "run", "--migration-dir"])
        .arg(&dir)
        .args(["--database-url", &url(&by_diesel)])
        .output()
        .unwrap();
    assert!(out.status.success(), "diesel: {out:?}");
    // crates.io's own history drops a table named schema_migrations (its
    // old tracking table): pg-migrate keeps its history elsewhere.
    let table = ["--table", "pgkit_migrations"];
    let by_us = fresh_db("adopt_real_diesel_pgkit");
    run(migrate(&by_us, &dir).args(table).arg("up"), 0);
    let tracking = ["__diesel_schema_migrations", "pgkit_migrations*"];
    assert_eq!(
        schema_without(&by_diesel, &tracking),
        schema_without(&by_us, &tracking)
    );
    let applied = scalar(
        &by_diesel,
        "SELECT count(*) FROM __diesel_schema_migrations",
    );
    assert_eq!(applied, "285");
    let (_, lines) = run(migrate(&by_diesel, &dir).args(table).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"].to_string(), applied);
    run(
        migrate(&by_diesel, &dir)
            .args(table)
            .args(["status", "--exit-code"]),
        0,
    );
}

/// goose itself: `PGKIT_GOOSE`, else bench/.peers/goose/bin/goose-run, a
/// 30-line program calling the goose v3 library's `Up` and `Reset` (what
/// the goose CLI calls) with pgx; built from fetched sources (goose's
/// module proxy is out of reach here), so neither CI nor bench/ has it.
fn goose() -> Option<PathBuf> {
    peer(
        "PGKIT_GOOSE",
        "bench/.peers/goose/bin/goose-run",
        "built from fetched goose sources",
    )
}

/// With goose itself on its own integration-test migrations: the schema
/// goose gives is the one pg-migrate gives, after up and after every down;
/// what goose applied is adopted.
#[test]
fn the_real_goose_then_adopt() {
    let Some(goose) = goose() else {
        return;
    };
    let dir = fixture("goose");
    let goose_run = |cmd: &str, db: &str| {
        let out = std::process::Command::new(&goose)
            .arg(cmd)
            .arg(&dir)
            .arg(format!("{}?sslmode=disable", url(db)))
            .output()
            .unwrap();
        assert!(out.status.success(), "goose {cmd}: {out:?}");
    };
    let tracking = ["goose_db_version", "schema_migrations*"];
    let by_goose = fresh_db("adopt_real_goose");
    goose_run("up", &by_goose);
    let by_us = fresh_db("adopt_real_goose_pgkit");
    run(migrate(&by_us, &dir).arg("up"), 0);
    assert_eq!(
        schema_without(&by_goose, &tracking),
        schema_without(&by_us, &tracking)
    );
    // Adopt what goose applied, then both take everything down again.
    let applied = scalar(
        &by_goose,
        "SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied",
    );
    let (_, lines) = run(migrate(&by_goose, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"].to_string(), applied);
    run(migrate(&by_goose, &dir).args(["status", "--exit-code"]), 0);
    goose_run("reset", &by_goose);
    run(migrate(&by_us, &dir).args(["down", "--steps", "100"]), 0);
    assert_eq!(
        schema_without(&by_goose, &tracking),
        schema_without(&by_us, &tracking)
    );
}

/// golang-migrate itself: `PGKIT_GOLANG_MIGRATE`, else
/// bench/.peers/golang-migrate/bin/migrate-run, a few lines calling its
/// library's `Up`/`Down` with its postgres driver and file source (what its
/// CLI calls), built from fetched sources as goose's is.
fn golang_migrate() -> Option<PathBuf> {
    peer(
        "PGKIT_GOLANG_MIGRATE",
        "bench/.peers/golang-migrate/bin/migrate-run",
        "built from fetched golang-migrate sources",
    )
}

/// With golang-migrate itself on its postgres driver's example migrations:
/// the same schema as pg-migrate gives; its history adopted into a table
/// of pg-migrate's own (golang-migrate's is named schema_migrations too).
#[test]
fn the_real_golang_migrate_then_adopt() {
    let Some(tool) = golang_migrate() else {
        return;
    };
    let dir = fixture("golang-migrate");
    let by_tool = fresh_db("adopt_real_gm");
    let out = std::process::Command::new(&tool)
        .arg("up")
        .arg(&dir)
        .arg(format!("{}?sslmode=disable", url(&by_tool)))
        .output()
        .unwrap();
    assert!(out.status.success(), "golang-migrate: {out:?}");
    let by_us = fresh_db("adopt_real_gm_pgkit");
    // Every file outside a transaction, as golang-migrate runs them (one
    // holds CREATE INDEX CONCURRENTLY).
    let table = ["--table", "pgkit_migrations", "--layout", "golang-migrate"];
    run(migrate(&by_us, &dir).args(table).arg("up"), 0);
    let tracking = ["schema_migrations", "pgkit_migrations*"];
    assert_eq!(
        schema_without(&by_tool, &tracking),
        schema_without(&by_us, &tracking)
    );
    let (_, lines) = run(migrate(&by_tool, &dir).args(table).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 9);
    run(
        migrate(&by_tool, &dir)
            .args(table)
            .args(["status", "--exit-code"]),
        0,
    );
}

#[test]
fn flyway_and_refinery_histories() {
    let dir = fixture("flyway");
    let db = fresh_db("adopt_flyway");
    // Flyway's table as Flyway creates it: two versioned rows, and a
    // repeatable's (no version), which adopt leaves to run again.
    scalar(
        &db,
        "CREATE SCHEMA flyway_1; CREATE SCHEMA flyway_2; CREATE SCHEMA flyway_3;
         CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INT NOT NULL, success BOOLEAN NOT NULL);
         INSERT INTO flyway_schema_history VALUES
           (1, '1', 'Multi create', 'SQL', 'V1__Multi_create.sql', 1, 'postgres', '2024-03-01 10:00', 5, true),
           (2, '1.2', 'Populate table', 'SQL', 'V1_2__Populate_table.sql', 2, 'postgres', '2024-03-01 10:01', 5, true),
           (3, NULL, 'views', 'SQL', 'R__views.sql', 3, 'postgres', '2024-03-01 10:02', 5, true);
         SELECT 1",
    );
    let (out, _) = run(migrate(&db, &dir).args(["adopt", "--dry-run"]), 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
    let (out, _) = run(migrate(&db, &dir).args(["status", "--json"]), 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (st["applied"].clone(), st["pending"].clone()),
        (2.into(), 1.into())
    );

    // refinery names its scripts as Flyway does; its table keeps RFC 3339
    // text times.
    let db = fresh_db("adopt_refinery");
    scalar(
        &db,
        "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));
         INSERT INTO refinery_schema_history VALUES (1, 'Multi_create', '2024-05-06T07:08:09.000000+00:00', '123');
         SELECT 1",
    );
    let (_, lines) = run(migrate(&db, &dir).args(["adopt", "--from", "refinery"]), 0);
    assert_eq!(last(&lines)["adopted"], 1);
    assert_eq!(
        scalar(&db, "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM schema_migrations"),
        "2024-05-06 07:08"
    );
}

/// Flyway's table as Flyway 7 creates it on PostgreSQL
/// (`PostgreSQLDatabase.getRawCreateScript`), in `schema`.
fn flyway_table_sql(schema: &str) -> String {
    format!(
        "CREATE TABLE {schema}.flyway_schema_history (installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
         ALTER TABLE {schema}.flyway_schema_history ADD CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank);
         CREATE INDEX flyway_schema_history_s_idx ON {schema}.flyway_schema_history (success);"
    )
}

/// Flyway's `schemas` setting (the Flyway fixture's own build.xml sets
/// FLYWAY_1,FLYWAY_2,FLYWAY_3) keeps its table in the first of them, off
/// the search path: `up` and `status` still see it and name `adopt`
/// instead of applying everything again (they reported 3 pending and `up`
/// failed with 42P07), and `adopt` reads it. The rows are the ones Flyway
/// 7.15 wrote for this folder, its schema-creation row included.
#[test]
fn a_flyway_history_in_the_first_of_its_schemas_is_adopted() {
    let dir = fixture("flyway");
    let db = fresh_db("adopt_flyway_schemas");
    scalar(
        &db,
        &format!(
            "CREATE SCHEMA flyway_1; CREATE SCHEMA flyway_2; CREATE SCHEMA flyway_3; {}
             INSERT INTO flyway_1.flyway_schema_history VALUES
               (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '\"flyway_1\",\"flyway_2\",\"flyway_3\"', NULL, 'postgres', '2026-12-05 17:36:28', 0, true),
               (1, '1', 'Multi create', 'SQL', 'V1__Multi_create.sql', -657263975, 'postgres', '2026-12-05 17:36:28', 21, true),
               (2, '1.2', 'Populate table', 'SQL', 'V1_2__Populate_table.sql', -659788951, 'postgres', '2026-12-05 17:36:28', 13, true),
               (3, '2.0', 'Add foreign key', 'SQL', 'V2_0__Add_foreign_key.sql', -959510129, 'postgres', '2026-12-05 17:36:28', 12, true);
             CREATE TABLE flyway_1.test_user1 (name VARCHAR(25) PRIMARY KEY);
             SELECT 1",
            flyway_table_sql("flyway_1")
        ),
    );
    for args in [&["up"][..], &["status"][..]] {
        let (_, lines) = run(migrate(&db, &dir).args(args), 3);
        let l = last(&lines);
        assert_eq!(
            l["message"], "Database was migrated by flyway, not yet by pg-migrate",
            "{l}"
        );
        assert_eq!(l["foreignTable"], "flyway_1.flyway_schema_history");
    }
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 3, "{lines:#?}");
    assert_eq!(
        last(&lines)["foreignTable"],
        "flyway_1.flyway_schema_history"
    );
    // Flyway's checksums are today's files'.
    assert!(!lines.iter().any(|l| l["level"] == "warn"), "{lines:#?}");
    run(migrate(&db, &dir).args(["status", "--exit-code"]), 0);
    // Flyway's table is as Flyway left it.
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM flyway_1.flyway_schema_history"),
        "4"
    );

    // Two of them elsewhere say nothing of this session: not Flyway's.
    let db = fresh_db("adopt_flyway_two_schemas");
    scalar(
        &db,
        &format!(
            "CREATE SCHEMA a; CREATE SCHEMA b; {} {} SELECT 1",
            flyway_table_sql("a"),
            flyway_table_sql("b")
        ),
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 3);
    assert_eq!(
        last(&lines)["message"],
        "No other tool's migration history found"
    );
}

/// A repeatable script's body, and the checksum Flyway 7.15 recorded for
/// it (`flyway_schema_history.checksum`).
const PERSON_VIEW: &str =
    "CREATE OR REPLACE VIEW person_names AS SELECT first_name || ' ' || last_name AS name FROM person;\n";
const PERSON_VIEW_FLYWAY_CHECKSUM: i32 = 18725609;

/// The Spring Boot sample's folder plus a repeatable script, in a
/// temporary directory.
fn spring_boot_with_repeatable() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture("flyway-spring-boot")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    write(dir.path(), "R__person_view.sql", PERSON_VIEW);
    dir
}

/// Flyway re-runs a repeatable script only when it changed: adopt records
/// one whose file still has the checksum Flyway recorded (it was left
/// pending, so `status --exit-code` failed right after adopting and `up`
/// ran it again), and leaves a changed one for `up`. A failed repeatable
/// is refused as a failed version is.
#[test]
fn a_flyway_repeatable_is_adopted_while_unchanged() {
    let dir = spring_boot_with_repeatable();
    let history = |checksum: i32, success: bool| {
        format!(
            "{} INSERT INTO flyway_schema_history VALUES
               (1, '1', 'init', 'SQL', 'V1__init.sql', 242740677, 'postgres', '2026-12-05 17:38:16', 5, true),
               (2, '1.1.1', 'test insert', 'SQL', 'V1.1.1__test_insert.sql', -240784611, 'postgres', '2026-12-05 17:38:16', 5, true),
               (3, '1.1.2', 'test insert', 'SQL', 'V1.1.2__test_insert.sql', -847838649, 'postgres', '2026-12-05 17:38:16', 5, true),
               (4, NULL, 'person view', 'SQL', 'R__person_view.sql', 1, 'postgres', '2026-12-05 17:38:16', 5, true),
               (5, NULL, 'person view', 'SQL', 'R__person_view.sql', {checksum}, 'postgres', '2026-12-05 17:38:17', 5, {success});
             CREATE TABLE person (id BIGINT GENERATED BY DEFAULT AS IDENTITY, first_name varchar(255) NOT NULL, last_name varchar(255) NOT NULL);
             CREATE VIEW person_names AS SELECT first_name || ' ' || last_name AS name FROM person;
             SELECT 1",
            flyway_table_sql("public")
        )
    };
    // Its latest run is today's file.
    let db = fresh_db("adopt_flyway_repeatable");
    scalar(&db, &history(PERSON_VIEW_FLYWAY_CHECKSUM, true));
    let (out, _) = run(migrate(&db, dir.path()).args(["adopt", "--dry-run"]), 0);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.contains("R__person_view.sql"), "{out}");
    let (_, lines) = run(migrate(&db, dir.path()).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 4);
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 0);

    // The file changed since: pending, and `up` runs only it.
    let db = fresh_db("adopt_flyway_repeatable_changed");
    scalar(&db, &history(PERSON_VIEW_FLYWAY_CHECKSUM + 1, true));
    let (_, lines) = run(migrate(&db, dir.path()).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 3);
    assert_eq!(
        find(
            &lines,
            "Repeatable script changed since Flyway ran it: left pending"
        )["filename"],
        "R__person_view.sql"
    );
    run(migrate(&db, dir.path()).args(["status", "--exit-code"]), 3);
    let (_, lines) = run(migrate(&db, dir.path()).arg("up"), 0);
    let applied: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["R__person_view.sql"]);

    // Its latest run failed.
    let db = fresh_db("adopt_flyway_repeatable_failed");
    scalar(&db, &history(PERSON_VIEW_FLYWAY_CHECKSUM, false));
    let (_, lines) = run(migrate(&db, dir.path()).arg("adopt"), 3);
    assert_eq!(
        last(&lines)["error"],
        "Flyway recorded R__person_view.sql as failed (success = false)"
    );
    assert_eq!(
        scalar(&db, "SELECT to_regclass('schema_migrations') IS NULL"),
        "t"
    );
}

/// Flyway itself: `PGKIT_FLYWAY`, else bench/.peers/flyway/bin/flyway-run,
/// Flyway 7.15's flyway-core built from its tag with javac by
/// bench/peers/build-flyway (Maven Central is out of reach here) and a few
/// lines of Java calling `Flyway.configure()…load().migrate()` as its
/// command line does; neither CI nor bench/ has it.
fn flyway() -> Option<PathBuf> {
    peer(
        "PGKIT_FLYWAY",
        "bench/.peers/flyway/bin/flyway-run",
        "bench/peers/build-flyway",
    )
}

/// Runs Flyway's `cmd` on `db` with these locations and `flyway.*`
/// settings; its output when it succeeds (or fails, when `ok` is false).
fn flyway_run(tool: &Path, db: &str, args: &[&std::ffi::OsStr], cmd: &str, ok: bool) -> String {
    let out = std::process::Command::new(tool)
        .arg(format!("{}?sslmode=disable", url(db)))
        .args(args)
        .args(["--", cmd])
        .output()
        .unwrap();
    assert_eq!(out.status.success(), ok, "flyway {cmd}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Flyway's table (in whichever schema) and pg-migrate's.
const FLYWAY_TRACKING: [&str; 2] = ["*.flyway_schema_history", "schema_migrations*"];

/// The files `up` applied, from its log.
fn applied_files(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["message"] == "Migration applied")
        .map(|l| l["filename"].as_str().unwrap().to_string())
        .collect()
}

/// `adopt` of what Flyway applied: `adopted` rows, no warning (Flyway's
/// checksums are the ones pg-migrate computes for its files), then
/// `status --exit-code` 0.
fn adopt_cleanly(db: &str, dir: &Path, adopted: u64) {
    let (_, lines) = run(migrate(db, dir).arg("adopt"), 0);
    assert!(!lines.iter().any(|l| l["level"] == "warn"), "{lines:#?}");
    assert_eq!(last(&lines)["adopted"], adopted);
    run(migrate(db, dir).args(["status", "--exit-code"]), 0);
}

/// With Flyway itself on the Flyway fixture, configured as its build.xml
/// configures it (`flyway.schemas=flyway_1,flyway_2,flyway_3`: Flyway makes
/// the schemas and keeps its table in the first): the schema and data
/// Flyway gives are the ones pg-migrate gives (the schemas made by the
/// test); what Flyway applied is adopted from flyway_1, and a new V file
/// is then the only one `up` applies.
#[test]
fn the_real_flyway_then_adopt() {
    let Some(tool) = flyway() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture("flyway")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let by_flyway = fresh_db("adopt_real_flyway");
    flyway_run(
        &tool,
        &by_flyway,
        &[
            dir.path().as_os_str(),
            "flyway.schemas=flyway_1,flyway_2,flyway_3".as_ref(),
        ],
        "migrate",
        true,
    );
    let by_us = fresh_db("adopt_real_flyway_pgkit");
    scalar(
        &by_us,
        "CREATE SCHEMA flyway_1; CREATE SCHEMA flyway_2; CREATE SCHEMA flyway_3; SELECT 1",
    );
    run(migrate(&by_us, dir.path()).arg("up"), 0);
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    let data = "SELECT string_agg(id || name1 || name2, ',' ORDER BY id) FROM flyway_3.couple3";
    assert_eq!(scalar(&by_flyway, data), scalar(&by_us, data));
    assert_eq!(scalar(&by_us, data), "1Mr. TMr. Semicolon;");

    adopt_cleanly(&by_flyway, dir.path(), 3);
    write(
        dir.path(),
        "V2_1__Add_column.sql",
        "ALTER TABLE flyway_1.couple1 ADD COLUMN since date;\n",
    );
    let (_, lines) = run(migrate(&by_flyway, dir.path()).arg("up"), 0);
    assert_eq!(applied_files(&lines), ["V2_1__Add_column.sql"]);
    // Flyway takes the same file as the next one after 2.0.
    let info = flyway_run(
        &tool,
        &by_flyway,
        &[
            dir.path().as_os_str(),
            "flyway.schemas=flyway_1,flyway_2,flyway_3".as_ref(),
        ],
        "info",
        true,
    );
    assert_eq!(
        info.lines().last().unwrap(),
        "2.1\tAdd column\tSQL\tPending"
    );
}

/// With Flyway itself on the Spring Boot sample, its scripts in the three
/// directories its tests give Flyway together (main's and test's
/// db/migration, test's db/migration2): the schema and rows Flyway gives
/// (an identity column: the order counts) are pg-migrate's from the one
/// folder holding them all; adopted, then only a new file applies.
#[test]
fn the_real_flyway_on_spring_boot_locations_then_adopt() {
    let Some(tool) = flyway() else {
        return;
    };
    let all = fixture("flyway-spring-boot");
    let locations = tempfile::tempdir().unwrap();
    let mut args = Vec::new();
    for (sub, file) in [
        ("main", "V1__init.sql"),
        ("test", "V1.1.1__test_insert.sql"),
        ("test2", "V1.1.2__test_insert.sql"),
    ] {
        let d = locations.path().join(sub);
        std::fs::create_dir(&d).unwrap();
        std::fs::copy(all.join(file), d.join(file)).unwrap();
        args.push(d.into_os_string());
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let by_flyway = fresh_db("adopt_real_flyway_sb");
    flyway_run(&tool, &by_flyway, &args, "migrate", true);
    let by_us = fresh_db("adopt_real_flyway_sb_pgkit");
    run(migrate(&by_us, &all).arg("up"), 0);
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    let rows = "SELECT string_agg(id || ' ' || first_name || ' ' || last_name, ',' ORDER BY id) FROM person";
    assert_eq!(scalar(&by_flyway, rows), scalar(&by_us, rows));
    assert_eq!(
        scalar(&by_us, rows),
        "1 Dave Syer,2 Florian Eins,3 Florian Zwei,4 ptrzyna Eins,5 ptrzyna Zwei"
    );

    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&all).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    adopt_cleanly(&by_flyway, dir.path(), 3);
    write(
        dir.path(),
        "V1.2__email.sql",
        "ALTER TABLE person ADD COLUMN email text;\n",
    );
    let (_, lines) = run(migrate(&by_flyway, dir.path()).arg("up"), 0);
    assert_eq!(applied_files(&lines), ["V1.2__email.sql"]);
}

/// With Flyway itself: a script mixing CREATE INDEX CONCURRENTLY with other
/// statements fails Flyway's migrate (mixed is off), and pg-migrate's up
/// (65); with mixed on (flyway.mixed=true, FLYWAY_MIXED=true) both run it,
/// to the same schema.
#[test]
fn the_real_flyway_and_a_mixed_script() {
    let Some(tool) = flyway() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__a.sql", "CREATE TABLE a (x int);\n");
    write(
        dir.path(),
        "V2__mixed.sql",
        "CREATE TABLE b (x int);\nCREATE INDEX CONCURRENTLY b_x ON b (x);\n",
    );
    let loc = [dir.path().as_os_str()];
    let refused = fresh_db("adopt_real_flyway_mixed_no");
    let out = std::process::Command::new(&tool)
        .arg(format!("{}?sslmode=disable", url(&refused)))
        .args(loc)
        .args(["--", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Detected both transactional and non-transactional statements"),
        "{said}"
    );
    let refused_by_us = fresh_db("adopt_real_flyway_mixed_no_pgkit");
    run(migrate(&refused_by_us, dir.path()).arg("up"), 65);
    let by_flyway = fresh_db("adopt_real_flyway_mixed");
    flyway_run(
        &tool,
        &by_flyway,
        &[dir.path().as_os_str(), "flyway.mixed=true".as_ref()],
        "migrate",
        true,
    );
    let by_us = fresh_db("adopt_real_flyway_mixed_pgkit");
    run(
        migrate(&by_us, dir.path())
            .arg("up")
            .env("FLYWAY_MIXED", "true"),
        0,
    );
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    adopt_cleanly(&by_flyway, dir.path(), 2);
    // executeInTransaction=false in the script's .conf: Flyway 7.15 runs a
    // mixed script without mixed, and so does pg-migrate.
    write(
        dir.path(),
        "V2__mixed.sql.conf",
        "executeInTransaction=false\n",
    );
    let with_conf = fresh_db("adopt_real_flyway_mixed_conf");
    flyway_run(&tool, &with_conf, &loc, "migrate", true);
    let with_conf_by_us = fresh_db("adopt_real_flyway_mixed_conf_pgkit");
    run(migrate(&with_conf_by_us, dir.path()).arg("up"), 0);
    assert_eq!(
        schema_without(&with_conf, &FLYWAY_TRACKING),
        schema_without(&with_conf_by_us, &FLYWAY_TRACKING)
    );
}

/// With Flyway itself: a repeatable script and a script Flyway runs outside
/// a transaction (CREATE INDEX CONCURRENTLY) give the same schema under
/// both; the repeatable is adopted as applied while unchanged, and once
/// changed both tools run it again, and only it. A non-transactional
/// script that fails leaves Flyway's success = false row, which adopt
/// refuses with 3.
#[test]
fn the_real_flyway_repeatable_and_failed_then_adopt() {
    let Some(tool) = flyway() else {
        return;
    };
    let dir = spring_boot_with_repeatable();
    write(
        dir.path(),
        "V2__last_name_index.sql",
        "CREATE INDEX CONCURRENTLY person_last_name ON person (last_name);\n",
    );
    let loc = [dir.path().as_os_str()];
    let by_flyway = fresh_db("adopt_real_flyway_r");
    flyway_run(&tool, &by_flyway, &loc, "migrate", true);
    assert_eq!(
        scalar(
            &by_flyway,
            "SELECT checksum FROM flyway_schema_history WHERE script = 'R__person_view.sql'"
        ),
        PERSON_VIEW_FLYWAY_CHECKSUM.to_string()
    );
    let by_us = fresh_db("adopt_real_flyway_r_pgkit");
    run(migrate(&by_us, dir.path()).arg("up"), 0);
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    adopt_cleanly(&by_flyway, dir.path(), 5);

    // Changed: pg-migrate runs it again, and nothing else; the schema is
    // the one Flyway gives the changed folder.
    write(
        dir.path(),
        "R__person_view.sql",
        &PERSON_VIEW.replace("AS name", "AS name, id"),
    );
    let (_, lines) = run(migrate(&by_flyway, dir.path()).arg("up"), 0);
    assert_eq!(applied_files(&lines), ["R__person_view.sql"]);
    let by_flyway_again = fresh_db("adopt_real_flyway_r2");
    flyway_run(&tool, &by_flyway_again, &loc, "migrate", true);
    assert_eq!(
        schema_without(&by_flyway_again, &FLYWAY_TRACKING),
        schema_without(&by_flyway, &FLYWAY_TRACKING)
    );

    // A failed script outside a transaction: Flyway's row says so.
    write(
        dir.path(),
        "V3__nickname_index.sql",
        "CREATE INDEX CONCURRENTLY person_nickname ON person (nickname);\n",
    );
    let failed = fresh_db("adopt_real_flyway_failed");
    flyway_run(&tool, &failed, &loc, "migrate", false);
    assert_eq!(
        scalar(
            &failed,
            "SELECT version || ' ' || success FROM flyway_schema_history WHERE NOT success"
        ),
        "3 false"
    );
    let (_, lines) = run(migrate(&failed, dir.path()).arg("adopt"), 3);
    assert_eq!(
        last(&lines)["error"],
        "Flyway recorded version 3 as failed (success = false)"
    );
}

/// With Flyway itself on a location with subdirectories (Flyway scans it
/// recursively): the same migrations, in the same order, named by the same
/// paths (Flyway's `script`, pg-migrate's `filename`), the same schema;
/// adopted whole, the nested repeatable matched by its path.
#[test]
fn the_real_flyway_reads_subdirectories_as_pg_migrate_does() {
    let Some(tool) = flyway() else {
        return;
    };
    let all = fixture("flyway-spring-boot");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("test/more")).unwrap();
    std::fs::copy(all.join("V1__init.sql"), p.join("V1__init.sql")).unwrap();
    for f in ["V1.1.1__test_insert.sql", "V1.1.2__test_insert.sql"] {
        std::fs::copy(all.join(f), p.join("test").join(f)).unwrap();
    }
    write(&p.join("test/more"), "R__person_view.sql", PERSON_VIEW);
    let by_flyway = fresh_db("adopt_real_flyway_nested");
    flyway_run(&tool, &by_flyway, &[p.as_os_str()], "migrate", true);
    let by_us = fresh_db("adopt_real_flyway_nested_pgkit");
    run(migrate(&by_us, p).arg("up"), 0);
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    let rows = "SELECT string_agg(id || ' ' || first_name || ' ' || last_name, ',' ORDER BY id) FROM person";
    assert_eq!(scalar(&by_flyway, rows), scalar(&by_us, rows));
    let theirs = scalar(
        &by_flyway,
        "SELECT string_agg(script, ',' ORDER BY installed_rank) FROM flyway_schema_history",
    );
    assert_eq!(
        theirs,
        "V1__init.sql,test/V1.1.1__test_insert.sql,test/V1.1.2__test_insert.sql,test/more/R__person_view.sql"
    );
    adopt_cleanly(&by_flyway, p, 4);
    assert_eq!(
        scalar(
            &by_flyway,
            "SELECT string_agg(filename, ',' ORDER BY filename) FROM schema_migrations"
        ),
        scalar(
            &by_flyway,
            "SELECT string_agg(script, ',' ORDER BY script) FROM flyway_schema_history"
        )
    );
}

/// With Flyway itself on names whose `__` or description is left out
/// (`V4.sql`, `V3__.sql`, `R__.sql`): both run them, in the same order, to
/// the same schema, and what Flyway applied is adopted whole.
#[test]
fn the_real_flyway_on_names_without_description() {
    let Some(tool) = flyway() else {
        return;
    };
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
    let by_flyway = fresh_db("adopt_real_flyway_bare");
    flyway_run(&tool, &by_flyway, &[p.as_os_str()], "migrate", true);
    let by_us = fresh_db("adopt_real_flyway_bare_pgkit");
    let (_, lines) = run(migrate(&by_us, p).arg("up"), 0);
    assert_eq!(
        applied_files(&lines).join(","),
        scalar(
            &by_flyway,
            "SELECT string_agg(script, ',' ORDER BY installed_rank) FROM flyway_schema_history"
        )
    );
    assert_eq!(
        schema_without(&by_flyway, &FLYWAY_TRACKING),
        schema_without(&by_us, &FLYWAY_TRACKING)
    );
    adopt_cleanly(&by_flyway, p, 4);
}

/// Flyway 9+'s `repair` marks a migration whose file is gone as deleted
/// with a row of its own (type DELETE, as its JdbcTableSchemaHistory.delete
/// writes it): Flyway no longer counts it applied, and adopt neither (it
/// refused with "A version the other tool applied has no file").
#[test]
fn a_flyway_version_deleted_by_repair_is_not_adopted() {
    let dir = fixture("flyway");
    let db = fresh_db("adopt_flyway_deleted");
    scalar(
        &db,
        &format!(
            "{} INSERT INTO flyway_schema_history VALUES
               (1, '1', 'Multi create', 'SQL', 'V1__Multi_create.sql', -657263975, 'postgres', '2026-12-05 17:36:28', 21, true),
               (2, '1.1', 'Gone', 'SQL', 'V1_1__Gone.sql', 5, 'postgres', '2026-12-05 17:36:29', 3, true),
               (3, '1.2', 'Populate table', 'SQL', 'V1_2__Populate_table.sql', -659788951, 'postgres', '2026-12-05 17:36:30', 13, true),
               (4, NULL, 'old view', 'SQL', 'R__old_view.sql', 7, 'postgres', '2026-12-05 17:36:31', 1, true),
               (5, '1.1', 'Gone', 'DELETE', 'V1_1__Gone.sql', 5, 'postgres', '2026-12-06 09:00:00', 0, true),
               (6, NULL, 'old view', 'DELETE', 'R__old_view.sql', 7, 'postgres', '2026-12-06 09:00:00', 0, true);
             SELECT 1",
            flyway_table_sql("public")
        ),
    );
    let (out, _) = run(migrate(&db, &dir).args(["adopt", "--dry-run"]), 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
    let (out, _) = run(migrate(&db, &dir).args(["status", "--json"]), 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (st["applied"].clone(), st["pending"].clone()),
        (2.into(), 1.into())
    );
}

/// A file changed since Flyway applied it (its checksum is not the one
/// Flyway recorded; Flyway's validate would stop): adopted all the same,
/// with today's checksum, and said with a warning naming it.
#[test]
fn a_file_changed_since_flyway_applied_it_is_named() {
    let dir = fixture("flyway");
    let db = fresh_db("adopt_flyway_changed");
    scalar(
        &db,
        &format!(
            "{} INSERT INTO flyway_schema_history VALUES
               (1, '1', 'Multi create', 'SQL', 'V1__Multi_create.sql', -657263975, 'postgres', '2026-12-05 17:36:28', 21, true),
               (2, '1.2', 'Populate table', 'SQL', 'V1_2__Populate_table.sql', 12345, 'postgres', '2026-12-05 17:36:30', 13, true);
             SELECT 1",
            flyway_table_sql("public")
        ),
    );
    let (_, lines) = run(migrate(&db, &dir).arg("adopt"), 0);
    assert_eq!(last(&lines)["adopted"], 2);
    let warned: Vec<&Value> = lines.iter().filter(|l| l["level"] == "warn").collect();
    assert_eq!(warned.len(), 1, "{lines:#?}");
    assert_eq!(warned[0]["message"], "File changed since Flyway applied it");
    assert_eq!(warned[0]["filename"], "V1_2__Populate_table.sql");
}
