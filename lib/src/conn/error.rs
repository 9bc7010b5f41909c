//! Connection failures, classified: what pg-wait retries, what is fatal, and
//! what to tell the operator.

use crate::error::Error;
use crate::exit::Exit;
use std::fmt;

/// What kind of connection failure this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing listens (ECONNREFUSED, or no socket file).
    Refused,
    /// The connection or handshake did not finish within `connect_timeout`.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// Authentication failed (28P01, 28000).
    Auth,
    /// The server asked for a password and none was given (flag, DSN,
    /// PGPASSWORD, .pgpass): waiting cannot change that.
    NoPassword,
    /// The database does not exist (3D000).
    NoDatabase,
    /// The server is starting up, shutting down or in recovery (57P03).
    StartingUp,
    /// Too many connections (53300).
    TooManyConnections,
    /// The server requires TLS but `sslmode=disable` forbids it.
    TlsRequired,
    /// The server does not offer TLS but the sslmode requires it.
    TlsUnsupported,
    /// TLS failed: certificate verification, handshake.
    Tls,
    /// The connection dropped (reset, closed) during startup.
    Io,
    /// The server refused with another SQLSTATE.
    Server,
    /// Anything else.
    Other,
}

/// A connection failure with its class, SQLSTATE and a password-free message.
#[derive(Debug, Clone)]
pub struct ConnectError {
    /// The class.
    pub kind: ErrorKind,
    /// The server's SQLSTATE, when it sent one.
    pub sqlstate: Option<String>,
    /// What happened, scrubbed of secrets.
    pub message: String,
    /// The target, redacted.
    pub target: String,
}

impl ConnectError {
    /// Whether waiting can change the outcome (pg-wait retries these).
    pub fn retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Refused
                | ErrorKind::Timeout
                | ErrorKind::Dns
                | ErrorKind::Auth
                | ErrorKind::NoDatabase
                | ErrorKind::StartingUp
                | ErrorKind::TooManyConnections
                | ErrorKind::Io
        )
    }

    /// What to do about it.
    pub fn suggestion(&self) -> &'static str {
        match self.kind {
            ErrorKind::Refused => "Check that PostgreSQL is running and listening on that host and port (PGHOST, PGPORT)",
            ErrorKind::Timeout => "Check the host is reachable (firewall, security group) or raise PGCONNECT_TIMEOUT",
            ErrorKind::Dns => "Check the host name in PGHOST or DATABASE_URL",
            ErrorKind::NoPassword => "Give a password: PGPASSWORD, ~/.pgpass (mode 0600) or the DSN's password",
            ErrorKind::Auth => "Check the user and password (PGUSER, PGPASSWORD, ~/.pgpass, DATABASE_URL) and pg_hba.conf",
            ErrorKind::NoDatabase => "Create the database or fix PGDATABASE / the DSN's database name",
            ErrorKind::StartingUp => "The server is starting up or in recovery; wait for it (pg-wait)",
            ErrorKind::TooManyConnections => "Close idle connections or raise max_connections",
            ErrorKind::TlsRequired => "The server requires TLS: use sslmode=require (or verify-full) instead of disable",
            ErrorKind::TlsUnsupported => "The server does not offer TLS: enable ssl on the server or use sslmode=prefer",
            ErrorKind::Tls => "Check sslrootcert, sslcrl and the server certificate's host name (sslmode=verify-ca/verify-full), or sslcert, sslkey and sslpassword",
            ErrorKind::Io => "The connection dropped during startup; check the server log",
            ErrorKind::Server | ErrorKind::Other => "Check the server log and the connection settings",
        }
    }

    /// The pgkit error for this failure with the given exit code.
    /// After SIGINT/SIGTERM it is the interruption error (130/143) instead:
    /// a connection attempt is abandoned when a signal arrives.
    pub fn into_error(self, code: Exit, message: &str) -> Error {
        if crate::interrupt::received().is_some() {
            return crate::interrupt::error();
        }
        let code = match self.kind {
            ErrorKind::TlsRequired | ErrorKind::TlsUnsupported | ErrorKind::NoPassword => {
                Exit::Config
            }
            // The client key (sslkey, sslpassword) is local configuration.
            ErrorKind::Tls if self.message.contains("private key file") => Exit::Config,
            _ => code,
        };
        let mut e = Error::new(code, message)
            .cause(&self.message)
            .field("target", self.target.clone());
        if let Some(s) = &self.sqlstate {
            e = e.field("sqlstate", s.clone());
        }
        e.suggest(self.suggestion())
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// Classifies a failed connection attempt (the message carries no password).
pub(crate) fn classify(
    e: &postgres::Error,
    s: &super::settings::Settings,
    mode: super::settings::SslMode,
) -> ConnectError {
    use super::settings::SslMode;
    let target = s.redacted();
    if let Some(db) = e.as_db_error() {
        let code = db.code().code().to_string();
        let kind = match code.as_str() {
            "28P01" => ErrorKind::Auth,
            // A hostssl-only server refusing a plain connection.
            "28000" if mode == SslMode::Disable && db.message().contains("no encryption") => {
                ErrorKind::TlsRequired
            }
            "28000" => ErrorKind::Auth,
            "3D000" => ErrorKind::NoDatabase,
            "57P03" => ErrorKind::StartingUp,
            "53300" => ErrorKind::TooManyConnections,
            _ => ErrorKind::Server,
        };
        let mut message = format!("{}:  {}", db.severity(), db.message());
        if kind == ErrorKind::TlsRequired {
            message.push_str(" (the server accepts only TLS connections and sslmode is disable)");
        }
        return ConnectError {
            kind,
            sqlstate: Some(code),
            message: crate::redact::scrub(&message),
            target,
        };
    }
    let text = error_text(e);
    let lower = text.to_ascii_lowercase();
    let io_kind = io_error_kind(e);
    let (kind, message) = if lower.contains("password missing") {
        (
            ErrorKind::NoPassword,
            "fe_sendauth: no password supplied".to_string(),
        )
    } else if lower.contains("server does not support tls")
        || lower.contains("server does not support ssl")
    {
        (
            ErrorKind::TlsUnsupported,
            "server does not support SSL, but SSL was required".to_string(),
        )
    } else if lower.contains("certificate")
        || lower.contains("ssl")
        || lower.contains("tls")
        || lower.contains("handshake")
    {
        (ErrorKind::Tls, text)
    } else if lower.contains("timeout") || lower.contains("timed out") {
        (ErrorKind::Timeout, text)
    } else if lower.contains("lookup address") || lower.contains("name or service not known") {
        (ErrorKind::Dns, text)
    } else {
        let kind = match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) | Some(std::io::ErrorKind::NotFound) => {
                ErrorKind::Refused
            }
            Some(std::io::ErrorKind::TimedOut) => ErrorKind::Timeout,
            Some(_) => ErrorKind::Io,
            None if lower.contains("closed") || lower.contains("unexpected eof") => ErrorKind::Io,
            None => ErrorKind::Other,
        };
        (kind, text)
    };
    ConnectError {
        kind,
        sqlstate: None,
        message: crate::redact::scrub(&message),
        target,
    }
}

/// The error text with its causes, as one line, worded like libpq's where
/// the postgres crate's wording adds nothing ("error connecting to server:",
/// "(os error 111)", OpenSSL's error stack).
fn error_text(e: &postgres::Error) -> String {
    let text = raw_text(e);
    if let Some(i) = text.find("certificate verify failed") {
        // OpenSSL's stack ends with the verification result after "::".
        let why = text[i..]
            .rsplit_once(":: ")
            .map(|(_, r)| r.trim())
            .unwrap_or("");
        return if why.is_empty() {
            "SSL error: certificate verify failed".to_string()
        } else {
            format!("SSL error: certificate verify failed: {why}")
        };
    }
    let mut t = text
        .strip_prefix("error connecting to server: ")
        .unwrap_or(&text)
        .to_string();
    if let Some(i) = t.find(" (os error ") {
        if let Some(j) = t[i..].find(')') {
            t.replace_range(i..i + j + 1, "");
        }
    }
    t
}

fn raw_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        src = s.source();
    }
    text
}

fn io_error_kind(e: &postgres::Error) -> Option<std::io::ErrorKind> {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}
