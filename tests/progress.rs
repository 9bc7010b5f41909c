//! Progress lines at a terminal (issue 21): each long-running display driven
//! through a pseudo-terminal (openpty), and none without one — stderr then
//! stays JSON lines, byte for byte the contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

/// What a run at a terminal left: its exit code, stdout (a pipe), and
/// everything written to the terminal (stderr).
struct Screen {
    code: Option<i32>,
    stdout: String,
    text: String,
}

/// Runs `c` with stderr on a pseudo-terminal of 120 columns (stdin empty,
/// stdout a pipe), as at an interactive shell: no CI, a real TERM, progress
/// and log format left to their defaults unless the caller set them.
fn at_terminal(mut c: Command) -> Screen {
    let (mut master, mut slave) = (0, 0);
    let ws = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two descriptors we then own.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: the master is ours; close it in the children.
    unsafe { libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: both descriptors are open and owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    c.env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave));
    let mut child = c.spawn().unwrap();
    // The parent's copy of the terminal's slave end goes with the command,
    // so the master reads EIO once the child (and its children) are done.
    drop(c);
    let mut master = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
        all
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let text = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Screen {
        code: status.code(),
        stdout,
        text,
    }
}

/// A command of `tool` as a person runs it: the common clean environment,
/// not in CI, progress and log format unset.
fn person(tool: &str) -> Command {
    let mut c = std_cmd(tool);
    c.env_remove("CI")
        .env_remove("PGKIT_PROGRESS")
        .env_remove("LOG_FORMAT");
    c
}

/// `s` without its CSI escape sequences (cursor moves, line clearing).
fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ parameters, then a final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Screen {
    /// The log lines, as they read on the terminal: each line's text after
    /// the last line-clearing escape; the JSON ones parsed (they must parse).
    fn log_lines(&self) -> Vec<Value> {
        self.text
            .split('\n')
            .map(|l| {
                let l = strip_escapes(l.trim_end_matches('\r'));
                match l.rfind('\r') {
                    Some(i) => l[i + 1..].to_string(),
                    None => l,
                }
            })
            .filter(|l| l.starts_with('{'))
            .map(|l| {
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("a torn log line ({e}): {l:?}"))
            })
            .collect()
    }

    /// Asserts a progress line containing every one of `needles` was drawn,
    /// and cleared after its last frame.
    fn assert_progress(&self, needles: &[&str]) {
        let frame = self
            .text
            .split(['\r', '\n'])
            .map(strip_escapes)
            .filter(|l| !l.starts_with('{'))
            .find(|l| needles.iter().all(|n| l.contains(n)));
        assert!(
            frame.is_some(),
            "no progress line with {needles:?} on the terminal:\n{:?}",
            self.text
        );
        let last = self.text.rfind(needles[0]).unwrap();
        assert!(
            self.text[last..].contains("\x1b[2K"),
            "the line is not cleared when done:\n{:?}",
            &self.text[last..]
        );
    }

    /// Asserts nothing but log lines reached the terminal.
    fn assert_no_progress(&self) {
        assert!(
            !self.text.contains('\x1b'),
            "escapes on the terminal:\n{:?}",
            self.text
        );
        let n = self.text.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(n, self.log_lines().len(), "{:?}", self.text);
        assert!(!self.log_lines().is_empty());
    }
}

/// Asserts a run without a terminal wrote JSON lines only: no escape, no
/// progress text (json_lines parses every line).
fn assert_json_only(stderr: &[u8]) -> Vec<Value> {
    assert!(
        !stderr.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(stderr)
    );
    json_lines(stderr)
}

fn ok(s: &Screen) {
    assert_eq!(s.code, Some(0), "{}", s.text);
}

#[test]
fn pg_wait_shows_the_attempt_and_the_time_to_the_deadline() {
    // Nothing listens on port 1: every attempt fails until the deadline.
    let args = ["--timeout", "1200ms", "postgresql://u@127.0.0.1:1/x"];
    let mut c = person("pg-wait");
    c.args(args);
    let s = at_terminal(c);
    assert_eq!(s.code, Some(2), "{}", s.text);
    s.assert_progress(&[
        "Waiting for postgresql://u@127.0.0.1:1/x: attempt 1 of",
        "to the deadline",
    ]);
    let lines = s.log_lines();
    assert_eq!(lines.last().unwrap()["exitCode"], 2);
    assert!(has_message(
        &lines,
        "Postgres not ready, retrying with backoff"
    ));

    // No terminal: the same run, JSON lines only.
    let out = cmd("pg-wait").args(args).env_remove("CI").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines = assert_json_only(&out.stderr);
    assert_eq!(lines.last().unwrap()["exitCode"], 2);

    // A terminal, but the log asked to be JSON, or CI, or never: none.
    for (k, v) in [
        ("LOG_FORMAT", "json"),
        ("CI", "true"),
        ("PGKIT_PROGRESS", "never"),
    ] {
        let mut c = person("pg-wait");
        c.args(args).env(k, v);
        let s = at_terminal(c);
        assert_eq!(s.code, Some(2));
        s.assert_no_progress();
    }
    // --progress never beats the terminal; --progress always beats a pipe.
    let mut c = person("pg-wait");
    c.args(args).arg("--progress").arg("never");
    at_terminal(c).assert_no_progress();
    let out = cmd("pg-wait")
        .args(args)
        .env("PGKIT_PROGRESS", "always")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("attempt 1 of"));
    // With LOG_FORMAT=text at a terminal, progress and text lines together.
    let mut c = person("pg-wait");
    c.args(args).env("LOG_FORMAT", "text");
    let s = at_terminal(c);
    s.assert_progress(&["attempt 1 of"]);
    assert!(
        s.text.contains("ERROR Postgres readiness timeout"),
        "{}",
        s.text
    );
}

#[test]
fn a_bad_progress_value_is_a_usage_or_configuration_error() {
    let out = cmd("pg-wait")
        .args(["--progress", "sometimes", "--once"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = cmd("pg-wait")
        .env("PGKIT_PROGRESS", "sometimes")
        .arg("--once")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert_eq!(last_line(&out.stderr)["variable"], "PGKIT_PROGRESS");
}

#[test]
fn pg_migrate_up_counts_the_files() {
    let db = fresh_db("progress_migrate");
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        std::fs::write(
            dir.path().join(format!("00{i}_t{i}.up.sql")),
            format!("CREATE TABLE t{i} (id int);"),
        )
        .unwrap();
    }
    let mut c = person("pg-migrate");
    c.env("DATABASE_URL", url(&db))
        .env("MIGRATIONS_DIR", dir.path())
        .arg("up");
    let s = at_terminal(c);
    ok(&s);
    s.assert_progress(&["Applying migrations", "/3 files"]);
    let lines = s.log_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "Migration applied")
            .count(),
        3
    );
    assert_eq!(lines.last().unwrap()["message"], "Migrations applied");

    // No terminal: JSON lines only.
    let db = fresh_db("progress_migrate");
    let out = cmd("pg-migrate")
        .env("DATABASE_URL", url(&db))
        .env("MIGRATIONS_DIR", dir.path())
        .env_remove("CI")
        .arg("up")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        assert_json_only(&out.stderr).last().unwrap()["message"],
        "Migrations applied"
    );
}

#[test]
fn pg_seed_csv_and_generate_show_rows() {
    let db = fresh_db("progress_seed");
    server()
        .execute(&db, "CREATE TABLE users (id int PRIMARY KEY, name text)")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,name\n");
    for i in 1..=2000 {
        csv.push_str(&format!("{i},user {i}\n"));
    }
    std::fs::write(dir.path().join("users.csv"), &csv).unwrap();
    let seed = |c: &mut Command| {
        c.env("DATABASE_URL", url(&db)).arg("--dir").arg(dir.path());
    };
    let mut c = person("pg-seed");
    seed(&mut c);
    let s = at_terminal(c);
    ok(&s);
    s.assert_progress(&["Loading users.csv", "rows (", "/s"]);
    assert_eq!(
        s.log_lines().last().unwrap()["message"],
        "Seeding completed",
        "{}",
        s.text
    );
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM users"), 2000);

    // generate: rows of the total, with a rate and an ETA.
    server()
        .execute(
            &db,
            "CREATE TABLE events (id bigint, at timestamptz, note text)",
        )
        .unwrap();
    let mut c = person("pg-seed");
    c.env("DATABASE_URL", url(&db)).args([
        "generate", "--table", "events", "--rows", "40000", "--seed", "1",
    ]);
    let s = at_terminal(c);
    ok(&s);
    s.assert_progress(&["Generating", "/40,000 rows", "ETA"]);

    // No terminal: JSON lines only, for both.
    let out = cmd("pg-seed")
        .env("DATABASE_URL", url(&db))
        .env_remove("CI")
        .args([
            "generate", "--table", "events", "--rows", "40000", "--seed", "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_json_only(&out.stderr);
    let out = cmd("pg-seed")
        .env("DATABASE_URL", url(&db))
        .env_remove("CI")
        .arg("--dir")
        .arg(dir.path())
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_json_only(&out.stderr);
}

/// The dump tool, as a person at a terminal runs it.
fn dump_tool(dir: &Path) -> Command {
    let mut c = person("pg-dump-rotate");
    c.env("PG_BINDIR", server().bindir())
        .env("DUMP_DIR", dir)
        .env_remove("PG_DUMP")
        .env_remove("PG_RESTORE")
        .env_remove("PSQL");
    c
}

#[test]
fn pg_dump_rotate_dump_verify_and_restore_show_bytes() {
    let (db, dir) = common::dump::seeded("progress_dump", common::dump::seed);
    let mut c = dump_tool(dir.path());
    c.args(["dump", "--dsn", &url(&db)]);
    let s = at_terminal(c);
    ok(&s);
    s.assert_progress(&[&format!("pg_dump of {db} ("), "database):"]);
    assert_eq!(s.log_lines().last().unwrap()["message"], "Dump complete");
    let file = s.stdout.trim().to_string();
    assert!(file.ends_with(".pgdump"), "{}", s.stdout);

    let mut c = dump_tool(dir.path());
    c.args(["verify", &file]);
    let s = at_terminal(c);
    ok(&s);
    // (The name, as long as the line allows.)
    s.assert_progress(&[&format!("Verifying {db}_"), "B/"]);
    assert_eq!(s.stdout, format!("{file}: OK\n"));

    let target = format!("{db}_copy");
    let mut c = dump_tool(dir.path());
    c.args([
        "restore",
        &file,
        "--dsn",
        &url(&db),
        "--db",
        &target,
        "--create-db",
    ]);
    let s = at_terminal(c);
    ok(&s);
    s.assert_progress(&[&format!("Checking {db}_")]);
    s.assert_progress(&[&format!("Restoring {db}_")]);
    assert_eq!(
        s.log_lines().last().unwrap()["message"],
        "Restore complete",
        "{:?}",
        s.text
    );
    common::dump::assert_same_tables(&db, &target, &["items", "notes", "orders"]);

    // No terminal: JSON lines only.
    let out = common::dump::tool(dir.path())
        .env_remove("CI")
        .args(["dump", "--dsn", &url(&db)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        assert_json_only(&out.stderr).last().unwrap()["message"],
        "Dump complete"
    );
    let out = common::dump::tool(dir.path())
        .env_remove("CI")
        .args(["verify", "--all"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_json_only(&out.stderr);
}
