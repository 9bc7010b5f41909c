//! The connection settings libpq applies for security and liveness that
//! pgkit used to accept without effect: `sslcrl`/`sslcrldir`, `sslpassword`,
//! `requirepeer`, `gssencmode`, and `connect_timeout=0`. Side by side with
//! `psql` (the system libpq 15) where libpq's behaviour is the contract, and
//! through a built tool (pg-wait) for the exit codes and log lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::conn::Case;
use common::*;

use pgkit::conn::ErrorKind;
use pgkit::server::{Options, TempServer};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The client key's passphrase (spaces and a quote: conninfo quoting).
const KEYPASS: &str = "k3y pa'ss";

/// Who, over what, with which client certificate.
const SECURITY_QUERY: &str = "select current_user, coalesce(host(inet_server_addr()), 'socket'), \
     coalesce((select ssl::text || ':' || coalesce(client_dn, '') from pg_stat_ssl \
     where pid = pg_backend_pid()), 'none')";

/// The certificates of one test CA (made with the openssl CLI): a server
/// certificate for localhost, a client certificate for `postgres` whose key
/// is encrypted with [`KEYPASS`], and two CRLs, one revoking the server
/// certificate, as files and as hashed directories.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

const GEN: &str = r#"set -e
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
database = index.txt
new_certs_dir = .
certificate = ca.crt
private_key = ca.key
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
[ srv ]
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
CNF
: > index.txt
echo 01 > crlnumber
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=pgkit-test-ca -days 30
openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile ca.cnf -extensions srv
openssl req -new -newkey rsa:2048 -passout env:KEYPASS -keyout client.key -out client.csr -subj /CN=postgres
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 30
openssl ca -config ca.cnf -gencrl -out empty.crl
openssl ca -config ca.cnf -revoke server.crt
openssl ca -config ca.cnf -gencrl -out revoked.crl
mkdir crldir-empty crldir-revoked
h=$(openssl crl -hash -noout -in empty.crl)
cp empty.crl "crldir-empty/$h.r0"
cp revoked.crl "crldir-revoked/$h.r0"
chmod 600 client.key server.key
"#;

fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("sh")
            .args(["-c", GEN])
            .current_dir(dir.path())
            .env("KEYPASS", KEYPASS)
            .stdin(Stdio::null())
            .output()
            .expect("run sh (openssl)");
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pki { dir }
    })
}

/// A TLS server whose certificate comes from [`pki`], which asks clients
/// for a certificate signed by the same CA (and verifies one when given).
fn tls_server() -> &'static TempServer {
    static S: OnceLock<TempServer> = OnceLock::new();
    S.get_or_init(|| {
        let s = TempServer::create(Options {
            tls: true,
            config: vec![("ssl_ca_file".into(), "'client-ca.crt'".into())],
            ..Default::default()
        })
        .expect("create the TLS server");
        let data = s.data_dir();
        let meta = std::fs::metadata(&data).unwrap();
        for (from, to) in [
            ("server.crt", "server.crt"),
            ("server.key", "server.key"),
            ("ca.crt", "client-ca.crt"),
        ] {
            let dest = data.join(to);
            std::fs::copy(pki().dir.path().join(from), &dest).unwrap();
            std::os::unix::fs::chown(&dest, Some(meta.uid()), Some(meta.gid())).unwrap();
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        s.start_server().expect("start the TLS server");
        s
    })
}

/// The TCP environment for the TLS server, plus `extra`.
fn tcp_case(extra: &[(&str, &str)]) -> Case {
    let s = tls_server();
    let port = s.port().to_string();
    let mut v = vec![
        ("PGHOST", "localhost"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
    ];
    v.extend_from_slice(extra);
    Case::new(&v).query(SECURITY_QUERY)
}

/// pg-wait --once on `dsn` (clean environment): exit code and log lines.
fn pg_wait_once(dsn: &str, extra_env: &[(&str, &str)]) -> (i32, Vec<serde_json::Value>, String) {
    let mut c = cmd("pg-wait");
    c.args(["--once", "--timeout", "20s", "-d", dsn]);
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap(), json_lines(&out.stderr), stderr)
}

fn error_of(lines: &[serde_json::Value]) -> String {
    lines.last().unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn crl_revoking_the_server_certificate_refuses_the_connection() {
    let p = pki();
    let ca = p.path("ca.crt");
    let verify = [("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", ca.as_str())];
    let with = |extra: &[(&str, &str)]| {
        let mut v = verify.to_vec();
        v.extend_from_slice(extra);
        tcp_case(&v)
    };
    // Without a CRL, and with one that revokes nothing: accepted.
    let ok = with(&[]).both_ok("no CRL");
    assert_eq!(ok, "postgres|127.0.0.1|true:", "TLS, no client certificate");
    with(&[("PGSSLCRL", &p.path("empty.crl"))]).both_ok("CRL revoking nothing");
    with(&[("PGSSLCRLDIR", &p.path("crldir-empty"))]).both_ok("CRL dir revoking nothing");
    // A CRL file that does not exist is ignored (libpq does not require one).
    with(&[("PGSSLCRL", "/nonexistent/root.crl")]).both_ok("missing CRL file");

    // The server's certificate revoked: refused, by file, by hashed
    // directory, and by the default ~/.postgresql/root.crl.
    let revoked = p.path("revoked.crl");
    for (what, c) in [
        ("sslcrl", with(&[("PGSSLCRL", &revoked)])),
        (
            "sslcrldir",
            with(&[("PGSSLCRLDIR", &p.path("crldir-revoked"))]),
        ),
        ("~/.postgresql/root.crl", {
            let c = with(&[]);
            let dest = c.home.path().join(".postgresql/root.crl");
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&revoked, &dest).unwrap();
            c
        }),
        // libpq applies the CRL whenever a root certificate file is loaded,
        // so require (which then verifies the chain) refuses too.
        (
            "require with sslrootcert",
            tcp_case(&[
                ("PGSSLMODE", "require"),
                ("PGSSLROOTCERT", &ca),
                ("PGSSLCRL", &revoked),
            ]),
        ),
    ] {
        let (psql_err, ours) = c.both_fail_pair(what);
        assert!(psql_err.contains("certificate verify failed"), "{psql_err}");
        assert!(ours.contains("certificate revoked"), "{what}: {ours}");
        assert!(ours.starts_with("Tls:"), "{what}: {ours}");
    }
    // prefer falls back to a plain connection when verification fails, as
    // libpq does (the server accepts both).
    let plain = tcp_case(&[
        ("PGSSLMODE", "prefer"),
        ("PGSSLROOTCERT", &ca),
        ("PGSSLCRL", &revoked),
    ])
    .both_ok("prefer with a revoked certificate");
    assert_eq!(plain, "postgres|127.0.0.1|false:");
    // Without a root certificate file nothing is verified, so no CRL either.
    tcp_case(&[("PGSSLMODE", "require"), ("PGSSLCRL", &revoked)])
        .both_ok("require without a root certificate");

    // Through a tool: exit 78 (waiting cannot fix a revoked certificate),
    // a clear message, and no retry.
    let port = tls_server().port();
    let dsn = format!(
        "host=localhost port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert={ca} sslcrl={revoked}"
    );
    let (code, lines, _) = pg_wait_once(&dsn, &[]);
    assert_eq!(code, 78, "{lines:?}");
    let err = error_of(&lines);
    assert!(
        err.contains("certificate verify failed") && err.contains("certificate revoked"),
        "{err}"
    );
    let empty = p.path("empty.crl");
    let (code, lines, _) = pg_wait_once(&dsn.replace(&revoked, &empty), &[]);
    assert_eq!(code, 0, "{lines:?}");
}

#[test]
fn sslpassword_decrypts_the_client_key() {
    let p = pki();
    let ca = p.path("ca.crt");
    let (cert, key) = (p.path("client.crt"), p.path("client.key"));
    let port = tls_server().port();
    let conninfo = |extra: &str| {
        format!(
            "host=localhost port={port} user=postgres dbname=postgres sslmode=verify-full \
             sslrootcert={ca} sslcert={cert} sslkey={key} {extra}"
        )
    };
    let quoted = pgkit::conn::quote_conninfo(KEYPASS);
    // The right passphrase: the server sees our client certificate.
    let ok = Case::new(&[])
        .query(SECURITY_QUERY)
        .dsn(&conninfo(&format!("sslpassword={quoted}")))
        .both_ok("right sslpassword");
    assert_eq!(ok, "postgres|127.0.0.1|true:/CN=postgres");
    // A wrong one: both refuse to load the key.
    let (psql_err, ours) = Case::new(&[])
        .query(SECURITY_QUERY)
        .dsn(&conninfo("sslpassword=wrong-pass-5"))
        .both_fail_pair("wrong sslpassword");
    assert!(
        psql_err.contains("could not load private key file"),
        "{psql_err}"
    );
    assert!(
        ours.contains("could not load private key file") && ours.contains("wrong sslpassword"),
        "{ours}"
    );
    // None: pgkit never prompts on the terminal; it says what is missing.
    let c = Case::new(&[]).query(SECURITY_QUERY).dsn(&conninfo(""));
    let Err(e) = c.settings().unwrap().connect() else {
        panic!("an encrypted key without sslpassword must not load");
    };
    assert_eq!(e.kind, ErrorKind::Tls);
    assert!(
        e.message
            .contains("the key is encrypted and no sslpassword is set"),
        "{}",
        e.message
    );

    // Through a tool: a wrong or missing passphrase is a configuration error
    // (78) whose log never shows the passphrase; the right one connects.
    for bad in ["sslpassword=wrong-pass-5", ""] {
        let (code, lines, stderr) = pg_wait_once(&conninfo(bad), &[]);
        assert_eq!(code, 78, "{bad}: {lines:?}");
        assert!(error_of(&lines).contains("could not load private key file"));
        assert!(!stderr.contains("wrong-pass-5"), "{stderr}");
    }
    let (code, lines, stderr) = pg_wait_once(&conninfo(&format!("sslpassword={quoted}")), &[]);
    assert_eq!(code, 0, "{lines:?}");
    assert!(!stderr.contains("pa'ss"), "{stderr}");
}

/// The OS user the test server runs as (postgres when the tests run as root).
fn server_user(s: &TempServer) -> String {
    let out = Command::new("stat")
        .args(["-c", "%U"])
        .arg(s.data_dir())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn requirepeer_checks_the_servers_os_user() {
    let s = server();
    let owner = server_user(s);
    let sock = s.socket_dir().display().to_string();
    let port = s.port().to_string();
    let base = [
        ("PGHOST", sock.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", "postgres"),
    ];
    let case = |peer: &str| {
        let mut v = base.to_vec();
        v.push(("PGREQUIREPEER", peer));
        Case::new(&v).query(SECURITY_QUERY)
    };
    assert_eq!(
        case(&owner).both_ok("requirepeer = the server's user"),
        "postgres|socket|false:"
    );
    let (psql_err, ours) = case("nobody").both_fail_pair("requirepeer=nobody");
    let want =
        format!("requirepeer specifies \"nobody\", but actual peer user name is \"{owner}\"");
    assert!(psql_err.contains(&want), "{psql_err}");
    assert!(ours.contains(&want), "{ours}");
    assert!(
        ours.contains(&format!("on socket \"{sock}/.s.PGSQL.{port}\"")),
        "{ours}"
    );
    // libpq checks it over unix sockets only.
    let mut v = base.to_vec();
    v[0] = ("PGHOST", "127.0.0.1");
    v.push(("PGREQUIREPEER", "nobody"));
    v.push(("PGSSLMODE", "disable"));
    Case::new(&v)
        .query(SECURITY_QUERY)
        .both_ok("requirepeer over TCP is ignored");
    // It ends the attempt: the next host is not tried, as in libpq.
    let c = case("nobody").dsn(&format!(
        "host={sock},127.0.0.1 port={port} sslmode=disable"
    ));
    c.both_fail("requirepeer mismatch, then a TCP host");
    // Through a tool: not ready (2), libpq's message.
    let dsn = format!("host={sock} port={port} user=postgres requirepeer=nobody");
    let (code, lines, _) = pg_wait_once(&dsn, &[]);
    assert_eq!(code, 2, "{lines:?}");
    assert!(error_of(&lines).contains(&want), "{lines:?}");
    let (code, lines, _) = pg_wait_once(&dsn.replace("nobody", &owner), &[]);
    assert_eq!(code, 0, "{lines:?}");
}

#[test]
fn gssencmode_require_is_refused_as_without_gssapi() {
    let s = server();
    let sock = s.socket_dir().display().to_string();
    let dsn = |mode: &str| {
        format!(
            "host={sock} port={} user=postgres gssencmode={mode}",
            s.port()
        )
    };
    let (code, lines, _) = pg_wait_once(&dsn("require"), &[]);
    assert_eq!(code, 78, "{lines:?}");
    assert!(
        error_of(&lines).contains(
            "gssencmode value \"require\" invalid when GSSAPI support is not compiled in"
        ),
        "{lines:?}"
    );
    assert!(lines.last().unwrap()["suggestion"].is_string());
    for ok in ["prefer", "disable"] {
        let (code, lines, _) = pg_wait_once(&dsn(ok), &[]);
        assert_eq!(code, 0, "{ok}: {lines:?}");
    }
    // PGGSSENCMODE too.
    let (code, _, _) = pg_wait_once(
        &dsn("prefer").replace(" gssencmode=prefer", ""),
        &[("PGGSSENCMODE", "require")],
    );
    assert_eq!(code, 78);
}

/// A TCP port that accepts connections (the kernel's backlog) but never
/// answers: a hung server.
fn hung_listener() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn connect_timeout_zero_waits_indefinitely() {
    // Against the real server: 0 (DSN, environment) connects normally, and
    // children get PGCONNECT_TIMEOUT=0.
    let s = server();
    let sock = s.socket_dir().display().to_string();
    let port = s.port().to_string();
    let c = Case::new(&[
        ("PGHOST", &sock),
        ("PGPORT", &port),
        ("PGUSER", "postgres"),
        ("PGCONNECT_TIMEOUT", "0"),
    ])
    .query(SECURITY_QUERY);
    c.both_ok("PGCONNECT_TIMEOUT=0");
    let settings = c.settings().unwrap();
    assert_eq!(settings.connect_timeout, Some(Duration::ZERO));
    assert!(settings
        .libpq_env()
        .contains(&("PGCONNECT_TIMEOUT".into(), "0".into())));
    Case::new(&[])
        .query(SECURITY_QUERY)
        .dsn(&format!(
            "host={sock} port={port} user=postgres connect_timeout=0"
        ))
        .both_ok("connect_timeout=0");

    // A hung server: libpq's minimum timeout is 2 s, but 0 means no limit,
    // so the attempt is still waiting well past that (4 s, twice libpq's
    // minimum); closing the listener then ends it.
    let (hung, hung_port) = hung_listener();
    let c = Case::new(&[]).query(SECURITY_QUERY).dsn(&format!(
        "host=127.0.0.1 port={hung_port} user=postgres sslmode=disable connect_timeout=0"
    ));
    let settings = c.settings().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(settings.connect().map(|_| ()));
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(4)).is_err(),
        "connect_timeout=0 must not time out"
    );
    drop(hung);
    let r = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(r.is_err());

    // pg-wait: the DSN's 0 is not "unset" (PGCONNECT_TIMEOUT=1 does not
    // replace it), and pg-wait's overall --timeout still bounds the wait:
    // one attempt that lasts until the deadline, then exit 2.
    let (_hung, hung_port) = hung_listener();
    let dsn = |t: &str| {
        format!("host=127.0.0.1 port={hung_port} user=postgres sslmode=disable connect_timeout={t}")
    };
    let run = |dsn: &str, extra: &[&str]| {
        let t0 = Instant::now();
        let out = cmd("pg-wait")
            .args(["--timeout", "3s", "--interval", "100ms", "--jitter", "0"])
            .args(extra)
            .args(["-d", dsn])
            .env("PGCONNECT_TIMEOUT", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            last_line(&out.stderr),
            t0.elapsed(),
        )
    };
    let (code, last, took) = run(&dsn("0"), &[]);
    assert_eq!(code, 2, "{last}");
    assert_eq!(last["attempts"], 1, "one unbounded attempt: {last}");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .starts_with("Postgres readiness timeout after 3000ms"),
        "{last}"
    );
    // Generous bounds (3 s deadline) for a loaded machine.
    assert!(took >= Duration::from_millis(2900), "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    // connect_timeout=1 (libpq: 2 s) bounds each attempt: more than one.
    let (code, last, _) = run(&dsn("1"), &[]);
    assert_eq!(code, 2, "{last}");
    assert!(last["attempts"].as_u64().unwrap() >= 2, "{last}");
    // PGCONNECT_TIMEOUT=1 as libpq reads it: 2 s (no DSN connect_timeout).
    let no_ct = dsn("0").replace(" connect_timeout=0", "");
    let (code, last, took) = run(&no_ct, &["--once"]);
    assert_eq!(code, 2, "{last}");
    assert!(
        took >= Duration::from_millis(1900),
        "1 is raised to 2 s: {took:?}"
    );
    assert!(took < Duration::from_secs(14), "{took:?}");
    // --once with no per-attempt limit is bounded by --timeout as well.
    let (code, last, took) = run(&dsn("0"), &["--once"]);
    assert_eq!(code, 2, "{last}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn children_get_crl_and_requirepeer_but_never_sslpassword() {
    // pg-dotenv pgenv hands the URL's settings to a shell (psql): the CRL
    // and requirepeer go along; sslpassword cannot (libpq has no variable):
    // refused, and never shown.
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(
        &env_file,
        "DATABASE_URL=postgresql://u@h/db?sslcrl=/etc/x.crl&sslcrldir=/etc/crls&requirepeer=postgres&sslpassword=Hush-42&connect_timeout=0\n",
    )
    .unwrap();
    // sslpassword has no libpq variable: refused (78), never silently
    // dropped, and never shown.
    let out = cmd("pg-dotenv")
        .arg("-f")
        .arg(&env_file)
        .arg("pgenv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(out.stdout.is_empty());
    let all = String::from_utf8_lossy(&out.stderr);
    assert!(
        all.contains("sslpassword") && !all.contains("Hush-42"),
        "{all}"
    );
    std::fs::write(
        &env_file,
        "DATABASE_URL=postgresql://u@h/db?sslcrl=/etc/x.crl&sslcrldir=/etc/crls&requirepeer=postgres&connect_timeout=0\n",
    )
    .unwrap();
    let out = cmd("pg-dotenv")
        .arg("-f")
        .arg(&env_file)
        .arg("pgenv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        "PGSSLCRL=/etc/x.crl",
        "PGSSLCRLDIR=/etc/crls",
        "PGREQUIREPEER=postgres",
        "PGCONNECT_TIMEOUT=0",
    ] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("Hush-42"), "{all}");
    // And the library's own view: redacted URL, Debug, child environment.
    let s = Case::new(&[])
        .query(SECURITY_QUERY)
        .dsn("host=h sslpassword=Hush-42 sslkey=/k")
        .settings()
        .unwrap();
    let shown = format!("{s:?} {} {:?}", s.redacted(), s.libpq_env());
    assert!(!shown.contains("Hush-42"), "{shown}");
}
