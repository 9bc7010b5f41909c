//! The resolved connection settings and how they are resolved.

use super::args::ConnArgs;
use crate::error::{Error, Result};
use crate::redact;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A snapshot of the environment the resolver reads (tests build their own).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Environment variables.
    pub vars: HashMap<String, String>,
    /// The home directory (for `~/.pgpass`, `~/.pg_service.conf`).
    pub home: Option<PathBuf>,
    /// The OS user name (libpq's default user).
    pub os_user: String,
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let home = vars.get("HOME").map(PathBuf::from);
        Env {
            home,
            os_user: os_user_name(),
            vars,
        }
    }

    /// A variable, treating an empty value as unset (as libpq does).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The name of the effective OS user, as libpq's default user.
pub fn os_user_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy
    // the name out at once and never keep the pointer.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            if let Ok(s) = std::ffi::CStr::from_ptr((*pw).pw_name).to_str() {
                return s.to_string();
            }
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "postgres".into())
}

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
            other => Err(Error::config("Invalid connection settings")
                .cause(format!("invalid sslmode value: {other:?}"))
                .suggest("Use one of disable, allow, prefer, require, verify-ca, verify-full")),
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

/// libpq's `target_session_attrs` (the values the postgres crate supports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSessionAttrs {
    /// Any server.
    Any,
    /// A server that accepts writes.
    ReadWrite,
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
    /// Root certificate file, or `system`.
    pub sslrootcert: Option<String>,
    /// Client certificate file.
    pub sslcert: Option<String>,
    /// Client key file.
    pub sslkey: Option<String>,
    /// Per-attempt connect timeout.
    pub connect_timeout: Option<Duration>,
    /// `application_name`.
    pub application_name: Option<String>,
    /// `options` (e.g. `-c search_path=app`).
    pub options: Option<String>,
    /// `target_session_attrs`.
    pub target_session_attrs: TargetSessionAttrs,
    /// The password file consulted when no password is given.
    pub passfile: Option<PathBuf>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Settings {
    /// Resolves settings from the flags and the process environment, with
    /// `application_name` defaulting to `tool`.
    pub fn resolve(args: &ConnArgs, tool: &str) -> Result<Settings> {
        Settings::resolve_with(args, tool, &Env::process())
    }

    /// Resolves settings from the flags and a given environment.
    pub fn resolve_with(args: &ConnArgs, tool: &str, env: &Env) -> Result<Settings> {
        let mut kv: HashMap<String, String> = HashMap::new();
        // Lowest precedence first; each layer overwrites what it sets.
        for (var, key) in ENV_KEYS {
            if let Some(v) = env.get(var) {
                kv.insert(key.to_string(), v.to_string());
            }
        }
        let dsn = args
            .dsn
            .clone()
            .or_else(|| env.get("DATABASE_URL").map(String::from));
        if let Some(dsn) = dsn {
            for (k, v) in parse_dsn(&dsn)? {
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

    /// Builds settings from libpq keywords, filling libpq's defaults.
    pub fn from_keywords(kv: &HashMap<String, String>, tool: &str, env: &Env) -> Result<Settings> {
        let get = |k: &str| kv.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let port: u16 = match get("port") {
            None => 5432,
            Some(p) => p.parse().map_err(|_| {
                Error::config("Invalid connection settings")
                    .cause(format!("invalid port number: {p:?}"))
                    .suggest("Set PGPORT or the DSN's port to a number from 1 to 65535")
            })?,
        };
        let hosts = match get("host") {
            Some(h) => h
                .split(',')
                .map(|h| Host {
                    host: h.to_string(),
                    hostaddr: None,
                    port,
                })
                .collect(),
            None => vec![Host {
                host: default_host(),
                hostaddr: None,
                port,
            }],
        };
        let user = get("user")
            .map(String::from)
            .unwrap_or_else(|| env.os_user.clone());
        let password = get("password").map(String::from);
        if let Some(p) = &password {
            redact::register(p);
        }
        let connect_timeout = match get("connect_timeout") {
            None => None,
            Some(t) => {
                let secs: i64 = t.parse().map_err(|_| {
                    Error::config("Invalid connection settings")
                        .cause(format!("invalid connect_timeout: {t:?}"))
                        .suggest("PGCONNECT_TIMEOUT is a whole number of seconds")
                })?;
                // libpq: zero or negative means wait forever; 1 is raised to 2.
                (secs > 0).then(|| Duration::from_secs(secs.max(2) as u64))
            }
        };
        let target_session_attrs = match get("target_session_attrs") {
            None | Some("any") => TargetSessionAttrs::Any,
            Some("read-write") | Some("primary") => TargetSessionAttrs::ReadWrite,
            Some(other) => {
                return Err(Error::config("Invalid connection settings")
                    .cause(format!("invalid target_session_attrs value: {other:?}")))
            }
        };
        Ok(Settings {
            dbname: get("dbname")
                .map(String::from)
                .unwrap_or_else(|| user.clone()),
            user,
            password,
            sslmode: SslMode::parse(get("sslmode").unwrap_or("prefer"))?,
            sslrootcert: get("sslrootcert").map(String::from),
            sslcert: get("sslcert").map(String::from),
            sslkey: get("sslkey").map(String::from),
            connect_timeout,
            application_name: Some(get("application_name").unwrap_or(tool).to_string()),
            options: get("options").map(String::from),
            target_session_attrs,
            passfile: get("passfile")
                .map(PathBuf::from)
                .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass"))),
            hosts,
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
        self.password = password;
    }

    /// The same settings for another database.
    pub fn with_dbname(&self, dbname: &str) -> Settings {
        let mut s = self.clone();
        s.dbname = dbname.to_string();
        s
    }

    /// A display URL with the password replaced by `[REDACTED]`.
    pub fn redacted(&self) -> String {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|h| {
                if h.is_socket() {
                    redact::percent_encode(&h.host)
                } else if h.host.contains(':') {
                    format!("[{}]:{}", h.host, h.port)
                } else {
                    format!("{}:{}", h.host, h.port)
                }
            })
            .collect();
        let auth = match &self.password {
            Some(_) => format!(
                "{}:{}@",
                redact::percent_encode(&self.user),
                redact::REDACTED
            ),
            None => format!("{}@", redact::percent_encode(&self.user)),
        };
        let mut url = format!(
            "postgresql://{auth}{}/{}",
            if self.hosts.iter().all(Host::is_socket) {
                String::new()
            } else {
                hosts.join(",")
            },
            redact::percent_encode(&self.dbname)
        );
        if self.hosts.iter().all(Host::is_socket) {
            url.push_str(&format!(
                "?host={}&port={}",
                hosts.join(","),
                self.hosts.first().map(|h| h.port).unwrap_or(5432)
            ));
        }
        url
    }

    /// libpq environment variables equivalent to these settings, for child
    /// processes (pg_dump, psql): the password travels here, never on argv.
    pub fn libpq_env(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (
                "PGHOST".to_string(),
                self.hosts
                    .iter()
                    .map(|h| h.host.clone())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "PGPORT".to_string(),
                self.hosts
                    .iter()
                    .map(|h| h.port.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("PGUSER".to_string(), self.user.clone()),
            ("PGDATABASE".to_string(), self.dbname.clone()),
            ("PGSSLMODE".to_string(), self.sslmode.as_str().to_string()),
        ];
        if let Some(p) = &self.password {
            v.push(("PGPASSWORD".into(), p.clone()));
        }
        for (k, val) in [
            ("PGSSLROOTCERT", &self.sslrootcert),
            ("PGSSLCERT", &self.sslcert),
            ("PGSSLKEY", &self.sslkey),
            ("PGAPPNAME", &self.application_name),
            ("PGOPTIONS", &self.options),
        ] {
            if let Some(x) = val {
                v.push((k.to_string(), x.clone()));
            }
        }
        if let Some(t) = self.connect_timeout {
            v.push(("PGCONNECT_TIMEOUT".into(), t.as_secs().to_string()));
        }
        if let Some(p) = &self.passfile {
            v.push(("PGPASSFILE".into(), p.display().to_string()));
        }
        v
    }
}

/// Environment variables and the libpq keywords they set.
const ENV_KEYS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGAPPNAME", "application_name"),
    ("PGOPTIONS", "options"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
];

/// libpq's default host: the first socket directory that exists, else localhost.
fn default_host() -> String {
    for dir in ["/var/run/postgresql", "/tmp"] {
        if std::path::Path::new(dir).is_dir() {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

/// Parses a `postgres://` URL or a `key=value` conninfo into libpq keywords.
pub fn parse_dsn(dsn: &str) -> Result<Vec<(String, String)>> {
    let bad = |why: String| {
        Error::config("Invalid connection string")
            .cause(why)
            .suggest("Use postgresql://user:password@host:port/dbname or key=value pairs")
    };
    let t = dsn.trim();
    if let Some(rest) = t
        .strip_prefix("postgresql://")
        .or_else(|| t.strip_prefix("postgres://"))
    {
        let mut out = Vec::new();
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match main.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (main, None),
        };
        let hostpart = match authority.rsplit_once('@') {
            Some((userinfo, h)) => {
                let (u, p) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !u.is_empty() {
                    out.push(("user".into(), percent_decode(u).map_err(bad)?));
                }
                if let Some(p) = p {
                    out.push(("password".into(), percent_decode(p).map_err(bad)?));
                }
                h
            }
            None => authority,
        };
        if !hostpart.is_empty() {
            let mut hosts = Vec::new();
            let mut ports = Vec::new();
            for h in hostpart.split(',') {
                let (host, port) = if let Some(r) = h.strip_prefix('[') {
                    let (ip, after) = r
                        .split_once(']')
                        .ok_or_else(|| bad(format!("unterminated IPv6 address in {h:?}")))?;
                    (ip.to_string(), after.strip_prefix(':').map(String::from))
                } else {
                    match h.rsplit_once(':') {
                        Some((a, p)) => (a.to_string(), Some(p.to_string())),
                        None => (h.to_string(), None),
                    }
                };
                hosts.push(percent_decode(&host).map_err(bad)?);
                ports.push(port.unwrap_or_default());
            }
            if hosts.iter().any(|h| !h.is_empty()) {
                out.push(("host".into(), hosts.join(",")));
            }
            if ports.iter().any(|p| !p.is_empty()) {
                out.push(("port".into(), ports.join(",")));
            }
        }
        if let Some(p) = path.filter(|p| !p.is_empty()) {
            out.push(("dbname".into(), percent_decode(p).map_err(bad)?));
        }
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| bad(format!("invalid URI query parameter {pair:?}")))?;
                let k = percent_decode(k).map_err(bad)?;
                let k = if k == "ssl" && v == "true" {
                    out.push(("sslmode".into(), "require".into()));
                    continue;
                } else {
                    k
                };
                out.push((k, percent_decode(v).map_err(bad)?));
            }
        }
        return Ok(out);
    }
    if t.contains("://") {
        return Err(bad(format!(
            "unsupported URL scheme in {:?}",
            t.split("://").next().unwrap_or("")
        )));
    }
    parse_conninfo(t).map_err(bad)
}

/// Parses libpq's `key=value` conninfo (values may be single-quoted with `\'`
/// and `\\` escapes).
fn parse_conninfo(s: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "missing \"=\" after {key:?} in connection info string"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    _ => val.push(c),
                }
            }
            if !closed {
                return Err("unterminated quoted string in connection info string".into());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        val.push(n);
                    }
                } else {
                    val.push(c);
                }
            }
        }
        out.push((key, val));
    }
    Ok(out)
}

/// Decodes `%XX` escapes; invalid UTF-8 or a bad escape is an error.
fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoded token in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("invalid UTF-8 after percent-decoding {s:?}"))
}
