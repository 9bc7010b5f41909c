//! pg-wait's command line.

use clap::{Parser, ValueEnum};
use std::time::Duration;

/// Wait until PostgreSQL is really ready: logged in, the schema there, a primary.
//
// The rest of the description is `after_help`, not a second doc paragraph: that
// would become clap's long_about and switch `--help` to its long layout (a
// blank line between options). The man page's DESCRIPTION gets both.
#[derive(Parser, Debug)]
#[command(
    name = "pg-wait",
    version,
    max_term_width = 100,
    after_help = "Probes each target (DSN arguments, repeated --dsn, or DATABASE_URL and the PG* \
                  variables) with exponential backoff until it is ready, then exits 0, or runs CMD \
                  in its place. Targets are probed concurrently; ready means all are ready. Exit 2 \
                  when not ready by the deadline, 64 on a usage error, 78 on bad configuration, \
                  130/143 when interrupted; --healthcheck answers only 0 or 1."
)]
pub struct Cli {
    /// Targets to wait for: postgres:// URLs or key=value conninfo [default: DATABASE_URL, then the PG* variables]
    #[arg(value_name = "DSN")]
    pub dsns: Vec<String>,

    /// A target, as the DSN arguments (repeatable)
    #[arg(long = "dsn", short = 'd', value_name = "DSN")]
    pub dsn: Vec<String>,

    /// Server host name, IP or unix-socket directory, for every target [env: PGHOST]
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Server port, for every target [env: PGPORT]
    #[arg(long, short = 'p', value_name = "PORT")]
    pub port: Option<String>,

    /// User name, for every target [env: PGUSER]
    #[arg(long, short = 'U', value_name = "USER")]
    pub user: Option<String>,

    /// Database name, for every target [env: PGDATABASE]
    #[arg(long, value_name = "DBNAME")]
    pub dbname: Option<String>,

    /// TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]
    #[arg(long, value_name = "MODE")]
    pub sslmode: Option<String>,

    /// What ready means: tcp (the port accepts), ping (the server answers, as pg_isready), login (log in and SELECT 1) [default: login]
    #[arg(long, value_enum, value_name = "CHECK")]
    pub check: Option<CheckArg>,

    /// After login, ready only when this query returns a row whose first column reads t, true or non-zero
    #[arg(long, value_name = "SQL")]
    pub until_sql: Option<String>,

    /// Ready only on a primary: a server in recovery (a standby) is not ready
    #[arg(long)]
    pub primary: bool,

    /// First delay between attempts; it doubles each time
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,

    /// Longest delay between attempts
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub max_interval: Duration,

    /// Random extra delay, up to this fraction of the delay (0.3 or 30%)
    #[arg(long, value_name = "FRACTION", default_value = "0.3", value_parser = parse_jitter)]
    pub jitter: f64,

    /// Give up after this many attempts (0: only the deadline counts)
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub max_attempts: u32,

    /// Give up after this long: milliseconds or a duration (180000, 3m; 0: no deadline) [env: DB_TIMEOUT] [default: 300000]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Time limit of each attempt: seconds or a duration (10, 500ms; 0: none) [env: PGCONNECT_TIMEOUT] [default: 5s]
    #[arg(long, value_name = "DURATION")]
    pub connect_timeout: Option<String>,

    #[command(flatten)]
    pub databases: pgkit::fleet::DatabaseSet,

    /// A file of targets, one DSN per line ('-': stdin)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dsns", "dsn"])]
    pub targets: Option<std::path::PathBuf>,

    /// Targets probed at a time
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024), value_name = "N")]
    pub jobs: u32,

    /// One JSON result per target on stdout (implied by a target set)
    #[arg(long)]
    pub json: bool,

    /// One probe, no retries, silent when healthy; exit 0 (healthy) or 1 (anything else), for Docker and Kubernetes
    #[arg(long, conflicts_with_all = ["once", "command"])]
    pub healthcheck: bool,

    /// One probe, no retries, with the normal exit codes
    #[arg(long)]
    pub once: bool,

    /// Command to exec once ready (after --); not run when not ready
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,

    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
}

/// `--check`. The values carry no doc comments: clap would list them in a
/// "Possible values" block and switch `--help` to its long layout; the flag's
/// own help says what each means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckArg {
    // The port accepts a TCP connection (or the socket accepts one).
    Tcp,
    // The server answers the startup handshake (57P03 is not ready).
    Ping,
    // Log in with the resolved credentials and run SELECT 1.
    Login,
}

impl From<CheckArg> for pgkit::wait::Check {
    fn from(c: CheckArg) -> Self {
        match c {
            CheckArg::Tcp => pgkit::wait::Check::Tcp,
            CheckArg::Ping => pgkit::wait::Check::Ping,
            CheckArg::Login => pgkit::wait::Check::Login,
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    pgkit::duration::parse(s)
}

/// A fraction from 0 to 1, or a percentage.
pub fn parse_jitter(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("invalid jitter {s:?}: use a fraction (0.3) or a percentage (30%)"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!(
            "invalid jitter {s:?}: must be from 0 to 1 (0% to 100%)"
        ));
    }
    Ok(v)
}

/// `--timeout` / `DB_TIMEOUT`: bare milliseconds or a duration.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    pgkit::duration::parse_ms_or_duration(s)
}

/// `--connect-timeout` / `PGCONNECT_TIMEOUT`: bare seconds (libpq) or a
/// duration.
pub fn parse_connect_timeout(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("invalid connect timeout {s:?}: too large"));
    }
    pgkit::duration::parse(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_forms() {
        assert_eq!(parse_jitter("0.3"), Ok(0.3));
        assert_eq!(parse_jitter("30%"), Ok(0.3));
        assert_eq!(parse_jitter("0"), Ok(0.0));
        assert!(parse_jitter("1.5").is_err());
        assert!(parse_jitter("lots").is_err());
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("1500"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("3m"), Ok(Duration::from_secs(180)));
        assert!(parse_timeout("soon").is_err());
        assert_eq!(parse_connect_timeout("10"), Ok(Duration::from_secs(10)));
        assert_eq!(
            parse_connect_timeout("500ms"),
            Ok(Duration::from_millis(500))
        );
        assert!(parse_connect_timeout("x").is_err());
    }
}
