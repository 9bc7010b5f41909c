//! Waiting until PostgreSQL is really ready: pg-wait's logic, shared with
//! `pg-migrate --wait` and the other tools that wait first.

use crate::backoff::{Backoff, Next, Policy};
use crate::conn::Settings;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::{interrupt, log};
use serde_json::json;
use std::time::{Duration, Instant};

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

/// How to wait.
#[derive(Debug, Clone, Default)]
pub struct WaitOptions {
    /// The check.
    pub check: Check,
    /// After login, ready only when this query's first row's first column is
    /// true or a non-zero number.
    pub until_sql: Option<String>,
    /// Ready only when the server is not in recovery.
    pub primary: bool,
    /// Backoff between attempts.
    pub policy: Policy,
    /// Overall deadline (`DB_TIMEOUT`).
    pub timeout: Option<Duration>,
    /// RNG seed for the jitter (tests).
    pub seed: Option<u64>,
}

/// The result of a successful wait.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// Time from start to ready.
    pub duration: Duration,
}

/// Waits until `settings` is ready by `opts`, logging one warn line per failed
/// attempt; exit 2 when the deadline or the attempts run out.
pub fn wait_for(settings: &Settings, opts: &WaitOptions) -> Result<Ready> {
    let mut backoff = Backoff::new(opts.policy, opts.timeout, opts.seed);
    let start = Instant::now();
    loop {
        interrupt::check()?;
        let err = match settings.connect() {
            Ok(mut c) => match c.simple_query("SELECT 1") {
                Ok(_) => {
                    return Ok(Ready {
                        attempts: backoff.attempts() + 1,
                        duration: start.elapsed(),
                    })
                }
                Err(e) => e.to_string(),
            },
            Err(e) if !e.retryable() => {
                return Err(e.into_error(Exit::NotReady, "Database readiness check failed"))
            }
            Err(e) => e.message,
        };
        match backoff.next_delay() {
            Next::Retry(d) => {
                log::warn(
                    "Postgres not ready, retrying with backoff",
                    json!({"attempt": backoff.attempts(), "delayMs": d.as_millis() as u64, "error": err, "target": settings.redacted()}),
                );
                interrupt::sleep(d)?;
            }
            Next::GiveUp => {
                let ms = opts.timeout.map(|t| t.as_millis()).unwrap_or(0);
                return Err(Error::new(
                    Exit::NotReady,
                    format!("Postgres readiness timeout after {ms}ms"),
                )
                .cause(err)
                .field("attempts", backoff.attempts())
                .suggest("Check that the server is running and reachable, or raise DB_TIMEOUT"));
            }
        }
    }
}
