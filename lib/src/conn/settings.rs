//! The resolved connection settings and how they are resolved.

use super::args::ConnArgs;
use super::env::{os_user_name, Env};
use crate::error::{Error, Result};
use crate::redact;
use std::collections::HashMap;
use std::path::PathBuf;

use std::time::Duration;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Only try a non-TLS connection.
    Disable,
    /// Try non-TLS first, then TLS.
    Allow,
    /// Try TLS first, then non-TLS (libpq's default).
    Prefer,
    /// TLS, without verifying the certificate (unless a root cert file exists,
    /// then as verify-ca, as libpq does).
    Require,
    /// TLS, verifying the certificate chain.
    VerifyCa,
    /// TLS, verifying the chain and the host name.
    VerifyFull,
}

impl SslMode {
    /// Parses an sslmode value.
    pub fn parse(s: &str) -> Result<SslMode> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "allow" => Ok(SslMode::Allow),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(invalid_setting(
                format!("invalid sslmode value: \"{other}\""),
                "Use one of disable, allow, prefer, require, verify-ca, verify-full (PGSSLMODE, --sslmode, sslmode=)",
            )),
        }
    }

    /// The libpq name.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// libpq's `target_session_attrs` (libpq 14+'s full set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSessionAttrs {
    /// Any server.
    Any,
    /// A server whose sessions accept writes (`transaction_read_only` off).
    ReadWrite,
    /// A server whose sessions are read-only.
    ReadOnly,
    /// A server not in recovery (`pg_is_in_recovery()` false).
    Primary,
    /// A server in recovery (a hot standby).
    Standby,
    /// A standby if any host is one, else any server.
    PreferStandby,
}

impl TargetSessionAttrs {
    /// Parses a `target_session_attrs` value.
    pub fn parse(s: &str) -> Result<TargetSessionAttrs> {
        Ok(match s {
            "any" => TargetSessionAttrs::Any,
            "read-write" => TargetSessionAttrs::ReadWrite,
            "read-only" => TargetSessionAttrs::ReadOnly,
            "primary" => TargetSessionAttrs::Primary,
            "standby" => TargetSessionAttrs::Standby,
            "prefer-standby" => TargetSessionAttrs::PreferStandby,
            other => {
                return Err(invalid_setting(
                    format!("invalid target_session_attrs value: \"{other}\""),
                    "Use one of any, read-write, read-only, primary, standby, prefer-standby (PGTARGETSESSIONATTRS)",
                ))
            }
        })
    }

    /// The libpq name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetSessionAttrs::Any => "any",
            TargetSessionAttrs::ReadWrite => "read-write",
            TargetSessionAttrs::ReadOnly => "read-only",
            TargetSessionAttrs::Primary => "primary",
            TargetSessionAttrs::Standby => "standby",
            TargetSessionAttrs::PreferStandby => "prefer-standby",
        }
    }
}

/// One host to try: a TCP host (name or IP, with an optional `hostaddr`) or a
/// unix-socket directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Host name, IP, or socket directory (starts with `/`).
    pub host: String,
    /// A numeric address to connect to instead of resolving `host`.
    pub hostaddr: Option<String>,
    /// The port.
    pub port: u16,
}

impl Host {
    /// Whether this is a unix-socket directory.
    pub fn is_socket(&self) -> bool {
        self.host.starts_with('/') || self.host.starts_with('@')
    }
}

/// A bad setting: exit 78 with what is wrong and what to do.
pub(crate) fn invalid_setting(why: impl Into<String>, suggestion: &str) -> Error {
    Error::config("Invalid connection settings")
        .cause(why.into())
        .suggest(suggestion)
}

/// Fully resolved connection settings. The password is private: no method
/// returns a printable string that contains it.
#[derive(Clone)]
pub struct Settings {
    /// Hosts to try in order (libpq's comma-separated lists).
    pub hosts: Vec<Host>,
    /// The user.
    pub user: String,
    pub(crate) password: Option<String>,
    /// The database.
    pub dbname: String,
    /// The TLS mode.
    pub sslmode: SslMode,
    /// Root certificate file, or `system`; `None` means libpq's default
    /// `~/.postgresql/root.crt` (used when it exists).
    pub sslrootcert: Option<String>,
    /// Client certificate file (`None`: `~/.postgresql/postgresql.crt` when it exists).
    pub sslcert: Option<String>,
    /// Client key file (`None`: `~/.postgresql/postgresql.key`).
    pub sslkey: Option<String>,
    /// Per-attempt connect timeout (`connect_timeout`, `PGCONNECT_TIMEOUT`):
    /// `None` when unset, `Some(ZERO)` when set to 0 or less, which libpq
    /// reads as "wait indefinitely" (so does [`Settings::connect`]).
    pub connect_timeout: Option<Duration>,
    /// `application_name`.
    pub application_name: Option<String>,
    /// `options` (e.g. `-c search_path=app`).
    pub options: Option<String>,
    /// `target_session_attrs`.
    pub target_session_attrs: TargetSessionAttrs,
    /// The password file consulted when no password is given.
    pub passfile: Option<PathBuf>,
    /// The home directory (`~/.postgresql/` certificates).
    pub(crate) home: Option<PathBuf>,
    /// Hosts that came from libpq's default (they match `localhost` in
    /// `.pgpass`, whichever directory or name pgkit picked).
    pub(crate) default_hosts: Vec<Host>,
    /// `channel_binding`.
    pub(crate) channel_binding: postgres::config::ChannelBinding,
    /// Socket and TLS knobs libpq accepts that the resolver applies too.
    pub(crate) knobs: Knobs,
}

/// libpq's TCP keepalive, `tcp_user_timeout`, TLS protocol bounds and SNI.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knobs {
    /// `keepalives` (default on).
    pub keepalives: Option<bool>,
    /// `keepalives_idle`, seconds.
    pub keepalives_idle: Option<Duration>,
    /// `keepalives_interval`, seconds.
    pub keepalives_interval: Option<Duration>,
    /// `keepalives_count`.
    pub keepalives_count: Option<u32>,
    /// `tcp_user_timeout`, milliseconds.
    pub tcp_user_timeout: Option<Duration>,
    /// `ssl_min_protocol_version` (default TLSv1.2).
    pub ssl_min: Option<openssl::ssl::SslVersion>,
    /// `ssl_max_protocol_version`.
    pub ssl_max: Option<openssl::ssl::SslVersion>,
    /// `sslsni` (default on).
    pub sslsni: bool,
    /// `sslcrl`: a CRL file (`None`: `~/.postgresql/root.crl` when it exists).
    pub sslcrl: Option<String>,
    /// `sslcrldir`: a directory of CRLs named by hash (`openssl rehash`).
    pub sslcrldir: Option<String>,
    /// `sslpassword`: the passphrase of an encrypted `sslkey`.
    pub sslpassword: Option<Secret>,
    /// `requirepeer`: the OS user the server must run as (unix sockets).
    pub requirepeer: Option<String>,
}

/// A secret that never prints (`Debug` shows `[REDACTED]`); registered with
/// the log scrubber when made.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: &str) -> Secret {
        redact::register(s);
        Secret(s.to_string())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(redact::REDACTED)
    }
}

/// The libpq 16–18 settings pgkit's client cannot honour are refused
/// (exit 78) rather than silently ignored: an authentication or protocol
/// requirement that is dropped is a security hole. The harmless defaults
/// are accepted.
fn refuse_unhonoured<'a>(raw: &impl Fn(&str) -> Option<&'a str>) -> Result<()> {
    for (key, allowed) in UNHONOURED {
        if let Some(v) = raw(key).filter(|v| !v.is_empty()) {
            if !allowed.contains(&v) {
                let shown = if key.contains("secret") || key.contains("scram") {
                    crate::redact::REDACTED
                } else {
                    v
                };
                return Err(invalid_setting(
                    format!("{key}={shown} cannot be honoured by pgkit's client"),
                    "Remove it for pgkit's tools (psql and other libpq clients still read it), or use what pgkit supports: sslmode=verify-full, channel_binding=require",
                ));
            }
        }
    }
    Ok(())
}

/// The libpq 16–18 settings pgkit's client does not implement, with the
/// values it accepts (their defaults): any other value is refused.
pub const UNHONOURED: &[(&str, &[&str])] = &[
    ("sslnegotiation", &["postgres"]),
    ("load_balance_hosts", &["disable"]),
    ("min_protocol_version", &["3.0"]),
    ("max_protocol_version", &["3.0", "3.2", "latest"]),
    ("sslcertmode", &["disable", "allow"]),
    ("gssdelegation", &["0"]),
    ("require_auth", &[]),
    ("sslkeylogfile", &[]),
    ("scram_client_key", &[]),
    ("scram_server_key", &[]),
    ("oauth_issuer", &[]),
    ("oauth_client_id", &[]),
    ("oauth_client_secret", &[]),
    ("oauth_scope", &[]),
];

/// libpq's TLS protocol names.
fn tls_version(key: &str, v: &str) -> Result<Option<openssl::ssl::SslVersion>> {
    use openssl::ssl::SslVersion;
    Ok(Some(match v {
        "TLSv1" => SslVersion::TLS1,
        "TLSv1.1" => SslVersion::TLS1_1,
        "TLSv1.2" => SslVersion::TLS1_2,
        "TLSv1.3" => SslVersion::TLS1_3,
        _ => {
            return Err(invalid_setting(
                format!("invalid {key} value: \"{v}\""),
                "Use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
            ))
        }
    }))
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Environment variables and the libpq keywords they set (libpq 18's list,
/// as its PQconndefaults reports them).
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("PGSERVICE", "service"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGDATABASE", "dbname"),
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGCLIENTENCODING", "client_encoding"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLCOMPRESSION", "sslcompression"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
    ("PGSSLSNI", "sslsni"),
    ("PGREQUIREPEER", "requirepeer"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGKRBSRVNAME", "krbsrvname"),
    ("PGGSSLIB", "gsslib"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGSSLCERTMODE", "sslcertmode"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGGSSDELEGATION", "gssdelegation"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGMINPROTOCOLVERSION", "min_protocol_version"),
    ("PGMAXPROTOCOLVERSION", "max_protocol_version"),
];

/// libpq's `parse_int_param`: optional surrounding whitespace, a decimal
/// integer that fits an `int`.
fn parse_int(value: &str, keyword: &str) -> Result<i64> {
    let t = value.trim_matches(|c: char| c.is_ascii_whitespace());
    t.parse::<i64>()
        .ok()
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| {
            invalid_setting(
                format!("invalid integer value \"{value}\" for connection option \"{keyword}\""),
                match keyword {
                    "port" => "Set the port (PGPORT, --port, the DSN) to a number from 1 to 65535",
                    _ => "PGCONNECT_TIMEOUT / connect_timeout is a whole number of seconds",
                },
            )
        })
}

/// Splits a libpq comma-separated list (no escaping, no trimming).
fn split_list(s: &str) -> Vec<&str> {
    s.split(',').collect()
}

/// libpq's default host: the Debian socket directory. pgkit also accepts
/// `/tmp` (other builds' default) when only it has the server's socket, and
/// falls back to `localhost` when neither directory has one.
fn default_host(port: u16) -> String {
    let sock = format!(".s.PGSQL.{port}");
    for dir in [super::pgpass::DEFAULT_SOCKET_DIR, "/tmp"] {
        if std::path::Path::new(dir).join(&sock).exists() {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

impl Settings {
    /// Resolves settings from the flags and the process environment, with
    /// `application_name` defaulting to `tool`.
    pub fn resolve(args: &ConnArgs, tool: &str) -> Result<Settings> {
        Settings::resolve_with(args, tool, &Env::process())
    }

    /// Resolves settings from the flags and a given environment: flags, then
    /// the DSN (`--dsn`, else `DATABASE_URL`), then the service file, then the
    /// `PG*` variables, then libpq's defaults.
    pub fn resolve_with(args: &ConnArgs, tool: &str, env: &Env) -> Result<Settings> {
        let mut kv: HashMap<String, String> = HashMap::new();
        let dsn = args
            .dsn
            .clone()
            .or_else(|| env.get("DATABASE_URL").map(String::from));
        if let Some(dsn) = dsn {
            for (k, v) in super::dsn::parse(&dsn)? {
                kv.insert(k, v);
            }
        }
        for (key, val) in [
            ("host", &args.host),
            ("port", &args.port),
            ("user", &args.user),
            ("dbname", &args.dbname),
            ("sslmode", &args.sslmode),
        ] {
            if let Some(v) = val {
                kv.insert(key.to_string(), v.clone());
            }
        }
        Settings::from_keywords(&kv, tool, env)
    }

    /// Builds settings from explicit libpq keywords (as a connection string
    /// sets them), filling what they leave unset from the service file, then
    /// the `PG*` variables of `env`, then libpq's defaults.
    pub fn from_keywords(kv: &HashMap<String, String>, tool: &str, env: &Env) -> Result<Settings> {
        for k in kv.keys() {
            if !super::dsn::KEYWORDS.contains(&k.as_str()) {
                return Err(super::dsn::invalid(format!(
                    "invalid connection option \"{k}\""
                )));
            }
        }
        let mut opts = kv.clone();
        // The service file fills what the connection string left unset.
        let service = opts
            .get("service")
            .cloned()
            .or_else(|| env.vars.get("PGSERVICE").cloned());
        if let Some(name) = service {
            for (k, v) in super::service::lookup(&name, env)? {
                opts.entry(k).or_insert(v);
            }
        }
        // Then the environment (an empty variable counts as set, as in libpq).
        for (var, key) in ENV_KEYS {
            if !opts.contains_key(*key) {
                if let Some(v) = env.vars.get(*var) {
                    opts.insert(key.to_string(), v.clone());
                }
            }
        }
        if !opts.contains_key("sslmode")
            && env
                .vars
                .get("PGREQUIRESSL")
                .is_some_and(|v| v.starts_with('1'))
        {
            opts.insert("sslmode".into(), "require".into());
        }
        Settings::from_options(&opts, tool, env)
    }

    /// libpq's `connectOptions2`: validates and fills defaults.
    fn from_options(opts: &HashMap<String, String>, tool: &str, env: &Env) -> Result<Settings> {
        let raw = |k: &str| opts.get(k).map(String::as_str);
        let get = |k: &str| raw(k).filter(|v| !v.is_empty());

        // Hosts: one slot per hostaddr element, else per host element, else one.
        let hostaddrs: Option<Vec<&str>> = get("hostaddr").map(split_list);
        let host_names: Option<Vec<&str>> = get("host").map(split_list);
        let n = match (&hostaddrs, &host_names) {
            (Some(a), _) => a.len(),
            (None, Some(h)) => h.len(),
            (None, None) => 1,
        };
        if let (Some(h), Some(_)) = (&host_names, &hostaddrs) {
            if h.len() != n {
                return Err(invalid_setting(
                    format!(
                        "could not match {} host names to {n} hostaddr values",
                        h.len()
                    ),
                    "Give as many host names as hostaddr values (or leave host unset)",
                ));
            }
        }
        let ports: Vec<u16> = match get("port") {
            None => vec![5432; n],
            Some(p) => {
                let items = split_list(p);
                if items.len() != 1 && items.len() != n {
                    return Err(invalid_setting(
                        format!("could not match {} port numbers to {n} hosts", items.len()),
                        "Give one port for all hosts, or one port per host",
                    ));
                }
                let mut v = Vec::with_capacity(items.len());
                for item in &items {
                    if item.is_empty() {
                        v.push(5432);
                        continue;
                    }
                    let num = parse_int(item, "port")?;
                    let port = u16::try_from(num).ok().filter(|p| *p >= 1).ok_or_else(|| {
                        invalid_setting(
                            format!("invalid port number: \"{item}\""),
                            "Set the port (PGPORT, --port, the DSN) to a number from 1 to 65535",
                        )
                    })?;
                    v.push(port);
                }
                if v.len() == 1 {
                    vec![v[0]; n]
                } else {
                    v
                }
            }
        };
        let mut default_hosts = Vec::new();
        let mut hosts = Vec::with_capacity(n);
        for (i, port) in ports.iter().copied().enumerate().take(n) {
            let addr = hostaddrs
                .as_ref()
                .and_then(|a| a.get(i))
                .copied()
                .filter(|a| !a.is_empty());
            let name = host_names
                .as_ref()
                .and_then(|h| h.get(i))
                .copied()
                .filter(|h| !h.is_empty());
            if let Some(a) = addr {
                if a.parse::<std::net::IpAddr>().is_err() {
                    return Err(invalid_setting(
                        format!("could not parse network address \"{a}\""),
                        "hostaddr takes numeric IP addresses only; put host names in host",
                    ));
                }
            }
            let host = match (name, addr) {
                (Some(h), _) => h.to_string(),
                (None, Some(_)) => String::new(),
                (None, None) => {
                    default_hosts.push(Host {
                        host: default_host(port),
                        hostaddr: None,
                        port,
                    });
                    default_host(port)
                }
            };
            hosts.push(Host {
                host,
                hostaddr: addr.map(String::from),
                port,
            });
        }
        let user = get("user").map(String::from).unwrap_or_else(|| {
            if env.os_user.is_empty() {
                os_user_name()
            } else {
                env.os_user.clone()
            }
        });
        let dbname = get("dbname")
            .map(String::from)
            .unwrap_or_else(|| user.clone());
        let password = get("password").map(String::from);
        if let Some(p) = &password {
            redact::register(p);
        }
        let sslrootcert = get("sslrootcert").map(String::from);
        let sslmode = match raw("sslmode") {
            Some(m) => SslMode::parse(m)?,
            // libpq 16: sslrootcert=system defaults to verify-full.
            None if sslrootcert.as_deref() == Some("system") => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        if sslrootcert.as_deref() == Some("system") && sslmode != SslMode::VerifyFull {
            return Err(invalid_setting(
                format!(
                    "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
                    sslmode.as_str()
                ),
                "Use sslmode=verify-full with sslrootcert=system",
            ));
        }
        let connect_timeout = match raw("connect_timeout") {
            None => None,
            Some(t) => {
                let secs = parse_int(t, "connect_timeout")?;
                // libpq 15: zero or negative waits forever (kept as ZERO, so
                // it is not mistaken for "unset" by callers with their own
                // default); 1 is raised to 2.
                Some(Duration::from_secs(if secs > 0 {
                    secs.max(2) as u64
                } else {
                    0
                }))
            }
        };
        let target_session_attrs = match raw("target_session_attrs") {
            None => TargetSessionAttrs::Any,
            Some(t) => TargetSessionAttrs::parse(t)?,
        };
        let channel_binding = match raw("channel_binding") {
            None | Some("prefer") => postgres::config::ChannelBinding::Prefer,
            Some("disable") => postgres::config::ChannelBinding::Disable,
            Some("require") => postgres::config::ChannelBinding::Require,
            Some(other) => {
                return Err(invalid_setting(
                    format!("invalid channel_binding value: \"{other}\""),
                    "Use one of disable, prefer, require",
                ))
            }
        };
        if let Some(g) = raw("gssencmode") {
            if !matches!(g, "disable" | "prefer" | "require") {
                return Err(invalid_setting(
                    format!("invalid gssencmode value: \"{g}\""),
                    "Use one of disable, prefer, require",
                ));
            }
            // As a libpq built without GSSAPI: prefer and disable never
            // encrypt with GSSAPI, require cannot be honoured.
            if g == "require" {
                return Err(invalid_setting(
                    "gssencmode value \"require\" invalid when GSSAPI support is not compiled in",
                    "pgkit has no GSSAPI: use gssencmode=disable or prefer (PGGSSENCMODE), and TLS (sslmode=verify-full) for encryption",
                ));
            }
        }
        refuse_unhonoured(&raw)?;
        let int = |k: &str| -> Result<Option<i64>> { get(k).map(|v| parse_int(v, k)).transpose() };
        let secs = |n: i64| Duration::from_secs(n.max(0) as u64);
        let ssl_min = match get("ssl_min_protocol_version") {
            None => Some(openssl::ssl::SslVersion::TLS1_2),
            Some(v) => tls_version("ssl_min_protocol_version", v)?,
        };
        let ssl_max = match get("ssl_max_protocol_version") {
            None => None,
            Some(v) => tls_version("ssl_max_protocol_version", v)?,
        };
        let knobs = Knobs {
            keepalives: int("keepalives")?.map(|n| n != 0),
            keepalives_idle: int("keepalives_idle")?.map(secs),
            keepalives_interval: int("keepalives_interval")?.map(secs),
            keepalives_count: int("keepalives_count")?.map(|n| n.max(0) as u32),
            tcp_user_timeout: int("tcp_user_timeout")?
                .filter(|n| *n > 0)
                .map(|n| Duration::from_millis(n as u64)),
            ssl_min,
            ssl_max,
            sslsni: get("sslsni") != Some("0"),
            sslcrl: get("sslcrl").map(String::from),
            sslcrldir: get("sslcrldir").map(String::from),
            sslpassword: get("sslpassword").map(Secret::new),
            requirepeer: get("requirepeer").map(String::from),
        };
        let home = env.home.clone();
        Ok(Settings {
            knobs,
            hosts,
            user,
            password,
            dbname,
            sslmode,
            sslrootcert,
            sslcert: get("sslcert").map(String::from),
            sslkey: get("sslkey").map(String::from),
            connect_timeout,
            application_name: Some(get("application_name").unwrap_or(tool).to_string()),
            options: get("options").map(String::from),
            target_session_attrs,
            passfile: get("passfile")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".pgpass"))),
            home,
            default_hosts,
            channel_binding,
        })
    }

    /// Whether a password is set (from any source but `.pgpass`).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Sets the password (registered for redaction).
    pub fn set_password(&mut self, password: Option<String>) {
        if let Some(p) = &password {
            redact::register(p);
        }
        self.password = password.filter(|p| !p.is_empty());
    }

    /// The same settings for another database.
    pub fn with_dbname(&self, dbname: &str) -> Settings {
        let mut s = self.clone();
        s.dbname = dbname.to_string();
        s
    }

    /// The password for one host: the given one, else `.pgpass`'s (libpq
    /// matches `.pgpass` per host, port, database and user).
    pub(crate) fn password_for(&self, host: &Host) -> (Option<String>, bool) {
        if let Some(p) = &self.password {
            return (Some(p.clone()), false);
        }
        let Some(file) = &self.passfile else {
            return (None, false);
        };
        let name = if self.default_hosts.contains(host) {
            "localhost"
        } else if host.host.is_empty() {
            host.hostaddr.as_deref().unwrap_or("")
        } else {
            &host.host
        };
        let found =
            super::pgpass::lookup(file, name, &host.port.to_string(), &self.dbname, &self.user);
        if let Some(p) = &found {
            redact::register(p);
        }
        let from_file = found.is_some();
        (found, from_file)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::exit::Exit;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: None,
            os_user: "osuser".into(),
        }
    }

    fn resolve(args: &ConnArgs, vars: &[(&str, &str)]) -> Settings {
        Settings::resolve_with(args, "pg-test", &env(vars)).unwrap()
    }

    fn resolve_err(args: &ConnArgs, vars: &[(&str, &str)]) -> Error {
        Settings::resolve_with(args, "pg-test", &env(vars)).unwrap_err()
    }

    fn dsn(d: &str) -> ConnArgs {
        ConnArgs {
            dsn: Some(d.into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_libpqs() {
        let s = resolve(&ConnArgs::default(), &[]);
        assert_eq!(s.user, "osuser");
        assert_eq!(s.dbname, "osuser");
        assert_eq!(s.hosts.len(), 1);
        assert_eq!(s.hosts[0].port, 5432);
        assert_eq!(s.default_hosts, s.hosts);
        assert_eq!(s.sslmode, SslMode::Prefer);
        assert_eq!(s.target_session_attrs, TargetSessionAttrs::Any);
        assert_eq!(s.application_name.as_deref(), Some("pg-test"));
        assert_eq!(s.connect_timeout, None);
        assert!(!s.has_password());
    }

    #[test]
    fn precedence_flag_dsn_service_env_default() {
        let dir = tempfile::tempdir().unwrap();
        let svc = dir.path().join("svc.conf");
        std::fs::write(
            &svc,
            "[s]\nhost=svc-host\nport=7000\nuser=svc-user\ndbname=svc-db\napplication_name=svc-app\n",
        )
        .unwrap();
        let svcfile = svc.display().to_string();
        let vars = [
            ("PGSERVICEFILE", svcfile.as_str()),
            ("PGHOST", "env-host"),
            ("PGPORT", "6000"),
            ("PGUSER", "env-user"),
            ("PGDATABASE", "env-db"),
            ("PGOPTIONS", "-c work_mem=1MB"),
            ("PGSSLMODE", "require"),
        ];
        // Env over defaults.
        let s = resolve(&ConnArgs::default(), &vars);
        assert_eq!(
            (s.hosts[0].host.as_str(), s.hosts[0].port, s.user.as_str()),
            ("env-host", 6000, "env-user")
        );
        assert_eq!(s.dbname, "env-db");
        assert_eq!(s.options.as_deref(), Some("-c work_mem=1MB"));
        // Service (PGSERVICE) over env.
        let mut with_svc = vars.to_vec();
        with_svc.push(("PGSERVICE", "s"));
        let s = resolve(&ConnArgs::default(), &with_svc);
        assert_eq!(s.hosts[0].host, "svc-host");
        assert_eq!(s.hosts[0].port, 7000);
        assert_eq!(s.dbname, "svc-db");
        assert_eq!(s.application_name.as_deref(), Some("svc-app"));
        assert_eq!(
            s.sslmode,
            SslMode::Require,
            "env fills what the service leaves"
        );
        // DSN over service (named in the DSN) over env.
        let s = resolve(&dsn("service=s dbname=dsn-db"), &vars);
        assert_eq!(s.dbname, "dsn-db");
        assert_eq!(s.user, "svc-user");
        // DATABASE_URL is the DSN when --dsn is absent; --dsn wins over it.
        let mut with_url = vars.to_vec();
        with_url.push(("DATABASE_URL", "postgresql://url-user@url-host:5000/url-db"));
        let s = resolve(&ConnArgs::default(), &with_url);
        assert_eq!((s.user.as_str(), s.dbname.as_str()), ("url-user", "url-db"));
        assert_eq!(
            (s.hosts[0].host.as_str(), s.hosts[0].port),
            ("url-host", 5000)
        );
        let s = resolve(&dsn("postgresql://x@dsn-host/"), &with_url);
        assert_eq!(s.hosts[0].host, "dsn-host");
        assert_eq!(
            s.dbname, "env-db",
            "an empty URL path leaves PGDATABASE in force"
        );
        // Flags over everything.
        let args = ConnArgs {
            dsn: Some("postgresql://x@dsn-host:1/dsn-db?sslmode=disable".into()),
            host: Some("flag-host".into()),
            port: Some("2".into()),
            user: Some("flag-user".into()),
            dbname: Some("flag-db".into()),
            sslmode: Some("verify-ca".into()),
        };
        let s = resolve(&args, &with_url);
        assert_eq!(
            (
                s.hosts[0].host.as_str(),
                s.hosts[0].port,
                s.user.as_str(),
                s.dbname.as_str(),
                s.sslmode
            ),
            ("flag-host", 2, "flag-user", "flag-db", SslMode::VerifyCa)
        );
    }

    #[test]
    fn empty_values_behave_as_in_libpq() {
        // An empty DSN value is "set": the environment does not fill it.
        let s = resolve(&dsn("host='' dbname=d"), &[("PGHOST", "env-host")]);
        assert_eq!(s.default_hosts, s.hosts);
        // Empty environment variables: defaults for host/port/user...
        let s = resolve(
            &ConnArgs::default(),
            &[("PGHOST", ""), ("PGPORT", ""), ("PGUSER", "")],
        );
        assert_eq!(s.hosts[0].port, 5432);
        assert_eq!(s.user, "osuser");
        // ...but an empty PGSSLMODE is invalid, as libpq says.
        let e = resolve_err(&ConnArgs::default(), &[("PGSSLMODE", "")]);
        assert_eq!(e.code, Exit::Config);
        assert!(e.error.unwrap().contains("invalid sslmode value: \"\""));
        // An empty DATABASE_URL is no DSN.
        let s = resolve(&ConnArgs::default(), &[("DATABASE_URL", "")]);
        assert_eq!(s.user, "osuser");
    }

    #[test]
    fn host_and_port_lists() {
        let s = resolve(&dsn("postgresql://a:1,[::1]:2,c/db"), &[]);
        let hp: Vec<(&str, u16)> = s.hosts.iter().map(|h| (h.host.as_str(), h.port)).collect();
        assert_eq!(hp, vec![("a", 1), ("::1", 2), ("c", 5432)]);
        let s = resolve(&dsn("host=a,b,/tmp port=7"), &[]);
        assert!(s.hosts.iter().all(|h| h.port == 7));
        assert!(s.hosts[2].is_socket());
        let s = resolve(&dsn("host=a,b hostaddr=127.0.0.1,::1"), &[]);
        assert_eq!(s.hosts[1].hostaddr.as_deref(), Some("::1"));
        let s = resolve(&dsn("hostaddr=127.0.0.1"), &[]);
        assert_eq!(s.hosts[0].host, "");
        assert!(s.default_hosts.is_empty());
        for (d, why) in [
            (
                "host=a,b port=1,2,3",
                "could not match 3 port numbers to 2 hosts",
            ),
            (
                "host=a,b hostaddr=127.0.0.1",
                "could not match 2 host names to 1 hostaddr values",
            ),
            (
                "postgresql://h:5432,h2:5433,h3/db?port=1,2",
                "could not match 2 port numbers to 3 hosts",
            ),
            (
                "port=abc",
                "invalid integer value \"abc\" for connection option \"port\"",
            ),
            ("port=70000", "invalid port number: \"70000\""),
            ("port=0", "invalid port number: \"0\""),
            (
                "hostaddr=not-an-ip",
                "could not parse network address \"not-an-ip\"",
            ),
            (
                "connect_timeout=x",
                "invalid integer value \"x\" for connection option \"connect_timeout\"",
            ),
            ("sslmode=bogus", "invalid sslmode value: \"bogus\""),
            (
                "target_session_attrs=foo",
                "invalid target_session_attrs value: \"foo\"",
            ),
            (
                "sslrootcert=system sslmode=require",
                "weak sslmode \"require\"",
            ),
            ("tty=x", "invalid connection option \"tty\""),
            (
                "ssl_min_protocol_version=SSLv3",
                "invalid ssl_min_protocol_version value",
            ),
            (
                "keepalives_idle=soon",
                "invalid integer value \"soon\" for connection option \"keepalives_idle\"",
            ),
            ("channel_binding=maybe", "invalid channel_binding value"),
            (
                "gssencmode=require",
                "gssencmode value \"require\" invalid when GSSAPI support is not compiled in",
            ),
            ("gssencmode=always", "invalid gssencmode value: \"always\""),
            (
                "postgresql://h/db?foo=1",
                "invalid URI query parameter: \"foo\"",
            ),
            (
                "postgresql://u:p%zz@h/db",
                "invalid percent-encoded token in the password",
            ),
        ] {
            let e = resolve_err(&dsn(d), &[]);
            assert_eq!(e.code, Exit::Config, "{d}");
            assert!(
                e.error.as_deref().unwrap().contains(why),
                "{d}: {:?}",
                e.error
            );
            assert!(e.suggestion.is_some(), "{d}");
        }
        // Flags are checked the same way.
        let e = resolve_err(
            &ConnArgs {
                port: Some("54x".into()),
                ..Default::default()
            },
            &[],
        );
        assert_eq!(e.code, Exit::Config);
        let e = resolve_err(
            &ConnArgs::default(),
            &[("PGSERVICE", "nowhere"), ("PGSYSCONFDIR", "/nonexistent")],
        );
        assert_eq!(e.code, Exit::Config);
        assert!(e
            .error
            .unwrap()
            .contains("definition of service \"nowhere\" not found"));
    }

    #[test]
    fn connect_timeout_and_session_attrs() {
        let t = |v: &str| resolve(&dsn(&format!("connect_timeout={v}")), &[]).connect_timeout;
        assert_eq!(t("10"), Some(Duration::from_secs(10)));
        assert_eq!(t("1"), Some(Duration::from_secs(2)), "libpq raises 1 to 2");
        assert_eq!(t("0"), Some(Duration::ZERO), "0: wait indefinitely, set");
        assert_eq!(t("-5"), Some(Duration::ZERO), "negative: as 0");
        // From a service file too.
        let dir = tempfile::tempdir().unwrap();
        let svc = dir.path().join("svc.conf");
        std::fs::write(&svc, "[s]\nconnect_timeout=0\n").unwrap();
        let svcfile = svc.display().to_string();
        let s = resolve(
            &ConnArgs::default(),
            &[
                ("PGSERVICEFILE", &svcfile),
                ("PGSERVICE", "s"),
                ("PGCONNECT_TIMEOUT", "9"),
            ],
        );
        assert_eq!(
            s.connect_timeout,
            Some(Duration::ZERO),
            "the service wins over env"
        );
        let s = resolve(&ConnArgs::default(), &[("PGCONNECT_TIMEOUT", "0")]);
        assert_eq!(s.connect_timeout, Some(Duration::ZERO));
        assert!(s
            .libpq_env()
            .contains(&("PGCONNECT_TIMEOUT".into(), "0".into())));
        assert_eq!(t("' 7 '"), Some(Duration::from_secs(7)));
        for (v, want) in [
            ("any", TargetSessionAttrs::Any),
            ("read-write", TargetSessionAttrs::ReadWrite),
            ("read-only", TargetSessionAttrs::ReadOnly),
            ("primary", TargetSessionAttrs::Primary),
            ("standby", TargetSessionAttrs::Standby),
            ("prefer-standby", TargetSessionAttrs::PreferStandby),
        ] {
            let s = resolve(&ConnArgs::default(), &[("PGTARGETSESSIONATTRS", v)]);
            assert_eq!(s.target_session_attrs, want);
        }
        let s = resolve(&dsn("sslrootcert=system"), &[]);
        assert_eq!(
            s.sslmode,
            SslMode::VerifyFull,
            "libpq 16's default with system roots"
        );
        let s = resolve(&ConnArgs::default(), &[("PGREQUIRESSL", "1")]);
        assert_eq!(s.sslmode, SslMode::Require);
        let s = resolve(&ConnArgs::default(), &[("PGAPPNAME", "mine")]);
        assert_eq!(s.application_name.as_deref(), Some("mine"));
    }

    #[test]
    fn passwords_never_print() {
        let secret = "Sup3r:s@cr/t%";
        let url = format!(
            "postgresql://alice:{}@db.example.com:6543/app",
            redact::percent_encode(secret)
        );
        let s = resolve(&dsn(&url), &[]);
        assert!(s.has_password());
        let shown = s.redacted();
        assert_eq!(
            shown,
            "postgresql://alice:[REDACTED]@db.example.com:6543/app"
        );
        let e = env(&[("PGPASSWORD", secret), ("DATABASE_URL", &url)]);
        let dbg = format!("{e:?}");
        assert!(
            !dbg.contains("Sup3r") && dbg.contains("PGPASSWORD"),
            "{dbg}"
        );
        let dbg = format!("{s:?}");
        assert!(!dbg.contains(secret) && !dbg.contains("Sup3r"), "{dbg}");
        // Any error message that echoes the DSN is scrubbed by the logger.
        assert!(!redact::scrub(&format!("bad {url}")).contains("Sup3r"));
        // The password is still there for child processes, in the environment.
        assert!(s
            .libpq_env()
            .iter()
            .any(|(k, v)| k == "PGPASSWORD" && v == secret));
        let s = resolve(
            &dsn(&format!("password='{secret}' host=/tmp,h2 port=1,2")),
            &[],
        );
        let shown = s.redacted();
        assert_eq!(
            shown,
            "postgresql://osuser:[REDACTED]@/osuser?host=%2Ftmp,h2&port=1,2"
        );
        // sslpassword (the client key's passphrase) shows nowhere either, and
        // is not handed to children: libpq has no variable for it.
        let k = resolve(
            &dsn("host=h sslpassword=Key-Pass-77 sslcrl=/c.crl requirepeer=postgres"),
            &[],
        );
        let everything = format!("{k:?} {} {:?}", k.redacted(), k.libpq_env());
        assert!(!everything.contains("Key-Pass-77"), "{everything}");
        assert!(redact::scrub("x Key-Pass-77 y").contains("[REDACTED]"));
        let env = k.libpq_env();
        assert!(env.contains(&("PGSSLCRL".into(), "/c.crl".into())));
        assert!(env.contains(&("PGREQUIREPEER".into(), "postgres".into())));
        for ok in ["gssencmode=prefer", "gssencmode=disable"] {
            resolve(&dsn(ok), &[]);
        }
        // The redacted form parses back to the same hosts.
        let back = resolve(&dsn(&shown), &[]);
        assert_eq!(back.hosts, s.hosts);
    }

    #[test]
    fn libpq_env_round_trips() {
        let s = resolve(
            &dsn("host=a,b hostaddr=127.0.0.1,::1 port=1,2 user=u dbname=d sslmode=verify-full target_session_attrs=primary connect_timeout=5"),
            &[],
        );
        let mut e = env(&[]);
        e.vars = s.libpq_env().into_iter().collect();
        let back = Settings::resolve_with(&ConnArgs::default(), "pg-test", &e).unwrap();
        assert_eq!(back.hosts, s.hosts);
        assert_eq!(back.user, "u");
        assert_eq!(back.dbname, "d");
        assert_eq!(back.sslmode, SslMode::VerifyFull);
        assert_eq!(back.target_session_attrs, TargetSessionAttrs::Primary);
        assert_eq!(back.connect_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn pgpass_host_for_the_default_socket_is_localhost() {
        let dir = tempfile::tempdir().unwrap();
        let pass = dir.path().join("pgpass");
        std::fs::write(&pass, "localhost:5432:*:*:localpw\n/tmp:5432:*:*:tmppw\n").unwrap();
        std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let p = pass.display().to_string();
        for (host, want) in [
            ("/var/run/postgresql", "localpw"),
            ("localhost", "localpw"),
            ("/tmp", "tmppw"),
        ] {
            let s = resolve(
                &ConnArgs::default(),
                &[("PGHOST", host), ("PGPASSFILE", &p)],
            );
            let (pw, from_file) = s.password_for(&s.hosts[0]);
            assert_eq!(pw.as_deref(), Some(want), "{host}");
            assert!(from_file);
        }
        // libpq's default host matches localhost whichever directory it is;
        // the other hosts of a list match their own names.
        let s = resolve(&ConnArgs::default(), &[("PGPASSFILE", &p)]);
        assert_eq!(s.password_for(&s.hosts[0]).0.as_deref(), Some("localpw"));
        let s = resolve(&dsn("host=,/tmp"), &[("PGPASSFILE", &p)]);
        assert_eq!(s.password_for(&s.hosts[0]).0.as_deref(), Some("localpw"));
        assert_eq!(s.password_for(&s.hosts[1]).0.as_deref(), Some("tmppw"));
        // A given password wins; .pgpass is not read.
        let s = resolve(
            &ConnArgs::default(),
            &[("PGPASSFILE", &p), ("PGPASSWORD", "given")],
        );
        assert_eq!(s.password_for(&s.hosts[0]), (Some("given".into()), false));
        // An empty PGPASSWORD is no password: .pgpass is read.
        let s = resolve(
            &ConnArgs::default(),
            &[("PGPASSFILE", &p), ("PGPASSWORD", "")],
        );
        assert_eq!(s.password_for(&s.hosts[0]).0.as_deref(), Some("localpw"));
    }
}
