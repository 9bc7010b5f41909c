//! pg-wait end to end against the shared throwaway server: the checks, the
//! retry classification, the deadline, --once, --healthcheck, --json, exec,
//! several targets, signals. (Cases that need their own server — started
//! late, restarted, password, TLS, standby — are in pg_wait_servers.rs, so
//! both files run in parallel.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wait::*;
use common::*;
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn down_url() -> String {
    format!("postgresql://postgres@127.0.0.1:{}/postgres", closed_port())
}

/// Runs `sql` on the shared server's postgres database after `ms`
/// milliseconds, from another thread.
fn execute_later(ms: u64, sql: String) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        server().execute("postgres", &sql).unwrap();
    })
}

/// pg-wait (for up to 20 s) on `target` while `fixer` makes it reachable:
/// asserts exit 0, that it retried at least once, the first time for
/// `sqlstate`, and that it ended ready; returns the log lines.
fn ready_after_retries(
    target: &str,
    fixer: std::thread::JoinHandle<()>,
    sqlstate: &str,
) -> Vec<Value> {
    let out = pg_wait().args(["--timeout", "20s", target]).exits(0);
    fixer.join().unwrap();
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert!(!w.is_empty());
    assert_eq!(w[0]["sqlstate"], sqlstate);
    assert_eq!(lines.last().unwrap()["message"], "Postgres is ready");
    lines
}

/// `--json` output: one JSON object a line, one line a target.
fn json_results(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn ready_over_tcp_logs_one_ready_line_and_nothing_on_stdout() {
    let db = fresh_db("wait_tcp");
    let out = pg_wait().arg(url(&db)).exits(0);
    assert!(out.stdout.is_empty());
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{}", stderr_text(&out));
    let l = &lines[0];
    assert_eq!(l["level"], "info");
    assert_eq!(l["message"], "Postgres is ready");
    assert_eq!(l["attempts"], 1);
    assert_eq!(l["check"], "login");
    assert_eq!(l["exitCode"], 0);
    assert!(l["durationMs"].is_u64());
    assert!(l["target"].as_str().unwrap().ends_with(&format!("/{db}")));
}

#[test]
fn ready_over_the_unix_socket_with_every_check() {
    let db = fresh_db("wait_sock");
    for check in ["tcp", "ping", "login"] {
        let out = pg_wait()
            .envs(server().socket_env(&db))
            .args(["--check", check])
            .exits(0);
        let last = last_line(&out.stderr);
        assert_eq!(last["message"], "Postgres is ready");
        assert_eq!(last["check"], check);
        assert!(
            last["target"].as_str().unwrap().contains("host=%2F"),
            "socket target: {last}"
        );
    }
    // TCP too, with the tcp and ping checks.
    for check in ["tcp", "ping"] {
        pg_wait()
            .args(["--check", check, &url(&db)])
            .assert()
            .code(0);
    }
}

#[test]
fn ping_and_login_leave_no_line_in_the_server_log() {
    let db = fresh_db("wait_quiet");
    for check in ["ping", "login", "tcp"] {
        pg_wait()
            .envs(server().socket_env(&db))
            .args(["--check", check])
            .assert()
            .code(0);
        pg_wait()
            .args(["--check", check, &url(&db)])
            .assert()
            .code(0);
    }
    // The prefix is '%m [%p] %q%u@%d ': any line about our sessions names the db.
    assert_no_log_line_about(server(), &db);
}

#[test]
fn never_started_gives_up_at_the_deadline_with_the_timeout_message() {
    let target = down_url();
    let t = Instant::now();
    let out = pg_wait().args(["--timeout", "1200ms", &target]).exits(2);
    let elapsed = t.elapsed();
    assert!(out.stdout.is_empty());
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error");
    assert_eq!(last["message"], "Postgres readiness timeout after 1200ms");
    assert_eq!(last["exitCode"], 2);
    assert!(
        last["error"].as_str().unwrap().contains("refused"),
        "{last}"
    );
    assert!(last["suggestion"].as_str().unwrap().contains("running"));
    assert_eq!(last["target"], target.as_str());
    let w = warns(&lines);
    assert!(w.len() >= 3, "{}", stderr_text(&out));
    for (i, l) in w.iter().enumerate() {
        assert_eq!(l["message"], "Postgres not ready, retrying with backoff");
        assert_eq!(l["attempt"], i as u64 + 1);
        assert!(l["delayMs"].as_u64().unwrap() <= 260, "{l}");
        assert!(l["error"].as_str().unwrap().contains("refused"));
        assert_eq!(l["target"], target.as_str());
    }
    // Never sleeps past the deadline: the last attempt is at 1.2 s. (Bound
    // generous for a loaded machine.)
    assert!(elapsed >= Duration::from_millis(1200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn db_timeout_takes_bare_milliseconds_or_units_and_rejects_garbage_with_78() {
    let out = pg_wait().env("DB_TIMEOUT", "700").arg(down_url()).exits(2);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Postgres readiness timeout after 700ms"
    );
    let out = pg_wait().env("DB_TIMEOUT", "1s").arg(down_url()).exits(2);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Postgres readiness timeout after 1000ms"
    );
    // The flag wins over the variable.
    let out = pg_wait()
        .env("DB_TIMEOUT", "nonsense")
        .args(["--timeout", "300ms", &down_url()])
        .exits(2);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Postgres readiness timeout after 300ms"
    );
    let out = pg_wait()
        .env("DB_TIMEOUT", "soon")
        .arg(down_url())
        .exits(78);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Invalid DB_TIMEOUT");
    assert!(last["suggestion"].is_string());
    pg_wait()
        .args(["--timeout", "soon", &down_url()])
        .assert()
        .code(64);
    pg_wait()
        .env("PGCONNECT_TIMEOUT", "forever")
        .arg(down_url())
        .assert()
        .code(78);
}

#[test]
fn max_attempts_ends_the_wait_with_2() {
    let out = pg_wait()
        .args(["--max-attempts", "3", &down_url()])
        .exits(2);
    let lines = json_lines(&out.stderr);
    assert_eq!(warns(&lines).len(), 2);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Postgres not ready after 3 attempts");
    assert_eq!(last["attempts"], 3);
    let out = pg_wait()
        .args(["--max-attempts", "1", &down_url()])
        .exits(2);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Postgres not ready after 1 attempt");
    assert_eq!(last["attempts"], 1);
}

#[test]
fn unparsable_settings_are_78_at_once() {
    let out = pg_wait().arg("postgresql://u@h:notaport/db").exits(78);
    assert_eq!(json_lines(&out.stderr).len(), 1);
    pg_wait().arg("mysql://x@y/z").assert().code(78);
    pg_wait()
        .args(["--sslmode", "sometimes", &url("postgres")])
        .assert()
        .code(78);
}

#[test]
fn database_created_late_is_retried_then_ready() {
    let db = format!("wait_late_db_{}", std::process::id());
    let name = db.clone();
    let creator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        server().create_database(&name).unwrap();
    });
    let lines = ready_after_retries(&url(&db), creator, "3D000");
    let w = warns(&lines);
    assert!(w[0]["error"].as_str().unwrap().contains("does not exist"));
    assert_eq!(lines.last().unwrap()["attempts"], w.len() as u64 + 1);
}

#[test]
fn role_created_late_is_retried_with_a_note_then_ready() {
    let db = fresh_db("wait_role");
    let role = format!("late_role_{}", std::process::id());
    let creator = execute_later(1500, format!("CREATE ROLE \"{role}\" LOGIN"));
    let target = format!("postgresql://{role}@127.0.0.1:{}/{db}", server().port());
    let lines = ready_after_retries(&target, creator, "28000");
    let w = warns(&lines);
    assert!(w[0]["note"].as_str().unwrap().contains("create the role"));
}

#[test]
fn until_sql_waits_for_a_table_that_appears_later() {
    let db = fresh_db("wait_until");
    let d = db.clone();
    let creator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        server()
            .execute(
                &d,
                "CREATE SCHEMA pgflow; CREATE TABLE pgflow.runs (id int)",
            )
            .unwrap();
        std::thread::sleep(Duration::from_millis(800));
        server()
            .execute(&d, "INSERT INTO pgflow.runs VALUES (1)")
            .unwrap();
    });
    let out = pg_wait()
        .args([
            "--timeout",
            "20s",
            "--until-sql",
            "SELECT count(*) FROM pgflow.runs",
            &url(&db),
        ])
        .exits(0);
    creator.join().unwrap();
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    // Missing schema (3F000) or table (42P01) first, then a count of 0.
    assert!(
        matches!(w[0]["sqlstate"].as_str(), Some("3F000" | "42P01")),
        "{}",
        w[0]
    );
    assert!(w
        .iter()
        .any(|l| l["error"].as_str().unwrap().contains("returned no row")));
    assert_eq!(lines.last().unwrap()["message"], "Postgres is ready");
}

#[test]
fn until_sql_the_man_page_example_and_a_false_condition() {
    let db = fresh_db("wait_pgflow");
    server()
        .execute(
            &db,
            "CREATE SCHEMA pgflow; CREATE TABLE pgflow.a (); CREATE TABLE pgflow.b ();",
        )
        .unwrap();
    pg_wait()
        .args([
            "--until-sql",
            "SELECT count(*) >= 2 FROM pg_tables WHERE schemaname = 'pgflow'",
            &url(&db),
        ])
        .assert()
        .code(0);
    let out = pg_wait()
        .args([
            "--timeout",
            "600ms",
            "--until-sql",
            "SELECT count(*) >= 7 FROM pg_tables WHERE schemaname = 'pgflow'",
            &url(&db),
        ])
        .exits(2);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Postgres readiness timeout after 600ms");
    assert!(last["error"].as_str().unwrap().contains("returned no row"));
    assert!(last["suggestion"].as_str().unwrap().contains("--until-sql"));
}

/// Issue 16, defect 11: the simple protocol has no column types, so the
/// first column is judged on its text; the man page used to say text is
/// never ready while a text 't' / '1' / '1.0' was. Docs now match the code.
#[test]
fn until_sql_text_first_column_is_judged_as_documented() {
    let db = fresh_db("wait_textcol");
    // Text 't' / '1' / '1.0' read as ready, as the man page says.
    for sql in ["select 't'::text", "select '1'", "select '1.0'"] {
        pg_wait()
            .args(["--once", "--until-sql", sql, &url(&db)])
            .assert()
            .code(0);
    }
    pg_wait()
        .args(["--once", "--until-sql", "select 'yes'", &url(&db)])
        .assert()
        .code(2);
}

#[test]
fn until_sql_rows_without_columns_are_64_at_once_not_a_panic() {
    let db = fresh_db("wait_nocols");
    server()
        .execute(&db, "CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
        .unwrap();
    for q in ["select", "select from t"] {
        let out = pg_wait()
            .args(["--timeout", "30s", "--until-sql", q, &url(&db)])
            .exits(64);
        let text = stderr_text(&out);
        assert!(!text.contains("panicked"), "{text}");
        let lines = json_lines(&out.stderr);
        assert_eq!(lines.len(), 1, "no retry: {text}");
        assert!(lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("without columns"));
    }
    // In HEALTHCHECK mode: unhealthy (1), at once.
    pg_wait()
        .args(["--healthcheck", "--until-sql", "select", &url(&db)])
        .exits(1);
}

#[test]
fn until_sql_syntax_error_is_64_at_once() {
    let db = fresh_db("wait_syntax");
    let out = pg_wait()
        .args(["--until-sql", "SELEC 1", &url(&db)])
        .exits(64);
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "no retry: {}", stderr_text(&out));
    assert_eq!(lines[0]["message"], "Invalid --until-sql query");
    assert_eq!(lines[0]["sqlstate"], "42601");
    assert!(lines[0]["error"].as_str().unwrap().contains("syntax error"));
    assert!(lines[0]["suggestion"].is_string());
    // --until-sql needs a login.
    pg_wait()
        .args(["--check", "ping", "--until-sql", "SELECT true", &url(&db)])
        .assert()
        .code(64);
}

#[test]
fn primary_is_ready_on_a_primary() {
    let db = fresh_db("wait_primary");
    let out = pg_wait().args(["--primary", &url(&db)]).exits(0);
    assert_eq!(last_line(&out.stderr)["message"], "Postgres is ready");
}

#[test]
fn healthcheck_answers_only_0_or_1() {
    let db = fresh_db("wait_health");
    // Healthy: silent, exit 0 — over the unix socket and over TCP.
    let out = cmd("pg-wait")
        .envs(server().socket_env(&db))
        .arg("--healthcheck")
        .exits(0);
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    cmd("pg-wait")
        .args(["--healthcheck", &url(&db)])
        .assert()
        .code(0)
        .stderr("");
    // Down: 1, not 2, with one error line.
    let t = Instant::now();
    let out = cmd("pg-wait").args(["--healthcheck", &down_url()]).exits(1);
    assert!(t.elapsed() < Duration::from_secs(3), "no retries");
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["exitCode"], 1);
    // Usage and configuration errors are 1 too.
    cmd("pg-wait")
        .args(["--healthcheck", "--no-such-flag"])
        .assert()
        .code(1);
    cmd("pg-wait")
        .args(["--healthcheck", "--check", "ssh"])
        .assert()
        .code(1);
    cmd("pg-wait")
        .env("DB_TIMEOUT", "soon")
        .args(["--healthcheck", &url(&db)])
        .assert()
        .code(1);
    cmd("pg-wait")
        .args(["--healthcheck", "postgresql://u@h:notaport/db"])
        .assert()
        .code(1);
    cmd("pg-wait")
        .args(["--healthcheck", "--until-sql", "SELEC", &url(&db)])
        .assert()
        .code(1);
    // --help stays 0.
    cmd("pg-wait")
        .args(["--healthcheck", "--help"])
        .assert()
        .code(0);
}

#[test]
fn healthcheck_is_bounded_by_the_connect_timeout() {
    // A listener that accepts (its backlog does) but never speaks.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = Instant::now();
    let out = cmd("pg-wait")
        .args([
            "--healthcheck",
            "--connect-timeout",
            "500ms",
            &format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
        ])
        .exits(1);
    let elapsed = t.elapsed();
    eprintln!("healthcheck against a silent server took {elapsed:?}");
    // 500 ms, with room for a loaded machine.
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(last_line(&out.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("timeout"));
    drop(l);
}

#[test]
fn once_is_a_single_probe_with_normal_codes() {
    let db = fresh_db("wait_once");
    pg_wait().args(["--once", &url(&db)]).assert().code(0);
    let out = pg_wait().args(["--once", &down_url()]).exits(2);
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "no retries");
    assert_eq!(lines[0]["message"], "Postgres is not ready");
    assert_eq!(lines[0]["exitCode"], 2);
    assert!(lines[0]["suggestion"].is_string());
    pg_wait()
        .args(["--once", "--until-sql", "SELEC", &url(&db)])
        .assert()
        .code(64);
}

#[test]
fn exec_runs_the_command_only_when_ready() {
    let db = fresh_db("wait_exec");
    let out = pg_wait()
        .args([
            &url(&db),
            "--",
            "sh",
            "-c",
            "echo ran; echo \"$0 $1\"",
            "a",
            "b",
        ])
        .exits(0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\na b\n");
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Postgres is ready");
    assert_eq!(last["command"], "sh");
    // The command replaces pg-wait: its exit code is the result.
    pg_wait()
        .args([&url(&db), "--", "sh", "-c", "exit 7"])
        .assert()
        .code(7);
    // Not ready: 2, and the command never runs.
    let out = pg_wait()
        .args([
            "--timeout",
            "300ms",
            &down_url(),
            "--",
            "sh",
            "-c",
            "echo ran",
        ])
        .exits(2);
    assert!(out.stdout.is_empty());
    // Not found: 127.
    let out = pg_wait()
        .args([&url(&db), "--", "no-such-command-pgkit"])
        .exits(127);
    assert_eq!(last_line(&out.stderr)["message"], "Cannot run the command");
}

#[test]
fn several_targets_all_must_be_ready_and_the_down_one_is_named() {
    let db = fresh_db("wait_multi");
    let down = down_url();
    let out = pg_wait()
        .args(["--timeout", "800ms", "--json", &url(&db), "--dsn", &down])
        .exits(2);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Postgres readiness timeout after 800ms");
    assert_eq!(last["target"], down.as_str());
    assert_eq!(last["notReady"][0], down.as_str());
    assert!(last["ready"][0].as_str().unwrap().ends_with(&db));
    let results = json_results(&out.stdout);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ready"], true);
    assert_eq!(results[0]["exitCode"], 0);
    assert_eq!(results[1]["ready"], false);
    assert_eq!(results[1]["target"], down.as_str());
    assert_eq!(results[1]["exitCode"], 2);
    assert!(results[1]["error"].as_str().unwrap().contains("refused"));
    // All up: 0, one ready line per target and a summary.
    let db2 = fresh_db("wait_multi");
    let out = pg_wait().args([&url(&db), &url(&db2), "--json"]).exits(0);
    let lines = json_lines(&out.stderr);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "Postgres is ready")
            .count(),
        2
    );
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "All targets are ready");
    assert_eq!(last["targets"], 2);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

fn spawn_waiting() -> std::process::Child {
    spawn_pg_wait(&["--timeout", "60s", "--interval", "5s", &down_url()])
}

fn interrupt_with(sig: i32, code: i32, name: &str) {
    let child = spawn_waiting();
    // Let it fail its first attempt and fall asleep in the backoff.
    std::thread::sleep(Duration::from_millis(800));
    let t = Instant::now();
    signal(child.id() as i32, sig);
    let out = child.wait_with_output().unwrap();
    let elapsed = t.elapsed();
    // The issue asks for 200 ms; the bound is generous for a loaded machine.
    eprintln!("{name}: exited {elapsed:?} after the signal");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(out.status.code(), Some(code));
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], format!("Interrupted by {name}"));
    assert_eq!(last["exitCode"], code);
}

#[test]
fn sigint_during_the_wait_exits_130_at_once() {
    interrupt_with(libc::SIGINT, 130, "SIGINT");
}

#[test]
fn sigterm_during_the_wait_exits_143_at_once() {
    interrupt_with(libc::SIGTERM, 143, "SIGTERM");
}

#[test]
fn text_log_format_and_json_lines_everywhere() {
    let out = pg_wait()
        .args(["--log-format", "text", "--once", &down_url()])
        .exits(2);
    let text = stderr_text(&out);
    assert!(text.contains("ERROR Postgres is not ready"), "{text}");
    assert!(serde_json::from_str::<Value>(text.lines().next().unwrap()).is_err());
}

#[test]
fn sigint_during_an_attempt_ends_it_at_once_and_cancels_the_query() {
    // An attempt stuck on a silent server (30 s connect timeout).
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let silent = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let child = spawn_pg_wait(&["--connect-timeout", "30s", &silent]);
    std::thread::sleep(Duration::from_millis(700));
    let t = Instant::now();
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    eprintln!("SIGINT during a connect: exited {:?} after", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(out.status.code(), Some(130));
    drop(l);

    // An --until-sql query running on the server is cancelled there.
    let db = fresh_db("wait_cancel");
    let app = format!("pgwait_cancel_{}", std::process::id());
    let target = format!("{}?application_name={app}", url(&db));
    let child = spawn_pg_wait(&[
        "--connect-timeout",
        "60s",
        "--until-sql",
        "SELECT pg_sleep(60) IS NULL",
        &target,
    ]);
    let running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'active'"
    );
    let count = || -> i64 {
        let mut c = server().client("postgres").unwrap();
        c.query_one(running.as_str(), &[]).unwrap().get(0)
    };
    let t = Instant::now();
    while count() == 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(), 1, "the query runs");
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let t = Instant::now();
    while count() != 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(), 0, "the query was cancelled on the server");
}

#[test]
fn a_fatal_target_ends_the_wait_for_all_at_once() {
    let db = fresh_db("wait_fatal");
    // verify-ca without a root certificate cannot change by waiting (78);
    // the down target alone would keep pg-wait busy for 30 s.
    let bad = format!("{}?sslmode=verify-ca", url(&db));
    let down = down_url();
    let t = Instant::now();
    let out = pg_wait()
        .args(["--timeout", "30s", "--json", &down, &bad])
        .exits(78);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let last = last_line(&out.stderr);
    assert_eq!(last["exitCode"], 78);
    assert!(last["error"].as_str().unwrap().contains("certificate"));
    let results = json_results(&out.stdout);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ready"], false);
    assert_eq!(results[0]["message"], "not finished: another target failed");
    assert_eq!(results[1]["exitCode"], 78);
}

#[test]
fn json_to_a_closed_stdout_keeps_the_answer_and_the_exec() {
    let db = fresh_db("wait_closed");
    let run = |args: &[&str]| {
        let mut c = std_cmd("pg-wait");
        c.env("HOME", empty_home())
            .args(["--interval", "100ms", "--json"])
            .args(args)
            .stdout(closed_stdout())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    // Not ready stays 2, even though --json could not print its result.
    let out = run(&["--once", &down_url()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(last_line(&out.stderr)["message"], "Postgres is not ready");
    // Ready is 0 with the summary line.
    let out = run(&[&url(&db)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(last_line(&out.stderr)["message"], "Postgres is ready");
    // And the command still runs.
    let out = run(&[&url(&db), "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn help_is_short_and_shows_the_defaults() {
    let long = cmd("pg-wait").arg("--help").succeeds();
    let short = cmd("pg-wait").arg("-h").succeeds();
    let text = String::from_utf8_lossy(&short.stdout).into_owned();
    // --help is the short help, then the man page's first examples (issue 21).
    assert!(long.stdout.starts_with(&short.stdout), "{text}");
    assert!(
        String::from_utf8_lossy(&long.stdout[short.stdout.len()..]).starts_with("\nExamples:\n")
    );
    assert!(text.lines().count() < 60, "{text}");
    // Wrapped lines joined again.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for d in [
        "[default: login]",
        "[default: 1s]",
        "[default: 30s]",
        "[default: 0.3]",
        "[default: 60]",
        "[default: 300000]",
        "[default: 5s]",
        "[env: DB_TIMEOUT]",
        "[env: PGCONNECT_TIMEOUT]",
    ] {
        assert!(flat.contains(d), "{d} in --help: {text}");
    }
}

#[test]
fn a_single_probe_does_not_claim_to_retry() {
    let db = fresh_db("wait_once_auth");
    // An unknown role: 28000, which a wait retries with a note saying so.
    let u = server().url(&db).replace("postgres@", "nobody_here@");
    let out = pg_wait().args(["--once", &u]).exits(2);
    let last = last_line(&out.stderr);
    assert_eq!(last["sqlstate"], "28000");
    assert!(last.get("note").is_none(), "{last}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("retrying"));
}

#[test]
fn too_many_connections_53300_is_retried_then_ready() {
    let db = fresh_db("wait_53300");
    let role = format!("limited_role_{}", std::process::id());
    // A role allowed no connection at all: the server answers 53300 "too
    // many connections for role", as it does when max_connections is used up.
    server()
        .execute(
            "postgres",
            &format!("CREATE ROLE \"{role}\" LOGIN NOSUPERUSER CONNECTION LIMIT 0"),
        )
        .unwrap();
    let freer = execute_later(1500, format!("ALTER ROLE \"{role}\" CONNECTION LIMIT -1"));
    let target = format!("postgresql://{role}@127.0.0.1:{}/{db}", server().port());
    let lines = ready_after_retries(&target, freer, "53300");
    let w = warns(&lines);
    assert!(w[0]["delayMs"].is_u64() && w[0]["attempt"] == 1);
}

#[test]
fn exec_replaces_the_process() {
    let db = fresh_db("wait_exec_pid");
    let mut c = std_cmd("pg-wait");
    let child = c
        .env("HOME", empty_home())
        .args([&url(&db), "--", "sh", "-c", "echo $$"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The shell has pg-wait's pid: exec, not a child process, so signals
    // sent to that pid reach the command.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
}

#[test]
fn several_targets_are_probed_concurrently() {
    // Two targets that are both down: probed one after the other, all of the
    // first one's warn lines would come before the second one's first. Probed
    // concurrently, their attempts interleave.
    let (a, b) = (down_url(), down_url());
    let out = pg_wait().args(["--timeout", "1s", &a, &b]).exits(2);
    let lines = json_lines(&out.stderr);
    let targets: Vec<&str> = warns(&lines)
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    let first_b = targets.iter().position(|t| *t == b).unwrap();
    let last_a = targets.iter().rposition(|t| *t == a).unwrap();
    assert!(first_b < last_a, "interleaved: {targets:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["notReady"].as_array().unwrap().len(), 2);
}
