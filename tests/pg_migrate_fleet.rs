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
