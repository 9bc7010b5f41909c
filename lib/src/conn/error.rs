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
            ErrorKind::Auth => "Check the user and password (PGUSER, PGPASSWORD, ~/.pgpass, DATABASE_URL) and pg_hba.conf",
            ErrorKind::NoDatabase => "Create the database or fix PGDATABASE / the DSN's database name",
            ErrorKind::StartingUp => "The server is starting up or in recovery; wait for it (pg-wait)",
            ErrorKind::TooManyConnections => "Close idle connections or raise max_connections",
            ErrorKind::TlsRequired => "The server requires TLS: use sslmode=require (or verify-full) instead of disable",
            ErrorKind::TlsUnsupported => "The server does not offer TLS: enable ssl on the server or use sslmode=prefer",
            ErrorKind::Tls => "Check sslrootcert and the server certificate's host name (sslmode=verify-ca/verify-full)",
            ErrorKind::Io => "The connection dropped during startup; check the server log",
            ErrorKind::Server | ErrorKind::Other => "Check the server log and the connection settings",
        }
    }

    /// The pgkit error for this failure with the given exit code.
    pub fn into_error(self, code: Exit, message: &str) -> Error {
        let code = match self.kind {
            ErrorKind::TlsRequired | ErrorKind::TlsUnsupported => Exit::Config,
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
