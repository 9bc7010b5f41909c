//! pg-dotenv pgenv (issue 20, defects 4 and 5): every libpq connection
//! setting that has an environment variable goes through `eval "$(pg-dotenv
//! pgenv)"` into psql exactly as psql reads it from the URL itself; one that
//! has none is refused with 78 naming it, never dropped.
//!
//! The check is psql's own parsing: for each case psql 18 (whose libpq knows
//! every setting up to 18) runs once with the URL and once with pgenv's
//! variables, and must say the same thing, byte for byte: a session that
//! shows the setting's effect, or the error the setting causes (a standby
//! wanted, a protocol range that cannot be, a CRL that does not fit). Each
//! case is chosen so that losing the setting changes what psql says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use pgkit::server::{Options, TempServer};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// libpq 18's connection settings, as its `PQconndefaults` lists them, with
/// their environment variables (None: it has none).
const LIBPQ_18: &[(&str, Option<&str>)] = &[
    ("service", Some("PGSERVICE")),
    ("user", Some("PGUSER")),
    ("password", Some("PGPASSWORD")),
    ("passfile", Some("PGPASSFILE")),
    ("channel_binding", Some("PGCHANNELBINDING")),
    ("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    ("dbname", Some("PGDATABASE")),
    ("host", Some("PGHOST")),
    ("hostaddr", Some("PGHOSTADDR")),
    ("port", Some("PGPORT")),
    ("client_encoding", Some("PGCLIENTENCODING")),
    ("options", Some("PGOPTIONS")),
    ("application_name", Some("PGAPPNAME")),
    ("fallback_application_name", None),
    ("keepalives", None),
    ("keepalives_idle", None),
    ("keepalives_interval", None),
    ("keepalives_count", None),
    ("tcp_user_timeout", None),
    ("sslmode", Some("PGSSLMODE")),
    ("sslnegotiation", Some("PGSSLNEGOTIATION")),
    ("sslcompression", Some("PGSSLCOMPRESSION")),
    ("sslcert", Some("PGSSLCERT")),
    ("sslkey", Some("PGSSLKEY")),
    ("sslcertmode", Some("PGSSLCERTMODE")),
    ("sslpassword", None),
    ("sslrootcert", Some("PGSSLROOTCERT")),
    ("sslcrl", Some("PGSSLCRL")),
    ("sslcrldir", Some("PGSSLCRLDIR")),
    ("sslsni", Some("PGSSLSNI")),
    ("requirepeer", Some("PGREQUIREPEER")),
    ("require_auth", Some("PGREQUIREAUTH")),
    ("min_protocol_version", Some("PGMINPROTOCOLVERSION")),
    ("max_protocol_version", Some("PGMAXPROTOCOLVERSION")),
    ("ssl_min_protocol_version", Some("PGSSLMINPROTOCOLVERSION")),
    ("ssl_max_protocol_version", Some("PGSSLMAXPROTOCOLVERSION")),
    ("gssencmode", Some("PGGSSENCMODE")),
    ("krbsrvname", Some("PGKRBSRVNAME")),
    ("gsslib", Some("PGGSSLIB")),
    ("gssdelegation", Some("PGGSSDELEGATION")),
    ("replication", None),
    ("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    ("load_balance_hosts", Some("PGLOADBALANCEHOSTS")),
    ("scram_client_key", None),
    ("scram_server_key", None),
    ("oauth_issuer", None),
    ("oauth_client_id", None),
    ("oauth_client_secret", None),
    ("oauth_scope", None),
    ("sslkeylogfile", None),
];

/// What each session shows: TLS in use, and the settings that reach the
/// server.
const QUERY: &str = "select concat_ws(' | ', \
    coalesce((select ssl::text from pg_stat_ssl where pid = pg_backend_pid()), 'none'), \
    current_setting('application_name'), current_setting('search_path'), \
    current_setting('client_encoding'), current_user)";

/// The settings libpq 16 to 18 added: an older psql refuses them in a URL
/// (and ignores their variables), so its run leaves those cases out.
const SINCE_16: &[&str] = &[
    "require_auth",
    "load_balance_hosts",
    "sslcertmode",
    "gssdelegation",
    "sslnegotiation",
    "min_protocol_version",
    "max_protocol_version",
    "sslkeylogfile",
];

/// psql `major`: for 18 PGKIT_PG18_BINDIR (CI sets it), else an installed
/// or cached one.
fn psql_of(major: u32) -> Option<PathBuf> {
    let dir = match std::env::var_os("PGKIT_PG18_BINDIR") {
        Some(d) if major == 18 => PathBuf::from(d),
        _ => bindir_for(major)?,
    };
    let psql = dir.join("psql");
    let v = Command::new(&psql).arg("--version").output().ok()?;
    let v = String::from_utf8_lossy(&v.stdout).to_string();
    if v.contains(&format!(" {major}.")) {
        Some(psql)
    } else {
        eprintln!(
            "note: {} is not psql {major} ({v}); its run skipped",
            psql.display()
        );
        None
    }
}

/// A clean environment: PATH and HOME only (HOME holds the service file;
/// it has no ~/.postgresql/root.crt and no ~/.pgpass).
fn clean(c: &mut Command, home: &Path) {
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home);
}

/// What psql prints (stdout, then stderr) and its exit code.
fn said(o: std::process::Output) -> (Option<i32>, String) {
    let mut s = String::from_utf8_lossy(&o.stdout).to_string();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code(), s)
}

/// psql given the URL.
fn psql_with_url(psql: &Path, home: &Path, url: &str) -> (Option<i32>, String) {
    let mut c = Command::new(psql);
    clean(&mut c, home);
    said(c.args(["-XAtw", "-c", QUERY, url]).output().unwrap())
}

/// pg-dotenv pgenv's output for a file holding `DATABASE_URL=url`.
fn pgenv(dir: &Path, home: &Path, url: &str) -> std::process::Output {
    let f = dir.join("pgenv.env");
    std::fs::write(&f, format!("DATABASE_URL='{url}'\n")).unwrap();
    let mut c = Command::new(bin_path("pg-dotenv"));
    clean(&mut c, home);
    c.arg("-f").arg(&f).arg("pgenv").output().unwrap()
}

/// psql given pgenv's variables, through `eval` in sh.
fn psql_with_pgenv(psql: &Path, home: &Path, export: &str) -> (Option<i32>, String) {
    let mut c = Command::new("sh");
    clean(&mut c, home);
    c.args(["-c", "eval \"$1\" && exec \"$0\" -XAtw -c \"$2\""])
        .arg(psql)
        .arg(export)
        .arg(QUERY);
    said(c.output().unwrap())
}

/// The settings a URL gives in its query string.
fn query_keys(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// A CRL, valid but from another CA: with it, libpq checks revocation and
/// finds no CRL for the server's CA, so verification fails.
fn foreign_crl(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (apt-get install openssl)");
        assert_success(&o);
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "other.key",
        "-out",
        "other.crt",
        "-subj",
        "/CN=another CA",
        "-days",
        "2",
    ]);
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ndefault_md = sha256\ndefault_crl_days = 2\n",
    )
    .unwrap();
    run(&[
        "ca",
        "-gencrl",
        "-config",
        "ca.cnf",
        "-keyfile",
        "other.key",
        "-cert",
        "other.crt",
        "-out",
        "other.crl",
    ]);
    dir.join("other.crl")
}

#[test]
fn pgenv_round_trips_every_libpq_setting_through_psql() {
    // pgkit's list of variables is libpq 18's.
    let ours: BTreeSet<(&str, &str)> = pgkit::conn::ENV_KEYS
        .iter()
        .map(|(var, k)| (*k, *var))
        .collect();
    let libpq: BTreeSet<(&str, &str)> = LIBPQ_18
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    assert_eq!(ours, libpq, "pgkit::conn::ENV_KEYS is not libpq 18's list");

    // psql 18 for every setting; psql 15 too, for the settings it knows.
    let psqls: Vec<(u32, PathBuf)> = [18, 15]
        .into_iter()
        .filter_map(|m| psql_of(m).map(|p| (m, p)))
        .collect();
    if psqls.is_empty() {
        eprintln!("note: neither psql 18 nor 15 found; round trip skipped");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        home.join(".pg_service.conf"),
        "[pgenv_svc]\napplication_name=from service\n",
    )
    .unwrap();

    // A trusting server without TLS (the shared one) and one with TLS and
    // a password (SCRAM).
    let db = fresh_db("pgenv_rt");
    let trust = url(&db);
    let socket = server().socket_dir().display().to_string();
    let port = server().port();
    let tls = TempServer::start(Options {
        bindir: Some(server_bindir().clone()),
        tls: true,
        password: Some("pgenv-pw".into()),
        ..Default::default()
    })
    .unwrap();
    let secure = tls.url("postgres");
    let no_password = secure.replace(":pgenv-pw@", "@");
    let ca = tls.ca_cert().unwrap().display().to_string();
    let pgpass = dir.join("pgpass");
    std::fs::write(&pgpass, "*:*:*:*:pgenv-pw\n").unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let crl = foreign_crl(dir).display().to_string();
    let crldir = dir.join("crls");
    std::fs::create_dir(&crldir).unwrap();
    let crldir = crldir.display().to_string();
    let nokey = dir.join("missing.key").display().to_string();
    let pgpass = pgpass.display().to_string();

    let q = |base: &str, params: &str| format!("{base}?{params}");
    // (URL, what psql says for it)
    let cases: Vec<(String, String)> = vec![
        (trust.clone(), "false | psql | \"$user\", public | UTF8 | postgres".into()),
        (
            q(&trust, "application_name=pgenv%20rt&options=-c%20search_path%3Dpgenv_s&client_encoding=LATIN1"),
            "false | pgenv rt | pgenv_s | LATIN1 | postgres".into(),
        ),
        (q(&trust, "service=pgenv_svc"), "false | from service |".into()),
        (q(&trust, "channel_binding=require"), "channel binding required".into()),
        (q(&trust, "target_session_attrs=standby"), "not in hot standby mode".into()),
        // Only hostaddr makes this host name reachable.
        (
            format!("{}?hostaddr=127.0.0.1", trust.replace("127.0.0.1", "pgenv.invalid")),
            "false | psql |".into(),
        ),
        (q(&trust, "gssencmode=require"), "GSSAPI".into()),
        (
            q(&trust, "ssl_min_protocol_version=TLSv1.3&ssl_max_protocol_version=TLSv1.2"),
            "invalid SSL protocol version range".into(),
        ),
        (q(&trust, "sslmode=require"), "server does not support SSL".into()),
        (q(&trust, "sslnegotiation=direct"), "weak sslmode \"prefer\"".into()),
        (
            q(&trust, "require_auth=password"),
            "authentication method requirement \"password\" failed".into(),
        ),
        (
            q(&trust, "max_protocol_version=3.0&min_protocol_version=3.2"),
            "\"min_protocol_version\" is greater than \"max_protocol_version\"".into(),
        ),
        (q(&trust, "load_balance_hosts=bogus"), "invalid load_balance_hosts value".into()),
        (
            format!("postgresql:///{db}?host={socket}&port={port}&user=postgres&requirepeer=nobody"),
            "requirepeer specifies \"nobody\"".into(),
        ),
        // Settings with nothing to show on these servers: they must still
        // reach psql unchanged (its answer is the same, and the export
        // names them).
        (
            q(&trust, "connect_timeout=5&sslsni=0&sslcompression=1&gssdelegation=1&krbsrvname=pgenv&gsslib=gssapi&load_balance_hosts=random"),
            "false | psql |".into(),
        ),
        (secure.clone(), "true | psql |".into()),
        (q(&secure, "sslmode=disable"), "false | psql |".into()),
        (q(&secure, "sslmode=verify-full"), "root certificate file".into()),
        (q(&secure, &format!("sslmode=verify-full&sslrootcert={ca}")), "true | psql |".into()),
        (q(&secure, "sslrootcert=system"), "certificate verify failed".into()),
        (
            q(&secure, &format!("sslmode=require&sslcert={ca}&sslkey={nokey}")),
            "certificate present, but not private key file".into(),
        ),
        (
            q(&secure, &format!("sslmode=verify-ca&sslrootcert={ca}&sslcrl={crl}")),
            "certificate verify failed".into(),
        ),
        (
            q(&secure, &format!("sslmode=verify-ca&sslrootcert={ca}&sslcrldir={crldir}")),
            "certificate verify failed".into(),
        ),
        (
            q(&secure, "sslcertmode=require"),
            "server did not request an SSL certificate".into(),
        ),
        (
            q(&secure, "require_auth=scram-sha-256&channel_binding=require"),
            "true | psql |".into(),
        ),
        (no_password.clone(), "no password supplied".into()),
        (q(&no_password, &format!("passfile={pgpass}")), "true | psql |".into()),
    ];

    let mut covered: BTreeSet<String> = ["host", "port", "user", "password", "dbname"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut failures = Vec::new();
    for (major, psql) in &psqls {
        let newest = *major == 18;
        for (url, want) in &cases {
            let keys = query_keys(url);
            // sslrootcert=system means verify-full since libpq 16, and
            // pgenv exports it so: psql 15 then looks for a file named
            // "system" and fails closed, where its URL reading connects
            // unverified.
            let newer = keys.iter().any(|(k, v)| {
                SINCE_16.contains(&k.as_str()) || (k == "sslrootcert" && v == "system")
            });
            if !newest && newer {
                continue;
            }
            let fails = round_trip(psql, dir, &home, url, newest.then_some(want.as_str()));
            failures.extend(fails.into_iter().map(|f| format!("psql {major}: {f}")));
            if newest {
                covered.extend(keys.into_iter().map(|(k, _)| k));
            }
        }
    }
    if !psqls.iter().any(|(m, _)| *m == 18) {
        eprintln!("note: psql 18 not found (PGKIT_PG18_BINDIR); the libpq 16-18 settings were not run through psql");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        return;
    }
    let psql = &psqls[0].1;
    for (k, var) in LIBPQ_18 {
        if var.is_some() && !covered.contains(*k) {
            failures.push(format!("{k}: no case"));
        }
    }

    // A setting without a variable: psql knows it, pgenv refuses it (78,
    // naming it, printing nothing and never the value).
    for (k, var) in LIBPQ_18 {
        if var.is_some() {
            continue;
        }
        let value = match *k {
            "keepalives" | "keepalives_idle" | "keepalives_interval" | "keepalives_count" => "1",
            "tcp_user_timeout" => "1000",
            "replication" => "database",
            "oauth_issuer" => "https://pgenv.invalid",
            "sslkeylogfile" => "/nonexistent/pgenv-keylog",
            _ => "pgenv-secret-value",
        };
        let u = q(&secure, &format!("{k}={value}"));
        let direct = psql_with_url(psql, &home, &u);
        if direct.1.contains("invalid URI query parameter") {
            failures.push(format!("{k}: psql 18 does not know it: {direct:?}"));
        }
        let o = pgenv(dir, &home, &u);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let last = last_line(&o.stderr);
        if o.status.code() != Some(78)
            || last["setting"] != *k
            || !o.stdout.is_empty()
            || stderr.contains("pgenv-secret-value")
        {
            failures.push(format!("{k}: pgenv did not refuse it cleanly: {stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One case: pgenv exports every setting of the URL, and psql says the same
/// with the URL and with pgenv's variables (and, where given, what the case
/// expects). Returns what went wrong.
fn round_trip(psql: &Path, dir: &Path, home: &Path, url: &str, want: Option<&str>) -> Vec<String> {
    let mut failures = Vec::new();
    let direct = psql_with_url(psql, home, url);
    let o = pgenv(dir, home, url);
    let export = String::from_utf8_lossy(&o.stdout).to_string();
    if !o.status.success() {
        failures.push(format!(
            "{url}: pgenv exit {:?}: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        ));
        return failures;
    }
    for (k, _) in query_keys(url) {
        let var = LIBPQ_18.iter().find(|(kw, _)| *kw == k).unwrap().1.unwrap();
        if !export.contains(&format!(" {var}=")) {
            failures.push(format!("{url}: {var} not exported: {export}"));
        }
    }
    if let Some(want) = want {
        if !direct.1.contains(want) {
            failures.push(format!("{url}: psql said {direct:?}, expected {want:?}"));
        }
    }
    let through = psql_with_pgenv(psql, home, &export);
    if direct != through {
        failures.push(format!(
            "{url}: psql with the URL said {direct:?}, with pgenv's variables {through:?} ({export})"
        ));
    }
    failures
}
