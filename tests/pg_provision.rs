//! scripts/pg-provision end to end: the runbook's steps and exit codes
//! against a real server, with the real pgkit binaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    bin_path("pg-wait").parent().unwrap().to_path_buf()
}

/// pg-provision with a clean environment, the built binaries, and the
/// example migrations and seeds.
fn provision(db_url: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new("sh");
    c.arg(root().join("scripts/pg-provision"));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    c.env("HOME", empty_home())
        .env("PGKIT_BIN", bin_dir())
        .env("DATABASE_URL", db_url)
        .env("MIGRATIONS_DIR", root().join("examples/migrations"))
        .env("SEEDS_DIR", root().join("examples/seeds"))
        .env("DB_TIMEOUT", "10000");
    c
}

fn tools_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["tool"].as_str().unwrap_or("").to_string())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn fresh_database_is_provisioned_and_a_rerun_is_a_no_op() {
    let db = fresh_db("prov");
    let out = provision(&url(&db)).exits(0);
    assert!(out.stdout.is_empty(), "stdout stays empty");
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["tool"], "pg-provision");
    assert_eq!(
        last["message"],
        "Database provisioning completed successfully"
    );
    assert!(last["durationSeconds"].is_u64());
    assert_eq!(last["exitCode"], 0);
    let tools = tools_of(&lines);
    for t in ["pg-wait", "pg-migrate", "pg-seed"] {
        assert!(tools.iter().any(|x| x == t), "{t} ran: {tools:?}");
    }
    let mut c = server().client(&db).unwrap();
    let users: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    let posts: i64 = c
        .query_one("SELECT count(*) FROM posts", &[])
        .unwrap()
        .get(0);
    assert_eq!((users, posts), (3, 3));

    let again = provision(&url(&db)).exits(0);
    let lines = json_lines(&again.stderr);
    assert!(
        !has_message(&lines, "Migration applied"),
        "nothing re-applied"
    );
    let users: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 3, "seeds not re-applied");
}

#[test]
fn database_never_up_exits_2_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = std::time::Instant::now();
    let out = provision(&format!("postgresql://postgres@127.0.0.1:{port}/postgres"))
        .env("DB_TIMEOUT", "1500")
        .exits(2);
    // Generous bound: the deadline is 1.5 s.
    assert!(start.elapsed() < Duration::from_secs(20));
    let last = last_line(&out.stderr);
    assert_eq!(last["tool"], "pg-provision");
    assert_eq!(last["exitCode"], 2);
    assert_eq!(last["step"], "wait");
    assert!(last["suggestion"].is_string());
}

#[test]
fn broken_migration_exits_3_and_does_not_seed() {
    let db = fresh_db("provbad");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/migrations"), dir.path());
    std::fs::write(
        dir.path().join("019_add_provisioning.up.sql"),
        "CRATE TABLE provisioning (id int);\n",
    )
    .unwrap();
    let out = provision(&url(&db))
        .env("MIGRATIONS_DIR", dir.path())
        .exits(3);
    let lines = json_lines(&out.stderr);
    assert!(
        !tools_of(&lines).iter().any(|t| t == "pg-seed"),
        "seed must not run"
    );
    let failed = lines
        .iter()
        .find(|l| l["tool"] == "pg-migrate" && l["level"] == "error")
        .unwrap();
    assert_eq!(failed["error"], "syntax error at or near \"CRATE\"");
    let last = lines.last().unwrap();
    assert_eq!(
        (last["tool"].as_str(), last["exitCode"].as_i64()),
        (Some("pg-provision"), Some(3))
    );
}

#[test]
fn seed_failure_is_non_fatal() {
    let db = fresh_db("provseed");
    let seeds = tempfile::tempdir().unwrap();
    std::fs::write(
        seeds.path().join("10_bad.sql"),
        "INSERT INTO no_such_table VALUES (1);\n",
    )
    .unwrap();
    let out = provision(&url(&db)).env("SEEDS_DIR", seeds.path()).exits(0);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Database seed failed (non-fatal)"));
    assert_eq!(
        lines.last().unwrap()["message"],
        "Database provisioning completed successfully"
    );
}

#[test]
fn skip_seed_skips_the_seed_step() {
    let db = fresh_db("provskip");
    let out = provision(&url(&db)).env("SKIP_SEED", "true").exits(0);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Seeding skipped"));
    assert!(!tools_of(&lines).iter().any(|t| t == "pg-seed"));
    let mut c = server().client(&db).unwrap();
    let users: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 0);
}

#[test]
fn a_missing_binary_exits_127_naming_it() {
    let empty = tempfile::tempdir().unwrap();
    let out = provision("postgresql://postgres@127.0.0.1:1/postgres")
        .env("PGKIT_BIN", empty.path())
        .env("PATH", "/usr/bin:/bin")
        .exits(127);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Required program not found: pg-wait");
    assert!(last["suggestion"].as_str().unwrap().contains("PGKIT_BIN"));
}

#[test]
fn sigint_is_forwarded_to_the_running_step() {
    let db = fresh_db("provint");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("001_slow.up.sql"), "SELECT pg_sleep(30);\n").unwrap();
    let mut c = std::process::Command::new("sh");
    c.arg(root().join("scripts/pg-provision"));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    // A shell cannot trap a signal it was started with ignored (POSIX), and
    // a test run started in the background of a non-interactive shell
    // (nohup cmd &) ignores SIGINT: start the script as a terminal or a
    // CI job would, with the default disposition.
    {
        use std::os::unix::process::CommandExt;
        unsafe {
            c.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                Ok(())
            });
        }
    }
    let child = c
        .env("HOME", empty_home())
        .env("PGKIT_BIN", bin_dir())
        .env("DATABASE_URL", url(&db))
        .env("MIGRATIONS_DIR", dir.path())
        .env("SKIP_SEED", "true")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the migration is running on the server.
    let mut admin = server().client("postgres").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = admin
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()", &[&db])
            .unwrap()
            .get(0);
        if n > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "migration never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let last = last_line(&out.stderr);
    assert_eq!(last["tool"], "pg-provision");
    assert_eq!(last["exitCode"], 130);
    let n: i64 = admin
        .query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()", &[&db])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "the migration's query was cancelled");
}

#[test]
fn makefile_targets_run() {
    if std::process::Command::new("make")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("note: make not installed; skipped (CI installs it)");
        return;
    }
    let db = fresh_db("provmake");
    let dumps = tempfile::tempdir().unwrap();
    for target in [
        "db-wait",
        "db-migrate",
        "db-seed",
        "db-status",
        "db-provision",
        "db-dump",
    ] {
        let mut c = assert_cmd::Command::new("make");
        for v in cleared_vars() {
            c.env_remove(v);
        }
        c.arg("-s")
            .arg("-C")
            .arg(root().join("examples"))
            .arg(target)
            .env("HOME", empty_home())
            .env("PGKIT_BIN", bin_dir())
            .env("DATABASE_URL", url(&db))
            .env("DUMP_DIR", dumps.path())
            .env("DB_TIMEOUT", "10000");
        c.assert().success();
    }
}

#[test]
fn the_demo_runs_end_to_end() {
    let mut c = assert_cmd::Command::new("sh");
    c.arg(root().join("scripts/demo"));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    let out = c
        .env("HOME", empty_home())
        .env("PGKIT_BIN", bin_dir())
        .exits(0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("==> done"), "{stdout}");
}

#[test]
fn dump_schema_writes_the_schema_after_migrating() {
    let db = fresh_db("provschema");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    let out = provision(&url(&db))
        .env("SKIP_SEED", "true")
        .arg("--dump-schema")
        .arg(&file)
        .exits(0);
    json_lines(&out.stderr);
    let schema = std::fs::read_to_string(&file).unwrap();
    assert!(schema.contains("CREATE TABLE public.users"), "{schema}");
    assert!(schema.contains("posts_user_id_created_at_idx"));
}

#[test]
fn dump_schema_without_pg_dump_exits_127() {
    // PATH without PostgreSQL's client tools; the pgkit binaries come from PGKIT_BIN.
    let bin = tempfile::tempdir().unwrap();
    for tool in ["sh", "date", "awk", "tr", "cut", "kill"] {
        if let Ok(p) = which(tool) {
            std::os::unix::fs::symlink(p, bin.path().join(tool)).unwrap();
        }
    }
    let out = provision("postgresql://postgres@127.0.0.1:1/postgres")
        .env("PATH", bin.path())
        .args(["--dump-schema", "/tmp/never-written.sql"])
        .exits(127);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Required program not found: pg_dump");
}

fn which(tool: &str) -> Result<PathBuf, ()> {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(())
}
