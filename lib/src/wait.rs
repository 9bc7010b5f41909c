//! Waiting until PostgreSQL is really ready: pg-wait's logic, shared with
//! `pg-migrate --wait` and the other tools that wait first.
//!
//! - Checks: `Tcp` (the port or socket accepts a connection), `Ping` (the
//!   startup handshake, as `pg_isready`; 57P03 is not ready), `Login` (the
//!   default: log in with the resolved credentials and run `SELECT 1`), plus
//!   `primary` (not in recovery) and `until_sql` (a query whose first column
//!   must be true or non-zero in some row); both imply `Login`.
//! - Each attempt runs on its own thread, bounded by the per-attempt timeout
//!   (`connect_timeout`, else the settings' `connect_timeout`, else 5 s) and
//!   woken at once by SIGINT/SIGTERM; a query still running on the server
//!   then is cancelled.
//! - Failures are classified (`Failure`, `Class`): refused/reset, DNS,
//!   timeouts, 57P03, 53300, 3D000, 28P01/28000, and `until_sql` errors
//!   42P01/42703/3F000 are retried with a warn line each; an `until_sql`
//!   syntax error is 64, TLS required under `sslmode=disable` 78, anything
//!   else that cannot change by waiting ends the wait at once.
//! - Backoff from `pgkit::backoff`; the deadline is never slept past: the
//!   last attempt happens at the deadline, then `Postgres readiness timeout
//!   after {ms}ms` (exit 2) with the last error and a suggestion.

mod failure;
mod login;
mod ping;

pub use failure::{transient_sqlstate, Class, Failure, AUTH_NOTE};

use crate::backoff::{Backoff, Next, Policy};
use crate::conn::{Settings, SslMode};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::{interrupt, log};
use serde_json::{json, Map, Value};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The per-attempt timeout when neither the options nor the settings give one
/// (`PGCONNECT_TIMEOUT`'s default in pgkit).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The overall deadline pg-wait uses by default (`DB_TIMEOUT`, the runbook's
/// 300000 ms).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(300_000);

/// An attempt made at (or just before) the deadline still gets this long, so
/// the last attempt is a real one.
const LAST_ATTEMPT_MIN: Duration = Duration::from_secs(1);

/// What "ready" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    /// The port accepts a TCP connection (or the socket exists).
    Tcp,
    /// The server answers the startup handshake (as pg_isready).
    Ping,
    /// A login with the resolved credentials and `SELECT 1` succeed.
    #[default]
    Login,
}

impl Check {
    /// The name used on the command line and in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Tcp => "tcp",
            Check::Ping => "ping",
            Check::Login => "login",
        }
    }

    /// Parses `tcp`, `ping` or `login`.
    pub fn parse(s: &str) -> std::result::Result<Check, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(Check::Tcp),
            "ping" => Ok(Check::Ping),
            "login" => Ok(Check::Login),
            other => Err(format!(
                "invalid check {other:?} (expected tcp, ping or login)"
            )),
        }
    }
}

/// How to wait.
#[derive(Debug, Clone, Default)]
pub struct WaitOptions {
    /// The check.
    pub check: Check,
    /// After login, ready only when this query's first row's first column is
    /// true or a non-zero number. Implies `Check::Login`.
    pub until_sql: Option<String>,
    /// Ready only when the server is not in recovery. Implies `Check::Login`.
    pub primary: bool,
    /// Backoff between attempts.
    pub policy: Policy,
    /// Overall deadline (`DB_TIMEOUT`); `None`: only `policy.max_attempts`.
    pub timeout: Option<Duration>,
    /// RNG seed for the jitter (tests).
    pub seed: Option<u64>,
    /// Per-attempt timeout; `None`: the settings' `connect_timeout`
    /// (`PGCONNECT_TIMEOUT`, where 0 is libpq's "no limit"), else 5 s.
    /// `Some(ZERO)`: no per-attempt limit (the deadline still bounds the
    /// attempt).
    pub connect_timeout: Option<Duration>,
    /// Log nothing (no warn line per failed attempt).
    pub quiet: bool,
}

impl WaitOptions {
    /// The check actually run: `until_sql` and `primary` need a login.
    pub fn effective_check(&self) -> Check {
        if self.until_sql.is_some() || self.primary {
            Check::Login
        } else {
            self.check
        }
    }

    /// The per-attempt timeout for `settings` (`None`: unbounded).
    pub fn attempt_timeout(&self, settings: &Settings) -> Option<Duration> {
        let t = self
            .connect_timeout
            .or(settings.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        (!t.is_zero()).then_some(t)
    }
}

/// The result of a successful wait.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// Time from start to ready.
    pub duration: Duration,
}

/// One attempt, bounded by the per-attempt timeout: `Ok` when ready.
/// (`pg-wait --once` and `--healthcheck` are this.)
/// Without a per-attempt limit (`connect_timeout=0`) the overall deadline
/// (`opts.timeout`) still bounds the attempt.
pub fn probe(settings: &Settings, opts: &WaitOptions) -> std::result::Result<(), Failure> {
    probe_within(
        settings,
        opts,
        opts.attempt_timeout(settings).or(opts.timeout),
    )
}

/// One attempt within `budget` (`None`: unbounded).
pub fn probe_within(
    settings: &Settings,
    opts: &WaitOptions,
    budget: Option<Duration>,
) -> std::result::Result<(), Failure> {
    if interrupt::received().is_some() {
        return Err(Failure::interrupted());
    }
    // One message per outcome: the attempt's result, or None for a signal.
    let (tx, rx) = mpsc::channel::<Option<std::result::Result<(), Failure>>>();
    let on_signal = {
        let tx = tx.clone();
        interrupt::on_signal(move || {
            let _ = tx.send(None);
        })
    };
    let start = Instant::now();
    // Far enough to mean "no limit" for the socket timeouts.
    let deadline = start + budget.unwrap_or(Duration::from_secs(365 * 86_400));
    let mut s = settings.clone();
    s.connect_timeout = budget;
    let check = opts.effective_check();
    let primary = opts.primary;
    let until = opts.until_sql.clone();
    let slot = login::CancelSlot::default();
    let worker_slot = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("pgkit-wait-attempt".into())
        .spawn(move || {
            let r = match check {
                Check::Tcp => ping::tcp(&s, deadline),
                Check::Ping => ping::ping(&s, deadline),
                Check::Login => login::login(&s, primary, until.as_deref(), &worker_slot),
            };
            let _ = tx.send(Some(r));
        });
    if let Err(e) = spawned {
        return Err(Failure::fatal(
            Exit::Failure,
            format!("cannot start a thread: {e}"),
            "The system is out of resources (threads, memory)",
        ));
    }
    let got = match budget {
        Some(b) => rx.recv_timeout(b),
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    drop(on_signal);
    match got {
        Ok(Some(r)) => r,
        Ok(None) => {
            cancel_query(&slot, settings);
            Err(Failure::interrupted())
        }
        Err(RecvTimeoutError::Timeout) => {
            cancel_query(&slot, settings);
            Err(Failure::timeout(start.elapsed().as_millis()))
        }
        Err(RecvTimeoutError::Disconnected) => {
            Err(Failure::io("the attempt ended without a result"))
        }
    }
}

/// Cancels the query an abandoned attempt may still be running (an
/// `--until-sql` query stuck on a lock), waiting at most a second for it.
fn cancel_query(slot: &login::CancelSlot, settings: &Settings) {
    let Some(token) = slot.lock().ok().and_then(|mut s| s.take()) else {
        return;
    };
    let settings = settings.clone();
    let (tx, rx) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("pgkit-wait-cancel".into())
        .spawn(move || {
            let socket = settings.hosts.iter().all(|h| h.is_socket());
            let tls = (!socket && settings.sslmode != SslMode::Disable)
                .then(|| settings.tls_connector(settings.sslmode).ok())
                .flatten();
            let _ = match tls {
                Some(t) => token.cancel_query(t),
                None => token.cancel_query(postgres::NoTls),
            };
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.recv_timeout(Duration::from_secs(1));
    }
}

/// Waits until `settings` is ready by `opts`, logging one warn line per failed
/// attempt (`attempt`, `delayMs`, `error`, `target`); exit 2 when the deadline
/// or the attempts run out, at once on a failure that waiting cannot change.
pub fn wait_for(settings: &Settings, opts: &WaitOptions) -> Result<Ready> {
    let mut backoff = Backoff::new(opts.policy, opts.timeout, opts.seed);
    let start = backoff.started();
    let target = settings.redacted();
    let per_attempt = opts.attempt_timeout(settings);
    // At a terminal: the attempt, and the time left to the deadline.
    let progress = if opts.quiet {
        crate::progress::Progress::hidden()
    } else {
        let deadline = backoff.remaining().map(|r| Instant::now() + r);
        crate::progress::Progress::countdown(&format!("Waiting for {target}"), deadline)
    };
    let max = opts.policy.max_attempts;
    loop {
        if progress.is_shown() {
            let n = backoff.attempts() + 1;
            progress.message(match max {
                0 => format!("Waiting for {target}: attempt {n}"),
                m => format!("Waiting for {target}: attempt {n} of {m}"),
            });
        }
        let budget = match (per_attempt, backoff.remaining()) {
            (Some(t), Some(left)) => Some(t.min(left.max(LAST_ATTEMPT_MIN))),
            (Some(t), None) => Some(t),
            (None, Some(left)) => Some(left.max(LAST_ATTEMPT_MIN)),
            (None, None) => None,
        };
        let failure = match probe_within(settings, opts, budget) {
            Ok(()) => {
                return Ok(Ready {
                    attempts: backoff.attempts() + 1,
                    duration: start.elapsed(),
                })
            }
            Err(f) => f,
        };
        if !failure.retryable() {
            return Err(failure.into_error(&target));
        }
        match backoff.next_delay() {
            Next::Retry(d) => {
                if !opts.quiet {
                    log::warn(
                        "Postgres not ready, retrying with backoff",
                        Value::Object(warn_fields(&failure, backoff.attempts(), d, &target)),
                    );
                }
                interrupt::sleep(d)?;
            }
            Next::GiveUp => {
                return Err(give_up(failure, &backoff, opts, &target));
            }
        }
    }
}

/// The fields of the warn line for a failed attempt.
fn warn_fields(f: &Failure, attempt: u32, delay: Duration, target: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("attempt".into(), json!(attempt));
    m.insert("delayMs".into(), json!(delay.as_millis() as u64));
    m.insert("error".into(), json!(f.error));
    if let Some(s) = &f.sqlstate {
        m.insert("sqlstate".into(), json!(s));
    }
    if let Some(n) = f.note {
        m.insert("note".into(), json!(n));
    }
    m.insert("target".into(), json!(target));
    m
}

/// The error after the last attempt: the timeout message (or the attempts
/// used up), the last error seen and what to do.
fn give_up(f: Failure, backoff: &Backoff, opts: &WaitOptions, target: &str) -> Error {
    let past_deadline = backoff.remaining().is_some_and(|r| r.is_zero());
    let message = match opts.timeout {
        Some(t) if past_deadline => format!("Postgres readiness timeout after {}ms", t.as_millis()),
        _ => match backoff.attempts() {
            1 => "Postgres not ready after 1 attempt".to_string(),
            n => format!("Postgres not ready after {n} attempts"),
        },
    };
    let mut err = Error::new(Exit::NotReady, message)
        .cause(&f.error)
        .field("target", target.to_string());
    if let Some(s) = &f.sqlstate {
        err = err.field("sqlstate", s.clone());
    }
    err.field("attempts", backoff.attempts()).suggest(format!(
        "{}; or allow more time (--timeout, DB_TIMEOUT)",
        f.suggestion.trim_end_matches('.')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Env;
    use std::collections::HashMap;

    fn settings_for(host: &str, port: u16) -> Settings {
        let mut kv = HashMap::new();
        kv.insert("host".to_string(), host.to_string());
        kv.insert("port".to_string(), port.to_string());
        kv.insert("user".to_string(), "nobody".to_string());
        Settings::from_keywords(&kv, "pgkit-test", &Env::default())
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1)
    }

    #[test]
    fn checks_parse() {
        assert_eq!(Check::parse("PING"), Ok(Check::Ping));
        assert_eq!(Check::parse("tcp"), Ok(Check::Tcp));
        assert!(Check::parse("ssh").is_err());
        let o = WaitOptions {
            check: Check::Tcp,
            primary: true,
            ..WaitOptions::default()
        };
        assert_eq!(o.effective_check(), Check::Login);
    }

    #[test]
    fn attempt_timeout_defaults_to_five_seconds() {
        let s = settings_for("127.0.0.1", 1);
        let o = WaitOptions::default();
        assert_eq!(o.attempt_timeout(&s), Some(DEFAULT_CONNECT_TIMEOUT));
        let o = WaitOptions {
            connect_timeout: Some(Duration::ZERO),
            ..WaitOptions::default()
        };
        assert_eq!(o.attempt_timeout(&s), None);
        // connect_timeout=0 in the settings (libpq: wait indefinitely) is
        // not "unset": no per-attempt limit, not the 5 s default.
        let mut s0 = s.clone();
        s0.connect_timeout = Some(Duration::ZERO);
        assert_eq!(WaitOptions::default().attempt_timeout(&s0), None);
        s0.connect_timeout = Some(Duration::from_secs(7));
        assert_eq!(
            WaitOptions::default().attempt_timeout(&s0),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn refused_is_retried_then_times_out_at_the_deadline() {
        let s = settings_for("127.0.0.1", closed_port());
        let opts = WaitOptions {
            check: Check::Tcp,
            policy: Policy {
                base: Duration::from_millis(50),
                max: Duration::from_millis(100),
                jitter: 0.0,
                max_attempts: 0,
            },
            timeout: Some(Duration::from_millis(400)),
            quiet: true,
            ..WaitOptions::default()
        };
        let t = Instant::now();
        let e = wait_for(&s, &opts).err();
        let elapsed = t.elapsed();
        let e = e.unwrap_or_else(|| unreachable!("nothing listens"));
        assert_eq!(e.code, Exit::NotReady);
        assert_eq!(e.message, "Postgres readiness timeout after 400ms");
        assert!(e.suggestion.is_some() && e.error.is_some());
        // The last attempt happens at the deadline, not a backoff step later.
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    }

    #[test]
    fn max_attempts_are_counted() {
        let s = settings_for("127.0.0.1", closed_port());
        let opts = WaitOptions {
            check: Check::Ping,
            policy: Policy {
                base: Duration::from_millis(10),
                max: Duration::from_millis(10),
                jitter: 0.0,
                max_attempts: 3,
            },
            quiet: true,
            ..WaitOptions::default()
        };
        let e = wait_for(&s, &opts).err();
        let e = e.unwrap_or_else(|| unreachable!("nothing listens"));
        assert_eq!(e.message, "Postgres not ready after 3 attempts");
        assert_eq!(e.fields.get("attempts"), Some(&json!(3)));
    }

    #[test]
    fn missing_socket_file_is_refused() {
        let dir = std::env::temp_dir();
        let s = settings_for(&dir.display().to_string(), closed_port());
        let f = probe(&s, &WaitOptions::default()).err();
        let f = f.unwrap_or_else(|| unreachable!("no socket there"));
        assert!(f.retryable());
        assert!(f.error.contains(".s.PGSQL."), "{}", f.error);
    }

    #[test]
    fn tcp_check_succeeds_on_a_listening_port_and_ping_rejects_non_postgres() {
        use std::io::Write;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("{e}"));
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        let server = std::thread::spawn(move || {
            // First connection: the tcp check; second: the ping, answered by
            // something that is not PostgreSQL.
            for _ in 0..2 {
                if let Ok((mut c, _)) = l.accept() {
                    let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
                }
            }
        });
        let s = settings_for("127.0.0.1", port);
        let tcp = WaitOptions {
            check: Check::Tcp,
            ..WaitOptions::default()
        };
        assert!(probe(&s, &tcp).is_ok());
        let ping = WaitOptions {
            check: Check::Ping,
            ..WaitOptions::default()
        };
        let f = probe(&s, &ping).err();
        assert!(f.is_some_and(|f| f.retryable()));
        let _ = server.join();
    }

    #[test]
    fn a_silent_server_times_out_per_attempt() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("{e}"));
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        // Accepts (the kernel's backlog does) but never answers.
        let s = settings_for("127.0.0.1", port);
        let t = Instant::now();
        let f = probe_within(
            &s,
            &WaitOptions {
                check: Check::Ping,
                ..WaitOptions::default()
            },
            Some(Duration::from_millis(300)),
        )
        .err();
        assert!(t.elapsed() < Duration::from_secs(3));
        let f = f.unwrap_or_else(|| unreachable!("never answers"));
        assert!(f.retryable());
        assert!(f.error.contains("timeout"), "{}", f.error);
        drop(l);
    }
}
