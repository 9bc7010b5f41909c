//! pg-wait's test helpers, shared by pg_wait.rs and pg_wait_servers.rs.

use super::*;
use serde_json::Value;

/// pg-wait with short backoff steps, so the tests stay fast.
pub fn pg_wait() -> assert_cmd::Command {
    let mut c = cmd("pg-wait");
    c.args(["--interval", "100ms", "--max-interval", "200ms"]);
    c
}

/// The warn lines (one a retry).
pub fn warns(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["level"] == "warn").collect()
}

/// Asserts that `srv`'s log has no line naming `db` (the log line prefix
/// names the database of every session, so this means pg-wait's probes
/// left no trace).
pub fn assert_no_log_line_about(srv: &pgkit::server::TempServer, db: &str) {
    let log = srv.log();
    let ours: Vec<&str> = log.lines().filter(|l| l.contains(db)).collect();
    assert!(ours.is_empty(), "server log lines: {ours:#?}");
}

/// pg-wait ARGS spawned (clean environment as `std_cmd`), stdin empty,
/// stdout and stderr piped.
pub fn spawn_pg_wait(args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    std_cmd("pg-wait")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}
