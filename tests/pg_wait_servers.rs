//! pg-wait against servers of its own: started late, restarted mid-wait,
//! password (SCRAM), TLS, and a real hot standby promoted mid-wait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wait::*;
use common::*;
use pgkit::server::{Options, TempServer};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn spawn(args: &[&str]) -> Child {
    spawn_pg_wait(&[&["--interval", "100ms", "--max-interval", "300ms"], args].concat())
}

#[test]
fn server_started_late_is_waited_for() {
    let srv = TempServer::create(Options::default()).unwrap();
    let child = spawn(&["--timeout", "60s", &srv.url("postgres")]);
    std::thread::sleep(Duration::from_millis(2500));
    srv.start_server().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert!(w.len() >= 3, "retried while down");
    assert!(w[0]["error"].as_str().unwrap().contains("refused"));
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Postgres is ready");
    assert_eq!(last["attempts"], w.len() as u64 + 1);
}

#[test]
fn server_restarted_mid_wait_and_ping_noise_check() {
    let srv = TempServer::start(Options::default()).unwrap();
    srv.create_database("app").unwrap();
    let child = spawn(&[
        "--timeout",
        "60s",
        "--until-sql",
        "SELECT count(*) FROM ready_marker",
        &srv.url("app"),
    ]);
    std::thread::sleep(Duration::from_millis(800));
    srv.stop_server().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    srv.start_server().unwrap();
    srv.execute("app", "CREATE TABLE ready_marker AS SELECT 1 AS x")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert_eq!(w[0]["sqlstate"], "42P01");
    assert!(
        w.iter()
            .any(|l| l["error"].as_str().unwrap().contains("refused")),
        "an attempt while the server was down"
    );
    assert_eq!(lines.last().unwrap()["message"], "Postgres is ready");

    // The log check the other tests rely on does see a FATAL line: a ping for
    // a role that does not exist (trust) gets one, as with pg_isready.
    srv.create_database("ghostdb").unwrap();
    pg_wait()
        .args([
            "--check",
            "ping",
            &format!("postgresql://ghost@127.0.0.1:{}/ghostdb", srv.port()),
        ])
        .assert()
        .code(0);
    let log = srv.log();
    assert!(
        log.lines()
            .any(|l| l.contains("FATAL") && l.contains("ghost")),
        "{log}"
    );
}

#[test]
fn password_server_wrong_password_until_the_deadline() {
    let pw = "Sup3r-s3cret-pw";
    let srv = server_with_password(pw);
    srv.create_database("pingdb").unwrap();
    let wrong = "wr0ng-pa55word";
    let target = format!(
        "postgresql://postgres:{wrong}@127.0.0.1:{}/postgres",
        srv.port()
    );
    let out = pg_wait()
        .args(["--timeout", "1500ms", "--json", &target])
        .exits(2);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(wrong) && !all.contains(pw), "{all}");
    assert!(all.contains("[REDACTED]"));
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert!(!w.is_empty());
    assert_eq!(w[0]["sqlstate"], "28P01");
    assert!(w[0]["note"].is_string());
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Postgres readiness timeout after 1500ms");
    assert_eq!(last["exitCode"], 2);
    assert_eq!(last["sqlstate"], "28P01");
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("password authentication failed"));
    assert!(last["suggestion"].as_str().unwrap().contains("password"));

    // The right password: ready, and still no password anywhere.
    let out = pg_wait().args(["--json", &srv.url("postgres")]).exits(0);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(pw), "{all}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["ready"], true);
    assert!(result["target"].as_str().unwrap().contains("[REDACTED]"));
    // PGPASSWORD over the socket, too.
    pg_wait().envs(srv.socket_env("postgres")).assert().code(0);

    // No password set at all: a configuration error, not a wait.
    let out = pg_wait()
        .arg(format!(
            "postgresql://postgres@127.0.0.1:{}/postgres",
            srv.port()
        ))
        .exits(78);
    assert!(last_line(&out.stderr)["suggestion"]
        .as_str()
        .unwrap()
        .contains("PGPASSWORD"));

    // A healthy login leaves nothing in the log either.
    let good = srv.url("pingdb");
    pg_wait().arg(&good).assert().code(0);
    cmd("pg-wait")
        .args(["--healthcheck", &good])
        .assert()
        .code(0)
        .stderr("");
    // ping needs no credentials, and leaves nothing in the log for a role
    // that exists: it closes at the SCRAM request.
    for t in [
        format!("postgresql://postgres@127.0.0.1:{}/pingdb", srv.port()),
        format!(
            "postgresql://postgres:{wrong}@127.0.0.1:{}/pingdb",
            srv.port()
        ),
    ] {
        pg_wait().args(["--check", "ping", &t]).assert().code(0);
        pg_wait()
            .args(["--healthcheck", "--check", "ping", &t])
            .assert()
            .code(0);
    }
    assert_no_log_line_about(&srv, "pingdb");
}

#[test]
fn tls_targets_and_tls_required_with_sslmode_disable_is_78() {
    let pw = "tls-pa55";
    let srv = TempServer::start(Options {
        tls: true,
        require_tls: true,
        password: Some(pw.into()),
        ..Options::default()
    })
    .unwrap();
    srv.create_database("tlsping").unwrap();
    let base = srv.url("postgres");
    let ca = srv.ca_cert().unwrap();
    for q in [
        "?sslmode=require".to_string(),
        format!("?sslmode=verify-ca&sslrootcert={}", ca.display()),
    ] {
        let out = pg_wait().arg(format!("{base}{q}")).exits(0);
        assert_eq!(last_line(&out.stderr)["message"], "Postgres is ready");
    }
    // ping negotiates TLS as libpq does (prefer by default): a hostssl-only
    // server answers, and logs nothing for a role that exists.
    let ping_base = srv.url("tlsping");
    for q in [
        "".to_string(),
        "?sslmode=require".to_string(),
        format!("?sslmode=verify-ca&sslrootcert={}", ca.display()),
    ] {
        pg_wait()
            .args(["--check", "ping", &format!("{ping_base}{q}")])
            .assert()
            .code(0);
    }
    assert_no_log_line_about(&srv, "tlsping");
    // A certificate that does not verify cannot change by waiting: 78.
    // (The system's CAs did not sign the throwaway server's certificate.)
    for check in ["ping", "login"] {
        let out = pg_wait()
            .args([
                "--check",
                check,
                &format!("{ping_base}?sslmode=verify-ca&sslrootcert=system"),
            ])
            .exits(78);
        assert_eq!(json_lines(&out.stderr).len(), 1, "no retries ({check})");
    }
    // Unix socket: no TLS there, as libpq.
    pg_wait()
        .envs(srv.socket_env("postgres"))
        .arg("--once")
        .assert()
        .code(0);
    // sslmode=disable against hostssl-only: cannot change by waiting.
    let out = pg_wait().args(["--sslmode", "disable", &base]).exits(78);
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "no retries");
    assert_eq!(lines[0]["exitCode"], 78);
    assert!(lines[0]["suggestion"]
        .as_str()
        .unwrap()
        .contains("sslmode=require"));
}

#[test]
fn primary_waits_for_a_standby_to_be_promoted() {
    // A real hot standby: a data directory started with standby.signal and
    // nothing to replay stays in recovery, read-only, until promoted.
    let srv = TempServer::create(Options::default()).unwrap();
    std::fs::write(srv.data_dir().join("standby.signal"), "").unwrap();
    srv.start_server().unwrap();
    let url = srv.url("postgres");
    // A standby accepts logins: the login check alone says ready...
    pg_wait().args(["--once", &url]).assert().code(0);
    // ...--primary does not.
    let out = pg_wait().args(["--once", "--primary", &url]).exits(2);
    assert!(last_line(&out.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("in recovery"));
    let child = spawn(&["--primary", "--timeout", "60s", &url]);
    std::thread::sleep(Duration::from_millis(1500));
    srv.execute("postgres", "SELECT pg_promote()").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert!(!w.is_empty());
    assert!(w[0]["error"].as_str().unwrap().contains("in recovery"));
    assert_eq!(lines.last().unwrap()["message"], "Postgres is ready");
}

/// Runs pg_ctl on a throwaway server's data directory, as the server's owner
/// (the `postgres` user when we are root).
fn pg_ctl(srv: &TempServer, args: &[&str]) {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(srv.bindir().join("pg_ctl"));
    c.arg("-D")
        .arg(srv.data_dir())
        .arg("-l")
        .arg(srv.log_path())
        .args(args)
        .current_dir(srv.base_dir())
        .stdout(Stdio::null());
    for v in ["PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"] {
        c.env_remove(v);
    }
    // SAFETY: geteuid has no preconditions; getpwnam's record is read at once.
    if unsafe { libc::geteuid() } == 0 {
        let name = std::ffi::CString::new("postgres").unwrap();
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        assert!(!pw.is_null());
        let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
        c.uid(uid).gid(gid);
    }
    assert!(c.status().unwrap().success(), "pg_ctl {args:?}");
}

#[test]
fn starting_up_57p03_is_not_ready_for_ping_and_login() {
    // A standby with hot_standby=off answers every connection with 57P03
    // ("the database system is not accepting connections") until promoted:
    // what pg_isready calls PQPING_REJECT.
    let srv = TempServer::create(Options {
        config: vec![("hot_standby".into(), "off".into())],
        ..Options::default()
    })
    .unwrap();
    std::fs::write(srv.data_dir().join("standby.signal"), "").unwrap();
    pg_ctl(&srv, &["-W", "start"]);
    let url = srv.url("postgres");
    // The port accepts connections...
    pg_wait()
        .args(["--check", "tcp", "--timeout", "30s", &url])
        .assert()
        .code(0);
    // ...but the server is not ready, for ping and for login.
    for check in ["ping", "login"] {
        let out = pg_wait().args(["--once", "--check", check, &url]).exits(2);
        let last = last_line(&out.stderr);
        assert_eq!(last["sqlstate"], "57P03", "{check}: {last}");
        assert_eq!(last["message"], "Postgres is not ready");
    }
    cmd("pg-wait")
        .args(["--healthcheck", "--check", "ping", &url])
        .assert()
        .code(1);
    let child = spawn(&["--check", "ping", "--timeout", "60s", &url]);
    std::thread::sleep(Duration::from_millis(1000));
    pg_ctl(&srv, &["-w", "promote"]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stderr);
    let w = warns(&lines);
    assert!(!w.is_empty());
    assert_eq!(w[0]["sqlstate"], "57P03");
    assert_eq!(lines.last().unwrap()["message"], "Postgres is ready");
}

#[test]
fn a_password_with_special_characters_works_and_never_shows_from_url_env_or_pgpass() {
    use std::os::unix::fs::PermissionsExt;
    let pw = "p@s s:w/o\"rd'x\\y%z#?&";
    let srv = server_with_password(pw);
    let port = srv.port().to_string();
    let enc = pgkit::redact::percent_encode;
    let escaped = pw.replace('\\', "\\\\").replace(':', "\\:");
    // Every form the password takes on the way in.
    let forms = |p: &str| {
        vec![
            p.to_string(),
            enc(p),
            p.replace('\\', "\\\\").replace(':', "\\:"),
        ]
    };
    let check = |out: &std::process::Output, secrets: &[String]| {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for s in secrets {
            assert!(!all.contains(s.as_str()), "{s:?} shown: {all}");
        }
        json_lines(&out.stderr);
    };
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:*:postgres:{escaped}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bare = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let in_url = format!(
        "postgresql://postgres:{}@127.0.0.1:{port}/postgres",
        enc(pw)
    );
    let wrong = format!("{pw}!");
    let wrong_url = format!(
        "postgresql://postgres:{}@127.0.0.1:{port}/postgres",
        enc(&wrong)
    );
    let secrets: Vec<String> = forms(pw).into_iter().chain(forms(&wrong)).collect();
    for (name, mut c, code) in [
        ("url", pg_wait(), 0),
        ("PGPASSWORD", pg_wait(), 0),
        (".pgpass", pg_wait(), 0),
        ("wrong url", pg_wait(), 2),
        ("wrong PGPASSWORD", pg_wait(), 2),
    ] {
        c.env("LOG_LEVEL", "debug").arg("--json");
        match name {
            "url" => c.arg(&in_url),
            "PGPASSWORD" => c.env("PGPASSWORD", pw).arg(&bare),
            ".pgpass" => c.env("HOME", home.path()).arg(&bare),
            "wrong url" => c.args(["--timeout", "500ms", &wrong_url]),
            _ => c
                .env("PGPASSWORD", &wrong)
                .args(["--timeout", "500ms", &bare]),
        };
        let out = c.exits(code);
        check(&out, &secrets);
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["ready"], code == 0, "{name}");
    }
}
