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
