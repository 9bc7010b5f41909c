//! pg-seed: SQL and CSV seed files against the throwaway server — tracking,
//! idempotency, --on-change, --if-empty, SKIP_SEED, --non-fatal, one
//! transaction per run, CSV edge cases and error mapping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

/// A fresh seeds directory holding these (name, content) files.
fn seeds(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, content) in files {
        write(d.path(), name, content);
    }
    d
}

fn seed(db: &str, dir: &Path) -> assert_cmd::Command {
    let mut c = cmd("pg-seed");
    c.env("DATABASE_URL", url(db)).arg("--dir").arg(dir);
    c
}

fn run(c: &mut assert_cmd::Command, code: i32) -> (String, Vec<Value>) {
    let out = c.output().unwrap();
    let lines = json_lines(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = lines.last().unwrap();
    assert_eq!(last["exitCode"], code);
    assert!(last["durationMs"].is_u64());
    (String::from_utf8(out.stdout).unwrap(), lines)
}

fn query_i64(db: &str, q: &str) -> i64 {
    query_value(db, q)
}

/// pg-seed on `dir` against `db`, spawned, its stderr piped.
fn spawn_seed(db: &str, dir: &Path) -> std::process::Child {
    std_cmd("pg-seed")
        .env("DATABASE_URL", url(db))
        .arg("--dir")
        .arg(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

const SCHEMA: &str = "CREATE TABLE users (id int PRIMARY KEY, name text, email text);\n";

#[test]
fn rerun_skips_everything() {
    let db = fresh_db("seed_rerun");
    let d = seeds(&[
        ("01_schema.sql", SCHEMA),
        ("02_users.csv", "id,name,email\n1,Ann,a@x\n2,Bob,b@x\n"),
        ("README.md", "not a seed"),
    ]);
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seeding completed");
    assert_eq!(last["applied"], 2);
    assert_eq!(last["rows"], 2);
    assert_eq!(
        first_with(&lines, "Seed applied")["filename"],
        "01_schema.sql"
    );
    assert!(lines.iter().any(|l| l["message"] == "Seed applied"
        && l["filename"] == "02_users.csv"
        && l["rows"] == 2));
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM schema_seeds WHERE rows_loaded = 2 AND filename = '02_users.csv'"
        ),
        1
    );
    let checksum: String = query_value(
        &db,
        "SELECT checksum FROM schema_seeds WHERE filename = '01_schema.sql'",
    );
    assert_eq!(checksum.len(), 64);

    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seeds up to date");
    assert_eq!(last["applied"], 0);
    assert_eq!(last["skipped"], 2);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "Seed already applied, skipped")
            .count(),
        2
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM users"), 2);

    // --dry-run lists, applies nothing.
    write(
        d.path(),
        "03_more.sql",
        "INSERT INTO users VALUES (3, 'Cy', NULL);",
    );
    let (stdout, lines) = run(seed(&db, d.path()).arg("--dry-run"), 0);
    assert_eq!(
        stdout,
        "skip\t01_schema.sql\talready applied\nskip\t02_users.csv\talready applied\napply\t03_more.sql\n"
    );
    assert_eq!(lines.last().unwrap()["pending"], 1);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM users"), 2);
}

#[test]
fn custom_tracking_table_and_file_flags() {
    let db = fresh_db("seed_files");
    server()
        .execute(
            &db,
            "CREATE SCHEMA meta; CREATE TABLE users (id int, name text)",
        )
        .unwrap();
    let d = seeds(&[
        ("users.csv", "id,name\n1,Ann\n"),
        ("other.sql", "INSERT INTO users VALUES (9, 'x');"),
    ]);
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", url(&db))
            .args(["--wait", "--table", "meta.seeds", "--file"])
            .arg(d.path().join("users.csv")),
        0,
    );
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM meta.seeds"), 1);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM users"), 1);
    // A missing --file is 66, a missing directory too.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", url(&db))
            .args(["--file", "/nonexistent/x.sql"]),
        66,
    );
    assert!(lines.last().unwrap()["suggestion"].is_string());
    run(
        cmd("pg-seed")
            .env("DATABASE_URL", url(&db))
            .env("SEEDS_DIR", d.path().join("nope")),
        66,
    );
    // An invalid tracking table name is a usage error.
    run(seed(&db, d.path()).args(["--table", "a;b"]), 64);
}

#[test]
fn edited_file_under_each_on_change_mode() {
    let db = fresh_db("seed_change");
    let d = seeds(&[
        ("01_schema.sql", "CREATE TABLE t (v int);"),
        ("02_data.sql", "INSERT INTO t VALUES (1);"),
    ]);
    run(&mut seed(&db, d.path()), 0);
    let stored = |db: &str| -> String {
        query_value(
            db,
            "SELECT checksum FROM schema_seeds WHERE filename = '02_data.sql'",
        )
    };
    let before = stored(&db);
    write(d.path(), "02_data.sql", "INSERT INTO t VALUES (2);");

    // fail (the default): exit 4 naming the file, nothing changes.
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error");
    assert_eq!(last["message"], "Seed file changed since it was applied");
    assert_eq!(last["filename"], "02_data.sql");
    assert_eq!(last["appliedChecksum"], before.as_str());
    assert!(last["suggestion"].as_str().unwrap().contains("--on-change"));
    assert_eq!(stored(&db), before);
    // The dry run says so too.
    let (stdout, lines) = run(seed(&db, d.path()).arg("--dry-run"), 4);
    assert!(
        stdout.contains("fail\t02_data.sql\tchanged since applied"),
        "{stdout}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error");
    assert_eq!(last["changed"], 1);
    assert!(last["suggestion"].as_str().unwrap().contains("--on-change"));

    // skip: exit 0, logged at warn, the stored checksum is NOT updated.
    let (_, lines) = run(seed(&db, d.path()).args(["--on-change", "skip"]), 0);
    let w = first_with(
        &lines,
        "Seed file changed since it was applied, skipped (--on-change skip)",
    );
    assert_eq!(w["level"], "warn");
    assert_eq!(w["filename"], "02_data.sql");
    assert_eq!(stored(&db), before);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM t"), 1);

    // rerun: runs the file again and records the new checksum.
    let (_, lines) = run(seed(&db, d.path()).args(["--on-change", "rerun"]), 0);
    assert_eq!(
        first_with(&lines, "Seed re-applied (--on-change rerun)")["filename"],
        "02_data.sql"
    );
    assert_ne!(stored(&db), before);
    assert_eq!(query_i64(&db, "SELECT sum(v) FROM t"), 3);
    // And now it is up to date under the default.
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["message"], "Seeds up to date");
}

#[test]
fn if_empty_guard() {
    let db = fresh_db("seed_ifempty");
    server()
        .execute(
            &db,
            "CREATE TABLE a (v int); CREATE TABLE b (v int); INSERT INTO b VALUES (1)",
        )
        .unwrap();
    let d = seeds(&[("01.sql", "INSERT INTO a VALUES (1);")]);
    // b has rows: everything is skipped, nothing is created.
    let (_, lines) = run(
        seed(&db, d.path()).args(["--if-empty", "a", "--if-empty", "b"]),
        0,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seeding skipped");
    assert_eq!(last["table"], "b");
    assert_eq!(query_i64(&db, "SELECT count(*) FROM a"), 0);
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname = 'schema_seeds'"
        ),
        0
    );
    // a is empty (and a missing table counts as empty): seeds run.
    let (_, lines) = run(
        seed(&db, d.path()).args(["--if-empty", "a", "--if-empty", "missing"]),
        0,
    );
    assert_eq!(lines.last().unwrap()["message"], "Seeding completed");
    assert_eq!(query_i64(&db, "SELECT count(*) FROM a"), 1);
    // A name that does not parse is a bad flag value: 64.
    let (_, lines) = run(seed(&db, d.path()).args(["--if-empty", "a b;"]), 64);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Invalid --if-empty table name");
    assert_eq!(last["table"], "a b;");
    assert!(last["suggestion"].is_string());
}

#[test]
fn skip_seed_never_connects() {
    let d = tempfile::tempdir().unwrap();
    // Port 1 on localhost: nothing listens there.
    let closed = "postgres://nobody@127.0.0.1:1/none";
    for v in ["true", "1", "yes", "TRUE"] {
        let (_, lines) = run(
            cmd("pg-seed")
                .env("DATABASE_URL", closed)
                .env("SKIP_SEED", v)
                .env("SEEDS_DIR", d.path().join("missing-too")),
            0,
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["message"], "Seeding skipped");
        assert_eq!(lines[0]["level"], "info");
    }
    run(cmd("pg-seed").env("DATABASE_URL", closed).arg("--skip"), 0);
    // SKIP_SEED=false/0/no goes on, and the server is not reachable: 2.
    for v in ["false", "0", "no"] {
        let (_, lines) = run(
            cmd("pg-seed")
                .env("DATABASE_URL", closed)
                .env("SKIP_SEED", v)
                .arg("--dir")
                .arg(d.path()),
            2,
        );
        assert_eq!(
            lines.last().unwrap()["message"],
            "Cannot connect to the database"
        );
    }
    // --wait gives up after DB_TIMEOUT with 2.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", closed)
            .env("DB_TIMEOUT", "1s")
            .arg("--wait")
            .arg("--dir")
            .arg(d.path()),
        2,
    );
    assert!(lines.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("timeout"));
    // An invalid value is a configuration error.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", closed)
            .env("SKIP_SEED", "maybe"),
        78,
    );
    assert_eq!(lines.last().unwrap()["message"], "Invalid SKIP_SEED value");
    assert!(lines.last().unwrap()["suggestion"].is_string());
    // ... and stays one under --non-fatal: a typo must not pass silently.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", closed)
            .env("SKIP_SEED", "ture")
            .arg("--non-fatal"),
        78,
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["level"], "error");
    assert_eq!(lines[0]["message"], "Invalid SKIP_SEED value");
    // The same mistake in the flag is a usage error.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", closed)
            .arg("--skip=maybe"),
        64,
    );
    assert_eq!(lines.last().unwrap()["message"], "Invalid --skip value");
}

#[test]
fn a_commit_inside_a_seed_file_is_refused_before_it_runs() {
    // Executed inside the run's transaction, its COMMIT would make 01 and
    // the tracking table permanent although 03 fails.
    let db = fresh_db("seed_txctl");
    let d = seeds(&[
        ("01_schema.sql", "CREATE TABLE t (v int);"),
        (
            "02_wrapped.sql",
            "-- wrapped, as psql scripts often are\nBEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\n",
        ),
        ("03_bad.sql", "SELECT 1/0;"),
    ]);
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seed file controls the transaction");
    assert_eq!(last["filename"], "02_wrapped.sql");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("one transaction"));
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'schema_seeds')"
        ),
        0,
        "nothing from the run may remain"
    );
    // Savepoints of its own, and BEGIN/COMMIT inside a function body, are fine.
    write(
        d.path(),
        "02_wrapped.sql",
        "SAVEPOINT s;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;\nRELEASE s;\nDO $$ BEGIN INSERT INTO t VALUES (2); END $$;\n",
    );
    write(d.path(), "03_bad.sql", "SELECT 1;");
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 3);
    assert_eq!(query_i64(&db, "SELECT sum(v) FROM t"), 2);
}

#[test]
fn a_files_settings_end_with_it() {
    // pg_dump output empties search_path for the rest of the session; the
    // next file and the tracking rows must not notice.
    let db = fresh_db("seed_setcfg");
    let d = seeds(&[
        (
            "01_dump.sql",
            "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t (v int);\nINSERT INTO public.t VALUES (1);\n",
        ),
        ("02_t.csv", "v\n2\n"),
        (
            "03_check.sql",
            "DO $$ BEGIN IF current_setting('search_path') = '' THEN RAISE 'search_path leaked'; END IF; END $$;",
        ),
    ]);
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 3);
    assert_eq!(query_i64(&db, "SELECT sum(v) FROM t"), 3);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM schema_seeds"), 3);
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["message"], "Seeds up to date");
}

#[test]
fn failure_in_third_of_five_files_leaves_nothing() {
    let db = fresh_db("seed_atomic");
    let d = seeds(&[
        (
            "01_schema.sql",
            "CREATE TABLE t (v int);\nCREATE TABLE users (id int, name text);",
        ),
        ("02_a.sql", "INSERT INTO t VALUES (1);"),
        (
            "03_b.sql",
            "INSERT INTO t VALUES (2);\n\nINSERT INTO t VALUES ('two');\n",
        ),
        ("04_users.csv", "id,name\n1,Ann\n"),
        ("05_c.sql", "INSERT INTO t VALUES (5);"),
    ]);
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seed failed");
    assert_eq!(last["filename"], "03_b.sql");
    assert_eq!(last["sqlstate"], "22P02");
    assert_eq!(last["line"], 3);
    assert_eq!(last["column"], 23);
    assert!(last["error"].as_str().unwrap().contains("two"));
    let mut c = server().client(&db).unwrap();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'users', 'schema_seeds')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "nothing from the run may remain");
    // Fixed, the whole set applies.
    write(d.path(), "03_b.sql", "INSERT INTO t VALUES (2);");
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 5);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM schema_seeds"), 5);
}

#[test]
fn sql_syntax_error_reports_line_and_column() {
    let db = fresh_db("seed_sqlerr");
    let d = seeds(&[(
        "01.sql",
        "\u{feff}-- a comment\nSELECT 1;\n  CRATE TABLE x (id int);\n",
    )]);
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["filename"], "01.sql");
    assert_eq!(last["line"], 3);
    assert_eq!(last["column"], 3);
    assert_eq!(last["sqlstate"], "42601");
    assert!(last["error"].as_str().unwrap().contains("CRATE"));
    assert!(last["suggestion"].is_string());
}

#[test]
fn runtime_error_without_position_reports_the_statement_line() {
    let db = fresh_db("seed_sqlrt");
    let d = seeds(&[(
        "01.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text);\n\
         INSERT INTO t VALUES (1, 'a;b');\n\
         DO $$ BEGIN PERFORM 1; END $$;\n\
         -- the duplicate:\n\
         \x20 INSERT INTO t\n    VALUES (1, 'again');\n\
         INSERT INTO t VALUES (3, 'never');\n",
    )]);
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "23505");
    assert_eq!(last["filename"], "01.sql");
    assert_eq!(last["line"], 5);
    assert_eq!(last["column"], 3, "two spaces before INSERT");
    assert!(last["detail"].as_str().unwrap().contains("(id)=(1)"));
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'schema_seeds')"
        ),
        0
    );
    // A file of one statement: its line, whatever the error.
    write(
        d.path(),
        "01.sql",
        "-- one statement\n\n  DO $$ BEGIN RAISE 'no; position'; END $$;\n-- end\n",
    );
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "P0001");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(3), Some(3)),
        "{last}"
    );
}

#[test]
fn non_fatal_failure_is_a_warning_and_exit_0() {
    let db = fresh_db("seed_nonfatal");
    let d = seeds(&[("01.sql", "INSERT INTO missing_table VALUES (1);")]);
    let (_, lines) = run(seed(&db, d.path()).arg("--non-fatal"), 0);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(l["level"], "warn");
    assert_eq!(l["message"], "Database seed failed (non-fatal)");
    assert_eq!(l["filename"], "01.sql");
    assert_eq!(l["sqlstate"], "42P01");
    assert_eq!(l["failureExitCode"], 4);
    assert!(l["error"].as_str().unwrap().contains("missing_table"));
    // Unreachable is non-fatal too.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .arg("--dir")
            .arg(d.path())
            .arg("--non-fatal"),
        0,
    );
    assert_eq!(lines.last().unwrap()["failureExitCode"], 2);
    // Bad configuration is not a failed seed: it stays 78.
    let (_, lines) = run(
        cmd("pg-seed")
            .env("DATABASE_URL", "postgres://u@h:notaport/db")
            .arg("--dir")
            .arg(d.path())
            .arg("--non-fatal"),
        78,
    );
    assert_eq!(lines.last().unwrap()["level"], "error");
}

#[test]
fn csv_quoting_newlines_nulls_and_utf8() {
    let db = fresh_db("seed_csv");
    server()
        .execute(&db, "CREATE SCHEMA app; CREATE TABLE app.notes (id int, title text, body text, note varchar(10))")
        .unwrap();
    let d = seeds(&[(
        "20_app.notes.csv",
        "id,title,body,note\n\
         1,\"Smith, John\",\"line one\nline two\",\n\
         2,\"\",plain,\"\"\n\
         3,Zoë 日本語 🚀,\"say \"\"hi\"\"\",ok\n",
    )]);
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(first_with(&lines, "Seed applied")["rows"], 3);
    let mut c = server().client(&db).unwrap();
    let rows = c
        .query(
            "SELECT id, title, body, note FROM app.notes ORDER BY id",
            &[],
        )
        .unwrap();
    let get = |i: usize, j: usize| -> Option<String> { rows[i].get(j) };
    assert_eq!(get(0, 1).as_deref(), Some("Smith, John"));
    assert_eq!(get(0, 2).as_deref(), Some("line one\nline two"));
    assert_eq!(get(0, 3), None, "unquoted empty is NULL");
    assert_eq!(
        get(1, 1).as_deref(),
        Some(""),
        "quoted empty is an empty string"
    );
    assert_eq!(get(1, 3).as_deref(), Some(""));
    assert_eq!(get(2, 1).as_deref(), Some("Zoë 日本語 🚀"));
    assert_eq!(get(2, 2).as_deref(), Some("say \"hi\""));
}

#[test]
fn csv_unknown_column_is_65() {
    let db = fresh_db("seed_csvcol");
    server()
        .execute(&db, "CREATE TABLE users (id int, name text)")
        .unwrap();
    let d = seeds(&[("users.csv", "id,nmae\n1,Ann\n")]);
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "CSV header names an unknown column");
    assert_eq!(last["filename"], "users.csv");
    assert_eq!(last["line"], 1, "the header is line 1");
    assert!(last["error"].as_str().unwrap().contains("nmae"));
    assert!(last["suggestion"].as_str().unwrap().contains("header"));
    assert_eq!(query_i64(&db, "SELECT count(*) FROM users"), 0);
}

#[test]
fn csv_wrong_column_count_reports_the_file_line() {
    let db = fresh_db("seed_csvcount");
    server()
        .execute(&db, "CREATE TABLE users (id int, name text)")
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    // The bad record starts on file line 4: record 2 spans two lines.
    write(
        d.path(),
        "users.csv",
        "id,name\n1,\"Ann\nSmith\"\n2\n3,Cy\n",
    );
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Malformed CSV");
    assert_eq!(last["filename"], "users.csv");
    assert_eq!(last["line"], 4);
    assert!(
        last["error"].as_str().unwrap().contains("missing data"),
        "{last}"
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM users"), 0);
    // The failing record itself spans lines: the line it starts on, and where it ends.
    write(d.path(), "users.csv", "id,name\n1,Ann\n2,\"B\nob\",x\n");
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    assert_eq!(lines.last().unwrap()["line"], 3);
    assert_eq!(lines.last().unwrap()["endLine"], 4);
    // An extra field.
    write(d.path(), "users.csv", "id,name\n1,Ann\n2,Bob,extra\n");
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    assert_eq!(lines.last().unwrap()["line"], 3);
}

#[test]
fn csv_bad_value_bad_name_missing_table() {
    let db = fresh_db("seed_csvval");
    server()
        .execute(&db, "CREATE TABLE users (id int, name text)")
        .unwrap();
    let d = seeds(&[("users.csv", "id,name\n1,Ann\nabc,Bob\n")]);
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Bad value in CSV");
    assert_eq!(last["sqlstate"], "22P02");
    assert_eq!(last["line"], 3);
    assert_eq!(last["csvColumn"], "id");

    let d = seeds(&[("20-users.csv", "id\n1\n")]);
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    assert_eq!(
        lines.last().unwrap()["message"],
        "CSV file name is not a table name"
    );

    let d = seeds(&[("nosuch.csv", "id\n1\n")]);
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    assert_eq!(
        lines.last().unwrap()["message"],
        "CSV target table does not exist"
    );

    let d = seeds(&[("users.csv", "")]);
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    assert_eq!(lines.last().unwrap()["message"], "Malformed CSV");
}

#[test]
fn sigterm_cancels_and_rolls_back() {
    let db = fresh_db("seed_signal");
    let d = seeds(&[
        (
            "01.sql",
            "CREATE TABLE t (v int); INSERT INTO t VALUES (1);",
        ),
        ("02.sql", "SELECT pg_sleep(60);"),
    ]);
    let child = spawn_seed(&db, d.path());
    // Wait until the sleep runs on the server, then SIGTERM the tool.
    let mut waited = 0;
    loop {
        let n: i64 = query_value(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'",
        );
        if n > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 300, "the seed never reached pg_sleep");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    signal(child.id() as i32, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    let last = last_line(&out.stderr);
    assert_eq!(last["exitCode"], 143);
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'schema_seeds')"
        ),
        0
    );
}

#[test]
fn concurrent_runs_apply_once() {
    let db = fresh_db("seed_concurrent");
    let d = seeds(&[(
        "01.sql",
        "CREATE TABLE t (v int); INSERT INTO t VALUES (1); SELECT pg_sleep(1);",
    )]);
    let (a, b) = (spawn_seed(&db, d.path()), spawn_seed(&db, d.path()));
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut messages: Vec<String> = outs
        .iter()
        .map(|o| {
            assert_exit(o, 0);
            last_line(&o.stderr)["message"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    messages.sort();
    assert_eq!(messages, ["Seeding completed", "Seeds up to date"]);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM t"), 1);
}

#[test]
fn help_is_short_and_shows_defaults() {
    for args in [&["--help"][..], &["generate", "--help"]] {
        let out = cmd("pg-seed").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains("Possible values:") && !text.contains("see a summary with '-h'"),
            "{args:?} is the long form:\n{text}"
        );
        assert!(text.contains("[default: 300000]"), "{args:?}");
    }
    let out = cmd("pg-seed").arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[default: seeds]") && text.contains("SKIP_SEED"));
}

/// The fields a refusal carries, to compare a dry run with a real run.
fn refusal_fields(l: &Value) -> Value {
    serde_json::json!({
        "message": l["message"], "error": l["error"], "filename": l["filename"],
        "line": l["line"], "column": l["column"], "suggestion": l["suggestion"],
    })
}

#[test]
fn dry_run_refuses_what_a_real_run_refuses() {
    let db = fresh_db("seed_dryref");
    let d = seeds(&[
        ("01_schema.sql", "CREATE TABLE t (v int);"),
        (
            "02_wrapped.sql",
            "-- wrapped, as psql scripts often are\nBEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\n",
        ),
        ("03_ok.sql", "INSERT INTO t VALUES (3);"),
    ]);
    // After a BEGIN ATOMIC body (whose ; do not end the statement).
    write(
        d.path(),
        "04_atomic.sql",
        "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\n  COMMIT;\n",
    );
    std::fs::write(d.path().join("05_latin1.sql"), b"SELECT 'caf\xe9';").unwrap();
    write(d.path(), "06_t.csv", "v\n6\n");

    let (stdout, lines) = run(seed(&db, d.path()).arg("--dry-run"), 65);
    assert_eq!(
        stdout,
        "apply\t01_schema.sql\n\
         refuse\t02_wrapped.sql\tcontrols the transaction (line 2, column 1)\n\
         apply\t03_ok.sql\n\
         refuse\t04_atomic.sql\tcontrols the transaction (line 5, column 3)\n\
         refuse\t05_latin1.sql\tis not UTF-8\n\
         apply\t06_t.csv\n"
    );
    let errors: Vec<&Value> = lines.iter().filter(|l| l["level"] == "error").collect();
    assert_eq!(errors.len(), 4, "three refusals and the summary: {lines:?}");
    assert_eq!(errors[0]["message"], "Seed file controls the transaction");
    assert_eq!(errors[1]["filename"], "04_atomic.sql");
    assert_eq!(errors[2]["message"], "Seed file is not UTF-8");
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Dry run: a seed file would be refused");
    assert_eq!(last["failure"], "Seed file controls the transaction");
    assert_eq!(last["filename"], "02_wrapped.sql");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(last["refused"], 3);
    assert_eq!(last["pending"], 6);
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 't'"),
        0
    );

    // The real run stops at the first of them, with the same error line.
    let (_, real) = run(&mut seed(&db, d.path()), 65);
    let real_last = real.last().unwrap();
    assert_eq!(refusal_fields(real_last), refusal_fields(errors[0]));
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'schema_seeds')"
        ),
        0
    );

    // Under --non-fatal both exit 0 at warn, with the code they would have had.
    let (_, lines) = run(seed(&db, d.path()).args(["--dry-run", "--non-fatal"]), 0);
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "warn");
    assert_eq!(
        last["message"],
        "Dry run: a seed file would be refused (non-fatal)"
    );
    assert_eq!(last["failureExitCode"], 65);
    let (_, lines) = run(seed(&db, d.path()).arg("--non-fatal"), 0);
    assert_eq!(lines.last().unwrap()["failureExitCode"], 65);

    // Each fixed in turn, the next one is named, and then both agree on 0.
    write(d.path(), "02_wrapped.sql", "INSERT INTO t VALUES (2);\n");
    let (_, lines) = run(seed(&db, d.path()).arg("--dry-run"), 65);
    assert_eq!(lines.last().unwrap()["filename"], "04_atomic.sql");
    let (_, lines) = run(&mut seed(&db, d.path()), 65);
    assert_eq!(lines.last().unwrap()["filename"], "04_atomic.sql");
    assert_eq!(lines.last().unwrap()["line"], 5);
    write(
        d.path(),
        "04_atomic.sql",
        "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\n",
    );
    write(d.path(), "05_latin1.sql", "SELECT 'café';");
    let (stdout, lines) = run(seed(&db, d.path()).arg("--dry-run"), 0);
    assert!(!stdout.contains("refuse"), "{stdout}");
    assert_eq!(lines.last().unwrap()["refused"], 0);
    let (_, lines) = run(&mut seed(&db, d.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 6);
    assert_eq!(query_i64(&db, "SELECT sum(v) + one() FROM t"), 12);
    // Applied files are not read again: nothing to refuse.
    let (stdout, _) = run(seed(&db, d.path()).arg("--dry-run"), 0);
    assert_eq!(stdout.matches("skip\t").count(), 6, "{stdout}");
}

#[test]
fn errors_in_files_with_begin_atomic_bodies_carry_the_statement_line() {
    let db = fresh_db("seed_atomic_line");
    let d = tempfile::tempdir().unwrap();
    // The duplicate key is raised inside the function: the server gives no
    // position in the file.
    write(
        d.path(),
        "01.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\n\
         CREATE FUNCTION add_two(v int) RETURNS void LANGUAGE sql\n\
         BEGIN ATOMIC\n\
         \x20 INSERT INTO t VALUES (v);\n\
         \x20 INSERT INTO t VALUES (v + 1);\n\
         END;\n\
         SELECT add_two(1);\n\
         \x20 SELECT add_two(2);\n\
         INSERT INTO t VALUES (9);\n",
    );
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Seed failed");
    assert_eq!(last["sqlstate"], "23505");
    assert_eq!(last["filename"], "01.sql");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(8), Some(3)),
        "{last}"
    );
    // A run-time error inside the body's own statements when the function
    // is created later in the same file, and a procedure (CALL).
    write(
        d.path(),
        "01.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\n\
         CREATE OR REPLACE PROCEDURE fill(n int)\n\
         LANGUAGE sql\n\
         BEGIN ATOMIC\n\
         \x20 INSERT INTO t VALUES (n);\n\
         \x20 INSERT INTO t VALUES (CASE WHEN n > 0 THEN 100 / (n - n) ELSE n + 1000 END);\n\
         END;\n\
         CALL fill(0);\n\
         CALL fill(1);\n",
    );
    let (_, lines) = run(&mut seed(&db, d.path()), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "22012", "{last}");
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(9), Some(1)),
        "{last}"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'schema_seeds')"
        ),
        0
    );
}
