//! One failed readiness attempt, classified: retried (waiting can change it)
//! or fatal (it cannot), with a password-free message and a suggestion.

use crate::conn::{ConnectError, ErrorKind};
use crate::error::Error;
use crate::exit::Exit;
use crate::{interrupt, redact};

/// What to do about a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Waiting can change the outcome: log a warning and try again.
    Retry,
    /// Waiting cannot change it: stop at once with this exit code.
    Fatal(Exit),
    /// SIGINT or SIGTERM arrived during the attempt.
    Interrupted,
}

/// A failed attempt.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Retry, fatal or interrupted.
    pub class: Class,
    /// What happened, scrubbed of secrets.
    pub error: String,
    /// The server's SQLSTATE, when it sent one.
    pub sqlstate: Option<String>,
    /// What the operator should do.
    pub suggestion: &'static str,
    /// A remark for the warn line (e.g. that the role may be created later).
    pub note: Option<&'static str>,
}

/// The note on an authentication failure that is retried.
pub const AUTH_NOTE: &str =
    "authentication failed; retrying, since the init scripts may create the role or set its password later";

const SUGGEST_REFUSED: &str =
    "Check that PostgreSQL is running and listening on that host and port (PGHOST, PGPORT)";
const SUGGEST_IO: &str = "The connection dropped during startup; check the server log";
const SUGGEST_UNTIL: &str =
    "Check the --until-sql query: ready needs a row whose first column is true or a non-zero number";
const SUGGEST_SYNTAX: &str = "Fix the --until-sql query (try it in psql first)";
const SUGGEST_RECOVERY: &str =
    "The server is a standby (in recovery): promote it, or point pg-wait at the primary";
const SUGGEST_PASSWORD: &str =
    "Set the password: PGPASSWORD, ~/.pgpass (PGPASSFILE) or the DSN's password";
const SUGGEST_SERVER: &str = "Check the server log and the connection settings";

impl Failure {
    /// A failure that is retried.
    pub fn retry(error: impl Into<String>, suggestion: &'static str) -> Failure {
        Failure {
            class: Class::Retry,
            error: redact::scrub(&error.into()),
            sqlstate: None,
            suggestion,
            note: None,
        }
    }

    /// A failure that ends the wait with `code`.
    pub fn fatal(code: Exit, error: impl Into<String>, suggestion: &'static str) -> Failure {
        Failure {
            class: Class::Fatal(code),
            ..Failure::retry(error, suggestion)
        }
    }

    /// The interruption by a signal.
    pub fn interrupted() -> Failure {
        Failure {
            class: Class::Interrupted,
            ..Failure::retry(interrupt::error().message, "")
        }
    }

    /// Nothing listens (refused, no socket file).
    pub fn refused(error: impl Into<String>) -> Failure {
        Failure::retry(error, SUGGEST_REFUSED)
    }

    /// The connection dropped or the reply made no sense.
    pub fn io(error: impl Into<String>) -> Failure {
        Failure::retry(error, SUGGEST_IO)
    }

    /// The attempt did not finish in time.
    pub fn timeout(ms: u128) -> Failure {
        Failure::retry(
            format!("timeout: the attempt did not finish within {ms}ms"),
            "Check the host is reachable (firewall, security group) or raise --connect-timeout (PGCONNECT_TIMEOUT)",
        )
    }

    /// The `--until-sql` condition is not met yet.
    pub fn condition_not_met() -> Failure {
        Failure::retry(
            "the --until-sql query returned no row whose first column is true or non-zero",
            SUGGEST_UNTIL,
        )
    }

    /// The `--until-sql` query returns rows without a column (`SELECT`,
    /// `SELECT FROM t`): it can never be true, so waiting is pointless.
    pub fn no_columns() -> Failure {
        Failure::fatal(
            Exit::Usage,
            "the --until-sql query returns rows without columns: it can never be true",
            SUGGEST_UNTIL,
        )
    }

    /// The server is in recovery (`--primary`).
    pub fn in_recovery() -> Failure {
        Failure::retry(
            "the server is in recovery (a read-only standby), not a primary",
            SUGGEST_RECOVERY,
        )
    }

    /// Sets the SQLSTATE.
    pub fn sqlstate(mut self, code: impl Into<String>) -> Failure {
        self.sqlstate = Some(code.into());
        self
    }

    /// Whether waiting can change it.
    pub fn retryable(&self) -> bool {
        self.class == Class::Retry
    }

    /// A connection failure (from `Settings::connect`), classified as the
    /// issue lists: refused, reset, DNS, timeouts, 57P03, 53300, 3D000,
    /// 28P01/28000 are retried; TLS required with `sslmode=disable` (and TLS
    /// missing or unverifiable when the sslmode needs it) is 78.
    pub fn from_connect(e: ConnectError) -> Failure {
        let lower = e.message.to_ascii_lowercase();
        // The postgres crate says "password missing", libpq "no password
        // supplied": the server wants a password and none is set anywhere.
        let no_password = e.kind == ErrorKind::NoPassword
            || lower.contains("password missing")
            || lower.contains("no password supplied");
        let class = match e.kind {
            _ if no_password => Class::Fatal(Exit::Config),
            ErrorKind::Refused
            | ErrorKind::Timeout
            | ErrorKind::Dns
            | ErrorKind::NoDatabase
            | ErrorKind::StartingUp
            | ErrorKind::TooManyConnections
            | ErrorKind::Io
            | ErrorKind::Auth => Class::Retry,
            ErrorKind::TlsRequired | ErrorKind::TlsUnsupported | ErrorKind::NoPassword => {
                Class::Fatal(Exit::Config)
            }
            // A certificate that does not verify cannot change by waiting; a
            // handshake cut short by a restarting server can.
            ErrorKind::Tls if lower.contains("certificate") || lower.contains("verif") => {
                Class::Fatal(Exit::Config)
            }
            ErrorKind::Tls
                if lower.contains("root certificate")
                    || lower.contains("sslrootcert")
                    || lower.contains("private key") =>
            {
                Class::Fatal(Exit::Config)
            }
            ErrorKind::Tls => Class::Retry,
            ErrorKind::Server => match e.sqlstate.as_deref() {
                Some(code) if transient_sqlstate(code) => Class::Retry,
                _ => Class::Fatal(Exit::NotReady),
            },
            // Unknown failures of the connection itself: keep waiting, the
            // warning and the final error carry the text.
            ErrorKind::Other => Class::Retry,
        };
        let suggestion = if no_password {
            SUGGEST_PASSWORD
        } else if e.kind == ErrorKind::Server {
            SUGGEST_SERVER
        } else {
            e.suggestion()
        };
        let error = if lower.contains("password missing") {
            "fe_sendauth: no password supplied".to_string()
        } else {
            e.message.clone()
        };
        Failure {
            class,
            error: redact::scrub(&error),
            sqlstate: e.sqlstate.clone(),
            suggestion,
            note: (e.kind == ErrorKind::Auth && !no_password).then_some(AUTH_NOTE),
        }
    }

    /// An error from a query after login: the `--until-sql` query, the
    /// `--primary` check or `SELECT 1`. 42P01/42703/3F000 (the object is not
    /// there yet) and transient states are retried; a syntax error or another
    /// error in the query itself is 64; anything else ends the wait with 2.
    pub fn from_query(e: &postgres::Error, until_sql: bool) -> Failure {
        let Some(db) = e.as_db_error() else {
            // The connection broke: a restart, a crash, a network cut.
            return Failure::io(format!("connection lost: {e}"));
        };
        let code = db.code().code();
        let mut text = db.message().to_string();
        if let Some(postgres::error::ErrorPosition::Original(p)) = db.position() {
            text.push_str(&format!(" (at character {p})"));
        }
        let class = if transient_sqlstate(code) || matches!(code, "42P01" | "42703" | "3F000") {
            Class::Retry
        } else if until_sql && code.starts_with("42") && code != "42501" {
            Class::Fatal(Exit::Usage)
        } else {
            Class::Fatal(Exit::NotReady)
        };
        let suggestion = match class {
            Class::Fatal(Exit::Usage) => SUGGEST_SYNTAX,
            _ if matches!(code, "42P01" | "42703" | "3F000") => {
                "The object the --until-sql query reads is not there yet: wait for the migrations, or check the query"
            }
            Class::Retry => SUGGEST_SERVER,
            _ => SUGGEST_SERVER,
        };
        Failure {
            class,
            error: redact::scrub(&text),
            sqlstate: Some(code.to_string()),
            suggestion,
            note: None,
        }
    }

    /// The error that ends a wait on this failure (fatal failures; a
    /// retryable one given up on is reported by `wait_for` itself).
    pub fn into_error(self, target: &str) -> Error {
        let code = match self.class {
            Class::Interrupted => return interrupt::error(),
            Class::Fatal(c) => c,
            Class::Retry => Exit::NotReady,
        };
        let message = if code == Exit::Usage {
            "Invalid --until-sql query"
        } else {
            "Database readiness check failed"
        };
        let mut err = Error::new(code, message)
            .cause(&self.error)
            .field("target", target.to_string());
        if let Some(s) = &self.sqlstate {
            err = err.field("sqlstate", s.clone());
        }
        err.suggest(self.suggestion)
    }
}

/// SQLSTATEs that waiting can clear: connection exceptions (08), too many
/// connections and other resource shortages (53), operator intervention
/// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
/// 57014 query canceled), lock and serialization conflicts.
pub fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "57014" | "40001" | "40P01" | "55P03")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ce(kind: ErrorKind, sqlstate: Option<&str>, message: &str) -> ConnectError {
        ConnectError {
            kind,
            sqlstate: sqlstate.map(String::from),
            message: message.into(),
            target: "postgresql://u@h:1/d".into(),
        }
    }

    #[test]
    fn connect_failures_retried_as_the_issue_lists() {
        for (kind, state) in [
            (ErrorKind::Refused, None),
            (ErrorKind::Io, None),
            (ErrorKind::Dns, None),
            (ErrorKind::Timeout, None),
            (ErrorKind::StartingUp, Some("57P03")),
            (ErrorKind::TooManyConnections, Some("53300")),
            (ErrorKind::NoDatabase, Some("3D000")),
            (ErrorKind::Auth, Some("28P01")),
            (ErrorKind::Auth, Some("28000")),
            (ErrorKind::Server, Some("57P01")),
        ] {
            let f = Failure::from_connect(ce(kind, state, "x"));
            assert_eq!(f.class, Class::Retry, "{kind:?}");
        }
        let auth = Failure::from_connect(ce(ErrorKind::Auth, Some("28P01"), "password"));
        assert_eq!(auth.note, Some(AUTH_NOTE));
    }

    #[test]
    fn connect_failures_that_cannot_change_are_fatal() {
        let f = Failure::from_connect(ce(
            ErrorKind::TlsRequired,
            Some("28000"),
            "no pg_hba.conf entry, no encryption",
        ));
        assert_eq!(f.class, Class::Fatal(Exit::Config));
        let f = Failure::from_connect(ce(ErrorKind::TlsUnsupported, None, "no tls"));
        assert_eq!(f.class, Class::Fatal(Exit::Config));
        let f = Failure::from_connect(ce(ErrorKind::Tls, None, "certificate verify failed"));
        assert_eq!(f.class, Class::Fatal(Exit::Config));
        let f = Failure::from_connect(ce(
            ErrorKind::Other,
            None,
            "invalid configuration: password missing",
        ));
        assert_eq!(f.class, Class::Fatal(Exit::Config));
        // Worded by libpq, classified as authentication by the resolver.
        let f = Failure::from_connect(ce(
            ErrorKind::Auth,
            None,
            "fe_sendauth: no password supplied",
        ));
        assert_eq!(f.class, Class::Fatal(Exit::Config));
        assert_eq!(f.note, None);
        let f = Failure::from_connect(ce(ErrorKind::Server, Some("42501"), "denied"));
        assert_eq!(f.class, Class::Fatal(Exit::NotReady));
        let e = f.into_error("t");
        assert_eq!(e.code, Exit::NotReady);
        assert_eq!(e.message, "Database readiness check failed");
        assert!(e.suggestion.is_some());
    }

    #[test]
    fn transient_states() {
        for c in ["08006", "53300", "57P01", "57P03", "40001", "55P03"] {
            assert!(transient_sqlstate(c), "{c}");
        }
        for c in ["42601", "42P01", "22012", "28P01"] {
            assert!(!transient_sqlstate(c), "{c}");
        }
    }
}
