//! pg-migrate over fleets (issue 19): `--all-databases`, `--targets`,
//! `--schemas`, `--jobs`, `--canary`, `--shard`, SIGINT, on a real server
//! with hundreds of tenant databases and schemas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// `n` databases `{prefix}_0000`… (one connection, one statement each:
/// CREATE DATABASE cannot run in a transaction block).
fn tenant_dbs(prefix: &str, n: usize) -> Vec<String> {
    let mut c = server().client("postgres").unwrap();
    (0..n)
        .map(|i| {
            let name = format!("{prefix}_{i:04}");
            c.simple_query(&format!("CREATE DATABASE {name} TEMPLATE template0"))
                .unwrap();
            name
        })
        .collect()
}

/// Three migrations; a tenant that has a `posts` table already fails the
/// second.
fn three(dir: &Path) {
    write(dir, "001_users.up.sql", "CREATE TABLE users (id int);\n");
    write(dir, "001_users.down.sql", "DROP TABLE users;\n");
    write(dir, "002_posts.up.sql", "CREATE TABLE posts (id int);\n");
    write(dir, "002_posts.down.sql", "DROP TABLE posts;\n");
    write(dir, "003_tags.up.sql", "CREATE TABLE tags (id int);\n");
    write(dir, "003_tags.down.sql", "DROP TABLE tags;\n");
}

fn break_tenant(db: &str) {
    server()
        .execute(db, "CREATE TABLE posts (broken_on_purpose int)")
        .unwrap();
}

/// A pg-migrate command for the fleet of databases matching `pattern`
/// (connected through the server's `postgres` database).
fn fleet(dir: &Path, pattern: &str) -> assert_cmd::Command {
    let mut c = migrate("postgres", dir);
    c.args(["--all-databases", "--database-pattern", pattern]);
    c
}

/// stdout's result lines.
fn results(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn db_of(r: &Value) -> String {
    let t = r["target"].as_str().unwrap();
    t.rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

fn of<'a>(rs: &'a [Value], db: &str) -> &'a Value {
    rs.iter()
        .find(|r| db_of(r) == db)
        .unwrap_or_else(|| panic!("no line for {db}"))
}

#[test]
fn two_hundred_databases_one_broken() {
    let dbs = tenant_dbs("fa", 200);
    let broken = &dbs[137];
    break_tenant(broken);
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());

    let (stdout, lines) = run(fleet(dir.path(), "fa_*").args(["up", "--jobs", "8"]), 3);
    let rs = results(&stdout);
    assert_eq!(rs.len(), 200, "{stdout}");
    assert_eq!(
        rs.iter().map(db_of).collect::<BTreeSet<_>>(),
        dbs.iter().cloned().collect::<BTreeSet<_>>()
    );
    for r in &rs {
        if db_of(r) == *broken {
            assert_eq!(r["outcome"], "failed", "{r}");
            assert_eq!(r["exitCode"], 3);
            assert_eq!(r["applied"], 1);
            assert_eq!(r["version"], "1");
            assert_eq!(r["pending"], 2);
            assert!(
                r["error"].as_str().unwrap().contains("already exists"),
                "{r}"
            );
            assert_eq!(r["filename"], "002_posts.up.sql");
        } else {
            assert_eq!(r["outcome"], "ok", "{r}");
            assert_eq!(r["exitCode"], 0);
            assert_eq!(r["applied"], 3);
            assert_eq!(r["version"], "3");
            assert_eq!(r["pending"], 0);
            assert!(r["error"].is_null());
            assert!(r["durationMs"].is_u64());
        }
    }
    for db in [&dbs[0], &dbs[136], &dbs[138], &dbs[199]] {
        assert_eq!(scalar(db, "SELECT count(*) FROM schema_migrations"), "3");
    }
    assert_eq!(
        scalar(broken, "SELECT count(*) FROM schema_migrations"),
        "1"
    );
    // The summary counts each outcome and names the broken tenant.
    let sum = lines.last().unwrap();
    assert_eq!(sum["message"], "Fleet run finished");
    assert_eq!(sum["targets"], 200);
    assert_eq!(sum["ok"], 199);
    assert_eq!(sum["failed"], 1);
    assert_eq!(sum["skipped"], 0);
    assert_eq!(sum["exitCode"], 3);
    let failed = sum["failedTargets"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].as_str().unwrap().ends_with(&format!("/{broken}")),
        "{sum}"
    );
    // Every line a target logs carries it.
    let fail = lines
        .iter()
        .find(|l| l["message"] == "Migration failed")
        .unwrap();
    assert!(
        fail["target"].as_str().unwrap().ends_with(broken.as_str()),
        "{fail}"
    );
    for l in &lines[..lines.len() - 1] {
        if l["message"] != "Targets" {
            assert!(l["target"].is_string(), "untagged line {l}");
        }
    }
    // Templates are never targets, whatever the pattern.
    let (stdout, _) = run(fleet(dir.path(), "template*").args(["status"]), 0);
    assert_eq!(stdout, "");

    // Fleet status: the broken tenant is behind; a drifted one is found.
    let drifted = &dbs[42];
    server()
        .execute(
            drifted,
            "UPDATE schema_migrations SET checksum = 'x' || checksum WHERE version = '2'",
        )
        .unwrap();
    let (stdout, lines) = run(
        fleet(dir.path(), "fa_*").args(["status", "--exit-code", "--jobs", "8"]),
        3,
    );
    let rs = results(&stdout);
    assert_eq!(rs.len(), 200);
    assert_eq!(of(&rs, broken)["outcome"], "behind");
    assert_eq!(of(&rs, broken)["pending"], 2);
    assert_eq!(of(&rs, broken)["exitCode"], 3);
    assert_eq!(of(&rs, drifted)["outcome"], "drifted");
    assert_eq!(of(&rs, drifted)["drifted"], 1);
    assert_eq!(of(&rs, &dbs[0])["outcome"], "ok");
    assert_eq!(of(&rs, &dbs[0])["version"], "3");
    assert_eq!(of(&rs, &dbs[0])["exitCode"], 0);
    let sum = lines.last().unwrap();
    assert_eq!(
        (
            sum["ok"].as_u64(),
            sum["behind"].as_u64(),
            sum["drifted"].as_u64()
        ),
        (Some(198), Some(1), Some(1))
    );
    assert!(sum["driftedTargets"][0]
        .as_str()
        .unwrap()
        .ends_with(drifted.as_str()));
    assert!(sum["behindTargets"][0]
        .as_str()
        .unwrap()
        .ends_with(broken.as_str()));

    // Two --shard halves cover the set exactly once, and a list in
    // another order gives the same halves.
    let half = |c: &mut assert_cmd::Command, i: u32| -> BTreeSet<String> {
        let (stdout, _) = run(c.args(["status", "--shard", &format!("{i}/2")]), 0);
        results(&stdout).iter().map(db_of).collect()
    };
    let h0 = half(&mut fleet(dir.path(), "fa_*"), 0);
    let h1 = half(&mut fleet(dir.path(), "fa_*"), 1);
    assert!(
        h0.len() > 50 && h1.len() > 50,
        "{} / {}",
        h0.len(),
        h1.len()
    );
    assert!(h0.is_disjoint(&h1));
    assert_eq!(h0.len() + h1.len(), 200);
    let mut list: Vec<String> = dbs.iter().map(|d| url(d)).collect();
    list.reverse();
    list.insert(0, "# tenants, newest first".into());
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, list.join("\n") + "\n").unwrap();
    let listed = |i: u32| {
        let mut c = cmd("pg-migrate");
        c.env("MIGRATIONS_DIR", dir.path())
            .arg("--targets")
            .arg(&file);
        half(&mut c, i)
    };
    assert_eq!(listed(0), h0);
    assert_eq!(listed(1), h1);
}

#[test]
fn two_hundred_schemas_one_broken_each_with_its_own_table_and_search_path() {
    let db = fresh_db("fleet_schemas");
    server()
        .execute(
            &db,
            "DO $$ BEGIN FOR i IN 0..199 LOOP EXECUTE format('CREATE SCHEMA t_%s', lpad(i::text, 3, '0')); END LOOP; END $$;
             CREATE SCHEMA other; CREATE TABLE t_137.posts (broken_on_purpose int);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The first file leaves its session pointed elsewhere: the next file
    // still runs in the tenant's schema alone.
    write(
        dir.path(),
        "001_users.up.sql",
        "CREATE TABLE users (id int);\nSET search_path = public;\n",
    );
    write(
        dir.path(),
        "002_posts.up.sql",
        "CREATE TABLE posts (id int);\n",
    );
    write(
        dir.path(),
        "003_tags.up.sql",
        "CREATE TABLE tags (id int);\n",
    );
    let (stdout, lines) = run(
        migrate(&db, dir.path()).args(["up", "--schemas", "t_*", "--jobs", "8"]),
        3,
    );
    let rs = results(&stdout);
    assert_eq!(rs.len(), 200);
    for r in &rs {
        let s = r["schema"].as_str().unwrap();
        if s == "t_137" {
            assert_eq!(r["outcome"], "failed");
            assert_eq!(r["exitCode"], 3);
            assert_eq!(r["applied"], 1);
        } else {
            assert_eq!(r["outcome"], "ok", "{r}");
            assert_eq!(r["applied"], 3);
        }
    }
    let sum = lines.last().unwrap();
    assert_eq!(
        (sum["ok"].as_u64(), sum["failed"].as_u64()),
        (Some(199), Some(1))
    );
    assert!(
        sum["failedTargets"][0]
            .as_str()
            .unwrap()
            .ends_with("#t_137"),
        "{sum}"
    );
    let q = |sql: &str| scalar(&db, sql);
    // A tracking table in each tenant schema, the tables beside it, none
    // elsewhere.
    assert_eq!(
        q("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'"),
        "200"
    );
    assert_eq!(q("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations' AND schemaname LIKE 't\\_%'"), "200");
    assert_eq!(
        q("SELECT count(*) FROM pg_tables WHERE tablename = 'posts' AND schemaname LIKE 't\\_%'"),
        "200"
    );
    assert_eq!(
        q("SELECT count(*) FROM pg_tables WHERE tablename = 'tags'"),
        "199"
    );
    assert_eq!(
        q("SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'other')"),
        "0"
    );
    assert_eq!(q("SELECT count(*) FROM t_000.schema_migrations"), "3");
    assert_eq!(q("SELECT count(*) FROM t_137.schema_migrations"), "1");
    // Status over the schemas: one behind; a shard of them is a slice.
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["status", "--schemas", "t_*", "--exit-code"]),
        3,
    );
    let rs = results(&stdout);
    let behind: Vec<&Value> = rs.iter().filter(|r| r["outcome"] != "ok").collect();
    assert_eq!(behind.len(), 1);
    assert_eq!(behind[0]["schema"], "t_137");
    // A schema-qualified --table has no meaning here.
    let (_, lines) = run(
        migrate(&db, dir.path()).args([
            "status",
            "--schemas",
            "t_*",
            "--table",
            "x.schema_migrations",
        ]),
        64,
    );
    assert!(lines.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("--schemas"));
}

#[test]
fn a_canary_failure_stops_before_the_rest_fail_fast_at_the_first() {
    let dbs = tenant_dbs("fc", 12);
    break_tenant(&dbs[2]);
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    let (stdout, lines) = run(
        fleet(dir.path(), "fc_*").args(["up", "--canary", "5", "--jobs", "2"]),
        3,
    );
    let rs = results(&stdout);
    assert_eq!(rs.len(), 12);
    for (i, db) in dbs.iter().enumerate() {
        let r = of(&rs, db);
        let want = match i {
            2 => "failed",
            0..5 => "ok",
            _ => "skipped",
        };
        assert_eq!(r["outcome"], want, "{db}: {r}");
        if i >= 5 {
            assert!(r["exitCode"].is_null());
            assert_eq!(
                scalar(db, "SELECT to_regclass('schema_migrations') IS NULL"),
                "t"
            );
        }
    }
    let sum = lines.last().unwrap();
    assert_eq!(sum["message"], "Fleet run stopped: a canary target failed");
    assert_eq!(
        (
            sum["ok"].as_u64(),
            sum["failed"].as_u64(),
            sum["skipped"].as_u64()
        ),
        (Some(4), Some(1), Some(7))
    );
    assert_eq!(sum["exitCode"], 3);
    assert!(has_message(
        &lines,
        "Canary failed: the other targets are not started"
    ));

    // Canaries that pass let the rest run; --fail-fast stops at the first
    // failure (one job at a time: the broken tenant is the third).
    server().execute(&dbs[2], "DROP TABLE posts").unwrap();
    let (stdout, _) = run(fleet(dir.path(), "fc_*").args(["up", "--canary", "5"]), 0);
    assert!(results(&stdout).iter().all(|r| r["outcome"] == "ok"));
    let (stdout, lines) = run(fleet(dir.path(), "fc_*").args(["down", "--jobs", "3"]), 0);
    assert!(results(&stdout).iter().all(|r| r["outcome"] == "ok"));
    assert_eq!(lines.last().unwrap()["ok"], 12);
    assert_eq!(
        scalar(&dbs[7], "SELECT count(*) FROM schema_migrations"),
        "2"
    );
    server()
        .execute(&dbs[2], "CREATE TABLE tags (broken_on_purpose int)")
        .unwrap();
    let (stdout, lines) = run(
        fleet(dir.path(), "fc_*").args(["up", "--fail-fast", "--jobs", "1"]),
        3,
    );
    let rs = results(&stdout);
    for (i, db) in dbs.iter().enumerate() {
        let want = match i {
            0 | 1 => "ok",
            2 => "failed",
            _ => "skipped",
        };
        assert_eq!(of(&rs, db)["outcome"], want, "{db}");
    }
    assert_eq!(lines.last().unwrap()["skipped"], 9);
    // verify over the fleet: a changed file is drift in every tenant that
    // applied it.
    write(
        dir.path(),
        "001_users.up.sql",
        "CREATE TABLE users (id bigint);\n",
    );
    let (stdout, lines) = run(fleet(dir.path(), "fc_*").arg("verify"), 3);
    let rs = results(&stdout);
    assert!(
        rs.iter()
            .all(|r| r["outcome"] == "failed" && r["drifted"] == 1),
        "{stdout}"
    );
    assert_eq!(lines.last().unwrap()["failed"], 12);
}

#[test]
fn sigint_stops_scheduling_rolls_back_the_running_and_exits_130() {
    let _dbs = tenant_dbs("fi", 6);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_slow.up.sql",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n",
    );
    let child = std::process::Command::new(bin_path("pg-migrate"))
        .env_clear()
        .env("HOME", empty_home())
        .env("DATABASE_URL", url("postgres"))
        .args([
            "up",
            "--all-databases",
            "--database-pattern",
            "fi_*",
            "--jobs",
            "2",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Both running targets are inside their sleep.
    let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name = 'pg-migrate' AND datname LIKE 'fi\\_%'";
    while scalar("postgres", sleeping) != "2" {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let rs = results(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(rs.len(), 6);
    // The running ones were stopped, not failed: safe to run again.
    let running: Vec<&Value> = rs
        .iter()
        .filter(|r| r["outcome"] == "interrupted")
        .collect();
    assert_eq!(running.len(), 2, "{rs:?}");
    assert!(!rs.iter().any(|r| r["outcome"] == "failed"), "{rs:?}");
    for r in &running {
        assert_eq!(r["exitCode"], 130);
        let db = db_of(r);
        // Rolled back: nothing of the file, no row.
        assert_eq!(scalar(&db, "SELECT to_regclass('slow') IS NULL"), "t");
        assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "0");
    }
    assert_eq!(rs.iter().filter(|r| r["outcome"] == "skipped").count(), 4);
    let lines = json_lines(&out.stderr);
    let sum = lines.last().unwrap();
    assert_eq!(
        sum["message"],
        "Fleet run interrupted: no further targets started"
    );
    assert_eq!(sum["exitCode"], 130);
    assert_eq!(sum["skipped"], 4);
    assert_eq!(sum["interrupted"], 2);
    assert_eq!(sum["failed"], 0);
    assert_eq!(scalar("postgres", sleeping), "0");
}

#[test]
fn targets_from_stdin_with_comments_passwords_redacted() {
    let dbs = tenant_dbs("fs", 3);
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    // (The test server trusts local logins: the password is never checked,
    // only kept out of the output.)
    let with_pw = |db: &str| url(db).replace("postgres@", "postgres:Sup3rS3cret@");
    let list = format!(
        "# tenants\n\n{}\n  {}  \n# {}\nhost=127.0.0.1 port={} user=postgres password=Sup3rS3cret dbname={}\n",
        with_pw(&dbs[0]),
        with_pw(&dbs[1]),
        with_pw("nope"),
        server().port(),
        dbs[2]
    );
    let (stdout, lines) = run(
        cmd("pg-migrate")
            .env("MIGRATIONS_DIR", dir.path())
            .args(["up", "--targets", "-"])
            .write_stdin(list.clone()),
        0,
    );
    assert!(!stdout.contains("Sup3rS3cret"), "{stdout}");
    let rs = results(&stdout);
    assert_eq!(rs.len(), 3);
    for r in &rs {
        assert_eq!(r["outcome"], "ok");
        assert!(
            r["target"].as_str().unwrap().contains(":[REDACTED]@"),
            "{r}"
        );
    }
    assert!(!lines.iter().any(|l| l.to_string().contains("Sup3rS3cret")));
    // The same database twice is one target.
    let twice = format!("{}\n{}\n", url(&dbs[0]), url(&dbs[0]));
    let (stdout, _) = run(
        cmd("pg-migrate")
            .env("MIGRATIONS_DIR", dir.path())
            .args(["status", "--targets", "-"])
            .write_stdin(twice),
        0,
    );
    assert_eq!(results(&stdout).len(), 1);
    // A bad line is 78, named by its number, without its text.
    let (_, lines) = run(
        cmd("pg-migrate")
            .env("MIGRATIONS_DIR", dir.path())
            .args(["status", "--targets", "-"])
            .write_stdin(format!(
                "{}\nhost=x password=Sup3rS3cret bogus=1\n",
                url(&dbs[0])
            )),
        78,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["line"], 2);
    assert!(!last.to_string().contains("Sup3rS3cret"));
    // A missing list file is 66; --dump-schema has no meaning over a fleet.
    run(
        cmd("pg-migrate").env("MIGRATIONS_DIR", dir.path()).args([
            "status",
            "--targets",
            "/nonexistent/targets.txt",
        ]),
        66,
    );
    run(
        fleet(dir.path(), "fs_*").args(["up", "--dump-schema", "x.sql"]),
        64,
    );
    run(
        fleet(dir.path(), "fs_*").args(["status", "--shard", "2/2"]),
        64,
    );
}

#[test]
fn pg_wait_waits_for_every_database_or_listed_target() {
    let dbs = tenant_dbs("fw", 5);
    let (stdout, lines) = run(
        cmd("pg-wait").env("DATABASE_URL", url("postgres")).args([
            "--all-databases",
            "--database-pattern",
            "fw_*",
            "--exclude-database",
            "fw_0004",
            "--jobs",
            "2",
        ]),
        0,
    );
    let rs = results(&stdout);
    assert_eq!(
        rs.iter().map(db_of).collect::<Vec<_>>(),
        dbs[..4].to_vec(),
        "{stdout}"
    );
    assert!(rs.iter().all(|r| r["ready"] == true && r["exitCode"] == 0));
    assert_eq!(lines.last().unwrap()["targets"], 4);
    // A list with a target that never comes: it is named, the others ready.
    let gone = "postgresql://u:Sup3rS3cret@127.0.0.1:1/gone";
    let list = format!("# fleet\n{}\n{gone}\n{}\n", url(&dbs[0]), url(&dbs[1]));
    let (stdout, lines) = run(
        cmd("pg-wait")
            .args(["--targets", "-", "--timeout", "1s", "--interval", "100ms"])
            .write_stdin(list),
        2,
    );
    let rs = results(&stdout);
    assert_eq!(rs.len(), 3);
    assert_eq!(rs[1]["ready"], false);
    assert_eq!(rs[1]["exitCode"], 2);
    assert_eq!(
        rs[1]["target"],
        "postgresql://u:[REDACTED]@127.0.0.1:1/gone"
    );
    assert!(rs[0]["ready"] == true && rs[2]["ready"] == true);
    let last = lines.last().unwrap();
    assert_eq!(
        last["notReady"][0],
        "postgresql://u:[REDACTED]@127.0.0.1:1/gone"
    );
    assert!(!stdout.contains("Sup3rS3cret") && !last.to_string().contains("Sup3rS3cret"));
    // Retries of the missing one are tagged with it.
    assert!(lines
        .iter()
        .filter(|l| l["message"] == "Postgres not ready, retrying with backoff")
        .all(|l| l["target"] == "postgresql://u:[REDACTED]@127.0.0.1:1/gone"));
}

/// A database whose schemas cannot be listed (dropped since the list was
/// written) is one failed target; the other databases' tenants still run.
#[test]
fn a_database_whose_schemas_cannot_be_listed_fails_alone() {
    let dbs = tenant_dbs("fu", 2);
    for db in &dbs {
        server()
            .execute(db, "CREATE SCHEMA t_a; CREATE SCHEMA t_b;")
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    three(dir.path());
    let list = format!("{}\n{}\n{}\n", url(&dbs[0]), url("fu_gone"), url(&dbs[1]));
    let (stdout, lines) = run(
        cmd("pg-migrate")
            .env("MIGRATIONS_DIR", dir.path())
            .args(["up", "--targets", "-", "--schemas", "t_*", "--jobs", "2"])
            .write_stdin(list),
        2,
    );
    let rs = results(&stdout);
    assert_eq!(rs.len(), 5, "{stdout}");
    let gone = of(&rs, "fu_gone");
    assert_eq!(gone["outcome"], "failed");
    assert_eq!(gone["exitCode"], 2);
    assert!(gone["schema"].is_null());
    assert!(
        gone["error"].as_str().unwrap().contains("fu_gone"),
        "{gone}"
    );
    for r in rs.iter().filter(|r| db_of(r) != "fu_gone") {
        assert_eq!(r["outcome"], "ok", "{r}");
        assert_eq!(r["applied"], 3);
    }
    for db in &dbs {
        assert_eq!(
            scalar(db, "SELECT count(*) FROM t_b.schema_migrations"),
            "3"
        );
    }
    let sum = lines.last().unwrap();
    assert_eq!(
        (sum["ok"].as_u64(), sum["failed"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(sum["exitCode"], 2);
    // Its error is logged once, tagged with it.
    let tagged: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["level"] == "error"
                && l["target"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("/fu_gone"))
        })
        .collect();
    assert_eq!(tagged.len(), 1, "{lines:?}");
}
