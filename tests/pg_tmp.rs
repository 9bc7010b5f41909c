//! pg-tmp's throwaway servers end to end: start/stop/env/run, signals,
//! --ttl, --tls, --password, -c, --pg-version, missing binaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use pgkit::conn::{Env, Settings};
use predicates::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A started server as `pg-tmp start` reports it.
struct Started {
    url: String,
    dir: PathBuf,
    port: u16,
    summary: Value,
    stderr: String,
}

/// A failed test must not leave its server running.
impl Drop for Started {
    fn drop(&mut self) {
        if self.dir.exists() {
            let _ = cmd("pg-tmp")
                .args(["stop", "--dir"])
                .arg(&self.dir)
                .output();
        }
    }
}

fn start(args: &[&str]) -> Started {
    let out = cmd("pg-tmp").arg("start").args(args).succeeds();
    let summary = last_line(&out.stderr);
    assert_eq!(summary["message"], "Server started", "{summary}");
    assert_eq!(summary["exitCode"], 0);
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    Started {
        url,
        dir: PathBuf::from(summary["dir"].as_str().unwrap()),
        port: summary["port"].as_u64().unwrap() as u16,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        summary,
    }
}

fn stop_dir(dir: &Path) {
    cmd("pg-tmp")
        .args(["stop", "--dir"])
        .arg(dir)
        .assert()
        .success();
}

/// Settings for a URL with nothing from the environment.
fn settings(url: &str) -> Settings {
    let args = pgkit::conn::ConnArgs {
        dsn: Some(url.to_string()),
        ..Default::default()
    };
    Settings::resolve_with(&args, "test", &Env::default()).unwrap()
}

fn query_one(url: &str, sql: &str) -> String {
    let mut c = settings(url).connect().unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

fn psql(url: &str, sql: &str) -> std::process::Output {
    let mut c = Command::new("psql");
    for v in cleared_vars() {
        c.env_remove(v);
    }
    c.env("HOME", empty_home())
        .args(["-X", "-tA", "-c", sql, url])
        .output()
        .unwrap()
}

/// Whether the test runs as root; otherwise notes on stderr that the check
/// is skipped, and `why`.
fn running_as_root(why: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("note: not root, {why}; check skipped");
    }
    root
}

#[test]
fn start_prints_a_url_and_stop_by_url_deletes_everything() {
    let s = start(&[]);
    assert!(
        s.url.starts_with("postgresql://postgres@127.0.0.1:"),
        "{}",
        s.url
    );
    // A plain URL: nothing in it overrides a client's own settings (its
    // application_name, above all).
    assert_eq!(
        s.url,
        format!("postgresql://postgres@127.0.0.1:{}/postgres", s.port)
    );
    assert_eq!(query_one(&s.url, "SELECT current_user::text"), "postgres");
    // fsync is off: a throwaway server trades durability for speed.
    assert_eq!(query_one(&s.url, "SHOW fsync"), "off");
    assert!(s.dir.join("pgkit-server.json").is_file());
    // The state file holds the URL (and a password when there is one): 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.dir.join("pgkit-server.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(s.summary["socketDir"].as_str().unwrap().ends_with("/sock"));
    // pg-tmp has exited; the server is still running.
    assert!(port_open(s.port));

    let out = cmd("pg-tmp").args(["stop", &s.url]).succeeds();
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Server stopped and deleted");
    assert_eq!(last["wasRunning"], true);
    assert_eq!(last["exitCode"], 0);
    assert!(!s.dir.exists(), "directory deleted");
    assert!(!port_open(s.port), "port closed");

    // Stopping it again: nothing is known on that port any more (66).
    let out = cmd("pg-tmp").args(["stop", &s.url]).exits(66);
    let last = last_line(&out.stderr);
    assert_eq!(last["level"], "error");
    assert!(last["suggestion"].as_str().unwrap().contains("--dir"));
}

#[test]
fn stop_keep_keeps_the_directory_and_start_dir_brings_it_back() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("srv");
    let s = start(&["--dir", dir.to_str().unwrap()]);
    assert_eq!(s.dir, dir);
    psql(
        &s.url,
        "CREATE TABLE kept(x int); INSERT INTO kept VALUES (42)",
    );

    let out = cmd("pg-tmp")
        .args(["stop", "--keep", "--dir"])
        .arg(&dir)
        .succeeds();
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Server stopped, directory kept"
    );
    assert!(dir.join("data").join("PG_VERSION").is_file());
    assert!(!port_open(s.port));

    // The kept directory still claims its port: no other server gets it,
    // and nothing is made (75, naming the directory to stop).
    let other = parent.path().join("other");
    let port = s.port.to_string();
    let out = cmd("pg-tmp")
        .args(["start", "--port", &port, "--dir"])
        .arg(&other)
        .exits(75);
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "The port belongs to another pg-tmp server");
    assert_eq!(last["exitCode"], 75);
    assert_eq!(last["port"], s.port);
    assert_eq!(last["claimingDir"], dir.display().to_string());
    assert!(
        last["suggestion"]
            .as_str()
            .unwrap()
            .contains(&format!("pg-tmp stop --dir {}", dir.display())),
        "{last}"
    );
    assert!(!other.exists(), "nothing made");

    // start --dir on a kept server starts it again, same URL, same data.
    let out = cmd("pg-tmp").args(["start", "--dir"]).arg(&dir).succeeds();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), s.url);
    assert_eq!(last_line(&out.stderr)["message"], "Server running");
    assert_eq!(query_one(&s.url, "SELECT x::text FROM kept"), "42");

    stop_dir(&dir);
    assert!(!dir.exists());
    assert!(!port_open(s.port));
}

#[test]
fn start_dir_refuses_a_foreign_non_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let out = cmd("pg-tmp")
        .args(["start", "--dir"])
        .arg(dir.path())
        .exits(64);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "The --dir directory is not empty"
    );
    assert!(dir.path().join("precious.txt").is_file());
}

#[test]
fn stop_refuses_remote_urls_and_unknown_dirs() {
    let out = cmd("pg-tmp")
        .args(["stop", "postgresql://u@db.example.com:5432/x"])
        .exits(64);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Not a local pg-tmp server"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = cmd("pg-tmp")
        .args(["stop", "--dir"])
        .arg(dir.path())
        .exits(66);
    assert_eq!(last_line(&out.stderr)["exitCode"], 66);
    // Neither a URL nor --dir: usage.
    cmd("pg-tmp").arg("stop").assert().code(64);
}

#[test]
fn env_prints_exports_that_eval_reaches_the_server_with() {
    let s = start(&[]);
    let out = cmd("pg-tmp").args(["env", &s.url]).succeeds();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("export PGHOST=127.0.0.1\n"), "{text}");
    assert!(text.contains(&format!("export PGPORT={}\n", s.port)));
    assert!(text.contains("export PGUSER=postgres\n"));
    assert!(text.contains("export PGDATABASE=postgres\n"));
    // The URL sets no application_name: the client names itself.
    assert!(text.contains("unset PGAPPNAME\n"), "{text}");
    // Stale variables from an earlier eval are cleared.
    assert!(text.contains("unset PGPASSWORD\n"));
    assert!(
        out.stderr.is_empty()
            || json_lines(&out.stderr)
                .iter()
                .all(|l| l["level"] != "error")
    );
    // eval'd in a shell, psql reaches the server with no other setting.
    let sh = Command::new("sh")
        .env_remove("DATABASE_URL")
        .env("PGPASSWORD", "stale")
        .arg("-c")
        .arg(format!(
            "eval \"$({} env '{}')\" && psql -X -tA -c 'SELECT current_database()'",
            bin_path("pg-tmp").display(),
            s.url
        ))
        .output()
        .unwrap();
    assert_success(&sh);
    assert_eq!(String::from_utf8_lossy(&sh.stdout).trim(), "postgres");
    stop_dir(&s.dir);
}

#[test]
fn env_quotes_values_for_the_shell() {
    let out = cmd("pg-tmp")
        .args([
            "env",
            "postgresql://al%20ice:p%27w%24x@db.example.com:6543/my%20db?sslmode=verify-full",
        ])
        .succeeds();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("export PGUSER='al ice'\n"), "{text}");
    assert!(text.contains("export PGPASSWORD='p'\\''w$x'\n"), "{text}");
    assert!(text.contains("export PGSSLMODE=verify-full\n"));
    // The password is data on stdout, never in a log line; the run ends with
    // its summary line.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("w$x"));
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Environment printed");
    assert_eq!(last["variables"], 6);
    assert_eq!(last["exitCode"], 0);
    assert!(last["durationMs"].is_u64());
    let sh = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{text}\nprintf '%s|%s|%s' \"$PGUSER\" \"$PGPASSWORD\" \"$PGDATABASE\""
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&sh.stdout), "al ice|p'w$x|my db");
    // A malformed URL is a configuration error.
    cmd("pg-tmp").args(["env", "mysql://x"]).assert().code(78);
    // Without an argument, DATABASE_URL is the URL.
    cmd("pg-tmp")
        .env("DATABASE_URL", "postgresql://bob@h:7/d")
        .arg("env")
        .assert()
        .success()
        .stdout(
            predicates::str::contains("export PGUSER=bob\nexport PGPASSWORD")
                .not()
                .and(predicates::str::contains("export PGPORT=7\n")),
        );
    cmd("pg-tmp").arg("env").assert().code(64);
}

/// The `Server started` line of a `run`.
fn started_line(stderr: &[u8]) -> Value {
    json_lines(stderr)
        .into_iter()
        .find(|l| l["message"] == "Server started")
        .expect("a Server started line")
}

#[test]
fn run_exits_with_the_command_code_and_cleans_up() {
    let out = cmd("pg-tmp")
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "psql -X -tA -c 'SELECT 41+1' && exit 7",
        ])
        .exits(7);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    let started = started_line(&out.stderr);
    let dir = PathBuf::from(started["dir"].as_str().unwrap());
    let port = started["port"].as_u64().unwrap() as u16;
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Command failed");
    assert_eq!(last["exitCode"], 7);
    assert!(last["durationMs"].is_u64());
    assert!(!dir.exists(), "directory deleted");
    assert!(!port_open(port), "port closed");
}

#[test]
fn run_sets_database_url_and_the_pg_variables() {
    let out = cmd("pg-tmp")
        .env("PGHOSTADDR", "10.255.255.1")
        .env("PGSERVICE", "nowhere")
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo \"$DATABASE_URL|$PGHOST|$PGPORT|$PGUSER|$PGDATABASE|$PGSSLMODE|${PGPASSWORD-unset}|${PGHOSTADDR-unset}|${PGSERVICE-unset}\"",
        ])
        .succeeds();
    let port = started_line(&out.stderr)["port"].as_u64().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "postgresql://postgres@127.0.0.1:{port}/postgres|127.0.0.1|{port}|postgres|postgres|disable|unset|unset|unset"
        )
    );
    assert_eq!(last_line(&out.stderr)["message"], "Command succeeded");
    assert_eq!(last_line(&out.stderr)["exitCode"], 0);
}

#[test]
fn run_cleans_up_after_the_command_is_killed() {
    let out = cmd("pg-tmp")
        .args(["run", "--", "sh", "-c", "kill -9 $$"])
        .exits(137);
    let started = started_line(&out.stderr);
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
    assert!(!port_open(started["port"].as_u64().unwrap() as u16));
    assert_eq!(last_line(&out.stderr)["exitCode"], 137);
}

#[test]
fn run_missing_command_is_127_and_cleans_up() {
    let out = cmd("pg-tmp")
        .args(["run", "--", "/no/such/program"])
        .exits(127);
    let started = started_line(&out.stderr);
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
    assert_eq!(last_line(&out.stderr)["exitCode"], 127);
    // No command at all: usage.
    cmd("pg-tmp").arg("run").assert().code(64);
}

/// Spawns `pg-tmp run -- ARGS`, waits for its `Server started` line, sends
/// `sig` to pg-tmp, and returns (exit code, started line, all stderr lines).
fn run_and_signal(args: &[&str], sig: i32) -> (Option<i32>, Value, Vec<Value>) {
    let (mut child, mut reader, lines, started) = spawn_until_started(
        std_cmd("pg-tmp")
            .arg("run")
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    // Give CMD a moment to start (it is spawned right after the line).
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id() as i32, sig);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let all: String = lines.concat() + &rest;
    (status.code(), started, json_lines(all.as_bytes()))
}

#[test]
fn sigint_to_pg_tmp_stops_the_command_and_cleans_up() {
    let (code, started, lines) = run_and_signal(&["sleep", "30"], libc::SIGINT);
    // sleep died of the forwarded SIGINT: pg-tmp reports the interruption.
    assert_eq!(code, Some(130));
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
    assert!(!port_open(started["port"].as_u64().unwrap() as u16));
    assert_eq!(lines.last().unwrap()["exitCode"], 130);
}

#[test]
fn sigterm_is_forwarded_and_the_command_code_wins() {
    // CMD handles SIGTERM itself and exits 5: that is the code.
    let (code, started, lines) = run_and_signal(
        // The trap ends the background sleep too: it holds the stderr pipe
        // this test reads to its end (30 s otherwise).
        &[
            "sh",
            "-c",
            "trap 'kill $! 2>/dev/null; exit 5' TERM; sleep 30 & wait",
        ],
        libc::SIGTERM,
    );
    assert_eq!(code, Some(5));
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
    assert_eq!(lines.last().unwrap()["exitCode"], 5);
}

#[test]
fn password_servers_use_scram_and_the_password_stays_off_the_log() {
    let s = start(&["--password"]);
    let pw = {
        let after = s.url.strip_prefix("postgresql://postgres:").unwrap();
        after.split('@').next().unwrap().to_string()
    };
    assert!(pw.len() >= 20, "a long random password: {pw}");
    assert!(!s.stderr.contains(&pw), "password in the log: {}", s.stderr);
    assert_eq!(
        query_one(
            &s.url,
            "SELECT (rolpassword LIKE 'SCRAM-SHA-256$%')::text FROM pg_authid WHERE rolname = 'postgres'"
        ),
        "true"
    );
    // Without the password: refused, over TCP and over the socket.
    let no_pw = format!("postgresql://postgres@127.0.0.1:{}/postgres", s.port);
    let e = settings(&no_pw)
        .connect()
        .err()
        .expect("refused without a password");
    assert!(!e.retryable(), "{e:?}");
    let out = psql(
        &format!(
            "postgresql://postgres@/postgres?host={}&port={}",
            s.summary["socketDir"].as_str().unwrap(),
            s.port
        ),
        "SELECT 1",
    );
    assert!(!out.status.success());
    // With a .pgpass (mode 0600) instead of the password in the URL.
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:{}:*:postgres:{pw}\n", s.port)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new("psql")
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .args(["-X", "-tA", "-c", "SELECT 'via pgpass'", &no_pw])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "via pgpass");
    // After merge: the same through the real pg-wait (its .pgpass reading
    // lives in pgkit::conn, being built on another branch).
    // stop by URL works with the password in it.
    cmd("pg-tmp").args(["stop", &s.url]).assert().success();
    assert!(!s.dir.exists());
}

#[test]
fn tls_servers_require_tls_and_verify_with_the_ca() {
    let s = start(&["--tls"]);
    assert!(s.url.ends_with("?sslmode=require"), "{}", s.url);
    let ca = PathBuf::from(s.summary["caCert"].as_str().unwrap());
    assert!(ca.is_file());
    assert_eq!(
        query_one(
            &s.url,
            "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        "true"
    );
    let out = psql(
        &s.url,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "t");
    // verify-full against the CA pg-tmp reported.
    let full = format!(
        "postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        s.port,
        ca.display()
    );
    let out = psql(&full, "SELECT 'verified'");
    assert_success(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified");
    stop_dir(&s.dir);
}

#[test]
fn run_with_tls_and_password_hands_both_to_the_command() {
    let out = cmd("pg-tmp")
        .args([
            "run",
            "--tls",
            "--password",
            "--",
            "sh",
            "-c",
            "test -n \"$PGPASSWORD\" && test \"$PGSSLMODE\" = require && test -f \"$PGSSLROOTCERT\" && \
             psql -X -tA -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' && \
             psql -X -tA -c 'SELECT 1' \"$DATABASE_URL\"",
        ])
        .succeeds();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "t\n1\n");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains("postgres:"),
        "no URL with a password in the log: {log}"
    );
}

#[test]
fn settings_with_c_reach_the_server_and_bad_ones_are_refused() {
    let s = start(&[
        "-c",
        "work_mem=7MB",
        "-c",
        "search_path=a, b",
        "-c",
        "application_name=it's",
        "-c",
        "cluster_name=x\\y'z",
    ]);
    assert_eq!(query_one(&s.url, "SHOW work_mem"), "7MB");
    assert_eq!(query_one(&s.url, "SHOW search_path"), "a, b");
    assert_eq!(query_one(&s.url, "SHOW cluster_name"), "x\\y'z");
    stop_dir(&s.dir);
    for bad in ["novalue", "port=5", "bad name=1"] {
        let out = cmd("pg-tmp").args(["start", "-c", bad]).exits(64);
        assert_eq!(last_line(&out.stderr)["message"], "Invalid -c setting");
    }
}

#[test]
fn a_server_that_does_not_come_up_is_exit_2_with_its_log() {
    let out = cmd("pg-tmp")
        .args(["start", "-c", "shared_buffers=lots"])
        .exits(2);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "The throwaway server did not start");
    assert!(
        last["error"].as_str().unwrap().contains("shared_buffers"),
        "the log's last lines: {last}"
    );
    assert!(out.stdout.is_empty());
    // A port already taken.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let out = cmd("pg-tmp").args(["start", "--port", &port]).exits(2);
    assert!(last_line(&out.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("in use"));
    cmd("pg-tmp")
        .args(["start", "--port", "http"])
        .assert()
        .code(64);
}

#[test]
fn no_server_binaries_is_127_with_the_package_to_install() {
    let empty = tempfile::tempdir().unwrap();
    for sub in [&["start"][..], &["run", "--", "true"][..]] {
        let out = cmd("pg-tmp")
            .env("PG_BINDIR", empty.path())
            .args(sub)
            .exits(127);
        assert_no_server_binaries(&out.stderr);
    }
    let out = cmd("pg-tmp")
        .args(["start", "--pg-version", "99"])
        .exits(127);
    assert!(last_line(&out.stderr)["suggestion"]
        .as_str()
        .unwrap()
        .contains("postgresql-99"));
}

#[test]
fn pg_version_picks_the_installed_major() {
    let major = pgkit::server::major_of(server().bindir())
        .unwrap()
        .to_string();
    let out = cmd("pg-tmp")
        .args([
            "run",
            "--pg-version",
            &major,
            "--",
            "psql",
            "-X",
            "-tA",
            "-c",
            "SHOW server_version_num",
        ])
        .succeeds();
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim()
        .starts_with(&major));
}

#[test]
fn ttl_stops_an_idle_server_but_not_a_used_one() {
    // Generous waits: the TTL is 2 s, polled every 500 ms.
    let s = start(&["--ttl", "2s"]);
    assert_eq!(s.summary["ttlMs"], 2000);
    let mut c = settings(&s.url).connect().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert!(s.dir.exists(), "a connected server does not expire");
    c.simple_query("SELECT 1").unwrap();
    drop(c);
    let t = Instant::now();
    while s.dir.exists() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!s.dir.exists(), "expired and deleted");
    assert!(!port_open(s.port));
    // The URL is forgotten too.
    cmd("pg-tmp").args(["stop", &s.url]).assert().code(66);
}

/// Issue 16, defect 11: `--ttl 0s` used to print a URL to a server already gone.
#[test]
fn ttl_zero_is_refused_with_64_before_anything_starts() {
    let out = cmd("pg-tmp").args(["start", "--ttl", "0s"]).exits(64);
    assert!(out.stdout.is_empty());
    assert!(last_line(&out.stderr)["message"]
        .as_str()
        .unwrap()
        .contains("--ttl"));
}

#[test]
fn stop_ends_the_ttl_watcher() {
    let s = start(&["--ttl", "1h"]);
    let pid: i32 = std::fs::read_to_string(s.dir.join("ttl-watcher.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signal 0 only checks the process exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
    stop_dir(&s.dir);
    let t = Instant::now();
    // SAFETY: as above.
    while unsafe { libc::kill(pid, 0) } == 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}/cmdline")).exists() || {
            let c = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            !String::from_utf8_lossy(&c).contains("__ttl-watch")
        }
    );
}

#[test]
fn a_killed_pg_tmp_run_still_deletes_its_server() {
    // SIGKILL leaves pg-tmp no chance; the watchdog cleans up (it polls
    // every second: generous wait).
    let mut child = std_cmd("pg-tmp")
        .args(["run", "--", "sleep", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let started: Value = loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0);
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["message"] == "Server started" {
            break v;
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let dir = PathBuf::from(started["dir"].as_str().unwrap());
    let port = started["port"].as_u64().unwrap() as u16;
    let t = Instant::now();
    while (dir.exists() || port_open(port)) && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!dir.exists(), "directory deleted by the watchdog");
    assert!(!port_open(port), "server stopped by the watchdog");
}

#[test]
fn library_passwords_with_any_character_are_set_without_initdb() {
    // The password is set in single-user mode from a Unicode-escaped literal:
    // quotes, backslashes, spaces and non-ASCII all survive.
    let pw = "p'w\"\\ ü;--\u{1F418}";
    let s = server_with_password(pw);
    let mut c = s.settings("postgres").unwrap().connect().unwrap();
    let ok: bool = c
        .query_one(
            "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ok);
    // The same server with a wrong password is refused.
    let wrong = format!("postgresql://postgres:nope@127.0.0.1:{}/postgres", s.port());
    assert!(settings(&wrong).connect().is_err());
    // And the URL the library prints carries it, percent-encoded.
    settings(&s.url("postgres")).connect().unwrap();
}

/// Runs the real pg-wait against `url`; `None` while pg-wait is still the
/// stub of this branch (it is built on another; after merge these checks
/// run for real — then delete this guard).
fn pg_wait(url: &str, extra_env: &[(&str, &Path)]) -> Option<i32> {
    let mut c = cmd("pg-wait");
    c.env("DATABASE_URL", url).env("DB_TIMEOUT", "5s");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    if String::from_utf8_lossy(&out.stderr).contains("not implemented yet") {
        eprintln!("pg-wait is a stub on this branch: check skipped");
        return None;
    }
    out.status.code()
}

#[test]
fn pg_wait_reaches_tls_and_password_servers() {
    let tls = start(&["--tls", "--password"]);
    if let Some(code) = pg_wait(&tls.url, &[]) {
        assert_eq!(code, 0, "pg-wait reaches the TLS+SCRAM server by its URL");
        // sslmode=verify-full with the CA pg-tmp reported.
        let ca = PathBuf::from(tls.summary["caCert"].as_str().unwrap());
        let full = format!(
            "{}&sslrootcert={}",
            tls.url
                .replace("sslmode=require", "sslmode=verify-full")
                .replace("127.0.0.1", "localhost"),
            ca.display()
        );
        assert_eq!(pg_wait(&full, &[]), Some(0));
        // The password from .pgpass instead of the URL.
        let pw = tls.url.strip_prefix("postgresql://postgres:").unwrap();
        let pw = pw.split('@').next().unwrap();
        let home = tempfile::tempdir().unwrap();
        let pgpass = home.path().join(".pgpass");
        std::fs::write(&pgpass, format!("127.0.0.1:{}:*:postgres:{pw}\n", tls.port)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let no_pw = tls.url.replace(&format!(":{pw}@"), "@");
        assert_eq!(pg_wait(&no_pw, &[("PGPASSFILE", &pgpass)]), Some(0));
    }
}

#[test]
fn start_to_a_closed_stdout_still_says_where_its_server_is() {
    let mut c = std_cmd("pg-tmp");
    let out = c
        .env("HOME", empty_home())
        .arg("start")
        .stdout(closed_stdout())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The summary line names the directory, so the server can be stopped.
    let summary = last_line(&out.stderr);
    assert_eq!(summary["message"], "Server started");
    let dir = PathBuf::from(summary["dir"].as_str().unwrap());
    let port = summary["port"].as_u64().unwrap() as u16;
    assert!(port_open(port));
    stop_dir(&dir);
    assert!(!dir.exists() && !port_open(port));
}

#[test]
fn sigint_while_the_server_starts_is_130_and_leaves_nothing() {
    use std::os::unix::fs::PermissionsExt;
    for delay_ms in [50, 150] {
        let parent = tempfile::tempdir().unwrap();
        // Searchable by the postgres user (the server's owner under root).
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = std_cmd("pg-tmp");
        let child = c
            .env("HOME", empty_home())
            .env("PGKIT_TMPDIR", parent.path())
            .args(["run", "--", "sleep", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Before (or at worst just after) the `Server started` line.
        std::thread::sleep(Duration::from_millis(delay_ms));
        sigint(&child);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "after {delay_ms} ms");
        assert_eq!(last_line(&out.stderr)["exitCode"], 130);
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert!(left.is_empty(), "after {delay_ms} ms: {left:?} left behind");
    }
}

#[test]
fn a_server_directory_the_postgres_user_cannot_reach_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    if !running_as_root("the server runs as this user") {
        return;
    }
    // A directory that is root's alone.
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = cmd("pg-tmp")
        .env("PGKIT_TMPDIR", private.path().join("servers"))
        .args(["run", "--", "true"])
        .exits(78);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "The postgres user cannot reach the server directory"
    );
    assert_eq!(last["path"], private.path().to_str().unwrap());
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("PGKIT_TMPDIR"));
    // Made searchable, the same (not yet existing) PGKIT_TMPDIR works.
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    cmd("pg-tmp")
        .env("PGKIT_TMPDIR", private.path().join("servers"))
        .args(["run", "--", "true"])
        .assert()
        .code(0);
    let left: Vec<_> = std::fs::read_dir(private.path().join("servers"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn repeated_ctrl_c_goes_to_an_interactive_command_which_decides_the_end() {
    // Like psql at a prompt: each SIGINT is handled, and the command carries
    // on and ends by itself (here after ~2 s, with 5).
    let mut c = std_cmd("pg-tmp");
    let mut child = c
        .args(["run", "--", "sh", "-c"])
        .arg(
            "trap 'echo int' INT; i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; exit 5",
        )
        .env("HOME", empty_home())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let started: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(started["message"], "Server started");
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..2 {
        sigint(&child);
        std::thread::sleep(Duration::from_millis(400));
    }
    // pg-tmp is still there after the second Ctrl-C, and so is its server.
    assert!(child.try_wait().unwrap().is_none(), "pg-tmp still runs");
    assert!(port_open(started["port"].as_u64().unwrap() as u16));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "int\nint\n");
    let last = last_line(rest.as_bytes());
    assert_eq!(last["exitCode"], 5);
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
}

#[test]
fn stop_url_trusts_only_our_own_registry_links() {
    use std::os::unix::fs::PermissionsExt;
    if !running_as_root("cannot make another user's link") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let registry = tmp.path().join("pgkit-tmp-registry");
    std::fs::create_dir(&registry).unwrap();
    std::fs::set_permissions(&registry, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // Another user's "server": a state file naming a port and binaries of
    // their choice, and a registry link to it that they own.
    let victim = tmp.path().join("someone-elses-dir");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(
        victim.join("pgkit-server.json"),
        r#"{"port": 1, "bindir": "/nonexistent-bin"}"#,
    )
    .unwrap();
    let link = registry.join("1-someone");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
    let out = cmd("pg-tmp")
        .env("TMPDIR", tmp.path())
        .args(["stop", "postgresql://postgres@127.0.0.1:1/postgres"])
        .exits(66);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "No pg-tmp server known for this URL"
    );
    assert!(victim.join("pgkit-server.json").exists(), "not deleted");
}

/// The postmaster's pid from a server directory's postmaster.pid.
fn postmaster_pid(dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join("data/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[test]
fn stop_by_url_never_reaches_a_newer_server_on_the_same_port() {
    // A, then A goes away behind pg-tmp's back (its postmaster told to shut
    // down directly, as pg_ctl would): its directory stays.
    let a = start(&[]);
    let pid_a = postmaster_pid(&a.dir).unwrap();
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid_a, libc::SIGINT) }, 0);
    let t = Instant::now();
    while (port_open(a.port) || postmaster_pid(&a.dir).is_some())
        && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!port_open(a.port), "A is down");
    assert!(a.dir.exists());

    // A's directory still claims A's port: B gets another one…
    let b = start(&[]);
    assert_ne!(b.port, a.port);
    assert_ne!(b.url, a.url);
    // …and asking for A's port is refused (75), naming A's directory.
    let port = a.port.to_string();
    let out = cmd("pg-tmp").args(["start", "--port", &port]).exits(75);
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "The port belongs to another pg-tmp server");
    assert_eq!(last["claimingDir"], a.dir.display().to_string());
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains(&format!("pg-tmp stop --dir {}", a.dir.display())));
    assert!(!port_open(a.port));

    // A was killed and its pid reused by B's postmaster: A's stale
    // postmaster.pid names B's (the worst case; pg_ctl alone would signal B).
    let pid_b = postmaster_pid(&b.dir).unwrap();
    std::fs::copy(
        b.dir.join("data/postmaster.pid"),
        a.dir.join("data/postmaster.pid"),
    )
    .unwrap();

    // stop with A's URL: A's server is down, so it deletes A's directory and
    // touches nothing else.
    let out = cmd("pg-tmp").args(["stop", &a.url]).succeeds();
    let lines = json_lines(&out.stderr);
    assert!(
        has_message(
            &lines,
            "Stale postmaster.pid: its process is not this server"
        ),
        "{lines:?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Server stopped and deleted");
    assert_eq!(last["wasRunning"], false);
    assert_eq!(last["dir"], a.dir.display().to_string());
    assert!(!a.dir.exists());
    // B still answers, on the same postmaster.
    assert_eq!(query_one(&b.url, "SELECT 'B'::text"), "B");
    assert_eq!(postmaster_pid(&b.dir), Some(pid_b));

    // Again: no directory claims A's port any more (66), nor does A's
    // socket directory name a server; B still answers.
    let out = cmd("pg-tmp").args(["stop", &a.url]).exits(66);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "No pg-tmp server known for this URL");
    assert_eq!(last["exitCode"], 66);
    assert!(last["suggestion"].as_str().unwrap().contains("--dir"));
    let a_sock = format!(
        "postgresql://postgres@/postgres?host={}/sock&port={port}",
        a.dir.display()
    );
    cmd("pg-tmp").args(["stop", &a_sock]).assert().code(66);
    assert_eq!(query_one(&b.url, "SELECT 'B'::text"), "B");

    // A's port is free again once A is deleted.
    let c = start(&["--port", &port]);
    assert_eq!(c.url, a.url);
    cmd("pg-tmp").args(["stop", &c.url]).assert().success();
    assert!(!c.dir.exists());

    // Two directories claiming one port (made by an older pg-tmp, or a
    // race): a URL cannot say which it means, so nothing is stopped (64).
    let registry = std::env::temp_dir().join("pgkit-tmp-registry");
    let twin = tempfile::tempdir().unwrap();
    std::fs::write(
        twin.path().join("pgkit-server.json"),
        format!(r#"{{"port": {}, "bindir": "/nonexistent-bin"}}"#, b.port),
    )
    .unwrap();
    let link = registry.join(format!("{}-test-twin-{}", b.port, std::process::id()));
    std::os::unix::fs::symlink(twin.path(), &link).unwrap();
    let out = cmd("pg-tmp").args(["stop", &b.url]).exits(64);
    std::fs::remove_file(&link).unwrap();
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Several pg-tmp servers claim this port");
    let dirs = last["dirs"].as_array().unwrap();
    assert_eq!(dirs.len(), 2, "{last}");
    assert!(dirs.contains(&Value::from(b.dir.display().to_string())));
    assert!(dirs.contains(&Value::from(twin.path().display().to_string())));
    assert!(last["suggestion"].as_str().unwrap().contains("--dir"));
    assert_eq!(query_one(&b.url, "SELECT 'B'::text"), "B");
    assert!(twin.path().join("pgkit-server.json").exists());

    // B's own URL stops B.
    let out = cmd("pg-tmp").args(["stop", &b.url]).succeeds();
    assert_eq!(last_line(&out.stderr)["wasRunning"], true);
    assert!(!b.dir.exists());
    assert!(!port_open(b.port));
}

/// Live processes whose argv is exactly `argv`.
fn procs_with_argv(argv: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .ok()
                .as_deref()
                == Some(&want[..])
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Issue 16, defect 3: SIGKILL of `pg-tmp run` (it cleans nothing up) takes
/// CMD with it; CMD must not go on against a server nobody owns.
#[test]
fn sigkill_of_pg_tmp_run_takes_the_command_with_it() {
    // An argv no other process has (a failed earlier run may leave one).
    let secs = format!("3{:06}", std::process::id());
    let argv = ["sleep", secs.as_str()];
    let (mut child, _stderr, _, started) = spawn_until_started(
        std_cmd("pg-tmp")
            .arg("run")
            .arg("--")
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    // What a SIGKILL leaves (the server) is for `stop --dir`, even when an
    // assertion fails.
    let server = Started {
        url: String::new(),
        dir: PathBuf::from(started["dir"].as_str().unwrap()),
        port: 0,
        summary: started,
        stderr: String::new(),
    };
    wait_for("CMD to start", 10, || procs_with_argv(&argv).len() == 1);
    let cmd_pid = procs_with_argv(&argv)[0];
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        !alive(cmd_pid)
    });
    if !gone {
        signal(cmd_pid, libc::SIGKILL);
    }
    assert!(gone, "CMD outlived pg-tmp run");
    stop_dir(&server.dir);
    assert!(!server.dir.exists());
}
