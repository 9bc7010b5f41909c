//! pgkit's connection settings against the real thing: for each environment,
//! `psql` (the system libpq 15) and pgkit (`Settings::resolve_with` on the
//! same variables, then `connect`) must reach the same server as the same
//! user over the same transport, or both must fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::conn::*;
use common::*;

use pgkit::conn::ErrorKind;
use pgkit::server::{Options, TempServer};
use pgkit::Exit;
use std::path::Path;
use std::sync::OnceLock;

/// A password with every character a URL or .pgpass line must escape.
const PASSWORD: &str = r"s3cr@t:/%\pw";

/// A SCRAM server that also offers (but does not require) TLS.
fn pw_server() -> &'static TempServer {
    static S: OnceLock<TempServer> = OnceLock::new();
    S.get_or_init(|| {
        TempServer::start(Options {
            password: Some(PASSWORD.into()),
            tls: true,
            ..Default::default()
        })
        .expect("start the password server")
    })
}

/// A trust server that accepts TCP connections over TLS only.
fn tls_server() -> &'static TempServer {
    static S: OnceLock<TempServer> = OnceLock::new();
    S.get_or_init(|| {
        TempServer::start(Options {
            tls: true,
            require_tls: true,
            ..Default::default()
        })
        .expect("start the TLS server")
    })
}

fn port_s(s: &TempServer) -> String {
    s.port().to_string()
}

fn sock(s: &TempServer) -> String {
    s.socket_dir().display().to_string()
}

fn row(user: &str, db: &str, s: &TempServer, addr: &str, ssl: &str) -> String {
    format!("{user}|{db}|{}|{addr}|{ssl}", s.port())
}

fn ipv6_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn socket_and_tcp_hosts() {
    let s = server();
    let db = fresh_db("conn");
    let (sock, port) = (sock(s), port_s(s));
    let base = [
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.as_str()),
    ];
    let with = |host: &str| {
        let mut v = base.to_vec();
        v.push(("PGHOST", host));
        Case::new(&v)
    };
    assert_eq!(
        with(&sock).both_ok("PGHOST=socket dir"),
        row("postgres", &db, s, "socket", "false")
    );
    assert_eq!(
        with("127.0.0.1").both_ok("PGHOST=127.0.0.1"),
        row("postgres", &db, s, "127.0.0.1", "false")
    );
    // localhost resolves to several addresses; both try them in the same order.
    with("localhost").both_ok("PGHOST=localhost");
    // Host lists: the first that answers wins.
    let list = format!("/nonexistent-pgkit-dir,{sock}");
    assert_eq!(
        with(&list).both_ok("host list, first is a missing socket dir"),
        row("postgres", &db, s, "socket", "false")
    );
    let mut v = base.to_vec();
    let ports = format!("1,{port}");
    v.retain(|(k, _)| *k != "PGPORT");
    v.push(("PGHOST", "127.0.0.1,127.0.0.1"));
    v.push(("PGPORT", &ports));
    Case::new(&v).both_ok("per-host ports");
    // hostaddr: connect to the address, keep the name.
    Case::new(&base)
        .dsn("host=localhost hostaddr=127.0.0.1")
        .both_ok("host + hostaddr");
    // Nothing listens there.
    let mut v = base.to_vec();
    v.push(("PGHOST", "127.0.0.1"));
    v[0] = ("PGPORT", "1");
    let c = Case::new(&v);
    c.both_fail("refused");
    assert_eq!(c.connect_err().kind, ErrorKind::Refused);
    let mut v = base.to_vec();
    v.push(("PGHOST", "/nonexistent-pgkit-dir"));
    let c = Case::new(&v);
    c.both_fail("missing socket");
    assert_eq!(c.connect_err().kind, ErrorKind::Refused);
}

#[test]
fn libpq_defaults_user_and_database() {
    let s = server();
    let me = pgkit::conn::os_user_name();
    let q = |x: &str| format!("\"{}\"", x.replace('"', "\"\""));
    let _ = s.execute(
        "postgres",
        &format!("CREATE ROLE {} LOGIN SUPERUSER", q(&me)),
    );
    let _ = s.execute("postgres", &format!("CREATE DATABASE {}", q(&me)));
    let (sock, port) = (sock(s), port_s(s));
    assert_eq!(
        Case::new(&[("PGHOST", &sock), ("PGPORT", &port)]).both_ok("default user and dbname"),
        row(&me, &me, s, "socket", "false")
    );
}

#[test]
fn precedence_dsn_service_env() {
    let s = server();
    let (a, b, c) = (fresh_db("prec"), fresh_db("prec"), fresh_db("prec"));
    let (sock, port) = (sock(s), port_s(s));
    let env = [
        ("PGHOST", sock.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", a.as_str()),
    ];
    // The DSN beats the environment.
    let conninfo = format!("dbname={b}");
    assert_eq!(
        Case::new(&env).dsn(&conninfo).both_ok("conninfo over env"),
        row("postgres", &b, s, "socket", "false")
    );
    // DATABASE_URL (pgkit) = psql -d URL; an empty path keeps PGDATABASE.
    let url = format!("postgresql://postgres@127.0.0.1:{port}");
    assert_eq!(
        Case::new(&env)
            .database_url(&url)
            .both_ok("URL without a path"),
        row("postgres", &a, s, "127.0.0.1", "false")
    );
    let url = format!(
        "postgresql:///{c}?host={}&port={port}",
        sock.replace('/', "%2F")
    );
    assert_eq!(
        Case::new(&env)
            .database_url(&url)
            .both_ok("URL with the socket in the query"),
        row("postgres", &c, s, "socket", "false")
    );
    // An empty value in the DSN still counts as set: host='' means the
    // default host, not PGHOST. libpq's default is /var/run/postgresql
    // (nothing there: psql fails); pgkit's documented default goes on to
    // localhost when no default socket exists, which reaches the server
    // over TCP. Neither uses PGHOST's socket.
    let conninfo = format!("host='' port={port} dbname={b}");
    let empty = Case::new(&env).dsn(&conninfo);
    if !Path::new(&format!("/var/run/postgresql/.s.PGSQL.{port}")).exists() {
        assert!(empty.psql().unwrap_err().contains("/var/run/postgresql"));
        let got = empty.pgkit().unwrap();
        assert!(!got.contains("|socket|"), "{got}");
    }

    // Service file: fills what the DSN leaves, beats the environment.
    let case = Case::new(&env);
    let svc = case.home_file(
        "svc.conf",
        &format!("# services\n[other]\ndbname=nope\n\n[pgkit]\nhost={sock}\nport={port}\ndbname={b}\nuser=postgres\n"),
        0o644,
    );
    let mut v = env.to_vec();
    v[0] = ("PGHOST", "127.0.0.1");
    v.push(("PGSERVICEFILE", &svc));
    let mut with_service = v.clone();
    with_service.push(("PGSERVICE", "pgkit"));
    let mut c1 = Case::new(&with_service);
    c1.home = case.home;
    assert_eq!(
        c1.both_ok("PGSERVICE over PG* vars"),
        row("postgres", &b, s, "socket", "false")
    );
    let conninfo = format!("service=pgkit dbname={c}");
    let c2 = Case::new(&v).dsn(&conninfo);
    assert_eq!(
        c2.both_ok("service= in the DSN, dbname from the DSN"),
        row("postgres", &c, s, "socket", "false")
    );
    // PGSYSCONFDIR/pg_service.conf when the user file lacks the service.
    let sys = tempfile::tempdir().unwrap();
    std::fs::write(
        sys.path().join("pg_service.conf"),
        format!("[sys]\nhost={sock}\nport={port}\ndbname={a}\nuser=postgres\n"),
    )
    .unwrap();
    let sysdir = sys.path().display().to_string();
    let mut v3 = v.clone();
    v3.push(("PGSYSCONFDIR", &sysdir));
    v3.push(("PGSERVICE", "sys"));
    assert_eq!(
        Case::new(&v3).both_ok("PGSYSCONFDIR service"),
        row("postgres", &a, s, "socket", "false")
    );
    // A service defined nowhere: both fail; pgkit with exit 78.
    let mut v4 = v.clone();
    v4.push(("PGSYSCONFDIR", &sysdir));
    v4.push(("PGSERVICE", "nowhere"));
    let c4 = Case::new(&v4);
    let psql_err = c4.both_fail("missing service");
    assert!(psql_err.contains("definition of service \"nowhere\" not found"));
    let e = c4.settings().unwrap_err();
    assert_eq!(e.code, Exit::Config);
    assert!(e
        .error
        .unwrap()
        .contains("definition of service \"nowhere\" not found"));
}

#[test]
fn options_application_name_and_session_attrs() {
    let s = server();
    let db = fresh_db("opts");
    let (sock, port) = (sock(s), port_s(s));
    let env = [
        ("PGHOST", sock.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.as_str()),
        ("PGOPTIONS", "-c search_path=pgkit_x -c work_mem=7MB"),
        ("PGAPPNAME", "my app"),
    ];
    assert_eq!(
        Case::new(&env)
            .query("select current_setting('search_path'), current_setting('work_mem'), current_setting('application_name')")
            .both_ok("PGOPTIONS and PGAPPNAME"),
        "pgkit_x|7MB|my app"
    );
    // Without PGAPPNAME, pgkit names itself (psql says "psql").
    let c = Case::new(&env[..4]);
    let mut client = c.connect().unwrap();
    let name: String = client
        .query_one("select current_setting('application_name')", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "pgkit-test");
    // target_session_attrs on a primary.
    for (attrs, ok) in [
        ("any", true),
        ("read-write", true),
        ("primary", true),
        ("prefer-standby", true),
        ("read-only", false),
        ("standby", false),
    ] {
        let mut v = env[..4].to_vec();
        v.push(("PGTARGETSESSIONATTRS", attrs));
        let c = Case::new(&v);
        if ok {
            c.both_ok(attrs);
        } else {
            c.both_fail(attrs);
        }
    }
    // Bad values: both refuse, pgkit with 78.
    for (k, v) in [
        ("PGTARGETSESSIONATTRS", "bogus"),
        ("PGSSLMODE", "bogus"),
        ("PGPORT", "54x"),
        ("PGCONNECT_TIMEOUT", "soon"),
    ] {
        let mut vars = env[..4].to_vec();
        vars.retain(|(kk, _)| *kk != k);
        vars.push((k, v));
        let c = Case::new(&vars);
        c.both_fail(k);
        assert_eq!(c.settings().unwrap_err().code, Exit::Config, "{k}");
    }
    for d in [
        "dbname=x bogus=1",
        "postgresql://h/db?bogus=1",
        "postgresql://[::1/db",
    ] {
        let c = Case::new(&env[..4]).dsn(d);
        c.both_fail(d);
        assert_eq!(c.settings().unwrap_err().code, Exit::Config, "{d}");
    }
}

#[test]
fn ipv6_literal() {
    if !ipv6_available() {
        println!("note: ::1 is not available on this machine; skipping the IPv6 case");
        return;
    }
    let s = server();
    let db = fresh_db("v6");
    let port = port_s(s);
    let env = [
        ("PGHOST", "::1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.as_str()),
    ];
    assert_eq!(
        Case::new(&env).both_ok("PGHOST=::1"),
        row("postgres", &db, s, "::1", "false")
    );
    let url = format!("postgresql://postgres@[::1]:{port}/{db}");
    assert_eq!(
        Case::new(&[]).database_url(&url).both_ok("[::1] in a URL"),
        row("postgres", &db, s, "::1", "false")
    );
    let url = format!("postgresql://postgres@[::1]:1,[::1]:{port}/{db}");
    Case::new(&[])
        .dsn(&url)
        .both_ok("IPv6 host list with per-host ports");
}

#[test]
fn password_from_env_and_url() {
    let s = pw_server();
    let port = port_s(s);
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
        ("PGSSLMODE", "disable"),
    ];
    let mut v = env.to_vec();
    v.push(("PGPASSWORD", PASSWORD));
    assert_eq!(
        Case::new(&v).both_ok("PGPASSWORD"),
        row("postgres", "postgres", s, "127.0.0.1", "false")
    );
    // The URL carries the percent-encoded password (@ : / % \).
    let url = s.url("postgres");
    assert!(
        url.contains("%40") && url.contains("%3A") && url.contains("%2F") && url.contains("%25")
    );
    assert_eq!(
        Case::new(&[("PGSSLMODE", "disable")])
            .database_url(&url)
            .both_ok("DATABASE_URL with an encoded password"),
        row("postgres", "postgres", s, "127.0.0.1", "false")
    );
    // Wrong and missing passwords: both fail; pgkit says Auth.
    let mut v = env.to_vec();
    v.push(("PGPASSWORD", "wrong"));
    let c = Case::new(&v);
    c.both_fail("wrong password");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.sqlstate.as_deref(), Some("28P01"));
    let c = Case::new(&env);
    c.both_fail("no password");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::NoPassword, "{}", e.message);
    assert!(e.message.contains("no password supplied"), "{}", e.message);
    // The password never shows in what pgkit prints.
    let st = Case::new(&[]).database_url(&url).settings().unwrap();
    for shown in [st.redacted(), format!("{st:?}")] {
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}

#[test]
fn pgpass_escapes_wildcards_first_match() {
    let s = pw_server();
    let port = port_s(s);
    let sock = sock(s);
    let esc = pgkit::conn::pgpass::escape(PASSWORD);
    assert_eq!(esc, r"s3cr@t\:/%\\pw");
    let pgpass = format!(
        "# 127.0.0.1:*:*:*:commented-out\n\
         127.0.0.1:{port}:otherdb:postgres:wrong-db\n\
         127.0.0.1:{port}:*:someoneelse:wrong-user\n\
         *:{port}:*:postgres:{esc}\n\
         *:*:*:*:wrong-later-line\n"
    );
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
        ("PGSSLMODE", "disable"),
    ];
    // ~/.pgpass by default.
    let c = Case::new(&env);
    c.home_file(".pgpass", &pgpass, 0o600);
    assert_eq!(
        c.both_ok("~/.pgpass"),
        row("postgres", "postgres", s, "127.0.0.1", "false")
    );
    // PGPASSFILE, and passfile= in the DSN.
    let c = Case::new(&env);
    let f = c.home_file("elsewhere/pass", &pgpass, 0o600);
    let mut v = env.to_vec();
    v.push(("PGPASSFILE", &f));
    let mut c2 = Case::new(&v);
    c2.home = c.home;
    c2.both_ok("PGPASSFILE");
    let c3 = Case::new(&env).dsn(&format!("passfile={f}"));
    c3.both_ok("passfile=");
    // A file group or others may read is ignored (with a warning): both fail.
    let c = Case::new(&env);
    c.home_file(".pgpass", &pgpass, 0o644);
    let psql_err = c.both_fail(".pgpass with mode 0644");
    assert!(psql_err.contains("has group or world access"), "{psql_err}");
    assert_eq!(c.connect_err().kind, ErrorKind::NoPassword);
    // Over the throwaway socket: libpq matches the socket directory itself
    // (only the default socket directory matches "localhost").
    let sock_env = [
        ("PGHOST", sock.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
    ];
    let c = Case::new(&sock_env);
    c.home_file(".pgpass", &format!("localhost:*:*:*:{esc}\n"), 0o600);
    c.both_fail("socket dir does not match localhost");
    let c = Case::new(&sock_env);
    c.home_file(
        ".pgpass",
        &format!("localhost:*:*:*:wrong\n{sock}:{port}:*:*:{esc}\n"),
        0o600,
    );
    assert_eq!(
        c.both_ok("socket dir matches itself"),
        row("postgres", "postgres", s, "socket", "false")
    );
    // A given password wins over .pgpass.
    let mut v = env.to_vec();
    v.push(("PGPASSWORD", "wrong"));
    let c = Case::new(&v);
    c.home_file(".pgpass", &pgpass, 0o600);
    c.both_fail("PGPASSWORD beats .pgpass");
}

#[test]
fn tls_modes_against_a_tls_only_server() {
    let s = tls_server();
    let ca = s.ca_cert().unwrap().display().to_string();
    let port = port_s(s);
    let base = [
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
    ];
    let case = |host: &str, extra: &[(&str, &str)]| {
        let mut v = base.to_vec();
        v.push(("PGHOST", host));
        v.extend_from_slice(extra);
        Case::new(&v)
    };
    let tls_row = |addr: &str| row("postgres", "postgres", s, addr, "true");
    for mode in ["require", "prefer", "allow"] {
        assert_eq!(
            case("127.0.0.1", &[("PGSSLMODE", mode)]).both_ok(mode),
            tls_row("127.0.0.1"),
            "{mode}"
        );
    }
    for host in ["localhost", "127.0.0.1"] {
        case(
            host,
            &[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &ca)],
        )
        .both_ok(&format!("verify-full to {host}"));
    }
    if ipv6_available() {
        assert_eq!(
            case(
                "::1",
                &[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &ca)]
            )
            .both_ok("verify-full to ::1"),
            tls_row("::1")
        );
    }
    // The default root certificate, ~/.postgresql/root.crt.
    let c = case("localhost", &[("PGSSLMODE", "verify-full")]);
    c.home_file(
        ".postgresql/root.crt",
        &std::fs::read_to_string(&ca).unwrap(),
        0o644,
    );
    c.both_ok("verify-full with ~/.postgresql/root.crt");
    // A name the certificate does not carry: verify-full fails, verify-ca passes.
    let c = case(
        "wronghost",
        &[
            ("PGHOSTADDR", "127.0.0.1"),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", &ca),
        ],
    );
    let psql_err = c.both_fail("verify-full against a wrong host name");
    assert!(psql_err.contains("does not match host name"), "{psql_err}");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{}", e.message);
    assert!(!e.retryable());
    case(
        "wronghost",
        &[
            ("PGHOSTADDR", "127.0.0.1"),
            ("PGSSLMODE", "verify-ca"),
            ("PGSSLROOTCERT", &ca),
        ],
    )
    .both_ok("verify-ca ignores the host name");
    // verify-full without a root certificate.
    let c = case("localhost", &[("PGSSLMODE", "verify-full")]);
    let psql_err = c.both_fail("verify-full without root.crt");
    assert!(psql_err.contains("root certificate file"), "{psql_err}");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(
        e.message.contains("root certificate file") && e.message.contains("does not exist"),
        "{}",
        e.message
    );
    // sslrootcert=system (libpq 16: verify-full against the system's roots,
    // which do not include the throwaway CA). Not side by side: psql 15
    // looks for a file named "system" and, without it, does not verify.
    let c = case("localhost", &[("PGSSLROOTCERT", "system")]);
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(
        e.message.contains("certificate verify failed"),
        "{}",
        e.message
    );
    // sslmode=disable against a server that requires TLS.
    let c = case("127.0.0.1", &[("PGSSLMODE", "disable")]);
    c.both_fail("disable against hostssl");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::TlsRequired, "{}", e.message);
    let err = e.into_error(Exit::NotReady, "Cannot connect to the database");
    assert_eq!(err.code, Exit::Config);
    assert!(err.suggestion.unwrap().contains("sslmode=require"));
    assert!(err.error.unwrap().contains("no encryption"));
    // Never TLS over a unix socket, whatever the sslmode.
    let sockdir = sock(s);
    assert_eq!(
        case(&sockdir, &[("PGSSLMODE", "prefer")]).both_ok("socket, prefer"),
        row("postgres", "postgres", s, "socket", "false")
    );
    case(&sockdir, &[("PGSSLMODE", "disable")]).both_ok("socket, disable");
}

#[test]
fn tls_root_cert_makes_require_verify() {
    // The password server's certificate is signed by its own CA; the TLS
    // server's CA is the wrong one for it.
    let s = pw_server();
    let wrong_ca = tls_server().ca_cert().unwrap().display().to_string();
    let right_ca = s.ca_cert().unwrap().display().to_string();
    let port = port_s(s);
    let base = [
        ("PGHOST", "localhost"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
        ("PGPASSWORD", PASSWORD),
    ];
    let case = |extra: &[(&str, &str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        Case::new(&v)
    };
    // require with an existing root certificate verifies the chain.
    let c = case(&[("PGSSLMODE", "require"), ("PGSSLROOTCERT", &wrong_ca)]);
    c.both_fail("require with the wrong CA");
    assert_eq!(c.connect_err().kind, ErrorKind::Tls);
    let ok = case(&[("PGSSLMODE", "require"), ("PGSSLROOTCERT", &right_ca)])
        .both_ok("require with the right CA");
    assert!(ok.ends_with("|true"), "{ok}");
    // prefer falls back to a plain connection when TLS fails.
    let plain = case(&[("PGSSLMODE", "prefer"), ("PGSSLROOTCERT", &wrong_ca)])
        .both_ok("prefer with the wrong CA");
    assert!(plain.ends_with("|false"), "{plain}");
    // An unreadable root certificate: prefer falls back to plain, allow
    // never needs TLS here, require fails.
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), "not a certificate\n").unwrap();
    let g = garbage.path().display().to_string();
    for mode in ["prefer", "allow"] {
        let got = case(&[("PGSSLMODE", mode), ("PGSSLROOTCERT", &g)])
            .both_ok(&format!("{mode} with a garbage root cert"));
        assert!(got.ends_with("|false"), "{mode}: {got}");
    }
    case(&[("PGSSLMODE", "require"), ("PGSSLROOTCERT", &g)])
        .both_fail("require with a garbage root cert");
    // require with a root certificate path that does not exist: no verification.
    case(&[
        ("PGSSLMODE", "require"),
        ("PGSSLROOTCERT", "/nonexistent/root.crt"),
    ])
    .both_ok("require with a missing root cert file");
}

#[test]
fn dns_database_and_timeout_failures_are_classified() {
    let s = server();
    let port = port_s(s);
    let c = Case::new(&[("PGHOST", "no-such-host.invalid"), ("PGUSER", "postgres")]);
    c.both_fail("DNS");
    assert_eq!(c.connect_err().kind, ErrorKind::Dns);
    let c = Case::new(&[
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", &port),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "no_such_db"),
    ]);
    c.both_fail("missing database");
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::NoDatabase);
    assert_eq!(e.sqlstate.as_deref(), Some("3D000"));
    // A server that accepts TCP but never answers: connect_timeout bounds
    // the whole attempt (libpq's minimum, 2 s). The bound asserted is
    // generous (several times the figure) for a loaded machine.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_port = hung.local_addr().unwrap().port().to_string();
    let c = Case::new(&[
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", &hung_port),
        ("PGUSER", "postgres"),
        ("PGCONNECT_TIMEOUT", "1"),
        ("PGSSLMODE", "disable"),
    ]);
    let t0 = std::time::Instant::now();
    let e = c.connect_err();
    let took = t0.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
    assert!(e.retryable());
    assert!(took >= std::time::Duration::from_millis(1900), "{took:?}");
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    let psql_err = c.psql().unwrap_err();
    assert!(psql_err.contains("timeout expired"), "{psql_err}");
    drop(hung);
}

#[test]
fn tls_retries_as_libpq() {
    // prefer: a server error over TLS makes libpq retry without TLS, so a
    // wrong password fails twice; pgkit reports both, as psql does.
    let s = pw_server();
    let port = port_s(s);
    let c = Case::new(&[
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", &port),
        ("PGUSER", "postgres"),
        ("PGPASSWORD", "wrong"),
        ("PGSSLMODE", "prefer"),
    ]);
    let psql_err = c.both_fail("prefer, wrong password");
    let e = c.connect_err();
    let needle = "password authentication failed";
    assert_eq!(psql_err.matches(needle).count(), 2, "{psql_err}");
    assert_eq!(e.message.matches(needle).count(), 2, "{}", e.message);
    assert_eq!(e.kind, ErrorKind::Auth);
    // allow: a plain attempt the server rejects is retried over TLS.
    let t = tls_server();
    let port = port_s(t);
    let c = Case::new(&[
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", &port),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "no_such_db"),
        ("PGSSLMODE", "allow"),
    ]);
    let psql_err = c.both_fail("allow, missing database");
    assert!(psql_err.contains("no encryption") && psql_err.contains("does not exist"));
    let e = c.connect_err();
    assert_eq!(e.kind, ErrorKind::NoDatabase, "{}", e.message);
    assert!(e.message.contains("no encryption"), "{}", e.message);
    // Unix sockets never use TLS, even with require/verify-full.
    let sock = sock(t);
    for mode in ["require", "verify-full"] {
        assert_eq!(
            Case::new(&[
                ("PGHOST", &sock),
                ("PGPORT", &port),
                ("PGUSER", "postgres"),
                ("PGSSLMODE", mode),
            ])
            .both_ok(mode),
            row("postgres", "postgres", t, "socket", "false")
        );
    }
}

#[test]
fn dsn_grammar_side_by_side() {
    let s = server();
    let db = fresh_db("gram");
    let (sock, port) = (sock(s), port_s(s));
    let enc_sock = sock.replace('/', "%2F");
    let ok = [
        format!("postgres://postgres@{enc_sock}:{port}/{db}"),
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?sslmode=disable&application_name=a%20b"),
        format!("postgresql://nobody@example.invalid:1/nodb?host={enc_sock}&port={port}&user=postgres&dbname={db}"),
        format!("postgresql:///{db}?host={sock}&port={port}&user=postgres"),
        format!("postgresql://postgres@127.0.0.1:1,127.0.0.1:{port}/{db}"),
        format!("postgresql://postgres@:{port}/{db}?host={enc_sock}"),
        format!("  host = '{sock}'  port= {port} user='postgres' dbname = {db} "),
        format!("host={sock} port={port} user=postgres dbname={db} requiressl=0"),
        format!("host=localhost hostaddr=127.0.0.1 port={port} user=postgres dbname={db} connect_timeout=5"),
        format!("host=/nonexistent-pgkit,{sock} port=1,{port} user=postgres dbname={db}"),
    ];
    for d in &ok {
        let c = Case::new(&[]).dsn(d);
        let got = c.both_ok(d);
        assert!(got.starts_with(&format!("postgres|{db}|")), "{d}: {got}");
    }
    let fail = [
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?ssl=true"),
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?sslmode=require"),
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?target_session_attrs=standby"),
        format!("host={sock} port={port} user=postgres dbname='{db}"),
        format!("host={sock} port={port} user=postgres dbname={db} extra"),
        format!("postgresql://postgres@[127.0.0.1:{port}/{db}"),
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?&&"),
        format!("postgresql://postgres@127.0.0.1:{port}/{db}?port"),
        format!("host=a,b,c port=1,2 dbname={db}"),
    ];
    for d in &fail {
        Case::new(&[]).dsn(d).both_fail(d);
    }
}
