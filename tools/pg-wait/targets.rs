//! The targets: each DSN (or the environment alone) resolved the libpq way by
//! `pgkit::conn::Settings`, with pg-wait's per-attempt timeout.

use crate::cli::{parse_connect_timeout, Cli};
use pgkit::conn::{ConnArgs, Env, Settings};
use pgkit::{Error, Result};
use std::time::Duration;

/// Resolves every target. The per-attempt timeout: `--connect-timeout`, else
/// the DSN's `connect_timeout`, else `PGCONNECT_TIMEOUT` (seconds or a
/// duration; a bare number as libpq reads it), else 5 s. Zero (from the
/// flag, the DSN or the variable) means no per-attempt limit; the deadline
/// still bounds each attempt.
pub fn resolve(cli: &Cli) -> Result<Vec<Settings>> {
    let mut env = Env::process();
    // PGCONNECT_TIMEOUT is read here (it may carry units), not by the resolver.
    let env_timeout = match env
        .vars
        .remove("PGCONNECT_TIMEOUT")
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => Some(
            libpq_seconds(&v)
                .map_or_else(|| parse_connect_timeout(&v), Ok)
                .map_err(|e| {
                    Error::config("Invalid PGCONNECT_TIMEOUT")
                        .cause(e)
                        .suggest("Set PGCONNECT_TIMEOUT to seconds (10) or a duration (500ms, 10s)")
                })?,
        ),
    };
    let dsns: Vec<(Option<usize>, Option<String>)> = if let Some(path) = &cli.targets {
        list_lines(&pgkit::fleet::target::read_list(path)?)
    } else if cli.dsns.is_empty() && cli.dsn.is_empty() {
        vec![(None, None)]
    } else {
        cli.dsns
            .iter()
            .chain(&cli.dsn)
            .map(|d| (None, Some(d.clone())))
            .collect()
    };
    if cli.databases.all_databases && dsns.len() > 1 {
        return Err(Error::usage("--all-databases with several targets")
            .suggest("Name one server (a DSN, or DATABASE_URL and the PG* variables): its databases are the targets"));
    }
    let mut out = Vec::with_capacity(dsns.len());
    for (line, dsn) in dsns {
        let args = ConnArgs {
            dsn,
            host: cli.host.clone(),
            port: cli.port.clone(),
            user: cli.user.clone(),
            dbname: cli.dbname.clone(),
            sslmode: cli.sslmode.clone(),
        };
        let mut s = Settings::resolve_with(&args, "pg-wait", &env).map_err(|e| match line {
            // (Its text is not repeated: it may hold a password.)
            Some(n) => {
                let mut e = e.field("line", n);
                e.message = format!("Invalid target on line {n}: {}", e.message);
                e
            }
            None => e,
        })?;
        if s.connect_timeout.is_none() {
            s.connect_timeout = Some(env_timeout.unwrap_or(pgkit::wait::DEFAULT_CONNECT_TIMEOUT));
        }
        out.push(s);
    }
    Ok(out)
}

/// The DSNs of a `--targets` list with their line numbers: blank and `#`
/// lines skipped.
fn list_lines(text: &str) -> Vec<(Option<usize>, Option<String>)> {
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (Some(i + 1), Some(l.to_string())))
        .collect()
}

/// `PGCONNECT_TIMEOUT` as a bare number of seconds means what it means to
/// libpq 15 (and to psql given the same variable): 0 or less is no limit
/// (ZERO), 1 is raised to 2. `None` when it is not a bare integer.
fn libpq_seconds(v: &str) -> Option<Duration> {
    let n: i64 = v.trim().parse().ok()?;
    Some(Duration::from_secs(match n {
        ..=0 => 0,
        1 => 2,
        n => n as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgconnect_timeout_bare_seconds_are_libpqs() {
        assert_eq!(libpq_seconds("10"), Some(Duration::from_secs(10)));
        assert_eq!(libpq_seconds(" 1 "), Some(Duration::from_secs(2)));
        assert_eq!(libpq_seconds("0"), Some(Duration::ZERO));
        assert_eq!(libpq_seconds("-3"), Some(Duration::ZERO));
        assert_eq!(libpq_seconds("500ms"), None);
    }
}
