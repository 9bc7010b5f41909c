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
